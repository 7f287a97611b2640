//! Topology: the node and zone a PV is pinned to, from `spec.nodeAffinity`, the legacy
//! `volume.alpha.kubernetes.io/node-affinity` annotation and the zone labels.

use k8s_openapi::api::core::v1::{NodeAffinity, NodeSelector};
use stateful_core::snapshot::lean::PersistentVolume;

use super::{ALPHA_NODE_AFFINITY_ANNOTATION, ZONE_LABELS};

/// The node and zone constraints of a PV, as found in its required node affinity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topology {
    /// `(key, values)` of every `In` requirement (and `matchFields` `metadata.name`), in order.
    pub requirements: Vec<(String, Vec<String>)>,
    /// Zones named by the PV's zone labels (used only when the affinity names none).
    pub label_zones: Vec<String>,
}

impl Topology {
    /// Collect the topology of a PV from `spec.nodeAffinity.required`, the legacy alpha
    /// annotation and the zone labels.
    pub fn from_pv(pv: &PersistentVolume) -> Self {
        let mut t = Topology::default();
        if let Some(required) = pv
            .spec
            .as_ref()
            .and_then(|s| s.node_affinity.as_ref())
            .and_then(|a| a.required.as_ref())
        {
            t.add_selector(required);
        }
        let annotations = pv.metadata.annotations.as_ref();
        if let Some(raw) = annotations.and_then(|a| a.get(ALPHA_NODE_AFFINITY_ANNOTATION))
            && let Ok(affinity) = serde_json::from_str::<NodeAffinity>(raw)
            && let Some(required) = &affinity.required_during_scheduling_ignored_during_execution
        {
            t.add_selector(required);
        }
        if let Some(labels) = pv.metadata.labels.as_ref() {
            for key in ZONE_LABELS {
                if let Some(value) = labels.get(key) {
                    for z in value.split("__").map(str::trim).filter(|z| !z.is_empty()) {
                        push_unique(&mut t.label_zones, z);
                    }
                }
            }
        }
        t
    }

    fn add_selector(&mut self, selector: &NodeSelector) {
        for term in &selector.node_selector_terms {
            for req in term.match_expressions.iter().flatten() {
                if req.operator == "In" {
                    self.add(&req.key, req.values.iter().flatten());
                }
            }
            for req in term.match_fields.iter().flatten() {
                if req.operator == "In" && req.key == "metadata.name" {
                    self.add(&req.key, req.values.iter().flatten());
                }
            }
        }
    }

    fn add<'a>(&mut self, key: &str, values: impl Iterator<Item = &'a String>) {
        let values: Vec<&str> = values.map(|v| v.trim()).filter(|v| !v.is_empty()).collect();
        if values.is_empty() {
            return;
        }
        let idx = match self.requirements.iter().position(|(k, _)| k == key) {
            Some(i) => i,
            None => {
                self.requirements.push((key.to_string(), Vec::new()));
                self.requirements.len() - 1
            }
        };
        if let Some((_, existing)) = self.requirements.get_mut(idx) {
            for v in values {
                push_unique(existing, v);
            }
        }
    }

    /// Every value of the requirements whose key passes `pred`, de-duplicated, in order.
    pub fn values_where(&self, pred: impl Fn(&str) -> bool) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for (key, values) in &self.requirements {
            if pred(key) {
                for v in values {
                    if !out.contains(&v.as_str()) {
                        out.push(v);
                    }
                }
            }
        }
        out
    }

    /// Every node the PV is pinned to.
    pub fn nodes(&self) -> Vec<&str> {
        self.values_where(is_node_key)
    }

    /// Every zone the PV is constrained to (affinity first, else the zone labels).
    pub fn zones(&self) -> Vec<&str> {
        let zones = self.values_where(is_zone_key);
        if zones.is_empty() {
            self.label_zones.iter().map(String::as_str).collect()
        } else {
            zones
        }
    }

    /// The node, when exactly one is named.
    pub fn node(&self) -> Option<&str> {
        single(self.nodes())
    }

    /// The zone, when exactly one is named.
    pub fn zone(&self) -> Option<&str> {
        single(self.zones())
    }
}

/// Node-affinity keys that name a node: `kubernetes.io/hostname`, driver keys such as
/// `topology.hostpath.csi/node`, `topology.topolvm.io/node`, `openebs.io/nodename`, and the
/// `metadata.name` match field.
pub fn is_node_key(key: &str) -> bool {
    key == "metadata.name"
        || key.ends_with("/hostname")
        || key.ends_with("/node")
        || key.ends_with("/nodename")
        || key.ends_with("/nodeid")
}

/// Node-affinity keys that name a zone: `topology.kubernetes.io/zone`,
/// `failure-domain.beta.kubernetes.io/zone`, `topology.ebs.csi.aws.com/zone`,
/// `topology.gke.io/zone`, `topology.disk.csi.azure.com/zone`, … (any `…/zone`).
pub fn is_zone_key(key: &str) -> bool {
    key.ends_with("/zone")
}

fn single(values: Vec<&str>) -> Option<&str> {
    match values.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

fn push_unique(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|v| v == value) {
        list.push(value.to_string());
    }
}
