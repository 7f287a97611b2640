#![allow(clippy::unwrap_used)]
//! kubectl's printers on `backup list` (from a dump): `-o name`, `-o jsonpath`,
//! `-o custom-columns`, `--sort-by`, `--no-headers`, AGE, NAMESPACE only with `-A`, colour only
//! when asked off a terminal; and help (every subcommand) that fits 80 columns.

use assert_cmd::Command;

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/describe.yaml");

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("kubectl-backup")
        .unwrap()
        .env_remove("NO_COLOR")
        .env_remove("KUBECONFIG")
        .args(args)
        .args(["--from-file", FIX])
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn list_printers() {
    let (code, out, _) = run(&["list", "-o", "name"]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "job.batch/d-failed\njob.batch/d-full\nvolumesnapshot.snapshot.storage.k8s.io/s-ready\n"
    );
    let (_, out, _) = run(&["list", "-o", "jsonpath={.items[*].name}"]);
    assert_eq!(out, "d-failed d-full s-ready");
    let (_, out, _) = run(&[
        "list",
        "-o",
        r#"jsonpath={range .items[?(@.kind=="Job")]}{.name}={.status}{"\n"}{end}"#,
    ]);
    assert_eq!(out, "d-failed=Failed\nd-full=Succeeded\n");
    let (_, out, _) = run(&[
        "list",
        "-o",
        "custom-columns=NAME:.name,STATUS:.status,SIZE:.size",
        "--sort-by",
        "{.status}",
    ]);
    assert_eq!(
        out,
        "NAME       STATUS      SIZE\nd-failed   Failed      <none>\ns-ready    Ready       1Gi\nd-full     Succeeded   <none>\n"
    );
    let (_, out, _) = run(&["list", "-o", "custom-columns=NAME:.name", "--no-headers"]);
    assert_eq!(out, "d-failed\nd-full\ns-ready\n");
}

#[test]
fn list_table_age_namespace_sort_and_colour() {
    let (_, all, _) = run(&["list", "-A"]);
    let header: Vec<&str> = all.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAMESPACE",
            "NAME",
            "TARGET",
            "METHOD",
            "STATUS",
            "STARTED",
            "DURATION",
            "SIZE",
            "AGE"
        ]
    );
    // The snapshot has a creationTimestamp: an age like `10d`; the Jobs have none: `-`.
    let snap = all.lines().find(|l| l.contains("s-ready")).unwrap();
    let age = snap.split_whitespace().last().unwrap();
    assert!(age.ends_with('d') || age.ends_with('y'), "{snap}");
    let (_, scoped, _) = run(&["list", "-n", "ns"]);
    assert!(scoped.starts_with("NAME "), "{scoped}");
    let (_, sorted, _) = run(&["list", "-n", "ns", "--sort-by", ".status", "--no-headers"]);
    let names: Vec<&str> = sorted
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(names, ["d-failed", "s-ready", "d-full"]);
    assert!(!all.contains('\x1b'));
    let (_, coloured, _) = run(&["list", "-A", "--color", "always"]);
    assert!(coloured.contains("\x1b["), "{coloured:?}");
    let (code, _, err) = run(&["list", "-o", "jsonpath={.items[", "-A"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn help_fits_80_columns() {
    for sub in [
        &[][..],
        &["create"],
        &["list"],
        &["logs"],
        &["describe"],
        &["verify"],
    ] {
        for h in ["-h", "--help"] {
            for cols in ["80", "200"] {
                let out = Command::cargo_bin("kubectl-backup")
                    .unwrap()
                    .args(sub)
                    .arg(h)
                    .env("COLUMNS", cols)
                    .output()
                    .unwrap();
                let text = String::from_utf8(out.stdout).unwrap();
                let check = if cols == "80" {
                    text.as_str()
                } else {
                    text.split("Examples:").nth(1).unwrap_or("")
                };
                for l in check.lines() {
                    assert!(l.chars().count() <= 80, "{sub:?} {h} COLUMNS={cols}: {l}");
                }
            }
        }
    }
}
