//! `--state`: a day of cron runs every five minutes over logs that grow,
//! rotate (rename, compression of the rotated file, copytruncate) and hold
//! half-written lines, against one run over the whole day.

use crate::common;

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use common::{logburst, Run};
use serde_json::Value;

const DAY: i64 = 1_675_296_000; // 2023-02-02T00:00:00Z

fn hms(t: i64) -> (i64, i64, i64) {
    let s = t - DAY;
    (s / 3600, s / 60 % 60, s % 60)
}

fn access_line(t: i64, status: u16) -> String {
    let (h, m, s) = hms(t);
    format!(
        "10.1.{}.{} - - [02/Feb/2023:{h:02}:{m:02}:{s:02} +0000] \"GET /api/items/{} HTTP/1.1\" {status} 512 \"-\" \"curl/8\"\n",
        t % 7,
        t % 250,
        t % 1000
    )
}

fn kern_line(t: i64, msg: &str) -> String {
    let (h, m, s) = hms(t);
    format!("2023-02-02T{h:02}:{m:02}:{s:02}.000000+00:00 web-01 {msg}\n")
}

fn kill_line(t: i64, pid: u32) -> String {
    kern_line(
        t,
        &format!("kernel: [ 1000.000000] Out of memory: Killed process {pid} (python3) total-vm:4049380kB, anon-rss:3515625kB, file-rss:2816kB, shmem-rss:0kB, UID:33 pgtables:6996kB oom_score_adj:0"),
    )
}

/// Seconds (from midnight) of each burst: half the requests fail.
const BURSTS: &[(i64, i64)] = &[
    (2 * 3600 + 600, 2 * 3600 + 840), // 02:10–02:14, from a run's first second
    (7 * 3600 + 3420, 8 * 3600 + 360), // 07:57–08:06, across the rename
    (11 * 3600, 11 * 3600 + 2400),    // 11:00–11:40, across eight runs
    (15 * 3600 + 3480, 16 * 3600 + 180), // 15:58–16:03, across the copytruncate
    (23 * 3600 + 3000, 23 * 3600 + 3360), // 23:50–23:56
];
/// No requests at all: a traffic gap.
const SILENCE: (i64, i64) = (19 * 3600, 19 * 3600 + 1200);
/// OOM kills: one before the long burst, one with no burst.
const KILLS: &[(i64, u32)] = &[(10 * 3600 + 3590, 4242), (13 * 3600, 5151)];

/// A log's lines with their instants, in time order.
type Log = Vec<(i64, String)>;

/// Every line of the day: the access log and the kernel log.
fn day() -> (Log, Log) {
    let mut access = Vec::new();
    for s in 0..86_400 {
        if (SILENCE.0..SILENCE.1).contains(&s) {
            continue;
        }
        let bad = BURSTS.iter().any(|(a, b)| (*a..*b).contains(&s)) && s % 2 == 0;
        access.push((DAY + s, access_line(DAY + s, if bad { 502 } else { 200 })));
    }
    let mut kern = Vec::new();
    for s in (0..86_400).step_by(600) {
        kern.push((
            DAY + s,
            kern_line(DAY + s, "systemd[1]: Started Session of user web."),
        ));
    }
    for (s, pid) in KILLS {
        kern.push((DAY + s, kill_line(DAY + s, *pid)));
    }
    kern.sort();
    (access, kern)
}

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// Lines of `log` from `*next` with instants before `until`, as one text.
fn take(log: &[(i64, String)], next: &mut usize, until: i64) -> String {
    let mut out = String::new();
    while *next < log.len() && log[*next].0 < until {
        out.push_str(&log[*next].1);
        *next += 1;
    }
    out
}

fn gzip(from: &Path, to: &Path) {
    let data = fs::read(from).unwrap();
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(&data).unwrap();
    fs::write(to, z.finish().unwrap()).unwrap();
    fs::remove_file(from).unwrap();
}

fn run_json(r: &Run) -> Value {
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json()
}

fn sum_inputs(j: &Value, field: &str) -> u64 {
    j["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[field].as_u64().unwrap())
        .sum()
}

#[test]
fn a_day_of_cron_runs_equals_one_run_over_the_day() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("web-01");
    fs::create_dir_all(&logs).unwrap();
    let state = dir.path().join("state.json");
    let (access, kern) = day();
    let (a, k) = (logs.join("access.log"), logs.join("kern.log"));
    let (mut na, mut nk) = (0, 0);
    // The second half of a line written only in part by the previous tick.
    let mut pending = String::new();

    let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
    let mut lines = 0;
    let mut incidents: BTreeMap<(String, String), Value> = BTreeMap::new();
    let mut new_count = 0;
    for tick in 1..=288 {
        let t = DAY + tick * 300;
        let to_access = |text: &str, path: &Path| append(path, text);
        // Lines of the first half of the five minutes.
        let first = pending.clone() + &take(&access, &mut na, t - 150);
        pending.clear();
        to_access(&first, &a);
        append(&k, &take(&kern, &mut nk, t - 150));
        match tick {
            // 08:00: rename; nginx writes on in the renamed file for a
            // minute before it reopens its log.
            96 => {
                fs::rename(&a, logs.join("access.log.1")).unwrap();
                to_access(&take(&access, &mut na, t - 90), &logs.join("access.log.1"));
            }
            // 08:05: a last late line in access.log.1, then it is compressed
            // (delaycompress) before this run reads it.
            97 => {
                to_access(&take(&access, &mut na, t - 149), &logs.join("access.log.1"));
                gzip(&logs.join("access.log.1"), &logs.join("access.log.2.gz"));
            }
            // 12:30: kern.log renamed.
            150 => fs::rename(&k, logs.join("kern.log.1")).unwrap(),
            // 16:00: copytruncate, with unread lines in the copy.
            192 => {
                fs::copy(&a, logs.join("access.log.1")).unwrap();
                fs::write(&a, b"").unwrap();
            }
            _ => {}
        }
        to_access(&take(&access, &mut na, t), &a);
        append(&k, &take(&kern, &mut nk, t));
        // Half of the next line, still being written when cron fires.
        if tick < 288 && tick % 7 == 0 && na < access.len() {
            let line = access[na].1.clone();
            na += 1;
            let (head, tail) = line.split_at(line.len() / 2);
            append(&a, head);
            pending = tail.to_string();
        }

        let r = logburst(&[
            "--state",
            state.to_str().unwrap(),
            "--exit-code",
            "-o",
            "json",
            logs.to_str().unwrap(),
        ]);
        assert!(r.code == 0 || r.code == 1, "tick {tick}: {}", r.stderr);
        let j = r.json();
        for f in ["requests", "errors", "oom_kills"] {
            *totals.entry(f).or_default() += j["totals"][f].as_u64().unwrap();
        }
        lines += sum_inputs(&j, "lines");
        assert_eq!(sum_inputs(&j, "malformed"), 0, "tick {tick}: {j}");
        let any_new = record(tick, &j, &mut incidents, &mut new_count);
        assert_eq!(r.code, i32::from(any_new), "tick {tick}: exit code");
    }
    assert_eq!(na, access.len());
    assert_eq!(nk, kern.len());

    let whole = run_json(&logburst(&["-o", "json", logs.to_str().unwrap()]));
    assert_eq!(
        lines,
        (access.len() + kern.len()) as u64,
        "a line read twice or lost"
    );
    assert_eq!(lines, sum_inputs(&whole, "lines"));
    for f in ["requests", "errors", "oom_kills"] {
        assert_eq!(
            totals[f],
            whole["totals"][f].as_u64().unwrap(),
            "totals.{f}"
        );
    }
    let reported_only_by_cron = same_incidents(&whole, incidents);
    let expected = whole["incidents"].as_array().unwrap().len();
    assert_eq!(new_count, expected + reported_only_by_cron);
}

/// Records the incidents one cron run reported: a `new` one never seen
/// before, any other seen before; whether one was new.
fn record(
    tick: i64,
    j: &Value,
    incidents: &mut BTreeMap<(String, String), Value>,
    new_count: &mut usize,
) -> bool {
    let mut any_new = false;
    for i in j["incidents"].as_array().unwrap() {
        let key = (
            i["kind"].as_str().unwrap().to_string(),
            i["start"].as_str().unwrap().to_string(),
        );
        if i["status"] == "new" {
            any_new = true;
            *new_count += 1;
            assert!(
                !incidents.contains_key(&key),
                "tick {tick}: reported twice: {key:?}"
            );
        } else {
            assert!(
                incidents.contains_key(&key),
                "tick {tick}: {} before new: {key:?}",
                i["status"]
            );
        }
        incidents.insert(key, i.clone());
    }
    any_new
}

/// Checks that the cron runs reported every incident of the one run over
/// the whole day as that run does, and that what they reported beyond them
/// is one lone OOM kill a later burst claimed as its cause; gives how many
/// such extra incidents there were.
fn same_incidents(whole: &Value, mut incidents: BTreeMap<(String, String), Value>) -> usize {
    let expected = whole["incidents"].as_array().unwrap();
    // Five bursts, the gap and the lone kill.
    assert_eq!(expected.len(), 7, "{whole}");
    for e in expected {
        let key = (
            e["kind"].as_str().unwrap().to_string(),
            e["start"].as_str().unwrap().to_string(),
        );
        let got = incidents
            .get(&key)
            .unwrap_or_else(|| panic!("not found by the cron runs: {key:?}"));
        for f in [
            "detected",
            "end",
            "peak",
            "errors",
            "requests",
            "hosts",
            "probable_cause",
            "status_counts",
        ] {
            assert_eq!(got[f], e[f], "{key:?}: {f}");
        }
        let kills = |v: &Value| {
            v["oom_kills"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["pid"].clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(kills(got), kills(e), "{key:?}: kills");
        // Open while the logs end less than window + cooldown after it.
        let last = e["end"].as_str().unwrap() < "2023-02-02T23:53:00";
        assert_eq!(got["open"], !last, "{key:?}: open");
        incidents.remove(&key);
    }
    // What cron reported beyond the day's incidents: only OOM kills reported
    // as they happened, before the burst that then named them its cause.
    for (key, i) in &incidents {
        assert_eq!(key.0, "oom", "reported by cron only: {key:?}");
        let pid = &i["oom_kills"][0]["pid"];
        assert!(
            expected.iter().any(|e| e["kind"] == "error-burst"
                && e["oom_kills"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| &k["pid"] == pid)),
            "{key:?} is not the cause of a later burst"
        );
    }
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    incidents.len()
}

fn lock_path(state: &Path) -> std::path::PathBuf {
    state.with_file_name("state.json.lock")
}

/// A temporary directory holding `web-01/access.log` with `text`: the
/// directory, the log and the state file's path beside it.
fn one_log(text: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("web-01/access.log");
    fs::create_dir_all(log.parent().unwrap()).unwrap();
    fs::write(&log, text).unwrap();
    let state = dir.path().join("state.json");
    (dir, log, state)
}

/// A cron run over `input` with `state`, in JSON.
fn cron_args<'a>(state: &'a Path, input: &'a Path) -> [&'a str; 5] {
    [
        "--state",
        state.to_str().unwrap(),
        "-o",
        "json",
        input.to_str().unwrap(),
    ]
}

#[test]
fn a_second_run_on_a_locked_state_stops_and_leaves_it_alone() {
    let text: String = (0..600).map(|s| access_line(DAY + s, 200)).collect();
    let (_dir, log, state) = one_log(&text);
    let args = cron_args(&state, &log);
    assert_eq!(logburst(&args).code, 0);
    let before = fs::read(&state).unwrap();
    append(&log, &access_line(DAY + 600, 500));

    // Another run holds the lock.
    let held = fs::File::open(lock_path(&state)).unwrap();
    held.try_lock().unwrap();
    let r = logburst(&args);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("another logburst run is using the state"),
        "{}",
        r.stderr
    );
    assert_eq!(
        fs::read(&state).unwrap(),
        before,
        "state changed under a lock"
    );
    drop(held);

    // Released: the line appended meanwhile is read, once.
    let j = run_json(&logburst(&args));
    assert_eq!(sum_inputs(&j, "lines"), 1);
    assert_eq!(j["totals"]["errors"], 1);
}

#[test]
fn concurrent_runs_never_read_a_line_twice() {
    let text: String = (0..86_400).map(|s| access_line(DAY + s, 200)).collect();
    let (_dir, log, state) = one_log(&text);
    let args = cron_args(&state, &log);
    // Four runs at once on a fresh state: those that get the lock read the
    // whole file between them, once; the others stop with a clear message.
    let spawned: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_logburst"))
                .args(args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut read = 0;
    for c in spawned {
        let o = c.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        match o.status.code() {
            Some(0) => {
                let j: Value = serde_json::from_slice(&o.stdout).unwrap();
                read += sum_inputs(&j, "lines");
            }
            Some(2) => assert!(stderr.contains("another logburst run"), "{stderr}"),
            other => panic!("exit {other:?}: {stderr}"),
        }
    }
    assert_eq!(read, 86_400, "lines read by the runs that went ahead");
    let j = run_json(&logburst(&args));
    assert_eq!(sum_inputs(&j, "lines"), 0);
}

#[test]
fn a_foreign_or_damaged_state_is_refused_with_a_way_out() {
    let (_dir, log, state) = one_log(&access_line(DAY, 200));
    // A damaged state of ours: --reset-state is the way out. A file of
    // another kind: another path is (--reset-state refuses to replace it).
    for (bad, way_out) in [
        (&b"not json"[..], "give another --state path"),
        (
            b"{\"schema\":\"logburst-state/1\",\"files\":3}",
            "--reset-state",
        ),
        (b"{\"x\":1}", "give another --state path"),
    ] {
        fs::write(&state, bad).unwrap();
        let r = logburst(&["--state", state.to_str().unwrap(), log.to_str().unwrap()]);
        assert_eq!(r.code, 2);
        assert!(r.stderr.contains(way_out), "{}", r.stderr);
        assert!(r.stderr.contains("state.json"), "{}", r.stderr);
        assert_eq!(
            fs::read(&state).unwrap(),
            bad,
            "a bad state was overwritten"
        );
    }
    // The last one ({"x":1}) is not ours: --reset-state leaves it.
    let r = logburst(&[
        "--state",
        state.to_str().unwrap(),
        "--reset-state",
        log.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2);
    assert_eq!(fs::read(&state).unwrap(), b"{\"x\":1}");
    fs::write(&state, b"{\"schema\":\"logburst-state/1\",\"files\":3}").unwrap();
    let args = [
        "--state",
        state.to_str().unwrap(),
        "--reset-state",
        "-o",
        "json",
        log.to_str().unwrap(),
    ];
    let j = run_json(&logburst(&args));
    assert_eq!(sum_inputs(&j, "lines"), 1);
    // Standard input has nowhere to resume from.
    let r = logburst(&["--state", state.to_str().unwrap(), "-"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("standard input"), "{}", r.stderr);
}

#[test]
fn a_vanished_input_is_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("web-01");
    fs::create_dir_all(&logs).unwrap();
    fs::write(logs.join("access.log"), access_line(DAY, 200)).unwrap();
    fs::write(logs.join("old.log"), access_line(DAY + 1, 200)).unwrap();
    let state = dir.path().join("state.json");
    let args = cron_args(&state, &logs);
    assert_eq!(sum_inputs(&run_json(&logburst(&args)), "lines"), 2);
    fs::remove_file(logs.join("old.log")).unwrap();
    let j = run_json(&logburst(&args));
    let notes = j["notes"].to_string();
    assert!(notes.contains("old.log: no longer found"), "{notes}");
    // Reported once, then forgotten.
    let j = run_json(&logburst(&args));
    assert!(
        !j["notes"].to_string().contains("old.log"),
        "{}",
        j["notes"]
    );
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_keeps_its_place() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, log, state) = one_log(&access_line(DAY, 200));
    let args = cron_args(&state, &log);
    assert_eq!(sum_inputs(&run_json(&logburst(&args)), "lines"), 1);
    append(&log, &access_line(DAY + 1, 200));
    fs::set_permissions(&log, fs::Permissions::from_mode(0o000)).unwrap();
    if fs::File::open(&log).is_ok() {
        eprintln!("running as root: permissions do not stop reading; skipped");
        return;
    }
    let r = logburst(&args);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("access.log"), "{}", r.stderr);
    fs::set_permissions(&log, fs::Permissions::from_mode(0o644)).unwrap();
    let j = run_json(&logburst(&args));
    assert_eq!(sum_inputs(&j, "lines"), 1, "read on from where it stopped");
}

/// The README's morning report, run as written: the demo's logs laid out as
/// on a server (`/var/log/nginx/`, `/var/log/kern.log`), the command copied
/// from the README block, its output compared line by line up to the
/// block's `…`, the exit code it shows, and the second run's words.
#[test]
fn readme_morning_report_is_what_the_command_prints() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let start = readme
        .find("```text\n$ logburst --state ")
        .expect("the morning report block")
        + "```text\n$ ".len();
    let end = start + readme[start..].find("```").unwrap();
    let block: Vec<&str> = readme[start..end].lines().collect();
    let args: Vec<&str> = block[0].split_whitespace().skip(1).collect();
    let shown = &block[1..block.iter().position(|l| l.trim() == "…").unwrap()];
    let code: i32 = block[block.iter().position(|l| *l == "$ echo $?").unwrap() + 1]
        .parse()
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let demo = common::root().join("fixtures/demo/web-01");
    std::fs::create_dir_all(dir.path().join("var/log/nginx")).unwrap();
    for f in ["access.log", "access.log.1.gz"] {
        std::fs::copy(demo.join(f), dir.path().join("var/log/nginx").join(f)).unwrap();
    }
    std::fs::copy(demo.join("kern.log"), dir.path().join("var/log/kern.log")).unwrap();
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_logburst"))
            .args(&args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let first = run();
    let out = String::from_utf8_lossy(&first.stdout);
    let printed: Vec<&str> = out.lines().take(shown.len()).collect();
    assert_eq!(
        printed, shown,
        "the README's morning report is stale; the command now prints:\n{out}"
    );
    assert_eq!(first.status.code(), Some(code));
    let again = run();
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("No new incident since the last run"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    assert_eq!(again.status.code(), Some(0));
}

/// `--state` and `--reset-state` write only over a state of logburst's
/// own: a log, a device or a directory given as the state is refused and
/// left as it was, with nothing written beside it.
#[test]
fn the_state_is_written_only_over_a_state() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log = d.join("access.log");
    fs::write(&log, access_line(0, 200) + &access_line(1, 500)).unwrap();
    let other = d.join("other.log");
    fs::copy(&log, &other).unwrap();
    let (l, o) = (log.to_str().unwrap(), other.to_str().unwrap());
    let before = fs::read(&log).unwrap();
    for reset in [false, true] {
        let mut args = vec!["-q", "--state", l, o];
        if reset {
            args.insert(1, "--reset-state");
        }
        let r = logburst(&args);
        assert_eq!(r.code, 2, "{args:?}");
        assert!(
            r.stderr
                .contains("not a logburst state file: it is not JSON"),
            "{}",
            r.stderr
        );
        assert!(
            r.stderr.contains("give another --state path"),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains("run with --reset-state"), "{}", r.stderr);
        assert_eq!(fs::read(&log).unwrap(), before);
    }
    for (path, kind) in [
        ("/dev/null", "a device"),
        (d.to_str().unwrap(), "a directory"),
    ] {
        let r = logburst(&["-q", "--reset-state", "--state", path, o]);
        assert_eq!(r.code, 2, "{path}");
        assert!(
            r.stderr
                .contains(&format!("{path} is {kind}, not a state file")),
            "{}",
            r.stderr
        );
    }
    {
        use std::os::unix::fs::FileTypeExt;
        assert!(fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device());
    }
    // Nothing was made beside them: no lock, no temporary file.
    let mut names: Vec<String> = fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["access.log", "other.log"]);
    // A state of ours, even damaged, is started over by --reset-state.
    let state = d.join("state.json");
    let s = state.to_str().unwrap();
    assert_eq!(logburst(&["-q", "--state", s, o]).code, 0);
    fs::write(&state, b"{\"schema\":\"logburst-state/1\",\"trunc").unwrap();
    let r = logburst(&["-q", "--state", s, o]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--reset-state"), "{}", r.stderr);
    assert_eq!(logburst(&["-q", "--reset-state", "--state", s, o]).code, 0);
}

/// The state's own files: a `--state` that is a symbolic link is written
/// at its target (the link stays a link), temporary files a killed run
/// left are removed once the lock is held, and a lone OOM kill in a quiet
/// kern.log is over once its cooldown has passed on the clock, not
/// "still going on" run after run.
#[test]
fn links_stale_temporaries_and_a_lone_kill() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let kern = d.join("web-01/kern.log");
    fs::create_dir_all(kern.parent().unwrap()).unwrap();
    fs::write(&kern, kill_line(DAY + 3600, 4242)).unwrap();
    fs::create_dir(d.join("states")).unwrap();
    let target = d.join("states/state.json");
    let link = d.join("state.json");
    std::os::unix::fs::symlink("states/state.json", &link).unwrap();
    // What runs killed while writing left (and a file that only looks so).
    fs::write(d.join("states/state.json.tmp-41"), b"{").unwrap();
    fs::write(d.join("states/state.json.tmp-notapid"), b"{").unwrap();
    for run in 0..2 {
        let j = run_json(&logburst(&cron_args(&link, &kern)));
        if run == 0 {
            let inc = &j["incidents"][0];
            assert_eq!(inc["kind"], "oom", "{j}");
            assert_eq!(inc["status"], "new");
            assert_eq!(inc["open"], false, "{inc}");
        } else {
            // Reported once: not again as still going on.
            assert_eq!(j["incidents"], serde_json::json!([]), "{j}");
        }
    }
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(fs::metadata(&target).unwrap().is_file());
    assert!(!d.join("states/state.json.tmp-41").exists());
    assert!(d.join("states/state.json.tmp-notapid").exists());
    assert!(d.join("states/state.json.lock").exists());
}
