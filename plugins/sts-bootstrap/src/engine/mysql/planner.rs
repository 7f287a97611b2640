//! The pure planner: observed servers in, [`Plan`] out.

use std::collections::BTreeMap;

use super::parse::{Dialect, ServerProbe};
use super::{PodProbe, describe};
use crate::Engine;
use crate::plan::{Action, Plan, Step};
use crate::topology::{Member, Topology};

/// Plan from the probes of every pod (`None`: manifests only, fresh pods assumed).
pub fn plan(topo: &Topology, observed: Option<&[PodProbe]>, mut plan: Plan) -> Plan {
    debug_assert_eq!(topo.engine, Engine::MySql);
    let Some(primary_m) = topo.member(topo.primary).cloned() else {
        plan.refuse("the StatefulSet has 0 replicas");
        return plan;
    };
    if observed.is_none() {
        plan.notes.push(
            "planned from manifests only: server settings are checked at apply time, and every replica is assumed empty (seeded from the primary)"
                .into(),
        );
    }
    let probe_of = |pod: &str| {
        observed
            .and_then(|o| o.iter().find(|p| p.pod == pod))
            .and_then(|p| p.server.as_ref())
    };
    if let Some(obs) = observed {
        for p in obs {
            plan.observed.push(describe(p));
        }
        if let Some(bad) = obs.iter().find(|p| p.error.is_some()) {
            plan.refuse(format!(
                "cannot query {}: {}",
                bad.pod,
                bad.error.as_deref().unwrap_or_default()
            ));
            return plan;
        }
    }
    let primary = probe_of(&primary_m.pod);
    if let Some(r) = primary
        .and_then(|p| p.replica.as_ref())
        .filter(|r| !r.source_host.is_empty())
    {
        plan.refuse(format!(
            "{} is a replica (of {}:{}): it cannot be the primary; pass --primary ORDINAL of the real primary",
            primary_m.pod,
            r.source_host,
            r.source_port.unwrap_or(0)
        ));
        return plan;
    }
    let servers: Vec<(&Member, &ServerProbe)> = topo
        .members
        .iter()
        .filter_map(|m| probe_of(&m.pod).map(|s| (m, s)))
        .collect();
    settings_step(&mut plan, &primary_m, primary, &servers);
    user_step(&mut plan, topo, &primary_m, primary);
    for m in topo.members.iter().filter(|m| m.ordinal != topo.primary) {
        replica_steps(&mut plan, topo, &primary_m, primary, m, probe_of(&m.pod));
    }
    plan
}

/// `server-settings`: binary logging on the primary, a distinct non-zero `server_id` on every
/// pod, GTID mode on MySQL. Any of them needs a restart, so it is blocked with the fix.
fn settings_step(
    plan: &mut Plan,
    primary_m: &Member,
    primary: Option<&ServerProbe>,
    servers: &[(&Member, &ServerProbe)],
) {
    let step = plan.step(
        "server-settings".into(),
        &primary_m.pod,
        Action::CheckServerSettings,
        "check binary logging on the primary and a distinct server_id on every pod (and GTID mode on MySQL)".into(),
    );
    let Some(p) = primary else {
        return;
    };
    let mut fixes = Vec::new();
    if !p.log_bin {
        fixes.push(format!(
            "binary logging is off on {}: start it with --log-bin (e.g. `--log-bin=mysql-bin` in the container's args) and restart it",
            primary_m.pod
        ));
    }
    let mut by_id: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
    for (m, s) in servers {
        by_id.entry(s.server_id).or_default().push(m.pod.as_str());
    }
    for (id, pods) in &by_id {
        if *id == 0 {
            fixes.push(format!(
                "{} ha{} server_id 0, which cannot replicate",
                pods.join(", "),
                if pods.len() == 1 { "s" } else { "ve" }
            ));
        } else if pods.len() > 1 {
            fixes.push(format!("{} share server_id {id}", pods.join(", ")));
        }
    }
    if by_id.len() < servers.len() || by_id.contains_key(&0) {
        fixes.push(
            "give each pod its own server_id from its ordinal, e.g. a command `sh -c 'exec mariadbd --server-id=$((100 + ${HOSTNAME##*-})) …'` (or a per-pod config file), then restart the pods".into(),
        );
    }
    for (m, s) in servers.iter().filter(|(_, s)| !s.is_mariadb()) {
        let gm = s.gtid_mode.as_deref().unwrap_or("?");
        let ec = s.enforce_gtid_consistency.as_deref().unwrap_or("?");
        if gm != "ON" || ec != "ON" {
            fixes.push(format!(
                "{}: gtid_mode={gm}, enforce_gtid_consistency={ec}: start it with --gtid-mode=ON --enforce-gtid-consistency=ON",
                m.pod
            ));
        }
    }
    if fixes.is_empty() {
        let ids: Vec<String> = servers
            .iter()
            .map(|(m, s)| format!("{}={}", m.pod, s.server_id))
            .collect();
        step.done(format!("binary logging on; server_id {}", ids.join(", ")));
    } else {
        step.block(format!(
            "{}. Refused: these need a restart",
            fixes.join("; ")
        ));
    }
}

/// `replication-user` on the primary: created with its password (from the replication Secret,
/// on stdin), or granted what it lacks.
fn user_step(plan: &mut Plan, topo: &Topology, primary_m: &Member, primary: Option<&ServerProbe>) {
    let user = topo.replication_user.clone();
    let row = primary.and_then(|p| p.users.iter().find(|u| u.host == "%"));
    let action = match row {
        Some(_) => Action::GrantReplication { user: user.clone() },
        None => Action::CreateReplicationUser { user: user.clone() },
    };
    let step = plan.step(
        "replication-user".into(),
        &primary_m.pod,
        action,
        format!(
            "create user '{user}'@'%' for replication and seeding (password from the replication Secret, sent on stdin), not written to the binary log"
        ),
    );
    match row {
        Some(r) if r.has_grants => {
            step.done(format!(
                "user '{user}'@'%' exists with the replication grants"
            ));
        }
        Some(_) => {
            step.because(format!(
                "user '{user}'@'%' exists but lacks some grants: GRANT them"
            ));
        }
        None => {}
    }
}

/// `seed/<pod>`, `replicate/<pod>`, `read-only/<pod>` for one replica.
fn replica_steps(
    plan: &mut Plan,
    topo: &Topology,
    primary_m: &Member,
    primary: Option<&ServerProbe>,
    m: &Member,
    s: Option<&ServerProbe>,
) {
    let (host, port) = (primary_m.fqdn.clone(), topo.port);
    let seed = plan.step(
        format!("seed/{}", m.pod),
        &m.pod,
        Action::SeedReplica { host: host.clone() },
        format!(
            "seed {} with a consistent dump of {} (mariadb-dump --single-transaction --master-data=1 --gtid, streamed inside the pod), then point it at the primary",
            m.pod, primary_m.pod
        ),
    );
    let replicating = s
        .and_then(|s| s.replica.as_ref())
        .is_some_and(|r| r.replicates_from(&host, port));
    if let Some(s) = s {
        seed_state(seed, primary_m, primary, s, &host, port);
    }
    let rep = plan.step(
        format!("replicate/{}", m.pod),
        &m.pod,
        Action::StartReplication {
            host: host.clone(),
            port,
        },
        format!(
            "replicate {} from {host}:{port} by GTID, then START; wait for both threads",
            m.pod
        ),
    );
    if let Some(r) = s.and_then(|s| s.replica.as_ref()).filter(|_| replicating) {
        if r.running() && r.uses_gtid() {
            rep.done(format!(
                "IO and SQL threads running from {}, {}s behind",
                primary_m.pod,
                r.seconds_behind.map_or("?".into(), |n| n.to_string())
            ));
        } else if r.last_sql_errno != 0 {
            rep.block(format!(
                "replication from {} stopped on an SQL error ({}): the replica's data disagrees with the primary's. Refused: fix it, or empty the replica's volume and run apply again (it is then seeded afresh)",
                primary_m.pod,
                r.last_error().unwrap_or_default()
            ));
        } else {
            rep.because(format!(
                "configured from {} but IO {} / SQL {}{}: configured again and started",
                primary_m.pod,
                r.io_running,
                r.sql_running,
                r.last_error()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ));
        }
    }
    let ro = plan.step(
        format!("read-only/{}", m.pod),
        &m.pod,
        Action::SetReadOnly,
        format!("read_only = ON on {}", m.pod),
    );
    if s.is_some_and(|s| s.read_only) {
        ro.done("read_only is ON");
    } else if s.is_some_and(|s| s.dialect != Dialect::MySqlSource) {
        ro.because("read_only is OFF; SET GLOBAL does not survive a restart (put read_only=ON in the replicas' configuration to keep it)");
    }
}

/// Whether a replica needs seeding, or is refused.
fn seed_state(
    seed: &mut Step,
    primary_m: &Member,
    primary: Option<&ServerProbe>,
    s: &ServerProbe,
    host: &str,
    port: u16,
) {
    if let Some(r) = s.replica.as_ref().filter(|r| !r.source_host.is_empty()) {
        if r.replicates_from(host, port) {
            seed.done(format!("replicates from {}", primary_m.pod));
        } else {
            seed.block(format!(
                "it replicates from {}:{}, not from {}. Refused: stop it there first (STOP SLAVE; RESET SLAVE ALL)",
                r.source_host,
                r.source_port.unwrap_or(0),
                primary_m.pod
            ));
        }
        return;
    }
    let Some(p) = primary else {
        return;
    };
    if s.is_mariadb() != p.is_mariadb() {
        seed.block(format!(
            "it runs {} and the primary {}: refused",
            s.version, p.version
        ));
        return;
    }
    let foreign = s.gtids.missing_from(&p.gtids);
    if !foreign.is_empty() {
        seed.block(format!(
            "diverged GTID set: it holds transactions the primary does not ({}; primary at {}). Refused: its data is not the primary's — empty its volume and run apply again",
            foreign.join(","),
            if p.gtid_position.is_empty() { "nothing" } else { &p.gtid_position }
        ));
    } else if !s.gtids.is_empty() {
        seed.done(format!(
            "holds the primary's history up to {} (a former replica): replication resumes from there",
            s.gtid_position
        ));
    } else if s.table_count() > 0 {
        seed.block(format!(
            "it has data of its own ({}) and no GTID history from the primary. Refused: it would be overwritten — empty its volume (or drop those schemas) and run apply again",
            s.tables_text()
        ));
    } else {
        seed.because("empty: no user tables, no transactions of its own");
    }
}
