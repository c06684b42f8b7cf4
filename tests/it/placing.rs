//! Time placed right or said to be unsure: stamps out of range are damaged
//! lines, filters do not move other logs or invent onsets, a year comes
//! only from the same host's dated logs, a peak lies within its incident.

use std::time::{Duration, SystemTime};

use crate::common::{logburst, write};

fn json(args: &[&str]) -> serde_json::Value {
    let r = logburst(args);
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    r.json()
}

/// `1e300` and `1675321200000000000000` as JSON times were clamped to real
/// instants (1970, the year 55058) and made a traffic gap; they are
/// malformed lines.
#[test]
fn out_of_range_stamps_are_malformed_not_clamped() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "api/app.json",
        b"{\"time\":\"2023-02-02T07:00:00Z\",\"status\":200}\n{\"time\":1e300,\"status\":500}\n{\"time\":1675321200000000000000,\"status\":502}\n{\"time\":\"2023-02-02T07:00:01Z\",\"status\":200}\n{\"time\":-5,\"status\":200}\n",
    );
    let j = json(&["-o", "json", p.to_str().unwrap()]);
    let i = &j["inputs"][0];
    assert_eq!(
        (i["parsed"].as_u64(), i["malformed"].as_u64()),
        (Some(2), Some(3)),
        "{i}"
    );
    assert_eq!(i["last"], "2023-02-02T07:00:01+00:00");
    assert_eq!(j["incidents"], serde_json::json!([]));
    // A year past 9999 in an ISO stamp, and in CLF.
    let p = write(
        dir.path(),
        "web/access.log",
        b"1.2.3.4 - - [02/Feb/2023:07:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"\n1.2.3.4 - - [02/Feb/1969:07:00:00 +0000] \"GET / HTTP/1.1\" 500 1 \"-\" \"x\"\n",
    );
    let j = json(&["-o", "json", p.to_str().unwrap()]);
    assert_eq!(j["inputs"][0]["malformed"], 1);
}

/// Cut at 07:10 mid-burst, the demo reported its peak at 07:10:46, after
/// its end at 07:09:58. The peak lies within start and end, and the end is
/// said to be the filter's cut; the same for a start cut by --since.
#[test]
fn filters_cut_incidents_and_say_so() {
    let j = json(&[
        "-o",
        "json",
        "--until",
        "2023-02-02T07:10:00+03:00",
        "fixtures/demo",
    ]);
    let i = &j["incidents"][0];
    let (start, peak, end) = (
        i["start"].as_str().unwrap(),
        i["peak"].as_str().unwrap(),
        i["end"].as_str().unwrap(),
    );
    assert!(start <= peak && peak <= end, "{start} {peak} {end}");
    let recovered = i["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "recovered")
        .unwrap();
    assert!(
        recovered["detail"]
            .as_str()
            .unwrap()
            .contains("cut by --until"),
        "{recovered}"
    );
    assert!(
        j["notes"].to_string().contains("of --until"),
        "{}",
        j["notes"]
    );
    let j = json(&[
        "-o",
        "json",
        "--since",
        "2023-02-02T07:10:00+03:00",
        "fixtures/demo",
    ]);
    let onset = &j["incidents"][0]["timeline"][0];
    assert!(
        onset["detail"].as_str().unwrap().contains("cut by --since"),
        "{onset}"
    );
    // Unfiltered, nothing is said to be cut.
    let j = json(&["-o", "json", "fixtures/demo"]);
    assert!(!j.to_string().contains("cut by"));
    for i in j["incidents"].as_array().unwrap() {
        assert!(
            i["start"].as_str() <= i["peak"].as_str() && i["peak"].as_str() <= i["end"].as_str()
        );
    }
}

/// With every access line filtered out, kern.log lost its zone and year
/// and became an `oom` incident in the year of its modification time.
#[test]
fn filters_do_not_move_other_logs() {
    let j = json(&[
        "-o",
        "json",
        "--since",
        "2023-02-02T09:00:00+03:00",
        "fixtures/demo",
    ]);
    let kern = j["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"].as_str().unwrap().ends_with("kern.log"))
        .unwrap();
    assert_eq!(kern["first"], "2023-02-02T05:50:11+03:00");
    assert_eq!(j["incidents"], serde_json::json!([]));
    assert!(
        !j["notes"].to_string().contains("modification time"),
        "{}",
        j["notes"]
    );
}

/// A year-less log takes its year from its own host's dated logs, never
/// from another host's: a 2014 kernel log read beside a 1995 access log of
/// another host keeps the year of its modification time.
#[test]
fn a_year_comes_only_from_the_same_host() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "www/access.log",
        b"199.72.81.55 - - [01/Jul/1995:00:00:01 -0400] \"GET /history/apollo/ HTTP/1.0\" 200 6245\n",
    );
    let kern = write(
        dir.path(),
        "redis-01/kern.log",
        b"Mar  3 10:00:00 redis-01 kernel: Out of memory: Killed process 812 (redis-server) total-vm:1kB, anon-rss:2kB\n",
    );
    let f = std::fs::File::options().write(true).open(&kern).unwrap();
    // 2014-06-01.
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_401_580_800))
        .unwrap();
    drop(f);
    let j = json(&["-o", "json", "--tz", "+00:00", dir.path().to_str().unwrap()]);
    let kill = &j["incidents"][0]["oom_kills"][0];
    assert_eq!(kill["time"], "2014-03-03T10:00:00+00:00", "{j}");
    assert!(
        j["notes"]
            .to_string()
            .contains("2014 taken from the file's modification time"),
        "{}",
        j["notes"]
    );
}

/// A year-less line dated days after the file was last written is from the
/// year before, not the future (loghub's real OpenSSH sample, 10 December,
/// was placed four days ahead when read on 6 December); the day after is a
/// zone east of UTC and keeps the year.
#[test]
fn a_year_less_line_is_never_days_in_the_future() {
    let dir = tempfile::tempdir().unwrap();
    let kern = write(
        dir.path(),
        "redis-01/kern.log",
        b"Jun  2 01:00:00 redis-01 kernel: Out of memory: Killed process 811 (redis-server) total-vm:1kB, anon-rss:2kB\n\
Jun  5 10:00:00 redis-01 kernel: Out of memory: Killed process 812 (redis-server) total-vm:1kB, anon-rss:2kB\n",
    );
    let f = std::fs::File::options().write(true).open(&kern).unwrap();
    // 2014-06-01 00:00 UTC.
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_401_580_800))
        .unwrap();
    drop(f);
    let j = json(&["-o", "json", "--tz", "+00:00", dir.path().to_str().unwrap()]);
    let times: Vec<String> = j["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["oom_kills"].as_array().unwrap().iter())
        .map(|k| k["time"].as_str().unwrap().to_string())
        .collect();
    assert!(
        times.contains(&"2013-06-05T10:00:00+00:00".to_string()),
        "{j}"
    );
    assert!(
        times.contains(&"2014-06-02T01:00:00+00:00".to_string()),
        "{j}"
    );
}

/// An incident spanning days shows dates in its timeline and chart, and a
/// duration past 48 h in days.
#[test]
fn incidents_spanning_days_show_dates() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::new();
    // Steady traffic on 1 February, silence, traffic again from 4 February.
    for (day, hours) in [(1, 0..24), (4, 0..2)] {
        for h in hours {
            for m in 0..60 {
                for s in [0, 20, 40] {
                    log.push_str(&format!(
                        "10.0.0.1 - - [{day:02}/Feb/2023:{h:02}:{m:02}:{s:02} +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"\n"
                    ));
                }
            }
        }
    }
    let p = write(dir.path(), "web-01/access.log", log.as_bytes());
    let r = logburst(&[p.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = r.stdout;
    assert!(text.contains("traffic-gap"), "{text}");
    assert!(text.contains("duration  2 d"), "{text}");
    // Timeline entries carry their dates.
    assert!(
        text.contains("    2023-02-01 23:59:40 +00:00  silence"),
        "{text}"
    );
    assert!(
        text.contains("    2023-02-04 00:00:00 +00:00  resumed"),
        "{text}"
    );
}

/// Elastic Beats' ingress-nginx test log: eleven requests in an hour of
/// 2020, then two of 2022. A rate read off eleven requests predicts
/// nothing over two years: no traffic gap (it was one of 929 days, "about
/// 245,323 requests expected"), and the input is read in full.
#[test]
fn a_handful_of_requests_then_years_of_silence_is_no_gap() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::new();
    for (i, t) in [
        "11:48:51", "11:49:15", "11:49:30", "11:49:43", "11:49:50", "11:50:09", "11:55:05",
        "11:55:57", "11:56:54", "12:02:38", "12:02:42",
    ]
    .iter()
    .enumerate()
    {
        log.push_str(&format!("192.168.64.1 - - [07/Feb/2020:{t} +0000] \"GET /products/{i} HTTP/1.1\" 200 59 \"-\" \"curl/7.54.0\"\n"));
    }
    log.push_str("2a02:cf40::4e36 - - [24/Aug/2022:18:05:41 +0000] \"GET /favicon.ico HTTP/2.0\" 502 552 \"-\" \"x\"\n");
    log.push_str("2a02:cf40:: - - [24/Aug/2022:21:04:17 +0000] \"POST /_bulk HTTP/1.1\" 200 470 \"-\" \"x\"\n");
    let p = write(dir.path(), "ingress.log", log.as_bytes());
    let r = logburst(&["-o", "json", p.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["incidents"], serde_json::json!([]), "{j}");
    assert_eq!(j["totals"]["requests"], 13, "{j}");
}

/// A zone-less `--reported-at` is read in the logs' zone and echoed (it was
/// read as UTC: "3 h 7 min before the first customer report" instead of
/// 7 min 35 s).
#[test]
fn zone_less_instants_are_read_in_the_logs_zone_or_said_to_be_utc() {
    let r = logburst(&[
        "-o",
        "markdown",
        "--reported-at",
        "2023-02-02 07:08:18",
        "fixtures/demo",
    ]);
    assert!(
        r.stdout
            .contains("7 min 35 s before the first customer report"),
        "{}",
        r.stdout
    );
    let j = json(&[
        "-o",
        "json",
        "--reported-at",
        "2023-02-02 07:08:18",
        "fixtures/demo",
    ]);
    assert_eq!(j["incidents"][0]["lead_over_report_seconds"], 455);
    assert!(
        j["notes"]
            .to_string()
            .contains("read in +03:00, the zone of the logs, as 2023-02-02T07:08:18+03:00"),
        "{}",
        j["notes"]
    );
    // Written with its offset, or with --tz, nothing is assumed.
    let j = json(&[
        "-o",
        "json",
        "--reported-at",
        "2023-02-02T07:08:18+03:00",
        "fixtures/demo",
    ]);
    assert_eq!(j["incidents"][0]["lead_over_report_seconds"], 455);
    assert!(!j["notes"].to_string().contains("--reported-at"));
    // Not an instant at all: refused, with or without --tz.
    for args in [
        &["--reported-at", "garbage", "fixtures/demo"][..],
        &[
            "--tz",
            "+03:00",
            "--reported-at",
            "garbage",
            "fixtures/demo",
        ],
    ] {
        let r = logburst(args);
        assert_eq!(r.code, 2, "{args:?}");
        assert!(
            r.stderr.contains("--reported-at: invalid time 'garbage'"),
            "{}",
            r.stderr
        );
    }
}

/// `--tz` was both the zone of zone-less logs and the display zone: `--tz
/// UTC` typed to see UTC moved kern.log by 3 h and split the demo outage
/// in two, silently. `--display-tz` only shows; zone-less `--since`,
/// `--until` and `--reported-at` are read in it (else in `--tz`, else in
/// the logs' zone) and echoed; `--tz` against a host's own dated logs is
/// a warning.
#[test]
fn display_zone_and_input_zone_are_separate() {
    let incidents = |j: &serde_json::Value| -> Vec<String> {
        j["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| format!("{} {}", i["kind"], i["start"]))
            .collect()
    };
    let plain = json(&["-o", "json", "fixtures/demo"]);
    let shown = json(&["-o", "json", "--display-tz", "UTC", "fixtures/demo"]);
    assert_eq!(
        incidents(&shown),
        ["\"error-burst\" \"2023-02-02T04:00:22+00:00\""]
    );
    assert_eq!(incidents(&plain).len(), 1);
    assert_eq!(
        shown["incidents"][0]["oom_kills"][0]["time"],
        "2023-02-02T04:00:13+00:00"
    );
    assert_eq!(shown["totals"], plain["totals"]);
    assert!(!shown.to_string().contains("--display-tz instead"));
    // --tz UTC still reads kern.log in UTC, but says it contradicts the
    // host's access log, on stderr and in the JSON.
    let r = logburst(&["--tz", "UTC", "fixtures/demo"]);
    assert!(
        r.stderr.contains("kern.log: read in --tz (+00:00), but web-01's dated logs write +03:00: its times may be off by 3 h; if --tz was meant to choose how times are shown, give --display-tz instead"),
        "{}",
        r.stderr
    );
    let j = json(&["-o", "json", "--tz", "UTC", "fixtures/demo"]);
    let kern = j["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"].as_str().unwrap().ends_with("kern.log"))
        .unwrap();
    assert!(kern["warnings"]
        .to_string()
        .contains("--display-tz instead"));
    // The same five minutes, written four ways, cut the same lines.
    let window = |args: &[&str]| {
        let mut all = vec!["-o", "json"];
        all.extend_from_slice(args);
        all.push("fixtures/demo");
        json(&all)
    };
    let exact = window(&[
        "--since",
        "2023-02-02T07:05:00+03:00",
        "--until",
        "2023-02-02T07:10:00+03:00",
    ]);
    let requests = exact["totals"]["requests"].as_u64().unwrap();
    assert!(requests > 100 && requests < 24_042, "{requests}");
    for args in [
        &["--since", "2023-02-02 07:05", "--until", "2023-02-02 07:10"][..],
        &[
            "--display-tz",
            "UTC",
            "--since",
            "2023-02-02 04:05",
            "--until",
            "2023-02-02 04:10",
        ],
        &[
            "--tz",
            "+03:00",
            "--since",
            "2023-02-02 07:05",
            "--until",
            "2023-02-02 07:10",
        ],
    ] {
        let j = window(args);
        assert_eq!(j["totals"], exact["totals"], "{args:?}");
        assert_eq!(incidents(&j).len(), incidents(&exact).len(), "{args:?}");
    }
    let j = window(&["--since", "2023-02-02 07:05"]);
    assert!(
        j["notes"].to_string().contains(
            "--since has no zone: read in +03:00, the zone of the logs, as 2023-02-02T07:05:00+03:00"
        ),
        "{}",
        j["notes"]
    );
    let j = window(&["--display-tz", "UTC", "--since", "2023-02-02 04:05"]);
    assert!(
        j["notes"].to_string().contains(
            "--since 2023-02-02 04:05 has no zone: read in --display-tz +00:00, as 2023-02-02T04:05:00+00:00"
        ),
        "{}",
        j["notes"]
    );
    // --reported-at in the display zone: 7 min 35 s of lead, as above.
    let j = window(&[
        "--display-tz",
        "UTC",
        "--reported-at",
        "2023-02-02 04:08:18",
    ]);
    assert_eq!(j["incidents"][0]["lead_over_report_seconds"], 455);
}

/// HAProxy writes its accept date in local time without a zone. Across the
/// spring change in `--tz Europe/Berlin`, continuous traffic became a 1 h
/// "traffic gap" (every line placed with the offset of the first); each
/// second now takes the offset in force at it.
/// The JSON of reading `path` in `--tz Europe/Berlin` as of 2023, with
/// `extra` flags.
fn in_berlin(path: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["-o", "json", "--tz", "Europe/Berlin", "--year", "2023"];
    args.extend_from_slice(extra);
    args.push(path.to_str().unwrap());
    json(&args)
}

/// An HAProxy line through syslog, accepted at wall-clock `h:m:s` of 26
/// March or 29 October 2023.
fn haproxy_line(d: &str, h: u32, m: u32, s: u32) -> String {
    format!(
        "{d} {h:02}:{m:02}:{s:02} lb-01 haproxy[1]: 10.0.0.1:5000 [{}/2023:{h:02}:{m:02}:{s:02}.000] fe be/web 0/0/1/2/3 200 10 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"\n",
        if d.starts_with("Mar") { "26/Mar" } else { "29/Oct" }
    )
}

/// A request every 10 s through the given wall-clock hours.
fn haproxy_day(d: &str, hours: &[u32]) -> String {
    let mut out = String::new();
    for &h in hours {
        for m in 0..60 {
            for s in (0..60).step_by(10) {
                out.push_str(&haproxy_line(d, h, m, s));
            }
        }
    }
    out
}

#[test]
fn local_time_logs_follow_daylight_saving_changes() {
    let day = haproxy_day;
    let dir = tempfile::tempdir().unwrap();
    // 26 March 2023: 02:00 CET became 03:00 CEST; no line is written at 02:xx.
    let spring = day("Mar 26", &[0, 1, 3, 4]);
    let p = write(dir.path(), "lb-01/spring.log", spring.as_bytes());
    let j = in_berlin(&p, &[]);
    let kinds: Vec<&str> = j["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert!(!kinds.contains(&"traffic-gap"), "{j}");
    assert_eq!(j["totals"]["requests"], 4 * 360);
}

/// In the autumn the repeated hour is told apart by the order of the
/// lines: those after the time falls back are of the second pass (it was
/// read as the first: a 50 % burst shown as 25 %, an hour early); the notes
/// say so, and say when the file shows no fall.
#[test]
fn a_repeated_hour_is_placed_by_the_order_of_lines() {
    let (line, day) = (haproxy_line, haproxy_day);
    let dir = tempfile::tempdir().unwrap();
    // 29 October 2023: 03:00 CEST became 02:00 CET; 02:xx is written twice.
    // In the second pass, 02:20–02:29 half the requests fail: a 50 % burst
    // at 01:20 UTC. Reading the second pass as the first showed it at
    // 00:20 UTC, half as strong (shared with the first pass's good lines).
    let mut autumn = day("Oct 29", &[0, 1, 2]);
    for m in 0..60 {
        let burst = (20..30).contains(&m);
        for s in (0..60).step_by(if burst { 2 } else { 10 }) {
            let l = line("Oct 29", 2, m, s);
            if burst && s % 4 == 0 {
                autumn.push_str(&l.replace(" 200 10 ", " 503 10 "));
            } else {
                autumn.push_str(&l);
            }
        }
    }
    autumn.push_str(&day("Oct 29", &[3, 4]));
    let p = write(dir.path(), "lb-01/autumn.log", autumn.as_bytes());
    // Cut in blocks of every size, the fall may lie inside a block, at a
    // cut, or before a block wholly of the second pass.
    for block in ["4096", "65536", "1000000", "16777216"] {
        let j = in_berlin(&p, &["--block-size", block]);
        let incidents = j["incidents"].as_array().unwrap();
        let kinds: Vec<&str> = incidents
            .iter()
            .map(|i| i["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["error-burst"], "blocks of {block}: {j}");
        assert_eq!(j["totals"]["requests"], 6 * 360 + 10 * 24);
        let burst = &incidents[0];
        let start = burst["start"].as_str().unwrap();
        assert!(start.starts_with("2023-10-29T02:20:"), "{start}");
        assert!(start.ends_with("+01:00"), "{start}");
        assert!(
            burst["peak_error_ratio"].as_f64().unwrap() >= 0.45,
            "{burst}"
        );
        assert!(
            j["notes"].to_string().contains(
                "its clock went back an hour (Europe/Berlin); the lines of the repeated hour were told apart by their order in the file: 360 written before the clock went back, 600 after"
            ),
            "blocks of {block}: {}",
            j["notes"]
        );
    }
    // Only one pass in the file (the other rotated away): read as the
    // first, and said so.
    let p = write(dir.path(), "lb-01/half.log", day("Oct 29", &[2]).as_bytes());
    let j = in_berlin(&p, &[]);
    assert!(
        j["notes"].to_string().contains(
            "360 lines fall in the hour its clock (Europe/Berlin) repeats, and the file never shows its time falling back"
        ),
        "{}",
        j["notes"]
    );
    // A rare event in the repeated hour cannot be placed by a series: it
    // is read as the first pass, and said so.
    let k = write(
        dir.path(),
        "web-01/kern.log",
        b"Oct 29 02:30:00 web-01 kernel: [123.456] Out of memory: Killed process 4242 (python3) total-vm:4049380kB, anon-rss:3515625kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:7000kB oom_score_adj:0\n",
    );
    let j = in_berlin(&k, &[]);
    assert!(
        j["notes"].to_string().contains(
            "an event at 2023-10-29 02:30:00 +02:00 falls in the hour its clock (Europe/Berlin) repeats; it was read as the first pass"
        ),
        "{}",
        j["notes"]
    );
}
