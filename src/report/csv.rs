//! `--output csv`: each host's requests and 5xx per minute, for
//! spreadsheets and further analysis. One row per host and minute with a
//! request; the minute in RFC 3339 with the host's offset. Fields that come
//! from logs (host names) are quoted as RFC 4180 says, control characters
//! escaped, and a leading `=`, `+`, `-` or `@` neutralised with a `'` so a
//! spreadsheet never reads them as a formula.

use std::io::{self, Write};

use super::model::Analysis;

/// The 5xx statuses with a column of their own; others go to `other_5xx`.
const STATUSES: [u16; 4] = [500, 502, 503, 504];

/// Writes one row per host and minute with a request: the header, then
/// `minute,host,requests,errors_5xx,status_500…504,other_5xx`.
pub fn render(a: &Analysis, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "minute,host,requests,errors_5xx,status_500,status_502,status_503,status_504,other_5xx"
    )?;
    for r in &a.minutes {
        let named: u64 = STATUSES.iter().filter_map(|s| r.status.get(s)).sum();
        write!(
            out,
            "{},{},{},{}",
            r.minute.rfc3339(),
            field(&r.host),
            r.requests,
            r.errors
        )?;
        for s in STATUSES {
            write!(out, ",{}", r.status.get(&s).copied().unwrap_or(0))?;
        }
        writeln!(out, ",{}", r.errors.saturating_sub(named))?;
    }
    Ok(())
}

/// One CSV field from log content.
pub fn field(s: &str) -> String {
    let mut v = crate::escape::terminal(s);
    if v.starts_with(['=', '+', '-', '@']) {
        v.insert(0, '\'');
    }
    if v.contains([',', '"', '\n', '\r']) || v.starts_with(' ') || v.ends_with(' ') {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_defused() {
        assert_eq!(field("web-01"), "web-01");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("-1"), "'-1");
        assert_eq!(field("a\x1b[2Jb"), "a\\x1B[2Jb");
    }
}
