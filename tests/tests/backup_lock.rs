//! kubectl backup's per-target lock (a coordination.k8s.io/v1 Lease) on the local control plane:
//! a second run is refused while the first holds it, a killed CLI's Lease expires, `--force`
//! takes it over, a `--no-wait` or Ctrl-C'd run leaves it to its Job, `list` shows it. Leases
//! last 3 s here (`KUBECTL_STATEFUL_LEASE_SECONDS`), renewed every second.

use std::time::Duration;

use anyhow::{Context, Result};
use e2e::{CmdOutput, TestNs, delete_ignore_missing, run_kubectl_with, wait_for};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::coordination::v1::Lease;
use serde_json::{Value, json};

const LEASE_ENV: (&str, &str) = ("KUBECTL_STATEFUL_LEASE_SECONDS", "3");
/// A Lease of 3 s is taken over 3 + 5 s (clock-skew allowance) after its last renewal.
const PAST_EXPIRY: Duration = Duration::from_secs(9);
const LEASE: &str = "kubectl-backup.cronjob.db-backup";

/// A CronJob whose runs may overlap (the lock alone keeps them apart); with `stuck`, its pods
/// cannot be scheduled, so a run waits until its --timeout.
fn cronjob(stuck: bool) -> Value {
    let mut spec = json!({
        "restartPolicy": "Never",
        "containers": [{"name": "backup", "image": "postgres:16", "command": ["true"]}],
    });
    if stuck {
        spec["nodeSelector"] = json!({"e2e.kubectl-stateful.io/nowhere": "true"});
    }
    json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "db-backup"},
        "spec": {
            "schedule": "0 0 1 1 *",
            "concurrencyPolicy": "Allow",
            "jobTemplate": {"spec": {"backoffLimit": 0, "template": {"spec": spec}}},
        },
    })
}

async fn backup(ns: &TestNs, args: &[&str]) -> Result<CmdOutput> {
    let mut all = vec!["backup"];
    all.extend_from_slice(args);
    run_kubectl_with(
        ns.cluster,
        &ns.kubeconfig,
        &all,
        &[LEASE_ENV],
        Duration::from_secs(120),
    )
    .await
}

async fn lease(ns: &TestNs) -> Result<Option<Lease>> {
    Ok(ns.api::<Lease>().get_opt(LEASE).await?)
}

async fn wait_lease(ns: &TestNs) -> Result<Lease> {
    wait_for("the lock's Lease", Duration::from_secs(30), || async {
        lease(ns).await
    })
    .await
}

fn work_of(l: &Lease) -> String {
    l.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("kubectl-stateful.io/lock-work"))
        .cloned()
        .unwrap_or_default()
}

fn assert_refused(out: &CmdOutput, holder_work: &str) {
    assert_eq!(out.code, 5, "{}", out.stderr);
    for want in [
        "cronjob/db-backup is locked by another run",
        holder_work,
        " since ",
        "--force",
    ] {
        assert!(out.stderr.contains(want), "{want:?} in {}", out.stderr);
    }
}

#[tokio::test]
async fn a_second_run_is_refused_while_the_first_waits_and_runs_once_it_ends() -> Result<()> {
    let ns = TestNs::new("backup-lock").await?;
    ns.apply(cronjob(true)).await?;
    let first = {
        let (cluster, kubeconfig) = (ns.cluster, ns.kubeconfig.clone());
        tokio::spawn(async move {
            run_kubectl_with(
                cluster,
                &kubeconfig,
                &[
                    "backup",
                    "create",
                    "cronjob/db-backup",
                    "--name",
                    "first",
                    "--timeout",
                    "25s",
                ],
                &[LEASE_ENV],
                Duration::from_secs(120),
            )
            .await
        })
    };
    let l = wait_lease(&ns).await?;
    assert_eq!(work_of(&l), "job/first");
    // Past what the Lease lasts unrenewed: only the first run's renewals keep it held.
    tokio::time::sleep(PAST_EXPIRY).await;
    let out = backup(&ns, &["create", "cronjob/db-backup", "--name", "second"]).await?;
    assert_refused(&out, "create of job/first by ");
    assert!(
        ns.api::<Job>().get_opt("second").await?.is_none(),
        "a refused run created its job"
    );

    // list: the held lock, in JSON and as a table of its own.
    let out = backup(&ns, &["list", "-o", "json"]).await?.ok()?;
    let v = out.json()?;
    let locks = v["locks"].as_array().context("locks")?;
    assert_eq!(locks.len(), 1, "{v}");
    assert_eq!(locks[0]["target"], "cronjob/db-backup");
    assert_eq!(locks[0]["lease"], LEASE);
    assert_eq!(locks[0]["holder"]["operation"], "create");
    assert_eq!(locks[0]["holder"]["work"], "job/first");
    assert_eq!(locks[0]["detached"], false);
    let out = backup(&ns, &["list"]).await?.ok()?;
    assert!(
        out.stdout.contains("LOCKED") && out.stdout.contains("job/first"),
        "{}",
        out.stdout
    );
    // --dry-run takes no lock but says it is held.
    let out = backup(&ns, &["create", "cronjob/db-backup", "--dry-run"]).await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("is locked"), "{}", out.stderr);

    let first = first.await??;
    assert_eq!(first.code, 6, "{}", first.stderr);
    assert!(
        lease(&ns).await?.is_none(),
        "the first run released its lock"
    );

    // Once it has ended, a run goes ahead (and releases the lock when done).
    ns.apply(cronjob(false)).await?;
    let out = backup(&ns, &["create", "cronjob/db-backup", "--name", "third"]).await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(lease(&ns).await?.is_none());
    let out = backup(&ns, &["list", "-o", "json"]).await?.ok()?;
    assert_eq!(out.json()?["locks"], json!([]));
    Ok(())
}

#[tokio::test]
async fn a_killed_run_s_lease_expires_force_takes_over_and_no_wait_leaves_it_to_the_job()
-> Result<()> {
    let ns = TestNs::new("backup-lock-kill").await?;
    ns.apply(cronjob(true)).await?;
    let mut killed = plugin(
        &ns,
        &[
            "create",
            "cronjob/db-backup",
            "--name",
            "killed",
            "--timeout",
            "5m",
        ],
    )?;
    wait_lease(&ns).await?;
    killed.start_kill()?;
    killed.wait().await?;
    let out = backup(&ns, &["create", "cronjob/db-backup", "--name", "next"]).await?;
    assert_refused(&out, "create of job/killed by ");

    // Nobody renews it: it expires, and the next run takes it over.
    tokio::time::sleep(PAST_EXPIRY).await;
    let out = backup(
        &ns,
        &["create", "cronjob/db-backup", "--name", "next", "--no-wait"],
    )
    .await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("taking over the lock") && out.stderr.contains("expired"),
        "{}",
        out.stderr
    );
    // --no-wait: the lock stays with job/next, past the Lease's 3 s, while it runs.
    let l = lease(&ns).await?.context("lease kept by --no-wait")?;
    assert_eq!(work_of(&l), "job/next");
    tokio::time::sleep(PAST_EXPIRY).await;
    let out = backup(&ns, &["create", "cronjob/db-backup", "--name", "blocked"]).await?;
    assert_refused(&out, "job/next");
    assert!(out.stderr.contains("stopped waiting"), "{}", out.stderr);
    let out = backup(&ns, &["list", "-o", "json"]).await?.ok()?;
    assert_eq!(out.json()?["locks"][0]["detached"], true);

    // --force takes a held lock over.
    let out = backup(
        &ns,
        &[
            "create",
            "cronjob/db-backup",
            "--name",
            "forced",
            "--force",
            "--no-wait",
        ],
    )
    .await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("(--force)"), "{}", out.stderr);
    let l = lease(&ns).await?.context("lease")?;
    assert_eq!(work_of(&l), "job/forced");

    // A detached lock ends with its Job.
    delete_ignore_missing(&ns.api::<Job>(), "forced").await?;
    wait_for("job forced gone", Duration::from_secs(30), || async {
        Ok(ns
            .api::<Job>()
            .get_opt("forced")
            .await?
            .is_none()
            .then_some(()))
    })
    .await?;
    let out = backup(
        &ns,
        &[
            "create",
            "cronjob/db-backup",
            "--name",
            "after",
            "--no-wait",
        ],
    )
    .await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("job/forced is gone"), "{}", out.stderr);

    // Ctrl-C: the CLI stops waiting (exit 130), the backup goes on and keeps the lock.
    delete_ignore_missing(&ns.api::<Job>(), "after").await?;
    let waiting = plugin(&ns, &["create", "cronjob/db-backup", "--name", "ctrl-c"])?;
    wait_for(
        "the lock taken by ctrl-c",
        Duration::from_secs(30),
        || async {
            Ok(lease(&ns)
                .await?
                .filter(|l| work_of(l) == "job/ctrl-c")
                .map(|_| ()))
        },
    )
    .await?;
    // The Job exists once the CLI waits for it.
    wait_for("job ctrl-c", Duration::from_secs(30), || async {
        Ok(ns.api::<Job>().get_opt("ctrl-c").await?.map(|_| ()))
    })
    .await?;
    // Past the moment it starts listening for Ctrl-C (right after creating the Job).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let out = e2e::interrupt(waiting).await?;
    assert_eq!(out.status.code(), Some(130));
    let l = lease(&ns).await?.context("lease kept after Ctrl-C")?;
    let detached = l
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("kubectl-stateful.io/lock-detached"))
        .cloned();
    assert_eq!(detached.as_deref(), Some("true"));
    let out = backup(&ns, &["create", "cronjob/db-backup", "--name", "late"]).await?;
    assert_refused(&out, "job/ctrl-c");
    Ok(())
}

/// The plugin itself (not kubectl), so that signals reach the process holding the lock.
fn plugin(ns: &TestNs, args: &[&str]) -> Result<tokio::process::Child> {
    ns.spawn_plugin("kubectl-backup", args, &[LEASE_ENV])
}

#[tokio::test]
async fn forbidden_leases_exit_4_naming_the_call_and_nothing_is_created() -> Result<()> {
    let ns = TestNs::new("backup-lock-forbidden").await?;
    ns.apply(cronjob(false)).await?;
    ns.grant_restricted(
        "backup-runner",
        json!([
            {"apiGroups": ["batch"], "resources": ["cronjobs", "jobs"], "verbs": ["get", "list", "watch", "create"]},
        ]),
    )
    .await?;
    let out = ns
        .kubectl_as_restricted(&["backup", "create", "cronjob/db-backup"])
        .await?;
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "cannot get leases.coordination.k8s.io in namespace \"{}\"",
            ns.name
        )),
        "{}",
        out.stderr
    );
    assert!(
        ns.api::<Job>()
            .list(&Default::default())
            .await?
            .items
            .is_empty(),
        "a job was created"
    );
    Ok(())
}
