//! Alertmanager's client contract (`POST /api/v2/alerts`): an alert per
//! incident, labelled so it keeps its identity while the incident grows,
//! sent again on every run while the incident is open (its `endsAt` a
//! lease ahead, so an alert whose sender stopped resolves by itself), and
//! with `endsAt` at the incident's end once it is over.

use serde_json::{json, Map, Value};

use super::http::{Client, Outcome, Request};
use super::{safe, utc, Message, Targets};
use crate::report::model::{IncidentKind, IncidentReport, Status};

/// How long an incident first reported when already over fires (cron
/// mode): long enough for Alertmanager's `group_wait` to page.
pub const SHORT_PAGE: i64 = 300;

/// Labels logburst sets itself: `--alert-label` may not give them.
pub const OWN_LABELS: [&str; 4] = ["alertname", "kind", "host", "incident"];

/// The alert's name for an incident kind.
pub fn alertname(k: IncidentKind) -> &'static str {
    match k {
        IncidentKind::ErrorBurst => "LogburstErrorBurst",
        IncidentKind::TrafficGap => "LogburstTrafficGap",
        IncidentKind::Latency => "LogburstLatency",
        IncidentKind::Oom => "LogburstOOM",
    }
}

/// `critical` for what users see fail (5xx, silence), `warning` for the
/// rest; `--alert-label severity=…` overrides it.
fn severity(k: IncidentKind) -> &'static str {
    match k {
        IncidentKind::ErrorBurst | IncidentKind::TrafficGap => "critical",
        IncidentKind::Latency | IncidentKind::Oom => "warning",
    }
}

/// The labels that make an incident's alert: the same every run.
fn labels(kind: IncidentKind, hosts: &[String], id: &str, t: &Targets) -> Map<String, Value> {
    let mut labels = Map::new();
    labels.insert("alertname".into(), alertname(kind).into());
    labels.insert("kind".into(), kind.name().into());
    labels.insert("severity".into(), severity(kind).into());
    if !hosts.is_empty() {
        labels.insert("host".into(), safe(&hosts.join(",")).into());
    }
    labels.insert("incident".into(), id.into());
    for (k, v) in &t.labels {
        labels.insert(k.clone(), v.clone().into());
    }
    labels
}

/// The alert of an incident that closed without being found again,
/// resolved at its last bad second.
pub fn resolved(c: &super::Closed, t: &Targets) -> Value {
    json!({
        "labels": labels(c.kind, &c.hosts, &c.id, t),
        "annotations": {"summary": format!("{} over (no longer found as an incident of its own)", c.kind.name())},
        "startsAt": utc(c.start),
        "endsAt": utc(super::over_at(c.start, c.end)),
    })
}

/// The alert for `i` (`open`: it may still grow) as of `now`.
pub fn alert(i: &IncidentReport, open: bool, t: &Targets, now: i64) -> Value {
    let labels = labels(i.kind, &i.alert_hosts, &i.id, t);
    let mut notes = Map::new();
    notes.insert("summary".into(), super::summary(i).into());
    notes.insert("description".into(), super::details(i).into());
    if let Some(c) = &i.probable_cause {
        notes.insert("probable_cause".into(), safe(c).into());
    }
    notes.insert("detected".into(), utc(i.detected.utc).into());
    notes.insert(
        "detection_lag".into(),
        crate::time::duration(i.detection_lag_seconds).into(),
    );
    if let Some(s) = i.status {
        notes.insert("status".into(), s.name().into());
    }
    if let Some(r) = &t.report {
        notes.insert("report".into(), r.clone().into());
    }
    let ends = if open {
        now + t.lease.as_secs() as i64
    } else if i.status == Some(Status::New) {
        // Over before any run reported it (it began and ended between two
        // runs; a traffic gap, found once traffic returns): sent resolved,
        // Alertmanager would never page. It fires for a short while
        // instead, then resolves by itself; its annotations say it is over.
        notes.insert(
            "ended".into(),
            utc(super::over_at(i.start.utc, i.end.utc)).into(),
        );
        now + SHORT_PAGE
    } else {
        super::over_at(i.start.utc, i.end.utc)
    };
    let mut a = json!({
        "labels": labels,
        "annotations": notes,
        "startsAt": utc(i.start.utc),
        "endsAt": utc(ends),
    });
    if let Some(r) = t.report.as_ref().filter(|r| r.starts_with("http")) {
        a["generatorURL"] = r.clone().into();
    }
    a
}

/// Posts `batch` (alerts for one Alertmanager) in one request: what was
/// sent, what to keep for the next run, what went wrong.
pub fn send(client: &Client, base: &str, batch: Vec<Message>) -> super::Sent {
    let url = format!("{}/api/v2/alerts", base.trim_end_matches('/'));
    let alerts: Vec<&Value> = batch.iter().map(|m| &m.body).collect();
    let body = serde_json::to_vec(&alerts).unwrap_or_default();
    let n = batch.len();
    let r = Request {
        method: "POST",
        url: &url,
        headers: &[],
        body: &body,
    };
    match client.send(&r) {
        Outcome::Done(_) => (n, Vec::new(), Vec::new()),
        Outcome::Refused(why) => (
            0,
            Vec::new(),
            vec![format!(
                "Alertmanager {} refused {} ({why}); dropped",
                safe(base),
                super::count(n)
            )],
        ),
        Outcome::Failed(why) => (
            0,
            batch,
            vec![format!(
                "Alertmanager {} not reached ({why}); {} not delivered",
                safe(base),
                super::count(n)
            )],
        ),
    }
}
