//! Latency bursts: runs of slow minutes, where the log gives durations.

use super::*;

/// …or [`LATENCY_FACTOR`] times the normal p99 (the median of the per-minute
/// p99s from 60 to 10 minutes before, over at least 20 minutes) and at
/// least [`LATENCY_FLOOR_MS`].
pub const LATENCY_FACTOR: u64 = 4;
pub const LATENCY_FLOOR_MS: u64 = 100;
/// A minute needs this many requests with a duration to be judged.
pub const LATENCY_MIN_REQUESTS: u64 = 20;

/// Minutes of one host whose p99 duration reached `--slow` or was far
/// above its normal, with at least `--min-errors` requests that slow;
/// slow minutes closer than the cooldown are one incident.
pub(super) fn latency_bursts(series: &Series, host: &str, p: &Params) -> Vec<Incident> {
    let minutes: Vec<(i64, &crate::bucket::LatencyHist)> =
        series.latency().iter().map(|(m, h)| (*m, h)).collect();
    let mut p99s: Vec<(i64, u64)> = Vec::new(); // judged, not slow
    let mut out: Vec<Incident> = Vec::new();
    for (m, h) in minutes {
        if h.count() < LATENCY_MIN_REQUESTS {
            continue;
        }
        let Some(p99) = h.quantile(0.99) else {
            continue;
        };
        let lo = p99s.partition_point(|x| x.0 < m - BASELINE_FROM);
        let mut normal: Vec<f64> = p99s[lo..]
            .iter()
            .take_while(|x| x.0 < m - BASELINE_TO)
            .map(|x| x.1 as f64)
            .collect();
        let baseline = (normal.len() >= BASELINE_MIN_MINUTES).then(|| median(&mut normal) as u64);
        let bar = match baseline {
            Some(b) => p.slow_ms.min((b * LATENCY_FACTOR).max(LATENCY_FLOOR_MS)),
            None => p.slow_ms,
        };
        let slow = h.at_least(bar);
        if p99 < bar || slow < p.min_errors.max(1) {
            p99s.push((m, p99));
            continue;
        }
        match out.last_mut() {
            Some(inc) if m - inc.end <= p.cooldown => {
                inc.end = m + 59;
                let l = inc.latency.as_mut().expect("latency incident");
                l.slow_requests += slow;
                if p99 > l.peak_p99_ms {
                    l.peak_p99_ms = p99;
                    inc.peak = Some(m);
                }
            }
            _ => {
                let mut inc = Incident::new(Kind::Latency, m, m + 59, m + 59);
                inc.hosts = vec![host.to_string()];
                inc.peak = Some(m);
                inc.latency = Some(LatencyAlert {
                    peak_p99_ms: p99,
                    baseline_p99_ms: baseline,
                    bar_ms: bar,
                    slow_requests: slow,
                });
                out.push(inc);
            }
        }
    }
    for inc in &mut out {
        let (r, e) = series.sum(inc.start, inc.end);
        inc.requests = r;
        inc.errors = e;
        series.status_counts(inc.start, inc.end, &mut inc.status_counts);
    }
    out
}
