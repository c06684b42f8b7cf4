//! Suggestions: the corrective and preventative measures an incident's
//! evidence supports, each with that evidence; and the memory-leak
//! signature in a process's kills.

use std::collections::BTreeMap;

use crate::detect::Kind;
use crate::format::nginx_error::UpstreamKind;
use crate::report::model::{IncidentReport, KillReport, Suggestion, UpstreamReport};
use crate::report::words::kib;
use crate::time;

/// Measures derived from what the incident shows: repeated kills of one
/// process (a limit and an alert; a leak when memory at death grows or
/// kills come faster), a kill as the cause, a traffic gap (an external
/// health check), failing upstreams, and how soon a log alert would fire.
pub fn suggestions(r: &IncidentReport, window: i64) -> Vec<Suggestion> {
    let mut out = Vec::new();
    let mut by_process: BTreeMap<(&str, &str), Vec<&KillReport>> = BTreeMap::new();
    for k in &r.oom_kills {
        by_process
            .entry((k.host.as_str(), k.victim.process.as_str()))
            .or_default()
            .push(k);
    }
    for ((host, process), kills) in &by_process {
        if kills.len() < 2 {
            continue;
        }
        let (first, last) = (kills[0], kills[kills.len() - 1]);
        let rss: Vec<u64> = kills.iter().filter_map(|k| k.victim.anon_rss_kb).collect();
        let gaps: Vec<i64> = kills
            .windows(2)
            .map(|w| w[1].time.utc - w[0].time.utc)
            .collect();
        let growing =
            rss.len() >= 2 && rss.windows(2).all(|w| w[1] >= w[0]) && rss[rss.len() - 1] > rss[0];
        let faster = gaps.len() >= 2 && gaps.windows(2).all(|w| w[1] < w[0]);
        let mut evidence = format!(
            "{process} was killed {} times on {host} between {} and {}",
            kills.len(),
            first.time.clock(),
            last.time.clock()
        );
        if let (Some(a), Some(b)) = (rss.first(), rss.last()) {
            evidence.push_str(&format!(", anon-rss {} → {}", kib(*a), kib(*b)));
        }
        let leak = leak_signature(kills).is_some();
        if faster || leak {
            let g: Vec<String> = gaps.iter().map(|g| time::duration(*g)).collect();
            evidence.push_str(&format!(", intervals {}", g.join(", ")));
        }
        let measure = if growing || faster || leak {
            format!("Look for a memory leak in {process} and give it a memory limit with an alert before the limit: it grows until the kernel kills it")
        } else {
            format!("Give {process} a memory limit it can live within, and alert on its memory before the kernel kills it again")
        };
        out.push(Suggestion { measure, evidence });
    }
    if by_process.values().all(|k| k.len() < 2) {
        if let Some(c) = &r.probable_cause {
            if c.starts_with("OOM kill") {
                out.push(Suggestion {
                    measure: "Alert on OOM kills in the kernel log: they came before the errors"
                        .into(),
                    evidence: c.clone(),
                });
            }
        }
    }
    if r.kind == Kind::TrafficGap {
        out.push(Suggestion {
            measure: "Add an external health check: a dead server writes no 5xx, so an error alert stays silent".into(),
            evidence: format!(
                "{} wrote no request for {}{}",
                r.hosts.join(", "),
                time::duration(r.duration_seconds),
                r.expected_requests
                    .map_or(String::new(), |e| format!(" while about {e} were expected"))
            ),
        });
    }
    for u in &r.upstream_failures {
        out.push(Suggestion {
            measure: upstream_measure(u),
            evidence: format!(
                "it {} {} times from {} to {}",
                u.kind.describe(),
                u.count,
                u.first.clock(),
                u.last.clock()
            ),
        });
    }
    if r.kind == Kind::ErrorBurst {
        out.push(Suggestion {
            measure: format!(
                "Alert on the 5xx share over {}: such an alert would have fired {} after onset",
                time::duration(window),
                time::duration(r.detection_lag_seconds)
            ),
            evidence: format!(
                "first 5xx at {}, the window was bad at {}",
                r.start.clock(),
                r.detected.clock()
            ),
        });
    }
    out
}

/// The memory-leak signature in one process's kills on one host: three
/// or more, each at about the same memory (within 10 % of their median:
/// it grows to the same ceiling every time), the later intervals shorter
/// than the earlier ones (it reaches the ceiling faster: the leak is
/// steady and the restarts start from less headroom, or traffic grew).
/// Worded for the probable cause.
pub fn leak_signature(kills: &[&KillReport]) -> Option<String> {
    if kills.len() < 3 {
        return None;
    }
    let mut rss: Vec<u64> = kills
        .iter()
        .map(|k| k.victim.anon_rss_kb)
        .collect::<Option<_>>()?;
    rss.sort_unstable();
    let median = rss[rss.len() / 2];
    if rss.iter().any(|r| r.abs_diff(median) * 10 > median) {
        return None;
    }
    let gaps: Vec<i64> = kills
        .windows(2)
        .map(|w| w[1].time.utc - w[0].time.utc)
        .collect();
    let half = gaps.len() / 2;
    let mean = |g: &[i64]| g.iter().sum::<i64>() as f64 / g.len() as f64;
    let (early, late) = (
        mean(&gaps[..half.max(1)]),
        mean(&gaps[gaps.len() - half.max(1)..]),
    );
    if late >= early {
        return None;
    }
    let (first, last) = (kills[0], kills[kills.len() - 1]);
    Some(format!(
        "probably a memory leak: {} was killed {} times in {} at about {} each, the intervals shortening from {} to {}",
        first.victim.process,
        kills.len(),
        time::duration(last.time.utc - first.time.utc),
        kib(median),
        time::duration(gaps[0]),
        time::duration(gaps[gaps.len() - 1])
    ))
}

/// What to check when an upstream failed.
fn upstream_measure(u: &UpstreamReport) -> String {
    if u.kind == UpstreamKind::LbAnswered {
        format!(
            "Check the targets behind {} on {}: their health checks, registration and capacity",
            u.upstream, u.host
        )
    } else {
        format!(
            "Check upstream {} on {}: capacity, health checks and timeouts",
            u.upstream, u.host
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::Time;

    fn kill(utc: i64, rss_gb: f64) -> KillReport {
        KillReport {
            time: Time { utc, offset: 0 },
            host: "web-01".into(),
            victim: crate::event::Victim {
                pid: Some(1),
                process: "python3".into(),
                anon_rss_kb: Some((rss_gb * 1e9 / 1024.0) as u64),
                ..Default::default()
            },
            source: String::new(),
            trigger: None,
            container: None,
        }
    }

    fn leak(kills: &[KillReport]) -> Option<String> {
        leak_signature(&kills.iter().collect::<Vec<_>>())
    }

    #[test]
    fn leak_signature_needs_same_memory_and_shortening_intervals() {
        let base = 1_675_310_400;
        let shortening = [
            kill(base, 3.6),
            kill(base + 600, 3.55),
            kill(base + 1000, 3.62),
            kill(base + 1250, 3.6),
        ];
        let l = leak(&shortening).expect("a leak");
        assert!(
            l.contains("killed 4 times in 20 min 50 s at about 3.6 GB"),
            "{l}"
        );
        assert!(l.contains("from 10 min to 4 min 10 s"), "{l}");
        // Intervals growing: a process that is killed less and less often.
        let slowing = [
            kill(base, 3.6),
            kill(base + 100, 3.6),
            kill(base + 900, 3.6),
        ];
        assert_eq!(leak(&slowing), None);
        // Memory at death all over the place: not one ceiling.
        let scattered = [
            kill(base, 1.0),
            kill(base + 600, 3.6),
            kill(base + 900, 2.0),
        ];
        assert_eq!(leak(&scattered), None);
        // Two kills are not a pattern.
        assert_eq!(leak(&shortening[..2]), None);
    }
}
