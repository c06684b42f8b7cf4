//! One large gzip file decoded off the reading thread, or on every core.
//!
//! A rotated day of a busy host is one gzip member of several GB, and
//! inflating it on one core is the slowest part of a run over it (about
//! 300 MB of content a second, against over a GB a second parsed). Such a
//! file is inflated in order by `rapidgzip-core` on a core of its own,
//! beside the parsers. A BGZF file (`bgzip`), whose members say where the
//! next begins, has its members inflated on every core
//! (`bgzf.rs`). Either hands its content on in pieces, CRCs checked.
//!
//! Damage is where they and the sequential decoder could part: they
//! report it for a whole chunk or batch, the sequential one at the byte. So at the first
//! error the sequential decoder takes over — from the start of the file,
//! its output up to what was already handed on dropped — and the run sees
//! what it always saw: every byte before the damage, then the same error.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use super::bgzf::Bgzf;
use super::{counted, decoder, read_up_to, sniff, Body, Compression, Opened};
use super::{Counting, DECODE_STEP};

/// Compressed files smaller than this are decoded on one core: they take
/// under a tenth of a second that way.
pub const PARALLEL_MIN: u64 = 16 << 20;

/// Content bytes a decoding worker produces at a time. With `threads + 1`
/// of them awaiting the reader and markers of two bytes a symbol while
/// a window is unknown, this keeps a run within its memory bound.
const CHUNK: usize = 2 << 20;

/// The gzip decoders of a run: one that inflates on a core of its own
/// (beside the parsing threads; the sequential decoder inflates in the
/// reading thread, under the lock the parsers take blocks through), and
/// for BGZF files (`bgzip`, `htslib`), whose members say where the next
/// begins, threads that inflate members on all the run's cores. On one
/// core only the second is kept, its members inflated in the reading
/// thread (by libdeflate, twice as fast as the sequential decoder).
/// rapidgzip's speculative decoding of one ordinary member is not used:
/// measured on two cores it took 2.6 times the CPU of inflating in order
/// and three times the memory, for no gain. Nor is its BGZF decoding: it
/// made two cores 1.2 times one, against 1.7 for `bgzf.rs`'s batches of
/// members handed on whole.
#[derive(Clone, Debug)]
pub struct ParallelGzip {
    /// One ordinary member's decoder; none on one core, where a thread of
    /// its own would only take turns with the parser.
    single: Option<rapidgzip_core::Decoder>,
    /// Threads inflating a BGZF file's members; none on one core.
    threads: usize,
    /// Files smaller than this (compressed) are left to the reading thread.
    min: u64,
}

impl ParallelGzip {
    /// The decoders of a run on `threads` cores.
    pub fn new(threads: usize) -> Option<ParallelGzip> {
        if threads < 2 {
            return Some(ParallelGzip {
                single: None,
                threads: 0,
                min: PARALLEL_MIN,
            });
        }
        let pool = rapidgzip_core::DecoderPool::builder()
            .workers(threads)
            .build()
            .ok()?;
        let single = rapidgzip_core::Decoder::builder()
            .decoder_threads(1)
            .in_flight_chunks(threads + 1)
            .decoded_chunk_size(CHUNK)
            .decoder_pool(pool)
            .build()
            .ok()?;
        Some(ParallelGzip {
            single: Some(single),
            threads,
            min: PARALLEL_MIN,
        })
    }

    /// Opens file `f` (at `path`, `meta` its metadata) to be inflated off
    /// the reading thread when it is a gzip file large enough; leaves it
    /// at its start otherwise.
    pub(super) fn try_open(
        &self,
        f: &mut File,
        path: &Path,
        meta: &std::fs::Metadata,
        modified: SystemTime,
        raw_read: &Arc<AtomicU64>,
    ) -> io::Result<Option<Opened>> {
        let mut head = [0u8; 16];
        let n = read_up_to(f, &mut head)?;
        f.seek(io::SeekFrom::Start(0))?;
        if sniff(&head[..n]) != Compression::Gzip {
            return Ok(None);
        }
        let Some(reader) = self.open(path, meta.len(), &head[..n], raw_read) else {
            return Ok(None);
        };
        let content_read = Arc::new(AtomicU64::new(0));
        Ok(Some(Opened {
            body: Body::Stream(Box::new(Counting {
                inner: reader,
                count: content_read.clone(),
            })),
            compression: Compression::Gzip,
            modified,
            size: Some(meta.len()),
            raw_read: raw_read.clone(),
            content_read,
        }))
    }

    /// The content of gzip file `path` (`len` bytes on disk; `head` its
    /// first bytes), decoded off the reading thread (or a BGZF file's,
    /// inflated as a whole member at a time), or `None` when it is too
    /// small to gain from it, or one ordinary member on one core, or the
    /// decoder refuses it (then the caller decodes it in the reading
    /// thread, which says what is wrong with it).
    pub(super) fn open(
        &self,
        path: &Path,
        len: u64,
        head: &[u8],
        raw_read: &Arc<AtomicU64>,
    ) -> Option<Box<dyn Read + Send>> {
        if len < self.min {
            return None;
        }
        let inner: Box<dyn Pieces> = if is_bgzf(head) {
            let file = File::open(path).ok()?;
            Box::new(Bgzf::new(file, self.threads, raw_read.clone()).ok()?)
        } else {
            let single = self.single.as_ref()?;
            let source = Counted {
                file: File::open(path).ok()?,
                furthest: raw_read.clone(),
            };
            Box::new(ReadPieces(single.reader(source).ok()?))
        };
        Some(Box::new(Parallel::new(inner, path, raw_read)))
    }
}

/// Whether a gzip file starts with a BGZF member: the extra field (FLG
/// bit 2) holding the subfield `BC` (the SAM/BAM specification, §4.1).
fn is_bgzf(head: &[u8]) -> bool {
    head.len() >= 14 && head[..4] == [0x1f, 0x8b, 8, 4] && head[12..14] == *b"BC"
}

/// The file as the parallel decoder reads it, positionally: for progress,
/// the furthest byte read so far (speculative reads ahead count once).
struct Counted {
    file: File,
    furthest: Arc<AtomicU64>,
}

impl rapidgzip_core::ReadAt for Counted {
    fn len(&self) -> io::Result<u64> {
        rapidgzip_core::ReadAt::len(&self.file)
    }

    fn read_at(&self, offset: u64, buffer: &mut [u8]) -> io::Result<usize> {
        let n = rapidgzip_core::ReadAt::read_at(&self.file, offset, buffer)?;
        self.furthest
            .fetch_max(offset.saturating_add(n as u64), Ordering::Relaxed);
        Ok(n)
    }
}

/// Content held back from the parallel decoder: where a file is damaged,
/// the sequential decoder stops up to one read (`DECODE_STEP`) before the
/// damage, the parallel one at it; holding back more than that keeps
/// what was handed on within what the sequential decoder gives (nothing
/// decoded just before the damage is handed on that it would not give),
/// so that it can take over at that byte. (How much less depends on
/// where the sequential decoder's reads begin: up to this and a read.)
const HELD_BACK: usize = 2 * DECODE_STEP;

/// A parallel decoder's content, in pieces, in order.
pub(super) trait Pieces: Send {
    /// The next piece (never empty), `None` at the end.
    fn piece(&mut self) -> io::Result<Option<Vec<u8>>>;

    /// A piece handed on whole, whose allocation may be used again.
    fn recycle(&mut self, _piece: Vec<u8>) {}
}

/// A decoder that reads, cut into pieces of [`HELD_BACK`].
struct ReadPieces<R>(R);

impl<R: Read + Send> Pieces for ReadPieces<R> {
    fn piece(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut piece = vec![0; HELD_BACK];
        let n = loop {
            match self.0.read(&mut piece) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => break r?,
            }
        };
        piece.truncate(n);
        Ok((n > 0).then_some(piece))
    }
}

/// The parallel decoder's output until its first error, then the
/// sequential decoder's from the same content offset.
struct Parallel {
    inner: Option<Box<dyn Pieces>>,
    path: PathBuf,
    /// Content bytes handed on so far.
    delivered: u64,
    /// Decoded and not yet handed on: the pieces, the first from `from`,
    /// `held_len` bytes in all.
    held: VecDeque<Vec<u8>>,
    from: usize,
    held_len: usize,
    /// The parallel decoder reached the end of the file, every check
    /// passed: what is held is handed on whole.
    done: bool,
    sequential: Option<Box<dyn Read + Send>>,
    raw_read: Arc<AtomicU64>,
}

impl Parallel {
    fn new(inner: Box<dyn Pieces>, path: &Path, raw_read: &Arc<AtomicU64>) -> Parallel {
        Parallel {
            inner: Some(inner),
            path: path.to_path_buf(),
            delivered: 0,
            held: VecDeque::new(),
            from: 0,
            held_len: 0,
            done: false,
            sequential: None,
            raw_read: raw_read.clone(),
        }
    }

    /// The sequential decoder over the file, past what was handed on.
    fn take_over(&mut self) -> io::Result<Box<dyn Read + Send>> {
        // Progress counts again from the start, as the file is read again.
        self.raw_read.store(0, Ordering::Relaxed);
        let file = File::open(&self.path)?;
        // The same decoder as the one-core path, so the two cannot drift apart.
        let buffered = counted(Box::new(file), self.raw_read.clone());
        let mut sequential = decoder(buffered, Compression::Gzip, 0)?;
        // The sequential decoder's own error, if it meets damage before.
        let skipped = io::copy(&mut (&mut sequential).take(self.delivered), &mut io::sink())?;
        if skipped < self.delivered {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the file changed while it was read: {} bytes of content decoded, then {skipped}",
                    self.delivered
                ),
            ));
        }
        Ok(sequential)
    }
}

impl Read for Parallel {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(s) = &mut self.sequential {
                return s.read(buf);
            }
            let ready = self
                .held_len
                .saturating_sub(if self.done { 0 } else { HELD_BACK });
            if ready > 0 || self.done {
                let Some(front) = self.held.front() else {
                    return Ok(0);
                };
                let n = ready.min(buf.len()).min(front.len() - self.from);
                buf[..n].copy_from_slice(&front[self.from..self.from + n]);
                self.from += n;
                self.held_len -= n;
                self.delivered += n as u64;
                if self.from == front.len() {
                    self.from = 0;
                    if let (Some(piece), Some(inner)) = (self.held.pop_front(), &mut self.inner) {
                        inner.recycle(piece);
                    }
                }
                return Ok(n);
            }
            let Some(mut inner) = self.inner.take() else {
                return Ok(0);
            };
            match inner.piece() {
                Ok(Some(piece)) => {
                    self.held_len += piece.len();
                    self.held.push_back(piece);
                    self.inner = Some(inner);
                }
                Ok(None) => self.done = true,
                Err(_) => {
                    // Damaged or truncated: the sequential decoder says
                    // where, and keeps every byte before it.
                    drop(inner);
                    self.held = VecDeque::new();
                    self.from = 0;
                    self.held_len = 0;
                    self.sequential = Some(self.take_over()?);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Lines that compress about as well as an access log's, `n` of them.
    fn content(n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            writeln!(
                out,
                "10.{}.{}.{} - - [02/Feb/2023:07:{:02}:{:02} +0000] \"GET /item/{} HTTP/1.1\" {} {}",
                x % 256,
                (x >> 8) % 256,
                (x >> 16) % 256,
                i / 60 % 60,
                i % 60,
                x % 40_000,
                if x.is_multiple_of(97) { 502 } else { 200 },
                x % 9_000
            )
            .unwrap();
        }
        out
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(data).unwrap();
        z.finish().unwrap()
    }

    /// What the one-core path's decoder gives for `file`: its bytes, and
    /// the kind of error it ended with, if any.
    fn sequential(file: &[u8]) -> (Vec<u8>, Option<io::ErrorKind>) {
        let raw = Box::new(io::Cursor::new(file.to_vec()));
        let buffered = counted(raw, Arc::new(AtomicU64::new(0)));
        read_all(decoder(buffered, Compression::Gzip, 0).unwrap())
    }

    fn read_all(mut r: impl Read) -> (Vec<u8>, Option<io::ErrorKind>) {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 64 << 10];
        loop {
            match r.read(&mut buf) {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, Some(e.kind())),
            }
        }
    }

    /// What the reader of a run on `threads` cores gives for `file`, and
    /// how far progress went.
    fn parallel(file: &[u8], threads: usize) -> (Vec<u8>, Option<io::ErrorKind>, u64) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log.gz");
        std::fs::write(&path, file).unwrap();
        let gz = ParallelGzip {
            min: 0,
            ..ParallelGzip::new(threads).unwrap()
        };
        let raw = Arc::new(AtomicU64::new(0));
        let reader = gz.open(&path, file.len() as u64, file, &raw).unwrap();
        let (out, err) = read_all(reader);
        (out, err, raw.load(Ordering::Relaxed))
    }

    #[test]
    fn a_large_member_decodes_as_the_sequential_decoder_does() {
        // About 4 MiB compressed: several of the decoder's 1 MiB chunks.
        let text = content(150_000);
        let mut file = gzip(&text);
        assert!(file.len() > 3 << 20, "{}", file.len());
        let (out, err, raw) = parallel(&file, 2);
        assert_eq!(err, None);
        assert!(out == text, "{} bytes of {}", out.len(), text.len());
        assert_eq!(raw, file.len() as u64);
        // Members back to back (`cat a.gz b.gz`), as one stream.
        file.extend(gzip(b"one more line\n"));
        let (out, err, _) = parallel(&file, 2);
        assert_eq!(err, None);
        assert_eq!(out.len(), text.len() + 14);
    }

    #[test]
    fn damage_ends_where_the_sequential_decoder_ends() {
        let file = gzip(&content(150_000));
        let mut damaged = Vec::new();
        // Truncated mid-stream, a byte flipped in the middle, and junk
        // or zeros after the last member.
        damaged.push(file[..file.len() * 2 / 3].to_vec());
        let mut flipped = file.clone();
        let mid = flipped.len() / 2;
        for b in &mut flipped[mid..mid + 64] {
            *b ^= 0x5a;
        }
        damaged.push(flipped);
        let mut junk = file.clone();
        junk.extend_from_slice(b"not gzip at all");
        damaged.push(junk);
        let mut zeros = file.clone();
        zeros.extend_from_slice(&[0u8; 512]);
        damaged.push(zeros);
        for (i, d) in damaged.iter().enumerate() {
            let got = ends_as_sequential(&format!("case {i}"), d, 2);
            assert!(got > 1 << 20 || i > 1, "case {i}: {got}");
        }
    }

    /// Checks that the reader of a run on `threads` cores ends `file` with
    /// the sequential decoder's error and what it gives, up to a little
    /// less before damage: the sequential decoder loses the part of its
    /// last read before the damage, and where that read began depends on
    /// how it was called. Returns how many bytes the reader gave.
    fn ends_as_sequential(name: &str, file: &[u8], threads: usize) -> usize {
        let (want, want_err) = sequential(file);
        let (got, got_err, _) = parallel(file, threads);
        assert_eq!(got_err, want_err, "{name}");
        assert!(
            want.starts_with(&got) && want.len() - got.len() <= HELD_BACK + DECODE_STEP,
            "{name}: {} bytes, the sequential decoder {}",
            got.len(),
            want.len()
        );
        got.len()
    }

    #[test]
    fn a_bgzf_file_decodes_as_the_sequential_decoder_does_damaged_or_not() {
        let text = content(100_000);
        let file = super::super::bgzf::tests::bgzf(&text, 65_280);
        assert!(is_bgzf(&file));
        for threads in [1, 2] {
            let (out, err, raw) = parallel(&file, threads);
            assert_eq!(err, None);
            assert!(out == text, "{} bytes of {}", out.len(), text.len());
            assert_eq!(raw, file.len() as u64);
        }
        let mut flipped = file.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x21;
        let mut plain = file.clone();
        plain.extend(gzip(b"a plain member after\n"));
        let mut junk = file.clone();
        junk.extend_from_slice(b"junk");
        for (name, d) in [("flipped", flipped), ("plain", plain), ("junk", junk)] {
            for threads in [1, 2] {
                ends_as_sequential(name, &d, threads);
            }
        }
    }

    #[test]
    fn one_member_on_one_core_or_a_small_file_is_left_to_the_sequential_decoder() {
        let raw = Arc::new(AtomicU64::new(0));
        let one = ParallelGzip {
            min: 0,
            ..ParallelGzip::new(1).unwrap()
        };
        let file = gzip(&content(1_000));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log.gz");
        std::fs::write(&path, &file).unwrap();
        assert!(one.open(&path, file.len() as u64, &file, &raw).is_none());
        let gz = ParallelGzip::new(2).unwrap();
        assert!(gz
            .open(Path::new("/nonexistent"), PARALLEL_MIN - 1, &[], &raw)
            .is_none());
    }
}
