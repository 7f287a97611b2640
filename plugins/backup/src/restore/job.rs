//! The restore Job of a dump: the engine's restore script (`dump/NAME.rs`), the workload's
//! own image (client and server versions match), the dump claim mounted **read-only** and
//! pinned to its user's node when it is ReadWriteOnce, credentials by Secret reference only
//! (the same references the dump Job copies), no retry (a half-applied restore is re-run by
//! hand, after reading its log), the deadline.
//!
//! Redis cannot load a dump through a client: its restore seeds a **new** claim with
//! `dump.rdb` (which the server loads at start) and says how to adopt it; the running server
//! is never stopped.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    Container, PersistentVolumeClaimVolumeSource, PodSecurityContext, SeccompProfile, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{DumpFile, RestoreKind, RestoreObjects, RestorePlan, RestoreRequest};
use crate::dump::{
    BACKUP_DIR, Destination, DumpEngine, DumpOptions, Engine, PodPlace, SourcePref, choose_source,
    database_container, dump_env, env_lit, find_workload, job_container, job_of, job_volumes,
    pin_for_claim, pod_security, rwo_claim,
};
use crate::{
    ANNOTATION_DESTINATION, ANNOTATION_SOURCE, LABEL_METHOD, Method, Target, TargetKind, our_labels,
};
use stateful_core::error::{Error, Result};
use stateful_core::snapshot::Snapshot;

/// Where a Redis restore's new claim is mounted (the script's `RESTORE_DIR`).
pub const RESTORE_DIR: &str = "/data";

/// The `kubectl-stateful.io/method` label of restore Jobs and claims.
pub const METHOD_RESTORE: &str = "restore";

/// Env names a restore Job may carry whose values are never secrets (for the dry-run
/// renderer): the ones the dump sets plus ours.
pub const RESTORE_ENV: [&str; 2] = ["RESTORE_DATABASE", "RESTORE_DIR"];

/// Our labels for a restore object of `target`.
fn restore_labels(target: &Target, engine: Engine) -> BTreeMap<String, String> {
    let mut l = our_labels(target, Method::Dump, Some(engine.as_str()));
    l.insert(LABEL_METHOD.to_string(), METHOD_RESTORE.to_string());
    l
}

/// A dump into a running database (`--to sts|deploy|pod/NAME`).
pub(super) fn plan_dump_restore(
    snap: &Snapshot,
    ns: &str,
    req: &RestoreRequest,
    file: &DumpFile,
    target: &Target,
    name: &str,
    now: jiff::Timestamp,
) -> Result<RestorePlan> {
    let mut warnings = Vec::new();
    super::forbidden(snap, crate::plan::target_kind(target.kind), ns)?;
    let workload = find_workload(snap, ns, target)?;
    let opts = DumpOptions {
        // Only an explicit --engine picks the container; the backup's engine is checked
        // against what the container runs.
        engine: req.engine,
        image: req.image.clone(),
        container: req.container.clone(),
        source: SourcePref::Primary,
        destination: Destination::Pvc(file.claim.clone()),
        timeout: req.timeout,
        name: name.to_string(),
        now,
    };
    let db = database_container(&workload, ns, target, &opts)?;
    if let Some(e) = file.engine
        && e != db.engine
    {
        return Err(Error::Usage(format!(
            "the backup is a {} dump, but {} runs {} (container {}); pass --container or another --to",
            e.as_str(),
            target.display(),
            db.engine.as_str(),
            db.container.name
        )));
    }
    if db.engine == Engine::Redis {
        // A client cannot load an RDB file: seed a new claim instead, sized as the
        // StatefulSet's data claim.
        let template = workload
            .sts
            .and_then(|s| s.spec.as_ref())
            .and_then(|s| s.volume_claim_templates.as_ref())
            .and_then(|t| t.first());
        let size = req.size.clone().or_else(|| {
            template
                .and_then(|t| t.spec.as_ref())
                .and_then(|s| s.resources.as_ref())
                .and_then(|r| r.requests.as_ref())
                .and_then(|r| r.get("storage"))
                .map(|q| q.0.clone())
        });
        let class = req.storage_class.clone().or_else(|| {
            template
                .and_then(|t| t.spec.as_ref())
                .and_then(|s| s.storage_class_name.clone())
        });
        let seed = Seed {
            claim: name.to_string(),
            size,
            class,
            image: db.image.clone(),
            adopt_into: Some(target.clone()),
            security: pod_security(workload.spec, db.container),
        };
        return plan_seed(snap, ns, req, file, seed, name);
    }
    let (host, _) = choose_source(
        snap,
        ns,
        target,
        &workload,
        SourcePref::Primary,
        &mut warnings,
    )?;
    // Warnings about replicas do not apply: a restore writes to the primary.
    warnings.retain(|w| !w.starts_with("reading from replica"));
    let mut env = dump_env(&db, &host, &file.path, false, &mut warnings);
    if let Some(d) = &req.database {
        env.push(env_lit("RESTORE_DATABASE", d));
    }
    let database = req
        .database
        .clone()
        .or_else(|| literal_database(db.container, db.engine));
    let (affinity, tolerations) = pin_for_claim(snap, ns, &file.claim, &mut warnings)?;
    let tolerations = match (&affinity, tolerations) {
        (None, None) => workload.spec.tolerations.clone(),
        (_, t) => t,
    };
    let source = format!("pvc/{}:{BACKUP_DIR}/{}", file.claim, file.path);
    let destination = format!("{host}:{}", db.port);
    let container = job_container(
        db.image.clone(),
        db.engine.restore_script(),
        env,
        db.container.env_from.clone(),
        true,
    );
    let labels = restore_labels(target, db.engine);
    let job = restore_job(
        meta(name, ns, labels, &source, &destination),
        req.timeout,
        PodPlace {
            affinity,
            tolerations,
            security: pod_security(workload.spec, db.container),
            pull_secrets: workload.spec.image_pull_secrets.clone(),
        },
        container,
        job_volumes(file.claim.clone(), true),
    );
    let db_words = match &database {
        Some(d) => format!("database {d}"),
        None => "the database the workload's env names".to_string(),
    };
    let overwrite = match db.engine {
        Engine::Postgres => format!(
            "{db_words} on {destination}: pg_restore --clean --if-exists drops and recreates every object the dump holds (objects not in the dump are kept)"
        ),
        Engine::MySql => format!(
            "{db_words} on {destination}: the dump's DROP TABLE / CREATE TABLE statements replace every table it holds"
        ),
        Engine::MongoDb => format!(
            "every collection the archive holds, on {destination}: mongorestore --drop drops each before restoring it"
        ),
        Engine::Redis => String::new(),
    };
    Ok(RestorePlan {
        name: name.to_string(),
        namespace: ns.to_string(),
        kind: RestoreKind::DumpJob,
        summary: format!(
            "{} dump {source} into {} ({destination}) by job {name}",
            db.engine.as_str(),
            target.display()
        ),
        creates: vec![format!(
            "job/{name}: image {}, reads {source} (mounted read-only), writes {destination}",
            db.image
        )],
        changes: Vec::new(),
        overwrites: vec![overwrite],
        skipped: Vec::new(),
        objects: RestoreObjects {
            pvc: None,
            job: Some(job),
        },
        warnings,
        lock: target.clone(),
    })
}

/// The database name when the container sets it as a literal.
fn literal_database(c: &Container, engine: Engine) -> Option<String> {
    let names: &[&str] = match engine {
        Engine::Postgres => &["PGDATABASE", "POSTGRES_DB"],
        Engine::MySql => &["MYSQL_DATABASE", "MARIADB_DATABASE"],
        _ => &[],
    };
    names.iter().find_map(|n| {
        c.env
            .iter()
            .flatten()
            .find(|e| e.name == *n)
            .and_then(|e| e.value.clone())
    })
}

/// A Redis dump into a new claim (`--to pvc/NEW`).
pub(super) fn plan_seed_claim(
    snap: &Snapshot,
    ns: &str,
    req: &RestoreRequest,
    file: &DumpFile,
    claim: &str,
    name: &str,
    _now: jiff::Timestamp,
) -> Result<RestorePlan> {
    match req.engine.or(file.engine) {
        Some(Engine::Redis) => {}
        Some(e) => {
            return Err(Error::Usage(format!(
                "a {} dump restores into its running database (--to sts|deploy|pod/NAME); a new claim is for a Redis dump.rdb or a VolumeSnapshot",
                e.as_str()
            )));
        }
        None => {
            return Err(Error::Usage(
                "which engine wrote this file? --to pvc/NEW seeds a claim with a Redis dump.rdb: pass --engine redis (other engines restore with --to sts|deploy|pod/NAME)".into(),
            ));
        }
    }
    let image = req
        .image
        .clone()
        .or_else(|| file.image.clone())
        .ok_or_else(|| {
            Error::Usage(
                "which Redis image? pass --image (the image of the server that will load the file)"
                    .into(),
            )
        })?;
    let seed = Seed {
        claim: claim.to_string(),
        size: req.size.clone(),
        class: req.storage_class.clone(),
        image,
        adopt_into: None,
        security: PodSecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(999),
            run_as_group: Some(999),
            fs_group: Some(999),
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".into(),
                localhost_profile: None,
            }),
            ..Default::default()
        },
    };
    plan_seed(snap, ns, req, file, seed, name)
}

/// What a Redis seed restore writes.
struct Seed {
    claim: String,
    size: Option<String>,
    class: Option<String>,
    image: String,
    /// The StatefulSet the claim is meant for, when restoring `--to sts/NAME`.
    adopt_into: Option<Target>,
    security: PodSecurityContext,
}

fn plan_seed(
    snap: &Snapshot,
    ns: &str,
    req: &RestoreRequest,
    file: &DumpFile,
    seed: Seed,
    name: &str,
) -> Result<RestorePlan> {
    let mut warnings = Vec::new();
    stateful_core::names::validate_dns1123_subdomain(&seed.claim)
        .map_err(|e| Error::Usage(format!("claim {}: {e}", seed.claim)))?;
    if super::find_claim(snap, ns, &seed.claim).is_some() {
        return Err(Error::Failed(format!(
            "claim {} already exists; a restore writes only to a new claim (pass another --to pvc/NAME)",
            seed.claim
        )));
    }
    let size = seed.size.clone().ok_or_else(|| {
        Error::Usage(format!(
            "how big is the new claim {}? pass --size (e.g. 1Gi)",
            seed.claim
        ))
    })?;
    crate::dump::validate_quantity(&size)
        .map_err(|_| Error::Usage(format!("--size {size:?}: expected a size such as 5Gi")))?;
    let (affinity, tolerations) = pin_for_claim(snap, ns, &file.claim, &mut warnings)?;
    let label_target = seed.adopt_into.clone().unwrap_or(Target {
        kind: TargetKind::Pvc,
        name: seed.claim.clone(),
    });
    let labels = restore_labels(&label_target, Engine::Redis);
    let source = format!("pvc/{}:{BACKUP_DIR}/{}", file.claim, file.path);
    let destination = format!("pvc/{}:{RESTORE_DIR}/dump.rdb", seed.claim);
    let pvc = rwo_claim(
        ObjectMeta {
            name: Some(seed.claim.clone()),
            namespace: Some(ns.to_string()),
            labels: Some(labels.clone()),
            annotations: Some(BTreeMap::from([(
                ANNOTATION_SOURCE.to_string(),
                source.clone(),
            )])),
            ..Default::default()
        },
        &size,
        seed.class.clone(),
    );
    let env = vec![
        env_lit("BACKUP_DIR", BACKUP_DIR),
        env_lit("BACKUP_FILE", &file.path),
        env_lit("RESTORE_DIR", RESTORE_DIR),
    ];
    let mut container = job_container(
        seed.image.clone(),
        Engine::Redis.restore_script(),
        env,
        None,
        true,
    );
    container
        .volume_mounts
        .get_or_insert_with(Vec::new)
        .push(VolumeMount {
            name: "restore".into(),
            mount_path: RESTORE_DIR.into(),
            ..Default::default()
        });
    let mut volumes = job_volumes(file.claim.clone(), true);
    volumes.push(Volume {
        name: "restore".into(),
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
            claim_name: seed.claim.clone(),
            read_only: None,
        }),
        ..Default::default()
    });
    let job = restore_job(
        meta(name, ns, labels, &source, &destination),
        req.timeout,
        PodPlace {
            affinity,
            tolerations,
            security: seed.security,
            pull_secrets: None,
        },
        container,
        volumes,
    );
    if seed.adopt_into.is_some() {
        warnings.push(
            "Redis cannot load a dump through a client: the restore writes dump.rdb to a new claim; the running server is not touched".into(),
        );
    }
    Ok(RestorePlan {
        name: name.to_string(),
        namespace: ns.to_string(),
        kind: RestoreKind::SeedClaim {
            claim: seed.claim.clone(),
        },
        summary: format!(
            "redis dump {source} into a new claim {} ({destination}) by job {name}",
            seed.claim
        ),
        creates: vec![
            format!(
                "pvc/{}: {size}, class {}",
                seed.claim,
                seed.class.as_deref().unwrap_or("(the default)")
            ),
            format!(
                "job/{name}: image {}, reads {source} (mounted read-only), writes {destination}",
                seed.image
            ),
        ],
        changes: Vec::new(),
        overwrites: Vec::new(),
        skipped: Vec::new(),
        objects: RestoreObjects {
            pvc: Some(pvc),
            job: Some(job),
        },
        warnings,
        lock: seed.adopt_into.unwrap_or(Target {
            kind: TargetKind::Pvc,
            name: seed.claim,
        }),
    })
}

/// How to put a seeded Redis claim to use: printed after the restore.
pub fn adopt_hint(plan: &RestorePlan) -> Option<String> {
    let RestoreKind::SeedClaim { claim } = &plan.kind else {
        return None;
    };
    let ns = &plan.namespace;
    let sts = match (plan.lock.kind, &plan.lock.name) {
        (TargetKind::StatefulSet, n) => n.clone(),
        _ => "NAME".to_string(),
    };
    Some(format!(
        "pvc/{claim} holds dump.rdb; Redis loads it at start from its data directory ({RESTORE_DIR} in the official image).\n\
         The running server was not stopped. To adopt the claim:\n\
         \x20 - as ordinal 0's data, from a snapshot of it:\n\
         \x20     kubectl backup create pvc/{claim} --snapshot --name {claim}-snap -n {ns}\n\
         \x20     kubectl backup restore volumesnapshot/{claim}-snap --replace sts/{sts} --ordinal 0 -n {ns}\n\
         \x20 - or mount it as the data volume of a new server (claimName: {claim}), which loads it at start."
    ))
}

/// A restore Job's metadata: our labels, what it reads and where it writes.
fn meta(
    name: &str,
    ns: &str,
    labels: BTreeMap<String, String>,
    source: &str,
    destination: &str,
) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: Some(ns.to_string()),
        labels: Some(labels),
        annotations: Some(BTreeMap::from([
            (ANNOTATION_SOURCE.to_string(), source.to_string()),
            (ANNOTATION_DESTINATION.to_string(), destination.to_string()),
        ])),
        ..Default::default()
    }
}

/// The restore Job: our Job around one container, with no retry (a half-applied restore is
/// looked at, not repeated blindly).
fn restore_job(
    meta: ObjectMeta,
    timeout: std::time::Duration,
    place: PodPlace,
    container: Container,
    volumes: Vec<Volume>,
) -> Job {
    let mut job = job_of(meta, timeout, place, container, volumes);
    if let Some(spec) = job.spec.as_mut() {
        spec.backoff_limit = Some(0);
    }
    job
}
