//! A Job from a CronJob, exactly as `kubectl create job --from=cronjob/NAME` builds it (see
//! kubectl's `create_job.go`), plus our labels; the concurrency check kubectl does not do
//! (kubernetes#115335) and the history-limit warning.

use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::{ANNOTATION_INSTANTIATE, Method, Target, TargetKind, Warnings, our_labels};
use stateful_core::error::{Error, Result};

/// Build the Job. `name` is the Job's name (already validated or generated).
pub fn job_from_cronjob(cj: &CronJob, name: &str) -> Result<Job> {
    let cj_name = cj.metadata.name.clone().unwrap_or_default();
    let spec = &cj.spec;
    let tmpl_meta = spec.job_template.metadata.clone().unwrap_or_default();
    // kubectl: annotations start with instantiate=manual, then the template's are copied over.
    let mut annotations = std::collections::BTreeMap::new();
    annotations.insert(ANNOTATION_INSTANTIATE.to_string(), "manual".to_string());
    for (k, v) in tmpl_meta.annotations.unwrap_or_default() {
        annotations.insert(k, v);
    }
    // kubectl: labels are the template's; ours are added on top.
    let mut labels = tmpl_meta.labels.unwrap_or_default();
    let target = Target {
        kind: TargetKind::CronJob,
        name: cj_name.clone(),
    };
    labels.extend(our_labels(&target, Method::Cronjob, None));
    Ok(Job {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: cj.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: Some(annotations),
            // Not NewControllerRef: no blockOwnerDeletion (needs cronjobs/finalizers RBAC).
            owner_references: Some(vec![OwnerReference {
                api_version: "batch/v1".into(),
                kind: "CronJob".into(),
                name: cj_name,
                uid: cj.metadata.uid.clone().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: None,
            }]),
            ..Default::default()
        },
        spec: spec.job_template.spec.clone(),
        status: None,
    })
}

/// Is the Job finished (Complete or Failed condition True)?
pub fn job_finished(job: &Job) -> Option<bool> {
    let conds = job.status.as_ref()?.conditions.as_ref()?;
    for c in conds {
        if c.status == "True" {
            match c.type_.as_str() {
                "Complete" => return Some(true),
                "Failed" => return Some(false),
                _ => {}
            }
        }
    }
    None
}

/// Is `job` controlled by `cj` (by uid, or by name when a dump lacks uids)?
pub fn owned_by(job: &Job, cj: &CronJob) -> bool {
    let cj_uid = cj.metadata.uid.as_deref();
    let cj_name = cj.metadata.name.as_deref();
    job.metadata.namespace == cj.metadata.namespace
        && job.metadata.owner_references.iter().flatten().any(|o| {
            o.kind == "CronJob"
                && o.controller == Some(true)
                && match cj_uid {
                    Some(uid) if !o.uid.is_empty() => o.uid == uid,
                    _ => Some(o.name.as_str()) == cj_name,
                }
        })
}

/// The CronJob's running Jobs, scheduled or manual: controlled Jobs not yet finished, plus the
/// names in `status.active` (which lists scheduled runs only).
pub fn running_jobs(cj: &CronJob, jobs: &[Job]) -> Vec<String> {
    let mut names: Vec<String> = jobs
        .iter()
        .filter(|j| owned_by(j, cj) && job_finished(j).is_none())
        .filter_map(|j| j.metadata.name.clone())
        .collect();
    let finished: Vec<&str> = jobs
        .iter()
        .filter(|j| owned_by(j, cj) && job_finished(j).is_some())
        .filter_map(|j| j.metadata.name.as_deref())
        .collect();
    for a in cj.status.iter().flat_map(|s| s.active.iter().flatten()) {
        if let Some(n) = &a.name
            && !names.contains(n)
            && !finished.contains(&n.as_str())
        {
            names.push(n.clone());
        }
    }
    names.sort();
    names
}

/// Enforce `concurrencyPolicy` Forbid/Replace for a manual run: refuse (exit 5) naming the
/// running Job, unless `force`. Returns warnings (e.g. when forced).
pub fn check_concurrency(cj: &CronJob, jobs: &[Job], force: bool) -> Result<Warnings> {
    let mut warnings = Vec::new();
    let policy = cj.spec.concurrency_policy.as_deref().unwrap_or("Allow");
    if policy != "Forbid" && policy != "Replace" {
        return Ok(warnings);
    }
    let running = running_jobs(cj, jobs);
    if running.is_empty() {
        return Ok(warnings);
    }
    let cj_name = cj.metadata.name.as_deref().unwrap_or("");
    let list = running.join(", ");
    if force {
        warnings.push(format!(
            "cronjob {cj_name} has concurrencyPolicy {policy} and job {list} is running; starting another anyway (--force)"
        ));
        Ok(warnings)
    } else {
        Err(Error::Failed(format!(
            "cronjob {cj_name} has concurrencyPolicy {policy} and job {list} is still running; refusing to start another (wait for it, or pass --force)"
        )))
    }
}

/// Warn when the CronJob's history limits will delete this Job (and its logs): manual Jobs
/// are controlled by the CronJob, so they count toward `successful/failedJobsHistoryLimit`.
pub fn history_warnings(cj: &CronJob) -> Warnings {
    let ok = cj.spec.successful_jobs_history_limit.unwrap_or(3);
    let failed = cj.spec.failed_jobs_history_limit.unwrap_or(1);
    let name = cj.metadata.name.as_deref().unwrap_or("");
    let mut w = Vec::new();
    if ok == 0 || failed == 0 {
        w.push(format!(
            "cronjob {name} keeps {ok} successful and {failed} failed jobs: the controller deletes this job (and its logs) as soon as it finishes; read them while it runs"
        ));
    } else {
        w.push(format!(
            "this job counts toward cronjob {name}'s history limits: it and its logs are deleted after {ok} newer successful (or {failed} newer failed) runs"
        ));
    }
    w
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cj(policy: &str) -> CronJob {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "todo-db-backup", "namespace": "default", "uid": "u-cj"},
            "spec": {
                "schedule": "*/2 * * * *", "concurrencyPolicy": policy,
                "jobTemplate": {
                    "metadata": {"labels": {"app": "todo-db-backup"}, "annotations": {"a": "b"}},
                    "spec": {"template": {"spec": {"restartPolicy": "Never",
                        "containers": [{"name": "backup", "image": "postgres:11.6-alpine"}]}}}
                }
            },
            "status": {"active": [{"name": "todo-db-backup-29000000", "namespace": "default"}]}
        }))
        .unwrap()
    }

    fn job(name: &str, owner_uid: &str, done: Option<&str>) -> Job {
        let conds = done
            .map(|t| serde_json::json!([{"type": t, "status": "True"}]))
            .unwrap_or(serde_json::json!([]));
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "default", "ownerReferences": [
                {"apiVersion": "batch/v1", "kind": "CronJob", "name": "todo-db-backup", "uid": owner_uid, "controller": true}]},
            "spec": {"template": {"spec": {"containers": []}}},
            "status": {"conditions": conds}
        }))
        .unwrap()
    }

    #[test]
    fn job_matches_kubectl_create_job_from() {
        let j = job_from_cronjob(&cj("Forbid"), "x-manual-1").unwrap();
        let ann = j.metadata.annotations.as_ref().unwrap();
        assert_eq!(ann[ANNOTATION_INSTANTIATE], "manual");
        assert_eq!(ann["a"], "b");
        let l = j.metadata.labels.as_ref().unwrap();
        assert_eq!(l["app"], "todo-db-backup");
        assert_eq!(l[crate::LABEL_METHOD], "cronjob");
        let o = &j.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!((o.kind.as_str(), o.uid.as_str()), ("CronJob", "u-cj"));
        assert_eq!(o.controller, Some(true));
        assert_eq!(o.block_owner_deletion, None);
        assert_eq!(j.spec, cj("Forbid").spec.job_template.spec);
    }

    #[test]
    fn forbid_refuses_while_a_scheduled_or_manual_job_runs() {
        let c = cj("Forbid");
        // status.active names a scheduled job that is running.
        let e = check_concurrency(&c, &[], false).unwrap_err();
        assert_eq!(e.exit_code().code(), 5);
        assert!(e.to_string().contains("todo-db-backup-29000000"), "{e}");
        // A manual run (not in status.active) counts too; the finished scheduled one does not.
        let jobs = vec![
            job("todo-db-backup-29000000", "u-cj", Some("Complete")),
            job("todo-db-backup-manual-1", "u-cj", None),
            job("other", "u-other", None),
        ];
        let e = check_concurrency(&c, &jobs, false).unwrap_err();
        assert!(e.to_string().contains("todo-db-backup-manual-1"), "{e}");
        assert!(!e.to_string().contains("29000000"), "{e}");
        assert_eq!(check_concurrency(&c, &jobs, true).unwrap().len(), 1);
        assert!(
            check_concurrency(&cj("Allow"), &jobs, false)
                .unwrap()
                .is_empty()
        );
        assert!(check_concurrency(&cj("Replace"), &jobs, false).is_err());
        let done = vec![job("todo-db-backup-29000000", "u-cj", Some("Failed"))];
        assert!(check_concurrency(&c, &done, false).is_ok());
    }

    #[test]
    fn history_limit_zero_is_a_loud_warning() {
        let mut c = cj("Forbid");
        assert!(history_warnings(&c)[0].contains("after 3 newer"));
        c.spec.successful_jobs_history_limit = Some(0);
        assert!(history_warnings(&c)[0].contains("as soon as it finishes"));
    }
}
