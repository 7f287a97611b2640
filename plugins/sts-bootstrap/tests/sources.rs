#![allow(clippy::unwrap_used)]
//! What `--from-file` accepts, through `plan`: every StatefulSet of every fixture planned
//! from the fixture twice is the same as once; a support bundle plans as the dump does. No
//! cluster.

#[path = "../../../shared/core/tests/support/sources.rs"]
mod support;
// The support module reads dumps with it (cargo machete does not follow `#[path]`).
use serde_saphyr as _;

use std::path::Path;

use assert_cmd::Command;

/// (exit code, stdout, stderr)
fn run(args: &[&str], inputs: &[&Path]) -> (i32, String, String) {
    let mut c = Command::cargo_bin("kubectl-sts_bootstrap").unwrap();
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

/// Every (fixture, namespace, StatefulSet) of the repository.
fn statefulsets() -> Vec<(std::path::PathBuf, String, String)> {
    let mut out = Vec::new();
    for f in support::fixtures() {
        for o in support::objects(&f) {
            if o["kind"] == "StatefulSet" {
                let name = o["metadata"]["name"].as_str().unwrap().to_string();
                let ns = o["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("default")
                    .to_string();
                out.push((f.clone(), ns, name));
            }
        }
    }
    assert!(out.len() >= 8, "{out:?}");
    out
}

#[test]
fn every_statefulset_of_every_fixture_twice_is_byte_identical_to_once() {
    for (f, ns, name) in statefulsets() {
        for o in ["json", "table"] {
            let args = ["plan", &name, "-n", &ns, "-o", o];
            assert_eq!(
                run(&args, &[&f]),
                run(&args, &[&f, &f]),
                "{} {ns}/{name} {o}",
                f.display()
            );
        }
    }
}

#[test]
fn a_support_bundle_plans_as_the_dump_does() {
    let mut planned = 0;
    for (f, ns, name) in statefulsets() {
        let dir = tempfile::tempdir().unwrap();
        let (unpacked, tgz) = support::bundle_from_dump(&f, dir.path());
        for o in ["json", "table"] {
            let args = ["plan", &name, "-n", &ns, "-o", o];
            let dump = run(&args, &[&f]);
            planned += usize::from(dump.0 == 0);
            assert_eq!(run(&args, &[&tgz]), dump, "{} {name} {o}", f.display());
            assert_eq!(run(&args, &[&unpacked]), dump, "{} {name} {o}", f.display());
        }
    }
    assert!(planned >= 6, "{planned}");
}
