//! Application logs: text lines that start with a timestamp (Python
//! `logging`, Java loggers, gunicorn, PHP, uWSGI `--log-date`, CRI container
//! logs…) or JSON object lines with a time field. Lines without a stamp
//! (tracebacks, stack traces, continuation lines) belong to the last stamped
//! line before them. Nothing but the time is read here; the signals
//! (`format::signals`) are looked for in every line.

use crate::event::Stamp;
use crate::time::{self, OffsetSecs};

use super::json;

/// What an application line holds: its stamp, or none for a continuation,
/// and whether it is a JSON object with an HTTP status and a time (an
/// access entry logburst does not count in an application's log).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppLine {
    pub stamp: Option<Stamp>,
    pub request_shaped: bool,
}

fn stamp_of(naive: i64, offset: Option<OffsetSecs>) -> Stamp {
    match offset {
        Some(off) => Stamp::Zoned {
            utc: naive - off as i64,
            offset: off,
        },
        None => Stamp::Local {
            naive,
            year_inferred: false,
        },
    }
}

/// `2023-02-02 07:00:13,123`, `2023-02-02T07:00:13.123+03:00`,
/// `2020-09-12 05:37:52 +0000` (a space before the zone), optionally in
/// brackets.
fn iso(b: &[u8]) -> Option<Stamp> {
    let (s, used) = time::parse_iso(b)?;
    let mut offset = s.offset;
    if offset.is_none() && b.get(used) == Some(&b' ') {
        if let Some((off, n)) = b.get(used + 1..).and_then(time::parse_offset) {
            // `+0000]` or `+0000 ` but not a number that merely follows.
            if matches!(b.get(used + 1 + n), None | Some(b' ' | b']')) && n >= 5 {
                offset = Some(off);
            }
        }
    }
    Some(stamp_of(s.naive, offset))
}

/// PHP: `26-Apr-2023 16:28:16 UTC` or `07-Apr-2021 12:06:02`.
fn php(b: &[u8]) -> Option<Stamp> {
    let naive = time::day_month_year(b, b'-', b' ')?;
    let utc = b[20..].starts_with(b" UTC") || b[20..].starts_with(b" GMT");
    Some(stamp_of(naive, utc.then_some(0)))
}

/// The stamp a text line starts with, if any.
pub fn leading_stamp(line: &[u8]) -> Option<Stamp> {
    let b = line.strip_prefix(b"[").unwrap_or(line);
    if let Some(s) = iso(b) {
        return Some(s);
    }
    if let Some(s) = php(b) {
        return Some(s);
    }
    // ctime, as uWSGI's --log-date writes it: `Fri Feb 11 13:32:04 2022`.
    b.get(..24)
        .and_then(time::parse_ctime)
        .map(|naive| stamp_of(naive, None))
}

/// Parses one application line. Every line is an application line; the
/// stamp is `None` for one without its own.
pub fn parse(line: &[u8]) -> AppLine {
    if line.first() == Some(&b'{') {
        if let Some((t, status)) = json::time(line) {
            return AppLine {
                stamp: t.map(|(utc, offset)| Stamp::Zoned { utc, offset }),
                request_shaped: status && t.is_some(),
            };
        }
    }
    AppLine {
        stamp: leading_stamp(line),
        request_shaped: false,
    }
}

/// Whether a line looks like an application line with its own stamp (for
/// detection: text stamps or JSON with a time field).
pub fn has_stamp(line: &[u8]) -> bool {
    parse(line).stamp.is_some()
}

/// Application logs in the registry: never detected from a line alone,
/// only when no other family fits (see `lenient`).
pub static SPEC: super::registry::Spec = super::registry::Spec {
    name: "app",
    aliases: &[],
    about: "application log: timestamped text or JSON lines, searched for OOM and crash signals",
    requests: false,
    blocks: super::registry::Blocks::Lines,
    parse: |_, line| {
        let p = parse(line);
        Some(super::Line::App {
            stamp: p.stamp,
            request_shaped: p.request_shaped,
        })
    },
    detail: super::registry::no_detail,
    sniff: None,
    lenient: Some(has_stamp),
    seed: None,
    evidence: None,
    caveat: None,
    unplaced: None,
};

#[cfg(test)]
mod tests {
    use super::*;

    const NAIVE: i64 = 1_675_321_213; // 2023-02-02 07:00:13 as naive seconds

    fn local(naive: i64) -> Option<Stamp> {
        Some(Stamp::Local {
            naive,
            year_inferred: false,
        })
    }

    #[test]
    fn stamps_of_the_common_loggers() {
        // Python logging default (comma milliseconds), Java/logback.
        assert_eq!(
            leading_stamp(b"2023-02-02 07:00:13,896 ERROR app: boom"),
            local(NAIVE)
        );
        assert_eq!(
            leading_stamp(b"2023-02-02 07:00:13.896 [main] ERROR x"),
            local(NAIVE)
        );
        // gunicorn: bracketed, a space before the zone.
        assert_eq!(
            leading_stamp(
                b"[2023-02-02 07:00:13 +0300] [18] [ERROR] Worker (pid:21) was sent SIGKILL!"
            ),
            Some(Stamp::Zoned {
                utc: NAIVE - 10_800,
                offset: 10_800
            })
        );
        // CRI container log.
        assert_eq!(
            leading_stamp(b"2023-02-02T04:00:13.669794202Z stderr F MemoryError"),
            Some(Stamp::Zoned {
                utc: NAIVE - 10_800,
                offset: 0
            })
        );
        // PHP error_log and php-fpm.
        assert_eq!(
            leading_stamp(b"[02-Feb-2023 04:00:13 UTC] PHP Fatal error:  Allowed memory size"),
            Some(Stamp::Zoned {
                utc: NAIVE - 10_800,
                offset: 0
            })
        );
        assert_eq!(
            leading_stamp(b"[02-Feb-2023 07:00:13] WARNING: [pool www] child 9 exited on signal 9"),
            local(NAIVE)
        );
        // uWSGI --log-date.
        assert_eq!(
            leading_stamp(b"Thu Feb  2 07:00:13 2023 - DAMN ! worker 1 (pid: 9) died"),
            local(NAIVE)
        );
        // A number after the time is not a zone.
        assert_eq!(
            leading_stamp(b"2023-02-02 07:00:13 1234 rows"),
            local(NAIVE)
        );
    }

    #[test]
    fn continuations_and_json() {
        assert_eq!(parse(b"Traceback (most recent call last):").stamp, None);
        assert_eq!(
            parse(b"    at com.shop.Api.handle(Api.java:42)").stamp,
            None
        );
        assert_eq!(parse(b"MemoryError").stamp, None);
        assert_eq!(
            parse(br#"{"time":"2023-02-02T07:00:13+03:00","level":"error","msg":"MemoryError"}"#)
                .stamp,
            Some(Stamp::Zoned {
                utc: NAIVE - 10_800,
                offset: 10_800
            })
        );
        assert_eq!(parse(br#"{"level":"error","msg":"no time"}"#).stamp, None);
    }
}
