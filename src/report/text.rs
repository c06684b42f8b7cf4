//! The default output: a timeline per incident an on-call engineer can read
//! in a terminal, then the line accounting of every input and the
//! assumptions the run made.

use std::io::{self, Write};

use super::facts::{self, Value};
use super::model::{Analysis, IncidentReport, InputReport, Status};
use super::{path_errors, plural, thousands};
use crate::escape::terminal as safe;
use crate::time;

/// How the terminal chart is drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// Plain ASCII instead of unicode blocks (`--ascii`).
    pub ascii: bool,
    /// Bad steps in red: only on a terminal, never with `NO_COLOR` set.
    pub color: bool,
}

impl Style {
    /// Colour when writing to a terminal and `NO_COLOR` is unset or empty
    /// (no-color.org).
    pub fn color_for(is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
        is_terminal && no_color.is_none_or(|v| v.is_empty())
    }
}

/// The timeline with unicode charts and no colour.
pub fn render(a: &Analysis, out: &mut dyn Write) -> io::Result<()> {
    render_with(a, out, Style::default())
}

/// The timeline in the given [`Style`] (ASCII or unicode, colour or not).
pub fn render_with(a: &Analysis, out: &mut dyn Write, style: Style) -> io::Result<()> {
    let readable = a.inputs.iter().filter(|i| i.error.is_none()).count() as u64;
    writeln!(
        out,
        "logburst: {} in {} · {} · {} · {}",
        plural(a.incidents.len() as u64, "incident", "incidents"),
        plural(readable, "input", "inputs"),
        plural(a.totals.requests, "request", "requests"),
        plural(a.totals.errors, "5xx", "5xx"),
        plural(a.totals.oom_kills, "OOM kill", "OOM kills"),
    )?;
    if a.incidents.is_empty() && a.incremental {
        writeln!(
            out,
            "\nNo new incident since the last run, and none left open by it."
        )?;
    } else if a.incidents.is_empty() {
        writeln!(
            out,
            "\nNo incident: no 5xx burst ({}), no traffic gap, no OOM kill.",
            safe(&a.thresholds.rule)
        )?;
        if let Some(u) = super::unsure(a) {
            writeln!(out, "But {u}.")?;
        }
    }
    for (n, inc) in a.incidents.iter().enumerate() {
        incident(out, n + 1, inc, a.thresholds.min_ratio, style)?;
    }
    inputs(out, a)?;
    if !a.notes.is_empty() {
        writeln!(out, "\nNotes")?;
        for n in &a.notes {
            writeln!(out, "  - {}", safe(n))?;
        }
    }
    Ok(())
}

/// One chart step: blank without traffic, a dot without 5xx, else one of
/// eight levels of the 5xx share.
fn step_char(requests: u64, errors: u64, ascii: bool) -> char {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    const RAMP: [char; 8] = [':', '-', '=', '+', '*', '#', '%', '@'];
    if requests == 0 {
        return ' ';
    }
    if errors == 0 {
        return if ascii { '.' } else { '·' };
    }
    let level = ((errors as f64 / requests as f64 * 8.0).ceil() as usize).clamp(1, 8);
    if ascii {
        RAMP[level - 1]
    } else {
        BLOCKS[level - 1]
    }
}

/// `06:55 ···▂▇███▆▃··· 07:21  5xx share, 30 s a step`.
fn chart(out: &mut dyn Write, i: &IncidentReport, min_ratio: f64, style: Style) -> io::Result<()> {
    let (Some(first), Some(last)) = (i.chart.first(), i.chart.last()) else {
        return Ok(());
    };
    let mut line = String::new();
    let mut red = false;
    for p in &i.chart {
        let bad = p.errors > 0 && p.errors as f64 >= min_ratio * p.requests as f64;
        if style.color && bad != red {
            line.push_str(if bad { "\x1b[31m" } else { "\x1b[0m" });
            red = bad;
        }
        line.push(step_char(p.requests, p.errors, style.ascii));
    }
    if red {
        line.push_str("\x1b[0m");
    }
    let end = super::model::Time {
        utc: last.time.utc + last.step_seconds,
        offset: last.time.offset,
    };
    writeln!(
        out,
        "  {:<10}{} {line} {}  5xx share, {} a step",
        "chart",
        i.at(&first.time),
        i.at(&end),
        time::duration(first.step_seconds)
    )
}

fn incident(
    out: &mut dyn Write,
    n: usize,
    i: &IncidentReport,
    min_ratio: f64,
    style: Style,
) -> io::Result<()> {
    let hosts = safe(&i.place());
    let status = match (i.status, i.open) {
        (Some(Status::New), Some(true)) => " · NEW, still going on",
        (Some(Status::New), _) => " · NEW",
        (Some(Status::Ongoing), _) => " · reported before, still going on",
        (Some(Status::Ended), _) => " · reported before, now over",
        (None, _) => "",
    };
    writeln!(out, "\nIncident {n} · {} · {hosts}{status}", i.kind)?;
    for f in facts::headline(i) {
        let label = label(f.label.short());
        match f.value {
            Value::At(t, what) if what.is_empty() => writeln!(out, "{label}{}", t.human())?,
            Value::At(t, what) => writeln!(out, "{label}{}  {what}", t.human())?,
            Value::Words(w) => writeln!(out, "{label}{}", safe(&w))?,
            Value::Paths(paths) => {
                let shown: Vec<String> = paths
                    .iter()
                    .take(3)
                    .map(|p| format!("{} ({})", safe(&p.path), path_errors(p)))
                    .collect();
                writeln!(out, "{label}{}", shown.join(", "))?;
            }
        }
    }
    chart(out, i, min_ratio, style)?;
    if !i.timeline.is_empty() {
        writeln!(
            out,
            "\n  Timeline ({})",
            time::format_offset(i.start.offset)
        )?;
        for e in &i.timeline {
            let clock = i.at(&e.time);
            writeln!(out, "    {clock}  {:<10} {}", e.event, safe(&e.detail))?;
        }
    }
    Ok(())
}

/// A fact's label, padded.
fn label(s: &str) -> String {
    format!("  {s:<10}")
}

fn inputs(out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
    writeln!(out, "\nInputs")?;
    if a.inputs.is_empty() && a.incremental {
        return writeln!(out, "  nothing new written since the last run");
    }
    let width = |cell: fn(&InputReport) -> Option<String>, least: usize| {
        a.inputs
            .iter()
            .filter_map(|i| Some(safe(&cell(i)?).chars().count()))
            .max()
            .unwrap_or(least)
            .clamp(least, 60)
    };
    let w = width(|i| Some(i.path.clone()), 4);
    // A container's format (`docker-json/nginx:custom`) or host
    // (`namespace/pod/container`) is often longer than the usual: the
    // columns widen to the longest rather than push the rest of the row.
    let fw = width(|i| i.error.is_none().then(|| i.shown_format()), 14);
    let hw = width(|i| i.error.is_none().then(|| i.host.clone()), 12);
    writeln!(
        out,
        "  {:<w$}  {:<fw$} {:<hw$} {:>10} {:>10} {:>9}  SPAN",
        "PATH", "FORMAT", "HOST", "LINES", "PARSED", "MALFORMED"
    )?;
    for i in &a.inputs {
        let path = safe(&i.path);
        if let Some(e) = &i.error {
            writeln!(out, "  {path:<w$}  error: {}", safe(e))?;
            continue;
        }
        let span = match (&i.first, &i.last) {
            (Some(f), Some(l)) => format!("{} → {}", f.human(), l.human()),
            _ => "-".into(),
        };
        writeln!(
            out,
            "  {path:<w$}  {:<fw$} {:<hw$} {:>10} {:>10} {:>9}  {span}",
            safe(&i.shown_format()),
            safe(&i.host),
            thousands(i.lines),
            thousands(i.parsed),
            thousands(i.malformed)
        )?;
        for m in &i.malformed_lines {
            writeln!(out, "    malformed {path}:{}: {}", m.line, safe(&m.text))?;
        }
        if i.malformed > i.malformed_lines.len() as u64 && !i.malformed_lines.is_empty() {
            writeln!(
                out,
                "    … and {} more malformed lines",
                thousands(i.malformed - i.malformed_lines.len() as u64)
            )?;
        }
        for wn in &i.warnings {
            writeln!(out, "    warning: {}", safe(wn))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(Style::color_for(true, None));
        assert!(Style::color_for(true, Some(OsStr::new(""))));
        assert!(!Style::color_for(true, Some(OsStr::new("1"))));
        assert!(!Style::color_for(false, None));
    }

    #[test]
    fn steps_scale_with_the_5xx_share() {
        assert_eq!(step_char(0, 0, false), ' ');
        assert_eq!(step_char(10, 0, false), '·');
        assert_eq!(step_char(100, 1, false), '▁');
        assert_eq!(step_char(100, 50, false), '▄');
        assert_eq!(step_char(10, 10, false), '█');
        assert_eq!(step_char(10, 10, true), '@');
        assert_eq!(step_char(10, 0, true), '.');
    }
}
