//! Smoke tests of the local control plane itself: if these fail, every other e2e test would.

use std::time::Duration;

use anyhow::{Context, Result};
use e2e::{FAIL_ANNOTATION, NODES, TestNs, exec_capture, wait_for};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, Pod};
use kube::api::{ListParams, LogParams};
use serde_json::json;

const T: Duration = Duration::from_secs(90);

#[tokio::test]
async fn nodes_version_and_restricted_user() -> Result<()> {
    let ns = TestNs::new("nodes-version").await?;

    let v = ns.admin.apiserver_version().await?;
    assert_eq!(v.git_version, ns.cluster.k8s_version);
    assert_eq!(v.git_version, "v1.36.3");

    let nodes = ns.api_all::<Node>().list(&ListParams::default()).await?;
    let mut seen: Vec<(String, String, bool)> = nodes
        .items
        .iter()
        .map(|n| {
            let labels = n.metadata.labels.clone().unwrap_or_default();
            let ready = n
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
            assert_eq!(
                labels.get("kubernetes.io/hostname").map(String::as_str),
                n.metadata.name.as_deref()
            );
            (
                n.metadata.name.clone().unwrap_or_default(),
                labels
                    .get("topology.kubernetes.io/zone")
                    .cloned()
                    .unwrap_or_default(),
                ready,
            )
        })
        .collect();
    seen.sort();
    let want: Vec<(String, String, bool)> = NODES
        .iter()
        .map(|(n, z)| (n.to_string(), z.to_string(), true))
        .collect();
    assert_eq!(seen, want);

    // kubectl built for this cluster, same version.
    let out = ns.kubectl(&["version", "-o", "json"]).await?.ok()?;
    let j = out.json()?;
    assert_eq!(j["serverVersion"]["gitVersion"], "v1.36.3");
    assert_eq!(j["clientVersion"]["gitVersion"], "v1.36.3");

    // The restricted user has no rights until granted, then exactly the granted ones.
    let pods: kube::Api<Pod> = kube::Api::namespaced(ns.restricted.clone(), &ns.name);
    let err = pods
        .list(&ListParams::default())
        .await
        .expect_err("restricted user must not list pods");
    match err {
        kube::Error::Api(s) => assert_eq!(s.code, 403, "{s:?}"),
        e => panic!("expected 403, got {e:?}"),
    }
    ns.grant_restricted(
        "pod-reader",
        json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]),
    )
    .await?;
    assert!(pods.list(&ListParams::default()).await?.items.is_empty());
    let out = ns.kubectl_as_restricted(&["get", "pvc"]).await?;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("forbidden"), "{}", out.stderr);
    let out = ns
        .kubectl_as_restricted(&["auth", "whoami", "-o", "json"])
        .await?
        .ok()?;
    assert_eq!(
        out.json()?["status"]["userInfo"]["username"],
        "e2e-restricted"
    );
    Ok(())
}

#[tokio::test]
async fn statefulset_claims_bind_to_static_pvs() -> Result<()> {
    let ns = TestNs::new("sts-pv").await?;
    let class = format!("static-{}", ns.name);
    for i in 0..2 {
        ns.apply(json!({
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": format!("{}-pv-{i}", ns.name), "labels": ns.owner_labels()},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": class,
                "csi": {"driver": "fake.csi.kubectl-stateful.io", "volumeHandle": format!("vol-{i}")},
            },
        }))
        .await?;
    }
    ns.apply(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "serviceName": "db", "replicas": 2,
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "example.invalid/db:1",
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]},
            },
            "volumeClaimTemplates": [{
                "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": class,
                         "resources": {"requests": {"storage": "1Gi"}}},
            }],
        },
    }))
    .await?;

    let pvcs = ns.api::<PersistentVolumeClaim>();
    for i in 0..2 {
        let claim = format!("data-db-{i}");
        let pvc = wait_for(&format!("{claim} Bound"), T, || {
            let pvcs = pvcs.clone();
            let claim = claim.clone();
            async move {
                let pvc = pvcs.get_opt(&claim).await?;
                Ok(pvc.filter(|p| {
                    p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound")
                }))
            }
        })
        .await?;
        let vol = pvc
            .spec
            .and_then(|s| s.volume_name)
            .context("bound claim without volumeName")?;
        assert!(vol.starts_with(&format!("{}-pv-", ns.name)), "{vol}");
        let pv = ns.api_all::<PersistentVolume>().get(&vol).await?;
        let cref = pv
            .spec
            .and_then(|s| s.claim_ref)
            .context("PV without claimRef")?;
        assert_eq!(cref.name.as_deref(), Some(claim.as_str()));
        assert_eq!(cref.namespace.as_deref(), Some(ns.name.as_str()));
        assert_eq!(pv.status.and_then(|s| s.phase).as_deref(), Some("Bound"));
    }
    // The pods are scheduled onto the fake nodes and run.
    let pods = ns.api::<Pod>();
    for i in 0..2 {
        let name = format!("db-{i}");
        let pod = wait_for(&format!("{name} Running"), T, || {
            let (pods, name) = (pods.clone(), name.clone());
            async move {
                let p = pods.get_opt(&name).await?;
                Ok(p.filter(|p| {
                    p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
                }))
            }
        })
        .await?;
        let node = pod.spec.and_then(|s| s.node_name).unwrap_or_default();
        assert!(NODES.iter().any(|(n, _)| *n == node), "{node}");
    }
    Ok(())
}

fn job(name: &str, fail: bool) -> serde_json::Value {
    let annotations = if fail {
        json!({FAIL_ANNOTATION: "true"})
    } else {
        json!({})
    };
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": {"annotations": annotations},
                "spec": {"restartPolicy": "Never",
                         "containers": [{"name": "main", "image": "example.invalid/job:1"}]},
            },
        },
    })
}

async fn wait_job_condition(ns: &TestNs, name: &str, cond: &str) -> Result<Job> {
    let jobs = ns.api::<Job>();
    wait_for(&format!("job {name} {cond}"), T, || {
        let jobs = jobs.clone();
        async move {
            let j = jobs.get(name).await?;
            let has = j
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == cond && c.status == "True"));
            Ok(has.then_some(j))
        }
    })
    .await
}

#[tokio::test]
async fn jobs_complete_and_fail() -> Result<()> {
    let ns = TestNs::new("jobs").await?;
    ns.apply(job("ok", false)).await?;
    ns.apply(job("bad", true)).await?;

    let ok = wait_job_condition(&ns, "ok", "Complete").await?;
    assert_eq!(ok.status.as_ref().and_then(|s| s.succeeded), Some(1));
    let bad = wait_job_condition(&ns, "bad", "Failed").await?;
    assert_eq!(bad.status.as_ref().and_then(|s| s.failed), Some(1));
    assert_eq!(
        bad.status.as_ref().and_then(|s| s.succeeded).unwrap_or(0),
        0
    );

    let pods = ns
        .api::<Pod>()
        .list(&ListParams::default().labels("job-name=bad"))
        .await?;
    assert_eq!(pods.items.len(), 1);
    let st = pods.items[0].status.clone().context("pod status")?;
    assert_eq!(st.phase.as_deref(), Some("Failed"));
    let term = st
        .container_statuses
        .and_then(|c| c.into_iter().next())
        .and_then(|c| c.state)
        .and_then(|s| s.terminated)
        .context("terminated state")?;
    assert_eq!(term.exit_code, 1);
    assert_eq!(term.reason.as_deref(), Some("Error"));
    Ok(())
}

#[tokio::test]
async fn exec_and_logs_reach_the_host() -> Result<()> {
    let ns = TestNs::new("exec-logs").await?;
    ns.apply(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "c", "image": "example.invalid/web:1"}]},
    }))
    .await?;
    let pods = ns.api::<Pod>();
    wait_for("pod web Running", T, || {
        let pods = pods.clone();
        async move {
            let p = pods.get("web").await?;
            Ok((p.status.and_then(|s| s.phase).as_deref() == Some("Running")).then_some(()))
        }
    })
    .await?;

    // Default rule: the command runs on this host, in /tmp, with KWOK_EXEC=true.
    let out = exec_capture(
        &pods,
        "web",
        &["sh", "-c", "echo \"$KWOK_EXEC:$(pwd)\"; hostname"],
    )
    .await?;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")?;
    assert_eq!(out, format!("true:/tmp\n{}\n", host.trim()));

    // Per-pod env and workDir.
    let dir = ns.dir().to_string_lossy().into_owned();
    ns.set_pod_exec(
        "web",
        &[("PGHOST", "127.0.0.1"), ("E2E_NS", &ns.name)],
        &dir,
    )
    .await?;
    let out = exec_capture(&pods, "web", &["env"]).await?;
    assert!(out.lines().any(|l| l == "PGHOST=127.0.0.1"), "{out}");
    assert!(
        out.lines().any(|l| l == format!("E2E_NS={}", ns.name)),
        "{out}"
    );
    let out = ns
        .kubectl(&["exec", "web", "--", "sh", "-c", "echo $E2E_NS; pwd"])
        .await?
        .ok()?;
    assert_eq!(out.stdout, format!("{}\n{dir}\n", ns.name));
    // A failing command: kubectl reports its exit code.
    let out = ns
        .kubectl(&["exec", "web", "--", "sh", "-c", "exit 3"])
        .await?;
    assert_eq!(out.code, 3, "{out:?}");
    // A shell pipeline.
    let out = ns
        .kubectl(&["exec", "web", "--", "sh", "-c", "echo hi | tr a-z A-Z"])
        .await?
        .ok()?;
    assert_eq!(out.stdout, "HI\n");

    // stdin reaches the command and its end closes the command's stdin.
    let out = ns
        .kubectl_stdin(
            &[
                "exec",
                "-i",
                "web",
                "--",
                "sh",
                "-c",
                "wc -l; cat >/dev/null; echo done",
            ],
            b"a\nb\nc\n",
        )
        .await?
        .ok()?;
    assert_eq!(
        out.stdout.split_whitespace().collect::<Vec<_>>(),
        ["3", "done"]
    );
    // The exec'd command gets kwok's small fixed environment, not the test process's.
    let out = exec_capture(&pods, "web", &["env"]).await?;
    assert!(!out.contains("CARGO"), "{out}");

    // Logs: placeholder by default, then what the test sets.
    let text = pods.logs("web", &LogParams::default()).await?;
    assert!(text.contains("no logs configured"), "{text}");
    ns.set_pod_logs("web", &["first line", "second line"])
        .await?;
    let out = ns.kubectl(&["logs", "web"]).await?.ok()?;
    assert_eq!(out.stdout, "first line\nsecond line\n");
    let out = ns.kubectl(&["logs", "web", "--tail=1"]).await?.ok()?;
    assert_eq!(out.stdout, "second line\n");
    Ok(())
}

#[tokio::test]
async fn namespace_is_deleted_by_the_guard_even_on_panic() -> Result<()> {
    let name = std::thread::spawn(|| {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let ns = rt.block_on(TestNs::new("guard")).expect("namespace");
        let name = ns.name.clone();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _ns = ns;
            panic!("deliberate panic inside a test");
        }));
        assert!(r.is_err());
        name
    })
    .join()
    .map_err(|_| anyhow::anyhow!("guard thread panicked"))?;
    let ns = TestNs::new("guard-check").await?;
    let nss = ns.api_all::<k8s_openapi::api::core::v1::Namespace>();
    wait_for("the panicked test's namespace to go", T, || {
        let (nss, name) = (nss.clone(), name.clone());
        async move {
            let n = nss.get_opt(&name).await?;
            let gone_or_terminating = match n {
                None => true,
                Some(n) => n.metadata.deletion_timestamp.is_some(),
            };
            Ok(gone_or_terminating.then_some(()))
        }
    })
    .await
}
