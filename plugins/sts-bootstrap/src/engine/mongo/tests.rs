//! Tests of the MongoDB engine: scripts, parsers on recorded shell outputs, and the planner on
//! probes built from parts.

use super::*;
use crate::testutil::{fixture, snapshot, topology};
use crate::{Action, Options, Plan, StepStatus, Topology};
use serde_json::Value;

fn topo(replicas: Option<i32>) -> Topology {
    topology("mongo.yaml", "mongo", replicas)
}

fn host(i: u32) -> String {
    format!("mongo-{i}.mongo.default.svc.cluster.local:27017")
}

/// What our probe prints for a member, built from parts.
fn probe_out(conf: Option<Value>, status: Option<Value>, primary: bool) -> String {
    let conf = conf.unwrap_or_else(|| {
        serde_json::json!({"ok":0,"errmsg":"no replset config has been received","code":94,"codeName":"NotYetInitialized"})
    });
    let status = status.unwrap_or_else(|| conf.clone());
    let mut hello = serde_json::json!({"ismaster": primary, "secondary": !primary, "ok": 1});
    if primary {
        hello["setName"] = "rs0".into();
    }
    format!(
        "Current Mongosh Log ID: 65e6\n{MARK}{}\n",
        serde_json::json!({"hello": hello, "conf": conf, "status": status})
    )
}

fn conf(rsid: &str, version: i64, members: &[(u32, i64)]) -> Value {
    serde_json::json!({"ok":1,"config":{"_id":"rs0","version":version,
        "members": members.iter().map(|(i,v)| serde_json::json!({"_id":i,"host":host(*i),"votes":v,"priority": if *v>0 {1} else {0}})).collect::<Vec<_>>(),
        "settings":{"replicaSetId":rsid}}})
}

fn status(states: &[(u32, &str)], me: u32) -> Value {
    serde_json::json!({"set":"rs0","myState":1,"ok":1,
        "members": states.iter().map(|(i,s)| serde_json::json!({"_id":i,"name":host(*i),"health":1,"stateStr":s,"self": *i==me,"optimeDate":"2024-03-05T10:15:40Z"})).collect::<Vec<_>>()})
}

fn probes(t: &Topology, outs: Vec<String>) -> Vec<MemberProbe> {
    t.members
        .iter()
        .zip(outs)
        .map(|(m, o)| parse_probe(&m.pod, &m.host, "mongosh", &o))
        .collect()
}

fn statuses(p: &Plan) -> Vec<(String, StepStatus)> {
    p.steps.iter().map(|s| (s.id.clone(), s.status)).collect()
}

#[test]
fn recorded_rs_status_legacy_text() {
    let v = parse_doc(&fixture("mongo/status-legacy-3member.txt")).expect("parses");
    let st = parse_status(&v).unwrap();
    assert_eq!(st.set, "rs0");
    assert_eq!(st.my_state, 1);
    assert_eq!(st.members.len(), 3);
    assert_eq!(st.members[0].state_str, "PRIMARY");
    assert!(st.members[0].is_self);
    assert_eq!(st.members[2].sync_source.as_deref(), Some(host(1).as_str()));
    let rows = status_rows(
        &topo(None),
        &[{
            let mut p = MemberProbe::failed("mongo-0", &host(0), "");
            p.error = None;
            p.is_primary = true;
            p.status = Some(st);
            p
        }],
    );
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].lag_seconds, Some(0));
    assert_eq!(rows[2].lag_seconds, Some(12));
    assert_eq!(rows[2].pod.as_deref(), Some("mongo-2"));
}

#[test]
fn recorded_rs_conf_mongosh_text() {
    let v = parse_doc(&fixture("mongo/conf-mongosh.txt")).expect("parses");
    let c = parse_conf(&v).unwrap();
    assert_eq!(c.set, "rs0");
    assert_eq!(c.version, 5);
    assert_eq!(
        c.replica_set_id.as_deref(),
        Some("65e6ec52a1b2c3d4e5f60718")
    );
    assert_eq!(c.members.len(), 3);
    assert_eq!(c.members[2].votes, 0);
    assert_eq!(c.members[2].priority, 0.0);
    assert_eq!(c.members[1].host, host(1));
}

#[test]
fn recorded_error_codes() {
    let e94 = CmdResult::from_value(&parse_doc(&fixture("mongo/err-94-legacy.txt")).unwrap());
    assert!(!e94.ok && e94.not_initialized());
    assert_eq!(
        parse_status(&parse_doc(&fixture("mongo/err-94-legacy.txt")).unwrap()).unwrap_err(),
        e94
    );
    let e93 = CmdResult::from_value(&parse_doc(&fixture("mongo/err-93-legacy.txt")).unwrap());
    assert_eq!(e93.code, Some(93));
    assert!(!e93.not_initialized());
    assert!(e93.explain().contains("InvalidReplicaSetConfig"));
    let e103 = CmdResult::from_value(&parse_doc(&fixture("mongo/err-103-legacy.txt")).unwrap());
    assert!(!e103.ok);
    assert_eq!(
        e103.code_name.as_deref(),
        Some("NewReplicaSetConfigurationIncompatible")
    );
    assert!(
        e103.explain().contains("not treated as success"),
        "{}",
        e103.explain()
    );
}

#[test]
fn shell_text_conversion() {
    let j = shell_text_to_json(
        r#"{ a: 'x\'y', "b" : NumberLong("7"), c: Timestamp({ t: 1, i: 2 }), d: ISODate("2024-01-01T00:00:00Z") }"#,
    );
    let v: Value = serde_json::from_str(&j).unwrap();
    assert_eq!(v["a"], "x'y");
    assert_eq!(v["b"], 7);
    assert_eq!(v["c"]["i"], 2);
    assert_eq!(v["d"], "2024-01-01T00:00:00Z");
}

#[test]
fn fresh_set_initiates_on_ordinal_0_then_adds_and_promotes() {
    let t = topo(None);
    let ps = probes(&t, vec![probe_out(None, None, false); 3]);
    assert!(ps.iter().all(|p| p.not_initialized && p.error.is_none()));
    let p = plan(&t, Some(&ps), Plan::new(&t, "cluster"));
    assert_eq!(p.refused, None);
    assert_eq!(
        statuses(&p),
        vec![
            ("initiate".into(), StepStatus::Pending),
            ("wait-primary".into(), StepStatus::Pending),
            ("add/mongo-1".into(), StepStatus::Pending),
            ("promote/mongo-1".into(), StepStatus::Pending),
            ("add/mongo-2".into(), StepStatus::Pending),
            ("promote/mongo-2".into(), StepStatus::Pending),
        ]
    );
    assert_eq!(
        p.steps[0].action,
        Action::Initiate {
            set: "rs0".into(),
            host: host(0)
        }
    );
}

#[test]
fn converged_set_is_all_done() {
    let t = topo(None);
    let c = conf("aaa", 5, &[(0, 1), (1, 1), (2, 1)]);
    let s = |me| status(&[(0, "PRIMARY"), (1, "SECONDARY"), (2, "SECONDARY")], me);
    let ps = probes(
        &t,
        vec![
            probe_out(Some(c.clone()), Some(s(0)), true),
            probe_out(Some(c.clone()), Some(s(1)), false),
            probe_out(Some(c), Some(s(2)), false),
        ],
    );
    let p = plan(&t, Some(&ps), Plan::new(&t, "cluster"));
    assert!(p.all_done(), "{:#?}", p.steps);
    assert!(
        p.steps[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("never initiated twice")
    );
}

#[test]
fn scale_up_adds_only_the_new_ordinal() {
    let t = topo(Some(4));
    let c = conf("aaa", 5, &[(0, 1), (1, 1), (2, 1)]);
    let s = |me| status(&[(0, "PRIMARY"), (1, "SECONDARY"), (2, "SECONDARY")], me);
    let ps = probes(
        &t,
        vec![
            probe_out(Some(c.clone()), Some(s(0)), true),
            probe_out(Some(c.clone()), Some(s(1)), false),
            probe_out(Some(c), Some(s(2)), false),
            probe_out(None, None, false),
        ],
    );
    let p = plan(&t, Some(&ps), Plan::new(&t, "cluster"));
    let pending: Vec<_> = p
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Pending)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(pending, vec!["add/mongo-3", "promote/mongo-3"]);
}

#[test]
fn added_member_is_promoted_only_after_secondary() {
    let t = topo(Some(2));
    let c = conf("aaa", 6, &[(0, 1), (1, 0)]);
    let s = |me| status(&[(0, "PRIMARY"), (1, "STARTUP2")], me);
    let ps = probes(
        &t,
        vec![
            probe_out(Some(c.clone()), Some(s(0)), true),
            probe_out(Some(c), Some(s(1)), false),
        ],
    );
    let p = plan(&t, Some(&ps), Plan::new(&t, "cluster"));
    let promote = p.steps.iter().find(|s| s.id == "promote/mongo-1").unwrap();
    assert_eq!(promote.status, StepStatus::Pending);
    assert!(promote.reason.as_deref().unwrap().contains("STARTUP2"));
}

#[test]
fn split_configs_are_refused() {
    let t = topo(None);
    let ps = probes(
        &t,
        vec![
            probe_out(Some(conf("aaa", 3, &[(0, 1), (1, 1)])), None, true),
            probe_out(Some(conf("aaa", 3, &[(0, 1), (1, 1)])), None, false),
            probe_out(Some(conf("bbb", 1, &[(2, 1)])), None, true),
        ],
    );
    let p = plan(&t, Some(&ps), Plan::new(&t, "cluster"));
    let r = p.refused.expect("refused");
    assert!(r.contains("split replica set"), "{r}");
    assert!(
        r.contains("mongo-0, mongo-1") && r.contains("mongo-2") && r.contains("bbb"),
        "{r}"
    );
    assert!(p.steps.is_empty());
}

#[test]
fn pod0_back_with_empty_volume_is_never_reinitiated() {
    let t = topo(None);
    let c = conf("aaa", 5, &[(0, 1), (1, 1), (2, 1)]);
    let ps = probes(
        &t,
        vec![
            probe_out(None, None, false),
            probe_out(
                Some(c.clone()),
                Some(status(
                    &[
                        (0, "(not reachable/healthy)"),
                        (1, "PRIMARY"),
                        (2, "SECONDARY"),
                    ],
                    1,
                )),
                true,
            ),
            probe_out(Some(c), None, false),
        ],
    );
    let p = plan(&t, Some(&ps), Plan::new(&t, "cluster"));
    assert_eq!(p.refused, None);
    assert_eq!(p.steps[0].status, StepStatus::Done);
    assert!(p.all_done(), "{:#?}", p.steps);
}

#[test]
fn unreachable_member_blocks_everything() {
    let t = topo(None);
    let mut ps = probes(&t, vec![probe_out(None, None, false); 3]);
    ps[2] = MemberProbe::failed("mongo-2", &host(2), "no mongosh or mongo in PATH");
    let p = plan(&t, Some(&ps), Plan::new(&t, "cluster"));
    assert!(p.refused.unwrap().contains("cannot query mongo-2"));
}

#[test]
fn wrong_set_name_and_missing_replset_are_refused() {
    let t = topo(None);
    let mut c = conf("aaa", 1, &[(0, 1)]);
    c["config"]["_id"] = "other".into();
    let ps = probes(
        &t,
        vec![
            probe_out(Some(c), None, true),
            probe_out(None, None, false),
            probe_out(None, None, false),
        ],
    );
    assert!(
        plan(&t, Some(&ps), Plan::new(&t, "cluster"))
            .refused
            .unwrap()
            .contains("--replSet \"rs0\"")
    );
    let mut t2 = t.clone();
    t2.repl_set = None;
    assert!(
        plan(&t2, None, Plan::new(&t2, "file"))
            .refused
            .unwrap()
            .contains("--replSet")
    );
}

#[test]
fn gone_members_removed_only_when_asked() {
    let mut t = topo(Some(2));
    let c = conf("aaa", 5, &[(0, 1), (1, 1), (2, 1)]);
    let s = |me| {
        status(
            &[
                (0, "PRIMARY"),
                (1, "SECONDARY"),
                (2, "(not reachable/healthy)"),
            ],
            me,
        )
    };
    let outs = vec![
        probe_out(Some(c.clone()), Some(s(0)), true),
        probe_out(Some(c), Some(s(1)), false),
    ];
    let ps = probes(&t, outs);
    let p = plan(&t, Some(&ps), Plan::new(&t, "cluster"));
    assert!(p.all_done());
    t.remove_missing = true;
    let p = plan(&t, Some(&ps), Plan::new(&t, "cluster"));
    let pending = p.pending().unwrap();
    assert_eq!(pending.action, Action::RemoveMember { host: host(2) });
}

#[test]
fn from_file_assumes_fresh_pods() {
    let t = topo(None);
    let p = plan(&t, None, Plan::new(&t, "file"));
    assert_eq!(p.refused, None);
    assert_eq!(p.steps.len(), 6);
    assert!(p.steps.iter().all(|s| s.status == StepStatus::Pending));
}

#[test]
fn scripts_keep_credentials_in_the_pod() {
    let snap = snapshot("mongo-with-helper.yaml");
    let o = Options {
        cluster_domain: "cluster.local".into(),
        ..Default::default()
    };
    let t = Topology::from_snapshot(&snap, "db", "mongo", &o).unwrap();
    for shell in ["mongosh", "mongo"] {
        let argv = shell_argv(&t, shell, &probe_js());
        let all = argv.join(" ");
        assert!(all.contains("MONGO_INITDB_ROOT_PASSWORD"), "{all}");
        assert!(!all.contains("PLANTED"), "{all}");
        assert_eq!(argv[0], "sh");
        assert_eq!(argv.len(), 3);
    }
    let js = add_member_js("mongo-3.mongo.db.svc.cluster.local:27017");
    assert!(js.contains("votes:0,priority:0"));
    assert!(initiate_js("rs0", &host(0)).contains("replSetInitiate"));
}
