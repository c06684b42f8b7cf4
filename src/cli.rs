//! Command-line arguments (clap derive) and their translation into a
//! library [`Config`].

use clap::{Parser, ValueEnum};

use logburst::args::{self, BurnWindow, Slo, Zone};
use logburst::{
    Config, Detector, Format, InputSpec, MapPolicy, Output, Params, DEFAULT_BLOCK_SIZE,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputArg {
    Text,
    Json,
    /// A postmortem draft per incident.
    Markdown,
    /// Requests and 5xx per host and minute.
    Csv,
    /// One self-contained page: chart, incidents, line accounting.
    Html,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DetectorArg {
    /// A window is bad when its 5xx share is well above the series' own
    /// normal (median share of the hour before): quiet services alert on
    /// their first real burst, noisy ones not on their noise.
    Baseline,
    /// A window is bad when its 5xx share is at least --min-ratio.
    Threshold,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MmapArg {
    /// Map plain files of 1 MiB or more not modified for a minute (never
    /// in cron mode, --state).
    Auto,
    /// Map every plain file (a file truncated meanwhile kills the run).
    Always,
    /// Always read.
    Never,
}

const AFTER_HELP: &str = "\
Paths: files, directories (walked recursively), - for standard input, or
HOST=PATH to say which host a log belongs to. gzip, zstd, bzip2 and xz files
(sniffed from their bytes) are read transparently. Without HOST=, an access
log's host is the nearest directory written in its path that is not a
generic name (log, nginx, archive…): archive/web-01/nginx/access.log.2.gz
belongs to web-01. Syslog lines name their own host. A file reached twice
is read once.

Summaries: each host runs `logburst --save-summary HOST.json PATHS…`; then
`logburst merge [OPTIONS] SUMMARY…` finds the fleet's incidents as if one run
had read every host's logs (see README, Scale-out).

Exit codes: 0 analysis done; 1 incidents found and --exit-code given;
2 bad usage, or an input could not be read at all; 3 an alert could not
be delivered (kept in the cron state for the next run).

Examples:
  logburst /srv/archive/web-*/                 forensics over an archive
  logburst --output json --exit-code /var/log/nginx/access.log /var/log/kern.log
  logburst --since '2023-02-02 06:00' --tz Africa/Nairobi web-01=access.log";

/// Turns server logs into an outage timeline: when the 5xx burst began, when
/// an alert would have fired, which OOM kill caused it, when it recovered.
#[derive(Debug, Parser)]
#[command(name = "logburst", version, about, after_help = AFTER_HELP)]
pub struct Args {
    /// Log files, directories, '-' (stdin) or HOST=PATH.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputArg::Text)]
    pub output: OutputArg,

    /// Also write the HTML page (chart, incidents, line accounting) to FILE,
    /// whatever --output prints.
    #[arg(long, value_name = "FILE")]
    pub html: Option<std::path::PathBuf>,

    /// Force a log format instead of detecting it per input (the names
    /// are listed below, from the format registry).
    #[arg(long, value_name = "NAME", value_parser = parse_format)]
    pub log_format: Option<Format>,

    /// A custom nginx log_format string, as written in nginx.conf after the
    /// format's name (may start with escape=json); repeatable.
    #[arg(long, value_name = "FORMAT")]
    pub nginx_log_format: Vec<String>,

    /// An nginx.conf (includes followed): its log_format directives are
    /// tried on every access log, and access_log lines fix the format of
    /// the files they name; repeatable.
    #[arg(long, value_name = "PATH")]
    pub nginx_conf: Vec<std::path::PathBuf>,

    /// An application or service signal to look for, NAME=REGEX, tried
    /// before the built-in ones (Java/Python/Node/Go/PHP/Rust/C++ OOM
    /// errors, killed workers, systemd-oomd, OOMKilled…); repeatable.
    #[arg(long, value_name = "NAME=REGEX", value_parser = args::signal)]
    pub signal: Vec<(String, String)>,

    /// Window W over which 5xx and requests are summed (e.g. 60s, 2m).
    #[arg(long, default_value = "60s", value_parser = args::parse_duration, value_name = "DURATION")]
    pub window: i64,

    /// A bad window holds at least this many 5xx.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub min_errors: u64,

    /// …and (--detector threshold) at least this share of its requests
    /// failed (0–1).
    #[arg(long, default_value_t = 0.05, value_parser = parse_ratio, value_name = "RATIO")]
    pub min_ratio: f64,

    /// Which rule makes a window bad (--min-errors applies to both).
    #[arg(long, value_enum, default_value_t = DetectorArg::Baseline)]
    pub detector: DetectorArg,

    /// A minute's p99 duration at or above this is a latency burst (or
    /// four times the host's normal p99, from 100 ms), for logs that give
    /// durations ($request_time, JSON durations, Envoy, HAProxy).
    #[arg(long, default_value = "1s", value_parser = args::parse_duration_ms, value_name = "DURATION")]
    pub slow: u64,

    /// The baseline rule's level: a healthy series' window looks bad with
    /// a chance of one minute in this span. Longer: fewer false alarms,
    /// later detection (docs/detection.md measures the trade-off).
    #[arg(long, default_value = "365d", value_parser = args::parse_duration, value_name = "DURATION")]
    pub false_alarm_every: i64,

    /// Leave out 5xx bursts whose 5xx went to fewer distinct clients than
    /// N, or half of whose 5xx beyond the normal share went to N − 1
    /// clients (one client retrying a failing URL, a crawler on a broken
    /// path); the notes list what was left out. Logs that name no clients are
    /// not filtered.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub min_clients: u64,

    /// Which response statuses count as errors (5xx by default): `+499`
    /// adds client-closed requests, `+429,-501` adds one code and removes
    /// another, `5xx,499` lists them. Where the report says 5xx it means
    /// these; the report and JSON record the set.
    #[arg(long, value_parser = logburst::ErrorSet::parse, value_name = "STATUSES", allow_hyphen_values = true)]
    pub errors: Option<logburst::ErrorSet>,

    /// Hosts that get a series of their own (the first N host names in
    /// sorted order); the requests of the others are counted together as
    /// "(other hosts)", with a warning. Totals stay exact. Bounds memory
    /// when logs name hosts by the hundred thousand.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub max_hosts: usize,

    /// The most a summary (merge) or cron state may hold once
    /// decompressed; larger ones are refused before they fill memory.
    #[arg(long, default_value = "128M", value_parser = args::size, value_name = "SIZE")]
    pub max_summary_size: u64,

    /// The memory the run's decoders of compressed logs may use together,
    /// each its share of the -j threads (xz's dictionary, zstd's window);
    /// an archive that needs more is not read, and the run says so.
    #[arg(long, default_value = "192M", value_parser = args::size, value_name = "SIZE")]
    pub decoder_memory: u64,

    /// SLO mode: 5xx bursts are multiwindow burn-rate alerts of this
    /// availability target in percent (99.9), on the whole service.
    #[arg(long, value_name = "PERCENT")]
    pub slo: Option<f64>,

    /// SLO mode's alerts, LONG/SHORT/FACTOR each (default: the SRE
    /// Workbook's 1h/5m/14.4,6h/30m/6,3d/6h/1).
    #[arg(long, value_name = "LIST", requires = "slo")]
    pub slo_windows: Option<String>,

    /// Bad seconds closer than this belong to one incident.
    #[arg(long, default_value = "5m", value_parser = args::parse_duration, value_name = "DURATION")]
    pub cooldown: i64,

    /// Shortest silence of a busy host reported as a traffic gap.
    #[arg(long, default_value = "5m", value_parser = args::parse_duration, value_name = "DURATION")]
    pub gap: i64,

    /// Only what happened at or after this time: RFC 3339, or
    /// 'YYYY-MM-DD HH:MM[:SS]' read in --display-tz, else --tz, else the
    /// logs' zone (the report echoes the instant used).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only what happened before this time.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// The zone of logs that write none (RFC 3164 syslog, HAProxy, nginx
    /// error, application logs): +03:00, UTC or an IANA name. Times are
    /// also shown in it unless --display-tz is given. Not for choosing how
    /// times are shown: that is --display-tz.
    #[arg(long, value_parser = Zone::parse, value_name = "ZONE")]
    pub tz: Option<Zone>,

    /// Show every time in this zone (+03:00, UTC or an IANA name) without
    /// changing how any log is read; zone-less --since, --until and
    /// --reported-at are read in it. Default: --tz, else each log's own
    /// offset.
    #[arg(long, value_parser = Zone::parse, value_name = "ZONE")]
    pub display_tz: Option<Zone>,

    /// Year for logs that write none (RFC 3164 syslog).
    #[arg(long, value_parser = clap::value_parser!(i64).range(1970..=9999), value_name = "YYYY")]
    pub year: Option<i64>,

    /// When the host booted, for raw dmesg lines stamped with seconds since
    /// boot ([  518.050606]): RFC 3339 or YYYY-MM-DD HH:MM[:SS] in --tz.
    #[arg(long, value_name = "TIME")]
    pub boot_time: Option<String>,

    /// Worker threads (default: one per core).
    #[arg(short = 'j', long, value_parser = clap::value_parser!(u16).range(1..=1024), value_name = "N")]
    pub threads: Option<u16>,

    /// Exit with code 1 when an incident is found (for cron and CI).
    #[arg(long)]
    pub exit_code: bool,

    /// When the first customer report (or page) came: the Markdown draft
    /// compares it with the log-based detection.
    #[arg(long, value_name = "TIME")]
    pub reported_at: Option<String>,

    /// Draw the text report's charts in plain ASCII.
    #[arg(long)]
    pub ascii: bool,

    /// Print nothing on stderr but errors.
    #[arg(short, long)]
    pub quiet: bool,

    /// Memory-map plain files instead of reading them (see README, Speed).
    /// A mapped file truncated while it is read ends the run with a message
    /// naming it (exit 2); `auto` maps only files that look settled.
    #[arg(long, value_enum, default_value_t = MmapArg::Auto, value_name = "WHEN")]
    pub mmap: MmapArg,

    /// Also write what was read (buckets, rare events, line accounting) as
    /// a summary that `logburst merge` combines with other hosts' (JSON;
    /// zstd or gzip when FILE ends in .zst or .gz).
    #[arg(long, value_name = "FILE")]
    pub save_summary: Option<std::path::PathBuf>,

    /// Cron mode: read only what is new since the run that wrote FILE,
    /// report only incidents that are new or were open then, and update
    /// FILE (see README, Cron).
    #[arg(long, value_name = "FILE", conflicts_with = "save_summary")]
    pub state: Option<std::path::PathBuf>,

    /// With --state: forget the state and start over, reading every input
    /// from its beginning.
    #[arg(long, requires = "state")]
    pub reset_state: bool,

    /// Print the inputs a run would read, one JSON object a line (path,
    /// host, bytes, notes: what the listing left out, copies read once;
    /// path and error for one that cannot be read), and exit without
    /// reading them: directories walked, prefixes listed and pruned by
    /// --since/--until, copies found (for a batch engine's driver, see
    /// README, Scale-out).
    #[arg(long, conflicts_with_all = ["save_summary", "state"])]
    pub list_inputs: bool,

    #[command(flatten)]
    pub alerts: crate::alerting::AlertArgs,

    /// Block size for parallel parsing (testing aid).
    #[arg(long, hide = true, default_value_t = DEFAULT_BLOCK_SIZE)]
    pub block_size: usize,

    /// `logburst merge`: a pre-aggregated series to analyse with the
    /// summaries, as an SQL engine's GROUP BY writes it: CSV with a header,
    /// host,time,requests,errors and optional status_NNN columns, per second
    /// or per minute; '-' reads standard input (see README, Scale-out).
    #[arg(long, value_name = "FILE")]
    pub series: Vec<std::path::PathBuf>,

    /// `logburst merge`: the paths are summaries.
    #[arg(skip)]
    pub merge: bool,
}

#[derive(Default)]
struct NginxFormats {
    customs: Vec<args::LogFormat>,
    by_name: Vec<(String, Format)>,
    warnings: Vec<String>,
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        format!("unknown log format '{s}'; known: {}", names.join(", "))
    })
}

fn parse_ratio(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if !(0.0..=1.0).contains(&v) {
        return Err(format!("{v} is not between 0 and 1 (5% is 0.05)"));
    }
    Ok(v)
}

impl Args {
    pub fn output(&self) -> Output {
        match self.output {
            OutputArg::Text => Output::Text,
            OutputArg::Json => Output::Json,
            OutputArg::Csv => Output::Csv,
            OutputArg::Markdown => Output::Markdown,
            OutputArg::Html => Output::Html,
        }
    }

    /// The custom formats and the formats fixed by file name, with warnings
    /// about what in the configurations could not be used.
    fn nginx_formats(&self) -> Result<NginxFormats, String> {
        let mut out = NginxFormats::default();
        for (i, arg) in self.nginx_log_format.iter().enumerate() {
            let name = if i == 0 {
                "custom".to_string()
            } else {
                format!("custom-{}", i + 1)
            };
            let f = args::nginx_format(&name, arg)
                .map_err(|e| format!("--nginx-log-format '{arg}': {e}"))?;
            out.customs.push(f);
        }
        for path in &self.nginx_conf {
            let (conf, warnings) =
                args::nginx_conf(path).map_err(|e| format!("--nginx-conf: {e}"))?;
            out.warnings.extend(warnings);
            for cf in &conf.formats {
                match args::LogFormat::compile(&cf.name, &cf.spec, cf.escape) {
                    Ok(f) => out.customs.push(f),
                    Err(e) => out.warnings.push(format!(
                        "{}: log_format {} cannot be read for bursts: {e}",
                        path.display(),
                        cf.name
                    )),
                }
            }
            for (log, name) in &conf.access_logs {
                let Some(base) = std::path::Path::new(log)
                    .file_name()
                    .and_then(|b| b.to_str())
                else {
                    continue;
                };
                let format = match out.customs.iter().rposition(|f| &f.name == name) {
                    Some(i) => Format::Custom(i as u16),
                    None if name == "combined" => Format::Combined,
                    None => {
                        out.warnings.push(format!(
                            "{}: access_log {log} uses log_format {name}, which is not readable here; the file's format will be detected",
                            path.display()
                        ));
                        continue;
                    }
                };
                out.by_name.push((base.to_string(), format));
            }
        }
        if out.customs.len() > usize::from(u16::MAX) {
            return Err("too many custom log formats".into());
        }
        Ok(out)
    }

    /// The zone a zone-less instant flag is read in when the command line
    /// names one: `--display-tz`, else `--tz`.
    fn instant_zone(&self) -> Option<(Zone, &'static str)> {
        self.display_tz
            .map(|z| (z, "--display-tz"))
            .or_else(|| self.tz.map(|z| (z, "--tz")))
    }

    /// An instant flag (RFC 3339, or a zone-less time read in `--tz`).
    fn instant(&self, arg: &Option<String>, flag: &str) -> Result<Option<i64>, String> {
        arg.as_deref()
            .map(|s| args::parse_instant(s, self.tz.as_ref()))
            .transpose()
            .map_err(|e| format!("{flag}: {e}"))
    }

    /// An instant flag a reader gives in the zone times are shown in
    /// (`--since`, `--until`, `--reported-at`), parsed once: UTC when it
    /// gives its offset or the command line names the display zone
    /// (first; a note echoes the instant used), else naive seconds to read
    /// in the logs' zone once they are read (second).
    fn shown_instant(
        &self,
        arg: &Option<String>,
        flag: &str,
        notes: &mut Vec<String>,
    ) -> Result<(Option<i64>, Option<i64>), String> {
        let Some(s) = arg else {
            return Ok((None, None));
        };
        let (n, zoned) = args::parse_instant_parts(s).map_err(|e| format!("{flag}: {e}"))?;
        Ok(match (zoned, self.instant_zone()) {
            (true, _) => (Some(n), None),
            (false, Some((z, from))) => {
                let utc = z.to_utc(n);
                notes.push(format!(
                    "{flag} {} has no zone: read in {from} {}, as {}",
                    s.trim(),
                    z.name(),
                    args::rfc3339(utc, z.offset_at(utc))
                ));
                (Some(utc), None)
            }
            (false, None) => (None, Some(n)),
        })
    }

    /// The flags that only matter while logs are read, given to `merge`.
    pub fn read_only_flags(&self) -> Vec<&'static str> {
        let mut given = Vec::new();
        let flags: [(&'static str, bool); 10] = [
            ("--log-format", self.log_format.is_some()),
            ("--nginx-log-format", !self.nginx_log_format.is_empty()),
            ("--nginx-conf", !self.nginx_conf.is_empty()),
            ("--signal", !self.signal.is_empty()),
            ("--year", self.year.is_some()),
            ("--boot-time", self.boot_time.is_some()),
            ("--save-summary", self.save_summary.is_some()),
            ("--mmap", self.mmap != MmapArg::Auto),
            ("--state", self.state.is_some()),
            ("--list-inputs", self.list_inputs),
        ];
        for (name, set) in flags {
            if set {
                given.push(name);
            }
        }
        given
    }

    pub fn config(&self) -> Result<(Config, Vec<String>), String> {
        let nginx = self.nginx_formats()?;
        let mut notes = Vec::new();
        let (since, since_local) = self.shown_instant(&self.since, "--since", &mut notes)?;
        let (until, until_local) = self.shown_instant(&self.until, "--until", &mut notes)?;
        let boot_time = self.instant(&self.boot_time, "--boot-time")?;
        let (reported_at, reported_at_local) =
            self.shown_instant(&self.reported_at, "--reported-at", &mut notes)?;
        // Both placed or both zone-less: comparable as they are (one of
        // each is compared once the logs' zone places the zone-less one).
        for pair in [(since, until), (since_local, until_local)] {
            if let (Some(a), Some(b)) = pair {
                if a >= b {
                    return Err("--since must be before --until".into());
                }
            }
        }
        Ok((
            Config {
                inputs: self.paths.iter().map(|p| InputSpec::parse(p)).collect(),
                format: self.log_format,
                params: Params {
                    window: self.window,
                    min_errors: self.min_errors,
                    min_ratio: self.min_ratio,
                    detector: match self.detector {
                        DetectorArg::Baseline => Detector::Baseline,
                        DetectorArg::Threshold => Detector::Threshold,
                    },
                    slow_ms: self.slow,
                    alarm_every: self.false_alarm_every,
                    min_clients: self.min_clients,
                    slo: match self.slo {
                        Some(pct) => {
                            let windows: Vec<BurnWindow> = match &self.slo_windows {
                                Some(w) => args::slo_windows(w)
                                    .map_err(|e| format!("--slo-windows: {e}"))?,
                                None => args::DEFAULT_WINDOWS.to_vec(),
                            };
                            Some(
                                Slo::new(pct / 100.0, &windows)
                                    .map_err(|e| format!("--slo: {e}"))?,
                            )
                        }
                        None => None,
                    },
                    cooldown: self.cooldown,
                    gap: self.gap,
                },
                since,
                until,
                since_local,
                until_local,
                tz: self.tz,
                display_tz: self.display_tz,
                year: self.year,
                threads: self.threads.map(usize::from),
                block_size: self.block_size,
                signals: self.signal.clone(),
                boot_time,
                customs: nginx.customs,
                by_name: nginx.by_name,
                mmap: match self.mmap {
                    MmapArg::Auto => MapPolicy::Auto,
                    MmapArg::Always => MapPolicy::Always,
                    MmapArg::Never => MapPolicy::Never,
                },
                progress: None,
                minutes: self.output == OutputArg::Csv,
                overview: self.output == OutputArg::Html || self.html.is_some(),
                reported_at,
                reported_at_local,
                notes,
                errors: self.errors,
                max_hosts: self.max_hosts,
                max_summary_size: self.max_summary_size,
                decoder_memory: self.decoder_memory,
            },
            nginx.warnings,
        ))
    }
}

/// What `logburst merge --help` says.
const MERGE_ABOUT: &str = "\
Finds the fleet's incidents in summaries: each host runs `logburst
--save-summary HOST.json PATHS…` over its own logs, and `logburst merge`
analyses all the summaries as if one run had read every host's logs (see
README, Scale-out). The analysis options are those of the main command;
the options that only matter while logs are read (--log-format,
--nginx-log-format, --nginx-conf, --signal, --year, --boot-time, --mmap,
--save-summary, --state) belong to the runs that write the summaries.";

/// Options that only apply while logs are read, hidden from `merge`.
const READ_ONLY: [&str; 11] = [
    "log_format",
    "nginx_log_format",
    "nginx_conf",
    "signal",
    "year",
    "boot_time",
    "save_summary",
    "mmap",
    "state",
    "reset_state",
    "list_inputs",
];

impl Args {
    /// Parses the command line: the main command over logs, or `logburst
    /// merge` over summaries (`logburst help merge` and `logburst merge
    /// --help` give its help), with `--log-format`'s long help taken from
    /// the format registry.
    pub fn parse_with_formats(mut argv: Vec<std::ffi::OsString>) -> Args {
        use clap::{CommandFactory, FromArgMatches};
        let mut cmd = Args::command().mut_arg("log_format", |a| {
            a.long_help(format!(
                "Force a log format instead of detecting it per input:{}",
                Format::help()
            ))
        });
        let word = |i: usize| argv.get(i).and_then(|a| a.to_str()).map(str::to_owned);
        let merge = match (word(1).as_deref(), word(2).as_deref()) {
            (Some("merge"), _) => true,
            (Some("help"), Some("merge")) => {
                argv = vec!["logburst".into(), "merge".into(), "--help".into()];
                true
            }
            (Some("help"), None) => {
                argv = vec!["logburst".into(), "--help".into()];
                false
            }
            _ => false,
        };
        if merge {
            argv.remove(1);
            cmd = merge_command(cmd);
        } else {
            cmd = cmd.mut_arg("series", |a| a.hide(true));
        }
        let matches = cmd.get_matches_from(argv);
        let mut args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        args.merge = merge;
        args
    }
}

/// The main command turned into `logburst merge`: summaries for paths, its
/// own usage and help, the read-only options hidden.
fn merge_command(cmd: clap::Command) -> clap::Command {
    let mut cmd = cmd
        .name("logburst merge")
        .bin_name("logburst merge")
        .about("Finds the fleet's incidents in summaries written by --save-summary")
        .long_about(MERGE_ABOUT)
        .after_help("Examples:\n  logburst merge web-*.json.zst\n  logburst merge --output markdown --reported-at '2023-02-02 07:08' summaries/*.json\n  logburst --save-summary - /var/log/nginx | ssh ops logburst merge - other-hosts/*.json\n  duckdb -csv -c \"$(cat per-second.sql)\" | logburst merge --series -")
        .mut_arg("paths", |a| {
            a.value_name("SUMMARY")
                .required(false)
                .help("Summaries written by --save-summary (JSON; .zst and .gz compressed); '-' reads one from standard input")
        });
    for id in READ_ONLY {
        cmd = cmd.mut_arg(id, |a| a.hide(true));
    }
    cmd
}
