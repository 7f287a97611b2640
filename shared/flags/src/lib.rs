//! The flag layer: kubectl's flags as clap arguments, resolved once into the core's plain
//! settings (uv's `GlobalSettings::resolve` is the model). Plugins flatten the groups they use
//! and only those, so clap refuses the rest (exit 2):
//!
//! - [`KubeArgs`]: `--kubeconfig --context --cluster --user -n --request-timeout`, the
//!   connection overrides `-s --token --certificate-authority --client-certificate --client-key
//!   --insecure-skip-tls-verify --tls-server-name` and impersonation `--as --as-group --as-uid`
//!   (every plugin, under their own help heading in every subcommand);
//! - [`AllNamespacesArg`]: `-A`; [`SelectorArg`]: `-l`; [`FromFileArg`]: `--from-file`;
//! - [`ColorArg`]: `--color`, resolved with the streams into a [`Terminal`]; [`SortByArg`]:
//!   `--sort-by`; [`output_format`]: the value parser of every `-o` (a command's own formats
//!   plus kubectl's `name`, `jsonpath=`, `jsonpath-file=`, `custom-columns=`,
//!   `custom-columns-file=`).
//!
//! Values are parsed by clap value parsers (durations, selectors), so a bad value is a usage
//! error naming the flag before anything runs. Nothing here prints or exits.

pub mod complete;
pub mod progress;
pub mod prompt;

use std::io::IsTerminal;
use std::time::Duration;

use clap::{Args, ValueEnum};
use stateful_core::client::{ConnectOptions, Overrides};
use stateful_core::labels::Selector;
use stateful_core::names::validate_dns1123_label;
use stateful_core::output::jsonpath::{Path, Template};
use stateful_core::output::rows::CustomColumns;
use stateful_core::output::term::ColorChoice;
use stateful_core::snapshot::{Dumps, Scope, Source};
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

    /// Read large lists in chunks of this many objects (kubectl's --chunk-size; 0 = all at
    /// once, in one response).
    #[arg(long, global = true, help_heading = CONNECTION, value_name = "N", default_value_t = stateful_core::snapshot::PAGE_SIZE)]
    pub chunk_size: u32,

    /// Time to wait for each server request before giving up (e.g. 1s, 2m, 3h; 0 = no limit).
    #[arg(long, global = true, help_heading = CONNECTION, value_name = "DURATION", default_value = "0", value_parser = duration)]
    pub request_timeout: Duration,

    /// Time to wait for the connection to the server (dial and TLS handshake) when
    /// --request-timeout is not given [default: 30s, kubectl's dial timeout].
    #[arg(long, global = true, hide = true, env = "KUBECTL_STATEFUL_CONNECT_TIMEOUT", value_name = "DURATION", value_parser = duration)]
    pub connect_timeout: Option<Duration>,

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
            max_input_bytes: None,
            connect_timeout: self.connect_timeout.filter(|t| !t.is_zero()),
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

/// `--from-file FILE` (repeatable, `-` for stdin) and `--max-input-size`.
#[derive(Args, Debug, Clone, Default)]
pub struct FromFileArg {
    /// Read objects from a `kubectl get -o yaml|json` dump instead of a cluster (repeatable;
    /// `-` for stdin), a directory (every *.yaml, *.yml, *.json beneath it) or a
    /// troubleshoot.sh support bundle (.tar.gz or unpacked). Objects found in several are
    /// counted once. Without -n, every namespace in the dump is in scope.
    #[arg(long = "from-file", global = true, value_name = "FILE|DIR", value_hint = clap::ValueHint::AnyPath)]
    pub from_file: Vec<String>,

    /// Refuse a dump, directory, bundle (uncompressed) or kubeconfig larger than this
    /// (e.g. 512Mi, 2Gi, 100000000) [default: 1Gi].
    #[arg(long, global = true, value_name = "SIZE", env = "KUBECTL_STATEFUL_MAX_INPUT", value_parser = size)]
    pub max_input_size: Option<u64>,
}

/// `--color`.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct ColorArg {
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value = "auto"
    )]
    pub color: ColorWhen,
}

/// The values of `--color`.
#[derive(ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ColorWhen {
    #[default]
    Auto,
    Always,
    Never,
}

/// What the binary's streams are: colour on each, and stdout's width when it is a terminal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Terminal {
    /// stdout's columns, when stdout is a terminal (tables fit it); `None` on a pipe.
    pub width: Option<usize>,
    pub color_out: bool,
    pub color_err: bool,
}

impl ColorArg {
    /// Ask the process's stdout and stderr whether they are terminals (and stdout's width),
    /// and read `NO_COLOR`.
    pub fn terminal(&self) -> Terminal {
        let choice = match self.color {
            ColorWhen::Auto => ColorChoice::Auto,
            ColorWhen::Always => ColorChoice::Always,
            ColorWhen::Never => ColorChoice::Never,
        };
        let no_color = std::env::var("NO_COLOR").ok();
        let out_tty = std::io::stdout().is_terminal();
        Terminal {
            width: out_tty
                .then(terminal_size::terminal_size)
                .flatten()
                .map(|(w, _)| usize::from(w.0))
                .filter(|w| *w > 0),
            color_out: choice.enabled(out_tty, no_color.as_deref()),
            color_err: choice.enabled(std::io::stderr().is_terminal(), no_color.as_deref()),
        }
    }
}

/// `--sort-by PATH` (a JSONPath over the rows' JSON).
#[derive(Args, Debug, Clone, Default)]
pub struct SortByArg {
    /// Sort the rows by this JSONPath over each row's JSON (e.g. '{.name}', .status).
    #[arg(long, value_name = "JSONPATH", value_parser = sort_path)]
    pub sort_by: Option<Path>,
}

/// clap value parser: a `--sort-by` path.
pub fn sort_path(s: &str) -> std::result::Result<Path, String> {
    Path::parse(s).map_err(|e| e.to_string())
}

/// An `-o` value: one of the command's own formats, or one of kubectl's printers.
#[derive(Debug, Clone)]
pub enum OutputFormat<T> {
    Own(T),
    /// `-o name`: `kind/name` per object.
    Name,
    /// `-o jsonpath=TEMPLATE` or `jsonpath-file=FILE`.
    JsonPath(Template),
    /// `-o custom-columns=SPEC` or `custom-columns-file=FILE`.
    CustomColumns(CustomColumns),
}

/// The value parser of every `-o`: [`output_format`], which also gives clap the values to
/// offer (completion): the command's own formats and `name`, visible; kubectl's `jsonpath=`,
/// `jsonpath-file=`, `custom-columns=` and `custom-columns-file=`, hidden (they need a value).
/// Use it as `value_parser = OutputFormats::<Own>::new()` with `hide_possible_values = true`
/// (the flag's help lists the formats).
#[derive(Debug)]
pub struct OutputFormats<T>(std::marker::PhantomData<fn() -> T>);

impl<T> OutputFormats<T> {
    pub fn new() -> Self {
        OutputFormats(std::marker::PhantomData)
    }
}

impl<T> Default for OutputFormats<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for OutputFormats<T> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<T: ValueEnum + Clone + Send + Sync + 'static> clap::builder::TypedValueParser
    for OutputFormats<T>
{
    type Value = OutputFormat<T>;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> std::result::Result<Self::Value, clap::Error> {
        // The function parser's own errors, word for word.
        (output_format::<T>).parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        use clap::builder::PossibleValue;
        let own = T::value_variants()
            .iter()
            .filter_map(ValueEnum::to_possible_value);
        let kubectl = [
            PossibleValue::new("name"),
            PossibleValue::new("jsonpath=").hide(true),
            PossibleValue::new("jsonpath-file=").hide(true),
            PossibleValue::new("custom-columns=").hide(true),
            PossibleValue::new("custom-columns-file=").hide(true),
        ];
        Some(Box::new(own.chain(kubectl)))
    }
}

/// clap value parser of `-o`: the command's own formats (a `ValueEnum`), then kubectl's
/// `name`, `jsonpath=…`, `jsonpath-file=…`, `custom-columns=…`, `custom-columns-file=…`.
/// A bad template is a usage error naming what is wrong.
pub fn output_format<T: ValueEnum + Clone>(
    s: &str,
) -> std::result::Result<OutputFormat<T>, String> {
    if let Ok(own) = T::from_str(s, false) {
        return Ok(OutputFormat::Own(own));
    }
    let read = |f: &str| std::fs::read_to_string(f).map_err(|e| format!("cannot read {f}: {e}"));
    let err = |e: Error| e.to_string();
    let (kind, arg) = s.split_once('=').unwrap_or((s, ""));
    match kind {
        "name" if arg.is_empty() && !s.contains('=') => Ok(OutputFormat::Name),
        "jsonpath" | "jsonpath-file" | "custom-columns" | "custom-columns-file"
            if arg.is_empty() =>
        {
            Err(format!("{kind} needs a value: -o {kind}=…"))
        }
        "jsonpath" => Template::parse(arg)
            .map(OutputFormat::JsonPath)
            .map_err(err),
        "jsonpath-file" => Template::parse(read(arg)?.trim_end_matches('\n'))
            .map(OutputFormat::JsonPath)
            .map_err(err),
        "custom-columns" => CustomColumns::parse(arg)
            .map(OutputFormat::CustomColumns)
            .map_err(err),
        "custom-columns-file" => CustomColumns::parse_file(&read(arg)?)
            .map(OutputFormat::CustomColumns)
            .map_err(err),
        _ => {
            let own: Vec<String> = T::value_variants()
                .iter()
                .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
                .collect();
            Err(format!(
                "unknown output format {s:?} (one of: {}, name, jsonpath=…, jsonpath-file=…, \
                 custom-columns=…, custom-columns-file=…)",
                own.join(", ")
            ))
        }
    }
}

/// Everything a command needs from the shared flags, resolved and checked once.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub connect: ConnectOptions,
    pub all_namespaces: bool,
    pub selector: Option<Selector>,
    pub from_files: Vec<String>,
    /// The largest input read (dumps, bundles, kubeconfig).
    pub max_input: u64,
    /// `--chunk-size`: objects per LIST page (0: unpaginated).
    pub chunk_size: u32,
}

impl Settings {
    /// Resolve the connection flags; add the other groups with the `with_*` methods.
    pub fn resolve(kube: &KubeArgs) -> Settings {
        Settings {
            connect: kube.connect_options(),
            max_input: stateful_core::snapshot::DEFAULT_MAX_INPUT,
            chunk_size: kube.chunk_size,
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
        if let Some(max) = f.max_input_size {
            self.max_input = max;
            self.connect.max_input_bytes = Some(max);
        }
        self
    }

    /// The source the flags ask for: `--from-file` dumps, else the cluster. Returns the source
    /// and the namespace commands default to (the context's, or None for a dump: all).
    pub async fn open(&self) -> Result<(Source, Option<String>)> {
        let dumps = Dumps {
            paths: self.from_files.clone(),
            max_bytes: self.max_input,
        };
        Source::open(&dumps, &self.connect).await
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
            page_size: self.chunk_size,
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

/// clap value parser: a size in bytes, with an optional unit: `k`/`M`/`G`/`T` (powers of
/// 1000) or `Ki`/`Mi`/`Gi`/`Ti` (powers of 1024), as Kubernetes quantities write them.
pub fn size(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (e.g. 512Mi, 2Gi, 100000000)"))?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "k" | "K" | "kB" | "KB" => 1000,
        "M" | "MB" => 1000_u64.pow(2),
        "G" | "GB" => 1000_u64.pow(3),
        "T" | "TB" => 1000_u64.pow(4),
        "Ki" | "KiB" => 1 << 10,
        "Mi" | "MiB" => 1 << 20,
        "Gi" | "GiB" => 1 << 30,
        "Ti" | "TiB" => 1 << 40,
        u => {
            return Err(format!(
                "unknown unit {u:?} in {s:?} (use k, M, G, Ki, Mi or Gi)"
            ));
        }
    };
    let v = n
        .checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))?;
    if v == 0 {
        return Err("the size must be above 0".into());
    }
    Ok(v)
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

    #[derive(ValueEnum, Debug, Clone, PartialEq)]
    enum Own {
        Table,
        Json,
    }

    #[test]
    fn output_formats() {
        let f = |s: &str| output_format::<Own>(s);
        assert!(matches!(f("json"), Ok(OutputFormat::Own(Own::Json))));
        assert!(matches!(f("name"), Ok(OutputFormat::Name)));
        assert!(matches!(f("jsonpath={.a}"), Ok(OutputFormat::JsonPath(_))));
        assert!(matches!(
            f("custom-columns=A:.a"),
            Ok(OutputFormat::CustomColumns(_))
        ));
        for bad in [
            "jsonpath",
            "jsonpath=",
            "jsonpath={.a",
            "wide",
            "name=x",
            "custom-columns=A",
        ] {
            assert!(f(bad).is_err(), "{bad}");
        }
        assert!(f("wide").unwrap_err().contains("one of: table, json, name"));
        let dir = std::env::temp_dir().join(format!("flags-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let t = dir.join("t");
        std::fs::write(&t, "{.a}\n").unwrap();
        let arg = format!("jsonpath-file={}", t.display());
        match f(&arg) {
            Ok(OutputFormat::JsonPath(t)) => {
                assert_eq!(t.render(&serde_json::json!({"a": 1})), "1")
            }
            other => panic!("{other:?}"),
        }
        assert!(f("jsonpath-file=/nonexistent/x").is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn sizes() {
        assert_eq!(size("100").unwrap(), 100);
        assert_eq!(size("1Gi").unwrap(), 1 << 30);
        assert_eq!(size("512Mi").unwrap(), 512 << 20);
        assert_eq!(size("2G").unwrap(), 2_000_000_000);
        for bad in [
            "",
            "0",
            "abc",
            "1Qi",
            "-1",
            "99999999999999999999",
            "20000000Ti",
        ] {
            assert!(size(bad).is_err(), "{bad}");
        }
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
