//! `--save-summary` and `logburst merge`: each host summarises its own logs
//! and one merge finds the fleet's incidents, exactly as one run over every
//! host's logs would (README, Scale-out).

use crate::common;

use std::path::Path;
use std::process::Command;

use common::{burst_access, fixture, logburst, write};

/// Three hosts' logs under `dir/archive/`: the demo's web-01 (gzip-rotated
/// access log, kernel log with OOM kills) and two generated ones.
fn fleet(dir: &Path) {
    for name in ["access.log", "access.log.1.gz", "kern.log"] {
        let data = std::fs::read(fixture(&format!("demo/web-01/{name}"))).unwrap();
        write(dir, &format!("archive/web-01/{name}"), &data);
    }
    write(
        dir,
        "archive/web-02/access.log",
        burst_access(1800, 600..700).as_bytes(),
    );
    write(
        dir,
        "archive/web-03/access.log",
        burst_access(1800, 1500..1530).as_bytes(),
    );
}

fn sh(dir: &Path, script: &str) -> (i32, String, String) {
    let o = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("LOGBURST", env!("CARGO_BIN_EXE_logburst"))
        .output()
        .expect("run sh");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn has_parallel() -> bool {
    Command::new("parallel")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The README's recipe, run as written (with GNU parallel when installed).
#[test]
fn per_host_summaries_merge_to_the_one_run_output() {
    let dir = tempfile::tempdir().unwrap();
    fleet(dir.path());
    let (code, one, err) = sh(dir.path(), r#""$LOGBURST" -o json archive/web-*"#);
    assert_eq!(code, 0, "{err}");

    let summarise = if has_parallel() {
        r#"mkdir -p summaries && ls -d archive/web-* | parallel -j 2 "$LOGBURST" -q --save-summary summaries/{/}.json.zst {} '>' /dev/null"#
    } else {
        eprintln!(
            "GNU parallel is not installed: the recipe's per-host runs are made one after another"
        );
        r#"mkdir -p summaries && for d in archive/web-*; do "$LOGBURST" -q --save-summary "summaries/$(basename "$d").json.zst" "$d" > /dev/null || exit 1; done"#
    };
    let (code, _, err) = sh(dir.path(), summarise);
    assert_eq!(code, 0, "{err}");
    let (code, merged, err) = sh(
        dir.path(),
        r#""$LOGBURST" merge -o json summaries/*.json.zst"#,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(merged, one, "merge differs from one run");

    // The outage of each host is there: the fleet view was really built.
    let j: serde_json::Value = serde_json::from_str(&merged).unwrap();
    let hosts: Vec<String> = j["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["hosts"].as_array().unwrap().iter())
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    for h in ["web-01", "web-02", "web-03"] {
        assert!(hosts.iter().any(|x| x == h), "{h} missing in {hosts:?}");
    }
    assert_eq!(j["inputs"].as_array().unwrap().len(), 5);
}

/// `merge --since/--until` cut only the rare events: every request of the
/// summaries was still counted (24,042 for the 741 of the window). The
/// window, written with or without its zone, cuts a merge as it cuts a
/// read.
#[test]
fn merge_cuts_by_since_and_until_as_a_read_does() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("demo.json");
    let r = logburst(&[
        "-q",
        "--save-summary",
        summary.to_str().unwrap(),
        "fixtures/demo",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let totals = |args: &[&str]| {
        let r = logburst(args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        j["totals"].clone()
    };
    let window = [
        "--since",
        "2023-02-02 07:05",
        "--until",
        "2023-02-02T07:10:00+03:00",
    ];
    let mut read = vec!["-o", "json"];
    read.extend(window);
    read.push("fixtures/demo");
    let mut merged = vec!["merge", "-o", "json"];
    merged.extend(window);
    merged.push(summary.to_str().unwrap());
    let (read, merged) = (totals(&read), totals(&merged));
    assert_eq!(merged, read);
    let n = read["requests"].as_u64().unwrap();
    assert!(n > 100 && n < 24_042, "{read}");
}

#[test]
fn merge_refuses_what_is_not_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let log = fixture("demo/web-01/access.log");
    let r = logburst(&["merge", log.as_str()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a logburst summary"), "{}", r.stderr);

    let missing = dir.path().join("nope.json");
    let r = logburst(&["merge", missing.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("nope.json"), "{}", r.stderr);

    let s = dir.path().join("s.json");
    let r = logburst(&[
        "-q",
        "--save-summary",
        s.to_str().unwrap(),
        &fixture("demo"),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&s).unwrap();
    let cut = dir.path().join("cut.json");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let r = logburst(&["merge", cut.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("damaged summary"), "{}", r.stderr);

    let r = logburst(&["merge", "--log-format", "combined", s.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--log-format applies only while logs are read"),
        "{}",
        r.stderr
    );
}

#[test]
fn merge_is_a_command_of_its_own() {
    // Its help is about summaries, whichever way it is asked for.
    for args in [&["merge", "--help"][..], &["help", "merge"][..]] {
        let r = logburst(args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert!(
            r.stdout
                .contains("Usage: logburst merge [OPTIONS] [SUMMARY]..."),
            "{}",
            r.stdout
        );
        assert!(r.stdout.contains("--save-summary"), "{}", r.stdout);
        assert!(r.stdout.contains("--series <FILE>"), "{}", r.stdout);
        // The options that only apply while logs are read are not offered.
        assert!(!r.stdout.contains("--log-format <NAME>"), "{}", r.stdout);
        assert!(!r.stdout.contains("--mmap <WHEN>"), "{}", r.stdout);
    }
    // `help` alone is the main help, not a log called "help".
    let r = logburst(&["help"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("Usage: logburst [OPTIONS] <PATH>..."),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("--series"), "{}", r.stdout);
    // Errors name the command the user typed.
    let r = logburst(&["merge", "--no-such-flag"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("Usage: logburst merge"), "{}", r.stderr);
    assert!(!r.stderr.contains("--merge"), "{}", r.stderr);
    let r = logburst(&["merge"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("merge: give the summaries to merge, or --series FILE"),
        "{}",
        r.stderr
    );
    // Cron mode is for logs: refused with the reason, not run on summaries.
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let r = logburst(&["merge", "--state", state.to_str().unwrap(), "a.json"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--state applies only while logs are read"),
        "{}",
        r.stderr
    );
    assert!(!state.exists());
}

/// What is given as a summary, cron state or nginx.conf is read only when
/// it is a regular file, and only up to a size: a device, a FIFO, a
/// directory or a decompression bomb is refused with a message before it
/// fills memory.
#[test]
fn summaries_states_and_confs_are_read_within_limits() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log = write(d, "web-01/access.log", burst_access(120, 0..0).as_bytes());
    let log = log.to_str().unwrap();
    // A gzip that inflates to 8 MiB, refused under a 1 MiB limit (the
    // default is 128 MiB; the bench measures it on 3 GB).
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..8 {
        std::io::Write::write_all(&mut gz, &chunk).unwrap();
    }
    let bomb = write(d, "bomb.json.gz", &gz.finish().unwrap());
    let bomb = bomb.to_str().unwrap();
    let r = logburst(&["merge", "--max-summary-size", "1M", bomb]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("more than 1 MiB once decompressed: larger than a summary logburst reads; if it is one, give --max-summary-size with a larger size"),
        "{}",
        r.stderr
    );
    // Under a larger limit it is read, and is no summary.
    let r = logburst(&["merge", "--max-summary-size", "16M", bomb]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not JSON"), "{}", r.stderr);
    // Devices, FIFOs and directories.
    let fifo = d.join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let fifo = fifo.to_str().unwrap();
    let dir_arg = d.to_str().unwrap();
    for (path, kind) in [
        ("/dev/zero", "a device"),
        (fifo, "a FIFO"),
        (dir_arg, "a directory"),
    ] {
        let r = logburst(&["merge", path]);
        assert_eq!(r.code, 2, "{path}");
        assert!(
            r.stderr
                .contains(&format!("{path} is {kind}, not a summary")),
            "{}",
            r.stderr
        );
        let r = logburst(&["--state", path, log]);
        assert_eq!(r.code, 2, "{path}");
        assert!(
            r.stderr.contains(&format!("is {kind}, not a state file")),
            "{}",
            r.stderr
        );
        let r = logburst(&["--nginx-conf", path, log]);
        assert_eq!(r.code, 2, "{path}");
        assert!(
            r.stderr
                .contains(&format!("is {kind}, not a configuration")),
            "{}",
            r.stderr
        );
    }
    // Bad sizes are usage errors.
    let r = logburst(&["merge", "--max-summary-size", "lots", bomb]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("'lots' is not a size"), "{}", r.stderr);
}

/// Outputs never write over an input (the same file, however named), a
/// device or a directory; `--save-summary -` writes the summary to
/// standard output, where `merge` can take it from.
#[test]
fn outputs_never_write_over_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log = write(
        d,
        "web-01/access.log",
        burst_access(600, 100..200).as_bytes(),
    );
    let before = std::fs::read(&log).unwrap();
    let l = log.to_str().unwrap();
    let dir_arg = d.to_str().unwrap();
    // By its name, and reached through the directory given.
    for (flag, input) in [
        ("--save-summary", l),
        ("--html", l),
        ("--save-summary", dir_arg),
    ] {
        let r = logburst(&["-q", flag, l, input]);
        assert_eq!(r.code, 2, "{flag} {input}");
        assert!(
            r.stderr.contains("it is one of the inputs") && r.stderr.contains("give another path"),
            "{}",
            r.stderr
        );
        assert_eq!(std::fs::read(&log).unwrap(), before);
    }
    for (path, kind) in [("/dev/null", "a device"), (dir_arg, "a directory")] {
        let r = logburst(&["-q", "--html", path, l]);
        assert_eq!(r.code, 2);
        assert!(
            r.stderr.contains(&format!("--html {path}: it is {kind}")),
            "{}",
            r.stderr
        );
    }
    // merge: its summaries are its inputs.
    let s = d.join("s.json");
    let s = s.to_str().unwrap();
    assert_eq!(logburst(&["-q", "--save-summary", s, l]).code, 0);
    let r = logburst(&["merge", "--html", s, s]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("it is one of the inputs"), "{}", r.stderr);
    // To standard output: the summary alone, which merge reads back.
    let r = logburst(&["-q", "--save-summary", "-", l]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("{\"schema\":\"logburst-summary/1\""),
        "{}",
        &r.stdout[..80.min(r.stdout.len())]
    );
    let piped = write(d, "piped.json", r.stdout.as_bytes());
    let a = logburst(&["merge", "-o", "json", piped.to_str().unwrap()]).json();
    let b = logburst(&["-o", "json", l]).json();
    assert_eq!(a["incidents"], b["incidents"]);
    assert_eq!(a["totals"], b["totals"]);
}
