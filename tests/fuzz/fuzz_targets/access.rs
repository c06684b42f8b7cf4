//! The access-log parsers (every CLF-family flavour) on arbitrary lines.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::access(data));
