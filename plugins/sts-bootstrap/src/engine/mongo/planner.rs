//! MongoDB: the pure planner. Observed members in, [`Plan`] out: refusals (unreachable member,
//! split configs, wrong set name), then initiate, wait for a PRIMARY, add and promote each other
//! ordinal, and remove members whose pods are gone (only with `--remove-missing`).

use super::{ConfMember, MemberProbe};
use crate::Engine;
use crate::plan::{Action, Plan, StepStatus};
use crate::topology::Topology;

const MAX_VOTING: usize = 7;

/// Plan from what every member said (`None`: from manifests only, fresh pods assumed).
pub fn plan(topo: &Topology, observed: Option<&[MemberProbe]>, mut plan: Plan) -> Plan {
    debug_assert_eq!(topo.engine, Engine::MongoDb);
    let Some(set) = topo.repl_set.clone() else {
        plan.refuse(format!(
            "container {} does not run `mongod --replSet NAME`: add --replSet to its command or args first",
            topo.container
        ));
        return plan;
    };
    if topo.members.is_empty() {
        plan.refuse("the StatefulSet has 0 replicas");
        return plan;
    }
    let fresh: Vec<MemberProbe>;
    let probes: &[MemberProbe] = match observed {
        Some(p) => p,
        None => {
            fresh = topo
                .members
                .iter()
                .map(|m| {
                    let mut p = MemberProbe::failed(&m.pod, &m.host, "");
                    p.error = None;
                    p.not_initialized = true;
                    p
                })
                .collect();
            plan.notes.push(
                "planned from manifests only: every pod is assumed fresh (no replica-set config)"
                    .into(),
            );
            &fresh
        }
    };
    for p in probes {
        plan.observed.push(describe_probe(p));
    }
    if let Some(bad) = probes.iter().find(|p| p.error.is_some()) {
        plan.refuse(format!(
            "cannot query {}: {} — every member must be queried before anything is changed",
            bad.pod,
            bad.error.as_deref().unwrap_or_default()
        ));
    }

    // Every config seen, grouped by identity.
    let with_conf: Vec<&MemberProbe> = probes.iter().filter(|p| p.config.is_some()).collect();
    let mut identities: Vec<(String, Option<String>, Vec<&str>)> = Vec::new();
    for p in &with_conf {
        let c = p.config.as_ref().expect("filtered");
        match identities
            .iter_mut()
            .find(|(s, id, _)| *s == c.set && ids_match(id.as_deref(), c.replica_set_id.as_deref()))
        {
            Some(e) => e.2.push(&p.pod),
            None => identities.push((c.set.clone(), c.replica_set_id.clone(), vec![&p.pod])),
        }
    }
    if identities.len() > 1 {
        let desc: Vec<String> = identities
            .iter()
            .map(|(s, id, pods)| {
                format!(
                    "{} in set {s:?} replicaSetId {}",
                    pods.join(", "),
                    id.as_deref().unwrap_or("?")
                )
            })
            .collect();
        plan.refuse(format!(
            "split replica set: members hold different configs ({}). Typically a member came back with an empty volume and was initiated on its own. Decide which set holds the data, wipe or resync the others by hand, then run again",
            desc.join("; ")
        ));
    }
    if let Some((s, _, pods)) = identities.iter().find(|(s, _, _)| *s != set) {
        plan.refuse(format!(
            "{} belong to replica set {s:?} but mongod runs with --replSet {set:?}",
            pods.join(", ")
        ));
    }
    if plan.refused.is_some() {
        return plan;
    }

    let pod0 = &topo.members[0];
    // The newest config among members (all of one identity now).
    let conf = with_conf
        .iter()
        .filter_map(|p| p.config.as_ref())
        .max_by_key(|c| c.version)
        .cloned();
    let primary = probes.iter().find(|p| p.is_primary);

    let init = plan.step(
        "initiate".into(),
        &pod0.pod,
        Action::Initiate {
            set: set.clone(),
            host: pod0.host.clone(),
        },
        format!(
            "rs.initiate set {set:?} with {} as its only member",
            pod0.host
        ),
    );
    if let Some(c) = &conf {
        init.done(format!(
            "already initiated: set {:?} replicaSetId {} version {} (never initiated twice)",
            c.set,
            c.replica_set_id.as_deref().unwrap_or("?"),
            c.version
        ));
    }
    let wait = plan.step(
        "wait-primary".into(),
        &pod0.pod,
        Action::WaitPrimary,
        "wait until a member is PRIMARY".into(),
    );
    if let Some(p) = primary {
        wait.done(format!("{} is PRIMARY", p.pod));
    }

    let in_conf = |host: &str| -> Option<&ConfMember> {
        conf.as_ref()
            .and_then(|c| c.members.iter().find(|m| m.host.eq_ignore_ascii_case(host)))
    };
    let state_of = |host: &str| -> Option<String> {
        probes
            .iter()
            .find(|p| p.host == host)
            .and_then(|p| p.state().map(str::to_string))
            .or_else(|| {
                primary.and_then(|p| {
                    p.status.as_ref().and_then(|s| {
                        s.members
                            .iter()
                            .find(|m| m.name.eq_ignore_ascii_case(host))
                            .map(|m| m.state_str.clone())
                    })
                })
            })
    };
    let mut voting = conf
        .as_ref()
        .map(|c| c.members.iter().filter(|m| m.votes > 0).count())
        .unwrap_or(1);
    for m in topo.members.iter().skip(1) {
        let step = plan.step(
            format!("add/{}", m.pod),
            &m.pod,
            Action::AddMember {
                host: m.host.clone(),
            },
            format!("add {} (votes 0, priority 0)", m.host),
        );
        let member = in_conf(&m.host);
        if member.is_some() {
            step.done("already a member");
        }
        let promote = plan.step(
            format!("promote/{}", m.pod),
            &m.pod,
            Action::PromoteMember {
                host: m.host.clone(),
            },
            format!("give {} votes 1, priority 1 once SECONDARY", m.host),
        );
        match member {
            Some(cm) if cm.votes > 0 => {
                promote.done("already voting");
            }
            _ if voting >= MAX_VOTING => {
                promote.done(format!(
                    "stays non-voting: a replica set has at most {MAX_VOTING} voting members"
                ));
            }
            _ => {
                voting += 1;
                if let Some(st) = state_of(&m.host)
                    && st != "SECONDARY"
                {
                    promote.because(format!("waits for SECONDARY (now {st})"));
                }
            }
        }
    }
    // Members in the config that are not pods of this StatefulSet any more.
    if let Some(c) = &conf {
        for cm in &c.members {
            if topo
                .members
                .iter()
                .any(|m| m.host.eq_ignore_ascii_case(&cm.host))
            {
                continue;
            }
            let looks_like_ip = cm
                .host
                .rsplit_once(':')
                .map(|(h, _)| h)
                .unwrap_or(&cm.host)
                .parse::<std::net::IpAddr>()
                .is_ok();
            if looks_like_ip {
                plan.notes.push(format!(
                    "member {} is named by IP address: pod IPs change on restart; reconfigure it to its FQDN by hand",
                    cm.host
                ));
                continue;
            }
            let step = plan.step(
                format!("remove/{}", cm.host),
                "-",
                Action::RemoveMember {
                    host: cm.host.clone(),
                },
                format!("remove {} (no such pod in the StatefulSet)", cm.host),
            );
            if !topo.remove_missing {
                step.done("kept: pass --remove-missing to remove members whose pods are gone");
            }
        }
    }
    plan
}

fn ids_match(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        // An old config without settings.replicaSetId: compare by set name only.
        _ => true,
    }
}

fn describe_probe(p: &MemberProbe) -> String {
    if let Some(e) = &p.error {
        return format!("{}: cannot query: {e}", p.pod);
    }
    let shell = p.shell.as_deref().unwrap_or("-");
    match (&p.config, &p.config_error) {
        (Some(c), _) => format!(
            "{}: {} in set {:?} (replicaSetId {}, config version {}, {} members) [{shell}]",
            p.pod,
            p.state()
                .unwrap_or(if p.is_primary { "PRIMARY" } else { "member" }),
            c.set,
            c.replica_set_id.as_deref().unwrap_or("?"),
            c.version,
            c.members.len()
        ),
        (None, Some(e)) if p.not_initialized => {
            format!(
                "{}: no replica-set config ({}) [{shell}]",
                p.pod,
                e.explain()
            )
        }
        (None, Some(e)) => format!("{}: config unreadable: {} [{shell}]", p.pod, e.explain()),
        (None, None) => format!("{}: fresh (assumed)", p.pod),
    }
}

/// Is every pod a healthy PRIMARY/SECONDARY in the config?
pub fn converged(plan: &Plan) -> bool {
    plan.steps.iter().all(|s| s.status == StepStatus::Done)
}
