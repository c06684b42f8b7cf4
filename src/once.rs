//! Each file is read once, however it was reached. The same file given
//! twice, through a directory and by name, or through a link, is one file
//! (same device and inode): it is read once. A file whose whole content is
//! the start of another input's content — a rotated copy (`cp access.log
//! access.log.1`, logrotate's `copy`), or the same content compressed — is
//! not read: the longer input holds every one of its lines. Each input kept
//! says which others it stood for, so the report can say so.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::Path;

use crate::source::{self, Input, MapPolicy};

/// Content bytes compared to find candidate copies before a full comparison
/// (kept for every input: 100,000 inputs hold at most 100 MB of them).
const HEAD: usize = 1024;

/// Inputs of one full head (the same first [`HEAD`] bytes) compared with
/// one another: each is compared with at most this many longer ones.
const TRIES: usize = 8;

/// Drops inputs that are the same file as an earlier one.
pub fn same_files(inputs: Vec<Input>) -> Vec<Input> {
    let mut seen: HashMap<FileId, usize> = HashMap::new();
    let mut kept: Vec<Input> = Vec::with_capacity(inputs.len());
    for input in inputs {
        // An object is itself by its URL (dev 0 is no device).
        let id = match &input.object {
            Some(o) => Some(FileId {
                dev: 0,
                ino: xxhash_rust::xxh3::xxh3_64(o.url.as_bytes()),
            }),
            None => input.path.as_deref().and_then(file_id),
        };
        match id.and_then(|id| seen.get(&id).copied()) {
            Some(k) => {
                let note = format!("also given as {}: the same file, read once", input.display);
                kept[k].notes.push(note);
            }
            None => {
                if let Some(id) = id {
                    seen.insert(id, kept.len());
                }
                kept.push(input);
            }
        }
    }
    kept
}

/// Drops inputs whose whole content is the start of another input's
/// content (equal content: the later one is dropped).
///
/// The heads, sorted, put every input whose head starts with a short head
/// (a whole file under [`HEAD`] bytes) right after it: such a file is
/// decided from the heads alone. Inputs with equal full heads are compared
/// by reading, each with up to [`TRIES`] longer ones. The work is
/// `n log n` in the inputs plus the reads of those groups, whatever the
/// content (100,000 identical files are 99,999 copies found from heads).
pub fn copies(inputs: Vec<Input>) -> Vec<Input> {
    let heads: Vec<Option<Vec<u8>>> = inputs.iter().map(head).collect();
    let mut order: Vec<usize> = (0..inputs.len()).filter(|i| heads[*i].is_some()).collect();
    order.sort_by(|a, b| heads[*a].cmp(&heads[*b]).then(a.cmp(b)));
    let head = |i: usize| heads[i].as_deref().unwrap_or_default();
    let mut dropped: Vec<Option<usize>> = vec![None; inputs.len()];
    // Content lengths where known: a short head's, or read for a group.
    let mut lens: Vec<Option<u64>> = vec![None; inputs.len()];
    let mut at = 0;
    while at < order.len() {
        let i = order[at];
        let h = head(i);
        // The run of inputs with this very head.
        let end = at + order[at..].iter().take_while(|j| head(**j) == h).count();
        if h.is_empty() {
            at = end;
            continue;
        }
        if h.len() < HEAD {
            // Whole contents: equal ones are copies of the first; the run
            // is a copy of the next head that starts with it, if any.
            for &j in &order[at..end] {
                lens[j] = Some(h.len() as u64);
            }
            for &j in &order[at + 1..end] {
                dropped[j] = Some(i);
            }
            if let Some(&longer) = order.get(end).filter(|j| head(**j).starts_with(h)) {
                dropped[i] = Some(longer);
            }
        } else {
            full_heads(&inputs, &order[at..end], &mut dropped, &mut lens);
        }
        at = end;
    }
    let mut notes: Vec<Vec<String>> = vec![Vec::new(); inputs.len()];
    for (i, d) in dropped.iter().enumerate() {
        if let Some(mut by) = *d {
            // A copy of a copy: the note goes to the input kept.
            while let Some(next) = dropped[by] {
                by = next;
            }
            let what = if lens[i].is_some() && lens[i] == lens[by] {
                "the same content"
            } else {
                "this input's first lines (a rotated copy)"
            };
            notes[by].push(format!(
                "{} holds {what}: its lines are read once, here",
                inputs[i].display
            ));
        }
    }
    inputs
        .into_iter()
        .zip(notes)
        .zip(dropped)
        .filter(|(_, d)| d.is_none())
        .map(|((mut input, n), _)| {
            input.notes.extend(n);
            input
        })
        .collect()
}

/// Inputs whose first [`HEAD`] bytes agree (`group`, in input order within
/// equal heads): each, shortest first, is dropped when its content is the
/// start of a longer one's (of two equal, the later goes).
fn full_heads(
    inputs: &[Input],
    group: &[usize],
    dropped: &mut [Option<usize>],
    lens: &mut [Option<u64>],
) {
    if group.len() < 2 {
        return;
    }
    let mut by_len: Vec<(u64, usize)> = group
        .iter()
        .filter_map(|&i| content_len(&inputs[i]).map(|l| (l, i)))
        .collect();
    for &(l, i) in &by_len {
        lens[i] = Some(l);
    }
    // Shortest first; of equal length, the later first (it is the one to go).
    by_len.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    for (k, &(_, i)) in by_len.iter().enumerate() {
        for &(_, j) in by_len[k + 1..].iter().take(TRIES) {
            if is_prefix(&inputs[i], &inputs[j]) {
                dropped[i] = Some(j);
                break;
            }
        }
    }
}

/// A file's identity: device and inode.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileId {
    dev: u64,
    ino: u64,
}

/// The identity of the file at `p` (through links); `None` where the
/// platform has none.
#[cfg(unix)]
pub fn file_id(p: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(p).ok()?;
    Some(FileId {
        dev: m.dev(),
        ino: m.ino(),
    })
}

#[cfg(not(unix))]
pub fn file_id(_: &Path) -> Option<FileId> {
    None
}

fn reader(input: &Input) -> Option<Box<dyn Read + Send>> {
    // One input at a time: the whole allowance.
    let opened = source::open(input, MapPolicy::Never, source::DECODER_MEMORY).ok()?;
    match opened.body {
        source::Body::Stream(r) => Some(r),
        source::Body::Mapped(..) => None,
    }
}

/// The first HEAD content bytes (decompressed), or all of them if fewer.
fn head(input: &Input) -> Option<Vec<u8>> {
    input.path.as_ref()?;
    let mut r = reader(input)?;
    let mut buf = vec![0; HEAD];
    let n = source::read_up_to(&mut r, &mut buf).ok()?;
    buf.truncate(n);
    Some(buf)
}

/// Content bytes (decompressed).
fn content_len(input: &Input) -> Option<u64> {
    let mut r = reader(input)?;
    io::copy(&mut r, &mut io::sink()).ok()
}

/// Whether all of `short`'s content is the start of `long`'s.
fn is_prefix(short: &Input, long: &Input) -> bool {
    let (Some(mut a), Some(mut b)) = (reader(short), reader(long)) else {
        return false;
    };
    let (mut x, mut y) = (vec![0; 1 << 16], vec![0; 1 << 16]);
    loop {
        let Ok(n) = source::read_up_to(&mut a, &mut x) else {
            return false;
        };
        if n == 0 {
            return true;
        }
        match source::read_up_to(&mut b, &mut y[..n]) {
            Ok(m) if m == n && x[..n] == y[..n] => {}
            _ => return false,
        }
    }
}
