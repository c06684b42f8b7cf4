//! The framings kernel and daemon lines arrive in, all read by one parser:
//!
//! | name             | example stamp and layout                                        |
//! |------------------|-----------------------------------------------------------------|
//! | `syslog`         | `Feb  2 07:00:12 web-01 kernel: msg` (RFC 3164, rsyslog traditional, optional `<PRI>`) |
//! | `journal`        | `Feb 02 07:00:12[.050705] web-01 kernel: msg` (journalctl short, short-precise) |
//! | `syslog-rfc3339` | `2023-02-02T07:00:12.345678+03:00 web-01 kernel: msg` (rsyslog file format, journalctl short-iso) |
//! | `rfc5424`        | `<3>1 2023-02-02T07:00:12Z web-01 kernel - - - msg`              |
//! | `dmesg`          | `[Thu Feb  2 07:00:12 2023] msg` (dmesg -T) or `2023-02-02T07:00:12,345678+03:00 msg` (--time-format iso) |
//!
//! The kernel's own `[  518.050606]` uptime prefix (and `[ T1234]` caller id)
//! is removed from the message. Year-less stamps are placed in a year by the
//! caller's [`YearRule`]; zone-less stamps stay local until the run knows the
//! host's zone.

use super::proxies;
use crate::event::Stamp;
use crate::time::{self, BsdStamp};

/// The member of the family a line's shape shows; used to name the format.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Flavor {
    Rfc3164,
    Journal,
    Rfc3339,
    Rfc5424,
    Dmesg,
}

/// How to give a year to a stamp that has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct YearRule {
    /// `--year`.
    pub fixed: Option<i64>,
    /// (year, month, day, UTC) up to which the file is known to have been
    /// written: its modification time, or now for standard input.
    pub reference: (i64, u32, u32),
    /// `--boot-time`: the UTC instant the kernel's uptime stamps count
    /// from (raw `dmesg`); `None` leaves such lines unplaced.
    pub boot: Option<i64>,
    /// The UTC instant the input was written (its modification time, now
    /// for standard input): what ages count back from (`kubectl get
    /// events`); `None` leaves such lines unplaced.
    pub written: Option<i64>,
}

impl YearRule {
    fn place(&self, s: &BsdStamp) -> Option<Stamp> {
        let year = self
            .fixed
            .unwrap_or_else(|| time::infer_year(s.month, s.day, self.reference));
        Some(Stamp::Local {
            naive: time::bsd_in_year(s, year)?,
            year_inferred: self.fixed.is_none(),
        })
    }
}

/// One framed line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    pub stamp: Stamp,
    /// The host the line names; `None` for dmesg, which names none.
    pub host: Option<&'a [u8]>,
    /// The message after the tag, a kernel uptime prefix still on it
    /// (see [`Frame::msg`]).
    pub body: &'a [u8],
    pub flavor: Flavor,
    /// The kernel wrote it: its tag is `kernel` (`kernel[0]` on macOS),
    /// or it is a dmesg line that names no other.
    pub kernel: bool,
}

impl<'a> Frame<'a> {
    /// The message, without tag and kernel uptime prefix: stripped when
    /// asked for, since most lines of a kernel log are only counted.
    pub fn msg(&self) -> &'a [u8] {
        strip_uptime(self.body)
    }
}

fn iso_stamp(s: &time::IsoStamp) -> Stamp {
    match s.offset {
        Some(offset) => Stamp::Zoned {
            utc: s.naive - offset as i64,
            offset,
        },
        None => Stamp::Local {
            naive: s.naive,
            year_inferred: false,
        },
    }
}

fn token(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = memchr::memchr(b' ', b).unwrap_or(b.len());
    if end == 0 {
        return None;
    }
    Some((&b[..end], b.get(end + 1..).unwrap_or(&[])))
}

/// Whether a token can be a host name as syslog writes it: a name or an
/// IPv4/IPv6 address (`[exec-3]`, an application's thread, is not).
fn hostname(h: &[u8]) -> bool {
    h.len() <= 255
        && h.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b':' | b'%'))
}

/// Whether `TAG[PID]: msg` is the kernel's: `kernel: `, or macOS's
/// `kernel[0]: `.
fn kernel_tag(rest: &[u8]) -> bool {
    rest.strip_prefix(b"kernel")
        .is_some_and(|r| r.starts_with(b": ") || r.starts_with(b"[0]: "))
}

/// A line of a multi-line message after its first: indented, as dmesg
/// and journalctl print them (the kernel's `Mem-Info:` block of an OOM
/// dump, `   active_file:9815 inactive_file:20182 …`). No frame starts
/// with a blank; nothing is read from it.
fn continuation(line: &[u8]) -> bool {
    matches!(line.first(), Some(b' ' | b'\t')) && !line.trim_ascii().is_empty()
}

/// `TAG[PID]: msg` → `msg`. Lines without a tag keep their whole text.
fn after_tag(rest: &[u8]) -> &[u8] {
    if let Some(c) = memchr::memmem::find(rest, b": ") {
        if !rest[..c].contains(&b' ') {
            return &rest[c + 2..];
        }
    } else if rest.ends_with(b":") && !rest.contains(&b' ') {
        return &[];
    }
    rest
}

/// A raw kernel-ring line, `[  518.050606] msg`: the whole seconds since
/// boot and the message.
pub fn uptime_line(line: &[u8]) -> Option<(i64, &[u8])> {
    let inner = line.strip_prefix(b"[")?;
    let close = memchr::memchr(b']', inner)?;
    let stamp = inner[..close].trim_ascii_start();
    let dot = memchr::memchr(b'.', stamp)?;
    let (whole, frac) = (&stamp[..dot], &stamp[dot + 1..]);
    if whole.is_empty()
        || whole.len() > 12
        || frac.is_empty()
        || !whole.iter().all(u8::is_ascii_digit)
        || !frac.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    let secs = std::str::from_utf8(whole).ok()?.parse().ok()?;
    let msg = &inner[close + 1..];
    Some((secs, msg.strip_prefix(b" ").unwrap_or(msg)))
}

/// The host and message (a printk prefix still on it, see [`Frame::msg`])
/// of a `journalctl -o short-monotonic` line after its uptime:
/// `web-01 kernel: msg`, `web-01 systemd[1]: msg`. Only those
/// two shapes of tag, so that a raw dmesg message (`usb 1-1: new device`,
/// `EXT4-fs (sda1): mounted`) is not taken for one.
fn monotonic_host(msg: &[u8]) -> Option<(&[u8], &[u8])> {
    let (host, rest) = msg.split_at(memchr::memchr(b' ', msg)?);
    let rest = &rest[1..];
    let tag_end = memchr::memchr(b' ', rest)?;
    let tag = rest[..tag_end].strip_suffix(b":")?;
    let pid_tag = tag.strip_suffix(b"]").is_some_and(|t| {
        memchr::memchr(b'[', t).is_some_and(|open| {
            let pid = &t[open + 1..];
            open > 0 && !pid.is_empty() && pid.iter().all(u8::is_ascii_digit)
        })
    });
    ((tag == b"kernel" || pid_tag) && hostname(host)).then(|| (host, &rest[tag_end + 1..]))
}

/// The tag (program name, without `[pid]`) of a framed line whose message
/// is `msg`, a slice of `line`: the word before the message.
pub fn tag_of<'a>(line: &'a [u8], msg: &[u8]) -> Option<&'a [u8]> {
    let start = (msg.as_ptr() as usize).checked_sub(line.as_ptr() as usize)?;
    let head = line.get(..start)?;
    let head = head
        .strip_suffix(b": ")
        .or_else(|| head.strip_suffix(b":"))?;
    let word = head.rsplit(|c| *c == b' ').next()?;
    let word = match memchr::memchr(b'[', word) {
        Some(p) => &word[..p],
        None => word,
    };
    (!word.is_empty()).then_some(word)
}

/// Removes `[  518.050606] ` and a following printk caller id, `[ T1234] `
/// (a thread) or `[    C1] ` (a CPU); not a message's own bracketed word
/// (`[UFW BLOCK] IN=eth0 …` keeps it).
pub fn strip_uptime(msg: &[u8]) -> &[u8] {
    let mut m = msg;
    if let Some(rest) = bracket(m, |c| c.is_ascii_digit() || c == b'.' || c == b' ') {
        m = rest;
        if let Some(rest) = bracket(m, |c| c.is_ascii_alphanumeric() || c == b' ') {
            let id = m[1..].trim_ascii_start();
            let caller = matches!(id.first(), Some(b'T' | b'C'))
                && id[1..].iter().take_while(|c| c.is_ascii_digit()).count() > 0
                && id[1..].iter().find(|c| !c.is_ascii_digit()) == Some(&b']');
            if caller {
                m = rest;
            }
        }
    }
    m
}

fn bracket(m: &[u8], ok: impl Fn(u8) -> bool) -> Option<&[u8]> {
    let inner = m.strip_prefix(b"[")?;
    let close = memchr::memchr(b']', inner)?;
    if close == 0 || close > 20 || !inner[..close].iter().all(|c| ok(*c)) {
        return None;
    }
    let rest = &inner[close + 1..];
    Some(rest.strip_prefix(b" ").unwrap_or(rest))
}

fn strip_pri(line: &[u8]) -> &[u8] {
    if let Some(inner) = line.strip_prefix(b"<") {
        let n = inner.iter().take_while(|c| c.is_ascii_digit()).count();
        if (1..=3).contains(&n) && inner.get(n) == Some(&b'>') {
            return &inner[n + 1..];
        }
    }
    line
}

/// Parses one line of any member of the family.
pub fn parse_frame<'a>(line: &'a [u8], years: &YearRule) -> Option<Frame<'a>> {
    let had_pri = line.first() == Some(&b'<');
    let body = strip_pri(line);
    if had_pri {
        if let Some(rest) = body.strip_prefix(b"1 ") {
            return rfc5424(rest);
        }
    }
    match *body.first()? {
        b'[' => {
            if let Some((secs, msg)) = uptime_line(body) {
                // Raw dmesg: "[  518.050606] msg", placed from --boot-time;
                // journalctl -o short-monotonic names a host and a tag.
                let utc = years.boot? + secs;
                let (host, body, kernel) = match monotonic_host(msg) {
                    Some((host, rest)) => (Some(host), rest, kernel_tag(&msg[host.len() + 1..])),
                    None => (None, msg, true),
                };
                return Some(Frame {
                    stamp: Stamp::Zoned { utc, offset: 0 },
                    host,
                    body,
                    flavor: Flavor::Dmesg,
                    kernel,
                });
            }
            // dmesg -T: "[Thu Feb  2 07:00:12 2023] msg"
            let inner = &body[1..];
            let naive = time::parse_ctime(inner.get(..24)?)?;
            let rest = inner.get(24..)?.strip_prefix(b"]")?;
            let msg = rest.strip_prefix(b" ").unwrap_or(rest);
            Some(Frame {
                stamp: Stamp::Local {
                    naive,
                    year_inferred: false,
                },
                host: None,
                body: msg,
                flavor: Flavor::Dmesg,
                kernel: true,
            })
        }
        b'0'..=b'9' => {
            // rsyslog, journalctl -o short-iso and dmesg --time-format iso
            // all write the `T`; `2023-02-02 07:00:01.120 [main] INFO` is
            // an application's log, not syslog.
            if body.get(10) != Some(&b'T') {
                return None;
            }
            let (iso, used) = time::parse_iso(body)?;
            let rest = body.get(used..)?.strip_prefix(b" ")?;
            // dmesg --time-format iso writes no host, and always its
            // zone (util-linux: `2023-02-02T07:00:12,345678+01:00`); a
            // comma fraction without a zone is Log4j's or Logback's
            // `2025-01-24T07:00:30,139 INFO [main] …`, an application's.
            if iso.comma_fraction && iso.offset.is_some() {
                return Some(Frame {
                    stamp: iso_stamp(&iso),
                    host: None,
                    body: rest,
                    flavor: Flavor::Dmesg,
                    kernel: true,
                });
            }
            let (host, rest) = token(rest).filter(|(h, _)| hostname(h))?;
            Some(Frame {
                stamp: iso_stamp(&iso),
                host: Some(host),
                body: after_tag(rest),
                flavor: Flavor::Rfc3339,
                kernel: kernel_tag(rest),
            })
        }
        _ => {
            let (bsd, used) = time::parse_bsd(body)?;
            let rest = body.get(used..)?.strip_prefix(b" ")?;
            let (host, rest) = token(rest)?;
            Some(Frame {
                stamp: years.place(&bsd)?,
                host: Some(host),
                body: after_tag(rest),
                flavor: if bsd.zero_padded || bsd.has_fraction {
                    Flavor::Journal
                } else {
                    Flavor::Rfc3164
                },
                kernel: kernel_tag(rest),
            })
        }
    }
}

/// [`parse_frame`] with a memory: the lines of a busy log repeat the line
/// before them through their tag (`Feb  2 07:00:12 web-01 kernel: `), and
/// such a line has the same stamp, host and flavor, and its message after
/// the same point. Its frame is then taken without parsing the stamp.
///
/// Kept only for the flavors whose frame those bytes decide alone (BSD,
/// journal and RFC 3339 stamps with a host and a `tag: `), so
/// `Repeat::frame` answers what `parse_frame` does for every line.
#[derive(Debug, Default)]
pub struct Repeat {
    /// The bytes through the tag's `: ` of the line kept.
    prefix: Vec<u8>,
    host: (usize, usize),
    /// The kept line's stamp and flavor; `None` when no line is kept.
    kept: Option<(Stamp, Flavor)>,
    /// Whether the kept line's tag is the kernel's.
    kernel: bool,
    /// A line is kept and its stamp is in range: lines can repeat it.
    repeatable: bool,
    /// Changes whenever a line is kept.
    generation: u32,
}

impl Repeat {
    /// The frame of `line`, as [`parse_frame`] reads it.
    #[inline]
    pub fn frame<'a>(&mut self, line: &'a [u8], years: &YearRule) -> Option<Frame<'a>> {
        if let Some((stamp, flavor)) = self.kept {
            if line.starts_with(&self.prefix) {
                return Some(Frame {
                    stamp,
                    host: Some(&line[self.host.0..self.host.1]),
                    body: &line[self.prefix.len()..],
                    flavor,
                    kernel: self.kernel,
                });
            }
        }
        let fr = parse_frame(line, years)?;
        self.learn(line, &fr);
        Some(fr)
    }

    /// When `line` repeats the kept line through its tag, whose stamp is
    /// in range, and its body cannot be an HAProxy request
    /// ([`proxies::may_be_haproxy`]): whether the kernel wrote it
    /// ([`Frame::kernel`]). Such a line [`specs`]' parser reads as a system
    /// line with the kept stamp ([`Repeat::kept`]) and host.
    #[inline]
    pub fn repeats(&self, line: &[u8]) -> Option<bool> {
        if !self.repeatable {
            return None;
        }
        let body = line.strip_prefix(&self.prefix[..])?;
        (!proxies::may_be_haproxy(body)).then_some(self.kernel)
    }

    /// The kept line's stamp, and a number that changes whenever a line
    /// is kept (cheaper to compare than stamps, for every line).
    pub fn kept(&self) -> (Option<Stamp>, u32) {
        (self.kept.map(|(s, _)| s), self.generation)
    }

    fn learn(&mut self, line: &[u8], fr: &Frame) {
        self.kept = None;
        self.repeatable = false;
        if !matches!(
            fr.flavor,
            Flavor::Rfc3164 | Flavor::Journal | Flavor::Rfc3339
        ) {
            return;
        }
        let Some(host) = fr.host else {
            return;
        };
        let start = host.as_ptr() as usize - line.as_ptr() as usize;
        let end = start + host.len();
        if line.get(end) != Some(&b' ') {
            return;
        }
        let rest = &line[end + 1..];
        let Some(c) = memchr::memmem::find(rest, b": ") else {
            return;
        };
        if rest[..c].contains(&b' ') {
            return;
        }
        self.prefix.clear();
        self.prefix.extend_from_slice(&line[..end + 1 + c + 2]);
        self.host = (start, end);
        self.kept = Some((fr.stamp, fr.flavor));
        self.kernel = fr.kernel;
        self.repeatable = fr.stamp.in_range();
        self.generation = self.generation.wrapping_add(1);
    }
}

/// `TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]` after `<PRI>1 `.
fn rfc5424(b: &[u8]) -> Option<Frame<'_>> {
    let (ts, rest) = token(b)?;
    let (iso, used) = time::parse_iso(ts)?;
    if used != ts.len() {
        return None;
    }
    let stamp = if ts == b"-" {
        return None;
    } else {
        iso_stamp(&iso)
    };
    let (host, rest) = token(rest)?;
    let (app, rest) = token(rest)?;
    let (_procid, rest) = token(rest)?;
    let (_msgid, rest) = token(rest)?;
    let msg = skip_structured_data(rest)?;
    let msg = msg.strip_prefix("\u{feff}".as_bytes()).unwrap_or(msg);
    Some(Frame {
        stamp,
        host: (host != b"-").then_some(host),
        body: msg,
        flavor: Flavor::Rfc5424,
        kernel: app == b"kernel",
    })
}

fn skip_structured_data(b: &[u8]) -> Option<&[u8]> {
    if let Some(rest) = b.strip_prefix(b"-") {
        return Some(rest.strip_prefix(b" ").unwrap_or(rest));
    }
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        i += 1;
        loop {
            match b.get(i)? {
                b'\\' => i += 2,
                b']' => {
                    i += 1;
                    break;
                }
                _ => i += 1,
            }
        }
    }
    if i == 0 {
        return None;
    }
    let rest = &b[i..];
    Some(rest.strip_prefix(b" ").unwrap_or(rest))
}

/// The system-log family in the registry: one frame parser, five members
/// named by their framing.
mod specs {
    use super::super::registry::{no_detail, Blocks, Format, SniffCtx, Sniffed, Spec};
    use super::super::{oom, proxies, Line, LineParser};
    use super::{parse_frame, uptime_line, Flavor};
    use crate::event::Stamp;

    fn parse<'a>(p: &mut LineParser, line: &'a [u8]) -> Option<Line<'a>> {
        let Some(fr) = p.repeat.frame(line, &p.years) else {
            if super::continuation(line) {
                return Some(Line::Meta);
            }
            return uptime_line(line).map(|_| Line::Unplaced);
        };
        // The body, not the message: a body that starts with a printk
        // uptime (`[  518.05] `) is read as a system line (HAProxy writes
        // none), and any other body is its message.
        if let Some(h) = proxies::haproxy(fr.body, &mut p.clf) {
            let offset = match fr.stamp {
                Stamp::Zoned { offset, .. } => Some(offset),
                Stamp::Local { .. } => None,
            };
            return Some(Line::ProxyRequest {
                naive: h.naive,
                offset,
                status: h.status,
                host: fr.host,
                msg: fr.body,
                latency_ms: h.latency_ms,
                route: h.route(),
            });
        }
        Some(Line::System {
            stamp: fr.stamp,
            host: fr.host,
            // Stripped only when asked for rare events: the other lines
            // of a kernel log are only counted (`Line::System::msg`).
            process: None,
            msg: if p.rare { fr.msg() } else { fr.body }.into(),
            kernel: fr.kernel,
            oom: if p.rare {
                oom::parse(fr.msg()).map(Box::new)
            } else {
                None
            },
            upstream: None,
        })
    }

    fn member_of(f: Flavor) -> Format {
        match f {
            Flavor::Rfc3164 => Format::Syslog,
            Flavor::Journal => Format::Journal,
            Flavor::Rfc3339 => Format::SyslogRfc3339,
            Flavor::Rfc5424 => Format::Rfc5424,
            Flavor::Dmesg => Format::Dmesg,
        }
    }

    fn sniff(ctx: &mut SniffCtx, line: &[u8]) -> Sniffed {
        if let Some(fr) = parse_frame(line, ctx.years) {
            // `2023-02-02T07:00:12Z INFO starting`: an application's
            // level, not a host.
            // `… LOG:  checkpoint`: a label, not a host (no host name
            // ends with a colon).
            if fr.host.is_some_and(|h| is_level(h) || h.ends_with(b":")) {
                return Sniffed::Pass;
            }
            Sniffed::Is(member_of(fr.flavor))
        } else if uptime_line(line).is_some() {
            Sniffed::Is(Format::Dmesg)
        } else {
            Sniffed::Pass
        }
    }

    /// A log level as applications write it, which no host is named.
    fn is_level(w: &[u8]) -> bool {
        const LEVELS: &[&[u8]] = &[
            b"TRACE",
            b"DEBUG",
            b"INFO",
            b"NOTICE",
            b"WARN",
            b"WARNING",
            b"ERROR",
            b"CRITICAL",
            b"FATAL",
            b"PANIC",
        ];
        let w = w
            .strip_prefix(b"[")
            .and_then(|w| w.strip_suffix(b"]"))
            .unwrap_or(w);
        LEVELS.contains(&w)
    }

    /// Raw `dmesg` lines without `--boot-time`, in words.
    const UNPLACED: Option<fn(u64) -> String> = Some(|n| {
        let (lines, verbs, them) = match n {
            1 => (
                "1 line".to_string(),
                "carries only the kernel's uptime ([  518.050606]) and was",
                "it",
            ),
            _ => (
                format!("{n} lines"),
                "carry only the kernel's uptime ([  518.050606]) and were",
                "them",
            ),
        };
        format!("{lines} {verbs} skipped; give --boot-time (the boot instant, e.g. from `uptime -s` on that host) to place {them}")
    });

    const fn member(
        name: &'static str,
        aliases: &'static [&'static str],
        about: &'static str,
        sniffs: bool,
    ) -> Spec {
        Spec {
            name,
            aliases,
            about,
            requests: false,
            blocks: Blocks::Framed,
            parse,
            detail: no_detail,
            sniff: if sniffs { Some((60, sniff)) } else { None },
            lenient: None,
            seed: None,
            evidence: None,
            caveat: None,
            unplaced: UNPLACED,
        }
    }

    pub static RFC3164: Spec = member(
        "syslog",
        &["kern", "kernel", "messages", "rfc3164"],
        "RFC 3164 syslog: /var/log/kern.log, /var/log/messages",
        true,
    );
    pub static JOURNAL: Spec = member("journal", &[], "journalctl -o short / short-precise", false);
    pub static RFC3339: Spec = member(
        "syslog-rfc3339",
        &[],
        "rsyslog file format, journalctl -o short-iso",
        false,
    );
    pub static RFC5424: Spec = member("rfc5424", &[], "RFC 5424 syslog", false);
    pub static DMESG: Spec = member("dmesg", &[], "dmesg -T or dmesg --time-format iso", false);
}

pub use specs::{DMESG, JOURNAL, RFC3164, RFC3339, RFC5424};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_line_message_s_indented_lines_are_read_not_malformed() {
        // raspberrypi/linux#3872: raw dmesg of an OOM dump.
        let mut p = super::super::LineParser::new(super::super::Format::Dmesg, YEARS);
        assert_eq!(
            p.parse(b"                active_file:9815 inactive_file:20182 isolated_file:128"),
            Some(super::super::Line::Meta)
        );
        let mut j = super::super::LineParser::new(super::super::Format::Journal, YEARS);
        assert!(j
            .parse(b"Feb 02 07:00:13 web-01 kernel: Mem-Info:")
            .is_some());
        assert_eq!(
            j.parse(b"\t active_file:9815"),
            Some(super::super::Line::Meta)
        );
        // A blank line is no message's.
        assert_eq!(j.parse(b"   "), None);
        assert!(!continuation(b"Feb  2 07:00:13 web-01 kernel: x"));
        // Which the kernel flags, by flavor.
        for (line, kernel) in [
            (&b"Feb  2 07:00:13 web-01 kernel: x"[..], true),
            (b"Jul  6 01:11:09 mac kernel[0]: x", true),
            (b"Feb  2 07:00:13 web-01 kernelx: x", false),
            (b"Feb  2 07:00:13 web-01 app[3]: kernel: x", false),
            (b"2023-02-02T07:00:12+03:00 web-01 kernel: x", true),
            (b"<3>1 2023-02-02T07:00:12Z web-01 kernel - - - x", true),
            (
                b"<3>1 2023-02-02T07:00:12Z web-01 app - - - kernel: x",
                false,
            ),
            (b"[Thu Feb  2 07:00:12 2023] x", true),
        ] {
            let fr = parse_frame(line, &YEARS).unwrap();
            assert_eq!(fr.kernel, kernel, "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn short_monotonic_names_its_host_and_dmesg_does_not() {
        for (msg, host) in [
            (
                &b"web-01 kernel: Out of memory: Killed process 1 (a)"[..],
                Some(&b"web-01"[..]),
            ),
            (b"web-01 systemd[1]: shop.service: Failed", Some(b"web-01")),
            (b"usb 1-1: new high-speed USB device", None),
            (b"EXT4-fs (sda1): mounted filesystem", None),
            (b"Out of memory: Killed process 1 (a)", None),
            (b"systemd[1]: Started x", None),
        ] {
            assert_eq!(
                monotonic_host(msg).map(|(h, _)| h),
                host,
                "{}",
                String::from_utf8_lossy(msg)
            );
        }
        assert_eq!(
            monotonic_host(b"web-01 kernel: [ 5.1] x").map(|(_, m)| strip_uptime(m)),
            Some(&b"x"[..])
        );
    }

    const YEARS: YearRule = YearRule {
        fixed: None,
        reference: (2023, 3, 31),
        boot: None,
        written: None,
    };

    fn f(s: &str) -> Frame<'_> {
        parse_frame(s.as_bytes(), &YEARS).unwrap_or_else(|| panic!("not framed: {s}"))
    }

    fn naive(s: &Frame) -> i64 {
        match s.stamp {
            Stamp::Local { naive, .. } => naive,
            Stamp::Zoned { .. } => panic!("zoned"),
        }
    }

    #[test]
    fn rfc3164_kern_log_with_uptime() {
        let fr = f("May 15 23:09:30 ubuntu-s-1vcpu kernel: [  518.061172] Out of memory: Killed process 15925 ((resolved))");
        assert_eq!(fr.host, Some(&b"ubuntu-s-1vcpu"[..]));
        assert!(fr.msg().starts_with(b"Out of memory"));
        assert_eq!(fr.flavor, Flavor::Rfc3164);
        // May is after the reference month (March 2023): last year.
        assert_eq!(time::rfc3339(naive(&fr), 0), "2022-05-15T23:09:30+00:00");
        let fr = f("Feb  2 07:00:13 web-01 kernel: python3 invoked oom-killer: gfp_mask=0x1100cca");
        assert_eq!(time::rfc3339(naive(&fr), 0), "2023-02-02T07:00:13+00:00");
        assert!(matches!(
            fr.stamp,
            Stamp::Local {
                year_inferred: true,
                ..
            }
        ));
        let fr = f("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8");
        assert_eq!(fr.msg(), b"'su root' failed for lonvick on /dev/pts/8");
    }

    #[test]
    fn journal_forms() {
        let fr = f("May 07 21:43:54 doom kernel: Out of memory: Kill process 27438 (R) score 31 or sacrifice child");
        assert_eq!(fr.flavor, Flavor::Journal);
        let fr = f("Aug 30 06:58:55.050705 node-7 kernel: oom-kill:constraint=CONSTRAINT_MEMCG,task=x,pid=1,uid=0");
        assert_eq!(fr.flavor, Flavor::Journal);
        assert!(fr.msg().starts_with(b"oom-kill:"));
        let fr = f("2023-09-08T17:20:30+0200 host systemd[1]: Started foo.");
        assert_eq!(fr.flavor, Flavor::Rfc3339);
        assert_eq!(
            fr.stamp,
            Stamp::Zoned {
                utc: time::civil_to_secs(2023, 9, 8, 15, 20, 30).unwrap(),
                offset: 7200
            }
        );
        assert_eq!(fr.msg(), b"Started foo.");
        let fr = f("2023-09-08T17:20:30.5+02:00 fe80::1%eth0 kernel: x");
        assert_eq!(fr.host, Some(&b"fe80::1%eth0"[..]));
        // An application's own lines are not syslog: no `T`, or a thread
        // where the host would be.
        for app in [
            "2023-02-02 07:20:00.100 [exec-3] ERROR c.s.Api - boom",
            "2023-02-02 07:20:00 web-01 app: x",
            "2023-02-02T07:20:00.100 [exec-3] ERROR c.s.Api - boom",
        ] {
            assert!(parse_frame(app.as_bytes(), &YEARS).is_none(), "{app}");
        }
    }

    #[test]
    fn rfc5424_and_dmesg() {
        let fr = f("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \u{feff}'su root' failed");
        assert_eq!(fr.flavor, Flavor::Rfc5424);
        assert_eq!(fr.host, Some(&b"mymachine.example.com"[..]));
        assert_eq!(fr.msg(), b"'su root' failed");
        let fr = f(
            r#"<3>1 2023-02-02T07:00:13+03:00 web-01 kernel - - [meta x="a\]b"] Killed process 1 (a)"#,
        );
        assert_eq!(fr.msg(), b"Killed process 1 (a)");
        let fr = f("[Thu Dec  7 00:05:15 2017] Killed process 28438 (java) total-vm:1kB");
        assert_eq!((fr.flavor, fr.host), (Flavor::Dmesg, None));
        assert_eq!(time::rfc3339(naive(&fr), 0), "2017-12-07T00:05:15+00:00");
        let fr = f("2024-02-02T07:00:12,345678+01:00 Out of memory: Killed process 5 (x)");
        assert_eq!((fr.flavor, fr.host), (Flavor::Dmesg, None));
        assert!(fr.msg().starts_with(b"Out of memory"));
        // lnav's test sample of a Spring Boot (Logback) log: no zone, so
        // not dmesg (detection then takes it for an application's log:
        // tests/it/formats.rs).
        let java = b"2025-01-24T07:00:30,227 INFO [main                     ] FarmApplication          : Starting FarmApplication v3.0.7";
        assert_ne!(
            parse_frame(java, &YEARS).map(|f| f.flavor),
            Some(Flavor::Dmesg)
        );
    }

    #[test]
    fn not_syslog() {
        for l in [
            "",
            "hello world",
            "[  518.050606] raw uptime only",
            "Foo  2 07:00:12 h k: m",
            "2023-02-02 x",
        ] {
            assert!(parse_frame(l.as_bytes(), &YEARS).is_none(), "{l}");
        }
        assert_eq!(strip_uptime(b"[  123.456789][ T1234] msg"), b"msg");
        assert_eq!(strip_uptime(b"[    0.000000][    C0] msg"), b"msg");
        assert_eq!(
            strip_uptime(b"[  12.5] [UFW BLOCK] IN=eth0"),
            b"[UFW BLOCK] IN=eth0"
        );
        assert_eq!(strip_uptime(b"[  12.5] [T] x"), b"[T] x");
        assert_eq!(strip_uptime(b"[  12.5] [T12a] x"), b"[T12a] x");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        /// The frame cache answers what `parse_frame` does, whatever the
        /// lines before: stamps, hosts and tags that repeat or change in
        /// one byte, odd spacing, tags with spaces, no tag, uptimes, an
        /// HAProxy request; and a line it says repeats is a system line.
        #[test]
        fn repeat_frames_as_parse_frame(
            picks in proptest::collection::vec(
                (0usize..9, 0usize..5, 0usize..3, 0usize..7, 0usize..8), 1..24)
        ) {
            const STAMPS: [&str; 9] = [
                "Feb  2 07:00:12", "Feb  2 07:00:13", "Feb 02 07:00:12.123456",
                "<13>Feb  2 07:00:12", "2023-02-02T07:00:12.5+01:00",
                "2023-02-02T07:00:12.5+01:0", "2023-02-02T07:00:12,123456+00:00",
                "[  518.050606]", "Feb  2 07:00:12 2023",
            ];
            const HOSTS: [&str; 5] = ["web-01", "web-02", "web-0", "[x]", ""];
            const SEPS: [&str; 3] = [" ", "  ", ""];
            const TAGS: [&str; 7] =
                ["kernel: ", "kernel:", "app[12]: ", "a b: ", "kernel", "k: k: ", ": "];
            const MSGS: [&str; 8] = [
                "[ 1.0] Out of memory: Killed process 1 (a)", "x: y", "", "[UFW BLOCK] IN=",
                ": z", "[  518.050606] [ T12] m", "kernel: again",
                "10.0.0.1:5000 [06/Feb/2009:12:14:14.655] fe be/s 1/0/3/6/10 503 27 - - ---- 1/1/1/1/0 0/0 \"GET / HTTP/1.1\"",
            ];
            let mut cache = Repeat::default();
            for (a, b, c, d, e) in picks {
                let line = format!("{} {}{}{}{}", STAMPS[a], HOSTS[b], SEPS[c], TAGS[d], MSGS[e]);
                let l = line.as_bytes();
                // A line said to repeat is a system line of the kept stamp.
                let repeated = cache.repeats(l).map(|k| (cache.kept().0.unwrap(), k));
                let fr = cache.frame(l, &YEARS);
                proptest::prop_assert_eq!(fr.clone(), parse_frame(l, &YEARS), "{}", line);
                if let Some((s, kernel)) = repeated {
                    let fr = fr.unwrap();
                    proptest::prop_assert_eq!((fr.stamp, fr.kernel), (s, kernel), "{}", line);
                    proptest::prop_assert!(fr.host.is_some() && s.in_range(), "{}", line);
                    proptest::prop_assert!(proxies::haproxy(fr.body, &mut Default::default()).is_none(), "{}", line);
                }
            }
        }
    }
}
