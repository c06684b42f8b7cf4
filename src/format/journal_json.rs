//! The systemd journal exported as JSON (`journalctl -o json`): one object
//! per line, every field a string (systemd's "JSON export format"):
//!
//! `{"__CURSOR":"s=…","__REALTIME_TIMESTAMP":"1675225230123456","_HOSTNAME":"web-1","_TRANSPORT":"kernel","SYSLOG_IDENTIFIER":"kernel","MESSAGE":"Out of memory: Killed process 4242 (java) …"}`
//!
//! `__REALTIME_TIMESTAMP` is microseconds since the epoch, UTC (when
//! journald received the entry), so nothing about the line's time is
//! guessed; `_SOURCE_REALTIME_TIMESTAMP`, when journald knows it, is when
//! the program logged it (systemd.journal-fields(7): "the earliest trusted
//! timestamp of the message"), and is the entry's time then. The host is `_HOSTNAME`, the program `SYSLOG_IDENTIFIER`
//! (else `_COMM`), and `_TRANSPORT` `kernel` marks the kernel's own
//! messages (where OOM kills are read). The export writes a value that is
//! not UTF-8 as an array of its bytes, and a field given twice as an array
//! of its values (the first is read here); older systemd versions put
//! spaces around the colons. A forensic dump (`journalctl -o json --since
//! …`) is how a journal leaves the host it was written on; without this
//! reader such a file was not understood at all.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::oom;
use super::registry::{no_detail, Blocks, Format, Sniffed, Spec};
use super::Line;
use crate::event::Stamp;

/// What a journal entry line holds that logburst reads.
#[derive(Debug, Default, PartialEq)]
pub struct Entry<'a> {
    /// Microseconds since the epoch, UTC.
    pub micros: i64,
    pub host: Option<Cow<'a, str>>,
    /// `SYSLOG_IDENTIFIER`, else `_COMM`.
    pub process: Option<Cow<'a, str>>,
    /// `_TRANSPORT` is `kernel`.
    pub kernel: bool,
    pub message: Cow<'a, [u8]>,
}

/// One field's value: text (borrowed from the line when it holds no
/// escape), bytes (the export's form of a value that is not UTF-8), or
/// nothing (`null`).
#[derive(Debug, Default)]
struct Value<'a>(Option<Cow<'a, [u8]>>);

impl<'de> de::Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a journal field: a string, an array of bytes or of values, or null")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Value<'de>, E> {
        Ok(Value(Some(Cow::Borrowed(v.as_bytes()))))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value<'de>, E> {
        Ok(Value(Some(Cow::Owned(v.as_bytes().to_vec()))))
    }
    fn visit_unit<E>(self) -> Result<Value<'de>, E> {
        Ok(Value(None))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value<'de>, E> {
        // A number where a string belongs (a hand-made export): its digits.
        Ok(Value(Some(Cow::Owned(v.to_string().into_bytes()))))
    }
    /// An array of bytes (a value that is not UTF-8), or of values (a
    /// field the entry holds more than once: the first is read).
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Value<'de>, A::Error> {
        let mut bytes = Vec::new();
        let mut first: Option<Value<'de>> = None;
        while let Some(item) = s.next_element::<Item>()? {
            match item {
                Item::Byte(b) if first.is_none() => bytes.push(b),
                Item::Value(v) if bytes.is_empty() => {
                    first.get_or_insert(v);
                }
                _ => return Err(de::Error::custom("a journal array of bytes and values")),
            }
        }
        Ok(first.unwrap_or(Value(Some(Cow::Owned(bytes)))))
    }
}

/// An element of a field's array.
enum Item<'a> {
    Byte(u8),
    Value(Value<'a>),
}

impl<'de> de::Deserialize<'de> for Item<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ItemVisitor;
        impl<'de> Visitor<'de> for ItemVisitor {
            type Value = Item<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a byte or a journal field's value")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Item<'de>, E> {
                u8::try_from(v)
                    .map(Item::Byte)
                    .map_err(|_| E::custom("a byte above 255"))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Item<'de>, E> {
                ValueVisitor.visit_borrowed_str(v).map(Item::Value)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Item<'de>, E> {
                ValueVisitor.visit_str(v).map(Item::Value)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<Item<'de>, A::Error> {
                ValueVisitor.visit_seq(s).map(Item::Value)
            }
            fn visit_unit<E>(self) -> Result<Item<'de>, E> {
                Ok(Item::Value(Value(None)))
            }
        }
        d.deserialize_any(ItemVisitor)
    }
}

/// The fields read, by key.
#[derive(Default)]
struct Fields<'a> {
    realtime: Value<'a>,
    source: Value<'a>,
    host: Value<'a>,
    ident: Value<'a>,
    comm: Value<'a>,
    transport: Value<'a>,
    message: Value<'a>,
}

impl<'de> de::Deserialize<'de> for Fields<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;
        impl<'de> Visitor<'de> for FieldsVisitor {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a journal entry")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Fields<'de>, A::Error> {
                let mut f = Fields::default();
                while let Some(key) = m.next_key::<Cow<'de, str>>()? {
                    let slot = match &*key {
                        "__REALTIME_TIMESTAMP" => &mut f.realtime,
                        "_SOURCE_REALTIME_TIMESTAMP" => &mut f.source,
                        "_HOSTNAME" => &mut f.host,
                        "SYSLOG_IDENTIFIER" => &mut f.ident,
                        "_COMM" => &mut f.comm,
                        "_TRANSPORT" => &mut f.transport,
                        "MESSAGE" => &mut f.message,
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    // The first of a key given twice in the object wins.
                    let v: Value = m.next_value()?;
                    if slot.0.is_none() {
                        *slot = v;
                    }
                }
                Ok(f)
            }
        }
        d.deserialize_map(FieldsVisitor)
    }
}

/// Text of a value, when it is UTF-8 and not empty.
fn text(v: Value<'_>) -> Option<Cow<'_, str>> {
    match v.0? {
        Cow::Borrowed(b) => std::str::from_utf8(b).ok().map(Cow::Borrowed),
        Cow::Owned(b) => String::from_utf8(b).ok().map(Cow::Owned),
    }
    .filter(|t| !t.is_empty())
}

/// A count of microseconds: digits only, at most 18 (it fits in i64).
fn micros(stamp: &[u8]) -> Option<i64> {
    if stamp.is_empty() || stamp.len() > 18 || !stamp.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(stamp).ok()?.parse().ok()
}

/// A name as it stands in the line, when it does.
fn borrowed(name: Option<Cow<'_, str>>) -> Option<&[u8]> {
    match name? {
        Cow::Borrowed(n) => Some(n.as_bytes()),
        Cow::Owned(_) => None,
    }
}

/// Reads one line of `journalctl -o json`: `None` unless it is a JSON
/// object with a `__REALTIME_TIMESTAMP` of digits (microseconds). An
/// entry without a `MESSAGE` (or with a null one) has an empty message.
pub fn parse(line: &[u8]) -> Option<Entry<'_>> {
    let line = line.trim_ascii();
    if line.first() != Some(&b'{') {
        return None;
    }
    let mut de = serde_json::Deserializer::from_slice(line);
    let f: Fields = de::Deserialize::deserialize(&mut de).ok()?;
    de.end().ok()?;
    let received = micros(&f.realtime.0?)?;
    Some(Entry {
        micros: f.source.0.as_deref().and_then(micros).unwrap_or(received),
        host: text(f.host),
        process: text(f.ident).or_else(|| text(f.comm)),
        kernel: f.transport.0.as_deref() == Some(b"kernel"),
        message: f.message.0.unwrap_or_default(),
    })
}

/// The journal's JSON export.
pub static SPEC: Spec = Spec {
    name: "journal-json",
    aliases: &["journalctl-json", "journald-json"],
    about: "systemd journal as `journalctl -o json` writes it: one object a line, µs UTC time",
    requests: false,
    blocks: Blocks::Lines,
    parse: |_, line| {
        let e = parse(line)?;
        let utc = e.micros.div_euclid(1_000_000);
        let oom = oom::parse(&e.message).map(Box::new);
        Some(Line::System {
            stamp: Stamp::Zoned { utc, offset: 0 },
            // A host or program name written with an escape (no such
            // name needs one) is not read: the input's own stands in.
            host: borrowed(e.host),
            process: borrowed(e.process),
            msg: e.message,
            kernel: e.kernel,
            oom,
            upstream: None,
        })
    },
    detail: no_detail,
    // Before the JSON access reader (30), which claims every object line.
    sniff: Some((29, |_, l| match parse(l) {
        Some(_) => Sniffed::Is(Format::JournalJson),
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
    use crate::format::{LineParser, YearRule};

    const KILL: &str = r#"{"__CURSOR":"s=739a;i=4ece7","__REALTIME_TIMESTAMP":"1675314012000135","__MONOTONIC_TIMESTAMP":"16133070432","_BOOT_ID":"6c7c","_HOSTNAME":"web-03","PRIORITY":"3","_TRANSPORT":"kernel","SYSLOG_FACILITY":"0","SYSLOG_IDENTIFIER":"kernel","MESSAGE":"Out of memory: Killed process 4242 (java) total-vm:8123456kB, anon-rss:6123456kB, file-rss:0kB"}"#;

    #[test]
    fn a_kernel_entry_and_its_kill() {
        let e = parse(KILL.as_bytes()).unwrap();
        assert_eq!(e.micros, 1_675_314_012_000_135);
        assert_eq!(e.host.as_deref(), Some("web-03"));
        assert_eq!(e.process.as_deref(), Some("kernel"));
        assert!(e.kernel);
        assert!(matches!(e.message, Cow::Borrowed(_)));
        let years = YearRule {
            fixed: None,
            reference: (2023, 2, 28),
            boot: None,
            written: None,
        };
        let mut p = LineParser::new(Format::JournalJson, years);
        match p.parse(KILL.as_bytes()) {
            Some(Line::System {
                stamp: Stamp::Zoned { utc, offset: 0 },
                host: Some(b"web-03"),
                process: Some(b"kernel"),
                kernel: true,
                oom: Some(m),
                ..
            }) => {
                assert_eq!(utc, 1_675_314_012);
                assert_eq!(m.victim.pid, Some(4242));
            }
            other => panic!("{other:?}"),
        }
    }

    // Older systemd wrote ` : ` between key and value; a service's line
    // names its program by SYSLOG_IDENTIFIER, else by _COMM; escapes are
    // decoded.
    #[test]
    fn spaced_layout_program_names_and_escapes() {
        let spaced = r#"{ "__REALTIME_TIMESTAMP" : "1599541804928338", "_HOSTNAME" : "vla2-6758", "_TRANSPORT" : "stdout", "_COMM" : "java", "MESSAGE" : "Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space" }"#;
        let e = parse(spaced.as_bytes()).unwrap();
        assert_eq!(e.process.as_deref(), Some("java"));
        assert!(!e.kernel);
        assert_eq!(
            &*e.message,
            &b"Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space"[..]
        );
        let both = r#"{"__REALTIME_TIMESTAMP":"1","_COMM":"systemd-oomd","SYSLOG_IDENTIFIER":"oomd","MESSAGE":"x"}"#;
        assert_eq!(
            parse(both.as_bytes()).unwrap().process.as_deref(),
            Some("oomd")
        );
    }

    // What the export writes for values that are not plain text: bytes
    // (not UTF-8), a field given twice, null; and an entry with no message.
    #[test]
    fn byte_arrays_repeated_fields_and_no_message() {
        let bytes = r#"{"__REALTIME_TIMESTAMP":"1675314012000000","MESSAGE":[104,105,255]}"#;
        assert_eq!(&*parse(bytes.as_bytes()).unwrap().message, &b"hi\xff"[..]);
        let twice = r#"{"__REALTIME_TIMESTAMP":"1675314012000000","MESSAGE":["first","second"],"_HOSTNAME":["a","b"]}"#;
        let e = parse(twice.as_bytes()).unwrap();
        assert_eq!(&*e.message, &b"first"[..]);
        assert_eq!(e.host.as_deref(), Some("a"));
        let none = r#"{"__REALTIME_TIMESTAMP":"1675314012000000","MESSAGE":null,"_HOSTNAME":null}"#;
        let e = parse(none.as_bytes()).unwrap();
        assert!(e.message.is_empty() && e.host.is_none());
        let absent = r#"{"__REALTIME_TIMESTAMP":"1675314012000000","CODE_FILE":"x.c"}"#;
        assert!(parse(absent.as_bytes()).unwrap().message.is_empty());
        // Bytes and text mixed, a byte above 255: not the export's.
        for bad in [
            r#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":[104,"x"]}"#,
            r#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":[256]}"#,
        ] {
            assert!(parse(bad.as_bytes()).is_none(), "{bad}");
        }
    }

    // Not an entry: no time, a time that is not a count of microseconds,
    // not an object, not JSON, something after the object.
    #[test]
    fn what_is_not_an_entry() {
        for bad in [
            r#"{"MESSAGE":"no time"}"#,
            r#"{"__REALTIME_TIMESTAMP":"","MESSAGE":"x"}"#,
            r#"{"__REALTIME_TIMESTAMP":"-5","MESSAGE":"x"}"#,
            r#"{"__REALTIME_TIMESTAMP":"1.5","MESSAGE":"x"}"#,
            r#"{"__REALTIME_TIMESTAMP":"9999999999999999999","MESSAGE":"x"}"#,
            r#"{"__REALTIME_TIMESTAMP":{"a":1},"MESSAGE":"x"}"#,
            r#"["__REALTIME_TIMESTAMP","1"]"#,
            r#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":"x"} trailing"#,
            r#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":"x""#,
            // A lone surrogate in a value read is no text.
            r#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":"\ud800"}"#,
            "Feb  2 07:00:13 web-01 kernel: x",
        ] {
            assert!(parse(bad.as_bytes()).is_none(), "{bad}");
        }
        // In a field not read it is skipped unchecked, as serde_json skips.
        let skipped = r#"{"__REALTIME_TIMESTAMP":"1","CODE_FUNC":"\ud800","MESSAGE":"x"}"#;
        assert!(parse(skipped.as_bytes()).is_some());
        // The time the program logged it, when journald knows it, over the
        // time journald received it; a damaged one is not used.
        let source = r#"{"__REALTIME_TIMESTAMP":"1675314013000000","_SOURCE_REALTIME_TIMESTAMP":"1675314012500000","MESSAGE":"x"}"#;
        assert_eq!(
            parse(source.as_bytes()).unwrap().micros,
            1_675_314_012_500_000
        );
        let bad = r#"{"__REALTIME_TIMESTAMP":"1675314013000000","_SOURCE_REALTIME_TIMESTAMP":"x","MESSAGE":"x"}"#;
        assert_eq!(parse(bad.as_bytes()).unwrap().micros, 1_675_314_013_000_000);
        // A number where the export writes a string is read as its digits.
        let num = r#"{"__REALTIME_TIMESTAMP":1675314012000000,"MESSAGE":"x"}"#;
        assert_eq!(parse(num.as_bytes()).unwrap().micros, 1_675_314_012_000_000);
    }
}
