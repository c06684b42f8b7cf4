//! Inputs: command-line paths expanded into files (directories walked
//! recursively, `-` for standard input, `LABEL=PATH` to name the host), each
//! opened as a byte stream with compression sniffed from its magic bytes.
//!
//! Nothing here holds a file in memory: `open` returns a reader that the
//! `chunk` stage cuts into blocks.

mod bgzf;
mod gzip;
pub use bgzf::inflate_members;
pub use gzip::ParallelGzip;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use walkdir::WalkDir;

use crate::mapped;

/// A path as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
#[warn(missing_docs)]
pub struct InputSpec {
    /// `None` for standard input (`-`).
    pub path: Option<PathBuf>,
    /// The host named with `LABEL=PATH`.
    pub label: Option<String>,
}

#[warn(missing_docs)]
impl InputSpec {
    /// The object storage URL this names, if it names one.
    pub fn url(&self) -> Option<&str> {
        self.path
            .as_ref()?
            .to_str()
            .filter(|p| crate::remote::is_url(p))
    }

    /// Reads `PATH`, `-`, or `LABEL=PATH`. An argument that exists as a path
    /// is a path even when it holds `=`.
    pub fn parse(arg: &str) -> InputSpec {
        if arg == "-" {
            return InputSpec {
                path: None,
                label: None,
            };
        }
        if let Some((label, path)) = arg.split_once('=') {
            let plausible = !label.is_empty() && !label.contains('/') && !path.is_empty();
            if plausible && !Path::new(arg).exists() {
                return InputSpec {
                    path: (path != "-").then(|| PathBuf::from(path)),
                    label: Some(label.to_string()),
                };
            }
        }
        InputSpec {
            path: Some(PathBuf::from(arg)),
            label: None,
        }
    }
}

/// How an input's host was chosen; the report says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum HostFrom {
    Label,
    Path,
    Machine,
}

/// One file (or standard input) to analyse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// `None` for standard input.
    pub path: Option<PathBuf>,
    /// The path as shown in reports.
    pub display: String,
    /// The host its requests belong to (lines that name their own host, like
    /// syslog, use that instead).
    pub host: String,
    pub host_from: HostFrom,
    /// Where an incremental run (`--state`) takes the input up again.
    pub resume: Option<Resume>,
    /// What reading decided about it (other paths that were the same
    /// file, copies of it not read), for the report.
    pub notes: Vec<String>,
    /// An object in object storage (`path` then holds its URL, for the
    /// name-based choices a path gets).
    pub object: Option<Arc<crate::remote::Object>>,
}

/// The part of an input an incremental run reads: the content bytes
/// `skip..end` (after decompression), numbered from line `first_line + 1`,
/// in the format an earlier run detected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resume {
    pub skip: u64,
    /// `None`: to the end.
    pub end: Option<u64>,
    pub first_line: u64,
    pub format: Option<crate::format::Format>,
}

/// An input that could not be read at all.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InputError {
    pub path: String,
    pub message: String,
}

/// This machine's host name, for logs whose path names no host.
pub fn machine_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

fn make_input(path: Option<PathBuf>, label: &Option<String>) -> Input {
    let display = path
        .as_ref()
        .map_or_else(|| "<stdin>".to_string(), |p| p.display().to_string());
    let (host, host_from) = match (label, &path) {
        (Some(l), _) => (l.clone(), HostFrom::Label),
        (None, Some(p)) => match crate::hosts::host_from_path(p) {
            Some(h) => (h, HostFrom::Path),
            None => (machine_host(), HostFrom::Machine),
        },
        (None, None) => (machine_host(), HostFrom::Machine),
    };
    Input {
        path,
        display,
        host,
        host_from,
        resume: None,
        notes: Vec::new(),
        object: None,
    }
}

/// An input of an object the listing of `url` found; named as a file at
/// `bucket/key` would be.
fn object_input(object: crate::remote::Object, label: &Option<String>) -> Input {
    let (host, host_from) = match label {
        Some(l) => (l.clone(), HostFrom::Label),
        None => match crate::hosts::host_from_path(Path::new(&object.path)) {
            Some(h) => (h, HostFrom::Path),
            None => (
                object
                    .path
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                HostFrom::Path,
            ),
        },
    };
    Input {
        path: Some(PathBuf::from(&object.url)),
        display: object.url.clone(),
        host,
        host_from,
        resume: None,
        notes: Vec::new(),
        object: Some(Arc::new(object)),
    }
}

/// Orders rotated files oldest first: `access.log.2.gz`, `access.log.1`,
/// `access.log`; other names by path.
fn rotation_key(p: &Path) -> (PathBuf, String, std::cmp::Reverse<u64>) {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bare = [".gz", ".zst", ".bz2", ".xz"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(&name);
    let (base, n) = match bare.rsplit_once('.') {
        Some((base, n))
            if !n.is_empty() && n.len() <= 4 && n.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (base.to_string(), n.parse().unwrap_or(0))
        }
        _ => (bare.to_string(), 0),
    };
    (
        p.parent().map(Path::to_path_buf).unwrap_or_default(),
        base,
        std::cmp::Reverse(n),
    )
}

/// Expands the command-line paths into inputs: a directory gives every file
/// below it (hidden files and directories skipped), rotated files oldest
/// first; an object storage URL, its objects, leaving out those whose
/// keys' dates lie outside `span` (`--since`, `--until`).
pub fn expand(
    specs: &[InputSpec],
    span: (Option<i64>, Option<i64>),
) -> (Vec<Input>, Vec<InputError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for spec in specs {
        let Some(path) = &spec.path else {
            inputs.push(make_input(None, &spec.label));
            continue;
        };
        if let Some(url) = spec.url() {
            match crate::remote::list_with(url, &[], span) {
                Ok(listing) => {
                    let before = inputs.len();
                    let objects = listing.objects.into_iter();
                    inputs.extend(objects.map(|o| object_input(o, &spec.label)));
                    inputs[before..].sort_by_cached_key(|i| i.path.as_deref().map(rotation_key));
                    inputs[before].notes.extend(listing.pruned);
                }
                Err(message) => errors.push(InputError {
                    path: url.to_string(),
                    message,
                }),
            }
            continue;
        }
        match std::fs::metadata(path) {
            Err(e) => errors.push(InputError {
                path: path.display().to_string(),
                message: describe_io(&e),
            }),
            Ok(m) if m.is_dir() => {
                let before = inputs.len();
                let walker = WalkDir::new(path)
                    .follow_links(true)
                    .sort_by_file_name()
                    .into_iter()
                    .filter_entry(|e| {
                        e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')
                    });
                for entry in walker {
                    match entry {
                        Ok(e) if e.file_type().is_file() => {
                            inputs.push(make_input(Some(e.into_path()), &spec.label))
                        }
                        Ok(_) => {}
                        Err(e) => errors.push(InputError {
                            path: e.path().map_or_else(
                                || path.display().to_string(),
                                |p| p.display().to_string(),
                            ),
                            message: e.io_error().map_or_else(|| e.to_string(), describe_io),
                        }),
                    }
                }
                inputs[before..].sort_by_cached_key(|i| i.path.as_deref().map(rotation_key));
                if inputs.len() == before {
                    errors.push(InputError {
                        path: path.display().to_string(),
                        message: "directory holds no files".to_string(),
                    });
                }
            }
            Ok(_) => inputs.push(make_input(Some(path.clone()), &spec.label)),
        }
    }
    (inputs, errors)
}

/// An I/O error in words a user can act on.
pub fn describe_io(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => {
            "permission denied (run as a user who can read it, e.g. in group adm)".to_string()
        }
        _ => e.to_string(),
    }
}

/// How an input is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    Bzip2,
    Xz,
}

impl Compression {
    /// Every compression read, after [`Compression::None`].
    pub const ALL: [Compression; 4] = [
        Compression::Gzip,
        Compression::Zstd,
        Compression::Bzip2,
        Compression::Xz,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
        }
    }
}

/// Counts the bytes read from the underlying file (compressed bytes for an
/// archive), for progress and for saying where damage was found.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// When a plain file is memory-mapped instead of read.
///
/// Mapping saves the copy from the page cache (measured 10–25 % of the run
/// on an uncompressed log) but a mapped file that another process truncates
/// under us (logrotate's `copytruncate`) raises SIGBUS at the next access
/// past its new end (the binary then names the file and exits, see
/// `mapped`). So `Auto`, the command line's default, maps only
/// files that look settled: plain, at least 1 MiB, and not modified for a
/// minute, which a log still being written is not. Incremental runs never
/// map.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[warn(missing_docs)]
pub enum MapPolicy {
    /// Map plain files that are large and not being written to.
    Auto,
    /// Map every plain file.
    Always,
    /// The library's default: a caller that maps must be ready for SIGBUS.
    #[default]
    Never,
}

/// Files below this size are read, not mapped.
const MAP_MIN_BYTES: u64 = 1 << 20;
/// A file modified this recently may still be written (and truncated).
const MAP_SETTLED_SECS: u64 = 60;

/// How an input's bytes are reached.
pub enum Body {
    /// Read (and decompressed) as a stream.
    Stream(Box<dyn Read + Send>),
    /// A plain file, mapped whole; blocks are ranges of it. The
    /// registration (for the SIGBUS handler) must be kept until the last
    /// block is dropped.
    Mapped(Arc<memmap2::Mmap>, mapped::Registration),
}

/// An opened input.
pub struct Opened {
    pub body: Body,
    pub compression: Compression,
    /// Modification time (now, for standard input): the reference for
    /// placing year-less lines in a year.
    pub modified: SystemTime,
    /// Bytes on disk (compressed), when known.
    pub size: Option<u64>,
    /// Bytes read from disk so far.
    pub raw_read: Arc<AtomicU64>,
    /// Content bytes (decompressed) handed on, counted from the resume
    /// point: where the next incremental run starts is `skip` plus this.
    pub content_read: Arc<AtomicU64>,
}

const READ_BUFFER: usize = 1 << 20;

/// Content bytes a decompressor is asked for at a time. A decoder that
/// meets damage returns an error for the whole call, dropping what it had
/// decoded into the caller's buffer during it: asked for little at a time,
/// it loses at most this much of what decoded before the damage — as much
/// as the margin dropped before damage anyway (`chunk`). Smaller steps
/// slowed gzip by 15 % on the 1 GiB benchmark.
const DECODE_STEP: usize = 256 << 10;

/// What a decoder may use by default, shared by the run's concurrent
/// decoders (`--decoder-memory`).
pub const DECODER_MEMORY: u64 = 192 << 20;

/// The largest zstd window (as a power of two) within `memory`: 10 to 31.
fn window_log(memory: u64) -> u32 {
    (63 - memory.max(1).leading_zeros()).clamp(10, 31)
}

/// A decoder whose running out of its memory allowance is said in the
/// user's words.
/// (decoder, its allowance, how to decompress the file by hand)
struct Limited<R>(R, u64, &'static str);

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            let text = e.to_string();
            if text.contains("memory limit reached") || text.contains("too much memory") {
                io::Error::other(format!(
                    "decompressing it needs more than the {} MiB a decoder may use (--decoder-memory, shared by the -j decoders): give a larger --decoder-memory or fewer -j, or decompress it first: {} FILE",
                    self.1 >> 20,
                    self.2
                ))
            } else {
                e
            }
        })
    }
}

/// A decompressor asked for at most [`DECODE_STEP`] bytes per read.
struct Capped<R>(R);

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(DECODE_STEP);
        self.0.read(&mut buf[..n])
    }
}

fn sniff(magic: &[u8]) -> Compression {
    if magic.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else if magic.starts_with(b"BZh") && magic.len() > 3 && magic[3].is_ascii_digit() {
        Compression::Bzip2
    } else if magic.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Compression::Xz
    } else {
        Compression::None
    }
}

/// Maps `f` when the policy allows it and the file is a plain log.
fn try_map(f: &File, m: &std::fs::Metadata, policy: MapPolicy) -> Option<Arc<memmap2::Mmap>> {
    let settled = || {
        m.modified()
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age.as_secs() >= MAP_SETTLED_SECS)
    };
    let wanted = match policy {
        MapPolicy::Never => false,
        MapPolicy::Always => m.is_file() && m.len() > 0,
        MapPolicy::Auto => m.is_file() && m.len() >= MAP_MIN_BYTES && settled(),
    };
    if !wanted {
        return None;
    }
    // SAFETY: the mapping is read-only and only read through slices while
    // the file is not expected to change (see `MapPolicy`); a concurrent
    // truncation is the documented risk of mapping, which `Auto` avoids for
    // files still being written.
    let map = unsafe { memmap2::Mmap::map(f) }.ok()?;
    if sniff(&map[..map.len().min(8)]) != Compression::None {
        return None;
    }
    #[cfg(unix)]
    let _ = map.advise(memmap2::Advice::Sequential);
    Some(Arc::new(map))
}

/// Reads until `buf` is full or the end; returns how much was read.
pub fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// `raw` buffered for reading, each byte read from it counted in `count`.
fn counted(
    raw: Box<dyn Read + Send>,
    count: Arc<AtomicU64>,
) -> BufReader<Counting<Box<dyn Read + Send>>> {
    BufReader::with_capacity(READ_BUFFER, Counting { inner: raw, count })
}

/// The decompressor of `compression` over `buffered`.
fn decoder(
    buffered: BufReader<Counting<Box<dyn Read + Send>>>,
    compression: Compression,
    memory: u64,
) -> io::Result<Box<dyn Read + Send>> {
    Ok(match compression {
        Compression::None => Box::new(buffered),
        // Rotated logs and some shippers concatenate gzip members: read all.
        Compression::Gzip => Box::new(Capped(flate2::bufread::MultiGzDecoder::new(buffered))),
        Compression::Zstd => {
            let mut z = zstd::stream::read::Decoder::with_buffer(buffered)?;
            z.window_log_max(window_log(memory))?;
            Box::new(Limited(Capped(z), memory, "zstd -d --long=31"))
        }
        // Like gzip, bzip2 and xz files may hold several streams back to back.
        Compression::Bzip2 => Box::new(Capped(bzip2::bufread::MultiBzDecoder::new(buffered))),
        Compression::Xz => {
            let stream = liblzma::stream::Stream::new_stream_decoder(
                memory.max(1 << 20),
                liblzma::stream::CONCATENATED,
            )
            .map_err(io::Error::other)?;
            Box::new(Limited(
                Capped(liblzma::bufread::XzDecoder::new_stream(buffered, stream)),
                memory,
                "xz -d",
            ))
        }
    })
}

/// Opens an input and sniffs its compression from the first bytes.
///
/// A decoder may use `memory` bytes (xz's memory limit; zstd's window, the
/// largest power of two within it): an archive that needs more is refused
/// with a message that says how to allow it.
pub fn open(input: &Input, policy: MapPolicy, memory: u64) -> io::Result<Opened> {
    open_with(input, policy, memory, None)
}

/// [`open`], with large local gzip files decoded on `gzip`'s cores.
pub fn open_with(
    input: &Input,
    policy: MapPolicy,
    memory: u64,
    gzip: Option<&ParallelGzip>,
) -> io::Result<Opened> {
    let raw_read = Arc::new(AtomicU64::new(0));
    let mut seeked = false;
    let (raw, modified, size): (Box<dyn Read + Send>, SystemTime, Option<u64>) =
        match (&input.object, &input.path) {
            (Some(object), _) => (
                crate::remote::reader(object)?,
                object.modified,
                Some(object.size),
            ),
            (None, None) => (Box::new(io::stdin()), SystemTime::now(), None),
            (None, Some(p)) => {
                let f = File::open(p)?;
                let m = f.metadata()?;
                if m.is_dir() {
                    return Err(io::Error::other("is a directory"));
                }
                let modified = m.modified().unwrap_or_else(|_| SystemTime::now());
                let policy = if input.resume.is_some() {
                    MapPolicy::Never
                } else {
                    policy
                };
                if let Some(map) = try_map(&f, &m, policy) {
                    let shown = crate::escape::terminal(&input.display);
                    let registration = mapped::register(&map, &shown);
                    return Ok(Opened {
                        body: Body::Mapped(map, registration),
                        compression: Compression::None,
                        modified,
                        size: Some(m.len()),
                        content_read: raw_read.clone(),
                        raw_read,
                    });
                }
                let mut f = f;
                if let (Some(gz), None) = (gzip, &input.resume) {
                    if let Some(opened) = gz.try_open(&mut f, p, &m, modified, &raw_read)? {
                        return Ok(opened);
                    }
                }
                if let Some(r) = &input.resume {
                    // A plain file is taken up again by seeking past what was
                    // read; a compressed one is decompressed from its start.
                    let mut magic = [0u8; 8];
                    let n = read_up_to(&mut f, &mut magic)?;
                    seeked = sniff(&magic[..n]) == Compression::None;
                    f.seek(io::SeekFrom::Start(if seeked { r.skip } else { 0 }))?;
                }
                (Box::new(f), modified, Some(m.len()))
            }
        };
    let mut buffered = counted(raw, raw_read.clone());
    let compression = if seeked {
        Compression::None
    } else {
        sniff(buffered.fill_buf()?)
    };
    let resume = input.resume.as_ref();
    let reader = decoder(buffered, compression, memory)?;
    let mut reader = reader;
    if let Some(r) = resume {
        if !seeked {
            // Compressed: decompress and drop what was read before.
            io::copy(&mut (&mut reader).take(r.skip), &mut io::sink())?;
        }
        if let Some(end) = r.end {
            reader = Box::new(reader.take(end.saturating_sub(r.skip)));
        }
    }
    let content_read = Arc::new(AtomicU64::new(0));
    let reader = Box::new(Counting {
        inner: reader,
        count: content_read.clone(),
    });
    Ok(Opened {
        body: Body::Stream(reader),
        compression,
        modified,
        size,
        raw_read,
        content_read,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_forms() {
        assert_eq!(InputSpec::parse("-").path, None);
        let s = InputSpec::parse("web-02=/nonexistent/access.log");
        assert_eq!(s.label.as_deref(), Some("web-02"));
        assert_eq!(s.path, Some(PathBuf::from("/nonexistent/access.log")));
        let s = InputSpec::parse("/a=b/access.log");
        assert_eq!(s.label, None);
    }

    #[test]
    fn rotated_files_oldest_first() {
        let mut v: Vec<PathBuf> = [
            "a/access.log",
            "a/access.log.1",
            "a/access.log.10.gz",
            "a/access.log.2.gz",
            "a/error.log",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        v.sort_by_cached_key(|p| rotation_key(p));
        let names: Vec<&str> = v.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "a/access.log.10.gz",
                "a/access.log.2.gz",
                "a/access.log.1",
                "a/access.log",
                "a/error.log"
            ]
        );
    }
}
