//! kubectl sts-bootstrap: turn StatefulSet pods into a MongoDB replica set, PostgreSQL
//! streaming replicas or Redis/Valkey replicas, from outside, through exec. The logic lives in the library
//! (`sts_bootstrap`); this is flags, confirmation and output.

// The binary is where output and the exit code happen.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::IsTerminal;
use std::process::ExitCode as ProcessExit;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use serde::Serialize;
use stateful_core::exec::KubeExec;
use stateful_core::kinds::Kind;
use stateful_core::names::validate_dns1123_subdomain;
use stateful_core::output::term::error_prefix;
use stateful_core::output::{to_json, to_yaml, write_text};
use stateful_core::snapshot::{GapReason, Source};
use stateful_core::{Error, ExitCode, Result};
use stateful_flags::complete::{self, CompletionArgs, Positional};
use stateful_flags::progress::Spinner;
use stateful_flags::{
    ColorArg, FromFileArg, KubeArgs, OutputFormat, OutputFormats, Settings, SortByArg, Terminal,
    duration,
};
use sts_bootstrap::executor::{self, ApplyInputs, Ctx};
use sts_bootstrap::render::{self, render_plan_in};
use sts_bootstrap::{Engine, Options, Plan, StepStatus, Topology, engine, preflight, secret};

const AFTER_HELP: &str = "Examples:
  # What would be done, from live state
  kubectl sts-bootstrap plan mongo

  # From manifests, fresh pods assumed
  kubectl sts-bootstrap plan todo-db --from-file sts.yaml

  # Do it, no prompt (scripts)
  kubectl sts-bootstrap apply mongo --yes
  kubectl sts-bootstrap apply todo-db --replication-secret todo-db-repl

  # Redis/Valkey: REPLICAOF ordinal 0
  kubectl sts-bootstrap apply cache --yes

  # MariaDB/MySQL: seed empty replicas, GTID replication
  kubectl sts-bootstrap apply mariadb --yes

  # Members, state, lag; or only the pods' roles
  kubectl sts-bootstrap status mongo -o json
  kubectl sts-bootstrap status todo-db -o custom-columns=POD:.pod,ROLE:.role

Exit codes: 0 ok, 1 error, 2 usage (or no TTY and no --yes), 3 not found,
4 forbidden (e.g. no pods/exec), 5 refused or failed, 6 timed out.";

/// Turn a StatefulSet's pods into a MongoDB replica set, PostgreSQL streaming replicas or
/// Redis/Valkey replicas.
#[derive(Parser, Debug)]
#[command(name = "kubectl sts-bootstrap",
    bin_name = "kubectl sts-bootstrap", version, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,

    #[command(flatten)]
    kube: KubeArgs,
    #[command(flatten)]
    from: FromFileArg,
    #[command(flatten)]
    color: ColorArg,
}

/// The formats of plan, apply and status.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    Table,
    Json,
    Yaml,
}

/// `--engine`: the engines sts-bootstrap sets up.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum EngineArg {
    #[value(name = "mongodb", alias = "mongo")]
    MongoDb,
    #[value(name = "postgres", alias = "postgresql")]
    Postgres,
    #[value(name = "redis", alias = "valkey")]
    Redis,
    #[value(name = "mysql", alias = "mariadb")]
    MySql,
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
    Status {
        #[command(flatten)]
        target: Target,
        /// Table and custom-columns output: do not print the header line.
        #[arg(long)]
        no_headers: bool,
        #[command(flatten)]
        sort: SortByArg,
    },
    /// Write a shell completion script for kubectl-sts_bootstrap.
    Completion(CompletionArgs),
}

/// What the positional arguments are, for the `__complete` protocol.
fn positional(path: &[String], before: &[String]) -> Positional {
    match path.first().map(String::as_str) {
        _ if !before.is_empty() => Positional::Nothing,
        Some("plan" | "apply" | "status") => Positional::Names(&[Kind::StatefulSet]),
        Some("completion") => Positional::Shells,
        _ => Positional::Nothing,
    }
}

#[derive(Args, Debug, Clone)]
struct Target {
    /// The StatefulSet.
    #[arg(value_name = "STATEFULSET")]
    statefulset: String,
    /// Engine (default: detected from the pod template).
    #[arg(long, value_enum)]
    engine: Option<EngineArg>,
    /// The database container (default: detected).
    #[arg(short = 'c', long, value_name = "NAME")]
    container: Option<String>,
    /// Cluster DNS domain for member names.
    #[arg(long, default_value = "cluster.local", value_name = "DOMAIN")]
    cluster_domain: String,
    /// PostgreSQL, MariaDB/MySQL, Redis: ordinal of the primary.
    #[arg(long, value_name = "ORDINAL")]
    primary: Option<u32>,
    /// PostgreSQL, MariaDB/MySQL: Secret with key `password` for the replication role/user (default: <sts>-replication, created when missing).
    #[arg(long, value_name = "SECRET")]
    replication_secret: Option<String>,
    /// PostgreSQL, MariaDB/MySQL: replication role/user name.
    #[arg(long, default_value = "replicator", value_name = "ROLE")]
    replication_user: String,
    /// MongoDB: remove members whose pods are gone (asks for confirmation).
    #[arg(long)]
    remove_missing: bool,
    /// Redis, MariaDB/MySQL: the Secret (and key, default `password`) holding the server's
    /// password (requirepass; root's), when the container's environment does not have it; sent
    /// on stdin.
    #[arg(long, value_name = "SECRET[:KEY]", value_parser = secret_ref)]
    password_secret: Option<(String, String)>,
    /// Redis: make a replica of a server that holds data of its own (a primary with keys, or a
    /// replica of another primary); its data is replaced by the primary's.
    #[arg(long)]
    force: bool,
    /// Deadline for waits: pods Running, PRIMARY elected, replicas streaming.
    #[arg(long, default_value = "5m", value_name = "DURATION", value_parser = duration)]
    timeout: Duration,
    /// Deadline for each command run in a pod.
    #[arg(long, default_value = "2m", value_name = "DURATION", value_parser = duration)]
    exec_timeout: Duration,
    /// Output format: table, json, yaml, jsonpath=TEMPLATE, jsonpath-file=FILE; for status
    /// also name (pod/NAME per row), custom-columns=SPEC and custom-columns-file=FILE (over
    /// each row's JSON, e.g. POD:.pod,ROLE:.role).
    #[arg(short = 'o', long, value_name = "FORMAT", default_value = "table", value_parser = OutputFormats::<Output>::new(), hide_possible_values = true)]
    output: OutputFormat<Output>,
}

impl Target {
    fn options(&self) -> Options {
        Options {
            engine: self.engine.map(|e| match e {
                EngineArg::MongoDb => Engine::MongoDb,
                EngineArg::Postgres => Engine::Postgres,
                EngineArg::Redis => Engine::Redis,
                EngineArg::MySql => Engine::MySql,
            }),
            container: self.container.clone(),
            cluster_domain: self.cluster_domain.clone(),
            primary: self.primary,
            remove_missing: self.remove_missing,
            replication_user: self.replication_user.clone(),
            force: self.force,
        }
    }
}

/// `NAME[:KEY]`: a Secret's name and key (default `password`).
fn secret_ref(s: &str) -> std::result::Result<(String, String), String> {
    let (name, key) = s.split_once(':').unwrap_or((s, "password"));
    validate_dns1123_subdomain(name).map_err(|e| e.to_string())?;
    let key_ok = !key.is_empty()
        && key.len() <= 253
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
    if !key_ok {
        return Err(format!("{key:?} is not a valid Secret key"));
    }
    Ok((name.to_string(), key.to_string()))
}

/// Text to stdout; a closed pipe ends quietly.
fn print(text: &str) -> Result<()> {
    write_text(&mut std::io::stdout().lock(), text)
}

/// A model as JSON, YAML or a JSONPath template's text, or its table.
fn print_as<T: Serialize>(
    v: &T,
    out: &OutputFormat<Output>,
    table: impl FnOnce(&T) -> String,
) -> Result<()> {
    print(&match out {
        OutputFormat::Own(Output::Json) => to_json(v)?,
        OutputFormat::Own(Output::Yaml) => to_yaml(v)?,
        OutputFormat::JsonPath(t) => t.render_escaped(
            &serde_json::to_value(v).map_err(|e| Error::Other(format!("json: {e}")))?,
        ),
        _ => table(v),
    })
}

/// `status` in any format: its own, JSONPath, or kubectl's row printers.
fn print_status(
    r: &engine::StatusReport,
    out: &OutputFormat<Output>,
    look: &render::StatusLook,
) -> Result<()> {
    match out {
        OutputFormat::Name => print(&render::status_names(r)),
        OutputFormat::CustomColumns(cc) => {
            let mut rows = render::status_rows_json(r);
            if let Some(p) = &look.sort_by {
                stateful_core::output::rows::sort_by(&mut rows, |v| v, p);
            }
            cc.write(&mut std::io::stdout().lock(), &rows, look.table.no_headers)
        }
        _ => print_as(r, out, |r| render::status_table(r, look)),
    }
}

fn plan_exit(plan: &Plan) -> ExitCode {
    if plan.refused.is_some() || plan.blocked().is_some() {
        ExitCode::Problems
    } else {
        ExitCode::Success
    }
}

async fn run(cli: Cli, term: Terminal) -> Result<ExitCode> {
    let settings = Settings::resolve(&cli.kube).with_from_files(&cli.from);
    let mut look = render::StatusLook::default();
    let (target, yes, dry_run, is_status) = match &cli.cmd {
        Cmd::Plan(t) => (t.clone(), false, true, false),
        Cmd::Apply {
            target,
            yes,
            dry_run,
        } => (target.clone(), *yes, *dry_run, false),
        Cmd::Status {
            target,
            no_headers,
            sort,
        } => {
            look = render::StatusLook {
                table: stateful_core::output::rows::Look {
                    no_headers: *no_headers,
                    width: term.width,
                    color: term.color_out,
                },
                sort_by: sort.sort_by.clone(),
            };
            (target.clone(), false, false, true)
        }
        Cmd::Completion(a) => {
            print(&complete::script(
                Cli::command(),
                a.shell,
                "kubectl-sts_bootstrap",
            ))?;
            return Ok(ExitCode::Success);
        }
    };
    if !is_status
        && matches!(
            target.output,
            OutputFormat::Name | OutputFormat::CustomColumns(_)
        )
    {
        return Err(Error::Usage(
            "-o name and -o custom-columns print status rows: use them with `status`".into(),
        ));
    }
    let (wait, exec_timeout) = (target.timeout, target.exec_timeout);
    if let Some(s) = &target.replication_secret {
        validate_dns1123_subdomain(s)
            .map_err(|e| Error::Usage(format!("--replication-secret: {e}")))?;
    }
    let out = &target.output;
    let (source, default_ns) = settings.open().await?;
    let scope = settings.scope(default_ns.or(Some("default".into())));
    let ns = scope.namespace.clone().unwrap_or_else(|| "default".into());
    let snap = source
        .load(&[Kind::StatefulSet, Kind::Pod, Kind::Service], &scope)
        .await?;
    for w in &snap.warnings {
        eprintln!("kubectl sts-bootstrap: warning: {w}");
    }
    if let Some(g) = snap
        .gap(Kind::StatefulSet)
        .filter(|g| g.reason == GapReason::Forbidden)
    {
        return Err(Error::Forbidden {
            verb: "list".into(),
            resource: "statefulsets".into(),
            namespace: g.namespace.clone(),
            message: g.message.clone(),
        });
    }
    let mut topo = Topology::from_snapshot(&snap, &ns, &target.statefulset, &target.options())?;
    if target.password_secret.is_some() && !matches!(topo.engine, Engine::Redis | Engine::MySql) {
        return Err(Error::Usage(
            "--password-secret is for Redis/Valkey and MariaDB/MySQL; MongoDB and PostgreSQL read the server's credentials from the container's environment".into(),
        ));
    }

    let conn = match &source {
        Source::Cluster(c) => c.clone(),
        Source::Dump(_) => {
            if !dry_run {
                return Err(Error::Usage(
                    "--from-file only plans: `apply` and `status` need a cluster".into(),
                ));
            }
            let mut plan = Plan::new(&topo, "file");
            plan.checks.push(preflight::service_check(&topo));
            let plan = engine::plan_from(&topo, None, plan);
            print_as(&plan, out, |p| render_plan_in(p, term.color_out))?;
            return Ok(plan_exit(&plan));
        }
    };
    if let Some((name, key)) = &target.password_secret {
        let pw = secret::secret_value(&conn.client, &ns, name, key).await?;
        topo.server_password = Some(sts_bootstrap::topology::Redacted(pw));
    }
    let exec = KubeExec::new(conn.client.clone(), &ns);
    let ctx = Ctx {
        exec: &exec,
        topo: &topo,
        exec_timeout,
        wait,
    };

    if is_status {
        let report = engine::status(&ctx).await;
        print_status(&report, out, &look)?;
        return Ok(if report.errors.is_empty() {
            ExitCode::Success
        } else {
            ExitCode::Problems
        });
    }

    let spin = Spinner::start(std::io::stderr().is_terminal(), "checking the members");
    let plan = preflight::live_plan(&conn.client, &exec, &topo, exec_timeout, wait, !dry_run).await;
    spin.finish();
    let plan = plan?;
    if dry_run || plan.refused.is_some() || plan.blocked().is_some() {
        print_as(&plan, out, |p| render_plan_in(p, term.color_out))?;
        return Ok(plan_exit(&plan));
    }
    let pending = plan
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Pending)
        .count();
    if pending > 0 {
        eprint!("{}", render_plan_in(&plan, term.color_err));
        confirm(yes, pending, topo.remove_missing)?;
    }
    let secret = secret::replication_secret(
        &conn.client,
        &ns,
        &topo,
        &plan,
        target.replication_secret.as_deref(),
    )
    .await?;
    if let Some((_, Some(name))) = &secret {
        eprintln!(
            "created Secret {ns}/{name} (key \"password\") with a new random password for role {}",
            topo.replication_user
        );
    }
    let now = jiff::Timestamp::now();
    let inputs = ApplyInputs {
        stamp: now.strftime("%Y%m%dT%H%M%SZ").to_string(),
        replication_password: secret.map(|(pw, _)| pw),
        verify_token: format!("v-{}-{}", now.as_second(), std::process::id()),
    };
    let spin = Spinner::start(std::io::stderr().is_terminal(), "applying");
    let report = executor::execute(&ctx, &plan, &inputs, |line| {
        spin.step(line);
        spin.line(line, &mut std::io::stderr());
    })
    .await;
    spin.finish();
    let report = report?;
    print_as(&report, out, render::apply_summary)?;
    Ok(ExitCode::Success)
}

fn confirm(yes: bool, pending: usize, remove: bool) -> Result<()> {
    let prompt = if remove {
        format!("Apply {pending} step(s), including removing members whose pods are gone?")
    } else {
        format!("Apply {pending} step(s)?")
    };
    stateful_flags::prompt::confirm(yes, &prompt, "use `plan` to look first")
}

fn main() -> ProcessExit {
    if let Some(words) = complete::requested() {
        let found = complete::complete(Cli::command(), &words, positional);
        let _ = found.write(&mut std::io::stdout().lock());
        return ProcessExit::SUCCESS;
    }
    let cli = Cli::parse();
    stateful_flags::init_logging(cli.kube.verbosity, std::io::stderr);
    let term = cli.color.terminal();
    stateful_core::client::install_crypto_provider();
    match stateful_flags::block_on(run(cli, term)) {
        Ok(code) => code.into(),
        Err(e) => {
            eprintln!(
                "kubectl sts-bootstrap: {} {e}",
                error_prefix(term.color_err)
            );
            e.exit_code().into()
        }
    }
}
