//! The shell and SQL run in the pods. Every script starts with [`preamble`]: the client
//! (`mariadb`, else `mysql`), the root password from the container's own environment (or, with
//! `--password-secret`, the first line of stdin) into `MYSQL_PWD` (which the client reads; never
//! on argv), and `q` to run SQL on the local server. The replication password, when a step
//! needs it, is the next line of stdin, quoted inside the pod and piped to the client as SQL.

use super::parse::Dialect;
use crate::topology::Topology;
use stateful_core::exec::{sh, shell_quote};

pub const MARK: &str = "@@STS@@";

/// Schemas that are the server's own, not data.
pub const SYSTEM_SCHEMAS: &str = "'mysql','information_schema','performance_schema','sys'";

/// The variables the planner reads (those a server does not have are simply absent).
pub const VARS_SQL: &str = "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('version','version_comment','server_id','log_bin','read_only','gtid_mode','enforce_gtid_consistency','gtid_strict_mode','gtid_binlog_state','gtid_binlog_pos','gtid_slave_pos','gtid_current_pos','gtid_executed','server_uuid')";

/// User tables per schema (system schemas excluded).
pub const TABLES_SQL: &str = "SELECT table_schema, COUNT(*) FROM information_schema.tables WHERE table_schema NOT IN ('mysql','information_schema','performance_schema','sys') GROUP BY table_schema ORDER BY table_schema";

/// The replication user's rows and the privileges seeding and replication need.
pub fn user_sql(user: &str) -> String {
    format!(
        "SELECT Host, Repl_slave_priv, Repl_client_priv, Select_priv, Reload_priv, Lock_tables_priv, Show_view_priv, Event_priv, Trigger_priv FROM mysql.user WHERE User = '{user}' ORDER BY Host"
    )
}

/// The common start of every script. The root password: the first line of stdin when it comes
/// from `--password-secret`, else the container's own environment. `q` runs the client against
/// the local server as root (`-N`: no column names; add `-E` for vertical output with names).
pub fn preamble(topo: &Topology) -> String {
    let port = topo.port;
    let source = if topo.server_password.is_some() {
        "IFS= read -r P || { echo 'no root password on stdin' >&2; exit 3; }"
    } else {
        r#"P="${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}"
F="${MARIADB_ROOT_PASSWORD_FILE:-${MYSQL_ROOT_PASSWORD_FILE:-}}"
if [ -z "$P" ] && [ -n "$F" ] && [ -r "$F" ]; then P=$(cat "$F"); fi"#
    };
    format!(
        r#"CLI=$(command -v mariadb || command -v mysql) || {{ echo 'mariadb (or mysql) client not found in the container' >&2; exit 127; }}
{source}
if [ -n "$P" ]; then export MYSQL_PWD="$P"; fi
q() {{ "$CLI" -u "${{MARIADB_ROOT_USER:-root}}" -P {port} --connect-timeout=10 --batch "$@"; }}
"#
    )
}

/// Probe: the server's variables, the replication user, user tables, the replica status and
/// the binary log status, each after a marker line.
pub fn probe_argv(topo: &Topology) -> Vec<String> {
    sh(format!(
        r#"{pre}set -e
printf '%sVARS\n' {MARK}; q -N -e {vars}
printf '%sUSER\n' {MARK}; q -N -e {user}
printf '%sTABLES\n' {MARK}; q -N -e {tables}
printf '%sREPLICA\n' {MARK}; q -E -e 'SHOW REPLICA STATUS' 2>/dev/null || q -E -e 'SHOW SLAVE STATUS'
printf '%sBINLOG\n' {MARK}; q -N -e 'SHOW MASTER STATUS' 2>/dev/null || q -N -e 'SHOW BINARY LOG STATUS' 2>/dev/null || true
printf '%sEND\n' {MARK}"#,
        pre = preamble(topo),
        vars = shell_quote(VARS_SQL),
        user = shell_quote(&user_sql(&topo.replication_user)),
        tables = shell_quote(TABLES_SQL),
    ))
}

/// Run SQL (no secrets) on the local server; rows tab-separated, no column names.
pub fn sql_argv(topo: &Topology, sql: &str) -> Vec<String> {
    sh(format!("{}q -N -e {}", preamble(topo), shell_quote(sql)))
}

/// Shell: read the next line of stdin into `$RP` and its SQL-quoted form into `$RQ`.
const READ_PASSWORD: &str = r#"IFS= read -r RP || { echo 'no replication password on stdin' >&2; exit 3; }
RQ=$(printf '%s' "$RP" | sed -e 's/\\/\\\\/g' -e "s/'/''/g")
"#;

/// The privileges of the replication user: replication, and what `mariadb-dump` needs to seed
/// a replica with a consistent snapshot (it can read every row through the binary log anyway).
pub const GRANTS: &str =
    "REPLICATION SLAVE, REPLICATION CLIENT, SELECT, RELOAD, LOCK TABLES, SHOW VIEW, EVENT, TRIGGER";

/// Create the replication user (or set its password) and grant it [`GRANTS`]; not written to
/// the binary log (a primary-local account). The password is the first line of stdin.
pub fn create_user_argv(topo: &Topology) -> Vec<String> {
    let u = &topo.replication_user;
    sh(format!(
        r#"{pre}{READ_PASSWORD}printf "SET SESSION sql_log_bin = 0; CREATE USER IF NOT EXISTS '{u}'@'%%' IDENTIFIED BY '%s'; ALTER USER '{u}'@'%%' IDENTIFIED BY '%s'; GRANT {GRANTS} ON *.* TO '{u}'@'%%';\n" "$RQ" "$RQ" | q"#,
        pre = preamble(topo)
    ))
}

/// Grant [`GRANTS`] to an existing replication user (no password involved).
pub fn grant_sql(user: &str) -> String {
    format!("SET SESSION sql_log_bin = 0; GRANT {GRANTS} ON *.* TO '{user}'@'%'")
}

/// Seed an empty replica: a consistent dump of every non-system schema, taken from the primary
/// as the replication user (`--single-transaction --master-data=1 --gtid`: the dump ends by
/// setting `gtid_slave_pos` to the snapshot's position), piped into the local server with
/// binary logging off for the session, so the replica gets no GTIDs of its own; then the
/// replica is pointed at the primary (not started), which marks it as seeded from it. The data
/// streams inside the pod; the password is the first line of stdin.
pub fn seed_argv(topo: &Topology, dialect: Dialect, host: &str) -> Vec<String> {
    let u = &topo.replication_user;
    let dump = match dialect {
        Dialect::MariaDb => format!(
            r#"DUMP=$(command -v mariadb-dump || command -v mysqldump) || {{ echo 'mariadb-dump not found in the container' >&2; exit 127; }}
ignore=""; for s in mysql sys performance_schema information_schema; do ignore="$ignore --ignore-database=$s"; done
dump() {{ MYSQL_PWD="$RP" "$DUMP" -h {h} -P {port} -u {u} --single-transaction --master-data=1 --gtid --all-databases $ignore --routines --events --triggers; }}"#,
            h = shell_quote(host),
            port = topo.port,
        ),
        Dialect::MySqlSource | Dialect::MySqlMaster => format!(
            r#"DUMP=$(command -v mysqldump) || {{ echo 'mysqldump not found in the container' >&2; exit 127; }}
dump() {{ DBS=$(MYSQL_PWD="$RP" "$CLI" -h {h} -P {port} -u {u} -N --batch -e "SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT IN ({SYSTEM_SCHEMAS})" | tr '\n' ' ')
  if [ -z "$DBS" ]; then MYSQL_PWD="$RP" "$CLI" -h {h} -P {port} -u {u} -N --batch -e "SELECT CONCAT('SET @@GLOBAL.GTID_PURGED=''', @@GLOBAL.gtid_executed, ''';')"; return; fi
  MYSQL_PWD="$RP" "$DUMP" -h {h} -P {port} -u {u} --single-transaction --set-gtid-purged=ON --routines --events --triggers --databases $DBS; }}
q -e 'RESET MASTER' 2>/dev/null || q -e 'RESET BINARY LOGS AND GTIDS'"#,
            h = shell_quote(host),
            port = topo.port,
        ),
    };
    sh(format!(
        r#"{pre}{READ_PASSWORD}set -e
{dump}
{{ echo 'SET SESSION sql_log_bin = 0;'; dump; }} | q
printf "{change}\n" "$RQ" | q
printf '%sseeded\n' {MARK}"#,
        pre = preamble(topo),
        change = change_sql(topo, dialect, host),
    ))
}

/// The statement pointing a replica at the primary by GTID, in the server's dialect; `%s`
/// stands for the SQL-quoted password (a `printf` format).
fn change_sql(topo: &Topology, dialect: Dialect, host: &str) -> String {
    let (u, port) = (&topo.replication_user, topo.port);
    let h = host.replace('\'', "");
    match dialect {
        Dialect::MariaDb => format!(
            "CHANGE MASTER TO MASTER_HOST = '{h}', MASTER_PORT = {port}, MASTER_USER = '{u}', MASTER_PASSWORD = '%s', MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 10;"
        ),
        Dialect::MySqlSource => format!(
            "CHANGE REPLICATION SOURCE TO SOURCE_HOST = '{h}', SOURCE_PORT = {port}, SOURCE_USER = '{u}', SOURCE_PASSWORD = '%s', SOURCE_AUTO_POSITION = 1, GET_SOURCE_PUBLIC_KEY = 1, SOURCE_CONNECT_RETRY = 10;"
        ),
        Dialect::MySqlMaster => format!(
            "CHANGE MASTER TO MASTER_HOST = '{h}', MASTER_PORT = {port}, MASTER_USER = '{u}', MASTER_PASSWORD = '%s', MASTER_AUTO_POSITION = 1, MASTER_CONNECT_RETRY = 10;"
        ),
    }
}

/// Point the replica at the primary with GTID auto-positioning, in the server's dialect, and
/// start it. The password is the first line of stdin.
pub fn replicate_argv(topo: &Topology, dialect: Dialect, host: &str) -> Vec<String> {
    let (stop, start) = match dialect {
        Dialect::MySqlSource => ("STOP REPLICA;", "START REPLICA;"),
        Dialect::MariaDb | Dialect::MySqlMaster => ("STOP SLAVE;", "START SLAVE;"),
    };
    let sql = format!("{stop} {} {start}", change_sql(topo, dialect, host));
    sh(format!(
        r#"{pre}{READ_PASSWORD}printf "{sql}\n" "$RQ" | q"#,
        pre = preamble(topo)
    ))
}

/// `read_only = ON` (MySQL 8: also persisted with `SET PERSIST`).
pub fn read_only_sql(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::MySqlSource => "SET PERSIST read_only = ON",
        Dialect::MariaDb | Dialect::MySqlMaster => "SET GLOBAL read_only = ON",
    }
}
