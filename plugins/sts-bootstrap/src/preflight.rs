//! Preflight: the named checks shown before any step — pure ones from the snapshot (headless
//! Service, pods Running) and live ones (`pods/exec` permission, member DNS from pod 0, engine
//! binaries) — and [`live_plan`], which runs them in order and, when they pass, observes every
//! member and plans.

use std::time::Duration;

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};

use crate::ctx::Ctx;
use crate::engine;
use crate::plan::{Check, CheckStatus, Plan};
use crate::topology::Topology;
use stateful_core::error::{Error, Result};
use stateful_core::exec::{KubeExec, PodExec, sh, shell_quote};

pub const SERVICE: &str = "headless-service";
pub const PODS: &str = "pods-running";
pub const EXEC_RBAC: &str = "exec-permission";
pub const DNS: &str = "member-dns";
pub const BINARY: &str = "engine-binary";

/// The governing Service exists, is headless, and (warn) publishes not-ready addresses.
pub fn service_check(topo: &Topology) -> Check {
    let Some(svc) = &topo.service_obj else {
        return Check::new(
            SERVICE,
            CheckStatus::Fail,
            format!(
                "Service {} (the StatefulSet's serviceName) not found in namespace {}: members get no DNS names without it",
                topo.service, topo.namespace
            ),
        );
    };
    let spec = svc.spec.as_ref();
    let cluster_ip = spec.and_then(|s| s.cluster_ip.as_deref()).unwrap_or("");
    if cluster_ip != "None" {
        return Check::new(
            SERVICE,
            CheckStatus::Fail,
            format!(
                "Service {} is not headless (clusterIP {:?}); set clusterIP: None",
                topo.service,
                if cluster_ip.is_empty() {
                    "<unset>"
                } else {
                    cluster_ip
                }
            ),
        );
    }
    if !spec
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false)
    {
        return Check::new(
            SERVICE,
            CheckStatus::Warn,
            format!(
                "Service {} is headless but publishNotReadyAddresses is false: member names resolve only once pods are Ready (a readiness probe gated on PRIMARY would deadlock)",
                topo.service
            ),
        );
    }
    Check::new(
        SERVICE,
        CheckStatus::Pass,
        format!(
            "Service {} is headless and publishes not-ready addresses",
            topo.service
        ),
    )
}

/// Every member pod exists and is Running.
pub fn pods_check(topo: &Topology) -> Check {
    let not: Vec<String> = topo
        .members
        .iter()
        .filter(|m| m.phase.as_deref() != Some("Running"))
        .map(|m| format!("{} ({})", m.pod, m.phase.as_deref().unwrap_or("missing")))
        .collect();
    if !not.is_empty() {
        Check::new(
            PODS,
            CheckStatus::Fail,
            format!("not Running: {}", not.join(", ")),
        )
    } else {
        Check::new(
            PODS,
            CheckStatus::Pass,
            format!("{} of {} pods Running", topo.members.len(), topo.replicas),
        )
    }
}

/// Any failed check refuses the plan.
pub fn failed(checks: &[Check]) -> Option<String> {
    let f: Vec<String> = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .map(|c| format!("{}: {}", c.name, c.message))
        .collect();
    if f.is_empty() {
        None
    } else {
        Some(f.join("; "))
    }
}

// ---------------------------------------------------------------------------------------------
// Live checks
// ---------------------------------------------------------------------------------------------

/// May the current user create `pods/exec` in the namespace? (SelfSubjectAccessReview.)
pub async fn exec_permission(client: &kube::Client, ns: &str) -> Result<Check> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(ns.to_string()),
                verb: Some("create".into()),
                resource: Some("pods".into()),
                subresource: Some("exec".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let res = api
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| Error::from_kube(e, "create", "selfsubjectaccessreviews", None, None))?;
    let allowed = res.status.as_ref().is_some_and(|s| s.allowed);
    Ok(if allowed {
        Check::new(
            EXEC_RBAC,
            CheckStatus::Pass,
            format!("may create pods/exec in {ns}"),
        )
    } else {
        let why = res
            .status
            .and_then(|s| s.reason)
            .filter(|r| !r.is_empty())
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        Check::new(
            EXEC_RBAC,
            CheckStatus::Fail,
            format!("forbidden: cannot create pods/exec in namespace {ns}{why}"),
        )
    })
}

/// Wait (watch, with a deadline) until every member pod is Running.
pub async fn wait_pods_running(
    client: &kube::Client,
    topo: &Topology,
    timeout: Duration,
) -> Result<()> {
    let api: Api<Pod> = Api::namespaced(client.clone(), &topo.namespace);
    let waits = topo.members.iter().map(|m| {
        let api = api.clone();
        let name = m.pod.clone();
        async move {
            kube::runtime::wait::await_condition(api, &name, |p: Option<&Pod>| {
                p.and_then(|p| p.status.as_ref())
                    .and_then(|s| s.phase.as_deref())
                    == Some("Running")
            })
            .await
            .map_err(|e| Error::Other(format!("watching pod {name}: {e}")))
        }
    });
    match tokio::time::timeout(timeout, futures::future::try_join_all(waits)).await {
        Ok(r) => r.map(|_| ()),
        Err(_) => Err(Error::TimedOut(format!(
            "pods of statefulset {} not all Running within {}s",
            topo.statefulset,
            timeout.as_secs()
        ))),
    }
}

/// Every member FQDN resolves from pod 0; the engine's binaries are in the container.
pub async fn live_checks<E: PodExec>(ctx: &Ctx<'_, E>) -> Vec<Check> {
    let mut checks = Vec::new();
    let Some(first) = ctx.topo.members.first() else {
        return checks;
    };
    let names: Vec<String> = ctx
        .topo
        .members
        .iter()
        .map(|m| shell_quote(&m.fqdn))
        .collect();
    let script = format!(
        "bad=''; for h in {}; do getent hosts \"$h\" >/dev/null 2>&1 || bad=\"$bad $h\"; done; if [ -n \"$bad\" ]; then echo \"unresolved:$bad\"; exit 1; fi",
        names.join(" ")
    );
    checks.push(match ctx.run(&first.pod, sh(script), None).await {
        Ok(o) if o.success() => Check::new(
            DNS,
            CheckStatus::Pass,
            format!("{} member names resolve from {}", names.len(), first.pod),
        ),
        Ok(o) => Check::new(
            DNS,
            CheckStatus::Fail,
            format!(
                "from {}: {} — wait for DNS, or set publishNotReadyAddresses: true on the Service",
                first.pod,
                o.brief()
            ),
        ),
        Err(e) => Check::new(DNS, CheckStatus::Fail, e.to_string()),
    });
    let (bin_script, want) = engine::binary_check(ctx.topo.engine);
    let mut missing = Vec::new();
    for m in &ctx.topo.members {
        match ctx.run(&m.pod, sh(bin_script), None).await {
            Ok(o) if o.success() => {}
            Ok(_) => missing.push(m.pod.clone()),
            Err(e) => missing.push(format!("{} ({e})", m.pod)),
        }
    }
    checks.push(if missing.is_empty() {
        Check::new(
            BINARY,
            CheckStatus::Pass,
            format!("{want} present in container {}", ctx.topo.container),
        )
    } else {
        Check::new(
            BINARY,
            CheckStatus::Fail,
            format!(
                "{want} not found in container {} of: {}",
                ctx.topo.container,
                missing.join(", ")
            ),
        )
    });
    checks
}

// ---------------------------------------------------------------------------------------------
// The live plan: what `plan` and `apply` share
// ---------------------------------------------------------------------------------------------

/// Preflight (named checks, exec permission first), then observe every member and plan.
/// Returns the plan; a failed check leaves it `refused` without running any engine command.
/// A denied `pods/exec` is an error (exit 4) because nothing can be read or done without it.
pub async fn live_plan(
    client: &kube::Client,
    exec: &KubeExec,
    topo: &Topology,
    exec_timeout: Duration,
    wait: Duration,
    wait_for_pods: bool,
) -> Result<Plan> {
    let mut plan = Plan::new(topo, "cluster");
    plan.checks.push(service_check(topo));
    let rbac = exec_permission(client, &topo.namespace).await?;
    if rbac.status == CheckStatus::Fail {
        return Err(Error::Forbidden {
            verb: "create".into(),
            resource: "pods/exec".into(),
            namespace: Some(topo.namespace.clone()),
            message: "checked with a SelfSubjectAccessReview before running anything".into(),
        });
    }
    plan.checks.push(rbac);
    let mut pods = pods_check(topo);
    if pods.status == CheckStatus::Fail && wait_for_pods {
        wait_pods_running(client, topo, wait).await?;
        pods = Check::new(
            PODS,
            CheckStatus::Pass,
            format!("{} pods Running (waited)", topo.members.len()),
        );
    }
    plan.checks.push(pods);
    let ctx = Ctx {
        exec,
        topo,
        exec_timeout,
        wait,
    };
    if failed(&plan.checks).is_none() {
        let live = live_checks(&ctx).await;
        plan.checks.extend(live);
    }
    if let Some(why) = failed(&plan.checks) {
        plan.refuse(format!("preflight failed: {why}"));
        return Ok(plan);
    }
    let observed = engine::observe(&ctx).await;
    Ok(engine::plan_from(topo, Some(&observed), plan))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::testutil::snapshot;
    use crate::{Options, Topology};

    #[test]
    fn service_checks() {
        let o = Options {
            cluster_domain: "cluster.local".into(),
            ..Default::default()
        };
        let snap = snapshot("mongo.yaml");
        let t = Topology::from_snapshot(&snap, "default", "mongo", &o).unwrap();
        assert_eq!(service_check(&t).status, CheckStatus::Warn);
        let pc = pods_check(&t);
        assert_eq!(pc.status, CheckStatus::Fail, "{pc:?} {:?}", t.members);
        let snap = snapshot("mongo-with-helper.yaml");
        let t = Topology::from_snapshot(&snap, "db", "mongo", &o).unwrap();
        assert_eq!(service_check(&t).status, CheckStatus::Pass);
        let mut t2 = t.clone();
        t2.service_obj = None;
        let c = service_check(&t2);
        assert_eq!(c.status, CheckStatus::Fail);
        assert!(failed(&[c]).unwrap().contains("not found"));
    }
}
