//! Per-parser throughput: the hot-path functions on typical lines.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

use logburst::internals::format::{access, oom, syslog, Format, LineParser, YearRule};
use logburst::internals::time::{parse_clf, ClfCache};

const COMBINED: &[u8] = br#"41.90.17.3 - - [02/Feb/2023:07:00:22 +0300] "GET /api/products?page=2 HTTP/1.1" 502 157 "https://shop.example.co.ke/" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36""#;
const KERN_KILL: &[u8] = b"Feb  2 07:00:13 web-01 kernel: [3034412.118273] Out of memory: Killed process 4242 (python3) total-vm:4049380kB, anon-rss:3515625kB, file-rss:2816kB, shmem-rss:0kB, UID:33 pgtables:6996kB oom_score_adj:0";
const KERN_NOISE: &[u8] = b"Feb  2 06:12:44 web-01 kernel: [3031525.218273] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:8a:1c:3e SRC=45.12.3.9 DST=10.0.0.11 LEN=44 PROTO=TCP SPT=51234 DPT=22 SYN URGP=0";
const YEARS: YearRule = YearRule {
    fixed: Some(2023),
    reference: (2023, 2, 28),
    boot: None,
    written: None,
};

fn parsers(c: &mut Criterion) {
    let mut g = c.benchmark_group("parsers");
    g.throughput(Throughput::Bytes(COMBINED.len() as u64));
    g.bench_function("access::parse_line", |b| {
        b.iter(|| access::parse_line(black_box(COMBINED)))
    });
    let mut cache = ClfCache::default();
    g.bench_function("access::parse_request (cached time)", |b| {
        b.iter(|| access::parse_request(black_box(COMBINED), &mut cache))
    });
    // A block of such lines (a different path on each) through the block
    // parser, which cuts lines and finds fields from vector marks.
    let block: Vec<u8> = (0..4096)
        .flat_map(|i| {
            let mut l = COMBINED.to_vec();
            l.splice(49..49, format!("/{i}").into_bytes());
            l.push(b'\n');
            l
        })
        .collect();
    g.throughput(Throughput::Bytes(block.len() as u64));
    g.bench_function("access::for_each_line (block of 4096 lines)", |b| {
        b.iter(|| {
            let mut n = 0u32;
            access::for_each_line(black_box(&block), |_, a| n += a.is_some() as u32);
            n
        })
    });
    g.throughput(Throughput::Bytes(COMBINED.len() as u64));
    g.bench_function("time::parse_clf (uncached)", |b| {
        b.iter(|| parse_clf(black_box(b"02/Feb/2023:07:00:22 +0300")))
    });
    g.throughput(Throughput::Bytes(KERN_NOISE.len() as u64));
    g.bench_function("syslog::parse_frame", |b| {
        b.iter(|| syslog::parse_frame(black_box(KERN_NOISE), &YEARS))
    });
    let mut p = LineParser::new(Format::Syslog, YEARS);
    g.bench_function("syslog line, not an OOM", |b| {
        b.iter(|| p.parse(black_box(KERN_NOISE)).is_some())
    });
    g.throughput(Throughput::Bytes(KERN_KILL.len() as u64));
    g.bench_function("syslog line, OOM kill", |b| {
        b.iter(|| p.parse(black_box(KERN_KILL)).is_some())
    });
    let msg = &KERN_KILL[48..];
    g.bench_function("oom::parse", |b| b.iter(|| oom::parse(black_box(msg))));
    g.finish();
}

criterion_group!(benches, parsers);
criterion_main!(benches);
