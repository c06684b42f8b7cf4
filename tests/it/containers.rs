//! Container envelopes: logs saved from Docker's json-file driver, the
//! kubelet's CRI files, `docker logs -t` and `docker compose logs`, read by
//! the format of the lines inside, without flags.

use crate::common::*;
use serde_json::Value;

fn json_of(args: &[&str]) -> Value {
    let r = logburst(&[&["-o", "json"][..], args].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json()
}

/// An hour of nginx `main` lines, two a second, one of each second's two
/// answered 502 from 07:20 for three minutes, with the error log's line
/// for each 502 before it (the official image sends both to stdout and
/// stderr of one container). Each line is given to `frame` with its
/// RFC 3339 time and stream.
fn outage(frame: impl Fn(&str, &str, &str) -> String) -> String {
    let mut out = String::new();
    for sec in 0..3600u32 {
        let (m, s) = (sec / 60, sec % 60);
        for k in 0..2u32 {
            let at = format!("2023-02-02T07:{m:02}:{s:02}.{:09}Z", k * 1000 + 7);
            let failing = (1200..1380).contains(&sec) && k == 0;
            if failing {
                out.push_str(&frame(&at, "stderr", &format!(
                    "2023/02/02 07:{m:02}:{s:02} [error] 29#29: *{sec} connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.{k}.{}, server: shop, request: \"GET /api/cart HTTP/1.1\", upstream: \"http://10.0.0.5:8080/api/cart\", host: \"shop\"",
                    sec % 200
                )));
            }
            let status = if failing { 502 } else { 200 };
            out.push_str(&frame(&at, "stdout", &format!(
                "10.0.{k}.{} - - [02/Feb/2023:07:{m:02}:{s:02} +0000] \"GET /api/cart HTTP/1.1\" {status} 157 \"-\" \"curl/7.88.1\" \"-\"",
                sec % 200
            )));
        }
    }
    out
}

fn docker_json(at: &str, stream: &str, line: &str) -> String {
    format!(
        "{}\n",
        serde_json::json!({"log": format!("{line}\n"), "stream": stream, "time": at})
    )
}

/// Every envelope around the same outage: every request counted, the
/// burst found at 07:20, the upstream failures as evidence, the envelope
/// named, the host the container's.
#[test]
fn every_envelope_around_an_outage() {
    let dir = tempfile::tempdir().unwrap();
    let id = "4c01db0b339c".repeat(6);
    let id = &id[..64];
    let cases: Vec<(String, String, &str, &str)> = vec![
        (
            format!("var/lib/docker/containers/{id}/{id}-json.log"),
            outage(docker_json),
            "docker-json",
            "4c01db0b339c",
        ),
        (
            "var/log/pods/shop_web-0_d5a2e4c8-8a4f-4f5e-9b1a-0c3e2f1d4b6a/nginx/0.log".into(),
            outage(|at, stream, line| format!("{at} {stream} F {line}\n")),
            "cri",
            "shop/web-0/nginx",
        ),
        (
            "web-02/docker-logs-t.log".into(),
            outage(|at, _, line| format!("{at} {line}\n")),
            "docker-t",
            "web-02",
        ),
        (
            "saved/compose.log".into(),
            outage(|_, _, line| format!("\x1b[36mweb-1  |\x1b[0m {line}\n")),
            "compose",
            "web-1",
        ),
    ];
    for (path, text, envelope, host) in cases {
        let p = write(dir.path(), &path, text.as_bytes());
        let j = json_of(&[p.to_str().unwrap()]);
        let i = &j["inputs"][0];
        assert_eq!(i["envelope"], envelope, "{i:#}");
        assert_eq!(i["format"], "main", "{i:#}");
        assert_eq!(i["host"], host, "{i:#}");
        assert_eq!(i["malformed"], 0, "{envelope}: {i:#}");
        assert_eq!(i["lines"], 7380, "{envelope}");
        assert_eq!(j["totals"]["requests"], 7200, "{envelope}");
        assert_eq!(j["totals"]["errors"], 180, "{envelope}");
        let inc = j["incidents"].as_array().unwrap();
        assert_eq!(inc.len(), 1, "{envelope}: {j:#}");
        assert_eq!(inc[0]["start"], "2023-02-02T07:20:00+00:00", "{envelope}");
        assert_eq!(inc[0]["hosts"][0], host, "{envelope}: {:#}", inc[0]);
        let failures = inc[0]["upstream_failures"].as_array().unwrap();
        assert_eq!(failures[0]["count"], 180, "{envelope}");
        // The text report names the envelope with the format.
        let r = logburst(&[p.to_str().unwrap()]);
        assert!(
            r.stdout.contains(&format!("{envelope}/main")),
            "{}",
            r.stdout
        );
    }
}

/// A line longer than the runtime's buffer arrives in pieces (CRI `P`
/// records, json-file records whose text does not end in a newline): it is
/// one request, and the line numbers after it stay the file's.
#[test]
fn split_lines_are_joined_and_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let long = "q".repeat(20_000);
    let access = |sec: u32, status: u16, path: &str| {
        format!(
            "10.0.0.1 - - [02/Feb/2023:07:00:{sec:02} +0000] \"GET /{path} HTTP/1.1\" {status} 5 \"-\" \"t\" \"-\""
        )
    };
    let whole = access(2, 502, &format!("search?q={long}"));
    let (a, rest) = whole.split_at(16_384);
    let (b, c) = rest.split_at(3000);
    let at = "2023-02-02T07:00:02.5Z";
    let cri = format!(
        "{at} stdout F {}\n{at} stdout P {a}\n{at} stdout P {b}\n{at} stdout F {c}\n{at} stdout F not a request\n{at} stdout F {}\n",
        access(1, 200, ""),
        access(3, 200, "")
    );
    let json = [a, b, c]
        .iter()
        .enumerate()
        .map(|(n, piece)| {
            let log = if n == 2 {
                format!("{piece}\n")
            } else {
                piece.to_string()
            };
            format!(
                "{}\n",
                serde_json::json!({"log": log, "stream": "stdout", "time": at})
            )
        })
        .collect::<String>();
    let json = format!(
        "{}{json}{}{}",
        docker_json(at, "stdout", &access(1, 200, "")),
        docker_json(at, "stdout", "not a request"),
        docker_json(at, "stdout", &access(3, 200, ""))
    );
    for (name, text) in [("cri/0.log", cri), ("json/x-json.log", json)] {
        let p = write(dir.path(), name, text.as_bytes());
        let j = json_of(&[p.to_str().unwrap()]);
        let i = &j["inputs"][0];
        assert_eq!(i["lines"], 6, "{name}: {i:#}");
        assert_eq!(i["parsed"], 5, "{name}: {i:#}");
        assert_eq!(i["malformed"], 1, "{name}: {i:#}");
        assert_eq!(i["malformed_lines"][0]["line"], 5, "{name}: {i:#}");
        assert_eq!(j["totals"]["requests"], 3, "{name}");
        assert_eq!(j["totals"]["errors"], 1, "{name}");
    }
}

/// An application's output in CRI or json-file: its lines carry no time of
/// their own past the first of a traceback, so the envelope's time is
/// kept; the signal is placed at it.
#[test]
fn application_lines_keep_the_envelopes_time() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        ("2023-02-02T07:00:12.100Z", "INFO starting worker"),
        (
            "2023-02-02T07:00:13.669Z",
            "Traceback (most recent call last):",
        ),
        (
            "2023-02-02T07:00:13.669Z",
            "  File \"app.py\", line 3, in <module>",
        ),
        ("2023-02-02T07:00:13.670Z", "MemoryError"),
    ];
    let cri: String = lines
        .iter()
        .map(|(at, l)| format!("{at} stderr F {l}\n"))
        .collect();
    let json: String = lines
        .iter()
        .map(|(at, l)| docker_json(at, "stderr", l))
        .collect();
    for (name, text, envelope) in [
        ("api/0.log", cri, "cri"),
        ("api/c-json.log", json, "docker-json"),
    ] {
        let p = write(dir.path(), name, text.as_bytes());
        let j = json_of(&["--tz", "+03:00", p.to_str().unwrap()]);
        let i = &j["inputs"][0];
        assert_eq!(i["format"], "app", "{i:#}");
        assert_eq!(i["envelope"], envelope, "{i:#}");
        assert_eq!(i["malformed"], 0, "{i:#}");
        assert_eq!(i["last"], "2023-02-02T10:00:13+03:00", "{i:#}");
        assert_eq!(j["totals"]["signals"], 1, "{name}: {j:#}");
    }
}

/// `docker compose logs` of several services in one file: each service
/// is its own host, read in its own format (nginx's access lines, an
/// application's output with its traceback, a cache's log that fits no
/// format), its signals and bursts its own; line numbers stay the file's.
#[test]
fn compose_services_are_each_their_own_host() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    let mut line = 0u64;
    let mut memory_error_line = 0;
    for sec in 0..3600u32 {
        let (m, s) = (sec / 60, sec % 60);
        let failing = (1200..1380).contains(&sec);
        for k in 0..2u32 {
            let status = if failing && k == 0 { 502 } else { 200 };
            text.push_str(&format!(
                "web-1  | 172.18.0.{k} - - [02/Feb/2023:07:{m:02}:{s:02} +0000] \"GET /api/cart HTTP/1.1\" {status} 157 \"-\" \"curl/7.88.1\" \"-\"\n"
            ));
            line += 1;
        }
        if sec % 60 == 0 {
            // Redis's own layout, which logburst does not read.
            text.push_str(&format!(
                "cache-1  | 1:M 02 Feb 2023 07:{m:02}:{s:02}.000 * Background saving started by pid {sec}\n"
            ));
            line += 1;
        }
        if sec == 1199 {
            text.push_str(&format!(
                "api-1  | 2023-02-02 07:{m:02}:{s:02},500 ERROR worker crashed\napi-1  | Traceback (most recent call last):\napi-1  |   File \"app.py\", line 3, in <module>\napi-1  | MemoryError\n"
            ));
            line += 4;
            memory_error_line = line;
        }
    }
    let p = write(dir.path(), "shop/compose.log", text.as_bytes());
    let r = logburst(&["-o", "json", "--tz", "+00:00", p.to_str().unwrap()]);
    let j = r.json();
    let i = &j["inputs"][0];
    assert_eq!(i["envelope"], "compose", "{i:#}");
    assert_eq!(i["lines"], line, "{i:#}");
    // The cache's lines fit no format: malformed, with their numbers.
    assert_eq!(i["malformed"], 60, "{i:#}");
    assert_eq!(i["malformed_lines"][0]["line"], 3, "{i:#}");
    assert_eq!(j["totals"]["requests"], 7200);
    let warned = i["warnings"].as_array().unwrap();
    assert!(
        warned.iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("its first lines show web-1 (main), cache-1 (no format")),
        "{i:#}"
    );
    // The burst on the web service; the application's MemoryError on its
    // own host, at its line, a memory incident of its own (signals join an
    // incident on its hosts only).
    let inc = j["incidents"].as_array().unwrap();
    assert_eq!(inc.len(), 2, "{j:#}");
    let burst = inc.iter().find(|i| i["kind"] != "oom").unwrap();
    assert_eq!(burst["start"], "2023-02-02T07:20:00+00:00");
    assert_eq!(burst["hosts"][0], "web-1", "{burst:#}");
    let memory = inc.iter().find(|i| i["kind"] == "oom").unwrap();
    assert_eq!(memory["hosts"][0], "api-1", "{memory:#}");
    // The service is its process and its host: named once.
    assert_eq!(
        memory["probable_cause"],
        "python-memoryerror on api-1 at 07:19:59: MemoryError"
    );
    let text = memory.to_string();
    assert!(text.contains("python-memoryerror"), "{memory:#}");
    assert!(
        text.contains(&format!("compose.log:{memory_error_line}")),
        "{memory:#}"
    );
    assert!(r.stderr.contains("a compose stream"), "{}", r.stderr);
}

/// A log whose lines only look framed stays what it was: an application
/// log stamped in UTC is not `docker logs -t`, a syslog line not CRI.
#[test]
fn unframed_logs_are_not_unwrapped() {
    let dir = tempfile::tempdir().unwrap();
    let app = "2023-02-02T07:00:12Z INFO starting\n2023-02-02T07:00:13Z ERROR MemoryError\n";
    let p = write(dir.path(), "api/app.log", app.as_bytes());
    let j = json_of(&[p.to_str().unwrap()]);
    assert_eq!(j["inputs"][0]["format"], "app", "{j:#}");
    assert!(j["inputs"][0].get("envelope").is_none(), "{j:#}");
    let syslog = "2023-02-02T07:00:13.123456+00:00 web-01 kernel: Out of memory: Killed process 4242 (java) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1kB oom_score_adj:0\n";
    let p = write(dir.path(), "web-01/syslog", syslog.as_bytes());
    let j = json_of(&[p.to_str().unwrap()]);
    assert_eq!(j["inputs"][0]["format"], "syslog-rfc3339");
    assert!(j["inputs"][0].get("envelope").is_none(), "{j:#}");
    assert_eq!(j["totals"]["oom_kills"], 1);
}

/// A container OOM-killed on its node: the kernel's `task_memcg` names the
/// container's cgroup, the kubelet's log path its id; the kill is named by
/// its pod, in the JSON and in the probable cause.
#[test]
fn a_containers_oom_kill_is_named_by_its_pod() {
    let dir = tempfile::tempdir().unwrap();
    let id = "ec9ee26695deb4cc72bc665efff1cf3a03fdfb12f1303e02fe9252985e084a95";
    // The access lines only: no upstream failure to be the cause instead.
    let log = outage(|at, stream, line| {
        if stream == "stdout" {
            format!("{at} {stream} F {line}\n")
        } else {
            String::new()
        }
    });
    let p = write(
        dir.path(),
        &format!("node-1/var/log/containers/web-0_shop_nginx-{id}.log"),
        log.as_bytes(),
    );
    let kern = format!(
        "2023-02-02T07:19:58.100000+00:00 node-1 kernel: oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-{id}.scope,mems_allowed=0,oom_memcg=/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-{id}.scope,task_memcg=/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-{id}.scope,task=nginx,pid=4242,uid=101\n2023-02-02T07:19:58.100100+00:00 node-1 kernel: Memory cgroup out of memory: Killed process 4242 (nginx) total-vm:1048576kB, anon-rss:524288kB, file-rss:0kB, shmem-rss:0kB, UID:101 pgtables:2048kB oom_score_adj:999\n"
    );
    let k = write(dir.path(), "node-1/kern.log", kern.as_bytes());
    let j = json_of(&[p.to_str().unwrap(), k.to_str().unwrap()]);
    let inc = j["incidents"].as_array().unwrap();
    assert_eq!(inc.len(), 1, "{j:#}");
    let kill = &inc[0]["oom_kills"][0];
    assert_eq!(kill["container"], "shop/web-0/nginx", "{kill:#}");
    let cause = inc[0]["probable_cause"]
        .as_str()
        .unwrap_or_else(|| panic!("{:#}", inc[0]));
    assert!(
        cause == "OOM kill of nginx (pid 4242, anon-rss 537 MB) in container shop/web-0/nginx at its cgroup's memory limit on node-1 at 07:19:58, 2 s before the first 5xx",
        "{cause}"
    );
}
