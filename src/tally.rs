//! The line accounting of an input ([`Tally`]): lines read, parsed and
//! malformed, the first malformed ones to show, the first and last
//! stamps. Blocks are counted apart and merged in file order.

use crate::event::{LeftOut, Stamp};
use crate::format::Format;
use crate::merge::Merge;

/// How many malformed lines are kept per input to show the user.
pub const MAX_SAMPLES: usize = 5;
/// A malformed line kept for the report.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Sample {
    pub block: u32,
    pub line: u32,
    /// Absolute 1-based line number, filled in once all blocks are counted.
    pub line_number: u64,
    pub text: String,
}

/// The line accounting of (part of) an input. A monoid, like the buckets.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    pub lines: u64,
    pub parsed: u64,
    pub malformed: u64,
    /// (block index, lines in it): turns block-local line numbers into
    /// absolute ones.
    pub blocks: Vec<(u32, u64)>,
    pub samples: Vec<Sample>,
    pub first: Option<Stamp>,
    pub last: Option<Stamp>,
    /// The first host a system line named, for placing local stamps.
    pub named_host: Option<(u32, u32, String)>,
    pub read_error: Option<String>,
    /// (block index, last stamp in it): gives application lines that
    /// open a block the time of the stamped line before them.
    pub last_stamps: Vec<(u32, Stamp)>,
    /// Lines parsed but with no instant to place them at (raw dmesg
    /// uptime stamps without `--boot-time`).
    pub unplaced: u64,
    /// Of those, OOM kill lines (`Killed process …`): kills the report
    /// cannot place, so its "no OOM kill" would not be the log's.
    #[serde(default)]
    pub unplaced_kills: u64,
    /// Lines read as system or application lines that look like HTTP
    /// access records (see [`crate::format::access::looks_like_request`]): the sign of a
    /// misread access log.
    #[serde(default)]
    pub request_shaped: u64,
    /// Lines of a mixed stream read by another web-server format than the
    /// input's (a mixed stream), per format.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read_as: Vec<(Format, u64)>,
    /// Requests read but left out of the counts, by why (written as two
    /// top-level counts, `not_counted` and `no_response`, as before).
    #[serde(flatten)]
    pub left_out: LeftOut,
}

fn min_stamp(a: Option<Stamp>, b: Option<Stamp>) -> Option<Stamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y.sort_key() < x.sort_key() { y } else { x }),
        (x, y) => x.or(y),
    }
}

fn max_stamp(a: Option<Stamp>, b: Option<Stamp>) -> Option<Stamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y.sort_key() > x.sort_key() { y } else { x }),
        (x, y) => x.or(y),
    }
}

/// The accounting of two stretches of one input: counts add, blocks and
/// samples interleave in order, stamps widen.
impl Merge for Tally {
    fn merge(&mut self, o: Tally) {
        self.lines += o.lines;
        self.parsed += o.parsed;
        self.malformed += o.malformed;
        self.blocks.extend(o.blocks);
        self.blocks.sort_unstable();
        self.samples.extend(o.samples);
        self.samples.sort();
        self.samples.truncate(MAX_SAMPLES);
        self.first = min_stamp(self.first, o.first);
        self.last = max_stamp(self.last, o.last);
        self.named_host = match (self.named_host.take(), o.named_host) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.read_error = self.read_error.take().or(o.read_error);
        self.last_stamps.extend(o.last_stamps);
        self.unplaced += o.unplaced;
        self.unplaced_kills += o.unplaced_kills;
        self.request_shaped += o.request_shaped;
        crate::mixed::add_counts(&mut self.read_as, o.read_as);
        self.left_out.merge(o.left_out);
        self.last_stamps.sort_unstable();
    }
}

impl Tally {
    /// A line stamped `s` was read: the input's first and last widen.
    pub(crate) fn saw(&mut self, s: Stamp) {
        self.first = min_stamp(self.first, Some(s));
        self.last = max_stamp(self.last, Some(s));
    }

    /// A record an envelope joined to the line before it: parsed or
    /// malformed as that line was.
    pub(crate) fn count_joined(&mut self, prev_ok: bool) {
        if prev_ok {
            self.parsed += 1;
        } else {
            self.malformed += 1;
        }
    }

    /// Absolute line number of the start of each block (0-based), by index.
    pub fn block_starts(&self) -> Vec<u64> {
        let mut starts = Vec::with_capacity(self.blocks.len());
        let mut acc = 0;
        for (_, n) in &self.blocks {
            starts.push(acc);
            acc += n;
        }
        starts
    }
}

/// Counts a line that did not parse, keeping the first few to show.
#[cold]
pub(crate) fn malformed(t: &mut Tally, block: u32, n: u32, line: &[u8]) {
    t.malformed += 1;
    if t.samples.len() < MAX_SAMPLES {
        t.samples.push(Sample {
            block,
            line: n,
            line_number: 0,
            text: if line.is_empty() {
                "(empty line)".into()
            } else {
                printable(line)
            },
        });
    }
}

/// Shows a malformed line safely: lossy UTF-8, control characters escaped,
/// cut to a readable length.
pub fn printable(line: &[u8]) -> String {
    crate::escape::line_sample(line, crate::escape::SAMPLE_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_tally() -> impl Strategy<Value = Tally> {
        let stamp = prop_oneof![
            (-1000i64..1000, -2i32..3).prop_map(|(utc, h)| Stamp::Zoned {
                utc,
                offset: h * 3600
            }),
            (-1000i64..1000, any::<bool>()).prop_map(|(naive, year_inferred)| Stamp::Local {
                naive,
                year_inferred
            }),
        ];
        (
            (0u64..100, 0u64..100, 0u64..100, 0u64..5),
            prop::collection::btree_map(0u32..20, 1u64..50, 0..4),
            prop::collection::vec((0u32..20, 0u32..9, "[a-c]{0,2}"), 0..8),
            (
                prop::option::of(stamp.clone()),
                prop::option::of(stamp.clone()),
            ),
            prop::option::of((0u32..3, 0u32..3, "[a-b]")),
            prop::option::of("[xy]"),
            prop::collection::btree_map(0u32..20, stamp, 0..4),
        )
            .prop_map(
                |(
                    (lines, parsed, malformed, unplaced),
                    blocks,
                    samples,
                    (first, last),
                    named_host,
                    read_error,
                    last_stamps,
                )| {
                    let mut samples: Vec<Sample> = samples
                        .into_iter()
                        .map(|(block, line, text)| Sample {
                            block,
                            line,
                            line_number: 0,
                            text,
                        })
                        .collect();
                    samples.sort();
                    samples.truncate(MAX_SAMPLES);
                    Tally {
                        lines,
                        parsed,
                        malformed,
                        blocks: blocks.into_iter().collect(),
                        samples,
                        first,
                        last,
                        named_host,
                        read_error,
                        last_stamps: last_stamps.into_iter().collect(),
                        unplaced,
                        unplaced_kills: unplaced / 3,
                        request_shaped: lines / 3,
                        left_out: LeftOut {
                            not_counted: unplaced / 2,
                            no_response: malformed / 2,
                        },
                        read_as: if parsed % 2 == 0 {
                            Vec::new()
                        } else {
                            vec![(Format::NginxError, parsed / 2 + 1)]
                        },
                    }
                },
            )
    }

    proptest! {
        // The accounting of an input's stretches combines in any grouping
        // (not in any order: the first read error and the first of equal
        // stamps are kept).
        #[test]
        fn tallies_merge_as_a_monoid(a in arb_tally(), b in arb_tally(), c in arb_tally()) {
            crate::merge::laws(a, b, c)?;
        }
    }

    // A state file's tally keeps the two left-out counts at the top
    // level, as written before they were one field; a file older than
    // them reads as none left out.
    #[test]
    fn left_out_counts_keep_their_place_in_the_state() {
        let mut t = Tally::default();
        t.left_out.not_counted = 7;
        t.left_out.no_response = 3;
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(v["not_counted"], 7);
        assert_eq!(v["no_response"], 3);
        assert!(v.get("left_out").is_none(), "{v}");
        assert_eq!(serde_json::from_value::<Tally>(v.clone()).unwrap(), t);
        let mut old = v;
        let o = old.as_object_mut().unwrap();
        o.remove("not_counted");
        o.remove("no_response");
        let back: Tally = serde_json::from_value(old).unwrap();
        assert_eq!(back.left_out, LeftOut::default());
    }

    #[test]
    fn printable_escapes_controls() {
        assert_eq!(printable(b"a\x1b[2Jb"), "a\\x1B[2Jb");
        assert_eq!(printable(b"\xff"), "\u{fffd}");
    }
}
