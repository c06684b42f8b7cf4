//! Custom nginx access-log formats: a `log_format` string compiled at
//! start-up into a matcher for the lines it writes, and the `log_format` /
//! `access_log` directives read out of an `nginx.conf`.
//!
//! nginx writes a line by concatenating the format's literal text with each
//! variable's value. Some variables have a fixed rendering (`$time_local`,
//! `$status`, `$msec`…); the others are free text, escaped according to the
//! format's `escape=` parameter. A line is matched token by token: a literal
//! must be there as written, a fixed-rendering variable is read by its shape,
//! and a free-text variable runs to the next occurrence of the literal that
//! follows it (skipping quotes escaped as `\"` under `escape=json`). Only the
//! fields the pipeline uses are kept; every other variable is accepted and
//! skipped.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::event::Request;
use crate::time::{self, ClfCache, OffsetSecs};

/// nginx's `escape=` parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escape {
    /// `"`, `\`, control and non-ASCII bytes as `\xHH`; an unset variable is `-`.
    Default,
    /// JSON string escapes (`\"`, `\\`, `\u00XX`); an unset variable is empty.
    Json,
    /// Raw bytes.
    None,
}

/// How a variable's value is recognised in a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// `28/Sep/1970:12:00:00 +0600`: 26 bytes.
    TimeLocal,
    /// `1970-09-28T12:00:00+06:00`: 25 bytes.
    TimeIso,
    /// Seconds since the epoch with milliseconds: `1730614169.123`.
    Msec,
    /// Three digits.
    Status,
    /// Digits, possibly with a fraction (`0.003`), or `-`.
    Number,
    /// Anything but a space (`$remote_addr`).
    Word,
    /// `p` or `.` (`$pipe`).
    Pipe,
    /// Free text up to the next literal.
    Text,
}

/// What the pipeline takes from a variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Time,
    Status,
    /// One of the [`Fields`] kept by name.
    Named(Named),
    Skip,
}

/// The variables read besides the time and status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Named {
    Request,
    Host,
    UpstreamStatus,
    RequestTime,
    UpstreamResponseTime,
    UpstreamAddr,
    RemoteAddr,
    RequestUri,
    Uri,
    ProxyUpstreamName,
    ServerName,
}

fn named(var: &str) -> Option<Named> {
    Some(match var {
        "request" => Named::Request,
        "host" => Named::Host,
        "upstream_status" => Named::UpstreamStatus,
        "request_time" => Named::RequestTime,
        "upstream_response_time" => Named::UpstreamResponseTime,
        "upstream_addr" => Named::UpstreamAddr,
        "remote_addr" => Named::RemoteAddr,
        "request_uri" => Named::RequestUri,
        "uri" => Named::Uri,
        "proxy_upstream_name" => Named::ProxyUpstreamName,
        "server_name" => Named::ServerName,
        _ => return None,
    })
}

/// What a line of a custom format holds of interest: the request (time and
/// status) and, raw as written, the other variables the pipeline may use.
/// A variable the format lacks is `None`; an unset one is as nginx wrote
/// it (`-`, or empty under `escape=json`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fields<'a> {
    pub request: Option<&'a [u8]>,
    pub host: Option<&'a [u8]>,
    pub upstream_status: Option<&'a [u8]>,
    pub request_time: Option<&'a [u8]>,
    pub upstream_response_time: Option<&'a [u8]>,
    pub upstream_addr: Option<&'a [u8]>,
    pub remote_addr: Option<&'a [u8]>,
    pub request_uri: Option<&'a [u8]>,
    pub uri: Option<&'a [u8]>,
    pub proxy_upstream_name: Option<&'a [u8]>,
    pub server_name: Option<&'a [u8]>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Literal(Vec<u8>),
    Var {
        name: String,
        shape: Shape,
        field: Field,
    },
}

/// A compiled `log_format`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[warn(missing_docs)]
pub struct LogFormat {
    /// The name given in `nginx.conf`, or `custom`.
    pub name: String,
    /// How variables' values are escaped (`escape=` of `log_format`).
    pub escape: Escape,
    tokens: Vec<Token>,
    time_shape: Shape,
}

/// Why a format string cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
#[warn(missing_docs)]
pub struct CompileError(pub String);

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CompileError {}

fn shape_of(var: &str) -> Shape {
    match var {
        "time_local" => Shape::TimeLocal,
        "time_iso8601" => Shape::TimeIso,
        "msec" => Shape::Msec,
        "status" => Shape::Status,
        "body_bytes_sent"
        | "bytes_sent"
        | "request_length"
        | "connection"
        | "connection_requests"
        | "pid"
        | "request_time"
        | "content_length"
        | "server_port"
        | "remote_port"
        | "proxy_protocol_port"
        | "proxy_protocol_server_port"
        | "connections_active"
        | "connections_reading"
        | "connections_writing"
        | "connections_waiting"
        | "limit_rate" => Shape::Number,
        "remote_addr"
        | "binary_remote_addr"
        | "realip_remote_addr"
        | "server_addr"
        | "proxy_protocol_addr"
        | "proxy_protocol_server_addr"
        | "request_id"
        | "scheme"
        | "server_protocol"
        | "request_method"
        | "https"
        | "ssl_protocol"
        | "ssl_cipher"
        | "ssl_session_reused" => Shape::Word,
        "pipe" => Shape::Pipe,
        _ => Shape::Text,
    }
}

/// Splits a format string into literals and `$name` / `${name}` variables.
fn tokenize(spec: &str) -> Result<Vec<(bool, String)>, CompileError> {
    let b = spec.as_bytes();
    let mut out: Vec<(bool, String)> = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            let ch = spec[i..].chars().next().expect("in bounds");
            lit.push(ch);
            i += ch.len_utf8();
            continue;
        }
        let (name, next) = if b.get(i + 1) == Some(&b'{') {
            let end = spec[i + 2..]
                .find('}')
                .ok_or_else(|| CompileError(format!("unclosed ${{ at byte {i}")))?;
            (&spec[i + 2..i + 2 + end], i + 3 + end)
        } else {
            let len = b[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count();
            (&spec[i + 1..i + 1 + len], i + 1 + len)
        };
        if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
            return Err(CompileError(format!(
                "'$' at byte {i} is not followed by a variable name"
            )));
        }
        if !lit.is_empty() {
            out.push((false, std::mem::take(&mut lit)));
        }
        out.push((true, name.to_string()));
        i = next;
    }
    if !lit.is_empty() {
        out.push((false, lit));
    }
    Ok(out)
}

impl LogFormat {
    /// Compiles a `log_format` string as nginx would use it.
    pub fn compile(name: &str, spec: &str, escape: Escape) -> Result<LogFormat, CompileError> {
        let raw = tokenize(spec)?;
        let mut tokens = Vec::with_capacity(raw.len());
        let mut time_shape = None;
        let mut has_status = false;
        for (is_var, text) in raw {
            if !is_var {
                tokens.push(Token::Literal(text.into_bytes()));
                continue;
            }
            let shape = shape_of(&text);
            let field = match shape {
                Shape::TimeLocal | Shape::TimeIso | Shape::Msec if time_shape.is_none() => {
                    time_shape = Some(shape);
                    Field::Time
                }
                Shape::Status if !has_status => {
                    has_status = true;
                    Field::Status
                }
                _ => named(&text).map_or(Field::Skip, Field::Named),
            };
            tokens.push(Token::Var {
                name: text,
                shape,
                field,
            });
        }
        let Some(time_shape) = time_shape else {
            return Err(CompileError(
                "the format has no time: it needs $time_local, $time_iso8601 or $msec".into(),
            ));
        };
        if !has_status {
            return Err(CompileError("the format has no $status".into()));
        }
        // A word (no spaces) is read as free text when a literal follows:
        // the literal bounds it better than the first space (`"$scheme"`).
        for i in 0..tokens.len() {
            let next_is_var = matches!(tokens.get(i + 1), Some(Token::Var { .. }));
            if let Token::Var { shape, .. } = &mut tokens[i] {
                if *shape == Shape::Word && !next_is_var {
                    *shape = Shape::Text;
                }
            }
        }
        for w in tokens.windows(2) {
            if let [Token::Var {
                name: a,
                shape: Shape::Text,
                ..
            }, Token::Var { name: b, .. }] = w
            {
                return Err(CompileError(format!(
                    "${a} is followed directly by ${b}: there is no way to tell where ${a} ends"
                )));
            }
        }
        Ok(LogFormat {
            name: name.to_string(),
            escape,
            tokens,
            time_shape,
        })
    }

    /// The variables of the format, in order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.tokens.iter().filter_map(|t| match t {
            Token::Var { name, .. } => Some(name.as_str()),
            Token::Literal(_) => None,
        })
    }

    /// Reads the time and status of a line written with this format.
    pub fn parse(&self, line: &[u8], cache: &mut ClfCache) -> Option<Request> {
        self.parse_fields(line, cache).map(|(r, _)| r)
    }

    /// Reads the request and the other variables the pipeline may use.
    pub fn parse_fields<'a>(
        &self,
        line: &'a [u8],
        cache: &mut ClfCache,
    ) -> Option<(Request, Fields<'a>)> {
        let mut pos = 0;
        let mut time: Option<(i64, OffsetSecs)> = None;
        let mut status = None;
        let mut fields = Fields::default();
        for (i, tok) in self.tokens.iter().enumerate() {
            match tok {
                Token::Literal(l) => {
                    if !starts(&line[pos..], l) {
                        return None;
                    }
                    pos += l.len();
                }
                Token::Var { shape, field, .. } => {
                    let rest = &line[pos..];
                    let len = match shape {
                        Shape::Text => self.text_len(rest, self.tokens.get(i + 1))?,
                        s => shape_len(*s, rest)?,
                    };
                    let value = &rest[..len];
                    match field {
                        Field::Time => time = Some(read_time(self.time_shape, value, cache)?),
                        Field::Status => status = Some(status_of(value)?),
                        Field::Named(n) => {
                            let slot = match n {
                                Named::Request => &mut fields.request,
                                Named::Host => &mut fields.host,
                                Named::UpstreamStatus => &mut fields.upstream_status,
                                Named::RequestTime => &mut fields.request_time,
                                Named::UpstreamResponseTime => &mut fields.upstream_response_time,
                                Named::UpstreamAddr => &mut fields.upstream_addr,
                                Named::RemoteAddr => &mut fields.remote_addr,
                                Named::RequestUri => &mut fields.request_uri,
                                Named::Uri => &mut fields.uri,
                                Named::ProxyUpstreamName => &mut fields.proxy_upstream_name,
                                Named::ServerName => &mut fields.server_name,
                            };
                            slot.get_or_insert(value);
                        }
                        Field::Skip => {}
                    }
                    pos += len;
                }
            }
        }
        // nginx ends the line after the format; tolerate trailing spaces.
        if line[pos..].iter().any(|c| *c != b' ') {
            return None;
        }
        let (utc, offset) = time?;
        let latency_ms = fields
            .request_time
            .or(fields.upstream_response_time)
            .and_then(crate::event::millis_of_seconds);
        let request = Request {
            utc,
            offset,
            status: status?,
            latency_ms,
        };
        Some((request, fields))
    }

    /// Length of a free-text value at the start of `rest`: up to the next
    /// literal, or the rest of the line when the variable ends the format.
    fn text_len(&self, rest: &[u8], next: Option<&Token>) -> Option<usize> {
        let lit = match next {
            None => return Some(rest.len()),
            Some(Token::Literal(l)) => l,
            Some(Token::Var { .. }) => return None, // refused at compile time
        };
        // First byte, then the rest: a searcher built per line cost a
        // fifth of the parse; values are short, the first hit the one.
        let first = *lit.first()?;
        let mut from = 0;
        loop {
            let p = from + memchr::memchr(first, &rest[from..])?;
            from = p + 1;
            if !starts(&rest[p..], lit) {
                continue;
            }
            // Under escape=json a quote inside a value is written `\"`: a
            // match that starts with an escaped quote is inside the value.
            if self.escape == Escape::Json && first == b'"' && escaped(rest, p) {
                continue;
            }
            return Some(p);
        }
    }
}

/// Whether `b` starts with `lit`: literals are a few bytes, under a `memcmp` call.
#[inline]
fn starts(b: &[u8], lit: &[u8]) -> bool {
    b.len() >= lit.len() && lit.iter().zip(b).all(|(x, y)| x == y)
}

/// Whether the byte at `p` is preceded by an odd number of backslashes.
fn escaped(b: &[u8], p: usize) -> bool {
    b[..p].iter().rev().take_while(|c| **c == b'\\').count() % 2 == 1
}

fn shape_len(shape: Shape, b: &[u8]) -> Option<usize> {
    let digits = |b: &[u8]| b.iter().take_while(|c| c.is_ascii_digit()).count();
    match shape {
        Shape::TimeLocal => (b.len() >= 26).then_some(26),
        Shape::TimeIso => (b.len() >= 25).then_some(25),
        Shape::Msec => {
            let n = digits(b);
            (n > 0 && b.get(n) == Some(&b'.') && digits(&b[n + 1..]) == 3).then_some(n + 4)
        }
        Shape::Status => (b.len() >= 3 && digits(&b[..3]) == 3).then_some(3),
        Shape::Number => {
            if b.first() == Some(&b'-') {
                return Some(1);
            }
            let n = digits(b);
            if n == 0 {
                // Unset under escape=json/none: empty.
                return Some(0);
            }
            match b.get(n) {
                Some(b'.') => Some(n + 1 + digits(&b[n + 1..])),
                _ => Some(n),
            }
        }
        Shape::Word => Some(b.iter().take_while(|c| **c != b' ').count()),
        Shape::Pipe => matches!(b.first(), Some(b'p' | b'.')).then_some(1),
        Shape::Text => None,
    }
}

fn read_time(shape: Shape, v: &[u8], cache: &mut ClfCache) -> Option<(i64, OffsetSecs)> {
    match shape {
        Shape::TimeLocal => cache.parse(v),
        Shape::TimeIso => {
            let (s, used) = time::parse_iso(v)?;
            let off = s.offset?;
            (used == v.len()).then_some((s.naive - off as i64, off))
        }
        Shape::Msec => {
            let dot = v.iter().position(|c| *c == b'.')?;
            let secs: i64 = std::str::from_utf8(&v[..dot]).ok()?.parse().ok()?;
            Some((secs, 0))
        }
        _ => None,
    }
}

fn status_of(v: &[u8]) -> Option<u16> {
    let d = |c: u8| c.is_ascii_digit().then(|| (c - b'0') as u16);
    Some(d(v[0])? * 100 + d(v[1])? * 10 + d(v[2])?)
}

/// A `log_format` directive found in a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
#[warn(missing_docs)]
pub struct ConfFormat {
    /// The format's name.
    pub name: String,
    /// Its `escape=` parameter.
    pub escape: Escape,
    /// The format string, its quoted parts joined.
    pub spec: String,
}

/// What an `nginx.conf` says about access logs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[warn(missing_docs)]
pub struct Conf {
    /// The `log_format` directives.
    pub formats: Vec<ConfFormat>,
    /// `access_log PATH [FORMAT]`: the path and the format name (`combined`
    /// when none is given).
    pub access_logs: Vec<(String, String)>,
    /// `include` directives, which are not followed.
    pub includes: Vec<String>,
}

/// Splits configuration text into directives: each a list of words, quotes
/// removed and escapes resolved, comments dropped. Blocks (`{ … }`) are
/// flattened: the directives inside them are listed in order.
fn directives(text: &str) -> Result<Vec<Vec<String>>, CompileError> {
    let mut out = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut chars = text.char_indices().peekable();
    let line_of = |at: usize| text[..at].matches('\n').count() + 1;
    while let Some((at, c)) = chars.next() {
        match c {
            '#' => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            ';' => out.push(std::mem::take(&mut words)),
            '{' | '}' => {
                // A block opens after its directive's words; neither the
                // words nor the braces matter here.
                words.clear();
            }
            c if c.is_whitespace() => {}
            '"' | '\'' => {
                let quote = c;
                let mut w = String::new();
                loop {
                    match chars.next() {
                        None => {
                            return Err(CompileError(format!(
                                "unclosed {quote} quote starting on line {}",
                                line_of(at)
                            )))
                        }
                        Some((_, '\\')) => match chars.next() {
                            Some((_, 'n')) => w.push('\n'),
                            Some((_, 't')) => w.push('\t'),
                            Some((_, 'r')) => w.push('\r'),
                            Some((_, e)) if e == quote || e == '\\' => w.push(e),
                            Some((_, e)) => {
                                w.push('\\');
                                w.push(e);
                            }
                            None => {}
                        },
                        Some((_, c)) if c == quote => break,
                        Some((_, c)) => w.push(c),
                    }
                }
                // Adjacent quoted strings of one directive stay separate
                // words; log_format joins them.
                words.push(w);
            }
            _ => {
                let mut w = String::from(c);
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_whitespace() || matches!(c, ';' | '{' | '}' | '"' | '\'') {
                        break;
                    }
                    w.push(c);
                    chars.next();
                }
                words.push(w);
            }
        }
    }
    Ok(out)
}

/// Reads the `log_format`, `access_log` and `include` directives of an
/// nginx configuration.
pub fn read_conf(text: &str) -> Result<Conf, CompileError> {
    let mut conf = Conf::default();
    for d in directives(text)? {
        match d.first().map(String::as_str) {
            Some("log_format") if d.len() >= 3 => {
                let name = d[1].clone();
                let mut rest = &d[2..];
                let mut escape = Escape::Default;
                if let Some(e) = rest[0].strip_prefix("escape=") {
                    escape = match e {
                        "default" => Escape::Default,
                        "json" => Escape::Json,
                        "none" => Escape::None,
                        other => {
                            return Err(CompileError(format!(
                                "log_format {name}: unknown escape={other}"
                            )))
                        }
                    };
                    rest = &rest[1..];
                }
                conf.formats.push(ConfFormat {
                    name,
                    escape,
                    spec: rest.concat(),
                });
            }
            Some("access_log") if d.len() >= 2 && d[1] != "off" => {
                let format = d
                    .get(2)
                    .filter(|w| !w.contains('='))
                    .cloned()
                    .unwrap_or_else(|| "combined".into());
                conf.access_logs.push((d[1].clone(), format));
            }
            Some("include") if d.len() >= 2 => conf.includes.push(d[1].clone()),
            _ => {}
        }
    }
    Ok(conf)
}

/// Reads an nginx configuration file and the files it includes (relative
/// paths from the file's directory; `*` in the last component), merging
/// their directives. Includes that cannot be found are listed in the
/// returned warnings rather than failing the run: a configuration copied
/// off a server often lacks them.
#[warn(missing_docs)]
pub fn load_conf(path: &Path) -> Result<(Conf, Vec<String>), CompileError> {
    let mut conf = Conf::default();
    let mut warnings = Vec::new();
    load_into(path, &mut conf, &mut warnings, 0)?;
    Ok((conf, warnings))
}

fn load_into(
    path: &Path,
    conf: &mut Conf,
    warnings: &mut Vec<String>,
    depth: usize,
) -> Result<(), CompileError> {
    if depth > 16 {
        return Err(CompileError(format!(
            "{}: includes nested more than 16 deep",
            path.display()
        )));
    }
    // nginx.conf files are kilobytes: 16 MiB is no config.
    let text =
        crate::limits::read_limited(path, "configuration", 16 << 20, None).map_err(
            |e| match e {
                crate::limits::ReadError::Io(e) => {
                    CompileError(format!("cannot read {}: {e}", path.display()))
                }
                crate::limits::ReadError::Refused(why) => CompileError(why),
            },
        )?;
    let text = String::from_utf8_lossy(&text);
    let found = read_conf(&text).map_err(|e| CompileError(format!("{}: {e}", path.display())))?;
    conf.formats.extend(found.formats);
    conf.access_logs.extend(found.access_logs);
    let dir = path.parent().unwrap_or(Path::new("."));
    for inc in found.includes {
        let files = expand_include(dir, &inc);
        if files.is_empty() && !inc.contains('*') {
            warnings.push(format!(
                "{}: include {inc} not found; its log_format directives are not known",
                path.display()
            ));
        }
        for f in files {
            load_into(&f, conf, warnings, depth + 1)?;
        }
        conf.includes.push(inc);
    }
    Ok(())
}

/// The files an `include` names: a path, or a `*` pattern in its last
/// component, sorted as nginx reads them.
fn expand_include(dir: &Path, pattern: &str) -> Vec<PathBuf> {
    let p = dir.join(pattern);
    let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    if !name.contains('*') {
        return if p.is_file() { vec![p] } else { Vec::new() };
    }
    let (pre, post) = name.split_once('*').expect("has *");
    let post = post.replace('*', "");
    let parent = p.parent().unwrap_or(Path::new("."));
    let mut out: Vec<PathBuf> = std::fs::read_dir(parent)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|f| {
                    f.is_file()
                        && f.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                            n.len() >= pre.len() + post.len()
                                && n.starts_with(pre)
                                && n.ends_with(&post)
                        })
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Compiles a `--nginx-log-format` argument: the format string as written
/// after the name in `log_format`, optionally starting with `escape=…`.
#[warn(missing_docs)]
pub fn compile_arg(name: &str, arg: &str) -> Result<LogFormat, CompileError> {
    let t = arg.trim_start();
    let (escape, spec) = match t.strip_prefix("escape=") {
        Some(rest) => {
            let (e, spec) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let escape = match e {
                "default" => Escape::Default,
                "json" => Escape::Json,
                "none" => Escape::None,
                other => return Err(CompileError(format!("unknown escape={other}"))),
            };
            (escape, spec.trim_start())
        }
        None => (Escape::Default, arg),
    };
    LogFormat::compile(name, spec, escape)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(f: &LogFormat, line: &str) -> Option<(i64, OffsetSecs, u16)> {
        f.parse(line.as_bytes(), &mut ClfCache::default())
            .map(|r| (r.utc, r.offset, r.status))
    }

    const T: i64 = 1_675_310_422; // 2023-02-02T04:00:22Z

    #[test]
    fn combined_as_a_custom_format() {
        let f = LogFormat::compile(
            "combined",
            r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#,
            Escape::Default,
        )
        .unwrap();
        assert_eq!(
            req(
                &f,
                r#"10.0.0.1 - jo doe [02/Feb/2023:07:00:22 +0300] "GET /a\x22b HTTP/1.1" 502 12 "-" "curl [x] 8""#
            ),
            Some((T, 10_800, 502))
        );
        assert_eq!(
            req(
                &f,
                r#"10.0.0.1 - - [02/Feb/2023:07:00:22 +0300] "GET /" 502 12 "-""#
            ),
            None
        );
    }

    #[test]
    fn timing_fields_and_iso_time() {
        let f = LogFormat::compile(
            "timed",
            "$time_iso8601 $host $status rt=$request_time uct=\"$upstream_connect_time\" urt=\"$upstream_response_time\" ua=$upstream_addr us=$upstream_status",
            Escape::Default,
        )
        .unwrap();
        assert_eq!(
            req(
                &f,
                r#"2023-02-02T07:00:22+03:00 shop.example 504 rt=60.001 uct="0.001, -" urt="60.000, 0.000" ua=10.0.0.5:80, 10.0.0.6:80 us=504, 502"#
            ),
            Some((T, 10_800, 504))
        );
    }

    #[test]
    fn the_fields_the_pipeline_uses_are_extracted() {
        let f = LogFormat::compile(
            "timed",
            r#"$remote_addr $host [$time_local] "$request" $status rt=$request_time ua="$upstream_addr" us="$upstream_status" urt="$upstream_response_time""#,
            Escape::Default,
        )
        .unwrap();
        let line = br#"2001:db8::1 shop.example [02/Feb/2023:07:00:22 +0300] "GET /a b HTTP/1.1" 502 rt=0.004 ua="10.0.0.5:80, 10.0.0.6:80" us="502, 502" urt="0.001, 0.003""#;
        let (r, x) = f.parse_fields(line, &mut ClfCache::default()).unwrap();
        assert_eq!((r.utc, r.status), (T, 502));
        assert_eq!(x.remote_addr, Some(&b"2001:db8::1"[..]));
        assert_eq!(x.host, Some(&b"shop.example"[..]));
        assert_eq!(x.request, Some(&b"GET /a b HTTP/1.1"[..]));
        assert_eq!(x.request_time, Some(&b"0.004"[..]));
        assert_eq!(x.upstream_addr, Some(&b"10.0.0.5:80, 10.0.0.6:80"[..]));
        assert_eq!(x.upstream_status, Some(&b"502, 502"[..]));
        assert_eq!(x.upstream_response_time, Some(&b"0.001, 0.003"[..]));
        // The backend that answered last is the route, before the vhost.
        assert_eq!(
            x.route().map(|r| r.key()).as_deref(),
            Some("backend 10.0.0.6:80")
        );
        // No upstream picked: on no route, not on the vhost's.
        let x = Fields {
            upstream_addr: Some(b"-"),
            ..x
        };
        assert_eq!(x.route().map(|r| r.key()), None);
        assert_eq!(
            Fields {
                upstream_addr: None,
                ..x
            }
            .route()
            .map(|r| r.key())
            .as_deref(),
            Some("vhost shop.example")
        );
        let x = Fields {
            proxy_upstream_name: Some(b"default-shop-80"),
            ..x
        };
        assert_eq!(
            x.route().map(|r| r.key()).as_deref(),
            Some("upstream default-shop-80")
        );
        let g = LogFormat::compile("t", "$time_local $status", Escape::Default).unwrap();
        let (_, none) = g
            .parse_fields(b"02/Feb/2023:07:00:22 +0300 200", &mut ClfCache::default())
            .unwrap();
        assert_eq!(none, Fields::default());
    }

    #[test]
    fn json_template_with_escaped_quotes_and_msec() {
        let f = LogFormat::compile(
            "json",
            r#"{"t":"$msec","status":$status,"req":"$request","ua":"$http_user_agent","urt":"$upstream_response_time"}"#,
            Escape::Json,
        )
        .unwrap();
        assert_eq!(
            req(
                &f,
                r#"{"t":"1675310422.123","status":500,"req":"GET /q?a=\"x\",\"ua\":\"y HTTP/1.1","ua":"a \\\"quoted\\\" agent","urt":""}"#
            ),
            Some((T, 0, 500))
        );
    }

    #[test]
    fn json_escaped_quote_followed_by_the_next_literal() {
        let f = LogFormat::compile(
            "j",
            r#"{"request":"$request", "status":"$status", "time":"$time_local"}"#,
            Escape::Json,
        )
        .unwrap();
        // The request holds `", "status":"200` written with escaped quotes.
        let line = r#"{"request":"GET /\", \"status\":\"200", "status":"503", "time":"02/Feb/2023:07:00:22 +0300"}"#;
        assert_eq!(req(&f, line), Some((T, 10_800, 503)));
        // Under escape=default a quote in a value is written `\x22`.
        let d =
            LogFormat::compile("d", r#""$request" $status $time_local"#, Escape::Default).unwrap();
        assert_eq!(
            req(&d, r#""GET /a\x22 b" 200 02/Feb/2023:07:00:22 +0300"#),
            Some((T, 10_800, 200))
        );
    }

    /// The variables nginx documents (core, log, upstream, proxy, realip,
    /// ssl, limit, geo, map-free modules), each given a value of the shape
    /// nginx writes.
    const DOCUMENTED: &[&str] = &[
        "time_local",
        "time_iso8601",
        "msec",
        "status",
        "arg_id",
        "args",
        "binary_remote_addr",
        "body_bytes_sent",
        "bytes_sent",
        "connection",
        "connection_requests",
        "connection_time",
        "connections_active",
        "connections_reading",
        "connections_waiting",
        "connections_writing",
        "content_length",
        "content_type",
        "cookie_session",
        "document_root",
        "document_uri",
        "host",
        "hostname",
        "http_referer",
        "http_user_agent",
        "http_x_forwarded_for",
        "https",
        "is_args",
        "limit_rate",
        "nginx_version",
        "pid",
        "pipe",
        "proxy_protocol_addr",
        "proxy_protocol_port",
        "proxy_protocol_server_addr",
        "proxy_protocol_server_port",
        "query_string",
        "realpath_root",
        "remote_addr",
        "remote_port",
        "remote_user",
        "request",
        "request_body",
        "request_completion",
        "request_filename",
        "request_id",
        "request_length",
        "request_method",
        "request_time",
        "request_uri",
        "scheme",
        "sent_http_content_type",
        "sent_trailer_grpc_status",
        "server_addr",
        "server_name",
        "server_port",
        "server_protocol",
        "tcpinfo_rtt",
        "tcpinfo_rttvar",
        "tcpinfo_snd_cwnd",
        "tcpinfo_rcv_space",
        "uri",
        "upstream_addr",
        "upstream_bytes_received",
        "upstream_bytes_sent",
        "upstream_cache_status",
        "upstream_connect_time",
        "upstream_cookie_name",
        "upstream_header_time",
        "upstream_http_server",
        "upstream_last_server_name",
        "upstream_queue_time",
        "upstream_response_length",
        "upstream_response_time",
        "upstream_status",
        "upstream_trailer_grpc_status",
        "realip_remote_addr",
        "realip_remote_port",
        "ssl_cipher",
        "ssl_client_verify",
        "ssl_protocol",
        "ssl_server_name",
        "ssl_session_id",
        "ssl_session_reused",
        "limit_req_status",
        "limit_conn_status",
        "gzip_ratio",
        "proxy_add_x_forwarded_for",
        "proxy_host",
        "proxy_port",
        "date_local",
        "date_gmt",
        "fastcgi_script_name",
        "fastcgi_path_info",
        "geoip_country_code",
        "secure_link",
        "spdy",
        "http2",
        "http3",
        "invalid_referer",
        "jwt_claim_sub",
        "mqtt_preread_clientid",
        "ssl_preread_server_name",
        "memcached_key",
        "modern_browser",
        "msie",
        "sent_http_location",
        "server_protocol",
        "slice_range",
        "uid_got",
        "uid_set",
        "upstream_trailer_grpc_message",
    ];

    fn value_of(var: &str) -> String {
        match shape_of(var) {
            Shape::TimeLocal => "02/Feb/2023:07:00:22 +0300".into(),
            Shape::TimeIso => "2023-02-02T07:00:22+03:00".into(),
            Shape::Msec => "1675310422.000".into(),
            Shape::Status => "503".into(),
            Shape::Number => "0.004".into(),
            Shape::Word => "10.0.0.1".into(),
            Shape::Pipe => ".".into(),
            Shape::Text => format!("{var} value, with \\x22spaces\\x22 [and] brackets"),
        }
    }

    #[test]
    fn every_documented_variable_compiles_and_its_line_parses() {
        let spec: Vec<String> = DOCUMENTED.iter().map(|v| format!("{v}=\"${v}\"")).collect();
        let spec = spec.join(" ");
        let f = LogFormat::compile("everything", &spec, Escape::Default).unwrap();
        assert_eq!(f.variables().count(), DOCUMENTED.len());
        let line: Vec<String> = DOCUMENTED
            .iter()
            .map(|v| format!("{v}=\"{}\"", value_of(v)))
            .collect();
        assert_eq!(req(&f, &line.join(" ")), Some((T, 10_800, 503)));
        // And with ${braces}, unquoted, separated by " | ".
        let spec: Vec<String> = DOCUMENTED.iter().map(|v| format!("${{{v}}}")).collect();
        let f = LogFormat::compile("braces", &spec.join(" | "), Escape::Default).unwrap();
        let line: Vec<String> = DOCUMENTED.iter().map(|v| value_of(v)).collect();
        assert_eq!(req(&f, &line.join(" | ")), Some((T, 10_800, 503)));
    }

    #[test]
    fn refuses_formats_it_cannot_read() {
        assert!(
            LogFormat::compile("x", "$remote_addr $status", Escape::Default)
                .unwrap_err()
                .0
                .contains("no time")
        );
        assert!(
            LogFormat::compile("x", "$time_local $request", Escape::Default)
                .unwrap_err()
                .0
                .contains("$status")
        );
        assert!(
            LogFormat::compile("x", "$time_local $status $http_a$http_b", Escape::Default)
                .unwrap_err()
                .0
                .contains("directly")
        );
        assert!(LogFormat::compile("x", "$time_local $status ${oops", Escape::Default).is_err());
        assert!(LogFormat::compile("x", "$time_local $status $ ", Escape::Default).is_err());
    }

    #[test]
    fn reads_conf_directives() {
        let conf = read_conf(
            r#"
            http {
                # the stock one
                log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                                  '$status $body_bytes_sent "$http_referer" '
                                  '"$http_user_agent" "$http_x_forwarded_for"';
                log_format api escape=json '{"time":"$time_iso8601","status":$status}';
                include /etc/nginx/conf.d/*.conf;
                server {
                    access_log /var/log/nginx/access.log main;
                    access_log /var/log/nginx/api.log api buffer=32k;
                    access_log /var/log/nginx/plain.log;
                    access_log off;
                }
            }"#,
        )
        .unwrap();
        assert_eq!(conf.formats.len(), 2);
        assert_eq!(conf.formats[0].name, "main");
        assert!(conf.formats[0]
            .spec
            .ends_with(r#""$http_user_agent" "$http_x_forwarded_for""#));
        assert!(conf.formats[0].spec.contains(r#""$request" $status"#));
        assert_eq!(conf.formats[1].escape, Escape::Json);
        assert_eq!(
            conf.access_logs,
            vec![
                ("/var/log/nginx/access.log".to_string(), "main".to_string()),
                ("/var/log/nginx/api.log".to_string(), "api".to_string()),
                (
                    "/var/log/nginx/plain.log".to_string(),
                    "combined".to_string()
                ),
            ]
        );
        assert_eq!(conf.includes, vec!["/etc/nginx/conf.d/*.conf".to_string()]);
        assert!(read_conf("log_format x 'unclosed;").is_err());
    }
}
