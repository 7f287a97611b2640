#![allow(clippy::unwrap_used)]
//! Trace and diagnostics on fixture dumps (pure: no cluster).

use pvc_trace::graph::Snapshot;
use pvc_trace::{self as trace, Root, Severity, Target, TraceOptions, graph::retain_problems};
use stateful_core::snapshot::{Gap, GapReason, Kind, parse_dump_into};

/// A fixture written as a whole cluster's dump (`--complete`): each kind it holds is complete.
fn snap(yaml: &str) -> Snapshot {
    let mut s = partial(yaml);
    s.mark_complete();
    s
}

/// A fixture as a partial dump: objects not in it are unknown, not missing.
fn partial(yaml: &str) -> Snapshot {
    let mut s = Snapshot::default();
    parse_dump_into(&mut s, std::path::Path::new("fixture.yaml"), yaml).expect("fixture parses");
    s
}

fn demo() -> Snapshot {
    snap(include_str!("../../../examples/demo-cluster.yaml"))
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

fn codes(r: &trace::Report) -> Vec<(String, String, String)> {
    r.diagnostics
        .iter()
        .map(|d| {
            (
                d.severity.to_string(),
                d.code.clone(),
                d.object.name.clone(),
            )
        })
        .collect()
}

fn has(r: &trace::Report, code: &str, object: &str) -> bool {
    r.diagnostics
        .iter()
        .any(|d| d.code == code && d.object.name == object)
}

const NODES_AND_CLASSES: &str = r#"
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {kubernetes.io/hostname: n1, topology.kubernetes.io/zone: z1}}
---
apiVersion: v1
kind: Node
metadata: {name: n2, labels: {kubernetes.io/hostname: n2, topology.kubernetes.io/zone: z2}}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: std, annotations: {storageclass.kubernetes.io/is-default-class: "true"}}
provisioner: ebs.csi.aws.com
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: manual}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: Immediate
"#;

#[test]
fn demo_dump_finds_every_planted_problem() {
    let s = demo();
    let r = run(&s, &[], None);
    let c = codes(&r);
    for (code, obj) in [
        ("StorageClassNotFound", "reports-cache"),
        ("MultiNodeReadWriteOnce", "uploads-files"),
        ("AttachFailed", "pvc-0b7d3e91-4c2a-4f6e-8d1b-2a9c8e7f6d50"),
        ("MountFailed", "uploads-6d8f9c7b5-p4m7q"),
        (
            "NodeAffinityConflict",
            "pvc-0b7d3e91-4c2a-4f6e-8d1b-2a9c8e7f6d50",
        ),
        (
            "NoNodeMatchesVolume",
            "pvc-71aa2c3e-2d4f-4b8a-9e1c-5a6b7c8d9e02",
        ),
        ("PodUnschedulable", "mongo-2"),
        ("VolumeReleased", "pv-nfs-old-reports"),
        ("WaitForFirstConsumer", "scratch"),
        ("ResizePending", "data-postgres-0"),
        ("VolumeAvailable", "local-pv-worker-b-nvme0"),
    ] {
        assert!(has(&r, code, obj), "missing {code} on {obj}; got {c:#?}");
    }
    // Healthy chains stay quiet.
    for healthy in [
        "data-postgres-1",
        "data-postgres-2",
        "shared-media",
        "postgres-1",
    ] {
        assert!(
            !r.diagnostics
                .iter()
                .any(|d| d.object.name == healthy && d.severity >= Severity::Warning),
            "{healthy} should have no warning: {c:#?}"
        );
    }
    // Errors sort first.
    assert_eq!(r.diagnostics[0].severity, Severity::Error);
    assert_eq!(
        r.summary.errors,
        c.iter().filter(|x| x.0 == "error").count()
    );
}

#[test]
fn statefulset_view_expected_and_leftover_claims() {
    let s = demo();
    let r = run(&s, &["sts/postgres"], Some("shop"));
    let Root::Workload(w) = &r.roots[0] else {
        panic!("{:?}", r.roots[0])
    };
    let names: Vec<&str> = w.expected_claims.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["data-postgres-0", "data-postgres-1", "data-postgres-2"]
    );
    assert!(w.expected_claims.iter().all(|e| e.present));
    let left: Vec<&str> = w.leftover_claims.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(left, ["data-postgres-3"]);
    assert!(has(&r, "ClaimLeftover", "data-postgres-3"));
    assert_eq!(w.pods.len(), 3);
}

#[test]
fn statefulset_with_int32_max_replicas_is_capped_not_enumerated() {
    // A legal int32: enumerating every ordinal would never end. The first MAX_ORDINALS are
    // checked, a warning says so, and a claim past the cap that exists is still shown.
    let yaml = r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: ns, uid: u-db}
spec:
  replicas: 2147483647
  ordinals: {start: 2147483000}
  serviceName: db
  selector: {matchLabels: {app: db}}
  template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, image: x}]}}
  volumeClaimTemplates: [{metadata: {name: data}, spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-db-2147483600, namespace: ns, labels: {app: db}}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
status: {phase: Bound}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-db-5, namespace: ns, labels: {app: db}}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
"#;
    let s = snap(yaml);
    let r = run(&s, &["sts/db"], Some("ns"));
    let Root::Workload(w) = &r.roots[0] else {
        panic!()
    };
    let max = stateful_core::workloads::MAX_ORDINALS as usize;
    // start 2147483000 leaves 647 ordinals below i32::MAX: all of them, no overflow.
    assert_eq!(w.expected_claims.len(), 647);
    assert_eq!(w.expected_claims[0].name, "data-db-2147483000");
    assert!(w.expected_claims.len() <= max);
    assert!(has(&r, "OrdinalsCapped", "db"));
    let left: Vec<&str> = w.leftover_claims.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(left, ["data-db-5"]);

    let s = snap(&yaml.replace("  ordinals: {start: 2147483000}\n", ""));
    let r = run(&s, &["sts/db"], Some("ns"));
    let Root::Workload(w) = &r.roots[0] else {
        panic!()
    };
    assert_eq!(w.replicas, i32::MAX);
    assert_eq!(
        w.expected_claims.len(),
        max + 1,
        "the cap, and the one claim past it"
    );
    let last = w.expected_claims.last().unwrap();
    assert_eq!(
        (last.name.as_str(), last.present),
        ("data-db-2147483600", true)
    );
    assert!(w.leftover_claims.is_empty(), "data-db-5 is in range");
    assert!(has(&r, "OrdinalsCapped", "db"));
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.code == "OrdinalsCapped")
        .unwrap();
    assert_eq!(d.severity, Severity::Warning);
    assert!(d.message.contains("2147483647 replicas"), "{}", d.message);
}

#[test]
fn statefulset_claims_match_by_ordinal_and_owner_not_by_prefix() {
    // sts "db" and sts "db-1" in one namespace: data-db-1-0 belongs to db-1, not to db.
    let yaml = r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: ns, uid: u-db}
spec:
  replicas: 1
  serviceName: db
  selector: {matchLabels: {app: db}}
  template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, image: x}]}}
  volumeClaimTemplates: [{metadata: {name: data}, spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-db-1-0, namespace: ns, labels: {app: db1}}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
status: {phase: Bound}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-db-7, namespace: ns, labels: {app: other}}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-db-2, namespace: ns, labels: {app: db}}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
"#;
    let s = snap(yaml);
    let r = run(&s, &["sts/db"], Some("ns"));
    let Root::Workload(w) = &r.roots[0] else {
        panic!()
    };
    assert_eq!(w.expected_claims.len(), 1);
    assert!(!w.expected_claims[0].present, "data-db-0 does not exist");
    assert!(has(&r, "ClaimMissing", "data-db-0"));
    let left: Vec<&str> = w.leftover_claims.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        left,
        ["data-db-2"],
        "db-1's claim and an unlabelled lookalike are not ours"
    );
}

#[test]
fn pending_claim_reasons() {
    let yaml = format!(
        "{NODES_AND_CLASSES}{}",
        r#"
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: static-nomatch, namespace: ns}
spec: {storageClassName: "", accessModes: [ReadWriteMany], resources: {requests: {storage: 5Gi}}}
status: {phase: Pending}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: manual-ok, namespace: ns}
spec: {storageClassName: manual, accessModes: [ReadWriteOnce], resources: {requests: {storage: 5Gi}}}
status: {phase: Pending}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-small}
spec: {storageClassName: "", accessModes: [ReadWriteMany], capacity: {storage: 1Gi}, nfs: {server: 10.0.0.1, path: /a}}
status: {phase: Available}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-manual}
spec: {storageClassName: manual, accessModes: [ReadWriteOnce], capacity: {storage: 10Gi}, hostPath: {path: /data}}
status: {phase: Available}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: wffc, namespace: ns}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 5Gi}}}
status: {phase: Pending}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: beta-annotated
  namespace: ns
  annotations: {volume.beta.kubernetes.io/storage-class: gold}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 5Gi}}}
status: {phase: Pending}
"#
    );
    let s = snap(&yaml);
    let r = run(&s, &[], Some("ns"));
    assert!(
        has(&r, "NoMatchingVolume", "static-nomatch"),
        "{:#?}",
        codes(&r)
    );
    assert!(
        !has(&r, "NoMatchingVolume", "manual-ok"),
        "pv-manual matches it"
    );
    assert!(
        has(&r, "WaitForFirstConsumer", "wffc"),
        "default class std is WFFC"
    );
    let wffc = r
        .diagnostics
        .iter()
        .find(|d| d.object.name == "wffc")
        .unwrap();
    assert_eq!(wffc.severity, Severity::Info);
    // The beta annotation names the class in place of the field, as Kubernetes still honours.
    assert!(
        has(&r, "StorageClassNotFound", "beta-annotated"),
        "{:#?}",
        codes(&r)
    );
}

#[test]
fn no_default_storage_class() {
    let yaml = r#"
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: only}
provisioner: x
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: c, namespace: ns}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
status: {phase: Pending}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: unrelated}
spec: {storageClassName: only, accessModes: [ReadWriteOnce], capacity: {storage: 1Gi}, nfs: {server: s, path: /p}}
status: {phase: Available}
"#;
    let r = run(&snap(yaml), &["pvc/c"], Some("ns"));
    assert!(has(&r, "NoDefaultStorageClass", "c"), "{:#?}", codes(&r));
}

#[test]
fn bound_side_mismatches() {
    let yaml = r#"
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: gone-pv, namespace: ns, uid: u1}
spec: {volumeName: pv-gone, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
status: {phase: Bound, capacity: {storage: 1Gi}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: big, namespace: ns, uid: u2}
spec: {volumeName: pv-small, accessModes: [ReadWriteMany], resources: {requests: {storage: 10Gi}}}
status: {phase: Bound}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-small}
spec:
  accessModes: [ReadWriteOnce]
  capacity: {storage: 2Gi}
  claimRef: {namespace: ns, name: big, uid: u2}
  csi: {driver: ebs.csi.aws.com, volumeHandle: vol-0123456789abcdef0}
status: {phase: Bound}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: reborn, namespace: ns, uid: new-uid}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
status: {phase: Pending}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-old}
spec:
  accessModes: [ReadWriteOnce]
  capacity: {storage: 1Gi}
  claimRef: {namespace: ns, name: reborn, uid: old-uid}
  nfs: {server: s, path: /p}
status: {phase: Bound}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-orphan}
spec:
  accessModes: [ReadWriteOnce]
  capacity: {storage: 1Gi}
  claimRef: {namespace: ns, name: deleted-claim, uid: u9}
  nfs: {server: s, path: /q}
status: {phase: Bound}
"#;
    let s = snap(yaml);
    let r = run(&s, &[], None);
    assert!(has(&r, "VolumeMissing", "gone-pv"), "{:#?}", codes(&r));
    assert!(has(&r, "CapacityMismatch", "big"));
    assert!(has(&r, "AccessModeMismatch", "big"));
    assert!(has(&r, "ClaimReplaced", "pv-old"));
    assert!(has(&r, "VolumeOrphaned", "pv-orphan"));
    // pv-old and pv-orphan have no live claim: -A lists them as volume roots.
    let vols: Vec<String> = r
        .roots
        .iter()
        .filter_map(|x| match x {
            Root::Volume(v) => Some(v.volume.name.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(vols, ["pv-old", "pv-orphan"]);
    let rv = trace::trace(
        &s,
        &TraceOptions {
            targets: vec![Target::parse("pv/pv-old").unwrap()],
            namespace: None,
            source: "file".into(),
            selector: None,
            usage: None,
        },
    )
    .unwrap();
    let Root::Volume(v) = &rv.roots[0] else {
        panic!()
    };
    assert_eq!(v.claim_status, "replaced");
}

#[test]
fn rwop_and_resize_failures() {
    let yaml = r#"
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: solo, namespace: ns}
spec: {accessModes: [ReadWriteOncePod], resources: {requests: {storage: 1Gi}}}
status:
  phase: Bound
  conditions:
  - {type: ControllerResizeError, status: "True", message: "volume size exceeds the limit"}
  allocatedResourceStatuses: {storage: ControllerResizeInfeasible}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: ns}
spec: {nodeName: n1, containers: [{name: c, image: x}], volumes: [{name: v, persistentVolumeClaim: {claimName: solo}}]}
status: {phase: Running}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: ns}
spec: {nodeName: n1, containers: [{name: c, image: x}], volumes: [{name: v, persistentVolumeClaim: {claimName: solo}}]}
status: {phase: Pending}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: ns}
spec: {containers: [{name: c, image: x}], volumes: [{name: v, persistentVolumeClaim: {claimName: nothere}}]}
status: {phase: Pending}
"#;
    let r = run(&snap(yaml), &[], Some("ns"));
    assert!(
        has(&r, "MultiPodReadWriteOncePod", "solo"),
        "{:#?}",
        codes(&r)
    );
    assert!(has(&r, "ResizeFailed", "solo"));
    assert!(has(&r, "ClaimMissing", "nothere"));
}

#[test]
fn forbidden_lists_give_unknown_not_failure() {
    let mut s = snap(
        r#"
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: ns}
spec: {volumeName: pv-1, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
status: {phase: Bound}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ns}
spec: {containers: [{name: c, image: x}], volumes: [{name: v, persistentVolumeClaim: {claimName: data}}]}
"#,
    );
    s.gaps.push(Gap {
        kind: Kind::PersistentVolume,
        verb: "list".into(),
        resource: "persistentvolumes".into(),
        namespace: None,
        reason: GapReason::Forbidden,
        message: "persistentvolumes is forbidden".into(),
    });
    let r = run(&s, &["pod/p"], Some("ns"));
    let Root::Pod(p) = &r.roots[0] else { panic!() };
    let pv = p.volumes[0]
        .claim
        .as_ref()
        .unwrap()
        .volume
        .as_ref()
        .unwrap();
    assert_eq!(pv.phase, "Unknown (forbidden: list persistentvolumes)");
    assert!(has(&r, "Forbidden", "*"));
    assert!(!has(&r, "VolumeMissing", "data"), "unknown is not missing");
    let tree = trace::render::render(&r, &pvc_trace::render::Format::Tree).unwrap();
    assert!(
        tree.contains("unknown (forbidden: list persistentvolumes)")
            || tree.contains("Unknown (forbidden: list persistentvolumes)"),
        "{tree}"
    );

    // A target whose own kind is forbidden is an error with verb/resource/namespace.
    s.gaps.push(Gap {
        kind: Kind::Pod,
        verb: "list".into(),
        resource: "pods".into(),
        namespace: Some("ns".into()),
        reason: GapReason::Forbidden,
        message: String::new(),
    });
    let err = trace::trace(
        &s,
        &TraceOptions {
            targets: vec![Target::Pod("p".into())],
            namespace: Some("ns".into()),
            source: "cluster".into(),
            selector: None,
            usage: None,
        },
    )
    .unwrap_err();
    assert_eq!(err.exit_code().code(), 4);
    assert_eq!(
        err.to_string(),
        "forbidden: cannot list pods in namespace \"ns\""
    );
}

#[test]
fn not_found_and_ambiguous_targets() {
    let s = demo();
    let e = trace::trace(
        &s,
        &TraceOptions {
            targets: vec![Target::Pod("nope".into())],
            namespace: Some("shop".into()),
            source: "file".into(),
            selector: None,
            usage: None,
        },
    )
    .unwrap_err();
    assert_eq!(e.exit_code().code(), 3);
    assert_eq!(
        e.to_string(),
        "pod \"nope\" not found in namespace \"shop\""
    );
}

#[test]
fn problems_filter_keeps_only_flagged_chains() {
    let s = demo();
    let mut r = run(&s, &[], None);
    let before = r.roots.len();
    retain_problems(&mut r, Severity::Warning);
    assert!(r.roots.len() < before);
    assert!(
        r.diagnostics
            .iter()
            .all(|d| d.severity >= Severity::Warning)
    );
    assert!(
        !r.roots
            .iter()
            .any(|x| matches!(x, Root::Pod(p) if p.name == "postgres-1"))
    );
}

#[test]
fn renderings_are_stable() {
    let s = demo();
    let r = run(&s, &["pod/uploads-6d8f9c7b5-p4m7q"], Some("shop"));
    insta::assert_snapshot!(
        "tree_pod",
        trace::render::render(&r, &pvc_trace::render::Format::Tree).unwrap()
    );
    let r = run(&s, &["sts/mongo"], Some("shop"));
    insta::assert_snapshot!(
        "tree_sts",
        trace::render::render(&r, &pvc_trace::render::Format::Tree).unwrap()
    );
    let r = run(&s, &[], Some("shop"));
    insta::assert_snapshot!(
        "table_shop",
        trace::render::render(&r, &pvc_trace::render::Format::Table).unwrap()
    );
    insta::assert_snapshot!(
        "wide_shop",
        trace::render::render(&r, &pvc_trace::render::Format::Wide).unwrap()
    );
    let r = run(&s, &["pvc/reports-cache"], Some("shop"));
    insta::assert_snapshot!(
        "json_claim",
        trace::render::render(&r, &pvc_trace::render::Format::Json).unwrap()
    );
}

#[test]
fn json_schema_header_and_yaml_round_trip() {
    let s = demo();
    let r = run(&s, &[], None);
    let json: serde_json::Value =
        serde_json::from_str(&trace::render::render(&r, &pvc_trace::render::Format::Json).unwrap())
            .unwrap();
    assert_eq!(json["apiVersion"], "kubectl-stateful.io/v1alpha1");
    assert_eq!(json["kind"], "PvcTrace");
    assert!(
        json["roots"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["type"].is_string())
    );
    let yaml = trace::render::render(&r, &pvc_trace::render::Format::Yaml).unwrap();
    let back: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(back, json, "YAML and JSON carry the same model");
}

/// The streamed printer (`-o json` root by root, tables from rows) must write exactly what
/// rendering the whole report writes, with and without `--problems`, in every namespace scope.
#[test]
fn streamed_output_equals_the_whole_report_rendered() {
    use pvc_trace::graph::retain_problems;
    use pvc_trace::render::Format;
    use pvc_trace::render::{render, write};
    let s = demo();
    let namespaces: Vec<Option<String>> = std::iter::once(None)
        .chain(
            s.pods
                .iter()
                .filter_map(|p| p.metadata.namespace.clone())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .map(Some),
        )
        .collect();
    let mut compared = 0;
    for ns in &namespaces {
        let mut scoped = s.clone();
        if let Some(n) = ns {
            scoped.retain_scope(&stateful_core::snapshot::Scope {
                namespace: Some(n.clone()),
                pod_selector: None,
                ..Default::default()
            });
        }
        let opts = TraceOptions {
            targets: vec![],
            namespace: ns.clone(),
            source: "file".into(),
            selector: None,
            usage: None,
        };
        for problems in [None, Some(Severity::Warning), Some(Severity::Error)] {
            for format in [Format::Json, Format::Table, Format::Wide] {
                let mut whole = trace::trace(&scoped, &opts).unwrap();
                if let Some(min) = problems {
                    retain_problems(&mut whole, min);
                }
                let expected = render(&whole, &format).unwrap();
                // "No volumes found" goes to the notice stream, where the table would be.
                let (mut out, mut notice) = (Vec::new(), Vec::new());
                let tail = write(
                    &mut out,
                    &mut notice,
                    &scoped,
                    &opts,
                    problems,
                    &format,
                    &Default::default(),
                )
                .unwrap();
                notice.extend(out);
                assert_eq!(
                    String::from_utf8(notice).unwrap(),
                    expected,
                    "{format:?} problems={problems:?} ns={ns:?}"
                );
                assert_eq!(tail.diagnostics, whole.diagnostics);
                compared += 1;
            }
        }
    }
    assert!(compared >= 3 * 3 * 3, "{compared}");
}

/// A reader that goes away (`| head`): output stops quietly, and the trace still completes so
/// that its diagnostics decide `--fail-on`.
#[test]
fn a_closed_pipe_stops_output_but_not_the_diagnosis() {
    use pvc_trace::render::Format;
    use pvc_trace::render::write;
    struct Closes(usize);
    impl std::io::Write for Closes {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::ErrorKind::BrokenPipe.into());
            }
            let n = buf.len().min(self.0);
            self.0 -= n;
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let s = demo();
    let opts = TraceOptions {
        targets: vec![],
        namespace: None,
        source: "file".into(),
        selector: None,
        usage: None,
    };
    let whole = trace::trace(&s, &opts).unwrap();
    assert!(
        whole
            .diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    );
    for format in [Format::Json, Format::Table, Format::Wide] {
        for room in [0, 10, 5000] {
            let tail = write(
                &mut Closes(room),
                &mut Vec::new(),
                &s,
                &opts,
                None,
                &format,
                &Default::default(),
            )
            .unwrap_or_else(|e| panic!("{format:?} after {room} bytes: {e}"));
            assert_eq!(tail.diagnostics, whole.diagnostics, "{format:?} {room}");
        }
    }
}
