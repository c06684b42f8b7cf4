//! The library's error type. Every variant names what failed and where, and
//! says what the user can do about it; an I/O failure keeps its
//! `io::Error` as the source.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read, created, written or locked: `what` says
    /// which and is worded for the message (`read summary`, `write state`).
    #[error("cannot {what} {}: {}", path.display(), crate::source::describe_io(source))]
    Io {
        what: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// What was asked cannot be done as asked; the message says why and
    /// what to do instead.
    #[error("{0}")]
    Usage(String),
    #[error("cannot start {threads} worker threads: {message}")]
    ThreadPool { threads: usize, message: String },
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
