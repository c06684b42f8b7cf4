//! Alerts built from the demo's analysis, the outbox kept between runs,
//! delivery to targets that are not there, and the metrics textfile.

use super::*;
use crate::report::model::{IncidentKind, Status};
use crate::source::InputSpec;

/// The demo's analysis (one 5xx burst on web-01, caused by an OOM kill).
fn demo() -> Analysis {
    let root = env!("CARGO_MANIFEST_DIR");
    let config = crate::Config {
        inputs: vec![InputSpec::parse(&format!("{root}/fixtures/demo"))],
        ..crate::Config::default()
    };
    crate::run::analyze(&config).unwrap()
}

fn targets() -> Targets {
    Targets {
        alertmanagers: vec!["http://127.0.0.1:9/am".into()],
        webhooks: vec!["http://127.0.0.1:9/hook".into()],
        labels: vec![("service".into(), "shop".into())],
        lease: Duration::from_secs(3600),
        ..Targets::default()
    }
}

#[test]
fn an_alert_is_labelled_and_resolved_by_its_end() {
    let a = demo();
    let i = &a.incidents[0];
    let t = targets();
    let firing = alertmanager::alert(i, true, &t, 1_000_000);
    assert_eq!(firing["labels"]["alertname"], "LogburstErrorBurst");
    assert_eq!(firing["labels"]["host"], "web-01");
    assert_eq!(firing["labels"]["service"], "shop");
    assert_eq!(firing["labels"]["severity"], "critical");
    assert_eq!(firing["labels"]["incident"], i.id.as_str());
    assert_eq!(firing["startsAt"], utc(i.start.utc));
    // Open: a lease ahead of now. Over: the second after its last.
    assert_eq!(firing["endsAt"], utc(1_000_000 + 3600));
    let resolved = alertmanager::alert(i, false, &t, 1_000_000);
    assert_eq!(resolved["endsAt"], utc(i.end.utc + 1));
    let cause = resolved["annotations"]["probable_cause"].as_str().unwrap();
    assert!(cause.contains("OOM kill of python3"), "{cause}");
    // The demo's burst is over in the batch run: it goes out resolved.
    assert!(!is_open(&a, i));
    // In cron mode, first reported when already over: it fires briefly,
    // so Alertmanager pages once, and says when it ended.
    let mut new = i.clone();
    new.status = Some(Status::New);
    new.open = Some(false);
    let brief = alertmanager::alert(&new, false, &t, 1_000_000);
    assert_eq!(brief["endsAt"], utc(1_000_000 + alertmanager::SHORT_PAGE));
    assert_eq!(brief["annotations"]["ended"], utc(i.end.utc + 1));
}

#[test]
fn log_text_goes_out_escaped() {
    let mut a = demo();
    let i = &mut a.incidents[0];
    i.hosts = vec!["web\u{1b}[2J\u{202e}-01".into()];
    i.alert_hosts = i.hosts.clone();
    i.probable_cause = Some("<https://evil.example|click> & \u{7}".into());
    let t = Targets {
        webhook_format: WebhookFormat::Slack,
        ..targets()
    };
    let alert = alertmanager::alert(i, true, &t, 0).to_string();
    assert!(
        !alert.contains('\u{1b}') && !alert.contains('\u{202e}'),
        "{alert}"
    );
    let slack = webhook::body(&a, &a.incidents[0], true, &t);
    let text = slack["text"].as_str().unwrap();
    assert!(
        text.starts_with("[FIRING] 5xx burst on web\\x1B[2J"),
        "{text}"
    );
    assert!(
        text.contains("&lt;https://evil.example|click&gt; &amp; \\x07"),
        "{text}"
    );
    assert!(!text.contains('<') && !text.contains('\u{7}'), "{text}");
    assert_eq!(slack["mrkdwn"], false);
}

#[test]
fn a_kept_alert_gives_way_to_the_fresh_one_and_a_webhook_message_does_not() {
    let a = demo();
    let t = targets();
    let fresh = messages(&a, &[], &t, 0);
    assert_eq!(fresh.len(), 2, "one alert, one webhook message");
    let mut old = fresh.clone();
    for m in &mut old {
        m.body = serde_json::json!("older");
        m.tries = 2;
    }
    let gone = Message {
        target: "http://old.example".into(),
        ..old[0].clone()
    };
    old.push(gone);
    let (all, notes) = with_outbox(old, fresh.clone(), &t);
    // The kept webhook message stays, before the fresh two; the kept alert
    // is replaced; the message for a target no longer given is dropped.
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].receiver, Receiver::Webhook);
    assert_eq!(all[0].body, serde_json::json!("older"));
    assert_eq!(&all[1..], &fresh[..]);
    assert_eq!(
        notes,
        ["1 undelivered message for http://old.example dropped: it is no longer given"]
    );
}

#[test]
fn an_ongoing_incident_is_not_announced_again() {
    let mut a = demo();
    a.incidents[0].status = Some(Status::Ongoing);
    a.incidents[0].open = Some(true);
    let kinds: Vec<Receiver> = messages(&a, &[], &targets(), 0)
        .iter()
        .map(|m| m.receiver)
        .collect();
    assert_eq!(
        kinds,
        [Receiver::Alertmanager],
        "re-sent to Alertmanager only"
    );
    a.incidents[0].status = Some(Status::Ended);
    a.incidents[0].open = Some(false);
    assert_eq!(messages(&a, &[], &targets(), 0).len(), 2);
}

#[test]
fn an_unreachable_target_keeps_its_messages() {
    let a = demo();
    // Port 9 (discard) on loopback: nothing listens in a test machine.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let t = Targets {
        alertmanagers: vec![format!("http://127.0.0.1:{port}")],
        webhooks: vec![format!("http://127.0.0.1:{port}/hook")],
        limits: Limits {
            attempts: 2,
            ..Limits::default()
        },
        ..targets()
    };
    let d = send(messages(&a, &[], &t, 0), &t);
    assert_eq!(d.sent, 0);
    assert_eq!(d.kept.len(), 2);
    assert!(d.kept.iter().all(|m| m.tries == 1));
    assert_eq!(d.failures.len(), 2, "{:?}", d.failures);
    assert!(d.failures[0].contains("not reached"), "{:?}", d.failures);
}

#[test]
fn metrics_escape_label_values_and_cover_every_kind() {
    let mut a = demo();
    a.totals.hosts[0].host = "a\"b\\c\nd".into();
    let text = prom::render(&a, &prom::RunFacts::default());
    assert!(
        text.contains(r#"logburst_run_requests{host="a\"b\\c\\x0Ad"}"#),
        "{text}"
    );
    for k in ["error-burst", "traffic-gap", "latency", "oom"] {
        assert!(text.contains(&format!(
            "logburst_incidents{{kind=\"{k}\",status=\"found\"}}"
        )));
    }
    let found = a
        .incidents
        .iter()
        .filter(|i| i.kind == IncidentKind::ErrorBurst)
        .count();
    assert!(text.contains(&format!(
        "logburst_incidents{{kind=\"error-burst\",status=\"found\"}} {found}\n"
    )));
    assert!(
        !text.contains("logburst_last_detection"),
        "no detection given"
    );
}
