//! democratic-csi (`org.democratic-csi.*`): one driver name per deployment; the
//! `node_attach_driver` attribute says how the node attaches (NFS, SMB, iSCSI, NVMe-oF).

use super::iscsi_nvme::nvmeof;
use super::unknown_csi;
use crate::backend::Attrs;
use crate::backend::decoded::{Decoded, attr, iscsi_fields, or_unset, server_path};

/// democratic-csi: `node_attach_driver` says how the node attaches (nfs, smb, iscsi, nvmeof, …).
pub(super) fn democratic(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let attach = attr(attrs, &["node_attach_driver"]).unwrap_or("");
    let mut d = match attach {
        "nfs" => {
            let mut d = Decoded::csi(driver);
            let server = attr(attrs, &["server"]).unwrap_or("");
            let share = attr(attrs, &["share"]).unwrap_or("");
            d.set("server", server);
            d.set("share", share);
            d.what = format!("NFS {}", server_path(server, share));
            d
        }
        "smb" => {
            let mut d = Decoded::csi(driver);
            let server = attr(attrs, &["server"]).unwrap_or("");
            let share = attr(attrs, &["share"]).unwrap_or("");
            d.set("server", server);
            d.set("share", share);
            d.what = format!(
                "SMB //{}/{}",
                or_unset(server),
                share.trim_start_matches('/')
            );
            d
        }
        "iscsi" => {
            let mut d = Decoded::csi(driver);
            let portal = attr(attrs, &["portal", "targetPortal"]).unwrap_or("");
            let portals = attr(attrs, &["portals"]).unwrap_or("");
            let iqn = attr(attrs, &["iqn"]).unwrap_or("");
            let lun = attr(attrs, &["lun"]).unwrap_or("");
            iscsi_fields(&mut d, portal, portals, iqn, lun);
            d
        }
        "nvmeof" => nvmeof(driver, h, attrs),
        _ => unknown_csi(driver, h, attrs),
    };
    d.set("attachDriver", attach);
    d.set_opt("provisionerDriver", attr(attrs, &["provisioner_driver"]));
    d
}
