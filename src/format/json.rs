//! JSON access logs: one object a line, as nginx `escape=json` templates,
//! Caddy, Traefik, Envoy and most JSON loggers write them. The status and
//! the time are found by name; every other field is skipped unread.
//!
//! Status keys: `status`, `status_code`, `statusCode`, `http_status`,
//! `response_status`, `response_code` (Envoy), `DownstreamStatus` (Traefik),
//! `http.response.status_code` (Elastic Common Schema, nested or
//! dotted), `httpRequest.status` (Google Cloud load balancers as exported
//! from Cloud Logging), `EdgeResponseStatus` (Cloudflare Logpush) and
//! `properties.httpStatusCode` (Azure Front Door, a string). Time keys:
//! `time`, `timestamp`, `@timestamp`, `ts` (Caddy), `time_iso8601`,
//! `time_local`, `msec`, `StartUTC` (Traefik), `start_time` (Envoy),
//! `EdgeStartTimestamp` (Cloudflare), `firstTimestamp`, `lastTimestamp`,
//! `eventTime` (Kubernetes events; `kubectl get events -o json` is read
//! item by item, `src/document.rs`), `datetime`, `date`; a null time is
//! skipped.
//!
//! The clouds' own words for a failure their edge answered are evidence
//! ([`evidence`]): Google's `jsonPayload.statusDetails` other than
//! `response_sent_by_backend` (`failed_to_pick_backend`, `backend_timeout`),
//! Cloudflare's `OriginResponseStatus` 0 (no answer from the origin),
//! Azure's `properties.errorInfo` other than `NoError`. Cloudflare lines
//! whose `RequestSource` is not `eyeball` are its own subrequests (it
//! documents them as showing 5xx the visitor never saw): read, not
//! counted. A time is an RFC 3339 string (no zone means
//! UTC), an nginx `$time_local` string, or seconds since the epoch as a
//! number or string (milli-, micro- and nanoseconds recognised by size).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::nginx_error::UpstreamKind;
use super::{Route, RouteKind};
use crate::event::{Request, NOT_COUNTED, NO_RESPONSE};
use crate::time::{self, ClfCache, OffsetSecs};

const STATUS_KEYS: &[&str] = &[
    "status",
    "status_code",
    "statusCode",
    "http_status",
    "response_status",
    "response_code",
    "DownstreamStatus",
    "http.response.status_code",
    "httpRequest.status",
    "EdgeResponseStatus",
    "properties.httpStatusCode",
];

const TIME_KEYS: &[&str] = &[
    "time",
    "timestamp",
    "@timestamp",
    "ts",
    "time_iso8601",
    "time_local",
    "msec",
    "StartUTC",
    "start_time",
    "EdgeStartTimestamp",
    "firstTimestamp",
    "lastTimestamp",
    "eventTime",
    "datetime",
    "date",
];

/// A scalar as found in the object: what a status or time can be.
#[derive(Debug, PartialEq)]
pub(super) enum Scalar<'a> {
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
    Other,
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(Scalar::Other, Scalar::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_string())))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Other)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
        while s.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

impl<'de> de::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

/// What one object held of interest.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Found<'a> {
    pub(super) status: Option<Scalar<'a>>,
    pub(super) time: Option<Scalar<'a>>,
    /// A duration and how many of it make a millisecond.
    pub(super) latency: Option<(Scalar<'a>, f64)>,
    /// The best route named so far, and its rank in [`ROUTE_KEYS`].
    pub(super) route: Option<(usize, Cow<'a, str>)>,
    /// Cloudflare's `RequestSource` was not `eyeball`.
    pub(super) subrequest: bool,
}

/// Where loggers name the upstream, backend or virtual host, best first:
/// ingress-nginx's and nginx's variables, Envoy's, Traefik's.
const ROUTE_KEYS: &[(&str, RouteKind)] = &[
    ("proxy_upstream_name", RouteKind::Upstream),
    ("upstream_cluster", RouteKind::Upstream),
    ("ServiceName", RouteKind::Upstream),
    ("resource.labels.backend_service_name", RouteKind::Upstream),
    ("properties.originName", RouteKind::Upstream),
    ("upstream_addr", RouteKind::Backend),
    ("upstream_host", RouteKind::Backend),
    ("ServiceAddr", RouteKind::Backend),
    ("host", RouteKind::Vhost),
    ("vhost", RouteKind::Vhost),
    ("server_name", RouteKind::Vhost),
    ("RequestHost", RouteKind::Vhost),
    ("authority", RouteKind::Vhost),
    ("ClientRequestHost", RouteKind::Vhost),
    ("properties.hostName", RouteKind::Vhost),
];

/// Duration keys and their unit, in milliseconds: nginx's `request_time`
/// and `upstream_response_time` and Caddy's `duration` in seconds,
/// Traefik's `Duration` in nanoseconds, `duration_ms` in milliseconds.
const LATENCY_KEYS: &[(&str, f64)] = &[
    ("request_time", 1000.0),
    ("duration_ms", 1.0),
    ("duration", 1000.0),
    ("Duration", 1e-6),
    ("upstream_response_time", 1000.0),
    ("httpRequest.latency", 1000.0),
    ("properties.timeTaken", 1000.0),
];

/// Objects whose members are read through the dotted path.
const NESTED: &[&str] = &[
    "http",
    "http.response",
    "httpRequest",
    "resource",
    "resource.labels",
    "properties",
];

/// What a key is to the reader. The key lists are disjoint (a test says
/// so), so a key has one role whatever was found before it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Role {
    /// An object read through this dotted path.
    Nested(&'static str),
    /// Cloudflare's `RequestSource`.
    Source,
    Status,
    Time,
    /// A route key and its rank in [`ROUTE_KEYS`].
    Route(usize),
    /// A duration key and how many of it make a millisecond.
    Latency(f64),
    Other,
}

/// The role of `key` in the object at `path` (`""` for the line itself,
/// else a [`NESTED`] name): `httpRequest.status` is `status` under
/// `httpRequest`, or the dotted key at the top.
pub(super) fn role(path: &str, key: &str) -> Role {
    if path.is_empty() {
        return top_role(key.as_bytes(), key.as_bytes());
    }
    // Lengths first: most names differ in length.
    let is = |name: &str| {
        name.len() == path.len() + 1 + key.len()
            && name.as_bytes()[path.len()] == b'.'
            && name.ends_with(key)
            && name.starts_with(path)
    };
    roles()
        .find(|(name, _)| is(name))
        .map_or(Role::Other, |(_, r)| r)
}

/// Every named key and its role, in the reader's order.
fn roles() -> impl Iterator<Item = (&'static str, Role)> {
    let nested = NESTED.iter().map(|&n| (n, Role::Nested(n)));
    let status = STATUS_KEYS.iter().map(|&k| (k, Role::Status));
    let time = TIME_KEYS.iter().map(|&k| (k, Role::Time));
    let route = (ROUTE_KEYS.iter().enumerate()).map(|(i, (k, _))| (*k, Role::Route(i)));
    let latency = LATENCY_KEYS.iter().map(|&(k, u)| (k, Role::Latency(u)));
    nested
        .chain([("RequestSource", Role::Source)])
        .chain(status)
        .chain(time)
        .chain(route)
        .chain(latency)
}

/// The role of a key of the line's own object. `ahead` is the text from
/// the key's first byte on (the key, or the line past it): its first
/// eight bytes are read as one word when it has them. The names are
/// bucketed by length and compared by their first eight bytes as a word,
/// so a key costs a table look-up and an integer comparison or two.
pub(super) fn top_role(key: &[u8], ahead: &[u8]) -> Role {
    /// A name's first two words ([`word`]), the name, its role.
    type Named = ([u64; 2], &'static [u8], Role);
    static BY_LEN: std::sync::LazyLock<Vec<Vec<Named>>> = std::sync::LazyLock::new(|| {
        let mut by_len: Vec<Vec<Named>> = Vec::new();
        for (name, r) in roles() {
            let name = name.as_bytes();
            if by_len.len() <= name.len() {
                by_len.resize(name.len() + 1, Vec::new());
            }
            let words = [word(name, name, 0), word(name, name, 8)];
            by_len[name.len()].push((words, name, r));
        }
        by_len
    });
    let Some(named) = BY_LEN.get(key.len()).filter(|b| !b.is_empty()) else {
        return Role::Other;
    };
    let words = [word(key, ahead, 0), word(key, ahead, 8)];
    named
        .iter()
        .find(|(w, name, _)| *w == words && (key.len() <= 16 || key[16..] == name[16..]))
        .map_or(Role::Other, |(_, _, r)| *r)
}

/// Bytes `at..at + 8` of `key` (fewer, zero-padded, past its end) as a
/// little-endian word, loaded from `ahead` (which starts with `key`) when
/// it holds them.
#[inline]
fn word(key: &[u8], ahead: &[u8], at: usize) -> u64 {
    let n = key.len().saturating_sub(at).min(8);
    if n == 0 {
        return 0;
    }
    let w = match ahead.get(at..).and_then(|a| a.first_chunk::<8>()) {
        Some(c) => u64::from_le_bytes(*c),
        None => key[at..at + n]
            .iter()
            .rev()
            .fold(0, |w, &b| (w << 8) | u64::from(b)),
    };
    if n == 8 {
        w
    } else {
        w & ((1u64 << (8 * n)) - 1)
    }
}

impl<'a> Found<'a> {
    /// Whether a value under `role` would change what was found: the
    /// first status, time and duration win, a route only over a worse one.
    pub(super) fn wants(&self, role: Role) -> bool {
        match role {
            Role::Source => true,
            Role::Status => self.status.is_none(),
            Role::Time => self.time.is_none(),
            Role::Route(rank) => self.route.as_ref().is_none_or(|(had, _)| rank < *had),
            Role::Latency(_) => self.latency.is_none(),
            Role::Nested(_) | Role::Other => false,
        }
    }

    /// Keeps `v`, read under a role [`Found::wants`].
    pub(super) fn take(&mut self, role: Role, v: Scalar<'a>) {
        match (role, v) {
            (Role::Source, Scalar::Str(source)) => self.subrequest = source != "eyeball",
            (Role::Status, v) => self.status = Some(v),
            // A null time (a Kubernetes event's eventTime) is none: the
            // next time key may have one.
            (Role::Time, Scalar::Other) => {}
            (Role::Time, v) => self.time = Some(v),
            // A route is text; another scalar (or an object) is no name.
            (Role::Route(rank), Scalar::Str(name)) => self.route = Some((rank, name)),
            (Role::Latency(unit), v) => self.latency = Some((v, unit)),
            _ => {}
        }
    }
}

/// Visits an object (the line, or a nested `http` / `response` object),
/// keeping what [`Found::wants`]. `path` is the nesting:
/// `http.response.status_code` is looked up through it.
struct ObjectVisitor<'f, 'a> {
    found: &'f mut Found<'a>,
    path: &'static str,
}

impl<'de, 'f> de::DeserializeSeed<'de> for ObjectVisitor<'f, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, 'f> Visitor<'de> for ObjectVisitor<'f, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        while let Some(key) = m.next_key::<Cow<'de, str>>()? {
            match role(self.path, &key) {
                Role::Nested(path) => m.next_value_seed(ObjectVisitor {
                    found: self.found,
                    path,
                })?,
                r if self.found.wants(r) => {
                    let v = m.next_value()?;
                    self.found.take(r, v);
                }
                _ => drop(m.next_value::<IgnoredAny>()?),
            }
        }
        Ok(())
    }
}

fn status_of(s: &Scalar) -> Option<u16> {
    let v = match s {
        Scalar::Int(i) => *i,
        Scalar::Str(t) => t.trim().parse().ok()?,
        Scalar::Float(f) if f.fract() == 0.0 => *f as i64,
        _ => return None,
    };
    (100..=999).contains(&v).then_some(v as u16)
}

/// Seconds from an epoch number of unknown unit (s, ms, µs, ns).
fn epoch(v: f64) -> Option<i64> {
    if !v.is_finite() || v <= 0.0 {
        return None;
    }
    let secs = if v < 1e11 {
        v
    } else if v < 1e14 {
        v / 1e3
    } else if v < 1e17 {
        v / 1e6
    } else {
        v / 1e9
    };
    Some(secs.floor() as i64)
}

/// The time a time key holds; a string's is cached (consecutive lines
/// mostly share their second).
fn time_of(s: &Scalar, cache: &mut ClfCache) -> Option<(i64, OffsetSecs)> {
    match s {
        Scalar::Int(i) => Some((epoch(*i as f64)?, 0)),
        Scalar::Float(f) => Some((epoch(*f)?, 0)),
        Scalar::Str(t) => cache.text(t.as_bytes(), |_| text_time(t)),
        Scalar::Other => None,
    }
}

/// The time a string holds: RFC 3339, nginx's `$time_local`, or epoch
/// seconds (or milli-, micro-, nanoseconds).
fn text_time(t: &str) -> Option<(i64, OffsetSecs)> {
    let b = t.trim().as_bytes();
    if let Some((st, used)) = time::parse_iso(b) {
        if used == b.len() {
            let off = st.offset.unwrap_or(0);
            return Some((st.naive - off as i64, off));
        }
    }
    if let Some(v) = time::parse_clf(b) {
        return Some(v);
    }
    let n: f64 = t.trim().parse().ok()?;
    Some((epoch(n)?, 0))
}

/// The time and status fields of one JSON object line, when it is one.
fn fields(line: &[u8]) -> Option<Found<'_>> {
    let line = line.trim_ascii();
    if line.first() != Some(&b'{') {
        return None;
    }
    super::json_scan::fields(line).or_else(|| fields_by_serde(line))
}

/// [`fields`] by a full parse: for the lines the scan leaves (nested
/// objects, escapes in the values read, uncommon numbers, invalid JSON).
pub(super) fn fields_by_serde(line: &[u8]) -> Option<Found<'_>> {
    let mut found = Found::default();
    let mut de = serde_json::Deserializer::from_slice(line);
    de::DeserializeSeed::deserialize(
        ObjectVisitor {
            found: &mut found,
            path: "",
        },
        &mut de,
    )
    .ok()?;
    de.end().ok()?;
    Some(found)
}

/// Reads the status and time of one JSON line.
pub fn parse(line: &[u8]) -> Option<Request> {
    parse_routed(line, &mut ClfCache::default()).map(|(r, _)| r)
}

/// Reads the status, time and route of one JSON line.
pub fn parse_routed<'a>(
    line: &'a [u8],
    cache: &mut ClfCache,
) -> Option<(Request, Option<Route<'a>>)> {
    let mut found = fields(line)?;
    // A name read from the line stays borrowed; an unescaped one is owned.
    let route = match found.route.take() {
        Some((rank, Cow::Borrowed(name))) => Route::new(ROUTE_KEYS[rank].1, name.as_bytes()),
        Some((rank, Cow::Owned(name))) => {
            Route::new(ROUTE_KEYS[rank].1, name.as_bytes()).map(|r| Route {
                kind: r.kind,
                name: Cow::Owned(r.name.into_owned()),
            })
        }
        None => None,
    };
    let (utc, offset) = time_of(found.time.as_ref()?, cache)?;
    let latency_ms = found.latency.as_ref().and_then(|(v, unit)| {
        let ms = match v {
            Scalar::Int(i) => *i as f64 * unit,
            Scalar::Float(f) => f * unit,
            Scalar::Str(s) => {
                let s = s.strip_suffix('s').unwrap_or(s);
                let secs = crate::event::millis_of_seconds(s.as_bytes())?;
                return (*unit == 1000.0).then_some(secs);
            }
            Scalar::Other => return None,
        };
        (ms.is_finite() && ms >= 0.0).then(|| ms.round().min(u32::MAX as f64) as u32)
    });
    let status = match found.status.as_ref()? {
        Scalar::Int(0) => NO_RESPONSE,
        s => status_of(s)?,
    };
    let request = Request {
        utc,
        offset,
        status: if found.subrequest {
            NOT_COUNTED
        } else {
            status
        },
        latency_ms,
    };
    Some((request, route))
}

/// Where loggers put the client address (Traefik's `ClientAddr`, Envoy's
/// `downstream_remote_address` and Caddy's `request.remote_ip` carry a port,
/// cut off by the caller's normalisation).
const CLIENT_KEYS: &[&str] = &[
    "remote_addr",
    "httpRequest.remoteIp",
    "ClientIP",
    "properties.clientIp",
    "remote",
    "client_ip",
    "clientip",
    "remote_ip",
    "ClientHost",
    "client.ip",
    "source.ip",
    "request.client_ip",
    "request.remote_ip",
    "ClientAddr",
    "downstream_remote_address",
];

/// Where loggers put the path (or the whole request line, under `request`).
const PATH_KEYS: &[&str] = &[
    "request_uri",
    "httpRequest.requestUrl",
    "ClientRequestURI",
    "properties.requestUri",
    "uri",
    "path",
    "RequestPath",
    "url.path",
    "url.original",
    "request.uri",
    "url",
];

/// The client and the path (or request line) of a JSON access line, read
/// again for a failed request: the line is parsed whole, which the hot
/// path never does. The first key of each list that the line has wins.
pub fn detail(line: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(line.trim_ascii()) else {
        return (None, None);
    };
    let get = |key: &str| -> Option<String> {
        let found = v
            .get(key)
            .or_else(|| key.split('.').try_fold(&v, |at, k| at.get(k)))?;
        match found {
            serde_json::Value::String(s) if !s.is_empty() && s != "-" => Some(s.clone()),
            _ => None,
        }
    };
    let client = CLIENT_KEYS.iter().find_map(|k| get(k));
    let path = PATH_KEYS
        .iter()
        .find_map(|k| get(k))
        .or_else(|| get("request"));
    (client, path)
}

/// What a cloud's line says about a failed request its edge answered
/// itself (see the module's documentation): the load balancer or edge, as
/// an upstream failure of kind `lb-answered`.
pub fn evidence(line: &[u8]) -> Option<(String, UpstreamKind)> {
    // Most JSON loggers name none of these: no need to parse their lines.
    if !["statusDetails", "OriginResponseStatus", "errorInfo"]
        .iter()
        .any(|k| memchr::memmem::find(line, k.as_bytes()).is_some())
    {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(line.trim_ascii()).ok()?;
    let at = |path: &str| path.split('.').try_fold(&v, |at, k| at.get(k));
    let text = |path: &str| at(path).and_then(|x| x.as_str());
    // Two names in one line of evidence: each cut so that the line stays
    // within 160 characters; control characters dropped.
    let name = |n: &str| {
        n.chars()
            .filter(|c| !c.is_control())
            .take(70)
            .collect::<String>()
    };
    // Google: the status details, the load balancer by its forwarding rule.
    if let Some(details) = text("jsonPayload.statusDetails") {
        if details != "response_sent_by_backend" && !details.is_empty() {
            let lb = text("resource.labels.forwarding_rule_name")
                .or_else(|| text("resource.labels.url_map_name"))
                .unwrap_or("google-lb");
            return Some((
                format!("load balancer {} ({})", name(lb), name(details)),
                UpstreamKind::LbAnswered,
            ));
        }
        return None;
    }
    // Cloudflare: no status from the origin.
    if at("EdgeResponseStatus").is_some() {
        return (at("OriginResponseStatus").and_then(serde_json::Value::as_u64) == Some(0)).then(
            || {
                let zone = text("ClientRequestHost").unwrap_or("cloudflare");
                (
                    format!("cloudflare edge {}", name(zone)),
                    UpstreamKind::LbAnswered,
                )
            },
        );
    }
    // Azure Front Door: an error of its own.
    let info = text("properties.errorInfo")?;
    (info != "NoError" && !info.is_empty()).then(|| {
        let host = text("properties.endpoint")
            .or_else(|| text("properties.hostName"))
            .unwrap_or("front-door");
        (
            format!("front door {} ({})", name(host), name(info)),
            UpstreamKind::LbAnswered,
        )
    })
}

/// The time of a JSON object line (any JSON logger's), when it has one
/// (`None` inside for an object without a time field), and whether it
/// also holds an HTTP status where an access log writes one: an access
/// entry among an application's lines (Caddy's `http.log.access` on the
/// same stdout as its own log).
pub fn time(line: &[u8]) -> Option<(Option<(i64, OffsetSecs)>, bool)> {
    let found = fields(line)?;
    let cache = &mut ClfCache::default();
    let time = found.time.as_ref().and_then(|t| time_of(t, cache));
    let status = found.status.as_ref().and_then(status_of).is_some();
    Some((time, status))
}

/// JSON-lines access logs in the registry.
pub static SPEC: super::registry::Spec = super::registry::Spec {
    name: "json",
    aliases: &[],
    about: "JSON lines access log: nginx escape=json, Caddy, Traefik, Envoy…",
    requests: true,
    blocks: super::registry::Blocks::Requests(parse_routed),
    parse: |p, l| parse_routed(l, &mut p.clf).map(|(r, _)| super::Line::Request(r)),
    detail: |_, l| {
        let (c, p) = detail(l);
        super::Detail::owned(c, p)
    },
    sniff: Some((30, sniff)),
    lenient: None,
    seed: None,
    evidence: Some(evidence),
    caveat: None,
    unplaced: None,
};

/// A line opening with `{` is JSON's to claim: read, or nobody's.
fn sniff(_: &mut super::registry::SniffCtx, l: &[u8]) -> super::registry::Sniffed {
    use super::registry::{Format, Sniffed};
    match l.first() {
        Some(b'{') if parse(l).is_some() => Sniffed::Is(Format::Json),
        Some(b'{') => Sniffed::NoneLater,
        _ => Sniffed::Pass,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lists_are_disjoint() {
        // `Role` gives a key one role whatever was found before it, so
        // the readers' first-wins rules hold only if no name is in two
        // lists (or twice in one).
        let mut seen = std::collections::BTreeMap::new();
        for (name, role) in roles() {
            assert!(
                seen.insert(name, role).is_none(),
                "{name} is {role:?} and {:?}",
                seen[name]
            );
        }
    }

    #[test]
    fn routes_by_the_best_key() {
        let route = |l: &str| {
            parse_routed(l.as_bytes(), &mut ClfCache::default())
                .and_then(|(_, r)| r.map(|r| r.key()))
        };
        let t = r#""time":"2023-02-02T07:00:22Z","status":502"#;
        assert_eq!(
            route(&format!(
                r#"{{{t},"host":"Shop.example","upstream_addr":"10.0.0.5:80"}}"#
            ))
            .as_deref(),
            Some("backend 10.0.0.5:80")
        );
        assert_eq!(
            route(&format!(
                r#"{{"proxy_upstream_name":"ns-api-80",{t},"host":"a"}}"#
            ))
            .as_deref(),
            Some("upstream ns-api-80")
        );
        assert_eq!(
            route(&format!(
                r#"{{{t},"host":"Shop.example","upstream_addr":"-"}}"#
            )),
            None,
            "the better key, unset, names no route"
        );
        assert_eq!(
            route(&format!(r#"{{{t},"RequestHost":"a\u0041.example"}}"#)).as_deref(),
            Some("vhost aa.example")
        );
        assert_eq!(route(&format!(r#"{{{t},"host":{{"name":"x"}}}}"#)), None);
        assert_eq!(route(&format!(r#"{{{t}}}"#)), None);
    }

    const T: i64 = 1_675_310_422; // 2023-02-02T04:00:22Z

    fn p(s: &str) -> Option<(i64, OffsetSecs, u16)> {
        parse(s.as_bytes()).map(|r| (r.utc, r.offset, r.status))
    }

    #[test]
    fn loggers_of_the_field() {
        // nginx escape=json template.
        assert_eq!(
            p(
                r#"{"time":"2023-02-02T07:00:22+03:00","remote_addr":"1.2.3.4","request":"GET /\"x\" HTTP/1.1","status":"502","upstream_response_time":""}"#
            ),
            Some((T, 10_800, 502))
        );
        // Caddy: epoch float, status number, nested request object.
        assert_eq!(
            p(
                r#"{"level":"error","ts":1675310422.5419,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"1.2.3.4","headers":{"User-Agent":["curl"]}},"duration":0.01,"size":0,"status":503}"#
            ),
            Some((T, 0, 503))
        );
        // Traefik.
        assert_eq!(
            p(
                r#"{"ClientHost":"1.2.3.4","DownstreamStatus":504,"OriginStatus":0,"StartUTC":"2023-02-02T04:00:22.123456789Z","RequestPath":"/"}"#
            ),
            Some((T, 0, 504))
        );
        // Envoy JSON.
        assert_eq!(
            p(
                r#"{"start_time":"2023-02-02T04:00:22.001Z","method":"GET","response_code":500,"upstream_host":"10.0.0.5:80"}"#
            ),
            Some((T, 0, 500))
        );
        // Elastic Common Schema, nested and dotted.
        assert_eq!(
            p(
                r#"{"@timestamp":"2023-02-02T04:00:22.000Z","http":{"request":{"method":"GET"},"response":{"status_code":502}}}"#
            ),
            Some((T, 0, 502))
        );
        assert_eq!(
            p(r#"{"@timestamp":"2023-02-02T04:00:22Z","http.response.status_code":"500"}"#),
            Some((T, 0, 500))
        );
        // Milliseconds, $time_local, and a zone-less stamp read as UTC.
        assert_eq!(
            p(r#"{"timestamp":1675310422999,"statusCode":201}"#),
            Some((T, 0, 201))
        );
        assert_eq!(
            p(r#"{"time_local":"02/Feb/2023:07:00:22 +0300","status":200}"#),
            Some((T, 10_800, 200))
        );
        assert_eq!(
            p(r#"{"time":"2023-02-02 04:00:22","status":200}"#),
            Some((T, 0, 200))
        );
    }

    #[test]
    fn durations_of_each_logger() {
        let ms = |l: &str| parse(l.as_bytes()).unwrap().latency_ms;
        let t = r#""time":"2023-02-02T07:00:22+03:00","status":200"#;
        assert_eq!(ms(&format!(r#"{{{t},"request_time":"0.250"}}"#)), Some(250));
        assert_eq!(ms(&format!(r#"{{{t},"request_time":1.5}}"#)), Some(1500));
        assert_eq!(
            ms(&format!(r#"{{{t},"upstream_response_time":"0.1, 0.2"}}"#)),
            Some(300)
        );
        assert_eq!(ms(&format!(r#"{{{t},"Duration":3002000000}}"#)), Some(3002));
        assert_eq!(ms(&format!(r#"{{{t},"duration_ms":42}}"#)), Some(42));
        assert_eq!(ms(&format!(r#"{{{t},"request_time":"-"}}"#)), None);
        assert_eq!(ms(&format!(r#"{{{t}}}"#)), None);
    }

    #[test]
    fn client_and_path_of_each_logger() {
        let d = |l: &str| detail(l.as_bytes());
        assert_eq!(
            d(r#"{"remote_addr":"1.2.3.4","request":"GET /a?b HTTP/1.1","status":502}"#),
            (Some("1.2.3.4".into()), Some("GET /a?b HTTP/1.1".into()))
        );
        assert_eq!(
            d(r#"{"request":{"remote_ip":"1.2.3.4","uri":"/c"},"status":503}"#),
            (Some("1.2.3.4".into()), Some("/c".into()))
        );
        assert_eq!(
            d(r#"{"client":{"ip":"::1"},"url":{"path":"/e"}}"#),
            (Some("::1".into()), Some("/e".into()))
        );
        assert_eq!(d(r#"{"status":500}"#), (None, None));
        assert_eq!(d("not json"), (None, None));
    }

    #[test]
    fn clouds_status_time_and_evidence() {
        let gcp = br#"{"httpRequest":{"status":502,"latency":"1.5s","remoteIp":"198.51.100.4","requestUrl":"https://s/x"},"jsonPayload":{"statusDetails":"backend_timeout"},"resource":{"labels":{"backend_service_name":"web","url_map_name":"shop-map"}},"timestamp":"2023-02-02T07:00:13Z"}"#;
        let (r, route) = parse_routed(gcp, &mut ClfCache::default()).unwrap();
        assert_eq!((r.status, r.latency_ms), (502, Some(1500)));
        assert_eq!(&route.unwrap().name[..], b"web");
        assert_eq!(
            evidence(gcp),
            Some((
                "load balancer shop-map (backend_timeout)".to_string(),
                UpstreamKind::LbAnswered
            ))
        );
        assert_eq!(
            detail(gcp),
            (Some("198.51.100.4".into()), Some("https://s/x".into()))
        );
        let served = br#"{"httpRequest":{"status":503},"jsonPayload":{"statusDetails":"response_sent_by_backend"},"timestamp":"2023-02-02T07:00:13Z"}"#;
        assert_eq!(evidence(served), None);
        // Cloudflare: nanoseconds, a subrequest read but not counted.
        let cf = br#"{"EdgeResponseStatus":504,"EdgeStartTimestamp":1675321213000000000,"OriginResponseStatus":0,"RequestSource":"edgeWorkerFetch","ClientRequestHost":"s"}"#;
        let r = parse(cf).unwrap();
        assert_eq!((r.utc, r.status), (1_675_321_213, NOT_COUNTED));
        // Traefik's status 0 (a request that got no response, traefik/
        // traefik#10504): read, not counted; a string "0" is no status.
        let ws = br#"{"DownstreamStatus":0,"Duration":38786475932,"RequestPath":"/api/v1/relay/ws","StartUTC":"2022-11-01T10:19:52.1Z"}"#;
        assert_eq!(parse(ws).unwrap().status, NO_RESPONSE);
        assert_eq!(
            parse(br#"{"status":"0","time":"2022-11-01T10:19:52Z"}"#),
            None
        );
        let eyeball = br#"{"EdgeResponseStatus":522,"EdgeStartTimestamp":"2023-02-02T07:00:13Z","OriginResponseStatus":0,"RequestSource":"eyeball","ClientRequestHost":"s"}"#;
        assert_eq!(parse(eyeball).unwrap().status, 522);
        assert_eq!(
            evidence(eyeball).map(|(u, _)| u),
            Some("cloudflare edge s".into())
        );
        // Azure Front Door: the status as a string.
        let afd = br#"{"time":"2023-02-02T07:00:13.0021134Z","properties":{"httpStatusCode":"503","timeTaken":"30.003","errorInfo":"OriginTimeout","endpoint":"e.azurefd.net"}}"#;
        let r = parse(afd).unwrap();
        assert_eq!((r.status, r.latency_ms), (503, Some(30_003)));
        assert_eq!(
            evidence(afd).map(|(u, _)| u),
            Some("front door e.azurefd.net (OriginTimeout)".into())
        );
        assert_eq!(evidence(br#"{"status":502,"time":1}"#), None);
        // Long names (found by the fuzz target): the line stays short.
        let (long, tail) = ("x".repeat(300), "\\u001b[31m".repeat(50));
        let gcp = format!(
            r#"{{"jsonPayload":{{"statusDetails":"{tail}{long}"}},"resource":{{"labels":{{"forwarding_rule_name":"{long}"}}}}}}"#
        );
        let (u, _) = evidence(gcp.as_bytes()).unwrap();
        assert!(u.chars().count() <= 160, "{u}");
        assert!(!u.contains('\u{1b}'), "{u}");
    }

    #[test]
    fn a_null_time_gives_way_to_the_next() {
        let event = br#"{"count":1,"eventTime":null,"firstTimestamp":"2023-02-02T07:00:13Z","reason":"OOMKilling"}"#;
        assert_eq!(time(event), Some((Some((1_675_321_213, 0)), false)));
    }

    /// Caddy's own log and its access entries on one stdout (lnav's
    /// sample): only the access entry holds a status.
    #[test]
    fn an_access_entry_among_an_applications_lines() {
        let own = br#"{"level":"info","ts":1761019822.3154097,"msg":"using config from file","file":"/etc/caddy/Caddyfile"}"#;
        assert!(matches!(time(own), Some((Some(_), false))));
        let access = br#"{"level":"info","ts":1761019828.6153953,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"172.19.0.1","method":"GET","host":"localhost","uri":"/"},"duration":0.000421,"size":0,"status":502}"#;
        assert!(matches!(time(access), Some((Some(_), true))));
    }

    #[test]
    fn first_key_wins_and_broken_lines_fail() {
        assert_eq!(
            p(r#"{"status":502,"status_code":200,"ts":1675310422}"#),
            Some((T, 0, 502))
        );
        assert_eq!(p(r#"{"status":502}"#), None);
        assert_eq!(p(r#"{"ts":1675310422}"#), None);
        assert_eq!(p(r#"{"status":"abc","ts":1675310422}"#), None);
        assert_eq!(p(r#"{"status":42,"ts":1675310422}"#), None);
        assert_eq!(p(r#"{"status":502,"ts":1675310422"#), None);
        assert_eq!(p(r#"{"status":502,"ts":1675310422} trailing"#), None);
        assert_eq!(p(r#"[1,2]"#), None);
        assert_eq!(p(r#"{"upstream_time": ,"status":502,"ts":1}"#), None);
    }
}
