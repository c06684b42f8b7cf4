//! Grafana region annotations (`/api/annotations`): one per incident,
//! found again by its tag `logburst-incident=ID` and updated in place as
//! the incident grows, never added twice.

use serde_json::{json, Value};

use super::http::{Client, Outcome, Request};
use super::{safe, Message};
use crate::report::model::IncidentReport;

/// A Grafana to annotate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grafana {
    /// Its base URL (`http://grafana:3000`).
    pub url: String,
    /// A service account token (from the environment), sent as a bearer.
    pub token: Option<String>,
}

/// The tag that names the incident.
fn id_tag(id: &str) -> String {
    format!("logburst-incident={id}")
}

/// The annotation of `i`: its span, tags and summary.
pub fn annotation(i: &IncidentReport, open: bool) -> Value {
    let mut tags = vec![
        "logburst".to_string(),
        i.kind.name().to_string(),
        id_tag(&i.id),
    ];
    tags.extend(i.alert_hosts.iter().map(|h| safe(h)));
    let mut text = super::summary(i);
    if let Some(c) = &i.probable_cause {
        text.push_str("\nprobable cause: ");
        text.push_str(&safe(c));
    }
    text.push_str(if open { "\n(open)" } else { "\n(ended)" });
    json!({
        "time": i.start.utc * 1000,
        "timeEnd": super::over_at(i.start.utc, i.end.utc) * 1000,
        "tags": tags,
        "text": text,
    })
}

/// The id of the annotation already made for `incident`, if any; `Err`
/// when Grafana could not say.
fn existing(
    client: &Client,
    g: &Grafana,
    headers: &[(String, String)],
    incident: &str,
) -> Result<Option<u64>, Outcome> {
    let mut query = String::from("/api/annotations?type=annotation&limit=10&tags=");
    for b in id_tag(incident).bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            query.push(b as char);
        } else {
            query.push_str(&format!("%{b:02X}"));
        }
    }
    let url = format!("{}{query}", g.url.trim_end_matches('/'));
    let r = Request {
        method: "GET",
        url: &url,
        headers,
        body: b"",
    };
    match client.send(&r) {
        Outcome::Done(body) => {
            let found: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            Ok(found
                .as_array()
                .and_then(|a| a.iter().find_map(|x| x.get("id")?.as_u64())))
        }
        other => Err(other),
    }
}

/// Adds or updates the annotation of each message.
pub fn send(client: &Client, g: &Grafana, batch: Vec<Message>) -> super::Sent {
    let headers: Vec<(String, String)> = g
        .token
        .iter()
        .map(|t| ("Authorization".to_string(), format!("Bearer {t}")))
        .collect();
    let base = g.url.trim_end_matches('/');
    super::one_by_one(&format!("Grafana {}", safe(&g.url)), batch, |m| {
        let body = serde_json::to_vec(&m.body).unwrap_or_default();
        let (method, url) = match existing(client, g, &headers, &m.incident) {
            Ok(Some(id)) => ("PUT", format!("{base}/api/annotations/{id}")),
            Ok(None) => ("POST", format!("{base}/api/annotations")),
            Err(o) => return o,
        };
        client.send(&Request {
            method,
            url: &url,
            headers: &headers,
            body: &body,
        })
    })
}
