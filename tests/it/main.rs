//! The integration tests, as one test binary with a module per area
//! (ripgrep's `tests/tests.rs` layout): one link instead of one per file,
//! and helpers shared as modules. They run the real `logburst` binary on
//! the fixtures (`common` finds and runs it) and check properties over
//! generated logs.
//!
//! `cargo test --test it AREA` runs one area, e.g. `cargo test --test it
//! evaluation -- --nocapture` for the detection tables.

#[path = "../fuzz/checks.rs"]
mod checks;
mod common;

mod alerts;
mod archives;
mod azure;
mod bad_input;
mod breadth;
mod containers;
mod cron;
mod csv;
mod demo;
mod evaluation;
mod formats;
mod fuzz_regressions;
mod html;
mod latency;
mod layout;
mod markdown;
mod nginx_formats;
mod noise;
mod object_storage;
mod once;
mod placing;
mod properties;
mod signals;
mod snapshots;
mod spark;
mod sql_series;
mod summaries;
