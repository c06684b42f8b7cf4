//! The whole pipeline on generated nginx logs: plain and gzip, one thread
//! and every core. (`benches/compare.sh` runs the same job on 1 GiB against
//! wc, rg, mawk and GoAccess.)

use std::io::Write;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use logburst::source::InputSpec;
use logburst::{analyze, Config};

/// A deterministic combined log of about `bytes` bytes: 40 requests a
/// second, 1 % 5xx, with a burst of 502s in the middle (a tenth of the
/// covered time, at least 90 s, so that even the small run has one).
fn generate(bytes: usize) -> Vec<u8> {
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

fn config(path: &Path, threads: usize) -> Config {
    Config {
        inputs: vec![InputSpec {
            path: Some(path.to_path_buf()),
            label: Some("bench".into()),
        }],
        threads: Some(threads),
        ..Config::default()
    }
}

fn pipeline(c: &mut Criterion) {
    // Small under `cargo test` (one pass each), larger when benchmarking.
    let bench = std::env::args().any(|a| a == "--bench");
    let size = if bench { 64 << 20 } else { 1 << 20 };
    let dir = tempfile::tempdir().unwrap();
    let data = generate(size);
    let plain = dir.path().join("access.log");
    std::fs::write(&plain, &data).unwrap();
    let gz = dir.path().join("access.log.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&data).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());

    let mut g = c.benchmark_group("pipeline");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(data.len() as u64));
    for (name, path, threads) in [
        ("plain, 1 thread", &plain, 1),
        ("plain, all cores", &plain, cores),
        ("gzip, all cores", &gz, cores),
    ] {
        let cfg = config(path, threads);
        g.bench_function(name, |b| {
            b.iter(|| {
                let a = analyze(&cfg).unwrap();
                assert_eq!(a.inputs[0].malformed, 0);
                assert!(!a.incidents.is_empty());
                a
            })
        });
    }
    g.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
