//! OpenStack: Manila shares (`<protocol>.manila.csi.openstack.org`). Cinder's handle is the
//! volume id alone: it is a `simple` row of the driver table in `csi/mod.rs`.

use crate::backend::Attrs;
use crate::backend::decoded::{Decoded, attr, or_unset};

/// `nfs.manila.csi.openstack.org`, `cephfs.manila.csi.openstack.org`, …
pub(super) fn manila(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    let protocol = driver
        .strip_suffix(".manila.csi.openstack.org")
        .unwrap_or("");
    let share = attr(attrs, &["shareID"]).unwrap_or(h);
    d.set("shareId", share);
    d.set_opt(
        "shareAccessIds",
        attr(attrs, &["shareAccessIDs", "shareAccessID"]),
    );
    d.set("protocol", protocol);
    d.what = if protocol.is_empty() {
        format!("OpenStack Manila share {}", or_unset(share))
    } else {
        format!(
            "OpenStack Manila {} share {}",
            protocol.to_uppercase(),
            or_unset(share)
        )
    };
    d
}
