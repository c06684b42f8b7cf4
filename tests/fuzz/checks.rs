//! The checks behind each fuzz target, shared by the targets
//! (`fuzz_targets/`) and by `tests/fuzz_regressions.rs`, which replays every
//! input kept in `regressions/`. Each takes arbitrary bytes and panics on a
//! broken invariant.
#![allow(dead_code)]

use std::io::Write;

use logburst::internals::format::{self, access, oom, syslog, Format, Line, LineParser, YearRule};
use logburst::internals::source::InputSpec;
use logburst::internals::time::{self, ClfCache};
use logburst::{analyze, render, Config};

/// The access-log parsers (every CLF-family flavour) on arbitrary lines.
pub fn access(data: &[u8]) {
    use logburst::internals::format::proxies;
    // One date cache over all lines answers as a fresh one per line.
    let mut dates = logburst::internals::time::ClfCache::default();
    for line in data.split(|c| *c == b'\n') {
        let envoy = proxies::envoy(line, &mut dates);
        assert_eq!(envoy, proxies::envoy(line, &mut Default::default()));
        if let Some(r) = envoy {
            // Status 0 (no response) is read as NO_RESPONSE.
            assert!(
                r.status == logburst::internals::event::NO_RESPONSE
                    || (100..=999).contains(&r.status)
            );
        }
        let h = proxies::haproxy(line, &mut dates);
        assert_eq!(h, proxies::haproxy(line, &mut Default::default()));
        if let Some(h) = h {
            assert!(h.status <= 999 || h.status == logburst::internals::event::NO_RESPONSE);
        }
        assert!(proxies::may_be_haproxy(line) || h.is_none());
        route_is_clean(proxies::envoy_route(line));
        let lb = logburst::internals::format::aws_lb::parse_with(line, &mut dates);
        assert_eq!(lb, logburst::internals::format::aws_lb::parse(line));
        if let Some(e) = lb {
            assert!(
                e.request.status == logburst::internals::event::NO_RESPONSE
                    || (100..=999).contains(&e.request.status)
            );
            assert!(!e.client.is_empty() && !e.target.is_empty());
        }
        if let Some(e) = logburst::internals::format::s3::parse(line) {
            assert!((100..=599).contains(&e.request.status));
            assert!(!e.client.is_empty() && !e.bucket.is_empty());
        }
        // Client and path of a failed request, read again, in every format.
        for f in Format::ALL {
            detail_is_clean(&format::Detail::of(*f, &[], None, line));
        }
    }
    let years = YearRule {
        fixed: None,
        reference: (2023, 2, 28),
        boot: None,
        written: None,
    };
    for line in data.split(|c| *c == b'\n') {
        if let Some(a) = access::parse_line(line) {
            assert_eq!(a.time.len(), 26);
            assert!(a.status <= 999);
            let _ = access::flavor_of(a.tail);
            route_is_clean(access::tail_route(a.tail));
        }
        let mut cache = ClfCache::default();
        let direct = access::parse_request(line, &mut cache);
        for member in [
            Format::Combined,
            Format::Common,
            Format::Main,
            Format::CombinedExtra,
        ] {
            let mut p = LineParser::new(member, years);
            let via = p.parse(line);
            // Every flavour parses the same family the same way (a final
            // `\r` aside, which the line parser ignores).
            if !line.ends_with(b"\r") {
                match (via, direct) {
                    (Some(Line::Request(r)), Some(d)) => assert_eq!(r, d),
                    (None, None) => {}
                    (v, d) => panic!("line parser {v:?} vs parse_request {d:?}"),
                }
            }
        }
    }
    // The block parser (vector marks) cuts and parses the whole input
    // exactly as the line-by-line parser does.
    let mut blockwise = Vec::new();
    access::for_each_line(data, |l, a| blockwise.push((l, a)));
    let by_line: Vec<_> = logburst::internals::chunk::text_lines(data)
        .map(|l| (l, access::parse_line(l)))
        .collect();
    assert_eq!(blockwise, by_line);
}

/// A route has a name, and its key is one line of bounded length.
fn route_is_clean(r: Option<format::Route>) {
    if let Some(r) = r {
        assert!(!r.name.is_empty() && r.name.as_ref() != b"-");
        let key = r.key();
        assert!(key.len() <= format::route::ROUTE_NAME_MAX + 10, "{key}");
        assert!(!key.chars().any(char::is_control), "{key:?}");
    }
}

/// A client has no spaces around it; a path has no
/// query string or fragment, and identifier segments are templated.
fn detail_is_clean(d: &format::Detail) {
    if let Some(c) = &d.client {
        assert!(!c.is_empty() && c.as_ref() != b"-");
        assert_eq!(c.trim_ascii(), c.as_ref());
    }
    if let Some(p) = &d.path {
        assert!(!p.is_empty());
        assert!(!p.contains(&b'?') && !p.contains(&b'#'), "{p:?}");
        assert_eq!(
            format::template(p).as_ref(),
            p.as_ref(),
            "templated twice differs"
        );
    }
}

/// Syslog (RFC 3164, RFC 3339, RFC 5424), journalctl and dmesg framings,
/// with the OOM message parser behind them, on arbitrary lines.
pub fn system(data: &[u8]) {
    let years = YearRule {
        fixed: None,
        reference: (2023, 2, 28),
        boot: None,
        written: Some(1_675_321_200),
    };
    let _ = format::detect(data, &years);
    for line in data.split(|c| *c == b'\n') {
        let _ = syslog::strip_uptime(line);
        // kubectl's event table: an age is at most a century, its unit
        // one of kubectl's, the message a part of the row.
        use logburst::internals::format::kubectl;
        if let Some((age, msg)) = kubectl::parse_row(line) {
            assert!(msg.len() < line.len());
            if let Some((secs, unit)) = age {
                assert!((0..=100 * 365 * 86_400).contains(&secs));
                assert!([1, 60, 3600, 86_400, 365 * 86_400].contains(&unit));
            }
        }
        if let Some(f) = syslog::parse_frame(line, &years) {
            assert!(f.msg().len() <= f.body.len() && f.body.len() <= line.len());
        }
        // The Apache error log and OpenWrt logread: a message is a part of
        // the line after its stamp, the stamp a real instant.
        use logburst::internals::format::{apache_error, logread};
        for (naive, msg) in [apache_error::parse_line(line), logread::parse_line(line)]
            .into_iter()
            .flatten()
        {
            assert!(msg.len() + 24 <= line.len());
            let _ = time::rfc3339(naive, 0);
        }
        for member in [
            Format::Syslog,
            Format::Journal,
            Format::SyslogRfc3339,
            Format::Rfc5424,
            Format::Dmesg,
            Format::ApacheError,
            Format::Logread,
            Format::KubectlEvents,
            Format::JournalJson,
        ] {
            let mut p = LineParser::new(member, years);
            if let Some(Line::System { host: Some(h), .. }) = p.parse(line) {
                assert!(!h.is_empty() && h.len() < line.len());
            }
        }
        // The journal's JSON export: an entry is one object (serde_json
        // skips the fields not read without checking their escapes'
        // surrogates, so it is not held to serde_json::Value), its time a
        // count of microseconds written in it, its names (read as
        // written) parts of the line.
        use logburst::internals::format::journal_json;
        if let Some(e) = journal_json::parse(line) {
            assert!(e.micros >= 0);
            let t = line.trim_ascii();
            assert!(t.starts_with(b"{") && t.ends_with(b"}"));
            let digits = e.micros.to_string();
            assert!(line.windows(digits.len()).any(|w| w == digits.as_bytes()));
            for name in [&e.host, &e.process].into_iter().flatten() {
                assert!(!name.is_empty() && name.len() < line.len());
            }
        }
    }
}

/// The kernel OOM-killer message parser on arbitrary messages.
pub fn oom(data: &[u8]) {
    if let Some(m) = oom::parse(data) {
        // A pid it reports is written in the message.
        if let Some(pid) = m.victim.pid {
            let digits = pid.to_string();
            assert!(data.windows(digits.len()).any(|w| w == digits.as_bytes()));
        }
    }
}

/// The timestamp parsers (CLF, ISO 8601 / RFC 3339, BSD, ctime), durations
/// and instants given on the command line.
pub fn stamps(data: &[u8]) {
    if let Some((utc, off)) = time::parse_clf(data) {
        // What parses prints back in range.
        let _ = time::rfc3339(utc, off);
    }
    let _ = time::parse_iso(data);
    if let Some((s, used)) = time::parse_bsd(data) {
        // English or localized, a month it names and no byte past the end.
        assert!((1..=12).contains(&s.month) && used <= data.len());
        let _ = time::bsd_in_year(&s, 2023);
    }
    let _ = time::parse_ctime(data);
    let _ = time::parse_offset(data);
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(d) = time::parse_duration(s) {
            assert!(d > 0);
            let _ = time::duration(d);
        }
        let _ = time::parse_instant(s, None);
        if let Ok(z) = time::Zone::parse(s) {
            let _ = time::parse_instant("2023-02-02 07:00", Some(&z));
        }
    }
}

/// The whole run on arbitrary bytes (plain or, when the bytes start with a
/// magic number, as an archive): never a panic, every line accounted for,
/// valid JSON and a text report with no raw control characters.
pub fn pipeline(data: &[u8]) {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(data).unwrap();
    let config = Config {
        inputs: vec![InputSpec::parse(&format!("fuzz={}", f.path().display()))],
        threads: Some(1),
        block_size: 256,
        ..Config::default()
    };
    let a = analyze(&Config {
        overview: true,
        minutes: true,
        ..config
    })
    .unwrap();
    for i in &a.inputs {
        assert_eq!(i.lines, i.parsed + i.malformed);
    }
    outputs_are_safe(&a);
}

/// The tags the HTML page is made of: any other would be log content let
/// loose.
const HTML_TAGS: &[&str] = &[
    "!DOCTYPE",
    "strong",
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "h1",
    "h2",
    "h3",
    "p",
    "figure",
    "figcaption",
    "svg",
    "rect",
    "text",
    "line",
    "path",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "span",
    "i",
    "code",
    "ul",
    "li",
    "br",
];

/// Every renderer on one analysis: valid JSON; no raw control character
/// in text, Markdown or HTML; no HTML tag in the Markdown but the
/// renderer's own; no tag in the HTML page but its own.
pub fn outputs_are_safe(a: &logburst::Analysis) {
    let render = |f: fn(&logburst::Analysis, &mut dyn Write) -> std::io::Result<()>| {
        let mut out = Vec::new();
        f(a, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let json = render(render::json::render);
    let _: serde_json::Value = serde_json::from_str(&json).unwrap();
    render(render::csv::render);
    for (name, out) in [
        ("text", render(render::text::render)),
        ("markdown", render(render::markdown::render)),
        ("html", render(render::html::render)),
    ] {
        assert!(
            !out.chars().any(|c| c.is_control() && c != '\n'),
            "{name}: {out}"
        );
        if name == "markdown" {
            // No tag from log content: `<` is written `&lt;`. The one `<`
            // of ours is the empty comment after `@` that keeps GFM from
            // making an e-mail link (`markdown::no_autolinks`).
            assert!(!out.replace("@<!---->", "@").contains('<'), "{out}");
        }
        if name == "html" {
            html_tags_are_ours(&out);
        }
    }
}

/// Every `<` of an HTML page opens one of the page's own tags.
pub fn html_tags_are_ours(page: &str) {
    let mut rest = page;
    while let Some(p) = rest.find('<') {
        let tag: String = rest[p + 1..]
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
            .collect();
        assert!(HTML_TAGS.contains(&tag.as_str()), "<{tag}> in {page}");
        rest = &rest[p + 1..];
    }
}

/// The nginx `log_format` compiler and the lines it compiles: the first
/// line of the input is the format, the rest are lines to match; the whole
/// input is also read as an nginx.conf.
pub fn nginx(data: &[u8]) {
    use logburst::internals::format::nginx::{self, Escape, LogFormat};
    let text = String::from_utf8_lossy(data);
    let _ = nginx::read_conf(&text);
    let (spec, lines) = text.split_once('\n').unwrap_or((&text, ""));
    for escape in [Escape::Default, Escape::Json, Escape::None] {
        let Ok(f) = LogFormat::compile("fuzz", spec, escape) else {
            continue;
        };
        assert!(f.variables().any(|v| v == "status"));
        let mut cache = ClfCache::default();
        for line in lines.as_bytes().split(|c| *c == b'\n') {
            if let Some((r, x)) = f.parse_fields(line, &mut cache) {
                assert!(r.status <= 999);
                route_is_clean(x.route());
            }
        }
    }
}

/// The JSON-lines access parser on arbitrary lines.
pub fn json(data: &[u8]) {
    use logburst::internals::format::json;
    for line in data.split(|c| *c == b'\n') {
        detail_is_clean(&format::Detail::of(Format::Json, &[], None, line));
        if let Some((upstream, _)) = json::evidence(line) {
            assert!(upstream.chars().count() <= 160, "{upstream}");
        }
        if let Some((r, route)) = json::parse_routed(line, &mut ClfCache::default()) {
            route_is_clean(route);
            // A status, a CDN subrequest read but not counted, or a request
            // that got no response (status 0).
            assert!(
                (100..=999).contains(&r.status)
                    || r.status == logburst::internals::event::NOT_COUNTED
                    || r.status == logburst::internals::event::NO_RESPONSE
            );
            // Only objects parse.
            assert_eq!(line.trim_ascii().first(), Some(&b'{'));
        }
    }
    json_document(data);
}

/// The JSON-document reader: whatever the bytes, lines within the bound;
/// for a valid JSON array, one line per element, each that element.
fn json_document(data: &[u8]) {
    use logburst::internals::document::{Lines, MAX_ELEMENT};
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut Lines::new(data), &mut out).unwrap();
    assert!(out.is_empty() || out.ends_with(b"\n"));
    let lines: Vec<&[u8]> = out[..out.len().saturating_sub(1)]
        .split(|c| *c == b'\n')
        .filter(|_| !out.is_empty())
        .collect();
    assert!(lines
        .iter()
        .all(|l| !l.is_empty() && l.len() <= MAX_ELEMENT));
    if let Ok(items) = serde_json::from_slice::<Vec<serde_json::Value>>(data) {
        assert_eq!(lines.len(), items.len(), "{out:?}");
        for (line, item) in lines.iter().zip(&items) {
            assert_eq!(
                &serde_json::from_slice::<serde_json::Value>(line).unwrap(),
                item
            );
        }
    }
}

/// The nginx error-log parser on arbitrary lines.
pub fn nginx_error(data: &[u8]) {
    use logburst::internals::format::nginx_error;
    for line in data.split(|c| *c == b'\n') {
        if let Some(e) = nginx_error::parse_line(line) {
            // The stamp is the first 19 bytes, a real date.
            assert_eq!(line[4], b'/');
            if let Some((_, who)) = e.event {
                assert!(!who.is_empty());
            }
        }
    }
}

/// Application lines (stamps, JSON) and the signal table on arbitrary
/// lines.
pub fn app(data: &[u8]) {
    use logburst::internals::format::{app, signals::Signals};
    thread_local! {
        static SIGNALS: Signals = Signals::new(&[]).unwrap();
    }
    for line in data.split(|c| *c == b'\n') {
        let _ = app::parse(line);
        SIGNALS.with(|s| {
            if let Some(f) = s.find(line, false) {
                assert!(!f.name.is_empty());
                assert!(f.text.len() <= line.len());
            }
            // Only the user's own signals in a kernel message: none here.
            assert!(s.find(line, true).is_none());
        });
    }
}

/// Container envelopes: opening any line does not panic, and a block out
/// of its envelope has exactly one line for each line in it, in either
/// mode, whatever the pieces.
pub fn envelope(data: &[u8]) {
    use logburst::internals::chunk;
    use logburst::internals::envelope::{open, unwrap_into, Envelope, Mode, Wrapping};
    let lines = chunk::lines(data).count();
    let mut out = Vec::new();
    for e in Envelope::ALL {
        for line in chunk::lines(data) {
            if let Some(o) = open(e, line) {
                assert!(!o.line.contains(&b'\n'), "{e:?}");
            }
        }
        for mode in [Mode::Bare, Mode::Stamped] {
            unwrap_into(Wrapping { envelope: e, mode }, data, &mut out);
            assert_eq!(chunk::lines(&out).count(), lines, "{e:?} {mode:?}");
            assert!(out.is_empty() || out.ends_with(b"\n"));
        }
    }
}

/// Summaries (`--save-summary`, `logburst merge`) and cron states read from
/// disk: whatever is accepted analyses without a panic, alone and merged
/// with itself, and writes back to an equal value.
pub fn summary(data: &[u8]) {
    use logburst::internals::summary::Summary;
    let _ = logburst::internals::state::State::from_json(data);
    series(data);
    let Ok(s) = Summary::from_json(data) else {
        return;
    };
    let again = serde_json::to_vec(&s).unwrap();
    assert_eq!(Summary::from_json(&again).unwrap(), s);
    let config = Config {
        overview: true,
        minutes: true,
        ..Config::default()
    };
    let twice = s.clone().merge(s.clone()).unwrap();
    for s in [s, twice] {
        let a = logburst::internals::run::finish(s, &config).unwrap();
        outputs_are_safe(&a);
    }
}

/// The same bytes as a pre-aggregated series (`merge --series`): every
/// row read or counted malformed, the counts within bounds, the summary
/// it gives written and read back whole and analysed safely.
fn series(data: &[u8]) {
    use logburst::internals::summary::Summary;
    let Ok(s) = logburst::internals::series_csv::from_csv(data, "fuzz.csv".into()) else {
        return;
    };
    let t = &s.inputs[0].tally;
    assert_eq!(t.lines, t.parsed + t.malformed);
    for series in s.buckets.series.values() {
        assert!(series.errors <= series.requests);
    }
    let again = serde_json::to_vec(&s).unwrap();
    assert_eq!(Summary::from_json(&again).unwrap(), s);
    let config = Config {
        overview: true,
        ..Config::default()
    };
    let a = logburst::internals::run::finish(s, &config).unwrap();
    outputs_are_safe(&a);
}

/// The W3C extended reader on arbitrary input: its layout taken from a
/// `#Fields:` line of the data (if any), every line parsed with it, and the
/// details of each read again; no panic, statuses in range, `#Fields:`
/// lines changing the layout as they come.
pub fn w3c(data: &[u8]) {
    use logburst::internals::format::{registry, w3c};
    let years = YearRule {
        fixed: None,
        reference: (2023, 2, 28),
        boot: None,
        written: None,
    };
    let seed = registry::seeds(data).remove(&Format::W3c);
    let _ = format::detect(data, &years);
    let mut p = LineParser::new(Format::W3c, years).seeded(seed.clone());
    for line in data.split(|c| *c == b'\n') {
        let _ = w3c::layout(line);
        if let Some(Line::Request(r) | Line::Routed(r, _)) = p.parse(line) {
            // A status, or CloudFront's `000` (no response).
            assert!(
                (100..=599).contains(&r.status)
                    || r.status == logburst::internals::event::NO_RESPONSE
            );
            // UTC, or local at a `#GMT-Offset:` directive's offset.
            assert!(r.offset.abs() < 24 * 3600, "{}", r.offset);
        }
        if let Some(Line::Routed(_, route)) = p.parse(line) {
            assert!(!route.name.is_empty() && route.key().len() <= 8 + 4 * 120);
        }
        detail_is_clean(&format::Detail::of(Format::W3c, &[], seed.as_ref(), line));
    }
}

/// BGZF members (a `.gz` from `bgzip`, inflated on every core): whatever
/// the parallel decoder accepts is exactly what the sequential gzip
/// decoder gives for the same bytes, and nothing panics.
pub fn bgzf(data: &[u8]) {
    use std::io::Read;
    let (inflated, whole) = logburst::internals::source::inflate_members(data);
    let Ok(content) = inflated else {
        return;
    };
    let mut sequential = Vec::new();
    let read = flate2::read::MultiGzDecoder::new(&data[..whole]).read_to_end(&mut sequential);
    if whole > 0 {
        assert!(
            read.is_ok(),
            "the sequential decoder refuses what was accepted"
        );
    }
    assert!(
        content == sequential,
        "{} bytes, the sequential decoder {}",
        content.len(),
        sequential.len()
    );
}
