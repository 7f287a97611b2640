//! `list` and `describe` as models: backups found in a Snapshot (Jobs with our labels,
//! CronJob-owned Jobs, our VolumeSnapshots), and what `describe` shows of one. Pure: "now" is
//! passed in for durations of running backups. Their text and JSON are [`crate::render`]'s.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;
use serde_json::Value;

use crate::volsnap::SnapshotState;
use crate::{
    ANNOTATION_DESTINATION, ANNOTATION_SOURCE, API_VERSION, LABEL_ENGINE, LABEL_MANAGED_BY,
    LABEL_METHOD, LABEL_TARGET_KIND, LABEL_TARGET_NAME, LABEL_TRIGGER, MANAGED_BY, Target,
};
use stateful_core::error::{Error, Result};
use stateful_core::snapshot::{Kind, Snapshot};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupRow {
    pub name: String,
    pub namespace: String,
    /// `Job` or `VolumeSnapshot`.
    pub kind: String,
    /// `cronjob/NAME`, `sts/NAME`, `pvc/NAME`…
    pub target: String,
    pub method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// `manual` or `scheduled`.
    pub trigger: String,
    /// Pending, Running, Succeeded, Failed; for snapshots Pending, Cut, Ready, Error.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// The object's creationTimestamp (the table's AGE).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupList {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub items: Vec<BackupRow>,
    /// The locks held on targets in scope (from the cluster's Leases; always `[]` with
    /// `--from-file`, which carries none).
    pub locks: Vec<crate::lock::LockRow>,
}

fn label<'a>(
    m: &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    k: &str,
) -> Option<&'a str> {
    m.labels.as_ref()?.get(k).map(String::as_str)
}

fn cronjob_owner(job: &Job) -> Option<&str> {
    job.metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.kind == "CronJob" && o.controller == Some(true))
        .map(|o| o.name.as_str())
}

/// A Job's status word.
pub fn job_status(job: &Job) -> &'static str {
    match crate::cronjob::job_finished(job) {
        Some(true) => "Succeeded",
        Some(false) => "Failed",
        None => {
            let st = job.status.as_ref();
            if st.and_then(|s| s.active).unwrap_or(0) > 0 {
                "Running"
            } else {
                "Pending"
            }
        }
    }
}

fn secs_between(a: &str, b: jiff::Timestamp) -> Option<i64> {
    let a: jiff::Timestamp = a.parse().ok()?;
    Some(b.duration_since(a).as_secs())
}

fn job_row(job: &Job, now: jiff::Timestamp) -> Option<BackupRow> {
    let m = &job.metadata;
    let ours = label(m, LABEL_MANAGED_BY) == Some(MANAGED_BY);
    let cj = cronjob_owner(job);
    if !ours && cj.is_none() {
        return None;
    }
    // Our Jobs that are not backups (a verify Job) are not listed.
    if ours && !matches!(label(m, LABEL_METHOD), None | Some("cronjob" | "dump")) {
        return None;
    }
    let target = match (label(m, LABEL_TARGET_KIND), label(m, LABEL_TARGET_NAME)) {
        (Some(k), Some(n)) => format!("{k}/{n}"),
        _ => format!("cronjob/{}", cj.unwrap_or("")),
    };
    let manual = label(m, LABEL_TRIGGER) == Some("manual")
        || m.annotations
            .as_ref()
            .and_then(|a| a.get(crate::ANNOTATION_INSTANTIATE))
            .is_some_and(|v| v == "manual");
    let st = job.status.as_ref();
    let started = st
        .and_then(|s| s.start_time.as_ref())
        .map(|t| t.0.to_string());
    let end = st
        .and_then(|s| s.completion_time.as_ref())
        .map(|t| t.0)
        .or_else(|| {
            if crate::cronjob::job_finished(job).is_some() {
                st.and_then(|s| s.conditions.as_ref()).and_then(|c| {
                    c.iter()
                        .filter_map(|c| c.last_transition_time.as_ref())
                        .map(|t| t.0)
                        .max()
                })
            } else {
                None
            }
        });
    let duration = started
        .as_deref()
        .and_then(|s| secs_between(s, end.unwrap_or(now)));
    Some(BackupRow {
        name: m.name.clone().unwrap_or_default(),
        namespace: m.namespace.clone().unwrap_or_default(),
        kind: "Job".into(),
        target,
        method: label(m, LABEL_METHOD).unwrap_or("cronjob").to_string(),
        engine: label(m, LABEL_ENGINE).map(str::to_string),
        trigger: if manual { "manual" } else { "scheduled" }.into(),
        status: job_status(job).into(),
        started,
        duration_seconds: duration,
        size: None,
        created: m.creation_timestamp.as_ref().map(|t| t.0.to_string()),
    })
}

fn snapshot_row(vs: &Value, now: jiff::Timestamp) -> Option<BackupRow> {
    let labels = vs.pointer("/metadata/labels")?;
    if labels.get(LABEL_MANAGED_BY).and_then(Value::as_str) != Some(MANAGED_BY) {
        return None;
    }
    let s = |p: &str| vs.pointer(p).and_then(Value::as_str).map(str::to_string);
    let l = |k: &str| {
        labels
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let st = SnapshotState::of(vs);
    let started = s("/metadata/creationTimestamp");
    let duration = started.as_deref().and_then(|a| {
        let end = if st.ready {
            st.creation_time
                .as_deref()
                .and_then(|c| c.parse().ok())
                .unwrap_or(now)
        } else {
            now
        };
        secs_between(a, end).map(|d| d.max(0))
    });
    Some(BackupRow {
        name: s("/metadata/name").unwrap_or_default(),
        namespace: s("/metadata/namespace").unwrap_or_default(),
        kind: "VolumeSnapshot".into(),
        target: format!("{}/{}", l(LABEL_TARGET_KIND), l(LABEL_TARGET_NAME)),
        method: "snapshot".into(),
        engine: None,
        trigger: "manual".into(),
        status: st.status_word().into(),
        created: started.clone(),
        started,
        duration_seconds: duration,
        size: st.restore_size,
    })
}

/// Every backup in the snapshot, optionally only those of `target`, newest first.
pub fn list(snap: &Snapshot, target: Option<&Target>, now: jiff::Timestamp) -> BackupList {
    let mut items: Vec<BackupRow> = snap.jobs.iter().filter_map(|j| job_row(j, now)).collect();
    for vs in snap
        .dynamic
        .get(&Kind::VolumeSnapshot)
        .into_iter()
        .flatten()
    {
        if let Some(r) = snapshot_row(vs, now) {
            items.push(r);
        }
    }
    if let Some(t) = target {
        let want = t.display();
        items.retain(|r| r.target == want);
    }
    items.sort_by(|a, b| {
        b.started
            .cmp(&a.started)
            .then_with(|| a.namespace.cmp(&b.namespace))
            .then_with(|| a.name.cmp(&b.name))
    });
    BackupList {
        api_version: API_VERSION,
        kind: "BackupList",
        items,
        locks: Vec::new(),
    }
}

/// Why a pod's container ended (or is stuck): `reason (exit N): message`.
pub fn pod_reason(pod: &Pod) -> Option<String> {
    let st = pod.status.as_ref()?;
    for cs in st.container_statuses.iter().flatten() {
        let state = cs.state.as_ref();
        if let Some(t) = state.and_then(|s| s.terminated.as_ref())
            && t.exit_code != 0
        {
            let mut s = format!(
                "{} (exit code {})",
                t.reason.as_deref().unwrap_or("Error"),
                t.exit_code
            );
            if let Some(m) = t.message.as_deref().filter(|m| !m.is_empty()) {
                s.push_str(&format!(": {}", m.trim()));
            }
            return Some(s);
        }
        if let Some(w) = state.and_then(|s| s.waiting.as_ref())
            && let Some(r) = w.reason.as_deref().filter(|r| *r != "ContainerCreating")
        {
            return Some(match w.message.as_deref() {
                Some(m) => format!("{r}: {m}"),
                None => r.to_string(),
            });
        }
    }
    if let Some(r) = st.reason.as_deref() {
        return Some(format!("{r}: {}", st.message.as_deref().unwrap_or("")));
    }
    None
}

/// What `describe NAME` shows: a backup Job or one of our VolumeSnapshots.
#[derive(Debug, Clone, PartialEq)]
pub enum Description {
    Job(Box<JobDescription>),
    VolumeSnapshot(SnapshotDescription),
}

/// A backup Job: what ran, where it read and wrote, how it ended and why. Built from the
/// redacted Job, so literal env values not known harmless are already hidden.
#[derive(Debug, Clone, PartialEq)]
pub struct JobDescription {
    pub name: String,
    pub namespace: String,
    /// Target, method, engine, trigger, status, times: when the Job is one of ours or a
    /// CronJob's.
    pub row: Option<BackupRow>,
    /// The status word (for Jobs without a row).
    pub status: &'static str,
    /// Where a dump read from (`host:port`).
    pub source: Option<String>,
    /// Where a dump wrote (`pvc/NAME:/path`).
    pub destination: Option<String>,
    /// The dump file's sha256 (`kubectl-stateful.io/sha256`).
    pub sha256: Option<String>,
    /// The pod template's containers.
    pub containers: Vec<ContainerDescription>,
    /// The pod template's claims: (volume name, claim name).
    pub claims: Vec<(String, String)>,
    /// Present when the Job has a spec.
    pub limits: Option<JobLimits>,
    pub conditions: Vec<JobCondition>,
    /// The Job's pods (by the `job-name` label).
    pub pods: Vec<PodSummary>,
    /// Warning events of the Job and its pods: (reason, message).
    pub warnings: Vec<(Option<String>, Option<String>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContainerDescription {
    pub name: String,
    pub image: Option<String>,
    /// command then args.
    pub command: Vec<String>,
    pub env: Vec<(String, EnvValue)>,
}

/// An env var's value as `describe` shows it: literals as they are, references by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    Literal(String),
    Secret {
        name: String,
        key: String,
    },
    ConfigMap {
        name: String,
        key: String,
    },
    /// A field or resource reference.
    Reference,
    /// Neither value nor reference.
    Empty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobLimits {
    pub backoff_limit: Option<i32>,
    pub active_deadline_seconds: Option<i64>,
    pub ttl_seconds_after_finished: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobCondition {
    pub type_: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSummary {
    pub name: String,
    pub phase: Option<String>,
    pub node: Option<String>,
    /// Why its container ended or is stuck ([`pod_reason`]).
    pub reason: Option<String>,
}

/// One of our VolumeSnapshots: the claim, the class and how far it got.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotDescription {
    pub name: String,
    pub namespace: String,
    pub claim: Option<String>,
    pub class: Option<String>,
    pub state: SnapshotState,
}

/// The VolumeSnapshot `name` in `ns`.
pub(crate) fn find_snapshot<'a>(snap: &'a Snapshot, ns: &str, name: &str) -> Option<&'a Value> {
    snap.dynamic
        .get(&Kind::VolumeSnapshot)
        .into_iter()
        .flatten()
        .find(|v| {
            v.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns)
                && v.pointer("/metadata/name").and_then(Value::as_str) == Some(name)
        })
}

/// `describe NAME`: the Job, else the VolumeSnapshot, of that name in `ns`.
pub fn describe(
    snap: &Snapshot,
    ns: &str,
    name: &str,
    now: jiff::Timestamp,
) -> Result<Description> {
    if let Some(job) = snap.jobs.iter().find(|j| {
        j.metadata.namespace.as_deref() == Some(ns) && j.metadata.name.as_deref() == Some(name)
    }) {
        return Ok(Description::Job(Box::new(describe_job(
            snap, ns, name, job, now,
        ))));
    }
    if let Some(vs) = find_snapshot(snap, ns, name) {
        let s = |p: &str| vs.pointer(p).and_then(Value::as_str).map(str::to_string);
        return Ok(Description::VolumeSnapshot(SnapshotDescription {
            name: name.to_string(),
            namespace: ns.to_string(),
            claim: s("/spec/source/persistentVolumeClaimName"),
            class: s("/spec/volumeSnapshotClassName"),
            state: SnapshotState::of(vs),
        }));
    }
    Err(Error::not_found(
        "backup (job or volumesnapshot)",
        name,
        Some(ns),
    ))
}

fn describe_job(
    snap: &Snapshot,
    ns: &str,
    name: &str,
    job: &Job,
    now: jiff::Timestamp,
) -> JobDescription {
    let job = crate::redact::redacted_job(job);
    let ann = |k: &str| {
        job.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(k))
            .cloned()
    };
    let spec = job.spec.as_ref();
    let pod_spec = spec.and_then(|s| s.template.spec.as_ref());
    let containers = pod_spec
        .iter()
        .flat_map(|ps| &ps.containers)
        .map(describe_container)
        .collect();
    let claims = pod_spec
        .iter()
        .flat_map(|ps| ps.volumes.iter().flatten())
        .filter_map(|v| {
            let c = v.persistent_volume_claim.as_ref()?;
            Some((v.name.clone(), c.claim_name.clone()))
        })
        .collect();
    let conditions = job
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .map(|c| JobCondition {
            type_: c.type_.clone(),
            status: c.status.clone(),
            reason: c.reason.clone(),
            message: c.message.clone(),
        })
        .collect();
    JobDescription {
        name: name.to_string(),
        namespace: ns.to_string(),
        row: job_row(&job, now),
        status: job_status(&job),
        source: ann(ANNOTATION_SOURCE),
        destination: ann(ANNOTATION_DESTINATION),
        sha256: ann(crate::ANNOTATION_SHA256),
        containers,
        claims,
        limits: spec.map(|s| JobLimits {
            backoff_limit: s.backoff_limit,
            active_deadline_seconds: s.active_deadline_seconds,
            ttl_seconds_after_finished: s.ttl_seconds_after_finished,
        }),
        conditions,
        pods: job_pods(snap, ns, name),
        warnings: job_warnings(snap, ns, name),
    }
}

fn describe_container(c: &k8s_openapi::api::core::v1::Container) -> ContainerDescription {
    let env = c
        .env
        .iter()
        .flatten()
        .map(|e| {
            let v = match (&e.value, &e.value_from) {
                (Some(v), _) => EnvValue::Literal(v.clone()),
                (None, Some(vf)) => match (&vf.secret_key_ref, &vf.config_map_key_ref) {
                    (Some(s), _) => EnvValue::Secret {
                        name: s.name.clone(),
                        key: s.key.clone(),
                    },
                    (_, Some(c)) => EnvValue::ConfigMap {
                        name: c.name.clone(),
                        key: c.key.clone(),
                    },
                    _ => EnvValue::Reference,
                },
                _ => EnvValue::Empty,
            };
            (e.name.clone(), v)
        })
        .collect();
    ContainerDescription {
        name: c.name.clone(),
        image: c.image.clone(),
        command: c
            .command
            .iter()
            .flatten()
            .chain(c.args.iter().flatten())
            .cloned()
            .collect(),
        env,
    }
}

/// The Job's pods, by their `job-name` label.
fn job_pods(snap: &Snapshot, ns: &str, name: &str) -> Vec<PodSummary> {
    snap.pods
        .iter()
        .filter(|p| {
            p.metadata.namespace.as_deref() == Some(ns)
                && p.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("job-name"))
                    .map(String::as_str)
                    == Some(name)
        })
        .map(|p| PodSummary {
            name: p.metadata.name.clone().unwrap_or_default(),
            phase: p.status.as_ref().and_then(|s| s.phase.clone()),
            node: p.spec.as_ref().and_then(|s| s.node_name.clone()),
            reason: pod_reason(p),
        })
        .collect()
}

/// Warning events of objects whose name starts with the Job's (the Job and its pods).
fn job_warnings(snap: &Snapshot, ns: &str, name: &str) -> Vec<(Option<String>, Option<String>)> {
    snap.events
        .iter()
        .filter(|e| {
            e.metadata.namespace.as_deref() == Some(ns)
                && e.involved_object
                    .name
                    .as_deref()
                    .is_some_and(|n| n.starts_with(name))
                && e.type_.as_deref() == Some("Warning")
        })
        .map(|e| (e.reason.clone(), e.message.clone()))
        .collect()
}
