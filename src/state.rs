//! Incremental runs (`--state FILE`), for cron: each run reads only what was
//! written since the last one and reports only incidents that are new, or
//! that were still open at the last run.
//!
//! The state remembers, per file, where the last run stopped: the device and
//! inode, the content offset (decompressed bytes) and line count, and a
//! fingerprint of the first bytes, as logtail2 does. A file is recognised by
//! its inode when its first bytes still match (renamed by rotation), else by
//! its first bytes alone (the copy `copytruncate` leaves, or a rotated file
//! compressed since); a file whose inode is known but whose first bytes
//! changed, or which shrank, was truncated and is read from its start. Plain
//! files are read up to their last complete line, so a line being written
//! is read whole by the next run.
//!
//! The state also keeps the trailing [`Summary`] detection needs (two hours
//! and the longest open incident), so a burst that spans two runs is found
//! once, with its true start, and the incidents reported before.
//!
//! A lock file (`FILE.lock`) keeps two runs from using one state at once;
//! the state is written to a temporary file and renamed into place, and only
//! by [`Incremental::commit`], which the caller calls once the report is out.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::event::OomKill;
use crate::format::Format;
use crate::persist::{check_schema, damaged, is_temp_of, write_atomically};
use crate::report::model::Analysis;
use crate::run;
use crate::source::{self, Input, Resume};
use crate::summary::Fresh;
use crate::summary::Summary;

mod found;
mod guard;
mod seen;
use found::{complete_end, fnv1a, ids, known_by_inode, match_state, object_unchanged, Found};
use guard::{foreign_or_damaged, Lock};
use seen::mark_incidents;
pub use seen::Seen;

/// The schema name of a state file.
pub const SCHEMA: &str = "logburst-state/1";

/// Bytes of content a file's fingerprint covers (fewer while the file is
/// shorter).
const FINGERPRINT: usize = 1024;

/// How far back from the newest data the history reaches: the hour of
/// traffic a traffic gap's expected rate is measured over, and an hour more
/// for OOM kills before an incident and clustering.
const RETAIN: i64 = 2 * 3600;

/// Rare events (kills, upstream failures, signals) are kept a day longer
/// than the series: they are few, and zone-less ones are placed only later.
const RARE_SLACK: i64 = 86_400;

/// A plain file whose last line has no newline is read whole only once it
/// has not been modified for this long: before that, the line may still be
/// being written.
const SETTLED_SECS: u64 = 60;

/// Where the last run stopped in one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileState {
    /// Where it was last seen.
    pub path: String,
    pub dev: u64,
    pub ino: u64,
    /// Size on disk and modification time (seconds) when last read.
    pub size: u64,
    pub mtime: i64,
    pub compressed: bool,
    /// Content bytes (decompressed) read so far, and the lines in them.
    pub offset: u64,
    pub lines: u64,
    /// FNV-1a of the first `fp_len` content bytes.
    pub fp_len: u32,
    pub fp_hash: u64,
    pub format: Option<Format>,
}

/// What an incremental run keeps for the next.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub schema: String,
    pub version: String,
    /// Runs that wrote this state.
    pub runs: u64,
    pub files: Vec<FileState>,
    /// The trailing part of what earlier runs read.
    pub history: Summary,
    /// The history holds every second from here on (`None`: everything).
    pub horizon: Option<i64>,
    /// The newest instant read so far.
    pub data_end: Option<i64>,
    /// Incidents reported, open ones included.
    pub seen: Vec<Seen>,
    /// OOM kills counted in earlier runs' totals: (host, pid, instant).
    pub counted_kills: BTreeSet<(String, Option<u32>, i64)>,
    /// Alerts, webhook messages and annotations not delivered yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outbox: Vec<crate::deliver::Message>,
    /// The newest detection reported so far: (instant, lag), seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_detection: Option<(i64, i64)>,
}

impl Default for State {
    fn default() -> State {
        State {
            schema: SCHEMA.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            runs: 0,
            files: Vec::new(),
            history: Summary::default(),
            horizon: None,
            data_end: None,
            seen: Vec::new(),
            counted_kills: BTreeSet::new(),
            outbox: Vec::new(),
            last_detection: None,
        }
    }
}

impl State {
    /// Reads the state at `path`; a missing file is a first run.
    pub fn load(path: &Path, limit: u64) -> Result<State> {
        let text = match crate::limits::read_limited(
            path,
            "state file",
            limit,
            Some("--max-summary-size"),
        ) {
            Ok(t) => t,
            Err(crate::limits::ReadError::Io(e)) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(State::default())
            }
            Err(crate::limits::ReadError::Io(e)) => return Err(Error::io("read state", path, e)),
            Err(crate::limits::ReadError::Refused(why)) => return Err(Error::Refused(why)),
        };
        State::from_json(&text).map_err(|why| foreign_or_damaged(path, why))
    }

    pub fn from_json(text: &[u8]) -> std::result::Result<State, String> {
        check_schema(text, SCHEMA, "state file")?;
        let s: State = serde_json::from_slice(text).map_err(|e| damaged("state file", &e))?;
        if s.history.schema != crate::summary::SCHEMA {
            return Err("a damaged state file: its history is not a summary".into());
        }
        s.history
            .check()
            .map_err(|e| format!("a damaged state file: {e}"))?;
        Ok(s)
    }

    /// Writes the state atomically (temporary file renamed into place).
    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomically(path, "state", |mut w| {
            serde_json::to_writer(&mut w, self)?;
            Ok(w)
        })
    }
}

/// What a run will read of one input, and how to update its file state.
struct Planned {
    input: Input,
    found: Option<Found>,
    skip: u64,
    first_line: u64,
}

/// Decides where each input is taken up again.
struct Plan {
    read: Vec<Planned>,
    /// Files with nothing new: their states, carried over.
    unchanged: Vec<FileState>,
    notes: Vec<String>,
}

fn plan(inputs: Vec<Input>, state: &State) -> Result<Plan> {
    let mut read = Vec::new();
    let mut unchanged = Vec::new();
    let mut used = vec![false; state.files.len()];
    let mut notes = Vec::new();
    for mut input in inputs {
        if input.path.is_none() {
            return Err(Error::StdinWithState);
        }
        if let Some(f) = object_unchanged(&input, state, &mut used) {
            unchanged.push(f);
            continue;
        }
        let Some(found) = Found::of(&input) else {
            // Unreadable: the scan reports why. A file known by its inode
            // keeps its place for when it can be read again.
            if let Some(i) = known_by_inode(&input, state).filter(|i| !used[*i]) {
                used[i] = true;
                unchanged.push(state.files[i].clone());
            }
            read.push(Planned {
                input,
                found: None,
                skip: 0,
                first_line: 0,
            });
            continue;
        };
        let (by_inode, known) = match_state(&found, state, &mut used);
        let (skip, first_line, format) = match known {
            Some(i) => {
                used[i] = true;
                let f = &state.files[i];
                let same_file = by_inode == Some(i);
                let whole = found.compressed || found.object;
                if same_file && whole && f.size == found.size && f.mtime == found.mtime {
                    unchanged.push(FileState {
                        path: input.display.clone(),
                        ..f.clone()
                    });
                    continue;
                }
                if !found.compressed && found.size < f.offset {
                    // Shrank under the same first bytes: copytruncate
                    // followed by the same first line; read it all.
                    (0, 0, f.format)
                } else {
                    (f.offset, f.lines, f.format)
                }
            }
            None => (0, 0, None),
        };
        let end = if found.compressed || found.object {
            None
        } else {
            let path = input.path.as_deref().expect("checked above");
            let end = complete_end(path, skip, found.size, found.settled)
                .map_err(|e| Error::io("read", &input.display, e))?;
            if end <= skip {
                if let Some(i) = known {
                    unchanged.push(FileState {
                        path: input.display.clone(),
                        dev: found.dev,
                        ino: found.ino,
                        ..state.files[i].clone()
                    });
                }
                continue;
            }
            Some(end)
        };
        input.resume = Some(Resume {
            skip,
            end,
            first_line,
            format,
        });
        read.push(Planned {
            input,
            found: Some(found),
            skip,
            first_line,
        });
    }
    for (f, used) in state.files.iter().zip(used) {
        if !used {
            notes.push(format!(
                "{}: no longer found (read up to line {} by earlier runs); forgotten",
                f.path, f.lines
            ));
        }
    }
    Ok(Plan {
        read,
        unchanged,
        notes,
    })
}

/// The state an incremental run leaves for the next, holding the lock
/// until it is written.
#[warn(missing_docs)]
pub struct Pending {
    next: State,
    closed: Vec<crate::deliver::Closed>,
    path: PathBuf,
    _lock: Lock,
}

#[warn(missing_docs)]
impl Pending {
    /// Writes the new state (call once the report is out).
    pub fn commit(self) -> Result<()> {
        self.next.save(&self.path)
    }

    /// What earlier runs could not deliver, taken out to be sent; give
    /// back what is still undelivered with [`Pending::keep`].
    pub fn take_outbox(&mut self) -> Vec<crate::deliver::Message> {
        std::mem::take(&mut self.next.outbox)
    }

    /// Keeps `messages` for the next run to deliver.
    pub fn keep(&mut self, messages: Vec<crate::deliver::Message>) {
        self.next.outbox = messages;
    }

    /// Incidents reported open before that closed without being found
    /// again (a lone OOM kill a burst now claims as its cause).
    pub fn closed(&self) -> &[crate::deliver::Closed] {
        &self.closed
    }

    /// The newest detection reported, by this run or an earlier one:
    /// (instant, lag), seconds.
    pub fn last_detection(&self) -> Option<(i64, i64)> {
        self.next.last_detection
    }
}

/// Runs `config` incrementally against the state at `path` (`reset`:
/// start over as if it did not exist): its analysis, and the new state to
/// commit once the report is out.
#[warn(missing_docs)]
pub fn run(config: &Config, path: &Path, reset: bool) -> Result<(Analysis, Pending)> {
    if config.inputs.is_empty() {
        return Err(Error::NoInputs);
    }
    // A state reached through a link is the link's target: written there,
    // locked there, and the link left as it is.
    let path = &guard::resolve(path);
    guard::check(path, config.max_summary_size, reset)?;
    let lock = Lock::take(path)?;
    // Holding the lock, no other run writes this state: a temporary file
    // of it is what a killed run left.
    guard::remove_stale_temps(path);
    let state = if reset {
        State::default()
    } else {
        State::load(path, config.max_summary_size)?
    };
    let (inputs, errors) = source::expand(&config.inputs, config.listing_span());
    let mut inputs = crate::once::same_files(inputs);
    // The state, its lock and its temporary file may sit among the logs.
    let own = |p: &Path| -> Option<(u64, u64)> { std::fs::metadata(p).ok().map(|m| ids(&m)) };
    let mine: Vec<(u64, u64)> = [path.to_path_buf(), lock.path.clone()]
        .iter()
        .filter_map(|p| own(p))
        .collect();
    inputs.retain(|i| {
        i.path
            .as_deref()
            .is_none_or(|p| !is_temp_of(p, path) && own(p).is_none_or(|id| !mine.contains(&id)))
    });
    let counting = config.errors.unwrap_or_default();
    if state.history.counted_any() && state.history.errors_counted != counting {
        return Err(Error::ErrorsDiffer {
            what: "the state",
            had: state.history.errors_counted.spec(),
            other: "this run",
            now: counting.spec(),
            fix: "give the state's --errors, or --reset-state to start it over",
        });
    }
    let plan = plan(inputs, &state)?;
    let inputs: Vec<Input> = plan.read.iter().map(|p| p.input.clone()).collect();
    let fresh = run::read_inputs(config, &inputs, errors)?;
    let fresh_totals = Fresh::of(&fresh.buckets);
    let files = file_states(&plan, &fresh);
    let merged = state.history.clone().merge(fresh)?;
    let keep = merged.clone();
    let (mut analysis, kills) = run::finish_with(merged, config, Some(fresh_totals))?;
    analysis.notes.extend(plan.notes);

    let data_end = analysis
        .inputs
        .iter()
        .filter_map(|i| i.last.map(|t| t.utc))
        .chain(state.data_end)
        .max();
    let p = &config.params;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (mut seen, closed) = mark_incidents(&mut analysis, &state, data_end, now, p);

    // Kills counted once, in the run that first read them.
    let key = |k: &OomKill| (k.host.clone(), k.victim.pid, k.utc);
    analysis.totals.oom_kills = kills
        .iter()
        .filter(|k| !state.counted_kills.contains(&key(k)))
        .count() as u64;
    let mut counted = state.counted_kills.clone();
    counted.extend(kills.iter().map(key));

    // What the next run needs of all this.
    let open_start = seen
        .iter()
        .filter(|s| s.open)
        .map(|s| s.start - p.window - p.cooldown - 60)
        .min();
    let horizon = data_end
        .map(|d| d - RETAIN - p.gap - p.window - p.cooldown)
        .map(|h| open_start.map_or(h, |o| h.min(o)));
    if let Some(h) = horizon {
        seen.retain(|s| s.open || s.end >= h - RARE_SLACK);
        counted.retain(|(_, _, t)| *t >= h - RARE_SLACK);
    }
    seen.sort();
    let next = State {
        schema: SCHEMA.to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        runs: state.runs + 1,
        files,
        history: trim(keep, horizon, p.gap + p.window),
        horizon: horizon.max(state.horizon),
        data_end,
        seen,
        counted_kills: counted,
        outbox: state.outbox,
        last_detection: analysis.newest_detection().max(state.last_detection),
    };
    Ok((
        analysis,
        Pending {
            next,
            closed,
            path: path.to_path_buf(),
            _lock: lock,
        },
    ))
}

/// The new file states: those with nothing new, carried over, and those
/// read, taken up where this run stopped.
fn file_states(plan: &Plan, fresh: &Summary) -> Vec<FileState> {
    let mut files = plan.unchanged.clone();
    for (p, s) in plan.read.iter().zip(&fresh.inputs) {
        let Some(found) = &p.found else { continue };
        if s.open_error.is_some() {
            continue;
        }
        let offset = p.skip + s.consumed;
        let fp_len = found.head.len().min(offset as usize);
        files.push(FileState {
            path: s.display.clone(),
            dev: found.dev,
            ino: found.ino,
            size: found.size,
            mtime: found.mtime,
            compressed: found.compressed,
            offset,
            lines: p.first_line + s.tally.lines,
            fp_len: fp_len as u32,
            fp_hash: fnv1a(&found.head[..fp_len]),
            format: s.format,
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));

    files
}

/// The part of `s` the next run needs: seconds from `horizon` on (a host's
/// last hour of traffic before a silence also, so the silence can be found
/// once traffic returns), rare events a day longer, and the inputs they
/// come from, marked as history.
fn trim(mut s: Summary, horizon: Option<i64>, gap_lead: i64) -> Summary {
    s.errors.clear();
    if let Some(h) = horizon {
        let b = &mut s.buckets;
        for series in b.all_series_mut() {
            let last = series.span().map_or(h, |(_, last)| last);
            series.trim_before(h.min(last - 3600 - gap_lead));
        }
        b.drop_empty_series();
        // Local (zone-less) seconds may be up to 14 h off UTC.
        for series in b.local_series.values_mut() {
            series.trim_before(h - 14 * 3600);
        }
        b.local_series.retain(|_, s| s.requests() > 0);
        for series in b.local_routes.values_mut() {
            series.trim_before(h - 14 * 3600);
        }
        b.local_routes.retain(|_, s| s.requests() > 0);
        let rare = h - RARE_SLACK;
        b.oom.retain(|l| l.stamp.sort_key() >= rare);
        b.upstream.retain(|k, _| k.stamp.sort_key() >= rare);
        b.signals
            .retain(|k, _| k.stamp.is_none_or(|st| st.sort_key() >= rare));
    }
    // Keep only the inputs events still point at, renumbered.
    let mut used = vec![false; s.inputs.len()];
    for i in s.buckets.inputs_named() {
        if let Some(u) = used.get_mut(i as usize) {
            *u = true;
        }
    }
    let mut map = vec![u32::MAX; s.inputs.len()];
    let mut inputs = Vec::new();
    for (i, mut input) in std::mem::take(&mut s.inputs).into_iter().enumerate() {
        if !used[i] {
            continue;
        }
        map[i] = inputs.len() as u32;
        input.history = true;
        input.tally.samples.clear();
        input.tally.blocks.clear();
        input.tally.last_stamps.clear();
        inputs.push(input);
    }
    s.inputs = inputs;
    s.buckets.map_inputs(|i| map[i as usize]);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_stable() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn complete_end_stops_after_the_last_newline() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        std::fs::write(&p, b"one\ntwo\nthr").unwrap();
        assert_eq!(complete_end(&p, 0, 11, false).unwrap(), 8);
        assert_eq!(complete_end(&p, 8, 11, false).unwrap(), 8);
        assert_eq!(complete_end(&p, 0, 11, true).unwrap(), 11);
        assert_eq!(complete_end(&p, 4, 8, false).unwrap(), 8);
    }

    #[test]
    fn refuses_foreign_state() {
        assert!(State::from_json(b"{}")
            .unwrap_err()
            .contains("no \"schema\""));
        assert!(State::from_json(b"[1,2]").is_err());
        let e = State::from_json(b"{\"schema\":\"logburst-summary/1\"}").unwrap_err();
        assert!(e.contains("does not read"), "{e}");
        let ok = serde_json::to_vec(&State::default()).unwrap();
        assert_eq!(State::from_json(&ok).unwrap(), State::default());
    }
}
