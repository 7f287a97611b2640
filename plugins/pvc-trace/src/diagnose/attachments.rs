//! Attachments: VolumeAttachments analysed on their own, whether or not their volume is in the
//! data: an attach error (the pod waits), a detach error (a pod elsewhere waits), a deletion
//! held by a finalizer (the attacher has not confirmed the detach).
//!
//! Each finding sits on the attachment's PersistentVolume (the row a user reads), or on the
//! VolumeAttachment itself for an inline volume.

use k8s_openapi::api::storage::v1::VolumeAttachment;

use super::Diagnoser;
use crate::model::{ObjectRef, Severity};
use crate::objects::{meta_name, pv_ref};

impl Diagnoser<'_, '_> {
    /// The attach and detach errors, and stuck deletions, of the attachments of volume `name`.
    pub(crate) fn attachments(&mut self, name: &str) {
        for va in self
            .idx
            .attachments_by_pv
            .get(name)
            .cloned()
            .unwrap_or_default()
        {
            self.attachment(va);
        }
    }

    /// One VolumeAttachment's errors and its deletion, if held by a finalizer.
    pub(crate) fn attachment(&mut self, va: &VolumeAttachment) {
        let va_name = meta_name(&va.metadata);
        let (r, what) = match va.spec.source.persistent_volume_name.as_deref() {
            Some(pv) => (pv_ref(pv), format!("volume {pv}")),
            None => (
                ObjectRef::new("VolumeAttachment", None, va_name),
                format!("inline volume of attachment {va_name}"),
            ),
        };
        let node = &va.spec.node_name;
        let st = va.status.as_ref();
        if let Some(e) = st.and_then(|s| s.attach_error.as_ref()) {
            self.diag(
                Severity::Error,
                "AttachFailed",
                r.clone(),
                format!(
                    "{what} cannot attach to node {node}: {} (VolumeAttachment {va_name}, attacher {})",
                    e.message.as_deref().unwrap_or("").trim(),
                    va.spec.attacher
                ),
            );
        }
        if let Some(e) = st.and_then(|s| s.detach_error.as_ref()) {
            self.diag(
                Severity::Warning,
                "DetachFailed",
                r.clone(),
                format!(
                    "{what} cannot detach from node {node}: {} (VolumeAttachment {va_name}; a pod elsewhere waits for it)",
                    e.message.as_deref().unwrap_or("").trim()
                ),
            );
        }
        let finalizers = va.metadata.finalizers.as_deref().unwrap_or(&[]);
        if let Some(since) = &va.metadata.deletion_timestamp
            && !finalizers.is_empty()
        {
            self.diag(
                Severity::Warning,
                "AttachmentStuck",
                r,
                format!(
                    "VolumeAttachment {va_name} ({what} on node {node}) is being deleted since {} but finalizer {} holds it: the attacher ({}) has not confirmed the detach; check its controller's logs, and the node. Removing the finalizer by hand skips the detach (kubectl patch volumeattachment {va_name} --type merge -p '{{\"metadata\":{{\"finalizers\":null}}}}') and is safe only when the disk is known detached",
                    since.0,
                    finalizers.join(", "),
                    va.spec.attacher
                ),
            );
        }
    }
}
