//! The dates object keys name, for `--since` / `--until` to prune a
//! listing: the documented layouts of AWS's load balancer logs
//! (`AWSLogs/<account>/elasticloadbalancing/<region>/YYYY/MM/DD/`),
//! CloudFront's (`<distribution>.YYYY-MM-DD-HH.<id>.gz`) and any key with
//! `YYYY/MM/DD` directories (Fluent Bit's and Vector's S3 outputs,
//! Hive-style `year=YYYY/month=MM/day=DD`). A key's date is the UTC day or
//! hour of its delivery, which may hold lines from a little earlier: the
//! run's span is widened by [`SLACK`] before a key is judged outside it.

use chrono::{Datelike, NaiveDate};

/// How far outside `--since` / `--until` a key's day or hour may be and
/// still be read: a day (late delivery, a `--since` in local time).
pub const SLACK: i64 = 86_400;

/// At most this many day prefixes are listed one by one; a longer span is
/// listed whole and filtered.
const MAX_DAYS: i64 = 400;

/// The UTC seconds `[start, end)` the key's layout names, or `None` when it
/// names no date.
pub fn key_span(key: &str) -> Option<(i64, i64)> {
    let parts: Vec<&str> = key.split('/').collect();
    let name = parts.last()?;
    // CloudFront: `<distribution>.YYYY-MM-DD-HH.<id>.gz`.
    if let Some(hour) = name.split('.').nth(1).and_then(cloudfront_hour) {
        return Some((hour, hour + 3600));
    }
    let dirs = &parts[..parts.len() - 1];
    dirs.windows(3).rev().find_map(|w| {
        let value = |s: &str, name: &str| s.strip_prefix(name).unwrap_or(s).to_string();
        let (y, m, d) = (
            value(w[0], "year="),
            value(w[1], "month="),
            value(w[2], "day="),
        );
        let ok = y.len() == 4 && m.len() == 2 && d.len() == 2;
        let date =
            ok.then(|| NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?));
        let start = day_start(date??);
        Some((start, start + 86_400))
    })
}

/// `YYYY-MM-DD-HH` as the UTC second its hour starts.
fn cloudfront_hour(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 13 || [b[4], b[7], b[10]] != [b'-'; 3] {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    let date = NaiveDate::from_ymd_opt(n(0..4)? as i32, n(5..7)?, n(8..10)?)?;
    let hour = n(11..13).filter(|h| *h < 24)?;
    Some(day_start(date) + i64::from(hour) * 3600)
}

fn day_start(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp()
}

/// Whether a key naming `span` may hold lines in `since..until`.
pub fn may_hold(span: (i64, i64), since: Option<i64>, until: Option<i64>) -> bool {
    since.is_none_or(|s| span.1 > s - SLACK) && until.is_none_or(|u| span.0 < u + SLACK)
}

/// For a prefix in the load balancer layout (`…/elasticloadbalancing/
/// <region>/`, or a year or month below it), the day prefixes of
/// `since..until` (widened by [`SLACK`]) under it; `None` for another
/// layout or a span of more than [`MAX_DAYS`] days.
pub fn day_prefixes(prefix: &str, since: i64, until: i64) -> Option<Vec<String>> {
    let trimmed = prefix.trim_end_matches('/');
    let parts: Vec<&str> = trimmed.split('/').collect();
    let at = parts.iter().rposition(|p| *p == "elasticloadbalancing")?;
    // The region, then at most a year and a month.
    let below = parts.len().checked_sub(at + 2)?;
    if below > 2 {
        return None;
    }
    let base = parts[..at + 2].join("/");
    let (from, to) = (since - SLACK, until + SLACK);
    if to <= from || (to - from) / 86_400 > MAX_DAYS {
        return None;
    }
    let first = chrono::DateTime::from_timestamp(from, 0)?.date_naive();
    let last = chrono::DateTime::from_timestamp(to - 1, 0)?.date_naive();
    let mut out = Vec::new();
    let mut d = first;
    while d <= last {
        let day = format!("{base}/{:04}/{:02}/{:02}/", d.year(), d.month(), d.day());
        if day.starts_with(&format!("{trimmed}/")) {
            out.push(day);
        }
        d = d.succ_opt()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;
    /// 2023-02-02T00:00:00Z.
    const FEB2: i64 = 1_675_296_000;

    #[test]
    fn keys_name_their_day_or_hour() {
        // AWS's documented ALB key.
        let alb = "AWSLogs/123456789012/elasticloadbalancing/us-east-2/2023/02/02/123456789012_elasticloadbalancing_us-east-2_app.my-lb.1234567890abcdef_20230202T0700Z_172.160.001.192_20sg8hgm.log.gz";
        assert_eq!(key_span(alb), Some((FEB2, FEB2 + DAY)));
        let cf = "cf/E2EXAMPLE12345.2023-02-02-07.a103fd5d.gz";
        assert_eq!(key_span(cf), Some((FEB2 + 7 * 3600, FEB2 + 8 * 3600)));
        let hive = "logs/year=2023/month=02/day=02/part-0.gz";
        assert_eq!(key_span(hive), Some((FEB2, FEB2 + DAY)));
        for none in [
            "web-01/access.log.1.gz",
            "2023/02/x.log",
            "a/2023/13/02/x",
            "E1.2023-02-02.x.gz",
        ] {
            assert_eq!(key_span(none), None, "{none}");
        }
    }

    #[test]
    fn spans_are_judged_with_slack() {
        let day = (FEB2, FEB2 + DAY);
        assert!(may_hold(day, Some(FEB2 + 3600), Some(FEB2 + 7200)));
        assert!(may_hold(day, None, None));
        // The next day's key may hold this day's last lines.
        assert!(may_hold(
            (FEB2 + DAY, FEB2 + 2 * DAY),
            None,
            Some(FEB2 + 3600)
        ));
        assert!(!may_hold(
            (FEB2 + 3 * DAY, FEB2 + 4 * DAY),
            None,
            Some(FEB2 + DAY)
        ));
        assert!(!may_hold(
            (FEB2 - 3 * DAY, FEB2 - 2 * DAY),
            Some(FEB2),
            None
        ));
    }

    #[test]
    fn a_load_balancer_prefix_lists_the_days_of_the_span() {
        let p = "AWSLogs/1/elasticloadbalancing/eu-west-1/";
        let days = day_prefixes(p, FEB2 + 6 * 3600, FEB2 + 9 * 3600).unwrap();
        assert_eq!(
            days,
            [
                "AWSLogs/1/elasticloadbalancing/eu-west-1/2023/02/01/",
                "AWSLogs/1/elasticloadbalancing/eu-west-1/2023/02/02/",
                "AWSLogs/1/elasticloadbalancing/eu-west-1/2023/02/03/",
            ]
        );
        // Under a month prefix, only its days.
        let feb = "AWSLogs/1/elasticloadbalancing/eu-west-1/2023/02";
        let days = day_prefixes(feb, FEB2 - 2 * DAY, FEB2 + 3600).unwrap();
        assert_eq!(
            days.first().unwrap(),
            "AWSLogs/1/elasticloadbalancing/eu-west-1/2023/02/01/"
        );
        assert_eq!(days.len(), 3);
        assert_eq!(day_prefixes("logs/web-01", FEB2, FEB2 + 1), None);
        assert_eq!(day_prefixes(p, FEB2, FEB2 + 1000 * DAY), None);
        let day = "AWSLogs/1/elasticloadbalancing/eu-west-1/2023/02/02";
        assert_eq!(
            day_prefixes(day, FEB2, FEB2 + 1),
            None,
            "a day prefix is listed as given"
        );
    }
}
