#![allow(clippy::unwrap_used)]
//! Shell completion as shells and kubectl use it: the `completion SHELL` scripts parse in each
//! shell the test scripts install (bash, zsh, fish), and the `__complete` protocol the
//! `kubectl_complete-pvc_trace` shim speaks answers in kubectl's format. No cluster: names from
//! a cluster are in the e2e tests (tests/tests/completion.rs).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;

fn bin() -> Command {
    let mut c = Command::cargo_bin("kubectl-pvc_trace").unwrap();
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

fn shell(name: &str) -> Option<PathBuf> {
    ["/usr/bin", "/bin", "/usr/local/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
}

#[test]
fn completion_scripts_parse_in_their_shells() {
    for (sh, check) in [("bash", "bash"), ("zsh", "zsh"), ("fish", "fish")] {
        let out = bin().args(["completion", sh]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "completion {sh}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains("kubectl-pvc_trace"), "{sh}: {script}");
        let Some(path) = shell(check) else {
            assert_ne!(sh, "bash", "bash is always there");
            eprintln!("{check} not installed (tests/scripts/install-deps.sh installs it)");
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(format!("completion.{sh}"));
        std::fs::write(&file, &script).unwrap();
        let st = std::process::Command::new(path)
            .arg("-n")
            .arg(&file)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "{sh} -n rejects the script");
    }
    // PowerShell is not installed here: the script is at least written.
    bin()
        .args(["completion", "powershell"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Register-ArgumentCompleter"));
}

#[test]
fn completion_needs_a_known_shell_and_a_pod_named_completion_still_traces() {
    bin().args(["completion"]).assert().code(2);
    bin()
        .args(["completion", "tcsh"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("tcsh"));
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("pod.yaml");
    std::fs::write(
        &dump,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: completion, namespace: default}\nspec:\n  containers: [{name: c, image: busybox}]\n",
    )
    .unwrap();
    bin()
        .args(["pod/completion", "-o", "json", "--from-file"])
        .arg(&dump)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"completion\""));
}

#[test]
fn subcommands_kinds_and_directive() {
    let out = complete(&[""]);
    assert_eq!(
        values(&out),
        [
            "completion",
            "pod/",
            "pvc/",
            "pv/",
            "sts/",
            "deploy/",
            "sc/",
            "node/"
        ]
    );
    // NoSpace (2) | NoFileComp (4): `pod/` is followed by a name.
    assert!(out.ends_with("\n:6\n"), "{out}");
    assert_eq!(values(&complete(&["s"])), ["sts/", "sc/"]);
    assert_eq!(
        values(&complete(&["completion", ""])),
        ["bash", "zsh", "fish", "powershell"]
    );
}

#[test]
fn flags_and_their_values() {
    let out = complete(&["--no"]);
    assert_eq!(values(&out), ["--no-headers"]);
    assert!(
        out.contains("--no-headers\tTable, wide and custom-columns output"),
        "{out}"
    );
    assert_eq!(
        values(&complete(&["-o", ""])),
        [
            "table", "wide", "json", "yaml", "tree", "dot", "mermaid", "svg", "name"
        ]
    );
    // kubectl's printers that need a value are accepted, not offered.
    assert_eq!(values(&complete(&["-o", "j"])), ["json"]);
    assert_eq!(values(&complete(&["--fail-on=w"])), ["--fail-on=warning"]);
    // A flag's value is not a target: kinds again after it.
    assert_eq!(values(&complete(&["-o", "json", "pv"])), ["pvc/", "pv/"]);
    // Files: the shell's own file completion (directive 0).
    assert_eq!(complete(&["--from-file", ""]), ":0\n");
    // kubeconfig names from the file given.
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    std::fs::write(
        &kc,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c1\n  cluster: {server: 'https://127.0.0.1:1'}\nusers:\n- name: u1\n  user: {token: t}\ncontexts:\n- name: ctx-a\n  context: {cluster: c1, user: u1}\n- name: ctx-b\n  context: {cluster: c1, user: u1}\n",
    )
    .unwrap();
    let kc = kc.to_str().unwrap();
    assert_eq!(
        values(&complete(&["--kubeconfig", kc, "--context", ""])),
        ["ctx-a", "ctx-b"]
    );
    assert_eq!(
        values(&complete(&["--kubeconfig", kc, "--user", ""])),
        ["u1"]
    );
    assert_eq!(
        values(&complete(&["--kubeconfig", kc, "--cluster", "c"])),
        ["c1"]
    );
}

#[test]
fn an_unreachable_cluster_gives_no_names_within_the_timeout_and_no_message() {
    // A server that takes connections and never answers: only the timeout ends the wait.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = format!("https://{}", silent.local_addr().unwrap());
    for (timeout, at_least, at_most) in [(Some("1s"), 1.0, 3.0), (None, 5.0, 7.5)] {
        let mut words = vec!["--server", &server, "--insecure-skip-tls-verify"];
        if let Some(t) = timeout {
            words.extend(["--request-timeout", t]);
        }
        words.push("pod/");
        let t0 = Instant::now();
        let out = complete(&words);
        let took = t0.elapsed();
        assert_eq!(out, ":4\n");
        assert!(
            took >= Duration::from_secs_f64(at_least) && took < Duration::from_secs_f64(at_most),
            "--request-timeout {timeout:?}: took {took:?}"
        );
    }
    // Refused connections and missing kubeconfigs: the same quiet answer.
    assert_eq!(
        complete(&["--server", "https://127.0.0.1:1", "-n", ""]),
        ":4\n"
    );
    assert_eq!(complete(&["--kubeconfig", "/nonexistent", "pvc/"]), ":4\n");
}

#[test]
fn the_shim_runs_the_plugin_next_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let shim = Path::new(env!("CARGO_MANIFEST_DIR")).join("completion/kubectl_complete-pvc_trace");
    let st = std::process::Command::new("bash")
        .arg("-n")
        .arg(&shim)
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::copy(&shim, dir.path().join("kubectl_complete-pvc_trace")).unwrap();
    let plugin = assert_cmd::cargo::cargo_bin("kubectl-pvc_trace");
    std::os::unix::fs::symlink(&plugin, dir.path().join("kubectl-pvc_trace")).unwrap();
    let out = std::process::Command::new(dir.path().join("kubectl_complete-pvc_trace"))
        .args(["-o", ""])
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", "/nonexistent")
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        concat!(
            "table\nwide\njson\nyaml\ntree\n",
            "dot\tA Graphviz digraph of the topology (`dot -Tsvg`)\n",
            "mermaid\tA Mermaid flowchart of the topology (renders in GitHub/GitLab markdown)\n",
            "svg\tAn SVG picture of the topology (no Graphviz needed)\n",
            "name\n:4\n"
        )
    );
    // Without the plugin anywhere: no candidates, no message.
    std::fs::remove_file(dir.path().join("kubectl-pvc_trace")).unwrap();
    let out = std::process::Command::new(dir.path().join("kubectl_complete-pvc_trace"))
        .arg("")
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), ":4\n");
    assert!(out.stderr.is_empty());
}

#[test]
fn verbose_logs_requests_and_failures_without_the_token() {
    // A refused connection: the request line and its failure, on stderr; never the token.
    let out = bin()
        .args([
            "-v",
            "6",
            "--server",
            "https://127.0.0.1:1",
            "--token",
            "s3cr3t-tok",
            "-n",
            "a",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("method=GET url=https://127.0.0.1:1/api/v1/namespaces/a/pods?"),
        "{err}"
    );
    assert!(err.contains("failed after"), "{err}");
    assert!(!err.contains("s3cr3t-tok"), "{err}");
    // Below 6: no request logs.
    let out = bin()
        .args(["-v", "5", "--server", "https://127.0.0.1:1", "-n", "a"])
        .output()
        .unwrap();
    assert!(!String::from_utf8(out.stderr).unwrap().contains("request{"));
    bin().args(["-v", "x"]).assert().code(2);
}
