//! The whole pipeline on generated nginx logs: plain and gzip, one thread
//! and every core, and the same lines in Docker's json-file envelope. (`benches/compare.sh` runs the same job on 1 GiB against
//! wc, rg, mawk and GoAccess.)

use std::io::Write;
use std::path::Path;

mod common;
use common::generate;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use logburst::internals::source::InputSpec;
use logburst::{analyze, Config};

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
    // The same lines as Docker's json-file driver writes them.
    let docker = dir.path().join("web-json.log");
    let mut records = Vec::with_capacity(data.len() * 3 / 2);
    for (n, line) in data
        .split(|c| *c == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let text = format!("{}\n", String::from_utf8_lossy(line));
        // Docker's key order: log, stream, time.
        let log = serde_json::to_string(&text).unwrap();
        writeln!(
            records,
            "{{\"log\":{log},\"stream\":\"stdout\",\"time\":\"2023-02-01T00:00:{:02}.{:09}Z\"}}",
            n % 60,
            n % 1_000_000_000
        )
        .unwrap();
    }
    std::fs::write(&docker, &records).unwrap();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());

    let mut g = c.benchmark_group("pipeline");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(data.len() as u64));
    for (name, path, threads) in [
        ("plain, 1 thread", &plain, 1),
        ("plain, all cores", &plain, cores),
        ("gzip, all cores", &gz, cores),
        ("docker json-file, all cores", &docker, cores),
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
