//! Custom nginx formats: the demo outage re-written through a custom
//! `log_format` (ISO time, upstream fields) and through an `escape=json`
//! template with `$msec`, read with `--nginx-log-format` and through an
//! nginx.conf, gives the same incident as the stock combined log.

use crate::common;

use common::*;
use serde_json::Value;

/// The fields of one combined line of the demo.
struct Fields {
    ip: String,
    time: String,
    request: String,
    status: String,
    bytes: String,
    agent: String,
}

fn split_combined(line: &str) -> Fields {
    let ip = line.split(' ').next().unwrap().to_string();
    let t0 = line.find('[').unwrap();
    let time = line[t0 + 1..t0 + 27].to_string();
    let r0 = t0 + 30;
    let r1 = r0 + line[r0..].find("\" ").unwrap();
    let request = line[r0..r1].to_string();
    let mut rest = line[r1 + 2..].splitn(3, ' ');
    let status = rest.next().unwrap().to_string();
    let bytes = rest.next().unwrap().to_string();
    let tail = rest.next().unwrap_or("");
    let agent = tail.rsplit('"').nth(1).unwrap_or("-").to_string();
    Fields {
        ip,
        time,
        request,
        status,
        bytes,
        agent,
    }
}

/// `02/Feb/2023:07:00:22 +0300` → (`2023-02-02T07:00:22+03:00`, epoch).
fn times(clf: &str) -> (String, i64) {
    let (utc, off) = logburst::internals::time::parse_clf(clf.as_bytes()).unwrap();
    (logburst::internals::time::rfc3339(utc, off), utc)
}

fn demo_lines() -> Vec<Fields> {
    let text = std::fs::read_to_string(root().join("fixtures/demo/web-01/access.log")).unwrap();
    text.lines().map(split_combined).collect()
}

const TIMED: &str = r#"$time_iso8601 $host "$request" $status $body_bytes_sent rt=$request_time ua=$upstream_addr us=$upstream_status "$http_user_agent""#;
const JSON: &str = r#"{"ts":"$msec","remote":"$remote_addr","request":"$request","status":$status,"urt":"$upstream_response_time"}"#;

fn timed_log() -> String {
    let mut out = String::new();
    for f in demo_lines() {
        let (iso, _) = times(&f.time);
        let (upstream, ustatus) = if f.status.starts_with('5') {
            (
                "10.0.0.5:5000, 10.0.0.6:5000",
                format!("{}, {}", f.status, f.status),
            )
        } else {
            ("10.0.0.5:5000", f.status.clone())
        };
        out.push_str(&format!(
            "{iso} shop.example \"{}\" {} {} rt=0.012 ua={upstream} us={ustatus} \"{}\"\n",
            f.request, f.status, f.bytes, f.agent
        ));
    }
    out
}

fn json_log() -> String {
    let mut out = String::new();
    for f in demo_lines() {
        let (_, epoch) = times(&f.time);
        let request = f.request.replace("\\x22", "\\\"");
        out.push_str(&format!(
            "{{\"ts\":\"{epoch}.250\",\"remote\":\"{}\",\"request\":\"{request}\",\"status\":{},\"urt\":\"\"}}\n",
            f.ip, f.status
        ));
    }
    out
}

/// (start, detected, end) as UTC seconds, and the totals.
fn outcome(j: &Value) -> (Vec<(i64, i64, i64)>, u64, u64) {
    let secs = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
            .unwrap()
            .timestamp()
    };
    let incidents = j["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (secs(&i["start"]), secs(&i["detected"]), secs(&i["end"])))
        .collect();
    (
        incidents,
        j["totals"]["requests"].as_u64().unwrap(),
        j["totals"]["errors"].as_u64().unwrap(),
    )
}

fn run(args: &[&str]) -> Value {
    let r = logburst(args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json()
}

#[test]
fn custom_formats_find_the_demo_outage() {
    let base = outcome(&run(&[
        "-o",
        "json",
        "web-01=fixtures/demo/web-01/access.log",
    ]));
    assert_eq!(base.0.len(), 1);
    let dir = tempfile::tempdir().unwrap();
    let timed = write(dir.path(), "timed.log", timed_log().as_bytes());
    let json = write(dir.path(), "api.log", json_log().as_bytes());

    // --nginx-log-format, detected among the custom formats.
    let j = run(&[
        "-o",
        "json",
        "--nginx-log-format",
        TIMED,
        "--nginx-log-format",
        &format!("escape=json {JSON}"),
        &format!("web-01={}", timed.display()),
        &format!("web-01b={}", json.display()),
    ]);
    assert_eq!(input(&j, "timed.log")["format"], "nginx:custom");
    assert_eq!(input(&j, "api.log")["format"], "nginx:custom-2");
    for i in j["inputs"].as_array().unwrap() {
        assert_eq!(i["malformed"], 0, "{i}");
    }
    let one = run(&[
        "-o",
        "json",
        "--nginx-log-format",
        TIMED,
        &format!("web-01={}", timed.display()),
    ]);
    // The same outage: onset, recovery, requests and 5xx. It may be found
    // sooner, never later: the custom log also names the upstreams, and
    // the second one serves only the failed requests' retries, so its
    // series (all 5xx) alerts at its 10th, before the host's window
    // holds 10 5xx beyond its busiest 5 s.
    let (inc, req, err) = outcome(&one);
    assert_eq!((req, err), (base.1, base.2));
    assert_eq!(inc.len(), 1);
    assert_eq!((inc[0].0, inc[0].2), (base.0[0].0, base.0[0].2));
    assert!(inc[0].1 <= base.0[0].1, "{inc:?} vs {base:?}");

    // Through an nginx.conf: access_log names the file's format.
    let conf = format!(
        "http {{\n  log_format timed '{TIMED}';\n  log_format api escape=json\n    '{}'\n    '{}';\n  server {{ access_log /var/log/nginx/api.log api; }}\n}}\n",
        &JSON[..30],
        &JSON[30..]
    );
    let conf = write(dir.path(), "nginx.conf", conf.as_bytes());
    let rotated = write(dir.path(), "api.log.1", json_log().as_bytes());
    let j = run(&[
        "-o",
        "json",
        "--nginx-conf",
        conf.to_str().unwrap(),
        &format!("web-01={}", rotated.display()),
    ]);
    assert_eq!(input(&j, "api.log.1")["format"], "nginx:api");
    assert_eq!(input(&j, "api.log.1")["malformed"], 0);
    assert_eq!(outcome(&j), base);
}

#[test]
fn bad_custom_formats_fail_clearly() {
    let r = logburst(&[
        "--nginx-log-format",
        "$remote_addr $request",
        "fixtures/demo",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no time"), "{}", r.stderr);
    let r = logburst(&["--nginx-conf", "/nonexistent/nginx.conf", "fixtures/demo"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("/nonexistent/nginx.conf"), "{}", r.stderr);
    let dir = tempfile::tempdir().unwrap();
    let conf = write(
        dir.path(),
        "nginx.conf",
        b"log_format stream '$remote_addr $bytes_sent';\ninclude missing.conf;\naccess_log /x/access.log stream;\n",
    );
    let r = logburst(&["--nginx-conf", conf.to_str().unwrap(), "fixtures/demo"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("log_format stream cannot be read"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("include missing.conf not found"),
        "{}",
        r.stderr
    );
}

#[test]
fn json_lines_need_no_flag() {
    let base = outcome(&run(&[
        "-o",
        "json",
        "web-01=fixtures/demo/web-01/access.log",
    ]));
    let dir = tempfile::tempdir().unwrap();
    // The nginx escape=json template's lines, and the same requests as
    // Caddy writes them.
    let nginx = write(dir.path(), "nginx.json", json_log().as_bytes());
    let mut caddy = String::new();
    for f in demo_lines() {
        let (_, epoch) = times(&f.time);
        caddy.push_str(&format!(
            "{{\"level\":\"info\",\"ts\":{epoch}.5,\"logger\":\"http.log.access\",\"msg\":\"handled request\",\"request\":{{\"remote_ip\":\"{}\",\"uri\":\"/\"}},\"status\":{}}}\n",
            f.ip, f.status
        ));
    }
    let caddy = write(dir.path(), "caddy.log", caddy.as_bytes());
    for p in [nginx, caddy] {
        let j = run(&["-o", "json", &format!("web-01={}", p.display())]);
        let i = &j["inputs"][0];
        assert_eq!(i["format"], "json", "{i}");
        assert_eq!(i["malformed"], 0, "{i}");
        assert_eq!(outcome(&j), base, "{}", p.display());
    }
}

#[test]
fn nginx_error_log_events_and_cause() {
    // The fixture alone: every line parsed, every upstream failure counted.
    let j = run(&["-o", "json", "web-01=fixtures/formats/nginx-error.log"]);
    let i = &j["inputs"][0];
    assert_eq!(i["format"], "nginx-error");
    assert_eq!(i["lines"], 12);
    assert_eq!(i["malformed"], 0);
    // 2 refused, no live, timed out, closed, reset, queue full, worker
    // killed, too big header; the warn and notice lines are not failures.
    assert_eq!(j["totals"]["upstream_failures"], 9);

    // With an access log of the same host: a burst from 07:00:10 with no
    // OOM kill is explained by the refused connections from 07:00:04.
    let dir = tempfile::tempdir().unwrap();
    let access = burst_access(1200, 10..400);
    write(dir.path(), "web-01/access.log", access.as_bytes());
    let err = std::fs::read(root().join("fixtures/formats/nginx-error.log")).unwrap();
    write(dir.path(), "web-01/error.log", &err);
    let j = run(&["-o", "json", dir.path().to_str().unwrap()]);
    let inc = &j["incidents"][0];
    assert_eq!(inc["start"], "2023-02-02T07:00:10+03:00");
    assert_eq!(
        inc["probable_cause"],
        "upstream 127.0.0.1:5000 refused connections from 07:00:04"
    );
    let ups = inc["upstream_failures"].as_array().unwrap();
    assert_eq!(ups[0]["upstream"], "127.0.0.1:5000");
    assert_eq!(ups[0]["kind"], "refused");
    assert_eq!(ups[0]["count"], 2);
    assert_eq!(ups[0]["first"], "2023-02-02T07:00:04+03:00");
    assert_eq!(ups[0]["last"], "2023-02-02T07:00:05+03:00");
    assert!(ups
        .iter()
        .any(|u| u["upstream"] == "shopapi" && u["kind"] == "no-live-upstreams"));
    assert!(ups
        .iter()
        .any(|u| u["upstream"] == "unix:/run/php/php-fpm.sock" && u["kind"] == "queue-full"));
    assert!(ups.iter().any(|u| u["kind"] == "worker-killed"));
    let timeline = inc["timeline"].as_array().unwrap();
    assert_eq!(timeline[0]["event"], "upstream");
    assert_eq!(timeline[0]["time"], "2023-02-02T07:00:04+03:00");
    // The error log's zone comes from the host's access log.
    assert!(j["notes"]
        .to_string()
        .contains("error.log: the log has no time zone; read in +03:00"));
    // And the text report shows the cause and the timeline line.
    let r = logburst(&[dir.path().to_str().unwrap()]);
    assert!(
        r.stdout
            .contains("cause     upstream 127.0.0.1:5000 refused connections from 07:00:04"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("127.0.0.1:5000 refused connections on web-01: 2 times until 07:00:05"),
        "{}",
        r.stdout
    );
}

/// The demo's requests as HAProxy writes them (accept date, local time),
/// with or without syslog framing, and as Envoy writes them.
fn haproxy_log(framed: bool) -> String {
    let mut out = String::new();
    for (i, f) in demo_lines().iter().enumerate() {
        // 02/Feb/2023:07:00:22 +0300 → accept date 02/Feb/2023:07:00:22.123
        let accept = format!("{}.{:03}", &f.time[..20], i % 1000);
        let msg = format!(
            "{}:{} [{accept}] https-in~ shop/web-01 0/0/1/12/13 {} {} - - ---- 3/3/1/1/0 0/0 \"{}\"",
            f.ip,
            40_000 + i % 20_000,
            f.status,
            f.bytes,
            f.request
        );
        if framed {
            let clock = &f.time[12..20];
            out.push_str(&format!("Feb  2 {clock} lb-01 haproxy[1204]: {msg}\n"));
        } else {
            out.push_str(&msg);
            out.push('\n');
        }
    }
    out
}

fn envoy_log() -> String {
    let mut out = String::new();
    for f in demo_lines() {
        let (_, epoch) = times(&f.time);
        let iso = chrono::DateTime::from_timestamp(epoch, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ");
        let flags = if f.status.starts_with('5') { "UF" } else { "-" };
        out.push_str(&format!(
            "[{iso}] \"{}\" {} {flags} 0 {} 12 11 \"{}\" \"{}\" \"req-1\" \"shop.example\" \"10.0.0.5:5000\"\n",
            f.request, f.status, f.bytes, f.ip, f.agent
        ));
    }
    out
}

#[test]
fn three_front_ends_give_the_same_incident() {
    let base = outcome(&run(&[
        "-o",
        "json",
        "web-01=fixtures/demo/web-01/access.log",
    ]));
    let dir = tempfile::tempdir().unwrap();
    let framed = write(dir.path(), "haproxy.log", haproxy_log(true).as_bytes());
    let raw = write(dir.path(), "haproxy-raw.log", haproxy_log(false).as_bytes());
    let envoy = write(dir.path(), "envoy.log", envoy_log().as_bytes());
    let json = write(dir.path(), "api.json", json_log().as_bytes());
    let timed = write(dir.path(), "timed.log", timed_log().as_bytes());

    // HAProxy through syslog: the host is the frame's, the zone from --tz.
    let j = run(&[
        "-o",
        "json",
        "--tz",
        "+03:00",
        "--year",
        "2023",
        framed.to_str().unwrap(),
    ]);
    assert_eq!(input(&j, "haproxy.log")["format"], "syslog");
    assert_eq!(input(&j, "haproxy.log")["malformed"], 0);
    assert_eq!(j["incidents"][0]["hosts"], serde_json::json!(["lb-01"]));
    assert_eq!(outcome(&j), base);
    // Raw HAProxy lines; the zone from the same host's zoned access log.
    let j = run(&[
        "-o",
        "json",
        &format!("web-01={}", raw.display()),
        &format!("web-01={}", timed.display()),
        "--nginx-log-format",
        TIMED,
    ]);
    assert_eq!(input(&j, "haproxy-raw.log")["format"], "haproxy");
    assert!(
        j["notes"]
            .to_string()
            .contains("haproxy-raw.log: the log has no time zone; read in +03:00"),
        "{}",
        j["notes"]
    );
    // Both logs hold the outage: twice the requests, the same onset and
    // recovery, detected within seconds of the single log (sooner: the
    // custom log's second upstream sees only the failed requests' retries,
    // see above).
    let (inc, req, err) = outcome(&j);
    assert_eq!((req, err), (base.1 * 2, base.2 * 2));
    assert_eq!((inc[0].0, inc[0].2), (base.0[0].0, base.0[0].2));
    assert!(
        (0..=20).contains(&(base.0[0].1 - inc[0].1)),
        "{inc:?} vs {base:?}"
    );
    // Alone, with the zone given: exactly the stock log's incident.
    let j = run(&[
        "-o",
        "json",
        "--tz",
        "+03:00",
        &format!("web-01={}", raw.display()),
    ]);
    assert_eq!(outcome(&j), base);
    // Envoy and JSON.
    for p in [&envoy, &json] {
        let j = run(&["-o", "json", &format!("web-01={}", p.display())]);
        assert_eq!(j["inputs"][0]["malformed"], 0, "{}", p.display());
        assert_eq!(outcome(&j), base, "{}", p.display());
    }
    assert_eq!(
        run(&["-o", "json", envoy.to_str().unwrap()])["inputs"][0]["format"],
        "envoy"
    );
}

#[test]
fn apache_vhost_combined() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for f in demo_lines() {
        text.push_str(&format!(
            "shop.example:443 {} - - [{}] \"{}\" {} {} \"-\" \"{}\"\n",
            f.ip, f.time, f.request, f.status, f.bytes, f.agent
        ));
    }
    let p = write(dir.path(), "other_vhosts_access.log", text.as_bytes());
    let j = run(&["-o", "json", &format!("web-01={}", p.display())]);
    assert_eq!(j["inputs"][0]["format"], "combined");
    assert_eq!(j["inputs"][0]["malformed"], 0);
    let base = outcome(&run(&[
        "-o",
        "json",
        "web-01=fixtures/demo/web-01/access.log",
    ]));
    assert_eq!(outcome(&j), base);
}
