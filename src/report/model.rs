//! The `logburst/v1` view model: the one value every renderer reads.
//!
//! The `explain` stage builds an [`Analysis`]; `report`'s renderers lay it
//! out and compute nothing of their own. Incident kinds, statuses and
//! timeline events are enums here, serialised to the strings of the schema
//! (`docs/json-schema.md`), so a renderer that forgets one does not compile.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

use crate::event::Victim;
use crate::format::nginx_error::UpstreamKind;
use crate::time::{self, OffsetSecs};

pub use crate::detect::Kind as IncidentKind;

/// The schema name of the JSON output.
pub const SCHEMA: &str = "logburst/v1";

/// An instant with the offset it is shown in. Serialized as RFC 3339.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time {
    /// Seconds since the Unix epoch, UTC.
    pub utc: i64,
    /// The offset from UTC it is shown with, in seconds (east positive).
    pub offset: OffsetSecs,
}

impl Time {
    /// `2024-03-10T14:02:07+01:00`.
    pub fn rfc3339(&self) -> String {
        time::rfc3339(self.utc, self.offset)
    }
    /// The date and time for a reader, in its offset.
    pub fn human(&self) -> String {
        time::human(self.utc, self.offset)
    }
    /// The time of day only, for timelines within one day.
    pub fn clock(&self) -> String {
        time::clock(self.utc, self.offset)
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

/// A line the input's format did not understand.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MalformedLine {
    /// 1-based line number in the input.
    pub line: u64,
    /// The line, escaped and cut to a sample.
    pub text: String,
}

/// One input's line accounting: `lines = parsed + malformed`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct InputReport {
    /// The input as given (a path, `-` for stdin, or `HOST=PATH`).
    pub path: String,
    /// The format detected or forced; `unknown` when none fitted.
    pub format: String,
    /// The container envelope around its lines (`docker-json`, `cri`,
    /// `docker-t`, `compose`), taken off before they were parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope: Option<String>,
    /// Lines read.
    pub lines: u64,
    /// Lines the format understood.
    pub parsed: u64,
    /// Lines it did not (`lines - parsed`).
    pub malformed: u64,
    /// The earliest stamp read.
    pub first: Option<Time>,
    /// The latest stamp read.
    pub last: Option<Time>,
    /// The host its lines are counted under.
    pub host: String,
    /// Which rule named the host: `line` (the log's lines name it, as
    /// syslog does), `label` (`HOST=PATH`), `path` (a directory written in
    /// the path) or `machine` (this machine's name: nothing else did).
    pub host_from: &'static str,
    /// `none`, `gzip`, `zstd`, `bzip2` or `xz`, as sniffed from the bytes.
    pub compression: String,
    /// The first malformed lines, as samples.
    pub malformed_lines: Vec<MalformedLine>,
    /// What about this input may make a number less sure, in words.
    pub warnings: Vec<String>,
    /// Set when the input could not be read at all.
    pub error: Option<String>,
    /// Whether logburst understood what it read: false when no format fitted,
    /// when its lines look like requests a format without requests read, or
    /// when it could not be read — the input's numbers are then not to be
    /// trusted, and its warnings say why.
    pub understood: bool,
}

impl InputReport {
    /// The format as shown in tables: inside its envelope, if any.
    pub fn shown_format(&self) -> String {
        match &self.envelope {
            Some(e) => format!("{e}/{}", self.format),
            None => self.format.clone(),
        }
    }
}

/// Counts over every input of the run.
#[derive(Clone, Debug, Serialize, PartialEq, Default)]
pub struct Totals {
    /// Requests read, over every host.
    pub requests: u64,
    /// 5xx responses among them.
    pub errors: u64,
    /// Distinct kernel OOM kills.
    pub oom_kills: u64,
    /// Upstream failures and killed workers in nginx error logs.
    pub upstream_failures: u64,
    /// Lines holding an application or service signal (OOM errors, killed
    /// workers…).
    pub signals: u64,
    /// Requests and 5xx per host (past `--max-hosts`, the rest in
    /// `(other hosts)`), by host name.
    pub hosts: Vec<HostTotals>,
}

/// One host's share of the totals.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct HostTotals {
    /// The host's name.
    pub host: String,
    /// Requests counted for it.
    pub requests: u64,
    /// 5xx among them.
    pub errors: u64,
}

/// Lines of one signal, from one process, around an incident.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SignalReport {
    /// The host that logged it.
    pub host: String,
    /// The signal's name (`segfault`, `java-oom`, or a `--signal` name).
    pub signal: String,
    /// The process that logged it (syslog tag or unit).
    pub process: String,
    /// Its first line.
    pub first: Time,
    /// Its last line.
    pub last: Time,
    /// How many lines.
    pub count: u64,
    /// The matched text of the first line, and where it is.
    pub text: String,
    /// `path:line` of the first line.
    pub source: String,
    /// Where the first line was read, for ordering (not in the JSON).
    #[serde(skip)]
    pub source_order: crate::event::Origin,
}

/// Failures of one upstream, of one kind, around an incident.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct UpstreamReport {
    /// The host whose nginx logged it.
    pub host: String,
    /// The upstream address as nginx wrote it.
    pub upstream: String,
    /// How it failed.
    pub kind: UpstreamKind,
    /// The first failure.
    pub first: Time,
    /// The last failure.
    pub last: Time,
    /// How many failures.
    pub count: u64,
}

/// One OOM kill as the report shows it. Serialised flat, in the schema's
/// key order (`time`, `host`, `pid`, `process`, `anon_rss_kb`, `source`,
/// `total_vm_kb`, `cgroup`, `memcg`, `trigger`).
#[derive(Clone, Debug, PartialEq)]
pub struct KillReport {
    /// When the kernel killed it.
    pub time: Time,
    /// The host whose kernel killed it.
    pub host: String,
    /// The process killed and the memory it held.
    pub victim: Victim,
    /// `path:line` of the line that described the kill best.
    pub source: String,
    /// The task whose allocation invoked the OOM killer, when logged.
    pub trigger: Option<String>,
    /// The Kubernetes container (`namespace/pod/container`) its cgroup
    /// names, when one of the inputs is that container's log.
    pub container: Option<String>,
}

impl Serialize for KillReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let v = &self.victim;
        let mut m = s.serialize_struct("KillReport", 11)?;
        m.serialize_field("time", &self.time)?;
        m.serialize_field("host", &self.host)?;
        m.serialize_field("pid", &v.pid)?;
        m.serialize_field("process", &v.process)?;
        m.serialize_field("anon_rss_kb", &v.anon_rss_kb)?;
        m.serialize_field("source", &self.source)?;
        m.serialize_field("total_vm_kb", &v.total_vm_kb)?;
        m.serialize_field("cgroup", &v.cgroup)?;
        m.serialize_field("memcg", &v.memcg)?;
        m.serialize_field("trigger", &self.trigger)?;
        if let Some(c) = &self.container {
            m.serialize_field("container", c)?;
        } else {
            m.skip_field("container")?;
        }
        m.end()
    }
}

/// What happened at a timeline entry. Serialised as its [`name`](Self::name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimelineEvent {
    /// An error burst's first 5xx.
    Onset,
    /// When an alert over these logs would have fired.
    Detected,
    /// The worst window.
    Peak,
    /// The last 5xx of a burst, or the end of a latency burst.
    Recovered,
    /// SLO mode: no burn-rate alert fires any more.
    Reset,
    /// A traffic gap's last request before the silence.
    Silence,
    /// A traffic gap's first request after it.
    Resumed,
    /// A latency burst's first slow minute.
    Slow,
    /// A kernel OOM kill.
    OomKill,
    /// An application or service signal.
    Signal,
    /// An upstream failure in an nginx error log.
    Upstream,
}

impl TimelineEvent {
    /// The schema's name of the event.
    pub fn name(self) -> &'static str {
        match self {
            TimelineEvent::Onset => "onset",
            TimelineEvent::Detected => "detected",
            TimelineEvent::Peak => "peak",
            TimelineEvent::Recovered => "recovered",
            TimelineEvent::Reset => "reset",
            TimelineEvent::Silence => "silence",
            TimelineEvent::Resumed => "resumed",
            TimelineEvent::Slow => "slow",
            TimelineEvent::OomKill => "oom-kill",
            TimelineEvent::Signal => "signal",
            TimelineEvent::Upstream => "upstream",
        }
    }

    /// Order within one second: evidence first, then the incident's own
    /// events in the order they happen.
    pub fn rank(self) -> u8 {
        match self {
            TimelineEvent::OomKill | TimelineEvent::Signal | TimelineEvent::Upstream => 0,
            TimelineEvent::Silence | TimelineEvent::Onset | TimelineEvent::Slow => 1,
            TimelineEvent::Detected => 2,
            TimelineEvent::Peak => 3,
            TimelineEvent::Recovered | TimelineEvent::Reset | TimelineEvent::Resumed => 4,
        }
    }
}

impl std::fmt::Display for TimelineEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// Incremental runs (`--state`): whether an incident is reported for the
/// first time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// First reported by this run.
    New,
    /// Reported open before, and still open.
    Ongoing,
    /// Reported open before, over now.
    Ended,
}

impl Status {
    /// `new`, `ongoing` or `ended`, as the JSON writes it.
    pub fn name(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Ongoing => "ongoing",
            Status::Ended => "ended",
        }
    }
}

/// One line of an incident's timeline.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TimelineEntry {
    /// When.
    pub time: Time,
    /// What happened.
    pub event: TimelineEvent,
    /// What happened, in words.
    pub detail: String,
}

/// One incident: when it began, was detected, peaked and ended, what it cost and what the evidence says.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct IncidentReport {
    /// `KIND/START`, the start in UTC (`error-burst/20240310T140207Z`);
    /// in cron mode, the one of its first report, kept while it grows.
    pub id: String,
    /// What kind of incident.
    pub kind: IncidentKind,
    /// Its first bad second (first 5xx, last request before a gap, first slow minute).
    pub start: Time,
    /// When an alert over these logs, with these thresholds, would have fired.
    pub detected: Time,
    /// The worst window's start, where there is one.
    pub peak: Option<Time>,
    /// Its last bad second.
    pub end: Time,
    /// `end - start`, plus one second.
    pub duration_seconds: i64,
    /// `detected - start`.
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
    /// The worst window's 5xx share (0 to 1).
    pub peak_error_ratio: f64,
    /// Requests of its hosts from start to end.
    pub requests: u64,
    /// 5xx among them.
    pub errors: u64,
    /// `errors` as a share of every request the run read (0 to 1).
    pub share_of_all_requests: f64,
    /// 5xx by status code.
    pub status_counts: BTreeMap<String, u64>,
    /// The hosts it was seen on.
    pub hosts: Vec<String>,
    /// 5xx bursts: the routes (`upstream NAME`, `backend ADDR`, `vhost
    /// NAME`) whose own series was bad; absent when none was.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<String>,
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
    /// 5xx bursts: when at least half its 5xx went to one client or hit
    /// one path — a narrow burst (one client retrying, a crawler on a
    /// broken path) rather than the service failing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub narrow: Option<Narrow>,
    /// OOM kills from shortly before the start to the end.
    pub oom_kills: Vec<KillReport>,
    /// Upstream failures from five minutes before the start to the end.
    pub upstream_failures: Vec<UpstreamReport>,
    /// Application and service signals over the same span.
    pub signals: Vec<SignalReport>,
    /// The evidence that most likely explains it, in words, when there is some.
    pub probable_cause: Option<String>,
    /// What happened, in order.
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
    pub status: Option<Status>,
    /// Incremental runs: whether the logs read so far may still extend it
    /// (its last bad second is within `--cooldown` of the newest data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
    /// The hosts its alerts are labelled with: in cron mode those of its
    /// first report, so an alert keeps its identity as the incident
    /// spreads (not in the JSON: `hosts` says where it is now).
    #[serde(skip)]
    pub alert_hosts: Vec<String>,
}

/// An incident's id: its kind and its start in UTC.
pub fn incident_id(kind: IncidentKind, start: i64) -> String {
    let at = chrono::DateTime::from_timestamp(start, 0).map_or_else(
        || start.to_string(),
        |t| t.format("%Y%m%dT%H%M%SZ").to_string(),
    );
    format!("{}/{at}", kind.name())
}

/// The rules the run found incidents with.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Thresholds {
    /// The window 5xx shares are judged over (`--window`).
    pub window_seconds: i64,
    /// 5xx a window needs to count as bad (`--min-errors`).
    pub min_errors: u64,
    /// 5xx share a window needs with the threshold rule (`--min-ratio`).
    pub min_ratio: f64,
    /// Quiet time that ends an incident (`--cooldown`).
    pub cooldown_seconds: i64,
    /// Silence that makes a traffic gap (`--gap`).
    pub gap_seconds: i64,
    /// `baseline`, `threshold` or `slo`.
    pub detector: &'static str,
    /// The baseline rule's level (`--false-alarm-every`): a healthy
    /// series' window looks bad with a chance of one minute in this span.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub false_alarm_every_seconds: Option<i64>,
    /// `--min-clients`, when given: 5xx bursts that reached fewer distinct
    /// clients, or half of whose 5xx beyond the normal share went to one fewer clients, were left
    /// out (the notes list them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_clients: Option<u64>,
    /// The statuses counted as errors, in `--errors` syntax (`5xx`,
    /// `+499,-501`).
    pub errors: String,
    /// What makes a 5xx burst, in words (for the reports).
    pub rule: String,
}

/// What a latency burst shows (durations in milliseconds, to within the
/// histogram's 19 %).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LatencyReport {
    /// The worst minute's 99th percentile.
    pub p99_ms: u64,
    /// The normal 99th percentile, when there was enough traffic to know it.
    pub baseline_p99_ms: Option<u64>,
    /// The bar crossed (`--slow`, or a multiple of the normal).
    pub threshold_ms: u64,
    /// Requests at or over the bar.
    pub slow_requests: u64,
}

/// What SLO mode says of a burst.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SloReport {
    /// The availability target, in percent.
    pub target_percent: f64,
    /// `14.4× over 1 h and 5 min`.
    pub alert: String,
    /// The alert's burn-rate factor (14.4, 6, …).
    pub burn_rate_factor: f64,
    /// The alert's long window.
    pub long_window_seconds: i64,
    /// The alert's short window.
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
    /// The path, identifiers templated as `{id}`.
    pub path: String,
    /// 5xx it got.
    pub errors: u64,
    /// Of `errors`, how many may belong to other paths: non-zero only when
    /// more distinct paths failed than a bounded tally keeps (Space-Saving).
    pub overcount: u64,
}

/// A burst is narrow when at least this share of its 5xx went to one
/// client or hit one path (the share `--min-clients` uses too).
pub use crate::detect::NARROW_SHARE;

/// How narrow a 5xx burst is: the one client or path most of its 5xx
/// went to.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Narrow {
    /// `client` or `path`.
    pub by: &'static str,
    /// The client (as the log names it) or the path.
    pub key: String,
    /// Its share of the burst's 5xx (0 to 1): at least this much (the
    /// bounded tally's overcount left out).
    pub share: f64,
}

/// The result of a run: what every renderer reads.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Analysis {
    /// `logburst/v1`.
    pub schema: &'static str,
    /// The detection window (`--window`).
    pub window_seconds: i64,
    /// Every input, with its line accounting and warnings.
    pub inputs: Vec<InputReport>,
    /// Counts over every input.
    pub totals: Totals,
    /// What was found, in time order.
    pub incidents: Vec<IncidentReport>,
    /// The rules incidents were found with.
    pub thresholds: Thresholds,
    /// Assumptions the run made (zones, years), in words.
    pub notes: Vec<String>,
    /// What makes the run's numbers less than whole (hosts past the cap),
    /// in words: also in `notes`, and on stderr.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
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
    /// What to do.
    pub measure: String,
    /// What in the logs suggests it.
    pub evidence: String,
}

/// One step of an incident's chart: its hosts' requests and 5xx from
/// `time` for `step_seconds`.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartPoint {
    /// The step's first second.
    pub time: Time,
    /// The step's length.
    pub step_seconds: i64,
    /// Requests in the step.
    pub requests: u64,
    /// 5xx in the step.
    pub errors: u64,
}

/// Steps in an incident's chart, at most.
pub const CHART_STEPS: i64 = 48;

/// Steps in the whole run's overview, at most.
pub const OVERVIEW_STEPS: i64 = 1440;

/// One host's requests in one minute.
#[derive(Clone, Debug, PartialEq)]
pub struct MinuteRow {
    /// The minute's first second, shown in the host's usual offset.
    pub minute: Time,
    /// The host.
    pub host: String,
    /// Requests in the minute.
    pub requests: u64,
    /// 5xx in the minute.
    pub errors: u64,
    /// 5xx per status.
    pub status: BTreeMap<u16, u64>,
}

/// Hosts or routes a heading names before it counts the rest: a burst
/// across a fleet or behind a load balancer names hundreds of them (the
/// JSON lists them all).
pub const PLACE_NAMES: usize = 5;

impl IncidentReport {
    /// Where it happened, as headings show it: the hosts, and the routes
    /// that were bad (`web-01, web-02 · upstream shop-api-80`), the first
    /// few of each where there are more than [`PLACE_NAMES`]
    /// (`… and 68 more routes`). Raw log text: the caller escapes it for
    /// its medium.
    pub fn place(&self) -> String {
        let list = |names: &[String], what: &str| {
            if names.len() <= PLACE_NAMES {
                return names.join(", ");
            }
            let shown = PLACE_NAMES - 1;
            format!(
                "{} and {} more {what}",
                names[..shown].join(", "),
                names.len() - shown
            )
        };
        let mut out = list(&self.hosts, "hosts");
        if !self.routes.is_empty() {
            if !out.is_empty() {
                out.push_str(" · ");
            }
            out.push_str(&list(&self.routes, "routes"));
        }
        out
    }

    /// An instant of this incident as its timeline and chart show it: the
    /// time of day when the incident lies within one day of its start's
    /// offset, else the date and time with the offset.
    pub fn at(&self, t: &Time) -> String {
        let day = |t: &Time| (t.utc + i64::from(self.start.offset)).div_euclid(86_400);
        let one_day = day(&self.start) == day(&self.end) && day(t) == day(&self.start);
        if one_day && t.offset == self.start.offset {
            t.clock()
        } else {
            t.human()
        }
    }
}

impl Analysis {
    /// The newest detection among its incidents: (instant, lag), seconds.
    pub fn newest_detection(&self) -> Option<(i64, i64)> {
        self.incidents
            .iter()
            .map(|i| (i.detected.utc, i.detection_lag_seconds))
            .max()
    }

    /// An incremental run found an incident not reported before.
    pub fn found_new(&self) -> bool {
        self.incidents.iter().any(|i| i.status == Some(Status::New))
    }

    /// Inputs that could not be read at all.
    pub fn failed_inputs(&self) -> impl Iterator<Item = &InputReport> {
        self.inputs.iter().filter(|i| i.error.is_some())
    }

    /// The inputs logburst did not understand (see [`InputReport::understood`]).
    pub fn not_understood(&self) -> impl Iterator<Item = &InputReport> {
        self.inputs.iter().filter(|i| !i.understood)
    }
}
