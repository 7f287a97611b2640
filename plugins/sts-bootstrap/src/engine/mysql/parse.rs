//! Parsers of what the probe prints: `SHOW GLOBAL VARIABLES` rows, the replication user's
//! privileges, user tables, `SHOW REPLICA STATUS` / `SHOW SLAVE STATUS` in vertical form, the
//! binary log status; the dialect from the version string; GTID sets of both servers.

use std::collections::BTreeMap;

use serde::Serialize;

use super::script::MARK;

/// Which replication statements a server speaks, from its `VERSION()` string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Dialect {
    /// `CHANGE MASTER TO … MASTER_USE_GTID = slave_pos`, `START SLAVE`.
    MariaDb,
    /// MySQL ≥ 8.0.23: `CHANGE REPLICATION SOURCE TO … SOURCE_AUTO_POSITION = 1`, `START REPLICA`.
    MySqlSource,
    /// MySQL 5.6 – 8.0.22: `CHANGE MASTER TO … MASTER_AUTO_POSITION = 1`, `START SLAVE`.
    MySqlMaster,
}

/// The dialect of a `VERSION()` string: `10.11.6-MariaDB-0+deb12u1-log`,
/// `5.5.5-10.6.12-MariaDB` (the old replication-compatible prefix), `8.0.36`, `8.4.0`,
/// `5.7.44-log`, `8.0.35-27` (Percona).
pub fn dialect_of(version: &str) -> Result<Dialect, String> {
    let v = version.trim();
    if v.to_ascii_lowercase().contains("mariadb") {
        return Ok(Dialect::MariaDb);
    }
    let nums: Vec<u32> = v
        .split(|c: char| !c.is_ascii_digit() && c != '.')
        .next()
        .unwrap_or("")
        .split('.')
        .map(|n| n.parse::<u32>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("cannot read the server version {v:?}"))?;
    let [major, minor, patch] = nums[..] else {
        return Err(format!("cannot read the server version {v:?}"));
    };
    match (major, minor, patch) {
        (m, ..) if m >= 9 => Ok(Dialect::MySqlSource),
        (8, mi, _) if mi >= 1 => Ok(Dialect::MySqlSource),
        (8, 0, p) if p >= 23 => Ok(Dialect::MySqlSource),
        (8, ..) => Ok(Dialect::MySqlMaster),
        (5, mi, _) if mi >= 6 => Ok(Dialect::MySqlMaster),
        _ => Err(format!(
            "MySQL {v} has no GTID auto-positioning (needs 5.6 or later)"
        )),
    }
}

/// A GTID set: MariaDB's `domain-server-seq` list, or MySQL's `uuid:interval[:interval]` list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GtidSet {
    /// MariaDB: (domain, server_id) → last sequence number.
    pub mariadb: BTreeMap<(u32, u32), u64>,
    /// MySQL: source uuid → transaction intervals (inclusive).
    pub mysql: BTreeMap<String, Vec<(u64, u64)>>,
}

impl GtidSet {
    /// Parse either form (the batch client prints newlines as `\n`).
    pub fn parse(s: &str) -> Result<GtidSet, String> {
        let mut set = GtidSet::default();
        let cleaned = s.replace("\\n", "").replace(char::is_whitespace, "");
        for item in cleaned.split(',').filter(|i| !i.is_empty()) {
            let bad = || format!("unreadable GTID {item:?}");
            if let Some((uuid, rest)) = item.split_once(':') {
                let ivs = set.mysql.entry(uuid.to_ascii_lowercase()).or_default();
                for iv in rest.split(':') {
                    let (a, b) = iv.split_once('-').unwrap_or((iv, iv));
                    let a: u64 = a.parse().map_err(|_| bad())?;
                    let b: u64 = b.parse().map_err(|_| bad())?;
                    ivs.push((a.min(b), a.max(b)));
                }
            } else {
                let p: Vec<&str> = item.split('-').collect();
                let [d, s, n] = p[..] else {
                    return Err(bad());
                };
                let key = (d.parse().map_err(|_| bad())?, s.parse().map_err(|_| bad())?);
                let n: u64 = n.parse().map_err(|_| bad())?;
                let e = set.mariadb.entry(key).or_insert(n);
                *e = (*e).max(n);
            }
        }
        Ok(set)
    }

    pub fn is_empty(&self) -> bool {
        self.mariadb.is_empty() && self.mysql.values().all(Vec::is_empty)
    }

    /// Merge another set into this one.
    pub fn union(&mut self, other: &GtidSet) {
        for (k, n) in &other.mariadb {
            let e = self.mariadb.entry(*k).or_insert(*n);
            *e = (*e).max(*n);
        }
        for (u, ivs) in &other.mysql {
            self.mysql.entry(u.clone()).or_default().extend(ivs);
        }
    }

    /// The parts of `self` that `history` does not hold: MariaDB — a (domain, server) whose
    /// sequence is past the history's for the same (domain, server), or absent from it; MySQL —
    /// transactions outside the history's intervals. Empty: `self` is contained in `history`.
    pub fn missing_from(&self, history: &GtidSet) -> Vec<String> {
        let mut out = Vec::new();
        for ((d, s), n) in &self.mariadb {
            match history.mariadb.get(&(*d, *s)) {
                Some(h) if h >= n => {}
                _ => out.push(format!("{d}-{s}-{n}")),
            }
        }
        for (u, ivs) in &self.mysql {
            let hist = history.mysql.get(u).map(Vec::as_slice).unwrap_or_default();
            for &(a, b) in ivs {
                if !covered(a, b, hist) {
                    out.push(format!("{u}:{a}-{b}"));
                }
            }
        }
        out
    }
}

/// Is `a..=b` inside the union of `ivs`?
fn covered(a: u64, b: u64, ivs: &[(u64, u64)]) -> bool {
    let mut sorted = ivs.to_vec();
    sorted.sort_unstable();
    let mut next = a;
    for (x, y) in sorted {
        if x > next {
            break;
        }
        if y >= next {
            if y >= b {
                return true;
            }
            next = y + 1;
        }
    }
    false
}

/// A row of `mysql.user` for the replication user.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRow {
    pub host: String,
    /// Every privilege of [`super::script::GRANTS`] is held.
    pub has_grants: bool,
}

/// `SHOW REPLICA STATUS` (either vocabulary: MariaDB and MySQL < 8.0.22 say Master/Slave,
/// MySQL ≥ 8.0.22 says Source/Replica).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaStatus {
    pub source_host: String,
    pub source_port: Option<u16>,
    pub source_user: String,
    /// `Yes`, `No` or `Connecting`.
    pub io_running: String,
    pub sql_running: String,
    /// `Seconds_Behind_Master`; None when NULL (not running).
    pub seconds_behind: Option<i64>,
    pub last_io_errno: i64,
    pub last_io_error: String,
    pub last_sql_errno: i64,
    pub last_sql_error: String,
    /// MariaDB `Using_Gtid` (`Slave_Pos`, `Current_Pos`, `No`); MySQL `Auto_Position` (`1`/`0`).
    pub gtid_mode: String,
    pub source_server_id: Option<u32>,
}

impl ReplicaStatus {
    pub fn running(&self) -> bool {
        self.io_running == "Yes" && self.sql_running == "Yes"
    }

    pub fn uses_gtid(&self) -> bool {
        !matches!(self.gtid_mode.as_str(), "" | "No" | "0")
    }

    /// The last error, IO first.
    pub fn last_error(&self) -> Option<String> {
        [
            (self.last_io_errno, &self.last_io_error, "IO"),
            (self.last_sql_errno, &self.last_sql_error, "SQL"),
        ]
        .into_iter()
        .find(|(n, e, _)| *n != 0 || !e.is_empty())
        .map(|(n, e, t)| format!("{t} error {n}: {e}"))
    }

    pub fn replicates_from(&self, host: &str, port: u16) -> bool {
        self.source_host.eq_ignore_ascii_case(host) && self.source_port == Some(port)
    }
}

/// What one server said about itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerProbe {
    pub version: String,
    pub dialect: Dialect,
    pub server_id: u32,
    pub log_bin: bool,
    pub read_only: bool,
    /// MySQL `gtid_mode` / `enforce_gtid_consistency` (absent on MariaDB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gtid_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforce_gtid_consistency: Option<String>,
    /// MariaDB `gtid_current_pos` or MySQL `gtid_executed`, as the server printed it.
    pub gtid_position: String,
    /// MariaDB `gtid_slave_pos` (what this server applied as a replica).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub gtid_slave_pos: String,
    /// Every transaction this server holds: MariaDB `gtid_binlog_state` ∪ `gtid_slave_pos`,
    /// MySQL `gtid_executed`.
    #[serde(skip)]
    pub gtids: GtidSet,
    /// The replication user's rows (empty: it does not exist).
    pub users: Vec<UserRow>,
    /// Schema → number of user tables.
    pub tables: BTreeMap<String, i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica: Option<ReplicaStatus>,
    /// `file:position` of the binary log (SHOW MASTER STATUS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binlog: Option<String>,
}

impl ServerProbe {
    pub fn table_count(&self) -> i64 {
        self.tables.values().sum()
    }

    /// `app (3 tables), shop (1 table)`
    pub fn tables_text(&self) -> String {
        self.tables
            .iter()
            .map(|(s, n)| format!("{s} ({n} table{})", if *n == 1 { "" } else { "s" }))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn is_mariadb(&self) -> bool {
        self.dialect == Dialect::MariaDb
    }
}

/// The sections of the probe's output, by marker name.
fn sections(stdout: &str) -> BTreeMap<&str, Vec<&str>> {
    let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut cur: Option<&str> = None;
    for line in stdout.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(name) = line.strip_prefix(MARK) {
            cur = Some(name.trim());
            out.entry(name.trim()).or_default();
        } else if let Some(c) = cur {
            out.entry(c).or_default().push(line);
        }
    }
    out
}

/// The batch client's escapes (`\t`, `\n`, `\\`) undone, control characters shown escaped.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push(' '),
                Some('t') => out.push(' '),
                Some('0') => {}
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    clean(&out)
}

/// Control characters escaped, so a server's text cannot drive a terminal.
pub fn clean(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// `Key: value` lines of a vertical (`\G` / `-E`) result, first row only.
pub fn parse_vertical(lines: &[&str]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rows = 0;
    for l in lines {
        if l.starts_with("****") {
            rows += 1;
            if rows > 1 {
                break;
            }
            continue;
        }
        if let Some((k, v)) = l.split_once(':') {
            out.entry(k.trim().to_string())
                .or_insert_with(|| unescape(v.strip_prefix(' ').unwrap_or(v)));
        }
    }
    out
}

/// `SHOW REPLICA STATUS` in vertical form (None: not a replica).
pub fn parse_replica_status(lines: &[&str]) -> Result<Option<ReplicaStatus>, String> {
    let f = parse_vertical(lines);
    if f.is_empty() {
        return Ok(None);
    }
    let get = |a: &str, b: &str| f.get(a).or_else(|| f.get(b)).cloned();
    let num = |a: &str, b: &str| get(a, b).and_then(|v| v.trim().parse::<i64>().ok());
    let io_running = get("Slave_IO_Running", "Replica_IO_Running")
        .ok_or_else(|| "SHOW REPLICA STATUS without Slave_IO_Running".to_string())?;
    Ok(Some(ReplicaStatus {
        source_host: get("Master_Host", "Source_Host").unwrap_or_default(),
        source_port: num("Master_Port", "Source_Port").and_then(|p| u16::try_from(p).ok()),
        source_user: get("Master_User", "Source_User").unwrap_or_default(),
        io_running,
        sql_running: get("Slave_SQL_Running", "Replica_SQL_Running").unwrap_or_default(),
        seconds_behind: num("Seconds_Behind_Master", "Seconds_Behind_Source"),
        last_io_errno: num("Last_IO_Errno", "Last_IO_Errno").unwrap_or(0),
        last_io_error: get("Last_IO_Error", "Last_IO_Error").unwrap_or_default(),
        last_sql_errno: num("Last_SQL_Errno", "Last_SQL_Errno").unwrap_or(0),
        last_sql_error: get("Last_SQL_Error", "Last_SQL_Error").unwrap_or_default(),
        gtid_mode: get("Using_Gtid", "Auto_Position").unwrap_or_default(),
        source_server_id: num("Master_Server_Id", "Source_Server_Id")
            .and_then(|n| u32::try_from(n).ok()),
    }))
}

/// Tab-separated rows (`-N --batch`).
fn rows<'a>(lines: &[&'a str]) -> Vec<Vec<&'a str>> {
    lines
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').collect())
        .collect()
}

/// Parse the probe's stdout.
pub fn parse_probe(stdout: &str) -> Result<ServerProbe, String> {
    let s = sections(stdout);
    if !s.contains_key("END") {
        return Err(format!(
            "incomplete probe output: {:?}",
            stdout.trim().chars().take(300).collect::<String>()
        ));
    }
    let none = Vec::new();
    let vars: BTreeMap<String, String> = rows(s.get("VARS").unwrap_or(&none))
        .into_iter()
        .filter_map(|r| Some((r.first()?.to_string(), unescape(r.get(1).unwrap_or(&"")))))
        .collect();
    let var = |k: &str| vars.get(k).cloned().unwrap_or_default();
    let version = var("version");
    let dialect = dialect_of(&version)?;
    let on = |k: &str| matches!(var(k).as_str(), "ON" | "1");
    let server_id = var("server_id")
        .parse()
        .map_err(|_| format!("unreadable server_id {:?}", var("server_id")))?;
    let mut gtids = GtidSet::default();
    let gtid_position = if dialect == Dialect::MariaDb {
        for k in ["gtid_binlog_state", "gtid_slave_pos"] {
            gtids.union(&GtidSet::parse(&var(k))?);
        }
        var("gtid_current_pos")
    } else {
        gtids = GtidSet::parse(&var("gtid_executed"))?;
        var("gtid_executed")
    };
    let users = rows(s.get("USER").unwrap_or(&none))
        .into_iter()
        .map(|r| UserRow {
            host: r.first().map(|h| unescape(h)).unwrap_or_default(),
            has_grants: r.len() > 1 && r[1..].iter().all(|p| *p == "Y"),
        })
        .collect();
    let tables = rows(s.get("TABLES").unwrap_or(&none))
        .into_iter()
        .filter_map(|r| Some((unescape(r.first()?), r.get(1)?.parse().ok()?)))
        .collect();
    let replica = parse_replica_status(s.get("REPLICA").unwrap_or(&none))?;
    let binlog = rows(s.get("BINLOG").unwrap_or(&none))
        .first()
        .filter(|r| r.len() >= 2)
        .map(|r| format!("{}:{}", unescape(r[0]), r[1]));
    Ok(ServerProbe {
        version: clean(&version),
        dialect,
        server_id,
        log_bin: on("log_bin"),
        read_only: on("read_only"),
        gtid_mode: vars.get("gtid_mode").cloned(),
        enforce_gtid_consistency: vars.get("enforce_gtid_consistency").cloned(),
        gtid_position: clean(&gtid_position),
        gtid_slave_pos: clean(&var("gtid_slave_pos")),
        gtids,
        users,
        tables,
        replica,
        binlog,
    })
}
