//! One request of a fetch plan (a GET of one object, or a LIST of a kind in a scope, narrowed by
//! label and field selectors), what it tells the snapshot, and how a complete snapshot answers
//! it (the same answer as the API server's, for tests of plans without a cluster).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{Flavor, Kind, Obj, Snapshot};
use crate::labels::Selector;

/// A field selector the API server offers for a kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fields {
    /// Events about one object: `involvedObject.kind=K,involvedObject.name=N`.
    InvolvedObject { kind: String, name: String },
    /// Pods on one node: `spec.nodeName=N`.
    NodeName(String),
}

impl Fields {
    /// The `fieldSelector` query value.
    pub fn selector(&self) -> String {
        match self {
            Fields::InvolvedObject { kind, name } => {
                format!("involvedObject.kind={kind},involvedObject.name={name}")
            }
            Fields::NodeName(n) => format!("spec.nodeName={n}"),
        }
    }
}

/// One request: a GET of a named object or a LIST of a kind (in a namespace or in all).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Request {
    Get {
        kind: Kind,
        namespace: Option<String>,
        name: String,
    },
    List {
        kind: Kind,
        namespace: Option<String>,
        labels: Option<String>,
        fields: Option<Fields>,
    },
}

impl Request {
    pub fn get(kind: Kind, namespace: Option<&str>, name: &str) -> Request {
        Request::Get {
            kind,
            namespace: namespace.filter(|_| kind.namespaced()).map(str::to_string),
            name: name.to_string(),
        }
    }

    /// Every object of `kind` in `namespace` (None: all namespaces, or a cluster-scoped kind).
    pub fn list(kind: Kind, namespace: Option<&str>) -> Request {
        Request::List {
            kind,
            namespace: namespace.filter(|_| kind.namespaced()).map(str::to_string),
            labels: None,
            fields: None,
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Request::Get { kind, .. } | Request::List { kind, .. } => *kind,
        }
    }

    pub fn namespace(&self) -> Option<&str> {
        match self {
            Request::Get { namespace, .. } | Request::List { namespace, .. } => {
                namespace.as_deref()
            }
        }
    }

    pub fn verb(&self) -> &'static str {
        match self {
            Request::Get { .. } => "get",
            Request::List { .. } => "list",
        }
    }

    /// Whether a LIST returns every object of its kind in its namespace (no selector).
    pub fn is_whole_list(&self) -> bool {
        matches!(
            self,
            Request::List {
                labels: None,
                fields: None,
                ..
            }
        )
    }

    /// The path and query, as the API server's audit log shows it.
    pub fn path(&self) -> String {
        match self {
            Request::Get {
                kind,
                namespace,
                name,
            } => format!("{}/{name}", kind.list_path(namespace.as_deref())),
            Request::List {
                kind,
                namespace,
                labels,
                fields,
            } => {
                let mut q = Vec::new();
                if let Some(l) = labels {
                    q.push(format!("labelSelector={l}"));
                }
                if let Some(f) = fields {
                    q.push(format!("fieldSelector={}", f.selector()));
                }
                let path = kind.list_path(namespace.as_deref());
                if q.is_empty() {
                    path
                } else {
                    format!("{path}?{}", q.join("&"))
                }
            }
        }
    }
}

/// Label matching of the lean or full pods, claims and volumes.
trait LabelsMatch {
    fn matches(&self, sel: &Selector) -> bool;
}

impl<T: Obj> LabelsMatch for T {
    fn matches(&self, sel: &Selector) -> bool {
        self.labels_match(sel)
    }
}

/// The node a pod runs on (what `spec.nodeName` field selectors match).
pub trait Scheduled {
    fn node_name(&self) -> Option<&str>;
}

impl Scheduled for k8s_openapi::api::core::v1::Pod {
    fn node_name(&self) -> Option<&str> {
        self.spec.as_ref().and_then(|s| s.node_name.as_deref())
    }
}

impl Scheduled for super::lean::Pod {
    fn node_name(&self) -> Option<&str> {
        self.spec.as_ref().and_then(|s| s.node_name.as_deref())
    }
}

/// A request of a plan and why the plan makes it (logged at `-v 6`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub req: Request,
    pub why: String,
}

/// Name and namespace of any object a snapshot holds.
trait Named {
    fn ns_name(&self) -> (&str, &str);
}

macro_rules! named_full {
    ($($t:ty),*) => {$(
        impl Named for $t {
            fn ns_name(&self) -> (&str, &str) {
                meta_ns_name(&self.metadata)
            }
        }
    )*};
}

fn meta_ns_name(m: &ObjectMeta) -> (&str, &str) {
    (
        m.namespace.as_deref().unwrap_or(""),
        m.name.as_deref().unwrap_or(""),
    )
}

named_full!(
    k8s_openapi::api::storage::v1::StorageClass,
    k8s_openapi::api::storage::v1::VolumeAttachment,
    k8s_openapi::api::core::v1::Node,
    k8s_openapi::api::apps::v1::StatefulSet,
    k8s_openapi::api::apps::v1::Deployment,
    k8s_openapi::api::apps::v1::ReplicaSet,
    k8s_openapi::api::batch::v1::Job,
    k8s_openapi::api::batch::v1::CronJob,
    k8s_openapi::api::core::v1::Event,
    k8s_openapi::api::core::v1::Service,
    k8s_openapi::api::storage::v1::CSIDriver
);

fn lean_ns_name<T: Obj>(o: &T) -> (&str, &str) {
    let i = o.ident();
    (i.namespace.unwrap_or(""), i.name.unwrap_or(""))
}

fn value_ns_name(v: &serde_json::Value) -> (&str, &str) {
    let s = |p: &str| {
        v.pointer(p)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
    };
    (s("/metadata/namespace"), s("/metadata/name"))
}

/// Keep the last of the objects with the same namespace and name (a later LIST is as fresh as
/// an earlier GET), in the API server's order (by namespace, then name), as a LIST returns them.
fn dedup_last<T>(v: &mut Vec<T>, key: impl Fn(&T) -> (&str, &str)) {
    let mut keyed: Vec<((String, String), usize, T)> = std::mem::take(v)
        .into_iter()
        .enumerate()
        .map(|(i, o)| {
            let (ns, n) = key(&o);
            ((ns.to_string(), n.to_string()), i, o)
        })
        .collect();
    // By key, the latest first; then keep the first of each key.
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    keyed.dedup_by(|a, b| a.0 == b.0);
    *v = keyed.into_iter().map(|(_, _, o)| o).collect();
}

impl<F: Flavor> Snapshot<F> {
    /// One copy of each object (the requests of a plan may fetch one twice), each kind in the
    /// order a LIST returns it.
    pub fn dedup(&mut self) {
        dedup_last(&mut self.pods, lean_ns_name);
        dedup_last(&mut self.pvcs, lean_ns_name);
        dedup_last(&mut self.pvs, lean_ns_name);
        dedup_last(&mut self.storage_classes, Named::ns_name);
        dedup_last(&mut self.volume_attachments, Named::ns_name);
        dedup_last(&mut self.nodes, Named::ns_name);
        dedup_last(&mut self.statefulsets, Named::ns_name);
        dedup_last(&mut self.deployments, Named::ns_name);
        dedup_last(&mut self.replicasets, Named::ns_name);
        dedup_last(&mut self.jobs, Named::ns_name);
        dedup_last(&mut self.cronjobs, Named::ns_name);
        dedup_last(&mut self.events, Named::ns_name);
        dedup_last(&mut self.services, Named::ns_name);
        dedup_last(&mut self.csi_drivers, Named::ns_name);
        for v in self.dynamic.values_mut() {
            dedup_last(v, value_ns_name);
        }
    }

    /// What an answer to `req` tells this snapshot beyond its objects: the kind is known;
    /// a GET's name is looked up (found or not); a whole LIST makes the kind complete (in
    /// `scope_ns`, the namespace the snapshot is about, or else in its own namespace).
    pub fn record(&mut self, req: &Request, scope_ns: Option<&str>) {
        let kind = req.kind();
        self.known.insert(kind);
        match req {
            Request::Get {
                namespace, name, ..
            } => {
                self.looked_up
                    .insert((kind, namespace.clone().unwrap_or_default(), name.clone()));
            }
            Request::List { namespace, .. } if req.is_whole_list() => match namespace {
                None => {
                    self.complete.insert(kind);
                }
                Some(ns) if Some(ns.as_str()) == scope_ns => {
                    self.complete.insert(kind);
                }
                Some(ns) => {
                    self.complete_in.insert((kind, ns.clone()));
                }
            },
            Request::List { .. } => {}
        }
    }

    /// Answer `req` from this snapshot, which must hold every object of the kinds asked for
    /// (as the API server would: a GET finds the object or nothing; a LIST filters by
    /// namespace, labels and fields) into `into`, and record it there.
    pub fn serve(&self, req: &Request, into: &mut Snapshot<F>, scope_ns: Option<&str>) {
        let (ns, name, labels, fields) = match req {
            Request::Get {
                namespace, name, ..
            } => (namespace.as_deref(), Some(name.as_str()), None, None),
            Request::List {
                namespace,
                labels,
                fields,
                ..
            } => (
                namespace.as_deref(),
                None,
                labels
                    .as_deref()
                    .map(|l| Selector::parse(l).unwrap_or_default()),
                fields.as_ref(),
            ),
        };
        let hit = |(ons, oname): (&str, &str)| {
            ns.is_none_or(|n| n == ons) && name.is_none_or(|n| n == oname)
        };
        let lab = |l: Option<&std::collections::BTreeMap<String, String>>| {
            labels.as_ref().is_none_or(|s| s.matches(l))
        };
        let lab_obj = |o: &dyn LabelsMatch| labels.as_ref().is_none_or(|s| o.matches(s));
        macro_rules! take {
            ($field:ident, $key:expr, $labels:expr, $extra:expr) => {
                for o in &self.$field {
                    if hit($key(o)) && $labels(o) && ($extra)(o) {
                        into.$field.push(o.clone());
                    }
                }
            };
        }
        match req.kind() {
            Kind::Pod => {
                take!(
                    pods,
                    lean_ns_name,
                    |o: &F::Pod| lab_obj(o),
                    |o: &F::Pod| match fields {
                        Some(Fields::NodeName(n)) => o.node_name() == Some(n.as_str()),
                        _ => true,
                    }
                )
            }
            Kind::PersistentVolumeClaim => {
                take!(pvcs, lean_ns_name, |o: &F::Pvc| lab_obj(o), |_| true)
            }
            Kind::PersistentVolume => take!(pvs, lean_ns_name, |o: &F::Pv| lab_obj(o), |_| true),
            Kind::StorageClass => take!(
                storage_classes,
                Named::ns_name,
                |o: &k8s_openapi::api::storage::v1::StorageClass| lab(o.metadata.labels.as_ref()),
                |_| true
            ),
            Kind::VolumeAttachment => take!(
                volume_attachments,
                Named::ns_name,
                |o: &k8s_openapi::api::storage::v1::VolumeAttachment| lab(o
                    .metadata
                    .labels
                    .as_ref()),
                |_| true
            ),
            Kind::Node => take!(
                nodes,
                Named::ns_name,
                |o: &k8s_openapi::api::core::v1::Node| lab(o.metadata.labels.as_ref()),
                |_| true
            ),
            Kind::StatefulSet => take!(
                statefulsets,
                Named::ns_name,
                |o: &k8s_openapi::api::apps::v1::StatefulSet| lab(o.metadata.labels.as_ref()),
                |_| true
            ),
            Kind::Deployment => take!(
                deployments,
                Named::ns_name,
                |o: &k8s_openapi::api::apps::v1::Deployment| lab(o.metadata.labels.as_ref()),
                |_| true
            ),
            Kind::ReplicaSet => take!(
                replicasets,
                Named::ns_name,
                |o: &k8s_openapi::api::apps::v1::ReplicaSet| lab(o.metadata.labels.as_ref()),
                |_| true
            ),
            Kind::Event => take!(
                events,
                Named::ns_name,
                |o: &k8s_openapi::api::core::v1::Event| lab(o.metadata.labels.as_ref()),
                |e: &k8s_openapi::api::core::v1::Event| match fields {
                    Some(Fields::InvolvedObject { kind, name }) => {
                        e.involved_object.kind.as_deref() == Some(kind.as_str())
                            && e.involved_object.name.as_deref() == Some(name.as_str())
                    }
                    _ => true,
                }
            ),
            // Kinds no plan asks for one by one: served whole.
            Kind::Job => take!(
                jobs,
                Named::ns_name,
                |o: &k8s_openapi::api::batch::v1::Job| lab(o.metadata.labels.as_ref()),
                |_| true
            ),
            Kind::CronJob => take!(
                cronjobs,
                Named::ns_name,
                |o: &k8s_openapi::api::batch::v1::CronJob| lab(o.metadata.labels.as_ref()),
                |_| true
            ),
            Kind::Service => take!(
                services,
                Named::ns_name,
                |o: &k8s_openapi::api::core::v1::Service| lab(o.metadata.labels.as_ref()),
                |_| true
            ),
            Kind::CSIDriver => take!(
                csi_drivers,
                Named::ns_name,
                |o: &k8s_openapi::api::storage::v1::CSIDriver| lab(o.metadata.labels.as_ref()),
                |_| true
            ),
            k
            @ (Kind::VolumeSnapshot | Kind::VolumeSnapshotClass | Kind::VolumeSnapshotContent) => {
                for v in self.dynamic.get(&k).into_iter().flatten() {
                    if hit(value_ns_name(v)) {
                        into.dynamic.entry(k).or_default().push(v.clone());
                    }
                }
            }
        }
        if self.gap(req.kind()).is_some() {
            into.gaps.extend(self.gap(req.kind()).cloned());
        } else {
            into.record(req, scope_ns);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Full;

    #[test]
    fn paths_are_what_the_audit_log_shows() {
        assert_eq!(
            Request::get(Kind::PersistentVolumeClaim, Some("shop"), "data-db-0").path(),
            "/api/v1/namespaces/shop/persistentvolumeclaims/data-db-0"
        );
        assert_eq!(
            Request::get(Kind::PersistentVolume, Some("shop"), "pv-1").path(),
            "/api/v1/persistentvolumes/pv-1",
            "cluster-scoped: no namespace"
        );
        let r = Request::List {
            kind: Kind::Event,
            namespace: None,
            labels: None,
            fields: Some(Fields::InvolvedObject {
                kind: "PersistentVolume".into(),
                name: "pv-1".into(),
            }),
        };
        assert_eq!(
            r.path(),
            "/api/v1/events?fieldSelector=involvedObject.kind=PersistentVolume,involvedObject.name=pv-1"
        );
        assert!(!r.is_whole_list());
    }

    #[test]
    fn records_what_each_answer_tells() {
        let mut s: Snapshot<Full> = Snapshot::default();
        s.record(&Request::get(Kind::PersistentVolume, None, "pv-1"), None);
        assert!(s.covers(Kind::PersistentVolume, None, "pv-1"));
        assert!(!s.covers(Kind::PersistentVolume, None, "pv-2"));
        s.record(
            &Request::list(Kind::PersistentVolumeClaim, Some("b")),
            Some("a"),
        );
        assert!(s.covers(Kind::PersistentVolumeClaim, Some("b"), "any"));
        assert!(!s.covers(Kind::PersistentVolumeClaim, Some("a"), "any"));
        assert!(!s.is_complete(Kind::PersistentVolumeClaim));
        s.record(&Request::list(Kind::Pod, Some("a")), Some("a"));
        assert!(s.is_complete(Kind::Pod), "a whole LIST of the scope");
    }
}
