//! logburst turns server logs into an outage timeline.
//!
//! The pipeline, in the order data flows through it:
//!
//! - [`source`]: command-line paths → inputs, opened with compression sniffed
//!   (or memory-mapped, each mapping recorded in [`mapped`]);
//! - [`chunk`]: a byte stream → newline-aligned blocks;
//! - [`format`]: lines → typed [`event`]s (nom parsers over bytes);
//! - [`bucket`]: events → per-host one-second series, a mergeable monoid;
//! - [`pipeline`]: the one place that runs the above in parallel and merges;
//! - [`detect`]: series → incidents (bursts, traffic gaps, OOM clusters);
//! - [`analysis`]: the run as a whole, producing one [`Analysis`] value;
//! - [`report`]: renderers of that value (text, JSON);
//! - [`progress`]: how far reading got, for a caller that shows it.
//!
//! The library never prints and never exits; the binary does both.

pub mod analysis;
pub mod bucket;
pub mod chunk;
pub mod detect;
pub mod error;
pub mod event;
pub mod format;
pub mod mapped;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod sketch;
pub mod slo;
pub mod source;
pub mod state;
pub mod summary;
pub mod time;

pub use analysis::{analyze, Analysis, Config};
pub use error::{Error, Result};
