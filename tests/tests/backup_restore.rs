//! kubectl backup restore on the local control plane: the restore Job's shape (the workload's
//! image, Secret references only, the dump claim read-only, pinned to its user's node, the
//! deadline), refusal without --yes, a VolumeSnapshot into a new claim, the swap of one
//! StatefulSet ordinal's claim (the old volume kept), its re-run converging, and Ctrl-C
//! leaving the restore running. A planted secret appears in no argv, output or dry run.

use std::time::Duration;

use anyhow::{Context, Result};
use e2e::storage::{Provisioner, bound_claim, ready_snapshot, snapshot_api};
use e2e::{TestNs, wait_for};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use kube::api::ListParams;
use serde_json::json;

const T: Duration = Duration::from_secs(120);
const PLANTED: &str = "e2e-planted-restore-secret-4f1c";

fn assert_no_secret(what: &str, text: &str) {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(PLANTED);
    assert!(!text.contains(PLANTED), "{what} leaks the secret:\n{text}");
    assert!(
        !text.contains(&b64),
        "{what} leaks the secret (base64):\n{text}"
    );
}

/// A PostgreSQL StatefulSet `db` (password from Secret `db`), and a claim `backups`.
async fn database(ns: &TestNs, driver: &str, reader_node: &str) -> Result<()> {
    bound_claim(ns, "backups", driver).await?;
    ns.apply(json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
        "stringData": {"pw": PLANTED},
    }))
    .await?;
    ns.apply(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "reader"},
        "spec": {"nodeName": reader_node,
            "containers": [{"name": "c", "image": "busybox"}],
            "volumes": [{"name": "b", "persistentVolumeClaim": {"claimName": "backups"}}]},
    }))
    .await?;
    ns.apply(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {"serviceName": "db", "replicas": 1,
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "postgres:16",
                    "env": [{"name": "POSTGRES_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}},
                            {"name": "POSTGRES_DB", "value": "todo"}]}]}}},
    }))
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_dump_restores_through_a_read_only_pinned_job_after_yes() -> Result<()> {
    let ns = TestNs::new("restore-dump").await?;
    database(&ns, "fake.csi.kubectl-stateful.io", "kwok-node-2").await?;
    ns.wait_pod_running("reader", T).await?;
    ns.wait_pod_running("db-0", T).await?;
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
    // The dump can be verified where it lies: a Job mounting the claim read-only.
    let out = ns.kubectl(&["backup", "verify", "dump-1"]).await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let vjob = out.stdout.trim().to_string();
    let v = ns.api::<Job>().get(&vjob).await?;
    let vpod = v.spec.context("spec")?.template.spec.context("pod")?;
    let vmount = vpod.containers[0]
        .volume_mounts
        .iter()
        .flatten()
        .find(|m| m.mount_path == "/backup")
        .context("verify mount")?;
    assert_eq!(vmount.read_only, Some(true));

    // Without a terminal and without --yes: refused, nothing created.
    let args = [
        "backup",
        "restore",
        "dump-1",
        "--to",
        "sts/db",
        "--name",
        "restore-1",
    ];
    let out = ns.kubectl(&args).await?;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    assert!(
        out.stderr.contains("Overwrites:"),
        "the plan first: {}",
        out.stderr
    );
    assert!(ns.api::<Job>().get_opt("restore-1").await?.is_none());
    for dry in ["--dry-run", "--dry-run=server"] {
        let out = ns
            .kubectl(&[&args[..], &[dry, "-o", "json"]].concat())
            .await?;
        assert_eq!(out.code, 0, "{dry}: {}", out.stderr);
        assert_eq!(out.json()?["kind"], "Job", "{dry}");
        assert_no_secret(dry, &format!("{}{}", out.stdout, out.stderr));
        assert!(
            ns.api::<Job>().get_opt("restore-1").await?.is_none(),
            "{dry} created it"
        );
    }

    let out = ns.kubectl(&[&args[..], &["--yes"]].concat()).await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "restore-1");
    assert_no_secret("restore", &format!("{}{}", out.stdout, out.stderr));
    let job = ns.api::<Job>().get("restore-1").await?;
    let labels = job.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels["kubectl-stateful.io/method"], "restore");
    let spec = job.spec.context("spec")?;
    assert_eq!(spec.backoff_limit, Some(0));
    assert_eq!(spec.active_deadline_seconds, Some(3600));
    let pod = spec.template.spec.context("pod")?;
    let c = &pod.containers[0];
    assert_eq!(c.image.as_deref(), Some("postgres:16"));
    assert_no_secret("argv", &c.command.clone().unwrap_or_default().join(" "));
    let env = c.env.clone().unwrap_or_default();
    let get = |n: &str| env.iter().find(|e| e.name == n);
    let pw = get("POSTGRES_PASSWORD").context("pw env")?;
    assert!(pw.value.is_none() && pw.value_from.is_some());
    assert_eq!(
        get("BACKUP_HOST").and_then(|e| e.value.clone()),
        Some(format!("db-0.db.{}.svc.cluster.local", ns.name))
    );
    let mount = c
        .volume_mounts
        .iter()
        .flatten()
        .find(|m| m.mount_path == "/backup")
        .context("mount")?;
    assert_eq!(mount.read_only, Some(true));
    let vol = pod
        .volumes
        .iter()
        .flatten()
        .find_map(|v| v.persistent_volume_claim.clone())
        .context("claim volume")?;
    assert_eq!(
        (vol.claim_name.as_str(), vol.read_only),
        ("backups", Some(true))
    );
    let pods = ns
        .api::<Pod>()
        .list(&ListParams::default().labels("job-name=restore-1"))
        .await?;
    let node = pods.items[0]
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone());
    assert_eq!(node.as_deref(), Some("kwok-node-2"));
    // A restore is not a backup: `list` leaves it out.
    let l = ns
        .kubectl(&["backup", "list", "-o", "json"])
        .await?
        .ok()?
        .json()?;
    let names: Vec<&str> = l["items"]
        .as_array()
        .context("items")?
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    assert_eq!(names, ["dump-1"]);
    Ok(())
}

#[tokio::test]
async fn ctrl_c_stops_waiting_not_the_restore() -> Result<()> {
    let ns = TestNs::new("restore-ctrl-c").await?;
    // The dump claim's user sits on a node that does not exist: the pinned Job never starts.
    database(&ns, "fake.csi.kubectl-stateful.io", "e2e-nowhere").await?;
    let child = ns.spawn_plugin(
        "kubectl-backup",
        &[
            "restore",
            "pvc/backups",
            "--path",
            "x.dump",
            "--to",
            "sts/db",
            "--yes",
            "--name",
            "slow-1",
        ],
        &[],
    )?;
    let jobs = ns.api::<Job>();
    wait_for("job slow-1", T, || {
        let jobs = jobs.clone();
        async move { Ok(jobs.get_opt("slow-1").await?.map(|_| ())) }
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let out = e2e::interrupt(child).await?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("goes on"), "{stderr}");
    assert!(stderr.contains("kubectl backup logs slow-1"), "{stderr}");
    let job = ns.api::<Job>().get("slow-1").await?;
    assert!(job.metadata.deletion_timestamp.is_none());
    // The running restore keeps the target's lock: a second one is refused, naming it.
    let out = ns
        .kubectl(&[
            "backup",
            "restore",
            "pvc/backups",
            "--path",
            "x.dump",
            "--to",
            "sts/db",
            "--yes",
            "--name",
            "slow-2",
        ])
        .await?;
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(out.stderr.contains("job/slow-1"), "{}", out.stderr);
    assert!(ns.api::<Job>().get_opt("slow-2").await?.is_none());
    Ok(())
}

#[tokio::test]
async fn a_snapshot_restores_into_a_new_claim_and_replaces_an_ordinals_claim() -> Result<()> {
    let ns = TestNs::new("restore-snap").await?;
    let vss = snapshot_api(&ns).await?;
    let driver = format!("{}.csi.kubectl-stateful.io", ns.name);
    let class = format!("{}-fast", ns.name);
    ns.apply(json!({
        "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass",
        "metadata": {"name": format!("{}-snaps", ns.name), "labels": ns.owner_labels()},
        "driver": driver, "deletionPolicy": "Delete",
    }))
    .await?;
    ns.apply(json!({
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": class, "labels": ns.owner_labels()},
        "provisioner": driver, "volumeBindingMode": "Immediate",
    }))
    .await?;
    let _provisioner = Provisioner::start(&ns, &class, &driver);
    ns.apply(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {"serviceName": "db", "replicas": 2,
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "postgres:16",
                    "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}]}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": class,
                         "resources": {"requests": {"storage": "1Gi"}}}}]},
    }))
    .await?;
    let db0 = ns.wait_pod_running("db-0", T).await?;
    ns.wait_pod_running("db-1", T).await?;
    let pvcs = ns.api::<PersistentVolumeClaim>();
    let old_pv = pvcs
        .get("data-db-1")
        .await?
        .spec
        .and_then(|s| s.volume_name)
        .context("data-db-1 bound")?;
    let snaps = format!("{}-snaps", ns.name);
    ready_snapshot(&ns, &vss, "snap-1", &snaps, "data-db-1", "2Gi").await?;

    // Into a new claim: dataSource, at least the restore size, bound.
    let out = ns
        .kubectl(&[
            "backup",
            "restore",
            "volumesnapshot/snap-1",
            "--to",
            "pvc/restored",
            "--yes",
        ])
        .await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let c = pvcs.get("restored").await?;
    let spec = c.spec.context("spec")?;
    let ds = spec.data_source.context("dataSource")?;
    assert_eq!(
        (ds.kind.as_str(), ds.name.as_str()),
        ("VolumeSnapshot", "snap-1")
    );
    let size = spec
        .resources
        .and_then(|r| r.requests)
        .context("requests")?;
    assert_eq!(size["storage"].0, "2Gi");
    // Again: nothing to do.
    let out = ns
        .kubectl(&[
            "backup",
            "restore",
            "volumesnapshot/snap-1",
            "--to",
            "pvc/restored",
            "--yes",
        ])
        .await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("already restored"), "{}", out.stderr);

    // Swap ordinal 1's claim: the old volume kept (Retain), db-0 untouched.
    let replace = [
        "backup",
        "restore",
        "volumesnapshot/snap-1",
        "--replace",
        "sts/db",
        "--ordinal",
        "1",
        "--yes",
        "--timeout",
        "100s",
    ];
    let out = ns.kubectl(&replace).await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("pv/{old_pv}")),
        "{}",
        out.stderr
    );
    let pv = ns.api_all::<PersistentVolume>().get(&old_pv).await?;
    assert_eq!(
        pv.spec
            .and_then(|s| s.persistent_volume_reclaim_policy)
            .as_deref(),
        Some("Retain")
    );
    let c = pvcs.get("data-db-1").await?;
    let spec = c.spec.context("spec")?;
    assert_eq!(spec.data_source.map(|d| d.name).as_deref(), Some("snap-1"));
    let new_pv = spec.volume_name.context("bound")?;
    assert_ne!(new_pv, old_pv);
    let pod = ns.wait_pod_running("db-1", T).await?;
    let claim = pod
        .spec
        .and_then(|s| s.volumes)
        .into_iter()
        .flatten()
        .find_map(|v| v.persistent_volume_claim)
        .context("pod claim")?;
    assert_eq!(claim.claim_name, "data-db-1");
    let sts = ns.api::<StatefulSet>().get("db").await?;
    assert_eq!(sts.spec.and_then(|s| s.replicas), Some(2));
    assert!(
        !sts.metadata
            .annotations
            .unwrap_or_default()
            .contains_key("kubectl-stateful.io/restore-replicas")
    );
    let db0_now = ns.api::<Pod>().get("db-0").await?;
    assert_eq!(db0_now.metadata.uid, db0.metadata.uid, "db-0 was restarted");
    // A re-run converges: only the check is left.
    let out = ns.kubectl(&replace).await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("Already done (skipped)"),
        "{}",
        out.stderr
    );
    Ok(())
}
