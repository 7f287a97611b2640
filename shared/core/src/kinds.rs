//! The kind catalog: every kind of object the suite reads, with its resource name, scope and
//! API group.

use std::fmt;

use kube::api::ApiResource;
use serde::Serialize;

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

    /// Whether every Kubernetes API server serves this kind (core, apps, batch, storage): a
    /// 404 on its LIST means the server is not a Kubernetes API server, or not the right path.
    /// The snapshot CRDs may legitimately be unserved.
    pub fn builtin(self) -> bool {
        self.dynamic_resource().is_none()
    }

    /// The LIST path of this kind, in `namespace` when it is namespaced and one is given.
    pub fn list_path(self, namespace: Option<&str>) -> String {
        let prefix = match self {
            Kind::Pod
            | Kind::PersistentVolumeClaim
            | Kind::PersistentVolume
            | Kind::Node
            | Kind::Event
            | Kind::Service => "/api/v1".to_string(),
            Kind::StorageClass | Kind::VolumeAttachment | Kind::CSIDriver => {
                "/apis/storage.k8s.io/v1".to_string()
            }
            Kind::StatefulSet | Kind::Deployment | Kind::ReplicaSet => "/apis/apps/v1".into(),
            Kind::Job | Kind::CronJob => "/apis/batch/v1".into(),
            Kind::VolumeSnapshot | Kind::VolumeSnapshotClass | Kind::VolumeSnapshotContent => {
                "/apis/snapshot.storage.k8s.io/v1".into()
            }
        };
        match namespace {
            Some(ns) if self.namespaced() => {
                format!("{prefix}/namespaces/{ns}/{}", self.resource())
            }
            _ => format!("{prefix}/{}", self.resource()),
        }
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
