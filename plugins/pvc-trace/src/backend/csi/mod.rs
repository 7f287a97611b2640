//! CSI volumes: [`decode_driver`] picks a decoder by the driver's name (one `match`, the table
//! of every known driver), and each vendor family has its own file:
//!
//! | file | drivers |
//! | --- | --- |
//! | `aws.rs` | EBS, EFS / S3 Files, FSx for Lustre, FSx for OpenZFS, Mountpoint for S3 |
//! | `gcp.rs` | Persistent Disk, Filestore, Cloud Storage FUSE |
//! | `azure.rs` | Disk, File, Blob |
//! | `openstack.rs` | Manila (Cinder is a `simple` row of the table) |
//! | `vsphere.rs` | vSphere CNS block and file |
//! | `ceph.rs` | ceph-csi RBD, CephFS, NFS (and Rook's prefixed names) |
//! | `nfs_smb.rs` | kubernetes-csi NFS and SMB |
//! | `iscsi_nvme.rs` | kubernetes-csi iSCSI, NVMe-oF (any driver with an NQN attribute) |
//! | `democratic.rs` | democratic-csi (NFS, SMB, iSCSI, NVMe-oF by `node_attach_driver`) |
//! | `longhorn.rs` | Longhorn |
//! | `local.rs` | TopoLVM, OpenEBS ZFS and LVM LocalPV (csi-hostpath is a `simple` row) |
//!
//! Any other driver goes to [`unknown_csi`], which keeps the handle and every attribute.
//!
//! # Adding a CSI driver
//!
//! 1. Write `fn my_driver(driver: &str, h: &str, attrs: &Attrs) -> Decoded` in the file of its
//!    vendor family (or in a new file, declared below with `mod` and listed in the table above);
//!    take `ctx: &Ctx` too when mount options or the PV's name matter. Start from
//!    `Decoded::csi(driver)`, `set` the identifying values under lowerCamelCase keys (they are
//!    part of the JSON output), and write `what`, the summary line: `finish` appends the zone
//!    and node, and `decode_driver` the handle and fsType.
//! 2. Add its arm to the `match` in [`decode_driver`]: exact names first, then the patterns
//!    (suffixes, prefixes, attributes), which are tried in order. A driver whose handle is its
//!    whole identity needs no function: `simple(drv, h, "volumeId", "Label")`.
//! 3. Add a test to `backend/tests.rs`, its name to `empty_and_odd_values_never_panic`, and a
//!    mention to the list at the top of `backend/mod.rs`.

pub(super) mod aws;
pub(super) mod azure;
pub(super) mod ceph;
mod democratic;
mod gcp;
mod iscsi_nvme;
mod local;
mod longhorn;
mod nfs_smb;
mod openstack;
mod vsphere;

use stateful_core::snapshot::lean::CsiSource;

use super::Attrs;
use super::decoded::{Ctx, Decoded, attr, or_unset};
use aws::{ebs, efs, fsx_lustre, fsx_openzfs, s3};
use azure::{azure_blob, azure_disk, azure_file};
use ceph::{ceph_fs, ceph_nfs, ceph_rbd, is_ceph};
use democratic::democratic;
use gcp::{filestore, gce_pd, gcsfuse};
use iscsi_nvme::{csi_iscsi, nvmeof};
use local::{openebs_lvm, openebs_zfs, topolvm};
use longhorn::longhorn;
use nfs_smb::{csi_nfs, csi_smb};
use openstack::manila;
use vsphere::vsphere;

/// A PV's `csi` source: the driver's decoding, then the source's own fsType and readOnly.
pub(super) fn decode_source(s: &CsiSource, ctx: &Ctx) -> Decoded {
    let empty = Attrs::default();
    let attrs = s.volume_attributes.as_ref().unwrap_or(&empty);
    let mut d = decode_driver(&s.driver, &s.volume_handle, attrs, ctx);
    d.fs_type(s.fs_type.as_ref());
    d.read_only(s.read_only);
    d
}

/// The decoder of `driver`, then the handle and the fsType attribute as trailing fields.
pub(super) fn decode_driver(driver: &str, handle: &str, attrs: &Attrs, ctx: &Ctx) -> Decoded {
    let drv = driver.trim();
    let h = handle.trim();
    let mut d = match drv {
        // Pre-GA names of drivers still found in old PVs are matched with their current ones.
        "ebs.csi.aws.com" | "com.amazon.aws.csi.ebs" => ebs(drv, h, attrs),
        "efs.csi.aws.com" => efs(drv, h, attrs, ctx),
        "fsx.csi.aws.com" => fsx_lustre(drv, h, attrs),
        "fsx.openzfs.csi.aws.com" => fsx_openzfs(drv, h, attrs),
        "s3.csi.aws.com" => s3(drv, h, attrs, ctx),
        "pd.csi.storage.gke.io" | "com.google.csi.gcepd" => gce_pd(drv, h),
        "filestore.csi.storage.gke.io" => filestore(drv, h, attrs),
        "gcsfuse.csi.storage.gke.io" => gcsfuse(drv, h, attrs, ctx),
        "disk.csi.azure.com" => azure_disk(drv, h, attrs),
        "file.csi.azure.com" => azure_file(drv, h, attrs),
        "blob.csi.azure.com" => azure_blob(drv, h, attrs),
        "cinder.csi.openstack.org" => simple(drv, h, "volumeId", "OpenStack Cinder volume"),
        "csi.vsphere.vmware.com" => vsphere(drv, h, attrs),
        "nfs.csi.k8s.io" | "csi-nfsplugin" => csi_nfs(drv, h, attrs),
        "smb.csi.k8s.io" => csi_smb(drv, h, attrs),
        "iscsi.csi.k8s.io" => csi_iscsi(drv, attrs),
        "driver.longhorn.io" | "io.rancher.longhorn" => longhorn(drv, h, attrs),
        "topolvm.io" | "topolvm.cybozu.com" => topolvm(drv, h, attrs),
        "hostpath.csi.k8s.io" | "csi-hostpath" => simple(drv, h, "volumeId", "CSI hostpath volume"),
        "zfs.csi.openebs.io" => openebs_zfs(drv, h, attrs),
        "local.csi.openebs.io" => openebs_lvm(drv, h, attrs),
        "pxd.portworx.com" => simple(drv, h, "volumeId", "Portworx volume"),
        _ if is_ceph(drv, "rbd") => ceph_rbd(drv, h, attrs),
        _ if is_ceph(drv, "cephfs") => ceph_fs(drv, h, attrs),
        _ if is_ceph(drv, "nfs") => ceph_nfs(drv, h, attrs),
        _ if drv == "manila.csi.openstack.org" || drv.ends_with(".manila.csi.openstack.org") => {
            manila(drv, h, attrs)
        }
        _ if drv.starts_with("org.democratic-csi.") => democratic(drv, h, attrs),
        _ if attr(attrs, &["nqn", "subnqn", "targetNqn"]).is_some() => nvmeof(drv, h, attrs),
        _ => unknown_csi(drv, h, attrs),
    };
    if !d.fields.contains_key("handle") {
        d.tail("handle", h);
    }
    if let Some(f) = attr(attrs, &["fsType", "csi.storage.k8s.io/fstype"]) {
        d.tail("fsType", f);
    }
    d
}

/// A driver whose handle is its whole identity: the handle under `key`, `label <handle>`.
fn simple(driver: &str, handle: &str, key: &str, label: &str) -> Decoded {
    let mut d = Decoded::csi(driver);
    d.set(key, handle);
    d.what = format!("{label} {}", or_unset(handle));
    d
}

/// Any other driver: the handle and every attribute verbatim.
pub(super) fn unknown_csi(driver: &str, handle: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    d.set("handle", handle);
    for (k, v) in attrs {
        d.set(k, v);
    }
    d.what = if driver.is_empty() {
        format!("CSI volume {} (no driver named)", or_unset(handle))
    } else {
        format!("CSI {driver} volume {}", or_unset(handle))
    };
    d
}
