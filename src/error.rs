//! The library's error type. Every variant names what failed and where, and
//! says what the user can do about it; an I/O failure keeps its
//! `io::Error` as the source.

use std::path::PathBuf;

/// Why a run could not be done. Each message is worded for the person who
/// ran it and says what to do where there is something to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read, created, written or locked: `what` says
    /// which and is worded for the message (`read summary`, `write state`).
    #[error("cannot {what} {}: {}", path.display(), crate::source::describe_io(source))]
    Io {
        /// What was being done (`read summary`, `write state`, `lock`).
        what: String,
        /// The file it was being done to.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration asks for something the stages cannot do.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Nothing to read.
    #[error("no input paths given")]
    NoInputs,
    /// An incremental run was given standard input, which has no place to
    /// resume from.
    #[error("--state reads files: standard input has no place to resume from")]
    StdinWithState,
    /// More inputs than a summary can number.
    #[error("too many inputs to merge")]
    TooManyInputs,
    /// A file given as a summary is not one, or is damaged: `why` says
    /// which, in the user's words.
    #[error("{}: {why}", path.display())]
    Summary {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// A file of ours given where it cannot be: a device, a FIFO, a
    /// directory, or larger than the limit. The message says which.
    #[error("{0}")]
    Refused(String),
    /// Two summaries given to `merge` hold the same input.
    #[error(
        "merge: {} and {} both hold {input} (a summary given twice, or two runs over the same file); its lines would be counted twice — give each input's summary once",
        first.display(),
        second.display()
    )]
    SummariesOverlap {
        /// The summary that holds it first.
        first: PathBuf,
        /// The one that holds it again.
        second: PathBuf,
        /// The input, as shown in reports.
        input: String,
    },
    /// Error counts of different `--errors` sets would be added up.
    #[error(
        "{what} counted --errors {had} as errors and {other} counts --errors {now}: counts of different statuses cannot be added up; {fix}"
    )]
    ErrorsDiffer {
        /// What counted first (`the state`, `one summary`).
        what: &'static str,
        /// What it counted (`--errors` syntax).
        had: String,
        /// What counts otherwise (`this run`, `another`).
        other: &'static str,
        /// What that counts.
        now: String,
        /// What the user can do.
        fix: &'static str,
    },
    /// The state file of an incremental run does not read.
    #[error(
        "state {}: {why}; move {} away, or run with --reset-state to start over (which reads every input from its beginning; add --since to limit that)",
        path.display(),
        path.display()
    )]
    State {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// Another run holds the state's lock.
    #[error(
        "another logburst run is using the state {} (it holds {}); this run stopped without reading anything",
        state.display(),
        lock.display()
    )]
    StateBusy {
        /// The state file.
        state: PathBuf,
        /// The lock file the other run holds.
        lock: PathBuf,
    },
    /// The worker threads asked for could not be started.
    #[error("cannot start {threads} worker threads: {message}")]
    ThreadPool {
        /// How many were asked for.
        threads: usize,
        /// Why they could not be started.
        message: String,
    },
}

impl Error {
    /// An I/O failure on `path` while doing `what`.
    pub fn io(what: &str, path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            what: what.to_string(),
            path: path.into(),
            source,
        }
    }
}

/// A [`crate::Config`] the stages cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A window, cooldown or gap of zero or less.
    #[error("--window, --cooldown and --gap must be positive")]
    NonPositiveSpan,
    /// Standard input given more than once: it can be read only once, and
    /// two readers would each get part of its lines.
    #[error("- (standard input) is given more than once; it can be read only once")]
    StdinTwice,
    /// `--max-hosts 0`.
    #[error("--max-hosts must be at least 1")]
    NoHosts,
    /// A `--signal` pattern that is not a regular expression: the message
    /// names it and says why.
    #[error("{0}")]
    Signal(String),
}

/// A result whose error is logburst's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_say_what_and_keep_their_source() {
        let e = Error::io(
            "read summary",
            "/srv/a.json",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert_eq!(
            e.to_string(),
            "cannot read summary /srv/a.json: no such file or directory"
        );
        let source = std::error::Error::source(&e).expect("a source");
        let io = source
            .downcast_ref::<std::io::Error>()
            .expect("an io::Error");
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    }
}
