//! Lean Pod, PersistentVolumeClaim and PersistentVolume: only the fields the trace reads.
//!
//! k8s-openapi's `Pod` is 2.4 KB before any string (a `Container` 2.1 KB, a `Volume` 3.2 KB: every
//! optional source is inline), its `PersistentVolume` 3.5 KB. A 10,000-pod dump then costs about
//! 12 KB per pod whatever it holds. These types keep the same field names and `Option` shapes as
//! k8s-openapi's, so analysis code reads them the same way, but:
//! - a pod keeps its node, volumes, containers' mounts, phase and conditions;
//! - a pod volume keeps the sources the trace describes, and for any other source its name;
//! - a PV keeps everything, each of its 22 sources boxed (one pointer each when absent);
//! - metadata ([`Meta`]) drops what no analysis reads (managedFields, resourceVersion,
//!   generation, finalizers, the last-applied annotation), and its maps are sorted vectors
//!   ([`SmallMap`]) rather than B-trees (a B-tree node is 544 bytes even for one label).
//!
//! The cluster path and the dump path deserialize into the same lean objects.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, OwnerReference, Time};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

/// The annotation kubectl apply leaves, often the biggest string of an object.
#[cfg(test)]
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// A small map: pairs sorted by key (as a `BTreeMap` iterates), looked up by binary search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmallMap<V>(Vec<(String, V)>);

impl<V> Default for SmallMap<V> {
    fn default() -> Self {
        SmallMap(Vec::new())
    }
}

impl<V> SmallMap<V> {
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| &self.0[i].1)
    }
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let i = self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok()?;
        Some(self.0.remove(i).1)
    }
}

impl<V> FromIterator<(String, V)> for SmallMap<V> {
    /// Sorted by key; a repeated key keeps its last value, as a map does.
    fn from_iter<I: IntoIterator<Item = (String, V)>>(it: I) -> Self {
        let mut v: Vec<(String, V)> = it.into_iter().collect();
        v.reverse();
        v.sort_by(|a, b| a.0.cmp(&b.0)); // stable: the last occurrence of a key comes first
        v.dedup_by(|later, first| later.0 == first.0);
        v.shrink_to_fit();
        SmallMap(v)
    }
}

impl<'a, V> IntoIterator for &'a SmallMap<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, V)>,
        fn(&'a (String, V)) -> (&'a String, &'a V),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for SmallMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct M<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for M<V> {
            type Value = SmallMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SmallMap<V>, A::Error> {
                let mut v = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(k) = map.next_key::<String>()? {
                    v.push((k, map.next_value::<V>()?));
                }
                Ok(v.into_iter().collect())
            }
        }
        d.deserialize_map(M(std::marker::PhantomData))
    }
}

impl<V: Serialize> Serialize for SmallMap<V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// A label or annotation lookup, over a `BTreeMap` (k8s-openapi objects) or a [`SmallMap`].
pub trait Lookup {
    fn lookup(&self, key: &str) -> Option<&String>;
}

impl Lookup for BTreeMap<String, String> {
    fn lookup(&self, key: &str) -> Option<&String> {
        self.get(key)
    }
}

impl Lookup for SmallMap<String> {
    fn lookup(&self, key: &str) -> Option<&String> {
        self.get(key)
    }
}

/// Object metadata: what analysis reads of `ObjectMeta`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Meta {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub uid: Option<String>,
    pub labels: Option<SmallMap<String>>,
    #[serde(deserialize_with = "annotations")]
    pub annotations: Option<SmallMap<String>>,
    #[serde(deserialize_with = "vec")]
    pub owner_references: Option<Vec<OwnerReference>>,
    pub creation_timestamp: Option<Time>,
    pub deletion_timestamp: Option<Time>,
}

/// Name, namespace and uid of either metadata type.
pub trait MetaView {
    fn name(&self) -> Option<&str>;
    fn namespace(&self) -> Option<&str>;
    fn uid(&self) -> Option<&str>;
    fn owners(&self) -> &[OwnerReference];
}

impl MetaView for Meta {
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }
    fn uid(&self) -> Option<&str> {
        self.uid.as_deref()
    }
    fn owners(&self) -> &[OwnerReference] {
        self.owner_references.as_deref().unwrap_or(&[])
    }
}

impl MetaView for k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }
    fn uid(&self) -> Option<&str> {
        self.uid.as_deref()
    }
    fn owners(&self) -> &[OwnerReference] {
        self.owner_references.as_deref().unwrap_or(&[])
    }
}

/// The annotations analysis reads; the others (often large: last-applied configuration, Helm
/// and Argo bookkeeping) are skipped without being stored.
pub const KEPT_ANNOTATIONS: [&str; 7] = [
    "volume.kubernetes.io/selected-node",
    "pv.kubernetes.io/provisioned-by",
    "volume.alpha.kubernetes.io/node-affinity",
    "volume.beta.kubernetes.io/storage-class",
    "volume.kubernetes.io/storage-provisioner",
    "volume.beta.kubernetes.io/storage-provisioner",
    "storageclass.kubernetes.io/is-default-class",
];

fn annotations<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SmallMap<String>>, D::Error> {
    struct Key;
    impl<'de> de::DeserializeSeed<'de> for Key {
        type Value = Option<&'static str>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(self)
        }
    }
    impl Visitor<'_> for Key {
        type Value = Option<&'static str>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an annotation key")
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            Ok(KEPT_ANNOTATIONS.iter().find(|k| **k == s).copied())
        }
    }
    struct M;
    impl<'de> Visitor<'de> for M {
        type Value = Option<SmallMap<String>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("annotations")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut kept = Vec::new();
            while let Some(k) = map.next_key_seed(Key)? {
                match k {
                    Some(k) => kept.push((k.to_string(), map.next_value::<String>()?)),
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(Some(kept.into_iter().collect()))
        }
    }
    d.deserialize_option(M)
}

/// Shrink every list of a node affinity to its length.
fn node_affinity<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<core::VolumeNodeAffinity>, D::Error> {
    let mut a = Option::<core::VolumeNodeAffinity>::deserialize(d)?;
    if let Some(req) = a.as_mut().and_then(|a| a.required.as_mut()) {
        req.node_selector_terms.shrink_to_fit();
        for t in &mut req.node_selector_terms {
            for reqs in [t.match_expressions.as_mut(), t.match_fields.as_mut()]
                .into_iter()
                .flatten()
            {
                reqs.shrink_to_fit();
                for r in reqs {
                    if let Some(v) = r.values.as_mut() {
                        v.shrink_to_fit();
                    }
                }
            }
        }
    }
    Ok(a)
}

/// A PV's `claimRef`: which claim it is (or was) bound to.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ClaimRef {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub uid: Option<String>,
}

/// k8s-openapi's `CSIPersistentVolumeSource` with its attributes in a [`SmallMap`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CsiSource {
    #[serde(deserialize_with = "null_as_default")]
    pub driver: String,
    #[serde(deserialize_with = "null_as_default")]
    pub volume_handle: String,
    pub fs_type: Option<String>,
    pub read_only: Option<bool>,
    pub volume_attributes: Option<SmallMap<String>>,
    pub node_stage_secret_ref: Option<Box<core::SecretReference>>,
    pub node_publish_secret_ref: Option<Box<core::SecretReference>>,
    pub controller_publish_secret_ref: Option<Box<core::SecretReference>>,
    pub controller_expand_secret_ref: Option<Box<core::SecretReference>>,
    pub node_expand_secret_ref: Option<Box<core::SecretReference>>,
}

// ---------------------------------------------------------------------------------------------
// Pod
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Pod {
    pub metadata: Meta,
    pub spec: Option<PodSpec>,
    pub status: Option<PodStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodSpec {
    pub node_name: Option<String>,
    #[serde(deserialize_with = "vec")]
    pub volumes: Option<Vec<Volume>>,
    #[serde(deserialize_with = "vec_or_empty")]
    pub containers: Vec<Container>,
    #[serde(deserialize_with = "vec")]
    pub init_containers: Option<Vec<Container>>,
}

/// A container's name and volume mounts.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Container {
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(deserialize_with = "vec")]
    pub volume_mounts: Option<Vec<VolumeMount>>,
}

/// Where a container mounts a volume.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VolumeMount {
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub mount_path: String,
    pub read_only: Option<bool>,
    pub sub_path: Option<String>,
    pub sub_path_expr: Option<String>,
}

/// A pod condition.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PodCondition {
    #[serde(rename = "type", deserialize_with = "null_as_default")]
    pub type_: String,
    #[serde(deserialize_with = "null_as_default")]
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodStatus {
    pub phase: Option<String>,
    pub reason: Option<String>,
    pub message: Option<String>,
    #[serde(deserialize_with = "vec")]
    pub conditions: Option<Vec<PodCondition>>,
}

/// `configMap` volume: the ConfigMap's name.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ConfigMapRef {
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
}

/// `secret` volume: the Secret's name.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SecretRef {
    pub secret_name: Option<String>,
}

/// A pod volume: its name, the sources the trace describes, and the field name of any other.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Volume {
    pub name: String,
    pub persistent_volume_claim: Option<core::PersistentVolumeClaimVolumeSource>,
    /// A generic ephemeral volume (its claim is `<pod>-<volume>`); the template is not kept.
    pub ephemeral: Option<IgnoredAny>,
    pub empty_dir: Option<Box<core::EmptyDirVolumeSource>>,
    pub host_path: Option<Box<core::HostPathVolumeSource>>,
    pub config_map: Option<Box<ConfigMapRef>>,
    pub secret: Option<Box<SecretRef>>,
    pub projected: Option<IgnoredAny>,
    pub downward_api: Option<IgnoredAny>,
    pub nfs: Option<Box<core::NFSVolumeSource>>,
    pub csi: Option<Box<core::CSIVolumeSource>>,
    pub image: Option<Box<core::ImageVolumeSource>>,
    /// Any other source, by its field name (`iscsi`, `rbd`, `gitRepo`, …).
    pub other: Option<String>,
}

impl<'de> Deserialize<'de> for Volume {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Volume;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a pod volume")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Volume, A::Error> {
                let mut v = Volume::default();
                while let Some(key) = map.next_key::<VolumeKey>()? {
                    match key {
                        VolumeKey::Name => {
                            v.name = map.next_value::<Option<String>>()?.unwrap_or_default()
                        }
                        VolumeKey::Pvc => v.persistent_volume_claim = map.next_value()?,
                        VolumeKey::Ephemeral => v.ephemeral = map.next_value()?,
                        VolumeKey::EmptyDir => v.empty_dir = map.next_value()?,
                        VolumeKey::HostPath => v.host_path = map.next_value()?,
                        VolumeKey::ConfigMap => v.config_map = map.next_value()?,
                        VolumeKey::Secret => v.secret = map.next_value()?,
                        VolumeKey::Projected => v.projected = map.next_value()?,
                        VolumeKey::DownwardApi => v.downward_api = map.next_value()?,
                        VolumeKey::Nfs => v.nfs = map.next_value()?,
                        VolumeKey::Csi => v.csi = map.next_value()?,
                        VolumeKey::Image => v.image = map.next_value()?,
                        VolumeKey::Other(k) => {
                            let val: Option<IgnoredAny> = map.next_value()?;
                            if val.is_some() && v.other.is_none() {
                                v.other = Some(k);
                            }
                        }
                    }
                }
                Ok(v)
            }
        }
        d.deserialize_map(V)
    }
}

enum VolumeKey {
    Name,
    Pvc,
    Ephemeral,
    EmptyDir,
    HostPath,
    ConfigMap,
    Secret,
    Projected,
    DownwardApi,
    Nfs,
    Csi,
    Image,
    Other(String),
}

impl<'de> Deserialize<'de> for VolumeKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct K;
        impl Visitor<'_> for K {
            type Value = VolumeKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a volume field name")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<VolumeKey, E> {
                Ok(match s {
                    "name" => VolumeKey::Name,
                    "persistentVolumeClaim" => VolumeKey::Pvc,
                    "ephemeral" => VolumeKey::Ephemeral,
                    "emptyDir" => VolumeKey::EmptyDir,
                    "hostPath" => VolumeKey::HostPath,
                    "configMap" => VolumeKey::ConfigMap,
                    "secret" => VolumeKey::Secret,
                    "projected" => VolumeKey::Projected,
                    "downwardAPI" => VolumeKey::DownwardApi,
                    "nfs" => VolumeKey::Nfs,
                    "csi" => VolumeKey::Csi,
                    "image" => VolumeKey::Image,
                    other => VolumeKey::Other(other.to_string()),
                })
            }
        }
        d.deserialize_identifier(K)
    }
}

// ---------------------------------------------------------------------------------------------
// PersistentVolumeClaim
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PersistentVolumeClaim {
    pub metadata: Meta,
    pub spec: Option<PersistentVolumeClaimSpec>,
    pub status: Option<PersistentVolumeClaimStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PersistentVolumeClaimSpec {
    #[serde(deserialize_with = "vec")]
    pub access_modes: Option<Vec<String>>,
    pub data_source: Option<Box<core::TypedLocalObjectReference>>,
    pub data_source_ref: Option<Box<core::TypedObjectReference>>,
    pub resources: Option<ResourceRequirements>,
    pub selector: Option<Box<LabelSelector>>,
    pub storage_class_name: Option<String>,
    pub volume_attributes_class_name: Option<String>,
    pub volume_mode: Option<String>,
    pub volume_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ResourceRequirements {
    pub limits: Option<SmallMap<Quantity>>,
    pub requests: Option<SmallMap<Quantity>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PersistentVolumeClaimStatus {
    #[serde(deserialize_with = "vec")]
    pub access_modes: Option<Vec<String>>,
    pub allocated_resource_statuses: Option<SmallMap<String>>,
    pub capacity: Option<SmallMap<Quantity>>,
    #[serde(deserialize_with = "vec")]
    pub conditions: Option<Vec<core::PersistentVolumeClaimCondition>>,
    pub current_volume_attributes_class_name: Option<String>,
    pub modify_volume_status: Option<core::ModifyVolumeStatus>,
    pub phase: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// PersistentVolume
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PersistentVolume {
    pub metadata: Meta,
    pub spec: Option<PersistentVolumeSpec>,
    pub status: Option<core::PersistentVolumeStatus>,
}

/// k8s-openapi's `PersistentVolumeSpec` with every source boxed.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PersistentVolumeSpec {
    #[serde(deserialize_with = "vec")]
    pub access_modes: Option<Vec<String>>,
    pub aws_elastic_block_store: Option<Box<core::AWSElasticBlockStoreVolumeSource>>,
    pub azure_disk: Option<Box<core::AzureDiskVolumeSource>>,
    pub azure_file: Option<Box<core::AzureFilePersistentVolumeSource>>,
    pub capacity: Option<SmallMap<Quantity>>,
    pub cephfs: Option<Box<core::CephFSPersistentVolumeSource>>,
    pub cinder: Option<Box<core::CinderPersistentVolumeSource>>,
    pub claim_ref: Option<ClaimRef>,
    pub csi: Option<Box<CsiSource>>,
    pub fc: Option<Box<core::FCVolumeSource>>,
    pub flex_volume: Option<Box<core::FlexPersistentVolumeSource>>,
    pub flocker: Option<Box<core::FlockerVolumeSource>>,
    pub gce_persistent_disk: Option<Box<core::GCEPersistentDiskVolumeSource>>,
    pub glusterfs: Option<Box<core::GlusterfsPersistentVolumeSource>>,
    pub host_path: Option<Box<core::HostPathVolumeSource>>,
    pub iscsi: Option<Box<core::ISCSIPersistentVolumeSource>>,
    pub local: Option<Box<core::LocalVolumeSource>>,
    #[serde(deserialize_with = "vec")]
    pub mount_options: Option<Vec<String>>,
    pub nfs: Option<Box<core::NFSVolumeSource>>,
    #[serde(deserialize_with = "node_affinity")]
    pub node_affinity: Option<core::VolumeNodeAffinity>,
    pub persistent_volume_reclaim_policy: Option<String>,
    pub photon_persistent_disk: Option<Box<core::PhotonPersistentDiskVolumeSource>>,
    pub portworx_volume: Option<Box<core::PortworxVolumeSource>>,
    pub quobyte: Option<Box<core::QuobyteVolumeSource>>,
    pub rbd: Option<Box<core::RBDPersistentVolumeSource>>,
    #[serde(rename = "scaleIO")]
    pub scale_io: Option<Box<core::ScaleIOPersistentVolumeSource>>,
    pub storage_class_name: Option<String>,
    pub storageos: Option<Box<core::StorageOSPersistentVolumeSource>>,
    pub volume_attributes_class_name: Option<String>,
    pub volume_mode: Option<String>,
    pub vsphere_volume: Option<Box<core::VsphereVirtualDiskVolumeSource>>,
}

/// A list without the spare capacity of growing it one element at a time (YAML gives no length
/// up front): a pod's two volumes take two slots, not four.
fn vec<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let mut v = Option::<Vec<T>>::deserialize(d)?;
    if let Some(v) = v.as_mut() {
        v.shrink_to_fit();
    }
    Ok(v)
}

fn vec_or_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(vec(d)?.unwrap_or_default())
}

/// `null` (or absent, with `#[serde(default)]`) as the type's default, like k8s-openapi does
/// for required fields.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_maps_sort_keys_and_keep_the_last_of_a_repeated_key() {
        let m: SmallMap<u32> = [
            ("b".to_string(), 1),
            ("a".to_string(), 2),
            ("b".to_string(), 3),
        ]
        .into_iter()
        .collect();
        assert_eq!(m.keys().map(String::as_str).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(m.get("b"), Some(&3));
        assert_eq!(m.get("c"), None);
        let from_yaml: SmallMap<String> = serde_saphyr::from_str("z: 1\ny: 2\n").unwrap();
        assert_eq!(from_yaml.iter().next().map(|(k, _)| k.as_str()), Some("y"));
    }

    #[test]
    fn lean_types_are_small() {
        assert!(
            std::mem::size_of::<Pod>() < 700,
            "{}",
            std::mem::size_of::<Pod>()
        );
        assert!(
            std::mem::size_of::<Volume>() < 400,
            "{}",
            std::mem::size_of::<Volume>()
        );
        assert!(
            std::mem::size_of::<PersistentVolume>() < 900,
            "{}",
            std::mem::size_of::<PersistentVolume>()
        );
    }

    #[test]
    fn a_pod_keeps_what_the_trace_reads_and_names_other_sources() {
        let p: Pod = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "db-0", "namespace": "prod", "resourceVersion": "9",
                "managedFields": [{"manager": "x"}],
                "annotations": {LAST_APPLIED: "{}", "helm.sh/chart": "db-1.0",
                    "volume.kubernetes.io/selected-node": "n1"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": "u1"}]},
            "spec": {"nodeName": "n1",
                "containers": [{"name": "pg", "image": "postgres", "env": [{"name": "A", "value": "b"}],
                    "volumeMounts": [{"name": "data", "mountPath": "/var/lib/pg"}]}],
                "volumes": [
                    {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}},
                    {"name": "scratch", "emptyDir": {"medium": "Memory"}},
                    {"name": "legacy", "iscsi": {"targetPortal": "1.2.3.4", "iqn": "iqn.x", "lun": 0}},
                    {"name": "eph", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}
                ]},
            "status": {"phase": "Running", "podIP": "10.0.0.1",
                "conditions": [{"type": "Ready", "status": "True"}]}
        }))
        .unwrap();
        assert_eq!(p.metadata.name.as_deref(), Some("db-0"));
        let ann = p.metadata.annotations.as_ref().unwrap();
        assert_eq!(ann.len(), 1, "only the annotations analysis reads: {ann:?}");
        assert_eq!(
            ann.get("volume.kubernetes.io/selected-node")
                .map(String::as_str),
            Some("n1")
        );
        assert_eq!(p.metadata.owner_references.as_ref().unwrap()[0].name, "db");
        let spec = p.spec.as_ref().unwrap();
        assert_eq!(spec.node_name.as_deref(), Some("n1"));
        assert_eq!(
            spec.containers[0].volume_mounts.as_ref().unwrap()[0].mount_path,
            "/var/lib/pg"
        );
        let vols = spec.volumes.as_ref().unwrap();
        assert_eq!(
            vols[0].persistent_volume_claim.as_ref().unwrap().claim_name,
            "data-db-0"
        );
        assert_eq!(
            vols[1].empty_dir.as_ref().unwrap().medium.as_deref(),
            Some("Memory")
        );
        assert_eq!(vols[2].other.as_deref(), Some("iscsi"));
        assert!(vols[3].ephemeral.is_some() && vols[3].other.is_none());
        assert_eq!(
            p.status
                .as_ref()
                .unwrap()
                .conditions
                .as_ref()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn a_pv_keeps_its_source_and_the_yaml_and_json_paths_agree() {
        let yaml = "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: pv1\nspec:\n  capacity:\n    storage: 10Gi\n  scaleIO:\n    gateway: https://gw\n    system: sys\n    secretRef:\n      name: s\n  claimRef:\n    name: c\n    namespace: ns\n  persistentVolumeReclaimPolicy: Retain\nstatus:\n  phase: Bound\n";
        let from_yaml: PersistentVolume = serde_saphyr::from_str(yaml).unwrap();
        let spec = from_yaml.spec.as_ref().unwrap();
        assert_eq!(spec.scale_io.as_ref().unwrap().system, "sys");
        assert_eq!(spec.claim_ref.as_ref().unwrap().name.as_deref(), Some("c"));
        assert_eq!(
            from_yaml.status.as_ref().unwrap().phase.as_deref(),
            Some("Bound")
        );
        let full: core::PersistentVolume = serde_saphyr::from_str(yaml).unwrap();
        let json = serde_json::to_string(&full).unwrap();
        let from_json: PersistentVolume = serde_json::from_str(&json).unwrap();
        assert_eq!(from_yaml, from_json);
    }
}
