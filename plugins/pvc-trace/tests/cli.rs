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
fn watch_needs_a_cluster_and_a_line_format_said_before_any_request() {
    for flag in ["-w", "--watch", "--watch-only"] {
        bin()
            .args(["--from-file", DEMO, flag])
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(
                "--watch follows a cluster as it changes; --from-file dumps do not change",
            ));
    }
    // No server listens there: refused before any request (else exit 1, connection refused).
    for out in ["svg", "dot", "mermaid", "yaml", "name", "jsonpath={.kind}"] {
        bin()
            .args(["-w", "-o", out, "--server", "https://127.0.0.1:9"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "--watch prints -o table, wide, tree",
            ));
    }
    // A watch ends with 0 on Ctrl-C: --fail-on has no end to judge.
    bin()
        .args([
            "-w",
            "--fail-on",
            "error",
            "--server",
            "https://127.0.0.1:9",
        ])
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

/// A plain-HTTP listener on loopback standing in for nothing: it records each request's head
/// and answers 403 (a real Status body), so the test sees exactly what the binary sends.
fn recording_server() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    std::thread::JoinHandle<()>,
) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let handle = std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(8);
        while std::time::Instant::now() < deadline {
            let Ok((mut s, _)) = listener.accept() else {
                std::thread::sleep(std::time::Duration::from_millis(20));
                continue;
            };
            s.set_nonblocking(false).unwrap();
            s.set_read_timeout(Some(std::time::Duration::from_secs(2)))
                .unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            seen2
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&head).to_lowercase());
            let body = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"forbidden","reason":"Forbidden","code":403}"#;
            let _ = write!(
                s,
                "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, seen, handle)
}

fn kubeconfig_for(dir: &std::path::Path, server: &str) -> String {
    let kc = dir.join("kc");
    std::fs::write(
        &kc,
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"{server}\"}}\nusers:\n- name: u\n  user: {{token: from-kubeconfig}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u, namespace: ns}}\ncurrent-context: x\n"),
    )
    .unwrap();
    kc.to_string_lossy().into_owned()
}

/// kubectl's habit: an unknown --user/--cluster/--context is an error naming it and the
/// kubeconfig files read, exit 1, and no request is sent (never a silent anonymous request).
#[test]
fn unknown_user_cluster_or_context_fails_before_any_request() {
    let (url, seen, handle) = recording_server();
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig_for(dir.path(), &url);
    for (flag, name) in [
        ("--user", "typo"),
        ("--cluster", "nope"),
        ("--context", "gone"),
    ] {
        bin()
            .args(["--kubeconfig", &kc, flag, name, "pod/x"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(format!("{flag} \"{name}\"")))
            .stderr(predicate::str::contains(kc.as_str()));
    }
    // Through $KUBECONFIG too: every file read is named.
    bin()
        .env("KUBECONFIG", &kc)
        .args(["--user", "typo"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "kubeconfig files read: {kc}"
        )));
    // The known user reaches the server (403 → exit 4), so the listener works.
    bin()
        .args(["--kubeconfig", &kc, "--user", "u", "pod/x"])
        .assert()
        .code(4);
    handle.join().unwrap();
    let seen = seen.lock().unwrap();
    assert!(!seen.is_empty());
    assert!(
        seen.iter()
            .all(|h| h.contains("authorization: bearer from-kubeconfig")),
        "only the known user's requests arrived: {seen:?}"
    );
}

/// The connection and impersonation flags reach the wire as kubectl sends them.
#[test]
fn connection_and_impersonation_flags_reach_the_server() {
    let (url, seen, handle) = recording_server();
    let dir = tempfile::tempdir().unwrap();
    // A kubeconfig pointing elsewhere: -s wins over it.
    let kc = kubeconfig_for(dir.path(), "http://127.0.0.1:9");
    bin()
        .args([
            "--kubeconfig",
            &kc,
            "-s",
            &url,
            "--token",
            "flag-token",
            "--as",
            "jane",
            "--as-group",
            "devs",
            "--as-group",
            "ops",
            "--as-uid",
            "u-42",
            "pod/x",
        ])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("flag-token").not());
    handle.join().unwrap();
    let seen = seen.lock().unwrap();
    assert!(!seen.is_empty(), "-s was used");
    for h in seen.iter() {
        assert!(h.contains("authorization: bearer flag-token"), "{h}");
        assert!(h.contains("impersonate-user: jane"), "{h}");
        assert!(h.contains("impersonate-group: devs"), "{h}");
        assert!(h.contains("impersonate-group: ops"), "{h}");
        assert!(h.contains("impersonate-uid: u-42"), "{h}");
    }
    assert!(
        seen.iter().any(|h| h.contains("/namespaces/ns/")),
        "the context's namespace stays: {seen:?}"
    );
}

#[test]
fn server_flag_works_without_any_kubeconfig_and_as_group_needs_as() {
    let (url, seen, handle) = recording_server();
    bin()
        .args(["-s", &url, "-n", "a", "pod/x"])
        .assert()
        .code(4);
    handle.join().unwrap();
    assert!(!seen.lock().unwrap().is_empty());
    bin()
        .args(["--as-group", "g", "--from-file", DEMO])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--as"));
}

#[test]
fn help_says_kubectl_pvc_trace_and_groups_connection_flags() {
    let out = bin().arg("-h").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("Usage: kubectl pvc-trace "), "{help}");
    let (own, conn) = help.split_once("Connection (kubectl's flags):").unwrap();
    for f in [
        "--as <USER>",
        "--token",
        "-s, --server",
        "--insecure-skip-tls-verify",
        "--user",
    ] {
        assert!(conn.contains(f), "{f} under Connection: {help}");
    }
    for f in ["--output", "--no-headers", "--from-file"] {
        assert!(own.contains(f), "{f} among the command's own: {help}");
    }
}

#[test]
fn kind_then_name_as_kubectl_takes_it() {
    let slash = bin()
        .args(["--from-file", DEMO, "-n", "shop", "pod/postgres-0"])
        .output()
        .unwrap();
    let space = bin()
        .args(["--from-file", DEMO, "-n", "shop", "pod", "postgres-0"])
        .output()
        .unwrap();
    assert_eq!(space.status.code(), Some(0));
    assert_eq!(space.stdout, slash.stdout);
    bin()
        .args(["--from-file", DEMO, "-n", "shop", "pod", "pvc/x"])
        .assert()
        .code(2);
}

#[test]
fn no_headers_and_no_volumes_on_stderr() {
    let with = bin().args(["--from-file", DEMO, "-A"]).output().unwrap();
    let without = bin()
        .args(["--from-file", DEMO, "-A", "--no-headers"])
        .output()
        .unwrap();
    let with = String::from_utf8(with.stdout).unwrap();
    let without = String::from_utf8(without.stdout).unwrap();
    assert!(with.starts_with("NAMESPACE"), "{with}");
    assert!(!without.contains("NAMESPACE"), "{without}");
    // The same rows, less the header line.
    assert_eq!(with.lines().skip(1).count(), without.lines().count());
    bin()
        .args(["--from-file", DEMO, "-n", "empty-ns"])
        .assert()
        .code(0)
        .stdout("")
        .stderr(predicate::str::contains(
            "No volumes found in namespace empty-ns.",
        ));
}

/// `-l` selects claims by their own labels as well as the pods it selects: a claim neither
/// selected nor used by a selected pod is not traced, so its problems do not fire --fail-on.
#[test]
fn selector_selects_claims_and_leaves_others_out_of_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("dump.yaml");
    std::fs::write(
        &f,
        r#"
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: gp3}
provisioner: ebs.csi.aws.com
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-elsewhere}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: gp3
  claimRef: {namespace: billing, name: ledger, uid: u-9}
  csi: {driver: ebs.csi.aws.com, volumeHandle: vol-1}
status: {phase: Bound}
---
apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: shop, labels: {app: web}}
spec:
  containers: [{name: c, image: nginx}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: web-data}}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: web-data, namespace: shop, uid: u-1}
spec: {accessModes: [ReadWriteOnce], storageClassName: gp3, resources: {requests: {storage: 1Gi}}}
status: {phase: Pending}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: web-spare, namespace: shop, uid: u-2, labels: {app: web}}
spec: {accessModes: [ReadWriteOnce], storageClassName: gp3, resources: {requests: {storage: 1Gi}}}
status: {phase: Pending}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: other-broken, namespace: shop, uid: u-3, labels: {app: other}}
spec: {accessModes: [ReadWriteOnce], storageClassName: missing, resources: {requests: {storage: 1Gi}}}
status: {phase: Pending}
"#,
    )
    .unwrap();
    let f = f.to_str().unwrap();
    // Unselected, the broken claim is an error.
    bin()
        .args(["--from-file", f, "--complete", "--fail-on", "error"])
        .assert()
        .code(5)
        .stdout(predicate::str::contains("other-broken"));
    bin()
        .args([
            "--from-file",
            f,
            "--complete",
            "-l",
            "app=web",
            "--fail-on",
            "error",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("web-data"))
        .stdout(predicate::str::contains("web-spare"))
        .stdout(predicate::str::contains("other-broken").not());
}

/// `--usage` on a dump: the trace as usual, unknown usage cells saying why, exit 0; `-o wide`
/// of a dump shows no usage columns; bad thresholds are usage errors.
#[test]
fn usage_from_a_dump_is_unknown_not_an_error() {
    bin()
        .args(["--from-file", DEMO, "-n", "shop", "--usage"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("USE%"))
        .stdout(predicate::str::contains(
            "unknown (not in a dump: run --usage against the cluster)",
        ))
        .stdout(predicate::str::contains("VolumeNearlyFull").not());
    let out = bin()
        .args(["--from-file", DEMO, "-n", "shop", "--usage", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let usage = &json["roots"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["volumes"].as_array().into_iter().flatten())
        .find_map(|v| v["claim"]["usage"].as_object())
        .unwrap()
        .clone();
    assert_eq!(usage["state"], "unknown");
    assert_eq!(usage["usedPercent"], serde_json::Value::Null);
    bin()
        .args(["--from-file", DEMO, "-n", "shop", "-o", "wide"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("USE%").not());
    for (warn, error) in [("96", "95"), ("0", "95"), ("85", "101"), ("8x", "95")] {
        bin()
            .args(["--from-file", DEMO, "--usage", "--usage-warn", warn])
            .args(["--usage-error", error])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--usage-"));
    }
}
