//! Volumes: a volume's phase (Released, Failed, Available), the claim its claimRef names
//! (missing, or replaced by a newer claim of the same name), and a class that is gone. Then
//! its node affinity (`scheduling`) and its attachments (`attachments`).

use stateful_core::snapshot::Kind;
use stateful_core::snapshot::lean::PersistentVolume;

use super::Diagnoser;
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
        let cr_text = cr
            .map(|cr| {
                format!(
                    "{}/{}",
                    cr.namespace.clone().unwrap_or_default(),
                    cr.name.clone().unwrap_or_default()
                )
            })
            .unwrap_or_default();
        match phase {
            "Released" => {
                let msg = if policy == "Retain" {
                    format!(
                        "volume {name} is Released: its claim {cr_text} was deleted; the data is retained. To reuse it, clear spec.claimRef (kubectl patch pv {name} --type json -p '[{{\"op\":\"remove\",\"path\":\"/spec/claimRef\"}}]'); to free the storage, delete the PV and the backing volume"
                    )
                } else {
                    format!(
                        "volume {name} is Released with reclaimPolicy {policy} but has not been reclaimed: the provisioner may be failing to delete it (see its events)"
                    )
                };
                self.diag(Severity::Warning, "VolumeReleased", r.clone(), msg);
            }
            "Failed" => self.diag(
                Severity::Error,
                "VolumeFailed",
                r.clone(),
                format!(
                    "volume {name} is Failed: {}",
                    status
                        .and_then(|s| s.message.clone())
                        .unwrap_or_else(|| "automatic reclamation failed".into())
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
        if phase == "Bound"
            && let Some(cr) = cr
        {
            let key = (
                cr.namespace.as_deref().unwrap_or(""),
                cr.name.as_deref().unwrap_or(""),
            );
            match self.idx.pvcs.get(&key) {
                    None if self.snap.is_complete(Kind::PersistentVolumeClaim) =>
                    {
                        // Only conclusive when the claim's namespace was in view.
                        let in_view = self.snap.pvcs.iter().any(|c| meta_ns(&c.metadata) == key.0)
                            || self.snap.pods.iter().any(|p| meta_ns(&p.metadata) == key.0);
                        if in_view {
                            self.diag(
                                Severity::Error,
                                "VolumeOrphaned",
                                r.clone(),
                                format!("volume {name} is Bound to claim {cr_text}, which does not exist: nothing can use this volume; delete the PV (and the backing storage) or recreate the claim with volumeName {name}"),
                            );
                        }
                    }
                    Some(c) if cr.uid.is_some() && c.metadata.uid != cr.uid => self.diag(
                        Severity::Error,
                        "ClaimReplaced",
                        r.clone(),
                        format!("volume {name} is bound to an earlier claim {cr_text} (uid {}); the claim of that name now is a different object, so this volume's data is not what it uses", cr.uid.clone().unwrap_or_default()),
                    ),
                    _ => {}
                }
        }
        if let Some(sc) = spec
            .and_then(|s| s.storage_class_name.as_deref())
            .filter(|s| !s.is_empty())
            && self.snap.is_complete(Kind::StorageClass)
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
        self.attachments(&r, &name);
    }
}
