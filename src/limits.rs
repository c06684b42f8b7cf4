//! Reading logburst's own files (summaries, cron states, nginx.conf)
//! within limits: only a regular file, and no more than a size once
//! decompressed, so that a device, a FIFO or a decompression bomb given
//! where such a file is expected is refused before it fills memory. A
//! leaf: it knows files, not what is in them.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// How much of a summary or state logburst reads by default, once
/// decompressed (`--max-summary-size`): a 14 MB gzip that inflates to
/// 3 GB is refused at this, not read whole.
pub const READ_LIMIT: u64 = 128 << 20;

/// Why a file of ours could not be read.
#[derive(Debug)]
pub enum ReadError {
    Io(io::Error),
    /// Not a regular file, or larger than the limit: in the user's words.
    Refused(String),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> ReadError {
        ReadError::Io(e)
    }
}

/// What a path that is not a regular file is.
pub fn kind_of(m: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = m.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if m.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Reads a whole file of ours (`what`: summary, state file, nginx.conf),
/// decompressing gzip or zstd (sniffed from the bytes), refusing anything
/// but a regular file and more than `limit` bytes once decompressed —
/// without reading past the limit. `flag` names the option that raises it.
pub fn read_limited(
    path: &Path,
    what: &str,
    limit: u64,
    flag: Option<&str>,
) -> std::result::Result<Vec<u8>, ReadError> {
    let m = std::fs::metadata(path)?;
    if !m.is_file() {
        return Err(ReadError::Refused(format!(
            "{} is {}, not a {what}: a {what} is a regular file",
            path.display(),
            kind_of(&m)
        )));
    }
    let r = io::BufReader::new(File::open(path)?);
    let name = path.display().to_string();
    limited(r, &name, what, limit, flag, Some(m.len()))
}

/// [`read_limited`] of standard input (a pipe: `logburst merge -`).
pub fn read_limited_stdin(
    what: &str,
    limit: u64,
    flag: Option<&str>,
) -> std::result::Result<Vec<u8>, ReadError> {
    limited(
        io::stdin().lock(),
        "standard input",
        what,
        limit,
        flag,
        None,
    )
}

/// [`read_limited`] of an open reader named `name`, `len` bytes long on
/// disk when known.
fn limited(
    mut r: impl io::BufRead,
    name: &str,
    what: &str,
    limit: u64,
    flag: Option<&str>,
    len: Option<u64>,
) -> std::result::Result<Vec<u8>, ReadError> {
    let head = r.fill_buf()?;
    let mut out = Vec::new();
    let cap = limit.saturating_add(1);
    if head.starts_with(&[0x1f, 0x8b]) {
        flate2::bufread::MultiGzDecoder::new(r)
            .take(cap)
            .read_to_end(&mut out)?;
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        zstd::stream::read::Decoder::with_buffer(r)?
            .take(cap)
            .read_to_end(&mut out)?;
    } else {
        r.take(cap).read_to_end(&mut out)?;
    }
    if out.len() as u64 > limit {
        let advice = flag.map_or(String::new(), |f| {
            format!("; if it is one, give {f} with a larger size")
        });
        return Err(ReadError::Refused(format!(
            "{name}: more than {} MiB{}: larger than a {what} logburst reads{advice}",
            limit >> 20,
            if len.is_some_and(|l| l < limit) {
                " once decompressed"
            } else {
                ""
            }
        )));
    }
    Ok(out)
}

/// `64M`, `1G`, `4096`: a size in bytes (K, M, G are powers of 1024).
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (&t[..i], 1u64 << 10),
        Some((i, 'M' | 'm')) => (&t[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&t[..i], 1 << 30),
        _ => (t, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("'{s}' is not a size (4096, 64M, 1G)"))
}
