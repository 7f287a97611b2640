//! Parsing the kubelet's summary, matching claims, thresholds and the unknown cases.

use super::*;

const GI: u64 = 1 << 30;

/// A summary as the kubelet writes it (fields this module does not read included).
fn summary(volumes: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "node": {"nodeName": "n1", "startTime": "2026-12-01T00:00:00Z",
                 "fs": {"availableBytes": 1, "capacityBytes": 2}},
        "pods": [
            {"podRef": {"name": "db-0", "namespace": "shop", "uid": "u0"},
             "startTime": "2026-12-01T00:00:00Z",
             "containers": [{"name": "db"}],
             "volume": volumes},
            {"podRef": {"name": "web", "namespace": "shop", "uid": "u1"}}
        ]
    }))
    .unwrap()
}

fn vol(
    claim: Option<(&str, &str)>,
    used: u64,
    cap: u64,
    inodes_used: u64,
    inodes: u64,
) -> serde_json::Value {
    let mut v = serde_json::json!({
        "time": "2026-12-03T10:00:00Z", "name": "data",
        "capacityBytes": cap, "usedBytes": used, "availableBytes": cap - used,
        "inodes": inodes, "inodesUsed": inodes_used, "inodesFree": inodes - inodes_used,
    });
    if let Some((ns, name)) = claim {
        v["pvcRef"] = serde_json::json!({"name": name, "namespace": ns});
    }
    v
}

fn nodes(entries: Vec<(&str, Result<NodeStats, String>)>) -> UsageInput {
    UsageInput {
        thresholds: Thresholds::default(),
        source: UsageSource::Nodes(
            entries
                .into_iter()
                .map(|(n, r)| (n.to_string(), r))
                .collect(),
        ),
        pods_selected: false,
    }
}

#[test]
fn claim_volumes_are_matched_by_pvc_ref() {
    let body = summary(&serde_json::json!([
        vol(Some(("shop", "data-db-0")), 5 * GI, 10 * GI, 10, 1000),
        // An emptyDir (no pvcRef) is not a claim.
        vol(None, 1, 2, 1, 2),
    ]));
    let s = parse_summary(&body).unwrap();
    assert_eq!(s.claims.len(), 1);
    let v = &s.claims[&("shop".to_string(), "data-db-0".to_string())];
    assert_eq!(v.used_bytes, Some(5 * GI));
    assert_eq!(v.available_bytes, Some(5 * GI));
    assert_eq!(v.inodes_free, Some(990));
}

#[test]
fn what_is_not_a_summary_is_a_reason_not_a_panic() {
    for body in [
        &b"<html>proxy error</html>"[..],
        b"",
        b"[]",
        b"{}",
        b"{\"pods\": []}",
        b"{\"node\": 1}",
        b"{\"node\": {}, \"pods\": [{\"volume\": [{\"usedBytes\": -5, \"pvcRef\": {\"name\": \"x\"}}]}]}",
    ] {
        let e = parse_summary(body).unwrap_err();
        assert!(e.starts_with("not a kubelet stats summary"), "{e}");
    }
    // A node with no pods, or pods without volumes, is an empty answer.
    assert!(parse_summary(b"{\"node\": {}}").unwrap().claims.is_empty());
    assert!(
        parse_summary(b"{\"node\": {}, \"pods\": null}")
            .unwrap()
            .claims
            .is_empty()
    );
    // Volumes whose numbers the kubelet has not measured yet.
    let s = parse_summary(
        b"{\"node\": {}, \"pods\": [{\"volume\": [{\"name\": \"d\", \"pvcRef\": {\"name\": \"c\", \"namespace\": \"n\"}}]}]}",
    )
    .unwrap();
    let v = &s.claims[&("n".to_string(), "c".to_string())];
    assert_eq!(v, &VolumeStats::default());
}

fn known(used: u64, cap: u64, inodes_used: u64, inodes: u64) -> VolumeUsage {
    let body = summary(&serde_json::json!([vol(
        Some(("shop", "c")),
        used,
        cap,
        inodes_used,
        inodes
    )]));
    let input = nodes(vec![("n1", parse_summary(&body))]);
    claim_usage(&input, "shop", "c", vec!["n1".into()], None)
}

fn codes(u: &VolumeUsage) -> Vec<(Severity, &'static str)> {
    findings(u, &Thresholds::default(), "c")
        .into_iter()
        .map(|(s, c, _)| (s, c))
        .collect()
}

#[test]
fn thresholds_at_85_and_95_percent() {
    let cap = 10_000;
    let at = |used: u64| known(used, cap, 1, 100);
    assert_eq!(at(5_000).used_percent, Some(50));
    assert!(codes(&at(5_000)).is_empty());
    // 84.99 % is 84 %: below the warning.
    assert_eq!(at(8_499).used_percent, Some(84));
    assert!(codes(&at(8_499)).is_empty());
    assert_eq!(codes(&at(8_500)), [(Severity::Warning, "VolumeNearlyFull")]);
    assert_eq!(codes(&at(9_499)), [(Severity::Warning, "VolumeNearlyFull")]);
    assert_eq!(codes(&at(9_500)), [(Severity::Error, "VolumeNearlyFull")]);
    assert_eq!(codes(&at(10_000)), [(Severity::Error, "VolumeNearlyFull")]);
    let f = findings(&at(9_600), &Thresholds::default(), "data-db-0");
    assert!(
        f[0].2
            .starts_with("data-db-0 is 96% full (9.3Ki used of 9.7Ki, 400 free, on node n1)"),
        "{}",
        f[0].2
    );
    // Settable thresholds.
    let t = Thresholds::new(50, 60).unwrap();
    let f: Vec<_> = findings(&at(5_000), &t, "c")
        .into_iter()
        .map(|(s, _, _)| s)
        .collect();
    assert_eq!(f, [Severity::Warning]);
}

#[test]
fn inodes_run_out_whatever_the_free_bytes() {
    let u = known(GI, 100 * GI, 999_990, 1_000_000);
    assert_eq!(u.used_percent, Some(1));
    assert_eq!(u.inodes_used_percent, Some(99));
    assert_eq!(codes(&u), [(Severity::Error, "InodesNearlyFull")]);
    let u = known(GI, 100 * GI, 860, 1_000);
    assert_eq!(codes(&u), [(Severity::Warning, "InodesNearlyFull")]);
    let u = known(96 * GI, 100 * GI, 960, 1_000);
    assert_eq!(
        codes(&u),
        [
            (Severity::Error, "VolumeNearlyFull"),
            (Severity::Error, "InodesNearlyFull")
        ]
    );
    // A filesystem without inode accounting (inodes 0): unknown, never full.
    let u = known(GI, 100 * GI, 0, 0);
    assert_eq!(u.inodes_used_percent, None);
    assert!(codes(&u).is_empty());
}

#[test]
fn unknown_usage_says_why_and_raises_nothing() {
    let dump = UsageInput {
        thresholds: Thresholds::default(),
        source: UsageSource::Dump,
        pods_selected: false,
    };
    let u = claim_usage(&dump, "shop", "c", vec!["n1".into()], None);
    assert_eq!(u.state, UsageState::Unknown);
    assert_eq!(u.reason.as_deref(), Some(NOT_IN_DUMP));
    assert!(codes(&u).is_empty());

    let forbidden = nodes(vec![("n1", Err("forbidden: get nodes/proxy".into()))]);
    let u = claim_usage(&forbidden, "shop", "c", vec!["n1".into()], None);
    assert_eq!(u.state, UsageState::Unknown);
    assert_eq!(u.reason.as_deref(), Some("forbidden: get nodes/proxy"));
    assert_eq!(u.used_bytes, None);
    assert!(codes(&u).is_empty());

    let silent = nodes(vec![("n1", parse_summary(b"{\"node\": {}}"))]);
    let u = claim_usage(&silent, "shop", "c", vec!["n1".into()], None);
    assert_eq!(
        u.reason.as_deref(),
        Some("not reported by the kubelet on n1")
    );

    let u = claim_usage(&silent, "shop", "c", vec![], None);
    assert_eq!(u.state, UsageState::NotMounted);
    assert_eq!(u.reason.as_deref(), Some("not mounted by a running pod"));
    // Pods that could not all be read: no pod seen mounting it is not "not mounted".
    let u = claim_usage(
        &silent,
        "shop",
        "c",
        vec![],
        Some("forbidden: list pods".into()),
    );
    assert_eq!(u.state, UsageState::Unknown);
    assert_eq!(
        u.reason.as_deref(),
        Some("which pods mount it is unknown (forbidden: list pods)")
    );

    // The first trace has asked no node yet.
    let u = claim_usage(
        &nodes(vec![]),
        "shop",
        "c",
        vec!["n2".into(), "n1".into(), "n2".into()],
        None,
    );
    assert_eq!(u.mounted_on, ["n1", "n2"]);
    assert_eq!(u.reason.as_deref(), Some("node n1 not asked"));
}

#[test]
fn a_claim_on_two_nodes_takes_the_first_that_reports_it() {
    let body = summary(&serde_json::json!([vol(Some(("shop", "c")), 3, 4, 1, 2)]));
    let input = nodes(vec![
        ("a", Err("timed out after 5s".into())),
        ("b", parse_summary(&body)),
    ]);
    let u = claim_usage(&input, "shop", "c", vec!["b".into(), "a".into()], None);
    assert_eq!(u.state, UsageState::Known);
    assert_eq!(u.node.as_deref(), Some("b"));
    assert_eq!(u.used_percent, Some(75));
    // Another namespace's claim of that name is not this one.
    let u = claim_usage(&input, "other", "c", vec!["b".into()], None);
    assert_eq!(u.state, UsageState::Unknown);
}

#[test]
fn threshold_flags_are_validated() {
    assert_eq!(Thresholds::new(85, 95), Ok(Thresholds::default()));
    assert!(Thresholds::new(90, 90).is_ok());
    assert!(Thresholds::new(96, 95).unwrap_err().contains("above"));
    assert!(Thresholds::new(0, 95).is_err());
    assert!(Thresholds::new(85, 101).is_err());
    assert_eq!(parse_percent("85%"), Ok(85));
    assert_eq!(parse_percent(" 7 "), Ok(7));
    assert!(parse_percent("85.5").is_err());
    assert!(parse_percent("-1").is_err());
    assert!(parse_percent("").is_err());
}

#[test]
fn bytes_read_like_quantities() {
    assert_eq!(bytes(None), "?");
    assert_eq!(bytes(Some(0)), "0");
    assert_eq!(bytes(Some(1023)), "1023");
    assert_eq!(bytes(Some(1024)), "1.0Ki");
    assert_eq!(bytes(Some(400 << 20)), "400Mi");
    assert_eq!(bytes(Some(10 * GI - 1)), "9.9Gi");
    assert_eq!(bytes(Some(96 * GI / 10)), "9.5Gi", "just under 9.6Gi");
    assert_eq!(bytes(Some(96 * GI / 10 + 1)), "9.6Gi");
    assert_eq!(bytes(Some(120 * GI)), "120Gi");
    assert_eq!(bytes(Some(u64::MAX)), "15Ei");
    assert_eq!(percent(Some(u64::MAX), Some(1)), None);
    assert_eq!(percent(Some(3), Some(4)), Some(75));
    assert_eq!(percent(Some(1), Some(0)), None);
}

/// The demo dump traced with summaries: the first trace names the nodes to ask, the second
/// fills each claim's usage and raises the diagnostics on the claim (and, for a node that
/// could not be read, an info on the node).
#[test]
fn a_trace_with_summaries_fills_claims_and_diagnoses_them() {
    let mut snap = crate::graph::Snapshot::default();
    stateful_core::snapshot::parse_dump_into(
        &mut snap,
        std::path::Path::new("demo-cluster.yaml"),
        include_str!("../../../../examples/demo-cluster.yaml"),
    )
    .unwrap();
    // A cluster's LISTs are complete: every pod is known.
    snap.mark_complete();
    let opts = |usage: UsageInput| crate::graph::TraceOptions {
        namespace: Some("shop".into()),
        source: "cluster".into(),
        usage: Some(usage),
        ..Default::default()
    };
    let first = crate::graph::trace(&snap, &opts(nodes(vec![]))).unwrap();
    let asked = nodes_to_ask(&first);
    assert!(
        asked.contains("worker-a") && asked.contains("worker-b"),
        "{asked:?}"
    );

    let body = summary(&serde_json::json!([vol(
        Some(("shop", "data-postgres-0")),
        96,
        100,
        1,
        100
    )]));
    let mut answers: Vec<(&str, Result<NodeStats, String>)> = asked
        .iter()
        .map(|n| (n.as_str(), Err("forbidden: get nodes/proxy".to_string())))
        .collect();
    for a in &mut answers {
        if a.0 == "worker-a" {
            a.1 = parse_summary(&body);
        }
    }
    let report = crate::graph::trace(&snap, &opts(nodes(answers))).unwrap();
    let mut usage_of = HashMap::new();
    for root in &report.roots {
        for_each_claim(root, &mut |c| {
            usage_of.insert(c.name.clone(), c.usage.clone().unwrap());
        });
    }
    let pg0 = &usage_of["data-postgres-0"];
    assert_eq!((pg0.state, pg0.used_percent), (UsageState::Known, Some(96)));
    assert_eq!(pg0.node.as_deref(), Some("worker-a"));
    let pg1 = &usage_of["data-postgres-1"];
    assert_eq!(pg1.state, UsageState::Unknown);
    assert_eq!(pg1.reason.as_deref(), Some("forbidden: get nodes/proxy"));
    assert!(
        usage_of.values().any(|u| u.state == UsageState::NotMounted),
        "a claim no running pod mounts: {usage_of:?}"
    );
    let diag = |code: &str, name: &str| {
        report
            .diagnostics
            .iter()
            .find(|d| d.code == code && d.object.name == name)
            .map(|d| d.severity)
    };
    assert_eq!(
        diag("VolumeNearlyFull", "data-postgres-0"),
        Some(Severity::Error)
    );
    assert_eq!(diag("VolumeNearlyFull", "data-postgres-1"), None);
    assert_eq!(diag("UsageUnknown", "worker-b"), Some(Severity::Info));
    assert!(
        report
            .diagnostics
            .iter()
            .all(|d| d.code != "UsageUnknown" || d.severity == Severity::Info)
    );
    // Without --usage, no claim carries usage and the JSON has no usage field.
    let plain = crate::graph::trace(&snap, &crate::graph::TraceOptions::default()).unwrap();
    let json = serde_json::to_string(&plain).unwrap();
    assert!(!json.contains("\"usage\""));
    let json = serde_json::to_value(&report).unwrap().to_string();
    assert!(json.contains("\"usedPercent\":96"), "{json}");
}
