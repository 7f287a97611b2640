//! `--usage`: a claim nearly full of bytes or of inodes (the thresholds are
//! `crate::usage::findings`'), and the nodes whose kubelet could not be read (info: unknown,
//! with how to see it).

use super::Diagnoser;
use crate::model::{ObjectRef, Severity, UsageState, VolumeUsage};
use crate::usage::{UsageInput, UsageSource, findings};

impl Diagnoser<'_, '_> {
    pub(crate) fn usage(&mut self, claim: &ObjectRef, u: &VolumeUsage, input: &UsageInput) {
        for (sev, code, msg) in findings(u, &input.thresholds, &claim.name) {
            self.diag(sev, code, claim.clone(), msg);
        }
        if u.state != UsageState::Unknown {
            return;
        }
        let UsageSource::Nodes(nodes) = &input.source else {
            return;
        };
        for node in &u.mounted_on {
            if let Some(Err(why)) = nodes.get(node) {
                let how = if why.starts_with("forbidden") {
                    "ask for get on nodes/proxy to see it (kubectl auth can-i get nodes --subresource=proxy)".to_string()
                } else {
                    format!(
                        "check the node's kubelet (kubectl get --raw /api/v1/nodes/{node}/proxy/stats/summary)"
                    )
                };
                self.diag(
                    Severity::Info,
                    "UsageUnknown",
                    ObjectRef::new("Node", None, node),
                    format!(
                        "the usage of volumes mounted on node {node} is unknown ({why}): {how}"
                    ),
                );
            }
        }
    }
}
