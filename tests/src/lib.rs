//! End-to-end test harness of kubectl-stateful.
//!
//! Every live-cluster test runs against ONE local control plane per test run: real etcd,
//! kube-apiserver, kube-controller-manager, kube-scheduler and kwok (three fake nodes in zones
//! `zone-a`, `zone-b`, `zone-c`), started by `tests/local-cluster up` (see that script). The first
//! test that calls [`cluster()`] starts it, or reuses the one already running in the state dir
//! (`$KUBECTL_STATEFUL_CLUSTER_DIR`, default `~/.cache/kubectl-stateful/cluster`); `up` takes a
//! lock file, so concurrent test binaries share one plane. The harness never stops the plane:
//! `tests/scripts/run-e2e.sh` (CI) runs `tests/local-cluster down` at the end; by hand, run it
//! yourself (leaving it up makes the next `cargo test` start in a second).
//!
//! Each test gets its own namespace through [`TestNs::new`], deleted when the `TestNs` is dropped
//! (also on panic), together with the cluster-scoped objects the test labelled with
//! [`TestNs::owner_labels`] (PVs, StorageClasses, ClusterRoles, ClusterRoleBindings).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let ns = e2e::TestNs::new("pvc-trace-basic").await?;
//! let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = ns.api();
//! let out = ns.kubectl(&["pvc-trace", "-o", "json"]).await?; // through plugin discovery
//! assert_eq!(out.code, 0, "{}", out.stderr);
//! ns.grant_restricted("reader", serde_json::json!([{"apiGroups": [""],
//!     "resources": ["pods"], "verbs": ["get", "list"]}])).await?;
//! let out = ns.kubectl_as_restricted(&["get", "pods"]).await?;
//! # Ok(()) }
//! ```
//!
//! kwok specifics: pods on the fake nodes become Running/Ready; pods owned by a Job then
//! Succeed; a pod annotated [`FAIL_ANNOTATION`]`: "true"` fails (exit code 1, reason Error; give
//! its Job `backoffLimit: 0`). `kubectl exec` runs the command on this host, in `/tmp`, with
//! `KWOK_EXEC=true`; [`TestNs::set_pod_exec`] gives one pod its own env and workDir.
//! `kubectl logs` prints a placeholder line unless [`TestNs::set_pod_logs`] set the pod's lines.
//!
//! Real database servers behind pods (one per pod on its own loopback address, FQDNs in
//! /etc/hosts, restarted when they exit): [`Loopback`], [`HostsFile`], [`Supervisor`],
//! [`wait_sts_pods`].

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

mod servers;
pub mod storage;
pub use servers::{HostsFile, Loopback, Supervisor, have, sh, wait_sts_pods};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Client, Config};
use serde_json::json;

/// Pod annotation that makes kwok fail the pod once it runs (value `"true"`).
pub const FAIL_ANNOTATION: &str = "kwok.x-k8s.io/fail";
/// Optional pod annotation: the exit code of a pod failed by [`FAIL_ANNOTATION`] (default 1).
pub const EXIT_CODE_ANNOTATION: &str = "kwok.x-k8s.io/exit-code";
/// Label put on every test namespace and expected on the test's cluster-scoped objects.
pub const OWNER_LABEL: &str = "e2e.kubectl-stateful.io/namespace";
/// Field manager of the harness's server-side applies.
pub const FIELD_MANAGER: &str = "kubectl-stateful-e2e";
/// Names of the fake nodes and their zones (`topology.kubernetes.io/zone`).
pub const NODES: [(&str, &str); 3] = [
    ("kwok-node-0", "zone-a"),
    ("kwok-node-1", "zone-b"),
    ("kwok-node-2", "zone-c"),
];

/// The running local control plane, as described by `<state>/cluster.env`.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// State dir (`$KUBECTL_STATEFUL_CLUSTER_DIR` or `~/.cache/kubectl-stateful/cluster`).
    pub state_dir: PathBuf,
    /// Dir of the built kube-apiserver, kubectl, kwok... (the build cache).
    pub bin_dir: PathBuf,
    /// `https://127.0.0.1:<port>`.
    pub server: String,
    /// e.g. `v1.36.3` (from tests/versions.env).
    pub k8s_version: String,
    /// Admin kubeconfig (CN=admin, O=system:masters).
    pub kubeconfig: PathBuf,
    /// Kubeconfig of the user `e2e-restricted` (no groups).
    pub restricted_kubeconfig: PathBuf,
    /// The user name of [`Cluster::restricted_kubeconfig`].
    pub restricted_user: String,
    /// Audit log: every request of the admin and restricted users, Metadata level (JSON lines).
    pub audit_log: PathBuf,
    /// All of `cluster.env` (ports and paths).
    pub env: BTreeMap<String, String>,
}

impl Cluster {
    /// Path of the `kubectl` built for this cluster (its version matches the server's).
    pub fn kubectl_bin(&self) -> PathBuf {
        self.bin_dir.join("kubectl")
    }

    /// CA certificate of the cluster.
    pub fn ca_cert(&self) -> PathBuf {
        self.state_dir.join("pki/ca.crt")
    }

    /// An admin client (build one per test: a client is tied to the runtime it was built on).
    pub async fn admin_client(&self) -> Result<Client> {
        client_from_kubeconfig(&self.kubeconfig, None).await
    }

    /// A client of the restricted user (no groups: only what RBAC grants `e2e-restricted`).
    pub async fn restricted_client(&self) -> Result<Client> {
        client_from_kubeconfig(&self.restricted_kubeconfig, None).await
    }
}

/// The repository root (parent of `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// `tests/local-cluster`.
pub fn local_cluster_script() -> PathBuf {
    repo_root().join("tests/local-cluster")
}

/// Where the workspace's plugin binaries are looked up: `$KUBECTL_STATEFUL_PLUGIN_DIR`, else
/// `$CARGO_TARGET_DIR/debug`, else `<repo>/target/debug`. Build them before the tests
/// (`cargo build --workspace --bins`); the harness does not build them.
pub fn plugin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("KUBECTL_STATEFUL_PLUGIN_DIR") {
        return PathBuf::from(d);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    let target = if target.is_relative() {
        repo_root().join(target)
    } else {
        target
    };
    target.join("debug")
}

/// Path of a built plugin binary, e.g. `plugin_path("kubectl-pvc_trace")`; an error that says how
/// to build it when it is missing.
pub fn plugin_path(bin: &str) -> Result<PathBuf> {
    let p = plugin_dir().join(bin);
    if p.is_file() {
        Ok(p)
    } else {
        bail!(
            "{} is not built (run `cargo build --workspace --bins` first, or set KUBECTL_STATEFUL_PLUGIN_DIR)",
            p.display()
        )
    }
}

static CLUSTER: OnceLock<std::result::Result<Cluster, String>> = OnceLock::new();

/// The local control plane, started by `tests/local-cluster up` on first use in this process
/// (reused when one is already running in the state dir). Blocking: the first call can take a
/// minute, or 10-25 minutes when the binaries are not built yet.
pub fn cluster() -> Result<&'static Cluster> {
    CLUSTER
        .get_or_init(|| start_or_reuse().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| anyhow!("local control plane unavailable: {e}"))
}

fn start_or_reuse() -> Result<Cluster> {
    let script = local_cluster_script();
    let out = std::process::Command::new(&script)
        .arg("up")
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .status()
        .with_context(|| format!("running {} up", script.display()))?;
    if !out.success() {
        bail!("`{} up` failed ({out})", script.display());
    }
    read_cluster_env(&state_dir())
}

/// The state dir `tests/local-cluster` uses.
pub fn state_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("KUBECTL_STATEFUL_CLUSTER_DIR") {
        return PathBuf::from(d);
    }
    let cache = std::env::var_os("KUBECTL_STATEFUL_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
                .join(".cache/kubectl-stateful")
        });
    cache.join("cluster")
}

fn read_cluster_env(state: &Path) -> Result<Cluster> {
    let path = state.join("cluster.env");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let env: BTreeMap<String, String> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let get = |k: &str| {
        env.get(k)
            .cloned()
            .ok_or_else(|| anyhow!("{} has no {k}", path.display()))
    };
    Ok(Cluster {
        state_dir: state.to_path_buf(),
        bin_dir: get("BIN")?.into(),
        server: get("SERVER")?,
        k8s_version: get("K8S_VERSION")?,
        kubeconfig: get("KUBECONFIG")?.into(),
        restricted_kubeconfig: get("KUBECONFIG_RESTRICTED")?.into(),
        restricted_user: get("RESTRICTED_USER")?,
        audit_log: get("AUDIT_LOG")?.into(),
        env,
    })
}

async fn client_from_kubeconfig(path: &Path, namespace: Option<&str>) -> Result<Client> {
    let kc = Kubeconfig::read_from(path).with_context(|| format!("reading {}", path.display()))?;
    let mut cfg = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .with_context(|| format!("loading {}", path.display()))?;
    if let Some(ns) = namespace {
        cfg.default_namespace = ns.to_string();
    }
    Ok(Client::try_from(cfg)?)
}

/// What a command printed and how it ended.
#[derive(Debug, Clone)]
pub struct CmdOutput {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl CmdOutput {
    /// Fail with both streams when the exit code is not 0.
    pub fn ok(self) -> Result<Self> {
        if self.code == 0 {
            Ok(self)
        } else {
            bail!(
                "exit code {}\nstdout:\n{}\nstderr:\n{}",
                self.code,
                self.stdout,
                self.stderr
            )
        }
    }

    /// stdout parsed as JSON.
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_str(&self.stdout)
            .with_context(|| format!("stdout is not JSON:\n{}", self.stdout))
    }
}

/// The PATH the harness gives kubectl: the cluster's `bin/` (only `kubectl`), the plugin dir, then
/// the inherited PATH.
pub fn plugin_search_path(cluster: &Cluster) -> std::ffi::OsString {
    let mut parts = vec![cluster.state_dir.join("bin"), plugin_dir()];
    if let Some(p) = std::env::var_os("PATH") {
        parts.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(parts).unwrap_or_default()
}

/// Run the cluster's `kubectl` with `args` (plugins found through kubectl's own plugin discovery)
/// with `KUBECONFIG=kubeconfig`, a 300 s limit, and no stdin.
pub async fn run_kubectl(cluster: &Cluster, kubeconfig: &Path, args: &[&str]) -> Result<CmdOutput> {
    run_kubectl_with(cluster, kubeconfig, args, &[], Duration::from_secs(300)).await
}

/// [`run_kubectl`] with extra environment variables and a time limit.
pub async fn run_kubectl_with(
    cluster: &Cluster,
    kubeconfig: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
    timeout: Duration,
) -> Result<CmdOutput> {
    run_kubectl_full(cluster, kubeconfig, args, envs, None, timeout).await
}

/// [`run_kubectl`] with `stdin` fed to kubectl (then closed), e.g. `kubectl exec -i`.
pub async fn run_kubectl_stdin(
    cluster: &Cluster,
    kubeconfig: &Path,
    args: &[&str],
    stdin: &[u8],
) -> Result<CmdOutput> {
    run_kubectl_full(
        cluster,
        kubeconfig,
        args,
        &[],
        Some(stdin),
        Duration::from_secs(300),
    )
    .await
}

async fn run_kubectl_full(
    cluster: &Cluster,
    kubeconfig: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
    stdin: Option<&[u8]>,
    timeout: Duration,
) -> Result<CmdOutput> {
    use tokio::io::AsyncWriteExt;
    let mut cmd = tokio::process::Command::new(cluster.kubectl_bin());
    cmd.args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("PATH", plugin_search_path(cluster))
        .env_remove("KUBECTL_PLUGINS_PATH")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let run = async {
        let mut child = cmd.spawn()?;
        if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
            let data = data.to_vec();
            tokio::spawn(async move {
                let _ = pipe.write_all(&data).await;
                let _ = pipe.shutdown().await;
            });
        }
        child.wait_with_output().await
    };
    let out = tokio::time::timeout(timeout, run)
        .await
        .map_err(|_| anyhow!("kubectl {args:?} did not finish in {timeout:?}"))?
        .with_context(|| format!("running kubectl {args:?}"))?;
    Ok(CmdOutput {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Poll `check` every 250 ms until it returns `Ok(Some(v))`; fail after `timeout` with the last
/// error or `what`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last: Option<anyhow::Error> = None;
    loop {
        match check().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last = Some(e),
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(match last {
                Some(e) => e.context(format!("timed out after {timeout:?} waiting for {what}")),
                None => anyhow!("timed out after {timeout:?} waiting for {what}"),
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A namespace of its own for one test, with clients and kubeconfigs pointed at it. Dropping it
/// (also while panicking) deletes the namespace and the cluster-scoped objects labelled with
/// [`TestNs::owner_labels`], without waiting.
pub struct TestNs {
    /// The namespace name (`e2e-<test name>-<random>`).
    pub name: String,
    pub cluster: &'static Cluster,
    /// Admin client, default namespace = this namespace.
    pub admin: Client,
    /// Restricted-user client (`e2e-restricted`, no groups), default namespace = this namespace.
    pub restricted: Client,
    /// Admin kubeconfig whose context namespace is this namespace.
    pub kubeconfig: PathBuf,
    /// Restricted kubeconfig whose context namespace is this namespace.
    pub restricted_kubeconfig: PathBuf,
    dir: tempfile::TempDir,
}

fn sanitize(s: &str) -> String {
    let mut out: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    out.truncate(40);
    out.trim_matches('-').to_string()
}

fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.write_u32(std::process::id());
    format!("{:06x}", h.finish() & 0xff_ffff)
}

impl TestNs {
    /// Start (or reuse) the control plane, create `e2e-<test>-<random>` and wait until its
    /// `default` ServiceAccount exists (pods can be created right away).
    pub async fn new(test: &str) -> Result<Self> {
        let cluster = tokio::task::spawn_blocking(cluster).await??;
        let name = format!("e2e-{}-{}", sanitize(test), random_suffix());
        let admin = cluster.admin_client().await?;
        let nss: Api<Namespace> = Api::all(admin.clone());
        let ns: Namespace = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {OWNER_LABEL: name, "e2e.kubectl-stateful.io/test": sanitize(test)}}
        }))?;
        nss.create(&PostParams::default(), &ns)
            .await
            .with_context(|| format!("creating namespace {name}"))?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("{name}-"))
            .tempdir()?;
        let kubeconfig = dir.path().join("kubeconfig");
        let restricted_kubeconfig = dir.path().join("kubeconfig-restricted");
        // Build the guard before anything else can fail, so the namespace is always cleaned up.
        let mut me = TestNs {
            admin: admin.clone(),
            restricted: admin,
            name: name.clone(),
            cluster,
            kubeconfig,
            restricted_kubeconfig,
            dir,
        };
        write_ns_kubeconfig(&cluster.kubeconfig, &me.kubeconfig, &name)?;
        write_ns_kubeconfig(
            &cluster.restricted_kubeconfig,
            &me.restricted_kubeconfig,
            &name,
        )?;
        me.admin = client_from_kubeconfig(&me.kubeconfig, Some(&name)).await?;
        me.restricted = client_from_kubeconfig(&me.restricted_kubeconfig, Some(&name)).await?;
        let sas: Api<ServiceAccount> = Api::namespaced(me.admin.clone(), &name);
        wait_for(
            "the default ServiceAccount",
            Duration::from_secs(60),
            || {
                let sas = sas.clone();
                async move { Ok(sas.get_opt("default").await?.map(|_| ())) }
            },
        )
        .await?;
        Ok(me)
    }

    /// `Api<K>` of this namespace, as admin.
    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.admin.clone(), &self.name)
    }

    /// `Api<K>` of a cluster-scoped kind, as admin.
    pub fn api_all<K>(&self) -> Api<K>
    where
        K: kube::Resource,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::all(self.admin.clone())
    }

    /// Labels to put on cluster-scoped objects a test creates (PVs, StorageClasses, ClusterRoles,
    /// ClusterRoleBindings) so the guard deletes them with the namespace.
    pub fn owner_labels(&self) -> serde_json::Value {
        json!({ OWNER_LABEL: self.name })
    }

    /// A temp dir that lives as long as this `TestNs`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Wait until pod `name` of this namespace is Running (kwok runs pods on its nodes).
    pub async fn wait_pod_running(
        &self,
        name: &str,
        timeout: Duration,
    ) -> Result<k8s_openapi::api::core::v1::Pod> {
        let pods = self.api::<k8s_openapi::api::core::v1::Pod>();
        wait_for(&format!("pod {name} Running"), timeout, || {
            let pods = pods.clone();
            async move {
                Ok(pods.get_opt(name).await?.filter(|p| {
                    p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
                }))
            }
        })
        .await
    }

    /// Server-side apply of one object (JSON), as admin; namespaced objects without a namespace
    /// land in this namespace. Returns the object as stored.
    pub async fn apply(&self, obj: serde_json::Value) -> Result<DynamicObject> {
        apply_as(&self.admin, &self.name, obj).await
    }

    /// Run `kubectl <args>` as admin (KUBECONFIG's namespace = this namespace): built kubectl,
    /// PATH = cluster bin + plugin dir + PATH, so `kubectl pvc-trace` finds `kubectl-pvc_trace`.
    pub async fn kubectl(&self, args: &[&str]) -> Result<CmdOutput> {
        run_kubectl(self.cluster, &self.kubeconfig, args).await
    }

    /// [`TestNs::kubectl`] with `stdin` fed to kubectl, e.g. `kubectl exec -i pod -- psql`.
    pub async fn kubectl_stdin(&self, args: &[&str], stdin: &[u8]) -> Result<CmdOutput> {
        run_kubectl_stdin(self.cluster, &self.kubeconfig, args, stdin).await
    }

    /// [`TestNs::kubectl`] as the restricted user.
    pub async fn kubectl_as_restricted(&self, args: &[&str]) -> Result<CmdOutput> {
        run_kubectl(self.cluster, &self.restricted_kubeconfig, args).await
    }

    /// Grant the restricted user a Role named `name` in this namespace with these `rules`
    /// (a JSON array of PolicyRules), bound by a RoleBinding of the same name. Waits until the
    /// authorizer sees it (RBAC caches are refreshed from watches).
    pub async fn grant_restricted(&self, name: &str, rules: serde_json::Value) -> Result<()> {
        self.apply(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": name}, "rules": rules,
        }))
        .await?;
        self.apply(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                          "name": self.cluster.restricted_user}],
        }))
        .await?;
        self.wait_rbac(&rules, false).await
    }

    /// Grant the restricted user a ClusterRole `<namespace>-<name>` (bound cluster-wide, and
    /// deleted with this namespace). Note: every test shares the restricted user, so a cluster
    /// grant is visible to tests running at the same time; prefer [`TestNs::grant_restricted`].
    pub async fn grant_restricted_cluster(
        &self,
        name: &str,
        rules: serde_json::Value,
    ) -> Result<()> {
        let full = format!("{}-{}", self.name, name);
        let labels = self.owner_labels();
        self.apply(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": full, "labels": labels}, "rules": rules,
        }))
        .await?;
        self.apply(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": full, "labels": labels},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": full},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                          "name": self.cluster.restricted_user}],
        }))
        .await?;
        self.wait_rbac(&rules, true).await
    }

    /// Wait until `kubectl auth can-i` (as the restricted user) agrees with the first verb and
    /// resource of each rule.
    async fn wait_rbac(&self, rules: &serde_json::Value, cluster_wide: bool) -> Result<()> {
        let mut checks = vec![];
        for r in rules.as_array().into_iter().flatten() {
            let first = |k: &str| {
                r.get(k)
                    .and_then(|v| v.as_array())
                    .and_then(|a| a.first())
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            if let (Some(verb), Some(res)) = (first("verbs"), first("resources")) {
                let group = first("apiGroups").unwrap_or_default();
                let res = if group.is_empty() || group == "*" {
                    res
                } else {
                    format!("{res}.{group}")
                };
                checks.push((verb, res));
            }
        }
        for (verb, res) in checks {
            let mut args = vec!["auth", "can-i", verb.as_str(), res.as_str()];
            if cluster_wide {
                args.push("--all-namespaces");
            }
            wait_for(
                &format!("RBAC to allow {verb} {res}"),
                Duration::from_secs(30),
                || {
                    let args = args.clone();
                    async move {
                        let out = self.kubectl_as_restricted(&args).await?;
                        Ok((out.stdout.trim() == "yes").then_some(()))
                    }
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Make `kubectl exec` into `pod` (any container) run on the host with these extra
    /// environment variables and working directory (a kwok `Exec` object named like the pod).
    /// Waits until kwok has picked it up.
    pub async fn set_pod_exec(
        &self,
        pod: &str,
        envs: &[(&str, &str)],
        work_dir: &str,
    ) -> Result<()> {
        let envs: Vec<_> = envs
            .iter()
            .map(|(k, v)| json!({"name": k, "value": v}))
            .collect();
        self.apply(json!({
            "apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Exec",
            "metadata": {"name": pod},
            "spec": {"execs": [{"local": {"workDir": work_dir, "envs": envs}}]},
        }))
        .await?;
        // kwok reads Exec objects through an informer: probe until the marker env shows up.
        let probe = envs
            .first()
            .and_then(|e| e["name"].as_str())
            .map(str::to_string);
        let Some(var) = probe else { return Ok(()) };
        let pods: Api<k8s_openapi::api::core::v1::Pod> = self.api();
        wait_for(
            "kwok to apply the Exec object",
            Duration::from_secs(30),
            || {
                let (pods, var) = (pods.clone(), var.clone());
                async move {
                    let out = exec_capture(
                        &pods,
                        pod,
                        &["sh", "-c", &format!("echo \"${{{var}+set}}\"")],
                    )
                    .await?;
                    Ok((out.trim() == "set").then_some(()))
                }
            },
        )
        .await
    }

    /// A plugin binary run directly (not through kubectl, so that signals reach it) as this
    /// namespace's admin, with `env`, stdin closed, stdout and stderr piped; killed on drop.
    pub fn spawn_plugin(
        &self,
        bin: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<tokio::process::Child> {
        Ok(tokio::process::Command::new(plugin_path(bin)?)
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?)
    }

    /// Make `kubectl logs <pod>` print `lines` (written to a CRI-format log file in this test's
    /// temp dir, served through a kwok `Logs` object named like the pod).
    pub async fn set_pod_logs(&self, pod: &str, lines: &[&str]) -> Result<PathBuf> {
        let file = self.dir().join(format!("{pod}.log"));
        let mut text = String::new();
        for (i, l) in lines.iter().enumerate() {
            text.push_str(&format!(
                "2026-01-01T00:00:{:02}.000000000Z stdout F {l}\n",
                i % 60
            ));
        }
        std::fs::write(&file, text)?;
        self.apply(json!({
            "apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs",
            "metadata": {"name": pod},
            "spec": {"logs": [{"logsFile": file.to_string_lossy()}]},
        }))
        .await?;
        let pods: Api<k8s_openapi::api::core::v1::Pod> = self.api();
        let want = lines.first().map(|s| s.to_string()).unwrap_or_default();
        wait_for(
            "kwok to apply the Logs object",
            Duration::from_secs(30),
            || {
                let (pods, want) = (pods.clone(), want.clone());
                async move {
                    let text = pods.logs(pod, &Default::default()).await?;
                    Ok(text.contains(&want).then_some(()))
                }
            },
        )
        .await?;
        Ok(file)
    }
}

/// SIGINT `child` as a terminal's Ctrl-C would, and its output once it ends (within 30 s).
pub async fn interrupt(child: tokio::process::Child) -> Result<std::process::Output> {
    let pid = child.id().context("the process already ended")?;
    let kill = tokio::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .await?;
    if !kill.success() {
        bail!("kill -INT {pid} failed");
    }
    tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .map_err(|_| anyhow!("pid {pid} did not end within 30 s of SIGINT"))?
        .map_err(Into::into)
}

/// Exec `cmd` in `pod` through the API server (WebSocket) and return its stdout; an error with
/// stderr when it exits non-zero.
pub async fn exec_capture(
    pods: &Api<k8s_openapi::api::core::v1::Pod>,
    pod: &str,
    cmd: &[&str],
) -> Result<String> {
    use tokio::io::AsyncReadExt;
    let ap = kube::api::AttachParams::default()
        .stdout(true)
        .stderr(true)
        .stdin(false);
    let mut proc = pods
        .exec(
            pod,
            cmd.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            &ap,
        )
        .await
        .with_context(|| format!("exec {cmd:?} in {pod}"))?;
    let mut stdout = proc.stdout().ok_or_else(|| anyhow!("no stdout"))?;
    let mut stderr = proc.stderr().ok_or_else(|| anyhow!("no stderr"))?;
    let status = proc.take_status().ok_or_else(|| anyhow!("no status"))?;
    let (mut out, mut err) = (String::new(), String::new());
    let (r1, r2) = tokio::join!(
        stdout.read_to_string(&mut out),
        stderr.read_to_string(&mut err)
    );
    r1?;
    r2?;
    let status = status.await;
    proc.join().await?;
    match status {
        Some(s) if s.status.as_deref() == Some("Success") => Ok(out),
        Some(s) => bail!(
            "exec {cmd:?} in {pod} failed: {:?} {:?}\nstderr: {err}",
            s.reason,
            s.message
        ),
        None => bail!("exec {cmd:?} in {pod}: no status\nstderr: {err}"),
    }
}

/// Server-side apply of `obj` with `client` (namespaced objects default to `namespace`).
pub async fn apply_as(
    client: &Client,
    namespace: &str,
    mut obj: serde_json::Value,
) -> Result<DynamicObject> {
    let api_version = obj["apiVersion"]
        .as_str()
        .ok_or_else(|| anyhow!("object without apiVersion"))?
        .to_string();
    let kind = obj["kind"]
        .as_str()
        .ok_or_else(|| anyhow!("object without kind"))?
        .to_string();
    let name = obj["metadata"]["name"]
        .as_str()
        .ok_or_else(|| anyhow!("object without metadata.name"))?
        .to_string();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", &api_version));
    let gvk = GroupVersionKind::gvk(group, version, &kind);
    let (ar, caps) = kube::discovery::pinned_kind(client, &gvk)
        .await
        .with_context(|| format!("discovering {api_version}/{kind}"))?;
    let api: Api<DynamicObject> = if caps.scope == kube::discovery::Scope::Namespaced {
        let ns = obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or(namespace)
            .to_string();
        obj["metadata"]["namespace"] = json!(ns);
        Api::namespaced_with(client.clone(), &ns, &ar)
    } else {
        Api::all_with(client.clone(), &ar)
    };
    let _: &ApiResource = &ar;
    api.patch(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&obj),
    )
    .await
    .with_context(|| format!("applying {kind} {name}"))
}

fn write_ns_kubeconfig(src: &Path, dst: &Path, ns: &str) -> Result<()> {
    let text =
        std::fs::read_to_string(src).with_context(|| format!("reading {}", src.display()))?;
    let mut done = false;
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            if !done && l.trim_start().starts_with("namespace:") {
                done = true;
                let indent = &l[..l.len() - l.trim_start().len()];
                format!("{indent}namespace: {ns}")
            } else {
                l.to_string()
            }
        })
        .collect();
    if !done {
        bail!("{} has no context namespace line", src.display());
    }
    std::fs::write(dst, out.join("\n") + "\n")?;
    Ok(())
}

impl Drop for TestNs {
    fn drop(&mut self) {
        // Synchronous on purpose: works while unwinding and outside any runtime.
        let kubectl = self.cluster.kubectl_bin();
        let kc = &self.cluster.kubeconfig;
        let sel = format!("{OWNER_LABEL}={}", self.name);
        let _ = std::process::Command::new(&kubectl)
            .env("KUBECONFIG", kc)
            .args([
                "delete",
                "persistentvolumes,storageclasses,clusterroles,clusterrolebindings",
                "-l",
                &sel,
                "--wait=false",
                "--ignore-not-found",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let status = std::process::Command::new(&kubectl)
            .env("KUBECONFIG", kc)
            .args([
                "delete",
                "namespace",
                &self.name,
                "--wait=false",
                "--ignore-not-found",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output();
        if let Ok(o) = status
            && !o.status.success()
        {
            eprintln!(
                "e2e: could not delete namespace {}: {}",
                self.name,
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
}

/// Delete an object and ignore "not found" (helper for tests that clean up early).
pub async fn delete_ignore_missing<K>(api: &Api<K>, name: &str) -> Result<()>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}
