//! `-o json`: the report as pretty JSON (two-space indent, like `kubectl get -o json`).
//!
//! [`JsonSink`] streams it: the head (`apiVersion` … `targets`) and `"roots": [` before the
//! first root, each root as the trace pushes it, then `diagnostics`, `unknown` and `summary`.
//! Every value goes through serde_json with `Nested`, serde_json's pretty formatter started
//! at the depth the value has in the document, so the bytes are those of serialising the
//! whole [`Report`] ([`render_json`]).

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::Formatter;

use crate::diagnose::Diagnosed;
use crate::graph::TraceOptions;
use crate::model::{API_VERSION, KIND, Report, Root};
use crate::sink::Sink;
use stateful_core::error::Result;
use stateful_core::output::{to_json, written};

/// A whole report as pretty JSON, newline-terminated.
pub fn render_json(report: &Report) -> Result<String> {
    to_json(report)
}

/// Streams the report as pretty JSON to a writer, root by root. Once writing fails (a closed
/// pipe: `| head`), the trace still runs to the end without writing, so that its diagnostics
/// still decide `--fail-on`; [`Sink::finish`] then reports the failure (a closed pipe is not
/// an error).
pub struct JsonSink<'w, 'o> {
    out: io::BufWriter<&'w mut dyn Write>,
    opts: &'o TraceOptions,
    head_written: bool,
    roots: usize,
    failed: Option<io::Error>,
}

impl<'w, 'o> JsonSink<'w, 'o> {
    /// The head of the document comes from `opts`: its source, namespace and targets.
    pub fn new(out: &'w mut dyn Write, opts: &'o TraceOptions) -> Self {
        JsonSink {
            out: io::BufWriter::with_capacity(1 << 16, out),
            opts,
            head_written: false,
            roots: 0,
            failed: None,
        }
    }

    /// `{`, the fields before `roots` (in the order of `Report`'s derived `Serialize`), and
    /// `"roots": [`.
    fn head(&mut self) -> io::Result<()> {
        let opts = self.opts;
        let targets: Vec<String> = opts.targets.iter().map(|t| t.to_string()).collect();
        self.out.write_all(b"{")?;
        self.field(true, "apiVersion", API_VERSION)?;
        self.field(false, "kind", KIND)?;
        self.field(false, "source", &opts.source)?;
        self.field(false, "namespace", &opts.namespace)?;
        self.field(false, "targets", &targets)?;
        self.key(false, "roots")?;
        self.out.write_all(b"[")?;
        self.head_written = true;
        Ok(())
    }

    fn write_root(&mut self, root: &Root) -> io::Result<()> {
        if !self.head_written {
            self.head()?;
        }
        self.out.write_all(if self.roots == 0 {
            b"\n    "
        } else {
            b",\n    "
        })?;
        write_nested(&mut self.out, 2, root)?;
        self.roots += 1;
        Ok(())
    }

    /// `]` closing the roots, the fields after them, `}` and a newline.
    fn tail(&mut self, report: &Report) -> io::Result<()> {
        if !self.head_written {
            self.head()?;
        }
        self.out
            .write_all(if self.roots == 0 { b"]" } else { b"\n  ]" })?;
        self.field(false, "diagnostics", &report.diagnostics)?;
        self.field(false, "unknown", &report.unknown)?;
        self.field(false, "summary", &report.summary)?;
        self.out.write_all(b"\n}\n")?;
        self.out.flush()
    }

    /// A top-level key, after `{` (`first`) or after the previous field.
    fn key(&mut self, first: bool, key: &str) -> io::Result<()> {
        self.out.write_all(if first { b"\n  " } else { b",\n  " })?;
        write_nested(&mut self.out, 1, key)?;
        self.out.write_all(b": ")
    }

    /// A top-level `"key": value`.
    fn field<T: Serialize + ?Sized>(
        &mut self,
        first: bool,
        key: &str,
        value: &T,
    ) -> io::Result<()> {
        self.key(first, key)?;
        write_nested(&mut self.out, 1, value)
    }
}

impl Sink for JsonSink<'_, '_> {
    fn root(&mut self, root: Root, _: &Diagnosed<'_>) -> Result<()> {
        if self.failed.is_none()
            && let Err(e) = self.write_root(&root)
        {
            self.failed = Some(e);
        }
        Ok(())
    }

    fn finish(&mut self, report: &Report) -> Result<()> {
        let res = match self.failed.take() {
            Some(e) => Err(e),
            None => self.tail(report),
        };
        written(res)
    }
}

/// `value` as pretty JSON, as it reads `depth` levels into a pretty-printed document.
fn write_nested<W: Write, T: Serialize + ?Sized>(
    out: &mut W,
    depth: usize,
    value: &T,
) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, Nested::at(depth));
    value.serialize(&mut ser).map_err(io::Error::from)
}

/// serde_json's `PrettyFormatter` (two-space indent), starting `depth` levels in: the same
/// methods with the same state, only the initial indent differs.
struct Nested {
    current_indent: usize,
    has_value: bool,
}

impl Nested {
    fn at(depth: usize) -> Self {
        Nested {
            current_indent: depth,
            has_value: false,
        }
    }

    fn indent<W: ?Sized + Write>(&self, writer: &mut W) -> io::Result<()> {
        for _ in 0..self.current_indent {
            writer.write_all(b"  ")?;
        }
        Ok(())
    }
}

impl Nested {
    /// `[` or `{`: one level deeper, nothing written inside yet.
    fn open<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.current_indent += 1;
        self.has_value = false;
        writer.write_all(bracket)
    }

    /// `]` or `}`: on its own line when something was written inside.
    fn close<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.current_indent -= 1;
        if self.has_value {
            writer.write_all(b"\n")?;
            self.indent(writer)?;
        }
        writer.write_all(bracket)
    }
}

impl Formatter for Nested {
    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        writer.write_all(if first { b"\n" } else { b",\n" })?;
        self.indent(writer)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        writer.write_all(if first { b"\n" } else { b",\n" })?;
        self.indent(writer)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values written at a depth read as they do inside a pretty-printed document.
    #[test]
    fn nested_values_match_the_pretty_printer() {
        let value = serde_json::json!({
            "a": [],
            "b": {},
            "c": [1, {"d": [true, null], "e": {}}, "x\ny"],
            "f": {"g": [[]]},
        });
        let doc = serde_json::json!({"k": [value.clone(), value.clone()], "m": value.clone()});
        let whole = serde_json::to_string_pretty(&doc).unwrap();
        let mut parts: Vec<u8> = Vec::new();
        parts.extend_from_slice(b"{\n  \"k\": [\n    ");
        write_nested(&mut parts, 2, &value).unwrap();
        parts.extend_from_slice(b",\n    ");
        write_nested(&mut parts, 2, &value).unwrap();
        parts.extend_from_slice(b"\n  ],\n  \"m\": ");
        write_nested(&mut parts, 1, &value).unwrap();
        parts.extend_from_slice(b"\n}");
        assert_eq!(String::from_utf8(parts).unwrap(), whole);
    }
}
