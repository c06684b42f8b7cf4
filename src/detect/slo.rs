//! SLO mode (`--slo 99.9`): multiwindow, multi-burn-rate alerting as the
//! Google SRE Workbook ("Alerting on SLOs") recommends. An alert fires when
//! the error budget burns at `factor` times the sustainable rate over both
//! a long and a short window: the long one makes it significant, the short
//! one makes it reset soon after the burning stops.
//!
//! Evaluated once a minute on the service's series (the sum of every
//! host), with prefix sums, so a month of logs costs a month of minutes.
//! An alert is evaluated only where the logs cover its long window (the
//! 3-day ticket needs three days of logs).

use std::fmt;

use crate::bucket::Series;

/// One alert: burn `factor` over `long` and over `short` (seconds).
#[derive(Clone, Copy, Debug, PartialEq)]
#[warn(missing_docs)]
pub struct BurnWindow {
    /// The long window, in seconds.
    pub long: i64,
    /// The short window, in seconds.
    pub short: i64,
    /// The burn rate both must reach: how many times faster than the SLO
    /// allows the error budget is spent.
    pub factor: f64,
}

impl fmt::Display for BurnWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}× over {} and {}",
            self.factor,
            crate::time::duration(self.long),
            crate::time::duration(self.short)
        )
    }
}

/// The workbook's three: page on 14.4× over 1 h (5 min), page on 6× over
/// 6 h (30 min), ticket on 1× over 3 days (6 h).
#[warn(missing_docs)]
pub const DEFAULT_WINDOWS: [BurnWindow; 3] = [
    BurnWindow {
        long: 3600,
        short: 300,
        factor: 14.4,
    },
    BurnWindow {
        long: 6 * 3600,
        short: 1800,
        factor: 6.0,
    },
    BurnWindow {
        long: 3 * 86_400,
        short: 6 * 3600,
        factor: 1.0,
    },
];

/// The SLO: a target share of good requests and up to three alerts.
#[derive(Clone, Copy, Debug, PartialEq)]
#[warn(missing_docs)]
pub struct Slo {
    /// 0.999 for 99.9 %.
    pub target: f64,
    windows: [BurnWindow; 3],
    count: usize,
}

/// The period an error budget is counted over (30 days), for the share of
/// it an incident spent.
pub const BUDGET_PERIOD: i64 = 30 * 86_400;

impl Slo {
    pub fn new(target: f64, windows: &[BurnWindow]) -> Result<Slo, String> {
        if !(0.0 < target && target < 1.0) {
            return Err(format!(
                "an SLO target is a percentage below 100 (99.9), not {}",
                target * 100.0
            ));
        }
        if windows.is_empty() || windows.len() > 3 {
            return Err("--slo-windows takes one to three LONG/SHORT/FACTOR alerts".into());
        }
        let mut w = DEFAULT_WINDOWS;
        for (i, x) in windows.iter().enumerate() {
            if x.short <= 0 || x.long < x.short || x.factor <= 0.0 || !x.factor.is_finite() {
                return Err(format!(
                    "{x}: the long window must be at least the short one, both positive, and the factor above 0"
                ));
            }
            w[i] = *x;
        }
        Ok(Slo {
            target,
            windows: w,
            count: windows.len(),
        })
    }

    pub fn budget(&self) -> f64 {
        1.0 - self.target
    }

    pub fn windows(&self) -> &[BurnWindow] {
        &self.windows[..self.count]
    }
}

/// Parses `1h/5m/14.4,6h/30m/6` into burn windows.
#[warn(missing_docs)]
pub fn parse_windows(s: &str) -> Result<Vec<BurnWindow>, String> {
    s.split(',')
        .map(|w| {
            let parts: Vec<&str> = w.trim().split('/').collect();
            let [long, short, factor] = parts[..] else {
                return Err(format!("'{w}' is not LONG/SHORT/FACTOR (1h/5m/14.4)"));
            };
            Ok(BurnWindow {
                long: crate::time::parse_duration(long)?,
                short: crate::time::parse_duration(short)?,
                factor: factor
                    .parse()
                    .map_err(|_| format!("'{factor}' is not a burn-rate factor"))?,
            })
        })
        .collect()
}

/// One alert period: from the minute an alert fired to the minute none
/// fired any more.
#[derive(Clone, Debug, PartialEq)]
pub struct Firing {
    /// Which of [`Slo::windows`] fired first.
    pub window: usize,
    /// The first second of the first burning minute before detection:
    /// onset.
    pub onset: i64,
    /// The end of the minute the first alert fired in.
    pub detected: i64,
    /// The end of the last minute any alert fired in.
    pub last: i64,
    /// The first minute after it with no alert firing: reset.
    pub reset: i64,
    /// The burn rate over the short window when it fired.
    pub burn: f64,
    /// The highest burn rate over the firing short window.
    pub peak_burn: f64,
}

/// Every alert period of `series` under `slo`, alerts that fire less than
/// `cooldown` apart joined. `min_errors` applies to the short window.
pub fn firings(series: &Series, slo: &Slo, min_errors: u64, cooldown: i64) -> Vec<Firing> {
    let Some((first, last)) = series.span() else {
        return Vec::new();
    };
    let m0 = first.div_euclid(60);
    let m1 = last.div_euclid(60);
    let n = (m1 - m0 + 1) as usize;
    // Prefix sums of requests and 5xx per minute.
    let (mut pr, mut pe) = (vec![0u64; n + 1], vec![0u64; n + 1]);
    for (m, c) in series.per_minute() {
        let i = (m.div_euclid(60) - m0) as usize;
        pr[i + 1] = c.requests;
        pe[i + 1] = c.errors;
    }
    for i in 0..n {
        pr[i + 1] += pr[i];
        pe[i + 1] += pe[i];
    }
    // Requests and 5xx of the `len` seconds ending with minute i.
    let sums = |i: usize, len: i64| {
        let k = (len / 60).max(1) as usize;
        let a = (i + 1).saturating_sub(k);
        (pr[i + 1] - pr[a], pe[i + 1] - pe[a])
    };
    let budget = slo.budget();
    let burn = |(r, e): (u64, u64)| {
        if r == 0 {
            0.0
        } else {
            e as f64 / r as f64 / budget
        }
    };
    let mut out: Vec<Firing> = Vec::new();
    for i in 0..n {
        // An alert is evaluated once the logs cover its long window: an
        // alerting system would have had that history, and a window cut
        // short by the start of the logs is not the rate it alerts on.
        let fired = slo.windows().iter().position(|w| {
            if ((i + 1) as i64) * 60 < w.long {
                return false;
            }
            let short = sums(i, w.short);
            short.1 >= min_errors && burn(short) >= w.factor && burn(sums(i, w.long)) >= w.factor
        });
        let Some(w) = fired else {
            continue;
        };
        let minute_end = (m0 + i as i64) * 60 + 59;
        let peak = burn(sums(i, slo.windows()[w].short));
        match out.last_mut() {
            Some(f) if minute_end - f.last <= cooldown => {
                f.last = minute_end;
                f.reset = minute_end + 1;
                f.peak_burn = f.peak_burn.max(peak);
            }
            _ => {
                // Onset: walk back over the minutes that burnt at the
                // alert's rate, within its short window.
                let factor = slo.windows()[w].factor;
                let back = (slo.windows()[w].short / 60).max(1) as usize;
                let mut j = i;
                while j > 0 && i - j + 1 < back && burn(sums(j - 1, 60)) >= factor {
                    j -= 1;
                }
                out.push(Firing {
                    window: w,
                    onset: (m0 + j as i64) * 60,
                    detected: minute_end,
                    last: minute_end,
                    reset: minute_end + 1,
                    burn: peak,
                    peak_burn: peak,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Request;

    /// `rate` requests a second for `hours`, 5xx where `bad(t, k)`.
    fn series(hours: i64, rate: i64, bad: impl Fn(i64, i64) -> bool) -> Series {
        let mut s = Series::default();
        for t in 0..hours * 3600 {
            for k in 0..rate {
                s.add(&Request {
                    utc: t,
                    offset: 0,
                    status: if bad(t, k) { 503 } else { 200 },
                    latency_ms: None,
                });
            }
        }
        s
    }

    #[test]
    fn fast_burn_fires_and_resets() {
        let slo = Slo::new(0.999, &DEFAULT_WINDOWS).unwrap();
        // 0.01 % background (a tenth of the budget), then 20 % for 10 min
        // (200× burn) two hours in.
        let (a, z) = (7200, 7800);
        let s = series(4, 10, |t, k| {
            if (a..z).contains(&t) {
                k < 2
            } else {
                (t * 10 + k) % 10_000 == 0
            }
        });
        let f = firings(&s, &slo, 10, 300);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].window, 0, "the fast burn fires first");
        assert_eq!(f[0].onset, a);
        // 14.4× over 1 h needs 14.4 × 0.1 % × 36,000 = 518 5xx in the
        // hour: 120 a minute, the fifth minute.
        assert!(f[0].detected > a + 240 && f[0].detected < a + 300, "{f:?}");
        assert!((190.0..210.0).contains(&f[0].burn), "{f:?}");
        // Resets within the short window after the burning stops.
        assert!(f[0].reset > z && f[0].reset <= z + 300 + 60, "{f:?}");
        assert!(f[0].peak_burn >= 190.0);
    }

    #[test]
    fn a_budget_kept_never_fires() {
        let slo = Slo::new(0.99, &DEFAULT_WINDOWS).unwrap();
        // 0.5 %: half the budget, all day.
        let s = series(4, 10, |t, k| (t * 10 + k) % 200 == 0);
        assert!(firings(&s, &slo, 10, 300).is_empty());
    }

    #[test]
    fn windows_parse_and_are_checked() {
        let w = parse_windows("1h/5m/14.4, 6h/30m/6").unwrap();
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].long, 3600);
        assert_eq!(w[1].factor, 6.0);
        assert!(parse_windows("1h/5m").is_err());
        assert!(Slo::new(0.999, &parse_windows("5m/1h/2").unwrap()).is_err());
        assert!(Slo::new(1.2, &DEFAULT_WINDOWS).is_err());
        assert!(Slo::new(0.999, &[]).is_err());
    }
}
