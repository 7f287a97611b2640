//! Tests of the verify builder: the Job's shape, snapshots' verdicts, what cannot be verified.

use super::*;

const SECRET: &str = "Pl4nted-S3cret-Value";
const SHA: &str = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881";

fn snap(yaml: &str) -> Snapshot {
    let mut s = Snapshot::default();
    stateful_core::snapshot::parse_dump_into(&mut s, std::path::Path::new("t.yaml"), yaml).unwrap();
    s
}

fn now() -> jiff::Timestamp {
    "2026-11-23T02:00:00Z".parse().unwrap()
}

/// A succeeded postgres dump Job `db-dump-1` to the RWO claim `backups`, mounted by pod
/// `db-0` on node n1; `{ENGINE}`, `{ENV}` and `{EXTRA}` (more documents) are replaced.
const BASE: &str = r#"
apiVersion: batch/v1
kind: Job
metadata:
  name: db-dump-1
  namespace: t
  labels: {app.kubernetes.io/managed-by: kubectl-stateful, kubectl-stateful.io/target-kind: sts, kubectl-stateful.io/target-name: db, kubectl-stateful.io/engine: {ENGINE}, kubectl-stateful.io/method: dump, kubectl-stateful.io/trigger: manual}
  annotations: {kubectl-stateful.io/source: "db-0.db.t.svc.cluster.local:5432", kubectl-stateful.io/destination: "pvc/backups:/backup/db-20261123010203.dump", kubectl-stateful.io/sha256: SHA}
spec:
  template:
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 70, runAsGroup: 70, fsGroup: 70}
      imagePullSecrets: [{name: regcred}]
      containers:
      - name: backup
        image: registry.example/postgres:16
        command: [sh, -c, "true"]
        env: {ENV}
status:
  conditions: [{type: Complete, status: "True"}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: backups, namespace: t}
spec: {accessModes: [ReadWriteOnce]}
status: {phase: Bound}
---
apiVersion: v1
kind: Pod
metadata: {name: db-0, namespace: t}
spec:
  nodeName: n1
  tolerations: [{key: dedicated, operator: Equal, value: db, effect: NoSchedule}]
  containers: [{name: db, image: postgres:16}]
  volumes: [{name: b, persistentVolumeClaim: {claimName: backups}}]
status: {phase: Running}
{EXTRA}
"#;

const PG_ENV: &str = r#"[{name: BACKUP_HOST, value: db-0.db.t.svc.cluster.local}, {name: BACKUP_PORT, value: "5432"}, {name: BACKUP_DIR, value: /backup}, {name: BACKUP_FILE, value: db-20261123010203.dump}, {name: POSTGRES_PASSWORD, valueFrom: {secretKeyRef: {name: db-secret, key: password}}}, {name: PGPASSWORD, value: SECRET}]"#;

fn fixture(engine: &str, env: &str, extra: &str) -> Snapshot {
    snap(
        &BASE
            .replace("{ENGINE}", engine)
            .replace("{ENV}", &env.replace("SECRET", SECRET))
            .replace("SHA", SHA)
            .replace("{EXTRA}", extra),
    )
}

fn job_plan(s: &Snapshot, name: &str) -> VerifyJob {
    match plan_verify(s, "t", name, Duration::from_secs(600), now()).unwrap() {
        VerifyPlan::Job(j) => *j,
        VerifyPlan::Snapshot(v) => panic!("{v:?}"),
    }
}

fn env_of(job: &Job) -> Vec<(String, Option<String>)> {
    crate::dump::pod_spec(job).unwrap().containers[0]
        .env
        .iter()
        .flatten()
        .map(|e| (e.name.clone(), e.value.clone()))
        .collect()
}

#[test]
fn a_dump_is_verified_by_a_read_only_job_on_the_claims_node() {
    let s = fixture("postgres", PG_ENV, "");
    let v = job_plan(&s, "db-dump-1");
    assert_eq!(
        (v.engine, v.claim.as_str(), v.file.as_str()),
        (Engine::Postgres, "backups", "db-20261123010203.dump")
    );
    assert_eq!(v.sha256.as_deref(), Some(SHA));
    let job = &v.job;
    let name = job.metadata.name.as_deref().unwrap();
    assert_eq!(name, "db-dump-1-verify-20261123020000");
    let labels = job.metadata.labels.as_ref().unwrap();
    for (k, want) in [
        (LABEL_MANAGED_BY, "kubectl-stateful"),
        (LABEL_METHOD, "verify"),
        (LABEL_TARGET_KIND, "sts"),
        (LABEL_TARGET_NAME, "db"),
        (LABEL_ENGINE, "postgres"),
        (LABEL_TRIGGER, "manual"),
    ] {
        assert_eq!(labels.get(k).map(String::as_str), Some(want), "{k}");
    }
    let spec = job.spec.as_ref().unwrap();
    assert_eq!(spec.active_deadline_seconds, Some(600));
    let pod = spec.template.spec.as_ref().unwrap();
    let c = &pod.containers[0];
    assert_eq!(c.image.as_deref(), Some("registry.example/postgres:16"));
    assert_eq!(
        c.command.as_ref().unwrap()[2],
        Engine::Postgres.verify_script()
    );
    // The claim read-only, in the mount and in the volume.
    let mount = c
        .volume_mounts
        .iter()
        .flatten()
        .find(|m| m.mount_path == BACKUP_DIR)
        .unwrap();
    assert_eq!(mount.read_only, Some(true));
    let vol = pod
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name == mount.name)
        .unwrap();
    let pvc = vol.persistent_volume_claim.as_ref().unwrap();
    assert_eq!(
        (pvc.claim_name.as_str(), pvc.read_only),
        ("backups", Some(true))
    );
    // Pinned to db-0's node, with its tolerations.
    let terms = &pod
        .affinity
        .as_ref()
        .unwrap()
        .node_affinity
        .as_ref()
        .unwrap()
        .required_during_scheduling_ignored_during_execution
        .as_ref()
        .unwrap()
        .node_selector_terms;
    let f = &terms[0].match_fields.as_ref().unwrap()[0];
    assert_eq!(
        (f.key.as_str(), f.values.as_deref()),
        ("metadata.name", Some(&["n1".to_string()][..]))
    );
    assert_eq!(
        pod.tolerations.as_ref().unwrap()[0].key.as_deref(),
        Some("dedicated")
    );
    assert!(
        v.warnings
            .iter()
            .any(|w| w.contains("pinning the Job to node n1"))
    );
    // The dump's user, non-root, locked down like the dump Job.
    let sc = pod.security_context.as_ref().unwrap();
    assert_eq!((sc.run_as_user, sc.run_as_non_root), (Some(70), Some(true)));
    let csc = c.security_context.as_ref().unwrap();
    assert_eq!(csc.read_only_root_filesystem, Some(true));
    assert_eq!(csc.allow_privilege_escalation, Some(false));
    assert_eq!(pod.automount_service_account_token, Some(false));
    assert_eq!(pod.image_pull_secrets.as_ref().unwrap()[0].name, "regcred");
    // Only where the file is and its checksum: no credentials, no server.
    assert_eq!(
        env_of(job),
        [
            ("BACKUP_DIR".to_string(), Some("/backup".to_string())),
            ("BACKUP_FILE".into(), Some("db-20261123010203.dump".into())),
            ("BACKUP_SHA256".into(), Some(SHA.into())),
        ]
    );
    assert!(c.env_from.is_none());
    let json = serde_json::to_string(job).unwrap();
    assert!(!json.contains(SECRET), "{json}");
}

#[test]
fn a_long_name_is_shortened_and_a_shared_claim_is_not_pinned() {
    let long = "d".repeat(60);
    let s = fixture("postgres", PG_ENV, "");
    let mut s2 = s.clone();
    s2.jobs[0].metadata.name = Some(long.clone());
    let v = job_plan(&s2, &long);
    let name = v.job.metadata.name.clone().unwrap();
    assert!(name.len() <= 63, "{name}");
    assert!(name.ends_with("-verify-20261123020000"), "{name}");
    assert!(stateful_core::names::validate_dns1123_label(&name).is_ok());
    // ReadWriteMany: no pin; the dump Job's tolerations kept.
    let mut s3 = s;
    s3.pvcs[0].spec.as_mut().unwrap().access_modes = Some(vec!["ReadWriteMany".into()]);
    let v = job_plan(&s3, "db-dump-1");
    let pod = v.job.spec.unwrap().template.spec.unwrap();
    assert!(pod.affinity.is_none());
}

#[test]
fn mongodb_verify_gets_the_server_and_credential_references_but_no_literal_secret() {
    let env = r#"[{name: BACKUP_HOST, value: db-0.db.t.svc.cluster.local}, {name: BACKUP_PORT, value: "27017"}, {name: BACKUP_DIR, value: /backup}, {name: BACKUP_FILE, value: db-20261123010203.dump}, {name: MONGO_INITDB_ROOT_USERNAME, value: admin}, {name: MONGO_INITDB_ROOT_PASSWORD, value: SECRET}, {name: OTHER, value: x}]"#;
    let s = fixture("mongodb", env, "");
    let v = job_plan(&s, "db-dump-1");
    let names: Vec<String> = env_of(&v.job).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "BACKUP_DIR",
            "BACKUP_FILE",
            "BACKUP_SHA256",
            "BACKUP_HOST",
            "BACKUP_PORT",
            "MONGO_INITDB_ROOT_USERNAME"
        ]
    );
    assert!(
        v.warnings
            .iter()
            .any(|w| w.contains("MONGO_INITDB_ROOT_PASSWORD as a literal"))
    );
    assert!(!serde_json::to_string(&v.job).unwrap().contains(SECRET));
}

#[test]
fn what_cannot_be_verified_says_why_with_its_exit_code() {
    let s = fixture("postgres", PG_ENV, "");
    let code = |s: &Snapshot, name: &str| {
        let e = plan_verify(s, "t", name, Duration::from_secs(60), now()).unwrap_err();
        (e.exit_code().code(), e.to_string())
    };
    // Missing: 3, in another namespace too.
    assert_eq!(code(&s, "nope").0, 3);
    assert_eq!(
        plan_verify(&s, "other", "db-dump-1", Duration::ZERO, now())
            .unwrap_err()
            .exit_code()
            .code(),
        3
    );
    // A Job with no labels of ours and no CronJob: not a backup.
    let mut plain = s.clone();
    plain.jobs[0].metadata.labels = None;
    assert_eq!(code(&plain, "db-dump-1").0, 3);
    // A CronJob's run: no known artifact.
    let mut cj = plain.clone();
    cj.jobs[0].metadata.owner_references = Some(vec![
        k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            kind: "CronJob".into(),
            name: "nightly".into(),
            api_version: "batch/v1".into(),
            uid: "u".into(),
            controller: Some(true),
            ..Default::default()
        },
    ]);
    let (c, m) = code(&cj, "db-dump-1");
    assert_eq!(c, 5);
    assert!(
        m.contains("CronJob nightly") && m.contains("no known artifact"),
        "{m}"
    );
    // A dump still running, or failed: 5.
    let mut running = s.clone();
    running.jobs[0].status = None;
    let (c, m) = code(&running, "db-dump-1");
    assert_eq!(c, 5);
    assert!(m.contains("is Pending"), "{m}");
    // A verify Job is not a backup: 2.
    let mut vj = s.clone();
    vj.jobs[0]
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert(LABEL_METHOD.into(), METHOD_VERIFY.into());
    assert_eq!(code(&vj, "db-dump-1").0, 2);
    // Its claim gone: 3; a bad destination or engine: 5.
    let mut noclaim = s.clone();
    noclaim.pvcs.clear();
    let (c, m) = code(&noclaim, "db-dump-1");
    assert_eq!(c, 3, "{m}");
    assert!(m.contains("backups"), "{m}");
    let mut bad = s.clone();
    bad.jobs[0]
        .metadata
        .annotations
        .as_mut()
        .unwrap()
        .insert(ANNOTATION_DESTINATION.into(), "/backup/x".into());
    assert_eq!(code(&bad, "db-dump-1").0, 5);
    let mut eng = s.clone();
    eng.jobs[0]
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert(LABEL_ENGINE.into(), "oracle".into());
    let (c, m) = code(&eng, "db-dump-1");
    assert_eq!(c, 5);
    assert!(m.contains("oracle"), "{m}");
    // Jobs not listable: 4, not "not found".
    let mut forbidden = Snapshot::default();
    forbidden.gaps.push(stateful_core::snapshot::Gap {
        kind: Kind::Job,
        verb: "list".into(),
        resource: "jobs".into(),
        namespace: Some("t".into()),
        reason: GapReason::Forbidden,
        message: "no".into(),
    });
    assert_eq!(code(&forbidden, "db-dump-1").0, 4);
}

#[test]
fn a_bad_sha256_annotation_is_a_warning_and_not_passed_on() {
    let mut s = fixture("postgres", PG_ENV, "");
    s.jobs[0]
        .metadata
        .annotations
        .as_mut()
        .unwrap()
        .insert(ANNOTATION_SHA256.into(), "not-a-sum; rm -rf /".into());
    let v = job_plan(&s, "db-dump-1");
    assert_eq!(v.sha256, None);
    assert!(v.warnings.iter().any(|w| w.contains("is not a sha256")));
    assert!(!env_of(&v.job).iter().any(|(n, _)| n == "BACKUP_SHA256"));
}

const SNAPSHOT: &str = r#"
---
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata:
  name: data-snap-1
  namespace: t
  labels: {app.kubernetes.io/managed-by: kubectl-stateful, kubectl-stateful.io/method: snapshot}
spec: {source: {persistentVolumeClaimName: data}}
status: {STATUS}
"#;

#[test]
fn a_snapshot_is_verified_from_its_status() {
    let verdict = |status: &str| {
        let s = fixture("postgres", PG_ENV, &SNAPSHOT.replace("{STATUS}", status));
        match plan_verify(&s, "t", "data-snap-1", Duration::ZERO, now()).unwrap() {
            VerifyPlan::Snapshot(v) => v,
            VerifyPlan::Job(_) => panic!("a snapshot needs no Job"),
        }
    };
    let v = verdict(
        "{readyToUse: true, restoreSize: 5Gi, boundVolumeSnapshotContentName: c1, creationTime: '2026-11-23T01:00:00Z'}",
    );
    assert!(v.ok, "{v:?}");
    assert!(v.message.contains("restore size 5Gi"), "{v:?}");
    for (status, says) in [
        (
            "{readyToUse: false, error: {message: quota exceeded}}",
            "quota exceeded",
        ),
        ("{readyToUse: false}", "not ready to use (Pending)"),
        ("{}", "not ready"),
        ("{readyToUse: true}", "no restore size"),
        (
            "{readyToUse: true, restoreSize: 1Gi, error: {message: late failure}}",
            "late failure",
        ),
    ] {
        let v = verdict(status);
        assert!(!v.ok, "{status}");
        assert!(v.message.contains(says), "{status}: {}", v.message);
    }
    // Not ours: not a backup.
    let s = fixture(
        "postgres",
        PG_ENV,
        &SNAPSHOT
            .replace("{STATUS}", "{readyToUse: true}")
            .replace("app.kubernetes.io/managed-by: kubectl-stateful, ", ""),
    );
    let e = plan_verify(&s, "t", "data-snap-1", Duration::ZERO, now()).unwrap_err();
    assert_eq!(e.exit_code().code(), 3);
}

#[test]
fn destinations_and_failure_reasons_parse() {
    assert_eq!(
        parse_destination("pvc/b:/backup/x.dump"),
        Some(("b".into(), "x.dump".into()))
    );
    for bad in [
        "",
        "b:/backup/x",
        "pvc/b",
        "pvc/b:/other/x",
        "pvc/b:/backup/",
        "pvc/b:/backup/../x",
        "pvc/b:/backup/a/b",
        "pvc/b:/backupx",
        "pvc/B_:/backup/x",
        "pvc/:/backup/x",
    ] {
        assert_eq!(parse_destination(bad), None, "{bad}");
    }
    let msg = "job v failed: BackoffLimitExceeded\n  last log lines:\n    kubectl-backup: checking /backup/x (9 bytes, sha256 unknown)\n    kubectl-backup: verify failed: pg_restore --list: input file is too short\n";
    assert_eq!(
        failure_reason(msg),
        Some("pg_restore --list: input file is too short")
    );
    assert_eq!(failure_reason("job v failed: DeadlineExceeded"), None);
}
