//! Parsers and the planner on outputs recorded from the real Debian MariaDB 10.11 server
//! (`tests/scripts/capture-mariadb-fixtures.sh`); the MySQL dialect on version strings.

use super::*;
use crate::plan::{Action, Plan, StepStatus};
use crate::testutil::{fixture, topology};
use crate::topology::Topology;

/// A recorded probe, with the capture's loopback address and port replaced by the fixture
/// StatefulSet's primary FQDN and port (the recording replicated from 127.0.77.11:33061).
fn rec(name: &str) -> String {
    fixture(&format!("mysql/{name}"))
        .replace("127.0.77.11", "db-0.db.default.svc.cluster.local")
        .replace("33061", "3306")
}

fn server(name: &str) -> ServerProbe {
    parse_probe(&rec(name)).unwrap()
}

/// A recorded probe with its `server_id` replaced (recordings of distinct servers reused as
/// other pods).
fn with_id(name: &str, id: u32) -> ServerProbe {
    ServerProbe {
        server_id: id,
        ..server(name)
    }
}

fn topo() -> Topology {
    topology("mariadb.yaml", "db", None)
}

fn probes(servers: Vec<ServerProbe>) -> Vec<PodProbe> {
    servers
        .into_iter()
        .enumerate()
        .map(|(i, s)| PodProbe {
            pod: format!("db-{i}"),
            ordinal: i as u32,
            server: Some(s),
            error: None,
        })
        .collect()
}

fn planned(servers: Vec<ServerProbe>) -> Plan {
    let t = topo();
    plan(&t, Some(&probes(servers)), Plan::new(&t, "cluster"))
}

fn step<'a>(p: &'a Plan, id: &str) -> &'a crate::Step {
    p.steps
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no step {id}: {p:#?}"))
}

#[test]
fn the_fixture_statefulset_is_mariadb_on_3306() {
    let t = topo();
    assert_eq!(t.engine, crate::Engine::MySql);
    assert_eq!((t.container.as_str(), t.port), ("mariadb", 3306));
    assert_eq!(t.members[0].fqdn, "db-0.db.default.svc.cluster.local");
}

#[test]
fn dialect_from_recorded_and_documented_version_strings() {
    // Recorded from the Debian server.
    let v = fixture("mysql/select-version.txt");
    assert_eq!(v.trim(), "10.11.19-MariaDB-0+deb12u1-log");
    assert_eq!(dialect_of(&v), Ok(Dialect::MariaDb));
    assert_eq!(dialect_of("5.5.5-10.6.12-MariaDB"), Ok(Dialect::MariaDb));
    assert_eq!(dialect_of("11.4.2-MariaDB-ubu2404"), Ok(Dialect::MariaDb));
    // MySQL's VERSION() forms (no MySQL server in Debian: not recorded here).
    for (v, d) in [
        ("8.0.36", Dialect::MySqlSource),
        ("8.0.23", Dialect::MySqlSource),
        ("8.0.22", Dialect::MySqlMaster),
        ("8.0.4-rc", Dialect::MySqlMaster),
        ("8.4.3", Dialect::MySqlSource),
        ("9.1.0", Dialect::MySqlSource),
        ("8.0.39-0ubuntu0.22.04.1", Dialect::MySqlSource),
        ("8.0.35-27", Dialect::MySqlSource),
        ("5.7.44-log", Dialect::MySqlMaster),
    ] {
        assert_eq!(dialect_of(v), Ok(d), "{v}");
    }
    assert!(dialect_of("5.5.62").is_err());
    assert!(dialect_of("").is_err());
    assert!(dialect_of("garbage").is_err());
}

#[test]
fn replication_statements_follow_the_dialect() {
    let t = topo();
    let h = "db-0.db.default.svc.cluster.local";
    let maria = replicate_argv(&t, Dialect::MariaDb, h).join(" ");
    assert!(
        maria.contains(
            "CHANGE MASTER TO MASTER_HOST = 'db-0.db.default.svc.cluster.local', MASTER_PORT = 3306"
        ),
        "{maria}"
    );
    assert!(maria.contains("MASTER_USE_GTID = slave_pos") && maria.contains("START SLAVE"));
    let mysql8 = replicate_argv(&t, dialect_of("8.0.36").unwrap(), h).join(" ");
    assert!(
        mysql8.contains("CHANGE REPLICATION SOURCE TO SOURCE_HOST"),
        "{mysql8}"
    );
    assert!(mysql8.contains("SOURCE_AUTO_POSITION = 1") && mysql8.contains("START REPLICA"));
    assert!(!mysql8.contains("MASTER"));
    let old = replicate_argv(&t, dialect_of("8.0.22").unwrap(), h).join(" ");
    assert!(old.contains("MASTER_AUTO_POSITION = 1") && !old.contains("MASTER_USE_GTID"));
    assert_eq!(
        read_only_sql(Dialect::MySqlSource),
        "SET PERSIST read_only = ON"
    );
    assert!(
        seed_argv(&t, Dialect::MariaDb, h)
            .join(" ")
            .contains("--master-data=1 --gtid")
    );
}

#[test]
fn scripts_take_secrets_from_the_pod_or_stdin_only() {
    let t = topo();
    let h = "db-0";
    for argv in [
        probe_argv(&t),
        create_user_argv(&t),
        seed_argv(&t, Dialect::MariaDb, h),
        replicate_argv(&t, Dialect::MariaDb, h),
        sql_argv(&t, "SELECT 1"),
    ] {
        let s = argv.join(" ");
        assert!(
            s.contains("MARIADB_ROOT_PASSWORD") && s.contains("MYSQL_PWD"),
            "{s}"
        );
        assert!(!s.contains("-p\"") && !s.contains("--password"), "{s}");
    }
    for argv in [
        create_user_argv(&t),
        seed_argv(&t, Dialect::MariaDb, h),
        replicate_argv(&t, Dialect::MariaDb, h),
    ] {
        assert!(argv.join(" ").contains("IFS= read -r RP"));
    }
}

#[test]
fn the_capture_script_runs_the_engines_own_sql() {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/scripts/capture-mariadb-fixtures.sh");
    let script = std::fs::read_to_string(p).unwrap();
    for sql in [VARS_SQL, TABLES_SQL, &user_sql("replicator"), GRANTS] {
        assert!(script.contains(sql), "capture script lacks {sql}");
    }
    assert!(
        probe_argv(&topo())
            .join(" ")
            .contains("q -E -e 'SHOW REPLICA STATUS' 2>/dev/null || q -E -e 'SHOW SLAVE STATUS'")
    );
}

#[test]
fn parses_recorded_probes() {
    let p = server("probe-primary-with-user.txt");
    assert_eq!(p.dialect, Dialect::MariaDb);
    assert_eq!((p.server_id, p.log_bin, p.read_only), (1, true, false));
    assert_eq!(p.gtid_position, "0-1-4");
    assert_eq!(p.users.len(), 1);
    assert!(p.users[0].has_grants && p.users[0].host == "%");
    assert_eq!(p.tables_text(), "app (2 tables)");
    assert!(p.replica.is_none());
    assert_eq!(p.binlog.as_deref(), Some("bin.000001:942"));

    let f = server("probe-fresh.txt");
    assert!(f.users.is_empty() && f.tables.is_empty() && f.gtids.is_empty());
    assert_eq!(f.gtid_position, "");
    assert!(!server("probe-fresh-no-binlog.txt").log_bin);

    let r = server("probe-replica-running.txt");
    let rs = r.replica.as_ref().unwrap();
    assert!(rs.running() && rs.uses_gtid());
    assert!(rs.replicates_from("db-0.db.default.svc.cluster.local", 3306));
    assert_eq!(rs.source_user, "replicator");
    assert_eq!(rs.seconds_behind, Some(0));
    assert_eq!(rs.last_error(), None);
    assert_eq!(rs.source_server_id, Some(1));
    assert!(r.read_only);

    let io = server("probe-replica-io-error.txt").replica.unwrap();
    assert_eq!(
        (io.io_running.as_str(), io.sql_running.as_str()),
        ("Connecting", "Yes")
    );
    assert_eq!(io.seconds_behind, None);
    assert!(
        io.last_error()
            .unwrap()
            .starts_with("IO error 2003: error reconnecting to master")
    );

    let sq = server("probe-replica-sql-error.txt").replica.unwrap();
    assert_eq!(sq.sql_running, "No");
    assert_eq!(sq.last_sql_errno, 1062);
    assert!(sq.last_error().unwrap().contains("Duplicate entry '4'"));
}

#[test]
fn parses_raw_show_slave_status() {
    let raw = rec("show-slave-status.txt");
    let lines: Vec<&str> = raw.lines().collect();
    let r = parse_replica_status(&lines).unwrap().unwrap();
    assert!(r.running());
    assert_eq!(r.gtid_mode, "Slave_Pos");
    assert_eq!(r.source_port, Some(3306));
    assert_eq!(parse_replica_status(&[]).unwrap(), None);
}

#[test]
fn incomplete_or_foreign_output_is_an_error_not_a_guess() {
    assert!(parse_probe("").is_err());
    let cut = rec("probe-fresh.txt").replace("@@STS@@END", "");
    assert!(parse_probe(&cut).unwrap_err().contains("incomplete"));
    let bad = rec("probe-fresh.txt").replace("server_id\t2", "server_id\tx");
    assert!(parse_probe(&bad).unwrap_err().contains("server_id"));
}

#[test]
fn gtid_sets_of_both_servers() {
    // MariaDB, recorded: the diverged server holds 0-2-6, which the primary never had.
    let primary = server("probe-primary-with-replica.txt");
    let diverged = server("probe-diverged.txt");
    assert_eq!(diverged.gtids.missing_from(&primary.gtids), vec!["0-2-6"]);
    let replica = server("probe-replica-running.txt");
    assert!(replica.gtids.missing_from(&primary.gtids).is_empty());
    assert!(!replica.gtids.is_empty());
    // MySQL's form, as the batch client prints a multi-line gtid_executed.
    let p = GtidSet::parse(
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9,\\n4f22fb58-82db-22f2-af44-d91bb0530673:1-3",
    )
    .unwrap();
    let inside = GtidSet::parse("3E11FA47-71CA-11E1-9E33-C80AA9429562:2-4:8").unwrap();
    assert!(inside.missing_from(&p).is_empty());
    let outside = GtidSet::parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:5-7").unwrap();
    assert_eq!(
        outside.missing_from(&p),
        vec!["3e11fa47-71ca-11e1-9e33-c80aa9429562:5-7"]
    );
    assert!(GtidSet::parse("0-1").is_err() && GtidSet::parse("u:x").is_err());
}

#[test]
fn fresh_set_plans_user_seed_replication_and_read_only() {
    let plan = planned(vec![
        with_id("probe-fresh.txt", 1),
        with_id("probe-fresh.txt", 3),
        with_id("probe-fresh.txt", 4),
    ]);
    assert_eq!(plan.refused, None, "{plan:#?}");
    let ids: Vec<(&str, StepStatus)> = plan
        .steps
        .iter()
        .map(|s| (s.id.as_str(), s.status))
        .collect();
    assert_eq!(
        ids,
        vec![
            ("server-settings", StepStatus::Done),
            ("replication-user", StepStatus::Pending),
            ("seed/db-1", StepStatus::Pending),
            ("replicate/db-1", StepStatus::Pending),
            ("read-only/db-1", StepStatus::Pending),
            ("seed/db-2", StepStatus::Pending),
            ("replicate/db-2", StepStatus::Pending),
            ("read-only/db-2", StepStatus::Pending),
        ]
    );
    assert!(matches!(
        step(&plan, "replication-user").action,
        Action::CreateReplicationUser { .. }
    ));
}

#[test]
fn converged_set_is_all_done_and_a_new_replica_is_the_only_work() {
    let plan = planned(vec![
        server("probe-primary-with-replica.txt"),
        server("probe-replica-running.txt"),
        with_id("probe-fresh.txt", 3),
    ]);
    let pending: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| s.status != StepStatus::Done)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(
        pending,
        vec!["seed/db-2", "replicate/db-2", "read-only/db-2"]
    );
    assert!(plan.steps.iter().all(|s| s.status != StepStatus::Blocked));
}

#[test]
fn duplicate_server_ids_are_refused_with_the_fix() {
    let plan = planned(vec![
        server("probe-primary-with-user.txt"),
        server("probe-fresh.txt"),
        server("probe-fresh.txt"),
    ]);
    let s = step(&plan, "server-settings");
    assert_eq!(s.status, StepStatus::Blocked);
    let why = s.reason.as_deref().unwrap();
    assert!(why.contains("db-1, db-2 share server_id 2"), "{why}");
    assert!(
        why.contains("--server-id=$((100 + ${HOSTNAME##*-}))"),
        "{why}"
    );
}

#[test]
fn a_primary_without_binary_logging_is_refused() {
    let plan = planned(vec![
        with_id("probe-fresh-no-binlog.txt", 1),
        with_id("probe-fresh.txt", 2),
        with_id("probe-fresh.txt", 3),
    ]);
    let s = step(&plan, "server-settings");
    assert_eq!(s.status, StepStatus::Blocked);
    assert!(
        s.reason
            .as_deref()
            .unwrap()
            .contains("binary logging is off on db-0")
    );
}

#[test]
fn a_replica_with_data_of_its_own_is_refused() {
    let plan = planned(vec![
        server("probe-primary-with-user.txt"),
        with_id("probe-own-data-no-binlog.txt", 2),
        with_id("probe-fresh.txt", 3),
    ]);
    let s = step(&plan, "seed/db-1");
    assert_eq!(s.status, StepStatus::Blocked);
    assert!(
        s.reason
            .as_deref()
            .unwrap()
            .contains("data of its own (shop (1 table))"),
        "{s:?}"
    );
    assert_eq!(step(&plan, "seed/db-2").status, StepStatus::Pending);
}

#[test]
fn a_diverged_replica_is_refused() {
    let plan = planned(vec![
        server("probe-primary-with-replica.txt"),
        server("probe-diverged.txt"),
        with_id("probe-fresh.txt", 3),
    ]);
    let s = step(&plan, "seed/db-1");
    assert_eq!(s.status, StepStatus::Blocked);
    let why = s.reason.as_deref().unwrap();
    assert!(
        why.contains("diverged GTID set") && why.contains("0-2-6"),
        "{why}"
    );
}

#[test]
fn a_seeded_replica_not_yet_started_is_only_started() {
    // What a seed leaves: pointed at the primary, threads not started.
    let mut r = server("probe-replica-running.txt");
    let rs = r.replica.as_mut().unwrap();
    rs.io_running = "No".into();
    rs.sql_running = "No".into();
    rs.seconds_behind = None;
    r.read_only = false;
    let plan = planned(vec![
        server("probe-primary-with-replica.txt"),
        r,
        server("probe-replica-running.txt"),
    ]);
    assert_eq!(step(&plan, "seed/db-1").status, StepStatus::Done);
    let rep = step(&plan, "replicate/db-1");
    assert_eq!(rep.status, StepStatus::Pending);
    assert!(rep.reason.as_deref().unwrap().contains("IO No / SQL No"));
    assert_eq!(step(&plan, "read-only/db-1").status, StepStatus::Pending);
    let seed = seed_argv(
        &topo(),
        Dialect::MariaDb,
        "db-0.db.default.svc.cluster.local",
    )
    .join(" ");
    assert!(seed.contains("CHANGE MASTER TO MASTER_HOST = 'db-0.db.default.svc.cluster.local'"));
    assert!(!seed.contains("START SLAVE"), "{seed}");
}

#[test]
fn replication_errors_block_or_restart() {
    let plan = planned(vec![
        server("probe-primary-with-replica.txt"),
        server("probe-replica-sql-error.txt"),
        with_id("probe-replica-io-error.txt", 3),
    ]);
    let sql = step(&plan, "replicate/db-1");
    assert_eq!(sql.status, StepStatus::Blocked);
    assert!(sql.reason.as_deref().unwrap().contains("SQL error 1062"));
    assert_eq!(step(&plan, "seed/db-1").status, StepStatus::Done);
    let io = step(&plan, "replicate/db-2");
    assert_eq!(io.status, StepStatus::Pending);
    assert!(io.reason.as_deref().unwrap().contains("IO Connecting"));
}

#[test]
fn a_replica_as_primary_and_unreadable_pods_are_refused() {
    let p = planned(vec![
        server("probe-replica-running.txt"),
        with_id("probe-fresh.txt", 1),
        with_id("probe-fresh.txt", 3),
    ]);
    assert!(p.refused.unwrap().contains("pass --primary"));
    let t = topo();
    let mut ps = probes(vec![
        server("probe-primary-with-user.txt"),
        with_id("probe-fresh.txt", 2),
        with_id("probe-fresh.txt", 3),
    ]);
    ps[2].server = None;
    ps[2].error = Some("ERROR 1045 (28000): Access denied".into());
    let p = plan(&t, Some(&ps), Plan::new(&t, "cluster"));
    assert!(p.refused.unwrap().contains("cannot query db-2: ERROR 1045"));
}

#[test]
fn from_manifests_every_step_is_pending() {
    let t = topo();
    let p = plan(&t, None, Plan::new(&t, "file"));
    assert_eq!(p.steps.len(), 8);
    assert!(p.steps.iter().all(|s| s.status == StepStatus::Pending));
}

#[test]
fn status_rows_from_recorded_servers() {
    let t = topo();
    let rows = status_rows(
        &t,
        &probes(vec![
            server("probe-primary-with-replica.txt"),
            server("probe-replica-running.txt"),
            server("probe-replica-io-error.txt"),
        ]),
    );
    let v: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.role.as_str(), r.state.as_str()))
        .collect();
    assert_eq!(
        v,
        vec![
            ("primary", "accepting writes"),
            ("replica", "replicating"),
            ("replica", "IO Connecting, SQL Yes")
        ]
    );
    assert_eq!(rows[1].lag_seconds, Some(0));
    assert_eq!(
        rows[1].source.as_deref(),
        Some("db-0.db.default.svc.cluster.local:3306")
    );
    assert_eq!(rows[2].lag_seconds, None);
    assert!(rows[2].last_error.as_deref().unwrap().contains("2003"));
    let text = crate::render::status_table(
        &crate::engine::StatusReport {
            api_version: crate::API_VERSION,
            kind: "ReplicaSetStatus",
            statefulset: "db".into(),
            namespace: "default".into(),
            engine: crate::Engine::MySql,
            mongo: vec![],
            postgres: vec![],
            redis: vec![],
            mysql: rows,
            errors: vec![],
        },
        &crate::render::StatusLook::default(),
    );
    assert!(
        text.contains("replicating") && text.contains("SERVER ID"),
        "{text}"
    );
}

#[test]
fn server_text_cannot_drive_a_terminal() {
    let out = rec("probe-replica-sql-error.txt")
        .replace("Last_SQL_Error: Error", "Last_SQL_Error: \u{1b}[2J Error");
    let r = parse_probe(&out).unwrap().replica.unwrap();
    assert!(!r.last_sql_error.contains('\u{1b}'));
    assert!(r.last_sql_error.contains("\\u{1b}"));
}

#[test]
fn a_root_password_from_a_secret_goes_on_stdin_first() {
    let mut t = topo();
    assert_eq!(t.password_stdin(), None);
    assert!(!probe_argv(&t).join(" ").contains("read -r P"));
    t.server_password = Some(crate::topology::Redacted("PLANTED-root".into()));
    let h = "db-0.db.default.svc.cluster.local";
    for argv in [
        probe_argv(&t),
        create_user_argv(&t),
        seed_argv(&t, Dialect::MariaDb, h),
        replicate_argv(&t, Dialect::MariaDb, h),
        sql_argv(&t, "SELECT 1"),
    ] {
        let s = argv.join(" ");
        assert!(
            s.contains("IFS= read -r P ||") && !s.contains("MARIADB_ROOT_PASSWORD"),
            "{s}"
        );
        assert!(!s.contains("PLANTED"), "{s}");
    }
    // The root password's line, then the replication password's (read after it).
    let seed = seed_argv(&t, Dialect::MariaDb, h).join(" ");
    assert!(seed.find("read -r P").unwrap() < seed.find("read -r RP").unwrap());
    let inputs = crate::ctx::ApplyInputs {
        stamp: "s".into(),
        replication_password: Some("PLANTED-repl".into()),
        verify_token: "t".into(),
    };
    assert_eq!(
        live::password_stdin(&t, &inputs).unwrap(),
        b"PLANTED-root\nPLANTED-repl\n".to_vec()
    );
}
