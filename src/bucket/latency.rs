//! Request durations of a minute as a log-scale histogram of at most 129
//! buckets: the few buckets a quiet minute fills are listed (8 bytes each),
//! a minute that fills more than [`FEW_MAX`] keeps them all (516 bytes).

/// Buckets of a [`LatencyHist`]: zero, then four a doubling up to 2^32 ms.
pub const LATENCY_BUCKETS: usize = 1 + 4 * 32;

/// Listed buckets past which a histogram keeps all of them.
const FEW_MAX: usize = 24;

/// Request durations of one minute, in milliseconds, by log-scale bucket
/// (four a doubling: a value is known to within 19 %). Bounded whatever
/// the traffic. Equality is by content.
#[derive(Clone, Debug, Default)]
pub struct LatencyHist {
    counts: Counts,
}

#[derive(Clone, Debug)]
enum Counts {
    /// (bucket, count) in bucket order, counts above zero.
    Few(Vec<(u8, u32)>),
    All(Box<[u32; LATENCY_BUCKETS]>),
}

impl Default for Counts {
    fn default() -> Counts {
        Counts::Few(Vec::new())
    }
}

impl PartialEq for LatencyHist {
    fn eq(&self, other: &LatencyHist) -> bool {
        self.pairs().eq(other.pairs())
    }
}

impl Eq for LatencyHist {}

impl LatencyHist {
    pub(super) fn bucket(ms: u32) -> usize {
        if ms == 0 {
            return 0;
        }
        let log = 31 - ms.leading_zeros() as usize;
        let sub = if log >= 2 {
            (ms >> (log - 2)) & 3
        } else {
            (ms << (2 - log)) & 3
        } as usize;
        1 + 4 * log + sub
    }

    /// The smallest duration bucket `i` holds.
    pub fn lower(i: usize) -> u64 {
        if i == 0 {
            return 0;
        }
        let (log, sub) = ((i - 1) / 4, (i - 1) % 4);
        ((4 + sub as u64) << log) >> 2
    }

    pub fn add(&mut self, ms: u32) {
        self.add_n(Self::bucket(ms), 1);
    }

    fn add_n(&mut self, bucket: usize, n: u32) {
        if n == 0 {
            return;
        }
        if let Counts::Few(v) = &mut self.counts {
            match v.binary_search_by_key(&(bucket as u8), |p| p.0) {
                Ok(i) => {
                    v[i].1 = v[i].1.saturating_add(n);
                    return;
                }
                Err(i) if v.len() < FEW_MAX => {
                    v.insert(i, (bucket as u8, n));
                    return;
                }
                Err(_) => {
                    let mut all = Box::new([0; LATENCY_BUCKETS]);
                    for (b, c) in v.iter() {
                        all[*b as usize] = *c;
                    }
                    self.counts = Counts::All(all);
                }
            }
        }
        if let Counts::All(all) = &mut self.counts {
            all[bucket] = all[bucket].saturating_add(n);
        }
    }

    /// (bucket, count) of every bucket with a count, in order.
    fn pairs(&self) -> Box<dyn Iterator<Item = (usize, u32)> + '_> {
        match &self.counts {
            Counts::Few(v) => Box::new(v.iter().map(|(b, c)| (*b as usize, *c))),
            Counts::All(a) => Box::new(a.iter().copied().enumerate().filter(|(_, c)| *c > 0)),
        }
    }

    pub fn count(&self) -> u64 {
        self.pairs().map(|(_, c)| u64::from(c)).sum()
    }

    /// The middle of bucket `i`: what a duration in it is taken to be.
    fn middle(i: usize) -> u64 {
        (Self::lower(i) + Self::lower(i + 1).max(1)) / 2
    }

    /// The requests at or above `ms` (by bucket: those whose middle is).
    pub fn at_least(&self, ms: u64) -> u64 {
        self.pairs()
            .filter(|(i, _)| Self::middle(*i) >= ms)
            .map(|(_, c)| u64::from(c))
            .sum()
    }

    /// The `q` quantile (0–1), as the middle of its bucket.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
        let mut seen = 0;
        for (i, c) in self.pairs() {
            seen += u64::from(c);
            if seen >= rank {
                return Some(Self::middle(i));
            }
        }
        None
    }

    pub(super) fn sparse(&self) -> Vec<u32> {
        let mut out = Vec::new();
        for (i, c) in self.pairs() {
            out.extend([i as u32, c]);
        }
        out
    }

    pub(super) fn from_sparse(flat: &[u32]) -> Option<LatencyHist> {
        if !flat.len().is_multiple_of(2) {
            return None;
        }
        let mut h = LatencyHist::default();
        let mut prev = None;
        for pair in flat.chunks_exact(2) {
            let i = pair[0] as usize;
            if i >= LATENCY_BUCKETS || prev.is_some_and(|p| p >= i) || pair[1] == 0 {
                return None;
            }
            h.add_n(i, pair[1]);
            prev = Some(i);
        }
        Some(h)
    }
}

impl crate::merge::Merge for LatencyHist {
    fn merge(&mut self, other: LatencyHist) {
        for (i, c) in other.pairs() {
            self.add_n(i, c);
        }
    }
}
