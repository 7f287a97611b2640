#![allow(clippy::unwrap_used)]
//! Partial dumps and manifests: what is not in the data is unknown, never missing, and never
//! raises a warning or an error. Fixtures are shaped as users post them (`kubectl get pvc -o
//! yaml` alone, a PV-only dump, a manifest with no status); the metamorphic tests run over
//! every fixture and the demo cluster.

use std::collections::{BTreeMap, BTreeSet};

use pvc_trace::graph::Snapshot;
use pvc_trace::{self as trace, Root, Severity, Target, TraceOptions};
use serde_json::Value;
use stateful_core::snapshot::{Gap, GapReason, Kind, parse_dump_into};

fn partial(yaml: &str) -> Snapshot {
    let mut s = Snapshot::default();
    parse_dump_into(&mut s, std::path::Path::new("fixture.yaml"), yaml).expect("fixture parses");
    for k in pvc_trace::KINDS {
        if !s.knows(k) {
            s.gaps.push(Gap {
                kind: k,
                verb: "list".into(),
                resource: k.resource().into(),
                namespace: None,
                reason: GapReason::NotInDump,
                message: String::new(),
            });
        }
    }
    s
}

fn run(s: &Snapshot, targets: &[&str], ns: Option<&str>) -> trace::Report {
    trace::trace(
        s,
        &TraceOptions {
            targets: targets.iter().map(|t| Target::parse(t).unwrap()).collect(),
            namespace: ns.map(str::to_string),
            source: "file".into(),
            selector: None,
            usage: None,
        },
    )
    .expect("trace")
}

fn problems(r: &trace::Report) -> Vec<String> {
    r.diagnostics
        .iter()
        .filter(|d| d.severity >= Severity::Warning)
        .map(|d| format!("{} {}: {}", d.code, d.object.name, d.message))
        .collect()
}

fn has(r: &trace::Report, code: &str, name: &str) -> bool {
    r.diagnostics
        .iter()
        .any(|d| d.code == code && d.object.name == name)
}

/// A `kubectl get pvc -o yaml` as posted in the AWS EBS CSI driver's issues: bound, its PV not
/// in the dump.
const PVC_ONLY: &str = r#"
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: ebs-claim
  namespace: default
  uid: 7a1c2b3d-0000-4000-8000-000000000001
  annotations:
    pv.kubernetes.io/bind-completed: "yes"
    volume.kubernetes.io/storage-provisioner: ebs.csi.aws.com
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 4Gi}}
  storageClassName: ebs-sc
  volumeMode: Filesystem
  volumeName: pvc-7a1c2b3d-0000-4000-8000-000000000001
status:
  accessModes: [ReadWriteOnce]
  capacity: {storage: 4Gi}
  phase: Bound
"#;

#[test]
fn a_claim_whose_volume_and_class_are_not_in_the_dump_is_unknown_not_missing() {
    let s = partial(PVC_ONLY);
    let r = run(&s, &["pvc/ebs-claim"], Some("default"));
    assert!(problems(&r).is_empty(), "{:?}", problems(&r));
    let Root::Claim(c) = &r.roots[0] else {
        panic!()
    };
    let pv = c.volume.as_ref().unwrap();
    assert_eq!(pv.phase, "Unknown (not in the dump: persistentvolumes)");
    let class = c.class.as_ref().unwrap();
    assert_eq!(class.exists, None);
    assert_eq!(
        class.unknown.as_deref(),
        Some("not in the dump: storageclasses")
    );
    let info = r
        .diagnostics
        .iter()
        .find(|d| d.code == "NotInData" && d.object.kind == "PersistentVolume")
        .unwrap();
    assert_eq!(info.severity, Severity::Info);
    assert!(
        info.message
            .contains("kubectl get pv pvc-7a1c2b3d-0000-4000-8000-000000000001 -o yaml"),
        "{}",
        info.message
    );
    let tree = trace::render::render(&r, &trace::render::Format::Tree).unwrap();
    assert!(
        tree.contains("storageclass/ebs-sc [unknown (not in the dump: storageclasses)]"),
        "{tree}"
    );
    assert!(!tree.contains("not found"), "{tree}");
    let json: Value =
        serde_json::from_str(&trace::render::render(&r, &trace::render::Format::Json).unwrap())
            .unwrap();
    assert!(json.pointer("/roots/0/class/exists").is_none(), "{json}");

    // The same dump with other PVs and classes in it: still unknown, the dump is not complete.
    let more = format!(
        "{PVC_ONLY}---\napiVersion: v1\nkind: PersistentVolume\nmetadata: {{name: other}}\nspec: {{capacity: {{storage: 1Gi}}, accessModes: [ReadWriteOnce], hostPath: {{path: /x}}}}\nstatus: {{phase: Available}}\n---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {{name: gp2}}\nprovisioner: kubernetes.io/aws-ebs\n"
    );
    let s = partial(&more);
    let r = run(&s, &["pvc/ebs-claim"], Some("default"));
    assert!(problems(&r).is_empty(), "{:?}", problems(&r));
    assert!(!has(&r, "VolumeMissing", "ebs-claim"));
    // Marked complete (`--complete`), the absence is known: the error is stated.
    let mut s = s;
    s.mark_complete();
    let r = run(&s, &["pvc/ebs-claim"], Some("default"));
    assert!(has(&r, "VolumeMissing", "ebs-claim"), "{:?}", problems(&r));
}

/// A PV-only dump (`kubectl get pv -o yaml`) with a Released and a Failed volume, as in the
/// Kubernetes issue tracker's reclaim reports.
const PV_ONLY: &str = r#"
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: PersistentVolume
  metadata: {name: pvc-released-1, annotations: {pv.kubernetes.io/provisioned-by: ebs.csi.aws.com}}
  spec:
    accessModes: [ReadWriteOnce]
    capacity: {storage: 10Gi}
    claimRef: {kind: PersistentVolumeClaim, namespace: shop, name: data-db-0, uid: 11111111-2222-3333-4444-555555555555}
    csi: {driver: ebs.csi.aws.com, volumeHandle: vol-0123456789abcdef0, fsType: ext4}
    persistentVolumeReclaimPolicy: Retain
    storageClassName: gp3
  status: {phase: Released}
- apiVersion: v1
  kind: PersistentVolume
  metadata: {name: pvc-failed-1}
  spec:
    accessModes: [ReadWriteOnce]
    capacity: {storage: 8Gi}
    claimRef: {kind: PersistentVolumeClaim, namespace: shop, name: data-db-1, uid: 66666666-2222-3333-4444-555555555555}
    csi: {driver: ebs.csi.aws.com, volumeHandle: vol-0fedcba9876543210}
    persistentVolumeReclaimPolicy: Delete
    storageClassName: gp3
  status: {phase: Failed, message: "error deleting EBS volume \"vol-0fedcba9876543210\" since volume is currently attached to \"i-0abc\""}
"#;

#[test]
fn every_volume_is_listed_under_all_namespaces_whatever_its_claims_visibility() {
    let s = partial(PV_ONLY);
    let r = run(&s, &[], None);
    let names: Vec<&str> = r
        .roots
        .iter()
        .filter_map(|root| match root {
            Root::Volume(v) => Some(v.volume.name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["pvc-failed-1", "pvc-released-1"]);
    assert!(has(&r, "VolumeFailed", "pvc-failed-1"));
    let failed = r
        .diagnostics
        .iter()
        .find(|d| d.code == "VolumeFailed")
        .unwrap();
    assert!(
        failed.message.contains("currently attached"),
        "{}",
        failed.message
    );
    assert!(has(&r, "VolumeReleased", "pvc-released-1"));
    assert!(!r.diagnostics.iter().any(|d| d.code == "VolumeOrphaned"));
}

/// A StatefulSet-style manifest pair as drivers ship them (local-static-provisioner's example):
/// no status anywhere, the claim pre-bound by volumeName, the PV pre-bound by a claimRef with no
/// uid, a class name with no StorageClass object.
const MANIFEST: &str = r#"
apiVersion: v1
kind: PersistentVolume
metadata: {name: example-local-pv, labels: {disk: ssd}}
spec:
  capacity: {storage: 5Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: local-storage
  claimRef: {namespace: default, name: example-local-claim}
  local: {path: /mnt/disks/ssd1}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: kubernetes.io/hostname, operator: In, values: [example-node]}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: example-local-claim}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: local-storage
  volumeName: example-local-pv
  resources: {requests: {storage: 5Gi}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: by-selector}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  selector: {matchLabels: {disk: ssd}}
  resources: {requests: {storage: 1Gi}}
"#;

#[test]
fn manifests_are_not_live_state() {
    let mut s = partial(MANIFEST);
    s.default_namespaces("default");
    let r = run(&s, &[], None);
    assert!(problems(&r).is_empty(), "{:?}", problems(&r));
    let claims: BTreeMap<&str, &str> = r
        .roots
        .iter()
        .filter_map(|root| match root {
            Root::Claim(c) => Some((c.name.as_str(), c.phase.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(claims.get("example-local-claim"), Some(&"NotReported"));
    assert_eq!(claims.get("by-selector"), Some(&"NotReported"));
    // Reported Pending, the pre-bound claim is explained, not an error.
    let pending = MANIFEST.replace(
        "  resources: {requests: {storage: 5Gi}}\n",
        "  resources: {requests: {storage: 5Gi}}\nstatus: {phase: Pending}\n",
    );
    let mut s = partial(&pending);
    s.default_namespaces("default");
    let r = run(&s, &["pvc/example-local-claim"], Some("default"));
    assert!(problems(&r).is_empty(), "{:?}", problems(&r));
    assert!(has(&r, "ClaimPending", "example-local-claim"));
}

#[test]
fn events_join_by_name_when_they_carry_no_uid() {
    let yaml = r#"
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: ns, uid: u-new}
spec: {accessModes: [ReadWriteOnce], storageClassName: csi-rbd-sc, resources: {requests: {storage: 1Gi}}}
status: {phase: Pending}
---
apiVersion: v1
kind: Event
metadata: {name: data.1, namespace: ns}
involvedObject: {kind: PersistentVolumeClaim, namespace: ns, name: data}
reason: ProvisioningFailed
type: Warning
message: 'failed to provision volume with StorageClass "csi-rbd-sc": rpc error: code = InvalidArgument desc = missing required parameter pool'
---
apiVersion: v1
kind: Event
metadata: {name: data.0, namespace: ns}
involvedObject: {kind: PersistentVolumeClaim, namespace: ns, name: data, uid: u-old}
reason: ProvisioningFailed
type: Warning
message: 'an earlier claim of that name'
---
apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: ns}
spec: {containers: [{name: c, image: x}], volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]}
---
apiVersion: v1
kind: Event
metadata: {name: web-0.1, namespace: ns}
involvedObject: {kind: Pod, namespace: ns, name: web-0}
reason: FailedScheduling
type: Warning
message: '0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.'
"#;
    let s = partial(yaml);
    let r = run(&s, &[], Some("ns"));
    let pf = r
        .diagnostics
        .iter()
        .find(|d| d.code == "ProvisioningFailed")
        .expect("ProvisioningFailed");
    assert!(
        pf.message.contains("missing required parameter pool"),
        "{}",
        pf.message
    );
    assert!(has(&r, "PodUnschedulable", "web-0"), "{:?}", problems(&r));
}

#[test]
fn object_strings_never_reach_the_terminal_raw() {
    let nasty = [
        "\u{3}",
        "\u{1b}[31mred\u{1b}[0m",
        "\u{9b}2J",
        "\u{7}",
        "a\rb",
        "\u{1b}]0;title\u{7}",
    ];
    for (i, bad) in nasty.iter().enumerate() {
        // JSON: a YAML file cannot hold C1 characters raw, a JSON dump can.
        let json = serde_json::json!({
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": format!("pv-{i}")},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "csi": {"driver": "driver.example.com", "volumeHandle": bad, "volumeAttributes": {"pool": bad}}
            },
            "status": {"phase": "Failed", "message": bad}
        });
        let yaml = json.to_string();
        let s = partial(&yaml);
        let r = run(&s, &[], None);
        for f in [
            trace::render::Format::Tree,
            trace::render::Format::Table,
            trace::render::Format::Wide,
        ] {
            let text = trace::render::render(&r, &f).unwrap();
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "{f:?} {bad:?}: {text:?}"
            );
        }
        let single = run(&s, &[&format!("pv/pv-{i}")], None);
        let tree = trace::render::render(&single, &trace::render::Format::Tree).unwrap();
        assert!(
            !tree.chars().any(|c| c.is_control() && c != '\n'),
            "{tree:?}"
        );
    }
}

// --- Metamorphic tests -------------------------------------------------------------------

/// The names of every object in the report's roots, and each decoded backend by volume.
fn objects_and_backends(r: &trace::Report) -> (BTreeSet<String>, BTreeMap<String, String>) {
    fn walk(v: &Value, names: &mut BTreeSet<String>, backends: &mut BTreeMap<String, String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(n)) = m.get("name") {
                    names.insert(n.clone());
                    if let Some(b) = m.get("backend").filter(|b| !b.is_null()) {
                        backends.insert(n.clone(), b.to_string());
                    }
                }
                m.values().for_each(|x| walk(x, names, backends));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, names, backends)),
            _ => {}
        }
    }
    let v = serde_json::to_value(&r.roots).unwrap();
    let (mut names, mut backends) = (BTreeSet::new(), BTreeMap::new());
    walk(&v, &mut names, &mut backends);
    (names, backends)
}

/// The worst severity of each object with a warning or an error.
fn worst(r: &trace::Report) -> BTreeMap<String, Severity> {
    let mut m = BTreeMap::new();
    for d in r
        .diagnostics
        .iter()
        .filter(|d| d.severity >= Severity::Warning)
    {
        let k = format!("{}/{}", d.object.kind, d.object.name);
        let e = m.entry(k).or_insert(d.severity);
        if d.severity > *e {
            *e = d.severity;
        }
    }
    m
}

fn without(s: &Snapshot, kind: Kind) -> Snapshot {
    let mut s = s.clone();
    match kind {
        Kind::Pod => s.pods.clear(),
        Kind::PersistentVolumeClaim => s.pvcs.clear(),
        Kind::PersistentVolume => s.pvs.clear(),
        Kind::StorageClass => s.storage_classes.clear(),
        Kind::VolumeAttachment => s.volume_attachments.clear(),
        Kind::Node => s.nodes.clear(),
        Kind::StatefulSet => s.statefulsets.clear(),
        Kind::Deployment => s.deployments.clear(),
        Kind::ReplicaSet => s.replicasets.clear(),
        Kind::Event => s.events.clear(),
        _ => return s,
    }
    s.known.remove(&kind);
    s.complete.remove(&kind);
    s.gaps.push(Gap {
        kind,
        verb: "list".into(),
        resource: kind.resource().into(),
        namespace: None,
        reason: GapReason::NotInDump,
        message: String::new(),
    });
    s
}

fn stripped(s: &Snapshot) -> Snapshot {
    let mut s = s.clone();
    s.pods.iter_mut().for_each(|o| o.status = None);
    s.pvcs.iter_mut().for_each(|o| o.status = None);
    s.pvs.iter_mut().for_each(|o| o.status = None);
    s.volume_attachments
        .iter_mut()
        .for_each(|o| o.status = None);
    s.nodes.iter_mut().for_each(|o| o.status = None);
    s.statefulsets.iter_mut().for_each(|o| o.status = None);
    s.deployments.iter_mut().for_each(|o| o.status = None);
    s
}

fn fixtures() -> Vec<(&'static str, Snapshot)> {
    let mut demo = partial(include_str!("../../../examples/demo-cluster.yaml"));
    let mut demo_complete = demo.clone();
    demo_complete.mark_complete();
    demo.default_namespaces("default");
    let mut manifest = partial(MANIFEST);
    manifest.default_namespaces("default");
    vec![
        ("demo", demo),
        ("demo --complete", demo_complete),
        ("pvc-only", partial(PVC_ONLY)),
        ("pv-only", partial(PV_ONLY)),
        ("manifest", manifest),
    ]
}

fn check_no_new_problems(name: &str, what: &str, base: &trace::Report, got: &trace::Report) {
    let (b, g) = (worst(base), worst(got));
    for (obj, sev) in &g {
        assert!(
            b.get(obj).is_some_and(|old| old >= sev),
            "{name}, {what}: new {sev:?} on {obj}: {:?}",
            problems(got)
        );
    }
    let (bn, bb) = objects_and_backends(base);
    let (gn, gb) = objects_and_backends(got);
    for (pv, backend) in &gb {
        if let Some(old) = bb.get(pv) {
            assert_eq!(old, backend, "{name}, {what}: backend of {pv} changed");
        }
    }
    let _ = (bn, gn);
}

#[test]
fn removing_a_kind_or_every_status_never_adds_a_problem_or_changes_a_backend() {
    let kinds = [
        Kind::Pod,
        Kind::PersistentVolumeClaim,
        Kind::PersistentVolume,
        Kind::StorageClass,
        Kind::VolumeAttachment,
        Kind::Node,
        Kind::StatefulSet,
        Kind::Deployment,
        Kind::ReplicaSet,
        Kind::Event,
    ];
    for (name, s) in fixtures() {
        let base = run(&s, &[], None);
        for k in kinds {
            let got = run(&without(&s, k), &[], None);
            check_no_new_problems(name, &format!("without {k:?}"), &base, &got);
            // Every object of the other kinds is still in the output.
            let (bn, _) = objects_and_backends(&base);
            let (gn, _) = objects_and_backends(&got);
            let gone_kind: BTreeSet<String> = removed_names(&s, k);
            for n in bn.difference(&gn) {
                assert!(gone_kind.contains(n), "{name}, without {k:?}: {n} vanished");
            }
        }
        let got = run(&stripped(&s), &[], None);
        check_no_new_problems(name, "status stripped", &base, &got);
        let (bn, _) = objects_and_backends(&base);
        let (gn, _) = objects_and_backends(&got);
        assert!(
            bn.is_subset(&gn),
            "{name}, status stripped: {:?}",
            bn.difference(&gn)
        );
    }
}

/// The names of the objects of `kind` (and what only they held: a pod's volume names).
fn removed_names(s: &Snapshot, kind: Kind) -> BTreeSet<String> {
    let v = |o: Option<&String>| o.cloned().unwrap_or_default();
    match kind {
        Kind::Pod => s
            .pods
            .iter()
            .flat_map(|p| {
                let mut n = vec![v(p.metadata.name.as_ref())];
                n.extend(
                    p.spec
                        .iter()
                        .flat_map(|s| s.volumes.iter().flatten())
                        .map(|x| x.name.clone()),
                );
                n
            })
            // Workloads are reached through their pods.
            .chain(s.deployments.iter().map(|o| v(o.metadata.name.as_ref())))
            .chain(s.statefulsets.iter().map(|o| v(o.metadata.name.as_ref())))
            .chain(s.replicasets.iter().map(|o| v(o.metadata.name.as_ref())))
            .collect(),
        // A class is drawn under the claims and volumes that name it.
        Kind::PersistentVolumeClaim => s
            .pvcs
            .iter()
            .flat_map(|o| {
                [
                    v(o.metadata.name.as_ref()),
                    v(o.spec.as_ref().and_then(|s| s.storage_class_name.as_ref())),
                    // a volume not in the dump is known only through its claim
                    v(o.spec.as_ref().and_then(|s| s.volume_name.as_ref())),
                ]
            })
            .collect(),
        Kind::PersistentVolume => s
            .pvs
            .iter()
            .flat_map(|o| {
                [
                    v(o.metadata.name.as_ref()),
                    v(o.spec.as_ref().and_then(|s| s.storage_class_name.as_ref())),
                    // the claim its claimRef names
                    v(o.spec
                        .as_ref()
                        .and_then(|s| s.claim_ref.as_ref())
                        .and_then(|c| c.name.as_ref())),
                ]
            })
            .collect(),
        Kind::StorageClass => s
            .storage_classes
            .iter()
            .map(|o| v(o.metadata.name.as_ref()))
            .collect(),
        Kind::StatefulSet => s
            .statefulsets
            .iter()
            .map(|o| v(o.metadata.name.as_ref()))
            .collect(),
        Kind::Deployment => s
            .deployments
            .iter()
            .map(|o| v(o.metadata.name.as_ref()))
            .collect(),
        // A pod's Deployment is found through its ReplicaSet.
        Kind::ReplicaSet => s
            .replicasets
            .iter()
            .map(|o| v(o.metadata.name.as_ref()))
            .chain(s.deployments.iter().map(|o| v(o.metadata.name.as_ref())))
            .collect(),
        Kind::VolumeAttachment => s
            .volume_attachments
            .iter()
            .map(|o| v(o.metadata.name.as_ref()))
            .collect(),
        Kind::Node => s
            .nodes
            .iter()
            .map(|o| v(o.metadata.name.as_ref()))
            .collect(),
        _ => BTreeSet::new(),
    }
}
