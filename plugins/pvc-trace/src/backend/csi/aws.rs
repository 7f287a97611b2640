//! AWS: EBS (`ebs.csi.aws.com`), EFS and S3 Files (`efs.csi.aws.com`), FSx for Lustre and
//! OpenZFS, Mountpoint for S3; and the in-tree EBS volume id parser.

use crate::backend::Attrs;
use crate::backend::decoded::{Ctx, Decoded, attr, or_unset, server_path};

pub(super) fn ebs(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    if let Some(dev) = h.strip_prefix("local-ebs://") {
        let device = format!("/{}", dev.trim_start_matches('/'));
        d.set("device", &device);
        d.what = format!("AWS EBS node-local device {device}");
    } else {
        let (zone, id) = parse_aws_volume_id(h);
        d.set("volumeId", id);
        d.set_opt("zone", zone);
        d.zone = zone.map(str::to_string);
        d.what = format!("AWS EBS {}", or_unset(id));
    }
    if let Some(f) = attr(
        attrs,
        &["ebs.csi.aws.com/fsType", "csi.storage.k8s.io/fstype"],
    ) {
        d.tail("fsType", f);
    }
    d
}

/// EFS handles: `[efs:|s3files:]fs-…[:subpath[:fsap-…]]`; the access point may also be in the
/// mount options (`accesspoint=fsap-…`).
pub(super) fn efs(driver: &str, h: &str, attrs: &Attrs, ctx: &Ctx) -> Decoded {
    let mut d = Decoded::csi(driver);
    let (label, rest) = if let Some(r) = h.strip_prefix("s3files:") {
        ("AWS S3 Files", r)
    } else if let Some(r) = h.strip_prefix("efs:") {
        ("AWS EFS", r)
    } else {
        ("AWS EFS", h)
    };
    let mut parts = rest.splitn(3, ':');
    let fs = parts.next().unwrap_or("").trim();
    let subpath = parts
        .next()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .or_else(|| attr(attrs, &["path"]));
    let ap = parts
        .next()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .or_else(|| ctx.mount_option("accesspoint"));
    d.set("fileSystemId", fs);
    d.set_opt("subpath", subpath);
    d.set_opt("accessPoint", ap);
    d.set_opt("mountTargetIp", attr(attrs, &["mounttargetip"]));
    let mut what = format!("{label} {}", or_unset(fs));
    if let Some(p) = subpath.filter(|p| *p != "/") {
        what.push(':');
        what.push_str(p);
    }
    if let Some(ap) = ap {
        what.push_str(" via access point ");
        what.push_str(ap);
    }
    d.what = what;
    d
}

pub(super) fn fsx_lustre(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    let dns = attr(attrs, &["dnsname"]);
    let mount = attr(attrs, &["mountname"]);
    d.set("fileSystemId", h);
    d.set_opt("dnsName", dns);
    d.set_opt("mountName", mount);
    d.what = match (dns, mount) {
        (Some(dns), Some(m)) => format!("AWS FSx for Lustre {} ({dns}@tcp:/{m})", or_unset(h)),
        (Some(dns), None) => format!("AWS FSx for Lustre {} ({dns})", or_unset(h)),
        _ => format!("AWS FSx for Lustre {}", or_unset(h)),
    };
    d
}

pub(super) fn fsx_openzfs(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    let key = if h.starts_with("fsvol-") {
        "volumeId"
    } else {
        "fileSystemId"
    };
    d.set(key, h);
    let dns = attr(attrs, &["DNSName"]);
    let path = attr(attrs, &["VolumePath"]);
    d.set_opt("dnsName", dns);
    d.set_opt("path", path);
    d.what = match dns {
        Some(dns) => format!(
            "AWS FSx for OpenZFS {} ({})",
            or_unset(h),
            server_path(dns, path.unwrap_or("/"))
        ),
        None => format!("AWS FSx for OpenZFS {}", or_unset(h)),
    };
    d
}

/// Mountpoint for S3: bucket in `bucketName`; prefix and region in the mount options.
pub(super) fn s3(driver: &str, h: &str, attrs: &Attrs, ctx: &Ctx) -> Decoded {
    let mut d = Decoded::csi(driver);
    let bucket = attr(attrs, &["bucketName"]);
    let prefix = ctx.mount_option("prefix");
    d.set_opt("bucket", bucket);
    d.set_opt("prefix", prefix);
    d.set_opt("region", ctx.mount_option("region"));
    d.what = match bucket {
        Some(b) => format!("AWS S3 s3://{b}/{}", prefix.unwrap_or("")),
        None => format!("AWS S3 volume {} (no bucketName attribute)", or_unset(h)),
    };
    d
}

/// `aws://<az>/vol-…` → (`Some(az)`, `vol-…`); `vol-…` → (`None`, `vol-…`).
pub fn parse_aws_volume_id(id: &str) -> (Option<&str>, &str) {
    let id = id.trim();
    match id.strip_prefix("aws://") {
        Some(rest) => match rest.rsplit_once('/') {
            Some((az, vol)) => {
                let az = az.trim_matches('/');
                ((!az.is_empty()).then_some(az), vol)
            }
            None => (None, rest),
        },
        None => (None, id),
    }
}
