//! The logburst binary: parses arguments, runs the library, renders, and maps
//! the outcome to an exit code (0 done, 1 incidents with --exit-code, 2 bad
//! usage or an unreadable input, 3 an alert not delivered).

mod alerting;
mod bar;
mod cli;

use std::io::{self, Write};
use std::process::ExitCode;

use logburst::{render, Output, Summary};

fn main() -> ExitCode {
    // `logburst merge SUMMARY…` is the main command over summaries instead
    // of logs; cli.rs gives it its own usage and help.
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let args = cli::Args::parse_with_formats(argv);
    #[cfg(unix)]
    if args.mmap != cli::MmapArg::Never {
        bus_error::catch();
    }
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            // The outermost message only: the library's errors already
            // say what their source (an io::Error) means, in plain words.
            eprintln!("logburst: {e}");
            ExitCode::from(2)
        }
    }
}

/// `--list-inputs`: one JSON object a line for each input a run would
/// read, then one (`path`, `error`) for each that cannot be, exit 2.
fn list_inputs(config: &logburst::Config) -> anyhow::Result<ExitCode> {
    let logburst::Listing {
        inputs: listed,
        unreadable: errors,
    } = logburst::list_inputs(config)?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    for l in &listed {
        serde_json::to_writer(&mut out, l)?;
        out.write_all(b"\n")?;
    }
    // The inputs that cannot be read, too: a driver hands them out like
    // the others, so that the merged report names them as a run's does.
    for (path, why) in &errors {
        serde_json::to_writer(&mut out, &serde_json::json!({"path": path, "error": why}))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    for (path, why) in &errors {
        eprintln!(
            "logburst: cannot read {}: {}",
            logburst::escape_terminal(path),
            logburst::escape_terminal(why)
        );
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// `logburst merge`: the analysis of the summaries given.
fn merge(args: &cli::Args, config: &logburst::Config) -> anyhow::Result<logburst::Analysis> {
    let given = args.read_only_flags();
    if !given.is_empty() {
        let verb = if given.len() == 1 { "applies" } else { "apply" };
        anyhow::bail!(
            "merge: {} {verb} only while logs are read; give it to the runs that write the summaries",
            given.join(", ")
        );
    }
    if args.paths.is_empty() && args.series.is_empty() {
        anyhow::bail!("merge: give the summaries to merge, or --series FILE");
    }
    let stdin = args.paths.iter().filter(|p| *p == "-").count()
        + args.series.iter().filter(|p| p.as_os_str() == "-").count();
    if stdin > 1 {
        anyhow::bail!("merge: standard input (-) given twice: it holds one summary or series");
    }
    let mut merged = Summary::merge_files(&args.paths, args.max_summary_size)?;
    for path in &args.series {
        merged = merged.merge(logburst::read_series(path, args.max_summary_size)?)?;
    }
    Ok(logburst::finish(merged, config)?)
}

/// The analysis the arguments ask for (of logs, summaries or a cron
/// state), with the summary saved when asked; outputs are checked first.
fn analyse(
    args: &cli::Args,
    config: &logburst::Config,
    summary_to_stdout: bool,
) -> anyhow::Result<(logburst::Analysis, Option<logburst::Pending>)> {
    // Outputs never write over an input, a device or a directory.
    if let Some(p) = args
        .save_summary
        .as_deref()
        .filter(|p| *p != std::path::Path::new("-"))
    {
        logburst::check_output(config, p, "--save-summary")?;
    }
    if let Some(p) = &args.html {
        logburst::check_output(config, p, "--html")?;
    }
    if let Some(p) = &args.alerts.prom {
        logburst::check_output(config, p, "--prom")?;
    }
    let mut pending = None;
    if !args.merge && !args.series.is_empty() {
        anyhow::bail!("--series is read by `logburst merge --series FILE`");
    }
    let analysis = if args.merge {
        merge(args, config)?
    } else if let Some(path) = &args.state {
        let (a, next) = logburst::run_incremental(config, path, args.reset_state)?;
        pending = Some(next);
        a
    } else {
        let summary = logburst::read(config)?;
        match &args.save_summary {
            Some(_) if summary_to_stdout => summary.write_json(io::stdout().lock())?,
            Some(p) => summary.save(p)?,
            None => {}
        }
        logburst::finish(summary, config)?
    };
    Ok((analysis, pending))
}

fn run(args: &cli::Args) -> anyhow::Result<ExitCode> {
    let (mut config, warnings) = args.config().map_err(anyhow::Error::msg)?;
    if !args.quiet {
        for w in warnings {
            eprintln!("logburst: warning: {}", logburst::escape_terminal(&w));
        }
    }
    if args.list_inputs {
        return list_inputs(&config);
    }
    config.progress = bar::hook(args.quiet);
    let started = std::time::Instant::now();
    let targets = args
        .alerts
        .targets(args.html.as_deref(), |v| std::env::var(v).ok())
        .map_err(anyhow::Error::msg)?;
    let summary_to_stdout = args.save_summary.as_deref() == Some(std::path::Path::new("-"));
    let (mut analysis, mut pending) = analyse(args, &config, summary_to_stdout)?;

    // Alerts leave before the report is written, so it can say which did
    // not; what did not is kept in the state, saved below.
    let delivery = alerting::stage(
        &targets,
        args.alerts.prom.as_deref(),
        &mut analysis,
        pending.as_mut(),
        started,
    )?;

    if let Some(path) = &args.html {
        let mut page = Vec::new();
        render::html::render(&analysis, &mut page)?;
        std::fs::write(path, page)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }

    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    // `--save-summary -`: standard output holds the summary, not a report.
    let written = match args.output() {
        _ if summary_to_stdout => Ok(()),
        Output::Text => {
            use std::io::IsTerminal;
            let style = render::text::Style {
                ascii: args.ascii,
                color: render::text::Style::color_for(
                    io::stdout().is_terminal(),
                    std::env::var_os("NO_COLOR").as_deref(),
                ),
            };
            render::text::render_with(&analysis, &mut out, style)
        }
        Output::Json => render::json::render(&analysis, &mut out),
        Output::Csv => render::csv::render(&analysis, &mut out),
        Output::Markdown => render::markdown::render(&analysis, &mut out),
        Output::Html => render::html::render(&analysis, &mut out),
    }
    .and_then(|_| out.flush());
    if let Err(e) = written {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return Ok(ExitCode::SUCCESS);
        }
        return Err(e.into());
    }

    // The state moves on only once the report is out.
    if let Some(next) = pending {
        next.commit()?;
    }

    let mut failed = false;
    for i in analysis.failed_inputs() {
        failed = true;
        eprintln!(
            "logburst: cannot read {}: {}",
            logburst::escape_terminal(&i.path),
            logburst::escape_terminal(i.error.as_deref().unwrap_or(""))
        );
    }
    if !args.quiet {
        for w in &analysis.warnings {
            eprintln!("logburst: warning: {}", logburst::escape_terminal(w));
        }
        for i in &analysis.inputs {
            for w in &i.warnings {
                eprintln!(
                    "logburst: warning: {}: {}",
                    logburst::escape_terminal(&i.path),
                    logburst::escape_terminal(w)
                );
            }
        }
    }
    Ok(if failed {
        ExitCode::from(2)
    } else if !delivery.failures.is_empty() {
        ExitCode::from(3)
    } else if args.exit_code
        && if args.state.is_some() {
            analysis.found_new()
        } else {
            !analysis.incidents.is_empty()
        }
    {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A mapped input truncated by another process while it is read raises
/// SIGBUS at the next access past its new end. Instead of dying with "Bus
/// error", say which file it was and what to do, and exit 2 (an input
/// could not be read) before anything is reported or any state written.
#[cfg(unix)]
mod bus_error {
    /// Installs the handler.
    pub fn catch() {
        // SAFETY: a plain sigaction call with a zeroed, then filled, struct;
        // the handler only does what a signal handler may (see below).
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = handler as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(libc::SIGBUS, &sa, std::ptr::null_mut());
        }
    }

    /// Async-signal-safe: looks the address up in atomics, then `write`
    /// and `_exit`. A SIGBUS outside every mapped input gets the default
    /// action back and happens again on return.
    extern "C" fn handler(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
        let addr = unsafe { (*info).si_addr() } as usize;
        let mut buf = [0u8; 4096];
        let Some(n) = logburst::mapped_input(addr, &mut buf) else {
            // SAFETY: restores the default action; the fault recurs on return.
            unsafe { libc::signal(libc::SIGBUS, libc::SIG_DFL) };
            return;
        };
        let say = |b: &[u8]| {
            // SAFETY: write(2) from a valid slice; its result is moot here.
            unsafe { libc::write(2, b.as_ptr().cast(), b.len()) };
        };
        say(b"logburst: ");
        say(&buf[..n]);
        say(b": the file shrank while it was read (truncated by log rotation?); nothing was reported. Run again, or with --mmap never to read files instead of mapping them\n");
        // SAFETY: ends the process at once, as a signal handler may.
        unsafe { libc::_exit(2) };
    }
}
