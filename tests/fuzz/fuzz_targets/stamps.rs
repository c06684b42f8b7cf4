//! The timestamp parsers (CLF, ISO 8601 / RFC 3339, BSD, ctime), durations
//! and instants given on the command line.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::stamps(data));
