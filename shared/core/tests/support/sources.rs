//! Test support shared by the plugins' `tests/sources.rs` (included with `#[path]`): every
//! dump fixture of the repository, and a troubleshoot.sh support bundle built from a dump.
//!
//! The bundle has the layout of troubleshoot's `clusterResources` collector
//! (replicatedhq/troubleshoot `pkg/collect/cluster_resources.go`): under
//! `support-bundle-…/cluster-resources/`, one JSON list per kind and namespace
//! (`pods/NS.json`, `pvcs/NS.json`, …), one per cluster-scoped kind (`pvs.json`,
//! `storage-classes.json`, `nodes.json`, …), custom resources by CRD name, `KIND-errors.json`
//! beside them, plus what a reader must skip: pod logs, kinds we do not read, the analysis.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

/// Every dump fixture of the repository (YAML or JSON files that hold a `kind`), sorted.
pub fn fixtures() -> Vec<PathBuf> {
    let root = repo_root();
    let mut out = Vec::new();
    let mut dirs = vec![root.join("examples")];
    for p in ["pvc-trace", "backup", "sts-bootstrap"] {
        dirs.push(root.join("plugins").join(p).join("tests/fixtures"));
    }
    while let Some(d) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
                continue;
            }
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !matches!(ext, "yaml" | "yml" | "json") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            if text.contains("kind:") || text.contains("\"kind\"") {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(out.len() >= 8, "fixtures not found: {out:?}");
    out
}

/// The objects of a YAML (one document, a List or several documents) or JSON dump.
pub fn objects(dump: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dump).unwrap();
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    let mut out = Vec::new();
    for d in docs {
        match d.get("items").and_then(Value::as_array) {
            Some(items) if d["kind"].as_str().is_some_and(|k| k.ends_with("List")) => {
                out.extend(items.iter().cloned())
            }
            _ if d.is_null() => {}
            _ => out.push(d),
        }
    }
    out
}

/// Where troubleshoot puts an object of `kind` (None for namespaced kinds means the file is
/// per namespace): (path under cluster-resources, list kind, apiVersion).
fn place(kind: &str, ns: &str) -> (String, String, &'static str) {
    let per_ns = |dir: &str| format!("{dir}/{ns}.json");
    let (path, api) = match kind {
        "Pod" => (per_ns("pods"), "v1"),
        "PersistentVolumeClaim" => (per_ns("pvcs"), "v1"),
        "Service" => (per_ns("services"), "v1"),
        "Event" => (per_ns("events"), "v1"),
        "ConfigMap" => (per_ns("configmaps"), "v1"),
        "Deployment" => (per_ns("deployments"), "apps/v1"),
        "ReplicaSet" => (per_ns("replicasets"), "apps/v1"),
        "StatefulSet" => (per_ns("statefulsets"), "apps/v1"),
        "DaemonSet" => (per_ns("daemonsets"), "apps/v1"),
        "Job" => (per_ns("jobs"), "batch/v1"),
        "CronJob" => (per_ns("cronjobs"), "batch/v1"),
        "PersistentVolume" => ("pvs.json".into(), "v1"),
        "Node" => ("nodes.json".into(), "v1"),
        "StorageClass" => ("storage-classes.json".into(), "storage.k8s.io/v1"),
        "VolumeAttachment" => ("volumeattachments.json".into(), "storage.k8s.io/v1"),
        "VolumeSnapshot" => (
            per_ns("custom-resources/volumesnapshots.snapshot.storage.k8s.io"),
            "snapshot.storage.k8s.io/v1",
        ),
        "VolumeSnapshotClass" => (
            "custom-resources/volumesnapshotclasses.snapshot.storage.k8s.io.json".into(),
            "snapshot.storage.k8s.io/v1",
        ),
        "VolumeSnapshotContent" => (
            "custom-resources/volumesnapshotcontents.snapshot.storage.k8s.io.json".into(),
            "snapshot.storage.k8s.io/v1",
        ),
        other => (per_ns(&format!("other-{}", other.to_lowercase())), "v1"),
    };
    (path, format!("{kind}List"), api)
}

/// A support bundle of `dump`'s objects in `out`: `out/unpacked/support-bundle-…/` and
/// `out/bundle.tar.gz` (made with the system's tar). Returns (unpacked parent, tar.gz).
pub fn bundle_from_dump(dump: &Path, out: &Path) -> (PathBuf, PathBuf) {
    let top = out.join("unpacked/support-bundle-2026-12-03T10_00_00");
    let cr = top.join("cluster-resources");
    let mut files: BTreeMap<String, (String, &'static str, Vec<Value>)> = BTreeMap::new();
    for o in objects(dump) {
        let kind = o["kind"].as_str().unwrap_or("").to_string();
        let ns = o
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string();
        let (path, list, api) = place(&kind, &ns);
        files
            .entry(path)
            .or_insert_with(|| (list, api, Vec::new()))
            .2
            .push(o);
    }
    for (path, (list, api, items)) in &files {
        let p = cr.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        // Recent collectors write typed lists; older ones the items alone: events and
        // custom resources the old way.
        let body = if path.starts_with("events/") || path.starts_with("custom-resources/") {
            json!(items)
        } else {
            json!({"kind": list, "apiVersion": api, "metadata": {"resourceVersion": "4242"}, "items": items})
        };
        std::fs::write(&p, serde_json::to_string_pretty(&body).unwrap()).unwrap();
        let errors = cr.join(format!(
            "{}-errors.json",
            path.split('/').next().unwrap().trim_end_matches(".json")
        ));
        if !errors.exists() && !path.starts_with("custom-resources/") {
            std::fs::write(errors, "[]").unwrap();
        }
    }
    // What a reader must skip.
    let logs = cr.join("pods/logs/shop/app-0");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("db.log"), "2026-12-03 not json {\n").unwrap();
    std::fs::write(logs.join("db-previous.log"), "[broken\n").unwrap();
    std::fs::write(
        cr.join("namespaces.json"),
        r#"{"kind":"NamespaceList","apiVersion":"v1","items":[]}"#,
    )
    .unwrap();
    std::fs::write(cr.join("groups.json"), "[{\"name\": \"apps\"}]").unwrap();
    std::fs::create_dir_all(cr.join("auth-cani-list")).unwrap();
    std::fs::write(
        cr.join("auth-cani-list/shop.json"),
        "[{\"verbs\": [\"*\"]}]",
    )
    .unwrap();
    std::fs::write(
        top.join("version.yaml"),
        "apiVersion: troubleshoot.sh/v1beta2\nkind: SupportBundleVersion\n",
    )
    .unwrap();
    std::fs::write(top.join("analysis.json"), "[]").unwrap();
    let tgz = out.join("bundle.tar.gz");
    let st = std::process::Command::new("tar")
        .arg("-C")
        .arg(out.join("unpacked"))
        .arg("-czf")
        .arg(&tgz)
        .arg("support-bundle-2026-12-03T10_00_00")
        .status()
        .unwrap();
    assert!(st.success(), "tar failed");
    (out.join("unpacked"), tgz)
}
