//! Decoding a PersistentVolume's source into a readable backend: which disk, share, image or
//! path actually holds the data. Pure: no I/O.
//!
//! CONTRACT (used by the trace graph; keep these signatures):
//! - `decode_pv(&PersistentVolume) -> Backend`
//! - `Backend { kind, driver, summary, fields, zone }`
//!
//! What is decoded:
//! - all 22 core/v1 `PersistentVolumeSource` types (`kind` is the core/v1 field name);
//! - the common CSI drivers (AWS, GCP, Azure, OpenStack, vSphere, the kubernetes-csi NFS, SMB
//!   and iSCSI drivers, NVMe-oF, Ceph RBD/CephFS (also Rook's `<ns>.rbd.csi.ceph.com`),
//!   Longhorn, TopoLVM, csi-hostpath, OpenEBS ZFS/LVM, Portworx, democratic-csi);
//! - unknown CSI drivers keep the handle and every volume attribute verbatim;
//! - the node (`fields["node"]`) and the zone (`zone`, `fields["zone"]`) from `spec.nodeAffinity`,
//!   the legacy `volume.alpha.kubernetes.io/node-affinity` annotation and the zone labels;
//! - the provisioner of non-CSI PVs (annotation `pv.kubernetes.io/provisioned-by`) → `driver`.
//!
//! Field names in `fields` are lowerCamelCase and stable: they are part of the JSON output.
//! Only unknown CSI drivers and FlexVolume options are copied with their own keys.
//!
//! Where things are:
//! - this file: the [`Backend`] model and the entry points [`decode_pv`] / [`decode_csi`];
//! - `decoded`: the scaffolding every decoder shares (`Ctx`: what the PV says besides its
//!   source; `Decoded`: what a decoder found; `finish`: merging node, zone and the summary);
//! - `topology`: node and zone from the node affinity, the alpha annotation and the labels;
//! - `intree`: the 22 core/v1 sources, one small function each, tried in the order of a table;
//! - `csi/`: the CSI dispatch (`csi/mod.rs`, one `match` on the driver name) and one file per
//!   vendor family (`aws`, `gcp`, `azure`, `openstack`, `vsphere`, `ceph`, `nfs_smb`,
//!   `iscsi_nvme`, `democratic`, `longhorn`, `local`);
//! - `tests`: every decoder, and the 50 real PVs of `tests/fixtures/real-pvs.yaml`.
//!
//! To add a CSI driver: see `csi/mod.rs` (a function in the vendor family's file, one arm in
//! the driver `match`, a test in `tests.rs`, and a mention in the list above).

mod csi;
mod decoded;
mod intree;
#[cfg(test)]
mod tests;
mod topology;

use indexmap::IndexMap;
use serde::Serialize;

use stateful_core::snapshot::lean::{PersistentVolume, SmallMap};

pub use csi::aws::parse_aws_volume_id;
pub use csi::azure::azure_id_part;
pub use csi::ceph::{CephCsiHandle, parse_ceph_csi_handle};
pub use topology::{Topology, is_node_key, is_zone_key};

use decoded::{Ctx, Decoded, finish};

/// A CSI volume's attributes.
pub type Attrs = SmallMap<String>;

/// The annotation the PV controller / external-provisioner sets to the provisioner's name.
pub const PROVISIONED_BY_ANNOTATION: &str = "pv.kubernetes.io/provisioned-by";
/// The pre-1.10 way to pin a local PV to a node: a JSON `NodeAffinity` in an annotation.
pub const ALPHA_NODE_AFFINITY_ANNOTATION: &str = "volume.alpha.kubernetes.io/node-affinity";
/// PV labels that carry the zone(s) of in-tree cloud volumes (several zones joined by `__`).
pub const ZONE_LABELS: [&str; 2] = [
    "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/zone",
];

/// The storage behind one PersistentVolume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Backend {
    /// The PV source type as named in core/v1 (`csi`, `nfs`, `hostPath`, `awsElasticBlockStore`, …),
    /// or `unknown` when the PV has no recognised source.
    pub kind: String,
    /// CSI driver name, or the provisioner a non-CSI PV came from (e.g. `rancher.io/local-path`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// One readable line, e.g. `AWS EBS vol-0abc… in us-east-1a`, `NFS 10.0.0.5:/exports/db`.
    pub summary: String,
    /// The identifying values, in a readable order (volumeId, zone, server, path, pool, image…).
    pub fields: IndexMap<String, String>,
    /// The zone the volume lives in, when the source or its handle says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

impl Backend {
    /// One field's value, if decoded.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }
}

/// Decode a PV's source (whichever of the 22 core/v1 types is set) into a [`Backend`].
/// Never panics; a PV without a source gives kind `unknown`.
pub fn decode_pv(pv: &PersistentVolume) -> Backend {
    let ctx = Ctx::from_pv(pv);
    let decoded = pv
        .spec
        .as_ref()
        .and_then(|spec| intree::decode_source(spec, &ctx))
        .unwrap_or_else(|| {
            let mut d = Decoded::new("unknown");
            d.what = match ctx.provisioned_by {
                Some(p) => {
                    format!("unknown: the PV spec names no volume source (provisioned by {p})")
                }
                None => "unknown: the PV spec names no volume source".to_string(),
            };
            d
        });
    finish(decoded, &ctx)
}

/// Decode a CSI volume from its driver, handle and volume attributes alone (no PV context:
/// no node affinity, mount options or annotations).
pub fn decode_csi(driver: &str, handle: &str, attrs: &Attrs) -> Backend {
    let ctx = Ctx::default();
    finish(csi::decode_driver(driver, handle, attrs, &ctx), &ctx)
}
