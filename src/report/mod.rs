//! The [`model`] of one analysis and its renderers. Each renderer reads
//! the value and computes nothing of its own.

use model::{Analysis, IncidentReport, LatencyReport, PathCount};
use words::ms;

pub mod csv;
pub mod facts;
pub mod html;
pub mod json;
pub mod markdown;
pub mod model;
pub mod text;
pub mod words;

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// The timeline for a terminal (see [`text`]).
    Text,
    /// The `logburst/v1` document (see [`json`]).
    Json,
    /// Per-host, per-minute counts (see [`csv`]).
    Csv,
    /// A postmortem draft (see [`markdown`]).
    Markdown,
    /// A self-contained page with the chart (see [`html`]).
    Html,
}

/// `910 of 2,303 requests failed (39.5%)`: an error burst's impact, worded
/// the same by every renderer.
pub fn failed_requests(i: &IncidentReport) -> String {
    let share = if i.requests > 0 {
        i.errors as f64 * 100.0 / i.requests as f64
    } else {
        0.0
    };
    format!(
        "{} of {} requests failed ({share:.1}%)",
        thousands(i.errors),
        thousands(i.requests)
    )
}

/// `500 × 170, 502 × 653, 504 × 87`.
pub fn status_list(i: &IncidentReport) -> String {
    let statuses: Vec<String> = i
        .status_counts
        .iter()
        .map(|(s, c)| format!("{s} × {}", thousands(*c)))
        .collect();
    statuses.join(", ")
}

/// `206 distinct clients` or `about 14,200 distinct clients`: who got a
/// 5xx in a burst, when the log names clients.
pub fn clients_affected(i: &IncidentReport) -> Option<String> {
    let n = i.clients_affected?;
    let about = if i.clients_estimated { "about " } else { "" };
    let noun = if n == 1 { "client" } else { "clients" };
    Some(format!("{about}{} distinct {noun}", thousands(n)))
}

/// A path's 5xx count: `151`, or `~151` when the bounded tally could only
/// bound it (see [`model::PathCount`]).
pub fn path_errors(p: &PathCount) -> String {
    let about = if p.overcount > 0 { "~" } else { "" };
    format!("{about}{}", thousands(p.errors))
}

/// `p99 8.2 s against a normal 120 ms; 1,234 requests at or above 1.0 s`.
pub fn latency_impact(l: &LatencyReport) -> String {
    let normal = l
        .baseline_p99_ms
        .map_or(String::new(), |b| format!(" against a normal {}", ms(b)));
    format!(
        "p99 {}{normal}; {} requests at or above {}",
        ms(l.p99_ms),
        thousands(l.slow_requests),
        ms(l.threshold_ms)
    )
}

/// What a report adds to "no incident" when some inputs were not
/// understood: the answer covers only what was.
pub fn unsure(a: &Analysis) -> Option<String> {
    let n = a.not_understood().count();
    (n > 0).then(|| {
        let what = if n == 1 {
            "1 input was".to_string()
        } else {
            format!("{n} inputs were")
        };
        format!(
            "this covers only what logburst understood: {what} not understood (see the warnings)"
        )
    })
}

/// What the reports say when no path stands out among a burst's failures.
pub const SCATTERED: &str = "spread over too many distinct paths for one to stand out";

/// `1 request`, `12,345 requests`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// `12,345`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
