//! The fetch plan of a question: which requests a trace needs, derived from its targets and
//! from what the requests before have brought back, stage by stage, so that one pod in a big
//! cluster costs a handful of requests rather than LISTs of every kind.
//!
//! [`next`] is pure: given the question and the snapshot so far, it returns the next stage's
//! requests (empty when the snapshot holds everything the trace will look at). Each stage
//! follows the references the last one brought: a pod's claims, node and ReplicaSet; a claim's
//! volume and class; a volume's claim and class. LISTs are made where the question is "every
//! object of a kind in a scope": the pods of a namespace (who else mounts a claim), its events,
//! the VolumeAttachments (no field selector finds them by volume), and for a Pending claim
//! every volume and class (what could bind it). More than [`CROSSOVER`] objects of one kind
//! in one namespace become one LIST. The trace of a planned snapshot is the trace of the
//! whole LISTs (the tests check it on every corpus case): objects looked up and not found are
//! missing, objects nothing looked up are not needed.

use std::collections::{BTreeMap, BTreeSet};

use stateful_core::snapshot::lean::{MetaView, PersistentVolume, PersistentVolumeClaim, Pod};
use stateful_core::snapshot::{Fields, Kind, Planned, Request, Scope};

use crate::index::{Snapshot, volume_claim_name};
use crate::objects::{explicit_class, meta_name, meta_ns, pv_terms, term_matches};
use crate::target::Target;

/// Above this many objects of one kind in one namespace (or of a cluster-scoped kind), one
/// LIST replaces the GETs.
pub const CROSSOVER: usize = 16;

/// How a question is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// By a plan: only what the targets reach.
    Plan,
    /// LIST every kind the trace reads, in scope (what every `-A` question needs anyway).
    All,
}

/// Whether a question can be planned: named targets, none of them a StorageClass (whose view
/// is every claim and volume of the class), no `-l`, and a cluster-scoped target only when no
/// namespace narrows the scope (its claims and pods may be anywhere); or no target in one
/// namespace.
pub fn strategy(targets: &[Target], scope: &Scope) -> Strategy {
    if scope.pod_selector.is_some() {
        return Strategy::All;
    }
    if targets.is_empty() {
        return if scope.namespace.is_some() {
            Strategy::Plan
        } else {
            Strategy::All
        };
    }
    let ok = targets.iter().all(|t| match t {
        Target::StorageClass(_) => false,
        Target::Volume(_) | Target::Node(_) => scope.namespace.is_none(),
        _ => scope.namespace.is_some(),
    });
    if ok { Strategy::Plan } else { Strategy::All }
}

/// The requests wanted so far, and why.
#[derive(Default)]
struct Wants {
    gets: BTreeMap<(Kind, Option<String>), BTreeMap<String, String>>,
    lists: BTreeMap<Request, String>,
}

impl Wants {
    fn list(
        &mut self,
        snap: &Snapshot,
        kind: Kind,
        ns: Option<&str>,
        why: impl FnOnce() -> String,
    ) {
        let covered = match ns.filter(|_| kind.namespaced()) {
            None => snap.is_complete(kind),
            Some(n) => snap.is_complete(kind) || snap.complete_in.contains(&(kind, n.to_string())),
        };
        if !covered {
            self.lists
                .entry(Request::list(kind, ns))
                .or_insert_with(why);
        }
    }

    fn get(
        &mut self,
        snap: &Snapshot,
        kind: Kind,
        ns: Option<&str>,
        name: &str,
        why: impl FnOnce() -> String,
    ) {
        if name.is_empty() || snap.covers(kind, ns, name) {
            return;
        }
        let ns = ns.filter(|_| kind.namespaced()).map(str::to_string);
        self.gets
            .entry((kind, ns))
            .or_default()
            .entry(name.to_string())
            .or_insert_with(why);
    }

    fn events_of(&mut self, snap: &Snapshot, kind: &str, name: &str) {
        let req = Request::List {
            kind: Kind::Event,
            namespace: None,
            labels: None,
            fields: Some(Fields::InvolvedObject {
                kind: kind.to_string(),
                name: name.to_string(),
            }),
        };
        if !snap.is_complete(Kind::Event) {
            self.lists
                .entry(req)
                .or_insert_with(|| format!("events of {kind} {name}"));
        }
    }

    /// The stage: GETs, or one LIST for a kind in a namespace wanted more than [`CROSSOVER`]
    /// times; none already made.
    fn stage(self, done: &BTreeSet<Request>) -> Vec<Planned> {
        let mut out: BTreeMap<Request, String> = self.lists;
        for ((kind, ns), names) in self.gets {
            if names.len() > CROSSOVER {
                let req = Request::list(kind, ns.as_deref());
                out.entry(req).or_insert_with(|| {
                    format!(
                        "{} {} wanted: one LIST instead of GETs",
                        names.len(),
                        kind.resource()
                    )
                });
            } else {
                for (name, why) in names {
                    out.entry(Request::get(kind, ns.as_deref(), &name))
                        .or_insert(why);
                }
            }
        }
        out.into_iter()
            .filter(|(r, _)| !done.contains(r))
            .map(|(req, why)| Planned { req, why })
            .collect()
    }
}

/// The next stage of the plan for `targets` in `scope`, given the snapshot so far and the
/// requests already made. Empty: the snapshot holds what the trace needs.
pub fn next(
    targets: &[Target],
    scope: &Scope,
    snap: &Snapshot,
    done: &BTreeSet<Request>,
) -> Vec<Planned> {
    let mut w = Wants::default();
    let scope_ns = scope.namespace.as_deref();
    let mut f = Follow {
        snap,
        w: &mut w,
        scope_ns,
    };
    if targets.is_empty()
        && let Some(ns) = scope_ns
    {
        for kind in [
            Kind::Pod,
            Kind::PersistentVolumeClaim,
            Kind::Event,
            Kind::ReplicaSet,
        ] {
            f.w.list(snap, kind, Some(ns), || {
                format!("every {} in namespace {ns}", kind.resource())
            });
        }
        for p in snap.pods.iter().filter(|p| meta_ns(&p.metadata) == ns) {
            f.pod(p);
        }
        for c in snap.pvcs.iter().filter(|c| meta_ns(&c.metadata) == ns) {
            f.claim(c, false);
        }
    }
    for t in targets {
        f.target(t);
    }
    f.nodes_for_affinity();
    w.stage(done)
}

struct Follow<'s, 'w> {
    snap: &'s Snapshot,
    w: &'w mut Wants,
    scope_ns: Option<&'s str>,
}

impl<'s> Follow<'s, '_> {
    /// The namespace of a namespaced target (the scope's: targets are planned only with one).
    fn ns(&self) -> &'s str {
        self.scope_ns.unwrap_or("default")
    }

    /// What every namespace the trace shows needs: its pods (who mounts a claim) and events.
    fn namespace(&mut self, ns: &str, why: &str) {
        let snap = self.snap;
        self.w.list(snap, Kind::Pod, Some(ns), || {
            format!("pods of namespace {ns}: {why}")
        });
        self.w.list(snap, Kind::Event, Some(ns), || {
            format!("events of namespace {ns}: {why}")
        });
    }

    fn target(&mut self, t: &Target) {
        let snap = self.snap;
        match t {
            Target::Pod(n) => {
                let ns = self.ns();
                self.namespace(ns, &format!("pod {n} and who else mounts its claims"));
                if let Some(p) = snap
                    .pods
                    .iter()
                    .find(|p| meta_ns(&p.metadata) == ns && meta_name(&p.metadata) == n.as_str())
                {
                    self.pod(p);
                }
            }
            Target::Claim(n) => {
                let ns = self.ns();
                self.namespace(ns, &format!("who mounts claim {n}"));
                self.w
                    .get(snap, Kind::PersistentVolumeClaim, Some(ns), n, || {
                        format!("target pvc/{n}")
                    });
                if let Some(c) = self.claim_named(ns, n) {
                    self.claim(c, false);
                }
            }
            Target::Volume(n) => {
                self.w.get(snap, Kind::PersistentVolume, None, n, || {
                    format!("target pv/{n}")
                });
                self.w.list(snap, Kind::VolumeAttachment, None, || {
                    format!("attachments of pv/{n} (no field selector finds them by volume)")
                });
                self.w.events_of(snap, "PersistentVolume", n);
                if let Some(pv) = snap
                    .pvs
                    .iter()
                    .find(|v| meta_name(&v.metadata) == n.as_str())
                {
                    self.volume(pv, true);
                }
            }
            Target::StatefulSet(n) => {
                let ns = self.ns();
                self.w.get(snap, Kind::StatefulSet, Some(ns), n, || {
                    format!("target sts/{n}")
                });
                self.namespace(ns, &format!("the pods of sts/{n}"));
                self.w
                    .list(snap, Kind::PersistentVolumeClaim, Some(ns), || {
                        format!("claims of sts/{n}, also beyond its replicas")
                    });
                if snap.statefulsets.iter().any(|s| {
                    s.metadata.namespace.as_deref() == Some(ns)
                        && s.metadata.name.as_deref() == Some(n)
                }) {
                    self.owned_pods(ns, "StatefulSet", n);
                    for c in snap.pvcs.iter().filter(|c| meta_ns(&c.metadata) == ns) {
                        self.claim(c, false);
                    }
                }
            }
            Target::Deployment(n) => {
                let ns = self.ns();
                self.w.get(snap, Kind::Deployment, Some(ns), n, || {
                    format!("target deploy/{n}")
                });
                self.namespace(ns, &format!("the pods of deploy/{n}"));
                let dep = snap.deployments.iter().find(|d| {
                    d.metadata.namespace.as_deref() == Some(ns)
                        && d.metadata.name.as_deref() == Some(n)
                });
                if let Some(d) = dep {
                    // Its pods are owned by its ReplicaSets: every pod of the namespace owned
                    // by a ReplicaSet needs its owner fetched to be told apart.
                    for p in snap.pods.iter().filter(|p| meta_ns(&p.metadata) == ns) {
                        for o in p
                            .metadata
                            .owners()
                            .iter()
                            .filter(|o| o.kind == "ReplicaSet")
                        {
                            self.w.get(snap, Kind::ReplicaSet, Some(ns), &o.name, || {
                                format!("owner of pod {}", meta_name(&p.metadata))
                            });
                        }
                    }
                    let dep_rs: BTreeSet<&str> = snap
                        .replicasets
                        .iter()
                        .filter(|rs| {
                            rs.metadata.namespace.as_deref() == Some(ns)
                                && rs
                                    .metadata
                                    .owner_references
                                    .iter()
                                    .flatten()
                                    .any(|o| o.kind == "Deployment" && o.name == *n)
                        })
                        .filter_map(|rs| rs.metadata.name.as_deref())
                        .collect();
                    for p in snap.pods.iter().filter(|p| {
                        meta_ns(&p.metadata) == ns
                            && p.metadata
                                .owners()
                                .iter()
                                .any(|o| o.kind == "ReplicaSet" && dep_rs.contains(o.name.as_str()))
                    }) {
                        self.pod(p);
                    }
                    let claims = d
                        .spec
                        .as_ref()
                        .and_then(|s| s.template.spec.as_ref())
                        .and_then(|s| s.volumes.as_ref())
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v.persistent_volume_claim.as_ref());
                    for c in claims {
                        self.claim_by_name(ns, &c.claim_name, &format!("claim of deploy/{n}"));
                    }
                }
            }
            Target::Node(n) => {
                self.w
                    .get(snap, Kind::Node, None, n, || format!("target node/{n}"));
                let on_node = Request::List {
                    kind: Kind::Pod,
                    namespace: None,
                    labels: None,
                    fields: Some(Fields::NodeName(n.clone())),
                };
                if !snap.is_complete(Kind::Pod) {
                    self.w
                        .lists
                        .entry(on_node)
                        .or_insert_with(|| format!("pods on node/{n}"));
                }
                self.w.list(snap, Kind::VolumeAttachment, None, || {
                    format!("attachments on node/{n}")
                });
                self.w.list(snap, Kind::PersistentVolume, None, || {
                    format!("volumes pinned to node/{n}")
                });
                let pods: Vec<&Pod> = snap
                    .pods
                    .iter()
                    .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(n))
                    .collect();
                for p in pods {
                    if crate::graph::has_data_volume(p) {
                        let ns = meta_ns(&p.metadata);
                        self.namespace(ns, &format!("pod {} on node/{n}", meta_name(&p.metadata)));
                        self.pod(p);
                    }
                }
            }
            Target::StorageClass(_) => {}
        }
    }

    fn claim_named(&self, ns: &str, name: &str) -> Option<&'s PersistentVolumeClaim> {
        self.snap
            .pvcs
            .iter()
            .find(|c| meta_ns(&c.metadata) == ns && meta_name(&c.metadata) == name)
    }

    fn claim_by_name(&mut self, ns: &str, name: &str, why: &str) {
        self.w.get(
            self.snap,
            Kind::PersistentVolumeClaim,
            Some(ns),
            name,
            || why.to_string(),
        );
        if let Some(c) = self.claim_named(ns, name) {
            self.claim(c, false);
        }
    }

    fn owned_pods(&mut self, ns: &str, kind: &str, name: &str) {
        let snap = self.snap;
        for p in snap.pods.iter().filter(|p| {
            meta_ns(&p.metadata) == ns
                && p.metadata
                    .owners()
                    .iter()
                    .any(|o| o.kind == kind && o.name == name)
        }) {
            self.pod(p);
        }
    }

    /// A pod: its claims, node and ReplicaSet.
    fn pod(&mut self, p: &'s Pod) {
        let snap = self.snap;
        let ns = meta_ns(&p.metadata);
        let pname = meta_name(&p.metadata);
        if let Some(node) = p.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
            self.w.get(snap, Kind::Node, None, node, || {
                format!("node of pod {ns}/{pname}")
            });
        }
        for o in p
            .metadata
            .owners()
            .iter()
            .filter(|o| o.kind == "ReplicaSet")
        {
            self.w.get(snap, Kind::ReplicaSet, Some(ns), &o.name, || {
                format!("owner of pod {ns}/{pname}")
            });
        }
        for v in p.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
            if let Some(cn) = volume_claim_name(p, v) {
                self.claim_by_name(ns, &cn, &format!("claim of pod {ns}/{pname}"));
            }
        }
    }

    /// A claim: who mounts it, its volume and class; for one not bound, every volume and
    /// class (what could bind it).
    fn claim(&mut self, c: &'s PersistentVolumeClaim, reverse: bool) {
        let snap = self.snap;
        let ns = meta_ns(&c.metadata);
        let name = meta_name(&c.metadata);
        self.namespace(ns, &format!("who mounts claim {name}"));
        match explicit_class(c) {
            Some("") => {}
            Some(sc) => self.w.get(snap, Kind::StorageClass, None, sc, || {
                format!("class of claim {ns}/{name}")
            }),
            None => self.w.list(snap, Kind::StorageClass, None, || {
                format!("the default class, for claim {ns}/{name}")
            }),
        }
        let bound = c.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound");
        if !bound {
            self.w.list(snap, Kind::PersistentVolume, None, || {
                format!("volumes that could bind claim {ns}/{name}")
            });
            self.w.list(snap, Kind::StorageClass, None, || {
                format!("classes, for claim {ns}/{name}")
            });
        }
        if let Some(vn) = c
            .spec
            .as_ref()
            .and_then(|s| s.volume_name.as_deref())
            .filter(|v| !v.is_empty())
        {
            self.w.get(snap, Kind::PersistentVolume, None, vn, || {
                format!("volume of claim {ns}/{name}")
            });
            if let Some(pv) = snap.pvs.iter().find(|v| meta_name(&v.metadata) == vn) {
                self.volume(pv, false);
            }
        }
        if reverse {
            // Traced from its volume: the pods that mount it are diagnosed in full.
            for p in snap.pods.iter().filter(|p| meta_ns(&p.metadata) == ns) {
                let mounts = p
                    .spec
                    .iter()
                    .flat_map(|s| s.volumes.iter().flatten())
                    .any(|v| volume_claim_name(p, v).as_deref() == Some(name));
                if mounts {
                    self.pod(p);
                }
            }
        }
    }

    /// A volume: its claim (traced from `pv/NAME`: the claim in full) and class, attachments.
    fn volume(&mut self, pv: &'s PersistentVolume, reverse: bool) {
        let snap = self.snap;
        let name = meta_name(&pv.metadata);
        self.w.list(snap, Kind::VolumeAttachment, None, || {
            format!("attachments of pv/{name} (no field selector finds them by volume)")
        });
        let spec = pv.spec.as_ref();
        if let Some(sc) = spec
            .and_then(|s| s.storage_class_name.as_deref())
            .filter(|s| !s.is_empty())
        {
            self.w.get(snap, Kind::StorageClass, None, sc, || {
                format!("class of pv/{name}")
            });
        }
        if let Some(cr) = spec.and_then(|s| s.claim_ref.as_ref()) {
            let (ns, cn) = (
                cr.namespace.as_deref().unwrap_or(""),
                cr.name.as_deref().unwrap_or(""),
            );
            if !ns.is_empty() && self.scope_ns.is_none_or(|s| s == ns) {
                self.w
                    .get(snap, Kind::PersistentVolumeClaim, Some(ns), cn, || {
                        format!("claim of pv/{name}")
                    });
                if reverse && let Some(c) = self.claim_named(ns, cn) {
                    self.claim(c, true);
                }
            }
        }
    }

    /// Volumes with node affinity: when no node fetched satisfies it, every node (whether any
    /// does is what `NoNodeMatchesVolume` says), once the nodes already wanted are in.
    fn nodes_for_affinity(&mut self) {
        let snap = self.snap;
        if snap.is_complete(Kind::Node) || self.w.gets.keys().any(|(k, _)| *k == Kind::Node) {
            return;
        }
        for pv in &snap.pvs {
            let terms = pv_terms(pv);
            if terms.is_empty() {
                continue;
            }
            let ok = snap.nodes.iter().any(|n| {
                terms.iter().any(|t| {
                    term_matches(
                        t,
                        n.metadata.name.as_deref().unwrap_or(""),
                        n.metadata.labels.as_ref(),
                    )
                })
            });
            if !ok {
                let name = meta_name(&pv.metadata).to_string();
                self.w.list(snap, Kind::Node, None, || {
                    format!("no node fetched satisfies the node affinity of pv/{name}")
                });
                return;
            }
        }
    }
}

/// At most this many stages (a plan follows references a few levels deep: target, claim,
/// volume, nodes; the bound is a guard, never reached by a well-formed cluster).
pub const MAX_STAGES: usize = 8;

/// Fetch what the question needs from the cluster, stage by stage (each stage's requests
/// concurrently).
pub async fn fetch(
    conn: &stateful_core::client::Connection,
    targets: &[Target],
    scope: &Scope,
) -> stateful_core::Result<Snapshot> {
    let mut snap = Snapshot {
        planned: true,
        ..Snapshot::default()
    };
    let mut done = BTreeSet::new();
    for _ in 0..MAX_STAGES {
        let stage = next(targets, scope, &snap, &done);
        if stage.is_empty() {
            break;
        }
        stateful_core::snapshot::fetch_requests(
            &conn.client,
            &conn.server,
            &stage,
            scope.namespace.as_deref(),
            &mut snap,
        )
        .await?;
        done.extend(stage.into_iter().map(|p| p.req));
    }
    Ok(snap)
}

/// Serve the plan from `whole` (a snapshot that holds every object): the snapshot the plan
/// would fetch from a cluster holding the same objects, and the requests it made, stage by
/// stage. For tests, and to show a plan (`--fetch plan` on a dump is this).
pub fn serve(whole: &Snapshot, targets: &[Target], scope: &Scope) -> (Snapshot, Vec<Vec<Request>>) {
    let mut snap = Snapshot {
        planned: true,
        ..Snapshot::default()
    };
    let mut done = BTreeSet::new();
    let mut stages = Vec::new();
    for _ in 0..MAX_STAGES {
        let stage = next(targets, scope, &snap, &done);
        if stage.is_empty() {
            break;
        }
        for p in &stage {
            whole.serve(&p.req, &mut snap, scope.namespace.as_deref());
        }
        snap.dedup();
        let reqs: Vec<Request> = stage.into_iter().map(|p| p.req).collect();
        done.extend(reqs.iter().cloned());
        stages.push(reqs);
    }
    (snap, stages)
}
