//! The Apache httpd error log (`ErrorLog`), both layouts:
//!
//! - 2.2: `[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] message`
//! - 2.4 (`ErrorLogFormat` default): `[Wed Oct 11 14:32:52.123456 2000]
//!   [core:error] [pid 1234:tid 5678] [client 1.2.3.4:5678] AH00126: message`
//!
//! The stamp is local time without a zone (placed like any zone-less log),
//! the second bracket a severity (`module:` before it in 2.4). Its lines
//! count no requests; what they say (a child killed by a signal, memory
//! exhausted) is matched like any system line's message. Without this
//! reader the 2.2 layout looked like `dmesg -T` output: every line "parsed",
//! its severity taken for a kernel message.

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
            msg,
            oom: None,
            upstream: None,
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
}
