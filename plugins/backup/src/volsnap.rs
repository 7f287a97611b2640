//! CSI VolumeSnapshot of a claim: preflight (claim Bound, snapshot API served, a usable class
//! for the claim's driver) and the object. Status reading: "cut" (bound content and
//! creationTime) vs "ready" (readyToUse, restoreSize), and `status.error`.

use serde::Serialize;
use serde_json::{Value, json};

use crate::{Method, Target, TargetKind, Warnings, our_labels};
use stateful_core::error::{Error, Result};
use stateful_core::snapshot::{GapReason, Kind, Snapshot};

pub const DEFAULT_CLASS_ANNOTATION: &str = "snapshot.storage.kubernetes.io/is-default-class";

#[derive(Debug, Clone)]
pub struct SnapshotPlan {
    pub class: String,
    pub driver: String,
    pub object: Value,
    pub warnings: Warnings,
}

/// The CSI driver behind a claim: its PV's `csi.driver`, else its StorageClass provisioner.
fn claim_driver(
    snap: &Snapshot,
    pvc: &k8s_openapi::api::core::v1::PersistentVolumeClaim,
) -> Option<String> {
    let spec = pvc.spec.as_ref()?;
    if let Some(pv_name) = spec.volume_name.as_deref()
        && let Some(pv) = snap
            .pvs
            .iter()
            .find(|p| p.metadata.name.as_deref() == Some(pv_name))
        && let Some(csi) = pv.spec.as_ref().and_then(|s| s.csi.as_ref())
    {
        return Some(csi.driver.clone());
    }
    let sc = spec.storage_class_name.as_deref()?;
    snap.storage_classes
        .iter()
        .find(|c| c.metadata.name.as_deref() == Some(sc))
        .map(|c| c.provisioner.clone())
}

/// Build a VolumeSnapshot of `pvc/NAME` in `ns`.
pub fn build_snapshot(
    snap: &Snapshot,
    ns: &str,
    target: &Target,
    class: Option<&str>,
    name: &str,
) -> Result<SnapshotPlan> {
    if target.kind != TargetKind::Pvc {
        return Err(Error::Usage(format!(
            "--snapshot takes pvc/NAME, not {}",
            target.display()
        )));
    }
    let mut warnings = Vec::new();
    let pvc = snap
        .pvcs
        .iter()
        .find(|p| {
            p.metadata.namespace.as_deref() == Some(ns)
                && p.metadata.name.as_deref() == Some(target.name.as_str())
        })
        .ok_or_else(|| Error::not_found("persistentvolumeclaims", &target.name, Some(ns)))?;
    let phase = pvc
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending");
    if phase != "Bound" {
        return Err(Error::Failed(format!(
            "claim {} is {phase}, not Bound: there is nothing to snapshot yet",
            target.name
        )));
    }
    if let Some(gap) = snap.gap(Kind::VolumeSnapshotClass) {
        return Err(match gap.reason {
            GapReason::NotServed => Error::Failed(
                "the snapshot API (snapshot.storage.k8s.io/v1 VolumeSnapshotClass) is not served: install the external-snapshotter CRDs and controller".into(),
            ),
            GapReason::Forbidden => Error::Forbidden {
                verb: "list".into(),
                resource: "volumesnapshotclasses.snapshot.storage.k8s.io".into(),
                namespace: None,
                message: gap.message.clone(),
            },
            GapReason::NotInDump => Error::Failed(
                "the dump holds no VolumeSnapshotClass; add `kubectl get volumesnapshotclasses -o yaml` to it".into(),
            ),
        });
    }
    let classes: &[Value] = snap
        .dynamic
        .get(&Kind::VolumeSnapshotClass)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let driver = claim_driver(snap, pvc);
    let class_name = |c: &Value| {
        c.pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let class_driver = |c: &Value| c.get("driver").and_then(Value::as_str).map(str::to_string);
    let chosen = match class {
        Some(want) => {
            let c = classes
                .iter()
                .find(|c| class_name(c) == want)
                .ok_or_else(|| Error::not_found("volumesnapshotclasses", want, None))?;
            if let (Some(d), Some(cd)) = (&driver, class_driver(c))
                && *d != cd
            {
                return Err(Error::Usage(format!(
                    "volumesnapshotclass {want} is for driver {cd}, but claim {} is on {d}",
                    target.name
                )));
            }
            c
        }
        None => {
            let Some(d) = &driver else {
                return Err(Error::Failed(format!(
                    "claim {} is not on a CSI volume (no csi driver on its PV or StorageClass); it cannot be snapshotted",
                    target.name
                )));
            };
            let matching: Vec<&Value> = classes
                .iter()
                .filter(|c| class_driver(c).as_deref() == Some(d.as_str()))
                .collect();
            let default = matching.iter().find(|c| {
                c.pointer("/metadata/annotations")
                    .and_then(|a| a.get(DEFAULT_CLASS_ANNOTATION))
                    .and_then(Value::as_str)
                    == Some("true")
            });
            match (default.copied(), matching.as_slice()) {
                (Some(c), _) => c,
                (None, &[only]) => {
                    warnings.push(format!(
                        "no default VolumeSnapshotClass for driver {d}; using the only one, {}",
                        class_name(only)
                    ));
                    only
                }
                (None, []) => {
                    return Err(Error::Failed(format!(
                        "no VolumeSnapshotClass for driver {d} (claim {}); create one or pass --class",
                        target.name
                    )));
                }
                (None, many) => {
                    return Err(Error::Usage(format!(
                        "several VolumeSnapshotClasses for driver {d} and none is default ({}); pass --class",
                        many.iter()
                            .map(|c| class_name(c))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            }
        }
    };
    let class = class_name(chosen);
    let driver = class_driver(chosen).or(driver).unwrap_or_default();
    let labels = our_labels(target, Method::Snapshot, None);
    let object = json!({
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshot",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {
            "volumeSnapshotClassName": class,
            "source": {"persistentVolumeClaimName": target.name},
        }
    });
    Ok(SnapshotPlan {
        class,
        driver,
        object,
        warnings,
    })
}

/// A VolumeSnapshot's progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotState {
    /// Content bound and creationTime set: the point-in-time cut is taken.
    pub cut: bool,
    pub creation_time: Option<String>,
    pub content: Option<String>,
    pub ready: bool,
    pub restore_size: Option<String>,
    pub error: Option<String>,
}

impl SnapshotState {
    pub fn of(vs: &Value) -> Self {
        let s = |p: &str| vs.pointer(p).and_then(Value::as_str).map(str::to_string);
        let content = s("/status/boundVolumeSnapshotContentName");
        let creation_time = s("/status/creationTime");
        SnapshotState {
            cut: content.is_some() && creation_time.is_some(),
            creation_time,
            content,
            ready: vs
                .pointer("/status/readyToUse")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            restore_size: vs.pointer("/status/restoreSize").map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
            error: s("/status/error/message"),
        }
    }

    pub fn status_word(&self) -> &'static str {
        if self.ready {
            "Ready"
        } else if self.error.is_some() {
            "Error"
        } else if self.cut {
            "Cut"
        } else {
            "Pending"
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn snap(yaml: &str) -> Snapshot {
        let mut s = Snapshot::default();
        stateful_core::snapshot::parse_dump_into(&mut s, std::path::Path::new("t.yaml"), yaml)
            .unwrap();
        s
    }

    const BASE: &str = r#"
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-db-0, namespace: prod}
spec: {accessModes: [ReadWriteOnce], storageClassName: fast, volumeName: pv-1}
status: {phase: Bound}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-1}
spec: {csi: {driver: ebs.csi.aws.com, volumeHandle: vol-1}}
---
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshotClass
metadata: {name: other, annotations: {snapshot.storage.kubernetes.io/is-default-class: "true"}}
driver: pd.csi.storage.gke.io
deletionPolicy: Delete
---
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshotClass
metadata: {name: ebs, annotations: {snapshot.storage.kubernetes.io/is-default-class: "true"}}
driver: ebs.csi.aws.com
deletionPolicy: Delete
"#;

    #[test]
    fn default_class_matches_the_claims_driver() {
        let s = snap(BASE);
        let t = Target::parse("pvc/data-db-0").unwrap();
        let p = build_snapshot(&s, "prod", &t, None, "data-db-0-snap-1").unwrap();
        assert_eq!(p.class, "ebs");
        assert_eq!(
            p.object["spec"]["source"]["persistentVolumeClaimName"],
            "data-db-0"
        );
        assert_eq!(
            p.object["metadata"]["labels"][crate::LABEL_METHOD],
            "snapshot"
        );
        let e = build_snapshot(&s, "prod", &t, Some("other"), "x").unwrap_err();
        assert_eq!(e.exit_code().code(), 2);
        let e = build_snapshot(&s, "prod", &t, Some("nope"), "x").unwrap_err();
        assert_eq!(e.exit_code().code(), 3);
        let e = build_snapshot(&s, "prod", &Target::parse("pvc/none").unwrap(), None, "x");
        assert_eq!(e.unwrap_err().exit_code().code(), 3);
    }

    #[test]
    fn preflight_refuses_unbound_claims_and_missing_api() {
        let s = snap(&BASE.replace("phase: Bound", "phase: Pending"));
        let t = Target::parse("pvc/data-db-0").unwrap();
        let e = build_snapshot(&s, "prod", &t, None, "x").unwrap_err();
        assert!(e.to_string().contains("not Bound"), "{e}");
        let mut s = snap(BASE);
        s.dynamic.clear();
        s.gaps.push(stateful_core::snapshot::Gap {
            kind: Kind::VolumeSnapshotClass,
            verb: "list".into(),
            resource: "volumesnapshotclasses".into(),
            namespace: None,
            reason: GapReason::NotServed,
            message: String::new(),
        });
        let e = build_snapshot(&s, "prod", &t, None, "x").unwrap_err();
        assert!(e.to_string().contains("not served"), "{e}");
    }

    #[test]
    fn cut_then_ready() {
        let mut vs = json!({"status": {"boundVolumeSnapshotContentName": "c1"}});
        assert_eq!(SnapshotState::of(&vs).status_word(), "Pending");
        vs["status"]["creationTime"] = json!("2026-11-23T01:00:00Z");
        assert_eq!(SnapshotState::of(&vs).status_word(), "Cut");
        vs["status"]["error"] = json!({"message": "quota"});
        assert_eq!(SnapshotState::of(&vs).error.as_deref(), Some("quota"));
        vs["status"]["readyToUse"] = json!(true);
        vs["status"]["restoreSize"] = json!("5Gi");
        let st = SnapshotState::of(&vs);
        assert_eq!(
            (st.status_word(), st.restore_size.as_deref()),
            ("Ready", Some("5Gi"))
        );
    }
}
