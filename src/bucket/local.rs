//! Requests counted in local wall-clock seconds (HAProxy's accept date),
//! kept apart by the pass of the clock they were written in.
//!
//! In the hour a clock goes back, a wall-clock second names two instants.
//! The log's own order tells them apart: a proxy writes its lines as
//! requests end, so when the time written falls back by most of an hour
//! the clock went back, and the lines that follow — until the time passes
//! the highest written before the fall — are of the second pass. A block
//! of the file cannot know whether it starts inside such a stretch: its
//! lines before any fall it sees itself are kept undecided (the head), and
//! are settled when the block is merged after the one before it.

use super::{Detail, Request, Series, SeriesBuilder};
use crate::merge::Merge;

/// A fall of the written time by more than this (seconds) is the clock
/// going back; a proxy's lines are out of order by at most a request's
/// duration, and a clock change is an hour (30 minutes on Lord Howe).
pub const FALL: i64 = 20 * 60;

/// A host's requests of one input in local seconds, by pass.
#[derive(Clone, PartialEq, Eq, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(from = "Wire")]
pub struct LocalSeries {
    /// Lines before the first fall this part saw: of the first pass if
    /// nothing comes before them, else settled by what does.
    pub head: Series,
    /// Lines known to be of a first (or only) pass.
    pub first: Series,
    /// Lines known to be of the second pass of a repeated hour.
    pub second: Series,
    /// The local second of the head's first line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    head_first: Option<i64>,
    /// The highest local second written so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max: Option<i64>,
    /// While lines are of a second pass: the highest second written before
    /// the fall (the stretch ends when a line passes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    back: Option<i64>,
    /// How many falls were seen (when none, `back` is not known).
    #[serde(default)]
    pub falls: u32,
}

/// How a summary holds it: by pass, or (summaries written before passes
/// were kept) one series, read as lines of a first pass.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Wire {
    Passes(Box<Passes>),
    Plain(Series),
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Passes {
    head: Series,
    first: Series,
    second: Series,
    #[serde(default)]
    head_first: Option<i64>,
    #[serde(default)]
    max: Option<i64>,
    #[serde(default)]
    back: Option<i64>,
    #[serde(default)]
    falls: u32,
}

impl From<Wire> for LocalSeries {
    fn from(w: Wire) -> LocalSeries {
        match w {
            Wire::Passes(p) => {
                let Passes {
                    head,
                    first,
                    second,
                    head_first,
                    max,
                    back,
                    falls,
                } = *p;
                LocalSeries {
                    head,
                    first,
                    second,
                    head_first,
                    max,
                    back,
                    falls,
                }
            }
            Wire::Plain(first) => LocalSeries {
                max: first.span().map(|(_, last)| last),
                first,
                ..LocalSeries::default()
            },
        }
    }
}

impl LocalSeries {
    pub fn requests(&self) -> u64 {
        self.head.requests + self.first.requests + self.second.requests
    }

    pub fn errors(&self) -> u64 {
        self.head.errors + self.first.errors + self.second.errors
    }

    /// Drops every second before `t` (see [`Series::trim_before`]).
    pub fn trim_before(&mut self, t: i64) {
        for s in [&mut self.head, &mut self.first, &mut self.second] {
            s.trim_before(t);
        }
    }

    /// The first local second with a request.
    pub fn first_second(&self) -> Option<i64> {
        [&self.head, &self.first, &self.second]
            .into_iter()
            .filter_map(Series::first_second)
            .min()
    }

    /// The lines of a first (or only) pass, and those of a second pass.
    pub fn passes(self) -> (Series, Series) {
        let mut first = self.head;
        first.merge(self.first);
        (first, self.second)
    }

    fn is_empty(&self) -> bool {
        self.max.is_none() && self.requests() == 0
    }
}

/// Merges `other`, which follows `self` in its file: `other`'s undecided
/// lines are settled by where `self` left the clock. Exact for a left fold
/// from an input's first block, which is how blocks are merged; parts of
/// different runs (an incremental run's history) merge the same way, the
/// later after the earlier.
impl Merge for LocalSeries {
    fn merge(&mut self, mut other: LocalSeries) {
        if other.is_empty() {
            return;
        }
        if self.is_empty() {
            *self = other;
            return;
        }
        let max = self.max.unwrap_or(i64::MIN);
        // Where the head stands: still in a second pass, or just fallen.
        let back = self.back.or_else(|| {
            other
                .head_first
                .filter(|f| *f < max.saturating_sub(FALL))
                .map(|_| max)
        });
        let fell_here = self.back.is_none() && back.is_some();
        let head = std::mem::take(&mut other.head);
        match back {
            Some(m) => {
                let mut second = head;
                let after = second.split_after(m);
                self.second.merge(second);
                self.first.merge(after);
            }
            None => self.first.merge(head),
        }
        self.first.merge(other.first);
        self.second.merge(other.second);
        let other_max = other.max.unwrap_or(i64::MIN);
        self.back = if other.falls > 0 {
            other.back
        } else {
            back.filter(|m| other_max <= *m)
        };
        self.falls += other.falls + u32::from(fell_here);
        self.max = Some(max.max(other_max));
    }
}

/// Builds a [`LocalSeries`] from lines in file order.
#[derive(Default)]
pub struct LocalBuilder {
    passes: [SeriesBuilder; 3],
    /// The pass the last line went to (its details follow it).
    last: usize,
    head_first: Option<i64>,
    max: Option<i64>,
    back: Option<i64>,
    falls: u32,
}

impl LocalBuilder {
    #[inline]
    pub fn add(&mut self, r: &Request, error: bool) {
        let n = r.utc;
        if self.back.is_some_and(|m| n > m) {
            self.back = None;
        }
        if let (Some(max), None) = (self.max, self.back) {
            if n < max.saturating_sub(FALL) {
                self.back = Some(max);
                self.falls += 1;
            }
        }
        self.max = Some(self.max.map_or(n, |m| m.max(n)));
        self.last = if self.falls == 0 {
            self.head_first.get_or_insert(n);
            0
        } else if self.back.is_some() {
            2
        } else {
            1
        };
        self.passes[self.last].add(r, error);
    }

    /// Counts the client and path of the 5xx just added.
    #[cold]
    pub fn add_detail(&mut self, utc: i64, d: &Detail) {
        self.passes[self.last].add_detail(utc, d);
    }

    pub fn finish(self) -> LocalSeries {
        let [head, first, second] = self.passes.map(SeriesBuilder::finish);
        LocalSeries {
            head,
            first,
            second,
            head_first: self.head_first,
            max: self.max,
            back: self.back,
            falls: self.falls,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(n: i64) -> Request {
        Request {
            utc: n,
            status: 200,
            offset: 0,
            latency_ms: None,
        }
    }

    /// Naive seconds of a clock that goes back an hour at 3_600 * 3:
    /// 02:00..03:00 twice, one line every `step` seconds.
    fn fold_day(step: i64) -> Vec<i64> {
        let mut v: Vec<i64> = (0..3 * 3600).step_by(step as usize).collect();
        v.extend((2 * 3600..5 * 3600).step_by(step as usize));
        v
    }

    fn build(lines: &[i64]) -> LocalSeries {
        let mut b = LocalBuilder::default();
        for n in lines {
            b.add(&req(*n), false);
        }
        b.finish()
    }

    #[test]
    fn the_second_pass_is_told_by_the_fall() {
        let lines = fold_day(10);
        let l = build(&lines);
        assert_eq!(l.falls, 1);
        assert_eq!(l.head.requests, 3 * 360);
        assert_eq!(l.second.requests, 360);
        assert_eq!(l.first.requests, 2 * 360);
        let (first, second) = l.passes();
        assert_eq!(first.at(2 * 3600 + 10), (1, 0));
        assert_eq!(second.at(2 * 3600 + 10), (1, 0));
        assert_eq!(second.at(3 * 3600), (0, 0));
    }

    /// Cut into blocks anywhere, merged in order, the passes are those of
    /// one read: the fall may sit inside a block, at a cut, or a block may
    /// lie wholly inside the second pass.
    #[test]
    fn blocks_merged_in_order_agree_with_one_read() {
        let lines = fold_day(7);
        let whole = build(&lines).passes();
        for size in [1, 13, 500, 514, 1029, 1543, 2000] {
            let mut merged = LocalSeries::default();
            for part in lines.chunks(size) {
                merged.merge(build(part));
            }
            assert_eq!(merged.falls, 1, "blocks of {size}");
            let got = merged.passes();
            assert_eq!(got.0.requests, whole.0.requests, "blocks of {size}");
            assert_eq!(got.1.requests, whole.1.requests, "blocks of {size}");
            for t in (2 * 3600..3 * 3600).step_by(61) {
                assert_eq!(got.0.at(t), whole.0.at(t), "blocks of {size} at {t}");
                assert_eq!(got.1.at(t), whole.1.at(t), "blocks of {size} at {t}");
            }
        }
    }

    #[test]
    fn lines_out_of_order_by_seconds_are_no_fall() {
        let mut lines: Vec<i64> = (0..7200).collect();
        lines.swap(100, 160);
        lines.push(7000);
        let l = build(&lines);
        assert_eq!(l.falls, 0);
        assert_eq!(l.passes().1.requests, 0);
    }

    #[test]
    fn merging_nothing_changes_nothing() {
        let l = build(&fold_day(60));
        let mut a = LocalSeries::default();
        a.merge(l.clone());
        assert_eq!(a, l);
        let mut b = l.clone();
        b.merge(LocalSeries::default());
        assert_eq!(b, l);
    }

    #[test]
    fn summaries_keep_the_passes_and_old_ones_are_read() {
        let l = build(&fold_day(30));
        let text = serde_json::to_string(&l).unwrap();
        let back: LocalSeries = serde_json::from_str(&text).unwrap();
        assert_eq!(back, l);
        // Written before passes were kept: one series, a first pass.
        let plain = serde_json::to_string(&l.first).unwrap();
        let old: LocalSeries = serde_json::from_str(&plain).unwrap();
        assert_eq!(old.requests(), l.first.requests);
        assert_eq!(old.passes().0, l.first);
        assert!(serde_json::from_str::<LocalSeries>("{\"head\": 1}").is_err());
    }
}
