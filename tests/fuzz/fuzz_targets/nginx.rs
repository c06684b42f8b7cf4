//! The nginx log_format compiler, nginx.conf reading, and compiled formats
//! matching arbitrary lines.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::nginx(data));
