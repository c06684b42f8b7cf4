//! How partial results combine: one [`Merge`] trait that every partial
//! result implements — per-second series, latency histograms, 5xx tallies
//! and their sketches, signal counts, the bucket set of a block, file or
//! host, and the line accounting of a read.
//!
//! The pipeline cuts the input wherever it likes and merges the pieces in
//! whatever grouping its threads finish in, so every implementation is a
//! monoid: `Default` is the identity and merging is associative. Where the
//! order of the operands is lost too (everything but the bounded top-k
//! sketch once it is full) the result does not depend on it either.
//! [`laws`] states this as one property that every implementation's tests
//! call on values they generate.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

/// A partial result that combines with another of its kind.
pub trait Merge: Sized {
    /// Folds `other` into `self`. Associative, with `Self::default()` (where
    /// there is one) as the identity.
    fn merge(&mut self, other: Self);

    /// `self` with `other` folded in, for folds and reductions.
    #[must_use]
    fn merged(mut self, other: Self) -> Self {
        self.merge(other);
        self
    }
}

/// Puts `v` under `k`, merged into what is there already: the value moves
/// in when the key is new rather than being merged into an empty default.
pub fn merge_entry<K: Ord, V: Merge>(map: &mut BTreeMap<K, V>, k: K, v: V) {
    match map.entry(k) {
        Entry::Occupied(mut e) => e.get_mut().merge(v),
        Entry::Vacant(e) => {
            e.insert(v);
        }
    }
}

/// Merges every entry of `other` into `map`, key by key.
pub fn merge_maps<K: Ord, V: Merge>(map: &mut BTreeMap<K, V>, other: BTreeMap<K, V>) {
    for (k, v) in other {
        merge_entry(map, k, v);
    }
}

/// Counts add (saturating: a count never wraps round to a small number).
macro_rules! counts {
    ($($t:ty),*) => {$(
        impl Merge for $t {
            fn merge(&mut self, other: $t) {
                *self = self.saturating_add(other);
            }
        }
    )*};
}
counts!(u32, u64);

impl<K: Ord, V: Merge> Merge for BTreeMap<K, V> {
    fn merge(&mut self, other: Self) {
        merge_maps(self, other);
    }
}

/// The monoid laws, for any implementation: the identity on both sides and
/// associativity, checked on three values the caller's strategy built.
/// Parts numbered 0, 1, 2, … joined in that order as they come from
/// threads that finish in any order: a part that comes early waits for
/// those before it. So bounded merges (exact only while they fit) come out
/// the same whatever the number of threads, and only the parts that came
/// early are held.
pub struct InOrder<P, A> {
    next: usize,
    waiting: BTreeMap<usize, P>,
    /// What the parts joined so far make.
    pub joined: A,
}

impl<P, A> InOrder<P, A> {
    pub fn new(joined: A) -> Self {
        InOrder {
            next: 0,
            waiting: BTreeMap::new(),
            joined,
        }
    }

    /// Takes part `n`, and joins every part now next in order.
    pub fn push(&mut self, n: usize, part: P, mut join: impl FnMut(&mut A, P)) {
        self.waiting.insert(n, part);
        while let Some(p) = self.waiting.remove(&self.next) {
            join(&mut self.joined, p);
            self.next += 1;
        }
    }
}

#[cfg(test)]
pub fn laws<T>(a: T, b: T, c: T) -> Result<(), proptest::test_runner::TestCaseError>
where
    T: Merge + Default + Clone + PartialEq + std::fmt::Debug,
{
    use proptest::prop_assert_eq;
    prop_assert_eq!(T::default().merged(a.clone()), a.clone(), "left identity");
    prop_assert_eq!(a.clone().merged(T::default()), a.clone(), "right identity");
    prop_assert_eq!(
        a.clone().merged(b.clone()).merged(c.clone()),
        a.merged(b.merged(c)),
        "associativity"
    );
    Ok(())
}

/// [`laws`] and commutativity, for the implementations whose result does not
/// depend on the order of the operands.
#[cfg(test)]
pub fn commutative_laws<T>(a: T, b: T, c: T) -> Result<(), proptest::test_runner::TestCaseError>
where
    T: Merge + Default + Clone + PartialEq + std::fmt::Debug,
{
    use proptest::prop_assert_eq;
    prop_assert_eq!(
        a.clone().merged(b.clone()),
        b.clone().merged(a.clone()),
        "commutativity"
    );
    laws(a, b, c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn counts_and_maps_of_counts(
            a in prop::collection::btree_map(0u8..8, any::<u32>().prop_map(u64::from), 0..6),
            b in prop::collection::btree_map(0u8..8, any::<u32>().prop_map(u64::from), 0..6),
            c in prop::collection::btree_map(0u8..8, any::<u32>().prop_map(u64::from), 0..6),
        ) {
            commutative_laws(a, b, c)?;
        }
    }

    /// A law that does not hold is caught: the check can fail.
    #[test]
    fn a_broken_merge_fails_the_laws() {
        #[derive(Clone, Debug, Default, PartialEq)]
        struct Last(Option<u8>);
        impl Merge for Last {
            fn merge(&mut self, other: Last) {
                self.0 = other.0;
            }
        }
        assert!(laws(Last(Some(1)), Last(None), Last(None)).is_err());
    }
}
