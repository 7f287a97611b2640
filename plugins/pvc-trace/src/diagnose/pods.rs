//! Pods: the claims a pod mounts that do not exist, its scheduling (`scheduling`), and the
//! mount and attach failures the kubelet or the attach-detach controller reported.

use stateful_core::snapshot::Kind;
use stateful_core::snapshot::lean::Pod;

use super::{Diagnoser, EventKey};
use crate::index::volume_claim_name;
use crate::model::{ObjectRef, Severity};
use crate::objects::{claim_ref, meta_name, meta_ns, pod_ref};

impl Diagnoser<'_, '_> {
    /// A pod, once (later calls for the same pod do nothing).
    pub(crate) fn pod(&mut self, p: &Pod) {
        let pr = pod_ref(p);
        if !self.found.first_visit(&pr) {
            return;
        }
        self.missing_claims(p);
        self.pod_unschedulable(p, &pr);
        self.pod_node_affinity(p);
        self.mount_failed(p, &pr);
    }

    /// Claims the pod needs that do not exist.
    fn missing_claims(&mut self, p: &Pod) {
        let name = meta_name(&p.metadata);
        let ns = meta_ns(&p.metadata);
        for v in p.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
            if let Some(cn) = volume_claim_name(p, v)
                && !self.idx.pvcs.contains_key(&(ns, cn.as_str()))
            {
                if !self.snap.covers(Kind::PersistentVolumeClaim, Some(ns), &cn) {
                    self.not_in_data(Kind::PersistentVolumeClaim, Some(ns), &cn);
                    continue;
                }
                let (sev, msg) = if v.ephemeral.is_some() {
                    (
                        Severity::Warning,
                        format!(
                            "pod {name}: ephemeral volume {} has no claim {cn} yet (the ephemeral volume controller creates it)",
                            v.name
                        ),
                    )
                } else {
                    (
                        Severity::Error,
                        format!(
                            "pod {name} mounts claim {cn}, which does not exist: the pod stays Pending until it is created"
                        ),
                    )
                };
                self.diag(sev, "ClaimMissing", claim_ref(ns, &cn), msg);
            }
        }
    }

    /// Mount/attach failures reported by the kubelet or attach-detach controller.
    fn mount_failed(&mut self, p: &Pod, pr: &ObjectRef) {
        let ready = p
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        if !ready
            && let Some(ev) = self.latest_event(
                &EventKey::of("Pod", &p.metadata),
                &["FailedMount", "FailedAttachVolume", "FailedMapVolume"],
            )
        {
            self.diag(
                Severity::Error,
                "MountFailed",
                pr.clone(),
                format!(
                    "pod {}: {} {}",
                    meta_name(&p.metadata),
                    ev.reason.clone().unwrap_or_default(),
                    ev.message.clone().unwrap_or_default().trim()
                ),
            );
        }
    }
}
