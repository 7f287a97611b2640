//! Test helpers: the fixture manifests under `tests/fixtures/bootstrap` as snapshots and
//! topologies.
#![allow(clippy::unwrap_used)]

use stateful_core::snapshot::{Snapshot, parse_dump_into};

pub fn fixture(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bootstrap")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub fn snapshot(name: &str) -> Snapshot {
    let mut snap = Snapshot::default();
    parse_dump_into(&mut snap, std::path::Path::new(name), &fixture(name)).unwrap();
    snap
}

/// The topology of StatefulSet `sts` in fixture `file` (namespace `default`), optionally
/// with its replicas overridden.
pub fn topology(file: &str, sts: &str, replicas: Option<i32>) -> crate::Topology {
    let mut snap = snapshot(file);
    if let Some(r) = replicas {
        snap.statefulsets[0].spec.as_mut().unwrap().replicas = Some(r);
    }
    let o = crate::Options {
        cluster_domain: "cluster.local".into(),
        ..Default::default()
    };
    crate::Topology::from_snapshot(&snap, "default", sts, &o).unwrap()
}
