//! Binding: why a Pending claim is not bound. Its class does not exist, provisioning failed,
//! no class applies, it waits for its first consumer, no static volume matches, or it waits for
//! a provisioner.

use stateful_core::snapshot::Kind;
use stateful_core::snapshot::lean::{PersistentVolume, PersistentVolumeClaim, Pod};

use super::{Diagnoser, EventKey};
use crate::model::Severity;
use crate::objects::{claim_ref, explicit_class, meta_name, meta_ns, storage_of};
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
        let explicit = explicit_class(c);
        // Pre-bound by the user (spec.volumeName): the PV controller binds it to that volume
        // whatever its class says; a class with no StorageClass object is legitimate then.
        if let Some(vn) = spec
            .and_then(|s| s.volume_name.as_deref())
            .filter(|v| !v.is_empty())
        {
            self.diag(
                Severity::Info,
                "ClaimPending",
                r,
                format!("claim {name} is Pending: it is pre-bound to volume {vn} (spec.volumeName) and binds when that volume is Available and fits"),
            );
            return;
        }

        // Named class that does not exist.
        if let Some(cn) = explicit.filter(|s| !s.is_empty())
            && sc_known
            && !self.idx.storage_classes.contains_key(cn)
        {
            let static_pv = self.matching_static_pv(c, Some(cn)).is_some();
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
        // No class and no default.
        if explicit.is_none()
            && class_name.is_none()
            && sc_known
            && self.matching_static_pv(c, None).is_none()
        {
            self.diag(
                    Severity::Error,
                    "NoDefaultStorageClass",
                    r.clone(),
                    format!(
                        "claim {name} is Pending: it names no StorageClass and none is marked default; set storageClassName, or mark a class default (annotation storageclass.kubernetes.io/is-default-class=\"true\")"
                    ),
                );
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
        if static_only && self.snap.is_complete(Kind::PersistentVolume) {
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

    /// An Available PV the claim could bind to (class, modes, capacity, selector, volumeMode).
    fn matching_static_pv(
        &self,
        c: &PersistentVolumeClaim,
        class: Option<&str>,
    ) -> Option<&'a PersistentVolume> {
        let spec = c.spec.as_ref()?;
        let want_class = class.unwrap_or("");
        let modes = spec.access_modes.as_deref().unwrap_or(&[]);
        let req = storage_of(spec.resources.as_ref().and_then(|r| r.requests.as_ref()))
            .and_then(|q| quantity::parse(&q))
            .unwrap_or(0.0);
        let sel = spec
            .selector
            .as_deref()
            .map(stateful_core::labels::Selector::from_label_selector);
        let vm = spec.volume_mode.as_deref().unwrap_or("Filesystem");
        let key = (meta_ns(&c.metadata), meta_name(&c.metadata));
        let by_ref = self.idx.pvs_by_claim_ref.get(&key).into_iter().flatten();
        let by_class = self
            .idx
            .unbound_pvs_by_class
            .get(want_class)
            .into_iter()
            .flatten();
        by_ref.chain(by_class).copied().find(|pv| {
            let Some(ps) = pv.spec.as_ref() else {
                return false;
            };
            let pv_modes = ps.access_modes.as_deref().unwrap_or(&[]);
            let cap = storage_of(ps.capacity.as_ref())
                .and_then(|q| quantity::parse(&q))
                .unwrap_or(0.0);
            ps.storage_class_name.as_deref().unwrap_or("") == want_class
                && modes.iter().all(|m| pv_modes.contains(m))
                && cap >= req
                && ps.volume_mode.as_deref().unwrap_or("Filesystem") == vm
                && sel
                    .as_ref()
                    .is_none_or(|s| s.matches(pv.metadata.labels.as_ref()))
        })
    }
}
