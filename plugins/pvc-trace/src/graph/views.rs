//! The wider roots: a StatefulSet (the claims it expects per template and ordinal, and those
//! left from a scale-down), a Deployment (the claims its replicas share), a StorageClass and
//! a Node.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use stateful_core::snapshot::Kind;
use stateful_core::snapshot::lean::{PersistentVolume, PersistentVolumeClaim, Pod};
use stateful_core::workloads::{ordinal_in, ordinal_range};

use super::Builder;
use super::nodes::{attachment_node, class_node_of, has_data_volume};
use crate::model::*;
use crate::objects::{meta_name, meta_ns, node_zone, pv_terms, term_matches};

impl<'a> Builder<'a> {
    /// A StatefulSet: one expected claim per template and ordinal, the claims left from a
    /// scale-down, and its pods.
    pub(super) fn statefulset(&mut self, s: &'a StatefulSet) -> WorkloadNode {
        let ns = meta_ns(&s.metadata).to_string();
        let name = meta_name(&s.metadata).to_string();
        let spec = s.spec.as_ref();
        let replicas = spec.and_then(|s| s.replicas).unwrap_or(1);
        let start = spec
            .and_then(|s| s.ordinals.as_ref())
            .and_then(|o| o.start)
            .unwrap_or(0);
        let selector =
            spec.map(|s| stateful_core::labels::Selector::from_label_selector(&s.selector));
        let templates: Vec<String> = spec
            .and_then(|s| s.volume_claim_templates.as_ref())
            .map(|v| {
                v.iter()
                    .map(|t| meta_name(&t.metadata).to_string())
                    .collect()
            })
            .unwrap_or_default();
        let sts_uid = s.metadata.uid.clone();
        let mut expected = Vec::new();
        // At most MAX_ORDINALS ordinals one by one (replicas may be any int32); above that,
        // only the claims that exist are shown, and a diagnostic says so.
        let (ordinals, capped) = ordinal_range(start, replicas);
        if capped {
            self.diagnose()
                .ordinals_capped(&ns, &name, replicas, ordinals.end);
        }
        for t in &templates {
            for ord in ordinals.clone() {
                let cname = format!("{t}-{name}-{ord}");
                let present = self.idx.pvcs.contains_key(&(ns.as_str(), cname.as_str()));
                let claim = present.then(|| self.claim_node(&ns, &cname));
                if !present {
                    self.diagnose()
                        .expected_claim_missing(&ns, &name, t, ord, &cname);
                }
                expected.push(ExpectedClaim {
                    template: t.clone(),
                    ordinal: ord,
                    name: cname,
                    present,
                    claim,
                });
            }
        }
        // Claims of this set beyond the current replicas: name `<t>-<sts>-<n>` with a numeric
        // ordinal outside the range AND owned by the set or carrying its selector labels.
        // Claims inside the range but past the enumeration cap are expected claims found here.
        let mut leftovers: Vec<&PersistentVolumeClaim> = Vec::new();
        let mut beyond_cap: Vec<(&str, i32, &str)> = Vec::new();
        for c in self.snap.pvcs.iter().filter(|c| meta_ns(&c.metadata) == ns) {
            let cname = meta_name(&c.metadata);
            let Some((t, ord)) = templates.iter().find_map(|t| {
                cname
                    .strip_prefix(&format!("{t}-{name}-"))
                    .and_then(|o| o.parse::<i32>().ok())
                    .filter(|o| !o.to_string().is_empty())
                    .map(|o| (t.as_str(), o))
            }) else {
                continue;
            };
            if ordinal_in(start, replicas, ord) {
                if !ordinals.contains(&ord) {
                    beyond_cap.push((t, ord, cname));
                }
                continue;
            }
            let owned = c.metadata.owner_references.iter().flatten().any(|o| {
                o.kind == "StatefulSet" && (Some(&o.uid) == sts_uid.as_ref() || o.name == name)
            });
            let labelled = selector
                .as_ref()
                .is_some_and(|sel| !sel.is_empty() && sel.matches(c.metadata.labels.as_ref()));
            if owned || labelled {
                leftovers.push(c);
            }
        }
        beyond_cap.sort_by_key(|&(t, ord, _)| (t, ord));
        for (t, ord, cname) in beyond_cap {
            let claim = Some(self.claim_node(&ns, cname));
            expected.push(ExpectedClaim {
                template: t.to_string(),
                ordinal: ord,
                name: cname.to_string(),
                present: true,
                claim,
            });
        }
        leftovers.sort_by_key(|c| meta_name(&c.metadata));
        let mut leftover_claims = Vec::new();
        for c in leftovers {
            let cname = meta_name(&c.metadata);
            self.diagnose().leftover_claim(&ns, &name, replicas, cname);
            leftover_claims.push(self.claim_node(&ns, cname));
        }
        let pods = self.workload_pods(&ns, |o| o.kind == "StatefulSet" && o.name == name);
        WorkloadNode {
            kind: "StatefulSet".into(),
            name,
            namespace: ns,
            replicas,
            expected_claims: expected,
            leftover_claims,
            pods,
        }
    }

    /// A Deployment: its pods, and the claims of its pod template (shared by every replica).
    pub(super) fn deployment(&mut self, d: &'a Deployment) -> WorkloadNode {
        let ns = meta_ns(&d.metadata).to_string();
        let name = meta_name(&d.metadata).to_string();
        let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let dep_ref = ObjectRef::new("Deployment", Some(&ns), &name);
        let pods = {
            let snap = self.snap;
            let mut ps: Vec<&'a Pod> = snap
                .pods
                .iter()
                .filter(|p| {
                    meta_ns(&p.metadata) == ns
                        && self.owner_of(&p.metadata).as_ref() == Some(&dep_ref)
                })
                .collect();
            ps.sort_by_key(|p| meta_name(&p.metadata));
            ps.into_iter().map(|p| self.pod_node(p)).collect()
        };
        // Claims named in the pod template: every replica shares them.
        let mut expected = Vec::new();
        let tmpl_claims: Vec<String> = d
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .map(|ps| {
                ps.volumes
                    .iter()
                    .flatten()
                    .filter_map(|v| {
                        v.persistent_volume_claim
                            .as_ref()
                            .map(|c| c.claim_name.clone())
                    })
                    .collect()
            })
            .unwrap_or_default();
        for cname in tmpl_claims {
            let present = self.idx.pvcs.contains_key(&(ns.as_str(), cname.as_str()));
            let claim = self.claim_node(&ns, &cname);
            self.diagnose()
                .shared_claim(&ns, &name, replicas, &cname, &claim.access_modes);
            expected.push(ExpectedClaim {
                template: String::new(),
                ordinal: -1,
                name: cname,
                present,
                claim: Some(claim),
            });
        }
        WorkloadNode {
            kind: "Deployment".into(),
            name,
            namespace: ns,
            replicas,
            expected_claims: expected,
            leftover_claims: vec![],
            pods,
        }
    }

    /// The pods in `ns` with an owner reference that `owned` accepts, by name.
    fn workload_pods(&mut self, ns: &str, owned: impl Fn(&OwnerReference) -> bool) -> Vec<PodNode> {
        let snap = self.snap;
        let mut ps: Vec<&'a Pod> = snap
            .pods
            .iter()
            .filter(|p| {
                meta_ns(&p.metadata) == ns
                    && p.metadata.owner_references.iter().flatten().any(&owned)
            })
            .collect();
        ps.sort_by_key(|p| meta_name(&p.metadata));
        ps.into_iter().map(|p| self.pod_node(p)).collect()
    }

    /// A StorageClass: its claims, and its volumes with no live claim.
    pub(super) fn class_view(&mut self, sc: &'a StorageClass) -> ClassView {
        let name = meta_name(&sc.metadata).to_string();
        let snap = self.snap;
        let mut claims: Vec<&PersistentVolumeClaim> = snap
            .pvcs
            .iter()
            .filter(|c| self.claim_class(c).as_deref() == Some(name.as_str()))
            .collect();
        claims.sort_by_key(|c| (meta_ns(&c.metadata), meta_name(&c.metadata)));
        let claims = claims
            .into_iter()
            .map(|c| self.claim_node(meta_ns(&c.metadata), meta_name(&c.metadata)))
            .collect();
        let mut pvs: Vec<&PersistentVolume> = snap
            .pvs
            .iter()
            .filter(|pv| {
                pv.spec
                    .as_ref()
                    .and_then(|s| s.storage_class_name.as_deref())
                    == Some(name.as_str())
            })
            .filter(|pv| !self.has_live_claim(pv))
            .collect();
        pvs.sort_by_key(|pv| meta_name(&pv.metadata));
        ClassView {
            class: class_node_of(sc),
            claims,
            unclaimed_volumes: pvs.into_iter().map(|pv| self.pv_node(pv)).collect(),
        }
    }

    /// A Node: the pods on it with data volumes, its attachments, the volumes pinned to it.
    pub(super) fn node_view(&mut self, name: &str) -> NodeView {
        let snap = self.snap;
        let node = self.idx.nodes.get(name).copied();
        let mut ps: Vec<&'a Pod> = snap
            .pods
            .iter()
            .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(name))
            .filter(|p| has_data_volume(p))
            .collect();
        ps.sort_by_key(|p| (meta_ns(&p.metadata), meta_name(&p.metadata)));
        let pods = ps.into_iter().map(|p| self.pod_node(p)).collect();
        let attachments = snap
            .volume_attachments
            .iter()
            .filter(|va| va.spec.node_name == name)
            .map(|va| {
                self.diagnose().attachment(va);
                attachment_node(va)
            })
            .collect();
        let labels = node.and_then(|n| n.metadata.labels.as_ref());
        let mut pinned: Vec<String> = snap
            .pvs
            .iter()
            .filter(|pv| {
                let terms = pv_terms(pv);
                !terms.is_empty()
                    && terms.iter().any(|t| term_matches(t, name, labels))
                    && terms.iter().all(|t| {
                        t.match_expressions
                            .iter()
                            .flatten()
                            .any(|r| r.key == "kubernetes.io/hostname")
                            || t.match_fields
                                .iter()
                                .flatten()
                                .any(|r| r.key == "metadata.name")
                    })
            })
            .map(|pv| meta_name(&pv.metadata).to_string())
            .collect();
        pinned.sort();
        NodeView {
            name: name.to_string(),
            zone: node.and_then(|n| node_zone(n.metadata.labels.as_ref())),
            exists: node.is_some(),
            unknown: if node.is_some() {
                None
            } else {
                self.snap.unknown_reason_of(Kind::Node, None, name)
            },
            pods,
            attachments,
            pinned_volumes: pinned,
        }
    }
}
