//! Narration: an [`Incident`] of the detect stage in words and instants —
//! its probable cause, its timeline, its figures rounded for the schema.
//! Correlation with signals and upstream failures is `correlate`'s.

use crate::detect::{Incident, Kind};
use crate::event::OomKill;
use crate::place::Placer;
use crate::report::model::{
    IncidentReport, KillReport, LatencyReport, SloReport, Time, TimelineEntry, TimelineEvent,
};
use crate::report::words::{describe_kill, ms};
use crate::time;

use super::suggest::leak_signature;

/// A kill as the report shows it.
pub fn kill_report(k: &OomKill) -> KillReport {
    KillReport {
        container: k.container.clone(),
        time: Time {
            utc: k.utc,
            offset: k.offset,
        },
        host: k.host.clone(),
        victim: k.victim.clone(),
        source: k.source.clone(),
        trigger: k.trigger.clone(),
    }
}

/// Rounds a share to four decimals, as the schema gives shares.
fn share4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

/// The incident's report, before correlation and suggestions: its
/// instants shown in its first host's offset, its cause and timeline.
pub fn incident_report(i: &Incident, placer: &Placer) -> IncidentReport {
    let host = i.hosts.first().map(String::as_str);
    let at = |utc: i64| Time {
        utc,
        offset: placer.display_offset(host, utc, None),
    };
    let kills: Vec<KillReport> = i.oom_kills.iter().map(kill_report).collect();
    let probable_cause = i.cause.as_ref().map(|k| kill_cause(i, k, &kills));
    let timeline = timeline(i, &kills, &at);
    IncidentReport {
        id: crate::report::model::incident_id(i.kind, i.start),
        kind: i.kind,
        start: at(i.start),
        detected: at(i.detected),
        peak: i.peak.map(at),
        end: at(i.end),
        duration_seconds: i.end - i.start,
        detection_lag_seconds: i.detected - i.start,
        rule: (i.kind == Kind::ErrorBurst).then(|| match i.slo {
            Some(_) => "slo-burn",
            None => i.rule.name(),
        }),
        latency: i.latency.map(|l| LatencyReport {
            p99_ms: l.peak_p99_ms,
            baseline_p99_ms: l.baseline_p99_ms,
            threshold_ms: l.bar_ms,
            slow_requests: l.slow_requests,
        }),
        slo: i.slo.map(|s| SloReport {
            target_percent: (s.target * 100_000.0).round() / 1000.0,
            alert: s.window.to_string(),
            burn_rate_factor: s.window.factor,
            long_window_seconds: s.window.long,
            short_window_seconds: s.window.short,
            reset: at(s.reset),
            peak_burn_rate: (s.peak_burn * 10.0).round() / 10.0,
            budget_spent: share4(s.budget_spent),
        }),
        baseline_error_ratio: i
            .baseline_share
            .filter(|_| i.kind == Kind::ErrorBurst)
            .map(share4),
        peak_error_ratio: share4(i.peak_error_ratio),
        requests: i.requests,
        errors: i.errors,
        share_of_all_requests: 0.0,
        status_counts: i
            .status_counts
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
        hosts: i.hosts.clone(),
        routes: i.routes.clone(),
        clients_affected: None,
        clients_estimated: false,
        top_paths: Vec::new(),
        paths_scattered: false,
        narrow: None,
        oom_kills: kills,
        upstream_failures: Vec::new(),
        signals: Vec::new(),
        probable_cause,
        timeline,
        expected_requests: (i.kind == Kind::TrafficGap).then_some(i.expected_requests),
        chart: Vec::new(),
        suggestions: Vec::new(),
        lead_over_report_seconds: None,
        status: None,
        open: None,
        alert_hosts: i.hosts.clone(),
    }
}

/// `OOM kill of python3 (…) on web-01 at 07:00:13, 9 s before the first
/// 5xx; probably a memory leak: …`.
fn kill_cause(i: &Incident, k: &OomKill, kills: &[KillReport]) -> String {
    let when = lead_words(i.kind, !i.oom_kills.is_empty(), i.start, k.utc);
    let k = kill_report(k);
    let limit = if k.victim.memcg {
        " at its cgroup's memory limit"
    } else {
        ""
    };
    let same: Vec<&KillReport> = kills
        .iter()
        .filter(|o| o.host == k.host && o.victim.process == k.victim.process)
        .collect();
    let leak = leak_signature(&same).map_or(String::new(), |l| format!("; {l}"));
    let elsewhere =
        if i.hosts.contains(&k.host) || k.container.as_ref().is_some_and(|c| i.hosts.contains(c)) {
            ""
        } else {
            " (another host than the incident's)"
        };
    format!(
        "OOM kill of {}{limit} on {}{elsewhere} at {}{when}{leak}",
        describe_kill(&k),
        k.host,
        k.time.clock()
    )
}

/// `, 9 s before the first 5xx`: how far an event at `at` is from the
/// onset (`start`) of an incident of `kind`, in the words of its kind; none
/// for an `oom` incident of memory signals alone (no `kills`), which starts
/// with its first signal.
pub fn lead_words(kind: Kind, kills: bool, start: i64, at: i64) -> String {
    let onset = match kind {
        Kind::ErrorBurst => "the first 5xx",
        Kind::TrafficGap => "traffic stopped",
        Kind::Latency => "responses slowed",
        Kind::Oom if kills => "the first kill",
        Kind::Oom => return String::new(),
    };
    match start - at {
        l if l > 0 => format!(", {} before {onset}", time::duration(l)),
        0 => format!(", as {onset} came"),
        l => format!(", {} after {onset}", time::duration(-l)),
    }
}

fn entry(time: Time, event: TimelineEvent, detail: String) -> TimelineEntry {
    TimelineEntry {
        time,
        event,
        detail,
    }
}

/// The incident's own events, then its kills, in time order.
fn timeline(i: &Incident, kills: &[KillReport], at: &dyn Fn(i64) -> Time) -> Vec<TimelineEntry> {
    let mut timeline = match i.kind {
        Kind::ErrorBurst => burst_timeline(i, at),
        Kind::TrafficGap => gap_timeline(i, at),
        Kind::Oom => Vec::new(),
        Kind::Latency => latency_timeline(i, at),
    };
    for k in kills {
        let trig = k
            .trigger
            .as_ref()
            .filter(|t| **t != k.victim.process)
            .map_or(String::new(), |t| format!(", invoked by {t}"));
        let unit = k
            .victim
            .cgroup
            .as_deref()
            .and_then(|c| c.rsplit('/').find(|p| !p.is_empty()))
            .map_or(String::new(), |u| format!(", in {u}"));
        timeline.push(entry(
            k.time,
            TimelineEvent::OomKill,
            format!("{} on {}{unit}{trig}", describe_kill(k), k.host),
        ));
    }
    sort_timeline(&mut timeline);
    timeline
}

/// Time order; within a second, [`TimelineEvent::rank`].
pub fn sort_timeline(t: &mut [TimelineEntry]) {
    t.sort_by_key(|e| (e.time.utc, e.event.rank()));
}

/// Why the detected window was bad, in words.
fn detected_because(i: &Incident) -> String {
    match (i.slo, i.baseline_share) {
        (Some(s), _) => format!(
            " (SLO {}%: the error budget burning at {:.1}×, the {})",
            s.target * 100.0,
            s.burn,
            s.window
        ),
        (None, Some(m)) if m < 0.0005 => " (5xx where there are normally none)".into(),
        // Such a normal is not believed (a series that has only ever
        // failed, a new backend that never answered): the window was
        // judged against the ceiling.
        (None, Some(m)) if m > crate::detect::BASELINE_CEILING => format!(
            " (its normal, {:.1}% of requests failing, is more than the {ceiling:.0}% ever taken as normal, so it was judged against {ceiling:.0}%)",
            m * 100.0,
            ceiling = crate::detect::BASELINE_CEILING * 100.0
        ),
        (None, Some(m)) => format!(
            " (5xx well above their normal {:.1}% of requests)",
            m * 100.0
        ),
        (None, None) => String::new(),
    }
}

/// An incident that begins within a window of `--since` or ends within a
/// window of `--until` may have begun earlier or gone on later than the
/// lines read: its onset or recovery is the filter's cut, not the log's,
/// and the timeline and the notes say so.
pub fn cut_by_filters(
    r: &mut IncidentReport,
    w: i64,
    (since, until): (Option<i64>, Option<i64>),
    notes: &mut std::collections::BTreeSet<String>,
) {
    let since = since.filter(|s| r.start.utc < s + w);
    let until = until.filter(|u| r.end.utc >= u - w);
    for e in &mut r.timeline {
        match e.event {
            TimelineEvent::Onset | TimelineEvent::Slow | TimelineEvent::Silence
                if since.is_some() =>
            {
                e.detail
                    .push_str(" after --since (cut by --since: it may have begun before)");
            }
            TimelineEvent::Recovered | TimelineEvent::Resumed if until.is_some() => {
                e.detail
                    .push_str(" before --until (cut by --until: it may have gone on)");
            }
            _ => {}
        }
    }
    if since.is_some() {
        notes.insert(format!(
            "an incident starts within {} of --since: its start is where the lines read begin, not necessarily where it began",
            time::duration(w)
        ));
    }
    if until.is_some() {
        notes.insert(format!(
            "an incident ends within {} of --until: its end is where the lines read stop, not necessarily where it ended",
            time::duration(w)
        ));
    }
}

fn burst_timeline(i: &Incident, at: &dyn Fn(i64) -> Time) -> Vec<TimelineEntry> {
    let mut t = vec![
        entry(
            at(i.start),
            TimelineEvent::Onset,
            "first 5xx of the burst".into(),
        ),
        entry(
            at(i.detected),
            TimelineEvent::Detected,
            format!(
                "an alert over these logs would fire: {} after onset{}",
                time::duration(i.detected - i.start),
                detected_because(i)
            ),
        ),
    ];
    if let Some(p) = i.peak {
        t.push(entry(
            at(p),
            TimelineEvent::Peak,
            format!(
                "{:.1}% of requests in the window failed",
                i.peak_error_ratio * 100.0
            ),
        ));
    }
    t.push(entry(
        at(i.end),
        TimelineEvent::Recovered,
        "last 5xx of the burst".into(),
    ));
    if let Some(s) = &i.slo {
        t.push(entry(
            at(s.reset),
            TimelineEvent::Reset,
            format!(
                "no burn-rate alert fires any more; {:.1}% of a 30-day error budget spent",
                s.budget_spent * 100.0
            ),
        ));
    }
    t
}

fn gap_timeline(i: &Incident, at: &dyn Fn(i64) -> Time) -> Vec<TimelineEntry> {
    vec![
        entry(
            at(i.start),
            TimelineEvent::Silence,
            format!("last request before the gap on {}", i.hosts.join(", ")),
        ),
        entry(
            at(i.detected),
            TimelineEvent::Detected,
            format!("no requests for {}", time::duration(i.detected - i.start)),
        ),
        entry(
            at(i.end),
            TimelineEvent::Resumed,
            format!(
                "requests again; about {} expected in the gap",
                i.expected_requests
            ),
        ),
    ]
}

fn latency_timeline(i: &Incident, at: &dyn Fn(i64) -> Time) -> Vec<TimelineEntry> {
    let Some(l) = i.latency else {
        return Vec::new();
    };
    let normal = l
        .baseline_p99_ms
        .map_or(String::new(), |b| format!(", against a normal {}", ms(b)));
    let mut t = vec![
        entry(
            at(i.start),
            TimelineEvent::Slow,
            format!("p99 of requests at or above {}{normal}", ms(l.bar_ms)),
        ),
        entry(
            at(i.detected),
            TimelineEvent::Detected,
            "a p99 alert over these logs would fire (minute resolution)".into(),
        ),
    ];
    if let Some(pk) = i.peak {
        t.push(entry(
            at(pk),
            TimelineEvent::Peak,
            format!("p99 {}", ms(l.peak_p99_ms)),
        ));
    }
    t.push(entry(
        at(i.end),
        TimelineEvent::Recovered,
        "end of the last slow minute".into(),
    ));
    t
}
