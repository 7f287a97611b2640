//! Tests of the PostgreSQL engine: scripts, the probe parser on recorded server outputs, the
//! planner and the status rows.

use super::*;
use crate::testutil::{fixture, topology};
use crate::{Plan, StepStatus, Topology};

fn topo(file: &str, replicas: Option<i32>) -> Topology {
    topology(file, "todo-db", replicas)
}

fn recorded(name: &str) -> ServerProbe {
    parse_probe(&fixture(&format!("postgres/{name}"))).unwrap()
}

fn pp(pod: &str, ordinal: u32, s: ServerProbe) -> PodProbe {
    PodProbe {
        pod: pod.into(),
        ordinal,
        server: Some(s),
        error: None,
    }
}

#[test]
fn recorded_probe_outputs_parse() {
    let p = recorded("probe-primary-streaming.json");
    assert!(!p.in_recovery);
    assert_eq!(p.system_identifier, "7711176608890179515");
    assert_eq!(p.replication.len(), 1);
    let r = &p.replication[0];
    assert_eq!(r.application_name.as_deref(), Some("todo-db-1"));
    assert_eq!(r.state.as_deref(), Some("streaming"));
    assert!(r.replay_lag_seconds.unwrap() > 0.0);
    assert_eq!(p.slots[0].slot_name, "todo_db_1");
    assert!(p.role.as_ref().unwrap().replication);
    // Only a loopback rule for replicator: not enough for pods on other hosts.
    assert!(!p.hba_allows_replication("replicator"));

    let s = recorded("probe-standby-streaming.json");
    assert!(s.in_recovery);
    let w = s.wal_receiver.as_ref().unwrap();
    assert_eq!(w.status.as_deref(), Some("streaming"));
    assert_eq!(w.slot_name.as_deref(), Some("todo_db_1"));
    assert_eq!(w.sender_port, Some(55432));
    assert!(s.streams_from(
        &p,
        "todo-db-0.todo-db.default.svc.cluster.local",
        "todo_db_1"
    ));

    let f = recorded("probe-fresh.json");
    assert!(f.role.is_none() && f.wal_receiver.is_none() && f.slots.is_empty());
    assert!(!f.streams_from(&p, "x", "todo_db_1"));
}

#[test]
fn streaming_pair_is_all_done_except_hba() {
    let t = topo("todo-db.yaml", None);
    let obs = vec![
        pp("todo-db-0", 0, recorded("probe-primary-streaming.json")),
        pp("todo-db-1", 1, recorded("probe-standby-streaming.json")),
    ];
    let p = plan(&t, Some(&obs), Plan::new(&t, "cluster"));
    assert_eq!(p.refused, None);
    let st: Vec<_> = p.steps.iter().map(|s| (s.id.as_str(), s.status)).collect();
    assert_eq!(
        st,
        vec![
            ("wal-settings", StepStatus::Done),
            ("replication-role", StepStatus::Done),
            ("pg-hba", StepStatus::Pending),
            ("slot/todo-db-1", StepStatus::Done),
            ("reseed/todo-db-1", StepStatus::Done),
        ]
    );
    let mut primary = recorded("probe-primary-streaming.json");
    primary.hba_rules.push(HbaRule {
        line: 100,
        kind: "host".into(),
        database: vec!["replication".into()],
        user_name: vec!["replicator".into()],
        address: Some("all".into()),
        auth_method: Some("scram-sha-256".into()),
        error: None,
    });
    let obs = vec![
        pp("todo-db-0", 0, primary),
        pp("todo-db-1", 1, recorded("probe-standby-streaming.json")),
    ];
    assert!(plan(&t, Some(&obs), Plan::new(&t, "cluster")).all_done());
}

#[test]
fn fresh_servers_need_everything_and_scale_up_only_the_new_replica() {
    let t = topo("todo-db.yaml", Some(3));
    let other = |id: &str| {
        let mut s = recorded("probe-fresh.json");
        s.system_identifier = id.into();
        s
    };
    let obs = vec![
        pp("todo-db-0", 0, recorded("probe-fresh.json")),
        pp("todo-db-1", 1, other("7711176704735904080")),
        pp("todo-db-2", 2, other("7711176704735904081")),
    ];
    let p = plan(&t, Some(&obs), Plan::new(&t, "cluster"));
    let pending: Vec<_> = p
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Pending)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(
        pending,
        vec![
            "replication-role",
            "pg-hba",
            "slot/todo-db-1",
            "slot/todo-db-2",
            "reseed/todo-db-1",
            "reseed/todo-db-2"
        ]
    );
    // A fresh server has a different system identifier: that is why it is re-seeded.
    assert!(
        p.steps[6]
            .reason
            .as_deref()
            .unwrap()
            .contains("system identifier")
    );

    let obs = vec![
        pp("todo-db-0", 0, recorded("probe-primary-streaming.json")),
        pp("todo-db-1", 1, recorded("probe-standby-streaming.json")),
        pp("todo-db-2", 2, recorded("probe-fresh.json")),
    ];
    let p = plan(&t, Some(&obs), Plan::new(&t, "cluster"));
    let pending: Vec<_> = p
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Pending)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(
        pending,
        vec!["pg-hba", "slot/todo-db-2", "reseed/todo-db-2"]
    );
}

#[test]
fn data_dir_at_mount_point_is_refused_with_the_fix() {
    let t = topo("todo-db-mountpoint.yaml", None);
    assert_eq!(t.data_dir, t.data_mount);
    let p = plan(&t, None, Plan::new(&t, "file"));
    let b = p.blocked().expect("blocked");
    assert!(b.id.starts_with("reseed/"));
    assert!(b.reason.as_deref().unwrap().contains("mount point"));
    assert!(b.reason.as_deref().unwrap().contains("PGDATA"));
}

#[test]
fn standby_as_primary_and_low_wal_settings_are_refused() {
    let t = topo("todo-db.yaml", None);
    let obs = vec![
        pp("todo-db-0", 0, recorded("probe-standby-streaming.json")),
        pp("todo-db-1", 1, recorded("probe-fresh.json")),
    ];
    assert!(
        plan(&t, Some(&obs), Plan::new(&t, "cluster"))
            .refused
            .unwrap()
            .contains("--primary")
    );
    let mut low = recorded("probe-fresh.json");
    low.wal_level = "minimal".into();
    let obs = vec![
        pp("todo-db-0", 0, low),
        pp("todo-db-1", 1, recorded("probe-fresh.json")),
    ];
    let p = plan(&t, Some(&obs), Plan::new(&t, "cluster"));
    assert!(
        p.blocked()
            .unwrap()
            .reason
            .as_deref()
            .unwrap()
            .contains("ALTER SYSTEM SET wal_level = replica")
    );
}

#[test]
fn status_rows_join_primary_and_standby() {
    let t = topo("todo-db.yaml", None);
    let obs = vec![
        pp("todo-db-0", 0, recorded("probe-primary-streaming.json")),
        pp("todo-db-1", 1, recorded("probe-standby-streaming.json")),
    ];
    let rows = status_rows(&t, &obs);
    assert_eq!(rows[0].role, "primary");
    assert_eq!(rows[1].role, "standby");
    assert_eq!(rows[1].state, "streaming");
    assert_eq!(rows[1].replay_lsn.as_deref(), Some("0/3000000"));
}

#[test]
fn scripts_carry_no_secret_and_quote_everything() {
    let t = topo("todo-db.yaml", None);
    let all = [
        probe_argv(&t),
        create_role_argv("replicator"),
        add_hba_argv("replicator"),
        sql_argv(&create_slot_sql("todo_db_1")),
        reseed_argv(&t, "todo-db-1", "todo_db_1", "20261123T020000Z"),
    ];
    for argv in &all {
        assert_eq!(argv.len(), 3);
        let s = argv.join(" ");
        assert!(!s.contains("PLANTED"), "{s}");
        let without_env = s.replace(r#"PGPASSWORD="${POSTGRES_PASSWORD:-${PGPASSWORD:-}}""#, "");
        assert!(!without_env.to_lowercase().contains("password="), "{s}");
    }
    let r = all[4].join(" ");
    assert!(r.contains("'host=todo-db-0.todo-db.default.svc.cluster.local port=5432 user=replicator application_name=todo-db-1'"), "{r}");
    assert!(r.contains("IFS= read -r PGPASSWORD"));
    assert!(
        r.contains("D=\"${PGDATA:-/var/lib/postgresql/data/pgdata}\""),
        "{r}"
    );
}
