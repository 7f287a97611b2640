//! Decoding a PersistentVolume's source into a readable backend: which disk, share, image or
//! path actually holds the data. Pure: no I/O.
//!
//! CONTRACT (used by `trace`; keep these signatures):
//! - `decode_pv(&PersistentVolume) -> Backend`
//! - `Backend { kind, driver, summary, fields, zone }`
//!
//! What is decoded:
//! - all 22 core/v1 `PersistentVolumeSource` types (`kind` is the core/v1 field name);
//! - the common CSI drivers (AWS, GCP, Azure, OpenStack, vSphere, the kubernetes-csi NFS, SMB
//!   and iSCSI drivers, NVMe-oF, Ceph RBD/CephFS (also Rook's `<ns>.rbd.csi.ceph.com`),
//!   Longhorn, TopoLVM, csi-hostpath, OpenEBS ZFS/LVM, Portworx, democratic-csi);
//! - unknown CSI drivers keep the handle and every volume attribute verbatim;
//! - the node (`fields["node"]`) and the zone (`zone`, `fields["zone"]`) from `spec.nodeAffinity`,
//!   the legacy `volume.alpha.kubernetes.io/node-affinity` annotation and the zone labels;
//! - the provisioner of non-CSI PVs (annotation `pv.kubernetes.io/provisioned-by`) → `driver`.
//!
//! Field names in `fields` are lowerCamelCase and stable: they are part of the JSON output.
//! Only unknown CSI drivers and FlexVolume options are copied with their own keys.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use k8s_openapi::api::core::v1::{NodeAffinity, NodeSelector};

use stateful_core::snapshot::lean::{CsiSource, PersistentVolume, PersistentVolumeSpec, SmallMap};

/// A CSI volume's attributes.
pub type Attrs = SmallMap<String>;
use serde::Serialize;

/// The annotation the PV controller / external-provisioner sets to the provisioner's name.
pub const PROVISIONED_BY_ANNOTATION: &str = "pv.kubernetes.io/provisioned-by";
/// The pre-1.10 way to pin a local PV to a node: a JSON `NodeAffinity` in an annotation.
pub const ALPHA_NODE_AFFINITY_ANNOTATION: &str = "volume.alpha.kubernetes.io/node-affinity";
/// PV labels that carry the zone(s) of in-tree cloud volumes (several zones joined by `__`).
pub const ZONE_LABELS: [&str; 2] = [
    "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/zone",
];

/// The storage behind one PersistentVolume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Backend {
    /// The PV source type as named in core/v1 (`csi`, `nfs`, `hostPath`, `awsElasticBlockStore`, …),
    /// or `unknown` when the PV has no recognised source.
    pub kind: String,
    /// CSI driver name, or the provisioner a non-CSI PV came from (e.g. `rancher.io/local-path`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// One readable line, e.g. `AWS EBS vol-0abc… in us-east-1a`, `NFS 10.0.0.5:/exports/db`.
    pub summary: String,
    /// The identifying values, in a readable order (volumeId, zone, server, path, pool, image…).
    pub fields: IndexMap<String, String>,
    /// The zone the volume lives in, when the source or its handle says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

impl Backend {
    /// One field's value, if decoded.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }
}

/// Decode a PV's source (whichever of the 22 core/v1 types is set) into a [`Backend`].
/// Never panics; a PV without a source gives kind `unknown`.
pub fn decode_pv(pv: &PersistentVolume) -> Backend {
    let ctx = Ctx::from_pv(pv);
    let decoded = pv
        .spec
        .as_ref()
        .and_then(|spec| decode_source(spec, &ctx))
        .unwrap_or_else(|| {
            let mut d = Decoded::new("unknown");
            d.what = match ctx.provisioned_by {
                Some(p) => {
                    format!("unknown: the PV spec names no volume source (provisioned by {p})")
                }
                None => "unknown: the PV spec names no volume source".to_string(),
            };
            d
        });
    finish(decoded, &ctx)
}

/// Decode a CSI volume from its driver, handle and volume attributes alone (no PV context:
/// no node affinity, mount options or annotations).
pub fn decode_csi(driver: &str, handle: &str, attrs: &Attrs) -> Backend {
    let ctx = Ctx::default();
    finish(csi_driver(driver, handle, attrs, &ctx), &ctx)
}

// ---------------------------------------------------------------------------------------------
// Topology: node and zone from spec.nodeAffinity, the alpha annotation and the zone labels.
// ---------------------------------------------------------------------------------------------

/// The node and zone constraints of a PV, as found in its required node affinity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topology {
    /// `(key, values)` of every `In` requirement (and `matchFields` `metadata.name`), in order.
    pub requirements: Vec<(String, Vec<String>)>,
    /// Zones named by the PV's zone labels (used only when the affinity names none).
    pub label_zones: Vec<String>,
}

impl Topology {
    /// Collect the topology of a PV from `spec.nodeAffinity.required`, the legacy alpha
    /// annotation and the zone labels.
    pub fn from_pv(pv: &PersistentVolume) -> Self {
        let mut t = Topology::default();
        if let Some(required) = pv
            .spec
            .as_ref()
            .and_then(|s| s.node_affinity.as_ref())
            .and_then(|a| a.required.as_ref())
        {
            t.add_selector(required);
        }
        let annotations = pv.metadata.annotations.as_ref();
        if let Some(raw) = annotations.and_then(|a| a.get(ALPHA_NODE_AFFINITY_ANNOTATION))
            && let Ok(affinity) = serde_json::from_str::<NodeAffinity>(raw)
            && let Some(required) = &affinity.required_during_scheduling_ignored_during_execution
        {
            t.add_selector(required);
        }
        if let Some(labels) = pv.metadata.labels.as_ref() {
            for key in ZONE_LABELS {
                if let Some(value) = labels.get(key) {
                    for z in value.split("__").map(str::trim).filter(|z| !z.is_empty()) {
                        push_unique(&mut t.label_zones, z);
                    }
                }
            }
        }
        t
    }

    fn add_selector(&mut self, selector: &NodeSelector) {
        for term in &selector.node_selector_terms {
            for req in term.match_expressions.iter().flatten() {
                if req.operator == "In" {
                    self.add(&req.key, req.values.iter().flatten());
                }
            }
            for req in term.match_fields.iter().flatten() {
                if req.operator == "In" && req.key == "metadata.name" {
                    self.add(&req.key, req.values.iter().flatten());
                }
            }
        }
    }

    fn add<'a>(&mut self, key: &str, values: impl Iterator<Item = &'a String>) {
        let values: Vec<&str> = values.map(|v| v.trim()).filter(|v| !v.is_empty()).collect();
        if values.is_empty() {
            return;
        }
        let idx = match self.requirements.iter().position(|(k, _)| k == key) {
            Some(i) => i,
            None => {
                self.requirements.push((key.to_string(), Vec::new()));
                self.requirements.len() - 1
            }
        };
        if let Some((_, existing)) = self.requirements.get_mut(idx) {
            for v in values {
                push_unique(existing, v);
            }
        }
    }

    /// Every value of the requirements whose key passes `pred`, de-duplicated, in order.
    pub fn values_where(&self, pred: impl Fn(&str) -> bool) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for (key, values) in &self.requirements {
            if pred(key) {
                for v in values {
                    if !out.contains(&v.as_str()) {
                        out.push(v);
                    }
                }
            }
        }
        out
    }

    /// Every node the PV is pinned to.
    pub fn nodes(&self) -> Vec<&str> {
        self.values_where(is_node_key)
    }

    /// Every zone the PV is constrained to (affinity first, else the zone labels).
    pub fn zones(&self) -> Vec<&str> {
        let zones = self.values_where(is_zone_key);
        if zones.is_empty() {
            self.label_zones.iter().map(String::as_str).collect()
        } else {
            zones
        }
    }

    /// The node, when exactly one is named.
    pub fn node(&self) -> Option<&str> {
        single(self.nodes())
    }

    /// The zone, when exactly one is named.
    pub fn zone(&self) -> Option<&str> {
        single(self.zones())
    }
}

/// Node-affinity keys that name a node: `kubernetes.io/hostname`, driver keys such as
/// `topology.hostpath.csi/node`, `topology.topolvm.io/node`, `openebs.io/nodename`, and the
/// `metadata.name` match field.
pub fn is_node_key(key: &str) -> bool {
    key == "metadata.name"
        || key.ends_with("/hostname")
        || key.ends_with("/node")
        || key.ends_with("/nodename")
        || key.ends_with("/nodeid")
}

/// Node-affinity keys that name a zone: `topology.kubernetes.io/zone`,
/// `failure-domain.beta.kubernetes.io/zone`, `topology.ebs.csi.aws.com/zone`,
/// `topology.gke.io/zone`, `topology.disk.csi.azure.com/zone`, … (any `…/zone`).
pub fn is_zone_key(key: &str) -> bool {
    key.ends_with("/zone")
}

fn single(values: Vec<&str>) -> Option<&str> {
    match values.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

fn push_unique(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|v| v == value) {
        list.push(value.to_string());
    }
}

// ---------------------------------------------------------------------------------------------
// Decoding scaffolding
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Ctx<'a> {
    pv_name: &'a str,
    mount_options: &'a [String],
    provisioned_by: Option<&'a str>,
    topology: Topology,
}

impl<'a> Ctx<'a> {
    fn from_pv(pv: &'a PersistentVolume) -> Self {
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
    fn mount_option(&self, name: &str) -> Option<&'a str> {
        self.mount_options.iter().find_map(|o| {
            let o = o.trim().trim_start_matches('-');
            let (k, v) = o.split_once(['=', ' '])?;
            let v = v.trim();
            (k.trim().eq_ignore_ascii_case(name) && !v.is_empty()).then_some(v)
        })
    }
}

/// What a decoder found, before node/zone and the trailing fields are merged in.
struct Decoded {
    kind: &'static str,
    driver: Option<String>,
    what: String,
    fields: IndexMap<String, String>,
    /// Fields that go after node and zone (`handle`, `fsType`, `readOnly`).
    tail: IndexMap<String, String>,
    zone: Option<String>,
}

impl Decoded {
    fn new(kind: &'static str) -> Self {
        Decoded {
            kind,
            driver: None,
            what: String::new(),
            fields: IndexMap::new(),
            tail: IndexMap::new(),
            zone: None,
        }
    }

    fn csi(driver: &str) -> Self {
        let mut d = Decoded::new("csi");
        let driver = driver.trim();
        if !driver.is_empty() {
            d.driver = Some(driver.to_string());
        }
        d
    }

    /// Set a field unless the value is empty (an already set field is overwritten).
    fn set(&mut self, key: &str, value: impl AsRef<str>) {
        let value = value.as_ref().trim();
        if !value.is_empty() {
            self.fields.insert(key.to_string(), value.to_string());
        }
    }

    fn set_opt(&mut self, key: &str, value: Option<impl AsRef<str>>) {
        if let Some(v) = value {
            self.set(key, v);
        }
    }

    fn tail(&mut self, key: &str, value: impl AsRef<str>) {
        let value = value.as_ref().trim();
        if !value.is_empty() {
            self.tail.insert(key.to_string(), value.to_string());
        }
    }

    fn fs_type(&mut self, fs_type: Option<&String>) {
        if let Some(f) = fs_type {
            self.tail("fsType", f);
        }
    }

    fn read_only(&mut self, read_only: Option<bool>) {
        if read_only == Some(true) {
            self.tail("readOnly", "true");
        }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }
}

/// Merge node, zone and the trailing fields; build the summary line.
fn finish(d: Decoded, ctx: &Ctx) -> Backend {
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

fn or_unset(s: &str) -> &str {
    if s.trim().is_empty() { "(unset)" } else { s }
}

/// `server:path` with the path made absolute-looking.
fn server_path(server: &str, path: &str) -> String {
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
fn join_path(base: &str, sub: &str) -> String {
    let sub = sub.trim().trim_start_matches('/');
    if sub.is_empty() {
        return base.to_string();
    }
    format!("{}/{}", base.trim_end_matches('/'), sub)
}

fn join_list(list: &[String]) -> String {
    list.iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

// ---------------------------------------------------------------------------------------------
// The 22 core/v1 PersistentVolumeSource types
// ---------------------------------------------------------------------------------------------

fn decode_source(spec: &PersistentVolumeSpec, ctx: &Ctx) -> Option<Decoded> {
    if let Some(s) = &spec.csi {
        return Some(csi_source(s, ctx));
    }
    if let Some(s) = &spec.nfs {
        let mut d = Decoded::new("nfs");
        d.set("server", &s.server);
        d.set("path", &s.path);
        d.read_only(s.read_only);
        d.what = format!("NFS {}", server_path(&s.server, &s.path));
        return Some(d);
    }
    if let Some(s) = &spec.host_path {
        let mut d = Decoded::new("hostPath");
        d.set("path", &s.path);
        d.set_opt("type", s.type_.as_ref());
        d.what = format!("host path {}", or_unset(&s.path));
        return Some(d);
    }
    if let Some(s) = &spec.local {
        let mut d = Decoded::new("local");
        d.set("path", &s.path);
        d.fs_type(s.fs_type.as_ref());
        d.what = format!("local path {}", or_unset(&s.path));
        return Some(d);
    }
    if let Some(s) = &spec.iscsi {
        let mut d = Decoded::new("iscsi");
        let lun = s.lun.to_string();
        let portals = join_list(s.portals.as_deref().unwrap_or(&[]));
        iscsi_fields(&mut d, &s.target_portal, &portals, &s.iqn, &lun);
        d.set_opt("iscsiInterface", s.iscsi_interface.as_ref());
        d.set_opt("initiatorName", s.initiator_name.as_ref());
        d.fs_type(s.fs_type.as_ref());
        d.read_only(s.read_only);
        return Some(d);
    }
    if let Some(s) = &spec.fc {
        let mut d = Decoded::new("fc");
        let wwns = join_list(s.target_wwns.as_deref().unwrap_or(&[]));
        let wwids = join_list(s.wwids.as_deref().unwrap_or(&[]));
        d.set("targetWwns", &wwns);
        d.set_opt("lun", s.lun.map(|l| l.to_string()));
        d.set("wwids", &wwids);
        d.fs_type(s.fs_type.as_ref());
        d.read_only(s.read_only);
        d.what = if !wwns.is_empty() {
            match s.lun {
                Some(lun) => format!("Fibre Channel WWN {wwns} lun {lun}"),
                None => format!("Fibre Channel WWN {wwns}"),
            }
        } else if !wwids.is_empty() {
            format!("Fibre Channel WWID {wwids}")
        } else {
            "Fibre Channel volume (no WWN or WWID)".to_string()
        };
        return Some(d);
    }
    if let Some(s) = &spec.aws_elastic_block_store {
        let mut d = Decoded::new("awsElasticBlockStore");
        let (zone, id) = parse_aws_volume_id(&s.volume_id);
        d.set("volumeId", id);
        d.set_opt("zone", zone);
        d.zone = zone.map(str::to_string);
        d.set_opt(
            "partition",
            s.partition.filter(|p| *p != 0).map(|p| p.to_string()),
        );
        d.fs_type(s.fs_type.as_ref());
        d.read_only(s.read_only);
        d.what = format!("AWS EBS {}", or_unset(id));
        return Some(d);
    }
    if let Some(s) = &spec.gce_persistent_disk {
        let mut d = Decoded::new("gcePersistentDisk");
        d.set("disk", &s.pd_name);
        d.set_opt(
            "partition",
            s.partition.filter(|p| *p != 0).map(|p| p.to_string()),
        );
        d.fs_type(s.fs_type.as_ref());
        d.read_only(s.read_only);
        d.what = format!("GCE PD {}", or_unset(&s.pd_name));
        return Some(d);
    }
    if let Some(s) = &spec.azure_disk {
        let mut d = Decoded::new("azureDisk");
        let name = if s.disk_name.trim().is_empty() {
            azure_id_part(&s.disk_uri, "disks").unwrap_or("")
        } else {
            s.disk_name.as_str()
        };
        d.set("diskName", name);
        d.set_opt(
            "resourceGroup",
            azure_id_part(&s.disk_uri, "resourceGroups"),
        );
        d.set_opt("subscription", azure_id_part(&s.disk_uri, "subscriptions"));
        d.set("diskUri", &s.disk_uri);
        d.set_opt("diskKind", s.kind.as_ref());
        d.set_opt("cachingMode", s.caching_mode.as_ref());
        d.fs_type(s.fs_type.as_ref());
        d.read_only(s.read_only);
        d.what = match d.get("resourceGroup") {
            Some(rg) => format!("Azure Disk {} (resource group {rg})", or_unset(name)),
            None => format!("Azure Disk {}", or_unset(name)),
        };
        return Some(d);
    }
    if let Some(s) = &spec.azure_file {
        let mut d = Decoded::new("azureFile");
        d.set("share", &s.share_name);
        d.set("secretName", &s.secret_name);
        d.set_opt("secretNamespace", s.secret_namespace.as_ref());
        d.read_only(s.read_only);
        d.what = format!(
            "Azure File share {} (account in secret {})",
            or_unset(&s.share_name),
            or_unset(&s.secret_name)
        );
        return Some(d);
    }
    if let Some(s) = &spec.rbd {
        let mut d = Decoded::new("rbd");
        // In-tree defaults: pool `rbd`, user `admin`.
        let pool = s
            .pool
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .unwrap_or("rbd");
        d.set("pool", pool);
        d.set("image", &s.image);
        d.set("monitors", join_list(&s.monitors));
        d.set_opt("user", s.user.as_ref());
        d.fs_type(s.fs_type.as_ref());
        d.read_only(s.read_only);
        d.what = format!("Ceph RBD {pool}/{}", or_unset(&s.image));
        return Some(d);
    }
    if let Some(s) = &spec.cephfs {
        let mut d = Decoded::new("cephfs");
        let path = s
            .path
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .unwrap_or("/");
        d.set("path", path);
        let monitors = join_list(&s.monitors);
        d.set("monitors", &monitors);
        d.set_opt("user", s.user.as_ref());
        d.read_only(s.read_only);
        d.what = format!("CephFS {path} via monitors {}", or_unset(&monitors));
        return Some(d);
    }
    if let Some(s) = &spec.cinder {
        let mut d = Decoded::new("cinder");
        d.set("volumeId", &s.volume_id);
        d.fs_type(s.fs_type.as_ref());
        d.read_only(s.read_only);
        d.what = format!("OpenStack Cinder volume {}", or_unset(&s.volume_id));
        return Some(d);
    }
    if let Some(s) = &spec.vsphere_volume {
        let mut d = Decoded::new("vsphereVolume");
        d.set("volumePath", &s.volume_path);
        d.set_opt("datastore", vsphere_datastore(&s.volume_path));
        d.set_opt("storagePolicyName", s.storage_policy_name.as_ref());
        d.set_opt("storagePolicyId", s.storage_policy_id.as_ref());
        d.fs_type(s.fs_type.as_ref());
        d.what = format!("vSphere VMDK {}", or_unset(&s.volume_path));
        return Some(d);
    }
    if let Some(s) = &spec.portworx_volume {
        let mut d = Decoded::new("portworxVolume");
        d.set("volumeId", &s.volume_id);
        d.fs_type(s.fs_type.as_ref());
        d.read_only(s.read_only);
        d.what = format!("Portworx volume {}", or_unset(&s.volume_id));
        return Some(d);
    }
    if let Some(s) = &spec.glusterfs {
        let mut d = Decoded::new("glusterfs");
        d.set("volume", &s.path);
        d.set("endpoints", &s.endpoints);
        d.set_opt("endpointsNamespace", s.endpoints_namespace.as_ref());
        d.read_only(s.read_only);
        d.what = format!(
            "GlusterFS volume {} via endpoints {}",
            or_unset(&s.path),
            or_unset(&s.endpoints)
        );
        return Some(d);
    }
    if let Some(s) = &spec.flex_volume {
        return Some(flex(s, ctx));
    }
    if let Some(s) = &spec.scale_io {
        let mut d = Decoded::new("scaleIO");
        let volume = s.volume_name.as_deref().unwrap_or("");
        d.set("volumeName", volume);
        d.set("system", &s.system);
        d.set_opt("protectionDomain", s.protection_domain.as_ref());
        d.set_opt("storagePool", s.storage_pool.as_ref());
        d.set("gateway", &s.gateway);
        d.set_opt("storageMode", s.storage_mode.as_ref());
        d.fs_type(s.fs_type.as_ref());
        d.read_only(s.read_only);
        d.what = format!(
            "ScaleIO volume {} in system {}",
            or_unset(volume),
            or_unset(&s.system)
        );
        if let Some(pool) = d.get("storagePool") {
            d.what = format!("{}, pool {pool}", d.what);
        }
        return Some(d);
    }
    if let Some(s) = &spec.storageos {
        let mut d = Decoded::new("storageos");
        let name = s.volume_name.as_deref().unwrap_or("");
        let ns = s.volume_namespace.as_deref().unwrap_or("").trim();
        d.set("volumeName", name);
        d.set("volumeNamespace", ns);
        d.fs_type(s.fs_type.as_ref());
        d.read_only(s.read_only);
        d.what = if ns.is_empty() {
            format!("StorageOS volume {}", or_unset(name))
        } else {
            format!("StorageOS volume {ns}/{}", or_unset(name))
        };
        return Some(d);
    }
    if let Some(s) = &spec.quobyte {
        let mut d = Decoded::new("quobyte");
        d.set("volume", &s.volume);
        d.set("registry", &s.registry);
        d.set_opt("tenant", s.tenant.as_ref());
        d.set_opt("user", s.user.as_ref());
        d.set_opt("group", s.group.as_ref());
        d.read_only(s.read_only);
        d.what = format!(
            "Quobyte volume {} at {}",
            or_unset(&s.volume),
            or_unset(&s.registry)
        );
        return Some(d);
    }
    if let Some(s) = &spec.flocker {
        let mut d = Decoded::new("flocker");
        let name = s.dataset_name.as_deref().unwrap_or("").trim();
        let uuid = s.dataset_uuid.as_deref().unwrap_or("").trim();
        d.set("datasetName", name);
        d.set("datasetUuid", uuid);
        d.what = format!(
            "Flocker dataset {}",
            if name.is_empty() {
                or_unset(uuid)
            } else {
                name
            }
        );
        return Some(d);
    }
    if let Some(s) = &spec.photon_persistent_disk {
        let mut d = Decoded::new("photonPersistentDisk");
        d.set("pdId", &s.pd_id);
        d.fs_type(s.fs_type.as_ref());
        d.what = format!("Photon persistent disk {}", or_unset(&s.pd_id));
        return Some(d);
    }
    None
}

fn iscsi_fields(d: &mut Decoded, portal: &str, portals: &str, iqn: &str, lun: &str) {
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

fn flex(s: &k8s_openapi::api::core::v1::FlexPersistentVolumeSource, ctx: &Ctx) -> Decoded {
    let mut d = Decoded::new("flexVolume");
    let driver = s.driver.trim();
    if !driver.is_empty() {
        d.driver = Some(driver.to_string());
    }
    let empty = BTreeMap::new();
    let options = s.options.as_ref().unwrap_or(&empty);
    if driver.ends_with("/longhorn") || driver == "longhorn" {
        // The Longhorn FlexVolume driver names the Longhorn volume after the PV.
        let volume = attr(options, &["volumeName"]).unwrap_or(ctx.pv_name);
        d.set("volume", volume);
        d.what = format!("Longhorn volume {} (FlexVolume)", or_unset(volume));
    } else {
        let id = attr(
            options,
            &["volumeName", "volumeID", "volume", "name", "share", "path"],
        );
        d.what = match id {
            Some(id) => format!("FlexVolume {} {id}", or_unset(driver)),
            None => format!("FlexVolume {}", or_unset(driver)),
        };
    }
    for (k, v) in options {
        if !d.fields.contains_key(k) {
            d.set(k, v);
        }
    }
    d.fs_type(s.fs_type.as_ref());
    d.read_only(s.read_only);
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

/// `[Datastore] folder/disk.vmdk` → `Datastore`.
fn vsphere_datastore(path: &str) -> Option<&str> {
    let rest = path.trim().strip_prefix('[')?;
    let (ds, _) = rest.split_once(']')?;
    let ds = ds.trim();
    (!ds.is_empty()).then_some(ds)
}

// ---------------------------------------------------------------------------------------------
// CSI
// ---------------------------------------------------------------------------------------------

/// A volume attribute by any of `names`, compared case-insensitively; empty values are skipped.
fn attr<'a, M>(attrs: &'a M, names: &[&str]) -> Option<&'a str>
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

fn csi_source(s: &CsiSource, ctx: &Ctx) -> Decoded {
    let empty = Attrs::default();
    let attrs = s.volume_attributes.as_ref().unwrap_or(&empty);
    let mut d = csi_driver(&s.driver, &s.volume_handle, attrs, ctx);
    d.fs_type(s.fs_type.as_ref());
    d.read_only(s.read_only);
    d
}

fn csi_driver(driver: &str, handle: &str, attrs: &Attrs, ctx: &Ctx) -> Decoded {
    let drv = driver.trim();
    let h = handle.trim();
    let mut d = match drv {
        "ebs.csi.aws.com" => ebs(drv, h, attrs),
        "efs.csi.aws.com" => efs(drv, h, attrs, ctx),
        "fsx.csi.aws.com" => fsx_lustre(drv, h, attrs),
        "fsx.openzfs.csi.aws.com" => fsx_openzfs(drv, h, attrs),
        "s3.csi.aws.com" => s3(drv, h, attrs, ctx),
        "pd.csi.storage.gke.io" => gce_pd(drv, h),
        "filestore.csi.storage.gke.io" => filestore(drv, h, attrs),
        "gcsfuse.csi.storage.gke.io" => gcsfuse(drv, h, attrs, ctx),
        "disk.csi.azure.com" => azure_disk(drv, h, attrs),
        "file.csi.azure.com" => azure_file(drv, h, attrs),
        "blob.csi.azure.com" => azure_blob(drv, h, attrs),
        "cinder.csi.openstack.org" => simple(drv, h, "volumeId", "OpenStack Cinder volume"),
        "csi.vsphere.vmware.com" => vsphere(drv, h, attrs),
        "nfs.csi.k8s.io" => csi_nfs(drv, h, attrs),
        "smb.csi.k8s.io" => csi_smb(drv, h, attrs),
        "iscsi.csi.k8s.io" => csi_iscsi(drv, attrs),
        "driver.longhorn.io" => longhorn(drv, h, attrs),
        "topolvm.io" | "topolvm.cybozu.com" => topolvm(drv, h, attrs),
        "hostpath.csi.k8s.io" => simple(drv, h, "volumeId", "CSI hostpath volume"),
        "zfs.csi.openebs.io" => openebs_zfs(drv, h, attrs),
        "local.csi.openebs.io" => openebs_lvm(drv, h, attrs),
        "pxd.portworx.com" => simple(drv, h, "volumeId", "Portworx volume"),
        _ if is_ceph(drv, "rbd") => ceph_rbd(drv, h, attrs),
        _ if is_ceph(drv, "cephfs") => ceph_fs(drv, h, attrs),
        _ if is_ceph(drv, "nfs") => ceph_nfs(drv, h, attrs),
        _ if drv == "manila.csi.openstack.org" || drv.ends_with(".manila.csi.openstack.org") => {
            manila(drv, h, attrs)
        }
        _ if drv.starts_with("org.democratic-csi.") => democratic(drv, h, attrs),
        _ if attr(attrs, &["nqn", "subnqn", "targetNqn"]).is_some() => nvmeof(drv, h, attrs),
        _ => unknown_csi(drv, h, attrs),
    };
    if !d.fields.contains_key("handle") {
        d.tail("handle", h);
    }
    if let Some(f) = attr(attrs, &["fsType", "csi.storage.k8s.io/fstype"]) {
        d.tail("fsType", f);
    }
    d
}

/// `rbd.csi.ceph.com`, `<namespace>.rbd.csi.ceph.com` (Rook) and the same for cephfs/nfs.
fn is_ceph(driver: &str, kind: &str) -> bool {
    let base = format!("{kind}.csi.ceph.com");
    driver == base || driver.ends_with(&format!(".{base}"))
}

fn simple(driver: &str, handle: &str, key: &str, label: &str) -> Decoded {
    let mut d = Decoded::csi(driver);
    d.set(key, handle);
    d.what = format!("{label} {}", or_unset(handle));
    d
}

fn unknown_csi(driver: &str, handle: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    d.set("handle", handle);
    for (k, v) in attrs {
        d.set(k, v);
    }
    d.what = if driver.is_empty() {
        format!("CSI volume {} (no driver named)", or_unset(handle))
    } else {
        format!("CSI {driver} volume {}", or_unset(handle))
    };
    d
}

fn ebs(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
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
fn efs(driver: &str, h: &str, attrs: &Attrs, ctx: &Ctx) -> Decoded {
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

fn fsx_lustre(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
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

fn fsx_openzfs(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
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
fn s3(driver: &str, h: &str, attrs: &Attrs, ctx: &Ctx) -> Decoded {
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

/// `projects/<p>/zones/<z>/disks/<d>` or `projects/<p>/regions/<r>/disks/<d>`.
fn gce_pd(driver: &str, h: &str) -> Decoded {
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
fn filestore(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
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
fn gcsfuse(driver: &str, h: &str, attrs: &Attrs, ctx: &Ctx) -> Decoded {
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

/// `/subscriptions/<s>/resourceGroups/<rg>/providers/Microsoft.Compute/disks/<d>`.
fn azure_disk(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
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
fn azure_share(driver: &str, h: &str, attrs: &Attrs, share_key: &str, share_attr: &str) -> Decoded {
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

fn azure_file(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
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

fn azure_blob(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
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

/// `nfs.manila.csi.openstack.org`, `cephfs.manila.csi.openstack.org`, …
fn manila(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
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

/// Block: the First Class Disk id; file: `file:<vSAN file share id>`.
fn vsphere(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
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

/// csi-driver-nfs: attributes `server`, `share`, `subdir`; handle `server#share#subdir#…`.
fn csi_nfs(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
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
fn csi_smb(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
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

fn csi_iscsi(driver: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    let portal = attr(attrs, &["targetPortal"]).unwrap_or("");
    let portals = attr(attrs, &["portals"])
        .map(|p| p.trim_matches(['[', ']']).replace(['"', ' '], ""))
        .unwrap_or_default();
    let iqn = attr(attrs, &["iqn"]).unwrap_or("");
    let lun = attr(attrs, &["lun"]).unwrap_or("");
    iscsi_fields(&mut d, portal, &portals, iqn, lun);
    d.set_opt("iscsiInterface", attr(attrs, &["iscsiInterface"]));
    d.set_opt("initiatorName", attr(attrs, &["initiatorName"]));
    d
}

/// NVMe over Fabrics: any driver whose attributes carry an NQN.
fn nvmeof(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let mut d = Decoded::csi(driver);
    let nqn = attr(attrs, &["nqn", "subnqn", "targetNqn"]).unwrap_or("");
    let nsid = attr(attrs, &["nsid", "namespaceId"]);
    let transport = attr(attrs, &["transport", "transports", "targetTrType"]);
    let address = attr(attrs, &["targetTrAddr", "address"]).map(|a| {
        match attr(attrs, &["targetTrPort", "port"]) {
            Some(p) => format!("{a}:{p}"),
            None => a.to_string(),
        }
    });
    d.set("nqn", nqn);
    d.set_opt("nsid", nsid);
    d.set_opt("transport", transport);
    d.set_opt("address", address.as_deref());
    let mut what = format!("NVMe-oF {}", if nqn.is_empty() { or_unset(h) } else { nqn });
    if let Some(ns) = nsid {
        what.push_str(&format!(" namespace {ns}"));
    }
    if let Some(a) = address.as_deref().or(transport) {
        what.push_str(&format!(" via {}", a.trim_end_matches(',')));
    }
    d.what = what;
    d
}

/// democratic-csi: `node_attach_driver` says how the node attaches (nfs, smb, iscsi, nvmeof, …).
fn democratic(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
    let attach = attr(attrs, &["node_attach_driver"]).unwrap_or("");
    let mut d = match attach {
        "nfs" => {
            let mut d = Decoded::csi(driver);
            let server = attr(attrs, &["server"]).unwrap_or("");
            let share = attr(attrs, &["share"]).unwrap_or("");
            d.set("server", server);
            d.set("share", share);
            d.what = format!("NFS {}", server_path(server, share));
            d
        }
        "smb" => {
            let mut d = Decoded::csi(driver);
            let server = attr(attrs, &["server"]).unwrap_or("");
            let share = attr(attrs, &["share"]).unwrap_or("");
            d.set("server", server);
            d.set("share", share);
            d.what = format!(
                "SMB //{}/{}",
                or_unset(server),
                share.trim_start_matches('/')
            );
            d
        }
        "iscsi" => {
            let mut d = Decoded::csi(driver);
            let portal = attr(attrs, &["portal", "targetPortal"]).unwrap_or("");
            let portals = attr(attrs, &["portals"]).unwrap_or("");
            let iqn = attr(attrs, &["iqn"]).unwrap_or("");
            let lun = attr(attrs, &["lun"]).unwrap_or("");
            iscsi_fields(&mut d, portal, portals, iqn, lun);
            d
        }
        "nvmeof" => nvmeof(driver, h, attrs),
        _ => unknown_csi(driver, h, attrs),
    };
    d.set("attachDriver", attach);
    d.set_opt("provisionerDriver", attr(attrs, &["provisioner_driver"]));
    d
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
fn ceph_rbd(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
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
fn ceph_fs(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
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
fn ceph_nfs(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
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

fn longhorn(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
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

/// TopoLVM: the handle is the LV name; device class in `topolvm.io/device-class`.
fn topolvm(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
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
fn openebs_zfs(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
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
fn openebs_lvm(driver: &str, h: &str, attrs: &Attrs) -> Decoded {
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

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    const REAL_PVS: &str = include_str!("../../tests/fixtures/real-pvs.yaml");

    fn pv(yaml: &str) -> PersistentVolume {
        serde_saphyr::from_str(yaml).expect("test PV YAML parses")
    }

    fn decode(yaml: &str) -> Backend {
        decode_pv(&pv(yaml))
    }

    /// kind, a summary substring, and exact fields.
    #[track_caller]
    fn check(b: &Backend, kind: &str, summary: &str, fields: &[(&str, &str)]) {
        assert_eq!(b.kind, kind, "kind of {b:#?}");
        assert!(
            b.summary.contains(summary),
            "summary {:?} should contain {summary:?}",
            b.summary
        );
        for (k, v) in fields {
            assert_eq!(b.field(k), Some(*v), "field {k} of {b:#?}");
        }
    }

    // ---- core/v1 sources ---------------------------------------------------------------------

    #[test]
    fn nfs_source() {
        let b = decode(
            "metadata: {name: pv-nfs}
spec:
  nfs: {server: 10.0.0.5, path: /exports/db, readOnly: true}",
        );
        check(
            &b,
            "nfs",
            "NFS 10.0.0.5:/exports/db",
            &[
                ("server", "10.0.0.5"),
                ("path", "/exports/db"),
                ("readOnly", "true"),
            ],
        );
        assert_eq!(b.summary, "NFS 10.0.0.5:/exports/db");
        assert_eq!(b.driver, None);
    }

    #[test]
    fn host_path_source_with_local_path_provisioner() {
        let b = decode(
            "metadata:
  name: pvc-5b3a
  annotations: {pv.kubernetes.io/provisioned-by: rancher.io/local-path}
spec:
  hostPath: {path: /opt/local-path-provisioner/pvc-5b3a_default_data-db-0, type: DirectoryOrCreate}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: kubernetes.io/hostname, operator: In, values: [worker-2]}",
        );
        check(
            &b,
            "hostPath",
            "host path /opt/local-path-provisioner/pvc-5b3a_default_data-db-0 on node worker-2",
            &[
                (
                    "path",
                    "/opt/local-path-provisioner/pvc-5b3a_default_data-db-0",
                ),
                ("type", "DirectoryOrCreate"),
                ("node", "worker-2"),
            ],
        );
        assert_eq!(b.driver.as_deref(), Some("rancher.io/local-path"));
        assert!(
            b.summary.ends_with("(rancher.io/local-path)"),
            "{}",
            b.summary
        );
    }

    #[test]
    fn local_source() {
        let b = decode(
            "metadata: {name: local-1}
spec:
  local: {path: /mnt/disks/ssd1, fsType: ext4}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: kubernetes.io/hostname, operator: In, values: [worker-2]}",
        );
        check(
            &b,
            "local",
            "local path /mnt/disks/ssd1 on node worker-2",
            &[
                ("path", "/mnt/disks/ssd1"),
                ("node", "worker-2"),
                ("fsType", "ext4"),
            ],
        );
        assert_eq!(b.summary, "local path /mnt/disks/ssd1 on node worker-2");
    }

    #[test]
    fn local_source_node_from_match_fields() {
        let b = decode(
            "spec:
  local: {path: /data}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchFields:
        - {key: metadata.name, operator: In, values: [node-7]}",
        );
        check(&b, "local", "on node node-7", &[("node", "node-7")]);
    }

    #[test]
    fn iscsi_source() {
        let b = decode(
            "spec:
  iscsi:
    targetPortal: 10.0.2.15:3260
    portals: ['10.0.2.16:3260', '10.0.2.17:3260']
    iqn: iqn.2001-04.com.example:storage.kube.sys1.xyz
    lun: 3
    iscsiInterface: default
    fsType: ext4",
        );
        check(
            &b,
            "iscsi",
            "iSCSI iqn.2001-04.com.example:storage.kube.sys1.xyz lun 3 at 10.0.2.15:3260",
            &[
                ("targetPortal", "10.0.2.15:3260"),
                ("portals", "10.0.2.16:3260,10.0.2.17:3260"),
                ("iqn", "iqn.2001-04.com.example:storage.kube.sys1.xyz"),
                ("lun", "3"),
                ("iscsiInterface", "default"),
                ("fsType", "ext4"),
            ],
        );
    }

    #[test]
    fn fc_source() {
        let b =
            decode("spec:\n  fc: {targetWWNs: ['500a0982991b8dc5', '500a0982891b8dc5'], lun: 2}");
        check(
            &b,
            "fc",
            "Fibre Channel WWN 500a0982991b8dc5,500a0982891b8dc5 lun 2",
            &[
                ("targetWwns", "500a0982991b8dc5,500a0982891b8dc5"),
                ("lun", "2"),
            ],
        );
        let b = decode("spec:\n  fc: {wwids: ['3600508b400105e210000900000490000']}");
        check(
            &b,
            "fc",
            "WWID 3600508b400105e210000900000490000",
            &[("wwids", "3600508b400105e210000900000490000")],
        );
    }

    #[test]
    fn aws_ebs_source_with_zone_in_volume_id() {
        let b = decode(
            "spec:\n  awsElasticBlockStore: {volumeID: 'aws://us-east-1a/vol-0a1b2c3d4e5f', fsType: ext4}",
        );
        check(
            &b,
            "awsElasticBlockStore",
            "AWS EBS vol-0a1b2c3d4e5f in us-east-1a",
            &[
                ("volumeId", "vol-0a1b2c3d4e5f"),
                ("zone", "us-east-1a"),
                ("fsType", "ext4"),
            ],
        );
        assert_eq!(b.summary, "AWS EBS vol-0a1b2c3d4e5f in us-east-1a");
        assert_eq!(b.zone.as_deref(), Some("us-east-1a"));
    }

    #[test]
    fn aws_ebs_source_zone_from_label() {
        let b = decode(
            "metadata:
  labels: {topology.kubernetes.io/zone: eu-west-1b}
spec:
  awsElasticBlockStore: {volumeID: vol-0123}",
        );
        assert_eq!(b.zone.as_deref(), Some("eu-west-1b"));
        check(
            &b,
            "awsElasticBlockStore",
            "AWS EBS vol-0123 in eu-west-1b",
            &[],
        );
    }

    #[test]
    fn gce_pd_source() {
        let b = decode(
            "spec:
  gcePersistentDisk: {pdName: mysql-disk, fsType: ext4, partition: 1}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: topology.kubernetes.io/zone, operator: In, values: [us-central1-a]}",
        );
        check(
            &b,
            "gcePersistentDisk",
            "GCE PD mysql-disk in us-central1-a",
            &[
                ("disk", "mysql-disk"),
                ("partition", "1"),
                ("zone", "us-central1-a"),
            ],
        );
    }

    #[test]
    fn azure_disk_source() {
        let b = decode(
            "spec:
  azureDisk:
    diskName: pvc-disk-1
    diskURI: /subscriptions/0000-1111/resourceGroups/MC_rg_aks_westeurope/providers/Microsoft.Compute/disks/pvc-disk-1
    kind: Managed
    cachingMode: ReadOnly",
        );
        check(
            &b,
            "azureDisk",
            "Azure Disk pvc-disk-1 (resource group MC_rg_aks_westeurope)",
            &[
                ("diskName", "pvc-disk-1"),
                ("resourceGroup", "MC_rg_aks_westeurope"),
                ("subscription", "0000-1111"),
                ("diskKind", "Managed"),
                ("cachingMode", "ReadOnly"),
            ],
        );
    }

    #[test]
    fn azure_file_source() {
        let b = decode(
            "spec:\n  azureFile: {shareName: k8stest, secretName: azure-secret, secretNamespace: apps}",
        );
        check(
            &b,
            "azureFile",
            "Azure File share k8stest",
            &[
                ("share", "k8stest"),
                ("secretName", "azure-secret"),
                ("secretNamespace", "apps"),
            ],
        );
    }

    #[test]
    fn rbd_source() {
        let b = decode(
            "spec:
  rbd: {monitors: ['10.16.154.78:6789', '10.16.154.82:6789'], pool: kube, image: foo, user: admin}",
        );
        check(
            &b,
            "rbd",
            "Ceph RBD kube/foo",
            &[
                ("pool", "kube"),
                ("image", "foo"),
                ("monitors", "10.16.154.78:6789,10.16.154.82:6789"),
            ],
        );
        // In-tree default pool.
        let b = decode("spec:\n  rbd: {monitors: [m], image: bar}");
        check(&b, "rbd", "Ceph RBD rbd/bar", &[("pool", "rbd")]);
    }

    #[test]
    fn cephfs_source() {
        let b = decode(
            "spec:\n  cephfs: {monitors: ['10.16.154.78:6789'], path: /volumes/app, user: admin}",
        );
        check(
            &b,
            "cephfs",
            "CephFS /volumes/app via monitors 10.16.154.78:6789",
            &[("path", "/volumes/app"), ("user", "admin")],
        );
    }

    #[test]
    fn cinder_source() {
        let b = decode(
            "spec:
  cinder: {volumeID: bd82f7e2-wece-4c01-a505-4acf60b07f4a, fsType: ext4}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: failure-domain.beta.kubernetes.io/zone, operator: In, values: [nova]}",
        );
        check(
            &b,
            "cinder",
            "OpenStack Cinder volume bd82f7e2-wece-4c01-a505-4acf60b07f4a in nova",
            &[
                ("volumeId", "bd82f7e2-wece-4c01-a505-4acf60b07f4a"),
                ("zone", "nova"),
            ],
        );
    }

    #[test]
    fn vsphere_volume_source() {
        let b = decode(
            "spec:\n  vsphereVolume: {volumePath: '[vsanDatastore] kubevols/pv-1.vmdk', storagePolicyName: gold}",
        );
        check(
            &b,
            "vsphereVolume",
            "vSphere VMDK [vsanDatastore] kubevols/pv-1.vmdk",
            &[
                ("datastore", "vsanDatastore"),
                ("storagePolicyName", "gold"),
            ],
        );
    }

    #[test]
    fn portworx_source() {
        let b = decode("spec:\n  portworxVolume: {volumeID: '1074580542373590066'}");
        check(
            &b,
            "portworxVolume",
            "Portworx volume 1074580542373590066",
            &[("volumeId", "1074580542373590066")],
        );
    }

    #[test]
    fn glusterfs_source() {
        let b = decode(
            "spec:\n  glusterfs: {endpoints: glusterfs-cluster, path: kube_vol, endpointsNamespace: storage}",
        );
        check(
            &b,
            "glusterfs",
            "GlusterFS volume kube_vol via endpoints glusterfs-cluster",
            &[("volume", "kube_vol"), ("endpointsNamespace", "storage")],
        );
    }

    #[test]
    fn flex_volume_source() {
        let b = decode(
            "spec:
  flexVolume:
    driver: example.com/lvm
    fsType: ext4
    options: {volumeID: vol1, size: 1000m, volumegroup: kube_vg}",
        );
        check(
            &b,
            "flexVolume",
            "FlexVolume example.com/lvm vol1",
            &[
                ("volumeID", "vol1"),
                ("volumegroup", "kube_vg"),
                ("fsType", "ext4"),
            ],
        );
        assert_eq!(b.driver.as_deref(), Some("example.com/lvm"));
    }

    #[test]
    fn scale_io_source() {
        let b = decode(
            "spec:
  scaleIO:
    gateway: https://localhost:443/api
    system: scaleio
    protectionDomain: pd01
    storagePool: sp01
    volumeName: vol-0
    secretRef: {name: sio-secret}",
        );
        check(
            &b,
            "scaleIO",
            "ScaleIO volume vol-0 in system scaleio, pool sp01",
            &[
                ("volumeName", "vol-0"),
                ("protectionDomain", "pd01"),
                ("gateway", "https://localhost:443/api"),
            ],
        );
    }

    #[test]
    fn storageos_source() {
        let b = decode("spec:\n  storageos: {volumeName: redis-vol01, volumeNamespace: prod}");
        check(
            &b,
            "storageos",
            "StorageOS volume prod/redis-vol01",
            &[("volumeName", "redis-vol01"), ("volumeNamespace", "prod")],
        );
    }

    #[test]
    fn quobyte_source() {
        let b =
            decode("spec:\n  quobyte: {registry: 'registry:7861', volume: testVolume, user: root}");
        check(
            &b,
            "quobyte",
            "Quobyte volume testVolume at registry:7861",
            &[("volume", "testVolume"), ("registry", "registry:7861")],
        );
    }

    #[test]
    fn flocker_source() {
        let b = decode("spec:\n  flocker: {datasetName: my-flocker-vol}");
        check(
            &b,
            "flocker",
            "Flocker dataset my-flocker-vol",
            &[("datasetName", "my-flocker-vol")],
        );
        let b = decode("spec:\n  flocker: {datasetUUID: 0b6a2d35-1f6a-4e4b-9fa7-8d4e1e36a3b9}");
        check(&b, "flocker", "0b6a2d35-1f6a-4e4b-9fa7-8d4e1e36a3b9", &[]);
    }

    #[test]
    fn photon_source() {
        let b = decode("spec:\n  photonPersistentDisk: {pdID: 8a9f7d8c-0f1e, fsType: ext4}");
        check(
            &b,
            "photonPersistentDisk",
            "Photon persistent disk 8a9f7d8c-0f1e",
            &[("pdId", "8a9f7d8c-0f1e")],
        );
    }

    #[test]
    fn no_source_is_unknown() {
        let b = decode("metadata: {name: empty}\nspec: {capacity: {storage: 1Gi}}");
        assert_eq!(b.kind, "unknown");
        assert!(b.summary.contains("no volume source"), "{}", b.summary);
        let b = decode_pv(&PersistentVolume::default());
        assert_eq!(b.kind, "unknown");
        assert!(!b.summary.is_empty());
    }

    // ---- CSI drivers --------------------------------------------------------------------------

    #[test]
    fn csi_ebs() {
        let b = decode(
            "spec:
  csi: {driver: ebs.csi.aws.com, volumeHandle: vol-0a1b2c3d4e5f, fsType: ext4}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: topology.ebs.csi.aws.com/zone, operator: In, values: [us-east-1a]}",
        );
        check(
            &b,
            "csi",
            "AWS EBS vol-0a1b2c3d4e5f in us-east-1a",
            &[
                ("volumeId", "vol-0a1b2c3d4e5f"),
                ("zone", "us-east-1a"),
                ("fsType", "ext4"),
            ],
        );
        assert_eq!(b.summary, "AWS EBS vol-0a1b2c3d4e5f in us-east-1a");
        assert_eq!(b.driver.as_deref(), Some("ebs.csi.aws.com"));
        assert_eq!(b.zone.as_deref(), Some("us-east-1a"));
    }

    #[test]
    fn csi_ebs_two_zones_is_ambiguous() {
        let b = decode(
            "spec:
  csi: {driver: ebs.csi.aws.com, volumeHandle: vol-1}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: topology.kubernetes.io/zone, operator: In, values: [us-east-1a, us-east-1b]}",
        );
        assert_eq!(b.zone, None);
        assert_eq!(b.field("zones"), Some("us-east-1a,us-east-1b"));
    }

    #[test]
    fn csi_efs() {
        let efs = |handle: &str| {
            decode(&format!(
                "spec:\n  csi: {{driver: efs.csi.aws.com, volumeHandle: '{handle}'}}"
            ))
        };
        let b = efs("fs-e8a95a42::fsap-068c22f0246419f75");
        check(
            &b,
            "csi",
            "AWS EFS fs-e8a95a42 via access point fsap-068c22f0246419f75",
            &[
                ("fileSystemId", "fs-e8a95a42"),
                ("accessPoint", "fsap-068c22f0246419f75"),
            ],
        );
        assert_eq!(b.field("subpath"), None);
        let b = efs("fs-e8a95a42:/dir1:fsap-1");
        check(
            &b,
            "csi",
            "AWS EFS fs-e8a95a42:/dir1 via access point fsap-1",
            &[("subpath", "/dir1"), ("accessPoint", "fsap-1")],
        );
        let b = efs("efs:fs-e8a95a42");
        check(
            &b,
            "csi",
            "AWS EFS fs-e8a95a42",
            &[("fileSystemId", "fs-e8a95a42")],
        );
        let b = decode(
            "spec:
  mountOptions: [tls, accesspoint=fsap-0abc]
  csi: {driver: efs.csi.aws.com, volumeHandle: fs-1}",
        );
        check(
            &b,
            "csi",
            "via access point fsap-0abc",
            &[("accessPoint", "fsap-0abc")],
        );
    }

    #[test]
    fn csi_fsx() {
        let b = decode(
            "spec:
  csi:
    driver: fsx.csi.aws.com
    volumeHandle: fs-0199e5a63bd90f796
    volumeAttributes: {dnsname: fs-0199e5a63bd90f796.fsx.us-east-1.amazonaws.com, mountname: fsx}",
        );
        check(
            &b,
            "csi",
            "AWS FSx for Lustre fs-0199e5a63bd90f796 (fs-0199e5a63bd90f796.fsx.us-east-1.amazonaws.com@tcp:/fsx)",
            &[
                ("fileSystemId", "fs-0199e5a63bd90f796"),
                ("mountName", "fsx"),
            ],
        );
        let b = decode(
            "spec:
  csi:
    driver: fsx.openzfs.csi.aws.com
    volumeHandle: fsvol-03062e7ff37662dff
    volumeAttributes: {DNSName: fs-0.fsx.us-east-1.amazonaws.com, ResourceType: volume, VolumePath: /fsx/vol1}",
        );
        check(
            &b,
            "csi",
            "fs-0.fsx.us-east-1.amazonaws.com:/fsx/vol1",
            &[("volumeId", "fsvol-03062e7ff37662dff")],
        );
    }

    #[test]
    fn csi_s3() {
        let b = decode(
            "spec:
  mountOptions: [allow-delete, region us-west-2, prefix some-s3-prefix/]
  csi:
    driver: s3.csi.aws.com
    volumeHandle: s3-csi-driver-volume
    volumeAttributes: {bucketName: my-bucket}",
        );
        check(
            &b,
            "csi",
            "AWS S3 s3://my-bucket/some-s3-prefix/",
            &[
                ("bucket", "my-bucket"),
                ("prefix", "some-s3-prefix/"),
                ("region", "us-west-2"),
            ],
        );
    }

    #[test]
    fn csi_gce_pd() {
        let b = decode(
            "spec:\n  csi: {driver: pd.csi.storage.gke.io, volumeHandle: projects/acme/zones/us-central1-c/disks/pvc-1234}",
        );
        check(
            &b,
            "csi",
            "GCE PD pvc-1234 in us-central1-c",
            &[
                ("disk", "pvc-1234"),
                ("project", "acme"),
                ("zone", "us-central1-c"),
            ],
        );
        assert_eq!(b.zone.as_deref(), Some("us-central1-c"));
        let b = decode(
            "spec:
  csi: {driver: pd.csi.storage.gke.io, volumeHandle: projects/acme/regions/us-central1/disks/pvc-r}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: topology.gke.io/zone, operator: In, values: [us-central1-a, us-central1-b]}",
        );
        check(
            &b,
            "csi",
            "GCE regional PD pvc-r in region us-central1",
            &[
                ("region", "us-central1"),
                ("zones", "us-central1-a,us-central1-b"),
            ],
        );
        assert_eq!(b.zone, None);
    }

    #[test]
    fn csi_filestore() {
        let b = decode(
            "spec:
  csi:
    driver: filestore.csi.storage.gke.io
    volumeHandle: modeInstance/us-central1-c/nfs-server/vol1
    volumeAttributes: {ip: 10.33.0.2, volume: vol1}",
        );
        check(
            &b,
            "csi",
            "GCP Filestore 10.33.0.2:/vol1 (instance nfs-server)",
            &[
                ("instance", "nfs-server"),
                ("location", "us-central1-c"),
                ("share", "vol1"),
                ("ip", "10.33.0.2"),
            ],
        );
    }

    #[test]
    fn csi_gcsfuse() {
        let b = decode(
            "spec:
  mountOptions: [implicit-dirs, only-dir=dir1]
  csi: {driver: gcsfuse.csi.storage.gke.io, volumeHandle: my-bucket}",
        );
        check(
            &b,
            "csi",
            "GCS bucket gs://my-bucket/dir1",
            &[("bucket", "my-bucket"), ("onlyDir", "dir1")],
        );
    }

    #[test]
    fn csi_azure_disk() {
        let b = decode(
            "spec:
  csi:
    driver: disk.csi.azure.com
    volumeHandle: /subscriptions/d64ddb0c/resourceGroups/MC_rg/providers/Microsoft.Compute/disks/pvc-abc
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: topology.disk.csi.azure.com/zone, operator: In, values: [westeurope-1]}",
        );
        check(
            &b,
            "csi",
            "Azure Disk pvc-abc (resource group MC_rg) in westeurope-1",
            &[
                ("diskName", "pvc-abc"),
                ("resourceGroup", "MC_rg"),
                ("subscription", "d64ddb0c"),
                ("zone", "westeurope-1"),
            ],
        );
        // Non-zonal disks carry an empty zone value: no zone.
        let b = decode(
            "spec:
  csi: {driver: disk.csi.azure.com, volumeHandle: /subscriptions/s/resourcegroups/rg/providers/microsoft.compute/disks/d}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: topology.disk.csi.azure.com/zone, operator: In, values: ['']}",
        );
        assert_eq!(b.zone, None);
        assert_eq!(b.field("resourceGroup"), Some("rg"));
    }

    #[test]
    fn csi_azure_file() {
        let b = decode(
            "spec:\n  csi: {driver: file.csi.azure.com, volumeHandle: 'mc_rg#f5713de20cde511e8ba4900#pvc-file-dynamic#pvc-1#default'}",
        );
        check(
            &b,
            "csi",
            "Azure File f5713de20cde511e8ba4900/pvc-file-dynamic",
            &[
                ("resourceGroup", "mc_rg"),
                ("storageAccount", "f5713de20cde511e8ba4900"),
                ("share", "pvc-file-dynamic"),
            ],
        );
        let b = decode(
            "spec:
  csi:
    driver: file.csi.azure.com
    volumeHandle: 'x#y#z'
    volumeAttributes: {storageAccount: acct, shareName: share1, protocol: nfs}",
        );
        check(
            &b,
            "csi",
            "Azure File acct/share1 (NFS)",
            &[("share", "share1")],
        );
    }

    #[test]
    fn csi_azure_blob() {
        let b = decode(
            "spec:
  csi:
    driver: blob.csi.azure.com
    volumeHandle: 'rg#acct#data#'
    volumeAttributes: {containerName: data, protocol: fuse2}",
        );
        check(
            &b,
            "csi",
            "Azure Blob acct/data",
            &[("container", "data"), ("protocol", "fuse2")],
        );
    }

    #[test]
    fn csi_cinder() {
        let b = decode(
            "spec:\n  csi: {driver: cinder.csi.openstack.org, volumeHandle: e129824a-16fa-486d-a8c7-482945a626ff}",
        );
        check(
            &b,
            "csi",
            "OpenStack Cinder volume e129824a-16fa-486d-a8c7-482945a626ff",
            &[("volumeId", "e129824a-16fa-486d-a8c7-482945a626ff")],
        );
    }

    #[test]
    fn csi_manila() {
        let b = decode(
            "spec:
  csi:
    driver: cephfs.manila.csi.openstack.org
    volumeHandle: share-1
    volumeAttributes: {shareID: 1b6f-aa, shareAccessID: 77c2}",
        );
        check(
            &b,
            "csi",
            "OpenStack Manila CEPHFS share 1b6f-aa",
            &[
                ("shareId", "1b6f-aa"),
                ("shareAccessIds", "77c2"),
                ("protocol", "cephfs"),
            ],
        );
    }

    #[test]
    fn csi_vsphere() {
        let b = decode(
            "spec:\n  csi: {driver: csi.vsphere.vmware.com, volumeHandle: 0c75d40e-7576-4fe7-8aaa-a92946e2805d}",
        );
        check(
            &b,
            "csi",
            "vSphere CNS block volume (FCD) 0c75d40e-7576-4fe7-8aaa-a92946e2805d",
            &[("volumeId", "0c75d40e-7576-4fe7-8aaa-a92946e2805d")],
        );
        let b = decode("spec:\n  csi: {driver: csi.vsphere.vmware.com, volumeHandle: 'file:236b'}");
        check(
            &b,
            "csi",
            "vSphere CNS file share 236b",
            &[("fileShareId", "236b")],
        );
    }

    #[test]
    fn csi_nfs() {
        let b = decode(
            "spec:\n  csi: {driver: nfs.csi.k8s.io, volumeHandle: '10.0.0.5#/exports#pvc-1#'}",
        );
        check(
            &b,
            "csi",
            "NFS 10.0.0.5:/exports/pvc-1",
            &[
                ("server", "10.0.0.5"),
                ("share", "/exports"),
                ("subdir", "pvc-1"),
            ],
        );
        let b = decode(
            "spec:
  csi:
    driver: nfs.csi.k8s.io
    volumeHandle: unique-1
    volumeAttributes: {server: nfs.example.com, share: /srv, subdir: app}",
        );
        check(
            &b,
            "csi",
            "NFS nfs.example.com:/srv/app",
            &[("subdir", "app")],
        );
    }

    #[test]
    fn csi_smb() {
        let b = decode(
            "spec:
  csi:
    driver: smb.csi.k8s.io
    volumeHandle: 'smb-server/share##'
    volumeAttributes: {source: //smb-server.default.svc.cluster.local/share, subDir: team}",
        );
        check(
            &b,
            "csi",
            "SMB //smb-server.default.svc.cluster.local/share/team",
            &[
                ("source", "//smb-server.default.svc.cluster.local/share"),
                ("server", "smb-server.default.svc.cluster.local"),
                ("share", "share"),
                ("subdir", "team"),
            ],
        );
    }

    #[test]
    fn csi_iscsi() {
        let b = decode(
            "spec:
  csi:
    driver: iscsi.csi.k8s.io
    volumeHandle: iscsi-data-id
    volumeAttributes: {targetPortal: '192.168.0.107:3260', portals: '[\"192.168.0.108:3260\"]', iqn: 'iqn.2015-06.com.example.test:target1', lun: '1'}",
        );
        check(
            &b,
            "csi",
            "iSCSI iqn.2015-06.com.example.test:target1 lun 1 at 192.168.0.107:3260",
            &[
                ("portals", "192.168.0.108:3260"),
                ("lun", "1"),
                ("handle", "iscsi-data-id"),
            ],
        );
    }

    #[test]
    fn csi_nvmeof() {
        let b = decode(
            "spec:
  csi:
    driver: csi.nvmf.com
    volumeHandle: nvmf-vol
    volumeAttributes: {targetTrAddr: 192.168.122.18, targetTrPort: '49153', targetTrType: tcp, nqn: 'nqn.2022-08.org.test-nvmf.example'}",
        );
        check(
            &b,
            "csi",
            "NVMe-oF nqn.2022-08.org.test-nvmf.example via 192.168.122.18:49153",
            &[
                ("nqn", "nqn.2022-08.org.test-nvmf.example"),
                ("transport", "tcp"),
            ],
        );
    }

    #[test]
    fn csi_democratic_nfs() {
        let b = decode(
            "spec:
  csi:
    driver: org.democratic-csi.nfs
    volumeHandle: pvc-1
    volumeAttributes: {node_attach_driver: nfs, server: 192.168.1.10, share: /mnt/tank/k8s/nfs/v/pvc-1, provisioner_driver: freenas-nfs}",
        );
        check(
            &b,
            "csi",
            "NFS 192.168.1.10:/mnt/tank/k8s/nfs/v/pvc-1",
            &[
                ("attachDriver", "nfs"),
                ("provisionerDriver", "freenas-nfs"),
            ],
        );
    }

    #[test]
    fn csi_ceph_rbd_dynamic() {
        let b = decode(
            "spec:
  csi:
    driver: rook-ceph.rbd.csi.ceph.com
    volumeHandle: 0001-0009-rook-ceph-0000000000000002-0f0e4a36-2a4e-11ee-9c3d-0242ac110004
    volumeAttributes:
      clusterID: rook-ceph
      pool: replicapool
      imageName: csi-vol-0f0e4a36-2a4e-11ee-9c3d-0242ac110004
      radosNamespace: tenant-a",
        );
        check(
            &b,
            "csi",
            "Ceph RBD replicapool/tenant-a/csi-vol-0f0e4a36-2a4e-11ee-9c3d-0242ac110004",
            &[
                ("pool", "replicapool"),
                ("radosNamespace", "tenant-a"),
                ("image", "csi-vol-0f0e4a36-2a4e-11ee-9c3d-0242ac110004"),
                ("clusterId", "rook-ceph"),
                ("poolId", "2"),
            ],
        );
        assert_eq!(b.field("static"), None);
    }

    #[test]
    fn csi_ceph_rbd_from_handle_only() {
        let b = decode(
            "spec:\n  csi: {driver: rbd.csi.ceph.com, volumeHandle: 0001-0009-rook-ceph-000000000000000a-0f0e4a36-2a4e-11ee-9c3d-0242ac110004}",
        );
        check(
            &b,
            "csi",
            "Ceph RBD pool#10/csi-vol-0f0e4a36-2a4e-11ee-9c3d-0242ac110004",
            &[("clusterId", "rook-ceph"), ("poolId", "10")],
        );
    }

    #[test]
    fn csi_ceph_rbd_static() {
        let b = decode(
            "spec:
  csi:
    driver: rbd.csi.ceph.com
    volumeHandle: static-image
    volumeAttributes: {clusterID: ba68226a, pool: replicapool, staticVolume: 'true'}",
        );
        check(
            &b,
            "csi",
            "Ceph RBD replicapool/static-image",
            &[("image", "static-image"), ("static", "true")],
        );
    }

    #[test]
    fn ceph_handle_parsing() {
        let h = parse_ceph_csi_handle(
            "0001-0024-60f356ee-7c2d-4556-81be-c24b34a30b2a-0000000000000005-880ec27e-5b75-11ed-a252-fa163ee74632",
        )
        .expect("valid handle");
        assert_eq!(h.version, 1);
        assert_eq!(h.cluster_id, "60f356ee-7c2d-4556-81be-c24b34a30b2a");
        assert_eq!(h.pool_id, 5);
        assert_eq!(h.object_uuid, "880ec27e-5b75-11ed-a252-fa163ee74632");
        for bad in [
            "",
            "0001",
            "0001-ffff-x",
            "static-image",
            "0001-0003-abc-xyz",
            "é",
        ] {
            assert_eq!(parse_ceph_csi_handle(bad), None, "{bad}");
        }
    }

    #[test]
    fn csi_cephfs_dynamic() {
        let b = decode(
            "spec:
  csi:
    driver: openshift-storage.cephfs.csi.ceph.com
    volumeHandle: 0001-0011-openshift-storage-0000000000000001-5ad3a2b3-7a8e-11ee-8a37-0a580a800213
    volumeAttributes:
      clusterID: openshift-storage
      fsName: ocs-storagecluster-cephfilesystem
      subvolumeName: csi-vol-5ad3a2b3-7a8e-11ee-8a37-0a580a800213
      subvolumePath: /volumes/csi/csi-vol-5ad3a2b3-7a8e-11ee-8a37-0a580a800213/1c5e",
        );
        check(
            &b,
            "csi",
            "CephFS ocs-storagecluster-cephfilesystem:/volumes/csi/csi-vol-5ad3a2b3-7a8e-11ee-8a37-0a580a800213/1c5e",
            &[
                ("fsName", "ocs-storagecluster-cephfilesystem"),
                ("subvolume", "csi-vol-5ad3a2b3-7a8e-11ee-8a37-0a580a800213"),
                ("clusterId", "openshift-storage"),
            ],
        );
    }

    #[test]
    fn csi_ceph_nfs() {
        let b = decode(
            "spec:
  csi:
    driver: rook-ceph.nfs.csi.ceph.com
    volumeHandle: h
    volumeAttributes: {server: rook-ceph-nfs-my-nfs-a, share: /0001-0009-rook-ceph-x, fsName: myfs}",
        );
        check(
            &b,
            "csi",
            "Ceph NFS rook-ceph-nfs-my-nfs-a:/0001-0009-rook-ceph-x",
            &[("fsName", "myfs")],
        );
    }

    #[test]
    fn csi_longhorn() {
        let b = decode(
            "spec:
  csi:
    driver: driver.longhorn.io
    volumeHandle: pvc-7e3c
    volumeAttributes: {numberOfReplicas: '3', dataLocality: best-effort}",
        );
        check(
            &b,
            "csi",
            "Longhorn volume pvc-7e3c (3 replicas)",
            &[
                ("volume", "pvc-7e3c"),
                ("replicas", "3"),
                ("dataLocality", "best-effort"),
            ],
        );
    }

    #[test]
    fn csi_topolvm() {
        let b = decode(
            "spec:
  csi:
    driver: topolvm.io
    volumeHandle: 0d3f3ad4-7151-4332-8751-9fe314e98427
    volumeAttributes: {topolvm.io/device-class: ssd}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: topology.topolvm.io/node, operator: In, values: [worker-3]}",
        );
        check(
            &b,
            "csi",
            "TopoLVM logical volume 0d3f3ad4-7151-4332-8751-9fe314e98427 (device-class ssd) on node worker-3",
            &[("deviceClass", "ssd"), ("node", "worker-3")],
        );
    }

    #[test]
    fn csi_hostpath() {
        let b = decode(
            "spec:
  csi: {driver: hostpath.csi.k8s.io, volumeHandle: 5a9e0f8b-1c2d-11ee-be56-0242ac120002}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: topology.hostpath.csi/node, operator: In, values: [kind-control-plane]}",
        );
        check(
            &b,
            "csi",
            "CSI hostpath volume 5a9e0f8b-1c2d-11ee-be56-0242ac120002 on node kind-control-plane",
            &[("node", "kind-control-plane")],
        );
    }

    #[test]
    fn csi_openebs_zfs_and_lvm() {
        let b = decode(
            "spec:
  csi:
    driver: zfs.csi.openebs.io
    volumeHandle: pvc-34
    volumeAttributes: {openebs.io/poolname: zfspv-pool}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: openebs.io/nodeid, operator: In, values: [node-a]}",
        );
        check(
            &b,
            "csi",
            "OpenEBS ZFS dataset zfspv-pool/pvc-34 on node node-a",
            &[("pool", "zfspv-pool"), ("dataset", "zfspv-pool/pvc-34")],
        );
        let b = decode(
            "spec:
  csi:
    driver: local.csi.openebs.io
    volumeHandle: pvc-56
    volumeAttributes: {openebs.io/volgroup: lvmvg}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: openebs.io/nodename, operator: In, values: [node-b]}",
        );
        check(
            &b,
            "csi",
            "OpenEBS LVM lvmvg/pvc-56 on node node-b",
            &[("volumeGroup", "lvmvg")],
        );
    }

    #[test]
    fn csi_portworx() {
        let b =
            decode("spec:\n  csi: {driver: pxd.portworx.com, volumeHandle: '951679824907051932'}");
        check(
            &b,
            "csi",
            "Portworx volume 951679824907051932",
            &[("volumeId", "951679824907051932")],
        );
    }

    #[test]
    fn csi_unknown_driver_keeps_everything() {
        let b = decode(
            "spec:
  csi:
    driver: csi.example.com
    volumeHandle: vol-xyz
    fsType: xfs
    volumeAttributes: {tier: gold, Some.Odd/Key: v}",
        );
        check(
            &b,
            "csi",
            "CSI csi.example.com volume vol-xyz",
            &[
                ("handle", "vol-xyz"),
                ("tier", "gold"),
                ("Some.Odd/Key", "v"),
                ("fsType", "xfs"),
            ],
        );
        assert_eq!(
            b.fields.get_index(0).map(|(k, _)| k.as_str()),
            Some("handle")
        );
        assert_eq!(b.driver.as_deref(), Some("csi.example.com"));
    }

    #[test]
    fn decode_csi_without_pv() {
        let attrs: Attrs = [
            ("pool".to_string(), "kube".to_string()),
            ("imageName".to_string(), "img".to_string()),
        ]
        .into_iter()
        .collect();
        let b = decode_csi("rbd.csi.ceph.com", "img", &attrs);
        check(&b, "csi", "Ceph RBD kube/img", &[("image", "img")]);
        let b = decode_csi("", "", &Attrs::default());
        assert_eq!(b.kind, "csi");
        assert!(!b.summary.is_empty());
        assert_eq!(b.driver, None);
    }

    #[test]
    fn empty_and_odd_values_never_panic() {
        let drivers = [
            "ebs.csi.aws.com",
            "efs.csi.aws.com",
            "fsx.csi.aws.com",
            "fsx.openzfs.csi.aws.com",
            "s3.csi.aws.com",
            "pd.csi.storage.gke.io",
            "filestore.csi.storage.gke.io",
            "gcsfuse.csi.storage.gke.io",
            "disk.csi.azure.com",
            "file.csi.azure.com",
            "blob.csi.azure.com",
            "cinder.csi.openstack.org",
            "nfs.manila.csi.openstack.org",
            "csi.vsphere.vmware.com",
            "nfs.csi.k8s.io",
            "smb.csi.k8s.io",
            "iscsi.csi.k8s.io",
            "rbd.csi.ceph.com",
            "x.cephfs.csi.ceph.com",
            "nfs.csi.ceph.com",
            "driver.longhorn.io",
            "topolvm.io",
            "hostpath.csi.k8s.io",
            "zfs.csi.openebs.io",
            "local.csi.openebs.io",
            "pxd.portworx.com",
            "org.democratic-csi.x",
            "",
        ];
        let handles = [
            "",
            "#",
            "###",
            "/",
            "aws://",
            "local-ebs://",
            "file:",
            "::",
            "é#ü/ß",
            "0001-ffff-",
        ];
        let attrs: Attrs = [
            ("node_attach_driver".to_string(), "iscsi".to_string()),
            ("source".to_string(), "//".to_string()),
            ("nqn".to_string(), String::new()),
        ]
        .into_iter()
        .collect();
        for d in drivers {
            for h in handles {
                for a in [&Attrs::default(), &attrs] {
                    let b = decode_csi(d, h, a);
                    assert_eq!(b.kind, "csi");
                    assert!(!b.summary.trim().is_empty(), "{d} {h}");
                }
            }
        }
        // Every in-tree source with empty required fields.
        let sources = [
            "nfs: {server: '', path: ''}",
            "hostPath: {path: ''}",
            "local: {path: ''}",
            "iscsi: {targetPortal: '', iqn: '', lun: 0}",
            "fc: {}",
            "awsElasticBlockStore: {volumeID: ''}",
            "gcePersistentDisk: {pdName: ''}",
            "azureDisk: {diskName: '', diskURI: ''}",
            "azureFile: {secretName: '', shareName: ''}",
            "rbd: {monitors: [], image: ''}",
            "cephfs: {monitors: []}",
            "cinder: {volumeID: ''}",
            "vsphereVolume: {volumePath: ''}",
            "portworxVolume: {volumeID: ''}",
            "glusterfs: {endpoints: '', path: ''}",
            "flexVolume: {driver: ''}",
            "scaleIO: {gateway: '', system: '', secretRef: {}}",
            "storageos: {}",
            "quobyte: {registry: '', volume: ''}",
            "flocker: {}",
            "photonPersistentDisk: {pdID: ''}",
            "csi: {driver: '', volumeHandle: ''}",
        ];
        assert_eq!(sources.len(), 22);
        for s in sources {
            let b = decode(&format!("spec:\n  {s}"));
            assert_ne!(b.kind, "unknown", "{s}");
            assert!(!b.summary.trim().is_empty(), "{s}");
        }
    }

    #[test]
    fn backend_serializes_camel_case() {
        let b = decode("spec:\n  nfs: {server: s, path: /p}");
        let json = serde_json::to_value(&b).expect("serializes");
        assert_eq!(json["kind"], "nfs");
        assert_eq!(json["fields"]["server"], "s");
        assert!(json.get("driver").is_none());
        assert!(json.get("zone").is_none());
    }

    // ---- the 50 real manifests ----------------------------------------------------------------

    /// One line per real PV, written after reading each manifest:
    /// `pv name | kind | summary substring | field=value; field=value`.
    const REAL: &str = "
test-pv | csi | AWS EBS vol-03c604538dd7d2f41 in us-east-2c | volumeId=vol-03c604538dd7d2f41; zone=us-east-2c
node-local-cache-pv | csi | AWS EBS node-local device /dev/xvdbz | device=/dev/xvdbz; fsType=xfs
efs-pv | csi | AWS EFS fs-e8a95a42 | fileSystemId=fs-e8a95a42
efs-pv1 | csi | AWS EFS fs-e8a95a42 via access point fsap-068c22f0246419f75 | fileSystemId=fs-e8a95a42; accessPoint=fsap-068c22f0246419f75
efs-pv1-volume-path | csi | AWS EFS fs-e8a95a42:/dir1 | fileSystemId=fs-e8a95a42; subpath=/dir1
efs-pv1-legacy-accesspoint | csi | via access point fsap-068c22f0246419f75 | fileSystemId=fs-e8a95a42; accessPoint=fsap-068c22f0246419f75
s3files-pv1 | csi | AWS S3 Files fs-e8a95a42 | fileSystemId=fs-e8a95a42; accessPoint=fsap-068c22f0246419f75
fsx-pv | csi | fs-0199e5a63bd90f796.fsx.us-east-1.amazonaws.com@tcp:/fsx | fileSystemId=fs-0199e5a63bd90f796; mountName=fsx
s3-pv | csi | AWS S3 s3://s3-csi-driver/some-s3-prefix/ | bucket=s3-csi-driver; prefix=some-s3-prefix/; region=us-west-2
my-pv | csi | GCE PD test-disk in us-central1-c | disk=test-disk; project=${PROJECT}; zone=us-central1-c
my-pre-pv | csi | GCP Filestore <Filestore Instance IP>:/<Filestore Share Name> | instance=<filestore-instance-name>; location=<zone>; ip=<Filestore Instance IP>
gcp-gcs-csi-pv | csi | GCS bucket gs://<your-bucket-name>/dir1 | bucket=<your-bucket-name>; onlyDir=dir1
pv-azuredisk | csi | Azure Disk {disk-id} (resource group {group-name}) | subscription={sub-id}; diskName={disk-id}; fsType=ext4
pv-qad1 | csi | Azure Disk testdisk | diskName=testdisk; subscription=d64ddb0c-7399-4529-a2b6-037b33265372; resourceGroup=MC_LAANDREA-DISK-CSI-QAD-RG_LAANDREA-DISK-CSI-QAD_EASTUS2EUAP
pv-azurefile | csi | Azure File {account-name}/EXISTING_FILE_SHARE_NAME | resourceGroup={resource-group-name}; storageAccount={account-name}; share=EXISTING_FILE_SHARE_NAME
pv-azurefile-nfs | csi | Azure File EXISTING_STORAGE_ACCOUNT_NAME/EXISTING_FILE_SHARE_NAME (NFS) | resourceGroup=EXISTING_RESOURCE_GROUP_NAME; protocol=nfs
pv-blob | csi | Azure Blob EXISTING_STORAGE_ACCOUNT_NAME/EXISTING_CONTAINER_NAME | container=EXISTING_CONTAINER_NAME; resourceGroup=EXISTING_RESOURCE_GROUP_NAME
pv-blob-nfs | csi | Azure Blob EXISTING_STORAGE_ACCOUNT_NAME/EXISTING_CONTAINER_NAME (NFS) | protocol=nfs
pvc-ba482e24-2e76-48fd-9be5-504724922185 | csi | OpenStack Cinder volume e129824a-16fa-486d-a8c7-482945a626ff in eu-de-01 | volumeId=e129824a-16fa-486d-a8c7-482945a626ff; zone=eu-de-01
preprovisioned-nfs-share | csi | OpenStack Manila NFS share SHARE-UUID-GOES-HERE | shareId=SHARE-UUID-GOES-HERE; shareAccessIds=COMMA-SEPARATED-ACCESS-UUIDS-OF-THE-SHARE
static-vanilla-rwo-filesystem-pv | csi | vSphere CNS block volume (FCD) 0c75d40e-7576-4fe7-8aaa-a92946e2805d | volumeId=0c75d40e-7576-4fe7-8aaa-a92946e2805d
static-file-share-pv-name | csi | vSphere CNS file share 236b3e6b-cfb0-4b73-a271-2591b2f31b4c | fileShareId=236b3e6b-cfb0-4b73-a271-2591b2f31b4c
pv-nfs | csi | NFS nfs-server.default.svc.cluster.local:/ | server=nfs-server.default.svc.cluster.local; share=/
pv-smb | csi | SMB //smb-server.default.svc.cluster.local/share | server=smb-server.default.svc.cluster.local; share=share
iscsiplugin-pv | csi | iSCSI iqn.2015-06.com.example.test:target1 lun 0 at 192.168.0.107:3260 | iqn=iqn.2015-06.com.example.test:target1; lun=0; targetPortal=192.168.0.107:3260
nvmeof-manual | csi | NVMe-oF <nqn> namespace <nsid> | nqn=<nqn>; nsid=<nsid>; attachDriver=nvmeof
fs-static-pv | csi | Ceph RBD replicapool/static-image | image=static-image; pool=replicapool; clusterId=ba68226a-672f-4ba5-97bc-22840318b2ec; static=true
cephfs-static-pv | csi | CephFS myfs:/volumes/testGroup/testSubVolume | fsName=myfs; rootPath=/volumes/testGroup/testSubVolume
pvc-cd6f7b26-d768-4cab-88a4-baca5b242cc5 | rbd | Ceph RBD kube/kubernetes-dynamic-pvc-f32fea79-d658-4ab1-967a-fb6e8f930dec | monitors=192.168.4.215:6789; user=kube
pvc-abdbb7ea-5da6-47f3-8b76-b968a93b7bc1 | csi | Ceph RBD kube/csi-vol-880ec27e-5b75-11ed-a252-fa163ee74632 | clusterId=60f356ee-7c2d-4556-81be-c24b34a30b2a; poolId=5
longhorn-vol-pv | csi | Longhorn volume existing-longhorn-volume (3 replicas) | volume=existing-longhorn-volume
longhorn-volv-pv | flexVolume | Longhorn volume longhorn-volv-pv | volume=longhorn-volv-pv; numberOfReplicas=3
fio-vol-pv | csi | OpenEBS ZFS dataset zfspv-pool/fio-vol on node pawan-3 | dataset=zfspv-pool/fio-vol; node=pawan-3
pvc-31b72d01-973c-47cd-baee-87f9f683fef3 | csi | TopoLVM logical volume 0d3f3ad4-7151-4332-8751-9fe314e98427 on node topolvm | logicalVolume=0d3f3ad4-7151-4332-8751-9fe314e98427; node=topolvm
pv0003 | nfs | NFS 172.17.0.2:/tmp | server=172.17.0.2; path=/tmp
nfs | nfs | NFS nfs-server.default.svc.cluster.local:/ | path=/
task-pv-volume | hostPath | host path /mnt/data | path=/mnt/data
example-pv | local | local path /mnt/disks/ssd1 on node example-node | node=example-node
example-local-pv-1 | local | local path /mnt/disks/vol/vol1 on node nickren-14 | node=nickren-14
test-volume | gcePersistentDisk | GCE PD my-data-disk in zones us-central1-a, us-central1-b | disk=my-data-disk; zones=us-central1-a,us-central1-b
wordpress-pv-1 | gcePersistentDisk | GCE PD wordpress-1 | disk=wordpress-1
foo-volume | awsElasticBlockStore | AWS EBS vol-de401a79 in us-east-1d | volumeId=vol-de401a79; zone=us-east-1d
ebs-pv-1 | awsElasticBlockStore | AWS EBS vol-12345 | volumeId=vol-12345; fsType=xfs
block-pv | fc | Fibre Channel WWN 50060e801049cfd1 lun 0 | targetWwns=50060e801049cfd1; lun=0
raw-pv | iscsi | iSCSI iqn.2017-05.com.example:test lun 0 at 1.2.3.4:3260 | targetPortal=1.2.3.4:3260; iqn=iqn.2017-05.com.example:test
gluster-pv | glusterfs | GlusterFS volume glusterVol via endpoints glusterfs-cluster | volume=glusterVol; endpoints=glusterfs-cluster
sample-storage | azureFile | Azure File share k8stest | share=k8stest
pv0001-vsphere | vsphereVolume | vSphere VMDK [DatastoreName] volumes/myDisk | datastore=DatastoreName
pv0001 | portworxVolume | Portworx volume pv0001 | volumeId=pv0001
pv0001-storageos | storageos | StorageOS volume pv0001 | volumeName=pv0001
";

    struct Expect {
        name: &'static str,
        kind: &'static str,
        summary: &'static str,
        fields: Vec<(&'static str, &'static str)>,
    }

    /// One [`Expect`] per line of [`REAL`].
    fn real_expectations() -> Vec<Expect> {
        REAL.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|line| {
                let cols: Vec<&str> = line.split(" | ").collect();
                let [name, kind, summary, fields] = cols.as_slice() else {
                    panic!("bad expectation line {line:?}");
                };
                let fields = fields
                    .split("; ")
                    .filter(|f| !f.is_empty())
                    .map(|f| {
                        f.split_once('=')
                            .unwrap_or_else(|| panic!("bad field {f:?}"))
                    })
                    .collect();
                Expect {
                    name,
                    kind,
                    summary,
                    fields,
                }
            })
            .collect()
    }

    #[test]
    fn real_pvs_decode_to_their_identifying_values() {
        let pvs: Vec<PersistentVolume> =
            serde_saphyr::from_multiple(REAL_PVS).expect("real-pvs.yaml parses");
        let expected = real_expectations();
        assert_eq!(pvs.len(), 50, "documents in real-pvs.yaml");
        assert_eq!(expected.len(), 50, "one expectation per real PV");
        let mut seen = Vec::new();
        for pv in &pvs {
            let name = pv.metadata.name.clone().unwrap_or_default();
            let b = decode_pv(pv);
            assert_ne!(b.kind, "unknown", "{name}: {b:#?}");
            assert!(!b.summary.trim().is_empty(), "{name}");
            let Expect {
                kind,
                summary,
                fields,
                ..
            } = expected
                .iter()
                .find(|e| e.name == name)
                .unwrap_or_else(|| panic!("no expectation for real PV {name}"));
            assert_eq!(b.kind, *kind, "{name}: {b:#?}");
            assert!(
                b.summary.contains(summary),
                "{name}: summary {:?} lacks {summary:?}",
                b.summary
            );
            for (k, v) in fields {
                assert_eq!(b.field(k), Some(*v), "{name}: field {k} of {b:#?}");
            }
            seen.push(name);
        }
        for Expect { name: n, .. } in &expected {
            assert!(
                seen.iter().any(|s| s == n),
                "{n} missing from real-pvs.yaml"
            );
        }
    }
}
