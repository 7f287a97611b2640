//! Google Cloud: Persistent Disk (`pd.csi.storage.gke.io`), Filestore, Cloud Storage FUSE.

use crate::backend::Attrs;
use crate::backend::decoded::{Ctx, Decoded, attr, join_path, or_unset, server_path};

/// `projects/<p>/zones/<z>/disks/<d>` or `projects/<p>/regions/<r>/disks/<d>`.
pub(super) fn gce_pd(driver: &str, h: &str) -> Decoded {
    let mut d = Decoded::csi(driver);
    let parts: Vec<&str> = h.split('/').collect();
    match parts.as_slice() {
        ["projects", project, "zones", zone, "disks", disk] => {
            d.set("disk", disk);
            d.set("project", project);
            d.set("zone", zone);
            if !zone.trim().is_empty() {
                d.zone = Some(zone.trim().to_string());
            }
            d.what = format!("GCE PD {}", or_unset(disk));
        }
        ["projects", project, "regions", region, "disks", disk] => {
            d.set("disk", disk);
            d.set("project", project);
            d.set("region", region);
            d.what = format!(
                "GCE regional PD {} in region {}",
                or_unset(disk),
                or_unset(region)
            );
        }
        _ => {
            d.set("disk", h);
            d.what = format!("GCE PD {}", or_unset(h));
        }
    }
    d
}

/// `modeInstance/<location>/<instance>/<share>`; attributes `ip` and `volume`.
pub(super) fn filestore(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    let parts: Vec<&str> = h.split('/').collect();
    if let [mode, location, instance, share] = parts.as_slice() {
        d.set("instance", instance);
        d.set("location", location);
        d.set("share", share);
        d.set("mode", mode);
    }
    if let Some(v) = attr(attrs, &["volume"]) {
        d.set("share", v);
    }
    let ip = attr(attrs, &["ip"]);
    d.set_opt("ip", ip);
    let share = d.get("share").unwrap_or("").to_string();
    d.what = match (ip, d.get("instance")) {
        (Some(ip), Some(i)) => format!("GCP Filestore {} (instance {i})", server_path(ip, &share)),
        (Some(ip), None) => format!("GCP Filestore {}", server_path(ip, &share)),
        (None, Some(i)) => format!("GCP Filestore instance {i} share {}", or_unset(&share)),
        (None, None) => format!("GCP Filestore {}", or_unset(h)),
    };
    d
}

/// Cloud Storage FUSE: the handle is the bucket (`_` = every bucket the identity can see).
pub(super) fn gcsfuse(driver: &str, h: &str, attrs: &Attrs, ctx: &Ctx) -> Decoded {
    let mut d = Decoded::csi(driver);
    let bucket = attr(attrs, &["bucketName"]).unwrap_or(h);
    let only_dir = ctx.mount_option("only-dir");
    d.set("bucket", bucket);
    d.set_opt("onlyDir", only_dir);
    d.what = if bucket == "_" {
        "GCS every bucket the service account can see (dynamic mounting)".to_string()
    } else {
        match only_dir {
            Some(dir) => format!("GCS bucket gs://{}", join_path(bucket, dir)),
            None => format!("GCS bucket gs://{}", or_unset(bucket)),
        }
    };
    d
}
