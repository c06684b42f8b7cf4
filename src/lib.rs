//! logburst turns server logs into an outage timeline.
//!
//! ```no_run
//! let config = logburst::Config {
//!     inputs: vec![logburst::InputSpec::parse("/var/log/nginx/access.log")],
//!     ..logburst::Config::default()
//! };
//! let analysis = logburst::analyze(&config)?;
//! for i in &analysis.incidents {
//!     println!("{} {} → {}", i.kind, i.start.human(), i.end.human());
//! }
//! logburst::render::json::render(&analysis, &mut std::io::stdout())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The surface: a [`Config`] (checked once, by [`Config::validate`]), the
//! stages [`read`] (inputs → a [`Summary`]) and [`finish`] (a summary →
//! an [`Analysis`]), or [`analyze`] for both; [`run_incremental`] for cron
//! runs over a state file; the [`model`] of the result and its
//! [`render`]ers; [`args`] for command-line values.
//!
//! Inside, the stages, in the order data flows through them (private
//! modules): `source` (paths → inputs, compression sniffed, or
//! memory-mapped, each mapping recorded in `mapped`); `chunk` (a byte
//! stream → newline-aligned blocks); `format` (the registry of formats:
//! lines → typed `event`s, nom parsers over bytes); `collect` (parsed lines
//! → series and rare events); `bucket` (per-host one-second series; every
//! partial result implements `merge::Merge`, a monoid); `pipeline` (the one
//! place that runs the above in parallel and merges); `place` (stamps
//! without a zone or year → instants, with notes); `detect` (series →
//! incidents); `explain` (incidents and evidence → the [`Analysis`]); `run`
//! (the chain, from a [`Config`]); `report` (the model and the renderers).
//!
//! The library never prints and never exits; the binary does both.
#![warn(missing_docs)]

// Modules whose items are all part of the surface below carry the crate's
// `missing_docs` lint; the stages' internal modules do not (each has its
// module documentation, and they are reached only through `internals`),
// and the surface items defined in them turn the lint back on one by one.
#[allow(missing_docs)]
mod bucket;
#[allow(missing_docs)]
mod choose;
#[allow(missing_docs)]
mod chunk;
#[allow(missing_docs)]
mod collect;
mod config;
pub mod deliver;
#[allow(missing_docs)]
mod detect;
mod document;
#[allow(missing_docs)]
mod envelope;
mod error;
mod errors;
mod escape;
#[allow(missing_docs)]
mod event;
#[allow(missing_docs)]
mod explain;
#[allow(missing_docs)]
mod format;
mod hosts;
#[allow(missing_docs)]
mod lanes;
mod limits;
#[allow(missing_docs)]
mod mapped;
#[allow(missing_docs)]
mod merge;
mod mixed;
mod months;
#[allow(missing_docs)]
mod once;
#[allow(missing_docs)]
mod persist;
#[allow(missing_docs)]
mod pipeline;
#[allow(missing_docs)]
mod place;
mod progress;
mod remote;
mod report;
mod run;
mod series_csv;
#[allow(missing_docs)]
mod sketch;
#[allow(missing_docs)]
mod source;
#[allow(missing_docs)]
mod state;
#[allow(missing_docs)]
mod summary;
#[allow(missing_docs)]
mod tally;
#[allow(missing_docs)]
mod time;

// The library's surface: what a program that runs logburst needs.
pub use chunk::DEFAULT_BLOCK_SIZE;
pub use config::Config;
pub use detect::{Detector, Params};
pub use error::{ConfigError, Error, Result};
pub use errors::ErrorSet;
pub use escape::terminal as escape_terminal;
pub use format::Format;
pub use mapped::find as mapped_input;
pub use progress::{Progress, ProgressHook};
pub use report::model::{self, Analysis};
pub use report::Output;
pub use run::{analyze, check_output, finish, list as list_inputs, read, Listed, Listing};
pub use series_csv::read as read_series;
pub use source::{InputSpec, MapPolicy};
pub use state::{run as run_incremental, Pending};
pub use summary::Summary;

/// The renderers: each lays an [`Analysis`] out in one output form and
/// computes nothing of its own.
pub mod render {
    pub use crate::report::{csv, html, json, markdown, text};
}

/// Parsers of command-line values: durations, instants, zones, nginx
/// `log_format` lines and files, signal patterns, SLO windows.
pub mod args {
    pub use crate::detect::slo::{parse_windows as slo_windows, BurnWindow, Slo, DEFAULT_WINDOWS};
    pub use crate::format::nginx::{
        compile_arg as nginx_format, load_conf as nginx_conf, LogFormat,
    };
    pub use crate::format::signals::parse_arg as signal;
    pub use crate::limits::parse_size as size;
    pub use crate::time::{
        parse_duration, parse_duration_ms, parse_instant, parse_instant_parts, rfc3339, Zone,
    };
}

/// The stages' own types, for the benches, fuzz targets and tests of this
/// repository. Not part of the API: it changes whenever the stages do.
#[doc(hidden)]
pub mod internals {
    macro_rules! door {
        ($($m:ident),*) => {$(
            pub mod $m {
                pub use crate::$m::*;
            }
        )*};
    }
    door!(
        bucket, chunk, collect, config, detect, document, envelope, escape, event, explain, format,
        mapped, merge, pipeline, place, progress, remote, report, run, series_csv, sketch, source,
        state, summary, time
    );
}
