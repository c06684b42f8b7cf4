//! Bounded tallies of what failed requests hit: how many distinct clients
//! ([`Distinct`], a HyperLogLog sketch that stays an exact set while small)
//! and which paths most ([`TopK`], Space-Saving). Both merge, so the tallies
//! of blocks, files and hosts combine the way the counts do, and both have a
//! fixed ceiling on memory whatever the log holds: ten million distinct
//! URLs or clients cost what a hundred do.
//!
//! Hashes are xxh3 of the raw bytes: stable across runs and machines, so
//! sketches saved in summaries on different hosts merge.

use crate::merge::Merge;
use xxhash_rust::xxh3::xxh3_64;

/// log2 of the number of HyperLogLog registers: 4,096 of them, a standard
/// error of 1.04/√4096 ≈ 1.6 %.
pub const PRECISION: u32 = 12;
const REGISTERS: usize = 1 << PRECISION;
/// The largest register value: the rank of a hash whose remaining
/// 64 − p bits are all zero.
const MAX_RANK: u8 = (64 - PRECISION + 1) as u8;
/// Distinct hashes kept exactly before switching to registers: the same
/// 4 KiB the registers take.
pub const EXACT_MAX: usize = REGISTERS / 8;

/// The stable hash every tally uses.
pub fn hash(bytes: &[u8]) -> u64 {
    xxh3_64(bytes)
}

/// A count of distinct items.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Distinct {
    /// Every hash seen, sorted and without repeats (at most [`EXACT_MAX`]).
    Exact(Vec<u64>),
    /// HyperLogLog registers: the highest rank seen per register.
    Sketch(Box<[u8]>),
}

impl Default for Distinct {
    fn default() -> Self {
        Distinct::Exact(Vec::new())
    }
}

impl Distinct {
    pub fn is_empty(&self) -> bool {
        matches!(self, Distinct::Exact(v) if v.is_empty())
    }

    /// Counts the item whose [`hash`] is `h`.
    pub fn insert(&mut self, h: u64) {
        match self {
            Distinct::Exact(v) => {
                if let Err(at) = v.binary_search(&h) {
                    v.insert(at, h);
                    if v.len() > EXACT_MAX {
                        *self = Distinct::Sketch(registers_of(v));
                    }
                }
            }
            Distinct::Sketch(r) => observe(r, h),
        }
    }

    /// How many distinct items: exact while [`Distinct::is_exact`], else
    /// the estimate of Ertl's improved estimator ("New cardinality
    /// estimation algorithms for HyperLogLog sketches", 2017), which needs
    /// no bias tables and holds its error over the whole range.
    pub fn count(&self) -> u64 {
        match self {
            Distinct::Exact(v) => v.len() as u64,
            Distinct::Sketch(r) => estimate(r).round() as u64,
        }
    }

    pub fn is_exact(&self) -> bool {
        matches!(self, Distinct::Exact(_))
    }
}

impl Merge for Distinct {
    /// The union of two counts. Commutative and associative: the result is
    /// the same set, or the same registers, whatever the grouping.
    fn merge(&mut self, other: Distinct) {
        match (&other, &mut *self) {
            (Distinct::Exact(b), _) => {
                for h in b {
                    self.insert(*h);
                }
            }
            (Distinct::Sketch(b), Distinct::Sketch(a)) => {
                for (x, y) in a.iter_mut().zip(b.iter()) {
                    *x = (*x).max(*y);
                }
            }
            (Distinct::Sketch(b), Distinct::Exact(a)) => {
                let mut r = b.clone();
                for h in a.iter() {
                    observe(&mut r, *h);
                }
                *self = Distinct::Sketch(r);
            }
        }
    }
}

fn registers_of(hashes: &[u64]) -> Box<[u8]> {
    let mut r = vec![0u8; REGISTERS].into_boxed_slice();
    for h in hashes {
        observe(&mut r, *h);
    }
    r
}

#[inline]
fn observe(r: &mut [u8], h: u64) {
    let idx = (h >> (64 - PRECISION)) as usize;
    let w = h << PRECISION;
    let rank = if w == 0 {
        MAX_RANK
    } else {
        (w.leading_zeros() as u8 + 1).min(MAX_RANK)
    };
    if r[idx] < rank {
        r[idx] = rank;
    }
}

fn estimate(r: &[u8]) -> f64 {
    let m = REGISTERS as f64;
    let q = MAX_RANK as usize - 1;
    let mut c = vec![0u32; q + 2];
    for x in r {
        c[(*x as usize).min(q + 1)] += 1;
    }
    let mut z = m * tau(1.0 - f64::from(c[q + 1]) / m);
    for k in (1..=q).rev() {
        z = 0.5 * (z + f64::from(c[k]));
    }
    z += m * sigma(f64::from(c[0]) / m);
    let alpha = 1.0 / (2.0 * std::f64::consts::LN_2);
    alpha * m * m / z
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let (mut y, mut z) = (1.0, x);
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if z == before {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let (mut y, mut z) = (1.0, 1.0 - x);
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if z == before {
            return z / 3.0;
        }
    }
}

/// How many keys a [`TopK`] keeps.
pub const TOP_CAPACITY: usize = 24;
/// Bytes of a key kept (a path is cut at a character boundary and marked).
pub const KEY_MAX: usize = 160;

/// The most frequent keys, by Space-Saving (Metwally et al., 2005): at most
/// [`TOP_CAPACITY`] counters; a new key once all are taken replaces the
/// smallest and inherits its count as its possible overcount. Every key
/// seen more than n / capacity times is kept, and a count is never lower
/// than the truth nor higher by more than its `over`.
#[derive(Clone, Debug, Default)]
pub struct TopK {
    entries: Vec<TopEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopEntry {
    pub key: String,
    pub count: u64,
    /// How much of `count` may belong to keys this one replaced.
    pub over: u64,
    /// [`hash`] of the key: compared before the key itself.
    hash: u64,
}

impl TopEntry {
    fn new(key: String, count: u64, over: u64) -> TopEntry {
        TopEntry {
            hash: hash(key.as_bytes()),
            key,
            count,
            over,
        }
    }
}

/// The key a tally keeps for `bytes`: text (invalid UTF-8 replaced), cut
/// to [`KEY_MAX`] bytes with `…` marking the cut.
pub fn key_of(bytes: &[u8]) -> String {
    let cut = bytes.len() > KEY_MAX;
    let mut s = String::from_utf8_lossy(&bytes[..bytes.len().min(KEY_MAX)]).into_owned();
    if cut {
        // A multi-byte character cut in two became U+FFFD: drop it.
        if s.ends_with('\u{FFFD}') && std::str::from_utf8(&bytes[..KEY_MAX]).is_err() {
            s.pop();
        }
        s.push('…');
    }
    s
}

impl TopK {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Counts one occurrence of `bytes`.
    pub fn insert(&mut self, bytes: &[u8]) {
        let plain = (bytes.len() <= KEY_MAX)
            .then(|| std::str::from_utf8(bytes).ok())
            .flatten();
        let owned;
        let key = match plain {
            Some(s) => s,
            None => {
                owned = key_of(bytes);
                owned.as_str()
            }
        };
        let h = hash(key.as_bytes());
        if let Some(e) = self
            .entries
            .iter_mut()
            .find(|e| e.hash == h && e.key == key)
        {
            e.count += 1;
            return;
        }
        if self.entries.len() < TOP_CAPACITY {
            self.entries.push(TopEntry::new(key.to_owned(), 1, 0));
            return;
        }
        let i = self.smallest();
        let e = &mut self.entries[i];
        e.key.clear();
        e.key.push_str(key);
        e.hash = h;
        e.over = e.count;
        e.count += 1;
    }

    /// The counter to give up: the smallest count, the greatest hash among
    /// equals (a deterministic choice).
    fn smallest(&self) -> usize {
        let mut best = 0;
        for (i, e) in self.entries.iter().enumerate().skip(1) {
            let b = &self.entries[best];
            if (e.count, std::cmp::Reverse(e.hash)) < (b.count, std::cmp::Reverse(b.hash)) {
                best = i;
            }
        }
        best
    }

    fn floor(&self) -> u64 {
        if self.entries.len() < TOP_CAPACITY {
            0
        } else {
            self.entries.iter().map(|e| e.count).min().unwrap_or(0)
        }
    }

    /// The keys by count, largest first (ties by key).
    pub fn top(&self) -> Vec<TopEntry> {
        let mut v = self.entries.clone();
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        v
    }

    pub fn entries(&self) -> &[TopEntry] {
        &self.entries
    }
}

/// Two tallies are the same when they hold the same counters: the order
/// they are kept in changes nothing they report or do.
impl PartialEq for TopK {
    fn eq(&self, other: &TopK) -> bool {
        self.entries.len() == other.entries.len() && self.top() == other.top()
    }
}

impl Eq for TopK {}

impl Merge for TopK {
    /// Merges another tally in (Berinde et al., "Space-optimal heavy
    /// hitters with strong error bounds", 2010): a key missing from a full
    /// tally may have been seen there up to its smallest count, so it gains
    /// that count as possible overcount; then the largest counters are kept.
    /// Exact (and so independent of grouping and order) while fewer keys
    /// than [`TOP_CAPACITY`] are seen in all.
    fn merge(&mut self, other: TopK) {
        let (mine, theirs) = (self.floor(), other.floor());
        let mut seen = vec![false; other.entries.len()];
        for e in &mut self.entries {
            match other
                .entries
                .iter()
                .position(|o| o.hash == e.hash && o.key == e.key)
            {
                Some(j) => {
                    seen[j] = true;
                    e.count += other.entries[j].count;
                    e.over += other.entries[j].over;
                }
                None => {
                    e.count += theirs;
                    e.over += theirs;
                }
            }
        }
        for (o, _) in other.entries.iter().zip(&seen).filter(|(_, s)| !**s) {
            self.entries.push(TopEntry {
                count: o.count + mine,
                over: o.over + mine,
                ..o.clone()
            });
        }
        self.entries
            .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        self.entries.truncate(TOP_CAPACITY);
    }
}

/// What one minute's 5xx responses of one host hit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorTally {
    pub clients: Distinct,
    pub paths: TopK,
    /// The clients that got the most 5xx (how narrow a burst is).
    pub top_clients: TopK,
}

impl ErrorTally {
    pub fn add(&mut self, client: Option<&[u8]>, path: Option<&[u8]>) {
        if let Some(c) = client.filter(|c| !c.is_empty()) {
            self.clients.insert(hash(c));
            self.top_clients.insert(c);
        }
        if let Some(p) = path.filter(|p| !p.is_empty()) {
            self.paths.insert(p);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.clients.is_empty() && self.paths.is_empty()
    }
}

impl Merge for ErrorTally {
    fn merge(&mut self, other: ErrorTally) {
        self.clients.merge(other.clients);
        self.paths.merge(other.paths);
        self.top_clients.merge(other.top_clients);
    }
}

/// How a tally is written in a summary: the exact hashes, or the registers
/// as hex; the path counters as `[key, count, over]`.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TallyRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clients: Option<Vec<u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sketch: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    paths: Vec<(String, u64, u64)>,
    /// The client counters, likewise (absent from summaries written
    /// before they were kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    top_clients: Vec<(String, u64, u64)>,
}

impl serde::Serialize for ErrorTally {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (clients, sketch) = match &self.clients {
            Distinct::Exact(v) => ((!v.is_empty()).then(|| v.clone()), None),
            Distinct::Sketch(r) => (None, Some(r.iter().map(|x| format!("{x:02x}")).collect())),
        };
        TallyRepr {
            clients,
            sketch,
            paths: counters(&self.paths),
            top_clients: counters(&self.top_clients),
        }
        .serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for ErrorTally {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let r = TallyRepr::deserialize(d)?;
        let bad = |what: &str| D::Error::custom(format!("tally: {what}"));
        let clients = match (r.clients, r.sketch) {
            (Some(_), Some(_)) => return Err(bad("both exact clients and a sketch")),
            (Some(v), None) => {
                if v.len() > EXACT_MAX || v.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(bad("exact clients not sorted, repeated or too many"));
                }
                Distinct::Exact(v)
            }
            (None, Some(hex)) => {
                let b = hex.as_bytes();
                if b.len() != 2 * REGISTERS {
                    return Err(bad("a sketch of the wrong size"));
                }
                let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
                let mut regs = vec![0u8; REGISTERS].into_boxed_slice();
                for (x, pair) in regs.iter_mut().zip(b.chunks_exact(2)) {
                    let v = digit(pair[0])
                        .zip(digit(pair[1]))
                        .map(|(h, l)| h * 16 + l)
                        .filter(|v| *v <= MAX_RANK)
                        .ok_or_else(|| bad("a sketch register is not a rank"))?;
                    *x = v;
                }
                Distinct::Sketch(regs)
            }
            (None, None) => Distinct::default(),
        };
        Ok(ErrorTally {
            clients,
            paths: top_k(r.paths).map_err(|w| bad(&format!("a path {w}")))?,
            top_clients: top_k(r.top_clients).map_err(|w| bad(&format!("a client {w}")))?,
        })
    }
}

/// A tally's counters as a summary writes them: `[key, count, over]`.
fn counters(t: &TopK) -> Vec<(String, u64, u64)> {
    t.entries
        .iter()
        .map(|e| (e.key.clone(), e.count, e.over))
        .collect()
}

/// Counters read back from a summary, checked.
fn top_k(counters: Vec<(String, u64, u64)>) -> Result<TopK, &'static str> {
    if counters.len() > TOP_CAPACITY {
        return Err("list holds more counters than a tally keeps");
    }
    let mut entries = Vec::with_capacity(counters.len());
    for (key, count, over) in counters {
        if key.is_empty()
            || key.len() > KEY_MAX + '…'.len_utf8()
            || count == 0
            || over >= count
            || count >= 1 << 48
            || entries.iter().any(|e: &TopEntry| e.key == key)
        {
            return Err("counter is empty, too long, repeated or out of range");
        }
        entries.push(TopEntry::new(key, count, over));
    }
    Ok(TopK { entries })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_tally() -> impl Strategy<Value = ErrorTally> {
        // Up to 900 distinct clients (the exact set turns into registers at
        // EXACT_MAX) and paths from a pool smaller than TOP_CAPACITY: the
        // top-k tally is exact, and so a monoid, only while its keys fit.
        (
            prop::collection::vec(0u16..2000, 0..900),
            prop::collection::vec(0u8..20, 0..40),
        )
            .prop_map(|(clients, paths)| {
                let mut t = ErrorTally::default();
                for c in clients {
                    t.clients.insert(hash(&c.to_le_bytes()));
                }
                for p in paths {
                    t.paths.insert(format!("/p{p}").as_bytes());
                }
                t
            })
    }

    proptest! {
        #[test]
        fn tallies_and_their_sketches_merge_as_monoids(
            a in arb_tally(), b in arb_tally(), c in arb_tally(),
        ) {
            crate::merge::commutative_laws(a.clients.clone(), b.clients.clone(), c.clients.clone())?;
            crate::merge::commutative_laws(a.paths.clone(), b.paths.clone(), c.paths.clone())?;
            crate::merge::commutative_laws(a, b, c)?;
        }
    }

    fn distinct_of(n: u64, salt: u64) -> Distinct {
        let mut d = Distinct::default();
        for i in 0..n {
            d.insert(hash(format!("10.{salt}.{i}").as_bytes()));
        }
        d
    }

    #[test]
    fn exact_while_small_then_estimated_within_its_error() {
        let d = distinct_of(EXACT_MAX as u64, 0);
        assert!(d.is_exact());
        assert_eq!(d.count(), EXACT_MAX as u64);
        for n in [EXACT_MAX as u64 + 1, 2_000, 10_000, 100_000, 1_000_000] {
            let d = distinct_of(n, 1);
            assert!(!d.is_exact());
            let err = (d.count() as f64 - n as f64).abs() / n as f64;
            // 1.6 % standard error: 5 % is over three of them.
            assert!(err < 0.05, "{n}: estimated {} ({err:.3})", d.count());
        }
        // Repeats do not count.
        let mut d = distinct_of(5_000, 2);
        let before = d.count();
        for i in 0..5_000 {
            d.insert(hash(format!("10.2.{i}").as_bytes()));
        }
        assert_eq!(d.count(), before);
    }

    #[test]
    fn merge_is_union_in_any_order() {
        let (a, b, c) = (
            distinct_of(100, 1),
            distinct_of(300, 2),
            distinct_of(3_000, 3),
        );
        let mut ab_c = a.clone();
        ab_c.merge(b.clone());
        ab_c.merge(c.clone());
        let mut c_ba = c.clone();
        c_ba.merge(b);
        c_ba.merge(a);
        assert_eq!(ab_c, c_ba);
        let mut whole = Distinct::default();
        for (n, salt) in [(100, 1), (300, 2), (3_000, 3)] {
            for i in 0..n {
                whole.insert(hash(format!("10.{salt}.{i}").as_bytes()));
            }
        }
        assert_eq!(whole, ab_c);
        // Two small sets stay exact.
        let mut small = distinct_of(10, 1);
        small.merge(distinct_of(10, 2));
        assert_eq!(small, Distinct::Exact(small_hashes()));
    }

    fn small_hashes() -> Vec<u64> {
        let mut v: Vec<u64> = (1..=2)
            .flat_map(|s| (0..10).map(move |i| hash(format!("10.{s}.{i}").as_bytes())))
            .collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn top_k_is_exact_while_keys_fit_and_keeps_heavy_hitters() {
        let mut t = TopK::default();
        for (k, n) in [("/a", 5), ("/b", 3), ("/c", 9)] {
            for _ in 0..n {
                t.insert(k.as_bytes());
            }
        }
        let top = t.top();
        assert_eq!(top[0].key, "/c");
        assert_eq!((top[0].count, top[0].over), (9, 0));
        assert_eq!(top[2].key, "/b");
        // A flood of distinct keys around one heavy hitter.
        let mut t = TopK::default();
        for i in 0..100_000u32 {
            t.insert(format!("/flood/{i}").as_bytes());
            if i % 10 == 0 {
                t.insert(b"/checkout");
            }
        }
        let top = t.top();
        assert_eq!(top[0].key, "/checkout");
        // True count 10,000: never under, over by at most `over`.
        assert!(top[0].count >= 10_000 && top[0].count - top[0].over <= 10_000);
        assert!(t.entries().len() <= TOP_CAPACITY);
    }

    #[test]
    fn top_k_merge_adds_when_keys_fit() {
        let mut a = TopK::default();
        let mut b = TopK::default();
        for _ in 0..3 {
            a.insert(b"/x");
            b.insert(b"/x");
        }
        b.insert(b"/y");
        a.merge(b);
        let top = a.top();
        assert_eq!((top[0].key.as_str(), top[0].count), ("/x", 6));
        assert_eq!((top[1].key.as_str(), top[1].count), ("/y", 1));
        assert!(top.iter().all(|e| e.over == 0));
    }

    #[test]
    fn keys_are_cut_and_invalid_utf8_replaced() {
        let long = "é".repeat(KEY_MAX);
        let k = key_of(long.as_bytes());
        assert!(k.ends_with('…') && k.len() <= KEY_MAX + 3);
        assert!(!k.contains('\u{FFFD}'));
        assert_eq!(key_of(b"/a\xff"), "/a\u{FFFD}");
        let mut t = TopK::default();
        t.insert(long.as_bytes());
        t.insert(long.as_bytes());
        assert_eq!(t.top()[0].count, 2);
    }

    #[test]
    fn serde_round_trip_and_rejects_damage() {
        let mut t = ErrorTally::default();
        for i in 0..10 {
            t.add(Some(format!("c{i}").as_bytes()), Some(b"/p"));
        }
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<ErrorTally>(&json).unwrap(), t);
        let mut big = ErrorTally::default();
        for i in 0..10_000 {
            big.add(
                Some(format!("c{i}").as_bytes()),
                Some(format!("/{i}").as_bytes()),
            );
        }
        let json = serde_json::to_string(&big).unwrap();
        assert_eq!(serde_json::from_str::<ErrorTally>(&json).unwrap(), big);
        for bad in [
            r#"{"clients":[2,1]}"#,
            r#"{"sketch":"00"}"#,
            r#"{"paths":[["/a",1,1]]}"#,
            r#"{"paths":[["/a",1,0],["/a",2,0]]}"#,
            r#"{"clients":[1],"sketch":""}"#,
        ] {
            assert!(serde_json::from_str::<ErrorTally>(bad).is_err(), "{bad}");
        }
    }
}
