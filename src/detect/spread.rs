//! How much a series' share wanders beyond what counting explains: the
//! spread of its minutes' log shares (or of blocks of minutes), measured
//! as a sample variance with its degrees of freedom, or read off the
//! median where the minutes may hold an outage.

/// Minutes tell the log share's spread only when they hold this many 5xx
/// at the normal share.
pub(super) const LOG_MIN_EXPECTED: f64 = 20.0;
/// How much a new minute's log share may spread beyond what counting
/// explains (a share estimated from `k` 5xx varies by about 1/k in log),
/// as measured on minutes that hold at least [`LOG_MIN_EXPECTED`] 5xx at
/// the normal share.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct LogSpread {
    /// The variance: the minutes' sample variance, widened by 1 + 1/n for
    /// their mean being estimated too, less counting's.
    pub(super) var: f64,
    /// Its degrees of freedom, n − 1: a new minute is judged at Student's
    /// t quantile with as many. Where the spread is read off the median
    /// (the first hour, which may hold an outage), the variance is instead
    /// taken at its upper bound (two standard errors) and this is
    /// infinite.
    pub(super) df: f64,
}

/// The [`LogSpread`] of `minutes` around `share`, or `None` when fewer
/// than `least` of them hold [`LOG_MIN_EXPECTED`] 5xx at it. Measured on
/// the day before as well, the one that judges lower is taken (see
/// `Baseline::compute`).
pub(super) fn measured_log_spread(
    minutes: &[(u64, u64)],
    share: f64,
    robust: bool,
    least: usize,
) -> Option<LogSpread> {
    let logs: Vec<(f64, f64)> = minutes
        .iter()
        .filter(|(ri, _)| *ri as f64 * share >= LOG_MIN_EXPECTED)
        .map(|&(ri, ei)| {
            let expected = ri as f64 * share;
            (
                (ei as f64 + 0.5).ln() - expected.ln(),
                (1.0 - share) / expected,
            )
        })
        .collect();
    if logs.len() < least.max(2) {
        return None;
    }
    let n = logs.len() as f64;
    let counting = logs.iter().map(|l| l.1).sum::<f64>() / n;
    let (var, df) = if robust {
        let mut d: Vec<f64> = logs.iter().map(|l| l.0).collect();
        let mid = median(&mut d);
        let spread = robust_variance(d.iter().map(|x| x - mid));
        (
            spread * (1.0 + 2.0 * (2.0 / (n - 1.0)).sqrt()),
            f64::INFINITY,
        )
    } else {
        let mean = logs.iter().map(|l| l.0).sum::<f64>() / n;
        let spread = logs.iter().map(|l| (l.0 - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (spread * (1.0 + 1.0 / n), n - 1.0)
    };
    Some(LogSpread {
        var: (var - counting).max(0.0),
        df,
    })
}

/// The (requests, 5xx) of the whole blocks of `k` minutes in `minutes`
/// ((minute, requests, 5xx) in time order): calendar-aligned blocks all of
/// whose `k` minutes are there. A block missing a minute (idle, or left
/// out of the normal) is skipped, not counted short.
pub(super) fn whole_blocks<'a>(
    minutes: impl Iterator<Item = &'a (i64, u64, u64)>,
    k: i64,
) -> Vec<(u64, u64)> {
    let mut blocks = Vec::new();
    let mut current: Option<(i64, i64, u64, u64)> = None;
    for &(minute, r, e) in minutes {
        let block = minute.div_euclid(60 * k);
        match &mut current {
            Some((b, n, br, be)) if *b == block => {
                *n += 1;
                *br += r;
                *be += e;
            }
            _ => {
                blocks.extend(current.filter(|c| c.1 == k).map(|c| (c.2, c.3)));
                current = Some((block, 1, r, e));
            }
        }
    }
    blocks.extend(current.filter(|c| c.1 == k).map(|c| (c.2, c.3)));
    blocks
}

/// The variance of normal deviations `devs` (from their centre) read from
/// their median absolute value, which a minority of outliers does not move.
pub(super) fn robust_variance(devs: impl Iterator<Item = f64>) -> f64 {
    let mut abs: Vec<f64> = devs.map(f64::abs).collect();
    (1.4826 * median(&mut abs)).powi(2)
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

#[cfg(test)]
mod tests {
    use super::super::tail::{normal_quantile, t_quantile};
    use super::super::BASELINE_ALPHA;
    use super::*;

    /// The log spread is measured only on enough busy minutes; a new
    /// minute is judged against it at Student's t with its degrees of
    /// freedom, so a day of minutes judges more tightly than fifty. The
    /// same alternation of shares (10 % and 14 %) in both.
    #[test]
    fn a_day_of_busy_minutes_judges_more_tightly_than_an_hour() {
        let minutes = |n: usize| -> Vec<(u64, u64)> {
            (0..n)
                .map(|i| (1000, if i % 2 == 0 { 100 } else { 140 }))
                .collect()
        };
        let share = 0.12;
        assert_eq!(measured_log_spread(&minutes(50), share, false, 180), None);
        // Too few 5xx a minute to measure in log.
        let quiet: Vec<(u64, u64)> = (0..200).map(|_| (10, 1)).collect();
        assert_eq!(measured_log_spread(&quiet, 0.1, false, 20), None);
        let hour = measured_log_spread(&minutes(50), share, false, 20).unwrap();
        let day = measured_log_spread(&minutes(1200), share, false, 180).unwrap();
        assert_eq!((hour.df, day.df), (49.0, 1199.0));
        // Half the squared log ratio of 1.4, less counting's 1/k.
        let seen = (1.4f64.ln() / 2.0).powi(2) - 0.88 / 120.0;
        for s in [hour, day] {
            assert!((s.var - seen).abs() < seen * 0.1, "{s:?} {seen}");
        }
        let z = normal_quantile(BASELINE_ALPHA);
        let bar = |s: LogSpread| t_quantile(BASELINE_ALPHA, z, s.df).powi(2) * s.var;
        assert!(bar(day) < bar(hour) * 0.85, "{day:?} {hour:?}");
        // Read off the median, the spread is a bound, judged at z.
        let robust = measured_log_spread(&minutes(50), share, true, 20).unwrap();
        assert!(
            robust.df.is_infinite() && robust.var > hour.var,
            "{robust:?}"
        );
    }

    /// The log test is calibrated: on healthy minutes whose share wanders
    /// log-normally (σ = 0.3 a minute, many requests), a new minute
    /// passes the test at level 1 % about 1 % of the time when judged
    /// against twenty minutes before it at Student's t — and under half
    /// as often at the upper bound of the spread (two standard errors)
    /// that the test took before, which made outages on such series late.
    #[test]
    fn the_log_test_holds_its_level_on_a_measured_spread() {
        use rand::rngs::StdRng;
        use rand::SeedableRng;
        use rand_distr::{Binomial, Distribution, Normal as Gauss};
        let mut rng = StdRng::seed_from_u64(22);
        let (alpha, sigma, r, m): (f64, f64, u64, f64) = (0.01, 0.3, 100_000, 0.05);
        let gauss = Gauss::new(0.0, 1.0).unwrap();
        let draw = |rng: &mut StdRng| {
            let share = (m * (sigma * gauss.sample(rng) - sigma * sigma / 2.0).exp()).min(1.0);
            (r, Binomial::new(r, share).unwrap().sample(rng))
        };
        let z = normal_quantile(alpha);
        let (trials, mut now, mut before) = (20_000, 0, 0);
        for _ in 0..trials {
            let minutes: Vec<(u64, u64)> = (0..20).map(|_| draw(&mut rng)).collect();
            let pooled = minutes.iter().map(|m| m.1).sum::<u64>() as f64 / (20 * r) as f64;
            let s = measured_log_spread(&minutes, pooled, false, 20).unwrap();
            let (_, e) = draw(&mut rng);
            let expected = r as f64 * pooled;
            let counting = (1.0 - pooled) / expected;
            let x = (e as f64 / expected).ln();
            now += usize::from(x >= t_quantile(alpha, z, s.df) * (s.var + counting).sqrt());
            // The bound: the sample variance times 1 + 2√(2/19).
            let sample = (s.var + counting) / (1.0 + 1.0 / 20.0);
            let bound = sample * (1.0 + 2.0 * (2.0f64 / 19.0).sqrt());
            before += usize::from(x >= z * bound.sqrt());
        }
        let rate = |n: usize| n as f64 / trials as f64;
        // The test is centred on the pooled share, σ²/2 above the mean log
        // share: a little under its level.
        assert!((0.005..=0.013).contains(&rate(now)), "{}", rate(now));
        assert!(
            rate(before) < rate(now) / 2.0,
            "{} {}",
            rate(before),
            rate(now)
        );
    }

    /// Blocks are calendar-aligned and whole: one missing a minute is
    /// skipped, not counted short.
    #[test]
    fn only_whole_blocks_count() {
        // Minutes 0–4 whole; 5–9 missing minute 7; 10–14 whole but
        // starting at 11 (10 missing); 15–19 whole.
        let minutes: Vec<(i64, u64, u64)> = (0..20)
            .filter(|m| *m != 7 && *m != 10)
            .map(|m| (m * 60, 10, m as u64))
            .collect();
        let blocks = whole_blocks(minutes.iter(), 5);
        assert_eq!(blocks, vec![(50, 10), (50, 85)]);
        assert_eq!(whole_blocks(minutes.iter(), 1).len(), 18);
    }
}
