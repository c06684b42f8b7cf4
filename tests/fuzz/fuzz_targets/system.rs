//! Syslog (RFC 3164, RFC 3339, RFC 5424), journalctl and dmesg framings,
//! with the OOM message parser behind them, on arbitrary lines.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::system(data));
