//! Alerts that leave the machine: incidents posted to Alertmanager, to
//! webhooks (logburst's JSON or Slack's text) and to Grafana as
//! annotations, in bounded time and at least once (what could not be
//! delivered is kept in the cron state and sent by the next run). The
//! Prometheus textfile ([`prom`]) is written by the caller after delivery,
//! so it can say what was not delivered.
//!
//! Every string taken from the logs (hosts, causes, paths) goes out with
//! its control and invisible characters escaped, as on a terminal.

pub mod alertmanager;
pub mod grafana;
pub mod http;
pub mod prom;
pub mod webhook;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::report::facts::{self, Value};
use crate::report::model::{Analysis, IncidentKind, IncidentReport, Status};
pub use http::Limits;

/// Where alerts go, and how.
#[derive(Clone, Debug, Default)]
pub struct Targets {
    /// Alertmanager base URLs (`http://am:9093`), each sent every alert.
    pub alertmanagers: Vec<String>,
    /// Webhook URLs.
    pub webhooks: Vec<String>,
    /// What a webhook is posted.
    pub webhook_format: WebhookFormat,
    /// Headers every webhook request carries (values from the
    /// environment).
    pub webhook_headers: Vec<(String, String)>,
    /// Grafana, for annotations.
    pub grafana: Option<grafana::Grafana>,
    /// Labels every alert carries (`--alert-label`).
    pub labels: Vec<(String, String)>,
    /// Where the report is, for the alerts' annotations.
    pub report: Option<String>,
    /// How long an open incident's alert lasts without being sent again.
    pub lease: Duration,
    /// Time limits.
    pub limits: Limits,
}

/// What a webhook is posted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WebhookFormat {
    /// `logburst-webhook/1`: the incident object of `logburst/v1`, with
    /// the run's context.
    #[default]
    Json,
    /// Slack's incoming-webhook shape: `{"text": …}`.
    Slack,
}

/// Which kind of receiver a message is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Receiver {
    /// `--alertmanager`.
    Alertmanager,
    /// `--webhook`.
    Webhook,
    /// `--grafana`.
    Grafana,
}

/// One message for one receiver: sent now, or kept in the cron state
/// until a run delivers it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// Which kind of receiver.
    pub receiver: Receiver,
    /// The receiver's URL as given.
    pub target: String,
    /// The incident's id: a newer message for the same incident and
    /// target replaces an Alertmanager alert or a Grafana annotation.
    pub incident: String,
    /// What is sent (an alert, a webhook body, an annotation).
    pub body: serde_json::Value,
    /// Runs that failed to deliver it.
    pub tries: u32,
}

/// An incident reported open by an earlier run that closed without being
/// found again (a lone OOM kill that a burst now claims as its cause): its
/// alert is resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closed {
    /// Its kind.
    pub kind: IncidentKind,
    /// Its id and the hosts its alert was labelled with.
    pub id: String,
    /// The hosts of its first report.
    pub hosts: Vec<String>,
    /// Its first and last bad seconds, as last reported.
    pub start: i64,
    /// See `start`.
    pub end: i64,
}

/// The most messages a cron state keeps undelivered: past it the oldest
/// are dropped, with a warning.
pub const OUTBOX_LIMIT: usize = 1000;

/// What delivery did.
#[derive(Debug, Default)]
pub struct Delivery {
    /// Messages delivered.
    pub sent: usize,
    /// Messages not delivered, to try again next run.
    pub kept: Vec<Message>,
    /// What went wrong, one line per target (for stderr, the notes and
    /// the exit status).
    pub failures: Vec<String>,
    /// How long it took.
    pub elapsed: Duration,
}

/// Whether an incident is over: in cron mode as the state says, else when
/// the logs run past its end by a window and a cooldown.
pub fn is_open(a: &Analysis, i: &IncidentReport) -> bool {
    if let Some(open) = i.open {
        return open;
    }
    let data_end = a.inputs.iter().filter_map(|x| x.last.map(|t| t.utc)).max();
    let t = &a.thresholds;
    i.kind
        .still_open(i.end.utc, data_end, t.window_seconds, t.cooldown_seconds)
}

/// The instant an incident was over: the second after its last bad one,
/// never before it started (Alertmanager refuses an end before a start).
pub fn over_at(start: i64, end: i64) -> i64 {
    end.max(start) + 1
}

/// Whether a webhook hears of `i` in this run: new and ended incidents in
/// cron mode (an ongoing one was announced already), every one otherwise.
fn announced(i: &IncidentReport) -> bool {
    !matches!(i.status, Some(Status::Ongoing))
}

/// The messages this run's analysis makes for `targets`, at `now`, with
/// the alerts of `closed` incidents resolved.
pub fn messages(a: &Analysis, closed: &[Closed], targets: &Targets, now: i64) -> Vec<Message> {
    let mut out = Vec::new();
    let mut push = |receiver, target: &String, incident: &String, body| {
        out.push(Message {
            receiver,
            target: target.clone(),
            incident: incident.clone(),
            body,
            tries: 0,
        });
    };
    for c in closed {
        for url in &targets.alertmanagers {
            push(
                Receiver::Alertmanager,
                url,
                &c.id,
                alertmanager::resolved(c, targets),
            );
        }
    }
    for i in &a.incidents {
        let open = is_open(a, i);
        for url in &targets.alertmanagers {
            push(
                Receiver::Alertmanager,
                url,
                &i.id,
                alertmanager::alert(i, open, targets, now),
            );
        }
        if let Some(g) = &targets.grafana {
            push(
                Receiver::Grafana,
                &g.url,
                &i.id,
                grafana::annotation(i, open),
            );
        }
        if announced(i) {
            for url in &targets.webhooks {
                push(
                    Receiver::Webhook,
                    url,
                    &i.id,
                    webhook::body(a, i, open, targets),
                );
            }
        }
    }
    out
}

/// This run's messages after those earlier runs could not deliver: a
/// kept alert or annotation gives way to this run's for the same
/// incident; messages for a target no longer given are dropped (said in
/// `notes`).
pub fn with_outbox(
    kept: Vec<Message>,
    fresh: Vec<Message>,
    targets: &Targets,
) -> (Vec<Message>, Vec<String>) {
    let given = |m: &Message| match m.receiver {
        Receiver::Alertmanager => targets.alertmanagers.contains(&m.target),
        Receiver::Webhook => targets.webhooks.contains(&m.target),
        Receiver::Grafana => targets.grafana.as_ref().is_some_and(|g| g.url == m.target),
    };
    let replaced = |m: &Message| {
        m.receiver != Receiver::Webhook
            && fresh.iter().any(|f| {
                f.receiver == m.receiver && f.target == m.target && f.incident == m.incident
            })
    };
    let mut dropped: BTreeMap<String, usize> = BTreeMap::new();
    let mut all = Vec::new();
    for m in kept {
        if !given(&m) {
            *dropped.entry(m.target.clone()).or_default() += 1;
        } else if !replaced(&m) {
            all.push(m);
        }
    }
    all.extend(fresh);
    let notes = dropped
        .into_iter()
        .map(|(t, n)| {
            format!(
                "{n} undelivered message{} for {} dropped: it is no longer given",
                if n == 1 { "" } else { "s" },
                crate::escape::terminal(&t)
            )
        })
        .collect();
    (all, notes)
}

/// Sends `messages`, every target at once, within `limits`: one request
/// per Alertmanager (its alerts in one list), one per webhook message, one
/// or two per Grafana annotation.
pub fn send(messages: Vec<Message>, targets: &Targets) -> Delivery {
    let started = Instant::now();
    let client = http::Client::new(targets.limits);
    let mut by_target: BTreeMap<(Receiver, String), Vec<Message>> = BTreeMap::new();
    for m in messages {
        by_target
            .entry((m.receiver, m.target.clone()))
            .or_default()
            .push(m);
    }
    let results: Vec<Sent> = std::thread::scope(|s| {
        let handles: Vec<_> = by_target
            .into_iter()
            .map(|((receiver, target), batch)| {
                let client = &client;
                s.spawn(move || match receiver {
                    Receiver::Alertmanager => alertmanager::send(client, &target, batch),
                    Receiver::Webhook => webhook::send(client, &target, batch, targets),
                    Receiver::Grafana => match &targets.grafana {
                        Some(g) => grafana::send(client, g, batch),
                        None => (0, Vec::new(), Vec::new()),
                    },
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| (0, Vec::new(), vec!["a delivery thread failed".into()]))
            })
            .collect()
    });
    let mut d = Delivery::default();
    for (sent, kept, failures) in results {
        d.sent += sent;
        d.kept.extend(kept.into_iter().map(|mut m| {
            m.tries += 1;
            m
        }));
        d.failures.extend(failures);
    }
    if d.kept.len() > OUTBOX_LIMIT {
        let over = d.kept.len() - OUTBOX_LIMIT;
        d.kept.sort_by_key(|m| std::cmp::Reverse(m.tries));
        d.kept.drain(..over);
        d.failures.push(format!(
            "{over} undelivered messages dropped: more than {OUTBOX_LIMIT} were waiting"
        ));
    }
    d.elapsed = started.elapsed();
    d
}

/// What a target's stage gave: messages sent, messages to keep, failures.
pub type Sent = (usize, Vec<Message>, Vec<String>);

/// Sends `batch` one message at a time through `send` to the target named
/// `who` (`webhook URL`); after one that could not be delivered for now,
/// the rest are kept untried.
pub fn one_by_one(
    who: &str,
    batch: Vec<Message>,
    mut send: impl FnMut(&Message) -> http::Outcome,
) -> Sent {
    let mut sent = 0;
    let mut failures = Vec::new();
    let mut rest = batch.into_iter();
    while let Some(m) = rest.next() {
        match send(&m) {
            http::Outcome::Done(_) => sent += 1,
            http::Outcome::Refused(why) => failures.push(format!(
                "{who} refused what was sent for incident {} ({why}); it is dropped",
                m.incident
            )),
            http::Outcome::Failed(why) => {
                let mut kept = vec![m];
                kept.extend(rest);
                failures.push(format!(
                    "{who} not reached ({why}); {} not delivered",
                    count(kept.len())
                ));
                return (sent, kept, failures);
            }
        }
    }
    (sent, Vec::new(), failures)
}

/// `5xx burst on web-01 · upstream api: 910 of 2,303 requests failed
/// (39.5%)`: an incident in one line, log text in it escaped as on a
/// terminal.
pub fn summary(i: &IncidentReport) -> String {
    let what = match i.kind {
        IncidentKind::ErrorBurst => "5xx burst",
        IncidentKind::TrafficGap => "traffic stopped",
        IncidentKind::Latency => "slow responses",
        IncidentKind::Oom => "out of memory",
    };
    let place = i.place();
    let impact = facts::headline(i).into_iter().find_map(|f| match f.value {
        Value::Words(w) if f.label == facts::Label::Impact => Some(w),
        _ => None,
    });
    let mut out = what.to_string();
    if !place.is_empty() {
        out.push_str(" on ");
        out.push_str(&place);
    }
    if let Some(impact) = impact {
        out.push_str(": ");
        out.push_str(&impact);
    }
    safe(&out)
}

/// The headline rows of the reports, one per line (`start: 2024-03-10
/// 14:02:07 +00:00  first 5xx`), log text escaped in each.
pub fn details(i: &IncidentReport) -> String {
    let mut lines = Vec::new();
    for f in facts::headline(i) {
        let label = f.label.long();
        lines.push(match f.value {
            Value::At(t, w) if w.is_empty() => format!("{label}: {}", t.human()),
            Value::At(t, w) => format!("{label}: {}  {w}", t.human()),
            Value::Words(w) => format!("{label}: {w}"),
            Value::Paths(p) => {
                let paths: Vec<String> = p
                    .iter()
                    .map(|p| format!("{} ({})", p.path, crate::report::path_errors(p)))
                    .collect();
                format!("{label}: {}", paths.join(", "))
            }
        });
    }
    let lines: Vec<String> = lines.iter().map(|l| safe(l)).collect();
    lines.join("\n")
}

/// `1 message`, `3 messages`.
pub fn count(n: usize) -> String {
    format!("{n} message{}", if n == 1 { "" } else { "s" })
}

/// Log text made safe to send: control and invisible characters escaped.
pub fn safe(s: &str) -> String {
    crate::escape::terminal(s)
}

/// `2024-03-10T14:02:07Z`.
pub fn utc(t: i64) -> String {
    crate::time::rfc3339(t, 0).replace("+00:00", "Z")
}

#[cfg(test)]
mod tests;
