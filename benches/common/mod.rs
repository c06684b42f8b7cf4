//! What the benchmarks share: the generated log they run on.

use std::io::Write;

/// A deterministic combined log of about `bytes` bytes: 40 requests a
/// second, 1 % 5xx, with a burst of 502s in the middle (a tenth of the
/// covered time, at least 90 s, so that even the small run has one).
pub fn generate(bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes + 512);
    let seconds = (bytes / 130 / 40) as u64;
    let burst_start = seconds / 2;
    let burst_end = burst_start + (seconds / 10).max(90);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut n: u64 = 0;
    while out.len() < bytes {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let sec = n / 40;
        let (h, m, s) = ((sec / 3600) % 24, (sec / 60) % 60, sec % 60);
        let day = 1 + (sec / 86_400) % 28;
        let burst = (burst_start..burst_end).contains(&sec);
        let status = if burst && !x.is_multiple_of(3) || x.is_multiple_of(100) {
            502
        } else if x.is_multiple_of(17) {
            404
        } else {
            200
        };
        writeln!(
            out,
            "10.{}.{}.{} - - [{day:02}/Feb/2023:{h:02}:{m:02}:{s:02} +0300] \"GET /api/items/{} HTTP/1.1\" {status} {} \"-\" \"Mozilla/5.0 (X11; Linux x86_64) bench\"",
            x % 256,
            (x >> 8) % 256,
            (x >> 16) % 256,
            x % 10_000,
            x % 50_000
        )
        .unwrap();
        n += 1;
    }
    out
}
