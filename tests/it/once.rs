//! Each file is read once, however it is reached: named twice, through a
//! directory and by name, as a rotated copy (plain or compressed), and
//! summaries that hold the same input are not merged. Standard input given
//! twice is refused.

use std::path::PathBuf;

use proptest::prelude::*;
use serde_json::Value;

use crate::common::{logburst, logburst_stdin, root, write};

fn json(args: &[&str]) -> Value {
    let r = logburst(args);
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    r.json()
}

fn totals(j: &Value) -> Value {
    j["totals"].clone()
}

fn warnings(j: &Value) -> String {
    j["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["warnings"].as_array().unwrap().clone())
        .map(|w| w.as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_file_reached_twice_is_read_once_and_the_report_says_so() {
    let once = json(&["-o", "json", "fixtures/demo"]);
    // The directory and a file in it; the directory twice.
    for args in [
        vec![
            "-o",
            "json",
            "fixtures/demo",
            "fixtures/demo/web-01/access.log",
        ],
        vec!["-o", "json", "fixtures/demo", "fixtures/demo/"],
        vec!["-o", "json", "fixtures/demo/web-01", "./fixtures/demo"],
    ] {
        let j = json(&args);
        assert_eq!(totals(&j), totals(&once), "{args:?}");
        assert_eq!(j["inputs"].as_array().unwrap().len(), 3, "{args:?}");
        assert!(
            warnings(&j).contains("the same file, read once"),
            "{args:?}"
        );
        assert_eq!(j["incidents"], once["incidents"], "{args:?}");
    }
    // And on stderr.
    let r = logburst(&["fixtures/demo", "fixtures/demo/web-01/kern.log"]);
    assert!(
        r.stderr
            .contains("kern.log: also given as fixtures/demo/web-01/kern.log"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_rotated_copy_is_not_counted_again() {
    let dir = tempfile::tempdir().unwrap();
    let live = std::fs::read(root().join("fixtures/demo/web-01/access.log")).unwrap();
    // logrotate's `copy`: access.log.1 is what access.log held then; the
    // live file went on growing.
    let cut = live.len() / 2
        + live[live.len() / 2..]
            .iter()
            .position(|b| *b == b'\n')
            .unwrap()
        + 1;
    write(dir.path(), "web-01/access.log.1", &live[..cut]);
    write(dir.path(), "web-01/access.log", &live);
    // The same content compressed, as a second rotation might leave it.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &live[..cut]).unwrap();
    write(dir.path(), "web-01/access.log.2.gz", &gz.finish().unwrap());
    let alone = json(&["-o", "json", "fixtures/demo/web-01/access.log"]);
    let j = json(&["-o", "json", dir.path().to_str().unwrap()]);
    assert_eq!(totals(&j), totals(&alone));
    assert_eq!(j["inputs"].as_array().unwrap().len(), 1, "{j}");
    let w = warnings(&j);
    assert!(
        w.contains("access.log.1 holds this input's first lines"),
        "{w}"
    );
    assert!(
        w.contains("access.log.2.gz holds this input's first lines"),
        "{w}"
    );
    // A file that only shares its first lines with another is read.
    let mut other = live[..cut].to_vec();
    other.extend_from_slice(
        b"10.0.0.1 - - [02/Feb/2023:09:00:00 +0300] \"GET / HTTP/1.1\" 500 1 \"-\" \"x\"\n",
    );
    let dir2 = tempfile::tempdir().unwrap();
    write(dir2.path(), "web-01/access.log.1", &other);
    write(dir2.path(), "web-01/access.log", &live);
    let j = json(&["-o", "json", dir2.path().to_str().unwrap()]);
    assert_eq!(j["inputs"].as_array().unwrap().len(), 2);
}

/// `--list-inputs` names what a run reads, in its order, with the same
/// hosts and notes, and the inputs it cannot read; it reads nothing.
#[test]
fn the_listing_is_what_a_run_reads() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["web-01/access.log", "web-02/access.log", "web-02/kern.log"] {
        let bytes = std::fs::read(root().join("fixtures/fleet").join(f)).unwrap();
        write(dir.path(), f, &bytes);
    }
    let web01 = std::fs::read(root().join("fixtures/fleet/web-01/access.log")).unwrap();
    write(dir.path(), "web-01/access.log.1", &web01);
    let d = dir.path().to_str().unwrap();
    let missing = format!("{d}/web-09/access.log");
    let run = logburst(&["-q", "-o", "json", d, &missing]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let listing = logburst(&["-q", "--list-inputs", d, &missing]);
    assert_eq!(listing.code, 2, "{}", listing.stderr);
    assert!(
        listing.stderr.contains("web-09/access.log"),
        "{}",
        listing.stderr
    );
    let rows: Vec<Value> = listing
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (errors, listed): (Vec<_>, Vec<_>) = rows.iter().partition(|r| r.get("error").is_some());
    assert_eq!(errors.len(), 1, "{}", listing.stdout);
    assert_eq!(errors[0]["path"], missing.as_str());
    let j = run.json();
    let inputs = j["inputs"].as_array().unwrap();
    assert_eq!(
        listed.len(),
        3,
        "the copy is listed once: {}",
        listing.stdout
    );
    for (l, i) in listed.iter().zip(inputs) {
        assert_eq!(l["path"], i["path"]);
        assert_eq!(l["host"], i["host"]);
        assert_eq!(l["notes"], i["warnings"], "{}", l["path"]);
        let size = std::fs::metadata(l["path"].as_str().unwrap())
            .unwrap()
            .len();
        assert_eq!(l["bytes"], size);
    }
    assert!(listed
        .iter()
        .any(|l| l["notes"].to_string().contains("holds the same content")));
    // The listing is a reading option: merge refuses it.
    let merge = logburst(&["merge", "--list-inputs", "x.json"]);
    assert_eq!(merge.code, 2, "{}", merge.stderr);
}

#[test]
fn standard_input_twice_is_refused() {
    let r = logburst_stdin(&["-", "web-02=-"], b"x\n");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("standard input) is given more than once"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
}

#[test]
fn merge_refuses_summaries_that_hold_the_same_input() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    let (a_s, b_s) = (a.to_str().unwrap(), b.to_str().unwrap());
    assert_eq!(
        logburst(&[
            "-q",
            "--save-summary",
            a_s,
            "fixtures/demo/web-01/access.log"
        ])
        .code,
        0
    );
    assert_eq!(
        logburst(&["-q", "--save-summary", b_s, "fixtures/demo/web-01/kern.log"]).code,
        0
    );
    assert_eq!(logburst(&["merge", a_s, b_s]).code, 0);
    for args in [["merge", a_s, b_s, a_s], ["merge", a_s, a_s, b_s]] {
        let r = logburst(&args);
        assert_eq!(r.code, 2, "{args:?}");
        assert!(
            r.stderr
                .contains("both hold fixtures/demo/web-01/access.log"),
            "{}",
            r.stderr
        );
    }
    // The same input read by two runs is the same input.
    let c = dir.path().join("c.json");
    logburst(&[
        "-q",
        "--save-summary",
        c.to_str().unwrap(),
        "fixtures/demo/web-01/access.log",
    ]);
    assert_eq!(logburst(&["merge", a_s, c.to_str().unwrap()]).code, 2);
}

/// Files to draw from: fixtures of several formats and hosts, in a tree
/// of two directories, plus a compressed copy of one of them.
fn tree() -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (sub, f) in [
        ("a", "access-main.log"),
        ("a", "access-common.log"),
        ("a", "oom-kern.log"),
        ("b", "envoy.log"),
        ("b", "nginx-error.log"),
        ("b", "journal-short-iso.log"),
    ] {
        let data = std::fs::read(root().join("fixtures/formats").join(f)).unwrap();
        files.push(write(dir.path(), &format!("{sub}/{f}"), &data));
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &std::fs::read(&files[0]).unwrap()).unwrap();
    write(dir.path(), "b/access-main.log.1.gz", &gz.finish().unwrap());
    (dir, files)
}

fn totals_of(paths: &[String]) -> Value {
    let mut args = vec!["-o", "json", "-q", "--tz", "+00:00", "--year", "2023"];
    args.extend(paths.iter().map(String::as_str));
    let r = logburst(&args);
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    // The hosts' shares add up to the totals; which host a file read once
    // counts for depends on the path it was reached by, so they are left
    // out of the comparison.
    let mut t = totals(&r.json());
    let hosts = t.as_object_mut().unwrap().remove("hosts").unwrap();
    for field in ["requests", "errors"] {
        let sum: u64 = hosts
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h[field].as_u64().unwrap())
            .sum();
        assert_eq!(Some(sum), t[field].as_u64(), "{field}: {hosts}");
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any set of the tree's files and directories, in any order, with
    /// repeats and overlaps: the totals of reading each file once.
    #[test]
    fn totals_are_those_of_each_file_read_once(
        picks in prop::collection::vec(0usize..10, 1..8),
    ) {
        let (dir, files) = tree();
        let root_dir = dir.path();
        let a = root_dir.join("a");
        let b = root_dir.join("b");
        // 0–5 a file, 6 and 7 a directory, 8 the whole tree, 9 a file by a
        // longer path.
        let mut given = Vec::new();
        let mut covered = std::collections::BTreeSet::new();
        for p in &picks {
            let (path, cover): (PathBuf, Vec<usize>) = match p {
                0..=5 => (files[*p].clone(), vec![*p]),
                6 => (a.clone(), vec![0, 1, 2]),
                // b holds the compressed copy of access-main.log.
                7 => (b.clone(), vec![0, 3, 4, 5]),
                8 => (root_dir.to_path_buf(), (0..6).collect()),
                _ => (a.join("..").join("b").join("envoy.log"), vec![3]),
            };
            given.push(path.display().to_string());
            covered.extend(cover);
        }
        // What is covered, each file once (the compressed copy of
        // access-main.log is that file again).
        let once: Vec<String> = covered.iter().map(|i| files[*i].display().to_string()).collect();
        prop_assert_eq!(totals_of(&given), totals_of(&once), "given {:?}", given);
    }
}

/// Hosts from paths: a directory name that is not UTF-8 names its own host
/// (it was skipped, and four hosts merged into one); the name comes only
/// from the directories the user wrote, never from the current directory.
#[cfg(unix)]
#[test]
fn hosts_come_from_the_path_as_written() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let log = std::fs::read(root().join("fixtures/formats/access-main.log")).unwrap();
    for (n, b) in [0xf0u8, 0xf1, 0xf2, 0xf3].iter().enumerate() {
        let bytes = [b'w', b'e', b'b', b'-', *b];
        let sub = dir
            .path()
            .join("srv")
            .join(std::ffi::OsStr::from_bytes(&bytes));
        std::fs::create_dir_all(&sub).unwrap();
        // Each its own content (a copy would be read once).
        let mut data = log.clone();
        data.extend_from_slice(format!("10.0.0.{n} - - [03/Nov/2024:06:09:40 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"x\" \"-\"\n").as_bytes());
        std::fs::write(sub.join("access.log"), data).unwrap();
    }
    let j = json(&["-o", "json", dir.path().join("srv").to_str().unwrap()]);
    let hosts: std::collections::BTreeSet<String> = j["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["host"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(hosts.len(), 4, "{hosts:?}");
    assert!(
        j["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["host_from"] == "path"),
        "{j}"
    );
    assert!(hosts.contains("web-\\xF0"), "{hosts:?}");
    // Run from a directory named like a host, on a bare file name.
    let clone = dir.path().join("web-clone");
    std::fs::create_dir_all(&clone).unwrap();
    std::fs::write(clone.join("access.log"), &log).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_logburst"))
        .args(["-o", "json", "access.log"])
        .current_dir(&clone)
        .output()
        .unwrap();
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(j["inputs"][0]["host"], "web-clone", "{j}");
    assert_eq!(j["inputs"][0]["host_from"], "machine");
    assert!(
        j["notes"].to_string().contains("the path names no host"),
        "{}",
        j["notes"]
    );
}

/// Each input says which rule named its host.
#[test]
fn each_input_says_which_rule_named_its_host() {
    let j = json(&[
        "-o",
        "json",
        "fixtures/demo",
        "web-09=fixtures/formats/access-main.log",
    ]);
    let rule = |suffix: &str| {
        j["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["path"].as_str().unwrap().ends_with(suffix))
            .unwrap()["host_from"]
            .clone()
    };
    assert_eq!(rule("web-01/access.log"), "path");
    assert_eq!(rule("kern.log"), "line");
    assert_eq!(rule("access-main.log"), "label");
}

/// Many small files decided from their heads alone: identical ones are
/// read once, one whose whole content starts another is not read, the
/// others are all read (the search is sorted, not pairwise).
#[test]
fn many_small_files_are_told_apart_by_their_heads() {
    let dir = tempfile::tempdir().unwrap();
    let line = |k: u32| {
        format!(
            "10.0.{}.{} - - [02/Feb/2023:07:{:02}:{:02} +0300] \"GET /{k} HTTP/1.1\" 200 1 \"-\" \"x\"\n",
            k / 256 % 256,
            k % 256,
            k / 60 % 60,
            k % 60
        )
    };
    // 2,000 distinct one-line files, 1,000 copies of file 0, and file 1
    // again with a second line after its first (file 1 is its start).
    for k in 0..2000u32 {
        write(dir.path(), &format!("web/a{k:05}.log"), line(k).as_bytes());
    }
    for k in 0..1000u32 {
        write(dir.path(), &format!("web/b{k:05}.log"), line(0).as_bytes());
    }
    let grown = format!("{}{}", line(1), line(5000));
    write(dir.path(), "web/c.log", grown.as_bytes());
    let j = json(&["-o", "json", dir.path().to_str().unwrap()]);
    assert_eq!(
        j["inputs"].as_array().unwrap().len(),
        2000,
        "{}",
        j["totals"]
    );
    assert_eq!(j["totals"]["requests"], 2001);
    let w = warnings(&j);
    assert!(w.contains("b00999.log holds the same content"), "{w}");
    assert!(
        w.contains("a00001.log holds this input's first lines"),
        "{w}"
    );
}
