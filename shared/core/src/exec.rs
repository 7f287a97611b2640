//! Run a command in a pod's container through the API server (`pods/exec`, websocket), with
//! stdout and stderr drained concurrently, the exit code read from the final Status, optional
//! stdin (the only way secrets reach a command: never argv, which travels in the request URL),
//! and a deadline after which the session is aborted.
//!
//! [`PodExec`] is the seam: the bootstrap executor is generic over it, the plugin uses
//! [`KubeExec`].

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::{Error, Result};

/// One command to run in one container.
#[derive(Debug, Clone)]
pub struct ExecRequest {
    pub pod: String,
    pub container: String,
    /// The argv. Must not contain secrets: it is part of the exec URL.
    pub argv: Vec<String>,
    /// Bytes written to the command's stdin, then EOF. Secrets go here.
    pub stdin: Option<Vec<u8>>,
    pub timeout: Duration,
}

/// What a finished command returned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    pub stdout: String,
    pub stderr: String,
    /// 0 on success; the process's exit code otherwise.
    pub code: i32,
}

impl ExecOutput {
    pub fn success(&self) -> bool {
        self.code == 0
    }

    /// The last non-empty line of stderr (or stdout), for messages.
    pub fn brief(&self) -> String {
        let pick = |s: &str| {
            s.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim().to_string())
        };
        pick(&self.stderr)
            .or_else(|| pick(&self.stdout))
            .unwrap_or_else(|| format!("exit code {}", self.code))
    }
}

/// Something that can run commands in pods. Implemented by [`KubeExec`] (and by test doubles
/// in unit tests of the executor).
pub trait PodExec {
    fn exec(
        &self,
        req: ExecRequest,
    ) -> impl std::future::Future<Output = Result<ExecOutput>> + Send;
}

/// `pods/exec` through kube-rs.
#[derive(Clone)]
pub struct KubeExec {
    pub api: Api<Pod>,
    pub namespace: String,
}

impl KubeExec {
    pub fn new(client: kube::Client, namespace: &str) -> Self {
        KubeExec {
            api: Api::namespaced(client, namespace),
            namespace: namespace.to_string(),
        }
    }
}

impl PodExec for KubeExec {
    async fn exec(&self, req: ExecRequest) -> Result<ExecOutput> {
        let ap = AttachParams::default()
            .container(req.container.clone())
            .stdin(req.stdin.is_some())
            .stdout(true)
            .stderr(true)
            .max_stdout_buf_size(64 * 1024)
            .max_stderr_buf_size(64 * 1024);
        let ns = self.namespace.clone();
        let what = format!("exec in pod {}/{}", ns, req.pod);
        let mut proc = self
            .api
            .exec(&req.pod, req.argv.clone(), &ap)
            .await
            .map_err(|e| Error::from_kube(e, "create", "pods/exec", Some(&ns), Some(&req.pod)))?;

        let stdout = proc.stdout();
        let stderr = proc.stderr();
        let stdin = proc.stdin();
        let status = proc.take_status();
        let input = req.stdin.clone();

        let work = async move {
            let feed = async move {
                if let (Some(mut w), Some(bytes)) = (stdin, input) {
                    // A write error means the command exited without reading: not ours to report.
                    let _ = w.write_all(&bytes).await;
                    let _ = w.shutdown().await;
                }
            };
            let read_out = read_all(stdout);
            let read_err = read_all(stderr);
            let ((), out, err) = tokio::join!(feed, read_out, read_err);
            let status = match status {
                Some(s) => s.await,
                None => None,
            };
            (out, err, status)
        };

        let (out, err, status) = match tokio::time::timeout(req.timeout, work).await {
            Ok(r) => r,
            Err(_) => {
                proc.abort();
                return Err(Error::TimedOut(format!(
                    "{what}: no answer within {}s (the command may still be running in the pod)",
                    req.timeout.as_secs()
                )));
            }
        };
        let _ = proc.join().await;
        let status = status.ok_or_else(|| {
            Error::Other(format!(
                "{what}: the stream closed without an exit status (connection lost or container restarted)"
            ))
        })?;
        let code = exit_code(&status).map_err(|m| Error::Other(format!("{what}: {m}")))?;
        Ok(ExecOutput {
            stdout: out,
            stderr: err,
            code,
        })
    }
}

async fn read_all<R: tokio::io::AsyncRead + Unpin>(r: Option<R>) -> String {
    let mut buf = Vec::new();
    if let Some(mut r) = r {
        let _ = r.read_to_end(&mut buf).await;
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// The exit code carried by the exec session's final Status: `Success` → 0;
/// `Failure` with reason `NonZeroExitCode` → the `ExitCode` cause; anything else is an error
/// (the command could not be started, e.g. executable not found).
pub fn exit_code(
    status: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Status,
) -> std::result::Result<i32, String> {
    if status.status.as_deref() == Some("Success") {
        return Ok(0);
    }
    if status.reason.as_deref() == Some("NonZeroExitCode") {
        let code = status
            .details
            .as_ref()
            .and_then(|d| d.causes.as_ref())
            .and_then(|cs| {
                cs.iter()
                    .find(|c| c.reason.as_deref() == Some("ExitCode"))
                    .and_then(|c| c.message.as_deref())
            })
            .and_then(|m| m.trim().parse::<i32>().ok());
        return code.ok_or_else(|| "non-zero exit without an exit code".to_string());
    }
    Err(status
        .message
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| format!("exec failed ({:?})", status.reason)))
}

/// Quote one word for a POSIX shell (`sh -c`): single quotes, with `'` as `'\''`.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `["sh", "-c", script]`: the script is one argv word, so only what it embeds needs quoting.
pub fn sh(script: impl Into<String>) -> Vec<String> {
    vec!["sh".into(), "-c".into(), script.into()]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;

    #[test]
    fn exit_codes_from_status() {
        let ok: Status = serde_json::from_value(serde_json::json!({
            "metadata": {}, "status": "Success"
        }))
        .unwrap();
        assert_eq!(exit_code(&ok), Ok(0));
        // As the API server sends it (kubelet's remotecommand): reason NonZeroExitCode.
        let failed: Status = serde_json::from_value(serde_json::json!({
            "metadata": {}, "status": "Failure",
            "message": "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}
        }))
        .unwrap();
        assert_eq!(exit_code(&failed), Ok(3));
        let not_found: Status = serde_json::from_value(serde_json::json!({
            "metadata": {}, "status": "Failure",
            "message": "OCI runtime exec failed: exec failed: unable to start container process: exec: \"mongosh\": executable file not found in $PATH: unknown",
            "reason": "InternalError"
        }))
        .unwrap();
        assert!(
            exit_code(&not_found)
                .unwrap_err()
                .contains("executable file not found")
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("mongo-0.mongo:27017"), "mongo-0.mongo:27017");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn brief_picks_last_line() {
        let o = ExecOutput {
            stdout: "x\n".into(),
            stderr: "warn\nFATAL: boom\n\n".into(),
            code: 2,
        };
        assert_eq!(o.brief(), "FATAL: boom");
    }
}
