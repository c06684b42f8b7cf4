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
    /// What was asked cannot be done as asked; the message says why and
    /// what to do instead.
    #[error("{0}")]
    Usage(String),
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
