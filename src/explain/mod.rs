//! The explain stage: incidents and the evidence around them → the one
//! [`Analysis`] value every renderer reads.
//!
//! - `narrate`: an incident in instants and words (cause, timeline);
//! - `correlate`: signals and upstream failures around a burst;
//! - `suggest`: measures the evidence supports, the leak signature;
//! - `chart`: impact tallies, charts, the overview and the minute rows;
//! - `inputs`: each input's line accounting and warnings.

mod chart;
mod correlate;
mod inputs;
mod narrate;
mod suggest;

use crate::bucket::BucketSet;
use crate::config::Config;
use crate::detect::{Detector, Incident, Kind, Params};
use crate::errors::ErrorSet;
use crate::event::OomKill;
use crate::place::{PlacedFailure, PlacedSignal, Placement};
use crate::report::model::{Analysis, HostTotals, Thresholds, Totals, SCHEMA};
use crate::source::InputError;
use crate::summary::{Fresh, InputSummary};

/// What the earlier stages found, for the explain stage to put in words.
pub struct Evidence<'a> {
    pub buckets: &'a BucketSet,
    pub inputs: &'a [InputSummary],
    /// Paths that could not be expanded into inputs.
    pub expand_errors: Vec<InputError>,
    pub kills: &'a [OomKill],
    pub failures: &'a [PlacedFailure<'a>],
    pub signals: &'a [PlacedSignal<'a>],
    /// An incremental run: what this run read, before the history.
    pub fresh: Option<Fresh>,
    /// The statuses the logs' errors were counted as.
    pub errors_counted: ErrorSet,
}

/// The analysis of `incidents` with their evidence.
pub fn explain(
    incidents: &[Incident],
    mut ev: Evidence,
    placement: &mut Placement,
    config: &Config,
) -> Analysis {
    let totals = totals(&ev, std::mem::take(&mut placement.local));
    let expand_errors = std::mem::take(&mut ev.expand_errors);
    let inputs = inputs::reports(ev.inputs, expand_errors, placement);
    let placer = &placement.placer;
    let mut placement_notes: std::collections::BTreeSet<String> =
        config.notes.iter().cloned().collect();
    let mut warnings = Vec::new();
    if let Some(from) = &ev.buckets.folded {
        warnings.push(format!(
            "more than {} hosts: the requests of every host from '{from}' on (in sorted order) are counted together as {}; totals are exact, only the per-host breakdown is cut (--max-hosts raises the cap)",
            config.max_hosts,
            crate::bucket::OTHER_HOSTS
        ));
    }
    if let Some(from) = &ev.buckets.folded_routes {
        warnings.push(format!(
            "more than {} routes (upstreams, backends, virtual hosts): the requests of every route from '{from}' on (in sorted order) are counted together as {}; hosts and totals are exact (--max-hosts raises the cap)",
            config.max_hosts,
            crate::bucket::OTHER_ROUTES
        ));
    }
    placement_notes.extend(warnings.iter().cloned());
    let counted = ev.errors_counted;
    if !counted.is_default() {
        placement_notes.insert(format!(
            "errors counted: statuses {} (--errors {counted}); where this report says 5xx, it means these",
            counted.words()
        ));
    }
    // A zone-less --reported-at is read in the logs' zone, and said so.
    let reported_at = config.reported_at.or_else(|| {
        let naive = config.reported_at_local?;
        let zone = placer.run_zone();
        let utc = zone.to_utc(naive);
        placement_notes.insert(format!(
            "--reported-at has no zone: read in {}, the zone of the logs, as {}",
            zone.name(),
            crate::time::rfc3339(utc, zone.offset_at(utc))
        ));
        Some(utc)
    });
    let incidents: Vec<_> = incidents
        .iter()
        .map(|i| {
            let mut r = narrate::incident_report(i, placer);
            r.chart = chart::chart(ev.buckets, i, placer);
            if i.kind == Kind::ErrorBurst {
                chart::impact(&mut r, ev.buckets, i);
            }
            r.lead_over_report_seconds = reported_at.map(|t| t - i.detected);
            narrate::cut_by_filters(
                &mut r,
                config.params.window,
                (placement.since, placement.until),
                &mut placement_notes,
            );
            correlate::attach_signals(&mut r, ev.signals, placer);
            correlate::attach_upstream(&mut r, ev.failures, placer);
            r.suggestions = suggest::suggestions(&r, config.params.window);
            if totals.requests > 0 {
                r.share_of_all_requests =
                    (r.errors as f64 / totals.requests as f64 * 10_000.0).round() / 10_000.0;
            }
            r
        })
        .collect();
    placement.notes.extend(placement_notes);
    Analysis {
        schema: SCHEMA,
        window_seconds: config.params.window,
        inputs,
        totals,
        incidents,
        thresholds: thresholds(&config.params, counted),
        notes: std::mem::take(&mut placement.notes).into_iter().collect(),
        warnings,
        incremental: ev.fresh.is_some(),
        minutes: if config.minutes {
            chart::minute_rows(ev.buckets, placer)
        } else {
            Vec::new()
        },
        overview: if config.overview {
            chart::overview(ev.buckets, placer)
        } else {
            Vec::new()
        },
    }
}

/// The run's totals; with `fresh` (an incremental run) only what this run
/// read, `local` being what its local-time series added.
fn totals(ev: &Evidence, local: Fresh) -> Totals {
    let fresh_input = |input: u32| !ev.inputs[input as usize].history;
    let hosts = match &ev.fresh {
        None => Fresh::of(ev.buckets),
        // This run's hosts, folded as the capped buckets are.
        Some(f) => {
            let mut all = Fresh::default();
            for (host, &(r, e)) in f.hosts.iter().chain(&local.hosts) {
                let host = if ev.buckets.series.contains_key(host) {
                    host.as_str()
                } else {
                    crate::bucket::OTHER_HOSTS
                };
                all.add(host, r, e);
            }
            all
        }
    };
    Totals {
        requests: hosts.requests,
        errors: hosts.errors,
        oom_kills: ev.kills.len() as u64,
        upstream_failures: ev
            .failures
            .iter()
            .filter(|(_, k, _)| fresh_input(k.input))
            .map(|(_, _, n)| n)
            .sum(),
        signals: ev
            .signals
            .iter()
            .filter(|(_, k, _, _)| fresh_input(k.input))
            .map(|(_, _, c, _)| c.count)
            .sum(),
        hosts: hosts
            .hosts
            .into_iter()
            .filter(|(_, (r, e))| r + e > 0)
            .map(|(host, (requests, errors))| HostTotals {
                host,
                requests,
                errors,
            })
            .collect(),
    }
}

/// The detection parameters, and the rule in words.
fn thresholds(p: &Params, errors: ErrorSet) -> Thresholds {
    let rule = match (&p.slo, p.detector) {
        (Some(slo), _) => format!(
            "SLO {}%: burn-rate alerts at {}, ≥ {} 5xx in the short window",
            slo.target * 100.0,
            slo.windows()
                .iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
                .join("; "),
            p.min_errors
        ),
        (None, Detector::Baseline) => format!(
            "≥ {} 5xx in a {} s window, well above the series' normal share",
            p.min_errors, p.window
        ),
        (None, Detector::Threshold) => format!(
            "≥ {} 5xx in a {} s window at ≥ {:.1}% of requests",
            p.min_errors,
            p.window,
            p.min_ratio * 100.0
        ),
    };
    Thresholds {
        window_seconds: p.window,
        min_errors: p.min_errors,
        min_ratio: p.min_ratio,
        cooldown_seconds: p.cooldown,
        gap_seconds: p.gap,
        detector: if p.slo.is_some() {
            "slo"
        } else {
            p.detector.name()
        },
        false_alarm_every_seconds: (p.slo.is_none() && p.detector == Detector::Baseline)
            .then_some(p.alarm_every),
        min_clients: (p.min_clients > 0).then_some(p.min_clients),
        errors: errors.spec(),
        rule,
    }
}
