//! Container envelopes on arbitrary lines: no panic, one line out for each
//! line in.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::envelope(data));
