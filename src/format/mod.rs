//! One parser per log family, over bytes, and the per-input detection that
//! chooses among them.
//!
//! Bytes enter as one line at a time (without its newline) and leave as a
//! [`Line`]: a request with its status, or a framed system line that may carry
//! an OOM-killer message. Anything else is `None`, a malformed line.

pub mod access;
pub mod apache_error;
pub mod app;
pub mod aws_lb;
pub mod journal_json;
pub mod json;
mod json_scan;
pub mod kubectl;
pub mod logread;
pub mod marks;
pub mod nginx;
pub mod nginx_error;
pub mod oom;
pub mod proxies;
pub mod registry;
pub mod route;
pub mod s3;
pub mod signals;
pub mod syslog;
pub mod triggers;
pub mod w3c;

use std::borrow::Cow;
use std::sync::Arc;

use crate::event::{Request, Stamp};
use crate::time::{ClfCache, OffsetSecs};

pub use oom::OomMessage;
pub use registry::{detect, detect_with, Format, Seed, SNIFF_LINES};
pub use route::{Route, RouteKind};
pub use syslog::YearRule;

/// The custom nginx formats of a run (`--nginx-log-format`,
/// `--nginx-conf`), compiled.
pub type Customs = Arc<[nginx::LogFormat]>;

/// What one parsed line holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    Request(Request),
    System {
        stamp: Stamp,
        host: Option<&'a [u8]>,
        /// The program that wrote it, where the format names it apart
        /// from the framing of the message (the journal's
        /// `SYSLOG_IDENTIFIER`); else it is read from the framing.
        process: Option<&'a [u8]>,
        /// The message, after the framing (stamp, host, tag); a kernel
        /// line's keeps its printk uptime when the parser was told the line
        /// holds no rare event ([`LineParser::rare`]). Owned where the
        /// format escapes it (a JSON string with an escape).
        msg: Cow<'a, [u8]>,
        /// The kernel wrote it (tag `kernel`, a dmesg line): only the
        /// kernel's own words are looked for in it (see
        /// [`signals::Signals::find`]).
        kernel: bool,
        oom: Option<Box<OomMessage>>,
        /// An upstream failure or killed worker (nginx error log).
        upstream: Option<(nginx_error::UpstreamKind, String)>,
    },
    /// An application log line; continuation lines have no stamp.
    App {
        stamp: Option<Stamp>,
        /// A JSON object with an HTTP status and a time: an access entry
        /// that is not counted here (see [`app::AppLine`]).
        request_shaped: bool,
    },
    /// A line of a known kind with no instant to place it at: a raw dmesg
    /// uptime stamp without `--boot-time`.
    Unplaced,
    /// A line the format defines that carries no event (W3C's `#Fields:`
    /// and other directives, the indented lines of a multi-line kernel or
    /// journal message).
    Meta,
    /// A request whose time is local wall-clock seconds (HAProxy's accept
    /// date), with the zone when the framing gave one, and the host the
    /// framing named.
    ProxyRequest {
        naive: i64,
        offset: Option<OffsetSecs>,
        status: u16,
        host: Option<&'a [u8]>,
        /// The HAProxy message, after any syslog framing.
        msg: &'a [u8],
        latency_ms: Option<u32>,
        /// The backend that took it.
        route: Option<Route<'a>>,
    },
    /// A request of the input's host, in UTC, with the route its line
    /// names (W3C's `cs-host`): counted as [`Line::Request`] is, and on
    /// the route's series too.
    Routed(Request, Route<'a>),
}

/// Who sent a request and which path it asked for: read again from the
/// line of a failed request only (the hot path reads neither), for the
/// distinct clients and top paths an incident reports.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Detail<'a> {
    /// The client address, without a port.
    pub client: Option<Cow<'a, [u8]>>,
    /// The path, without query string, fragment, scheme or host.
    pub path: Option<Cow<'a, [u8]>>,
}

impl<'a> Detail<'a> {
    /// From a raw client address (`ip`, `ip:port`, `[v6]:port`) and a
    /// request line (`GET /a?b HTTP/1.1`) or target (`/a?b`).
    pub fn new(client: Option<&'a [u8]>, request: Option<&'a [u8]>) -> Detail<'a> {
        Detail {
            client: client
                .map(client_of)
                .filter(|c| !c.is_empty() && *c != b"-")
                .map(Cow::Borrowed),
            path: request.and_then(path_of),
        }
    }

    pub(crate) fn owned(client: Option<String>, request: Option<String>) -> Detail<'static> {
        let d = Detail::new(
            client.as_deref().map(str::as_bytes),
            request.as_deref().map(str::as_bytes),
        );
        Detail {
            client: d.client.map(|c| Cow::Owned(c.into_owned())),
            path: d.path.map(|p| Cow::Owned(p.into_owned())),
        }
    }

    /// The client and path of an access line of `format` (read with
    /// `seed`, what the format took from its input's head); empty for
    /// formats without requests and lines that do not parse.
    pub fn of(
        format: Format,
        customs: &[nginx::LogFormat],
        seed: Option<&Seed>,
        line: &'a [u8],
    ) -> Detail<'a> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match format {
            Format::Custom(i) => {
                let Some(f) = customs.get(i as usize) else {
                    return Detail::default();
                };
                match f.parse_fields(line, &mut ClfCache::default()) {
                    Some((_, x)) => {
                        Detail::new(x.remote_addr, x.request_uri.or(x.uri).or(x.request))
                    }
                    None => Detail::default(),
                }
            }
            stock => stock
                .spec()
                .map_or_else(Detail::default, |s| (s.detail)(seed, line)),
        }
    }
}

/// The address of `ip`, `ip:port` or `[v6]:port`.
fn client_of(raw: &[u8]) -> &[u8] {
    let raw = raw.trim_ascii();
    let addr = if let Some(v6) = raw.strip_prefix(b"[") {
        v6.split(|c| *c == b']').next().unwrap_or(v6)
    } else {
        match memchr::memchr(b':', raw) {
            Some(p) if memchr::memrchr(b':', raw) == Some(p) => &raw[..p],
            _ => raw,
        }
    };
    addr.trim_ascii()
}

/// The path a request line (`METHOD target PROTOCOL`) or a bare target
/// asked for: no query string or fragment, no `scheme://host` of an
/// absolute target, and identifiers templated (see [`template`]) so that
/// `/orders/1041` and `/orders/1042` count as one path. `None` for a
/// request line without a target.
pub fn path_of(request: &[u8]) -> Option<Cow<'_, [u8]>> {
    let request = request.trim_ascii();
    let target = match memchr::memchr(b' ', request) {
        Some(sp) => {
            let rest = &request[sp + 1..];
            &rest[..memchr::memchr(b' ', rest).unwrap_or(rest.len())]
        }
        None => request,
    };
    let target = &target[..memchr::memchr2(b'?', b'#', target).unwrap_or(target.len())];
    let target = match memchr::memmem::find(target, b"://") {
        Some(p) if target[..p].iter().all(u8::is_ascii_alphabetic) => {
            let after = &target[p + 3..];
            memchr::memchr(b'/', after).map_or(&b"/"[..], |s| &after[s..])
        }
        _ => target,
    };
    (!target.is_empty() && target != b"-").then(|| template(target))
}

/// A path with each segment that is an identifier replaced by `{id}`:
/// digits only (`1041`), a UUID, or a hex string of 12 or more digits
/// with at least one decimal digit (hashes, object ids).
pub fn template(path: &[u8]) -> Cow<'_, [u8]> {
    let is_id = |seg: &[u8]| {
        let digits = seg.iter().filter(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        if digits == seg.len() {
            return true;
        }
        let hex = seg.iter().all(|c| c.is_ascii_hexdigit());
        let uuid = seg.len() == 36
            && seg.iter().enumerate().all(|(i, c)| {
                if matches!(i, 8 | 13 | 18 | 23) {
                    *c == b'-'
                } else {
                    c.is_ascii_hexdigit()
                }
            });
        uuid || (hex && seg.len() >= 12)
    };
    if !path.split(|c| *c == b'/').any(is_id) {
        return Cow::Borrowed(path);
    }
    let mut out = Vec::with_capacity(path.len());
    for (i, seg) in path.split(|c| *c == b'/').enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(if is_id(seg) { b"{id}" } else { seg });
    }
    Cow::Owned(out)
}

impl Line<'_> {
    /// The line's own stamp; `None` for an application line without one.
    pub fn stamp(&self) -> Option<Stamp> {
        match self {
            Line::Request(r) | Line::Routed(r, _) => Some(Stamp::Zoned {
                utc: r.utc,
                offset: r.offset,
            }),
            Line::System { stamp, .. } => Some(*stamp),
            Line::App { stamp, .. } => *stamp,
            Line::Unplaced | Line::Meta => None,
            Line::ProxyRequest { naive, offset, .. } => Some(match offset {
                Some(off) => Stamp::Zoned {
                    utc: naive - *off as i64,
                    offset: *off,
                },
                None => Stamp::Local {
                    naive: *naive,
                    year_inferred: false,
                },
            }),
        }
    }
}

/// Parses the lines of one input. Holds the per-input state of the hot path
/// (the timestamp cache), so each block gets its own.
pub struct LineParser {
    format: Format,
    pub(crate) years: YearRule,
    pub(crate) clf: ClfCache,
    customs: Option<Customs>,
    /// What the format took from its input's head, and may update as it
    /// reads (W3C's layout after a new `#Fields:`).
    pub(crate) seed: Option<Seed>,
    /// The frame of the last system line, for the lines that repeat it.
    pub(crate) repeat: syslog::Repeat,
    /// Whether the next line may hold a rare event (an OOM-killer line):
    /// false when a block search ([`triggers`]) found none in it.
    pub rare: bool,
}

impl LineParser {
    pub fn new(format: Format, years: YearRule) -> Self {
        LineParser {
            format,
            years,
            clf: ClfCache::default(),
            customs: None,
            seed: None,
            repeat: syslog::Repeat::default(),
            rare: true,
        }
    }

    /// A parser that can also read the run's custom formats.
    pub fn with_customs(format: Format, years: YearRule, customs: Customs) -> Self {
        LineParser {
            customs: Some(customs),
            ..LineParser::new(format, years)
        }
    }

    /// The parser, reading with what its format took from the head.
    pub fn seeded(mut self, seed: Option<Seed>) -> Self {
        self.seed = seed;
        self
    }

    /// Whether a system line repeats the frame of the last one parsed
    /// through its tag and is no proxy's request, and then whether the
    /// kernel wrote it (see [`syslog::Repeat::repeats`]); `None` when that
    /// cannot be told without parsing it.
    #[inline]
    pub fn repeats(&self, line: &[u8]) -> Option<bool> {
        self.repeat
            .repeats(line.strip_suffix(b"\r").unwrap_or(line))
    }

    /// The stamp such a line has, and a number that changes with it (see
    /// [`syslog::Repeat::kept`]).
    #[inline]
    pub fn kept(&self) -> (Option<Stamp>, u32) {
        self.repeat.kept()
    }

    /// Parses one line (no newline; a trailing `\r` is ignored).
    #[inline]
    pub fn parse<'a>(&mut self, line: &'a [u8]) -> Option<Line<'a>> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match self.format {
            Format::Custom(i) => {
                let f = self.customs.as_ref()?.get(i as usize)?;
                f.parse(line, &mut self.clf).map(Line::Request)
            }
            stock => (stock.spec()?.parse)(self, line),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YEARS: YearRule = YearRule {
        fixed: None,
        reference: (2023, 3, 31),
        boot: None,
        written: None,
    };

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.name()), Some(*f));
        }
        assert_eq!(Format::from_name("nginx"), Some(Format::Combined));
        assert_eq!(Format::from_name("bogus"), None);
    }

    #[test]
    fn detects_each_family() {
        let combined =
            "1.2.3.4 - - [02/Feb/2023:07:00:22 +0300] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl\"\n"
                .repeat(3);
        assert_eq!(detect(combined.as_bytes(), &YEARS), Some(Format::Combined));
        let kern =
            "Feb  2 07:00:12 web-01 kernel: [  1.0] hello\nFeb  2 07:00:13 web-01 CRON[1]: x\n";
        assert_eq!(detect(kern.as_bytes(), &YEARS), Some(Format::Syslog));
        assert_eq!(detect(b"\x00\x01\x02binary\xff\n\x13\x37", &YEARS), None);
        assert_eq!(detect(b"", &YEARS), None);
        // Mostly garbage with one good line: not enough to call it.
        let mostly_bad = format!("{}x\ny\nz\n", combined.lines().next().unwrap());
        assert_eq!(detect(mostly_bad.as_bytes(), &YEARS), None);
    }

    #[test]
    fn client_and_path_of_requests() {
        let d = |c: &'static str, r: &'static str| {
            let d = Detail::new(Some(c.as_bytes()), Some(r.as_bytes()));
            (
                d.client.map(|c| String::from_utf8(c.into_owned()).unwrap()),
                d.path.map(|p| String::from_utf8(p.into_owned()).unwrap()),
            )
        };
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            d("1.2.3.4", "GET /a/b?x=1 HTTP/1.1"),
            (s("1.2.3.4"), s("/a/b"))
        );
        assert_eq!(d("1.2.3.4:5678", "/a#frag"), (s("1.2.3.4"), s("/a")));
        assert_eq!(
            d("[2001:db8::1]:443", "GET http://h.example/p?q HTTP/1.1"),
            (s("2001:db8::1"), s("/p"))
        );
        assert_eq!(
            d("2001:db8::1", "GET https://h.example HTTP/1.1"),
            (s("2001:db8::1"), s("/"))
        );
        assert_eq!(d("-", "-"), (None, None));
        assert_eq!(d("", ""), (None, None));
        assert_eq!(
            d("a", "GET /orders/1041/items/7 HTTP/1.1").1,
            s("/orders/{id}/items/{id}")
        );
        assert_eq!(
            d("a", "/u/123e4567-e89b-12d3-a456-426614174000/avatar").1,
            s("/u/{id}/avatar")
        );
        assert_eq!(d("a", "/blob/9f86d081884c7d65/v2").1, s("/blob/{id}/v2"));
        // Words with digits are kept: versions, short hex-looking words.
        assert_eq!(
            d("a", "/api/v2/cafe/deadbeef").1,
            s("/api/v2/cafe/deadbeef")
        );
        let combined =
            b"1.2.3.4 - - [02/Feb/2023:07:00:22 +0300] \"GET /x?y HTTP/1.1\" 502 5 \"-\" \"x\"";
        let d = Detail::of(Format::Combined, &[], None, combined);
        assert_eq!(d.client.as_deref(), Some(&b"1.2.3.4"[..]));
        assert_eq!(d.path.as_deref(), Some(&b"/x"[..]));
        assert_eq!(
            Detail::of(Format::App, &[], None, combined),
            Detail::default()
        );
    }

    #[test]
    fn parser_reads_requests_and_kills() {
        let mut p = LineParser::new(Format::Combined, YEARS);
        let l = p.parse(
            b"1.2.3.4 - - [02/Feb/2023:07:00:22 +0300] \"GET / HTTP/1.1\" 502 5 \"-\" \"x\"\r",
        );
        assert!(matches!(
            l,
            Some(Line::Request(Request {
                status: 502,
                offset: 10800,
                ..
            }))
        ));
        let mut p = LineParser::new(Format::Syslog, YEARS);
        let l = p.parse(b"Feb  2 07:00:13 web-01 kernel: [ 9.1] Out of memory: Killed process 4242 (python3) total-vm:1kB, anon-rss:2kB").unwrap();
        match l {
            Line::System {
                host, oom: Some(m), ..
            } => {
                assert_eq!(host, Some(&b"web-01"[..]));
                assert_eq!(m.victim.pid, Some(4242));
            }
            other => panic!("{other:?}"),
        }
    }
}
