//! Per-host time series of request and 5xx counts at one-second resolution,
//! plus the rare events (OOM-killer lines), as a commutative monoid: its
//! [`Merge`] is how the partial results of blocks, files and hosts combine,
//! in any grouping and order.
//!
//! Memory grows with the busy seconds, never with the number of lines: an
//! [`Hour`] lists up to 240 busy seconds at 12 bytes each and keeps a 28 KiB
//! slot per second past that; plus one entry per (second, 5xx status) that
//! occurred, plus one bounded [`ErrorTally`] (at most about 8 KiB) per
//! minute with a 5xx.

use std::collections::BTreeMap;

use crate::event::{OomLine, Origin, Request, Stamp};
use crate::format::nginx_error::UpstreamKind;
use crate::format::Detail;
use crate::merge::{merge_entry, merge_maps, Merge};
use crate::sketch::ErrorTally;
use crate::time::OffsetSecs;

mod builder;
mod cap;
mod hour;
mod latency;
mod local;
mod wire;

pub use builder::{HostBuilders, RouteBuilders, SeriesBuilder};
pub use cap::{MAX_HOSTS, OTHER_HOSTS, OTHER_ROUTES};
pub use hour::{Dense, Hour};
pub use latency::{LatencyHist, LATENCY_BUCKETS};
pub use local::{LocalBuilder, LocalSeries};

pub const HOUR: i64 = 3600;

/// One series: a host's requests (or the service's, the sum of all hosts).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Series {
    hours: BTreeMap<i64, Hour>,
    /// 5xx responses per (second, status).
    status: BTreeMap<(i64, u16), u32>,
    /// What the 5xx responses of each minute hit (clients, paths), under
    /// the minute's first second.
    tallies: BTreeMap<i64, ErrorTally>,
    /// How long each minute's requests took, where the log says.
    latency: BTreeMap<i64, LatencyHist>,
    /// How many requests were written with each UTC offset.
    pub offsets: BTreeMap<OffsetSecs, u64>,
    pub requests: u64,
    pub errors: u64,
}

impl Series {
    #[inline]
    pub fn add(&mut self, r: &Request) {
        let (h, s) = (r.utc.div_euclid(HOUR), r.utc.rem_euclid(HOUR) as usize);
        let error = r.is_error();
        self.hours.entry(h).or_default().add(s, 1, u32::from(error));
        self.requests += 1;
        if error {
            self.errors += 1;
            *self.status.entry((r.utc, r.status)).or_insert(0) += 1;
        }
        *self.offsets.entry(r.offset).or_insert(0) += 1;
        if let Some(ms) = r.latency_ms {
            self.latency.entry(minute_of(r.utc)).or_default().add(ms);
        }
    }

    /// The series moved by `-delta` seconds, written with `offset` (a
    /// fixed zone): see [`Series::placed`].
    pub fn shifted(
        &self,
        delta: i64,
        offset: OffsetSecs,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Series {
        self.placed(&|n| (n - delta, false), &|_| offset, since, until)
            .0
    }

    /// A series counted in local wall-clock seconds (HAProxy's accept
    /// date) placed in UTC once the host's zone is known, each second with
    /// the offset in force at it (`place`: a second's UTC instant, and
    /// whether the second was ambiguous — in the hour a clock goes back,
    /// where the caller chose the pass; `offset_at`: the offset a UTC
    /// instant is shown with). Returns the placed series and how many of
    /// its requests were in ambiguous seconds. Only UTC seconds in
    /// `since..until` are kept.
    pub fn placed(
        &self,
        place: &dyn Fn(i64) -> (i64, bool),
        offset_at: &dyn Fn(i64) -> OffsetSecs,
        since: Option<i64>,
        until: Option<i64>,
    ) -> (Series, u64) {
        let keep = |t: i64| since.is_none_or(|s| t >= s) && until.is_none_or(|u| t < u);
        let mut ambiguous = 0u64;
        let at = |n: i64| place(n).0;
        let mut out = Series::default();
        for (h, hour) in &self.hours {
            for slot in hour.slots() {
                let (r, e) = (slot.requests, slot.errors);
                let n = h * HOUR + i64::from(slot.second);
                let (t, twice) = place(n);
                if !keep(t) {
                    continue;
                }
                if twice {
                    ambiguous += r as u64;
                }
                out.requests += r as u64;
                out.errors += e as u64;
                *out.offsets.entry(offset_at(t)).or_insert(0) += r as u64;
                let (nh, ni) = (t.div_euclid(HOUR), t.rem_euclid(HOUR) as usize);
                out.hours.entry(nh).or_default().add(ni, r, e);
            }
        }
        for ((n, st), c) in &self.status {
            let t = at(*n);
            if keep(t) {
                *out.status.entry((t, *st)).or_insert(0) += c;
            }
        }
        // A minute moves whole (zones are whole minutes apart).
        for (m, tally) in &self.tallies {
            let t = at(*m);
            if keep(t) || keep(t + 59) {
                merge_entry(&mut out.tallies, minute_of(t), tally.clone());
            }
        }
        for (m, h) in &self.latency {
            let t = at(*m);
            if keep(t) || keep(t + 59) {
                merge_entry(&mut out.latency, minute_of(t), h.clone());
            }
        }
        (out, ambiguous)
    }

    /// Takes out every second after `t` (and the minutes after `t`'s
    /// minute) into the series returned; totals follow. The requests per
    /// offset stay here (a series counted in local seconds has none worth
    /// keeping: placing it writes them anew).
    pub fn split_after(&mut self, t: i64) -> Series {
        let mut out = Series::default();
        let h0 = t.div_euclid(HOUR);
        out.hours = self.hours.split_off(&(h0 + 1));
        if let Some(hour) = self.hours.get_mut(&h0) {
            let cut = t.rem_euclid(HOUR) as usize + 1;
            let moved = if cut < HOUR as usize {
                hour.split_off(cut)
            } else {
                Hour::default()
            };
            if !moved.is_empty() {
                out.hours.insert(h0, moved);
            }
            if hour.is_empty() {
                self.hours.remove(&h0);
            }
        }
        out.status = self.status.split_off(&(t + 1, 0));
        out.tallies = self.tallies.split_off(&(minute_of(t) + 60));
        out.latency = self.latency.split_off(&(minute_of(t) + 60));
        self.recount();
        out.recount();
        out
    }

    /// Drops every second before `t` (an incremental run's history keeps
    /// only the trailing seconds detection needs); totals follow.
    pub fn trim_before(&mut self, t: i64) {
        let h0 = t.div_euclid(HOUR);
        self.hours = self.hours.split_off(&h0);
        if let Some(hour) = self.hours.get_mut(&h0) {
            hour.clear_before(t.rem_euclid(HOUR) as usize);
            if hour.is_empty() {
                self.hours.remove(&h0);
            }
        }
        self.status = self.status.split_off(&(t, 0));
        self.tallies = self.tallies.split_off(&minute_of(t));
        self.latency = self.latency.split_off(&minute_of(t));
        self.recount();
    }

    /// Sets the totals from the seconds, after seconds were taken out.
    fn recount(&mut self) {
        self.requests = 0;
        self.errors = 0;
        for hour in self.hours.values() {
            let (r, e) = hour.totals();
            self.requests += r;
            self.errors += e;
        }
    }

    /// Requests, 5xx and 5xx by status per minute (UTC minute start), for
    /// every minute with a request.
    pub fn per_minute(&self) -> BTreeMap<i64, MinuteCounts> {
        let mut out: BTreeMap<i64, MinuteCounts> = BTreeMap::new();
        // Seconds come in time order: a minute is summed apart and put in
        // the map once (any order would still sum right).
        let mut sums: Vec<(i64, u64, u64)> = Vec::new();
        for (t, r, e) in self.seconds() {
            let minute = t.div_euclid(60) * 60;
            match sums.last_mut() {
                Some(last) if last.0 == minute => {
                    (last.1, last.2) = (last.1 + u64::from(r), last.2 + u64::from(e))
                }
                _ => sums.push((minute, u64::from(r), u64::from(e))),
            }
        }
        for (minute, r, e) in sums {
            let m = out.entry(minute).or_default();
            (m.requests, m.errors) = (m.requests + r, m.errors + e);
        }
        for ((t, status), n) in &self.status {
            let m = out.entry(t.div_euclid(60) * 60).or_default();
            *m.status.entry(*status).or_insert(0) += u64::from(*n);
        }
        out
    }

    /// The request durations of every minute that has some.
    pub fn latency(&self) -> &BTreeMap<i64, LatencyHist> {
        &self.latency
    }

    /// Counts the client and path of a 5xx at `utc`.
    pub fn add_detail(&mut self, utc: i64, d: &Detail) {
        self.tallies
            .entry(minute_of(utc))
            .or_default()
            .add(d.client.as_deref(), d.path.as_deref());
    }

    /// What the 5xx responses of the minutes overlapping `a..=b` hit.
    pub fn tally(&self, a: i64, b: i64, into: &mut ErrorTally) {
        if b < a {
            return;
        }
        for t in self.tallies.range(minute_of(a)..=b).map(|(_, t)| t) {
            into.merge(t.clone());
        }
    }

    /// The first second with a request, if any.
    pub fn first_second(&self) -> Option<i64> {
        self.next_request_at_or_after(i64::MIN)
    }

    /// (requests, errors) in second `t`.
    pub fn at(&self, t: i64) -> (u32, u32) {
        match self.hours.get(&t.div_euclid(HOUR)) {
            Some(h) => h.get(t.rem_euclid(HOUR) as usize),
            None => (0, 0),
        }
    }

    /// A reader for mostly sequential access.
    pub fn cursor(&self) -> Cursor<'_> {
        Cursor {
            series: self,
            hour: i64::MIN,
            current: None,
        }
    }

    /// First and last second with a request.
    pub fn span(&self) -> Option<(i64, i64)> {
        Some((
            self.next_request_at_or_after(i64::MIN)?,
            self.prev_request_at_or_before(i64::MAX)?,
        ))
    }

    /// The first second ≥ `t` with a request.
    pub fn next_request_at_or_after(&self, t: i64) -> Option<i64> {
        let h0 = t.div_euclid(HOUR);
        for (h, hour) in self.hours.range(h0..) {
            let from = if *h == h0 {
                t.rem_euclid(HOUR) as usize
            } else {
                0
            };
            if let Some(s) = hour.first_request_from(from) {
                return Some(h * HOUR + s as i64);
            }
        }
        None
    }

    /// The last second ≤ `t` with a request.
    pub fn prev_request_at_or_before(&self, t: i64) -> Option<i64> {
        let h0 = t.div_euclid(HOUR);
        for (h, hour) in self.hours.range(..=h0).rev() {
            let to = if *h == h0 {
                t.rem_euclid(HOUR) as usize
            } else {
                HOUR as usize - 1
            };
            if let Some(s) = hour.last_request_to(to) {
                return Some(h * HOUR + s as i64);
            }
        }
        None
    }

    /// Every second with at least one request, in order, with its counts.
    pub fn seconds(&self) -> impl Iterator<Item = (i64, u32, u32)> + '_ {
        self.hours.iter().flat_map(|(h, hour)| {
            hour.slots()
                .filter(|s| s.requests > 0)
                .map(move |s| (h * HOUR + i64::from(s.second), s.requests, s.errors))
        })
    }

    /// (requests, errors) summed over seconds `a..=b`.
    /// Requests and 5xx over the seconds `a..=b`, in time proportional to
    /// the hours with traffic in that span, not to its length.
    pub fn sum(&self, a: i64, b: i64) -> (u64, u64) {
        let (mut r, mut e) = (0u64, 0u64);
        if b < a {
            return (r, e);
        }
        for (h, hour) in self.hours.range(a.div_euclid(HOUR)..=b.div_euclid(HOUR)) {
            let lo = (a - h * HOUR).clamp(0, HOUR - 1) as usize;
            let hi = (b - h * HOUR).clamp(0, HOUR - 1) as usize;
            let (hr, he) = hour.sum(lo, hi);
            r += hr;
            e += he;
        }
        (r, e)
    }

    /// The first second in `a..=b` with a 5xx.
    pub fn first_error_in(&self, a: i64, b: i64) -> Option<i64> {
        self.status
            .range((a, 0)..=(b, u16::MAX))
            .next()
            .map(|((t, _), _)| *t)
    }

    /// The last second in `a..=b` with a 5xx.
    pub fn last_error_in(&self, a: i64, b: i64) -> Option<i64> {
        self.status
            .range((a, 0)..=(b, u16::MAX))
            .next_back()
            .map(|((t, _), _)| *t)
    }

    /// 5xx responses per status over seconds `a..=b`.
    pub fn status_counts(&self, a: i64, b: i64, into: &mut BTreeMap<u16, u64>) {
        for ((_, status), n) in self.status.range((a, 0)..=(b, u16::MAX)) {
            *into.entry(*status).or_insert(0) += *n as u64;
        }
    }

    /// The offset most of this series' requests were written with.
    pub fn usual_offset(&self) -> Option<OffsetSecs> {
        self.offsets
            .iter()
            .max_by_key(|(o, n)| (**n, -**o))
            .map(|(o, _)| *o)
    }
}

impl Merge for Series {
    fn merge(&mut self, other: Series) {
        for (h, o) in other.hours {
            match self.hours.get_mut(&h) {
                None => {
                    self.hours.insert(h, o);
                }
                Some(mine) => mine.merge(o),
            }
        }
        merge_maps(&mut self.status, other.status);
        merge_maps(&mut self.tallies, other.tallies);
        merge_maps(&mut self.latency, other.latency);
        merge_maps(&mut self.offsets, other.offsets);
        self.requests += other.requests;
        self.errors += other.errors;
    }
}

/// The first second of the minute holding `t`.
fn minute_of(t: i64) -> i64 {
    t.div_euclid(60) * 60
}

/// One minute of a series.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MinuteCounts {
    pub requests: u64,
    pub errors: u64,
    pub status: BTreeMap<u16, u64>,
}

/// Sequential access to a [`Series`] without a map look-up per second.
pub struct Cursor<'a> {
    series: &'a Series,
    hour: i64,
    current: Option<&'a Hour>,
}

impl Cursor<'_> {
    #[inline]
    pub fn get(&mut self, t: i64) -> (u32, u32) {
        let h = t.div_euclid(HOUR);
        if h != self.hour {
            self.hour = h;
            self.current = self.series.hours.get(&h);
        }
        match self.current {
            Some(hour) => hour.get(t.rem_euclid(HOUR) as usize),
            None => (0, 0),
        }
    }
}

/// Everything the parsers extracted, merged: one series per host and the
/// OOM-killer lines (kept sorted, so that equal contents compare equal).
#[derive(Clone, PartialEq, Eq, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct BucketSet {
    pub series: BTreeMap<String, Series>,
    pub oom: Vec<OomLine>,
    /// Upstream failures and killed workers (nginx error log), counted per
    /// host, upstream, kind and second: bounded by the time span and the
    /// configured upstreams, not by the number of lines.
    #[serde(with = "pairs")]
    pub upstream: BTreeMap<UpstreamKey, u64>,
    /// Application and service signals (`format::signals`), counted per
    /// input, host, signal, process and second, with the first line's text.
    #[serde(with = "pairs")]
    pub signals: BTreeMap<SignalKey, SignalCount>,
    /// Requests whose log gives local wall-clock time only (HAProxy), per
    /// (input, host), counted in naive seconds until placed in a zone.
    #[serde(with = "pairs")]
    pub local_series: BTreeMap<(u32, String), LocalSeries>,
    /// The routes of those requests (HAProxy's backends), per (input,
    /// host, route's series name): placed in the host's zone with the
    /// host's series, then counted in [`BucketSet::routes`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", with = "pairs")]
    pub local_routes: BTreeMap<(u32, String, String), LocalSeries>,
    /// The first host name (in sorted order) whose requests were counted
    /// in [`OTHER_HOSTS`] because the run holds more hosts than its cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folded: Option<String>,
    /// One series per route the access lines name (`upstream NAME`,
    /// `backend ADDR`, `vhost NAME`: [`crate::format::Route::key`]), across
    /// hosts: the same requests as the hosts' series, cut another way.
    /// Capped like the hosts, past the cap counted in [`OTHER_ROUTES`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub routes: BTreeMap<String, Series>,
    /// The first route (in sorted order) counted in [`OTHER_ROUTES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folded_routes: Option<String>,
}

/// Maps whose keys are not strings, written as lists of `[key, value]`.
mod pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        map: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.iter())
    }

    pub fn deserialize<'de, K, V, D>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        let list = Vec::<(K, V)>::deserialize(d)?;
        let n = list.len();
        let map: BTreeMap<K, V> = list.into_iter().collect();
        if map.len() != n {
            return Err(serde::de::Error::custom("a key is listed twice"));
        }
        Ok(map)
    }
}

/// What a signal count is kept under.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct SignalKey {
    pub input: u32,
    pub host: String,
    pub name: String,
    pub process: String,
    /// `None` until resolved: the line came before any stamp of its block.
    pub stamp: Option<Stamp>,
    /// The block such a line was in.
    pub pending_block: Option<u32>,
}

/// How many lines held a signal, and the text of the first of them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignalCount {
    pub count: u64,
    pub first: Origin,
    pub text: String,
}

impl Merge for SignalCount {
    fn merge(&mut self, o: SignalCount) {
        self.count += o.count;
        if o.first < self.first {
            self.first = o.first;
            self.text = o.text;
        }
    }
}

/// What an upstream-failure count is kept under.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct UpstreamKey {
    /// The input it was read from, for notes about its time zone.
    pub input: u32,
    pub host: String,
    pub upstream: String,
    pub kind: UpstreamKind,
    pub stamp: Stamp,
}

impl BucketSet {
    pub fn series_mut(&mut self, host: &str) -> &mut Series {
        if !self.series.contains_key(host) {
            self.series.insert(host.to_string(), Series::default());
        }
        self.series.get_mut(host).expect("just inserted")
    }

    /// Every series of requests, the hosts' and the routes': for what
    /// cuts them all alike (`--since`, a cron state's horizon).
    pub fn all_series_mut(&mut self) -> impl Iterator<Item = &mut Series> {
        self.series.values_mut().chain(self.routes.values_mut())
    }

    /// Drops the series left without a request.
    pub fn drop_empty_series(&mut self) {
        self.series.retain(|_, s| s.requests > 0);
        self.routes.retain(|_, s| s.requests > 0);
    }

    pub fn push_oom(&mut self, line: OomLine) {
        self.oom.push(line);
    }

    pub fn add_signal(&mut self, key: SignalKey, origin: Origin, text: String) {
        let c = SignalCount {
            count: 1,
            first: origin,
            text,
        };
        merge_entry(&mut self.signals, key, c);
    }

    /// Gives signals that came before their block's first stamp the last
    /// stamp of the nearest earlier block that has one (`last_stamps`:
    /// (block, stamp), sorted). Those with none stay unplaced.
    pub fn resolve_signals(&mut self, last_stamps: &[(u32, Stamp)]) {
        let pending: Vec<SignalKey> = self
            .signals
            .keys()
            .filter(|k| k.pending_block.is_some())
            .cloned()
            .collect();
        for k in pending {
            let block = k.pending_block.expect("filtered");
            let i = last_stamps.partition_point(|(b, _)| *b < block);
            let Some((_, stamp)) = i.checked_sub(1).map(|i| last_stamps[i]) else {
                continue;
            };
            let c = self.signals.remove(&k).expect("listed");
            let key = SignalKey {
                stamp: Some(stamp),
                pending_block: None,
                ..k
            };
            merge_entry(&mut self.signals, key, c);
        }
    }

    pub fn add_upstream(&mut self, key: UpstreamKey) {
        *self.upstream.entry(key).or_insert(0) += 1;
    }

    /// Puts the rare events in their canonical order; `merge` keeps it.
    pub fn normalize(&mut self) {
        self.oom.sort();
    }

    /// The service: every host's requests summed.
    /// Adds `shift` to every input number, for appending after `shift`
    /// other inputs (`summary::Summary::merge`).
    pub fn renumber_inputs(&mut self, shift: u32) {
        if shift != 0 {
            self.map_inputs(|i| i + shift);
        }
    }

    /// Replaces every input number `i` with `f(i)`.
    pub fn map_inputs(&mut self, f: impl Fn(u32) -> u32) {
        for l in &mut self.oom {
            l.origin.input = f(l.origin.input);
        }
        self.oom.sort();
        self.upstream = std::mem::take(&mut self.upstream)
            .into_iter()
            .map(|(k, n)| {
                let input = f(k.input);
                (UpstreamKey { input, ..k }, n)
            })
            .collect();
        self.signals = std::mem::take(&mut self.signals)
            .into_iter()
            .map(|(k, mut c)| {
                c.first.input = f(c.first.input);
                let input = f(k.input);
                (SignalKey { input, ..k }, c)
            })
            .collect();
        self.local_series = std::mem::take(&mut self.local_series)
            .into_iter()
            .map(|((i, h), s)| ((f(i), h), s))
            .collect();
        self.local_routes = std::mem::take(&mut self.local_routes)
            .into_iter()
            .map(|((i, h, r), s)| ((f(i), h, r), s))
            .collect();
    }

    /// The highest input number any event names.
    pub fn max_input(&self) -> Option<u32> {
        self.inputs_named().max()
    }

    /// Every input number an event names (with repeats): the same fields
    /// [`BucketSet::map_inputs`] rewrites.
    pub fn inputs_named(&self) -> impl Iterator<Item = u32> + '_ {
        let oom = self.oom.iter().map(|l| l.origin.input);
        let upstream = self.upstream.keys().map(|k| k.input);
        let signals = self
            .signals
            .iter()
            .flat_map(|(k, c)| [k.input, c.first.input]);
        let local = self.local_series.keys().map(|(i, _)| *i);
        let local_routes = self.local_routes.keys().map(|(i, _, _)| *i);
        oom.chain(upstream)
            .chain(signals)
            .chain(local)
            .chain(local_routes)
    }

    /// What the 5xx of `hosts` hit over the minutes overlapping `a..=b`:
    /// the union of their tallies.
    pub fn tally(&self, hosts: &[String], a: i64, b: i64) -> ErrorTally {
        let mut tally = ErrorTally::default();
        for s in hosts.iter().filter_map(|h| self.series.get(h)) {
            s.tally(a, b, &mut tally);
        }
        tally
    }

    pub fn service(&self) -> Series {
        let mut all = Series::default();
        for s in self.series.values() {
            all.merge(s.clone());
        }
        all
    }

    pub fn requests(&self) -> u64 {
        self.series.values().map(|s| s.requests).sum()
    }

    pub fn errors(&self) -> u64 {
        self.series.values().map(|s| s.errors).sum()
    }
}

/// The monoid's operation.
impl Merge for BucketSet {
    fn merge(&mut self, other: BucketSet) {
        merge_maps(&mut self.series, other.series);
        if !other.oom.is_empty() {
            self.oom.extend(other.oom);
            self.oom.sort();
        }
        merge_maps(&mut self.upstream, other.upstream);
        merge_maps(&mut self.local_series, other.local_series);
        merge_maps(&mut self.local_routes, other.local_routes);
        merge_maps(&mut self.signals, other.signals);
        merge_maps(&mut self.routes, other.routes);
        if let Some(f) = other.folded {
            self.note_folded(f);
        }
        if let Some(f) = other.folded_routes {
            self.note_folded_routes(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn req(utc: i64, status: u16) -> Request {
        Request {
            utc,
            offset: 10_800,
            status,
            latency_ms: None,
        }
    }

    fn set(host: &str, reqs: &[(i64, u16)]) -> BucketSet {
        let mut b = BucketSet::default();
        for (t, s) in reqs {
            b.series_mut(host).add(&req(*t, *s));
        }
        b
    }

    #[test]
    fn series_round_trip_and_damage_is_refused() {
        let b = set(
            "web-01",
            &[(-3, 200), (10, 200), (10, 502), (10, 504), (7205, 500)],
        );
        let text = serde_json::to_string(&b).unwrap();
        assert_eq!(serde_json::from_str::<BucketSet>(&text).unwrap(), b);
        let s = serde_json::to_value(&b.series["web-01"]).unwrap();
        let broken = |field: &str, v: serde_json::Value| {
            let mut s = s.clone();
            s[field] = v;
            serde_json::from_value::<Series>(s).unwrap_err().to_string()
        };
        assert!(broken("seconds", serde_json::json!([1, 2])).contains("triples"));
        assert!(broken("seconds", serde_json::json!([5, 1, 0, -1, 1, 0])).contains("order"));
        assert!(broken("seconds", serde_json::json!([5, -1, 0])).contains("range"));
        assert!(broken("status", serde_json::json!([5, 70000, 1])).contains("range"));
        assert!(broken("seconds", serde_json::json!([i64::MAX, 1, 0])).contains("order"));
    }

    #[test]
    fn sum_over_any_span_equals_second_by_second() {
        let b = set(
            "h",
            &[(-3, 200), (10, 502), (3599, 500), (3600, 200), (7205, 503)],
        );
        let s = &b.series["h"];
        for (a, z) in [
            (-10, 10),
            (0, 3599),
            (3599, 3600),
            (-5000, 9000),
            (11, 3598),
            (20, 10),
        ] {
            let naive = (a..=z).fold((0, 0), |(r, e), t| {
                let (rq, er) = s.at(t);
                (r + u64::from(rq), e + u64::from(er))
            });
            assert_eq!(s.sum(a, z), naive, "{a}..={z}");
        }
        // Decades in one call: as fast as the hours with traffic.
        assert_eq!(s.sum(-1 << 40, 1 << 40), (5, 3));
    }

    #[test]
    fn latency_buckets_quantiles_and_serde() {
        // Every duration lands in a bucket whose bounds hold it (from 4 ms,
        // four a doubling; below, a millisecond each).
        for ms in [
            0u32,
            1,
            2,
            3,
            4,
            5,
            7,
            100,
            999,
            1000,
            1023,
            1024,
            65_000,
            u32::MAX,
        ] {
            let i = LatencyHist::bucket(ms);
            assert!(LatencyHist::lower(i) <= u64::from(ms), "{ms}");
            if ms >= 4 {
                assert!(u64::from(ms) < LatencyHist::lower(i + 1), "{ms}");
            }
        }
        let mut h = LatencyHist::default();
        for ms in 1..=1000 {
            h.add(ms);
        }
        let p99 = h.quantile(0.99).unwrap();
        assert!((850..=1150).contains(&p99), "{p99}");
        let p50 = h.quantile(0.5).unwrap();
        assert!((420..=580).contains(&p50), "{p50}");
        assert_eq!(h.count(), 1000);
        assert!(h.at_least(0) == 1000 && h.at_least(2000) == 0);
        // Through a series and back.
        let mut s = Series::default();
        for (n, ms) in [(0, 5), (1, 50), (61, 5000)] {
            s.add(&Request {
                utc: n,
                offset: 0,
                status: 200,
                latency_ms: Some(ms),
            });
        }
        let back: Series = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        assert_eq!(s.latency().len(), 2);
        assert!(LatencyHist::from_sparse(&[3, 1, 2, 1]).is_none());
        assert!(LatencyHist::from_sparse(&[999, 1]).is_none());
    }

    #[test]
    fn builder_equals_adding_one_by_one() {
        let reqs = [
            (10, 200),
            (10, 502),
            (7205, 500),
            (-3, 200),
            (11, 503),
            (7206, 200),
        ];
        let mut b = SeriesBuilder::default();
        let mut s = Series::default();
        for (i, (t, st)) in reqs.iter().enumerate() {
            let r = Request {
                utc: *t,
                offset: if i % 3 == 0 { 0 } else { 3600 },
                status: *st,
                latency_ms: (i % 2 == 0).then_some(*t as u32 % 5000),
            };
            b.add(&r, r.is_error());
            s.add(&r);
        }
        assert_eq!(b.finish(), s);
    }

    #[test]
    fn counts_and_lookups() {
        let b = set("a", &[(10, 200), (10, 502), (7205, 500), (-3, 200)]);
        let s = &b.series["a"];
        assert_eq!(s.at(10), (2, 1));
        assert_eq!(s.at(-3), (1, 0));
        assert_eq!(s.span(), Some((-3, 7205)));
        assert_eq!(s.next_request_at_or_after(11), Some(7205));
        assert_eq!(s.prev_request_at_or_before(7204), Some(10));
        assert_eq!(s.first_error_in(0, 8000), Some(10));
        assert_eq!(s.last_error_in(0, 8000), Some(7205));
        assert_eq!(s.sum(0, 8000), (3, 2));
        let mut c = BTreeMap::new();
        s.status_counts(0, 8000, &mut c);
        assert_eq!(c, BTreeMap::from([(500, 1), (502, 1)]));
        assert_eq!(s.seconds().count(), 3);
    }

    fn arb_reqs() -> impl Strategy<Value = Vec<(u8, i64, u16)>> {
        prop::collection::vec(
            (
                0u8..3,
                -5000i64..20_000,
                prop::sample::select(vec![200u16, 404, 500, 502, 503]),
            ),
            0..60,
        )
    }

    /// Requests, and from some of them the rare events: a signal line for
    /// a 503, an upstream failure and an OOM-killer line for a 502.
    fn build(v: &[(u8, i64, u16)]) -> BucketSet {
        let mut b = BucketSet::default();
        for (h, t, s) in v {
            let host = format!("h{h}");
            b.series_mut(&host).add(&req(*t, *s));
            let stamp = Stamp::Zoned { utc: *t, offset: 0 };
            // One line per request: an origin names one line, and so one text.
            let origin = Origin {
                input: u32::from(*h),
                block: (*t).rem_euclid(7) as u32,
                line: (*t + 5000) as u32,
            };
            if *s == 503 {
                let key = SignalKey {
                    input: u32::from(*h),
                    host: host.clone(),
                    name: "segfault".into(),
                    process: "app".into(),
                    stamp: Some(Stamp::Zoned {
                        utc: t - t.rem_euclid(10),
                        offset: 0,
                    }),
                    pending_block: None,
                };
                b.add_signal(key, origin, format!("line {t}"));
            }
            if *s == 502 {
                b.add_upstream(UpstreamKey {
                    input: 0,
                    host: host.clone(),
                    upstream: "10.0.0.1:80".into(),
                    kind: UpstreamKind::Refused,
                    stamp,
                });
                b.push_oom(OomLine {
                    stamp,
                    host,
                    kind: crate::event::OomLineKind::Killed,
                    victim: crate::event::Victim {
                        pid: Some(*t as u32),
                        ..Default::default()
                    },
                    origin,
                });
            }
        }
        b.normalize();
        b
    }

    proptest! {
        // The monoid laws, commutativity, and: merging the parts of any
        // split equals building from the whole.
        #[test]
        /// Folding hosts past a cap keeps totals, keeps the smallest names,
        /// and gives the same set whether parts are folded before the merge
        /// or the merge after.
        fn folding_hosts_commutes_with_merge(a in arb_reqs(), b in arb_reqs(), c in arb_reqs(), cap in 1usize..4) {
            let whole = build(&a).merged(build(&b)).merged(build(&c));
            let mut folded = whole.clone();
            folded.cap_hosts(cap);
            let parts = [build(&a), build(&b), build(&c)].map(|mut p| {
                p.cap_hosts(cap);
                p
            });
            let [pa, pb, pc] = parts;
            let mut late = pa.merged(pb).merged(pc);
            late.cap_hosts(cap);
            prop_assert_eq!(&late, &folded);
            prop_assert_eq!((folded.requests(), folded.errors()), (whole.requests(), whole.errors()));
            let named: Vec<&String> = folded.series.keys().filter(|h| *h != OTHER_HOSTS).collect();
            prop_assert!(named.len() <= cap);
            let want: Vec<&String> = whole.series.keys().take(cap).collect();
            prop_assert_eq!(named, want);
            prop_assert_eq!(folded.folded.is_some(), whole.series.len() > cap);
        }

        #[test]
        fn merge_is_a_commutative_monoid(a in arb_reqs(), b in arb_reqs(), c in arb_reqs()) {
            let (ba, bb, bc) = (build(&a), build(&b), build(&c));
            crate::merge::commutative_laws(ba.clone(), bb.clone(), bc.clone())?;
            let whole: Vec<_> = a.iter().chain(&b).chain(&c).cloned().collect();
            prop_assert_eq!(ba.merged(bb).merged(bc), build(&whole));
        }

        // The same for one host's series when requests carry durations
        // (latency histograms) and 5xx details (the per-minute tallies).
        #[test]
        fn series_with_latency_and_tallies_merge_as_a_monoid(
            a in arb_reqs(), b in arb_reqs(), c in arb_reqs(),
        ) {
            let series = |v: &[(u8, i64, u16)]| {
                let mut s = Series::default();
                for (h, t, st) in v {
                    s.add(&Request { latency_ms: Some(u32::from(*h) * 700), ..req(*t, *st) });
                    if *st >= 500 {
                        let (ip, path) = (format!("10.0.0.{h}"), format!("GET /p{} HTTP/1.1", t.rem_euclid(5)));
                        s.add_detail(*t, &Detail::new(Some(ip.as_bytes()), Some(path.as_bytes())));
                    }
                }
                s
            };
            crate::merge::commutative_laws(series(&a), series(&b), series(&c))?;
        }
    }
}
