//! The collector: what a block's parsed lines add up to. Parsers say what
//! a line is ([`Line`]); the collector alone decides what is counted —
//! requests into the input host's series (or the host a proxy line
//! names, in UTC or in local seconds), OOM-killer lines, upstream failures
//! and signals as rare events — and hands one [`BucketSet`] back.

use crate::bucket::{
    BucketSet, HostBuilders, LocalBuilder, RouteBuilders, SeriesBuilder, SignalKey, UpstreamKey,
};
use crate::config::ScanOptions;
use crate::escape::{line_sample, SAMPLE_BYTES};
use crate::event::{LeftOut, OomLine, Origin, Request, Stamp};
use crate::format::oom::OomMessage;
use crate::format::{proxies, syslog, Detail, Format, Line, Route, Seed, YearRule};
use crate::merge::Merge;

/// What the lines of a block belong to.
pub struct BlockCtx<'a> {
    pub input: u32,
    pub format: Option<Format>,
    pub years: YearRule,
    pub host: &'a str,
    /// What application lines' signals name as their process: the file's
    /// name without extensions and rotation suffixes.
    pub process: &'a str,
    pub opts: &'a ScanOptions,
    /// What the format took from the input's head (W3C's layout).
    pub seed: Option<Seed>,
    /// The envelope its lines are taken out of before they are parsed.
    pub wrapping: Option<crate::envelope::Wrapping>,
    /// A compose stream of several services: a lane each.
    pub lanes: Option<std::sync::Arc<crate::lanes::Lanes>>,
}

/// What the line of a failed request of the input's host, in `format`,
/// adds besides its count: its client and path, and what it says went
/// wrong besides its status (a load balancer's own answer) as an upstream
/// failure. The access fast path and the collector both count through it.
pub fn failed_request(
    ctx: &BlockCtx,
    requests: &mut SeriesBuilder,
    buckets: &mut BucketSet,
    format: Format,
    r: &Request,
    line: &[u8],
) {
    // The head's seed is the input's format's, not another's of a mixed
    // stream.
    let seed = ctx.seed.as_ref().filter(|_| Some(format) == ctx.format);
    requests.add_detail(r.utc, &Detail::of(format, &ctx.opts.customs, seed, line));
    let evidence = format.spec().and_then(|s| s.evidence);
    if let Some((upstream, kind)) = evidence.and_then(|read| read(line)) {
        buckets.add_upstream(UpstreamKey {
            input: ctx.input,
            host: ctx.host.to_string(),
            upstream,
            kind,
            stamp: Stamp::Zoned {
                utc: r.utc,
                offset: r.offset,
            },
        });
    }
}

/// A system line's message, and whether the kernel wrote it (its signals
/// are then the user's own only: see [`crate::format::signals::Signals::find`]).
struct Message<'a> {
    text: &'a [u8],
    /// The program, where the format names it apart from the framing.
    process: Option<&'a [u8]>,
    kernel: bool,
}

/// One block's collection.
pub struct Collector<'c> {
    ctx: &'c BlockCtx<'c>,
    block: u32,
    /// Requests of an input all belong to its host: counted here and
    /// handed over once, not one map look-up per line.
    requests: SeriesBuilder,
    /// The hosts a proxy's lines name, in UTC and in local seconds.
    proxy_zoned: HostBuilders<SeriesBuilder>,
    proxy_local: HostBuilders<LocalBuilder>,
    /// The routes of requests in UTC (W3C's virtual hosts, HAProxy's
    /// backends in a zoned frame).
    routes: RouteBuilders,
    /// The routes of HAProxy's local-time requests, per host (their zone
    /// is the host's) and route.
    local_routes: HostBuilders<RouteBuilders<LocalBuilder>>,
    buckets: BucketSet,
    /// The first host a system line named: (block, line, host).
    pub named_host: Option<(u32, u32, String)>,
    /// Lines with no instant to place them at.
    pub unplaced: u64,
    /// Of those, OOM kill lines.
    pub unplaced_kills: u64,
    /// Requests read but not counted.
    pub left_out: LeftOut,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl<'c> Collector<'c> {
    pub fn new(ctx: &'c BlockCtx<'c>, block: u32) -> Self {
        Collector {
            ctx,
            block,
            requests: SeriesBuilder::default(),
            proxy_zoned: HostBuilders::default(),
            proxy_local: HostBuilders::default(),
            routes: RouteBuilders::default(),
            local_routes: HostBuilders::default(),
            buckets: BucketSet::default(),
            named_host: None,
            unplaced: 0,
            unplaced_kills: 0,
            left_out: LeftOut::default(),
        }
    }

    /// Takes line `n` of the block, `line`, parsed as `parsed` in
    /// `format` (the input's, or another of a mixed stream); `last_stamp`
    /// is the last stamp seen in the block up to it; `rare`: whether it
    /// may hold a signal (false when the block search found none in it,
    /// see [`crate::format::triggers`]).
    pub fn line(
        &mut self,
        parsed: Line,
        format: Option<Format>,
        line: &[u8],
        n: u32,
        last_stamp: Option<Stamp>,
        rare: bool,
    ) {
        let origin = Origin {
            input: self.ctx.input,
            block: self.block,
            line: n,
        };
        match parsed {
            Line::Request(r) => self.request(&r, line, format),
            Line::Routed(r, route) => {
                if self.count(&r, line, format) {
                    let error = self.ctx.opts.errors.contains(r.status);
                    self.routes.add(&route, &r, error);
                }
            }
            Line::System {
                stamp,
                host,
                process,
                msg,
                kernel,
                oom,
                upstream,
            } => {
                if self.named_host.is_none() {
                    if let Some(h) = host {
                        self.named_host = Some((self.block, n, lossy(h)));
                    }
                }
                // Most system lines are none of these: no host to copy.
                if oom.is_some() || upstream.is_some() || rare {
                    let host = host.map_or_else(|| self.ctx.host.to_string(), lossy);
                    let msg = Message {
                        text: &msg,
                        process,
                        kernel,
                    };
                    self.system(stamp, host, line, msg, oom, upstream, origin);
                }
            }
            Line::ProxyRequest {
                naive,
                offset,
                status,
                host,
                msg,
                latency_ms,
                route,
            } => {
                let r = Request {
                    utc: naive - offset.unwrap_or(0) as i64,
                    offset: offset.unwrap_or(0),
                    status,
                    latency_ms,
                };
                self.proxy(&r, offset.is_some(), host, msg, route);
            }
            Line::Unplaced => {
                self.unplaced += 1;
                let kill = crate::format::oom::parse(line)
                    .is_some_and(|m| m.kind == crate::event::OomLineKind::Killed);
                self.unplaced_kills += u64::from(kill);
            }
            Line::Meta => {}
            Line::App { .. } if rare => self.app(line, last_stamp, origin),
            Line::App { .. } => {}
        }
    }

    /// A request of the input's host, its line of format `format`.
    pub fn request(&mut self, r: &Request, line: &[u8], format: Option<Format>) {
        self.count(r, line, format);
    }

    /// [`Collector::request`]; whether it was counted (not a CDN's
    /// subrequest, within the run's bounds).
    fn count(&mut self, r: &Request, line: &[u8], format: Option<Format>) -> bool {
        let opts = self.ctx.opts;
        if self.left_out.take(r) {
            return false;
        }
        if opts.outside(r.utc) {
            return false;
        }
        let error = opts.errors.contains(r.status);
        self.requests.add(r, error);
        if let (true, Some(f)) = (error, format) {
            failed_request(self.ctx, &mut self.requests, &mut self.buckets, f, r, line);
        }
        true
    }

    /// A system line: an upstream failure, an OOM-killer line or a signal.
    #[allow(clippy::too_many_arguments)]
    fn system(
        &mut self,
        stamp: Stamp,
        host: String,
        line: &[u8],
        msg: Message,
        oom: Option<Box<OomMessage>>,
        upstream: Option<(crate::format::nginx_error::UpstreamKind, String)>,
        origin: Origin,
    ) {
        if let Some((kind, who)) = upstream {
            self.buckets.add_upstream(UpstreamKey {
                input: self.ctx.input,
                host: host.clone(),
                upstream: who,
                kind,
                stamp,
            });
        }
        if let Some(m) = oom {
            self.buckets.push_oom(OomLine {
                stamp,
                host,
                kind: m.kind,
                victim: m.victim,
                origin,
            });
        } else if let Some(found) = self.ctx.opts.signals.find(msg.text, msg.kernel) {
            let process = msg
                .process
                .or_else(|| syslog::tag_of(line, msg.text))
                .map_or_else(|| self.ctx.process.to_string(), lossy);
            self.buckets.add_signal(
                SignalKey {
                    input: self.ctx.input,
                    host,
                    name: found.name.to_string(),
                    process,
                    stamp: Some(stamp),
                    pending_block: None,
                },
                origin,
                line_sample(found.text, SAMPLE_BYTES),
            );
        }
    }

    /// A proxy's request, of the host its framing names (else the
    /// input's); `zoned` when its time is UTC, else it is counted in local
    /// seconds and placed (and bounded by `--since`/`--until`) once the
    /// host's zone is known.
    fn proxy(
        &mut self,
        r: &Request,
        zoned: bool,
        host: Option<&[u8]>,
        msg: &[u8],
        route: Option<Route>,
    ) {
        if self.left_out.take(r) {
            return;
        }
        let host = host.unwrap_or(self.ctx.host.as_bytes());
        let detail = || {
            proxies::haproxy_detail(msg)
                .map_or_else(Detail::default, |(c, q)| Detail::new(Some(c), Some(q)))
        };
        let error = self.ctx.opts.errors.contains(r.status);
        if zoned {
            if self.ctx.opts.outside(r.utc) {
                return;
            }
            let series = self.proxy_zoned.get(host);
            series.add(r, error);
            if error {
                series.add_detail(r.utc, &detail());
            }
            if let Some(route) = route {
                self.routes.add(&route, r, error);
            }
        } else {
            let series = self.proxy_local.get(host);
            series.add(r, error);
            if error {
                series.add_detail(r.utc, &detail());
            }
            if let Some(route) = route {
                self.local_routes.get(host).add(&route, r, error);
            }
        }
    }

    /// An application line: a signal, if it holds one (the input's
    /// host's, or the node's a Kubernetes event names), at the last stamp
    /// before it (or, before the block's first stamp, at the last stamp
    /// of an earlier block, found once all blocks are in).
    fn app(&mut self, line: &[u8], last_stamp: Option<Stamp>, origin: Origin) {
        if let Some(found) = self.ctx.opts.signals.find(line, false) {
            // A Kubernetes event about a node is the node's.
            let host = crate::format::kubectl::json_node(line);
            self.buckets.add_signal(
                SignalKey {
                    input: self.ctx.input,
                    host: host.unwrap_or_else(|| self.ctx.host.to_string()),
                    name: found.name.to_string(),
                    process: self.ctx.process.to_string(),
                    stamp: last_stamp,
                    pending_block: last_stamp.is_none().then_some(self.block),
                },
                origin,
                line_sample(found.text, SAMPLE_BYTES),
            );
        }
    }

    /// The block's buckets.
    pub fn finish(self) -> BucketSet {
        let mut b = self.buckets;
        for (host, sb) in self.proxy_zoned.into_hosts() {
            b.series_mut(&String::from_utf8_lossy(&host))
                .merge(sb.finish());
        }
        for (host, sb) in self.proxy_local.into_hosts() {
            let key = (self.ctx.input, lossy(&host));
            b.local_series.entry(key).or_default().merge(sb.finish());
        }
        for (host, routes) in self.local_routes.into_hosts() {
            for (route, sb) in routes.into_routes() {
                let key = (self.ctx.input, lossy(&host), route.key());
                crate::merge::merge_entry(&mut b.local_routes, key, sb.finish());
            }
        }
        if !self.requests.is_empty() {
            b.series_mut(self.ctx.host).merge(self.requests.finish());
        }
        self.routes.finish(&mut b);
        b
    }
}
