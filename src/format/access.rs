//! nginx / Apache access logs in the CLF family: `common`, `combined`,
//! nginx's `main` (combined + `"$http_x_forwarded_for"`) and combined lines
//! followed by extra fields (request time, upstream time…), which are
//! tolerated and skipped.
//!
//! ```text
//! $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent ["$http_referer" "$http_user_agent" [...]]
//! ```
//!
//! The hot path extracts the instant and the status only; [`detail`] reads
//! the client and the request of a failed request again. nginx writes `"` inside a
//! field as `\x22` and leaves spaces raw, so `$remote_user` may hold spaces and
//! the request may hold anything but a raw quote; Apache escapes a quote as
//! `\"`. The request therefore ends at the first quote that is followed by a
//! space, a three-digit status and a space or the end of the line.

use memchr::memchr;

use crate::event::Request;
use crate::time::ClfCache;

/// Which member of the family a line looks like (decided from what follows
/// the byte count), used to name the format in the report.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Flavor {
    Common,
    Combined,
    Main,
    CombinedExtra,
}

/// The fields of one access line that the pipeline uses.
#[derive(Debug, PartialEq, Eq)]
pub struct AccessLine<'a> {
    pub time: &'a [u8],
    pub status: u16,
    /// The request line, between its quotes, as written.
    pub request: &'a [u8],
    /// Everything after the byte count (referer, user agent, extra fields).
    pub tail: &'a [u8],
}

/// ` NNN BYTES` then a space or the end of the line: the status and the
/// tail. Written by hand: with the request's closing quote this runs for
/// every line of every access log.
#[inline]
fn status_and_bytes(i: &[u8]) -> Option<(&[u8], u16)> {
    if i.len() < 6 || i[0] != b' ' || i[4] != b' ' {
        return None;
    }
    let d = |c: u8| c.is_ascii_digit().then(|| (c - b'0') as u16);
    let status = d(i[1])? * 100 + d(i[2])? * 10 + d(i[3])?;
    // $body_bytes_sent: digits, or `-` (Apache `%b`).
    let n = i[5..]
        .iter()
        .take_while(|c| c.is_ascii_digit() || **c == b'-')
        .count();
    if n == 0 {
        return None;
    }
    let rest = &i[5 + n..];
    (rest.is_empty() || rest[0] == b' ').then_some((rest, status))
}

/// The quoted request, then status and bytes: the request ends at the first
/// quote not escaped with a backslash that is followed by ` NNN BYTES`.
/// Returns the request's length, the tail and the status.
#[inline]
fn request_then_status(i: &[u8]) -> Option<(usize, &[u8], u16)> {
    let mut from = 0;
    while let Some(p) = memchr(b'"', &i[from..]) {
        let q = from + p;
        from = q + 1;
        if q > 0 && i[q - 1] == b'\\' {
            continue;
        }
        if let Some((tail, status)) = status_and_bytes(&i[q + 1..]) {
            return Some((q, tail, status));
        }
    }
    None
}

/// Parses one access-log line.
///
/// The prefix is found with memchr rather than byte-by-byte combinators: it
/// is the hot path of the whole tool, and `$remote_user` may hold spaces, so
/// the stamp is located as the first `[` that follows a space. The fixed
/// layout after it (26 bytes of time, `] "`) is checked in place.
#[inline]
pub fn parse_line(i: &[u8]) -> Option<AccessLine<'_>> {
    if i.first().is_none_or(|c| *c == b' ' || *c == b'[') {
        return None; // no $remote_addr
    }
    let mut from = 1;
    let open = loop {
        let p = from + memchr(b'[', &i[from..])?;
        if i[p - 1] == b' ' {
            break p;
        }
        from = p + 1;
    };
    let t = &i[open + 1..];
    if t.len() < 29 || &t[26..29] != b"] \"" {
        return None;
    }
    let (len, tail, status) = request_then_status(&t[29..])?;
    Some(AccessLine {
        time: &t[..26],
        status,
        request: &t[29..29 + len],
        tail,
    })
}

/// The client (`$remote_addr`) and the request line of an access line.
pub fn detail(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let a = parse_line(line)?;
    let client = &line[..memchr(b' ', line)?];
    Some((client, a.request))
}

/// Parses a line into a request, through the per-second timestamp cache.
#[inline]
pub fn parse_request(line: &[u8], cache: &mut ClfCache) -> Option<Request> {
    let a = parse_line(line)?;
    let (utc, offset) = cache.parse(a.time)?;
    Some(Request {
        utc,
        offset,
        status: a.status,
        latency_ms: None,
    })
}

/// Counts the quoted fields in the tail, to tell the family members apart.
pub fn flavor_of(tail: &[u8]) -> Flavor {
    let t = trim(tail);
    if t.is_empty() {
        return Flavor::Common;
    }
    let mut quoted = 0;
    let mut rest = t;
    while let Some(r) = rest.strip_prefix(b"\"") {
        match memchr::memchr(b'"', r) {
            Some(end) => {
                quoted += 1;
                rest = trim(&r[end + 1..]);
            }
            None => return Flavor::CombinedExtra,
        }
    }
    match (quoted, rest.is_empty()) {
        (2, true) => Flavor::Combined,
        (3, true) => Flavor::Main,
        _ => Flavor::CombinedExtra,
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let s = b.iter().position(|c| *c != b' ').unwrap_or(b.len());
    let e = b.iter().rposition(|c| *c != b' ').map_or(s, |p| p + 1);
    &b[s..e.max(s)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(l: &str) -> Option<u16> {
        parse_line(l.as_bytes()).map(|a| a.status)
    }

    #[test]
    fn combined_and_flavors() {
        let l = br#"192.168.58.11 - - [03/Nov/2024:06:09:29 +0000] "GET / HTTP/1.1" 502 559 "-" "Mozilla/5.0 (X11)""#;
        let a = parse_line(l).unwrap();
        assert_eq!(a.status, 502);
        assert_eq!(a.time, b"03/Nov/2024:06:09:29 +0000");
        assert_eq!(a.request, b"GET / HTTP/1.1");
        assert_eq!(
            detail(l),
            Some((&b"192.168.58.11"[..], &b"GET / HTTP/1.1"[..]))
        );
        assert_eq!(flavor_of(a.tail), Flavor::Combined);
        let main = br#"1.2.3.4 - - [03/Nov/2024:06:09:29 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8" "10.0.0.1, 10.0.0.2""#;
        assert_eq!(flavor_of(parse_line(main).unwrap().tail), Flavor::Main);
        let common =
            b"1.2.3.4 - frank [10/Oct/2000:13:55:36 -0700] \"GET /a.gif HTTP/1.0\" 200 2326";
        assert_eq!(flavor_of(parse_line(common).unwrap().tail), Flavor::Common);
        let extra = br#"108.162.227.25 - - [08/Mar/2023:16:02:45 +0000] "GET / HTTP/1.1" 504 562 "-" "Mozilla/5.0" 1100 14.998 [svc-80] [] 192.168.215.1:80, 192.168.215.1:80 0, 0 5.000, 5.000 504, 504 a7c98d"#;
        let a = parse_line(extra).unwrap();
        assert_eq!(a.status, 504);
        assert_eq!(flavor_of(a.tail), Flavor::CombinedExtra);
    }

    #[test]
    fn escapes_ipv6_and_odd_requests() {
        assert_eq!(
            status_of(
                r#"2001:db8::1 - - [03/Nov/2024:06:09:29 +0000] "GET /q?a=\x22b\x22 HTTP/1.1" 500 0 "-" "-""#
            ),
            Some(500)
        );
        // Apache escapes the quote with a backslash.
        assert_eq!(
            status_of(
                r#"1.2.3.4 - - [03/Nov/2024:06:09:29 +0000] "GET /a\" 200 x HTTP/1.1" 503 - "-" "-""#
            ),
            Some(503)
        );
        assert_eq!(
            status_of(r#"85.202.168.47 - - [04/Oct/2022:04:34:49 +0200] "" 400 0 "-" "-""#),
            Some(400)
        );
        assert_eq!(
            status_of(
                r#"128.199.92.8 - - [04/Oct/2022:06:36:53 +0200] "\xF1\x85S\xCD" 400 150 "-" "-""#
            ),
            Some(400)
        );
        // A user name with a space (nginx leaves spaces raw).
        assert_eq!(
            status_of(r#"1.2.3.4 - jo doe [04/Oct/2022:06:36:53 +0200] "GET / HTTP/1.1" 204 0"#),
            Some(204)
        );
    }

    #[test]
    fn rejects_broken_lines() {
        assert_eq!(status_of(""), None);
        assert_eq!(status_of("garbage"), None);
        assert_eq!(
            status_of(r#"1.2.3.4 - - [04/Oct/2022:06:36:53 +0200] "GET / HTTP/1.1" 2x4 0"#),
            None
        );
        assert_eq!(
            status_of(r#"1.2.3.4 - - [04/Oct/2022:06:36:53 +0200] "GET / HTTP/1.1" 200"#),
            None
        );
        assert_eq!(
            status_of(r#"1.2.3.4 - - [04/Oct/2022:06:36 +0200] "GET / HTTP/1.1" 200 1"#),
            None
        );
        let mut c = ClfCache::default();
        assert!(parse_request(
            br#"1.2.3.4 - - [99/Oct/2022:06:36:53 +0200] "GET / HTTP/1.1" 200 1"#,
            &mut c
        )
        .is_none());
    }
}
