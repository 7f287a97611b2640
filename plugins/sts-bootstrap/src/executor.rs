//! The engine-neutral executor over [`PodExec`]. It never trusts a plan made earlier: before
//! every step it observes again, re-plans (pure), and runs the first pending step, so a step
//! that is already done is skipped, and an interrupted apply resumes where the state says it
//! stopped. Each kind of step is a function of its engine module; `run_step` only routes.

use std::collections::HashMap;

use serde::Serialize;

pub use crate::ctx::{ApplyInputs, Ctx};
use crate::engine::{self, Observed, mongo, mysql, postgres, redis};
use crate::plan::{Action, Plan, Step, StepStatus};
use crate::{API_VERSION, Engine};
use stateful_core::error::{Error, Result};
use stateful_core::exec::PodExec;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StepOutcome {
    pub id: String,
    pub description: String,
    /// "already done" | "done"
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyReport {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub statefulset: String,
    pub namespace: String,
    pub engine: Engine,
    pub steps: Vec<StepOutcome>,
    pub verified: Vec<String>,
}

/// Observe → plan → run the first pending step, until nothing is pending. `progress` gets one
/// line per event (no secrets).
pub async fn execute<E: PodExec>(
    ctx: &Ctx<'_, E>,
    base: &Plan,
    inputs: &ApplyInputs,
    mut progress: impl FnMut(&str),
) -> Result<ApplyReport> {
    let mut report = ApplyReport {
        api_version: API_VERSION,
        kind: "BootstrapResult",
        statefulset: ctx.topo.statefulset.clone(),
        namespace: ctx.topo.namespace.clone(),
        engine: ctx.topo.engine,
        steps: Vec::new(),
        verified: Vec::new(),
    };
    let mut attempts: HashMap<String, u32> = HashMap::new();
    let mut first = true;
    // Every step of the first plan, in order, is reported (a step made true by an earlier one
    // is reported "done" with that reason).
    let mut order: Vec<Step> = Vec::new();
    let mut last: Vec<Step>;
    loop {
        let observed = engine::observe(ctx).await;
        let plan = engine::plan_from(ctx.topo, Some(&observed), fresh_base(base));
        if let Some(r) = &plan.refused {
            return Err(Error::Failed(format!("refused: {r}")));
        }
        if first {
            for s in plan.steps.iter().filter(|s| s.status == StepStatus::Done) {
                progress(&format!(
                    "[already done] {} — {}",
                    s.description,
                    s.reason.as_deref().unwrap_or("")
                ));
                report.steps.push(StepOutcome {
                    id: s.id.clone(),
                    description: s.description.clone(),
                    outcome: "already done".into(),
                    detail: s.reason.clone(),
                });
            }
            order = plan.steps.clone();
            first = false;
        }
        last = plan.steps.clone();
        if let Some(b) = plan.blocked() {
            return Err(Error::Failed(format!(
                "step {} is blocked: {}",
                b.id,
                b.reason.as_deref().unwrap_or_default()
            )));
        }
        let Some(step) = plan.pending().cloned() else {
            break;
        };
        let n = attempts.entry(step.id.clone()).or_default();
        *n += 1;
        if *n > 3 {
            return Err(Error::Failed(format!(
                "step {} did not take effect after 3 attempts (the state it checks did not change)",
                step.id
            )));
        }
        progress(&format!("[running] {} ({})", step.description, step.pod));
        let detail = run_step(ctx, &step, &observed, inputs).await?;
        progress(&format!("[done] {}", step.description));
        report.steps.retain(|s| s.id != step.id);
        report.steps.push(StepOutcome {
            id: step.id.clone(),
            description: step.description.clone(),
            outcome: "done".into(),
            detail,
        });
    }
    report.steps = in_plan_order(&order, &last, &report.steps);
    report.verified = engine::verify(ctx, inputs).await?;
    for v in &report.verified {
        progress(&format!("[verified] {v}"));
    }
    Ok(report)
}

/// The outcomes in the order of the first plan (then of the last, for steps that appeared on
/// the way). A step of a plan with no outcome was made true by an earlier step: "done", with
/// its reason. Outcomes of steps in neither plan come last.
fn in_plan_order(order: &[Step], last: &[Step], outcomes: &[StepOutcome]) -> Vec<StepOutcome> {
    let mut ordered = Vec::new();
    for s in order.iter().chain(last.iter()) {
        if ordered.iter().any(|o: &StepOutcome| o.id == s.id) {
            continue;
        }
        match outcomes.iter().find(|o| o.id == s.id) {
            Some(o) => ordered.push(o.clone()),
            None => ordered.push(StepOutcome {
                id: s.id.clone(),
                description: s.description.clone(),
                outcome: "done".into(),
                detail: Some(
                    s.reason
                        .clone()
                        .unwrap_or_else(|| "satisfied by an earlier step".into()),
                ),
            }),
        }
    }
    for o in outcomes {
        if !ordered.iter().any(|x| x.id == o.id) {
            ordered.push(o.clone());
        }
    }
    ordered
}

/// The base plan (header and preflight checks) without what planning adds.
fn fresh_base(base: &Plan) -> Plan {
    let mut p = base.clone();
    p.steps.clear();
    p.observed.clear();
    p.notes.clear();
    p.refused = None;
    p
}

/// Run one step: each kind of action is a function of its engine. `observed` is the state the
/// step was planned from. Returns a detail for the report, when the step has one.
async fn run_step<E: PodExec>(
    ctx: &Ctx<'_, E>,
    step: &Step,
    observed: &Observed,
    inputs: &ApplyInputs,
) -> Result<Option<String>> {
    match &step.action {
        Action::Initiate { set, host } => mongo::initiate(ctx, &step.pod, set, host).await,
        Action::WaitPrimary => mongo::wait_primary(ctx).await,
        Action::AddMember { host } => mongo::add_member(ctx, observed, host).await,
        Action::PromoteMember { host } => mongo::promote_member(ctx, observed, host).await,
        Action::RemoveMember { host } => mongo::remove_member(ctx, observed, host).await,
        Action::CheckWalSettings | Action::CheckServerSettings | Action::Note => Ok(None),
        Action::CreateReplicationRole { role } => {
            postgres::create_role(ctx, &step.pod, role, inputs).await
        }
        Action::AddHbaRule { role } => postgres::add_hba_rule(ctx, &step.pod, role).await,
        Action::CreateSlot { slot } => postgres::create_slot(ctx, &step.pod, slot).await,
        Action::Reseed { replica, slot } => postgres::reseed(ctx, replica, slot, inputs).await,
        Action::ReplicaOf { host, port } => redis::replicaof(ctx, &step.pod, host, *port).await,
        Action::PersistConfig => redis::persist(ctx, &step.pod).await,
        Action::CreateReplicationUser { .. } => mysql::create_user(ctx, &step.pod, inputs).await,
        Action::GrantReplication { user } => mysql::grant_user(ctx, &step.pod, user).await,
        Action::SeedReplica { host } => mysql::seed(ctx, observed, &step.pod, host, inputs).await,
        Action::StartReplication { host, port } => {
            mysql::start_replication(ctx, observed, &step.pod, host, *port, inputs).await
        }
        Action::SetReadOnly => mysql::set_read_only(ctx, observed, &step.pod).await,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::testutil::{fixture, snapshot};
    use crate::topology::Topology;
    use crate::{Options, StepStatus};
    use stateful_core::exec::{ExecOutput, ExecRequest};
    use std::sync::Mutex;
    use std::time::Duration;

    /// A stand-in for exec that answers the PostgreSQL probe from recorded real outputs and
    /// records every request (to check that secrets only travel on stdin).
    struct Recorded {
        answers: HashMap<String, String>,
        seen: Mutex<Vec<ExecRequest>>,
    }

    impl PodExec for Recorded {
        async fn exec(&self, req: ExecRequest) -> Result<ExecOutput> {
            self.seen.lock().unwrap().push(req.clone());
            let stdout = if req.argv[2].contains("json_build_object") {
                format!("{}{}", postgres::MARK, self.answers[&req.pod])
            } else if req.argv[2].contains("sts_bootstrap_check WHERE") {
                "1\n".into()
            } else {
                String::new()
            };
            Ok(ExecOutput {
                stdout,
                stderr: String::new(),
                code: 0,
            })
        }
    }

    #[tokio::test]
    async fn second_apply_reports_everything_already_done() {
        let snap = snapshot("todo-db.yaml");
        let o = Options {
            cluster_domain: "cluster.local".into(),
            ..Default::default()
        };
        let topo = Topology::from_snapshot(&snap, "default", "todo-db", &o).unwrap();
        let mut primary: serde_json::Value =
            serde_json::from_str(&fixture("postgres/probe-primary-streaming.json")).unwrap();
        primary["hbaRules"].as_array_mut().unwrap().push(serde_json::json!({"line": 100, "type": "host", "database": ["replication"], "userName": ["replicator"], "address": null, "authMethod": "scram-sha-256", "error": null}));
        let exec = Recorded {
            answers: [
                ("todo-db-0".to_string(), primary.to_string()),
                (
                    "todo-db-1".to_string(),
                    fixture("postgres/probe-standby-streaming.json"),
                ),
            ]
            .into(),
            seen: Mutex::new(Vec::new()),
        };
        let ctx = Ctx {
            exec: &exec,
            topo: &topo,
            exec_timeout: Duration::from_secs(5),
            wait: Duration::from_secs(1),
        };
        let inputs = ApplyInputs {
            stamp: "s".into(),
            replication_password: Some("PLANTED-pw".into()),
            verify_token: "t-1".into(),
        };
        let mut lines = Vec::new();
        let report = execute(&ctx, &Plan::new(&topo, "cluster"), &inputs, |l| {
            lines.push(l.to_string())
        })
        .await
        .unwrap();
        assert!(
            report.steps.iter().all(|s| s.outcome == "already done"),
            "{:#?}",
            report.steps
        );
        assert_eq!(report.steps.len(), 5);
        assert!(report.verified.iter().any(|v| v.contains("streaming")));
        for r in exec.seen.lock().unwrap().iter() {
            assert!(!r.argv.join(" ").contains("PLANTED"));
        }
        assert!(lines.iter().all(|l| !l.contains("PLANTED")));
        let _ = StepStatus::Done;
    }
}
