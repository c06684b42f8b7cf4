//! How a run tells its caller how far it got. The library only counts; the
//! binary draws (an indicatif bar on stderr when it is a terminal).

use std::fmt;
use std::sync::Arc;

/// Receives progress from [`crate::analyze`]. Called from worker threads, so
/// the implementation must be cheap and thread-safe.
pub trait Progress: Send + Sync {
    /// The run starts: bytes on disk to read in all (compressed size for
    /// archives), `None` when unknown (standard input among the inputs).
    fn begin(&self, _total_bytes: Option<u64>) {}
    /// An input starts being read.
    fn reading(&self, _display: &str) {}
    /// This many more bytes were read from disk.
    fn advance(&self, _bytes: u64) {}
    /// Reading is over (detection and rendering follow).
    fn end(&self) {}
}

/// A [`Progress`] to keep in a [`crate::Config`].
#[derive(Clone)]
pub struct ProgressHook(pub Arc<dyn Progress>);

impl fmt::Debug for ProgressHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressHook")
    }
}
