//! Incident detection over the merged buckets: sliding-window 5xx bursts,
//! traffic gaps and OOM-kill clusters, with the semantics of `docs/detection.md`.
//!
//! Everything here is a pure function of a [`BucketSet`] and the deduplicated
//! kills, so the same input gives the same incidents whatever the thread
//! count. Times are UTC seconds; rendering them is the report's business.

use std::collections::{BTreeMap, BTreeSet};

use crate::bucket::{BucketSet, Series};
use crate::event::OomKill;
use crate::slo::{self, BurnWindow, Slo};

/// Detection thresholds; every one is a command-line flag.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// W: the window, in seconds, over which errors and requests are summed.
    pub window: i64,
    /// A bad window holds at least this many 5xx…
    pub min_errors: u64,
    /// …and at least this share of its requests are 5xx.
    pub min_ratio: f64,
    /// Bad seconds closer than this belong to one incident.
    pub cooldown: i64,
    /// The shortest silence that counts as a traffic gap.
    pub gap: i64,
    /// Which rule makes a window bad.
    pub detector: Detector,
    /// SLO mode: 5xx bursts are the burn-rate alerts of this SLO on the
    /// service, instead of bad windows.
    pub slo: Option<Slo>,
    /// A minute is slow when its p99 duration reaches this (milliseconds)…
    pub slow_ms: u64,
}

/// The rule that makes a window bad (see [`bad_runs`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Detector {
    /// The founding fixed rule: ≥ `min_errors` 5xx that are ≥ `min_ratio`
    /// of the window's requests.
    Threshold,
    /// Relative to the series' own normal: ≥ `min_errors` 5xx, a share
    /// well above the baseline share ([`Baseline::bar`]) and more 5xx than
    /// the baseline explains (four binomial standard deviations).
    #[default]
    Baseline,
}

impl Detector {
    pub fn name(&self) -> &'static str {
        match self {
            Detector::Threshold => "threshold",
            Detector::Baseline => "baseline",
        }
    }
}

impl Default for Params {
    fn default() -> Self {
        Params {
            window: 60,
            min_errors: 10,
            min_ratio: 0.05,
            cooldown: 300,
            gap: 300,
            detector: Detector::Baseline,
            slo: None,
            slow_ms: 1000,
        }
    }
}

/// A series' normal 5xx share, minute by minute: the median of the
/// per-minute shares from [`BASELINE_FROM`] to [`BASELINE_TO`] before the
/// minute, leaving out minutes that held a bad second (the incident is not
/// its own normal) and the last minutes before it (an outage's slow start).
/// Until [`BASELINE_MIN_MINUTES`] such minutes exist, the median of the
/// series' first hour stands in (a median: an outage shorter than half
/// of it does not move it).
pub const BASELINE_FROM: i64 = 60 * 60;
pub const BASELINE_TO: i64 = 10 * 60;
pub const BASELINE_MIN_MINUTES: usize = 20;
/// A bad share is at least this many times the baseline share…
pub const BASELINE_FACTOR: f64 = 3.0;
/// …and at least this much above it.
pub const BASELINE_MARGIN: f64 = 0.01;
/// A share above this is never normal: a series failing this much all
/// along (or over most of a short log) still alerts at three times it.
pub const BASELINE_CEILING: f64 = 0.15;
/// The 5xx beyond what the baseline explains, in binomial standard
/// deviations.
pub const BASELINE_Z: f64 = 4.0;

struct Baseline {
    /// (minute, requests, 5xx) of every minute with a request.
    minutes: Vec<(i64, u64, u64)>,
    /// Minutes that held a bad second.
    bad: BTreeSet<i64>,
    /// The median share of the first hour.
    initial: f64,
    /// The minute the cached share is for, and the share.
    cached: Option<(i64, f64)>,
}

impl Baseline {
    fn new(series: &Series) -> Baseline {
        let minutes: Vec<(i64, u64, u64)> = series
            .per_minute()
            .into_iter()
            .map(|(m, c)| (m, c.requests, c.errors))
            .collect();
        let first = minutes.first().map_or(0, |m| m.0);
        let mut shares: Vec<f64> = minutes
            .iter()
            .take_while(|m| m.0 < first + BASELINE_FROM)
            .map(|m| m.2 as f64 / m.1 as f64)
            .collect();
        Baseline {
            initial: median(&mut shares),
            minutes,
            bad: BTreeSet::new(),
            cached: None,
        }
    }

    /// The normal share for second `t`.
    fn share(&mut self, t: i64) -> f64 {
        let minute = t.div_euclid(60) * 60;
        if let Some((m, share)) = self.cached {
            if m == minute {
                return share;
            }
        }
        let (from, to) = (minute - BASELINE_FROM, minute - BASELINE_TO);
        let lo = self.minutes.partition_point(|m| m.0 < from);
        let mut shares: Vec<f64> = self.minutes[lo..]
            .iter()
            .take_while(|m| m.0 < to)
            .filter(|m| !self.bad.contains(&m.0))
            .map(|m| m.2 as f64 / m.1 as f64)
            .collect();
        let share = if shares.len() >= BASELINE_MIN_MINUTES {
            median(&mut shares)
        } else {
            self.initial
        };
        self.cached = Some((minute, share));
        share
    }

    /// Whether a window of `r` requests and `e` 5xx at second `t` is well
    /// above normal.
    fn bad(&mut self, t: i64, r: u64, e: u64) -> bool {
        let m = self.share(t).min(BASELINE_CEILING);
        let share = e as f64 / r as f64;
        let bar = (m * BASELINE_FACTOR).max(m + BASELINE_MARGIN);
        let p = m.max(0.001);
        let expected = r as f64 * p;
        share >= bar && e as f64 >= expected + BASELINE_Z * (expected * (1.0 - p)).sqrt()
    }
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// How far before an incident's start an OOM cluster still belongs to it.
pub const OOM_ATTACH_BEFORE: i64 = 15 * 60;
/// How far before an incident's start an OOM kill can still be its cause.
pub const OOM_CAUSE_BEFORE: i64 = 5 * 60;
/// Kills closer than this form one cluster.
pub const OOM_CLUSTER_GAP: i64 = 5 * 60;
/// A traffic gap needs the preceding hour's rate to predict this many
/// requests in the silence.
pub const GAP_MIN_EXPECTED: f64 = 30.0;

/// What an incident is. Serialised as its [`name`](Self::name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    ErrorBurst,
    TrafficGap,
    Oom,
    /// A burst of slow responses (where the log gives durations).
    Latency,
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::ErrorBurst => "error-burst",
            Kind::TrafficGap => "traffic-gap",
            Kind::Oom => "oom",
            Kind::Latency => "latency",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// One incident, in UTC seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Incident {
    pub kind: Kind,
    pub start: i64,
    pub detected: i64,
    pub peak: Option<i64>,
    pub end: i64,
    pub peak_error_ratio: f64,
    /// Requests and 5xx of the incident's hosts over `start..=end`.
    pub requests: u64,
    pub errors: u64,
    pub status_counts: BTreeMap<u16, u64>,
    pub hosts: Vec<String>,
    pub oom_kills: Vec<OomKill>,
    /// The kill that probably caused it: the last one from 5 min before its
    /// start up to its detection, else the first one after detection. Usually one of `oom_kills`; it can
    /// belong to an earlier incident's cluster when a cluster spans several.
    pub cause: Option<OomKill>,
    /// For error bursts: whether the per-host or only the service series fired.
    pub service_only: bool,
    /// For traffic gaps: requests the preceding hour's rate predicted.
    pub expected_requests: u64,
    /// For error bursts: the rule that fired, and with the baseline rule
    /// the normal 5xx share of the series that fired first.
    pub rule: Detector,
    pub baseline_share: Option<f64>,
    /// SLO mode: the alert that fired, when it reset, and the share of a
    /// 30-day error budget the burst spent.
    pub slo: Option<SloAlert>,
    /// Latency bursts: how slow, against what.
    pub latency: Option<LatencyAlert>,
}

/// What a latency burst shows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatencyAlert {
    /// The worst minute's p99, in milliseconds.
    pub peak_p99_ms: u64,
    /// The hosts' normal p99 before it, when known.
    pub baseline_p99_ms: Option<u64>,
    /// The bar a minute's p99 crossed.
    pub bar_ms: u64,
    /// Requests at or above the bar over the burst.
    pub slow_requests: u64,
}

/// …or [`LATENCY_FACTOR`] times the normal p99 (the median of the per-minute
/// p99s from 60 to 10 minutes before, over at least 20 minutes) and at
/// least [`LATENCY_FLOOR_MS`].
pub const LATENCY_FACTOR: u64 = 4;
pub const LATENCY_FLOOR_MS: u64 = 100;
/// A minute needs this many requests with a duration to be judged.
pub const LATENCY_MIN_REQUESTS: u64 = 20;

/// What SLO mode says of a burst.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SloAlert {
    pub target: f64,
    pub window: BurnWindow,
    pub reset: i64,
    /// The burn rate over the short window at detection, and its highest.
    pub burn: f64,
    pub peak_burn: f64,
    /// The burst's 5xx as a share of the error budget of 30 days of the
    /// run's average traffic.
    pub budget_spent: f64,
}

impl Incident {
    fn new(kind: Kind, start: i64, detected: i64, end: i64) -> Incident {
        Incident {
            kind,
            start,
            detected,
            peak: None,
            end,
            peak_error_ratio: 0.0,
            requests: 0,
            errors: 0,
            status_counts: BTreeMap::new(),
            hosts: Vec::new(),
            oom_kills: Vec::new(),
            cause: None,
            service_only: false,
            expected_requests: 0,
            rule: Detector::Threshold,
            baseline_share: None,
            slo: None,
            latency: None,
        }
    }
}

/// A run of consecutive bad seconds in one series.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Run {
    series: usize,
    start: i64,
    end: i64,
    peak: i64,
    peak_ratio: f64,
    /// The series' normal share when the run began (baseline detector).
    baseline: Option<f64>,
}

/// The runs of bad seconds of one series: seconds t whose window (t−W, t]
/// holds ≥ `min_errors` 5xx that are ≥ `min_ratio` of its requests
/// ([`Detector::Threshold`]), or well above the series' normal share
/// ([`Detector::Baseline`]).
fn bad_runs(series: &Series, index: usize, p: &Params) -> Vec<Run> {
    let mut runs = Vec::new();
    let Some((first, last)) = series.span() else {
        return runs;
    };
    let mut baseline = (p.detector == Detector::Baseline).then(|| Baseline::new(series));
    let (mut lead, mut trail) = (series.cursor(), series.cursor());
    let (mut e, mut r) = (0u64, 0u64);
    let mut open: Option<Run> = None;
    let mut t = first;
    while t <= last + p.window {
        if e == 0 && r == 0 {
            // The window is empty: jump to the next second with a request.
            // Nothing lies in (t−1−W, t) or before that jump target, so the
            // window sums stay right.
            match series.next_request_at_or_after(t) {
                Some(n) => t = n,
                None => break,
            }
        }
        let (rq, er) = lead.get(t);
        let (rq_out, er_out) = trail.get(t - p.window);
        r = r + rq as u64 - rq_out as u64;
        e = e + er as u64 - er_out as u64;
        let bad = e >= p.min_errors
            && e > 0
            && match &mut baseline {
                None => (e as f64) >= p.min_ratio * r as f64,
                Some(b) => b.bad(t, r, e),
            };
        if bad {
            if let Some(b) = &mut baseline {
                b.bad.insert(t.div_euclid(60) * 60);
            }
            let ratio = e as f64 / r as f64;
            match &mut open {
                Some(run) => {
                    run.end = t;
                    if ratio > run.peak_ratio {
                        run.peak_ratio = ratio;
                        run.peak = t;
                    }
                }
                None => {
                    open = Some(Run {
                        series: index,
                        start: t,
                        end: t,
                        peak: t,
                        peak_ratio: ratio,
                        baseline: baseline.as_mut().map(|b| b.share(t)),
                    })
                }
            }
        } else if let Some(run) = open.take() {
            runs.push(run);
        }
        t += 1;
    }
    runs.extend(open);
    runs
}

/// Finds every incident. `kills` must be sorted by time.
pub fn detect(buckets: &BucketSet, kills: &[OomKill], p: &Params) -> Vec<Incident> {
    let hosts: Vec<&String> = buckets.series.keys().collect();
    let mut series: Vec<&Series> = buckets.series.values().collect();
    let service = (hosts.len() > 1).then(|| buckets.service());
    if let Some(s) = &service {
        series.push(s);
    }
    let service_index = service.as_ref().map(|_| hosts.len());

    let mut incidents = match &p.slo {
        Some(slo) => slo_bursts(&series, hosts.len(), &hosts, slo, p),
        None => error_bursts(&series, &hosts, service_index, p),
    };
    incidents.extend(traffic_gaps(&series[..hosts.len()], &hosts, p));
    for (i, s) in series[..hosts.len()].iter().enumerate() {
        incidents.extend(latency_bursts(s, hosts[i], p));
    }
    incidents.sort_by_key(|i| (i.start, i.kind));
    attach_oom(&mut incidents, kills);
    incidents.sort_by_key(|i| (i.start, i.kind));
    incidents
}

fn error_bursts(
    series: &[&Series],
    hosts: &[&String],
    service: Option<usize>,
    p: &Params,
) -> Vec<Incident> {
    let mut runs: Vec<Run> = series
        .iter()
        .enumerate()
        .flat_map(|(i, s)| bad_runs(s, i, p))
        .collect();
    runs.sort_by_key(|r| (r.start, r.series));

    // Group runs whose bad seconds lie closer than the cooldown.
    let mut groups: Vec<Vec<Run>> = Vec::new();
    let mut group_end = i64::MIN;
    for run in runs {
        match groups.last_mut() {
            Some(g) if run.start - group_end < p.cooldown => {
                group_end = group_end.max(run.end);
                g.push(run);
            }
            _ => {
                group_end = run.end;
                groups.push(vec![run]);
            }
        }
    }

    let w = p.window;
    groups
        .into_iter()
        .map(|g| {
            let detected = g.iter().map(|r| r.start).min().expect("group has runs");
            let last_bad = g.iter().map(|r| r.end).max().expect("group has runs");
            let start = g
                .iter()
                .filter(|r| r.start == detected)
                .filter_map(|r| series[r.series].first_error_in(detected - w + 1, detected))
                .min()
                .unwrap_or(detected);
            let end = g
                .iter()
                .filter(|r| r.end == last_bad)
                .filter_map(|r| series[r.series].last_error_in(last_bad - w + 1, last_bad))
                .max()
                .unwrap_or(last_bad);
            let peak_run = g
                .iter()
                .max_by(|a, b| {
                    a.peak_ratio
                        .total_cmp(&b.peak_ratio)
                        .then(b.peak.cmp(&a.peak))
                })
                .expect("group has runs");

            let mut host_set: BTreeSet<usize> = g
                .iter()
                .filter(|r| Some(r.series) != service)
                .map(|r| r.series)
                .collect();
            let service_only = host_set.is_empty();
            if service_only {
                for r in &g {
                    for (i, s) in series[..hosts.len()].iter().enumerate() {
                        if s.first_error_in(r.start - w + 1, r.end).is_some() {
                            host_set.insert(i);
                        }
                    }
                }
            }

            let mut inc = Incident::new(Kind::ErrorBurst, start, detected, end);
            inc.rule = p.detector;
            inc.baseline_share = g
                .iter()
                .filter(|r| r.start == detected)
                .filter_map(|r| r.baseline)
                .reduce(f64::min);
            inc.peak = Some(peak_run.peak);
            inc.peak_error_ratio = peak_run.peak_ratio;
            inc.service_only = service_only;
            for &i in &host_set {
                let (r, e) = series[i].sum(start, end);
                inc.requests += r;
                inc.errors += e;
                series[i].status_counts(start, end, &mut inc.status_counts);
                inc.hosts.push(hosts[i].clone());
            }
            inc
        })
        .collect()
}

/// Minutes of one host whose p99 duration reached `--slow` or was far
/// above its normal, with at least `--min-errors` requests that slow;
/// slow minutes closer than the cooldown are one incident.
fn latency_bursts(series: &Series, host: &str, p: &Params) -> Vec<Incident> {
    let minutes: Vec<(i64, &crate::bucket::LatencyHist)> =
        series.latency().iter().map(|(m, h)| (*m, h)).collect();
    let mut p99s: Vec<(i64, u64)> = Vec::new(); // judged, not slow
    let mut out: Vec<Incident> = Vec::new();
    for (m, h) in minutes {
        if h.count() < LATENCY_MIN_REQUESTS {
            continue;
        }
        let Some(p99) = h.quantile(0.99) else {
            continue;
        };
        let lo = p99s.partition_point(|x| x.0 < m - BASELINE_FROM);
        let mut normal: Vec<f64> = p99s[lo..]
            .iter()
            .take_while(|x| x.0 < m - BASELINE_TO)
            .map(|x| x.1 as f64)
            .collect();
        let baseline = (normal.len() >= BASELINE_MIN_MINUTES).then(|| median(&mut normal) as u64);
        let bar = match baseline {
            Some(b) => p.slow_ms.min((b * LATENCY_FACTOR).max(LATENCY_FLOOR_MS)),
            None => p.slow_ms,
        };
        let slow = h.at_least(bar);
        if p99 < bar || slow < p.min_errors.max(1) {
            p99s.push((m, p99));
            continue;
        }
        match out.last_mut() {
            Some(inc) if m - inc.end <= p.cooldown => {
                inc.end = m + 59;
                let l = inc.latency.as_mut().expect("latency incident");
                l.slow_requests += slow;
                if p99 > l.peak_p99_ms {
                    l.peak_p99_ms = p99;
                    inc.peak = Some(m);
                }
            }
            _ => {
                let mut inc = Incident::new(Kind::Latency, m, m + 59, m + 59);
                inc.hosts = vec![host.to_string()];
                inc.peak = Some(m);
                inc.latency = Some(LatencyAlert {
                    peak_p99_ms: p99,
                    baseline_p99_ms: baseline,
                    bar_ms: bar,
                    slow_requests: slow,
                });
                out.push(inc);
            }
        }
    }
    for inc in &mut out {
        let (r, e) = series.sum(inc.start, inc.end);
        inc.requests = r;
        inc.errors = e;
        series.status_counts(inc.start, inc.end, &mut inc.status_counts);
    }
    out
}

/// SLO mode: each alert period of the service (the last series) is a
/// burst of the hosts with a 5xx in it.
fn slo_bursts(
    series: &[&Series],
    n_hosts: usize,
    hosts: &[&String],
    slo: &Slo,
    p: &Params,
) -> Vec<Incident> {
    let Some(service) = series.last() else {
        return Vec::new();
    };
    let span = service.span().map_or(1, |(a, z)| (z - a + 1).max(1));
    let monthly = service.requests as f64 * slo::BUDGET_PERIOD as f64 / span as f64;
    slo::firings(service, slo, p.min_errors, p.cooldown)
        .into_iter()
        .map(|f| {
            let end = service.last_error_in(f.onset, f.last).unwrap_or(f.last);
            let start = service
                .first_error_in(f.onset, f.detected)
                .unwrap_or(f.onset);
            let mut inc = Incident::new(Kind::ErrorBurst, start, f.detected, end);
            inc.rule = p.detector;
            let (r, e) = service.sum(start, end);
            inc.peak_error_ratio = if r > 0 { e as f64 / r as f64 } else { 0.0 };
            for (i, s) in series[..n_hosts].iter().enumerate() {
                if s.first_error_in(start, end).is_none() {
                    continue;
                }
                let (r, e) = s.sum(start, end);
                inc.requests += r;
                inc.errors += e;
                s.status_counts(start, end, &mut inc.status_counts);
                inc.hosts.push(hosts[i].clone());
            }
            inc.slo = Some(SloAlert {
                target: slo.target,
                window: slo.windows()[f.window],
                reset: f.reset,
                burn: f.burn,
                peak_burn: f.peak_burn,
                budget_spent: inc.errors as f64 / (slo.budget() * monthly).max(1.0),
            });
            inc
        })
        .collect()
}

/// Silences of ≥ `gap` in a host's requests whose preceding hour's rate
/// predicts at least [`GAP_MIN_EXPECTED`] requests in them; overlapping
/// silences of several hosts are one incident.
fn traffic_gaps(series: &[&Series], hosts: &[&String], p: &Params) -> Vec<Incident> {
    let mut gaps: Vec<(i64, i64, usize, u64)> = Vec::new();
    for (i, s) in series.iter().enumerate() {
        let mut prev: Option<i64> = None;
        for (t, _, _) in s.seconds() {
            if let Some(a) = prev {
                if t - a >= p.gap {
                    let (hour_before, _) = s.sum(a - 3599, a);
                    let expected = hour_before as f64 * (t - a) as f64 / 3600.0;
                    if expected >= GAP_MIN_EXPECTED {
                        gaps.push((a, t, i, expected.round() as u64));
                    }
                }
            }
            prev = Some(t);
        }
    }
    gaps.sort();
    let mut out: Vec<Incident> = Vec::new();
    for (a, b, i, expected) in gaps {
        match out.last_mut() {
            Some(inc) if a <= inc.end => {
                inc.end = inc.end.max(b);
                if !inc.hosts.contains(hosts[i]) {
                    inc.hosts.push(hosts[i].clone());
                }
                inc.expected_requests += expected;
            }
            _ => {
                let mut inc = Incident::new(Kind::TrafficGap, a, a + p.gap, b);
                inc.hosts.push(hosts[i].clone());
                inc.expected_requests = expected;
                out.push(inc);
            }
        }
    }
    for inc in &mut out {
        inc.hosts.sort();
    }
    out
}

/// Clusters the kills and attaches each cluster to the first incident whose
/// span, widened 15 min before its start, it touches; the last kill from
/// 5 min before the start up to detection, else the first kill inside, is
/// the probable cause. Clusters attached to nothing are incidents of their own.
fn attach_oom(incidents: &mut Vec<Incident>, kills: &[OomKill]) {
    let mut clusters: Vec<Vec<OomKill>> = Vec::new();
    for k in kills {
        match clusters.last_mut() {
            Some(c) if k.utc - c.last().expect("non-empty").utc <= OOM_CLUSTER_GAP => {
                c.push(k.clone())
            }
            _ => clusters.push(vec![k.clone()]),
        }
    }
    let mut own = Vec::new();
    for cluster in clusters {
        let (first, last) = (cluster[0].utc, cluster[cluster.len() - 1].utc);
        // A burst or gap the kills overlap, else a latency burst.
        let overlaps = |i: &Incident| first <= i.end && last >= i.start - OOM_ATTACH_BEFORE;
        let at = incidents
            .iter()
            .position(|i| matches!(i.kind, Kind::ErrorBurst | Kind::TrafficGap) && overlaps(i))
            .or_else(|| {
                incidents
                    .iter()
                    .position(|i| i.kind == Kind::Latency && overlaps(i))
            });
        let target = at.map(|n| &mut incidents[n]);
        match target {
            Some(inc) => inc.oom_kills.extend(cluster),
            None => {
                let mut inc = Incident::new(Kind::Oom, first, first, last);
                let hosts: BTreeSet<String> = cluster.iter().map(|k| k.host.clone()).collect();
                inc.hosts = hosts.into_iter().collect();
                inc.oom_kills = cluster;
                own.push(inc);
            }
        }
    }
    for inc in incidents.iter_mut() {
        inc.oom_kills.sort();
        // The last kill before the alert would have fired (no earlier than
        // 5 min before onset): onset can precede the kill when a starving
        // process answers errors before the kernel kills it.
        let before = kills
            .iter()
            .rev()
            .find(|k| k.utc <= inc.detected && k.utc >= inc.start - OOM_CAUSE_BEFORE);
        let inside = || {
            kills
                .iter()
                .find(|k| k.utc > inc.detected && k.utc <= inc.end)
        };
        inc.cause = before.or_else(inside).cloned();
    }
    incidents.extend(own);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Request;

    fn add(b: &mut BucketSet, host: &str, t: i64, status: u16) {
        b.series_mut(host).add(&Request {
            utc: t,
            offset: 0,
            status,
            latency_ms: None,
        });
    }

    /// Steady traffic of one request a second on `host` over `a..b`, with
    /// 5xx on the seconds `bad` says.
    fn traffic(b: &mut BucketSet, host: &str, a: i64, z: i64, bad: impl Fn(i64) -> bool) {
        for t in a..z {
            add(b, host, t, if bad(t) { 502 } else { 200 });
        }
    }

    fn kill(utc: i64, pid: u32) -> OomKill {
        OomKill {
            utc,
            offset: 0,
            host: "web-01".into(),
            pid: Some(pid),
            process: "python3".into(),
            anon_rss_kb: Some(3_600_000),
            total_vm_kb: None,
            cgroup: None,
            memcg: false,
            trigger: None,
            source: "kern.log:1".into(),
        }
    }

    /// Ten requests a second for three hours, 5xx on the requests `bad`
    /// picks (by second and index within it).
    fn busy(b: &mut BucketSet, bad: impl Fn(i64, i64) -> bool) {
        for t in 0..3 * 3600 {
            for k in 0..10 {
                add(b, "web-01", t, if bad(t, k) { 502 } else { 200 });
            }
        }
    }

    #[test]
    fn baseline_ignores_chronic_noise_and_catches_small_bursts() {
        let baseline = Params::default();
        let threshold = Params {
            detector: Detector::Threshold,
            ..baseline
        };
        // Always 6 % (every 17th request, spread over the seconds).
        let mut noisy = BucketSet::default();
        busy(&mut noisy, |t, k| (t * 10 + k) % 17 == 0);
        assert!(detect(&noisy, &[], &baseline).is_empty());
        assert!(!detect(&noisy, &[], &threshold).is_empty());
        // Clean, then 3 % for ten minutes two hours in.
        let mut step = BucketSet::default();
        let (a, z) = (7200, 7800);
        busy(&mut step, |t, k| {
            (a..z).contains(&t) && (t * 10 + k) % 33 == 0
        });
        assert!(detect(&step, &[], &threshold).is_empty());
        let found = detect(&step, &[], &baseline);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, Detector::Baseline);
        assert_eq!(found[0].baseline_share, Some(0.0));
        assert!((a..a + 60).contains(&found[0].detected), "{:?}", found[0]);
        // Failing all along is not normal: the ceiling still lets it alert.
        let mut down = BucketSet::default();
        busy(&mut down, |_, _| true);
        assert_eq!(detect(&down, &[], &baseline).len(), 1);
    }

    #[test]
    fn burst_start_detected_peak_end() {
        let mut b = BucketSet::default();
        // Errors every second from 1000 to 1299, one request a second.
        traffic(&mut b, "web-01", 0, 3000, |t| (1000..1300).contains(&t));
        let inc = detect(&b, &[], &Params::default());
        assert_eq!(inc.len(), 1);
        let i = &inc[0];
        assert_eq!(i.kind, Kind::ErrorBurst);
        assert_eq!(i.start, 1000);
        assert_eq!(i.detected, 1009); // the 10th error
        assert_eq!(i.end, 1299);
        assert_eq!(i.peak, Some(1059)); // first second with a window of only errors
        assert!((i.peak_error_ratio - 1.0).abs() < 1e-9);
        assert_eq!((i.requests, i.errors), (300, 300));
        assert_eq!(i.status_counts, BTreeMap::from([(502, 300)]));
        assert_eq!(i.hosts, vec!["web-01".to_string()]);
    }

    #[test]
    fn below_thresholds_no_incident() {
        let mut b = BucketSet::default();
        // 9 errors in a minute: under --min-errors.
        traffic(&mut b, "a", 0, 3000, |t| (1000..1009).contains(&t));
        assert!(detect(&b, &[], &Params::default()).is_empty());
        // Many errors but a tiny share of heavy traffic: under --min-ratio.
        let mut b = BucketSet::default();
        for t in 0..600 {
            for _ in 0..100 {
                add(&mut b, "a", t, 200);
            }
            if t % 2 == 0 {
                add(&mut b, "a", t, 500);
            }
        }
        assert!(detect(&b, &[], &Params::default()).is_empty());
    }

    #[test]
    fn cooldown_joins_and_splits() {
        let mut b = BucketSet::default();
        let bursts = |t: i64| {
            (1000..1030).contains(&t) || (1200..1230).contains(&t) || (2000..2030).contains(&t)
        };
        traffic(&mut b, "a", 0, 3000, bursts);
        let inc = detect(&b, &[], &Params::default());
        // 1200 is < 300 s after the first burst's last bad second; 2000 is not.
        assert_eq!(inc.len(), 2);
        assert_eq!((inc[0].start, inc[0].end), (1000, 1229));
        assert_eq!(inc[1].start, 2000);
    }

    #[test]
    fn one_dead_backend_among_many_and_fleet_wide() {
        let mut b = BucketSet::default();
        for h in ["a", "b", "c"] {
            traffic(&mut b, h, 0, 2000, |t| {
                h == "b" && (1000..1100).contains(&t)
            });
        }
        let inc = detect(&b, &[], &Params::default());
        assert_eq!(inc.len(), 1);
        assert_eq!(inc[0].hosts, vec!["b".to_string()]);
        assert!(!inc[0].service_only);

        // Each host alone stays under --min-errors; together they do not.
        let mut b = BucketSet::default();
        for (k, h) in ["a", "b", "c"].iter().enumerate() {
            traffic(&mut b, h, 0, 2000, |t| {
                (1000..1060).contains(&t) && t % 9 == k as i64
            });
        }
        let inc = detect(&b, &[], &Params::default());
        assert_eq!(inc.len(), 1);
        assert!(inc[0].service_only);
        assert_eq!(inc[0].hosts.len(), 3);
    }

    #[test]
    fn traffic_gap_found_when_rate_predicts_requests() {
        let mut b = BucketSet::default();
        traffic(&mut b, "a", 0, 4000, |_| false);
        traffic(&mut b, "a", 4600, 6000, |_| false);
        let inc = detect(&b, &[], &Params::default());
        assert_eq!(inc.len(), 1);
        assert_eq!(inc[0].kind, Kind::TrafficGap);
        assert_eq!(
            (inc[0].start, inc[0].end, inc[0].detected),
            (3999, 4600, 4299)
        );
        assert_eq!(inc[0].expected_requests, 601);
        // A quiet service (one request every 10 min) has no gaps.
        let mut b = BucketSet::default();
        for t in (0..20_000).step_by(600) {
            add(&mut b, "a", t, 200);
        }
        assert!(detect(&b, &[], &Params::default()).is_empty());
    }

    #[test]
    fn oom_attaches_as_cause_or_stands_alone() {
        let mut b = BucketSet::default();
        traffic(&mut b, "web-01", 0, 5000, |t| (1000..1300).contains(&t));
        let kills = vec![kill(991, 4242), kill(1200, 4391), kill(4000, 5000)];
        let inc = detect(&b, &kills, &Params::default());
        assert_eq!(inc.len(), 2);
        assert_eq!(inc[0].oom_kills.len(), 2);
        assert_eq!(inc[0].cause.as_ref().map(|k| k.pid), Some(Some(4242)));
        assert_eq!(inc[1].kind, Kind::Oom);
        assert_eq!((inc[1].start, inc[1].end), (4000, 4000));
        // A kill 10 min before the start is attached but is not the cause.
        let inc = detect(&b, &[kill(400, 1)], &Params::default());
        assert_eq!(inc.len(), 1);
        assert_eq!(inc[0].oom_kills.len(), 1);
        assert_eq!(inc[0].cause, None);
    }
}

/// One OOM-killer line placed in UTC, ready to be joined into kills.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PlacedOomLine {
    pub kind: crate::event::OomLineKind,
    pub kill: OomKill,
}

/// How close two lines about the same pid must be to describe one kill.
const SAME_KILL: i64 = 60;
/// How soon after a decision or header line the kill line follows.
const FOLLOWS: i64 = 10;

/// Joins the OOM-killer lines into kills, counting each kill once however
/// many lines describe it: the `Killed process` line is the kill; an
/// `oom-kill:` summary adds its cgroup to the kill of the same pid, or stands
/// for it when the kill line is missing; a `Kill process … sacrifice child`
/// decision counts only when no kill line follows it; the `invoked
/// oom-killer` header names the trigger; reaper lines add nothing. The same
/// kill read from two files (kern.log and syslog) is one kill.
pub fn join_kills(mut lines: Vec<PlacedOomLine>) -> Vec<OomKill> {
    use crate::event::OomLineKind as K;
    lines.sort_by(|a, b| {
        (a.kill.utc, a.kind, &a.kill.source).cmp(&(b.kill.utc, b.kind, &b.kill.source))
    });
    let mut by_host: BTreeMap<String, Vec<OomKill>> = BTreeMap::new();
    let same = |k: &OomKill, l: &OomKill| k.pid == l.pid && (k.utc - l.utc).abs() <= SAME_KILL;

    for l in lines.iter().filter(|l| l.kind == K::Killed) {
        let kills = by_host.entry(l.kill.host.clone()).or_default();
        match kills
            .iter_mut()
            .rev()
            .take_while(|k| l.kill.utc - k.utc <= SAME_KILL)
            .find(|k| same(k, &l.kill))
        {
            Some(k) => {
                k.anon_rss_kb = k.anon_rss_kb.or(l.kill.anon_rss_kb);
                k.total_vm_kb = k.total_vm_kb.or(l.kill.total_vm_kb);
                k.memcg |= l.kill.memcg;
            }
            None => kills.push(l.kill.clone()),
        }
    }
    for l in lines.iter().filter(|l| l.kind == K::Summary) {
        let kills = by_host.entry(l.kill.host.clone()).or_default();
        match kills.iter_mut().find(|k| same(k, &l.kill)) {
            Some(k) => {
                k.cgroup = k.cgroup.take().or_else(|| l.kill.cgroup.clone());
                k.memcg |= l.kill.memcg;
            }
            None => {
                kills.push(l.kill.clone());
                kills.sort();
            }
        }
    }
    for l in lines.iter().filter(|l| l.kind == K::Candidate) {
        let kills = by_host.entry(l.kill.host.clone()).or_default();
        let followed = kills
            .iter()
            .any(|k| same(k, &l.kill) || (k.utc >= l.kill.utc && k.utc - l.kill.utc <= FOLLOWS));
        if !followed {
            kills.push(l.kill.clone());
            kills.sort();
        }
    }
    for l in lines.iter().filter(|l| l.kind == K::Invoked) {
        if let Some(kills) = by_host.get_mut(&l.kill.host) {
            if let Some(k) = kills.iter_mut().find(|k| {
                k.trigger.is_none() && k.utc >= l.kill.utc && k.utc - l.kill.utc <= FOLLOWS
            }) {
                k.trigger = Some(l.kill.process.clone());
            }
        }
    }
    let mut all: Vec<OomKill> = by_host.into_values().flatten().collect();
    all.sort();
    all
}

#[cfg(test)]
mod join_tests {
    use super::*;
    use crate::event::OomLineKind as K;

    fn line(kind: K, utc: i64, pid: u32, process: &str) -> PlacedOomLine {
        PlacedOomLine {
            kind,
            kill: OomKill {
                utc,
                offset: 0,
                host: "h".into(),
                pid: Some(pid),
                process: process.into(),
                anon_rss_kb: (kind == K::Killed).then_some(100),
                total_vm_kb: None,
                cgroup: (kind == K::Summary).then(|| "/system.slice/app.service".into()),
                memcg: false,
                trigger: None,
                source: format!("f:{utc}"),
            },
        }
    }

    #[test]
    fn one_kill_from_many_lines() {
        let kills = join_kills(vec![
            line(K::Invoked, 100, 0, "nginx"),
            line(K::Summary, 100, 42, "python3"),
            line(K::Killed, 100, 42, "python3"),
            line(K::Reaper, 101, 42, "python3"),
            // The same kill again, read from /var/log/syslog.
            line(K::Killed, 100, 42, "python3"),
        ]);
        assert_eq!(kills.len(), 1);
        assert_eq!(kills[0].trigger.as_deref(), Some("nginx"));
        assert_eq!(
            kills[0].cgroup.as_deref(),
            Some("/system.slice/app.service")
        );
        assert_eq!(kills[0].anon_rss_kb, Some(100));
    }

    #[test]
    fn sacrifice_child_names_a_candidate_not_a_second_kill() {
        let kills = join_kills(vec![
            line(K::Candidate, 100, 24572, "java"),
            line(K::Killed, 100, 28438, "java"),
        ]);
        assert_eq!(kills.len(), 1);
        assert_eq!(kills[0].pid, Some(28438));
        // A decision with no kill line after it (log cut) still counts.
        let kills = join_kills(vec![line(K::Candidate, 100, 1, "x")]);
        assert_eq!(kills.len(), 1);
        // Two kills of distinct pids are two kills; a summary alone is one.
        let kills = join_kills(vec![
            line(K::Killed, 100, 1, "x"),
            line(K::Killed, 101, 2, "x"),
            line(K::Summary, 500, 3, "y"),
        ]);
        assert_eq!(kills.len(), 3);
    }
}
