//! The Snapshot: typed objects from a live cluster or a `kubectl get -o yaml|json` dump.
//! Analysis only ever sees a Snapshot, never where it came from.
//!
//! - Cluster: a handful of LISTs, scoped to the namespace when one is given, paginated
//!   (`limit`/`continue`), issued concurrently, joined in memory. A LIST the server refuses
//!   (403) or does not serve (404) becomes a [`Gap`] in the snapshot, not a failure.
//! - Dump: files (or `-` for stdin), YAML (multi-document, or a `List`) or JSON; objects of kinds
//!   we do not use are skipped. Parse errors name the file and line.

mod bundle;
mod cluster;
mod dump;
pub mod lean;
mod merge;
mod object;
mod protobuf;
mod request;
mod sources;
mod watch;

pub use crate::kinds::Kind;
pub use cluster::{PAGE_SIZE, fetch, fetch_requests, list_lean_pods};
pub use dump::{parse_dump_into, read_dumps};
pub use object::Object;
pub use request::{Fields, Planned, Request};
pub use sources::{DEFAULT_MAX_INPUT, Dumps, read_inputs, read_text_bounded};
pub use watch::{Update, Watch};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Event, Node, PersistentVolumeClaim, Service};
use k8s_openapi::api::storage::v1::{CSIDriver, StorageClass, VolumeAttachment};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::Value;

use crate::error::Result;
use crate::labels::Selector;

use object::strip_meta;

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

impl Gap {
    /// What the server said about `verb` on a kind it refused (403) or does not serve (404).
    pub fn of_status(
        kind: Kind,
        verb: &str,
        namespace: Option<String>,
        status: &kube::core::Status,
    ) -> Gap {
        Gap {
            kind,
            verb: verb.into(),
            resource: kind.resource().into(),
            namespace,
            reason: if status.code == 403 {
                GapReason::Forbidden
            } else {
                GapReason::NotServed
            },
            message: status.message.clone(),
        }
    }
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
/// the plugins that read whole pod specs), or the trace's [`Lean`] ones (see [`crate::snapshot::lean`]).
pub trait Flavor: fmt::Debug + Clone + Default + Send + Sync + 'static {
    type Pod: Obj + request::Scheduled;
    type Pvc: Obj;
    type Pv: Obj;
}

/// Who an object is: its name, namespace and uid (what duplicates across dumps are found by).
#[derive(Debug, Clone, Copy, Default)]
pub struct Ident<'a> {
    pub name: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub uid: Option<&'a str>,
}

impl<'a> Ident<'a> {
    fn of(m: &'a ObjectMeta) -> Ident<'a> {
        Ident {
            name: m.name.as_deref(),
            namespace: m.namespace.as_deref(),
            uid: m.uid.as_deref(),
        }
    }
}

/// What a snapshot needs of a pod, claim or volume type.
pub trait Obj:
    serde::de::DeserializeOwned + Clone + PartialEq + fmt::Debug + Send + Sync + 'static
{
    /// Name, namespace and uid.
    fn ident(&self) -> Ident<'_>;
    fn namespace(&self) -> Option<&str>;
    fn labels_match(&self, sel: &Selector) -> bool;
    /// Give a namespace-less object (a manifest) this namespace, as `kubectl apply` would.
    fn default_namespace(&mut self, ns: &str);
    /// Drop what no analysis reads (managedFields, the last-applied annotation).
    fn strip(&mut self);
    /// How a LIST reads this type from protobuf, when it can (the lean pod).
    fn protobuf() -> Option<protobuf::Decoder<Self>> {
        None
    }
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
            fn default_namespace(&mut self, ns: &str) {
                default_ns(&mut self.metadata.namespace, ns)
            }
            fn strip(&mut self) {
                strip_meta(&mut self.metadata)
            }
            fn ident(&self) -> Ident<'_> {
                Ident::of(&self.metadata)
            }
        }
    )*};
}

macro_rules! lean_obj {
    ($($t:ty => $pb:expr),*) => {$(
        impl Obj for $t {
            fn protobuf() -> Option<protobuf::Decoder<Self>> {
                $pb
            }
            fn namespace(&self) -> Option<&str> {
                self.metadata.namespace.as_deref()
            }
            fn labels_match(&self, sel: &Selector) -> bool {
                sel.matches(self.metadata.labels.as_ref())
            }
            fn default_namespace(&mut self, ns: &str) {
                default_ns(&mut self.metadata.namespace, ns)
            }
            fn strip(&mut self) {} // lean metadata keeps none of it
            fn ident(&self) -> Ident<'_> {
                Ident {
                    name: self.metadata.name.as_deref(),
                    namespace: self.metadata.namespace.as_deref(),
                    uid: self.metadata.uid.as_deref(),
                }
            }
        }
    )*};
}

fn default_ns(slot: &mut Option<String>, ns: &str) {
    if slot.as_deref().is_none_or(str::is_empty) {
        *slot = Some(ns.to_string());
    }
}

full_obj!(
    k8s_openapi::api::core::v1::Pod,
    PersistentVolumeClaim,
    k8s_openapi::api::core::v1::PersistentVolume
);
lean_obj!(
    crate::snapshot::lean::Pod => Some(protobuf::pods),
    crate::snapshot::lean::PersistentVolumeClaim => None,
    crate::snapshot::lean::PersistentVolume => None
);

/// k8s-openapi's Pod, PersistentVolumeClaim and PersistentVolume.
#[derive(Debug, Clone, Copy, Default)]
pub struct Full;

impl Flavor for Full {
    type Pod = k8s_openapi::api::core::v1::Pod;
    type Pvc = PersistentVolumeClaim;
    type Pv = k8s_openapi::api::core::v1::PersistentVolume;
}

/// The lean Pod, PersistentVolumeClaim and PersistentVolume of [`crate::snapshot::lean`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Lean;

impl Flavor for Lean {
    type Pod = crate::snapshot::lean::Pod;
    type Pvc = crate::snapshot::lean::PersistentVolumeClaim;
    type Pv = crate::snapshot::lean::PersistentVolume;
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
    /// Kinds whose list is complete in scope: every object of the kind that exists is here, so
    /// an object not found is known to be absent. A cluster LIST is; a dump is not, unless the
    /// user says so ([`Snapshot::mark_complete`], pvc-trace's `--complete`).
    pub complete: BTreeSet<Kind>,
    /// Objects looked up by name (a GET), found or not: `(kind, namespace or "", name)`. One
    /// looked up and not here is known not to exist.
    pub looked_up: BTreeSet<(Kind, String, String)>,
    /// Kinds listed in full in one namespace, outside [`Snapshot::complete`]'s scope.
    pub complete_in: BTreeSet<(Kind, String)>,
    /// Read by a fetch plan (only what one question needs), not by LISTs of whole kinds: an
    /// object not here that nothing looked up was not fetched.
    pub planned: bool,
    /// Kinds that could not be seen, and why.
    pub gaps: Vec<Gap>,
    /// Objects skipped from a dump because the suite does not use their kind, by kind.
    pub skipped: BTreeMap<String, usize>,
    /// What the binary should tell the user on stderr (e.g. two dumps disagreeing about an
    /// object), already escaped for a terminal. Libraries never print them.
    pub warnings: Vec<String>,
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
            complete: BTreeSet::new(),
            looked_up: BTreeSet::new(),
            complete_in: BTreeSet::new(),
            planned: false,
            gaps: Vec::new(),
            skipped: BTreeMap::new(),
            warnings: Vec::new(),
        }
    }
}

impl<F: Flavor> Snapshot<F> {
    /// Is this kind visible (listed, or in the dump)? Analysis says "unknown" otherwise.
    pub fn knows(&self, kind: Kind) -> bool {
        self.known.contains(&kind)
    }

    /// Is this kind's list complete (an object not in it does not exist)?
    pub fn is_complete(&self, kind: Kind) -> bool {
        self.complete.contains(&kind)
    }

    /// Is the object of `kind` named `name` (in `namespace`) known to be here or known not to
    /// exist: its kind listed in full in scope, or in its namespace, or the object looked up?
    pub fn covers(&self, kind: Kind, namespace: Option<&str>, name: &str) -> bool {
        let ns = namespace.filter(|_| kind.namespaced()).unwrap_or("");
        self.is_complete(kind)
            || (kind.namespaced() && self.complete_in.contains(&(kind, ns.to_string())))
            || self
                .looked_up
                .contains(&(kind, ns.to_string(), name.to_string()))
    }

    /// Why the object of `kind` named `name` may exist though it is not here (as
    /// [`Snapshot::unknown_reason`]); None when [`Snapshot::covers`] it.
    pub fn unknown_reason_of(
        &self,
        kind: Kind,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<String> {
        if self.covers(kind, namespace, name) {
            return None;
        }
        self.unknown_reason(kind)
    }

    /// The user says the dump holds every object of each kind it holds: those lists become
    /// complete. Kinds with no object in the dump stay unknown.
    pub fn mark_complete(&mut self) {
        self.complete.extend(self.known.iter().copied());
    }

    /// Why an object of this kind that is not here may still exist: the gap (forbidden, not
    /// served, not in the dump), or, for an incomplete list, that the dump may not hold it.
    /// None when the list is complete.
    pub fn unknown_reason(&self, kind: Kind) -> Option<String> {
        if self.is_complete(kind) {
            return None;
        }
        Some(match self.gap(kind) {
            Some(g) => g.to_string(),
            None if self.planned => format!(
                "not fetched: {} (this question did not need them; --fetch all reads every object in scope)",
                kind.resource()
            ),
            None => format!("not in the dump: {}", kind.resource()),
        })
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
        self.complete.extend(other.complete);
        self.looked_up.extend(other.looked_up);
        self.complete_in.extend(other.complete_in);
        self.planned |= other.planned;
        self.gaps.extend(other.gaps);
        for (k, n) in other.skipped {
            *self.skipped.entry(k).or_default() += n;
        }
        self.warnings.extend(other.warnings);
    }

    /// Give every namespaced object that has no namespace (a manifest) `ns`, as `kubectl apply
    /// -n NS` (or the default namespace) would.
    pub fn default_namespaces(&mut self, ns: &str) {
        fn meta(m: &mut ObjectMeta, ns: &str) {
            default_ns(&mut m.namespace, ns)
        }
        self.pods.iter_mut().for_each(|o| o.default_namespace(ns));
        self.pvcs.iter_mut().for_each(|o| o.default_namespace(ns));
        self.statefulsets
            .iter_mut()
            .for_each(|o| meta(&mut o.metadata, ns));
        self.deployments
            .iter_mut()
            .for_each(|o| meta(&mut o.metadata, ns));
        self.replicasets
            .iter_mut()
            .for_each(|o| meta(&mut o.metadata, ns));
        self.jobs.iter_mut().for_each(|o| meta(&mut o.metadata, ns));
        self.cronjobs
            .iter_mut()
            .for_each(|o| meta(&mut o.metadata, ns));
        self.events
            .iter_mut()
            .for_each(|o| meta(&mut o.metadata, ns));
        self.services
            .iter_mut()
            .for_each(|o| meta(&mut o.metadata, ns));
        if let Some(v) = self.dynamic.get_mut(&Kind::VolumeSnapshot) {
            for o in v {
                if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut)
                    && m.get("namespace")
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                {
                    m.insert("namespace".into(), Value::String(ns.into()));
                }
            }
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

/// What to fetch: the namespace (None = all), the pod label selector, the page size.
#[derive(Debug, Clone)]
pub struct Scope {
    pub namespace: Option<String>,
    pub pod_selector: Option<Selector>,
    /// Objects per LIST page (`--chunk-size`); 0: one unpaginated response.
    pub page_size: u32,
}

impl Default for Scope {
    fn default() -> Self {
        Scope {
            namespace: None,
            pod_selector: None,
            page_size: PAGE_SIZE,
        }
    }
}

/// Where objects come from.
pub enum Source {
    Cluster(crate::client::Connection),
    /// `--from-file` inputs: dump files, directories, support bundles.
    Dump(Dumps),
}

impl Source {
    /// Load the given kinds in the given scope.
    pub async fn load<F: Flavor>(&self, kinds: &[Kind], scope: &Scope) -> Result<Snapshot<F>> {
        match self {
            Source::Cluster(conn) => fetch(&conn.client, &conn.server, kinds, scope).await,
            Source::Dump(dumps) => {
                let mut snap = read_inputs(dumps)?;
                snap.default_namespaces(scope.namespace.as_deref().unwrap_or("default"));
                snap.retain_scope(scope);
                for &k in kinds {
                    if !snap.knows(k) && snap.gap(k).is_none() {
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
    /// Dumps when `files` is not empty, else a connection to the cluster `connect` describes
    /// (no request is made yet). Returns the source and the namespace commands default to:
    /// the context's (or `-n`'s) for a cluster, None for a dump (every namespace in it).
    pub async fn open(
        dumps: &Dumps,
        connect: &crate::client::ConnectOptions,
    ) -> Result<(Source, Option<String>)> {
        if !dumps.paths.is_empty() {
            return Ok((Source::Dump(dumps.clone()), None));
        }
        let conn = crate::client::connect(connect).await?;
        let ns = conn.namespace.clone();
        Ok((Source::Cluster(conn), Some(ns)))
    }

    pub fn name(&self) -> &'static str {
        match self {
            Source::Cluster(_) => "cluster",
            Source::Dump(_) => "file",
        }
    }
}
