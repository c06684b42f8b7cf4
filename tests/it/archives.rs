//! Every archive format reads to the same analysis as the plain file, for
//! any thread count; progress accounts for every byte on disk.

use crate::common;

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use logburst::internals::progress::{Progress, ProgressHook};
use logburst::internals::source::InputSpec;
use logburst::{analyze, Config};

/// A combined log with an outage: 20 requests a second for 40 minutes, all
/// 502 from minute 20 to 25.
fn access_log() -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..(40 * 60 * 20) {
        let sec = i / 20;
        let (m, s) = (sec / 60, sec % 60);
        let status = if (1200..1500).contains(&sec) {
            502
        } else {
            200
        };
        writeln!(
            out,
            "10.0.{}.{} - - [02/Feb/2023:07:{m:02}:{s:02} +0300] \"GET /x/{i} HTTP/1.1\" {status} {} \"-\" \"t\"",
            i % 7,
            i % 251,
            100 + i % 900
        )
        .unwrap();
    }
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 1).unwrap()
}

/// Several members/frames/streams glued together, as `cat a.gz b.gz` makes.
fn in_pieces(data: &[u8], compress: fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let cut = data.len() / 3;
    let cut = cut + data[cut..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut out = compress(&data[..cut]);
    out.extend(compress(&data[cut..]));
    out
}

fn without_paths(mut v: serde_json::Value) -> serde_json::Value {
    for i in v["inputs"].as_array_mut().unwrap() {
        let o = i.as_object_mut().unwrap();
        o.remove("path");
        o.remove("compression");
    }
    v
}

#[test]
fn every_archive_format_reads_like_the_plain_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = access_log();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("plain.log", data.clone()),
        ("gzip.log.gz", gzip(&data)),
        ("gzip-members.log.gz", in_pieces(&data, gzip)),
        ("bzip2.log.bz2", bzip2(&data)),
        ("bzip2-streams.log.bz2", in_pieces(&data, bzip2)),
        ("xz.log.xz", xz(&data)),
        ("xz-streams.log.xz", in_pieces(&data, xz)),
        ("zstd.log.zst", zstd(&data)),
        ("zstd-frames.log.zst", in_pieces(&data, zstd)),
    ];
    let mut expected = None;
    for (name, bytes) in &files {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let arg = format!("web-01={}", path.display());
        let run = logburst(&["-o", "json", "--block-size", "65536", &arg]);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let json = run.json();
        let input = &json["inputs"][0];
        assert_eq!(input["lines"], 48_000, "{name}");
        assert_eq!(input["malformed"], 0, "{name}");
        assert_eq!(json["incidents"].as_array().unwrap().len(), 1, "{name}");
        let json = without_paths(json);
        match &expected {
            None => expected = Some(json),
            Some(e) => assert_eq!(&json, e, "{name} differs from the plain file"),
        }
    }
}

#[test]
fn same_json_for_1_2_and_8_threads_over_many_archives() {
    let dir = tempfile::tempdir().unwrap();
    let data = access_log();
    for (i, compress) in [gzip, bzip2, xz, zstd, |d: &[u8]| d.to_vec()]
        .iter()
        .enumerate()
    {
        // Each host's log its own (identical files would be one file read
        // once): the same traffic, one last line apiece.
        let mut data = data.clone();
        let last = format!(
            "10.9.9.{i} - - [02/Feb/2023:07:40:00 +0300] \"GET /host/{i} HTTP/1.1\" 200 1 \"-\" \"t\"\n"
        );
        data.extend_from_slice(last.as_bytes());
        let sub = dir.path().join(format!("web-{i:02}"));
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("access.log.1"), compress(&data)).unwrap();
    }
    let root = dir.path().display().to_string();
    let run = |threads: &str| {
        let r = logburst(&[
            "-o",
            "json",
            "--threads",
            threads,
            "--block-size",
            "32768",
            &root,
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
    };
    let one = run("1");
    let v: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(v["inputs"].as_array().unwrap().len(), 5);
    assert_eq!(run("2"), one);
    assert_eq!(run("8"), one);
}

#[derive(Default)]
struct Counter {
    total: Mutex<Option<Option<u64>>>,
    read: AtomicU64,
    files: Mutex<Vec<String>>,
    ends: AtomicUsize,
}

impl Progress for Counter {
    fn begin(&self, total: Option<u64>) {
        *self.total.lock().unwrap() = Some(total);
    }
    fn reading(&self, display: &str) {
        self.files.lock().unwrap().push(display.to_string());
    }
    fn advance(&self, bytes: u64) {
        self.read.fetch_add(bytes, Ordering::Relaxed);
    }
    fn end(&self) {
        self.ends.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn progress_counts_every_byte_on_disk_once() {
    let demo = root().join("fixtures/demo");
    let on_disk: u64 = ["access.log", "access.log.1.gz", "kern.log"]
        .iter()
        .map(|f| {
            std::fs::metadata(demo.join("web-01").join(f))
                .unwrap()
                .len()
        })
        .sum();
    for threads in [1, 2] {
        let counter = Arc::new(Counter::default());
        let config = Config {
            inputs: vec![InputSpec::parse(&demo.display().to_string())],
            threads: Some(threads),
            block_size: 4096,
            progress: Some(ProgressHook(counter.clone())),
            ..Config::default()
        };
        analyze(&config).unwrap();
        assert_eq!(*counter.total.lock().unwrap(), Some(Some(on_disk)));
        assert_eq!(counter.read.load(Ordering::Relaxed), on_disk);
        assert_eq!(counter.ends.load(Ordering::Relaxed), 1);
        let mut files = counter.files.lock().unwrap().clone();
        files.sort();
        let names: Vec<&str> = files
            .iter()
            .map(|f| Path::new(f).file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["access.log", "access.log.1.gz", "kern.log"]);
    }
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let run = logburst(&["fixtures/demo"]);
    assert_eq!(run.code, 0);
    assert!(!run.stderr.contains('\r'), "{}", run.stderr);
    assert!(!run.stderr.contains("ETA"), "{}", run.stderr);
}

/// Damage in the middle of an archive: everything that decodes before it
/// is analysed (a damaged xz gave 0 lines and "empty input" with exit 0,
/// while `xz -dc` recovers half), the warning says where reading stopped
/// and how many lines came before; an archive of which nothing decodes is
/// an unreadable input (exit 2).
#[test]
fn damaged_archives_give_what_decoded_before_the_damage() {
    let dir = tempfile::tempdir().unwrap();
    let data = access_log();
    let total = data.iter().filter(|b| **b == b'\n').count() as u64;
    for (name, compress) in [
        ("xz", xz as fn(&[u8]) -> Vec<u8>),
        ("bz2", bzip2),
        ("zst", zstd),
    ] {
        let mut bytes = compress(&data);
        let mid = bytes.len() / 2;
        for b in &mut bytes[mid..mid + 64] {
            *b ^= 0x55;
        }
        let p = dir.path().join(format!("web-01/access.log.{name}"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &bytes).unwrap();
        let r = logburst(&["-o", "json", p.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let j = r.json();
        let i = &j["inputs"][0];
        let lines = i["lines"].as_u64().unwrap();
        // Damage at half the compressed bytes: about half the lines decode
        // (bzip2 loses the damaged 900 kB block whole).
        assert!(
            lines * 4 > total && lines < total,
            "{name}: {lines} of {total}"
        );
        assert!(i["malformed"].as_u64().unwrap() <= 1, "{name}: {i}");
        let w = i["warnings"].to_string();
        assert!(w.contains("lines before it were analysed"), "{name}: {w}");
        assert!(
            r.stderr.contains("lines before it were analysed"),
            "{name}: {}",
            r.stderr
        );
        // Damaged from the start: nothing decodes, the input is unreadable.
        let mut bytes = compress(&data);
        for b in &mut bytes[12..200] {
            *b ^= 0x55;
        }
        std::fs::write(&p, &bytes).unwrap();
        let r = logburst(&["-o", "json", p.to_str().unwrap()]);
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(r.stderr.contains("cannot read"), "{name}: {}", r.stderr);
        assert_eq!(r.json()["inputs"][0]["understood"], false);
    }
}

/// gzip checks its data only at the end of a member, so damage in the
/// middle can decode to garbled lines for a long while: when lines stop
/// parsing, the input is said not to be understood rather than trusted.
#[test]
fn a_garbled_gzip_is_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = gzip(&access_log());
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0x55;
    }
    let p = dir.path().join("web-01/access.log.gz");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, &bytes).unwrap();
    let r = logburst(&["-o", "json", p.to_str().unwrap()]);
    let j = r.json();
    let i = &j["inputs"][0];
    let malformed = i["malformed"].as_u64().unwrap();
    assert!(
        i["warnings"].to_string().contains("archive is corrupt"),
        "{i}"
    );
    assert_eq!(i["understood"], malformed <= 1, "{i}");
}

/// A zstd frame whose window is over the decoder's limit (made with
/// `--long=31` from a stream) is refused, saying how to read it.
#[test]
fn zstd_with_a_long_window_is_refused_with_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut enc = ::zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    enc.set_parameter(::zstd::stream::raw::CParameter::WindowLog(31))
        .unwrap();
    enc.long_distance_matching(true).unwrap();
    std::io::Write::write_all(&mut enc, &access_log()).unwrap();
    let p = dir.path().join("web-01/access.log.zst");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, enc.finish().unwrap()).unwrap();
    let r = logburst(&[p.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("zstd -d --long=31"), "{}", r.stderr);
}

/// Decoders share `--decoder-memory` (each its part of the -j threads):
/// an archive whose dictionary or window needs more is not read, and the
/// run says how to allow it; under a larger allowance it is read.
#[test]
fn archives_that_need_more_decoder_memory_are_refused_with_a_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let data = crate::common::burst_access(600, 100..200).into_bytes();
    // xz -6: an 8 MiB dictionary; zstd with a 16 MiB window.
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
    e.write_all(&data).unwrap();
    let big_xz = write(dir.path(), "web-01/access.log.xz", &e.finish().unwrap());
    let mut z = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
    z.window_log(24).unwrap();
    z.write_all(&data).unwrap();
    let big_zst = write(dir.path(), "web-02/access.log.zst", &z.finish().unwrap());
    for path in [&big_xz, &big_zst] {
        let p = path.to_str().unwrap();
        let r = logburst(&["-o", "json", "-j", "2", "--decoder-memory", "8M", p]);
        assert_eq!(r.code, 2, "{p}: {}", r.stderr);
        assert!(
            r.stderr.contains("needs more than the 4 MiB a decoder may use (--decoder-memory, shared by the -j decoders)"),
            "{p}: {}",
            r.stderr
        );
        let r = logburst(&["-o", "json", p]);
        assert_eq!(r.code, 0, "{p}: {}", r.stderr);
        assert_eq!(r.json()["totals"]["requests"], 3000);
    }
}

/// A gzip file past the size that is inflated on a core of its own (16
/// MiB compressed; stored blocks here, so that making it is quick) reads
/// to the same analysis as on one thread, where the reading thread
/// inflates it; truncated, both say so, and the lines before the damage
/// are the same but for what is held back before it (at most 768 KiB).
#[test]
fn a_large_gzip_reads_the_same_off_the_reading_thread() {
    let dir = tempfile::tempdir().unwrap();
    let one = access_log();
    let mut data = Vec::new();
    for day in 2..7 {
        let text = String::from_utf8(one.clone()).unwrap();
        data.extend(text.replace("02/Feb", &format!("0{day}/Feb")).into_bytes());
    }
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    e.write_all(&data).unwrap();
    let bytes = e.finish().unwrap();
    assert!(bytes.len() > 16 << 20, "{}", bytes.len());
    let p = write(dir.path(), "web-01/access.log.1.gz", &bytes);
    let run = |threads: &str| {
        let r = logburst(&["-o", "json", "-j", threads, p.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()
    };
    let (one_thread, two) = (run("1"), run("2"));
    assert_eq!(one_thread, two);
    assert_eq!(
        two["inputs"][0]["lines"].as_u64(),
        Some(data.iter().filter(|b| **b == b'\n').count() as u64)
    );
    let bursts = two["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "error-burst")
        .count();
    assert_eq!(bursts, 5, "{}", two["incidents"]);

    std::fs::write(&p, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let (one_thread, two) = (run("1"), run("2"));
    let lines = |j: &serde_json::Value| j["inputs"][0]["lines"].as_u64().unwrap();
    for j in [&one_thread, &two] {
        let w = j["inputs"][0]["warnings"].to_string();
        assert!(w.contains("archive is truncated"), "{w}");
    }
    assert!(
        lines(&two) <= lines(&one_thread) && lines(&one_thread) - lines(&two) < (768 << 10) / 80,
        "{} and {} lines",
        lines(&one_thread),
        lines(&two)
    );
}
