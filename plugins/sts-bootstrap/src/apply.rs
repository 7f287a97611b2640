//! Live side of sts-bootstrap: observe every member through exec, run the live preflight checks,
//! and execute a plan. The executor never trusts a plan made earlier: before every step it
//! observes again, re-plans (pure), and runs the first pending step, so a step that is already
//! done is skipped, and an interrupted apply resumes where the state says it stopped.

use std::collections::HashMap;
use std::time::Duration;

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use serde::Serialize;

use crate::mongo::{self, MemberProbe};
use crate::postgres::{self, PodProbe};
use crate::preflight;
use crate::{Action, Check, CheckStatus, Engine, Plan, Step, Topology};
use stateful_core::error::{Error, Result};
use stateful_core::exec::{ExecOutput, ExecRequest, PodExec, sh, shell_quote};

/// How to reach the pods.
pub struct Ctx<'a, E: PodExec> {
    pub exec: &'a E,
    pub topo: &'a Topology,
    /// Per exec call.
    pub exec_timeout: Duration,
    /// For waits (PRIMARY elected, SECONDARY reached, replica streaming).
    pub wait: Duration,
}

/// What every member said.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Observed {
    Mongo(Vec<MemberProbe>),
    Postgres(Vec<PodProbe>),
}

impl<E: PodExec> Ctx<'_, E> {
    async fn run(
        &self,
        pod: &str,
        argv: Vec<String>,
        stdin: Option<Vec<u8>>,
    ) -> Result<ExecOutput> {
        self.exec
            .exec(ExecRequest {
                pod: pod.to_string(),
                container: self.topo.container.clone(),
                argv,
                stdin,
                timeout: self.exec_timeout,
            })
            .await
    }

    async fn run_ok(
        &self,
        pod: &str,
        what: &str,
        argv: Vec<String>,
        stdin: Option<Vec<u8>>,
    ) -> Result<ExecOutput> {
        let out = self.run(pod, argv, stdin).await?;
        if !out.success() {
            return Err(Error::Failed(format!(
                "{what} on {pod} failed (exit {}): {}",
                out.code,
                out.brief()
            )));
        }
        Ok(out)
    }

    fn primary_pod(&self) -> String {
        self.topo
            .member(self.topo.primary)
            .map(|m| m.pod.clone())
            .unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------------
// Observation
// ---------------------------------------------------------------------------------------------

pub async fn observe<E: PodExec>(ctx: &Ctx<'_, E>) -> Observed {
    match ctx.topo.engine {
        Engine::MongoDb => Observed::Mongo(observe_mongo(ctx).await),
        Engine::Postgres => Observed::Postgres(observe_postgres(ctx).await),
    }
}

async fn mongo_shell<E: PodExec>(
    ctx: &Ctx<'_, E>,
    pod: &str,
) -> std::result::Result<String, String> {
    match ctx.run(pod, mongo::probe_shell_argv(), None).await {
        Ok(o) if o.success() => Ok(o.stdout.trim().to_string()),
        Ok(o) => Err(o.brief()),
        Err(e) => Err(e.to_string()),
    }
}

pub async fn observe_mongo<E: PodExec>(ctx: &Ctx<'_, E>) -> Vec<MemberProbe> {
    let mut out = Vec::new();
    for m in &ctx.topo.members {
        let probe = match mongo_shell(ctx, &m.pod).await {
            Err(e) => MemberProbe::failed(&m.pod, &m.host, e),
            Ok(shell) => {
                let argv = mongo::shell_argv(ctx.topo, &shell, &mongo::probe_js());
                match ctx.run(&m.pod, argv, None).await {
                    Ok(o) if o.success() => mongo::parse_probe(&m.pod, &m.host, &shell, &o.stdout),
                    Ok(o) => {
                        MemberProbe::failed(&m.pod, &m.host, format!("{shell}: {}", o.brief()))
                    }
                    Err(e) => MemberProbe::failed(&m.pod, &m.host, e.to_string()),
                }
            }
        };
        out.push(probe);
    }
    out
}

async fn probe_pg<E: PodExec>(ctx: &Ctx<'_, E>, pod: &str, ordinal: u32) -> PodProbe {
    let (server, error) = match ctx.run(pod, postgres::probe_argv(ctx.topo), None).await {
        Ok(o) if o.success() => match postgres::parse_probe(&o.stdout) {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(e)),
        },
        Ok(o) => (None, Some(o.brief())),
        Err(e) => (None, Some(e.to_string())),
    };
    PodProbe {
        pod: pod.into(),
        ordinal,
        server,
        error,
    }
}

pub async fn observe_postgres<E: PodExec>(ctx: &Ctx<'_, E>) -> Vec<PodProbe> {
    let mut out = Vec::new();
    for m in &ctx.topo.members {
        out.push(probe_pg(ctx, &m.pod, m.ordinal).await);
    }
    out
}

/// The pure planner on observed state.
pub fn plan_from(topo: &Topology, observed: Option<&Observed>, base: Plan) -> Plan {
    match (topo.engine, observed) {
        (Engine::MongoDb, Some(Observed::Mongo(p))) => mongo::plan(topo, Some(p), base),
        (Engine::MongoDb, _) => mongo::plan(topo, None, base),
        (Engine::Postgres, Some(Observed::Postgres(p))) => postgres::plan(topo, Some(p), base),
        (Engine::Postgres, _) => postgres::plan(topo, None, base),
    }
}

// ---------------------------------------------------------------------------------------------
// Live preflight
// ---------------------------------------------------------------------------------------------

/// May the current user create `pods/exec` in the namespace? (SelfSubjectAccessReview.)
pub async fn exec_permission(client: &kube::Client, ns: &str) -> Result<Check> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(ns.to_string()),
                verb: Some("create".into()),
                resource: Some("pods".into()),
                subresource: Some("exec".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let res = api
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| Error::from_kube(e, "create", "selfsubjectaccessreviews", None, None))?;
    let allowed = res.status.as_ref().is_some_and(|s| s.allowed);
    Ok(if allowed {
        Check::new(
            preflight::EXEC_RBAC,
            CheckStatus::Pass,
            format!("may create pods/exec in {ns}"),
        )
    } else {
        let why = res
            .status
            .and_then(|s| s.reason)
            .filter(|r| !r.is_empty())
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        Check::new(
            preflight::EXEC_RBAC,
            CheckStatus::Fail,
            format!("forbidden: cannot create pods/exec in namespace {ns}{why}"),
        )
    })
}

/// Wait (watch, with a deadline) until every member pod is Running.
pub async fn wait_pods_running(
    client: &kube::Client,
    topo: &Topology,
    timeout: Duration,
) -> Result<()> {
    let api: Api<Pod> = Api::namespaced(client.clone(), &topo.namespace);
    let waits = topo.members.iter().map(|m| {
        let api = api.clone();
        let name = m.pod.clone();
        async move {
            kube::runtime::wait::await_condition(api, &name, |p: Option<&Pod>| {
                p.and_then(|p| p.status.as_ref())
                    .and_then(|s| s.phase.as_deref())
                    == Some("Running")
            })
            .await
            .map_err(|e| Error::Other(format!("watching pod {name}: {e}")))
        }
    });
    match tokio::time::timeout(timeout, futures::future::try_join_all(waits)).await {
        Ok(r) => r.map(|_| ()),
        Err(_) => Err(Error::TimedOut(format!(
            "pods of statefulset {} not all Running within {}s",
            topo.statefulset,
            timeout.as_secs()
        ))),
    }
}

/// Every member FQDN resolves from pod 0; the engine's binaries are in the container.
pub async fn live_checks<E: PodExec>(ctx: &Ctx<'_, E>) -> Vec<Check> {
    let mut checks = Vec::new();
    let Some(first) = ctx.topo.members.first() else {
        return checks;
    };
    let names: Vec<String> = ctx
        .topo
        .members
        .iter()
        .map(|m| shell_quote(&m.fqdn))
        .collect();
    let script = format!(
        "bad=''; for h in {}; do getent hosts \"$h\" >/dev/null 2>&1 || bad=\"$bad $h\"; done; if [ -n \"$bad\" ]; then echo \"unresolved:$bad\"; exit 1; fi",
        names.join(" ")
    );
    checks.push(match ctx.run(&first.pod, sh(script), None).await {
        Ok(o) if o.success() => Check::new(
            preflight::DNS,
            CheckStatus::Pass,
            format!("{} member names resolve from {}", names.len(), first.pod),
        ),
        Ok(o) => Check::new(
            preflight::DNS,
            CheckStatus::Fail,
            format!(
                "from {}: {} — wait for DNS, or set publishNotReadyAddresses: true on the Service",
                first.pod,
                o.brief()
            ),
        ),
        Err(e) => Check::new(preflight::DNS, CheckStatus::Fail, e.to_string()),
    });
    let bin_script = match ctx.topo.engine {
        Engine::MongoDb => "command -v mongosh || command -v mongo",
        Engine::Postgres => "command -v psql && command -v pg_basebackup",
    };
    let mut missing = Vec::new();
    for m in &ctx.topo.members {
        match ctx.run(&m.pod, sh(bin_script), None).await {
            Ok(o) if o.success() => {}
            Ok(_) => missing.push(m.pod.clone()),
            Err(e) => missing.push(format!("{} ({e})", m.pod)),
        }
    }
    let want = match ctx.topo.engine {
        Engine::MongoDb => "mongosh or mongo",
        Engine::Postgres => "psql and pg_basebackup",
    };
    checks.push(if missing.is_empty() {
        Check::new(
            preflight::BINARY,
            CheckStatus::Pass,
            format!("{want} present in container {}", ctx.topo.container),
        )
    } else {
        Check::new(
            preflight::BINARY,
            CheckStatus::Fail,
            format!(
                "{want} not found in container {} of: {}",
                ctx.topo.container,
                missing.join(", ")
            ),
        )
    });
    checks
}

// ---------------------------------------------------------------------------------------------
// Execution
// ---------------------------------------------------------------------------------------------

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

/// What the executor needs beyond the plan.
pub struct ApplyInputs {
    /// Names the directory a re-seeded replica's old data is moved to.
    pub stamp: String,
    /// PostgreSQL: the replication role's password (sent on stdin only).
    pub replication_password: Option<String>,
    /// A token written on the primary and read back on every replica.
    pub verify_token: String,
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
        api_version: crate::API_VERSION,
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
        let observed = observe(ctx).await;
        let mut plan = plan_from(ctx.topo, Some(&observed), fresh_base(base));
        if let Some(r) = &plan.refused {
            return Err(Error::Failed(format!("refused: {r}")));
        }
        if first {
            for s in plan
                .steps
                .iter()
                .filter(|s| s.status == crate::StepStatus::Done)
            {
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
        let Some(step) = plan
            .steps
            .iter_mut()
            .find(|s| s.status == crate::StepStatus::Pending)
        else {
            break;
        };
        let step = step.clone();
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
        plan.steps.clear();
    }
    let mut ordered = Vec::new();
    for s in order.iter().chain(last.iter()) {
        if ordered.iter().any(|o: &StepOutcome| o.id == s.id) {
            continue;
        }
        match report.steps.iter().find(|o| o.id == s.id) {
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
    for o in &report.steps {
        if !ordered.iter().any(|x| x.id == o.id) {
            ordered.push(o.clone());
        }
    }
    report.steps = ordered;
    report.verified = verify(ctx, inputs).await?;
    for v in &report.verified {
        progress(&format!("[verified] {v}"));
    }
    Ok(report)
}

fn fresh_base(base: &Plan) -> Plan {
    let mut p = base.clone();
    p.steps.clear();
    p.observed.clear();
    p.notes.clear();
    p.refused = None;
    p
}

async fn poll<E: PodExec, T>(
    ctx: &Ctx<'_, E>,
    what: &str,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> Result<T> {
    let deadline = tokio::time::Instant::now() + ctx.wait;
    loop {
        if let Some(t) = check().await {
            return Ok(t);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::TimedOut(format!(
                "{what} within {}s",
                ctx.wait.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn mongo_script<E: PodExec>(
    ctx: &Ctx<'_, E>,
    pod: &str,
    js: &str,
    what: &str,
) -> Result<String> {
    let shell = mongo_shell(ctx, pod)
        .await
        .map_err(|e| Error::Failed(format!("{pod}: {e}")))?;
    let out = ctx
        .run(pod, mongo::shell_argv(ctx.topo, &shell, js), None)
        .await?;
    let res = out
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix(mongo::MARK))
        .and_then(mongo::parse_doc)
        .map(|v| mongo::CmdResult::from_value(&v));
    match res {
        Some(r) if r.ok && out.success() => Ok(format!("{what}: ok")),
        Some(r) => Err(Error::Failed(format!("{what} on {pod}: {}", r.explain()))),
        None => Err(Error::Failed(format!("{what} on {pod}: {}", out.brief()))),
    }
}

async fn run_step<E: PodExec>(
    ctx: &Ctx<'_, E>,
    step: &Step,
    observed: &Observed,
    inputs: &ApplyInputs,
) -> Result<Option<String>> {
    let mongo_primary = || -> Result<String> {
        match observed {
            Observed::Mongo(ps) => ps
                .iter()
                .find(|p| p.is_primary)
                .map(|p| p.pod.clone())
                .ok_or_else(|| Error::Failed("no member is PRIMARY".into())),
            _ => Err(Error::Other("not a MongoDB observation".into())),
        }
    };
    match &step.action {
        Action::Initiate { set, host } => mongo_script(
            ctx,
            &step.pod,
            &mongo::initiate_js(set, host),
            "rs.initiate",
        )
        .await
        .map(Some),
        Action::WaitPrimary => {
            let pod = poll(ctx, "a PRIMARY to be elected", async || {
                observe_mongo(ctx)
                    .await
                    .into_iter()
                    .find(|p| p.is_primary)
                    .map(|p| p.pod)
            })
            .await?;
            Ok(Some(format!("{pod} is PRIMARY")))
        }
        Action::AddMember { host } => {
            let p = mongo_primary()?;
            mongo_script(ctx, &p, &mongo::add_member_js(host), "add member")
                .await
                .map(Some)
        }
        Action::PromoteMember { host } => {
            poll(ctx, &format!("{host} to become SECONDARY"), async || {
                observe_mongo(ctx)
                    .await
                    .into_iter()
                    .find(|p| &p.host == host)
                    .filter(|p| p.state() == Some("SECONDARY"))
                    .map(|_| ())
            })
            .await?;
            let p = mongo_primary()?;
            mongo_script(ctx, &p, &mongo::promote_member_js(host), "promote member")
                .await
                .map(Some)
        }
        Action::RemoveMember { host } => {
            let p = mongo_primary()?;
            mongo_script(ctx, &p, &mongo::remove_member_js(host), "remove member")
                .await
                .map(Some)
        }
        Action::CheckWalSettings | Action::Note => Ok(None),
        Action::CreateReplicationRole { role } => {
            let pw = inputs
                .replication_password
                .as_ref()
                .ok_or_else(|| Error::Failed("no replication password (Secret)".into()))?;
            ctx.run_ok(
                &step.pod,
                "create replication role",
                postgres::create_role_argv(role),
                Some(format!("{pw}\n").into_bytes()),
            )
            .await?;
            Ok(None)
        }
        Action::AddHbaRule { role } => {
            ctx.run_ok(&step.pod, "pg_hba rule", postgres::add_hba_argv(role), None)
                .await?;
            Ok(None)
        }
        Action::CreateSlot { slot } => {
            ctx.run_ok(
                &step.pod,
                "create slot",
                postgres::sql_argv(&postgres::create_slot_sql(slot)),
                None,
            )
            .await?;
            Ok(None)
        }
        Action::Reseed { replica, slot } => {
            let pw = inputs
                .replication_password
                .as_ref()
                .ok_or_else(|| Error::Failed("no replication password (Secret)".into()))?;
            let argv = postgres::reseed_argv(ctx.topo, replica, slot, &inputs.stamp);
            // Stopping the server ends the container (postgres is PID 1), which may cut this
            // exec session before its status arrives: a lost stream is not a failure here, a
            // non-zero exit is. Streaming from the primary decides.
            let moved = match ctx
                .run(replica, argv, Some(format!("{pw}\n").into_bytes()))
                .await
            {
                Ok(out) if out.success() => out
                    .stdout
                    .lines()
                    .find_map(|l| l.strip_prefix(postgres::MARK))
                    .unwrap_or("reseeded")
                    .to_string(),
                Ok(out) => {
                    return Err(Error::Failed(format!(
                        "re-seed on {replica} failed (exit {}): {}",
                        out.code,
                        out.brief()
                    )));
                }
                Err(e) => format!("reseeded (the exec session ended with the server: {e})"),
            };
            let primary_pod = ctx.primary_pod();
            let fqdn = ctx
                .topo
                .member(ctx.topo.primary)
                .map(|m| m.fqdn.clone())
                .unwrap_or_default();
            let ordinal = ctx
                .topo
                .members
                .iter()
                .find(|m| &m.pod == replica)
                .map(|m| m.ordinal)
                .unwrap_or(0);
            poll(
                ctx,
                &format!("{replica} to stream from {primary_pod}"),
                async || {
                    let p = probe_pg(ctx, &primary_pod, ctx.topo.primary).await.server?;
                    let r = probe_pg(ctx, replica, ordinal).await.server?;
                    r.streams_from(&p, &fqdn, slot).then_some(())
                },
            )
            .await?;
            Ok(Some(moved))
        }
    }
}

/// After convergence: PostgreSQL — every replica `streaming` in the primary's
/// pg_stat_replication, and a row written on the primary is read on each replica.
/// MongoDB — every member PRIMARY or SECONDARY.
async fn verify<E: PodExec>(ctx: &Ctx<'_, E>, inputs: &ApplyInputs) -> Result<Vec<String>> {
    let mut out = Vec::new();
    match ctx.topo.engine {
        Engine::MongoDb => {
            let probes = observe_mongo(ctx).await;
            let rows = mongo::status_rows(ctx.topo, &probes);
            for m in &ctx.topo.members {
                let st = rows
                    .iter()
                    .find(|r| r.pod.as_deref() == Some(m.pod.as_str()))
                    .map(|r| r.state.clone());
                match st.as_deref() {
                    Some("PRIMARY") | Some("SECONDARY") => {
                        out.push(format!("{} is {}", m.pod, st.unwrap_or_default()))
                    }
                    other => {
                        return Err(Error::Failed(format!(
                            "verification: {} is {} (expected PRIMARY or SECONDARY)",
                            m.pod,
                            other.unwrap_or("not in the replica set")
                        )));
                    }
                }
            }
        }
        Engine::Postgres => {
            let primary = ctx.primary_pod();
            let tok = &inputs.verify_token;
            if !tok.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(Error::Other("bad verification token".into()));
            }
            let sql = format!(
                "CREATE TABLE IF NOT EXISTS public.sts_bootstrap_check (token text PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT now()); INSERT INTO public.sts_bootstrap_check (token) VALUES ('{tok}') ON CONFLICT DO NOTHING"
            );
            ctx.run_ok(
                &primary,
                "write verification row",
                postgres::sql_argv(&sql),
                None,
            )
            .await?;
            for m in ctx
                .topo
                .members
                .iter()
                .filter(|m| m.ordinal != ctx.topo.primary)
            {
                let q = format!(
                    "SELECT count(*) FROM public.sts_bootstrap_check WHERE token = '{tok}'"
                );
                poll(
                    ctx,
                    &format!("the verification row to reach {}", m.pod),
                    async || {
                        ctx.run(&m.pod, postgres::sql_argv(&q), None)
                            .await
                            .ok()
                            .filter(|o| o.success() && o.stdout.trim() == "1")
                            .map(|_| ())
                    },
                )
                .await?;
                out.push(format!("{}: row written on {primary} is readable", m.pod));
            }
            let p = probe_pg(ctx, &primary, ctx.topo.primary).await;
            let server = p
                .server
                .ok_or_else(|| Error::Failed(format!("verification: cannot query {primary}")))?;
            for m in ctx
                .topo
                .members
                .iter()
                .filter(|m| m.ordinal != ctx.topo.primary)
            {
                let st = server
                    .replication
                    .iter()
                    .find(|r| r.application_name.as_deref() == Some(m.pod.as_str()))
                    .and_then(|r| r.state.clone());
                if st.as_deref() != Some("streaming") {
                    return Err(Error::Failed(format!(
                        "verification: pg_stat_replication on {primary} shows {} as {}",
                        m.pod,
                        st.as_deref().unwrap_or("absent")
                    )));
                }
                out.push(format!("{}: streaming in pg_stat_replication", m.pod));
            }
        }
    }
    Ok(out)
}

/// `status`: the set as the database sees it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub statefulset: String,
    pub namespace: String,
    pub engine: Engine,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mongo: Vec<mongo::StatusRow>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub postgres: Vec<postgres::StatusRow>,
    pub errors: Vec<String>,
}

pub async fn status<E: PodExec>(ctx: &Ctx<'_, E>) -> StatusReport {
    let mut r = StatusReport {
        api_version: crate::API_VERSION,
        kind: "ReplicaSetStatus",
        statefulset: ctx.topo.statefulset.clone(),
        namespace: ctx.topo.namespace.clone(),
        engine: ctx.topo.engine,
        mongo: Vec::new(),
        postgres: Vec::new(),
        errors: Vec::new(),
    };
    match observe(ctx).await {
        Observed::Mongo(ps) => {
            r.errors = ps
                .iter()
                .filter_map(|p| p.error.as_ref().map(|e| format!("{}: {e}", p.pod)))
                .collect();
            r.mongo = mongo::status_rows(ctx.topo, &ps);
            if r.mongo.is_empty() && r.errors.is_empty() {
                r.errors
                    .push("no member has a replica-set config yet".into());
            }
        }
        Observed::Postgres(ps) => {
            r.postgres = postgres::status_rows(ctx.topo, &ps);
        }
    }
    r
}

// ---------------------------------------------------------------------------------------------
// A session: what `plan`, `apply` and `status` share
// ---------------------------------------------------------------------------------------------

/// Preflight (named checks, exec permission first), then observe every member and plan.
/// Returns the plan; a failed check leaves it `refused` without running any engine command.
/// A denied `pods/exec` is an error (exit 4) because nothing can be read or done without it.
pub async fn live_plan(
    client: &kube::Client,
    exec: &stateful_core::exec::KubeExec,
    topo: &Topology,
    exec_timeout: Duration,
    wait: Duration,
    wait_for_pods: bool,
) -> Result<Plan> {
    let mut plan = Plan::new(topo, "cluster");
    plan.checks.push(preflight::service_check(topo));
    let rbac = exec_permission(client, &topo.namespace).await?;
    if rbac.status == CheckStatus::Fail {
        return Err(Error::Forbidden {
            verb: "create".into(),
            resource: "pods/exec".into(),
            namespace: Some(topo.namespace.clone()),
            message: "checked with a SelfSubjectAccessReview before running anything".into(),
        });
    }
    plan.checks.push(rbac);
    let mut pods = preflight::pods_check(topo);
    if pods.status == CheckStatus::Fail && wait_for_pods {
        wait_pods_running(client, topo, wait).await?;
        pods = Check::new(
            preflight::PODS,
            CheckStatus::Pass,
            format!("{} pods Running (waited)", topo.members.len()),
        );
    }
    plan.checks.push(pods);
    let ctx = Ctx {
        exec,
        topo,
        exec_timeout,
        wait,
    };
    if preflight::failed(&plan.checks).is_none() {
        let live = live_checks(&ctx).await;
        plan.checks.extend(live);
    }
    if let Some(why) = preflight::failed(&plan.checks) {
        plan.refuse(format!("preflight failed: {why}"));
        return Ok(plan);
    }
    let observed = observe(&ctx).await;
    Ok(plan_from(topo, Some(&observed), plan))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::testutil::{fixture, snapshot};
    use crate::{Options, StepStatus};
    use std::sync::Mutex;

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
