//! The flags every plugin shares: kubectl's connection flags, scope, selector, output and
//! `--from-file`. Plugins `#[command(flatten)]` [`CommonArgs`].

use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::error::{Error, Result};

/// kubectl's connection flags (cli-runtime's ConfigFlags, the subset a plugin needs).
#[derive(Args, Debug, Clone, Default)]
pub struct KubeArgs {
    /// Path to the kubeconfig file to use (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<String>,

    /// The name of the kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,

    /// The name of the kubeconfig cluster to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,

    /// The name of the kubeconfig user to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,

    /// The namespace scope for this request.
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// Across all namespaces.
    #[arg(short = 'A', long, global = true)]
    pub all_namespaces: bool,

    /// Time to wait for each server request before giving up (e.g. 1s, 2m, 3h; 0 = no limit).
    #[arg(long, global = true, value_name = "DURATION", default_value = "0")]
    pub request_timeout: String,
}

impl KubeArgs {
    /// `--request-timeout` as a duration; `None` for "0" (no limit, kubectl's default).
    pub fn request_timeout(&self) -> Result<Option<Duration>> {
        if self.request_timeout.trim().is_empty() {
            return Ok(None);
        }
        let d = parse_duration(&self.request_timeout).map_err(|e| {
            Error::Usage(format!(
                "invalid --request-timeout {:?}: {e}",
                self.request_timeout
            ))
        })?;
        Ok(if d.is_zero() { None } else { Some(d) })
    }
}

/// Output formats. Not every command offers every one; each documents its default.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Wide,
    Json,
    Yaml,
    Tree,
}

/// The flags shared by every plugin command.
#[derive(Args, Debug, Clone, Default)]
pub struct CommonArgs {
    #[command(flatten)]
    pub kube: KubeArgs,

    /// Label selector to filter on (e.g. app=db,tier!=cache; set-based too: env in (prod,qa)).
    #[arg(short = 'l', long, global = true, value_name = "SELECTOR")]
    pub selector: Option<String>,

    /// Output format.
    #[arg(short = 'o', long, global = true, value_enum)]
    pub output: Option<OutputFormat>,

    /// Read objects from a `kubectl get -o yaml|json` dump instead of a cluster (repeatable;
    /// `-` for stdin). Without -n, every namespace in the dump is in scope.
    #[arg(long = "from-file", global = true, value_name = "FILE")]
    pub from_file: Vec<String>,
}

impl CommonArgs {
    pub fn output_or(&self, default: OutputFormat) -> OutputFormat {
        self.output.unwrap_or(default)
    }

    /// Reject combinations kubectl rejects too.
    pub fn validate(&self) -> Result<()> {
        if self.kube.all_namespaces && self.kube.namespace.is_some() {
            return Err(Error::Usage(
                "-A/--all-namespaces and -n/--namespace cannot be used together".into(),
            ));
        }
        if let Some(ns) = &self.kube.namespace {
            validate_dns1123_label(ns).map_err(|e| Error::Usage(format!("namespace: {e}")))?;
        }
        if let Some(sel) = &self.selector {
            crate::labels::Selector::parse(sel)?;
        }
        self.kube.request_timeout()?;
        Ok(())
    }
}

/// Parse a kubectl-style duration: `0`, `30` (seconds), `500ms`, `1s`, `2m`, `3h`, `1m30s`.
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
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
        total += Duration::from_secs_f64(value * mult);
    }
    Ok(total)
}

/// RFC 1123 label (namespaces, Service names): lowercase alphanumerics and '-', ≤ 63.
pub fn validate_dns1123_label(s: &str) -> std::result::Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a valid name: lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit"
        ))
    }
}

/// RFC 1123 subdomain (most object names): ≤ 253, labels of [a-z0-9-] joined by '.'.
pub fn validate_dns1123_subdomain(s: &str) -> std::result::Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a valid object name: lowercase letters, digits, '-' and '.', at most 253"
        ))
    }
}

/// How a plugin's `main` ends: print the error (if any) to stderr as `error: …` and exit with
/// its documented code. Output to a closed pipe (`| head`) is not an error.
pub fn finish(program: &str, result: Result<crate::error::ExitCode>) -> ! {
    match result {
        Ok(code) => std::process::exit(code.code()),
        Err(e) => {
            eprintln!("{program}: error: {e}");
            std::process::exit(e.exit_code().code())
        }
    }
}

/// Run a plugin's async main on a small runtime and end the process with its exit code
/// (see [`finish`]).
pub fn run<F>(program: &str, fut: F) -> !
where
    F: std::future::Future<Output = Result<crate::error::ExitCode>>,
{
    let result = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Other(format!("cannot start the async runtime: {e}")))
        .and_then(|rt| rt.block_on(fut));
    finish(program, result)
}

/// Write to stdout; a closed pipe ends quietly.
pub fn print_out(text: &str) -> Result<()> {
    crate::render::write_text(&mut std::io::stdout().lock(), text)
}

/// Parse argv with clap; usage errors exit 2 (clap's own), `--help`/`--version` exit 0.
pub fn parse_args<T: clap::Parser>() -> T {
    match T::try_parse() {
        Ok(t) => t,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code)
        }
    }
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
    }

    #[test]
    fn names() {
        assert!(validate_dns1123_label("prod-db").is_ok());
        assert!(validate_dns1123_label("Prod").is_err());
        assert!(validate_dns1123_label("-a").is_err());
        assert!(validate_dns1123_label("a;rm -rf /").is_err());
        assert!(validate_dns1123_subdomain("data-db-0.x").is_ok());
        assert!(validate_dns1123_subdomain("a..b").is_err());
        assert!(validate_dns1123_subdomain(&"a".repeat(254)).is_err());
    }
}
