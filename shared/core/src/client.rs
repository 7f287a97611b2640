//! A kube client from plain connection options (the flag layer fills them from kubectl's
//! flags): KUBECONFIG with several files merged (missing files skipped, as kubectl does),
//! an explicit kubeconfig, context/cluster/user overrides, the namespace default, and the
//! per-request timeout, and kubectl's connection overrides (`--server`, `--token`, TLS files,
//! impersonation) applied to the kubeconfig the way client-go's `ConfigOverrides` are.

use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::error::{Error, Result};

/// How to connect: kubectl's connection settings, already parsed.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// An explicit kubeconfig file (`--kubeconfig`): it must exist.
    pub kubeconfig: Option<String>,
    pub context: Option<String>,
    pub cluster: Option<String>,
    pub user: Option<String>,
    /// The namespace commands default to (`-n`), over the context's.
    pub namespace: Option<String>,
    /// Per-request timeout; None = no limit.
    pub request_timeout: Option<Duration>,
    /// kubectl's overrides of the kubeconfig's cluster, user and impersonation.
    pub overrides: Overrides,
    /// How long to wait for a connection (dial and TLS handshake together) when
    /// `request_timeout` is None; None: [`DEFAULT_CONNECT_TIMEOUT`].
    pub connect_timeout: Option<Duration>,
    /// The largest kubeconfig file read (`--max-input-size`); None: the default,
    /// [`crate::snapshot::DEFAULT_MAX_INPUT`].
    pub max_input_bytes: Option<u64>,
}

/// kubectl's connection overrides (`-s`, `--token`, TLS files, `--as*`): what client-go's
/// `ConfigOverrides` holds. Applied over the chosen cluster and user of the kubeconfig.
#[derive(Clone, Default)]
pub struct Overrides {
    /// `-s/--server`.
    pub server: Option<String>,
    /// `--certificate-authority`: a CA file (replaces the kubeconfig's CA data).
    pub certificate_authority: Option<String>,
    /// `--insecure-skip-tls-verify` (drops the CA, as kubectl does).
    pub insecure_skip_tls_verify: bool,
    /// `--tls-server-name`.
    pub tls_server_name: Option<String>,
    /// `--token`: a bearer token (replaces the user's other token sources).
    pub token: Option<String>,
    /// `--client-certificate`, `--client-key`: files.
    pub client_certificate: Option<String>,
    pub client_key: Option<String>,
    /// `--as`, `--as-group` (repeatable), `--as-uid`: impersonation headers.
    pub impersonate: Option<String>,
    pub impersonate_groups: Vec<String>,
    pub impersonate_uid: Option<String>,
}

impl std::fmt::Debug for Overrides {
    // The token never reaches a log or a panic message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Overrides")
            .field("server", &self.server)
            .field("certificate_authority", &self.certificate_authority)
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field("tls_server_name", &self.tls_server_name)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("client_certificate", &self.client_certificate)
            .field("client_key", &self.client_key)
            .field("impersonate", &self.impersonate)
            .field("impersonate_groups", &self.impersonate_groups)
            .field("impersonate_uid", &self.impersonate_uid)
            .finish()
    }
}

impl Overrides {
    fn any(&self) -> bool {
        self.server.is_some()
            || self.certificate_authority.is_some()
            || self.insecure_skip_tls_verify
            || self.tls_server_name.is_some()
            || self.token.is_some()
            || self.client_certificate.is_some()
            || self.client_key.is_some()
            || self.impersonate.is_some()
            || !self.impersonate_groups.is_empty()
            || self.impersonate_uid.is_some()
    }
}

/// A connected client and the namespace commands default to.
#[derive(Clone)]
pub struct Connection {
    pub client: kube::Client,
    /// `-n`, else the context's namespace, else "default".
    pub namespace: String,
    /// Where the server is, for messages.
    pub server: String,
    /// The configuration the client was built from (for a client with other settings, e.g.
    /// without retries: `kubelet`).
    pub config: Box<kube::Config>,
}

/// The kubeconfig files in effect: `--kubeconfig`, else $KUBECONFIG (several, ':'-separated),
/// else ~/.kube/config. Returned in order; missing ones are dropped (except an explicit
/// `--kubeconfig`, which must exist).
pub fn kubeconfig_paths(opts: &ConnectOptions) -> Result<Vec<PathBuf>> {
    kubeconfig_paths_with(
        opts,
        std::env::var_os("KUBECONFIG").as_deref(),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

/// [`kubeconfig_paths`] with the environment passed in (testable).
pub fn kubeconfig_paths_with(
    opts: &ConnectOptions,
    kubeconfig_env: Option<&std::ffi::OsStr>,
    home: Option<PathBuf>,
) -> Result<Vec<PathBuf>> {
    if let Some(path) = &opts.kubeconfig {
        let p = PathBuf::from(path);
        if !p.exists() {
            return Err(Error::Config(format!("--kubeconfig {path}: no such file")));
        }
        return Ok(vec![p]);
    }
    if let Some(env) = kubeconfig_env {
        let paths: Vec<PathBuf> = std::env::split_paths(env)
            .filter(|p| !p.as_os_str().is_empty() && p.exists())
            .collect();
        if !paths.is_empty() {
            return Ok(paths);
        }
    }
    Ok(home
        .map(|h| h.join(".kube").join("config"))
        .filter(|p| p.exists())
        .into_iter()
        .collect())
}

/// How long a connection (dial and TLS handshake) may take without `--request-timeout`:
/// kubectl's dial timeout (client-go also gives the TLS handshake 10 s of its own; kube's
/// connector times both together).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Load and merge the kubeconfig files (first file wins for each entry, as in kubectl).
pub fn load_kubeconfig(opts: &ConnectOptions) -> Result<Option<Kubeconfig>> {
    merge_kubeconfigs(&kubeconfig_paths(opts)?, max_input(opts))
}

fn max_input(opts: &ConnectOptions) -> u64 {
    opts.max_input_bytes
        .unwrap_or(crate::snapshot::DEFAULT_MAX_INPUT)
}

/// Read and merge kubeconfig files in order; blank files are skipped. A file larger than
/// `max` bytes is refused (at most `max` + 1 bytes of it are read).
pub fn merge_kubeconfigs(paths: &[PathBuf], max: u64) -> Result<Option<Kubeconfig>> {
    let mut merged: Option<Kubeconfig> = None;
    for p in paths {
        let text = crate::snapshot::read_text_bounded(p, max)?;
        if text.trim().is_empty() {
            continue;
        }
        let kc = Kubeconfig::from_yaml(&text).map_err(|e| Error::File {
            path: p.clone(),
            line: None,
            message: format!("not a valid kubeconfig: {e}"),
        })?;
        merged = Some(match merged {
            None => kc,
            Some(m) => m.merge(kc).map_err(|e| Error::File {
                path: p.clone(),
                line: None,
                message: format!("cannot merge kubeconfig: {e}"),
            })?,
        });
    }
    Ok(merged)
}

/// Build the kube `Config` the flags describe (no network).
pub async fn config_from_options(opts: &ConnectOptions) -> Result<kube::Config> {
    let paths = kubeconfig_paths(opts)?;
    config_from(opts, merge_kubeconfigs(&paths, max_input(opts))?, &paths).await
}

/// Build a `Config` from an already loaded kubeconfig (None = in-cluster, unless `--server`
/// is given) read from `paths` (named in errors), and the flags.
pub async fn config_from(
    opts: &ConnectOptions,
    kubeconfig: Option<Kubeconfig>,
    paths: &[PathBuf],
) -> Result<kube::Config> {
    let kubeconfig = match kubeconfig {
        Some(kc) => Some(kc),
        // kubectl -s URL works with no kubeconfig at all.
        None if opts.overrides.server.is_some() => Some(Kubeconfig::default()),
        None => None,
    };
    let mut config = match kubeconfig {
        Some(kc) => {
            let kc = resolve_kubeconfig(opts, kc, paths)?;
            kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
                .await
                .map_err(|e| Error::Config(format!("kubeconfig: {e}")))?
        }
        None => {
            if opts.context.is_some() || opts.cluster.is_some() || opts.user.is_some() {
                return Err(unknown_name(opts, paths));
            }
            let mut c = kube::Config::incluster().map_err(|_| {
                Error::Config(
                    "no kubeconfig found (tried --kubeconfig, $KUBECONFIG, ~/.kube/config) and not running in a cluster; use --from-file to read a dump instead".into(),
                )
            })?;
            if opts.overrides.any() {
                apply_to_config(&mut c, &opts.overrides);
            }
            c
        }
    };
    if let Some(ns) = &opts.namespace {
        config.default_namespace = ns.clone();
    }
    if let Ok(ua) = http::HeaderValue::from_str(&user_agent()) {
        config.headers.push((http::header::USER_AGENT, ua));
    }
    if let Some(t) = opts.request_timeout.filter(|t| !t.is_zero()) {
        config.connect_timeout = Some(t);
        config.read_timeout = Some(t);
        config.write_timeout = Some(t);
    } else {
        // Never wait forever for a server that accepts and does not answer: kube's connector
        // times the dial and the TLS handshake together.
        config.connect_timeout = Some(opts.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT));
    }
    Ok(config)
}

/// The files named in errors: `(read: a, b)` or `(no kubeconfig file found)`.
fn files_read(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        "no kubeconfig file found".into()
    } else {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        format!("kubeconfig files read: {}", names.join(", "))
    }
}

/// The error for the first of `--context`, `--cluster`, `--user` when no kubeconfig was found.
fn unknown_name(opts: &ConnectOptions, paths: &[PathBuf]) -> Error {
    let (what, name) = if let Some(c) = &opts.context {
        ("context", c.clone())
    } else if let Some(c) = &opts.cluster {
        ("cluster", c.clone())
    } else {
        ("user", opts.user.as_ref().unwrap_or(&String::new()).clone())
    };
    not_found(what, &name, paths)
}

fn not_found(what: &str, name: &str, paths: &[PathBuf]) -> Error {
    let flag = match what {
        "context" => "--context",
        "cluster" => "--cluster",
        _ => "--user",
    };
    Error::Config(format!(
        "{flag} {name:?}: no {what} of that name in the kubeconfig ({})",
        files_read(paths)
    ))
}

/// The name this context, cluster and user resolve to in a kubeconfig, checked as kubectl
/// does: an unknown `--context`, `--cluster` or `--user` is an error naming it and the files
/// read (never a silent fall back to anonymous). Then kubectl's overrides are applied over
/// copies of the chosen cluster and user, and a kubeconfig of exactly one context is returned.
pub fn resolve_kubeconfig(
    opts: &ConnectOptions,
    kc: Kubeconfig,
    paths: &[PathBuf],
) -> Result<Kubeconfig> {
    use kube::config::{AuthInfo, Cluster, Context, NamedAuthInfo, NamedCluster, NamedContext};
    let context_name = opts.context.clone().or_else(|| kc.current_context.clone());
    let context = match &context_name {
        Some(name) => match kc.contexts.iter().find(|c| &c.name == name) {
            Some(c) => c.context.clone().unwrap_or_default(),
            None if opts.context.is_some() => return Err(not_found("context", name, paths)),
            None => {
                return Err(Error::Config(format!(
                    "current-context {name:?} is not a context in the kubeconfig ({})",
                    files_read(paths)
                )));
            }
        },
        None if opts.overrides.server.is_some() || opts.cluster.is_some() => Context::default(),
        None => {
            return Err(Error::Config(format!(
                "no current-context is set and no --context given ({})",
                files_read(paths)
            )));
        }
    };
    let cluster_name = opts
        .cluster
        .clone()
        .unwrap_or_else(|| context.cluster.clone());
    let mut cluster = match kc.clusters.iter().find(|c| c.name == cluster_name) {
        Some(c) => c.cluster.clone().unwrap_or_default(),
        None if opts.cluster.is_some() => return Err(not_found("cluster", &cluster_name, paths)),
        None if opts.overrides.server.is_some() => Cluster::default(),
        None => {
            return Err(Error::Config(format!(
                "context {:?} names cluster {cluster_name:?}, which is not in the kubeconfig ({})",
                context_name.unwrap_or_default(),
                files_read(paths)
            )));
        }
    };
    let user_name = opts.user.clone().or_else(|| context.user.clone());
    let mut user = match &user_name {
        Some(name) => match kc.auth_infos.iter().find(|u| &u.name == name) {
            Some(u) => u.auth_info.clone().unwrap_or_default(),
            None if opts.user.is_some() => return Err(not_found("user", name, paths)),
            // client-go allows a context whose user is missing: no credentials.
            None => AuthInfo::default(),
        },
        None => AuthInfo::default(),
    };
    apply_overrides(&mut cluster, &mut user, &opts.overrides);
    let name = "kubectl-stateful".to_string();
    Ok(Kubeconfig {
        clusters: vec![NamedCluster {
            name: name.clone(),
            cluster: Some(cluster),
            ..Default::default()
        }],
        auth_infos: vec![NamedAuthInfo {
            name: name.clone(),
            auth_info: Some(user),
            ..Default::default()
        }],
        contexts: vec![NamedContext {
            name: name.clone(),
            context: Some(Context {
                cluster: name.clone(),
                user: Some(name.clone()),
                ..context
            }),
            ..Default::default()
        }],
        current_context: Some(name),
        ..kc
    })
}

/// kubectl's overrides over the chosen cluster and user (client-go's `ConfigOverrides`).
fn apply_overrides(
    cluster: &mut kube::config::Cluster,
    user: &mut kube::config::AuthInfo,
    o: &Overrides,
) {
    if let Some(server) = &o.server {
        cluster.server = Some(server.clone());
    }
    if let Some(ca) = &o.certificate_authority {
        cluster.certificate_authority = Some(ca.clone());
        cluster.certificate_authority_data = None;
    }
    if o.insecure_skip_tls_verify {
        // As kubectl: an insecure connection has no CA.
        cluster.insecure_skip_tls_verify = Some(true);
        cluster.certificate_authority = None;
        cluster.certificate_authority_data = None;
    }
    if let Some(n) = &o.tls_server_name {
        cluster.tls_server_name = Some(n.clone());
    }
    if let Some(token) = &o.token {
        user.token = Some(token.clone().into());
        user.token_file = None;
        user.exec = None;
        user.auth_provider = None;
        user.username = None;
        user.password = None;
    }
    if let Some(c) = &o.client_certificate {
        user.client_certificate = Some(c.clone());
        user.client_certificate_data = None;
    }
    if let Some(k) = &o.client_key {
        user.client_key = Some(k.clone());
        user.client_key_data = None;
    }
    if let Some(u) = &o.impersonate {
        user.impersonate = Some(u.clone());
    }
    if !o.impersonate_groups.is_empty() {
        user.impersonate_groups = Some(o.impersonate_groups.clone());
    }
    if let Some(u) = &o.impersonate_uid {
        user.impersonate_uid = Some(u.clone());
    }
}

/// The overrides that make sense without a kubeconfig (in-cluster): server, TLS name,
/// insecure, token and impersonation.
fn apply_to_config(c: &mut kube::Config, o: &Overrides) {
    if o.insecure_skip_tls_verify {
        c.accept_invalid_certs = true;
        c.root_cert = None;
    }
    if let Some(n) = &o.tls_server_name {
        c.tls_server_name = Some(n.clone());
    }
    if let Some(t) = &o.token {
        c.auth_info.token = Some(t.clone().into());
        c.auth_info.token_file = None;
    }
    if let Some(u) = &o.impersonate {
        c.auth_info.impersonate = Some(u.clone());
    }
    if !o.impersonate_groups.is_empty() {
        c.auth_info.impersonate_groups = Some(o.impersonate_groups.clone());
    }
    if let Some(u) = &o.impersonate_uid {
        c.auth_info.impersonate_uid = Some(u.clone());
    }
}

/// `kubectl-pvc_trace/0.1.0 (kubectl-stateful)`: the binary's name, so that audit logs and API
/// server metrics tell the plugins apart.
pub fn user_agent() -> String {
    let program = std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "kubectl-stateful".into());
    format!("{program}/{} (kubectl-stateful)", env!("CARGO_PKG_VERSION"))
}

/// Connect: config from the flags, then a client. Does not contact the server yet.
pub async fn connect(opts: &ConnectOptions) -> Result<Connection> {
    install_crypto_provider();
    let config = config_from_options(opts).await?;
    let namespace = config.default_namespace.clone();
    let server = config.cluster_url.to_string();
    let client = crate::http_log::client(config.clone())?;
    Ok(Connection {
        client,
        namespace,
        server,
        config: Box::new(config),
    })
}

/// kube uses rustls with ring; make sure a process-level provider is installed.
pub fn install_crypto_provider() {
    // Err means one is installed already: fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    const KC_A: &str = r#"
apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
users:
- name: ua
  user: {token: aaa}
contexts:
- name: ctx-a
  context: {cluster: a, user: ua, namespace: team-a}
current-context: ctx-a
"#;
    const KC_B: &str = r#"
apiVersion: v1
kind: Config
clusters:
- name: b
  cluster: {server: "https://10.9.9.9:6443", insecure-skip-tls-verify: true}
users:
- name: ub
  user: {token: bbb}
contexts:
- name: ctx-b
  context: {cluster: b, user: ub}
"#;

    #[tokio::test]
    async fn kubeconfig_env_with_several_files_is_merged() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, KC_A).unwrap();
        std::fs::write(&b, KC_B).unwrap();
        let missing = dir.path().join("missing");
        let env = std::env::join_paths([&a, &missing, &b]).unwrap();
        let args = ConnectOptions::default();
        let paths = kubeconfig_paths_with(&args, Some(&env), None).unwrap();
        assert_eq!(
            paths,
            vec![a.clone(), b.clone()],
            "missing files are skipped"
        );
        let merged = merge_kubeconfigs(&paths, 1 << 20).unwrap();

        // The first file's current-context wins.
        let c = config_from(&args, merged.clone(), &paths).await.unwrap();
        assert_eq!(c.default_namespace, "team-a");
        assert_eq!(c.cluster_url.to_string(), "https://127.0.0.1:6443/");

        // --context picks a context that lives in the second file.
        let args = ConnectOptions {
            context: Some("ctx-b".into()),
            ..Default::default()
        };
        let c = config_from(&args, merged.clone(), &paths).await.unwrap();
        assert_eq!(c.cluster_url.to_string(), "https://10.9.9.9:6443/");
        assert_eq!(c.default_namespace, "default");

        // --cluster overrides the context's cluster.
        let args = ConnectOptions {
            cluster: Some("b".into()),
            ..Default::default()
        };
        let c = config_from(&args, merged, &paths).await.unwrap();
        assert_eq!(c.cluster_url.to_string(), "https://10.9.9.9:6443/");

        // --kubeconfig beats $KUBECONFIG.
        let args = ConnectOptions {
            kubeconfig: Some(b.to_string_lossy().into()),
            ..Default::default()
        };
        assert_eq!(
            kubeconfig_paths_with(&args, Some(&env), None).unwrap(),
            vec![b]
        );
    }

    #[tokio::test]
    async fn namespace_and_timeout_flags() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::write(&a, KC_A).unwrap();
        let args = ConnectOptions {
            kubeconfig: Some(a.to_string_lossy().into()),
            namespace: Some("other".into()),
            request_timeout: Some(std::time::Duration::from_secs(2)),
            ..Default::default()
        };
        let c = config_from_options(&args).await.unwrap();
        assert_eq!(c.default_namespace, "other");
        assert_eq!(c.read_timeout, Some(std::time::Duration::from_secs(2)));
        let ua = c
            .headers
            .iter()
            .find(|(k, _)| k == http::header::USER_AGENT)
            .map(|(_, v)| v.to_str().unwrap().to_string())
            .unwrap();
        assert!(ua.ends_with("/0.1.0 (kubectl-stateful)"), "{ua}");
        // Without --request-timeout: still a bound on the connection, kubectl's 30 s or the
        // one asked for.
        let mut args = ConnectOptions {
            kubeconfig: Some(a.to_string_lossy().into()),
            ..Default::default()
        };
        let c = config_from_options(&args).await.unwrap();
        assert_eq!(c.connect_timeout, Some(DEFAULT_CONNECT_TIMEOUT));
        assert_eq!(c.read_timeout, None, "watches may be quiet for long");
        args.connect_timeout = Some(std::time::Duration::from_millis(300));
        let c = config_from_options(&args).await.unwrap();
        assert_eq!(
            c.connect_timeout,
            Some(std::time::Duration::from_millis(300))
        );
    }

    #[tokio::test]
    async fn unknown_context_and_missing_file_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::write(&a, KC_A).unwrap();
        let args = ConnectOptions {
            kubeconfig: Some(a.to_string_lossy().into()),
            context: Some("nope".into()),
            ..Default::default()
        };
        let err = config_from_options(&args).await.unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
        let args = ConnectOptions {
            kubeconfig: Some(dir.path().join("zzz").to_string_lossy().into()),
            ..Default::default()
        };
        let err = config_from_options(&args).await.unwrap_err();
        assert!(err.to_string().contains("no such file"), "{err}");
    }

    #[tokio::test]
    async fn unknown_user_cluster_context_name_the_files_read() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::write(&a, KC_A).unwrap();
        for (opts, needle) in [
            (
                ConnectOptions {
                    user: Some("typo".into()),
                    ..Default::default()
                },
                "--user \"typo\"",
            ),
            (
                ConnectOptions {
                    cluster: Some("nocluster".into()),
                    ..Default::default()
                },
                "--cluster \"nocluster\"",
            ),
            (
                ConnectOptions {
                    context: Some("noctx".into()),
                    ..Default::default()
                },
                "--context \"noctx\"",
            ),
        ] {
            let opts = ConnectOptions {
                kubeconfig: Some(a.to_string_lossy().into()),
                ..opts
            };
            let err = config_from_options(&opts).await.unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains(needle), "{msg}");
            assert!(msg.contains(&a.display().to_string()), "{msg}");
            assert_eq!(err.exit_code().code(), 1, "{msg}");
        }
        // A known --user is taken.
        let opts = ConnectOptions {
            kubeconfig: Some(a.to_string_lossy().into()),
            user: Some("ua".into()),
            ..Default::default()
        };
        config_from_options(&opts).await.unwrap();
    }

    #[tokio::test]
    async fn overrides_reach_the_config_as_kubectl_applies_them() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::write(&a, KC_A).unwrap();
        let opts = ConnectOptions {
            kubeconfig: Some(a.to_string_lossy().into()),
            overrides: Overrides {
                server: Some("https://127.0.0.2:7443".into()),
                tls_server_name: Some("api.example".into()),
                token: Some("tok".into()),
                impersonate: Some("jane".into()),
                impersonate_groups: vec!["g1".into(), "g2".into()],
                impersonate_uid: Some("u-1".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let c = config_from_options(&opts).await.unwrap();
        assert_eq!(c.cluster_url.to_string(), "https://127.0.0.2:7443/");
        assert_eq!(
            c.default_namespace, "team-a",
            "the context's namespace stays"
        );
        assert_eq!(c.tls_server_name.as_deref(), Some("api.example"));
        assert!(
            c.accept_invalid_certs,
            "the kubeconfig's cluster settings stay"
        );
        assert_eq!(c.auth_info.impersonate.as_deref(), Some("jane"));
        assert_eq!(c.auth_info.impersonate_uid.as_deref(), Some("u-1"));
        assert_eq!(
            c.auth_info.impersonate_groups,
            Some(vec!["g1".to_string(), "g2".to_string()])
        );
        assert!(
            c.auth_info.token.is_some(),
            "--token replaces the user's token"
        );
        assert!(
            !format!("{:?}", opts.overrides).contains("tok\""),
            "token redacted"
        );

        // -s alone, with no kubeconfig file at all, as kubectl allows.
        let opts = ConnectOptions {
            overrides: Overrides {
                server: Some("https://127.0.0.3:6443".into()),
                insecure_skip_tls_verify: true,
                ..Default::default()
            },
            ..Default::default()
        };
        let c = config_from(&opts, None, &[]).await.unwrap();
        assert_eq!(c.cluster_url.to_string(), "https://127.0.0.3:6443/");
        assert!(c.accept_invalid_certs);
        assert_eq!(c.default_namespace, "default");

        // A CA file over the kubeconfig's, and client cert files.
        let ca = dir.path().join("ca.crt");
        let opts = ConnectOptions {
            kubeconfig: Some(a.to_string_lossy().into()),
            overrides: Overrides {
                certificate_authority: Some(ca.to_string_lossy().into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let err = config_from_options(&opts).await.unwrap_err();
        assert!(
            err.to_string().contains("ca.crt"),
            "the CA file is read: {err}"
        );
    }
}
