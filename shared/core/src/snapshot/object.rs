//! One typed object of a kind the suite reads, converted from JSON by its `kind`.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Event, Node, Service};
use k8s_openapi::api::storage::v1::{CSIDriver, StorageClass, VolumeAttachment};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::*;

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

pub(crate) use typed_object;

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
        // A List's item takes what it lacks from the List (an empty default kind: none).
        let kind_s = kind_s
            .or_else(|| default_kind.map(|(k, _)| k.to_string()))
            .filter(|k| !k.is_empty());
        let Some(kind_s) = kind_s else {
            return Err(if default_kind.is_some() {
                "a list item has no \"kind\" and the list does not say which kind it holds".into()
            } else {
                "object has no \"kind\"".into()
            });
        };
        let api_s = api_s
            .or_else(|| default_kind.map(|(_, a)| a.to_string()))
            .unwrap_or_default();
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
        // Old dumps' storage.k8s.io/v1beta1 StorageClasses and VolumeAttachments: read as v1.
        if read_as_api(kind, &api_s) != api_s
            && let Some(m) = v.as_object_mut()
        {
            m.insert(
                "apiVersion".into(),
                Value::String(read_as_api(kind, &api_s).into()),
            );
        }
        fn typed<T: serde::de::DeserializeOwned>(
            v: Value,
            kind: &str,
        ) -> std::result::Result<T, String> {
            let name = object_label(&v);
            serde_path_to_error::deserialize(v)
                .map_err(|e| format!("{kind} {name}: {}: {}", e.path(), e.inner()))
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
pub(super) fn object_label(v: &Value) -> String {
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
pub(super) fn strip_noise(v: &mut Value) {
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        if let Some(ann) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            ann.remove("kubectl.kubernetes.io/last-applied-configuration");
        }
    }
}

pub(super) fn strip_meta(meta: &mut ObjectMeta) {
    meta.managed_fields = None;
    if let Some(ann) = meta.annotations.as_mut() {
        ann.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
}

/// The apiVersion an object is read as: old dumps hold `storage.k8s.io/v1beta1`
/// StorageClasses and VolumeAttachments, whose schema is the v1 one, so they are read as v1.
pub(crate) fn read_as_api(kind: Kind, api: &str) -> &str {
    if api == "storage.k8s.io/v1beta1"
        && matches!(kind, Kind::StorageClass | Kind::VolumeAttachment)
    {
        "storage.k8s.io/v1"
    } else {
        api
    }
}
