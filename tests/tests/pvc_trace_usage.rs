//! `pvc-trace --usage` against the real local control plane: the kubelet summary is served for
//! test nodes so that each request really goes through the API server's node proxy.
//!
//! kwok v0.8 serves no `/stats/summary` (its server has logs, exec, port-forward and metrics,
//! not the summary API), and the API server's node proxy refuses loopback kubelet addresses
//! ("address not allowed"), so kwok's own endpoint on 127.0.0.1 cannot be used. Each test node
//! gets a small HTTPS server instead: `openssl s_server -WWW` (openssl is already a plane
//! dependency) on this machine's non-loopback IPv4 address, serving a file `stats/summary`
//! written in the kubelet's schema (`k8s.io/kubelet/pkg/apis/stats/v1alpha1`), with a
//! certificate for that address signed by the plane's CA (which the API server's
//! `--kubelet-certificate-authority` trusts). The node is created like the plane's (kwok makes
//! it Ready and runs its pods), then its status gets that address as InternalIP and the
//! server's port as `daemonEndpoints.kubeletEndpoint.Port` (kwok rewrites the port only at its
//! heartbeat, minutes later). The plane's flags are unchanged.

use std::collections::BTreeMap;
use std::net::{IpAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use e2e::{TestNs, wait_for};
use k8s_openapi::api::core::v1::{Node, PersistentVolumeClaim};
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

const T: Duration = Duration::from_secs(120);
const GI: u64 = 1 << 30;

/// This machine's IPv4 address on its default route (no packet is sent): the API server's
/// node proxy refuses loopback addresses.
fn host_ip() -> Result<IpAddr> {
    for target in ["192.0.2.1:9", "10.255.255.254:9", "198.51.100.1:9"] {
        let Ok(s) = UdpSocket::bind("0.0.0.0:0") else {
            continue;
        };
        if s.connect(target).is_ok()
            && let Ok(a) = s.local_addr()
            && !a.ip().is_loopback()
            && !a.ip().is_unspecified()
        {
            return Ok(a.ip());
        }
    }
    bail!(
        "no non-loopback IPv4 address on this machine: the API server's node proxy refuses \
         loopback kubelet addresses, so the kubelet summary cannot be served"
    )
}

fn run(cmd: &mut Command) -> Result<()> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("{cmd:?}"))?;
    ensure!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// A test node and the HTTPS server that plays its kubelet (or none: nothing listens on its
/// port). Dropping it stops the server and deletes the node.
struct FakeKubelet {
    node: String,
    dir: PathBuf,
    server: Option<Child>,
    kubectl: PathBuf,
    kubeconfig: PathBuf,
}

impl Drop for FakeKubelet {
    fn drop(&mut self) {
        if let Some(mut c) = self.server.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new(&self.kubectl)
            .env("KUBECONFIG", &self.kubeconfig)
            .args([
                "delete",
                "node",
                &self.node,
                "--wait=false",
                "--ignore-not-found",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A free TCP port on `ip`.
fn free_port(ip: IpAddr) -> Result<u16> {
    Ok(TcpListener::bind((ip, 0))?.local_addr()?.port())
}

/// A server certificate for `ip` signed by the plane's CA, in `dir`.
fn kubelet_cert(ns: &TestNs, dir: &Path, ip: IpAddr) -> Result<(PathBuf, PathBuf)> {
    let pki = ns.cluster.state_dir.join("pki");
    let (key, csr, crt, ext) = (
        dir.join("kubelet.key"),
        dir.join("kubelet.csr"),
        dir.join("kubelet.crt"),
        dir.join("ext.cnf"),
    );
    std::fs::write(
        &ext,
        format!("subjectAltName=IP:{ip}\nextendedKeyUsage=serverAuth\n"),
    )?;
    run(Command::new("openssl")
        .args([
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=e2e-kubelet",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&csr))?;
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "1", "-sha256"])
        .arg("-in")
        .arg(&csr)
        .arg("-CA")
        .arg(pki.join("ca.crt"))
        .arg("-CAkey")
        .arg(pki.join("ca.key"))
        .arg("-CAserial")
        .arg(dir.join("ca.srl"))
        .arg("-CAcreateserial")
        .arg("-extfile")
        .arg(&ext)
        .arg("-out")
        .arg(&crt))?;
    Ok((crt, key))
}

impl FakeKubelet {
    /// Create node `name` (kwok makes it Ready), start its kubelet server (when `summary` is
    /// given) on `ip`, and point the node's status at it (at `port` when given: a listener
    /// the test holds).
    async fn start(
        ns: &TestNs,
        name: &str,
        ip: IpAddr,
        summary: Option<&Value>,
        port: Option<u16>,
    ) -> Result<Self> {
        let dir = ns.dir().join(name);
        std::fs::create_dir_all(dir.join("stats"))?;
        let port = match port {
            Some(p) => p,
            None => free_port(ip)?,
        };
        let mut me = FakeKubelet {
            node: name.to_string(),
            dir: dir.clone(),
            server: None,
            kubectl: ns.cluster.kubectl_bin(),
            kubeconfig: ns.cluster.kubeconfig.clone(),
        };
        if let Some(s) = summary {
            me.serve(s)?;
            let (crt, key) = kubelet_cert(ns, &dir, ip)?;
            let child = Command::new("openssl")
                .args(["s_server", "-quiet", "-WWW", "-accept"])
                .arg(format!("{ip}:{port}"))
                .arg("-cert")
                .arg(&crt)
                .arg("-key")
                .arg(&key)
                .current_dir(&dir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("openssl s_server")?;
            me.server = Some(child);
            wait_for("the kubelet server to listen", T, || async move {
                Ok(std::net::TcpStream::connect((ip, port)).ok().map(|_| ()))
            })
            .await?;
        }
        ns.apply(json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name,
                "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
                "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "type": "kwok",
                           "topology.kubernetes.io/zone": "zone-usage"}},
        }))
        .await?;
        let nodes = ns.api_all::<Node>();
        let ready = |n: &Node| {
            n.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        };
        wait_for(&format!("node {name} Ready"), T, || {
            let nodes = nodes.clone();
            async move { Ok(nodes.get_opt(name).await?.filter(|n| ready(n)).map(|_| ())) }
        })
        .await?;
        let status = json!({"status": {
            "addresses": [{"type": "InternalIP", "address": ip.to_string()},
                          {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
        }});
        nodes
            .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
            .await?;
        Ok(me)
    }

    /// Serve this summary from now on.
    fn serve(&self, summary: &Value) -> Result<()> {
        std::fs::write(
            self.dir.join("stats/summary"),
            serde_json::to_vec_pretty(summary)?,
        )?;
        Ok(())
    }
}

/// One claim's numbers in a summary: `used_pct` of 10Gi, `inodes_pct` of a million inodes.
struct Fill<'a> {
    pod: &'a str,
    claim: &'a str,
    used_pct: u64,
    inodes_pct: u64,
}

/// A kubelet summary (the fields the kubelet writes, not only those pvc-trace reads).
fn summary(node: &str, ns: &str, fills: &[Fill<'_>]) -> Value {
    let pods: Vec<Value> = fills
        .iter()
        .map(|f| {
            let (cap, inodes) = (10 * GI, 1_000_000u64);
            let used = (cap * f.used_pct).div_ceil(100);
            let iused = (inodes * f.inodes_pct).div_ceil(100);
            json!({
                "podRef": {"name": f.pod, "namespace": ns, "uid": format!("uid-{}", f.pod)},
                "startTime": "2026-12-01T00:00:00Z",
                "containers": [{"name": "app", "startTime": "2026-12-01T00:00:00Z"}],
                "volume": [
                    {"time": "2026-12-03T10:00:00Z", "name": "data",
                     "pvcRef": {"name": f.claim, "namespace": ns},
                     "capacityBytes": cap, "usedBytes": used, "availableBytes": cap - used,
                     "inodes": inodes, "inodesUsed": iused, "inodesFree": inodes - iused},
                    {"time": "2026-12-03T10:00:00Z", "name": "kube-api-access",
                     "capacityBytes": 1000, "usedBytes": 10, "availableBytes": 990}
                ]
            })
        })
        .collect();
    json!({
        "node": {"nodeName": node, "startTime": "2026-12-01T00:00:00Z",
                 "fs": {"capacityBytes": 100 * GI, "usedBytes": GI, "availableBytes": 99 * GI}},
        "pods": pods,
    })
}

/// A claim pre-bound to its own static volume, and (with `node`) a pod mounting it there.
async fn claim_and_pod(ns: &TestNs, claim: &str, pod: Option<(&str, &str)>) -> Result<()> {
    let pv = format!("{}-{claim}", ns.name);
    ns.apply(json!({
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": pv, "labels": ns.owner_labels()},
        "spec": {"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"],
                 "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "",
                 "hostPath": {"path": format!("/tmp/{pv}")},
                 "claimRef": {"namespace": ns.name, "name": claim}},
    }))
    .await?;
    ns.apply(json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": claim},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "", "volumeName": pv,
                 "resources": {"requests": {"storage": "10Gi"}}},
    }))
    .await?;
    if let Some((pod, node)) = pod {
        ns.apply(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod},
            "spec": {"nodeName": node,
                "containers": [{"name": "app", "image": "busybox",
                                "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]},
        }))
        .await?;
    }
    Ok(())
}

async fn wait_running(ns: &TestNs, pod: &str) -> Result<()> {
    ns.wait_pod_running(pod, T).await.map(drop)
}

async fn wait_bound(ns: &TestNs, claim: &str) -> Result<()> {
    let api = ns.api::<PersistentVolumeClaim>();
    wait_for(&format!("{claim} Bound"), T, || {
        let api = api.clone();
        async move {
            Ok(api
                .get_opt(claim)
                .await?
                .and_then(|c| (c.status?.phase.as_deref() == Some("Bound")).then_some(())))
        }
    })
    .await
}

/// Each claim's `usage` in a `-o json` report, by claim name.
fn usages(report: &Value) -> BTreeMap<String, Value> {
    fn walk(v: &Value, out: &mut BTreeMap<String, Value>) {
        match v {
            Value::Object(m) => {
                if let (Some(Value::String(name)), Some(u)) = (m.get("name"), m.get("usage")) {
                    out.insert(name.clone(), u.clone());
                }
                m.values().for_each(|x| walk(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    walk(report, &mut out);
    out
}

/// (severity, code) of each diagnostic about `name`.
fn diags(report: &Value, name: &str) -> Vec<(String, String)> {
    report["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["object"]["name"] == name)
        .map(|d| {
            (
                d["severity"].as_str().unwrap_or("").to_string(),
                d["code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The audit IDs of pvc-trace's summary requests to `node` (the policy logs each request of
/// the admin and the restricted user once, at ResponseComplete).
fn summary_requests(audit: &str, node: &str) -> Vec<String> {
    let uri = format!("\"requestURI\":\"/api/v1/nodes/{node}/proxy/stats/summary\"");
    let mut ids: Vec<String> = audit
        .lines()
        .filter(|l| l.contains(&uri) && l.contains("\"userAgent\":\"kubectl-pvc_trace"))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["auditID"].as_str().map(str::to_string))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[tokio::test]
async fn usage_comes_through_the_node_proxy_once_per_node_and_meets_the_thresholds() -> Result<()> {
    let ns = TestNs::new("pvc-trace-usage").await?;
    let ip = host_ip()?;
    let (a, b, c) = (
        format!("{}-a", ns.name),
        format!("{}-b", ns.name),
        format!("{}-c", ns.name),
    );
    let node_a = [
        Fill {
            pod: "p50",
            claim: "c50",
            used_pct: 50,
            inodes_pct: 1,
        },
        Fill {
            pod: "p86",
            claim: "c86",
            used_pct: 86,
            inodes_pct: 2,
        },
        Fill {
            pod: "p96",
            claim: "c96",
            used_pct: 96,
            inodes_pct: 3,
        },
    ];
    let node_b = [Fill {
        pod: "pinode",
        claim: "cinode",
        used_pct: 10,
        inodes_pct: 99,
    }];
    let _ka = FakeKubelet::start(&ns, &a, ip, Some(&summary(&a, &ns.name, &node_a)), None).await?;
    let _kb = FakeKubelet::start(&ns, &b, ip, Some(&summary(&b, &ns.name, &node_b)), None).await?;
    // Node c's kubelet port has nothing listening.
    let _kc = FakeKubelet::start(&ns, &c, ip, None, None).await?;
    for f in &node_a {
        claim_and_pod(&ns, f.claim, Some((f.pod, &a))).await?;
    }
    claim_and_pod(&ns, "cinode", Some(("pinode", &b))).await?;
    claim_and_pod(&ns, "cdown", Some(("pdown", &c))).await?;
    claim_and_pod(&ns, "cidle", None).await?;
    for claim in ["c50", "c86", "c96", "cinode", "cdown", "cidle"] {
        wait_bound(&ns, claim).await?;
    }
    for pod in ["p50", "p86", "p96", "pinode", "pdown"] {
        wait_running(&ns, pod).await?;
    }
    // The API server really proxies to the served summary.
    let raw = ns
        .kubectl(&[
            "get",
            "--raw",
            &format!("/api/v1/nodes/{a}/proxy/stats/summary"),
        ])
        .await?
        .ok()?;
    assert!(raw.stdout.contains("\"c96\""), "{}", raw.stdout);

    let out = ns.kubectl(&["pvc-trace", "--usage", "-o", "json"]).await?;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report = out.json()?;
    let u = usages(&report);
    for (claim, pct) in [("c50", 50), ("c86", 86), ("c96", 96), ("cinode", 10)] {
        assert_eq!(u[claim]["state"], "known", "{claim}: {}", u[claim]);
        assert_eq!(u[claim]["usedPercent"], pct, "{claim}: {}", u[claim]);
        assert_eq!(u[claim]["capacityBytes"], 10 * GI, "{claim}");
    }
    assert_eq!(u["c96"]["node"], a.as_str());
    assert_eq!(u["c96"]["mountedOn"], json!([a]));
    assert_eq!(u["cinode"]["inodesUsedPercent"], 99);
    assert_eq!(u["cinode"]["inodesFree"], 10_000);
    assert_eq!(u["cidle"]["state"], "notMounted", "{}", u["cidle"]);
    assert_eq!(u["cdown"]["state"], "unknown", "{}", u["cdown"]);
    let why = u["cdown"]["reason"].as_str().unwrap_or_default();
    assert!(why.starts_with("unreachable: "), "{why}");
    assert!(
        diags(&report, "c50").is_empty(),
        "{:?}",
        diags(&report, "c50")
    );
    assert_eq!(
        diags(&report, "c86"),
        [("warning".into(), "VolumeNearlyFull".into())]
    );
    assert_eq!(
        diags(&report, "c96"),
        [("error".into(), "VolumeNearlyFull".into())]
    );
    assert_eq!(
        diags(&report, "cinode"),
        [("error".into(), "InodesNearlyFull".into())]
    );
    assert_eq!(diags(&report, &c), [("info".into(), "UsageUnknown".into())]);

    // One summary request per node, not one per claim (node a holds three claims).
    let audit = std::fs::read_to_string(&ns.cluster.audit_log)?;
    for node in [&a, &b, &c] {
        let ids = summary_requests(&audit, node);
        assert_eq!(ids.len(), 1, "{node}: {ids:?}");
    }

    table_and_flags(&ns).await?;
    restricted_user_gets_unknown_cells(&ns).await?;
    a_stalled_kubelet_is_bounded_by_the_request_timeout(&ns, ip).await
}

/// The table: USED, FREE, USE%, IUSE%; -o wide implies --usage; the thresholds are flags;
/// --fail-on sees the usage diagnostics; --sort-by .use sorts by value.
async fn table_and_flags(ns: &TestNs) -> Result<()> {
    let out = ns.kubectl(&["pvc-trace", "-o", "wide"]).await?.ok()?;
    let header = out.stdout.lines().next().unwrap_or_default().to_string();
    for col in ["USED", "FREE", "USE%", "IUSE%"] {
        assert!(header.contains(col), "{header}");
    }
    let row = |claim: &str| {
        out.stdout
            .lines()
            .find(|l| l.split_whitespace().any(|w| w == claim))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        row("c96").contains(" 96% ") && row("c96").contains("9.6Gi"),
        "{}",
        row("c96")
    );
    assert!(row("cidle").contains("not mounted"), "{}", row("cidle"));
    assert!(
        row("cdown").contains("unknown (unreachable: "),
        "{}",
        row("cdown")
    );
    assert!(
        out.stdout.contains("error   VolumeNearlyFull"),
        "{}",
        out.stdout
    );
    // Thresholds are flags; --fail-on sees the usage diagnostics; sorting by USE% by value.
    let out = ns
        .kubectl(&[
            "pvc-trace",
            "--usage",
            "--usage-warn",
            "40",
            "--usage-error",
            "90",
            "-o",
            "json",
        ])
        .await?;
    let report = out.json()?;
    assert_eq!(
        diags(&report, "c50"),
        [("warning".into(), "VolumeNearlyFull".into())]
    );
    assert_eq!(
        diags(&report, "c86"),
        [("warning".into(), "VolumeNearlyFull".into())]
    );
    let out = ns
        .kubectl(&["pvc-trace", "--usage", "--fail-on", "error"])
        .await?;
    assert_eq!(out.code, 5, "{}\n{}", out.stdout, out.stderr);
    let out = ns
        .kubectl(&[
            "pvc-trace",
            "--usage",
            "--no-headers",
            "--sort-by",
            ".use",
            "-o",
            "custom-columns=CLAIM:.claim,USE:.use",
        ])
        .await?
        .ok()?;
    let order: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| ["c50", "cinode", "c86", "c96"].contains(c))
        .collect();
    assert_eq!(order, ["cinode", "c50", "c86", "c96"], "{}", out.stdout);
    let out = ns
        .kubectl(&[
            "pvc-trace",
            "--usage",
            "--usage-warn",
            "96",
            "--usage-error",
            "95",
        ])
        .await?;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--usage-warn 96"), "{}", out.stderr);

    Ok(())
}

/// A user who may read pods and claims but not nodes/proxy: unknown cells, exit 0.
async fn restricted_user_gets_unknown_cells(ns: &TestNs) -> Result<()> {
    ns.grant_restricted(
        "usage-reader",
        json!([{"apiGroups": [""], "resources": ["pods", "persistentvolumeclaims", "events"],
                "verbs": ["get", "list"]}]),
    )
    .await?;
    let out = ns
        .kubectl_as_restricted(&["pvc-trace", "--usage", "-o", "json"])
        .await?;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let u = usages(&out.json()?);
    for claim in ["c50", "c96", "cinode"] {
        assert_eq!(u[claim]["state"], "unknown", "{claim}: {}", u[claim]);
        assert_eq!(u[claim]["reason"], "forbidden: get nodes/proxy", "{claim}");
    }
    let out = ns.kubectl_as_restricted(&["pvc-trace", "--usage"]).await?;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("unknown (forbidden: get nodes/proxy)"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("VolumeNearlyFull"), "{}", out.stdout);

    Ok(())
}

/// A kubelet that accepts connections and never answers: --request-timeout bounds it.
async fn a_stalled_kubelet_is_bounded_by_the_request_timeout(
    ns: &TestNs,
    ip: IpAddr,
) -> Result<()> {
    let d = format!("{}-d", ns.name);
    let stall = TcpListener::bind((ip, 0))?;
    let _kd = FakeKubelet::start(ns, &d, ip, None, Some(stall.local_addr()?.port())).await?;
    claim_and_pod(ns, "cstall", Some(("pstall", &d))).await?;
    wait_bound(ns, "cstall").await?;
    wait_running(ns, "pstall").await?;
    let t0 = std::time::Instant::now();
    let out = ns
        .kubectl(&[
            "pvc-trace",
            "--usage",
            "--request-timeout",
            "2s",
            "-o",
            "json",
        ])
        .await?;
    let took = t0.elapsed();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let u = usages(&out.json()?);
    assert_eq!(
        u["cstall"]["reason"], "timed out after 2s",
        "{}",
        u["cstall"]
    );
    assert_eq!(u["c96"]["usedPercent"], 96, "the other nodes still answer");
    assert!(took < Duration::from_secs(15), "{took:?}");
    drop(stall);
    Ok(())
}
