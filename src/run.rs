//! The stage chain of a run, in one screen:
//!
//! ```text
//! read    inputs  → Summary      (pipeline: sources, chunks, formats, series; in parallel)
//! place   Summary → Placement    (zones and years for stamps that lack them, with notes)
//! detect  series  → Incident     (bursts, gaps, latency, OOM clusters)
//! explain all     → Analysis     (correlation, narration, suggestions, charts)
//! ```
//!
//! [`read`] owns the run's scoped thread pool: the thread count is passed
//! down from the [`Config`], and nothing else in the library starts
//! threads. [`finish`] is sequential.

use std::sync::{Arc, Mutex, PoisonError};

use rayon::prelude::*;

use crate::config::Config;
use crate::detect;
use crate::error::{ConfigError, Error, Result};
use crate::event::OomKill;
use crate::explain;
use crate::format::signals::Signals;
use crate::merge::{InOrder, Merge};
use crate::once;
use crate::pipeline::{self, ScanOptions};
use crate::place::Placement;
use crate::report::model::Analysis;
use crate::source::{self, Input};
use crate::summary::{Fresh, InputSummary, Summary};

/// Bytes on disk (or in object storage, as listed) of all inputs; `None`
/// when one is standard input.
fn total_size(inputs: &[Input]) -> Option<u64> {
    inputs.iter().try_fold(0u64, |acc, i| {
        let len = match &i.object {
            Some(o) => o.size,
            None => i
                .path
                .as_ref()
                .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))?,
        };
        Some(acc + len)
    })
}

/// One input a run would read, as [`list`] finds it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Listed {
    /// Its path or object URL; `-` for standard input.
    pub path: String,
    /// The host its requests count for (lines that name their own host
    /// keep theirs).
    pub host: String,
    /// Bytes on disk, or as the object listing gave them; `None` for
    /// standard input.
    pub bytes: Option<u64>,
    /// What finding it decided (keys the listing left out, other paths
    /// that were the same file, copies of it read once here): the notes a
    /// run's report gives this input.
    pub notes: Vec<String>,
}

/// What [`list`] finds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    /// The inputs [`read`] would read, in its order.
    pub inputs: Vec<Listed>,
    /// Those that cannot be read: (path, why).
    pub unreadable: Vec<(String, String)>,
}

/// The inputs [`read`] would read and those that cannot be: directories
/// walked, prefixes listed and pruned, copies found from their heads.
/// Nothing else is read.
pub fn list(config: &Config) -> Result<Listing> {
    if config.inputs.is_empty() {
        return Err(Error::NoInputs);
    }
    let (inputs, errors) = source::expand(&config.inputs, config.listing_span());
    let listed = once::copies(once::same_files(inputs))
        .into_iter()
        .map(|i| Listed {
            bytes: total_size(std::slice::from_ref(&i)),
            path: i.path.map_or_else(|| "-".into(), |_| i.display),
            host: i.host,
            notes: i.notes,
        })
        .collect();
    let unreadable = errors.into_iter().map(|e| (e.path, e.message)).collect();
    Ok(Listing {
        inputs: listed,
        unreadable,
    })
}

/// Runs the whole analysis.
pub fn analyze(config: &Config) -> Result<Analysis> {
    let summary = read(config)?;
    finish(summary, config)
}

/// Reads every input (in parallel, on `config.threads` workers) into a
/// [`Summary`]: the line accounting of each input and the merged buckets.
pub fn read(config: &Config) -> Result<Summary> {
    if config.inputs.is_empty() {
        return Err(Error::NoInputs);
    }
    let (inputs, errors) = source::expand(&config.inputs, config.listing_span());
    // An incremental run knows files by inode and content already; a run
    // over an archive must not count a rotated copy twice.
    let inputs = once::copies(once::same_files(inputs));
    read_inputs(config, &inputs, errors)
}

/// [`read`] over inputs already expanded (and, for an incremental run,
/// given where to take each up again).
pub fn read_inputs(
    config: &Config,
    inputs: &[Input],
    errors: Vec<source::InputError>,
) -> Result<Summary> {
    let threads = config.threads.unwrap_or(0);
    // Scoped: the workers are joined before this returns, so a caller that
    // runs many analyses (a service, the fuzz targets) never has threads of
    // an earlier one still winding down.
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_scoped(
            |worker| worker.run(),
            |pool| {
                let workers = pool.current_num_threads();
                pool.install(|| read_in_pool(config, inputs, errors, workers))
            },
        )
        .map_err(|e| Error::ThreadPool {
            threads,
            message: e.to_string(),
        })?
}

fn read_in_pool(
    config: &Config,
    inputs: &[Input],
    errors: Vec<source::InputError>,
    threads: usize,
) -> Result<Summary> {
    config.validate()?;
    let signals = Signals::new(&config.signals).map_err(ConfigError::Signal)?;
    let opts = ScanOptions {
        signals: Arc::new(signals),
        boot_time: config.boot_time,
        format: config.format,
        year: config.year,
        // A zone-less bound is placed once the logs' zone is known: until
        // then, keep every line it might admit (offsets lie within ±14 h).
        since: config
            .since
            .or(config.since_local.map(|n| n - crate::place::ZONE_SLACK)),
        until: config
            .until
            .or(config.until_local.map(|n| n + crate::place::ZONE_SLACK)),
        block_size: config.block_size.max(64),
        mmap: config.mmap,
        customs: config.customs.clone().into(),
        by_name: config.by_name.clone(),
        threads,
        errors: config.errors.unwrap_or_default(),
        max_hosts: config.max_hosts,
        decoder_memory: config.decoder_memory / threads.max(1) as u64,
        gzip: crate::source::ParallelGzip::new(threads),
    };
    let progress = config.progress.as_ref().map(|h| &*h.0);
    if let Some(p) = progress {
        p.begin(total_size(inputs));
    }
    // Inputs are read side by side but their results join the summary in
    // input order as they come (a result that comes early waits for those
    // before it): a run over 100,000 small files never holds them all.
    let gathered = Mutex::new(InOrder::new(Summary {
        errors,
        errors_counted: opts.errors,
        ..Summary::default()
    }));
    inputs
        .iter()
        .enumerate()
        .par_bridge()
        .for_each(|(i, input)| {
            let scan = pipeline::scan(i as u32, input, &opts, progress);
            let name = scan
                .format
                .map_or_else(|| "unknown".to_string(), |f| f.describe(&config.customs));
            let part = InputSummary::new(input, scan, name);
            gathered
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(i, part, |summary, (s, buckets)| {
                    summary.inputs.push(s);
                    summary.buckets.merge(buckets);
                    summary.buckets.cap_hosts(config.max_hosts);
                });
        });
    if let Some(p) = progress {
        p.end();
    }
    let summary = gathered
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .joined;
    Ok(summary)
}

/// Refuses an output path (`flag`: `--save-summary`, `--html`) that is not
/// the run's to write: something there that is not a regular file (a
/// device, a FIFO, a directory), or one of the run's inputs (the same file,
/// however reached), which the run would overwrite after reading it.
pub fn check_output(config: &Config, path: &std::path::Path, flag: &str) -> Result<()> {
    let Ok(m) = std::fs::metadata(path) else {
        return Ok(());
    };
    if !m.is_file() {
        return Err(Error::Refused(format!(
            "{flag} {}: it is {}; give a path for a new file or one of logburst's",
            path.display(),
            crate::limits::kind_of(&m)
        )));
    }
    let id = crate::once::file_id(path);
    // Objects are not written over by a local path: not listed here.
    let local: Vec<_> = config
        .inputs
        .iter()
        .filter(|s| s.url().is_none())
        .cloned()
        .collect();
    let (inputs, _) = source::expand(&local, (None, None));
    for input in &inputs {
        let Some(p) = &input.path else { continue };
        if id.is_some() && crate::once::file_id(p) == id {
            return Err(Error::Refused(format!(
                "{flag} {}: it is one of the inputs ({}); the run would write over a log it reads — give another path",
                path.display(),
                input.display
            )));
        }
    }
    Ok(())
}

/// Names the Kubernetes container of each kill whose cgroup names a
/// container whose log is among the inputs (the kubelet's
/// `…/containers/<pod>_<namespace>_<container>-<id>.log`).
fn name_containers(kills: &mut [crate::event::OomKill], inputs: &[crate::summary::InputSummary]) {
    let pods: std::collections::BTreeMap<String, String> = inputs
        .iter()
        .filter_map(|i| crate::hosts::kubernetes_container_id(std::path::Path::new(&i.display)))
        .collect();
    if pods.is_empty() {
        return;
    }
    for k in kills {
        let id = k
            .victim
            .cgroup
            .as_deref()
            .and_then(crate::hosts::container_id_of_cgroup);
        k.container = id.and_then(|id| pods.get(&id).cloned());
    }
}

/// Places, joins and detects over what was read: the analysis of a
/// summary (of this run, or merged from several).
pub fn finish(summary: Summary, config: &Config) -> Result<Analysis> {
    finish_with(summary, config, None).map(|(a, _)| a)
}

/// [`finish`], also giving every OOM kill placed. With `fresh` (an
/// incremental run, whose summary starts with `history` inputs), totals
/// count only what this run read.
pub fn finish_with(
    summary: Summary,
    config: &Config,
    fresh: Option<Fresh>,
) -> Result<(Analysis, Vec<OomKill>)> {
    config.validate()?;
    let Summary {
        inputs,
        errors,
        mut buckets,
        errors_counted,
        ..
    } = summary;
    if let Some(asked) = config.errors.filter(|e| *e != errors_counted) {
        return Err(Error::ErrorsDiffer {
            what: "the summaries",
            had: errors_counted.spec(),
            other: "this run",
            now: asked.spec(),
            fix: "leave --errors out to use theirs, or read the logs again with it",
        });
    }
    let mut placement = Placement::new(&mut buckets, &inputs, config);
    // Placed local-time series join the others: the cap holds for all.
    buckets.cap_hosts(config.max_hosts);
    let mut kills = detect::join_kills(placement.oom_lines(&buckets, &inputs));
    name_containers(&mut kills, &inputs);
    let signals = placement.signals(&buckets, &inputs);
    let memory: Vec<detect::MemorySignal> = signals
        .iter()
        .filter(|(_, k, _, _)| crate::format::signals::is_memory(&k.name))
        .map(|(t, k, _, _)| detect::MemorySignal {
            utc: t.utc,
            host: &k.host,
        })
        .collect();
    let (incidents, narrowed) = detect::detect_narrowed(&buckets, &kills, &memory, &config.params);
    for (i, b) in &narrowed {
        let host = i.hosts.first().map(String::as_str);
        let at = placement.placer.display_offset(host, i.start, None);
        let n = config.params.min_clients;
        let why = if b.clients < n {
            format!(
                "they went to {} distinct client{}, fewer than --min-clients {n}",
                b.clients,
                if b.clients == 1 { "" } else { "s" }
            )
        } else {
            format!(
                "{:.0} % of its 5xx beyond the normal share went to {} (--min-clients {n})",
                b.busiest_share.min(1.0) * 100.0,
                match n - 1 {
                    1 => "one client".to_string(),
                    k => format!("{k} clients"),
                }
            )
        };
        placement.notes.insert(format!(
            "a 5xx burst from {} on {} ({} 5xx) was left out: {why}",
            crate::time::human(i.start, at),
            i.hosts.join(", "),
            i.errors,
        ));
    }
    let failures = placement.failures(&buckets, &inputs);
    let evidence = explain::Evidence {
        buckets: &buckets,
        inputs: &inputs,
        expand_errors: errors,
        kills: &kills,
        failures: &failures,
        signals: &signals,
        fresh,
        errors_counted,
    };
    let analysis = explain::explain(&incidents, evidence, &mut placement, config);
    Ok((analysis, kills))
}
