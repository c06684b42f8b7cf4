//! The one rule for showing log content: what a reader must not receive raw
//! and how it is written instead. Every output (terminal text, messages on
//! stderr, CSV, Markdown, HTML, the progress bar) goes through here, adding
//! only the characters its own syntax gives a meaning to.
//!
//! A leaf: it depends on nothing in the crate.

use std::fmt::Write;

/// Whether a character of log content may change what a reader sees
/// instead of being seen: control characters (C0, DEL, C1), escape
/// sequences among them; and the invisible format characters that reorder
/// or hide text — bidirectional embeddings, overrides and isolates
/// (U+202A–U+202E, U+2066–U+2069, the marks U+200E, U+200F, U+061C),
/// zero-width characters (U+200B–U+200D, U+2060–U+2064, U+FEFF), line and
/// paragraph separators (U+2028, U+2029), interlinear annotations
/// (U+FFF9–U+FFFB) and tag characters (U+E0000–U+E007F).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}')
}

/// `s` with every unsafe character written as `\xHH` (`\u{202E}` past
/// U+00FF) and the characters
/// `markup` maps replaced by its text. `backslash` is how the output's
/// syntax writes the escape's own backslash (`\` in plain text, `\\` in
/// Markdown).
pub fn escape_with(
    s: &str,
    backslash: &str,
    markup: impl Fn(char) -> Option<&'static str>,
) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        if let Some(m) = markup(ch) {
            out.push_str(m);
        } else if is_unsafe(ch) {
            if (ch as u32) <= 0xFF {
                let _ = write!(out, "{backslash}x{:02X}", ch as u32);
            } else {
                let _ = write!(out, "{backslash}u{{{:04X}}}", ch as u32);
            }
        } else {
            out.push(ch);
        }
    }
    out
}

/// Log content made safe for a terminal (and for any plain-text output):
/// unsafe characters shown as `\xHH`.
#[warn(missing_docs)]
pub fn terminal(s: &str) -> String {
    escape_with(s, "\\", |_| None)
}

/// Bytes of a log line a report shows (malformed lines, signal lines).
pub const SAMPLE_BYTES: usize = 200;

/// Bytes of a log line shown safely: lossy UTF-8, unsafe characters
/// escaped, cut to `max` bytes (an ellipsis says it was cut).
pub fn line_sample(line: &[u8], max: usize) -> String {
    let cut = &line[..line.len().min(max)];
    let mut s = terminal(&String::from_utf8_lossy(cut));
    if line.len() > max {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_shown_not_obeyed() {
        assert_eq!(terminal("a\u{1b}[2Jb\n"), "a\\x1B[2Jb\\x0A");
        assert_eq!(terminal("\u{9b}31m\u{7f}"), "\\x9B31m\\x7F");
        assert_eq!(terminal("café ✓"), "café ✓");
        assert_eq!(line_sample(b"ab\x00cd", 3), "ab\\x00…");
        assert_eq!(line_sample(b"\xffz", 10), "\u{fffd}z");
        let md = escape_with("*\u{1b}", "\\\\", |c| (c == '*').then_some("\\*"));
        assert_eq!(md, "\\*\\\\x1B");
    }
}
