//! Pipes and SQL engines (README, Scale-out): a summary piped into
//! `logburst merge -`, and a pre-aggregated series written by DuckDB's
//! `GROUP BY host, second` (the query in `examples/sql/duckdb-clf.sql`,
//! run by a real DuckDB) finding the incidents the raw logs give.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::{logburst, logburst_stdin, root, write};
use serde_json::Value;

/// `--save-summary -` piped into `merge -`, with summaries from files
/// after it: byte for byte the JSON of one run over the same inputs in the
/// same order.
#[test]
fn a_summary_piped_into_merge_is_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let piped = logburst(&["-q", "--save-summary", "-", "fixtures/fleet/web-02"]);
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    let mut files = Vec::new();
    for host in ["web-01", "web-03"] {
        let out = dir.path().join(format!("{host}.json.zst"));
        let r = logburst(&[
            "-q",
            "--save-summary",
            out.to_str().unwrap(),
            &format!("fixtures/fleet/{host}"),
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        files.push(out.to_str().unwrap().to_string());
    }
    let mut args = vec!["merge", "-o", "json", "-"];
    args.extend(files.iter().map(String::as_str));
    let merged = logburst_stdin(&args, piped.stdout.as_bytes());
    assert_eq!(merged.code, 0, "{}", merged.stderr);
    let one = logburst(&[
        "-o",
        "json",
        "fixtures/fleet/web-02",
        "fixtures/fleet/web-01",
        "fixtures/fleet/web-03",
    ]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert_eq!(merged.stdout, one.stdout);
}

#[test]
fn merge_refuses_what_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let twice = logburst_stdin(&["merge", "-", "-"], b"");
    assert_eq!(twice.code, 2);
    assert!(
        twice.stderr.contains("standard input (-) given twice"),
        "{}",
        twice.stderr
    );
    let none = logburst(&["merge"]);
    assert_eq!(none.code, 2);
    assert!(
        none.stderr
            .contains("give the summaries to merge, or --series FILE"),
        "{}",
        none.stderr
    );
    let not_merge = logburst(&["--series", "x.csv", "fixtures/fleet"]);
    assert_eq!(not_merge.code, 2);
    assert!(
        not_merge
            .stderr
            .contains("--series is read by `logburst merge"),
        "{}",
        not_merge.stderr
    );
    // Not a series: the header says what is missing.
    let bad = write(
        dir.path(),
        "bad.csv",
        b"host,ts,requests,errors\nweb,1,2,0\n",
    );
    let r = logburst(&["merge", "--series", bad.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("no `time` column (it has host,ts,requests,errors)"),
        "{}",
        r.stderr
    );
    // Rows that do not read are counted and shown, as a log's lines are.
    let rows = write(
        dir.path(),
        "rows.csv",
        b"host,time,requests,errors\nweb,2023-02-02 07:00:00,10,1\nweb,2023-02-02 07:00:01,1,5\nweb,soon,1,0\n",
    );
    let r = logburst(&["merge", "-o", "json", "--series", rows.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let input = &r.json()["inputs"][0];
    assert_eq!(
        (input["lines"].as_u64(), input["parsed"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(input["malformed_lines"][0]["line"], 3);
    assert_eq!(input["understood"], true);
    // Standard input read within the limit, like a file.
    let big = logburst_stdin(
        &["merge", "--max-summary-size", "1K", "-"],
        &vec![b' '; 4096],
    );
    assert_eq!(big.code, 2);
    assert!(
        big.stderr.contains("standard input: more than"),
        "{}",
        big.stderr
    );
}

/// Runs the repository's DuckDB query over `fixtures/fleet`, truncating to
/// `unit`, into `out`.
fn duckdb_series(python: &str, unit: &str, out: &Path) {
    let sql = std::fs::read_to_string(root().join("examples/sql/duckdb-clf.sql")).unwrap();
    let sql = sql
        .replace("'archive/", "'fixtures/fleet/")
        .replace("date_trunc('second'", &format!("date_trunc('{unit}'"));
    let script = "import duckdb, sys\nduckdb.sql(sys.argv[1]).write_csv(sys.argv[2])\n";
    let o = Command::new(python)
        .args(["-c", script, &sql, out.to_str().unwrap()])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// What an incident is, to compare a series' with the raw logs': kind,
/// hosts, start, detection, end (as instants), requests, 5xx, statuses.
fn incidents(j: &Value) -> Vec<(String, Value, [i64; 3], Value, Value, Value)> {
    let instant = |v: &Value| {
        v.as_str().map_or(0, |s| {
            chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
        })
    };
    j["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_string(),
                i["hosts"].clone(),
                [
                    instant(&i["start"]),
                    instant(&i["detected"]),
                    instant(&i["end"]),
                ],
                i["requests"].clone(),
                i["errors"].clone(),
                i["status_counts"].clone(),
            )
        })
        .collect()
}

/// The fleet read raw, and as DuckDB's per-second and per-minute series
/// merged with the kernel log's summary (an SQL engine counts requests;
/// the OOM kill that caused the burst comes from the host's own summary).
#[test]
fn duckdb_series_find_the_incidents_the_logs_give() {
    let Some(python) = common::python_with("duckdb") else {
        eprintln!(
            "sql_series: skipped: no Python with DuckDB (pip install duckdb; .ci/run installs it)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let raw = logburst(&["-o", "json", "fixtures/fleet"]);
    assert_eq!(raw.code, 0, "{}", raw.stderr);
    let raw = raw.json();
    let kern = dir.path().join("kern.json");
    let r = logburst(&[
        "-q",
        "--save-summary",
        kern.to_str().unwrap(),
        "fixtures/fleet/web-02/kern.log",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let want = incidents(&raw);
    assert_eq!(want.len(), 2, "{want:?}");
    for unit in ["second", "minute"] {
        let csv = dir.path().join(format!("{unit}.csv"));
        duckdb_series(&python, unit, &csv);
        let r = logburst(&[
            "merge",
            "-o",
            "json",
            "--series",
            csv.to_str().unwrap(),
            kern.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let j = r.json();
        assert_eq!(j["totals"], raw["totals"], "{unit}");
        let got = incidents(&j);
        assert_eq!(got.len(), want.len(), "{unit}: {got:?}");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(
                (&g.0, &g.1, &g.3, &g.4, &g.5),
                (&w.0, &w.1, &w.3, &w.4, &w.5),
                "{unit}"
            );
            // Per second: the same instants. Per minute: within the
            // minute (README, Scale-out).
            let tolerance = if unit == "second" { 0 } else { 59 };
            for k in 0..3 {
                assert!(
                    (g.2[k] - w.2[k]).abs() <= tolerance,
                    "{unit}: {g:?} against {w:?}"
                );
            }
        }
        let cause = &j["incidents"][0]["probable_cause"];
        assert_eq!(cause, &raw["incidents"][0]["probable_cause"], "{unit}");
        // The summaries first, then the series.
        let series = &j["inputs"][1];
        assert_eq!(series["format"], format!("series per {unit} (CSV)"));
        let notes = series["warnings"].to_string();
        assert_eq!(
            notes.contains("read per minute"),
            unit == "minute",
            "{notes}"
        );
    }
}
