//! `-o table` and `-o wide`: one row per chain (pod volume, claim, volume), kubectl-style, and
//! the problems footer. [`TableSink`] keeps only each root's row cells while the trace streams;
//! the table is written at the end, in batches of `TABLE_BATCH` rows with the widths of the
//! whole table.

use crate::diagnose::Diagnosed;
use crate::model::*;
use crate::sink::Sink;
use stateful_core::error::Result;
use stateful_core::output::jsonpath::Path;
use stateful_core::output::rows::{self, Layout};
use stateful_core::output::term::{Shrink, Tone, age_since, paint};
use stateful_core::output::{dash, written};

use super::{escape_terminal, problems_by_object, short_modes};

/// Writes the table of the roots pushed into it, with their problems, at the end.
pub struct TableSink<'w> {
    out: &'w mut dyn std::io::Write,
    notice: &'w mut dyn std::io::Write,
    look: Look,
    rows: Vec<Vec<String>>,
}

/// How a table looks: `-o wide`'s columns; `--no-headers`; the terminal's width (`None`: not
/// a terminal; ignored by `-o wide`, which shows everything); colour; `--sort-by` (a JSONPath
/// over each row's JSON: its cells by lower-case column name, e.g. `{.pv}`, `{.status}`);
/// `now` (seconds since the epoch) for the AGE column, `-` without it (analysis reads no clock).
#[derive(Debug, Clone, Default)]
pub struct Look {
    pub wide: bool,
    /// `--usage`: the USED, FREE, USE% and IUSE% columns.
    pub usage: bool,
    pub no_headers: bool,
    pub width: Option<usize>,
    pub color: bool,
    pub sort_by: Option<Path>,
    pub now: Option<i64>,
}

impl<'w> TableSink<'w> {
    /// The table goes to `out`; "No volumes found" to `notice` (stderr, as kubectl's "No
    /// resources found", so a script reading stdout sees nothing).
    pub fn new(
        out: &'w mut dyn std::io::Write,
        notice: &'w mut dyn std::io::Write,
        look: Look,
    ) -> Self {
        TableSink {
            out,
            notice,
            look,
            rows: Vec::new(),
        }
    }
}

impl Sink for TableSink<'_> {
    fn root(&mut self, root: Root, diagnosed: &Diagnosed<'_>) -> Result<()> {
        let mut rs = Vec::new();
        root_rows(&root, &mut rs);
        // Settle each row's problems now: only its cells are kept.
        for r in rs {
            let problems = problem_codes(&r.objects, |o| diagnosed.of(o).collect());
            self.rows.push(row_cells(r, problems, self.look.now));
        }
        Ok(())
    }

    fn finish(&mut self, report: &Report) -> Result<()> {
        let rows = std::mem::take(&mut self.rows);
        write_table(self.out, self.notice, rows, report, &self.look, TABLE_BATCH)
    }
}

/// One row: a chain's cells, and the objects it shows (for its problems column).
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
    /// `--usage`: the claim's used and free bytes, used percent of bytes and of inodes.
    used: String,
    free: String,
    use_pct: String,
    iuse_pct: String,
    /// The claim's creationTimestamp, else the volume's (RFC 3339), or `-`.
    created: String,
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
            used: "-".into(),
            free: "-".into(),
            use_pct: "-".into(),
            iuse_pct: "-".into(),
            created: "-".into(),
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
        self.created = dash(c.created.as_deref());
        if let Some(u) = &c.usage {
            self = self.with_usage(u);
        }
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

    /// The usage cells: numbers when known; `unknown (why)` in USED and `unknown` in the
    /// others when not; `not mounted` when no running pod mounts the claim.
    fn with_usage(mut self, u: &VolumeUsage) -> Row {
        let pct = |p: Option<u64>| p.map_or_else(|| "-".into(), |p| format!("{p}%"));
        match u.state {
            UsageState::Known => {
                self.used = crate::usage::bytes(u.used_bytes);
                self.free = crate::usage::bytes(u.available_bytes);
                self.use_pct = pct(u.used_percent);
                self.iuse_pct = pct(u.inodes_used_percent);
            }
            UsageState::Unknown => {
                self.used = match &u.reason {
                    Some(why) => format!("unknown ({why})"),
                    None => "unknown".into(),
                };
                self.free = "unknown".into();
                self.use_pct = "unknown".into();
                self.iuse_pct = "unknown".into();
            }
            UsageState::NotMounted => self.used = "not mounted".into(),
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
        if self.created == "-" {
            self.created = dash(pv.created.as_deref());
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

fn pod_rows(p: &PodNode, rows: &mut Vec<Row>) {
    let mut any = false;
    for v in &p.volumes {
        if matches!(
            v.type_.as_str(),
            "configMap" | "secret" | "projected" | "downwardAPI"
        ) {
            continue;
        }
        let first = !any;
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
        if !first {
            // The pod's own problems sit on its first row, not on every volume's.
            row.objects
                .retain(|o| !(o.kind == "Pod" && o.name == p.name));
        }
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
            } else if !rv.volume.attachments.is_empty() {
                row.node = attachment_nodes(&rv.volume.attachments);
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
            // Attachments no pod row shows (a volume left attached, or its pod elsewhere).
            for a in &n.attachments {
                let shown = a.volume.as_ref().is_some_and(|v| {
                    n.pods.iter().any(|p| {
                        p.volumes.iter().any(|pv| {
                            pv.claim
                                .as_ref()
                                .and_then(|c| c.volume.as_ref())
                                .is_some_and(|x| &x.name == v)
                        })
                    })
                });
                if shown {
                    continue;
                }
                let mut row = Row::empty("-");
                row.node = n.name.clone();
                row.pv = a.volume.clone().unwrap_or_else(|| "-".into());
                row.backend = format!("attachment {} ({})", a.name, a.attacher);
                row.status = attachment_state(a);
                row.objects.push(match &a.volume {
                    Some(pv) => ObjectRef::new("PersistentVolume", None, pv),
                    None => ObjectRef::new("VolumeAttachment", None, &a.name),
                });
                rows.push(row);
            }
        }
    }
}

/// The nodes a volume's attachments point at.
fn attachment_nodes(atts: &[AttachmentNode]) -> String {
    let mut nodes: Vec<&str> = atts.iter().map(|a| a.node.as_str()).collect();
    nodes.dedup();
    nodes.join(",")
}

/// An attachment's state in a status cell.
fn attachment_state(a: &AttachmentNode) -> String {
    if a.deleting_since.is_some() {
        "Detaching".into()
    } else if a.attached {
        "Attached".into()
    } else {
        "NotAttached".into()
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

/// A whole report as a table (the "No volumes found" notice in the same text).
pub(super) fn render_table(report: &Report, wide: bool) -> String {
    let mut out = Vec::new();
    let mut notice = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_report(
        &mut out,
        &mut notice,
        report,
        &Look {
            wide,
            ..Look::default()
        },
    );
    // The notice stands where the table would.
    notice.extend(out);
    String::from_utf8_lossy(&notice).into_owned()
}

/// A whole report as a table to `out`, the "No volumes found" notice to `notice`.
pub(super) fn write_report(
    out: &mut dyn std::io::Write,
    notice: &mut dyn std::io::Write,
    report: &Report,
    look: &Look,
) -> Result<()> {
    write_table(
        out,
        notice,
        all_cells(report, look.now),
        report,
        look,
        TABLE_BATCH,
    )
}

/// Every row's cells (all of [`COLUMNS`]), problems settled from the whole report, ages at
/// `now`.
pub(super) fn all_cells(report: &Report, now: Option<i64>) -> Vec<Vec<String>> {
    let by_obj = problems_by_object(report);
    rows_of(report)
        .into_iter()
        .map(|r| {
            let problems = problem_codes(&r.objects, |o| {
                by_obj.get(o).map(|v| v.to_vec()).unwrap_or_default()
            });
            row_cells(r, problems, now)
        })
        .collect()
}

/// Rows per comfy-table batch: a 10,000-row table is formatted a thousand rows at a time, with
/// the column widths of the whole table, so its formatted text never exists all at once.
const TABLE_BATCH: usize = 1000;

/// Every column a row has, in table order; `-o wide` shows them all but `created` (the AGE's
/// timestamp, for `--sort-by .created` and custom columns); the usage columns (`used`, `free`,
/// `use`, `iuse`; headers USED, FREE, USE%, IUSE%) only with `--usage`.
pub const COLUMNS: [&str; 21] = [
    "namespace",
    "pod",
    "node",
    "zone",
    "volume",
    "mounts",
    "claim",
    "status",
    "size",
    "access",
    "pv",
    "reclaim",
    "class",
    "used",
    "free",
    "use",
    "iuse",
    "age",
    "backend",
    "problems",
    "created",
];

/// The columns `--usage` adds.
const USAGE_ONLY: [&str; 4] = ["used", "free", "use", "iuse"];

/// A column's header (upper-cased by the table writer): its name, but `USE%` and `IUSE%`.
fn header(column: &'static str) -> &'static str {
    match column {
        "use" => "use%",
        "iuse" => "iuse%",
        c => c,
    }
}

/// The columns only `-o wide` shows.
const WIDE_ONLY: [&str; 5] = ["node", "zone", "mounts", "access", "reclaim"];

/// On a terminal too narrow for the table, these columns are shortened (with `…`) in this
/// order, each down to its minimum before the next: the backend first, then the problems
/// (the footer lists them in full), USED (its unknown reason), the size, the class, the volume and the status. The names
/// a user copies (namespace, pod, claim, pv) are never shortened.
pub const SHRINK_ORDER: [(&str, usize); 7] = [
    ("backend", 16),
    ("problems", 14),
    ("used", 9),
    ("size", 8),
    ("class", 8),
    ("volume", 8),
    ("status", 7),
];

/// A row as JSON, for `--sort-by` and `-o custom-columns`: its cells by column name; `use`
/// and `iuse` as numbers when known (`96`, so that `--sort-by .use` sorts by value).
pub(super) fn row_json(cells: &[String]) -> serde_json::Value {
    serde_json::Value::Object(
        COLUMNS
            .iter()
            .zip(cells)
            .map(|(k, v)| {
                let pct = matches!(*k, "use" | "iuse")
                    .then(|| v.strip_suffix('%').and_then(|p| p.parse::<u64>().ok()))
                    .flatten();
                let value = match pct {
                    Some(p) => serde_json::Value::from(p),
                    None => serde_json::Value::from(v.as_str()),
                };
                (k.to_string(), value)
            })
            .collect(),
    )
}

/// The columns shown: `-o wide` all, else all but [`WIDE_ONLY`]; NAMESPACE only across
/// namespaces (kubectl hides it under `-n`); `created` never (AGE shows it).
fn shown_columns(wide: bool, namespace: bool, usage: bool) -> Vec<usize> {
    (0..COLUMNS.len())
        .filter(|&i| COLUMNS[i] != "created")
        .filter(|&i| usage || !USAGE_ONLY.contains(&COLUMNS[i]))
        .filter(|&i| wide || !WIDE_ONLY.contains(&COLUMNS[i]))
        .filter(|&i| namespace || COLUMNS[i] != "namespace")
        .collect()
}

/// A row's cells, in the order of [`COLUMNS`]; its age seen at `now`.
fn row_cells(r: Row, problems: String, now: Option<i64>) -> Vec<String> {
    let age = match now {
        Some(now) => age_since(Some(r.created.as_str()), now),
        None => "-".into(),
    };
    let cells = [
        r.namespace,
        r.pod,
        r.node,
        r.zone,
        r.volume,
        r.mounts,
        r.claim,
        r.status,
        r.size,
        r.access,
        r.pv,
        r.reclaim,
        r.class,
        r.used,
        r.free,
        r.use_pct,
        r.iuse_pct,
        age,
        r.backend,
        problems,
        r.created,
    ];
    // Object data never reaches the terminal raw.
    cells
        .into_iter()
        .map(|c| escape_terminal(&c, true).into_owned())
        .collect()
}

/// The table (or "No volumes found"), then the problems footer, line by line to `out`,
/// sorted by `--sort-by` when given, through the core's table writer (batches of `batch`
/// rows with the whole table's widths; on a terminal, fitted to its width by [`SHRINK_ORDER`]).
/// A closed pipe ends quietly.
fn write_table(
    out: &mut dyn std::io::Write,
    notice: &mut dyn std::io::Write,
    mut rows: Vec<Vec<String>>,
    report: &Report,
    look: &Look,
    batch: usize,
) -> Result<()> {
    use std::io::Write;
    if let Some(path) = &look.sort_by {
        let mut keyed: Vec<(serde_json::Value, Vec<String>)> =
            rows.into_iter().map(|r| (row_json(&r), r)).collect();
        rows::sort_by(&mut keyed, |(j, _)| j, path);
        rows = keyed.into_iter().map(|(_, r)| r).collect();
    }
    // NAMESPACE across namespaces, or when rows of another namespace than the one asked for
    // are shown (a snapshot that was not scoped).
    let other_ns = |r: &Vec<String>| {
        report
            .namespace
            .as_deref()
            .is_none_or(|ns| r[0] != ns && r[0] != "-")
    };
    let shown = shown_columns(look.wide, rows.iter().any(other_ns), look.usage);
    let headers: Vec<&str> = shown.iter().map(|&i| header(COLUMNS[i])).collect();
    let at = |name: &str| headers.iter().position(|h| *h == name);
    let shrink: Vec<Shrink> = SHRINK_ORDER
        .iter()
        .filter_map(|(name, min)| at(name).map(|column| Shrink { column, min: *min }))
        .collect();
    let toned: Vec<usize> = ["status", "problems"]
        .iter()
        .filter_map(|n| at(n))
        .collect();
    let layout = Layout {
        headers: &headers,
        shrink: &shrink,
        toned: &toned,
    };
    let core_look = rows::Look {
        no_headers: look.no_headers,
        width: if look.wide { None } else { look.width },
        color: look.color,
    };
    let mut w = std::io::BufWriter::with_capacity(1 << 16, out);
    let res = (|| {
        if rows.is_empty() {
            notice.write_all(
                match &report.namespace {
                    Some(ns) => format!("No volumes found in namespace {ns}.\n"),
                    None => "No volumes found.\n".to_string(),
                }
                .as_bytes(),
            )?;
        } else {
            let projected: Vec<Vec<String>> = rows
                .into_iter()
                .map(|mut r| shown.iter().map(|&i| std::mem::take(&mut r[i])).collect())
                .collect();
            rows::write_rows(&mut w, layout, &projected, core_look, batch)?;
        }
        w.write_all(footer(report, Severity::Warning, look.color).as_bytes())?;
        w.flush()
    })();
    written(res)
}

/// Problems (at or above `min`), one per line, then the unknowns.
fn footer(report: &Report, min: Severity, color: bool) -> String {
    let mut out = String::new();
    let shown: Vec<&Diagnostic> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity >= min)
        .collect();
    if !shown.is_empty() {
        out.push_str("\nProblems:\n");
        for d in shown {
            let tone = match d.severity {
                Severity::Error => Tone::Bad,
                Severity::Warning => Tone::Warn,
                _ => Tone::Dim,
            };
            out.push_str(&format!(
                "  {} {:<24} {}\n",
                paint(&format!("{:<7}", d.severity.to_string()), tone, color),
                escape_terminal(&d.code, true),
                escape_terminal(&d.message, true)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Snapshot, TraceOptions, trace};

    /// The demo dump's whole trace.
    fn demo_report() -> Report {
        let mut snap = Snapshot::default();
        stateful_core::snapshot::parse_dump_into(
            &mut snap,
            std::path::Path::new("demo-cluster.yaml"),
            include_str!("../../../../examples/demo-cluster.yaml"),
        )
        .unwrap();
        trace(&snap, &TraceOptions::default()).unwrap()
    }

    /// Formatting the table in batches gives the text of one table, whatever the batch size.
    #[test]
    fn batched_tables_equal_one_table() {
        let report = demo_report();
        for wide in [false, true] {
            let rows = all_cells(&report, None).len();
            assert!(rows > 10, "{rows}");
            for no_headers in [false, true] {
                let look = Look {
                    wide,
                    no_headers,
                    ..Look::default()
                };
                let mut whole = Vec::new();
                write_table(
                    &mut whole,
                    &mut Vec::new(),
                    all_cells(&report, None),
                    &report,
                    &look,
                    usize::MAX,
                )
                .unwrap();
                let text = String::from_utf8(whole.clone()).unwrap();
                assert_eq!(text.starts_with("NAMESPACE"), !no_headers, "{text}");
                for batch in [1, 2, 7] {
                    let mut batched = Vec::new();
                    write_table(
                        &mut batched,
                        &mut Vec::new(),
                        all_cells(&report, None),
                        &report,
                        &look,
                        batch,
                    )
                    .unwrap();
                    assert_eq!(
                        String::from_utf8(batched).unwrap(),
                        text,
                        "batch {batch}, {look:?}"
                    );
                }
            }
        }
    }

    /// AGE: the claim's creationTimestamp seen at `now` (the volume's on a row without a
    /// claim, `-` on a pod's emptyDir); `created` in the row's JSON, never a shown column.
    #[test]
    fn age_is_the_claims_then_the_volumes() {
        let report = demo_report();
        // 2026-12-03T09:14:03Z: 13 days after the demo's objects were created.
        let now = Some(1_796_289_243);
        let at = |name: &str| COLUMNS.iter().position(|c| *c == name).unwrap();
        let cells = all_cells(&report, now);
        let row = |claim: &str| cells.iter().find(|r| r[at("claim")] == claim).unwrap();
        let claim = row("data-postgres-0");
        assert_eq!(claim[at("age")], "13d", "{claim:?}");
        assert!(claim[at("created")].starts_with("2026-11-"), "{claim:?}");
        let emptydir = cells.iter().find(|r| r[at("volume")] == "dshm").unwrap();
        assert_eq!(emptydir[at("age")], "-");
        // A volume with no live claim is aged by itself.
        let unclaimed = cells
            .iter()
            .find(|r| r[at("pod")] == "-" && r[at("claim")] != "-" && r[at("claim")].contains('('));
        if let Some(r) = unclaimed {
            assert_ne!(r[at("age")], "-", "{r:?}");
        }
        assert!(all_cells(&report, None).iter().all(|r| r[at("age")] == "-"));
        let mut out = Vec::new();
        let look = Look {
            now,
            ..Look::default()
        };
        write_report(&mut out, &mut Vec::new(), &report, &look).unwrap();
        let text = String::from_utf8(out).unwrap();
        let header = text.lines().next().unwrap();
        assert!(header.contains(" AGE "), "{header}");
        assert!(!header.contains("CREATED"), "{header}");
    }

    /// Under `-n`, NAMESPACE is hidden unless rows of another namespace are shown.
    #[test]
    fn namespace_column_when_rows_span_namespaces() {
        let mut report = demo_report();
        report.namespace = Some("shop".into());
        let header = |rows: Vec<Vec<String>>| {
            let mut out = Vec::new();
            write_table(
                &mut out,
                &mut Vec::new(),
                rows,
                &report,
                &Look::default(),
                10,
            )
            .unwrap();
            String::from_utf8(out)
                .unwrap()
                .lines()
                .next()
                .unwrap()
                .to_string()
        };
        let all = all_cells(&report, None);
        assert!(header(all.clone()).starts_with("NAMESPACE"));
        let shop: Vec<Vec<String>> = all.into_iter().filter(|r| r[0] == "shop").collect();
        assert!(header(shop).starts_with("POD"));
    }

    /// No rows: nothing on stdout, kubectl's "No resources found" habit on the notice stream.
    #[test]
    fn no_volumes_is_a_notice_not_output() {
        let report = Report {
            api_version: "kubectl-stateful.io/v1alpha1",
            kind: "PvcTrace",
            source: "file".into(),
            namespace: Some("prod".into()),
            targets: vec![],
            roots: vec![],
            diagnostics: vec![],
            unknown: vec![],
            summary: Summary::default(),
        };
        let (mut out, mut notice) = (Vec::new(), Vec::new());
        write_table(&mut out, &mut notice, vec![], &report, &Look::default(), 10).unwrap();
        assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
        assert_eq!(
            String::from_utf8(notice).unwrap(),
            "No volumes found in namespace prod.\n"
        );
    }
}
