//! The parallel seam: inputs are read side by side, each cut into blocks that
//! are parsed on the rayon pool (the run's scoped pool, built by `run`,
//! its size passed down in [`ScanOptions::threads`]), and every partial
//! result is combined with one `merge`. Parsed lines become series and rare
//! events in `collect`.
//!
//! An input enters as an [`Input`] and leaves as a [`Scan`]: its line
//! accounting and its [`BucketSet`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use rayon::iter::{ParallelBridge, ParallelIterator};

use crate::bucket::{BucketSet, RouteBuilders, SeriesBuilder};
use crate::choose::{choose_format, compose_host, head, later_samples, process_name, Chosen};
use crate::chunk::{self, Block, BlockReader, MapReader};
use crate::collect::{BlockCtx, Collector};
pub use crate::config::ScanOptions;
use crate::envelope::{self, Envelope};
use crate::event::{LeftOut, Origin, Request, Stamp};
use crate::format::registry::Blocks;
use crate::format::triggers::Marks;
use crate::format::{access, Format, Line, LineParser, Route, YearRule};
use crate::lanes;
use crate::merge::{InOrder, Merge};
use crate::mixed::Mixed;
use crate::progress::Progress;
use crate::source::{self, Body, Compression, Input};
use crate::tally::malformed;
pub use crate::tally::{Sample, Tally, MAX_SAMPLES};
use crate::time::ClfCache;

/// The result of reading one input.
#[derive(Debug, Default)]
pub struct Scan {
    pub format: Option<Format>,
    pub compression: Option<Compression>,
    pub tally: Tally,
    pub buckets: BucketSet,
    /// The frame around its lines (a container's), if any.
    pub envelope: Option<Envelope>,
    /// The input could not be opened at all.
    pub open_error: Option<String>,
    /// Absolute line number of each block's first line.
    pub block_starts: Vec<u64>,
    /// Content bytes read (decompressed; from the resume point).
    pub consumed: u64,
    /// What reading decided that a reader should know (a format found
    /// only further in).
    pub notes: Vec<String>,
}

/// The 1-based line number in its input of line `line` (0-based) of block
/// `block`, given where each block starts.
pub fn line_number(block_starts: &[u64], block: u32, line: u32) -> u64 {
    block_starts.get(block as usize).copied().unwrap_or(0) + line as u64 + 1
}

impl Scan {
    /// The 1-based line number of a record's origin in this input.
    pub fn line_of(&self, origin: Origin) -> u64 {
        line_number(&self.block_starts, origin.block, origin.line)
    }
}

/// A block's lines as their format reads them: out of their envelope,
/// one for each line of the block (or of one compose service's lane, with
/// where each line is in the block).
struct Text<'a> {
    index: u32,
    data: &'a [u8],
    lines: Option<&'a [u32]>,
}

impl Text<'_> {
    /// Where the `n`th line (0-based) is in the block.
    fn at(&self, n: usize) -> u32 {
        self.lines
            .and_then(|l| l.get(n).copied())
            .unwrap_or(n as u32)
    }
}

fn parse_block(block: &Block, ctx: &BlockCtx) -> (Tally, BucketSet) {
    let mut t = Tally {
        read_error: block.error.clone(),
        ..Tally::default()
    };
    let mut b = BucketSet::default();
    if block.overlong_line {
        t.lines = 1;
        t.malformed = 1;
        t.samples.push(Sample {
            block: block.index,
            line: 0,
            line_number: 0,
            text: format!("(line longer than {} bytes, skipped)", ctx.opts.block_size),
        });
    }
    match &ctx.lanes {
        Some(lanes) => {
            for part in lanes::split(block.data()) {
                let lane = lanes.lane(&part.service, &part.raw);
                let host = if part.service.is_empty() {
                    ctx.host.to_string()
                } else {
                    lane.service.clone()
                };
                let process = if part.service.is_empty() {
                    ctx.process
                } else {
                    &lane.service
                };
                let lane_ctx = BlockCtx {
                    host: &host,
                    process,
                    format: lane.format,
                    seed: lane.seed.clone(),
                    wrapping: Some(lane.wrapping),
                    lanes: None,
                    ..*ctx
                };
                let mut opened = Vec::new();
                envelope::unwrap_into(lane.wrapping, &part.raw, &mut opened);
                let text = Text {
                    index: block.index,
                    data: &opened,
                    lines: Some(&part.lines),
                };
                let (mut lt, mut lb) = (Tally::default(), BucketSet::default());
                parse_text(&text, &lane_ctx, &mut lt, &mut lb);
                t.merge(lt);
                b.merge(lb);
            }
        }
        None => {
            let mut opened = Vec::new();
            let data = match ctx.wrapping {
                Some(w) => {
                    envelope::unwrap_into(w, block.data(), &mut opened);
                    &opened[..]
                }
                None => block.data(),
            };
            let text = Text {
                index: block.index,
                data,
                lines: None,
            };
            parse_text(&text, ctx, &mut t, &mut b);
        }
    }
    t.blocks.push((block.index, t.lines));
    b.normalize();
    // Folded now, a block that waits for the one before it to be merged
    // holds no more hosts than the run keeps.
    b.cap_hosts(ctx.opts.max_hosts);
    (t, b)
}

/// Parses a block's text, lines of one format, into `t` and `b`.
fn parse_text(block: &Text, ctx: &BlockCtx, t: &mut Tally, b: &mut BucketSet) {
    match ctx.format {
        Some(Format::Custom(i)) => match ctx.opts.customs.get(i as usize) {
            Some(f) => access_lines(
                block,
                ctx,
                t,
                b,
                by_line(|l, c| f.parse_fields(l, c).map(|(r, x)| (r, x.route()))),
            ),
            None => other_lines(block, ctx, t, b, false),
        },
        Some(f) => match f.spec().map(|s| s.blocks) {
            Some(Blocks::Clf) => {
                let routes = f == Format::CombinedExtra;
                access_lines(block, ctx, t, b, Clf { routes })
            }
            Some(Blocks::Requests(parse)) => access_lines(block, ctx, t, b, by_line(parse)),
            Some(Blocks::Framed) => other_lines(block, ctx, t, b, true),
            Some(Blocks::Lines) | None => other_lines(block, ctx, t, b, false),
        },
        None => other_lines(block, ctx, t, b, false),
    }
}

/// A request and the route its line names.
type Routed<'a> = (Request, Option<Route<'a>>);

/// A way to cut a block into lines and parse each into a request.
trait RequestLines {
    /// Calls `f` with every line of `data` and the request parsed from it.
    fn each<'a>(&self, data: &'a [u8], f: impl FnMut(&'a [u8], Option<Routed<'a>>));
}

/// The CLF family, through its block parser ([`access::for_each_line`]);
/// `routes`: the lines may name an upstream after the user agent
/// (ingress-nginx, read as `combined-extra`).
struct Clf {
    routes: bool,
}

impl RequestLines for Clf {
    #[inline(always)]
    fn each<'a>(&self, data: &'a [u8], mut f: impl FnMut(&'a [u8], Option<Routed<'a>>)) {
        let mut cache = ClfCache::default();
        access::for_each_line(data, |line, a| {
            f(
                line,
                a.and_then(|a| {
                    let route = if self.routes {
                        access::tail_route(a.tail)
                    } else {
                        None
                    };
                    Some((a.request(&mut cache)?, route))
                }),
            )
        });
    }
}

/// Line by line through a parser of one line.
struct ByLine<P>(P);

/// A [`ByLine`], its closure's argument types given by the bound.
fn by_line<P>(parse: P) -> ByLine<P>
where
    P: for<'a> Fn(&'a [u8], &mut ClfCache) -> Option<Routed<'a>>,
{
    ByLine(parse)
}

impl<P> RequestLines for ByLine<P>
where
    P: for<'a> Fn(&'a [u8], &mut ClfCache) -> Option<Routed<'a>>,
{
    fn each<'a>(&self, data: &'a [u8], mut f: impl FnMut(&'a [u8], Option<Routed<'a>>)) {
        let mut cache = ClfCache::default();
        for line in chunk::text_lines(data) {
            f(line, (self.0)(line, &mut cache));
        }
    }
}

/// The hot loop for access logs: every line is a request of the input's
/// host, so it goes straight into one series builder, with no per-line
/// dispatch on the format.
fn access_lines(
    block: &Text,
    ctx: &BlockCtx,
    t: &mut Tally,
    b: &mut BucketSet,
    lines: impl RequestLines,
) {
    let mut requests = SeriesBuilder::default();
    let mut routes = RouteBuilders::default();
    let mut mixed = Mixed::new(ctx, block.index);
    let (mut first, mut last): (Option<Request>, Option<Request>) = (None, None);
    let mut n = 0;
    let wrapped = ctx.wrapping.is_some();
    let mut prev_ok = true;
    let mut left = LeftOut::default();
    lines.each(block.data, |line, r| {
        n += 1;
        if wrapped && line == envelope::JOINED {
            t.count_joined(prev_ok);
            return;
        }
        prev_ok = true;
        // A stamp out of range is a damaged line, not an instant.
        let (r, route, format) = match r.filter(|(r, _)| crate::time::in_range(r.utc)) {
            Some((r, route)) => (r, route, ctx.format),
            None => match mixed.parse(line) {
                Some((g, Line::Request(r))) => (r, None, Some(g)),
                Some((g, other)) => {
                    t.parsed += 1;
                    let at = block.at(n - 1);
                    mixed.collector().line(other, Some(g), line, at, None, true);
                    return;
                }
                None => {
                    prev_ok = false;
                    malformed(t, block.index, block.at(n - 1), line);
                    return;
                }
            },
        };
        t.parsed += 1;
        if left.take(&r) {
            return;
        }
        if first.is_none_or(|f| r.utc < f.utc) {
            first = Some(r);
        }
        if last.is_none_or(|l| r.utc > l.utc) {
            last = Some(r);
        }
        if ctx.opts.outside(r.utc) {
            return;
        }
        let error = ctx.opts.errors.contains(r.status);
        requests.add(&r, error);
        if let Some(route) = &route {
            routes.add(route, &r, error);
        }
        if let (true, Some(f)) = (error, format) {
            crate::collect::failed_request(ctx, &mut requests, b, f, &r, line);
        }
    });
    t.lines += n as u64;
    t.left_out.merge(left);
    let stamp = |r: Request| Stamp::Zoned {
        utc: r.utc,
        offset: r.offset,
    };
    t.first = first.map(stamp);
    t.last = last.map(stamp);
    let (others, read) = mixed.finish();
    t.read_as = read;
    if let Some(c) = others {
        t.left_out.merge(c.left_out);
        b.merge(c.finish());
    }
    if !requests.is_empty() {
        b.series_mut(ctx.host).merge(requests.finish());
    }
    routes.finish(b);
}

/// Every other format (and input of no known format): lines parsed through
/// [`LineParser`] and accounted for here, what they add up to decided by
/// the [`Collector`]. The block search is asked about the system and
/// application lines only (they alone read it), after their parse;
/// `framed`: the format's parser reads [`LineParser::rare`] (the syslog
/// family: [`Blocks::Framed`]), so a marked line is parsed again with it.
fn other_lines(block: &Text, ctx: &BlockCtx, t: &mut Tally, b: &mut BucketSet, framed: bool) {
    let mut parser = ctx.format.map(|f| {
        LineParser::with_customs(f, ctx.years, ctx.opts.customs.clone()).seeded(ctx.seed.clone())
    });
    let mut collector = Collector::new(ctx, block.index);
    let mut mixed = Mixed::new(ctx, block.index);
    let mut last_stamp: Option<Stamp> = None;
    // The kept frame whose stamp is `last_stamp` (see `LineParser::kept`).
    let mut seen: Option<u32> = None;
    let wrapped = ctx.wrapping.is_some();
    let mut prev_ok = true;
    let mut marks = Marks::new(ctx.opts.signals.scanner(), block.data);
    for (n, line) in chunk::lines(block.data).enumerate() {
        t.lines += 1;
        if wrapped && line == envelope::JOINED {
            t.count_joined(prev_ok);
            continue;
        }
        let repeats = framed && collector.named_host.is_some();
        if let Some(p) = parser.as_ref().filter(|_| repeats) {
            if counted_as_repeat(p, &mut marks, line, t, &mut last_stamp, &mut seen) {
                prev_ok = true;
                continue;
            }
        }
        // A proxy's request (it holds ` HTTP/`, a trigger) costs no search.
        if let (Some(p), true) = (parser.as_mut(), framed) {
            p.rare = false;
        }
        let parsed = parser
            .as_mut()
            .and_then(|p| p.parse(line))
            .filter(|p| p.stamp().is_none_or(|s| s.in_range()));
        let (parsed, format) = match parsed {
            Some(p) => (p, ctx.format),
            None => match mixed.parse(line) {
                Some((g, p)) => (p, Some(g)),
                None => {
                    prev_ok = false;
                    malformed(t, block.index, block.at(n), line);
                    continue;
                }
            },
        };
        prev_ok = true;
        t.parsed += 1;
        let rare = match parsed {
            Line::System { kernel, .. } => marks.may_hold(line, kernel),
            Line::App { .. } => marks.may_hold(line, false),
            _ => false,
        };
        let parsed = match (parser.as_mut(), framed && rare && format == ctx.format) {
            // Again, reading the event (the frame cache answers as before).
            (Some(p), true) => {
                p.rare = true;
                p.parse(line).unwrap_or(parsed)
            }
            _ => parsed,
        };
        if format == ctx.format
            && (matches!(
                parsed,
                Line::App {
                    request_shaped: true,
                    ..
                }
            ) || (rare
                && matches!(parsed, Line::System { .. } | Line::App { .. })
                && access::looks_like_request(line)))
        {
            t.request_shaped += 1;
        }
        if let Some(stamp) = parsed.stamp() {
            t.saw(stamp);
            (last_stamp, seen) = (Some(stamp), None);
        }
        collector.line(parsed, format, line, block.at(n), last_stamp, rare);
    }
    if let Some(s) = last_stamp {
        t.last_stamps.push((block.index, s));
    }
    if t.named_host.is_none() {
        t.named_host = collector.named_host.take();
    }
    t.unplaced += collector.unplaced;
    t.unplaced_kills += collector.unplaced_kills;
    t.left_out.merge(collector.left_out);
    t.read_as = mixed.finish().1;
    *b = collector.finish();
}

/// Counts `line` when it is a system line that repeats the frame of the
/// one before through its tag and holds no trigger (most of a kernel log:
/// the same stamp, its host already named), without parsing it; whether
/// it did. The stamp goes into the tally's first and last once per kept
/// frame (`seen`, its generation), not per line: stamps read and written
/// through memory for every line of a kernel log cost a tenth of it.
#[inline]
fn counted_as_repeat(
    p: &LineParser,
    marks: &mut Marks,
    line: &[u8],
    t: &mut Tally,
    last_stamp: &mut Option<Stamp>,
    seen: &mut Option<u32>,
) -> bool {
    let Some(kernel) = p.repeats(line) else {
        return false;
    };
    if marks.may_hold(line, kernel) {
        return false;
    }
    let (stamp, generation) = p.kept();
    if *seen != Some(generation) {
        if let Some(s) = stamp {
            t.saw(s);
            *last_stamp = Some(s);
        }
        *seen = Some(generation);
    }
    t.parsed += 1;
    true
}

fn unix_secs(modified: SystemTime) -> i64 {
    modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Parses every block on the pool, merging in file order; bytes read from
/// disk are reported as each block is cut (the iterator runs under
/// par_bridge's lock, one block at a time).
fn parse_all(
    head_blocks: Vec<Block>,
    reader: Box<dyn Iterator<Item = Block> + Send>,
    ctx: &BlockCtx,
    raw: &AtomicU64,
    progress: Option<&dyn Progress>,
) -> (Tally, BucketSet) {
    // Bytes read from disk are reported as each block is cut (the iterator
    // runs under par_bridge's lock, one block at a time).
    let reported = AtomicU64::new(0);
    let report = || {
        if let Some(p) = progress {
            let now = raw.load(Ordering::Relaxed);
            let before = reported.swap(now, Ordering::Relaxed);
            p.advance(now.saturating_sub(before));
        }
    };
    // Blocks are parsed in any order but merged in file order, so that the
    // bounded tallies (whose merge is exact only while they fit) come out
    // the same whatever the number of threads.
    let merger = Mutex::new(InOrder::new((Tally::default(), BucketSet::default())));
    let max_hosts = ctx.opts.max_hosts;
    head_blocks
        .into_iter()
        .chain(reader)
        .inspect(|_| report())
        .enumerate()
        .par_bridge()
        .for_each(|(n, block)| {
            let part = parse_block(&block, ctx);
            drop(block); // its buffer goes back to the reader's pool
            merger.lock().unwrap_or_else(PoisonError::into_inner).push(
                n,
                part,
                |(mt, mb), (t, b)| {
                    mt.merge(t);
                    mb.merge(b);
                    // Series past --max-hosts are folded as blocks come in.
                    mb.cap_hosts(max_hosts);
                },
            );
        });
    let (tally, buckets) = merger
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .joined;
    report();
    (tally, buckets)
}

/// Reads one input: detect its format from its first 64 KiB, then parse every
/// block on the pool and merge.
pub fn scan(
    index: u32,
    input: &Input,
    opts: &ScanOptions,
    progress: Option<&dyn Progress>,
) -> Scan {
    if let Some(p) = progress {
        p.reading(&input.display);
    }
    let (opened, document) =
        match source::open_with(input, opts.mmap, opts.decoder_memory, opts.gzip.as_ref()) {
            // A JSON document (kubectl, gcloud): the JSON lines of its elements.
            Ok(o) => crate::document::unwrap(o),
            Err(e) => {
                return Scan {
                    open_error: Some(source::describe_io(&e)),
                    ..Scan::default()
                }
            }
        };
    let written = unix_secs(opened.modified);
    let years = YearRule {
        fixed: opts.year,
        reference: crate::time::date_of(written),
        boot: opts.boot_time,
        written: Some(written),
    };
    // Declared before the reader so that it outlives every block.
    let mut _registration = None;
    let mut reader: Box<dyn Iterator<Item = Block> + Send> = match opened.body {
        Body::Stream(r) => {
            // Each worker holds at most one block, the reader one more.
            let pool = chunk::Pool::new(opts.block_size, opts.threads + 2);
            Box::new(BlockReader::with_pool(r, pool))
        }
        Body::Mapped(map, registration) => {
            _registration = Some(registration);
            Box::new(MapReader::new(
                map,
                opts.block_size,
                opened.raw_read.clone(),
            ))
        }
    };
    let head_blocks = head(&mut reader);
    if head_blocks.is_empty() {
        if let Some(p) = progress {
            p.advance(opened.raw_read.load(Ordering::Relaxed));
        }
        return Scan {
            compression: Some(opened.compression),
            ..Scan::default()
        };
    }
    let compression = opened.compression;
    // A document's later bytes are not its lines.
    let later = || (!document).then(|| later_samples(input, compression));
    let Chosen {
        format,
        seed,
        note,
        wrapping,
        services,
        lanes,
    } = choose_format(opts, input, &head_blocks, &years, &|| {
        later().unwrap_or_default()
    });
    let process = process_name(input, format);
    let host = compose_host(input, &services);
    let ctx = BlockCtx {
        input: index,
        format,
        years,
        host: &host,
        process: &process,
        opts,
        seed,
        wrapping,
        lanes,
    };
    let raw = opened.raw_read;
    let (mut tally, mut buckets) = parse_all(head_blocks, reader, &ctx, &raw, progress);
    buckets.resolve_signals(&tally.last_stamps);
    let first_line = input.resume.as_ref().map_or(0, |r| r.first_line);
    let block_starts: Vec<u64> = tally
        .block_starts()
        .into_iter()
        .map(|b| b + first_line)
        .collect();
    for s in &mut tally.samples {
        s.line_number = line_number(&block_starts, s.block, s.line);
    }
    if host != input.host && tally.named_host.is_none() {
        tally.named_host = Some((0, 0, host.clone()));
    }
    Scan {
        format,
        compression: Some(opened.compression),
        tally,
        buckets,
        open_error: None,
        block_starts,
        consumed: opened.content_read.load(Ordering::Relaxed),
        notes: note
            .into_iter()
            .chain(document.then(|| crate::document::NOTE.to_string()))
            .collect(),
        envelope: wrapping.map(|w| w.envelope),
    }
}
