//! Tests of the backend decoders: every core/v1 source, every known CSI driver, odd and empty
//! values, and the 50 real PersistentVolume manifests of `tests/fixtures/real-pvs.yaml`.

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
    let b = decode("spec:\n  fc: {targetWWNs: ['500a0982991b8dc5', '500a0982891b8dc5'], lun: 2}");
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
    let b = decode("spec:\n  quobyte: {registry: 'registry:7861', volume: testVolume, user: root}");
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
    let b =
        decode("spec:\n  csi: {driver: nfs.csi.k8s.io, volumeHandle: '10.0.0.5#/exports#pvc-1#'}");
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
    let b = decode("spec:\n  csi: {driver: pxd.portworx.com, volumeHandle: '951679824907051932'}");
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
