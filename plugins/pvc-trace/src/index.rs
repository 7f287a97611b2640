//! The trace's index over a snapshot: lookups built once (O(n)), so that analysis joins
//! through maps, never by scans.

use crate::hash::HashMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Event, Node};
use k8s_openapi::api::storage::v1::{StorageClass, VolumeAttachment};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use stateful_core::snapshot::lean::{
    MetaView, PersistentVolume as LeanPv, PersistentVolumeClaim as LeanPvc, Pod as LeanPod,
};
use stateful_core::snapshot::{Lean, is_default_class};

/// The snapshot the trace reads: lean pods, claims and volumes.
pub type Snapshot = stateful_core::snapshot::Snapshot<Lean>;

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
    pub snap: &'a Snapshot,
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
    /// Events by the involved object's (kind, namespace, name): for events with no uid, or
    /// whose object's uid is not known (manifests).
    pub events_by_name: HashMap<(&'a str, &'a str, &'a str), Vec<&'a Event>>,
    /// Default StorageClasses (annotation `storageclass.kubernetes.io/is-default-class: "true"`).
    pub default_classes: Vec<&'a StorageClass>,
    /// Volumes a Pending claim could bind to: no claimRef, Available or no status reported, by
    /// class (`objects::pv_class`).
    pub unbound_pvs_by_class: HashMap<&'a str, Vec<&'a LeanPv>>,
    /// Volumes pre-bound (claimRef) to a claim, by the claim's (ns, name).
    pub pvs_by_claim_ref: HashMap<(&'a str, &'a str), Vec<&'a LeanPv>>,
}

fn key<M: MetaView>(m: &M) -> (&str, &str) {
    (m.namespace().unwrap_or(""), m.name().unwrap_or(""))
}

/// The claim name a pod volume refers to: `persistentVolumeClaim.claimName`, or for a generic
/// ephemeral volume `<pod>-<volume>` (the name the ephemeral controller gives it).
pub fn volume_claim_name(
    pod: &LeanPod,
    vol: &stateful_core::snapshot::lean::Volume,
) -> Option<String> {
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
    pub fn new(snap: &'a Snapshot) -> Self {
        let mut pods_by_claim: HashMap<(&str, String), Vec<&LeanPod>> = HashMap::default();
        for p in &snap.pods {
            let ns = p.metadata.namespace.as_deref().unwrap_or("");
            for v in p.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
                if let Some(c) = volume_claim_name(p, v) {
                    pods_by_claim.entry((ns, c)).or_default().push(p);
                }
            }
        }
        let mut attachments_by_pv: HashMap<&str, Vec<&VolumeAttachment>> = HashMap::default();
        for va in &snap.volume_attachments {
            if let Some(pv) = va.spec.source.persistent_volume_name.as_deref() {
                attachments_by_pv.entry(pv).or_default().push(va);
            }
        }
        let mut events_by_uid: HashMap<&str, Vec<&Event>> = HashMap::default();
        let mut events_by_name: HashMap<(&str, &str, &str), Vec<&Event>> = HashMap::default();
        for e in &snap.events {
            let io = &e.involved_object;
            if let (Some(k), Some(n)) = (io.kind.as_deref(), io.name.as_deref()) {
                let ns = io
                    .namespace
                    .as_deref()
                    .or(e.metadata.namespace.as_deref())
                    .unwrap_or("");
                events_by_name.entry((k, ns, n)).or_default().push(e);
            }
            if let Some(uid) = e.involved_object.uid.as_deref() {
                events_by_uid.entry(uid).or_default().push(e);
            }
        }
        let mut unbound_pvs_by_class: HashMap<&str, Vec<&LeanPv>> = HashMap::default();
        let mut pvs_by_claim_ref: HashMap<(&str, &str), Vec<&LeanPv>> = HashMap::default();
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
                    // Available, or not reported (a manifest): either may bind.
                    if matches!(
                        pv.status.as_ref().and_then(|s| s.phase.as_deref()),
                        Some("Available") | None
                    ) {
                        unbound_pvs_by_class
                            .entry(crate::objects::pv_class(pv))
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
            events_by_name,
            default_classes,
            unbound_pvs_by_class,
            pvs_by_claim_ref,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stateful_core::snapshot::parse_dump_into;

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
        let mut s = Snapshot::default();
        parse_dump_into(&mut s, std::path::Path::new("dump.yaml"), yaml).unwrap();
        let idx = Index::new(&s);
        assert_eq!(
            idx.pods_by_claim[&("ns", "web-1-scratch".to_string())].len(),
            1
        );
    }
}
