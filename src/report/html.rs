//! `--output html` / `--html FILE`: one self-contained page — no script,
//! font, style sheet or image from elsewhere (a Content-Security-Policy
//! that forbids them says so to the browser) — with an SVG chart of every
//! host's requests and 5xx over the analysed span (incidents shaded, OOM
//! kills and detection marked), a table per incident, and the line
//! accounting. Everything comes from the [`Analysis`]; every piece of log
//! content goes through [`escape`].

use std::fmt::Write as _;
use std::io::{self, Write};

use super::facts::{self, Value};
use super::model::{Analysis, ChartPoint, IncidentKind, IncidentReport, Status, Time};
use super::words::describe_kill;
use super::{path_errors, thousands};
use crate::time;

/// Text made inert in HTML, in element content and in quoted attributes
/// alike: `&`, `<`, `>`, `"` and `'` as entities, and control characters
/// (terminal escape sequences among them) shown as `\xHH`.
pub fn escape(s: &str) -> String {
    crate::escape::escape_with(s, "\\", |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\'' => Some("&#39;"),
        _ => None,
    })
}

const STYLE: &str = "
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;max-width:1040px;padding:1.2em;color:#1d2327;background:#fff}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin:1.6em 0 .4em;border-bottom:1px solid #dcdcde;padding-bottom:.2em}
h3{font-size:1em;margin:1.1em 0 .3em}
table{border-collapse:collapse;margin:.3em 0 .8em;font-size:.93em}
th,td{text-align:left;padding:.22em .7em .22em 0;vertical-align:top}
table.inputs td:nth-child(n+2):nth-child(-n+7){white-space:nowrap}
thead th{border-bottom:1px solid #c3c4c7}
table.facts th{font-weight:600;color:#50575e;white-space:nowrap}
td.n{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;overflow-wrap:anywhere}
.summary{color:#50575e}
.legend span{display:inline-block;margin-right:1.2em}
.sw{display:inline-block;width:.9em;height:.9em;vertical-align:-.1em;margin-right:.3em;border-radius:2px}
.warn{color:#8a2424}
svg{width:100%;height:auto;display:block}
svg text{font:11px system-ui,sans-serif;fill:#50575e}
";

/// Chart geometry (SVG user units).
const W: f64 = 1000.0;
const H: f64 = 300.0;
const LEFT: f64 = 58.0;
const RIGHT: f64 = 28.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 36.0;

const REQUESTS: &str = "#9ec5e8";
const ERRORS: &str = "#d63638";
const INCIDENT: &str = "#f0c33c";
const KILL: &str = "#7b2cbf";
const DETECTED: &str = "#1d2327";

/// Writes one self-contained page (inline SVG, no script, no external
/// resource) with every piece of log content escaped.
pub fn render(a: &Analysis, out: &mut dyn Write) -> io::Result<()> {
    let mut h = String::with_capacity(64 * 1024);
    let title = format!(
        "logburst: {} in {} inputs",
        match a.incidents.len() {
            1 => "1 incident".to_string(),
            n => format!("{n} incidents"),
        },
        a.inputs.len()
    );
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"logburst {}\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        env!("CARGO_PKG_VERSION"),
        escape(&title)
    );
    let _ = writeln!(h, "<h1>{}</h1>", escape(&title));
    let _ = writeln!(
        h,
        "<p class=\"summary\">{} requests · {} 5xx · {} OOM kills · a 5xx burst: {}{}</p>",
        thousands(a.totals.requests),
        thousands(a.totals.errors),
        thousands(a.totals.oom_kills),
        escape(&a.thresholds.rule),
        if a.incremental {
            " · new lines since the last run"
        } else {
            ""
        }
    );
    chart(&mut h, a);
    for (n, i) in a.incidents.iter().enumerate() {
        incident(&mut h, n + 1, i);
    }
    if a.incidents.is_empty() {
        let _ = writeln!(
            h,
            "<h2>No incident</h2>\n<p>No window held enough 5xx, no traffic gap, no OOM kill.</p>"
        );
        if let Some(u) = super::unsure(a) {
            let _ = writeln!(h, "<p><strong>But {}.</strong></p>", escape(&u));
        }
    }
    inputs(&mut h, a);
    if !a.notes.is_empty() {
        h.push_str("<h2>Notes</h2>\n<ul>\n");
        for n in &a.notes {
            let _ = writeln!(h, "<li>{}</li>", escape(n));
        }
        h.push_str("</ul>\n");
    }
    h.push_str("</body>\n</html>\n");
    out.write_all(h.as_bytes())
}

/// The chart's plot area: time from `t0` to `t1` across, 0 to `top`
/// requests up.
struct Frame {
    t0: i64,
    t1: i64,
    top: u64,
}

impl Frame {
    fn x(&self, t: i64) -> f64 {
        LEFT + (t - self.t0) as f64 / (self.t1 - self.t0) as f64 * (W - LEFT - RIGHT)
    }
    fn y(&self, v: u64) -> f64 {
        let ph = H - TOP - BOTTOM;
        TOP + ph - v as f64 / self.top as f64 * ph
    }
}

/// Detection times and OOM kills as vertical marks.
fn marks(h: &mut String, a: &Analysis, f: &Frame) {
    let (t0, t1, ph) = (f.t0, f.t1, H - TOP - BOTTOM);
    let x = |t: i64| f.x(t);
    // Detection and OOM kills.
    for (n, i) in a.incidents.iter().enumerate() {
        if i.kind != IncidentKind::Oom && (t0..=t1).contains(&i.detected.utc) {
            let dx = x(i.detected.utc);
            let _ = writeln!(
                h,
                "<line class=\"detected\" x1=\"{dx:.1}\" x2=\"{dx:.1}\" y1=\"{TOP}\" y2=\"{:.1}\" stroke=\"{DETECTED}\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"><title>Incident {}: detected at {}</title></line>",
                TOP + ph,
                n + 1,
                escape(&i.detected.human())
            );
        }
        for k in &i.oom_kills {
            if !(t0..=t1).contains(&k.time.utc) {
                continue;
            }
            let kx = x(k.time.utc);
            let _ = writeln!(
                h,
                "<line class=\"oom\" x1=\"{kx:.1}\" x2=\"{kx:.1}\" y1=\"{TOP}\" y2=\"{:.1}\" stroke=\"{KILL}\" stroke-width=\"1.5\"><title>OOM kill of {} on {} at {}</title></line><path d=\"M{:.1},{:.1}l5,-8h-10z\" fill=\"{KILL}\"/>",
                TOP + ph,
                escape(&describe_kill(k)),
                escape(&k.host),
                escape(&k.time.human()),
                kx,
                TOP + ph
            );
        }
    }
}

/// Ticks and labels of the time axis, in `offset`.
fn time_axis(h: &mut String, f: &Frame, offset: crate::time::OffsetSecs) {
    let (t0, t1, ph) = (f.t0, f.t1, H - TOP - BOTTOM);
    let x = |t: i64| f.x(t);
    // Time axis.
    let tick = tick_step(t1 - t0);
    let local = |t: i64| t + i64::from(offset);
    let mut t = (local(t0) + tick - 1).div_euclid(tick) * tick - i64::from(offset);
    let long = t1 - t0 > 86_400;
    while t <= t1 {
        let label = Time { utc: t, offset }.human();
        let label = if long { &label[5..16] } else { &label[11..16] };
        let _ = writeln!(
            h,
            "<line x1=\"{tx:.1}\" x2=\"{tx:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#8c8f94\"/><text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            TOP + ph,
            TOP + ph + 4.0,
            TOP + ph + 17.0,
            escape(label),
            tx = x(t)
        );
        t += tick;
    }
}

/// The SVG chart of [`Analysis::overview`]: requests (blue) and 5xx (red)
/// per step on one scale, incidents shaded and numbered, detection and OOM
/// kills as vertical marks.
fn chart(h: &mut String, a: &Analysis) {
    let points = &a.overview;
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return;
    };
    let step = first.step_seconds;
    let (t0, t1) = (first.time.utc, last.time.utc + step);
    let per = if step == 60 {
        "minute".to_string()
    } else {
        time::duration(step)
    };
    let _ = writeln!(
        h,
        "<h2>Requests and 5xx per {per}</h2>\n<figure style=\"margin:0\">"
    );
    let max = points.iter().map(|p| p.requests).max().unwrap_or(0).max(1);
    let top = nice_ceiling(max);
    let f = Frame { t0, t1, top };
    let ph = H - TOP - BOTTOM;
    let (x, y) = (|t: i64| f.x(t), |v: u64| f.y(v));
    let _ = writeln!(
        h,
        "<svg id=\"overview\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-labelledby=\"overview-title\" xmlns=\"http://www.w3.org/2000/svg\">\n<title id=\"overview-title\">Requests and 5xx per {per} from {} to {}</title>",
        escape(&first.time.human()),
        escape(&last.time.human())
    );
    // Incidents, shaded under the data.
    for (n, i) in a.incidents.iter().enumerate() {
        let (a0, a1) = (
            x(i.start.utc.max(t0)),
            x(i.end.utc.min(t1).max(i.start.utc) + 1),
        );
        let _ = writeln!(
            h,
            "<rect class=\"incident\" x=\"{a0:.1}\" y=\"{TOP}\" width=\"{:.1}\" height=\"{ph}\" fill=\"{INCIDENT}\" fill-opacity=\"0.28\"><title>Incident {} · {}</title></rect>\n<text x=\"{a0:.1}\" y=\"{:.1}\">{}</text>",
            (a1 - a0).max(1.5),
            n + 1,
            escape(i.kind.name()),
            TOP - 6.0,
            n + 1
        );
    }
    // Grid and y axis.
    for k in 0..=4u64 {
        let v = top * k / 4;
        let _ = writeln!(
            h,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#dcdcde\" stroke-width=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            if k == 0 { 1.0 } else { 0.5 },
            LEFT - 6.0,
            y(v) + 4.0,
            thousands(v),
            y = y(v)
        );
    }
    // The two areas, as steps.
    for (class, colour, value) in [
        (
            "requests",
            REQUESTS,
            &(|p: &ChartPoint| p.requests) as &dyn Fn(&ChartPoint) -> u64,
        ),
        ("errors", ERRORS, &|p: &ChartPoint| p.errors),
    ] {
        let mut d = format!("M{:.1},{:.1}", x(t0), y(0));
        for p in points {
            let v = y(value(p));
            let _ = write!(
                d,
                "L{:.1},{v:.1}L{:.1},{v:.1}",
                x(p.time.utc),
                x(p.time.utc + step)
            );
        }
        let _ = write!(d, "L{:.1},{:.1}Z", x(t1), y(0));
        let _ = writeln!(
            h,
            "<path class=\"{class}\" d=\"{d}\" fill=\"{colour}\" stroke=\"none\"/>"
        );
    }
    marks(h, a, &f);
    let offset = first.time.offset;
    time_axis(h, &f, offset);
    let _ = writeln!(
        h,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n</svg>",
        W - RIGHT,
        H - 4.0,
        escape(&format!("times at {}", time::format_offset(offset)))
    );
    let _ = writeln!(
        h,
        "<figcaption class=\"legend\"><span><i class=\"sw\" style=\"background:{REQUESTS}\"></i>requests</span><span><i class=\"sw\" style=\"background:{ERRORS}\"></i>5xx</span><span><i class=\"sw\" style=\"background:{INCIDENT};opacity:.5\"></i>incident</span><span><i class=\"sw\" style=\"background:{DETECTED};width:.2em\"></i>detected</span><span><i class=\"sw\" style=\"background:{KILL};width:.2em\"></i>OOM kill</span></figcaption>\n</figure>"
    );
}

/// 1, 2 or 5 times a power of ten, at or above `v`.
fn nice_ceiling(v: u64) -> u64 {
    let mut p = 1u64;
    loop {
        for m in [1, 2, 5] {
            if let Some(c) = p.checked_mul(m) {
                if c >= v {
                    return c;
                }
            }
        }
        match p.checked_mul(10) {
            Some(n) => p = n,
            None => return v,
        }
    }
}

/// A tick spacing giving at most about ten ticks over `span` seconds.
fn tick_step(span: i64) -> i64 {
    const STEPS: [i64; 12] = [
        60, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 604_800,
    ];
    STEPS
        .iter()
        .copied()
        .find(|s| span / s <= 10)
        .unwrap_or(span / 10 / 86_400 * 86_400 + 86_400)
}

fn row(h: &mut String, label: &str, value: &str) {
    let _ = writeln!(h, "<tr><th>{label}</th><td>{value}</td></tr>");
}

fn incident(h: &mut String, n: usize, i: &IncidentReport) {
    let status = match (i.status, i.open) {
        (Some(Status::New), Some(true)) => " · new, still going on",
        (Some(Status::New), _) => " · new",
        (Some(Status::Ongoing), _) => " · reported before, still going on",
        (Some(Status::Ended), _) => " · reported before, now over",
        (None, _) => "",
    };
    let _ = writeln!(
        h,
        "<h2 id=\"incident-{n}\">Incident {n} · {} · {}{status}</h2>\n<table class=\"facts\">",
        escape(i.kind.name()),
        escape(&i.place())
    );
    for f in facts::headline(i) {
        let value = match f.value {
            Value::At(t, what) if what.is_empty() => escape(&t.human()),
            Value::At(t, what) => format!(
                "{} <span class=\"summary\">· {}</span>",
                escape(&t.human()),
                escape(&what)
            ),
            Value::Words(w) => escape(&w),
            Value::Paths(paths) => {
                let shown: Vec<String> = paths
                    .iter()
                    .map(|p| {
                        format!(
                            "<code>{}</code> ({})",
                            escape(&p.path),
                            escape(&path_errors(p))
                        )
                    })
                    .collect();
                shown.join(", ")
            }
        };
        row(h, f.label.long(), &value);
    }
    h.push_str("</table>\n");
    timeline(h, i);
    suggestions(h, i);
}

fn timeline(h: &mut String, i: &IncidentReport) {
    if !i.timeline.is_empty() {
        let _ = writeln!(
            h,
            "<h3>Timeline ({})</h3>\n<table class=\"timeline\">\n<tbody>",
            time::format_offset(i.start.offset)
        );
        for e in &i.timeline {
            let clock = i.at(&e.time);
            let _ = writeln!(
                h,
                "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td></tr>",
                escape(&clock),
                escape(e.event.name()),
                escape(&e.detail)
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
}

fn suggestions(h: &mut String, i: &IncidentReport) {
    if !i.suggestions.is_empty() {
        h.push_str("<h3>Suggested measures</h3>\n<ul>\n");
        for s in &i.suggestions {
            let _ = writeln!(
                h,
                "<li>{} <span class=\"summary\">— {}</span></li>",
                escape(&s.measure),
                escape(&s.evidence)
            );
        }
        h.push_str("</ul>\n");
    }
}

/// The line accounting: per input, lines = parsed + malformed, with the
/// first malformed lines, warnings and read errors.
fn inputs(h: &mut String, a: &Analysis) {
    h.push_str("<h2>Inputs</h2>\n");
    if a.inputs.is_empty() {
        h.push_str("<p>No input.</p>\n");
        return;
    }
    h.push_str(
        "<table class=\"inputs\">\n<thead><tr><th>path</th><th>format</th><th>host</th><th>compression</th>\
         <th class=\"n\">lines</th><th class=\"n\">parsed</th><th class=\"n\">malformed</th><th>span</th></tr></thead>\n<tbody>\n",
    );
    for i in &a.inputs {
        let path = escape(&i.path);
        if let Some(e) = &i.error {
            let _ = writeln!(
                h,
                "<tr><td class=\"mono\">{path}</td><td colspan=\"7\" class=\"warn\">cannot read: {}</td></tr>",
                escape(e)
            );
            continue;
        }
        let span = match (&i.first, &i.last) {
            (Some(f), Some(l)) => format!("{} → {}", escape(&f.human()), escape(&l.human())),
            _ => "–".into(),
        };
        let _ = writeln!(
            h,
            "<tr><td class=\"mono\">{path}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{span}</td></tr>",
            escape(&i.shown_format()),
            escape(&i.host),
            escape(&i.compression),
            thousands(i.lines),
            thousands(i.parsed),
            thousands(i.malformed)
        );
        let mut notes = Vec::new();
        for m in &i.malformed_lines {
            notes.push(format!(
                "malformed <span class=\"mono\">{path}:{}</span>: <code>{}</code>",
                m.line,
                escape(&m.text)
            ));
        }
        let shown = i.malformed_lines.len() as u64;
        if i.malformed > shown && shown > 0 {
            notes.push(format!(
                "… and {} more malformed lines",
                thousands(i.malformed - shown)
            ));
        }
        for w in &i.warnings {
            notes.push(format!(
                "<span class=\"warn\">warning: {}</span>",
                escape(w)
            ));
        }
        if !notes.is_empty() {
            let _ = writeln!(
                h,
                "<tr><td></td><td colspan=\"7\">{}</td></tr>",
                notes.join("<br>")
            );
        }
    }
    h.push_str("</tbody>\n</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\" \x1b[2J\u{9b}"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot; \\x1B[2J\\x9B"
        );
    }

    #[test]
    fn axis_steps() {
        assert_eq!(nice_ceiling(1), 1);
        assert_eq!(nice_ceiling(3), 5);
        assert_eq!(nice_ceiling(101), 200);
        assert_eq!(nice_ceiling(u64::MAX), u64::MAX);
        assert_eq!(tick_step(3600), 600);
        assert_eq!(tick_step(9000), 900);
        assert_eq!(tick_step(30 * 86_400), 604_800);
        assert!(tick_step(400 * 86_400) >= 40 * 86_400);
    }
}
