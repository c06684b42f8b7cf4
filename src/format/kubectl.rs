//! `kubectl get events` (and `kubectl events`) as the text table they
//! print, e.g. saved after an outage with `kubectl get events -A > ev.txt`:
//!
//! ```text
//! NAMESPACE   LAST SEEN   TYPE      REASON       OBJECT              MESSAGE
//! default     47m         Warning   OOMKilling   node/node-1         Memory cgroup out of memory: Killed process 4242 (nginx) …
//! shop        2m (x3 over 10m)   Warning   BackOff   pod/web-7c9   Back-off restarting failed container
//! ```
//!
//! The columns are padded by at least three spaces (kubectl's tab writer);
//! `NAMESPACE` comes first with `-A`. `LAST SEEN` is an age, printed by
//! kubectl's `HumanDuration` (`95s`, `5m30s`, `47m`, `3h12m`, `2d3h`, `4y`):
//! a line is placed at the instant the file was written (its modification
//! time; now for standard input) minus its age, so its time is only as
//! good as that instant and the rounding (the true age is up to one unit
//! of its last part more). The input's notes say so. The message (from the
//! reason on) is searched for signals, as a system line's is; an event
//! about a node (`node/node-1`) is that node's, the host its kernel log
//! names, so that its OOM kill and the node's join; so is one read as a
//! JSON line (`kubectl get events -o json`, [`json_node`]).

use super::registry::{no_detail, Blocks, Format, Sniffed, Spec};
use super::Line;
use crate::event::Stamp;

/// What every report of such an input says of its times.
pub const NOTE: &str = "times are kubectl's ages (LAST SEEN) counted back from when the file was written (its modification time; now for standard input), to kubectl's rounding: a few seconds for recent events, up to a minute past 10 minutes, an hour past 3 hours; if the file was copied or touched since kubectl wrote it, every time is off by as much";

/// An age as kubectl prints it, in seconds, and the unit of its last part
/// (how much older the event may be). `<unknown>` and anything else that
/// is not one: `None`.
pub fn age(s: &[u8]) -> Option<Age> {
    let (mut total, mut n, mut unit, mut parts) = (0i64, None::<i64>, i64::MAX, 0);
    for &b in s {
        let k = match b {
            b'0'..=b'9' => {
                let d = i64::from(b - b'0');
                n = Some(n.unwrap_or(0).checked_mul(10)?.checked_add(d)?);
                continue;
            }
            b's' => 1,
            b'm' => 60,
            b'h' => 3600,
            b'd' => 86_400,
            b'y' => 365 * 86_400,
            _ => return None,
        };
        // Larger units first, two parts at most.
        if k >= unit || parts == 2 {
            return None;
        }
        total = total.checked_add(n.take()?.checked_mul(k)?)?;
        (unit, parts) = (k, parts + 1);
    }
    // No cluster has events a century old.
    (n.is_none() && parts > 0 && total <= 100 * 365 * 86_400).then_some((total, unit))
}

/// The cells of a row: split at runs of two or more spaces; the last cell
/// (the message) is the rest of the line.
fn cells(line: &[u8], n: usize) -> Option<(Vec<&[u8]>, &[u8])> {
    let mut out = Vec::with_capacity(n);
    let mut rest = line;
    while out.len() < n {
        let at = memchr::memmem::find(rest, b"  ")?;
        out.push(&rest[..at]);
        let skip = rest[at..].iter().take_while(|&&b| b == b' ').count();
        rest = &rest[at + skip..];
    }
    Some((out, rest))
}

/// An age in seconds and the unit of its last part.
pub type Age = (i64, i64);

/// A row: its age (none for `<unknown>`) and the text from the reason on;
/// `None` for anything else (the header included).
pub fn parse_row(line: &[u8]) -> Option<(Option<Age>, &[u8])> {
    // LAST SEEN TYPE, or NAMESPACE LAST SEEN TYPE.
    for with_namespace in [false, true] {
        let n = 2 + usize::from(with_namespace);
        let Some((c, rest)) = cells(line, n) else {
            continue;
        };
        let (seen, kind) = (c[n - 2], c[n - 1]);
        if !matches!(kind, b"Normal" | b"Warning") || rest.is_empty() {
            continue;
        }
        // `2m (x3 over 10m)`: the last time seen, then the count.
        let last = seen.split(|&b| b == b' ').next().unwrap_or(seen);
        if last == b"<unknown>" {
            return Some((None, rest));
        }
        if let Some(a) = age(last) {
            return Some((Some(a), rest));
        }
    }
    None
}

/// The node an event is about (`OBJECT` `node/node-1`: the node's
/// kubelet, node-problem-detector's OOMKilling): its name, the host its
/// own logs name; `None` for other objects (a pod's event stays with the
/// file's host). `rest` is the row from its reason on.
fn node(rest: &[u8]) -> Option<&[u8]> {
    let (c, _) = cells(rest, 2)?;
    c[1].strip_prefix(b"node/")
        .filter(|n| !n.is_empty() && !n.contains(&b' '))
}

/// The node a Kubernetes event read as a JSON line is about
/// (`involvedObject` of core/v1 events, `regarding` of events.k8s.io/v1,
/// of kind `Node`): its name, as the table's `node/NAME` gives it. Read
/// only for lines that hold a signal.
pub fn json_node(line: &[u8]) -> Option<String> {
    if line.first() != Some(&b'{') {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    let name = ["involvedObject", "regarding"].iter().find_map(|k| {
        let object = v.get(k)?;
        (object.get("kind")?.as_str()? == "Node").then_some(())?;
        object.get("name")?.as_str()
    })?;
    // A Kubernetes node name: a DNS subdomain.
    let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
    (!name.is_empty() && name.len() <= 253 && name.chars().all(valid)).then(|| name.to_string())
}

/// The header line kubectl prints first.
pub fn is_header(line: &[u8]) -> bool {
    let line = line.strip_prefix(b"NAMESPACE").unwrap_or(line).trim_ascii();
    line.starts_with(b"LAST SEEN") && memchr::memmem::find(line, b"REASON").is_some()
}

/// `kubectl get events` / `kubectl events` text output.
pub static SPEC: Spec = Spec {
    name: "kubectl-events",
    aliases: &["kubectl"],
    about: "kubectl get events as a table: ages before the file's modification time, messages searched for signals",
    requests: false,
    blocks: Blocks::Lines,
    parse: |p, line| {
        if is_header(line) {
            return Some(Line::Meta);
        }
        let (age, msg) = parse_row(line)?;
        let utc = age.and_then(|(a, _)| p.years.written?.checked_sub(a));
        Some(match utc {
            Some(utc) => Line::System {
                stamp: Stamp::Zoned { utc, offset: 0 },
                host: node(msg),
                process: None,
                msg: msg.into(),
                kernel: false,
                oom: None,
                upstream: None,
            },
            None => Line::Unplaced,
        })
    },
    detail: no_detail,
    sniff: Some((58, |_, l| {
        if is_header(l) || parse_row(l).is_some() {
            Sniffed::Is(Format::KubectlEvents)
        } else {
            Sniffed::Pass
        }
    })),
    lenient: None,
    seed: None,
    evidence: None,
    caveat: Some(NOTE),
    unplaced: Some(|n| match n {
        1 => "1 row has no age (<unknown>) and was skipped".into(),
        n => format!("{n} rows have no age (<unknown>) and were skipped"),
    }),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_as_kubectl_prints_them() {
        assert_eq!(age(b"95s"), Some((95, 1)));
        assert_eq!(age(b"5m30s"), Some((330, 1)));
        assert_eq!(age(b"47m"), Some((2820, 60)));
        assert_eq!(age(b"3h12m"), Some((11_520, 60)));
        assert_eq!(age(b"2d3h"), Some((183_600, 3600)));
        assert_eq!(age(b"4y"), Some((4 * 365 * 86_400, 365 * 86_400)));
        for bad in [
            &b""[..],
            b"5",
            b"m",
            b"5ms",
            b"30s5m",
            b"1d2h3m",
            b"-5m",
            b"101y",
            b"99999999999999999999y",
        ] {
            assert_eq!(age(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn rows_with_and_without_namespace() {
        let row = b"47m         Warning   OOMKilling   node/node-1   Memory cgroup out of memory: Killed process 4242 (nginx)";
        let (a, msg) = parse_row(row).unwrap();
        assert_eq!(a, Some((2820, 60)));
        assert!(msg.starts_with(b"OOMKilling   node/node-1   Memory"));
        assert_eq!(node(msg), Some(&b"node-1"[..]));
        let row =
            b"shop        2m (x3 over 10m)   Warning   BackOff   pod/web-7c9   Back-off restarting";
        let (a, msg) = parse_row(row).unwrap();
        assert_eq!((a, node(msg)), (Some((120, 60)), None));
        assert_eq!(node(b"Starting   node/   x"), None);
        let row =
            b"default     <unknown>   Normal    Scheduled   pod/web-1   Successfully assigned";
        assert_eq!(parse_row(row).unwrap().0, None);
        assert!(is_header(
            b"LAST SEEN   TYPE      REASON       OBJECT   MESSAGE"
        ));
        assert!(is_header(
            b"NAMESPACE   LAST SEEN   TYPE      REASON   OBJECT   MESSAGE"
        ));
        assert!(parse_row(b"LAST SEEN   TYPE      REASON       OBJECT   MESSAGE").is_none());
        // Not a type kubectl prints, no message, not an age.
        assert!(parse_row(b"47m   Info   X   pod/a   m").is_none());
        assert!(parse_row(b"47m   Warning").is_none());
        assert!(parse_row(b"today   Warning   X   pod/a   m").is_none());
    }

    #[test]
    fn json_events_name_their_node() {
        let node = |s: &str| json_node(s.as_bytes());
        assert_eq!(
            node(r#"{"involvedObject":{"kind":"Node","name":"node-1"},"reason":"OOMKilling"}"#),
            Some("node-1".into())
        );
        assert_eq!(
            node(r#"{"regarding":{"kind":"Node","name":"ip-10-0-1-5.ec2.internal"}}"#),
            Some("ip-10-0-1-5.ec2.internal".into())
        );
        assert_eq!(
            node(r#"{"involvedObject":{"kind":"Pod","name":"web-0"}}"#),
            None
        );
        assert_eq!(
            node(r#"{"involvedObject":{"kind":"Node","name":"a b\u001b[31m"}}"#),
            None
        );
        assert_eq!(
            node(r#"{"involvedObject":{"kind":"Node","name":""}}"#),
            None
        );
        assert_eq!(node("Feb  2 07:00:13 node-1 kernel: x"), None);
    }
}
