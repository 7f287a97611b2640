//! Ceph: ceph-csi RBD, CephFS and NFS (`rbd.csi.ceph.com`, also Rook's
//! `<namespace>.rbd.csi.ceph.com`, and the same for `cephfs` and `nfs`), and the ceph-csi volume
//! handle parser.

use crate::backend::Attrs;
use crate::backend::decoded::{Decoded, attr, or_unset, server_path};

/// `rbd.csi.ceph.com`, `<namespace>.rbd.csi.ceph.com` (Rook) and the same for cephfs/nfs.
pub(super) fn is_ceph(driver: &str, kind: &str) -> bool {
    let base = format!("{kind}.csi.ceph.com");
    driver == base || driver.ends_with(&format!(".{base}"))
}

/// The fields ceph-csi encodes in a dynamically provisioned volume handle:
/// `<version 4 hex>-<clusterID length 4 hex>-<clusterID>-<pool id 16 hex>-<object uuid>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CephCsiHandle {
    pub version: u16,
    pub cluster_id: String,
    pub pool_id: u64,
    pub object_uuid: String,
}

/// Parse a ceph-csi volume handle; `None` for anything else (e.g. a static volume's image name).
pub fn parse_ceph_csi_handle(handle: &str) -> Option<CephCsiHandle> {
    let h = handle.trim();
    let version = u16::from_str_radix(h.get(0..4)?, 16).ok()?;
    if h.get(4..5)? != "-" || h.get(9..10)? != "-" {
        return None;
    }
    let len = usize::from_str_radix(h.get(5..9)?, 16).ok()?;
    let end = 10usize.checked_add(len)?;
    let cluster_id = h.get(10..end)?;
    let rest = h.get(end..)?.strip_prefix('-')?;
    let pool_id = u64::from_str_radix(rest.get(0..16)?, 16).ok()?;
    let uuid = rest.get(16..)?.strip_prefix('-')?;
    if uuid.is_empty() || cluster_id.is_empty() {
        return None;
    }
    Some(CephCsiHandle {
        version,
        cluster_id: cluster_id.to_string(),
        pool_id,
        object_uuid: uuid.to_string(),
    })
}

fn is_true(v: Option<&str>) -> bool {
    v.is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// ceph-csi RBD: attributes `pool`, `imageName`, `clusterID`, `radosNamespace`; a static volume's
/// handle is the image name.
pub(super) fn ceph_rbd(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    let parsed = parse_ceph_csi_handle(h);
    let is_static = is_true(attr(attrs, &["staticVolume"])) || parsed.is_none();
    let pool = attr(attrs, &["pool"]).map(str::to_string);
    let ns = attr(attrs, &["radosNamespace"]);
    let image = match (attr(attrs, &["imageName"]), &parsed) {
        (Some(i), _) => i.to_string(),
        (None, Some(p)) if !is_static => format!(
            "{}{}",
            attr(attrs, &["volumeNamePrefix"]).unwrap_or("csi-vol-"),
            p.object_uuid
        ),
        _ => h.to_string(),
    };
    let cluster = attr(attrs, &["clusterID"])
        .map(str::to_string)
        .or_else(|| parsed.as_ref().map(|p| p.cluster_id.clone()));
    d.set_opt("pool", pool.as_deref());
    d.set_opt("radosNamespace", ns);
    d.set("image", &image);
    d.set_opt("clusterId", cluster.as_deref());
    d.set_opt("dataPool", attr(attrs, &["dataPool"]));
    if let Some(p) = &parsed {
        d.set("poolId", p.pool_id.to_string());
    }
    if is_static {
        d.set("static", "true");
    }
    let pool_show = match (&pool, &parsed) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => format!("pool#{}", p.pool_id),
        (None, None) => "(pool unset)".to_string(),
    };
    let spec = match ns {
        Some(ns) => format!("{pool_show}/{ns}/{}", or_unset(&image)),
        None => format!("{pool_show}/{}", or_unset(&image)),
    };
    d.what = format!("Ceph RBD {spec}");
    d
}

/// ceph-csi CephFS: `fsName`, `subvolumeName`, `subvolumePath`; static volumes: `rootPath`.
pub(super) fn ceph_fs(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    let parsed = parse_ceph_csi_handle(h);
    let fs = attr(attrs, &["fsName"]);
    let subvolume = attr(attrs, &["subvolumeName"]);
    let subvolume_path = attr(attrs, &["subvolumePath"]);
    let root_path = attr(attrs, &["rootPath"]);
    let cluster = attr(attrs, &["clusterID"])
        .map(str::to_string)
        .or_else(|| parsed.as_ref().map(|p| p.cluster_id.clone()));
    d.set_opt("fsName", fs);
    d.set_opt("subvolume", subvolume);
    d.set_opt("subvolumeGroup", attr(attrs, &["subvolumeGroup"]));
    d.set_opt("subvolumePath", subvolume_path);
    d.set_opt("rootPath", root_path);
    d.set_opt("clusterId", cluster.as_deref());
    if is_true(attr(attrs, &["staticVolume"])) {
        d.set("static", "true");
    }
    let fs_show = fs.unwrap_or("(fs unset)");
    d.what = if let Some(p) = subvolume_path.or(root_path) {
        format!("CephFS {fs_show}:{p}")
    } else if let Some(s) = subvolume {
        format!("CephFS {fs_show} subvolume {s}")
    } else {
        format!("CephFS {fs_show} volume {}", or_unset(h))
    };
    d
}

/// ceph-csi NFS (NFS-Ganesha exports of CephFS): `server`, `share`, `fsName`.
pub(super) fn ceph_nfs(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    let server = attr(attrs, &["server"]).unwrap_or("");
    let share = attr(attrs, &["share"]).unwrap_or("");
    d.set("server", server);
    d.set("share", share);
    d.set_opt("fsName", attr(attrs, &["fsName"]));
    d.set_opt("nfsCluster", attr(attrs, &["nfsCluster"]));
    d.set_opt("clusterId", attr(attrs, &["clusterID"]));
    d.what = if server.is_empty() && share.is_empty() {
        format!("Ceph NFS volume {}", or_unset(h))
    } else {
        format!("Ceph NFS {}", server_path(server, share))
    };
    d
}
