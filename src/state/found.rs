//! What planning finds out about an input before an incremental run: a
//! file's device, inode, size, time and first bytes, or an object's
//! version and URL standing in for them, and which earlier file state it
//! continues.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::time::SystemTime;

use super::{FileState, State, FINGERPRINT, SETTLED_SECS};
use crate::source::{self, Compression, Input, MapPolicy};

/// FNV-1a, 64 bits: stable across versions and platforms, unlike std's
/// hasher.
pub(super) fn fnv1a(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// What the planning found out about one file on disk.
#[derive(Clone, Debug)]
pub(super) struct Found {
    pub(super) dev: u64,
    pub(super) ino: u64,
    pub(super) size: u64,
    pub(super) mtime: i64,
    pub(super) settled: bool,
    pub(super) compressed: bool,
    /// An object in object storage: read whole or not at all (an
    /// object is written once; a new version is a new ETag).
    pub(super) object: bool,
    /// The first content bytes (up to [`FINGERPRINT`]).
    pub(super) head: Vec<u8>,
}

impl Found {
    pub(super) fn of(input: &Input) -> Option<Found> {
        if let Some(o) = &input.object {
            return Found::of_object(input, o);
        }
        let path = input.path.as_ref()?;
        let m = std::fs::metadata(path).ok()?;
        if !m.is_file() {
            return None;
        }
        let (dev, ino) = ids(&m);
        let modified = m.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        let mtime = modified
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let settled = SystemTime::now()
            .duration_since(modified)
            .is_ok_and(|age| age.as_secs() >= SETTLED_SECS);
        let (head, compressed) = first_bytes(input)?;
        Some(Found {
            dev,
            ino,
            size: m.len(),
            mtime,
            settled,
            compressed,
            object: false,
            head,
        })
    }

    /// An object, its URL standing in for the inode and its ETag (or,
    /// without one, its size and time) for the device: the same pair is
    /// the same version of the same object.
    fn of_object(input: &Input, o: &crate::remote::Object) -> Option<Found> {
        let (dev, ino, mtime) = object_ids(o);
        let (head, compressed) = first_bytes(input)?;
        Some(Found {
            dev,
            ino,
            size: o.size,
            mtime,
            settled: true,
            compressed,
            object: true,
            head,
        })
    }

    /// Whether this file starts with the bytes `f` fingerprinted.
    fn starts_like(&self, f: &FileState) -> bool {
        let n = f.fp_len as usize;
        n <= self.head.len() && fnv1a(&self.head[..n]) == f.fp_hash
    }
}

/// The first content bytes of an input (up to [`FINGERPRINT`]) and
/// whether it is compressed.
pub(super) fn first_bytes(input: &Input) -> Option<(Vec<u8>, bool)> {
    let opened = source::open(input, MapPolicy::Never, source::DECODER_MEMORY).ok()?;
    let mut head = vec![0u8; FINGERPRINT];
    let n = match opened.body {
        source::Body::Stream(mut r) => source::read_up_to(&mut r, &mut head).unwrap_or(0),
        source::Body::Mapped(..) => 0,
    };
    head.truncate(n);
    Some((head, opened.compression != Compression::None))
}

/// An object's version (its ETag, or without one its size and time),
/// standing in for a device; its URL, for an inode; its time in seconds.
pub(super) fn object_ids(o: &crate::remote::Object) -> (u64, u64, i64) {
    let hash = |b: &[u8]| xxhash_rust::xxh3::xxh3_64(b);
    let mtime = o
        .modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let version = match &o.etag {
        Some(tag) => hash(tag.as_bytes()),
        None => hash(format!("{}/{mtime}", o.size).as_bytes()),
    };
    (version, hash(o.url.as_bytes()), mtime)
}

#[cfg(unix)]
pub(super) fn ids(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

#[cfg(not(unix))]
pub(super) fn ids(_: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

/// The offset just past the last newline in `skip..size` of a plain file,
/// or `size` when the file has settled (its last line is complete), or
/// `skip` when no line is complete yet.
pub(super) fn complete_end(path: &Path, skip: u64, size: u64, settled: bool) -> io::Result<u64> {
    if settled || size <= skip {
        return Ok(size.max(skip));
    }
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    let mut hi = size;
    // Give up looking after 64 MiB without a newline: such a line is cut
    // (and counted malformed) rather than waited for forever.
    while hi > skip && size - hi < 1 << 26 {
        let lo = hi.saturating_sub(buf.len() as u64).max(skip);
        let n = (hi - lo) as usize;
        io::Seek::seek(&mut f, io::SeekFrom::Start(lo))?;
        f.read_exact(&mut buf[..n])?;
        if let Some(i) = memchr::memrchr(b'\n', &buf[..n]) {
            return Ok(lo + i as u64 + 1);
        }
        hi = lo;
    }
    Ok(if hi > skip { size } else { skip })
}

/// The state of the file at `input`'s path, by device and inode.
pub(super) fn known_by_inode(input: &Input, state: &State) -> Option<usize> {
    if let Some(o) = &input.object {
        // An object unreadable now keeps its place by its URL.
        let (_, ino, _) = object_ids(o);
        return state
            .files
            .iter()
            .position(|f| f.ino == ino && f.path == o.url);
    }
    let id = ids(&std::fs::metadata(input.path.as_ref()?).ok()?);
    state.files.iter().position(|f| (f.dev, f.ino) == id)
}

/// Which file state `found` continues, if any (by inode while its first
/// bytes are the same, else by content: a rotated copy), and which one
/// has its inode.
pub(super) fn match_state(
    found: &Found,
    state: &State,
    used: &mut [bool],
) -> (Option<usize>, Option<usize>) {
    let by_inode = state
        .files
        .iter()
        .position(|f| (f.dev, f.ino) == (found.dev, found.ino));
    let by_content = || {
        state
            .files
            .iter()
            .enumerate()
            .filter(|(_, f)| f.offset > 0 && found.starts_like(f))
            // An object is never renamed: only an earlier version of the
            // same URL (an append blob) is continued.
            .filter(|(_, f)| !found.object || f.ino == found.ino)
            .max_by_key(|(_, f)| (f.fp_len, f.offset))
            .map(|(i, _)| i)
    };
    let known = match by_inode {
        Some(i) if found.starts_like(&state.files[i]) => Some(i),
        // Same inode, other first bytes: truncated and rewritten.
        Some(i) => {
            used[i] = true;
            None
        }
        None => by_content(),
    };
    (by_inode, known)
}

/// The state of an object read before, in the same version: nothing to
/// fetch.
pub(super) fn object_unchanged(
    input: &Input,
    state: &State,
    used: &mut [bool],
) -> Option<FileState> {
    let o = input.object.as_ref()?;
    let (dev, ino, _) = object_ids(o);
    let same =
        |(i, f): &(usize, &FileState)| !used[*i] && (f.dev, f.ino, f.size) == (dev, ino, o.size);
    let (i, f) = state.files.iter().enumerate().find(same)?;
    used[i] = true;
    Some(FileState {
        path: input.display.clone(),
        ..f.clone()
    })
}
