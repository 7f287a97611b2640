//! pvc-trace fetches only what a question needs (issue 15): each target shape's API requests,
//! counted in the API server's audit log (by the plugin's user agent), stay within its budget
//! and never LIST a whole cluster's pods, claims or volumes; and the planned trace equals the
//! trace of `--fetch all` (LISTs of every kind). One test in its own binary, so that no other
//! pvc-trace runs while it counts.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use e2e::{NODES, TestNs, cluster};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use serde_json::{Value, json};

const T: Duration = Duration::from_secs(120);

/// One request of the plugin, from the audit log: verb and URI.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Req {
    verb: String,
    uri: String,
}

/// Run pvc-trace with `args`, return its JSON and the requests it made.
async fn traced(ns: &TestNs, args: &[&str]) -> Result<(Value, Vec<Req>)> {
    let log = &cluster()?.audit_log;
    let off = std::fs::metadata(log)?.len();
    let out = ns.kubectl(args).await?.ok()?;
    let v = out.json()?;
    // The log backend writes each event as the request completes; give it a moment.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let text = std::fs::read(log)?;
    let text = String::from_utf8_lossy(&text[off as usize..]);
    let mut ids = BTreeSet::new();
    let mut reqs = Vec::new();
    for line in text.lines() {
        let Ok(e) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let ua = e["userAgent"].as_str().unwrap_or_default();
        if !ua.starts_with("kubectl-pvc_trace") {
            continue;
        }
        if ids.insert(e["auditID"].as_str().unwrap_or_default().to_string()) {
            reqs.push(Req {
                verb: e["verb"].as_str().unwrap_or_default().to_string(),
                uri: e["requestURI"].as_str().unwrap_or_default().to_string(),
            });
        }
    }
    Ok((v, reqs))
}

/// No LIST of a whole cluster's pods or claims, nor (`volumes`) of its volumes.
fn no_cluster_lists(what: &str, reqs: &[Req], volumes: bool) -> Result<()> {
    for r in reqs {
        let path = r.uri.split('?').next().unwrap_or_default();
        let mut kinds = vec!["/api/v1/pods", "/api/v1/persistentvolumeclaims"];
        if volumes {
            kinds.push("/api/v1/persistentvolumes");
        }
        let whole = kinds.contains(&path) && !r.uri.contains("fieldSelector=");
        ensure!(
            !(r.verb == "list" && whole),
            "{what}: a LIST of the whole cluster: {r:?}\nall: {reqs:#?}"
        );
    }
    Ok(())
}

/// Two traces' `roots` and `diagnostics` are equal (`what` names the two, "a / b").
fn same_trace(what: &str, a: &Value, b: &Value) -> Result<()> {
    for key in ["roots", "diagnostics"] {
        ensure!(
            a[key] == b[key],
            "{what}: {key} differ:\n{}\n{}",
            a[key],
            b[key]
        );
    }
    Ok(())
}

#[tokio::test]
async fn each_target_shape_makes_few_requests_and_traces_as_the_whole_lists_do() -> Result<()> {
    let ns = TestNs::new("pvc-trace-requests").await?;
    let class = format!("{}-static", ns.name);
    let (node0, zone0) = NODES[0];
    ns.apply(json!({
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": class, "labels": ns.owner_labels()},
        "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "Immediate",
        "reclaimPolicy": "Retain",
    }))
    .await?;
    for i in 0..3 {
        ns.apply(json!({"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": format!("{}-pv{i}", ns.name), "labels": ns.owner_labels()},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain", "storageClassName": class,
                "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": format!("vol-0e2e{i}"), "fsType": "ext4"},
                "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone0]}]}]}}}}))
        .await?;
    }
    ns.apply(json!({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
        "spec": {"clusterIP": "None", "selector": {"app": "db"}, "ports": [{"port": 5432}]},
    }))
    .await?;
    ns.apply(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {
            "serviceName": "db", "replicas": 3, "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "postgres:16",
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": class,
                         "resources": {"requests": {"storage": "1Gi"}}}}],
        },
    }))
    .await?;
    let pods = ns.api::<Pod>();
    for i in 0..3 {
        ns.wait_pod_running(&format!("db-{i}"), T).await?;
    }
    let claim = ns.api::<PersistentVolumeClaim>().get("data-db-0").await?;
    let pv = claim
        .spec
        .and_then(|s| s.volume_name)
        .context("data-db-0 bound")?;
    let node = pods
        .get("db-0")
        .await?
        .spec
        .and_then(|s| s.node_name)
        .context("db-0 scheduled")?;
    ensure!(
        node == node0,
        "db-0 on {node}, its volume's zone is {zone0}"
    );
    // Let the scheduler's and kwok's events settle: both runs must see the same ones.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let pv_target = format!("pv/{pv}");
    let node_target = format!("node/{node}");
    // (target, budget): the for one pod, claim and volume; a StatefulSet's grows with
    // its replicas (3 here), not with the cluster.
    let shapes: [(&str, usize); 5] = [
        ("pod/db-0", 8),
        ("pvc/data-db-0", 7),
        (&pv_target, 8),
        ("sts/db", 8 + 5 * 3),
        ("", 8 + 5 * 3),
    ];
    let mut counts = Vec::new();
    for (target, budget) in shapes {
        let mut args = vec!["pvc-trace", "-o", "json"];
        if !target.is_empty() {
            args.insert(1, target);
        }
        let (got, reqs) = traced(&ns, &args).await?;
        counts.push((target.to_string(), reqs.len()));
        ensure!(
            reqs.len() <= budget,
            "{target:?}: {} requests (budget {budget}): {reqs:#?}",
            reqs.len()
        );
        no_cluster_lists(target, &reqs, true)?;
        let mut all_args = args.clone();
        all_args.extend(["--fetch", "all"]);
        let (want, all_reqs) = traced(&ns, &all_args).await?;
        // Below the cost of the whole LISTs (a namespace's questions cost about the same).
        ensure!(
            all_reqs.len() > reqs.len() || budget > 8,
            "{target:?}: --fetch all made {} requests, the plan {}",
            all_reqs.len(),
            reqs.len()
        );
        same_trace(&format!("{target:?}: the plan / --fetch all"), &got, &want)?;
    }
    // A node: pods by spec.nodeName, never every pod of the cluster (every volume, yes: which
    // are pinned to the node is in their node affinity, which no selector reaches).
    let (_, reqs) = traced(&ns, &["pvc-trace", &node_target, "-o", "json"]).await?;
    ensure!(
        reqs.iter()
            .any(|r| r.verb == "list" && r.uri.contains("fieldSelector=spec.nodeName")),
        "{reqs:#?}"
    );
    no_cluster_lists(&node_target, &reqs, false)?;
    // Pages: with --chunk-size 1 every whole-kind LIST comes a page at a time, each next page
    // asked for as soon as the previous one's continue token has arrived (pipelined); the
    // trace is the one an unpaginated LIST gives.
    let paged = |size| {
        [
            "pvc-trace",
            "--fetch",
            "all",
            "-o",
            "json",
            "--chunk-size",
            size,
        ]
    };
    let (one, reqs) = traced(&ns, &paged("1")).await?;
    let (whole, _) = traced(&ns, &paged("0")).await?;
    let pod_pages = reqs
        .iter()
        .filter(|r| r.verb == "list" && r.uri.contains("/pods?"))
        .count();
    ensure!(
        pod_pages >= 3 && reqs.iter().any(|r| r.uri.contains("continue=")),
        "3 pods in pages of 1: {pod_pages} pod LISTs: {reqs:#?}"
    );
    same_trace("pages of 1 / one page", &one, &whole)?;
    // A missing target: a clean "not found", in a handful of requests.
    let out = ns.kubectl(&["pvc-trace", "pod/no-such-pod"]).await?;
    ensure!(out.code == 3, "{}\n{}", out.stdout, out.stderr);
    eprintln!("requests per target shape: {counts:?}");
    Ok(())
}
