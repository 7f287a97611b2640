//! `pvc-trace` renderings: table / wide (one row per chain), tree, json, yaml.
//!
//! The streaming formats are [`Sink`](crate::sink::Sink)s that the trace pushes roots into,
//! one at a time (`-A -o json` over 10,000 pods never holds the whole report):
//! - `json`: [`json::JsonSink`] writes the document's head, each root as it comes, then the
//!   diagnostics, unknowns and summary: byte for byte what serialising the whole report writes;
//! - `table`: [`table::TableSink`] keeps only each root's row cells, and writes the table (in
//!   batches) and its problems footer at the end.
//!
//! Targets, `tree`, `yaml` and kubectl's printers render the whole report ([`render`]): the
//! tree draws every diagnostic about an object under it and ends with those about objects not
//! drawn, and YAML is serialised in one piece; with targets, a missing one fails before any
//! output. kubectl's printers: `-o name` (`kind/name` of each root), `-o jsonpath=…` (over the
//! JSON document), `-o custom-columns=…` (over each table row's JSON, see
//! [`table::COLUMNS`]).

pub mod json;
pub mod picture;
pub mod table;
pub mod tree;
pub mod yaml;

use std::collections::HashMap;

use crate::graph::{Snapshot, TraceOptions, retain_problems, trace, trace_into};
use crate::model::*;
use stateful_core::error::Result;
use stateful_core::output::jsonpath::Template;
use stateful_core::output::rows::{self, CustomColumns};
use stateful_core::output::write_text;

pub use tree::render_tree;

/// The formats pvc-trace renders.
#[derive(Debug, Clone)]
pub enum Format {
    Table,
    Wide,
    Json,
    Yaml,
    Tree,
    /// `-o name`: `kind/name` of each root.
    Name,
    /// `-o jsonpath=…` over the JSON document.
    JsonPath(Template),
    /// `-o custom-columns=…` over each row's JSON.
    CustomColumns(CustomColumns),
    /// `-o dot`: a Graphviz digraph of the topology.
    Dot,
    /// `-o mermaid`: a Mermaid flowchart of the topology.
    Mermaid,
    /// `-o svg`: an SVG picture of the topology (laid out here).
    Svg,
}

/// Trace and write in one pass. `-o json` streams root by root, `table` and `wide` keep only
/// their rows: memory stays near the snapshot's size however many roots there are. Targets,
/// `tree`, `yaml` and kubectl's printers build the whole report first (a missing target fails
/// before any output). Returns the report without its roots (its diagnostics decide
/// `--fail-on`). An empty table writes "No volumes found" to `notice` (stderr), not `out`;
/// `look` says how tables look (`--no-headers`, `--sort-by`, width, colour; its `wide` is
/// taken from `format`).
pub fn write(
    out: &mut dyn std::io::Write,
    notice: &mut dyn std::io::Write,
    snap: &Snapshot,
    opts: &TraceOptions,
    problems: Option<Severity>,
    format: &Format,
    look: &table::Look,
) -> Result<Report> {
    let streamable =
        opts.targets.is_empty() && matches!(format, Format::Json | Format::Table | Format::Wide);
    let look = table::Look {
        wide: matches!(format, Format::Wide),
        ..look.clone()
    };
    if !streamable {
        let mut report = trace(snap, opts)?;
        if let Some(min) = problems {
            retain_problems(&mut report, min);
        }
        match format {
            Format::Table | Format::Wide => table::write_report(out, notice, &report, &look)?,
            Format::CustomColumns(cc) => {
                let mut rows: Vec<serde_json::Value> = table::all_cells(&report, look.now)
                    .iter()
                    .map(|c| table::row_json(c))
                    .collect();
                if let Some(path) = &look.sort_by {
                    rows::sort_by(&mut rows, |v| v, path);
                }
                cc.write(out, &rows, look.no_headers)?;
            }
            Format::Tree if look.color => {
                write_text(out, &tree::paint_tree(&render_tree(&report)))?
            }
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
pub fn render(report: &Report, format: &Format) -> Result<String> {
    match format {
        Format::Json => json::render_json(report),
        Format::Yaml => yaml::render_yaml(report),
        Format::Table => Ok(table::render_table(report, false)),
        Format::Wide => Ok(table::render_table(report, true)),
        Format::Tree => Ok(render_tree(report)),
        Format::Dot => Ok(picture::render_dot(report)),
        Format::Mermaid => Ok(picture::render_mermaid(report)),
        Format::Svg => picture::render_svg(report),
        Format::Name => Ok(names(report)),
        Format::JsonPath(t) => {
            let v = serde_json::to_value(report)
                .map_err(|e| stateful_core::Error::Other(format!("json: {e}")))?;
            Ok(t.render_escaped(&v))
        }
        Format::CustomColumns(cc) => {
            let rows: Vec<serde_json::Value> = table::all_cells(report, None)
                .iter()
                .map(|c| table::row_json(c))
                .collect();
            let mut out = Vec::new();
            cc.write(&mut out, &rows, false)?;
            Ok(String::from_utf8_lossy(&out).into_owned())
        }
    }
}

/// `-o name`: each root as kubectl names it (`pod/db-0`, `statefulset.apps/db`), one a line.
fn names(report: &Report) -> String {
    let mut out = String::new();
    for root in &report.roots {
        let (kind, name) = match root {
            Root::Pod(p) => ("pod", &p.name),
            Root::Claim(c) => ("persistentvolumeclaim", &c.name),
            Root::Volume(v) => ("persistentvolume", &v.volume.name),
            Root::Workload(w) if w.kind == "Deployment" => ("deployment.apps", &w.name),
            Root::Workload(w) => ("statefulset.apps", &w.name),
            Root::StorageClass(c) => ("storageclass.storage.k8s.io", &c.class.name),
            Root::Node(n) => ("node", &n.name),
        };
        out.push_str(&format!("{kind}/{}\n", escape_terminal(name, true)));
    }
    out
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
    stateful_core::output::term::escape_control(s, newlines)
}
