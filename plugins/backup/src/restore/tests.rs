//! Unit tests of the restore plans, on a small namespace: a PostgreSQL StatefulSet with two
//! pods and their claims, a backups claim in use on another node, a dump Job, a CronJob's
//! Job, a ready VolumeSnapshot of ordinal 1's claim, its class and a StorageClass.

use std::time::Duration;

use super::claim::{ANNOTATION_RESTORE_REPLICAS, ReplaceStep};
use super::*;
use crate::dump::DumpEngine;
use stateful_core::snapshot::{Gap, parse_dump_into};

const NS: &str = r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: t}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: db
        image: postgres:16
        env:
        - {name: POSTGRES_PASSWORD, valueFrom: {secretKeyRef: {name: db-secret, key: password}}}
        - {name: POSTGRES_DB, value: todo}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], storageClassName: fast, resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: db-0, namespace: t, labels: {app: db}, ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: u1}]}
spec: {nodeName: node-1, hostname: db-0, subdomain: db, containers: [{name: db, image: postgres:16}]}
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db-1, namespace: t, labels: {app: db}, ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: u1}]}
spec: {nodeName: node-1, hostname: db-1, subdomain: db, containers: [{name: db, image: postgres:16}]}
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: reader, namespace: t}
spec:
  nodeName: node-2
  containers: [{name: c, image: busybox}]
  volumes: [{name: b, persistentVolumeClaim: {claimName: backups}}]
status: {phase: Running}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: backups, namespace: t}
spec: {accessModes: [ReadWriteOnce], volumeName: pv-b}
status: {phase: Bound}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-db-0, namespace: t}
spec: {accessModes: [ReadWriteOnce], storageClassName: fast, volumeName: pv-0, resources: {requests: {storage: 1Gi}}}
status: {phase: Bound}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-db-1, namespace: t}
spec: {accessModes: [ReadWriteOnce], storageClassName: fast, volumeName: pv-1, resources: {requests: {storage: 1Gi}}}
status: {phase: Bound}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-0}
spec: {persistentVolumeReclaimPolicy: Delete, claimRef: {namespace: t, name: data-db-0}, csi: {driver: x.csi, volumeHandle: h0}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-1}
spec: {persistentVolumeReclaimPolicy: Delete, claimRef: {namespace: t, name: data-db-1}, csi: {driver: x.csi, volumeHandle: h1}}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: fast, annotations: {storageclass.kubernetes.io/is-default-class: "true"}}
provisioner: x.csi
volumeBindingMode: Immediate
---
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshotClass
metadata: {name: snaps}
driver: x.csi
deletionPolicy: Delete
---
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata: {name: snap-1, namespace: t}
spec: {volumeSnapshotClassName: snaps, source: {persistentVolumeClaimName: data-db-1}}
status: {readyToUse: true, restoreSize: 2Gi, boundVolumeSnapshotContentName: c1, creationTime: "2026-11-23T00:00:00Z"}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: db-dump-1
  namespace: t
  labels: {app.kubernetes.io/managed-by: kubectl-stateful, kubectl-stateful.io/method: dump, kubectl-stateful.io/engine: postgres, kubectl-stateful.io/target-kind: sts, kubectl-stateful.io/target-name: db}
  annotations: {kubectl-stateful.io/destination: "pvc/backups:/backup/db-20261123010203.dump"}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: backup, image: postgres:16}]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: nightly-123
  namespace: t
  ownerReferences: [{apiVersion: batch/v1, kind: CronJob, name: nightly, uid: u2}]
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: backup, image: postgres:16}]
"#;

fn snap_of(yaml: &str) -> Snapshot {
    let mut s = Snapshot::default();
    parse_dump_into(&mut s, std::path::Path::new("t.yaml"), yaml).unwrap();
    s
}

fn now() -> jiff::Timestamp {
    "2026-11-24T01:02:03Z".parse().unwrap()
}

fn req(
    source: &str,
    path: Option<&str>,
    to: Option<&str>,
    replace: Option<(&str, u32)>,
) -> RestoreRequest {
    RestoreRequest {
        source: RestoreSource::parse(source, path).unwrap(),
        target: RestoreTarget::parse(
            to,
            replace.map(|r| format!("sts/{}", r.0)).as_deref(),
            replace.map(|r| r.1),
        )
        .unwrap(),
        name: None,
        engine: None,
        image: None,
        container: None,
        database: None,
        storage_class: None,
        size: None,
        template: None,
        timeout: Duration::from_secs(600),
    }
}

fn code(e: Error) -> i32 {
    e.exit_code().code()
}

#[test]
fn sources_and_targets_are_checked_before_loading() {
    assert_eq!(
        RestoreSource::parse("pvc/b", Some("/backup/x/y.dump")).unwrap(),
        RestoreSource::File {
            claim: "b".into(),
            path: "x/y.dump".into()
        }
    );
    assert_eq!(
        RestoreSource::parse("volumesnapshot/s1", None).unwrap(),
        RestoreSource::Snapshot { name: "s1".into() }
    );
    for (src, path) in [
        ("pvc/b", None),
        ("pvc/b", Some("../etc/passwd")),
        ("pvc/b", Some("a/../../x")),
        ("pvc/b", Some("x\n.dump")),
        ("pvc/b", Some("")),
        ("db-dump-1", Some("x.dump")),
        ("Bad_Name", None),
        ("sts/db", None),
    ] {
        let e = RestoreSource::parse(src, path).unwrap_err();
        assert_eq!(code(e), 2, "{src} {path:?}");
    }
    assert!(matches!(
        RestoreTarget::parse(Some("pvc/new"), None, None).unwrap(),
        RestoreTarget::NewClaim { .. }
    ));
    for (to, replace, ord) in [
        (None, None, None),
        (Some("cronjob/x"), None, None),
        (Some("sts/db"), Some("sts/db"), Some(0)),
        (None, Some("deploy/db"), Some(0)),
        (None, Some("sts/db"), None),
        (Some("sts/db"), None, Some(1)),
        (Some("sts/DB"), None, None),
    ] {
        let e = RestoreTarget::parse(to, replace, ord).unwrap_err();
        assert_eq!(code(e), 2, "{to:?} {replace:?}");
    }
    let mut r = req("volumesnapshot/snap-1", None, Some("sts/db"), None);
    assert_eq!(code(r.validate().unwrap_err()), 2);
    r = req("db-dump-1", None, Some("sts/db"), None);
    r.database = Some("todo; drop".into());
    assert_eq!(code(r.validate().unwrap_err()), 2);
}

#[test]
fn a_dump_restores_into_the_primary_read_only_and_pinned() {
    let s = snap_of(NS);
    let p = plan(
        &s,
        "t",
        &req("db-dump-1", None, Some("sts/db"), None),
        now(),
    )
    .unwrap();
    assert!(matches!(p.kind, RestoreKind::DumpJob));
    assert_eq!(p.name, "db-restore-20261124010203");
    let job = p.objects.job.as_ref().unwrap();
    let spec = job.spec.as_ref().unwrap();
    assert_eq!(spec.backoff_limit, Some(0));
    assert_eq!(spec.active_deadline_seconds, Some(600));
    let pod = spec.template.spec.as_ref().unwrap();
    let c = &pod.containers[0];
    assert_eq!(c.image.as_deref(), Some("postgres:16"));
    let cmd = c.command.as_ref().unwrap();
    assert_eq!(cmd[2], Engine::Postgres.restore_script());
    let env: std::collections::BTreeMap<_, _> = c
        .env
        .iter()
        .flatten()
        .map(|e| (e.name.as_str(), e))
        .collect();
    assert_eq!(
        env["BACKUP_HOST"].value.as_deref(),
        Some("db-0.db.t.svc.cluster.local"),
        "the primary, not a replica"
    );
    assert_eq!(
        env["BACKUP_FILE"].value.as_deref(),
        Some("db-20261123010203.dump")
    );
    let pw = env["POSTGRES_PASSWORD"];
    assert!(pw.value.is_none() && pw.value_from.as_ref().unwrap().secret_key_ref.is_some());
    let mount = c
        .volume_mounts
        .iter()
        .flatten()
        .find(|m| m.mount_path == "/backup")
        .unwrap();
    assert_eq!(mount.read_only, Some(true));
    let vol = pod
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name == "backup")
        .unwrap();
    let src = vol.persistent_volume_claim.as_ref().unwrap();
    assert_eq!(
        (src.claim_name.as_str(), src.read_only),
        ("backups", Some(true))
    );
    let term = &pod
        .affinity
        .as_ref()
        .unwrap()
        .node_affinity
        .as_ref()
        .unwrap()
        .required_during_scheduling_ignored_during_execution
        .as_ref()
        .unwrap()
        .node_selector_terms[0];
    assert_eq!(
        term.match_fields.as_ref().unwrap()[0].values,
        Some(vec!["node-2".to_string()])
    );
    let labels = job.metadata.labels.as_ref().unwrap();
    assert_eq!(labels[crate::LABEL_METHOD], "restore");
    assert_eq!(labels[crate::LABEL_TARGET_NAME], "db");
    assert_eq!(p.lock.display(), "sts/db");
    assert!(
        p.overwrites[0].contains("database todo"),
        "{:?}",
        p.overwrites
    );
    assert!(p.text().contains("Overwrites:"));
    // The same file named directly.
    let p2 = plan(
        &s,
        "t",
        &req(
            "pvc/backups",
            Some("db-20261123010203.dump"),
            Some("sts/db"),
            None,
        ),
        now(),
    )
    .unwrap();
    let j2 = p2.objects.job.unwrap();
    assert_eq!(
        serde_json::to_value(&j2.spec).unwrap(),
        serde_json::to_value(&job.spec).unwrap()
    );
}

#[test]
fn sources_that_are_not_dumps_are_refused_with_the_reason() {
    let s = snap_of(NS);
    let e = plan(
        &s,
        "t",
        &req("nightly-123", None, Some("sts/db"), None),
        now(),
    )
    .unwrap_err();
    let msg = e.to_string();
    assert_eq!(code(e), 2);
    assert!(msg.contains("CronJob"), "{msg}");
    let e = plan(&s, "t", &req("nope", None, Some("sts/db"), None), now()).unwrap_err();
    assert_eq!(code(e), 3);
    let e = plan(
        &s,
        "t",
        &req("pvc/none", Some("x.dump"), Some("sts/db"), None),
        now(),
    );
    assert_eq!(code(e.unwrap_err()), 3);
    let e = plan(
        &s,
        "t",
        &req("db-dump-1", None, Some("sts/none"), None),
        now(),
    );
    assert_eq!(code(e.unwrap_err()), 3);
    // A MySQL backup into a PostgreSQL server.
    let mysql = NS.replace(
        "kubectl-stateful.io/engine: postgres",
        "kubectl-stateful.io/engine: mysql",
    );
    let e = plan(
        &snap_of(&mysql),
        "t",
        &req("db-dump-1", None, Some("sts/db"), None),
        now(),
    );
    let e = e.unwrap_err();
    assert!(e.to_string().contains("mysql dump"), "{e}");
    // A refused list is exit 4, not "not found".
    let mut s = snap_of(NS);
    s.jobs.clear();
    s.gaps.push(Gap {
        kind: Kind::Job,
        verb: "list".into(),
        resource: "jobs.batch".into(),
        namespace: Some("t".into()),
        reason: GapReason::Forbidden,
        message: "no".into(),
    });
    let e = plan(
        &s,
        "t",
        &req("db-dump-1", None, Some("sts/db"), None),
        now(),
    );
    assert_eq!(code(e.unwrap_err()), 4);
}

#[test]
fn redis_seeds_a_new_claim_and_never_touches_the_server() {
    let redis = NS
        .replace("postgres:16", "redis:7")
        .replace(
            "kubectl-stateful.io/engine: postgres",
            "kubectl-stateful.io/engine: redis",
        )
        .replace("db-20261123010203.dump", "db-20261123010203.rdb");
    let s = snap_of(&redis);
    let p = plan(
        &s,
        "t",
        &req("db-dump-1", None, Some("sts/db"), None),
        now(),
    )
    .unwrap();
    let RestoreKind::SeedClaim { claim } = &p.kind else {
        panic!("{:?}", p.kind)
    };
    let pvc = p.objects.pvc.as_ref().unwrap();
    let spec = pvc.spec.as_ref().unwrap();
    assert_eq!(spec.storage_class_name.as_deref(), Some("fast"));
    assert_eq!(
        spec.resources.as_ref().unwrap().requests.as_ref().unwrap()["storage"].0,
        "1Gi"
    );
    let job = p.objects.job.as_ref().unwrap();
    let pod = job.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
    let c = &pod.containers[0];
    assert!(
        c.env.iter().flatten().all(|e| e.name != "BACKUP_HOST"),
        "no connection to the running server"
    );
    assert!(pod.volumes.iter().flatten().any(|v| {
        v.persistent_volume_claim
            .as_ref()
            .is_some_and(|c| c.claim_name == *claim)
    }));
    assert!(p.overwrites.is_empty());
    let hint = job::adopt_hint(&p).unwrap();
    assert!(hint.contains("--replace sts/db --ordinal 0"), "{hint}");
    // Into a new claim, the size must be said.
    let mut r = req("db-dump-1", None, Some("pvc/seeded"), None);
    assert_eq!(code(plan(&s, "t", &r, now()).unwrap_err()), 2);
    r.size = Some("2Gi".into());
    let p = plan(&s, "t", &r, now()).unwrap();
    assert_eq!(
        p.objects.pvc.unwrap().metadata.name.as_deref(),
        Some("seeded")
    );
    // An existing claim is never written to.
    r.target = RestoreTarget::NewClaim {
        name: "data-db-0".into(),
    };
    assert_eq!(code(plan(&s, "t", &r, now()).unwrap_err()), 5);
    // A PostgreSQL dump does not go into a claim.
    let e = plan(
        &snap_of(NS),
        "t",
        &req("db-dump-1", None, Some("pvc/x"), None),
        now(),
    );
    assert_eq!(code(e.unwrap_err()), 2);
}

#[test]
fn a_snapshot_becomes_a_new_claim_at_least_its_restore_size() {
    let s = snap_of(NS);
    let p = plan(
        &s,
        "t",
        &req("volumesnapshot/snap-1", None, Some("pvc/restored"), None),
        now(),
    )
    .unwrap();
    let pvc = p.objects.pvc.as_ref().unwrap();
    let spec = pvc.spec.as_ref().unwrap();
    let ds = spec.data_source.as_ref().unwrap();
    assert_eq!(
        (ds.api_group.as_deref(), ds.kind.as_str(), ds.name.as_str()),
        (Some("snapshot.storage.k8s.io"), "VolumeSnapshot", "snap-1")
    );
    assert_eq!(
        spec.resources.as_ref().unwrap().requests.as_ref().unwrap()["storage"].0,
        "2Gi"
    );
    assert_eq!(spec.storage_class_name.as_deref(), Some("fast"));
    assert!(matches!(
        p.kind,
        RestoreKind::SnapshotClaim {
            wait_for_consumer: false,
            ..
        }
    ));
    // The same snapshot named as a backup.
    assert!(
        plan(
            &s,
            "t",
            &req("snap-1", None, Some("pvc/restored"), None),
            now()
        )
        .is_ok()
    );
    let mut r = req("volumesnapshot/snap-1", None, Some("pvc/restored"), None);
    r.size = Some("1Gi".into());
    assert_eq!(code(plan(&s, "t", &r, now()).unwrap_err()), 2);
    // Not ready yet, or failed: exit 5 with the reason.
    let pending = NS.replace("readyToUse: true", "readyToUse: false");
    let e = plan(
        &snap_of(&pending),
        "t",
        &req("volumesnapshot/snap-1", None, Some("pvc/r"), None),
        now(),
    );
    let e = e.unwrap_err();
    assert!(e.to_string().contains("not ready"), "{e}");
    assert_eq!(code(e), 5);
    // The class from the snapshot's driver when the source claim is gone.
    let gone = NS.replace("name: data-db-1, namespace: t", "name: other, namespace: t");
    let p = plan(
        &snap_of(&gone),
        "t",
        &req("volumesnapshot/snap-1", None, Some("pvc/r"), None),
        now(),
    )
    .unwrap();
    assert_eq!(
        p.objects
            .pvc
            .unwrap()
            .spec
            .unwrap()
            .storage_class_name
            .as_deref(),
        Some("fast")
    );
    // A re-run: the claim made from this snapshot is skipped; another claim is refused.
    let mut again = snap_of(NS);
    let mut made = plan(
        &s,
        "t",
        &req("volumesnapshot/snap-1", None, Some("pvc/restored"), None),
        now(),
    )
    .unwrap()
    .objects
    .pvc
    .unwrap();
    made.status = None;
    again.pvcs.push(made);
    let p = plan(
        &again,
        "t",
        &req("volumesnapshot/snap-1", None, Some("pvc/restored"), None),
        now(),
    )
    .unwrap();
    assert!(p.objects.pvc.is_none() && !p.skipped.is_empty());
    let e = plan(
        &s,
        "t",
        &req("volumesnapshot/snap-1", None, Some("pvc/data-db-0"), None),
        now(),
    );
    assert_eq!(code(e.unwrap_err()), 5);
}

fn steps(p: &RestorePlan) -> (Vec<ReplaceStep>, Vec<ReplaceStep>) {
    match &p.kind {
        RestoreKind::Replace(r) => (r.steps.clone(), r.done.clone()),
        k => panic!("{k:?}"),
    }
}

#[test]
fn replace_keeps_the_old_volume_and_stops_only_what_it_must() {
    let s = snap_of(NS);
    let r = req("volumesnapshot/snap-1", None, None, Some(("db", 1)));
    let p = plan(&s, "t", &r, now()).unwrap();
    let (todo, done) = steps(&p);
    assert!(done.is_empty());
    assert_eq!(
        todo,
        vec![
            ReplaceStep::RetainVolume {
                volume: "pv-1".into(),
                was: "Delete".into()
            },
            ReplaceStep::ScaleDown { from: 2, to: 1 },
            ReplaceStep::WaitPodGone { pod: "db-1".into() },
            ReplaceStep::DeleteClaim {
                claim: "data-db-1".into()
            },
            ReplaceStep::CreateClaim {
                claim: "data-db-1".into()
            },
            ReplaceStep::ScaleUp { to: 2 },
            ReplaceStep::Verify {
                pod: "db-1".into(),
                claim: "data-db-1".into()
            },
        ]
    );
    let RestoreKind::Replace(rp) = &p.kind else {
        unreachable!()
    };
    assert_eq!(rp.stops, vec!["db-1"]);
    let labels = rp.new_claim.metadata.labels.as_ref().unwrap();
    assert_eq!(labels["app"], "db");
    assert!(rp.return_hint("t").contains("pv/pv-1"));
    assert!(p.text().contains("Retain"));
    // Ordinal 0 stops every pod, and says so.
    let p0 = plan(
        &s,
        "t",
        &req("volumesnapshot/snap-1", None, None, Some(("db", 0))),
        now(),
    )
    .unwrap();
    assert!(
        p0.overwrites.iter().any(|o| o.contains("db-0, db-1")),
        "{:?}",
        p0.overwrites
    );
    // No such ordinal; a StatefulSet that deletes claims when scaled down.
    let e = plan(
        &s,
        "t",
        &req("volumesnapshot/snap-1", None, None, Some(("db", 2))),
        now(),
    );
    assert_eq!(code(e.unwrap_err()), 2);
    let deleting = NS.replace(
        "  serviceName: db\n",
        "  serviceName: db\n  persistentVolumeClaimRetentionPolicy: {whenScaled: Delete}\n",
    );
    let e = plan(&snap_of(&deleting), "t", &r, now()).unwrap_err();
    assert!(e.to_string().contains("whenScaled"), "{e}");
    assert_eq!(code(e), 5);
}

#[test]
fn replace_converges_after_an_interruption_and_when_done() {
    // Interrupted after the claim was deleted: scaled down (annotated), volume Released.
    let cut = NS
        .replace(
            "  serviceName: db\n  replicas: 2\n",
            "  serviceName: db\n  replicas: 1\n",
        )
        .replace(
            "metadata: {name: db, namespace: t}\nspec:\n  serviceName",
            &format!(
                "metadata: {{name: db, namespace: t, annotations: {{{ANNOTATION_RESTORE_REPLICAS}: \"2\"}}}}\nspec:\n  serviceName"
            ),
        )
        .replace(
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data-db-1, namespace: t}\nspec: {accessModes: [ReadWriteOnce], storageClassName: fast, volumeName: pv-1, resources: {requests: {storage: 1Gi}}}\nstatus: {phase: Bound}\n---\n",
            "",
        )
        .replace(
            "spec: {persistentVolumeReclaimPolicy: Delete, claimRef: {namespace: t, name: data-db-1}",
            "spec: {persistentVolumeReclaimPolicy: Retain, claimRef: {namespace: t, name: data-db-1}",
        );
    let s = snap_of(&cut);
    assert!(
        s.pvcs
            .iter()
            .all(|p| p.metadata.name.as_deref() != Some("data-db-1"))
    );
    let r = req("volumesnapshot/snap-1", None, None, Some(("db", 1)));
    let p = plan(&s, "t", &r, now()).unwrap();
    let (todo, done) = steps(&p);
    let kinds: Vec<&str> = todo
        .iter()
        .map(|s| match s {
            ReplaceStep::RetainVolume { .. } => "retain",
            ReplaceStep::ScaleDown { .. } => "down",
            ReplaceStep::WaitPodGone { .. } => "gone",
            ReplaceStep::DeleteClaim { .. } => "delete",
            ReplaceStep::CreateClaim { .. } => "create",
            ReplaceStep::ScaleUp { .. } => "up",
            ReplaceStep::Verify { .. } => "verify",
        })
        .collect();
    assert_eq!(kinds, ["gone", "create", "up", "verify"]);
    assert_eq!(done.len(), 3, "{done:?}");
    let RestoreKind::Replace(rp) = &p.kind else {
        unreachable!()
    };
    assert_eq!(rp.old_volume.as_deref(), Some("pv-1"));
    assert_eq!(rp.replicas, 2);
    assert!(!p.skipped.is_empty());
    // Done: the claim is from the snapshot, the StatefulSet back to 2 replicas.
    let mut fin = snap_of(NS);
    let mut made = rp.new_claim.clone();
    made.status = None;
    fin.pvcs
        .retain(|c| c.metadata.name.as_deref() != Some("data-db-1"));
    fin.pvcs.push(made);
    let p = plan(&fin, "t", &r, now()).unwrap();
    assert!(p.is_done(), "{:?}", steps(&p));
    assert!(p.objects.pvc.is_none());
}
