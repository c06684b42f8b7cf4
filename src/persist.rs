//! How logburst's own files are kept: summaries and cron states are JSON
//! with a `"schema"` name checked before anything else is read, written
//! through a temporary file renamed into place (a reader never sees half of
//! one), compressed with zstd or gzip when the name says so, and refused in
//! the user's words when they do not read. A leaf: it knows files and JSON,
//! not what is in them.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Writes `value` as JSON to `path`, atomically, compressed with zstd or
/// gzip when the name ends in `.zst` or `.gz`; `what` names the file in an
/// error (`summary`, `state`).
pub fn write_json(path: &Path, what: &str, value: &impl Serialize) -> Result<()> {
    let name = path.to_string_lossy();
    write_atomically(path, what, |f| {
        if name.ends_with(".zst") {
            let mut z = zstd::stream::write::Encoder::new(f, 9)?;
            serde_json::to_writer(&mut z, value)?;
            z.finish()
        } else if name.ends_with(".gz") {
            let mut z = flate2::write::GzEncoder::new(f, flate2::Compression::default());
            serde_json::to_writer(&mut z, value)?;
            z.finish()
        } else {
            let mut f = f;
            serde_json::to_writer(&mut f, value)?;
            f.write_all(b"\n")?;
            Ok(f)
        }
    })
}

/// Checks the `"schema"` of a JSON file of logburst's (`what`: "summary",
/// "state file") before it is read whole, so a foreign, newer or cut file
/// is refused with an error that says which.
pub fn check_schema(text: &[u8], schema: &str, what: &str) -> std::result::Result<(), String> {
    #[derive(Deserialize)]
    struct Head {
        schema: Option<String>,
    }
    let first = text.iter().find(|c| !c.is_ascii_whitespace());
    if !matches!(first, Some(b'{' | b'[')) {
        return Err(format!("not a logburst {what}: it is not JSON"));
    }
    let head: Head = serde_json::from_slice(text).map_err(|e| {
        let family = schema.split('/').next().unwrap_or(schema);
        let ours = text.starts_with(format!("{{\"schema\":\"{family}/").as_bytes());
        match e.classify() {
            _ if ours => damaged(what, &e),
            serde_json::error::Category::Data => {
                format!("not a logburst {what}: JSON, but not an object with a \"schema\" field")
            }
            _ => format!("not a logburst {what}: it is not JSON"),
        }
    })?;
    match head.schema.as_deref() {
        Some(s) if s == schema => Ok(()),
        Some(other) => Err(format!(
            "a {what} of schema '{other}', which this logburst ({}) does not read; it reads {schema}",
            env!("CARGO_PKG_VERSION")
        )),
        None => Err(format!("not a logburst {what} (no \"schema\" field)")),
    }
}

/// What is wrong with a file of ours that does not read, in the user's
/// words and where (never the parser's internal type names).
pub fn damaged(what: &str, e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let how = match e.classify() {
        Category::Eof => "cut short",
        Category::Syntax => "not valid JSON",
        Category::Data => "a field missing or of the wrong kind",
        Category::Io => "unreadable",
    };
    format!(
        "a damaged {what}: {how} (line {}, column {})",
        e.line(),
        e.column()
    )
}

/// Writes `path` through a temporary file beside it (`write` fills it),
/// synced and renamed into place, so a reader never sees half of it; on
/// failure the temporary file is removed and the error names `what`.
pub fn write_atomically(
    path: &Path,
    what: &str,
    write: impl FnOnce(BufWriter<File>) -> io::Result<BufWriter<File>>,
) -> Result<()> {
    let tmp = temp_path(path);
    let written = File::create(&tmp).and_then(|f| {
        let f = write(BufWriter::new(f))?
            .into_inner()
            .map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    });
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(&format!("write {what}"), path, e)
    })
}

const TEMP_SUFFIX: &str = ".tmp-";

/// A temporary name next to `path`, unique to this process.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!("{TEMP_SUFFIX}{}", std::process::id()));
    path.with_file_name(name)
}

/// Whether `p` is named like a temporary file of `path` (any process's).
pub fn is_temp_of(p: &Path, path: &Path) -> bool {
    let name = |p: &Path| p.file_name().and_then(|n| n.to_str()).map(str::to_string);
    name(p)
        .zip(name(path))
        .is_some_and(|(n, of)| n.starts_with(&format!("{of}{TEMP_SUFFIX}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_files_are_recognised() {
        let state = Path::new("/x/state.json");
        assert!(is_temp_of(&temp_path(state), state));
        assert!(is_temp_of(Path::new("/x/state.json.tmp-42"), state));
        assert!(!is_temp_of(Path::new("/x/state.json.lock"), state));
        assert!(!is_temp_of(Path::new("/x/access.log"), state));
    }
}
