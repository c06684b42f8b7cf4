//! How many hosts get a series of their own: past the cap (`--max-hosts`),
//! the requests of the others are counted together, like Prometheus's
//! limit on head series, so that memory stays bounded when logs name hosts
//! by the hundred thousand. Totals stay exact.

use super::*;

/// The series the hosts past the cap are counted in. Syslog host names hold
/// no space; a directory so named would be counted with them.
pub const OTHER_HOSTS: &str = "(other hosts)";

/// The series the routes past the cap are counted in.
pub const OTHER_ROUTES: &str = "(other routes)";

/// How many hosts a run keeps a series for by default (`--max-hosts`).
pub const MAX_HOSTS: usize = 10_000;

/// The `max`-th smallest of `names` (sorted, without [`OTHER_HOSTS`]),
/// from which names are folded; `None` when there are no more than `max`.
fn fold_from<'a>(names: impl Iterator<Item = &'a str>, max: usize, other: &str) -> Option<String> {
    names.filter(|n| *n != other).nth(max).map(str::to_string)
}

/// `name`, or `other` when it is at or past `from` (the cap's first
/// folded name).
fn past(name: String, from: &str, other: &str) -> String {
    if name.as_str() >= from && name != other {
        other.to_string()
    } else {
        name
    }
}

impl BucketSet {
    /// Keeps a series for the `max` smallest host names (in sorted order)
    /// and counts the others' requests in [`OTHER_HOSTS`]: totals stay
    /// exact, only the per-host breakdown is cut. Folding the parts of a
    /// merge, or the merge, gives the same set: a name past the cap of a
    /// part is past it in any union. Local-time series are folded the same
    /// way by host name, each input apart. Rare events (kills, signals,
    /// upstream failures) keep their hosts: they are bounded by time.
    pub fn cap_hosts(&mut self, max: usize) {
        if let Some(from) = fold_from(self.series.keys().map(String::as_str), max, OTHER_HOSTS) {
            let mut rest = self.series.split_off(&from);
            let mut other = rest.remove(OTHER_HOSTS).unwrap_or_default();
            other.merge(self.series.remove(OTHER_HOSTS).unwrap_or_default());
            for (_, s) in rest {
                other.merge(s);
            }
            self.series.insert(OTHER_HOSTS.to_string(), other);
            self.note_folded(from);
        }
        let names: std::collections::BTreeSet<&str> =
            self.local_series.keys().map(|(_, h)| h.as_str()).collect();
        let hosts_from = fold_from(names.into_iter(), max, OTHER_HOSTS);
        if let Some(from) = &hosts_from {
            for ((input, host), s) in std::mem::take(&mut self.local_series) {
                let host = past(host, from, OTHER_HOSTS);
                merge_entry(&mut self.local_series, (input, host), s);
            }
            self.note_folded(from.clone());
        }
        // A local route's host is named as its series' is (the host names
        // its zone); its name is folded as the routes are.
        let names: std::collections::BTreeSet<&str> = self
            .local_routes
            .keys()
            .map(|(_, _, r)| r.as_str())
            .collect();
        let routes_from = fold_from(names.into_iter(), max, OTHER_ROUTES);
        if hosts_from.is_some() || routes_from.is_some() {
            for ((input, host, route), s) in std::mem::take(&mut self.local_routes) {
                let host = match &hosts_from {
                    Some(from) => past(host, from, OTHER_HOSTS),
                    None => host,
                };
                let route = match &routes_from {
                    Some(from) => past(route, from, OTHER_ROUTES),
                    None => route,
                };
                merge_entry(&mut self.local_routes, (input, host, route), s);
            }
        }
        if let Some(from) = routes_from {
            self.note_folded_routes(from);
        }
        self.cap_routes(max);
    }

    /// Folds the routes past `max` into [`OTHER_ROUTES`], as
    /// [`BucketSet::cap_hosts`] does the hosts.
    pub fn cap_routes(&mut self, max: usize) {
        let names = self.routes.keys().map(String::as_str);
        if let Some(from) = fold_from(names, max, OTHER_ROUTES) {
            let mut rest = self.routes.split_off(&from);
            let mut other = rest.remove(OTHER_ROUTES).unwrap_or_default();
            other.merge(self.routes.remove(OTHER_ROUTES).unwrap_or_default());
            for (_, s) in rest {
                other.merge(s);
            }
            self.routes.insert(OTHER_ROUTES.to_string(), other);
            self.note_folded_routes(from);
        }
    }

    pub(super) fn note_folded_routes(&mut self, from: String) {
        if self.folded_routes.as_ref().is_none_or(|f| from < *f) {
            self.folded_routes = Some(from);
        }
    }

    pub(super) fn note_folded(&mut self, from: String) {
        if self.folded.as_ref().is_none_or(|f| from < *f) {
            self.folded = Some(from);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Routes past the cap fold into one series, as hosts do, in any
    /// grouping of the parts: totals stay exact.
    #[test]
    fn routes_fold_past_the_cap() {
        let part = |names: &[&str]| {
            let mut b = BucketSet::default();
            for n in names {
                let s = b.routes.entry(format!("vhost {n}")).or_default();
                s.add_second(i64::from(n.as_bytes()[0]), 3, 1);
            }
            b
        };
        let mut a = part(&["a", "d", "e"]);
        a.cap_hosts(2);
        let mut b = part(&["b", "c"]);
        b.cap_hosts(2);
        a.merge(b);
        a.cap_hosts(2);
        let mut whole = part(&["a", "d", "e", "b", "c"]);
        whole.cap_hosts(2);
        assert_eq!(a.routes, whole.routes);
        let names: Vec<&str> = whole.routes.keys().map(String::as_str).collect();
        assert_eq!(names, [OTHER_ROUTES, "vhost a", "vhost b"]);
        assert_eq!(whole.routes[OTHER_ROUTES].requests, 9);
        assert_eq!(whole.folded_routes.as_deref(), Some("vhost c"));
        assert_eq!(a.folded_routes.as_deref(), Some("vhost c"));
    }

    /// Local-time routes (HAProxy's backends) fold by route name as the
    /// routes do and by host as the local series do, in any grouping.
    #[test]
    fn local_routes_fold_past_the_cap() {
        let part = |items: &[(&str, &str)]| {
            let mut b = BucketSet::default();
            for (host, route) in items {
                let r = Request {
                    utc: 1000,
                    offset: 0,
                    status: 502,
                    latency_ms: None,
                };
                let local = || {
                    let mut lb = LocalBuilder::default();
                    lb.add(&r, true);
                    lb.finish()
                };
                let key = (0, host.to_string(), format!("upstream {route}"));
                b.local_series
                    .entry((0, host.to_string()))
                    .or_default()
                    .merge(local());
                b.local_routes.entry(key).or_default().merge(local());
            }
            b
        };
        let all = [
            ("h1", "a"),
            ("h3", "d"),
            ("h2", "e"),
            ("h1", "b"),
            ("h4", "c"),
        ];
        let mut a = part(&all[..3]);
        a.cap_hosts(2);
        let mut b = part(&all[3..]);
        b.cap_hosts(2);
        a.merge(b);
        a.cap_hosts(2);
        let mut whole = part(&all);
        whole.cap_hosts(2);
        assert_eq!(a.local_routes, whole.local_routes);
        let keys: Vec<(&str, &str)> = whole
            .local_routes
            .keys()
            .map(|(_, h, r)| (h.as_str(), r.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                (OTHER_HOSTS, OTHER_ROUTES),
                ("h1", "upstream a"),
                ("h1", "upstream b"),
                ("h2", OTHER_ROUTES)
            ]
        );
        let total: u64 = whole.local_routes.values().map(LocalSeries::requests).sum();
        assert_eq!(total, 5);
        assert_eq!(whole.folded_routes.as_deref(), Some("upstream c"));
    }
}
