//! Small readers of the snapshot's objects, shared by the graph and the diagnosis: names and
//! references, phases, storage quantities, a claim's class and access modes, and node
//! affinity (does a node satisfy a term, how a term reads).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{NodeSelectorRequirement, NodeSelectorTerm};
use stateful_core::snapshot::lean::{
    MetaView, PersistentVolume, PersistentVolumeClaim, Pod, SmallMap,
};

use crate::backend::ZONE_LABELS;
use crate::model::ObjectRef;

pub(crate) fn meta_name<M: MetaView>(m: &M) -> &str {
    m.name().unwrap_or("")
}

pub(crate) fn meta_ns<M: MetaView>(m: &M) -> &str {
    m.namespace().unwrap_or("")
}

pub(crate) fn pod_ref(p: &Pod) -> ObjectRef {
    ObjectRef::new("Pod", Some(meta_ns(&p.metadata)), meta_name(&p.metadata))
}

pub(crate) fn claim_ref(ns: &str, name: &str) -> ObjectRef {
    ObjectRef::new("PersistentVolumeClaim", Some(ns), name)
}

pub(crate) fn pv_ref(name: &str) -> ObjectRef {
    ObjectRef::new("PersistentVolume", None, name)
}

pub(crate) fn storage_of(
    map: Option<&SmallMap<k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
) -> Option<String> {
    map.and_then(|m| m.get("storage")).map(|q| q.0.clone())
}

pub(crate) fn pod_phase(p: &Pod) -> String {
    if p.metadata.deletion_timestamp.is_some() {
        return "Terminating".into();
    }
    p.status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| NOT_REPORTED.into())
}

/// The phase of an object with no `status` (a manifest, or an object not yet acted on): the
/// controller has not reported one, which is not `Pending`.
pub(crate) const NOT_REPORTED: &str = "NotReported";

/// Is the pod active (would hold its volumes)?
pub(crate) fn pod_active(p: &Pod) -> bool {
    !matches!(pod_phase(p).as_str(), "Succeeded" | "Failed")
}

pub(crate) fn node_zone(labels: Option<&BTreeMap<String, String>>) -> Option<String> {
    let l = labels?;
    ZONE_LABELS.iter().find_map(|k| l.get(*k).cloned())
}

pub(crate) fn requirement_matches(
    r: &NodeSelectorRequirement,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    let v = labels.and_then(|l| l.get(&r.key));
    let vals = r.values.as_deref().unwrap_or(&[]);
    match r.operator.as_str() {
        "In" => v.is_some_and(|v| vals.contains(v)),
        "NotIn" => v.is_none_or(|v| !vals.contains(v)),
        "Exists" => v.is_some(),
        "DoesNotExist" => v.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(bound)) = (
                v.and_then(|v| v.parse::<i64>().ok()),
                vals.first().and_then(|b| b.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if r.operator == "Gt" {
                v > bound
            } else {
                v < bound
            }
        }
        _ => false,
    }
}

/// Does a node (name + labels) satisfy one node selector term?
pub(crate) fn term_matches(
    t: &NodeSelectorTerm,
    name: &str,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    let exprs_ok = t
        .match_expressions
        .iter()
        .flatten()
        .all(|r| requirement_matches(r, labels));
    let fields_ok = t.match_fields.iter().flatten().all(|r| {
        let mut l = BTreeMap::new();
        l.insert("metadata.name".to_string(), name.to_string());
        requirement_matches(r, Some(&l))
    });
    exprs_ok && fields_ok
}

pub(crate) fn pv_terms(pv: &PersistentVolume) -> &[NodeSelectorTerm] {
    pv.spec
        .as_ref()
        .and_then(|s| s.node_affinity.as_ref())
        .and_then(|a| a.required.as_ref())
        .map(|r| r.node_selector_terms.as_slice())
        .unwrap_or(&[])
}

pub(crate) fn describe_term(t: &NodeSelectorTerm) -> String {
    let mut parts = Vec::new();
    for r in t
        .match_expressions
        .iter()
        .flatten()
        .chain(t.match_fields.iter().flatten())
    {
        let vals = r.values.clone().unwrap_or_default().join(",");
        parts.push(match r.operator.as_str() {
            "In" => format!("{} in ({vals})", r.key),
            "NotIn" => format!("{} notin ({vals})", r.key),
            "Exists" => r.key.clone(),
            "DoesNotExist" => format!("!{}", r.key),
            op => format!("{} {op} {vals}", r.key),
        });
    }
    parts.join(", ")
}

/// The class a claim names: its `storageClassName`, else the beta annotation that Kubernetes
/// still honours in its place. None: the default class applies.
/// The class a claim names, as the PV controller reads it (`GetPersistentVolumeClaimClass`): the
/// beta annotation wins over `spec.storageClassName`; None when neither is set.
pub(crate) fn explicit_class(c: &PersistentVolumeClaim) -> Option<&str> {
    c.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(BETA_CLASS))
        .map(String::as_str)
        .or_else(|| {
            c.spec
                .as_ref()
                .and_then(|s| s.storage_class_name.as_deref())
        })
}

const BETA_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

/// The class of a volume, as the PV controller reads it (`GetPersistentVolumeClass`): the beta
/// annotation, else `spec.storageClassName`, else "".
pub(crate) fn pv_class(pv: &PersistentVolume) -> &str {
    pv.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(BETA_CLASS))
        .map(String::as_str)
        .or_else(|| {
            pv.spec
                .as_ref()
                .and_then(|s| s.storage_class_name.as_deref())
        })
        .unwrap_or("")
}

pub(crate) fn has_mode(modes: &[String], m: &str) -> bool {
    modes.iter().any(|x| x == m)
}
