//! 5xx bursts: runs of bad seconds per series (baseline or threshold
//! rule), grouped by the cooldown into incidents; and SLO mode's burn-rate
//! alerts.

use rayon::prelude::*;

use super::baseline::Baseline;
use super::*;
use super::{BASELINE_BLIP, BASELINE_SUSTAINED};

/// A run of consecutive bad seconds in one series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Run {
    series: usize,
    start: i64,
    end: i64,
    peak: i64,
    peak_ratio: f64,
    /// The series' normal share when the run began (baseline detector).
    baseline: Option<f64>,
    /// The earliest first second of the windows that made its seconds
    /// bad (the sustained window's reaches five minutes back).
    from: i64,
}

/// The runs of bad seconds of one series: seconds t whose window (t−W, t]
/// holds ≥ `min_errors` 5xx that are ≥ `min_ratio` of its requests
/// ([`Detector::Threshold`]), or well above the series' normal share
/// ([`Detector::Baseline`]).
pub(super) fn bad_runs(series: &Series, index: usize, p: &Params) -> Vec<Run> {
    let mut runs = Vec::new();
    let Some((first, last)) = series.span() else {
        return runs;
    };
    let mut baseline =
        (p.detector == Detector::Baseline).then(|| Baseline::new(series, p.alarm_every, p.window));
    // The baseline rule also judges the sustained window (its sums are
    // the window's when there is none).
    let long = if baseline.is_some() {
        BASELINE_SUSTAINED.max(p.window)
    } else {
        p.window
    };
    let (mut lead, mut trail, mut trail_long) = (series.cursor(), series.cursor(), series.cursor());
    let (mut e, mut r, mut e_long, mut r_long) = (0u64, 0u64, 0u64, 0u64);
    let mut open: Option<Run> = None;
    let mut t = first;
    while t <= last + long {
        if e_long == 0 && r_long == 0 {
            // Both windows are empty: jump to the next second with a
            // request. Nothing lies in (t−1−W, t) or before that jump
            // target, so the window sums stay right.
            match series.next_request_at_or_after(t) {
                Some(n) => t = n,
                None => break,
            }
        }
        let (rq, er) = lead.get(t);
        let (rq_out, er_out) = trail.get(t - p.window);
        let (rl_out, el_out) = trail_long.get(t - long);
        r = r + rq as u64 - rq_out as u64;
        e = e + er as u64 - er_out as u64;
        r_long = r_long + rq as u64 - rl_out as u64;
        e_long = e_long + er as u64 - el_out as u64;
        // The first second of the window that makes `t` bad, if one does.
        let bad = match &mut baseline {
            None => (e >= p.min_errors && e > 0 && (e as f64) >= p.min_ratio * r as f64)
                .then_some(t - p.window + 1),
            Some(b) => judge(series, b, t, (r, e), (r_long, e_long), first, p),
        };
        if let Some(from) = bad {
            let ratio = e as f64 / r as f64;
            match &mut open {
                Some(run) => {
                    run.end = t;
                    run.from = run.from.min(from);
                    if ratio > run.peak_ratio {
                        run.peak_ratio = ratio;
                        run.peak = t;
                    }
                }
                None => {
                    open = Some(Run {
                        series: index,
                        start: t,
                        end: t,
                        peak: t,
                        peak_ratio: ratio,
                        baseline: baseline.as_mut().map(|b| b.observed(t)),
                        from,
                    })
                }
            }
        } else if let Some(run) = open.take() {
            runs.push(run);
        }
        t += 1;
    }
    runs.extend(open);
    runs
}

/// Whether second `t` of `series` is bad by the baseline rule, given the
/// requests and 5xx of its window, `(r, e)`, and of the sustained window
/// ([`BASELINE_SUSTAINED`]) ending at it, `(r_long, e_long)`: the first
/// second of the window that makes it bad, if one does. Windows bad as
/// they stand leave the normal.
fn judge(
    series: &Series,
    b: &mut Baseline,
    t: i64,
    (r, e): (u64, u64),
    (r_long, e_long): (u64, u64),
    first: i64,
    p: &Params,
) -> Option<i64> {
    let long = BASELINE_SUSTAINED.max(p.window);
    // A window bad as it stands is not normal, a blip's included: its
    // minutes leave the normal, else one deploy's blip would make the next
    // 50 minutes' normal spread so wide that an outage in them is missed.
    if e >= p.min_errors && e > 0 && b.bad(t, r, e, false) && {
        b.leave_out(t - p.window + 1, t);
        outlasts_a_blip(series, b, t, p.window, false, p)
    } {
        return Some(t - p.window + 1);
    }
    // The sustained window once the series fills it; its minutes leave
    // the normal only when it is bad past a blip (a window that long is
    // rarely a blip's, and leaving out every one with a few 5xx on a quiet
    // host would leave the normal with none).
    (long > p.window
        && t - long >= first
        && e_long >= p.min_errors
        && b.at_bad_share(t, r, e)
        && b.bad(t, r_long, e_long, true)
        && outlasts_a_blip(series, b, t, long, true, p)
        && {
            b.leave_out(t - long + 1, t);
            true
        })
    .then_some(t - long + 1)
}

/// Whether the window of `len` seconds ending at `t` (the rule's or,
/// `long`, the sustained one: see [`Baseline::bad`]) is more than deploys' blips: when
/// its blips (see [`blips`]: one run of [`BASELINE_BLIP`] seconds, or two
/// with a calm second between — a rolling deploy restarts more than one
/// backend in a minute) hold more 5xx beyond the normal share than the
/// rest of it, it must still be bad without them. Asked only of windows
/// bad as they are.
fn outlasts_a_blip(
    series: &Series,
    b: &mut Baseline,
    t: i64,
    len: i64,
    long: bool,
    p: &Params,
) -> bool {
    // Through a cursor: a window lies in one or two hours.
    let mut at = series.cursor();
    let seconds: Vec<(u32, u32)> = (t - len + 1..=t).map(|s| at.get(s)).collect();
    let sum = |s: &[(u32, u32)]| {
        s.iter().fold((0u64, 0u64), |(r, e), (rs, es)| {
            (r + u64::from(*rs), e + u64::from(*es))
        })
    };
    // 5xx beyond the normal share.
    let m = b.share(t);
    let excess = |(r, e): (u64, u64)| e as f64 - r as f64 * m;
    let runs = blips(&seconds, BASELINE_BLIP, |s| excess(sum(s)));
    let (mut busy, mut rest) = ((0, 0), sum(&seconds));
    for at in runs.into_iter().flatten() {
        let (r, e) = sum(&seconds[at..(at + BASELINE_BLIP).min(seconds.len())]);
        busy = (busy.0 + r, busy.1 + e);
        rest = (rest.0 - r, rest.1 - e);
    }
    if excess(busy) <= excess(rest) {
        return true;
    }
    rest.1 >= p.min_errors && b.bad(t, rest.0, rest.1, long)
}

/// Where the blips of `seconds` start: the run of `k` seconds (fewer when
/// the window is shorter) whose `weight` is highest, and a second one when
/// the best pair of runs weighs more than the best one alone, each weighs
/// more than nothing, and a calm second (one that weighs nothing) lies
/// between them — two blips are separate events; without the calm, two
/// runs side by side are one burst that has outlasted a blip.
fn blips(
    seconds: &[(u32, u32)],
    k: usize,
    weight: impl Fn(&[(u32, u32)]) -> f64,
) -> [Option<usize>; 2] {
    if seconds.is_empty() {
        return [None, None];
    }
    let k = k.clamp(1, seconds.len());
    let w: Vec<f64> = (0..=seconds.len() - k)
        .map(|i| weight(&seconds[i..i + k]))
        .collect();
    let best_single = (0..w.len()).max_by(|&a, &b| w[a].total_cmp(&w[b]));
    let mut pair: Option<(usize, usize)> = None;
    // The best run ending at or before the latest calm second before j,
    // and how far the runs it was chosen from reach.
    let (mut before, mut upto): (Option<usize>, usize) = (None, 0);
    for j in k + 1..w.len() {
        if weight(&seconds[j - 1..j]) <= 0.0 {
            // Runs starting at i ≤ j − 1 − k end before the calm second.
            while upto + k < j {
                if before.is_none_or(|b| w[upto] > w[b]) {
                    before = Some(upto);
                }
                upto += 1;
            }
        }
        let Some(i) = before else { continue };
        if w[i] > 0.0 && w[j] > 0.0 && pair.is_none_or(|(a, c)| w[i] + w[j] > w[a] + w[c]) {
            pair = Some((i, j));
        }
    }
    match (best_single, pair) {
        (Some(s), Some((i, j))) if w[i] + w[j] > w[s] => [Some(i), Some(j)],
        (s, _) => [s, None],
    }
}

/// 5xx bursts of `series`: the hosts' (named by `hosts`), then the
/// service's when there is one, then the routes' (named by `routes`, the
/// last ones).
pub(super) fn error_bursts(
    series: &[&Series],
    hosts: &[&String],
    routes: &[&String],
    p: &Params,
) -> Vec<Incident> {
    let routes_from = series.len() - routes.len();
    // Each series alone, on the pool (a fleet's hosts and routes are
    // hundreds of series); collected in series order.
    let mut runs: Vec<Run> = series
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, s)| bad_runs(s, i, p))
        .collect();
    runs.sort_by_key(|r| (r.start, r.series));

    // Group runs whose bad seconds lie closer than the cooldown.
    let mut groups: Vec<Vec<Run>> = Vec::new();
    let mut group_end = i64::MIN;
    for run in runs {
        match groups.last_mut() {
            Some(g) if run.start - group_end < p.cooldown => {
                group_end = group_end.max(run.end);
                g.push(run);
            }
            _ => {
                group_end = run.end;
                groups.push(vec![run]);
            }
        }
    }

    let w = p.window;
    groups
        .into_iter()
        .map(|g| {
            let detected = g.iter().map(|r| r.start).min().expect("group has runs");
            let last_bad = g.iter().map(|r| r.end).max().expect("group has runs");
            let start = g
                .iter()
                .filter(|r| r.start == detected)
                .filter_map(|r| series[r.series].first_error_in(detected - w + 1, detected))
                .min()
                .unwrap_or(detected);
            let end = g
                .iter()
                .filter(|r| r.end == last_bad)
                .filter_map(|r| series[r.series].last_error_in(last_bad - w + 1, last_bad))
                .max()
                .unwrap_or(last_bad);
            let peak_run = g
                .iter()
                .max_by(|a, b| {
                    a.peak_ratio
                        .total_cmp(&b.peak_ratio)
                        .then(b.peak.cmp(&a.peak))
                })
                .expect("group has runs");

            let mut host_set: BTreeSet<usize> = g
                .iter()
                .filter(|r| r.series < hosts.len())
                .map(|r| r.series)
                .collect();
            let route_set: BTreeSet<usize> = g
                .iter()
                .filter(|r| r.series >= routes_from)
                .map(|r| r.series)
                .collect();
            let hosts_fired = !host_set.is_empty();
            if !hosts_fired {
                for r in &g {
                    for (i, s) in series[..hosts.len()].iter().enumerate() {
                        if s.first_error_in(r.start - w + 1, r.end).is_some() {
                            host_set.insert(i);
                        }
                    }
                }
            }

            let mut inc = Incident::new(Kind::ErrorBurst, start, detected, end);
            inc.evidence_from = g.iter().map(|r| r.from).min().unwrap_or(start).min(start);
            inc.rule = p.detector;
            inc.baseline_share = g
                .iter()
                .filter(|r| r.start == detected)
                .filter_map(|r| r.baseline)
                .reduce(f64::min);
            // The worst window is known by its last second, which may lie
            // after the burst's last 5xx: shown at its last 5xx instead, so
            // the peak lies within start and end.
            let peak = series[peak_run.series].last_error_in(peak_run.peak - w + 1, peak_run.peak);
            let peak = peak.unwrap_or(peak_run.peak);
            inc.peak = Some(peak.clamp(start, end));
            inc.peak_error_ratio = peak_run.peak_ratio;
            inc.service_only = !hosts_fired && route_set.is_empty();
            // Counted on the series that fired: a route's own requests
            // when only routes did (its hosts' would dilute it).
            let counted = if hosts_fired || route_set.is_empty() {
                &host_set
            } else {
                &route_set
            };
            for &i in counted {
                let (r, e) = series[i].sum(start, end);
                inc.requests += r;
                inc.errors += e;
                series[i].status_counts(start, end, &mut inc.status_counts);
            }
            inc.hosts = host_set.iter().map(|&i| hosts[i].clone()).collect();
            inc.routes = route_set
                .iter()
                .map(|&i| routes[i - routes_from].clone())
                .collect();
            inc
        })
        .collect()
}

/// SLO mode: each alert period of the service (the last series) is a
/// burst of the hosts with a 5xx in it.
pub(super) fn slo_bursts(
    series: &[&Series],
    n_hosts: usize,
    hosts: &[&String],
    slo: &Slo,
    p: &Params,
) -> Vec<Incident> {
    let Some(service) = series.last() else {
        return Vec::new();
    };
    let span = service.span().map_or(1, |(a, z)| (z - a + 1).max(1));
    let monthly = service.requests as f64 * slo::BUDGET_PERIOD as f64 / span as f64;
    slo::firings(service, slo, p.min_errors, p.cooldown)
        .into_iter()
        .map(|f| {
            let end = service.last_error_in(f.onset, f.last).unwrap_or(f.last);
            let start = service
                .first_error_in(f.onset, f.detected)
                .unwrap_or(f.onset);
            let mut inc = Incident::new(Kind::ErrorBurst, start, f.detected, end);
            inc.rule = p.detector;
            let (r, e) = service.sum(start, end);
            inc.peak_error_ratio = if r > 0 { e as f64 / r as f64 } else { 0.0 };
            for (i, s) in series[..n_hosts].iter().enumerate() {
                if s.first_error_in(start, end).is_none() {
                    continue;
                }
                let (r, e) = s.sum(start, end);
                inc.requests += r;
                inc.errors += e;
                s.status_counts(start, end, &mut inc.status_counts);
                inc.hosts.push(hosts[i].clone());
            }
            inc.slo = Some(SloAlert {
                target: slo.target,
                window: slo.windows()[f.window],
                reset: f.reset,
                burn: f.burn,
                peak_burn: f.peak_burn,
                budget_spent: inc.errors as f64 / (slo.budget() * monthly).max(1.0),
            });
            inc
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::blips;

    fn weight(s: &[(u32, u32)]) -> f64 {
        s.iter()
            .map(|&(r, e)| f64::from(e) - 0.01 * f64::from(r))
            .sum()
    }

    #[test]
    fn blips_are_one_run_or_two_separate_ones() {
        let mut seconds = vec![(100u32, 1u32); 60];
        // Nothing stands out: the best single run, no second one.
        assert!(blips(&seconds, 5, weight)[1].is_none());
        for s in &mut seconds[10..14] {
            s.1 = 100;
        }
        assert_eq!(
            blips(&seconds, 5, weight)[0].map(|i| (10..=14).contains(&(i + 4))),
            Some(true)
        );
        assert!(blips(&seconds, 5, weight)[1].is_none());
        for s in &mut seconds[40..43] {
            s.1 = 80;
        }
        let [a, b] = blips(&seconds, 5, weight);
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(a + 5 <= b, "{a} {b}");
        assert!(a <= 10 && a + 5 >= 14 && b <= 40 && b + 5 >= 43, "{a} {b}");
        // A burst of 12 s without a calm second is one run, not two blips.
        let mut burst = vec![(100u32, 1u32); 60];
        for s in &mut burst[30..42] {
            s.1 = 60;
        }
        assert_eq!(blips(&burst, 5, weight)[1], None);
        // A window shorter than a blip is one run of all of it.
        assert_eq!(blips(&seconds[..3], 5, weight), [Some(0), None]);
        assert_eq!(blips(&[], 5, weight), [None, None]);
    }
}
