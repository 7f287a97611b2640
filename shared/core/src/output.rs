//! Rendering helpers shared by every plugin: one place per format. Submodules: [`jsonpath`]
//! (kubectl's templates and paths), [`rows`] (tables, custom columns, `--sort-by`), [`term`]
//! (ages, colour, fitting the terminal's width).

pub mod jsonpath;
pub mod rows;
pub mod term;

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

use crate::error::{Error, Result};

/// Pretty JSON with a trailing newline.
pub fn to_json<T: Serialize + ?Sized>(v: &T) -> Result<String> {
    let mut s = serde_json::to_string_pretty(v).map_err(|e| Error::Other(format!("json: {e}")))?;
    s.push('\n');
    Ok(s)
}

/// Pretty JSON straight to stdout (no intermediate string: large reports stay small in
/// memory). A closed pipe ends quietly.
pub fn print_json<T: Serialize>(v: &T) -> Result<()> {
    write_json(&mut std::io::stdout().lock(), v)
}

/// Pretty JSON to `out`, newline-terminated. A closed pipe ends quietly.
pub fn write_json<T: Serialize>(out: &mut dyn std::io::Write, v: &T) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    let res = serde_json::to_writer_pretty(&mut out, v)
        .map_err(std::io::Error::from)
        .and_then(|_| out.write_all(b"\n"))
        .and_then(|_| out.flush());
    written(res)
}

/// Text to `out`. A closed pipe ends quietly.
pub fn write_text(out: &mut dyn std::io::Write, text: &str) -> Result<()> {
    written(out.write_all(text.as_bytes()).and_then(|_| out.flush()))
}

/// The outcome of writing output: a closed pipe (`| head`) is not an error.
pub fn written(res: std::io::Result<()>) -> Result<()> {
    match res {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::Other(format!("writing output: {e}"))),
    }
}

/// YAML (serde-saphyr).
pub fn to_yaml<T: Serialize>(v: &T) -> Result<String> {
    serde_saphyr::to_string(v).map_err(|e| Error::Other(format!("yaml: {e}")))
}

/// A kubectl-looking table: upper-case headers, no borders, columns three spaces apart.
pub fn table(headers: &[&str]) -> Table {
    let mut t = bare_table();
    t.set_header(headers.iter().map(|h| h.to_uppercase()));
    for c in t.column_iter_mut() {
        c.set_padding((0, 3));
    }
    t
}

/// The kubectl look without a header (rows to add to an already printed table).
pub fn bare_table() -> Table {
    let mut t = Table::new();
    t.load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    t
}

/// A table as text, trailing spaces trimmed, newline-terminated.
pub fn table_text(t: &Table) -> String {
    let mut out = String::new();
    for line in t.to_string().lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `-` for an empty cell, as kubectl prints `<none>`-ish blanks.
pub fn dash(s: Option<&str>) -> String {
    match s {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => "-".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_looks_like_kubectl() {
        let mut t = table(&["name", "status"]);
        t.add_row(vec!["db-0", "Running"]);
        t.add_row(vec!["db-10", "Pending"]);
        let s = table_text(&t);
        assert_eq!(s, "NAME    STATUS\ndb-0    Running\ndb-10   Pending\n");
    }
}
