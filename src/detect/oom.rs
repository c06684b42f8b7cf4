//! OOM kills: the killer's lines joined into kills, kills clustered and
//! attached to incidents (or incidents of their own).

use super::*;

/// How far before an incident's start an OOM cluster still belongs to it.
pub const OOM_ATTACH_BEFORE: i64 = 15 * 60;
/// How far before an incident's start an OOM kill can still be its cause.
pub const OOM_CAUSE_BEFORE: i64 = 5 * 60;
/// Kills closer than this form one cluster.
pub const OOM_CLUSTER_GAP: i64 = 5 * 60;

/// Clusters the kills and attaches each cluster to the first incident whose
/// span, widened 15 min before its start, it touches; the last kill from
/// 5 min before the start up to detection, else the first kill inside, is
/// the probable cause. Clusters attached to nothing are incidents of their own.
pub(super) fn attach_oom(incidents: &mut Vec<Incident>, kills: &[OomKill]) {
    let mut clusters: Vec<Vec<OomKill>> = Vec::new();
    for k in kills {
        match clusters.last_mut() {
            Some(c) if k.utc - c.last().expect("non-empty").utc <= OOM_CLUSTER_GAP => {
                c.push(k.clone())
            }
            _ => clusters.push(vec![k.clone()]),
        }
    }
    let mut own = Vec::new();
    for cluster in clusters {
        let (first, last) = (cluster[0].utc, cluster[cluster.len() - 1].utc);
        // A burst or gap the kills overlap, else a latency burst.
        let overlaps = |i: &Incident| first <= i.end && last >= i.start - OOM_ATTACH_BEFORE;
        let at = incidents
            .iter()
            .position(|i| matches!(i.kind, Kind::ErrorBurst | Kind::TrafficGap) && overlaps(i))
            .or_else(|| {
                incidents
                    .iter()
                    .position(|i| i.kind == Kind::Latency && overlaps(i))
            });
        let target = at.map(|n| &mut incidents[n]);
        match target {
            Some(inc) => inc.oom_kills.extend(cluster),
            None => {
                let mut inc = Incident::new(Kind::Oom, first, first, last);
                let hosts: BTreeSet<String> = cluster.iter().map(|k| k.host.clone()).collect();
                inc.hosts = hosts.into_iter().collect();
                inc.oom_kills = cluster;
                own.push(inc);
            }
        }
    }
    for inc in incidents.iter_mut() {
        inc.oom_kills.sort();
        // The last kill before the alert would have fired (no earlier than
        // 5 min before onset): onset can precede the kill when a starving
        // process answers errors before the kernel kills it.
        // A kill on the incident's own hosts; on another host only when
        // the incident is service-wide (seen on the service's sum, or on
        // several hosts): a kill elsewhere says nothing of one host's burst.
        let wide = inc.service_only || inc.hosts.len() != 1;
        let pick = |same_host: bool| {
            let mine = |k: &&OomKill| {
                !same_host
                    || inc.hosts.contains(&k.host)
                    || k.container.as_ref().is_some_and(|c| inc.hosts.contains(c))
            };
            let before = kills
                .iter()
                .rev()
                .filter(mine)
                .find(|k| k.utc <= inc.detected && k.utc >= inc.start - OOM_CAUSE_BEFORE);
            before.or_else(|| {
                kills
                    .iter()
                    .filter(mine)
                    .find(|k| k.utc > inc.detected && k.utc <= inc.end)
            })
        };
        inc.cause = pick(true).or_else(|| pick(false).filter(|_| wide)).cloned();
    }
    incidents.extend(own);
}

/// How long before an incident's start evidence on its hosts (signals,
/// upstream failures) is still part of it.
pub const EVENT_LEAD: i64 = 300;

/// A memory signal placed in UTC (a runtime's out-of-memory error,
/// systemd-oomd; see `format::signals::MEMORY`): evidence that memory ran
/// out on `host`, with or without a burst around it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MemorySignal<'a> {
    pub utc: i64,
    pub host: &'a str,
}

/// Adds the `oom` incidents of memory signals no incident holds: a signal
/// on one of an incident's hosts from [`EVENT_LEAD`] before its start to
/// its end is that incident's evidence (the report shows it there). A
/// signal on a host up to [`OOM_CLUSTER_GAP`] after the end of an `oom`
/// incident of kills on it extends that incident (systemd reports the
/// killed unit's failure a second or two after the kernel's kill; a
/// runtime its `OutOfMemoryError`), as a later kill would. The others,
/// clustered like kills, are incidents of their own — a Java
/// `OutOfMemoryError` on a host that kept answering is still worth a
/// line. `signals` in any order; `incidents` stay in their order, new
/// ones at the end.
pub(super) fn memory_incidents(incidents: &mut Vec<Incident>, signals: &[MemorySignal]) {
    let held = |i: &Incident, s: &MemorySignal| {
        (i.start - EVENT_LEAD..=i.end).contains(&s.utc) && i.hosts.iter().any(|h| h == s.host)
    };
    let mut loose: Vec<MemorySignal> = signals
        .iter()
        .filter(|s| !incidents.iter().any(|i| held(i, s)))
        .copied()
        .collect();
    loose.sort();
    let mut own: Vec<Incident> = Vec::new();
    for s in loose {
        let after_kills = incidents.iter_mut().find(|i| {
            i.kind == Kind::Oom
                && !i.oom_kills.is_empty()
                && i.hosts.iter().any(|h| h == s.host)
                && (i.end..=i.end + OOM_CLUSTER_GAP).contains(&s.utc)
        });
        if let Some(i) = after_kills {
            i.end = s.utc;
            continue;
        }
        match own.last_mut() {
            Some(i) if s.utc - i.end <= OOM_CLUSTER_GAP => i.end = s.utc,
            _ => own.push(Incident::new(Kind::Oom, s.utc, s.utc, s.utc)),
        }
        let hosts = &mut own.last_mut().expect("pushed above").hosts;
        if let Err(at) = hosts.binary_search_by(|h| h.as_str().cmp(s.host)) {
            hosts.insert(at, s.host.to_string());
        }
    }
    incidents.extend(own);
}

/// One OOM-killer line placed in UTC, ready to be joined into kills.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PlacedOomLine {
    pub kind: crate::event::OomLineKind,
    pub kill: OomKill,
}

/// A `path:line` source as (path, line).
fn position(source: &str) -> Option<(&str, u64)> {
    let (file, line) = source.rsplit_once(':')?;
    Some((file, line.parse().ok()?))
}

/// How close two lines about the same pid must be to describe one kill.
const SAME_KILL: i64 = 60;
/// How soon after a decision or header line the kill line follows.
const FOLLOWS: i64 = 10;

/// Joins the OOM-killer lines into kills, counting each kill once however
/// many lines describe it: the `Killed process` line is the kill; an
/// `oom-kill:` summary adds its cgroup to the kill of the same pid, or stands
/// for it when the kill line is missing; a `Kill process … sacrifice child`
/// decision counts only when no kill line follows it; the `invoked
/// oom-killer` header names the trigger; reaper lines add nothing. The same
/// kill read from two files (kern.log and syslog) is one kill.
pub fn join_kills(mut lines: Vec<PlacedOomLine>) -> Vec<OomKill> {
    use crate::event::OomLineKind as K;
    lines.sort_by(|a, b| {
        (a.kill.utc, a.kind, &a.kill.source).cmp(&(b.kill.utc, b.kind, &b.kill.source))
    });
    let mut by_host: BTreeMap<String, Vec<OomKill>> = BTreeMap::new();
    let same = |k: &OomKill, l: &OomKill| {
        k.victim.pid == l.victim.pid && (k.utc - l.utc).abs() <= SAME_KILL
    };

    for l in lines.iter().filter(|l| l.kind == K::Killed) {
        let kills = by_host.entry(l.kill.host.clone()).or_default();
        match kills
            .iter_mut()
            .rev()
            .take_while(|k| l.kill.utc - k.utc <= SAME_KILL)
            .find(|k| same(k, &l.kill))
        {
            Some(k) => k.victim.fill_from(&l.kill.victim),
            None => kills.push(l.kill.clone()),
        }
    }
    for l in lines.iter().filter(|l| l.kind == K::Summary) {
        let kills = by_host.entry(l.kill.host.clone()).or_default();
        match kills.iter_mut().find(|k| same(k, &l.kill)) {
            Some(k) => k.victim.fill_from(&l.kill.victim),
            None => {
                kills.push(l.kill.clone());
                kills.sort();
            }
        }
    }
    for l in lines.iter().filter(|l| l.kind == K::Candidate) {
        let kills = by_host.entry(l.kill.host.clone()).or_default();
        let follows = |k: &OomKill| {
            same(k, &l.kill) || (k.utc >= l.kill.utc && k.utc - l.kill.utc <= FOLLOWS)
        };
        match kills.iter_mut().find(|k| follows(k)) {
            // The kill that followed the decision (a child's pid, often):
            // a memory cgroup's decision makes it a cgroup kill too.
            Some(k) => k.victim.memcg |= l.kill.victim.memcg,
            None => {
                kills.push(l.kill.clone());
                kills.sort();
            }
        }
    }
    // Each `invoked oom-killer` header names the trigger of its own event:
    // the first kill after it in the same file (two events in one second
    // must not trade triggers), else the first kill within FOLLOWS.
    let mut headers: Vec<&PlacedOomLine> = lines.iter().filter(|l| l.kind == K::Invoked).collect();
    headers.sort_by_key(|l| (l.kill.utc, position(&l.kill.source)));
    for l in headers {
        let Some(kills) = by_host.get_mut(&l.kill.host) else {
            continue;
        };
        let near = |k: &OomKill| {
            k.trigger.is_none() && k.utc >= l.kill.utc && k.utc - l.kill.utc <= FOLLOWS
        };
        // Where the kill stands in the header's file: after it, before it,
        // or elsewhere (another file, an unknown line).
        let order = |k: &OomKill| match (position(&l.kill.source), position(&k.source)) {
            (Some((f, a)), Some((g, b))) if f == g && a != b => Some(b > a),
            _ => None,
        };
        // A kill earlier in the same file belongs to an earlier event, even
        // when this header's own kill was not logged.
        let own = kills
            .iter()
            .enumerate()
            .filter(|(_, k)| near(k) && order(k) == Some(true))
            .min_by_key(|(_, k)| position(&k.source))
            .map(|(n, _)| n)
            .or_else(|| kills.iter().position(|k| near(k) && order(k).is_none()));
        if let Some(n) = own {
            kills[n].trigger = Some(l.kill.victim.process.clone());
        }
    }
    let mut all: Vec<OomKill> = by_host.into_values().flatten().collect();
    all.sort();
    all
}

#[cfg(test)]
mod join_tests {
    use super::*;
    use crate::event::OomLineKind as K;
    use crate::event::Victim;

    fn line(kind: K, utc: i64, pid: u32, process: &str) -> PlacedOomLine {
        PlacedOomLine {
            kind,
            kill: OomKill {
                utc,
                offset: 0,
                host: "h".into(),
                victim: Victim {
                    pid: Some(pid),
                    process: process.into(),
                    anon_rss_kb: (kind == K::Killed).then_some(100),
                    cgroup: (kind == K::Summary).then(|| "/system.slice/app.service".into()),
                    ..Victim::default()
                },
                trigger: None,
                source: format!("f:{utc}"),
                container: None,
            },
        }
    }

    #[test]
    fn one_kill_from_many_lines() {
        let kills = join_kills(vec![
            line(K::Invoked, 100, 0, "nginx"),
            line(K::Summary, 100, 42, "python3"),
            line(K::Killed, 100, 42, "python3"),
            line(K::Reaper, 101, 42, "python3"),
            // The same kill again, read from /var/log/syslog.
            line(K::Killed, 100, 42, "python3"),
        ]);
        assert_eq!(kills.len(), 1);
        assert_eq!(kills[0].trigger.as_deref(), Some("nginx"));
        assert_eq!(
            kills[0].victim.cgroup.as_deref(),
            Some("/system.slice/app.service")
        );
        assert_eq!(kills[0].victim.anon_rss_kb, Some(100));
    }

    #[test]
    fn sacrifice_child_names_a_candidate_not_a_second_kill() {
        let kills = join_kills(vec![
            line(K::Candidate, 100, 24572, "java"),
            line(K::Killed, 100, 28438, "java"),
        ]);
        assert_eq!(kills.len(), 1);
        assert_eq!(kills[0].victim.pid, Some(28438));
        // A decision with no kill line after it (log cut) still counts.
        let kills = join_kills(vec![line(K::Candidate, 100, 1, "x")]);
        assert_eq!(kills.len(), 1);
        // Two kills of distinct pids are two kills; a summary alone is one.
        let kills = join_kills(vec![
            line(K::Killed, 100, 1, "x"),
            line(K::Killed, 101, 2, "x"),
            line(K::Summary, 500, 3, "y"),
        ]);
        assert_eq!(kills.len(), 3);
    }
}
