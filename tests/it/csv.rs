//! `--output csv`: per-host, per-minute requests and 5xx.

use crate::common;

use common::{fixture, logburst, write};

fn rows(stdout: &str) -> Vec<Vec<String>> {
    stdout
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn minutes_add_up_to_the_totals() {
    let csv = logburst(&["-o", "csv", &fixture("demo")]);
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    let json = logburst(&["-o", "json", &fixture("demo")]).json();
    let header = csv.stdout.lines().next().unwrap();
    assert_eq!(
        header,
        "minute,host,requests,errors_5xx,status_500,status_502,status_503,status_504,other_5xx"
    );
    let rows = rows(&csv.stdout);
    let n = |r: &Vec<String>, i: usize| r[i].parse::<u64>().unwrap();
    let requests: u64 = rows.iter().map(|r| n(r, 2)).sum();
    let errors: u64 = rows.iter().map(|r| n(r, 3)).sum();
    assert_eq!(requests, json["totals"]["requests"].as_u64().unwrap());
    assert_eq!(errors, json["totals"]["errors"].as_u64().unwrap());
    for r in &rows {
        // The classes add up to the 5xx of the minute.
        assert_eq!((4..9).map(|i| n(r, i)).sum::<u64>(), n(r, 3), "{r:?}");
        assert_eq!(r[1], "web-01");
    }
    // Minutes in order, in the log's offset; the burst's statuses where the
    // incident says they are.
    assert!(rows.windows(2).all(|w| w[0][0] < w[1][0]));
    assert!(rows[0][0].ends_with("+03:00"), "{:?}", rows[0]);
    let burst: u64 = rows
        .iter()
        .filter(|r| r[0].as_str() >= "2023-02-02T07:00:00" && r[0].as_str() < "2023-02-02T07:17:00")
        .map(|r| n(r, 5))
        .sum();
    assert_eq!(
        burst,
        json["incidents"][0]["status_counts"]["502"]
            .as_u64()
            .unwrap()
    );
}

#[test]
fn hosts_from_logs_cannot_break_or_inject_into_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let line = "10.0.0.1 - - [02/Feb/2023:07:00:00 +0300] \"GET / HTTP/1.1\" 502 1 \"-\" \"t\"\n";
    let p = write(dir.path(), "a.log", line.as_bytes());
    let spec = format!("+cmd|' -C calc'!A0,\"x\"\x1b[2J={}", p.display());
    let r = logburst(&["-o", "csv", &spec]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let body = r.stdout.lines().nth(1).unwrap();
    assert!(
        body.starts_with(
            "2023-02-02T07:00:00+03:00,\"'+cmd|' -C calc'!A0,\"\"x\"\"\\x1B[2J\",1,1,0,1,0,0,0"
        ),
        "{body}"
    );
}
