//! An incident's headline facts, per kind, computed once for every
//! renderer: which rows an incident of each kind has, in which order, and
//! what each says. The text report and the HTML page lay these rows out
//! (a padded column, a table); neither decides what an incident shows.
//!
//! Values hold log content raw (paths, process names in the cause): the
//! renderer escapes them for its medium.

use super::model::{IncidentKind, IncidentReport, PathCount, Time};
use super::{clients_affected, failed_requests, latency_impact, status_list, thousands, SCATTERED};
use crate::time;

/// What a row is about. Each renderer words the label its own way
/// ([`Label::short`] for a column, [`Label::long`] for a table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    /// When it began.
    Start,
    /// When an alert would have fired.
    Detected,
    /// The worst window.
    Peak,
    /// When it ended.
    End,
    /// How long.
    Duration,
    /// What it cost.
    Impact,
    /// Who it hit.
    Clients,
    /// SLO mode: the alert and the budget.
    Slo,
    /// Which paths failed most.
    Paths,
    /// Most 5xx went to one client or hit one path.
    Narrow,
    /// The evidence that best explains it.
    Cause,
    /// With `--reported-at`: detection against the first customer report.
    Lead,
}

impl Label {
    /// The label in a padded column (the text report).
    pub fn short(self) -> &'static str {
        match self {
            Label::Start => "start",
            Label::Detected => "detected",
            Label::Peak => "peak",
            Label::End => "end",
            Label::Duration => "duration",
            Label::Impact => "impact",
            Label::Clients => "clients",
            Label::Slo => "slo",
            Label::Paths => "paths",
            Label::Narrow => "narrow",
            Label::Cause => "cause",
            Label::Lead => "reported",
        }
    }

    /// The label in a table (the HTML page).
    pub fn long(self) -> &'static str {
        match self {
            Label::Slo => "SLO",
            Label::Paths => "top paths",
            Label::Cause => "probable cause",
            Label::Lead => "detection",
            other => other.short(),
        }
    }
}

/// What a row says.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    /// An instant and what happened then (`first 5xx`, `+6 s after onset`).
    At(Time, String),
    /// Words (raw: log content may be in them).
    Words(String),
    /// The paths that failed most, most first (a renderer may show fewer).
    Paths(&'a [PathCount]),
}

/// One headline row.
#[derive(Clone, Debug, PartialEq)]
pub struct Fact<'a> {
    /// What it is about.
    pub label: Label,
    /// What it says.
    pub value: Value<'a>,
}

/// The headline rows of an incident, in order.
pub fn headline(i: &IncidentReport) -> Vec<Fact<'_>> {
    let mut rows = Vec::new();
    let mut push = |label, value| rows.push(Fact { label, value });
    let lag = || format!("+{} after onset", time::duration(i.detection_lag_seconds));
    let (start, end) = match i.kind {
        IncidentKind::ErrorBurst => ("first 5xx", "last 5xx"),
        IncidentKind::TrafficGap => ("last request before the silence", "first request after it"),
        IncidentKind::Latency => ("first slow minute", "end of the last slow minute"),
        IncidentKind::Oom if i.oom_kills.is_empty() => {
            ("first memory signal", "last memory signal")
        }
        IncidentKind::Oom => ("first kill", "last kill"),
    };
    push(Label::Start, Value::At(i.start, start.into()));
    match i.kind {
        IncidentKind::ErrorBurst | IncidentKind::Latency => {
            push(Label::Detected, Value::At(i.detected, lag()));
        }
        IncidentKind::TrafficGap => push(Label::Detected, Value::At(i.detected, String::new())),
        IncidentKind::Oom => {}
    }
    if let (IncidentKind::ErrorBurst, Some(p)) = (i.kind, i.peak) {
        let failing = format!("{:.1}% of requests failing", i.peak_error_ratio * 100.0);
        push(Label::Peak, Value::At(p, failing));
    }
    push(Label::End, Value::At(i.end, end.into()));
    push(
        Label::Duration,
        Value::Words(time::duration(i.duration_seconds)),
    );
    if let Some(impact) = impact(i) {
        push(Label::Impact, Value::Words(impact));
    }
    if let Some(c) = clients_affected(i) {
        push(Label::Clients, Value::Words(format!("{c} got a 5xx")));
    }
    if let Some(s) = &i.slo {
        let slo = format!(
            "{}%: {} fired, reset {}; {:.1}% of a 30-day error budget spent",
            s.target_percent,
            s.alert,
            s.reset.clock(),
            s.budget_spent * 100.0
        );
        push(Label::Slo, Value::Words(slo));
    }
    if !i.top_paths.is_empty() {
        push(Label::Paths, Value::Paths(&i.top_paths));
    }
    if i.paths_scattered {
        push(Label::Paths, Value::Words(SCATTERED.into()));
    }
    if let Some(n) = &i.narrow {
        push(Label::Narrow, Value::Words(narrow(n)));
    }
    if let Some(c) = &i.probable_cause {
        push(Label::Cause, Value::Words(c.clone()));
    }
    if let Some(lead) = i.lead_over_report_seconds {
        let when = if lead >= 0 {
            format!("{} before the first report", time::duration(lead))
        } else {
            format!("{} after the first report", time::duration(-lead))
        };
        push(Label::Lead, Value::Words(format!("logs showed it {when}")));
    }
    rows
}

/// What the incident cost, in the words of its kind.
fn impact(i: &IncidentReport) -> Option<String> {
    match i.kind {
        IncidentKind::ErrorBurst => Some(format!("{}: {}", failed_requests(i), status_list(i))),
        IncidentKind::TrafficGap => i
            .expected_requests
            .map(|e| format!("about {} requests expected in the gap", thousands(e))),
        IncidentKind::Latency => i.latency.as_ref().map(latency_impact),
        IncidentKind::Oom => Some(oom_impact(i).into()),
    }
}

/// What an `oom` incident cost: nothing the traffic logs show.
pub fn oom_impact(i: &IncidentReport) -> &'static str {
    if i.oom_kills.is_empty() {
        "no 5xx burst, traffic gap or slow responses around these memory signals"
    } else {
        "no 5xx burst or traffic gap around these kills"
    }
}

/// "92% of the 5xx went to one client (10.0.0.7)": a burst most of whose
/// 5xx one client got (one retrying, a crawler) or one path got.
pub fn narrow(n: &super::model::Narrow) -> String {
    let pct = (n.share * 100.0).floor();
    match n.by {
        "client" => format!("{pct:.0}% of the 5xx went to one client ({})", n.key),
        _ => format!("{pct:.0}% of the 5xx were on one path ({})", n.key),
    }
}
