//! Request durations of a minute as a fixed-size log-scale histogram.

/// Buckets of a [`LatencyHist`]: zero, then four a doubling up to 2^32 ms.
pub const LATENCY_BUCKETS: usize = 1 + 4 * 32;

/// Request durations of one minute, in milliseconds, by log-scale bucket
/// (four a doubling: a value is known to within 19 %). Fixed size whatever
/// the traffic.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LatencyHist {
    counts: Box<[u32; LATENCY_BUCKETS]>,
}

impl Default for LatencyHist {
    fn default() -> Self {
        LatencyHist {
            counts: Box::new([0; LATENCY_BUCKETS]),
        }
    }
}

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
        let b = &mut self.counts[Self::bucket(ms)];
        *b = b.saturating_add(1);
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| u64::from(*c)).sum()
    }

    /// The middle of bucket `i`: what a duration in it is taken to be.
    fn middle(i: usize) -> u64 {
        (Self::lower(i) + Self::lower(i + 1).max(1)) / 2
    }

    /// The requests at or above `ms` (by bucket: those whose middle is).
    pub fn at_least(&self, ms: u64) -> u64 {
        (0..LATENCY_BUCKETS)
            .filter(|i| Self::middle(*i) >= ms)
            .map(|i| u64::from(self.counts[i]))
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
        for (i, c) in self.counts.iter().enumerate() {
            seen += u64::from(*c);
            if seen >= rank {
                return Some(Self::middle(i));
            }
        }
        None
    }

    pub(super) fn sparse(&self) -> Vec<u32> {
        let mut out = Vec::new();
        for (i, c) in self.counts.iter().enumerate().filter(|(_, c)| **c > 0) {
            out.extend([i as u32, *c]);
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
            h.counts[i] = pair[1];
            prev = Some(i);
        }
        Some(h)
    }
}

impl crate::merge::Merge for LatencyHist {
    fn merge(&mut self, other: LatencyHist) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a = a.saturating_add(*b);
        }
    }
}
