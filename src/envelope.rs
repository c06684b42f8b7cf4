//! Container envelopes: the frame a container runtime or `docker` puts
//! around every line a program wrote, whatever the program (nginx's access
//! and error logs, an application's output).
//!
//! - Docker's `json-file` driver: `{"log":"<line>\n","stream":"stdout",
//!   "time":"<RFC 3339, ns, Z>"}`, one object per line written.
//! - CRI (containerd, CRI-O; the kubelet's `/var/log/pods`):
//!   `<RFC 3339 ns> <stdout|stderr> <P|F> <line>`, `P` a piece of a line
//!   longer than the runtime's buffer.
//! - `docker logs -t`: `<RFC 3339 ns, Z> <line>`.
//! - `docker compose logs` (and `docker-compose logs`): `<service>  | <line>`,
//!   the service padded to the widest, in colour on a terminal, with `-t`
//!   the stamp after the bar.
//!
//! An input's envelope is found on its head, before its format; each block
//! is then opened line for line (one line out for every line in, so line
//! numbers and counts stay those of the file) and parsed as the format of
//! what is inside. What the envelope knows and the line does not — its
//! time, for an application line without a stamp of its own — is kept by
//! writing it before the line ([`Mode::Stamped`]).

use std::borrow::Cow;

use serde::Deserialize;

use crate::time::parse_iso;

/// The frame around every line of an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Envelope {
    DockerJson,
    Cri,
    DockerStamp,
    Compose,
}

/// What an opened line becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The line alone: its format carries its own time.
    Bare,
    /// The envelope's stamp, a space, the line: for lines whose time only
    /// the envelope knows.
    Stamped,
}

/// An input's envelope and how its lines are given to their format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wrapping {
    pub envelope: Envelope,
    pub mode: Mode,
}

impl Envelope {
    /// Every envelope, in the order [`sniff`] tries them.
    pub const ALL: [Envelope; 4] = [
        Envelope::DockerJson,
        Envelope::Cri,
        Envelope::Compose,
        Envelope::DockerStamp,
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Envelope::DockerJson => "docker-json",
            Envelope::Cri => "cri",
            Envelope::DockerStamp => "docker-t",
            Envelope::Compose => "compose",
        }
    }
}

/// One line out of its envelope.
#[derive(Debug, PartialEq, Eq)]
pub struct Opened<'a> {
    /// The envelope's RFC 3339 stamp, if it has one.
    pub stamp: Option<&'a [u8]>,
    /// The compose service that wrote it.
    pub service: Option<&'a [u8]>,
    pub line: Cow<'a, [u8]>,
    /// A piece of a longer line, the rest in the records after it (CRI's
    /// `P`, a json-file record whose text does not end its line).
    pub partial: bool,
}

/// What a record joined to the line before it becomes: a line of its own
/// (one line out for every line in) that readers count as the line it
/// was joined to was counted. No framed record opens to it.
pub const JOINED: &[u8] = b"\0";

#[derive(Deserialize)]
struct DockerLine<'a> {
    #[serde(borrow)]
    log: Cow<'a, str>,
    #[serde(borrow, default)]
    time: Option<&'a str>,
}

/// An RFC 3339 stamp with a zone at the start of `b`, and its length.
fn stamp_len(b: &[u8], utc_only: bool) -> Option<usize> {
    let (s, n) = parse_iso(b)?;
    let zoned = match s.offset {
        Some(0) => b[n - 1] == b'Z' || !utc_only,
        Some(_) => !utc_only,
        None => false,
    };
    (zoned && b[10] == b'T').then_some(n)
}

/// `b` without an SGR colour sequence (`ESC [ … m`) at its start.
fn skip_colour(b: &[u8]) -> &[u8] {
    let mut b = b;
    while let Some(rest) = b.strip_prefix(b"\x1b[") {
        let n = rest
            .iter()
            .take_while(|c| c.is_ascii_digit() || **c == b';')
            .count();
        match rest.get(n) {
            Some(b'm') => b = &rest[n + 1..],
            _ => break,
        }
    }
    b
}

/// A line's content: line ends inside it (a JSON `\n` that was not the
/// last character) become spaces, so that one line stays one line.
fn one_line(s: Cow<'_, [u8]>) -> Cow<'_, [u8]> {
    let trim = |b: &[u8]| -> usize {
        let b = b.strip_suffix(b"\n").unwrap_or(b);
        b.strip_suffix(b"\r").unwrap_or(b).len()
    };
    let n = trim(&s);
    let inner_break = memchr::memchr2(b'\n', b'\r', &s[..n]).is_some();
    match s {
        Cow::Borrowed(b) if !inner_break => Cow::Borrowed(&b[..n]),
        mut owned => {
            let v = owned.to_mut();
            v.truncate(n);
            for c in v.iter_mut() {
                if matches!(*c, b'\n' | b'\r') {
                    *c = b' ';
                }
            }
            owned
        }
    }
}

/// Four hex digits.
fn hex4(b: &[u8]) -> Option<u32> {
    let s = std::str::from_utf8(b.get(..4)?).ok()?;
    u32::from_str_radix(s, 16).ok()
}

/// The character of a `\u` escape at the start of `b` (after the `u`),
/// a surrogate pair joined; and the bytes it took after the `u`.
fn unicode_escape(b: &[u8]) -> Option<(char, usize)> {
    let hi = hex4(b)?;
    if (0xD800..0xDC00).contains(&hi) && b.get(4..6) == Some(b"\\u") {
        let lo = hex4(&b[6..])?;
        if (0xDC00..0xE000).contains(&lo) {
            let c = char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00));
            return Some((c.unwrap_or('\u{fffd}'), 10));
        }
    }
    Some((char::from_u32(hi).unwrap_or('\u{fffd}'), 4))
}

/// A JSON string's text, from just after its opening quote, appended to
/// `out`; and the bytes it took, its closing quote included.
fn json_string_into(b: &[u8], out: &mut Vec<u8>) -> Option<usize> {
    let mut i = 0;
    loop {
        let at = i + memchr::memchr2(b'"', b'\\', &b[i..])?;
        out.extend_from_slice(&b[i..at]);
        if b[at] == b'"' {
            return Some(at + 1);
        }
        let (c, used) = match *b.get(at + 1)? {
            b'"' => ('"', 2),
            b'\\' => ('\\', 2),
            b'/' => ('/', 2),
            b'b' => ('\u{8}', 2),
            b'f' => ('\u{c}', 2),
            b'n' => ('\n', 2),
            b'r' => ('\r', 2),
            b't' => ('\t', 2),
            b'u' => {
                let (c, n) = unicode_escape(&b[at + 2..])?;
                (c, 2 + n)
            }
            _ => return None,
        };
        let mut buf = [0; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        i = at + used;
    }
}

/// The text of a json-file record as Docker writes it,
/// `{"log":"…","stream":"stdout|stderr","time":"…"}` and nothing else,
/// appended to `out`; and its time. `None` (with `out` as it may have
/// grown) for anything else.
fn docker_fields_into<'a>(line: &'a [u8], out: &mut Vec<u8>) -> Option<&'a [u8]> {
    let used = json_string_into(line.strip_prefix(b"{\"log\":\"")?, out)?;
    let rest = line[8 + used..].strip_prefix(b",\"stream\":\"")?;
    let rest = rest
        .strip_prefix(b"stdout")
        .or_else(|| rest.strip_prefix(b"stderr"))?;
    let stamp = rest.strip_prefix(b"\",\"time\":\"")?.strip_suffix(b"\"}")?;
    // An RFC 3339 stamp is short: no search needed.
    (!stamp.iter().any(|c| matches!(c, b'"' | b'\\'))).then_some(stamp)
}

/// [`one_line`] on what `out` holds from `start` on.
fn one_line_tail(out: &mut Vec<u8>, start: usize) {
    if out.len() > start && out.last() == Some(&b'\n') {
        out.pop();
    }
    if out.len() > start && out.last() == Some(&b'\r') {
        out.pop();
    }
    let mut at = start;
    while let Some(i) = memchr::memchr2(b'\n', b'\r', &out[at..]) {
        out[at + i] = b' ';
        at += i + 1;
    }
}

/// `line` out of `envelope`; `None` when it is not so framed.
pub fn open(envelope: Envelope, line: &[u8]) -> Option<Opened<'_>> {
    match envelope {
        Envelope::DockerJson => {
            if !line.starts_with(b"{\"log\":") {
                return None;
            }
            let mut text = Vec::new();
            let (log, stamp) = match docker_fields_into(line, &mut text) {
                Some(stamp) => (Cow::Owned(text), Some(stamp)),
                None => {
                    // Keys in another order, attributes: any JSON object.
                    let d: DockerLine = serde_json::from_slice(line).ok()?;
                    let log = match d.log {
                        Cow::Borrowed(b) => Cow::Borrowed(b.as_bytes()),
                        Cow::Owned(o) => Cow::Owned(o.into_bytes()),
                    };
                    (log, d.time.map(str::as_bytes))
                }
            };
            let partial = !log.ends_with(b"\n");
            Some(Opened {
                stamp: stamp.filter(|s| stamp_len(s, false) == Some(s.len())),
                service: None,
                line: one_line(log),
                partial,
            })
        }
        Envelope::Cri => {
            let n = stamp_len(line, false)?;
            let rest = line[n..].strip_prefix(b" ")?;
            let rest = rest
                .strip_prefix(b"stdout ")
                .or_else(|| rest.strip_prefix(b"stderr "))?;
            let (tag, content) = match rest.iter().position(|c| *c == b' ') {
                Some(p) => (&rest[..p], &rest[p + 1..]),
                None => (rest, &b""[..]),
            };
            // The tag is `P` or `F`, with more flags after a colon to come.
            if !matches!(tag.first(), Some(b'P' | b'F')) || tag.get(1).is_some_and(|c| *c != b':') {
                return None;
            }
            Some(Opened {
                stamp: Some(&line[..n]),
                service: None,
                line: Cow::Borrowed(content),
                partial: tag[0] == b'P',
            })
        }
        Envelope::DockerStamp => {
            let n = stamp_len(line, true)?;
            Some(Opened {
                stamp: Some(&line[..n]),
                service: None,
                line: Cow::Borrowed(line[n..].strip_prefix(b" ")?),
                partial: false,
            })
        }
        Envelope::Compose => {
            let b = skip_colour(line);
            let name = b
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
                .count();
            if name == 0 || !b[0].is_ascii_alphanumeric() {
                return None;
            }
            let pad = b[name..].iter().take_while(|c| **c == b' ').count();
            let rest = b[name + pad..].strip_prefix(b"|")?;
            let rest = skip_colour(rest);
            let rest = rest.strip_prefix(b" ").unwrap_or(rest);
            let rest = skip_colour(rest);
            let (stamp, rest) = match stamp_len(rest, true) {
                Some(n) if rest.get(n) == Some(&b' ') => (Some(&rest[..n]), &rest[n + 1..]),
                _ => (None, rest),
            };
            Some(Opened {
                stamp,
                service: Some(&b[..name]),
                line: Cow::Borrowed(rest),
                partial: false,
            })
        }
    }
}

/// The envelope that frames at least half of `lines` (and the first of
/// them), if any.
pub fn sniff(lines: &[&[u8]]) -> Option<Envelope> {
    let first = lines.first()?;
    Envelope::ALL.into_iter().find(|e| {
        open(*e, first).is_some()
            && lines.iter().filter(|l| open(*e, l).is_some()).count() * 2 >= lines.len()
    })
}

/// Writes every line of `data` out of its envelope into `out`, one line for
/// each line in (a line not so framed is copied as it is), each ended by a
/// newline. The pieces of a split line are joined, in the place of the
/// first, each later piece leaving a [`JOINED`] line; pieces cut by the
/// block's end stay apart.
pub fn unwrap_into(w: Wrapping, data: &[u8], out: &mut Vec<u8>) {
    out.clear();
    // How many records the line being joined took so far.
    let mut joining: Option<usize> = None;
    let end_line = |out: &mut Vec<u8>, pieces: usize| {
        out.push(b'\n');
        for _ in 1..pieces {
            out.extend_from_slice(JOINED);
            out.push(b'\n');
        }
    };
    // Docker's own records, bare, are decoded straight into `out`.
    let fast = w.envelope == Envelope::DockerJson && w.mode == Mode::Bare;
    for line in crate::chunk::lines(data) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let start = out.len();
        let partial = if fast && docker_fields_into(line, out).is_some() {
            let partial = out.len() == start || out.last() != Some(&b'\n');
            one_line_tail(out, start);
            partial
        } else {
            out.truncate(start);
            let Some(o) = open(w.envelope, line) else {
                if let Some(n) = joining.take() {
                    end_line(out, n);
                }
                out.extend_from_slice(line);
                out.push(b'\n');
                continue;
            };
            if joining.is_none() {
                if let (Mode::Stamped, Some(s)) = (w.mode, o.stamp) {
                    out.extend_from_slice(s);
                    out.push(b' ');
                }
            }
            out.extend_from_slice(&o.line);
            o.partial
        };
        let pieces = joining.map_or(1, |n| n + 1);
        if partial {
            joining = Some(pieces);
        } else {
            joining = None;
            end_line(out, pieces);
        }
    }
    if let Some(n) = joining {
        end_line(out, n);
    }
}

/// The services a compose stream's `lines` name, in order of first line.
pub fn services<'a>(lines: &[&'a [u8]]) -> Vec<&'a [u8]> {
    let mut out: Vec<&[u8]> = Vec::new();
    for l in lines {
        if let Some(s) = open(Envelope::Compose, l).and_then(|o| o.service) {
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opened(e: Envelope, l: &[u8]) -> Option<(Option<String>, Option<String>, String)> {
        let o = open(e, l)?;
        let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        Some((o.stamp.map(s), o.service.map(s), s(&o.line)))
    }

    #[test]
    fn docker_json_file_lines() {
        let l = br#"{"log":"10.0.0.1 - - [02/Feb/2023:07:00:13 +0000] \"GET / HTTP/1.1\" 502 157 \"-\" \"curl/7.88.1\" \"-\"\n","stream":"stdout","time":"2023-02-02T07:00:13.123456789Z"}"#;
        assert_eq!(
            opened(Envelope::DockerJson, l),
            Some((
                Some("2023-02-02T07:00:13.123456789Z".into()),
                None,
                r#"10.0.0.1 - - [02/Feb/2023:07:00:13 +0000] "GET / HTTP/1.1" 502 157 "-" "curl/7.88.1" "-""#.into()
            ))
        );
        // Labels as attrs, a partial line (no newline), escapes.
        let l = br#"{"log":"tab\there \u001b[31mred\u001b[0m","stream":"stderr","attrs":{"tag":"web"},"time":"2023-02-02T07:00:13Z"}"#;
        let (_, _, line) = opened(Envelope::DockerJson, l).unwrap();
        assert_eq!(line, "tab\there \u{1b}[31mred\u{1b}[0m");
        // A line end inside stays one line.
        let l = br#"{"log":"a\nb\r\n","stream":"stdout","time":"2023-02-02T07:00:13Z"}"#;
        assert_eq!(opened(Envelope::DockerJson, l).unwrap().2, "a b");
        for bad in [
            &br#"{"log":"x","stream":"stdout""#[..],
            br#"{"msg":"x"}"#,
            br#"{"log":7,"time":"2023-02-02T07:00:13Z"}"#,
            b"plain",
        ] {
            assert_eq!(open(Envelope::DockerJson, bad), None);
        }
    }

    proptest::proptest! {
        /// Docker's records, as an encoder writes them, read back to
        /// their text by the fast path and by the general one alike.
        #[test]
        fn json_file_records_read_back(
            text in "(?s).{0,40}",
            attrs in proptest::bool::ANY,
            nl in proptest::bool::ANY,
        ) {
            let log = if nl { format!("{text}\n") } else { text.clone() };
            let quoted = serde_json::to_string(&log).unwrap();
            let line = if attrs {
                format!(r#"{{"log":{quoted},"stream":"stdout","attrs":{{"a":"b"}},"time":"2023-02-02T07:00:13Z"}}"#)
            } else {
                format!(r#"{{"log":{quoted},"stream":"stdout","time":"2023-02-02T07:00:13Z"}}"#)
            };
            let o = open(Envelope::DockerJson, line.as_bytes()).unwrap();
            let body = log.strip_suffix('\n').unwrap_or(&log);
            let body = body.strip_suffix('\r').unwrap_or(body);
            proptest::prop_assert_eq!(
                String::from_utf8_lossy(&o.line),
                body.replace(['\n', '\r'], " ")
            );
            proptest::prop_assert_eq!(o.partial, !log.ends_with('\n'));
            proptest::prop_assert_eq!(o.stamp, Some(&b"2023-02-02T07:00:13Z"[..]));
        }
    }

    #[test]
    fn json_escapes_as_go_writes_them() {
        let l = br#"{"log":"\u003cb\u003e \u0026 \ud83d\ude00 \u2028 \/ \"q\"\n","stream":"stdout","time":"2023-02-02T07:00:13Z"}"#;
        let o = open(Envelope::DockerJson, l).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&o.line),
            "<b> & \u{1f600} \u{2028} / \"q\""
        );
        assert!(!o.partial);
        // A lone surrogate is a replacement character, not an error.
        let l = br#"{"log":"a\udc00b","stream":"stdout","time":"2023-02-02T07:00:13Z"}"#;
        assert_eq!(
            String::from_utf8_lossy(&open(Envelope::DockerJson, l).unwrap().line),
            "a\u{fffd}b"
        );
    }

    #[test]
    fn cri_lines() {
        assert_eq!(
            opened(
                Envelope::Cri,
                b"2016-10-06T00:17:09.669794202Z stdout P log content 1"
            ),
            Some((
                Some("2016-10-06T00:17:09.669794202Z".into()),
                None,
                "log content 1".into()
            ))
        );
        assert_eq!(
            opened(
                Envelope::Cri,
                b"2016-10-06T00:17:09.669794202+02:00 stderr F"
            )
            .unwrap()
            .2,
            ""
        );
        for bad in [
            &b"2016-10-06T00:17:09Z stdin F x"[..],
            b"2016-10-06T00:17:09Z stdout X x",
            b"2016-10-06 00:17:09Z stdout F x",
            b"2016-10-06T00:17:09 stdout F x",
        ] {
            assert_eq!(
                open(Envelope::Cri, bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn docker_t_and_compose_prefixes() {
        assert_eq!(
            opened(Envelope::DockerStamp, b"2017-05-10T06:50:00.4Z GET / 200")
                .unwrap()
                .2,
            "GET / 200"
        );
        // Only UTC, as docker writes it: a zoned stamp is a syslog line.
        assert_eq!(
            open(Envelope::DockerStamp, b"2017-05-10T06:50:00+02:00 host x"),
            None
        );
        for (l, service, stamp, rest) in [
            (
                &b"web_1  | 10.0.0.1 - - x"[..],
                "web_1",
                None,
                "10.0.0.1 - - x",
            ),
            (b"web-1  | ", "web-1", None, ""),
            (
                b"\x1b[36mweb-1  | \x1b[0m2017-05-10T06:50:00.4Z GET",
                "web-1",
                Some("2017-05-10T06:50:00.4Z".to_string()),
                "GET",
            ),
            (b"db.x | a|b", "db.x", None, "a|b"),
        ] {
            assert_eq!(
                opened(Envelope::Compose, l),
                Some((stamp, Some(service.to_string()), rest.to_string())),
                "{}",
                String::from_utf8_lossy(l)
            );
        }
        for bad in [&b"| x"[..], b"-web | x", b"web x", b"web : x"] {
            assert_eq!(open(Envelope::Compose, bad), None);
        }
    }

    #[test]
    fn unwrapping_keeps_one_line_per_line() {
        let data =
            b"2023-02-02T07:00:13Z stdout F one\nnot framed\r\n2023-02-02T07:00:14Z stderr F two\n";
        let mut out = Vec::new();
        for (mode, want) in [
            (Mode::Bare, "one\nnot framed\ntwo\n"),
            (
                Mode::Stamped,
                "2023-02-02T07:00:13Z one\nnot framed\n2023-02-02T07:00:14Z two\n",
            ),
        ] {
            unwrap_into(
                Wrapping {
                    envelope: Envelope::Cri,
                    mode,
                },
                data,
                &mut out,
            );
            assert_eq!(String::from_utf8_lossy(&out), want);
        }
        // A line split in pieces is joined where it began.
        let data = b"2023-02-02T07:00:13Z stdout P one \n2023-02-02T07:00:13Z stdout P two \n2023-02-02T07:00:13Z stdout F three\n2023-02-02T07:00:14Z stdout P cut";
        unwrap_into(
            Wrapping {
                envelope: Envelope::Cri,
                mode: Mode::Bare,
            },
            data,
            &mut out,
        );
        assert_eq!(
            String::from_utf8_lossy(&out),
            "one two three\n\0\n\0\ncut\n"
        );
        let json = br#"{"log":"GET /a","stream":"stdout","time":"2023-02-02T07:00:13Z"}
{"log":"bc 200\n","stream":"stdout","time":"2023-02-02T07:00:13Z"}
"#;
        unwrap_into(
            Wrapping {
                envelope: Envelope::DockerJson,
                mode: Mode::Bare,
            },
            json,
            &mut out,
        );
        assert_eq!(String::from_utf8_lossy(&out), "GET /abc 200\n\0\n");
        let lines: Vec<&[u8]> = vec![b"web_1 | a", b"x", b"db_1  | b", b"web_1 | c"];
        assert_eq!(sniff(&lines), Some(Envelope::Compose));
        assert_eq!(services(&lines), vec![&b"web_1"[..], b"db_1"]);
        assert_eq!(sniff(&[b"x", b"web_1 | a"]), None);
    }
}
