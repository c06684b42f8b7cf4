//! The nginx error-log parser on arbitrary lines.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::nginx_error(data));
