//! Volumes: a volume's phase (Released, Failed, Available), the claim its claimRef names
//! (missing, or replaced by a newer claim of the same name), and a class that is gone. Then
//! its node affinity (`scheduling`) and its attachments (`attachments`).

use stateful_core::snapshot::Kind;
use stateful_core::snapshot::lean::PersistentVolume;

use super::{Diagnoser, EventKey};
use crate::model::Severity;
use crate::objects::{NOT_REPORTED, meta_name, meta_ns, pv_ref};

impl<'a> Diagnoser<'_, 'a> {
    /// A volume, on its first visit.
    pub(crate) fn volume(&mut self, pv: &'a PersistentVolume) {
        let name = meta_name(&pv.metadata).to_string();
        let r = pv_ref(&name);
        let spec = pv.spec.as_ref();
        let status = pv.status.as_ref();
        let phase = status
            .and_then(|s| s.phase.as_deref())
            .unwrap_or(NOT_REPORTED);
        let policy = spec
            .and_then(|s| s.persistent_volume_reclaim_policy.clone())
            .unwrap_or_else(|| "Retain".into());
        let cr = spec.and_then(|s| s.claim_ref.as_ref());
        let cr_name = cr.and_then(|c| c.name.as_deref()).filter(|n| !n.is_empty());
        let cr_ns = cr.and_then(|c| c.namespace.as_deref()).unwrap_or("");
        let cr_text = cr_name.map(|n| format!("{cr_ns}/{n}"));
        // The claim of that name now, and whether it is a later object than the one bound.
        let live = cr_name.and_then(|n| self.idx.pvcs.get(&(cr_ns, n)).copied());
        let replaced = match (cr.and_then(|c| c.uid.as_deref()), live) {
            (Some(bound), Some(c)) => c.metadata.uid.as_deref().is_some_and(|u| u != bound),
            _ => false,
        };
        match phase {
            "Released" => self.released(
                pv,
                &name,
                &policy,
                cr.is_some(),
                cr_text.as_deref(),
                replaced,
            ),
            "Failed" => self.diag(
                Severity::Error,
                "VolumeFailed",
                r.clone(),
                format!(
                    "volume {name} is Failed: {}",
                    status
                        .and_then(|s| s.message.as_deref())
                        .filter(|m| !m.trim().is_empty())
                        .map(str::trim)
                        .unwrap_or(
                            "automatic reclamation failed (the PV controller gave no message)"
                        )
                ),
            ),
            "Available" => self.diag(
                Severity::Info,
                "VolumeAvailable",
                r.clone(),
                format!("volume {name} is Available: no claim uses it yet"),
            ),
            _ => {}
        }
        if replaced && let Some(cr) = cr {
            self.diag(
                Severity::Error,
                "ClaimReplaced",
                r.clone(),
                format!(
                    "volume {name} belongs to an earlier claim {} (uid {}); the claim of that name now is a different object (uid {}), which does not use this volume's data",
                    cr_text.as_deref().unwrap_or_default(),
                    cr.uid.as_deref().unwrap_or_default(),
                    live.and_then(|c| c.metadata.uid.as_deref()).unwrap_or_default()
                ),
            );
        }
        if phase == "Bound"
            && let Some(cr_name) = cr_name
            && live.is_none()
        {
            // A LIST of whole kinds is only conclusive when the claim's namespace was in
            // view; a plan's lookup of the claim (or LIST of its namespace) always is.
            let in_view = self.snap.pvcs.iter().any(|c| meta_ns(&c.metadata) == cr_ns)
                || self.snap.pods.iter().any(|p| meta_ns(&p.metadata) == cr_ns);
            let conclusive = if self.snap.is_complete(Kind::PersistentVolumeClaim) {
                in_view
            } else {
                self.snap
                    .covers(Kind::PersistentVolumeClaim, Some(cr_ns), cr_name)
            };
            if conclusive {
                self.diag(
                    Severity::Error,
                    "VolumeOrphaned",
                    r.clone(),
                    format!("volume {name} is Bound to claim {cr_ns}/{cr_name}, which does not exist: nothing can use this volume; delete the PV (and the backing storage) or recreate the claim with volumeName {name}"),
                );
            }
        }
        if let Some(sc) = spec
            .and_then(|s| s.storage_class_name.as_deref())
            .filter(|s| !s.is_empty())
            && self.snap.covers(Kind::StorageClass, None, sc)
            && !self.idx.storage_classes.contains_key(sc)
        {
            self.diag(
                    Severity::Info,
                    "StorageClassGone",
                    r.clone(),
                    format!("volume {name} names StorageClass \"{sc}\", which no longer exists: expansion and reclaim settings of the class are gone (the volume itself is fine)"),
                );
        }
        self.volume_affinity(pv, &r, &name);
        self.attachments(&name);
    }

    /// A Released volume: its claim was deleted (or replaced), or its claimRef already cleared.
    fn released(
        &mut self,
        pv: &'a PersistentVolume,
        name: &str,
        policy: &str,
        has_claim_ref: bool,
        claim: Option<&str>,
        replaced: bool,
    ) {
        let r = pv_ref(name);
        let clear = format!(
            "kubectl patch pv {name} --type json -p '[{{\"op\":\"remove\",\"path\":\"/spec/claimRef\"}}]'"
        );
        let (sev, msg) = match (has_claim_ref, claim, policy) {
            (false, _, _) => (
                Severity::Info,
                format!(
                    "volume {name} is Released and has no claimRef any more: the PV controller makes it Available on its next pass, and any claim that fits may then bind it"
                ),
            ),
            (true, None, "Retain") => (
                Severity::Warning,
                format!(
                    "volume {name} is Released: its claimRef names no claim; the data is retained. To reuse it, clear spec.claimRef ({clear}); to free the storage, delete the PV and the backing volume"
                ),
            ),
            (true, Some(c), "Retain") => (
                Severity::Warning,
                format!(
                    "volume {name} is Released: its claim {c} was deleted{}; the data is retained. To reuse it, clear spec.claimRef ({clear}) and set the claim's volumeName; to free the storage, delete the PV and the backing volume",
                    if replaced {
                        " (a claim of that name was created again, as a new object that does not use this volume)"
                    } else {
                        ""
                    }
                ),
            ),
            (true, _, _) => (
                Severity::Warning,
                match self.latest_event(
                    &EventKey::of("PersistentVolume", &pv.metadata),
                    &["VolumeFailedDelete"],
                ) {
                    Some(ev) => format!(
                        "volume {name} is Released with reclaimPolicy {policy} but has not been reclaimed: deleting it failed: {}",
                        ev.message.as_deref().unwrap_or("").trim()
                    ),
                    None => format!(
                        "volume {name} is Released with reclaimPolicy {policy} but has not been reclaimed: the provisioner may be failing to delete it (see its events)"
                    ),
                },
            ),
        };
        self.diag(sev, "VolumeReleased", r, msg);
    }
}
