//! A `docker compose logs` file of several services: one lane per
//! service. Each service's lines are read as their own host (the service),
//! in their own format (nginx's access log, an application's output, a
//! database's), taken out of the compose prefix in their own way (an
//! application's lines keep the `-t` stamp). Lines in no service's frame
//! stay with the input's host.
//!
//! A block is split by service ([`split`]), each lane unwrapped and parsed
//! as a block of its own, and the line numbers mapped back to the file's.

use std::collections::BTreeMap;

use crate::config::ScanOptions;
use crate::envelope::{self, Envelope, Mode, Wrapping};
use crate::format::{self, Format, Seed, YearRule};

/// How one service's lines are read.
#[derive(Clone)]
pub struct Lane {
    pub service: String,
    pub wrapping: Wrapping,
    pub format: Option<Format>,
    pub seed: Option<Seed>,
}

/// The services of a compose stream, as its head shows them.
pub struct Lanes {
    /// In order of their first line in the head.
    pub known: Vec<Lane>,
    /// `--log-format`, which every lane is read as.
    forced: Option<Format>,
    years: YearRule,
    customs: format::Customs,
}

/// One service's lines of a block: their text as written (prefix and
/// all), and where each is in the block.
pub struct Split {
    pub service: Vec<u8>,
    pub raw: Vec<u8>,
    pub lines: Vec<u32>,
}

/// A block's lines by service, in order of each service's first line;
/// lines in no service's frame under the empty name.
pub fn split(data: &[u8]) -> Vec<Split> {
    let mut out: Vec<Split> = Vec::new();
    let mut index: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    for (n, line) in crate::chunk::lines(data).enumerate() {
        let service = envelope::open(Envelope::Compose, line)
            .and_then(|o| o.service)
            .unwrap_or_default();
        let i = match index.get(service) {
            Some(i) => *i,
            None => {
                index.insert(service.to_vec(), out.len());
                out.push(Split {
                    service: service.to_vec(),
                    raw: Vec::new(),
                    lines: Vec::new(),
                });
                out.len() - 1
            }
        };
        let s = &mut out[i];
        s.raw.extend_from_slice(line);
        s.raw.push(b'\n');
        s.lines.push(n as u32);
    }
    out
}

impl Lanes {
    /// The lanes of the services `head` (the input's first lines, framed)
    /// shows; `None` unless it shows at least two.
    pub fn from_head(
        head: &[u8],
        forced: Option<Format>,
        years: YearRule,
        opts: &ScanOptions,
    ) -> Option<Lanes> {
        let lines: Vec<&[u8]> = crate::chunk::text_lines(head)
            .filter(|l| !l.is_empty())
            .take(format::SNIFF_LINES)
            .collect();
        if envelope::sniff(&lines) != Some(Envelope::Compose) {
            return None;
        }
        let splits = split(head);
        if splits.iter().filter(|s| !s.service.is_empty()).count() < 2 {
            return None;
        }
        let mut lanes = Lanes {
            known: Vec::new(),
            forced,
            years,
            customs: opts.customs.clone(),
        };
        lanes.known = splits
            .iter()
            .filter(|s| !s.service.is_empty())
            .map(|s| lanes.detect(&s.service, &s.raw))
            .collect();
        Some(lanes)
    }

    /// The lane of `service`: as the head showed it, else found from its
    /// lines `raw` (a service whose first line comes later).
    pub fn lane(&self, service: &[u8], raw: &[u8]) -> Lane {
        match self.known.iter().find(|l| l.service.as_bytes() == service) {
            Some(l) => l.clone(),
            None => self.detect(service, raw),
        }
    }

    /// How `service`'s lines `raw` are read: bare in the format they
    /// show, else as an application's, keeping the stamp.
    fn detect(&self, service: &[u8], raw: &[u8]) -> Lane {
        let open = |mode| {
            let w = Wrapping {
                envelope: Envelope::Compose,
                mode,
            };
            let mut out = Vec::new();
            envelope::unwrap_into(w, raw, &mut out);
            (w, out)
        };
        let (bare, text) = open(Mode::Bare);
        let found = |text: &[u8]| {
            self.forced.or_else(|| {
                format::registry::detect_further(text, &self.years, &self.customs).map(|(f, _)| f)
            })
        };
        let seeded = |f: Format, text: &[u8]| f.spec()?.seed.and_then(|seed| seed(text));
        let (wrapping, format, text) = match found(&text) {
            Some(f) if f != Format::App => (bare, Some(f), text),
            _ => {
                // Lines given the envelope's time are an application's.
                let (stamped, text) = open(Mode::Stamped);
                let stamped_lines = crate::chunk::lines(raw).any(|l| {
                    envelope::open(Envelope::Compose, l).is_some_and(|o| o.stamp.is_some())
                });
                let format = if stamped_lines {
                    self.forced.or(Some(Format::App))
                } else {
                    found(&text)
                };
                (stamped, format, text)
            }
        };
        Lane {
            service: String::from_utf8_lossy(service).into_owned(),
            wrapping,
            format,
            seed: format.and_then(|f| seeded(f, &text)),
        }
    }

    /// The format most of the head's services' lines are read as, for the
    /// input's own record: the first service's.
    pub fn primary(&self) -> Option<Format> {
        self.known.iter().find_map(|l| l.format)
    }

    /// The note that says how each service was read.
    pub fn note(&self, opts: &ScanOptions) -> String {
        let shown: Vec<String> = self
            .known
            .iter()
            .take(8)
            .map(|l| {
                let format = l.format.map_or_else(
                    || "no format: its lines count as malformed".to_string(),
                    |f| f.describe(&opts.customs),
                );
                format!(
                    "{} ({format})",
                    crate::escape::line_sample(l.service.as_bytes(), 60)
                )
            })
            .collect();
        format!(
            "a compose stream: each service is read as its own host in its own format; its first lines show {}{} (a service that starts later is read the same way)",
            shown.join(", "),
            if self.known.len() > 8 { ", …" } else { "" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_split_by_service_keep_their_line_numbers() {
        let data = b"web-1  | a\nplain\ndb-1   | b\nweb-1  | c\n\x1b[36mdb-1   |\x1b[0m d";
        let s = split(data);
        let got: Vec<(&[u8], &[u8], &[u32])> = s
            .iter()
            .map(|s| (&s.service[..], &s.raw[..], &s.lines[..]))
            .collect();
        assert_eq!(
            got,
            vec![
                (&b"web-1"[..], &b"web-1  | a\nweb-1  | c\n"[..], &[0, 3][..]),
                (b"", b"plain\n", &[1]),
                (b"db-1", b"db-1   | b\n\x1b[36mdb-1   |\x1b[0m d\n", &[2, 4]),
            ]
        );
    }
}
