//! `pvc-trace` renderings: table / wide (one row per chain), tree, json, yaml.

use std::cell::RefCell;
use std::collections::HashMap;

use serde::Serialize;
use serde::ser::{Error as _, SerializeSeq, SerializeStruct};

use crate::build::{Diagnosed, Snapshot, TraceOptions, retain_problems, trace, trace_each};
use crate::model::*;
use stateful_core::error::{Error, Result};
use stateful_core::output::{
    bare_table, dash, table, to_json, to_yaml, write_json, write_text, written,
};

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
/// Returns the report without its roots (its diagnostics decide `--fail-on`).
pub fn write(
    out: &mut dyn std::io::Write,
    snap: &Snapshot,
    opts: &TraceOptions,
    problems: Option<Severity>,
    format: Format,
) -> Result<Report> {
    let streamable =
        opts.targets.is_empty() && matches!(format, Format::Json | Format::Table | Format::Wide);
    if !streamable {
        let mut report = trace(snap, opts)?;
        if let Some(min) = problems {
            retain_problems(&mut report, min);
        }
        write_text(out, &render(&report, format)?)?;
        report.roots.clear();
        return Ok(report);
    }
    match format {
        Format::Json => {
            let streamed = Streamed {
                opts,
                run: RefCell::new(Some(Box::new(|emit: &mut Emit<'_>| {
                    trace_each(snap, opts, problems, emit)
                }))),
                tail: RefCell::new(None),
                failed: RefCell::new(None),
            };
            let printed = write_json(out, &streamed);
            if let Some(e) = streamed.failed.borrow_mut().take() {
                return Err(e);
            }
            printed?;
            streamed
                .tail
                .into_inner()
                .ok_or_else(|| Error::Other("the trace did not run".into()))
        }
        _ => {
            let wide = format == Format::Wide;
            let mut rows = Vec::new();
            let report = trace_each(snap, opts, problems, &mut |root, diagnosed| {
                let mut rs = Vec::new();
                root_rows(&root, &mut rs);
                // Settle each row's problems now: only its cells are kept.
                for r in rs {
                    let problems = problem_codes(&r.objects, |o| diagnosed.of(o).collect());
                    rows.push(row_cells(r, problems, wide));
                }
                Ok(())
            })?;
            write_table(out, rows, &report, wide, TABLE_BATCH)?;
            Ok(report)
        }
    }
}

type Emit<'e> = dyn FnMut(Root, &Diagnosed<'_>) -> Result<()> + 'e;
type Run<'s> = Box<dyn FnOnce(&mut Emit<'_>) -> Result<Report> + 's>;

/// A [`Report`] whose roots are produced while it is serialised.
struct Streamed<'s> {
    opts: &'s TraceOptions,
    run: RefCell<Option<Run<'s>>>,
    /// The report without roots, once they have all been written.
    tail: RefCell<Option<Report>>,
    /// An error of the trace itself (not of writing), to return as is.
    failed: RefCell<Option<Error>>,
}

/// The roots of a [`Streamed`] report, serialised as the trace produces them.
struct Roots<'a, 's>(&'a Streamed<'s>);

impl Serialize for Roots<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let st = self.0;
        let run = st
            .run
            .borrow_mut()
            .take()
            .ok_or_else(|| S::Error::custom("roots serialised twice"))?;
        let mut seq = s.serialize_seq(None)?;
        let mut write_err: Option<S::Error> = None;
        // Once writing fails (a closed pipe: `| head`), the trace still runs to the end
        // without writing, so that its diagnostics still decide `--fail-on`.
        let res = run(&mut |root, _| {
            if write_err.is_none()
                && let Err(e) = seq.serialize_element(&root)
            {
                write_err = Some(e);
            }
            Ok(())
        });
        match res {
            Ok(tail) => *st.tail.borrow_mut() = Some(tail),
            Err(e) => {
                let msg = e.to_string();
                *st.failed.borrow_mut() = Some(e);
                return Err(S::Error::custom(msg));
            }
        }
        if let Some(e) = write_err {
            return Err(e);
        }
        seq.end()
    }
}

impl Serialize for Streamed<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        // The same fields, in the same order, as `Report`'s derived Serialize.
        let mut st = s.serialize_struct("Report", 9)?;
        st.serialize_field("apiVersion", API_VERSION)?;
        st.serialize_field("kind", KIND)?;
        st.serialize_field("source", &self.opts.source)?;
        st.serialize_field("namespace", &self.opts.namespace)?;
        let targets: Vec<String> = self.opts.targets.iter().map(|t| t.to_string()).collect();
        st.serialize_field("targets", &targets)?;
        st.serialize_field("roots", &Roots(self))?;
        let tail = self.tail.borrow();
        let tail = tail
            .as_ref()
            .ok_or_else(|| S::Error::custom("the trace did not run"))?;
        st.serialize_field("diagnostics", &tail.diagnostics)?;
        st.serialize_field("unknown", &tail.unknown)?;
        st.serialize_field("summary", &tail.summary)?;
        st.end()
    }
}

pub fn render(report: &Report, format: Format) -> Result<String> {
    match format {
        Format::Json => to_json(report),
        Format::Yaml => to_yaml(report),
        Format::Table => Ok(render_table(report, false)),
        Format::Wide => Ok(render_table(report, true)),
        Format::Tree => Ok(render_tree(report)),
    }
}

struct Row {
    namespace: String,
    pod: String,
    node: String,
    zone: String,
    volume: String,
    mounts: String,
    claim: String,
    status: String,
    size: String,
    access: String,
    pv: String,
    reclaim: String,
    class: String,
    backend: String,
    objects: Vec<ObjectRef>,
}

impl Row {
    fn empty(namespace: &str) -> Row {
        Row {
            namespace: namespace.to_string(),
            pod: "-".into(),
            node: "-".into(),
            zone: "-".into(),
            volume: "-".into(),
            mounts: "-".into(),
            claim: "-".into(),
            status: "-".into(),
            size: "-".into(),
            access: "-".into(),
            pv: "-".into(),
            reclaim: "-".into(),
            class: "-".into(),
            backend: "-".into(),
            objects: vec![],
        }
    }

    fn with_claim(mut self, c: &ClaimNode) -> Row {
        self.claim = c.name.clone();
        self.status = c.phase.clone();
        self.size = match (&c.requested, &c.capacity) {
            (Some(r), Some(cap)) if r != cap => format!("{cap} (req {r})"),
            (_, Some(cap)) => cap.clone(),
            (Some(r), None) => format!("req {r}"),
            _ => "-".into(),
        };
        self.access = short_modes(&c.access_modes);
        self.class = dash(c.storage_class.as_deref());
        self.objects.push(ObjectRef::new(
            "PersistentVolumeClaim",
            Some(&c.namespace),
            &c.name,
        ));
        if let Some(cl) = &c.class {
            self.objects
                .push(ObjectRef::new("StorageClass", None, &cl.name));
        }
        if let Some(pv) = &c.volume {
            self = self.with_pv(pv);
        }
        self
    }

    fn with_pv(mut self, pv: &PvNode) -> Row {
        self.pv = if pv.phase == "Bound" {
            pv.name.clone()
        } else {
            format!("{} ({})", pv.name, pv.phase)
        };
        self.reclaim = dash(pv.reclaim_policy.as_deref());
        if self.class == "-" {
            self.class = dash(pv.storage_class.as_deref());
        }
        if self.access == "-" {
            self.access = short_modes(&pv.access_modes);
        }
        if self.size == "-" {
            self.size = dash(pv.capacity.as_deref());
        }
        self.backend = pv
            .backend
            .as_ref()
            .map(|b| b.summary.clone())
            .unwrap_or_else(|| pv.phase.clone());
        self.objects
            .push(ObjectRef::new("PersistentVolume", None, &pv.name));
        self
    }

    fn with_pod(mut self, p: &PodNode) -> Row {
        self.pod = p.name.clone();
        self.node = dash(p.node.as_deref());
        self.zone = dash(p.zone.as_deref());
        self.objects
            .push(ObjectRef::new("Pod", Some(&p.namespace), &p.name));
        self
    }
}

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

fn pod_rows(p: &PodNode, rows: &mut Vec<Row>) {
    let mut any = false;
    for v in &p.volumes {
        if matches!(
            v.type_.as_str(),
            "configMap" | "secret" | "projected" | "downwardAPI"
        ) {
            continue;
        }
        any = true;
        let mut row = Row::empty(&p.namespace).with_pod(p);
        row.volume = v.name.clone();
        row.mounts = if v.mounts.is_empty() {
            "-".into()
        } else {
            v.mounts
                .iter()
                .map(|m| {
                    format!(
                        "{}:{}{}",
                        m.container,
                        m.path,
                        if m.read_only { "(ro)" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        row = match &v.claim {
            Some(c) => row.with_claim(c),
            None => {
                row.backend = match &v.detail {
                    Some(d) => format!("{} {d}", v.type_),
                    None => v.type_.clone(),
                };
                row
            }
        };
        rows.push(row);
    }
    if !any {
        rows.push(Row::empty(&p.namespace).with_pod(p));
    }
}

fn rows_of(report: &Report) -> Vec<Row> {
    let mut rows = Vec::new();
    for root in &report.roots {
        root_rows(root, &mut rows);
    }
    rows
}

/// The table rows of one root.
fn root_rows(root: &Root, rows: &mut Vec<Row>) {
    match root {
        Root::Pod(p) => pod_rows(p, rows),
        Root::Claim(c) => rows.push(Row::empty(&c.namespace).with_claim(c)),
        Root::Volume(rv) => {
            let ns = rv.claim.as_ref().map(|c| c.namespace.clone()).or_else(|| {
                rv.volume
                    .claim_ref
                    .as_ref()
                    .and_then(|r| r.namespace.clone())
            });
            let mut row = Row::empty(ns.as_deref().unwrap_or("-"));
            if let Some(c) = &rv.claim {
                row = row.with_claim(c);
            } else if let Some(cr) = &rv.volume.claim_ref {
                row.claim = format!("{} ({})", cr.name, rv.claim_status);
            }
            row = row.with_pv(&rv.volume);
            if let Some(p) = rv.pods.first() {
                row.pod = p.name.clone();
                row.node = dash(p.node.as_deref());
            }
            rows.push(row);
        }
        Root::Workload(w) => {
            for e in &w.expected_claims {
                let pod = w.pods.iter().find(|p| {
                    p.volumes
                        .iter()
                        .any(|v| v.claim.as_ref().is_some_and(|c| c.name == e.name))
                });
                let mut row = Row::empty(&w.namespace);
                if let Some(p) = pod {
                    row = row.with_pod(p);
                }
                row = match &e.claim {
                    Some(c) => row.with_claim(c),
                    None => {
                        row.claim = e.name.clone();
                        row.status = "Missing".into();
                        row.objects.push(ObjectRef::new(
                            "PersistentVolumeClaim",
                            Some(&w.namespace),
                            &e.name,
                        ));
                        row
                    }
                };
                if !e.template.is_empty() {
                    row.volume = e.template.clone();
                }
                rows.push(row);
            }
            for c in &w.leftover_claims {
                let mut row = Row::empty(&w.namespace).with_claim(c);
                row.pod = "(scaled down)".into();
                rows.push(row);
            }
            if w.expected_claims.is_empty() {
                for p in &w.pods {
                    pod_rows(p, rows);
                }
            }
        }
        Root::StorageClass(v) => {
            for c in &v.claims {
                rows.push(Row::empty(&c.namespace).with_claim(c));
            }
            for pv in &v.unclaimed_volumes {
                rows.push(Row::empty("-").with_pv(pv));
            }
        }
        Root::Node(n) => {
            for p in &n.pods {
                pod_rows(p, rows);
            }
        }
    }
}

/// The problems column: `severity:code` of each warning or error about the row's objects.
fn problem_codes<'d>(
    objects: &[ObjectRef],
    diags_of: impl Fn(&ObjectRef) -> Vec<&'d Diagnostic>,
) -> String {
    let mut codes: Vec<String> = Vec::new();
    for o in objects {
        // In report order (severity, then code), however they were found.
        let mut ds = diags_of(o);
        ds.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.code.cmp(&b.code))
        });
        for d in ds {
            if d.severity >= Severity::Warning {
                let c = format!("{}:{}", d.severity, d.code);
                if !codes.contains(&c) {
                    codes.push(c);
                }
            }
        }
    }
    if codes.is_empty() {
        "-".into()
    } else {
        codes.join(",")
    }
}

fn problems_by_object(report: &Report) -> HashMap<&ObjectRef, Vec<&Diagnostic>> {
    let mut m: HashMap<&ObjectRef, Vec<&Diagnostic>> = HashMap::new();
    for d in &report.diagnostics {
        m.entry(&d.object).or_default().push(d);
    }
    m
}

fn render_table(report: &Report, wide: bool) -> String {
    let by_obj = problems_by_object(report);
    let cells = rows_of(report)
        .into_iter()
        .map(|r| {
            let problems = problem_codes(&r.objects, |o| {
                by_obj.get(o).map(|v| v.to_vec()).unwrap_or_default()
            });
            row_cells(r, problems, wide)
        })
        .collect();
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_table(&mut out, cells, report, wide, TABLE_BATCH);
    String::from_utf8_lossy(&out).into_owned()
}

/// Rows per comfy-table batch: a 10,000-row table is formatted a thousand rows at a time, with
/// the column widths of the whole table, so its formatted text never exists all at once.
const TABLE_BATCH: usize = 1000;

fn headers(wide: bool) -> Vec<&'static str> {
    let mut headers = vec!["namespace", "pod"];
    if wide {
        headers.extend(["node", "zone"]);
    }
    headers.push("volume");
    if wide {
        headers.push("mounts");
    }
    headers.extend(["claim", "status", "size"]);
    if wide {
        headers.push("access");
    }
    headers.push("pv");
    if wide {
        headers.push("reclaim");
    }
    headers.extend(["class", "backend", "problems"]);
    headers
}

/// A row's cells, in the order of [`headers`].
fn row_cells(r: Row, problems: String, wide: bool) -> Vec<String> {
    let mut cells = vec![r.namespace, r.pod];
    if wide {
        cells.extend([r.node, r.zone]);
    }
    cells.push(r.volume);
    if wide {
        cells.push(r.mounts);
    }
    cells.extend([r.claim, r.status, r.size]);
    if wide {
        cells.push(r.access);
    }
    cells.push(r.pv);
    if wide {
        cells.push(r.reclaim);
    }
    cells.extend([r.class, r.backend, problems]);
    cells
}

/// The table (or "No volumes found"), then the problems footer, line by line to `out`.
/// comfy-table formats `batch` rows at a time; every batch gets the widths of the whole
/// table (measured by comfy-table itself), so the text is the same as one table's. A closed
/// pipe ends quietly.
fn write_table(
    out: &mut dyn std::io::Write,
    rows: Vec<Vec<String>>,
    report: &Report,
    wide: bool,
    batch: usize,
) -> Result<()> {
    use comfy_table::{ColumnConstraint, Width};
    use std::io::Write;
    let headers = headers(wide);
    let batch = batch.max(1);
    let mut w = std::io::BufWriter::with_capacity(1 << 16, out);
    let res = (|| {
        if rows.is_empty() {
            w.write_all(
                match &report.namespace {
                    Some(ns) => format!("No volumes found in namespace {ns}.\n"),
                    None => "No volumes found.\n".to_string(),
                }
                .as_bytes(),
            )?;
        } else {
            let mut widths = table(&headers).column_max_content_widths();
            for chunk in rows.chunks(batch) {
                let mut t = comfy_table::Table::new();
                for r in chunk {
                    t.add_row(r.clone());
                }
                for (w, c) in widths.iter_mut().zip(t.column_max_content_widths()) {
                    *w = (*w).max(c);
                }
            }
            for (i, chunk) in rows.chunks(batch).enumerate() {
                let mut t = if i == 0 {
                    table(&headers)
                } else {
                    bare_table()
                };
                for r in chunk {
                    t.add_row(r.clone());
                }
                for (c, width) in t.column_iter_mut().zip(&widths) {
                    c.set_padding((0, 3));
                    c.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(
                        width.saturating_add(3),
                    )));
                }
                for line in t.lines() {
                    w.write_all(line.trim_end().as_bytes())?;
                    w.write_all(b"\n")?;
                }
            }
        }
        w.write_all(footer(report, Severity::Warning).as_bytes())?;
        w.flush()
    })();
    written(res)
}

/// Problems (at or above `min`), one per line, then the unknowns.
fn footer(report: &Report, min: Severity) -> String {
    let mut out = String::new();
    let shown: Vec<&Diagnostic> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity >= min)
        .collect();
    if !shown.is_empty() {
        out.push_str("\nProblems:\n");
        for d in shown {
            out.push_str(&format!(
                "  {:<7} {:<24} {}\n",
                d.severity, d.code, d.message
            ));
        }
    }
    out
}

// ---- tree -----------------------------------------------------------------------------------

struct Tree<'a> {
    out: String,
    diags: HashMap<&'a ObjectRef, Vec<&'a Diagnostic>>,
}

impl<'a> Tree<'a> {
    fn line(&mut self, prefix: &str, last: bool, text: &str) -> String {
        let (branch, cont) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        self.out.push_str(prefix);
        self.out.push_str(branch);
        self.out.push_str(text);
        self.out.push('\n');
        format!("{prefix}{cont}")
    }

    fn problems(&mut self, prefix: &str, obj: &ObjectRef) {
        let ds: Vec<&Diagnostic> = self.diags.get(obj).cloned().unwrap_or_default();
        for d in ds {
            let mark = match d.severity {
                Severity::Error => "✗",
                Severity::Warning => "!",
                Severity::Info => "i",
            };
            self.out.push_str(&format!(
                "{prefix}{mark} {} {}: {}\n",
                d.severity, d.code, d.message
            ));
        }
    }

    fn pod(&mut self, prefix: &str, last: bool, p: &PodNode, root: bool) {
        let mut text = format!("pod/{} -n {} [{}]", p.name, p.namespace, p.phase);
        if let Some(n) = &p.node {
            text.push_str(&format!(" on node {n}"));
        }
        if let Some(z) = &p.zone {
            text.push_str(&format!(" (zone {z})"));
        }
        if let Some(o) = &p.owner {
            text.push_str(&format!(" owned by {}/{}", o.kind.to_lowercase(), o.name));
        }
        let child = if root {
            self.out.push_str(&text);
            self.out.push('\n');
            prefix.to_string()
        } else {
            self.line(prefix, last, &text)
        };
        self.problems(&child, &ObjectRef::new("Pod", Some(&p.namespace), &p.name));
        let n = p.volumes.len();
        for (i, v) in p.volumes.iter().enumerate() {
            let mounts = if v.mounts.is_empty() {
                "not mounted".to_string()
            } else {
                v.mounts
                    .iter()
                    .map(|m| {
                        format!(
                            "{}{} ({}{})",
                            m.path,
                            m.sub_path
                                .as_ref()
                                .map(|s| format!(" subPath {s}"))
                                .unwrap_or_default(),
                            m.container,
                            if m.read_only { ", ro" } else { "" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut text = format!("volume {} [{}] → {mounts}", v.name, v.type_);
            if v.claim.is_none()
                && let Some(d) = &v.detail
            {
                text.push_str(&format!(": {d}"));
            }
            let vp = self.line(&child, i + 1 == n, &text);
            if let Some(c) = &v.claim {
                self.claim(&vp, true, c);
            }
        }
    }

    fn claim(&mut self, prefix: &str, last: bool, c: &ClaimNode) {
        let mut text = format!("pvc/{} [{}]", c.name, c.phase);
        match (&c.requested, &c.capacity) {
            (Some(r), Some(cap)) if r != cap => text.push_str(&format!(" {cap} (requested {r})")),
            (_, Some(cap)) => text.push_str(&format!(" {cap}")),
            (Some(r), None) => text.push_str(&format!(" requested {r}")),
            _ => {}
        }
        if !c.access_modes.is_empty() {
            text.push_str(&format!(" {}", short_modes(&c.access_modes)));
        }
        if let Some(vm) = &c.volume_mode
            && vm != "Filesystem"
        {
            text.push_str(&format!(" {vm}"));
        }
        if let Some(n) = &c.selected_node {
            text.push_str(&format!(" selected-node {n}"));
        }
        if !c.used_by.is_empty() {
            text.push_str(&format!(
                " used by {}",
                c.used_by
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        let cp = self.line(prefix, last, &text);
        self.problems(
            &cp,
            &ObjectRef::new("PersistentVolumeClaim", Some(&c.namespace), &c.name),
        );
        let has_pv = c.volume.is_some();
        if let Some(cl) = &c.class {
            self.class(&cp, !has_pv, cl);
        } else if c.phase != "Missing" && !c.phase.starts_with("Unknown") {
            self.line(&cp, !has_pv, "storageclass: none (static binding)");
        }
        if let Some(pv) = &c.volume {
            self.pv(&cp, true, pv);
        }
    }

    fn class(&mut self, prefix: &str, last: bool, cl: &ClassNode) {
        let text = if cl.exists {
            format!(
                "storageclass/{} {} binding {} reclaim {} expansion {}{}",
                cl.name,
                cl.provisioner.as_deref().unwrap_or("-"),
                cl.binding_mode.as_deref().unwrap_or("-"),
                cl.reclaim_policy.as_deref().unwrap_or("-"),
                if cl.allow_expansion { "yes" } else { "no" },
                if cl.is_default { " (default)" } else { "" }
            )
        } else {
            format!("storageclass/{} [not found]", cl.name)
        };
        let p = self.line(prefix, last, &text);
        self.problems(&p, &ObjectRef::new("StorageClass", None, &cl.name));
    }

    fn pv(&mut self, prefix: &str, last: bool, pv: &PvNode) {
        self.pv_with(prefix, last, pv, false, Vec::new(), &[]);
    }

    /// A PV line and its details; `root` draws it as a tree root; `extra` lines go first.
    fn pv_with(
        &mut self,
        prefix: &str,
        last: bool,
        pv: &PvNode,
        root: bool,
        extra: Vec<String>,
        also: &[ObjectRef],
    ) {
        let mut text = format!("pv/{} [{}]", pv.name, pv.phase);
        if let Some(c) = &pv.capacity {
            text.push_str(&format!(" {c}"));
        }
        if !pv.access_modes.is_empty() {
            text.push_str(&format!(" {}", short_modes(&pv.access_modes)));
        }
        if let Some(r) = &pv.reclaim_policy {
            text.push_str(&format!(" reclaim {r}"));
        }
        let pp = if root {
            self.out.push_str(&text);
            self.out.push('\n');
            prefix.to_string()
        } else {
            self.line(prefix, last, &text)
        };
        self.problems(&pp, &ObjectRef::new("PersistentVolume", None, &pv.name));
        for o in also {
            self.problems(&pp, o);
        }
        let mut items: Vec<String> = extra;
        if let Some(cr) = &pv.claim_ref {
            items.push(format!(
                "claimRef {}/{}",
                cr.namespace.as_deref().unwrap_or("-"),
                cr.name
            ));
        }
        for t in &pv.node_affinity {
            items.push(format!("node affinity: {t}"));
        }
        for a in &pv.attachments {
            let mut s = format!(
                "attachment {} → node {} ({})",
                a.name,
                a.node,
                if a.attached {
                    "attached"
                } else {
                    "not attached"
                }
            );
            if let Some(e) = &a.attach_error {
                s.push_str(&format!(", attach error: {e}"));
            }
            if let Some(e) = &a.detach_error {
                s.push_str(&format!(", detach error: {e}"));
            }
            items.push(s);
        }
        let n = items.len() + usize::from(pv.backend.is_some());
        for (i, it) in items.iter().enumerate() {
            self.line(&pp, i + 1 == n, it);
        }
        if let Some(b) = &pv.backend {
            let bp = self.line(&pp, true, &format!("backend: {}", b.summary));
            let fields: Vec<(&String, &String)> = b.fields.iter().collect();
            let m = fields.len();
            for (i, (k, v)) in fields.into_iter().enumerate() {
                self.line(&bp, i + 1 == m, &format!("{k}: {v}"));
            }
        }
    }
}

pub fn render_tree(report: &Report) -> String {
    let mut t = Tree {
        out: String::new(),
        diags: problems_by_object(report),
    };
    for (i, root) in report.roots.iter().enumerate() {
        if i > 0 {
            t.out.push('\n');
        }
        match root {
            Root::Pod(p) => t.pod("", true, p, true),
            Root::Claim(c) => {
                t.out.push_str(&format!("namespace {}\n", c.namespace));
                t.claim("", true, c);
            }
            Root::Volume(rv) => {
                let mut extra = Vec::new();
                match (&rv.claim, &rv.volume.claim_ref) {
                    (Some(c), _) => extra.push(format!(
                        "claimed by pvc/{} -n {} [{}] ({})",
                        c.name, c.namespace, c.phase, rv.claim_status
                    )),
                    (None, Some(cr)) => extra.push(format!(
                        "claimRef {}/{}: {}",
                        cr.namespace.as_deref().unwrap_or("-"),
                        cr.name,
                        match rv.claim_status.as_str() {
                            "missing" => "that claim no longer exists",
                            "unknown" => "unknown (claims not visible)",
                            other => other,
                        }
                    )),
                    (None, None) => extra.push("no claim".into()),
                }
                for p in &rv.pods {
                    let mut s = format!("used by pod/{} -n {} [{}]", p.name, p.namespace, p.phase);
                    if let Some(nd) = &p.node {
                        s.push_str(&format!(" on node {nd}"));
                    }
                    if let Some(o) = &p.owner {
                        s.push_str(&format!(" owned by {}/{}", o.kind.to_lowercase(), o.name));
                    }
                    extra.push(s);
                }
                if let Some(cl) = &rv.class {
                    extra.push(if cl.exists {
                        format!(
                            "storageclass/{} {} reclaim {}",
                            cl.name,
                            cl.provisioner.as_deref().unwrap_or("-"),
                            cl.reclaim_policy.as_deref().unwrap_or("-")
                        )
                    } else {
                        format!("storageclass/{} [not found]", cl.name)
                    });
                }
                // The claim and pods' own problems, under the volume.
                let mut pv = rv.volume.clone();
                pv.claim_ref = None; // drawn above, with its status
                let mut also = Vec::new();
                if let Some(c) = &rv.claim {
                    also.push(ObjectRef::new(
                        "PersistentVolumeClaim",
                        Some(&c.namespace),
                        &c.name,
                    ));
                }
                for p in &rv.pods {
                    also.push(ObjectRef::new("Pod", Some(&p.namespace), &p.name));
                }
                t.pv_with("", true, &pv, true, extra, &also);
            }
            Root::Workload(w) => {
                t.out.push_str(&format!(
                    "{}/{} -n {} replicas {}\n",
                    w.kind.to_lowercase(),
                    w.name,
                    w.namespace,
                    w.replicas
                ));
                let kind = if w.kind == "StatefulSet" {
                    "StatefulSet"
                } else {
                    "Deployment"
                };
                t.problems("", &ObjectRef::new(kind, Some(&w.namespace), &w.name));
                let total = w.expected_claims.len()
                    + w.leftover_claims.len()
                    + usize::from(w.expected_claims.is_empty()) * w.pods.len();
                let mut i = 0;
                for e in &w.expected_claims {
                    i += 1;
                    let label = if e.template.is_empty() {
                        format!("claim {}", e.name)
                    } else {
                        format!(
                            "claim {} (template {}, ordinal {})",
                            e.name, e.template, e.ordinal
                        )
                    };
                    match &e.claim {
                        Some(c) => {
                            let pod = w
                                .pods
                                .iter()
                                .find(|p| c.used_by.iter().any(|u| u.name == p.name));
                            let ep = t.line(
                                "",
                                i == total,
                                &format!(
                                    "{label}{}",
                                    pod.map(|p| format!(
                                        " ← pod/{} [{}]{}",
                                        p.name,
                                        p.phase,
                                        p.node
                                            .as_ref()
                                            .map(|n| format!(" on {n}"))
                                            .unwrap_or_default()
                                    ))
                                    .unwrap_or_default()
                                ),
                            );
                            if let Some(p) = pod {
                                t.problems(
                                    &ep,
                                    &ObjectRef::new("Pod", Some(&p.namespace), &p.name),
                                );
                            }
                            t.claim(&ep, true, c);
                        }
                        None => {
                            let ep = t.line("", i == total, &format!("{label} [Missing]"));
                            t.problems(
                                &ep,
                                &ObjectRef::new(
                                    "PersistentVolumeClaim",
                                    Some(&w.namespace),
                                    &e.name,
                                ),
                            );
                        }
                    }
                }
                for c in &w.leftover_claims {
                    i += 1;
                    let ep = t.line(
                        "",
                        i == total,
                        &format!("leftover claim {} (from a scale-down)", c.name),
                    );
                    t.claim(&ep, true, c);
                }
                if w.expected_claims.is_empty() {
                    for p in &w.pods {
                        i += 1;
                        t.pod("", i == total, p, false);
                    }
                }
            }
            Root::StorageClass(v) => {
                t.class(
                    "",
                    v.claims.is_empty() && v.unclaimed_volumes.is_empty(),
                    &v.class,
                );
                let n = v.claims.len() + v.unclaimed_volumes.len();
                let mut i = 0;
                for c in &v.claims {
                    i += 1;
                    t.claim("", i == n, c);
                }
                for pv in &v.unclaimed_volumes {
                    i += 1;
                    t.pv("", i == n, pv);
                }
            }
            Root::Node(nv) => {
                t.out.push_str(&format!(
                    "node/{}{}{}\n",
                    nv.name,
                    nv.zone
                        .as_ref()
                        .map(|z| format!(" (zone {z})"))
                        .unwrap_or_default(),
                    if nv.exists { "" } else { " [not found]" }
                ));
                let n = nv.pods.len() + nv.attachments.len() + nv.pinned_volumes.len();
                let mut i = 0;
                for p in &nv.pods {
                    i += 1;
                    t.pod("", i == n, p, false);
                }
                for a in &nv.attachments {
                    i += 1;
                    t.line(
                        "",
                        i == n,
                        &format!(
                            "attachment {} ← pv {} ({})",
                            a.name,
                            a.name,
                            if a.attached {
                                "attached"
                            } else {
                                "not attached"
                            }
                        ),
                    );
                }
                for pv in &nv.pinned_volumes {
                    i += 1;
                    t.line(
                        "",
                        i == n,
                        &format!("local volume pv/{pv} pinned to this node"),
                    );
                }
            }
        }
    }
    if report.roots.is_empty() {
        t.out.push_str("Nothing to trace.\n");
    }
    // Diagnostics about objects not drawn (e.g. Forbidden gaps) go last.
    let drawn: std::collections::HashSet<ObjectRef> = report
        .roots
        .iter()
        .flat_map(crate::build::root_objects)
        .collect();
    let rest: Vec<&Diagnostic> = report
        .diagnostics
        .iter()
        .filter(|d| !drawn.contains(&d.object) && d.severity >= Severity::Warning)
        .collect();
    if !rest.is_empty() {
        t.out.push_str("\nAlso:\n");
        for d in rest {
            t.out
                .push_str(&format!("  {} {}: {}\n", d.severity, d.code, d.message));
        }
    }
    t.out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Formatting the table in batches gives the text of one table, whatever the batch size.
    #[test]
    fn batched_tables_equal_one_table() {
        let mut snap = Snapshot::default();
        stateful_core::snapshot::parse_dump_into(
            &mut snap,
            std::path::Path::new("demo-cluster.yaml"),
            include_str!("../../../examples/demo-cluster.yaml"),
        )
        .unwrap();
        let report = trace(&snap, &TraceOptions::default()).unwrap();
        for wide in [false, true] {
            let cells = || {
                let by_obj = problems_by_object(&report);
                rows_of(&report)
                    .into_iter()
                    .map(|r| {
                        let p = problem_codes(&r.objects, |o| {
                            by_obj.get(o).map(|v| v.to_vec()).unwrap_or_default()
                        });
                        row_cells(r, p, wide)
                    })
                    .collect::<Vec<_>>()
            };
            let rows = cells().len();
            assert!(rows > 10, "{rows}");
            let mut whole = Vec::new();
            write_table(&mut whole, cells(), &report, wide, usize::MAX).unwrap();
            for batch in [1, 2, 7] {
                let mut batched = Vec::new();
                write_table(&mut batched, cells(), &report, wide, batch).unwrap();
                assert_eq!(
                    String::from_utf8(batched).unwrap(),
                    String::from_utf8(whole.clone()).unwrap(),
                    "batch {batch}, wide {wide}"
                );
            }
        }
    }
}
