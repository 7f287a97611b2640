//! Engine-aware logical dump Jobs: pg_dump (custom format), mongodump (archive, gzip),
//! mysqldump/mariadb-dump (single transaction), redis-cli --rdb.
//!
//! The container runs `sh -c SCRIPT`; the script reads everything from the environment
//! (source host/port, destination file, credentials), so argv never carries a secret.
//! Credentials are the workload container's own `valueFrom.secretKeyRef` (and `envFrom`)
//! references, copied as references; literal password values are never copied.
//!
//! This module is engine-neutral: the [`DumpEngine`] trait, the options and the plan, and the
//! Job builder ([`build_dump`]: workload lookup, database container, source pod, credentials,
//! destination claim and node pinning, Job spec). Each engine's own part (its script, the
//! credential variables it reads, the artifact's extension, extra env for a replica source)
//! is one file beside this one: [`postgres`], [`mysql`], [`mongodb`], [`redis`].
//!
//! **Adding an engine**: the engine enum and its detection from images and commands are the
//! core's (`stateful_core::workloads::Engine`, one detector for every plugin), so first add the
//! variant and its detection there. Then add `dump/NAME.rs` with a `pub(super) const SPEC:
//! DumpSpec` (script, env names, extension, replica env), declare it below with `mod NAME;`,
//! and add its arm to `spec_of`. The builder needs no change; the binary's `--engine` enum
//! (main.rs) gets the new value.

// The shell pieces every engine's scripts share, as macros so each script stays one
// `&'static str` (`concat!` takes literals only). They are defined before the engine modules
// below, which use them.

/// The end of every dump script, once the engine wrote and checked `$f.partial`: the atomic
/// rename, then `$f.sha256` beside it (sha256sum's `HEX  FILE` form, written to a `.partial`
/// and renamed too) and the log line `kubectl-backup: sha256 HEX` the CLI reads
/// ([`sha256_from_log`]). An image without sha256sum still gets its dump, with a warning.
macro_rules! dump_tail {
    () => {
        r#"mv "$f.partial" "$f"
echo "kubectl-backup: wrote $f ($(wc -c < "$f" | tr -d ' ') bytes)"
if command -v sha256sum >/dev/null 2>&1; then
  (cd "$BACKUP_DIR" && sha256sum "$BACKUP_FILE") > "$f.sha256.partial"
  mv "$f.sha256.partial" "$f.sha256"
  echo "kubectl-backup: sha256 $(cut -d ' ' -f 1 < "$f.sha256")"
else
  echo "kubectl-backup: warning: no sha256sum in the image; no $BACKUP_FILE.sha256 written"
fi
"#
    };
}

/// The start of a restore or verify script: `set -eu`, `$f`, `fail` (the reason on stderr after
/// `kubectl-backup: PREFIX: `, exit 1) and `last` (the last non-blank line of a text).
macro_rules! script_head {
    ($prefix:literal) => {
        concat!(
            r#"set -eu
f="$BACKUP_DIR/$BACKUP_FILE"
fail() { echo "kubectl-backup: "#,
            $prefix,
            r#": $*" >&2; exit 1; }
last() { printf '%s\n' "$1" | grep -v '^[[:space:]]*$' | tail -n 1; }
"#
        )
    };
}

/// The file's sha256 (`$got`) against `$want` (from `$from`), or `fail` with reason
/// `sha256: …`.
macro_rules! sha256_check {
    () => {
        r#"  command -v sha256sum >/dev/null 2>&1 || fail "sha256: no sha256sum in the image to check against $from"
  got=$(sha256sum < "$f" | cut -d ' ' -f 1)
  [ "$got" = "$want" ] || fail "sha256: $f is $got, expected $want ($from)"
"#
    };
}

/// The start of every restore script: the dump must exist, and match `$f.sha256` when that
/// exists, before anything touches the database (`kubectl-backup: restore refused: …`).
macro_rules! restore_head {
    () => {
        concat!(
            script_head!("restore refused"),
            r#"[ -s "$f" ] || fail "$f is missing or empty"
if [ -f "$f.sha256" ]; then
  want=$(cut -d ' ' -f 1 < "$f.sha256"); from="$BACKUP_FILE.sha256"
"#,
            sha256_check!(),
            r#"  echo "kubectl-backup: sha256 $got matches $BACKUP_FILE.sha256"
else
  echo "kubectl-backup: no $BACKUP_FILE.sha256 beside the dump; checksum not checked"
fi
"#
        )
    };
}

/// The start of every verify script: the file exists and is not empty, and its sha256 is
/// `BACKUP_SHA256`, else the one in `$f.sha256`, else unknown (said, not a failure). `fail`
/// prints `kubectl-backup: verify failed: REASON` on stderr and exits 1.
macro_rules! verify_head {
    () => {
        concat!(
            script_head!("verify failed"),
            r#"[ -f "$f" ] || fail "file: $f does not exist"
size=$(wc -c < "$f" | tr -d ' ')
[ "$size" -gt 0 ] || fail "size: $f is empty"
want="${BACKUP_SHA256:-}"; from=BACKUP_SHA256
if [ -z "$want" ] && [ -f "$f.sha256" ]; then want=$(cut -d ' ' -f 1 < "$f.sha256"); from="$BACKUP_FILE.sha256"; fi
if [ -n "$want" ]; then
"#,
            sha256_check!(),
            r#"  sum="sha256 $got"
else
  sum="sha256 unknown"
  echo "kubectl-backup: checksum unknown (no BACKUP_SHA256, no $BACKUP_FILE.sha256): not checked"
fi
echo "kubectl-backup: checking $f ($size bytes, $sum)"
"#
        )
    };
}

/// The end of every verify script, once the engine's reader set `$reader`.
macro_rules! verify_tail {
    () => {
        r#"echo "kubectl-backup: verified $f ($size bytes, $sum, $reader)"
"#
    };
}

mod mongodb;
mod mysql;
mod postgres;
mod redis;
mod source;

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Affinity, Capabilities, Container, EmptyDirVolumeSource, EnvFromSource, EnvVar,
    LocalObjectReference, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm,
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, Pod,
    PodSecurityContext, PodSpec, PodTemplateSpec, ResourceRequirements, SeccompProfile,
    SecurityContext, Toleration, Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use stateful_core::workloads::{owned_by, pod_active, pod_ready};

use crate::{
    ANNOTATION_DESTINATION, ANNOTATION_SOURCE, Method, Target, TargetKind, Warnings, our_labels,
    stamp,
};
use stateful_core::error::{Error, Result};
use stateful_core::labels::Selector;
use stateful_core::snapshot::Snapshot;

/// The mount point of the destination volume inside the Job.
pub const BACKUP_DIR: &str = "/backup";

pub(crate) use source::{DbContainer, Workload, choose_source, database_container, find_workload};
pub use stateful_core::workloads::Engine;

/// One engine's part of the dump Job: each engine file (`dump/NAME.rs`) has one, as `SPEC`.
#[derive(Debug, Clone, Copy)]
pub struct DumpSpec {
    /// The artifact's extension.
    pub ext: &'static str,
    /// Env vars of the workload container the dump uses (credentials and database names).
    pub env_names: &'static [&'static str],
    /// The shell script the Job runs (see [`DumpEngine::script`]).
    pub script: &'static str,
    /// Literal env vars added when the source is a replica.
    pub replica_env: &'static [(&'static str, &'static str)],
    /// The restore script (see [`DumpEngine::restore_script`]).
    pub restore_script: &'static str,
    /// The verify script (see [`DumpEngine::verify_script`]).
    pub verify_script: &'static str,
    /// Whether the verify script's reader needs the server (MongoDB's `mongorestore --dryRun`
    /// connects): then the verify Job gets the dump's `BACKUP_HOST`, `BACKUP_PORT` and
    /// credential references too.
    pub verify_reads_server: bool,
}

/// Each engine's [`DumpSpec`]: the one place that maps the core's engines to their files.
fn spec_of(engine: Engine) -> &'static DumpSpec {
    match engine {
        Engine::Postgres => &postgres::SPEC,
        Engine::MongoDb => &mongodb::SPEC,
        Engine::MySql => &mysql::SPEC,
        Engine::Redis => &redis::SPEC,
    }
}

/// What the dump Job needs to know of each engine (the engine itself, and its detection, are
/// the core's: one detector for every plugin).
pub trait DumpEngine {
    /// The artifact's extension.
    fn ext(self) -> &'static str;
    /// Env vars of the workload container the dump uses (credentials and database names).
    fn env_names(self) -> &'static [&'static str];
    /// The shell script the Job runs. Reads BACKUP_HOST, BACKUP_PORT, BACKUP_DIR, BACKUP_FILE
    /// and the engine's credential variables; writes `$BACKUP_DIR/$BACKUP_FILE` atomically
    /// (a `.partial` file renamed at the end).
    fn script(self) -> &'static str;
    /// Literal env vars the Job gets when it reads from a replica (MongoDB's read preference).
    fn replica_env(self) -> &'static [(&'static str, &'static str)];
    /// The shell script a restore Job runs (`sh -c SCRIPT`). Reads `BACKUP_HOST`,
    /// `BACKUP_PORT` (the primary), `BACKUP_DIR` (the dump's claim, read-only), `BACKUP_FILE`,
    /// the engine's credential variables ([`DumpEngine::env_names`], as the dump reads them),
    /// optional `RESTORE_DATABASE` (default: the database the dump reads) and, for Redis,
    /// `RESTORE_DIR` (the new claim's mount, default `/data`). It refuses a dump whose sha256
    /// differs from `$BACKUP_DIR/$BACKUP_FILE.sha256` before touching the database, logs each
    /// step with the `kubectl-backup: ` prefix (never a secret) and ends with a
    /// `kubectl-backup: restored …` line; a refusal is `kubectl-backup: restore refused: …`
    /// on stderr and exit 1.
    fn restore_script(self) -> &'static str;
    /// The shell script a verify Job runs. Reads `BACKUP_DIR`, `BACKUP_FILE` and optional
    /// `BACKUP_SHA256` (else the `.sha256` file beside; neither: the checksum is said to be
    /// unknown). Checks the file exists, is not empty, its sha256, and the engine's own reader;
    /// prints `kubectl-backup: verify failed: CHECK: …` on stderr and exits 1, or
    /// `kubectl-backup: verified …`.
    fn verify_script(self) -> &'static str;
    /// Whether the verify Job needs the server ([`DumpSpec::verify_reads_server`]).
    fn verify_reads_server(self) -> bool;
}

impl DumpEngine for Engine {
    fn ext(self) -> &'static str {
        spec_of(self).ext
    }
    fn env_names(self) -> &'static [&'static str] {
        spec_of(self).env_names
    }
    fn script(self) -> &'static str {
        spec_of(self).script
    }
    fn replica_env(self) -> &'static [(&'static str, &'static str)] {
        spec_of(self).replica_env
    }
    fn restore_script(self) -> &'static str {
        spec_of(self).restore_script
    }
    fn verify_script(self) -> &'static str {
        spec_of(self).verify_script
    }
    fn verify_reads_server(self) -> bool {
        spec_of(self).verify_reads_server
    }
}

/// The log line of a dump script's checksum (`kubectl-backup: sha256 HEX`, written by the
/// shared dump tail): the last such line of `log` holding 64 hex digits, in lower case.
pub fn sha256_from_log(log: &str) -> Option<String> {
    log.lines()
        .rev()
        .filter_map(|l| l.trim().strip_prefix("kubectl-backup: sha256 "))
        .map(str::trim)
        .find(|h| is_sha256(h))
        .map(str::to_ascii_lowercase)
}

/// 64 hex digits.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Where the dump goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// An existing claim.
    Pvc(String),
    /// A new claim (named after the Job).
    NewPvc {
        size: String,
        storage_class: Option<String>,
    },
}

/// Which pod to read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourcePref {
    /// A replica when one exists, else the primary.
    #[default]
    Replica,
    Primary,
}

#[derive(Debug, Clone)]
pub struct DumpOptions {
    pub engine: Option<Engine>,
    pub image: Option<String>,
    pub container: Option<String>,
    pub source: SourcePref,
    pub destination: Destination,
    /// activeDeadlineSeconds.
    pub timeout: Duration,
    /// The Job's name (validated or generated by the caller).
    pub name: String,
    pub now: jiff::Timestamp,
}

/// What `create sts|deploy|pod` would create.
#[derive(Debug, Clone)]
pub struct DumpPlan {
    pub engine: Engine,
    /// `host:port` the dump reads from.
    pub source: String,
    /// `pvc/NAME:/path/file`.
    pub destination: String,
    pub pvc: Option<PersistentVolumeClaim>,
    pub job: Job,
    pub warnings: Warnings,
}

/// Build the dump Job (and the new claim, if asked for).
pub fn build_dump(
    snap: &Snapshot,
    ns: &str,
    target: &Target,
    opts: &DumpOptions,
) -> Result<DumpPlan> {
    let mut warnings = Vec::new();
    // 1. The workload and its pods; 2. the database container and the engine.
    let workload = find_workload(snap, ns, target)?;
    let db = database_container(&workload, ns, target, opts)?;
    // 3. The source host: a replica unless --source primary.
    let (host, is_replica) =
        choose_source(snap, ns, target, &workload, opts.source, &mut warnings)?;
    // 4. Credentials and settings, by reference.
    let file = format!("{}-{}.{}", target.name, stamp(opts.now), db.engine.ext());
    let env = dump_env(&db, &host, &file, is_replica, &mut warnings);
    // 5. Destination.
    let place = placement(snap, ns, target, opts, db.engine, &workload, &mut warnings)?;
    let destination = format!("pvc/{}:{BACKUP_DIR}/{file}", place.claim);
    let source = format!("{host}:{}", db.port);
    // 6. The Job.
    let engine = db.engine;
    let job = dump_job(JobParts {
        ns,
        target,
        opts,
        workload: workload.spec,
        db,
        source: source.clone(),
        destination: destination.clone(),
        env,
        claim: place.claim,
        affinity: place.affinity,
        tolerations: place.tolerations,
    });
    Ok(DumpPlan {
        engine,
        source,
        destination,
        pvc: place.pvc,
        job,
        warnings,
    })
}

pub(crate) fn env_lit(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        value_from: None,
    }
}

/// Names whose literal values are treated as secrets.
/// Whether a literal env value may be printed as it is: a variable our own Job builders set
/// (`BACKUP_*`, a restore Job's `RESTORE_*`) or an engine's non-credential variable they copy
/// (`PGUSER`, `MYSQL_DATABASE`…).
/// Every other literal (`DB_PASS`, `ADMIN_PASS`, an app's own names) is hidden when rendered.
pub fn is_known_harmless(name: &str) -> bool {
    let ours = name.starts_with("BACKUP_")
        || name.starts_with("RESTORE_")
        || [
            Engine::Postgres,
            Engine::MongoDb,
            Engine::MySql,
            Engine::Redis,
        ]
        .into_iter()
        .any(|e| spec_of(e).env_names.contains(&name));
    ours && !is_secret_name(name)
}

pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    [
        "PASS",
        "PWD",
        "SECRET",
        "TOKEN",
        "AUTH",
        "KEY",
        "CREDENTIAL",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// The Job's env: where to read and write, then the engine's variables of the workload
/// container — Secret and ConfigMap references as references, non-secret literals as they
/// are; secret literals, field references and credential files are left out with a warning.
pub(crate) fn dump_env(
    db: &DbContainer<'_>,
    host: &str,
    file: &str,
    is_replica: bool,
    warnings: &mut Warnings,
) -> Vec<EnvVar> {
    let container = db.container;
    let mut env = vec![
        env_lit("BACKUP_HOST", host),
        env_lit("BACKUP_PORT", &db.port.to_string()),
        env_lit("BACKUP_DIR", BACKUP_DIR),
        env_lit("BACKUP_FILE", file),
    ];
    if is_replica {
        env.extend(db.engine.replica_env().iter().map(|(k, v)| env_lit(k, v)));
    }
    for want in db.engine.env_names() {
        let Some(e) = container.env.iter().flatten().find(|e| e.name == *want) else {
            continue;
        };
        if let Some(vf) = &e.value_from {
            if vf.secret_key_ref.is_some() || vf.config_map_key_ref.is_some() {
                env.push(EnvVar {
                    name: e.name.clone(),
                    value: None,
                    value_from: Some(vf.clone()),
                });
            } else {
                warnings.push(format!(
                    "{} comes from a field or resource reference; not passed to the backup Job",
                    e.name
                ));
            }
        } else if let Some(v) = &e.value {
            if is_secret_name(&e.name) {
                warnings.push(format!(
                    "container {} sets {} as a literal value; kubectl backup passes credentials only by Secret reference, so the Job does not get it (move it into a Secret)",
                    container.name, e.name
                ));
            } else {
                env.push(env_lit(&e.name, v));
            }
        }
    }
    for e in container.env.iter().flatten() {
        if e.name.ends_with("_FILE") && is_secret_name(&e.name) {
            warnings.push(format!(
                "{} (a credentials file) is not supported; the Job may fail to authenticate",
                e.name
            ));
        }
    }
    env
}

/// The claim the Job writes to and where the Job may run.
struct Placement {
    claim: String,
    /// The new claim to create (`--to-new-pvc`).
    pvc: Option<PersistentVolumeClaim>,
    affinity: Option<Affinity>,
    tolerations: Option<Vec<Toleration>>,
}

/// The destination claim (an existing one, checked and pinned to its user's node, or a new
/// one); without a pin the Job keeps the workload's tolerations.
fn placement(
    snap: &Snapshot,
    ns: &str,
    target: &Target,
    opts: &DumpOptions,
    engine: Engine,
    workload: &Workload<'_>,
    warnings: &mut Warnings,
) -> Result<Placement> {
    let mut place = match &opts.destination {
        Destination::Pvc(claim) => {
            stateful_core::names::validate_dns1123_subdomain(claim)
                .map_err(|e| Error::Usage(format!("--to pvc/{claim}: {e}")))?;
            let (affinity, tolerations) = pin_for_claim(snap, ns, claim, warnings)?;
            Placement {
                claim: claim.clone(),
                pvc: None,
                affinity,
                tolerations,
            }
        }
        Destination::NewPvc {
            size,
            storage_class,
        } => {
            validate_quantity(size)?;
            Placement {
                claim: opts.name.clone(),
                pvc: Some(new_claim(ns, target, engine, opts, size, storage_class)),
                affinity: None,
                tolerations: None,
            }
        }
    };
    // Keep the workload's scheduling constraints only when we did not pin to a node.
    if place.affinity.is_none() && place.tolerations.is_none() {
        place.tolerations = workload.spec.tolerations.clone();
    }
    Ok(place)
}

/// `--to-new-pvc SIZE [--storage-class NAME]`: a ReadWriteOnce claim named after the Job.
fn new_claim(
    ns: &str,
    target: &Target,
    engine: Engine,
    opts: &DumpOptions,
    size: &str,
    storage_class: &Option<String>,
) -> PersistentVolumeClaim {
    let mut labels = our_labels(target, Method::Dump, Some(engine.as_str()));
    labels.remove(crate::LABEL_TRIGGER);
    let meta = ObjectMeta {
        name: Some(opts.name.clone()),
        namespace: Some(ns.to_string()),
        labels: Some(labels),
        ..Default::default()
    };
    rwo_claim(meta, size, storage_class.clone())
}

/// A new ReadWriteOnce claim of `size` and class (`None`: the default class).
pub(crate) fn rwo_claim(
    metadata: ObjectMeta,
    size: &str,
    storage_class: Option<String>,
) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata,
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_string(),
                    Quantity(size.to_string()),
                )])),
                ..Default::default()
            }),
            storage_class_name: storage_class,
            ..Default::default()
        }),
        status: None,
    }
}

/// An RWO claim mounted by a running pod pins the Job to that pod's node (and that pod's
/// tolerations). ReadWriteOncePod claims in use cannot be shared at all.
pub(crate) fn pin_for_claim(
    snap: &Snapshot,
    ns: &str,
    claim: &str,
    warnings: &mut Warnings,
) -> Result<(Option<Affinity>, Option<Vec<Toleration>>)> {
    let pvc = snap
        .pvcs
        .iter()
        .find(|p| {
            p.metadata.namespace.as_deref() == Some(ns) && p.metadata.name.as_deref() == Some(claim)
        })
        .ok_or_else(|| Error::not_found("persistentvolumeclaims", claim, Some(ns)))?;
    let modes: Vec<&str> = pvc
        .spec
        .as_ref()
        .and_then(|s| s.access_modes.as_ref())
        .map(|m| m.iter().map(String::as_str).collect())
        .unwrap_or_default();
    if pvc.metadata.deletion_timestamp.is_some() {
        return Err(Error::Failed(format!("claim {claim} is being deleted")));
    }
    let shared = modes
        .iter()
        .any(|m| *m == "ReadWriteMany" || *m == "ReadOnlyMany");
    if shared {
        return Ok((None, None));
    }
    let users: Vec<&Pod> = snap
        .pods
        .iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some(ns) && pod_active(p))
        .filter(|p| {
            p.spec
                .iter()
                .flat_map(|s| s.volumes.iter().flatten())
                .any(|v| {
                    v.persistent_volume_claim
                        .as_ref()
                        .is_some_and(|c| c.claim_name == claim)
                })
        })
        .collect();
    let Some(user) = users.first() else {
        return Ok((None, None));
    };
    let user_name = user.metadata.name.as_deref().unwrap_or("");
    if modes.contains(&"ReadWriteOncePod") {
        return Err(Error::Failed(format!(
            "claim {claim} is ReadWriteOncePod and in use by pod {user_name}; a backup Job cannot mount it (use another claim or --to-new-pvc)"
        )));
    }
    let Some(node) = user.spec.as_ref().and_then(|s| s.node_name.clone()) else {
        return Ok((None, None));
    };
    warnings.push(format!(
        "claim {claim} is ReadWriteOnce and mounted by pod {user_name}: pinning the Job to node {node}"
    ));
    let aff = Affinity {
        node_affinity: Some(NodeAffinity {
            required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                node_selector_terms: vec![NodeSelectorTerm {
                    match_fields: Some(vec![NodeSelectorRequirement {
                        key: "metadata.name".into(),
                        operator: "In".into(),
                        values: Some(vec![node]),
                    }]),
                    match_expressions: None,
                }],
            }),
            preferred_during_scheduling_ignored_during_execution: None,
        }),
        ..Default::default()
    };
    Ok((
        Some(aff),
        user.spec.as_ref().and_then(|s| s.tolerations.clone()),
    ))
}

/// A storage size like `5Gi`, `500Mi`, `1G`, `1073741824`.
pub fn validate_quantity(s: &str) -> Result<()> {
    let digits = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(digits);
    let ok = !num.is_empty()
        && num.parse::<f64>().is_ok_and(|v| v > 0.0)
        && [
            "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "k", "M", "G", "T", "P", "E",
        ]
        .contains(&unit);
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "--to-new-pvc {s:?}: expected a size such as 5Gi or 500Mi"
        )))
    }
}

/// Everything the Job spec is built from.
struct JobParts<'a> {
    ns: &'a str,
    target: &'a Target,
    opts: &'a DumpOptions,
    /// The workload's pod spec (security context, pull secrets).
    workload: &'a PodSpec,
    db: DbContainer<'a>,
    /// `host:port`, for the annotation.
    source: String,
    /// `pvc/NAME:/path/file`, for the annotation.
    destination: String,
    env: Vec<EnvVar>,
    claim: String,
    affinity: Option<Affinity>,
    tolerations: Option<Vec<Toleration>>,
}

/// The dump Job: one non-root, read-only container running the engine's script, the claim at
/// [`BACKUP_DIR`], an emptyDir at /tmp; one retry, the deadline, kept a week after it ends.
fn dump_job(p: JobParts<'_>) -> Job {
    let labels = our_labels(p.target, Method::Dump, Some(p.db.engine.as_str()));
    let meta = ObjectMeta {
        name: Some(p.opts.name.clone()),
        namespace: Some(p.ns.to_string()),
        labels: Some(labels),
        annotations: Some(BTreeMap::from([
            (ANNOTATION_SOURCE.to_string(), p.source),
            (ANNOTATION_DESTINATION.to_string(), p.destination),
        ])),
        ..Default::default()
    };
    let place = PodPlace {
        affinity: p.affinity,
        tolerations: p.tolerations,
        security: pod_security(p.workload, p.db.container),
        pull_secrets: p.workload.image_pull_secrets.clone(),
    };
    let container = job_container(
        p.db.image,
        p.db.engine.script(),
        p.env,
        p.db.container.env_from.clone(),
        false,
    );
    job_of(
        meta,
        p.opts.timeout,
        place,
        container,
        job_volumes(p.claim, false),
    )
}

/// A Job's pod template spec.
pub fn pod_spec(job: &Job) -> Option<&PodSpec> {
    job.spec.as_ref()?.template.spec.as_ref()
}

/// Where and as whom a Job's pod runs.
pub(crate) struct PodPlace {
    pub affinity: Option<Affinity>,
    pub tolerations: Option<Vec<Toleration>>,
    pub security: PodSecurityContext,
    pub pull_secrets: Option<Vec<LocalObjectReference>>,
}

/// A Job of ours around one container (dump, verify): the pod template carries the Job's
/// labels; no service account token, no service links; one retry, the deadline, kept a week
/// after it ends.
pub(crate) fn job_of(
    meta: ObjectMeta,
    timeout: Duration,
    place: PodPlace,
    container: Container,
    volumes: Vec<Volume>,
) -> Job {
    let labels = meta.labels.clone();
    Job {
        metadata: meta,
        spec: Some(JobSpec {
            backoff_limit: Some(1),
            active_deadline_seconds: Some(deadline_seconds(timeout)),
            ttl_seconds_after_finished: Some(7 * 24 * 3600),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels,
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    restart_policy: Some("Never".into()),
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    image_pull_secrets: place.pull_secrets,
                    affinity: place.affinity,
                    tolerations: place.tolerations,
                    security_context: Some(place.security),
                    containers: vec![container],
                    volumes: Some(volumes),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        status: None,
    }
}

/// Run as the database's own non-root user and group (999 when it runs as root or says
/// nothing), so the files it writes can be read back by it.
pub(crate) fn pod_security(spec: &PodSpec, container: &Container) -> PodSecurityContext {
    let sc = spec.security_context.as_ref();
    let csc = container.security_context.as_ref();
    let uid = csc
        .and_then(|s| s.run_as_user)
        .or_else(|| sc.and_then(|s| s.run_as_user))
        .filter(|u| *u != 0)
        .unwrap_or(999);
    let gid = csc
        .and_then(|s| s.run_as_group)
        .or_else(|| sc.and_then(|s| s.run_as_group))
        .filter(|g| *g != 0)
        .unwrap_or(uid);
    let fs_group = sc.and_then(|s| s.fs_group).unwrap_or(gid);
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(uid),
        run_as_group: Some(gid),
        fs_group: Some(fs_group),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            localhost_profile: None,
        }),
        ..Default::default()
    }
}

/// The one container: `sh -c SCRIPT`, everything else from the environment; the claim at
/// [`BACKUP_DIR`] (read-only when asked), an emptyDir at /tmp.
pub(crate) fn job_container(
    image: String,
    script: &str,
    env: Vec<EnvVar>,
    env_from: Option<Vec<EnvFromSource>>,
    claim_read_only: bool,
) -> Container {
    Container {
        name: "backup".into(),
        image: Some(image),
        command: Some(vec!["sh".into(), "-c".into(), script.to_string()]),
        env: Some(env),
        env_from,
        resources: Some(ResourceRequirements {
            requests: Some(BTreeMap::from([
                ("cpu".to_string(), Quantity("100m".into())),
                ("memory".to_string(), Quantity("256Mi".into())),
            ])),
            limits: Some(BTreeMap::from([(
                "memory".to_string(),
                Quantity("1Gi".into()),
            )])),
            ..Default::default()
        }),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".into()]),
                add: None,
            }),
            ..Default::default()
        }),
        volume_mounts: Some(vec![
            VolumeMount {
                name: "backup".into(),
                mount_path: BACKUP_DIR.into(),
                read_only: claim_read_only.then_some(true),
                ..Default::default()
            },
            VolumeMount {
                name: "tmp".into(),
                mount_path: "/tmp".into(),
                ..Default::default()
            },
        ]),
        ..Default::default()
    }
}

/// The backup claim (read-only when asked) and a scratch /tmp (the root filesystem is
/// read-only).
pub(crate) fn job_volumes(claim: String, read_only: bool) -> Vec<Volume> {
    vec![
        Volume {
            name: "backup".into(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim,
                read_only: read_only.then_some(true),
            }),
            ..Default::default()
        },
        Volume {
            name: "tmp".into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Default::default()
        },
    ]
}

/// A Job's `activeDeadlineSeconds` (an int64, at least 1) from a timeout: clamped, never
/// wrapped into a negative number whatever the duration.
pub(crate) fn deadline_seconds(timeout: Duration) -> i64 {
    i64::try_from(timeout.as_secs().max(1)).unwrap_or(i64::MAX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
