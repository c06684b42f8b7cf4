//! The format registry: every stock format logburst reads is one [`Spec`]
//! (in its own file) and one line of `registry!` below. Names, aliases,
//! `--log-format` values and help, detection, parsing, the block loop and
//! the request details of a failed line all come from the spec; nothing
//! else in the crate lists formats.
//!
//! Adding a format: write `format/NAME.rs` with a `pub static SPEC: Spec`,
//! declare the module in `format/mod.rs`, and add `Variant => NAME::SPEC` to
//! the registry. The compiler finds every place that must know of it.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::nginx_error::UpstreamKind;
use super::{
    access, apache_error, app, aws_lb, journal_json, json, kubectl, logread, nginx, nginx_error,
    proxies, s3, syslog, w3c,
};
use super::{Detail, Line, LineParser, Route, YearRule};
use crate::event::Request;
use crate::time::ClfCache;

/// What a format learned from the head of its input and needs for every
/// block (W3C's `#Fields:` layout): built once by [`Spec::seed`], shared
/// by every block's parser.
pub type Seed = Arc<dyn Any + Send + Sync>;

/// Parses one access line into its request and the route it names.
pub type RoutedParser = for<'a> fn(&'a [u8], &mut ClfCache) -> Option<(Request, Option<Route<'a>>)>;

/// How the blocks of a format are parsed.
#[derive(Clone, Copy)]
pub enum Blocks {
    /// The CLF family's vectorised block parser.
    Clf,
    /// Every line is a request of the input's host, parsed alone, with
    /// the route it names if any.
    Requests(RoutedParser),
    /// Lines of any kind ([`Line`]), through [`Spec::parse`].
    Lines,
    /// Lines through [`Spec::parse`], which reads [`LineParser::rare`]
    /// (the syslog family: the OOM parse is skipped on lines the block
    /// search clears), so the search is asked before each parse.
    Framed,
}

/// What a line says about a format, for detection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniffed {
    /// It is a line of this member of the family.
    Is(Format),
    /// It belongs to no format tried after this one.
    NoneLater,
    /// Not this family's; ask the next.
    Pass,
}

/// What detection knows while it votes.
pub struct SniffCtx<'a> {
    pub years: &'a YearRule,
    pub clf: ClfCache,
    /// The seeds the formats built from the head.
    pub seeds: &'a BTreeMap<Format, Seed>,
}

/// Votes a line for a member of the family, or not.
pub type Sniffer = fn(&mut SniffCtx, &[u8]) -> Sniffed;

/// Reads what a failed request's line says went wrong: the upstream that
/// failed and how.
pub type Evidence = fn(&[u8]) -> Option<(String, UpstreamKind)>;

/// Builds a format's [`Seed`] from the head of its input.
pub type Seeder = fn(&[u8]) -> Option<Seed>;

/// One stock format.
pub struct Spec {
    /// The `--log-format` name, also the name in reports and summaries.
    pub name: &'static str,
    /// Other names `--log-format` accepts.
    pub aliases: &'static [&'static str],
    /// What it is, for `--help`.
    pub about: &'static str,
    /// Lines of it are access-log requests.
    pub requests: bool,
    pub blocks: Blocks,
    /// Parses one line (no newline, no trailing `\r`).
    pub parse: for<'a> fn(&mut LineParser, &'a [u8]) -> Option<Line<'a>>,
    /// The client and path of a failed request's line.
    pub detail: for<'a> fn(Option<&Seed>, &'a [u8]) -> Detail<'a>,
    /// Detection: formats sniff lines in ascending `order`, and a tie
    /// between families goes to the lower one. `None`: never detected
    /// from a line (another member of its family sniffs for it).
    pub sniff: Option<(u8, Sniffer)>,
    /// Detection's last resort: when no family reads half the lines, a
    /// format whose lenient test passes a quarter of them.
    pub lenient: Option<fn(&[u8]) -> bool>,
    /// What the format needs from the head of its input.
    pub seed: Option<Seeder>,
    /// What a failed request's line says went wrong besides its status
    /// (an AWS load balancer that answered itself): read again from the
    /// lines of failed requests only, as an upstream failure of the named
    /// upstream.
    pub evidence: Option<Evidence>,
    /// What every report of an input read in this format says of its
    /// numbers (kubectl's ages counted back from the file's time).
    pub caveat: Option<&'static str>,
    /// What the lines it reads but cannot place in time are, in words,
    /// given their count.
    pub unplaced: Option<fn(u64) -> String>,
}

/// No request details: formats without requests.
pub fn no_detail<'a>(_: Option<&Seed>, _: &'a [u8]) -> Detail<'a> {
    Detail::default()
}

macro_rules! registry {
    ($($variant:ident => $spec:path,)*) => {
        /// A log format logburst reads: a stock one of the registry, or a
        /// custom nginx `log_format` (its index in the run's customs).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[warn(missing_docs)]
        pub enum Format {
            $(
                #[doc = concat!("The stock format of [`", stringify!($spec), "`].")]
                $variant,
            )*
            /// A custom nginx `log_format`: its index in the run's customs.
            Custom(u16),
        }

        impl Format {
            /// Every stock format, in registry order.
            pub const ALL: &'static [Format] = &[$(Format::$variant,)*];

            /// The stock format's spec; `None` for a custom format.
            pub fn spec(self) -> Option<&'static Spec> {
                match self {
                    $(Format::$variant => Some(&$spec),)*
                    Format::Custom(_) => None,
                }
            }
        }
    };
}

registry! {
    Common => access::COMMON,
    Combined => access::COMBINED,
    Main => access::MAIN,
    CombinedExtra => access::COMBINED_EXTRA,
    Syslog => syslog::RFC3164,
    Journal => syslog::JOURNAL,
    SyslogRfc3339 => syslog::RFC3339,
    Rfc5424 => syslog::RFC5424,
    Dmesg => syslog::DMESG,
    Json => json::SPEC,
    NginxError => nginx_error::SPEC,
    App => app::SPEC,
    Envoy => proxies::ENVOY,
    Haproxy => proxies::HAPROXY,
    W3c => w3c::SPEC,
    ApacheError => apache_error::SPEC,
    Logread => logread::SPEC,
    AwsLb => aws_lb::SPEC,
    S3Access => s3::SPEC,
    KubectlEvents => kubectl::SPEC,
    JournalJson => journal_json::SPEC,
}

impl Format {
    /// The name of a stock format; custom formats are named by their
    /// `log_format` name, see [`Format::describe`].
    pub fn name(&self) -> &'static str {
        self.spec().map_or("nginx-custom", |s| s.name)
    }

    /// The name shown in reports: `nginx:NAME` for a custom format.
    pub fn describe(&self, customs: &[nginx::LogFormat]) -> String {
        match self {
            Format::Custom(i) => match customs.get(*i as usize) {
                Some(f) => format!("nginx:{}", f.name),
                None => self.name().to_string(),
            },
            _ => self.name().to_string(),
        }
    }

    /// Lines of this format are access-log requests.
    pub fn is_access(&self) -> bool {
        self.spec().is_none_or(|s| s.requests)
    }

    /// Looks a `--log-format` name or alias up, in any case.
    pub fn from_name(name: &str) -> Option<Format> {
        let n = name.trim().to_ascii_lowercase();
        Format::ALL.iter().copied().find(|f| {
            let s = f.spec().expect("stock");
            s.name == n || s.aliases.contains(&n.as_str())
        })
    }

    /// `--log-format`'s help: every name with what it is.
    pub fn help() -> String {
        let mut out = String::new();
        for f in Format::ALL {
            let s = f.spec().expect("stock");
            out.push_str(&format!("\n  {:<15} {}", s.name, s.about));
            if !s.aliases.is_empty() {
                out.push_str(&format!(" (also: {})", s.aliases.join(", ")));
            }
        }
        out
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// In summaries and states a stock format is its name; a custom one
/// `{"Custom": N}`.
impl Serialize for Format {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Format::Custom(i) => s.serialize_newtype_variant("Format", 0, "Custom", i),
            f => s.serialize_str(f.name()),
        }
    }
}

/// Before the registry, formats were written as Rust enum variants
/// (`{"Access": "Combined"}`, `"NginxError"`); summaries and cron states
/// written so are still read.
#[derive(Deserialize)]
enum Legacy {
    Access(String),
    System(String),
    Custom(u16),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Wire {
    Name(String),
    Legacy(Legacy),
}

impl<'de> Deserialize<'de> for Format {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Format, D::Error> {
        let legacy = |v: &str| match v {
            "Common" => Some(Format::Common),
            "Combined" => Some(Format::Combined),
            "Main" => Some(Format::Main),
            "CombinedExtra" => Some(Format::CombinedExtra),
            "Rfc3164" => Some(Format::Syslog),
            "Journal" => Some(Format::Journal),
            "Rfc3339" => Some(Format::SyslogRfc3339),
            "Rfc5424" => Some(Format::Rfc5424),
            "Dmesg" => Some(Format::Dmesg),
            "Json" => Some(Format::Json),
            "NginxError" => Some(Format::NginxError),
            "App" => Some(Format::App),
            "Envoy" => Some(Format::Envoy),
            "Haproxy" => Some(Format::Haproxy),
            _ => None,
        };
        let (found, shown) = match Wire::deserialize(d)? {
            Wire::Name(n) => (
                Format::ALL
                    .iter()
                    .copied()
                    .find(|f| f.name() == n)
                    .or_else(|| legacy(&n)),
                n,
            ),
            Wire::Legacy(Legacy::Access(v) | Legacy::System(v)) => (legacy(&v), v),
            Wire::Legacy(Legacy::Custom(i)) => (Some(Format::Custom(i)), String::new()),
        };
        found.ok_or_else(|| serde::de::Error::custom(format!("unknown log format {shown:?}")))
    }
}

/// How many leading lines detection looks at.
pub const SNIFF_LINES: usize = 64;

/// The seeds every format that needs one builds from `head`.
pub fn seeds(head: &[u8]) -> BTreeMap<Format, Seed> {
    Format::ALL
        .iter()
        .filter_map(|f| Some((*f, (f.spec()?.seed?)(head)?)))
        .collect()
}

/// Chooses the format of an input from its first lines: the family that
/// reads most of them (at least half of the non-empty ones), named after
/// the member most of them look like; else a lenient format (application
/// logs) that a quarter of them fit. `None` when nothing fits.
pub fn detect(head: &[u8], years: &YearRule) -> Option<Format> {
    detect_with(head, years, &[])
}

/// [`detect`], trying the run's custom formats first: the custom format
/// that reads the most lines (at least half) wins over the stock ones.
pub fn detect_with(head: &[u8], years: &YearRule, customs: &[nginx::LogFormat]) -> Option<Format> {
    let lines: Vec<&[u8]> = lines_of(head).take(SNIFF_LINES).collect();
    detect_lines(&lines, head, years, customs)
}

/// The non-empty lines of `text`, without their line ends.
fn lines_of(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(|c| *c == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty())
}

/// [`detect_with`] over every run of [`SNIFF_LINES`] lines of `text` in
/// turn, until one decides: a log whose first lines are a banner, a
/// stack trace or another program's output is known by the lines after.
/// The format, and how many non-empty lines before it fit no format (0
/// when the first lines decided, as [`detect_with`] would).
pub fn detect_further(
    text: &[u8],
    years: &YearRule,
    customs: &[nginx::LogFormat],
) -> Option<(Format, usize)> {
    let lines: Vec<&[u8]> = lines_of(text).collect();
    let mut start = 0;
    while start < lines.len() {
        let run = &lines[start..(start + SNIFF_LINES).min(lines.len())];
        if let Some(f) = detect_lines(run, text, years, customs) {
            // The first lines deciding is plain detection: nothing skipped.
            let skipped = if start == 0 {
                0
            } else {
                first_fit(&lines[..start + run.len()], f, text, years, customs).unwrap_or(start)
            };
            return Some((f, skipped));
        }
        start += SNIFF_LINES;
    }
    None
}

/// The index of the first of `lines` that sniffing takes for `f`.
fn first_fit(
    lines: &[&[u8]],
    f: Format,
    text: &[u8],
    years: &YearRule,
    customs: &[nginx::LogFormat],
) -> Option<usize> {
    if let Format::Custom(i) = f {
        let custom = customs.get(i as usize)?;
        let mut cache = ClfCache::default();
        return lines
            .iter()
            .position(|l| custom.parse(l, &mut cache).is_some());
    }
    let sniffers = sniffers();
    let seeds = seeds(text);
    let mut ctx = SniffCtx {
        years,
        clf: ClfCache::default(),
        seeds: &seeds,
    };
    lines
        .iter()
        .position(|l| vote(&mut ctx, &sniffers, l).is_some_and(|(_, g)| g == f))
}

/// The family (its sniffer's order) and member a line votes for: the first
/// sniffer, in order, that claims it; none once one rules every later out.
fn vote(
    ctx: &mut SniffCtx,
    sniffers: &[(u8, Format, Sniffer)],
    line: &[u8],
) -> Option<(u8, Format)> {
    for (order, _, sniff) in sniffers {
        match sniff(ctx, line) {
            Sniffed::Is(f) => return Some((*order, f)),
            Sniffed::NoneLater => return None,
            Sniffed::Pass => {}
        }
    }
    None
}

/// Every format's sniffer, in sniffing order.
fn sniffers() -> Vec<(u8, Format, Sniffer)> {
    let mut sniffers: Vec<(u8, Format, Sniffer)> = Format::ALL
        .iter()
        .filter_map(|f| f.spec()?.sniff.map(|(o, s)| (o, *f, s)))
        .collect();
    sniffers.sort_by_key(|(o, f, _)| (*o, *f));
    sniffers
}

/// Which format claims a single line, among the web-server formats an
/// input of `primary` may interleave with its own lines: an access log and
/// the server's error log in one container stdout (ingress-nginx, the
/// nginx image). Lines are claimed by the sniffers detection votes with.
pub struct Claimer {
    primary: Format,
    sniffers: Vec<(u8, Format, Sniffer)>,
    years: YearRule,
    seeds: BTreeMap<Format, Seed>,
}

/// Formats that interleave in one web server's output: the access
/// formats read line by line with nothing learned from the head, and the
/// error logs.
fn web(f: Format) -> bool {
    matches!(f, Format::NginxError | Format::ApacheError)
        || (f.is_access() && f.spec().is_some_and(|s| s.seed.is_none()) && f != Format::Haproxy)
}

impl Claimer {
    /// The claimer for an input read as `primary`; `None` when its lines
    /// are not a web server's.
    pub fn for_input(primary: Format, years: YearRule) -> Option<Claimer> {
        web(primary).then(|| Claimer {
            primary,
            sniffers: sniffers(),
            years,
            seeds: BTreeMap::new(),
        })
    }

    /// The other web-server format `line` belongs to, if any.
    pub fn claim(&self, clf: &mut ClfCache, line: &[u8]) -> Option<Format> {
        let mut ctx = SniffCtx {
            years: &self.years,
            clf: std::mem::take(clf),
            seeds: &self.seeds,
        };
        let voted = vote(&mut ctx, &self.sniffers, line);
        *clf = ctx.clf;
        let (_, f) = voted?;
        (f != self.primary && web(f)).then_some(f)
    }
}

fn detect_lines(
    lines: &[&[u8]],
    head: &[u8],
    years: &YearRule,
    customs: &[nginx::LogFormat],
) -> Option<Format> {
    if lines.is_empty() {
        return None;
    }
    if let Some(f) = best_custom(lines, customs) {
        return Some(f);
    }
    let sniffers = sniffers();
    let seeds = seeds(head);
    let mut ctx = SniffCtx {
        years,
        clf: ClfCache::default(),
        seeds: &seeds,
    };
    // Votes per family (its sniffer's order), then per member.
    let mut votes: BTreeMap<u8, BTreeMap<Format, usize>> = BTreeMap::new();
    for l in lines {
        if let Some((order, f)) = vote(&mut ctx, &sniffers, l) {
            *votes.entry(order).or_default().entry(f).or_insert(0) += 1;
        }
    }
    let total = |m: &BTreeMap<Format, usize>| m.values().sum::<usize>();
    let best = votes.values().map(total).max().unwrap_or(0);
    // A web server's mixed stream: its access and error lines together
    // are the majority, read each by its own format (see `Claimer`).
    let web_votes: usize = votes
        .values()
        .flat_map(|m| m.iter())
        .filter(|(f, _)| web(**f))
        .map(|(_, n)| n)
        .sum();
    let best_is_web = votes
        .values()
        .find(|m| total(m) == best)
        .is_some_and(|m| m.keys().all(|f| web(*f)));
    // Lines that open with a blank continue the message before them (the
    // tab-indented lines of macOS's syslogd, a stack trace's `\tat …`): no
    // format claims them as lines of their own, so they do not count
    // against the one that reads the lines they continue.
    let counted = lines
        .iter()
        .filter(|l| !matches!(l.first(), Some(b' ' | b'\t')))
        .count();
    let enough = best * 2 >= counted || (best_is_web && web_votes * 2 >= counted);
    if best == 0 || !enough {
        return lenient(lines);
    }
    // The first family (in sniffing order) with the most votes; within it
    // the member with the most, ties to the later (more specific) member.
    let (_, members) = votes.iter().find(|(_, m)| total(m) == best)?;
    let (f, _) = members.iter().max_by_key(|(f, n)| (**n, **f))?;
    Some(*f)
}

fn best_custom(lines: &[&[u8]], customs: &[nginx::LogFormat]) -> Option<Format> {
    let mut best: Option<(usize, usize)> = None;
    for (i, f) in customs.iter().enumerate() {
        let mut cache = ClfCache::default();
        let n = lines
            .iter()
            .filter(|l| f.parse(l, &mut cache).is_some())
            .count();
        if n > 0 && best.is_none_or(|(_, m)| n > m) {
            best = Some((i, n));
        }
    }
    let (i, n) = best?;
    (n * 2 >= lines.len()).then_some(Format::Custom(i as u16))
}

/// Stack traces and tracebacks may outnumber an application log's stamped
/// lines, so a quarter of the lines passing a lenient test is enough.
fn lenient(lines: &[&[u8]]) -> Option<Format> {
    Format::ALL.iter().copied().find(|f| {
        f.spec().and_then(|s| s.lenient).is_some_and(|test| {
            let n = lines.iter().filter(|l| test(l)).count();
            n > 0 && n * 4 >= lines.len()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_serialise_by_name_and_read_the_old_enum_form() {
        for f in Format::ALL.iter().copied().chain([Format::Custom(3)]) {
            let text = serde_json::to_string(&f).unwrap();
            assert_eq!(serde_json::from_str::<Format>(&text).unwrap(), f, "{text}");
        }
        assert_eq!(
            serde_json::to_string(&Format::Combined).unwrap(),
            "\"combined\""
        );
        for (old, f) in [
            (r#"{"Access":"Combined"}"#, Format::Combined),
            (r#"{"Access":"CombinedExtra"}"#, Format::CombinedExtra),
            (r#"{"System":"Rfc3339"}"#, Format::SyslogRfc3339),
            (r#"{"System":"Dmesg"}"#, Format::Dmesg),
            (r#""NginxError""#, Format::NginxError),
            (r#""Haproxy""#, Format::Haproxy),
            (r#"{"Custom":2}"#, Format::Custom(2)),
        ] {
            assert_eq!(serde_json::from_str::<Format>(old).unwrap(), f, "{old}");
        }
        for bad in [r#""bogus""#, r#"{"Access":"Nope"}"#, "7", r#"{"Other":1}"#] {
            assert!(serde_json::from_str::<Format>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_name_and_alias_is_one_format() {
        let mut seen = std::collections::BTreeSet::new();
        for f in Format::ALL {
            let s = f.spec().unwrap();
            for n in std::iter::once(&s.name).chain(s.aliases) {
                assert!(seen.insert(*n), "{n} names two formats");
                assert_eq!(Format::from_name(n), Some(*f));
                assert_eq!(Format::from_name(&n.to_uppercase()), Some(*f));
            }
        }
        assert_eq!(Format::from_name("bogus"), None);
    }

    /// macOS's syslogd indents a message's further lines with a tab (ten
    /// of the seventeen lines of lnav's sample; eight of thirteen here),
    /// which do not count against the syslog lines they continue.
    #[test]
    fn indented_continuations_do_not_outvote_their_lines() {
        let years = YearRule {
            fixed: None,
            reference: (2023, 9, 1),
            boot: None,
            written: None,
        };
        let notice = "Aug 16 00:32:15 Tims-Air syslogd[314]: Configuration Notice:\n\
\tASL Module \"com.apple.install\" claims selected messages.\n\
\tThose messages may not appear in standard system log files or in the ASL database.\n";
        let head = format!(
            "Aug 16 00:10:45 Tims-Air syslogd[314]: ASL Sender Statistics\n{}",
            notice.repeat(4)
        );
        assert_eq!(detect(head.as_bytes(), &years), Some(Format::Syslog));
        // Blank-led lines alone decide nothing.
        assert_eq!(
            detect(b"\tat a.b(C.java:1)\n\tat d.e(F.java:2)\n", &years),
            None
        );
    }
}
