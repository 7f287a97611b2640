//! Claims: a claim's phase (Pending goes on to `binding`), the volume it is bound to (exists,
//! points back, offers the modes and the size), resize and modify conditions, one-node access
//! modes used from several nodes; and the claims a workload expects: missing, left over from a
//! scale-down, or shared by a Deployment's replicas.

use std::collections::BTreeSet;

use stateful_core::snapshot::Kind;
use stateful_core::snapshot::lean::{PersistentVolume, PersistentVolumeClaim, Pod};

use super::{Diagnoser, EventKey};
use crate::model::{ObjectRef, Severity};
use crate::objects::{
    NOT_REPORTED, claim_ref, has_mode, meta_name, meta_ns, pod_active, storage_of,
};
use crate::quantity;

impl<'a> Diagnoser<'_, 'a> {
    /// A claim, on its first visit; `class_name` is the class it uses (named or default).
    pub(crate) fn claim(&mut self, c: &'a PersistentVolumeClaim, class_name: Option<&str>) {
        let ns = meta_ns(&c.metadata).to_string();
        let name = meta_name(&c.metadata).to_string();
        let r = claim_ref(&ns, &name);
        let spec = c.spec.as_ref();
        // No status (a manifest): the phase is not reported, which says nothing about binding.
        let phase = c
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .unwrap_or(NOT_REPORTED);
        let modes = spec
            .and_then(|s| s.access_modes.clone())
            .unwrap_or_default();
        let users: Vec<&'a Pod> = self
            .idx
            .pods_by_claim
            .get(&(ns.as_str(), name.clone()))
            .cloned()
            .unwrap_or_default();
        let active_users: Vec<&'a Pod> = users.iter().copied().filter(|p| pod_active(p)).collect();

        match phase {
            "Pending" => self.pending(c, class_name, &active_users),
            "Lost" => self.diag(
                Severity::Error,
                "ClaimLost",
                r.clone(),
                format!(
                    "claim {name} is Lost: its volume {} no longer exists; the data is gone unless the backing storage still holds it (recreate a PV pointing at it)",
                    spec.and_then(|s| s.volume_name.clone()).unwrap_or_default()
                ),
            ),
            _ => {}
        }
        self.bound_volume(c, &r, phase, &modes);
        self.resize_conditions(c, &r);
        self.single_node_access(&r, &name, &modes, &active_users);
    }

    /// Bound side: the volume the claim names exists, points back at the claim, and fits.
    fn bound_volume(
        &mut self,
        c: &'a PersistentVolumeClaim,
        r: &ObjectRef,
        phase: &str,
        modes: &[String],
    ) {
        let name = meta_name(&c.metadata);
        let Some(vn) = c
            .spec
            .as_ref()
            .and_then(|s| s.volume_name.as_deref())
            .filter(|v| !v.is_empty())
        else {
            return;
        };
        match self.idx.pvs.get(vn).copied() {
            None if self.snap.covers(Kind::PersistentVolume, None, vn) && phase != "Lost" => self.diag(
                Severity::Error,
                "VolumeMissing",
                r.clone(),
                format!("claim {name} is bound to volume {vn}, which does not exist: pods using it cannot start"),
            ),
            None if phase != "Lost" => {
                self.not_in_data(Kind::PersistentVolume, None, vn);
            }
            None => {}
            Some(pv) => self.volume_fits(c, r, pv, vn, modes),
        }
    }

    /// The bound volume points back at the claim, offers its access modes and its size.
    fn volume_fits(
        &mut self,
        c: &'a PersistentVolumeClaim,
        r: &ObjectRef,
        pv: &PersistentVolume,
        vn: &str,
        modes: &[String],
    ) {
        let ns = meta_ns(&c.metadata);
        let name = meta_name(&c.metadata);
        let uid = c.metadata.uid.as_deref();
        let pspec = pv.spec.as_ref();
        if let Some(cr) = pspec.and_then(|s| s.claim_ref.as_ref()) {
            let same = cr.name.as_deref() == Some(name)
                && cr.namespace.as_deref() == Some(ns)
                && (cr.uid.is_none() || uid.is_none() || cr.uid.as_deref() == uid);
            if !same {
                self.diag(
                    Severity::Error,
                    "VolumeClaimMismatch",
                    r.clone(),
                    format!(
                        "claim {name} names volume {vn}, but that volume is claimed by {}/{}{}",
                        cr.namespace.clone().unwrap_or_default(),
                        cr.name.clone().unwrap_or_default(),
                        if cr.name.as_deref() == Some(name) {
                            " (an older claim with the same name)"
                        } else {
                            ""
                        }
                    ),
                );
            }
        }
        let pv_modes = pspec
            .and_then(|s| s.access_modes.clone())
            .unwrap_or_default();
        let missing: Vec<&String> = modes.iter().filter(|m| !pv_modes.contains(m)).collect();
        if !missing.is_empty() && !pv_modes.is_empty() {
            self.diag(
                Severity::Warning,
                "AccessModeMismatch",
                r.clone(),
                format!(
                    "claim {name} asks for {} but volume {vn} offers {}",
                    modes.join(","),
                    pv_modes.join(",")
                ),
            );
        }
        let requested = storage_of(
            c.spec
                .as_ref()
                .and_then(|s| s.resources.as_ref())
                .and_then(|r| r.requests.as_ref()),
        );
        let cap = storage_of(pspec.and_then(|s| s.capacity.as_ref()));
        if let (Some(req), Some(cap)) = (&requested, &cap)
            && let (Some(rq), Some(cp)) = (quantity::parse(req), quantity::parse(cap))
            && cp < rq
        {
            let resizing = c
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| {
                    cs.iter()
                        .any(|x| x.type_ == "Resizing" || x.type_ == "FileSystemResizePending")
                });
            // No status: whether a resize is under way is not reported.
            if !resizing && c.status.is_some() {
                self.diag(
                    Severity::Warning,
                    "CapacityMismatch",
                    r.clone(),
                    format!("claim {name} requests {req} but volume {vn} has {cap}"),
                );
            }
        }
    }

    /// Resize and modify conditions, and resizes the driver refused.
    fn resize_conditions(&mut self, c: &'a PersistentVolumeClaim, r: &ObjectRef) {
        let name = meta_name(&c.metadata);
        for cond in c.status.iter().flat_map(|s| s.conditions.iter().flatten()) {
            if cond.status != "True" {
                continue;
            }
            let msg = cond.message.clone().unwrap_or_default();
            let (sev, code, text) = match cond.type_.as_str() {
                "Resizing" => (
                    Severity::Info,
                    "ResizeInProgress",
                    format!("claim {name} is being resized by the storage driver"),
                ),
                "FileSystemResizePending" => (
                    Severity::Info,
                    "ResizePending",
                    format!(
                        "claim {name}: the volume was resized; the filesystem grows when a pod mounts it (restart the pod if it does not)"
                    ),
                ),
                "ControllerResizeError" | "NodeResizeError" => (
                    Severity::Error,
                    "ResizeFailed",
                    format!("claim {name}: resize failed ({}): {msg}", cond.type_),
                ),
                "ModifyVolumeError" => (
                    Severity::Error,
                    "ModifyVolumeFailed",
                    format!("claim {name}: changing the VolumeAttributesClass failed: {msg}"),
                ),
                _ => continue,
            };
            self.diag(sev, code, r.clone(), text);
        }
        self.resize_events(c, r);
        for (res, state) in c
            .status
            .iter()
            .flat_map(|s| s.allocated_resource_statuses.iter().flatten())
        {
            if state.ends_with("Infeasible") {
                self.diag(
                    Severity::Error,
                    "ResizeFailed",
                    r.clone(),
                    format!("claim {name}: resize of {res} is {state}: the driver refused the new size; set the request back or fix the driver"),
                );
            }
        }
    }

    /// The latest resize event about the claim (external-resizer, volume_expand, kubelet):
    /// a failure is an error, a filesystem resize waiting for the node an info; a later
    /// success or a capacity that reached the request says it is over.
    fn resize_events(&mut self, c: &'a PersistentVolumeClaim, r: &ObjectRef) {
        let name = meta_name(&c.metadata);
        let Some(ev) = self.latest_event(
            &EventKey::of("PersistentVolumeClaim", &c.metadata),
            &[
                "VolumeResizeFailed",
                "VolumeResizeSuccessful",
                "FileSystemResizeRequired",
                "FileSystemResizeSuccessful",
                "FileSystemResizeFailed",
                "Resizing",
            ],
        ) else {
            return;
        };
        let spec = c.spec.as_ref();
        let requested = storage_of(
            spec.and_then(|s| s.resources.as_ref())
                .and_then(|r| r.requests.as_ref()),
        )
        .and_then(|q| quantity::parse(&q));
        let capacity = storage_of(c.status.as_ref().and_then(|s| s.capacity.as_ref()))
            .and_then(|q| quantity::parse(&q));
        if let (Some(rq), Some(cp)) = (requested, capacity)
            && cp >= rq
        {
            return;
        }
        let msg = ev.message.as_deref().unwrap_or("").trim();
        match ev.reason.as_deref().unwrap_or("") {
            "VolumeResizeFailed" | "FileSystemResizeFailed" => self.diag(
                Severity::Error,
                "ResizeFailed",
                r.clone(),
                format!("claim {name}: resize failed ({}): {msg}", ev.reason.as_deref().unwrap_or("")),
            ),
            "FileSystemResizeRequired" => self.diag(
                Severity::Info,
                "ResizePending",
                r.clone(),
                format!("claim {name}: the volume was resized; the filesystem grows when a pod mounts it (restart the pod if it does not): {msg}"),
            ),
            "Resizing" => self.diag(
                Severity::Info,
                "ResizeInProgress",
                r.clone(),
                format!("claim {name} is being resized: {msg}"),
            ),
            _ => {}
        }
    }

    /// One-node access modes used from several nodes (or pods, for ReadWriteOncePod).
    fn single_node_access(
        &mut self,
        r: &ObjectRef,
        name: &str,
        modes: &[String],
        active_users: &[&'a Pod],
    ) {
        let rwo = has_mode(modes, "ReadWriteOnce")
            && !has_mode(modes, "ReadWriteMany")
            && !has_mode(modes, "ReadOnlyMany");
        let rwop = has_mode(modes, "ReadWriteOncePod");
        let nodes: BTreeSet<&str> = active_users
            .iter()
            .filter_map(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()))
            .collect();
        if rwop && active_users.len() > 1 {
            let names: Vec<String> = active_users
                .iter()
                .map(|p| meta_name(&p.metadata).to_string())
                .collect();
            self.diag(
                Severity::Error,
                "MultiPodReadWriteOncePod",
                r.clone(),
                format!(
                    "claim {name} is ReadWriteOncePod but {} pods use it ({}): only one can run",
                    names.len(),
                    names.join(", ")
                ),
            );
        } else if rwo && nodes.len() > 1 {
            self.diag(
                Severity::Error,
                "MultiNodeReadWriteOnce",
                r.clone(),
                format!(
                    "claim {name} is ReadWriteOnce but pods on {} nodes use it ({}): pods on all but one node cannot mount it (Multi-Attach error)",
                    nodes.len(),
                    nodes.iter().copied().collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }

    /// A StatefulSet's expected claim (template `t`, ordinal `ord`) that does not exist.
    pub(crate) fn expected_claim_missing(
        &mut self,
        ns: &str,
        set: &str,
        t: &str,
        ord: i32,
        cname: &str,
    ) {
        if !self
            .snap
            .covers(Kind::PersistentVolumeClaim, Some(ns), cname)
        {
            self.not_in_data(Kind::PersistentVolumeClaim, Some(ns), cname);
            return;
        }
        let pod_name = format!("{set}-{ord}");
        let pod_exists = self.idx.pods.contains_key(&(ns, pod_name.as_str()));
        let (sev, why) = if pod_exists {
            (
                Severity::Error,
                format!(
                    "pod {pod_name} exists but its claim does not: the pod cannot start until the claim is recreated (the StatefulSet controller recreates it only when the pod is recreated)"
                ),
            )
        } else {
            (
                Severity::Warning,
                format!(
                    "not created yet: the StatefulSet controller creates it with pod {pod_name}"
                ),
            )
        };
        self.diag(
            sev,
            "ClaimMissing",
            claim_ref(ns, cname),
            format!("expected claim {cname} (template {t}, ordinal {ord}) of statefulset {set} is missing: {why}"),
        );
    }

    /// A StatefulSet whose replicas are more than the ordinals enumerated one by one
    /// (`stateful_core::workloads::MAX_ORDINALS`): missing claims past `shown_end` are not
    /// checked, claims there that exist are still shown.
    pub(crate) fn ordinals_capped(&mut self, ns: &str, set: &str, replicas: i32, shown_end: i32) {
        self.diag(
            Severity::Warning,
            "OrdinalsCapped",
            ObjectRef::new("StatefulSet", Some(ns), set),
            format!("statefulset {set} has {replicas} replicas: expected claims are checked for ordinals below {shown_end} only (at most {} one by one); claims past that are shown only where they exist", stateful_core::workloads::MAX_ORDINALS),
        );
    }

    /// A claim of a StatefulSet with an ordinal at or beyond its replicas.
    pub(crate) fn leftover_claim(&mut self, ns: &str, set: &str, replicas: i32, cname: &str) {
        self.diag(
            Severity::Info,
            "ClaimLeftover",
            claim_ref(ns, cname),
            format!("claim {cname} is left from a scale-down of statefulset {set} (replicas now {replicas}); it keeps its data and is reused on scale-up; delete it to free the volume"),
        );
    }

    /// A claim in a Deployment's pod template: every replica shares it, which a one-node access
    /// mode does not allow across nodes.
    pub(crate) fn shared_claim(
        &mut self,
        ns: &str,
        deployment: &str,
        replicas: i32,
        cname: &str,
        modes: &[String],
    ) {
        if replicas > 1
            && (has_mode(modes, "ReadWriteOnce") || has_mode(modes, "ReadWriteOncePod"))
            && !has_mode(modes, "ReadWriteMany")
            && !has_mode(modes, "ReadOnlyMany")
        {
            self.diag(
                Severity::Warning,
                "SharedReadWriteOnce",
                claim_ref(ns, cname),
                format!("deployment {deployment} has {replicas} replicas sharing claim {cname}, which is {}: replicas on other nodes cannot mount it (use a StatefulSet with volumeClaimTemplates, or a ReadWriteMany class)", modes.join(",")),
            );
        }
    }
}
