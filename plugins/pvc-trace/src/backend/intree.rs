//! The 22 core/v1 `PersistentVolumeSource` types: one small function per source, tried in the
//! order of [`SOURCES`] (a valid PV sets exactly one). Each returns `None` when its field is not
//! set. `kind` is the core/v1 field name; `csi` hands over to [`super::csi`].

use std::collections::BTreeMap;

use stateful_core::snapshot::lean::PersistentVolumeSpec;

use super::csi::aws::parse_aws_volume_id;
use super::csi::azure::azure_id_part;
use super::decoded::{Ctx, Decoded, attr, iscsi_fields, join_list, or_unset, server_path};

/// A decoder of one source field of a PV spec.
type SourceDecoder = fn(&PersistentVolumeSpec, &Ctx) -> Option<Decoded>;

/// Every in-tree source, in the order they are tried.
const SOURCES: [SourceDecoder; 22] = [
    csi,
    nfs,
    host_path,
    local,
    iscsi,
    fc,
    aws_elastic_block_store,
    gce_persistent_disk,
    azure_disk,
    azure_file,
    rbd,
    cephfs,
    cinder,
    vsphere_volume,
    portworx_volume,
    glusterfs,
    flex_volume,
    scale_io,
    storageos,
    quobyte,
    flocker,
    photon_persistent_disk,
];

/// The PV's source decoded, or `None` when it names none.
pub(super) fn decode_source(spec: &PersistentVolumeSpec, ctx: &Ctx) -> Option<Decoded> {
    SOURCES.iter().find_map(|decode| decode(spec, ctx))
}

fn csi(spec: &PersistentVolumeSpec, ctx: &Ctx) -> Option<Decoded> {
    let s = spec.csi.as_ref()?;
    Some(super::csi::decode_source(s, ctx))
}

fn nfs(spec: &PersistentVolumeSpec, _: &Ctx) -> Option<Decoded> {
    let s = spec.nfs.as_ref()?;
    let mut d = Decoded::new("nfs");
    d.set("server", &s.server);
    d.set("path", &s.path);
    d.read_only(s.read_only);
    d.what = format!("NFS {}", server_path(&s.server, &s.path));
    Some(d)
}

fn host_path(spec: &PersistentVolumeSpec, _: &Ctx) -> Option<Decoded> {
    let s = spec.host_path.as_ref()?;
    let mut d = Decoded::new("hostPath");
    d.set("path", &s.path);
    d.set_opt("type", s.type_.as_ref());
    d.what = format!("host path {}", or_unset(&s.path));
    Some(d)
}

fn local(spec: &PersistentVolumeSpec, _: &Ctx) -> Option<Decoded> {
    let s = spec.local.as_ref()?;
    let mut d = Decoded::new("local");
    d.set("path", &s.path);
    d.fs_type(s.fs_type.as_ref());
    d.what = format!("local path {}", or_unset(&s.path));
    Some(d)
}

fn iscsi(spec: &PersistentVolumeSpec, _: &Ctx) -> Option<Decoded> {
    let s = spec.iscsi.as_ref()?;
    let mut d = Decoded::new("iscsi");
    let lun = s.lun.to_string();
    let portals = join_list(s.portals.as_deref().unwrap_or(&[]));
    iscsi_fields(&mut d, &s.target_portal, &portals, &s.iqn, &lun);
    d.set_opt("iscsiInterface", s.iscsi_interface.as_ref());
    d.set_opt("initiatorName", s.initiator_name.as_ref());
    d.fs_type(s.fs_type.as_ref());
    d.read_only(s.read_only);
    Some(d)
}

fn fc(spec: &PersistentVolumeSpec, _: &Ctx) -> Option<Decoded> {
    let s = spec.fc.as_ref()?;
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
    Some(d)
}

fn aws_elastic_block_store(spec: &PersistentVolumeSpec, _: &Ctx) -> Option<Decoded> {
    let s = spec.aws_elastic_block_store.as_ref()?;
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
    Some(d)
}

fn gce_persistent_disk(spec: &PersistentVolumeSpec, _: &Ctx) -> Option<Decoded> {
    let s = spec.gce_persistent_disk.as_ref()?;
    let mut d = Decoded::new("gcePersistentDisk");
    d.set("disk", &s.pd_name);
    d.set_opt(
        "partition",
        s.partition.filter(|p| *p != 0).map(|p| p.to_string()),
    );
    d.fs_type(s.fs_type.as_ref());
    d.read_only(s.read_only);
    d.what = format!("GCE PD {}", or_unset(&s.pd_name));
    Some(d)
}

fn azure_disk(spec: &PersistentVolumeSpec, _: &Ctx) -> Option<Decoded> {
    let s = spec.azure_disk.as_ref()?;
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
    Some(d)
}

fn azure_file(spec: &PersistentVolumeSpec, _: &Ctx) -> Option<Decoded> {
    let s = spec.azure_file.as_ref()?;
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
    Some(d)
}

fn rbd(spec: &PersistentVolumeSpec, _: &Ctx) -> Option<Decoded> {
    let s = spec.rbd.as_ref()?;
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
    Some(d)
}

fn cephfs(spec: &PersistentVolumeSpec, _: &Ctx) -> Option<Decoded> {
    let s = spec.cephfs.as_ref()?;
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
    Some(d)
}

fn cinder(spec: &PersistentVolumeSpec, _: &Ctx) -> Option<Decoded> {
    let s = spec.cinder.as_ref()?;
    let mut d = Decoded::new("cinder");
    d.set("volumeId", &s.volume_id);
    d.fs_type(s.fs_type.as_ref());
    d.read_only(s.read_only);
    d.what = format!("OpenStack Cinder volume {}", or_unset(&s.volume_id));
    Some(d)
}

fn vsphere_volume(spec: &PersistentVolumeSpec, _: &Ctx) -> Option<Decoded> {
    let s = spec.vsphere_volume.as_ref()?;
    let mut d = Decoded::new("vsphereVolume");
    d.set("volumePath", &s.volume_path);
    d.set_opt("datastore", vsphere_datastore(&s.volume_path));
    d.set_opt("storagePolicyName", s.storage_policy_name.as_ref());
    d.set_opt("storagePolicyId", s.storage_policy_id.as_ref());
    d.fs_type(s.fs_type.as_ref());
    d.what = format!("vSphere VMDK {}", or_unset(&s.volume_path));
    Some(d)
}

fn portworx_volume(spec: &PersistentVolumeSpec, _: &Ctx) -> Option<Decoded> {
    let s = spec.portworx_volume.as_ref()?;
    let mut d = Decoded::new("portworxVolume");
    d.set("volumeId", &s.volume_id);
    d.fs_type(s.fs_type.as_ref());
    d.read_only(s.read_only);
    d.what = format!("Portworx volume {}", or_unset(&s.volume_id));
    Some(d)
}

fn glusterfs(spec: &PersistentVolumeSpec, _: &Ctx) -> Option<Decoded> {
    let s = spec.glusterfs.as_ref()?;
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
    Some(d)
}

/// FlexVolume: the driver and its options verbatim (Longhorn's FlexVolume driver decoded).
fn flex_volume(spec: &PersistentVolumeSpec, ctx: &Ctx) -> Option<Decoded> {
    let s = spec.flex_volume.as_ref()?;
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
    Some(d)
}

fn scale_io(spec: &PersistentVolumeSpec, _: &Ctx) -> Option<Decoded> {
    let s = spec.scale_io.as_ref()?;
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
    Some(d)
}

fn storageos(spec: &PersistentVolumeSpec, _: &Ctx) -> Option<Decoded> {
    let s = spec.storageos.as_ref()?;
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
    Some(d)
}

fn quobyte(spec: &PersistentVolumeSpec, _: &Ctx) -> Option<Decoded> {
    let s = spec.quobyte.as_ref()?;
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
    Some(d)
}

fn flocker(spec: &PersistentVolumeSpec, _: &Ctx) -> Option<Decoded> {
    let s = spec.flocker.as_ref()?;
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
    Some(d)
}

fn photon_persistent_disk(spec: &PersistentVolumeSpec, _: &Ctx) -> Option<Decoded> {
    let s = spec.photon_persistent_disk.as_ref()?;
    let mut d = Decoded::new("photonPersistentDisk");
    d.set("pdId", &s.pd_id);
    d.fs_type(s.fs_type.as_ref());
    d.what = format!("Photon persistent disk {}", or_unset(&s.pd_id));
    Some(d)
}

/// `[Datastore] folder/disk.vmdk` → `Datastore`.
fn vsphere_datastore(path: &str) -> Option<&str> {
    let rest = path.trim().strip_prefix('[')?;
    let (ds, _) = rest.split_once(']')?;
    let ds = ds.trim();
    (!ds.is_empty()).then_some(ds)
}
