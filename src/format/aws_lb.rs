//! AWS load balancer access logs: Application Load Balancer entries and
//! Classic ELB entries, one format (`aws-lb`) since Classic's layout is
//! ALB's without the leading connection type.
//!
//! Field order from AWS's "Access logs for your Application Load Balancer"
//! (Elastic Load Balancing user guide, *Access log entries*: `type time elb
//! client:port target:port request_processing_time target_processing_time
//! response_processing_time elb_status_code target_status_code
//! received_bytes sent_bytes "request" "user_agent" ssl_cipher
//! ssl_protocol target_group_arn "trace_id" …`, trailing fields added over
//! the years up to `classification`, `classification_reason` and
//! `conn_trace_id`) and "Access logs for your Classic Load Balancer" (`time
//! elb client:port backend:port request_processing_time
//! backend_processing_time response_processing_time elb_status_code
//! backend_status_code received_bytes sent_bytes "request" "user_agent"
//! ssl_cipher ssl_protocol`). Only the first thirteen fields are read; the
//! ones after the request line are skipped, so fields AWS adds at the end
//! change nothing. The time is when the load balancer answered, in UTC.
//!
//! `elb_status_code` is what the client got and is what is counted. A
//! target of `-` means no target answered: the load balancer wrote the
//! status itself (no healthy target, a target timeout, a TLS failure).

use super::nginx_error::UpstreamKind;
use super::registry::{Blocks, Format, Sniffed, Spec};
use super::{Detail, Line, Route, RouteKind};
use crate::event::{Request, NO_RESPONSE};
use crate::time::ClfCache;

/// The connection types an ALB entry opens with.
const TYPES: &[&[u8]] = &[b"http", b"https", b"h2", b"grpcs", b"ws", b"wss"];

/// What an entry holds of interest.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    pub request: Request,
    /// The load balancer's name (`app/NAME/ID` for an ALB).
    pub elb: &'a [u8],
    pub client: &'a [u8],
    /// `ip:port`, or `-` when the load balancer answered itself.
    pub target: &'a [u8],
    /// The request line, between its quotes (`GET https://h:443/p HTTP/1.1`).
    pub line: &'a [u8],
}

/// Cuts the next space-separated field off `rest`.
fn field<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    if rest.is_empty() {
        return None;
    }
    let end = memchr::memchr(b' ', rest).unwrap_or(rest.len());
    let f = &rest[..end];
    *rest = rest.get(end + 1..).unwrap_or_default();
    (!f.is_empty()).then_some(f)
}

/// Seconds as the entry writes them (`0.000073`), `-1` when the request
/// never reached that stage: `None` then.
fn seconds(f: &[u8]) -> Option<f64> {
    let v: f64 = std::str::from_utf8(f).ok()?.parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v)
}

/// Reads one entry of either layout.
pub fn parse(line: &[u8]) -> Option<Entry<'_>> {
    parse_with(line, &mut ClfCache::default())
}

/// [`parse`], the stamp's minute read through `cache` (a block's entries
/// share their minute: `ClfCache::iso`).
pub fn parse_with<'a>(line: &'a [u8], cache: &mut ClfCache) -> Option<Entry<'a>> {
    let mut rest = line.strip_suffix(b"\r").unwrap_or(line);
    let mut first = field(&mut rest)?;
    if TYPES.contains(&first) {
        first = field(&mut rest)?;
    }
    let (stamp, used) = cache.iso(first)?;
    if used != first.len() {
        return None;
    }
    let utc = stamp.naive - i64::from(stamp.offset?);
    let elb = field(&mut rest)?;
    let client = field(&mut rest)?;
    let target = field(&mut rest)?;
    let mut latency = 0.0;
    let mut timed = true;
    for _ in 0..3 {
        let f = field(&mut rest)?;
        if f != b"-1" && seconds(f).is_none() {
            return None;
        }
        match seconds(f) {
            Some(s) => latency += s,
            None => timed = false,
        }
    }
    let elb_status = field(&mut rest)?;
    let status = match elb_status {
        // A TCP listener's entry (Classic): no HTTP status, no request.
        b"-" | b"000" => NO_RESPONSE,
        // Three digits from 100: `000`-`099` are no HTTP status (fuzz find).
        s if s.len() == 3 && s.iter().all(u8::is_ascii_digit) && s[0] != b'0' => {
            std::str::from_utf8(s).ok()?.parse().ok()?
        }
        _ => return None,
    };
    let _target_status = field(&mut rest)?;
    for _ in 0..2 {
        let bytes = field(&mut rest)?;
        if !bytes.iter().all(|c| c.is_ascii_digit() || *c == b'-') {
            return None;
        }
    }
    // The request line: up to the quote that a space or the line's end
    // follows (a quote inside is written escaped or percent-encoded).
    let quoted = rest.strip_prefix(b"\"")?;
    let close = memchr::memmem::find_iter(quoted, b"\"")
        .find(|&q| matches!(quoted.get(q + 1), None | Some(b' ')))?;
    Some(Entry {
        request: Request {
            utc,
            offset: 0,
            status,
            latency_ms: timed.then(|| (latency * 1000.0).round().min(u32::MAX as f64) as u32),
        },
        elb,
        client,
        target,
        line: &quoted[..close],
    })
}

/// A failed entry the load balancer answered itself (target `-`): the
/// load balancer (`app/shop-lb/50dc…`, `my-loadbalancer`) as the upstream
/// that failed.
fn evidence(line: &[u8]) -> Option<(String, UpstreamKind)> {
    let e = parse(line)?;
    (e.target == b"-" && e.request.status >= 500).then(|| {
        let name = String::from_utf8_lossy(&e.elb[..e.elb.len().min(120)]);
        (format!("load balancer {name}"), UpstreamKind::LbAnswered)
    })
}

fn detail<'a>(_: Option<&super::Seed>, line: &'a [u8]) -> Detail<'a> {
    parse(line).map_or_else(Detail::default, |e| {
        Detail::new(Some(e.client), Some(e.line))
    })
}

/// AWS ALB and Classic ELB access logs in the registry.
pub static SPEC: Spec = Spec {
    name: "aws-lb",
    aliases: &["alb", "elb", "aws-alb", "aws-elb"],
    about: "AWS Application Load Balancer and Classic ELB access log",
    requests: true,
    // The route: the target that answered (none when the load balancer
    // answered itself).
    blocks: Blocks::Requests(|l, cache| {
        let e = parse_with(l, cache)?;
        Some((e.request, Route::new(RouteKind::Backend, e.target)))
    }),
    parse: |p, l| parse_with(l, &mut p.clf).map(|e| Line::Request(e.request)),
    detail,
    sniff: Some((15, |_, l| match parse(l) {
        Some(_) => Sniffed::Is(Format::AwsLb),
        None => Sniffed::Pass,
    })),
    lenient: None,
    seed: None,
    evidence: Some(evidence),
    caveat: None,
    unplaced: None,
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The entries of AWS's documentation, in their field order: an HTTP
    /// and an HTTPS entry with a target, one the load balancer answered
    /// itself (target `-`, 503, times `-1`), and a Classic ELB entry.
    #[test]
    fn documented_entries() {
        let alb = br#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234abcd5678ef90"#;
        let e = parse(alb).unwrap();
        assert_eq!(
            (e.request.utc, e.request.status, e.request.latency_ms),
            (1_530_570_180, 200, Some(1))
        );
        assert_eq!(e.client, b"192.168.131.39:2817");
        assert_eq!(e.target, b"10.0.0.1:80");
        assert_eq!(e.line, b"GET http://www.example.com:80/ HTTP/1.1");
        let d = detail(None, alb);
        assert_eq!(d.client.as_deref(), Some(&b"192.168.131.39"[..]));
        assert_eq!(d.path.as_deref(), Some(&b"/"[..]));

        let own = br#"https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - -1 -1 -1 503 - 34 366 "GET https://www.example.com:443/api/orders/17 HTTP/1.1" "Mozilla/5.0 (X11; \"quoted\")" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2018-07-02T22:22:48.364000Z "forward" "-" "-" "-" "-" "-" "-" TID_1234abcd5678ef90"#;
        let e = parse(own).unwrap();
        assert_eq!((e.request.status, e.request.latency_ms), (503, None));
        assert_eq!(e.target, b"-");
        assert_eq!(
            detail(None, own).path.as_deref(),
            Some(&b"/api/orders/{id}"[..])
        );

        let classic = br#"2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -"#;
        let e = parse(classic).unwrap();
        assert_eq!((e.request.utc, e.request.status), (1_431_560_383, 200));
        assert_eq!(e.request.latency_ms, Some(1));
        let tcp = br#"2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.001069 0.000028 0.000041 - - 82 305 "- - - " "-" - -"#;
        assert_eq!(parse(tcp).unwrap().request.status, NO_RESPONSE);
        let odd = String::from_utf8(tcp.to_vec()).unwrap();
        let odd = odd.replacen(" - - ", " 012 - ", 1);
        assert!(odd != String::from_utf8(tcp.to_vec()).unwrap());
        assert!(parse(odd.as_bytes()).is_none(), "012 is no status");
    }

    #[test]
    fn other_lines_are_not_entries() {
        for l in [
            &b"http"[..],
            b"http 2018-07-02T22:23:00Z app/x 1.2.3.4:5 - 0.0 0.0 0.0 200",
            b"2018-07-02T22:23:00Z x 1.2.3.4:5 - 0.0 0.0 0.0 2000 - 1 1 \"GET / HTTP/1.1\"",
            b"2018-07-02T22:23:00 x 1.2.3.4:5 - 0.0 0.0 0.0 200 - 1 1 \"GET / HTTP/1.1\"",
            b"127.0.0.1 - - [02/Feb/2023:07:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"",
            b"2023-02-02T07:00:00Z web-01 nginx[1]: started",
        ] {
            assert_eq!(parse(l), None, "{}", String::from_utf8_lossy(l));
        }
    }
}
