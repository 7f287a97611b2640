//! pvc-trace against the real local control plane, run through kubectl's own plugin discovery
//! (`kubectl pvc-trace …` finds `kubectl-pvc_trace` on PATH).

use std::time::Duration;

use anyhow::{Context, Result};
use e2e::{NODES, TestNs, wait_for};
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use serde_json::{Value, json};

const T: Duration = Duration::from_secs(120);

async fn wait_claim_phase(ns: &TestNs, claim: &str, phase: &str) -> Result<PersistentVolumeClaim> {
    let api = ns.api::<PersistentVolumeClaim>();
    wait_for(&format!("claim {claim} {phase}"), T, || {
        let api = api.clone();
        let claim = claim.to_string();
        let phase = phase.to_string();
        async move {
            Ok(api.get_opt(&claim).await?.filter(|c| {
                c.status.as_ref().and_then(|s| s.phase.as_deref()) == Some(phase.as_str())
            }))
        }
    })
    .await
}

fn diag_codes(report: &Value) -> Vec<(String, String)> {
    report["diagnostics"]
        .as_array()
        .map(|ds| {
            ds.iter()
                .map(|d| {
                    (
                        d["code"].as_str().unwrap_or_default().to_string(),
                        d["object"]["name"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn statefulset_claims_bound_by_the_pv_controller_trace_to_their_backends() -> Result<()> {
    let ns = TestNs::new("pvc-trace-sts").await?;
    let class = format!("{}-static", ns.name);
    let (node0, zone0) = NODES[0];
    let (node1, _) = NODES[1];
    ns.apply(json!({
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": class, "labels": ns.owner_labels()},
        "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "Immediate",
        "reclaimPolicy": "Retain",
    }))
    .await?;
    let pv = |suffix: &str, source: Value, affinity: Option<Value>| {
        let mut spec = json!({
            "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain", "storageClassName": class,
        });
        let obj = spec.as_object_mut().expect("object");
        for (k, v) in source.as_object().expect("source").clone() {
            obj.insert(k, v);
        }
        if let Some(a) = affinity {
            obj.insert("nodeAffinity".into(), a);
        }
        json!({"apiVersion": "v1", "kind": "PersistentVolume",
               "metadata": {"name": format!("{}-{suffix}", ns.name), "labels": ns.owner_labels()},
               "spec": spec})
    };
    let term = |key: &str, val: &str| {
        json!({"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": key, "operator": "In", "values": [val]}]}]}})
    };
    ns.apply(pv(
        "ebs",
        json!({"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-0e2e5a1b2c3d4e5f6", "fsType": "ext4"}}),
        Some(term("topology.kubernetes.io/zone", zone0)),
    ))
    .await?;
    ns.apply(pv(
        "nfs",
        json!({"nfs": {"server": "10.44.0.7", "path": "/exports/e2e"}}),
        None,
    ))
    .await?;
    ns.apply(pv(
        "local",
        json!({"local": {"path": "/mnt/disks/e2e-ssd"}}),
        Some(term("kubernetes.io/hostname", node1)),
    ))
    .await?;
    ns.apply(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "db"},
        "spec": {"clusterIP": "None", "selector": {"app": "db"}, "ports": [{"port": 5432}]},
    }))
    .await?;
    ns.apply(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "serviceName": "db", "replicas": 3, "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "postgres:16",
                    "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}]}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": class,
                         "resources": {"requests": {"storage": "1Gi"}}}}],
        },
    }))
    .await?;
    for i in 0..3 {
        wait_claim_phase(&ns, &format!("data-db-{i}"), "Bound").await?;
    }
    for i in 0..3 {
        ns.wait_pod_running(&format!("db-{i}"), T).await?;
    }

    // kubectl finds the plugin.
    let list = ns.kubectl(&["plugin", "list"]).await?;
    assert!(
        list.stdout.contains("kubectl-pvc_trace"),
        "{}\n{}",
        list.stdout,
        list.stderr
    );

    let out = ns
        .kubectl(&["pvc-trace", "sts/db", "-o", "json"])
        .await?
        .ok()?;
    let r = out.json()?;
    assert_eq!(r["kind"], "PvcTrace");
    assert_eq!(r["source"], "cluster");
    let w = &r["roots"][0];
    assert_eq!(w["type"], "workload");
    let expected = w["expectedClaims"].as_array().context("expectedClaims")?;
    assert_eq!(expected.len(), 3);
    let mut summaries = Vec::new();
    for e in expected {
        assert_eq!(e["present"], true, "{e}");
        assert_eq!(e["claim"]["phase"], "Bound", "{e}");
        summaries.push(
            e["claim"]["volume"]["backend"]["summary"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
        assert_eq!(
            e["claim"]["class"]["provisioner"],
            "kubernetes.io/no-provisioner"
        );
    }
    summaries.sort();
    assert!(
        summaries
            .iter()
            .any(|s| s.contains("vol-0e2e5a1b2c3d4e5f6") && s.contains(zone0)),
        "{summaries:?}"
    );
    assert!(
        summaries
            .iter()
            .any(|s| s.contains("10.44.0.7:/exports/e2e")),
        "{summaries:?}"
    );
    assert!(
        summaries
            .iter()
            .any(|s| s.contains("/mnt/disks/e2e-ssd") && s.contains(node1)),
        "{summaries:?}"
    );
    // The pods landed where their volumes' affinity says, so no conflict is reported.
    let codes = diag_codes(&r);
    assert!(
        !codes
            .iter()
            .any(|(c, _)| c == "NodeAffinityConflict" || c == "NoNodeMatchesVolume"),
        "{codes:?}"
    );

    // The pod on the EBS volume is in zone0 (node0); tree output draws the chain.
    let tree = ns.kubectl(&["pvc-trace", "sts/db"]).await?.ok()?;
    assert!(
        tree.stdout
            .contains("backend: AWS EBS vol-0e2e5a1b2c3d4e5f6"),
        "{}",
        tree.stdout
    );
    assert!(
        tree.stdout
            .contains(&format!("statefulset/db -n {} replicas 3", ns.name)),
        "{}",
        tree.stdout
    );
    let ebs_pod = expected
        .iter()
        .find(|e| {
            e["claim"]["volume"]["backend"]["summary"]
                .as_str()
                .is_some_and(|s| s.contains("vol-0e2e"))
        })
        .and_then(|e| e["claim"]["usedBy"][0]["name"].as_str())
        .context("EBS claim user")?
        .to_string();
    let p = ns
        .kubectl(&["pvc-trace", &ebs_pod, "-o", "json"])
        .await?
        .ok()?
        .json()?;
    assert_eq!(p["roots"][0]["node"], node0);

    // Scale down to 1: the claims of ordinals 1 and 2 are left over, not "expected".
    ns.kubectl(&["scale", "sts/db", "--replicas=1"])
        .await?
        .ok()?;
    let r = wait_for("leftover claims", T, || {
        let ns = &ns;
        async move {
            let r = ns
                .kubectl(&["pvc-trace", "sts/db", "-o", "json"])
                .await?
                .ok()?
                .json()?;
            Ok((r["roots"][0]["leftoverClaims"].as_array().map(Vec::len) == Some(2)).then_some(r))
        }
    })
    .await?;
    assert_eq!(
        r["roots"][0]["expectedClaims"].as_array().map(Vec::len),
        Some(1)
    );
    Ok(())
}

#[tokio::test]
async fn pending_claim_with_a_missing_class_and_a_released_volume() -> Result<()> {
    let ns = TestNs::new("pvc-trace-problems").await?;
    ns.apply(json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "orphan-cache"},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "no-such-class",
                 "resources": {"requests": {"storage": "1Gi"}}},
    }))
    .await?;
    let out = ns
        .kubectl(&[
            "pvc-trace",
            "pvc/orphan-cache",
            "-o",
            "json",
            "--fail-on",
            "error",
        ])
        .await?;
    assert_eq!(out.code, 5, "{}\n{}", out.stdout, out.stderr);
    let r = out.json()?;
    assert!(
        diag_codes(&r).contains(&("StorageClassNotFound".into(), "orphan-cache".into())),
        "{r}"
    );

    // A Retain volume whose claim is gone: the PV controller marks it Released.
    let pv_name = format!("{}-released", ns.name);
    ns.apply(json!({
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": pv_name, "labels": ns.owner_labels()},
        "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                 "persistentVolumeReclaimPolicy": "Retain",
                 "claimRef": {"namespace": ns.name, "name": "was-here", "uid": "5f0e7a3c-0000-4000-8000-000000000001"},
                 "nfs": {"server": "10.44.0.9", "path": "/exports/old"}},
    }))
    .await?;
    let pvs = ns.api_all::<PersistentVolume>();
    wait_for("volume Released", T, || {
        let pvs = pvs.clone();
        let n = pv_name.clone();
        async move {
            Ok(pvs
                .get_opt(&n)
                .await?
                .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Released")))
        }
    })
    .await?;
    let r = ns
        .kubectl(&["pvc-trace", &format!("pv/{pv_name}"), "-o", "json"])
        .await?
        .ok()?
        .json()?;
    assert_eq!(r["roots"][0]["type"], "volume");
    assert_eq!(r["roots"][0]["claimStatus"], "missing");
    assert_eq!(
        r["roots"][0]["volume"]["backend"]["summary"],
        "NFS 10.44.0.9:/exports/old"
    );
    assert!(
        diag_codes(&r).contains(&("VolumeReleased".into(), pv_name.clone())),
        "{r}"
    );
    // -A lists it among the volumes with no live claim.
    let all = ns
        .kubectl(&["pvc-trace", "-A", "-o", "json"])
        .await?
        .ok()?
        .json()?;
    assert!(
        all["roots"]
            .as_array()
            .is_some_and(|rs| rs.iter().any(|x| x["volume"]["name"] == pv_name.as_str())),
        "released volume listed with -A"
    );
    Ok(())
}

#[tokio::test]
async fn namespace_scoped_user_gets_partial_results_and_exit_4_when_the_target_is_forbidden()
-> Result<()> {
    let ns = TestNs::new("pvc-trace-rbac").await?;
    ns.apply(json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "manual",
                 "resources": {"requests": {"storage": "1Gi"}}},
    }))
    .await?;
    // Namespaced reads only: no PVs, classes, attachments or nodes.
    ns.grant_restricted(
        "reader",
        json!([
            {"apiGroups": [""], "resources": ["persistentvolumeclaims", "events"], "verbs": ["get", "list"]},
            {"apiGroups": ["apps"], "resources": ["statefulsets", "deployments", "replicasets"], "verbs": ["get", "list"]},
        ]),
    )
    .await?;
    // The target needs pods, which the user may not list: exit 4, naming verb/resource/namespace.
    let out = ns
        .kubectl_as_restricted(&["pvc-trace", "pod/anything"])
        .await?;
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "forbidden: cannot list pods in namespace \"{}\"",
            ns.name
        )),
        "{}",
        out.stderr
    );
    // A claim target works, with what could not be seen marked unknown, exit 0.
    let out = ns
        .kubectl_as_restricted(&["pvc-trace", "pvc/data", "-o", "json"])
        .await?;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let r = out.json()?;
    let unknown: Vec<String> = r["unknown"]
        .as_array()
        .context("unknown")?
        .iter()
        .filter(|g| g["reason"] == "forbidden")
        .filter_map(|g| g["resource"].as_str().map(str::to_string))
        .collect();
    // Nodes: no volume this claim reaches has node affinity, so none is needed or asked for.
    for res in ["persistentvolumes", "storageclasses", "pods"] {
        assert!(
            unknown.iter().any(|u| u == res),
            "{res} not marked forbidden: {unknown:?}"
        );
    }
    assert!(diag_codes(&r).iter().any(|(c, _)| c == "Forbidden"));
    let tree = ns.kubectl_as_restricted(&["pvc-trace", "pvc/data"]).await?;
    assert_eq!(tree.code, 0, "{}", tree.stderr);
    assert!(
        tree.stdout.contains("forbidden: list persistentvolumes"),
        "{}",
        tree.stdout
    );
    Ok(())
}

#[tokio::test]
async fn a_server_that_is_not_the_api_is_an_error_naming_server_and_path_not_an_empty_success()
-> Result<()> {
    // The real API server behind a wrong path prefix (as behind a misconfigured proxy): every
    // LIST answers 404. That used to be "No volumes found.", exit 0, even with --fail-on.
    let ns = TestNs::new("pvc-trace-wrong-server").await?;
    let text = std::fs::read_to_string(&ns.kubeconfig)?;
    let server = &ns.cluster.server;
    let wrong = format!("{server}/not-kubernetes");
    assert!(text.contains(server.as_str()), "kubeconfig names {server}");
    let path = ns.kubeconfig.with_extension("wrong-prefix");
    std::fs::write(&path, text.replace(server.as_str(), &wrong))?;
    for args in [
        &["pvc-trace", "-A"][..],
        &["pvc-trace", "-A", "--fail-on", "warning", "-o", "json"][..],
        &["backup", "list", "-A"][..],
    ] {
        let out = e2e::run_kubectl(ns.cluster, &path, args).await?;
        assert_eq!(out.code, 1, "{args:?}: {}\n{}", out.stdout, out.stderr);
        assert!(out.stdout.trim().is_empty(), "{args:?}: {}", out.stdout);
        assert!(out.stderr.contains(&wrong), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("GET /api"), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("HTTP 404"), "{args:?}: {}", out.stderr);
    }
    Ok(())
}

/// kubectl's `--as`: the admin impersonating the restricted user gets what that user gets
/// (exit 4 on a forbidden target), the API server sees the impersonation (audit log), and an
/// unknown `--user` is refused before any request.
#[tokio::test]
async fn as_the_restricted_user_is_forbidden_and_an_unknown_user_is_refused() -> Result<()> {
    let ns = TestNs::new("pvc-trace-as").await?;
    let user = ns.cluster.restricted_user.clone();
    // As admin: allowed (the pod does not exist: exit 3).
    let out = ns.kubectl(&["pvc-trace", "pod/nobody"]).await?;
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    // As the restricted user, who may not list pods here: exit 4.
    let out = ns
        .kubectl(&["pvc-trace", "pod/nobody", "--as", &user])
        .await?;
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("forbidden"), "{}", out.stderr);
    // The API server saw the impersonation, in this namespace.
    let needle = format!("\"impersonatedUser\":{{\"username\":\"{user}\"");
    let audit = wait_for("the impersonated request in the audit log", T, || {
        let path = ns.cluster.audit_log.clone();
        let needle = needle.clone();
        let ns_name = ns.name.clone();
        async move {
            let text = tokio::fs::read_to_string(&path).await.unwrap_or_default();
            Ok(text
                .lines()
                .find(|l| {
                    l.contains(&needle)
                        && l.contains(&format!("/namespaces/{ns_name}/pods"))
                        && l.contains("kubectl-pvc_trace")
                })
                .map(str::to_string))
        }
    })
    .await?;
    assert!(audit.contains("\"code\":403"), "{audit}");
    // A typo in --user: exit 1, named, nothing sent as anyone else.
    let out = ns
        .kubectl(&["pvc-trace", "pod/nobody", "--user", "no-such-user"])
        .await?;
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("--user \"no-such-user\""),
        "{}",
        out.stderr
    );
    Ok(())
}
