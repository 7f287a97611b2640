//! kubectl sts-bootstrap: turn StatefulSet pods into a MongoDB replica set or PostgreSQL
//! streaming replicas, from outside, through exec. The logic lives in
//! `stateful_core::bootstrap`; this is flags, confirmation and output.

use std::io::IsTerminal;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use stateful_core::bootstrap::apply::{self, ApplyInputs, Ctx};
use stateful_core::bootstrap::{self, Engine, Options, Plan, StepStatus, Topology};
use stateful_core::cli::{self, CommonArgs, OutputFormat, parse_duration};
use stateful_core::exec::KubeExec;
use stateful_core::render;
use stateful_core::snapshot::{Kind, Source};
use stateful_core::{Error, ExitCode, Result};

const AFTER_HELP: &str = "Examples:
  kubectl sts-bootstrap plan mongo                 # what would be done, from live state
  kubectl sts-bootstrap plan todo-db --from-file sts.yaml   # from manifests, fresh pods assumed
  kubectl sts-bootstrap apply mongo --yes          # do it, no prompt (scripts)
  kubectl sts-bootstrap apply todo-db --replication-secret todo-db-repl
  kubectl sts-bootstrap status mongo -o json       # members, state, lag

Exit codes: 0 ok, 1 error, 2 usage (or no TTY and no --yes), 3 not found, 4 forbidden (e.g. no pods/exec), 5 refused or failed, 6 timed out.";

/// Turn a StatefulSet's pods into a MongoDB replica set or PostgreSQL streaming replicas.
#[derive(Parser, Debug)]
#[command(name = "kubectl sts-bootstrap", version, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,

    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Show what would be done, step by step, with the live state it read.
    Plan(Target),
    /// Do it: preflight, then each step (skipped when already done), then verify.
    Apply {
        #[command(flatten)]
        target: Target,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Only show the plan (same as `plan`).
        #[arg(long)]
        dry_run: bool,
    },
    /// The replica set as the database sees it: members, state, lag.
    Status(Target),
}

#[derive(Args, Debug, Clone)]
struct Target {
    /// The StatefulSet.
    #[arg(value_name = "STATEFULSET")]
    statefulset: String,
    /// Engine (default: detected from the pod template).
    #[arg(long, value_enum)]
    engine: Option<Engine>,
    /// The database container (default: detected).
    #[arg(short = 'c', long, value_name = "NAME")]
    container: Option<String>,
    /// Cluster DNS domain for member names.
    #[arg(long, default_value = "cluster.local", value_name = "DOMAIN")]
    cluster_domain: String,
    /// PostgreSQL: ordinal of the primary.
    #[arg(long, value_name = "ORDINAL")]
    primary: Option<u32>,
    /// PostgreSQL: Secret with key `password` for the replication role (default: <sts>-replication, created when missing).
    #[arg(long, value_name = "SECRET")]
    replication_secret: Option<String>,
    /// PostgreSQL: replication role name.
    #[arg(long, default_value = "replicator", value_name = "ROLE")]
    replication_user: String,
    /// MongoDB: remove members whose pods are gone (asks for confirmation).
    #[arg(long)]
    remove_missing: bool,
    /// Deadline for waits: pods Running, PRIMARY elected, replicas streaming.
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    timeout: String,
    /// Deadline for each command run in a pod.
    #[arg(long, default_value = "2m", value_name = "DURATION")]
    exec_timeout: String,
}

impl Target {
    fn options(&self) -> Options {
        Options {
            engine: self.engine,
            container: self.container.clone(),
            cluster_domain: self.cluster_domain.clone(),
            primary: self.primary,
            remove_missing: self.remove_missing,
            replication_user: self.replication_user.clone(),
        }
    }
    fn durations(&self) -> Result<(Duration, Duration)> {
        let d = |flag: &str, v: &str| {
            parse_duration(v).map_err(|e| Error::Usage(format!("invalid --{flag} {v:?}: {e}")))
        };
        Ok((
            d("timeout", &self.timeout)?,
            d("exec-timeout", &self.exec_timeout)?,
        ))
    }
}

fn print_plan(plan: &Plan, out: OutputFormat) -> Result<()> {
    let text = match out {
        OutputFormat::Json => render::to_json(plan)?,
        OutputFormat::Yaml => render::to_yaml(plan)?,
        _ => bootstrap::render_plan(plan),
    };
    cli::print_out(&text)
}

fn plan_exit(plan: &Plan) -> ExitCode {
    if plan.refused.is_some() || plan.blocked().is_some() {
        ExitCode::Problems
    } else {
        ExitCode::Success
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    cli.common.validate()?;
    if cli.common.kube.all_namespaces {
        return Err(Error::Usage(
            "-A/--all-namespaces does not apply: name one StatefulSet".into(),
        ));
    }
    let (target, yes, dry_run, is_status) = match &cli.cmd {
        Cmd::Plan(t) => (t.clone(), false, true, false),
        Cmd::Apply {
            target,
            yes,
            dry_run,
        } => (target.clone(), *yes, *dry_run, false),
        Cmd::Status(t) => (t.clone(), false, false, true),
    };
    let (wait, exec_timeout) = target.durations()?;
    if let Some(s) = &target.replication_secret {
        cli::validate_dns1123_subdomain(s)
            .map_err(|e| Error::Usage(format!("--replication-secret: {e}")))?;
    }
    let out = cli.common.output_or(OutputFormat::Table);
    let (source, default_ns) = Source::from_args(&cli.common).await?;
    let scope = Source::scope(&cli.common, default_ns.or(Some("default".into())))?;
    let ns = scope.namespace.clone().unwrap_or_else(|| "default".into());
    let snap = source
        .load(&[Kind::StatefulSet, Kind::Pod, Kind::Service], &scope)
        .await?;
    if let Some(g) = snap
        .gap(Kind::StatefulSet)
        .filter(|g| g.reason == stateful_core::snapshot::GapReason::Forbidden)
    {
        return Err(Error::Forbidden {
            verb: "list".into(),
            resource: "statefulsets".into(),
            namespace: g.namespace.clone(),
            message: g.message.clone(),
        });
    }
    let topo = Topology::from_snapshot(&snap, &ns, &target.statefulset, &target.options())?;

    let conn = match &source {
        Source::Cluster(c) => c.clone(),
        Source::Dump(_) => {
            if !dry_run {
                return Err(Error::Usage(
                    "--from-file only plans: `apply` and `status` need a cluster".into(),
                ));
            }
            let mut plan = Plan::new(&topo, "file");
            plan.checks.push(bootstrap::preflight::service_check(&topo));
            let plan = apply::plan_from(&topo, None, plan);
            print_plan(&plan, out)?;
            return Ok(plan_exit(&plan));
        }
    };
    let exec = KubeExec::new(conn.client.clone(), &ns);
    let ctx = Ctx {
        exec: &exec,
        topo: &topo,
        exec_timeout,
        wait,
    };

    if is_status {
        let report = apply::status(&ctx).await;
        let text = match out {
            OutputFormat::Json => render::to_json(&report)?,
            OutputFormat::Yaml => render::to_yaml(&report)?,
            _ => status_table(&report),
        };
        cli::print_out(&text)?;
        return Ok(if report.errors.is_empty() {
            ExitCode::Success
        } else {
            ExitCode::Problems
        });
    }

    let plan = apply::live_plan(&conn.client, &exec, &topo, exec_timeout, wait, !dry_run).await?;
    if dry_run || plan.refused.is_some() || plan.blocked().is_some() {
        print_plan(&plan, out)?;
        return Ok(plan_exit(&plan));
    }
    let pending = plan
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Pending)
        .count();
    if pending > 0 {
        eprint!("{}", bootstrap::render_plan(&plan));
        confirm(yes, pending, topo.remove_missing)?;
    }
    let needs_pw = plan.steps.iter().any(|s| {
        s.status == StepStatus::Pending
            && matches!(
                s.action,
                bootstrap::Action::CreateReplicationRole { .. } | bootstrap::Action::Reseed { .. }
            )
    });
    let mut password = None;
    if needs_pw {
        let name = target
            .replication_secret
            .clone()
            .unwrap_or_else(|| format!("{}-replication", topo.statefulset));
        let role_missing = plan
            .steps
            .iter()
            .any(|s| s.id == "replication-role" && s.status == StepStatus::Pending);
        let create = target.replication_secret.is_none() && role_missing;
        let (pw, created) = apply::replication_password(&conn.client, &ns, &name, create)
            .await
            .map_err(|e| match e {
                Error::NotFound { .. } => Error::Failed(format!(
                    "Secret {name} not found and role {} already exists: pass --replication-secret NAME (a Secret with key \"password\" holding the role's password)",
                    topo.replication_user
                )),
                other => other,
            })?;
        if created {
            eprintln!(
                "created Secret {ns}/{name} (key \"password\") with a new random password for role {}",
                topo.replication_user
            );
        }
        password = Some(pw);
    }
    let now = jiff::Timestamp::now();
    let inputs = ApplyInputs {
        stamp: now.strftime("%Y%m%dT%H%M%SZ").to_string(),
        replication_password: password,
        verify_token: format!("v-{}-{}", now.as_second(), std::process::id()),
    };
    let report = apply::execute(&ctx, &plan, &inputs, |line| eprintln!("{line}")).await?;
    let text = match out {
        OutputFormat::Json => render::to_json(&report)?,
        OutputFormat::Yaml => render::to_yaml(&report)?,
        _ => {
            let done = report.steps.iter().filter(|s| s.outcome == "done").count();
            if done == 0 {
                format!(
                    "{}/{}: every step already done ({} steps); verified.\n",
                    report.namespace,
                    report.statefulset,
                    report.steps.len()
                )
            } else {
                format!(
                    "{}/{}: {done} step(s) done, {} already done; verified.\n",
                    report.namespace,
                    report.statefulset,
                    report.steps.len() - done
                )
            }
        }
    };
    cli::print_out(&text)?;
    Ok(ExitCode::Success)
}

fn confirm(yes: bool, pending: usize, remove: bool) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(Error::Usage(
            "refusing to change anything without confirmation: stdin is not a terminal; pass --yes to apply, or use `plan` to look first".into(),
        ));
    }
    let prompt = if remove {
        format!("Apply {pending} step(s), including removing members whose pods are gone?")
    } else {
        format!("Apply {pending} step(s)?")
    };
    let ok = dialoguer::Confirm::new()
        .with_prompt(prompt)
        .default(false)
        .interact()
        .map_err(|e| Error::Other(format!("prompt: {e}")))?;
    if ok {
        Ok(())
    } else {
        Err(Error::Failed("cancelled: nothing was changed".into()))
    }
}

fn status_table(r: &apply::StatusReport) -> String {
    let mut t;
    if !r.mongo.is_empty() {
        t = render::table(&["member", "pod", "state", "health", "lag", "sync source"]);
        for m in &r.mongo {
            t.add_row(vec![
                m.name.clone(),
                render::dash(m.pod.as_deref()),
                m.state.clone(),
                format!("{}", m.health),
                m.lag_seconds
                    .map(|l| format!("{l}s"))
                    .unwrap_or_else(|| "-".into()),
                render::dash(m.sync_source.as_deref()),
            ]);
        }
    } else {
        t = render::table(&["pod", "role", "state", "lag", "replay lsn"]);
        for p in &r.postgres {
            t.add_row(vec![
                p.pod.clone(),
                p.role.clone(),
                p.state.clone(),
                p.lag_seconds
                    .map(|l| format!("{l:.3}s"))
                    .unwrap_or_else(|| "-".into()),
                render::dash(p.replay_lsn.as_deref()),
            ]);
        }
    }
    let mut s = render::table_text(&t);
    for e in &r.errors {
        s.push_str(&format!("error: {e}\n"));
    }
    s
}

fn main() {
    let cli: Cli = cli::parse_args();
    stateful_core::client::install_crypto_provider();
    cli::run("kubectl sts-bootstrap", run(cli))
}
