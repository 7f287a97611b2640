//! MongoDB: the pure planner. Observed members in, [`Plan`] out: refusals (unreachable member,
//! split configs, wrong set name), then initiate, wait for a PRIMARY, add and promote each other
//! ordinal, and remove members whose pods are gone (only with `--remove-missing`).

use super::{ConfMember, MemberProbe, RsConfig};
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
            fresh = fresh_probes(topo);
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
    refuse_conflicting_configs(&mut plan, probes, &set);
    if plan.refused.is_some() {
        return plan;
    }

    // The newest config among members (all of one identity now).
    let conf = probes
        .iter()
        .filter_map(|p| p.config.as_ref())
        .max_by_key(|c| c.version)
        .cloned();
    let primary = probes.iter().find(|p| p.is_primary);
    initiate_steps(&mut plan, topo, &set, conf.as_ref(), primary);
    member_steps(&mut plan, topo, probes, conf.as_ref(), primary);
    if let Some(c) = &conf {
        removal_steps(&mut plan, topo, c);
    }
    plan
}

/// From manifests only: every member answers, with no replica-set config.
fn fresh_probes(topo: &Topology) -> Vec<MemberProbe> {
    topo.members
        .iter()
        .map(|m| {
            let mut p = MemberProbe::failed(&m.pod, &m.host, "");
            p.error = None;
            p.not_initialized = true;
            p
        })
        .collect()
}

/// Refuse when members hold configs of different identities (a split), or of a set other than
/// mongod's `--replSet`.
fn refuse_conflicting_configs(plan: &mut Plan, probes: &[MemberProbe], set: &str) {
    // Every config seen, grouped by identity.
    let mut identities: Vec<(String, Option<String>, Vec<&str>)> = Vec::new();
    for p in probes {
        let Some(c) = p.config.as_ref() else {
            continue;
        };
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
}

/// `initiate` on ordinal 0 (done once any member has a config: never initiated twice), then
/// `wait-primary`.
fn initiate_steps(
    plan: &mut Plan,
    topo: &Topology,
    set: &str,
    conf: Option<&RsConfig>,
    primary: Option<&MemberProbe>,
) {
    let pod0 = &topo.members[0];
    let init = plan.step(
        "initiate".into(),
        &pod0.pod,
        Action::Initiate {
            set: set.to_string(),
            host: pod0.host.clone(),
        },
        format!(
            "rs.initiate set {set:?} with {} as its only member",
            pod0.host
        ),
    );
    if let Some(c) = conf {
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
}

/// `add/<pod>` (votes 0, priority 0) and `promote/<pod>` (votes 1, priority 1 once SECONDARY,
/// at most [`MAX_VOTING`] voting) for every ordinal but 0.
fn member_steps(
    plan: &mut Plan,
    topo: &Topology,
    probes: &[MemberProbe],
    conf: Option<&RsConfig>,
    primary: Option<&MemberProbe>,
) {
    let in_conf = |host: &str| -> Option<&ConfMember> {
        conf.and_then(|c| c.members.iter().find(|m| m.host.eq_ignore_ascii_case(host)))
    };
    let mut voting = conf
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
                if let Some(st) = state_of(probes, primary, &m.host)
                    && st != "SECONDARY"
                {
                    promote.because(format!("waits for SECONDARY (now {st})"));
                }
            }
        }
    }
}

/// A member's state: as it says itself, else as the primary sees it.
fn state_of(probes: &[MemberProbe], primary: Option<&MemberProbe>, host: &str) -> Option<String> {
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
}

/// `remove/<host>` for members in the config that are not pods of this StatefulSet any more
/// (kept unless `--remove-missing`); members named by IP get a note instead.
fn removal_steps(plan: &mut Plan, topo: &Topology, conf: &RsConfig) {
    for cm in &conf.members {
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
