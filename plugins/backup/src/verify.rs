//! `verify BACKUP`, pure: the backup as `list` shows it, and what checks it. A dump Job's file
//! is checked by a verify Job (the dump's image, the claim mounted read-only, the engine's
//! verify script: size, sha256, the engine's own reader); a VolumeSnapshot is checked from its
//! status (ready, restore size, no error) with no Job; a CronJob's run wrote what its template
//! writes, unknown to us, so it cannot be verified. The binary creates the Job and waits
//! ([`crate::run`]); [`failure_reason`] finds the script's `verify failed:` line in the result.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Container, EnvVar, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use crate::dump::{
    BACKUP_DIR, DumpEngine, Engine, PodPlace, is_secret_name, is_sha256, job_container, job_of,
    job_volumes, pin_for_claim,
};
use crate::volsnap::SnapshotState;
use crate::{
    ANNOTATION_DESTINATION, ANNOTATION_SHA256, LABEL_ENGINE, LABEL_MANAGED_BY, LABEL_METHOD,
    LABEL_TARGET_KIND, LABEL_TARGET_NAME, LABEL_TRIGGER, MANAGED_BY, METHOD_VERIFY, Warnings,
    stamped_name,
};
use stateful_core::error::{Error, Result};
use stateful_core::kinds::Kind;
use stateful_core::snapshot::{GapReason, Snapshot};

/// The kinds `verify` loads: the backup (a Job or a VolumeSnapshot), and the claim and the
/// pods using it (for node pinning).
pub const KINDS: [Kind; 4] = [
    Kind::Job,
    Kind::VolumeSnapshot,
    Kind::PersistentVolumeClaim,
    Kind::Pod,
];

/// What checks a backup.
#[derive(Debug, Clone)]
pub enum VerifyPlan {
    /// A dump: a verify Job to create and wait for.
    Job(Box<VerifyJob>),
    /// A VolumeSnapshot: judged from its status, nothing to create.
    Snapshot(SnapshotVerdict),
}

/// The verify Job of a dump.
#[derive(Debug, Clone)]
pub struct VerifyJob {
    /// The dump Job's name.
    pub backup: String,
    pub engine: Engine,
    /// The claim holding the dump.
    pub claim: String,
    /// The dump file's name under [`BACKUP_DIR`].
    pub file: String,
    /// The expected sha256 (the dump Job's `kubectl-stateful.io/sha256`), when known.
    pub sha256: Option<String>,
    pub job: Job,
    pub warnings: Warnings,
}

/// A VolumeSnapshot's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotVerdict {
    pub name: String,
    /// Ready to use, with a restore size and no error.
    pub ok: bool,
    /// What was found (`volumesnapshot X ready, restore size 5Gi`), or why it fails.
    pub message: String,
}

/// A dump's destination annotation (`pvc/NAME:/backup/FILE`): the claim and the file name.
pub fn parse_destination(s: &str) -> Option<(String, String)> {
    let (claim, path) = s.strip_prefix("pvc/")?.split_once(':')?;
    let file = path.strip_prefix(BACKUP_DIR)?.strip_prefix('/')?;
    let ok = !claim.is_empty()
        && stateful_core::names::validate_dns1123_subdomain(claim).is_ok()
        && !file.is_empty()
        && !file.contains('/')
        && file != ".."
        && file != ".";
    ok.then(|| (claim.to_string(), file.to_string()))
}

/// A forbidden LIST of `kind` is exit 4, not "not found".
fn refused(snap: &Snapshot, kind: Kind, ns: &str) -> Result<()> {
    match snap.gap(kind) {
        Some(g) if g.reason == GapReason::Forbidden => Err(Error::Forbidden {
            verb: "list".into(),
            resource: kind.resource().into(),
            namespace: Some(ns.to_string()),
            message: g.message.clone(),
        }),
        _ => Ok(()),
    }
}

/// What checks backup `name` in `ns`: its dump Job's verify Job (named
/// `<name>-verify-<UTC stamp>`, deadline `timeout`), or its VolumeSnapshot's verdict.
pub fn plan_verify(
    snap: &Snapshot,
    ns: &str,
    name: &str,
    timeout: Duration,
    now: jiff::Timestamp,
) -> Result<VerifyPlan> {
    let named =
        |m: &ObjectMeta| m.namespace.as_deref() == Some(ns) && m.name.as_deref() == Some(name);
    if let Some(job) = snap.jobs.iter().find(|j| named(&j.metadata)) {
        return verify_job(snap, ns, name, job, timeout, now).map(|j| VerifyPlan::Job(Box::new(j)));
    }
    let ours = |v: &Value| {
        v.pointer("/metadata/labels")
            .and_then(|l| l.get(LABEL_MANAGED_BY))
            .and_then(Value::as_str)
            == Some(MANAGED_BY)
    };
    if let Some(vs) = crate::list::find_snapshot(snap, ns, name).filter(|v| ours(v)) {
        return Ok(VerifyPlan::Snapshot(snapshot_verdict(name, vs)));
    }
    refused(snap, Kind::Job, ns)?;
    refused(snap, Kind::VolumeSnapshot, ns)?;
    Err(Error::not_found(
        "backup (dump job or volumesnapshot)",
        name,
        Some(ns),
    ))
}

/// A VolumeSnapshot is verified when it is ready to use, has a restore size and no error.
pub fn snapshot_verdict(name: &str, vs: &Value) -> SnapshotVerdict {
    let st = SnapshotState::of(vs);
    let (ok, message) = match (&st.error, st.ready, &st.restore_size) {
        (Some(e), _, _) => (false, format!("volumesnapshot {name} has an error: {e}")),
        (None, false, _) => (
            false,
            format!(
                "volumesnapshot {name} is not ready to use ({})",
                st.status_word()
            ),
        ),
        (None, true, None) => (
            false,
            format!("volumesnapshot {name} is ready but has no restore size"),
        ),
        (None, true, Some(size)) => (
            true,
            format!(
                "volumesnapshot {name} verified: ready to use, restore size {size}{}",
                st.content
                    .as_deref()
                    .map(|c| format!(", content {c}"))
                    .unwrap_or_default()
            ),
        ),
    };
    SnapshotVerdict {
        name: name.to_string(),
        ok,
        message,
    }
}

fn label<'a>(job: &'a Job, k: &str) -> Option<&'a str> {
    job.metadata.labels.as_ref()?.get(k).map(String::as_str)
}

/// The dump Job `name` → its verify Job.
fn verify_job(
    snap: &Snapshot,
    ns: &str,
    name: &str,
    job: &Job,
    timeout: Duration,
    now: jiff::Timestamp,
) -> Result<VerifyJob> {
    let ours = label(job, LABEL_MANAGED_BY) == Some(MANAGED_BY);
    let cronjob = job
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.kind == "CronJob")
        .map(|o| o.name.clone());
    match (ours, label(job, LABEL_METHOD), cronjob) {
        (true, Some("dump"), _) => {}
        (true, Some(METHOD_VERIFY), _) => {
            return Err(Error::Usage(format!(
                "job {name} is a verify Job, not a backup; verify the backup it checked"
            )));
        }
        (_, _, Some(cj)) => {
            return Err(Error::Failed(format!(
                "backup {name} was made by CronJob {cj}'s jobTemplate: what it wrote, and where, is the template's own and unknown to kubectl backup, so there is no known artifact to verify (verify it with the tool that wrote it)"
            )));
        }
        (true, _, None) => {
            return Err(Error::Failed(format!(
                "backup {name} is a {} backup with no known artifact to verify",
                label(job, LABEL_METHOD).unwrap_or("cronjob")
            )));
        }
        (false, _, None) => {
            return Err(Error::not_found(
                "backup (dump job or volumesnapshot)",
                name,
                Some(ns),
            ));
        }
    }
    let status = crate::list::job_status(job);
    if status != "Succeeded" {
        return Err(Error::Failed(format!(
            "backup {name} is {status}: only a dump that succeeded has a file to verify"
        )));
    }
    let ann = |k: &str| {
        job.metadata
            .annotations
            .as_ref()?
            .get(k)
            .map(String::as_str)
    };
    let destination = ann(ANNOTATION_DESTINATION).ok_or_else(|| {
        Error::Failed(format!(
            "backup {name} has no {ANNOTATION_DESTINATION} annotation: where its file is is unknown"
        ))
    })?;
    let (claim, file) = parse_destination(destination).ok_or_else(|| {
        Error::Failed(format!(
            "backup {name}: {ANNOTATION_DESTINATION} {destination:?} is not pvc/NAME:{BACKUP_DIR}/FILE"
        ))
    })?;
    let engine_label = label(job, LABEL_ENGINE).unwrap_or("");
    let engine = Engine::ALL
        .into_iter()
        .find(|e| e.as_str() == engine_label)
        .ok_or_else(|| {
            Error::Failed(format!(
                "backup {name}: unknown engine {engine_label:?} in label {LABEL_ENGINE}"
            ))
        })?;
    let pod = crate::dump::pod_spec(job);
    let dump_container = pod.and_then(|p| {
        p.containers
            .iter()
            .find(|c| c.name == "backup")
            .or(p.containers.first())
    });
    let image = dump_container
        .and_then(|c| c.image.clone())
        .ok_or_else(|| Error::Failed(format!("backup {name}: its Job has no image")))?;
    let mut warnings = Vec::new();
    let sha256 = match ann(ANNOTATION_SHA256) {
        Some(h) if is_sha256(h) => Some(h.to_ascii_lowercase()),
        Some(h) => {
            warnings.push(format!(
                "backup {name}: {ANNOTATION_SHA256} {h:?} is not a sha256; checking against {file}.sha256 beside the dump instead"
            ));
            None
        }
        None => None,
    };
    refused(snap, Kind::Pod, ns)?;
    let (affinity, tolerations) = pin_for_claim(snap, ns, &claim, &mut warnings)?;
    let tolerations = match (&affinity, tolerations) {
        (None, None) => pod.and_then(|p| p.tolerations.clone()),
        (_, t) => t,
    };
    let mut env = vec![
        EnvVar {
            name: "BACKUP_DIR".into(),
            value: Some(BACKUP_DIR.into()),
            value_from: None,
        },
        EnvVar {
            name: "BACKUP_FILE".into(),
            value: Some(file.clone()),
            value_from: None,
        },
    ];
    if let Some(h) = &sha256 {
        env.push(EnvVar {
            name: "BACKUP_SHA256".into(),
            value: Some(h.clone()),
            value_from: None,
        });
    }
    let env_from = if engine.verify_reads_server() {
        env.extend(server_env(engine, dump_container, &mut warnings));
        dump_container.and_then(|c| c.env_from.clone())
    } else {
        None
    };
    let labels = verify_labels(job);
    let meta = ObjectMeta {
        name: Some(stamped_name(name, METHOD_VERIFY, now)),
        namespace: Some(ns.to_string()),
        labels: Some(labels),
        annotations: Some(BTreeMap::from([(
            ANNOTATION_DESTINATION.to_string(),
            destination.to_string(),
        )])),
        ..Default::default()
    };
    let place = PodPlace {
        affinity,
        tolerations,
        security: pod
            .and_then(|p| p.security_context.clone())
            .unwrap_or_else(|| {
                crate::dump::pod_security(&PodSpec::default(), &Container::default())
            }),
        pull_secrets: pod.and_then(|p| p.image_pull_secrets.clone()),
    };
    let container = job_container(image, engine.verify_script(), env, env_from, true);
    let job = job_of(
        meta,
        timeout,
        place,
        container,
        job_volumes(claim.clone(), true),
    );
    Ok(VerifyJob {
        backup: name.to_string(),
        engine,
        claim,
        file,
        sha256,
        job,
        warnings,
    })
}

/// The dump's server address and credential variables, for an engine whose reader needs the
/// server: references as they are, literals only when not secret-looking.
fn server_env(engine: Engine, dump: Option<&Container>, warnings: &mut Warnings) -> Vec<EnvVar> {
    let mut out = Vec::new();
    for e in dump.iter().flat_map(|c| c.env.iter().flatten()) {
        let wanted = ["BACKUP_HOST", "BACKUP_PORT"].contains(&e.name.as_str())
            || engine.env_names().contains(&e.name.as_str());
        if !wanted {
            continue;
        }
        if e.value.is_some() && is_secret_name(&e.name) {
            warnings.push(format!(
                "the dump Job sets {} as a literal; the verify Job does not get it",
                e.name
            ));
            continue;
        }
        out.push(e.clone());
    }
    out
}

/// The dump's target and engine labels, as a verify Job's (`method: verify`, `trigger:
/// manual`).
fn verify_labels(dump: &Job) -> BTreeMap<String, String> {
    let mut l: BTreeMap<String, String> = [LABEL_TARGET_KIND, LABEL_TARGET_NAME, LABEL_ENGINE]
        .into_iter()
        .filter_map(|k| label(dump, k).map(|v| (k.to_string(), v.to_string())))
        .collect();
    l.insert(LABEL_MANAGED_BY.into(), MANAGED_BY.into());
    l.insert(LABEL_METHOD.into(), METHOD_VERIFY.into());
    l.insert(LABEL_TRIGGER.into(), "manual".into());
    l
}

/// The reason a verify script gave (`kubectl-backup: verify failed: REASON`) in a failed
/// Job's message or log: the last such line.
pub fn failure_reason(text: &str) -> Option<&str> {
    text.lines()
        .rev()
        .find_map(|l| l.split_once("kubectl-backup: verify failed: "))
        .map(|(_, r)| r.trim())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
