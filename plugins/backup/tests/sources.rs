#![allow(clippy::unwrap_used)]
//! What `--from-file` accepts, through `backup list` and `describe`: every fixture twice is
//! the same as once, a support bundle lists as the dump does, a timestamp beyond range does
//! not fail the dump, `--image` is checked. No cluster.

#[path = "../../../shared/core/tests/support/sources.rs"]
mod support;
// The support module reads dumps with it (cargo machete does not follow `#[path]`).
use serde_saphyr as _;

use std::path::Path;

use assert_cmd::Command;

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/todo-db.yaml");
const RUNNING: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/running-manual.yaml"
);

/// (exit code, stdout, stderr), with the durations of running backups (which grow with the
/// clock between two runs) blanked.
fn run(args: &[&str], inputs: &[&Path]) -> (i32, String, String) {
    let (code, out, err) = run_raw(args, inputs);
    (code, blank_durations(&out), err)
}

/// Durations of running backups and the clock's `YYYYMMDDhhmmss` in file names blanked.
fn blank_durations(out: &str) -> String {
    blank_clock(out)
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("\"durationSeconds\"") {
                "<duration>".to_string()
            } else if l.contains("Running") {
                // Table rows: the DURATION column of a running backup.
                l.split_whitespace()
                    .map(|w| {
                        if w.chars().next().is_some_and(|c| c.is_ascii_digit())
                            && w.chars().last().is_some_and(|c| "smhd".contains(c))
                            && !w.contains(':')
                        {
                            "<d>"
                        } else {
                            w
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn blank_clock(s: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    for c in s.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if digits.len() == 14 {
            out.push_str("<clock>");
        } else {
            out.push_str(&digits);
        }
        digits.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

fn run_raw(args: &[&str], inputs: &[&Path]) -> (i32, String, String) {
    let mut c = Command::cargo_bin("kubectl-backup").unwrap();
    c.args(args)
        .env("KUBECONFIG", "/nonexistent")
        .env_remove("KUBECTL_STATEFUL_MAX_INPUT");
    for i in inputs {
        c.arg("--from-file").arg(i);
    }
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const VIEWS: [&[&str]; 2] = [&["list", "-A", "-o", "json"], &["list", "-A"]];

#[test]
fn every_fixture_twice_is_byte_identical_to_once() {
    for f in support::fixtures() {
        for view in VIEWS {
            assert_eq!(
                run(view, &[&f]),
                run(view, &[&f, &f]),
                "{} {view:?}",
                f.display()
            );
        }
        // A dry-run plan from every workload of the fixture.
        for o in support::objects(&f) {
            let kind = match o["kind"].as_str() {
                Some("StatefulSet") => "sts",
                Some("CronJob") => "cronjob",
                _ => continue,
            };
            let name = o["metadata"]["name"].as_str().unwrap();
            let ns = o["metadata"]["namespace"].as_str().unwrap_or("default");
            let target = format!("{kind}/{name}");
            let mut args = vec![
                "create",
                &target,
                "-n",
                ns,
                "--name",
                "m-1",
                "--dry-run",
                "-o",
                "json",
            ];
            if kind == "sts" {
                args.extend(["--to-new-pvc", "1Gi"]);
            }
            assert_eq!(
                run(&args, &[&f]),
                run(&args, &[&f, &f]),
                "{} {target}",
                f.display()
            );
        }
    }
}

#[test]
fn a_support_bundle_lists_as_the_dump_does() {
    let merged = tempfile::tempdir().unwrap();
    let both = merged.path().join("both.yaml");
    std::fs::write(
        &both,
        format!(
            "{}\n---\n{}",
            std::fs::read_to_string(FIX).unwrap(),
            std::fs::read_to_string(RUNNING).unwrap()
        ),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (unpacked, tgz) = support::bundle_from_dump(&both, dir.path());
    for view in [
        &["list", "-A", "-o", "json"][..],
        &["list", "-A"],
        &[
            "list",
            "cronjob/todo-db-backup",
            "-n",
            "default",
            "-o",
            "json",
        ],
        &[
            "describe",
            "todo-db-backup-manual-20261123000000",
            "-n",
            "default",
        ],
        &[
            "create",
            "cronjob/todo-db-backup",
            "--name",
            "m-1",
            "--dry-run",
            "-o",
            "json",
        ],
    ] {
        let dump = run(view, &[&both]);
        assert!(!dump.1.is_empty() || !dump.2.is_empty(), "{view:?}");
        assert_eq!(run(view, &[&tgz]), dump, "{view:?}");
        assert_eq!(run(view, &[&unpacked]), dump, "{view:?}");
    }
}

#[test]
fn a_job_timestamp_beyond_range_is_unknown_not_a_failed_dump() {
    let dir = tempfile::tempdir().unwrap();
    let far = dir.path().join("far.yaml");
    std::fs::write(
        &far,
        std::fs::read_to_string(RUNNING)
            .unwrap()
            .replace("2026-11-23T00:00:00Z", "9999-12-31T23:59:59Z"),
    )
    .unwrap();
    let (code, out, err) = run_raw(&["list", "-A", "-o", "json"], &[&far, Path::new(FIX)]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let row = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "todo-db-backup-manual-20261123000000")
        .unwrap();
    assert_eq!(row["status"], "Running");
    assert!(row.get("started").is_none(), "{row}");
    assert!(
        err.contains("status.startTime 9999-12-31T23:59:59Z") && err.contains("far.yaml"),
        "{err}"
    );
    // JSON dumps alike.
    let json = dir.path().join("far.json");
    let o = &support::objects(&far)[0];
    std::fs::write(&json, serde_json::to_string_pretty(o).unwrap()).unwrap();
    let (code, _, err) = run(&["list", "-A"], &[&json]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn an_empty_or_multi_line_image_is_a_usage_error_before_anything_is_built() {
    for image in ["", "  ", "postgres:16\nkind: Secret", "postgres 16"] {
        let (code, out, err) = run(
            &[
                "create",
                "sts/todo-db",
                "--image",
                image,
                "--to-new-pvc",
                "1Gi",
                "--dry-run",
                "-o",
                "json",
            ],
            &[Path::new(FIX)],
        );
        assert_eq!(code, 2, "{image:?}: {err}");
        assert!(out.is_empty(), "{image:?}: {out}");
        assert!(err.contains("--image"), "{err}");
    }
    let (code, _, err) = run(
        &[
            "create",
            "sts/todo-db",
            "--image",
            "postgres:16",
            "--to-new-pvc",
            "1Gi",
            "--dry-run",
            "-o",
            "json",
        ],
        &[Path::new(FIX)],
    );
    assert_eq!(code, 0, "{err}");
}
