//! Application-log stamps and the signal table on arbitrary lines.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::app(data));
