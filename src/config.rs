//! What a run is asked to do: the [`Config`] the binary (or a library
//! caller) builds, checked once by [`Config::validate`] before any input is
//! read.

use std::sync::Arc;

use crate::chunk::DEFAULT_BLOCK_SIZE;
use crate::detect::Params;
use crate::error::ConfigError;
use crate::errors::ErrorSet;
use crate::format::nginx::LogFormat;
use crate::format::signals::Signals;
use crate::format::{Customs, Format};
use crate::progress::ProgressHook;
use crate::source::{InputSpec, MapPolicy};
use crate::time::Zone;

/// Everything a run needs to know.
#[derive(Clone, Debug)]
pub struct Config {
    /// What to read: files, directories, globs' results, `-` for stdin,
    /// each with the host it is from when given (`HOST=PATH`).
    pub inputs: Vec<InputSpec>,
    /// Forces a format for every input instead of detecting it.
    pub format: Option<Format>,
    /// Detection thresholds and windows (`docs/detection.md`).
    pub params: Params,
    /// Only lines at or after this UTC second (`--since`).
    pub since: Option<i64>,
    /// Only lines before this UTC second (`--until`).
    pub until: Option<i64>,
    /// `--since` written without a zone and neither `--tz` nor
    /// `--display-tz`: naive seconds, read in the zone of the logs once
    /// they are read (and said so); reading keeps 15 h either side.
    pub since_local: Option<i64>,
    /// See `since_local`.
    pub until_local: Option<i64>,
    /// The zone of stamps written without one (`--tz`); `None` to infer it
    /// from the other inputs of the host, or take UTC and say so.
    pub tz: Option<Zone>,
    /// The zone times are shown in (`--display-tz`); `None` for `--tz`,
    /// else each log's own offset.
    pub display_tz: Option<Zone>,
    /// The year of stamps written without one (`--year`); `None` to infer
    /// it from the file's modification time and say so.
    pub year: Option<i64>,
    /// Worker threads; `None` for one per core.
    pub threads: Option<usize>,
    /// Bytes per parallel block (`--block-size`), at least 64 KiB.
    pub block_size: usize,
    /// Custom nginx formats (`--nginx-log-format`, `--nginx-conf`).
    pub customs: Vec<LogFormat>,
    /// Formats fixed by file name, from nginx.conf's `access_log` lines.
    pub by_name: Vec<(String, Format)>,
    /// `--boot-time` (UTC): when the kernel whose raw dmesg is read booted.
    pub boot_time: Option<i64>,
    /// The user's own signals (`--signal NAME=REGEX`), tried before the
    /// built-in table.
    pub signals: Vec<(String, String)>,
    /// When plain files are memory-mapped rather than read.
    pub mmap: MapPolicy,
    /// Told how many bytes were read, as they are.
    pub progress: Option<ProgressHook>,
    /// Also give per-host, per-minute counts ([`crate::Analysis::minutes`]).
    pub minutes: bool,
    /// Also give every host's traffic over the whole span
    /// ([`crate::Analysis::overview`], for the HTML page).
    pub overview: bool,
    /// When the first customer report came (`--reported-at`).
    pub reported_at: Option<i64>,
    /// `--reported-at` written without a zone, and neither `--tz` nor
    /// `--display-tz`: naive seconds,
    /// read in the zone of the logs once they are read (and said so).
    pub reported_at_local: Option<i64>,
    /// What the command line left to assumption (an instant without a
    /// zone read as UTC…), for the report's notes.
    pub notes: Vec<String>,
    /// The statuses counted as errors (`--errors`); `None`: 5xx when
    /// reading logs, what the summaries or state counted when merging.
    pub errors: Option<ErrorSet>,
    /// Hosts with a series of their own (`--max-hosts`); the requests of
    /// the others are counted together as `(other hosts)`.
    pub max_hosts: usize,
    /// The most bytes of a summary or state read, decompressed
    /// (`--max-summary-size`).
    pub max_summary_size: u64,
    /// What the run's concurrent decoders may use together
    /// (`--decoder-memory`): each gets its share of the threads.
    pub decoder_memory: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            inputs: Vec::new(),
            format: None,
            params: Params::default(),
            since: None,
            until: None,
            since_local: None,
            until_local: None,
            tz: None,
            display_tz: None,
            year: None,
            threads: None,
            block_size: DEFAULT_BLOCK_SIZE,
            customs: Vec::new(),
            by_name: Vec::new(),
            signals: Vec::new(),
            boot_time: None,
            mmap: MapPolicy::Never,
            progress: None,
            minutes: false,
            overview: false,
            reported_at: None,
            reported_at_local: None,
            notes: Vec::new(),
            errors: None,
            max_hosts: crate::bucket::MAX_HOSTS,
            max_summary_size: crate::limits::READ_LIMIT,
            decoder_memory: crate::source::DECODER_MEMORY,
        }
    }
}

impl Config {
    /// `--since` / `--until` in UTC seconds as far as known before the logs
    /// are read (a naive time, by itself: the day's slack a listing is
    /// pruned with covers any zone), for pruning object listings.
    pub fn listing_span(&self) -> (Option<i64>, Option<i64>) {
        (
            self.since.or(self.since_local),
            self.until.or(self.until_local),
        )
    }

    /// Checks what the stages need of the configuration: positive windows.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let p = &self.params;
        if p.window <= 0 || p.cooldown <= 0 || p.gap <= 0 {
            return Err(ConfigError::NonPositiveSpan);
        }
        if self.max_hosts == 0 {
            return Err(ConfigError::NoHosts);
        }
        if self.inputs.iter().filter(|i| i.path.is_none()).count() > 1 {
            return Err(ConfigError::StdinTwice);
        }
        Ok(())
    }
}

/// What the read stage needs to know besides the input: the [`Config`]
/// resolved once (the signal table compiled, the thread count fixed).
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// The format forced for every input, if any.
    pub format: Option<Format>,
    /// The year of stamps without one, if given.
    pub year: Option<i64>,
    /// Requests outside `since..until` (UTC seconds) are not counted.
    pub since: Option<i64>,
    /// See `since`.
    pub until: Option<i64>,
    /// Bytes per parallel block.
    pub block_size: usize,
    /// When plain files are memory-mapped.
    pub mmap: MapPolicy,
    /// Custom nginx formats, tried before the stock ones.
    pub customs: Customs,
    /// The signal table (built-in and `--signal`).
    pub signals: Arc<Signals>,
    /// `--boot-time` (UTC): places raw dmesg uptime stamps.
    pub boot_time: Option<i64>,
    /// Formats fixed by file name (`access_log PATH NAME` in nginx.conf):
    /// a file whose name is the base name, or it followed by a rotation
    /// suffix (`.1`, `.2.gz`, `-20230202`), is read with that format.
    pub by_name: Vec<(String, Format)>,
    /// Worker threads of the run's pool (each holds at most one block).
    pub threads: usize,
    /// The statuses counted as errors.
    pub errors: ErrorSet,
    /// Hosts with a series of their own; the others are folded.
    pub max_hosts: usize,
    /// What one decoder may use: `--decoder-memory` over the threads.
    pub decoder_memory: u64,
    /// Large local gzip files are decoded on the run's cores (with one
    /// thread, only BGZF files, a member at a time in the reading thread).
    pub gzip: Option<crate::source::ParallelGzip>,
}

impl ScanOptions {
    /// A UTC second outside `--since`/`--until`.
    #[inline]
    pub(crate) fn outside(&self, utc: i64) -> bool {
        self.since.is_some_and(|s| utc < s) || self.until.is_some_and(|u| utc >= u)
    }
}
