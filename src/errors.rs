//! Which response statuses count as errors (`--errors`): 500–599 unless
//! the user adds codes (499, client closed; 429, too many requests) or
//! removes them (501, not implemented). Counting happens as lines are
//! read, so the set is part of what a summary or a cron state holds; runs
//! that counted differently are never merged.
//!
//! The spec is a comma-separated list of items, each a status (`499`), a
//! class (`5xx`) or a range (`500-504`). A leading `+` adds to the set, a
//! leading `-` removes from it; a list whose first item has no sign starts
//! from nothing, one that starts with a sign starts from 5xx. So
//! `+499,-501` and `5xx,499,-501` are the same set. [`ErrorSet::spec`]
//! writes a set back in that syntax.

use std::fmt;

/// Statuses 0–999, one bit each.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorSet {
    bits: [u64; 16],
}

/// The highest status a log can write (three digits).
const MAX: u16 = 999;

impl Default for ErrorSet {
    /// 500–599.
    fn default() -> ErrorSet {
        let mut s = ErrorSet { bits: [0; 16] };
        s.set(500, 599, true);
        s
    }
}

impl ErrorSet {
    /// Whether a response of `status` is an error.
    #[inline(always)]
    pub fn contains(&self, status: u16) -> bool {
        let s = status as usize;
        s <= MAX as usize && self.bits[s >> 6] & (1 << (s & 63)) != 0
    }

    /// Whether it is the default, 500–599.
    pub fn is_default(&self) -> bool {
        *self == ErrorSet::default()
    }

    fn set(&mut self, lo: u16, hi: u16, on: bool) {
        for s in lo..=hi.min(MAX) {
            let (w, b) = ((s >> 6) as usize, s & 63);
            if on {
                self.bits[w] |= 1 << b;
            } else {
                self.bits[w] &= !(1 << b);
            }
        }
    }

    /// Reads a `--errors` spec.
    pub fn parse(spec: &str) -> Result<ErrorSet, String> {
        let items: Vec<&str> = spec.split(',').map(str::trim).collect();
        if items.iter().all(|i| i.is_empty()) {
            return Err(format!(
                "--errors '{spec}': empty; give statuses such as +499,-501 or 5xx,429"
            ));
        }
        let relative = items[0].starts_with(['+', '-']);
        let mut set = if relative {
            ErrorSet::default()
        } else {
            ErrorSet { bits: [0; 16] }
        };
        for item in items {
            let (on, body) = match item.as_bytes().first() {
                Some(b'+') => (true, &item[1..]),
                Some(b'-') => (false, &item[1..]),
                _ => (true, item),
            };
            let (lo, hi) = range(body).ok_or_else(|| {
                format!(
                    "--errors '{spec}': '{item}' is not a status (499), a class (5xx) or a range (500-504), with + to add or - to remove"
                )
            })?;
            set.set(lo, hi, on);
        }
        if set.bits.iter().all(|w| *w == 0) {
            return Err(format!("--errors '{spec}': no status is left to count"));
        }
        Ok(set)
    }

    /// The inclusive ranges of the set, in order.
    fn ranges(&self) -> Vec<(u16, u16)> {
        let mut out: Vec<(u16, u16)> = Vec::new();
        for s in 0..=MAX {
            if !self.contains(s) {
                continue;
            }
            match out.last_mut() {
                Some((_, hi)) if *hi + 1 == s => *hi = s,
                _ => out.push((s, s)),
            }
        }
        out
    }

    /// The set in `--errors` syntax, shortest from 5xx: `5xx`, `+499,-501`,
    /// `+429,+499`; a set far from 5xx as a plain list (`500-504`).
    pub fn spec(&self) -> String {
        let five = ErrorSet::default();
        let mut added = *self;
        let mut removed = five;
        for w in 0..16 {
            added.bits[w] &= !five.bits[w];
            removed.bits[w] &= !self.bits[w];
        }
        let words = |s: &ErrorSet, sign: &str| -> Vec<String> {
            s.ranges()
                .into_iter()
                .map(|(lo, hi)| match (lo, hi) {
                    (lo, hi) if lo == hi => format!("{sign}{lo}"),
                    (lo, hi) if lo % 100 == 0 && hi == lo + 99 => format!("{sign}{}xx", lo / 100),
                    (lo, hi) => format!("{sign}{lo}-{hi}"),
                })
                .collect()
        };
        if self.is_default() {
            return "5xx".into();
        }
        let relative: Vec<String> = words(&added, "+")
            .into_iter()
            .chain(words(&removed, "-"))
            .collect();
        let plain = words(self, "");
        if relative.len() <= plain.len() {
            relative.join(",")
        } else {
            plain.join(",")
        }
    }

    /// The set in words, for notes: `499 and 500–599 except 501`.
    pub fn words(&self) -> String {
        let list: Vec<String> = self
            .ranges()
            .into_iter()
            .map(|(lo, hi)| {
                if lo == hi {
                    lo.to_string()
                } else {
                    format!("{lo}–{hi}")
                }
            })
            .collect();
        match list.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => list.join(""),
        }
    }
}

/// `499`, `5xx`, `500-504`: the inclusive range of statuses.
fn range(body: &str) -> Option<(u16, u16)> {
    let status = |s: &str| -> Option<u16> {
        (s.len() == 3 && s.bytes().all(|c| c.is_ascii_digit()) && !s.starts_with('0'))
            .then(|| s.parse().ok())
            .flatten()
    };
    if let Some(class) = body.strip_suffix("xx").or_else(|| body.strip_suffix("XX")) {
        let d = class
            .parse::<u16>()
            .ok()
            .filter(|d| (1..=9).contains(d) && class.len() == 1)?;
        return Some((d * 100, d * 100 + 99));
    }
    if let Some((a, b)) = body.split_once('-') {
        let (lo, hi) = (status(a)?, status(b)?);
        return (lo <= hi).then_some((lo, hi));
    }
    let s = status(body)?;
    Some((s, s))
}

impl fmt::Debug for ErrorSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ErrorSet({})", self.spec())
    }
}

impl fmt::Display for ErrorSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec())
    }
}

impl serde::Serialize for ErrorSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.spec())
    }
}

impl<'de> serde::Deserialize<'de> for ErrorSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ErrorSet, D::Error> {
        let s = String::deserialize(d)?;
        ErrorSet::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_default_is_every_5xx() {
        let d = ErrorSet::default();
        assert!(d.contains(500) && d.contains(599) && d.contains(503));
        assert!(!d.contains(499) && !d.contains(600) && !d.contains(0));
        assert!(!d.contains(u16::MAX));
        assert_eq!(d.spec(), "5xx");
        assert_eq!(ErrorSet::parse("5xx").unwrap(), d);
        assert_eq!(ErrorSet::parse("500-599").unwrap(), d);
    }

    #[test]
    fn adds_and_removes() {
        let s = ErrorSet::parse("+499,+429,-501").unwrap();
        assert!(s.contains(499) && s.contains(429) && s.contains(500) && s.contains(502));
        assert!(!s.contains(501) && !s.contains(404));
        assert_eq!(s.spec(), "+429,+499,-501");
        assert_eq!(ErrorSet::parse("5xx,499,429,-501").unwrap(), s);
        assert_eq!(s.words(), "429, 499–500 and 502–599");
        // Far from 5xx: a plain list.
        let s = ErrorSet::parse("502-504").unwrap();
        assert_eq!(s.spec(), "502-504");
        assert_eq!(ErrorSet::parse("4xx,5xx").unwrap().spec(), "+4xx");
    }

    #[test]
    fn refuses_what_is_not_a_status() {
        for bad in [
            "", ",", "5", "5000", "abc", "+", "600-500", "0xx", "05x", "-5xx", "099",
        ] {
            let e = ErrorSet::parse(bad).unwrap_err();
            assert!(e.starts_with("--errors"), "{bad}: {e}");
        }
        assert!(ErrorSet::parse("-5xx")
            .unwrap_err()
            .contains("no status is left"));
    }

    proptest! {
        /// The spec reads back as the same set.
        #[test]
        fn spec_round_trips(items in prop::collection::vec((any::<bool>(), 100u16..=999, 0u16..40), 1..6)) {
            let spec: Vec<String> = items
                .iter()
                .map(|(on, lo, w)| format!("{}{lo}-{}", if *on { '+' } else { '-' }, (lo + w).min(999)))
                .collect();
            if let Ok(s) = ErrorSet::parse(&spec.join(",")) {
                prop_assert_eq!(ErrorSet::parse(&s.spec()).unwrap(), s);
            }
        }
    }
}
