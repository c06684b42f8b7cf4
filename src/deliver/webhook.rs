//! Webhooks: an incident posted as logburst's JSON
//! (`logburst-webhook/1`, the `logburst/v1` incident object with the run's
//! context) or as a Slack incoming-webhook message.

use serde_json::{json, Value};

use super::http::{Client, Request};
use super::{safe, Message, Targets, WebhookFormat};
use crate::report::model::{Analysis, IncidentReport, Status};

/// The schema name of a webhook body.
pub const SCHEMA: &str = "logburst-webhook/1";

/// What a webhook is posted about `i`.
pub fn body(a: &Analysis, i: &IncidentReport, open: bool, t: &Targets) -> Value {
    match t.webhook_format {
        WebhookFormat::Json => {
            json!({
                "schema": SCHEMA,
                "status": i.status.map(Status::name),
                "open": open,
                "incident": i,
                "report": t.report,
                "incremental": a.incremental,
                "totals": a.totals,
                "warnings": a.warnings,
            })
        }
        WebhookFormat::Slack => json!({
            "text": slack_text(i, open, t.report.as_deref()),
            "mrkdwn": false,
        }),
    }
}

/// Slack's three control characters, as its documentation says to write
/// them, so log text cannot make a link or a mention.
fn slack_escape(s: &str) -> String {
    safe(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The message's text: state, summary, cause, detection, report.
fn slack_text(i: &IncidentReport, open: bool, report: Option<&str>) -> String {
    let state = if open { "FIRING" } else { "RESOLVED" };
    let mut lines = vec![format!("[{state}] {}", slack_escape(&super::summary(i)))];
    lines.push(format!(
        "started {}, detected {} after onset",
        i.start.human(),
        crate::time::duration(i.detection_lag_seconds)
    ));
    if !open {
        lines.push(format!("ended {}", i.end.human()));
    }
    if let Some(c) = &i.probable_cause {
        lines.push(format!("probable cause: {}", slack_escape(c)));
    }
    if let Some(r) = report {
        lines.push(format!("report: {}", slack_escape(r)));
    }
    lines.join("\n")
}

/// Posts each message of `batch` to `url` in turn.
pub fn send(client: &Client, url: &str, batch: Vec<Message>, t: &Targets) -> super::Sent {
    super::one_by_one(&format!("webhook {}", safe(url)), batch, |m| {
        let body = serde_json::to_vec(&m.body).unwrap_or_default();
        client.send(&Request {
            method: "POST",
            url,
            headers: &t.webhook_headers,
            body: &body,
        })
    })
}
