#![allow(clippy::unwrap_used)]
//! What `--from-file` accepts: the same objects from several inputs counted once (a
//! metamorphic test over every fixture), directories, support bundles, input bounds. No cluster.

#[path = "../../../shared/core/tests/support/sources.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use assert_cmd::Command;

const DEMO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/demo-cluster.yaml"
);

fn bin() -> Command {
    let mut c = Command::cargo_bin("kubectl-pvc_trace").unwrap();
    c.env_remove("KUBECONFIG")
        .env_remove("KUBECTL_STATEFUL_MAX_INPUT")
        .env("HOME", "/nonexistent");
    c
}

/// (exit code, stdout, stderr)
fn run(args: &[&str], inputs: &[&Path]) -> (i32, String, String) {
    let mut c = bin();
    c.args(args);
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

const VIEWS: [&[&str]; 3] = [&["-A", "-o", "json"], &["-A"], &["-A", "-o", "wide"]];

#[test]
fn every_fixture_twice_is_byte_identical_to_once() {
    for f in support::fixtures() {
        for view in VIEWS {
            let once = run(view, &[&f]);
            let twice = run(view, &[&f, &f]);
            assert_eq!(once, twice, "{} {view:?}", f.display());
        }
    }
}

#[test]
fn overlapping_dumps_raise_no_false_alarm() {
    let (code, once, _) = run(&["-A", "-o", "json"], &[Path::new(DEMO)]);
    assert_eq!(code, 0);
    // The issue's case: overlapping dumps made one pod look like two.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("again.yaml");
    std::fs::copy(DEMO, &copy).unwrap();
    let (_, both, err) = run(&["-A", "-o", "json"], &[Path::new(DEMO), &copy]);
    assert_eq!(once, both);
    assert!(err.is_empty(), "{err}");
    assert!(!both.contains("(app-0, app-0)") && !both.contains("(shop, shop)"));
}

#[test]
fn two_different_objects_with_one_name_keep_the_first_and_warn_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.yaml");
    // Another claim under the name of one in the demo (another uid, another class).
    std::fs::write(
        &other,
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: mongo-data-mongo-0\n  namespace: shop\n  uid: another-uid\nspec:\n  storageClassName: nowhere\n",
    )
    .unwrap();
    let (_, once, _) = run(&["-A", "-o", "json"], &[Path::new(DEMO)]);
    let (code, out, err) = run(&["-A", "-o", "json"], &[Path::new(DEMO), &other]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, once, "the first given wins");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(
            "kubectl pvc-trace: warning: PersistentVolumeClaim shop/mongo-data-mongo-0"
        ) && err.contains("demo-cluster.yaml")
            && err.contains("other.yaml"),
        "{err}"
    );
    // The other order: the other claim wins.
    let (_, out, err) = run(&["-A", "-o", "json"], &[&other, Path::new(DEMO)]);
    assert!(out.contains("nowhere"), "{out}");
    assert!(err.contains("other.yaml and "), "{err}");
}

#[test]
fn a_directory_is_every_dump_beneath_it_in_path_order() {
    let dir = tempfile::tempdir().unwrap();
    let real = support::repo_root().join("plugins/pvc-trace/tests/fixtures/real-pvs.yaml");
    std::fs::create_dir_all(dir.path().join("b")).unwrap();
    std::fs::copy(DEMO, dir.path().join("a.yaml")).unwrap();
    std::fs::copy(&real, dir.path().join("b/pvs.yml")).unwrap();
    std::fs::write(dir.path().join("README.md"), "# not a dump {").unwrap();
    for view in VIEWS {
        let files = run(view, &[Path::new(DEMO), &real]);
        assert_eq!(files.0, 0, "{}", files.2);
        assert_eq!(run(view, &[dir.path()]), files, "{view:?}");
    }
}

#[test]
fn a_support_bundle_traces_as_the_dump_does() {
    let dir = tempfile::tempdir().unwrap();
    let (unpacked, tgz) = support::bundle_from_dump(Path::new(DEMO), dir.path());
    let top = unpacked.join("support-bundle-2026-12-03T10_00_00");
    for view in VIEWS {
        let dump = run(view, &[Path::new(DEMO)]);
        assert_eq!(dump.0, 0);
        for bundle in [&tgz, &unpacked, &top] {
            assert_eq!(run(view, &[bundle]), dump, "{} {view:?}", bundle.display());
        }
        // The bundle and the dump together: the same objects, once.
        assert_eq!(run(view, &[&tgz, Path::new(DEMO)]), dump);
    }
    // A kind the bundle did not collect is unknown, named as for a dump.
    std::fs::remove_file(top.join("cluster-resources/nodes.json")).unwrap();
    let (code, out, _) = run(&["-A", "-o", "json"], &[&top]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let unknown = v["unknown"].as_array().unwrap();
    assert!(
        unknown
            .iter()
            .any(|g| g["resource"] == "nodes" && g["reason"] == "notInDump"),
        "{unknown:?}"
    );
    // A forbidden LIST the collector recorded is a forbidden gap.
    std::fs::write(
        top.join("cluster-resources/nodes-errors.json"),
        r#"["nodes is forbidden: User \"support\" cannot list resource \"nodes\" in API group \"\" at the cluster scope"]"#,
    )
    .unwrap();
    let (_, out, _) = run(&["-A", "-o", "json"], &[&top]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let nodes: Vec<_> = v["unknown"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["resource"] == "nodes")
        .collect();
    assert_eq!(nodes.len(), 1, "{nodes:?}");
    assert_eq!(nodes[0]["reason"], "forbidden");
}

#[test]
fn a_gzip_that_is_not_a_bundle_and_a_broken_bundle_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("x.txt");
    std::fs::write(&plain, "hello").unwrap();
    let tgz = dir.path().join("x.tar.gz");
    let st = std::process::Command::new("tar")
        .arg("-C")
        .arg(dir.path())
        .arg("-czf")
        .arg(&tgz)
        .arg("x.txt")
        .status()
        .unwrap();
    assert!(st.success());
    let (code, _, err) = run(&["-A"], &[&tgz]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("not a troubleshoot.sh support bundle"),
        "{err}"
    );
    let cut = dir.path().join("cut.tar.gz");
    let (_, full) = support::bundle_from_dump(Path::new(DEMO), &dir.path().join("b"));
    let bytes = std::fs::read(&full).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (code, _, err) = run(&["-A"], &[&cut]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cut.tar.gz"), "{err}");
}

#[test]
fn inputs_above_the_limit_are_refused_quickly_with_their_size() {
    let len = std::fs::metadata(DEMO).unwrap().len();
    let (code, _, err) = run(&["-A", "--max-input-size", "10Ki"], &[Path::new(DEMO)]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "({len} bytes), larger than the input limit of 10 KiB"
        )),
        "{err}"
    );
    let out = bin()
        .args(["-A", "--from-file", DEMO])
        .env("KUBECTL_STATEFUL_MAX_INPUT", "10Ki")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // A bundle: its compressed size, then its uncompressed stream.
    let dir = tempfile::tempdir().unwrap();
    let (unpacked, tgz) = support::bundle_from_dump(Path::new(DEMO), dir.path());
    let tgz_len = std::fs::metadata(&tgz).unwrap().len();
    let (code, _, err) = run(
        &["-A", "--max-input-size", &(tgz_len + 1).to_string()],
        &[&tgz],
    );
    assert_eq!(code, 1);
    assert!(err.contains("more than"), "{err}");
    let (code, _, err) = run(&["-A", "--max-input-size", "8Ki"], &[&unpacked]);
    assert_eq!(code, 1);
    assert!(err.contains("larger than the input limit"), "{err}");
    assert_eq!(run(&["-A", "--max-input-size", "0"], &[]).0, 2);
    // Endless inputs, with the default limit: refused after reading it, in seconds.
    for (what, mut cmd) in [
        ("--from-file /dev/zero", {
            let mut c = bin();
            c.args(["-A", "--from-file", "/dev/zero"]);
            c
        }),
        ("KUBECONFIG=/dev/zero", {
            let mut c = bin();
            c.arg("-A").env("KUBECONFIG", "/dev/zero");
            c
        }),
    ] {
        let t = Instant::now();
        let out = cmd.timeout(Duration::from_secs(60)).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(err.contains("/dev/zero: more than 1 GiB"), "{what}: {err}");
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{what}: {:?}",
            t.elapsed()
        );
    }
}
