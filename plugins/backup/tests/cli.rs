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
        // A --replace is carried out step by step by the command itself: it cannot be left
        // to run.
        (
            &[
                "restore",
                "volumesnapshot/x",
                "--replace",
                "sts/todo-db",
                "--ordinal",
                "0",
                "--no-wait",
                "--from-file",
                FIX,
            ],
            2,
        ),
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

#[test]
fn restore_dry_runs_show_the_plan_and_the_job_without_secrets() {
    // A dump Job made from the fixture, then restored by its name and by its file.
    let (code, job, err) = run(&[
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
    ]);
    assert_eq!(code, 0, "{err}");
    let dir = tempfile::tempdir().unwrap();
    let jobfile = dir.path().join("job.yaml");
    std::fs::write(&jobfile, job).unwrap();
    let jf = jobfile.to_str().unwrap();
    let by_name = [
        "restore",
        "d1",
        "--to",
        "sts/todo-db",
        "--name",
        "r1",
        "--dry-run",
        "-o",
        "json",
        "--from-file",
        FIX,
        "--from-file",
        jf,
    ];
    let (code, out, err) = run(&by_name);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("Restore: postgres dump"), "{err}");
    assert!(err.contains("Overwrites:"), "{err}");
    assert_no_secret("restore --dry-run", &(out.clone() + &err));
    let j: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["kind"], "Job");
    assert_eq!(
        j["metadata"]["labels"]["kubectl-stateful.io/method"],
        "restore"
    );
    let c = &j["spec"]["template"]["spec"]["containers"][0];
    let file = c["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "BACKUP_FILE")
        .unwrap()["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(file.ends_with(".dump"), "{file}");
    // The same file, named directly: the same Job.
    let (code, out2, err) = run(&[
        "restore",
        "pvc/todo-db-backup-pvc",
        "--path",
        &file,
        "--to",
        "sts/todo-db",
        "--name",
        "r1",
        "--dry-run",
        "-o",
        "json",
        "--from-file",
        FIX,
    ]);
    assert_eq!(code, 0, "{err}");
    let j2: Value = serde_json::from_str(&out2).unwrap();
    assert_eq!(j2["spec"], j["spec"]);
    // Bad input: exit 2 (usage) or 3 (not found), nothing printed to stdout.
    for (args, want) in [
        (vec!["restore", "d1", "--from-file", FIX, "--dry-run"], 2),
        (
            vec![
                "restore",
                "pvc/x",
                "--path",
                "../y",
                "--to",
                "sts/todo-db",
                "--dry-run",
                "--from-file",
                FIX,
            ],
            2,
        ),
        (
            vec!["restore", "d1", "--to", "sts/todo-db", "--from-file", FIX],
            2,
        ),
        (
            vec![
                "restore",
                "d1",
                "--to",
                "cronjob/todo-db-backup",
                "--dry-run",
                "--from-file",
                FIX,
            ],
            2,
        ),
        (
            vec![
                "restore",
                "d1",
                "--replace",
                "sts/todo-db",
                "--dry-run",
                "--from-file",
                FIX,
            ],
            2,
        ),
        (
            vec![
                "restore",
                "nope",
                "--to",
                "sts/todo-db",
                "--dry-run",
                "--from-file",
                FIX,
            ],
            3,
        ),
        (
            vec![
                "restore",
                "pvc/none",
                "--path",
                "x.dump",
                "--to",
                "sts/todo-db",
                "--dry-run",
                "--from-file",
                FIX,
            ],
            3,
        ),
    ] {
        let (code, out, err) = run(&args);
        assert_eq!(code, want, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
    }
}

const VERIFY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/verify.yaml");

#[test]
fn verify_dry_run_prints_the_read_only_verify_job() {
    let (code, out, err) = run(&[
        "verify",
        "db-dump-1",
        "-n",
        "t",
        "--dry-run",
        "-o",
        "json",
        "--from-file",
        VERIFY,
    ]);
    assert_eq!(code, 0, "{err}");
    assert_no_secret("verify --dry-run -o json", &out);
    assert_no_secret("verify's stderr", &err);
    assert!(err.contains("pinning the Job to node n1"), "{err}");
    let job: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (&job["apiVersion"], &job["kind"]),
        (&"batch/v1".into(), &"Job".into())
    );
    let name = job["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("db-dump-1-verify-"), "{name}");
    assert_eq!(job["metadata"]["namespace"], "t");
    assert_eq!(
        job["metadata"]["labels"]["kubectl-stateful.io/method"],
        "verify"
    );
    let pod = &job["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    assert_eq!(c["image"], "postgres:16");
    assert_eq!(c["volumeMounts"][0]["mountPath"], "/backup");
    assert_eq!(c["volumeMounts"][0]["readOnly"], true);
    assert_eq!(pod["volumes"][0]["persistentVolumeClaim"]["readOnly"], true);
    assert_eq!(
        pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
            [0]["matchFields"][0]["values"][0],
        "n1"
    );
    let env: Vec<(&str, &str)> = c["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        env,
        [
            ("BACKUP_DIR", "/backup"),
            ("BACKUP_FILE", "db-20261123010203.dump"),
            (
                "BACKUP_SHA256",
                "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
            ),
        ]
    );
    // YAML by default: the same Job.
    let (code, yaml, err) = run(&[
        "verify",
        "db-dump-1",
        "-n",
        "t",
        "--dry-run",
        "--from-file",
        VERIFY,
    ]);
    assert_eq!(code, 0, "{err}");
    let y: Value = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(
        y["spec"]["template"]["spec"]["containers"][0]["env"],
        c["env"]
    );
}

#[test]
fn verify_exit_codes_from_a_dump() {
    let verify = |args: &[&str]| {
        let mut a = vec!["verify"];
        a.extend(args);
        a.extend(["-n", "t", "--from-file", VERIFY]);
        run(&a)
    };
    // A ready snapshot is verified from its status: 0, its name on stdout.
    let (code, out, err) = verify(&["data-snap-ready", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "data-snap-ready\n");
    assert!(
        err.contains("verified: ready to use, restore size 5Gi"),
        "{err}"
    );
    // One in error: 5 with the reason.
    let (code, out, err) = verify(&["data-snap-err", "--dry-run"]);
    assert_eq!((code, out.as_str()), (5, ""));
    assert!(err.contains("quota exceeded"), "{err}");
    // A CronJob's run has no known artifact: 5, saying so.
    let (code, _, err) = verify(&["nightly-29400000", "--dry-run"]);
    assert_eq!(code, 5);
    assert!(err.contains("no known artifact"), "{err}");
    // A dump still running: 5.
    let (code, _, err) = verify(&["db-dump-2", "--dry-run"]);
    assert_eq!(code, 5);
    assert!(err.contains("is Running"), "{err}");
    // No such backup: 3; a bad name: 2.
    let (code, _, err) = verify(&["nope", "--dry-run"]);
    assert_eq!(code, 3, "{err}");
    let (code, _, _) = verify(&["Bad_Name", "--dry-run"]);
    assert_eq!(code, 2);
    // --from-file only with --dry-run (client): 2, nothing read.
    for args in [&["db-dump-1"][..], &["db-dump-1", "--dry-run=server"]] {
        let (code, out, err) = verify(args);
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}");
        assert!(err.contains("--from-file works with --dry-run"), "{err}");
    }
    // create --verify: not of a CronJob, not with --dry-run.
    let (code, _, err) = run(&[
        "create",
        "cronjob/todo-db-backup",
        "--verify",
        "--from-file",
        FIX,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--verify"), "{err}");
    let (code, _, _) = run(&[
        "create",
        "sts/todo-db",
        "--to",
        "pvc/b",
        "--verify",
        "--dry-run",
        "--from-file",
        FIX,
    ]);
    assert_eq!(code, 2);
}

#[test]
fn verify_jobs_are_not_listed_as_backups() {
    let (code, out, err) = run(&["list", "-n", "t", "-o", "json", "--from-file", VERIFY]);
    assert_eq!(code, 0, "{err}");
    let l: Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = l["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"db-dump-1"), "{names:?}");
    // The verify Job dry-run prints, fed back as a dump, is not a backup.
    let (_, job, _) = run(&[
        "verify",
        "db-dump-1",
        "-n",
        "t",
        "--dry-run",
        "--from-file",
        VERIFY,
    ]);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("verify-job.yaml");
    std::fs::write(&f, job).unwrap();
    let (code, out, err) = run(&[
        "list",
        "-n",
        "t",
        "-o",
        "json",
        "--from-file",
        VERIFY,
        "--from-file",
        f.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let l: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(l["items"].as_array().unwrap().len(), names.len(), "{out}");
}
