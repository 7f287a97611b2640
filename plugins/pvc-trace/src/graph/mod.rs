//! The trace graph: from a snapshot to roots of pods, claims, volumes, classes and backends.
//! Pure and deterministic.
//!
//! [`trace_into`] builds root after root and pushes each into a [`Sink`] as soon as it is built
//! (only one root at a time is in memory), diagnosing every object on its first visit
//! (`crate::diagnose`); [`trace`] collects them into a whole [`Report`].
//!
//! - this file: the options, the entry points, the builder, and what a root shows;
//! - `roots`: which roots a trace has (the targets, or everything in scope);
//! - `nodes`: pods, their volumes, claims, volumes (also in reverse), classes, attachments;
//! - `views`: StatefulSets and Deployments with the claims they expect, StorageClasses, Nodes.

mod nodes;
mod roots;
mod views;

use crate::hash::HashSet;

use crate::diagnose::{Diagnoser, Findings, ObjKey};
use crate::index::Index;
use crate::model::*;
use crate::sink::{Collect, Sink};
use crate::target::Target;
use stateful_core::error::Result;
use stateful_core::snapshot::Kind;

pub use nodes::{has_data_volume, volume_type};

pub use crate::index::Snapshot;

/// What to trace.
#[derive(Debug, Clone, Default)]
pub struct TraceOptions {
    pub targets: Vec<Target>,
    /// The namespace in scope; None = all namespaces.
    pub namespace: Option<String>,
    /// `cluster` or `file`.
    pub source: String,
    /// `-l`: without targets, only pods it selects, the claims they use, claims it selects by
    /// their own labels, and (all namespaces) volumes it selects by theirs are traced.
    pub selector: Option<stateful_core::labels::Selector>,
    /// `--usage`: each mounted claim's usage from the kubelets' summaries (None: not asked).
    pub usage: Option<crate::usage::UsageInput>,
}

/// The kinds `trace` reads.
pub const KINDS: [Kind; 10] = [
    Kind::Pod,
    Kind::PersistentVolumeClaim,
    Kind::PersistentVolume,
    Kind::StorageClass,
    Kind::VolumeAttachment,
    Kind::Node,
    Kind::StatefulSet,
    Kind::Deployment,
    Kind::ReplicaSet,
    Kind::Event,
];

/// Trace the targets (or everything in scope) and diagnose.
pub fn trace(snap: &Snapshot, opts: &TraceOptions) -> Result<Report> {
    let mut all = Collect::default();
    let mut report = trace_into(snap, opts, None, &mut all)?;
    report.roots = all.roots;
    Ok(report)
}

/// The trace root by root: each root goes to `sink` as soon as it is built, so that only one
/// root at a time is in memory (`-A -o json` over 10,000 pods streams). With `problems`, only
/// roots that show an object with a diagnostic at or above that severity are pushed, and only
/// their diagnostics at or above it are kept (as [`retain_problems`] does on a whole report).
/// Targets are all resolved before the first root is pushed, so a missing one fails cleanly.
/// Ends with [`Sink::finish`]; returns the report without its roots.
pub fn trace_into(
    snap: &Snapshot,
    opts: &TraceOptions,
    problems: Option<Severity>,
    sink: &mut dyn Sink,
) -> Result<Report> {
    let mut b = Builder::new(snap);
    b.usage = opts.usage.as_ref();
    let mut shown: HashSet<ObjKey> = HashSet::default();
    let mut out = |b: &mut Builder, root: Root| -> Result<()> {
        let objs = root_objects(&root);
        let diagnosed = b.found.view();
        if let Some(min) = problems
            && !objs
                .iter()
                .any(|o| diagnosed.of(o).any(|d| d.severity >= min))
        {
            return Ok(());
        }
        shown.extend(objs.iter().map(ObjKey::of));
        sink.root(root, &diagnosed)
    };
    if opts.targets.is_empty() {
        b.everything(opts.namespace.is_none(), opts.selector.as_ref(), &mut out)?;
    } else {
        let mut roots = Vec::new();
        for t in &opts.targets {
            roots.push(b.target(t, opts.namespace.as_deref())?);
        }
        for r in roots {
            out(&mut b, r)?;
        }
    }
    for gap in &snap.gaps {
        b.diagnose().gap(gap);
    }
    // Free the index and the shown set before the sink finishes: a table is formatted then.
    let mut diagnostics = b.into_diagnostics();
    if let Some(min) = problems {
        diagnostics.retain(|d| d.severity >= min && shown.contains(&ObjKey::of(&d.object)));
    }
    diagnostics.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.object.cmp(&b.object))
            .then_with(|| a.code.cmp(&b.code))
    });
    let summary = summary_of(shown.iter().map(ObjKey::kind), &diagnostics);
    drop(shown);
    let report = Report {
        api_version: API_VERSION,
        kind: KIND,
        source: opts.source.clone(),
        namespace: opts.namespace.clone(),
        targets: opts.targets.iter().map(|t| t.to_string()).collect(),
        roots: Vec::new(),
        diagnostics,
        unknown: snap.gaps.clone(),
        summary,
    };
    sink.finish(&report)?;
    Ok(report)
}

/// Keep only roots that have a diagnostic at or above `min` (for `--problems`).
pub fn retain_problems(report: &mut Report, min: Severity) {
    let flagged: HashSet<&ObjectRef> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity >= min)
        .map(|d| &d.object)
        .collect();
    let keep: Vec<bool> = report
        .roots
        .iter()
        .map(|r| root_objects(r).iter().any(|o| flagged.contains(o)))
        .collect();
    let mut it = keep.into_iter();
    report.roots.retain(|_| it.next().unwrap_or(false));
    let objs: HashSet<ObjectRef> = report.roots.iter().flat_map(root_objects).collect();
    report
        .diagnostics
        .retain(|d| d.severity >= min && objs.contains(&d.object));
    report.summary = summarize(report);
}

fn summarize(report: &Report) -> Summary {
    let objs: HashSet<ObjectRef> = report.roots.iter().flat_map(root_objects).collect();
    summary_of(objs.iter().map(|o| o.kind.as_str()), &report.diagnostics)
}

/// Distinct pods, claims and volumes shown, and diagnostics by severity.
fn summary_of<'o>(kinds: impl Iterator<Item = &'o str>, diags: &[Diagnostic]) -> Summary {
    let mut s = Summary::default();
    for kind in kinds {
        match kind {
            "Pod" => s.pods += 1,
            "PersistentVolumeClaim" => s.claims += 1,
            "PersistentVolume" => s.volumes += 1,
            _ => {}
        }
    }
    for d in diags {
        match d.severity {
            Severity::Error => s.errors += 1,
            Severity::Warning => s.warnings += 1,
            Severity::Info => s.infos += 1,
        }
    }
    s
}

/// Every object a root shows (for filtering and counting).
pub fn root_objects(root: &Root) -> Vec<ObjectRef> {
    let mut out = Vec::new();
    fn claim(c: &ClaimNode, out: &mut Vec<ObjectRef>) {
        out.push(ObjectRef::new(
            "PersistentVolumeClaim",
            Some(&c.namespace),
            &c.name,
        ));
        if let Some(pv) = &c.volume {
            out.push(ObjectRef::new("PersistentVolume", None, &pv.name));
        }
        if let Some(cl) = &c.class {
            out.push(ObjectRef::new("StorageClass", None, &cl.name));
        }
    }
    fn pod(p: &PodNode, out: &mut Vec<ObjectRef>) {
        out.push(ObjectRef::new("Pod", Some(&p.namespace), &p.name));
        for v in &p.volumes {
            if let Some(c) = &v.claim {
                claim(c, out);
            }
        }
    }
    match root {
        Root::Pod(p) => pod(p, &mut out),
        Root::Claim(c) => claim(c, &mut out),
        Root::Volume(rv) => {
            out.push(ObjectRef::new("PersistentVolume", None, &rv.volume.name));
            if let Some(c) = &rv.claim {
                claim(c, &mut out);
            }
            for p in &rv.pods {
                out.push(ObjectRef::new("Pod", Some(&p.namespace), &p.name));
            }
        }
        Root::Workload(w) => {
            let kind = if w.kind == "StatefulSet" {
                "StatefulSet"
            } else {
                "Deployment"
            };
            out.push(ObjectRef::new(kind, Some(&w.namespace), &w.name));
            for e in &w.expected_claims {
                match &e.claim {
                    Some(c) => claim(c, &mut out),
                    None => out.push(ObjectRef::new(
                        "PersistentVolumeClaim",
                        Some(&w.namespace),
                        &e.name,
                    )),
                }
            }
            for c in &w.leftover_claims {
                claim(c, &mut out);
            }
            for p in &w.pods {
                pod(p, &mut out);
            }
        }
        Root::StorageClass(v) => {
            out.push(ObjectRef::new("StorageClass", None, &v.class.name));
            for c in &v.claims {
                claim(c, &mut out);
            }
            for pv in &v.unclaimed_volumes {
                out.push(ObjectRef::new("PersistentVolume", None, &pv.name));
            }
        }
        Root::Node(n) => {
            out.push(ObjectRef::new("Node", None, &n.name));
            for p in &n.pods {
                pod(p, &mut out);
            }
            for pv in &n.pinned_volumes {
                out.push(ObjectRef::new("PersistentVolume", None, pv));
            }
            for a in &n.attachments {
                out.push(match &a.volume {
                    Some(pv) => ObjectRef::new("PersistentVolume", None, pv),
                    None => ObjectRef::new("VolumeAttachment", None, &a.name),
                });
            }
        }
    }
    out
}

/// Builds the graph over the index; diagnoses each object on its first visit.
struct Builder<'a> {
    snap: &'a Snapshot,
    idx: Index<'a>,
    found: Findings,
    usage: Option<&'a crate::usage::UsageInput>,
}

/// Where `everything` hands each root.
type Out<'o, 'a> = dyn FnMut(&mut Builder<'a>, Root) -> Result<()> + 'o;

impl<'a> Builder<'a> {
    fn new(snap: &'a Snapshot) -> Self {
        Builder {
            snap,
            idx: Index::new(snap),
            found: Findings::default(),
            usage: None,
        }
    }

    /// The diagnosis, reading this builder's snapshot and index.
    fn diagnose(&mut self) -> Diagnoser<'_, 'a> {
        Diagnoser {
            snap: self.snap,
            idx: &self.idx,
            found: &mut self.found,
        }
    }

    /// Every diagnostic found, in order; the index and the rest are freed.
    fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.found.into_diagnostics()
    }

    /// `Unknown`, with the reason when the snapshot has a gap for `kind`.
    /// The phase of an object of `kind` that is not in the snapshot: `Missing` when the
    /// kind's list is complete, else `Unknown (why)`.
    fn absent_phase(&self, kind: Kind, ns: Option<&str>, name: &str) -> String {
        match self.snap.unknown_reason_of(kind, ns, name) {
            Some(why) => format!("Unknown ({why})"),
            None => "Missing".into(),
        }
    }
}
