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

use super::marks;

use super::{Route, RouteKind};
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
        if let Some(found) = request_ends_at(i, q, 0) {
            return Some(found);
        }
    }
    None
}

/// Whether the quote at `q` of `i` closes the request that starts at
/// `start`: it is not escaped and ` NNN BYTES` follows. Gives what
/// [`request_then_status`] returns, the length counted from `start`.
#[inline(always)]
fn request_ends_at(i: &[u8], q: usize, start: usize) -> Option<(usize, &[u8], u16)> {
    if q > start && i[q - 1] == b'\\' {
        return None;
    }
    let (tail, status) = status_and_bytes(&i[q + 1..])?;
    Some((q - start, tail, status))
}

/// The position of the stamp's `[` in line `i`, given `find`, the first
/// `[` at or after a position. The line must start with `$remote_addr`
/// (not a space or `[`), and as `$remote_user` may hold spaces, the stamp
/// opens at the first `[` that follows a space.
#[inline(always)]
fn stamp_open(i: &[u8], mut find: impl FnMut(usize) -> Option<usize>) -> Option<usize> {
    if i.first().is_none_or(|c| *c == b' ' || *c == b'[') {
        return None; // no $remote_addr
    }
    let mut from = 1;
    loop {
        let p = find(from)?;
        if i[p - 1] == b' ' {
            return Some(p);
        }
        from = p + 1;
    }
}

/// The fixed layout after the stamp's `[` (26 bytes of time, `] "`): the
/// time, and where the request starts.
#[inline(always)]
fn stamp_at(i: &[u8], open: usize) -> Option<(&[u8], usize)> {
    let t = i.get(open + 1..open + 30)?;
    (&t[26..29] == b"] \"").then_some((&t[..26], open + 30))
}

/// Parses one access-log line.
///
/// The prefix is found with memchr rather than byte-by-byte combinators: it
/// is the hot path of the whole tool. The fixed layout after the stamp's
/// `[` is checked in place. Whole blocks go through [`for_each_line`],
/// which gives the same results faster.
#[inline]
pub fn parse_line(i: &[u8]) -> Option<AccessLine<'_>> {
    let open = stamp_open(i, |from| Some(from + memchr(b'[', &i[from..])?))?;
    let (time, start) = stamp_at(i, open)?;
    let (len, tail, status) = request_then_status(&i[start..])?;
    Some(AccessLine {
        time,
        status,
        request: &i[start..start + len],
        tail,
    })
}

/// How many 64-byte windows of a line [`for_each_line`] marks `[` and `"`
/// in: enough for the stamp and the request of nearly every line. A line
/// whose request ends later is parsed by [`parse_line`].
const MARKED_WINDOWS: usize = 2;

/// Calls `f` with each line of `data` (as [`crate::chunk::text_lines`]
/// cuts them) and what [`parse_line`] makes of it.
///
/// The line's end, its `[` and its quotes are found from the marks of
/// 64-byte windows starting at the line (see [`marks`]): a few vector
/// compares per line instead of a `memchr` call per field.
pub fn for_each_line<'a>(data: &'a [u8], mut f: impl FnMut(&'a [u8], Option<AccessLine<'a>>)) {
    #[cfg(target_arch = "x86_64")]
    {
        if let Some(k) = marks::Avx2::detect() {
            // SAFETY: `k` exists, so the CPU has AVX2.
            unsafe { each_line_avx2(k, data, &mut f) };
        } else {
            each_line(marks::Sse2, data, &mut f);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    each_line(marks::Scalar, data, &mut f);
}

/// [`each_line`] compiled with AVX2 enabled, so that the kernel's
/// intrinsics are inlined into the loop.
///
/// # Safety
/// The CPU must have AVX2 (an [`marks::Avx2`] proves it).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn each_line_avx2<'a>(
    k: marks::Avx2,
    data: &'a [u8],
    f: &mut impl FnMut(&'a [u8], Option<AccessLine<'a>>),
) {
    each_line(k, data, f)
}

/// The 64 bytes of `data` from `at`, zero-padded past its end (a zero is
/// none of the marked bytes).
#[inline(always)]
fn window<'d>(data: &'d [u8], at: usize, pad: &'d mut [u8; 64]) -> &'d [u8; 64] {
    match data.get(at..at + 64) {
        Some(w) => w.try_into().expect("64 bytes"),
        None => {
            let rest = &data[at.min(data.len())..];
            *pad = [0; 64];
            pad[..rest.len()].copy_from_slice(rest);
            pad
        }
    }
}

#[inline(always)]
fn each_line<'a, K: marks::Kernel>(
    k: K,
    data: &'a [u8],
    f: &mut impl FnMut(&'a [u8], Option<AccessLine<'a>>),
) {
    let n = data.len();
    let mut pos = 0;
    let mut pad = [0u8; 64];
    let mut brackets = [0u64; MARKED_WINDOWS];
    let mut quotes = [0u64; MARKED_WINDOWS];
    while pos < n {
        // Mark the first windows from the line's start, then look for the
        // newline alone.
        let mut at = pos;
        let mut used = 0;
        let mut newlines;
        loop {
            let m = k.masks(window(data, at, &mut pad));
            brackets[used] = m.bracket;
            quotes[used] = m.quote;
            used += 1;
            newlines = m.newline;
            if newlines != 0 || at + 64 >= n || used == MARKED_WINDOWS {
                break;
            }
            at += 64;
        }
        while newlines == 0 && at + 64 < n {
            at += 64;
            newlines = k.eq(window(data, at, &mut pad), b'\n');
        }
        let end = if newlines == 0 {
            n
        } else {
            at + newlines.trailing_zeros() as usize
        };
        let line = &data[pos..end];
        pos = end + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let mut parsed = parse_marked(line, &brackets[..used], &quotes[..used]);
        if parsed.is_none() && line.len() > used * 64 {
            parsed = parse_line(line); // the marks did not reach far enough
        }
        f(line, parsed);
    }
}

/// [`parse_line`] from the marks of `i`'s `[` and `"`.
#[inline(always)]
fn parse_marked<'a>(i: &'a [u8], brackets: &[u64], quotes: &[u64]) -> Option<AccessLine<'a>> {
    let n = i.len();
    let open = stamp_open(i, |from| marks::find_map(brackets, from, n, Some))?;
    let (time, start) = stamp_at(i, open)?;
    let (len, tail, status) = marks::find_map(quotes, start, n, |q| request_ends_at(i, q, start))?;
    Some(AccessLine {
        time,
        status,
        request: &i[start..start + len],
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
    parse_line(line)?.request(cache)
}

impl AccessLine<'_> {
    /// The request, its time read through the per-second cache.
    #[inline(always)]
    pub fn request(&self, cache: &mut ClfCache) -> Option<Request> {
        let (utc, offset) = cache.parse(self.time)?;
        Some(Request {
            utc,
            offset,
            status: self.status,
            latency_ms: None,
        })
    }
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

/// The upstream an ingress-nginx line names: its default `upstreaminfo`
/// format follows the user agent with `$request_length $request_time
/// [$proxy_upstream_name] [$proxy_alternative_upstream_name]
/// $upstream_addr …`. The first bracketed name after the quoted fields of
/// the tail.
pub fn tail_route(tail: &[u8]) -> Option<Route<'_>> {
    let mut rest = trim(tail);
    while let Some(r) = rest.strip_prefix(b"\"") {
        rest = trim(&r[memchr::memchr(b'"', r)? + 1..]);
    }
    let open = memchr::memchr(b'[', rest)?;
    let name_end = open + 1 + memchr::memchr(b']', &rest[open + 1..])?;
    Route::new(RouteKind::Upstream, &rest[open + 1..name_end])
}

fn trim(b: &[u8]) -> &[u8] {
    let s = b.iter().position(|c| *c != b' ').unwrap_or(b.len());
    let e = b.iter().rposition(|c| *c != b' ').map_or(s, |p| p + 1);
    &b[s..e.max(s)]
}

/// The CLF family in the registry: one parser, four members named by
/// what follows the byte count.
mod specs {
    use super::super::registry::{Blocks, Format, Seed, SniffCtx, Sniffed, Spec};
    use super::super::{Detail, Line, LineParser};
    use super::{detail, flavor_of, parse_line, parse_request, Flavor};

    fn parse<'a>(p: &mut LineParser, line: &'a [u8]) -> Option<Line<'a>> {
        parse_request(line, &mut p.clf).map(Line::Request)
    }

    fn details<'a>(_: Option<&Seed>, line: &'a [u8]) -> Detail<'a> {
        detail(line).map_or_else(Detail::default, |(c, r)| Detail::new(Some(c), Some(r)))
    }

    fn sniff(ctx: &mut SniffCtx, line: &[u8]) -> Sniffed {
        match parse_line(line) {
            Some(a) if ctx.clf.parse(a.time).is_some() => Sniffed::Is(match flavor_of(a.tail) {
                Flavor::Common => Format::Common,
                Flavor::Combined => Format::Combined,
                Flavor::Main => Format::Main,
                Flavor::CombinedExtra => Format::CombinedExtra,
            }),
            _ => Sniffed::Pass,
        }
    }

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
            requests: true,
            blocks: Blocks::Clf,
            parse,
            detail: details,
            sniff: if sniffs { Some((50, sniff)) } else { None },
            lenient: None,
            seed: None,
            evidence: None,
            caveat: None,
            unplaced: None,
        }
    }

    pub static COMMON: Spec = member(
        "common",
        &["clf"],
        "Common Log Format (CLF) access log",
        true,
    );
    pub static COMBINED: Spec = member(
        "combined",
        &["nginx", "apache"],
        "nginx/Apache combined access log",
        false,
    );
    pub static MAIN: Spec = member(
        "main",
        &[],
        "nginx 'main': combined + \"$http_x_forwarded_for\"",
        false,
    );
    pub static COMBINED_EXTRA: Spec = member(
        "combined-extra",
        &[],
        "combined followed by extra fields (request time, upstream…)",
        false,
    );
}

pub use specs::{COMBINED, COMBINED_EXTRA, COMMON, MAIN};

/// What every line [`looks_like_request`] takes for a request holds.
pub const REQUEST_TRIGGER: &[u8] = b" HTTP/";

/// Whether a line read by a format that counts no requests looks like an
/// HTTP access record after all: a method and a target before ` HTTP/n`,
/// and a status (100–599) after it, or before it when the quoted request
/// ends the line (HAProxy's httplog and the layouts built on it) — the
/// sign of an access log in a layout logburst does not know, misread as a
/// system or application log. The request may sit in a JSON string, its
/// quotes escaped (an access line as a collector's `message`).
pub fn looks_like_request(line: &[u8]) -> bool {
    let Some(p) = memchr::memmem::find(line, REQUEST_TRIGGER) else {
        return false;
    };
    let before = &line[..p];
    let Some(sp) = memchr::memrchr(b' ', before) else {
        return false;
    };
    let target = &before[sp + 1..];
    let method = before[..sp]
        .rsplit(|c| *c == b' ' || *c == b'"')
        .next()
        .unwrap_or_default();
    let method_ok = (3..=7).contains(&method.len()) && method.iter().all(u8::is_ascii_uppercase);
    let target_ok = target.starts_with(b"/") || target.starts_with(b"http");
    if !(method_ok && target_ok) {
        return false;
    }
    let after = &line[p + 6..];
    let version = after
        .iter()
        .take_while(|c| c.is_ascii_digit() || **c == b'.')
        .count();
    let rest = &after[version..];
    let rest = rest.strip_prefix(b"\\").unwrap_or(rest);
    let Some(rest) = rest.strip_prefix(b"\"") else {
        return status_after(rest);
    };
    // The quoted request closes the line: the status came before it.
    if rest.trim_ascii().is_empty() {
        return before[..sp]
            .split(|c| *c == b' ')
            .any(|w| w.len() == 3 && is_status(w));
    }
    status_after(rest)
}

/// Whether a status (100–599) opens `rest`, alone or labelled.
fn status_after(rest: &[u8]) -> bool {
    let rest = rest.trim_ascii_start();
    // A labelled status: Python eventlet's WSGI log, which every OpenStack
    // API service writes (`"GET /v2/… HTTP/1.1" status: 200 len: 1893`),
    // or `status=200`.
    let rest = match rest.strip_prefix(b"status") {
        Some(r) => r
            .strip_prefix(b":")
            .or_else(|| r.strip_prefix(b"="))
            .unwrap_or(r)
            .trim_ascii_start(),
        None => rest,
    };
    rest.len() >= 3
        && is_status(&rest[..3])
        && rest.get(3).is_none_or(|c| !c.is_ascii_alphanumeric())
}

/// Whether `w` (three bytes) is an HTTP status, 100–599.
fn is_status(w: &[u8]) -> bool {
    w.iter().all(u8::is_ascii_digit) && (b'1'..=b'5').contains(&w[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The verbatim line of kubernetes/ingress-nginx#9443 (three tries,
    /// 504), and lines that name no upstream.
    #[test]
    fn ingress_upstream_from_the_tail() {
        let line = br#"108.162.227.25 - - [08/Mar/2023:16:02:45 +0000] "GET / HTTP/1.1" 504 562 "-" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36" 1100 14.998 [pc-dev-example-web-service-80] [] 192.168.215.1:80, 192.168.215.1:80, 192.168.215.1:80 0, 0, 0 5.000, 5.000, 5.000 504, 504, 504 a7c98d98ac870f64981a997cd2f373a1"#;
        let a = parse_line(line).unwrap();
        assert_eq!(
            tail_route(a.tail).map(|r| r.key()).as_deref(),
            Some("upstream pc-dev-example-web-service-80")
        );
        for tail in [
            &br#" "-" "Mozilla/5.0 [en] (X11)""#[..],
            br#" "-" "curl" "10.0.0.1""#,
            br#" "-" "curl" 100 0.001 [] [] - - - - id"#,
            br#" "-" "curl" 100 0.001 [unclosed"#,
            br#" "-" "cu"#,
        ] {
            assert_eq!(tail_route(tail), None, "{}", String::from_utf8_lossy(tail));
        }
    }
    use proptest::prelude::*;

    /// Each line of `data` with what `parse_line` makes of it: the
    /// reference for the block parser.
    fn reference(data: &[u8]) -> Vec<(&[u8], Option<AccessLine<'_>>)> {
        crate::chunk::text_lines(data)
            .map(|l| (l, parse_line(l)))
            .collect()
    }

    fn blockwise<K: marks::Kernel>(k: K, data: &[u8]) -> Vec<(&[u8], Option<AccessLine<'_>>)> {
        let mut got = Vec::new();
        each_line(k, data, &mut |l, a| got.push((l, a)));
        got
    }

    /// Bytes that move the parser: the marked ones, the layout's, digits.
    fn piece() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            Just(b'"'),
            Just(b'['),
            Just(b' '),
            Just(b'\\'),
            Just(b'\r'),
            Just(b'\n'),
            b'0'..=b'9',
            any::<u8>(),
        ];
        prop_oneof![
            proptest::collection::vec(byte, 0..200),
            Just(b"1.2.3.4 - - [03/Nov/2024:06:09:29 +0000] \"GET /".to_vec()),
            Just(b"\" 502 559 \"-\" \"curl\"\n".to_vec()),
            Just(b"\" 200 -\r\n".to_vec()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// The block parser cuts and parses exactly as line by line, over
        /// lines of any length (past the marked windows too), with or
        /// without a final newline, with every kernel.
        #[test]
        fn block_parser_agrees_with_parse_line(
            pieces in proptest::collection::vec(piece(), 0..24),
            long in 0usize..3,
        ) {
            let mut data: Vec<u8> = pieces.concat();
            if long > 0 {
                // A valid line whose request ends far past the marks.
                let url = "/x".repeat(60 * long);
                data.extend_from_slice(format!(
                    "9.9.9.9 - a b [03/Nov/2024:06:09:29 +0000] \"GET {url} HTTP/1.1\" 503 1 \"-\"\n"
                ).as_bytes());
            }
            let want = reference(&data);
            prop_assert_eq!(&blockwise(marks::Scalar, &data), &want);
            #[cfg(target_arch = "x86_64")]
            prop_assert_eq!(&blockwise(marks::Sse2, &data), &want);
            let mut got = Vec::new();
            for_each_line(&data, |l, a| got.push((l, a)));
            prop_assert_eq!(&got, &want);
        }
    }

    fn status_of(l: &str) -> Option<u16> {
        parse_line(l.as_bytes()).map(|a| a.status)
    }

    #[test]
    fn request_shaped_lines_are_recognised() {
        for yes in [
            &b"2023-02-02T07:00:01+03:00 shop.example \"GET /api/x HTTP/1.1\" 502 512 rt=0.1"[..],
            b"10.0.0.1 - - [x] \"POST http://a/b HTTP/2.0\" 404 1",
            b"[notice] GET /index.html HTTP/1.0 200",
            // loghub's real OpenStack nova-api sample (eventlet's WSGI log).
            b"2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-38101a0b-2096-447d-96ea-a692162415ae 113d3a99c3da401fbd62cc2caa5b96d2 54fadb412c4e40cdbaed9335e4c35a9e - - -] 10.11.10.1 \"GET /v2/54fadb412c4e40cdbaed9335e4c35a9e/servers/detail HTTP/1.1\" status: 200 len: 1893 time: 0.2477829",
            b"ts=1 msg=\"GET /a HTTP/1.1\" status=503",
            // HAProxy's httplog with a captured header before the timers
            // (Elastic Beats' haproxy module test log): the request last.
            b"Jun 22 12:02:53 node2 haproxy[23034]: -:47625 [22/Jun/2021:12:02:53.473] www-https~ app/app-node2 app.domain.com 0/0/1/17/18 302 291 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"",
            // An Envoy line as a collector's JSON `message` (the same).
            br#"{"message":"ACCESS [2019-04-10T03:49:34.451Z] \"GET /httpbin/status/501 HTTP/1.1\" 501 - 0 0 180 179 \"172.17.0.3\"","stream":"stdout"}"#,
        ] {
            assert!(looks_like_request(yes), "{}", String::from_utf8_lossy(yes));
        }
        for no in [
            &b"Feb  2 07:00:01 web-01 kernel: Out of memory: Killed process 1 (a)"[..],
            b"2023-02-02 07:00:01 INFO fetched /api/x over HTTP/1.1",
            b"get /x HTTP/1.1 200",
            b"GET /x HTTP/1.1 20",
            b"GET /x HTTP/1.1 600 1",
            b"GET /x HTTP/1.1 status: 2000",
            b"GET /x HTTP/1.1 statuses 200",
            // A request closing the line with no status before it.
            b"x 1/2/3 fetching \"GET /x HTTP/1.1\"",
            b"x 2000 \"GET /x HTTP/1.1\"",
        ] {
            assert!(!looks_like_request(no), "{}", String::from_utf8_lossy(no));
        }
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
