#![allow(clippy::unwrap_used)]
//! kubectl's printers on sts-bootstrap without a cluster: `-o jsonpath` on a plan, `-o name`
//! and `-o custom-columns` refused outside `status` before anything runs, and help (every
//! subcommand) that fits 80 columns. `status`'s rows need a database: the e2e suite runs it.

use assert_cmd::Command;

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/bootstrap/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn bin() -> Command {
    let mut c = Command::cargo_bin("kubectl-sts_bootstrap").unwrap();
    c.env_remove("NO_COLOR");
    c
}

#[test]
fn plan_jsonpath() {
    let out = bin()
        .args(["plan", "todo-db", "-n", "default", "--from-file"])
        .arg(fixture("todo-db.yaml"))
        .args([
            "-o",
            r#"jsonpath={.kind} {.engine}{"\n"}{range .steps[*]}{.id}{"\n"}{end}"#,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("BootstrapPlan postgres\n"), "{text}");
    assert!(text.ends_with("reseed/todo-db-1\n"), "{text}");
}

#[test]
fn row_printers_only_for_status() {
    for o in ["name", "custom-columns=POD:.pod"] {
        for sub in ["plan", "apply"] {
            let out = bin()
                .args([sub, "todo-db", "-n", "default", "--from-file"])
                .arg(fixture("todo-db.yaml"))
                .args(["-o", o, "--color", "always"])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{sub} -o {o}");
            assert!(out.stdout.is_empty());
            let err = String::from_utf8(out.stderr).unwrap();
            assert!(err.contains("\x1b[1;31merror:\x1b[0m"), "{err:?}");
            assert!(err.contains("use them with `status`"), "{err}");
        }
    }
    // --sort-by and --no-headers belong to status.
    let out = bin()
        .args(["plan", "todo-db", "--sort-by", ".pod"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_fits_80_columns() {
    for sub in [&[][..], &["plan"], &["apply"], &["status"]] {
        for h in ["-h", "--help"] {
            for cols in ["80", "200"] {
                let out = bin()
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
