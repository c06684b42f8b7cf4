//! A run's summary: what reading the inputs gave, before anything is placed
//! in time or detected. It is what `--save-summary` writes, what `logburst
//! merge` reads back, and what a cron state (`state`) keeps of past runs.
//!
//! Summaries combine like the bucket sets inside one run: [`Summary::merge`]
//! appends the second one's inputs after the first's and merges the buckets,
//! so merging the summaries of several runs gives exactly the value one run
//! over all their inputs (in the same order) would have read, and the same
//! analysis.
//!
//! On disk a summary is JSON (schema [`SCHEMA`]), compressed with zstd or
//! gzip when the file name ends in `.zst` or `.gz`; reading sniffs the
//! compression from the first bytes. Its size grows with the time span and
//! the hosts covered (one `[Δt, requests, 5xx]` triple per second with
//! traffic, one per second and 5xx status), not with the number of lines.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::bucket::BucketSet;
use crate::error::{Error, Result};
use crate::errors::ErrorSet;
use crate::event::Origin;
use crate::format::Format;
use crate::merge::Merge;
use crate::persist;
use crate::pipeline::{Scan, Tally};
use crate::source::{Compression, HostFrom, Input, InputError};

/// The schema name written in every summary; a summary with another one is
/// refused rather than half-read.
pub const SCHEMA: &str = "logburst-summary/1";

/// For an incremental run: the requests and 5xx of the series read by this
/// run alone (its summary's, before merging with the history).
#[derive(Clone, Debug, Default)]
pub struct Fresh {
    pub requests: u64,
    pub errors: u64,
    /// The same, per host: (requests, 5xx).
    pub hosts: std::collections::BTreeMap<String, (u64, u64)>,
}

impl Fresh {
    /// What `buckets` counted, in total and per host.
    pub fn of(buckets: &BucketSet) -> Fresh {
        let mut f = Fresh::default();
        for (host, s) in &buckets.series {
            f.add(host, s.requests, s.errors);
        }
        f
    }

    /// Counts `requests` and `errors` more for `host`.
    pub fn add(&mut self, host: &str, requests: u64, errors: u64) {
        self.requests += requests;
        self.errors += errors;
        let e = self.hosts.entry(host.to_string()).or_default();
        e.0 += requests;
        e.1 += errors;
    }
}

/// What one input gave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputSummary {
    /// The path as shown in reports.
    pub display: String,
    pub host: String,
    pub host_from: HostFrom,
    pub format: Option<Format>,
    /// The format's name as the run that read it described it.
    pub format_name: String,
    pub compression: Option<Compression>,
    /// The container envelope its lines were taken out of, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope: Option<String>,
    pub tally: Tally,
    /// Absolute line number (0-based) of each block's first line.
    pub block_starts: Vec<u64>,
    pub open_error: Option<String>,
    /// Content bytes read (decompressed), from the resume point if any.
    #[serde(default)]
    pub consumed: u64,
    /// Read by an earlier run of an incremental (`--state`) series: kept
    /// for its events' line numbers, not reported again.
    #[serde(default)]
    pub history: bool,
    /// What reading decided about it: other paths that were the same file,
    /// copies of it that were not read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// A pre-aggregated series (`merge --series`): rows of counts, read
    /// without a log format.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub series: bool,
}

impl InputSummary {
    pub fn new(input: &Input, scan: Scan, format_name: String) -> (InputSummary, BucketSet) {
        (
            InputSummary {
                display: input.display.clone(),
                host: input.host.clone(),
                host_from: input.host_from,
                format: scan.format,
                format_name,
                compression: scan.compression,
                envelope: scan.envelope.map(|e| e.name().to_string()),
                tally: scan.tally,
                block_starts: scan.block_starts,
                open_error: scan.open_error,
                consumed: scan.consumed,
                history: false,
                notes: input.notes.iter().cloned().chain(scan.notes).collect(),
                series: false,
            },
            scan.buckets,
        )
    }

    /// What makes two summaries' inputs the same read: the path and host
    /// and what was read of it (lines, bytes, first and last stamps).
    fn identity(&self) -> String {
        format!(
            "{}\0{}\0{}\0{}\0{:?}\0{:?}",
            self.display,
            self.host,
            self.tally.lines,
            self.consumed,
            self.tally.first,
            self.tally.last
        )
    }

    /// The host its lines count for: the first host a line named (syslog),
    /// else the input's own.
    pub fn lines_host(&self) -> &str {
        self.tally
            .named_host
            .as_ref()
            .map_or(self.host.as_str(), |(_, _, h)| h.as_str())
    }

    /// The 1-based line number of a record's origin in this input.
    pub fn line_of(&self, origin: Origin) -> u64 {
        crate::pipeline::line_number(&self.block_starts, origin.block, origin.line)
    }
}

/// The inputs of one or more runs and their merged buckets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[warn(missing_docs)]
pub struct Summary {
    /// `logburst-summary/v1`.
    pub schema: String,
    /// The logburst version that wrote it.
    pub version: String,
    /// Every input read, with its line accounting.
    pub inputs: Vec<InputSummary>,
    /// Inputs that could not be read at all.
    pub errors: Vec<InputError>,
    /// The series and rare events read (their wire form is described in
    /// `docs/json-schema.md`).
    pub buckets: BucketSet,
    /// The statuses counted as errors when the logs were read (`--errors`
    /// syntax); absent for 5xx.
    #[serde(default, skip_serializing_if = "ErrorSet::is_default")]
    pub errors_counted: ErrorSet,
}

impl Default for Summary {
    fn default() -> Summary {
        Summary {
            schema: SCHEMA.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            inputs: Vec::new(),
            errors: Vec::new(),
            buckets: BucketSet::default(),
            errors_counted: ErrorSet::default(),
        }
    }
}

#[warn(missing_docs)]
impl Summary {
    /// `self` followed by `other`: other's inputs are numbered after self's.
    /// Summaries that counted different statuses as errors are refused
    /// (an empty one takes the other's).
    pub fn merge(mut self, mut other: Summary) -> Result<Summary> {
        if !self.counted_any() {
            self.errors_counted = other.errors_counted;
        } else if other.counted_any() && other.errors_counted != self.errors_counted {
            return Err(Error::ErrorsDiffer {
                what: "one summary",
                had: self.errors_counted.spec(),
                other: "another",
                now: other.errors_counted.spec(),
                fix: "make the summaries again with the same --errors",
            });
        }
        let shift = u32::try_from(self.inputs.len())
            .ok()
            .filter(|s| s.checked_add(other.inputs.len() as u32).is_some())
            .ok_or(Error::TooManyInputs)?;
        other.buckets.renumber_inputs(shift);
        self.inputs.extend(other.inputs);
        self.errors.extend(other.errors);
        self.buckets.merge(other.buckets);
        Ok(self)
    }

    /// Whether it holds inputs or requests (whose errors were counted with
    /// `errors_counted`).
    pub fn counted_any(&self) -> bool {
        !self.inputs.is_empty()
            || !self.buckets.series.is_empty()
            || !self.buckets.local_series.is_empty()
    }

    /// Writes the summary as JSON (uncompressed) to `w`, a line.
    pub fn write_json(&self, mut w: impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer(&mut w, self).map_err(std::io::Error::from)?;
        w.write_all(b"\n")?;
        w.flush()
    }

    /// Writes the summary to `path` (zstd- or gzip-compressed when its
    /// name ends in `.zst` or `.gz`), atomically: a reader never sees half a
    /// summary.
    pub fn save(&self, path: &Path) -> Result<()> {
        persist::write_json(path, "summary", self)
    }

    /// The summaries at `paths`, merged in order. Summaries that hold the
    /// same input (a summary given twice, two runs over one file) are
    /// refused: their lines would be counted twice.
    /// Each is read up to `limit` bytes (decompressed).
    pub fn merge_files(paths: &[impl AsRef<Path>], limit: u64) -> Result<Summary> {
        let stdin = paths.iter().filter(|p| p.as_ref() == Path::new("-"));
        if stdin.count() > 1 {
            return Err(Error::Refused(
                "merge: standard input (-) given twice: it holds one summary".into(),
            ));
        }
        let mut merged = Summary::default();
        let mut owner: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for (n, p) in paths.iter().enumerate() {
            let s = Summary::load(p.as_ref(), limit)?;
            for i in &s.inputs {
                if let Some(&first) = owner.get(&i.identity()) {
                    return Err(Error::SummariesOverlap {
                        first: paths[first].as_ref().into(),
                        second: p.as_ref().into(),
                        input: i.display.clone(),
                    });
                }
            }
            for i in &s.inputs {
                owner.insert(i.identity(), n);
            }
            merged = merged.merge(s)?;
        }
        Ok(merged)
    }

    /// Reads a summary written by [`Summary::save`]; `-` is standard input
    /// (`logburst --save-summary - … | logburst merge -`).
    pub fn load(path: &Path, limit: u64) -> Result<Summary> {
        let text = read_merged(path, "summary", limit)?;
        Summary::from_json(&text).map_err(|why| Error::Summary {
            path: path.into(),
            why,
        })
    }

    /// Parses and checks a summary.
    pub fn from_json(text: &[u8]) -> std::result::Result<Summary, String> {
        persist::check_schema(text, SCHEMA, "summary")?;
        let s: Summary =
            serde_json::from_slice(text).map_err(|e| persist::damaged("summary", &e))?;
        s.check()?;
        Ok(s)
    }

    /// Input numbers inside the buckets must name an input of the summary;
    /// instants and counts must be ones a run can produce.
    pub(crate) fn check(&self) -> std::result::Result<(), String> {
        let n = self.inputs.len() as u64;
        if let Some(i) = self.buckets.max_input().filter(|i| u64::from(*i) >= n) {
            return Err(format!(
                "a damaged summary: its events name input {i} of {n}"
            ));
        }
        let b = &self.buckets;
        let tallies = self.inputs.iter().flat_map(|i| {
            let t = &i.tally;
            t.first
                .into_iter()
                .chain(t.last)
                .chain(t.last_stamps.iter().map(|(_, s)| *s))
        });
        let stamps = b
            .oom
            .iter()
            .map(|l| l.stamp)
            .chain(b.upstream.keys().map(|k| k.stamp))
            .chain(b.signals.keys().filter_map(|k| k.stamp))
            .chain(tallies);
        const MANY: u64 = 1 << 48;
        let counts = b
            .upstream
            .values()
            .copied()
            .chain(b.signals.values().map(|c| c.count))
            .chain(
                self.inputs
                    .iter()
                    .flat_map(|i| [i.tally.lines, i.tally.parsed, i.tally.malformed]),
            );
        let mut stamps = stamps;
        if !stamps.all(|s| s.plausible()) {
            return Err("a damaged summary: an instant out of range".into());
        }
        let mut counts = counts;
        if !counts.all(|c| c < MANY)
            || b.oom.iter().any(|l| {
                l.victim.anon_rss_kb.is_some_and(|k| k >= MANY)
                    || l.victim.total_vm_kb.is_some_and(|k| k >= MANY)
            })
        {
            return Err("a damaged summary: a count out of range".into());
        }
        Ok(())
    }
}

/// What `merge` reads at `path` (a `what`: summary or series), up to
/// `limit` bytes decompressed (`--max-summary-size`); `-` is standard
/// input.
pub(crate) fn read_merged(path: &Path, what: &str, limit: u64) -> Result<Vec<u8>> {
    let flag = Some("--max-summary-size");
    let text = if path == Path::new("-") {
        crate::limits::read_limited_stdin(what, limit, flag)
    } else {
        crate::limits::read_limited(path, what, limit, flag)
    };
    text.map_err(|e| match e {
        crate::limits::ReadError::Io(e) => Error::io(&format!("read {what}"), path, e),
        crate::limits::ReadError::Refused(why) => Error::Refused(why),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_in_the_users_words() {
        for (text, says) in [
            ("hello", "not a logburst summary: it is not JSON"),
            ("[1]", "JSON, but not an object with a \"schema\" field"),
            ("{\"a\":1}", "no \"schema\" field"),
            (
                "{\"schema\":\"logburst-summary/1\",\"version\":\"x\"}",
                "a damaged summary: a field missing or of the wrong kind (line 1, column 45)",
            ),
            (
                "{\"schema\":\"logburst-summary/1\",\"ver",
                "a damaged summary: cut short",
            ),
        ] {
            let e = Summary::from_json(text.as_bytes()).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
            // Never the parser's own words: type names, expectations.
            for inner in ["struct", "expected", "Head", "`"] {
                assert!(!e.contains(inner), "{text}: {e}");
            }
        }
    }

    #[test]
    fn refuses_foreign_and_damaged_files() {
        assert!(Summary::from_json(b"hello")
            .unwrap_err()
            .contains("not JSON"));
        assert!(Summary::from_json(b"{\"a\": 1}")
            .unwrap_err()
            .contains("no \"schema\""));
        assert!(Summary::from_json(b"{\"schema\": \"logburst-summary/9\"}")
            .unwrap_err()
            .contains("does not read"));
        let e = Summary::from_json(b"{\"schema\": \"logburst-summary/1\"}").unwrap_err();
        assert!(e.contains("damaged"), "{e}");
    }

    #[test]
    fn round_trips_through_every_compression() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Summary::default();
        s.errors.push(InputError {
            path: "x".into(),
            message: "gone".into(),
        });
        for name in ["s.json", "s.json.zst", "s.json.gz"] {
            let p = dir.path().join(name);
            s.save(&p).unwrap();
            assert_eq!(
                Summary::load(&p, crate::limits::READ_LIMIT).unwrap(),
                s,
                "{name}"
            );
        }
    }
}
