#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The diff of two analyses, on fixture snapshots (no cluster).

use super::*;
use crate::graph::{TraceOptions, trace};
use crate::target::Target;
use stateful_core::snapshot::parse_dump_into;

/// A whole namespace's dump: each kind it holds is complete.
fn snap(yaml: &str) -> Snapshot {
    let mut s = Snapshot::default();
    parse_dump_into(&mut s, std::path::Path::new("t.yaml"), yaml).expect("fixture parses");
    s.mark_complete();
    s
}

fn state_of(yaml: &str, targets: &[&str]) -> State {
    let s = snap(yaml);
    let report = trace(
        &s,
        &TraceOptions {
            targets: targets.iter().map(|t| Target::parse(t).unwrap()).collect(),
            namespace: Some("ns".into()),
            source: "cluster".into(),
            selector: None,
            usage: None,
        },
    )
    .expect("trace");
    State::of(&s, &report)
}

fn state(yaml: &str) -> State {
    state_of(yaml, &[])
}

/// (type, object name, field, from, to) of each change.
type Brief = (
    &'static str,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn brief(cs: &[Change]) -> Vec<Brief> {
    cs.iter()
        .map(|c| {
            (
                c.type_.as_str(),
                c.object.name.clone(),
                c.field.clone(),
                c.from.clone(),
                c.to.clone(),
            )
        })
        .collect()
}

fn s(x: &str) -> Option<String> {
    Some(x.to_string())
}

const CLASS: &str = r#"
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: manual}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: Immediate
"#;

fn claim(phase: &str, volume: Option<&str>, status_extra: &str) -> String {
    let vol = volume
        .map(|v| format!("volumeName: {v}"))
        .unwrap_or_default();
    let cap = if phase == "Bound" {
        "capacity: {storage: 1Gi}"
    } else {
        ""
    };
    format!(
        r#"
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: data, namespace: ns, uid: c1}}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  resources: {{requests: {{storage: 1Gi}}}}
  {vol}
status:
  phase: {phase}
  {cap}
{status_extra}
"#
    )
}

fn volume(phase: &str, claimed: bool) -> String {
    let claim_ref = if claimed {
        "claimRef: {kind: PersistentVolumeClaim, namespace: ns, name: data, uid: c1}"
    } else {
        ""
    };
    format!(
        r#"
---
apiVersion: v1
kind: PersistentVolume
metadata: {{name: pv1}}
spec:
  capacity: {{storage: 1Gi}}
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  persistentVolumeReclaimPolicy: Retain
  csi: {{driver: ebs.csi.aws.com, volumeHandle: vol-1}}
  {claim_ref}
status: {{phase: {phase}}}
"#
    )
}

fn attachment(attached: bool, error: &str) -> String {
    format!(
        r#"
---
apiVersion: storage.k8s.io/v1
kind: VolumeAttachment
metadata: {{name: csi-abc}}
spec:
  attacher: ebs.csi.aws.com
  nodeName: node-a
  source: {{persistentVolumeName: pv1}}
status:
  attached: {attached}
  {error}
"#
    )
}

fn bound() -> String {
    format!(
        "{CLASS}{}{}",
        claim("Bound", Some("pv1"), ""),
        volume("Bound", true)
    )
}

#[test]
fn a_claim_binding_is_its_phase_its_volume_and_the_volumes_phase() {
    let pending = format!(
        "{CLASS}{}{}",
        claim("Pending", None, ""),
        volume("Available", false)
    );
    let cs = changes(&state(&pending), &state(&bound()));
    let b = brief(&cs);
    assert_eq!(
        b[..3],
        [
            ("ClaimPhase", "data".into(), None, s("Pending"), s("Bound")),
            ("Bound", "data".into(), None, None, s("pv1")),
            ("VolumePhase", "pv1".into(), None, None, s("Bound")),
        ],
        "{b:#?}"
    );
    // The Pending claim's note (a volume fits it) is gone once it is bound.
    assert!(
        cs.iter().any(
            |c| c.type_ == ChangeType::ProblemGone && c.code.as_deref() == Some("ClaimPending")
        ),
        "{b:#?}"
    );
    assert!(
        !cs.iter().any(|c| c.type_ == ChangeType::Capacity),
        "first capacity is no resize"
    );

    // And back: the claim's volume lost.
    let lost = format!(
        "{CLASS}{}{}",
        claim("Lost", None, ""),
        volume("Released", true)
    );
    let b = brief(&changes(&state(&bound()), &state(&lost)));
    assert_eq!(
        b[..2],
        [
            ("ClaimPhase", "data".into(), None, s("Bound"), s("Lost")),
            ("Unbound", "data".into(), None, s("pv1"), None),
        ],
        "{b:#?}"
    );
}

#[test]
fn nothing_relevant_changed_means_no_change() {
    let a = state(&bound());
    assert!(changes(&a, &a).is_empty());
    // A label, an annotation, a resourceVersion: nothing a watch follows.
    let relabelled = bound().replace(
        "metadata: {name: data, namespace: ns, uid: c1}",
        "metadata: {name: data, namespace: ns, uid: c1, labels: {app: x}, annotations: {a: b}, resourceVersion: \"9\"}",
    );
    assert_ne!(relabelled, bound());
    assert!(changes(&a, &state(&relabelled)).is_empty());
    assert!(changes(&State::default(), &State::default()).is_empty());
}

#[test]
fn resize_conditions_appear_and_clear_and_the_capacity_grows() {
    let before = bound();
    let resizing = format!(
        "{CLASS}{}{}",
        claim(
            "Bound",
            Some("pv1"),
            r#"  allocatedResources: {storage: 2Gi}
  allocatedResourceStatuses: {storage: NodeResizePending}
  conditions:
  - type: FileSystemResizePending
    status: "True"
    message: Waiting for user to (re-)start a pod to finish file system resize of volume on node.
"#
        ),
        volume("Bound", true)
    );
    let up = changes(&state(&before), &state(&resizing));
    let b = brief(&up);
    assert!(
        b.contains(&(
            "Resize",
            "data".into(),
            s("condition FileSystemResizePending"),
            None,
            s("True")
        )),
        "{b:#?}"
    );
    assert!(
        b.contains(&(
            "Resize",
            "data".into(),
            s("allocatedResourceStatuses storage"),
            None,
            s("NodeResizePending")
        )),
        "{b:#?}"
    );
    let cond = up
        .iter()
        .find(|c| c.field.as_deref() == Some("condition FileSystemResizePending"))
        .unwrap();
    assert!(
        cond.message.contains("finish file system resize"),
        "{cond:?}"
    );

    let done = bound().replace(
        "capacity: {storage: 1Gi}\n\n",
        "capacity: {storage: 2Gi}\n\n",
    );
    assert_ne!(done, bound(), "the fixture's capacity line is replaced");
    let b = brief(&changes(&state(&resizing), &state(&done)));
    assert!(
        b.contains(&(
            "Resize",
            "data".into(),
            s("condition FileSystemResizePending"),
            s("True"),
            None
        )),
        "{b:#?}"
    );
    assert!(
        b.contains(&(
            "Resize",
            "data".into(),
            s("allocatedResourceStatuses storage"),
            s("NodeResizePending"),
            None
        )),
        "{b:#?}"
    );
    assert!(
        b.contains(&("Capacity", "data".into(), None, s("1Gi"), s("2Gi"))),
        "{b:#?}"
    );
}

#[test]
fn a_condition_whose_status_changes_is_one_change() {
    let cond = |status: &str| {
        format!(
            "{CLASS}{}{}",
            claim(
                "Bound",
                Some("pv1"),
                &format!("  conditions:\n  - {{type: Resizing, status: \"{status}\"}}\n")
            ),
            volume("Bound", true)
        )
    };
    let cs = changes(&state(&cond("True")), &state(&cond("False")));
    let b = brief(&cs);
    assert_eq!(
        b[0],
        (
            "Resize",
            "data".into(),
            s("condition Resizing"),
            s("True"),
            s("False")
        )
    );
    // The rest is what the diagnosis says of it: the resize in progress is over.
    assert_eq!(
        cs[1..]
            .iter()
            .map(|c| (c.type_.as_str(), c.code.as_deref().unwrap_or("")))
            .collect::<Vec<_>>(),
        [("ProblemGone", "ResizeInProgress")]
    );
}

#[test]
fn attach_and_detach() {
    let with = |a: &str| format!("{}{a}", bound());
    let detached = state(&with(&attachment(false, "")));
    let attached = state(&with(&attachment(true, "")));
    let b = brief(&changes(&detached, &attached));
    assert_eq!(
        b,
        [("Attached", "csi-abc".into(), None, None, s("node-a"))],
        "{b:#?}"
    );
    let c = changes(&detached, &attached);
    assert_eq!(c[0].message, "volume pv1 on node node-a");
    // Gone from the cluster: detached.
    let b = brief(&changes(&attached, &state(&bound())));
    assert_eq!(
        b,
        [("Detached", "csi-abc".into(), None, s("node-a"), None)],
        "{b:#?}"
    );
    // An attach error while not attached is no attach change (its problem may be).
    let failing = state(&with(&attachment(
        false,
        "attachError: {message: rpc error, time: \"2024-01-01T00:00:00Z\"}",
    )));
    assert!(
        !changes(&detached, &failing)
            .iter()
            .any(|c| matches!(c.type_, ChangeType::Attached | ChangeType::Detached))
    );
}

const POD: &str = r#"
---
apiVersion: v1
kind: Pod
metadata: {name: db-0, namespace: ns}
spec:
  nodeName: node-a
  containers: [{name: db, image: x, volumeMounts: [{name: d, mountPath: /d}]}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
status:
  phase: PHASE
  conditions: [{type: Ready, status: "READY"}]
"#;

fn with_pod(phase: &str, ready: &str) -> String {
    format!(
        "{}{}",
        bound(),
        POD.replace("PHASE", phase).replace("READY", ready)
    )
}

#[test]
fn pod_phase_and_readiness() {
    let b = brief(&changes(
        &state(&with_pod("Pending", "False")),
        &state(&with_pod("Running", "True")),
    ));
    assert_eq!(
        b,
        [
            ("PodPhase", "db-0".into(), None, s("Pending"), s("Running")),
            ("PodReady", "db-0".into(), None, s("False"), s("True")),
        ],
        "{b:#?}"
    );
    // The pod deleted: it leaves the trace (its claim becomes a root of its own).
    let b = brief(&changes(
        &state(&with_pod("Running", "True")),
        &state(&bound()),
    ));
    assert_eq!(
        b,
        [("PodPhase", "db-0".into(), None, s("Running"), None)],
        "{b:#?}"
    );
}

#[test]
fn problems_new_and_gone_by_code_and_object() {
    // A Pending claim no volume fits (an error), then a volume that fits (the PV controller
    // binds them next: a note).
    // (Volumes are listed: one of another class is there.)
    let unfit = volume("Available", false)
        .replace("pv1", "pv9")
        .replace("storageClassName: manual", "storageClassName: other");
    let no_fit = format!("{CLASS}{}{unfit}", claim("Pending", None, ""));
    let a_fit = format!("{no_fit}{}", volume("Available", false));
    let before = state(&no_fit);
    let after = state(&a_fit);
    let cs = changes(&before, &after);
    let gone: Vec<_> = cs
        .iter()
        .filter(|c| c.type_ == ChangeType::ProblemGone)
        .collect();
    let new: Vec<_> = cs
        .iter()
        .filter(|c| c.type_ == ChangeType::ProblemNew)
        .collect();
    assert_eq!(gone[0].code.as_deref(), Some("NoMatchingVolume"), "{cs:#?}");
    assert_eq!(gone[0].severity, Some(Severity::Error));
    assert_eq!(new[0].code.as_deref(), Some("ClaimPending"), "{cs:#?}");
    for c in gone.iter().chain(&new) {
        assert!(c.severity.is_some() && c.code.is_some() && !c.message.is_empty());
    }
    // Gone before new, and problems after every object's change.
    let pos = |t: ChangeType| cs.iter().position(|c| c.type_ == t);
    assert!(pos(ChangeType::ProblemGone) < pos(ChangeType::ProblemNew));
    // The reverse is the mirror image.
    let back = changes(&after, &before);
    assert_eq!(
        back.iter()
            .filter(|c| c.type_ == ChangeType::ProblemNew)
            .map(|c| c.code.clone())
            .collect::<Vec<_>>(),
        gone.iter().map(|c| c.code.clone()).collect::<Vec<_>>()
    );
    // Same code, same object, another message: the same problem (no change).
    let mut reworded = after.clone();
    for d in reworded.problems.values_mut() {
        d.message.push_str(" (again)");
    }
    assert!(changes(&after, &reworded).is_empty());
}

#[test]
fn the_order_is_fixed_whatever_the_snapshot_order() {
    let docs = [
        CLASS.to_string(),
        claim("Pending", None, ""),
        volume("Available", false),
        POD.replace("PHASE", "Pending").replace("READY", "False"),
        attachment(false, ""),
    ];
    let after_docs = [
        CLASS.to_string(),
        claim("Bound", Some("pv1"), ""),
        volume("Bound", true),
        POD.replace("PHASE", "Running").replace("READY", "True"),
        attachment(true, ""),
    ];
    let join = |d: &[String], order: &[usize]| {
        order
            .iter()
            .map(|&i| format!("\n---\n{}", d[i].trim_start_matches("\n---\n")))
            .collect::<String>()
    };
    let one = changes(
        &state(&join(&docs, &[0, 1, 2, 3, 4])),
        &state(&join(&after_docs, &[0, 1, 2, 3, 4])),
    );
    let two = changes(
        &state(&join(&docs, &[4, 3, 2, 1, 0])),
        &state(&join(&after_docs, &[2, 0, 4, 1, 3])),
    );
    assert_eq!(one, two);
    let types: Vec<&str> = one.iter().map(|c| c.type_.as_str()).collect();
    let rank = |t: &str| {
        [
            "ClaimPhase",
            "Bound",
            "VolumePhase",
            "Attached",
            "PodPhase",
            "PodReady",
            "ProblemGone",
            "ProblemNew",
        ]
        .iter()
        .position(|x| *x == t)
        .unwrap_or(usize::MAX)
    };
    let mut sorted = types.clone();
    sorted.sort_by_key(|t| rank(t));
    assert_eq!(
        types, sorted,
        "claims, volumes, attachments, pods, problems"
    );
    assert!(
        types.contains(&"Attached") && types.contains(&"PodReady"),
        "{types:?}"
    );
}

#[test]
fn a_target_is_followed_and_objects_outside_it_are_not() {
    let other = r#"
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: other, namespace: ns}
spec: {accessModes: [ReadWriteOnce], storageClassName: manual, resources: {requests: {storage: 1Gi}}}
status: {phase: Pending}
"#;
    let before = state_of(&format!("{}{other}", bound()), &["pvc/data"]);
    let after = state_of(
        &format!("{}{}", bound(), other.replace("Pending", "Lost")),
        &["pvc/data"],
    );
    assert!(changes(&before, &after).is_empty());
    let whole = |y: &str| state_of(y, &[]);
    let b = brief(&changes(
        &whole(&format!("{}{other}", bound())),
        &whole(&format!("{}{}", bound(), other.replace("Pending", "Lost"))),
    ));
    assert!(b.contains(&("ClaimPhase", "other".into(), None, s("Pending"), s("Lost"))));
}

#[test]
fn lines_escape_object_text_and_json_lines_have_the_schema() {
    let c = Change {
        type_: ChangeType::Resize,
        object: ObjectRef::new("PersistentVolumeClaim", Some("ns"), "data"),
        field: Some("condition Resizing".into()),
        from: None,
        to: Some("True".into()),
        severity: None,
        code: None,
        message: "evil\x1b[31m\nnext".into(),
    };
    let human = human_line("2026-01-01T00:00:00.000Z", &c);
    assert!(!human.chars().any(char::is_control), "{human:?}");
    assert_eq!(
        human,
        "2026-01-01T00:00:00.000Z  Resize       PersistentVolumeClaim/data -n ns  condition Resizing: (none) → True (evil\\x1b[31m\\x0anext)"
    );
    let line = json_line("2026-01-01T00:00:00.000Z", &c);
    assert!(!line.contains('\n'));
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["time"], "2026-01-01T00:00:00.000Z");
    assert_eq!(v["type"], "Resize");
    assert_eq!(v["object"]["kind"], "PersistentVolumeClaim");
    assert_eq!(v["object"]["namespace"], "ns");
    assert_eq!(v["field"], "condition Resizing");
    assert!(v["from"].is_null());
    assert_eq!(v["to"], "True");
    assert_eq!(v["message"], "evil\x1b[31m\nnext");
    assert!(v.get("severity").is_none() && v.get("code").is_none());
    assert!(
        line.starts_with(r#"{"time":"2026-01-01T00:00:00.000Z","type":"Resize","object":"#),
        "{line}"
    );
}

#[test]
fn problems_keeps_every_object_change_and_the_serious_problem_lines() {
    let pending = format!(
        "{CLASS}{}{}",
        claim("Pending", None, ""),
        volume("Available", false)
    );
    let all = changes(&state(&pending), &state(&bound()));
    assert!(
        all.iter().any(|c| c.severity == Some(Severity::Info)),
        "{all:#?}"
    );
    assert_eq!(problems_at_least(all.clone(), None), all);
    let kept = problems_at_least(all.clone(), Some(Severity::Warning));
    assert!(
        kept.iter()
            .all(|c| c.severity.is_none_or(|s| s >= Severity::Warning))
    );
    assert_eq!(
        kept.iter().filter(|c| c.severity.is_none()).count(),
        all.iter().filter(|c| c.severity.is_none()).count(),
        "object changes are all kept"
    );
}
