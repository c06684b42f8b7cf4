//! Series views of an analysis: who and what a burst hit (from the bounded
//! tallies), each incident's chart, the whole run's overview (HTML) and the
//! per-host minute rows (CSV).

use crate::bucket::{BucketSet, Series};
use crate::detect::Incident;
use crate::place::Placer;
use crate::report::model::{
    ChartPoint, IncidentReport, MinuteRow, Narrow, PathCount, Time, CHART_STEPS, NARROW_SHARE,
    OVERVIEW_STEPS, TOP_PATHS,
};
use crate::sketch::ErrorTally;

/// Who and what a burst hit: the union of its hosts' tallies over its
/// minutes.
pub fn impact(r: &mut IncidentReport, buckets: &BucketSet, i: &Incident) {
    let tally = buckets.tally(&i.hosts, i.start, i.end);
    if !tally.clients.is_empty() {
        r.clients_affected = Some(tally.clients.count());
        r.clients_estimated = !tally.clients.is_exact();
    }
    // A count mostly made of overcount is a guess, not a finding.
    r.top_paths = tally
        .paths
        .top()
        .into_iter()
        .filter(|e| e.count - e.over >= e.over)
        .take(TOP_PATHS)
        .map(|e| PathCount {
            path: e.key,
            errors: e.count,
            overcount: e.over,
        })
        .collect();
    r.paths_scattered = r.top_paths.is_empty() && !tally.paths.is_empty();
    r.narrow = narrow(&tally, r.errors);
}

/// The client, else the path, that at least half of `errors` 5xx went to
/// (its count less its possible overcount, so the share is a floor).
fn narrow(tally: &ErrorTally, errors: u64) -> Option<Narrow> {
    if errors == 0 {
        return None;
    }
    [("client", &tally.top_clients), ("path", &tally.paths)]
        .into_iter()
        .find_map(|(by, t)| {
            let top = t.top().into_iter().next()?;
            let share = (top.count - top.over) as f64 / errors as f64;
            (share >= NARROW_SHARE).then(|| Narrow {
                by,
                key: top.key,
                share: share.min(1.0),
            })
        })
}

/// The incident's hosts' traffic from a little before its start to a
/// little after its end, in at most [`CHART_STEPS`] equal steps (a
/// multiple of 10 s); empty when its hosts wrote no requests.
pub fn chart(buckets: &BucketSet, i: &Incident, placer: &Placer) -> Vec<ChartPoint> {
    let lead = ((i.end - i.start) / 4).max(300);
    let (from, to) = (i.start - lead, i.end + lead);
    let step = ((to - from) / CHART_STEPS + 10) / 10 * 10;
    steps(buckets, &i.hosts, from, to, step, placer)
}

/// Every host's requests and 5xx over the span of the data, per minute,
/// or per a whole number of minutes when the span is longer than
/// [`OVERVIEW_STEPS`] minutes.
pub fn overview(buckets: &BucketSet, placer: &Placer) -> Vec<ChartPoint> {
    let spans: Vec<(i64, i64)> = buckets.series.values().filter_map(|s| s.span()).collect();
    let (Some(from), Some(to)) = (
        spans.iter().map(|s| s.0).min(),
        spans.iter().map(|s| s.1).max(),
    ) else {
        return Vec::new();
    };
    let minutes = (to - from) / 60 + 1;
    let step = 60 * ((minutes + OVERVIEW_STEPS - 1) / OVERVIEW_STEPS).max(1);
    let hosts: Vec<String> = buckets.series.keys().cloned().collect();
    steps(buckets, &hosts, from, to, step, placer)
}

/// The hosts' requests and 5xx in steps of `step` seconds from `from`
/// (rounded down to a multiple of `step`) to `to`, shown in the first
/// host's offset; empty when they wrote no requests.
fn steps(
    buckets: &BucketSet,
    hosts: &[String],
    from: i64,
    to: i64,
    step: i64,
    placer: &Placer,
) -> Vec<ChartPoint> {
    let series: Vec<&Series> = hosts.iter().filter_map(|h| buckets.series.get(h)).collect();
    if series.is_empty() {
        return Vec::new();
    }
    let from = from.div_euclid(step) * step;
    let host = hosts.first().map(String::as_str);
    let mut points = Vec::new();
    let mut t = from;
    while t <= to {
        let (mut r, mut e) = (0, 0);
        for s in &series {
            let (sr, se) = s.sum(t, t + step - 1);
            r += sr;
            e += se;
        }
        points.push(ChartPoint {
            time: Time {
                utc: t,
                offset: placer.display_offset(host, t, None),
            },
            step_seconds: step,
            requests: r,
            errors: e,
        });
        t += step;
    }
    if points.iter().all(|p| p.requests == 0) {
        points.clear();
    }
    points
}

/// Every host's minutes with requests, in time then host order.
pub fn minute_rows(buckets: &BucketSet, placer: &Placer) -> Vec<MinuteRow> {
    let mut rows = Vec::new();
    for (host, series) in &buckets.series {
        for (minute, c) in series.per_minute() {
            let offset = placer.display_offset(Some(host), minute, None);
            rows.push(MinuteRow {
                minute: Time {
                    utc: minute,
                    offset,
                },
                host: host.clone(),
                requests: c.requests,
                errors: c.errors,
                status: c.status,
            });
        }
    }
    rows.sort_by(|a, b| (a.minute.utc, &a.host).cmp(&(b.minute.utc, &b.host)));
    rows
}
