//! Generate a big `kubectl get -o yaml`-style dump for the benchmark:
//! `cargo run --release -p kubectl-pvc-trace --example gen_dump -- N OUT.yaml`
//! writes N pods, N claims and N volumes across 20 namespaces, 3 zones, CSI (EBS) volumes,
//! a few problems sprinkled in (1% Pending with a missing class, 1% Released volumes). Nodes
//! carry the EBS CSI topology label, as the driver's node plugin registers it, so healthy
//! volumes are healthy.

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

use std::io::Write;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let out = args.get(2).cloned().unwrap_or_else(|| "big.yaml".into());
    let f = std::fs::File::create(&out)?;
    let mut w = std::io::BufWriter::new(f);
    let zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
    writeln!(
        w,
        "apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: \"\"\nitems:"
    )?;
    for (i, z) in zones.iter().enumerate() {
        write!(
            w,
            "- apiVersion: v1\n  kind: Node\n  metadata:\n    name: node-{i}\n    labels:\n      kubernetes.io/hostname: node-{i}\n      topology.kubernetes.io/zone: {z}\n      topology.ebs.csi.aws.com/zone: {z}\n  status:\n    conditions:\n    - type: Ready\n      status: \"True\"\n"
        )?;
    }
    write!(
        w,
        "- apiVersion: storage.k8s.io/v1\n  kind: StorageClass\n  metadata:\n    name: gp3\n    annotations:\n      storageclass.kubernetes.io/is-default-class: \"true\"\n  provisioner: ebs.csi.aws.com\n  reclaimPolicy: Delete\n  volumeBindingMode: WaitForFirstConsumer\n  allowVolumeExpansion: true\n"
    )?;
    for i in 0..n {
        let ns = format!("team-{:02}", i % 20);
        let node = i % 3;
        let zone = zones[node];
        let pvc = format!("data-app-{i}");
        let pv = format!("pvc-{i:08x}-1c2d-4e5f-8a9b-0c1d2e3f4a5b");
        let uid = format!("{i:08x}-aaaa-4bbb-8ccc-dddddddddddd");
        let pending = i % 100 == 7;
        let released = i % 100 == 42;
        let class = if pending { "fast-missing" } else { "gp3" };
        // Claim.
        write!(
            w,
            "- apiVersion: v1\n  kind: PersistentVolumeClaim\n  metadata:\n    name: {pvc}\n    namespace: {ns}\n    uid: {uid}\n    resourceVersion: \"{i}\"\n    creationTimestamp: \"2026-11-20T09:14:03Z\"\n    labels:\n      app: app-{i}\n    annotations:\n      pv.kubernetes.io/bind-completed: \"yes\"\n      volume.kubernetes.io/selected-node: node-{node}\n      volume.kubernetes.io/storage-provisioner: ebs.csi.aws.com\n    finalizers:\n    - kubernetes.io/pvc-protection\n  spec:\n    accessModes:\n    - ReadWriteOnce\n    resources:\n      requests:\n        storage: 10Gi\n    storageClassName: {class}\n    volumeMode: Filesystem\n"
        )?;
        if pending {
            write!(w, "  status:\n    phase: Pending\n")?;
        } else {
            write!(
                w,
                "    volumeName: {pv}\n  status:\n    phase: Bound\n    accessModes:\n    - ReadWriteOnce\n    capacity:\n      storage: 10Gi\n"
            )?;
        }
        // Volume.
        let (claim_ns, claim_name, claim_uid, phase) = if released {
            (
                ns.as_str(),
                format!("deleted-{i}"),
                format!("gone-{uid}"),
                "Released",
            )
        } else {
            (ns.as_str(), pvc.clone(), uid.clone(), "Bound")
        };
        write!(
            w,
            "- apiVersion: v1\n  kind: PersistentVolume\n  metadata:\n    name: {pv}\n    uid: pv-{uid}\n    resourceVersion: \"{i}\"\n    creationTimestamp: \"2026-11-20T09:14:05Z\"\n    annotations:\n      pv.kubernetes.io/provisioned-by: ebs.csi.aws.com\n      volume.kubernetes.io/provisioner-deletion-secret-name: \"\"\n    finalizers:\n    - kubernetes.io/pv-protection\n    - external-attacher/ebs-csi-aws-com\n  spec:\n    accessModes:\n    - ReadWriteOnce\n    capacity:\n      storage: 10Gi\n    claimRef:\n      apiVersion: v1\n      kind: PersistentVolumeClaim\n      name: {claim_name}\n      namespace: {claim_ns}\n      uid: {claim_uid}\n    csi:\n      driver: ebs.csi.aws.com\n      fsType: ext4\n      volumeAttributes:\n        storage.kubernetes.io/csiProvisionerIdentity: 1763629800000-8081-ebs.csi.aws.com\n      volumeHandle: vol-0{i:016x}\n    nodeAffinity:\n      required:\n        nodeSelectorTerms:\n        - matchExpressions:\n          - key: topology.ebs.csi.aws.com/zone\n            operator: In\n            values:\n            - {zone}\n    persistentVolumeReclaimPolicy: Delete\n    storageClassName: gp3\n    volumeMode: Filesystem\n  status:\n    phase: {phase}\n"
        )?;
        // Pod.
        write!(
            w,
            "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: app-{i}-0\n    namespace: {ns}\n    uid: pod-{uid}\n    resourceVersion: \"{i}\"\n    creationTimestamp: \"2026-11-20T09:14:07Z\"\n    labels:\n      app: app-{i}\n      pod-template-hash: 7d9f8c6b5\n  spec:\n    nodeName: node-{node}\n    restartPolicy: Always\n    serviceAccountName: default\n    containers:\n    - name: app\n      image: registry.example.com/app:1.{i}\n      ports:\n      - containerPort: 8080\n        protocol: TCP\n      resources:\n        requests:\n          cpu: 100m\n          memory: 128Mi\n      volumeMounts:\n      - name: data\n        mountPath: /data\n      - name: kube-api-access\n        mountPath: /var/run/secrets/kubernetes.io/serviceaccount\n        readOnly: true\n    volumes:\n    - name: data\n      persistentVolumeClaim:\n        claimName: {pvc}\n    - name: kube-api-access\n      projected:\n        defaultMode: 420\n        sources:\n        - serviceAccountToken:\n            expirationSeconds: 3607\n            path: token\n  status:\n    phase: Running\n    podIP: 10.{}.{}.{}\n    conditions:\n    - type: PodScheduled\n      status: \"True\"\n    - type: Ready\n      status: \"True\"\n",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        )?;
    }
    w.flush()?;
    eprintln!("wrote {out}: {n} pods, {n} claims, {n} volumes");
    Ok(())
}
