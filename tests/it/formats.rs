//! One test per parser, on fixtures written from the real formats: what the
//! binary reports for each (format detected, line accounting, kills found).

use crate::common;

use common::*;
use serde_json::Value;

fn json_of(args: &[&str]) -> Value {
    let r = logburst(&[&["-o", "json"][..], args].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json()
}

fn kills(j: &Value) -> Vec<(u64, String, String, String)> {
    let mut v: Vec<_> = j["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["oom_kills"].as_array().unwrap().clone())
        .map(|k| {
            (
                k["pid"].as_u64().unwrap(),
                k["process"].as_str().unwrap().to_string(),
                k["time"].as_str().unwrap().to_string(),
                k["host"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn accounting(j: &Value, format: &str, lines: u64, malformed: u64) {
    let i = &j["inputs"][0];
    assert_eq!(i["format"], format, "{i:#}");
    assert_eq!(i["lines"], lines, "{i:#}");
    assert_eq!(i["malformed"], malformed, "{i:#}");
    assert_eq!(i["parsed"].as_u64().unwrap() + malformed, lines);
}

#[test]
fn kern_log_every_oom_form_each_kill_once() {
    // Year-less RFC 3164 with kernel uptime; forms of 2.6.32, 3.10 memcg with
    // "sacrifice child", 5.x global with summary and reaper, 5.4 memcg, a
    // summary alone, a header alone (no kill), RHEL 6, "sharing same memory".
    let j = json_of(&[
        "--year",
        "2019",
        "--tz",
        "UTC",
        "fixtures/formats/oom-kern.log",
    ]);
    accounting(&j, "syslog", 18, 0);
    assert_eq!(j["totals"]["oom_kills"], 6);
    let k = kills(&j);
    let pids: Vec<u64> = k.iter().map(|k| k.0).collect();
    assert_eq!(pids, vec![900, 11726, 15925, 28438, 63214, 461754]);
    let resolved = k.iter().find(|k| k.0 == 15925).unwrap();
    assert_eq!(resolved.1, "(resolved)");
    assert_eq!(resolved.2, "2019-03-02T17:50:30+00:00");
    assert!(k.iter().all(|k| k.3 == "db-01"));
    let all: Vec<&Value> = j["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["oom_kills"].as_array().unwrap())
        .collect();
    let r = all.iter().find(|k| k["pid"] == 15925).unwrap();
    assert_eq!(r["cgroup"], "/system.slice/systemd-resolved.service");
    assert_eq!(r["trigger"], "systemd-resolve");
    assert_eq!(r["anon_rss_kb"], 4064);
    let java = all.iter().find(|k| k["pid"] == 28438).unwrap();
    // The ≤5.0 kill line lacks the prefix, but the memory cgroup's
    // decision just before it (naming the parent, 24572) makes it a
    // cgroup kill.
    assert_eq!(java["memcg"], true);
    assert_eq!(
        all.iter().find(|k| k["pid"] == 63214).unwrap()["memcg"],
        true
    );
}

#[test]
fn syslog_year_from_modification_time_across_new_year() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "db-09/kern.log",
        b"Dec 31 23:59:58 db-09 kernel: Out of memory: Killed process 10 (a) total-vm:1kB, anon-rss:1kB\n\
          Jan  1 00:00:02 db-09 kernel: Out of memory: Killed process 11 (b) total-vm:1kB, anon-rss:1kB\n",
    );
    // Last written on 3 January 2024: December is the year before.
    let jan3 = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_704_240_000);
    std::fs::File::options()
        .write(true)
        .open(&p)
        .unwrap()
        .set_modified(jan3)
        .unwrap();
    let j = json_of(&["--tz", "UTC", p.to_str().unwrap()]);
    let times: Vec<String> = kills(&j).into_iter().map(|k| k.2).collect();
    assert_eq!(
        times,
        vec!["2023-12-31T23:59:58+00:00", "2024-01-01T00:00:02+00:00"]
    );
    let notes = j["notes"].to_string();
    assert!(
        notes.contains("no year; 2024 taken from the file's modification time"),
        "{notes}"
    );
    // --year wins.
    let j = json_of(&["--tz", "UTC", "--year", "2020", p.to_str().unwrap()]);
    assert_eq!(kills(&j)[0].2, "2020-12-31T23:59:58+00:00");
}

#[test]
fn journal_short_iso_both_offset_spellings() {
    let j = json_of(&["fixtures/formats/journal-short-iso.log"]);
    accounting(&j, "syslog-rfc3339", 5, 0);
    let k = kills(&j);
    assert_eq!(k.len(), 2);
    assert_eq!(k[0].2, "2023-09-08T17:20:31+02:00");
    assert_eq!(k[1].2, "2024-03-11T09:02:10+02:00");
    assert_eq!(k[0].3, "node-1");
}

#[test]
fn journal_short_precise_and_short() {
    let j = json_of(&[
        "--year",
        "2024",
        "--tz",
        "+00:00",
        "fixtures/formats/journal-short-precise.log",
    ]);
    accounting(&j, "journal", 6, 0);
    let k = kills(&j);
    assert_eq!(
        k.iter()
            .map(|k| (k.0, k.1.as_str(), k.2.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (27438, "R", "2024-05-07T21:43:54+00:00"),
            (461754, "pt_main_thread", "2024-08-30T06:58:55+00:00"),
        ]
    );
}

#[test]
fn dmesg_t_takes_host_from_label() {
    let j = json_of(&["--tz", "UTC", "k8s-node-3=fixtures/formats/dmesg-T.log"]);
    accounting(&j, "dmesg", 6, 0);
    let k = kills(&j);
    assert_eq!(
        k.len(),
        2,
        "a 'sacrifice child' candidate plus its kill is one kill"
    );
    assert_eq!(
        k[0],
        (
            24980,
            "java".into(),
            "2017-12-07T00:13:22+00:00".into(),
            "k8s-node-3".into()
        )
    );
    assert_eq!(k[1].0, 28438);
    assert_eq!(j["inputs"][0]["host"], "k8s-node-3");
}

#[test]
fn rfc5424_and_rsyslog_rfc3339() {
    let j = json_of(&["fixtures/formats/rfc5424.log"]);
    accounting(&j, "rfc5424", 3, 0);
    assert_eq!(
        kills(&j),
        vec![(
            5150,
            "ruby".into(),
            "2024-02-02T07:00:12+01:00".into(),
            "app-3".into()
        )]
    );
    let j = json_of(&["fixtures/formats/syslog-rfc3339.log"]);
    accounting(&j, "syslog-rfc3339", 3, 0);
    assert_eq!(kills(&j)[0].0, 1042);
}

#[test]
fn access_log_flavors() {
    for (file, format, lines, errors) in [
        ("access-main.log", "main", 3, 1),
        ("access-common.log", "common", 3, 1),
        ("access-extra.log", "combined-extra", 2, 1),
    ] {
        let j = json_of(&[&format!("fixtures/formats/{file}")]);
        accounting(&j, format, lines, 0);
        assert_eq!(j["totals"]["errors"], errors, "{file}");
        assert_eq!(j["totals"]["requests"], lines, "{file}");
    }
    // Apache: first/last in the log's own offset.
    let j = json_of(&["fixtures/formats/access-common.log"]);
    assert_eq!(j["inputs"][0]["first"], "2000-10-10T13:55:36-07:00");
}

#[test]
fn ipv6_escaped_quotes_binary_and_empty_requests() {
    let j = json_of(&["fixtures/formats/access-ipv6-escapes.log"]);
    accounting(&j, "combined", 6, 1);
    assert_eq!(j["totals"]["requests"], 5);
    assert_eq!(j["totals"]["errors"], 1);
    let bad = &j["inputs"][0]["malformed_lines"][0];
    assert_eq!(bad["line"], 6);
    assert_eq!(bad["text"], "this line is not an access log line");
}

#[test]
fn forced_format_counts_what_does_not_fit() {
    // A kern.log read as an access log: every line is malformed, none dropped.
    let j = json_of(&["--log-format", "combined", "fixtures/formats/oom-kern.log"]);
    accounting(&j, "combined", 18, 18);
    assert_eq!(
        j["inputs"][0]["malformed_lines"].as_array().unwrap().len(),
        5
    );
    assert!(j["inputs"][0]["warnings"]
        .to_string()
        .contains("18 of 18 lines did not parse as combined"));
    // Nothing was read: the figures are no answer.
    assert_eq!(j["inputs"][0]["understood"], false);
}

#[test]
fn gzip_and_zstd_inputs_read_transparently() {
    let dir = tempfile::tempdir().unwrap();
    let plain = std::fs::read(root().join("fixtures/formats/access-main.log")).unwrap();
    // Not the gzip file's first lines (a copy would be read once).
    let other = String::from_utf8(plain.clone())
        .unwrap()
        .replace("GET", "HEAD");
    let zst = zstd::encode_all(other.as_bytes(), 3).unwrap();
    write(dir.path(), "web-07/access.log.3.zst", &zst);
    // Two gzip members back to back, as `cat a.gz b.gz` makes.
    let mut gz = Vec::new();
    for _ in 0..2 {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut e, &plain).unwrap();
        gz.extend(e.finish().unwrap());
    }
    write(dir.path(), "web-07/access.log.2.gz", &gz);
    let j = json_of(&[dir.path().to_str().unwrap()]);
    let z = input(&j, "access.log.3.zst");
    assert_eq!(
        (
            z["compression"].as_str(),
            z["parsed"].as_u64(),
            z["host"].as_str()
        ),
        (Some("zstd"), Some(3), Some("web-07"))
    );
    let g = input(&j, "access.log.2.gz");
    assert_eq!(
        (g["compression"].as_str(), g["parsed"].as_u64()),
        (Some("gzip"), Some(6))
    );
}

#[test]
fn raw_dmesg_needs_a_boot_time() {
    let path = "web-01=fixtures/formats/dmesg-raw.log";
    let j = json_of(&[path]);
    let i = &j["inputs"][0];
    assert_eq!(i["format"], "dmesg");
    assert_eq!(
        (i["lines"].as_u64(), i["malformed"].as_u64()),
        (Some(7), Some(0))
    );
    assert_eq!(j["totals"]["oom_kills"], 0);
    assert!(
        i["warnings"]
            .to_string()
            .contains("7 lines carry only the kernel's uptime"),
        "{i}"
    );
    // Its kill is among them: "no OOM kill" is not the log's answer, and
    // the report says so.
    let r = logburst(&[path]);
    assert!(
        r.stdout
            .contains("But this covers only what logburst understood"),
        "{}",
        r.stdout
    );
    untrusted(path, "1 OOM kill line among the lines skipped");
    // A raw line pasted above the syslog it came from (cipi-sh/cipi#190):
    // the kill is read once, from the syslog line; the raw one is said,
    // and the input stays understood.
    let dir = tempfile::tempdir().unwrap();
    let kill = "Out of memory: Killed process 1154 (php) total-vm:120284kB, anon-rss:19156kB, file-rss:3592kB, shmem-rss:0kB, UID:1002 pgtables:220kB oom_score_adj:0";
    let mixed = format!("[ 2170.372798] {kill}\nApr  6 22:28:06 myserver1 kernel: [ 2170.372482] supervisord invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0\nApr  6 22:28:06 myserver1 kernel: [ 2170.372798] {kill}\n");
    let f = write(dir.path(), "kern.log", mixed.as_bytes());
    let r = logburst(&["-o", "json", "--year", "2021", f.to_str().unwrap()]);
    let j = r.json();
    assert_eq!(j["totals"]["oom_kills"], 1, "{j}");
    assert_eq!(j["inputs"][0]["understood"], true, "{j}");
    let w = j["inputs"][0]["warnings"].to_string();
    assert!(w.contains("1 line carries only the kernel's uptime"), "{w}");
    assert!(
        w.contains("unless the same kill was also logged with a time"),
        "{w}"
    );
    // Booted at 05:00:00 +03:00: the kill 7213 s later is at 07:00:13.
    let j = json_of(&["--boot-time", "2023-02-02T05:00:00+03:00", path]);
    assert_eq!(j["inputs"][0]["warnings"], serde_json::json!([]));
    let k = kills(&j);
    assert_eq!(k.len(), 1, "{k:?}");
    assert_eq!(k[0].0, 4242);
    let t = j["incidents"][0]["oom_kills"][0]["time"].as_str().unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp(),
        1_675_310_413
    );
    let r = logburst(&["--boot-time", "yesterday", path]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--boot-time"), "{}", r.stderr);
}

#[test]
fn front_end_fixtures() {
    // (input, format, lines, requests, 5xx) — each file alone.
    let cases = [
        ("formats/haproxy.log", "syslog", 6, 3, 2),
        ("formats/envoy.log", "envoy", 4, 3, 2),
        ("formats/caddy.log", "json", 2, 2, 1),
        ("formats/traefik.json", "json", 2, 2, 1),
    ];
    for (file, format, lines, requests, errors) in cases {
        let j = json_of(&["--tz", "+03:00", "--year", "2023", &fixture(file)]);
        let i = &j["inputs"][0];
        assert_eq!(i["format"], format, "{file}");
        assert_eq!(
            (i["lines"].as_u64(), i["malformed"].as_u64()),
            (Some(lines), Some(0)),
            "{file}"
        );
        assert_eq!(j["totals"]["requests"], requests, "{file}");
        assert_eq!(j["totals"]["errors"], errors, "{file}");
    }
    // The nginx.conf: each file gets the format its access_log names.
    let j = json_of(&[
        "--nginx-conf",
        &fixture("formats/nginx/nginx.conf"),
        &fixture("formats/nginx"),
    ]);
    assert_eq!(input(&j, "shop.access.log")["format"], "nginx:timed");
    assert_eq!(input(&j, "api.access.log.1")["format"], "nginx:api");
    for i in j["inputs"].as_array().unwrap() {
        if i["path"].as_str().unwrap().ends_with(".conf") {
            continue;
        }
        assert_eq!(i["malformed"], 0, "{i}");
    }
    assert_eq!(j["totals"]["requests"], 5);
    assert_eq!(j["totals"]["errors"], 2);
}

/// Every access format yields who got the 5xx and which path failed, read
/// from its own fields: the client address without its port, the path
/// without query string or scheme and host.
#[test]
fn clients_and_paths_of_every_access_format() {
    let cases: &[(&str, u64, &[&str])] = &[
        ("access-common.log", 1, &["/cgi-bin/report"]),
        ("access-extra.log", 1, &["/"]),
        ("access-ipv6-escapes.log", 1, &["/health"]),
        ("access-main.log", 1, &["/"]),
        ("caddy.log", 1, &["/api/cart"]),
        ("envoy.log", 2, &["/api/cart", "/api/orders"]),
        ("haproxy.log", 2, &["/api/cart", "/api/orders"]),
        ("traefik.json", 1, &["/api/cart"]),
        ("nginx/api.access.log.1", 1, &["/api/cart"]),
    ];
    for (file, clients, paths) in cases {
        let path = format!("fixtures/formats/{file}");
        let j = json_of(&[
            "--detector",
            "threshold",
            "--min-errors",
            "1",
            "--min-ratio",
            "0.001",
            &path,
        ]);
        let burst = j["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["kind"] == "error-burst")
            .unwrap_or_else(|| panic!("{file}: no burst"));
        assert_eq!(burst["clients_affected"], *clients, "{file}");
        assert_eq!(burst["clients_estimated"], false, "{file}");
        let got: Vec<&str> = burst["top_paths"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["path"].as_str().unwrap())
            .collect();
        assert_eq!(got, *paths, "{file}");
    }
    // Formats without clients or paths say so with null and [].
    let j = json_of(&["fixtures/formats/oom-kern.log"]);
    for i in j["incidents"].as_array().unwrap() {
        assert_eq!(i["clients_affected"], Value::Null);
        assert_eq!(i["top_paths"], serde_json::json!([]));
    }
}

#[test]
fn iis_w3c_log_read_by_its_fields_header() {
    // Written from IIS 10's default W3C field set: two header blocks (the
    // server restarted), UTC times, substatus and win32 status after the
    // status, time-taken in milliseconds.
    let j = json_of(&["web-01=fixtures/formats/iis-w3c.log"]);
    accounting(&j, "w3c", 15, 0);
    assert_eq!(j["totals"]["requests"], 7);
    assert_eq!(j["totals"]["errors"], 3);
    let i = &j["inputs"][0];
    assert_eq!(i["first"], "2023-02-02T04:00:01+00:00");
    assert_eq!(i["last"], "2023-02-02T04:10:00+00:00");
    // Forced by name (and its alias) it reads the same.
    let forced = json_of(&["--log-format", "iis", "web-01=fixtures/formats/iis-w3c.log"]);
    assert_eq!(forced["totals"], j["totals"]);
}

/// One row per file of `fixtures/formats/`: the format it is detected as
/// and its accounting, counted by hand from the file (lines, malformed
/// lines, requests, 5xx, OOM kills, signal and upstream lines). A fixture
/// added without a row fails here, so every format has its case.
#[test]
fn every_format_fixture_detected_and_counted() {
    /// File, format, lines, malformed, requests, 5xx, OOM kills, signals.
    type Row = (&'static str, &'static str, u64, u64, u64, u64, u64, u64);
    #[rustfmt::skip]
    let table: &[Row] = &[
        // file                        format            lines bad req 5xx oom sig
        ("access-common.log",         "common",          3, 0, 3, 1, 0, 0),
        // A layout logburst does not know: read, but not as requests (see
        // custom_layout_without_its_format_is_not_trusted).
        ("access-custom-layout.log",  "syslog-rfc3339", 40, 0, 0, 0, 0, 0),
        ("access-extra.log",          "combined-extra",  2, 0, 2, 1, 0, 0),
        ("access-ipv6-escapes.log",   "combined",        6, 1, 5, 1, 0, 0),
        ("access-main.log",           "main",            3, 0, 3, 1, 0, 0),
        ("apache-error.log",          "apache-error",    7, 0, 0, 0, 0, 3),
        ("app-java.log",              "app",             8, 0, 0, 0, 0, 2),
        ("app-python.log",            "app",            17, 0, 0, 0, 0, 3),
        ("app.jsonl",                 "app",             3, 0, 0, 0, 0, 2),
        // AWS's documented field order (src/format/aws_lb.rs names the pages).
        // The 503 the load balancer answered itself is evidence too.
        ("aws-alb.log",               "aws-lb",          3, 0, 3, 2, 0, 1),
        ("aws-elb-classic.log",       "aws-lb",          3, 0, 2, 1, 0, 0),
        // Azure Front Door, Cloudflare Logpush and Google Cloud load
        // balancer entries, written from the vendors' documented fields:
        // the edge's own failures are evidence; Cloudflare's subrequest is
        // read, not counted.
        ("azure-frontdoor.jsonl",     "json",            3, 0, 3, 1, 0, 1),
        ("caddy.log",                 "json",            2, 0, 2, 1, 0, 0),
        ("cloudflare-logpush.jsonl",  "json",            4, 0, 3, 1, 0, 1),
        // AWS's documented example line and field list; the 502 is the
        // edge's own (OriginConnectError).
        ("cloudfront.log",            "w3c",             4, 0, 2, 1, 0, 1),
        // Container envelopes (src/envelope.rs): the format is that of the
        // lines inside; an entrypoint's chatter and klog lines do not fit.
        ("compose-web.log",           "main",            5, 1, 3, 1, 0, 0),
        ("cri-ingress-nginx.log",     "combined-extra",  7, 1, 4, 1, 0, 1),
        ("dmesg-T.log",               "dmesg",           6, 0, 0, 0, 2, 0),
        ("dmesg-raw.log",             "dmesg",           7, 0, 0, 0, 0, 0),
        ("docker-json-nginx.log",     "main",            6, 1, 3, 1, 0, 1),
        ("docker-t-nginx.log",        "main",            3, 0, 3, 1, 0, 0),
        // Envoy's status 0 and HAProxy's -1 (no response): read, not counted.
        ("envoy.log",                 "envoy",           4, 0, 3, 2, 0, 0),
        // The same entries as `gcloud logging read --format=json` prints
        // them: one indented array, read element by element.
        ("gcp-lb-gcloud.json",        "json",            3, 0, 3, 2, 0, 1),
        ("gcp-lb.jsonl",              "json",            3, 0, 3, 2, 0, 1),
        ("haproxy.log",               "syslog",          6, 0, 3, 2, 0, 0),
        ("iis-w3c.log",               "w3c",            15, 0, 7, 3, 0, 0),
        // lnav's sample of Imperva Incapsula's W3C export: every value
        // quoted; the second row has no status (a connection the edge
        // closed) and is malformed.
        ("incapsula-w3c.log",         "w3c",             6, 1, 1, 0, 0, 0),
        // journalctl under LANG=ru_RU: the month in Russian (апр).
        // `journalctl -o json`, fields as systemd writes them (older
        // versions with spaces around the colons): the kernel's kill, the
        // unit's and oomd's lines and a Java OOM written with escaped
        // quotes; a MESSAGE of bytes (not UTF-8) is a line like any other.
        ("journal-json.jsonl",        "journal-json",   10, 0, 0, 0, 1, 3),
        ("journal-localized.log",     "journal",         4, 0, 0, 0, 1, 2),
        ("journal-services.log",      "syslog-rfc3339",  7, 0, 0, 0, 0, 6),
        ("journal-short-iso.log",     "syslog-rfc3339",  5, 0, 0, 0, 2, 1),
        ("journal-short-precise.log", "journal",         6, 0, 0, 0, 2, 0),
        // kubectl get events -o json | jq -c '.items[]': an OOMKilling
        // event is a memory signal at its first timestamp (eventTime null).
        ("k8s-events.jsonl",          "app",             2, 0, 0, 0, 0, 1),
        // The same events as `kubectl get events -o json` prints them:
        // a List, indented by four, keys sorted; its items are the lines.
        ("kubectl-events.json",       "app",             2, 0, 0, 0, 0, 1),
        // `kubectl get events -A` as a table (src/format/kubectl.rs): the
        // kubelet's SystemOOM and node-problem-detector's OOMKilling are
        // signals; the <unknown> age is left unplaced.
        ("kubectl-events.txt",        "kubectl-events",  6, 0, 0, 0, 0, 2),
        ("logread.log",               "logread",         4, 0, 0, 0, 1, 0),
        ("nginx-error.log",           "nginx-error",    12, 0, 0, 0, 0, 9),
        // The official image's stdout: entrypoint chatter (malformed),
        // error and access lines interleaved, each read by its format.
        ("nginx-stdout-mixed.log",    "nginx-error",    21, 6, 6, 2, 0, 2),
        ("oom-kern.log",              "syslog",         18, 0, 0, 0, 6, 0),
        // Real lines of loghub's OpenStack sample (nova-api's eventlet WSGI
        // requests among nova-compute's): an application log whose
        // requests logburst does not count, and says so (below).
        ("openstack-wsgi.log",        "app",             6, 0, 0, 0, 0, 0),
        // lnav's sample of Oracle9iAS Web Cache: `#GMT-Offset: -0800`
        // (local times), quoted cookies and user agents.
        ("oracle-webcache-w3c.log",   "w3c",             7, 0, 1, 0, 0, 0),
        ("rfc5424.log",               "rfc5424",         3, 0, 0, 0, 1, 0),
        // AWS's documented entries and field order; a 503 SlowDown.
        ("s3-access.log",             "s3-access",       3, 0, 3, 1, 0, 0),
        ("syslog-rfc3339.log",        "syslog-rfc3339",  3, 0, 0, 0, 1, 0),
        ("traefik.json",              "json",            2, 0, 2, 1, 0, 0),
    ];
    let dir = root().join("fixtures/formats");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let rows: Vec<String> = table.iter().map(|r| r.0.to_string()).collect();
    assert_eq!(files, rows, "every fixture has a row, every row a fixture");
    for &(file, format, lines, malformed, requests, errors, kills, signals) in table {
        let j = json_of(&[
            "--tz",
            "+00:00",
            "--year",
            "2023",
            &format!("fixtures/formats/{file}"),
        ]);
        let (i, t) = (&j["inputs"][0], &j["totals"]);
        let got = (
            i["format"].as_str().unwrap_or("?"),
            i["lines"].as_u64(),
            i["malformed"].as_u64(),
            t["requests"].as_u64(),
            t["errors"].as_u64(),
            t["oom_kills"].as_u64(),
            t["signals"]
                .as_u64()
                .zip(t["upstream_failures"].as_u64())
                .map(|(a, b)| a + b),
        );
        let want = (
            format,
            Some(lines),
            Some(malformed),
            Some(requests),
            Some(errors),
            Some(kills),
            Some(signals),
        );
        assert_eq!(got, want, "{file}");
    }
}

/// A format found from its header whose data lines all fail (lnav's
/// sample of a W3C log with more values than its `#Fields:` names) read
/// nothing with a time: not understood, said so, rather than "0
/// requests, no incident".
#[test]
fn a_header_whose_lines_all_fail_is_not_an_answer() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "u_ex150113.log",
        b"#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query\n\
2015-01-13 00:32:17 100.79.192.81 GET /robots.txt - 80 - 157.55.39.146 Mozilla/5.0+(compatible;+bingbot/2.0) - 404 0 2 1405 242 283\n",
    );
    // Its `#Fields:` names no status, so that line is malformed too.
    let i = untrusted(f.to_str().unwrap(), "2 of 2 lines did not parse as w3c");
    assert_eq!(i["format"], "w3c", "{i}");
    // A layout that reads, over rows that do not fit it.
    let f = write(
        dir.path(),
        "u_ex150114.log",
        b"#Version: 1.0\n#Fields: date time cs-method cs-uri-stem sc-status\n\
2015-01-14 00:32:17 GET /robots.txt 404 0 2 1405\n2015-01-14 00:32:18 GET / 200 0 2 1405\n",
    );
    let i = untrusted(f.to_str().unwrap(), "no line was read as w3c: 2 of 4 lines");
    assert_eq!(i["parsed"], 2, "{i}");
}

/// The input of `path` as `-o json` reports it, after checking that it is
/// not understood and says `says` in its warnings and on stderr.
fn untrusted(path: &str, says: &str) -> Value {
    let r = logburst(&["-o", "json", path]);
    let i = r.json()["inputs"][0].clone();
    assert_eq!(i["understood"], false, "{i}");
    assert!(i["warnings"].to_string().contains(says), "{i}");
    assert!(r.stderr.contains(says), "{}", r.stderr);
    i
}

/// Caddy's own log and its access entries on one stdout (lnav's sample,
/// trimmed): read as an application's log, its requests are not counted,
/// so the input is not understood and says why.
#[test]
fn access_entries_among_an_applications_json_lines_are_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "caddy.log",
        br#"{"level":"info","ts":1761019822.3152757,"msg":"maxprocs: Leaving GOMAXPROCS=12: CPU quota undefined"}
{"level":"info","ts":1761019822.3154097,"msg":"using config from file","file":"/etc/caddy/Caddyfile"}
{"level":"info","ts":1761019822.31575,"msg":"adapted config to JSON","adapter":"caddyfile"}
{"level":"info","ts":1761019828.6153953,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"172.19.0.1","proto":"HTTP/1.1","method":"GET","host":"localhost","uri":"/"},"bytes_read":0,"duration":0.000421,"size":0,"status":502}
"#,
    );
    let i = untrusted(f.to_str().unwrap(), "1 of 4 lines look like HTTP requests");
    assert_eq!(i["format"], "app", "{i}");
}

/// HAProxy lines in a layout of its own (a captured host before the
/// timers, the client a `-`; Elastic Beats' haproxy module test log): the
/// one default httplog line among them is read, the other nine are not,
/// and the syslog they were read as says so rather than report 1 request.
#[test]
fn haproxy_requests_in_a_custom_layout_are_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("Jul 30 09:03:52 localhost haproxy[32450]: 1.2.3.4:38862 [30/Jul/2018:09:03:52.726] incoming~ docs_microservice/docs 0/0/1/0/2 304 168 - - ---- 6/6/0/0/0 0/0 {docs.example.internal||} {|||} \"GET /component---src-pages-index-js-4b15624544f97cf0bb8f.js HTTP/1.1\"\n");
    for (s, node, status, path) in [
        ("12:02:53", "app-node2", 302, "/"),
        ("12:03:01", "node16", 200, "/app/login/"),
        ("12:03:01", "node7", 200, "/23rfsa/"),
        ("12:02:59", "node16", 403, "/app/event/"),
        ("12:03:08", "node7", 404, "/favicon.ico"),
    ] {
        text.push_str(&format!("Jun 22 {s} node2 haproxy[23034]: -:47625 [22/Jun/2021:{s}.473] www-https~ app/{node} app.domain.com 0/0/1/17/18 {status} 291 - - ---- 1/1/0/0/0 0/0 \"GET {path} HTTP/1.1\"\n"));
    }
    let f = write(dir.path(), "haproxy.log", text.as_bytes());
    let i = untrusted(f.to_str().unwrap(), "5 of 6 lines look like HTTP requests");
    assert_eq!(i["format"], "syslog", "{i}");
}

/// An Envoy access line as the `message` of a collector's JSON (Elastic
/// Beats' envoyproxy test log, from Ambassador): not read, but not passed
/// over either.
#[test]
fn an_access_line_inside_a_json_message_is_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "envoy.json",
        br#"{"message":"ACCESS [2019-04-10T03:49:34.451Z] \"GET /httpbin/status/501 HTTP/1.1\" 501 - 0 0 180 179 \"172.17.0.3\" \"curl/7.59.0\" \"413bf460-bd56-4515-ada4-2a69c5e78e54\" \"httpbin.org\" \"52.71.234.219:80\"","stream":"stdout","time":"2019-02-12T18:37:43.139620629Z", "kubernetes": { "container": { "name": "ambassador" }}}
{"message":"ACCESS [2019-04-06T06:20:05.972Z] \"- - -\" 0 UF,URX 0 0 0 - \"-\" \"-\" \"-\" \"-\" \"127.0.0.1:9200\"","stream":"stdout","time":"2019-02-12T18:37:43.139620629Z", "kubernetes": { "container": { "name": "ambassador" }}}
"#,
    );
    let i = untrusted(f.to_str().unwrap(), "1 of 2 lines look like HTTP requests");
    assert_eq!(i["format"], "app", "{i}");
}

/// Traefik's JSON access log with status 0 (a request that got no
/// response: its client left, or a WebSocket took the connection over;
/// traefik/traefik#10504): read, not counted as a request and not
/// malformed, and said.
#[test]
fn requests_with_status_0_are_read_not_counted_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "traefik.json",
        br#"{"ClientAddr":"10.9.129.184:44700","DownstreamContentSize":2,"DownstreamStatus":200,"Duration":72393,"OriginStatus":200,"RequestHost":"10.9.129.184","RequestMethod":"GET","RequestPath":"/ping","RouterName":"ping@internal","StartUTC":"2022-11-01T10:19:51.640491727Z","level":"info","msg":"","time":"2022-11-01T10:19:51Z"}
{"ClientAddr":"192.0.2.1:3808","DownstreamContentSize":0,"DownstreamStatus":0,"Duration":38786475932,"OriginStatus":0,"RequestHost":"tdc.example.com","RequestMethod":"GET","RequestPath":"/api/v1/relay/ws","StartUTC":"2022-11-01T10:19:52.1Z","time":"2022-11-01T10:19:52Z"}
"#,
    );
    let r = logburst(&["-o", "json", f.to_str().unwrap()]);
    let j = r.json();
    let i = &j["inputs"][0];
    assert_eq!(
        (i["parsed"].as_u64(), i["malformed"].as_u64()),
        (Some(2), Some(0)),
        "{i}"
    );
    assert_eq!(j["totals"]["requests"], 1, "{j}");
    assert_eq!(i["understood"], true, "{i}");
    let says = "1 request got no response (status 0";
    assert!(i["warnings"].to_string().contains(says), "{i}");
    assert!(r.stderr.contains(says), "{}", r.stderr);
}

/// An OOM dump's `Mem-Info:` block, as raw dmesg prints it
/// (raspberrypi/linux#3872): the indented lines are its message's, read,
/// not malformed, and the input gets no "did not parse" warning.
#[test]
fn a_kernel_message_s_indented_lines_are_not_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "dmesg.txt",
        b"[  505.051198] Mem-Info:
[  505.052637] active_anon:239 inactive_anon:6756 isolated_anon:0
                active_file:9815 inactive_file:20182 isolated_file:128
                unevictable:3569 dirty:17048 writeback:2622
                slab_reclaimable:3496 slab_unreclaimable:8712
                mapped:5882 shmem:2558 pagetables:339
                free:919956 free_pcp:23 free_cma:128398
[  505.062633] Node 0 active_anon:956kB inactive_anon:27024kB active_file:60112kB
[  505.070000] Out of memory: Killed process 1234 (python3) total-vm:100000kB, anon-rss:50000kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:200kB oom_score_adj:0
",
    );
    let r = logburst(&[
        "-o",
        "json",
        "--boot-time",
        "2023-02-02T07:00:00Z",
        f.to_str().unwrap(),
    ]);
    let j = r.json();
    let i = &j["inputs"][0];
    assert_eq!(i["format"], "dmesg", "{i}");
    assert_eq!(
        (i["lines"].as_u64(), i["malformed"].as_u64()),
        (Some(9), Some(0)),
        "{i}"
    );
    assert_eq!(i["warnings"], serde_json::json!([]), "{i}");
    assert_eq!(j["totals"]["oom_kills"], 1, "{j}");
}

/// The other ways a log says no response was sent: nginx's `000` (no
/// status set; nginx's `$status` documentation), CloudFront's `000` (the
/// viewer closed the connection first; AWS's standard log fields) and a
/// Classic load balancer's TCP listener entry, whose status is `-` (lines
/// from goaccess#821). Each is read, not counted, and said; before, the
/// first and last were counted as successful requests and CloudFront's
/// as malformed.
#[test]
fn every_no_response_status_is_read_not_counted_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let cf = std::fs::read_to_string(fixture("formats/cloudfront.log")).unwrap();
    let row = cf
        .lines()
        .find(|l| l.contains("\t/index.html\t200\t"))
        .unwrap();
    let viewer_left = row.replace("\t/index.html\t200\t", "\t/index.html\t000\t");
    let cf = format!("{cf}{viewer_left}\n");
    let inputs = [
        (
            "nginx.log",
            "10.0.0.1 - - [03/Nov/2024:06:09:29 +0000] \"GET / HTTP/1.1\" 200 559 \"-\" \"curl/8\"\n\
             10.0.0.1 - - [03/Nov/2024:06:09:30 +0000] \"GET / HTTP/1.1\" 000 0 \"-\" \"curl/8\"\n"
                .to_string(),
            1,
        ),
        ("cloudfront.log", cf, 2),
        (
            "elb.log",
            "2017-06-19T06:00:41.850756Z kkk 203.0.113.7:61620 199.18.0.105:443 0.000391 0.000009 0.000012 - - 688 5471 \"- - - \" \"-\" - -\n\
             2017-06-19T06:00:42.850756Z kkk 203.0.113.7:61621 199.18.0.105:443 0.000391 0.000009 0.000012 404 404 688 5471 \"GET http://x:80/ HTTP/1.1\" \"-\" - -\n"
                .to_string(),
            1,
        ),
    ];
    for (name, text, requests) in inputs {
        let f = write(dir.path(), name, text.as_bytes());
        let r = logburst(&["-o", "json", f.to_str().unwrap()]);
        let j = r.json();
        let i = &j["inputs"][0];
        assert_eq!(i["malformed"].as_u64(), Some(0), "{name}: {i}");
        assert_eq!(j["totals"]["requests"], requests, "{name}: {j}");
        let says = "1 request got no response (status 0 or 000";
        assert!(i["warnings"].to_string().contains(says), "{name}: {i}");
    }
}

/// A Logback/Log4j line (`2025-01-24T07:00:30,139 INFO [main] …`, lnav's
/// Spring Boot sample) has a comma fraction but no zone: an
/// application's log, not `dmesg --time-format iso`, which always writes
/// its zone.
#[test]
fn a_java_log_with_a_comma_fraction_is_not_dmesg() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "farm.log",
        b"2025-01-24T07:00:30,139 INFO [background-preinit       ] Version                  : HV000001: Hibernate Validator 8.0.1.Final\n\
2025-01-24T07:00:30,227 INFO [main                     ] FarmApplication          : Starting FarmApplication v3.0.7 using Java 21.0.5 with PID 1\n\
2025-01-24T07:00:42,838 INFO [main                     ] FarmApplication          : Started FarmApplication in 13.531 seconds\n",
    );
    let j = json_of(&[f.to_str().unwrap()]);
    assert_eq!(j["inputs"][0]["format"], "app", "{j}");
    assert_eq!(j["inputs"][0]["malformed"], 0, "{j}");
}

/// Real OpenStack API lines (loghub's nova sample): eventlet's WSGI log
/// labels its status (`status: 200`). Read as an application log, its
/// requests are not counted, so the input is not understood and says why,
/// rather than "0 requests, no incident".
#[test]
fn labelled_status_requests_are_not_trusted_as_no_requests() {
    untrusted(
        "fixtures/formats/openstack-wsgi.log",
        "4 of 6 lines look like HTTP requests",
    );
}

/// An access log in a layout logburst does not know (the README's own
/// custom-layout example), given without its `--nginx-log-format`: read as
/// a system log, it would be "40 lines parsed, 0 requests, no incident".
/// It is marked not understood, with a warning on stderr and in the JSON,
/// and "no incident" says it covers only what was understood; with its
/// format given, its burst is found.
#[test]
fn custom_layout_without_its_format_is_not_trusted() {
    let f = "fixtures/formats/access-custom-layout.log";
    let r = logburst(&["-o", "json", f]);
    assert_eq!(r.code, 0);
    let j = r.json();
    let i = &j["inputs"][0];
    assert_eq!(i["understood"], false, "{i}");
    let w = i["warnings"].to_string();
    assert!(w.contains("40 of 40 lines look like HTTP requests"), "{w}");
    assert!(w.contains("--nginx-log-format"), "{w}");
    assert!(r.stderr.contains("look like HTTP requests"), "{}", r.stderr);
    let text = logburst(&[f]).stdout;
    assert!(
        text.contains("But this covers only what logburst understood: 1 input was not understood"),
        "{text}"
    );
    let md = logburst(&["-o", "markdown", f]).stdout;
    assert!(md.contains("not understood"), "{md}");
    // With its layout given, it is read as requests.
    let j = json_of(&[
        "--nginx-log-format",
        "$time_iso8601 $host \"$request\" $status $body_bytes_sent rt=$request_time us=$upstream_status",
        f,
    ]);
    assert_eq!(j["inputs"][0]["understood"], true);
    assert_eq!(
        (
            j["totals"]["requests"].as_u64(),
            j["totals"]["errors"].as_u64()
        ),
        (Some(40), Some(12))
    );
    // Forty requests are too few to call twelve 5xx a burst: with nothing
    // before them, they are their own normal.
    assert!(j["incidents"].as_array().unwrap().is_empty(), "{j}");
    // Understood inputs stay so.
    for clean in [
        "fixtures/demo",
        "fixtures/formats/oom-kern.log",
        "fixtures/formats/app-python.log",
    ] {
        let j = json_of(&[clean]);
        for i in j["inputs"].as_array().unwrap() {
            assert_eq!(i["understood"], true, "{i}");
        }
    }
}

/// The Apache 2.2 error log read as what it is, not as `dmesg -T` (same
/// stamp); OpenWrt's logread read with its OOM kill, not as an application
/// log that drops it.
#[test]
fn apache_error_and_logread_are_their_own_formats() {
    let j = json_of(&["fixtures/formats/apache-error.log"]);
    let i = &j["inputs"][0];
    assert_eq!(
        (i["format"].as_str(), i["malformed"].as_u64()),
        (Some("apache-error"), Some(0))
    );
    assert_eq!(i["first"], "2000-10-11T14:32:52+00:00");
    let j = json_of(&["--tz", "+02:00", "fixtures/formats/logread.log"]);
    assert_eq!(j["inputs"][0]["format"], "logread");
    let kill = &j["incidents"][0]["oom_kills"][0];
    assert_eq!(
        (kill["pid"].as_u64(), kill["process"].as_str()),
        (Some(4242), Some("python3"))
    );
    assert_eq!(kill["time"], "2023-02-02T07:00:12+02:00");
    assert_eq!(kill["trigger"], "python3");
}

/// OOM events in one second: each kill's trigger is the task named by its
/// own `invoked oom-killer` header (the one before it in the file), never
/// the next event's (a kill whose header was not logged took the next
/// event's, `celery`); a memory cgroup's "Kill process … or sacrifice
/// child" decision makes the child's kill a cgroup kill.
#[test]
fn oom_triggers_come_from_their_own_event() {
    let dir = tempfile::tempdir().unwrap();
    let log = "\\
Feb  2 07:00:13 web-01 kernel: [  100.050000] Out of memory: Killed process 4000 (redis) total-vm:4000000kB, anon-rss:3515625kB, file-rss:0kB, shmem-rss:0kB
Feb  2 07:00:13 web-01 kernel: [  100.100000] nginx invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0
Feb  2 07:00:13 web-01 kernel: [  100.200000] Out of memory: Killed process 4242 (python3) total-vm:4000000kB, anon-rss:3515625kB, file-rss:0kB, shmem-rss:0kB
Feb  2 07:00:13 web-01 kernel: [  100.300000] celery invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0
Feb  2 07:00:13 web-01 kernel: [  100.400000] Out of memory: Killed process 5151 (java) total-vm:4000000kB, anon-rss:2000000kB, file-rss:0kB, shmem-rss:0kB
Feb  2 07:05:00 web-01 kernel: [  387.000000] Memory cgroup out of memory: Kill process 6000 (gunicorn) score 990 or sacrifice child
Feb  2 07:05:00 web-01 kernel: [  387.000100] Killed process 6001 (gunicorn) total-vm:900000kB, anon-rss:500000kB, file-rss:0kB, shmem-rss:0kB
Feb  2 07:05:00 web-01 kernel: [  387.000200] worker invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0
";
    let p = write(dir.path(), "web-01/kern.log", log.as_bytes());
    let j = json_of(&["--tz", "+00:00", "--year", "2023", p.to_str().unwrap()]);
    let kills: Vec<&Value> = j["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["oom_kills"].as_array().unwrap())
        .collect();
    let by_pid = |pid: u64| {
        *kills
            .iter()
            .find(|k| k["pid"] == pid)
            .unwrap_or_else(|| panic!("{j}"))
    };
    assert_eq!(by_pid(4000)["trigger"], Value::Null);
    assert_eq!(by_pid(4242)["trigger"], "nginx");
    assert_eq!(by_pid(5151)["trigger"], "celery");
    assert_eq!(by_pid(6001)["memcg"], true, "{}", by_pid(6001));
    // A header whose kill was not logged names no earlier kill.
    assert_eq!(by_pid(6001)["trigger"], Value::Null);
    assert_eq!(kills.len(), 4);
}

/// A log whose first lines are not log lines (a banner, a configuration
/// dump) was "format not recognised", every line malformed: the format is
/// now found further in — in the head's later lines, or in the middle or
/// end of a plain file — and a warning says so. A compressed one cannot be
/// looked into further without reading it all: it still says it was not
/// recognised.
#[test]
fn a_format_is_found_past_a_banner() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let banner = |n: usize| -> String {
        (0..n)
            .map(|i| format!("#### shop-api build 1.{i}: setting key_{i} = value number {i} of the configuration dump\n"))
            .collect()
    };
    let access = burst_access(600, 300..330);
    let requests = 600 * 5;
    // 100 lines of banner: within the head.
    let short = write(
        dir.path(),
        "web-01/short.log",
        format!("{}{access}", banner(100)).as_bytes(),
    );
    let j = json_of(&[short.to_str().unwrap()]);
    accounting(&j, "combined", 100 + requests, 100);
    assert_eq!(j["totals"]["requests"], requests);
    assert_eq!(j["incidents"][0]["kind"], "error-burst", "{j}");
    assert!(
        j["inputs"][0]["warnings"]
            .to_string()
            .contains("its first 100 lines fit no format logburst knows; it was read as combined"),
        "{}",
        j["inputs"][0]["warnings"]
    );
    // 1,000 lines (about 90 KiB) of banner: past the head; found in the
    // middle of the file.
    let long = format!("{}{access}", banner(1000));
    let p = write(dir.path(), "web-01/long.log", long.as_bytes());
    let r = logburst(&["-o", "json", p.to_str().unwrap()]);
    assert!(
        r.stderr
            .contains("its first 64 KiB fit no format logburst knows; it was read as combined"),
        "{}",
        r.stderr
    );
    let j = r.json();
    accounting(&j, "combined", 1000 + requests, 1000);
    assert_eq!(j["totals"]["requests"], requests);
    // Compressed: not looked into further, and said so.
    let gz = dir.path().join("web-01/long.log.gz");
    let mut e = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    e.write_all(long.as_bytes()).unwrap();
    e.finish().unwrap();
    let j = json_of(&[gz.to_str().unwrap()]);
    assert_eq!(j["inputs"][0]["understood"], false, "{j}");
    assert!(j["inputs"][0]["warnings"]
        .to_string()
        .contains("format not recognised"));
}

/// An ALB whose targets all went away: it answers 503 itself (target `-`).
/// The burst is found, the load balancer's own answers are on its timeline
/// and are its probable cause; a 502 a target wrote is no such evidence.
#[test]
fn alb_answering_itself_is_the_probable_cause() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::new();
    for sec in 0..3600u32 {
        let stamp = format!(
            "2023-02-02T07:{:02}:{:02}.{:06}Z",
            sec / 60,
            sec % 60,
            sec * 7 % 1_000_000
        );
        for k in 0..2u32 {
            let own = (2400..2580).contains(&sec) && k == 0;
            let (target, times, status, ts) = if own {
                ("-", "-1 -1 -1", 503, "-")
            } else if sec == 100 && k == 0 {
                ("10.0.3.17:8080", "0.000 0.020 0.000", 502, "502")
            } else {
                ("10.0.3.17:8080", "0.000 0.004 0.000", 200, "200")
            };
            log.push_str(&format!(
                "https {stamp} app/shop-lb/50dc6c495c0c9188 10.1.{}.{k}:4{k}000 {target} {times} {status} {ts} 220 512 \"GET https://shop.example:443/api/cart HTTP/1.1\" \"eval\" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 - \"Root=1-x\" \"shop.example\" \"-\" 0 {stamp} \"forward\" \"-\" \"-\" \"{target}\" \"{ts}\" \"-\" \"-\"\n",
                sec % 250
            ));
        }
    }
    let p = crate::common::write(dir.path(), "shop-lb/alb.log", log.as_bytes());
    let j = json_of(&[p.to_str().unwrap()]);
    assert_eq!(j["inputs"][0]["format"], "aws-lb", "{j}");
    let inc = &j["incidents"].as_array().unwrap()[..];
    assert_eq!(inc.len(), 1, "{j}");
    assert_eq!(inc[0]["start"], "2023-02-02T07:40:00+00:00");
    let failures = inc[0]["upstream_failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{j}");
    assert_eq!(failures[0]["kind"], "lb-answered");
    assert_eq!(
        failures[0]["upstream"],
        "load balancer app/shop-lb/50dc6c495c0c9188"
    );
    assert_eq!(failures[0]["count"], 180);
    assert_eq!(
        inc[0]["probable_cause"],
        "the load balancer app/shop-lb/50dc6c495c0c9188 answered 5xx itself, no target taking the requests from 07:40:00"
    );
    // On the timeline, the load balancer named once (not "… on shop-lb").
    let timeline = inc[0]["timeline"].to_string();
    assert!(
        timeline.contains("\"load balancer app/shop-lb/50dc6c495c0c9188 answered 5xx itself, no target taking the requests: 180 times until 07:42:59\""),
        "{timeline}"
    );
}

/// A web server's container stdout: access lines with the error log's
/// lines interleaved, the startup notices first or not at all. Every
/// access line counts as a request whichever format detection chose, the
/// error lines give the failing upstream, and the report says the stream
/// was mixed.
#[test]
fn mixed_access_and_error_stream_counts_every_request() {
    let dir = tempfile::tempdir().unwrap();
    for notices in [0usize, 200] {
        let mut log = String::new();
        for i in 0..notices {
            log.push_str(&format!(
                "2023/02/02 06:59:59 [notice] 1#1: start worker process {}\n",
                i + 20
            ));
        }
        for sec in 0..3600u32 {
            let failing = (1200..1380).contains(&sec);
            for k in 0..2u32 {
                let (status, size) = if failing && k == 0 {
                    (502, 157)
                } else {
                    (200, 615)
                };
                if status == 502 {
                    log.push_str(&format!(
                        "2023/02/02 07:{:02}:{:02} [error] 29#29: *{sec} connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.{k}.{}, server: shop, request: \"GET /api/cart HTTP/1.1\", upstream: \"http://10.0.0.5:8080/api/cart\", host: \"shop\"\n",
                        sec / 60,
                        sec % 60,
                        sec % 200
                    ));
                }
                log.push_str(&format!(
                    "10.0.{k}.{} - - [02/Feb/2023:07:{:02}:{:02} +0000] \"GET /api/cart HTTP/1.1\" {status} {size} \"-\" \"curl/7.88.1\" \"-\"\n",
                    sec % 200,
                    sec / 60,
                    sec % 60
                ));
            }
        }
        let p = crate::common::write(
            dir.path(),
            &format!("web-{notices}/stdout.log"),
            log.as_bytes(),
        );
        let j = json_of(&["--tz", "+00:00", p.to_str().unwrap()]);
        let i = &j["inputs"][0];
        let primary = if notices == 0 { "main" } else { "nginx-error" };
        assert_eq!(i["format"], primary, "{i:#}");
        assert_eq!(i["malformed"], 0, "{i:#}");
        assert_eq!(j["totals"]["requests"], 7200, "{notices}: {i:#}");
        assert_eq!(j["totals"]["errors"], 180, "{notices}");
        let warned = i["warnings"].as_array().unwrap();
        assert!(
            warned
                .iter()
                .any(|w| w.as_str().unwrap().starts_with("a mixed stream")),
            "{i:#}"
        );
        let inc = j["incidents"].as_array().unwrap();
        assert_eq!(inc.len(), 1, "{notices}: {j:#}");
        assert_eq!(inc[0]["start"], "2023-02-02T07:20:00+00:00");
        let failures = inc[0]["upstream_failures"].as_array().unwrap();
        assert_eq!(failures.len(), 1, "{j:#}");
        assert_eq!(failures[0]["count"], 180);
    }
}

/// A Google Cloud load balancer with no healthy backend: its entries say
/// `failed_to_pick_backend`, which is the probable cause; the backend
/// service is the route.
#[test]
fn gcp_failed_to_pick_backend_is_the_probable_cause() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::new();
    for sec in 0..3600u32 {
        for k in 0..2u32 {
            let failing = (2400..2580).contains(&sec) && k == 0;
            let (status, details) = if failing {
                (502, "failed_to_pick_backend")
            } else {
                (200, "response_sent_by_backend")
            };
            log.push_str(&format!(
                "{{\"httpRequest\":{{\"requestMethod\":\"GET\",\"requestUrl\":\"https://shop.example/api/cart\",\"status\":{status},\"remoteIp\":\"10.1.{}.{k}\",\"latency\":\"0.004s\"}},\"jsonPayload\":{{\"statusDetails\":\"{details}\"}},\"resource\":{{\"type\":\"http_load_balancer\",\"labels\":{{\"backend_service_name\":\"web-backend\",\"forwarding_rule_name\":\"shop-https-rule\"}}}},\"timestamp\":\"2023-02-02T07:{:02}:{:02}.{k}00000Z\",\"severity\":\"INFO\"}}\n",
                sec % 250,
                sec / 60,
                sec % 60
            ));
        }
    }
    let p = crate::common::write(dir.path(), "shop-lb/requests.jsonl", log.as_bytes());
    let j = json_of(&[p.to_str().unwrap()]);
    assert_eq!(j["inputs"][0]["format"], "json", "{j}");
    let inc = j["incidents"].as_array().unwrap();
    assert_eq!(inc.len(), 1, "{j:#}");
    assert_eq!(inc[0]["start"], "2023-02-02T07:40:00+00:00");
    let failures = inc[0]["upstream_failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{j:#}");
    assert_eq!(failures[0]["kind"], "lb-answered");
    assert_eq!(failures[0]["count"], 180);
    assert_eq!(
        inc[0]["probable_cause"],
        "the load balancer shop-https-rule (failed_to_pick_backend) answered 5xx itself, no target taking the requests from 07:40:00"
    );
    assert!(
        inc[0]["routes"].to_string().contains("web-backend"),
        "{:#}",
        inc[0]
    );
}

/// Every JSON-lines fixture, written as the JSON documents tools print
/// (a kubectl `List` indented by four, and on one line; an indented array
/// as gcloud prints; the array gzipped), gives the report its lines give, but for
/// the note that says it was read as a document.
#[test]
fn json_documents_read_as_their_lines() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    for fixture in [
        "app.jsonl",
        "azure-frontdoor.jsonl",
        "caddy.log",
        "cloudflare-logpush.jsonl",
        "gcp-lb.jsonl",
        "k8s-events.jsonl",
        "traefik.json",
    ] {
        let text = std::fs::read_to_string(root().join("fixtures/formats").join(fixture)).unwrap();
        let items: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let list = serde_json::json!({"apiVersion": "v1", "items": items, "kind": "List"});
        let mut list_text = Vec::new();
        let four = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut list_text, four);
        serde::Serialize::serialize(&list, &mut ser).unwrap();
        let array = serde_json::to_string_pretty(&items).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(array.as_bytes()).unwrap();
        // The same path under each directory: host and process alike.
        let at = |bytes: &[u8]| {
            let d = tempfile::tempdir_in(dir.path()).unwrap();
            let p = common::write(d.path(), "web-01/events.log", bytes);
            (d, p.to_str().unwrap().to_string())
        };
        let (_kept, lines_copy) = at(text.as_bytes());
        let want = json_of(&["--tz", "+00:00", &lines_copy]);
        assert!(want["inputs"][0]["lines"].as_u64() > Some(0), "{fixture}");
        for (name, bytes) in [
            ("list-one-line", serde_json::to_vec(&list).unwrap()),
            ("list", list_text),
            ("array", array.into_bytes()),
            ("array-gz", gz.finish().unwrap()),
        ] {
            let (_kept, doc) = at(&bytes);
            let got = json_of(&["--tz", "+00:00", &doc]).to_string();
            let mut got: Value = serde_json::from_str(&got.replace(&doc, &lines_copy)).unwrap();
            let input = &mut got["inputs"][0];
            let warnings = input["warnings"].as_array_mut().unwrap();
            let note = warnings.iter().position(|w| {
                w.as_str()
                    .is_some_and(|w| w.starts_with("read as one JSON document"))
            });
            assert!(note.is_some(), "{fixture} as {name}: {input}");
            warnings.remove(note.unwrap());
            input["compression"] = want["inputs"][0]["compression"].clone();
            assert_eq!(got, want, "{fixture} as {name}");
        }
    }
}

/// `kubectl get events -o json`: the kernel monitor's OOMKilling event
/// about `node-1` is node-1's signal, not the file's host's (`ops`).
#[test]
fn kubectl_json_events_about_a_node_are_the_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read(root().join("fixtures/formats/kubectl-events.json")).unwrap();
    let p = common::write(dir.path(), "ops/events.json", &text);
    let j = json_of(&[p.to_str().unwrap()]);
    let signals: Vec<(String, String)> = j["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["signals"].as_array().cloned().unwrap_or_default())
        .map(|s| {
            (
                s["host"].as_str().unwrap().to_string(),
                s["name"].to_string(),
            )
        })
        .collect();
    assert!(!signals.is_empty(), "{j}");
    assert!(signals.iter().all(|(h, _)| h == "node-1"), "{signals:?}");
}

/// `kubectl get events` as a table: each row placed at the file's
/// modification time minus its age, said so in the notes; from standard
/// input, counted back from now.
#[test]
fn kubectl_event_ages_count_back_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read(root().join("fixtures/formats/kubectl-events.txt")).unwrap();
    let p = common::write(dir.path(), "ops/events.txt", &text);
    let written = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_675_321_800);
    std::fs::File::options()
        .write(true)
        .open(&p)
        .unwrap()
        .set_modified(written)
        .unwrap();
    // 2023-02-02T07:10:00Z: 12m, 6m40s and 6m32s before it.
    let j = json_of(&[p.to_str().unwrap()]);
    let input = &j["inputs"][0];
    assert_eq!(input["first"], "2023-02-02T06:58:00+00:00");
    assert_eq!(input["last"], "2023-02-02T07:03:28+00:00");
    let signal = &j["incidents"][0]["signals"][0];
    assert_eq!(signal["first"], "2023-02-02T07:03:20+00:00", "{signal}");
    // The node's events are the node's, not the file's host's.
    assert_eq!(signal["host"], "node-1", "{signal}");
    let warnings = input["warnings"].to_string();
    assert!(warnings.contains("counted back from when the file was written"));
    assert!(warnings.contains("1 row has no age"));
    // From standard input: counted back from now, minutes ago.
    let r = logburst_stdin(&["-o", "json", "-"], &text);
    let last = r.json()["inputs"][0]["last"].as_str().unwrap().to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let last = chrono::DateTime::parse_from_rfc3339(&last)
        .unwrap()
        .timestamp();
    assert!((now - 400..=now - 390).contains(&last), "{last} vs {now}");
}
