//! The whole run on arbitrary bytes (plain or, when the bytes start with a
//! magic number, as an archive): never a panic, every line accounted for,
//! valid JSON and a text report with no raw control characters.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::pipeline(data));
