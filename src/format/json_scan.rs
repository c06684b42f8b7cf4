//! The JSON access line read without a parser: by the [`Shape`] of the
//! line before it when it has it (the bytes between the values compared,
//! the values scanned), else one pass over the object's own members, keys
//! looked up by [`top_role`]; strings are taken through 64-byte windows of
//! bit masks, and only the values wanted are converted. nginx
//! `escape=json` templates, Traefik, Envoy and the cloud exports with flat
//! objects are read here.
//!
//! It answers only where the full parse ([`super::json`]'s serde visitor)
//! would answer the same, and otherwise gives up (`None`) and leaves the
//! line to it: a nested object or array, an escape in a key or in a value
//! read, a key that is not ASCII, a number it does not read exactly the
//! way serde_json does (a sign, an exponent, more than 15 digits), and
//! anything that is not JSON. What it accepts, serde_json accepts: JSON
//! whitespace only, string escapes checked, control characters in
//! strings refused, numbers to the grammar, nothing after the object.
//! A property test holds the two readers to the same answers.

use std::borrow::Cow;
use std::cell::RefCell;

use super::json::{top_role, Found, Role, Scalar};

/// The time, status, route and duration of a flat JSON object line
/// (trimmed, opening with `{`), or `None` to leave it to the full parse:
/// by the shape of the last line read whole when this line has it, else
/// by walking its members (and keeping its shape).
pub(super) fn fields(line: &[u8]) -> Option<Found<'_>> {
    thread_local! {
        static SHAPE: RefCell<Shape> = RefCell::default();
    }
    SHAPE.with_borrow_mut(|shape| shape.read(line).or_else(|| walk(line, shape)))
}

/// Reads a line member by member, keeping its [`Shape`] in `shape`.
fn walk<'a>(line: &'a [u8], shape: &mut Shape) -> Option<Found<'a>> {
    shape.clear();
    let mut s = Scan::new(line, 1);
    let mut found = Found::default();
    let mut first = true;
    loop {
        s.ws();
        let at = *s.b.get(s.i)?;
        if at == b'}' {
            if s.i + 1 != s.b.len() {
                return None;
            }
            shape.end(line);
            return Some(found);
        }
        if !first {
            if at != b',' {
                return None;
            }
            s.i += 1;
            s.ws();
        }
        first = false;
        let at = s.i + 1;
        let key = s.key()?;
        let role = top_role(key, &s.b[at..]);
        s.ws();
        (s.b.get(s.i) == Some(&b':')).then_some(())?;
        s.i += 1;
        s.ws();
        let start = s.i;
        match role {
            Role::Nested(_) => return None,
            r if found.wants(r) => {
                let v = s.scalar()?;
                found.take(r, v);
            }
            _ => s.skip_value()?,
        }
        shape.value(line, start, s.i, role);
    }
}

/// What a value of a [`Shape`] was.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// A string (the shape holds its quotes).
    Str,
    /// A number or a literal.
    Bare,
}

/// A line's bytes between its values (keys, quotes, colons, commas,
/// whitespace), and what each value was: a string or not. What the
/// values held does not matter. A line made of the same bytes
/// around values of the same kinds (strings without `"`, `\` or control
/// characters; numbers and literals to the grammar) is JSON, with the same
/// keys in the same order as the line the shape was taken from, so it
/// reads as the walk would read it: value by value, without looking a
/// key up. nginx, Traefik and most loggers write every line of a file
/// from one template, so nearly every line has its predecessor's shape.
#[derive(Default)]
struct Shape {
    glue: Vec<u8>,
    /// Per value: the end of the bytes before it in `glue`, its kind and
    /// its key's role.
    parts: Vec<(usize, Kind, Role)>,
    /// Where the last value taken ended in the line being walked.
    at: usize,
    /// The shape is whole and may be read by.
    whole: bool,
}

impl Shape {
    fn clear(&mut self) {
        self.glue.clear();
        self.parts.clear();
        self.at = 0;
        self.whole = false;
    }

    /// Takes the value at `start..end` of the line being walked.
    fn value(&mut self, line: &[u8], start: usize, end: usize, role: Role) {
        let (kind, from, to) = match line[start] {
            b'"' => (Kind::Str, start + 1, end - 1),
            _ => (Kind::Bare, start, end),
        };
        self.glue.extend_from_slice(&line[self.at..from]);
        self.parts.push((self.glue.len(), kind, role));
        self.at = to;
    }

    /// The walk read the whole line.
    fn end(&mut self, line: &[u8]) {
        self.glue.extend_from_slice(&line[self.at..]);
        self.whole = true;
    }

    /// `line` read by this shape, when it has it.
    #[inline(always)]
    fn read<'a>(&self, line: &'a [u8]) -> Option<Found<'a>> {
        if !self.whole {
            return None;
        }
        let mut s = Scan::new(line, 0);
        let mut found = Found::default();
        let (mut pos, mut g) = (0, 0);
        for &(glue_end, kind, role) in &self.parts {
            let glue = &self.glue[g..glue_end];
            g = glue_end;
            if !same(line.get(pos..pos + glue.len())?, glue) {
                return None;
            }
            pos += glue.len();
            let wanted = found.wants(role);
            match kind {
                Kind::Str => {
                    let end = s.next_special(pos, wanted)?;
                    if line[end] != b'"' {
                        return None;
                    }
                    if wanted {
                        let text = &line[pos..end];
                        debug_assert!(text.is_ascii());
                        // SAFETY: `next_special(_, true)` stops at any byte
                        // above 0x7f, and it stopped at the closing quote,
                        // so `text` is ASCII, which is UTF-8.
                        let text = unsafe { std::str::from_utf8_unchecked(text) };
                        found.take(role, Scalar::Str(Cow::Borrowed(text)));
                    }
                    pos = end;
                }
                Kind::Bare => {
                    s.i = pos;
                    if wanted {
                        let v = s.scalar()?;
                        found.take(role, v);
                    } else {
                        s.skip_value()?;
                    }
                    pos = s.i;
                }
            }
        }
        let tail = &self.glue[g..];
        (line.len() == pos + tail.len() && same(&line[pos..], tail)).then_some(found)
    }
}

/// Whether two slices of the same length are equal, eight bytes at a time
/// (the glue between values is short: no call out to `memcmp`).
#[inline(always)]
fn same(a: &[u8], b: &[u8]) -> bool {
    let word = |s: &[u8], i: usize| s.get(i..).and_then(|s| s.first_chunk::<8>()).copied();
    let mut i = 0;
    while let (Some(x), Some(y)) = (word(a, i), word(b, i)) {
        if x != y {
            return false;
        }
        i += 8;
    }
    a.len() == b.len() && a[i..].iter().zip(&b[i..]).all(|(x, y)| x == y)
}

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
    /// The 64-byte window of `b` the masks describe (a multiple of 64).
    base: usize,
    /// Bit k: byte `base + k` is `"`, `\\` or a control character.
    special: u64,
    /// Bit k: byte `base + k` is above 0x7f.
    high: u64,
}

impl<'a> Scan<'a> {
    fn new(b: &'a [u8], i: usize) -> Scan<'a> {
        let (special, high) = window(b, 0);
        Scan {
            b,
            i,
            base: 0,
            special,
            high,
        }
    }

    /// The first byte at or after `i` that is `"`, `\\`, a control
    /// character or, with `ascii`, above 0x7f; `None` past the end.
    #[inline(always)]
    fn next_special(&mut self, mut i: usize, ascii: bool) -> Option<usize> {
        loop {
            if i >= self.b.len() {
                return None;
            }
            let base = i & !63;
            if base != self.base {
                (self.special, self.high) = window(self.b, base);
                self.base = base;
            }
            let m = (self.special | if ascii { self.high } else { 0 }) >> (i - base);
            if m != 0 {
                return Some(i + m.trailing_zeros() as usize);
            }
            i = base + 64;
        }
    }

    /// Skips JSON whitespace (space, tab, line feed, carriage return).
    #[inline(always)]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    /// Reads a string from its opening quote: its text and whether it
    /// held an escape (checked, not decoded). With `ascii`, `None` for a
    /// string holding a byte above 0x7f.
    #[inline(always)]
    fn string(&mut self, ascii: bool) -> Option<(&'a [u8], bool)> {
        let start = self.i + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            i = self.next_special(i, ascii)?;
            let b = self.b;
            match b[i] {
                b'"' => {
                    self.i = i + 1;
                    return Some((&b[start..i], escaped));
                }
                b'\\' => {
                    i += match *b.get(i + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => 2,
                        b'u' if b.get(i + 2..i + 6)?.iter().all(u8::is_ascii_hexdigit) => 6,
                        _ => return None,
                    };
                    escaped = true;
                }
                // A control character, or a byte above 0x7f in ASCII text.
                _ => return None,
            }
        }
    }

    /// A member's name: plain ASCII, no escape.
    #[inline(always)]
    fn key(&mut self) -> Option<&'a [u8]> {
        (self.b.get(self.i) == Some(&b'"')).then_some(())?;
        match self.string(true)? {
            (key, false) => Some(key),
            (_, true) => None,
        }
    }

    /// A number to JSON's grammar, its text and whether it is an integer
    /// (no fraction, no exponent).
    #[inline(always)]
    fn number(&mut self) -> Option<(&'a str, bool)> {
        let b = self.b;
        let start = self.i;
        let mut i = start + usize::from(b.get(start) == Some(&b'-'));
        let digits = |mut i: usize| {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        match b.get(i)? {
            b'0' => i += 1,
            b'1'..=b'9' => i = digits(i),
            _ => return None,
        }
        let integer = !matches!(b.get(i), Some(b'.' | b'e' | b'E'));
        if b.get(i) == Some(&b'.') {
            let end = digits(i + 1);
            (end > i + 1).then_some(())?;
            i = end;
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            let end = digits(i);
            (end > i).then_some(())?;
            i = end;
        }
        self.i = i;
        // ASCII by construction.
        Some((std::str::from_utf8(&b[start..i]).ok()?, integer))
    }

    /// `true`, `false` or `null`.
    #[inline(always)]
    fn literal(&mut self) -> Option<()> {
        let rest = &self.b[self.i..];
        let n = [&b"true"[..], b"false", b"null"]
            .into_iter()
            .find(|w| rest.starts_with(w))?
            .len();
        self.i += n;
        Some(())
    }

    /// A value read whole, as serde_json would give it to the visitor;
    /// `None` for what this reader leaves to serde_json.
    #[inline(always)]
    fn scalar(&mut self) -> Option<Scalar<'a>> {
        match *self.b.get(self.i)? {
            b'"' => {
                let (text, escaped) = self.string(true)?;
                if escaped {
                    return None;
                }
                debug_assert!(text.is_ascii());
                // SAFETY: `string(true)` gave up on any byte above 0x7f, so
                // `text` is ASCII, which is UTF-8.
                let text = unsafe { std::str::from_utf8_unchecked(text) };
                Some(Scalar::Str(Cow::Borrowed(text)))
            }
            b'0'..=b'9' => {
                let (text, integer) = self.number()?;
                // serde_json reads up to 15 digits exactly (a significand
                // below 2^53 and one multiplication or division by an exact
                // power of ten), as `str::parse` does; more, or an
                // exponent, go to serde_json itself.
                let digits = text.bytes().filter(u8::is_ascii_digit).count();
                if integer && digits <= 18 {
                    Some(Scalar::Int(text.parse().ok()?))
                } else if !integer && digits <= 15 && !text.contains(['e', 'E']) {
                    Some(Scalar::Float(text.parse().ok()?))
                } else {
                    None
                }
            }
            b't' | b'f' | b'n' => self.literal().map(|()| Scalar::Other),
            _ => None,
        }
    }

    /// Skips a value not wanted: a string, number or literal; `None` for
    /// an object or array (left to the full parse) or for what is not JSON.
    #[inline(always)]
    fn skip_value(&mut self) -> Option<()> {
        match *self.b.get(self.i)? {
            b'"' => self.string(false).map(drop),
            b'-' | b'0'..=b'9' => self.number().map(drop),
            b't' | b'f' | b'n' => self.literal(),
            _ => None,
        }
    }
}

/// The masks of the 64 bytes of `b` from `base` ([`Scan`]'s `special` and
/// `high`); bytes past the end are neither.
fn window(b: &[u8], base: usize) -> (u64, u64) {
    match b.get(base..base + 64) {
        Some(w) => masks(w.try_into().expect("64 bytes")),
        None => {
            // Padded with a plain byte: nothing past the end is flagged.
            let mut w = [b'a'; 64];
            let rest = &b[base.min(b.len())..];
            w[..rest.len()].copy_from_slice(rest);
            masks(&w)
        }
    }
}

/// `special` and `high` of 64 bytes, 16 at a time (SSE2 is part of
/// x86-64).
#[cfg(target_arch = "x86_64")]
fn masks(w: &[u8; 64]) -> (u64, u64) {
    use std::arch::x86_64::*;
    let (mut special, mut high) = (0u64, 0u64);
    for (k, part) in w.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is in every x86-64 processor; the load reads the 16
        // bytes of `part`, unaligned.
        let (sp, hi) = unsafe {
            let v = _mm_loadu_si128(part.as_ptr().cast());
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let slash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            // v <= 0x1f, unsigned.
            let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
            let sp = _mm_or_si128(_mm_or_si128(quote, slash), control);
            (_mm_movemask_epi8(sp), _mm_movemask_epi8(v))
        };
        special |= u64::from(sp as u16) << (16 * k);
        high |= u64::from(hi as u16) << (16 * k);
    }
    (special, high)
}

/// `special` and `high` of 64 bytes, eight at a time in a word: exact
/// per-byte tests (no borrow crosses a byte), gathered into bits.
#[cfg(any(not(target_arch = "x86_64"), test))]
fn masks_by_words(w: &[u8; 64]) -> (u64, u64) {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // High bit of each byte that is zero.
    let zero = |x: u64| !(((x & LOW7) + LOW7) | x | LOW7);
    // The high bit of each byte to one bit per byte.
    let gather = |m: u64| ((m & HIGH) >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
    let (mut special, mut high) = (0u64, 0u64);
    for (k, part) in w.chunks_exact(8).enumerate() {
        let x = u64::from_le_bytes(part.try_into().expect("8 bytes"));
        let quote = zero(x ^ (ONES * u64::from(b'"')));
        let slash = zero(x ^ (ONES * u64::from(b'\\')));
        // High bit set where a byte is at least 0x20 (or above 0x7f).
        let printable = ((x & LOW7) + ONES * 0x60) | x;
        let control = !printable & HIGH;
        special |= gather(quote | slash | control) << (8 * k);
        high |= gather(x) << (8 * k);
    }
    (special, high)
}

#[cfg(not(target_arch = "x86_64"))]
use masks_by_words as masks;

#[cfg(test)]
mod tests {
    use super::*;

    fn both(line: &str) -> (Option<Found<'_>>, Option<Found<'_>>) {
        let b = line.as_bytes();
        (fields(b), super::super::json::fields_by_serde(b))
    }

    #[test]
    fn nginx_template_lines_are_read_here() {
        let line = r#"{"time": "2023-02-01T00:00:00+03:00", "remote_addr": "121.89.98.82", "request": "GET /a?q=\"x\" HTTP/1.1", "status": "502", "body_bytes_sent": "58607", "request_time": "1.575", "http_referer": "", "http_user_agent": "curl/8.5.0", "upstream_addr": "10.0.0.8:8080", "host": "shop.example.com"}"#;
        let (fast, full) = both(line);
        assert!(fast.is_some());
        assert_eq!(fast, full);
        let f = fast.unwrap();
        assert_eq!(f.status, Some(Scalar::Str("502".into())));
        assert_eq!(f.latency, Some((Scalar::Str("1.575".into()), 1000.0)));
        let line =
            r#"{"msec":1675321213.123,"status":502,"request_time":0.005,"upstream_addr":null}"#;
        let (fast, full) = both(line);
        assert_eq!(
            fast.as_ref().map(|f| &f.time),
            Some(&Some(Scalar::Float(1675321213.123)))
        );
        assert_eq!(fast, full);
    }

    #[test]
    fn what_it_leaves_to_serde() {
        for line in [
            r#"{"http":{"response":{"status_code":502}},"@timestamp":"2023-02-02T07:00:13Z"}"#,
            r#"{"status":"5\u0030\u0032","time":1}"#,
            r#"{"st\u0061tus":502,"time":1}"#,
            r#"{"status":-502,"time":1}"#,
            r#"{"status":5.02e2,"time":1}"#,
            r#"{"status":502,"time":1.0000000000000001}"#,
            r#"{"status":502,"tags":[1,2],"time":1}"#,
            r#"{"status":502,"time":1,}"#,
            r#"{"status":502 "time":1}"#,
            r#"{"status":0502,"time":1}"#,
            "{\"status\":502,\"time\":1,\"ua\":\"a\tb\"}",
            r#"{"status":502,"time":1,"ua":"\x"}"#,
            r#"{"status":502,"time":1} x"#,
            r#"{"status":502,"time":1"#,
            r#"{"status":tru,"time":1}"#,
        ] {
            assert_eq!(fields(line.as_bytes()), None, "{line}");
        }
        // Escapes in values not wanted are checked and skipped.
        let (fast, full) = both(r#"{"ua":"a\"b\u00e9\\","status":502,"time":1}"#);
        assert!(fast.is_some());
        assert_eq!(fast, full);
        assert_eq!(both("{}"), (Some(Found::default()), Some(Found::default())));
    }

    #[test]
    fn masks_flag_exactly_the_special_bytes() {
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut w = [0u8; 64];
            for b in &mut w {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                // Bias towards the bytes that matter.
                *b = match rng % 8 {
                    0 => b'"',
                    1 => b'\\',
                    2 => (rng >> 8) as u8 % 0x21,
                    _ => (rng >> 8) as u8,
                };
            }
            let mut special = 0u64;
            let mut high = 0u64;
            for (k, &b) in w.iter().enumerate() {
                special |= u64::from(b == b'"' || b == b'\\' || b < 0x20) << k;
                high |= u64::from(b > 0x7f) << k;
            }
            assert_eq!(masks(&w), (special, high), "{w:?}");
            assert_eq!(masks_by_words(&w), (special, high), "{w:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        /// Whatever the line, the scan answers what serde_json's reading
        /// does, or leaves the line to it: members of every role, values
        /// of every kind (escapes, odd numbers, control characters,
        /// bytes above 0x7f and invalid UTF-8, nested objects), odd
        /// whitespace, and lines broken in the ways logs break them.
        ///
        /// Lines come in runs of one template with other values, as a
        /// logger writes them, so that most are read by the last line's
        /// shape.
        #[test]
        fn the_scan_reads_as_serde_or_not_at_all(
            members in proptest::collection::vec(
                (0usize..KEYS.len(), 0usize..SPACES.len()), 0..9),
            lines in proptest::collection::vec(
                (proptest::collection::vec(0usize..VALUES.len(), 9), 0usize..12), 1..6),
        ) {
            for (values, damage) in lines {
                let mut line = b"{".to_vec();
                for (n, ((k, w), v)) in members.iter().zip(values).enumerate() {
                    if n > 0 {
                        line.push(b',');
                    }
                    line.extend_from_slice(SPACES[*w]);
                    line.extend_from_slice(KEYS[*k]);
                    line.extend_from_slice(SPACES[(w + 1) % SPACES.len()]);
                    line.push(b':');
                    line.extend_from_slice(VALUES[v]);
                }
                line.push(b'}');
                match damage {
                    0 => { line.pop(); }
                    1 => line.extend_from_slice(b" x"),
                    2 => line.insert(1, b','),
                    3 if line.len() > 2 => { line.remove(line.len() / 2); }
                    4 => { let at = line.len() - 1; line.insert(at, b','); }
                    _ => {}
                }
                let line = line.trim_ascii();
                let fast = fields(line);
                if fast.is_some() {
                    proptest::prop_assert_eq!(&fast, &super::super::json::fields_by_serde(line),
                        "{}", String::from_utf8_lossy(line));
                }
            }
        }
    }

    const KEYS: &[&[u8]] = &[
        br#""status""#,
        br#""status_code""#,
        br#""time""#,
        br#""msec""#,
        br#""ts""#,
        br#""request_time""#,
        br#""duration""#,
        br#""upstream_addr""#,
        br#""host""#,
        br#""proxy_upstream_name""#,
        br#""RequestSource""#,
        br#""http""#,
        br#""httpRequest.status""#,
        br#""http.response.status_code""#,
        br#""ua""#,
        br#""st\u0061tus""#,
        b"\"h\xc3\xa9\"",
        b"\"\xff\"",
        br#""""#,
        br#""request""#,
    ];
    const VALUES: &[&[u8]] = &[
        b"502",
        b"200",
        b"0",
        b"-1",
        b"01",
        b"1e3",
        b"5.02e2",
        b"502.0",
        b"1.5",
        b"1.",
        b"1675321213.123",
        b"1675321213123",
        b"99999999999999999999",
        b"0.000000000000001",
        b"1675321213.1234567",
        br#""502""#,
        br#"" 503 ""#,
        br#""2023-02-02T07:00:13Z""#,
        br#""02/Feb/2023:07:00:13 +0000""#,
        br#""0.005""#,
        br#""10.0.0.1:80, 10.0.0.2:80""#,
        br#""eyeball""#,
        br#""edgeWorkerFetch""#,
        br#""-""#,
        br#""""#,
        br#""a\"b""#,
        br#""\u00e9t\u00e9""#,
        br#""\x""#,
        br#""\u12""#,
        b"\"a\tb\"",
        b"\"\xc3\xa9\"",
        b"\"\xff\xfe\"",
        b"true",
        b"false",
        b"null",
        b"nul",
        b"tru",
        br#"{"status":504}"#,
        br#"{"response":{"status_code":503}}"#,
        b"[1,2]",
        b"[]",
        b"{}",
        br#""unterminated"#,
        b"\"a\\\\\"",
    ];
    const SPACES: &[&[u8]] = &[b"", b" ", b"  ", b"\t", b"\r\n", b"\x0c"];
}
