//! Correlation: the evidence around an error burst. Application and
//! service signals and nginx upstream failures on the burst's hosts, from
//! [`EVENT_LEAD`] before its start to its end, are grouped (one generic
//! group-by, [`group_around`]), put on its timeline, and offered as its
//! probable cause when no OOM kill explains it.

use std::collections::BTreeMap;

use crate::detect::{Kind, EVENT_LEAD};
use crate::format::nginx_error::UpstreamKind;
use crate::place::{PlacedFailure, PlacedSignal, Placer};
use crate::report::model::{
    IncidentReport, SignalReport, Time, TimelineEntry, TimelineEvent, UpstreamReport,
};

use super::narrate::{lead_words, sort_timeline};

/// Whether an event on `host` at `t` belongs to the incident: on one of its
/// hosts, from [`EVENT_LEAD`] before its start to its end.
fn around(r: &IncidentReport, t: &Time, host: &str) -> bool {
    (r.start.utc - EVENT_LEAD..=r.end.utc).contains(&t.utc) && r.hosts.iter().any(|h| h == host)
}

/// Events of one key around an incident: first and last instant, how many,
/// and the earliest one's representative (by instant, then `earlier`).
struct Group<R> {
    first: i64,
    last: i64,
    count: u64,
    rep: R,
}

/// Groups the events around `r` by key. Each event is `(instant, host,
/// key, count, representative)`; `earlier(a, b)` orders representatives
/// of one second (the line written first).
fn group_around<'e, K: Ord, R>(
    r: &IncidentReport,
    events: impl Iterator<Item = (Time, &'e str, K, u64, R)>,
    earlier: impl Fn(&R, &R) -> bool,
) -> BTreeMap<K, Group<R>> {
    let mut groups: BTreeMap<K, Group<R>> = BTreeMap::new();
    for (t, host, key, n, rep) in events {
        if !around(r, &t, host) {
            continue;
        }
        match groups.get_mut(&key) {
            None => {
                groups.insert(
                    key,
                    Group {
                        first: t.utc,
                        last: t.utc,
                        count: n,
                        rep,
                    },
                );
            }
            Some(g) => {
                if t.utc < g.first || (t.utc == g.first && earlier(&rep, &g.rep)) {
                    g.rep = rep;
                }
                g.first = g.first.min(t.utc);
                g.last = g.last.max(t.utc);
                g.count += n;
            }
        }
    }
    groups
}

fn shown_at(placer: &Placer, host: &str, utc: i64) -> Time {
    Time {
        utc,
        offset: placer.display_offset(Some(host), utc, None),
    }
}

/// Adds the signals around an incident of any kind, grouped per host,
/// signal and process: on the timeline, and as the probable cause when none
/// is known (the first signal seen by detection time). Memory signals no
/// incident holds are `oom` incidents of their own (`detect`), so every
/// memory signal is shown once.
pub fn attach_signals(r: &mut IncidentReport, signals: &[PlacedSignal], placer: &Placer) {
    let events = signals.iter().map(|(t, k, c, source)| {
        let key = (k.host.as_str(), k.name.as_str(), k.process.as_str());
        (*t, k.host.as_str(), key, c.count, (*c, source.as_str()))
    });
    let groups = group_around(r, events, |a, b| a.0.first < b.0.first);
    let mut reports: Vec<SignalReport> = groups
        .into_iter()
        .map(|((host, name, process), g)| SignalReport {
            host: host.to_string(),
            signal: name.to_string(),
            process: process.to_string(),
            first: shown_at(placer, host, g.first),
            last: shown_at(placer, host, g.last),
            count: g.count,
            text: g.rep.0.text.clone(),
            source: g.rep.1.to_string(),
            source_order: g.rep.0.first,
        })
        .collect();
    // In time order; within a second, in the order the lines were written.
    reports.sort_by(|a, b| (a.first, &a.source_order).cmp(&(b.first, &b.source_order)));
    // `in api-1 on api-1` says the host twice: a compose service's lines
    // are its process and its host; `systemd-oomd in systemd-oomd` says
    // the signal's name twice: the daemon is named after what it does.
    let whose = |s: &SignalReport| {
        if s.process == s.host || s.process == s.signal {
            format!("on {}", s.host)
        } else {
            format!("in {} on {}", s.process, s.host)
        }
    };
    for s in &reports {
        let times = if s.count == 1 {
            String::new()
        } else {
            format!(" ({} times until {})", s.count, s.last.clock())
        };
        r.timeline.push(TimelineEntry {
            time: s.first,
            event: TimelineEvent::Signal,
            detail: format!("{} {}: {}{times}", s.signal, whose(s), s.text),
        });
    }
    if r.probable_cause.is_none() {
        if let Some(s) = reports.iter().find(|s| s.first.utc <= r.detected.utc) {
            r.probable_cause = Some(format!(
                "{} {} at {}: {}{}",
                s.signal,
                whose(s),
                s.first.clock(),
                s.text,
                lead_words(r.kind, !r.oom_kills.is_empty(), r.start.utc, s.first.utc)
            ));
        }
    }
    sort_timeline(&mut r.timeline);
    r.signals = reports;
}

/// Adds the upstream failures around an error burst, grouped per host,
/// upstream and kind: on the timeline, and as the probable cause when none
/// is known.
pub fn attach_upstream(r: &mut IncidentReport, failures: &[PlacedFailure], placer: &Placer) {
    if r.kind != Kind::ErrorBurst {
        return;
    }
    let events = failures.iter().map(|(t, k, n)| {
        let key = (k.host.as_str(), k.upstream.as_str(), k.kind);
        (*t, k.host.as_str(), key, *n, ())
    });
    let groups = group_around(r, events, |_, _| false);
    let mut reports: Vec<UpstreamReport> = groups
        .into_iter()
        .map(|((host, upstream, kind), g)| UpstreamReport {
            host: host.to_string(),
            upstream: upstream.to_string(),
            kind,
            first: shown_at(placer, host, g.first),
            last: shown_at(placer, host, g.last),
            count: g.count,
        })
        .collect();
    reports.sort_by(|a, b| {
        (a.first, &a.upstream, a.kind.name()).cmp(&(b.first, &b.upstream, b.kind.name()))
    });
    for u in &reports {
        let times = if u.count == 1 {
            "once".to_string()
        } else {
            format!("{} times until {}", u.count, u.last.clock())
        };
        r.timeline.push(TimelineEntry {
            time: u.first,
            event: TimelineEvent::Upstream,
            // `load balancer app/shop-lb/… on shop-lb` names the host twice.
            detail: if u.upstream.contains(&u.host) {
                format!("{} {}: {times}", u.upstream, u.kind.describe())
            } else {
                format!(
                    "{} {} on {}: {times}",
                    u.upstream,
                    u.kind.describe(),
                    u.host
                )
            },
        });
    }
    if r.probable_cause.is_none() {
        // A killed worker is a symptom (nginx kills slow workers itself at
        // shutdown); only failures of an upstream are offered as a cause.
        let cause = reports
            .iter()
            .find(|u| u.first.utc <= r.detected.utc && u.kind != UpstreamKind::WorkerKilled);
        if let Some(u) = cause {
            // A load balancer's name says what it is; an nginx upstream's
            // (`http://10.0.0.5:8080`) does not.
            let what = if u.kind == UpstreamKind::LbAnswered {
                "the"
            } else {
                "upstream"
            };
            r.probable_cause = Some(format!(
                "{what} {} {} from {}",
                u.upstream,
                u.kind.describe(),
                u.first.clock()
            ));
        }
    }
    sort_timeline(&mut r.timeline);
    r.upstream_failures = reports;
}
