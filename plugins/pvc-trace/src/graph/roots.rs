//! Which roots a trace has: the targets named on the command line (each resolved to exactly
//! one object, or a clean error), or everything in scope.

use crate::hash::HashSet;

use stateful_core::error::{Error, Result};
use stateful_core::labels::Selector;
use stateful_core::snapshot::lean::{MetaView, PersistentVolume, PersistentVolumeClaim, Pod};
use stateful_core::snapshot::{GapReason, Kind};

use super::nodes::has_data_volume;
use super::{Builder, Out};
use crate::model::Root;
use crate::objects::{meta_name, meta_ns};
use crate::target::Target;

impl<'a> Builder<'a> {
    /// The one object of `kind` named `name` (in `ns`, or in the only namespace that has it).
    fn find_namespaced<T, M: MetaView>(
        &self,
        kind: Kind,
        kind_name: &str,
        name: &str,
        ns: Option<&str>,
        items: impl Iterator<Item = &'a T>,
        meta: impl Fn(&T) -> &M,
    ) -> Result<&'a T>
    where
        T: 'a,
    {
        if let Some(g) = self.snap.gap(kind)
            && g.reason == GapReason::Forbidden
        {
            return Err(Error::Forbidden {
                verb: "list".into(),
                resource: kind.resource().into(),
                namespace: g.namespace.clone(),
                message: g.message.clone(),
            });
        }
        let found: Vec<&T> = items
            .filter(|o| meta(o).name() == Some(name))
            .filter(|o| ns.is_none_or(|ns| meta(o).namespace() == Some(ns)))
            .collect();
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(Error::not_found(kind_name, name, ns)),
            many => {
                let nss: Vec<&str> = many.iter().map(|o| meta_ns(meta(o))).collect();
                Err(Error::Usage(format!(
                    "{kind_name} \"{name}\" exists in several namespaces ({}): pick one with -n",
                    nss.join(", ")
                )))
            }
        }
    }

    /// The root of one target.
    pub(super) fn target(&mut self, t: &Target, ns: Option<&str>) -> Result<Root> {
        let snap = self.snap;
        Ok(match t {
            Target::Pod(n) => {
                let p = self
                    .find_namespaced(Kind::Pod, "pod", n, ns, snap.pods.iter(), |o| &o.metadata)?;
                Root::Pod(self.pod_node(p))
            }
            Target::Claim(n) => {
                let c = self.find_namespaced(
                    Kind::PersistentVolumeClaim,
                    "persistentvolumeclaim",
                    n,
                    ns,
                    snap.pvcs.iter(),
                    |o| &o.metadata,
                )?;
                Root::Claim(self.claim_node(meta_ns(&c.metadata), n))
            }
            Target::Volume(n)
                if !self.idx.pvs.contains_key(n.as_str())
                    && self.idx.attachments_by_pv.contains_key(n.as_str()) =>
            {
                // Not in the data, but attached somewhere: the attachments are the trace.
                Root::Volume(Box::new(self.reverse_absent_volume(n)))
            }
            Target::Volume(n) => {
                let pv = self.find_namespaced(
                    Kind::PersistentVolume,
                    "persistentvolume",
                    n,
                    None,
                    snap.pvs.iter(),
                    |o| &o.metadata,
                )?;
                Root::Volume(Box::new(self.reverse_volume(pv)))
            }
            Target::StatefulSet(n) => {
                let s = self.find_namespaced(
                    Kind::StatefulSet,
                    "statefulset",
                    n,
                    ns,
                    snap.statefulsets.iter(),
                    |o| &o.metadata,
                )?;
                Root::Workload(self.statefulset(s))
            }
            Target::Deployment(n) => {
                let d = self.find_namespaced(
                    Kind::Deployment,
                    "deployment",
                    n,
                    ns,
                    snap.deployments.iter(),
                    |o| &o.metadata,
                )?;
                Root::Workload(self.deployment(d))
            }
            Target::StorageClass(n) => {
                let sc = self.find_namespaced(
                    Kind::StorageClass,
                    "storageclass",
                    n,
                    None,
                    snap.storage_classes.iter(),
                    |o| &o.metadata,
                )?;
                Root::StorageClass(self.class_view(sc))
            }
            Target::Node(n) => {
                let exists = self.idx.nodes.contains_key(n.as_str());
                let has_pods = snap.pods.iter().any(|p| {
                    p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(n.as_str())
                }) || snap
                    .volume_attachments
                    .iter()
                    .any(|va| va.spec.node_name == *n);
                if !exists && !has_pods {
                    return Err(Error::not_found("node", n, None));
                }
                Root::Node(self.node_view(n))
            }
        })
    }

    /// Every root in scope, in order: pods with data volumes, claims no such pod uses, and
    /// (all namespaces) volumes with no live claim.
    pub(super) fn everything(
        &mut self,
        all_namespaces: bool,
        selector: Option<&Selector>,
        out: &mut Out<'_, 'a>,
    ) -> Result<()> {
        let selected = |labels: Option<&_>| selector.is_none_or(|s| s.matches(labels));
        let snap = self.snap;
        let mut pods: Vec<&Pod> = snap.pods.iter().filter(|p| has_data_volume(p)).collect();
        pods.sort_by_key(|p| (meta_ns(&p.metadata), meta_name(&p.metadata)));
        let mut used: HashSet<(String, String)> = HashSet::default();
        // Volumes drawn under a pod or a claim: every other one gets a root of its own.
        let mut shown_pvs: HashSet<String> = HashSet::default();
        for p in pods {
            let node = self.pod_node(p);
            for v in &node.volumes {
                if let Some(c) = &v.claim {
                    used.insert((c.namespace.clone(), c.name.clone()));
                    if let Some(pv) = &c.volume {
                        shown_pvs.insert(pv.name.clone());
                    }
                }
            }
            out(self, Root::Pod(node))?;
        }
        let mut claims: Vec<&PersistentVolumeClaim> = snap
            .pvcs
            .iter()
            .filter(|c| {
                !used.contains(&(
                    meta_ns(&c.metadata).to_string(),
                    meta_name(&c.metadata).to_string(),
                ))
            })
            // With -l, a claim no selected pod uses is traced only if it is selected itself.
            .filter(|c| selected(c.metadata.labels.as_ref()))
            .collect();
        claims.sort_by_key(|c| (meta_ns(&c.metadata), meta_name(&c.metadata)));
        for c in claims {
            let node = self.claim_node(meta_ns(&c.metadata), meta_name(&c.metadata));
            if let Some(pv) = &node.volume {
                shown_pvs.insert(pv.name.clone());
            }
            out(self, Root::Claim(node))?;
        }
        if all_namespaces {
            let mut pvs: Vec<&PersistentVolume> = snap
                .pvs
                .iter()
                .filter(|pv| !shown_pvs.contains(meta_name(&pv.metadata)))
                .filter(|pv| selected(pv.metadata.labels.as_ref()))
                .collect();
            pvs.sort_by_key(|pv| meta_name(&pv.metadata));
            for pv in pvs {
                let root = Root::Volume(Box::new(self.reverse_volume(pv)));
                out(self, root)?;
            }
            // Attachments of volumes not in the data: analysed on their own.
            let mut absent: Vec<&str> = self
                .idx
                .attachments_by_pv
                .keys()
                .copied()
                .filter(|n| !self.idx.pvs.contains_key(n))
                .collect();
            absent.sort_unstable();
            for n in absent {
                let root = Root::Volume(Box::new(self.reverse_absent_volume(n)));
                out(self, root)?;
            }
        }
        Ok(())
    }

    /// Is the PV bound to a claim that exists with the same UID (and is the claim in view)?
    pub(super) fn has_live_claim(&self, pv: &PersistentVolume) -> bool {
        let Some(cr) = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) else {
            return false;
        };
        let (ns, name) = (
            cr.namespace.as_deref().unwrap_or(""),
            cr.name.as_deref().unwrap_or(""),
        );
        match self.idx.pvcs.get(&(ns, name)) {
            Some(c) => !super::nodes::replaced_by(pv, c),
            // Not in the data: the volume is listed on its own (its claim's existence is
            // unknown, or known to be gone).
            None => false,
        }
    }
}
