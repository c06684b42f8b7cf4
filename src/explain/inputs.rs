//! Each input's line accounting, its span placed in time, and the warnings
//! a reader needs to trust (or not) what it gave.

use crate::event::Stamp;
use crate::format::registry::Spec;
use crate::pipeline::Tally;
use crate::place::Placement;
use crate::report::model::{InputReport, MalformedLine};
use crate::source::{HostFrom, InputError};
use crate::summary::InputSummary;
use crate::time;

/// Every input's report: those this run read, then those that could not
/// be expanded at all.
pub fn reports(
    inputs: &[InputSummary],
    expand_errors: Vec<InputError>,
    placement: &mut Placement,
) -> Vec<InputReport> {
    let mut out: Vec<InputReport> = inputs
        .iter()
        .filter(|i| !i.history)
        .map(|i| report(i, placement))
        .collect();
    out.extend(expand_errors.into_iter().map(|e| InputReport {
        path: e.path,
        format: "unknown".into(),
        envelope: None,
        lines: 0,
        parsed: 0,
        malformed: 0,
        first: None,
        last: None,
        host: String::new(),
        host_from: "machine",
        compression: "none".into(),
        malformed_lines: Vec::new(),
        warnings: Vec::new(),
        error: Some(e.message),
        understood: false,
    }));
    out
}

/// `--tz` read this zone-less log in an offset its own host's dated logs
/// contradict: most likely `--tz` was meant to choose how times are shown.
fn tz_contradicted(
    stamp: Option<Stamp>,
    placed: Option<crate::model::Time>,
    host: &str,
    placement: &Placement,
) -> Option<String> {
    let (Some(Stamp::Local { .. }), Some(at)) = (stamp, placed) else {
        return None;
    };
    let (tz, own) = placement.placer.tz_disagrees(host, at.utc)?;
    Some(format!(
        "read in --tz ({}), but {host}'s dated logs write {}: its times may be off by {}; if --tz was meant to choose how times are shown, give --display-tz instead",
        time::format_offset(tz),
        time::format_offset(own),
        time::duration(i64::from((tz - own).abs()))
    ))
}

/// What the lines read say against the format they were read as, in
/// `warnings`: whether the input's figures are then not to be trusted.
fn doubts(
    scan: &InputSummary,
    read_as: bool,
    format_name: &str,
    warnings: &mut Vec<String>,
) -> bool {
    let t = &scan.tally;
    let mut doubted = false;
    // A format that counts no requests, over lines that look like HTTP
    // requests: an access log in a layout logburst does not know.
    if t.request_shaped > 0
        && t.request_shaped * 10 >= t.parsed
        && !scan.format.is_some_and(|f| f.is_access())
    {
        doubted = true;
        warnings.push(format!(
            "{} of {} lines look like HTTP requests (a method, a path, a status; or JSON with a status field and a time) but were read as {}, which counts no requests: probably an access log in a layout logburst does not know, or access entries among an application's lines; give its layout with --nginx-log-format '<its log_format>' or choose one with --log-format",
            t.request_shaped, t.parsed, format_name
        ));
    }
    // OOM kills among the lines that could not be placed: the report's
    // "no OOM kill" would deny what the log says (a raw `dmesg` read
    // without --boot-time, from a Kubernetes issue's paste). When other
    // lines were placed, the same kill may be among them (a paste of a raw
    // line then the syslog it came from): said, not doubted.
    if t.unplaced_kills > 0 {
        doubted |= t.first.is_none();
        let n = crate::report::plural(t.unplaced_kills, "OOM kill line", "OOM kill lines");
        let them = if t.unplaced_kills == 1 { "it" } else { "them" };
        warnings.push(format!(
            "{n} among the lines skipped: not in the report's OOM kills and incidents unless the same kill was also logged with a time, as there is no instant to put {them} at"
        ));
    }
    // Nothing was read with a time: a format found from its header (W3C's
    // `#Fields:`) whose every other line failed, or a forced format that
    // fits no line. "0 requests, no incident" would be an answer about
    // nothing (lnav's sample of Incapsula's W3C export, its values quoted,
    // came out so).
    let nothing = read_as && t.malformed > 0 && t.first.is_none() && t.unplaced == 0;
    doubted |= nothing;
    if nothing && t.parsed > 0 {
        warnings.push(format!(
            "no line was read as {format_name}: {} of {} lines did not parse and the rest carry no time (headers, directives): a layout logburst does not read, or another format (--log-format forces one)",
            t.malformed, t.lines
        ));
    } else if nothing || (read_as && t.malformed > 3 && t.malformed * 100 > t.lines) {
        // Lines that stop matching the detected format (a format changed
        // in the middle of a file, a different log appended): more than a
        // stray cut line or two.
        let first = t.samples.first().map_or(String::new(), |s| {
            format!(", the first at line {}", s.line_number)
        });
        warnings.push(format!(
            "{} of {} lines did not parse as {}{first}",
            t.malformed, t.lines, format_name
        ));
    }
    doubted
}

fn report(input: &InputSummary, placement: &mut Placement) -> InputReport {
    let scan = input;
    let t = &scan.tally;
    let format_name = scan.format_name.clone();
    let host = input.lines_host();
    let first = t.first.map(|s| placement.stamp(input, s, host));
    let last = t.last.map(|s| placement.stamp(input, s, host));
    let mut warnings = scan.notes.clone();
    warnings.extend(tz_contradicted(t.first, first, host, placement));
    // A series' rows are read without a format.
    let read_as = scan.format.is_some() || scan.series;
    let mut understood = scan.open_error.is_none() && (t.lines == 0 || read_as);
    let mut error = scan.open_error.clone();
    if let Some(e) = &t.read_error {
        if t.lines == 0 {
            // Nothing decoded: an unreadable input, not an empty one.
            error = Some(e.clone());
            understood = false;
        } else {
            warnings.push(format!(
                "{e}; the {} lines before it were analysed",
                crate::report::thousands(t.lines)
            ));
            // A damaged archive whose lines stop parsing before the damage:
            // the decoder's output was garbled for a while (gzip checks
            // only at the member's end), and garbled lines that parse are
            // requests at wrong times.
            if e.contains("archive is corrupt") && t.malformed > 1 {
                understood = false;
                warnings.push(format!(
                    "{} lines of this damaged archive did not parse: what it decoded before the damage is partly garbled, and its figures are not to be trusted",
                    crate::report::thousands(t.malformed)
                ));
            }
        }
    }
    if scan.open_error.is_none() && t.lines == 0 && t.read_error.is_none() {
        warnings.push("empty input: no lines".to_string());
    } else if !read_as && error.is_none() {
        warnings.push(format!(
            "format not recognised from the first lines{}; every line counted as malformed (force one with --log-format)",
            if t.malformed_bytes_look_binary() { " (looks binary)" } else { "" }
        ));
    }
    warnings.extend(reading_notes(
        t,
        scan.format.and_then(|f| f.spec()),
        &format_name,
    ));
    if doubts(input, read_as, &format_name, &mut warnings) {
        understood = false;
    }
    if input.host_from == HostFrom::Machine && scan.format.is_some_and(|f| f.is_access()) {
        placement.notes.insert(format!(
            "{}: the path names no host; its requests are counted as {} (name it with HOST=PATH)",
            input.display, input.host
        ));
    }
    InputReport {
        path: input.display.clone(),
        format: format_name,
        envelope: input.envelope.clone(),
        lines: t.lines,
        parsed: t.parsed,
        malformed: t.malformed,
        first,
        last,
        host: host.to_string(),
        host_from: if t.named_host.is_some() {
            "line"
        } else {
            match input.host_from {
                HostFrom::Label => "label",
                HostFrom::Path => "path",
                HostFrom::Machine => "machine",
            }
        },
        compression: scan.compression.map_or("none", |c| c.name()).to_string(),
        malformed_lines: t
            .samples
            .iter()
            .map(|s| MalformedLine {
                line: s.line_number,
                text: s.text.clone(),
            })
            .collect(),
        warnings,
        error,
        understood,
    }
}

/// What reading found about the lines themselves: a mixed stream,
/// lines read but not counted, lines with no instant.
fn reading_notes(t: &Tally, spec: Option<&Spec>, format_name: &str) -> Vec<String> {
    let mut notes: Vec<String> = [
        mixed_note(t, format_name),
        not_counted_note(t),
        no_response_note(t),
    ]
    .into_iter()
    .flatten()
    .collect();
    if t.unplaced > 0 {
        notes.push(match spec.and_then(|s| s.unplaced) {
            Some(words) => words(t.unplaced),
            None => format!("{} lines have no instant and were skipped", t.unplaced),
        });
    }
    if let Some(caveat) = spec.and_then(|s| s.caveat).filter(|_| t.parsed > 0) {
        notes.push(caveat.into());
    }
    notes
}

/// Lines read but left out of the requests, if any.
fn not_counted_note(t: &Tally) -> Option<String> {
    (t.left_out.not_counted > 0).then(|| {
        format!(
            "{} lines are the CDN's own subrequests (Cloudflare RequestSource other than eyeball): read, not counted as requests",
            crate::report::thousands(t.left_out.not_counted)
        )
    })
}

/// Requests logged with no response ([`crate::event::NO_RESPONSE`]), if
/// any.
fn no_response_note(t: &Tally) -> Option<String> {
    (t.left_out.no_response > 0).then(|| {
        let n = crate::report::plural(t.left_out.no_response, "request", "requests");
        format!("{n} got no response (status 0 or 000, HAProxy's -1, a Classic load balancer's - for a TCP connection: the client went away first, a WebSocket took the connection over, or it was not HTTP): read, not counted as requests")
    })
}

/// What a mixed stream's lines were read as, besides the input's format.
fn mixed_note(t: &Tally, format_name: &str) -> Option<String> {
    if t.read_as.is_empty() {
        return None;
    }
    let read: Vec<String> = t
        .read_as
        .iter()
        .map(|(f, n)| format!("{} as {}", crate::report::thousands(*n), f.name()))
        .collect();
    Some(format!(
        "a mixed stream: besides its {format_name} lines, {} lines were read by the format each matches ({})",
        crate::report::thousands(t.read_as.iter().map(|(_, n)| n).sum()),
        read.join(", ")
    ))
}

impl Tally {
    fn malformed_bytes_look_binary(&self) -> bool {
        self.samples
            .iter()
            .any(|s| s.text.contains('\u{fffd}') || s.text.contains("\\x00"))
    }
}
