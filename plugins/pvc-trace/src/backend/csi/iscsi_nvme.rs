//! Block storage over the network: the kubernetes-csi iSCSI driver (`iscsi.csi.k8s.io`) and
//! NVMe over Fabrics (any driver whose attributes carry an NQN).

use crate::backend::Attrs;
use crate::backend::decoded::{Decoded, attr, iscsi_fields, or_unset};

pub(super) fn csi_iscsi(driver: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    let portal = attr(attrs, &["targetPortal"]).unwrap_or("");
    let portals = attr(attrs, &["portals"])
        .map(|p| p.trim_matches(['[', ']']).replace(['"', ' '], ""))
        .unwrap_or_default();
    let iqn = attr(attrs, &["iqn"]).unwrap_or("");
    let lun = attr(attrs, &["lun"]).unwrap_or("");
    iscsi_fields(&mut d, portal, &portals, iqn, lun);
    d.set_opt("iscsiInterface", attr(attrs, &["iscsiInterface"]));
    d.set_opt("initiatorName", attr(attrs, &["initiatorName"]));
    d
}

/// NVMe over Fabrics: any driver whose attributes carry an NQN.
pub(super) fn nvmeof(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    let nqn = attr(attrs, &["nqn", "subnqn", "targetNqn"]).unwrap_or("");
    let nsid = attr(attrs, &["nsid", "namespaceId"]);
    let transport = attr(attrs, &["transport", "transports", "targetTrType"]);
    let address = attr(attrs, &["targetTrAddr", "address"]).map(|a| {
        match attr(attrs, &["targetTrPort", "port"]) {
            Some(p) => format!("{a}:{p}"),
            None => a.to_string(),
        }
    });
    d.set("nqn", nqn);
    d.set_opt("nsid", nsid);
    d.set_opt("transport", transport);
    d.set_opt("address", address.as_deref());
    let mut what = format!("NVMe-oF {}", if nqn.is_empty() { or_unset(h) } else { nqn });
    if let Some(ns) = nsid {
        what.push_str(&format!(" namespace {ns}"));
    }
    if let Some(a) = address.as_deref().or(transport) {
        what.push_str(&format!(" via {}", a.trim_end_matches(',')));
    }
    d.what = what;
    d
}
