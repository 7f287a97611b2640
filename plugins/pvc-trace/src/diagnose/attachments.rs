//! Attachments: a volume's VolumeAttachments that report an attach error (the pod waits) or
//! a detach error (a pod elsewhere waits).

use super::Diagnoser;
use crate::model::{ObjectRef, Severity};

impl Diagnoser<'_, '_> {
    /// The attach and detach errors of volume `name`.
    pub(super) fn attachments(&mut self, r: &ObjectRef, name: &str) {
        for va in self
            .idx
            .attachments_by_pv
            .get(name)
            .cloned()
            .unwrap_or_default()
        {
            let st = va.status.as_ref();
            if let Some(e) = st.and_then(|s| s.attach_error.as_ref()) {
                self.diag(
                    Severity::Error,
                    "AttachFailed",
                    r.clone(),
                    format!(
                        "volume {name} cannot attach to node {}: {}",
                        va.spec.node_name,
                        e.message.clone().unwrap_or_default()
                    ),
                );
            }
            if let Some(e) = st.and_then(|s| s.detach_error.as_ref()) {
                self.diag(
                    Severity::Warning,
                    "DetachFailed",
                    r.clone(),
                    format!(
                        "volume {name} cannot detach from node {}: {} (a pod elsewhere waits for it)",
                        va.spec.node_name,
                        e.message.clone().unwrap_or_default()
                    ),
                );
            }
        }
    }
}
