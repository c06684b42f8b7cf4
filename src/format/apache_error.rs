//! The Apache httpd error log (`ErrorLog`), both layouts:
//!
//! - 2.2: `[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] message`
//! - 2.4 (`ErrorLogFormat` default): `[Wed Oct 11 14:32:52.123456 2000]
//!   [core:error] [pid 1234:tid 5678] [client 1.2.3.4:5678] AH00126: message`
//!
//! The stamp is local time without a zone (placed like any zone-less log),
//! the second bracket a severity (`module:` before it in 2.4). Its lines
//! count no requests; what they say (a child killed by a signal, memory
//! exhausted) is matched like any system line's message. mod_proxy's
//! failures to reach a backend are upstream failures, as nginx's are
//! ([`proxy_failure`]): `AH00957` (connect failed, by its errno),
//! `AH01114` and proxy_fcgi's `AH01079` (no connection to the backend), `AH01102` (no status line:
//! timed out or closed), `AH00959` (the worker disabled). Without this
//! reader the 2.2 layout looked like `dmesg -T` output: every line "parsed",
//! its severity taken for a kernel message.

use super::nginx_error::UpstreamKind;
use super::registry::{no_detail, Blocks, Format, Sniffed, Spec};
use super::Line;
use crate::event::Stamp;
use crate::time;

/// httpd's severities (`LogLevel`), `trace1`…`trace8` included.
const LEVELS: &[&[u8]] = &[
    b"emerg", b"alert", b"crit", b"error", b"warn", b"notice", b"info", b"debug",
];

fn is_level(b: &[u8]) -> bool {
    // 2.4 writes `module:level`.
    let level = b.rsplit(|c| *c == b':').next().unwrap_or(b);
    LEVELS.contains(&level)
        || (level.len() == 6 && level.starts_with(b"trace") && (b'1'..=b'8').contains(&level[5]))
}

/// A line's naive stamp and its message (after the severity).
pub fn parse_line(line: &[u8]) -> Option<(i64, &[u8])> {
    let inner = line.strip_prefix(b"[")?;
    let close = memchr::memchr(b']', inner)?;
    let stamp = &inner[..close];
    // 2.4 adds microseconds after the seconds: drop them for ctime.
    let naive = match stamp.len() {
        24 => time::parse_ctime(stamp)?,
        31 if stamp[19] == b'.' && stamp[20..26].iter().all(u8::is_ascii_digit) => {
            let mut plain = [0u8; 24];
            plain[..19].copy_from_slice(&stamp[..19]);
            plain[19..].copy_from_slice(&stamp[26..]);
            time::parse_ctime(&plain)?
        }
        _ => return None,
    };
    let rest = inner[close + 1..].strip_prefix(b" [")?;
    let end = memchr::memchr(b']', rest)?;
    if !is_level(&rest[..end]) {
        return None;
    }
    let msg = &rest[end + 1..];
    Some((naive, msg.strip_prefix(b" ").unwrap_or(msg)))
}

/// The `(errno)text: ` httpd writes before a message (APR's status).
fn apr_status(msg: &[u8]) -> Option<u32> {
    let at = memchr::memmem::find(msg, b"] (")
        .map(|i| i + 3)
        .or_else(|| msg.starts_with(b"(").then_some(1))?;
    let digits = msg[at..].iter().take_while(|c| c.is_ascii_digit()).count();
    if msg.get(at + digits) != Some(&b')') {
        return None;
    }
    std::str::from_utf8(&msg[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

/// The backend a message names after `marker`, up to a space, `)` or the
/// end: `10.0.0.5:8080`.
fn backend_after(msg: &[u8], marker: &[u8]) -> Option<String> {
    let at = memchr::memmem::find(msg, marker)? + marker.len();
    let rest = &msg[at..];
    let end = rest
        .iter()
        .position(|c| matches!(c, b' ' | b')' | b',' | b'('))
        .unwrap_or(rest.len());
    let name = String::from_utf8_lossy(&rest[..end.min(120)]).into_owned();
    let name = name.split_once("://").map_or(name.as_str(), |(_, p)| p);
    let name = name.split('/').next().unwrap_or(name).to_string();
    (!name.is_empty()).then_some(name)
}

/// A mod_proxy failure to reach a backend: what happened and to which.
pub fn proxy_failure(msg: &[u8]) -> Option<(UpstreamKind, String)> {
    let by_errno = |timed_out_else: UpstreamKind| match apr_status(msg) {
        Some(111) => UpstreamKind::Refused,
        Some(110 | 70007) => UpstreamKind::TimedOut,
        Some(104) => UpstreamKind::Reset,
        _ => timed_out_else,
    };
    let has = |m: &[u8]| memchr::memmem::find(msg, m).is_some();
    // 2.2 wrote the same words without the code.
    if has(b"AH00957: ") || has(b"proxy: HTTP: attempt to connect to ") {
        let who = backend_after(msg, b"attempt to connect to ")?;
        Some((by_errno(UpstreamKind::ConnectFailed), who))
    } else if has(b"AH01114: ") || has(b"AH01079: ") {
        let who = backend_after(msg, b"connection to backend: ")?;
        Some((by_errno(UpstreamKind::ConnectFailed), who))
    } else if has(b"AH01102: ") {
        let who = backend_after(msg, b"remote server ")?;
        Some((by_errno(UpstreamKind::Closed), who))
    } else if has(b"AH00959: ") {
        let who = backend_after(msg, b"disabling worker for (")?;
        Some((UpstreamKind::NoLive, who))
    } else {
        None
    }
}

/// The Apache httpd error log.
pub static SPEC: Spec = Spec {
    name: "apache-error",
    aliases: &["httpd-error"],
    about: "Apache httpd error log (2.2 and 2.4 layouts)",
    requests: false,
    blocks: Blocks::Lines,
    parse: |_, line| {
        parse_line(line).map(|(naive, msg)| Line::System {
            stamp: Stamp::Local {
                naive,
                year_inferred: false,
            },
            host: None,
            process: None,
            msg: msg.into(),
            kernel: false,
            oom: None,
            upstream: proxy_failure(msg),
        })
    },
    detail: no_detail,
    // Before the syslog family, whose dmesg -T member reads the same stamp.
    sniff: Some((55, |_, l| match parse_line(l) {
        Some(_) => Sniffed::Is(Format::ApacheError),
        None => Sniffed::Pass,
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

    #[test]
    fn both_layouts_and_not_dmesg() {
        let (t, msg) = parse_line(
            b"[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration: /export/home/live/ap/htdocs/test",
        )
        .unwrap();
        assert_eq!(time::rfc3339(t, 0), "2000-10-11T14:32:52+00:00");
        assert!(msg.starts_with(b"[client 127.0.0.1] client denied"));
        let (t, msg) = parse_line(
            b"[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] File does not exist: /usr/local/apache2/htdocs/favicon.ico",
        )
        .unwrap();
        assert_eq!(time::rfc3339(t, 0), "2011-09-09T10:42:29+00:00");
        assert!(msg.starts_with(b"[pid 35708"));
        assert!(
            parse_line(b"[Thu Feb  2 07:00:12 2023] [notice] caught SIGTERM, shutting down")
                .is_some()
        );
        // dmesg -T: a kernel message after the stamp, no severity.
        assert!(
            parse_line(b"[Thu Feb  2 07:00:12 2023] Out of memory: Killed process 1 (a)").is_none()
        );
        assert!(parse_line(b"[Thu Feb  2 07:00:12 2023] [UFW BLOCK] IN=eth0").is_none());
        assert!(parse_line(b"[Thu Feb  2 07:00:12.12 2023] [error] x").is_none());
    }

    #[test]
    fn mod_proxy_failures_are_upstream_failures() {
        let ev = |l: &str| proxy_failure(parse_line(l.as_bytes()).unwrap().1);
        for (line, kind, who) in [
            (
                "[Thu Feb 02 07:00:13.123456 2023] [proxy:error] [pid 1234:tid 140] (111)Connection refused: AH00957: HTTP: attempt to connect to 10.0.0.5:8080 (10.0.0.5) failed",
                UpstreamKind::Refused,
                "10.0.0.5:8080",
            ),
            (
                "[Thu Feb 02 07:00:13.123456 2023] [proxy:error] [pid 1234:tid 140] (110)Connection timed out: AH00957: HTTP: attempt to connect to 10.0.0.5:8080 (10.0.0.5) failed",
                UpstreamKind::TimedOut,
                "10.0.0.5:8080",
            ),
            (
                "[Thu Feb 02 07:00:13.123456 2023] [proxy_http:error] [pid 1234:tid 140] [client 203.0.113.7:51234] AH01114: HTTP: failed to make connection to backend: 10.0.0.5",
                UpstreamKind::ConnectFailed,
                "10.0.0.5",
            ),
            (
                "[Thu Feb 02 07:00:13.123456 2023] [proxy_http:error] [pid 1234:tid 140] (70007)The timeout specified has expired: [client 203.0.113.7:51234] AH01102: error reading status line from remote server 10.0.0.5:8080",
                UpstreamKind::TimedOut,
                "10.0.0.5:8080",
            ),
            (
                "[Thu Feb 02 07:00:13.123456 2023] [proxy_http:error] [pid 1234:tid 140] (104)Connection reset by peer: [client 203.0.113.7:51234] AH01102: error reading status line from remote server 10.0.0.5:8080",
                UpstreamKind::Reset,
                "10.0.0.5:8080",
            ),
            (
                "[Thu Feb 02 07:00:13.123456 2023] [proxy_fcgi:error] [pid 1234:tid 140] [client 203.0.113.7:51234] AH01079: failed to make connection to backend: 127.0.0.1:9000",
                UpstreamKind::ConnectFailed,
                "127.0.0.1:9000",
            ),
            (
                "[Thu Feb 02 07:00:13.123456 2023] [proxy:error] [pid 1234:tid 140] (111)Connection refused: AH00957: FCGI: attempt to connect to 127.0.0.1:9000 (*) failed",
                UpstreamKind::Refused,
                "127.0.0.1:9000",
            ),
            (
                "[Thu Feb 02 07:00:13.123456 2023] [proxy:error] [pid 1234:tid 140] AH00959: ap_proxy_connect_backend disabling worker for (10.0.0.5) for 60s",
                UpstreamKind::NoLive,
                "10.0.0.5",
            ),
            (
                "[Thu Feb 02 07:00:13 2023] [error] (111)Connection refused: proxy: HTTP: attempt to connect to 10.0.0.5:8080 (10.0.0.5) failed",
                UpstreamKind::Refused,
                "10.0.0.5:8080",
            ),
        ] {
            let got = ev(line);
            assert_eq!(got, Some((kind, who.to_string())), "{line}");
        }
        assert_eq!(
            ev("[Thu Feb 02 07:00:13 2023] [core:error] [pid 1] AH00126: Invalid URI in request GET /x"),
            None
        );
    }
}
