//! Through exec: observe every server, the steps, the verification after convergence, and the
//! `status` rows.

use serde::Serialize;

use super::PodProbe;
use super::parse::{Dialect, ServerProbe, parse_probe};
use super::script::{
    MARK, create_user_argv, grant_sql, probe_argv, read_only_sql, replicate_argv, seed_argv,
    sql_argv,
};
use crate::ctx::{ApplyInputs, Ctx, poll};
use crate::engine::Observed;
use crate::topology::Topology;
use stateful_core::error::{Error, Result};
use stateful_core::exec::PodExec;

/// The engine-binary preflight check.
pub const BINARY_CHECK: &str =
    "(command -v mariadb || command -v mysql) && (command -v mariadb-dump || command -v mysqldump)";
pub const BINARY_NAMES: &str = "mariadb (or mysql) and mariadb-dump (or mysqldump)";

/// Probe one server.
pub async fn probe<E: PodExec>(ctx: &Ctx<'_, E>, pod: &str, ordinal: u32) -> PodProbe {
    let (server, error) = ctx
        .probe(
            pod,
            probe_argv(ctx.topo),
            ctx.topo.password_stdin(),
            parse_probe,
        )
        .await;
    PodProbe {
        pod: pod.into(),
        ordinal,
        server,
        error,
    }
}

/// Probe every member, in ordinal order.
pub async fn observe<E: PodExec>(ctx: &Ctx<'_, E>) -> Vec<PodProbe> {
    let mut out = Vec::new();
    for m in &ctx.topo.members {
        out.push(probe(ctx, &m.pod, m.ordinal).await);
    }
    out
}

/// The dialect `pod` was observed speaking.
fn dialect(observed: &Observed, pod: &str) -> Result<Dialect> {
    match observed {
        Observed::MySql(ps) => ps
            .iter()
            .find(|p| p.pod == pod)
            .and_then(|p| p.server.as_ref())
            .map(|s| s.dialect)
            .ok_or_else(|| Error::Failed(format!("{pod} was not observed"))),
        _ => Err(Error::Other("not a MySQL observation".into())),
    }
}

/// Stdin of a script that needs the replication password: the root password's line first when
/// it comes from `--password-secret`, then the replication password.
pub(super) fn password_stdin(topo: &Topology, inputs: &ApplyInputs) -> Result<Vec<u8>> {
    let pw = inputs
        .replication_password
        .as_ref()
        .ok_or_else(|| Error::Failed("no replication password (Secret)".into()))?;
    let mut out = topo.password_stdin().unwrap_or_default();
    out.extend(format!("{pw}\n").into_bytes());
    Ok(out)
}

/// Step `replication-user` (user missing): the password goes on stdin.
pub(crate) async fn create_user<E: PodExec>(
    ctx: &Ctx<'_, E>,
    pod: &str,
    inputs: &ApplyInputs,
) -> Result<Option<String>> {
    ctx.run_ok(
        pod,
        "create the replication user",
        create_user_argv(ctx.topo),
        Some(password_stdin(ctx.topo, inputs)?),
    )
    .await?;
    Ok(None)
}

/// Step `replication-user` (user present, grants missing).
pub(crate) async fn grant_user<E: PodExec>(
    ctx: &Ctx<'_, E>,
    pod: &str,
    user: &str,
) -> Result<Option<String>> {
    ctx.run_ok(
        pod,
        "grant the replication user",
        sql_argv(ctx.topo, &grant_sql(user)),
        ctx.topo.password_stdin(),
    )
    .await?;
    Ok(None)
}

/// Step `seed/<pod>`: dump the primary into the replica, inside the replica's pod.
pub(crate) async fn seed<E: PodExec>(
    ctx: &Ctx<'_, E>,
    observed: &Observed,
    pod: &str,
    host: &str,
    inputs: &ApplyInputs,
) -> Result<Option<String>> {
    let d = dialect(observed, pod)?;
    let out = ctx
        .run_ok(
            pod,
            "seed from the primary",
            seed_argv(ctx.topo, d, host),
            Some(password_stdin(ctx.topo, inputs)?),
        )
        .await?;
    if !out.stdout.contains(&format!("{MARK}seeded")) {
        return Err(Error::Failed(format!(
            "seeding {pod} did not finish: {}",
            out.brief()
        )));
    }
    let s = probe(ctx, pod, ctx.topo.ordinal_of(pod)).await.server;
    Ok(Some(format!(
        "seeded: {} at GTID {}",
        s.as_ref()
            .map(ServerProbe::tables_text)
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "no user tables".into()),
        s.map(|s| s.gtid_slave_pos).unwrap_or_default()
    )))
}

/// Step `replicate/<pod>`: CHANGE MASTER / CHANGE REPLICATION SOURCE, START, then wait until
/// both threads run (an SQL error fails at once).
pub(crate) async fn start_replication<E: PodExec>(
    ctx: &Ctx<'_, E>,
    observed: &Observed,
    pod: &str,
    host: &str,
    port: u16,
    inputs: &ApplyInputs,
) -> Result<Option<String>> {
    let d = dialect(observed, pod)?;
    ctx.run_ok(
        pod,
        "start replication",
        replicate_argv(ctx.topo, d, host),
        Some(password_stdin(ctx.topo, inputs)?),
    )
    .await?;
    let ordinal = ctx.topo.ordinal_of(pod);
    let mut last = String::new();
    let r = poll(
        ctx,
        &format!("{pod} to replicate from {host}:{port}"),
        async || {
            let r = probe(ctx, pod, ordinal).await.server?.replica?;
            last = r.last_error().unwrap_or_default();
            (r.replicates_from(host, port) && (r.running() || r.last_sql_errno != 0)).then_some(r)
        },
    )
    .await
    .map_err(|e| match e {
        Error::TimedOut(m) if !last.is_empty() => Error::TimedOut(format!("{m} (last: {last})")),
        other => other,
    })?;
    if !r.running() {
        return Err(Error::Failed(format!(
            "replication on {pod} stopped: {}",
            r.last_error().unwrap_or_default()
        )));
    }
    Ok(Some(format!(
        "IO and SQL threads running, {}s behind",
        r.seconds_behind.map_or("?".into(), |n| n.to_string())
    )))
}

/// Step `read-only/<pod>`.
pub(crate) async fn set_read_only<E: PodExec>(
    ctx: &Ctx<'_, E>,
    observed: &Observed,
    pod: &str,
) -> Result<Option<String>> {
    let d = dialect(observed, pod)?;
    ctx.run_ok(
        pod,
        "read_only",
        sql_argv(ctx.topo, read_only_sql(d)),
        ctx.topo.password_stdin(),
    )
    .await?;
    Ok(None)
}

/// After convergence: a row written on the primary is read on every replica, whose threads
/// both run with no error.
pub(crate) async fn verify<E: PodExec>(
    ctx: &Ctx<'_, E>,
    inputs: &ApplyInputs,
) -> Result<Vec<String>> {
    let tok = &inputs.verify_token;
    if !tok.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') || tok.len() > 64 {
        return Err(Error::Other("bad verification token".into()));
    }
    let primary = ctx.primary_pod();
    let sql = format!(
        "CREATE DATABASE IF NOT EXISTS sts_bootstrap; CREATE TABLE IF NOT EXISTS sts_bootstrap.verify_rows (token VARCHAR(64) PRIMARY KEY, written_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP); INSERT IGNORE INTO sts_bootstrap.verify_rows (token) VALUES ('{tok}')"
    );
    ctx.run_ok(
        &primary,
        "write the verification row",
        sql_argv(ctx.topo, &sql),
        ctx.topo.password_stdin(),
    )
    .await?;
    let q = format!("SELECT COUNT(*) FROM sts_bootstrap.verify_rows WHERE token = '{tok}'");
    let mut verified = Vec::new();
    for m in ctx
        .topo
        .members
        .iter()
        .filter(|m| m.ordinal != ctx.topo.primary)
    {
        poll(
            ctx,
            &format!("the verification row to reach {}", m.pod),
            async || {
                ctx.run(&m.pod, sql_argv(ctx.topo, &q), ctx.topo.password_stdin())
                    .await
                    .ok()
                    .filter(|o| o.success() && o.stdout.trim() == "1")
                    .map(|_| ())
            },
        )
        .await?;
        let r = probe(ctx, &m.pod, m.ordinal)
            .await
            .server
            .and_then(|s| s.replica)
            .ok_or_else(|| Error::Failed(format!("verification: {} is not a replica", m.pod)))?;
        if !r.running() || r.last_error().is_some() {
            return Err(Error::Failed(format!(
                "verification: {} IO {} / SQL {} {}",
                m.pod,
                r.io_running,
                r.sql_running,
                r.last_error().unwrap_or_default()
            )));
        }
        verified.push(format!(
            "{}: row written on {primary} is readable; IO and SQL threads running, {}s behind",
            m.pod,
            r.seconds_behind.map_or("?".into(), |n| n.to_string())
        ));
    }
    Ok(verified)
}

/// One row of `status`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRow {
    pub pod: String,
    /// `primary`, `replica`, `standalone` (a server replicating from nowhere that is not the
    /// set's primary), or `unknown`.
    pub role: String,
    /// `accepting writes`, `replicating`, `IO <state>, SQL <state>`, or `unknown`.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `Seconds_Behind_Master` (None: NULL, i.e. not running, or not a replica).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gtid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

pub fn status_rows(topo: &Topology, probes: &[PodProbe]) -> Vec<StatusRow> {
    probes
        .iter()
        .map(|p| {
            let Some(s) = &p.server else {
                return StatusRow {
                    pod: p.pod.clone(),
                    role: "unknown".into(),
                    state: "unknown".into(),
                    source: None,
                    lag_seconds: None,
                    server_id: None,
                    gtid: None,
                    read_only: None,
                    last_error: Some(p.error.clone().unwrap_or_else(|| "no answer".into())),
                };
            };
            let r = s.replica.as_ref().filter(|r| !r.source_host.is_empty());
            let (role, state) = match r {
                Some(r) if r.running() => ("replica", "replicating".to_string()),
                Some(r) => (
                    "replica",
                    format!("IO {}, SQL {}", r.io_running, r.sql_running),
                ),
                None if p.ordinal == topo.primary => ("primary", "accepting writes".into()),
                None => ("standalone", "accepting writes".into()),
            };
            StatusRow {
                pod: p.pod.clone(),
                role: role.into(),
                state,
                source: r.map(|r| format!("{}:{}", r.source_host, r.source_port.unwrap_or(0))),
                lag_seconds: r.and_then(|r| r.seconds_behind),
                server_id: Some(s.server_id),
                gtid: Some(s.gtid_position.clone()).filter(|g| !g.is_empty()),
                read_only: Some(s.read_only),
                last_error: r.and_then(|r| r.last_error()),
            }
        })
        .collect()
}
