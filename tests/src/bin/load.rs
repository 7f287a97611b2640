//! Load generator for the benchmark (issue 3 "Figures"): N pods, N PVCs and N PVs across M
//! namespaces, created directly (pods have nodeName set; each PV is pre-bound to its claim with
//! claimRef and the claim names it in volumeName), then waits until every claim is Bound and every
//! pod Running.
//!
//!   e2e-load [--pods N] [--namespaces M] [--prefix bench] [--concurrency C] [--no-wait]
//!
//! Uses $KUBECONFIG (admin: system:masters requests are exempt from API priority and fairness).
//! Idempotent: objects that already exist are left alone. Prints a one-line JSON summary.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::core::v1::{
    Namespace, PersistentVolume, PersistentVolumeClaim, Pod, ServiceAccount,
};
use k8s_openapi::api::storage::v1::{CSIDriver, StorageClass};
use kube::api::{Api, ListParams, PostParams};
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
}

fn parse() -> Result<Opts> {
    let mut o = Opts {
        pods: 10_000,
        namespaces: 20,
        prefix: "bench".into(),
        concurrency: 48,
        wait: true,
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
            "-h" | "--help" => {
                println!(
                    "e2e-load [--pods N] [--namespaces M] [--prefix P] [--concurrency C] [--no-wait]"
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
    let pvs: Vec<_> = (0..o.pods)
        .map(|i| {
            let obj = json!({"metadata": {"name": format!("{}-pv", name(i)), "labels": owner},
                "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                    "persistentVolumeReclaimPolicy": "Retain", "storageClassName": class,
                    "csi": {"driver": DRIVER, "volumeHandle": format!("vol-{i:05}")},
                    "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                 "namespace": nsname(i), "name": name(i)}}});
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

    let pvcs: Vec<_> = (0..o.pods)
        .map(|i| {
            (
                nsname(i),
                json!({"metadata": {"name": name(i), "labels": {"app": "bench"}},
                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": class,
                    "volumeName": format!("{}-pv", name(i)),
                    "resources": {"requests": {"storage": "1Gi"}}}}),
            )
        })
        .collect();
    let c = client.clone();
    create_all(
        |ns| Api::<PersistentVolumeClaim>::namespaced(c.clone(), ns),
        pvcs,
        o.concurrency,
    )
    .await?;
    let t_pvc = t0.elapsed();

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

    let (mut bound, mut running) = (0, 0);
    if o.wait {
        let sel = ListParams::default().labels("app=bench");
        let deadline = Instant::now() + Duration::from_secs(900);
        loop {
            let pvcs: Api<PersistentVolumeClaim> = Api::all(client.clone());
            bound = pvcs
                .list(&sel)
                .await?
                .items
                .iter()
                .filter(|p| {
                    p.metadata
                        .namespace
                        .as_deref()
                        .is_some_and(|n| n.starts_with(&o.prefix))
                        && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound")
                })
                .count();
            let pods: Api<Pod> = Api::all(client.clone());
            running = pods
                .list(&sel)
                .await?
                .items
                .iter()
                .filter(|p| {
                    p.metadata
                        .namespace
                        .as_deref()
                        .is_some_and(|n| n.starts_with(&o.prefix))
                        && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
                })
                .count();
            eprintln!(
                "e2e-load: {bound}/{} claims Bound, {running}/{} pods Running",
                o.pods, o.pods
            );
            if bound >= o.pods && running >= o.pods {
                break;
            }
            if Instant::now() > deadline {
                bail!("not settled after 900s");
            }
            tokio::time::sleep(Duration::from_secs(3)).await;
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
