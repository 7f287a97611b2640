//! vSphere CNS (`csi.vsphere.vmware.com`): block volumes (First Class Disks) and vSAN file
//! shares.

use crate::backend::Attrs;
use crate::backend::decoded::{Decoded, attr, or_unset};

/// Block: the First Class Disk id; file: `file:<vSAN file share id>`.
pub(super) fn vsphere(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    if let Some(id) = h.strip_prefix("file:") {
        d.set("fileShareId", id);
        d.what = format!("vSphere CNS file share {}", or_unset(id));
    } else {
        d.set("volumeId", h);
        d.what = format!("vSphere CNS block volume (FCD) {}", or_unset(h));
    }
    d.set_opt("type", attr(attrs, &["type"]));
    d.set_opt("datastoreUrl", attr(attrs, &["datastoreurl"]));
    d
}
