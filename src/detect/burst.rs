//! 5xx bursts: runs of bad seconds per series (baseline or threshold
//! rule), grouped by the cooldown into incidents; and SLO mode's burn-rate
//! alerts.

use super::baseline::Baseline;
use super::*;
use super::{BASELINE_BLIP, BASELINE_BLIP_ERRORS, BASELINE_SUSTAINED, SUSTAINED_MINUTES};

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
        let bad = match &mut baseline {
            None => e >= p.min_errors && e > 0 && (e as f64) >= p.min_ratio * r as f64,
            // A window bad as it stands is not normal, a blip's included:
            // its minutes leave the normal, else one deploy's blip would
            // make the next 50 minutes' normal spread so wide that an
            // outage in them is missed.
            Some(b) => {
                (e >= p.min_errors
                    && e > 0
                    && b.bad(t, r, e, 1.0)
                    && {
                        b.leave_out(t - p.window + 1, t);
                        outlasts_a_blip(series, b, t, p.window, 1.0, p)
                    })
                    // The sustained window once the series fills it; its
                    // minutes leave the normal only when it is bad past a
                    // blip (a window that long is rarely a blip's, and
                    // leaving out every one with a few 5xx on a quiet host
                    // would leave the normal with none).
                    || (long > p.window
                        && t - long >= first
                        && e_long >= p.min_errors
                        && b.at_bad_share(t, r, e)
                        && b.bad(t, r_long, e_long, SUSTAINED_MINUTES)
                        && outlasts_a_blip(series, b, t, long, SUSTAINED_MINUTES, p)
                        && {
                            b.leave_out(t - long + 1, t);
                            true
                        })
            }
        };
        if bad {
            let ratio = e as f64 / r as f64;
            match &mut open {
                Some(run) => {
                    run.end = t;
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

/// Whether the window of `len` seconds ending at `t` (holding `minutes`
/// of wandering, see [`Baseline::bad`]) is more than a deploy's blip: when
/// its [`BASELINE_BLIP`] busiest seconds alone hold [`BASELINE_BLIP_ERRORS`]
/// 5xx (the sustained window: any) and more of its 5xx beyond the normal
/// share than the rest of it, it must still be bad without them. Asked
/// only of windows bad as they are.
fn outlasts_a_blip(
    series: &Series,
    b: &mut Baseline,
    t: i64,
    len: i64,
    minutes: f64,
    p: &Params,
) -> bool {
    let mut seconds: Vec<(u32, u32)> = (t - len + 1..=t).map(|s| series.at(s)).collect();
    seconds.sort_unstable_by_key(|(_, e)| std::cmp::Reverse(*e));
    let sum = |s: &[(u32, u32)]| {
        s.iter().fold((0u64, 0u64), |(r, e), (rs, es)| {
            (r + u64::from(*rs), e + u64::from(*es))
        })
    };
    let cut = BASELINE_BLIP.min(seconds.len());
    let (busy_r, busy_e) = sum(&seconds[..cut]);
    let (r, e) = sum(&seconds[cut..]);
    // 5xx beyond the normal share, in the busiest seconds and in the rest.
    let m = b.share(t);
    let excess = |r: u64, e: u64| e as f64 - r as f64 * m;
    // The sustained window is for bursts too mild for one minute: one that
    // its busiest seconds make is not one, however few their 5xx.
    let sustained = minutes > 1.0;
    if (busy_e < BASELINE_BLIP_ERRORS && !sustained) || excess(busy_r, busy_e) <= excess(r, e) {
        return true;
    }
    e >= p.min_errors && b.bad(t, r, e, minutes)
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
    let mut runs: Vec<Run> = series
        .iter()
        .enumerate()
        .flat_map(|(i, s)| bad_runs(s, i, p))
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
            inc.rule = p.detector;
            inc.baseline_share = g
                .iter()
                .filter(|r| r.start == detected)
                .filter_map(|r| r.baseline)
                .reduce(f64::min);
            // The worst window is known by its last second, which may lie
            // after the burst's last 5xx: shown at its last 5xx instead, so
            // the peak lies within start and end.
            let peak_series = series[peak_run.series];
            let peak = peak_series
                .last_error_in(peak_run.peak - w + 1, peak_run.peak)
                .unwrap_or(peak_run.peak);
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
