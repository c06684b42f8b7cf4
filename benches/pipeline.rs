//! The whole pipeline on generated nginx logs: plain and gzip, one thread
//! and every core. (`benches/compare.sh` runs the same job on 1 GiB against
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
