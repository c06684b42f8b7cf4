//! The nginx error log: every line is parsed (its stamp and level); the
//! upstream failures that accompany 502/504 responses, and workers killed by
//! a signal, become events on the timeline.
//!
//! ```text
//! YYYY/MM/DD HH:MM:SS [LEVEL] PID#TID: *CID MESSAGE[ (ERRNO: STRERROR)][ while ACTION][, client: …][, upstream: "URL"][, host: "…"]
//! ```
//!
//! The stamp is the server's local time with no zone; it is placed like a
//! syslog stamp. Messages are told apart by their fixed text and the errno
//! number (its text depends on the C library), never by the strerror text.

use std::fmt;

use memchr::memmem;

use crate::time;

/// What went wrong between nginx and an upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[warn(missing_docs)]
pub enum UpstreamKind {
    /// `connect() failed (111: Connection refused)`.
    Refused,
    /// `connect() to unix:… failed (11: Resource temporarily unavailable)`:
    /// the listen queue is full.
    QueueFull,
    /// Any other failed `connect()`.
    ConnectFailed,
    /// `upstream timed out (110: …)`.
    TimedOut,
    /// `upstream prematurely closed connection`.
    Closed,
    /// `recv() failed (104: Connection reset by peer)`.
    Reset,
    /// `no live upstreams`.
    NoLive,
    /// `upstream sent invalid header` / `too big header`.
    BadHeader,
    /// `worker process N exited on signal S`.
    WorkerKilled,
    /// A load balancer answered a request with a 5xx itself, no target
    /// taking it (an AWS load balancer's entry with target `-`): no
    /// healthy target, or none it could reach.
    LbAnswered,
}

impl UpstreamKind {
    pub const ALL: [UpstreamKind; 10] = [
        UpstreamKind::Refused,
        UpstreamKind::QueueFull,
        UpstreamKind::ConnectFailed,
        UpstreamKind::TimedOut,
        UpstreamKind::Closed,
        UpstreamKind::Reset,
        UpstreamKind::NoLive,
        UpstreamKind::BadHeader,
        UpstreamKind::WorkerKilled,
        UpstreamKind::LbAnswered,
    ];

    /// The kind's name in JSON.
    pub fn name(&self) -> &'static str {
        match self {
            UpstreamKind::Refused => "refused",
            UpstreamKind::QueueFull => "queue-full",
            UpstreamKind::ConnectFailed => "connect-failed",
            UpstreamKind::TimedOut => "timed-out",
            UpstreamKind::Closed => "closed",
            UpstreamKind::Reset => "reset",
            UpstreamKind::NoLive => "no-live-upstreams",
            UpstreamKind::BadHeader => "bad-header",
            UpstreamKind::WorkerKilled => "worker-killed",
            UpstreamKind::LbAnswered => "lb-answered",
        }
    }

    /// What happened, as a verb phrase after the upstream's name.
    pub fn describe(&self) -> &'static str {
        match self {
            UpstreamKind::Refused => "refused connections",
            UpstreamKind::QueueFull => "had a full listen queue",
            UpstreamKind::ConnectFailed => "could not be connected to",
            UpstreamKind::TimedOut => "timed out",
            UpstreamKind::Closed => "closed connections before answering",
            UpstreamKind::Reset => "reset connections",
            UpstreamKind::NoLive => "had no live servers",
            UpstreamKind::BadHeader => "sent invalid headers",
            UpstreamKind::WorkerKilled => "was killed",
            UpstreamKind::LbAnswered => "answered 5xx itself, no target taking the requests",
        }
    }
}

/// In JSON, a kind is its name.
impl serde::Serialize for UpstreamKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for UpstreamKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        UpstreamKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| {
                serde::de::Error::custom(format!("unknown upstream failure kind '{name}'"))
            })
    }
}

impl fmt::Display for UpstreamKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One parsed error-log line.
#[derive(Debug, PartialEq, Eq)]
pub struct ErrorLine {
    /// Local wall-clock seconds (read as if UTC).
    pub naive: i64,
    /// An upstream failure or a killed worker: what and whom.
    pub event: Option<(UpstreamKind, String)>,
}

const LEVELS: &[&[u8]] = &[
    b"emerg", b"alert", b"crit", b"error", b"warn", b"notice", b"info", b"debug",
];

/// Parses one error-log line.
pub fn parse_line(line: &[u8]) -> Option<ErrorLine> {
    let naive = time::year_month_day_slashed(line.get(..19)?)?;
    let rest = line[19..].strip_prefix(b" [")?;
    let close = memchr::memchr(b']', rest)?;
    if !LEVELS.contains(&&rest[..close]) {
        return None;
    }
    let rest = rest[close + 1..].strip_prefix(b" ")?;
    // PID#TID:
    let pid = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    let rest = rest[pid..].strip_prefix(b"#")?;
    let tid = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if pid == 0 || tid == 0 {
        return None;
    }
    let msg = rest[tid..].strip_prefix(b": ")?;
    Some(ErrorLine {
        naive,
        event: classify(msg),
    })
}

fn has(h: &[u8], n: &str) -> bool {
    memmem::find(h, n.as_bytes()).is_some()
}

/// The errno of a ` (NNN: text)` suffix following `after`.
fn errno_after(msg: &[u8], after: &str) -> Option<u32> {
    let at = memmem::find(msg, after.as_bytes())? + after.len();
    let rest = msg[at..].strip_prefix(b"(")?;
    let n = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..n]).ok()?.parse().ok()
}

/// The value of `, upstream: "…"`: the peer (`10.0.0.5:5000`,
/// `unix:/run/app.sock`) without scheme and path, or a group name.
fn upstream_field(msg: &[u8]) -> Option<String> {
    let at = memmem::find(msg, b", upstream: \"")? + 13;
    let end = memchr::memchr(b'"', &msg[at..])?;
    let url = String::from_utf8_lossy(&msg[at..at + end]).into_owned();
    let peer = url.split_once("://").map_or(url.as_str(), |(_, p)| p);
    let peer = peer.trim_start_matches('/');
    let peer = if peer.starts_with("unix:") {
        peer.split(':').take(2).collect::<Vec<_>>().join(":")
    } else {
        peer.split('/').next().unwrap_or(peer).to_string()
    };
    // Whatever nginx wrote, the event names some upstream.
    Some(if peer.is_empty() {
        "upstream".to_string()
    } else {
        peer
    })
}

/// `connect() to PEER failed`: the peer named in the message itself.
fn connect_peer(msg: &[u8]) -> Option<String> {
    let at = memmem::find(msg, b"connect() to ")? + 13;
    let end = memmem::find(&msg[at..], b" failed")?;
    let peer = String::from_utf8_lossy(&msg[at..at + end]).into_owned();
    (!peer.is_empty()).then_some(peer)
}

fn classify(msg: &[u8]) -> Option<(UpstreamKind, String)> {
    if has(msg, "worker process ") && has(msg, " exited on signal ") {
        let at = memmem::find(msg, b"worker process ")? + 15;
        let pid: String = msg[at..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .map(|c| *c as char)
            .collect();
        let sig_at = memmem::find(msg, b" exited on signal ")? + 18;
        let sig: String = msg[sig_at..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .map(|c| *c as char)
            .collect();
        return Some((
            UpstreamKind::WorkerKilled,
            format!("nginx worker {pid} (signal {sig})"),
        ));
    }
    let kind = if has(msg, "connect() failed (") || has(msg, "connect() to ") {
        let errno = errno_after(msg, "failed ");
        match errno {
            Some(111) => UpstreamKind::Refused,
            Some(11) => UpstreamKind::QueueFull,
            _ => UpstreamKind::ConnectFailed,
        }
    } else if has(msg, "upstream timed out") {
        UpstreamKind::TimedOut
    } else if has(msg, "upstream prematurely closed connection") {
        UpstreamKind::Closed
    } else if has(msg, "recv() failed (104") && has(msg, "upstream") {
        UpstreamKind::Reset
    } else if has(msg, "no live upstreams") {
        UpstreamKind::NoLive
    } else if has(msg, "upstream sent invalid header") || has(msg, "upstream sent too big header") {
        UpstreamKind::BadHeader
    } else if has(msg, "while SSL handshaking to upstream") {
        // The TLS handshake with the upstream failed (its certificate,
        // its protocol versions, or it closed the connection).
        UpstreamKind::ConnectFailed
    } else {
        return None;
    };
    let who = upstream_field(msg)
        .or_else(|| connect_peer(msg))
        .unwrap_or_else(|| "upstream".to_string());
    Some((kind, who))
}

/// The nginx error log in the registry.
pub static SPEC: super::registry::Spec = super::registry::Spec {
    name: "nginx-error",
    aliases: &[],
    about: "nginx error log: upstream failures, killed workers",
    requests: false,
    blocks: super::registry::Blocks::Lines,
    parse: |_, line| {
        let Some(e) = parse_line(line) else {
            // A multi-line `FastCGI sent in stderr: "…` message goes on
            // with one line for each line PHP wrote (Beats' nginx error
            // test log): read as the message's, searched for signals at
            // its time, like an application's traceback.
            return line
                .starts_with(b"PHP message: ")
                .then_some(super::Line::App {
                    stamp: None,
                    request_shaped: false,
                });
        };
        Some(super::Line::System {
            stamp: crate::event::Stamp::Local {
                naive: e.naive,
                year_inferred: false,
            },
            host: None,
            process: None,
            msg: line.into(),
            kernel: false,
            oom: None,
            upstream: e.event,
        })
    },
    detail: super::registry::no_detail,
    sniff: Some((0, |_, l| match parse_line(l) {
        Some(_) => super::registry::Sniffed::Is(super::registry::Format::NginxError),
        None => super::registry::Sniffed::Pass,
    })),
    lenient: None,
    seed: None,
    evidence: None,
    caveat: None,
    unplaced: None,
};

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_675_321_204; // 2023-02-02 07:00:04 as naive seconds

    fn ev(l: &str) -> Option<(UpstreamKind, String)> {
        parse_line(l.as_bytes()).unwrap().event
    }

    #[test]
    fn a_fastcgi_message_s_later_lines_are_its_own() {
        use super::super::{Format, LineParser, YearRule};
        let years = YearRule {
            fixed: None,
            reference: (2023, 3, 31),
            boot: None,
            written: None,
        };
        let mut parser = LineParser::new(Format::NginxError, years);
        let mut p = |l: &'static [u8]| parser.parse(l);
        assert_eq!(
            p(b"PHP message: PHP Warning:  Declaration of A::wrap() in /x.php on line 0"),
            Some(super::super::Line::App {
                stamp: None,
                request_shaped: false
            })
        );
        assert_eq!(p(b"GET / HTTP/1.1"), None);
        assert!(matches!(
            p(b"2023/02/02 07:00:04 [error] 1#1: *9 FastCGI sent in stderr: \"PHP message: x"),
            Some(super::super::Line::System { .. })
        ));
    }

    #[test]
    fn tls_handshake_with_the_upstream() {
        let l = "2023/02/02 07:00:04 [error] 184#184: *94 SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number) while SSL handshaking to upstream, client: 10.1.2.3, server: shop, request: \"GET / HTTP/1.1\", upstream: \"https://10.0.0.5:443/\", host: \"shop.example\"";
        assert_eq!(
            ev(l),
            Some((UpstreamKind::ConnectFailed, "10.0.0.5:443".into()))
        );
    }

    #[test]
    fn upstream_failures_of_every_kind() {
        let l = "2023/02/02 07:00:04 [error] 184#184: *94 connect() failed (111: Connection refused) while connecting to upstream, client: 10.1.2.3, server: shop, request: \"GET / HTTP/1.1\", upstream: \"http://127.0.0.1:5000/\", host: \"shop.example\"";
        assert_eq!(parse_line(l.as_bytes()).unwrap().naive, T);
        assert_eq!(
            ev(l),
            Some((UpstreamKind::Refused, "127.0.0.1:5000".into()))
        );
        assert_eq!(
            ev("2023/02/02 07:00:04 [crit] 9#9: *1 connect() to unix:/run/php/php-fpm.sock failed (11: Resource temporarily unavailable) while connecting to upstream, client: 1.2.3.4, server: , request: \"GET /x.php HTTP/1.1\", upstream: \"fastcgi://unix:/run/php/php-fpm.sock:\", host: \"h\""),
            Some((UpstreamKind::QueueFull, "unix:/run/php/php-fpm.sock".into()))
        );
        // The errno text differs by C library; the number decides.
        assert_eq!(
            ev("2023/03/08 16:02:40 [error] 31#31: *569 upstream timed out (110: Operation timed out) while connecting to upstream, client: 108.162.227.25, server: dev, request: \"GET / HTTP/1.1\", upstream: \"http://192.168.215.1:80/\", host: \"dev\""),
            Some((UpstreamKind::TimedOut, "192.168.215.1:80".into()))
        );
        assert_eq!(
            ev("2016/03/15 02:21:37 [error] 28937#0: *50 upstream prematurely closed connection while reading response header from upstream, client: 10.23.3.124, server: go, request: \"GET /favicon.ico HTTP/1.1\", upstream: \"http://172.17.0.3:5000/favicon.ico\", host: \"g\", referrer: \"http://g/\""),
            Some((UpstreamKind::Closed, "172.17.0.3:5000".into()))
        );
        assert_eq!(
            ev("2023/02/02 07:00:04 [error] 7#7: *3 recv() failed (104: Connection reset by peer) while reading response header from upstream, client: 1.2.3.4, server: s, request: \"GET / HTTP/1.1\", upstream: \"http://10.0.0.5:8080/\", host: \"h\""),
            Some((UpstreamKind::Reset, "10.0.0.5:8080".into()))
        );
        assert_eq!(
            ev("2023/02/02 07:00:04 [error] 7#7: *3 no live upstreams while connecting to upstream, client: 1.2.3.4, server: s, request: \"GET / HTTP/1.1\", upstream: \"http://backend/\", host: \"h\""),
            Some((UpstreamKind::NoLive, "backend".into()))
        );
        // Found by the fuzzer: a URL with no host left an empty name.
        assert_eq!(
            ev("2023/02/02 07:00:04 [error] 7#7: *3 upstream timed out (110: x) while connecting to upstream, upstream: \"http:///a\""),
            Some((UpstreamKind::TimedOut, "a".into()))
        );
        assert_eq!(
            ev("2023/02/02 07:00:04 [error] 7#7: *3 upstream timed out (110: x) while connecting to upstream, upstream: \"\""),
            Some((UpstreamKind::TimedOut, "upstream".into()))
        );
        assert_eq!(
            ev("2017/03/18 11:32:46 [alert] 29425#29425: worker process 15186 exited on signal 9"),
            Some((
                UpstreamKind::WorkerKilled,
                "nginx worker 15186 (signal 9)".into()
            ))
        );
        assert_eq!(
            ev("2023/02/02 07:00:04 [notice] 1#1: signal process started"),
            None
        );
    }

    #[test]
    fn rejects_other_lines() {
        for l in [
            "",
            "2023/02/02 07:00:04",
            "2023/02/02 07:00:04 [oops] 1#1: x",
            "2023/02/02 07:00:04 [error] x#1: y",
            "2023-02-02 07:00:04 [error] 1#1: y",
            "2023/13/02 07:00:04 [error] 1#1: y",
            "1.2.3.4 - - [02/Feb/2023:07:00:22 +0300] \"GET / HTTP/1.1\" 200 1",
        ] {
            assert_eq!(parse_line(l.as_bytes()), None, "{l}");
        }
    }
}
