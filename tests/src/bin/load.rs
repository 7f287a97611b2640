//! Load generator for the benchmark (issue 3 "Figures"): N pods, N PVCs and N PVs across M
//! namespaces, created directly: pods have nodeName set (kwok runs them), each claim names its PV
//! in volumeName and each PV names its claim (with uid) in claimRef. By default the generator also
//! writes the Bound status of both, exactly as the PV controller would (so the controller, which
//! binds one claim at a time, has nothing left to do); `--controller-binds` leaves binding to the
//! PV controller instead (slow: about 10 minutes for 10,000 on 2 cores). Then waits until every
//! pod is Running and every claim Bound.
//!
//!   e2e-load [--pods N] [--namespaces M] [--prefix bench] [--concurrency C] [--controller-binds] [--no-wait]
//!
//! Uses $KUBECONFIG (admin: system:masters requests are exempt from API priority and fairness).
//! Idempotent: objects that already exist are left alone. Prints a one-line JSON summary.

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::core::v1::{
    Namespace, PersistentVolume, PersistentVolumeClaim, Pod, ServiceAccount,
};
use k8s_openapi::api::storage::v1::{CSIDriver, StorageClass};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use serde_json::json;

const NODES: [&str; 3] = ["kwok-node-0", "kwok-node-1", "kwok-node-2"];
const DRIVER: &str = "bench.csi.kubectl-stateful.io";

struct Opts {
    pods: usize,
    namespaces: usize,
    prefix: String,
    concurrency: usize,
    wait: bool,
    controller_binds: bool,
}

fn parse() -> Result<Opts> {
    let mut o = Opts {
        pods: 10_000,
        namespaces: 20,
        prefix: "bench".into(),
        concurrency: 48,
        wait: true,
        controller_binds: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--pods" => o.pods = val()?.parse()?,
            "--namespaces" => o.namespaces = val()?.parse()?,
            "--prefix" => o.prefix = val()?,
            "--concurrency" => o.concurrency = val()?.parse()?,
            "--no-wait" => o.wait = false,
            "--controller-binds" => o.controller_binds = true,
            "-h" | "--help" => {
                println!(
                    "e2e-load [--pods N] [--namespaces M] [--prefix P] [--concurrency C] [--controller-binds] [--no-wait]"
                );
                std::process::exit(0);
            }
            _ => bail!("unknown argument {a}"),
        }
    }
    if o.namespaces == 0 || o.concurrency == 0 {
        bail!("--namespaces and --concurrency must be > 0");
    }
    Ok(o)
}

async fn create<K>(api: &Api<K>, obj: serde_json::Value) -> Result<()>
where
    K: Resource + Clone + DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let obj: K = serde_json::from_value(obj)?;
    let mut tries = 0;
    loop {
        match api.create(&PostParams::default(), &obj).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 => return Ok(()),
            Err(e) if tries < 5 => {
                tries += 1;
                eprintln!("e2e-load: retrying after {e}");
                tokio::time::sleep(Duration::from_millis(200 * tries)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

async fn create_get_uid<K>(api: &Api<K>, obj: serde_json::Value) -> Result<String>
where
    K: Resource + Clone + DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    create(api, obj).await?;
    api.get(&name)
        .await?
        .meta()
        .uid
        .clone()
        .with_context(|| format!("{name} has no uid"))
}

async fn create_all<K, F>(
    api_for: F,
    objs: Vec<(String, serde_json::Value)>,
    c: usize,
) -> Result<()>
where
    K: Resource + Clone + DeserializeOwned + serde::Serialize + std::fmt::Debug,
    F: Fn(&str) -> Api<K>,
{
    stream::iter(objs.into_iter().map(|(ns, o)| {
        let api = api_for(&ns);
        async move { create(&api, o).await }
    }))
    .buffer_unordered(c)
    .try_collect::<()>()
    .await
}

#[tokio::main]
async fn main() -> Result<()> {
    let o = parse()?;
    let client = Client::try_default().await?;
    let t0 = Instant::now();
    let nsname = |i: usize| format!("{}-{:02}", o.prefix, i % o.namespaces);
    let owner = json!({"e2e.kubectl-stateful.io/bench": o.prefix});

    let nss: Api<Namespace> = Api::all(client.clone());
    for i in 0..o.namespaces {
        create(
            &nss,
            json!({"metadata": {"name": nsname(i), "labels": owner}}),
        )
        .await?;
    }
    let sc: Api<StorageClass> = Api::all(client.clone());
    let class = format!("{}-static", o.prefix);
    create(
        &sc,
        json!({"metadata": {"name": class, "labels": owner},
        "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "Immediate",
        "reclaimPolicy": "Retain"}),
    )
    .await?;
    let drivers: Api<CSIDriver> = Api::all(client.clone());
    create(
        &drivers,
        json!({"metadata": {"name": DRIVER, "labels": owner},
        "spec": {"attachRequired": false, "podInfoOnMount": false}}),
    )
    .await?;
    for i in 0..o.namespaces {
        let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), &nsname(i));
        let deadline = Instant::now() + Duration::from_secs(60);
        while sas.get_opt("default").await?.is_none() {
            if Instant::now() > deadline {
                bail!("no default ServiceAccount in {}", nsname(i));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    let name = |i: usize| format!("{}-{:05}", o.prefix, i);
    let pv_name = |i: usize| format!("{}-pv", name(i));
    let direct = !o.controller_binds;
    // Claims first: their uids go into the PVs' claimRefs.
    let uids: Vec<String> = stream::iter((0..o.pods).map(|i| {
        let api = Api::<PersistentVolumeClaim>::namespaced(client.clone(), &nsname(i));
        let mut meta = json!({"name": name(i), "labels": {"app": "bench"}});
        if direct {
            meta["annotations"] = json!({"pv.kubernetes.io/bind-completed": "yes"});
        }
        let obj = json!({"metadata": meta,
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": class,
                "volumeName": pv_name(i), "resources": {"requests": {"storage": "1Gi"}}}});
        async move { create_get_uid(&api, obj).await }
    }))
    .buffered(o.concurrency)
    .try_collect()
    .await?;
    let t_pvc = t0.elapsed();
    eprintln!("e2e-load: {} claims at {:.1}s", o.pods, t_pvc.as_secs_f64());

    let pvs: Vec<_> = (0..o.pods)
        .map(|i| {
            let mut claim_ref = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "namespace": nsname(i), "name": name(i)});
            if direct {
                claim_ref["uid"] = json!(uids[i]);
            }
            let obj = json!({"metadata": {"name": pv_name(i), "labels": owner},
                "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                    "persistentVolumeReclaimPolicy": "Retain", "storageClassName": class,
                    "csi": {"driver": DRIVER, "volumeHandle": format!("vol-{i:05}")},
                    "claimRef": claim_ref}});
            (String::new(), obj)
        })
        .collect();
    let c = client.clone();
    create_all(
        |_| Api::<PersistentVolume>::all(c.clone()),
        pvs,
        o.concurrency,
    )
    .await?;
    let t_pv = t0.elapsed();
    eprintln!("e2e-load: {} volumes at {:.1}s", o.pods, t_pv.as_secs_f64());

    if direct {
        // The status the PV controller writes when it binds, so its next sync finds nothing to do.
        stream::iter((0..o.pods).map(|i| {
            let pvs = Api::<PersistentVolume>::all(client.clone());
            let pvcs = Api::<PersistentVolumeClaim>::namespaced(client.clone(), &nsname(i));
            let (pv, pvc) = (pv_name(i), name(i));
            async move {
                let pp = PatchParams::default();
                let st = json!({"status": {"phase": "Bound"}});
                pvs.patch_status(&pv, &pp, &Patch::Merge(st))
                    .await
                    .with_context(|| format!("status of {pv}"))?;
                let st = json!({"status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"],
                    "capacity": {"storage": "1Gi"}}});
                pvcs.patch_status(&pvc, &pp, &Patch::Merge(st))
                    .await
                    .with_context(|| format!("status of {pvc}"))?;
                anyhow::Ok(())
            }
        }))
        .buffer_unordered(o.concurrency)
        .try_collect::<()>()
        .await?;
        eprintln!(
            "e2e-load: statuses Bound at {:.1}s",
            t0.elapsed().as_secs_f64()
        );
    }

    let pods: Vec<_> = (0..o.pods)
        .map(|i| {
            (nsname(i), json!({"metadata": {"name": name(i), "labels": {"app": "bench"}},
                "spec": {"nodeName": NODES[i % NODES.len()], "automountServiceAccountToken": false,
                    "containers": [{"name": "main", "image": "example.invalid/bench:1",
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                    "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": name(i)}}]}}))
        })
        .collect();
    let c = client.clone();
    create_all(
        |ns| Api::<Pod>::namespaced(c.clone(), ns),
        pods,
        o.concurrency,
    )
    .await?;
    let t_pod = t0.elapsed();
    eprintln!("e2e-load: {} pods at {:.1}s", o.pods, t_pod.as_secs_f64());

    let (mut bound, mut running) = (0, 0);
    if o.wait {
        let deadline = Instant::now() + Duration::from_secs(1800);
        let prefix = format!("{}-", o.prefix);
        let in_bench = |ns: Option<&str>| ns.is_some_and(|n| n.starts_with(&prefix));
        loop {
            // Only the pods not Running yet (a field selector keeps this cheap).
            let pods: Api<Pod> = Api::all(client.clone());
            let lp = ListParams::default()
                .labels("app=bench")
                .fields("status.phase!=Running");
            let not_running = pods
                .list_metadata(&lp)
                .await?
                .items
                .iter()
                .filter(|p| in_bench(p.metadata.namespace.as_deref()))
                .count();
            running = o.pods.saturating_sub(not_running);
            if running >= o.pods {
                let pvcs: Api<PersistentVolumeClaim> = Api::all(client.clone());
                bound = pvcs
                    .list(&ListParams::default().labels("app=bench"))
                    .await?
                    .items
                    .iter()
                    .filter(|p| {
                        in_bench(p.metadata.namespace.as_deref())
                            && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound")
                    })
                    .count();
            }
            eprintln!(
                "e2e-load: {running}/{} pods Running, {bound}/{} claims Bound",
                o.pods, o.pods
            );
            if bound >= o.pods && running >= o.pods {
                break;
            }
            if Instant::now() > deadline {
                bail!("not settled after 1800s");
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    }
    println!(
        "{}",
        json!({"pods": o.pods, "namespaces": o.namespaces, "pvs_done_s": t_pv.as_secs_f64(),
            "pvcs_done_s": t_pvc.as_secs_f64(), "pods_done_s": t_pod.as_secs_f64(),
            "settled_s": t0.elapsed().as_secs_f64(), "bound": bound, "running": running})
    );
    Ok(())
}
