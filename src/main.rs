//! The logburst binary: parses arguments, runs the library, renders, and maps
//! the outcome to an exit code (0 done, 1 incidents with --exit-code, 2 bad
//! usage or an unreadable input).

mod bar;
mod cli;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use logburst::report::{self, Output};

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("logburst: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &cli::Args) -> anyhow::Result<ExitCode> {
    let (mut config, warnings) = args.config().map_err(anyhow::Error::msg)?;
    if !args.quiet {
        for w in warnings {
            eprintln!("logburst: warning: {}", report::terminal_safe(&w));
        }
    }
    config.progress = bar::hook(args.quiet);
    let analysis = logburst::analyze(&config)?;

    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let written = match args.output() {
        Output::Text => report::text::render(&analysis, &mut out),
        Output::Json => report::json::render(&analysis, &mut out),
    }
    .and_then(|_| out.flush());
    if let Err(e) = written {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return Ok(ExitCode::SUCCESS);
        }
        return Err(e.into());
    }

    let mut failed = false;
    for i in analysis.failed_inputs() {
        failed = true;
        eprintln!(
            "logburst: cannot read {}: {}",
            i.path,
            i.error.as_deref().unwrap_or("")
        );
    }
    if !args.quiet {
        for i in &analysis.inputs {
            for w in &i.warnings {
                eprintln!(
                    "logburst: warning: {}: {}",
                    report::terminal_safe(&i.path),
                    report::terminal_safe(w)
                );
            }
        }
    }
    Ok(if failed {
        ExitCode::from(2)
    } else if args.exit_code && !analysis.incidents.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
