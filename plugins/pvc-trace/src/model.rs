//! The trace model: what `-o json|yaml` serialises (schema documented in README.md, versioned
//! by `apiVersion`). Field names are stable; new fields may be added, none renamed or removed
//! within a version.

use serde::Serialize;

use crate::backend::Backend;
use stateful_core::snapshot::Gap;

pub const API_VERSION: &str = "kubectl-stateful.io/v1alpha1";
pub const KIND: &str = "PvcTrace";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A reference to an object, `kind/name` in `namespace`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    pub fn new(kind: &str, namespace: Option<&str>, name: &str) -> Self {
        ObjectRef {
            kind: kind.to_string(),
            namespace: namespace.filter(|n| !n.is_empty()).map(str::to_string),
            name: name.to_string(),
        }
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{} -n {ns}", self.kind, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// One finding: a stable code, a severity, the object it is about, and a sentence to act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: String,
    pub object: ObjectRef,
    pub message: String,
}

/// The whole answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub api_version: &'static str,
    pub kind: &'static str,
    /// `cluster` or `file`.
    pub source: String,
    /// The namespace in scope, or null for all namespaces.
    pub namespace: Option<String>,
    pub targets: Vec<String>,
    pub roots: Vec<Root>,
    /// Everything found, most severe first.
    pub diagnostics: Vec<Diagnostic>,
    /// What could not be seen: "unknown (forbidden: list persistentvolumes)".
    pub unknown: Vec<Gap>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub pods: usize,
    pub claims: usize,
    pub volumes: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

/// A starting point of the trace.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Root {
    Pod(PodNode),
    /// A claim (traced alone: no pod in scope uses it, or `pvc/NAME`).
    Claim(ClaimNode),
    /// A volume traced in reverse (`pv/NAME`), or one with no live claim.
    Volume(Box<ReverseVolume>),
    /// A StatefulSet or Deployment and the claims it should have.
    Workload(WorkloadNode),
    StorageClass(ClassView),
    Node(NodeView),
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodNode {
    pub name: String,
    pub namespace: String,
    pub node: Option<String>,
    pub zone: Option<String>,
    pub phase: String,
    pub owner: Option<ObjectRef>,
    pub volumes: Vec<VolumeNode>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mount {
    pub container: String,
    pub path: String,
    pub read_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_path: Option<String>,
}

/// One pod volume; `claim` is set for PVC-backed and generic ephemeral volumes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeNode {
    pub name: String,
    /// The pod volume type as in core/v1 (`persistentVolumeClaim`, `ephemeral`, `emptyDir`,
    /// `hostPath`, `configMap`, `secret`, `projected`, `downwardAPI`, `csi`, `nfs`, …).
    #[serde(rename = "type")]
    pub type_: String,
    /// A short description of non-claim volumes (emptyDir medium/size, hostPath path…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub mounts: Vec<Mount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<ClaimNode>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimNode {
    pub name: String,
    pub namespace: String,
    /// Pending / Bound / Lost, `Missing` when the claim does not exist, or `Unknown` when
    /// claims could not be listed.
    pub phase: String,
    pub requested: Option<String>,
    pub capacity: Option<String>,
    pub access_modes: Vec<String>,
    pub storage_class: Option<String>,
    pub volume_mode: Option<String>,
    pub selected_node: Option<String>,
    /// metadata.creationTimestamp (RFC 3339), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    pub used_by: Vec<ObjectRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<Box<PvNode>>,
    /// The class the claim asked for (or the default it got), resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<ClassNode>,
    /// How full it is (`--usage`, `-o wide`): absent when usage was not asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Box<VolumeUsage>>,
}

/// Whether a claim's usage is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum UsageState {
    /// A kubelet reported it.
    Known,
    /// It could not be read (`reason` says why and how to get it).
    Unknown,
    /// No running pod mounts the claim: no kubelet measures it.
    NotMounted,
}

/// How full a mounted claim is, from the kubelet stats summary (`/stats/summary`) of a node
/// that runs a pod mounting it. Bytes and inodes are the kubelet's; the percentages are
/// `used × 100 / capacity` rounded down (what the thresholds compare).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeUsage {
    pub state: UsageState,
    /// The nodes where a running pod mounts the claim, in name order.
    pub mounted_on: Vec<String>,
    /// The node whose kubelet reported the numbers.
    pub node: Option<String>,
    pub capacity_bytes: Option<u64>,
    pub used_bytes: Option<u64>,
    pub available_bytes: Option<u64>,
    pub used_percent: Option<u64>,
    pub inodes: Option<u64>,
    pub inodes_used: Option<u64>,
    pub inodes_free: Option<u64>,
    pub inodes_used_percent: Option<u64>,
    /// Unknown or not mounted: why (`forbidden: get nodes/proxy`, `timed out after 5s`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PvNode {
    pub name: String,
    /// Available / Bound / Released / Failed / Pending, `Missing`, or `Unknown`.
    pub phase: String,
    pub reclaim_policy: Option<String>,
    pub capacity: Option<String>,
    pub access_modes: Vec<String>,
    pub volume_mode: Option<String>,
    /// Node affinity, one string per term (`topology.kubernetes.io/zone in (a,b)`).
    pub node_affinity: Vec<String>,
    pub claim_ref: Option<ObjectRef>,
    pub storage_class: Option<String>,
    pub provisioned_by: Option<String>,
    /// metadata.creationTimestamp (RFC 3339), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<Backend>,
    pub attachments: Vec<AttachmentNode>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassNode {
    pub name: String,
    /// True when the class exists, false when it is known not to; absent when the snapshot
    /// cannot tell (see `unknown`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    /// Why the class's existence is unknown (e.g. "not in the dump: storageclasses").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
    pub provisioner: Option<String>,
    pub binding_mode: Option<String>,
    pub reclaim_policy: Option<String>,
    pub allow_expansion: bool,
    pub is_default: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentNode {
    pub name: String,
    pub node: String,
    pub attacher: String,
    pub attached: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attach_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detach_error: Option<String>,
    /// The PersistentVolume it attaches (None for an inline volume).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    /// Being deleted (deletionTimestamp set): when, and the finalizers that hold it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleting_since: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub finalizers: Vec<String>,
}

/// `pv/NAME`: the volume, who claims it, who uses it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReverseVolume {
    pub volume: PvNode,
    pub class: Option<ClassNode>,
    /// Does the claim in claimRef exist with the same UID? `bound`, `missing`, `replaced`
    /// (same name, other UID), `none` (no claimRef), or `unknown`.
    pub claim_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<ClaimNode>,
    pub pods: Vec<PodRefNode>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodRefNode {
    pub name: String,
    pub namespace: String,
    pub node: Option<String>,
    pub phase: String,
    /// The controlling workload (ReplicaSet resolved to its Deployment).
    pub owner: Option<ObjectRef>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadNode {
    pub kind: String,
    pub name: String,
    pub namespace: String,
    pub replicas: i32,
    /// StatefulSet: one entry per volumeClaimTemplate × ordinal.
    pub expected_claims: Vec<ExpectedClaim>,
    /// StatefulSet: claims of this set with an ordinal ≥ replicas (left from a scale-down).
    pub leftover_claims: Vec<ClaimNode>,
    pub pods: Vec<PodNode>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpectedClaim {
    pub template: String,
    pub ordinal: i32,
    pub name: String,
    pub present: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<ClaimNode>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassView {
    pub class: ClassNode,
    pub claims: Vec<ClaimNode>,
    /// Volumes of this class with no live claim.
    pub unclaimed_volumes: Vec<PvNode>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeView {
    pub name: String,
    pub zone: Option<String>,
    pub exists: bool,
    /// When the node is not in the snapshot: why its existence is unknown (absent when it is
    /// known not to exist).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
    pub pods: Vec<PodNode>,
    pub attachments: Vec<AttachmentNode>,
    /// Volumes whose node affinity pins them to this node (local volumes).
    pub pinned_volumes: Vec<String>,
}
