//! Other front ends' default access logs: Envoy's and HAProxy's HTTP log.
//!
//! Envoy (default format):
//! ```text
//! [2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-…" "locations" "tcp://10.0.2.1:80"
//! ```
//! `%START_TIME%` is zoned; a response code of `0` (no response: the client
//! went away) is a request that is not an error.
//!
//! HAProxy (`option httplog`), usually inside syslog framing:
//! ```text
//! 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"
//! ```
//! The accept date has no zone: it is the proxy's local time, placed like
//! a syslog stamp. The hot path reads the instant and the status; the
//! `*_detail` functions read the client and the request of a failed one.

use memchr::memchr;

use crate::event::{Request, NO_RESPONSE};
use crate::time;

/// Parses an Envoy default-format line (its stamps' minutes through
/// `dates`).
pub fn envoy(line: &[u8], dates: &mut time::ClfCache) -> Option<Request> {
    let rest = line.strip_prefix(b"[")?;
    let close = memchr(b']', rest)?;
    let (st, used) = dates.iso(&rest[..close])?;
    if used != close {
        return None;
    }
    let offset = st.offset?;
    let rest = rest[close + 1..].strip_prefix(b" \"")?;
    // The request line is written raw; it ends at the quote followed by
    // ` NNN ` (the response code) and the response flags.
    let mut from = 0;
    loop {
        let q = from + memchr(b'"', &rest[from..])?;
        from = q + 1;
        let after = &rest[q + 1..];
        let Some(code) = after.strip_prefix(b" ") else {
            continue;
        };
        let n = code.iter().take_while(|c| c.is_ascii_digit()).count();
        if !(1..=3).contains(&n) || code.get(n) != Some(&b' ') {
            continue;
        }
        // One to three digits: no overflow.
        let status = digits(&code[..n])? as u16;
        if status != 0 && !(100..=999).contains(&status) {
            return None;
        }
        // BYTES_RECEIVED BYTES_SENT DURATION (ms) after the flags.
        let latency_ms = code[n + 1..]
            .split(|c| *c == b' ')
            .filter(|w| !w.is_empty())
            .nth(3)
            .and_then(|d| u32::try_from(digits(d)?).ok());
        return Some(Request {
            utc: st.naive - offset as i64,
            offset,
            // 0 (NO_RESPONSE): no response was sent (the client left
            // first, `DC`).
            status,
            latency_ms,
        });
    }
}

/// The client and the request line of an Envoy default-format line. The
/// client is the first address of `X-Forwarded-For`, when the proxy in
/// front set it (Envoy's default format has no downstream address).
pub fn envoy_detail(line: &[u8]) -> Option<(Option<&[u8]>, &[u8])> {
    let rest = &line[memchr(b']', line)? + 1..];
    let rest = rest.strip_prefix(b" \"")?;
    let mut from = 0;
    let end = loop {
        let q = from + memchr(b'"', &rest[from..])?;
        from = q + 1;
        let code = &rest[q + 1..];
        let n = code
            .iter()
            .skip(1)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if code.first() == Some(&b' ') && (1..=3).contains(&n) && code.get(n + 1) == Some(&b' ') {
            break q;
        }
    };
    let after = &rest[end + 1..];
    let xff = memchr(b'"', after).and_then(|o| {
        let v = &after[o + 1..];
        let c = memchr(b'"', v)?;
        let first = v[..c].split(|b| *b == b',').next()?.trim_ascii();
        (!first.is_empty() && first != b"-").then_some(first)
    });
    Some((xff, &rest[..end]))
}

/// The client address (without its port) and the request line of an
/// HAProxy `option httplog` message.
pub fn haproxy_detail(msg: &[u8]) -> Option<(&[u8], &[u8])> {
    let sp = memchr(b' ', msg)?;
    let addr = &msg[..sp];
    let client = match addr.strip_prefix(b"[") {
        Some(v6) => &v6[..memchr(b']', v6)?],
        None => &addr[..memchr::memrchr(b':', addr)?],
    };
    let q = memchr(b'"', msg)?;
    let request = msg[q + 1..].strip_suffix(b"\"").unwrap_or(&msg[q + 1..]);
    Some((client, request))
}

/// An HAProxy HTTP log message: the accept date as local naive seconds,
/// the status, and the backend that took the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HaproxyLine<'a> {
    pub naive: i64,
    pub status: u16,
    /// The last timer (Ta, or Tt before 1.5): the request's whole time.
    pub latency_ms: Option<u32>,
    /// The backend of `backend/server` (the frontend's name when the
    /// frontend answered itself; `None` when the log writes none).
    pub backend: Option<&'a [u8]>,
}

impl<'a> HaproxyLine<'a> {
    /// The backend as a route: a pool of servers, like an ingress
    /// upstream.
    pub fn route(&self) -> Option<super::Route<'a>> {
        super::Route::new(super::RouteKind::Upstream, self.backend?)
    }
}

/// Whether `msg` may be an HAProxy request: its first word ends in a
/// digit (a port) and ` [` follows it. [`haproxy`] reads none where this
/// is false, in a few compares (a kernel line's first word is `[  518.05]`).
#[inline]
pub fn may_be_haproxy(msg: &[u8]) -> bool {
    client_end(msg).is_some()
}

/// Where the first word of `msg` ends, when it ends in a digit and ` [`
/// follows it.
#[inline]
fn client_end(msg: &[u8]) -> Option<usize> {
    memchr(b' ', msg)
        .filter(|&sp| sp > 0 && msg[sp - 1].is_ascii_digit() && msg.get(sp + 1) == Some(&b'['))
}

/// Parses an HAProxy `option httplog` message (without its syslog header),
/// its accept date's second through `dates` (the lines of one second
/// repeat it).
pub fn haproxy<'a>(msg: &'a [u8], dates: &mut time::ClfCache) -> Option<HaproxyLine<'a>> {
    // client_ip:port: it ends in the port, so a syslog tag (`kernel:`,
    // `eth0:`) is turned away here.
    let sp = client_end(msg)?;
    if !msg[..sp].contains(&b':') {
        return None;
    }
    let rest = &msg[sp + 2..];
    let close = memchr(b']', rest)?;
    // 06/Feb/2009:12:14:14.655: the second is the first 20 bytes.
    let date = &rest[..close];
    let secs = date.get(..20).unwrap_or(date);
    let (naive, _) = dates.text(secs, |b| {
        time::day_month_year(b, b'/', b':').map(|n| (n, 0))
    })?;
    let fields = &rest[close + 1..];
    // frontend backend/server timers status bytes …
    let mut words = fields.split(|c| *c == b' ').filter(|w| !w.is_empty());
    let _frontend = words.next()?;
    let backend_server = words.next()?;
    let slash = memchr(b'/', backend_server)?;
    let backend = &backend_server[..slash];
    let timers = words.next()?;
    if !timers.contains(&b'/') {
        return None;
    }
    let status = words.next()?;
    if status.len() != 3 && status != b"-1" {
        return None;
    }
    let status = match status.split_first()? {
        (b'-', d) => -(digits(d)? as i32),
        (b'+', d) => digits(d)? as i32,
        _ => digits(status)? as i32,
    };
    let bytes = words.next()?;
    if !bytes.iter().all(|c| c.is_ascii_digit() || *c == b'+') {
        return None;
    }
    // The last timer, as `u32::from_str` reads it after one `+` is cut.
    let latency_ms = timers.rsplit(|c| *c == b'/').next().and_then(|t| {
        let t = t.strip_prefix(b"+").unwrap_or(t);
        let t = t.strip_prefix(b"+").unwrap_or(t);
        u32::try_from(digits(t)?).ok()
    });
    Some(HaproxyLine {
        naive,
        latency_ms,
        // -1: the connection was aborted before a response: read, not
        // counted as a request (not an error either).
        status: if status <= 0 {
            NO_RESPONSE
        } else {
            status as u16
        },
        backend: (!backend.is_empty() && backend != b"-").then_some(backend),
    })
}

/// The value of `b`, ASCII digits only (one at least), as `u64::from_str`
/// reads them; `None` for anything else or past `u64::MAX`.
fn digits(b: &[u8]) -> Option<u64> {
    if b.is_empty() {
        return None;
    }
    b.iter().try_fold(0u64, |n, c| {
        let d = c.checked_sub(b'0').filter(|d| *d < 10)?;
        n.checked_mul(10)?.checked_add(u64::from(d))
    })
}

/// The route of an Envoy default line: its last quoted field,
/// `%UPSTREAM_HOST%` (a backend). A line whose upstream host is `-`
/// (Envoy picked none: `UH`, `UF`, `NR`, a local reply) is on no route,
/// not on its `%REQ(:AUTHORITY)%`'s: those requests alone, the failures
/// of an outage, are not the virtual host's traffic.
pub fn envoy_route(line: &[u8]) -> Option<super::Route<'_>> {
    let line = line.trim_ascii_end();
    let end = line.strip_suffix(b"\"")?.len();
    let open = memchr::memrchr(b'"', &line[..end])?;
    super::Route::new(super::RouteKind::Backend, &line[open + 1..end])
}

/// Envoy's default access log in the registry.
pub static ENVOY: super::registry::Spec = super::registry::Spec {
    name: "envoy",
    aliases: &[],
    about: "Envoy default access log",
    requests: true,
    blocks: super::registry::Blocks::Requests(|l, c| Some((envoy(l, c)?, envoy_route(l)))),
    parse: |p, l| envoy(l, &mut p.clf).map(super::Line::Request),
    detail: |_, l| {
        envoy_detail(l).map_or_else(super::Detail::default, |(c, r)| {
            super::Detail::new(c, Some(r))
        })
    },
    sniff: Some((10, |_, l| match envoy(l, &mut time::ClfCache::default()) {
        Some(_) => super::registry::Sniffed::Is(super::registry::Format::Envoy),
        None => super::registry::Sniffed::Pass,
    })),
    lenient: None,
    seed: None,
    evidence: None,
    caveat: None,
    unplaced: None,
};

/// HAProxy's HTTP log (no syslog header) in the registry: its accept date
/// is local time, so its requests are placed once the host's zone is known.
pub static HAPROXY: super::registry::Spec = super::registry::Spec {
    name: "haproxy",
    aliases: &[],
    about: "HAProxy HTTP log (option httplog) without syslog header; with one it is read as syslog",
    requests: true,
    blocks: super::registry::Blocks::Lines,
    parse: |p, line| {
        haproxy(line, &mut p.clf).map(|h| super::Line::ProxyRequest {
            naive: h.naive,
            offset: None,
            status: h.status,
            host: None,
            msg: line,
            latency_ms: h.latency_ms,
            route: h.route(),
        })
    },
    detail: |_, l| {
        haproxy_detail(l).map_or_else(super::Detail::default, |(c, r)| {
            super::Detail::new(Some(c), Some(r))
        })
    },
    sniff: Some((20, |_, l| {
        match haproxy(l, &mut time::ClfCache::default()) {
            Some(_) => super::registry::Sniffed::Is(super::registry::Format::Haproxy),
            None => super::registry::Sniffed::Pass,
        }
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

    fn envoy_(line: &[u8]) -> Option<Request> {
        envoy(line, &mut Default::default())
    }

    fn haproxy_(msg: &[u8]) -> Option<HaproxyLine<'_>> {
        haproxy(msg, &mut time::ClfCache::default())
    }

    /// Status and last timer read as `i32`/`u32::from_str` would (the
    /// status when it is three bytes or `-1`, the timer after one `+`).
    #[test]
    fn haproxy_numbers_read_as_from_str() {
        let statuses = ["200", "503", "-1", "+12", "-12", "1a2", "12", "0x1"];
        let timers = [
            "109",
            "+109",
            "++5",
            "+",
            "-5",
            "",
            "000000000000000000001",
            "4294967296",
        ];
        for st in statuses {
            for tt in timers {
                let msg = format!("10.0.0.1:5 [02/Feb/2023:07:00:22.655] fe be/s 1/2/{tt} {st} 27 - - ---- \"GET / HTTP/1.1\"");
                let want_status = (st.len() == 3 || st == "-1")
                    .then(|| st.parse::<i32>().ok())
                    .flatten()
                    .map(|s| if s <= 0 { NO_RESPONSE } else { s as u16 });
                let got = haproxy_(msg.as_bytes());
                assert_eq!(got.map(|h| h.status), want_status, "{msg}");
                if let Some(h) = got {
                    let t = tt.strip_prefix('+').unwrap_or(tt);
                    assert_eq!(h.latency_ms, t.parse::<u32>().ok(), "{msg}");
                }
            }
        }
    }

    #[test]
    fn haproxy_dates_through_the_cache() {
        let mut dates = time::ClfCache::default();
        let line = |d: &str| format!("10.0.0.1:5 [{d}] fe be/s 1/2/3 200 27");
        let mut naive = |d: &str| haproxy(line(d).as_bytes(), &mut dates).map(|h| h.naive);
        let a = naive("02/Feb/2023:07:00:22.655").unwrap();
        assert_eq!(naive("02/Feb/2023:07:00:22.999"), Some(a));
        assert_eq!(naive("02/Feb/2023:07:00:23.001"), Some(a + 1));
        assert_eq!(naive("02/Feb/2023:07:00:2"), None);
        assert_eq!(naive("02/Feb/2023:07:00:22"), Some(a));
    }

    #[test]
    fn envoy_default_format() {
        let r = envoy_(br#"[2023-02-02T04:00:22.310Z] "POST /api/v1/locations HTTP/2" 503 UF,URX 154 0 226 - "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80""#).unwrap();
        assert_eq!((r.utc, r.offset, r.status), (1_675_310_422, 0, 503));
        let (xff, req) = envoy_detail(br#"[2023-02-02T04:00:22.310Z] "POST /api/v1/locations HTTP/2" 503 UF,URX 154 0 226 - "10.0.35.28, 10.0.0.1" "nsq2http" "cc21d9b0" "locations" "tcp://10.0.2.1:80""#).unwrap();
        assert_eq!(
            (xff, req),
            (
                Some(&b"10.0.35.28"[..]),
                &b"POST /api/v1/locations HTTP/2"[..]
            )
        );
        let (xff, req) = envoy_detail(br#"[2023-02-02T07:00:22.310+03:00] "GET /a"b HTTP/1.1" 503 - 0 10 3 2 "-" "curl" "id" "h" "10.0.0.1:80""#).unwrap();
        assert_eq!((xff, req), (None, &br#"GET /a"b HTTP/1.1"#[..]));
        let r = envoy_(br#"[2023-02-02T07:00:22.310+03:00] "GET /a" 200 b" HTTP/1.1" 200 - 0 10 3 2 "-" "curl" "id" "h" "10.0.0.1:80""#).unwrap();
        assert_eq!((r.utc, r.offset, r.status), (1_675_310_422, 10_800, 200));
        let r = envoy_(
            br#"[2023-02-02T04:00:22.310Z] "GET / HTTP/1.1" 0 DC 0 0 5 - "-" "curl" "id" "h" "-""#,
        )
        .unwrap();
        assert_eq!(r.status, NO_RESPONSE);
        let route = |l: &[u8]| envoy_route(l).map(|r| r.key());
        assert_eq!(
            route(br#"[2023-02-02T04:00:22.310Z] "POST /api/v1/locations HTTP/2" 503 UF,URX 154 0 226 - "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80""#).as_deref(),
            Some("backend 10.0.2.1:80")
        );
        assert_eq!(
            route(br#"[2023-02-02T04:00:22.310Z] "GET / HTTP/1.1" 0 DC 0 0 5 - "-" "curl" "id" "h" "-""#).as_deref(),
            None
        );
        assert_eq!(
            route(br#"[2023-02-02T04:00:22.310Z] "GET / HTTP/1.1" 0 DC 0 0 5 - "-""#),
            None
        );
        assert!(envoy_(b"[2023-02-02T04:00:22Z] GET / 200").is_none());
        assert!(envoy_(b"[not a time] \"GET / HTTP/1.1\" 200 - 0 0 0 - \"-\"").is_none());
    }

    #[test]
    fn haproxy_httplog() {
        let h = haproxy_(br#"10.0.1.2:33317 [02/Feb/2023:07:00:22.655] http-in static/srv1 10/0/30/69/109 503 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1""#).unwrap();
        assert_eq!(
            h,
            HaproxyLine {
                naive: 1_675_321_222,
                status: 503,
                latency_ms: Some(109),
                backend: Some(&b"static"[..]),
            }
        );
        assert_eq!(
            h.route().map(|r| r.key()).as_deref(),
            Some("upstream static")
        );
        let h = haproxy_(br#"[2001:db8::1]:443 [02/Feb/2023:07:00:22.655] fe~ be/<NOSRV> -1/-1/-1/-1/0 -1 0 - - CR-- 1/1/0/0/0 0/0 "<BADREQ>""#).unwrap();
        assert_eq!((h.status, h.backend), (NO_RESPONSE, Some(&b"be"[..])));
        assert_eq!(
            haproxy_detail(br#"10.0.1.2:33317 [02/Feb/2023:07:00:22.655] http-in static/srv1 10/0/30/69/109 503 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1""#),
            Some((&b"10.0.1.2"[..], &b"GET /index.html HTTP/1.1"[..]))
        );
        assert_eq!(
            haproxy_detail(br#"[2001:db8::1]:443 [02/Feb/2023:07:00:22.655] fe~ be/<NOSRV> -1/-1/-1/-1/0 -1 0 - - CR-- 1/1/0/0/0 0/0 "<BADREQ>""#),
            Some((&b"2001:db8::1"[..], &b"<BADREQ>"[..]))
        );
        assert!(haproxy_(b"Proxy http-in started.").is_none());
        assert!(haproxy_(
            b"10.0.1.2:33317 [02/Feb/2023:07:00:22.655] http-in 10/0/30/69/109 200 1"
        )
        .is_none());
    }
}
