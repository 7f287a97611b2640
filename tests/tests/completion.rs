//! Completion against the real local control plane: object names, namespaces and contexts,
//! through the plugins' `__complete` mode and through kubectl itself (kubectl ≥ 1.26 runs the
//! `kubectl_complete-<plugin>` shim it finds on PATH: `kubectl __complete pvc-trace pod/`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use e2e::{CmdOutput, TestNs, plugin_dir, repo_root, run_kubectl_with};
use serde_json::json;

/// PATH with the three shims first, then what the harness gives kubectl (the cluster's bin,
/// the plugin dir, the inherited PATH).
fn shim_path(ns: &TestNs) -> String {
    let mut parts: Vec<PathBuf> = ["pvc-trace", "backup", "sts-bootstrap"]
        .iter()
        .map(|p| repo_root().join("plugins").join(p).join("completion"))
        .collect();
    parts.push(ns.cluster.state_dir.join("bin"));
    parts.push(plugin_dir());
    if let Some(p) = std::env::var_os("PATH") {
        parts.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(parts)
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

async fn kubectl_complete(ns: &TestNs, kubeconfig: &Path, args: &[&str]) -> Result<CmdOutput> {
    let path = shim_path(ns);
    let mut full = vec!["__complete"];
    full.extend_from_slice(args);
    run_kubectl_with(
        ns.cluster,
        kubeconfig,
        &full,
        &[("PATH", &path)],
        Duration::from_secs(60),
    )
    .await?
    .ok()
}

/// The candidates of a `__complete` answer (values only) and its directive line.
fn values(out: &str) -> (Vec<String>, String) {
    let lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    let directive = lines.last().copied().unwrap_or_default().to_string();
    let values = lines
        .iter()
        .filter(|l| !l.starts_with(':'))
        .map(|l| l.split('\t').next().unwrap_or_default().to_string())
        .collect();
    (values, directive)
}

async fn plugin_complete(
    ns: &TestNs,
    bin: &str,
    kubeconfig: &Path,
    args: &[&str],
) -> Result<CmdOutput> {
    let out = tokio::process::Command::new(plugin_dir().join(bin))
        .arg("__complete")
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("HOME", ns.dir())
        .output()
        .await?;
    Ok(CmdOutput {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

#[tokio::test]
async fn names_namespaces_and_contexts_from_the_cluster_through_kubectl() -> Result<()> {
    let ns = TestNs::new("completion").await?;
    for name in ["db-0", "db-1", "web"] {
        ns.apply(json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        }))
        .await?;
    }
    ns.apply(json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data-db-0"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }))
    .await?;
    ns.apply(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {"replicas": 0, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "postgres", "image": "postgres:16"}]}}},
    }))
    .await?;
    let kc = ns.kubeconfig.clone();

    // kubectl runs the shim, the shim runs the plugin: names of the kind typed, in the
    // kubeconfig's namespace.
    let out = kubectl_complete(&ns, &kc, &["pvc-trace", "pod/"]).await?;
    let (v, d) = values(&out.stdout);
    assert_eq!(v, ["pod/db-0", "pod/db-1", "pod/web"], "{out:?}");
    assert_eq!(d, ":4");
    let (v, _) = values(
        &kubectl_complete(&ns, &kc, &["pvc-trace", "pod/db"])
            .await?
            .stdout,
    );
    assert_eq!(v, ["pod/db-0", "pod/db-1"]);
    let (v, _) = values(
        &kubectl_complete(&ns, &kc, &["pvc-trace", "pvc/"])
            .await?
            .stdout,
    );
    assert_eq!(v, ["pvc/data-db-0"]);
    // kubectl's `KIND NAME` form.
    let (v, _) = values(
        &kubectl_complete(&ns, &kc, &["pvc-trace", "sts", ""])
            .await?
            .stdout,
    );
    assert_eq!(v, ["db"]);
    // -n NAMESPACE: namespaces; and names in the namespace -n gives (from another default).
    let (v, _) = values(
        &kubectl_complete(&ns, &kc, &["pvc-trace", "-n", "e2e-completion"])
            .await?
            .stdout,
    );
    assert!(v.contains(&ns.name), "{v:?}");
    let admin = ns.cluster.kubeconfig.clone();
    let (v, _) = values(
        &kubectl_complete(&ns, &admin, &["pvc-trace", "-n", &ns.name, "pod/w"])
            .await?
            .stdout,
    );
    assert_eq!(v, ["pod/web"]);
    // Contexts from the kubeconfig.
    let (v, _) = values(
        &kubectl_complete(&ns, &kc, &["pvc-trace", "--context", ""])
            .await?
            .stdout,
    );
    assert!(!v.is_empty(), "no context offered");
    // sts-bootstrap and backup: StatefulSets; a backup's kinds and names.
    let (v, _) = values(
        &kubectl_complete(&ns, &kc, &["sts-bootstrap", "apply", ""])
            .await?
            .stdout,
    );
    assert_eq!(v, ["db"]);
    let (v, _) = values(
        &kubectl_complete(&ns, &kc, &["backup", "create", "sts/"])
            .await?
            .stdout,
    );
    assert_eq!(v, ["sts/db"]);
    Ok(())
}

#[tokio::test]
async fn forbidden_lists_give_no_names_and_no_message() -> Result<()> {
    let ns = TestNs::new("completion-forbidden").await?;
    ns.apply(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "secret-name"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }))
    .await?;
    // The restricted user may not list pods here: no candidates, exit 0, nothing on stderr.
    let out = plugin_complete(
        &ns,
        "kubectl-pvc_trace",
        &ns.restricted_kubeconfig,
        &["pod/"],
    )
    .await?;
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, ":4\n", "")
    );
    // The admin sees it, through the same binary.
    let out = plugin_complete(&ns, "kubectl-pvc_trace", &ns.kubeconfig, &["pod/"]).await?;
    assert_eq!(out.stdout, "pod/secret-name\n:4\n");
    Ok(())
}
