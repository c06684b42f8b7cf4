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

/// What a host's or route's builder counts, request by request.
pub trait Builds: Default {
    /// Counts a request; `error` when its status is one the run counts.
    fn add(&mut self, r: &Request, error: bool);
}

impl Builds for SeriesBuilder {
    #[inline(always)]
    fn add(&mut self, r: &Request, error: bool) {
        SeriesBuilder::add(self, r, error);
    }
}

impl Builds for super::local::LocalBuilder {
    #[inline(always)]
    fn add(&mut self, r: &Request, error: bool) {
        super::local::LocalBuilder::add(self, r, error);
    }
}

/// A map keyed by names log lines hold (hosts, routes): SipHash with a
/// random key, so no log can choose names that collide.
type NameIndex = std::collections::HashMap<Vec<u8>, usize>;

/// The builders of the hosts a block's lines name (a proxy's syslog
/// frame). Consecutive lines nearly always name the host the line before
/// did, so it is compared first; the others are looked up by the borrowed
/// name (no allocation per line). Boxed: a block of syslog lines can name
/// tens of thousands of hosts, and the list keeps room for up to twice as
/// many as it holds.
pub struct HostBuilders<B> {
    index: NameIndex,
    builders: Vec<(Vec<u8>, Box<B>)>,
    last: usize,
}

impl<B> Default for HostBuilders<B> {
    fn default() -> Self {
        HostBuilders {
            index: NameIndex::default(),
            builders: Vec::new(),
            last: 0,
        }
    }
}

impl<B: Default> HostBuilders<B> {
    /// The builder of `host`, made empty the first time it is named.
    #[inline]
    pub fn get(&mut self, host: &[u8]) -> &mut B {
        match self.builders.get(self.last) {
            Some((had, _)) if had[..] == *host => {}
            _ => {
                self.last = match self.index.get(host) {
                    Some(&i) => i,
                    None => self.insert(host),
                }
            }
        }
        &mut self.builders[self.last].1
    }

    #[cold]
    fn insert(&mut self, host: &[u8]) -> usize {
        let i = self.builders.len();
        self.index.insert(host.to_vec(), i);
        self.builders.push((host.to_vec(), Box::default()));
        i
    }

    /// Each host with its builder, in the order they were first named.
    pub fn into_hosts(self) -> impl Iterator<Item = (Vec<u8>, B)> {
        self.builders.into_iter().map(|(h, b)| (h, *b))
    }
}

/// The series of the routes a block's requests name, each built as a
/// host's is. Consecutive requests often share a route, so the last one
/// is tried first; the others are found by a scan while a block has named
/// few, else through a small cache of recent names (a slot per cheap
/// fingerprint, the name compared), else in a map per kind (looked up by
/// the borrowed name: no allocation per line).
pub struct RouteBuilders<B = SeriesBuilder> {
    index: [NameIndex; 3],
    builders: Vec<(Route<'static>, B)>,
    last: usize,
    /// Per slot, the index of a builder whose name has that slot's
    /// fingerprint, plus one (0: empty). A hit is checked against the
    /// name, so colliding names only miss. Made once a block names more
    /// than [`SCAN`] routes (a host's local routes each have theirs).
    recent: Option<Box<[u32; RECENT]>>,
}

impl<B> Default for RouteBuilders<B> {
    fn default() -> Self {
        RouteBuilders {
            index: Default::default(),
            builders: Vec::new(),
            last: 0,
            recent: None,
        }
    }
}

/// Slots of [`RouteBuilders::recent`].
const RECENT: usize = 256;

/// A route's slot in [`RouteBuilders::recent`]: its kind, length and
/// first and last eight bytes, mixed.
#[inline]
fn slot(route: &Route) -> usize {
    let name = &route.name[..];
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        w[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(w)
    };
    let head = word(&name[..name.len().min(8)]);
    let tail = word(&name[name.len().saturating_sub(8)..]);
    let mixed = (head ^ tail.rotate_left(29) ^ ((name.len() as u64) << 3 | route.kind as u64))
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> 56) as usize % RECENT
}

/// Routes a block names before look-ups go through the map.
const SCAN: usize = 8;

impl<B: Builds> RouteBuilders<B> {
    /// Counts request `r` (an error when `error`) on `route`.
    #[inline]
    pub fn add(&mut self, route: &Route, r: &Request, error: bool) {
        let same = |(had, _): &(Route, B)| had.kind == route.kind && had.name == route.name;
        let i = match self.builders.get(self.last) {
            Some(b) if same(b) => self.last,
            _ if self.builders.len() <= SCAN => match self.builders.iter().position(same) {
                Some(i) => i,
                None => self.insert(route),
            },
            _ => {
                let k = slot(route);
                let recent = self.recent.get_or_insert_with(|| Box::new([0; RECENT]));
                match (recent[k] as usize).checked_sub(1) {
                    Some(i) if same(&self.builders[i]) => i,
                    _ => {
                        let i = match self.index[route.kind as usize].get(&*route.name) {
                            Some(i) => *i,
                            None => self.insert(route),
                        };
                        if let Some(recent) = self.recent.as_mut() {
                            recent[k] = i as u32 + 1;
                        }
                        i
                    }
                }
            }
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
        self.builders.push((owned, B::default()));
        i
    }

    /// Each route with its builder.
    pub fn into_routes(self) -> impl Iterator<Item = (Route<'static>, B)> {
        self.builders.into_iter()
    }
}

impl RouteBuilders {
    /// Puts every route's series into `b`.
    pub fn finish(self, b: &mut BucketSet) {
        for (route, builder) in self.into_routes() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::RouteKind;

    /// Past the scan, through the cache of recent names and the map:
    /// more routes than the cache has slots (so names share slots), of
    /// every kind, in an order that rarely repeats the last; each route
    /// counts exactly its requests.
    #[test]
    fn many_routes_count_exactly() {
        let mut routes = RouteBuilders::default();
        let mut want = std::collections::BTreeMap::new();
        for k in 0..20_000u32 {
            let name = format!("10.0.{}.{}:80", k % 7, (k * 31) % 300);
            let kind = RouteKind::ALL[(k % 3) as usize];
            let route = Route {
                kind,
                name: std::borrow::Cow::Borrowed(name.as_bytes()),
            };
            let r = Request {
                utc: 1_675_321_200 + i64::from(k % 600),
                offset: 0,
                status: if k % 5 == 0 { 502 } else { 200 },
                latency_ms: None,
            };
            routes.add(&route, &r, r.status >= 500);
            let e = want.entry(route.key()).or_insert((0u64, 0u64));
            e.0 += 1;
            e.1 += u64::from(r.status >= 500);
        }
        let mut b = BucketSet::default();
        routes.finish(&mut b);
        let got: std::collections::BTreeMap<String, (u64, u64)> = b
            .routes
            .iter()
            .map(|(k, s)| (k.clone(), (s.requests, s.errors)))
            .collect();
        assert!(want.len() > RECENT, "{}", want.len());
        assert_eq!(got, want);
    }

    /// Hosts named in runs and interleaved: each keeps its own builder,
    /// and they come back in the order first named.
    #[test]
    fn hosts_keep_their_builders() {
        let mut hosts = HostBuilders::<u64>::default();
        let mut want = std::collections::HashMap::new();
        for k in 0..5_000u32 {
            let host = format!("h{}", if k % 3 == 0 { k % 400 } else { k / 50 });
            *hosts.get(host.as_bytes()) += 1;
            *want.entry(host.into_bytes()).or_insert(0u64) += 1;
        }
        let got: Vec<(Vec<u8>, u64)> = hosts.into_hosts().collect();
        assert_eq!(got.len(), want.len());
        assert_eq!(got[0].0, b"h0");
        assert_eq!(got[1].0, b"h3");
        for (h, n) in got {
            assert_eq!(want[&h], n, "{}", String::from_utf8_lossy(&h));
        }
    }
}
