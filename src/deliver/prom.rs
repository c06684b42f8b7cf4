//! `--prom FILE`: the run in node_exporter's textfile-collector format
//! (Prometheus text exposition 0.0.4), written through a temporary file
//! renamed into place so the collector never reads half of it. Every
//! metric is a gauge of the last run, named by Prometheus conventions
//! (`logburst_` prefix, base units in the name).

use std::fmt::Write as _;
use std::path::Path;

use crate::report::model::{Analysis, IncidentKind, Status};

/// What the run adds to its analysis.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RunFacts {
    /// When the run ended, Unix seconds.
    pub now: f64,
    /// How long it took, seconds.
    pub duration: f64,
    /// The newest detection reported (this run's, else an earlier cron
    /// run's): (instant, lag), seconds.
    pub last_detection: Option<(i64, i64)>,
    /// Messages not delivered, kept for the next run.
    pub undelivered: usize,
    /// Targets that could not be reached or refused what was sent.
    pub delivery_failures: usize,
}

/// A label value as the exposition format writes it, log text escaped
/// first as on a terminal.
fn label(v: &str) -> String {
    crate::escape::terminal(v)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

struct Out(String);

impl Out {
    fn family(&mut self, name: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} gauge");
    }
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], v: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            let inner: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", label(v)))
                .collect();
            let _ = write!(self.0, "{{{}}}", inner.join(","));
        }
        let _ = writeln!(self.0, " {v}");
    }
    fn one(&mut self, name: &str, help: &str, v: f64) {
        self.family(name, help);
        self.sample(name, &[], v);
    }
}

/// The textfile's content.
pub fn render(a: &Analysis, f: &RunFacts) -> String {
    let mut o = Out(String::new());
    o.one(
        "logburst_last_run_timestamp_seconds",
        "When the last logburst run ended (Unix time).",
        f.now,
    );
    o.one(
        "logburst_run_duration_seconds",
        "How long the last run took.",
        f.duration,
    );
    traffic(&mut o, a);
    o.one(
        "logburst_run_oom_kills",
        "Kernel OOM kills the last run counted (each once, also across cron runs).",
        a.totals.oom_kills as f64,
    );
    o.one(
        "logburst_run_warnings",
        "Warnings the last run gave (its numbers are less than sure; see its report).",
        (a.warnings.len() + a.inputs.iter().map(|i| i.warnings.len()).sum::<usize>()) as f64,
    );
    incidents(&mut o, a);
    if let Some((at, lag)) = f.last_detection {
        o.one(
            "logburst_last_detection_timestamp_seconds",
            "When the newest incident reported was detected (Unix time).",
            at as f64,
        );
        o.one(
            "logburst_last_detection_lag_seconds",
            "Its detection lag: from its onset to its detection.",
            lag as f64,
        );
    }
    o.one(
        "logburst_undelivered_messages",
        "Alerts, webhook messages and annotations not delivered, kept for the next run.",
        f.undelivered as f64,
    );
    o.one(
        "logburst_delivery_failures",
        "Targets the last run could not deliver to (unreachable, or refusing what was sent).",
        f.delivery_failures as f64,
    );
    o.0
}

/// Requests and errors per host, lines and inputs.
fn traffic(o: &mut Out, a: &Analysis) {
    o.family(
        "logburst_run_requests",
        "Requests the last run read, per host (cron mode: read since the run before).",
    );
    for h in &a.totals.hosts {
        o.sample(
            "logburst_run_requests",
            &[("host", &h.host)],
            h.requests as f64,
        );
    }
    o.family(
        "logburst_run_error_responses",
        "Responses counted as errors (5xx unless --errors says otherwise) the last run read, per host.",
    );
    for h in &a.totals.hosts {
        o.sample(
            "logburst_run_error_responses",
            &[("host", &h.host)],
            h.errors as f64,
        );
    }
    let (parsed, malformed) = a
        .inputs
        .iter()
        .fold((0, 0), |(p, m), i| (p + i.parsed, m + i.malformed));
    o.family("logburst_run_lines", "Lines the last run read, by outcome.");
    o.sample(
        "logburst_run_lines",
        &[("outcome", "parsed")],
        parsed as f64,
    );
    o.sample(
        "logburst_run_lines",
        &[("outcome", "malformed")],
        malformed as f64,
    );
    let unreadable = a.inputs.iter().filter(|i| i.error.is_some()).count();
    let not_understood = a.not_understood().count().saturating_sub(unreadable);
    o.family(
        "logburst_run_inputs",
        "Inputs the last run was given, by what became of them.",
    );
    let read = a.inputs.len().saturating_sub(unreadable + not_understood);
    o.sample(
        "logburst_run_inputs",
        &[("state", "understood")],
        read as f64,
    );
    o.sample(
        "logburst_run_inputs",
        &[("state", "not_understood")],
        not_understood as f64,
    );
    o.sample(
        "logburst_run_inputs",
        &[("state", "unreadable")],
        unreadable as f64,
    );
}

/// `logburst_incidents{kind,status}` (every kind and status, zeros
/// included, so a series does not vanish) and `logburst_incidents_open`.
fn incidents(o: &mut Out, a: &Analysis) {
    let statuses: &[Option<Status>] = if a.incremental {
        &[
            Some(Status::New),
            Some(Status::Ongoing),
            Some(Status::Ended),
        ]
    } else {
        &[None]
    };
    o.family(
        "logburst_incidents",
        "Incidents the last run reported, by kind and status (cron mode: new, ongoing, ended; else found).",
    );
    for k in IncidentKind::ALL {
        for s in statuses {
            let n = a
                .incidents
                .iter()
                .filter(|i| i.kind == k && i.status == *s)
                .count();
            let status = s.map_or("found", Status::name);
            o.sample(
                "logburst_incidents",
                &[("kind", k.name()), ("status", status)],
                n as f64,
            );
        }
    }
    o.family(
        "logburst_incidents_open",
        "Incidents still open at the end of the data the last run read, by kind.",
    );
    for k in IncidentKind::ALL {
        let n = a
            .incidents
            .iter()
            .filter(|i| i.kind == k && super::is_open(a, i))
            .count();
        o.sample("logburst_incidents_open", &[("kind", k.name())], n as f64);
    }
}

/// Writes the textfile atomically.
pub fn write(path: &Path, a: &Analysis, f: &RunFacts) -> crate::Result<()> {
    let text = render(a, f);
    crate::persist::write_atomically(path, "metrics", |mut w| {
        std::io::Write::write_all(&mut w, text.as_bytes())?;
        Ok(w)
    })
}
