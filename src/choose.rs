//! What reading an input starts from, decided on its head: the container
//! envelope around its lines, their format (forced, remembered, fixed by
//! file name or detected, past a banner, from the middle and the end of the
//! file), what the format takes from the head, and the host a compose
//! stream names.

use crate::chunk::{self, Block};
use crate::config::ScanOptions;
use crate::envelope::{self, Envelope, Mode, Wrapping};
use crate::format::{self, Format, Seed, YearRule};
use crate::lanes::Lanes;
use crate::source::{self, Compression, Input};

/// How much of an input's start format detection reads.
const SNIFF_BYTES: usize = 64 << 10;

/// The format `by_name` gives a file, if any.
fn format_by_name(opts: &ScanOptions, input: &Input) -> Option<Format> {
    let name = input.path.as_ref()?.file_name()?.to_str()?;
    opts.by_name.iter().find_map(|(base, f)| {
        let rest = name.strip_prefix(base.as_str())?;
        (rest.is_empty() || rest.starts_with('.') || rest.starts_with('-')).then_some(*f)
    })
}

/// The blocks that hold the input's first [`SNIFF_BYTES`] (the same head
/// whatever the block size), taken from `reader`.
pub fn head(reader: &mut dyn Iterator<Item = Block>) -> Vec<Block> {
    let mut head_blocks = Vec::new();
    let mut head_len = 0;
    while head_len < SNIFF_BYTES {
        match reader.next() {
            Some(b) => {
                head_len += b.data().len().max(1);
                head_blocks.push(b);
            }
            None => break,
        }
    }
    head_blocks
}

/// What reading an input starts from: its format, what the format took
/// from the head, the envelope around its lines, and a note when the
/// format was not found in the first lines.
#[derive(Default)]
pub struct Chosen {
    pub format: Option<Format>,
    pub seed: Option<Seed>,
    pub note: Option<String>,
    pub wrapping: Option<Wrapping>,
    /// The services a compose stream's head names, in order.
    pub services: Vec<String>,
    /// A compose stream of several services: how each is read.
    pub lanes: Option<std::sync::Arc<Lanes>>,
}

/// The envelope around `head`'s lines and what they are inside it, for
/// format detection and seeds: `None` when its lines have none. Lines
/// given the envelope's time are an application's.
fn unwrapped_head(
    head: &[u8],
    given: Option<Format>,
    years: &YearRule,
    opts: &ScanOptions,
) -> Option<(Wrapping, Vec<u8>)> {
    let lines: Vec<&[u8]> = chunk::text_lines(head)
        .filter(|l| !l.is_empty())
        .take(format::SNIFF_LINES)
        .collect();
    let envelope = envelope::sniff(&lines)?;
    let open = |mode| {
        let w = Wrapping { envelope, mode };
        let mut out = Vec::new();
        envelope::unwrap_into(w, head, &mut out);
        (w, out)
    };
    let bare = open(Mode::Bare);
    // Lines with a time of their own are given bare; an application's
    // lines keep the envelope's time before them (`docker logs -t` lines
    // are already so).
    let inner = given.or_else(|| {
        format::registry::detect_further(&bare.1, years, &opts.customs).map(|(f, _)| f)
    });
    match inner {
        Some(f) if f != Format::App => Some(bare),
        _ if envelope == Envelope::DockerStamp => None,
        _ => Some(open(Mode::Stamped)),
    }
}

/// The host a compose stream of one service counts for: the service,
/// unless the user named the host (`HOST=PATH`).
pub fn compose_host(input: &Input, services: &[String]) -> String {
    match services {
        [one] if input.host_from != source::HostFrom::Label => one.clone(),
        _ => input.host.clone(),
    }
}

/// The input's format — forced, remembered by the cron state, fixed by
/// file name, or detected from the head (its first lines, else any run of
/// lines in it, else lines from the middle and the end of a plain file) —
/// and what else reading it starts from (see [`Chosen`]). A container
/// envelope around the lines is found first, and the format is that of
/// the lines inside it.
pub fn choose_format(
    opts: &ScanOptions,
    input: &Input,
    head_blocks: &[Block],
    years: &YearRule,
    later: &dyn Fn() -> Vec<Vec<u8>>,
) -> Chosen {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    for b in head_blocks.iter().filter(|b| !b.overlong_line) {
        let take = (SNIFF_BYTES - head.len()).min(b.data().len());
        head.extend_from_slice(&b.data()[..take]);
    }
    let given = opts
        .format
        .or_else(|| input.resume.as_ref().and_then(|r| r.format))
        .or_else(|| format_by_name(opts, input));
    // Several compose services: each is read in its own lane, in its own
    // format (`--log-format` still forces one for all).
    if let Some(lanes) = Lanes::from_head(&head, opts.format, *years, opts) {
        return Chosen {
            format: lanes.primary(),
            note: Some(lanes.note(opts)),
            wrapping: Some(Wrapping {
                envelope: Envelope::Compose,
                mode: Mode::Bare,
            }),
            lanes: Some(std::sync::Arc::new(lanes)),
            ..Chosen::default()
        };
    }
    let services = envelope::services(&chunk::text_lines(&head).collect::<Vec<_>>())
        .into_iter()
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect();
    let wrapping = match unwrapped_head(&head, given, years, opts) {
        Some((w, inner)) => {
            head = inner;
            Some(w)
        }
        None => None,
    };
    // Lines the envelope gave its time to are an application's.
    let given = given.or(wrapping
        .filter(|w| w.mode == Mode::Stamped)
        .map(|_| Format::App));
    let services = if wrapping.is_some_and(|w| w.envelope == Envelope::Compose) {
        services
    } else {
        Vec::new()
    };
    let open = |text: Vec<u8>| match wrapping {
        Some(w) => {
            let mut out = Vec::new();
            envelope::unwrap_into(w, &text, &mut out);
            out
        }
        None => text,
    };
    let seeded = |f: Format, text: &[u8]| f.spec()?.seed.and_then(|seed| seed(text));
    let chosen = |format: Format, seed, note| Chosen {
        format: Some(format),
        seed,
        note,
        wrapping,
        services: services.clone(),
        lanes: None,
    };
    if let Some(f) = given {
        return chosen(f, seeded(f, &head), None);
    }
    let name = |f: Format| f.describe(&opts.customs);
    if let Some((f, skipped)) = format::registry::detect_further(&head, years, &opts.customs) {
        if skipped == 0 {
            return chosen(f, seeded(f, &head), None);
        }
        let note = format!(
            "its first {skipped} lines fit no format logburst knows; it was read as {}, the format of the lines after them (those before count as malformed)",
            name(f)
        );
        return chosen(f, seeded(f, &head), Some(note));
    }
    for sample in later() {
        let sample = open(sample);
        if let Some((f, _)) = format::registry::detect_further(&sample, years, &opts.customs) {
            let note = format!(
                "its first {} KiB fit no format logburst knows; it was read as {}, the format of lines further in (lines before them that do not fit count as malformed)",
                SNIFF_BYTES >> 10,
                name(f)
            );
            let seed = seeded(f, &sample).or_else(|| seeded(f, &head));
            return chosen(f, seed, Some(note));
        }
    }
    Chosen {
        wrapping,
        services,
        ..Chosen::default()
    }
}

/// Text from the middle and the end of a plain file, from a line's start,
/// [`SNIFF_BYTES`] each: where a file whose head fits no format is looked
/// at again. Nothing for compressed input, standard input or a file no
/// longer than its head.
pub fn later_samples(input: &Input, compression: Compression) -> Vec<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let (Some(path), Compression::None, None) = (&input.path, compression, &input.resume) else {
        return Vec::new();
    };
    let Ok(mut f) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let len = f
        .metadata()
        .map_or(0, |m| if m.is_file() { m.len() } else { 0 });
    let sniff = SNIFF_BYTES as u64;
    if len <= 2 * sniff {
        return Vec::new();
    }
    let mut out = Vec::new();
    for at in [len / 2, len - sniff] {
        let mut buf = Vec::with_capacity(SNIFF_BYTES);
        if f.seek(SeekFrom::Start(at)).is_err()
            || (&mut f).take(sniff).read_to_end(&mut buf).is_err()
        {
            continue;
        }
        // From the first whole line.
        if let Some(nl) = memchr::memchr(b'\n', &buf) {
            out.push(buf.split_off(nl + 1));
        }
    }
    out
}

/// `app.log.2.gz` → `app`; `gunicorn-error.log` → `gunicorn-error`. A web
/// server's error log under its usual name (`error.log`, `error_log`) is
/// the server's: `nginx`, `apache`, not `error`.
pub fn process_name(input: &Input, format: Option<Format>) -> String {
    let name = input
        .path
        .as_ref()
        .and_then(|p| p.file_name())
        .map_or_else(|| "stdin".to_string(), |n| n.to_string_lossy().into_owned());
    let stem = name
        .split('.')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or(&name)
        .to_string();
    match (format, stem.as_str()) {
        (Some(Format::NginxError), "error") => "nginx".into(),
        (Some(Format::ApacheError), "error" | "error_log") => "apache".into(),
        _ => stem,
    }
}
