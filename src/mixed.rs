//! Mixed streams: a web server's container output interleaves its access
//! and error logs in one file (ingress-nginx, the official nginx image send
//! both to stdout). A line the input's format does not read is read by the
//! web-server format that claims it ([`Claimer`]) instead of counting as
//! malformed: requests still count, upstream failures still show.

use crate::collect::{BlockCtx, Collector};
use crate::format::registry::Claimer;
use crate::format::{Format, Line, LineParser};
use crate::time::ClfCache;

/// The claimer of an input, made on the block's first unread line.
enum Claim {
    Unasked,
    Never,
    By(Box<Claimer>),
}

/// One block's reading of the lines its format did not read.
pub struct Mixed<'c> {
    ctx: &'c BlockCtx<'c>,
    block: u32,
    claim: Claim,
    clf: ClfCache,
    parsers: Vec<(Format, LineParser)>,
    collector: Option<Collector<'c>>,
    /// Lines read by each other format.
    pub read: Vec<(Format, u64)>,
}

impl<'c> Mixed<'c> {
    pub fn new(ctx: &'c BlockCtx<'c>, block: u32) -> Self {
        Mixed {
            ctx,
            block,
            claim: Claim::Unasked,
            clf: ClfCache::default(),
            parsers: Vec::new(),
            collector: None,
            read: Vec::new(),
        }
    }

    /// `line` parsed by the other web-server format that claims it, with a
    /// stamp in range; `None` when no format does.
    pub fn parse<'a>(&mut self, line: &'a [u8]) -> Option<(Format, Line<'a>)> {
        if let Claim::Unasked = self.claim {
            self.claim = match self
                .ctx
                .format
                .and_then(|f| Claimer::for_input(f, self.ctx.years))
            {
                Some(c) => Claim::By(Box::new(c)),
                None => Claim::Never,
            };
        }
        let Claim::By(claimer) = &self.claim else {
            return None;
        };
        let f = claimer.claim(&mut self.clf, line)?;
        let i = match self.parsers.iter().position(|(g, _)| *g == f) {
            Some(i) => i,
            None => {
                let p = LineParser::with_customs(f, self.ctx.years, self.ctx.opts.customs.clone());
                self.parsers.push((f, p));
                self.parsers.len() - 1
            }
        };
        let parsed = self.parsers[i]
            .1
            .parse(line)
            .filter(|p| p.stamp().is_none_or(|s| s.in_range()))?;
        match self.read.iter_mut().find(|(g, _)| *g == f) {
            Some((_, n)) => *n += 1,
            None => self.read.push((f, 1)),
        }
        Some((f, parsed))
    }

    /// The collector of the other formats' lines that are not requests
    /// of the input's host.
    pub fn collector(&mut self) -> &mut Collector<'c> {
        let (ctx, block) = (self.ctx, self.block);
        self.collector
            .get_or_insert_with(|| Collector::new(ctx, block))
    }

    /// What the other formats' lines add up to, and how many each read.
    pub fn finish(self) -> (Option<Collector<'c>>, Vec<(Format, u64)>) {
        (self.collector, self.read)
    }
}

/// Adds `b`'s per-format counts to `a`, in format order.
pub fn add_counts(a: &mut Vec<(Format, u64)>, b: Vec<(Format, u64)>) {
    for (f, n) in b {
        match a.iter_mut().find(|(g, _)| *g == f) {
            Some((_, m)) => *m += n,
            None => a.push((f, n)),
        }
    }
    a.sort_unstable();
}
