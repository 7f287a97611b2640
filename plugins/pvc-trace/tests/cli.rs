#![allow(clippy::unwrap_used)]
//! The binary as a user runs it: exit codes, error text, stdin, formats. No cluster.

use assert_cmd::Command;
use predicates::prelude::*;

const DEMO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/demo-cluster.yaml"
);

fn bin() -> Command {
    let mut c = Command::cargo_bin("kubectl-pvc_trace").unwrap();
    c.env_remove("KUBECONFIG").env("HOME", "/nonexistent");
    c
}

#[test]
fn demo_table_all_namespaces() {
    bin()
        .args(["--from-file", DEMO, "--complete", "-A"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "AWS EBS vol-0a3f5c2e9b81d4471 in eu-west-1a",
        ))
        .stdout(predicate::str::contains(
            "NFS 10.20.0.15:/exports/legacy/reports",
        ))
        .stdout(predicate::str::contains("StorageClassNotFound"));
}

#[test]
fn fail_on_error_exits_5_and_warning_threshold_works() {
    bin()
        .args(["--from-file", DEMO, "--complete", "--fail-on", "error"])
        .assert()
        .code(5);
    // postgres-1's chain is healthy: no error, no warning.
    bin()
        .args([
            "--from-file",
            DEMO,
            "--complete",
            "-n",
            "shop",
            "pod/postgres-1",
            "--fail-on",
            "warning",
        ])
        .assert()
        .code(0);
    bin()
        .args([
            "--from-file",
            DEMO,
            "--complete",
            "-n",
            "shop",
            "pvc/reports-cache",
            "--fail-on",
            "error",
        ])
        .assert()
        .code(5);
}

#[test]
fn problems_only() {
    bin()
        .args(["--from-file", DEMO, "--problems"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("uploads-files"))
        .stdout(predicate::str::contains("postgres-1 ").not());
}

#[test]
fn json_is_the_documented_schema() {
    let out = bin()
        .args(["--from-file", DEMO, "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["apiVersion"], "kubectl-stateful.io/v1alpha1");
    assert_eq!(v["kind"], "PvcTrace");
    assert!(v["summary"]["errors"].as_u64().unwrap() > 0);
}

#[test]
fn stdin_dump() {
    let text = std::fs::read_to_string(DEMO).unwrap();
    bin()
        .args([
            "--from-file",
            "-",
            "-n",
            "shop",
            "sts/postgres",
            "-o",
            "tree",
        ])
        .write_stdin(text)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("leftover claim data-postgres-3"));
}

#[test]
fn missing_object_is_exit_3_with_its_name() {
    bin()
        .args(["--from-file", DEMO, "-n", "shop", "pod/nope"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "pod \"nope\" not found in namespace \"shop\"",
        ));
    bin()
        .args(["--from-file", DEMO, "pv/nope"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "persistentvolume \"nope\" not found",
        ));
}

#[test]
fn usage_errors_exit_2() {
    bin()
        .args(["--from-file", DEMO, "svc/x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unsupported target kind"));
    bin()
        .args(["--from-file", DEMO, "pod/Bad_Name"])
        .assert()
        .code(2);
    bin()
        .args(["--from-file", DEMO, "-A", "-n", "x"])
        .assert()
        .code(2);
    bin()
        .args(["--from-file", DEMO, "-l", "a in b"])
        .assert()
        .code(2);
    bin().args(["--bogus-flag"]).assert().code(2);
    bin()
        .args(["--from-file", DEMO, "-o", "xml"])
        .assert()
        .code(2);
    bin()
        .args(["--request-timeout", "5x", "--from-file", DEMO])
        .assert()
        .code(2);
}

#[test]
fn malformed_file_names_file_and_line_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("broken.yaml");
    std::fs::write(
        &f,
        "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  metadata: {name: [\n",
    )
    .unwrap();
    let out = bin()
        .args(["--from-file", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.yaml:"), "{err}");
    bin()
        .args(["--from-file", "/no/such/file.yaml"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("/no/such/file.yaml"));
    // Binary junk: an error, never a panic (exit 101).
    std::fs::write(&f, [0xff, 0xfe, 0x00, 0x01]).unwrap();
    bin()
        .args(["--from-file", f.to_str().unwrap()])
        .assert()
        .code(1);
}

#[test]
fn no_cluster_and_no_file_is_a_clear_error() {
    bin()
        .args(["pod/x"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no kubeconfig found"));
}

#[test]
fn unreachable_server_fails_within_request_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    // A port nobody listens on: connection refused, quickly, with the server named.
    std::fs::write(
        &kc,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:9\", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u, namespace: ns}\ncurrent-context: x\n",
    )
    .unwrap();
    let start = std::time::Instant::now();
    bin()
        .args([
            "--kubeconfig",
            kc.to_str().unwrap(),
            "--request-timeout",
            "3s",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("127.0.0.1:9"));
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn namespace_less_manifests_take_n_or_default_and_unknown_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("manifest.yaml");
    std::fs::write(
        &f,
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec: {accessModes: [ReadWriteOnce], storageClassName: fast, volumeName: pv-1, resources: {requests: {storage: 1Gi}}}\n",
    )
    .unwrap();
    let path = f.to_str().unwrap();
    bin()
        .args([
            "--from-file",
            path,
            "-n",
            "default",
            "pvc/data",
            "--fail-on",
            "warning",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "not in the dump: persistentvolumes",
        ))
        .stdout(predicate::str::contains("kubectl get pv pv-1 -o yaml"));
    bin()
        .args(["--from-file", path, "-n", "prod", "pvc/data"])
        .assert()
        .code(0);
    // Marked complete, a dump that holds volumes says the absent one is missing; a kind the
    // dump holds none of stays unknown.
    bin()
        .args([
            "--from-file",
            path,
            "--complete",
            "pvc/data",
            "--fail-on",
            "error",
        ])
        .assert()
        .code(0);
    let pvs = dir.path().join("pvs.yaml");
    std::fs::write(
        &pvs,
        "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: other}\nspec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], hostPath: {path: /x}}\n",
    )
    .unwrap();
    bin()
        .args([
            "--from-file",
            path,
            "--from-file",
            pvs.to_str().unwrap(),
            "--complete",
            "pvc/data",
            "--fail-on",
            "error",
        ])
        .assert()
        .code(5)
        .stdout(predicate::str::contains("VolumeMissing"));
}
