#![allow(clippy::unwrap_used)]
//! Shell completion: the `completion SHELL` scripts parse in bash (and zsh, fish where the test
//! scripts installed them), and `__complete` (what kubectl_complete-backup runs) answers
//! subcommands, flags and values in kubectl's format. Names from a cluster: tests/tests/completion.rs.

use std::path::Path;

use assert_cmd::Command;

fn bin() -> Command {
    let mut c = Command::cargo_bin("kubectl-backup").unwrap();
    c.env_remove("KUBECONFIG").env("HOME", "/nonexistent");
    c
}

fn complete(words: &[&str]) -> String {
    let out = bin().arg("__complete").args(words).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn values(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| !l.starts_with(':'))
        .map(|l| l.split('\t').next().unwrap())
        .collect()
}

#[test]
fn completion_scripts_parse_in_their_shells() {
    for sh in ["bash", "zsh", "fish"] {
        let out = bin().args(["completion", sh]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "completion {sh}");
        let path = Path::new("/usr/bin").join(sh);
        if !path.exists() {
            assert_ne!(sh, "bash", "bash is always there");
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("script");
        std::fs::write(&file, &out.stdout).unwrap();
        let st = std::process::Command::new(path)
            .arg("-n")
            .arg(&file)
            .status()
            .unwrap();
        assert!(st.success(), "{sh} -n rejects the script");
    }
    bin().args(["completion", "tcsh"]).assert().code(2);
    let shim = Path::new(env!("CARGO_MANIFEST_DIR")).join("completion/kubectl_complete-backup");
    let st = std::process::Command::new("bash")
        .arg("-n")
        .arg(&shim)
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn subcommands_flags_values_and_kinds() {
    let out = complete(&[""]);
    assert_eq!(
        values(&out),
        [
            "create",
            "restore",
            "list",
            "logs",
            "describe",
            "verify",
            "completion"
        ]
    );
    assert!(out.contains("create\tTake a backup now"), "{out}");
    assert!(out.ends_with("\n:4\n"), "{out}");
    assert_eq!(values(&complete(&["create", "--to-"])), ["--to-new-pvc"]);
    assert_eq!(
        values(&complete(&["create", "--engine", ""])),
        ["postgres", "mongodb", "mysql", "redis"]
    );
    assert_eq!(
        values(&complete(&["create", "--dry-run=s"])),
        ["--dry-run=server"]
    );
    let out = complete(&["create", ""]);
    assert_eq!(
        values(&out),
        ["cronjob/", "sts/", "deploy/", "pod/", "pvc/"]
    );
    assert!(out.ends_with("\n:6\n"), "{out}");
    // After the target, nothing more to offer.
    assert_eq!(complete(&["create", "sts/db", ""]), ":4\n");
    assert_eq!(values(&complete(&["completion", "f"])), ["fish"]);
    // Connection flags are offered in every subcommand.
    assert!(values(&complete(&["list", "--re"])).contains(&"--request-timeout"));
}
