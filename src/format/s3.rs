//! Amazon S3 server access logs.
//!
//! Field order from AWS's "Amazon S3 server access log format" (S3 user
//! guide): `bucket_owner bucket [time] remote_ip requester request_id
//! operation key "request_uri" http_status error_code bytes_sent
//! object_size total_time turn_around_time "referer" "user_agent"
//! version_id host_id signature_version cipher_suite authentication_type
//! host_header tls_version access_point_arn acl_required`, fields added at
//! the end over the years (AWS: "any new fields are added to the end").
//! Only the fields up to `total_time` are read, so later ones change
//! nothing. The time is `[06/Feb/2019:00:00:38 +0000]`, as in CLF.
//!
//! The status counts; the bucket is the route (a virtual host), the
//! remote IP the client, the request URI the path, `total_time` (ms, from
//! the request's first byte to the response's last) the latency. A 503
//! with `SlowDown` is S3 throttling the caller: counted like any 5xx.

use super::registry::{Blocks, Format, Sniffed, Spec};
use super::{Detail, Line, Route, RouteKind};
use crate::event::Request;
use crate::time;

/// What an entry holds of interest.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    pub request: Request,
    pub bucket: &'a [u8],
    pub client: &'a [u8],
    /// The request line, between its quotes.
    pub line: &'a [u8],
}

/// Cuts the next space-separated field off `rest`.
fn field<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let end = memchr::memchr(b' ', rest).unwrap_or(rest.len());
    let f = &rest[..end];
    *rest = rest.get(end + 1..).unwrap_or_default();
    (!f.is_empty()).then_some(f)
}

/// A number of bytes or milliseconds, or `-`.
fn count(f: &[u8]) -> Option<Option<u64>> {
    if f == b"-" {
        return Some(None);
    }
    if f.is_empty() || f.len() > 19 || !f.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(std::str::from_utf8(f).ok()?.parse().ok())
}

/// Reads one entry.
pub fn parse(line: &[u8]) -> Option<Entry<'_>> {
    let mut rest = line.strip_suffix(b"\r").unwrap_or(line);
    let _owner = field(&mut rest)?;
    let bucket = field(&mut rest)?;
    // `[06/Feb/2019:00:00:38 +0000]`: 28 bytes and a space.
    let stamp = rest.get(..28)?;
    if stamp[0] != b'[' || stamp[27] != b']' || rest.get(28) != Some(&b' ') {
        return None;
    }
    let (utc, offset) = time::parse_clf(&stamp[1..27])?;
    rest = &rest[29..];
    let client = field(&mut rest)?;
    let _requester = field(&mut rest)?;
    let request_id = field(&mut rest)?;
    let operation = field(&mut rest)?;
    // `REST.GET.OBJECT`, `BATCH.DELETE.OBJECT`, `S3.TRANSITION_SIA.OBJECT`.
    if !operation.contains(&b'.') || !request_id.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let _key = field(&mut rest)?;
    // The request URI: `-` or quoted (a quote inside is percent-encoded).
    let line_text: &[u8] = if let Some(r) = rest.strip_prefix(b"- ") {
        rest = r;
        b"-"
    } else {
        let quoted = rest.strip_prefix(b"\"")?;
        let close = memchr::memmem::find(quoted, b"\" ")?;
        rest = &quoted[close + 2..];
        &quoted[..close]
    };
    let status = field(&mut rest)?;
    if status.len() != 3 || !status.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let status: u16 = std::str::from_utf8(status).ok()?.parse().ok()?;
    if !(100..=599).contains(&status) {
        return None;
    }
    let _error_code = field(&mut rest)?;
    let _bytes_sent = count(field(&mut rest)?)?;
    let _object_size = count(field(&mut rest)?)?;
    let total_ms = count(field(&mut rest)?)?;
    Some(Entry {
        request: Request {
            utc,
            offset,
            status,
            latency_ms: total_ms.map(|ms| ms.min(u64::from(u32::MAX)) as u32),
        },
        bucket,
        client,
        line: line_text,
    })
}

/// The client and request line of a failed entry.
fn detail<'a>(_: Option<&super::Seed>, line: &'a [u8]) -> Detail<'a> {
    parse(line).map_or_else(Detail::default, |e| {
        Detail::new(Some(e.client), (e.line != b"-").then_some(e.line))
    })
}

/// S3 server access logs in the registry.
pub static SPEC: Spec = Spec {
    name: "s3-access",
    aliases: &["s3"],
    about: "Amazon S3 server access log",
    requests: true,
    blocks: Blocks::Requests(|l, _| {
        let e = parse(l)?;
        Some((e.request, Route::new(RouteKind::Vhost, e.bucket)))
    }),
    parse: |_, l| parse(l).map(|e| Line::Request(e.request)),
    detail,
    sniff: Some((16, |_, l| match parse(l) {
        Some(_) => Sniffed::Is(Format::S3Access),
        None => Sniffed::Pass,
    })),
    lenient: None,
    seed: None,
    evidence: None,
    caveat: None,
    unplaced: None,
};

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's documented entries: a console request, a GET of an object
    /// with a 503 SlowDown, an entry with `-` for the request URI.
    #[test]
    fn documented_entries() {
        let doc = br#"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /awsexamplebucket1?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV2 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader awsexamplebucket1.s3.us-west-1.amazonaws.com TLSV1.2 arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP Yes"#;
        let e = parse(doc).unwrap();
        assert_eq!(time::rfc3339(e.request.utc, 0), "2019-02-06T00:00:38+00:00");
        assert_eq!((e.request.status, e.request.latency_ms), (200, Some(7)));
        assert_eq!(e.bucket, b"awsexamplebucket1");
        assert_eq!(e.client, b"192.0.2.3");
        assert_eq!(e.line, b"GET /awsexamplebucket1?versioning HTTP/1.1");
        let slow = br#"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be shop-assets [02/Feb/2023:07:00:13 +0000] 203.0.113.7 arn:aws:iam::123456789012:user/app 891CE47D2EXAMPLE REST.GET.OBJECT img/a.png "GET /shop-assets/img/a.png HTTP/1.1" 503 SlowDown 350 - 2 - "-" "aws-sdk-go/1.44" - Ab12= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader shop-assets.s3.eu-west-1.amazonaws.com TLSv1.2 - -"#;
        assert_eq!(parse(slow).unwrap().request.status, 503);
        let dash = br#"- shop-assets [02/Feb/2023:07:00:13 +0000] 203.0.113.7 - 891CE47D2EXAMPLE REST.GET.BUCKET - - 400 InvalidRequest 300 - 1 - "-" "-" - Ab12= - - - -"#;
        let e = parse(dash).unwrap();
        assert_eq!((e.request.status, e.line), (400, &b"-"[..]));
        // Other formats' lines.
        for other in [
            &b"10.0.0.1 - - [02/Feb/2023:07:00:13 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"c\""[..],
            b"owner bucket [02/Feb/2023:07:00:13 +0000] 1.2.3.4 - ID NOTANOP - \"GET / HTTP/1.1\" 200 - 1 - 1 - \"-\" \"-\"",
            b"",
        ] {
            assert_eq!(parse(other), None);
        }
    }
}
