//! Application and service signals: found in application logs (text with
//! tracebacks, Java stack traces, JSON) and in journal framing, placed in
//! time, put on the incident timeline and offered as the probable cause.

use crate::common;

use common::*;
use serde_json::Value;

fn json_of(args: &[&str]) -> Value {
    let r = logburst(args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json()
}

/// A web-01 access log with a burst of 502s from 07:00:10 to 07:05:59.
fn write_burst(host_dir: &std::path::Path) {
    write(
        host_dir,
        "access.log",
        burst_access(900, 10..360).as_bytes(),
    );
}

fn signals_of(inc: &Value) -> Vec<(String, String, String, u64)> {
    inc["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["signal"].as_str().unwrap().to_string(),
                s["process"].as_str().unwrap().to_string(),
                s["first"].as_str().unwrap().to_string(),
                s["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn python_traceback_is_the_cause_and_block_size_does_not_matter() {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("web-01");
    write_burst(&host);
    let app = std::fs::read(root().join("fixtures/formats/app-python.log")).unwrap();
    write(&host, "app.log", &app);
    let root_arg = dir.path().to_str().unwrap();
    let j = json_of(&["-o", "json", root_arg]);
    let app_in = input(&j, "app.log");
    assert_eq!(app_in["format"], "app");
    assert_eq!(app_in["malformed"], 0);
    let inc = &j["incidents"][0];
    assert_eq!(
        inc["probable_cause"],
        "python-memoryerror in app on web-01 at 07:00:05: MemoryError, 5 s before the first 5xx"
    );
    assert_eq!(
        signals_of(inc),
        vec![
            (
                "python-memoryerror".into(),
                "app".into(),
                "2023-02-02T07:00:05+03:00".into(),
                2
            ),
            (
                "gunicorn-worker".into(),
                "app".into(),
                "2023-02-02T07:00:09+03:00".into(),
                1
            ),
        ]
    );
    let s = &inc["signals"][0];
    assert!(s["source"].as_str().unwrap().ends_with("app.log:9"), "{s}");
    assert_eq!(s["last"], "2023-02-02T07:04:47+03:00");
    assert_eq!(j["totals"]["signals"], 3);
    // The continuation lines open blocks when blocks are tiny: the same.
    for block in ["256", "300", "512"] {
        let k = json_of(&["-o", "json", "--block-size", block, "-j", "2", root_arg]);
        assert_eq!(k["incidents"], j["incidents"], "block size {block}");
        assert_eq!(k["totals"], j["totals"], "block size {block}");
    }
}

#[test]
fn java_json_and_journal_signals() {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("web-02");
    write_burst(&host);
    for f in ["app-java.log", "app.jsonl", "journal-services.log"] {
        let data = std::fs::read(root().join("fixtures/formats").join(f)).unwrap();
        write(&host, f, &data);
    }
    let root_arg = dir.path().to_str().unwrap();
    let j = json_of(&[
        "-o",
        "json",
        "--signal",
        "pool-exhausted=connection pool exhausted",
        root_arg,
    ]);
    assert_eq!(input(&j, "app-java.log")["format"], "app");
    assert_eq!(input(&j, "app.jsonl")["format"], "app");
    assert_eq!(
        input(&j, "journal-services.log")["format"],
        "syslog-rfc3339"
    );
    let inc = &j["incidents"][0];
    let got: Vec<(String, String)> = signals_of(inc)
        .into_iter()
        .map(|(n, p, _, _)| (n, p))
        .collect();
    for want in [
        ("systemd-oomd", "systemd-oomd"),
        ("systemd-oomd", "systemd"),
        ("systemd-unit-oom", "systemd"),
        ("node-heap-oom", "node"),
        ("java-oom", "app-java"),
        ("pool-exhausted", "app-java"),
        ("php-fpm-child", "php-fpm"),
        ("go-oom", "imgproxy"),
        ("cpp-bad-alloc", "app"),
        ("rust-alloc", "app"),
    ] {
        assert!(
            got.contains(&(want.0.to_string(), want.1.to_string())),
            "{want:?} not in {got:?}"
        );
    }
    // The earliest signal seen by detection is the cause.
    assert!(
        inc["probable_cause"]
            .as_str()
            .unwrap()
            .starts_with("systemd-oomd on web-02 at 07:00:02: Killed /system.slice/shopapi.service due to memory pressure"),
        "{}",
        inc["probable_cause"]
    );
    let java: Vec<&Value> = inc["signals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["signal"] == "java-oom")
        .collect();
    assert_eq!(java[0]["count"], 2);
    assert_eq!(
        java[0]["text"],
        "java.lang.OutOfMemoryError: Java heap space"
    );
    // A bad --signal is a usage error.
    let r = logburst(&["--signal", "x=(", root_arg]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--signal"), "{}", r.stderr);
}

/// An OOM kill on another host is not the probable cause of one host's
/// burst; it may be of a service-wide one, and the cause then says the
/// kill was on another host.
#[test]
fn a_kill_on_another_host_is_not_the_cause_of_one_hosts_burst() {
    let dir = tempfile::tempdir().unwrap();
    let demo = root().join("fixtures/demo/web-01");
    let access = std::fs::read(demo.join("access.log")).unwrap();
    let kern = std::fs::read_to_string(demo.join("kern.log"))
        .unwrap()
        .replace(" web-01 ", " db-01 ");
    write(dir.path(), "web-01/access.log", &access);
    write(dir.path(), "db-01/kern.log", kern.as_bytes());
    let d = dir.path().to_str().unwrap();
    let args = ["-o", "json", "--tz", "+03:00", "--year", "2023", d];
    let j = logburst(&args).json();
    let burst = &j["incidents"][0];
    assert_eq!(burst["hosts"], serde_json::json!(["web-01"]));
    assert_eq!(burst["probable_cause"], serde_json::Value::Null, "{burst}");
    // The kills are still shown beside it, each with its host.
    assert_eq!(burst["oom_kills"][0]["host"], "db-01");
    // A second web host failing at the same time: a service-wide burst,
    // for which a kill elsewhere (a shared backend) may be the cause.
    let twin = String::from_utf8(access.clone())
        .unwrap()
        .replace("HTTP/1.1", "HTTP/1.0");
    write(dir.path(), "web-02/access.log", twin.as_bytes());
    let j = logburst(&args).json();
    let b = &j["incidents"][0];
    assert_eq!(b["hosts"], serde_json::json!(["web-01", "web-02"]), "{b}");
    let cause = b["probable_cause"].as_str().unwrap_or_default();
    assert!(
        cause.contains("on db-01 (another host than the incident's)"),
        "{b}"
    );
    // The kill on the burst's own host is its cause, as in the demo.
    let j = logburst(&["-o", "json", "fixtures/demo"]).json();
    let cause = j["incidents"][0]["probable_cause"].as_str().unwrap();
    assert!(
        cause.starts_with("OOM kill of python3") && !cause.contains("another host"),
        "{cause}"
    );
}

/// Memory signals with no incident around them are `oom` incidents of
/// their own (a host that kept answering still ran out of memory); other
/// signals (a worker timeout, one PHP script over its memory_limit) are
/// not, and a memory signal inside a burst is that burst's evidence only.
#[test]
fn memory_signals_alone_are_oom_incidents() {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("web-01");
    // An hour of healthy traffic, then a burst from 07:55:00 to 07:56:59.
    write(
        &host,
        "access.log",
        burst_access(3600, 3300..3420).as_bytes(),
    );
    let app = "\
2023-02-02 07:20:00.100 [exec-3] ERROR o.a.c.c.C.[dispatcherServlet] - Servlet.service() threw exception
java.lang.OutOfMemoryError: Java heap space
\tat java.base/java.util.Arrays.copyOf(Arrays.java:3512)
2023-02-02 07:20:41.000 [exec-4] ERROR c.s.api.Report - java.lang.OutOfMemoryError: Java heap space
2023-02-02 07:30:00.000 [main] ERROR c.s.Workers - WORKER TIMEOUT (pid:21)
2023-02-02 07:35:00.000 [main] ERROR c.s.Php - PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate 20480 bytes)
2023-02-02 07:55:05.000 [exec-5] ERROR c.s.api.Report - java.lang.OutOfMemoryError: Metaspace
";
    write(&host, "app.log", app.as_bytes());
    let journal = "2023-02-02T07:40:02+0300 web-01 systemd-oomd[840]: Killed /system.slice/shopapi.service due to memory pressure for /system.slice being 81.07% > 80.00% for > 20s with reclaim activity\n";
    write(&host, "journal.log", journal.as_bytes());
    let d = dir.path().to_str().unwrap();
    let j = json_of(&["-o", "json", d]);
    let kinds: Vec<(&str, &str)> = j["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["kind"].as_str().unwrap(), i["start"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("oom", "2023-02-02T07:20:00+03:00"),
            ("oom", "2023-02-02T07:40:02+03:00"),
            ("error-burst", "2023-02-02T07:55:00+03:00"),
        ],
        "{j}"
    );
    let java = &j["incidents"][0];
    assert_eq!(java["end"], "2023-02-02T07:20:41+03:00");
    assert_eq!(java["hosts"], serde_json::json!(["web-01"]));
    assert_eq!(
        java["probable_cause"],
        "java-oom in app on web-01 at 07:20:00: java.lang.OutOfMemoryError: Java heap space"
    );
    assert_eq!(signals_of(java)[0].3, 2, "{java}");
    assert_eq!(java["oom_kills"], serde_json::json!([]));
    let oomd = &j["incidents"][1];
    assert_eq!(signals_of(oomd)[0].0, "systemd-oomd");
    // The Metaspace error inside the burst is the burst's, after its onset.
    let burst = &j["incidents"][2];
    assert_eq!(signals_of(burst)[0].0, "java-oom");
    assert_eq!(j["totals"]["signals"], 6, "{}", j["totals"]);
    // The text report words it as memory, not kills.
    let r = logburst(&[d]);
    assert!(r.stdout.contains("first memory signal"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("no 5xx burst, traffic gap or slow responses around these memory signals"),
        "{}",
        r.stdout
    );
    let md = logburst(&["-o", "markdown", d]);
    assert!(
        md.stdout.contains("Memory ran out on web-01"),
        "{}",
        md.stdout
    );
}

/// The built-in signals are programs' words: a kernel message is searched
/// only for the kernel's own (OOM kills) and the user's `--signal`s, by
/// the block search and by the line's own alike, whatever the block size
/// (the repeated-frame path and the parsed path see the same).
#[test]
fn kernel_messages_hold_only_the_kernel_s_and_the_user_s_signals() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::new();
    for s in 0..40 {
        let at = format!("Feb  2 07:00:{s:02} web-01");
        log += &format!("{at} kernel: [ {s}.1] [UFW BLOCK] IN=eth0 SRC=10.0.0.{s}\n");
        log += &format!("{at} kernel: [ {s}.2] java.lang.OutOfMemoryError: Java heap space\n");
        if s % 10 == 3 {
            log += &format!("{at} kernel: [ {s}.3] Oops: general protection fault\n");
            log += &format!("{at} app[12]: java.lang.OutOfMemoryError: Java heap space\n");
        }
    }
    let f = write(dir.path(), "syslog", log.as_bytes());
    let path = f.to_str().unwrap();
    let args = ["-o", "json", "--year", "2023", "--signal", "oops=Oops"];
    let j = json_of(&[&args[..], &[path]].concat());
    assert_eq!(j["totals"]["signals"], 8, "{}", j["totals"]);
    let inc = &j["incidents"][0];
    let got: Vec<(String, String, u64)> = signals_of(inc)
        .into_iter()
        .map(|(n, p, _, c)| (n, p, c))
        .collect();
    assert!(
        got.contains(&("java-oom".into(), "app".into(), 4)),
        "{got:?}"
    );
    assert!(
        got.iter().all(|(n, p, _)| n != "java-oom" || p == "app"),
        "{got:?}"
    );
    for block in ["200", "333", "4096"] {
        let k = json_of(&[&args[..], &["--block-size", block, "-j", "2", path]].concat());
        assert_eq!(k["totals"], j["totals"], "block size {block}");
        assert_eq!(k["incidents"], j["incidents"], "block size {block}");
    }
}

/// nginx writes a PHP-FPM worker's stderr as one message over several
/// lines (`FastCGI sent in stderr: "PHP message: …` then one `PHP message:`
/// line for each line PHP wrote; Beats' nginx error test log). The later
/// lines are the message's: read, not malformed, and searched for signals
/// at its time. The memory limit below was missed before.
#[test]
fn an_nginx_error_s_fastcgi_lines_are_read_and_searched() {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("web-01");
    write_burst(&host);
    write(
        &host,
        "error.log",
        br#"2023/02/02 07:00:01 [error] 2058#2058: *18 FastCGI sent in stderr: "PHP message: PHP Warning:  Declaration of FEE_Field_Terms::wrap($content, $taxonomy) should be compatible with FEE_Field_Post::wrap($content, $post_id = 0) in /var/www/x/post.php on line 0
PHP message: PHP Warning:  Declaration of FEE_Field_Tags::wrap($content, $before) should be compatible with FEE_Field_Terms::wrap($content, $taxonomy) in /var/www/x/post.php on line 0
PHP message: PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate 20480 bytes) in /var/www/x/wp-db.php on line 1889" while reading response header from upstream, client: 10.1.2.3, server: shop, request: "GET / HTTP/1.1", upstream: "fastcgi://unix:/run/php/php7.4-fpm.sock:", host: "shop.example"
2023/02/02 07:00:05 [error] 2058#0: *3 open() "/usr/share/nginx/html/x" failed (2: No such file or directory), client: 127.0.0.1, server: localhost, request: "GET /x HTTP/1.1", host: "localhost"
"#,
    );
    let j = json_of(&["-o", "json", dir.path().to_str().unwrap()]);
    let e = input(&j, "error.log");
    assert_eq!(e["format"], "nginx-error", "{e}");
    assert_eq!(
        (e["parsed"].as_u64(), e["malformed"].as_u64()),
        (Some(4), Some(0)),
        "{e}"
    );
    let got = signals_of(&j["incidents"][0]);
    assert_eq!(
        got,
        vec![(
            "php-memory-limit".to_string(),
            // The server's error log under its usual name: nginx's.
            "nginx".to_string(),
            "2023-02-02T07:00:01+03:00".to_string(),
            1
        )],
        "{}",
        j["incidents"][0]
    );
}

/// Apache's error log under RHEL's name (`error_log`): a PHP memory limit
/// in it is Apache's, not a process called `error_log`.
#[test]
fn an_apache_error_log_s_signals_are_apache_s() {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("web-01");
    write_burst(&host);
    write(
        &host,
        "error_log",
        b"[Thu Feb 02 07:00:01.123456 2023] [php:error] [pid 1234] [client 10.1.2.3:5555] PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate 20480 bytes) in /var/www/x/wp-db.php on line 1889\n",
    );
    let j = json_of(&["-o", "json", dir.path().to_str().unwrap()]);
    assert_eq!(input(&j, "error_log")["format"], "apache-error", "{j}");
    let got = signals_of(&j["incidents"][0]);
    assert_eq!(got.len(), 1, "{}", j["incidents"][0]);
    assert_eq!(
        (got[0].0.as_str(), got[0].1.as_str()),
        ("php-memory-limit", "apache")
    );
}

/// `journalctl -o json`: each entry's program is the one its
/// SYSLOG_IDENTIFIER names (not the file's name), its host `_HOSTNAME`, its
/// time the UTC microseconds; the kernel's kill is an OOM kill of that
/// host, and a message written with escaped quotes is searched decoded.
#[test]
fn a_journal_json_export_names_each_entry_s_program_and_host() {
    let dir = tempfile::tempdir().unwrap();
    let data = std::fs::read(root().join("fixtures/formats/journal-json.jsonl")).unwrap();
    let p = dir.path().join("dump.json");
    std::fs::write(&p, data).unwrap();
    let j = json_of(&["-o", "json", p.to_str().unwrap()]);
    assert_eq!(j["inputs"][0]["format"], "journal-json");
    assert_eq!(j["inputs"][0]["first"], "2023-02-02T05:00:12+00:00");
    // One incident: the kill, and the signals of the next 14 s after it
    // (the unit's failure, oomd, the runtime's error) as its evidence.
    assert_eq!(j["incidents"].as_array().map(Vec::len), Some(1), "{j}");
    let kill = &j["incidents"][0];
    assert_eq!(kill["kind"], "oom");
    assert_eq!(kill["oom_kills"][0]["host"], "web-03");
    assert_eq!(kill["oom_kills"][0]["pid"], 4242);
    assert_eq!(kill["oom_kills"][0]["process"], "java");
    let got: Vec<(String, String)> = signals_of(kill)
        .into_iter()
        .map(|(n, p, _, _)| (n, p))
        .collect();
    let want: Vec<(String, String)> = [
        ("systemd-unit-oom", "systemd"),
        ("systemd-oomd", "systemd-oomd"),
        ("java-oom", "java"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want);
    // The daemon named after its signal is not named twice.
    let timeline = kill["timeline"].to_string();
    assert!(timeline.contains("systemd-oomd on web-03:"), "{timeline}");
}

/// `journalctl -o json-pretty` (each entry an indented object) reads as
/// the one-line export does: the same entries, kills and signals.
#[test]
fn a_pretty_journal_export_reads_as_the_one_line_export() {
    let dir = tempfile::tempdir().unwrap();
    let lines =
        std::fs::read_to_string(root().join("fixtures/formats/journal-json.jsonl")).unwrap();
    let mut pretty = String::new();
    for l in lines.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        pretty.push_str(&serde_json::to_string_pretty(&v).unwrap());
        pretty.push('\n');
    }
    let one = dir.path().join("one.json");
    let many = dir.path().join("pretty.json");
    std::fs::write(&one, lines).unwrap();
    std::fs::write(&many, pretty).unwrap();
    let a = json_of(&["-o", "json", one.to_str().unwrap()]);
    let b = json_of(&["-o", "json", many.to_str().unwrap()]);
    assert_eq!(b["inputs"][0]["format"], "journal-json");
    assert_eq!(a["totals"], b["totals"]);
    assert_eq!(a["inputs"][0]["parsed"], b["inputs"][0]["parsed"]);
    let shown = |j: &Value| {
        j["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["timeline"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(shown(&a), shown(&b));
}

/// A kernel kill and, a second later, systemd's report that the killed
/// unit failed with result 'oom-kill' are one `oom` incident of the kill,
/// lasting until the report (the layout of real syslog pastes, kill line
/// first); they were two incidents before.
#[test]
fn a_unit_failing_after_its_kill_is_the_kill_s_incident() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("syslog");
    std::fs::write(
        &p,
        "2023-02-02T07:00:10.100000+00:00 app-7 kernel: Out of memory: Killed process 5120 (worker) total-vm:4194304kB, anon-rss:3145728kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:6144kB oom_score_adj:0\n\
         2023-02-02T07:00:11.300000+00:00 app-7 systemd[1]: worker.service: Main process exited, code=killed, status=9/KILL\n\
         2023-02-02T07:00:11.300200+00:00 app-7 systemd[1]: worker.service: Failed with result 'oom-kill'.\n\
         2023-02-02T07:09:00.000000+00:00 app-7 systemd[1]: other.service: Failed with result 'oom-kill'.\n",
    )
    .unwrap();
    let j = json_of(&["-o", "json", p.to_str().unwrap()]);
    let kinds: Vec<(&str, &str, &str, usize)> = j["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap(),
                i["start"].as_str().unwrap(),
                i["end"].as_str().unwrap(),
                i["oom_kills"].as_array().map_or(0, Vec::len),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (
                "oom",
                "2023-02-02T07:00:10+00:00",
                "2023-02-02T07:00:11+00:00",
                1
            ),
            // Nine minutes on: a failure of its own.
            (
                "oom",
                "2023-02-02T07:09:00+00:00",
                "2023-02-02T07:09:00+00:00",
                0
            ),
        ]
    );
    let signals = signals_of(&j["incidents"][0]);
    assert_eq!(signals.len(), 1, "{signals:?}");
    assert_eq!(signals[0].0, "systemd-unit-oom");
}
