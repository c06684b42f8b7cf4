//! Cuts a byte stream into blocks of a few MiB that end on a newline, so that
//! blocks can be parsed independently on the rayon pool.
//!
//! The reader is an iterator; the `pipeline` stage pulls blocks from it on
//! whichever worker is free (rayon's `par_bridge`), so one worker reads or
//! decompresses the next block while the others parse the ones already cut.
//! Memory per input is bounded by the block size times the number of workers
//! (each holds at most one block) plus the block being filled; buffers are
//! recycled through a [`Pool`].

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use memmap2::Mmap;

/// Default block size.
#[warn(missing_docs)]
pub const DEFAULT_BLOCK_SIZE: usize = 4 << 20;

/// Buffers of one block size, handed back when a block is dropped so that
/// the next block reuses them: no fresh allocation (and no page faults and
/// zeroing of a fresh mapping) per block, and at most `keep` idle buffers.
#[derive(Debug)]
pub struct Pool {
    size: usize,
    keep: usize,
    free: Mutex<Vec<Vec<u8>>>,
}

impl Pool {
    pub fn new(size: usize, keep: usize) -> Arc<Pool> {
        Arc::new(Pool {
            size,
            keep,
            free: Mutex::new(Vec::new()),
        })
    }

    /// A buffer of exactly `size` bytes (contents unspecified).
    fn take(&self) -> Vec<u8> {
        let reused = self.free.lock().ok().and_then(|mut f| f.pop());
        reused.unwrap_or_else(|| vec![0; self.size])
    }

    fn give(&self, buf: Vec<u8>) {
        if buf.len() != self.size {
            return;
        }
        if let Ok(mut f) = self.free.lock() {
            if f.len() < self.keep {
                f.push(buf);
            }
        }
    }
}

/// Where a block's bytes live.
#[derive(Debug, Default)]
enum Data {
    /// The block stands for no bytes (an overlong line that was skipped).
    #[default]
    None,
    /// Read into a buffer of the pool, which gets it back on drop.
    Owned {
        buf: Vec<u8>,
        len: usize,
        pool: Arc<Pool>,
    },
    /// A range of a mapped file; its pages are released on drop.
    Mapped {
        map: Arc<Mmap>,
        start: usize,
        end: usize,
    },
}

/// One newline-aligned block of an input.
#[derive(Debug, Default)]
pub struct Block {
    /// Position of the block in its input (0, 1, 2…).
    pub index: u32,
    data: Data,
    /// This block stands for a single line longer than the block size, which
    /// was skipped (counted as one malformed line) rather than buffered.
    pub overlong_line: bool,
    /// Reading stopped here because of an error (a truncated or corrupt
    /// archive): what happened, for the report.
    pub error: Option<String>,
}

impl Block {
    /// Whole lines; the last one may lack its newline at the end of input.
    pub fn data(&self) -> &[u8] {
        match &self.data {
            Data::None => &[],
            Data::Owned { buf, len, .. } => &buf[..*len],
            Data::Mapped { map, start, end } => &map[*start..*end],
        }
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        match std::mem::take(&mut self.data) {
            Data::None => {}
            Data::Owned { buf, pool, .. } => pool.give(buf),
            Data::Mapped { map, start, end } => release(&map, start, end),
        }
    }
}

/// The unit pages are released in: the size of a huge page (a PMD's reach
/// on x86-64 and on arm64 with 4 KiB pages), and a multiple of every
/// common page size. The kernel maps large page-cache folios of a file
/// whole, as 2 MiB huge pages where it can, and a huge page is only
/// unmapped by a release that covers it.
const RELEASE_ALIGN: usize = 2 << 20;

/// Drops the pages of `start..end`, rounded out to [`RELEASE_ALIGN`], from
/// this process's mapping, so that resident memory stays at the blocks in
/// flight however large the file (the pages stay in the page cache).
///
/// Rounding out also drops the edges of the neighbouring blocks, which a
/// worker may still be reading: its next access faults the same bytes back
/// in from the page cache, a cost of one fault per edge. Rounding in kept
/// every huge page that straddles two blocks mapped: measured on a 1 GiB
/// log cached in large folios, 409 MB resident on one thread, against
/// 16 MB rounding out.
pub(crate) fn release(map: &Mmap, start: usize, end: usize) {
    let from = start / RELEASE_ALIGN * RELEASE_ALIGN;
    let to = end
        .div_ceil(RELEASE_ALIGN)
        .saturating_mul(RELEASE_ALIGN)
        .min(map.len());
    if from >= to {
        return;
    }
    #[cfg(unix)]
    // SAFETY: the mapping is a read-only shared mapping of a file, for which
    // MADV_DONTNEED only drops page-table entries: a later access faults the
    // same bytes back in from the page cache, so a neighbouring block's
    // slice into `from..to`, if one is alive, reads the same bytes as
    // before (as long as the file is not changed, which mapping assumes
    // anyway; see `source::MapPolicy`).
    unsafe {
        let _ = map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, from, to - from);
    }
}

/// Reads blocks from a byte stream.
pub struct BlockReader<R> {
    reader: R,
    pool: Arc<Pool>,
    /// The next block's buffer, holding the partial line the last block
    /// ended with, and how many bytes of it are filled.
    pending: Option<(Vec<u8>, usize)>,
    next_index: u32,
    done: bool,
    /// Decompressed bytes read so far.
    pub offset: u64,
    /// The stream failed as damaged data (a decompressor's error), not as
    /// an I/O error: what it decoded just before may be garbled.
    damaged: bool,
}

/// Decoded bytes dropped before the point where a decompressor reported
/// damage: xz and zstd decoders can emit garbled output for a while before
/// a check fails (xz's CRC covers whole blocks), and a garbled line may
/// still parse, at a wrong time. Dropped from the last block only.
const DAMAGE_MARGIN: usize = 256 << 10;

impl<R: Read> BlockReader<R> {
    /// A reader with its own pool, keeping a few idle buffers.
    pub fn new(reader: R, block_size: usize) -> Self {
        let pool = Pool::new(block_size.max(16), 4);
        Self::with_pool(reader, pool)
    }

    /// A reader whose blocks come from (and return to) `pool`.
    pub fn with_pool(reader: R, pool: Arc<Pool>) -> Self {
        BlockReader {
            reader,
            pool,
            pending: None,
            next_index: 0,
            done: false,
            offset: 0,
            damaged: false,
        }
    }

    /// Fills `buf` from `filled` to its end. Returns the new fill and
    /// `Err` with a description when the stream failed, `Ok(true)` at the end
    /// of the stream.
    fn fill(&mut self, buf: &mut [u8], mut filled: usize) -> (usize, Result<bool, String>) {
        let result = loop {
            if filled == buf.len() {
                break Ok(false);
            }
            match self.reader.read(&mut buf[filled..]) {
                Ok(0) => break Ok(true),
                Ok(n) => {
                    filled += n;
                    self.offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.damaged = matches!(
                        e.kind(),
                        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput
                    );
                    break Err(format!(
                        "read failed after {} bytes of content: {}",
                        self.offset,
                        describe(&e)
                    ));
                }
            }
        };
        (filled, result)
    }

    /// Discards bytes up to and including the next newline; what follows it
    /// becomes the start of the next block. `Ok(true)` when nothing is left.
    fn skip_rest_of_line(&mut self) -> Result<bool, String> {
        let mut buf = self.pool.take();
        loop {
            let (filled, result) = self.fill(&mut buf, 0);
            let eof = result?;
            if let Some(p) = memchr::memchr(b'\n', &buf[..filled]) {
                let rest = filled - p - 1;
                buf.copy_within(p + 1..filled, 0);
                self.pending = Some((buf, rest));
                return Ok(eof && rest == 0);
            }
            if eof {
                self.pool.give(buf);
                return Ok(true);
            }
        }
    }

    fn block(&mut self, buf: Vec<u8>, len: usize) -> Block {
        let index = self.next_index;
        self.next_index += 1;
        Block {
            index,
            data: Data::Owned {
                buf,
                len,
                pool: self.pool.clone(),
            },
            overlong_line: false,
            error: None,
        }
    }
}

fn describe(e: &io::Error) -> String {
    // A decoder over its memory allowance says so itself (source::Limited).
    match e.kind() {
        io::ErrorKind::UnexpectedEof => "archive is truncated".to_string(),
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
            format!("archive is corrupt ({e})")
        }
        _ => e.to_string(),
    }
}

impl<R: Read> Iterator for BlockReader<R> {
    type Item = Block;

    fn next(&mut self) -> Option<Block> {
        if self.done {
            return None;
        }
        let (mut buf, carried) = self.pending.take().unwrap_or_else(|| (self.pool.take(), 0));
        let (filled, result) = self.fill(&mut buf, carried);
        match result {
            Err(mut message) => {
                self.done = true;
                let mut keep = filled;
                if self.damaged && filled > 0 {
                    // Back to the end of the last line at least the margin
                    // before the damage.
                    keep = filled
                        .checked_sub(DAMAGE_MARGIN)
                        .and_then(|cut| memchr::memrchr(b'\n', &buf[..cut]))
                        .map_or(0, |p| p + 1);
                    message.push_str(&format!(
                        "; the last {} bytes decoded before it were dropped, as a decoder may output garbled data just before it detects damage",
                        filled - keep
                    ));
                }
                let mut b = self.block(buf, keep);
                b.error = Some(message);
                Some(b)
            }
            Ok(true) => {
                self.done = true;
                if filled == 0 {
                    self.pool.give(buf);
                    return None;
                }
                Some(self.block(buf, filled))
            }
            Ok(false) => match memchr::memrchr(b'\n', &buf[..filled]) {
                Some(p) => {
                    let mut next = self.pool.take();
                    let rest = filled - p - 1;
                    next[..rest].copy_from_slice(&buf[p + 1..filled]);
                    self.pending = Some((next, rest));
                    Some(self.block(buf, p + 1))
                }
                None => {
                    // One line fills the whole block: skip it, count it.
                    self.pool.give(buf);
                    let mut b = Block {
                        index: self.next_index,
                        data: Data::None,
                        overlong_line: true,
                        error: None,
                    };
                    self.next_index += 1;
                    match self.skip_rest_of_line() {
                        Ok(eof) => self.done = eof,
                        Err(message) => {
                            self.done = true;
                            b.error = Some(message);
                        }
                    }
                    Some(b)
                }
            },
        }
    }
}

/// Cuts a memory-mapped file into blocks without copying: each block is a
/// range of the mapping that ends on a newline, cut exactly where
/// [`BlockReader`] would cut the same bytes.
pub struct MapReader {
    map: Arc<Mmap>,
    pos: usize,
    block_size: usize,
    next_index: u32,
    /// Bytes handed out so far, for progress.
    read: Arc<AtomicU64>,
}

impl MapReader {
    pub fn new(map: Arc<Mmap>, block_size: usize, read: Arc<AtomicU64>) -> Self {
        MapReader {
            map,
            pos: 0,
            block_size: block_size.max(16),
            next_index: 0,
            read,
        }
    }
}

impl Iterator for MapReader {
    type Item = Block;

    fn next(&mut self) -> Option<Block> {
        let len = self.map.len();
        let start = self.pos;
        if start >= len {
            return None;
        }
        let index = self.next_index;
        self.next_index += 1;
        let window = start + self.block_size;
        let (data, overlong_line) = if len - start < self.block_size {
            self.pos = len;
            (
                Data::Mapped {
                    map: self.map.clone(),
                    start,
                    end: len,
                },
                false,
            )
        } else {
            match memchr::memrchr(b'\n', &self.map[start..window]) {
                Some(p) => {
                    self.pos = start + p + 1;
                    let end = self.pos;
                    (
                        Data::Mapped {
                            map: self.map.clone(),
                            start,
                            end,
                        },
                        false,
                    )
                }
                None => {
                    // One line fills the whole block: skip it, count it,
                    // releasing what was scanned a block at a time (a
                    // 200 MB line would otherwise be resident whole).
                    release(&self.map, start, window);
                    let mut from = window;
                    self.pos = loop {
                        let to = (from + self.block_size).min(len);
                        match memchr::memchr(b'\n', &self.map[from..to]) {
                            Some(p) => break from + p + 1,
                            None if to == len => break len,
                            None => {
                                release(&self.map, from, to);
                                from = to;
                            }
                        }
                    };
                    release(&self.map, from, self.pos);
                    (Data::None, true)
                }
            }
        };
        self.read
            .fetch_add((self.pos - start) as u64, Ordering::Relaxed);
        Some(Block {
            index,
            data,
            overlong_line,
            error: None,
        })
    }
}

/// The lines of a block, without their newlines. A final line without a
/// newline is a line too.
pub fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match memchr::memchr(b'\n', rest) {
            Some(p) => {
                let l = &rest[..p];
                rest = &rest[p + 1..];
                Some(l)
            }
            None => {
                let l = rest;
                rest = &[];
                Some(l)
            }
        }
    })
}

/// The lines of a block as the parsers see them: [`lines`], a `\r`
/// before the newline dropped (CRLF logs).
pub fn text_lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    lines(data).map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(data: &[u8], size: usize) -> Vec<Block> {
        BlockReader::new(data, size).collect()
    }

    #[test]
    fn blocks_end_on_newlines_and_keep_every_byte() {
        let data = b"alpha\nbeta\ngamma gamma\ndelta\nlast-without-newline";
        for size in [21, 22, 23, 64, 1 << 20] {
            let bs = blocks(data, size);
            let joined: Vec<u8> = bs.iter().flat_map(|b| b.data().to_vec()).collect();
            assert_eq!(joined, data.to_vec(), "size {size}");
            for b in &bs[..bs.len() - 1] {
                assert_eq!(b.data().last(), Some(&b'\n'));
            }
            let n: usize = bs.iter().map(|b| lines(b.data()).count()).sum();
            assert_eq!(n, 5);
        }
    }

    #[test]
    fn overlong_line_is_skipped_not_buffered() {
        let mut data = b"short\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 100));
        data.extend(b"\nafter\n");
        let bs = blocks(&data, 16);
        assert!(bs.iter().any(|b| b.overlong_line));
        let kept: Vec<&[u8]> = bs.iter().flat_map(|b| lines(b.data())).collect();
        assert_eq!(kept, vec![&b"short"[..], &b"after"[..]]);
        assert!(bs.iter().all(|b| b.data().len() <= 16));
    }

    #[test]
    fn dropped_blocks_return_their_buffers() {
        let data = b"one\ntwo\nthree\nfour\nfive\nsix\n".repeat(10);
        let pool = Pool::new(16, 2);
        let mut reader = BlockReader::with_pool(&data[..], pool.clone());
        let mut seen = Vec::new();
        for b in reader.by_ref() {
            seen.extend_from_slice(b.data());
            // At most the kept buffers idle, whatever the number of blocks.
            assert!(pool.free.lock().unwrap().len() <= 2);
        }
        assert_eq!(seen, data);
        assert_eq!(pool.free.lock().unwrap().len(), 2);
    }

    fn mapped(data: &[u8], size: usize) -> Vec<Block> {
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, data).unwrap();
        // SAFETY: a private temporary file nobody else can truncate.
        let map = Arc::new(unsafe { Mmap::map(&f) }.unwrap());
        MapReader::new(map, size, Arc::new(AtomicU64::new(0))).collect()
    }

    #[test]
    fn mapped_blocks_are_cut_where_read_blocks_are() {
        let mut data = b"short\nline two\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 100));
        data.extend(b"\nafter the long one\nend\nexactly-sixteen\n0123456789abcdef");
        for size in 16..=130 {
            let read = blocks(&data, size);
            let map = mapped(&data, size);
            assert_eq!(read.len(), map.len(), "size {size}");
            for (r, m) in read.iter().zip(&map) {
                assert_eq!(r.index, m.index);
                assert_eq!(r.data(), m.data(), "size {size}");
                assert_eq!(r.overlong_line, m.overlong_line, "size {size}");
            }
        }
    }

    #[test]
    fn released_pages_read_back_the_same() {
        // Blocks spanning several release units, dropped in order: later
        // blocks still see the file's bytes.
        let line = b"0123456789 abcdefghij ABCDEFGHIJ 0123456789\n";
        let data: Vec<u8> = line
            .iter()
            .copied()
            .cycle()
            .take(line.len() * 20_000)
            .collect();
        let mut seen = Vec::new();
        for b in mapped(&data, 100_000) {
            seen.extend_from_slice(b.data());
        }
        assert_eq!(seen, data);
    }

    /// The resident size (kB) of this process's mapping of `path`.
    #[cfg(target_os = "linux")]
    fn mapped_rss_kb(path: &std::path::Path) -> u64 {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let name = path.to_str().unwrap();
        let mut lines = smaps.lines();
        while let Some(l) = lines.next() {
            if l.ends_with(name) {
                let rss = lines.find(|l| l.starts_with("Rss:")).unwrap();
                return rss.split_whitespace().nth(1).unwrap().parse().unwrap();
            }
        }
        panic!("{name} is not mapped");
    }

    /// Once every block is read and dropped, none of the file stays mapped,
    /// whatever the page size the kernel mapped it with (rounding the
    /// releases in left the pages around each block boundary).
    #[cfg(target_os = "linux")]
    #[test]
    fn dropped_blocks_leave_nothing_resident() {
        let line = b"10.0.0.1 - - [03/Nov/2024:06:09:29 +0000] \"GET / HTTP/1.1\" 200 5\n";
        let mut f = tempfile::NamedTempFile::new().unwrap();
        for _ in 0..(24 << 20) / line.len() {
            std::io::Write::write_all(&mut f, line).unwrap();
        }
        // SAFETY: a private temporary file nobody else can truncate.
        let map = Arc::new(unsafe { Mmap::map(f.as_file()) }.unwrap());
        let mut sum = 0u64;
        for b in MapReader::new(map.clone(), 1 << 20, Arc::new(AtomicU64::new(0))) {
            sum += b.data().iter().map(|&c| u64::from(c)).sum::<u64>();
        }
        assert!(sum > 0);
        assert_eq!(mapped_rss_kb(f.path()), 0);
    }

    #[test]
    fn empty_input_has_no_blocks() {
        assert!(blocks(b"", 16).is_empty());
    }

    #[test]
    fn read_error_keeps_what_came_before() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "eof"));
                }
                self.0 -= 1;
                buf[..3].copy_from_slice(b"ab\n");
                Ok(3)
            }
        }
        let bs: Vec<Block> = BlockReader::new(Failing(4), 64).collect();
        assert_eq!(bs.len(), 1);
        assert_eq!(bs[0].data(), b"ab\nab\nab\nab\n");
        assert!(bs[0].error.as_deref().unwrap().contains("truncated"));
    }
}
