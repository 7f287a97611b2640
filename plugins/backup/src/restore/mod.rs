//! `restore`, as a pure plan: what a restore reads (a backup made by `create`, a
//! VolumeSnapshot, or a dump file on a claim), where it writes (a running database, a new
//! claim, or one StatefulSet ordinal's claim swapped for a snapshot's), the objects it
//! creates, the changes it makes and the data it overwrites. Creating and waiting are
//! [`crate::run`]'s; the swap's steps run in [`crate::run::replace`].
//!
//! - [`job`]: the restore Job of a dump (the engine's restore script, the dump claim
//!   mounted read-only, credentials by Secret reference only).
//! - [`claim`]: a new claim from a VolumeSnapshot, and the swap plan of `--replace`.

pub mod claim;
pub mod job;

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use serde::Serialize;
use serde_json::Value;

use crate::dump::Engine;
use crate::list::find_snapshot;
use crate::{
    ANNOTATION_DESTINATION, LABEL_ENGINE, LABEL_MANAGED_BY, LABEL_METHOD, MANAGED_BY, Target,
    TargetKind, Warnings,
};
use stateful_core::error::{Error, Result};
use stateful_core::kinds::Kind;
use stateful_core::objects::{Accepts, ObjectArg};
use stateful_core::snapshot::{GapReason, Snapshot};

pub use claim::ReplacePlan;

/// What a restore reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum RestoreSource {
    /// A backup by name, as `list` shows it: a dump Job or a VolumeSnapshot.
    Backup { name: String },
    /// `volumesnapshot/NAME`.
    Snapshot { name: String },
    /// `pvc/NAME --path FILE`: a dump file on a claim (FILE relative to the claim's root).
    File { claim: String, path: String },
}

impl RestoreSource {
    /// Parse SOURCE and `--path`. Names are validated before anything is loaded.
    pub fn parse(source: &str, path: Option<&str>) -> Result<Self> {
        let accepts = Accepts {
            kinds: &[Kind::VolumeSnapshot, Kind::PersistentVolumeClaim],
            bare: None,
        };
        let parsed = if source.contains('/') {
            let ObjectArg { kind, name } = ObjectArg::parse(source, accepts)?;
            match kind {
                Kind::VolumeSnapshot => RestoreSource::Snapshot { name },
                _ => {
                    let path = path.ok_or_else(|| {
                        Error::Usage(format!(
                            "{source}: which file? pass --path FILE (relative to the claim's root)"
                        ))
                    })?;
                    return Ok(RestoreSource::File {
                        claim: name,
                        path: validate_path(path)?,
                    });
                }
            }
        } else {
            crate::validate_name(source)
                .map_err(|_| Error::Usage(format!("{source:?} is not a backup name (a DNS-1123 label, as `kubectl backup list` shows it), volumesnapshot/NAME or pvc/NAME --path FILE")))?;
            RestoreSource::Backup {
                name: source.to_string(),
            }
        };
        if path.is_some() {
            return Err(Error::Usage(
                "--path applies to pvc/NAME (a dump file on a claim)".into(),
            ));
        }
        Ok(parsed)
    }

    pub fn display(&self) -> String {
        match self {
            RestoreSource::Backup { name } => format!("backup {name}"),
            RestoreSource::Snapshot { name } => format!("volumesnapshot/{name}"),
            RestoreSource::File { claim, path } => format!("pvc/{claim}:/{path}"),
        }
    }
}

/// `--path`: a file under the claim's root: relative (a leading `/` or `/backup/` is the
/// root), no `..`, no control characters.
pub fn validate_path(path: &str) -> Result<String> {
    let p = path
        .strip_prefix(crate::dump::BACKUP_DIR)
        .filter(|r| r.starts_with('/'))
        .unwrap_or(path)
        .trim_start_matches('/');
    let bad = p.is_empty()
        || p.ends_with('/')
        || p.chars().any(char::is_control)
        || p.split('/').any(|c| c == ".." || c == "." || c.is_empty());
    if bad {
        return Err(Error::Usage(format!(
            "--path {path:?}: expected a file relative to the claim's root, such as todo-db-20261123010203.dump (no `..`, no control characters)"
        )));
    }
    Ok(p.to_string())
}

/// Where a restore writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum RestoreTarget {
    /// `--to sts|deploy|pod/NAME`: a running database.
    Workload { target: Target },
    /// `--to pvc/NEW`: a new claim.
    NewClaim { name: String },
    /// `--replace sts/NAME --ordinal N`: that ordinal's claim, swapped for a snapshot's.
    Replace { statefulset: String, ordinal: u32 },
}

impl RestoreTarget {
    /// Parse `--to` or `--replace` with `--ordinal`.
    pub fn parse(to: Option<&str>, replace: Option<&str>, ordinal: Option<u32>) -> Result<Self> {
        match (to, replace) {
            (Some(_), Some(_)) => Err(Error::Usage(
                "--to and --replace cannot be used together".into(),
            )),
            (None, None) => Err(Error::Usage(
                "where should the restore go? pass --to sts/NAME (a running database), --to pvc/NEW (a new claim) or --replace sts/NAME --ordinal N".into(),
            )),
            (Some(to), None) => {
                if ordinal.is_some() {
                    return Err(Error::Usage("--ordinal applies to --replace".into()));
                }
                let t = Target::parse(to).map_err(|e| match e {
                    Error::Usage(m) => Error::Usage(format!("--to: {m}")),
                    other => other,
                })?;
                Ok(match t.kind {
                    TargetKind::Pvc => RestoreTarget::NewClaim { name: t.name },
                    TargetKind::CronJob => {
                        return Err(Error::Usage(
                            "--to takes sts/NAME, deploy/NAME, pod/NAME or pvc/NEW, not a CronJob"
                                .into(),
                        ));
                    }
                    _ => RestoreTarget::Workload { target: t },
                })
            }
            (None, Some(r)) => {
                let t = Target::parse(r)?;
                if t.kind != TargetKind::StatefulSet {
                    return Err(Error::Usage(format!(
                        "--replace takes sts/NAME, not {}",
                        t.display()
                    )));
                }
                let ordinal = ordinal.ok_or_else(|| {
                    Error::Usage(format!(
                        "--replace {r}: which pod's claim? pass --ordinal N"
                    ))
                })?;
                Ok(RestoreTarget::Replace {
                    statefulset: t.name,
                    ordinal,
                })
            }
        }
    }

    /// The target the lock is taken on (the database workload or the claim).
    pub fn lock_target(&self) -> Target {
        match self {
            RestoreTarget::Workload { target } => target.clone(),
            RestoreTarget::NewClaim { name } => Target {
                kind: TargetKind::Pvc,
                name: name.clone(),
            },
            RestoreTarget::Replace { statefulset, .. } => Target {
                kind: TargetKind::StatefulSet,
                name: statefulset.clone(),
            },
        }
    }
}

/// Everything `restore` was asked for.
#[derive(Debug, Clone)]
pub struct RestoreRequest {
    pub source: RestoreSource,
    pub target: RestoreTarget,
    /// The restore Job's name (default `<target>-restore-<stamp>`).
    pub name: Option<String>,
    pub engine: Option<Engine>,
    pub image: Option<String>,
    pub container: Option<String>,
    /// The database to restore into (default: the one the workload's env names).
    pub database: Option<String>,
    pub storage_class: Option<String>,
    /// The new claim's size (default: the snapshot's restoreSize, the source claim's or the
    /// StatefulSet template's request).
    pub size: Option<String>,
    /// `--replace` with several volumeClaimTemplates: which one.
    pub template: Option<String>,
    pub timeout: Duration,
}

impl RestoreRequest {
    /// Check flags before anything is loaded.
    pub fn validate(&self) -> Result<()> {
        if let Some(n) = &self.name {
            crate::validate_name(n)?;
        }
        if let Some(sc) = &self.storage_class {
            stateful_core::names::validate_dns1123_subdomain(sc)
                .map_err(|e| Error::Usage(format!("--storage-class: {e}")))?;
        }
        if let Some(t) = &self.template {
            stateful_core::names::validate_dns1123_label(t)
                .map_err(|e| Error::Usage(format!("--template: {e}")))?;
        }
        if let Some(s) = &self.size {
            crate::dump::validate_quantity(s)
                .map_err(|_| Error::Usage(format!("--size {s:?}: expected a size such as 5Gi")))?;
        }
        if let Some(img) = &self.image {
            crate::plan::validate_image(img)?;
        }
        if let Some(db) = &self.database
            && (db.is_empty()
                || db.len() > 63
                || !db
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        {
            return Err(Error::Usage(format!(
                "--database {db:?}: expected a database name of letters, digits, _ and - (at most 63)"
            )));
        }
        if self.timeout.is_zero() {
            return Err(Error::Usage("--timeout must be more than 0".into()));
        }
        let dump_only = [
            ("--engine", self.engine.is_some()),
            ("--image", self.image.is_some()),
            ("--container", self.container.is_some()),
            ("--database", self.database.is_some()),
        ];
        let to_workload = matches!(self.target, RestoreTarget::Workload { .. });
        if !to_workload
            && !matches!(self.target, RestoreTarget::NewClaim { .. })
            && let Some((flag, _)) = dump_only.iter().find(|(_, set)| *set)
        {
            return Err(Error::Usage(format!(
                "{flag} applies to restoring a dump into a database (--to sts|deploy|pod/NAME)"
            )));
        }
        if self.template.is_some() && !matches!(self.target, RestoreTarget::Replace { .. }) {
            return Err(Error::Usage("--template applies to --replace".into()));
        }
        if to_workload && (self.size.is_some() || self.storage_class.is_some()) {
            // Redis restores into a new claim; its size comes from the template or --size.
            // Allowed; checked against the engine at plan time.
        }
        if let (RestoreSource::Snapshot { .. }, RestoreTarget::Workload { target }) =
            (&self.source, &self.target)
        {
            return Err(Error::Usage(format!(
                "a VolumeSnapshot restores into a claim, not into a running database: pass --to pvc/NEW, or --replace {} --ordinal N",
                target.display()
            )));
        }
        Ok(())
    }

    /// The kinds to load for this request.
    pub fn kinds(&self) -> Vec<Kind> {
        let mut k = vec![Kind::PersistentVolumeClaim, Kind::Pod];
        if matches!(self.source, RestoreSource::Backup { .. }) {
            k.push(Kind::Job);
        }
        if !matches!(self.source, RestoreSource::File { .. }) {
            k.extend([
                Kind::VolumeSnapshot,
                Kind::VolumeSnapshotClass,
                Kind::StorageClass,
            ]);
        }
        match &self.target {
            RestoreTarget::Workload { .. } => {
                k.extend([Kind::StatefulSet, Kind::Deployment, Kind::Service])
            }
            RestoreTarget::NewClaim { .. } => k.push(Kind::StorageClass),
            RestoreTarget::Replace { .. } => k.extend([Kind::StatefulSet, Kind::PersistentVolume]),
        }
        k.sort_by_key(|k| k.resource());
        k.dedup();
        k
    }
}

/// Where a dump lies and which engine wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpFile {
    pub claim: String,
    /// Relative to the claim's root.
    pub path: String,
    /// The engine recorded on the backup, when known.
    pub engine: Option<Engine>,
    /// The image that wrote it, when known.
    pub image: Option<String>,
}

/// What the source is, once looked up.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    Dump(DumpFile),
    /// A VolumeSnapshot (the object).
    Snapshot(Value),
}

/// Find the source in the snapshot: a backup's Job (its destination annotation) or
/// VolumeSnapshot, a named VolumeSnapshot, or a claim that must exist.
pub fn resolve_source(snap: &Snapshot, ns: &str, source: &RestoreSource) -> Result<Resolved> {
    match source {
        RestoreSource::File { claim, path } => {
            forbidden(snap, Kind::PersistentVolumeClaim, ns)?;
            find_claim(snap, ns, claim)
                .ok_or_else(|| Error::not_found("persistentvolumeclaims", claim, Some(ns)))?;
            Ok(Resolved::Dump(DumpFile {
                claim: claim.clone(),
                path: path.clone(),
                engine: None,
                image: None,
            }))
        }
        RestoreSource::Snapshot { name } => {
            forbidden(snap, Kind::VolumeSnapshot, ns)?;
            find_snapshot(snap, ns, name)
                .cloned()
                .map(Resolved::Snapshot)
                .ok_or_else(|| {
                    Error::not_found("volumesnapshots.snapshot.storage.k8s.io", name, Some(ns))
                })
        }
        RestoreSource::Backup { name } => {
            forbidden(snap, Kind::Job, ns)?;
            if let Some(job) = snap.jobs.iter().find(|j| {
                j.metadata.namespace.as_deref() == Some(ns)
                    && j.metadata.name.as_deref() == Some(name.as_str())
            }) {
                return dump_of_job(job, name).map(Resolved::Dump);
            }
            if let Some(vs) = find_snapshot(snap, ns, name) {
                return Ok(Resolved::Snapshot(vs.clone()));
            }
            if snap
                .gap(Kind::VolumeSnapshot)
                .is_some_and(|g| g.reason == GapReason::Forbidden)
            {
                forbidden(snap, Kind::VolumeSnapshot, ns)?;
            }
            Err(Error::NotFound {
                kind: "backup (a Job or VolumeSnapshot made by kubectl backup create)".into(),
                name: name.clone(),
                namespace: Some(ns.to_string()),
            })
        }
    }
}

/// A dump Job's artifact: its `destination` annotation `pvc/NAME:/backup/FILE`.
fn dump_of_job(job: &Job, name: &str) -> Result<DumpFile> {
    let m = &job.metadata;
    let label = |k: &str| m.labels.as_ref().and_then(|l| l.get(k)).map(String::as_str);
    let method = label(LABEL_METHOD);
    if label(LABEL_MANAGED_BY) != Some(MANAGED_BY) || method != Some("dump") {
        let what = match method {
            Some("restore") => "a restore, not a backup".to_string(),
            Some("verify") => "a verification, not a backup".to_string(),
            _ => "a CronJob's backup: where it wrote is known only to its own script; restore its file with pvc/NAME --path FILE".to_string(),
        };
        return Err(Error::Usage(format!("job {name} is {what}")));
    }
    let dest = m
        .annotations
        .as_ref()
        .and_then(|a| a.get(ANNOTATION_DESTINATION))
        .ok_or_else(|| {
            Error::Failed(format!(
                "job {name} has no {ANNOTATION_DESTINATION} annotation: where its dump is is unknown; pass pvc/NAME --path FILE"
            ))
        })?;
    let parsed = dest
        .strip_prefix("pvc/")
        .and_then(|r| r.split_once(':'))
        .and_then(|(claim, path)| Some((claim, validate_path(path).ok()?)));
    let Some((claim, path)) = parsed else {
        return Err(Error::Failed(format!(
            "job {name}: cannot read its destination {dest:?} (expected pvc/NAME:/backup/FILE)"
        )));
    };
    let engine = label(LABEL_ENGINE).and_then(engine_of);
    let image = job
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.clone());
    Ok(DumpFile {
        claim: claim.to_string(),
        path,
        engine,
        image,
    })
}

/// An engine by its label value.
pub fn engine_of(s: &str) -> Option<Engine> {
    [
        Engine::Postgres,
        Engine::MongoDb,
        Engine::MySql,
        Engine::Redis,
    ]
    .into_iter()
    .find(|e| e.as_str() == s)
}

/// A refused LIST of `kind` is exit 4, naming verb, resource and namespace.
pub(crate) fn forbidden(snap: &Snapshot, kind: Kind, ns: &str) -> Result<()> {
    match snap.gap(kind) {
        Some(g) if g.reason == GapReason::Forbidden => Err(Error::Forbidden {
            verb: g.verb.clone(),
            resource: g.resource.clone(),
            namespace: g.namespace.clone().or_else(|| Some(ns.to_string())),
            message: g.message.clone(),
        }),
        _ => Ok(()),
    }
}

pub(crate) fn find_claim<'a>(
    snap: &'a Snapshot,
    ns: &str,
    name: &str,
) -> Option<&'a PersistentVolumeClaim> {
    snap.pvcs.iter().find(|p| {
        p.metadata.namespace.as_deref() == Some(ns) && p.metadata.name.as_deref() == Some(name)
    })
}

/// What `restore` creates.
#[derive(Debug, Clone, Default)]
pub struct RestoreObjects {
    /// A new claim (from a snapshot, or for a Redis dump's `dump.rdb`).
    pub pvc: Option<PersistentVolumeClaim>,
    /// The restore Job of a dump.
    pub job: Option<Job>,
}

impl From<&RestoreObjects> for crate::plan::Objects {
    fn from(o: &RestoreObjects) -> Self {
        crate::plan::Objects {
            pvc: o.pvc.clone(),
            job: o.job.clone(),
            volume_snapshot: None,
        }
    }
}

/// How the restore goes, for the binary.
#[derive(Debug, Clone)]
pub enum RestoreKind {
    /// A Job restores a dump into a running database: wait for the Job.
    DumpJob,
    /// A Job seeds a new claim with a Redis `dump.rdb`: wait for the Job, then say how to
    /// adopt the claim.
    SeedClaim { claim: String },
    /// A new claim from a snapshot: wait for it to bind (unless its class waits for a
    /// consumer).
    SnapshotClaim {
        claim: String,
        wait_for_consumer: bool,
    },
    /// The swap of one ordinal's claim (steps run by `run::replace`).
    Replace(Box<ReplacePlan>),
}

/// The plan: what will be created, changed, and what data will be overwritten.
#[derive(Debug, Clone)]
pub struct RestorePlan {
    pub name: String,
    pub namespace: String,
    pub kind: RestoreKind,
    pub objects: RestoreObjects,
    /// One line: what is read, what is written.
    pub summary: String,
    /// Objects created, in order.
    pub creates: Vec<String>,
    /// Objects changed (and how), in order.
    pub changes: Vec<String>,
    /// The data that will be overwritten (empty: none).
    pub overwrites: Vec<String>,
    /// Done already (a re-run): what is skipped.
    pub skipped: Vec<String>,
    pub warnings: Warnings,
    /// The target the lock is taken on.
    pub lock: Target,
}

impl RestorePlan {
    /// Nothing left to do: a re-run after a finished restore.
    pub fn is_done(&self) -> bool {
        match &self.kind {
            RestoreKind::Replace(r) => r.is_done(),
            _ => false,
        }
    }

    /// The plan as text, for the terminal before confirmation and for `--dry-run`.
    pub fn text(&self) -> String {
        use std::fmt::Write;
        let esc = |s: &str| stateful_core::output::term::escape_control(s, true).into_owned();
        let mut s = format!("Restore: {}\n", esc(&self.summary));
        let mut section = |title: &str, items: &[String]| {
            if !items.is_empty() {
                let _ = writeln!(s, "{title}:");
                for i in items {
                    let _ = writeln!(s, "  - {}", esc(i));
                }
            }
        };
        section("Creates", &self.creates);
        section("Changes", &self.changes);
        section("Overwrites", &self.overwrites);
        section("Already done (skipped)", &self.skipped);
        if self.overwrites.is_empty() {
            s.push_str("Overwrites: nothing (the restore writes to a new claim)\n");
        }
        s
    }
}

/// Build the plan from a loaded snapshot. Pure: `now` is passed in.
pub fn plan(
    snap: &Snapshot,
    ns: &str,
    req: &RestoreRequest,
    now: jiff::Timestamp,
) -> Result<RestorePlan> {
    req.validate()?;
    let resolved = resolve_source(snap, ns, &req.source)?;
    let head = match &req.target {
        RestoreTarget::Workload { target } => target.name.clone(),
        RestoreTarget::NewClaim { name } => name.clone(),
        RestoreTarget::Replace {
            statefulset,
            ordinal,
        } => format!("{statefulset}-{ordinal}"),
    };
    let name = req
        .name
        .clone()
        .unwrap_or_else(|| crate::stamped_name(&head, "restore", now));
    match (resolved, &req.target) {
        (Resolved::Dump(file), RestoreTarget::Workload { target }) => {
            job::plan_dump_restore(snap, ns, req, &file, target, &name, now)
        }
        (Resolved::Dump(file), RestoreTarget::NewClaim { name: claim }) => {
            job::plan_seed_claim(snap, ns, req, &file, claim, &name, now)
        }
        (Resolved::Dump(_), RestoreTarget::Replace { .. }) => Err(Error::Usage(
            "--replace swaps a claim for a VolumeSnapshot's; a dump restores with --to sts/NAME (into the running database)".into(),
        )),
        (Resolved::Snapshot(vs), RestoreTarget::NewClaim { name: claim }) => {
            claim::plan_snapshot_claim(snap, ns, req, &vs, claim, &name)
        }
        (Resolved::Snapshot(vs), RestoreTarget::Replace { statefulset, ordinal }) => {
            claim::plan_replace(snap, ns, req, &vs, statefulset, *ordinal, &name)
        }
        (Resolved::Snapshot(vs), RestoreTarget::Workload { target }) => Err(Error::Usage(format!(
            "{} is a VolumeSnapshot: it restores into a claim (--to pvc/NEW, or --replace {} --ordinal N), not into a running database",
            vs.pointer("/metadata/name").and_then(Value::as_str).unwrap_or(""),
            target.display()
        ))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
