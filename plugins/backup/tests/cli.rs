//! The binary on fixture dumps (`--from-file`, `--dry-run`): no cluster needed.
#![allow(clippy::unwrap_used)]

use assert_cmd::Command;
use base64::Engine as _;
use serde_json::Value;

const SECRET: &str = "Pl4nted-S3cret-Value";
const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/todo-db.yaml");
const RUNNING: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/running-manual.yaml"
);

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("kubectl-backup")
        .unwrap()
        .args(args)
        .env("KUBECONFIG", "/nonexistent")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_no_secret(what: &str, text: &str) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(SECRET);
    assert!(!text.contains(SECRET), "{what} leaks the secret:\n{text}");
    assert!(
        !text.contains(&b64),
        "{what} leaks the secret's base64:\n{text}"
    );
}

#[test]
fn cronjob_dry_run_is_kubectl_create_job_from_plus_our_labels() {
    let (code, out, err) = run(&[
        "create",
        "cronjob/todo-db-backup",
        "--name",
        "manual-1",
        "--dry-run",
        "-o",
        "json",
        "--from-file",
        FIX,
    ]);
    assert_eq!(code, 0, "{err}");
    let job: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(job["kind"], "Job");
    assert_eq!(job["apiVersion"], "batch/v1");
    assert_eq!(job["metadata"]["name"], "manual-1");
    assert_eq!(job["metadata"]["namespace"], "default");
    assert_eq!(
        job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"],
        "manual"
    );
    let l = &job["metadata"]["labels"];
    assert_eq!(l["app"], "todo-db-backup"); // the template's labels
    assert_eq!(l["app.kubernetes.io/managed-by"], "kubectl-stateful");
    assert_eq!(l["kubectl-stateful.io/target-kind"], "cronjob");
    assert_eq!(l["kubectl-stateful.io/target-name"], "todo-db-backup");
    assert_eq!(l["kubectl-stateful.io/method"], "cronjob");
    assert_eq!(l["kubectl-stateful.io/trigger"], "manual");
    let o = &job["metadata"]["ownerReferences"][0];
    assert_eq!(o["kind"], "CronJob");
    assert_eq!(o["uid"], "u-cj");
    assert_eq!(o["controller"], true);
    assert!(o.get("blockOwnerDeletion").is_none());
    // The spec is the jobTemplate's, unchanged (but for the redacted literal token).
    let c = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        c["env"][0]["valueFrom"]["secretKeyRef"]["name"],
        "todo-db-secret"
    );
    assert_eq!(
        job["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
        "todo-db-backup-pvc"
    );
    assert!(err.contains("history limits"), "{err}");
}

#[test]
fn forbid_refuses_while_a_manual_run_is_active_unless_forced() {
    let (code, out, err) = run(&[
        "create",
        "cronjob/todo-db-backup",
        "--dry-run",
        "--from-file",
        FIX,
        "--from-file",
        RUNNING,
    ]);
    assert_eq!(code, 5, "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("todo-db-backup-manual-20261123000000"),
        "{err}"
    );
    let (code, _, err) = run(&[
        "create",
        "cronjob/todo-db-backup",
        "--force",
        "--dry-run",
        "--from-file",
        FIX,
        "--from-file",
        RUNNING,
    ]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn dump_job_from_the_statefulset() {
    let (code, out, err) = run(&[
        "create",
        "sts/todo-db",
        "--to",
        "pvc/todo-db-backup-pvc",
        "--dry-run",
        "-o",
        "json",
        "--from-file",
        FIX,
    ]);
    assert_eq!(code, 0, "{err}");
    let job: Value = serde_json::from_str(&out).unwrap();
    let spec = &job["spec"];
    assert_eq!(spec["backoffLimit"], 1);
    assert_eq!(spec["activeDeadlineSeconds"], 3600);
    assert!(spec["ttlSecondsAfterFinished"].as_i64().unwrap() >= 86400);
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let c = &pod["containers"][0];
    assert_eq!(c["image"], "postgres:11.6-alpine");
    assert!(c["command"][2].as_str().unwrap().contains("pg_dump -Fc"));
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert!(c["resources"]["limits"]["memory"].is_string());
    let env = c["env"].as_array().unwrap();
    let get = |n: &str| env.iter().find(|e| e["name"] == n).cloned();
    assert_eq!(
        get("BACKUP_HOST").unwrap()["value"],
        "todo-db-1.todo-db.default.svc.cluster.local"
    );
    assert_eq!(
        get("POSTGRES_PASSWORD").unwrap()["valueFrom"]["secretKeyRef"],
        serde_json::json!({"name": "todo-db-secret", "key": "POSTGRES_PASSWORD"})
    );
    assert!(get("PGPASSWORD").is_none(), "literal password copied");
    let file = get("BACKUP_FILE").unwrap()["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        file.starts_with("todo-db-") && file.ends_with(".dump"),
        "{file}"
    );
    // RWO claim mounted by the sleep pod on node-3: pinned there, with its tolerations.
    let terms = &pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        ["nodeSelectorTerms"];
    assert_eq!(terms[0]["matchFields"][0]["values"][0], "node-3");
    assert_eq!(pod["tolerations"][0]["value"], "tools");
    assert!(
        job["metadata"]["name"]
            .as_str()
            .unwrap()
            .starts_with("todo-db-dump-")
    );
    // --source primary reads from ordinal 0.
    let (_, out, _) = run(&[
        "create",
        "sts/todo-db",
        "--to",
        "pvc/todo-db-backup-pvc",
        "--source",
        "primary",
        "--dry-run",
        "-o",
        "json",
        "--from-file",
        FIX,
    ]);
    assert!(
        out.contains("todo-db-0.todo-db.default.svc.cluster.local"),
        "{out}"
    );
}

#[test]
fn new_claim_makes_a_list() {
    let (code, out, err) = run(&[
        "create",
        "sts/todo-db",
        "--to-new-pvc",
        "1Gi",
        "--storage-class",
        "fast",
        "--name",
        "b1",
        "--dry-run",
        "-o",
        "json",
        "--from-file",
        FIX,
    ]);
    assert_eq!(code, 0, "{err}");
    let list: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"][0]["kind"], "PersistentVolumeClaim");
    assert_eq!(list["items"][0]["spec"]["storageClassName"], "fast");
    assert_eq!(
        list["items"][1]["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
        "b1"
    );
}

#[test]
fn exit_codes_before_anything_is_built() {
    let cases: &[(&[&str], i32)] = &[
        (
            &["create", "cronjob/nope", "--dry-run", "--from-file", FIX],
            3,
        ),
        (
            &[
                "create",
                "sts/nope",
                "--to",
                "pvc/x",
                "--dry-run",
                "--from-file",
                FIX,
            ],
            3,
        ),
        (
            &[
                "create",
                "sts/todo-db",
                "--to",
                "pvc/nope",
                "--dry-run",
                "--from-file",
                FIX,
            ],
            3,
        ),
        (
            &["create", "sts/todo-db", "--dry-run", "--from-file", FIX],
            2,
        ),
        (
            &[
                "create",
                "sts/Bad_Name",
                "--to",
                "pvc/x",
                "--dry-run",
                "--from-file",
                FIX,
            ],
            2,
        ),
        (
            &[
                "create",
                "cronjob/todo-db-backup",
                "--name",
                "UPPER",
                "--dry-run",
                "--from-file",
                FIX,
            ],
            2,
        ),
        (
            &[
                "create",
                "pvc/todo-db-backup-pvc",
                "--dry-run",
                "--from-file",
                FIX,
            ],
            2,
        ),
        (&["create", "svc/x", "--dry-run", "--from-file", FIX], 2),
        (
            &[
                "create",
                "sts/todo-db",
                "--to",
                "pvc/todo-db-backup-pvc",
                "--to-new-pvc",
                "1Gi",
                "--dry-run",
                "--from-file",
                FIX,
            ],
            2,
        ),
        (
            &[
                "create",
                "sts/todo-db",
                "--to-new-pvc",
                "lots",
                "--dry-run",
                "--from-file",
                FIX,
            ],
            2,
        ),
        (&["create", "cronjob/todo-db-backup", "--from-file", FIX], 2),
    ];
    for (args, want) in cases {
        let (code, out, err) = run(args);
        assert_eq!(code, *want, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?} printed {out}");
    }
}

#[test]
fn no_rendering_leaks_the_planted_secret() {
    // The fixture holds the secret in a Secret (base64), as a literal PGPASSWORD and API_TOKEN
    // on the database container, and as a literal NOTIFY_TOKEN in the CronJob's template; both
    // also set it as DB_PASS, REPLICATION_PASS, MYSQL_PASS and ADMIN_PASS, names a guess by
    // words like PASSWORD or TOKEN missed.
    let fixture = std::fs::read_to_string(FIX).unwrap();
    assert!(fixture.contains(SECRET));
    let mut outputs = Vec::new();
    for target in [
        vec!["create", "cronjob/todo-db-backup"],
        vec!["create", "sts/todo-db", "--to", "pvc/todo-db-backup-pvc"],
        vec!["create", "sts/todo-db", "--to-new-pvc", "1Gi"],
        vec!["create", "pod/todo-db-1", "--to", "pvc/todo-db-backup-pvc"],
    ] {
        for o in ["yaml", "json"] {
            let mut args = target.clone();
            args.extend(["--dry-run", "-o", o, "--from-file", FIX]);
            let (code, out, err) = run(&args);
            assert_eq!(code, 0, "{args:?}: {err}");
            outputs.push((format!("{args:?}"), out + &err));
        }
    }
    // list (table, json) and describe read the same dump plus a job made from it.
    let job = run(&[
        "create",
        "sts/todo-db",
        "--to",
        "pvc/todo-db-backup-pvc",
        "--name",
        "d1",
        "--dry-run",
        "-o",
        "yaml",
        "--from-file",
        FIX,
    ])
    .1;
    let dir = tempfile::tempdir().unwrap();
    let jobfile = dir.path().join("job.yaml");
    std::fs::write(&jobfile, job).unwrap();
    let jf = jobfile.to_str().unwrap();
    for args in [
        vec!["list", "--from-file", FIX, "--from-file", jf],
        vec!["list", "-o", "json", "--from-file", FIX, "--from-file", jf],
        vec![
            "describe",
            "d1",
            "-n",
            "default",
            "--from-file",
            FIX,
            "--from-file",
            jf,
        ],
        vec![
            "describe",
            "todo-db-backup-29400000",
            "-n",
            "default",
            "--from-file",
            FIX,
        ],
    ] {
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(!out.is_empty(), "{args:?}");
        outputs.push((format!("{args:?}"), out + &err));
    }
    for (what, text) in &outputs {
        assert_no_secret(what, text);
    }
    for name in ["DB_PASS", "REPLICATION_PASS", "MYSQL_PASS", "ADMIN_PASS"] {
        assert!(
            fixture.contains(&format!("name: {name}\n")),
            "{name} planted"
        );
    }
    // The cronjob's dry run shows the hidden literals by name and length only.
    let (_, out, _) = run(&[
        "create",
        "cronjob/todo-db-backup",
        "--dry-run",
        "-o",
        "json",
        "--from-file",
        FIX,
    ]);
    let job: serde_json::Value = serde_json::from_str(&out).unwrap();
    let env = job["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap();
    let db_pass = env.iter().find(|e| e["name"] == "DB_PASS").unwrap();
    assert_eq!(db_pass["value"], "<redacted: literal, 20 chars>");
}

#[test]
fn list_and_describe_from_a_dump() {
    let (code, out, err) = run(&[
        "list",
        "-o",
        "json",
        "--from-file",
        FIX,
        "--from-file",
        RUNNING,
    ]);
    assert_eq!(code, 0, "{err}");
    let l: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(l["apiVersion"], "kubectl-stateful.io/v1alpha1");
    assert_eq!(l["kind"], "BackupList");
    // A dump carries no Leases: `locks` is there, empty.
    assert_eq!(l["locks"], serde_json::json!([]));
    let items = l["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let sched = items
        .iter()
        .find(|i| i["name"] == "todo-db-backup-29400000")
        .unwrap();
    assert_eq!(sched["trigger"], "scheduled");
    assert_eq!(sched["status"], "Succeeded");
    assert_eq!(sched["durationSeconds"], 7);
    assert_eq!(sched["target"], "cronjob/todo-db-backup");
    let manual = items.iter().find(|i| i["trigger"] == "manual").unwrap();
    assert_eq!(manual["status"], "Running");
    let (code, out, _) = run(&["list", "cronjob/other", "--from-file", FIX]);
    assert_eq!(code, 0);
    assert!(out.is_empty());
    let (code, out, err) = run(&["list", "--from-file", FIX]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("NAMESPACE"), "{out}");
    assert!(out.contains("cronjob (scheduled)"), "{out}");
    let (code, out, _) = run(&[
        "describe",
        "todo-db-backup-29400000",
        "-n",
        "default",
        "--from-file",
        FIX,
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("Status:       Succeeded"), "{out}");
    let (code, _, _) = run(&["describe", "nope", "-n", "default", "--from-file", FIX]);
    assert_eq!(code, 3);
}

#[test]
fn describe_text_is_stable() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let fixture = format!("{dir}/describe.yaml");
    let want = std::fs::read_to_string(format!("{dir}/describe.txt")).unwrap();
    let mut got = String::new();
    for name in [
        "d-full", "d-failed", "plain", "nospec", "s-ready", "s-err", "s-cut",
    ] {
        let (code, out, err) = run(&["describe", name, "-n", "ns", "--from-file", &fixture]);
        assert_eq!(code, 0, "{name}: {err}");
        got.push_str(&format!("== {name}\n{out}"));
    }
    assert_eq!(got, want);
}

#[test]
fn help_says_kubectl_backup_and_groups_connection_flags() {
    for sub in [&["-h"][..], &["create", "-h"], &["list", "-h"]] {
        let (code, help, _) = run(sub);
        assert_eq!(code, 0);
        assert!(help.contains("Usage: kubectl backup"), "{help}");
        let (own, conn) = help
            .split_once("Connection (kubectl's flags):")
            .unwrap_or_else(|| panic!("{sub:?}: {help}"));
        // The section ends at the first blank line (examples follow).
        let conn = conn.split("\n\n").next().unwrap_or_default();
        for f in [
            "--as <USER>",
            "--token",
            "-s, --server",
            "--kubeconfig",
            "--user",
        ] {
            assert!(conn.contains(f), "{sub:?}: {f} under Connection: {help}");
        }
        assert!(!conn.contains("--from-file"), "{sub:?}: {help}");
        assert!(
            own.contains("--from-file") || sub == ["-h"],
            "{sub:?}: {help}"
        );
    }
}

#[test]
fn unknown_user_is_an_error_naming_it_and_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    std::fs::write(
        &kc,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:9\"}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n",
    )
    .unwrap();
    let kc = kc.to_string_lossy().into_owned();
    let (code, _, err) = run(&["list", "--kubeconfig", &kc, "--user", "typo"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("--user \"typo\"") && err.contains(&kc),
        "{err}"
    );
}
