//! `--output markdown`: a postmortem draft per incident, in the layout
//! on-call teams use — issue summary, timeline, root cause and resolution
//! (evidence, and room for the team's words), corrective and preventative
//! measures (each tied to its evidence), detection. Everything it says comes
//! from the [`Analysis`]; log content is escaped so it cannot change the
//! document's structure (tables, links, emphasis, HTML).

use std::io::{self, Write};

use super::model::{Analysis, IncidentKind, IncidentReport};
use super::words::describe_kill;
use super::{
    clients_affected, failed_requests, latency_impact, path_errors, status_list, thousands,
    SCATTERED,
};
use crate::time;

/// Log content made inert in Markdown: control characters shown as `\xHH`,
/// HTML's `<`, `>` and `&` as entities, and every character that could
/// start emphasis, a link or image, code, strike-through or a table cell
/// backslash-escaped. (Log content is never put at the start of a line,
/// where `#`, `-` or `1.` would matter.)
pub fn escape(s: &str) -> String {
    no_autolinks(&crate::escape::escape_with(s, "\\\\", |c| match c {
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '&' => Some("&amp;"),
        '\\' => Some("\\\\"),
        '`' => Some("\\`"),
        '*' => Some("\\*"),
        '_' => Some("\\_"),
        '[' => Some("\\["),
        ']' => Some("\\]"),
        '!' => Some("\\!"),
        '|' => Some("\\|"),
        '~' => Some("\\~"),
        _ => None,
    }))
}

/// GitHub-flavoured Markdown turns `scheme://…`, `www.…` and `a@b.c` in
/// text into links on its own. Log content must not add links, so each
/// trigger is broken where the rendered text stays the same: the colon
/// before `//` and the dot after `www` as character references, and an
/// empty HTML comment after `@` (GFM's e-mail links are found across
/// references, not across an inline node; renderers drop the comment).
fn no_autolinks(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    for (i, c) in s.char_indices() {
        match c {
            ':' if b[i + 1..].starts_with(b"//") => out.push_str("&#58;"),
            '.' if i >= 3 && b[i - 3..i].eq_ignore_ascii_case(b"www") => out.push_str("&#46;"),
            '@' => out.push_str("@<!---->"),
            c => out.push(c),
        }
    }
    out
}

/// Writes a postmortem draft: summary, impact, timeline, evidence, and
/// the sections a person has to fill in, with log content escaped.
pub fn render(a: &Analysis, out: &mut dyn Write) -> io::Result<()> {
    if a.incidents.is_empty() {
        writeln!(out, "# No incident\n")?;
        writeln!(
            out,
            "No 5xx burst ({}), no traffic gap, no OOM kill, over {} requests in {} inputs.",
            escape(&a.thresholds.rule),
            thousands(a.totals.requests),
            a.inputs.len()
        )?;
        if let Some(u) = super::unsure(a) {
            writeln!(out, "\n**But {}.**", escape(&u))?;
        }
    }
    for (n, i) in a.incidents.iter().enumerate() {
        if n > 0 {
            writeln!(out, "\n---\n")?;
        }
        incident(out, a, i)?;
    }
    logs_read(out, a)
}

/// What the draft rests on, after it: inputs that could not be read, each
/// input's warnings (one not understood holds what the draft cannot say)
/// and the run's notes (a zone or year assumed, hosts past the cap), as
/// the text and HTML reports and the JSON give them.
fn logs_read(out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
    let errors = a.inputs.iter().filter_map(|i| Some((i, i.error.as_ref()?)));
    let warnings = a
        .inputs
        .iter()
        .flat_map(|i| i.warnings.iter().map(move |w| (i, w)));
    let mut lines: Vec<String> = errors
        .map(|(i, e)| format!("{}: could not be read: {}", escape(&i.path), escape(e)))
        .chain(warnings.map(|(i, w)| format!("{}: {}", escape(&i.path), escape(w))))
        .collect();
    // With no incident the page already leads with it.
    if let (false, Some(u)) = (a.incidents.is_empty(), super::unsure(a)) {
        let mut u = escape(&u);
        if let Some(first) = u.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        lines.insert(0, format!("**{u}.**"));
    }
    lines.extend(a.notes.iter().map(|n| escape(n)));
    if lines.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n## About the logs read\n")?;
    for l in lines {
        writeln!(out, "- {l}")?;
    }
    Ok(())
}

fn title(i: &IncidentReport) -> String {
    let what = match i.kind {
        IncidentKind::ErrorBurst => "5xx burst",
        IncidentKind::TrafficGap => "Traffic stopped",
        IncidentKind::Latency => "Slow responses",
        IncidentKind::Oom if i.oom_kills.is_empty() => "Memory ran out",
        IncidentKind::Oom => "OOM kills",
    };
    format!("{what} on {}, {}", escape(&i.place()), i.start.human())
}

fn incident(out: &mut dyn Write, a: &Analysis, i: &IncidentReport) -> io::Result<()> {
    writeln!(out, "# Postmortem draft: {}\n", title(i))?;
    writeln!(
        out,
        "*Drafted by logburst from the logs; every statement below is what the logs show. Edit freely.*\n"
    )?;

    summary(out, a, i)?;
    timeline(out, i)?;
    evidence(out, i)?;
    measures(out, i)?;
    detection(out, a, i)?;
    Ok(())
}

/// Issue summary: duration, impact, hosts, the cause as a hypothesis.
fn summary(out: &mut dyn Write, a: &Analysis, i: &IncidentReport) -> io::Result<()> {
    writeln!(out, "## Issue summary\n")?;
    writeln!(
        out,
        "- **Duration**: {} — from {} to {}.",
        time::duration(i.duration_seconds),
        i.start.human(),
        i.end.human()
    )?;
    match i.kind {
        IncidentKind::ErrorBurst => {
            let all = if a.totals.requests > 0 {
                format!(
                    " ({:.2}% of all {} requests in the logs read)",
                    i.share_of_all_requests * 100.0,
                    thousands(a.totals.requests)
                )
            } else {
                String::new()
            };
            let who = clients_affected(i).map_or(String::new(), |c| format!("; {c} affected"));
            writeln!(
                out,
                "- **Impact**: {}{all}: {}{who}.",
                failed_requests(i),
                status_list(i)
            )?;
            if !i.top_paths.is_empty() {
                let paths: Vec<String> = i
                    .top_paths
                    .iter()
                    .map(|p| format!("{} ({})", escape(&p.path), path_errors(p)))
                    .collect();
                writeln!(out, "- **Top paths hit** (5xx): {}.", paths.join(", "))?;
            }
            if i.paths_scattered {
                writeln!(out, "- **Top paths hit** (5xx): {SCATTERED}.")?;
            }
            if let Some(n) = &i.narrow {
                writeln!(
                    out,
                    "- **Narrow**: {} — one client retrying or one broken path rather than the service failing?",
                    escape(&super::facts::narrow(n))
                )?;
            }
            if let Some(p) = &i.peak {
                writeln!(
                    out,
                    "- **Peak**: {:.1}% of requests failing at {}.",
                    i.peak_error_ratio * 100.0,
                    p.clock()
                )?;
            }
        }
        IncidentKind::TrafficGap => {
            let expected = i.expected_requests.map_or(String::new(), |e| {
                format!(
                    " About {} requests were expected in that time.",
                    thousands(e)
                )
            });
            writeln!(out, "- **Impact**: no request was logged.{expected}")?;
        }
        IncidentKind::Latency => {
            if let Some(l) = &i.latency {
                writeln!(
                    out,
                    "- **Impact**: responses slowed: {}.",
                    latency_impact(l)
                )?;
            }
        }
        IncidentKind::Oom => writeln!(out, "- **Impact**: {}.", super::facts::oom_impact(i))?,
    }
    writeln!(out, "- **Hosts**: {}.", escape(&i.hosts.join(", ")))?;
    if !i.routes.is_empty() {
        writeln!(
            out,
            "- **Routes that failed on their own**: {}.",
            escape(&i.routes.join(", "))
        )?;
    }
    match &i.probable_cause {
        Some(c) => writeln!(
            out,
            "- **Root cause (hypothesis)**: {} — to be confirmed.",
            escape(c)
        )?,
        None => writeln!(
            out,
            "- **Root cause (hypothesis)**: the logs read hold no OOM kill or upstream failure that explains it."
        )?,
    }
    Ok(())
}

/// The timeline as a table.
fn timeline(out: &mut dyn Write, i: &IncidentReport) -> io::Result<()> {
    writeln!(
        out,
        "\n## Timeline\n\nAll times UTC{}.\n",
        time::format_offset(i.start.offset)
    )?;
    writeln!(out, "| time | event | detail |\n|---|---|---|")?;
    for e in &i.timeline {
        writeln!(
            out,
            "| {} | {} | {} |",
            i.at(&e.time),
            e.event,
            escape(&e.detail)
        )?;
    }
    Ok(())
}

/// Root cause and resolution: the evidence the logs hold.
fn evidence(out: &mut dyn Write, i: &IncidentReport) -> io::Result<()> {
    writeln!(out, "\n## Root cause and resolution\n")?;
    writeln!(out, "Evidence in the logs:\n")?;
    let mut evidence = 0;
    for k in &i.oom_kills {
        writeln!(
            out,
            "- OOM kill of {} on {} at {} ({}).",
            escape(&describe_kill(k)),
            escape(&k.host),
            k.time.clock(),
            escape(&k.source)
        )?;
        evidence += 1;
    }
    for u in &i.upstream_failures {
        writeln!(
            out,
            "- Upstream {} on {} {} {} times, {} to {}.",
            escape(&u.upstream),
            escape(&u.host),
            u.kind.describe(),
            u.count,
            u.first.clock(),
            u.last.clock()
        )?;
        evidence += 1;
    }
    for s in &i.signals {
        writeln!(
            out,
            "- {} from {} on {}, {} times, {} to {} ({}).",
            escape(&s.signal),
            escape(&s.process),
            escape(&s.host),
            s.count,
            s.first.clock(),
            s.last.clock(),
            escape(&s.source)
        )?;
        evidence += 1;
    }
    if evidence == 0 {
        writeln!(out, "- None beyond the requests themselves.")?;
    }
    writeln!(
        out,
        "\n*What the team found and did to resolve it:* _to be written._"
    )?;
    Ok(())
}

/// Corrective and preventative measures, as a checklist.
fn measures(out: &mut dyn Write, i: &IncidentReport) -> io::Result<()> {
    writeln!(out, "\n## Corrective and preventative measures\n")?;
    if i.suggestions.is_empty() {
        writeln!(out, "_To be written._")?;
    }
    for s in &i.suggestions {
        writeln!(
            out,
            "- [ ] {} — *evidence*: {}.",
            escape(&s.measure),
            escape(&s.evidence)
        )?;
    }
    Ok(())
}

/// When an alert over these logs would have fired, against the reports.
fn detection(out: &mut dyn Write, a: &Analysis, i: &IncidentReport) -> io::Result<()> {
    writeln!(out, "\n## Detection\n")?;
    writeln!(
        out,
        "- An alert over these logs ({}) would have fired at {}, {} after onset.",
        escape(&a.thresholds.rule),
        i.detected.clock(),
        time::duration(i.detection_lag_seconds)
    )?;
    if let Some(s) = &i.slo {
        writeln!(
            out,
            "- SLO {}%: the {} burn-rate alert fired; it reset at {}. The burst spent {:.1}% of a 30-day error budget.",
            s.target_percent,
            s.alert,
            s.reset.clock(),
            s.budget_spent * 100.0
        )?;
    }
    match i.lead_over_report_seconds {
        Some(l) if l >= 0 => writeln!(
            out,
            "- The logs showed it {} before the first customer report.",
            time::duration(l)
        )?,
        Some(l) => writeln!(
            out,
            "- The first customer report came {} before the logs showed it.",
            time::duration(-l)
        )?,
        None => writeln!(
            out,
            "- When did the first customer report or page come? (`--reported-at TIME` compares it.)"
        )?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_content_cannot_change_the_structure() {
        assert_eq!(escape("web-01.example"), "web-01.example");
        assert_eq!(escape("<script>"), "&lt;script&gt;");
        assert_eq!(escape("a | b"), "a \\| b");
        assert_eq!(escape("[x](http://e)"), "\\[x\\](http&#58;//e)");
        // GFM autolinks: broken where the text reads the same.
        assert_eq!(
            escape("WWW.e.com a@b.c 10.0.0.1:80"),
            "WWW&#46;e.com a@<!---->b.c 10.0.0.1:80"
        );
        assert_eq!(escape("\x1b[2J"), "\\\\x1B\\[2J");
        assert_eq!(escape("*_`~!"), "\\*\\_\\`\\~\\!");
    }
}
