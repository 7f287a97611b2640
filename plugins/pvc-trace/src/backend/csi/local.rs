//! Node-local storage: TopoLVM (`topolvm.io`), OpenEBS ZFS LocalPV (`zfs.csi.openebs.io`) and
//! LVM LocalPV (`local.csi.openebs.io`). csi-hostpath's handle is its volume id alone: a
//! `simple` row of the driver table in `csi/mod.rs`.

use crate::backend::Attrs;
use crate::backend::decoded::{Decoded, attr, or_unset};

/// TopoLVM: the handle is the LV name; device class in `topolvm.io/device-class`.
pub(super) fn topolvm(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    let class = attr(
        attrs,
        &["topolvm.io/device-class", "topolvm.cybozu.com/device-class"],
    );
    d.set("logicalVolume", h);
    d.set_opt("deviceClass", class);
    d.what = match class {
        Some(c) => format!("TopoLVM logical volume {} (device-class {c})", or_unset(h)),
        None => format!("TopoLVM logical volume {}", or_unset(h)),
    };
    d
}

/// OpenEBS ZFS LocalPV: dataset `<openebs.io/poolname>/<handle>`.
pub(super) fn openebs_zfs(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    let pool = attr(attrs, &["openebs.io/poolname", "poolname"]);
    let dataset = match pool {
        Some(p) => format!("{p}/{h}"),
        None => h.to_string(),
    };
    d.set_opt("pool", pool);
    d.set("dataset", &dataset);
    d.what = format!("OpenEBS ZFS dataset {}", or_unset(&dataset));
    d
}

/// OpenEBS LVM LocalPV: LV `<openebs.io/volgroup>/<handle>`.
pub(super) fn openebs_lvm(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    let vg = attr(attrs, &["openebs.io/volgroup", "volgroup"]);
    d.set_opt("volumeGroup", vg);
    d.set("logicalVolume", h);
    d.what = match vg {
        Some(vg) => format!("OpenEBS LVM {vg}/{}", or_unset(h)),
        None => format!("OpenEBS LVM volume {}", or_unset(h)),
    };
    d
}
