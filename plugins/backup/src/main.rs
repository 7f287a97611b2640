//! kubectl backup: one-off backups now, from a CronJob, from the database itself, or as a
//! volume snapshot; waits with logs streamed; exit codes a script can trust.

// The binary is where output and the exit code happen.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::IsTerminal;
use std::process::ExitCode as ProcessExit;
use std::sync::Arc;
use std::time::Duration;

use backup::dump::{Engine, SourcePref};
use backup::lock::Work;
use backup::plan::{self, CreateRequest};
use backup::run::{self, OnProgress, Outcome, Progress};
use backup::{Method, Target, list, render};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use stateful_core::kinds::Kind;
use stateful_core::output::term::error_prefix;
use stateful_core::snapshot::Source;
use stateful_core::{Error, ExitCode, Result, output};
use stateful_flags::complete::{self, CompletionArgs, Positional};
use stateful_flags::progress::Spinner;
use stateful_flags::{
    AllNamespacesArg, ColorArg, FromFileArg, KubeArgs, OutputFormat, OutputFormats, Settings,
    SortByArg, Terminal, duration,
};

const EXIT_HELP: &str = "Exit codes: 0 succeeded, 1 error, 2 usage, 3 not found, 4 forbidden, 5 backup failed (or refused: another run holds the target's lock, or a run of a Forbid CronJob is active), 6 timed out waiting, 130 interrupted (the backup goes on).";

#[derive(Parser, Debug)]
#[command(
    name = "kubectl backup",
    bin_name = "kubectl backup",
    version,
    about = "One-off backups now: from a CronJob, from the database itself, or as a CSI VolumeSnapshot; waits with logs streamed; exit codes a script can trust",
    after_help = EXIT_HELP
)]
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

/// What the objects of `create --dry-run` are printed as.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum CreateOutput {
    Yaml,
    Json,
}

/// `list`'s formats.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum ListOutput {
    Table,
    Json,
}

/// `--engine`: every engine the dump Job knows.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum EngineArg {
    Postgres,
    Mongodb,
    /// MySQL and MariaDB.
    Mysql,
    Redis,
}

impl From<EngineArg> for Engine {
    fn from(e: EngineArg) -> Engine {
        match e {
            EngineArg::Postgres => Engine::Postgres,
            EngineArg::Mongodb => Engine::MongoDb,
            EngineArg::Mysql => Engine::MySql,
            EngineArg::Redis => Engine::Redis,
        }
    }
}

/// `--source`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum SourceArg {
    /// A replica when one exists, else the primary.
    Replica,
    Primary,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Take a backup now and wait for it (logs streamed).
    #[command(after_help = concat!(
        "Examples:\n",
        "  # A run of the CronJob, honouring its concurrencyPolicy\n",
        "  kubectl backup create cronjob/todo-db-backup\n\n",
        "  # pg_dump -Fc from a replica, to a claim\n",
        "  kubectl backup create sts/todo-db --to pvc/todo-db-backup-pvc\n\n",
        "  # To a new 5Gi claim, read from the primary\n",
        "  kubectl backup create sts/todo-db --to-new-pvc 5Gi --source primary\n\n",
        "  # A CSI VolumeSnapshot\n",
        "  kubectl backup create pvc/data-todo-db-0 --snapshot\n\n",
        "  # The objects it would create, from a dump\n",
        "  kubectl backup create sts/todo-db --to pvc/b --dry-run -o yaml \\\n",
        "    --from-file dump.yaml\n"))]
    Create(Box<CreateArgs>),
    /// Backups: Jobs with our labels, CronJob-owned Jobs, our VolumeSnapshots.
    List {
        /// Only the backups of this target (cronjob/NAME, sts/NAME, pvc/NAME…).
        #[arg(value_name = "TARGET")]
        target: Option<String>,
        #[command(flatten)]
        all: AllNamespacesArg,
        /// Output format: table, json, name, jsonpath=TEMPLATE (over the BackupList JSON),
        /// jsonpath-file=FILE, custom-columns=SPEC (over each item's JSON, e.g.
        /// NAME:.name,STATUS:.status), custom-columns-file=FILE.
        #[arg(short = 'o', long, value_name = "FORMAT", default_value = "table", value_parser = OutputFormats::<ListOutput>::new(), hide_possible_values = true)]
        output: OutputFormat<ListOutput>,
        /// Table and custom-columns output: do not print the header line.
        #[arg(long)]
        no_headers: bool,
        #[command(flatten)]
        sort: SortByArg,
    },
    /// The logs of a backup Job.
    Logs {
        name: String,
        /// Follow the logs.
        #[arg(short, long)]
        follow: bool,
    },
    /// What a backup ran, where it read and wrote, how it ended and why.
    Describe { name: String },
    /// Write a shell completion script for kubectl-backup.
    Completion(CompletionArgs),
}

/// What the positional arguments are, for the `__complete` protocol.
fn positional(path: &[String], before: &[String]) -> Positional {
    match path.first().map(String::as_str) {
        _ if !before.is_empty() => Positional::Nothing,
        Some("create" | "list") => Positional::Objects(Target::ACCEPTS),
        Some("logs" | "describe") => Positional::Names(&[Kind::Job, Kind::VolumeSnapshot]),
        Some("completion") => Positional::Shells,
        _ => Positional::Nothing,
    }
}

#[derive(Args, Debug)]
struct CreateArgs {
    /// cronjob/NAME, sts/NAME, deploy/NAME, pod/NAME, or pvc/NAME with --snapshot.
    #[arg(value_name = "TARGET")]
    target: String,
    /// The backup's name (default `<target>-<kind>-<UTC yyyymmddhhmmss>`).
    #[arg(long)]
    name: Option<String>,
    /// Start even when another run holds the target's lock (taking the lock over), or a Job
    /// of a Forbid/Replace CronJob is running.
    #[arg(long)]
    force: bool,
    /// A CSI VolumeSnapshot of pvc/NAME.
    #[arg(long)]
    snapshot: bool,
    /// The VolumeSnapshotClass (default: the default class for the claim's driver).
    #[arg(long, value_name = "NAME")]
    class: Option<String>,
    /// The database engine (default: detected from the workload's images).
    #[arg(long, value_enum)]
    engine: Option<EngineArg>,
    /// The dump image (default: the workload's own, so client and server versions match).
    #[arg(long)]
    image: Option<String>,
    /// The workload container to back up (default: the first database container).
    #[arg(short = 'c', long)]
    container: Option<String>,
    /// Where to read from: a replica when one exists, or the primary.
    #[arg(long, value_enum, default_value = "replica")]
    source: SourceArg,
    /// Write the dump to this existing claim (pvc/NAME).
    #[arg(long, value_name = "pvc/NAME")]
    to: Option<String>,
    /// Write the dump to a new claim of this size (named after the backup).
    #[arg(long, value_name = "SIZE")]
    to_new_pvc: Option<String>,
    /// StorageClass of the new claim.
    #[arg(long, value_name = "NAME")]
    storage_class: Option<String>,
    /// Deadline: the Job's activeDeadlineSeconds and how long to wait.
    #[arg(long, default_value = "1h", value_parser = duration)]
    timeout: Duration,
    /// Do not wait; print the backup's name.
    #[arg(long, conflicts_with = "wait")]
    no_wait: bool,
    /// Wait for the backup to finish (the default).
    #[arg(long)]
    wait: bool,
    /// Print the objects instead of creating them (client), or have the API server check
    /// them without creating them (server).
    #[arg(long, num_args = 0..=1, default_missing_value = "client", value_parser = ["client", "server", "none"])]
    dry_run: Option<String>,
    /// Output format of the objects printed by --dry-run.
    #[arg(short = 'o', long, value_enum, default_value = "yaml")]
    output: CreateOutput,
}

/// Progress to stderr, as kubectl plugins report: state changes prefixed, log lines as they
/// are; on a TTY above a spinner whose message is the current state.
fn progress(spin: Spinner) -> OnProgress {
    Arc::new(move |p: Progress<'_>| match p {
        Progress::Status(s) => {
            spin.step(s);
            spin.line(&format!("kubectl-backup: {s}"), &mut std::io::stderr());
        }
        Progress::Log(l) => spin.line(l, &mut std::io::stderr()),
    })
}

/// Ctrl-C: stop waiting (the backup goes on).
async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await
    }
}

/// Text to stdout; a closed pipe ends quietly.
fn print(text: &str) -> Result<()> {
    output::write_text(&mut std::io::stdout().lock(), text)
}

async fn create(settings: &Settings, a: CreateArgs) -> Result<ExitCode> {
    let target = Target::parse(&a.target)?;
    let timeout = a.timeout;
    let req = CreateRequest {
        target: target.clone(),
        name: a.name,
        force: a.force,
        snapshot: a.snapshot,
        class: a.class,
        engine: a.engine.map(Engine::from),
        image: a.image,
        container: a.container,
        source: match a.source {
            SourceArg::Replica => SourcePref::Replica,
            SourceArg::Primary => SourcePref::Primary,
        },
        to: a.to,
        to_new_pvc: a.to_new_pvc,
        storage_class: a.storage_class,
        timeout,
    };
    req.validate()?;
    let dry_run = a.dry_run.as_deref().filter(|d| *d != "none");
    if !settings.from_files.is_empty() && dry_run != Some("client") {
        return Err(Error::Usage(
            "--from-file works with --dry-run (client) only".into(),
        ));
    }
    let (source, default_ns) = settings.open().await?;
    let scope = settings.scope(default_ns);
    let snap = source.load(&req.kinds(), &scope).await?;
    warn_all(&snap.warnings);
    let ns = scope
        .namespace
        .clone()
        .or_else(|| plan::namespace_in_dump(&snap, &target))
        .unwrap_or_else(|| "default".into());
    let now = jiff::Timestamp::now();
    let p = plan::plan(&snap, &ns, &req, now)?;
    for w in &p.warnings {
        eprintln!("kubectl-backup: warning: {w}");
    }
    let json = a.output == CreateOutput::Json;
    let conn = match (&source, dry_run) {
        (Source::Cluster(conn), Some("client")) => {
            say_if_locked(&conn.client, &ns, &target).await;
            print(&render::render_objects(&p.objects, json)?)?;
            return Ok(ExitCode::Success);
        }
        (_, Some("client")) | (Source::Dump(_), _) => {
            print(&render::render_objects(&p.objects, json)?)?;
            return Ok(ExitCode::Success);
        }
        (Source::Cluster(conn), _) => conn,
    };
    if dry_run == Some("server") {
        run::create_dry_run(&conn.client, &ns, &p.objects).await?;
        say_if_locked(&conn.client, &ns, &target).await;
        print(&render::render_objects(&p.objects, json)?)?;
        return Ok(ExitCode::Success);
    }
    // The API server checks every object first (exit 4 before anything exists), then the lock
    // is taken, then the objects are created.
    run::create_dry_run(&conn.client, &ns, &p.objects).await?;
    let work = if p.method == Method::Snapshot {
        Work::VolumeSnapshot(p.name.clone())
    } else {
        Work::Job(p.name.clone())
    };
    let guard = run::lock::acquire(&conn.client, &ns, &target, "create", &work, a.force).await?;
    if let Some(n) = &guard.notice {
        eprintln!("kubectl-backup: warning: {n}");
    }
    eprintln!("kubectl-backup: creating {}", p.summary);
    if let Err(e) = run::create_checked(&conn.client, &ns, &p.objects).await {
        end_lock(guard, None).await;
        return Err(e);
    }
    // Dump Jobs end by their own activeDeadlineSeconds; leave the controller time to say so.
    let grace = if p.method == Method::Dump {
        Duration::from_secs(30)
    } else {
        Duration::ZERO
    };
    if a.no_wait {
        end_lock(guard, Some(timeout + grace)).await;
        print(&format!("{}\n", p.name))?;
        return Ok(ExitCode::Success);
    }
    let outcome = wait(&conn.client, &ns, &p, timeout + grace).await;
    let detach = matches!(outcome, Ok(Outcome::Interrupted)).then_some(timeout + grace);
    end_lock(guard, detach).await;
    verdict(&ns, &p, outcome?)
}

/// `--dry-run`: no lock is taken, but a held one is said (a real run would be refused).
async fn say_if_locked(client: &kube::Client, ns: &str, target: &Target) {
    match run::lock::holder(client, ns, target).await {
        Ok(Some(h)) => eprintln!(
            "kubectl-backup: warning: {} is locked by another run: {}; a run now would be refused (exit 5) without --force",
            target.display(),
            backup::lock::held_text(&h, jiff::Timestamp::now())
        ),
        Ok(None) => {}
        Err(e) => {
            eprintln!("kubectl-backup: warning: cannot tell whether the target is locked: {e}")
        }
    }
}

/// Release the lock, or leave it to the backup (`detach`: it lasts that long, or until the
/// backup finishes) when the CLI stops waiting while the backup goes on. A lock that cannot be
/// released is a warning: it expires by itself.
async fn end_lock(guard: run::lock::LockGuard, detach: Option<Duration>) {
    if let Some(why) = guard.lost() {
        eprintln!("kubectl-backup: warning: the lock was lost while running: {why}");
    }
    let lease = guard.lease().to_string();
    let done = match detach {
        Some(d) => guard.detach(d).await,
        None => guard.release().await,
    };
    if let Err(e) = done {
        eprintln!("kubectl-backup: warning: lease {lease}: {e} (it expires by itself)");
    }
}

/// Wait for the Job or VolumeSnapshot (spinner on a TTY, Ctrl-C stops waiting).
async fn wait(
    client: &kube::Client,
    ns: &str,
    p: &plan::Plan,
    deadline: Duration,
) -> Result<Outcome> {
    let spin = Spinner::start(
        std::io::stderr().is_terminal(),
        &format!("waiting for {} {}", kind_word(p), p.name),
    );
    let outcome = if p.method == Method::Snapshot {
        run::wait_snapshot(
            client,
            ns,
            &p.name,
            deadline,
            progress(spin.clone()),
            interrupted(),
        )
        .await
    } else {
        run::wait_job(
            client,
            ns,
            &p.name,
            deadline,
            progress(spin.clone()),
            interrupted(),
        )
        .await
    };
    spin.finish();
    outcome
}

fn kind_word(p: &plan::Plan) -> &'static str {
    if p.method == Method::Snapshot {
        "volumesnapshot"
    } else {
        "job"
    }
}

/// The exit code and last words of a wait.
fn verdict(ns: &str, p: &plan::Plan, outcome: Outcome) -> Result<ExitCode> {
    let kind = kind_word(p);
    let follow = format!(
        "kubectl backup describe {} -n {ns}  (logs: kubectl backup logs {} -n {ns} -f)",
        p.name, p.name
    );
    match outcome {
        Outcome::Succeeded(msg) => {
            eprintln!("kubectl-backup: {msg}");
            print(&format!("{}\n", p.name))?;
            Ok(ExitCode::Success)
        }
        Outcome::Failed(msg) => Err(Error::Failed(format!("{msg}\n  see: {follow}"))),
        Outcome::TimedOut(msg) => Err(Error::TimedOut(format!(
            "{msg}; {kind} {} may still be running: {follow}",
            p.name
        ))),
        Outcome::Interrupted => {
            eprintln!(
                "kubectl-backup: stopped waiting; {kind} {} goes on (the target's lock stays with it until it finishes). Follow it: {follow}",
                p.name
            );
            Ok(ExitCode::Interrupted)
        }
    }
}

async fn run_cli(cli: Cli, term: Terminal) -> Result<ExitCode> {
    let settings = Settings::resolve(&cli.kube).with_from_files(&cli.from);
    match cli.cmd {
        Cmd::Create(a) => create(&settings, *a).await,
        Cmd::List {
            target,
            all,
            output,
            no_headers,
            sort,
        } => {
            let settings = settings.with_all_namespaces(all)?;
            let format = match output {
                OutputFormat::Own(ListOutput::Table) => render::ListFormat::Table,
                OutputFormat::Own(ListOutput::Json) => render::ListFormat::Json,
                OutputFormat::Name => render::ListFormat::Name,
                OutputFormat::JsonPath(t) => render::ListFormat::JsonPath(t),
                OutputFormat::CustomColumns(c) => render::ListFormat::CustomColumns(c),
            };
            let json = matches!(format, render::ListFormat::Json);
            let target = target.as_deref().map(Target::parse).transpose()?;
            let (source, default_ns) = settings.open().await?;
            let scope = settings.scope(default_ns);
            let snap = source
                .load(&[Kind::Job, Kind::VolumeSnapshot], &scope)
                .await?;
            warn_all(&snap.warnings);
            let now = jiff::Timestamp::now();
            let mut l = list::list(&snap, target.as_ref(), now);
            if let Source::Cluster(conn) = &source {
                match run::lock::list_leases(&conn.client, scope.namespace.as_deref()).await {
                    Ok(leases) => {
                        let snaps = snap.dynamic.get(&Kind::VolumeSnapshot);
                        l.locks = backup::lock::held_locks(
                            &leases,
                            &snap.jobs,
                            snaps.map(Vec::as_slice).unwrap_or_default(),
                            target.as_ref(),
                            now,
                        );
                    }
                    Err(e) => eprintln!("kubectl-backup: warning: locks not shown: {e}"),
                }
            }
            if l.items.is_empty() && !json {
                eprintln!("No backups found.");
            }
            let look = render::ListLook {
                all_namespaces: scope.namespace.is_none(),
                table: output::rows::Look {
                    no_headers,
                    width: term.width,
                    color: term.color_out,
                },
                sort_by: sort.sort_by,
                now: now.as_second(),
            };
            print(&render::render_list(&l, &format, &look)?)?;
            Ok(ExitCode::Success)
        }
        Cmd::Describe { name } => {
            backup::validate_name(&name)?;
            let (source, default_ns) = settings.open().await?;
            let scope = settings.scope(default_ns);
            let snap = source
                .load(
                    &[Kind::Job, Kind::Pod, Kind::Event, Kind::VolumeSnapshot],
                    &scope,
                )
                .await?;
            warn_all(&snap.warnings);
            let ns = scope.namespace.clone().unwrap_or_else(|| "default".into());
            let d = list::describe(&snap, &ns, &name, jiff::Timestamp::now())?;
            print(&render::describe_text(&d))?;
            Ok(ExitCode::Success)
        }
        Cmd::Completion(a) => {
            print(&complete::script(Cli::command(), a.shell, "kubectl-backup"))?;
            Ok(ExitCode::Success)
        }
        Cmd::Logs { name, follow } => {
            backup::validate_name(&name)?;
            let (source, default_ns) = settings.open().await?;
            let Source::Cluster(conn) = source else {
                return Err(Error::Usage("logs needs a cluster, not --from-file".into()));
            };
            let ns = settings
                .connect
                .namespace
                .clone()
                .or(default_ns)
                .unwrap_or_else(|| "default".into());
            run::job_logs(
                &conn.client,
                &ns,
                &name,
                follow,
                &mut std::io::stdout().lock(),
                progress(Spinner::start(false, "")),
            )
            .await?;
            Ok(ExitCode::Success)
        }
    }
}

/// The source's warnings (e.g. dumps that disagree), on stderr.
fn warn_all(warnings: &[String]) {
    for w in warnings {
        eprintln!("kubectl-backup: warning: {w}");
    }
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
    match stateful_flags::block_on(run_cli(cli, term)) {
        Ok(code) => code.into(),
        Err(e) => {
            eprintln!("kubectl backup: {} {e}", error_prefix(term.color_err));
            e.exit_code().into()
        }
    }
}
