//! The W3C extended log file format (W3C Working Draft WD-logfile-960323),
//! as IIS writes it (`u_ex*.log`) and CloudFront-style logs follow it:
//! `#` directives, among them `#Fields:` naming the columns of the lines
//! that follow; each line holds those fields separated by spaces or tabs,
//! `-` for an empty one. `date` and `time` are UTC (IIS writes W3C logs in
//! UTC whatever the server's zone); the status is `sc-status`; the client
//! `c-ip`; the path `cs-uri-stem` (or `cs-uri`); `time-taken` is whole
//! milliseconds in IIS and fractional seconds (with a dot) elsewhere.
//!
//! CloudFront's own failures to reach the origin (`x-edge-detailed-result-type`
//! `OriginConnectError`, `OriginDnsError`, `OriginReadError`…) are evidence
//! of a failed request ([`evidence`]): the edge answered it itself.
//!
//! The layout is the seed: read from the first `#Fields:` of the input's
//! head and given to every block; a `#Fields:` met in a block changes it for
//! the rest of that block. A layout that changes in the middle of a file
//! is followed within the block where it changes; blocks after it are read
//! with the head's, and their lines are malformed if it no longer fits.

use std::sync::Arc;

use super::registry::{Blocks, Format, Seed, SniffCtx, Sniffed, Spec};
use super::{Detail, Line, LineParser, Route, RouteKind};
use crate::event::{millis_of_seconds, Request, NO_RESPONSE};
use crate::time::{self, ClfCache};

/// Where the fields logburst reads are, in a `#Fields:` layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// How many fields a line holds.
    width: usize,
    date: usize,
    time: usize,
    status: usize,
    client: Option<usize>,
    stem: Option<usize>,
    uri: Option<usize>,
    taken: Option<usize>,
    /// The `Host` header asked for: IIS's `cs-host`, CloudFront's
    /// `x-host-header` (its `cs(Host)` is the distribution's own name).
    vhost: Option<usize>,
    /// Per field, the [`Slot`] a request's read keeps it in, if any.
    slots: [u8; MAX_FIELDS],
    /// `#GMT-Offset: -0800` (Oracle Web Cache's directive): `date` and
    /// `time` are local at this offset, not UTC as the W3C draft has them.
    offset: time::OffsetSecs,
}

/// The offset of a `#GMT-Offset:` directive (`-0800`, `+05:30`).
fn gmt_offset(line: &[u8]) -> Option<time::OffsetSecs> {
    let v = line.strip_prefix(b"#GMT-Offset:")?.trim_ascii();
    let (off, used) = time::parse_offset(v)?;
    (used == v.len()).then_some(off)
}

/// The fields a request is read from, as [`split`] keeps them.
#[derive(Clone, Copy)]
enum Slot {
    Date,
    Time,
    Status,
    Taken,
    Vhost,
}

/// No slot: the field is not read.
const UNREAD: u8 = u8::MAX;

/// Directives a W3C log writes (`#Version: 1.0`, `#Fields: …`).
const DIRECTIVES: &[&[u8]] = &[
    b"#Version:",
    b"#Fields:",
    b"#Software:",
    b"#Start-Date:",
    b"#End-Date:",
    b"#Date:",
    b"#Remark:",
];

fn fields(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    plain_fields(line).map(move |(a, b)| &line[a..b])
}

/// Where each of [`fields`] starts and ends: cut at every blank.
fn plain_fields(line: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    // The separators found by memchr's vectorised search, not byte by byte.
    let mut start = 0;
    let mut seps = memchr::memchr2_iter(b' ', b'\t', line).chain(std::iter::once(line.len()));
    std::iter::from_fn(move || loop {
        let end = seps.next()?;
        let f = (start, end);
        start = end + 1;
        if f.0 < f.1 {
            return Some(f);
        }
    })
}

/// The fields of a line holding a double quote, for a layout of `width`:
/// its quoted reading ([`quoted_fields`]) when that fits, else cut at
/// every blank as before quotes were read — an IIS user agent or query
/// that merely opens with a stray `"` (IIS quotes no value).
fn quoted_or_plain(line: &[u8], width: usize) -> Vec<(usize, usize)> {
    let quoted = quoted_fields(line);
    if quoted.len() == width {
        quoted
    } else {
        plain_fields(line).collect()
    }
}

/// Where each field of `line` starts and ends, a quoted one's inside its
/// quotes: the W3C draft writes a string value in double quotes (a quote
/// inside doubled), and IIS's Advanced Logging Module and Imperva
/// Incapsula's export quote theirs (`"2017-06-28" "07:26:35" … "200"`,
/// `"Mozilla/5.0 (Linux; …)"`). A quote left open runs to the line's end.
fn quoted_fields(line: &[u8]) -> Vec<(usize, usize)> {
    let sep = |b: u8| b == b' ' || b == b'\t';
    let mut out = Vec::new();
    let mut i = 0;
    while i < line.len() {
        if sep(line[i]) {
            i += 1;
            continue;
        }
        if line[i] == b'"' {
            let start = i + 1;
            let mut j = start;
            let end = loop {
                match memchr::memchr(b'"', &line[j..]) {
                    Some(k) if line.get(j + k + 1) == Some(&b'"') => j += k + 2,
                    Some(k) => break j + k,
                    None => break line.len(),
                }
            };
            out.push((start, end));
            // Anything glued after the closing quote belongs to no field.
            i = end + 1;
            while i < line.len() && !sep(line[i]) {
                i += 1;
            }
        } else {
            let start = i;
            while i < line.len() && !sep(line[i]) {
                i += 1;
            }
            out.push((start, i));
        }
    }
    out
}

/// The most fields a line may hold (IIS and CloudFront write up to 33).
const MAX_FIELDS: usize = 64;

/// How many fields `line` holds, keeping where those `slots` names (a
/// [`Slot`] per field index, [`UNREAD`] for the others) start and end in
/// `at`: the fields [`fields`] gives, found with bit masks of the
/// separators 64 bytes at a time (a line of 33 fields would otherwise
/// start a vector search 34 times for a few bytes each); a line holding a
/// double quote, by [`quoted_or_plain`] for a layout of `width`.
fn split(
    line: &[u8],
    width: usize,
    slots: &[u8; MAX_FIELDS],
    at: &mut [(usize, usize); SLOTS],
) -> usize {
    let mut n = 0;
    let mut keep = |n: &mut usize, field: (usize, usize)| {
        keep_slot(slots, at, *n, field);
        *n += 1;
    };
    // Bit 0: the byte before the window was a separator; the line starts
    // after one.
    let mut sep_before = 1u64;
    let mut start = 0;
    let mut chunks = line.chunks_exact(64);
    let mut base = 0;
    let mut window = |sep: u64, base: usize, n: &mut usize, start: &mut usize| {
        let prev = (sep << 1) | sep_before;
        sep_before = sep >> 63;
        let (mut starts, mut ends) = (!sep & prev, sep & !prev);
        // A field's start comes before its end: take them in turn.
        while starts | ends != 0 {
            let (s, e) = (starts.trailing_zeros(), ends.trailing_zeros());
            if s < e {
                *start = base + s as usize;
                starts &= starts - 1;
            } else {
                keep(n, (*start, (base + e as usize).min(line.len())));
                ends &= ends - 1;
            }
        }
    };
    for chunk in chunks.by_ref() {
        let (sep, quote) = separators(chunk.try_into().expect("64 bytes"));
        if quote != 0 {
            return split_quoted(line, width, slots, at);
        }
        window(sep, base, &mut n, &mut start);
        base += 64;
    }
    // The last bytes, padded with separators: a field open at the end is
    // closed there.
    let mut last = [b' '; 64];
    let rest = chunks.remainder();
    last[..rest.len()].copy_from_slice(rest);
    let (sep, quote) = separators(&last);
    if quote != 0 {
        return split_quoted(line, width, slots, at);
    }
    window(sep, base, &mut n, &mut start);
    n
}

/// [`split`] of a line holding a double quote: by [`quoted_or_plain`].
#[cold]
fn split_quoted(
    line: &[u8],
    width: usize,
    slots: &[u8; MAX_FIELDS],
    at: &mut [(usize, usize); SLOTS],
) -> usize {
    let all = quoted_or_plain(line, width);
    for (i, &field) in all.iter().enumerate() {
        keep_slot(slots, at, i, field);
    }
    all.len()
}

/// Keeps field `i` (its start and end) in `at` when `slots` names it.
#[inline]
fn keep_slot(
    slots: &[u8; MAX_FIELDS],
    at: &mut [(usize, usize); SLOTS],
    i: usize,
    field: (usize, usize),
) {
    if let Some(slot) = slots.get(i).and_then(|&s| at.get_mut(usize::from(s))) {
        *slot = field;
    }
}

/// How many fields [`split`] keeps.
const SLOTS: usize = 5;

/// Bit k set where byte k is a space or a tab, and where it is a double
/// quote.
#[cfg(target_arch = "x86_64")]
fn separators(w: &[u8; 64]) -> (u64, u64) {
    use std::arch::x86_64::*;
    let (mut m, mut q) = (0u64, 0u64);
    for (k, part) in w.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is in every x86-64 processor; the load reads the 16
        // bytes of `part`, unaligned.
        let (bits, quotes) = unsafe {
            let v = _mm_loadu_si128(part.as_ptr().cast());
            let space = _mm_cmpeq_epi8(v, _mm_set1_epi8(b' ' as i8));
            let tab = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\t' as i8));
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            (
                _mm_movemask_epi8(_mm_or_si128(space, tab)),
                _mm_movemask_epi8(quote),
            )
        };
        m |= u64::from(bits as u16) << (16 * k);
        q |= u64::from(quotes as u16) << (16 * k);
    }
    (m, q)
}

/// Bit k set where byte k is a space or a tab, and where it is a double
/// quote.
#[cfg(not(target_arch = "x86_64"))]
fn separators(w: &[u8; 64]) -> (u64, u64) {
    w.iter().enumerate().fold((0, 0), |(m, q), (k, b)| {
        (
            m | u64::from(matches!(b, b' ' | b'\t')) << k,
            q | u64::from(*b == b'"') << k,
        )
    })
}

/// The layout a `#Fields:` line declares; `None` unless it names a date,
/// a time and a status.
pub fn layout(line: &[u8]) -> Option<Layout> {
    let names: Vec<&[u8]> = fields(line.strip_prefix(b"#Fields:")?).collect();
    let at = |n: &[u8]| names.iter().position(|f| f.eq_ignore_ascii_case(n));
    let mut layout = Layout {
        width: names.len(),
        date: at(b"date")?,
        time: at(b"time")?,
        status: at(b"sc-status")?,
        client: at(b"c-ip"),
        stem: at(b"cs-uri-stem"),
        uri: at(b"cs-uri"),
        taken: at(b"time-taken"),
        vhost: at(b"cs-host").or_else(|| at(b"x-host-header")),
        slots: [UNREAD; MAX_FIELDS],
        offset: 0,
    };
    if layout.width > MAX_FIELDS {
        return None;
    }
    let read = [
        (Some(layout.date), Slot::Date),
        (Some(layout.time), Slot::Time),
        (Some(layout.status), Slot::Status),
        (layout.taken, Slot::Taken),
        (layout.vhost, Slot::Vhost),
    ];
    for (i, slot) in read {
        if let Some(i) = i {
            layout.slots[i] = slot as u8;
        }
    }
    Some(layout)
}

fn seed(head: &[u8]) -> Option<Seed> {
    let lines = || {
        head.split(|c| *c == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
    };
    let l = lines().find(|l| l.starts_with(b"#Fields:"))?;
    let mut layout = layout(l)?;
    layout.offset = lines().find_map(gmt_offset).unwrap_or(0);
    Some(Arc::new(layout))
}

/// `2023-02-02` and `07:00:22` (or `07:00:22.123`) as UTC seconds.
fn instant(date: &[u8], clock: &[u8]) -> Option<i64> {
    let num = |b: &[u8]| -> Option<u32> {
        if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(b).ok()?.parse().ok()
    };
    if date.len() != 10 || date[4] != b'-' || date[7] != b'-' {
        return None;
    }
    let clock = clock.split(|c| *c == b'.').next()?;
    if clock.len() != 8 || clock[2] != b':' || clock[5] != b':' {
        return None;
    }
    time::civil_to_secs(
        i64::from(num(&date[..4])?),
        num(&date[5..7])?,
        num(&date[8..])?,
        num(&clock[..2])?,
        num(&clock[3..5])?,
        num(&clock[6..])?,
    )
}

/// `time-taken`: whole milliseconds (IIS), or seconds with a dot.
fn taken_ms(b: &[u8]) -> Option<u32> {
    if b.contains(&b'.') {
        return millis_of_seconds(b);
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// A request line read with `layout`, and the virtual host it names.
fn request<'a>(
    layout: &Layout,
    line: &'a [u8],
    cache: &mut ClfCache,
) -> Option<(Request, Option<Route<'a>>)> {
    let mut at = [(0, 0); SLOTS];
    if split(line, layout.width, &layout.slots, &mut at) != layout.width {
        return None;
    }
    let v = |slot: Slot| &line[at[slot as usize].0..at[slot as usize].1];
    let (date, clock) = (v(Slot::Date), v(Slot::Time));
    // Lines of a second share their stamp: from the cache when `date`
    // and `clock` are the bytes it holds (next to each other in IIS's and
    // CloudFront's layouts: one slice of the line).
    let utc = if layout.date < layout.time {
        let both = &line[at[Slot::Date as usize].0..at[Slot::Time as usize].1];
        let (date_len, clock_len) = (date.len(), clock.len());
        let read = |b: &[u8]| Some((instant(&b[..date_len], &b[b.len() - clock_len..])?, 0));
        cache.text(both, read)?.0
    } else {
        instant(date, clock)?
    };
    let utc = utc - i64::from(layout.offset);
    let status = v(Slot::Status);
    if status.len() != 3 {
        return None;
    }
    let status: u16 = std::str::from_utf8(status).ok()?.parse().ok()?;
    // `000`: CloudFront's viewer closed the connection before an answer.
    if status != NO_RESPONSE && !(100..=599).contains(&status) {
        return None;
    }
    let request = Request {
        utc,
        offset: layout.offset,
        status,
        latency_ms: layout.taken.and_then(|_| taken_ms(v(Slot::Taken))),
    };
    Some((
        request,
        layout
            .vhost
            .and_then(|_| Route::new(RouteKind::Vhost, v(Slot::Vhost))),
    ))
}

fn current(seed: Option<&Seed>) -> Option<&Layout> {
    seed?.downcast_ref::<Layout>()
}

fn parse<'a>(p: &mut LineParser, line: &'a [u8]) -> Option<Line<'a>> {
    if line.starts_with(b"#") {
        let now = current(p.seed.as_ref());
        if line.starts_with(b"#Fields:") {
            // A new layout keeps the offset the file declared.
            let mut l = layout(line)?;
            l.offset = now.map_or(0, |n| n.offset);
            p.seed = Some(Arc::new(l));
            return Some(Line::Meta);
        }
        if let Some(offset) = gmt_offset(line) {
            if let Some(n) = now {
                p.seed = Some(Arc::new(Layout {
                    offset,
                    ..n.clone()
                }));
            }
            return Some(Line::Meta);
        }
        return DIRECTIVES
            .iter()
            .any(|d| line.starts_with(d))
            .then_some(Line::Meta);
    }
    Some(
        match request(current(p.seed.as_ref())?, line, &mut p.clf)? {
            (r, Some(route)) => Line::Routed(r, route),
            (r, None) => Line::Request(r),
        },
    )
}

fn detail<'a>(seed: Option<&Seed>, line: &'a [u8]) -> Detail<'a> {
    let Some(l) = current(seed) else {
        return Detail::default();
    };
    let v: Vec<&[u8]> = quoted_or_plain(line, l.width)
        .into_iter()
        .map(|(a, b)| &line[a..b])
        .collect();
    if v.len() != l.width {
        return Detail::default();
    }
    let path = l.stem.or(l.uri).map(|i| v[i]);
    Detail::new(l.client.map(|i| v[i]), path)
}

/// A directive, or a line the head's layout reads.
fn sniff(ctx: &mut SniffCtx, line: &[u8]) -> Sniffed {
    if line.starts_with(b"#") {
        if DIRECTIVES.iter().any(|d| line.starts_with(d)) {
            return Sniffed::Is(Format::W3c);
        }
        return Sniffed::Pass;
    }
    match current(ctx.seeds.get(&Format::W3c)) {
        Some(l) if request(l, line, &mut ctx.clf).is_some() => Sniffed::Is(Format::W3c),
        _ => Sniffed::Pass,
    }
}

/// W3C extended logs in the registry.
/// A CloudFront line whose edge could not get an answer from the origin:
/// the distribution and CloudFront's word for it, as an upstream failure
/// of kind `lb-answered`. Found by its values (no layout needed): the
/// detailed result type is the one field that starts with `Origin` (or
/// `SlowReaderOrigin`) and ends with `Error`.
pub fn evidence(line: &[u8]) -> Option<(String, super::nginx_error::UpstreamKind)> {
    let fields = || line.split(|c| *c == b'\t' || *c == b' ');
    let error = fields().find(|f| {
        (f.starts_with(b"Origin") || f.starts_with(b"SlowReaderOrigin"))
            && f.ends_with(b"Error")
            && f.len() <= 64
            && f.iter().all(u8::is_ascii_alphanumeric)
    })?;
    let edge = fields()
        .find(|f| f.ends_with(b".cloudfront.net") && f.len() <= 120)
        .map_or_else(
            || "cloudfront".to_string(),
            |d| format!("cloudfront {}", String::from_utf8_lossy(d)),
        );
    Some((
        format!("{edge} ({})", String::from_utf8_lossy(error)),
        super::nginx_error::UpstreamKind::LbAnswered,
    ))
}

pub static SPEC: Spec = Spec {
    name: "w3c",
    aliases: &["iis"],
    about: "W3C extended log file format (#Fields: header): IIS and others",
    requests: true,
    blocks: Blocks::Lines,
    parse,
    detail,
    sniff: Some((40, sniff)),
    lenient: None,
    seed: Some(seed),
    evidence: Some(evidence),
    caveat: None,
    unplaced: None,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudfront_origin_errors_are_evidence() {
        let line = b"2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/api\t502\t-\tcurl\t-\t-\tError\tk6W==\tshop.example\thttps\t23\t0.044\t-\tTLSv1.2\tECDHE\tError\tHTTP/1.1\t-\t-\t40282\t0.044\tOriginConnectError\ttext/html\t507\t-\t-";
        assert_eq!(
            evidence(line).map(|(u, _)| u),
            Some("cloudfront d111111abcdef8.cloudfront.net (OriginConnectError)".into())
        );
        // IIS lines name no such thing.
        assert_eq!(
            evidence(
                b"2023-02-02 07:00:13 10.0.0.1 GET /api - 443 - 203.0.113.7 curl - 503 0 0 31"
            ),
            None
        );
    }
    use crate::format::{detect, YearRule};

    const YEARS: YearRule = YearRule {
        fixed: None,
        reference: (2023, 3, 31),
        boot: None,
        written: None,
    };

    /// IIS 10's default field set, as the IIS documentation lists it.
    const IIS: &str = "#Software: Microsoft Internet Information Services 10.0\r
#Version: 1.0\r
#Date: 2023-02-02 04:00:00\r
#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r
2023-02-02 04:00:22 10.0.0.5 GET /api/cart id=7 443 - 41.90.17.3 Mozilla/5.0+(X11) - 200 0 0 31\r
2023-02-02 04:00:23 10.0.0.5 POST /api/orders/1041 - 443 - 41.90.17.4 curl/8.0 - 502 3 12002 30015\r
";

    #[test]
    fn reads_iis_by_its_fields_header() {
        assert_eq!(detect(IIS.as_bytes(), &YEARS), Some(Format::W3c));
        let mut p = LineParser::new(Format::W3c, YEARS).seeded(seed(IIS.as_bytes()));
        let lines: Vec<Option<Line>> = IIS.lines().map(|l| p.parse(l.as_bytes())).collect();
        assert!(lines[..4].iter().all(|l| *l == Some(Line::Meta)));
        let Some(Line::Request(r)) = &lines[5] else {
            panic!("{:?}", lines[5]);
        };
        assert_eq!(
            (r.utc, r.offset, r.status, r.latency_ms),
            (1_675_310_423, 0, 502, Some(30_015))
        );
        let d = Detail::of(
            Format::W3c,
            &[],
            seed(IIS.as_bytes()).as_ref(),
            IIS.lines().nth(5).unwrap().as_bytes(),
        );
        assert_eq!(d.client.as_deref(), Some(&b"41.90.17.4"[..]));
        assert_eq!(d.path.as_deref(), Some(&b"/api/orders/{id}"[..]));
    }

    #[test]
    fn a_line_that_does_not_fit_the_layout_is_malformed() {
        let mut p = LineParser::new(Format::W3c, YEARS).seeded(seed(IIS.as_bytes()));
        assert_eq!(p.parse(b"2023-02-02 04:00:22 10.0.0.5 GET /"), None);
        assert_eq!(
            p.parse(b"2023-02-02 04:00:22 10.0.0.5 GET /a - 443 - 1.2.3.4 x - 999 0 0 31"),
            None
        );
        assert_eq!(
            p.parse(b"2023-13-02 04:00:22 10.0.0.5 GET /a - 443 - 1.2.3.4 x - 200 0 0 31"),
            None
        );
        assert_eq!(p.parse(b"# a comment that is no directive"), None);
        // Without a layout nothing is read.
        let mut bare = LineParser::new(Format::W3c, YEARS);
        assert_eq!(bare.parse(IIS.lines().nth(4).unwrap().as_bytes()), None);
    }

    #[test]
    fn a_new_fields_directive_changes_the_layout() {
        let mut p = LineParser::new(Format::W3c, YEARS).seeded(seed(IIS.as_bytes()));
        assert_eq!(
            p.parse(b"#Fields: time date sc-status time-taken"),
            Some(Line::Meta)
        );
        match p.parse(b"04:00:22 2023-02-02 503 0.250") {
            Some(Line::Request(r)) => assert_eq!((r.status, r.latency_ms), (503, Some(250))),
            other => panic!("{other:?}"),
        }
    }

    /// lnav's test sample of Imperva Incapsula's W3C export: every value
    /// quoted, a user agent with spaces, an empty `""`; IIS's Advanced
    /// Logging Module quotes some values and doubles a quote inside one.
    #[test]
    fn quoted_values_are_fields() {
        let layout =
            "#Fields: date time cs-vid c-ip cs(User-Agent) s-suid cs-uri sc-status cs-method";
        let mut p = LineParser::new(Format::W3c, YEARS).seeded(seed(layout.as_bytes()));
        let line = br#""2017-06-28" "07:26:35" "a1f3" "123.123.123.123" "Mozilla/5.0 (Windows NT 6.1; Win64; x64) Chrome/58.0" "" "www.example.com/page.php" "503" "GET""#;
        match p.parse(line) {
            Some(Line::Request(r)) => {
                assert_eq!(r.status, 503);
                assert_eq!(time::rfc3339(r.utc, 0), "2017-06-28T07:26:35+00:00");
            }
            other => panic!("{other:?}"),
        }
        let d = detail(p.seed.as_ref(), line);
        assert_eq!(d.client.as_deref(), Some(&b"123.123.123.123"[..]));
        // A row whose status is empty is not a request.
        let empty = br#""2017-06-26" "18:21:17" "daf5" "125.125.125.125" "Firefox x" "" "www.example.com/rss" "" "GET""#;
        assert_eq!(p.parse(empty), None);
        let got = |l: &[u8]| -> Vec<Vec<u8>> {
            quoted_fields(l)
                .into_iter()
                .map(|(a, b)| l[a..b].to_vec())
                .collect()
        };
        assert_eq!(
            got(br#"404 " ""garbage"" w/ spaces " 0"#),
            vec![
                b"404".to_vec(),
                br#" ""garbage"" w/ spaces "#.to_vec(),
                b"0".to_vec()
            ]
        );
        assert_eq!(
            got(br#"a "open to the end"#),
            vec![b"a".to_vec(), b"open to the end".to_vec()]
        );
        assert_eq!(got(br#""x"y z"#), vec![b"x".to_vec(), b"z".to_vec()]);
        // An IIS user agent that opens with a stray quote (IIS quotes no
        // value): the quoted reading does not fit, the plain one does.
        let mut iis = LineParser::new(Format::W3c, YEARS)
            .seeded(seed(b"#Fields: date time cs(User-Agent) sc-status"));
        match iis.parse(br#"2023-02-02 04:00:22 "Mozilla/5.0+(x) 502"#) {
            Some(Line::Request(r)) => assert_eq!(r.status, 502),
            other => panic!("{other:?}"),
        }
        // Without a quote, as the vector split reads it.
        let plain = b"2023-02-02 04:00:22 10.0.0.5\tGET  /a";
        let want: Vec<Vec<u8>> = fields(plain).map(<[u8]>::to_vec).collect();
        assert_eq!(got(plain), want);
    }

    /// lnav's sample of Oracle9iAS Web Cache's log: `#GMT-Offset: -0800`
    /// before `#Fields:` makes its dates and times local; a later offset
    /// changes the layout's, and a new `#Fields:` keeps it.
    #[test]
    fn a_gmt_offset_directive_makes_times_local() {
        let head = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/formats/oracle-webcache-w3c.log"
        ))
        .unwrap();
        let mut p = LineParser::new(Format::W3c, YEARS).seeded(seed(&head));
        let mut requests = Vec::new();
        for l in head.split(|c| *c == b'\n').filter(|l| !l.is_empty()) {
            if let Some(Line::Request(r)) = p.parse(l) {
                requests.push(r);
            }
        }
        assert_eq!(requests.len(), 1);
        let r = &requests[0];
        assert_eq!((r.status, r.offset), (200, -8 * 3600));
        assert_eq!(time::rfc3339(r.utc, r.offset), "2001-10-31T00:00:18-08:00");
        assert_eq!(p.parse(b"#GMT-Offset: +0530"), Some(Line::Meta));
        assert_eq!(p.parse(b"#Fields: date time sc-status"), Some(Line::Meta));
        match p.parse(b"2001-10-31 00:00:18 503") {
            Some(Line::Request(r)) => {
                assert_eq!(time::rfc3339(r.utc, 0), "2001-10-30T18:30:18+00:00")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(gmt_offset(b"#GMT-Offset: -0800 x"), None);
    }

    /// `split`'s count, and the fields it keeps at `picks` (one per
    /// slot), against [`quoted_fields`] (which is [`fields`] on a line
    /// without a quote: `quoted_values_are_fields`), for a layout its
    /// quoted reading fits.
    fn splits_as_fields(line: &[u8], picks: [usize; SLOTS]) -> Result<(), String> {
        let want: Vec<&[u8]> = quoted_fields(line)
            .into_iter()
            .map(|(a, b)| &line[a..b])
            .collect();
        let mut slots = [UNREAD; MAX_FIELDS];
        for (slot, &i) in picks.iter().enumerate() {
            slots[i] = slot as u8;
        }
        let mut at = [(usize::MAX, 0); SLOTS];
        let n = split(line, want.len(), &slots, &mut at);
        if n != want.len() {
            return Err(format!("{n} fields, not {}", want.len()));
        }
        for (slot, &i) in picks.iter().enumerate() {
            let got = (at[slot].0 != usize::MAX).then(|| &line[at[slot].0..at[slot].1]);
            if got != want.get(i).copied() {
                return Err(format!("field {i}: {got:?}, not {:?}", want.get(i)));
            }
        }
        Ok(())
    }

    #[test]
    fn split_at_window_edges() {
        for line in [
            "a".repeat(64),
            format!("{} b", "a".repeat(62)),
            format!("{}\tb", "a".repeat(63)),
            format!("{} ", "a".repeat(127)),
            format!("x {}", "a".repeat(128)),
            "  ".into(),
            String::new(),
        ] {
            splits_as_fields(line.as_bytes(), [0, 1, 2, 3, 4])
                .unwrap_or_else(|e| panic!("{line:?}: {e}"));
        }
    }

    proptest::proptest! {
        /// The masks split a line as the separators do, fields of any
        /// length across 64-byte windows, any fields kept; a line with a
        /// quote anywhere, as the quoted reading does.
        #[test]
        fn split_finds_the_fields(
            line in proptest::collection::vec(proptest::sample::select(vec![b'a', b' ', b'\t', b'-', 0xc3, b'"']), 0..400),
            quoted in proptest::bool::ANY,
            picks in proptest::sample::subsequence((0..MAX_FIELDS).collect::<Vec<_>>(), SLOTS),
            order in proptest::sample::select(vec![[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 4, 1, 3]]),
        ) {
            // Half the lines without a quote, for the masks' own path.
            let line: Vec<u8> = if quoted {
                line
            } else {
                line.into_iter().map(|b| if b == b'"' { b'a' } else { b }).collect()
            };
            let picks: [usize; SLOTS] = std::array::from_fn(|k| picks[order[k]]);
            proptest::prop_assert_eq!(splits_as_fields(&line, picks), Ok(()));
            // A layout the quoted reading does not fit: a line with a quote
            // is cut at every blank.
            let quoted = quoted_fields(&line).len();
            let mut at = [(0, 0); SLOTS];
            let n = split(&line, quoted + 1, &[UNREAD; MAX_FIELDS], &mut at);
            let plain = if line.contains(&b'"') { plain_fields(&line).count() } else { quoted };
            proptest::prop_assert_eq!(n, plain);
        }
    }
}
