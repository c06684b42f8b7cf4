//! What a request's line names besides its host: the upstream that served
//! it or the virtual host it was for. Each gets a series of its own across
//! the hosts (`docs/detection.md`, *Series*), so that one failing backend
//! behind a shared proxy is judged on its own requests, not diluted by the
//! healthy ones.

use std::borrow::Cow;

/// Which kind of name a route is, in the order a line's names are
/// preferred when it has several: the narrower the better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RouteKind {
    /// A named upstream or backend pool: ingress-nginx's
    /// `$proxy_upstream_name`, Envoy's upstream cluster.
    Upstream,
    /// One backend server's address: nginx's `$upstream_addr`, Envoy's
    /// `%UPSTREAM_HOST%`.
    Backend,
    /// The virtual host asked for: nginx's `$host`/`$server_name`.
    Vhost,
}

impl RouteKind {
    /// Every kind, in the order of their discriminants.
    pub const ALL: [RouteKind; 3] = [RouteKind::Upstream, RouteKind::Backend, RouteKind::Vhost];

    pub fn word(self) -> &'static str {
        match self {
            RouteKind::Upstream => "upstream",
            RouteKind::Backend => "backend",
            RouteKind::Vhost => "vhost",
        }
    }
}

/// A request's route, as its line wrote the name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route<'a> {
    pub kind: RouteKind,
    pub name: Cow<'a, [u8]>,
}

/// The longest name kept; a longer one is cut (names come from requests:
/// a `Host` header is whatever the client sent).
pub const ROUTE_NAME_MAX: usize = 120;

impl<'a> Route<'a> {
    /// A route of `kind` named `raw`, or `None` when the line names none
    /// there (`-`, empty, nginx's unset value). For a backend, the last
    /// address of a list (`10.0.0.5:80, 10.0.0.6:80`: nginx tried the first,
    /// the second answered; ` : ` separates internal redirects).
    pub fn new(kind: RouteKind, raw: &'a [u8]) -> Option<Route<'a>> {
        let mut name = raw.trim_ascii();
        if kind == RouteKind::Backend {
            if let Some(p) = memchr::memrchr2(b',', b' ', name) {
                name = name[p + 1..].trim_ascii();
            }
            name = name.strip_prefix(b"tcp://").unwrap_or(name);
        }
        if kind == RouteKind::Vhost {
            name = name.strip_suffix(b".").unwrap_or(name);
        }
        if name.is_empty() || name == b"-" {
            return None;
        }
        Some(Route {
            kind,
            name: Cow::Borrowed(name),
        })
    }

    /// The series' name: `upstream default-api-80`. Bytes that are not
    /// UTF-8 are replaced, control characters dropped, and the name cut
    /// at [`ROUTE_NAME_MAX`] bytes; virtual hosts are lower-cased (`Host`
    /// is case-insensitive).
    pub fn key(&self) -> String {
        let text = String::from_utf8_lossy(&self.name);
        let mut out = String::with_capacity(text.len().min(ROUTE_NAME_MAX) + 10);
        out.push_str(self.kind.word());
        out.push(' ');
        let start = out.len();
        // Lower-casing may lengthen a character (`İ` is `i` and a
        // combining dot): the cut is on what is pushed.
        let lower = self.kind == RouteKind::Vhost;
        let chars = text.chars().filter(|c| !c.is_control());
        for c in chars.flat_map(|c| {
            let (one, many) = if lower {
                (None, Some(c.to_lowercase()))
            } else {
                (Some(c), None)
            };
            one.into_iter().chain(many.into_iter().flatten())
        }) {
            if out.len() - start + c.len_utf8() > ROUTE_NAME_MAX {
                break;
            }
            out.push(c);
        }
        out
    }
}

impl<'a> super::nginx::Fields<'a> {
    /// The route the line names: the first of ingress-nginx's
    /// `$proxy_upstream_name`, the backend of `$upstream_addr`, the
    /// virtual host of `$host` or `$server_name` that the format has.
    /// When its value is unset (`-`: nginx picked no upstream, answering
    /// itself or failing to reach one), the line is on no route: falling
    /// back to the next would make a series of just those requests,
    /// which in an outage are the failures, judged as though they were
    /// the virtual host's traffic.
    pub fn route(&self) -> Option<Route<'a>> {
        let (kind, value) = [
            (RouteKind::Upstream, self.proxy_upstream_name),
            (RouteKind::Backend, self.upstream_addr),
            (RouteKind::Vhost, self.host),
            (RouteKind::Vhost, self.server_name),
        ]
        .into_iter()
        .find_map(|(kind, v)| Some((kind, v?)))?;
        Route::new(kind, value)
    }
}

/// The better of two routes a line names (by [`RouteKind`] order).
pub fn better<'a>(a: Option<Route<'a>>, b: Option<Route<'a>>) -> Option<Route<'a>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.kind < a.kind { b } else { a }),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: RouteKind, raw: &str) -> Option<String> {
        Route::new(kind, raw.as_bytes()).map(|r| r.key())
    }

    #[test]
    fn a_lower_cased_name_is_cut_at_the_limit_too() {
        // `İ` (two bytes) lower-cases to three: `i` and a combining dot.
        let k = key(RouteKind::Vhost, &"İ".repeat(200)).unwrap();
        assert!(k.len() <= "vhost ".len() + ROUTE_NAME_MAX, "{}", k.len());
        assert!(k.starts_with("vhost i\u{307}"));
        let k = key(RouteKind::Backend, &"İ".repeat(200)).unwrap();
        assert_eq!(k.len(), "backend ".len() + ROUTE_NAME_MAX);
    }

    #[test]
    fn names_as_series_keys() {
        assert_eq!(
            key(RouteKind::Upstream, "default-api-80").as_deref(),
            Some("upstream default-api-80")
        );
        assert_eq!(
            key(RouteKind::Backend, "10.0.0.5:80, 10.0.0.6:80").as_deref(),
            Some("backend 10.0.0.6:80")
        );
        assert_eq!(
            key(RouteKind::Backend, "10.0.0.5:80 : 10.0.0.7:80").as_deref(),
            Some("backend 10.0.0.7:80")
        );
        assert_eq!(
            key(RouteKind::Backend, "tcp://10.0.2.1:80").as_deref(),
            Some("backend 10.0.2.1:80")
        );
        assert_eq!(
            key(RouteKind::Vhost, "Shop.Example.COM.").as_deref(),
            Some("vhost shop.example.com")
        );
        for none in ["-", "", "  "] {
            assert_eq!(key(RouteKind::Upstream, none), None, "{none:?}");
        }
        let long = "x".repeat(500);
        assert_eq!(
            key(RouteKind::Vhost, &long).map(|k| k.len()),
            Some(ROUTE_NAME_MAX + 6)
        );
        assert_eq!(
            key(RouteKind::Vhost, "a\u{1b}[31mb").as_deref(),
            Some("vhost a[31mb")
        );
        let r = better(
            Route::new(RouteKind::Vhost, b"a"),
            Route::new(RouteKind::Upstream, b"u"),
        );
        assert_eq!(r.map(|r| r.kind), Some(RouteKind::Upstream));
    }
}
