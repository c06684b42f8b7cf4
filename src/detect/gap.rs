//! Traffic gaps: silences the hour before predicted traffic in.

use super::*;

/// A traffic gap needs the preceding hour's rate to predict this many
/// requests in the silence.
pub const GAP_MIN_EXPECTED: f64 = 30.0;

/// A traffic gap needs at least this many requests in the hour before it:
/// a rate read off fewer is too unsure to stretch over a long silence (a
/// handful of requests an hour, then none for days, is a log that does
/// not cover those days as much as an outage; it used to be reported as
/// one, with "about 245,323 requests expected").
pub const GAP_MIN_BEFORE: u64 = 30;

/// The share of the hour before a silence in which a window of `--gap`
/// may lie silent, at or above which silence is the series' normal state
/// and a silence is no gap.
pub const GAP_BURSTY_SHARE: f64 = 0.5;

/// Silences of ≥ `gap` in a host's requests whose preceding hour holds at
/// least [`GAP_MIN_BEFORE`] requests and predicts at least
/// [`GAP_MIN_EXPECTED`] in them, unless the
/// series was silent most of that hour (see [`silent_share`]); overlapping
/// silences of several hosts are one incident.
pub(super) fn traffic_gaps(series: &[&Series], hosts: &[&String], p: &Params) -> Vec<Incident> {
    let mut gaps: Vec<(i64, i64, usize, u64)> = Vec::new();
    for (i, s) in series.iter().enumerate() {
        let mut prev: Option<i64> = None;
        // The series' earlier silences of ≥ gap that end within the hour.
        let mut silences: std::collections::VecDeque<(i64, i64)> = Default::default();
        for (t, _, _) in s.seconds() {
            if let Some(a) = prev {
                if t - a >= p.gap {
                    while silences.front().is_some_and(|&(_, y)| y <= a - 3600) {
                        silences.pop_front();
                    }
                    let (hour_before, _) = s.sum(a - 3599, a);
                    let expected = hour_before as f64 * (t - a) as f64 / 3600.0;
                    if expected >= GAP_MIN_EXPECTED
                        && hour_before >= GAP_MIN_BEFORE
                        && silent_share(&silences, a, p.gap) < GAP_BURSTY_SHARE
                    {
                        gaps.push((a, t, i, expected.round() as u64));
                    }
                    silences.push_back((a, t));
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

/// The share of the hour before `a` in which a window of `gap` seconds
/// could start and hold no request, from the series' silences of at least
/// `gap` (last request, next request) before `a`. A log whose traffic comes
/// in bursts with long silences between them — a log sampled a minute an
/// hour, a batch client, a cron-driven endpoint — is silent most of the
/// hour, and a further silence is its normal, not an outage; a steady
/// series' share is 0, and a host that flapped once in the hour stays well
/// below one half. Time before the series' first request counts as not
/// silent, as the rate's hour counts it as no traffic.
pub(super) fn silent_share(
    silences: &std::collections::VecDeque<(i64, i64)>,
    a: i64,
    gap: i64,
) -> f64 {
    // Window starts w in [a - 3600, a - gap]: [w, w + gap] lies inside a
    // silence (x, y) when x < w and w + gap < y.
    let (lo, hi) = (a - 3600, a - gap);
    if hi <= lo {
        return 0.0;
    }
    let silent: i64 = silences
        .iter()
        .map(|&(x, y)| ((y - gap).min(hi) - (x + 1).max(lo)).max(0))
        .sum();
    silent as f64 / (hi - lo) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silent_share_counts_windows_inside_silences() {
        let gap = 300;
        let a = 10_000;
        let none = std::collections::VecDeque::new();
        assert_eq!(silent_share(&none, a, gap), 0.0);
        // Silent from a - 3540 to a - 60 (59 min of the hour, as a log
        // sampled a minute an hour): most window starts are silent.
        let sampled: std::collections::VecDeque<_> = [(a - 3540, a - 60)].into();
        let s = silent_share(&sampled, a, gap);
        assert!((0.95..0.97).contains(&s), "{s}");
        // One 10-minute silence in the hour: well below one half.
        let flap: std::collections::VecDeque<_> = [(a - 2400, a - 1800)].into();
        let s = silent_share(&flap, a, gap);
        assert!((0.08..0.1).contains(&s), "{s}");
        // A silence shorter than the window holds no window; one before
        // the hour counts only within it.
        let short: std::collections::VecDeque<_> = [(a - 1000, a - 800)].into();
        assert_eq!(silent_share(&short, a, gap), 0.0);
        let old: std::collections::VecDeque<_> = [(a - 9000, a - 3000)].into();
        let s = silent_share(&old, a, gap);
        assert!((0.08..0.1).contains(&s), "{s}");
    }

    fn gaps_of(b: &crate::bucket::BucketSet) -> Vec<(i64, i64)> {
        super::super::detect(b, &[], &Params::default())
            .iter()
            .filter(|i| i.kind == Kind::TrafficGap)
            .map(|i| (i.start, i.end))
            .collect()
    }

    /// A log sampled a minute an hour (Elastic's example Apache log, real
    /// traffic of 2015, holds xx:05:00–xx:05:59 of each hour): the first
    /// silence, with nothing before it to say it is normal, is a gap; the
    /// 23 after it are not. A host that flaps twice in an hour of steady
    /// traffic keeps both gaps.
    #[test]
    fn a_sampled_log_is_not_a_gap_an_hour() {
        let mut b = crate::bucket::BucketSet::default();
        for h in 0..24 {
            for t in h * 3600 + 300..h * 3600 + 360 {
                b.series_mut("a").add_second(t, 2, 0);
            }
        }
        assert_eq!(gaps_of(&b), vec![(359, 3900)]);
        let mut b = crate::bucket::BucketSet::default();
        for t in (0..4 * 3600).filter(|t| !(5000..5600).contains(t) && !(6800..7400).contains(t)) {
            b.series_mut("a").add_second(t, 1, 0);
        }
        assert_eq!(gaps_of(&b), vec![(4999, 5600), (6799, 7400)]);
    }

    /// Eleven requests in an hour, then none for two years (Elastic Beats'
    /// ingress-nginx test log): the rate is read off too few requests to
    /// stretch over the silence. Thirty in the hour are enough, over a
    /// silence they predict thirty requests in.
    #[test]
    fn a_rate_of_a_handful_of_requests_predicts_no_gap() {
        let mut b = crate::bucket::BucketSet::default();
        for t in (0..11).map(|i| i * 300) {
            b.series_mut("a").add_second(t, 1, 0);
        }
        b.series_mut("a").add_second(80_000_000, 1, 0);
        assert_eq!(gaps_of(&b), vec![]);
        let mut b = crate::bucket::BucketSet::default();
        for t in (0..30).map(|i| i * 120) {
            b.series_mut("a").add_second(t, 1, 0);
        }
        b.series_mut("a").add_second(3480 + 3600, 1, 0);
        assert_eq!(gaps_of(&b), vec![(3480, 7080)]);
    }
}
