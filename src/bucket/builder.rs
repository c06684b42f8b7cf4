//! Building a series from a block's requests, on the hot path.

use super::*;
use crate::format::Route;

/// Builds a [`Series`] from requests in the order a log holds them, keeping
/// the current hour and offset at hand: consecutive lines nearly always
/// share both, so the hot path costs no map look-up per line.
#[derive(Default)]
pub struct SeriesBuilder {
    series: Series,
    hour_key: i64,
    /// The hour being filled (listed while few seconds are busy: a block
    /// that holds many hosts has a builder for each at once).
    hour: Option<Hour>,
    offset: OffsetSecs,
    offset_count: u64,
    /// The minute being filled with durations, kept out of the map.
    latency: Option<(i64, LatencyHist)>,
}

impl SeriesBuilder {
    /// Counts a request; `error` when its status is one the run counts
    /// as an error (`--errors`).
    #[inline(always)]
    pub fn add(&mut self, r: &Request, error: bool) {
        let h = r.utc.div_euclid(HOUR);
        if self.hour.is_none() || h != self.hour_key {
            self.switch_hour(h);
        }
        let s = r.utc.rem_euclid(HOUR) as usize;
        match self.hour.as_mut() {
            // The busy hours of a busy log: a slot per second.
            Some(Hour::Dense(d)) => {
                d.requests[s] = d.requests[s].saturating_add(1);
                d.errors[s] = d.errors[s].saturating_add(u32::from(error));
            }
            Some(hour) => hour.add(s, 1, u32::from(error)),
            None => unreachable!("switched above"),
        }
        self.series.requests += 1;
        if error {
            self.series.errors += 1;
            *self.series.status.entry((r.utc, r.status)).or_insert(0) += 1;
        }
        if r.offset != self.offset || self.offset_count == 0 {
            self.flush_offset();
            self.offset = r.offset;
        }
        self.offset_count += 1;
        if let Some(ms) = r.latency_ms {
            self.add_latency(r.utc, ms);
        }
    }

    #[inline]
    fn add_latency(&mut self, utc: i64, ms: u32) {
        let m = minute_of(utc);
        match &mut self.latency {
            Some((at, h)) if *at == m => h.add(ms),
            _ => {
                self.flush_latency();
                let mut h = self.series.latency.remove(&m).unwrap_or_default();
                h.add(ms);
                self.latency = Some((m, h));
            }
        }
    }

    fn flush_latency(&mut self) {
        if let Some((m, h)) = self.latency.take() {
            merge_entry(&mut self.series.latency, m, h);
        }
    }

    #[cold]
    fn switch_hour(&mut self, h: i64) {
        if let Some(old) = self.hour.take() {
            self.series.hours.insert(self.hour_key, old);
        }
        self.hour = Some(self.series.hours.remove(&h).unwrap_or_default());
        self.hour_key = h;
    }

    /// Counts the client and path of the 5xx just added.
    #[cold]
    pub fn add_detail(&mut self, utc: i64, d: &Detail) {
        self.series.add_detail(utc, d);
    }

    fn flush_offset(&mut self) {
        if self.offset_count > 0 {
            *self.series.offsets.entry(self.offset).or_insert(0) += self.offset_count;
            self.offset_count = 0;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.series.requests == 0
    }

    pub fn finish(mut self) -> Series {
        if let Some(old) = self.hour.take() {
            self.series.hours.insert(self.hour_key, old);
        }
        self.flush_offset();
        self.flush_latency();
        self.series
    }
}

/// The series of the routes a block's requests name, each built as a
/// host's is. Consecutive requests often share a route, so the last one
/// is tried first; the others are found by a scan while a block has named
/// few, else in a map per kind (looked up by the borrowed name: no
/// allocation per line).
#[derive(Default)]
pub struct RouteBuilders {
    index: [std::collections::HashMap<Vec<u8>, usize, xxhash_rust::xxh3::Xxh3DefaultBuilder>; 3],
    builders: Vec<(Route<'static>, SeriesBuilder)>,
    last: usize,
}

/// Routes a block names before look-ups go through the map.
const SCAN: usize = 8;

impl RouteBuilders {
    /// Counts request `r` (an error when `error`) on `route`.
    #[inline]
    pub fn add(&mut self, route: &Route, r: &Request, error: bool) {
        let same =
            |(had, _): &(Route, SeriesBuilder)| had.kind == route.kind && had.name == route.name;
        let i = match self.builders.get(self.last) {
            Some(b) if same(b) => self.last,
            _ if self.builders.len() <= SCAN => match self.builders.iter().position(same) {
                Some(i) => i,
                None => self.insert(route),
            },
            _ => match self.index[route.kind as usize].get(&*route.name) {
                Some(i) => *i,
                None => self.insert(route),
            },
        };
        self.last = i;
        self.builders[i].1.add(r, error);
    }

    #[cold]
    fn insert(&mut self, route: &Route) -> usize {
        let i = self.builders.len();
        let name = route.name.to_vec();
        self.index[route.kind as usize].insert(name.clone(), i);
        let owned = Route {
            kind: route.kind,
            name: std::borrow::Cow::Owned(name),
        };
        self.builders.push((owned, SeriesBuilder::default()));
        i
    }

    /// Puts every route's series into `b`.
    pub fn finish(self, b: &mut BucketSet) {
        for (route, builder) in self.builders {
            merge_entry(&mut b.routes, route.key(), builder.finish());
        }
    }
}

/// Seconds counted whole rather than request by request: simulated
/// traffic in the tests, and pre-aggregated series.
impl Series {
    /// Counts a whole second at once: `requests` requests of which
    /// `errors` were 5xx (counted as 500), written in UTC. For simulations
    /// of traffic at the series level (the detection benchmarks), where
    /// adding a request at a time would dominate the run.
    pub fn add_second(&mut self, t: i64, requests: u32, errors: u32) {
        let errors = errors.min(requests);
        self.add_counts(t, requests, errors, &[(500, errors)], 0);
    }

    /// Counts `requests` at second `t`, `errors` of them failed, of which
    /// `statuses` (status, count) are known by status (the rest are not),
    /// written with UTC offset `offset`: a second of a pre-aggregated
    /// series ([`crate::series_csv`]). The caller keeps `errors` within
    /// `requests` and the statuses within `errors`.
    pub fn add_counts(
        &mut self,
        t: i64,
        requests: u32,
        errors: u32,
        statuses: &[(u16, u32)],
        offset: OffsetSecs,
    ) {
        if requests == 0 {
            return;
        }
        let (h, s) = (t.div_euclid(HOUR), t.rem_euclid(HOUR) as usize);
        self.hours.entry(h).or_default().add(s, requests, errors);
        self.requests += u64::from(requests);
        self.errors += u64::from(errors);
        for &(status, n) in statuses.iter().filter(|(_, n)| *n > 0) {
            *self.status.entry((t, status)).or_insert(0) += n;
        }
        *self.offsets.entry(offset).or_insert(0) += u64::from(requests);
    }
}
