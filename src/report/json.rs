//! `--output json`: the `logburst/v1` schema of `docs/json-schema.md` (fields may be
//! added; none is renamed or removed without a new schema name).

use std::io::{self, Write};

use super::model::Analysis;

/// Writes the analysis as one pretty-printed `logburst/v1` document.
pub fn render(a: &Analysis, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, a).map_err(io::Error::other)?;
    writeln!(out)
}
