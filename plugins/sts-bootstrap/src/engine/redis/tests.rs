//! Tests of the Redis engine: scripts, the `INFO` parser on outputs recorded from the real
//! Debian redis-server (tests/scripts/capture-redis-fixtures.sh), the planner and the status rows.

use super::*;
use crate::testutil::{fixture, topology};
use crate::{Plan, StepStatus, Topology};

const PRIMARY: &str = "cache-0.cache.default.svc.cluster.local";

fn topo(replicas: Option<i32>) -> Topology {
    topology("redis.yaml", "cache", replicas)
}

/// A recorded INFO, with what the probe script adds after it.
fn recorded(name: &str, extra: &str) -> ServerInfo {
    let text = format!("{MARK}INFO\n{}{extra}", fixture(&format!("redis/{name}")));
    parse_probe(&text).unwrap()
}

/// A recorded replica as if it replicated from this set's primary.
fn replica_of_primary(name: &str) -> ServerInfo {
    let mut s = recorded(name, "");
    s.master_host = Some(PRIMARY.into());
    s.master_port = Some(6379);
    s
}

fn pp(pod: &str, ordinal: u32, s: ServerInfo) -> PodProbe {
    PodProbe {
        pod: pod.into(),
        ordinal,
        server: Some(s),
        error: None,
    }
}

fn status_of<'a>(p: &'a Plan, id: &str) -> &'a crate::Step {
    p.steps
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no step {id}: {:#?}", p.steps))
}

#[test]
fn recorded_info_parses() {
    let p = recorded("info-primary-with-replica.txt", "");
    assert_eq!(p.server, "redis");
    assert_eq!(p.version, "7.0.15");
    assert_eq!(p.role, "master");
    assert_eq!(p.connected_slaves, 1);
    assert_eq!(p.keys, 3);
    assert_eq!(p.master_repl_offset, 50);
    assert_eq!(p.config_file, "/data/r1.conf");

    let r = recorded("info-replica-up.txt", "");
    assert!(r.is_replica() && r.link_up());
    assert_eq!(r.master_host.as_deref(), Some("127.0.0.1"));
    assert_eq!(r.master_port, Some(26381));
    assert_eq!(r.slave_repl_offset, Some(50));
    assert_eq!(r.slave_read_only, Some(true));
    assert!(r.replicates_from("127.0.0.1", 26381));
    assert!(!r.replicates_from("127.0.0.1", 6379));

    let d = recorded("info-replica-link-down.txt", "");
    assert!(d.is_replica() && !d.link_up());
    assert_eq!(d.master_link_down_since_seconds, Some(1));

    let e = recorded("info-standalone-empty.txt", "");
    assert_eq!((e.role.as_str(), e.keys), ("master", 0));
    let k = recorded("info-master-with-keys.txt", "");
    assert_eq!((k.role.as_str(), k.keys), ("master", 3));
}

#[test]
fn probe_marks_parse_and_garbage_is_an_error() {
    let s = recorded(
        "info-replica-up.txt",
        "@@STS@@CONFIG writable=yes\r\n@@STS@@PERSISTED replicaof cache-0.cache.default.svc.cluster.local 6379\n@@STS@@AUTH yes\n",
    );
    assert_eq!(s.config_writable, Some(true));
    assert!(s.persisted_as(PRIMARY, 6379));
    assert!(!s.persisted_as(PRIMARY, 6380));
    assert!(s.auth);
    let s = recorded("info-replica-up.txt", "@@STS@@AUTH \n");
    assert_eq!(s.config_writable, None);
    assert!(!s.auth);
    let e = parse_probe("NOAUTH Authentication required.").unwrap_err();
    assert!(e.contains("NOAUTH"), "{e}");
}

#[test]
fn fresh_set_plans_replicaof_and_persist_for_each_replica() {
    let t = topo(None);
    let obs = vec![
        pp(
            "cache-0",
            0,
            recorded("info-master-with-keys.txt", "@@STS@@CONFIG writable=yes\n"),
        ),
        pp(
            "cache-1",
            1,
            recorded("info-standalone-empty.txt", "@@STS@@CONFIG writable=yes\n"),
        ),
        pp(
            "cache-2",
            2,
            recorded("info-standalone-empty.txt", "@@STS@@CONFIG writable=yes\n"),
        ),
    ];
    let p = plan(&t, Some(&obs), Plan::new(&t, "cluster"));
    assert!(p.refused.is_none(), "{:?}", p.refused);
    let ids: Vec<&str> = p.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "replicaof/cache-1",
            "persist/cache-1",
            "replicaof/cache-2",
            "persist/cache-2"
        ]
    );
    assert!(p.steps.iter().all(|s| s.status == StepStatus::Pending));
    assert_eq!(
        status_of(&p, "replicaof/cache-2").action,
        Action::ReplicaOf {
            host: PRIMARY.into(),
            port: 6379
        }
    );
}

#[test]
fn converged_set_is_all_done() {
    let t = topo(Some(2));
    let mut r = replica_of_primary("info-replica-up.txt");
    r.config_writable = Some(true);
    r.persisted = Some(format!("replicaof {PRIMARY} 6379"));
    let obs = vec![
        pp("cache-0", 0, recorded("info-primary-with-replica.txt", "")),
        pp("cache-1", 1, r),
    ];
    let p = plan(&t, Some(&obs), Plan::new(&t, "cluster"));
    assert!(p.all_done(), "{:#?}", p.steps);
    assert_eq!(p.steps.len(), 2);
}

#[test]
fn link_down_replica_is_pending_again() {
    let t = topo(Some(2));
    let obs = vec![
        pp("cache-0", 0, recorded("info-primary-with-replica.txt", "")),
        pp(
            "cache-1",
            1,
            replica_of_primary("info-replica-link-down.txt"),
        ),
    ];
    let p = plan(&t, Some(&obs), Plan::new(&t, "cluster"));
    let s = status_of(&p, "replicaof/cache-1");
    assert_eq!(s.status, StepStatus::Pending);
    assert!(s.reason.as_deref().unwrap().contains("link is down"));
}

#[test]
fn primary_with_keys_or_foreign_replica_is_refused_unless_forced() {
    let mut t = topo(Some(3));
    let obs = vec![
        pp("cache-0", 0, recorded("info-primary-with-replica.txt", "")),
        pp("cache-1", 1, recorded("info-master-with-keys.txt", "")),
        // A replica of another primary (127.0.0.1:26381 in the recording).
        pp("cache-2", 2, recorded("info-replica-up.txt", "")),
    ];
    let p = plan(&t, Some(&obs), Plan::new(&t, "cluster"));
    let s = status_of(&p, "replicaof/cache-1");
    assert_eq!(s.status, StepStatus::Blocked);
    assert!(s.reason.as_deref().unwrap().contains("3 key(s)"));
    assert!(s.reason.as_deref().unwrap().contains("--force"));
    assert_eq!(
        status_of(&p, "replicaof/cache-2").status,
        StepStatus::Blocked
    );
    t.force = true;
    let p = plan(&t, Some(&obs), Plan::new(&t, "cluster"));
    assert_eq!(
        status_of(&p, "replicaof/cache-1").status,
        StepStatus::Pending
    );
    assert_eq!(
        status_of(&p, "replicaof/cache-2").status,
        StepStatus::Pending
    );
}

#[test]
fn no_or_readonly_config_file_is_a_note_not_a_step() {
    let t = topo(Some(3));
    let mut none = recorded("info-standalone-empty.txt", "");
    none.config_file.clear();
    let obs = vec![
        pp("cache-0", 0, recorded("info-primary-with-replica.txt", "")),
        pp("cache-1", 1, none),
        pp(
            "cache-2",
            2,
            recorded("info-standalone-empty.txt", "@@STS@@CONFIG writable=no\n"),
        ),
    ];
    let p = plan(&t, Some(&obs), Plan::new(&t, "cluster"));
    assert!(!p.steps.iter().any(|s| s.id.starts_with("persist/")));
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("cache-1 runs without a config file"))
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("cache-2") && n.contains("not writable"))
    );
}

#[test]
fn replica_as_primary_or_unreachable_member_refuses() {
    let t = topo(Some(2));
    let obs = vec![
        pp("cache-0", 0, recorded("info-replica-up.txt", "")),
        pp("cache-1", 1, recorded("info-standalone-empty.txt", "")),
    ];
    let p = plan(&t, Some(&obs), Plan::new(&t, "cluster"));
    assert!(p.refused.as_deref().unwrap().contains("--primary"));
    let obs = vec![
        pp("cache-0", 0, recorded("info-primary-with-replica.txt", "")),
        PodProbe {
            pod: "cache-1".into(),
            ordinal: 1,
            server: None,
            error: Some("NOAUTH Authentication required.".into()),
        },
    ];
    let p = plan(&t, Some(&obs), Plan::new(&t, "cluster"));
    assert!(p.refused.as_deref().unwrap().contains("NOAUTH"));
}

#[test]
fn manifests_only_plan() {
    let t = topo(None);
    let p = plan(&t, None, Plan::new(&t, "file"));
    assert_eq!(p.steps.len(), 4);
    assert!(!p.notes.is_empty());
}

#[test]
fn scripts_hold_no_secret_and_read_the_password_in_the_pod() {
    let t = topo(None);
    let all = [
        probe_argv(&t),
        replicaof_argv(&t, PRIMARY, 6379),
        rewrite_argv(&t),
        cmd_argv(&t, &["GET", "k'; x"]),
    ];
    for a in &all {
        let s = a.join(" ");
        assert!(!s.contains("PLANTED"), "{s}");
        assert!(!s.contains(" -a "), "{s}");
        assert!(s.contains("REDISCLI_AUTH"), "{s}");
    }
    let r = all[1].join(" ");
    assert!(r.contains("-x CONFIG SET masterauth"), "{r}");
    assert!(r.contains(&format!("REPLICAOF {PRIMARY} 6379")), "{r}");
    assert!(all[3].join(" ").contains("'k'\\''; x'"));
}

#[test]
fn status_rows_from_recorded_outputs() {
    let t = topo(Some(3));
    let obs = vec![
        pp("cache-0", 0, recorded("info-primary-with-replica.txt", "")),
        pp("cache-1", 1, replica_of_primary("info-replica-up.txt")),
        pp(
            "cache-2",
            2,
            replica_of_primary("info-replica-link-down.txt"),
        ),
    ];
    let rows = status_rows(&t, &obs);
    assert_eq!(rows[0].role, "primary");
    assert_eq!(rows[1].state, "link up");
    assert_eq!(rows[1].lag_bytes, Some(0));
    assert_eq!(rows[1].last_error, None);
    assert_eq!(rows[2].state, "link down");
    assert!(
        rows[2]
            .last_error
            .as_deref()
            .unwrap()
            .contains("down for 1s")
    );
    let j = serde_json::to_value(&rows).unwrap();
    assert_eq!(j[1]["master"], format!("{PRIMARY}:6379"));
}

#[test]
fn a_password_from_a_secret_goes_on_stdin_only() {
    let mut t = topo(None);
    let env_only = probe_argv(&t).join(" ");
    assert!(env_only.contains("REDIS_PASSWORD") && !env_only.contains("read -r A"));
    assert_eq!(t.password_stdin(), None);
    t.server_password = Some(crate::topology::Redacted("PLANTED-requirepass".into()));
    for argv in [
        probe_argv(&t),
        replicaof_argv(&t, "cache-0.cache.default.svc.cluster.local", 6379),
        rewrite_argv(&t),
        cmd_argv(&t, &["GET", "k"]),
    ] {
        let s = argv.join(" ");
        assert!(s.contains("IFS= read -r A"), "{s}");
        assert!(!s.contains("PLANTED"), "{s}");
    }
    assert_eq!(t.password_stdin(), Some(b"PLANTED-requirepass\n".to_vec()));
    assert!(!format!("{t:?}").contains("PLANTED"));
    assert!(!serde_json::to_string(&t).unwrap().contains("PLANTED"));
}
