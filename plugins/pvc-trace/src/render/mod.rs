//! `pvc-trace` renderings: table / wide (one row per chain), tree, json, yaml.
//!
//! The streaming formats are [`Sink`](crate::sink::Sink)s that the trace pushes roots into,
//! one at a time (`-A -o json` over 10,000 pods never holds the whole report):
//! - `json`: [`json::JsonSink`] writes the document's head, each root as it comes, then the
//!   diagnostics, unknowns and summary: byte for byte what serialising the whole report writes;
//! - `table`: [`table::TableSink`] keeps only each root's row cells, and writes the table (in
//!   batches) and its problems footer at the end.
//!
//! Targets, `tree` and `yaml` render the whole report ([`render`]): the tree draws every
//! diagnostic about an object under it and ends with those about objects not drawn, and YAML
//! is serialised in one piece; with targets, a missing one fails before any output.

pub mod json;
pub mod table;
pub mod tree;
pub mod yaml;

use std::collections::HashMap;

use crate::graph::{Snapshot, TraceOptions, retain_problems, trace, trace_into};
use crate::model::*;
use stateful_core::error::Result;
use stateful_core::output::write_text;

pub use tree::render_tree;

/// The formats pvc-trace renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Wide,
    Json,
    Yaml,
    Tree,
}

/// Trace and write in one pass. `-o json` streams root by root, `table` and `wide` keep only
/// their rows: memory stays near the snapshot's size however many roots there are. Targets,
/// `tree` and `yaml` build the whole report first (a missing target fails before any output).
/// Returns the report without its roots (its diagnostics decide `--fail-on`). An empty table
/// writes "No volumes found" to `notice` (stderr), not `out`; `no_headers` drops the table's
/// header line.
pub fn write(
    out: &mut dyn std::io::Write,
    notice: &mut dyn std::io::Write,
    snap: &Snapshot,
    opts: &TraceOptions,
    problems: Option<Severity>,
    format: Format,
    no_headers: bool,
) -> Result<Report> {
    let streamable =
        opts.targets.is_empty() && matches!(format, Format::Json | Format::Table | Format::Wide);
    let look = table::Look {
        wide: format == Format::Wide,
        no_headers,
    };
    if !streamable {
        let mut report = trace(snap, opts)?;
        if let Some(min) = problems {
            retain_problems(&mut report, min);
        }
        match format {
            Format::Table | Format::Wide => table::write_report(out, notice, &report, look)?,
            _ => write_text(out, &render(&report, format)?)?,
        }
        report.roots.clear();
        return Ok(report);
    }
    match format {
        Format::Json => trace_into(snap, opts, problems, &mut json::JsonSink::new(out, opts)),
        _ => trace_into(
            snap,
            opts,
            problems,
            &mut table::TableSink::new(out, notice, look),
        ),
    }
}

/// A whole report as text.
pub fn render(report: &Report, format: Format) -> Result<String> {
    match format {
        Format::Json => json::render_json(report),
        Format::Yaml => yaml::render_yaml(report),
        Format::Table => Ok(table::render_table(report, false)),
        Format::Wide => Ok(table::render_table(report, true)),
        Format::Tree => Ok(render_tree(report)),
    }
}

/// Access modes as kubectl abbreviates them (`RWO,RWX`), or `-`.
fn short_modes(modes: &[String]) -> String {
    if modes.is_empty() {
        return "-".into();
    }
    modes
        .iter()
        .map(|m| match m.as_str() {
            "ReadWriteOnce" => "RWO",
            "ReadOnlyMany" => "ROX",
            "ReadWriteMany" => "RWX",
            "ReadWriteOncePod" => "RWOP",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A whole report's diagnostics by object, in report order.
fn problems_by_object(report: &Report) -> HashMap<&ObjectRef, Vec<&Diagnostic>> {
    let mut m: HashMap<&ObjectRef, Vec<&Diagnostic>> = HashMap::new();
    for d in &report.diagnostics {
        m.entry(&d.object).or_default().push(d);
    }
    m
}

/// Text from object data made safe for a terminal: every control character (C0, DEL, C1, so
/// no escape sequence gets through) is written as a Rust-style escape (`\x1b`, `\u{9b}`);
/// newlines too when `newlines` (one table cell is one line).
pub(crate) fn escape_terminal(s: &str, newlines: bool) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && (newlines || c != '\n');
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            if (c as u32) < 0x80 {
                out.push_str(&format!("\\x{:02x}", c as u32));
            } else {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}
