//! Pre-aggregated series: what an SQL engine's `GROUP BY host, second`
//! gives, read as a summary (`logburst merge --series FILE|-`), so that
//! Athena, ClickHouse or DuckDB scan the archive and logburst finds the
//! incidents and writes the timeline and the draft.
//!
//! CSV with a header (RFC 4180: SQL engines quote a field that holds a
//! comma or a quote): `host`, `time`, `requests`, `errors`, and optional
//! `status_NNN` columns (the failed responses of that status). Columns are
//! found by name, in any order and any case; others are ignored. `time` is
//! RFC 3339 (`2023-02-02T07:00:13Z`), an SQL timestamp (`2023-02-02
//! 07:00:13`: UTC unless it carries an offset, `+00` or `+03:00`) or
//! seconds since the epoch. `errors` are the failures as the query counted
//! them; `merge --errors` cannot recount them.
//!
//! Resolution: per second, or per minute when every time falls on a
//! minute boundary. A minute's counts are spread evenly over its 60
//! seconds (the remainders on its first seconds), so a burst's onset and
//! its detection are known to the minute, and a burst shorter than a
//! minute is diluted over it.
//!
//! A row that does not read (a field missing or not a count, errors above
//! requests, status columns adding up to more than errors, a time out of
//! range) is counted malformed and the first few are kept, as a log's
//! lines are; the totals of the rows read are exact.

use std::path::Path;

use crate::bucket::{BucketSet, MAX_HOSTS};
use crate::error::{Error, Result};
use crate::event::Stamp;
use crate::pipeline::{Sample, Tally, MAX_SAMPLES};
use crate::source::HostFrom;
use crate::summary::{InputSummary, Summary};
use crate::time::{self, OffsetSecs};

/// One row read: a host, a second, its counts, offset and the counts of
/// its `status_NNN` columns.
struct Row<'r> {
    host: &'r str,
    t: i64,
    requests: u32,
    errors: u32,
    offset: OffsetSecs,
    statuses: Vec<(u16, u32)>,
}

/// The series CSV at `path` (`-`: standard input) as a summary, read up to
/// `limit` bytes (decompressed: gzip and zstd are sniffed).
pub fn read(path: &Path, limit: u64) -> Result<Summary> {
    let text = crate::summary::read_merged(path, "series", limit)?;
    let display = match path == Path::new("-") {
        true => "standard input".to_string(),
        false => path.display().to_string(),
    };
    from_csv(&text, display).map_err(|why| Error::Summary {
        path: path.into(),
        why,
    })
}

/// The columns of a series CSV, by position.
struct Columns {
    host: usize,
    time: usize,
    requests: usize,
    errors: usize,
    statuses: Vec<(usize, u16)>,
}

impl Columns {
    fn of(header: &csv::ByteRecord) -> std::result::Result<Columns, String> {
        let find = |name: &str| {
            header
                .iter()
                .position(|h| h.trim_ascii().eq_ignore_ascii_case(name.as_bytes()))
                .ok_or_else(|| {
                    let had: Vec<String> = header
                        .iter()
                        .map(|h| crate::escape::terminal(&String::from_utf8_lossy(h)))
                        .collect();
                    format!(
                        "not a series: no `{name}` column (it has {}); a series CSV has \
                         host,time,requests,errors and optional status_NNN columns, with a header",
                        had.join(",")
                    )
                })
        };
        let statuses = header
            .iter()
            .enumerate()
            .filter_map(|(i, h)| {
                let h = std::str::from_utf8(h).ok()?.trim().to_ascii_lowercase();
                let status: u16 = h.strip_prefix("status_")?.parse().ok()?;
                (100..=999).contains(&status).then_some((i, status))
            })
            .collect();
        Ok(Columns {
            host: find("host")?,
            time: find("time")?,
            requests: find("requests")?,
            errors: find("errors")?,
            statuses,
        })
    }
}

/// Reads one record; `None` when it does not read.
fn row<'r>(r: &'r csv::ByteRecord, c: &Columns) -> Option<Row<'r>> {
    let count = |i: usize| -> Option<u32> {
        let f = std::str::from_utf8(r.get(i)?).ok()?.trim();
        // An SQL engine may write a count as `12.0`.
        let f = f.strip_suffix(".0").unwrap_or(f);
        f.parse().ok()
    };
    let host = std::str::from_utf8(r.get(c.host)?).ok()?.trim();
    if host.is_empty() {
        return None;
    }
    let (t, offset) = stamp(r.get(c.time)?.trim_ascii())?;
    let (requests, errors) = (count(c.requests)?, count(c.errors)?);
    if errors > requests {
        return None;
    }
    let mut statuses = Vec::with_capacity(c.statuses.len());
    for &(i, status) in &c.statuses {
        // An empty status cell is none of that status.
        let n = match r.get(i)?.trim_ascii() {
            b"" => 0,
            _ => count(i)?,
        };
        statuses.push((status, n));
    }
    let attributed: u64 = statuses.iter().map(|(_, n)| u64::from(*n)).sum();
    (attributed <= u64::from(errors)).then_some(Row {
        host,
        t,
        requests,
        errors,
        offset,
        statuses,
    })
}

/// A time as SQL engines write it: RFC 3339 or `YYYY-MM-DD HH:MM:SS`
/// (UTC unless an offset follows), or epoch seconds. Within what a log's
/// stamp may be.
fn stamp(b: &[u8]) -> Option<(i64, OffsetSecs)> {
    let (t, offset) = match time::parse_iso(b) {
        Some((st, used)) if used == b.len() => {
            let off = st.offset.unwrap_or(0);
            (st.naive - i64::from(off), off)
        }
        Some(_) => return None,
        None => (std::str::from_utf8(b).ok()?.parse::<i64>().ok()?, 0),
    };
    let s = Stamp::Zoned { utc: t, offset };
    s.plausible().then_some((t, offset))
}

/// Reads a series CSV; `display` names it in the report. Two passes over
/// the text: the first finds the resolution, the second counts the rows
/// into the series, folding the hosts past [`MAX_HOSTS`] as they come, so
/// memory holds the series, not the rows.
pub fn from_csv(text: &[u8], display: String) -> std::result::Result<Summary, String> {
    let reader = || {
        csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(text)
    };
    let mut first = reader();
    let header = first
        .byte_headers()
        .map_err(|e| format!("not a series: {e}"))?
        .clone();
    let columns = Columns::of(&header)?;
    let mut record = csv::ByteRecord::new();
    let (mut any, mut per_minute) = (false, true);
    while let Ok(true) = first.read_byte_record(&mut record) {
        if let Some(r) = row(&record, &columns) {
            any = true;
            if r.t.rem_euclid(60) != 0 {
                per_minute = false;
                break;
            }
        }
    }
    let per_minute = any && per_minute;
    let mut reader = reader();
    let mut tally = Tally::default();
    let mut buckets = BucketSet::default();
    let mut hosts = Hosts::default();
    loop {
        let line = reader.position().line();
        let read = reader.read_byte_record(&mut record);
        let taken = match &read {
            Ok(false) => break,
            Ok(true) => row(&record, &columns),
            Err(_) => None,
        };
        tally.lines += 1;
        let Some(r) = taken else {
            tally.malformed += 1;
            if tally.samples.len() < MAX_SAMPLES {
                // A record the CSV reader refuses, or a row that does not
                // read: one more malformed row, and the reader goes on.
                let text = match read {
                    Ok(_) => record_text(&record),
                    Err(e) => e.to_string(),
                };
                tally.samples.push(Sample {
                    block: 0,
                    line: 0,
                    line_number: line,
                    text,
                });
            }
            continue;
        };
        tally.parsed += 1;
        hosts.saw(r.host);
        count_row(&mut buckets, &r, per_minute, &mut tally);
        if buckets.series.len() > 2 * MAX_HOSTS {
            buckets.cap_hosts(MAX_HOSTS);
        }
    }
    buckets.drop_empty_series();
    buckets.cap_hosts(MAX_HOSTS);
    Ok(summary(buckets, tally, hosts, per_minute, display))
}

/// The host an input is shown under: the one host its rows name, or how
/// many (counted up to the first two: more is "several").
#[derive(Default)]
struct Hosts {
    first: Option<String>,
    more: bool,
}

impl Hosts {
    fn saw(&mut self, host: &str) {
        match &self.first {
            None => self.first = Some(host.to_string()),
            Some(f) if f != host => self.more = true,
            Some(_) => {}
        }
    }
}

/// Counts one row into its host's series: at its second, or spread over
/// its minute; and its stamps into the input's first and last.
fn count_row(buckets: &mut BucketSet, r: &Row, per_minute: bool, tally: &mut Tally) {
    let series = buckets.series_mut(r.host);
    if per_minute {
        for (k, (requests, errors, known)) in spread(r.requests, r.errors, &r.statuses) {
            series.add_counts(r.t + k, requests, errors, &known, r.offset);
        }
    } else {
        series.add_counts(r.t, r.requests, r.errors, &r.statuses, r.offset);
    }
    let stamp = |utc| Stamp::Zoned {
        utc,
        offset: r.offset,
    };
    let (first, last) = (stamp(r.t), stamp(r.t + if per_minute { 59 } else { 0 }));
    if tally.first.is_none_or(|f| first.sort_key() < f.sort_key()) {
        tally.first = Some(first);
    }
    if tally.last.is_none_or(|l| last.sort_key() > l.sort_key()) {
        tally.last = Some(last);
    }
}

/// A record as a line of text, for a malformed row's sample.
fn record_text(r: &csv::ByteRecord) -> String {
    let fields: Vec<String> = r
        .iter()
        .map(|f| String::from_utf8_lossy(f).into())
        .collect();
    fields.join(",")
}

/// The summary of a series read: one input, its rows' accounting.
fn summary(
    buckets: BucketSet,
    tally: Tally,
    hosts: Hosts,
    per_minute: bool,
    display: String,
) -> Summary {
    let resolution = if per_minute { "minute" } else { "second" };
    let mut notes = Vec::new();
    if per_minute {
        notes.push(
            "read per minute (every time is on a minute boundary): each minute's counts are \
             spread over its seconds, so onsets and detection times are known to the minute"
                .to_string(),
        );
    }
    let host = match (hosts.first, hosts.more) {
        (Some(one), false) => one,
        (Some(_), true) => "several hosts".to_string(),
        (None, _) => "no host".to_string(),
    };
    let input = InputSummary {
        display,
        host,
        host_from: HostFrom::Label,
        format: None,
        format_name: format!("series per {resolution} (CSV)"),
        compression: None,
        envelope: None,
        tally,
        block_starts: vec![0],
        open_error: None,
        consumed: 0,
        history: false,
        notes,
        series: true,
    };
    Summary {
        inputs: vec![input],
        buckets,
        ..Summary::default()
    }
}

/// One second of a minute spread: requests, errors, the statuses of
/// those errors.
type Second = (u32, u32, Vec<(u16, u32)>);

/// A minute's counts over its 60 seconds: (second, requests, errors, the
/// statuses of those errors), evenly, the remainders on the first seconds;
/// each second's errors within its requests, its statuses within its
/// errors (filled in the columns' order), the sums unchanged.
fn spread(
    requests: u32,
    errors: u32,
    statuses: &[(u16, u32)],
) -> impl Iterator<Item = (i64, Second)> + '_ {
    let share = |n: u32, k: u32| n / 60 + u32::from(k < n % 60);
    let mut left: Vec<(u16, u32)> = statuses.to_vec();
    (0..60u32).filter_map(move |k| {
        let (r, e) = (share(requests, k), share(errors, k));
        let mut room = e;
        let mut known = Vec::new();
        for (status, n) in left.iter_mut().filter(|(_, n)| *n > 0) {
            let take = (*n).min(room);
            if take > 0 {
                known.push((*status, take));
                *n -= take;
                room -= take;
            }
        }
        (r > 0).then_some((i64::from(k), (r, e, known)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bucket::OTHER_HOSTS;
    use std::collections::BTreeMap;

    #[test]
    fn hosts_past_the_cap_fold_as_they_come() {
        let n = 2 * MAX_HOSTS + 2500;
        let mut csv = String::from("host,time,requests,errors\n");
        for i in 0..n {
            csv.push_str(&format!("h{i:06},{},3,1\n", 1_675_321_213 + i % 7));
        }
        let s = from_csv(csv.as_bytes(), "many.csv".into()).unwrap();
        assert_eq!(s.buckets.series.len(), MAX_HOSTS + 1);
        let total: u64 = s.buckets.series.values().map(|x| x.requests).sum();
        let errors: u64 = s.buckets.series.values().map(|x| x.errors).sum();
        assert_eq!((total, errors), (3 * n as u64, n as u64));
        assert_eq!(
            s.buckets.series[OTHER_HOSTS].requests,
            3 * (n - MAX_HOSTS) as u64
        );
        assert_eq!(s.inputs[0].tally.parsed, n as u64);
    }

    #[test]
    fn minutes_spread_to_the_same_sums() {
        for (r, e, st) in [
            (0u32, 0u32, vec![]),
            (59, 59, vec![(502u16, 30u32), (504, 29)]),
            (61, 2, vec![(500, 1)]),
            (6000, 3001, vec![(502, 3000), (503, 1)]),
            (125, 125, vec![(502, 100)]),
        ] {
            let seconds: Vec<_> = spread(r, e, &st).collect();
            let sum_r: u32 = seconds.iter().map(|(_, (r, _, _))| r).sum();
            let sum_e: u32 = seconds.iter().map(|(_, (_, e, _))| e).sum();
            assert_eq!((sum_r, sum_e), (r, e));
            for (status, n) in &st {
                let got: u32 = seconds
                    .iter()
                    .flat_map(|(_, (_, _, k))| k.iter())
                    .filter(|(s, _)| s == status)
                    .map(|(_, n)| n)
                    .sum();
                assert_eq!(got, *n, "{status}");
            }
            for (k, (r, e, known)) in &seconds {
                assert!((0..60).contains(k) && e <= r);
                assert!(known.iter().map(|(_, n)| n).sum::<u32>() <= *e);
            }
        }
    }

    #[test]
    fn rows_read_and_rows_refused() {
        let csv = "Host,time,requests,errors,status_502,status_504,extra\n\
                   web-01,2023-02-02 07:00:13,10,3,2,1,x\n\
                   \"web,02\",2023-02-02T07:00:14+03:00,5,0,,,\n\
                   web-01,1675321215,4,1,,,\n\
                   web-01,2023-02-02 07:00:16,4,5,,,\n\
                   web-01,2023-02-02 07:00:17,4,2,2,1,\n\
                   web-01,not a time,4,1,,,\n\
                   web-01,2023-02-02 07:00:18,-4,0,,,\n\
                   ,2023-02-02 07:00:19,4,0,,,\n";
        let s = from_csv(csv.as_bytes(), "q.csv".into()).unwrap();
        let t = &s.inputs[0].tally;
        assert_eq!((t.lines, t.parsed, t.malformed), (8, 3, 5));
        assert_eq!(t.samples[0].line_number, 5);
        assert_eq!(s.inputs[0].format_name, "series per second (CSV)");
        assert_eq!(s.inputs[0].host, "several hosts");
        let web01 = &s.buckets.series["web-01"];
        assert_eq!((web01.requests, web01.errors), (14, 4));
        let mut c = BTreeMap::new();
        web01.status_counts(0, i64::MAX, &mut c);
        assert_eq!(c, BTreeMap::from([(502, 2), (504, 1)]));
        let web02 = &s.buckets.series["web,02"];
        assert_eq!(web02.offsets, BTreeMap::from([(3 * 3600, 5)]));
    }

    #[test]
    fn minute_rows_and_bad_headers() {
        let csv = "host,time,requests,errors\nweb,2023-02-02 07:00:00,120,60\nweb,2023-02-02 07:01:00,61,0\n";
        let s = from_csv(csv.as_bytes(), "m.csv".into()).unwrap();
        assert_eq!(s.inputs[0].format_name, "series per minute (CSV)");
        let web = &s.buckets.series["web"];
        assert_eq!((web.requests, web.errors), (181, 60));
        assert_eq!(web.seconds().count(), 60 + 60);
        let e = from_csv(b"host,time,requests\nweb,1,1\n", "x".into()).unwrap_err();
        assert!(
            e.contains("no `errors` column (it has host,time,requests)"),
            "{e}"
        );
        assert!(from_csv(b"", "x".into())
            .unwrap_err()
            .contains("no `host` column"));
    }
}
