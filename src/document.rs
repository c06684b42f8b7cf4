//! Pretty-printed JSON documents read as JSON lines: `kubectl get events
//! -o json` (a `List` whose `items` are the events), `gcloud logging read
//! --format=json` (an array of entries), `kubectl get events -o json
//! --watch` (one indented object after another). Each element of the list
//! (or each top-level object) becomes one line, its whitespace outside
//! strings dropped and its bytes otherwise kept, so the JSON-lines reader
//! takes it from there as if the file had gone through `jq -c`.
//!
//! The conversion streams: memory is one element at most
//! ([`MAX_ELEMENT`]; a longer one is cut there and reads as malformed),
//! whatever the document's size. Nothing is dropped: a document that is
//! not valid JSON still comes out as lines, which the reader counts as
//! malformed.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::source::{Body, Opened};

/// What the input's warnings say of a document read this way.
pub const NOTE: &str = "read as one JSON document (as kubectl or gcloud print with -o json, journalctl with -o json-pretty): each element of its list, or each top-level object, is a line; line numbers count them";

/// The most of one element kept; the rest of a longer one is dropped (the
/// line it makes is then not valid JSON and counts as malformed).
pub const MAX_ELEMENT: usize = 1 << 20;

/// Bytes read from the document at a time.
const CHUNK: usize = 64 << 10;

/// Whether content that begins with `head` is a JSON document rather than
/// JSON lines: an array of objects (`[` then `{` or `]`), an object whose
/// first line holds only its opening brace, or a Kubernetes list on one
/// line (`kubectl … -o json | jq -c .`: `{"apiVersion":…,"items":[…`).
pub fn looks_like(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let mut bytes = head.iter().skip_while(|b| b.is_ascii_whitespace());
    match bytes.next() {
        Some(b'[') => matches!(bytes.find(|b| !b.is_ascii_whitespace()), Some(b'{' | b']')),
        Some(b'{') => {
            let rest: Vec<u8> = bytes.take_while(|&&b| b != b'\n').copied().collect();
            let list = (rest.starts_with(b"\"apiVersion\":") || rest.starts_with(b"\"kind\":"))
                && memchr::memmem::find(&rest, b"\"items\":[").is_some();
            list || (rest.iter().all(u8::is_ascii_whitespace) && head.contains(&b'\n'))
        }
        _ => false,
    }
}

/// `opened` with its body as JSON lines when its content begins as a
/// JSON document does; true when it did. A mapped file is then read
/// through the map (its bytes counted in `raw_read`, as the map reader
/// would).
pub fn unwrap(opened: Opened) -> (Opened, bool) {
    let (body, document) = match opened.body {
        Body::Mapped(map, registration) if looks_like(&map[..map.len().min(CHUNK)]) => {
            let read = MapRead {
                map,
                at: 0,
                count: opened.raw_read.clone(),
                _registration: registration,
            };
            (Body::Stream(Box::new(Lines::new(read))), true)
        }
        Body::Mapped(map, registration) => (Body::Mapped(map, registration), false),
        Body::Stream(r) => {
            let mut r = BufReader::with_capacity(CHUNK, r);
            match r.fill_buf() {
                Ok(head) if looks_like(head) => (Body::Stream(Box::new(Lines::new(r))), true),
                Ok(_) => (Body::Stream(Box::new(r)), false),
                // Said where the content is read, as any read error is.
                Err(e) => (Body::Stream(Box::new(Failed(Some(e)))), false),
            }
        }
    };
    (Opened { body, ..opened }, document)
}

/// A read that failed while the content's first bytes were looked at:
/// the first read returns its error.
struct Failed(Option<io::Error>);

impl Read for Failed {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        self.0.take().map_or(Ok(0), Err)
    }
}

/// How often a mapped document lets go of the pages behind its reader.
const RELEASE_EVERY: usize = 4 << 20;

/// A mapped file read as a stream.
struct MapRead {
    map: Arc<memmap2::Mmap>,
    at: usize,
    count: Arc<AtomicU64>,
    /// Kept while the map is read (the SIGBUS handler's record).
    _registration: crate::mapped::Registration,
}

impl Read for MapRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = &self.map[self.at.min(self.map.len())..];
        let n = buf.len().min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        // The pages read are let go of (a mapped page stays resident
        // until then), every 4 MiB.
        if (self.at + n) / RELEASE_EVERY > self.at / RELEASE_EVERY {
            let mark = (self.at + n) / RELEASE_EVERY * RELEASE_EVERY;
            crate::chunk::release(&self.map, mark.saturating_sub(RELEASE_EVERY), mark);
        }
        self.at += n;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Where the scan is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Between top-level values.
    Top,
    /// In a top-level object, kept whole (one line) unless it turns out to
    /// be a list (`"items": [` after `apiVersion` or `kind`).
    Object,
    /// In a list's array whose elements sit at this depth.
    Items(u32),
    /// In a list after its `items`: the rest (`kind`, `metadata`) skipped.
    Rest,
    /// A top-level stretch that is not JSON: copied to its line's end.
    Raw,
}

/// A reader of JSON lines over a JSON document.
pub struct Lines<R> {
    inner: R,
    input: Vec<u8>,
    out: Vec<u8>,
    out_pos: usize,
    element: Vec<u8>,
    mode: Mode,
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// In a top-level object: the last string closed at depth 1, whether a
    /// `:` followed it, and whether `apiVersion` or `kind` was a key.
    key: Vec<u8>,
    after_colon: bool,
    typed: bool,
    eof: bool,
}

impl<R: Read> Lines<R> {
    /// The lines of the document `inner` reads.
    pub fn new(inner: R) -> Lines<R> {
        Lines {
            inner,
            input: vec![0; CHUNK],
            out: Vec::new(),
            out_pos: 0,
            element: Vec::new(),
            mode: Mode::Top,
            depth: 0,
            in_string: false,
            escaped: false,
            key: Vec::new(),
            after_colon: false,
            typed: false,
            eof: false,
        }
    }

    /// Keeps a byte of the current element (whitespace outside strings
    /// dropped; a raw line break inside one, not valid JSON, made a space).
    fn keep(&mut self, b: u8, in_string: bool) {
        if !in_string && b.is_ascii_whitespace() && self.mode != Mode::Raw {
            return;
        }
        let b = if matches!(b, b'\n' | b'\r') { b' ' } else { b };
        if self.element.len() < MAX_ELEMENT {
            self.element.push(b);
        }
    }

    /// Ends the current element: one line out.
    fn emit(&mut self) {
        if !self.element.is_empty() {
            self.out.extend_from_slice(&self.element);
            self.out.push(b'\n');
        }
        self.element.clear();
    }

    /// One byte of the document.
    fn step(&mut self, b: u8) {
        if self.mode == Mode::Raw {
            if b == b'\n' {
                self.emit();
                self.mode = Mode::Top;
            } else {
                self.keep(b, true);
            }
            return;
        }
        let was_in_string = self.in_string;
        if was_in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
            }
        }
        if self.mode == Mode::Top {
            match b {
                b'{' => {
                    (self.mode, self.depth) = (Mode::Object, 1);
                    (self.typed, self.after_colon) = (false, false);
                    self.key.clear();
                    self.keep(b, false);
                }
                b'[' => (self.mode, self.depth) = (Mode::Items(1), 1),
                _ if b.is_ascii_whitespace() => {}
                _ => {
                    self.mode = Mode::Raw;
                    self.keep(b, true);
                }
            }
            return;
        }
        let before = self.depth;
        if was_in_string {
            if self.in_string && self.mode == Mode::Object && before == 1 && self.key.len() < 64 {
                self.key.push(b);
            }
        } else if self.structure(b) {
            return;
        }
        let after = self.depth;
        let closing = !was_in_string && matches!(b, b'}' | b']');
        match self.mode {
            Mode::Object => {
                self.keep(b, was_in_string);
                if after == 0 {
                    self.emit();
                    self.mode = Mode::Top;
                }
            }
            Mode::Items(d) if after < d => {
                // The list's array ended (a scalar before it ends too).
                self.emit();
                self.mode = if d == 1 { Mode::Top } else { Mode::Rest };
            }
            Mode::Items(d) if closing && after == d => {
                self.keep(b, false);
                self.emit();
            }
            Mode::Items(d) if before == d && !was_in_string && b == b',' => self.emit(),
            Mode::Items(_) => self.keep(b, was_in_string),
            Mode::Rest if after == 0 => self.mode = Mode::Top,
            _ => {}
        }
    }

    /// A byte outside strings: depth and keys. True when it opened a
    /// list's array (the byte is then no element's).
    fn structure(&mut self, b: u8) -> bool {
        let top_object = self.mode == Mode::Object && self.depth == 1;
        match b {
            b'"' => {
                self.in_string = true;
                if top_object {
                    self.key.clear();
                    self.after_colon = false;
                }
            }
            b'[' if top_object && self.after_colon && self.typed && self.key == b"items" => {
                // A list: its elements are the lines, the rest dropped.
                self.element.clear();
                (self.mode, self.depth) = (Mode::Items(2), 2);
                return true;
            }
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => self.depth = self.depth.saturating_sub(1),
            b':' if top_object => {
                self.after_colon = true;
                self.typed |= self.key == b"apiVersion" || self.key == b"kind";
            }
            _ => {}
        }
        false
    }
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
            if self.eof {
                return Ok(0);
            }
            let n = match self.inner.read(&mut self.input) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                // What is left of an unfinished document is a line too.
                self.eof = true;
                self.emit();
                continue;
            }
            for i in 0..n {
                self.step(self.input[i]);
            }
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(doc: &str) -> String {
        let mut out = String::new();
        Lines::new(doc.as_bytes()).read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn documents_are_told_from_json_lines() {
        assert!(looks_like(b"{\n    \"apiVersion\": \"v1\",\n"));
        assert!(looks_like(b"\xEF\xBB\xBF[\n  {\n"));
        assert!(looks_like(b"[{\"a\":1}]"));
        assert!(looks_like(b"  []\n"));
        assert!(!looks_like(b"{\"status\":502}\n{\"status\":200}\n"));
        assert!(!looks_like(b"[Wed Oct 11 14:32:52 2000] [error] x\n"));
        assert!(!looks_like(b"[2023-02-02 07:00:13] app.ERROR: x\n"));
        assert!(looks_like(
            b"{\"apiVersion\":\"v1\",\"items\":[{\"reason\":\"BackOff\"}],\"kind\":\"List\"}\n"
        ));
        // A typed object that is no list, an event with items of its own.
        assert!(!looks_like(
            b"{\"apiVersion\":\"audit.k8s.io/v1\",\"kind\":\"Event\"}\n"
        ));
        assert!(!looks_like(
            b"{\"time\":\"2023-02-02T07:00:00Z\",\"items\":[1]}\n"
        ));
        assert!(!looks_like(b"{"));
        assert!(!looks_like(b""));
    }

    #[test]
    fn a_kubectl_list_gives_its_items() {
        let doc = "{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n        {\n            \"reason\": \"OOMKilling\",\n            \"message\": \"Killed process 1 (a b)\",\n            \"involvedObject\": {\"kind\": \"Node\", \"items\": [1, 2]}\n        },\n        {\"reason\": \"BackOff\", \"count\": 3}\n    ],\n    \"kind\": \"List\",\n    \"metadata\": {\"resourceVersion\": \"\"}\n}\n";
        assert_eq!(
            lines(doc),
            "{\"reason\":\"OOMKilling\",\"message\":\"Killed process 1 (a b)\",\"involvedObject\":{\"kind\":\"Node\",\"items\":[1,2]}}\n{\"reason\":\"BackOff\",\"count\":3}\n"
        );
    }

    #[test]
    fn arrays_objects_and_junk() {
        // gcloud's array, strings with brackets, quotes and escapes.
        let doc = "[\n  {\"t\": \"a ] } \\\" [\", \"n\": 1},\n  {\"t\": \"b\"}\n]\n";
        assert_eq!(
            lines(doc),
            "{\"t\":\"a ] } \\\" [\",\"n\":1}\n{\"t\":\"b\"}\n"
        );
        // Watch output: one object after another; an object with an
        // `items` field but no type is one line.
        let doc = "{\n \"a\": 1\n}\n{\n \"items\": [1]\n}\n";
        assert_eq!(lines(doc), "{\"a\":1}\n{\"items\":[1]}\n");
        // A list on one line.
        let doc = "{\"kind\":\"List\",\"items\":[{\"a\":1},{\"b\":2}],\"metadata\":{}}\n";
        assert_eq!(lines(doc), "{\"a\":1}\n{\"b\":2}\n");
        // Scalars in an array, junk after the document, a cut document.
        assert_eq!(
            lines("[1, \"x\", null]\nnot json\n"),
            "1\n\"x\"\nnull\nnot json\n"
        );
        assert_eq!(lines("[{\"a\": [1,"), "{\"a\":[1,\n");
        // A raw line break inside a string (not JSON) stays on its line.
        assert_eq!(lines("[{\"a\": \"x\ny\"}]"), "{\"a\":\"x y\"}\n");
    }

    #[test]
    fn an_element_is_cut_at_the_bound() {
        let big = format!(
            "[{{\"a\": \"{}\"}}, {{\"b\": 1}}]",
            "x".repeat(MAX_ELEMENT * 2)
        );
        let out = lines(&big);
        let first = out.lines().next().unwrap();
        assert_eq!(first.len(), MAX_ELEMENT);
        assert_eq!(out.lines().nth(1), Some("{\"b\":1}"));
    }
}
