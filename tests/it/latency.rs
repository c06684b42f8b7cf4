//! Latency bursts: where the log gives durations, a run of slow minutes is
//! an incident of its own — a leaking server often slows before it fails.

use crate::common;

use common::*;

/// Two and a half hours of nginx JSON lines (`request_time` in seconds,
/// 5 requests a second, 40–160 ms), then from 02:00 the responses slow to
/// `slow` seconds for ten minutes, and from 02:10 half of them fail for
/// five minutes.
fn log(slow: &str) -> String {
    let mut text = String::new();
    let t0 = 1_675_310_400; // 2023-02-02T04:00:00Z
    for s in 0..9000i64 {
        for k in 0..5i64 {
            let t = t0 + s;
            let (h, m, sec) = (4 + s / 3600, s / 60 % 60, s % 60);
            let (status, rt) = match s {
                7200..7800 => (200, slow.to_string()),
                7800..8100 if k % 2 == 0 => (502, "0.002".to_string()),
                _ => (200, format!("0.{:03}", 40 + (s * 7 + k * 13) % 120)),
            };
            let _ = t;
            text.push_str(&format!(
                "{{\"time\":\"2023-02-02T{h:02}:{m:02}:{sec:02}+00:00\",\"remote_addr\":\"10.0.0.{k}\",\"request\":\"GET /api/x HTTP/1.1\",\"status\":{status},\"request_time\":\"{rt}\"}}\n"
            ));
        }
    }
    text
}

#[test]
fn responses_that_slow_before_they_fail_are_a_latency_burst_first() {
    let dir = tempfile::tempdir().unwrap();
    for slow in ["2.500", "0.700"] {
        let p = write(dir.path(), "web-01/access.log", log(slow).as_bytes());
        let r = logburst(&["-o", "json", p.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let j = r.json();
        let inc = j["incidents"].as_array().unwrap();
        let kinds: Vec<&str> = inc.iter().map(|i| i["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["latency", "error-burst"], "{slow}: {j:#}");
        let l = &inc[0];
        assert_eq!(l["start"], "2023-02-02T06:00:00+00:00");
        assert_eq!(l["detected"], "2023-02-02T06:00:59+00:00");
        assert_eq!(l["end"], "2023-02-02T06:09:59+00:00");
        let lat = &l["latency"];
        // The bar is the lower of --slow (1 s) and four times the normal
        // p99 (about 150 ms, to the histogram's bucket): 0.7 s is under
        // --slow but far above normal.
        let normal = lat["baseline_p99_ms"].as_u64().unwrap();
        assert!((120..200).contains(&normal), "{lat}");
        assert_eq!(
            lat["threshold_ms"].as_u64().unwrap(),
            4 * normal,
            "{slow}: {lat}"
        );
        let p99 = lat["p99_ms"].as_u64().unwrap();
        let want = (slow.parse::<f64>().unwrap() * 1000.0) as u64;
        assert!(p99.abs_diff(want) * 5 < want, "{slow}: p99 {p99}");
        assert_eq!(lat["slow_requests"], 3000, "{slow}: {lat}");
    }
    // The text report and the draft say it in words.
    let p = dir.path().join("web-01/access.log");
    std::fs::write(&p, log("2.500")).unwrap();
    let r = logburst(&[p.to_str().unwrap()]);
    assert!(
        r.stdout.contains("Incident 1 · latency · web-01"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("3,000 requests at or above 576 ms"),
        "{}",
        r.stdout
    );
    let r = logburst(&["-o", "markdown", p.to_str().unwrap()]);
    assert!(
        r.stdout
            .contains("# Postmortem draft: Slow responses on web-01"),
        "{}",
        r.stdout
    );
    // Without history (the slow minutes first), only --slow counts.
    let head: String = log("2.500")
        .lines()
        .skip(7200 * 5)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&p, head).unwrap();
    for (slow, found) in [("1s", true), ("5s", false)] {
        let j = logburst(&["-o", "json", "--slow", slow, p.to_str().unwrap()]).json();
        let latency = j["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "latency");
        assert_eq!(latency, found, "--slow {slow}: {j:#}");
    }
    let r = logburst(&["--slow", "fast", p.to_str().unwrap()]);
    assert_eq!(r.code, 2);
}
