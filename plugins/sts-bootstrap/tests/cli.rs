#![allow(clippy::unwrap_used)]
//! The binary against fixture manifests (`--from-file`): no cluster needed.

use assert_cmd::Command;
use predicates::prelude::*;

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/bootstrap/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn bin() -> Command {
    Command::cargo_bin("kubectl-sts_bootstrap").unwrap()
}

#[test]
fn plan_from_file_json_has_header_and_no_secret() {
    let out = bin()
        .args([
            "plan",
            "todo-db",
            "-n",
            "default",
            "-o",
            "json",
            "--from-file",
        ])
        .arg(fixture("todo-db.yaml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("PLANTED"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["apiVersion"], "kubectl-stateful.io/v1alpha1");
    assert_eq!(v["kind"], "BootstrapPlan");
    assert_eq!(v["engine"], "postgres");
    assert_eq!(
        v["steps"].as_array().unwrap().last().unwrap()["id"],
        "reseed/todo-db-1"
    );
}

#[test]
fn mongo_plan_from_file_text() {
    bin()
        .args(["apply", "--dry-run", "mongo", "-n", "db", "--from-file"])
        .arg(fixture("mongo-with-helper.yaml"))
        .assert()
        .success()
        .stdout(predicate::str::contains("rs.initiate set \"rs0\""))
        .stdout(predicate::str::contains(
            "mongo-2.mongo.db.svc.cluster.local:27017",
        ))
        .stdout(predicate::str::contains("PLANTED").not());
}

#[test]
fn mount_point_data_dir_is_refused_with_exit_5() {
    bin()
        .args(["plan", "todo-db", "-n", "default", "--from-file"])
        .arg(fixture("todo-db-mountpoint.yaml"))
        .assert()
        .code(5)
        .stdout(predicate::str::contains("mount point"));
}

#[test]
fn usage_errors_exit_2_and_missing_sts_exits_3() {
    bin()
        .args(["apply", "todo-db", "-n", "default", "--from-file"])
        .arg(fixture("todo-db.yaml"))
        .assert()
        .code(2);
    bin()
        .args(["plan", "Bad;Name", "-n", "default", "--from-file"])
        .arg(fixture("todo-db.yaml"))
        .assert()
        .code(2);
    bin()
        .args(["plan", "nope", "-n", "default", "--from-file"])
        .arg(fixture("todo-db.yaml"))
        .assert()
        .code(3);
}

#[test]
fn help_says_kubectl_sts_bootstrap_and_groups_connection_flags() {
    for sub in ["plan", "apply", "status"] {
        let out = bin().args([sub, "-h"]).output().unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(
            help.contains(&format!("Usage: kubectl sts-bootstrap {sub}")),
            "{help}"
        );
        let (_, conn) = help
            .split_once("Connection (kubectl's flags):")
            .unwrap_or_else(|| panic!("{sub}: {help}"));
        // The section ends at the first blank line (examples follow).
        let conn = conn.split("\n\n").next().unwrap_or_default();
        for f in ["--as <USER>", "--token", "-s, --server", "--context"] {
            assert!(conn.contains(f), "{sub}: {f} under Connection: {help}");
        }
        assert!(!conn.contains("--from-file"), "{sub}: {help}");
    }
}

#[test]
fn unknown_context_is_an_error_naming_it_and_the_files() {
    let kc = std::env::temp_dir().join(format!("sts-bootstrap-cli-kc-{}", std::process::id()));
    std::fs::write(
        &kc,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:9\"}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n",
    )
    .unwrap();
    bin()
        .args(["status", "db", "--context", "gone", "--kubeconfig"])
        .arg(&kc)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--context \"gone\""))
        .stderr(predicate::str::contains(kc.to_string_lossy().as_ref()));
    std::fs::remove_file(&kc).unwrap();
}
