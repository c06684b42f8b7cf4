//! logburst turns server logs into an outage timeline.
//!
//! The pipeline, in the order data flows through it:
//!
//! - [`source`]: command-line paths → inputs, opened with compression sniffed
//!   (or memory-mapped, each mapping recorded in [`mapped`]);
//! - [`chunk`]: a byte stream → newline-aligned blocks;
//! - [`format`]: lines → typed [`event`]s (nom parsers over bytes);
//! - [`bucket`]: events → per-host one-second series, a mergeable monoid
//!   (every partial result implements [`merge::Merge`]);
//! - [`pipeline`]: the one place that runs the above in parallel and merges;
//! - [`place`]: stamps without a zone or year → instants, with notes;
//! - [`detect`]: series → incidents (bursts, traffic gaps, OOM clusters);
//! - [`explain`]: incidents and evidence → one [`Analysis`] value;
//! - [`run`]: the stage chain above, from a [`Config`];
//! - [`report`]: the value's model and its renderers (text, JSON, …);
//! - [`progress`]: how far reading got, for a caller that shows it.
//!
//! The library never prints and never exits; the binary does both.

pub mod bucket;
pub mod chunk;
pub mod collect;
pub mod config;
pub mod detect;
pub mod error;
pub mod escape;
pub mod event;
pub mod explain;
pub mod format;
pub mod mapped;
pub mod merge;
pub mod pipeline;
pub mod place;
pub mod progress;
pub mod report;
pub mod run;
pub mod sketch;
pub mod slo;
pub mod source;
pub mod state;
pub mod summary;
pub mod time;

pub use config::Config;
pub use error::{Error, Result};
pub use report::model::Analysis;
pub use run::analyze;
