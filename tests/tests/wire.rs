//! Pods read as Kubernetes protobuf (what pvc-trace's LISTs ask for) are the pods read as JSON:
//! the real API server encodes both, and every field the trace keeps is compared — volumes of
//! every kind the lean pod describes and of others, mounts, owners, annotations, times, a pod
//! being deleted, conditions. A forbidden protobuf LIST is the same forbidden error.

use std::time::Duration;

use anyhow::{Result, ensure};
use e2e::{NODES, TestNs, wait_for};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::json;
use stateful_core::snapshot::list_lean_pods;

const T: Duration = Duration::from_secs(90);
const HOLD: &str = "e2e.kubectl-stateful.io/hold";

#[tokio::test]
async fn pods_read_as_protobuf_equal_pods_read_as_json() -> Result<()> {
    let ns = TestNs::new("wire").await?;
    let mount = |name: &str| json!({"name": name, "mountPath": format!("/m/{name}")});
    // An owner that exists (the garbage collector deletes pods whose owner does not).
    let owner = ns
        .apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner"}}))
        .await?;
    let owner_uid = owner.metadata.uid.clone().unwrap_or_default();
    ns.apply(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": "every-volume",
            "labels": {"app": "db", "tier": ""},
            "annotations": {
                "volume.kubernetes.io/selected-node": NODES[0].0,
                "note": "not kept",
            },
            "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
                "uid": owner_uid, "controller": true, "blockOwnerDeletion": false}],
        },
        "spec": {
            "volumes": [
                {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}},
                {"name": "ro-data", "persistentVolumeClaim": {"claimName": "other", "readOnly": true}},
                {"name": "scratch", "emptyDir": {}},
                {"name": "mem", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
                {"name": "host", "hostPath": {"path": "/srv"}},
                {"name": "host-dir", "hostPath": {"path": "/var", "type": "Directory"}},
                {"name": "cfg", "configMap": {"name": "cfg", "optional": true}},
                {"name": "sec", "secret": {"secretName": "creds"}},
                {"name": "proj", "projected": {"sources": [{"configMap": {"name": "cfg"}}]}},
                {"name": "down", "downwardAPI": {"items": [{"path": "labels",
                    "fieldRef": {"fieldPath": "metadata.labels"}}]}},
                {"name": "nfs", "nfs": {"server": "fs.example", "path": "/export", "readOnly": true}},
                {"name": "inline", "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": false,
                    "fsType": "", "volumeAttributes": {"z": "1", "a": "2"},
                    "nodePublishSecretRef": {"name": "creds"}}},
                {"name": "bare-csi", "csi": {"driver": "inline.example.com"}},
                {"name": "eph", "ephemeral": {"volumeClaimTemplate": {"spec": {
                    "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}}},
                {"name": "iscsi", "iscsi": {"targetPortal": "10.0.0.1:3260",
                    "iqn": "iqn.2001-04.com.example:storage", "lun": 0}},
                {"name": "fc", "fc": {"targetWWNs": ["500a0982991b8dc5"], "lun": 2}},
            ],
            "initContainers": [{"name": "init", "image": "busybox",
                "volumeMounts": [{"name": "scratch", "mountPath": "/s", "subPathExpr": "$(POD)"}]}],
            "containers": [
                {"name": "db", "image": "busybox", "volumeMounts": [
                    mount("data"), mount("mem"),
                    {"name": "ro-data", "mountPath": "/ro", "readOnly": true, "subPath": "x"},
                    {"name": "host", "mountPath": "/h", "readOnly": false},
                ]},
                {"name": "sidecar", "image": "busybox"},
            ],
        },
    }))
    .await?;
    // A running pod on a node, and one being deleted (held by a finalizer).
    for name in ["running", "leaving"] {
        ns.apply(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "finalizers": if name == "leaving" { json!([HOLD]) } else { json!([]) }},
            "spec": {"nodeName": NODES[1].0, "containers": [{"name": "c", "image": "busybox"}]},
        }))
        .await?;
    }
    let pods = ns.api::<Pod>();
    let result = async {
        ns.wait_pod_running("running", T).await?;
        ns.wait_pod_running("leaving", T).await?;
        pods.delete("leaving", &DeleteParams::default()).await?;
        // The unschedulable pod's condition (its claims do not exist) comes from the scheduler.
        wait_for("every-volume's PodScheduled condition", T, || {
            let pods = pods.clone();
            async move {
                let p = pods.get("every-volume").await?;
                Ok(p.status
                    .and_then(|s| s.conditions)
                    .filter(|c| c.iter().any(|c| c.type_ == "PodScheduled")))
            }
        })
        .await?;

        // The pods as protobuf, as JSON, and as protobuf again: kwok and the controllers may
        // still change them between two LISTs, so compare when the two protobuf reads agree.
        let (pb, js) = wait_for("two protobuf LISTs in a row to agree", T, || async {
            let pb = list_lean_pods(&ns.admin, Some(&ns.name), true).await?;
            let js = list_lean_pods(&ns.admin, Some(&ns.name), false).await?;
            let again = list_lean_pods(&ns.admin, Some(&ns.name), true).await?;
            Ok((pb == again).then_some((pb, js)))
        })
        .await?;
        ensure!(pb.len() == 3, "{} pods", pb.len());
        // Not vacuous: the fields that differ between the encodings are there to compare.
        let every = pb
            .iter()
            .find(|p| p.metadata.name.as_deref() == Some("every-volume"))
            .expect("every-volume listed");
        let vols = every
            .spec
            .as_ref()
            .and_then(|s| s.volumes.as_ref())
            .expect("volumes");
        // Ours, and the service account token the API server adds.
        ensure!(vols.len() == 17, "{vols:#?}");
        ensure!(vols.iter().any(|v| v.other.as_deref() == Some("iscsi")));
        ensure!(vols.iter().any(|v| v.ephemeral.is_some()));
        ensure!(
            pb.iter().any(|p| p.metadata.deletion_timestamp.is_some()),
            "the leaving pod's deletionTimestamp"
        );
        for (a, b) in pb.iter().zip(&js) {
            ensure!(a == b, "protobuf:\n{a:#?}\nJSON:\n{b:#?}");
        }
        ensure!(pb == js);

        // A forbidden LIST is the same error either way: verb, resource and namespace.
        for wire in [true, false] {
            let err = list_lean_pods(&ns.restricted, Some(&ns.name), wire)
                .await
                .expect_err("the restricted user cannot list pods");
            let text = err.to_string();
            ensure!(
                err.exit_code() == stateful_core::ExitCode::Forbidden
                    && text.contains("list")
                    && text.contains("pods")
                    && text.contains(&ns.name),
                "protobuf {wire}: {text}"
            );
        }
        Ok(())
    }
    .await;
    // Let the namespace go.
    let release = json!({"metadata": {"finalizers": null}});
    pods.patch("leaving", &PatchParams::default(), &Patch::Merge(&release))
        .await?;
    result
}
