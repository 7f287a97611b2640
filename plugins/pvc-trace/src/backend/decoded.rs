//! The scaffolding every decoder shares: [`Ctx`] (what the PV says besides its source: name,
//! mount options, provisioner, topology), [`Decoded`] (what a decoder found), [`finish`] (node,
//! zone and trailing fields merged, summary line built), and small string and attribute
//! helpers.

use indexmap::IndexMap;
use stateful_core::snapshot::lean::PersistentVolume;

use super::topology::Topology;
use super::{Backend, PROVISIONED_BY_ANNOTATION};

/// What the PV says besides its source: its name, mount options, provisioner and topology
/// (all empty for [`super::decode_csi`]).
#[derive(Default)]
pub(super) struct Ctx<'a> {
    pub(super) pv_name: &'a str,
    pub(super) mount_options: &'a [String],
    pub(super) provisioned_by: Option<&'a str>,
    pub(super) topology: Topology,
}

impl<'a> Ctx<'a> {
    pub(super) fn from_pv(pv: &'a PersistentVolume) -> Self {
        Ctx {
            pv_name: pv.metadata.name.as_deref().unwrap_or(""),
            mount_options: pv
                .spec
                .as_ref()
                .and_then(|s| s.mount_options.as_deref())
                .unwrap_or(&[]),
            provisioned_by: pv
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(PROVISIONED_BY_ANNOTATION))
                .map(|s| s.trim())
                .filter(|s| !s.is_empty()),
            topology: Topology::from_pv(pv),
        }
    }

    /// A mount option's value: `name=value`, `name value`, `--name=value`.
    pub(super) fn mount_option(&self, name: &str) -> Option<&'a str> {
        self.mount_options.iter().find_map(|o| {
            let o = o.trim().trim_start_matches('-');
            let (k, v) = o.split_once(['=', ' '])?;
            let v = v.trim();
            (k.trim().eq_ignore_ascii_case(name) && !v.is_empty()).then_some(v)
        })
    }
}

/// What a decoder found, before node/zone and the trailing fields are merged in.
pub(super) struct Decoded {
    pub(super) kind: &'static str,
    pub(super) driver: Option<String>,
    pub(super) what: String,
    pub(super) fields: IndexMap<String, String>,
    /// Fields that go after node and zone (`handle`, `fsType`, `readOnly`).
    pub(super) tail: IndexMap<String, String>,
    pub(super) zone: Option<String>,
}

impl Decoded {
    pub(super) fn new(kind: &'static str) -> Self {
        Decoded {
            kind,
            driver: None,
            what: String::new(),
            fields: IndexMap::new(),
            tail: IndexMap::new(),
            zone: None,
        }
    }

    pub(super) fn csi(driver: &str) -> Self {
        let mut d = Decoded::new("csi");
        let driver = driver.trim();
        if !driver.is_empty() {
            d.driver = Some(driver.to_string());
        }
        d
    }

    /// Set a field unless the value is empty (an already set field is overwritten).
    pub(super) fn set(&mut self, key: &str, value: impl AsRef<str>) {
        let value = value.as_ref().trim();
        if !value.is_empty() {
            self.fields.insert(key.to_string(), value.to_string());
        }
    }

    pub(super) fn set_opt(&mut self, key: &str, value: Option<impl AsRef<str>>) {
        if let Some(v) = value {
            self.set(key, v);
        }
    }

    pub(super) fn tail(&mut self, key: &str, value: impl AsRef<str>) {
        let value = value.as_ref().trim();
        if !value.is_empty() {
            self.tail.insert(key.to_string(), value.to_string());
        }
    }

    pub(super) fn fs_type(&mut self, fs_type: Option<&String>) {
        if let Some(f) = fs_type {
            self.tail("fsType", f);
        }
    }

    pub(super) fn read_only(&mut self, read_only: Option<bool>) {
        if read_only == Some(true) {
            self.tail("readOnly", "true");
        }
    }

    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }
}

/// Merge node, zone and the trailing fields; build the summary line.
pub(super) fn finish(d: Decoded, ctx: &Ctx) -> Backend {
    let Decoded {
        kind,
        driver,
        what,
        mut fields,
        tail,
        zone,
    } = d;
    let zones = ctx.topology.zones();
    let zone = zone.or_else(|| ctx.topology.zone().map(str::to_string));
    if let Some(z) = &zone {
        fields
            .entry("zone".to_string())
            .or_insert_with(|| z.clone());
    } else if zones.len() > 1 {
        fields
            .entry("zones".to_string())
            .or_insert_with(|| zones.join(","));
    }
    let node = ctx.topology.node();
    if let Some(n) = node {
        fields
            .entry("node".to_string())
            .or_insert_with(|| n.to_string());
    } else {
        let nodes = ctx.topology.nodes();
        if nodes.len() > 1 {
            fields
                .entry("nodes".to_string())
                .or_insert_with(|| nodes.join(","));
        }
    }
    for (k, v) in tail {
        fields.entry(k).or_insert(v);
    }

    let mut summary = if what.trim().is_empty() {
        format!("{kind} volume")
    } else {
        what
    };
    if let Some(z) = &zone {
        if !summary.contains(&format!("in {z}")) {
            summary.push_str(" in ");
            summary.push_str(z);
        }
    } else if zones.len() > 1 {
        summary.push_str(" in zones ");
        summary.push_str(&zones.join(", "));
    }
    if let Some(n) = node
        && !summary.contains(&format!("node {n}"))
    {
        summary.push_str(" on node ");
        summary.push_str(n);
    }

    let driver = match driver {
        Some(d) => Some(d),
        None if kind != "csi" => ctx.provisioned_by.map(str::to_string),
        None => None,
    };
    if kind != "csi"
        && let Some(p) = ctx.provisioned_by
        && !p.starts_with("kubernetes.io/")
        && !summary.contains(p)
    {
        summary.push_str(&format!(" ({p})"));
    }

    Backend {
        kind: kind.to_string(),
        driver,
        summary,
        fields,
        zone,
    }
}

pub(super) fn or_unset(s: &str) -> &str {
    if s.trim().is_empty() { "(unset)" } else { s }
}

/// `server:path` with the path made absolute-looking.
pub(super) fn server_path(server: &str, path: &str) -> String {
    let path = path.trim();
    if path.starts_with('/') || path.is_empty() {
        format!(
            "{}:{}",
            or_unset(server),
            if path.is_empty() { "/" } else { path }
        )
    } else {
        format!("{}:/{}", or_unset(server), path)
    }
}

/// `base/sub` without doubled slashes.
pub(super) fn join_path(base: &str, sub: &str) -> String {
    let sub = sub.trim().trim_start_matches('/');
    if sub.is_empty() {
        return base.to_string();
    }
    format!("{}/{}", base.trim_end_matches('/'), sub)
}

pub(super) fn join_list(list: &[String]) -> String {
    list.iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

/// A volume attribute by any of `names`, compared case-insensitively; empty values are skipped.
pub(super) fn attr<'a, M>(attrs: &'a M, names: &[&str]) -> Option<&'a str>
where
    &'a M: IntoIterator<Item = (&'a String, &'a String)>,
{
    names.iter().find_map(|name| {
        attrs
            .into_iter()
            .find(|(k, v)| k.eq_ignore_ascii_case(name) && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    })
}

/// The iSCSI fields and summary, shared by the in-tree source, the CSI iSCSI driver and
/// democratic-csi.
pub(super) fn iscsi_fields(d: &mut Decoded, portal: &str, portals: &str, iqn: &str, lun: &str) {
    d.set("targetPortal", portal);
    d.set("portals", portals);
    d.set("iqn", iqn);
    d.set("lun", lun);
    let mut what = format!("iSCSI {}", or_unset(iqn));
    if !lun.trim().is_empty() {
        what.push_str(&format!(" lun {}", lun.trim()));
    }
    if !portal.trim().is_empty() {
        what.push_str(&format!(" at {}", portal.trim()));
    }
    d.what = what;
}
