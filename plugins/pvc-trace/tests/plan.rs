#![allow(clippy::unwrap_used)]
//! The fetch plan gives the same trace as LISTs of every kind: for every case of the corpus
//! and the demo dump, taken as a whole cluster, and every target in it (each pod, claim,
//! StatefulSet and Deployment from its namespace, each volume and node from all namespaces,
//! and each namespace with no target), the trace of what the plan fetches (served from the
//! cluster's objects as the API server would) equals the trace of the whole LISTs in scope.
//! And a plan stays within its request budget.

use std::path::{Path, PathBuf};

use pvc_trace::graph::Snapshot;
use pvc_trace::plan::{self, Strategy};
use pvc_trace::{self as trace, Target, TraceOptions};
use stateful_core::snapshot::lean::MetaView;
use stateful_core::snapshot::{Kind, Request, Scope, read_dumps};

fn inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut v: Vec<PathBuf> = std::fs::read_dir(root.join("tests/corpus"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    v.sort();
    v.push(root.join("../../examples/demo-cluster.yaml"));
    v
}

/// A dump as a cluster: every object the API server would hold, every kind listed in full.
fn cluster(p: &Path) -> Snapshot {
    let mut s: Snapshot = read_dumps(&[p.to_string_lossy().into_owned()]).unwrap();
    s.default_namespaces("default");
    s.dedup(); // in the order the API server lists objects
    s.gaps.clear();
    for k in Kind::ALL {
        s.known.insert(k);
        s.complete.insert(k);
    }
    s
}

/// What the LISTs of every kind in scope fetch from that cluster.
fn whole(c: &Snapshot, scope: &Scope) -> Snapshot {
    let mut s = c.clone();
    s.retain_scope(scope);
    s
}

fn json(s: &Snapshot, targets: &[Target], scope: &Scope) -> Result<serde_json::Value, String> {
    let opts = TraceOptions {
        targets: targets.to_vec(),
        namespace: scope.namespace.clone(),
        source: "cluster".into(),
        selector: None,
        usage: None,
    };
    trace::trace(s, &opts)
        .map(|r| serde_json::to_value(r).unwrap())
        .map_err(|e| e.to_string())
}

/// The questions a cluster can be asked, each with its scope.
fn questions(c: &Snapshot) -> Vec<(Vec<Target>, Scope)> {
    let ns_scope = |ns: &str| Scope {
        namespace: Some(ns.to_string()),
        pod_selector: None,
        ..Default::default()
    };
    let all = Scope::default();
    let mut q = Vec::new();
    let mut namespaces = std::collections::BTreeSet::new();
    for p in &c.pods {
        let ns = p.metadata.namespace().unwrap_or("default");
        namespaces.insert(ns.to_string());
        q.push((
            vec![Target::Pod(p.metadata.name().unwrap().into())],
            ns_scope(ns),
        ));
    }
    for x in &c.pvcs {
        let ns = x.metadata.namespace().unwrap_or("default");
        namespaces.insert(ns.to_string());
        q.push((
            vec![Target::Claim(x.metadata.name().unwrap().into())],
            ns_scope(ns),
        ));
    }
    for s in &c.statefulsets {
        let ns = s.metadata.namespace.as_deref().unwrap_or("default");
        q.push((
            vec![Target::StatefulSet(s.metadata.name.clone().unwrap())],
            ns_scope(ns),
        ));
    }
    for d in &c.deployments {
        let ns = d.metadata.namespace.as_deref().unwrap_or("default");
        q.push((
            vec![Target::Deployment(d.metadata.name.clone().unwrap())],
            ns_scope(ns),
        ));
    }
    for v in &c.pvs {
        q.push((
            vec![Target::Volume(v.metadata.name().unwrap().into())],
            all.clone(),
        ));
    }
    for va in &c.volume_attachments {
        if let Some(pv) = &va.spec.source.persistent_volume_name {
            q.push((vec![Target::Volume(pv.clone())], all.clone()));
        }
        q.push((vec![Target::Node(va.spec.node_name.clone())], all.clone()));
    }
    for n in &c.nodes {
        q.push((
            vec![Target::Node(n.metadata.name.clone().unwrap())],
            all.clone(),
        ));
    }
    for ns in namespaces {
        q.push((vec![], ns_scope(&ns)));
    }
    // Names nothing has: the same "not found".
    q.push((vec![Target::Pod("no-such-pod".into())], ns_scope("default")));
    q.push((vec![Target::Volume("no-such-pv".into())], all));
    q
}

#[test]
fn a_planned_trace_is_the_trace_of_every_object() {
    let mut checked = 0;
    for p in inputs() {
        let c = cluster(&p);
        for (targets, scope) in questions(&c) {
            assert_eq!(plan::strategy(&targets, &scope), Strategy::Plan);
            let want = json(&whole(&c, &scope), &targets, &scope);
            let (planned, stages) = plan::serve(&c, &targets, &scope);
            let got = json(&planned, &targets, &scope);
            if got != want {
                let (g, w) = (
                    got.clone().unwrap_or_default(),
                    want.clone().unwrap_or_default(),
                );
                panic!(
                    "{}: {targets:?} in {:?}: planned trace differs ({:?} vs {:?}): {}\nrequests: {stages:?}",
                    p.display(),
                    scope.namespace,
                    got.as_ref().err(),
                    want.as_ref().err(),
                    diff("", &g, &w).join("\n")
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 150, "{checked} questions");
}

/// Where two JSON values differ: `path: planned vs whole`.
fn diff(path: &str, a: &serde_json::Value, b: &serde_json::Value) -> Vec<String> {
    use serde_json::Value::{Array, Object};
    match (a, b) {
        (Object(x), Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter()
                .flat_map(|k| {
                    let n = serde_json::Value::Null;
                    diff(
                        &format!("{path}/{k}"),
                        x.get(k).unwrap_or(&n),
                        y.get(k).unwrap_or(&n),
                    )
                })
                .collect()
        }
        (Array(x), Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .flat_map(|(i, (a, b))| diff(&format!("{path}/{i}"), a, b))
            .collect(),
        _ if a == b => vec![],
        _ => vec![
            format!("{path}: {} vs {}", a, b)
                .chars()
                .take(600)
                .collect(),
        ],
    }
}

fn count(stages: &[Vec<Request>]) -> usize {
    stages.iter().map(Vec::len).sum()
}

#[test]
fn single_targets_stay_within_their_request_budgets() {
    // The budgets, for a pod with one claim that no other pod mounts (each further
    // claim, user or node costs its own GETs), on the demo cluster.
    let demo =
        cluster(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo-cluster.yaml"));
    let shop = Scope {
        namespace: Some("shop".into()),
        pod_selector: None,
        ..Default::default()
    };
    let n = |t: Target, scope: &Scope| count(&plan::serve(&demo, &[t], scope).1);
    assert_eq!(n(Target::Pod("mongo-0".into()), &shop), 7);
    assert_eq!(n(Target::Claim("data-postgres-0".into()), &shop), 7);
    assert_eq!(
        n(
            Target::Volume("pvc-71aa0c3e-2d4f-4b8a-9e1c-5a6b7c8d9e00".into()),
            &Scope::default()
        ),
        8
    );
    // A StatefulSet: bounded by its replicas (3 here), not by the cluster.
    let sts = n(Target::StatefulSet("mongo".into()), &shop);
    assert!(sts <= 8 + 5 * 3, "sts: {sts}");
}

#[test]
fn whole_questions_are_not_planned() {
    let ns = Scope {
        namespace: Some("a".into()),
        pod_selector: None,
        ..Default::default()
    };
    assert_eq!(plan::strategy(&[], &Scope::default()), Strategy::All, "-A");
    assert_eq!(
        plan::strategy(&[Target::StorageClass("gp3".into())], &Scope::default()),
        Strategy::All
    );
    assert_eq!(
        plan::strategy(&[Target::Volume("pv".into())], &ns),
        Strategy::All,
        "a volume's claim may be in another namespace"
    );
    assert_eq!(
        plan::strategy(&[Target::Pod("p".into())], &ns),
        Strategy::Plan
    );
}

#[test]
#[ignore = "prints the plan of every demo target"]
fn show_demo_plans() {
    let demo =
        cluster(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo-cluster.yaml"));
    for (t, scope) in questions(&demo) {
        let (_, stages) = plan::serve(&demo, &t, &scope);
        println!("{t:?} {:?}: {}", scope.namespace, count(&stages));
        for (i, s) in stages.iter().enumerate() {
            for r in s {
                println!("  {i} {} {}", r.verb(), r.path());
            }
        }
    }
}
