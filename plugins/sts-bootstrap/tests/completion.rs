#![allow(clippy::unwrap_used)]
//! Shell completion: the `completion SHELL` scripts parse in bash (and zsh, fish where the test
//! scripts installed them), and `__complete` (what kubectl_complete-sts_bootstrap runs) answers
//! subcommands, flags and values in kubectl's format. Names from a cluster: tests/tests/completion.rs.

use std::path::Path;

use assert_cmd::Command;

fn bin() -> Command {
    let mut c = Command::cargo_bin("kubectl-sts_bootstrap").unwrap();
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
        let file = std::env::temp_dir().join(format!(
            "sts-bootstrap-completion-{}.{sh}",
            std::process::id()
        ));
        std::fs::write(&file, &out.stdout).unwrap();
        let st = std::process::Command::new(path)
            .arg("-n")
            .arg(&file)
            .status()
            .unwrap();
        std::fs::remove_file(&file).unwrap();
        assert!(st.success(), "{sh} -n rejects the script");
    }
    bin().args(["completion", "tcsh"]).assert().code(2);
    let shim =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("completion/kubectl_complete-sts_bootstrap");
    let st = std::process::Command::new("bash")
        .arg("-n")
        .arg(&shim)
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn subcommands_flags_and_values() {
    assert_eq!(
        values(&complete(&[""])),
        ["plan", "apply", "status", "completion"]
    );
    assert_eq!(values(&complete(&["apply", "--y"])), ["--yes"]);
    assert_eq!(
        values(&complete(&["plan", "--engine", ""])),
        ["mongodb", "postgres", "redis", "mysql"]
    );
    assert_eq!(values(&complete(&["status", "-o", "j"])), ["json"]);
    // No cluster: no StatefulSet names, quietly.
    assert_eq!(
        complete(&["--kubeconfig", "/nonexistent", "apply", ""]),
        ":4\n"
    );
}
