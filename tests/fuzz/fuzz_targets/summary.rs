//! Summaries and cron states read from disk (JSON), and series CSV
//! (`merge --series`): never a panic, and what is accepted analyses and
//! round-trips.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::summary(data));
