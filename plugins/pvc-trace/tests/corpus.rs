#![allow(clippy::unwrap_used)]
//! The corpus: real objects from storage drivers' issue trackers and documentation
//! (`tests/corpus/*.yaml`, each with its source in a comment; see `tests/corpus/README.md`).
//!
//! Each case's `# Trace:` line gives the command-line arguments; the binary runs on the file as
//! a user would (`--from-file`, `--fail-on warning`), and its output and exit code are the
//! case's expected trace (`tests/snapshots/corpus__*.snap`). The metamorphic tests run over
//! every case: removing any one kind, or stripping `status` from every object, never adds a
//! warning or an error, never removes an object, and never changes a decoded backend.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use pvc_trace::graph::Snapshot;
use pvc_trace::{self as trace, Severity, Target, TraceOptions};
use serde_json::Value;
use stateful_core::snapshot::{Gap, GapReason, Kind, Scope, read_dumps};

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    v.sort();
    v
}

/// The case's `# Trace:` arguments and its `# Source:`.
fn header(p: &Path) -> (Vec<String>, String) {
    let text = std::fs::read_to_string(p).unwrap();
    let line = |tag: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(tag))
            .unwrap_or_else(|| panic!("{}: no {tag} line", p.display()))
            .trim()
            .to_string()
    };
    let args = line("# Trace:")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    (args, line("# Source:"))
}

fn case_name(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

#[test]
fn the_corpus_has_at_least_25_cases_each_with_its_source_and_readme_line() {
    let cases = corpus();
    assert!(cases.len() >= 25, "{} cases", cases.len());
    let readme = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/README.md"),
    )
    .unwrap();
    for p in &cases {
        let (_, source) = header(p);
        assert!(
            source.starts_with("https://"),
            "{}: source {source}",
            p.display()
        );
        let name = case_name(p);
        assert!(readme.contains(&name), "README lacks {name}");
    }
}

#[test]
fn every_case_traces_as_expected() {
    for p in corpus() {
        let (args, _) = header(&p);
        let mut cmd = Command::cargo_bin("kubectl-pvc_trace").unwrap();
        cmd.env_remove("KUBECONFIG").env("HOME", "/nonexistent");
        cmd.arg("--from-file").arg(&p).args(&args);
        let targets = args.iter().filter(|a| a.contains('/')).count();
        cmd.args(["-o", if targets > 0 { "tree" } else { "wide" }]);
        cmd.args(["--fail-on", "warning"]);
        let out = cmd.output().unwrap();
        let text = format!(
            "$ kubectl pvc-trace --from-file {}.yaml {} -o {} --fail-on warning\n{}--- stderr ---\n{}--- exit {} ---\n",
            case_name(&p),
            args.join(" "),
            if targets > 0 { "tree" } else { "wide" },
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            out.status.code().unwrap_or(-1)
        );
        assert!(
            matches!(out.status.code(), Some(0 | 5)),
            "{}: {text}",
            p.display()
        );
        insta::assert_snapshot!(case_name(&p), text);
    }
}

// --- Metamorphic tests over the corpus ------------------------------------------------------

/// The case as the binary loads it: `-n`/`default` for namespace-less objects, the scope, the
/// kinds not in the file as gaps, `--complete`.
fn load(p: &Path) -> (Snapshot, TraceOptions) {
    let (args, _) = header(p);
    let mut s: Snapshot = read_dumps(&[p.to_string_lossy().into_owned()]).unwrap();
    let ns = args
        .iter()
        .position(|a| a == "-n")
        .map(|i| args[i + 1].clone());
    s.default_namespaces(ns.as_deref().unwrap_or("default"));
    s.retain_scope(&Scope {
        namespace: ns.clone(),
        pod_selector: None,
        ..Default::default()
    });
    for k in trace::KINDS {
        if !s.knows(k) {
            s.gaps.push(gap(k));
        }
    }
    if args.iter().any(|a| a == "--complete") {
        s.mark_complete();
    }
    let targets = args
        .iter()
        .filter(|a| a.contains('/'))
        .map(|t| Target::parse(t).unwrap())
        .collect();
    (
        s,
        TraceOptions {
            targets,
            namespace: ns,
            source: "file".into(),
            selector: None,
            usage: None,
        },
    )
}

fn gap(kind: Kind) -> Gap {
    Gap {
        kind,
        verb: "list".into(),
        resource: kind.resource().into(),
        namespace: None,
        reason: GapReason::NotInDump,
        message: String::new(),
    }
}

/// The names of the objects in the report's roots, and each decoded backend by volume.
fn objects_and_backends(r: &trace::Report) -> (BTreeSet<String>, BTreeMap<String, String>) {
    fn walk(v: &Value, names: &mut BTreeSet<String>, backends: &mut BTreeMap<String, String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(n)) = m.get("name") {
                    names.insert(n.clone());
                    if let Some(b) = m.get("backend").filter(|b| !b.is_null()) {
                        backends.insert(n.clone(), b.to_string());
                    }
                }
                m.values().for_each(|x| walk(x, names, backends));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, names, backends)),
            _ => {}
        }
    }
    let v = serde_json::to_value(&r.roots).unwrap();
    let (mut names, mut backends) = (BTreeSet::new(), BTreeMap::new());
    walk(&v, &mut names, &mut backends);
    (names, backends)
}

/// The worst severity of each object with a warning or an error.
fn worst(r: &trace::Report) -> BTreeMap<String, Severity> {
    let mut m = BTreeMap::new();
    for d in r
        .diagnostics
        .iter()
        .filter(|d| d.severity >= Severity::Warning)
    {
        let e = m
            .entry(format!("{}/{}", d.object.kind, d.object.name))
            .or_insert(d.severity);
        *e = (*e).max(d.severity);
    }
    m
}

fn without(s: &Snapshot, kind: Kind) -> Snapshot {
    let mut s = s.clone();
    match kind {
        Kind::Pod => s.pods.clear(),
        Kind::PersistentVolumeClaim => s.pvcs.clear(),
        Kind::PersistentVolume => s.pvs.clear(),
        Kind::StorageClass => s.storage_classes.clear(),
        Kind::VolumeAttachment => s.volume_attachments.clear(),
        Kind::Node => s.nodes.clear(),
        Kind::StatefulSet => s.statefulsets.clear(),
        Kind::Deployment => s.deployments.clear(),
        Kind::ReplicaSet => s.replicasets.clear(),
        Kind::Event => s.events.clear(),
        _ => return s,
    }
    s.known.remove(&kind);
    s.complete.remove(&kind);
    s.gaps.retain(|g| g.kind != kind);
    s.gaps.push(gap(kind));
    s
}

fn stripped(s: &Snapshot) -> Snapshot {
    let mut s = s.clone();
    s.pods.iter_mut().for_each(|o| o.status = None);
    s.pvcs.iter_mut().for_each(|o| o.status = None);
    s.pvs.iter_mut().for_each(|o| o.status = None);
    s.volume_attachments
        .iter_mut()
        .for_each(|o| o.status = None);
    s.nodes.iter_mut().for_each(|o| o.status = None);
    s.statefulsets.iter_mut().for_each(|o| o.status = None);
    s.deployments.iter_mut().for_each(|o| o.status = None);
    s
}

/// The names only objects of `kind` bring into the output (and what is drawn only under them).
fn names_of(s: &Snapshot, kind: Kind) -> BTreeSet<String> {
    let v = |o: Option<&String>| o.cloned().unwrap_or_default();
    match kind {
        Kind::Pod => s
            .pods
            .iter()
            .flat_map(|p| {
                let mut n = vec![v(p.metadata.name.as_ref())];
                n.extend(
                    p.spec
                        .iter()
                        .flat_map(|s| s.volumes.iter().flatten())
                        .map(|x| x.name.clone()),
                );
                n
            })
            .collect(),
        Kind::PersistentVolumeClaim => s
            .pvcs
            .iter()
            .flat_map(|o| {
                [
                    v(o.metadata.name.as_ref()),
                    v(o.spec.as_ref().and_then(|s| s.storage_class_name.as_ref())),
                    v(o.spec.as_ref().and_then(|s| s.volume_name.as_ref())),
                ]
            })
            .collect(),
        Kind::PersistentVolume => s
            .pvs
            .iter()
            .flat_map(|o| {
                [
                    v(o.metadata.name.as_ref()),
                    v(o.spec.as_ref().and_then(|s| s.storage_class_name.as_ref())),
                    v(o.spec
                        .as_ref()
                        .and_then(|s| s.claim_ref.as_ref())
                        .and_then(|c| c.name.as_ref())),
                ]
            })
            .collect(),
        Kind::StorageClass => s
            .storage_classes
            .iter()
            .map(|o| v(o.metadata.name.as_ref()))
            .collect(),
        Kind::VolumeAttachment => s
            .volume_attachments
            .iter()
            .flat_map(|o| {
                [
                    v(o.metadata.name.as_ref()),
                    v(o.spec.source.persistent_volume_name.as_ref()),
                ]
            })
            .collect(),
        _ => BTreeSet::new(),
    }
}

#[test]
fn removing_a_kind_or_every_status_never_adds_a_problem_or_loses_an_object() {
    let kinds = trace::KINDS;
    for p in corpus() {
        let name = case_name(&p);
        let (s, opts) = load(&p);
        let Ok(base) = trace::trace(&s, &opts) else {
            panic!("{name}: the case itself must trace");
        };
        let (bn, bb) = objects_and_backends(&base);
        let check = |what: &str, got: &trace::Report, may_lose: &BTreeSet<String>| {
            let (b, g) = (worst(&base), worst(got));
            for (obj, sev) in &g {
                assert!(
                    b.get(obj).is_some_and(|old| old >= sev),
                    "{name}, {what}: new {sev:?} on {obj}"
                );
            }
            let (gn, gb) = objects_and_backends(got);
            for (pv, backend) in &gb {
                if let Some(old) = bb.get(pv) {
                    assert_eq!(old, backend, "{name}, {what}: backend of {pv} changed");
                }
            }
            for n in bn.difference(&gn) {
                assert!(may_lose.contains(n), "{name}, {what}: {n} vanished");
            }
        };
        for k in kinds {
            // A target of the removed kind is then not found: a clean error, not a trace.
            match trace::trace(&without(&s, k), &opts) {
                Ok(got) => check(&format!("without {k:?}"), &got, &names_of(&s, k)),
                Err(e) => assert!(
                    matches!(e.exit_code(), stateful_core::ExitCode::NotFound),
                    "{name}, without {k:?}: {e}"
                ),
            }
        }
        let got = trace::trace(&stripped(&s), &opts).unwrap();
        check("status stripped", &got, &BTreeSet::new());
    }
}
