//! troubleshoot.sh support bundles (`kubectl support-bundle`), as a `.tar.gz` or unpacked.
//!
//! The layout is the one troubleshoot's `clusterResources` collector writes
//! (replicatedhq/troubleshoot, `pkg/collect/cluster_resources.go` and the names in
//! `pkg/constants`), under `cluster-resources/` in the bundle's top directory:
//!
//! - namespaced kinds, one JSON list per namespace: `pods/NS.json`, `pvcs/NS.json`,
//!   `services/`, `deployments/`, `replicasets/`, `statefulsets/`, `jobs/`, `cronjobs/`,
//!   `events/`;
//! - cluster-scoped kinds, one file: `pvs.json`, `storage-classes.json`, `nodes.json`,
//!   `volumeattachments.json`;
//! - custom resources by CRD name: `custom-resources/volumesnapshots.snapshot.storage.k8s.io/NS.json`,
//!   `custom-resources/volumesnapshotclasses.snapshot.storage.k8s.io.json`, `…contents….json`;
//! - `KIND-errors.json` beside each: the collector's errors (a forbidden LIST becomes a gap).
//!
//! Recent versions write typed lists (`{"kind": "PodList", "items": […]}`), older ones bare
//! arrays of items: both are read, the items' kind coming from the file's place. Everything
//! else (logs, other kinds, analysis results, the `.yaml` twins of custom resources) is
//! skipped. A kind whose file is in the bundle is known, even with no object; a kind the
//! bundle did not collect (e.g. CSIDrivers) stays unknown, as for a dump.
//!
//! A `.tar.gz` is read as a stream (flate2 + tar): nothing is unpacked to disk, one file at a
//! time is in memory, and the uncompressed stream is bounded like any input.

use std::cell::Cell;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde_json::Value;

use crate::error::{Error, Result};

use super::merge::Merger;
use super::sources::{display, io_error, read_bounded, too_large};
use super::{Flavor, Gap, GapReason, Kind, Snapshot, parse_dump_into};

const ROOT: &str = "cluster-resources";

/// What one file of a bundle holds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Content {
    /// A list of objects of this kind.
    Objects(Kind),
    /// The collector's errors for this kind.
    Errors(Kind),
}

/// The list kind and apiVersion of a kind's items (for bare arrays).
fn list_of(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Pod => ("PodList", "v1"),
        Kind::PersistentVolumeClaim => ("PersistentVolumeClaimList", "v1"),
        Kind::PersistentVolume => ("PersistentVolumeList", "v1"),
        Kind::Service => ("ServiceList", "v1"),
        Kind::Event => ("EventList", "v1"),
        Kind::Node => ("NodeList", "v1"),
        Kind::Deployment => ("DeploymentList", "apps/v1"),
        Kind::ReplicaSet => ("ReplicaSetList", "apps/v1"),
        Kind::StatefulSet => ("StatefulSetList", "apps/v1"),
        Kind::Job => ("JobList", "batch/v1"),
        Kind::CronJob => ("CronJobList", "batch/v1"),
        Kind::StorageClass => ("StorageClassList", "storage.k8s.io/v1"),
        Kind::VolumeAttachment => ("VolumeAttachmentList", "storage.k8s.io/v1"),
        Kind::CSIDriver => ("CSIDriverList", "storage.k8s.io/v1"),
        Kind::VolumeSnapshot => ("VolumeSnapshotList", "snapshot.storage.k8s.io/v1"),
        Kind::VolumeSnapshotClass => ("VolumeSnapshotClassList", "snapshot.storage.k8s.io/v1"),
        Kind::VolumeSnapshotContent => ("VolumeSnapshotContentList", "snapshot.storage.k8s.io/v1"),
    }
}

/// The directory (namespaced kinds) or file stem (cluster-scoped kinds) troubleshoot uses.
fn kind_of_name(name: &str) -> Option<Kind> {
    Some(match name {
        "pods" => Kind::Pod,
        "pvcs" => Kind::PersistentVolumeClaim,
        "services" => Kind::Service,
        "deployments" => Kind::Deployment,
        "replicasets" => Kind::ReplicaSet,
        "statefulsets" => Kind::StatefulSet,
        "jobs" => Kind::Job,
        "cronjobs" => Kind::CronJob,
        "events" => Kind::Event,
        "pvs" => Kind::PersistentVolume,
        "storage-classes" => Kind::StorageClass,
        "nodes" => Kind::Node,
        "volumeattachments" => Kind::VolumeAttachment,
        "volumesnapshots.snapshot.storage.k8s.io" => Kind::VolumeSnapshot,
        "volumesnapshotclasses.snapshot.storage.k8s.io" => Kind::VolumeSnapshotClass,
        "volumesnapshotcontents.snapshot.storage.k8s.io" => Kind::VolumeSnapshotContent,
        _ => return None,
    })
}

/// What the file at `rel` (its path under `cluster-resources/`) holds; None: skipped.
fn classify(rel: &str) -> Option<Content> {
    let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    fn json_stem(f: &str) -> Option<&str> {
        f.strip_suffix(".json")
    }
    let cluster_scoped = |k: Kind| !k.namespaced();
    match parts.as_slice() {
        [file] => {
            let stem = json_stem(file)?;
            if let Some(k) = stem.strip_suffix("-errors").and_then(kind_of_name) {
                return Some(Content::Errors(k));
            }
            kind_of_name(stem)
                .filter(|k| cluster_scoped(*k))
                .map(Content::Objects)
        }
        ["custom-resources", file] => {
            let stem = json_stem(file)?;
            kind_of_name(stem)
                .filter(|k| cluster_scoped(*k))
                .map(Content::Objects)
        }
        [dir, file] => {
            let _ns = json_stem(file)?;
            kind_of_name(dir)
                .filter(|k| k.namespaced() && k.builtin())
                .map(Content::Objects)
        }
        ["custom-resources", crd, file] => {
            let _ns = json_stem(file)?;
            kind_of_name(crd)
                .filter(|k| k.namespaced())
                .map(Content::Objects)
        }
        _ => None,
    }
}

/// The path of `p` under `cluster-resources/`, when it is there.
fn under_root(p: &str) -> Option<&str> {
    let mut rest = p;
    loop {
        if let Some(r) = rest.strip_prefix(ROOT).and_then(|r| r.strip_prefix('/')) {
            return Some(r);
        }
        let slash = rest.find('/')?;
        rest = &rest[slash + 1..];
    }
}

/// One file of a bundle into a snapshot of its own.
fn read_content<F: Flavor>(content: Content, text: &str, path: &Path) -> Result<Snapshot<F>> {
    let mut part = Snapshot::<F>::default();
    match content {
        Content::Objects(kind) => {
            let wrapped;
            let text = if text.trim_start().starts_with('[') {
                // Older collectors write the items alone: give them their list.
                let (list, api) = list_of(kind);
                wrapped =
                    format!("{{\"kind\":\"{list}\",\"apiVersion\":\"{api}\",\"items\":{text}}}");
                wrapped.as_str()
            } else {
                text
            };
            if !text.trim().is_empty() {
                parse_dump_into(&mut part, path, text)?;
            }
            part.known.insert(kind);
        }
        Content::Errors(kind) => {
            if let Some(message) = forbidden_error(text) {
                part.gaps.push(Gap {
                    kind,
                    verb: "list".into(),
                    resource: kind.resource().into(),
                    namespace: None,
                    reason: GapReason::Forbidden,
                    message,
                });
            }
        }
    }
    Ok(part)
}

/// The first "forbidden" error of an errors file (a list of strings or a map of them).
fn forbidden_error(text: &str) -> Option<String> {
    let v: Value = serde_json::from_str(text).ok()?;
    let mut all: Vec<&Value> = match &v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(m) => m.values().collect(),
        _ => Vec::new(),
    };
    all.retain(|e| e.as_str().is_some_and(|s| s.contains("forbidden")));
    all.first().and_then(|e| e.as_str()).map(str::to_string)
}

/// The bundle an unpacked directory holds: the directory itself when it has
/// `cluster-resources/`, or its one subdirectory that has it (the bundle's top directory).
pub(super) fn root_in_dir(dir: &Path) -> Option<PathBuf> {
    if dir.join(ROOT).is_dir() {
        return Some(dir.to_path_buf());
    }
    let subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    match subdirs.as_slice() {
        [one] if one.join(ROOT).is_dir() => Some(one.clone()),
        _ => None,
    }
}

/// An unpacked bundle: its `cluster-resources/` files in byte order of their paths.
pub(super) fn read_dir<F: Flavor>(root: &Path, max: u64, merger: &mut Merger<F>) -> Result<()> {
    let base = root.join(ROOT);
    let mut files = Vec::new();
    collect(&base, "", &mut files)?;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut total: u64 = 0;
    for (rel, _) in &files {
        let p = base.join(rel);
        let len = std::fs::metadata(&p).map_err(|e| io_error(&p, e))?.len();
        total = total.saturating_add(len);
    }
    if total > max {
        return Err(too_large(root, Some(total), max));
    }
    for (rel, content) in files {
        let p = base.join(&rel);
        let file = std::fs::File::open(&p).map_err(|e| io_error(&p, e))?;
        let text = read_bounded(file, &p, max)?;
        merger.add(&display(&p), read_content(content, &text, &p)?);
    }
    Ok(())
}

fn collect(dir: &Path, rel: &str, out: &mut Vec<(String, Content)>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let r = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let ty = entry.file_type().map_err(|e| io_error(&entry.path(), e))?;
        if ty.is_dir() {
            collect(&entry.path(), &r, out)?;
        } else if let Some(c) = classify(&r) {
            out.push((r, c));
        }
    }
    Ok(())
}

/// Whether a regular file starts as gzip does.
pub(super) fn is_tar_gz(path: &Path) -> Result<bool> {
    let mut magic = [0u8; 2];
    let mut f = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let mut got = 0;
    while got < 2 {
        match f.read(&mut magic[got..]) {
            Ok(0) => return Ok(false),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(path, e)),
        }
    }
    Ok(magic == [0x1f, 0x8b])
}

/// A reader that fails once more than `left` bytes have gone through it.
struct Bounded<R> {
    inner: R,
    left: u64,
    over: Rc<Cell<bool>>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            self.over.set(true);
            return Err(std::io::Error::other("input limit reached"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// A `.tar.gz` bundle, streamed.
pub(super) fn read_tar_gz<F: Flavor>(
    path: &Path,
    len: u64,
    max: u64,
    merger: &mut Merger<F>,
) -> Result<()> {
    if len > max {
        return Err(too_large(path, Some(len), max));
    }
    let over = Rc::new(Cell::new(false));
    let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let stream = Bounded {
        inner: flate2::read::GzDecoder::new(std::io::BufReader::new(file)),
        left: max,
        over: over.clone(),
    };
    let fail = |e: std::io::Error| {
        if over.get() {
            too_large(path, None, max)
        } else {
            Error::File {
                path: path.to_path_buf(),
                line: None,
                message: format!("not a readable .tar.gz support bundle: {e}"),
            }
        }
    };
    let mut archive = tar::Archive::new(stream);
    let mut found = false;
    for entry in archive.entries().map_err(fail)? {
        let entry = entry.map_err(fail)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().map_err(fail)?.to_string_lossy().into_owned();
        let Some(rel) = under_root(&name) else {
            continue;
        };
        found = true;
        let Some(content) = classify(rel) else {
            continue;
        };
        let inner = PathBuf::from(format!("{}:{name}", path.display()));
        let text = read_bounded(entry, &inner, max).map_err(|e| {
            if over.get() {
                too_large(path, None, max)
            } else {
                e
            }
        })?;
        merger.add(&display(&inner), read_content(content, &text, &inner)?);
    }
    if !found {
        return Err(Error::File {
            path: path.to_path_buf(),
            line: None,
            message: format!(
                "a .tar.gz without {ROOT}/: not a troubleshoot.sh support bundle (a dump is read as plain YAML or JSON)"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_collector_layout() {
        use Content::*;
        assert_eq!(classify("pods/shop.json"), Some(Objects(Kind::Pod)));
        assert_eq!(
            classify("pvcs/shop.json"),
            Some(Objects(Kind::PersistentVolumeClaim))
        );
        assert_eq!(classify("pvs.json"), Some(Objects(Kind::PersistentVolume)));
        assert_eq!(
            classify("storage-classes.json"),
            Some(Objects(Kind::StorageClass))
        );
        assert_eq!(
            classify("pvcs-errors.json"),
            Some(Errors(Kind::PersistentVolumeClaim))
        );
        assert_eq!(
            classify("custom-resources/volumesnapshots.snapshot.storage.k8s.io/shop.json"),
            Some(Objects(Kind::VolumeSnapshot))
        );
        assert_eq!(
            classify("custom-resources/volumesnapshotclasses.snapshot.storage.k8s.io.json"),
            Some(Objects(Kind::VolumeSnapshotClass))
        );
        for skipped in [
            "pods/logs/shop/app-0/db.log",
            "pods/logs/shop/app-0/db.json",
            "custom-resources/volumesnapshots.snapshot.storage.k8s.io/shop.yaml",
            "configmaps/shop.json",
            "namespaces.json",
            "pods.json",
            "pvs/shop.json",
            "auth-cani-list/shop.json",
        ] {
            assert_eq!(classify(skipped), None, "{skipped}");
        }
        assert_eq!(
            under_root("sb-1/cluster-resources/pods/a.json"),
            Some("pods/a.json")
        );
        assert_eq!(under_root("cluster-resources/pvs.json"), Some("pvs.json"));
        assert_eq!(under_root("sb-1/host-collectors/x.json"), None);
    }

    #[test]
    fn bare_arrays_take_the_kind_of_their_place_and_empty_lists_are_known() {
        let p = Path::new("b");
        let s: Snapshot = read_content(
            Content::Objects(Kind::PersistentVolumeClaim),
            r#"[{"metadata":{"name":"data","namespace":"shop"},"spec":{}}]"#,
            p,
        )
        .unwrap();
        assert_eq!(s.pvcs.len(), 1);
        let s: Snapshot = read_content(
            Content::Objects(Kind::PersistentVolume),
            r#"{"kind":"PersistentVolumeList","apiVersion":"v1","items":[]}"#,
            p,
        )
        .unwrap();
        assert!(s.knows(Kind::PersistentVolume) && s.pvs.is_empty());
        let s: Snapshot = read_content(
            Content::Errors(Kind::PersistentVolume),
            r#"["persistentvolumes is forbidden: User \"x\" cannot list resource"]"#,
            p,
        )
        .unwrap();
        assert_eq!(s.gaps[0].reason, GapReason::Forbidden);
        let s: Snapshot = read_content(Content::Errors(Kind::PersistentVolume), "[]", p).unwrap();
        assert!(s.gaps.is_empty());
    }
}
