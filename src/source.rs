//! Inputs: command-line paths expanded into files (directories walked
//! recursively, `-` for standard input, `LABEL=PATH` to name the host), each
//! opened as a byte stream with compression sniffed from its magic bytes.
//!
//! Nothing here holds a file in memory: `open` returns a reader that the
//! `chunk` stage cuts into blocks.

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

/// Directory names that say what a log is, not whose it is: skipped when a
/// host is taken from the path.
const GENERIC_DIRS: &[&str] = &[
    "log",
    "logs",
    "containers",
    "pods",
    "var",
    "nginx",
    "apache",
    "apache2",
    "httpd",
    "journal",
    "archive",
    "archives",
    "tmp",
    "old",
    "rotated",
    "backup",
    "backups",
    "srv",
    "data",
    "home",
    "root",
    "mnt",
    "media",
    "opt",
    "audit",
    "syslog",
    "kern",
    "kernel",
    "app",
    "application",
    "current",
    "fixtures",
    "access",
    "error",
    "errors",
];

fn looks_like_date(name: &str) -> bool {
    let digits = name.chars().filter(char::is_ascii_digit).count();
    digits >= 6
        && name
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == '_' || c == '.')
        && !name.contains("..")
        && name.matches('.').count() != 3
}

/// The host a file belongs to, from its path as given: the nearest
/// enclosing directory whose name is not a generic log-directory name
/// (`log`, `nginx`, `archive`…) nor a date.
/// `archive/web-01/nginx/access.log.2.gz` → `web-01`. Only the directories
/// the user wrote count: `access.log`, run from a clone or a home
/// directory, is not named after that directory. A name that is not UTF-8
/// is kept, its bytes escaped (two such hosts stay two).
pub fn host_from_path(path: &Path) -> Option<String> {
    if let Some(pod) = kubernetes_container(path)
        .or_else(|| docker_container(path))
        .or_else(|| cloud_object(path))
    {
        return Some(pod);
    }
    path.parent()?
        .components()
        .rev()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(os_name(s)),
            _ => None,
        })
        .find(|name| {
            let lower = name.to_ascii_lowercase();
            !name.starts_with('.')
                && !GENERIC_DIRS.contains(&lower.as_str())
                && !looks_like_date(name)
        })
}

/// `namespace/pod/container` of a Kubernetes container log, by the paths
/// the kubelet writes: `…/pods/<namespace>_<pod>_<uid>/<container>/0.log`
/// (rotated: `0.log.20230202-070000`, `.gz`) and the symlinks
/// `…/containers/<pod>_<namespace>_<container>-<64 hex id>.log`. Object
/// names hold no `_` (DNS labels), so the `_`-separated parts are
/// unambiguous.
fn kubernetes_container(path: &Path) -> Option<String> {
    let name = os_name(path.file_name()?);
    let parent = path.parent()?;
    let stem = name.split('.').next()?;
    let is_uid = |u: &str| {
        u.len() == 36
            && u.chars().filter(|c| *c == '-').count() == 4
            && u.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
    };
    if !stem.is_empty()
        && stem.chars().all(|c| c.is_ascii_digit())
        && name[stem.len()..].starts_with(".log")
    {
        let container = os_name(parent.file_name()?);
        let pod_dir = os_name(parent.parent()?.file_name()?);
        let parts: Vec<&str> = pod_dir.split('_').collect();
        if let [ns, pod, uid] = parts[..] {
            if is_uid(uid) && !ns.is_empty() && !pod.is_empty() && !container.is_empty() {
                return Some(format!("{ns}/{pod}/{container}"));
            }
        }
        return None;
    }
    let base = name.strip_suffix(".log")?;
    let parts: Vec<&str> = base.split('_').collect();
    let [pod, ns, rest] = parts[..] else {
        return None;
    };
    let (container, id) = rest.rsplit_once('-')?;
    let hex = id.len() == 64 && id.chars().all(|c| c.is_ascii_hexdigit());
    (hex && !pod.is_empty() && !ns.is_empty() && !container.is_empty())
        .then(|| format!("{ns}/{pod}/{container}"))
}

/// The container id and `namespace/pod/container` a kubelet symlink
/// names: `…/containers/<pod>_<namespace>_<container>-<64 hex id>.log`.
pub fn kubernetes_container_id(path: &Path) -> Option<(String, String)> {
    let name = os_name(path.file_name()?);
    let base = name.split(".log").next()?;
    let (_, id) = base.rsplit_once('-')?;
    let pod = kubernetes_container(path)?;
    (id.len() == 64).then(|| (id.to_ascii_lowercase(), pod))
}

/// The container id a kernel OOM kill's `task_memcg` names, by the cgroup
/// paths runtimes create: `…/cri-containerd-<id>.scope`, `…/crio-<id>.scope`,
/// `…/docker-<id>.scope`, `/docker/<id>`, `/kubepods/…/pod<uid>/<id>`.
pub fn container_id_of_cgroup(cgroup: &str) -> Option<String> {
    let last = cgroup.trim_end_matches('/').rsplit('/').next()?;
    let last = last.strip_suffix(".scope").unwrap_or(last);
    let id = ["cri-containerd-", "crio-", "docker-", "libpod-"]
        .iter()
        .find_map(|p| last.strip_prefix(p))
        .unwrap_or(last);
    (id.len() == 64 && id.chars().all(|c| c.is_ascii_hexdigit())).then(|| id.to_ascii_lowercase())
}

/// The load balancer or distribution a cloud's log object is named after,
/// as AWS names them: an ALB's
/// `<account>_elasticloadbalancing_<region>_app.<name>.<id>_<time>_<node ip>_<random>.log.gz`
/// (the load balancer as its lines write it, `app/<name>/<id>`), a Classic
/// ELB's `…_<region>_<name>_<time>_…`, and CloudFront's
/// `<distribution id>.<YYYY-MM-DD-HH>.<unique>.gz`.
fn cloud_object(path: &Path) -> Option<String> {
    let name = os_name(path.file_name()?);
    let parts: Vec<&str> = name.split('_').collect();
    if let [account, "elasticloadbalancing", _region, lb, time, ..] = parts[..] {
        if account.len() == 12
            && account.chars().all(|c| c.is_ascii_digit())
            && time.len() == 14
            && time.ends_with('Z')
        {
            let lb: Vec<&str> = lb.split('.').collect();
            return match lb[..] {
                [kind, name, id] if !name.is_empty() => Some(format!("{kind}/{name}/{id}")),
                [name] if !name.is_empty() => Some(name.to_string()),
                _ => None,
            };
        }
    }
    let fields: Vec<&str> = name.split('.').collect();
    match fields[..] {
        [dist, hour, _unique, ..]
            if dist.len() == 14
                && dist.starts_with('E')
                && dist
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                && hour.len() == 13
                && looks_like_date(hour) =>
        {
            Some(format!("cloudfront {dist}"))
        }
        _ => None,
    }
}

/// The short id (its first 12 hex digits, as `docker ps` shows it) of a
/// container whose json-file log this is:
/// `…/containers/<64 hex id>/<id>-json.log`, rotated `…-json.log.1`.
fn docker_container(path: &Path) -> Option<String> {
    let name = os_name(path.file_name()?);
    let dir = os_name(path.parent()?.file_name()?);
    let hex = dir.len() == 64 && dir.chars().all(|c| c.is_ascii_hexdigit());
    let rest = name.strip_prefix(dir.as_str())?;
    (hex && rest.starts_with("-json.log")).then(|| dir[..12].to_string())
}

/// A file name as text: UTF-8 as it is, other bytes as `\xNN`.
fn os_name(s: &std::ffi::OsStr) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let mut out = String::new();
        let mut b = s.as_bytes();
        while !b.is_empty() {
            match std::str::from_utf8(b) {
                Ok(t) => {
                    out.push_str(t);
                    break;
                }
                Err(e) => {
                    let ok = e.valid_up_to();
                    out.push_str(std::str::from_utf8(&b[..ok]).unwrap_or_default());
                    let bad = e.error_len().unwrap_or(b.len() - ok);
                    for x in &b[ok..ok + bad] {
                        out.push_str(&format!("\\x{x:02X}"));
                    }
                    b = &b[ok + bad..];
                }
            }
        }
        out
    }
    #[cfg(not(unix))]
    {
        s.to_string_lossy().into_owned()
    }
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
        (None, Some(p)) => match host_from_path(p) {
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
/// below it (hidden files and directories skipped), rotated files oldest first.
pub fn expand(specs: &[InputSpec]) -> (Vec<Input>, Vec<InputError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for spec in specs {
        let Some(path) = &spec.path else {
            inputs.push(make_input(None, &spec.label));
            continue;
        };
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

/// Opens an input and sniffs its compression from the first bytes.
///
/// A decoder may use `memory` bytes (xz's memory limit; zstd's window, the
/// largest power of two within it): an archive that needs more is refused
/// with a message that says how to allow it.
pub fn open(input: &Input, policy: MapPolicy, memory: u64) -> io::Result<Opened> {
    let raw_read = Arc::new(AtomicU64::new(0));
    let mut seeked = false;
    let (raw, modified, size): (Box<dyn Read + Send>, SystemTime, Option<u64>) = match &input.path {
        None => (Box::new(io::stdin()), SystemTime::now(), None),
        Some(p) => {
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
    let mut buffered = BufReader::with_capacity(
        READ_BUFFER,
        Counting {
            inner: raw,
            count: raw_read.clone(),
        },
    );
    let compression = if seeked {
        Compression::None
    } else {
        sniff(buffered.fill_buf()?)
    };
    let resume = input.resume.as_ref();
    let reader: Box<dyn Read + Send> = match compression {
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
    };
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

    #[test]
    fn hosts_from_paths() {
        let h = |p: &str| host_from_path(Path::new(p));
        assert_eq!(
            h("/srv/archive/web-01/nginx/access.log.2.gz").as_deref(),
            Some("web-01")
        );
        assert_eq!(h("/x/web-02/access.log").as_deref(), Some("web-02"));
        assert_eq!(h("/var/log/nginx/access.log"), None);
        assert_eq!(
            h("/logs/10.0.0.7/2023-02-02/access.log").as_deref(),
            Some("10.0.0.7")
        );
        // Only what was written: no climbing to the current directory.
        assert_eq!(h("access.log"), None);
        assert_eq!(h("./nginx/access.log"), None);
        assert_eq!(h("../web-03/log/access.log").as_deref(), Some("web-03"));
        // Kubernetes: the kubelet's pod log paths name namespace, pod and
        // container.
        let uid = "d5a2e4c8-8a4f-4f5e-9b1a-0c3e2f1d4b6a";
        let id = "3f".repeat(32);
        for (path, want) in [
            (
                format!("/var/log/pods/shop_web-7d9f8b6c5d-x2x9k_{uid}/nginx/0.log"),
                Some("shop/web-7d9f8b6c5d-x2x9k/nginx"),
            ),
            (
                format!("/node-1/pods/shop_web-0_{uid}/nginx/0.log.20230202-070000.gz"),
                Some("shop/web-0/nginx"),
            ),
            (
                format!("/var/log/containers/web-0_shop_nginx-{id}.log"),
                Some("shop/web-0/nginx"),
            ),
            // Not the kubelet's shapes: the usual rule.
            (
                "/var/log/pods/not-a-pod-dir/nginx/0.log".to_string(),
                Some("not-a-pod-dir"),
            ),
            (
                format!(
                    "/var/log/containers/web-0_shop_nginx-{}.log",
                    "3f".repeat(8)
                ),
                None,
            ),
            ("/srv/web-01/0.log".to_string(), Some("web-01")),
            // AWS's object names: the load balancer, the distribution.
            (
                "/a/AWSLogs/123456789012/elasticloadbalancing/us-east-2/2016/05/01/123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.1234567890abcdef_20140215T2340Z_172.160.001.192_20sg8hgm.log.gz".to_string(),
                Some("app/my-loadbalancer/1234567890abcdef"),
            ),
            (
                "/a/2014/02/15/123456789012_elasticloadbalancing_us-west-2_my-loadbalancer_20140215T2340Z_172.160.001.192_20sg8hgm.log".to_string(),
                Some("my-loadbalancer"),
            ),
            (
                "/cf-logs/E2EXAMPLE1ABCD.2019-12-04-21.d111111a.gz".to_string(),
                Some("cloudfront E2EXAMPLE1ABCD"),
            ),
            // Docker's json-file logs: the container's short id.
            (
                format!("/var/lib/docker/containers/{id}/{id}-json.log.1"),
                Some("3f3f3f3f3f3f"),
            ),
            (
                format!("/var/lib/docker/containers/{id}/other-json.log"),
                Some(id.as_str()),
            ),
        ] {
            assert_eq!(h(&path).as_deref(), want, "{path}");
        }
    }

    #[test]
    fn container_ids_from_paths_and_cgroups() {
        let id = "ec9ee26695deb4cc72bc665efff1cf3a03fdfb12f1303e02fe9252985e084a95";
        assert_eq!(
            kubernetes_container_id(Path::new(&format!(
                "/var/log/containers/web-0_shop_nginx-{id}.log"
            ))),
            Some((id.to_string(), "shop/web-0/nginx".to_string()))
        );
        assert_eq!(
            kubernetes_container_id(Path::new("/var/log/nginx/access.log")),
            None
        );
        for cgroup in [
            format!("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-{id}.scope"),
            format!("/kubepods/burstable/pod8d5a2e4c-8a4f-4f5e-9b1a-0c3e2f1d4b6a/{id}"),
            format!("/system.slice/docker-{id}.scope"),
            format!("/docker/{id}"),
            format!("/machine.slice/crio-{id}.scope/"),
        ] {
            assert_eq!(container_id_of_cgroup(&cgroup).as_deref(), Some(id), "{cgroup}");
        }
        assert_eq!(container_id_of_cgroup("/system.slice/nginx.service"), None);
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_directory_names_stay_distinct() {
        use std::os::unix::ffi::OsStrExt;
        let a = Path::new(std::ffi::OsStr::from_bytes(b"/srv/web-\xff/access.log"));
        let b = Path::new(std::ffi::OsStr::from_bytes(b"/srv/web-\xfe/access.log"));
        assert_eq!(host_from_path(a).as_deref(), Some("web-\\xFF"));
        assert_ne!(host_from_path(a), host_from_path(b));
    }
}
