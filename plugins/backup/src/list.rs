//! `list` and `describe`: backups found in a Snapshot (Jobs with our labels, CronJob-owned
//! Jobs, our VolumeSnapshots). Pure: "now" is passed in for durations of running backups.

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
use stateful_core::output as render;
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
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupList {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub items: Vec<BackupRow>,
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
    }
}

pub fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{}s", s / 60, s % 60)
    } else {
        format!("{}h{}m", s / 3600, (s % 3600) / 60)
    }
}

pub fn render_list(l: &BackupList, all_namespaces: bool, json: bool) -> Result<String> {
    if json {
        return render::to_json(l);
    }
    if l.items.is_empty() {
        return Ok(String::new());
    }
    let mut headers = vec![];
    if all_namespaces {
        headers.push("namespace");
    }
    headers.extend([
        "name", "target", "method", "status", "started", "duration", "size",
    ]);
    let mut t = render::table(&headers);
    for r in &l.items {
        let mut row = vec![];
        if all_namespaces {
            row.push(r.namespace.clone());
        }
        let method = match (&r.engine, r.trigger.as_str()) {
            (Some(e), _) => format!("{}/{e}", r.method),
            (None, "scheduled") => format!("{} (scheduled)", r.method),
            _ => r.method.clone(),
        };
        row.extend([
            r.name.clone(),
            r.target.clone(),
            method,
            r.status.clone(),
            render::dash(r.started.as_deref()),
            r.duration_seconds
                .map(human_duration)
                .unwrap_or_else(|| "-".into()),
            render::dash(r.size.as_deref()),
        ]);
        t.add_row(row);
    }
    Ok(render::table_text(&t))
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

/// `describe NAME`: what ran, where it read and wrote, how it ended and why.
pub fn describe(snap: &Snapshot, ns: &str, name: &str, now: jiff::Timestamp) -> Result<String> {
    let mut out = String::new();
    if let Some(job) = snap.jobs.iter().find(|j| {
        j.metadata.namespace.as_deref() == Some(ns) && j.metadata.name.as_deref() == Some(name)
    }) {
        let job = crate::redact::redacted_job(job);
        let row = job_row(&job, now);
        let m = &job.metadata;
        let ann = |k: &str| m.annotations.as_ref().and_then(|a| a.get(k)).cloned();
        let line = |out: &mut String, k: &str, v: String| out.push_str(&format!("{k:<14}{v}\n"));
        line(&mut out, "Name:", name.to_string());
        line(&mut out, "Namespace:", ns.to_string());
        line(&mut out, "Kind:", "Job".into());
        if let Some(r) = &row {
            line(&mut out, "Target:", r.target.clone());
            line(&mut out, "Method:", r.method.clone());
            if let Some(e) = &r.engine {
                line(&mut out, "Engine:", e.clone());
            }
            line(&mut out, "Trigger:", r.trigger.clone());
            line(&mut out, "Status:", r.status.clone());
            line(&mut out, "Started:", render::dash(r.started.as_deref()));
            line(
                &mut out,
                "Duration:",
                r.duration_seconds
                    .map(human_duration)
                    .unwrap_or_else(|| "-".into()),
            );
        } else {
            line(&mut out, "Status:", job_status(&job).into());
        }
        if let Some(s) = ann(ANNOTATION_SOURCE) {
            line(&mut out, "Source:", s);
        }
        if let Some(d) = ann(ANNOTATION_DESTINATION) {
            line(&mut out, "Destination:", d);
        }
        let spec = job.spec.as_ref();
        if let Some(ps) = spec.and_then(|s| s.template.spec.as_ref()) {
            for c in &ps.containers {
                line(
                    &mut out,
                    "Container:",
                    format!("{} ({})", c.name, c.image.as_deref().unwrap_or("")),
                );
                let cmd: Vec<String> = c
                    .command
                    .iter()
                    .flatten()
                    .chain(c.args.iter().flatten())
                    .cloned()
                    .collect();
                if !cmd.is_empty() {
                    out.push_str("Command:\n");
                    for l in cmd.join(" ").lines() {
                        out.push_str(&format!("  {l}\n"));
                    }
                }
                for e in c.env.iter().flatten() {
                    let v = match (&e.value, &e.value_from) {
                        (Some(v), _) => v.clone(),
                        (None, Some(vf)) => match (&vf.secret_key_ref, &vf.config_map_key_ref) {
                            (Some(s), _) => format!("<secret {}/{}>", s.name, s.key),
                            (_, Some(c)) => format!("<configmap {}/{}>", c.name, c.key),
                            _ => "<reference>".into(),
                        },
                        _ => String::new(),
                    };
                    out.push_str(&format!("  env {}={v}\n", e.name));
                }
            }
            for v in ps.volumes.iter().flatten() {
                if let Some(c) = &v.persistent_volume_claim {
                    line(
                        &mut out,
                        "Volume:",
                        format!("{} → pvc/{}", v.name, c.claim_name),
                    );
                }
            }
        }
        if let Some(s) = spec {
            line(
                &mut out,
                "Limits:",
                format!(
                    "backoffLimit {}, activeDeadlineSeconds {}, ttlSecondsAfterFinished {}",
                    s.backoff_limit.map(|v| v.to_string()).unwrap_or("-".into()),
                    s.active_deadline_seconds
                        .map(|v| v.to_string())
                        .unwrap_or("-".into()),
                    s.ttl_seconds_after_finished
                        .map(|v| v.to_string())
                        .unwrap_or("-".into()),
                ),
            );
        }
        for c in job
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten()
        {
            line(
                &mut out,
                "Condition:",
                format!(
                    "{}={} {} {}",
                    c.type_,
                    c.status,
                    c.reason.as_deref().unwrap_or(""),
                    c.message.as_deref().unwrap_or("")
                )
                .trim_end()
                .to_string(),
            );
        }
        let pods: Vec<&Pod> = snap
            .pods
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
            .collect();
        for p in pods {
            let phase = p
                .status
                .as_ref()
                .and_then(|s| s.phase.as_deref())
                .unwrap_or("Unknown");
            let node = p
                .spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .unwrap_or("-");
            let mut s = format!(
                "{} {phase} on {node}",
                p.metadata.name.as_deref().unwrap_or("")
            );
            if let Some(r) = pod_reason(p) {
                s.push_str(&format!(" — {r}"));
            }
            line(&mut out, "Pod:", s);
        }
        for e in snap.events.iter().filter(|e| {
            e.metadata.namespace.as_deref() == Some(ns)
                && e.involved_object
                    .name
                    .as_deref()
                    .is_some_and(|n| n.starts_with(name))
                && e.type_.as_deref() == Some("Warning")
        }) {
            line(
                &mut out,
                "Warning:",
                format!(
                    "{} {}",
                    e.reason.as_deref().unwrap_or(""),
                    e.message.as_deref().unwrap_or("")
                ),
            );
        }
        out.push_str(&format!(
            "Logs:         kubectl backup logs {name} -n {ns}\n"
        ));
        return Ok(out);
    }
    if let Some(vs) = snap
        .dynamic
        .get(&Kind::VolumeSnapshot)
        .into_iter()
        .flatten()
        .find(|v| {
            v.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns)
                && v.pointer("/metadata/name").and_then(Value::as_str) == Some(name)
        })
    {
        let st = SnapshotState::of(vs);
        let s = |p: &str| {
            vs.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("-")
                .to_string()
        };
        out.push_str(&format!(
            "Name:         {name}\nNamespace:    {ns}\nKind:         VolumeSnapshot\n"
        ));
        out.push_str(&format!(
            "Claim:        pvc/{}\n",
            s("/spec/source/persistentVolumeClaimName")
        ));
        out.push_str(&format!(
            "Class:        {}\n",
            s("/spec/volumeSnapshotClassName")
        ));
        out.push_str(&format!("Status:       {}\n", st.status_word()));
        out.push_str(&format!(
            "Cut:          {}\n",
            if st.cut {
                format!(
                    "yes at {} (content {})",
                    st.creation_time.clone().unwrap_or_default(),
                    st.content.clone().unwrap_or_default()
                )
            } else {
                "no".into()
            }
        ));
        out.push_str(&format!(
            "Ready:        {}\n",
            if st.ready {
                format!(
                    "yes, restore size {}",
                    st.restore_size.clone().unwrap_or("-".into())
                )
            } else {
                "no".into()
            }
        ));
        if let Some(e) = &st.error {
            out.push_str(&format!("Error:        {e}\n"));
        }
        return Ok(out);
    }
    Err(Error::not_found(
        "backup (job or volumesnapshot)",
        name,
        Some(ns),
    ))
}
