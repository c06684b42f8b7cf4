//! The kernel OOM-killer message parser on arbitrary messages.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::oom(data));
