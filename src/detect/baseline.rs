//! The baseline rule: a series' normal 5xx share, minute by minute, and
//! whether a window is well above it.

use super::*;

/// A series' normal 5xx share, minute by minute: the median of the
/// per-minute shares from [`BASELINE_FROM`] to [`BASELINE_TO`] before the
/// minute, leaving out minutes that held a bad second (the incident is not
/// its own normal) and the last minutes before it (an outage's slow start).
/// Until [`BASELINE_MIN_MINUTES`] such minutes exist, the median of the
/// series' first hour stands in (a median: an outage shorter than half
/// of it does not move it).
pub const BASELINE_FROM: i64 = 60 * 60;
pub const BASELINE_TO: i64 = 10 * 60;
pub const BASELINE_MIN_MINUTES: usize = 20;
/// A bad share is at least this many times the baseline share…
pub const BASELINE_FACTOR: f64 = 3.0;
/// …and at least this much above it.
pub const BASELINE_MARGIN: f64 = 0.01;
/// A share above this is never normal: a series failing this much all
/// along (or over most of a short log) still alerts at three times it.
pub const BASELINE_CEILING: f64 = 0.15;
/// The 5xx beyond what the baseline explains, in binomial standard
/// deviations.
pub const BASELINE_Z: f64 = 4.0;

pub(super) struct Baseline {
    /// (minute, requests, 5xx) of every minute with a request.
    minutes: Vec<(i64, u64, u64)>,
    /// Minutes that held a bad second.
    pub(super) bad: BTreeSet<i64>,
    /// The median share of the first hour.
    initial: f64,
    /// The minute the cached share is for, and the share.
    cached: Option<(i64, f64)>,
}

impl Baseline {
    pub(super) fn new(series: &Series) -> Baseline {
        let minutes: Vec<(i64, u64, u64)> = series
            .per_minute()
            .into_iter()
            .map(|(m, c)| (m, c.requests, c.errors))
            .collect();
        let first = minutes.first().map_or(0, |m| m.0);
        let mut shares: Vec<f64> = minutes
            .iter()
            .take_while(|m| m.0 < first + BASELINE_FROM)
            .map(|m| m.2 as f64 / m.1 as f64)
            .collect();
        Baseline {
            initial: median(&mut shares),
            minutes,
            bad: BTreeSet::new(),
            cached: None,
        }
    }

    /// The normal share for second `t`.
    pub(super) fn share(&mut self, t: i64) -> f64 {
        let minute = t.div_euclid(60) * 60;
        if let Some((m, share)) = self.cached {
            if m == minute {
                return share;
            }
        }
        let (from, to) = (minute - BASELINE_FROM, minute - BASELINE_TO);
        let lo = self.minutes.partition_point(|m| m.0 < from);
        let mut shares: Vec<f64> = self.minutes[lo..]
            .iter()
            .take_while(|m| m.0 < to)
            .filter(|m| !self.bad.contains(&m.0))
            .map(|m| m.2 as f64 / m.1 as f64)
            .collect();
        let share = if shares.len() >= BASELINE_MIN_MINUTES {
            median(&mut shares)
        } else {
            self.initial
        };
        self.cached = Some((minute, share));
        share
    }

    /// Whether a window of `r` requests and `e` 5xx at second `t` is well
    /// above normal.
    pub(super) fn bad(&mut self, t: i64, r: u64, e: u64) -> bool {
        let m = self.share(t).min(BASELINE_CEILING);
        let share = e as f64 / r as f64;
        let bar = (m * BASELINE_FACTOR).max(m + BASELINE_MARGIN);
        let p = m.max(0.001);
        let expected = r as f64 * p;
        share >= bar && e as f64 >= expected + BASELINE_Z * (expected * (1.0 - p)).sqrt()
    }
}

pub(super) fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
