//! What a cron state remembers of the incidents it reported, and how a
//! run's incidents are matched with them: new, still going on, or over.

use serde::{Deserialize, Serialize};

use super::State;
use crate::report::model::{Analysis, IncidentKind, Status};

/// An incident reported by an earlier run.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Seen {
    pub kind: String,
    pub start: i64,
    pub detected: i64,
    pub end: i64,
    /// Its last bad second could still be extended by newer lines.
    pub open: bool,
    /// The id and hosts of its first report, which its alerts keep
    /// (empty in states written before alerts).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
}

impl Seen {
    /// The same incident, seen again: same kind, overlapping span.
    fn matches(&self, kind: &str, start: i64, end: i64) -> bool {
        self.kind == kind && self.start <= end && start <= self.end
    }

    /// The id of its first report (derived from its start in states
    /// written before ids were kept).
    fn alert_id(&self, kind: IncidentKind) -> String {
        if self.id.is_empty() {
            crate::report::model::incident_id(kind, self.start)
        } else {
            self.id.clone()
        }
    }
}

/// Gives each incident its status against what earlier runs reported
/// (leaving out those already reported over, and those judged by an
/// earlier run at the history's edge), the incidents to remember, and
/// those reported open that closed without being found again.
pub(super) fn mark_incidents(
    analysis: &mut Analysis,
    state: &State,
    data_end: Option<i64>,
    now: i64,
    p: &crate::detect::Params,
) -> (Vec<Seen>, Vec<crate::deliver::Closed>) {
    let mut seen = state.seen.clone();
    let mut updated = vec![false; seen.len()];
    let mut shown = Vec::new();
    for mut inc in std::mem::take(&mut analysis.incidents) {
        let (kind, start, end) = (inc.kind, inc.start.utc, inc.end.utc);
        // Kills and memory signals are instants: with no newer line in
        // any log (a quiet kern.log alone), the clock says they are over.
        let seen_to = match inc.kind {
            IncidentKind::Oom => data_end.map(|d| d.max(now)),
            _ => data_end,
        };
        let open = kind.still_open(end, seen_to, p.window, p.cooldown);
        let before = seen.iter().position(|s| s.matches(kind.name(), start, end));
        let status = match before.map(|i| seen[i].open) {
            Some(true) if open => Status::Ongoing,
            Some(true) => Status::Ended,
            Some(false) => continue,
            // Windows cut at the history's edge are partial: whatever they
            // show was judged with full windows by an earlier run.
            None if state
                .horizon
                .is_some_and(|h| inc.detected.utc < h + p.window + p.cooldown) =>
            {
                continue
            }
            None => Status::New,
        };
        // An alert keeps the identity of the incident's first report.
        if let Some(first) = before.map(|i| &seen[i]) {
            inc.id = first.alert_id(kind);
            if !first.hosts.is_empty() {
                inc.alert_hosts = first.hosts.clone();
            }
        }
        let record = Seen {
            kind: kind.name().to_string(),
            start,
            detected: inc.detected.utc,
            end,
            open,
            id: inc.id.clone(),
            hosts: inc.alert_hosts.clone(),
        };
        match before {
            Some(i) => {
                seen[i] = record;
                updated[i] = true;
            }
            None => seen.push(record),
        }
        inc.status = Some(status);
        inc.open = Some(open);
        shown.push(inc);
    }
    analysis.incidents = shown;
    // An open incident no longer found (a lone OOM kill that a burst now
    // claims as its cause) closes once the logs have moved past it.
    // Its alert is resolved then: no run reports it again.
    let mut closed = Vec::new();
    for (s, updated) in seen.iter_mut().zip(updated) {
        if s.open && !updated {
            s.open = data_end.is_none_or(|d| s.end + p.window + p.cooldown > d);
            let kind = IncidentKind::from_name(&s.kind);
            if let (false, Some(kind)) = (s.open, kind) {
                closed.push(crate::deliver::Closed {
                    kind,
                    id: s.alert_id(kind),
                    hosts: s.hosts.clone(),
                    start: s.start,
                    end: s.end,
                });
            }
        }
    }

    (seen, closed)
}
