//! BGZF members on arbitrary bytes: no panic, and what is accepted is what
//! the sequential gzip decoder gives.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::bgzf(data));
