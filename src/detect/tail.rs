//! Tail probabilities of 5xx counts: whether a window's count is at
//! most a level's chance under a binomial, a beta-binomial or a
//! log-normally wandering share, how much more often some window of a
//! minute sliding by the second reaches it (the scan factor), and the
//! normal quantile of a level.

#[cfg(doc)]
use super::BASELINE_ALPHA;

/// The normal quantile of a level: z with P(Z ≥ z) = `alpha` (4.62 at
/// [`BASELINE_ALPHA`]). On a busy series whose minutes' shares wander more
/// than counting explains, a bad share is also that many standard
/// deviations of the log share above the normal (a share that wanders
/// log-normally has a heavier upper tail than the beta-binomial's).
pub(super) fn normal_quantile(alpha: f64) -> f64 {
    // P(Z ≥ z) = erfc(z / √2) / 2 falls with z: bisect.
    let (mut lo, mut hi) = (0.0f64, 40.0f64);
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if libm::erfc(mid / std::f64::consts::SQRT_2) / 2.0 > alpha {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// Student's t quantile of a level: t with P(T ≥ t) = `alpha` for T with
/// `df` degrees of freedom (`z`, the level's normal quantile, where `df`
/// is infinite). A new minute's log share, against a spread measured on
/// `df + 1` minutes, is t-distributed around their mean: the spread is
/// itself estimated, and at the default level 4.62 σ becomes 6.41 σ̂ over
/// 20 minutes, 4.75 σ̂ over 200.
///
/// A busy series asks it for a new `df` nearly every minute of its first
/// day, so it is solved by Newton's method on the log of the tail (a few
/// steps from the Cornish–Fisher estimate), kept inside a bracket that
/// bisection narrows where a step would leave it.
pub(super) fn t_quantile(alpha: f64, z: f64, df: f64) -> f64 {
    if !df.is_finite() {
        return z;
    }
    let df = df.max(1.0);
    // P(T ≥ t) = I_{ν/(ν+t²)}(ν/2, 1/2) / 2 falls with t, and t ≥ z.
    let tail = |t: f64| regularized_beta(df / (df + t * t), df / 2.0, 0.5) / 2.0;
    let ln_density_at_0 = libm::lgamma((df + 1.0) / 2.0)
        - libm::lgamma(df / 2.0)
        - 0.5 * (df * std::f64::consts::PI).ln();
    let (mut lo, mut hi) = (z, z * 2.0);
    while tail(hi) > alpha && hi < 1e12 {
        (lo, hi) = (hi, hi * 2.0);
    }
    let z3 = z * z * z;
    let mut t =
        (z + (z3 + z) / (4.0 * df) + (5.0 * z3 * z * z + 16.0 * z3 + 3.0 * z) / (96.0 * df * df))
            .clamp(lo, hi);
    for _ in 0..200 {
        let p = tail(t);
        if p > alpha {
            lo = t;
        } else {
            hi = t;
        }
        // d ln P / dt = −density / P.
        let density = (ln_density_at_0 - (df + 1.0) / 2.0 * (t * t / df).ln_1p()).exp();
        let next = t + (p.ln() - alpha.ln()) * p / density;
        let next = if next > lo && next < hi {
            next
        } else {
            (lo + hi) / 2.0
        };
        if (next - t).abs() <= 1e-13 * t || hi - lo <= 1e-13 * hi {
            return next;
        }
        t = next;
    }
    t
}

/// The regularized incomplete beta function I_x(a, b), by its continued
/// fraction (evaluated by the modified Lentz method) where that converges
/// fast, and through I_x(a, b) = 1 − I_{1−x}(b, a) elsewhere.
fn regularized_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - regularized_beta(1.0 - x, b, a);
    }
    const TINY: f64 = 1e-300;
    let nonzero = |v: f64| if v.abs() < TINY { TINY } else { v };
    let front = (a * x.ln() + b * (-x).ln_1p() - ln_beta(a, b)).exp() / a;
    let mut c = 1.0;
    let mut d = 1.0 / nonzero(1.0 - (a + b) * x / (a + 1.0));
    let mut f = d;
    for m in 1..=10_000 {
        let m = f64::from(m);
        // The even and the odd term of the fraction.
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        let mut step = 1.0;
        for term in [even, odd] {
            d = 1.0 / nonzero(1.0 + term * d);
            c = nonzero(1.0 + term / c);
            step = d * c;
            f *= step;
        }
        if (step - 1.0).abs() < 1e-15 {
            break;
        }
    }
    front * f
}

/// How many times one window's chance of `e` 5xx where `expected` are
/// normal the chance is that some window of `len` seconds sliding by the
/// second through a minute holds as many (Alm's approximation of the
/// Poisson scan statistic: the windows starting in the minute add about
/// (e − ψ)(e + 1 − ψ)/(e + 1) · 60/len of one window's tail, ψ the
/// expected count). The level is a minute's chance, so the counting tail
/// is held to the level over this. A share that wanders is drawn per
/// minute, not per window, so the wandering's tests are not.
pub(super) fn scanned(e: u64, expected: f64, len: i64) -> f64 {
    let (k, psi) = (e as f64, expected);
    if k <= psi {
        return 1.0;
    }
    1.0 + (k - psi) * (k + 1.0 - psi) / (k + 1.0) * 60.0 / len.max(1) as f64
}

/// Whether P(X ≥ e) ≤ `alpha` for X beta-binomial over `r` trials with
/// mean share `p` and concentration `nu` (binomial when `nu` is infinite
/// or very large). Sums the upper tail term by term from `e`, stopping as
/// soon as the answer is known.
pub(super) fn tail_at_most(r: u64, e: u64, p: f64, nu: f64, alpha: f64) -> bool {
    if e == 0 {
        return false;
    }
    if e > r {
        return true;
    }
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    let (rf, ef) = (r as f64, e as f64);
    let binomial = !nu.is_finite() || nu > 1e12;
    let (a, b) = (nu * p, nu * (1.0 - p));
    let ln_choose = libm::lgamma(rf + 1.0) - libm::lgamma(ef + 1.0) - libm::lgamma(rf - ef + 1.0);
    let mut ln_term = if binomial {
        ln_choose + ef * p.ln() + (rf - ef) * (1.0 - p).ln()
    } else {
        ln_choose + ln_beta(ef + a, rf - ef + b) - ln_beta(a, b)
    };
    let ln_alpha = alpha.ln();
    let mut ln_sum = f64::NEG_INFINITY;
    let mut k = ef;
    loop {
        ln_sum = log_add(ln_sum, ln_term);
        if ln_sum > ln_alpha {
            return false;
        }
        if k >= rf {
            return true;
        }
        // The next term, from the ratio of successive terms.
        let ratio = if binomial {
            (rf - k) / (k + 1.0) * p / (1.0 - p)
        } else {
            (rf - k) * (k + a) / ((k + 1.0) * (rf - k - 1.0 + b))
        };
        ln_term += ratio.ln();
        k += 1.0;
        // Once the terms fall geometrically, what is left is bounded by
        // a geometric series: stop when even that cannot reach alpha.
        if ratio < 1.0 {
            let rest = ln_term - (1.0 - ratio).ln();
            if log_add(ln_sum, rest) <= ln_alpha {
                return true;
            }
        }
    }
}

/// Whether P(X ≥ e) ≤ `alpha` for X binomial over `r` trials with a
/// share `p·exp(σZ − σ²/2)` (mean `p`), Z standard normal, σ² = `s2`: the
/// log-normal wandering of a share. The part of Z where the share reaches
/// e/r counts whole (an upper bound: the answer errs towards no alarm);
/// below it the binomial tail is integrated over Z (steps of 0.02).
///
/// Every second of an outage on every series in it asks this, so the
/// integral is first taken over Chernoff's bound of the binomial tail (a
/// logarithm or two a step, where the exact tail sums its terms): when
/// even that settles below `alpha`, the exact integral would too, step
/// for step, and is not needed.
pub(super) fn lognormal_tail_at_most(r: u64, e: u64, p: f64, s2: f64, alpha: f64) -> bool {
    if e == 0 || p <= 0.0 {
        return e > 0;
    }
    if e > r {
        return true;
    }
    if integrate(r, e, p, s2, alpha, Tail::Bound) == Some(true) {
        return true;
    }
    integrate(r, e, p, s2, alpha, Tail::Exact).unwrap_or(true)
}

/// Which binomial tail [`integrate`] takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// [`binomial_tail`].
    Exact,
    /// [`chernoff_bound`]: never below the exact tail, so a sum of it
    /// that stays under the level proves the exact sum does.
    Bound,
}

/// The integral of [`lognormal_tail_at_most`] over the tail `over`: `Some(false)`
/// once it passes `alpha`, `Some(true)` once what is left cannot bring
/// it there. Over the bound, only a settled `Some(true)` is an answer
/// (the exact sum's shortcut past a step that adds nothing is not taken).
fn integrate(r: u64, e: u64, p: f64, s2: f64, alpha: f64, over: Tail) -> Option<bool> {
    let sigma = s2.sqrt();
    let share_at = |z: f64| p * (sigma * z - s2 / 2.0).exp();
    let q = e as f64 / r as f64;
    let z_star = ((q / p).ln() + s2 / 2.0) / sigma;
    let mut total = libm::erfc(z_star / std::f64::consts::SQRT_2) / 2.0;
    if total > alpha {
        return Some(false);
    }
    const STEP: f64 = 0.02;
    let density = |z: f64| (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    // Past Z = 8 the density adds under 1e-15.
    let mut z = z_star.min(8.0);
    while z > -8.0 {
        let share = share_at(z).min(1.0);
        let tail = match over {
            Tail::Exact => binomial_tail(r, e, share),
            Tail::Bound => chernoff_bound(r, e, share),
        };
        let part = density(z) * tail;
        total += part * STEP;
        if total > alpha {
            return Some(false);
        }
        // The tail falls with Z, so what the steps below add is at most
        // this step's tail times the normal mass below Z (the steps' sum
        // of the density, a hair over the mass: 1 % allowed): a window far
        // beyond its normal is settled here, not 400 steps on.
        let below = libm::erfc(-(z - STEP) / std::f64::consts::SQRT_2) / 2.0;
        if total + tail * (below * 1.01 + STEP * density(z - STEP)) <= alpha {
            return Some(true);
        }
        // Below Z = 0 density and tail both fall as Z does: once a step
        // adds nothing, the at most 400 steps left cannot reach alpha.
        if over == Tail::Exact && z < 0.0 && part * STEP * 400.0 < alpha * 1e-3 {
            break;
        }
        z -= STEP;
    }
    Some(true)
}

/// Chernoff's bound of P(X ≥ e) for X binomial over `r` trials with share
/// `p`: exp(−r·D(e/r ‖ p)), D the relative entropy, when e/r is above
/// `p` (1 otherwise); a hair over, so that rounding never puts it under
/// the exact sum.
fn chernoff_bound(r: u64, e: u64, p: f64) -> f64 {
    let q = e as f64 / r as f64;
    if p >= q || p <= 0.0 {
        return 1.0;
    }
    let miss = if q < 1.0 {
        (1.0 - q) * ((1.0 - q) / (1.0 - p)).ln()
    } else {
        0.0
    };
    let d = q * (q / p).ln() + miss;
    ((-(r as f64) * d).exp() * (1.0 + 1e-9)).min(1.0)
}

/// P(X ≥ e) for X binomial over `r` trials with share `p`, summed from `e`
/// until the rest is under a millionth of the sum.
fn binomial_tail(r: u64, e: u64, p: f64) -> f64 {
    if p >= 1.0 {
        return 1.0;
    }
    let (rf, ef) = (r as f64, e as f64);
    let ln_choose = libm::lgamma(rf + 1.0) - libm::lgamma(ef + 1.0) - libm::lgamma(rf - ef + 1.0);
    let mut ln_term = ln_choose + ef * p.ln() + (rf - ef) * (1.0 - p).ln();
    let mut ln_sum = f64::NEG_INFINITY;
    let mut k = ef;
    loop {
        ln_sum = log_add(ln_sum, ln_term);
        if k >= rf {
            break;
        }
        let ratio = (rf - k) / (k + 1.0) * p / (1.0 - p);
        ln_term += ratio.ln();
        k += 1.0;
        if ratio < 1.0 && ln_term - (1.0 - ratio).ln() < ln_sum - 13.8 {
            break;
        }
    }
    ln_sum.exp().min(1.0)
}

fn ln_beta(x: f64, y: f64) -> f64 {
    libm::lgamma(x) + libm::lgamma(y) - libm::lgamma(x + y)
}

fn log_add(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    hi + (lo - hi).exp().ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::BASELINE_ALPHA;

    /// Student's t quantiles against values computed independently
    /// (mpmath, 40 digits), at the default level and a tenth of it.
    #[test]
    fn t_quantiles_match_an_independent_computation() {
        for (df, alpha, want) in [
            (7.0, BASELINE_ALPHA, 12.951_047_951),
            (19.0, BASELINE_ALPHA, 6.409_502_076),
            (49.0, BASELINE_ALPHA, 5.205_814_301),
            (199.0, BASELINE_ALPHA, 4.754_831_569),
            (1000.0, BASELINE_ALPHA, 4.647_712_531),
            (19.0, BASELINE_ALPHA / 10.0, 7.565_115_813),
            (199.0, BASELINE_ALPHA / 10.0, 5.254_486_340),
        ] {
            let t = t_quantile(alpha, normal_quantile(alpha), df);
            assert!(
                (t - want).abs() < 1e-9 * want,
                "df {df}: {t} against {want}"
            );
        }
        let z = normal_quantile(BASELINE_ALPHA);
        assert_eq!(t_quantile(BASELINE_ALPHA, z, f64::INFINITY), z);
        assert!((t_quantile(BASELINE_ALPHA, z, 1e9) - z).abs() < 1e-6);
        // Both sides of the fraction's switch, and its ends.
        assert!((regularized_beta(0.3, 2.0, 3.0) - 0.3483).abs() < 1e-12);
        assert!((regularized_beta(0.9, 2.0, 3.0) - 0.9963).abs() < 1e-12);
        assert_eq!(regularized_beta(0.0, 2.0, 3.0), 0.0);
        assert_eq!(regularized_beta(1.0, 2.0, 3.0), 1.0);
    }

    /// P(X ≥ e) summed naively, in f64, for small cases.
    fn naive_binomial_tail(r: u64, e: u64, p: f64) -> f64 {
        (e..=r)
            .map(|k| {
                let c = libm::lgamma(r as f64 + 1.0)
                    - libm::lgamma(k as f64 + 1.0)
                    - libm::lgamma((r - k) as f64 + 1.0);
                (c + k as f64 * p.ln() + (r - k) as f64 * (1.0 - p).ln()).exp()
            })
            .sum()
    }

    #[test]
    fn the_binomial_tail_decides_as_the_naive_sum() {
        for (r, p) in [(120u64, 0.02), (600, 0.01), (30, 0.3), (2000, 0.001)] {
            for e in 1..=r.min(80) {
                let tail = naive_binomial_tail(r, e, p);
                for alpha in [1e-2, 1e-4, 1.9e-6, 1e-9] {
                    // Away from the boundary the two agree exactly.
                    if (tail / alpha - 1.0).abs() < 1e-6 {
                        continue;
                    }
                    assert_eq!(
                        tail_at_most(r, e, p, f64::INFINITY, alpha),
                        tail <= alpha,
                        "r {r} e {e} p {p} alpha {alpha}: tail {tail}"
                    );
                }
            }
        }
    }

    /// The beta-binomial with a huge concentration is the binomial; with a
    /// small one its tail is heavier.
    #[test]
    fn overdispersion_widens_the_tail() {
        let (r, p) = (600, 0.01);
        let e = (1..=r)
            .find(|e| tail_at_most(r, *e, p, f64::INFINITY, 1.9e-6))
            .unwrap();
        assert_eq!(
            (1..=r)
                .find(|e| tail_at_most(r, *e, p, 1e11, 1.9e-6))
                .unwrap(),
            e
        );
        let wide = (1..=r)
            .find(|e| tail_at_most(r, *e, p, 200.0, 1.9e-6))
            .unwrap();
        assert!(wide > e + 3, "{wide} vs {e}");
    }

    /// Some window of a minute reaches a count as often as the scan
    /// factor says (simulated: 5 expected a minute, one per second at
    /// most, 12 or more in a window sliding by the second), far more often
    /// than one window does.
    #[test]
    fn the_scan_factor_counts_the_windows_of_a_minute() {
        let (minutes, k, p) = (20_000usize, 12u64, 5.0 / 60.0);
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut prefix = vec![0u64];
        for _ in 0..60 * (minutes + 1) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let hit = ((state >> 11) as f64 / (1u64 << 53) as f64) < p;
            prefix.push(prefix.last().unwrap() + u64::from(hit));
        }
        let reached = (0..minutes)
            .filter(|j| (60 * j + 60..60 * j + 120).any(|t| prefix[t] - prefix[t - 60] >= k))
            .count() as f64
            / minutes as f64;
        let one = binomial_tail(60, k, p);
        let predicted = one * scanned(k, 5.0, 60);
        assert!(reached > 3.0 * one, "{reached} vs {one}");
        assert!(
            (reached / predicted - 1.0).abs() < 0.3,
            "{reached} vs {predicted}"
        );
        // Below the expected count, and for a window five times as long.
        assert_eq!(scanned(4, 5.0, 60), 1.0);
        assert!((scanned(12, 5.0, 300) - (1.0 + 56.0 / 13.0 / 5.0)).abs() < 1e-12);
    }

    #[test]
    fn the_normal_quantile_of_the_default_level() {
        assert!((normal_quantile(BASELINE_ALPHA) - 4.62).abs() < 0.01);
        assert!((normal_quantile(0.025) - 1.96).abs() < 0.001);
    }

    /// The integral step by step to Z = −8, without the early exits.
    fn lognormal_tail_slowly(r: u64, e: u64, p: f64, s2: f64) -> f64 {
        let sigma = s2.sqrt();
        let q = e as f64 / r as f64;
        let z_star = ((q / p).ln() + s2 / 2.0) / sigma;
        let mut total = libm::erfc(z_star / std::f64::consts::SQRT_2) / 2.0;
        let density = |z: f64| (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let mut z = z_star.min(8.0);
        while z > -8.0 {
            let share = (p * (sigma * z - s2 / 2.0).exp()).min(1.0);
            total += density(z) * binomial_tail(r, e, share) * 0.02;
            z -= 0.02;
        }
        total
    }

    proptest::proptest! {
        /// The early exits give the answer the whole integral gives,
        /// wherever it is not within a percent of the level; Chernoff's
        /// bound is never under the exact tail, and the integral over it
        /// settles only where the exact one answers yes.
        #[test]
        fn lognormal_exits_early_and_exactly(
            r in 1u64..20_000,
            share in 0.0f64..1.0,
            p in 0.0001f64..0.3,
            s2 in 0.001f64..0.25,
            level in 0usize..3,
        ) {
            let e = ((r as f64 * share).round() as u64).max(1);
            let alpha = [BASELINE_ALPHA, BASELINE_ALPHA / 10.0, 1e-3][level];
            let slow = lognormal_tail_slowly(r, e, p, s2);
            if (slow / alpha - 1.0).abs() > 0.01 {
                proptest::prop_assert_eq!(lognormal_tail_at_most(r, e, p, s2, alpha), slow <= alpha);
            }
            let e = e.min(r);
            let bound = chernoff_bound(r, e, p);
            proptest::prop_assert!(bound >= binomial_tail(r, e, p) * (1.0 - 1e-9), "{}", bound);
            if integrate(r, e, p, s2, alpha, Tail::Bound) == Some(true) {
                proptest::prop_assert_eq!(integrate(r, e, p, s2, alpha, Tail::Exact), Some(true));
            }
        }
    }

    /// The benchmark's overdispersed false incidents at 2 req/s and a 10 %
    /// share (38 of 119 and 40 of 120, shares wandering by σ 0.3 a
    /// minute) are not bad under the log-normal wandering; a burst of 80
    /// of 120 is, and a share that does not wander is judged binomially.
    #[test]
    fn lognormal_wandering_widens_the_tail() {
        let s2 = 0.3f64 * 0.3;
        for (r, e) in [(119, 38), (120, 40)] {
            assert!(!lognormal_tail_at_most(r, e, 0.1, s2, BASELINE_ALPHA));
        }
        assert!(lognormal_tail_at_most(120, 80, 0.1, s2, BASELINE_ALPHA));
        // Small spread: close to the binomial's answer.
        let binomial = (1..=120)
            .find(|e| tail_at_most(120, *e, 0.1, f64::INFINITY, BASELINE_ALPHA))
            .unwrap();
        let narrow = (1..=120)
            .find(|e| lognormal_tail_at_most(120, *e, 0.1, 1e-6, BASELINE_ALPHA))
            .unwrap();
        assert!(
            (binomial..=binomial + 1).contains(&narrow),
            "{narrow} vs {binomial}"
        );
        // The tail itself against a naive sum.
        for (r, e, p) in [(120u64, 30u64, 0.1), (600, 20, 0.01), (50, 1, 0.2)] {
            let naive = naive_binomial_tail(r, e, p);
            assert!((binomial_tail(r, e, p) / naive - 1.0).abs() < 1e-5);
        }
    }

    /// An upstream's outage second (18 of 27 failing where 0.24 % is
    /// normal) is settled by the bound alone; a window that is not bad
    /// is never settled by it. With every request failing the bound is
    /// the exact tail (pʳ), and never under it.
    #[test]
    fn the_bound_settles_clear_outages_only() {
        assert_eq!(
            integrate(27, 18, 0.0024, 0.2231, 1.9e-6, Tail::Bound),
            Some(true)
        );
        assert!(lognormal_tail_at_most(27, 18, 0.0024, 0.2231, 1.9e-6));
        assert_ne!(
            integrate(119, 38, 0.1, 0.09, BASELINE_ALPHA, Tail::Bound),
            Some(true)
        );
        for r in 1..60 {
            for p in [0.01, 0.3, 0.9] {
                assert!(
                    chernoff_bound(r, r, p) >= binomial_tail(r, r, p),
                    "r {r} p {p}"
                );
            }
        }
    }

    /// The false incidents: 10 of 122 at a 2 % normal share, 18 of
    /// 571 at 1 %: likely enough in a day of windows, not bad.
    #[test]
    fn the_reported_false_alarms_are_not_bad() {
        assert!(!tail_at_most(122, 10, 0.02, f64::INFINITY, BASELINE_ALPHA));
        assert!(!tail_at_most(571, 18, 0.01, f64::INFINITY, BASELINE_ALPHA));
        // A real burst: 30 of 122 at 2 %.
        assert!(tail_at_most(122, 30, 0.02, f64::INFINITY, BASELINE_ALPHA));
    }
}
