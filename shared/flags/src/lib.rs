//! The flag layer: kubectl's flags as clap arguments, resolved once into the core's plain
//! settings (uv's `GlobalSettings::resolve` is the model). Plugins flatten the groups they use
//! and only those, so clap refuses the rest (exit 2):
//!
//! - [`KubeArgs`]: `--kubeconfig --context --cluster --user -n --request-timeout`, the
//!   connection overrides `-s --token --certificate-authority --client-certificate --client-key
//!   --insecure-skip-tls-verify --tls-server-name` and impersonation `--as --as-group --as-uid`
//!   (every plugin, under their own help heading in every subcommand);
//! - [`AllNamespacesArg`]: `-A`; [`SelectorArg`]: `-l`; [`FromFileArg`]: `--from-file`.
//!
//! Values are parsed by clap value parsers (durations, selectors), so a bad value is a usage
//! error naming the flag before anything runs. Nothing here prints or exits.

pub mod complete;
pub mod progress;

use std::time::Duration;

use clap::Args;
use stateful_core::client::{ConnectOptions, Overrides};
use stateful_core::labels::Selector;
use stateful_core::names::validate_dns1123_label;
use stateful_core::snapshot::{Scope, Source};
use stateful_core::{Error, Result};

/// The help heading of [`KubeArgs`] in every command's and subcommand's help (set on each
/// argument: a group-level `next_help_heading` would also take the flags flattened after it).
pub const CONNECTION: &str = "Connection (kubectl's flags)";

/// kubectl's connection flags (cli-runtime's ConfigFlags, the subset a plugin needs).
#[derive(Args, Debug, Clone, Default)]
pub struct KubeArgs {
    /// Path to the kubeconfig file to use (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, global = true, help_heading = CONNECTION, value_name = "FILE")]
    pub kubeconfig: Option<String>,

    /// The name of the kubeconfig context to use.
    #[arg(long, global = true, help_heading = CONNECTION, value_name = "NAME")]
    pub context: Option<String>,

    /// The name of the kubeconfig cluster to use.
    #[arg(long, global = true, help_heading = CONNECTION, value_name = "NAME")]
    pub cluster: Option<String>,

    /// The name of the kubeconfig user to use.
    #[arg(long, global = true, help_heading = CONNECTION, value_name = "NAME")]
    pub user: Option<String>,

    /// The namespace scope for this request.
    #[arg(short = 'n', long, global = true, help_heading = CONNECTION, value_name = "NAMESPACE", value_parser = namespace)]
    pub namespace: Option<String>,

    /// Time to wait for each server request before giving up (e.g. 1s, 2m, 3h; 0 = no limit).
    #[arg(long, global = true, help_heading = CONNECTION, value_name = "DURATION", default_value = "0", value_parser = duration)]
    pub request_timeout: Duration,

    /// The address and port of the Kubernetes API server.
    #[arg(short = 's', long, global = true, help_heading = CONNECTION, value_name = "URL")]
    pub server: Option<String>,

    /// Bearer token for authentication to the API server.
    #[arg(long, global = true, help_heading = CONNECTION, value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Path to a cert file for the certificate authority.
    #[arg(long, global = true, help_heading = CONNECTION, value_name = "FILE")]
    pub certificate_authority: Option<String>,

    /// Path to a client certificate file for TLS.
    #[arg(long, global = true, help_heading = CONNECTION, value_name = "FILE")]
    pub client_certificate: Option<String>,

    /// Path to a client key file for TLS.
    #[arg(long, global = true, help_heading = CONNECTION, value_name = "FILE")]
    pub client_key: Option<String>,

    /// If true, the server's certificate will not be checked for validity (insecure).
    #[arg(long, global = true, help_heading = CONNECTION)]
    pub insecure_skip_tls_verify: bool,

    /// Server name to use for server certificate validation (default: the server's hostname).
    #[arg(long, global = true, help_heading = CONNECTION, value_name = "NAME")]
    pub tls_server_name: Option<String>,

    /// Username to impersonate for the operation (a user or a service account).
    #[arg(long = "as", global = true, help_heading = CONNECTION, value_name = "USER")]
    pub impersonate: Option<String>,

    /// Group to impersonate for the operation (repeatable).
    #[arg(long = "as-group", global = true, help_heading = CONNECTION, value_name = "GROUP", requires = "impersonate")]
    pub impersonate_groups: Vec<String>,

    /// UID to impersonate for the operation.
    #[arg(long = "as-uid", global = true, help_heading = CONNECTION, value_name = "UID", requires = "impersonate")]
    pub impersonate_uid: Option<String>,

    /// Log level as kubectl's: 6 logs each request (method, URL, status, duration) on stderr, 8
    /// also response bodies (cut at 1 KiB; never of Secrets). Headers are never logged.
    #[arg(short = 'v', long = "v", global = true, help_heading = CONNECTION, value_name = "LEVEL", default_value_t = 0)]
    pub verbosity: u8,
}

impl KubeArgs {
    /// The core's connection options.
    pub fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            cluster: self.cluster.clone(),
            user: self.user.clone(),
            namespace: self.namespace.clone(),
            request_timeout: (!self.request_timeout.is_zero()).then_some(self.request_timeout),
            overrides: Overrides {
                server: self.server.clone(),
                certificate_authority: self.certificate_authority.clone(),
                insecure_skip_tls_verify: self.insecure_skip_tls_verify,
                tls_server_name: self.tls_server_name.clone(),
                token: self.token.clone(),
                client_certificate: self.client_certificate.clone(),
                client_key: self.client_key.clone(),
                impersonate: self.impersonate.clone(),
                impersonate_groups: self.impersonate_groups.clone(),
                impersonate_uid: self.impersonate_uid.clone(),
            },
        }
    }
}

/// `-A/--all-namespaces`.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct AllNamespacesArg {
    /// Across all namespaces.
    #[arg(short = 'A', long, global = true)]
    pub all_namespaces: bool,
}

/// `-l/--selector`.
#[derive(Args, Debug, Clone, Default)]
pub struct SelectorArg {
    /// Label selector to filter on (e.g. app=db,tier!=cache; set-based too: env in (prod,qa)).
    #[arg(short = 'l', long, global = true, value_name = "SELECTOR", value_parser = selector)]
    pub selector: Option<Selector>,
}

/// `--from-file FILE` (repeatable, `-` for stdin).
#[derive(Args, Debug, Clone, Default)]
pub struct FromFileArg {
    /// Read objects from a `kubectl get -o yaml|json` dump instead of a cluster (repeatable;
    /// `-` for stdin). Without -n, every namespace in the dump is in scope.
    #[arg(long = "from-file", global = true, value_name = "FILE")]
    pub from_file: Vec<String>,
}

/// Everything a command needs from the shared flags, resolved and checked once.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub connect: ConnectOptions,
    pub all_namespaces: bool,
    pub selector: Option<Selector>,
    pub from_files: Vec<String>,
}

impl Settings {
    /// Resolve the connection flags; add the other groups with the `with_*` methods.
    pub fn resolve(kube: &KubeArgs) -> Settings {
        Settings {
            connect: kube.connect_options(),
            ..Settings::default()
        }
    }

    /// `-A`: refused together with `-n`, as kubectl does.
    pub fn with_all_namespaces(mut self, a: AllNamespacesArg) -> Result<Settings> {
        if a.all_namespaces && self.connect.namespace.is_some() {
            return Err(Error::Usage(
                "-A/--all-namespaces and -n/--namespace cannot be used together".into(),
            ));
        }
        self.all_namespaces = a.all_namespaces;
        Ok(self)
    }

    pub fn with_selector(mut self, s: &SelectorArg) -> Settings {
        self.selector = s.selector.clone();
        self
    }

    pub fn with_from_files(mut self, f: &FromFileArg) -> Settings {
        self.from_files = f.from_file.clone();
        self
    }

    /// The source the flags ask for: `--from-file` dumps, else the cluster. Returns the source
    /// and the namespace commands default to (the context's, or None for a dump: all).
    pub async fn open(&self) -> Result<(Source, Option<String>)> {
        Source::open(&self.from_files, &self.connect).await
    }

    /// The scope a command runs in: `-A` → all; `-n` → that; else the default namespace.
    pub fn scope(&self, default_ns: Option<String>) -> Scope {
        let namespace = if self.all_namespaces {
            None
        } else {
            self.connect.namespace.clone().or(default_ns)
        };
        Scope {
            namespace,
            pod_selector: self.selector.clone(),
        }
    }
}

/// Turn on the request logs of `-v LEVEL` (below 6: none), written through `writer` (the
/// binary passes stderr). Only the suite's request events are shown: see
/// `stateful_core::http_log`.
pub fn init_logging<W>(level: u8, writer: W)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let max = match level {
        0..=5 => return,
        6 | 7 => LevelFilter::INFO,
        _ => LevelFilter::DEBUG,
    };
    let filter = Targets::new().with_target(stateful_core::http_log::TARGET, max);
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false)
        .with_target(false);
    // Err: a subscriber is set already (tests); keep it.
    let _ = tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .try_init();
}

/// Run a plugin's async main on a small runtime (two workers) and give back its result; the
/// binary reports it and turns it into the process's exit code.
pub fn block_on<F, T>(fut: F) -> Result<T>
where
    F: std::future::Future<Output = Result<T>>,
{
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Other(format!("cannot start the async runtime: {e}")))?
        .block_on(fut)
}

/// clap value parser: a namespace (DNS-1123 label).
pub fn namespace(s: &str) -> std::result::Result<String, String> {
    validate_dns1123_label(s)?;
    Ok(s.to_string())
}

/// clap value parser: a label selector.
pub fn selector(s: &str) -> std::result::Result<Selector, String> {
    Selector::parse(s).map_err(|e| e.to_string())
}

/// clap value parser: a kubectl-style duration.
pub fn duration(s: &str) -> std::result::Result<Duration, String> {
    parse_duration(s)
}

/// The largest duration any flag accepts: beyond it, deadlines overflow clocks and API fields.
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Parse a kubectl-style duration: `0`, `30` (seconds), `500ms`, `1s`, `2m`, `3h`, `1m30s`.
/// At most [`MAX_DURATION`] (a hundred years).
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    let too_long = || format!("{s:?} is too long (at most 100 years)");
    if let Ok(secs) = s.parse::<u64>() {
        let d = Duration::from_secs(secs);
        return if d > MAX_DURATION {
            Err(too_long())
        } else {
            Ok(d)
        };
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("missing unit in {s:?} (use ms, s, m or h)"))?;
        if digits == 0 {
            return Err(format!("expected a number in {s:?}"));
        }
        let value: f64 = rest[..digits]
            .parse()
            .map_err(|_| format!("bad number in {s:?}"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let mult = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => {
                return Err(format!(
                    "unknown unit {unit:?} in {s:?} (use ms, s, m or h)"
                ));
            }
        };
        let secs = value * mult;
        if !secs.is_finite() || secs > MAX_DURATION.as_secs_f64() {
            return Err(too_long());
        }
        total += Duration::from_secs_f64(secs);
        if total > MAX_DURATION {
            return Err(too_long());
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("1s").unwrap(), Duration::from_secs(1));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("3h").unwrap(), Duration::from_secs(3 * 3600));
        assert!(parse_duration("abc").is_err());
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("99999999999999999999h").is_err());
        assert!(parse_duration("99999999999999999999").is_err());
    }

    #[test]
    fn all_namespaces_and_namespace_conflict() {
        let kube = KubeArgs {
            namespace: Some("a".into()),
            ..Default::default()
        };
        let e = Settings::resolve(&kube)
            .with_all_namespaces(AllNamespacesArg {
                all_namespaces: true,
            })
            .unwrap_err();
        assert_eq!(e.exit_code().code(), 2);
    }
}
