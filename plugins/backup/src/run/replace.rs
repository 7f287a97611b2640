//! The I/O of `restore --replace`: carry out a [`ReplacePlan`]'s steps in order. Each step
//! checks the cluster before it acts, so a re-run after an interruption (Ctrl-C, a lost
//! connection) converges: the StatefulSet's replicas to come back to are kept in an
//! annotation, the claim made from the snapshot is recognised by its dataSource.
//! Also the wait for a claim made from a snapshot to bind.

use std::pin::pin;
use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

use super::{OnProgress, Outcome, Progress};
use crate::restore::ReplacePlan;
use crate::restore::claim::{ANNOTATION_RESTORE_REPLICAS, ReplaceStep};
use stateful_core::error::{Error, Result};

const POLL: Duration = Duration::from_millis(500);
const MANAGER: &str = "kubectl-backup";

/// Poll `check` until it says done (`Some`), the deadline passes or `stop` fires.
async fn until<T, F, Fut>(
    deadline: tokio::time::Instant,
    stop: &mut std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
    mut check: F,
) -> Result<Option<Option<T>>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    loop {
        if let Some(v) = check().await? {
            return Ok(Some(Some(v)));
        }
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return Ok(Some(None)),
            _ = stop.as_mut() => return Ok(None),
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

fn pp() -> PatchParams {
    PatchParams {
        field_manager: Some(MANAGER.into()),
        ..Default::default()
    }
}

/// Carry out the swap. Returns how it ended; `Interrupted` and `TimedOut` name the step, and
/// running the same command again continues from there.
pub async fn replace(
    client: &kube::Client,
    ns: &str,
    plan: &ReplacePlan,
    timeout: Duration,
    on: OnProgress,
    stop: impl std::future::Future<Output = ()>,
) -> Result<Outcome> {
    let stss: Api<StatefulSet> = Api::namespaced(client.clone(), ns);
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let pvs: Api<PersistentVolume> = Api::all(client.clone());
    let sts = &plan.statefulset;
    let deadline = tokio::time::Instant::now() + timeout;
    let mut stop = pin!(stop);
    let status = |s: &str| on(Progress::Status(s));
    let kube_err = |verb: &str, resource: &str, ns: Option<&str>, name: &str| {
        let (verb, resource, name) = (verb.to_string(), resource.to_string(), name.to_string());
        let ns = ns.map(str::to_string);
        move |e: kube::Error| Error::from_kube(e, &verb, &resource, ns.as_deref(), Some(&name))
    };
    for step in &plan.steps {
        let what = step.describe(sts);
        let waited = match step {
            ReplaceStep::RetainVolume { volume, .. } => {
                pvs.patch(
                    volume,
                    &pp(),
                    &Patch::Merge(json!({"spec": {"persistentVolumeReclaimPolicy": "Retain"}})),
                )
                .await
                .map_err(kube_err("patch", "persistentvolumes", None, volume))?;
                status(&what);
                Some(Some(()))
            }
            ReplaceStep::ScaleDown { from, to } => {
                // Note the replicas first (a re-run reads them), then scale.
                stss.patch(
                    sts,
                    &pp(),
                    &Patch::Merge(json!({
                        "metadata": {"annotations": {ANNOTATION_RESTORE_REPLICAS: from.to_string()}},
                        "spec": {"replicas": to},
                    })),
                )
                .await
                .map_err(kube_err("patch", "statefulsets.apps", Some(ns), sts))?;
                status(&what);
                Some(Some(()))
            }
            ReplaceStep::WaitPodGone { pod } => {
                status(&what);
                until(deadline, &mut stop, || async {
                    Ok(pods
                        .get_opt(pod)
                        .await
                        .map_err(kube_err("get", "pods", Some(ns), pod))?
                        .is_none()
                        .then_some(()))
                })
                .await?
            }
            ReplaceStep::DeleteClaim { claim } => {
                match pvcs.delete(claim, &DeleteParams::default()).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(s)) if s.code == 404 => {}
                    Err(e) => {
                        return Err(kube_err(
                            "delete",
                            "persistentvolumeclaims",
                            Some(ns),
                            claim,
                        )(e));
                    }
                }
                status(&what);
                until(deadline, &mut stop, || async {
                    Ok(pvcs
                        .get_opt(claim)
                        .await
                        .map_err(kube_err("get", "persistentvolumeclaims", Some(ns), claim))?
                        .is_none()
                        .then_some(()))
                })
                .await?
            }
            ReplaceStep::CreateClaim { claim } => {
                let post = PostParams {
                    field_manager: Some(MANAGER.into()),
                    ..Default::default()
                };
                match pvcs.create(&post, &plan.new_claim).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(s)) if s.code == 409 => {
                        // Made by the StatefulSet controller in between? Then it is not ours.
                        let c = pvcs.get(claim).await.map_err(kube_err(
                            "get",
                            "persistentvolumeclaims",
                            Some(ns),
                            claim,
                        ))?;
                        let ours = c
                            .spec
                            .as_ref()
                            .and_then(|s| s.data_source.as_ref())
                            .is_some_and(|d| d.name == plan.snapshot);
                        if !ours {
                            return Err(Error::Failed(format!(
                                "pvc/{claim} was created again by someone else (the StatefulSet controller?) before the restore could: it is not from volumesnapshot/{}. Scale sts/{sts} to {} and run this again",
                                plan.snapshot, plan.ordinal
                            )));
                        }
                    }
                    Err(e) => {
                        return Err(kube_err(
                            "create",
                            "persistentvolumeclaims",
                            Some(ns),
                            claim,
                        )(e));
                    }
                }
                status(&what);
                Some(Some(()))
            }
            ReplaceStep::ScaleUp { to } => {
                stss.patch(
                    sts,
                    &pp(),
                    &Patch::Merge(json!({
                        "metadata": {"annotations": {ANNOTATION_RESTORE_REPLICAS: null}},
                        "spec": {"replicas": to},
                    })),
                )
                .await
                .map_err(kube_err("patch", "statefulsets.apps", Some(ns), sts))?;
                status(&what);
                Some(Some(()))
            }
            ReplaceStep::Verify { pod, claim } => {
                status(&what);
                match verify(&pods, &pvcs, ns, plan, pod, claim, deadline, &mut stop).await? {
                    Some(Ok(v)) => {
                        return Ok(Outcome::Succeeded(format!(
                            "pod/{pod} is Running with pvc/{claim} Bound to pv/{v}, restored from volumesnapshot/{}",
                            plan.snapshot
                        )));
                    }
                    Some(Err(last)) => {
                        return Ok(Outcome::TimedOut(format!(
                            "not verified within {}s: {last}",
                            timeout.as_secs()
                        )));
                    }
                    None => None,
                }
            }
        };
        match waited {
            Some(Some(())) => {}
            Some(None) => {
                return Ok(Outcome::TimedOut(format!(
                    "timed out at step: {what} (run the same command again to continue)"
                )));
            }
            None => return Ok(Outcome::Interrupted),
        }
    }
    Ok(Outcome::Succeeded("nothing left to do".into()))
}

/// Wait until the pod is Running with the claim Bound to a volume other than the old one:
/// `Some(Ok(volume))`, `Some(Err(what was seen last))` at the deadline, `None` when stopped.
#[allow(clippy::too_many_arguments)]
async fn verify(
    pods: &Api<Pod>,
    pvcs: &Api<PersistentVolumeClaim>,
    ns: &str,
    plan: &ReplacePlan,
    pod: &str,
    claim: &str,
    deadline: tokio::time::Instant,
    stop: &mut std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
) -> Result<Option<std::result::Result<String, String>>> {
    let old = plan.old_volume.clone();
    let last = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let r = until(deadline, stop, || {
        let (pods, pvcs, old) = (pods.clone(), pvcs.clone(), old.clone());
        let seen = last.clone();
        async move {
            let p = pods
                .get_opt(pod)
                .await
                .map_err(|e| Error::from_kube(e, "get", "pods", Some(ns), Some(pod)))?;
            let c = pvcs.get_opt(claim).await.map_err(|e| {
                Error::from_kube(e, "get", "persistentvolumeclaims", Some(ns), Some(claim))
            })?;
            let phase = p
                .as_ref()
                .and_then(|p| p.status.as_ref())
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "absent".into());
            let bound = c
                .as_ref()
                .and_then(|c| c.status.as_ref())
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "absent".into());
            let volume = c
                .as_ref()
                .and_then(|c| c.spec.as_ref())
                .and_then(|s| s.volume_name.clone());
            let line = format!(
                "pod/{pod} {phase}, pvc/{claim} {bound}{}",
                volume
                    .as_deref()
                    .map(|v| format!(" to pv/{v}"))
                    .unwrap_or_default()
            );
            if let Ok(mut l) = seen.lock() {
                *l = line;
            }
            let new_volume = volume.is_some() && volume != old;
            Ok((phase == "Running" && bound == "Bound" && new_volume)
                .then(|| volume.unwrap_or_default()))
        }
    })
    .await?;
    Ok(match r {
        Some(Some(v)) => Some(Ok(v)),
        Some(None) => Some(Err(last.lock().map(|l| l.clone()).unwrap_or_default())),
        None => None,
    })
}

/// Wait for a claim to bind; `Succeeded` names its volume.
pub async fn wait_claim_bound(
    client: &kube::Client,
    ns: &str,
    claim: &str,
    timeout: Duration,
    on: OnProgress,
    stop: impl std::future::Future<Output = ()>,
) -> Result<Outcome> {
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
    let deadline = tokio::time::Instant::now() + timeout;
    let mut stop = pin!(stop);
    on(Progress::Status(&format!(
        "waiting for pvc/{claim} to bind"
    )));
    let r = until(deadline, &mut stop, || async {
        let c = pvcs.get_opt(claim).await.map_err(|e| {
            Error::from_kube(e, "get", "persistentvolumeclaims", Some(ns), Some(claim))
        })?;
        Ok(
            c.filter(|c| c.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound"))
                .and_then(|c| c.spec.and_then(|s| s.volume_name)),
        )
    })
    .await?;
    Ok(match r {
        Some(Some(v)) => Outcome::Succeeded(format!("pvc/{claim} is Bound to pv/{v}")),
        Some(None) => Outcome::TimedOut(format!(
            "pvc/{claim} not Bound within {}s (see kubectl describe pvc {claim} -n {ns})",
            timeout.as_secs()
        )),
        None => Outcome::Interrupted,
    })
}
