//! Incident detection over the merged buckets: sliding-window 5xx bursts,
//! traffic gaps and OOM-kill clusters, with the semantics of `docs/detection.md`.
//!
//! Everything here is a pure function of a [`BucketSet`] and the deduplicated
//! kills, so the same input gives the same incidents whatever the thread
//! count. Times are UTC seconds; rendering them is the report's business.
//!
//! One file per rule: `baseline` (a series' normal share), `burst` (5xx
//! bursts and SLO mode), `latency`, `gap` (traffic gaps), `oom` (joining
//! the killer's lines into kills, clustering and attaching them).

use std::collections::{BTreeMap, BTreeSet};

use crate::bucket::{BucketSet, Series};
use crate::event::OomKill;
use slo::{BurnWindow, Slo};

/// Detection thresholds; every one is a command-line flag.
#[derive(Clone, Copy, Debug, PartialEq)]
#[warn(missing_docs)]
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
    /// The baseline rule's level, in seconds: a healthy series' window
    /// looks bad with a chance of one minute in this span
    /// (`--false-alarm-every`, a year).
    pub alarm_every: i64,
    /// A 5xx burst whose 5xx went to fewer distinct clients than this, or
    /// half of whose 5xx beyond the normal share went to one fewer
    /// clients, is
    /// left out (`--min-clients`; 0 keeps every burst). Bursts of logs that
    /// name no clients are kept.
    pub min_clients: u64,
}

/// The rule that makes a window bad (`docs/detection.md` gives each precisely).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[warn(missing_docs)]
pub enum Detector {
    /// The founding fixed rule: ≥ `min_errors` 5xx that are ≥ `min_ratio`
    /// of the window's requests.
    Threshold,
    /// Relative to the series' own normal: ≥ `min_errors` 5xx, a share
    /// well above the baseline share (see `docs/detection.md`) and more 5xx than
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
            alarm_every: 365 * 86_400,
            min_clients: 0,
        }
    }
}

mod baseline;
mod burst;
mod gap;
mod latency;
mod oom;
pub mod slo;
mod spread;
mod tail;

pub use baseline::{
    BASELINE_ALPHA, BASELINE_BLIP, BASELINE_CEILING, BASELINE_FACTOR, BASELINE_FROM, BASELINE_LONG,
    BASELINE_MARGIN, BASELINE_MIN_MINUTES, BASELINE_SUSTAINED, BASELINE_TO, SUSTAINED_LEVEL,
    SUSTAINED_MINUTES,
};
pub use gap::GAP_MIN_EXPECTED;
pub use latency::{LATENCY_FACTOR, LATENCY_FLOOR_MS, LATENCY_MIN_REQUESTS};
pub use oom::{
    join_kills, MemorySignal, PlacedOomLine, EVENT_LEAD, OOM_ATTACH_BEFORE, OOM_CAUSE_BEFORE,
    OOM_CLUSTER_GAP,
};

use burst::{error_bursts, slo_bursts};
use gap::traffic_gaps;
use latency::latency_bursts;
use oom::{attach_oom, memory_incidents};
use spread::median;

/// What an incident is. Serialised as its [`name`](Self::name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[warn(missing_docs)]
pub enum Kind {
    /// A burst of 5xx responses.
    ErrorBurst,
    /// Traffic that stopped where the hour before predicted requests.
    TrafficGap,
    /// A cluster of kernel OOM kills with no 5xx burst to attach to, or of
    /// memory signals (a runtime's out-of-memory error, systemd-oomd) with
    /// no incident around them.
    Oom,
    /// A burst of slow responses (where the log gives durations).
    Latency,
}

impl Kind {
    /// The kind a [`Kind::name`] names.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Every kind, in the order reports list them.
    pub const ALL: [Kind; 4] = [Kind::ErrorBurst, Kind::TrafficGap, Kind::Latency, Kind::Oom];

    /// Whether an incident of this kind whose last bad second is `end` may
    /// still grow, the data reaching `seen_to`: within a window and a
    /// cooldown of it. A traffic gap never is (it is found once traffic
    /// is back).
    pub fn still_open(self, end: i64, seen_to: Option<i64>, window: i64, cooldown: i64) -> bool {
        self != Kind::TrafficGap && seen_to.is_some_and(|d| end + window + cooldown > d)
    }

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
    /// Error bursts: the first second of the windows that made it (at or
    /// before `start`: the sustained window's reach five minutes back,
    /// where a storm may have made it); how wide it was is judged from
    /// there. Other kinds: `start`.
    pub evidence_from: i64,
    pub end: i64,
    pub peak_error_ratio: f64,
    /// Requests and 5xx of the incident's hosts over `start..=end`.
    pub requests: u64,
    pub errors: u64,
    pub status_counts: BTreeMap<u16, u64>,
    pub hosts: Vec<String>,
    /// For error bursts: the routes (upstreams, backends, virtual hosts)
    /// whose own series was bad.
    pub routes: Vec<String>,
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
            evidence_from: start,
            end,
            peak_error_ratio: 0.0,
            requests: 0,
            errors: 0,
            status_counts: BTreeMap::new(),
            hosts: Vec::new(),
            routes: Vec::new(),
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

/// Finds every incident. `kills` must be sorted by time.
pub fn detect(buckets: &BucketSet, kills: &[OomKill], p: &Params) -> Vec<Incident> {
    detect_narrowed(buckets, kills, &[], p).0
}

/// [`detect`] with the memory signals placed, and the 5xx bursts
/// `--min-clients` left out (with the distinct clients each reached).
pub fn detect_narrowed(
    buckets: &BucketSet,
    kills: &[OomKill],
    memory: &[MemorySignal],
    p: &Params,
) -> (Vec<Incident>, Vec<(Incident, Breadth)>) {
    let hosts: Vec<&String> = buckets.series.keys().collect();
    let mut series: Vec<&Series> = buckets.series.values().collect();
    let service = (hosts.len() > 1).then(|| buckets.service());
    if let Some(s) = &service {
        series.push(s);
    }
    let routes: Vec<&String> = buckets.routes.keys().collect();
    let n_judged = series.len();
    series.extend(buckets.routes.values());

    let mut incidents = match &p.slo {
        Some(slo) => slo_bursts(&series[..n_judged], hosts.len(), &hosts, slo, p),
        None => error_bursts(&series, &hosts, &routes, p),
    };
    let mut narrowed = Vec::new();
    if p.min_clients > 0 {
        incidents.retain(|i| match breadth(buckets, i, p.min_clients) {
            Some(b) if b.clients < p.min_clients || b.busiest_share >= NARROW_SHARE => {
                narrowed.push((i.clone(), b));
                false
            }
            _ => true,
        });
    }
    incidents.extend(traffic_gaps(&series[..hosts.len()], &hosts, p));
    for (i, s) in series[..hosts.len()].iter().enumerate() {
        incidents.extend(latency_bursts(s, hosts[i], p));
    }
    incidents.sort_by_key(|i| (i.start, i.kind));
    attach_oom(&mut incidents, kills);
    memory_incidents(&mut incidents, memory);
    incidents.sort_by_key(|i| (i.start, i.kind));
    (incidents, narrowed)
}

/// A burst is narrow when this share of its 5xx went to fewer clients
/// than `--min-clients` (the report's "92 % of the 5xx from one client"
/// uses the same share).
pub const NARROW_SHARE: f64 = 0.5;

/// How wide a burst was: the distinct clients its 5xx went to, and the
/// share of them the busiest clients got.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Breadth {
    pub clients: u64,
    /// Of the 5xx of the burst's hosts in its minutes beyond what their
    /// normal share explains (all of them under the threshold rule), the
    /// share the `min_clients − 1` busiest clients got, at least
    /// (overcount left out; at most 1).
    pub busiest_share: f64,
}

/// The breadth of burst `i` on its hosts over its minutes and those of
/// the windows that made it, against `min_clients`; `None` when the logs
/// name no clients.
fn breadth(buckets: &BucketSet, i: &Incident, min_clients: u64) -> Option<Breadth> {
    let from = i.evidence_from;
    let tally = buckets.tally(&i.hosts, from, i.end);
    if tally.clients.is_empty() {
        return None;
    }
    let (a, z) = (from.div_euclid(60) * 60, i.end.div_euclid(60) * 60 + 59);
    let (requests, errors) = i
        .hosts
        .iter()
        .filter_map(|h| buckets.series.get(h))
        .map(|s| s.sum(a, z))
        .fold((0, 0), |(r, e), (sr, se)| (r + sr, e + se));
    // The 5xx beyond what the normal share explains: what made it a burst.
    let excess = errors as f64 - requests as f64 * i.baseline_share.unwrap_or(0.0);
    let busiest: u64 = tally
        .top_clients
        .top()
        .iter()
        .take(min_clients.saturating_sub(1) as usize)
        .map(|e| e.count - e.over)
        .sum();
    Some(Breadth {
        clients: tally.clients.count(),
        busiest_share: (busiest as f64 / excess.max(1.0)).min(1.0),
    })
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
            victim: crate::event::Victim {
                pid: Some(pid),
                process: "python3".into(),
                anon_rss_kb: Some(3_600_000),
                ..Default::default()
            },
            trigger: None,
            source: "kern.log:1".into(),
            container: None,
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

    /// A deploy's blip (4 s of every request failing) is no incident, and
    /// it leaves the normal: an outage of 25 % twenty minutes later, in
    /// the hour the blip would have made look wild, is found at once.
    /// (Kept in the normal, the blip's minute made its spread so wide that
    /// such an outage at 465 requests a second went unseen for 7 min.)
    #[test]
    fn a_blip_does_not_blind_the_next_hour() {
        let (blip, onset) = (5400, 6600);
        let mut b = BucketSet::default();
        busy(&mut b, |t, k| {
            (blip..blip + 4).contains(&t) || (onset..onset + 600).contains(&t) && k % 4 == 0
        });
        let found = detect(&b, &[], &Params::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            (onset..onset + 60).contains(&found[0].detected),
            "{:?}",
            found[0]
        );
        // Without the outage, the blip alone is nothing.
        let mut quiet = BucketSet::default();
        busy(&mut quiet, |t, _| (blip..blip + 4).contains(&t));
        assert!(detect(&quiet, &[], &Params::default()).is_empty());
    }

    /// A rolling deploy's two blips (4 s and 3 s of every request
    /// failing, 40 s apart) are no incident; an outage that flaps (5 s
    /// failing of every 10) is one, found within its first minute.
    #[test]
    fn two_blips_in_a_minute_are_no_incident_but_a_flapping_outage_is() {
        let mut two = BucketSet::default();
        busy(&mut two, |t, _| {
            (5400..5404).contains(&t) || (5440..5443).contains(&t)
        });
        let found = detect(&two, &[], &Params::default());
        assert!(found.is_empty(), "{found:?}");
        let onset = 6600;
        let mut flapping = BucketSet::default();
        busy(&mut flapping, |t, _| {
            (onset..onset + 600).contains(&t) && (t - onset) % 10 < 5
        });
        let found = detect(&flapping, &[], &Params::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            (onset..onset + 60).contains(&found[0].detected),
            "{:?}",
            found[0]
        );
    }

    /// A log of four minutes, two of them an outage: its own minutes are
    /// no normal (their median is the outage's), and the ceiling still
    /// lets it alert — judged binomially, not with the spread measured
    /// around the outage.
    #[test]
    fn a_short_log_that_is_mostly_outage_alerts() {
        let mut b = BucketSet::default();
        for t in 0..240 {
            for k in 0..10 {
                let bad = (100..190).contains(&t) && k % 3 != 0;
                add(&mut b, "web-01", t, if bad { 502 } else { 200 });
            }
        }
        let found = detect(&b, &[], &Params::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!((100..130).contains(&found[0].detected), "{:?}", found[0]);
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
        // The 11th error: at the 10th, the busiest 5 s (a blip's length)
        // hold as many 5xx beyond the normal as the rest of the window,
        // and without them it holds too few.
        assert_eq!(i.detected, 1010);
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

    /// One small upstream fails whole behind a busy proxy: its failures
    /// are 0.5 % of the host's requests, under the effect size, and
    /// all of its own.
    #[test]
    fn a_failing_route_is_judged_on_its_own_requests() {
        let mut b = BucketSet::default();
        let (a, z) = (7200, 7500);
        for t in 0..3 * 3600 {
            let small_fails = (a..z).contains(&t);
            let small = u32::from(small_fails);
            b.series_mut("web-01")
                .add_second(t, 200, if t % 50 == 0 { 1 } else { 0 } + small);
            b.series_mut("web-02").add_second(t, 200, 0);
            let big = b.routes.entry("upstream shop-api-80".into()).or_default();
            big.add_second(t, 399, if t % 50 == 0 { 1 } else { 0 });
            let tiny = b.routes.entry("upstream search-80".into()).or_default();
            tiny.add_second(t, 1, small);
        }
        let inc = detect(&b, &[], &Params::default());
        assert_eq!(inc.len(), 1, "{inc:?}");
        let i = &inc[0];
        assert_eq!(i.routes, vec!["upstream search-80".to_string()]);
        assert_eq!(i.hosts, vec!["web-01".to_string()]);
        assert!(!i.service_only);
        assert!((a..a + 30).contains(&i.detected), "{i:?}");
        assert_eq!((i.start, i.end), (a, z - 1));
        // Counted on the route: every one of its requests failed.
        assert_eq!((i.requests, i.errors), (300, 300));
        // Without the routes nothing stands out.
        b.routes.clear();
        assert!(detect(&b, &[], &Params::default()).is_empty());
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
    fn memory_signals_no_incident_holds_stand_alone() {
        let mut b = BucketSet::default();
        traffic(&mut b, "web-01", 0, 5000, |t| (1000..1300).contains(&t));
        let m = |utc, host| MemorySignal { utc, host };
        let memory = [
            // Held by the burst (from 5 min before its start), on its host.
            m(750, "web-01"),
            m(1100, "web-01"),
            // Another host in the burst: its own incident.
            m(1100, "db-01"),
            // Two within 5 min, then one after: two incidents.
            m(3000, "web-01"),
            m(3290, "web-01"),
            m(3700, "web-01"),
        ];
        let (inc, _) = detect_narrowed(&b, &[], &memory, &Params::default());
        let got: Vec<_> = inc
            .iter()
            .map(|i| (i.kind, i.start, i.end, i.hosts.join(",")))
            .collect();
        assert_eq!(
            got,
            vec![
                (Kind::ErrorBurst, 1000, 1299, "web-01".into()),
                (Kind::Oom, 1100, 1100, "db-01".into()),
                (Kind::Oom, 3000, 3290, "web-01".into()),
                (Kind::Oom, 3700, 3700, "web-01".into()),
            ]
        );
        // A kill-based oom incident holds the signals on its host.
        let (inc, _) = detect_narrowed(
            &b,
            &[kill(4000, 9)],
            &[m(3950, "web-01")],
            &Params::default(),
        );
        assert_eq!(inc.iter().filter(|i| i.kind == Kind::Oom).count(), 1);
        // After a kill: its unit's failure 2 s later and a runtime's
        // error 4 min after that are the kill's incident, which lasts
        // until them; on another host, or past 5 min, they stand alone.
        let after = [
            m(4002, "web-01"),
            m(4240, "web-01"),
            m(4003, "db-01"),
            m(4600, "web-01"),
        ];
        let (inc, _) = detect_narrowed(&b, &[kill(4000, 9)], &after, &Params::default());
        let got: Vec<_> = inc
            .iter()
            .filter(|i| i.kind == Kind::Oom)
            .map(|i| (i.start, i.end, i.hosts.join(","), i.oom_kills.len()))
            .collect();
        assert_eq!(
            got,
            vec![
                (4000, 4240, "web-01".into(), 1),
                (4003, 4003, "db-01".into(), 0),
                (4600, 4600, "web-01".into(), 0),
            ]
        );
    }

    #[test]
    fn oom_attaches_as_cause_or_stands_alone() {
        let mut b = BucketSet::default();
        traffic(&mut b, "web-01", 0, 5000, |t| (1000..1300).contains(&t));
        let kills = vec![kill(991, 4242), kill(1200, 4391), kill(4000, 5000)];
        let inc = detect(&b, &kills, &Params::default());
        assert_eq!(inc.len(), 2);
        assert_eq!(inc[0].oom_kills.len(), 2);
        assert_eq!(
            inc[0].cause.as_ref().map(|k| k.victim.pid),
            Some(Some(4242))
        );
        assert_eq!(inc[1].kind, Kind::Oom);
        assert_eq!((inc[1].start, inc[1].end), (4000, 4000));
        // A kill 10 min before the start is attached but is not the cause.
        let inc = detect(&b, &[kill(400, 1)], &Params::default());
        assert_eq!(inc.len(), 1);
        assert_eq!(inc[0].oom_kills.len(), 1);
        assert_eq!(inc[0].cause, None);
    }
}
