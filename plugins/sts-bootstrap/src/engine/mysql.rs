//! MariaDB / MySQL, in parts: `script` (the shell and SQL run through exec), `parse` (the
//! probe's sections, the dialect, GTID sets), `planner` (pure) and `live` (observe, the steps,
//! verify, `status` rows). Their public items are re-exported here.
//!
//! Ordinal 0 (or `--primary`) is the primary. On it: binary logging and a distinct `server_id`
//! on every pod are checked (both need a restart: blocked with the fix), and a replication user
//! is created idempotently, its password from the replication Secret on stdin. Each replica:
//! skipped when it replicates from this primary with both threads running; seeded when empty
//! (a consistent `mariadb-dump --single-transaction --master-data=1 --gtid` of the primary,
//! streamed inside the replica's pod into its server); then GTID replication in the server's
//! dialect (MariaDB `CHANGE MASTER TO … MASTER_USE_GTID = slave_pos`, MySQL ≥ 8.0.23 `CHANGE
//! REPLICATION SOURCE TO … SOURCE_AUTO_POSITION = 1`, chosen from `VERSION()`), `read_only = ON`
//! and a wait for both threads. Refused: a replica with data of its own, a diverged GTID set,
//! a replica of another server. Root credentials come from the container's own environment
//! (`MARIADB_ROOT_PASSWORD`, `MYSQL_ROOT_PASSWORD` or their `_FILE` forms) into `MYSQL_PWD`
//! inside the pod.

mod live;
mod parse;
mod planner;
mod script;

pub use live::{BINARY_CHECK, BINARY_NAMES, StatusRow, observe, status_rows};
pub(crate) use live::{create_user, grant_user, seed, set_read_only, start_replication, verify};
pub use parse::*;
pub use planner::plan;
pub use script::*;

use serde::Serialize;

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

/// One line per pod for the plan's "observed".
pub(crate) fn describe(p: &PodProbe) -> String {
    if let Some(e) = &p.error {
        return format!("{}: cannot query: {e}", p.pod);
    }
    let Some(s) = &p.server else {
        return format!("{}: no answer", p.pod);
    };
    let mut line = format!(
        "{}: {}, server_id {}, log_bin {}, read_only {}, GTID {}",
        p.pod,
        s.version,
        s.server_id,
        if s.log_bin { "ON" } else { "OFF" },
        if s.read_only { "ON" } else { "OFF" },
        if s.gtid_position.is_empty() {
            "(none)"
        } else {
            &s.gtid_position
        }
    );
    if let Some(r) = s.replica.as_ref().filter(|r| !r.source_host.is_empty()) {
        line.push_str(&format!(
            ", replica of {}:{} (IO {}, SQL {})",
            r.source_host,
            r.source_port.unwrap_or(0),
            r.io_running,
            r.sql_running
        ));
    }
    if s.table_count() > 0 {
        line.push_str(&format!(", data: {}", s.tables_text()));
    }
    line
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
