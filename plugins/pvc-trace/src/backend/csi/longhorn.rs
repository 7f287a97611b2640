//! Longhorn (`driver.longhorn.io`): the handle is the Longhorn volume.

use crate::backend::Attrs;
use crate::backend::decoded::{Decoded, attr, or_unset};

pub(super) fn longhorn(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    let replicas = attr(attrs, &["numberOfReplicas"]);
    d.set("volume", h);
    d.set_opt("replicas", replicas);
    d.set_opt("dataLocality", attr(attrs, &["dataLocality"]));
    d.set_opt("dataEngine", attr(attrs, &["dataEngine"]));
    d.what = match replicas {
        Some(r) => format!("Longhorn volume {} ({r} replicas)", or_unset(h)),
        None => format!("Longhorn volume {}", or_unset(h)),
    };
    d
}
