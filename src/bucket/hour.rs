//! One hour of a series: requests and 5xx per second. An hour with few
//! busy seconds lists them (12 bytes each); one with more than
//! [`SPARSE_MAX`] keeps a slot per second (28 KiB). A host that logs a line
//! an hour for fifty years, or a million hosts that log one line each, cost
//! bytes per line, not 28 KiB per host-hour.
//!
//! Equality is by content: a listed hour equals a slotted one with the same
//! counts.

use super::HOUR;

/// Listed seconds past which an hour keeps a slot per second: a tenth of
/// the slotted size.
pub const SPARSE_MAX: usize = 240;

const SLOTS: usize = HOUR as usize;

/// One busy second of a listed hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// The second of the hour, 0–3599.
    pub second: u16,
    pub requests: u32,
    pub errors: u32,
}

/// One slot per second.
#[derive(Clone, Debug)]
pub struct Dense {
    pub requests: [u32; SLOTS],
    pub errors: [u32; SLOTS],
}

impl Dense {
    pub fn zero() -> Box<Dense> {
        Box::new(Dense {
            requests: [0; SLOTS],
            errors: [0; SLOTS],
        })
    }

    /// Busy seconds (a request or a 5xx), in order.
    fn busy(&self) -> usize {
        self.requests
            .iter()
            .zip(&self.errors)
            .filter(|(r, e)| **r > 0 || **e > 0)
            .count()
    }
}

/// The counts of one hour.
#[derive(Clone, Debug)]
pub enum Hour {
    /// Busy seconds in order, at most `SPARSE_MAX`.
    Sparse(Vec<Slot>),
    Dense(Box<Dense>),
}

impl Default for Hour {
    fn default() -> Hour {
        Hour::Sparse(Vec::new())
    }
}

impl PartialEq for Hour {
    fn eq(&self, other: &Hour) -> bool {
        self.slots().eq(other.slots())
    }
}

impl Eq for Hour {}

impl Hour {
    /// An hour of slots, listed when few are busy.
    pub fn from_dense(d: Box<Dense>) -> Hour {
        if d.busy() > SPARSE_MAX {
            return Hour::Dense(d);
        }
        Hour::Sparse(Hour::Dense(d).slots().collect())
    }

    /// The hour as slots, to count into.
    pub fn into_dense(self) -> Box<Dense> {
        match self {
            Hour::Dense(d) => d,
            Hour::Sparse(v) => {
                let mut d = Dense::zero();
                for s in v {
                    d.requests[s.second as usize] = s.requests;
                    d.errors[s.second as usize] = s.errors;
                }
                d
            }
        }
    }

    /// (requests, 5xx) of second `s`.
    #[inline]
    pub fn get(&self, s: usize) -> (u32, u32) {
        match self {
            Hour::Dense(d) => (d.requests[s], d.errors[s]),
            Hour::Sparse(v) => match v.binary_search_by_key(&(s as u16), |x| x.second) {
                Ok(i) => (v[i].requests, v[i].errors),
                Err(_) => (0, 0),
            },
        }
    }

    /// Adds `r` requests and `e` 5xx to second `s` (saturating).
    #[inline]
    pub fn add(&mut self, s: usize, r: u32, e: u32) {
        if r == 0 && e == 0 {
            return;
        }
        if let Hour::Sparse(v) = self {
            let second = s as u16;
            // Lines mostly come in order: the end is the usual place.
            let at = match v.last() {
                Some(l) if l.second == second => Ok(v.len() - 1),
                Some(l) if l.second < second => Err(v.len()),
                None => Err(0),
                _ => v.binary_search_by_key(&second, |x| x.second),
            };
            match at {
                Ok(i) => {
                    v[i].requests = v[i].requests.saturating_add(r);
                    v[i].errors = v[i].errors.saturating_add(e);
                    return;
                }
                Err(i) if v.len() < SPARSE_MAX => {
                    let slot = Slot {
                        second,
                        requests: r,
                        errors: e,
                    };
                    v.insert(i, slot);
                    return;
                }
                // Full: a slot per second from now on.
                Err(_) => *self = Hour::Dense(std::mem::take(self).into_dense()),
            }
        }
        if let Hour::Dense(d) = self {
            d.requests[s] = d.requests[s].saturating_add(r);
            d.errors[s] = d.errors[s].saturating_add(e);
        }
    }

    /// Busy seconds in order.
    pub fn slots(&self) -> Slots<'_> {
        match self {
            Hour::Sparse(v) => Slots::Sparse(v.iter()),
            Hour::Dense(d) => Slots::Dense(d, 0),
        }
    }

    /// Requests and 5xx over seconds `lo..=hi`.
    pub fn sum(&self, lo: usize, hi: usize) -> (u64, u64) {
        match self {
            Hour::Dense(d) => (
                d.requests[lo..=hi].iter().map(|n| u64::from(*n)).sum(),
                d.errors[lo..=hi].iter().map(|n| u64::from(*n)).sum(),
            ),
            Hour::Sparse(v) => v
                .iter()
                .filter(|s| (lo..=hi).contains(&(s.second as usize)))
                .fold((0, 0), |(r, e), s| {
                    (r + u64::from(s.requests), e + u64::from(s.errors))
                }),
        }
    }

    /// The first second ≥ `from` with a request.
    pub fn first_request_from(&self, from: usize) -> Option<usize> {
        match self {
            Hour::Dense(d) => d.requests[from..]
                .iter()
                .position(|c| *c > 0)
                .map(|s| s + from),
            Hour::Sparse(v) => v
                .iter()
                .find(|s| s.second as usize >= from && s.requests > 0)
                .map(|s| s.second as usize),
        }
    }

    /// The last second ≤ `to` with a request.
    pub fn last_request_to(&self, to: usize) -> Option<usize> {
        match self {
            Hour::Dense(d) => d.requests[..=to].iter().rposition(|c| *c > 0),
            Hour::Sparse(v) => v
                .iter()
                .rev()
                .find(|s| s.second as usize <= to && s.requests > 0)
                .map(|s| s.second as usize),
        }
    }

    /// Takes out the seconds from `cut` on.
    pub fn split_off(&mut self, cut: usize) -> Hour {
        match self {
            Hour::Sparse(v) => {
                let i = v.partition_point(|s| (s.second as usize) < cut);
                Hour::Sparse(v.split_off(i))
            }
            Hour::Dense(d) => {
                let mut moved = Dense::zero();
                moved.requests[cut..].copy_from_slice(&d.requests[cut..]);
                moved.errors[cut..].copy_from_slice(&d.errors[cut..]);
                d.requests[cut..].fill(0);
                d.errors[cut..].fill(0);
                *self = Hour::from_dense(std::mem::take(self).into_dense());
                Hour::from_dense(moved)
            }
        }
    }

    /// Drops the seconds before `cut`.
    pub fn clear_before(&mut self, cut: usize) {
        *self = self.split_off(cut);
    }

    /// Adds another hour's counts.
    pub fn merge(&mut self, other: Hour) {
        match (&mut *self, other) {
            (_, Hour::Sparse(o)) => {
                for s in o {
                    self.add(s.second as usize, s.requests, s.errors);
                }
            }
            (Hour::Dense(d), Hour::Dense(o)) => {
                for i in 0..SLOTS {
                    d.requests[i] = d.requests[i].saturating_add(o.requests[i]);
                    d.errors[i] = d.errors[i].saturating_add(o.errors[i]);
                }
            }
            (Hour::Sparse(_), Hour::Dense(mut o)) => {
                for s in self.slots() {
                    let i = s.second as usize;
                    o.requests[i] = o.requests[i].saturating_add(s.requests);
                    o.errors[i] = o.errors[i].saturating_add(s.errors);
                }
                *self = Hour::Dense(o);
            }
        }
    }

    /// Requests and 5xx of the whole hour.
    pub fn totals(&self) -> (u64, u64) {
        self.sum(0, SLOTS - 1)
    }

    pub fn is_empty(&self) -> bool {
        self.slots().next().is_none()
    }

    /// Whether a second's request count reached its ceiling.
    pub fn saturated(&self) -> bool {
        self.slots().any(|s| s.requests == u32::MAX)
    }
}

/// The busy seconds of an [`Hour`].
pub enum Slots<'a> {
    Sparse(std::slice::Iter<'a, Slot>),
    Dense(&'a Dense, usize),
}

impl Iterator for Slots<'_> {
    type Item = Slot;

    #[inline]
    fn next(&mut self) -> Option<Slot> {
        match self {
            Slots::Sparse(it) => it.next().copied(),
            Slots::Dense(d, i) => {
                while *i < SLOTS {
                    let s = *i;
                    *i += 1;
                    let (r, e) = (d.requests[s], d.errors[s]);
                    if r > 0 || e > 0 {
                        return Some(Slot {
                            second: s as u16,
                            requests: r,
                            errors: e,
                        });
                    }
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn both(adds: &[(usize, u32, u32)]) -> (Hour, Box<Dense>) {
        let mut h = Hour::default();
        let mut d = Dense::zero();
        for &(s, r, e) in adds {
            h.add(s, r, e);
            d.requests[s] = d.requests[s].saturating_add(r);
            d.errors[s] = d.errors[s].saturating_add(e);
        }
        (h, d)
    }

    #[test]
    fn lists_few_seconds_and_slots_many() {
        let (h, _) = both(&[(5, 1, 0), (3599, 2, 1), (5, 1, 1)]);
        assert!(matches!(&h, Hour::Sparse(v) if v.len() == 2));
        assert_eq!(h.get(5), (2, 1));
        assert_eq!(h.get(6), (0, 0));
        let many: Vec<_> = (0..SPARSE_MAX + 20).map(|s| (s * 3, 1, 0)).collect();
        let (h, d) = both(&many);
        assert!(matches!(h, Hour::Dense(_)));
        assert_eq!(h, Hour::Dense(d));
        // Compacted back when few seconds remain.
        let mut h = h;
        let tail = h.split_off(10);
        assert!(matches!(h, Hour::Sparse(ref v) if v.len() == 4));
        assert!(matches!(tail, Hour::Dense(_)));
    }

    proptest! {
        /// Every operation on a listed or slotted hour gives what the same
        /// operation on plain slots gives.
        #[test]
        fn matches_plain_slots(
            adds in prop::collection::vec((0usize..3600, 0u32..5, 0u32..3), 0..600),
            more in prop::collection::vec((0usize..3600, 0u32..5, 0u32..3), 0..300),
            lo in 0usize..3600,
            len in 0usize..3600,
        ) {
            let (h, d) = both(&adds);
            let hi = (lo + len).min(3599);
            let plain = Hour::Dense(d.clone());
            prop_assert_eq!(&h, &plain);
            prop_assert_eq!(h.sum(lo, hi), plain.sum(lo, hi));
            prop_assert_eq!(h.first_request_from(lo), plain.first_request_from(lo));
            prop_assert_eq!(h.last_request_to(hi), plain.last_request_to(hi));
            for s in [0, lo, hi, 3599] {
                prop_assert_eq!(h.get(s), (d.requests[s], d.errors[s]));
            }
            let (mut a, mut b) = (h.clone(), plain.clone());
            let (ta, tb) = (a.split_off(lo), b.split_off(lo));
            prop_assert_eq!(&ta, &tb);
            prop_assert_eq!(&a, &b);
            let (o, od) = both(&more);
            let (mut a, mut b) = (h.clone(), plain.clone());
            a.merge(o.clone());
            b.merge(Hour::Dense(od));
            prop_assert_eq!(&a, &b);
            let mut c = o;
            c.merge(h.clone());
            prop_assert_eq!(&c, &a);
            prop_assert_eq!(Hour::from_dense(h.clone().into_dense()), h);
        }
    }
}
