//! Azure: Disk (`disk.csi.azure.com`), File and Blob (one handle format for both); and the
//! resource-id parser the in-tree Azure Disk shares.

use crate::backend::Attrs;
use crate::backend::decoded::{Decoded, attr, or_unset};

/// `/subscriptions/<s>/resourceGroups/<rg>/providers/Microsoft.Compute/disks/<d>`.
pub(super) fn azure_disk(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    let name = azure_id_part(h, "disks")
        .or_else(|| h.rsplit('/').next())
        .unwrap_or("");
    d.set("diskName", name);
    d.set_opt("resourceGroup", azure_id_part(h, "resourceGroups"));
    d.set_opt("subscription", azure_id_part(h, "subscriptions"));
    d.set("diskUri", h);
    d.set_opt("skuName", attr(attrs, &["skuName", "storageAccountType"]));
    d.what = match d.get("resourceGroup") {
        Some(rg) => format!("Azure Disk {} (resource group {rg})", or_unset(name)),
        None => format!("Azure Disk {}", or_unset(name)),
    };
    d
}

/// Azure File and Blob: handle `<rg>#<account>#<share|container>#…`; attributes win.
pub(super) fn azure_share(
    driver: &str,
    h: &str,
    attrs: &Attrs,
    share_key: &str,
    share_attr: &str,
) -> Decoded {
    let mut d = Decoded::csi(driver);
    let mut parts = h.split('#');
    let rg = parts.next().unwrap_or("");
    let account = parts.next().unwrap_or("");
    let share = parts.next().unwrap_or("");
    if h.contains('#') {
        d.set("resourceGroup", rg);
        d.set("storageAccount", account);
        d.set(share_key, share);
    }
    d.set_opt("resourceGroup", attr(attrs, &["resourceGroup"]));
    d.set_opt("storageAccount", attr(attrs, &["storageAccount"]));
    d.set_opt(share_key, attr(attrs, &[share_attr]));
    d.set_opt("subscription", attr(attrs, &["subscriptionID"]));
    d.set_opt("server", attr(attrs, &["server"]));
    d.set_opt("folderName", attr(attrs, &["folderName"]));
    d.set_opt("protocol", attr(attrs, &["protocol"]));
    d
}

pub(super) fn azure_file(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let mut d = azure_share(driver, h, attrs, "share", "shareName");
    let share = d.get("share").unwrap_or("");
    let mut what = match d.get("storageAccount") {
        Some(a) => format!("Azure File {a}/{}", or_unset(share)),
        None => format!("Azure File share {}", or_unset(share)),
    };
    if let Some(p) = d.get("protocol") {
        what.push_str(&format!(" ({})", p.to_uppercase()));
    }
    d.what = what;
    d
}

pub(super) fn azure_blob(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let mut d = azure_share(driver, h, attrs, "container", "containerName");
    let container = d.get("container").unwrap_or("");
    let mut what = match d.get("storageAccount") {
        Some(a) => format!("Azure Blob {a}/{}", or_unset(container)),
        None => format!("Azure Blob container {}", or_unset(container)),
    };
    if let Some(p) = d.get("protocol") {
        what.push_str(&format!(" ({})", p.to_uppercase()));
    }
    d.what = what;
    d
}

/// The segment after `key` (case-insensitive) in an Azure resource id, e.g. `resourceGroups`.
pub fn azure_id_part<'a>(id: &'a str, key: &str) -> Option<&'a str> {
    let mut it = id.split('/').filter(|s| !s.is_empty());
    while let Some(p) = it.next() {
        if p.eq_ignore_ascii_case(key) {
            return it.next();
        }
    }
    None
}
