//! Building the trace graph and its diagnostics from a snapshot. Pure and deterministic.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use k8s_openapi::api::core::v1::{NodeSelectorRequirement, NodeSelectorTerm};
use k8s_openapi::api::storage::v1::{StorageClass, VolumeAttachment};

use crate::backend::decode_pv;
use crate::index::{Index, volume_claim_name};
use crate::model::*;
use crate::quantity;
use crate::target::Target;
use stateful_core::error::{Error, Result};
use stateful_core::snapshot::lean::{
    MetaView, PersistentVolume, PersistentVolumeClaim, Pod, SmallMap, Volume,
};
use stateful_core::snapshot::{Gap, GapReason, Kind, Lean};

/// The snapshot the trace reads: lean pods, claims and volumes.
pub type Snapshot = stateful_core::snapshot::Snapshot<Lean>;

pub const ZONE_LABELS: [&str; 2] = [
    "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/zone",
];

/// What to trace.
#[derive(Debug, Clone, Default)]
pub struct TraceOptions {
    pub targets: Vec<Target>,
    /// The namespace in scope; None = all namespaces.
    pub namespace: Option<String>,
    /// `cluster` or `file`.
    pub source: String,
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
    let mut roots = Vec::new();
    let mut report = trace_each(snap, opts, None, &mut |r, _| {
        roots.push(r);
        Ok(())
    })?;
    report.roots = roots;
    Ok(report)
}

/// The trace root by root: each root goes to `emit` as soon as it is built, so that only one
/// root at a time is in memory (`-A -o json` over 10,000 pods streams). With `problems`, only
/// roots that show an object with a diagnostic at or above that severity are emitted, and only
/// their diagnostics at or above it are kept (as [`retain_problems`] does on a whole report).
/// Targets are all resolved before the first root is emitted, so a missing one fails cleanly.
/// Returns the report without its roots.
pub fn trace_each(
    snap: &Snapshot,
    opts: &TraceOptions,
    problems: Option<Severity>,
    emit: &mut dyn FnMut(Root, &Diagnosed<'_>) -> Result<()>,
) -> Result<Report> {
    let mut b = Builder::new(snap);
    let mut shown: HashSet<ObjKey> = HashSet::new();
    let mut out = |b: &mut Builder, root: Root| -> Result<()> {
        let objs = root_objects(&root);
        let diagnosed = Diagnosed {
            diags: &b.diags,
            by_object: &b.by_object,
        };
        if let Some(min) = problems
            && !objs
                .iter()
                .any(|o| diagnosed.of(o).any(|d| d.severity >= min))
        {
            return Ok(());
        }
        shown.extend(objs.iter().map(ObjKey::of));
        emit(root, &diagnosed)
    };
    if opts.targets.is_empty() {
        b.everything(opts.namespace.is_none(), &mut out)?;
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
        b.gap_diagnostic(gap);
    }
    let mut diagnostics = b.diags;
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
    Ok(Report {
        api_version: API_VERSION,
        kind: KIND,
        source: opts.source.clone(),
        namespace: opts.namespace.clone(),
        targets: opts.targets.iter().map(|t| t.to_string()).collect(),
        roots: Vec::new(),
        diagnostics,
        unknown: snap.gaps.clone(),
        summary,
    })
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
        }
    }
    out
}

struct Builder<'a> {
    snap: &'a Snapshot,
    idx: Index<'a>,
    diags: Vec<Diagnostic>,
    diagnosed: HashSet<ObjKey>,
    /// The diagnostics so far, by object (indices into `diags`): for streaming, and to keep
    /// one per object and code.
    by_object: HashMap<ObjectRef, Vec<usize>>,
}

/// The diagnostics found so far, while roots stream: when a root is emitted, every diagnostic
/// about its objects is known (objects are diagnosed on their first visit).
pub struct Diagnosed<'b> {
    diags: &'b [Diagnostic],
    by_object: &'b HashMap<ObjectRef, Vec<usize>>,
}

impl Diagnosed<'_> {
    /// The diagnostics about `o`, in the order found.
    pub fn of(&self, o: &ObjectRef) -> impl Iterator<Item = &Diagnostic> {
        self.by_object
            .get(o)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.diags.get(i))
    }
}

/// An [`ObjectRef`] as one exact-size string (`kind`, namespace and name joined by NUL, which
/// no name contains): the sets of objects seen while tracing 10,000 pods hold tens of thousands
/// of these, at a third of an `ObjectRef`'s memory.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ObjKey(Box<str>);

impl ObjKey {
    fn of(o: &ObjectRef) -> ObjKey {
        let ns = o.namespace.as_deref().unwrap_or("");
        let mut s = String::with_capacity(o.kind.len() + ns.len() + o.name.len() + 2);
        s.push_str(&o.kind);
        s.push('\0');
        s.push_str(ns);
        s.push('\0');
        s.push_str(&o.name);
        ObjKey(s.into_boxed_str())
    }

    fn kind(&self) -> &str {
        self.0.split('\0').next().unwrap_or("")
    }
}

/// Where `everything` hands each root.
type Out<'o, 'a> = dyn FnMut(&mut Builder<'a>, Root) -> Result<()> + 'o;

fn meta_name<M: MetaView>(m: &M) -> &str {
    m.name().unwrap_or("")
}

fn meta_ns<M: MetaView>(m: &M) -> &str {
    m.namespace().unwrap_or("")
}

fn pod_ref(p: &Pod) -> ObjectRef {
    ObjectRef::new("Pod", Some(meta_ns(&p.metadata)), meta_name(&p.metadata))
}

fn claim_ref(ns: &str, name: &str) -> ObjectRef {
    ObjectRef::new("PersistentVolumeClaim", Some(ns), name)
}

fn pv_ref(name: &str) -> ObjectRef {
    ObjectRef::new("PersistentVolume", None, name)
}

fn storage_of(
    map: Option<&SmallMap<k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
) -> Option<String> {
    map.and_then(|m| m.get("storage")).map(|q| q.0.clone())
}

fn pod_phase(p: &Pod) -> String {
    if p.metadata.deletion_timestamp.is_some() {
        return "Terminating".into();
    }
    p.status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Unknown".into())
}

/// Is the pod active (would hold its volumes)?
fn pod_active(p: &Pod) -> bool {
    !matches!(pod_phase(p).as_str(), "Succeeded" | "Failed")
}

pub fn node_zone(labels: Option<&BTreeMap<String, String>>) -> Option<String> {
    let l = labels?;
    ZONE_LABELS.iter().find_map(|k| l.get(*k).cloned())
}

fn requirement_matches(
    r: &NodeSelectorRequirement,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    let v = labels.and_then(|l| l.get(&r.key));
    let vals = r.values.as_deref().unwrap_or(&[]);
    match r.operator.as_str() {
        "In" => v.is_some_and(|v| vals.contains(v)),
        "NotIn" => v.is_none_or(|v| !vals.contains(v)),
        "Exists" => v.is_some(),
        "DoesNotExist" => v.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(bound)) = (
                v.and_then(|v| v.parse::<i64>().ok()),
                vals.first().and_then(|b| b.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if r.operator == "Gt" {
                v > bound
            } else {
                v < bound
            }
        }
        _ => false,
    }
}

/// Does a node (name + labels) satisfy one node selector term?
fn term_matches(
    t: &NodeSelectorTerm,
    name: &str,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    let exprs_ok = t
        .match_expressions
        .iter()
        .flatten()
        .all(|r| requirement_matches(r, labels));
    let fields_ok = t.match_fields.iter().flatten().all(|r| {
        let mut l = BTreeMap::new();
        l.insert("metadata.name".to_string(), name.to_string());
        requirement_matches(r, Some(&l))
    });
    exprs_ok && fields_ok
}

fn pv_terms(pv: &PersistentVolume) -> &[NodeSelectorTerm] {
    pv.spec
        .as_ref()
        .and_then(|s| s.node_affinity.as_ref())
        .and_then(|a| a.required.as_ref())
        .map(|r| r.node_selector_terms.as_slice())
        .unwrap_or(&[])
}

fn describe_term(t: &NodeSelectorTerm) -> String {
    let mut parts = Vec::new();
    for r in t
        .match_expressions
        .iter()
        .flatten()
        .chain(t.match_fields.iter().flatten())
    {
        let vals = r.values.clone().unwrap_or_default().join(",");
        parts.push(match r.operator.as_str() {
            "In" => format!("{} in ({vals})", r.key),
            "NotIn" => format!("{} notin ({vals})", r.key),
            "Exists" => r.key.clone(),
            "DoesNotExist" => format!("!{}", r.key),
            op => format!("{} {op} {vals}", r.key),
        });
    }
    parts.join(", ")
}

/// The class a claim names: its `storageClassName`, else the beta annotation that Kubernetes
/// still honours in its place. None: the default class applies.
fn explicit_class(c: &PersistentVolumeClaim) -> Option<&str> {
    c.spec
        .as_ref()
        .and_then(|s| s.storage_class_name.as_deref())
        .or_else(|| {
            c.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("volume.beta.kubernetes.io/storage-class"))
                .map(String::as_str)
        })
}

fn has_mode(modes: &[String], m: &str) -> bool {
    modes.iter().any(|x| x == m)
}

impl<'a> Builder<'a> {
    fn new(snap: &'a Snapshot) -> Self {
        Builder {
            snap,
            idx: Index::new(snap),
            diags: Vec::new(),
            diagnosed: HashSet::new(),
            by_object: HashMap::new(),
        }
    }

    fn diag(&mut self, severity: Severity, code: &str, object: ObjectRef, message: String) {
        // One diagnostic per (object, code): the first found stands.
        let found = self.by_object.entry(object.clone()).or_default();
        if found
            .iter()
            .any(|&i| self.diags.get(i).is_some_and(|d| d.code == code))
        {
            return;
        }
        found.push(self.diags.len());
        self.diags.push(Diagnostic {
            severity,
            code: code.to_string(),
            object,
            message,
        });
    }

    /// Run `f` once per object (diagnostics are about objects, not about paths to them).
    fn first_visit(&mut self, o: &ObjectRef) -> bool {
        self.diagnosed.insert(ObjKey::of(o))
    }

    fn gap_diagnostic(&mut self, gap: &Gap) {
        let (sev, code) = match gap.reason {
            GapReason::Forbidden => (Severity::Warning, "Forbidden"),
            GapReason::NotServed => (Severity::Info, "NotServed"),
            GapReason::NotInDump => (Severity::Info, "NotInDump"),
        };
        let object = ObjectRef::new(&gap.resource, gap.namespace.as_deref(), "*");
        let msg = match gap.reason {
            GapReason::Forbidden => format!(
                "unknown ({gap}): results that need {} are partial; ask for list permission on {} to see them",
                gap.resource, gap.resource
            ),
            GapReason::NotServed => format!("unknown ({gap})"),
            GapReason::NotInDump => format!(
                "unknown ({gap}): add them to the dump (kubectl get {} -A -o yaml) for a full trace",
                gap.resource
            ),
        };
        self.diag(sev, code, object, msg);
    }

    fn unknown_text(&self, kind: Kind) -> String {
        match self.snap.gap(kind) {
            Some(g) => format!("Unknown ({g})"),
            None => "Unknown".into(),
        }
    }

    // ---- lookups ------------------------------------------------------------------------

    fn find_namespaced<T, M: MetaView>(
        &self,
        kind: Kind,
        kind_name: &str,
        name: &str,
        ns: Option<&str>,
        items: impl Iterator<Item = &'a T>,
        meta: impl Fn(&T) -> &M,
    ) -> Result<&'a T>
    where
        T: 'a,
    {
        if let Some(g) = self.snap.gap(kind)
            && g.reason == GapReason::Forbidden
        {
            return Err(Error::Forbidden {
                verb: "list".into(),
                resource: kind.resource().into(),
                namespace: g.namespace.clone(),
                message: g.message.clone(),
            });
        }
        let found: Vec<&T> = items
            .filter(|o| meta(o).name() == Some(name))
            .filter(|o| ns.is_none_or(|ns| meta(o).namespace() == Some(ns)))
            .collect();
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(Error::not_found(kind_name, name, ns)),
            many => {
                let nss: Vec<&str> = many.iter().map(|o| meta_ns(meta(o))).collect();
                Err(Error::Usage(format!(
                    "{kind_name} \"{name}\" exists in several namespaces ({}): pick one with -n",
                    nss.join(", ")
                )))
            }
        }
    }

    fn target(&mut self, t: &Target, ns: Option<&str>) -> Result<Root> {
        let snap = self.snap;
        Ok(match t {
            Target::Pod(n) => {
                let p = self
                    .find_namespaced(Kind::Pod, "pod", n, ns, snap.pods.iter(), |o| &o.metadata)?;
                Root::Pod(self.pod_node(p))
            }
            Target::Claim(n) => {
                let c = self.find_namespaced(
                    Kind::PersistentVolumeClaim,
                    "persistentvolumeclaim",
                    n,
                    ns,
                    snap.pvcs.iter(),
                    |o| &o.metadata,
                )?;
                Root::Claim(self.claim_node(meta_ns(&c.metadata), n))
            }
            Target::Volume(n) => {
                let pv = self.find_namespaced(
                    Kind::PersistentVolume,
                    "persistentvolume",
                    n,
                    None,
                    snap.pvs.iter(),
                    |o| &o.metadata,
                )?;
                Root::Volume(Box::new(self.reverse_volume(pv)))
            }
            Target::StatefulSet(n) => {
                let s = self.find_namespaced(
                    Kind::StatefulSet,
                    "statefulset",
                    n,
                    ns,
                    snap.statefulsets.iter(),
                    |o| &o.metadata,
                )?;
                Root::Workload(self.statefulset(s))
            }
            Target::Deployment(n) => {
                let d = self.find_namespaced(
                    Kind::Deployment,
                    "deployment",
                    n,
                    ns,
                    snap.deployments.iter(),
                    |o| &o.metadata,
                )?;
                Root::Workload(self.deployment(d))
            }
            Target::StorageClass(n) => {
                let sc = self.find_namespaced(
                    Kind::StorageClass,
                    "storageclass",
                    n,
                    None,
                    snap.storage_classes.iter(),
                    |o| &o.metadata,
                )?;
                Root::StorageClass(self.class_view(sc))
            }
            Target::Node(n) => {
                let exists = self.idx.nodes.contains_key(n.as_str());
                let has_pods = snap.pods.iter().any(|p| {
                    p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(n.as_str())
                });
                if !exists && !has_pods {
                    return Err(Error::not_found("node", n, None));
                }
                Root::Node(self.node_view(n))
            }
        })
    }

    fn everything(&mut self, all_namespaces: bool, out: &mut Out<'_, 'a>) -> Result<()> {
        let snap = self.snap;
        let mut pods: Vec<&Pod> = snap.pods.iter().filter(|p| has_data_volume(p)).collect();
        pods.sort_by_key(|p| (meta_ns(&p.metadata), meta_name(&p.metadata)));
        let mut used: HashSet<(String, String)> = HashSet::new();
        for p in pods {
            let node = self.pod_node(p);
            for v in &node.volumes {
                if let Some(c) = &v.claim {
                    used.insert((c.namespace.clone(), c.name.clone()));
                }
            }
            out(self, Root::Pod(node))?;
        }
        let mut claims: Vec<&PersistentVolumeClaim> = snap
            .pvcs
            .iter()
            .filter(|c| {
                !used.contains(&(
                    meta_ns(&c.metadata).to_string(),
                    meta_name(&c.metadata).to_string(),
                ))
            })
            .collect();
        claims.sort_by_key(|c| (meta_ns(&c.metadata), meta_name(&c.metadata)));
        for c in claims {
            let root = Root::Claim(self.claim_node(meta_ns(&c.metadata), meta_name(&c.metadata)));
            out(self, root)?;
        }
        if all_namespaces {
            let mut pvs: Vec<&PersistentVolume> = snap
                .pvs
                .iter()
                .filter(|pv| !self.has_live_claim(pv))
                .collect();
            pvs.sort_by_key(|pv| meta_name(&pv.metadata));
            for pv in pvs {
                let root = Root::Volume(Box::new(self.reverse_volume(pv)));
                out(self, root)?;
            }
        }
        Ok(())
    }

    /// Is the PV bound to a claim that exists with the same UID (and is the claim in view)?
    fn has_live_claim(&self, pv: &PersistentVolume) -> bool {
        let Some(cr) = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) else {
            return false;
        };
        let (ns, name) = (
            cr.namespace.as_deref().unwrap_or(""),
            cr.name.as_deref().unwrap_or(""),
        );
        match self.idx.pvcs.get(&(ns, name)) {
            Some(c) => cr.uid.is_none() || c.metadata.uid == cr.uid,
            None => !self.snap.knows(Kind::PersistentVolumeClaim),
        }
    }

    // ---- nodes of the graph ---------------------------------------------------------------

    fn owner_of<M: MetaView>(&self, meta: &M) -> Option<ObjectRef> {
        let ns = meta_ns(meta);
        let owners = meta.owners();
        let o = owners
            .iter()
            .find(|o| o.controller == Some(true))
            .or_else(|| owners.first())?;
        if o.kind == "ReplicaSet"
            && let Some(rs) = self.idx.replicasets_by_uid.get(o.uid.as_str())
            && let Some(dep) = rs
                .metadata
                .owner_references
                .iter()
                .flatten()
                .find(|r| r.kind == "Deployment")
        {
            return Some(ObjectRef::new("Deployment", Some(ns), &dep.name));
        }
        Some(ObjectRef::new(&o.kind, Some(ns), &o.name))
    }

    fn pod_node(&mut self, p: &'a Pod) -> PodNode {
        let ns = meta_ns(&p.metadata).to_string();
        let spec = p.spec.as_ref();
        let node = spec.and_then(|s| s.node_name.clone());
        let zone = node
            .as_deref()
            .and_then(|n| self.idx.nodes.get(n))
            .and_then(|n| node_zone(n.metadata.labels.as_ref()));
        let mut volumes = Vec::new();
        for v in spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
            volumes.push(self.volume_node(p, v));
        }
        self.diagnose_pod(p);
        PodNode {
            name: meta_name(&p.metadata).to_string(),
            namespace: ns,
            node,
            zone,
            phase: pod_phase(p),
            owner: self.owner_of(&p.metadata),
            volumes,
        }
    }

    fn volume_node(&mut self, p: &'a Pod, v: &Volume) -> VolumeNode {
        let mut mounts = Vec::new();
        if let Some(spec) = &p.spec {
            let all = spec
                .init_containers
                .iter()
                .flatten()
                .chain(spec.containers.iter());
            for c in all {
                for m in c.volume_mounts.iter().flatten() {
                    if m.name == v.name {
                        mounts.push(Mount {
                            container: c.name.clone(),
                            path: m.mount_path.clone(),
                            read_only: m.read_only.unwrap_or(false),
                            sub_path: m.sub_path.clone().or_else(|| m.sub_path_expr.clone()),
                        });
                    }
                }
            }
        }
        let (type_, detail) = volume_type(v);
        let claim = volume_claim_name(p, v).map(|c| {
            let ns = meta_ns(&p.metadata).to_string();
            self.claim_node(&ns, &c)
        });
        VolumeNode {
            name: v.name.clone(),
            type_,
            detail,
            mounts,
            claim,
        }
    }

    fn class_node(&self, name: &str) -> ClassNode {
        match self.idx.storage_classes.get(name) {
            Some(sc) => class_node_of(sc),
            None => ClassNode {
                name: name.to_string(),
                exists: false,
                provisioner: None,
                binding_mode: None,
                reclaim_policy: None,
                allow_expansion: false,
                is_default: false,
            },
        }
    }

    /// The class a claim uses: its storageClassName, else the default class.
    fn claim_class(&self, c: &PersistentVolumeClaim) -> Option<String> {
        match explicit_class(c) {
            Some("") => None,
            Some(n) => Some(n.to_string()),
            None => self
                .idx
                .default_classes
                .first()
                .map(|sc| meta_name(&sc.metadata).to_string()),
        }
    }

    fn claim_node(&mut self, ns: &str, name: &str) -> ClaimNode {
        let r = claim_ref(ns, name);
        let used_by: Vec<ObjectRef> = self
            .idx
            .pods_by_claim
            .get(&(ns, name.to_string()))
            .map(|v| v.iter().map(|p| pod_ref(p)).collect())
            .unwrap_or_default();
        let Some(c) = self.idx.pvcs.get(&(ns, name)).copied() else {
            let phase = if self.snap.knows(Kind::PersistentVolumeClaim) {
                "Missing".to_string()
            } else {
                self.unknown_text(Kind::PersistentVolumeClaim)
            };
            return ClaimNode {
                name: name.to_string(),
                namespace: ns.to_string(),
                phase,
                requested: None,
                capacity: None,
                access_modes: vec![],
                storage_class: None,
                volume_mode: None,
                selected_node: None,
                used_by,
                volume: None,
                class: None,
            };
        };
        let spec = c.spec.as_ref();
        let status = c.status.as_ref();
        let class_name = self.claim_class(c);
        let class = class_name.as_deref().map(|n| self.class_node(n));
        let volume = spec
            .and_then(|s| s.volume_name.as_deref())
            .filter(|v| !v.is_empty())
            .map(|v| Box::new(self.pv_node_by_name(v)));
        if self.first_visit(&r) {
            self.diagnose_claim(c, class_name.as_deref());
        }
        ClaimNode {
            name: name.to_string(),
            namespace: ns.to_string(),
            phase: if c.metadata.deletion_timestamp.is_some() {
                "Terminating".into()
            } else {
                status
                    .and_then(|s| s.phase.clone())
                    .unwrap_or_else(|| "Pending".into())
            },
            requested: storage_of(
                spec.and_then(|s| s.resources.as_ref())
                    .and_then(|r| r.requests.as_ref()),
            ),
            capacity: storage_of(status.and_then(|s| s.capacity.as_ref())),
            access_modes: spec
                .and_then(|s| s.access_modes.clone())
                .unwrap_or_default(),
            storage_class: spec
                .and_then(|s| s.storage_class_name.clone())
                .or(class_name),
            volume_mode: spec.and_then(|s| s.volume_mode.clone()),
            selected_node: c
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("volume.kubernetes.io/selected-node").cloned()),
            used_by,
            volume,
            class,
        }
    }

    fn pv_node_by_name(&mut self, name: &str) -> PvNode {
        match self.idx.pvs.get(name).copied() {
            Some(pv) => self.pv_node(pv),
            None => PvNode {
                name: name.to_string(),
                phase: if self.snap.knows(Kind::PersistentVolume) {
                    "Missing".into()
                } else {
                    self.unknown_text(Kind::PersistentVolume)
                },
                reclaim_policy: None,
                capacity: None,
                access_modes: vec![],
                volume_mode: None,
                node_affinity: vec![],
                claim_ref: None,
                storage_class: None,
                provisioned_by: None,
                backend: None,
                attachments: vec![],
            },
        }
    }

    fn pv_node(&mut self, pv: &'a PersistentVolume) -> PvNode {
        let name = meta_name(&pv.metadata);
        let spec = pv.spec.as_ref();
        if self.first_visit(&pv_ref(name)) {
            self.diagnose_pv(pv);
        }
        let attachments = self
            .idx
            .attachments_by_pv
            .get(name)
            .map(|v| v.iter().map(|va| attachment_node(va)).collect())
            .unwrap_or_default();
        PvNode {
            name: name.to_string(),
            phase: pv
                .status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "Pending".into()),
            reclaim_policy: spec.and_then(|s| s.persistent_volume_reclaim_policy.clone()),
            capacity: storage_of(spec.and_then(|s| s.capacity.as_ref())),
            access_modes: spec
                .and_then(|s| s.access_modes.clone())
                .unwrap_or_default(),
            volume_mode: spec.and_then(|s| s.volume_mode.clone()),
            node_affinity: pv_terms(pv).iter().map(describe_term).collect(),
            claim_ref: spec.and_then(|s| s.claim_ref.as_ref()).map(|cr| {
                ObjectRef::new(
                    "PersistentVolumeClaim",
                    cr.namespace.as_deref(),
                    cr.name.as_deref().unwrap_or(""),
                )
            }),
            storage_class: spec
                .and_then(|s| s.storage_class_name.clone())
                .filter(|s| !s.is_empty()),
            provisioned_by: pv
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("pv.kubernetes.io/provisioned-by").cloned()),
            backend: Some(decode_pv(pv)),
            attachments,
        }
    }

    fn reverse_volume(&mut self, pv: &'a PersistentVolume) -> ReverseVolume {
        let node = self.pv_node(pv);
        let class = node.storage_class.clone().map(|n| self.class_node(&n));
        let cr = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref());
        let (claim_status, claim) = match cr {
            None => ("none".to_string(), None),
            Some(cr) => {
                let ns = cr.namespace.clone().unwrap_or_default();
                let name = cr.name.clone().unwrap_or_default();
                match self.idx.pvcs.get(&(ns.as_str(), name.as_str())).copied() {
                    Some(c) if cr.uid.is_some() && c.metadata.uid != cr.uid => {
                        ("replaced".to_string(), Some(self.claim_node(&ns, &name)))
                    }
                    Some(_) => ("bound".to_string(), Some(self.claim_node(&ns, &name))),
                    None if self.snap.knows(Kind::PersistentVolumeClaim) => {
                        ("missing".to_string(), None)
                    }
                    None => ("unknown".to_string(), None),
                }
            }
        };
        let mut pods = Vec::new();
        if let (Some(c), "bound") = (&claim, claim_status.as_str())
            && let Some(ps) = self
                .idx
                .pods_by_claim
                .get(&(c.namespace.as_str(), c.name.clone()))
        {
            for p in ps.clone() {
                self.diagnose_pod(p);
                pods.push(PodRefNode {
                    name: meta_name(&p.metadata).to_string(),
                    namespace: meta_ns(&p.metadata).to_string(),
                    node: p.spec.as_ref().and_then(|s| s.node_name.clone()),
                    phase: pod_phase(p),
                    owner: self.owner_of(&p.metadata),
                });
            }
        }
        ReverseVolume {
            volume: node,
            class,
            claim_status,
            claim,
            pods,
        }
    }

    fn statefulset(&mut self, s: &'a k8s_openapi::api::apps::v1::StatefulSet) -> WorkloadNode {
        let ns = meta_ns(&s.metadata).to_string();
        let name = meta_name(&s.metadata).to_string();
        let spec = s.spec.as_ref();
        let replicas = spec.and_then(|s| s.replicas).unwrap_or(1);
        let start = spec
            .and_then(|s| s.ordinals.as_ref())
            .and_then(|o| o.start)
            .unwrap_or(0);
        let selector =
            spec.map(|s| stateful_core::labels::Selector::from_label_selector(&s.selector));
        let templates: Vec<String> = spec
            .and_then(|s| s.volume_claim_templates.as_ref())
            .map(|v| {
                v.iter()
                    .map(|t| meta_name(&t.metadata).to_string())
                    .collect()
            })
            .unwrap_or_default();
        let sts_uid = s.metadata.uid.clone();
        let mut expected = Vec::new();
        for t in &templates {
            for ord in start..start + replicas {
                let cname = format!("{t}-{name}-{ord}");
                let present = self.idx.pvcs.contains_key(&(ns.as_str(), cname.as_str()));
                let claim = present.then(|| self.claim_node(&ns, &cname));
                if !present && self.snap.knows(Kind::PersistentVolumeClaim) {
                    let pod_name = format!("{name}-{ord}");
                    let pod_exists = self
                        .idx
                        .pods
                        .contains_key(&(ns.as_str(), pod_name.as_str()));
                    let (sev, why) = if pod_exists {
                        (
                            Severity::Error,
                            format!(
                                "pod {pod_name} exists but its claim does not: the pod cannot start until the claim is recreated (the StatefulSet controller recreates it only when the pod is recreated)"
                            ),
                        )
                    } else {
                        (
                            Severity::Warning,
                            format!(
                                "not created yet: the StatefulSet controller creates it with pod {pod_name}"
                            ),
                        )
                    };
                    self.diag(
                        sev,
                        "ClaimMissing",
                        claim_ref(&ns, &cname),
                        format!("expected claim {cname} (template {t}, ordinal {ord}) of statefulset {name} is missing: {why}"),
                    );
                }
                expected.push(ExpectedClaim {
                    template: t.clone(),
                    ordinal: ord,
                    name: cname,
                    present,
                    claim,
                });
            }
        }
        // Claims of this set beyond the current replicas: name `<t>-<sts>-<n>` with a numeric
        // ordinal outside the range AND owned by the set or carrying its selector labels.
        let mut leftovers: Vec<&PersistentVolumeClaim> = Vec::new();
        for c in self.snap.pvcs.iter().filter(|c| meta_ns(&c.metadata) == ns) {
            let cname = meta_name(&c.metadata);
            let Some(ord) = templates.iter().find_map(|t| {
                cname
                    .strip_prefix(&format!("{t}-{name}-"))
                    .and_then(|o| o.parse::<i32>().ok())
                    .filter(|o| !o.to_string().is_empty())
            }) else {
                continue;
            };
            if (start..start + replicas).contains(&ord) {
                continue;
            }
            let owned = c.metadata.owner_references.iter().flatten().any(|o| {
                o.kind == "StatefulSet" && (Some(&o.uid) == sts_uid.as_ref() || o.name == name)
            });
            let labelled = selector
                .as_ref()
                .is_some_and(|sel| !sel.is_empty() && sel.matches(c.metadata.labels.as_ref()));
            if owned || labelled {
                leftovers.push(c);
            }
        }
        leftovers.sort_by_key(|c| meta_name(&c.metadata));
        let mut leftover_claims = Vec::new();
        for c in leftovers {
            let cname = meta_name(&c.metadata);
            self.diag(
                Severity::Info,
                "ClaimLeftover",
                claim_ref(&ns, cname),
                format!("claim {cname} is left from a scale-down of statefulset {name} (replicas now {replicas}); it keeps its data and is reused on scale-up; delete it to free the volume"),
            );
            leftover_claims.push(self.claim_node(&ns, cname));
        }
        let pods = self.workload_pods(&ns, |o| o.kind == "StatefulSet" && o.name == name);
        WorkloadNode {
            kind: "StatefulSet".into(),
            name,
            namespace: ns,
            replicas,
            expected_claims: expected,
            leftover_claims,
            pods,
        }
    }

    fn deployment(&mut self, d: &'a k8s_openapi::api::apps::v1::Deployment) -> WorkloadNode {
        let ns = meta_ns(&d.metadata).to_string();
        let name = meta_name(&d.metadata).to_string();
        let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let dep_ref = ObjectRef::new("Deployment", Some(&ns), &name);
        let pods = {
            let snap = self.snap;
            let mut ps: Vec<&'a Pod> = snap
                .pods
                .iter()
                .filter(|p| {
                    meta_ns(&p.metadata) == ns
                        && self.owner_of(&p.metadata).as_ref() == Some(&dep_ref)
                })
                .collect();
            ps.sort_by_key(|p| meta_name(&p.metadata));
            ps.into_iter().map(|p| self.pod_node(p)).collect()
        };
        // Claims named in the pod template: every replica shares them.
        let mut expected = Vec::new();
        let tmpl_claims: Vec<String> = d
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .map(|ps| {
                ps.volumes
                    .iter()
                    .flatten()
                    .filter_map(|v| {
                        v.persistent_volume_claim
                            .as_ref()
                            .map(|c| c.claim_name.clone())
                    })
                    .collect()
            })
            .unwrap_or_default();
        for cname in tmpl_claims {
            let present = self.idx.pvcs.contains_key(&(ns.as_str(), cname.as_str()));
            let claim = self.claim_node(&ns, &cname);
            if replicas > 1 {
                let modes = &claim.access_modes;
                if (has_mode(modes, "ReadWriteOnce") || has_mode(modes, "ReadWriteOncePod"))
                    && !has_mode(modes, "ReadWriteMany")
                    && !has_mode(modes, "ReadOnlyMany")
                {
                    self.diag(
                            Severity::Warning,
                            "SharedReadWriteOnce",
                            claim_ref(&ns, &cname),
                            format!("deployment {name} has {replicas} replicas sharing claim {cname}, which is {}: replicas on other nodes cannot mount it (use a StatefulSet with volumeClaimTemplates, or a ReadWriteMany class)", modes.join(",")),
                        );
                }
            }
            expected.push(ExpectedClaim {
                template: String::new(),
                ordinal: -1,
                name: cname,
                present,
                claim: Some(claim),
            });
        }
        WorkloadNode {
            kind: "Deployment".into(),
            name,
            namespace: ns,
            replicas,
            expected_claims: expected,
            leftover_claims: vec![],
            pods,
        }
    }

    fn workload_pods(
        &mut self,
        ns: &str,
        owned: impl Fn(&k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference) -> bool,
    ) -> Vec<PodNode> {
        let snap = self.snap;
        let mut ps: Vec<&'a Pod> = snap
            .pods
            .iter()
            .filter(|p| {
                meta_ns(&p.metadata) == ns
                    && p.metadata.owner_references.iter().flatten().any(&owned)
            })
            .collect();
        ps.sort_by_key(|p| meta_name(&p.metadata));
        ps.into_iter().map(|p| self.pod_node(p)).collect()
    }

    fn class_view(&mut self, sc: &'a StorageClass) -> ClassView {
        let name = meta_name(&sc.metadata).to_string();
        let snap = self.snap;
        let mut claims: Vec<&PersistentVolumeClaim> = snap
            .pvcs
            .iter()
            .filter(|c| self.claim_class(c).as_deref() == Some(name.as_str()))
            .collect();
        claims.sort_by_key(|c| (meta_ns(&c.metadata), meta_name(&c.metadata)));
        let claims = claims
            .into_iter()
            .map(|c| self.claim_node(meta_ns(&c.metadata), meta_name(&c.metadata)))
            .collect();
        let mut pvs: Vec<&PersistentVolume> = snap
            .pvs
            .iter()
            .filter(|pv| {
                pv.spec
                    .as_ref()
                    .and_then(|s| s.storage_class_name.as_deref())
                    == Some(name.as_str())
            })
            .filter(|pv| !self.has_live_claim(pv))
            .collect();
        pvs.sort_by_key(|pv| meta_name(&pv.metadata));
        ClassView {
            class: class_node_of(sc),
            claims,
            unclaimed_volumes: pvs.into_iter().map(|pv| self.pv_node(pv)).collect(),
        }
    }

    fn node_view(&mut self, name: &str) -> NodeView {
        let snap = self.snap;
        let node = self.idx.nodes.get(name).copied();
        let mut ps: Vec<&'a Pod> = snap
            .pods
            .iter()
            .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(name))
            .filter(|p| has_data_volume(p))
            .collect();
        ps.sort_by_key(|p| (meta_ns(&p.metadata), meta_name(&p.metadata)));
        let pods = ps.into_iter().map(|p| self.pod_node(p)).collect();
        let attachments = snap
            .volume_attachments
            .iter()
            .filter(|va| va.spec.node_name == name)
            .map(attachment_node)
            .collect();
        let labels = node.and_then(|n| n.metadata.labels.as_ref());
        let mut pinned: Vec<String> = snap
            .pvs
            .iter()
            .filter(|pv| {
                let terms = pv_terms(pv);
                !terms.is_empty()
                    && terms.iter().any(|t| term_matches(t, name, labels))
                    && terms.iter().all(|t| {
                        t.match_expressions
                            .iter()
                            .flatten()
                            .any(|r| r.key == "kubernetes.io/hostname")
                            || t.match_fields
                                .iter()
                                .flatten()
                                .any(|r| r.key == "metadata.name")
                    })
            })
            .map(|pv| meta_name(&pv.metadata).to_string())
            .collect();
        pinned.sort();
        NodeView {
            name: name.to_string(),
            zone: node.and_then(|n| node_zone(n.metadata.labels.as_ref())),
            exists: node.is_some(),
            pods,
            attachments,
            pinned_volumes: pinned,
        }
    }

    // ---- diagnostics ----------------------------------------------------------------------

    fn events_for(&self, uid: Option<&str>) -> Vec<&'a k8s_openapi::api::core::v1::Event> {
        let mut v = uid
            .and_then(|u| self.idx.events_by_uid.get(u))
            .cloned()
            .unwrap_or_default();
        v.sort_by_key(|e| {
            e.last_timestamp
                .as_ref()
                .map(|t| t.0)
                .or_else(|| e.event_time.as_ref().map(|t| t.0))
        });
        v
    }

    fn latest_event(
        &self,
        uid: Option<&str>,
        reasons: &[&str],
    ) -> Option<&'a k8s_openapi::api::core::v1::Event> {
        self.events_for(uid)
            .into_iter()
            .rev()
            .find(|e| e.reason.as_deref().is_some_and(|r| reasons.contains(&r)))
    }

    fn diagnose_claim(&mut self, c: &'a PersistentVolumeClaim, class_name: Option<&str>) {
        let ns = meta_ns(&c.metadata).to_string();
        let name = meta_name(&c.metadata).to_string();
        let r = claim_ref(&ns, &name);
        let spec = c.spec.as_ref();
        let phase = c
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .unwrap_or("Pending");
        let uid = c.metadata.uid.as_deref();
        let modes = spec
            .and_then(|s| s.access_modes.clone())
            .unwrap_or_default();
        let requested = storage_of(
            spec.and_then(|s| s.resources.as_ref())
                .and_then(|r| r.requests.as_ref()),
        );
        let users: Vec<&'a Pod> = self
            .idx
            .pods_by_claim
            .get(&(ns.as_str(), name.clone()))
            .cloned()
            .unwrap_or_default();
        let active_users: Vec<&'a Pod> = users.iter().copied().filter(|p| pod_active(p)).collect();

        match phase {
            "Pending" => self.diagnose_pending(c, class_name, &active_users),
            "Lost" => self.diag(
                Severity::Error,
                "ClaimLost",
                r.clone(),
                format!(
                    "claim {name} is Lost: its volume {} no longer exists; the data is gone unless the backing storage still holds it (recreate a PV pointing at it)",
                    spec.and_then(|s| s.volume_name.clone()).unwrap_or_default()
                ),
            ),
            _ => {}
        }

        // Bound side: the PV exists, points back at us, fits.
        if let Some(vn) = spec
            .and_then(|s| s.volume_name.as_deref())
            .filter(|v| !v.is_empty())
        {
            match self.idx.pvs.get(vn).copied() {
                None if self.snap.knows(Kind::PersistentVolume) && phase != "Lost" => self.diag(
                    Severity::Error,
                    "VolumeMissing",
                    r.clone(),
                    format!("claim {name} is bound to volume {vn}, which does not exist: pods using it cannot start"),
                ),
                None => {}
                Some(pv) => {
                    let pspec = pv.spec.as_ref();
                    if let Some(cr) = pspec.and_then(|s| s.claim_ref.as_ref()) {
                        let same = cr.name.as_deref() == Some(name.as_str())
                            && cr.namespace.as_deref() == Some(ns.as_str())
                            && (cr.uid.is_none() || cr.uid.as_deref() == uid);
                        if !same {
                            self.diag(
                                Severity::Error,
                                "VolumeClaimMismatch",
                                r.clone(),
                                format!(
                                    "claim {name} names volume {vn}, but that volume is claimed by {}/{}{}",
                                    cr.namespace.clone().unwrap_or_default(),
                                    cr.name.clone().unwrap_or_default(),
                                    if cr.name.as_deref() == Some(name.as_str()) { " (an older claim with the same name)" } else { "" }
                                ),
                            );
                        }
                    }
                    let pv_modes = pspec.and_then(|s| s.access_modes.clone()).unwrap_or_default();
                    let missing: Vec<&String> = modes.iter().filter(|m| !pv_modes.contains(m)).collect();
                    if !missing.is_empty() && !pv_modes.is_empty() {
                        self.diag(
                            Severity::Warning,
                            "AccessModeMismatch",
                            r.clone(),
                            format!(
                                "claim {name} asks for {} but volume {vn} offers {}",
                                modes.join(","),
                                pv_modes.join(",")
                            ),
                        );
                    }
                    let cap = storage_of(pspec.and_then(|s| s.capacity.as_ref()));
                    if let (Some(req), Some(cap)) = (&requested, &cap)
                        && let (Some(rq), Some(cp)) = (quantity::parse(req), quantity::parse(cap))
                            && cp < rq {
                                let resizing = c.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|cs| {
                                    cs.iter().any(|x| x.type_ == "Resizing" || x.type_ == "FileSystemResizePending")
                                });
                                if !resizing {
                                    self.diag(
                                        Severity::Warning,
                                        "CapacityMismatch",
                                        r.clone(),
                                        format!("claim {name} requests {req} but volume {vn} has {cap}"),
                                    );
                                }
                            }
                }
            }
        }

        // Resize and modify conditions.
        for cond in c.status.iter().flat_map(|s| s.conditions.iter().flatten()) {
            if cond.status != "True" {
                continue;
            }
            let msg = cond.message.clone().unwrap_or_default();
            let (sev, code, text) = match cond.type_.as_str() {
                "Resizing" => (
                    Severity::Info,
                    "ResizeInProgress",
                    format!("claim {name} is being resized by the storage driver"),
                ),
                "FileSystemResizePending" => (
                    Severity::Info,
                    "ResizePending",
                    format!(
                        "claim {name}: the volume was resized; the filesystem grows when a pod mounts it (restart the pod if it does not)"
                    ),
                ),
                "ControllerResizeError" | "NodeResizeError" => (
                    Severity::Error,
                    "ResizeFailed",
                    format!("claim {name}: resize failed ({}): {msg}", cond.type_),
                ),
                "ModifyVolumeError" => (
                    Severity::Error,
                    "ModifyVolumeFailed",
                    format!("claim {name}: changing the VolumeAttributesClass failed: {msg}"),
                ),
                _ => continue,
            };
            self.diag(sev, code, r.clone(), text);
        }
        for (res, state) in c
            .status
            .iter()
            .flat_map(|s| s.allocated_resource_statuses.iter().flatten())
        {
            if state.ends_with("Infeasible") {
                self.diag(
                    Severity::Error,
                    "ResizeFailed",
                    r.clone(),
                    format!("claim {name}: resize of {res} is {state}: the driver refused the new size; set the request back or fix the driver"),
                );
            }
        }

        // One-node access modes used from several nodes.
        let rwo = has_mode(&modes, "ReadWriteOnce")
            && !has_mode(&modes, "ReadWriteMany")
            && !has_mode(&modes, "ReadOnlyMany");
        let rwop = has_mode(&modes, "ReadWriteOncePod");
        let nodes: BTreeSet<&str> = active_users
            .iter()
            .filter_map(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()))
            .collect();
        if rwop && active_users.len() > 1 {
            let names: Vec<String> = active_users
                .iter()
                .map(|p| meta_name(&p.metadata).to_string())
                .collect();
            self.diag(
                Severity::Error,
                "MultiPodReadWriteOncePod",
                r.clone(),
                format!(
                    "claim {name} is ReadWriteOncePod but {} pods use it ({}): only one can run",
                    names.len(),
                    names.join(", ")
                ),
            );
        } else if rwo && nodes.len() > 1 {
            self.diag(
                Severity::Error,
                "MultiNodeReadWriteOnce",
                r.clone(),
                format!(
                    "claim {name} is ReadWriteOnce but pods on {} nodes use it ({}): pods on all but one node cannot mount it (Multi-Attach error)",
                    nodes.len(),
                    nodes.iter().copied().collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }

    fn diagnose_pending(
        &mut self,
        c: &'a PersistentVolumeClaim,
        class_name: Option<&str>,
        users: &[&'a Pod],
    ) {
        let ns = meta_ns(&c.metadata).to_string();
        let name = meta_name(&c.metadata).to_string();
        let r = claim_ref(&ns, &name);
        let spec = c.spec.as_ref();
        let uid = c.metadata.uid.as_deref();
        let sc_known = self.snap.knows(Kind::StorageClass);
        let explicit = explicit_class(c);

        // Named class that does not exist.
        if let Some(cn) = explicit.filter(|s| !s.is_empty())
            && sc_known
            && !self.idx.storage_classes.contains_key(cn)
        {
            let static_pv = self.matching_static_pv(c, Some(cn)).is_some();
            if !static_pv {
                self.diag(
                        Severity::Error,
                        "StorageClassNotFound",
                        r.clone(),
                        format!(
                            "claim {name} is Pending: StorageClass \"{cn}\" does not exist (classes: {}); create it or change the claim's storageClassName (the field is immutable: recreate the claim)",
                            self.class_list()
                        ),
                    );
                return;
            }
        }
        if let Some(ev) = self.latest_event(uid, &["ProvisioningFailed"]) {
            self.diag(
                Severity::Error,
                "ProvisioningFailed",
                r.clone(),
                format!(
                    "claim {name} is Pending: provisioning failed: {}",
                    ev.message.clone().unwrap_or_default().trim()
                ),
            );
            return;
        }
        // No class and no default.
        if explicit.is_none()
            && class_name.is_none()
            && sc_known
            && self.matching_static_pv(c, None).is_none()
        {
            self.diag(
                    Severity::Error,
                    "NoDefaultStorageClass",
                    r.clone(),
                    format!(
                        "claim {name} is Pending: it names no StorageClass and none is marked default; set storageClassName, or mark a class default (annotation storageclass.kubernetes.io/is-default-class=\"true\")"
                    ),
                );
            return;
        }
        let class = class_name.and_then(|n| self.idx.storage_classes.get(n).copied());
        let static_only = explicit == Some("")
            || class.is_some_and(|sc| sc.provisioner == "kubernetes.io/no-provisioner");
        let wffc = class
            .is_some_and(|sc| sc.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer"));
        if wffc && users.is_empty() {
            self.diag(
                Severity::Info,
                "WaitForFirstConsumer",
                r.clone(),
                format!(
                    "claim {name} is Pending until a pod uses it: StorageClass {} binds on first consumer (WaitForFirstConsumer); this is expected",
                    class_name.unwrap_or_default()
                ),
            );
            return;
        }
        if static_only && self.snap.knows(Kind::PersistentVolume) {
            if self.matching_static_pv(c, class_name).is_none() {
                let req = storage_of(
                    spec.and_then(|s| s.resources.as_ref())
                        .and_then(|r| r.requests.as_ref()),
                )
                .unwrap_or_default();
                self.diag(
                    Severity::Error,
                    "NoMatchingVolume",
                    r.clone(),
                    format!(
                        "claim {name} is Pending: no Available PersistentVolume matches it (class \"{}\", {} of {}{}); create one or fix the claim",
                        class_name.unwrap_or(""),
                        spec.and_then(|s| s.access_modes.clone()).unwrap_or_default().join(","),
                        req,
                        if spec.and_then(|s| s.selector.as_ref()).is_some() { ", with a selector" } else { "" }
                    ),
                );
                return;
            }
            if wffc {
                // A match exists; binding waits for the pod to be scheduled.
                return;
            }
        }
        if let Some(ev) = self.latest_event(uid, &["ExternalProvisioning", "Provisioning"]) {
            self.diag(
                Severity::Warning,
                "ClaimPending",
                r,
                format!(
                    "claim {name} is Pending: {}",
                    ev.message.clone().unwrap_or_default().trim()
                ),
            );
            return;
        }
        if !users.is_empty() && wffc {
            let unscheduled = users
                .iter()
                .all(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none());
            if unscheduled {
                // The pod's own diagnostic (PodUnschedulable) explains it.
                self.diag(
                    Severity::Warning,
                    "ClaimPending",
                    r,
                    format!("claim {name} is Pending: it binds when pod {} is scheduled, which has not happened yet", meta_name(&users[0].metadata)),
                );
                return;
            }
        }
        let provisioner = class.map(|sc| sc.provisioner.clone()).unwrap_or_default();
        self.diag(
            Severity::Warning,
            "ClaimPending",
            r,
            if provisioner.is_empty() {
                format!("claim {name} is Pending")
            } else {
                format!("claim {name} is Pending: waiting for provisioner {provisioner} (check that its controller runs: kubectl get pods -A | grep -i csi)")
            },
        );
    }

    fn class_list(&self) -> String {
        let mut names: Vec<&str> = self
            .snap
            .storage_classes
            .iter()
            .map(|s| meta_name(&s.metadata))
            .collect();
        names.sort();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    }

    /// An Available PV the claim could bind to (class, modes, capacity, selector, volumeMode).
    fn matching_static_pv(
        &self,
        c: &PersistentVolumeClaim,
        class: Option<&str>,
    ) -> Option<&'a PersistentVolume> {
        let spec = c.spec.as_ref()?;
        let want_class = class.unwrap_or("");
        let modes = spec.access_modes.as_deref().unwrap_or(&[]);
        let req = storage_of(spec.resources.as_ref().and_then(|r| r.requests.as_ref()))
            .and_then(|q| quantity::parse(&q))
            .unwrap_or(0.0);
        let sel = spec
            .selector
            .as_deref()
            .map(stateful_core::labels::Selector::from_label_selector);
        let vm = spec.volume_mode.as_deref().unwrap_or("Filesystem");
        let key = (meta_ns(&c.metadata), meta_name(&c.metadata));
        let by_ref = self.idx.pvs_by_claim_ref.get(&key).into_iter().flatten();
        let by_class = self
            .idx
            .unbound_pvs_by_class
            .get(want_class)
            .into_iter()
            .flatten();
        by_ref.chain(by_class).copied().find(|pv| {
            let Some(ps) = pv.spec.as_ref() else {
                return false;
            };
            let pv_modes = ps.access_modes.as_deref().unwrap_or(&[]);
            let cap = storage_of(ps.capacity.as_ref())
                .and_then(|q| quantity::parse(&q))
                .unwrap_or(0.0);
            ps.storage_class_name.as_deref().unwrap_or("") == want_class
                && modes.iter().all(|m| pv_modes.contains(m))
                && cap >= req
                && ps.volume_mode.as_deref().unwrap_or("Filesystem") == vm
                && sel
                    .as_ref()
                    .is_none_or(|s| s.matches(pv.metadata.labels.as_ref()))
        })
    }

    fn diagnose_pv(&mut self, pv: &'a PersistentVolume) {
        let name = meta_name(&pv.metadata).to_string();
        let r = pv_ref(&name);
        let spec = pv.spec.as_ref();
        let status = pv.status.as_ref();
        let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("Pending");
        let policy = spec
            .and_then(|s| s.persistent_volume_reclaim_policy.clone())
            .unwrap_or_else(|| "Retain".into());
        let cr = spec.and_then(|s| s.claim_ref.as_ref());
        let cr_text = cr
            .map(|cr| {
                format!(
                    "{}/{}",
                    cr.namespace.clone().unwrap_or_default(),
                    cr.name.clone().unwrap_or_default()
                )
            })
            .unwrap_or_default();
        match phase {
            "Released" => {
                let msg = if policy == "Retain" {
                    format!(
                        "volume {name} is Released: its claim {cr_text} was deleted; the data is retained. To reuse it, clear spec.claimRef (kubectl patch pv {name} --type json -p '[{{\"op\":\"remove\",\"path\":\"/spec/claimRef\"}}]'); to free the storage, delete the PV and the backing volume"
                    )
                } else {
                    format!(
                        "volume {name} is Released with reclaimPolicy {policy} but has not been reclaimed: the provisioner may be failing to delete it (see its events)"
                    )
                };
                self.diag(Severity::Warning, "VolumeReleased", r.clone(), msg);
            }
            "Failed" => self.diag(
                Severity::Error,
                "VolumeFailed",
                r.clone(),
                format!(
                    "volume {name} is Failed: {}",
                    status
                        .and_then(|s| s.message.clone())
                        .unwrap_or_else(|| "automatic reclamation failed".into())
                ),
            ),
            "Available" => self.diag(
                Severity::Info,
                "VolumeAvailable",
                r.clone(),
                format!("volume {name} is Available: no claim uses it yet"),
            ),
            _ => {}
        }
        if phase == "Bound"
            && let Some(cr) = cr
        {
            let key = (
                cr.namespace.as_deref().unwrap_or(""),
                cr.name.as_deref().unwrap_or(""),
            );
            match self.idx.pvcs.get(&key) {
                    None if self.snap.knows(Kind::PersistentVolumeClaim)
                        && (self.snap.gap(Kind::PersistentVolumeClaim).is_none()) =>
                    {
                        // Only conclusive when the claim's namespace was in view.
                        let in_view = self.snap.pvcs.iter().any(|c| meta_ns(&c.metadata) == key.0)
                            || self.snap.pods.iter().any(|p| meta_ns(&p.metadata) == key.0);
                        if in_view {
                            self.diag(
                                Severity::Error,
                                "VolumeOrphaned",
                                r.clone(),
                                format!("volume {name} is Bound to claim {cr_text}, which does not exist: nothing can use this volume; delete the PV (and the backing storage) or recreate the claim with volumeName {name}"),
                            );
                        }
                    }
                    Some(c) if cr.uid.is_some() && c.metadata.uid != cr.uid => self.diag(
                        Severity::Error,
                        "ClaimReplaced",
                        r.clone(),
                        format!("volume {name} is bound to an earlier claim {cr_text} (uid {}); the claim of that name now is a different object, so this volume's data is not what it uses", cr.uid.clone().unwrap_or_default()),
                    ),
                    _ => {}
                }
        }
        if let Some(sc) = spec
            .and_then(|s| s.storage_class_name.as_deref())
            .filter(|s| !s.is_empty())
            && self.snap.knows(Kind::StorageClass)
            && self.snap.gap(Kind::StorageClass).is_none()
            && !self.idx.storage_classes.contains_key(sc)
        {
            self.diag(
                    Severity::Info,
                    "StorageClassGone",
                    r.clone(),
                    format!("volume {name} names StorageClass \"{sc}\", which no longer exists: expansion and reclaim settings of the class are gone (the volume itself is fine)"),
                );
        }
        // Node affinity that no node satisfies.
        let terms = pv_terms(pv);
        if !terms.is_empty() && self.snap.knows(Kind::Node) && !self.snap.nodes.is_empty() {
            let ok = self.snap.nodes.iter().any(|n| {
                terms
                    .iter()
                    .any(|t| term_matches(t, meta_name(&n.metadata), n.metadata.labels.as_ref()))
            });
            if !ok {
                let zones: BTreeSet<String> = self
                    .snap
                    .nodes
                    .iter()
                    .filter_map(|n| node_zone(n.metadata.labels.as_ref()))
                    .collect();
                self.diag(
                    Severity::Error,
                    "NoNodeMatchesVolume",
                    r.clone(),
                    format!(
                        "volume {name} requires nodes with {} but no node matches (zones in the cluster: {}): pods using it can never be scheduled",
                        terms.iter().map(describe_term).collect::<Vec<_>>().join(" or "),
                        if zones.is_empty() { "none labelled".into() } else { zones.into_iter().collect::<Vec<_>>().join(", ") }
                    ),
                );
            }
        }
        for va in self
            .idx
            .attachments_by_pv
            .get(name.as_str())
            .cloned()
            .unwrap_or_default()
        {
            let st = va.status.as_ref();
            if let Some(e) = st.and_then(|s| s.attach_error.as_ref()) {
                self.diag(
                    Severity::Error,
                    "AttachFailed",
                    r.clone(),
                    format!(
                        "volume {name} cannot attach to node {}: {}",
                        va.spec.node_name,
                        e.message.clone().unwrap_or_default()
                    ),
                );
            }
            if let Some(e) = st.and_then(|s| s.detach_error.as_ref()) {
                self.diag(
                    Severity::Warning,
                    "DetachFailed",
                    r.clone(),
                    format!(
                        "volume {name} cannot detach from node {}: {} (a pod elsewhere waits for it)",
                        va.spec.node_name,
                        e.message.clone().unwrap_or_default()
                    ),
                );
            }
        }
    }

    fn diagnose_pod(&mut self, p: &'a Pod) {
        let pr = pod_ref(p);
        if !self.first_visit(&pr) {
            return;
        }
        let name = meta_name(&p.metadata).to_string();
        let ns = meta_ns(&p.metadata).to_string();
        let node = p.spec.as_ref().and_then(|s| s.node_name.clone());
        // Claims it needs that do not exist.
        if self.snap.knows(Kind::PersistentVolumeClaim) {
            for v in p.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
                if let Some(cn) = volume_claim_name(p, v)
                    && !self.idx.pvcs.contains_key(&(ns.as_str(), cn.as_str()))
                {
                    let (sev, msg) = if v.ephemeral.is_some() {
                        (
                            Severity::Warning,
                            format!(
                                "pod {name}: ephemeral volume {} has no claim {cn} yet (the ephemeral volume controller creates it)",
                                v.name
                            ),
                        )
                    } else {
                        (
                            Severity::Error,
                            format!(
                                "pod {name} mounts claim {cn}, which does not exist: the pod stays Pending until it is created"
                            ),
                        )
                    };
                    self.diag(sev, "ClaimMissing", claim_ref(&ns, &cn), msg);
                }
            }
        }
        // Unschedulable because of volumes.
        if let Some(cond) = p
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| {
                cs.iter()
                    .find(|c| c.type_ == "PodScheduled" && c.status == "False")
            })
        {
            let msg = cond.message.clone().unwrap_or_default();
            let lower = msg.to_lowercase();
            if lower.contains("volume")
                || lower.contains("persistentvolumeclaim")
                || lower.contains("pvc")
            {
                self.diag(
                    Severity::Error,
                    "PodUnschedulable",
                    pr.clone(),
                    format!("pod {name} cannot be scheduled: {msg}"),
                );
            }
        }
        // The node it runs on vs the volumes' node affinity.
        if let Some(nn) = &node {
            let nobj = self.idx.nodes.get(nn.as_str()).copied();
            if let Some(nobj) = nobj {
                for v in p.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
                    let Some(cn) = volume_claim_name(p, v) else {
                        continue;
                    };
                    let Some(pvname) = self
                        .idx
                        .pvcs
                        .get(&(ns.as_str(), cn.as_str()))
                        .and_then(|c| c.spec.as_ref())
                        .and_then(|s| s.volume_name.as_deref())
                    else {
                        continue;
                    };
                    let Some(pv) = self.idx.pvs.get(pvname).copied() else {
                        continue;
                    };
                    let terms = pv_terms(pv);
                    if !terms.is_empty()
                        && !terms
                            .iter()
                            .any(|t| term_matches(t, nn, nobj.metadata.labels.as_ref()))
                    {
                        self.diag(
                            Severity::Error,
                            "NodeAffinityConflict",
                            pr.clone(),
                            format!(
                                "pod {name} is on node {nn}{} but volume {pvname} (claim {cn}) requires {}: it cannot be mounted there",
                                node_zone(nobj.metadata.labels.as_ref()).map(|z| format!(" (zone {z})")).unwrap_or_default(),
                                terms.iter().map(describe_term).collect::<Vec<_>>().join(" or ")
                            ),
                        );
                    }
                }
            }
        }
        // Mount/attach failures reported by the kubelet or attach-detach controller.
        let ready = p
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        if !ready
            && let Some(ev) = self.latest_event(
                p.metadata.uid.as_deref(),
                &["FailedMount", "FailedAttachVolume", "FailedMapVolume"],
            )
        {
            self.diag(
                Severity::Error,
                "MountFailed",
                pr.clone(),
                format!(
                    "pod {name}: {} {}",
                    ev.reason.clone().unwrap_or_default(),
                    ev.message.clone().unwrap_or_default().trim()
                ),
            );
        }
    }
}

fn class_node_of(sc: &StorageClass) -> ClassNode {
    ClassNode {
        name: meta_name(&sc.metadata).to_string(),
        exists: true,
        provisioner: Some(sc.provisioner.clone()),
        binding_mode: Some(
            sc.volume_binding_mode
                .clone()
                .unwrap_or_else(|| "Immediate".into()),
        ),
        reclaim_policy: Some(sc.reclaim_policy.clone().unwrap_or_else(|| "Delete".into())),
        allow_expansion: sc.allow_volume_expansion.unwrap_or(false),
        is_default: stateful_core::snapshot::is_default_class(sc),
    }
}

fn attachment_node(va: &VolumeAttachment) -> AttachmentNode {
    let st = va.status.as_ref();
    AttachmentNode {
        name: meta_name(&va.metadata).to_string(),
        node: va.spec.node_name.clone(),
        attacher: va.spec.attacher.clone(),
        attached: st.is_some_and(|s| s.attached),
        attach_error: st
            .and_then(|s| s.attach_error.as_ref())
            .and_then(|e| e.message.clone()),
        detach_error: st
            .and_then(|s| s.detach_error.as_ref())
            .and_then(|e| e.message.clone()),
    }
}

/// Volumes that hold data (claims, ephemeral, emptyDir, hostPath, inline network/CSI storage),
/// as opposed to configuration (configMap, secret, projected, downwardAPI).
pub fn has_data_volume(p: &Pod) -> bool {
    p.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .any(|v| {
            !(v.config_map.is_some()
                || v.secret.is_some()
                || v.projected.is_some()
                || v.downward_api.is_some())
        })
}

/// The pod volume's type name and a short description for non-claim volumes.
pub fn volume_type(v: &Volume) -> (String, Option<String>) {
    if let Some(c) = &v.persistent_volume_claim {
        return (
            "persistentVolumeClaim".into(),
            c.read_only.filter(|r| *r).map(|_| "readOnly".to_string()),
        );
    }
    if v.ephemeral.is_some() {
        return ("ephemeral".into(), Some("generic ephemeral volume".into()));
    }
    if let Some(e) = &v.empty_dir {
        let mut parts = vec![format!(
            "medium {}",
            e.medium
                .clone()
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "node disk".into())
        )];
        if let Some(l) = &e.size_limit {
            parts.push(format!("sizeLimit {}", l.0));
        }
        return ("emptyDir".into(), Some(parts.join(", ")));
    }
    if let Some(h) = &v.host_path {
        let t = h.type_.clone().filter(|t| !t.is_empty());
        return (
            "hostPath".into(),
            Some(match t {
                Some(t) => format!("{} ({t})", h.path),
                None => h.path.clone(),
            }),
        );
    }
    if let Some(c) = &v.config_map {
        return ("configMap".into(), Some(c.name.clone()));
    }
    if let Some(s) = &v.secret {
        return ("secret".into(), s.secret_name.clone());
    }
    if v.projected.is_some() {
        return ("projected".into(), None);
    }
    if v.downward_api.is_some() {
        return ("downwardAPI".into(), None);
    }
    if let Some(n) = &v.nfs {
        return ("nfs".into(), Some(format!("{}:{}", n.server, n.path)));
    }
    if let Some(c) = &v.csi {
        return ("csi".into(), Some(format!("inline {}", c.driver)));
    }
    if let Some(i) = &v.image {
        return ("image".into(), i.reference.clone());
    }
    // Other inline sources: name the field that is set.
    (v.other.clone().unwrap_or_else(|| "unknown".into()), None)
}
