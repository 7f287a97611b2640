//! PostgreSQL: the SQL and shell run through exec, the parser of the probe's JSON, the pure
//! planner, observing every server, the steps (replication role, `pg_hba` rule, slot, re-seed),
//! the verification after convergence, and the `status` rows.
//!
//! Ordinal 0 (or `--primary`) is the primary. On it, idempotently: WAL settings checked, a
//! replication role, a `pg_hba` rule for it (then reload), one physical slot per replica. On
//! each replica: skip when it is streaming from this primary with the same system identifier;
//! otherwise re-seed it: `pg_basebackup` into a fresh directory next to `$PGDATA` on the same
//! volume, swap the directories, stop the server so the container restarts on the new data
//! directory as a standby. Refused when `$PGDATA` is the volume's mount point (it cannot be
//! renamed).

use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::ctx::{ApplyInputs, Ctx, poll};
use crate::plan::{Action, Plan};
use crate::topology::{Member, Topology};
use stateful_core::error::{Error, Result};
use stateful_core::exec::{PodExec, sh, shell_quote};

pub const MARK: &str = "@@STS@@";

/// `psql` against the local server as the container's superuser; credentials from the pod's
/// own environment (`POSTGRES_USER`/`POSTGRES_PASSWORD` of the official image).
pub const PSQL: &str = r#"PGPASSWORD="${POSTGRES_PASSWORD:-${PGPASSWORD:-}}" psql -X -v ON_ERROR_STOP=1 -At -U "${POSTGRES_USER:-postgres}" -d postgres"#;

/// One JSON document with everything the planner needs from a server.
pub fn probe_sql(role: &str) -> String {
    format!(
        "SELECT json_build_object('systemIdentifier', (SELECT system_identifier::text FROM pg_control_system()), 'inRecovery', pg_is_in_recovery(), 'serverVersionNum', current_setting('server_version_num')::int, 'walLevel', current_setting('wal_level'), 'maxWalSenders', current_setting('max_wal_senders')::int, 'maxReplicationSlots', current_setting('max_replication_slots')::int, 'dataDirectory', current_setting('data_directory'), 'role', (SELECT json_build_object('name', rolname, 'replication', rolreplication, 'login', rolcanlogin) FROM pg_roles WHERE rolname = '{role}'), 'hbaRules', (SELECT coalesce(json_agg(json_build_object('line', line_number, 'type', type, 'database', database, 'userName', user_name, 'address', address, 'authMethod', auth_method, 'error', error)), '[]'::json) FROM pg_hba_file_rules), 'slots', (SELECT coalesce(json_agg(json_build_object('slotName', slot_name, 'slotType', slot_type, 'active', active)), '[]'::json) FROM pg_replication_slots), 'replication', (SELECT coalesce(json_agg(json_build_object('applicationName', application_name, 'clientAddr', client_addr::text, 'state', state, 'syncState', sync_state, 'sentLsn', sent_lsn::text, 'replayLsn', replay_lsn::text, 'replayLagSeconds', extract(epoch from replay_lag))), '[]'::json) FROM pg_stat_replication), 'walReceiver', (SELECT json_build_object('status', status, 'senderHost', sender_host, 'senderPort', sender_port, 'slotName', slot_name, 'latestEndLsn', latest_end_lsn::text) FROM pg_stat_wal_receiver LIMIT 1))"
    )
}

/// Probe: prints the marker then the JSON; checks the binaries the steps need exist.
pub fn probe_argv(topo: &Topology) -> Vec<String> {
    sh(format!(
        "command -v psql >/dev/null || {{ echo 'psql not found in the container' >&2; exit 127; }}; out=$({PSQL} -c {}) || exit $?; printf '%s%s\\n' {MARK} \"$out\"",
        shell_quote(&probe_sql(&topo.replication_user))
    ))
}

/// Run SQL (no secrets) on the local server.
pub fn sql_argv(sql: &str) -> Vec<String> {
    sh(format!("{PSQL} -c {}", shell_quote(sql)))
}

/// Create or update the replication role. The password arrives on stdin (first line), is
/// quoted inside the pod, and the statement is kept out of the server log.
pub fn create_role_argv(role: &str) -> Vec<String> {
    let script = format!(
        r#"IFS= read -r P || exit 3; Q=$(printf '%s' "$P" | sed "s/'/''/g"); printf "SET log_statement = 'none'; SET log_min_duration_statement = -1; DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN CREATE ROLE {role} WITH REPLICATION LOGIN; END IF; END \$\$; ALTER ROLE {role} WITH REPLICATION LOGIN PASSWORD '%s';\n" "$Q" | {PSQL} -q -f -"#
    );
    sh(script)
}

/// Append `host replication ROLE all scram-sha-256` to the primary's hba_file and reload.
pub fn add_hba_argv(role: &str) -> Vec<String> {
    let rule = format!("host replication {role} all scram-sha-256");
    sh(format!(
        "set -e; F=$({PSQL} -c 'SHOW hba_file'); grep -qxF {r} \"$F\" || printf '%s\\n' '# added by kubectl sts-bootstrap' {r} >> \"$F\"; {PSQL} -c 'SELECT pg_reload_conf()' >/dev/null",
        r = shell_quote(&rule)
    ))
}

pub fn create_slot_sql(slot: &str) -> String {
    format!(
        "SELECT pg_create_physical_replication_slot('{slot}') WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = '{slot}')"
    )
}

/// The slot of a replica pod: `todo-db-1` → `todo_db_1`.
pub fn slot_name(pod: &str) -> String {
    pod.replace(['-', '.'], "_")
}

/// Re-seed a replica. The replication password is the first line of stdin. `stamp` names the
/// directory the old data is moved to (passed in: planning and scripts use no clock).
pub fn reseed_argv(topo: &Topology, replica: &str, slot: &str, stamp: &str) -> Vec<String> {
    let data = topo.data_dir.clone().unwrap_or_default();
    let primary = topo
        .member(topo.primary)
        .map(|m| m.fqdn.clone())
        .unwrap_or_default();
    let conninfo = format!(
        "host={primary} port={} user={} application_name={replica}",
        topo.port, topo.replication_user
    );
    let script = format!(
        r#"set -eu
IFS= read -r PGPASSWORD || exit 3; export PGPASSWORD
D="${{PGDATA:-{d}}}"; D="${{D%/}}"; NEW="$D.sts-bootstrap-new"; OLD="$D.sts-bootstrap-old-"{stamp}
P=$(dirname "$D")
if [ -d "$D" ] && [ "$(stat -c %d "$D")" != "$(stat -c %d "$P")" ]; then echo "refusing: $D is a mount point and cannot be swapped" >&2; exit 3; fi
command -v pg_basebackup >/dev/null || {{ echo 'pg_basebackup not found in the container' >&2; exit 127; }}
OWNER=$(stat -c %u:%g "$D" 2>/dev/null || stat -c %u:%g "$P")
rm -rf "$NEW"
mkdir -m 700 "$NEW"
pg_basebackup -d {ci} -D "$NEW" -X stream -S {slot} -R -w --checkpoint=fast
touch "$NEW/standby.signal"
if [ "$(id -u)" = 0 ]; then chown -R "$OWNER" "$NEW"; fi
chmod 700 "$NEW"
# The running server is frozen (SIGSTOP, postmaster and its children) while the directories are
# swapped, then stopped in immediate mode (SIGQUIT: no shutdown checkpoint), so it cannot write
# into the fresh copy even where a renamed working directory is not followed (e.g. gVisor).
# The container's restart policy (or a supervisor) starts it again on the new data, as a standby.
PID=""; KIDS=""
if [ -f "$D/postmaster.pid" ]; then
  PID=$(head -n 1 "$D/postmaster.pid")
  for f in /proc/[0-9]*/status; do
    pp=$(sed -n 's/^PPid:[[:space:]]*//p' "$f" 2>/dev/null) || continue
    if [ "$pp" = "$PID" ]; then d=${{f%/status}}; KIDS="$KIDS ${{d#/proc/}}"; fi
  done
  kill -STOP "$PID" $KIDS 2>/dev/null || true
fi
if [ -d "$D" ]; then mv "$D" "$OLD"; fi
mv "$NEW" "$D"
echo {MARK}reseeded old-data="$OLD"
if [ -n "$PID" ]; then kill -QUIT "$PID" $KIDS 2>/dev/null || true; kill -CONT "$PID" $KIDS 2>/dev/null || true; fi"#,
        d = shell_quote(&data),
        stamp = shell_quote(stamp),
        ci = shell_quote(&conninfo),
        slot = shell_quote(slot),
    );
    sh(script)
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleRow {
    pub name: String,
    pub replication: bool,
    pub login: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HbaRule {
    pub line: i64,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub database: Vec<String>,
    #[serde(default)]
    pub user_name: Vec<String>,
    pub address: Option<String>,
    pub auth_method: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotRow {
    pub slot_name: String,
    pub slot_type: String,
    pub active: bool,
}

/// A row of `pg_stat_replication`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicationRow {
    pub application_name: Option<String>,
    pub client_addr: Option<String>,
    pub state: Option<String>,
    pub sync_state: Option<String>,
    pub sent_lsn: Option<String>,
    pub replay_lsn: Option<String>,
    pub replay_lag_seconds: Option<f64>,
}

/// `pg_stat_wal_receiver` (one row on a standby).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WalReceiver {
    pub status: Option<String>,
    pub sender_host: Option<String>,
    pub sender_port: Option<i64>,
    pub slot_name: Option<String>,
    pub latest_end_lsn: Option<String>,
}

/// What one server said about itself.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerProbe {
    pub system_identifier: String,
    pub in_recovery: bool,
    pub server_version_num: i64,
    pub wal_level: String,
    pub max_wal_senders: i64,
    pub max_replication_slots: i64,
    pub data_directory: String,
    pub role: Option<RoleRow>,
    #[serde(default)]
    pub hba_rules: Vec<HbaRule>,
    #[serde(default)]
    pub slots: Vec<SlotRow>,
    #[serde(default)]
    pub replication: Vec<ReplicationRow>,
    pub wal_receiver: Option<WalReceiver>,
}

/// Parse the probe's stdout (with or without our marker).
pub fn parse_probe(stdout: &str) -> Result<ServerProbe, String> {
    let line = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix(MARK))
        .or_else(|| stdout.lines().find(|l| l.trim_start().starts_with('{')))
        .ok_or_else(|| format!("no result in the probe output: {:?}", stdout.trim()))?;
    serde_json::from_str(line.trim()).map_err(|e| format!("unreadable probe output: {e}"))
}

/// Per pod: the probe, or why it could not be taken.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodProbe {
    pub pod: String,
    pub ordinal: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerProbe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ServerProbe {
    /// Does pg_hba allow `role` to replicate from other hosts (not only loopback)?
    pub fn hba_allows_replication(&self, role: &str) -> bool {
        self.hba_rules.iter().any(|r| {
            r.error.is_none()
                && r.kind.starts_with("host")
                && r.database.iter().any(|d| d == "replication")
                && r.user_name.iter().any(|u| u == "all" || u == role)
                && r.auth_method.as_deref() != Some("reject")
                && r.address
                    .as_deref()
                    .is_none_or(|a| !(a.starts_with("127.") || a == "::1" || a == "localhost"))
        })
    }

    /// Is this server a standby streaming from `primary` (same system id, the expected slot
    /// or the primary's host name)?
    pub fn streams_from(&self, primary: &ServerProbe, primary_fqdn: &str, slot: &str) -> bool {
        let Some(w) = &self.wal_receiver else {
            return false;
        };
        self.in_recovery
            && self.system_identifier == primary.system_identifier
            && w.status.as_deref() == Some("streaming")
            && (w.sender_host.as_deref() == Some(primary_fqdn)
                || w.slot_name.as_deref() == Some(slot))
    }
}

// ---------------------------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------------------------

/// Plan from the probes of every pod (`None`: manifests only, fresh pods assumed).
pub fn plan(topo: &Topology, observed: Option<&[PodProbe]>, mut plan: Plan) -> Plan {
    debug_assert_eq!(topo.engine, Engine::Postgres);
    let Some(primary_m) = topo.member(topo.primary).cloned() else {
        plan.refuse("the StatefulSet has 0 replicas");
        return plan;
    };
    if observed.is_none() {
        plan.notes.push(
            "planned from manifests only: the primary is assumed to need every setup step and every replica a re-seed"
                .into(),
        );
    }
    let probe_of = |pod: &str| observed.and_then(|o| o.iter().find(|p| p.pod == pod));
    if let Some(obs) = observed {
        for p in obs {
            plan.observed.push(describe(p, topo));
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
    let primary = probe_of(&primary_m.pod).and_then(|p| p.server.clone());
    if primary.as_ref().is_some_and(|p| p.in_recovery) {
        plan.refuse(format!(
            "{} is a standby (pg_is_in_recovery() = true): it cannot be the primary; pass --primary ORDINAL of the real primary",
            primary_m.pod
        ));
        return plan;
    }
    let replicas: Vec<_> = topo
        .members
        .iter()
        .filter(|m| m.ordinal != topo.primary)
        .cloned()
        .collect();
    let n = replicas.len() as i64;
    let role = topo.replication_user.clone();

    wal_step(&mut plan, &primary_m, primary.as_ref(), n);
    primary_setup_steps(&mut plan, &primary_m, primary.as_ref(), &replicas, &role);
    reseed_steps(
        &mut plan,
        topo,
        &primary_m,
        primary.as_ref(),
        &replicas,
        probe_of,
    );
    plan
}

/// `wal-settings`: blocked, with the `ALTER SYSTEM` fix, when the primary needs a restart.
fn wal_step(plan: &mut Plan, primary_m: &Member, primary: Option<&ServerProbe>, n: i64) {
    let wal = plan.step(
        "wal-settings".into(),
        &primary_m.pod,
        Action::CheckWalSettings,
        format!("check wal_level ≥ replica, max_wal_senders ≥ {n}, max_replication_slots ≥ {n}"),
    );
    if let Some(p) = primary {
        let mut fixes = Vec::new();
        if !(p.wal_level == "replica" || p.wal_level == "logical") {
            fixes.push("wal_level = replica".to_string());
        }
        if p.max_wal_senders < n {
            fixes.push(format!("max_wal_senders = {}", n + 2));
        }
        if p.max_replication_slots < n {
            fixes.push(format!("max_replication_slots = {}", n + 2));
        }
        if fixes.is_empty() {
            wal.done(format!(
                "wal_level {}, max_wal_senders {}, max_replication_slots {}",
                p.wal_level, p.max_wal_senders, p.max_replication_slots
            ));
        } else {
            let stmts: Vec<String> = fixes
                .iter()
                .map(|f| format!("ALTER SYSTEM SET {f};"))
                .collect();
            wal.block(format!(
                "needs a restart of the primary: run {} on {}, restart it (delete the pod), then run again",
                stmts.join(" "),
                primary_m.pod
            ));
        }
    }
}

/// On the primary: the replication role, its `pg_hba` rule, one slot per replica.
fn primary_setup_steps(
    plan: &mut Plan,
    primary_m: &Member,
    primary: Option<&ServerProbe>,
    replicas: &[Member],
    role: &str,
) {
    let r = plan.step(
        "replication-role".into(),
        &primary_m.pod,
        Action::CreateReplicationRole {
            role: role.to_string(),
        },
        format!("create role {role} WITH REPLICATION LOGIN (password from the replication Secret, sent on stdin)"),
    );
    if let Some(row) = primary.and_then(|p| p.role.as_ref()) {
        if row.replication && row.login {
            r.done(format!("role {role} exists with REPLICATION LOGIN"));
        } else {
            r.because(format!(
                "role {role} exists but lacks REPLICATION or LOGIN: ALTER ROLE"
            ));
        }
    }
    let h = plan.step(
        "pg-hba".into(),
        &primary_m.pod,
        Action::AddHbaRule {
            role: role.to_string(),
        },
        format!("allow `host replication {role} all scram-sha-256` in pg_hba.conf, then pg_reload_conf()"),
    );
    if primary.is_some_and(|p| p.hba_allows_replication(role)) {
        h.done("pg_hba already has a replication rule for it");
    }
    for m in replicas {
        let slot = slot_name(&m.pod);
        let s = plan.step(
            format!("slot/{}", m.pod),
            &primary_m.pod,
            Action::CreateSlot { slot: slot.clone() },
            format!("create physical replication slot {slot}"),
        );
        if primary.is_some_and(|p| p.slots.iter().any(|x| x.slot_name == slot)) {
            s.done("slot exists");
        }
    }
}

/// `reseed/<replica>` for each replica: done when it streams from this primary; blocked when the
/// data directory cannot be swapped or would not survive the restart.
fn reseed_steps<'a>(
    plan: &mut Plan,
    topo: &Topology,
    primary_m: &Member,
    primary: Option<&ServerProbe>,
    replicas: &[Member],
    probe_of: impl Fn(&str) -> Option<&'a PodProbe>,
) {
    let mount_is_data = topo.data_mount.is_some() && topo.data_mount == topo.data_dir;
    for m in replicas {
        let slot = slot_name(&m.pod);
        let step = plan.step(
            format!("reseed/{}", m.pod),
            &m.pod,
            Action::Reseed {
                replica: m.pod.clone(),
                slot: slot.clone(),
            },
            format!(
                "re-seed {} from {} with pg_basebackup (fresh directory, standby.signal, primary_conninfo with slot {slot}), then restart it",
                m.pod, primary_m.fqdn
            ),
        );
        let server = probe_of(&m.pod).and_then(|p| p.server.as_ref());
        if let (Some(s), Some(p)) = (server, primary) {
            if s.streams_from(p, &primary_m.fqdn, &slot) {
                step.done(format!(
                    "streaming from {} (system identifier {})",
                    primary_m.pod, p.system_identifier
                ));
                continue;
            }
            let why = if s.system_identifier != p.system_identifier {
                format!(
                    "system identifier {} differs from the primary's {}",
                    s.system_identifier, p.system_identifier
                )
            } else if !s.in_recovery {
                "not a standby".to_string()
            } else {
                "a standby but not streaming from this primary".to_string()
            };
            step.because(format!("{why}; its current data directory is kept aside as <PGDATA>.sts-bootstrap-old-<time>"));
        }
        if mount_is_data {
            step.block(format!(
                "the data directory {} is the volume's mount point itself, so it cannot be swapped for a fresh copy. Fix: set PGDATA to a subdirectory of the volume (e.g. {}/pgdata) in the StatefulSet — new pods then initialise there",
                topo.data_dir.as_deref().unwrap_or_default(),
                topo.data_dir.as_deref().unwrap_or_default()
            ));
        } else if topo.data_mount.is_none() {
            step.block(format!(
                "no volume is mounted at or above the data directory {}: a re-seeded copy would not survive the restart",
                topo.data_dir.as_deref().unwrap_or_default()
            ));
        }
    }
}

fn describe(p: &PodProbe, topo: &Topology) -> String {
    if let Some(e) = &p.error {
        return format!("{}: cannot query: {e}", p.pod);
    }
    let Some(s) = &p.server else {
        return format!("{}: no answer", p.pod);
    };
    let role = if s.in_recovery { "standby" } else { "primary" };
    let mut line = format!(
        "{}: {role}, PostgreSQL {}, system identifier {}",
        p.pod, s.server_version_num, s.system_identifier
    );
    if let Some(w) = &s.wal_receiver {
        line.push_str(&format!(
            ", WAL receiver {} from {}{}",
            w.status.as_deref().unwrap_or("?"),
            w.sender_host.as_deref().unwrap_or("?"),
            w.slot_name
                .as_deref()
                .map(|x| format!(" (slot {x})"))
                .unwrap_or_default()
        ));
    }
    if p.ordinal == topo.primary && !s.replication.is_empty() {
        let rs: Vec<String> = s
            .replication
            .iter()
            .map(|r| {
                format!(
                    "{} {}",
                    r.application_name.as_deref().unwrap_or("?"),
                    r.state.as_deref().unwrap_or("?")
                )
            })
            .collect();
        line.push_str(&format!(", replicas: {}", rs.join(", ")));
    }
    line
}

// ---------------------------------------------------------------------------------------------
// Observation, steps and verification (through exec)
// ---------------------------------------------------------------------------------------------

/// The engine-binary preflight check: a script that fails when one is missing, and what it
/// looks for.
pub const BINARY_CHECK: &str = "command -v psql && command -v pg_basebackup";
pub const BINARY_NAMES: &str = "psql and pg_basebackup";

/// Probe one server.
pub async fn probe<E: PodExec>(ctx: &Ctx<'_, E>, pod: &str, ordinal: u32) -> PodProbe {
    let (server, error) = ctx
        .probe(pod, probe_argv(ctx.topo), None, parse_probe)
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

fn password(inputs: &ApplyInputs) -> Result<&String> {
    inputs
        .replication_password
        .as_ref()
        .ok_or_else(|| Error::Failed("no replication password (Secret)".into()))
}

/// Step `replication-role`: the password goes on stdin.
pub(crate) async fn create_role<E: PodExec>(
    ctx: &Ctx<'_, E>,
    pod: &str,
    role: &str,
    inputs: &ApplyInputs,
) -> Result<Option<String>> {
    let pw = password(inputs)?;
    ctx.run_ok(
        pod,
        "create replication role",
        create_role_argv(role),
        Some(format!("{pw}\n").into_bytes()),
    )
    .await?;
    Ok(None)
}

/// Step `pg-hba`.
pub(crate) async fn add_hba_rule<E: PodExec>(
    ctx: &Ctx<'_, E>,
    pod: &str,
    role: &str,
) -> Result<Option<String>> {
    ctx.run_ok(pod, "pg_hba rule", add_hba_argv(role), None)
        .await?;
    Ok(None)
}

/// Step `slot/<replica>`.
pub(crate) async fn create_slot<E: PodExec>(
    ctx: &Ctx<'_, E>,
    pod: &str,
    slot: &str,
) -> Result<Option<String>> {
    ctx.run_ok(pod, "create slot", sql_argv(&create_slot_sql(slot)), None)
        .await?;
    Ok(None)
}

/// Step `reseed/<replica>`: re-seed, then wait until the replica streams from the primary.
pub(crate) async fn reseed<E: PodExec>(
    ctx: &Ctx<'_, E>,
    replica: &str,
    slot: &str,
    inputs: &ApplyInputs,
) -> Result<Option<String>> {
    let pw = password(inputs)?;
    let argv = reseed_argv(ctx.topo, replica, slot, &inputs.stamp);
    // Stopping the server ends the container (postgres is PID 1), which may cut this
    // exec session before its status arrives: a lost stream is not a failure here, a
    // non-zero exit is. Streaming from the primary decides.
    let moved = match ctx
        .run(replica, argv, Some(format!("{pw}\n").into_bytes()))
        .await
    {
        Ok(out) if out.success() => out
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix(MARK))
            .unwrap_or("reseeded")
            .to_string(),
        Ok(out) => {
            return Err(Error::Failed(format!(
                "re-seed on {replica} failed (exit {}): {}",
                out.code,
                out.brief()
            )));
        }
        Err(e) => format!("reseeded (the exec session ended with the server: {e})"),
    };
    let primary_pod = ctx.primary_pod();
    let fqdn = ctx
        .topo
        .member(ctx.topo.primary)
        .map(|m| m.fqdn.clone())
        .unwrap_or_default();
    let ordinal = ctx
        .topo
        .members
        .iter()
        .find(|m| m.pod == replica)
        .map(|m| m.ordinal)
        .unwrap_or(0);
    poll(
        ctx,
        &format!("{replica} to stream from {primary_pod}"),
        async || {
            let p = probe(ctx, &primary_pod, ctx.topo.primary).await.server?;
            let r = probe(ctx, replica, ordinal).await.server?;
            r.streams_from(&p, &fqdn, slot).then_some(())
        },
    )
    .await?;
    Ok(Some(moved))
}

/// After convergence: a row written on the primary is read on each replica, and every replica
/// is `streaming` in the primary's pg_stat_replication.
pub(crate) async fn verify<E: PodExec>(
    ctx: &Ctx<'_, E>,
    inputs: &ApplyInputs,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let primary = ctx.primary_pod();
    let tok = &inputs.verify_token;
    if !tok.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(Error::Other("bad verification token".into()));
    }
    let sql = format!(
        "CREATE TABLE IF NOT EXISTS public.sts_bootstrap_check (token text PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT now()); INSERT INTO public.sts_bootstrap_check (token) VALUES ('{tok}') ON CONFLICT DO NOTHING"
    );
    ctx.run_ok(&primary, "write verification row", sql_argv(&sql), None)
        .await?;
    for m in ctx
        .topo
        .members
        .iter()
        .filter(|m| m.ordinal != ctx.topo.primary)
    {
        let q = format!("SELECT count(*) FROM public.sts_bootstrap_check WHERE token = '{tok}'");
        poll(
            ctx,
            &format!("the verification row to reach {}", m.pod),
            async || {
                ctx.run(&m.pod, sql_argv(&q), None)
                    .await
                    .ok()
                    .filter(|o| o.success() && o.stdout.trim() == "1")
                    .map(|_| ())
            },
        )
        .await?;
        out.push(format!("{}: row written on {primary} is readable", m.pod));
    }
    let p = probe(ctx, &primary, ctx.topo.primary).await;
    let server = p
        .server
        .ok_or_else(|| Error::Failed(format!("verification: cannot query {primary}")))?;
    for m in ctx
        .topo
        .members
        .iter()
        .filter(|m| m.ordinal != ctx.topo.primary)
    {
        let st = server
            .replication
            .iter()
            .find(|r| r.application_name.as_deref() == Some(m.pod.as_str()))
            .and_then(|r| r.state.clone());
        if st.as_deref() != Some("streaming") {
            return Err(Error::Failed(format!(
                "verification: pg_stat_replication on {primary} shows {} as {}",
                m.pod,
                st.as_deref().unwrap_or("absent")
            )));
        }
        out.push(format!("{}: streaming in pg_stat_replication", m.pod));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------------------------

/// Status rows: the primary's `pg_stat_replication` joined with each replica's receiver.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRow {
    pub pod: String,
    pub role: String,
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay_lsn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_identifier: Option<String>,
}

pub fn status_rows(topo: &Topology, probes: &[PodProbe]) -> Vec<StatusRow> {
    let primary = probes
        .iter()
        .find(|p| p.ordinal == topo.primary)
        .and_then(|p| p.server.as_ref());
    probes
        .iter()
        .map(|p| {
            let Some(s) = &p.server else {
                return StatusRow {
                    pod: p.pod.clone(),
                    role: "unknown".into(),
                    state: p.error.clone().unwrap_or_else(|| "no answer".into()),
                    lag_seconds: None,
                    replay_lsn: None,
                    system_identifier: None,
                };
            };
            if !s.in_recovery {
                return StatusRow {
                    pod: p.pod.clone(),
                    role: if p.ordinal == topo.primary {
                        "primary"
                    } else {
                        "standalone"
                    }
                    .into(),
                    state: "accepting writes".into(),
                    lag_seconds: None,
                    replay_lsn: None,
                    system_identifier: Some(s.system_identifier.clone()),
                };
            }
            let row = primary.and_then(|pr| {
                pr.replication
                    .iter()
                    .find(|r| r.application_name.as_deref() == Some(p.pod.as_str()))
            });
            StatusRow {
                pod: p.pod.clone(),
                role: "standby".into(),
                state: row
                    .and_then(|r| r.state.clone())
                    .or_else(|| s.wal_receiver.as_ref().and_then(|w| w.status.clone()))
                    .unwrap_or_else(|| "not streaming".into()),
                lag_seconds: row.and_then(|r| r.replay_lag_seconds),
                replay_lsn: row.and_then(|r| r.replay_lsn.clone()),
                system_identifier: Some(s.system_identifier.clone()),
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
