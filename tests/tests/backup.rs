//! kubectl backup on the local control plane (kwok completes Job pods; FAIL_ANNOTATION fails
//! them). Every run goes through kubectl's plugin discovery (`kubectl backup ...`).

use std::time::Duration;

use anyhow::{Context, Result};
use e2e::{FAIL_ANNOTATION, TestNs, wait_for};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ListParams, Patch, PatchParams};
use serde_json::{Value, json};

const T: Duration = Duration::from_secs(90);

fn cronjob(name: &str, pod_annotations: Value, pod_extra: Value) -> Value {
    let mut spec = json!({
        "restartPolicy": "Never",
        "containers": [{"name": "backup", "image": "postgres:16",
            "command": ["sh", "-c", "pg_dump -Fc -f /backup/x.dump todo"]}],
    });
    if let (Some(s), Some(extra)) = (spec.as_object_mut(), pod_extra.as_object()) {
        for (k, v) in extra {
            s.insert(k.clone(), v.clone());
        }
    }
    json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {
            "schedule": "0 0 1 1 *",
            "concurrencyPolicy": "Forbid",
            "jobTemplate": {
                "metadata": {"labels": {"app": name}},
                "spec": {"backoffLimit": 0, "template": {
                    "metadata": {"annotations": pod_annotations},
                    "spec": spec,
                }},
            },
        },
    })
}

async fn jobs(ns: &TestNs) -> Result<Vec<Job>> {
    Ok(ns.api::<Job>().list(&ListParams::default()).await?.items)
}

#[tokio::test]
async fn cronjob_run_completes_streams_logs_then_forbid_refuses_and_list_shows_it() -> Result<()> {
    let ns = TestNs::new("backup-cronjob").await?;
    ns.apply(cronjob("todo-db-backup", json!({}), json!({})))
        .await?;

    let out = ns
        .kubectl(&[
            "backup",
            "create",
            "cronjob/todo-db-backup",
            "--name",
            "run-1",
        ])
        .await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "run-1");
    // Progress, then the pod's log (kwok's placeholder line) streamed, then the verdict.
    assert!(out.stderr.contains("pod run-1-"), "{}", out.stderr);
    assert!(
        out.stderr.contains("kwok: no logs configured"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("job run-1 succeeded"), "{}", out.stderr);
    let job = ns.api::<Job>().get("run-1").await?;
    let ann = job.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(ann["cronjob.kubernetes.io/instantiate"], "manual");
    let owner = &job.metadata.owner_references.clone().unwrap_or_default()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.controller),
        ("CronJob", Some(true))
    );

    // A manual run that stays active (its pod cannot be scheduled) blocks the next one.
    ns.apply(cronjob(
        "stuck",
        json!({}),
        json!({"nodeSelector": {"e2e.kubectl-stateful.io/nowhere": "true"}}),
    ))
    .await?;
    let out = ns
        .kubectl(&[
            "backup",
            "create",
            "cronjob/stuck",
            "--name",
            "stuck-1",
            "--no-wait",
        ])
        .await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "stuck-1");
    let before = jobs(&ns).await?.len();
    let out = ns.kubectl(&["backup", "create", "cronjob/stuck"]).await?;
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(out.stderr.contains("stuck-1"), "{}", out.stderr);
    assert_eq!(
        jobs(&ns).await?.len(),
        before,
        "a refused run created a job"
    );
    // --force starts it anyway.
    let out = ns
        .kubectl(&[
            "backup",
            "create",
            "cronjob/stuck",
            "--force",
            "--name",
            "stuck-2",
            "--no-wait",
        ])
        .await?;
    assert_eq!(out.code, 0, "{}", out.stderr);

    // list: ours, with target, method and status.
    let out = ns.kubectl(&["backup", "list", "-o", "json"]).await?.ok()?;
    let l = out.json()?;
    assert_eq!(l["kind"], "BackupList");
    let items = l["items"].as_array().context("items")?;
    let find = |n: &str| items.iter().find(|i| i["name"] == n).cloned();
    let run1 = find("run-1").context("run-1 listed")?;
    assert_eq!(run1["target"], "cronjob/todo-db-backup");
    assert_eq!(run1["status"], "Succeeded");
    // Its pod is active (unschedulable): the Job counts it as running.
    assert_eq!(
        find("stuck-1").context("stuck-1 listed")?["status"],
        "Running"
    );
    let out = ns
        .kubectl(&["backup", "list", "cronjob/stuck"])
        .await?
        .ok()?;
    assert!(
        out.stdout.contains("stuck-2") && !out.stdout.contains("run-1"),
        "{}",
        out.stdout
    );
    let out = ns.kubectl(&["backup", "describe", "run-1"]).await?.ok()?;
    assert!(
        out.stdout.contains("Status:       Succeeded"),
        "{}",
        out.stdout
    );
    let out = ns.kubectl(&["backup", "logs", "run-1"]).await?.ok()?;
    assert!(out.stdout.contains("kwok"), "{}", out.stdout);
    Ok(())
}

#[tokio::test]
async fn failing_pod_exits_5_with_the_reason_and_deadline_exits_6() -> Result<()> {
    let ns = TestNs::new("backup-fail").await?;
    ns.apply(cronjob("bad", json!({FAIL_ANNOTATION: "true"}), json!({})))
        .await?;
    let out = ns
        .kubectl(&["backup", "create", "cronjob/bad", "--name", "bad-1"])
        .await?;
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(out.stderr.contains("job bad-1 failed"), "{}", out.stderr);
    assert!(
        out.stderr.contains("exit code 1"),
        "termination reason: {}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
    let out = ns.kubectl(&["backup", "describe", "bad-1"]).await?.ok()?;
    assert!(
        out.stdout.contains("Status:       Failed"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("exit code 1"),
        "why it failed: {}",
        out.stdout
    );

    ns.apply(cronjob(
        "slow",
        json!({}),
        json!({"nodeSelector": {"e2e.kubectl-stateful.io/nowhere": "true"}}),
    ))
    .await?;
    let out = ns
        .kubectl(&[
            "backup",
            "create",
            "cronjob/slow",
            "--name",
            "slow-1",
            "--timeout",
            "4s",
        ])
        .await?;
    assert_eq!(out.code, 6, "{}", out.stderr);
    assert!(
        out.stderr.contains("not scheduled"),
        "progress: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("kubectl backup logs slow-1"),
        "{}",
        out.stderr
    );

    let out = ns.kubectl(&["backup", "create", "cronjob/nope"]).await?;
    assert_eq!(out.code, 3, "{}", out.stderr);
    Ok(())
}

#[tokio::test]
async fn forbidden_user_exits_4_before_anything_is_created() -> Result<()> {
    let ns = TestNs::new("backup-forbidden").await?;
    ns.apply(cronjob("todo-db-backup", json!({}), json!({})))
        .await?;
    ns.grant_restricted(
        "backup-reader",
        json!([
            {"apiGroups": ["batch"], "resources": ["cronjobs", "jobs"], "verbs": ["get", "list", "watch"]},
        ]),
    )
    .await?;
    let out = ns
        .kubectl_as_restricted(&["backup", "create", "cronjob/todo-db-backup"])
        .await?;
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("forbidden"), "{}", out.stderr);
    assert!(jobs(&ns).await?.is_empty(), "a job was created");
    // --dry-run=server: the API server checks the Job, nothing is created.
    let out = ns
        .kubectl(&[
            "backup",
            "create",
            "cronjob/todo-db-backup",
            "--dry-run=server",
            "-o",
            "json",
        ])
        .await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()?["kind"], "Job");
    assert!(
        jobs(&ns).await?.is_empty(),
        "a server dry run created a job"
    );
    Ok(())
}

/// A bound claim `backups` (a static volume of CSI driver `driver`).
async fn backups_claim(ns: &TestNs, driver: &str) -> Result<()> {
    e2e::storage::bound_claim(ns, "backups", driver).await
}

#[tokio::test]
async fn postgres_dump_job_runs_pinned_to_the_claims_node() -> Result<()> {
    let ns = TestNs::new("backup-dump").await?;
    backups_claim(&ns, "fake.csi.kubectl-stateful.io").await?;
    ns.apply(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "reader"},
        "spec": {"nodeName": "kwok-node-2",
            "containers": [{"name": "c", "image": "busybox"}],
            "volumes": [{"name": "b", "persistentVolumeClaim": {"claimName": "backups"}}]},
    }))
    .await?;
    ns.apply(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {"serviceName": "db", "replicas": 2,
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "postgres:16",
                    "env": [{"name": "POSTGRES_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}]}]}}},
    }))
    .await?;
    let pods = ns.api::<Pod>();
    wait_for("reader running", T, || {
        let pods = pods.clone();
        async move {
            let p = pods.get("reader").await?;
            Ok((p.status.and_then(|s| s.phase).as_deref() == Some("Running")).then_some(()))
        }
    })
    .await?;
    let out = ns
        .kubectl(&[
            "backup",
            "create",
            "sts/db",
            "--to",
            "pvc/backups",
            "--name",
            "dump-1",
        ])
        .await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("pinning the Job to node kwok-node-2"),
        "{}",
        out.stderr
    );
    let job_pods = pods
        .list(&ListParams::default().labels("job-name=dump-1"))
        .await?;
    let node = job_pods.items[0]
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone());
    assert_eq!(node.as_deref(), Some("kwok-node-2"));
    let job = ns.api::<Job>().get("dump-1").await?;
    let c = &job
        .spec
        .context("spec")?
        .template
        .spec
        .context("pod")?
        .containers[0];
    assert_eq!(c.image.as_deref(), Some("postgres:16"));
    let env = c.env.clone().unwrap_or_default();
    let pw = env
        .iter()
        .find(|e| e.name == "POSTGRES_PASSWORD")
        .context("pw env")?;
    assert!(pw.value.is_none() && pw.value_from.is_some());
    Ok(())
}

#[tokio::test]
async fn volume_snapshot_reports_cut_then_ready() -> Result<()> {
    let ns = TestNs::new("backup-snap").await?;
    let vss = e2e::storage::snapshot_api(&ns).await?;
    let driver = format!("{}.csi.kubectl-stateful.io", ns.name);
    ns.apply(json!({
        "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass",
        "metadata": {"name": format!("{}-class", ns.name), "labels": ns.owner_labels(),
            "annotations": {"snapshot.storage.kubernetes.io/is-default-class": "true"}},
        "driver": driver, "deletionPolicy": "Delete",
    }))
    .await?;
    backups_claim(&ns, &driver).await?;

    // Play the CSI snapshotter while the plugin waits: an error first, then cut, then ready.
    let snapshotter = async {
        let vs = wait_for("the VolumeSnapshot", T, || {
            let vss = vss.clone();
            async move { Ok(vss.get_opt("snap-1").await?) }
        })
        .await?;
        assert_eq!(
            vs.data["spec"]["volumeSnapshotClassName"],
            json!(format!("{}-class", ns.name))
        );
        let pp = PatchParams::default();
        for status in [
            json!({"error": {"message": "e2e: transient quota error", "time": "2026-01-01T00:00:00Z"}}),
            json!({"error": null, "boundVolumeSnapshotContentName": "snapcontent-1", "creationTime": "2026-01-01T00:00:01Z", "readyToUse": false}),
            json!({"readyToUse": true, "restoreSize": "1Gi"}),
        ] {
            tokio::time::sleep(Duration::from_millis(700)).await;
            vss.patch_status("snap-1", &pp, &Patch::Merge(json!({"status": status})))
                .await?;
        }
        anyhow::Ok(())
    };
    let (out, played) = tokio::join!(
        ns.kubectl(&[
            "backup",
            "create",
            "pvc/backups",
            "--snapshot",
            "--name",
            "snap-1",
            "--timeout",
            "60s"
        ]),
        snapshotter
    );
    played?;
    let out = out?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let err = &out.stderr;
    let (e, c, r) = (
        err.find("transient quota error").context(err.clone())?,
        err.find("cut at 2026-01-01T00:00:01Z")
            .context(err.clone())?,
        err.find("ready (restore size 1Gi)").context(err.clone())?,
    );
    assert!(e < c && c < r, "{err}");
    let out = ns.kubectl(&["backup", "list", "-o", "json"]).await?.ok()?;
    let l = out.json()?;
    assert_eq!(l["items"][0]["status"], "Ready");
    assert_eq!(l["items"][0]["size"], "1Gi");
    Ok(())
}

#[tokio::test]
async fn ctrl_c_stops_waiting_not_the_backup() -> Result<()> {
    let ns = TestNs::new("backup-ctrl-c").await?;
    ns.apply(cronjob(
        "slow",
        json!({}),
        json!({"nodeSelector": {"e2e.kubectl-stateful.io/nowhere": "true"}}),
    ))
    .await?;
    let child = ns.spawn_plugin(
        "kubectl-backup",
        &["create", "cronjob/slow", "--name", "slow-1"],
        &[],
    )?;
    let jobs_api = ns.api::<Job>();
    wait_for("job slow-1", T, || {
        let jobs_api = jobs_api.clone();
        async move { Ok(jobs_api.get_opt("slow-1").await?.map(|_| ())) }
    })
    .await?;
    // Let it reach the waiting loop, then interrupt it like a terminal would.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let out = e2e::interrupt(child).await?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("stopped waiting"), "{stderr}");
    assert!(stderr.contains("kubectl backup logs slow-1"), "{stderr}");
    // The backup goes on.
    let job = ns.api::<Job>().get("slow-1").await?;
    assert!(job.metadata.deletion_timestamp.is_none());
    Ok(())
}
