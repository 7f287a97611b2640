//! One error type for the whole suite; every variant maps to one of the documented exit codes.

use std::path::PathBuf;

/// Exit codes shared by every plugin (documented in README.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    Success = 0,
    Error = 1,
    Usage = 2,
    NotFound = 3,
    Forbidden = 4,
    /// Problems found (diagnostics over `--fail-on`) or the operation failed.
    Problems = 5,
    TimedOut = 6,
    /// The user interrupted a wait (Ctrl-C); what was started goes on (128 + SIGINT).
    Interrupted = 130,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags or arguments (exit 2).
    #[error("{0}")]
    Usage(String),

    /// A named object does not exist (exit 3).
    #[error("{kind} \"{name}\" not found{}", ns_suffix(namespace))]
    NotFound {
        kind: String,
        name: String,
        namespace: Option<String>,
    },

    /// The API server refused a call (exit 4).
    #[error(
        "forbidden: cannot {verb} {resource}{}{}",
        ns_suffix(namespace),
        detail_suffix(message)
    )]
    Forbidden {
        verb: String,
        resource: String,
        namespace: Option<String>,
        message: String,
    },

    /// A file could not be read or parsed (exit 1).
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    File {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },

    /// kubeconfig / connection problems (exit 1).
    #[error("{0}")]
    Config(String),

    /// The API server could not be reached or answered with an unexpected error (exit 1).
    #[error("{context}: {message}")]
    Api { context: String, message: String },

    /// The operation ran and failed, or diagnostics crossed `--fail-on` (exit 5).
    #[error("{0}")]
    Failed(String),

    /// A deadline passed while waiting (exit 6).
    #[error("timed out: {0}")]
    TimedOut(String),

    /// Anything else (exit 1).
    #[error("{0}")]
    Other(String),
}

fn ns_suffix(ns: &Option<String>) -> String {
    match ns {
        Some(ns) if !ns.is_empty() => format!(" in namespace \"{ns}\""),
        _ => String::new(),
    }
}

fn detail_suffix(msg: &str) -> String {
    if msg.is_empty() {
        String::new()
    } else {
        format!(" ({msg})")
    }
}

impl Error {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Usage(_) => ExitCode::Usage,
            Error::NotFound { .. } => ExitCode::NotFound,
            Error::Forbidden { .. } => ExitCode::Forbidden,
            Error::Failed(_) => ExitCode::Problems,
            Error::TimedOut(_) => ExitCode::TimedOut,
            Error::File { .. } | Error::Config(_) | Error::Api { .. } | Error::Other(_) => {
                ExitCode::Error
            }
        }
    }

    pub fn not_found(kind: &str, name: &str, namespace: Option<&str>) -> Self {
        Error::NotFound {
            kind: kind.to_string(),
            name: name.to_string(),
            namespace: namespace.map(str::to_string),
        }
    }

    /// Map a kube client error for a call `verb resource [in ns]` into our variants:
    /// 403 → Forbidden, 404 → NotFound (when a name is given), timeouts → TimedOut.
    pub fn from_kube(
        err: kube::Error,
        verb: &str,
        resource: &str,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Self {
        if let kube::Error::Api(status) = &err {
            if status.code == 403 {
                return Error::Forbidden {
                    verb: verb.to_string(),
                    resource: resource.to_string(),
                    namespace: namespace.map(str::to_string),
                    message: status.message.clone(),
                };
            }
            if status.code == 404
                && let Some(name) = name
            {
                return Error::not_found(resource, name, namespace);
            }
        }
        let message = describe_kube_error(&err);
        let scope = namespace
            .map(|ns| format!(" in namespace \"{ns}\""))
            .unwrap_or_default();
        Error::Api {
            context: format!("{verb} {resource}{scope}"),
            message,
        }
    }
}

/// A one-line, human description of a kube client error (walks the source chain, so that
/// "connection refused" or "deadline has elapsed" reach the user).
pub fn describe_kube_error(err: &kube::Error) -> String {
    use std::error::Error as _;
    let mut parts = vec![err.to_string()];
    let mut src = err.source();
    while let Some(s) = src {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        src = s.source();
    }
    parts.join(": ")
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(c: ExitCode) -> Self {
        std::process::ExitCode::from(c as u8)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_documented_ones() {
        assert_eq!(Error::Usage("x".into()).exit_code().code(), 2);
        assert_eq!(Error::not_found("pod", "a", None).exit_code().code(), 3);
        let f = Error::Forbidden {
            verb: "list".into(),
            resource: "pods".into(),
            namespace: Some("ns1".into()),
            message: String::new(),
        };
        assert_eq!(f.exit_code().code(), 4);
        assert_eq!(
            f.to_string(),
            "forbidden: cannot list pods in namespace \"ns1\""
        );
        assert_eq!(Error::Failed("x".into()).exit_code().code(), 5);
        assert_eq!(Error::TimedOut("x".into()).exit_code().code(), 6);
        let file = Error::File {
            path: "dump.yaml".into(),
            line: Some(12),
            message: "bad".into(),
        };
        assert_eq!(file.to_string(), "dump.yaml:12: bad");
        assert_eq!(file.exit_code().code(), 1);
    }

    #[test]
    fn not_found_names_the_object() {
        let e = Error::not_found("persistentvolumeclaim", "data-db-0", Some("prod"));
        assert_eq!(
            e.to_string(),
            "persistentvolumeclaim \"data-db-0\" not found in namespace \"prod\""
        );
    }
}
