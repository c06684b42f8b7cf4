//! A BGZF file (`bgzip`, htslib; the SAM/BAM specification, §4.1)
//! inflated on every core (on one, by the thread that reads it).
//!
//! BGZF is gzip made of small members (at most 64 KiB of content each),
//! each saying in its header how long it is, so members can be found
//! without inflating anything and inflated apart. The reading thread reads
//! the compressed file in order, cuts it into batches of whole members
//! and hands them to the decoding threads; it takes their content back in
//! file order. Every member's CRC-32 and length are checked.
//!
//! Anything that is not a well-formed BGZF member (damage, a plain gzip
//! member appended, junk after the end) is an error here, and the caller
//! ([`super::gzip`]'s `Parallel`) hands the file to the sequential
//! decoder, which says what is wrong at the byte where it is.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::gzip::Pieces;

/// Compressed bytes per batch handed to a decoding thread (about 1.7 MB
/// of an access log's content).
const BATCH: usize = 256 << 10;

/// Content per batch, at most (and a member more): a batch of members
/// that compress a thousandfold (a log of one repeated line) would
/// otherwise hold hundreds of MB.
const CONTENT_CAP: usize = 4 << 20;

/// The most content a BGZF member holds.
const MEMBER_CONTENT_MAX: u32 = 1 << 16;

/// The fixed part of a BGZF member's header: the gzip header (10 bytes)
/// and XLEN (2).
const HEAD: usize = 12;

/// A batch of whole members and its place in the file.
struct Batch {
    seq: u64,
    raw: Vec<u8>,
    /// Where its content goes (an allocation used before, when there is one).
    out: Vec<u8>,
}

type Decoded = (u64, Result<Vec<u8>, String>);

/// The content of a BGZF file, inflated on `threads` cores.
pub(super) struct Bgzf {
    file: File,
    /// Where the next compressed read begins, and the bytes read past the
    /// last whole member handed out.
    offset: u64,
    carry: Vec<u8>,
    /// The compressed file is read to its end.
    eof: bool,
    /// For progress: the furthest compressed byte read.
    furthest: Arc<AtomicU64>,
    work: Option<Sender<Batch>>,
    results: Receiver<Decoded>,
    workers: Vec<JoinHandle<()>>,
    /// With no decoding threads (a run on one core): batches are
    /// inflated here, in the reading thread, as they are taken.
    inline: Option<Inflater>,
    /// Batches sent and not yet taken back, at most `in_flight`.
    sent: u64,
    next: u64,
    in_flight: u64,
    pending: BTreeMap<u64, Result<Vec<u8>, String>>,
    /// Pieces handed back, for batches to come (fresh allocations of
    /// megabytes cost page faults every time).
    spare: Vec<Vec<u8>>,
    /// What ended the reading of batches, told once the batches before it
    /// are handed on.
    error: Option<io::Error>,
}

impl Bgzf {
    /// Starts inflating `file` on `threads` threads (none: in the thread
    /// that takes its content); progress (the furthest compressed byte
    /// read) goes to `furthest`.
    pub(super) fn new(file: File, threads: usize, furthest: Arc<AtomicU64>) -> io::Result<Bgzf> {
        let (work, queue) = channel::<Batch>();
        let queue = Arc::new(Mutex::new(queue));
        let (done, results) = channel::<Decoded>();
        let mut workers = Vec::with_capacity(threads);
        for i in 0..threads {
            let (queue, done) = (queue.clone(), done.clone());
            let worker = std::thread::Builder::new()
                .name(format!("bgzf-{i}"))
                .spawn(move || decode_batches(&queue, &done))?;
            workers.push(worker);
        }
        Ok(Bgzf {
            file,
            offset: 0,
            carry: Vec::new(),
            eof: false,
            furthest,
            work: Some(work),
            results,
            workers,
            inline: (threads == 0).then(Inflater::new),
            sent: 0,
            next: 0,
            in_flight: if threads == 0 { 1 } else { threads as u64 + 2 },
            pending: BTreeMap::new(),
            spare: Vec::new(),
            error: None,
        })
    }

    /// Reads and sends batches until `in_flight` are out or the file ends
    /// (or is found damaged: kept in `error`).
    fn dispatch(&mut self) -> io::Result<()> {
        while self.error.is_none() && self.sent - self.next < self.in_flight {
            let raw = match self.next_batch() {
                Ok(Some(raw)) => raw,
                Ok(None) => return Ok(()),
                Err(e) => {
                    self.error = Some(e);
                    return Ok(());
                }
            };
            let batch = Batch {
                seq: self.sent,
                raw,
                out: self.spare.pop().unwrap_or_default(),
            };
            if let Some(inflater) = &mut self.inline {
                let content = inflate_batch(&batch.raw, batch.out, inflater);
                self.pending.insert(batch.seq, content);
                self.sent += 1;
                continue;
            }
            let sent = self.work.as_ref().is_some_and(|w| w.send(batch).is_ok());
            if !sent {
                return Err(io::Error::other("a BGZF decoding thread ended"));
            }
            self.sent += 1;
        }
        Ok(())
    }

    /// The next batch of whole members, `None` at the end of the file.
    fn next_batch(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            let (whole, full) = whole_members(&self.carry, BATCH).map_err(invalid)?;
            if full || (self.eof && whole > 0) {
                let rest = self.carry.split_off(whole);
                return Ok(Some(std::mem::replace(&mut self.carry, rest)));
            }
            if self.eof {
                if self.carry.is_empty() {
                    return Ok(None);
                }
                return Err(invalid("the file ends inside a BGZF member".into()));
            }
            let len = self.carry.len();
            self.carry.resize(len + BATCH, 0);
            let n = loop {
                match self.file.read_at(&mut self.carry[len..], self.offset) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    r => break r?,
                }
            };
            self.carry.truncate(len + n);
            self.offset += n as u64;
            self.furthest.fetch_max(self.offset, Ordering::Relaxed);
            self.eof = n == 0;
        }
    }

    /// The next batch's content, in file order; `None` at the end.
    fn take(&mut self) -> io::Result<Option<Vec<u8>>> {
        self.dispatch()?;
        if self.next == self.sent {
            return self.error.take().map_or(Ok(None), Err);
        }
        let result = loop {
            if let Some(r) = self.pending.remove(&self.next) {
                break r;
            }
            let (seq, r) = self
                .results
                .recv()
                .map_err(|_| io::Error::other("the BGZF decoding threads ended"))?;
            self.pending.insert(seq, r);
        };
        self.next += 1;
        result.map(Some).map_err(invalid)
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

impl Pieces for Bgzf {
    fn piece(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            match self.take()? {
                Some(content) if content.is_empty() => {}
                piece => return Ok(piece),
            }
        }
    }

    fn recycle(&mut self, mut piece: Vec<u8>) {
        if self.spare.len() < self.in_flight as usize {
            piece.clear();
            self.spare.push(piece);
        }
    }
}

impl Drop for Bgzf {
    fn drop(&mut self) {
        // The workers end once the queue is closed and empty; what they
        // still send goes nowhere.
        self.work = None;
        while self.results.try_recv().is_ok() {}
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// The content of BGZF members `raw` as the decoding threads give it:
/// the whole members at its start (up to `raw`'s end), inflated and
/// checked, and how many bytes they took; an error where they are not
/// BGZF or do not check. (For the fuzz target: whatever is accepted must
/// be what the sequential gzip decoder gives for those bytes.)
pub fn inflate_members(raw: &[u8]) -> (Result<Vec<u8>, String>, usize) {
    match whole_members(raw, raw.len()) {
        Ok((whole, _)) => {
            let out = inflate_batch(&raw[..whole], Vec::new(), &mut Inflater::new());
            (out, whole)
        }
        Err(e) => (Err(e), 0),
    }
}

/// A decoding thread: inflates batches until the queue closes.
fn decode_batches(queue: &Mutex<Receiver<Batch>>, done: &Sender<Decoded>) {
    let mut inflater = Inflater::new();
    loop {
        let batch = match queue.lock() {
            Ok(q) => q.recv(),
            Err(_) => return,
        };
        let Ok(batch) = batch else {
            return;
        };
        let content = inflate_batch(&batch.raw, batch.out, &mut inflater);
        if done.send((batch.seq, content)).is_err() {
            return;
        }
    }
}

/// A member found whole at the start of `raw`: its length, where its
/// compressed data lies, and its trailer (the content's CRC-32 and length).
struct Member {
    len: usize,
    data: std::ops::Range<usize>,
    crc: u32,
    size: u32,
}

/// The BGZF member at the start of `raw`: `Ok(None)` when `raw` is too
/// short to hold it whole, an error when it is not a BGZF member.
fn member(raw: &[u8]) -> Result<Option<Member>, String> {
    let Some(head) = raw.first_chunk::<HEAD>() else {
        return (raw.iter().zip([0x1f, 0x8b, 8, 4]).all(|(a, b)| *a == b))
            .then_some(None)
            .ok_or_else(|| "not a BGZF member".to_string());
    };
    // ID1 ID2, deflate, FLG = FEXTRA only.
    if head[..4] != [0x1f, 0x8b, 8, 4] {
        return Err("not a BGZF member".into());
    }
    let xlen = usize::from(u16::from_le_bytes([head[10], head[11]]));
    let Some(extra) = raw.get(HEAD..HEAD + xlen) else {
        return Ok(None);
    };
    let mut bsize = None;
    let mut sub = extra;
    while let [si1, si2, l1, l2, rest @ ..] = sub {
        let slen = usize::from(u16::from_le_bytes([*l1, *l2]));
        let Some(field) = rest.get(..slen) else {
            return Err("a BGZF header's extra field is cut short".into());
        };
        if (*si1, *si2, slen) == (b'B', b'C', 2) {
            bsize = Some(usize::from(u16::from_le_bytes([field[0], field[1]])));
        }
        sub = &rest[slen..];
    }
    let len = bsize.ok_or("a gzip member without BGZF's block size")? + 1;
    // Header, extra field, and CRC-32 and ISIZE after the data.
    if len < HEAD + xlen + 8 {
        return Err("a BGZF block size too small".into());
    }
    let Some(trailer) = raw.get(len - 8..len) else {
        return Ok(None);
    };
    let word =
        |i: usize| u32::from_le_bytes([trailer[i], trailer[i + 1], trailer[i + 2], trailer[i + 3]]);
    Ok(Some(Member {
        len,
        data: HEAD + xlen..len - 8,
        crc: word(0),
        size: word(4),
    }))
}

/// How many bytes at the start of `raw` are whole members, stopping once
/// `target` bytes are reached or they hold [`CONTENT_CAP`] of content; and
/// whether it stopped there (rather than at the end of what `raw` holds).
fn whole_members(raw: &[u8], target: usize) -> Result<(usize, bool), String> {
    let (mut at, mut content) = (0, 0);
    while at < target && content < CONTENT_CAP {
        match member(&raw[at..])? {
            Some(m) => {
                content += m.size.min(MEMBER_CONTENT_MAX) as usize;
                at += m.len;
            }
            None => return Ok((at, false)),
        }
    }
    Ok((at, true))
}

/// The content of a batch of whole members, each checked against its
/// CRC-32 and length, into `out`.
fn inflate_batch(raw: &[u8], mut out: Vec<u8>, inflater: &mut Inflater) -> Result<Vec<u8>, String> {
    // Each member says how much content it holds; no more than BGZF's
    // 64 KiB is believed.
    let mut members = Vec::new();
    let mut total = 0usize;
    let mut at = 0;
    while at < raw.len() {
        let m = member(&raw[at..])?.ok_or("a BGZF member cut short")?;
        if m.size > MEMBER_CONTENT_MAX {
            return Err(format!("a BGZF member claims {} bytes of content", m.size));
        }
        total += m.size as usize;
        members.push((at + m.data.start..at + m.data.end, m.crc, m.size as usize));
        at += m.len;
    }
    out.clear();
    out.reserve_exact(total);
    for (data, crc, size) in members {
        let start = out.len();
        inflater.inflate(&raw[data], size, &mut out)?;
        // SAFETY: a pointer and length of initialised bytes.
        let check = unsafe {
            libdeflate_sys::libdeflate_crc32(0, out[start..].as_ptr().cast(), out.len() - start)
        };
        if check != crc {
            return Err("a BGZF member's CRC-32 does not match".into());
        }
    }
    Ok(out)
}

/// A libdeflate decompressor (about 32 KiB of tables), used by one
/// thread at a time.
struct Inflater(std::ptr::NonNull<libdeflate_sys::libdeflate_decompressor>);

// SAFETY: a decompressor holds no reference to the thread that made it;
// `&mut self` keeps it to one thread at a time.
unsafe impl Send for Inflater {}

impl Inflater {
    fn new() -> Inflater {
        // SAFETY: no arguments; null only when memory is exhausted.
        let p = unsafe { libdeflate_sys::libdeflate_alloc_decompressor() };
        Inflater(std::ptr::NonNull::new(p).unwrap_or_else(|| {
            std::alloc::handle_alloc_error(std::alloc::Layout::new::<[u8; 32 << 10]>())
        }))
    }

    /// Appends to `out` the content of `data`, which must be one whole
    /// raw deflate stream, nothing after it, holding exactly `size` bytes.
    fn inflate(&mut self, data: &[u8], size: usize, out: &mut Vec<u8>) -> Result<(), String> {
        out.reserve(size);
        let (mut used_in, mut used_out) = (0usize, 0usize);
        // SAFETY: libdeflate reads `data` and writes at most `size` bytes
        // into `out`'s spare capacity (reserved just above), and says how
        // many bytes it read and wrote.
        let result = unsafe {
            libdeflate_sys::libdeflate_deflate_decompress_ex(
                self.0.as_ptr(),
                data.as_ptr().cast(),
                data.len(),
                out.spare_capacity_mut().as_mut_ptr().cast(),
                size,
                &mut used_in,
                &mut used_out,
            )
        };
        if result == libdeflate_sys::libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE {
            return Err("a BGZF member's content is longer than stated".into());
        }
        if result != libdeflate_sys::libdeflate_result_LIBDEFLATE_SUCCESS {
            return Err("a BGZF member does not inflate: invalid deflate data".into());
        }
        if used_in != data.len() || used_out != size {
            return Err("a BGZF member's content is not its stated length".into());
        }
        // SAFETY: libdeflate wrote the first `used_out` (≤ `size`) bytes
        // of the spare capacity.
        unsafe { out.set_len(out.len() + used_out) };
        Ok(())
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        // SAFETY: allocated by libdeflate in `new`, freed once.
        unsafe { libdeflate_sys::libdeflate_free_decompressor(self.0.as_ptr()) };
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::io::Write;

    /// `data` written as BGZF, from the specification: members of at most
    /// `per` bytes of content, each a raw deflate stream in a gzip member
    /// with the `BC` extra subfield, then the empty end-of-file member.
    pub(in crate::source) fn bgzf(data: &[u8], per: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut member = |chunk: &[u8]| {
            let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
            z.write_all(chunk).unwrap();
            let cdata = z.finish().unwrap();
            let bsize = (cdata.len() + 25) as u16;
            out.extend_from_slice(&[0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0]);
            out.extend_from_slice(&[b'B', b'C', 2, 0]);
            out.extend_from_slice(&bsize.to_le_bytes());
            out.extend_from_slice(&cdata);
            let mut crc = flate2::Crc::new();
            crc.update(chunk);
            out.extend_from_slice(&crc.sum().to_le_bytes());
            out.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
        };
        for chunk in data.chunks(per) {
            member(chunk);
        }
        member(b"");
        out
    }

    fn read_all(mut r: impl Pieces) -> (Vec<u8>, Option<io::ErrorKind>) {
        let mut out = Vec::new();
        loop {
            match r.piece() {
                Ok(None) => return (out, None),
                Ok(Some(p)) => out.extend_from_slice(&p),
                Err(e) => return (out, Some(e.kind())),
            }
        }
    }

    fn inflated(file: &[u8], threads: usize) -> (Vec<u8>, Option<io::ErrorKind>, u64) {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(file).unwrap();
        let furthest = Arc::new(AtomicU64::new(0));
        let (out, err) = read_all(Bgzf::new(f, threads, furthest.clone()).unwrap());
        (out, err, furthest.load(Ordering::Relaxed))
    }

    fn text(n: usize) -> Vec<u8> {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut out = Vec::new();
        for i in 0..n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            writeln!(out, "line {i} {:x} GET /p/{}", x, x % 5000).unwrap();
        }
        out
    }

    #[test]
    fn members_come_back_in_order_on_any_number_of_threads() {
        let data = text(200_000);
        // Many batches of members of 65,280 bytes (bgzip's) and of 1,000.
        for per in [65_280, 1_000] {
            let file = bgzf(&data, per);
            assert!(file.len() > 2 * BATCH, "{}", file.len());
            // None: inflated inline, in the thread that takes the content.
            for threads in [0, 1, 2, 3] {
                let (out, err, furthest) = inflated(&file, threads);
                assert_eq!(err, None, "per {per}, {threads} threads");
                assert!(
                    out == data,
                    "per {per}, {threads} threads: {} bytes",
                    out.len()
                );
                assert_eq!(furthest, file.len() as u64);
            }
        }
        assert_eq!(inflated(&bgzf(b"", 10), 2).0, b"");
    }

    #[test]
    fn a_batch_holds_a_bounded_content_however_well_it_compresses() {
        // One repeated line: members of a hundred bytes for 64 KiB each.
        let data = b"GET / 200\n".repeat(2_000_000);
        let file = bgzf(&data, 65_280);
        let (whole, full) = whole_members(&file, BATCH).unwrap();
        assert!(full && whole < file.len() / 2, "{whole} of {}", file.len());
        let content = inflate_batch(&file[..whole], Vec::new(), &mut Inflater::new()).unwrap();
        assert!(content.len() >= CONTENT_CAP, "{}", content.len());
        assert!(
            content.len() <= CONTENT_CAP + (1 << 16),
            "{}",
            content.len()
        );
        let (out, err, _) = inflated(&file, 2);
        assert_eq!(err, None);
        assert!(out == data, "{} bytes", out.len());
    }

    #[test]
    fn anything_but_whole_bgzf_members_is_an_error() {
        let data = text(50_000);
        let file = bgzf(&data, 65_280);
        let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
        cases.push(("cut short", file[..file.len() - 100].to_vec()));
        let mut flipped = file.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x40;
        cases.push(("a flipped bit", flipped));
        let mut junk = file.clone();
        junk.extend_from_slice(b"junk");
        cases.push(("junk after", junk));
        let mut plain = file.clone();
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(b"a plain member\n").unwrap();
        plain.extend(z.finish().unwrap());
        cases.push(("a plain gzip member after", plain));
        let mut big = file.clone();
        // The first member's ISIZE, past BGZF's 64 KiB.
        let first = member(&big).unwrap().unwrap().len;
        big[first - 4..first].copy_from_slice(&(1u32 << 20).to_le_bytes());
        cases.push(("an oversized ISIZE", big));
        // A byte between the end of the first member's deflate stream and
        // its trailer, its block size raised to match: the sequential
        // decoder reads the trailer right after the stream.
        let mut padded = file[..first - 8].to_vec();
        padded.push(0);
        padded.extend_from_slice(&file[first - 8..]);
        let bsize = u16::from_le_bytes([file[16], file[17]]) + 1;
        padded[16..18].copy_from_slice(&bsize.to_le_bytes());
        assert_eq!(member(&padded).unwrap().unwrap().len, first + 1);
        cases.push(("a byte after the deflate stream", padded));
        for (name, case) in cases {
            for threads in [0, 2] {
                let (out, err, _) = inflated(&case, threads);
                assert_eq!(err, Some(io::ErrorKind::InvalidData), "{name}");
                assert!(data.starts_with(&out), "{name}");
            }
        }
    }
}
