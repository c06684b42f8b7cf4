//! The whole run: configuration in, one [`Analysis`] value out.
//!
//! `analyze` expands the inputs, scans them (the `pipeline` stage), merges
//! their buckets, places zone-less and year-less stamps in time, joins the
//! OOM-killer lines into kills, runs detection and assembles the value every
//! renderer in `report` reads. It prints nothing.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use serde::{Serialize, Serializer};

use crate::bucket::{BucketSet, SignalCount, SignalKey, UpstreamKey};
use crate::chunk::DEFAULT_BLOCK_SIZE;
use crate::detect::{self, Incident, Kind, Params, PlacedOomLine};
use crate::error::{Error, Result};
use crate::event::{OomKill, OomLine, Stamp};
use crate::format::nginx::LogFormat;
use crate::format::nginx_error::UpstreamKind;
use crate::format::signals::Signals;
use crate::format::Format;
use crate::pipeline::{self, Scan, ScanOptions};
use crate::progress::ProgressHook;
use crate::sketch::ErrorTally;
use crate::source::{self, HostFrom, Input, InputSpec, MapPolicy};
use crate::summary::{InputSummary, Summary};
use crate::time::{self, OffsetSecs, Zone};
use std::sync::Arc;

pub const SCHEMA: &str = "logburst/v1";

/// Everything a run needs to know.
#[derive(Clone, Debug)]
pub struct Config {
    pub inputs: Vec<InputSpec>,
    /// Forces a format for every input instead of detecting it.
    pub format: Option<Format>,
    pub params: Params,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub tz: Option<Zone>,
    pub year: Option<i64>,
    /// Worker threads; `None` for one per core.
    pub threads: Option<usize>,
    pub block_size: usize,
    /// Custom nginx formats (`--nginx-log-format`, `--nginx-conf`).
    pub customs: Vec<LogFormat>,
    /// Formats fixed by file name, from nginx.conf's `access_log` lines.
    pub by_name: Vec<(String, Format)>,
    /// `--boot-time` (UTC): when the kernel whose raw dmesg is read booted.
    pub boot_time: Option<i64>,
    /// The user's own signals (`--signal NAME=REGEX`), tried before the
    /// built-in table.
    pub signals: Vec<(String, String)>,
    /// When plain files are memory-mapped rather than read.
    pub mmap: MapPolicy,
    /// Told how many bytes were read, as they are.
    pub progress: Option<ProgressHook>,
    /// Also give per-host, per-minute counts ([`Analysis::minutes`]).
    pub minutes: bool,
    /// Also give every host's traffic over the whole span
    /// ([`Analysis::overview`], for the HTML page).
    pub overview: bool,
    /// When the first customer report came (`--reported-at`).
    pub reported_at: Option<i64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            inputs: Vec::new(),
            format: None,
            params: Params::default(),
            since: None,
            until: None,
            tz: None,
            year: None,
            threads: None,
            block_size: DEFAULT_BLOCK_SIZE,
            customs: Vec::new(),
            by_name: Vec::new(),
            signals: Vec::new(),
            boot_time: None,
            mmap: MapPolicy::Never,
            progress: None,
            minutes: false,
            overview: false,
            reported_at: None,
        }
    }
}

/// An instant with the offset it is shown in. Serialized as RFC 3339.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time {
    pub utc: i64,
    pub offset: OffsetSecs,
}

impl Time {
    pub fn rfc3339(&self) -> String {
        time::rfc3339(self.utc, self.offset)
    }
    pub fn human(&self) -> String {
        time::human(self.utc, self.offset)
    }
    pub fn clock(&self) -> String {
        time::clock(self.utc, self.offset)
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MalformedLine {
    pub line: u64,
    pub text: String,
}

/// One input's line accounting: `lines = parsed + malformed`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct InputReport {
    pub path: String,
    /// The format detected or forced; `unknown` when none fitted.
    pub format: String,
    pub lines: u64,
    pub parsed: u64,
    pub malformed: u64,
    pub first: Option<Time>,
    pub last: Option<Time>,
    pub host: String,
    pub compression: String,
    pub malformed_lines: Vec<MalformedLine>,
    pub warnings: Vec<String>,
    /// Set when the input could not be read at all.
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Default)]
pub struct Totals {
    pub requests: u64,
    pub errors: u64,
    pub oom_kills: u64,
    /// Upstream failures and killed workers in nginx error logs.
    pub upstream_failures: u64,
    /// Lines holding an application or service signal (OOM errors, killed
    /// workers…).
    pub signals: u64,
}

/// Lines of one signal, from one process, around an incident.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SignalReport {
    pub host: String,
    pub signal: String,
    pub process: String,
    pub first: Time,
    pub last: Time,
    pub count: u64,
    /// The matched text of the first line, and where it is.
    pub text: String,
    pub source: String,
    #[serde(skip)]
    pub source_order: crate::event::Origin,
}

/// Failures of one upstream, of one kind, around an incident.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct UpstreamReport {
    pub host: String,
    pub upstream: String,
    pub kind: UpstreamKind,
    pub first: Time,
    pub last: Time,
    pub count: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct KillReport {
    pub time: Time,
    pub host: String,
    pub pid: Option<u32>,
    pub process: String,
    pub anon_rss_kb: Option<u64>,
    pub source: String,
    pub total_vm_kb: Option<u64>,
    pub cgroup: Option<String>,
    pub memcg: bool,
    pub trigger: Option<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TimelineEntry {
    pub time: Time,
    pub event: &'static str,
    pub detail: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct IncidentReport {
    pub kind: &'static str,
    pub start: Time,
    pub detected: Time,
    pub peak: Option<Time>,
    pub end: Time,
    pub duration_seconds: i64,
    pub detection_lag_seconds: i64,
    /// 5xx bursts: the rule that made the window bad (`baseline`: well
    /// above the series' own normal; `threshold`: at least --min-ratio).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
    /// With the baseline rule: the normal 5xx share it was judged against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_error_ratio: Option<f64>,
    /// SLO mode (`--slo`): the burn-rate alert that fired, its reset and
    /// the error budget spent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slo: Option<SloReport>,
    /// Latency bursts: the worst minute's p99, the normal p99, the bar
    /// crossed and how many requests were that slow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencyReport>,
    pub peak_error_ratio: f64,
    pub requests: u64,
    pub errors: u64,
    /// `errors` as a share of every request the run read (0 to 1).
    pub share_of_all_requests: f64,
    pub status_counts: BTreeMap<String, u64>,
    pub hosts: Vec<String>,
    /// 5xx bursts: distinct clients that got a 5xx in the incident's
    /// minutes, when the log names clients.
    pub clients_affected: Option<u64>,
    /// `clients_affected` is a HyperLogLog estimate (±1.6 % standard
    /// error) rather than an exact count.
    pub clients_estimated: bool,
    /// 5xx bursts: the paths (identifiers templated as `{id}`) that failed
    /// most in the incident's minutes, up to [`TOP_PATHS`].
    pub top_paths: Vec<PathCount>,
    /// 5xx bursts: the failures were spread over more distinct paths than
    /// a tally keeps and none stood out (every candidate's count was more
    /// overcount than certain), so `top_paths` names none.
    pub paths_scattered: bool,
    pub oom_kills: Vec<KillReport>,
    /// Upstream failures from five minutes before the start to the end.
    pub upstream_failures: Vec<UpstreamReport>,
    /// Application and service signals over the same span.
    pub signals: Vec<SignalReport>,
    pub probable_cause: Option<String>,
    pub timeline: Vec<TimelineEntry>,
    /// Traffic gaps: requests the preceding hour's rate predicted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_requests: Option<u64>,
    /// Requests and 5xx of its hosts in equal steps around it (for the
    /// text chart; not in the JSON).
    #[serde(skip)]
    pub chart: Vec<ChartPoint>,
    /// Corrective and preventative measures the evidence suggests, each
    /// with that evidence.
    pub suggestions: Vec<Suggestion>,
    /// With `--reported-at`: seconds from detection to the first customer
    /// report (positive: the logs showed it first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead_over_report_seconds: Option<i64>,
    /// Incremental runs (`--state`): `new` (first reported now), `ongoing`
    /// (reported before and still open) or `ended` (reported open before,
    /// over now).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    /// Incremental runs: whether the logs read so far may still extend it
    /// (its last bad second is within `--cooldown` of the newest data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Thresholds {
    pub window_seconds: i64,
    pub min_errors: u64,
    pub min_ratio: f64,
    pub cooldown_seconds: i64,
    pub gap_seconds: i64,
    /// `baseline`, `threshold` or `slo`.
    pub detector: &'static str,
    /// What makes a 5xx burst, in words (for the reports).
    pub rule: String,
}

/// What a latency burst shows (durations in milliseconds, to within the
/// histogram's 19 %).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LatencyReport {
    pub p99_ms: u64,
    pub baseline_p99_ms: Option<u64>,
    pub threshold_ms: u64,
    pub slow_requests: u64,
}

/// What SLO mode says of a burst.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SloReport {
    /// The availability target, in percent.
    pub target_percent: f64,
    /// `14.4× over 1 h and 5 min`.
    pub alert: String,
    pub burn_rate_factor: f64,
    pub long_window_seconds: i64,
    pub short_window_seconds: i64,
    /// The first minute no alert fired any more.
    pub reset: Time,
    /// The highest burn rate over the short window while it fired.
    pub peak_burn_rate: f64,
    /// The burst's 5xx as a share of the error budget of 30 days at the
    /// run's average traffic.
    pub budget_spent: f64,
}

/// How many paths an incident lists.
pub const TOP_PATHS: usize = 5;

/// A path and the 5xx it got.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PathCount {
    pub path: String,
    pub errors: u64,
    /// Of `errors`, how many may belong to other paths: non-zero only when
    /// more distinct paths failed than a bounded tally keeps (Space-Saving).
    pub overcount: u64,
}

/// The result of a run: what every renderer reads.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Analysis {
    pub schema: &'static str,
    pub window_seconds: i64,
    pub inputs: Vec<InputReport>,
    pub totals: Totals,
    pub incidents: Vec<IncidentReport>,
    pub thresholds: Thresholds,
    /// Assumptions the run made (zones, years), in words.
    pub notes: Vec<String>,
    /// An incremental run (`--state`): inputs and totals are what it read
    /// since the last run; incidents carry a `status`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub incremental: bool,
    /// Per host and minute, when `Config::minutes` asked for them (for the
    /// CSV output); not part of the JSON.
    #[serde(skip)]
    pub minutes: Vec<MinuteRow>,
    /// Every host's requests and 5xx over the span of the data, when
    /// `Config::overview` asked for them; not part of the JSON.
    #[serde(skip)]
    pub overview: Vec<ChartPoint>,
}

/// A measure worth taking, and what in the logs suggests it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Suggestion {
    pub measure: String,
    pub evidence: String,
}

/// Measures derived from what the incident shows: repeated kills of one
/// process (a limit and an alert; a leak when memory at death grows or
/// kills come faster), a kill as the cause, a traffic gap (an external
/// health check), failing upstreams, and how soon a log alert would fire.
fn suggestions(r: &IncidentReport, window: i64) -> Vec<Suggestion> {
    let mut out = Vec::new();
    let mut by_process: BTreeMap<(&str, &str), Vec<&KillReport>> = BTreeMap::new();
    for k in &r.oom_kills {
        by_process
            .entry((k.host.as_str(), k.process.as_str()))
            .or_default()
            .push(k);
    }
    for ((host, process), kills) in &by_process {
        if kills.len() < 2 {
            continue;
        }
        let (first, last) = (kills[0], kills[kills.len() - 1]);
        let rss: Vec<u64> = kills.iter().filter_map(|k| k.anon_rss_kb).collect();
        let gaps: Vec<i64> = kills
            .windows(2)
            .map(|w| w[1].time.utc - w[0].time.utc)
            .collect();
        let growing =
            rss.len() >= 2 && rss.windows(2).all(|w| w[1] >= w[0]) && rss[rss.len() - 1] > rss[0];
        let faster = gaps.len() >= 2 && gaps.windows(2).all(|w| w[1] < w[0]);
        let mut evidence = format!(
            "{process} was killed {} times on {host} between {} and {}",
            kills.len(),
            first.time.clock(),
            last.time.clock()
        );
        if let (Some(a), Some(b)) = (rss.first(), rss.last()) {
            evidence.push_str(&format!(", anon-rss {} → {}", kib(*a), kib(*b)));
        }
        let leak = leak_signature(kills).is_some();
        if faster || leak {
            let g: Vec<String> = gaps.iter().map(|g| time::duration(*g)).collect();
            evidence.push_str(&format!(", intervals {}", g.join(", ")));
        }
        let measure = if growing || faster || leak {
            format!("Look for a memory leak in {process} and give it a memory limit with an alert before the limit: it grows until the kernel kills it")
        } else {
            format!("Give {process} a memory limit it can live within, and alert on its memory before the kernel kills it again")
        };
        out.push(Suggestion { measure, evidence });
    }
    if by_process.values().all(|k| k.len() < 2) {
        if let Some(c) = &r.probable_cause {
            if c.starts_with("OOM kill") {
                out.push(Suggestion {
                    measure: "Alert on OOM kills in the kernel log: they came before the errors"
                        .into(),
                    evidence: c.clone(),
                });
            }
        }
    }
    if r.kind == "traffic-gap" {
        out.push(Suggestion {
            measure: "Add an external health check: a dead server writes no 5xx, so an error alert stays silent".into(),
            evidence: format!(
                "{} wrote no request for {}{}",
                r.hosts.join(", "),
                time::duration(r.duration_seconds),
                r.expected_requests
                    .map_or(String::new(), |e| format!(" while about {e} were expected"))
            ),
        });
    }
    for u in &r.upstream_failures {
        out.push(Suggestion {
            measure: format!(
                "Check upstream {} on {}: capacity, health checks and timeouts",
                u.upstream, u.host
            ),
            evidence: format!(
                "it {} {} times from {} to {}",
                u.kind.describe(),
                u.count,
                u.first.clock(),
                u.last.clock()
            ),
        });
    }
    if r.kind == "error-burst" {
        out.push(Suggestion {
            measure: format!(
                "Alert on the 5xx share over {}: such an alert would have fired {} after onset",
                time::duration(window),
                time::duration(r.detection_lag_seconds)
            ),
            evidence: format!(
                "first 5xx at {}, the window was bad at {}",
                r.start.clock(),
                r.detected.clock()
            ),
        });
    }
    out
}

/// One step of an incident's chart: its hosts' requests and 5xx from
/// `time` for `step_seconds`.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartPoint {
    pub time: Time,
    pub step_seconds: i64,
    pub requests: u64,
    pub errors: u64,
}

/// Steps in an incident's chart, at most.
pub const CHART_STEPS: i64 = 48;

/// Who and what a burst hit: the union of its hosts' tallies over its
/// minutes.
fn impact(r: &mut IncidentReport, buckets: &BucketSet, i: &Incident) {
    let mut tally = ErrorTally::default();
    for s in i.hosts.iter().filter_map(|h| buckets.series.get(h)) {
        s.tally(i.start, i.end, &mut tally);
    }
    if !tally.clients.is_empty() {
        r.clients_affected = Some(tally.clients.count());
        r.clients_estimated = !tally.clients.is_exact();
    }
    // A count mostly made of overcount is a guess, not a finding.
    r.top_paths = tally
        .paths
        .top()
        .into_iter()
        .filter(|e| e.count - e.over >= e.over)
        .take(TOP_PATHS)
        .map(|e| PathCount {
            path: e.key,
            errors: e.count,
            overcount: e.over,
        })
        .collect();
    r.paths_scattered = r.top_paths.is_empty() && !tally.paths.is_empty();
}

/// The incident's hosts' traffic from a little before its start to a
/// little after its end, in at most [`CHART_STEPS`] equal steps (a
/// multiple of 10 s); empty when its hosts wrote no requests.
fn chart(buckets: &BucketSet, i: &Incident, placer: &Placer) -> Vec<ChartPoint> {
    let lead = ((i.end - i.start) / 4).max(300);
    let (from, to) = (i.start - lead, i.end + lead);
    let step = ((to - from) / CHART_STEPS + 10) / 10 * 10;
    steps(buckets, &i.hosts, from, to, step, placer)
}

/// Steps in the whole run's overview, at most.
pub const OVERVIEW_STEPS: i64 = 1440;

/// Every host's requests and 5xx over the span of the data, per minute,
/// or per a whole number of minutes when the span is longer than
/// [`OVERVIEW_STEPS`] minutes.
fn overview(buckets: &BucketSet, placer: &Placer) -> Vec<ChartPoint> {
    let spans: Vec<(i64, i64)> = buckets.series.values().filter_map(|s| s.span()).collect();
    let (Some(from), Some(to)) = (
        spans.iter().map(|s| s.0).min(),
        spans.iter().map(|s| s.1).max(),
    ) else {
        return Vec::new();
    };
    let minutes = (to - from) / 60 + 1;
    let step = 60 * ((minutes + OVERVIEW_STEPS - 1) / OVERVIEW_STEPS).max(1);
    let hosts: Vec<String> = buckets.series.keys().cloned().collect();
    steps(buckets, &hosts, from, to, step, placer)
}

/// The hosts' requests and 5xx in steps of `step` seconds from `from`
/// (rounded down to a multiple of `step`) to `to`, shown in the first
/// host's offset; empty when they wrote no requests.
fn steps(
    buckets: &BucketSet,
    hosts: &[String],
    from: i64,
    to: i64,
    step: i64,
    placer: &Placer,
) -> Vec<ChartPoint> {
    let series: Vec<&crate::bucket::Series> =
        hosts.iter().filter_map(|h| buckets.series.get(h)).collect();
    if series.is_empty() {
        return Vec::new();
    }
    let from = from.div_euclid(step) * step;
    let host = hosts.first().map(String::as_str);
    let mut points = Vec::new();
    let mut t = from;
    while t <= to {
        let (mut r, mut e) = (0, 0);
        for s in &series {
            let (sr, se) = s.sum(t, t + step - 1);
            r += sr;
            e += se;
        }
        points.push(ChartPoint {
            time: Time {
                utc: t,
                offset: placer.display_offset(host, t, None),
            },
            step_seconds: step,
            requests: r,
            errors: e,
        });
        t += step;
    }
    if points.iter().all(|p| p.requests == 0) {
        points.clear();
    }
    points
}

/// One host's requests in one minute.
#[derive(Clone, Debug, PartialEq)]
pub struct MinuteRow {
    /// The minute's first second, shown in the host's usual offset.
    pub minute: Time,
    pub host: String,
    pub requests: u64,
    pub errors: u64,
    /// 5xx per status.
    pub status: BTreeMap<u16, u64>,
}

impl Analysis {
    /// An incremental run found an incident not reported before.
    pub fn found_new(&self) -> bool {
        self.incidents.iter().any(|i| i.status == Some("new"))
    }

    /// Inputs that could not be read at all.
    pub fn failed_inputs(&self) -> impl Iterator<Item = &InputReport> {
        self.inputs.iter().filter(|i| i.error.is_some())
    }
}

/// Places stamps in time: zones from `--tz`, else the host's own zoned logs,
/// else the run's; years from `--year`, else the host's dated logs, else the
/// file's modification time (already applied by the parser).
struct Placer {
    tz: Option<Zone>,
    host_offset: BTreeMap<String, OffsetSecs>,
    run_offset: Option<OffsetSecs>,
    host_span: BTreeMap<String, (i64, i64)>,
    run_span: Option<(i64, i64)>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum ZoneFrom {
    Tz,
    Host(String),
    Run,
    Utc,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum YearFrom {
    Host(String, i64),
    Run(i64),
    Modified(i64),
}

impl Placer {
    fn new(buckets: &BucketSet, tz: Option<Zone>) -> Placer {
        let mut all: BTreeMap<OffsetSecs, u64> = BTreeMap::new();
        let mut host_offset = BTreeMap::new();
        let mut host_span = BTreeMap::new();
        for (h, s) in &buckets.series {
            if let Some(o) = s.usual_offset() {
                host_offset.insert(h.clone(), o);
            }
            if let Some(span) = s.span() {
                host_span.insert(h.clone(), span);
            }
            for (o, n) in &s.offsets {
                *all.entry(*o).or_insert(0) += n;
            }
        }
        let run_offset = all.iter().max_by_key(|(o, n)| (**n, -**o)).map(|(o, _)| *o);
        let run_span = host_span
            .values()
            .fold(None, |acc: Option<(i64, i64)>, (a, b)| {
                Some(acc.map_or((*a, *b), |(x, y)| (x.min(*a), y.max(*b))))
            });
        Placer {
            tz,
            host_offset,
            run_offset,
            host_span,
            run_span,
        }
    }

    fn zone_for(&self, host: &str) -> (Zone, ZoneFrom) {
        if let Some(z) = self.tz {
            (z, ZoneFrom::Tz)
        } else if let Some(o) = self.host_offset.get(host) {
            (Zone::Fixed(*o), ZoneFrom::Host(host.to_string()))
        } else if let Some(o) = self.run_offset {
            (Zone::Fixed(o), ZoneFrom::Run)
        } else {
            (Zone::Fixed(0), ZoneFrom::Utc)
        }
    }

    /// The offset to show an instant of `host` in.
    fn display_offset(
        &self,
        host: Option<&str>,
        utc: i64,
        written: Option<OffsetSecs>,
    ) -> OffsetSecs {
        if let Some(z) = self.tz {
            return z.offset_at(utc);
        }
        written
            .or_else(|| host.and_then(|h| self.host_offset.get(h).copied()))
            .or(self.run_offset)
            .unwrap_or(0)
    }

    /// Moves a guessed year to the one that puts the time nearest the host's
    /// (else the run's) dated requests.
    fn fix_year(&self, naive: i64, host: &str) -> (i64, YearFrom) {
        let guessed = time::year_month_of(naive).0;
        let (span, from) = match self.host_span.get(host) {
            Some(s) => (Some(*s), YearFrom::Host(host.to_string(), 0)),
            None => (self.run_span, YearFrom::Run(0)),
        };
        let Some((a, b)) = span else {
            return (naive, YearFrom::Modified(guessed));
        };
        let distance = |t: i64| {
            if t < a {
                a - t
            } else if t > b {
                t - b
            } else {
                0
            }
        };
        // The guess first, so that it wins ties.
        let (ya, yb) = (time::year_month_of(a).0, time::year_month_of(b).0);
        let best = [guessed, ya, yb, ya - 1, yb + 1]
            .into_iter()
            .map(|y| time::with_year(naive, y))
            .min_by_key(|t| distance(*t))
            .unwrap_or(naive);
        let year = time::year_month_of(best).0;
        let from = match from {
            YearFrom::Host(h, _) => YearFrom::Host(h, year),
            _ => YearFrom::Run(year),
        };
        (best, from)
    }

    /// UTC instant and display offset of a stamp written by `host`, with
    /// what was assumed.
    fn place(&self, stamp: Stamp, host: &str) -> (Time, Option<ZoneFrom>, Option<YearFrom>) {
        match stamp {
            Stamp::Zoned { utc, offset } => (
                Time {
                    utc,
                    offset: self.display_offset(Some(host), utc, Some(offset)),
                },
                None,
                None,
            ),
            Stamp::Local {
                naive,
                year_inferred,
            } => {
                let (naive, year_from) = if year_inferred {
                    let (n, f) = self.fix_year(naive, host);
                    (n, Some(f))
                } else {
                    (naive, None)
                };
                let (zone, zone_from) = self.zone_for(host);
                let utc = zone.to_utc(naive);
                (
                    Time {
                        utc,
                        offset: self
                            .tz
                            .map_or_else(|| zone.offset_at(utc), |z| z.offset_at(utc)),
                    },
                    Some(zone_from),
                    year_from,
                )
            }
        }
    }
}

fn zone_note(path: &str, from: &ZoneFrom, placer: &Placer, host: &str) -> String {
    match from {
        ZoneFrom::Tz => format!("{path}: the log has no time zone; read in --tz {}", placer.tz.map(|z| z.name()).unwrap_or_default()),
        ZoneFrom::Host(h) => format!(
            "{path}: the log has no time zone; read in {}, the zone of {h}'s access logs (--tz to override)",
            time::format_offset(placer.host_offset[h])
        ),
        ZoneFrom::Run => format!(
            "{path}: the log has no time zone and {host} wrote no zoned log; read in {}, the zone of this run's access logs (--tz to override)",
            time::format_offset(placer.run_offset.unwrap_or(0))
        ),
        ZoneFrom::Utc => format!("{path}: the log has no time zone and no other log gave one; read as UTC (--tz to override)"),
    }
}

fn year_note(path: &str, from: &YearFrom) -> String {
    match from {
        YearFrom::Host(h, y) => format!("{path}: the log has no year; {y} taken from {h}'s dated logs (--year to override)"),
        YearFrom::Run(y) => format!("{path}: the log has no year; {y} taken from this run's dated logs (--year to override)"),
        YearFrom::Modified(y) => format!(
            "{path}: the log has no year; {y} taken from the file's modification time (--year to override)"
        ),
    }
}

/// Bytes on disk of all inputs; `None` when one is standard input.
fn total_size(inputs: &[Input]) -> Option<u64> {
    inputs.iter().try_fold(0u64, |acc, i| {
        let len = i
            .path
            .as_ref()
            .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))?;
        Some(acc + len)
    })
}

/// Runs the whole analysis.
pub fn analyze(config: &Config) -> Result<Analysis> {
    let summary = read(config)?;
    finish(summary, config)
}

/// Checks what `finish` needs of the configuration.
fn check_params(config: &Config) -> Result<()> {
    if config.params.window <= 0 || config.params.cooldown <= 0 || config.params.gap <= 0 {
        return Err(Error::Usage(
            "--window, --cooldown and --gap must be positive".into(),
        ));
    }
    Ok(())
}

/// Reads every input (in parallel, on `config.threads` workers) into a
/// [`Summary`]: the line accounting of each input and the merged buckets.
pub fn read(config: &Config) -> Result<Summary> {
    if config.inputs.is_empty() {
        return Err(Error::Usage("no input paths given".into()));
    }
    let (inputs, errors) = source::expand(&config.inputs);
    read_inputs(config, &inputs, errors)
}

/// [`read`] over inputs already expanded (and, for an incremental run,
/// given where to take each up again).
pub fn read_inputs(
    config: &Config,
    inputs: &[Input],
    errors: Vec<source::InputError>,
) -> Result<Summary> {
    let threads = config.threads.unwrap_or(0);
    // Scoped: the workers are joined before this returns, so a caller that
    // runs many analyses (a service, the fuzz targets) never has threads of
    // an earlier one still winding down.
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_scoped(
            |worker| worker.run(),
            |pool| pool.install(|| read_in_pool(config, inputs, errors)),
        )
        .map_err(|e| Error::ThreadPool {
            threads,
            message: e.to_string(),
        })?
}

fn read_in_pool(
    config: &Config,
    inputs: &[Input],
    errors: Vec<source::InputError>,
) -> Result<Summary> {
    check_params(config)?;
    let signals = Signals::new(&config.signals).map_err(Error::Usage)?;
    let opts = ScanOptions {
        signals: Arc::new(signals),
        boot_time: config.boot_time,
        format: config.format,
        year: config.year,
        since: config.since,
        until: config.until,
        block_size: config.block_size.max(64),
        mmap: config.mmap,
        customs: config.customs.clone().into(),
        by_name: config.by_name.clone(),
    };
    let progress = config.progress.as_ref().map(|h| &*h.0);
    if let Some(p) = progress {
        p.begin(total_size(inputs));
    }
    let scans: Vec<Scan> = inputs
        .par_iter()
        .enumerate()
        .map(|(i, input)| pipeline::scan(i as u32, input, &opts, progress))
        .collect();
    if let Some(p) = progress {
        p.end();
    }
    let mut summary = Summary {
        errors,
        ..Summary::default()
    };
    for (input, scan) in inputs.iter().zip(scans) {
        let name = scan
            .format
            .map_or_else(|| "unknown".to_string(), |f| f.describe(&config.customs));
        let (s, buckets) = InputSummary::new(input, scan, name);
        summary.inputs.push(s);
        summary.buckets = std::mem::take(&mut summary.buckets).merge(buckets);
    }
    Ok(summary)
}

/// Places, joins and detects over what was read: the analysis of a
/// summary (of this run, or merged from several).
pub fn finish(summary: Summary, config: &Config) -> Result<Analysis> {
    finish_with(summary, config, None).map(|(a, _)| a)
}

/// For an incremental run: the requests and 5xx of the series read by this
/// run alone (its summary's, before merging with the history).
#[derive(Clone, Copy, Debug, Default)]
pub struct Fresh {
    pub requests: u64,
    pub errors: u64,
}

/// [`finish`], also giving every OOM kill placed. With `fresh` (an
/// incremental run, whose summary starts with `history` inputs), totals
/// count only what this run read.
pub fn finish_with(
    summary: Summary,
    config: &Config,
    fresh: Option<Fresh>,
) -> Result<(Analysis, Vec<OomKill>)> {
    check_params(config)?;
    let Summary {
        inputs,
        errors: expand_errors,
        mut buckets,
        ..
    } = summary;
    let placer = Placer::new(&buckets, config.tz);
    let mut notes: BTreeSet<String> = BTreeSet::new();
    let mut fresh_local = Fresh::default();

    // Requests counted in local time (HAProxy): placed in their host's zone
    // (at their first second; a DST change inside is not followed), then
    // counted with the others.
    for ((input, host), series) in std::mem::take(&mut buckets.local_series) {
        let Some(first) = series.first_second() else {
            continue;
        };
        let stamp = Stamp::Local {
            naive: first,
            year_inferred: false,
        };
        let (t, zf, _) = placer.place(stamp, &host);
        let source = &inputs[input as usize];
        if let (Some(zf), false) = (zf, source.history) {
            notes.insert(zone_note(&source.display, &zf, &placer, &host));
        }
        let shifted = series.shifted(first - t.utc, t.offset, config.since, config.until);
        if !source.history {
            fresh_local.requests += shifted.requests;
            fresh_local.errors += shifted.errors;
        }
        buckets.series_mut(&host).merge(shifted);
    }

    // OOM lines → kills.
    let mut placed = Vec::with_capacity(buckets.oom.len());
    for l in &buckets.oom {
        let input = &inputs[l.origin.input as usize];
        let Some(t) = place_event(&placer, config, &mut notes, input, l.stamp, &l.host) else {
            continue;
        };
        placed.push(PlacedOomLine {
            kind: l.kind,
            kill: kill_of(l, t, input),
        });
    }
    let kills = detect::join_kills(placed);
    let incidents = detect::detect(&buckets, &kills, &config.params);

    let mut reports = Vec::new();
    for input in inputs.iter().filter(|i| !i.history) {
        reports.push(input_report(input, &placer, &mut notes));
    }
    for e in expand_errors {
        reports.push(InputReport {
            path: e.path,
            format: "unknown".into(),
            lines: 0,
            parsed: 0,
            malformed: 0,
            first: None,
            last: None,
            host: String::new(),
            compression: "none".into(),
            malformed_lines: Vec::new(),
            warnings: Vec::new(),
            error: Some(e.message),
        });
    }
    // Upstream failures (nginx error log), placed in time.
    let mut failures = Vec::with_capacity(buckets.upstream.len());
    for (k, n) in &buckets.upstream {
        let input = &inputs[k.input as usize];
        let Some(t) = place_event(&placer, config, &mut notes, input, k.stamp, &k.host) else {
            continue;
        };
        failures.push((t, k, *n));
    }
    let mut incidents: Vec<IncidentReport> = incidents
        .iter()
        .map(|i| {
            let mut r = incident_report(i, &placer);
            r.chart = chart(&buckets, i, &placer);
            if i.kind == Kind::ErrorBurst {
                impact(&mut r, &buckets, i);
            }
            r.lead_over_report_seconds = config.reported_at.map(|t| t - i.detected);
            r
        })
        .collect();
    // Application and service signals, placed in time.
    let mut signals = Vec::with_capacity(buckets.signals.len());
    for (k, c) in &buckets.signals {
        let Some(stamp) = k.stamp else {
            continue; // before any stamp of its file: no time to place it at
        };
        let input = &inputs[k.input as usize];
        let Some(t) = place_event(&placer, config, &mut notes, input, stamp, &k.host) else {
            continue;
        };
        let line = input.line_of(c.first);
        signals.push((t, k, c, format!("{}:{line}", input.display)));
    }
    for r in &mut incidents {
        attach_signals(r, &signals, &placer);
        attach_upstream(r, &failures, &placer);
        r.suggestions = suggestions(r, config.params.window);
    }
    let p = &config.params;
    let all_requests = fresh.map_or(buckets.requests(), |f| f.requests + fresh_local.requests);
    for r in &mut incidents {
        if all_requests > 0 {
            r.share_of_all_requests =
                (r.errors as f64 / all_requests as f64 * 10_000.0).round() / 10_000.0;
        }
    }
    let analysis = Analysis {
        schema: SCHEMA,
        window_seconds: p.window,
        inputs: reports,
        totals: Totals {
            requests: all_requests,
            errors: fresh.map_or(buckets.errors(), |f| f.errors + fresh_local.errors),
            oom_kills: kills.len() as u64,
            upstream_failures: failures
                .iter()
                .filter(|(_, k, _)| !inputs[k.input as usize].history)
                .map(|(_, _, n)| n)
                .sum(),
            signals: signals
                .iter()
                .filter(|(_, k, _, _)| !inputs[k.input as usize].history)
                .map(|(_, _, c, _)| c.count)
                .sum(),
        },
        incidents,
        thresholds: Thresholds {
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
            rule: match (&p.slo, p.detector) {
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
                (None, detect::Detector::Baseline) => format!(
                    "≥ {} 5xx in a {} s window, well above the series' normal share",
                    p.min_errors, p.window
                ),
                (None, detect::Detector::Threshold) => format!(
                    "≥ {} 5xx in a {} s window at ≥ {:.1}% of requests",
                    p.min_errors,
                    p.window,
                    p.min_ratio * 100.0
                ),
            },
        },
        notes: notes.into_iter().collect(),
        incremental: fresh.is_some(),
        minutes: if config.minutes {
            minute_rows(&buckets, &placer)
        } else {
            Vec::new()
        },
        overview: if config.overview {
            overview(&buckets, &placer)
        } else {
            Vec::new()
        },
    };
    Ok((analysis, kills))
}

/// Every host's minutes with requests, in time then host order.
fn minute_rows(buckets: &BucketSet, placer: &Placer) -> Vec<MinuteRow> {
    let mut rows = Vec::new();
    for (host, series) in &buckets.series {
        for (minute, c) in series.per_minute() {
            let offset = placer.display_offset(Some(host), minute, None);
            rows.push(MinuteRow {
                minute: Time {
                    utc: minute,
                    offset,
                },
                host: host.clone(),
                requests: c.requests,
                errors: c.errors,
                status: c.status,
            });
        }
    }
    rows.sort_by(|a, b| (a.minute.utc, &a.host).cmp(&(b.minute.utc, &b.host)));
    rows
}

/// Places a rare event's stamp (OOM line, upstream failure, signal) in
/// time, noting the zone or year assumed for its input; `None` when it
/// falls outside `--since`/`--until`.
fn place_event(
    placer: &Placer,
    config: &Config,
    notes: &mut BTreeSet<String>,
    input: &InputSummary,
    stamp: Stamp,
    host: &str,
) -> Option<Time> {
    let (t, zf, yf) = placer.place(stamp, host);
    if let (Some(zf), false) = (zf, input.history) {
        notes.insert(zone_note(&input.display, &zf, placer, host));
    }
    if let (Some(yf), false) = (yf, input.history) {
        notes.insert(year_note(&input.display, &yf));
    }
    let outside =
        config.since.is_some_and(|s| t.utc < s) || config.until.is_some_and(|u| t.utc >= u);
    (!outside).then_some(t)
}

fn kill_of(l: &OomLine, t: Time, input: &InputSummary) -> OomKill {
    let line = input.line_of(l.origin);
    OomKill {
        utc: t.utc,
        offset: t.offset,
        host: l.host.clone(),
        pid: l.pid,
        process: l.process.clone(),
        anon_rss_kb: l.anon_rss_kb,
        total_vm_kb: l.total_vm_kb,
        cgroup: l.cgroup.clone(),
        memcg: l.memcg,
        trigger: None,
        source: format!("{}:{line}", input.display),
    }
}

fn input_report(
    input: &InputSummary,
    placer: &Placer,
    notes: &mut BTreeSet<String>,
) -> InputReport {
    let scan = input;
    let t = &scan.tally;
    let format_name = scan.format_name.clone();
    let host = t
        .named_host
        .as_ref()
        .map_or(input.host.as_str(), |(_, _, h)| h.as_str());
    let mut place = |s: Option<Stamp>| {
        s.map(|s| {
            let (time, zf, yf) = placer.place(s, host);
            if let Some(zf) = zf {
                notes.insert(zone_note(&input.display, &zf, placer, host));
            }
            if let Some(yf) = yf {
                notes.insert(year_note(&input.display, &yf));
            }
            time
        })
    };
    let first = place(t.first);
    let last = place(t.last);
    let mut warnings = Vec::new();
    if scan.open_error.is_none() && t.lines == 0 {
        warnings.push("empty input: no lines".to_string());
    } else if scan.format.is_none() && scan.open_error.is_none() {
        warnings.push(format!(
            "format not recognised from the first lines{}; every line counted as malformed (force one with --log-format)",
            if t.malformed_bytes_look_binary() { " (looks binary)" } else { "" }
        ));
    }
    if let Some(e) = &t.read_error {
        warnings.push(format!("{e}; the lines before it were analysed"));
    }
    if t.unplaced > 0 {
        warnings.push(format!(
            "{} lines carry only the kernel's uptime ([  518.050606]) and were skipped; give --boot-time (the boot instant, e.g. from `uptime -s` on that host) to place them",
            t.unplaced
        ));
    }
    // Lines that stop matching the detected format (a format changed in
    // the middle of a file, a different log appended): more than a stray
    // cut line or two.
    if scan.format.is_some() && t.malformed > 3 && t.malformed * 100 > t.lines {
        let first = t.samples.first().map_or(String::new(), |s| {
            format!(", the first at line {}", s.line_number)
        });
        warnings.push(format!(
            "{} of {} lines did not parse as {}{first}",
            t.malformed, t.lines, format_name
        ));
    }
    if input.host_from == HostFrom::Machine && scan.format.is_some_and(|f| f.is_access()) {
        notes.insert(format!(
            "{}: the path names no host; its requests are counted as {} (name it with HOST=PATH)",
            input.display, input.host
        ));
    }
    InputReport {
        path: input.display.clone(),
        format: format_name,
        lines: t.lines,
        parsed: t.parsed,
        malformed: t.malformed,
        first,
        last,
        host: host.to_string(),
        compression: scan.compression.map_or("none", |c| c.name()).to_string(),
        malformed_lines: t
            .samples
            .iter()
            .map(|s| MalformedLine {
                line: s.line_number,
                text: s.text.clone(),
            })
            .collect(),
        warnings,
        error: scan.open_error.clone(),
    }
}

impl pipeline::Tally {
    fn malformed_bytes_look_binary(&self) -> bool {
        self.samples
            .iter()
            .any(|s| s.text.contains('\u{fffd}') || s.text.contains("\\x00"))
    }
}

/// The memory-leak signature in one process's kills on one host: three
/// or more, each at about the same memory (within 10 % of their median:
/// it grows to the same ceiling every time), the later intervals shorter
/// than the earlier ones (it reaches the ceiling faster: the leak is
/// steady and the restarts start from less headroom, or traffic grew).
/// Worded for the probable cause.
fn leak_signature(kills: &[&KillReport]) -> Option<String> {
    if kills.len() < 3 {
        return None;
    }
    let mut rss: Vec<u64> = kills.iter().map(|k| k.anon_rss_kb).collect::<Option<_>>()?;
    rss.sort_unstable();
    let median = rss[rss.len() / 2];
    if rss.iter().any(|r| r.abs_diff(median) * 10 > median) {
        return None;
    }
    let gaps: Vec<i64> = kills
        .windows(2)
        .map(|w| w[1].time.utc - w[0].time.utc)
        .collect();
    let half = gaps.len() / 2;
    let mean = |g: &[i64]| g.iter().sum::<i64>() as f64 / g.len() as f64;
    let (early, late) = (
        mean(&gaps[..half.max(1)]),
        mean(&gaps[gaps.len() - half.max(1)..]),
    );
    if late >= early {
        return None;
    }
    let (first, last) = (kills[0], kills[kills.len() - 1]);
    Some(format!(
        "probably a memory leak: {} was killed {} times in {} at about {} each, the intervals shortening from {} to {}",
        first.process,
        kills.len(),
        time::duration(last.time.utc - first.time.utc),
        kib(median),
        time::duration(gaps[0]),
        time::duration(gaps[gaps.len() - 1])
    ))
}

/// `850 ms`, `8.2 s`.
pub fn ms(v: u64) -> String {
    if v < 1000 {
        format!("{v} ms")
    } else {
        format!("{:.1} s", v as f64 / 1000.0)
    }
}

fn kib(kb: u64) -> String {
    let b = kb as f64 * 1024.0;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else {
        format!("{:.0} MB", b / 1e6)
    }
}

/// `python3 (pid 4242, anon-rss 3.6 GB)`.
pub fn describe_kill(k: &KillReport) -> String {
    let mut parts = Vec::new();
    if let Some(p) = k.pid {
        parts.push(format!("pid {p}"));
    }
    if let Some(a) = k.anon_rss_kb {
        parts.push(format!("anon-rss {}", kib(a)));
    }
    if parts.is_empty() {
        k.process.clone()
    } else {
        format!("{} ({})", k.process, parts.join(", "))
    }
}

fn kill_report(k: &OomKill) -> KillReport {
    KillReport {
        time: Time {
            utc: k.utc,
            offset: k.offset,
        },
        host: k.host.clone(),
        pid: k.pid,
        process: k.process.clone(),
        anon_rss_kb: k.anon_rss_kb,
        source: k.source.clone(),
        total_vm_kb: k.total_vm_kb,
        cgroup: k.cgroup.clone(),
        memcg: k.memcg,
        trigger: k.trigger.clone(),
    }
}

fn incident_report(i: &Incident, placer: &Placer) -> IncidentReport {
    let host = i.hosts.first().map(String::as_str);
    let at = |utc: i64| Time {
        utc,
        offset: placer.display_offset(host, utc, None),
    };
    let kills: Vec<KillReport> = i.oom_kills.iter().map(kill_report).collect();
    let first_5xx = match i.kind {
        Kind::ErrorBurst => "the first 5xx",
        Kind::TrafficGap => "traffic stopped",
        Kind::Oom => "",
        Kind::Latency => "responses slowed",
    };
    let probable_cause = i.cause.as_ref().map(|k| {
        let lead = i.start - k.utc;
        let when = if lead > 0 {
            format!(", {} before {first_5xx}", time::duration(lead))
        } else if lead == 0 {
            format!(", as {first_5xx} came")
        } else {
            format!(", {} after {first_5xx}", time::duration(-lead))
        };
        let time = Time {
            utc: k.utc,
            offset: k.offset,
        };
        let k = kill_report(k);
        let limit = if k.memcg {
            " at its cgroup's memory limit"
        } else {
            ""
        };
        let same: Vec<&KillReport> = kills
            .iter()
            .filter(|o| o.host == k.host && o.process == k.process)
            .collect();
        let leak = leak_signature(&same).map_or(String::new(), |l| format!("; {l}"));
        format!(
            "OOM kill of {}{limit} on {} at {}{when}{leak}",
            describe_kill(&k),
            k.host,
            time.clock()
        )
    });

    let mut timeline = Vec::new();
    match i.kind {
        Kind::ErrorBurst => {
            timeline.push(TimelineEntry {
                time: at(i.start),
                event: "onset",
                detail: "first 5xx of the burst".into(),
            });
            timeline.push(TimelineEntry {
                time: at(i.detected),
                event: "detected",
                detail: format!(
                    "an alert over these logs would fire: {} after onset{}",
                    time::duration(i.detected - i.start),
                    match (i.slo, i.baseline_share) {
                        (Some(s), _) => format!(
                            " (SLO {}%: the error budget burning at {}, the {})",
                            s.target * 100.0,
                            format_args!("{:.1}×", s.burn),
                            s.window
                        ),
                        (None, Some(m)) if m < 0.0005 => {
                            " (5xx where there are normally none)".into()
                        }
                        (None, Some(m)) => format!(
                            " (5xx well above their normal {:.1}% of requests)",
                            m * 100.0
                        ),
                        (None, None) => String::new(),
                    }
                ),
            });
            if let Some(p) = i.peak {
                timeline.push(TimelineEntry {
                    time: at(p),
                    event: "peak",
                    detail: format!(
                        "{:.1}% of requests in the window failed",
                        i.peak_error_ratio * 100.0
                    ),
                });
            }
            timeline.push(TimelineEntry {
                time: at(i.end),
                event: "recovered",
                detail: "last 5xx of the burst".into(),
            });
            if let Some(s) = &i.slo {
                timeline.push(TimelineEntry {
                    time: at(s.reset),
                    event: "reset",
                    detail: format!(
                        "no burn-rate alert fires any more; {:.1}% of a 30-day error budget spent",
                        s.budget_spent * 100.0
                    ),
                });
            }
        }
        Kind::TrafficGap => {
            timeline.push(TimelineEntry {
                time: at(i.start),
                event: "silence",
                detail: format!("last request before the gap on {}", i.hosts.join(", ")),
            });
            timeline.push(TimelineEntry {
                time: at(i.detected),
                event: "detected",
                detail: format!("no requests for {}", time::duration(i.detected - i.start)),
            });
            timeline.push(TimelineEntry {
                time: at(i.end),
                event: "resumed",
                detail: format!(
                    "requests again; about {} expected in the gap",
                    i.expected_requests
                ),
            });
        }
        Kind::Oom => {}
        Kind::Latency => {
            let l = i.latency.expect("a latency burst says how slow");
            let normal = l
                .baseline_p99_ms
                .map_or(String::new(), |b| format!(", against a normal {}", ms(b)));
            timeline.push(TimelineEntry {
                time: at(i.start),
                event: "slow",
                detail: format!("p99 of requests at or above {}{normal}", ms(l.bar_ms)),
            });
            timeline.push(TimelineEntry {
                time: at(i.detected),
                event: "detected",
                detail: "a p99 alert over these logs would fire (minute resolution)".into(),
            });
            if let Some(pk) = i.peak {
                timeline.push(TimelineEntry {
                    time: at(pk),
                    event: "peak",
                    detail: format!("p99 {}", ms(l.peak_p99_ms)),
                });
            }
            timeline.push(TimelineEntry {
                time: at(i.end),
                event: "recovered",
                detail: "end of the last slow minute".into(),
            });
        }
    }
    for k in &kills {
        let trig = k
            .trigger
            .as_ref()
            .filter(|t| **t != k.process)
            .map_or(String::new(), |t| format!(", invoked by {t}"));
        let unit = k
            .cgroup
            .as_deref()
            .and_then(|c| c.rsplit('/').find(|p| !p.is_empty()))
            .map_or(String::new(), |u| format!(", in {u}"));
        timeline.push(TimelineEntry {
            time: k.time,
            event: "oom-kill",
            detail: format!("{} on {}{unit}{trig}", describe_kill(k), k.host),
        });
    }
    timeline.sort_by_key(|e| (e.time.utc, event_rank(e.event)));

    IncidentReport {
        kind: i.kind.name(),
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
            budget_spent: (s.budget_spent * 10_000.0).round() / 10_000.0,
        }),
        baseline_error_ratio: i
            .baseline_share
            .filter(|_| i.kind == Kind::ErrorBurst)
            .map(|m| (m * 10_000.0).round() / 10_000.0),
        peak_error_ratio: (i.peak_error_ratio * 10_000.0).round() / 10_000.0,
        requests: i.requests,
        errors: i.errors,
        share_of_all_requests: 0.0,
        status_counts: i
            .status_counts
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
        hosts: i.hosts.clone(),
        clients_affected: None,
        clients_estimated: false,
        top_paths: Vec::new(),
        paths_scattered: false,
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
    }
}

/// Adds the application and service signals on the incident's hosts from
/// five minutes before its start to its end, grouped per signal and
/// process: on the timeline, and as the probable cause when no kernel OOM
/// kill explains the burst (a signal seen by detection time).
fn attach_signals(
    r: &mut IncidentReport,
    signals: &[(Time, &SignalKey, &SignalCount, String)],
    placer: &Placer,
) {
    if r.kind != Kind::ErrorBurst.name() {
        return;
    }
    type Group<'a> = (i64, i64, u64, &'a SignalCount, &'a str, i64);
    let mut groups: BTreeMap<(&str, &str, &str), Group> = BTreeMap::new();
    for (t, k, c, source) in signals {
        if !around(r, t, &k.host) {
            continue;
        }
        let g = groups
            .entry((k.host.as_str(), k.name.as_str(), k.process.as_str()))
            .or_insert((t.utc, t.utc, 0, c, source.as_str(), t.utc));
        g.0 = g.0.min(t.utc);
        g.1 = g.1.max(t.utc);
        g.2 += c.count;
        // The text shown is that of the earliest line.
        if t.utc < g.5 || (t.utc == g.5 && c.first < g.3.first) {
            g.3 = c;
            g.4 = source;
            g.5 = t.utc;
        }
    }
    let at = |host: &str, utc: i64| Time {
        utc,
        offset: placer.display_offset(Some(host), utc, None),
    };
    let mut reports: Vec<SignalReport> = groups
        .into_iter()
        .map(
            |((host, name, process), (first, last, count, c, source, _))| SignalReport {
                host: host.to_string(),
                signal: name.to_string(),
                process: process.to_string(),
                first: at(host, first),
                last: at(host, last),
                count,
                text: c.text.clone(),
                source: source.to_string(),
                source_order: c.first,
            },
        )
        .collect();
    // In time order; within a second, in the order the lines were written.
    reports.sort_by(|a, b| (a.first, &a.source_order).cmp(&(b.first, &b.source_order)));
    for s in &reports {
        let times = if s.count == 1 {
            String::new()
        } else {
            format!(" ({} times until {})", s.count, s.last.clock())
        };
        r.timeline.push(TimelineEntry {
            time: s.first,
            event: "signal",
            detail: format!(
                "{} in {} on {}: {}{times}",
                s.signal, s.process, s.host, s.text
            ),
        });
    }
    if r.probable_cause.is_none() {
        if let Some(s) = reports.iter().find(|s| s.first.utc <= r.detected.utc) {
            let lead = r.start.utc - s.first.utc;
            let when = match lead {
                l if l > 0 => format!(", {} before the first 5xx", time::duration(l)),
                0 => ", as the first 5xx came".to_string(),
                l => format!(", {} after the first 5xx", time::duration(-l)),
            };
            r.probable_cause = Some(format!(
                "{} in {} on {} at {}: {}{when}",
                s.signal,
                s.process,
                s.host,
                s.first.clock(),
                s.text
            ));
        }
    }
    r.timeline
        .sort_by_key(|e| (e.time.utc, event_rank(e.event)));
    r.signals = reports;
}

/// How long before an incident's start signals and upstream failures are
/// still taken as part of it.
const EVENT_LEAD: i64 = 300;

/// Whether an event on `host` at `t` belongs to the incident: on one of its
/// hosts, from [`EVENT_LEAD`] before its start to its end.
fn around(r: &IncidentReport, t: &Time, host: &str) -> bool {
    (r.start.utc - EVENT_LEAD..=r.end.utc).contains(&t.utc) && r.hosts.iter().any(|h| h == host)
}

/// Adds the upstream failures on the incident's hosts from five minutes
/// before its start to its end: grouped per upstream and kind, on the
/// timeline, and as the probable cause when no OOM kill explains it.
fn attach_upstream(
    r: &mut IncidentReport,
    failures: &[(Time, &UpstreamKey, u64)],
    placer: &Placer,
) {
    if r.kind != Kind::ErrorBurst.name() {
        return;
    }
    let mut groups: BTreeMap<(&str, &str, UpstreamKind), (i64, i64, u64)> = BTreeMap::new();
    for (t, k, n) in failures {
        if !around(r, t, &k.host) {
            continue;
        }
        let g = groups
            .entry((k.host.as_str(), k.upstream.as_str(), k.kind))
            .or_insert((t.utc, t.utc, 0));
        g.0 = g.0.min(t.utc);
        g.1 = g.1.max(t.utc);
        g.2 += n;
    }
    let at = |host: &str, utc: i64| Time {
        utc,
        offset: placer.display_offset(Some(host), utc, None),
    };
    let mut reports: Vec<UpstreamReport> = groups
        .into_iter()
        .map(
            |((host, upstream, kind), (first, last, count))| UpstreamReport {
                host: host.to_string(),
                upstream: upstream.to_string(),
                kind,
                first: at(host, first),
                last: at(host, last),
                count,
            },
        )
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
            event: "upstream",
            detail: format!(
                "{} {} on {}: {times}",
                u.upstream,
                u.kind.describe(),
                u.host
            ),
        });
    }
    if r.probable_cause.is_none() {
        // A killed worker is a symptom (nginx kills slow workers itself at
        // shutdown); only failures of an upstream are offered as a cause.
        let cause = reports
            .iter()
            .find(|u| u.first.utc <= r.detected.utc && u.kind != UpstreamKind::WorkerKilled);
        if let Some(u) = cause {
            r.probable_cause = Some(format!(
                "upstream {} {} from {}",
                u.upstream,
                u.kind.describe(),
                u.first.clock()
            ));
        }
    }
    r.timeline
        .sort_by_key(|e| (e.time.utc, event_rank(e.event)));
    r.upstream_failures = reports;
}

fn event_rank(e: &str) -> u8 {
    match e {
        "oom-kill" | "signal" | "upstream" => 0,
        "silence" | "onset" => 1,
        "detected" => 2,
        "peak" => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kill(utc: i64, rss_gb: f64) -> KillReport {
        KillReport {
            time: Time { utc, offset: 0 },
            host: "web-01".into(),
            pid: Some(1),
            process: "python3".into(),
            anon_rss_kb: Some((rss_gb * 1e9 / 1024.0) as u64),
            source: String::new(),
            total_vm_kb: None,
            cgroup: None,
            memcg: false,
            trigger: None,
        }
    }

    fn leak(kills: &[KillReport]) -> Option<String> {
        leak_signature(&kills.iter().collect::<Vec<_>>())
    }

    #[test]
    fn leak_signature_needs_same_memory_and_shortening_intervals() {
        let base = 1_675_310_400;
        let shortening = [
            kill(base, 3.6),
            kill(base + 600, 3.55),
            kill(base + 1000, 3.62),
            kill(base + 1250, 3.6),
        ];
        let l = leak(&shortening).expect("a leak");
        assert!(
            l.contains("killed 4 times in 20 min 50 s at about 3.6 GB"),
            "{l}"
        );
        assert!(l.contains("from 10 min to 4 min 10 s"), "{l}");
        // Intervals growing: a process that is killed less and less often.
        let slowing = [
            kill(base, 3.6),
            kill(base + 100, 3.6),
            kill(base + 900, 3.6),
        ];
        assert_eq!(leak(&slowing), None);
        // Memory at death all over the place: not one ceiling.
        let scattered = [
            kill(base, 1.0),
            kill(base + 600, 3.6),
            kill(base + 900, 2.0),
        ];
        assert_eq!(leak(&scattered), None);
        // Two kills are not a pattern.
        assert_eq!(leak(&shortening[..2]), None);
    }
}
