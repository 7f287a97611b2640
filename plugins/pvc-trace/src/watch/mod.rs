//! `--watch`: what a watch follows and the changes between two analyses. Pure: no clock, no
//! I/O (the loop that feeds it is [`follow`]).
//!
//! [`State::of`] takes the facts a watch reports from an analysed trace (the [`Report`]) and
//! the snapshot it was made from (the claims' conditions and the pods' readiness, which the
//! report does not carry): every claim, volume, attachment and pod the trace shows, and every
//! diagnostic by object and code. [`changes`] compares two states and returns the [`Change`]s,
//! in a fixed order: claims, volumes, attachments, pods (each by object), then problems gone,
//! then problems new. Objects the trace does not show are not followed; an object leaving the
//! trace is a change to or from nothing (`null`).

pub mod follow;

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use stateful_core::snapshot::lean::{PersistentVolumeClaim as LeanPvc, Pod as LeanPod};

use crate::graph::Snapshot;
use crate::model::*;
use crate::render::escape_terminal;

/// What a change is about (`type` in the JSON events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum ChangeType {
    /// A claim's phase (`Pending`, `Bound`, `Lost`, `Missing`, `Unknown (…)`; null: not traced).
    ClaimPhase,
    /// A claim is now bound to a volume (`to`), or to another one (`from`).
    Bound,
    /// A claim is no longer bound to the volume `from`.
    Unbound,
    /// A claim's `status.capacity.storage`.
    Capacity,
    /// A claim's resize state: one of its `status.conditions` (`field`: `condition TYPE`,
    /// `from`/`to`: the condition's status, null when absent) or of its
    /// `status.allocatedResourceStatuses` (`field`: `allocatedResourceStatuses RESOURCE`).
    Resize,
    /// A volume's phase (`Available`, `Bound`, `Released`, `Failed`, …; null: not traced).
    VolumePhase,
    /// A VolumeAttachment says attached (`to`: the node).
    Attached,
    /// A VolumeAttachment no longer says attached, or is gone (`from`: the node).
    Detached,
    /// A pod's phase.
    PodPhase,
    /// A pod's `Ready` condition (`True`, `False`; null: not reported).
    PodReady,
    /// A diagnostic (by object and code) that the previous analysis did not have.
    ProblemNew,
    /// A diagnostic (by object and code) that the new analysis no longer has.
    ProblemGone,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::ClaimPhase => "ClaimPhase",
            ChangeType::Bound => "Bound",
            ChangeType::Unbound => "Unbound",
            ChangeType::Capacity => "Capacity",
            ChangeType::Resize => "Resize",
            ChangeType::VolumePhase => "VolumePhase",
            ChangeType::Attached => "Attached",
            ChangeType::Detached => "Detached",
            ChangeType::PodPhase => "PodPhase",
            ChangeType::PodReady => "PodReady",
            ChangeType::ProblemNew => "ProblemNew",
            ChangeType::ProblemGone => "ProblemGone",
        }
    }
}

/// One change between two analyses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    #[serde(rename = "type")]
    pub type_: ChangeType,
    pub object: ObjectRef,
    /// Which part of the object (Resize: `condition TYPE` or `allocatedResourceStatuses R`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Problems: the diagnostic's severity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Problems: the diagnostic's code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// A sentence: the diagnostic's, a condition's message, an attach error…; may be empty.
    pub message: String,
}

/// A claim's condition as a watch compares it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Condition {
    status: String,
    reason: Option<String>,
    message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct ClaimFacts {
    phase: String,
    /// The volume it is bound to (phase Bound).
    bound_to: Option<String>,
    capacity: Option<String>,
    conditions: BTreeMap<String, Condition>,
    allocated: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct VolumeFacts {
    phase: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct AttachmentFacts {
    node: String,
    volume: Option<String>,
    attached: bool,
    error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct PodFacts {
    phase: String,
    ready: Option<String>,
}

/// What a watch follows of one analysis.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct State {
    claims: BTreeMap<ObjectRef, ClaimFacts>,
    volumes: BTreeMap<ObjectRef, VolumeFacts>,
    attachments: BTreeMap<ObjectRef, AttachmentFacts>,
    pods: BTreeMap<ObjectRef, PodFacts>,
    problems: BTreeMap<(ObjectRef, String), Diagnostic>,
}

impl State {
    /// The facts of every claim, volume, attachment and pod `report` shows, read from `report`
    /// and, for claims' conditions and pods' readiness, from `snap` (the snapshot it was traced
    /// from); every diagnostic of `report`.
    pub fn of(snap: &Snapshot, report: &Report) -> State {
        let mut w = Walk {
            pods: snap
                .pods
                .iter()
                .map(|p| {
                    (
                        key(p.metadata.namespace.as_deref(), p.metadata.name.as_deref()),
                        p,
                    )
                })
                .collect(),
            claims: snap
                .pvcs
                .iter()
                .map(|c| {
                    (
                        key(c.metadata.namespace.as_deref(), c.metadata.name.as_deref()),
                        c,
                    )
                })
                .collect(),
            state: State::default(),
        };
        for root in &report.roots {
            w.root(root);
        }
        let mut state = w.state;
        for d in &report.diagnostics {
            state
                .problems
                .entry((d.object.clone(), d.code.clone()))
                .or_insert_with(|| d.clone());
        }
        state
    }
}

fn key<'s>(ns: Option<&'s str>, name: Option<&'s str>) -> (&'s str, &'s str) {
    (ns.unwrap_or(""), name.unwrap_or(""))
}

/// Collects the facts of a report's roots; the snapshot's pods and claims by (namespace, name).
struct Walk<'s> {
    pods: HashMap<(&'s str, &'s str), &'s LeanPod>,
    claims: HashMap<(&'s str, &'s str), &'s LeanPvc>,
    state: State,
}

impl Walk<'_> {
    fn root(&mut self, root: &Root) {
        match root {
            Root::Pod(p) => self.pod(p),
            Root::Claim(c) => self.claim(c),
            Root::Volume(rv) => {
                self.volume(&rv.volume);
                if let Some(c) = &rv.claim {
                    self.claim(c);
                }
                for p in &rv.pods {
                    self.pod_fact(&p.namespace, &p.name, &p.phase);
                }
            }
            Root::Workload(w) => {
                for c in w.expected_claims.iter().filter_map(|e| e.claim.as_ref()) {
                    self.claim(c);
                }
                for c in &w.leftover_claims {
                    self.claim(c);
                }
                for p in &w.pods {
                    self.pod(p);
                }
            }
            Root::StorageClass(v) => {
                for c in &v.claims {
                    self.claim(c);
                }
                for pv in &v.unclaimed_volumes {
                    self.volume(pv);
                }
            }
            Root::Node(n) => {
                for p in &n.pods {
                    self.pod(p);
                }
                for a in &n.attachments {
                    self.attachment(a);
                }
            }
        }
    }

    fn pod(&mut self, p: &PodNode) {
        self.pod_fact(&p.namespace, &p.name, &p.phase);
        for c in p.volumes.iter().filter_map(|v| v.claim.as_ref()) {
            self.claim(c);
        }
    }

    fn pod_fact(&mut self, ns: &str, name: &str, phase: &str) {
        let ready = self
            .pods
            .get(&(ns, name))
            .and_then(|p| p.status.as_ref()?.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
            .map(|c| c.status.clone());
        self.state.pods.insert(
            ObjectRef::new("Pod", Some(ns), name),
            PodFacts {
                phase: phase.to_string(),
                ready,
            },
        );
    }

    fn claim(&mut self, c: &ClaimNode) {
        let status = self
            .claims
            .get(&(c.namespace.as_str(), c.name.as_str()))
            .and_then(|p| p.status.as_ref());
        let conditions = status
            .and_then(|s| s.conditions.as_ref())
            .map(|cs| {
                cs.iter()
                    .map(|c| {
                        (
                            c.type_.clone(),
                            Condition {
                                status: c.status.clone(),
                                reason: c.reason.clone().filter(|r| !r.is_empty()),
                                message: c.message.clone().filter(|m| !m.is_empty()),
                            },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let allocated = status
            .and_then(|s| s.allocated_resource_statuses.as_ref())
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let bound_to = if c.phase == "Bound" {
            c.volume.as_ref().map(|v| v.name.clone())
        } else {
            None
        };
        self.state.claims.insert(
            ObjectRef::new("PersistentVolumeClaim", Some(&c.namespace), &c.name),
            ClaimFacts {
                phase: c.phase.clone(),
                bound_to,
                capacity: c.capacity.clone(),
                conditions,
                allocated,
            },
        );
        if let Some(pv) = &c.volume {
            self.volume(pv);
        }
    }

    fn volume(&mut self, pv: &PvNode) {
        self.state.volumes.insert(
            ObjectRef::new("PersistentVolume", None, &pv.name),
            VolumeFacts {
                phase: pv.phase.clone(),
            },
        );
        for a in &pv.attachments {
            self.attachment(a);
        }
    }

    fn attachment(&mut self, a: &AttachmentNode) {
        self.state.attachments.insert(
            ObjectRef::new("VolumeAttachment", None, &a.name),
            AttachmentFacts {
                node: a.node.clone(),
                volume: a.volume.clone(),
                attached: a.attached,
                error: a.attach_error.clone().or_else(|| a.detach_error.clone()),
            },
        );
    }
}

fn change(type_: ChangeType, object: &ObjectRef, from: Option<&str>, to: Option<&str>) -> Change {
    Change {
        type_,
        object: object.clone(),
        field: None,
        from: from.map(str::to_string),
        to: to.map(str::to_string),
        severity: None,
        code: None,
        message: String::new(),
    }
}

/// Every key of two maps, in order.
fn keys<'a, K: Ord, V>(a: &'a BTreeMap<K, V>, b: &'a BTreeMap<K, V>) -> Vec<&'a K> {
    let mut k: Vec<&K> = a.keys().chain(b.keys()).collect();
    k.sort();
    k.dedup();
    k
}

/// The changes from `prev` to `next`, in a fixed order (see the module's docs). Nothing when
/// nothing a watch follows changed.
pub fn changes(prev: &State, next: &State) -> Vec<Change> {
    let mut out = Vec::new();
    for k in keys(&prev.claims, &next.claims) {
        claim_changes(k, prev.claims.get(k), next.claims.get(k), &mut out);
    }
    for k in keys(&prev.volumes, &next.volumes) {
        let (a, b) = (prev.volumes.get(k), next.volumes.get(k));
        let (pa, pb) = (a.map(|v| v.phase.as_str()), b.map(|v| v.phase.as_str()));
        if pa != pb {
            out.push(change(ChangeType::VolumePhase, k, pa, pb));
        }
    }
    for k in keys(&prev.attachments, &next.attachments) {
        attachment_changes(
            k,
            prev.attachments.get(k),
            next.attachments.get(k),
            &mut out,
        );
    }
    for k in keys(&prev.pods, &next.pods) {
        let (a, b) = (prev.pods.get(k), next.pods.get(k));
        let (pa, pb) = (a.map(|p| p.phase.as_str()), b.map(|p| p.phase.as_str()));
        if pa != pb {
            out.push(change(ChangeType::PodPhase, k, pa, pb));
        }
        let ra = a.and_then(|p| p.ready.as_deref());
        let rb = b.and_then(|p| p.ready.as_deref());
        if ra != rb && b.is_some() {
            out.push(change(ChangeType::PodReady, k, ra, rb));
        }
    }
    for (key, d) in &prev.problems {
        if !next.problems.contains_key(key) {
            out.push(problem(ChangeType::ProblemGone, d));
        }
    }
    for (key, d) in &next.problems {
        if !prev.problems.contains_key(key) {
            out.push(problem(ChangeType::ProblemNew, d));
        }
    }
    out
}

/// `--problems`: the changes without the problem lines below `min` (every change when None).
pub fn problems_at_least(mut cs: Vec<Change>, min: Option<Severity>) -> Vec<Change> {
    if let Some(min) = min {
        cs.retain(|c| c.severity.is_none_or(|s| s >= min));
    }
    cs
}

fn problem(type_: ChangeType, d: &Diagnostic) -> Change {
    Change {
        severity: Some(d.severity),
        code: Some(d.code.clone()),
        message: d.message.clone(),
        ..change(type_, &d.object, None, None)
    }
}

fn claim_changes(
    k: &ObjectRef,
    a: Option<&ClaimFacts>,
    b: Option<&ClaimFacts>,
    out: &mut Vec<Change>,
) {
    let (pa, pb) = (a.map(|c| c.phase.as_str()), b.map(|c| c.phase.as_str()));
    if pa != pb {
        out.push(change(ChangeType::ClaimPhase, k, pa, pb));
    }
    let ba = a.and_then(|c| c.bound_to.as_deref());
    let bb = b.and_then(|c| c.bound_to.as_deref());
    match (ba, bb) {
        (x, y) if x == y => {}
        (_, Some(_)) => out.push(change(ChangeType::Bound, k, ba, bb)),
        (Some(_), None) => out.push(change(ChangeType::Unbound, k, ba, None)),
        (None, None) => {}
    }
    // A claim leaving the trace says only that (ClaimPhase to null), not each of its parts.
    let Some(b) = b else { return };
    let empty = ClaimFacts::default();
    let a = a.unwrap_or(&empty);
    // A capacity first reported (at binding) is no change of size.
    if a.capacity.is_some() && a.capacity != b.capacity {
        out.push(change(
            ChangeType::Capacity,
            k,
            a.capacity.as_deref(),
            b.capacity.as_deref(),
        ));
    }
    for t in keys(&a.conditions, &b.conditions) {
        let (ca, cb) = (a.conditions.get(t), b.conditions.get(t));
        if ca == cb {
            continue;
        }
        let detail = cb.or(ca);
        let message = detail
            .map(|c| {
                [c.reason.as_deref(), c.message.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(": ")
            })
            .unwrap_or_default();
        out.push(Change {
            field: Some(format!("condition {t}")),
            message,
            ..change(
                ChangeType::Resize,
                k,
                ca.map(|c| c.status.as_str()),
                cb.map(|c| c.status.as_str()),
            )
        });
    }
    for r in keys(&a.allocated, &b.allocated) {
        let (va, vb) = (a.allocated.get(r), b.allocated.get(r));
        if va != vb {
            out.push(Change {
                field: Some(format!("allocatedResourceStatuses {r}")),
                ..change(
                    ChangeType::Resize,
                    k,
                    va.map(String::as_str),
                    vb.map(String::as_str),
                )
            });
        }
    }
}

fn attachment_changes(
    k: &ObjectRef,
    a: Option<&AttachmentFacts>,
    b: Option<&AttachmentFacts>,
    out: &mut Vec<Change>,
) {
    let was = a.filter(|a| a.attached);
    let is = b.filter(|b| b.attached);
    let message = |f: &AttachmentFacts| {
        let mut m = match &f.volume {
            Some(pv) => format!("volume {pv} on node {}", f.node),
            None => format!("node {}", f.node),
        };
        if let Some(e) = &f.error {
            m.push_str(&format!(": {e}"));
        }
        m
    };
    match (was, is) {
        (None, Some(n)) => out.push(Change {
            message: message(n),
            ..change(ChangeType::Attached, k, None, Some(&n.node))
        }),
        (Some(o), None) => out.push(Change {
            message: b.map_or_else(|| message(o), message),
            ..change(ChangeType::Detached, k, Some(&o.node), None)
        }),
        _ => {}
    }
}

/// A change as one JSON line (no newline): `time` first, then the change's fields.
pub fn json_line(time: &str, c: &Change) -> String {
    #[derive(Serialize)]
    struct Line<'a> {
        time: &'a str,
        #[serde(flatten)]
        change: &'a Change,
    }
    // Strings, an enum and an Option<Severity>: serialising cannot fail; say so if it did.
    serde_json::to_string(&Line { time, change: c })
        .unwrap_or_else(|e| format!("{{\"time\":{time:?},\"error\":{:?}}}", e.to_string()))
}

/// A change as one human line (no newline), every string from the cluster escaped:
/// `TIME  TYPE  OBJECT  DETAIL`.
pub fn human_line(time: &str, c: &Change) -> String {
    let esc = |s: &str| escape_terminal(s, true).into_owned();
    let or_none = |s: &Option<String>| s.as_deref().map_or_else(|| "(none)".into(), esc);
    let detail = match c.type_ {
        ChangeType::Bound => match &c.from {
            Some(f) => format!("rebound from pv/{} to pv/{}", esc(f), or_none(&c.to)),
            None => format!("bound to pv/{}", or_none(&c.to)),
        },
        ChangeType::Unbound => format!("no longer bound to pv/{}", or_none(&c.from)),
        ChangeType::Attached => format!("attached: {}", esc(&c.message)),
        ChangeType::Detached => format!("detached: {}", esc(&c.message)),
        ChangeType::ProblemNew | ChangeType::ProblemGone => {
            let sev = c.severity.map(|s| s.to_string()).unwrap_or_default();
            let gone = if c.type_ == ChangeType::ProblemGone {
                "gone: "
            } else {
                ""
            };
            format!(
                "{gone}{sev} {}: {}",
                esc(c.code.as_deref().unwrap_or("")),
                esc(&c.message)
            )
        }
        _ => {
            let field = c
                .field
                .as_deref()
                .map(|f| format!("{}: ", esc(f)))
                .unwrap_or_default();
            let msg = if c.message.is_empty() {
                String::new()
            } else {
                format!(" ({})", esc(&c.message))
            };
            format!("{field}{} → {}{msg}", or_none(&c.from), or_none(&c.to))
        }
    };
    let obj = ObjectRef {
        kind: c.object.kind.clone(),
        namespace: c.object.namespace.as_deref().map(esc),
        name: esc(&c.object.name),
    };
    format!("{time}  {:<11}  {obj}  {detail}", c.type_.as_str())
}

#[cfg(test)]
mod tests;
