//! The Snapshot: typed objects from a live cluster or a `kubectl get -o yaml|json` dump.
//! Analysis only ever sees a Snapshot, never where it came from.
//!
//! - Cluster: a handful of LISTs, scoped to the namespace when one is given, paginated
//!   (`limit`/`continue`), issued concurrently, joined in memory. A LIST the server refuses
//!   (403) or does not serve (404) becomes a [`Gap`] in the snapshot, not a failure.
//! - Dump: files (or `-` for stdin), YAML (multi-document, or a `List`) or JSON; objects of kinds
//!   we do not use are skipped. Parse errors name the file and line.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::PathBuf;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Event, Node, PersistentVolumeClaim, Service};
use k8s_openapi::api::storage::v1::{CSIDriver, StorageClass, VolumeAttachment};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::labels::Selector;

/// The kinds the suite reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Kind {
    Pod,
    PersistentVolumeClaim,
    PersistentVolume,
    StorageClass,
    VolumeAttachment,
    Node,
    StatefulSet,
    Deployment,
    ReplicaSet,
    Job,
    CronJob,
    Event,
    Service,
    CSIDriver,
    VolumeSnapshot,
    VolumeSnapshotClass,
    VolumeSnapshotContent,
}

impl Kind {
    pub const ALL: [Kind; 17] = [
        Kind::Pod,
        Kind::PersistentVolumeClaim,
        Kind::PersistentVolume,
        Kind::StorageClass,
        Kind::VolumeAttachment,
        Kind::Node,
        Kind::StatefulSet,
        Kind::Deployment,
        Kind::ReplicaSet,
        Kind::Job,
        Kind::CronJob,
        Kind::Event,
        Kind::Service,
        Kind::CSIDriver,
        Kind::VolumeSnapshot,
        Kind::VolumeSnapshotClass,
        Kind::VolumeSnapshotContent,
    ];

    /// The resource name as RBAC and kubectl say it (plural, lowercase).
    pub fn resource(self) -> &'static str {
        match self {
            Kind::Pod => "pods",
            Kind::PersistentVolumeClaim => "persistentvolumeclaims",
            Kind::PersistentVolume => "persistentvolumes",
            Kind::StorageClass => "storageclasses",
            Kind::VolumeAttachment => "volumeattachments",
            Kind::Node => "nodes",
            Kind::StatefulSet => "statefulsets",
            Kind::Deployment => "deployments",
            Kind::ReplicaSet => "replicasets",
            Kind::Job => "jobs",
            Kind::CronJob => "cronjobs",
            Kind::Event => "events",
            Kind::Service => "services",
            Kind::CSIDriver => "csidrivers",
            Kind::VolumeSnapshot => "volumesnapshots",
            Kind::VolumeSnapshotClass => "volumesnapshotclasses",
            Kind::VolumeSnapshotContent => "volumesnapshotcontents",
        }
    }

    pub fn namespaced(self) -> bool {
        !matches!(
            self,
            Kind::PersistentVolume
                | Kind::StorageClass
                | Kind::VolumeAttachment
                | Kind::Node
                | Kind::CSIDriver
                | Kind::VolumeSnapshotClass
                | Kind::VolumeSnapshotContent
        )
    }

    /// From an object's `kind` (and `apiVersion`, to tell CRDs apart). Unknown → None.
    pub fn from_kind(kind: &str, api_version: &str) -> Option<Kind> {
        let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
        Some(match (kind, group) {
            ("Pod", "") => Kind::Pod,
            ("PersistentVolumeClaim", "") => Kind::PersistentVolumeClaim,
            ("PersistentVolume", "") => Kind::PersistentVolume,
            ("StorageClass", "storage.k8s.io") => Kind::StorageClass,
            ("VolumeAttachment", "storage.k8s.io") => Kind::VolumeAttachment,
            ("CSIDriver", "storage.k8s.io") => Kind::CSIDriver,
            ("Node", "") => Kind::Node,
            ("StatefulSet", "apps") => Kind::StatefulSet,
            ("Deployment", "apps") => Kind::Deployment,
            ("ReplicaSet", "apps") => Kind::ReplicaSet,
            ("Job", "batch") => Kind::Job,
            ("CronJob", "batch") => Kind::CronJob,
            ("Event", "") => Kind::Event,
            ("Service", "") => Kind::Service,
            ("VolumeSnapshot", "snapshot.storage.k8s.io") => Kind::VolumeSnapshot,
            ("VolumeSnapshotClass", "snapshot.storage.k8s.io") => Kind::VolumeSnapshotClass,
            ("VolumeSnapshotContent", "snapshot.storage.k8s.io") => Kind::VolumeSnapshotContent,
            _ => return None,
        })
    }

    /// The API resource for the snapshot CRDs (served as dynamic objects).
    pub fn dynamic_resource(self) -> Option<ApiResource> {
        let (kind, plural) = match self {
            Kind::VolumeSnapshot => ("VolumeSnapshot", "volumesnapshots"),
            Kind::VolumeSnapshotClass => ("VolumeSnapshotClass", "volumesnapshotclasses"),
            Kind::VolumeSnapshotContent => ("VolumeSnapshotContent", "volumesnapshotcontents"),
            _ => return None,
        };
        Some(ApiResource {
            group: "snapshot.storage.k8s.io".into(),
            version: "v1".into(),
            api_version: "snapshot.storage.k8s.io/v1".into(),
            kind: kind.into(),
            plural: plural.into(),
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.resource())
    }
}

/// Something the snapshot could not see, and why. Rendered as "unknown (forbidden: list …)".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Gap {
    pub kind: Kind,
    pub verb: String,
    pub resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub reason: GapReason,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum GapReason {
    /// RBAC refused the LIST.
    Forbidden,
    /// The API is not served (e.g. snapshot CRDs not installed).
    NotServed,
    /// A dump that holds no object of this kind.
    NotInDump,
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self
            .namespace
            .as_ref()
            .map(|n| format!(" in namespace {n}"))
            .unwrap_or_default();
        match self.reason {
            GapReason::Forbidden => write!(f, "forbidden: {} {}{ns}", self.verb, self.resource),
            GapReason::NotServed => write!(f, "not served: {}{ns}", self.resource),
            GapReason::NotInDump => write!(f, "not in the dump: {}", self.resource),
        }
    }
}

/// The object types a snapshot holds for pods, claims and volumes: k8s-openapi's ([`Full`], for
/// the plugins that read whole pod specs), or the trace's [`Lean`] ones (see [`crate::lean`]).
pub trait Flavor: fmt::Debug + Clone + Default + Send + Sync + 'static {
    type Pod: Obj;
    type Pvc: Obj;
    type Pv: Obj;
}

/// What a snapshot needs of a pod, claim or volume type.
pub trait Obj: serde::de::DeserializeOwned + Clone + fmt::Debug + Send + Sync + 'static {
    fn namespace(&self) -> Option<&str>;
    fn labels_match(&self, sel: &Selector) -> bool;
    /// Drop what no analysis reads (managedFields, the last-applied annotation).
    fn strip(&mut self);
}

macro_rules! full_obj {
    ($($t:ty),*) => {$(
        impl Obj for $t {
            fn namespace(&self) -> Option<&str> {
                self.metadata.namespace.as_deref()
            }
            fn labels_match(&self, sel: &Selector) -> bool {
                sel.matches(self.metadata.labels.as_ref())
            }
            fn strip(&mut self) {
                strip_meta(&mut self.metadata)
            }
        }
    )*};
}

macro_rules! lean_obj {
    ($($t:ty),*) => {$(
        impl Obj for $t {
            fn namespace(&self) -> Option<&str> {
                self.metadata.namespace.as_deref()
            }
            fn labels_match(&self, sel: &Selector) -> bool {
                sel.matches(self.metadata.labels.as_ref())
            }
            fn strip(&mut self) {} // lean metadata keeps none of it
        }
    )*};
}

full_obj!(
    k8s_openapi::api::core::v1::Pod,
    PersistentVolumeClaim,
    k8s_openapi::api::core::v1::PersistentVolume
);
lean_obj!(
    crate::lean::Pod,
    crate::lean::PersistentVolumeClaim,
    crate::lean::PersistentVolume
);

/// k8s-openapi's Pod, PersistentVolumeClaim and PersistentVolume.
#[derive(Debug, Clone, Copy, Default)]
pub struct Full;

impl Flavor for Full {
    type Pod = k8s_openapi::api::core::v1::Pod;
    type Pvc = PersistentVolumeClaim;
    type Pv = k8s_openapi::api::core::v1::PersistentVolume;
}

/// The lean Pod, PersistentVolumeClaim and PersistentVolume of [`crate::lean`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Lean;

impl Flavor for Lean {
    type Pod = crate::lean::Pod;
    type Pvc = crate::lean::PersistentVolumeClaim;
    type Pv = crate::lean::PersistentVolume;
}

/// Every object the analysis may use. Vectors keep source order.
#[derive(Debug, Clone)]
pub struct Snapshot<F: Flavor = Full> {
    pub pods: Vec<F::Pod>,
    pub pvcs: Vec<F::Pvc>,
    pub pvs: Vec<F::Pv>,
    pub storage_classes: Vec<StorageClass>,
    pub volume_attachments: Vec<VolumeAttachment>,
    pub nodes: Vec<Node>,
    pub statefulsets: Vec<StatefulSet>,
    pub deployments: Vec<Deployment>,
    pub replicasets: Vec<ReplicaSet>,
    pub jobs: Vec<Job>,
    pub cronjobs: Vec<CronJob>,
    pub events: Vec<Event>,
    pub services: Vec<Service>,
    pub csi_drivers: Vec<CSIDriver>,
    /// VolumeSnapshot / VolumeSnapshotClass / VolumeSnapshotContent, as JSON.
    pub dynamic: BTreeMap<Kind, Vec<Value>>,
    /// Kinds that were looked at (listed, or present in the dump).
    pub known: BTreeSet<Kind>,
    /// Kinds that could not be seen, and why.
    pub gaps: Vec<Gap>,
    /// Objects skipped from a dump because the suite does not use their kind, by kind.
    pub skipped: BTreeMap<String, usize>,
}

impl<F: Flavor> Default for Snapshot<F> {
    fn default() -> Self {
        Snapshot {
            pods: Vec::new(),
            pvcs: Vec::new(),
            pvs: Vec::new(),
            storage_classes: Vec::new(),
            volume_attachments: Vec::new(),
            nodes: Vec::new(),
            statefulsets: Vec::new(),
            deployments: Vec::new(),
            replicasets: Vec::new(),
            jobs: Vec::new(),
            cronjobs: Vec::new(),
            events: Vec::new(),
            services: Vec::new(),
            csi_drivers: Vec::new(),
            dynamic: BTreeMap::new(),
            known: BTreeSet::new(),
            gaps: Vec::new(),
            skipped: BTreeMap::new(),
        }
    }
}

impl<F: Flavor> Snapshot<F> {
    /// Is this kind visible (listed, or in the dump)? Analysis says "unknown" otherwise.
    pub fn knows(&self, kind: Kind) -> bool {
        self.known.contains(&kind)
    }

    /// The gap for this kind, if any.
    pub fn gap(&self, kind: Kind) -> Option<&Gap> {
        self.gaps.iter().find(|g| g.kind == kind)
    }

    fn push(&mut self, obj: Object<F>) {
        let kind = obj.kind();
        self.known.insert(kind);
        fn full<T: k8s_openapi::Metadata<Ty = ObjectMeta>>(mut o: T) -> T {
            strip_meta(o.metadata_mut());
            o
        }
        fn lean_or_full<T: Obj>(mut o: T) -> T {
            o.strip();
            o
        }
        match obj {
            Object::Pod(o) => self.pods.push(lean_or_full(*o)),
            Object::Pvc(o) => self.pvcs.push(lean_or_full(*o)),
            Object::Pv(o) => self.pvs.push(lean_or_full(*o)),
            Object::StorageClass(o) => self.storage_classes.push(full(*o)),
            Object::VolumeAttachment(o) => self.volume_attachments.push(full(*o)),
            Object::Node(o) => self.nodes.push(full(*o)),
            Object::StatefulSet(o) => self.statefulsets.push(full(*o)),
            Object::Deployment(o) => self.deployments.push(full(*o)),
            Object::ReplicaSet(o) => self.replicasets.push(full(*o)),
            Object::Job(o) => self.jobs.push(full(*o)),
            Object::CronJob(o) => self.cronjobs.push(full(*o)),
            Object::Event(o) => self.events.push(full(*o)),
            Object::Service(o) => self.services.push(full(*o)),
            Object::CSIDriver(o) => self.csi_drivers.push(full(*o)),
            Object::Dynamic(k, v) => self.dynamic.entry(k).or_default().push(v),
        }
    }

    /// Move every object of `other` in (after ours), with what it knows and skipped.
    fn absorb(&mut self, other: Snapshot<F>) {
        fn append<T>(a: &mut Vec<T>, mut b: Vec<T>) {
            if a.is_empty() {
                *a = b;
            } else {
                a.append(&mut b);
            }
        }
        append(&mut self.pods, other.pods);
        append(&mut self.pvcs, other.pvcs);
        append(&mut self.pvs, other.pvs);
        append(&mut self.storage_classes, other.storage_classes);
        append(&mut self.volume_attachments, other.volume_attachments);
        append(&mut self.nodes, other.nodes);
        append(&mut self.statefulsets, other.statefulsets);
        append(&mut self.deployments, other.deployments);
        append(&mut self.replicasets, other.replicasets);
        append(&mut self.jobs, other.jobs);
        append(&mut self.cronjobs, other.cronjobs);
        append(&mut self.events, other.events);
        append(&mut self.services, other.services);
        append(&mut self.csi_drivers, other.csi_drivers);
        for (k, v) in other.dynamic {
            append(self.dynamic.entry(k).or_default(), v);
        }
        self.known.extend(other.known);
        self.gaps.extend(other.gaps);
        for (k, n) in other.skipped {
            *self.skipped.entry(k).or_default() += n;
        }
    }

    /// Keep only namespaced objects in `ns` and pods matching `selector`.
    pub fn retain_scope(&mut self, scope: &Scope) {
        if let Some(ns) = &scope.namespace {
            let keep = |m: &ObjectMeta| m.namespace.as_deref() == Some(ns.as_str());
            let here = |o: Option<&str>| o == Some(ns.as_str());
            self.pods.retain(|o| here(o.namespace()));
            self.pvcs.retain(|o| here(o.namespace()));
            self.statefulsets.retain(|o| keep(&o.metadata));
            self.deployments.retain(|o| keep(&o.metadata));
            self.replicasets.retain(|o| keep(&o.metadata));
            self.jobs.retain(|o| keep(&o.metadata));
            self.cronjobs.retain(|o| keep(&o.metadata));
            self.events.retain(|o| keep(&o.metadata));
            self.services.retain(|o| keep(&o.metadata));
            if let Some(v) = self.dynamic.get_mut(&Kind::VolumeSnapshot) {
                v.retain(|o| o.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns));
            }
        }
        if let Some(sel) = &scope.pod_selector {
            self.pods.retain(|p| p.labels_match(sel));
        }
    }
}

/// What to fetch: the namespace (None = all) and the pod label selector.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub namespace: Option<String>,
    pub pod_selector: Option<Selector>,
}

/// Where objects come from.
pub enum Source {
    Cluster(crate::client::Connection),
    Dump(Vec<String>),
}

impl Source {
    /// Load the given kinds in the given scope.
    pub async fn load<F: Flavor>(&self, kinds: &[Kind], scope: &Scope) -> Result<Snapshot<F>> {
        match self {
            Source::Cluster(conn) => fetch(&conn.client, &conn.server, kinds, scope).await,
            Source::Dump(files) => {
                let mut snap = read_dumps(files)?;
                snap.retain_scope(scope);
                for &k in kinds {
                    if !snap.knows(k) {
                        snap.gaps.push(Gap {
                            kind: k,
                            verb: "list".into(),
                            resource: k.resource().into(),
                            namespace: None,
                            reason: GapReason::NotInDump,
                            message: String::new(),
                        });
                    }
                }
                Ok(snap)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Objects
// ---------------------------------------------------------------------------------------------

/// The typed [`Object`] for `kind`. `$conv` is expanded in each arm, so its target type is
/// inferred per kind (e.g. `serde_json::from_str(raw)?`); `$dynamic` builds the snapshot CRDs,
/// which have no typed struct.
macro_rules! typed_object {
    ($kind:expr, $conv:expr, $dynamic:expr) => {
        match $kind {
            Kind::Pod => Object::Pod(Box::new($conv)),
            Kind::PersistentVolumeClaim => Object::Pvc(Box::new($conv)),
            Kind::PersistentVolume => Object::Pv(Box::new($conv)),
            Kind::StorageClass => Object::StorageClass(Box::new($conv)),
            Kind::VolumeAttachment => Object::VolumeAttachment(Box::new($conv)),
            Kind::Node => Object::Node(Box::new($conv)),
            Kind::StatefulSet => Object::StatefulSet(Box::new($conv)),
            Kind::Deployment => Object::Deployment(Box::new($conv)),
            Kind::ReplicaSet => Object::ReplicaSet(Box::new($conv)),
            Kind::Job => Object::Job(Box::new($conv)),
            Kind::CronJob => Object::CronJob(Box::new($conv)),
            Kind::Event => Object::Event(Box::new($conv)),
            Kind::Service => Object::Service(Box::new($conv)),
            Kind::CSIDriver => Object::CSIDriver(Box::new($conv)),
            Kind::VolumeSnapshot | Kind::VolumeSnapshotClass | Kind::VolumeSnapshotContent => {
                $dynamic
            }
        }
    };
}

/// One typed object of a kind we use.
#[derive(Debug, Clone)]
pub enum Object<F: Flavor = Full> {
    Pod(Box<F::Pod>),
    Pvc(Box<F::Pvc>),
    Pv(Box<F::Pv>),
    StorageClass(Box<StorageClass>),
    VolumeAttachment(Box<VolumeAttachment>),
    Node(Box<Node>),
    StatefulSet(Box<StatefulSet>),
    Deployment(Box<Deployment>),
    ReplicaSet(Box<ReplicaSet>),
    Job(Box<Job>),
    CronJob(Box<CronJob>),
    Event(Box<Event>),
    Service(Box<Service>),
    CSIDriver(Box<CSIDriver>),
    Dynamic(Kind, Value),
}

impl<F: Flavor> Object<F> {
    pub fn kind(&self) -> Kind {
        match self {
            Object::Pod(_) => Kind::Pod,
            Object::Pvc(_) => Kind::PersistentVolumeClaim,
            Object::Pv(_) => Kind::PersistentVolume,
            Object::StorageClass(_) => Kind::StorageClass,
            Object::VolumeAttachment(_) => Kind::VolumeAttachment,
            Object::Node(_) => Kind::Node,
            Object::StatefulSet(_) => Kind::StatefulSet,
            Object::Deployment(_) => Kind::Deployment,
            Object::ReplicaSet(_) => Kind::ReplicaSet,
            Object::Job(_) => Kind::Job,
            Object::CronJob(_) => Kind::CronJob,
            Object::Event(_) => Kind::Event,
            Object::Service(_) => Kind::Service,
            Object::CSIDriver(_) => Kind::CSIDriver,
            Object::Dynamic(k, _) => *k,
        }
    }

    /// Convert one JSON object by its kind. `Ok(None)` for kinds we do not use.
    pub fn from_value(
        mut v: Value,
        default_kind: Option<(&str, &str)>,
    ) -> std::result::Result<Option<Object<F>>, String> {
        let kind_s = v.get("kind").and_then(Value::as_str).map(str::to_string);
        let api_s = v
            .get("apiVersion")
            .and_then(Value::as_str)
            .map(str::to_string);
        let (kind_s, api_s) = match (kind_s, api_s, default_kind) {
            (Some(k), Some(a), _) => (k, a),
            (Some(k), None, Some((_, a))) => (k, a.to_string()),
            (None, _, Some((k, a))) => (k.to_string(), a.to_string()),
            (Some(k), None, None) => (k, String::new()),
            (None, _, None) => return Err("object has no \"kind\"".into()),
        };
        // Typed k8s-openapi deserializers check apiVersion/kind: make sure both are present.
        if let Some(m) = v.as_object_mut() {
            m.entry("kind")
                .or_insert_with(|| Value::String(kind_s.clone()));
            m.entry("apiVersion")
                .or_insert_with(|| Value::String(api_s.clone()));
        }
        let Some(kind) = Kind::from_kind(&kind_s, &api_s) else {
            return Ok(None);
        };
        strip_noise(&mut v);
        fn typed<T: serde::de::DeserializeOwned>(
            v: Value,
            kind: &str,
        ) -> std::result::Result<T, String> {
            let name = object_label(&v);
            serde_json::from_value(v).map_err(|e| format!("{kind} {name}: {e}"))
        }
        let k = kind_s.as_str();
        Ok(Some(typed_object!(
            kind,
            typed(v, k)?,
            Object::Dynamic(kind, v)
        )))
    }
}

/// `ns/name` or `name` of a JSON object, for messages.
fn object_label(v: &Value) -> String {
    let name = v
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("<unnamed>");
    match v.pointer("/metadata/namespace").and_then(Value::as_str) {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

/// Drop what no analysis reads and what costs the most memory: managedFields and the
/// last-applied annotation.
fn strip_noise(v: &mut Value) {
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        if let Some(ann) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            ann.remove("kubectl.kubernetes.io/last-applied-configuration");
        }
    }
}

fn strip_meta(meta: &mut ObjectMeta) {
    meta.managed_fields = None;
    if let Some(ann) = meta.annotations.as_mut() {
        ann.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
}

// ---------------------------------------------------------------------------------------------
// Dumps
// ---------------------------------------------------------------------------------------------

/// Read and merge several dump files (`-` = stdin).
///
/// A YAML file is read piece by piece (one List item at a time, see [`crate::yaml_split`]), so
/// its text is never all in memory; whatever the splitter does not handle, or any piece that
/// does not parse, sends the whole file through the ordinary parser, which also gives the
/// error message. JSON files, stdin and that fallback parse the whole text.
pub fn read_dumps<F: Flavor>(files: &[String]) -> Result<Snapshot<F>> {
    let mut snap = Snapshot::default();
    let mut stdin_used = false;
    for f in files {
        if f == "-" {
            if stdin_used {
                return Err(Error::Usage("--from-file - (stdin) given twice".into()));
            }
            stdin_used = true;
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|e| {
                Error::File {
                    path: PathBuf::from("<stdin>"),
                    line: None,
                    message: e.to_string(),
                }
            })?;
            parse_dump_into(&mut snap, std::path::Path::new("<stdin>"), &s)?;
            continue;
        }
        let p = PathBuf::from(f);
        let io_err = |e: std::io::Error| Error::File {
            path: p.clone(),
            line: None,
            message: e.to_string(),
        };
        let file = std::fs::File::open(&p).map_err(io_err)?;
        let mut input = std::io::BufReader::with_capacity(1 << 16, file);
        let json = {
            let head = std::io::BufRead::fill_buf(&mut input).map_err(io_err)?;
            matches!(
                head.iter().find(|b| !b.is_ascii_whitespace()),
                Some(b'{') | Some(b'[')
            )
        };
        if !json {
            let mut sink = Snapshot::<F>::default();
            if yaml_streamed(&mut sink, input).is_ok() {
                snap.absorb(sink);
                continue;
            }
        }
        let text = std::fs::read(&p).map_err(io_err)?;
        let text = String::from_utf8(text).map_err(|e| Error::File {
            path: p.clone(),
            line: None,
            message: format!("not UTF-8 text: {e}"),
        })?;
        if json {
            parse_dump_into(&mut snap, &p, &text)?;
        } else {
            parse_yaml_whole(&mut snap, &p, &text)?;
        }
    }
    Ok(snap)
}

/// Parse one dump's text into the snapshot. YAML or JSON (detected by the first character).
pub fn parse_dump_into<F: Flavor>(
    snap: &mut Snapshot<F>,
    path: &std::path::Path,
    text: &str,
) -> Result<()> {
    let first = text.trim_start().chars().next();
    if !matches!(first, Some('{') | Some('[')) {
        let mut sink = Snapshot::<F>::default();
        if yaml_streamed(&mut sink, text.as_bytes()).is_ok() {
            snap.absorb(sink);
            return Ok(());
        }
        return parse_yaml_whole(snap, path, text);
    }
    let file_err = |line: Option<usize>, message: String| Error::File {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut sink = Snapshot::<F>::default();
    let stream =
        serde_json::Deserializer::from_str(text).into_iter::<&serde_json::value::RawValue>();
    for doc in stream {
        let doc = doc.map_err(|e| {
            let line = if e.line() > 0 { Some(e.line()) } else { None };
            file_err(line, e.to_string())
        })?;
        json_doc(&mut sink, text, doc).map_err(|(line, msg)| file_err(line, msg))?;
    }
    snap.absorb(sink);
    Ok(())
}

/// A YAML dump parsed as one text: the reference path, and the one that names errors.
fn parse_yaml_whole<F: Flavor>(
    snap: &mut Snapshot<F>,
    path: &std::path::Path,
    text: &str,
) -> Result<()> {
    let docs: Vec<DocSink<F>> = serde_saphyr::from_multiple_with_options(text, yaml_options())
        .map_err(|e| {
            let (line, message) = saphyr_error_parts(&e);
            Error::File {
                path: path.to_path_buf(),
                line,
                message,
            }
        })?;
    for d in docs {
        snap.absorb(d.0);
    }
    Ok(())
}

/// The streamed read gave up: parse the whole text instead.
struct Fallback;

/// Read a YAML dump piece by piece into `sink`.
fn yaml_streamed<F: Flavor, R: std::io::BufRead>(
    sink: &mut Snapshot<F>,
    input: R,
) -> std::result::Result<(), Fallback> {
    use crate::yaml_split::{Piece, Splitter};
    #[derive(Deserialize)]
    struct Header {
        kind: Option<String>,
        #[serde(rename = "apiVersion")]
        api_version: Option<String>,
    }
    let mut split = Splitter::new(input);
    let mut kindless: Vec<Value> = Vec::new();
    loop {
        let piece = match split.next_piece() {
            Ok(Ok(Some(p))) => p,
            Ok(Ok(None)) => return Ok(()),
            _ => return Err(Fallback),
        };
        match piece {
            Piece::Item { text, .. } => yaml_piece(sink, &mut kindless, &text, false)?,
            Piece::Document { text, .. } => yaml_piece(sink, &mut kindless, &text, true)?,
            Piece::ListEnd { header, .. } => {
                let h: Header = serde_saphyr::from_str_with_options(&header, yaml_options())
                    .map_err(|_| Fallback)?;
                let kind = h.kind.unwrap_or_default();
                if !kind.is_empty() && !kind.ends_with("List") {
                    return Err(Fallback); // an object with an `items` field, not a List
                }
                let item_kind = kind.strip_suffix("List").unwrap_or("");
                let api = h.api_version.unwrap_or_else(|| "v1".into());
                for v in kindless.drain(..) {
                    if item_kind.is_empty() {
                        return Err(Fallback);
                    }
                    sink.take(v, Some((item_kind, &api)))
                        .map_err(|_| Fallback)?;
                }
            }
        }
    }
}

/// One piece into `sink`: through the fast path for the block YAML kubectl writes
/// ([`crate::yaml_fast`]), into a scratch sink so that a decline halfway leaves nothing
/// behind, else through serde-saphyr. Any error means [`Fallback`].
fn yaml_piece<F: Flavor>(
    sink: &mut Snapshot<F>,
    kindless: &mut Vec<Value>,
    text: &str,
    document: bool,
) -> std::result::Result<(), Fallback> {
    let mut scratch = Snapshot::<F>::default();
    let mut scratch_kindless = Vec::new();
    let fast = if document {
        crate::yaml_fast::from_str_seed(text, DocSeed { sink: &mut scratch })
    } else {
        crate::yaml_fast::from_str_seed(
            text,
            ItemsSeed {
                sink: &mut scratch,
                kindless: &mut scratch_kindless,
            },
        )
    };
    if fast.is_ok() {
        sink.absorb(scratch);
        kindless.append(&mut scratch_kindless);
        return Ok(());
    }
    drop(scratch);
    let res = if document {
        serde_saphyr::with_deserializer_from_str_with_options(text, yaml_options(), |d| {
            DocSeed { sink }.deserialize(d)
        })
    } else {
        serde_saphyr::with_deserializer_from_str_with_options(text, yaml_options(), |d| {
            ItemsSeed { sink, kindless }.deserialize(d)
        })
    };
    res.map_err(|_| Fallback)
}

fn yaml_options() -> serde_saphyr::Options {
    // Dumps of big clusters are large: lift the default budget (it guards against hostile
    // YAML such as alias bombs, which kubectl never writes), keep alias expansion bounded.
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: 1_000_000,
            max_nodes: 500_000_000,
            max_total_scalar_bytes: 8 * 1024 * 1024 * 1024,
            max_events: 2_000_000_000,
        },
    }
}

fn saphyr_error_parts(e: &serde_saphyr::Error) -> (Option<usize>, String) {
    let msg = e.to_string();
    let line = e.location().map(|l| l.line() as usize);
    (
        line,
        msg.lines().next().unwrap_or("invalid YAML").to_string(),
    )
}

/// The line (1-based) at which `part` (a slice of `text`) starts.
fn line_of(text: &str, part: &str) -> usize {
    let offset = (part.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    text.get(..offset)
        .map(|t| t.matches('\n').count())
        .unwrap_or(0)
        + 1
}

type JsonErr = (Option<usize>, String);

/// One JSON document: a List (items deserialized one by one straight into typed objects,
/// no JSON tree), a bare array, or one object.
fn json_doc<F: Flavor>(
    sink: &mut Snapshot<F>,
    text: &str,
    doc: &serde_json::value::RawValue,
) -> std::result::Result<(), JsonErr> {
    #[derive(Deserialize)]
    struct Peek<'a> {
        kind: Option<String>,
        #[serde(rename = "apiVersion")]
        api_version: Option<String>,
        #[serde(borrow)]
        items: Option<Option<Vec<&'a serde_json::value::RawValue>>>,
    }
    let raw = doc.get();
    let at = |e: serde_json::Error| {
        (
            Some(line_of(text, raw) + e.line().saturating_sub(1)),
            e.to_string(),
        )
    };
    if raw.trim_start().starts_with('[') {
        let items: Vec<&serde_json::value::RawValue> = serde_json::from_str(raw).map_err(at)?;
        for it in items {
            json_item(sink, text, it, None)?;
        }
        return Ok(());
    }
    let peek: Peek = serde_json::from_str(raw).map_err(at)?;
    let kind = peek.kind.as_deref().unwrap_or("");
    match peek.items {
        Some(items) if kind.is_empty() || kind.ends_with("List") => {
            let item_kind = kind.strip_suffix("List").unwrap_or("");
            let api = peek.api_version.as_deref().unwrap_or("v1");
            let default = (!item_kind.is_empty()).then_some((item_kind, api));
            for it in items.into_iter().flatten() {
                json_item(sink, text, it, default)?;
            }
            Ok(())
        }
        _ => json_item(sink, text, doc, None),
    }
}

fn json_typed<T: serde::de::DeserializeOwned>(
    text: &str,
    raw: &str,
) -> std::result::Result<T, JsonErr> {
    serde_json::from_str(raw).map_err(|e| json_err(text, raw, e))
}

/// An error inside `raw` (a slice of `text`), with its line in the file. Counting lines is
/// O(file), so it happens only here, on the error path.
fn json_err(text: &str, raw: &str, e: serde_json::Error) -> JsonErr {
    (
        Some(line_of(text, raw) + e.line().saturating_sub(1)),
        e.to_string(),
    )
}

fn json_item<F: Flavor>(
    sink: &mut Snapshot<F>,
    text: &str,
    item: &serde_json::value::RawValue,
    default_kind: Option<(&str, &str)>,
) -> std::result::Result<(), JsonErr> {
    #[derive(Deserialize)]
    struct KindPeek {
        kind: Option<String>,
        #[serde(rename = "apiVersion")]
        api_version: Option<String>,
    }
    let raw = item.get();
    let at = |e: serde_json::Error| json_err(text, raw, e);
    let peek: KindPeek = serde_json::from_str(raw).map_err(at)?;
    let (Some(kind_s), Some(api_s)) = (peek.kind.as_deref(), peek.api_version.as_deref()) else {
        // Items without kind/apiVersion (raw API lists): the general path fills them in.
        let v: Value = serde_json::from_str(raw).map_err(at)?;
        return sink
            .take(v, default_kind)
            .map_err(|m| (Some(line_of(text, raw)), m));
    };
    let Some(kind) = Kind::from_kind(kind_s, api_s) else {
        sink.skip(kind_s.to_string());
        return Ok(());
    };
    let obj = typed_object!(kind, json_typed(text, raw)?, {
        let mut v: Value = serde_json::from_str(raw).map_err(at)?;
        strip_noise(&mut v);
        Object::Dynamic(kind, v)
    });
    sink.push(obj);
    Ok(())
}

/// Parsing puts objects straight into a snapshot (no intermediate list, so a big dump's
/// objects exist once).
impl<F: Flavor> Snapshot<F> {
    /// A JSON object by its kind; a kind we do not use is counted as skipped.
    fn take(
        &mut self,
        v: Value,
        default_kind: Option<(&str, &str)>,
    ) -> std::result::Result<(), String> {
        let kind = v.get("kind").and_then(Value::as_str).map(str::to_string);
        match Object::from_value(v, default_kind)? {
            Some(o) => self.push(o),
            None => {
                let k = kind
                    .or_else(|| default_kind.map(|(k, _)| k.to_string()))
                    .unwrap_or_default();
                self.skip(k);
            }
        }
        Ok(())
    }

    fn skip(&mut self, kind: String) {
        *self.skipped.entry(kind).or_default() += 1;
    }
}

/// One YAML document, deserialized straight into objects (a List's items are converted one by
/// one, so a huge List never exists as one JSON tree in memory).
struct DocSink<F: Flavor>(Snapshot<F>);

impl<'de, F: Flavor> Deserialize<'de> for DocSink<F> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let mut sink = Snapshot::default();
        DocSeed { sink: &mut sink }.deserialize(d)?;
        Ok(DocSink(sink))
    }
}

struct DocSeed<'a, F: Flavor> {
    sink: &'a mut Snapshot<F>,
}

impl<'de, F: Flavor> DeserializeSeed<'de> for DocSeed<'_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, F: Flavor> Visitor<'de> for DocSeed<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes object or a List of objects")
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        Ok(()) // an empty document
    }

    fn visit_none<E: de::Error>(self) -> std::result::Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        // A bare array of objects (e.g. `jq '.items'` output).
        while let Some(v) = seq.next_element::<Value>()? {
            self.sink.take(v, None).map_err(de::Error::custom)?;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let mut rest = serde_json::Map::new();
        let mut had_items = false;
        let mut kindless: Vec<Value> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                had_items = true;
                map.next_value_seed(ItemsSeed {
                    sink: &mut *self.sink,
                    kindless: &mut kindless,
                })?;
            } else {
                let v: Value = map.next_value()?;
                rest.insert(key, v);
            }
        }
        let kind = rest.get("kind").and_then(Value::as_str).unwrap_or("");
        let api = rest
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("v1");
        if had_items && (kind.is_empty() || kind.ends_with("List")) {
            // Items without their own kind (raw API lists such as PodList) take the list's.
            let item_kind = kind.strip_suffix("List").unwrap_or("");
            for v in kindless {
                if item_kind.is_empty() {
                    return Err(de::Error::custom(
                        "a list item has no \"kind\" and the list does not say which kind it holds",
                    ));
                }
                self.sink
                    .take(v, Some((item_kind, api)))
                    .map_err(de::Error::custom)?;
            }
            return Ok(());
        }
        if rest.is_empty() && !had_items {
            return Ok(());
        }
        if kind.is_empty() {
            return Err(de::Error::custom(
                "a document has no \"kind\": expected a Kubernetes object or a List (kubectl get -o yaml)",
            ));
        }
        self.sink
            .take(Value::Object(rest), None)
            .map_err(de::Error::custom)
    }
}

struct ItemsSeed<'a, F: Flavor> {
    sink: &'a mut Snapshot<F>,
    kindless: &'a mut Vec<Value>,
}

impl<'de, F: Flavor> DeserializeSeed<'de> for ItemsSeed<'_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, F: Flavor> Visitor<'de> for ItemsSeed<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of objects")
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        Ok(()) // `items: null`
    }

    fn visit_none<E: de::Error>(self) -> std::result::Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        while let Some(()) = seq.next_element_seed(ItemSeed {
            sink: &mut *self.sink,
            kindless: &mut *self.kindless,
        })? {}
        Ok(())
    }
}

/// One List item, deserialized straight into its typed object when `apiVersion` and `kind`
/// come before its other keys (kubectl sorts keys, so they do); otherwise through a JSON value.
/// Items without a kind (raw API lists) are kept for the list's kind.
struct ItemSeed<'a, F: Flavor> {
    sink: &'a mut Snapshot<F>,
    kindless: &'a mut Vec<Value>,
}

impl<'de, F: Flavor> DeserializeSeed<'de> for ItemSeed<'_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, F: Flavor> Visitor<'de> for ItemSeed<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes object")
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        Err(E::custom("object has no \"kind\""))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let mut api: Option<Value> = None;
        let mut kind: Option<Value> = None;
        let first = loop {
            match map.next_key::<String>()? {
                None => break None,
                Some(k) if k == "apiVersion" && api.is_none() => api = Some(map.next_value()?),
                Some(k) if k == "kind" && kind.is_none() => kind = Some(map.next_value()?),
                Some(k) => break Some(k),
            }
        };
        if let (Some(Value::String(k)), Some(Value::String(a)), Some(first)) = (&kind, &api, &first)
        {
            let Some(kd) = Kind::from_kind(k, a) else {
                map.next_value::<de::IgnoredAny>()?;
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                self.sink.skip(k.clone());
                return Ok(());
            };
            let rest = de::value::MapAccessDeserializer::new(Prefixed {
                pending: [("apiVersion", a.clone()), ("kind", k.clone())].into_iter(),
                value: None,
                first: Some(first.clone()),
                inner: map,
            });
            let obj = typed_object!(kd, Deserialize::deserialize(rest)?, {
                let mut v = Value::deserialize(rest)?;
                strip_noise(&mut v);
                Object::Dynamic(kd, v)
            });
            self.sink.push(obj);
            return Ok(());
        }
        let mut m = serde_json::Map::new();
        if let Some(a) = api {
            m.insert("apiVersion".into(), a);
        }
        if let Some(k) = kind {
            m.insert("kind".into(), k);
        }
        if let Some(first) = first {
            let v: Value = map.next_value()?;
            m.insert(first, v);
            while let Some((k, v)) = map.next_entry::<String, Value>()? {
                m.insert(k, v);
            }
        }
        let v = Value::Object(m);
        if v.get("kind").and_then(Value::as_str).is_some() {
            self.sink.take(v, None).map_err(de::Error::custom)
        } else {
            self.kindless.push(v);
            Ok(())
        }
    }
}

/// A map whose first entries (`apiVersion`, `kind`, then the key of the next entry) were
/// already read: hands them out again, then the rest of the underlying map.
struct Prefixed<I, A> {
    pending: I,
    value: Option<String>,
    first: Option<String>,
    inner: A,
}

impl<'de, I, A> MapAccess<'de> for Prefixed<I, A>
where
    I: Iterator<Item = (&'static str, String)>,
    A: MapAccess<'de>,
{
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> std::result::Result<Option<K::Value>, A::Error> {
        use serde::de::IntoDeserializer;
        if let Some((k, v)) = self.pending.next() {
            self.value = Some(v);
            return seed
                .deserialize(IntoDeserializer::<A::Error>::into_deserializer(k))
                .map(Some);
        }
        if let Some(k) = self.first.take() {
            return seed
                .deserialize(IntoDeserializer::<A::Error>::into_deserializer(k))
                .map(Some);
        }
        self.inner.next_key_seed(seed)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> std::result::Result<V::Value, A::Error> {
        use serde::de::IntoDeserializer;
        match self.value.take() {
            Some(v) => seed.deserialize(IntoDeserializer::<A::Error>::into_deserializer(v)),
            None => self.inner.next_value_seed(seed),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Cluster
// ---------------------------------------------------------------------------------------------

/// Page size for LISTs (kubectl's default chunk size).
pub const PAGE_SIZE: u32 = 500;

/// Api for a namespaced kind: the namespace in scope, or all namespaces.
fn api_ns<K>(client: &kube::Client, scope: &Scope) -> Api<K>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>,
{
    match &scope.namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Api for a cluster-scoped kind.
fn api_cluster<K>(client: &kube::Client) -> Api<K>
where
    K: Resource<DynamicType = ()>,
{
    Api::all(client.clone())
}

/// LIST all pages of one kind.
async fn list_pages<K>(
    api: Api<K>,
    kind: Kind,
    scope: &Scope,
) -> std::result::Result<Vec<K>, kube::Error>
where
    K: Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + fmt::Debug,
    K: k8s_openapi::Metadata<Ty = ObjectMeta>,
{
    let mut lp = ListParams::default().limit(PAGE_SIZE);
    if kind == Kind::Pod
        && let Some(sel) = &scope.pod_selector
        && !sel.text.is_empty()
    {
        lp = lp.labels(&sel.text);
    }
    let mut out = Vec::new();
    loop {
        let page = api.list(&lp).await?;
        out.extend(page.items);
        match page.metadata.continue_ {
            Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
            _ => break,
        }
    }
    Ok(out)
}

/// LIST all pages of a core/v1 kind (pods, claims, volumes) straight into `K`, which need not
/// be a k8s-openapi type: the trace lists its lean objects this way.
async fn list_raw<K: serde::de::DeserializeOwned>(
    client: &kube::Client,
    kind: Kind,
    scope: &Scope,
) -> std::result::Result<Vec<K>, kube::Error> {
    #[derive(Deserialize)]
    struct Page<K> {
        #[serde(default)]
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta,
        #[serde(default = "Vec::new")]
        items: Vec<K>,
    }
    let path = match (&scope.namespace, kind.namespaced()) {
        (Some(ns), true) => format!("/api/v1/namespaces/{ns}/{}", kind.resource()),
        _ => format!("/api/v1/{}", kind.resource()),
    };
    let mut lp = ListParams::default().limit(PAGE_SIZE);
    if kind == Kind::Pod
        && let Some(sel) = &scope.pod_selector
        && !sel.text.is_empty()
    {
        lp = lp.labels(&sel.text);
    }
    let mut out = Vec::new();
    loop {
        let req = kube::core::Request::new(&path)
            .list(&lp)
            .map_err(kube::Error::BuildRequest)?;
        let page: Page<K> = client.request(req).await?;
        out.extend(page.items);
        match page.metadata.continue_ {
            Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
            _ => break,
        }
    }
    Ok(out)
}

async fn list_dynamic(
    client: &kube::Client,
    kind: Kind,
    scope: &Scope,
) -> std::result::Result<Vec<Value>, kube::Error> {
    let Some(ar) = kind.dynamic_resource() else {
        return Ok(Vec::new());
    };
    let api: Api<DynamicObject> = match (&scope.namespace, kind.namespaced()) {
        (Some(ns), true) => Api::namespaced_with(client.clone(), ns, &ar),
        _ => Api::all_with(client.clone(), &ar),
    };
    let mut lp = ListParams::default().limit(PAGE_SIZE);
    let mut out = Vec::new();
    loop {
        let page = api.list(&lp).await?;
        for mut o in page.items {
            o.metadata.managed_fields = None;
            let mut v = serde_json::to_value(&o).unwrap_or(Value::Null);
            if let Some(m) = v.as_object_mut() {
                m.insert("apiVersion".into(), Value::String(ar.api_version.clone()));
                m.insert("kind".into(), Value::String(ar.kind.clone()));
            }
            out.push(v);
        }
        match page.metadata.continue_ {
            Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
            _ => break,
        }
    }
    Ok(out)
}

async fn list_kind<F: Flavor>(
    client: &kube::Client,
    kind: Kind,
    scope: &Scope,
) -> std::result::Result<Vec<Object<F>>, kube::Error> {
    fn wrap<T, F: Flavor>(v: Vec<T>, f: impl Fn(Box<T>) -> Object<F>) -> Vec<Object<F>> {
        v.into_iter().map(|o| f(Box::new(o))).collect()
    }
    let c = client;
    let s = scope;
    Ok(match kind {
        Kind::Pod => wrap(list_raw(c, kind, s).await?, Object::Pod),
        Kind::PersistentVolumeClaim => wrap(list_raw(c, kind, s).await?, Object::Pvc),
        Kind::PersistentVolume => wrap(list_raw(c, kind, s).await?, Object::Pv),
        Kind::StorageClass => wrap(
            list_pages(api_cluster(c), kind, s).await?,
            Object::StorageClass,
        ),
        Kind::VolumeAttachment => wrap(
            list_pages(api_cluster(c), kind, s).await?,
            Object::VolumeAttachment,
        ),
        Kind::Node => wrap(list_pages(api_cluster(c), kind, s).await?, Object::Node),
        Kind::StatefulSet => wrap(
            list_pages(api_ns(c, s), kind, s).await?,
            Object::StatefulSet,
        ),
        Kind::Deployment => wrap(list_pages(api_ns(c, s), kind, s).await?, Object::Deployment),
        Kind::ReplicaSet => wrap(list_pages(api_ns(c, s), kind, s).await?, Object::ReplicaSet),
        Kind::Job => wrap(list_pages(api_ns(c, s), kind, s).await?, Object::Job),
        Kind::CronJob => wrap(list_pages(api_ns(c, s), kind, s).await?, Object::CronJob),
        Kind::Event => wrap(list_pages(api_ns(c, s), kind, s).await?, Object::Event),
        Kind::Service => wrap(list_pages(api_ns(c, s), kind, s).await?, Object::Service),
        Kind::CSIDriver => wrap(
            list_pages(api_cluster(c), kind, s).await?,
            Object::CSIDriver,
        ),
        Kind::VolumeSnapshot | Kind::VolumeSnapshotClass | Kind::VolumeSnapshotContent => {
            list_dynamic(client, kind, scope)
                .await?
                .into_iter()
                .map(|v| Object::Dynamic(kind, v))
                .collect()
        }
    })
}

/// LIST every kind concurrently; 403/404 become gaps, other errors fail the whole load.
pub async fn fetch<F: Flavor>(
    client: &kube::Client,
    server: &str,
    kinds: &[Kind],
    scope: &Scope,
) -> Result<Snapshot<F>> {
    let mut uniq: Vec<Kind> = kinds.to_vec();
    uniq.sort();
    uniq.dedup();
    let results = futures::future::join_all(
        uniq.iter()
            .map(|&k| async move { (k, list_kind(client, k, scope).await) }),
    )
    .await;
    let mut snap = Snapshot::default();
    for (kind, res) in results {
        let ns = if kind.namespaced() {
            scope.namespace.clone()
        } else {
            None
        };
        match res {
            Ok(objs) => {
                snap.known.insert(kind);
                for o in objs {
                    snap.push(o);
                }
            }
            Err(kube::Error::Api(status)) if status.code == 403 || status.code == 404 => {
                snap.gaps.push(Gap {
                    kind,
                    verb: "list".into(),
                    resource: kind.resource().into(),
                    namespace: ns,
                    reason: if status.code == 403 {
                        GapReason::Forbidden
                    } else {
                        GapReason::NotServed
                    },
                    message: status.message.clone(),
                });
            }
            Err(e) => {
                let mut err = Error::from_kube(e, "list", kind.resource(), ns.as_deref(), None);
                if let Error::Api { context, .. } = &mut err {
                    *context = format!("{context} (server {server})");
                }
                return Err(err);
            }
        }
    }
    Ok(snap)
}

// ---------------------------------------------------------------------------------------------
// Index
// ---------------------------------------------------------------------------------------------

use crate::lean::{
    MetaView, PersistentVolume as LeanPv, PersistentVolumeClaim as LeanPvc, Pod as LeanPod,
};

/// `(namespace, name)` key.
pub type NsName = (String, String);

pub fn ns_name(meta: &ObjectMeta) -> NsName {
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

/// Lookups over a snapshot, built once (O(n)); analysis joins through these, never by scans.
pub struct Index<'a> {
    pub snap: &'a Snapshot<Lean>,
    pub pods: HashMap<(&'a str, &'a str), &'a LeanPod>,
    pub pvcs: HashMap<(&'a str, &'a str), &'a LeanPvc>,
    pub pvs: HashMap<&'a str, &'a LeanPv>,
    pub storage_classes: HashMap<&'a str, &'a StorageClass>,
    pub nodes: HashMap<&'a str, &'a Node>,
    pub statefulsets: HashMap<(&'a str, &'a str), &'a StatefulSet>,
    pub deployments: HashMap<(&'a str, &'a str), &'a Deployment>,
    pub replicasets_by_uid: HashMap<&'a str, &'a ReplicaSet>,
    /// Pods that mount a claim (directly or through a generic ephemeral volume), by (ns, claim).
    pub pods_by_claim: HashMap<(&'a str, String), Vec<&'a LeanPod>>,
    /// VolumeAttachments by PV name.
    pub attachments_by_pv: HashMap<&'a str, Vec<&'a VolumeAttachment>>,
    /// Events by the involved object's uid.
    pub events_by_uid: HashMap<&'a str, Vec<&'a Event>>,
    /// Default StorageClasses (annotation `storageclass.kubernetes.io/is-default-class: "true"`).
    pub default_classes: Vec<&'a StorageClass>,
    /// Volumes a Pending claim could bind to: Available (no claimRef), by storageClassName.
    pub unbound_pvs_by_class: HashMap<&'a str, Vec<&'a LeanPv>>,
    /// Volumes pre-bound (claimRef) to a claim, by the claim's (ns, name).
    pub pvs_by_claim_ref: HashMap<(&'a str, &'a str), Vec<&'a LeanPv>>,
}

fn key<M: MetaView>(m: &M) -> (&str, &str) {
    (m.namespace().unwrap_or(""), m.name().unwrap_or(""))
}

/// The claim name a pod volume refers to: `persistentVolumeClaim.claimName`, or for a generic
/// ephemeral volume `<pod>-<volume>` (the name the ephemeral controller gives it).
pub fn volume_claim_name(pod: &LeanPod, vol: &crate::lean::Volume) -> Option<String> {
    if let Some(pvc) = &vol.persistent_volume_claim {
        return Some(pvc.claim_name.clone());
    }
    if vol.ephemeral.is_some() {
        let pod_name = pod.metadata.name.as_deref().unwrap_or("");
        return Some(format!("{pod_name}-{}", vol.name));
    }
    None
}

impl<'a> Index<'a> {
    pub fn new(snap: &'a Snapshot<Lean>) -> Self {
        let mut pods_by_claim: HashMap<(&str, String), Vec<&LeanPod>> = HashMap::new();
        for p in &snap.pods {
            let ns = p.metadata.namespace.as_deref().unwrap_or("");
            for v in p.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
                if let Some(c) = volume_claim_name(p, v) {
                    pods_by_claim.entry((ns, c)).or_default().push(p);
                }
            }
        }
        let mut attachments_by_pv: HashMap<&str, Vec<&VolumeAttachment>> = HashMap::new();
        for va in &snap.volume_attachments {
            if let Some(pv) = va.spec.source.persistent_volume_name.as_deref() {
                attachments_by_pv.entry(pv).or_default().push(va);
            }
        }
        let mut events_by_uid: HashMap<&str, Vec<&Event>> = HashMap::new();
        for e in &snap.events {
            if let Some(uid) = e.involved_object.uid.as_deref() {
                events_by_uid.entry(uid).or_default().push(e);
            }
        }
        let mut unbound_pvs_by_class: HashMap<&str, Vec<&LeanPv>> = HashMap::new();
        let mut pvs_by_claim_ref: HashMap<(&str, &str), Vec<&LeanPv>> = HashMap::new();
        for pv in &snap.pvs {
            let Some(spec) = pv.spec.as_ref() else {
                continue;
            };
            match &spec.claim_ref {
                Some(cr) => pvs_by_claim_ref
                    .entry((
                        cr.namespace.as_deref().unwrap_or(""),
                        cr.name.as_deref().unwrap_or(""),
                    ))
                    .or_default()
                    .push(pv),
                None => {
                    if pv.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Available") {
                        unbound_pvs_by_class
                            .entry(spec.storage_class_name.as_deref().unwrap_or(""))
                            .or_default()
                            .push(pv);
                    }
                }
            }
        }
        let default_classes = snap
            .storage_classes
            .iter()
            .filter(|sc| is_default_class(sc))
            .collect();
        Index {
            snap,
            pods: snap.pods.iter().map(|o| (key(&o.metadata), o)).collect(),
            pvcs: snap.pvcs.iter().map(|o| (key(&o.metadata), o)).collect(),
            pvs: snap.pvs.iter().map(|o| (key(&o.metadata).1, o)).collect(),
            storage_classes: snap
                .storage_classes
                .iter()
                .map(|o| (key(&o.metadata).1, o))
                .collect(),
            nodes: snap.nodes.iter().map(|o| (key(&o.metadata).1, o)).collect(),
            statefulsets: snap
                .statefulsets
                .iter()
                .map(|o| (key(&o.metadata), o))
                .collect(),
            deployments: snap
                .deployments
                .iter()
                .map(|o| (key(&o.metadata), o))
                .collect(),
            replicasets_by_uid: snap
                .replicasets
                .iter()
                .filter_map(|o| o.metadata.uid.as_deref().map(|u| (u, o)))
                .collect(),
            pods_by_claim,
            attachments_by_pv,
            events_by_uid,
            default_classes,
            unbound_pvs_by_class,
            pvs_by_claim_ref,
        }
    }
}

pub fn is_default_class(sc: &StorageClass) -> bool {
    let ann = sc.metadata.annotations.as_ref();
    [
        "storageclass.kubernetes.io/is-default-class",
        "storageclass.beta.kubernetes.io/is-default-class",
    ]
    .iter()
    .any(|k| ann.and_then(|a| a.get(*k)).map(String::as_str) == Some("true"))
}

impl Source {
    /// The source the flags ask for: `--from-file` dumps, else the cluster. Returns the source
    /// and the namespace commands default to (the context's, or None for a dump: all).
    pub async fn from_args(args: &crate::cli::CommonArgs) -> Result<(Source, Option<String>)> {
        if !args.from_file.is_empty() {
            return Ok((Source::Dump(args.from_file.clone()), None));
        }
        let conn = crate::client::connect(&args.kube).await?;
        let ns = conn.namespace.clone();
        Ok((Source::Cluster(conn), Some(ns)))
    }

    pub fn name(&self) -> &'static str {
        match self {
            Source::Cluster(_) => "cluster",
            Source::Dump(_) => "file",
        }
    }

    /// The scope a command runs in: `-A` → all; `-n` → that; else the default namespace.
    pub fn scope(args: &crate::cli::CommonArgs, default_ns: Option<String>) -> Result<Scope> {
        let namespace = if args.kube.all_namespaces {
            None
        } else {
            args.kube.namespace.clone().or(default_ns)
        };
        let pod_selector = args.selector.as_deref().map(Selector::parse).transpose()?;
        Ok(Scope {
            namespace,
            pod_selector,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Snapshot> {
        let mut s = Snapshot::default();
        parse_dump_into(&mut s, std::path::Path::new("dump.yaml"), text)?;
        Ok(s)
    }

    const LIST: &str = r#"apiVersion: v1
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: db-0
    namespace: prod
    labels: {app: db}
    managedFields: [{manager: kubectl}]
  spec:
    containers: [{name: db, image: postgres:16}]
    volumes:
    - name: data
      persistentVolumeClaim: {claimName: data-db-0}
- apiVersion: v1
  kind: PersistentVolumeClaim
  metadata: {name: data-db-0, namespace: prod}
  spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
- apiVersion: v1
  kind: Secret
  metadata: {name: s, namespace: prod}
  data: {password: c2VjcmV0}
- apiVersion: example.com/v1
  kind: Widget
  metadata: {name: w}
kind: List
metadata:
  resourceVersion: ""
"#;

    #[test]
    fn list_dump_keeps_known_kinds_and_skips_others() {
        let s = parse(LIST).unwrap();
        assert_eq!(s.pods.len(), 1);
        assert_eq!(s.pvcs.len(), 1);
        assert_eq!(s.skipped.get("Secret"), Some(&1));
        assert_eq!(s.skipped.get("Widget"), Some(&1));
        assert!(
            s.pods[0].metadata.managed_fields.is_none(),
            "managedFields stripped"
        );
        assert!(s.knows(Kind::Pod) && !s.knows(Kind::PersistentVolume));
    }

    #[test]
    fn multi_document_yaml_and_json_agree() {
        let yaml = "---\napiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv1}\nspec: {nfs: {server: 10.0.0.5, path: /x}}\n---\n---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fast}\nprovisioner: ebs.csi.aws.com\n";
        let s = parse(yaml).unwrap();
        assert_eq!(s.pvs.len(), 1);
        assert_eq!(s.storage_classes.len(), 1);
        let json = r#"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pv1"}}]}
{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"fast"},"provisioner":"x"}"#;
        let s = parse(json).unwrap();
        assert_eq!(s.pvs.len(), 1);
        assert_eq!(s.storage_classes.len(), 1);
    }

    /// Every way through the dump reader gives the same snapshot: pieces through the fast path,
    /// a piece the fast path declines (an anchor) through serde-saphyr, a file the splitter
    /// does not split (a directive) parsed whole, and items whose keys are not in kubectl's
    /// order (through a JSON value).
    #[test]
    fn every_yaml_path_gives_the_same_objects() {
        let pv = |name: &str| {
            format!(
                "- apiVersion: v1\n  kind: PersistentVolume\n  metadata:\n    name: {name}\n    labels: {{a: b}}\n  spec:\n    capacity:\n      storage: 1Gi\n    csi:\n      driver: ebs.csi.aws.com\n      volumeHandle: vol-{name}\n"
            )
        };
        let plain = format!("apiVersion: v1\nitems:\n{}{}kind: List\n", pv("a"), pv("b"));
        let anchored = plain.replace("labels: {a: b}", "labels: &l {a: b}");
        let reordered = plain.replace(
            "- apiVersion: v1\n  kind: PersistentVolume\n  metadata:\n    name: b\n    labels: {a: b}\n",
            "- metadata:\n    name: b\n    labels: {a: b}\n  kind: PersistentVolume\n  apiVersion: v1\n",
        );
        let directive = format!("%YAML 1.2\n---\n{plain}");
        let lean = |text: &str| {
            let mut s = Snapshot::<Lean>::default();
            parse_dump_into(&mut s, std::path::Path::new("d.yaml"), text).unwrap();
            s
        };
        let whole = {
            let mut s = Snapshot::<Lean>::default();
            parse_yaml_whole(&mut s, std::path::Path::new("d.yaml"), &plain).unwrap();
            s
        };
        assert_eq!(whole.pvs.len(), 2);
        for text in [&plain, &anchored, &reordered, &directive] {
            let s = lean(text);
            assert_eq!(s.pvs, whole.pvs, "{text}");
            assert!(s.knows(Kind::PersistentVolume));
        }
        // The reader's own fallback: a piece that fails sends the whole text to serde-saphyr,
        // whose error names the line.
        let broken = plain.replace("      storage: 1Gi\n", "      storage: \"1Gi\n");
        let streamed = parse(&broken).unwrap_err().to_string();
        let mut s = Snapshot::<Full>::default();
        let whole = parse_yaml_whole(&mut s, std::path::Path::new("dump.yaml"), &broken)
            .unwrap_err()
            .to_string();
        assert_eq!(streamed, whole);
        assert!(streamed.contains("dump.yaml:21"), "{streamed}");
    }

    #[test]
    fn raw_api_list_items_take_the_list_kind() {
        let json = r#"{"apiVersion":"v1","kind":"PodList","items":[{"metadata":{"name":"a","namespace":"x"},"spec":{"containers":[]}}]}"#;
        let s = parse(json).unwrap();
        assert_eq!(s.pods.len(), 1);
    }

    #[test]
    fn malformed_yaml_names_file_and_line() {
        let bad = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: [unclosed\n";
        let e = parse(bad).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("dump.yaml:"), "{msg}");
        match e {
            Error::File { line, .. } => assert!(line.is_some(), "{msg}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_json_names_file_and_line() {
        let e = parse("{\"kind\": \"List\",\n \"items\": [\n {\"kind\": }]}").unwrap_err();
        match e {
            Error::File { line, .. } => assert_eq!(line, Some(3)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn json_type_errors_name_the_line_in_the_file() {
        let text = "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[\n{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\"}},\n{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"b\"},\n \"spec\":{\"containers\":7}}]}";
        match parse(text).unwrap_err() {
            Error::File { line, message, .. } => {
                assert_eq!(line, Some(4), "{message}");
            }
            other => panic!("{other:?}"),
        }
        // Kinds we do not use are skipped without being parsed as typed objects.
        let s = parse("[{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"data\":{}}]").unwrap();
        assert_eq!(s.skipped.get("Secret"), Some(&1));
    }

    #[test]
    fn wrong_types_are_errors_not_panics() {
        let bad = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: 7}\n";
        let e = parse(bad).unwrap_err();
        assert!(e.to_string().contains("Pod a"), "{e}");
        let e = parse("just a string\n").unwrap_err();
        assert_eq!(e.exit_code().code(), 1);
        let e = parse("metadata: {name: a}\n").unwrap_err();
        assert!(e.to_string().contains("kind"), "{e}");
    }

    #[test]
    fn scope_filters_namespace_and_pod_labels() {
        let mut s = parse(LIST).unwrap();
        s.retain_scope(&Scope {
            namespace: Some("prod".into()),
            pod_selector: Some(Selector::parse("app=web").unwrap()),
        });
        assert_eq!(s.pods.len(), 0);
        assert_eq!(s.pvcs.len(), 1);
        let mut s = parse(LIST).unwrap();
        s.retain_scope(&Scope {
            namespace: Some("other".into()),
            pod_selector: None,
        });
        assert_eq!(s.pvcs.len(), 0);
    }

    #[test]
    fn index_joins_pods_to_claims_including_ephemeral() {
        let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: ns}
spec:
  containers: [{name: c, image: x}]
  volumes:
  - name: scratch
    ephemeral:
      volumeClaimTemplate:
        spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
"#;
        let mut s = Snapshot::<Lean>::default();
        parse_dump_into(&mut s, std::path::Path::new("dump.yaml"), yaml).unwrap();
        let idx = Index::new(&s);
        assert_eq!(
            idx.pods_by_claim[&("ns", "web-1-scratch".to_string())].len(),
            1
        );
    }
}
