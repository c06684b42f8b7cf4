//! Traffic gaps: silences the hour before predicted traffic in.

use super::*;

/// A traffic gap needs the preceding hour's rate to predict this many
/// requests in the silence.
pub const GAP_MIN_EXPECTED: f64 = 30.0;

/// Silences of ≥ `gap` in a host's requests whose preceding hour's rate
/// predicts at least [`GAP_MIN_EXPECTED`] requests in them; overlapping
/// silences of several hosts are one incident.
pub(super) fn traffic_gaps(series: &[&Series], hosts: &[&String], p: &Params) -> Vec<Incident> {
    let mut gaps: Vec<(i64, i64, usize, u64)> = Vec::new();
    for (i, s) in series.iter().enumerate() {
        let mut prev: Option<i64> = None;
        for (t, _, _) in s.seconds() {
            if let Some(a) = prev {
                if t - a >= p.gap {
                    let (hour_before, _) = s.sum(a - 3599, a);
                    let expected = hour_before as f64 * (t - a) as f64 / 3600.0;
                    if expected >= GAP_MIN_EXPECTED {
                        gaps.push((a, t, i, expected.round() as u64));
                    }
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
