//! Cuts a byte stream into blocks of a few MiB that end on a newline, so that
//! blocks can be parsed independently on the rayon pool.
//!
//! The reader is an iterator; the `pipeline` stage pulls blocks from it on
//! whichever worker is free (rayon's `par_bridge`), so one worker reads or
//! decompresses the next block while the others parse the ones already cut.
//! Memory per input is bounded by the block size times the number of workers.

use std::io::{self, Read};

/// Default block size.
pub const DEFAULT_BLOCK_SIZE: usize = 4 << 20;

/// One newline-aligned block of an input.
#[derive(Debug, Default)]
pub struct Block {
    /// Position of the block in its input (0, 1, 2…).
    pub index: u32,
    /// Whole lines; the last one may lack its newline at the end of input.
    pub data: Vec<u8>,
    /// This block stands for a single line longer than the block size, which
    /// was skipped (counted as one malformed line) rather than buffered.
    pub overlong_line: bool,
    /// Reading stopped here because of an error (a truncated or corrupt
    /// archive): what happened, for the report.
    pub error: Option<String>,
}

/// Reads blocks from a byte stream.
pub struct BlockReader<R> {
    reader: R,
    block_size: usize,
    carry: Vec<u8>,
    next_index: u32,
    done: bool,
    /// Decompressed bytes read so far.
    pub offset: u64,
}

impl<R: Read> BlockReader<R> {
    pub fn new(reader: R, block_size: usize) -> Self {
        BlockReader {
            reader,
            block_size: block_size.max(16),
            carry: Vec::new(),
            next_index: 0,
            done: false,
            offset: 0,
        }
    }

    /// Fills `buf` up to the block size. Returns `Err` with a description when
    /// the stream failed; `Ok(true)` at the end of the stream.
    fn fill(&mut self, buf: &mut Vec<u8>) -> Result<bool, String> {
        let mut filled = buf.len();
        buf.resize(self.block_size, 0);
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
                    break Err(format!(
                        "read failed after {} bytes of content: {}",
                        self.offset,
                        describe(&e)
                    ))
                }
            }
        };
        buf.truncate(filled);
        result
    }

    /// Discards bytes up to and including the next newline; what follows it
    /// is kept in `carry`.
    fn skip_rest_of_line(&mut self) -> Result<bool, String> {
        let mut buf = Vec::with_capacity(self.block_size);
        loop {
            buf.clear();
            let eof = self.fill(&mut buf)?;
            if let Some(p) = memchr::memchr(b'\n', &buf) {
                self.carry = buf[p + 1..].to_vec();
                return Ok(eof && self.carry.is_empty());
            }
            if eof {
                return Ok(true);
            }
        }
    }

    fn block(&mut self, data: Vec<u8>) -> Block {
        let index = self.next_index;
        self.next_index += 1;
        Block {
            index,
            data,
            ..Block::default()
        }
    }
}

fn describe(e: &io::Error) -> String {
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
        let mut buf = std::mem::take(&mut self.carry);
        buf.reserve(self.block_size.saturating_sub(buf.len()));
        match self.fill(&mut buf) {
            Err(message) => {
                self.done = true;
                let mut b = self.block(buf);
                b.error = Some(message);
                Some(b)
            }
            Ok(true) => {
                self.done = true;
                (!buf.is_empty()).then(|| self.block(buf))
            }
            Ok(false) => match memchr::memrchr(b'\n', &buf) {
                Some(p) => {
                    self.carry = buf[p + 1..].to_vec();
                    buf.truncate(p + 1);
                    Some(self.block(buf))
                }
                None => {
                    // One line fills the whole block: skip it, count it.
                    let mut b = self.block(Vec::new());
                    b.overlong_line = true;
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
            let joined: Vec<u8> = bs.iter().flat_map(|b| b.data.clone()).collect();
            assert_eq!(joined, data.to_vec(), "size {size}");
            for b in &bs[..bs.len() - 1] {
                assert_eq!(b.data.last(), Some(&b'\n'));
            }
            let n: usize = bs.iter().map(|b| lines(&b.data).count()).sum();
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
        let kept: Vec<&[u8]> = bs.iter().flat_map(|b| lines(&b.data)).collect();
        assert_eq!(kept, vec![&b"short"[..], &b"after"[..]]);
        assert!(bs.iter().all(|b| b.data.len() <= 16));
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
        assert_eq!(bs[0].data, b"ab\nab\nab\nab\n");
        assert!(bs[0].error.as_deref().unwrap().contains("truncated"));
    }
}
