//! Binding: why a Pending claim is not bound. Its class does not exist, provisioning failed,
//! no class applies, it waits for its first consumer, no static volume matches, or it waits for
//! a provisioner.

use stateful_core::snapshot::Kind;
use stateful_core::snapshot::lean::{PersistentVolume, PersistentVolumeClaim, Pod};

use super::{Diagnoser, EventKey};
use crate::model::Severity;
use crate::objects::{claim_ref, explicit_class, meta_name, meta_ns, pv_class, storage_of};
use crate::quantity;

impl<'a> Diagnoser<'_, 'a> {
    /// Why a Pending claim is not bound; `users` are the active pods that mount it.
    pub(super) fn pending(
        &mut self,
        c: &'a PersistentVolumeClaim,
        class_name: Option<&str>,
        users: &[&'a Pod],
    ) {
        let ns = meta_ns(&c.metadata).to_string();
        let name = meta_name(&c.metadata).to_string();
        let r = claim_ref(&ns, &name);
        let spec = c.spec.as_ref();
        let uid = &EventKey::of("PersistentVolumeClaim", &c.metadata);
        let sc_known = self.snap.is_complete(Kind::StorageClass);
        let pvs_known = self.snap.is_complete(Kind::PersistentVolume);
        let explicit = explicit_class(c);
        // Pre-bound by the user (spec.volumeName): the PV controller binds it to that volume
        // whatever its class says; a class with no StorageClass object is legitimate then.
        if let Some(vn) = spec
            .and_then(|s| s.volume_name.as_deref())
            .filter(|v| !v.is_empty())
        {
            self.prebound_claim(c, vn);
            return;
        }

        // Named class that does not exist.
        if let Some(cn) = explicit.filter(|s| !s.is_empty())
            && sc_known
            && !self.idx.storage_classes.contains_key(cn)
        {
            let static_pv = self.matching_static_pv(c, Some(cn)).is_some();
            if !static_pv && !pvs_known {
                // A class with no StorageClass object is legitimate for static binding, and
                // a volume of that class may exist unseen.
                self.diag(
                    Severity::Info,
                    "ClaimPending",
                    r.clone(),
                    format!(
                        "claim {name} is Pending: StorageClass \"{cn}\" does not exist, so only an existing volume of that class can bind it; none that fits is in the data ({}): add them (kubectl get pv -o yaml)",
                        self.snap.unknown_reason(Kind::PersistentVolume).unwrap_or_default()
                    ),
                );
                return;
            }
            if !static_pv {
                self.diag(
                        Severity::Error,
                        "StorageClassNotFound",
                        r.clone(),
                        format!(
                            "claim {name} is Pending: StorageClass \"{cn}\" does not exist (classes: {}); create it or change the claim's storageClassName (the field is immutable: recreate the claim)",
                            self.class_list()
                        ),
                    );
                return;
            }
        }
        if let Some(ev) = self.latest_event(uid, &["ProvisioningFailed"]) {
            self.diag(
                Severity::Error,
                "ProvisioningFailed",
                r.clone(),
                format!(
                    "claim {name} is Pending: provisioning failed: {}",
                    ev.message.clone().unwrap_or_default().trim()
                ),
            );
            return;
        }
        if explicit.is_none() && class_name.is_none() && self.no_default_class(c, &r) {
            return;
        }
        let class = class_name.and_then(|n| self.idx.storage_classes.get(n).copied());
        let static_only = explicit == Some("")
            || class.is_some_and(|sc| sc.provisioner == "kubernetes.io/no-provisioner");
        let wffc = class
            .is_some_and(|sc| sc.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer"));
        if wffc && users.is_empty() {
            self.diag(
                Severity::Info,
                "WaitForFirstConsumer",
                r.clone(),
                format!(
                    "claim {name} is Pending until a pod uses it: StorageClass {} binds on first consumer (WaitForFirstConsumer); this is expected",
                    class_name.unwrap_or_default()
                ),
            );
            return;
        }
        if static_only && pvs_known {
            if self.matching_static_pv(c, class_name).is_none() {
                let req = storage_of(
                    spec.and_then(|s| s.resources.as_ref())
                        .and_then(|r| r.requests.as_ref()),
                )
                .unwrap_or_default();
                self.diag(
                    Severity::Error,
                    "NoMatchingVolume",
                    r.clone(),
                    format!(
                        "claim {name} is Pending: no Available PersistentVolume matches it (class \"{}\", {} of {}{}); create one or fix the claim",
                        class_name.unwrap_or(""),
                        spec.and_then(|s| s.access_modes.clone()).unwrap_or_default().join(","),
                        req,
                        if spec.and_then(|s| s.selector.as_ref()).is_some() { ", with a selector" } else { "" }
                    ),
                );
                return;
            }
            if wffc {
                // A match exists; binding waits for the pod to be scheduled.
                return;
            }
        } else if static_only && self.matching_static_pv(c, class_name).is_none() {
            // The set of volumes is not known to be complete: a match may exist unseen.
            self.diag(
                Severity::Info,
                "ClaimPending",
                r,
                format!(
                    "claim {name} is Pending and binds only to an existing volume; none that fits is in the data ({}): add them (kubectl get pv -o yaml)",
                    self.snap.unknown_reason(Kind::PersistentVolume).unwrap_or_default()
                ),
            );
            return;
        }
        if !wffc && let Some(pv) = self.matching_static_pv(c, class_name) {
            self.diag(
                Severity::Info,
                "ClaimPending",
                r,
                format!(
                    "claim {name} is Pending: volume {} fits it; the PV controller binds them on its next pass",
                    meta_name(&pv.metadata)
                ),
            );
            return;
        }
        if let Some(ev) = self.latest_event(uid, &["ExternalProvisioning", "Provisioning"]) {
            self.diag(
                Severity::Warning,
                "ClaimPending",
                r,
                format!(
                    "claim {name} is Pending: {}",
                    ev.message.clone().unwrap_or_default().trim()
                ),
            );
            return;
        }
        if !users.is_empty() && wffc {
            let unscheduled = users
                .iter()
                .all(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none());
            if unscheduled {
                // The pod's own diagnostic (PodUnschedulable) explains it.
                self.diag(
                    Severity::Warning,
                    "ClaimPending",
                    r,
                    format!("claim {name} is Pending: it binds when pod {} is scheduled, which has not happened yet", meta_name(&users[0].metadata)),
                );
                return;
            }
        }
        let provisioner = class.map(|sc| sc.provisioner.clone()).unwrap_or_default();
        if class.is_none()
            && let Some(why) = self.snap.unknown_reason(Kind::StorageClass)
        {
            // The class (and so whether it waits for a first consumer) is unknown.
            self.diag(
                Severity::Info,
                "ClaimPending",
                r,
                format!("claim {name} is Pending; its StorageClass is unknown ({why}): add it (kubectl get storageclass -o yaml) to say why"),
            );
            return;
        }
        self.diag(
            Severity::Warning,
            "ClaimPending",
            r,
            if provisioner.is_empty() {
                format!("claim {name} is Pending")
            } else {
                format!("claim {name} is Pending: waiting for provisioner {provisioner} (check that its controller runs: kubectl get pods -A | grep -i csi)")
            },
        );
    }

    /// A Pending claim that names no class while none is default: only a volume with no class
    /// can bind it. An error when the volumes are all known and none fits, else an info.
    /// True when it said so.
    fn no_default_class(
        &mut self,
        c: &'a PersistentVolumeClaim,
        r: &crate::model::ObjectRef,
    ) -> bool {
        let name = meta_name(&c.metadata);
        let r = r.clone();
        let sc_known = self.snap.is_complete(Kind::StorageClass);
        let pvs_known = self.snap.is_complete(Kind::PersistentVolume);
        // No class and no default: only a volume of class "" can bind it.
        if sc_known && !pvs_known && self.matching_static_pv(c, None).is_none() {
            self.diag(
                Severity::Info,
                "ClaimPending",
                r,
                format!(
                    "claim {name} is Pending: it names no StorageClass and none is marked default, so only an existing volume with no class can bind it; none that fits is in the data ({}): add them (kubectl get pv -o yaml)",
                    self.snap.unknown_reason(Kind::PersistentVolume).unwrap_or_default()
                ),
            );
            return true;
        }
        if sc_known && self.matching_static_pv(c, None).is_none() {
            self.diag(
                    Severity::Error,
                    "NoDefaultStorageClass",
                    r.clone(),
                    format!(
                        "claim {name} is Pending: it names no StorageClass and none is marked default; set storageClassName, or mark a class default (annotation storageclass.kubernetes.io/is-default-class=\"true\")"
                    ),
                );
            return true;
        }
        false
    }

    /// Every StorageClass name, sorted, or `none`.
    fn class_list(&self) -> String {
        let mut names: Vec<&str> = self
            .snap
            .storage_classes
            .iter()
            .map(|s| meta_name(&s.metadata))
            .collect();
        names.sort();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    }

    /// A Pending claim with `spec.volumeName`: the PV controller's `syncUnboundClaim` checks
    /// that volume (exists, not claimed by another claim, and `checkVolumeSatisfyClaim`).
    fn prebound_claim(&mut self, c: &'a PersistentVolumeClaim, vn: &str) {
        let name = meta_name(&c.metadata);
        let r = claim_ref(meta_ns(&c.metadata), name);
        let Some(pv) = self.idx.pvs.get(vn).copied() else {
            // Known absent: `bound_volume` says VolumeMissing; unknown: NotInData.
            if !self.snap.covers(Kind::PersistentVolume, None, vn) {
                self.diag(
                    Severity::Info,
                    "ClaimPending",
                    r,
                    format!("claim {name} is Pending: it is pre-bound to volume {vn} (spec.volumeName), which is not in the data: add it (kubectl get pv {vn} -o yaml) to say whether it fits"),
                );
            }
            return;
        };
        if pv
            .spec
            .as_ref()
            .and_then(|s| s.claim_ref.as_ref())
            .is_some_and(|_| !prebound_to(pv, c))
        {
            // Claimed by another claim (or an earlier one of this name): VolumeClaimMismatch.
            return;
        }
        match misfit(c, pv, explicit_class(c).unwrap_or("")) {
            Some(why) => self.diag(
                Severity::Error,
                "NoMatchingVolume",
                r,
                format!("claim {name} is Pending: it is pre-bound to volume {vn} (spec.volumeName), which does not fit: {why}; fix the claim or the volume (the PV controller retries but never binds them as they are)"),
            ),
            None => self.diag(
                Severity::Info,
                "ClaimPending",
                r,
                format!("claim {name} is Pending: it is pre-bound to volume {vn} (spec.volumeName), which fits; the PV controller binds them on its next pass"),
            ),
        }
    }

    /// A PV the claim could bind to, as the PV controller's `FindMatchingVolume` picks one:
    /// a volume pre-bound to the claim (claimRef naming it, with its uid or none) that fits
    /// its size, volume mode and access modes; else an Available (or not reported) volume with
    /// no claimRef, of the claim's class, matching its selector, and fitting.
    fn matching_static_pv(
        &self,
        c: &PersistentVolumeClaim,
        class: Option<&str>,
    ) -> Option<&'a PersistentVolume> {
        let spec = c.spec.as_ref()?;
        // An unset class means "" to the PV controller unless admission set the default.
        let want_class = class.unwrap_or("");
        let sel = spec
            .selector
            .as_deref()
            .map(stateful_core::labels::Selector::from_label_selector);
        let key = (meta_ns(&c.metadata), meta_name(&c.metadata));
        let prebound = self
            .idx
            .pvs_by_claim_ref
            .get(&key)
            .into_iter()
            .flatten()
            .copied()
            .filter(|pv| prebound_to(pv, c))
            .find(|pv| misfit(c, pv, pv_class(pv)).is_none());
        prebound.or_else(|| {
            self.idx
                .unbound_pvs_by_class
                .get(want_class)
                .into_iter()
                .flatten()
                .copied()
                .find(|pv| {
                    sel.as_ref()
                        .is_none_or(|s| s.matches(pv.metadata.labels.as_ref()))
                        && misfit(c, pv, want_class).is_none()
                })
        })
    }
}

/// Is `pv` pre-bound to claim `c` (`IsVolumeBoundToClaim`): its claimRef names the claim, with
/// the claim's uid or none? A claim whose uid is not known (a manifest) is taken as the one.
pub(crate) fn prebound_to(pv: &PersistentVolume, c: &PersistentVolumeClaim) -> bool {
    let Some(cr) = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) else {
        return false;
    };
    cr.name.as_deref() == c.metadata.name.as_deref()
        && cr.namespace.as_deref().unwrap_or("") == meta_ns(&c.metadata)
        && match (cr.uid.as_deref(), c.metadata.uid.as_deref()) {
            (Some(a), Some(b)) => a == b || a.is_empty(),
            _ => true,
        }
}

/// Why `pv` cannot satisfy claim `c` whose class is `class`, as the PV controller's
/// `checkVolumeSatisfyClaim` says (deleted, too small, other class, other volume mode, missing
/// access modes); None when it fits. A quantity that cannot be read is not held against it.
pub(crate) fn misfit(
    c: &PersistentVolumeClaim,
    pv: &PersistentVolume,
    class: &str,
) -> Option<String> {
    let pv_name = meta_name(&pv.metadata);
    if pv.metadata.deletion_timestamp.is_some() {
        return Some(format!("volume {pv_name} is being deleted"));
    }
    let spec = c.spec.as_ref()?;
    let ps = pv.spec.as_ref()?;
    let req = storage_of(spec.resources.as_ref().and_then(|r| r.requests.as_ref()));
    let cap = storage_of(ps.capacity.as_ref());
    if let Some(rq) = req.as_deref().and_then(quantity::parse) {
        let cp = cap.as_deref().and_then(quantity::parse).unwrap_or(0.0);
        if cp < rq {
            return Some(format!(
                "it is too small ({} for a request of {})",
                cap.as_deref().unwrap_or("no capacity"),
                req.as_deref().unwrap_or_default()
            ));
        }
    }
    if pv_class(pv) != class {
        return Some(format!(
            "its storageClassName is \"{}\", the claim's is \"{class}\"",
            pv_class(pv)
        ));
    }
    let vm = spec.volume_mode.as_deref().unwrap_or("Filesystem");
    let pvm = ps.volume_mode.as_deref().unwrap_or("Filesystem");
    if vm != pvm {
        return Some(format!("its volumeMode is {pvm}, the claim's is {vm}"));
    }
    let modes = spec.access_modes.as_deref().unwrap_or(&[]);
    let pv_modes = ps.access_modes.as_deref().unwrap_or(&[]);
    let missing: Vec<&str> = modes
        .iter()
        .filter(|m| !pv_modes.contains(m))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Some(format!(
            "it does not offer {} (it offers {})",
            missing.join(","),
            if pv_modes.is_empty() {
                "none".to_string()
            } else {
                pv_modes.join(",")
            }
        ));
    }
    None
}
