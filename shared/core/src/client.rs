//! A kube client from plain connection options (the flag layer fills them from kubectl's
//! flags): KUBECONFIG with several files merged (missing files skipped, as kubectl does),
//! an explicit kubeconfig, context/cluster/user overrides, the namespace default, and the
//! per-request timeout.

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
}

/// A connected client and the namespace commands default to.
#[derive(Clone)]
pub struct Connection {
    pub client: kube::Client,
    /// `-n`, else the context's namespace, else "default".
    pub namespace: String,
    /// Where the server is, for messages.
    pub server: String,
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

/// Load and merge the kubeconfig files (first file wins for each entry, as in kubectl).
pub fn load_kubeconfig(opts: &ConnectOptions) -> Result<Option<Kubeconfig>> {
    merge_kubeconfigs(&kubeconfig_paths(opts)?)
}

/// Read and merge kubeconfig files in order; blank files are skipped.
pub fn merge_kubeconfigs(paths: &[PathBuf]) -> Result<Option<Kubeconfig>> {
    let mut merged: Option<Kubeconfig> = None;
    for p in paths {
        let text = std::fs::read_to_string(p).map_err(|e| Error::File {
            path: p.clone(),
            line: None,
            message: e.to_string(),
        })?;
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
    config_from(opts, load_kubeconfig(opts)?).await
}

/// Build a `Config` from an already loaded kubeconfig (None = in-cluster) and the flags.
pub async fn config_from(
    opts: &ConnectOptions,
    kubeconfig: Option<Kubeconfig>,
) -> Result<kube::Config> {
    let options = KubeConfigOptions {
        context: opts.context.clone(),
        cluster: opts.cluster.clone(),
        user: opts.user.clone(),
    };
    let mut config = match kubeconfig {
        Some(kc) => kube::Config::from_custom_kubeconfig(kc, &options)
            .await
            .map_err(|e| Error::Config(format!("kubeconfig: {e}")))?,
        None => kube::Config::incluster().map_err(|_| {
            Error::Config(
                "no kubeconfig found (tried --kubeconfig, $KUBECONFIG, ~/.kube/config) and not running in a cluster; use --from-file to read a dump instead".into(),
            )
        })?,
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
    }
    Ok(config)
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
    let client = kube::Client::try_from(config)
        .map_err(|e| Error::Config(format!("cannot build a client: {e}")))?;
    Ok(Connection {
        client,
        namespace,
        server,
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
        let merged = merge_kubeconfigs(&paths).unwrap();

        // The first file's current-context wins.
        let c = config_from(&args, merged.clone()).await.unwrap();
        assert_eq!(c.default_namespace, "team-a");
        assert_eq!(c.cluster_url.to_string(), "https://127.0.0.1:6443/");

        // --context picks a context that lives in the second file.
        let args = ConnectOptions {
            context: Some("ctx-b".into()),
            ..Default::default()
        };
        let c = config_from(&args, merged.clone()).await.unwrap();
        assert_eq!(c.cluster_url.to_string(), "https://10.9.9.9:6443/");
        assert_eq!(c.default_namespace, "default");

        // --cluster overrides the context's cluster.
        let args = ConnectOptions {
            cluster: Some("b".into()),
            ..Default::default()
        };
        let c = config_from(&args, merged).await.unwrap();
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
}
