//! The kubernetes-csi file-share drivers: NFS (`nfs.csi.k8s.io`) and SMB (`smb.csi.k8s.io`).

use crate::backend::Attrs;
use crate::backend::decoded::{Decoded, attr, join_path, or_unset, server_path};

/// csi-driver-nfs: attributes `server`, `share`, `subdir`; handle `server#share#subdir#…`.
pub(super) fn csi_nfs(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    let mut parts = h.split('#');
    let mut server = parts.next().unwrap_or("").trim().to_string();
    let mut share = parts.next().unwrap_or("").trim().to_string();
    let mut subdir = parts.next().unwrap_or("").trim().to_string();
    // `server/share##` (older examples): the share after the first `/`.
    if share.is_empty()
        && let Some((s, rest)) = server.clone().split_once('/')
    {
        server = s.to_string();
        share = format!("/{rest}");
    }
    if let Some(v) = attr(attrs, &["server"]) {
        server = v.to_string();
    }
    if let Some(v) = attr(attrs, &["share"]) {
        share = v.to_string();
    }
    if let Some(v) = attr(attrs, &["subdir", "subDir"]) {
        subdir = v.to_string();
    }
    d.set("server", &server);
    d.set("share", &share);
    d.set("subdir", &subdir);
    let path = join_path(if share.is_empty() { "/" } else { &share }, &subdir);
    d.what = format!("NFS {}", server_path(&server, &path));
    d
}

/// csi-driver-smb: attribute `source` = `//server/share`, `subDir`; handle `server/share#…`.
pub(super) fn csi_smb(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    let source = match attr(attrs, &["source"]) {
        Some(s) => s.to_string(),
        None => {
            let first = h.split('#').next().unwrap_or("").trim();
            if first.is_empty() {
                String::new()
            } else {
                format!("//{}", first.trim_start_matches('/'))
            }
        }
    };
    let subdir = attr(attrs, &["subDir"]);
    d.set("source", &source);
    if let Some((server, share)) = source
        .trim_start_matches(['/', '\\'])
        .split_once(['/', '\\'])
    {
        d.set("server", server);
        d.set("share", share);
    }
    d.set_opt("subdir", subdir);
    let full = match subdir {
        Some(sub) => join_path(&source, sub),
        None => source.clone(),
    };
    d.what = format!("SMB {}", or_unset(&full));
    d
}
