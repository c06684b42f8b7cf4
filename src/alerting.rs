//! The binary's alerting flags (`--alertmanager`, `--webhook`,
//! `--grafana`, `--prom` and what they share), checked before anything is
//! read, and the delivery stage of a run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use logburst::deliver::{self, grafana::Grafana, Delivery, Targets, WebhookFormat};
use logburst::Analysis;

/// The environment variable `--grafana`'s token is read from.
pub const GRAFANA_TOKEN: &str = "LOGBURST_GRAFANA_TOKEN";

#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Alerts (see README, Alerts)")]
pub struct AlertArgs {
    /// Post each incident to this Alertmanager (`http://HOST:9093`) as an
    /// alert: re-sent every run while open, resolved when it ends. Give it
    /// once per member of an HA group.
    #[arg(long, value_name = "URL")]
    pub alertmanager: Vec<String>,

    /// Post each new and each ended incident to this URL (JSON, or Slack's
    /// text with --webhook-format slack).
    #[arg(long, value_name = "URL")]
    pub webhook: Vec<String>,

    /// What --webhook posts.
    #[arg(long, value_enum, default_value_t = WebhookFormatArg::Json, value_name = "FORMAT")]
    pub webhook_format: WebhookFormatArg,

    /// A header every --webhook request carries, its value read from the
    /// environment variable ENV (never from the command line):
    /// `--webhook-header Authorization=HOOK_AUTH`.
    #[arg(long, value_name = "NAME=ENV")]
    pub webhook_header: Vec<String>,

    /// Add or update one region annotation per incident in this Grafana
    /// (token from $LOGBURST_GRAFANA_TOKEN).
    #[arg(long, value_name = "URL")]
    pub grafana: Option<String>,

    /// A label every alert carries (`service=checkout`, `team=web`);
    /// `severity=…` overrides logburst's.
    #[arg(long, value_name = "KEY=VALUE")]
    pub alert_label: Vec<String>,

    /// Where the report can be read, for the alerts (default: the --html
    /// file's path).
    #[arg(long, value_name = "URL")]
    pub report_url: Option<String>,

    /// How long an open incident's alert stays firing if no run re-sends
    /// it: more than your cron interval.
    #[arg(long, value_parser = logburst::args::parse_duration, default_value = "1h", value_name = "DURATION")]
    pub alert_lease: i64,

    /// The most the whole delivery stage may take (every target at once;
    /// a request gets 3 attempts, each up to 10 s).
    #[arg(long, value_parser = logburst::args::parse_duration, default_value = "30s", value_name = "DURATION")]
    pub deliver_timeout: i64,

    /// Write the run's metrics here in the node_exporter textfile format
    /// (atomically).
    #[arg(long, value_name = "FILE")]
    pub prom: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookFormatArg {
    Json,
    Slack,
}

/// `http://…` or `https://…`, with a host.
fn check_url(flag: &str, url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') => Ok(url.to_string()),
        _ => Err(format!(
            "{flag} {url}: not an http:// or https:// URL with a host"
        )),
    }
}

/// A Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`, not reserved.
fn check_label(kv: &str) -> Result<(String, String), String> {
    let (k, v) = kv
        .split_once('=')
        .ok_or_else(|| format!("--alert-label {kv}: give KEY=VALUE"))?;
    let name_ok = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !k.starts_with("__");
    if !name_ok {
        return Err(format!(
            "--alert-label {kv}: '{k}' is not a label name (letters, digits and _, not starting with a digit or __)"
        ));
    }
    if deliver::alertmanager::OWN_LABELS.contains(&k) {
        return Err(format!(
            "--alert-label {kv}: logburst sets '{k}' itself ({})",
            deliver::alertmanager::OWN_LABELS.join(", ")
        ));
    }
    Ok((k.to_string(), v.to_string()))
}

impl AlertArgs {
    /// Where alerts go, checked: URLs, labels, headers from the
    /// environment (`env`).
    pub fn targets(
        &self,
        html: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Targets, String> {
        let urls = |flag: &str, v: &[String]| -> Result<Vec<String>, String> {
            v.iter().map(|u| check_url(flag, u)).collect()
        };
        let mut headers = Vec::new();
        for h in &self.webhook_header {
            let (name, var) = h.split_once('=').ok_or_else(|| {
                format!("--webhook-header {h}: give NAME=ENV, the header's value being in the environment variable ENV")
            })?;
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
            {
                return Err(format!(
                    "--webhook-header {h}: '{name}' is not a header name"
                ));
            }
            let value = env(var).filter(|v| !v.is_empty()).ok_or_else(|| {
                format!("--webhook-header {h}: the environment variable {var} is not set")
            })?;
            if value.bytes().any(|b| b == b'\r' || b == b'\n') {
                return Err(format!("--webhook-header {h}: ${var} holds a line break"));
            }
            headers.push((name.to_string(), value));
        }
        let report = match (&self.report_url, html) {
            (Some(u), _) => Some(u.clone()),
            (None, Some(p)) => Some(
                std::path::absolute(p)
                    .unwrap_or_else(|_| p.to_path_buf())
                    .display()
                    .to_string(),
            ),
            (None, None) => None,
        };
        for (flag, v) in [
            ("--alert-lease", self.alert_lease),
            ("--deliver-timeout", self.deliver_timeout),
        ] {
            if v <= 0 {
                return Err(format!("{flag} must be positive"));
            }
        }
        Ok(Targets {
            alertmanagers: urls("--alertmanager", &self.alertmanager)?,
            webhooks: urls("--webhook", &self.webhook)?,
            webhook_format: match self.webhook_format {
                WebhookFormatArg::Json => WebhookFormat::Json,
                WebhookFormatArg::Slack => WebhookFormat::Slack,
            },
            webhook_headers: headers,
            grafana: match &self.grafana {
                Some(u) => Some(Grafana {
                    url: check_url("--grafana", u)?,
                    token: env(GRAFANA_TOKEN).filter(|t| !t.is_empty()),
                }),
                None => None,
            },
            labels: self
                .alert_label
                .iter()
                .map(|l| check_label(l))
                .collect::<Result<_, _>>()?,
            report,
            lease: Duration::from_secs(self.alert_lease as u64),
            limits: deliver::Limits {
                stage: Duration::from_secs(self.deliver_timeout as u64),
                ..deliver::Limits::default()
            },
        })
    }
}

/// The delivery stage: this run's messages and those earlier runs kept,
/// sent; what is still undelivered kept in the cron state (`pending`);
/// every failure a warning of the analysis (stderr, notes, JSON).
pub fn deliver(
    targets: &Targets,
    analysis: &mut Analysis,
    pending: Option<&mut logburst::Pending>,
    now: i64,
) -> Delivery {
    let closed = pending.as_ref().map_or(&[][..], |p| p.closed()).to_vec();
    let fresh = deliver::messages(analysis, &closed, targets, now);
    let mut pending = pending;
    let kept = pending
        .as_deref_mut()
        .map(|p| p.take_outbox())
        .unwrap_or_default();
    let (all, notes) = deliver::with_outbox(kept, fresh, targets);
    analysis.notes.extend(notes);
    let d = if all.is_empty() {
        Delivery::default()
    } else {
        deliver::send(all, targets)
    };
    if d.sent > 0 {
        analysis.notes.push(format!(
            "{} delivered in {} ms",
            deliver::count(d.sent),
            d.elapsed.as_millis()
        ));
    }
    let mut warnings = d.failures.clone();
    if !d.kept.is_empty() {
        warnings.push(if pending.is_some() {
            format!(
                "{} not delivered: kept in the state; the next run sends {}",
                deliver::count(d.kept.len()),
                if d.kept.len() == 1 { "it" } else { "them" }
            )
        } else {
            format!(
                "{} not delivered, and lost: without --state no run sends them again",
                deliver::count(d.kept.len())
            )
        });
    }
    if let Some(p) = pending {
        p.keep(d.kept.clone());
    }
    for w in warnings {
        analysis.notes.push(w.clone());
        analysis.warnings.push(w);
    }
    d
}

/// The run's delivery stage at its end (`started`: when the run began):
/// alerts sent, then the metrics written to `prom`.
pub fn stage(
    targets: &Targets,
    prom: Option<&Path>,
    analysis: &mut Analysis,
    pending: Option<&mut logburst::Pending>,
    started: std::time::Instant,
) -> anyhow::Result<Delivery> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let newest = pending
        .as_ref()
        .map_or(analysis.newest_detection(), |p| p.last_detection());
    let delivery = deliver(targets, analysis, pending, now.as_secs() as i64);
    if let Some(path) = prom {
        let facts = deliver::prom::RunFacts {
            now: now.as_secs_f64(),
            duration: started.elapsed().as_secs_f64(),
            last_detection: newest,
            undelivered: delivery.kept.len(),
            delivery_failures: delivery.failures.len(),
        };
        deliver::prom::write(path, analysis, &facts)?;
    }
    Ok(delivery)
}
