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

/// Content bytes compared to find candidate copies before a full comparison.
const HEAD: usize = 4096;

/// Pairs `(i, j)`, `i < j`, whose heads agree as far as the shorter goes:
/// equal full heads (grouped by value), and each short head (a whole small
/// file) with every head that starts with it. Most inputs are in none.
fn candidates(heads: &[Option<Vec<u8>>]) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    let mut full: HashMap<&[u8], Vec<usize>> = HashMap::new();
    for (i, h) in heads.iter().enumerate() {
        match h.as_deref() {
            Some(h) if h.len() == HEAD => full.entry(h).or_default().push(i),
            Some(h) if !h.is_empty() => {
                for (j, other) in heads.iter().enumerate() {
                    if j != i && other.as_deref().is_some_and(|o| o.starts_with(h)) {
                        pairs.push((i.min(j), i.max(j)));
                    }
                }
            }
            _ => {}
        }
    }
    for group in full.into_values() {
        for (a, &i) in group.iter().enumerate() {
            for &j in &group[a + 1..] {
                pairs.push((i, j));
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// Drops inputs that are the same file as an earlier one.
pub fn same_files(inputs: Vec<Input>) -> Vec<Input> {
    let mut seen: HashMap<FileId, usize> = HashMap::new();
    let mut kept: Vec<Input> = Vec::with_capacity(inputs.len());
    for input in inputs {
        let id = input.path.as_deref().and_then(file_id);
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
pub fn copies(inputs: Vec<Input>) -> Vec<Input> {
    let heads: Vec<Option<Vec<u8>>> = inputs.iter().map(head).collect();
    let mut dropped: Vec<Option<usize>> = vec![None; inputs.len()];
    // Content lengths, each decompressed once and kept for the notes.
    let mut lens: HashMap<usize, Option<u64>> = HashMap::new();
    let mut len = |k: usize| *lens.entry(k).or_insert_with(|| content_len(&inputs[k]));
    for (i, j) in candidates(&heads) {
        if dropped[i].is_some() || dropped[j].is_some() {
            continue;
        }
        let (Some(li), Some(lj)) = (len(i), len(j)) else {
            continue;
        };
        // The shorter goes; of two equal, the later (j > i).
        let (short, long) = if li < lj { (i, j) } else { (j, i) };
        if is_prefix(&inputs[short], &inputs[long]) {
            dropped[short] = Some(long);
        }
    }
    let mut notes: Vec<Vec<String>> = vec![Vec::new(); inputs.len()];
    for (i, by) in dropped.iter().enumerate() {
        if let Some(mut by) = *by {
            // A copy of a copy: the note goes to the input kept.
            while let Some(next) = dropped[by] {
                by = next;
            }
            let what = if len(i) == len(by) {
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

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct FileId {
    dev: u64,
    ino: u64,
}

#[cfg(unix)]
fn file_id(p: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(p).ok()?;
    Some(FileId {
        dev: m.dev(),
        ino: m.ino(),
    })
}

#[cfg(not(unix))]
fn file_id(_: &Path) -> Option<FileId> {
    None
}

fn reader(input: &Input) -> Option<Box<dyn Read + Send>> {
    let opened = source::open(input, MapPolicy::Never).ok()?;
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
