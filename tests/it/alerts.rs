//! Alerts that leave the machine, against real receivers where users meet
//! them: Alertmanager (Debian's `prometheus-alertmanager`) and promtool
//! (Debian's `prometheus`), started here on loopback; webhooks and the
//! Grafana API against a loopback server that records what it is sent;
//! and targets that hang, refuse or fail, which must not hang cron.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{self, logburst, Run};

/// A request a [`Server`] was sent.
#[derive(Clone, Debug)]
struct Got {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Got {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Handler = dyn Fn(&Got, &[Got]) -> (u16, String) + Send + Sync;

/// A loopback HTTP/1.1 server answering by `handler`, recording requests.
struct Server {
    url: String,
    got: Arc<Mutex<Vec<Got>>>,
}

fn read_request(s: &mut TcpStream) -> Option<Got> {
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Got {
        method,
        path,
        headers,
        body,
    })
}

impl Server {
    fn start(handler: Box<Handler>) -> Server {
        Server::on(TcpListener::bind("127.0.0.1:0").unwrap(), handler)
    }

    fn on(l: TcpListener, handler: Box<Handler>) -> Server {
        let url = format!("http://{}", l.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                let Some(req) = read_request(&mut s) else {
                    continue;
                };
                let (status, body) = {
                    let mut all = g.lock().unwrap();
                    let answer = handler(&req, &all);
                    all.push(req);
                    answer
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Server { url, got }
    }

    fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    /// Waits up to `secs` for a request `f` accepts.
    fn wait_for(&self, secs: u64, f: impl Fn(&Got) -> bool) -> Option<Got> {
        let until = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < until {
            if let Some(g) = self.got().into_iter().find(|g| f(g)) {
                return Some(g);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }
}

fn ok() -> Box<Handler> {
    Box::new(|_, _| (200, "{}".into()))
}

/// The demo laid out in `dir/web-01`, cut mid-burst (its access log up to
/// 07:08:25, its kernel log up to the first kill), as cron would find it
/// while the outage is going on.
fn demo_cut(dir: &Path) -> PathBuf {
    let demo = common::root().join("fixtures/demo/web-01");
    let logs = dir.join("web-01");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::copy(demo.join("access.log.1.gz"), logs.join("access.log.1.gz")).unwrap();
    for (f, lines) in [("access.log", 1200), ("kern.log", 40)] {
        let all = std::fs::read_to_string(demo.join(f)).unwrap();
        let head: String = all.lines().take(lines).map(|l| format!("{l}\n")).collect();
        std::fs::write(logs.join(f), head).unwrap();
    }
    logs
}

/// The rest of the demo appended, as the logs grow after the outage.
fn demo_rest(logs: &Path) {
    let demo = common::root().join("fixtures/demo/web-01");
    for f in ["access.log", "kern.log"] {
        std::fs::copy(demo.join(f), logs.join(f)).unwrap();
    }
}

fn on_path(names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| {
        Command::new(n)
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|_| n.to_string())
    })
}

/// A child process killed when the test ends, passed or not.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Alertmanager on loopback, routing every alert to `receiver` at once.
fn alertmanager(bin: &str, dir: &Path, receiver: &str) -> (Killed, String) {
    let config = dir.join("alertmanager.yml");
    std::fs::write(
        &config,
        format!(
            "route:\n  receiver: hook\n  group_by: ['incident']\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: {receiver}/notify\n        send_resolved: true\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let child = Command::new(bin)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.path={}", dir.join("am-data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start alertmanager");
    let guard = Killed(child);
    let url = format!("http://127.0.0.1:{port}");
    let until = Instant::now() + Duration::from_secs(30);
    while ureq::get(format!("{url}/-/ready")).call().is_err() {
        assert!(Instant::now() < until, "alertmanager did not start");
        std::thread::sleep(Duration::from_millis(200));
    }
    (guard, url)
}

fn get_json(url: &str) -> serde_json::Value {
    let body = ureq::get(url)
        .call()
        .unwrap()
        .body_mut()
        .read_to_vec()
        .unwrap();
    serde_json::from_slice(&body).unwrap()
}

fn cron(state: &Path, logs: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["-q", "-o", "json", "--state", state.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.push(logs.to_str().unwrap());
    logburst(&args)
}

#[test]
fn alertmanager_pages_while_open_and_resolves_when_over() {
    let Some(bin) = on_path(&["prometheus-alertmanager", "alertmanager"]) else {
        eprintln!("SKIPPED alertmanager_pages_while_open_and_resolves_when_over: no Alertmanager on PATH (Debian: apt-get install prometheus-alertmanager; .ci/run installs it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let receiver = Server::start(ok());
    let (_am, am) = alertmanager(&bin, dir.path(), &receiver.url);
    let logs = demo_cut(dir.path());
    let state = dir.path().join("state.json");

    // Mid-burst: the incident is new and open; Alertmanager holds it and
    // pages.
    let started = Instant::now();
    let r = cron(
        &state,
        &logs,
        &["--alertmanager", &am, "--alert-label", "service=shop"],
    );
    let first_run = started.elapsed();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let inc = &r.json()["incidents"][0];
    assert_eq!(inc["status"], "new");
    assert_eq!(inc["open"], true);
    let id = inc["id"].as_str().unwrap().to_string();
    let alerts = get_json(&format!("{am}/api/v2/alerts"));
    let alerts = alerts.as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let labels = &alerts[0]["labels"];
    assert_eq!(labels["alertname"], "LogburstErrorBurst");
    assert_eq!(labels["host"], "web-01");
    assert_eq!(labels["kind"], "error-burst");
    assert_eq!(labels["severity"], "critical");
    assert_eq!(labels["service"], "shop");
    assert_eq!(labels["incident"], id.as_str());
    assert_eq!(alerts[0]["status"]["state"], "active");
    assert_eq!(alerts[0]["startsAt"], "2023-02-02T04:00:22.000Z");
    let cause = alerts[0]["annotations"]["probable_cause"].as_str().unwrap();
    assert!(
        cause.starts_with("OOM kill of python3 (pid 4242"),
        "{cause}"
    );
    let paged = receiver
        .wait_for(20, |g| g.json()["status"] == "firing")
        .expect("Alertmanager paged");
    assert_eq!(paged.json()["alerts"][0]["labels"]["incident"], id.as_str());

    // The rest of the outage: the same alert, now resolved at the burst's
    // end, and the page resolved.
    demo_rest(&logs);
    let r = cron(
        &state,
        &logs,
        &["--alertmanager", &am, "--alert-label", "service=shop"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["incidents"][0]["status"], "ended");
    assert_eq!(r.json()["incidents"][0]["id"], id.as_str());
    let resolved = receiver
        .wait_for(20, |g| g.json()["status"] == "resolved")
        .expect("Alertmanager resolved the page");
    let a = &resolved.json()["alerts"][0];
    assert_eq!(a["labels"]["incident"], id.as_str());
    assert_eq!(a["endsAt"], "2023-02-02T04:16:39Z");
    let active = get_json(&format!("{am}/api/v2/alerts?active=true"));
    assert_eq!(active, serde_json::json!([]));
    eprintln!("alertmanager: first cron run (read, detect, deliver) took {first_run:?}");
}

#[test]
fn promtool_accepts_the_textfile() {
    let dir = tempfile::tempdir().unwrap();
    let prom = dir.path().join("logburst.prom");
    let r = logburst(&[
        "-q",
        "-o",
        "json",
        "--prom",
        prom.to_str().unwrap(),
        "fixtures/demo",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&prom).unwrap();
    let requests = r.json()["totals"]["requests"].as_u64().unwrap();
    assert!(
        text.contains(&format!(
            "logburst_run_requests{{host=\"web-01\"}} {requests}\n"
        )),
        "{text}"
    );
    assert!(text.contains("logburst_incidents{kind=\"error-burst\",status=\"found\"} 1\n"));
    assert!(
        text.contains("logburst_last_detection_lag_seconds 21\n"),
        "{text}"
    );
    // No temporary file left beside it for the collector to read.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1);

    let state = dir.path().join("state.json");
    let cron_prom = dir.path().join("cron.prom");
    let r = cron(
        &state,
        Path::new("fixtures/demo"),
        &["--prom", cron_prom.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cron_text = std::fs::read_to_string(&cron_prom).unwrap();
    assert!(cron_text.contains("logburst_incidents{kind=\"error-burst\",status=\"new\"} 1\n"));

    let Some(promtool) = on_path(&["promtool"]) else {
        eprintln!("SKIPPED promtool check: no promtool on PATH (Debian: apt-get install prometheus; .ci/run installs it)");
        return;
    };
    for f in [&prom, &cron_prom] {
        let out = Command::new(&promtool)
            .args(["check", "metrics"])
            .stdin(std::fs::File::open(f).unwrap())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn webhooks_post_the_incident_with_a_header_from_the_environment() {
    let hook = Server::start(ok());
    let slack = Server::start(ok());
    let r = common::logburst_env(
        &[
            "-q",
            "--webhook",
            &format!("{}/hook", hook.url),
            "--webhook-header",
            "Authorization=HOOK_AUTH",
            "fixtures/demo",
        ],
        &[("HOOK_AUTH", "Bearer s3cret")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got = hook.got();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].method, "POST");
    assert_eq!(got[0].path, "/hook");
    assert_eq!(got[0].header("authorization"), Some("Bearer s3cret"));
    let body = got[0].json();
    assert_eq!(body["schema"], "logburst-webhook/1");
    assert_eq!(body["open"], false);
    assert_eq!(body["incident"]["kind"], "error-burst");
    assert_eq!(body["incident"]["hosts"], serde_json::json!(["web-01"]));
    assert_eq!(body["incident"]["detection_lag_seconds"], 21);

    let r = logburst(&[
        "-q",
        "--webhook",
        &slack.url,
        "--webhook-format",
        "slack",
        "--report-url",
        "https://reports.example/demo.html",
        "fixtures/demo",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = slack.got()[0].json()["text"].as_str().unwrap().to_string();
    assert!(
        text.starts_with("[RESOLVED] 5xx burst on web-01: 910 of 2,303 requests failed"),
        "{text}"
    );
    assert!(
        text.ends_with("report: https://reports.example/demo.html"),
        "{text}"
    );

    // A header whose variable is not set is a usage error, before reading.
    let r = logburst(&[
        "--webhook",
        &slack.url,
        "--webhook-header",
        "Authorization=NOT_SET_HERE",
        "fixtures/demo",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("the environment variable NOT_SET_HERE is not set"),
        "{}",
        r.stderr
    );
}

#[test]
fn grafana_annotations_are_updated_not_duplicated() {
    let grafana = Server::start(Box::new(|req, before| {
        let made = before.iter().any(|g| g.method == "POST");
        match (req.method.as_str(), made) {
            ("GET", false) => (200, "[]".into()),
            ("GET", true) => (200, r#"[{"id":7,"tags":["logburst"]}]"#.into()),
            ("POST", _) => (200, r#"{"id":7,"message":"Annotation added"}"#.into()),
            _ => (200, r#"{"message":"Annotation updated"}"#.into()),
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let logs = demo_cut(dir.path());
    let state = dir.path().join("state.json");
    let env = [("LOGBURST_GRAFANA_TOKEN", "glsa_token")];
    let args = |s: &Path| {
        vec![
            "-q".to_string(),
            "--state".into(),
            s.display().to_string(),
            "--grafana".into(),
            grafana.url.clone(),
            logs.display().to_string(),
        ]
    };
    let r = common::logburst_env(&args(&state), &env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    demo_rest(&logs);
    let r = common::logburst_env(&args(&state), &env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got = grafana.got();
    let calls: Vec<String> = got
        .iter()
        .map(|g| format!("{} {}", g.method, g.path.split('?').next().unwrap()))
        .collect();
    assert_eq!(
        calls,
        [
            "GET /api/annotations",
            "POST /api/annotations",
            "GET /api/annotations",
            "PUT /api/annotations/7"
        ]
    );
    assert!(
        got[0]
            .path
            .contains("tags=logburst-incident%3Derror-burst%2F20230202T040022Z"),
        "{}",
        got[0].path
    );
    assert!(got
        .iter()
        .all(|g| g.header("authorization") == Some("Bearer glsa_token")));
    let first = got[1].json();
    let last = got[3].json();
    assert_eq!(first["time"], 1_675_310_422_000_i64);
    assert_eq!(last["time"], first["time"]);
    assert!(
        last["timeEnd"].as_i64() > first["timeEnd"].as_i64(),
        "the region grew"
    );
    assert_eq!(last["timeEnd"], 1_675_311_399_000_i64);
    assert!(first["text"].as_str().unwrap().ends_with("(open)"));
    assert!(last["text"].as_str().unwrap().ends_with("(ended)"));
}

#[test]
fn a_target_that_hangs_refuses_or_fails_does_not_hang_cron() {
    // Hangs: accepts, reads, never answers.
    let hang = TcpListener::bind("127.0.0.1:0").unwrap();
    let hang_url = format!("http://{}", hang.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in hang.incoming() {
            held.push(s);
        }
    });
    let failing = Server::start(Box::new(|_, _| (500, r#"{"error":"down"}"#.into())));
    let closed = free_port();
    let closed_url = format!("http://127.0.0.1:{closed}/hook");

    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let started = Instant::now();
    let r = cron(
        &state,
        Path::new("fixtures/demo"),
        &[
            "--alertmanager",
            &hang_url,
            "--webhook",
            &format!("{}/hook", failing.url),
            "--webhook",
            &closed_url,
            "--deliver-timeout",
            "5s",
        ],
    );
    let took = started.elapsed();
    assert_eq!(r.code, 3, "exit 3: a delivery failed\n{}", r.stderr);
    assert!(
        took < Duration::from_secs(15),
        "bounded by --deliver-timeout: {took:?}"
    );
    // Each failure is a warning (in the JSON here; on stderr without -q).
    let warnings = r.json()["warnings"].to_string();
    assert!(
        warnings.contains(&format!("Alertmanager {hang_url} not reached")),
        "{warnings}"
    );
    assert!(warnings.contains("HTTP 500"), "{warnings}");
    assert!(
        warnings.contains(&format!("webhook {closed_url} not reached")),
        "{warnings}"
    );
    assert!(
        warnings.contains("3 messages not delivered: kept in the state"),
        "{warnings}"
    );
    assert_eq!(failing.got().len(), 3, "a 5xx is tried three times");
    // The state was saved: what was read is not read again.
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(saved["outbox"].as_array().unwrap().len(), 3);

    // The next run, with the webhook back: the kept message is delivered,
    // nothing is read again, and the others (no longer given) are dropped.
    let back = Server::on(TcpListener::bind(("127.0.0.1", closed)).unwrap(), ok());
    let r = cron(
        &state,
        Path::new("fixtures/demo"),
        &["--webhook", &closed_url],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["totals"]["requests"], 0, "nothing read twice");
    let got = back.got();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["incident"]["kind"], "error-burst");
    let notes = r.json()["notes"].to_string();
    assert!(notes.contains("dropped: it is no longer given"), "{notes}");
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert!(saved.get("outbox").is_none(), "{saved}");
    eprintln!("a hanging, a failing and a closed target: the run ended in {took:?} with --deliver-timeout 5s");
}

#[test]
fn bad_alerting_flags_are_refused_before_reading() {
    for (args, says) in [
        (
            vec!["--alertmanager", "am:9093"],
            "not an http:// or https:// URL",
        ),
        (
            vec!["--alert-label", "alertname=X"],
            "logburst sets 'alertname' itself",
        ),
        (vec!["--alert-label", "9x=1"], "is not a label name"),
        (vec!["--alert-label", "novalue"], "give KEY=VALUE"),
        (
            vec!["--prom", "fixtures/demo/web-01/kern.log"],
            "it is one of the inputs",
        ),
    ] {
        let mut all = args.clone();
        all.push("fixtures/demo");
        let r = logburst(&all);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
    }
}

#[test]
fn an_open_incident_that_is_no_longer_found_has_its_alert_resolved() {
    // A state whose last run reported an incident open that this run does
    // not find again (as when a lone OOM kill is claimed by a burst as its
    // cause): its alert is resolved with the labels it was sent with.
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let r = cron(&state, Path::new("fixtures/demo"), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    // 2023-02-02 06:10:00 +03:00, an hour before the burst.
    let start = 1_675_307_400_i64;
    saved["seen"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "kind": "oom", "start": start, "detected": start, "end": start + 30, "open": true,
            "id": "oom/20230202T031000Z", "hosts": ["web-09"],
        }));
    std::fs::write(&state, serde_json::to_vec(&saved).unwrap()).unwrap();

    let am = Server::start(ok());
    let r = cron(
        &state,
        Path::new("fixtures/demo"),
        &["--alertmanager", &am.url],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["incidents"], serde_json::json!([]));
    let got = am.got();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/api/v2/alerts");
    let alert = &got[0].json()[0];
    assert_eq!(alert["labels"]["alertname"], "LogburstOOM");
    assert_eq!(alert["labels"]["incident"], "oom/20230202T031000Z");
    assert_eq!(alert["labels"]["host"], "web-09");
    assert_eq!(alert["endsAt"], "2023-02-02T03:10:31Z");
    // Resolved once: the next run does not send it again.
    let r = cron(
        &state,
        Path::new("fixtures/demo"),
        &["--alertmanager", &am.url],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(am.got().len(), 1);
}
