#![allow(clippy::unwrap_used)]
//! Static binding as the PV controller does it (`syncUnboundClaim`, `FindMatchingVolume`,
//! `checkVolumeSatisfyClaim`), re-created claims (`ClaimReplaced`), Released volumes with and
//! without a claimRef, and VolumeAttachments analysed on their own.

use pvc_trace::graph::Snapshot;
use pvc_trace::render::Format;
use pvc_trace::{self as trace, Root, Severity, Target, TraceOptions};
use stateful_core::snapshot::{Gap, GapReason, parse_dump_into};

/// A dump: kinds absent from it are not in the dump; with `complete`, the kinds present are
/// complete lists (`--complete`).
fn dump(yaml: &str, complete: bool) -> Snapshot {
    let mut s = Snapshot::default();
    parse_dump_into(&mut s, std::path::Path::new("t.yaml"), yaml).expect("parses");
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
    if complete {
        s.mark_complete();
    }
    s.default_namespaces("default");
    s
}

fn run(s: &Snapshot, targets: &[&str]) -> trace::Report {
    trace::trace(
        s,
        &TraceOptions {
            targets: targets.iter().map(|t| Target::parse(t).unwrap()).collect(),
            namespace: if targets
                .iter()
                .all(|t| t.starts_with("pv/") || t.starts_with("node/"))
            {
                None
            } else {
                Some("default".into())
            },
            source: "file".into(),
            selector: None,
            usage: None,
        },
    )
    .expect("trace")
}

fn codes(r: &trace::Report, name: &str) -> Vec<String> {
    r.diagnostics
        .iter()
        .filter(|d| d.object.name == name)
        .map(|d| format!("{:?} {}", d.severity, d.code))
        .collect()
}

fn message(r: &trace::Report, code: &str) -> String {
    r.diagnostics
        .iter()
        .find(|d| d.code == code)
        .map(|d| d.message.clone())
        .unwrap_or_else(|| panic!("no {code}: {:?}", r.diagnostics))
}

fn problems(r: &trace::Report) -> Vec<String> {
    r.diagnostics
        .iter()
        .filter(|d| d.severity >= Severity::Warning)
        .map(|d| format!("{} {}", d.code, d.object.name))
        .collect()
}

const CLASS_LOCAL: &str = r#"
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: local}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: Immediate
"#;

fn pv(name: &str, extra_spec: &str, labels: &str) -> String {
    format!(
        r#"
---
apiVersion: v1
kind: PersistentVolume
metadata: {{name: {name}, labels: {{{labels}}}}}
spec:
  capacity: {{storage: 10Gi}}
  accessModes: [ReadWriteOnce]
  storageClassName: local
  hostPath: {{path: /data/{name}}}
{extra_spec}status: {{phase: Available}}
"#
    )
}

fn claim(name: &str, extra_spec: &str) -> String {
    format!(
        r#"
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: {name}, namespace: default, uid: 11111111-0000-4000-8000-{name:0>12}}}
spec:
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 5Gi}}}}
{extra_spec}status: {{phase: Pending}}
"#
    )
}

#[test]
fn a_claim_pre_bound_by_volume_name_is_checked_against_that_volume() {
    // Fits: an explanation, no problem.
    let y = format!(
        "{CLASS_LOCAL}{}{}",
        pv("pv-a", "", ""),
        claim("c", "  storageClassName: local\n  volumeName: pv-a\n")
    );
    let r = run(&dump(&y, true), &["pvc/c"]);
    assert!(problems(&r).is_empty(), "{:?}", problems(&r));
    assert!(message(&r, "ClaimPending").contains("which fits"));

    // Each of checkVolumeSatisfyClaim's reasons.
    for (spec, why) in [
        ("  resources: {requests: {storage: 20Gi}}\n", "too small"),
        ("  storageClassName: other\n", "storageClassName"),
        (
            "  storageClassName: local\n  volumeMode: Block\n",
            "volumeMode",
        ),
        (
            "  storageClassName: local\n  accessModes: [ReadWriteMany]\n",
            "does not offer ReadWriteMany",
        ),
    ] {
        let mut c = claim("c", &format!("{spec}  volumeName: pv-a\n"));
        if spec.contains("resources") {
            c = c.replacen("  resources: {requests: {storage: 5Gi}}\n", "", 1);
            c = c.replace("  volumeName", "  storageClassName: local\n  volumeName");
        }
        if spec.contains("accessModes") {
            c = c.replacen("  accessModes: [ReadWriteOnce]\n", "", 1);
        }
        let y = format!("{CLASS_LOCAL}{}{c}", pv("pv-a", "", ""));
        let r = run(&dump(&y, true), &["pvc/c"]);
        let m = message(&r, "NoMatchingVolume");
        assert!(m.contains(why), "{why}: {m}");
        assert!(m.contains("pre-bound to volume pv-a"), "{m}");
    }
}

#[test]
fn a_volume_pre_bound_by_claim_ref_binds_with_or_without_uid() {
    // claimRef with no uid, class differing from the claim's: FindMatchingVolume takes a
    // pre-bound volume before the class check.
    let cr = "  claimRef: {namespace: default, name: c}\n";
    let y = format!(
        "{CLASS_LOCAL}{}{}",
        pv("pv-a", cr, "").replace("storageClassName: local", "storageClassName: manual"),
        claim("c", "  storageClassName: local\n")
    );
    let r = run(&dump(&y, true), &["pvc/c"]);
    assert!(problems(&r).is_empty(), "{:?}", problems(&r));

    // The claim's own uid: pre-bound too.
    let cr =
        "  claimRef: {namespace: default, name: c, uid: 11111111-0000-4000-8000-00000000000c}\n";
    let y = format!(
        "{CLASS_LOCAL}{}{}",
        pv("pv-a", cr, ""),
        claim("c", "  storageClassName: local\n")
    );
    let r = run(&dump(&y, true), &["pvc/c"]);
    assert!(problems(&r).is_empty(), "{:?}", problems(&r));

    // Another uid: an earlier claim's volume, not a match.
    let cr =
        "  claimRef: {namespace: default, name: c, uid: 99999999-0000-4000-8000-000000000000}\n";
    let y = format!(
        "{CLASS_LOCAL}{}{}",
        pv("pv-a", cr, ""),
        claim("c", "  storageClassName: local\n")
    );
    let r = run(&dump(&y, true), &["pvc/c"]);
    assert!(codes(&r, "c").contains(&"Error NoMatchingVolume".to_string()));
}

#[test]
fn selectors_classes_and_completeness_decide_no_matching_volume() {
    let labelled = pv("pv-a", "", "tier: fast, zone: a");
    for (sel, fits) in [
        ("{matchLabels: {tier: fast}}", true),
        ("{matchLabels: {tier: slow}}", false),
        (
            "{matchExpressions: [{key: tier, operator: In, values: [fast, gold]}]}",
            true,
        ),
        (
            "{matchExpressions: [{key: zone, operator: NotIn, values: [a]}]}",
            false,
        ),
        ("{matchExpressions: [{key: tier, operator: Exists}]}", true),
        (
            "{matchExpressions: [{key: tier, operator: DoesNotExist}]}",
            false,
        ),
    ] {
        let y = format!(
            "{CLASS_LOCAL}{labelled}{}",
            claim(
                "c",
                &format!("  storageClassName: local\n  selector: {sel}\n")
            )
        );
        let r = run(&dump(&y, true), &["pvc/c"]);
        let has = codes(&r, "c").contains(&"Error NoMatchingVolume".to_string());
        assert_eq!(!has, fits, "{sel}: {:?}", r.diagnostics);
        // The PV list not known complete: never an error, an info that says so.
        let r = run(&dump(&y, false), &["pvc/c"]);
        assert!(problems(&r).is_empty(), "{sel}: {:?}", problems(&r));
    }

    // Class "" binds only to volumes with no class.
    let y = format!(
        "{CLASS_LOCAL}{}{}",
        pv("pv-a", "", "").replace("  storageClassName: local\n", ""),
        claim("c", "  storageClassName: \"\"\n")
    );
    let r = run(&dump(&y, true), &["pvc/c"]);
    assert!(problems(&r).is_empty(), "{:?}", problems(&r));
    let y = format!(
        "{CLASS_LOCAL}{}{}",
        pv("pv-a", "", ""),
        claim("c", "  storageClassName: \"\"\n")
    );
    let r = run(&dump(&y, true), &["pvc/c"]);
    assert!(codes(&r, "c").contains(&"Error NoMatchingVolume".to_string()));

    // A volume with no status (a manifest) may be Available: not held against the claim.
    let y = format!(
        "{CLASS_LOCAL}{}{}",
        pv("pv-a", "", "").replace("status: {phase: Available}\n", ""),
        claim("c", "  storageClassName: local\n")
    );
    let r = run(&dump(&y, true), &["pvc/c"]);
    assert!(problems(&r).is_empty(), "{:?}", problems(&r));
}

#[test]
fn a_class_missing_from_a_dump_without_volumes_is_not_an_error() {
    // A named class that does not exist (classes complete) but volumes not in the data: a
    // static volume of that class may exist unseen.
    let y = format!(
        "{CLASS_LOCAL}{}",
        claim("c", "  storageClassName: manual\n")
    );
    let r = run(&dump(&y, true), &["pvc/c"]);
    assert!(problems(&r).is_empty(), "{:?}", problems(&r));
    // With the volumes complete and none fitting, it is an error.
    let y = format!(
        "{CLASS_LOCAL}{}{}",
        pv("pv-a", "", ""),
        claim("c", "  storageClassName: manual\n")
    );
    let r = run(&dump(&y, true), &["pvc/c"]);
    assert!(codes(&r, "c").contains(&"Error StorageClassNotFound".to_string()));
    // … and a volume of that class fits: no error.
    let y = format!(
        "{CLASS_LOCAL}{}{}",
        pv("pv-a", "", "").replace("storageClassName: local", "storageClassName: manual"),
        claim("c", "  storageClassName: manual\n")
    );
    let r = run(&dump(&y, true), &["pvc/c"]);
    assert!(problems(&r).is_empty(), "{:?}", problems(&r));
}

/// A claim deleted and created again under the same name, its old Retain volume Released.
const REPLACED: &str = r#"
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-old}
spec:
  capacity: {storage: 10Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: gp3
  claimRef: {kind: PersistentVolumeClaim, namespace: default, name: data, uid: aaaaaaaa-0000-4000-8000-000000000001}
  csi: {driver: ebs.csi.aws.com, volumeHandle: vol-0aaa}
status: {phase: Released}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-new}
spec:
  capacity: {storage: 10Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Delete
  storageClassName: gp3
  claimRef: {kind: PersistentVolumeClaim, namespace: default, name: data, uid: bbbbbbbb-0000-4000-8000-000000000002}
  csi: {driver: ebs.csi.aws.com, volumeHandle: vol-0bbb}
status: {phase: Bound}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: default, uid: bbbbbbbb-0000-4000-8000-000000000002}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 10Gi}}
  storageClassName: gp3
  volumeName: pv-new
status: {phase: Bound, capacity: {storage: 10Gi}}
"#;

#[test]
fn a_replaced_claim_never_shows_the_old_volume() {
    let s = dump(REPLACED, false);
    let r = run(&s, &[]);
    assert!(codes(&r, "pv-old").contains(&"Error ClaimReplaced".to_string()));
    assert!(
        !codes(&r, "pv-new")
            .iter()
            .any(|c| c.contains("ClaimReplaced"))
    );
    let released = message(&r, "VolumeReleased");
    assert!(
        released
            .contains("its claim default/data was deleted (a claim of that name was created again"),
        "{released}"
    );
    // -A: the old volume on its own row, with no claim under it.
    let r = trace::trace(
        &s,
        &TraceOptions {
            targets: vec![],
            namespace: None,
            source: "file".into(),
            selector: None,
            usage: None,
        },
    )
    .unwrap();
    for root in &r.roots {
        match root {
            Root::Volume(v) if v.volume.name == "pv-old" => {
                assert_eq!(v.claim_status, "replaced");
                assert!(v.claim.is_none());
            }
            Root::Claim(c) => {
                assert_eq!(c.volume.as_ref().map(|v| v.name.as_str()), Some("pv-new"));
            }
            _ => {}
        }
    }
    for f in [Format::Table, Format::Wide] {
        let text = trace::render::render(&r, &f).unwrap();
        let rows = text.split("\nProblems:").next().unwrap();
        for line in rows.lines().filter(|l| l.contains("pv-old")) {
            // The old volume's row names the claim only as replaced.
            assert!(line.contains("data (replaced)"), "{f:?}: {line}");
        }
        for line in rows
            .lines()
            .filter(|l| l.contains(" data ") && !l.contains("(replaced)"))
        {
            assert!(
                line.contains("pv-new") && !line.contains("pv-old"),
                "{f:?}: {line}"
            );
        }
    }
    // pv/pv-old: replaced, no claim drawn.
    let r = run(&s, &["pv/pv-old"]);
    let tree = trace::render::render(&r, &Format::Tree).unwrap();
    assert!(!tree.contains("pvc/data"), "{tree}");

    // The new claim names the old volume: still not shown as its volume.
    let y = REPLACED.replace("volumeName: pv-new", "volumeName: pv-old");
    let r = run(&dump(&y, false), &["pvc/data"]);
    match &r.roots[0] {
        Root::Claim(c) => assert!(c.volume.is_none(), "{:?}", c.volume),
        other => panic!("{other:?}"),
    }
    assert!(codes(&r, "data").contains(&"Error VolumeClaimMismatch".to_string()));

    // A manifest's claim has no uid: whether it is the same object is not known.
    let y = REPLACED.replace(
        "metadata: {name: data, namespace: default, uid: bbbbbbbb-0000-4000-8000-000000000002}",
        "metadata: {name: data, namespace: default}",
    );
    let r = run(&dump(&y, false), &[]);
    assert!(
        !r.diagnostics.iter().any(|d| d.code == "ClaimReplaced"),
        "{:?}",
        r.diagnostics
    );
}

#[test]
fn released_volumes_get_advice_that_fits_their_claim_ref() {
    let base = REPLACED.split("---").next().unwrap().to_string();
    // No claimRef.
    let y = base.replace(
        "  claimRef: {kind: PersistentVolumeClaim, namespace: default, name: data, uid: aaaaaaaa-0000-4000-8000-000000000001}\n",
        "",
    );
    let r = run(&dump(&y, false), &[]);
    let m = message(&r, "VolumeReleased");
    assert!(m.contains("has no claimRef"), "{m}");
    assert!(!m.contains("claim  was"), "{m}");
    assert!(problems(&r).is_empty(), "{:?}", problems(&r));
    // A nameless claimRef.
    let y = base.replace("namespace: default, name: data, ", "");
    let r = run(&dump(&y, false), &[]);
    let m = message(&r, "VolumeReleased");
    assert!(m.contains("names no claim"), "{m}");
    assert!(
        !m.contains("claim  was") && !m.contains("claim / was"),
        "{m}"
    );
    // The claim deleted: its name, the patch that clears the claimRef.
    let r = run(&dump(&base, false), &[]);
    let m = message(&r, "VolumeReleased");
    assert!(m.contains("its claim default/data was deleted;"), "{m}");
    assert!(m.contains("kubectl patch pv pv-old"), "{m}");
    // Failed: the controller's message.
    let y = base.replace(
        "status: {phase: Released}",
        "status: {phase: Failed, message: \"Error getting deleter volume plugin for volume \\\"pv-old\\\": no deletable volume plugin matched\"}",
    );
    let r = run(&dump(&y, false), &[]);
    assert!(message(&r, "VolumeFailed").contains("no deletable volume plugin matched"));
}

const VA_ONLY: &str = r#"
apiVersion: storage.k8s.io/v1
kind: VolumeAttachment
metadata:
  name: csi-9f1c
  deletionTimestamp: "2024-03-01T10:00:00Z"
  finalizers: [external-attacher/ebs-csi-aws-com]
spec:
  attacher: ebs.csi.aws.com
  nodeName: ip-10-0-1-2.ec2.internal
  source: {persistentVolumeName: pvc-4e2d}
status:
  attached: true
  detachError: {message: "rpc error: code = Internal desc = Could not detach volume", time: "2024-03-01T10:00:05Z"}
---
apiVersion: storage.k8s.io/v1
kind: VolumeAttachment
metadata: {name: csi-77ab}
spec:
  attacher: ebs.csi.aws.com
  nodeName: ip-10-0-3-4.ec2.internal
  source: {persistentVolumeName: pvc-5f3e}
status:
  attached: false
  attachError: {message: "rpc error: code = Internal desc = Could not attach volume: VolumeInUse", time: "2024-03-01T10:00:05Z"}
"#;

#[test]
fn volume_attachments_are_analysed_without_their_volumes() {
    let s = dump(VA_ONLY, false);
    // -A: both, each on its volume's row.
    let r = trace::trace(
        &s,
        &TraceOptions {
            targets: vec![],
            namespace: None,
            source: "file".into(),
            selector: None,
            usage: None,
        },
    )
    .unwrap();
    assert_eq!(r.roots.len(), 2);
    assert!(codes(&r, "pvc-4e2d").contains(&"Warning AttachmentStuck".to_string()));
    assert!(codes(&r, "pvc-4e2d").contains(&"Warning DetachFailed".to_string()));
    assert!(codes(&r, "pvc-5f3e").contains(&"Error AttachFailed".to_string()));
    let table = trace::render::render(&r, &Format::Table).unwrap();
    assert!(table.contains("warning:AttachmentStuck"), "{table}");
    // node/NAME and pv/NAME, the node and the volume not in the data.
    let r = run(&s, &["node/ip-10-0-1-2.ec2.internal"]);
    assert!(codes(&r, "pvc-4e2d").contains(&"Warning DetachFailed".to_string()));
    let tree = trace::render::render(&r, &Format::Tree).unwrap();
    assert!(tree.contains("← pv pvc-4e2d"), "{tree}");
    assert!(tree.contains("warning AttachmentStuck"), "{tree}");
    let table = trace::render::render(&r, &Format::Wide).unwrap();
    assert!(table.contains("Detaching"), "{table}");
    let r = run(&s, &["pv/pvc-5f3e"]);
    assert!(codes(&r, "pvc-5f3e").contains(&"Error AttachFailed".to_string()));
    // With the volume in the data, the same findings.
    let y = format!(
        "{VA_ONLY}---\napiVersion: v1\nkind: PersistentVolume\nmetadata: {{name: pvc-5f3e}}\nspec: {{capacity: {{storage: 1Gi}}, accessModes: [ReadWriteOnce], csi: {{driver: ebs.csi.aws.com, volumeHandle: vol-1}}}}\nstatus: {{phase: Bound}}\n"
    );
    let r = run(&dump(&y, false), &["pv/pvc-5f3e"]);
    assert!(codes(&r, "pvc-5f3e").contains(&"Error AttachFailed".to_string()));
}

#[test]
fn forbidden_nodes_and_classes_are_unknown_not_missing() {
    let y = r#"
apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: default}
spec:
  nodeName: worker-1
  containers: [{name: c, image: nginx}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
status: {phase: Running}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: default, uid: u-1}
spec: {accessModes: [ReadWriteOnce], storageClassName: gp3, resources: {requests: {storage: 1Gi}}}
status: {phase: Pending}
"#;
    let mut s = dump(y, true);
    for k in [
        stateful_core::snapshot::Kind::Node,
        stateful_core::snapshot::Kind::StorageClass,
    ] {
        s.gaps.retain(|g| g.kind != k);
        s.gaps.push(Gap {
            kind: k,
            verb: "list".into(),
            resource: k.resource().into(),
            namespace: None,
            reason: GapReason::Forbidden,
            message: String::new(),
        });
    }
    let r = run(&s, &["pod/web-0"]);
    let tree = trace::render::render(&r, &Format::Tree).unwrap();
    assert!(
        tree.contains("storageclass/gp3 [unknown (forbidden"),
        "{tree}"
    );
    assert!(!tree.contains("not found"), "{tree}");
    assert!(
        !r.diagnostics
            .iter()
            .any(|d| d.code == "StorageClassNotFound"),
        "{:?}",
        r.diagnostics
    );
    let r = run(&s, &["node/worker-1"]);
    let tree = trace::render::render(&r, &Format::Tree).unwrap();
    assert!(tree.contains("node/worker-1 [unknown (forbidden"), "{tree}");
}
