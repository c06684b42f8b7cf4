//! The small typed records the parsers emit and the buckets store.
//!
//! Requests are counted into buckets straight away and never stored; the rare
//! events (OOM-killer lines) are kept whole, with their origin, so that the
//! detector can deduplicate them, correlate them with bursts and cite them.

use crate::time::OffsetSecs;

/// When a line says it was written.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Stamp {
    /// The log wrote its zone: a UTC instant plus the offset it was written with.
    Zoned { utc: i64, offset: OffsetSecs },
    /// Wall-clock time with no zone (RFC 3164 syslog, `dmesg -T`): naive
    /// seconds, to be placed in a zone once the run knows the host's zone.
    /// `year_inferred` is set when the log had no year either and it was
    /// guessed from the file's modification time.
    Local { naive: i64, year_inferred: bool },
}

impl Stamp {
    /// Within 2^40 s of 1970 and with an offset under a day: what any
    /// parser gives; a summary read from disk is checked against it.
    pub fn plausible(&self) -> bool {
        match *self {
            Stamp::Zoned { utc, offset } => utc.abs() < 1 << 40 && offset.unsigned_abs() < 86_400,
            Stamp::Local { naive, .. } => naive.abs() < 1 << 40,
        }
    }

    /// Whether the stamp is an instant a log can have written
    /// ([`crate::time::in_range`]).
    pub fn in_range(&self) -> bool {
        match *self {
            Stamp::Zoned { utc, .. } => crate::time::in_range(utc),
            Stamp::Local { naive, .. } => crate::time::in_range(naive),
        }
    }

    /// A key that orders stamps of one kind.
    pub fn sort_key(&self) -> i64 {
        match *self {
            Stamp::Zoned { utc, .. } => utc,
            Stamp::Local { naive, .. } => naive,
        }
    }
}

/// The status of a line an access format reads but does not count as a
/// request (a CDN's own subrequest): parsed, then left out. No log writes
/// it: statuses are three digits.
pub const NOT_COUNTED: u16 = u16::MAX;

/// The status of a request that got no response: status 0 (`000`), as
/// Traefik, Envoy and Caddy log one whose client went away first or whose
/// connection was taken over (a WebSocket), nginx one it set no status
/// for, CloudFront one whose viewer closed the connection first; HAProxy's
/// -1 and a Classic load balancer's `-` (a TCP listener's connection, no
/// HTTP at all) are read as it too. Read, then left out of the requests,
/// and counted apart: no response carries it.
pub const NO_RESPONSE: u16 = 0;

/// Requests a block read but left out of the counts, by why: a CDN's own
/// subrequests ([`NOT_COUNTED`]) and requests that got no
/// response ([`NO_RESPONSE`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LeftOut {
    /// A CDN's own subrequests.
    #[serde(default)]
    pub not_counted: u64,
    /// Requests with status 0.
    #[serde(default)]
    pub no_response: u64,
}

/// Counts add.
impl crate::merge::Merge for LeftOut {
    fn merge(&mut self, o: LeftOut) {
        self.not_counted += o.not_counted;
        self.no_response += o.no_response;
    }
}

impl LeftOut {
    /// Whether `r` is read but not counted as a request, counting it as
    /// such.
    pub fn take(&mut self, r: &Request) -> bool {
        match r.status {
            NOT_COUNTED => self.not_counted += 1,
            NO_RESPONSE => self.no_response += 1,
            _ => return false,
        }
        true
    }
}

/// One HTTP response as an access log recorded it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    pub utc: i64,
    pub offset: OffsetSecs,
    pub status: u16,
    /// How long the request took, in milliseconds, where the log says
    /// (`$request_time`, a JSON duration, Envoy's and HAProxy's timers).
    pub latency_ms: Option<u32>,
}

/// Milliseconds from seconds as a log writes them (`0.003`, `14.998`);
/// for a list (`0.1, 0.2`, nginx's tries of several upstreams) their sum.
/// `None` for `-`, empty or anything else.
pub fn millis_of_seconds(s: &[u8]) -> Option<u32> {
    plain_millis(s).or_else(|| float_millis(s))
}

/// [`millis_of_seconds`] by summing floating-point seconds.
fn float_millis(s: &[u8]) -> Option<u32> {
    let mut total = 0.0f64;
    let mut any = false;
    for part in s.split(|c| *c == b',' || *c == b':') {
        let part = part.trim_ascii();
        if part.is_empty() || part == b"-" {
            continue;
        }
        let v: f64 = std::str::from_utf8(part).ok()?.parse().ok()?;
        if !v.is_finite() || v < 0.0 {
            return None;
        }
        total += v;
        any = true;
    }
    any.then(|| (total * 1000.0).round().min(u32::MAX as f64) as u32)
}

/// [`millis_of_seconds`] of the common case, without floating point: up
/// to nine digits of seconds and up to three of a fraction (nginx writes
/// three), where the sum and rounding above come to the same integer.
fn plain_millis(s: &[u8]) -> Option<u32> {
    let (secs, frac) = match memchr::memchr(b'.', s) {
        Some(dot) => (&s[..dot], &s[dot + 1..]),
        None => (s, &b""[..]),
    };
    let digits = |d: &[u8]| d.iter().all(u8::is_ascii_digit);
    if secs.is_empty() || secs.len() > 9 || frac.len() > 3 || !digits(secs) || !digits(frac) {
        return None;
    }
    if s.len() == secs.len() + 1 && frac.is_empty() {
        return None; // `1.`: left to the parser that says what it is.
    }
    let value = |d: &[u8]| d.iter().fold(0u64, |v, c| v * 10 + u64::from(c - b'0'));
    let ms = value(secs) * 1000 + value(frac) * [1000, 100, 10, 1][frac.len()];
    Some(ms.min(u64::from(u32::MAX)) as u32)
}

impl Request {
    pub fn is_error(&self) -> bool {
        (500..=599).contains(&self.status)
    }
}

/// Where a record came from: input index, block index within the input and
/// line number within the block (0-based). Absolute line numbers are known only
/// once every block of the input has been counted; see `pipeline`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Origin {
    pub input: u32,
    pub block: u32,
    pub line: u32,
}

/// Which of the kernel OOM-killer's lines this was. One kill is usually
/// described by several of them (see `format::oom`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum OomLineKind {
    /// `oom-kill:constraint=…,task=…,pid=…` (kernel 5.0+ summary).
    Summary,
    /// `Killed process N (comm) total-vm:…` — the kill itself.
    Killed,
    /// `Kill process N (comm) score S or sacrifice child` (≤ 5.0): the
    /// chosen candidate; the kill line that follows may name a child.
    Candidate,
    /// `comm invoked oom-killer: …` — the allocating task, not a victim.
    Invoked,
    /// `oom_reaper: reaped process N (comm)` — after the kill.
    Reaper,
}

/// The task an OOM-killer line names and what the kernel said of it: the
/// one description of a victim, carried from the parsed line
/// ([`crate::format::oom::OomMessage`]) through the joined kill
/// ([`OomKill`]) to the report.
#[derive(
    Clone,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[warn(missing_docs)]
pub struct Victim {
    /// The process id, when the line gives it.
    pub pid: Option<u32>,
    /// The command name (`comm`), cut to 64 bytes.
    pub process: String,
    /// Anonymous resident memory at the kill, in KiB.
    pub anon_rss_kb: Option<u64>,
    /// Virtual memory at the kill, in KiB.
    pub total_vm_kb: Option<u64>,
    /// `task_memcg=` of the summary line, when the kernel printed it.
    pub cgroup: Option<String>,
    /// The line said `Memory cgroup out of memory` (a container's limit,
    /// not the machine's memory).
    pub memcg: bool,
}

impl Victim {
    /// Completes this description with what `other` (another line about the
    /// same kill) knows and this one does not.
    pub fn fill_from(&mut self, other: &Victim) {
        self.anon_rss_kb = self.anon_rss_kb.or(other.anon_rss_kb);
        self.total_vm_kb = self.total_vm_kb.or(other.total_vm_kb);
        if self.cgroup.is_none() {
            self.cgroup.clone_from(&other.cgroup);
        }
        self.memcg |= other.memcg;
    }
}

/// One OOM-killer line, as parsed.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct OomLine {
    pub stamp: Stamp,
    pub host: String,
    pub kind: OomLineKind,
    #[serde(flatten)]
    pub victim: Victim,
    pub origin: Origin,
}

/// One OOM kill after deduplication, placed in UTC.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct OomKill {
    pub utc: i64,
    pub offset: OffsetSecs,
    pub host: String,
    pub victim: Victim,
    /// The task whose allocation invoked the OOM killer, when logged.
    pub trigger: Option<String>,
    /// `path:line` of the line that described the kill best.
    pub source: String,
    /// The Kubernetes container (`namespace/pod/container`) its cgroup
    /// names, when one of the inputs is that container's log: the kill is
    /// then that container's as well as its node's.
    pub container: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_millis_are_the_float_sum_rounded() {
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        for _ in 0..200_000 {
            let width = 1 + next(9) as u32;
            let secs = next(10u64.pow(width));
            let places = next(4) as usize;
            let frac = next(10u64.pow(places as u32));
            let text = match places {
                0 => secs.to_string(),
                p => format!("{secs}.{frac:0p$}"),
            };
            let b = text.as_bytes();
            assert_eq!(plain_millis(b), float_millis(b), "{text}");
        }
        for odd in ["", ".5", "1.", "1.2345", "-1", "1e3", "0x1", "1234567890.1"] {
            assert_eq!(plain_millis(odd.as_bytes()), None, "{odd}");
        }
        assert_eq!(millis_of_seconds(b"0.1, 0.2"), Some(300));
        assert_eq!(millis_of_seconds(b"1.5"), Some(1500));
    }
}
