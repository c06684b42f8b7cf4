//! The W3C extended (IIS) reader on arbitrary input, with the layout of
//! any `#Fields:` line in it.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::w3c(data));
