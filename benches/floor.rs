//! What the hardware leaves for parsing: on one mapped access log, the time
//! it takes only to touch every 64-byte cache line of it, next to the block
//! parser alone and the parser with the per-second series the pipeline
//! fills, on one thread and on every core. The file is mapped again for
//! every run, so each pays the page faults that `rg` and logburst pay.
//!
//! ```text
//! cargo bench --bench floor -- [FILE [RUNS]]
//! ```
//!
//! `benches/compare.sh` runs it on its 1 GiB log, so that the time of
//! `rg -c` can be set against the time merely touching that file takes.
//! Without a file it runs on a generated 256 MiB log; under `cargo test`
//! (no `--bench` argument) on 1 MiB, once, as a check that the three kinds
//! of work see the same lines.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use memmap2::Mmap;

use logburst::internals::bucket::SeriesBuilder;
use logburst::internals::format::access;
use logburst::internals::time::ClfCache;

mod common;

/// The blocks the pipeline hands its workers are this long.
const BLOCK: usize = 4 << 20;

#[derive(Clone, Copy)]
enum Work {
    /// One byte read from every 64: the cost of visiting the memory.
    Touch,
    /// [`access::for_each_line`], counting the lines it parses.
    Parse,
    /// The parser, each request's time read through the per-second cache
    /// and added to a [`SeriesBuilder`] (the pipeline's hot loop, less its
    /// tallies).
    Series,
}

impl Work {
    fn name(self) -> &'static str {
        match self {
            Work::Touch => "touch every cache line",
            Work::Parse => "block parser",
            Work::Series => "block parser + series",
        }
    }

    /// Runs on one part of the file, a block at a time; returns a count
    /// that depends on every byte visited (lines parsed, or a checksum).
    fn run(self, part: &[u8]) -> u64 {
        let mut n = 0u64;
        for block in cut(part, part.len().div_ceil(BLOCK)) {
            match self {
                Work::Touch => {
                    n = block
                        .chunks(64)
                        .fold(n, |n, c| n.wrapping_add(u64::from(c[0])))
                }
                Work::Parse => access::for_each_line(block, |_, a| n += a.is_some() as u64),
                Work::Series => {
                    let mut cache = ClfCache::default();
                    let mut series = SeriesBuilder::default();
                    let errors = logburst::ErrorSet::default();
                    access::for_each_line(block, |_, a| {
                        if let Some(r) = a.and_then(|a| a.request(&mut cache)) {
                            series.add(&r, errors.contains(r.status));
                        }
                    });
                    n += series.finish().requests;
                }
            }
        }
        n
    }
}

/// `data` cut into `parts` pieces at line ends.
fn cut(data: &[u8], parts: usize) -> Vec<&[u8]> {
    let mut out = Vec::with_capacity(parts);
    let mut start = 0;
    for k in 1..parts.max(1) {
        let at = (data.len() * k / parts).max(start);
        let end = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i + 1);
        out.push(&data[start..end]);
        start = end;
    }
    out.push(&data[start..]);
    out
}

/// Maps `path`, runs `work` on `threads` threads over as many parts, and
/// returns the wall time (mapping included) and the summed counts.
fn once(path: &Path, work: Work, threads: usize) -> (Duration, u64) {
    let t0 = Instant::now();
    let f = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // SAFETY: the benchmark's file is not modified while it runs.
    let map = unsafe { Mmap::map(&f) }.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let parts = cut(&map, threads);
    let count = std::thread::scope(|s| {
        let handles: Vec<_> = parts.iter().map(|p| s.spawn(move || work.run(p))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    (t0.elapsed(), count)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bench = args.iter().any(|a| a == "--bench");
    let mut free = args.iter().filter(|a| !a.starts_with("--"));
    let dir = tempfile::tempdir().unwrap();
    let given = free.next();
    let generated = given.is_none();
    let path = match given {
        Some(p) => PathBuf::from(p),
        None => {
            let p = dir.path().join("access.log");
            let size = if bench { 256 << 20 } else { 1 << 20 };
            std::fs::write(&p, common::generate(size)).unwrap();
            p
        }
    };
    let runs: usize = match free.next() {
        Some(r) => r.parse().expect("RUNS must be a number"),
        None if bench => 5,
        None => 1,
    };
    let bytes = std::fs::metadata(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .len();
    let lines = {
        let f = File::open(&path).unwrap();
        // SAFETY: as in `once`.
        let map = unsafe { Mmap::map(&f) }.unwrap();
        memchr::memchr_iter(b'\n', &map).count() as u64
    };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());

    println!("| work | threads | best ms | GB/s | ns per line per thread |");
    println!("|---|---:|---:|---:|---:|");
    for work in [Work::Touch, Work::Parse, Work::Series] {
        for threads in [1, cores] {
            let mut best = Duration::MAX;
            for _ in 0..runs {
                let (t, n) = once(&path, work, threads);
                if !matches!(work, Work::Touch) {
                    // Every line of the generated log parses; a file given
                    // may hold malformed ones, never more than its lines.
                    assert!(n <= lines + 1, "{n} requests of {lines} lines");
                    if generated {
                        assert_eq!(n, lines, "{}: lines lost", work.name());
                    }
                }
                best = best.min(t);
            }
            let s = best.as_secs_f64();
            println!(
                "| {} | {threads} | {:.1} | {:.2} | {:.1} |",
                work.name(),
                s * 1e3,
                bytes as f64 / s / 1e9,
                s * 1e9 * threads as f64 / lines.max(1) as f64,
            );
        }
    }
}
