//! The place stage: every stamp an instant. Stamps written without a zone
//! or a year are placed with what the run knows ([`Placer`]: `--tz`, the
//! same host's zoned and dated logs, the run's), and the assumption is
//! written down as a note for the report.
//!
//! In: the merged [`BucketSet`] and the inputs' summaries. Out: a
//! [`Placement`] (the placer, the notes, what the local-time request series
//! added), the OOM lines placed for joining, and the upstream failures and
//! signals with their instants.

use std::collections::{BTreeMap, BTreeSet};

use crate::bucket::{BucketSet, SignalCount, SignalKey, UpstreamKey};
use crate::config::Config;
use crate::detect::PlacedOomLine;
use crate::event::{OomKill, OomLine, Stamp};
use crate::merge::Merge;
use crate::report::model::Time;
use crate::summary::{Fresh, InputSummary};
use crate::time::{self, OffsetSecs, Zone};

/// How far a wall-clock time can lie from UTC (offsets run from -12:00 to
/// +14:00), and an hour more.
pub const ZONE_SLACK: i64 = 15 * 3600;

/// Places stamps in time: zones from `--tz`, else the host's own zoned logs,
/// else the run's; years from `--year`, else the host's dated logs, else the
/// file's modification time (already applied by the parser).
pub struct Placer {
    tz: Option<Zone>,
    /// `--display-tz`, else `--tz`.
    display: Option<Zone>,
    host_offset: BTreeMap<String, OffsetSecs>,
    run_offset: Option<OffsetSecs>,
    host_span: BTreeMap<String, (i64, i64)>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ZoneFrom {
    Tz,
    Host(String),
    Run,
    Utc,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum YearFrom {
    Host(String, i64),
    Modified(i64),
}

impl Placer {
    /// From the requests counted, and from the zoned stamps every input
    /// read (`inputs`): a host whose dated lines `--since`/`--until` left
    /// out still gives its zone and its years to its other logs.
    pub fn new(
        buckets: &BucketSet,
        inputs: &[InputSummary],
        tz: Option<Zone>,
        display: Option<Zone>,
    ) -> Placer {
        let mut all: BTreeMap<OffsetSecs, u64> = BTreeMap::new();
        let mut host_offset = BTreeMap::new();
        let mut host_span: BTreeMap<String, (i64, i64)> = BTreeMap::new();
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
        for i in inputs {
            let zoned = |s: Option<Stamp>| match s {
                Some(Stamp::Zoned { utc, offset }) => Some((utc, offset)),
                _ => None,
            };
            let (Some((a, offset)), Some((b, _))) = (zoned(i.tally.first), zoned(i.tally.last))
            else {
                continue;
            };
            let host = i.lines_host();
            host_offset.entry(host.to_string()).or_insert(offset);
            all.entry(offset).or_insert(1);
            let span = host_span.entry(host.to_string()).or_insert((a, b));
            *span = (span.0.min(a), span.1.max(b));
        }
        let run_offset = all.iter().max_by_key(|(o, n)| (**n, -**o)).map(|(o, _)| *o);
        Placer {
            tz,
            display: display.or(tz),
            host_offset,
            run_offset,
            host_span,
        }
    }

    pub(crate) fn zone_for(&self, host: &str) -> (Zone, ZoneFrom) {
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

    /// The run's zone (`--display-tz`, else `--tz`, else the usual offset
    /// of its dated logs, else UTC): where an instant given without a zone
    /// is read.
    pub fn run_zone(&self) -> Zone {
        self.display
            .unwrap_or(Zone::Fixed(self.run_offset.unwrap_or(0)))
    }

    /// When `--tz` gives `host`'s zone-less logs an offset at `utc` other
    /// than the one its own dated logs write: both offsets.
    pub fn tz_disagrees(&self, host: &str, utc: i64) -> Option<(OffsetSecs, OffsetSecs)> {
        let tz = self.tz?.offset_at(utc);
        let own = *self.host_offset.get(host)?;
        (tz != own).then_some((tz, own))
    }

    /// The offset to show an instant of `host` in.
    pub fn display_offset(
        &self,
        host: Option<&str>,
        utc: i64,
        written: Option<OffsetSecs>,
    ) -> OffsetSecs {
        if let Some(z) = self.display {
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
        // Only the host's own dated logs: another host's years say nothing
        // of this one's (a 2014 kernel log is not from 1995 because a 1995
        // access log was read beside it).
        let Some(&(a, b)) = self.host_span.get(host) else {
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
        (best, YearFrom::Host(host.to_string(), year))
    }

    /// UTC instant and display offset of a stamp written by `host`, with
    /// what was assumed.
    pub fn place(&self, stamp: Stamp, host: &str) -> (Time, Option<ZoneFrom>, Option<YearFrom>) {
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
                            .display
                            .map_or_else(|| zone.offset_at(utc), |z| z.offset_at(utc)),
                    },
                    Some(zone_from),
                    year_from,
                )
            }
        }
    }
}

/// What was done with the lines of an hour the clock repeated: `before`
/// and `after` lines were placed in its first and second pass.
fn fold_note(path: &str, zone: &str, before: u64, after: u64, falls: u32) -> String {
    if after > 0 {
        format!(
            "{path}: its clock went back an hour ({zone}); the lines of the repeated hour were told apart by their order in the file: {before} written before the clock went back, {after} after"
        )
    } else {
        let seen = if falls > 0 {
            "the time written does not fall back within it"
        } else {
            "the file never shows its time falling back"
        };
        format!(
            "{path}: {before} lines fall in the hour its clock ({zone}) repeats, and {seen}: they were read as the hour's first pass (if another file holds the rest of that hour, they may be an hour early)"
        )
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
        YearFrom::Modified(y) => format!(
            "{path}: the log has no year; {y} taken from the file's modification time (--year to override)"
        ),
    }
}

/// An upstream failure count, placed: when, which, how many.
pub type PlacedFailure<'a> = (Time, &'a UpstreamKey, u64);

/// A signal's lines of one second, placed, with where the first one is
/// (`path:line`).
pub type PlacedSignal<'a> = (Time, &'a SignalKey, &'a SignalCount, String);

/// The place stage's state: the placer, the notes it wrote, and what the
/// local-time request series of fresh inputs added.
pub struct Placement<'c> {
    pub placer: Placer,
    /// `--since`/`--until` as UTC seconds, once a zone-less one is placed.
    pub since: Option<i64>,
    /// See `since`.
    pub until: Option<i64>,
    pub notes: BTreeSet<String>,
    /// Requests and 5xx of local-time series (HAProxy) in inputs this run
    /// read (not history).
    pub local: Fresh,
    config: &'c Config,
}

impl<'c> Placement<'c> {
    /// Builds the placer from the buckets, then places the requests
    /// counted in local time (HAProxy) in their host's zone, each second
    /// with the offset in force at it (a clock going back is noted), and
    /// merges them into the host's series.
    pub fn new(buckets: &mut BucketSet, inputs: &[InputSummary], config: &'c Config) -> Self {
        let mut p = Placement {
            placer: Placer::new(buckets, inputs, config.tz, config.display_tz),
            since: config.since,
            until: config.until,
            notes: BTreeSet::new(),
            local: Fresh::default(),
            config,
        };
        p.bounds(buckets);
        for ((input, host), series) in std::mem::take(&mut buckets.local_series) {
            let source = &inputs[input as usize];
            let Some((shifted, zone)) =
                p.place_local(series, &host, &source.display, source.history)
            else {
                continue;
            };
            if !source.history {
                p.local.add(&host, shifted.requests, shifted.errors);
                if let Some(zf) = zone {
                    p.notes
                        .insert(zone_note(&source.display, &zf, &p.placer, &host));
                }
            }
            buckets.series_mut(&host).merge(shifted);
        }
        // Their routes, placed the same way; their folding notes and zone
        // are the host's, said above.
        for ((input, host, route), series) in std::mem::take(&mut buckets.local_routes) {
            let display = &inputs[input as usize].display;
            if let Some((shifted, _)) = p.place_local(series, &host, display, true) {
                crate::merge::merge_entry(&mut buckets.routes, route, shifted);
            }
        }
        buckets.cap_routes(config.max_hosts);
        p
    }

    /// A local-time series of `host` read from the input shown as
    /// `display`, placed in the host's zone (each second with the offset
    /// in force at it; a clock going back noted unless `quiet`), with
    /// where the zone came from; `None` when it holds no second.
    fn place_local(
        &mut self,
        series: crate::bucket::LocalSeries,
        host: &str,
        display: &str,
        quiet: bool,
    ) -> Option<(crate::bucket::Series, Option<ZoneFrom>)> {
        let first = series.first_second()?;
        let stamp = Stamp::Local {
            naive: first,
            year_inferred: false,
        };
        let (_, zf, _) = self.placer.place(stamp, host);
        let (zone, _) = self.placer.zone_for(host);
        let falls = series.falls;
        let (first, second) = series.passes();
        let place = |pass: usize| {
            move |n: i64| match zone.places(n) {
                (a, Some(b)) => (if pass == 0 { a } else { b }, true),
                (a, None) => (a, false),
            }
        };
        let offset_at = |utc| zone.offset_at(utc);
        let (mut shifted, before) = first.placed(&place(0), &offset_at, self.since, self.until);
        let (again, after) = second.placed(&place(1), &offset_at, self.since, self.until);
        shifted.merge(again);
        if before + after > 0 && !quiet {
            self.notes
                .insert(fold_note(display, &zone.name(), before, after, falls));
        }
        Some((shifted, zf))
    }

    /// Places a zone-less `--since`/`--until` in the logs' zone (echoed in
    /// the notes), and cuts every series to the bounds: reading kept
    /// [`ZONE_SLACK`] either side of a zone-less bound, and a summary
    /// merged with bounds was read without them.
    fn bounds(&mut self, buckets: &mut BucketSet) {
        let zone = self.placer.run_zone();
        let c = self.config;
        for (flag, exact, local) in [
            ("--since", &mut self.since, c.since_local),
            ("--until", &mut self.until, c.until_local),
        ] {
            if let (None, Some(n)) = (*exact, local) {
                let utc = zone.to_utc(n);
                *exact = Some(utc);
                self.notes.insert(format!(
                    "{flag} has no zone: read in {}, the zone of the logs, as {}",
                    zone.name(),
                    time::rfc3339(utc, zone.offset_at(utc))
                ));
            }
        }
        if let (Some(a), Some(b)) = (self.since, self.until) {
            if a >= b {
                self.notes.insert(
                    "--since is not before --until once placed in the logs' zone: nothing lies between them".to_string(),
                );
            }
        }
        if self.since.is_none() && self.until.is_none() {
            return;
        }
        for series in buckets.all_series_mut() {
            if let Some(s) = self.since {
                series.trim_before(s);
            }
            if let Some(u) = self.until {
                series.split_after(u - 1);
            }
        }
        buckets.drop_empty_series();
    }

    /// Places a stamp of `host` read from `input`, noting the zone and year
    /// assumed (for inputs this run read).
    pub fn stamp(&mut self, input: &InputSummary, stamp: Stamp, host: &str) -> Time {
        let (t, zf, yf) = self.placer.place(stamp, host);
        if let (Some(zf), false) = (zf, input.history) {
            self.notes
                .insert(zone_note(&input.display, &zf, &self.placer, host));
        }
        if let (Some(yf), false) = (yf, input.history) {
            self.notes.insert(year_note(&input.display, &yf));
        }
        t
    }

    /// Places a rare event's stamp (OOM line, upstream failure, signal);
    /// `None` when it falls outside `--since`/`--until`.
    fn event(&mut self, input: &InputSummary, stamp: Stamp, host: &str) -> Option<Time> {
        let t = self.stamp(input, stamp, host);
        if let (Stamp::Local { .. }, false) = (stamp, input.history) {
            let (zone, _) = self.placer.zone_for(host);
            let wall = t.utc + i64::from(zone.offset_at(t.utc));
            if zone.places(wall).1.is_some() {
                self.notes.insert(format!(
                    "{}: an event at {} falls in the hour its clock ({}) repeats; it was read as the first pass (an hour later if it was written in the second)",
                    input.display,
                    crate::time::human(t.utc, zone.offset_at(t.utc)),
                    zone.name()
                ));
            }
        }
        let outside =
            self.since.is_some_and(|s| t.utc < s) || self.until.is_some_and(|u| t.utc >= u);
        (!outside).then_some(t)
    }

    /// The OOM-killer lines, placed, ready to be joined into kills.
    pub fn oom_lines(
        &mut self,
        buckets: &BucketSet,
        inputs: &[InputSummary],
    ) -> Vec<PlacedOomLine> {
        let mut placed = Vec::with_capacity(buckets.oom.len());
        for l in &buckets.oom {
            let input = &inputs[l.origin.input as usize];
            let Some(t) = self.event(input, l.stamp, &l.host) else {
                continue;
            };
            placed.push(PlacedOomLine {
                kind: l.kind,
                kill: kill_of(l, t, input),
            });
        }
        placed
    }

    /// Upstream failures (nginx error logs), placed.
    pub fn failures<'a>(
        &mut self,
        buckets: &'a BucketSet,
        inputs: &[InputSummary],
    ) -> Vec<PlacedFailure<'a>> {
        let mut out = Vec::with_capacity(buckets.upstream.len());
        for (k, n) in &buckets.upstream {
            let input = &inputs[k.input as usize];
            if let Some(t) = self.event(input, k.stamp, &k.host) {
                out.push((t, k, *n));
            }
        }
        out
    }

    /// Application and service signals, placed; a signal before any stamp
    /// of its file has no time to be placed at and is left out.
    pub fn signals<'a>(
        &mut self,
        buckets: &'a BucketSet,
        inputs: &[InputSummary],
    ) -> Vec<PlacedSignal<'a>> {
        let mut out = Vec::with_capacity(buckets.signals.len());
        for (k, c) in &buckets.signals {
            let Some(stamp) = k.stamp else {
                continue;
            };
            let input = &inputs[k.input as usize];
            if let Some(t) = self.event(input, stamp, &k.host) {
                let line = input.line_of(c.first);
                out.push((t, k, c, format!("{}:{line}", input.display)));
            }
        }
        out
    }
}

fn kill_of(l: &OomLine, t: Time, input: &InputSummary) -> OomKill {
    let line = input.line_of(l.origin);
    OomKill {
        utc: t.utc,
        offset: t.offset,
        host: l.host.clone(),
        victim: l.victim.clone(),
        trigger: None,
        source: format!("{}:{line}", input.display),
        container: None,
    }
}
