//! Scheduling: a volume whose node affinity no node satisfies, a pod running on a node its
//! volumes' affinity excludes, and a pod the scheduler cannot place because of its volumes.

use std::collections::BTreeSet;

use stateful_core::snapshot::Kind;
use stateful_core::snapshot::lean::{PersistentVolume, Pod};

use super::{Diagnoser, EventKey};
use crate::index::volume_claim_name;
use crate::model::{ObjectRef, Severity};
use crate::objects::{describe_term, meta_name, meta_ns, node_zone, pv_terms, term_matches};

impl Diagnoser<'_, '_> {
    /// Node affinity that no node satisfies (volume `name`).
    pub(super) fn volume_affinity(&mut self, pv: &PersistentVolume, r: &ObjectRef, name: &str) {
        let terms = pv_terms(pv);
        if !terms.is_empty() && self.snap.is_complete(Kind::Node) && !self.snap.nodes.is_empty() {
            let ok = self.snap.nodes.iter().any(|n| {
                terms
                    .iter()
                    .any(|t| term_matches(t, meta_name(&n.metadata), n.metadata.labels.as_ref()))
            });
            if !ok {
                let zones: BTreeSet<String> = self
                    .snap
                    .nodes
                    .iter()
                    .filter_map(|n| node_zone(n.metadata.labels.as_ref()))
                    .collect();
                self.diag(
                    Severity::Error,
                    "NoNodeMatchesVolume",
                    r.clone(),
                    format!(
                        "volume {name} requires nodes with {} but no node matches (zones in the cluster: {}): pods using it can never be scheduled",
                        terms.iter().map(describe_term).collect::<Vec<_>>().join(" or "),
                        if zones.is_empty() { "none labelled".into() } else { zones.into_iter().collect::<Vec<_>>().join(", ") }
                    ),
                );
            }
        }
    }

    /// A pod the scheduler cannot place, when its message is about volumes.
    pub(super) fn pod_unschedulable(&mut self, p: &Pod, pr: &ObjectRef) {
        let name = meta_name(&p.metadata);
        if let Some(cond) = p
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| {
                cs.iter()
                    .find(|c| c.type_ == "PodScheduled" && c.status == "False")
            })
        {
            let msg = cond.message.clone().unwrap_or_default();
            let lower = msg.to_lowercase();
            if lower.contains("volume")
                || lower.contains("persistentvolumeclaim")
                || lower.contains("pvc")
            {
                self.diag(
                    Severity::Error,
                    "PodUnschedulable",
                    pr.clone(),
                    format!("pod {name} cannot be scheduled: {msg}"),
                );
            }
            return;
        }
        // No condition (a dump of events, or a manifest): the scheduler's event says it.
        let scheduled = p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some();
        if !scheduled
            && let Some(ev) =
                self.latest_event(&EventKey::of("Pod", &p.metadata), &["FailedScheduling"])
        {
            let msg = ev.message.clone().unwrap_or_default();
            let lower = msg.to_lowercase();
            if lower.contains("volume")
                || lower.contains("persistentvolumeclaim")
                || lower.contains("pvc")
            {
                self.diag(
                    Severity::Error,
                    "PodUnschedulable",
                    pr.clone(),
                    format!("pod {name} cannot be scheduled: {}", msg.trim()),
                );
            }
        }
    }

    /// The node the pod runs on against its volumes' node affinity.
    pub(super) fn pod_node_affinity(&mut self, p: &Pod) {
        let name = meta_name(&p.metadata);
        let ns = meta_ns(&p.metadata);
        let Some(nn) = p.spec.as_ref().and_then(|s| s.node_name.as_deref()) else {
            return;
        };
        let Some(nobj) = self.idx.nodes.get(nn).copied() else {
            return;
        };
        for v in p.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
            let Some(cn) = volume_claim_name(p, v) else {
                continue;
            };
            let Some(pvname) = self
                .idx
                .pvcs
                .get(&(ns, cn.as_str()))
                .and_then(|c| c.spec.as_ref())
                .and_then(|s| s.volume_name.as_deref())
            else {
                continue;
            };
            let Some(pv) = self.idx.pvs.get(pvname).copied() else {
                continue;
            };
            let terms = pv_terms(pv);
            if !terms.is_empty()
                && !terms
                    .iter()
                    .any(|t| term_matches(t, nn, nobj.metadata.labels.as_ref()))
            {
                // On the volume: the row of that volume, not every volume of the pod.
                self.diag(
                    Severity::Error,
                    "NodeAffinityConflict",
                    crate::objects::pv_ref(pvname),
                    format!(
                        "pod {name} is on node {nn}{} but volume {pvname} (claim {cn}) requires {}: it cannot be mounted there",
                        node_zone(nobj.metadata.labels.as_ref()).map(|z| format!(" (zone {z})")).unwrap_or_default(),
                        terms.iter().map(describe_term).collect::<Vec<_>>().join(" or ")
                    ),
                );
            }
        }
    }
}
