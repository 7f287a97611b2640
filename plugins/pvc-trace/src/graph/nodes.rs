//! The nodes of the graph: a pod and its volumes, a claim, a volume (also traced in reverse,
//! from `pv/NAME`), a class, an attachment. Each object is diagnosed on its first visit.

use k8s_openapi::api::storage::v1::{StorageClass, VolumeAttachment};
use stateful_core::snapshot::Kind;
use stateful_core::snapshot::lean::{
    MetaView, PersistentVolume, PersistentVolumeClaim, Pod, Volume,
};

use super::Builder;
use crate::backend::decode_pv;
use crate::index::volume_claim_name;
use crate::model::*;
use crate::objects::{
    NOT_REPORTED, claim_ref, describe_term, explicit_class, meta_name, meta_ns, node_zone,
    pod_phase, pod_ref, pv_ref, pv_terms, storage_of,
};

impl<'a> Builder<'a> {
    /// The controlling workload (a ReplicaSet resolved to its Deployment).
    pub(super) fn owner_of<M: MetaView>(&self, meta: &M) -> Option<ObjectRef> {
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

    /// A pod and its volumes, down to the backends.
    pub(super) fn pod_node(&mut self, p: &'a Pod) -> PodNode {
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
        self.diagnose().pod(p);
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

    /// One pod volume: where it is mounted, and its claim.
    pub(super) fn volume_node(&mut self, p: &'a Pod, v: &Volume) -> VolumeNode {
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

    /// A class by name (`exists: false` when it does not, no `exists` and an `unknown`
    /// reason when the snapshot cannot tell).
    pub(super) fn class_node(&mut self, name: &str) -> ClassNode {
        match self.idx.storage_classes.get(name) {
            Some(sc) => class_node_of(sc),
            None => ClassNode {
                name: name.to_string(),
                exists: self
                    .snap
                    .covers(Kind::StorageClass, None, name)
                    .then_some(false),
                unknown: self
                    .snap
                    .unknown_reason_of(Kind::StorageClass, None, name)
                    .inspect(|_| {
                        self.diagnose().not_in_data(Kind::StorageClass, None, name);
                    }),
                provisioner: None,
                binding_mode: None,
                reclaim_policy: None,
                allow_expansion: false,
                is_default: false,
            },
        }
    }

    /// The class a claim uses: its storageClassName, else the default class.
    pub(super) fn claim_class(&self, c: &PersistentVolumeClaim) -> Option<String> {
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

    /// A claim by name (`Missing` or `Unknown` when not in the snapshot), its class and volume.
    pub(super) fn claim_node(&mut self, ns: &str, name: &str) -> ClaimNode {
        let r = claim_ref(ns, name);
        let used_by: Vec<ObjectRef> = self
            .idx
            .pods_by_claim
            .get(&(ns, name.to_string()))
            .map(|v| v.iter().map(|p| pod_ref(p)).collect())
            .unwrap_or_default();
        let usage = self.claim_usage(&r, ns, name);
        let Some(c) = self.idx.pvcs.get(&(ns, name)).copied() else {
            let phase = self.absent_phase(Kind::PersistentVolumeClaim, Some(ns), name);
            if phase != "Missing" {
                self.diagnose()
                    .not_in_data(Kind::PersistentVolumeClaim, Some(ns), name);
            }
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
                created: None,
                used_by,
                volume: None,
                class: None,
                usage,
            };
        };
        let spec = c.spec.as_ref();
        let status = c.status.as_ref();
        let class_name = self.claim_class(c);
        let class = class_name.as_deref().map(|n| self.class_node(n));
        // A volume whose claimRef holds an earlier claim of this name is not this claim's
        // volume, whatever the claim's volumeName says (VolumeClaimMismatch says why).
        let volume = spec
            .and_then(|s| s.volume_name.as_deref())
            .filter(|v| !v.is_empty())
            .filter(|v| self.idx.pvs.get(v).is_none_or(|pv| !replaced_by(pv, c)))
            .map(|v| Box::new(self.pv_node_by_name(v)));
        if self.found.first_visit(&r) {
            self.diagnose().claim(c, class_name.as_deref());
        }
        ClaimNode {
            name: name.to_string(),
            namespace: ns.to_string(),
            phase: if c.metadata.deletion_timestamp.is_some() {
                "Terminating".into()
            } else {
                status
                    .and_then(|s| s.phase.clone())
                    .unwrap_or_else(|| NOT_REPORTED.into())
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
            created: c
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.to_string()),
            used_by,
            volume,
            class,
            usage,
        }
    }

    /// `--usage`: how full the claim is, from the summaries of the nodes where running pods
    /// mount it (diagnosed: `VolumeNearlyFull`, `InodesNearlyFull`, `UsageUnknown`).
    fn claim_usage(&mut self, r: &ObjectRef, ns: &str, name: &str) -> Option<Box<VolumeUsage>> {
        let input = self.usage?;
        let mounted_on: Vec<String> = self
            .idx
            .pods_by_claim
            .get(&(ns, name.to_string()))
            .into_iter()
            .flatten()
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
            .filter_map(|p| p.spec.as_ref().and_then(|s| s.node_name.clone()))
            .filter(|n| !n.is_empty())
            .collect();
        // Every pod of the claim's namespace read (a LIST in scope, or a plan's LIST of it)?
        let pods_unknown = self
            .snap
            .unknown_reason_of(Kind::Pod, Some(ns), "")
            .or_else(|| {
                input
                    .pods_selected
                    .then(|| "-l: only the selected pods were read".to_string())
            });
        let u = crate::usage::claim_usage(input, ns, name, mounted_on, pods_unknown);
        self.diagnose().usage(r, &u, input);
        Some(Box::new(u))
    }

    /// A volume by name (`Missing` or `Unknown` when not in the snapshot).
    pub(super) fn pv_node_by_name(&mut self, name: &str) -> PvNode {
        match self.idx.pvs.get(name).copied() {
            Some(pv) => self.pv_node(pv),
            None => PvNode {
                name: name.to_string(),
                phase: {
                    let phase = self.absent_phase(Kind::PersistentVolume, None, name);
                    if phase != "Missing" {
                        self.diagnose()
                            .not_in_data(Kind::PersistentVolume, None, name);
                    }
                    phase
                },
                reclaim_policy: None,
                capacity: None,
                access_modes: vec![],
                volume_mode: None,
                node_affinity: vec![],
                claim_ref: None,
                storage_class: None,
                provisioned_by: None,
                created: None,
                backend: None,
                // Attachments are analysed on their own: shown and diagnosed without the PV.
                attachments: self.attachments_of(name),
            },
        }
    }

    /// The VolumeAttachments of volume `name`, diagnosed.
    pub(super) fn attachments_of(&mut self, name: &str) -> Vec<AttachmentNode> {
        self.diagnose().attachments(name);
        self.idx
            .attachments_by_pv
            .get(name)
            .map(|v| v.iter().map(|va| attachment_node(va)).collect())
            .unwrap_or_default()
    }

    /// `pv/NAME` for a volume that is not in the data but has VolumeAttachments: the
    /// attachments, under a volume whose phase says why it is not known.
    pub(super) fn reverse_absent_volume(&mut self, name: &str) -> ReverseVolume {
        ReverseVolume {
            volume: self.pv_node_by_name(name),
            class: None,
            claim_status: "unknown".into(),
            claim: None,
            pods: vec![],
        }
    }

    /// A volume: its spec, backend and attachments.
    pub(super) fn pv_node(&mut self, pv: &'a PersistentVolume) -> PvNode {
        let name = meta_name(&pv.metadata);
        let spec = pv.spec.as_ref();
        if self.found.first_visit(&pv_ref(name)) {
            self.diagnose().volume(pv);
        }
        let attachments = self.attachments_of(name);
        PvNode {
            name: name.to_string(),
            phase: if pv.metadata.deletion_timestamp.is_some() {
                "Terminating".into()
            } else {
                pv.status
                    .as_ref()
                    .and_then(|s| s.phase.clone())
                    .unwrap_or_else(|| NOT_REPORTED.into())
            },
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
            created: pv
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.to_string()),
            backend: Some(decode_pv(pv)),
            attachments,
        }
    }

    /// `pv/NAME`: the volume, who claims it, who uses it.
    pub(super) fn reverse_volume(&mut self, pv: &'a PersistentVolume) -> ReverseVolume {
        let node = self.pv_node(pv);
        let class = node.storage_class.clone().map(|n| self.class_node(&n));
        let cr = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref());
        let (claim_status, claim) = match cr {
            None => ("none".to_string(), None),
            Some(cr) => {
                let ns = cr.namespace.clone().unwrap_or_default();
                let name = cr.name.clone().unwrap_or_default();
                match self.idx.pvcs.get(&(ns.as_str(), name.as_str())).copied() {
                    // A later claim of the same name is not this volume's claim: not shown
                    // as such (the volume's ClaimReplaced names it).
                    Some(c) if replaced_by(pv, c) => ("replaced".to_string(), None),
                    Some(_) => ("bound".to_string(), Some(self.claim_node(&ns, &name))),
                    None if self
                        .snap
                        .covers(Kind::PersistentVolumeClaim, Some(&ns), &name) =>
                    {
                        ("missing".to_string(), None)
                    }
                    None => {
                        self.diagnose()
                            .not_in_data(Kind::PersistentVolumeClaim, Some(&ns), &name);
                        ("unknown".to_string(), None)
                    }
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
                self.diagnose().pod(p);
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
}

/// Is `pv` bound (claimRef with a uid) to an earlier object than claim `c` of the same name?
/// Only when both uids are known: a manifest's claim has none.
pub(super) fn replaced_by(pv: &PersistentVolume, c: &PersistentVolumeClaim) -> bool {
    let Some(cr) = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) else {
        return false;
    };
    cr.name.as_deref() == c.metadata.name.as_deref()
        && cr.namespace.as_deref().unwrap_or("") == meta_ns(&c.metadata)
        && matches!(
            (cr.uid.as_deref(), c.metadata.uid.as_deref()),
            (Some(a), Some(b)) if a != b
        )
}

/// A class that exists.
pub(super) fn class_node_of(sc: &StorageClass) -> ClassNode {
    ClassNode {
        name: meta_name(&sc.metadata).to_string(),
        exists: Some(true),
        unknown: None,
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

/// A VolumeAttachment.
pub(super) fn attachment_node(va: &VolumeAttachment) -> AttachmentNode {
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
        volume: va.spec.source.persistent_volume_name.clone(),
        deleting_since: va
            .metadata
            .deletion_timestamp
            .as_ref()
            .map(|t| t.0.to_string()),
        finalizers: va.metadata.finalizers.clone().unwrap_or_default(),
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
