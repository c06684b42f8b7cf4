//! What makes a system or application line worth reading past its frame:
//! a word an OOM-killer line must hold ([`oom::TRIGGERS`]), a signal's
//! pattern, or ` HTTP/` ([`access::REQUEST_TRIGGER`], a request logged
//! where none belongs). A multi-pattern search over the block, run on
//! from the lines asked about, finds the few lines that hold one; the
//! others, nearly all of a kernel log, are framed and counted without the
//! per-line searches, and the lines of formats that are never system or
//! application lines are not searched at all.
//!
//! Exact by construction: a line a per-line search would match holds a
//! match of the block search that starts in it (see [`Marks`]).
//! The block search gives the same answers as the per-line one only where
//! a pattern's assertions see the same thing in both. Word boundaries do
//! (a message starts after a space or `]` and ends at its line's end, both
//! non-word), line and text anchors do not: a run with a `--signal` that
//! uses `^` or `$` reads every line in full.

use aho_corasick::packed;
use regex_automata::meta::Regex;
use regex_automata::Input;
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::Hir;

use super::{access, oom};

/// The run's block search: one for every line, one for kernel messages,
/// which the built-in signals (all written by programs, never by the
/// kernel) are not searched in.
#[derive(Debug)]
pub struct Scanner {
    hits: Hits,
    kernel: Hits,
}

/// How a block is searched: for the literals every match of a pattern
/// starts with (one Teddy pass, as fast as memory), or, when a pattern has
/// none, for the patterns themselves.
#[derive(Debug)]
enum Hits {
    Literals(packed::Searcher),
    Patterns(Regex),
}

/// Literals are cut to this many bytes, and those that share their first
/// [`LITERAL_SHARED`] bytes to what they share (`child 0` … `child 9`,
/// from `child \d+`, become `child `; `oom-kill` and `oom_reap`, `oom`): the search only needs where a line
/// may hold a match, and fewer literals keep Teddy on its faster, slim
/// form (at most 32).
const LITERAL_BYTES: usize = 8;
const LITERAL_SHARED: usize = 3;

impl Scanner {
    /// The search for the signal patterns, the user's `own` and the
    /// `builtin` ones, and the fixed triggers; `None` when a pattern
    /// asserts a position the block search cannot reproduce (an anchor),
    /// or does not compile.
    pub fn new<'p>(
        own: impl Iterator<Item = &'p str>,
        builtin: impl Iterator<Item = &'p str>,
    ) -> Option<Scanner> {
        let own = patterns(own)?;
        let builtin = patterns(builtin)?;
        let kernel: Vec<Hir> = own.iter().cloned().chain(fixed()).collect();
        let all: Vec<Hir> = own.into_iter().chain(builtin).chain(fixed()).collect();
        Some(Scanner {
            hits: Hits::new(&all)?,
            kernel: Hits::new(&kernel)?,
        })
    }
}

impl Hits {
    fn new(hirs: &[Hir]) -> Option<Hits> {
        if let Some(lits) = prefixes(hirs) {
            let mut b = packed::Config::new().builder();
            if let Some(s) = b.extend(&lits).build() {
                return Some(Hits::Literals(s));
            }
        }
        let config = regex_automata::util::syntax::Config::new()
            .unicode(false)
            .utf8(false);
        let re = Regex::builder()
            .syntax(config)
            .build_many_from_hir(hirs)
            .ok()?;
        Some(Hits::Patterns(re))
    }

    fn find(&self, data: &[u8], from: usize) -> Option<usize> {
        match self {
            Hits::Literals(s) => s
                .find_in(data, aho_corasick::Span::from(from..data.len()))
                .map(|m| m.start()),
            Hits::Patterns(re) => re.find(Input::new(data).range(from..)).map(|m| m.start()),
        }
    }
}

/// The patterns `signals`, parsed; `None` when one does not parse or
/// asserts an anchor.
fn patterns<'p>(signals: impl Iterator<Item = &'p str>) -> Option<Vec<Hir>> {
    let mut parser = regex_syntax::ParserBuilder::new();
    parser.unicode(false).utf8(false);
    let mut hirs = Vec::new();
    for p in signals {
        let hir = parser.build().parse(p).ok()?;
        if hir.properties().look_set().contains_anchor() {
            return None;
        }
        hirs.push(hir);
    }
    Some(hirs)
}

/// The fixed triggers, searched in every line: the OOM killer's words and
/// a request's ` HTTP/`. Without their leading space (` invoked
/// oom-killer`, ` HTTP/`): the hit is then a byte into the same line, and
/// Teddy's fingerprint is `inv`, not ` in`, which half the words of a
/// kernel log start.
fn fixed() -> impl Iterator<Item = Hir> {
    oom::TRIGGERS
        .iter()
        .copied()
        .chain(std::iter::once(access::REQUEST_TRIGGER))
        .map(|t| Hir::literal(t.trim_ascii_start()))
}

/// Literals every match of every pattern starts with, cut to
/// [`LITERAL_BYTES`], none a prefix of another; `None` when a pattern has
/// no such finite set or may match the empty string.
fn prefixes(hirs: &[Hir]) -> Option<Vec<Vec<u8>>> {
    let mut x = Extractor::new();
    x.kind(ExtractKind::Prefix);
    let mut lits: Vec<Vec<u8>> = Vec::new();
    for h in hirs {
        let seq = x.extract(h);
        for l in seq.literals()? {
            let b = l.as_bytes();
            if b.is_empty() {
                return None;
            }
            lits.push(b[..b.len().min(LITERAL_BYTES)].to_vec());
        }
    }
    lits.sort();
    lits.dedup();
    let mut shared: Vec<Vec<u8>> = Vec::new();
    for l in lits {
        match shared.last_mut() {
            Some(k) if k.len() >= LITERAL_SHARED && l.starts_with(&k[..LITERAL_SHARED]) => {
                let common = k.iter().zip(&l).take_while(|(a, b)| a == b).count();
                k.truncate(common);
            }
            _ => shared.push(l),
        }
    }
    // A literal another starts with covers it: sorted, a prefix comes
    // just before the literals it covers.
    let mut kept: Vec<Vec<u8>> = Vec::new();
    for l in shared {
        if !kept.last().is_some_and(|k| l.starts_with(k)) {
            kept.push(l);
        }
    }
    Some(kept)
}

/// Walks the lines of a block in order and says, for the lines asked
/// about, whether each may hold a rare event: every line holding a match
/// of a pattern of its own (searched alone, or any part of it) may.
///
/// The block is searched lazily, from the start of the first line asked
/// about, and the hit kept until a later line is asked about, so lines
/// never asked (a W3C block's requests) cost nothing, and a kern.log block
/// costs one search per hit. Why it is exact: `L`'s own match gives a hit
/// that starts in `L` (the match, a literal every match starts with, or a
/// fixed trigger without its leading space, which is no newline). The
/// kept hit is the leftmost at or after a line start at or before `L`'s,
/// so no hit starts between that start and it: if it starts before `L`,
/// the search goes on from `L`'s start; after `L`'s end, `L` holds none.
/// Kernel messages have a search of their own, with its own kept hit, and
/// the same holds of the lines asked of each.
pub struct Marks<'s, 'd> {
    scanner: Option<&'s Scanner>,
    data: &'d [u8],
    /// The search of every line, and that of kernel messages.
    all: Cursor,
    kernel: Cursor,
}

/// Where a search last found its leftmost hit (`usize::MAX`: none to the
/// block's end), and whether it has run.
#[derive(Default)]
struct Cursor {
    hit: usize,
    searched: bool,
}

impl Cursor {
    /// Whether the line `start..end` holds a hit of `hits`, searching on
    /// from its start when the kept hit is before it.
    #[inline]
    fn holds(&mut self, hits: &Hits, data: &[u8], start: usize, end: usize) -> bool {
        if !self.searched || self.hit < start {
            self.hit = hits.find(data, start).unwrap_or(usize::MAX);
            self.searched = true;
        }
        self.hit <= end
    }
}

impl<'s, 'd> Marks<'s, 'd> {
    /// Marks over `data` by `scanner`; with none, every line may hold one.
    pub fn new(scanner: Option<&'s Scanner>, data: &'d [u8]) -> Marks<'s, 'd> {
        Marks {
            scanner,
            data,
            all: Cursor::default(),
            kernel: Cursor::default(),
        }
    }

    /// Whether `line`, a line of the block after those asked about before
    /// (a slice of it, without its newline), may hold a rare event; a
    /// `kernel` message only of the kind the kernel writes (the fixed
    /// triggers and the user's own signals). The lines asked about with
    /// and without `kernel` are each in order.
    pub fn may_hold(&mut self, line: &[u8], kernel: bool) -> bool {
        let Some(scanner) = self.scanner else {
            return true;
        };
        let start = (line.as_ptr() as usize).wrapping_sub(self.data.as_ptr() as usize);
        if start > self.data.len() {
            return true; // Not a line of this block: say it may.
        }
        let end = start + line.len();
        if kernel {
            self.kernel.holds(&scanner.kernel, self.data, start, end)
        } else {
            self.all.holds(&scanner.hits, self.data, start, end)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::signals::BUILTIN;
    use super::*;

    fn scanner(extra: &[&str]) -> Option<Scanner> {
        Scanner::new(extra.iter().copied(), BUILTIN.iter().map(|(_, p)| *p))
    }

    fn marked(s: &Scanner, data: &str) -> Vec<bool> {
        let mut m = Marks::new(Some(s), data.as_bytes());
        crate::chunk::lines(data.as_bytes())
            .map(|l| m.may_hold(l, false))
            .collect()
    }

    #[test]
    fn marks_the_lines_that_hold_a_trigger() {
        let s = scanner(&[]).unwrap();
        let data = "Feb  2 07:00:12 web-01 kernel: [1.0] [UFW BLOCK] IN=eth0\n\
                    Feb  2 07:00:13 web-01 kernel: [1.1] Out of memory: Killed process 4242 (java)\n\
                    Feb  2 07:00:13 web-01 kernel: [1.2] eth0: link up\n\
                    Feb  2 07:00:14 web-01 app[12]: java.lang.OutOfMemoryError: Java heap space\n\
                    Feb  2 07:00:14 web-01 app[12]: GET /x HTTP/1.1 200\n\
                    last line without newline: std::bad_alloc";
        assert_eq!(marked(&s, data), [false, true, false, true, true, true]);
    }

    #[test]
    fn kernel_messages_are_searched_for_the_kernel_s_words_and_the_user_s_signals() {
        let s = scanner(&["Oops"]).unwrap();
        let data = "kernel: java.lang.OutOfMemoryError\n\
                    app: java.lang.OutOfMemoryError\n\
                    kernel: Out of memory: Killed process 1 (x)\n\
                    kernel: Oops: 0002\n\
                    kernel: eth0 up\n";
        let lines: Vec<&[u8]> = crate::chunk::lines(data.as_bytes()).collect();
        // Asked in any interleaving, each search answers for its lines.
        let mut m = Marks::new(Some(&s), data.as_bytes());
        let kernel = [true, false, true, true, true];
        let got: Vec<bool> = lines
            .iter()
            .zip(kernel)
            .map(|(l, k)| m.may_hold(l, k))
            .collect();
        assert_eq!(got, [false, true, true, true, false]);
        // Every line holds a hit of the search of every line but the last.
        assert_eq!(marked(&s, data), [true, true, true, true, false]);
    }

    proptest::proptest! {
        /// Asked in any interleaving of kernel and other lines, each
        /// line is marked exactly when it holds a literal of its search.
        #[test]
        fn marks_are_the_lines_own_hits(
            picks in proptest::collection::vec((0usize..8, 0usize..8, proptest::bool::ANY), 1..40)
        ) {
            const WORDS: [&str; 8] = [
                "kernel: ", "Killed process 1 (x)", "java.lang.OutOfMemoryError",
                "eth0 up", "GET / HTTP/1.1", "Oops", "inv", "std::bad_alloc",
            ];
            let s = scanner(&["Oops"]).unwrap();
            let data: String = picks
                .iter()
                .map(|(a, b, _)| format!("{} {}\n", WORDS[*a], WORDS[*b]))
                .collect();
            let mut m = Marks::new(Some(&s), data.as_bytes());
            for (line, (_, _, kernel)) in crate::chunk::lines(data.as_bytes()).zip(&picks) {
                let hits = if *kernel { &s.kernel } else { &s.hits };
                let own = hits.find(line, 0).is_some();
                proptest::prop_assert_eq!(m.may_hold(line, *kernel), own, "{:?}", line);
            }
        }
    }

    #[test]
    fn a_match_across_lines_does_not_hide_the_next_line() {
        // `\s+` may run over the newline; the search goes on from the
        // next line anyway.
        let s = scanner(&[r"pool\s+exhausted"]).unwrap();
        let data = "a pool\nexhausted pool exhausted\nquiet\n";
        assert_eq!(marked(&s, data), [true, true, false]);
    }

    #[test]
    fn patterns_without_prefix_literals_are_searched_as_patterns() {
        let s = scanner(&[r"[a-z]+ exhausted"]).unwrap();
        assert!(matches!(s.hits, Hits::Patterns(_)));
        assert_eq!(marked(&s, "x\npool exhausted\ny\n"), [false, true, false]);
        assert!(matches!(scanner(&[]).unwrap().hits, Hits::Literals(_)));
    }

    #[test]
    fn the_builtin_literals_fit_slim_teddy() {
        let mut hirs = patterns(BUILTIN.iter().map(|(_, p)| *p)).unwrap();
        hirs.extend(fixed());
        let lits = prefixes(&hirs).unwrap();
        assert!(
            lits.len() <= 32,
            "{} literals: {:?}",
            lits.len(),
            lits.iter()
                .map(|l| String::from_utf8_lossy(l).into_owned())
                .collect::<Vec<_>>()
        );
        assert!(lits.contains(&b"child ".to_vec()));
        assert!(lits.contains(&b"HTTP/".to_vec()));
        // No fingerprint starts with a space.
        assert!(lits.iter().all(|l| l[0] != b' '), "{lits:?}");
        // Every builtin's sample still starts with one of them.
        for w in ["Killed process 1 (x)", "DAMN ! worker 3", "OOMKilled"] {
            assert!(lits.iter().any(|l| w.as_bytes().starts_with(l)), "{w}");
        }
    }

    #[test]
    fn anchors_turn_the_block_search_off() {
        assert!(scanner(&["^panic"]).is_none());
        assert!(scanner(&[r"done$"]).is_none());
        assert!(scanner(&[r"\bpanic\b"]).is_some());
        let mut all = Marks::new(None, b"x\ny\n");
        assert!(all.may_hold(b"x", false) && all.may_hold(b"y", true));
    }
}
