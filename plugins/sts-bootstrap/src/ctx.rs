//! What every step runs with: the execution context (how to reach the pods, the deadlines),
//! the executor's inputs, and polling. Engines and the executor both build on it; it depends on
//! neither.

use std::time::Duration;

use crate::topology::Topology;
use stateful_core::error::{Error, Result};
use stateful_core::exec::{ExecOutput, ExecRequest, PodExec};

/// How to reach the pods.
pub struct Ctx<'a, E: PodExec> {
    pub exec: &'a E,
    pub topo: &'a Topology,
    /// Per exec call.
    pub exec_timeout: Duration,
    /// For waits (PRIMARY elected, SECONDARY reached, replica streaming).
    pub wait: Duration,
}

impl<E: PodExec> Ctx<'_, E> {
    pub(crate) async fn run(
        &self,
        pod: &str,
        argv: Vec<String>,
        stdin: Option<Vec<u8>>,
    ) -> Result<ExecOutput> {
        self.exec
            .exec(ExecRequest {
                pod: pod.to_string(),
                container: self.topo.container.clone(),
                argv,
                stdin,
                timeout: self.exec_timeout,
            })
            .await
    }

    pub(crate) async fn run_ok(
        &self,
        pod: &str,
        what: &str,
        argv: Vec<String>,
        stdin: Option<Vec<u8>>,
    ) -> Result<ExecOutput> {
        let out = self.run(pod, argv, stdin).await?;
        if !out.success() {
            return Err(Error::Failed(format!(
                "{what} on {pod} failed (exit {}): {}",
                out.code,
                out.brief()
            )));
        }
        Ok(out)
    }

    /// Run a probe on `pod` and parse its output: the parsed value, or why there is none (the
    /// probe failed, or its output did not parse). Every engine observes its members this way.
    pub(crate) async fn probe<T>(
        &self,
        pod: &str,
        argv: Vec<String>,
        stdin: Option<Vec<u8>>,
        parse: impl FnOnce(&str) -> std::result::Result<T, String>,
    ) -> (Option<T>, Option<String>) {
        match self.run(pod, argv, stdin).await {
            Ok(o) if o.success() => match parse(&o.stdout) {
                Ok(t) => (Some(t), None),
                Err(e) => (None, Some(e)),
            },
            Ok(o) => (None, Some(o.brief())),
            Err(e) => (None, Some(e.to_string())),
        }
    }

    pub(crate) fn primary_pod(&self) -> String {
        self.topo
            .member(self.topo.primary)
            .map(|m| m.pod.clone())
            .unwrap_or_default()
    }
}

/// What the executor needs beyond the plan.
pub struct ApplyInputs {
    /// Names the directory a re-seeded replica's old data is moved to.
    pub stamp: String,
    /// PostgreSQL: the replication role's password (sent on stdin only).
    pub replication_password: Option<String>,
    /// A token written on the primary and read back on every replica.
    pub verify_token: String,
}

/// Ask `check` every 2 s until it answers, or time out after `ctx.wait`.
pub(crate) async fn poll<E: PodExec, T>(
    ctx: &Ctx<'_, E>,
    what: &str,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> Result<T> {
    let deadline = tokio::time::Instant::now() + ctx.wait;
    loop {
        if let Some(t) = check().await {
            return Ok(t);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::TimedOut(format!(
                "{what} within {}s",
                ctx.wait.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
