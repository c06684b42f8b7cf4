//! OpenWrt's `logread` output (busybox syslogd's default file layout on
//! routers and embedded Linux): a full ctime stamp with the year, the
//! facility and severity, then the tag and message, and no host:
//!
//! `Thu Feb  2 07:00:13 2023 kern.err kernel: [  518.050606] Out of memory: Killed process 4242 (python3) …`
//!
//! Local time without a zone. Kernel lines carry the uptime prefix, which
//! is dropped before the OOM-killer parser reads the message. Without this
//! reader such a file fell through to the lenient application format: its
//! lines "parsed", its OOM kills lost.

use super::oom;
use super::registry::{no_detail, Blocks, Format, Sniffed, Spec};
use super::syslog::strip_uptime;
use super::Line;
use crate::event::Stamp;
use crate::time;

const FACILITIES: &[&[u8]] = &[
    b"kern",
    b"user",
    b"mail",
    b"daemon",
    b"auth",
    b"syslog",
    b"lpr",
    b"news",
    b"uucp",
    b"cron",
    b"authpriv",
    b"ftp",
    b"local0",
    b"local1",
    b"local2",
    b"local3",
    b"local4",
    b"local5",
    b"local6",
    b"local7",
];

const SEVERITIES: &[&[u8]] = &[
    b"emerg", b"alert", b"crit", b"err", b"warn", b"notice", b"info", b"debug",
];

/// A line's naive stamp and its message (after `facility.severity tag: `,
/// the uptime prefix of kernel lines removed).
pub fn parse_line(line: &[u8]) -> Option<(i64, &[u8])> {
    parts(line).map(|(naive, _, msg)| (naive, msg))
}

/// [`parse_line`] with the line's facility (`kern`).
fn parts(line: &[u8]) -> Option<(i64, &[u8], &[u8])> {
    let naive = time::parse_ctime(line.get(..24)?)?;
    let rest = line.get(24..)?.strip_prefix(b" ")?;
    let sp = memchr::memchr(b' ', rest)?;
    let (fac, sev) = rest[..sp].split_at(memchr::memchr(b'.', &rest[..sp])?);
    if !FACILITIES.contains(&fac) || !SEVERITIES.contains(&&sev[1..]) {
        return None;
    }
    let msg = &rest[sp + 1..];
    // `tag: message`, `tag[pid]: message`.
    let body = memchr::memmem::find(msg, b": ").map_or(msg, |p| &msg[p + 2..]);
    Some((naive, fac, strip_uptime(body)))
}

/// OpenWrt / busybox `logread`.
pub static SPEC: Spec = Spec {
    name: "logread",
    aliases: &["openwrt", "busybox"],
    about: "OpenWrt / busybox logread: ctime stamp, facility.severity, tag",
    requests: false,
    blocks: Blocks::Lines,
    parse: |_, line| {
        parts(line).map(|(naive, facility, msg)| Line::System {
            stamp: Stamp::Local {
                naive,
                year_inferred: false,
            },
            host: None,
            process: None,
            msg: msg.into(),
            // `kern.err kernel: …`: the facility says who wrote it.
            kernel: facility == b"kern",
            oom: oom::parse(msg).map(Box::new),
            upstream: None,
        })
    },
    detail: no_detail,
    sniff: Some((56, |_, l| match parse_line(l) {
        Some(_) => Sniffed::Is(Format::Logread),
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
    fn kernel_and_daemon_lines() {
        let (t, msg) = parse_line(
            b"Thu Feb  2 07:00:13 2023 kern.err kernel: [  518.050606] Out of memory: Killed process 4242 (python3) total-vm:1kB, anon-rss:2kB",
        )
        .unwrap();
        assert_eq!(time::rfc3339(t, 0), "2023-02-02T07:00:13+00:00");
        assert!(
            msg.starts_with(b"Out of memory"),
            "{}",
            String::from_utf8_lossy(msg)
        );
        assert_eq!(oom::parse(msg).unwrap().victim.pid, Some(4242));
        let (_, msg) =
            parse_line(b"Thu Feb  2 07:00:14 2023 daemon.info dnsmasq[1234]: query[A] example.org")
                .unwrap();
        assert_eq!(msg, b"query[A] example.org");
        // Not a facility, or no severity.
        assert!(parse_line(b"Thu Feb  2 07:00:14 2023 INFO app started").is_none());
        assert!(parse_line(b"Thu Feb  2 07:00:14 2023 kern kernel: x").is_none());
        // The facility says whether the kernel wrote it.
        let fac = |l: &[u8]| parts(l).map(|(_, f, _)| f.to_vec());
        assert_eq!(
            fac(b"Thu Feb  2 07:00:14 2023 kern.err kernel: x"),
            Some(b"kern".to_vec())
        );
        assert_eq!(
            fac(b"Thu Feb  2 07:00:14 2023 daemon.info d[1]: x"),
            Some(b"daemon".to_vec())
        );
    }
}
