//! How wide a burst is (issue 22): a burst whose 5xx mostly went to one
//! client (one retrying a failing URL) or hit one path says so, and
//! `--min-clients` leaves such bursts out, saying so in the notes.

use crate::common::{logburst, write};

/// Two requests a second from many clients for 90 minutes, clean (or with
/// every `fail_every`-th request failing); then one client asks for a
/// failing URL 80 times in 40 s.
fn retry_storm(fail_every: u32) -> String {
    let mut log = String::new();
    for sec in 0..5400u32 {
        let (h, m, s) = (7 + sec / 3600, sec / 60 % 60, sec % 60);
        for k in 0..2 {
            let status = if (sec * 2 + k) % fail_every == 0 {
                502
            } else {
                200
            };
            log.push_str(&format!(
                "10.0.{}.{} - - [02/Feb/2023:{h:02}:{m:02}:{s:02} +0300] \"GET /api/items HTTP/1.1\" {status} 10 \"-\" \"t\"\n",
                sec % 200,
                k
            ));
        }
        if (4000..4040).contains(&sec) {
            for _ in 0..2 {
                log.push_str(&format!(
                    "10.9.9.9 - - [02/Feb/2023:{h:02}:{m:02}:{s:02} +0300] \"GET /api/export HTTP/1.1\" 503 10 \"-\" \"retry\"\n"
                ));
            }
        }
    }
    log
}

#[test]
fn a_burst_of_one_client_says_so_and_can_be_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "web-01/access.log",
        retry_storm(u32::MAX).as_bytes(),
    );
    let p = p.to_str().unwrap();
    let r = logburst(&["-o", "json", p]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    let inc = &j["incidents"][0];
    assert_eq!(inc["kind"], "error-burst", "{j}");
    assert_eq!(inc["narrow"]["by"], "client", "{inc}");
    assert_eq!(inc["narrow"]["key"], "10.9.9.9");
    assert!(inc["narrow"]["share"].as_f64().unwrap() >= 0.99, "{inc}");
    let text = logburst(&[p]).stdout;
    assert!(
        text.contains("narrow    100% of the 5xx went to one client (10.9.9.9)"),
        "{text}"
    );
    let md = logburst(&["-o", "markdown", p]).stdout;
    assert!(
        md.contains("- **Narrow**: 100% of the 5xx went to one client"),
        "{md}"
    );
    // Left out with --min-clients, and said so.
    let j = logburst(&["-o", "json", "--min-clients", "3", p]).json();
    assert!(j["incidents"].as_array().unwrap().is_empty(), "{j}");
    assert_eq!(j["thresholds"]["min_clients"], 3);
    assert!(
        j["notes"].to_string().contains(
            "(80 5xx) was left out: they went to 1 distinct client, fewer than --min-clients 3"
        ),
        "{}",
        j["notes"]
    );
    // Over a 5 % normal share from every client, the storm still reached
    // many clients, but most of its 5xx went to one: left out as well.
    let q = write(dir.path(), "web-02/access.log", retry_storm(20).as_bytes());
    let j = logburst(&["-o", "json", q.to_str().unwrap()]).json();
    assert_eq!(j["incidents"].as_array().unwrap().len(), 1, "{j}");
    assert!(j["incidents"][0]["clients_affected"].as_u64().unwrap() >= 3);
    let j = logburst(&["-o", "json", "--min-clients", "3", q.to_str().unwrap()]).json();
    assert!(j["incidents"].as_array().unwrap().is_empty(), "{j}");
    let note = j["notes"].to_string();
    assert!(
        note.contains("% of its 5xx beyond the normal share went to 2 clients (--min-clients 3)"),
        "{note}"
    );
    // The demo's outage reached 206 clients: kept, and not narrow.
    let j = logburst(&["-o", "json", "--min-clients", "3", "fixtures/demo"]).json();
    assert_eq!(j["incidents"][0]["kind"], "error-burst");
    assert!(j["incidents"][0]["narrow"].is_null());
}

/// Which statuses count (`--errors`): a burst of 499s (clients giving up
/// on a hung upstream) is no incident by default and one with `+499`; a
/// burst of 501s is one by default and none with `-501`. The set is in
/// the JSON and the notes, travels in summaries and cron states, and
/// counts of different sets are never added up.
#[test]
fn errors_choose_the_statuses_that_count() {
    let dir = tempfile::tempdir().unwrap();
    let base = crate::common::burst_access(3600, 1800..1920);
    let d = dir.path();
    let log499 = write(
        d,
        "a/web-01/access.log",
        base.replace("\" 502 ", "\" 499 ").as_bytes(),
    );
    let log501 = write(
        d,
        "b/web-01/access.log",
        base.replace("\" 502 ", "\" 501 ").as_bytes(),
    );
    let (p499, p501) = (log499.to_str().unwrap(), log501.to_str().unwrap());
    let json = |args: &[&str]| {
        let r = logburst(args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()
    };
    let kinds = |j: &serde_json::Value| -> Vec<String> {
        j["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["kind"].as_str().unwrap().to_string())
            .collect()
    };
    let j = json(&["-o", "json", p499]);
    assert!(kinds(&j).is_empty(), "{j}");
    assert_eq!(j["totals"]["errors"], 0);
    assert_eq!(j["thresholds"]["errors"], "5xx");
    let j = json(&["-o", "json", "--errors", "+499", p499]);
    assert_eq!(kinds(&j), ["error-burst"], "{j}");
    assert_eq!(
        j["incidents"][0]["status_counts"],
        serde_json::json!({"499": 360})
    );
    assert_eq!(j["incidents"][0]["start"], "2023-02-02T07:30:00+03:00");
    assert_eq!(j["totals"]["errors"], 360);
    assert_eq!(j["thresholds"]["errors"], "+499");
    let notes = j["notes"].to_string();
    assert!(
        notes.contains("errors counted: statuses 499–599 (--errors +499)"),
        "{notes}"
    );
    // The same set written as a list.
    let listed = json(&["-o", "json", "--errors", "5xx,499", p499]);
    assert_eq!(listed["thresholds"]["errors"], "+499");
    // 501 is a 5xx unless removed.
    assert_eq!(kinds(&json(&["-o", "json", p501])), ["error-burst"]);
    let j = json(&["-o", "json", "--errors", "-501", p501]);
    assert!(kinds(&j).is_empty(), "{j}");
    assert_eq!(j["thresholds"]["errors"], "-501");
    // The text report says it too.
    let r = logburst(&["--errors", "+499", p499]);
    assert!(
        r.stdout.contains("errors counted: statuses 499"),
        "{}",
        r.stdout
    );

    // A summary keeps the set; merge takes it, and refuses another.
    let sum = d.join("s.json");
    let s = sum.to_str().unwrap();
    let r = logburst(&["-q", "--errors", "+499", "--save-summary", s, p499]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = json(&["merge", "-o", "json", s]);
    assert_eq!(kinds(&j), ["error-burst"], "{j}");
    assert_eq!(j["thresholds"]["errors"], "+499");
    let r = logburst(&["merge", "--errors", "5xx", s]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(
            "the summaries counted --errors +499 as errors and this run counts --errors 5xx"
        ),
        "{}",
        r.stderr
    );
    let other = d.join("t.json");
    let t = other.to_str().unwrap();
    assert_eq!(logburst(&["-q", "--save-summary", t, p501]).code, 0);
    let r = logburst(&["merge", s, t]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("make the summaries again with the same --errors"),
        "{}",
        r.stderr
    );

    // A cron state keeps it: a run with another set is refused.
    let state = d.join("state.json");
    let st = state.to_str().unwrap();
    let r = logburst(&["-q", "--errors", "+499", "--state", st, p499]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = logburst(&["-q", "--state", st, p499]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--reset-state"), "{}", r.stderr);

    // Bad sets are usage errors.
    for bad in ["abc", "5", "-5xx", ""] {
        let r = logburst(&["--errors", bad, p499]);
        assert_eq!(r.code, 2, "{bad}");
        assert!(r.stderr.contains("--errors"), "{bad}: {}", r.stderr);
    }
}

/// An ingress-nginx log (its default `upstreaminfo` format, from
/// kubernetes/ingress-nginx `internal/ingress/controller/config/config.go`)
/// of one controller in front of two upstreams: the busy one fails 2 % of
/// its requests all along; the small one (a request every 2 s) fails whole
/// for 5 min. On the host that adds 1.25 points to a 2 % share — under
/// twice its normal — and is all of the small upstream's requests.
fn ingress_log(with_upstream: bool) -> String {
    let mut log = String::new();
    let name = |n: &str| {
        if with_upstream {
            n.to_string()
        } else {
            "-".into()
        }
    };
    for sec in 0..3600u32 {
        let (m, s) = (sec / 60, sec % 60);
        let stamp = format!("02/Feb/2023:07:{m:02}:{s:02} +0000");
        for k in 0..40u32 {
            let status = if (sec * 40 + k) % 50 == 0 { 503 } else { 200 };
            log.push_str(&format!(
                "10.2.{}.{k} - - [{stamp}] \"GET /cart HTTP/1.1\" {status} 12 \"-\" \"Mozilla/5.0 [en]\" 310 0.004 [{}] [] 10.1.0.5:8080 12 0.004 {status} 9f{sec}x{k}\n",
                sec % 250,
                name("shop-cart-80")
            ));
        }
        if sec % 2 == 0 {
            let failing = (2400..2700).contains(&sec);
            let status = if failing { 502 } else { 200 };
            log.push_str(&format!(
                "10.3.{}.9 - - [{stamp}] \"GET /search?q=x HTTP/1.1\" {status} 9 \"-\" \"curl/8.5\" 200 0.002 [{}] [] 10.1.7.2:80 9 0.002 {status} 7c{sec}\n",
                sec % 250,
                name("shop-search-80")
            ));
        }
    }
    log
}

#[test]
fn a_failing_upstream_behind_a_busy_ingress_is_its_own_incident() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "ingress/access.log",
        ingress_log(true).as_bytes(),
    );
    let r = logburst(&["-o", "json", p.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["inputs"][0]["format"], "combined-extra", "{j}");
    let incidents = j["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{j}");
    let inc = &incidents[0];
    assert_eq!(
        inc["routes"],
        serde_json::json!(["upstream shop-search-80"])
    );
    assert_eq!(inc["hosts"], serde_json::json!(["ingress"]));
    assert_eq!(inc["start"], "2023-02-02T07:40:00+00:00");
    let lag = inc["detection_lag_seconds"].as_i64().unwrap();
    assert!(lag <= 30, "{inc}");
    // The upstream's own requests: every one failed.
    assert_eq!(
        (inc["requests"].as_u64(), inc["errors"].as_u64()),
        (Some(150), Some(150))
    );
    let text = logburst(&[p.to_str().unwrap()]);
    assert!(
        text.stdout.contains("ingress · upstream shop-search-80"),
        "{}",
        text.stdout
    );
    // The same log without upstream names: the burst is lost in the host's
    // share, which is why the routes' series exist.
    let p = write(
        dir.path(),
        "plain/access.log",
        ingress_log(false).as_bytes(),
    );
    let r = logburst(&["-o", "json", p.to_str().unwrap()]);
    assert_eq!(r.json()["incidents"], serde_json::json!([]), "{}", r.stdout);
}

/// One front (a proxy or web server) in front of two routes, for an hour
/// from 07:00:00: the busy one takes 40 requests a second and fails 2 %
/// of them all along; the small one takes one every 2 s and fails whole
/// from 07:40 for 5 min. `line(sec, k, route, status)` writes request `k`
/// of second `sec`; `route` is 0 (busy) or 1 (small).
fn shared_front(line: impl Fn(u32, u32, usize, u16) -> String) -> String {
    let mut log = String::new();
    for sec in 0..3600u32 {
        for k in 0..40u32 {
            let status = if (sec * 40 + k) % 50 == 0 { 503 } else { 200 };
            log.push_str(&line(sec, k, 0, status));
        }
        if sec % 2 == 0 {
            let status = if (2400..2700).contains(&sec) {
                502
            } else {
                200
            };
            log.push_str(&line(sec, 40, 1, status));
        }
    }
    log
}

/// The single incident of `json`, which must be on `route` alone, from
/// 07:40:00 (in the log's zone, `+00:00`), found within 30 s, with the
/// route's own 150 requests, every one failed.
fn the_route_fails_alone(j: &serde_json::Value, route: &str) {
    let incidents = j["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{j}");
    let inc = &incidents[0];
    assert_eq!(inc["routes"], serde_json::json!([route]), "{inc}");
    assert_eq!(inc["start"], "2023-02-02T07:40:00+00:00", "{inc}");
    assert!(
        inc["detection_lag_seconds"].as_i64().unwrap() <= 30,
        "{inc}"
    );
    assert_eq!(
        (inc["requests"].as_u64(), inc["errors"].as_u64()),
        (Some(150), Some(150)),
        "{inc}"
    );
}

/// HAProxy names the backend of each request (`option httplog`'s
/// `backend_name/server_name`, HAProxy's configuration manual §8.2.3):
/// a failing backend behind a busy frontend is its own series, in the
/// host's zone like the host's requests, raw or in syslog framing.
#[test]
fn a_failing_haproxy_backend_is_its_own_incident() {
    let dir = tempfile::tempdir().unwrap();
    let backends = ["shop/web1", "search/<NOSRV>"];
    let message = |sec: u32, k: u32, b: usize, status: u16| {
        let (m, s) = (sec / 60, sec % 60);
        format!(
            "10.2.{}.{k}:4{k:04} [02/Feb/2023:07:{m:02}:{s:02}.{k:03}] http-in {} 0/0/1/{k}/{} {status} 120 - - ---- 9/9/0/0/0 0/0 \"GET /cart HTTP/1.1\"",
            sec % 250,
            backends[b],
            k + 1,
        )
    };
    let raw = shared_front(|sec, k, b, status| message(sec, k, b, status) + "\n");
    let framed = shared_front(|sec, k, b, status| {
        let (m, s) = (sec / 60, sec % 60);
        format!(
            "Feb  2 07:{m:02}:{s:02} lb-1 haproxy[4242]: {}\n",
            message(sec, k, b, status)
        )
    });
    for (name, log, format) in [("raw", raw, "haproxy"), ("syslog", framed, "syslog")] {
        let p = write(dir.path(), &format!("{name}/haproxy.log"), log.as_bytes());
        let r = logburst(&["-o", "json", "--tz", "UTC", p.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let j = r.json();
        assert_eq!(j["inputs"][0]["format"], format, "{j}");
        the_route_fails_alone(&j, "upstream search");
    }
    // In the host's zone: the same log in Berlin's (UTC+1 in February)
    // starts an hour earlier in UTC and is shown in the log's own time.
    let p = dir.path().join("raw/haproxy.log");
    let r = logburst(&["-o", "json", "--tz", "Europe/Berlin", p.to_str().unwrap()]);
    let j = r.json();
    assert_eq!(
        j["incidents"][0]["start"], "2023-02-02T07:40:00+01:00",
        "{j}"
    );
    assert_eq!(
        j["incidents"][0]["routes"],
        serde_json::json!(["upstream search"])
    );
}

/// When Envoy picks no upstream (`UH`: none healthy; `UF`: it could not
/// connect) it answers itself and logs `%UPSTREAM_HOST%` as `-`. Those
/// requests are on no route: counted on the virtual host's, they would
/// make a series of an outage's failures alone, whose "normal" share was
/// every request failing (reported as "5xx well above their normal
/// 100.0%", found at +0 s). Four healthy backends (1 % failing) and, from
/// 07:40 for five minutes, a third of the requests answered 503 `UH`.
#[test]
fn requests_envoy_sent_to_no_upstream_are_on_no_route() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::new();
    for sec in 0..3600u32 {
        let (m, s) = (sec / 60, sec % 60);
        let outage = (2400..2700).contains(&sec);
        for k in 0..15u32 {
            let (status, flags, upstream) = if outage && k % 3 == 0 {
                (503, "UH", "-".to_string())
            } else if (sec * 15 + k) % 100 == 0 {
                (503, "-", format!("10.0.0.{}:8080", k % 4 + 1))
            } else {
                (200, "-", format!("10.0.0.{}:8080", k % 4 + 1))
            };
            log.push_str(&format!(
                "[2023-02-02T07:{m:02}:{s:02}.{k:03}Z] \"GET /cart HTTP/1.1\" {status} {flags} 0 120 {} - \"10.2.{}.{k}\" \"curl/8.5.0\" \"id-{sec}-{k}\" \"shop.example.com\" \"{upstream}\"\n",
                k + 1,
                sec % 250,
            ));
        }
    }
    let p = write(dir.path(), "envoy.log", log.as_bytes());
    let r = logburst(&["-o", "json", p.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["inputs"][0]["format"], "envoy", "{j}");
    let incidents = j["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{j}");
    let inc = &incidents[0];
    // The host's burst; no route holds the requests without an upstream.
    let routes = inc["routes"].as_array().map_or(&[][..], |r| &r[..]);
    assert!(
        routes
            .iter()
            .all(|r| r.as_str().unwrap().starts_with("backend ")),
        "{inc}"
    );
    // The host's normal: 1 % of requests failing, not all of them.
    let normal = inc["baseline_error_ratio"].as_f64().unwrap();
    assert!(normal < 0.05, "{inc}");
    let detected = inc["detected"].as_str().unwrap();
    assert!(
        ("2023-02-02T07:40:00+00:00"..="2023-02-02T07:41:00+00:00").contains(&detected),
        "{inc}"
    );
    // A new backend that fails every request it gets (one a second from
    // 07:40 for five minutes) is an incident of its own; its "normal" of
    // every request failing is not called normal in the report.
    let healthy: String = log
        .lines()
        .filter(|l| !l.contains("\"-\""))
        .collect::<Vec<_>>()
        .join("\n");
    // The healthy log and `backends` (10.0.9.b) failing every request,
    // one a second each, from 07:40 for five minutes.
    let failing = |backends: std::ops::RangeInclusive<u32>| {
        let mut log = healthy.clone() + "\n";
        for sec in 2400..2700u32 {
            let (m, s) = (sec / 60, sec % 60);
            for b in backends.clone() {
                log.push_str(&format!(
                    "[2023-02-02T07:{m:02}:{s:02}.{b:03}Z] \"GET /new HTTP/1.1\" 503 - 0 120 1 - \"10.3.{}.{b}\" \"curl/8.5.0\" \"id\" \"shop.example.com\" \"10.0.9.{b}:8080\"\n",
                    sec % 250
                ));
            }
        }
        log
    };
    let p = write(
        dir.path(),
        "new-backend/envoy.log",
        failing(9..=9).as_bytes(),
    );
    let r = logburst(&[p.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("backend 10.0.9.9:8080"), "{}", r.stdout);
    assert!(
        !r.stdout.contains("well above their normal"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(
            "its normal, 100.0% of requests failing, is more than the 15% ever taken as normal"
        ),
        "{}",
        r.stdout
    );
    // Seven such backends: the heading names four and counts the rest
    // (the JSON lists all seven).
    let p = write(dir.path(), "seven/envoy.log", failing(1..=7).as_bytes());
    let r = logburst(&[p.to_str().unwrap()]);
    assert!(
        r.stdout.contains(" · backend 10.0.9.1:8080, backend 10.0.9.2:8080, backend 10.0.9.3:8080, backend 10.0.9.4:8080 and 3 more routes\n"),
        "{}",
        r.stdout
    );
    let r = logburst(&["-o", "json", p.to_str().unwrap()]);
    assert_eq!(
        r.json()["incidents"][0]["routes"].as_array().map(Vec::len),
        Some(7)
    );
}

/// IIS writes the `Host` header asked for as `cs-host` when it is
/// selected (Microsoft's W3C logging field list): one failing site on a
/// shared server is its own series.
#[test]
fn a_failing_iis_site_is_its_own_incident() {
    let dir = tempfile::tempdir().unwrap();
    let sites = ["www.example.com", "API.example.com"];
    let mut log = String::from(
        "#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n#Date: 2023-02-02 07:00:00\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs-host sc-status sc-substatus sc-win32-status time-taken\n",
    );
    log.push_str(&shared_front(|sec, k, b, status| {
        let (m, s) = (sec / 60, sec % 60);
        format!(
            "2023-02-02 07:{m:02}:{s:02} 10.0.0.4 GET /cart - 443 - 10.2.{}.{k} Mozilla/5.0 {} {status} 0 0 {}\n",
            sec % 250,
            sites[b],
            k + 3
        )
    }));
    let p = write(dir.path(), "W3SVC1/u_ex230202.log", log.as_bytes());
    let r = logburst(&["-o", "json", p.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["inputs"][0]["format"], "w3c", "{j}");
    // Host names are case-insensitive: the series is named lower-case.
    the_route_fails_alone(&j, "vhost api.example.com");
}

/// A storm that only the five-minute window sees is judged by that
/// window. A quiet host (a request every 5 s, 10 % failing at random);
/// one client retries 65 times in 25 s, which a minute alone does not
/// tell from a share that wanders (too few minutes to rule it out); three
/// minutes later a minute fails at about a third by chance, over many
/// clients. The five minutes together are bad, and the burst is reported
/// from that minute, after the storm: how wide it was is judged over the
/// five, where the storm's client holds most of the 5xx beyond the
/// normal share, so `--min-clients 2` leaves it out (it was kept when
/// judged over the reported minutes only: a false incident of the noise
/// benchmark's retry storms).
#[test]
fn a_storm_only_the_sustained_window_sees_is_narrow() {
    let seed: u64 = std::env::var("LB_STORM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(STORM_SEED);
    let mut x = seed | 1;
    let mut random = move || {
        // xorshift64*: the traffic is fixed by the seed.
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut log = String::new();
    let line = |log: &mut String, sec: u32, client: &str, status: u16| {
        let (h, m, s) = (7 + sec / 3600, sec / 60 % 60, sec % 60);
        log.push_str(&format!(
            "{client} - - [02/Feb/2023:{h:02}:{m:02}:{s:02} +0300] \"GET /api/items HTTP/1.1\" {status} 10 \"-\" \"t\"\n"
        ));
    };
    let (storm, storm_len, retries) = (4800u32, 25u32, 65u32);
    for sec in 0..100 * 60u32 {
        if sec % 5 == 0 {
            let late = (storm + 190..storm + 250).contains(&sec) && sec / 5 % 3 == 0;
            let fails = random() < 0.1 || late;
            let client = format!("10.0.{}.{}", sec / 5 / 250 % 250, sec / 5 % 250);
            line(&mut log, sec, &client, if fails { 502 } else { 200 });
        }
        if (storm..storm + storm_len).contains(&sec) {
            let due = |s: u32| retries * (s - storm) / storm_len;
            for _ in due(sec)..due(sec + 1) {
                line(&mut log, sec, "10.9.9.9", 503);
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "web-01/access.log", log.as_bytes());
    let p = p.to_str().unwrap();
    let j = logburst(&["-o", "json", p]).json();
    let incidents = j["incidents"].as_array().unwrap();
    // The scenario: one burst, reported from after the storm's end
    // (08:20:25).
    assert_eq!(incidents.len(), 1, "seed {seed}: {j}");
    let start = incidents[0]["start"].as_str().unwrap();
    assert!(
        start > "2023-02-02T08:20:25+03:00",
        "seed {seed}: reported from {start}, the storm is in it"
    );
    let j = logburst(&["-o", "json", "--min-clients", "2", p]).json();
    assert!(j["incidents"].as_array().unwrap().is_empty(), "{j}");
    assert!(
        j["notes"].to_string().contains("went to one client"),
        "{}",
        j["notes"]
    );
}

/// A seed whose chance failures make the scenario above (found by trying
/// seeds with `LB_STORM_SEED`; most give a burst the minute sees, which
/// holds the storm).
const STORM_SEED: u64 = 10;
