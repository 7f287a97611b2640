//! Preflight checks: the pure ones (from the snapshot) live here; the live ones (exec
//! permission, DNS from pod 0, engine binary) are run by [`crate::apply`] and reported as the
//! same [`Check`] type.

use crate::{Check, CheckStatus, Topology};

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
