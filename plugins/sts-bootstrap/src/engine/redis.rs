//! Redis / Valkey: the shell run through exec, the parser of `INFO`, the pure planner, observing
//! every server, the steps (`REPLICAOF` with `masterauth`, `CONFIG REWRITE`), the verification
//! after convergence, and the `status` rows.
//!
//! Ordinal 0 (or `--primary`) is the primary. Each replica gets `masterauth` (the server's own
//! password — read inside the pod from its environment: `REDIS_PASSWORD`, `VALKEY_PASSWORD` or
//! `REDISCLI_AUTH`, or, with `--password-secret NAME[:KEY]`, from that Secret, sent on stdin —
//! piped to `redis-cli -x`, never on a command line) and `REPLICAOF <primary
//! FQDN> <port>`; then `CONFIG REWRITE` persists it when the server has a writable config file
//! (when it has none, the plan says the setting is lost on restart). A replica that is itself a
//! primary with keys, or a replica of another primary, is refused unless `--force` (its data
//! would be replaced by the primary's). The server is reached in the pod at 127.0.0.1 (or
//! `$REDIS_HOST`) on the container port.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Engine;
use crate::ctx::{ApplyInputs, Ctx, poll};
use crate::plan::{Action, Plan};
use crate::topology::{Member, Topology};
use stateful_core::error::{Error, Result};
use stateful_core::exec::{PodExec, sh, shell_quote};

pub const MARK: &str = "@@STS@@";

/// The preamble of every script: the CLI (`redis-cli` or `valkey-cli`), the server's password
/// in `REDISCLI_AUTH` (which the CLI reads) — from the first line of stdin when it comes from
/// `--password-secret`, else from the container's own environment — and `r` to run a command
/// against the local server.
fn preamble(topo: &Topology) -> String {
    let port = topo.port;
    let source = if topo.server_password.is_some() {
        r#"IFS= read -r A || { echo 'no server password on stdin' >&2; exit 3; }"#
    } else {
        r#"A="${REDIS_PASSWORD:-${VALKEY_PASSWORD:-${REDISCLI_AUTH:-}}}""#
    };
    format!(
        r#"CLI=$(command -v redis-cli || command -v valkey-cli) || {{ echo 'redis-cli (or valkey-cli) not found in the container' >&2; exit 127; }}
{source}
if [ -n "$A" ]; then export REDISCLI_AUTH="$A"; else unset REDISCLI_AUTH; fi
r() {{ "$CLI" --no-auth-warning -h "${{REDIS_HOST:-127.0.0.1}}" -p {port} "$@"; }}
ok() {{ out=$(r "$@" 2>&1); case "$out" in OK*) ;; *) echo "$* failed: $out" >&2; exit 1;; esac; }}
"#
    )
}

/// Probe: `INFO`, then whether the config file is writable and the `replicaof` line it holds.
pub fn probe_argv(topo: &Topology) -> Vec<String> {
    sh(format!(
        r#"{pre}out=$(r INFO 2>&1) || {{ echo "$out" >&2; exit 1; }}
case "$out" in *role:*) ;; *) echo "$out" >&2; exit 1;; esac
printf '%sINFO\n%s\n' {MARK} "$out"
CF=$(printf '%s\n' "$out" | tr -d '\r' | sed -n 's/^config_file://p')
if [ -n "$CF" ]; then
  if [ -w "$CF" ]; then W=yes; else W=no; fi
  printf '%sCONFIG writable=%s\n' {MARK} "$W"
  grep -E '^(replicaof|slaveof) ' "$CF" 2>/dev/null | sed 's/^/{MARK}PERSISTED /' || true
fi
printf '%sAUTH %s\n' {MARK} "${{REDISCLI_AUTH:+yes}}""#,
        pre = preamble(topo)
    ))
}

/// `masterauth` from the pod's own environment (stdin of `redis-cli -x`), then `REPLICAOF`.
pub fn replicaof_argv(topo: &Topology, host: &str, port: u16) -> Vec<String> {
    sh(format!(
        r#"{pre}if [ -n "${{REDISCLI_AUTH:-}}" ]; then
  out=$(printf '%s' "$REDISCLI_AUTH" | r -x CONFIG SET masterauth 2>&1); case "$out" in OK*) ;; *) echo "CONFIG SET masterauth failed: $out" >&2; exit 1;; esac
fi
ok REPLICAOF {h} {port}"#,
        pre = preamble(topo),
        h = shell_quote(host),
    ))
}

/// `CONFIG REWRITE`: the running configuration (replicaof, masterauth) into the config file.
pub fn rewrite_argv(topo: &Topology) -> Vec<String> {
    sh(format!("{}ok CONFIG REWRITE", preamble(topo)))
}

/// Run one command (no secrets; words are quoted) and print its reply.
pub fn cmd_argv(topo: &Topology, words: &[&str]) -> Vec<String> {
    let w: Vec<String> = words.iter().map(|w| shell_quote(w)).collect();
    sh(format!("{}r {}", preamble(topo), w.join(" ")))
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// What one server said about itself (`INFO` and its config file).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    /// `redis` or `valkey`.
    pub server: String,
    pub version: String,
    /// `master` or `slave`.
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_port: Option<u16>,
    /// `up` / `down` (replicas).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_link_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_last_io_seconds_ago: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_link_down_since_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slave_repl_offset: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slave_read_only: Option<bool>,
    pub master_repl_offset: i64,
    pub connected_slaves: i64,
    /// Keys over every database.
    pub keys: i64,
    /// Empty when the server runs without a config file.
    pub config_file: String,
    /// Whether the config file is writable from the exec session (None: no config file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_writable: Option<bool>,
    /// `replicaof HOST PORT` as persisted in the config file, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persisted: Option<String>,
    /// Whether the container's environment holds the server's password.
    pub auth: bool,
}

/// `INFO` as key → value (CRLF and section headers dropped).
pub fn parse_info(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.starts_with('#') && !l.starts_with(MARK))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `keys=3,expires=0,avg_ttl=0` → 3.
fn db_keys(v: &str) -> i64 {
    v.split(',')
        .find_map(|kv| kv.strip_prefix("keys="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Parse the probe's stdout (or a bare `INFO`).
pub fn parse_probe(stdout: &str) -> Result<ServerInfo, String> {
    let info = parse_info(stdout);
    let role = info
        .get("role")
        .cloned()
        .ok_or_else(|| format!("no INFO in the probe output: {:?}", brief(stdout)))?;
    let num = |k: &str| info.get(k).and_then(|v| v.parse::<i64>().ok());
    let mark = |tag: &str| {
        stdout
            .lines()
            .find_map(|l| {
                l.trim_end_matches('\r')
                    .strip_prefix(MARK)?
                    .strip_prefix(tag)
            })
            .map(str::trim)
    };
    let (server, version) = match (info.get("server_name"), info.get("valkey_version")) {
        (Some(n), _) if n == "valkey" => (
            "valkey".to_string(),
            info.get("valkey_version")
                .or_else(|| info.get("redis_version"))
                .cloned()
                .unwrap_or_default(),
        ),
        (_, Some(v)) => ("valkey".to_string(), v.clone()),
        _ => (
            "redis".to_string(),
            info.get("redis_version").cloned().unwrap_or_default(),
        ),
    };
    Ok(ServerInfo {
        server,
        version,
        role,
        master_host: info.get("master_host").cloned(),
        master_port: info.get("master_port").and_then(|v| v.parse().ok()),
        master_link_status: info.get("master_link_status").cloned(),
        master_last_io_seconds_ago: num("master_last_io_seconds_ago"),
        master_link_down_since_seconds: num("master_link_down_since_seconds"),
        slave_repl_offset: num("slave_repl_offset"),
        slave_read_only: num("slave_read_only").map(|v| v == 1),
        master_repl_offset: num("master_repl_offset").unwrap_or(0),
        connected_slaves: num("connected_slaves").unwrap_or(0),
        keys: info
            .iter()
            .filter(|(k, _)| k.starts_with("db") && k[2..].bytes().all(|b| b.is_ascii_digit()))
            .map(|(_, v)| db_keys(v))
            .sum(),
        config_file: info.get("config_file").cloned().unwrap_or_default(),
        config_writable: mark("CONFIG writable=").map(|w| w == "yes"),
        persisted: mark("PERSISTED ").map(str::to_string),
        auth: mark("AUTH").is_some_and(|a| a == "yes"),
    })
}

fn brief(s: &str) -> String {
    let t = s.trim();
    t.chars().take(300).collect()
}

impl ServerInfo {
    pub fn is_replica(&self) -> bool {
        self.role == "slave"
    }

    /// Configured to replicate from `host:port` (the link may be down).
    pub fn replicates_from(&self, host: &str, port: u16) -> bool {
        self.is_replica()
            && self.master_host.as_deref() == Some(host)
            && self.master_port == Some(port)
    }

    pub fn link_up(&self) -> bool {
        self.master_link_status.as_deref() == Some("up")
    }

    /// The config file holds `replicaof host port` (either spelling).
    pub fn persisted_as(&self, host: &str, port: u16) -> bool {
        self.persisted.as_deref().is_some_and(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.len() == 3 && w[1] == host && w[2] == port.to_string()
        })
    }
}

/// Per pod: the probe, or why it could not be taken.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodProbe {
    pub pod: String,
    pub ordinal: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------------------------

/// Plan from the probes of every pod (`None`: manifests only, fresh pods assumed).
pub fn plan(topo: &Topology, observed: Option<&[PodProbe]>, mut plan: Plan) -> Plan {
    debug_assert_eq!(topo.engine, Engine::Redis);
    let Some(primary_m) = topo.member(topo.primary).cloned() else {
        plan.refuse("the StatefulSet has 0 replicas");
        return plan;
    };
    if observed.is_none() {
        plan.notes.push(
            "planned from manifests only: every replica is assumed to need REPLICAOF, and CONFIG REWRITE is planned without knowing whether the server has a writable config file"
                .into(),
        );
    }
    let probe_of = |pod: &str| {
        observed
            .and_then(|o| o.iter().find(|p| p.pod == pod))
            .and_then(|p| p.server.as_ref())
    };
    if let Some(obs) = observed {
        for p in obs {
            plan.observed.push(describe(p));
        }
        if let Some(bad) = obs.iter().find(|p| p.error.is_some()) {
            plan.refuse(format!(
                "cannot query {}: {}",
                bad.pod,
                bad.error.as_deref().unwrap_or_default()
            ));
            return plan;
        }
    }
    if let Some(p) = probe_of(&primary_m.pod).filter(|p| p.is_replica()) {
        plan.refuse(format!(
            "{} is a replica (of {}:{}): it cannot be the primary; pass --primary ORDINAL of the real primary",
            primary_m.pod,
            p.master_host.as_deref().unwrap_or("?"),
            p.master_port.unwrap_or(0)
        ));
        return plan;
    }
    for m in topo.members.iter().filter(|m| m.ordinal != topo.primary) {
        replica_steps(&mut plan, topo, &primary_m, m, probe_of(&m.pod));
    }
    plan
}

/// `replicaof/<pod>` and `persist/<pod>` for one replica.
fn replica_steps(
    plan: &mut Plan,
    topo: &Topology,
    primary_m: &Member,
    m: &Member,
    s: Option<&ServerInfo>,
) {
    let (host, port) = (primary_m.fqdn.clone(), topo.port);
    let step = plan.step(
        format!("replicaof/{}", m.pod),
        &m.pod,
        Action::ReplicaOf {
            host: host.clone(),
            port,
        },
        format!(
            "REPLICAOF {host} {port} on {} (masterauth from the container's own password, read in the pod)",
            m.pod
        ),
    );
    if let Some(s) = s {
        if s.replicates_from(&host, port) && s.link_up() {
            step.done(format!(
                "replica of {}, link up, offset {}",
                primary_m.pod,
                s.slave_repl_offset.unwrap_or(0)
            ));
        } else if s.replicates_from(&host, port) {
            step.because(format!(
                "replica of {} but the link is {} (down for {}s): masterauth is set again and the link awaited",
                primary_m.pod,
                s.master_link_status.as_deref().unwrap_or("?"),
                s.master_link_down_since_seconds.unwrap_or(-1)
            ));
        } else if s.is_replica() {
            let why = format!(
                "{} is a replica of another primary ({}:{}); REPLICAOF would replace its data with {}'s",
                m.pod,
                s.master_host.as_deref().unwrap_or("?"),
                s.master_port.unwrap_or(0),
                primary_m.pod
            );
            force_or_block(step, topo.force, why);
        } else if s.keys > 0 {
            let why = format!(
                "{} is a primary with {} key(s) of its own; REPLICAOF would discard them",
                m.pod, s.keys
            );
            force_or_block(step, topo.force, why);
        } else {
            step.because("an empty primary of its own");
        }
    }
    match s.map(|s| (s.config_file.is_empty(), s.config_writable)) {
        Some((true, _)) => plan.notes.push(format!(
            "{} runs without a config file: REPLICAOF cannot be persisted and is lost when the server restarts; run apply again after a restart, or start it with a config file",
            m.pod
        )),
        Some((false, Some(false))) => plan.notes.push(format!(
            "{}: the config file {} is not writable: REPLICAOF is not persisted and is lost when the server restarts",
            m.pod,
            s.map(|s| s.config_file.as_str()).unwrap_or_default()
        )),
        _ => {
            let p = plan.step(
                format!("persist/{}", m.pod),
                &m.pod,
                Action::PersistConfig,
                format!(
                    "CONFIG REWRITE on {} (replicaof and masterauth into its config file)",
                    m.pod
                ),
            );
            if s.is_some_and(|s| s.persisted_as(&host, port)) {
                p.done(format!(
                    "{} has `replicaof {host} {port}`",
                    s.map(|s| s.config_file.as_str()).unwrap_or_default()
                ));
            }
        }
    }
}

fn force_or_block(step: &mut crate::plan::Step, force: bool, why: String) {
    if force {
        step.because(format!("{why} (--force)"));
    } else {
        step.block(format!(
            "{why}. Refused: pass --force to replace it, or empty it first"
        ));
    }
}

fn describe(p: &PodProbe) -> String {
    if let Some(e) = &p.error {
        return format!("{}: cannot query: {e}", p.pod);
    }
    let Some(s) = &p.server else {
        return format!("{}: no answer", p.pod);
    };
    let mut line = format!(
        "{}: {} {}, role {}, {} key(s)",
        p.pod, s.server, s.version, s.role, s.keys
    );
    if s.is_replica() {
        line.push_str(&format!(
            ", replica of {}:{} (link {})",
            s.master_host.as_deref().unwrap_or("?"),
            s.master_port.unwrap_or(0),
            s.master_link_status.as_deref().unwrap_or("?")
        ));
    } else if s.connected_slaves > 0 {
        line.push_str(&format!(", {} connected replica(s)", s.connected_slaves));
    }
    if s.config_file.is_empty() {
        line.push_str(", no config file");
    }
    line
}

// ---------------------------------------------------------------------------------------------
// Observation, steps and verification (through exec)
// ---------------------------------------------------------------------------------------------

pub const BINARY_CHECK: &str = "command -v redis-cli || command -v valkey-cli";
pub const BINARY_NAMES: &str = "redis-cli (or valkey-cli)";

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

/// Step `replicaof/<pod>`: masterauth and REPLICAOF, then wait for the link to come up.
pub(crate) async fn replicaof<E: PodExec>(
    ctx: &Ctx<'_, E>,
    pod: &str,
    host: &str,
    port: u16,
) -> Result<Option<String>> {
    ctx.run_ok(
        pod,
        "REPLICAOF",
        replicaof_argv(ctx.topo, host, port),
        ctx.topo.password_stdin(),
    )
    .await?;
    let ordinal = ctx.topo.ordinal_of(pod);
    let s = poll(
        ctx,
        &format!("{pod}'s link to {host}:{port} to come up"),
        async || {
            probe(ctx, pod, ordinal)
                .await
                .server
                .filter(|s| s.replicates_from(host, port) && s.link_up())
        },
    )
    .await?;
    Ok(Some(format!(
        "link up, offset {}",
        s.slave_repl_offset.unwrap_or(0)
    )))
}

/// Step `persist/<pod>`: CONFIG REWRITE.
pub(crate) async fn persist<E: PodExec>(ctx: &Ctx<'_, E>, pod: &str) -> Result<Option<String>> {
    ctx.run_ok(
        pod,
        "CONFIG REWRITE",
        rewrite_argv(ctx.topo),
        ctx.topo.password_stdin(),
    )
    .await?;
    Ok(None)
}

/// After convergence: a key written on the primary is read on every replica, and every
/// replica's link is up with its offset at or past the primary's at the time of the write.
pub(crate) async fn verify<E: PodExec>(
    ctx: &Ctx<'_, E>,
    inputs: &ApplyInputs,
) -> Result<Vec<String>> {
    let tok = &inputs.verify_token;
    if !tok.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(Error::Other("bad verification token".into()));
    }
    let primary = ctx.primary_pod();
    let key = format!("sts-bootstrap:check:{tok}");
    let out = ctx
        .run_ok(
            &primary,
            "write the verification key",
            cmd_argv(ctx.topo, &["SET", &key, tok, "EX", "600"]),
            ctx.topo.password_stdin(),
        )
        .await?;
    if !out.stdout.trim().starts_with("OK") {
        return Err(Error::Failed(format!(
            "verification: SET on {primary} answered {:?}",
            out.stdout.trim()
        )));
    }
    let written_at = probe(ctx, &primary, ctx.topo.primary)
        .await
        .server
        .map(|s| s.master_repl_offset)
        .unwrap_or(0);
    let mut verified = Vec::new();
    for m in ctx
        .topo
        .members
        .iter()
        .filter(|m| m.ordinal != ctx.topo.primary)
    {
        poll(
            ctx,
            &format!("the verification key to reach {}", m.pod),
            async || {
                ctx.run(
                    &m.pod,
                    cmd_argv(ctx.topo, &["GET", &key]),
                    ctx.topo.password_stdin(),
                )
                .await
                .ok()
                .filter(|o| o.success() && o.stdout.trim() == tok)
                .map(|_| ())
            },
        )
        .await?;
        let s = probe(ctx, &m.pod, m.ordinal)
            .await
            .server
            .ok_or_else(|| Error::Failed(format!("verification: cannot query {}", m.pod)))?;
        if !s.link_up() || s.slave_repl_offset.unwrap_or(0) < written_at {
            return Err(Error::Failed(format!(
                "verification: {} link {} at offset {} (primary wrote at {written_at})",
                m.pod,
                s.master_link_status.as_deref().unwrap_or("?"),
                s.slave_repl_offset.unwrap_or(0)
            )));
        }
        verified.push(format!(
            "{}: key written on {primary} is readable; link up, offset {} ≥ {written_at}",
            m.pod,
            s.slave_repl_offset.unwrap_or(0)
        ));
    }
    Ok(verified)
}

// ---------------------------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------------------------

/// One row of `status`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRow {
    pub pod: String,
    /// `primary`, `replica`, `standalone` (a primary that is not the set's), or `unknown`.
    pub role: String,
    /// `accepting writes`, `link up`, `link down`, or why it could not be queried.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master: Option<String>,
    /// The primary's offset minus the replica's (bytes), when both were read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_bytes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_io_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

pub fn status_rows(topo: &Topology, probes: &[PodProbe]) -> Vec<StatusRow> {
    let primary = probes
        .iter()
        .find(|p| p.ordinal == topo.primary)
        .and_then(|p| p.server.as_ref())
        .filter(|s| !s.is_replica());
    probes
        .iter()
        .map(|p| {
            let Some(s) = &p.server else {
                return StatusRow {
                    pod: p.pod.clone(),
                    role: "unknown".into(),
                    state: "unknown".into(),
                    master: None,
                    lag_bytes: None,
                    last_io_seconds: None,
                    keys: None,
                    last_error: Some(p.error.clone().unwrap_or_else(|| "no answer".into())),
                };
            };
            if !s.is_replica() {
                return StatusRow {
                    pod: p.pod.clone(),
                    role: if p.ordinal == topo.primary {
                        "primary"
                    } else {
                        "standalone"
                    }
                    .into(),
                    state: "accepting writes".into(),
                    master: None,
                    lag_bytes: None,
                    last_io_seconds: None,
                    keys: Some(s.keys),
                    last_error: None,
                };
            }
            StatusRow {
                pod: p.pod.clone(),
                role: "replica".into(),
                state: format!("link {}", s.master_link_status.as_deref().unwrap_or("?")),
                master: Some(format!(
                    "{}:{}",
                    s.master_host.as_deref().unwrap_or("?"),
                    s.master_port.unwrap_or(0)
                )),
                lag_bytes: primary
                    .zip(s.slave_repl_offset)
                    .map(|(pr, o)| (pr.master_repl_offset - o).max(0)),
                last_io_seconds: s.master_last_io_seconds_ago.filter(|&v| v >= 0),
                keys: Some(s.keys),
                last_error: (!s.link_up()).then(|| {
                    format!(
                        "link down for {}s",
                        s.master_link_down_since_seconds.unwrap_or(-1)
                    )
                }),
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
