//! How many hosts get a series of their own: past the cap (`--max-hosts`),
//! the requests of the others are counted together, like Prometheus's
//! limit on head series, so that memory stays bounded when logs name hosts
//! by the hundred thousand. Totals stay exact.

use super::*;

/// The series the hosts past the cap are counted in. Syslog host names hold
/// no space; a directory so named would be counted with them.
pub const OTHER_HOSTS: &str = "(other hosts)";

/// How many hosts a run keeps a series for by default (`--max-hosts`).
pub const MAX_HOSTS: usize = 10_000;

/// The `max`-th smallest of `names` (sorted, without [`OTHER_HOSTS`]),
/// from which names are folded; `None` when there are no more than `max`.
fn fold_from<'a>(names: impl Iterator<Item = &'a str>, max: usize) -> Option<String> {
    names
        .filter(|n| *n != OTHER_HOSTS)
        .nth(max)
        .map(str::to_string)
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
        if let Some(from) = fold_from(self.series.keys().map(String::as_str), max) {
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
        if let Some(from) = fold_from(names.into_iter(), max) {
            let all = std::mem::take(&mut self.local_series);
            for ((input, host), s) in all {
                let host = if host.as_str() >= from.as_str() && host != OTHER_HOSTS {
                    OTHER_HOSTS.to_string()
                } else {
                    host
                };
                merge_entry(&mut self.local_series, (input, host), s);
            }
            self.note_folded(from);
        }
    }

    pub(super) fn note_folded(&mut self, from: String) {
        if self.folded.as_ref().is_none_or(|f| from < *f) {
            self.folded = Some(from);
        }
    }
}
