//! The kernel OOM killer's messages, every era (see FORMATS-style notes in
//! the tests): the message text only, after the syslog/journal/dmesg framing
//! and any `[ 518.050606]` uptime prefix have been removed.
//!
//! One kill is described by several lines: the `invoked oom-killer` header
//! (the allocating task), on ≤ 5.0 kernels a `Kill process A … or sacrifice
//! child` decision naming a candidate, on ≥ 5.0 an `oom-kill:` summary, the
//! `Killed process B …` line, and an `oom_reaper:` line. Each is returned
//! as its own [`OomMessage`]; the pipeline joins them into one kill.

use memchr::memmem;

use crate::event::{OomLineKind, Victim};

/// What one OOM-killer line says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OomMessage {
    pub kind: OomLineKind,
    /// The task the line names, and what it says of it.
    pub victim: Victim,
}

const KILLED: &[u8] = b"Killed process ";
const SUMMARY: &[u8] = b"oom-kill:";
const INVOKED: &[u8] = b" invoked oom-killer";
const REAPER: &[u8] = b"oom_reaper: reaped process ";
const CANDIDATE: &[u8] = b"ill process ";

/// Every line [`parse`] reads holds one of these: each way through it
/// starts by finding its own. A block search for them
/// ([`super::triggers`]) tells which lines need reading.
pub const TRIGGERS: &[&[u8]] = &[KILLED, SUMMARY, INVOKED, REAPER, CANDIDATE];

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    memmem::find(h, n)
}

fn rfind(h: &[u8], n: &[u8]) -> Option<usize> {
    memmem::rfind(h, n)
}

fn leading_u64(b: &[u8]) -> Option<(u64, usize)> {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > 19 {
        return None;
    }
    let v = std::str::from_utf8(&b[..n]).ok()?.parse().ok()?;
    Some((v, n))
}

fn text(b: &[u8]) -> String {
    const MAX: usize = 64;
    let b = &b[..b.len().min(MAX)];
    String::from_utf8_lossy(b).into_owned()
}

/// `name:NNNkB` anywhere in the line.
fn kb_field(msg: &[u8], name: &[u8]) -> Option<u64> {
    let p = find(msg, name)? + name.len();
    leading_u64(&msg[p..]).map(|(v, _)| v)
}

/// `(comm)` starting at `open` (which holds `(`): comm ends at the `)` just
/// before `total-vm:` / `, UID` / ` score`, or at the last `)` — comm may
/// itself hold parentheses and spaces (`((resolved))`).
fn comm_at(msg: &[u8], open: usize) -> Option<String> {
    let after = &msg[open + 1..];
    let end = [&b") total-vm:"[..], b"), UID", b") score", b"), now "]
        .iter()
        .filter_map(|m| find(after, m))
        .min()
        .or_else(|| memchr::memrchr(b')', after))?;
    Some(text(&after[..end]))
}

/// Parses a kernel message; `None` for every line that is not about an OOM kill.
pub fn parse(msg: &[u8]) -> Option<OomMessage> {
    // Cheap pre-filter: every form below holds one of these.
    if find(msg, b"ill").is_none() && find(msg, b"oom").is_none() {
        return None;
    }
    if let Some(p) = find(msg, KILLED) {
        return killed(msg, p);
    }
    if let Some(p) = find(msg, SUMMARY) {
        return summary(&msg[p + SUMMARY.len()..]);
    }
    if let Some(p) = find(msg, INVOKED) {
        return Some(OomMessage {
            kind: OomLineKind::Invoked,
            victim: Victim {
                pid: None,
                process: text(&msg[..p]),
                ..Victim::default()
            },
        });
    }
    if let Some(p) = find(msg, REAPER) {
        let rest = &msg[p + REAPER.len()..];
        let (pid, n) = leading_u64(rest)?;
        let open = p + REAPER.len() + n + 1;
        return Some(OomMessage {
            kind: OomLineKind::Reaper,
            victim: Victim {
                pid: u32::try_from(pid).ok(),
                process: msg
                    .get(open)
                    .filter(|c| **c == b'(')
                    .and_then(|_| comm_at(msg, open))?,
                ..Victim::default()
            },
        });
    }
    candidate(msg)
}

/// `[Out of memory|Memory cgroup out of memory: ]Killed process N (comm) …`,
/// and the RHEL variants `Killed process N, UID n, (comm) …` and
/// `Killed process N (comm), UID n, …`.
fn killed(msg: &[u8], p: usize) -> Option<OomMessage> {
    let start = p + KILLED.len();
    let (pid, n) = leading_u64(&msg[start..])?;
    let open = start + n + memchr::memchr(b'(', &msg[start + n..])?;
    Some(OomMessage {
        kind: OomLineKind::Killed,
        victim: Victim {
            pid: u32::try_from(pid).ok(),
            process: comm_at(msg, open)?,
            anon_rss_kb: kb_field(msg, b"anon-rss:"),
            total_vm_kb: kb_field(msg, b"total-vm:"),
            cgroup: None,
            memcg: find(&msg[..p], b"Memory cgroup").is_some(),
        },
    })
}

/// `constraint=…,nodemask=…,cpuset=…,mems_allowed=…,[oom_memcg=…|global_oom],
/// task_memcg=…,task=comm,pid=N,uid=N` — values are unescaped cgroup paths,
/// so the task fields are read from the right.
fn summary(s: &[u8]) -> Option<OomMessage> {
    let pid_at = rfind(s, b",pid=")?;
    let (pid, _) = leading_u64(&s[pid_at + 5..])?;
    let task_at = rfind(&s[..pid_at], b"task=")?;
    let process = text(&s[task_at + 5..pid_at]);
    let cgroup = find(s, b"task_memcg=").and_then(|m| {
        let v = &s[m + b"task_memcg=".len()..];
        let end = rfind(v, b",task=")?;
        Some(text_long(&v[..end]))
    });
    Some(OomMessage {
        kind: OomLineKind::Summary,
        victim: Victim {
            pid: u32::try_from(pid).ok(),
            process,
            cgroup,
            memcg: find(s, b"CONSTRAINT_MEMCG").is_some(),
            ..Victim::default()
        },
    })
}

fn text_long(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(512)]).into_owned()
}

/// `Kill process N (comm) score S or sacrifice child` (2.6.39–5.0),
/// `kill process N (comm) score S or a child` (2.6.32), `Kill process N
/// (comm) score S and children.` (2.6.2x). Not `… sharing same memory`,
/// which follows a kill already counted.
fn candidate(msg: &[u8]) -> Option<OomMessage> {
    let p = find(msg, CANDIDATE)?;
    if p == 0 || !matches!(msg[p - 1], b'K' | b'k') || find(msg, b"sharing same memory").is_some() {
        return None;
    }
    find(msg, b" score ")?;
    let start = p + CANDIDATE.len();
    let (pid, n) = leading_u64(&msg[start..])?;
    let open = start + n + 1;
    if msg.get(open) != Some(&b'(') {
        return None;
    }
    Some(OomMessage {
        kind: OomLineKind::Candidate,
        victim: Victim {
            pid: u32::try_from(pid).ok(),
            process: comm_at(msg, open)?,
            memcg: find(&msg[..p], b"Memory cgroup").is_some(),
            ..Victim::default()
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> OomMessage {
        parse(s.as_bytes()).unwrap_or_else(|| panic!("not parsed: {s}"))
    }

    #[test]
    fn kill_lines_of_every_era() {
        let m = p("Out of memory: Killed process 15925 ((resolved)) total-vm:168424kB, anon-rss:4064kB, file-rss:3584kB, shmem-rss:0kB");
        assert_eq!(
            (m.kind, m.victim.pid, m.victim.process.as_str()),
            (OomLineKind::Killed, Some(15925), "(resolved)")
        );
        assert_eq!(
            (m.victim.anon_rss_kb, m.victim.total_vm_kb),
            (Some(4064), Some(168_424))
        );
        let m = p("Memory cgroup out of memory: Killed process 63214 (uwsgi) total-vm:3149468kB, anon-rss:164992kB, file-rss:52176kB, shmem-rss:92kB, UID:0 pgtables:1372kB oom_score_adj:986");
        assert!(m.victim.memcg);
        assert_eq!(m.victim.process, "uwsgi");
        let m = p(
            "Killed process 28438 (java) total-vm:20255636kB, anon-rss:466160kB, file-rss:13684kB",
        );
        assert_eq!(
            (m.victim.pid, m.victim.anon_rss_kb),
            (Some(28438), Some(466_160))
        );
        // 2.6.2x and 2.6.32 had no memory figures.
        let m = p("Killed process 1234 (httpd)");
        assert_eq!(
            (
                m.victim.pid,
                m.victim.process.as_str(),
                m.victim.anon_rss_kb
            ),
            (Some(1234), "httpd", None)
        );
        let m = p("apache2: Killed process 1234 (apache2).");
        assert_eq!(m.victim.process, "apache2");
        // RHEL 6 and RHEL 7 variants.
        let m = p("Killed process 11726, UID 498, (mysqld) total-vm:7823732kB, anon-rss:2539268kB, file-rss:768kB");
        assert_eq!(
            (m.victim.pid, m.victim.process.as_str()),
            (Some(11726), "mysqld")
        );
        let m = p("Killed process 799153 (node), UID 1000, total-vm:606096kB, anon-rss:68308kB, file-rss:13648kB, shmem-rss:0kB");
        assert_eq!(
            (
                m.victim.pid,
                m.victim.process.as_str(),
                m.victim.anon_rss_kb
            ),
            (Some(799_153), "node", Some(68_308))
        );
        // comm with a space.
        assert_eq!(
            p("Out of memory: Killed process 7 (Web Content) total-vm:1kB, anon-rss:2kB")
                .victim
                .process,
            "Web Content"
        );
    }

    #[test]
    fn other_oom_lines() {
        let m =
            p("Memory cgroup out of memory: Kill process 24572 (java) score 0 or sacrifice child");
        assert_eq!(
            (m.kind, m.victim.pid, m.victim.memcg),
            (OomLineKind::Candidate, Some(24572), true)
        );
        let m = p("Out of memory: kill process 900 (mysqld) score 300 or a child");
        assert_eq!(m.kind, OomLineKind::Candidate);
        let m = p("Out of Memory: Kill process 33 (X) score 9 and children.");
        assert_eq!(
            (m.kind, m.victim.process.as_str()),
            (OomLineKind::Candidate, "X")
        );
        let m = p("java invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=-998");
        assert_eq!(
            (m.kind, m.victim.process.as_str()),
            (OomLineKind::Invoked, "java")
        );
        let m = p("oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-x.scope,mems_allowed=0-1,oom_memcg=/kubepods.slice/a,task_memcg=/kubepods.slice/a/cri-x.scope,task=pt_main_thread,pid=461754,uid=0");
        assert_eq!(
            (m.kind, m.victim.pid, m.victim.process.as_str()),
            (OomLineKind::Summary, Some(461_754), "pt_main_thread")
        );
        assert_eq!(
            m.victim.cgroup.as_deref(),
            Some("/kubepods.slice/a/cri-x.scope")
        );
        assert!(m.victim.memcg);
        let m = p("oom_reaper: reaped process 63214 (uwsgi), now anon-rss:0kB, file-rss:0kB, shmem-rss:92kB");
        assert_eq!(
            (m.kind, m.victim.pid, m.victim.process.as_str()),
            (OomLineKind::Reaper, Some(63214), "uwsgi")
        );
    }

    #[test]
    fn ordinary_lines_are_not_kills() {
        for l in [
            "Kill process 24572 (java) sharing same memory",
            "CPU: 1 PID: 4242 Comm: python3 Not tainted 5.15.0-58-generic",
            "systemd[1]: Started Session 42 of user root.",
            "skill process monitor started",
            "",
        ] {
            assert_eq!(parse(l.as_bytes()), None, "{l}");
        }
    }
}
