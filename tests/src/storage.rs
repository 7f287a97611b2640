//! Storage for the backup tests on the local control plane, which has no CSI driver: the
//! snapshot API's CRDs ([`snapshot_crds`], [`snapshot_api`]), a pre-bound claim
//! ([`bound_claim`]), a fake provisioner that binds the namespace's Pending claims of a class
//! to new volumes ([`Provisioner`]), and the snapshotter's part ([`ready_snapshot`]).

use std::time::Duration;

use anyhow::Result;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::ApiResource;
use serde_json::{Value, json};

use crate::{TestNs, wait_for};

const T: Duration = Duration::from_secs(90);

/// The three snapshot.storage.k8s.io/v1 CRDs, schema-less (the tests play the controller).
pub fn snapshot_crds() -> Vec<Value> {
    [
        ("VolumeSnapshot", "volumesnapshots", "Namespaced"),
        ("VolumeSnapshotClass", "volumesnapshotclasses", "Cluster"),
        ("VolumeSnapshotContent", "volumesnapshotcontents", "Cluster"),
    ]
    .iter()
    .map(|(kind, plural, scope)| {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": format!("{plural}.snapshot.storage.k8s.io"),
                "annotations": {"api-approved.kubernetes.io": "https://github.com/kubernetes-csi/external-snapshotter/pull/814"}},
            "spec": {
                "group": "snapshot.storage.k8s.io",
                "names": {"kind": kind, "plural": plural, "singular": kind.to_lowercase(), "listKind": format!("{kind}List")},
                "scope": scope,
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "subresources": {"status": {}},
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}],
            },
        })
    })
    .collect()
}

/// Install the snapshot CRDs (idempotent) and return this namespace's VolumeSnapshot API
/// once it is served.
pub async fn snapshot_api(ns: &TestNs) -> Result<Api<DynamicObject>> {
    for crd in snapshot_crds() {
        ns.apply(crd).await?;
    }
    let ar = ApiResource {
        group: "snapshot.storage.k8s.io".into(),
        version: "v1".into(),
        api_version: "snapshot.storage.k8s.io/v1".into(),
        kind: "VolumeSnapshot".into(),
        plural: "volumesnapshots".into(),
    };
    let vss: Api<DynamicObject> = Api::namespaced_with(ns.admin.clone(), &ns.name, &ar);
    wait_for("the snapshot API served", T, || {
        let vss = vss.clone();
        async move { Ok(vss.list(&ListParams::default()).await.ok().map(|_| ())) }
    })
    .await?;
    Ok(vss)
}

/// A VolumeSnapshot `name` of claim `claim`, then its status as the snapshotter would write
/// it once ready.
pub async fn ready_snapshot(
    ns: &TestNs,
    vss: &Api<DynamicObject>,
    name: &str,
    class: &str,
    claim: &str,
    size: &str,
) -> Result<()> {
    ns.apply(json!({
        "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
        "metadata": {"name": name},
        "spec": {"volumeSnapshotClassName": class, "source": {"persistentVolumeClaimName": claim}},
    }))
    .await?;
    vss.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {
            "boundVolumeSnapshotContentName": format!("content-{name}"),
            "creationTime": "2026-01-01T00:00:00Z",
            "readyToUse": true, "restoreSize": size,
        }})),
    )
    .await?;
    Ok(())
}

/// Claim `name` pre-bound to a new volume of CSI driver `driver` (both ways: the volume's
/// claimRef by name, the claim's volumeName), Bound by the real PV controller.
pub async fn bound_claim(ns: &TestNs, name: &str, driver: &str) -> Result<()> {
    let pv = format!("{}-{name}", ns.name);
    ns.apply(json!({
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": pv, "labels": ns.owner_labels()},
        "spec": {
            "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "",
            "claimRef": {"namespace": ns.name, "name": name},
            "csi": {"driver": driver, "volumeHandle": format!("vol-{name}")},
        },
    }))
    .await?;
    // Writing the Bound status by hand races the controller, which marks such a claim Lost
    // (its volume's claimRef has no UID, so it looks bound to another claim).
    ns.apply(json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "", "volumeName": pv,
                 "resources": {"requests": {"storage": "1Gi"}}},
    }))
    .await?;
    let pvcs = ns.api::<PersistentVolumeClaim>();
    wait_for(&format!("{name} Bound"), T, || {
        let pvcs = pvcs.clone();
        async move {
            let p = pvcs.get(name).await?;
            Ok((p.status.and_then(|s| s.phase).as_deref() == Some("Bound")).then_some(()))
        }
    })
    .await
}

/// A fake dynamic provisioner: while it lives, every Pending claim of `class` in the namespace
/// gets a new volume (claimRef with the claim's UID, so the PV controller binds them).
pub struct Provisioner {
    task: tokio::task::JoinHandle<()>,
}

impl Provisioner {
    pub fn start(ns: &TestNs, class: &str, driver: &str) -> Provisioner {
        let (pvcs, pvs) = (
            ns.api::<PersistentVolumeClaim>(),
            ns.api_all::<PersistentVolume>(),
        );
        let (class, driver, ns_name, owner) = (
            class.to_string(),
            driver.to_string(),
            ns.name.clone(),
            ns.owner_labels(),
        );
        let task = tokio::spawn(async move {
            loop {
                if let Ok(list) = pvcs.list(&ListParams::default()).await {
                    for c in list.items {
                        let spec = c.spec.clone().unwrap_or_default();
                        let pending =
                            c.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending");
                        if !pending
                            || spec.storage_class_name.as_deref() != Some(class.as_str())
                            || spec.volume_name.is_some()
                            || c.metadata.deletion_timestamp.is_some()
                        {
                            continue;
                        }
                        let (Some(name), Some(uid)) = (c.metadata.name, c.metadata.uid) else {
                            continue;
                        };
                        let size = spec
                            .resources
                            .and_then(|r| r.requests)
                            .and_then(|r| r.get("storage").map(|q| q.0.clone()))
                            .unwrap_or_else(|| "1Gi".into());
                        let pv: PersistentVolume = match serde_json::from_value(json!({
                            "apiVersion": "v1", "kind": "PersistentVolume",
                            "metadata": {"name": format!("pvc-{uid}"), "labels": owner},
                            "spec": {
                                "capacity": {"storage": size},
                                "accessModes": spec.access_modes.unwrap_or_default(),
                                "persistentVolumeReclaimPolicy": "Delete",
                                "storageClassName": class,
                                "claimRef": {"namespace": ns_name, "name": name, "uid": uid},
                                "csi": {"driver": driver, "volumeHandle": format!("vol-{uid}")},
                            },
                        })) {
                            Ok(pv) => pv,
                            Err(_) => continue,
                        };
                        let _ = pvs.create(&PostParams::default(), &pv).await;
                    }
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        });
        Provisioner { task }
    }
}

impl Drop for Provisioner {
    fn drop(&mut self) {
        self.task.abort();
    }
}
