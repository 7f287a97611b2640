//! kubectl backup: one-off backups now, from a CronJob, from the database itself, or as a
//! volume snapshot; waits with logs streamed; exit codes a script can trust.

// The binary is where output and the exit code happen.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::IsTerminal;
use std::process::ExitCode as ProcessExit;
use std::sync::Arc;
use std::time::Duration;

use backup::dump::{Engine, SourcePref, sha256_from_log};
use backup::lock::Work;
use backup::plan::{self, CreateRequest, Objects};
use backup::restore::{self, RestoreKind, RestoreRequest, RestoreSource, RestoreTarget};
use backup::run::{self, OnProgress, Outcome, Progress};
use backup::verify::{self, VerifyPlan};
use backup::{ANNOTATION_SHA256, Method, Target, list, render};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use stateful_core::kinds::Kind;
use stateful_core::output::term::error_prefix;
use stateful_core::snapshot::{Scope, Source};
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
    /// Restore a backup: a dump into its running database, a VolumeSnapshot into a new claim
    /// or in place of one StatefulSet pod's claim. Shows the plan and asks first.
    #[command(after_help = concat!(
        "Examples:\n",
        "  # A dump made by `kubectl backup create`, into the running database (its primary)\n",
        "  kubectl backup restore todo-db-dump-20261123010203 --to sts/todo-db\n\n",
        "  # A dump file on a claim\n",
        "  kubectl backup restore pvc/backups --path todo-db-20261123010203.dump --to sts/todo-db\n\n",
        "  # A VolumeSnapshot into a new claim\n",
        "  kubectl backup restore volumesnapshot/data-todo-db-0-snap-1 --to pvc/data-restored\n\n",
        "  # Swap ordinal 1's claim for the snapshot's (the old volume is kept, Retain)\n",
        "  kubectl backup restore volumesnapshot/data-todo-db-1-snap-1 --replace sts/todo-db --ordinal 1\n\n",
        "  # What it would create, without a cluster\n",
        "  kubectl backup restore pvc/b --path x.dump --to sts/todo-db --dry-run -o yaml --from-file dump.yaml\n\n",
        "Without a terminal, pass --yes (scripts); without --yes and a terminal it refuses (exit 2)."))]
    Restore(Box<RestoreArgs>),
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
    /// Check a backup: a dump's file (exists, not empty, sha256, read by the engine's own tool)
    /// in a Job mounting its claim read-only, or a VolumeSnapshot's status.
    #[command(after_help = concat!(
        "Examples:\n",
        "  # Check a dump's file with the engine's own reader, logs streamed\n",
        "  kubectl backup verify todo-db-dump-20261123010203\n\n",
        "  # The verify Job it would create\n",
        "  kubectl backup verify todo-db-dump-20261123010203 --dry-run -o yaml\n\n",
        "Exit codes: 0 verified, 1 error, 2 usage, 3 no such backup, 4 forbidden,\n",
        "5 verification failed (the reason printed), 6 timed out.\n"))]
    Verify(VerifyArgs),
    /// Write a shell completion script for kubectl-backup.
    Completion(CompletionArgs),
}

/// What the positional arguments are, for the `__complete` protocol.
fn positional(path: &[String], before: &[String]) -> Positional {
    match path.first().map(String::as_str) {
        _ if !before.is_empty() => Positional::Nothing,
        Some("create" | "list") => Positional::Objects(Target::ACCEPTS),
        Some("logs" | "describe" | "verify" | "restore") => {
            Positional::Names(&[Kind::Job, Kind::VolumeSnapshot])
        }
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
    #[command(flatten)]
    dry: DryRunArgs,
    /// Verify the backup once it has succeeded (a dump's file in a Job, a snapshot's status);
    /// not with --dry-run or --no-wait.
    #[arg(long, conflicts_with_all = ["no_wait", "dry_run"])]
    verify: bool,
}

#[derive(Args, Debug)]
struct VerifyArgs {
    /// The backup: a dump Job or a VolumeSnapshot, by name as `list` shows it.
    #[arg(value_name = "BACKUP")]
    backup: String,
    /// Deadline: the verify Job's activeDeadlineSeconds and how long to wait.
    #[arg(long, default_value = "10m", value_parser = duration)]
    timeout: Duration,
    /// Do not wait; print the verify Job's name.
    #[arg(long)]
    no_wait: bool,
    #[command(flatten)]
    dry: DryRunArgs,
}

/// `--dry-run[=client|server|none]` and the format of what it prints.
#[derive(Args, Debug)]
struct DryRunArgs {
    /// Print the objects instead of creating them (client), or have the API server check
    /// them without creating them (server).
    #[arg(long, num_args = 0..=1, default_missing_value = "client", value_parser = ["client", "server", "none"])]
    dry_run: Option<String>,
    /// Output format of the objects printed by --dry-run.
    #[arg(short = 'o', long, value_enum, default_value = "yaml")]
    output: CreateOutput,
}

#[derive(Args, Debug)]
struct RestoreArgs {
    /// A backup's NAME (as `kubectl backup list` shows it), volumesnapshot/NAME, or pvc/NAME
    /// with --path FILE.
    #[arg(value_name = "SOURCE")]
    source: String,
    /// With pvc/NAME: the dump file, relative to the claim's root.
    #[arg(long, value_name = "FILE")]
    path: Option<String>,
    /// Where to restore: sts/NAME, deploy/NAME or pod/NAME (a dump into the running database's
    /// primary), or pvc/NEW (a new claim: from a snapshot, or seeded with a Redis dump.rdb).
    #[arg(long, value_name = "TARGET")]
    to: Option<String>,
    /// Swap the claim of one pod of this StatefulSet for the snapshot's (with --ordinal).
    #[arg(long, value_name = "sts/NAME", requires = "ordinal")]
    replace: Option<String>,
    /// With --replace: the pod's ordinal.
    #[arg(long, value_name = "N")]
    ordinal: Option<u32>,
    /// With --replace: the volumeClaimTemplate, when the StatefulSet has several.
    #[arg(long, value_name = "NAME")]
    template: Option<String>,
    /// The restore Job's name (default `<target>-restore-<UTC yyyymmddhhmmss>`).
    #[arg(long)]
    name: Option<String>,
    /// The database engine (default: the backup's, else detected from the workload's images).
    #[arg(long, value_enum)]
    engine: Option<EngineArg>,
    /// The restore image (default: the workload's own, so client and server versions match).
    #[arg(long)]
    image: Option<String>,
    /// The workload container to restore into (default: the first database container).
    #[arg(short = 'c', long)]
    container: Option<String>,
    /// The database to restore into (default: the one the workload's env names).
    #[arg(long, value_name = "NAME")]
    database: Option<String>,
    /// StorageClass of a new claim (default: the source claim's, or the snapshot driver's).
    #[arg(long, value_name = "NAME")]
    storage_class: Option<String>,
    /// Size of a new claim (default: the snapshot's restoreSize or the template's request).
    #[arg(long, value_name = "SIZE")]
    size: Option<String>,
    /// Take the target's lock even when another run holds it.
    #[arg(long)]
    force: bool,
    /// Do not ask (for scripts); without a terminal a restore needs it.
    #[arg(short = 'y', long)]
    yes: bool,
    /// Deadline: the Job's activeDeadlineSeconds and how long to wait.
    #[arg(long, default_value = "1h", value_parser = duration)]
    timeout: Duration,
    /// Do not wait for a restore Job; print its name. (A --replace is carried out by this
    /// command, step by step: it cannot be left to run.)
    #[arg(long, conflicts_with = "replace")]
    no_wait: bool,
    #[command(flatten)]
    dry: DryRunArgs,
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
    if a.verify && req.method()? == Method::Cronjob {
        return Err(Error::Usage(
            "--verify: a CronJob's run writes what its template writes, unknown to kubectl backup; there is no artifact to verify".into(),
        ));
    }
    let dry_run = dry_run_mode(settings, a.dry.dry_run.as_deref())?;
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
    let json = a.dry.output == CreateOutput::Json;
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
    let kind = if p.method == Method::Snapshot {
        "volumesnapshot"
    } else {
        "job"
    };
    let work = if p.method == Method::Snapshot {
        Work::VolumeSnapshot(p.name.clone())
    } else {
        Work::Job(p.name.clone())
    };
    let guard = lock_and_create(
        &conn.client,
        &ns,
        &target,
        "create",
        &work,
        a.force,
        &p.objects,
        &p.summary,
    )
    .await?;
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
    let outcome = wait(
        &conn.client,
        &ns,
        &p.name,
        p.method == Method::Snapshot,
        timeout + grace,
    )
    .await;
    let detach = matches!(outcome, Ok(Outcome::Interrupted)).then_some(timeout + grace);
    end_lock(guard, detach).await;
    let outcome = outcome?;
    let follow = format!(
        "kubectl backup describe {} -n {ns}  (logs: kubectl backup logs {} -n {ns} -f)",
        p.name, p.name
    );
    match outcome {
        Outcome::Succeeded(msg) => {
            eprintln!("kubectl-backup: {msg}");
            if p.method == Method::Dump {
                record_sha256(&conn.client, &ns, &p.name).await;
            }
            print(&format!("{}\n", p.name))?;
            if !a.verify {
                return Ok(ExitCode::Success);
            }
            let scope = Scope {
                namespace: Some(ns.clone()),
                ..scope
            };
            let opts = VerifyOpts {
                timeout,
                no_wait: false,
                dry_run: None,
                json,
                print_name: false,
            };
            run_verify(&source, &scope, &p.name, &opts).await
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

/// The API server checks every object first (exit 4 before anything exists), then the
/// target's lock is taken, then the objects are created (the lock released if that fails).
#[allow(clippy::too_many_arguments)]
async fn lock_and_create(
    client: &kube::Client,
    ns: &str,
    target: &Target,
    operation: &str,
    work: &Work,
    force: bool,
    objects: &Objects,
    summary: &str,
) -> Result<run::lock::LockGuard> {
    run::create_dry_run(client, ns, objects).await?;
    let guard = run::lock::acquire(client, ns, target, operation, work, force).await?;
    if let Some(n) = &guard.notice {
        eprintln!("kubectl-backup: warning: {n}");
    }
    eprintln!("kubectl-backup: creating {summary}");
    if let Err(e) = run::create_checked(client, ns, objects).await {
        end_lock(guard, None).await;
        return Err(e);
    }
    Ok(guard)
}

/// `--dry-run[=client|server|none]`, checked against `--from-file` (client only).
fn dry_run_mode<'a>(settings: &Settings, dry_run: Option<&'a str>) -> Result<Option<&'a str>> {
    let dry_run = dry_run.filter(|d| *d != "none");
    if !settings.from_files.is_empty() && dry_run != Some("client") {
        return Err(Error::Usage(
            "--from-file works with --dry-run (client) only".into(),
        ));
    }
    Ok(dry_run)
}

/// Wait for a Job (logs streamed) or a VolumeSnapshot, above a spinner on a terminal.
async fn wait(
    client: &kube::Client,
    ns: &str,
    name: &str,
    snapshot: bool,
    deadline: Duration,
) -> Result<Outcome> {
    let kind = if snapshot { "volumesnapshot" } else { "job" };
    let spin = Spinner::start(
        std::io::stderr().is_terminal(),
        &format!("waiting for {kind} {name}"),
    );
    let outcome = if snapshot {
        run::wait_snapshot(
            client,
            ns,
            name,
            deadline,
            progress(spin.clone()),
            interrupted(),
        )
        .await
    } else {
        run::wait_job(
            client,
            ns,
            name,
            deadline,
            progress(spin.clone()),
            interrupted(),
        )
        .await
    };
    spin.finish();
    outcome
}

/// The dump's sha256 from its log line onto the Job (`kubectl-stateful.io/sha256`); a
/// missing line or a refused patch is a warning: the dump itself succeeded.
async fn record_sha256(client: &kube::Client, ns: &str, name: &str) {
    let log = run::job_log_text(client, ns, name).await;
    let Some(h) = log.as_deref().and_then(sha256_from_log) else {
        eprintln!(
            "kubectl-backup: warning: no `kubectl-backup: sha256` line in the log of job {name}; its checksum is not recorded (verify checks the .sha256 file beside the dump, if any)"
        );
        return;
    };
    match run::annotate_job(client, ns, name, ANNOTATION_SHA256, &h).await {
        Ok(()) => {
            eprintln!("kubectl-backup: sha256 {h} recorded on job {name} ({ANNOTATION_SHA256})")
        }
        Err(e) => eprintln!("kubectl-backup: warning: sha256 {h} not recorded on job {name}: {e}"),
    }
}

/// How `verify` (and `create --verify`) runs.
struct VerifyOpts<'a> {
    timeout: Duration,
    no_wait: bool,
    dry_run: Option<&'a str>,
    json: bool,
    /// Print the verify Job's (or the snapshot's) name on stdout.
    print_name: bool,
}

async fn verify_cmd(settings: &Settings, a: VerifyArgs) -> Result<ExitCode> {
    backup::validate_name(&a.backup)?;
    let dry_run = dry_run_mode(settings, a.dry.dry_run.as_deref())?;
    let (source, default_ns) = settings.open().await?;
    let mut scope = settings.scope(default_ns);
    scope.namespace = Some(scope.namespace.unwrap_or_else(|| "default".into()));
    let opts = VerifyOpts {
        timeout: a.timeout,
        no_wait: a.no_wait,
        dry_run,
        json: a.dry.output == CreateOutput::Json,
        print_name: true,
    };
    run_verify(&source, &scope, &a.backup, &opts).await
}

/// Verify backup `name` in the scope's namespace: a snapshot from its status, a dump by a
/// verify Job (created, waited for; exit 5 with the script's reason when it fails).
async fn run_verify(
    source: &Source,
    scope: &Scope,
    name: &str,
    o: &VerifyOpts<'_>,
) -> Result<ExitCode> {
    let ns = scope.namespace.clone().unwrap_or_else(|| "default".into());
    let snap = source.load(&verify::KINDS, scope).await?;
    warn_all(&snap.warnings);
    let plan = verify::plan_verify(&snap, &ns, name, o.timeout, jiff::Timestamp::now())?;
    let v = match plan {
        VerifyPlan::Snapshot(v) if v.ok => {
            eprintln!("kubectl-backup: {}", v.message);
            if o.print_name {
                print(&format!("{}\n", v.name))?;
            }
            return Ok(ExitCode::Success);
        }
        VerifyPlan::Snapshot(v) => return Err(Error::Failed(v.message)),
        VerifyPlan::Job(v) => v,
    };
    warn_all(&v.warnings);
    if v.sha256.is_none() {
        eprintln!(
            "kubectl-backup: no sha256 recorded on backup {name}; the verify Job checks against {}.sha256 beside the dump, if there is one",
            v.file
        );
    }
    let job_name = v.job.metadata.name.clone().unwrap_or_default();
    let objects = Objects {
        job: Some(v.job),
        ..Default::default()
    };
    let conn = match (source, o.dry_run) {
        (_, Some("client")) | (Source::Dump(_), _) => {
            print(&render::render_objects(&objects, o.json)?)?;
            return Ok(ExitCode::Success);
        }
        (Source::Cluster(conn), _) => conn,
    };
    if o.dry_run == Some("server") {
        run::create_dry_run(&conn.client, &ns, &objects).await?;
        print(&render::render_objects(&objects, o.json)?)?;
        return Ok(ExitCode::Success);
    }
    eprintln!(
        "kubectl-backup: creating job {job_name}: verify {}/{} of backup {name} ({})",
        v.claim, v.file, v.engine
    );
    run::create(&conn.client, &ns, &objects).await?;
    if o.no_wait {
        print(&format!("{job_name}\n"))?;
        return Ok(ExitCode::Success);
    }
    let grace = Duration::from_secs(30);
    let outcome = wait(&conn.client, &ns, &job_name, false, o.timeout + grace).await?;
    let see = format!("kubectl backup logs {job_name} -n {ns}");
    match outcome {
        Outcome::Succeeded(_) => {
            eprintln!("kubectl-backup: backup {name} verified (job {job_name})");
            if o.print_name {
                print(&format!("{job_name}\n"))?;
            }
            Ok(ExitCode::Success)
        }
        Outcome::Failed(msg) => Err(Error::Failed(match verify::failure_reason(&msg) {
            Some(r) => format!("backup {name} failed verification: {r}\n  see: {see}"),
            None => format!("backup {name} could not be verified: {msg}\n  see: {see}"),
        })),
        Outcome::TimedOut(msg) => Err(Error::TimedOut(format!(
            "{msg}; job {job_name} may still be running: {see} -f"
        ))),
        Outcome::Interrupted => {
            eprintln!(
                "kubectl-backup: stopped waiting; job {job_name} goes on. Follow it: {see} -f"
            );
            Ok(ExitCode::Interrupted)
        }
    }
}

async fn restore(settings: &Settings, a: RestoreArgs) -> Result<ExitCode> {
    let req = RestoreRequest {
        source: RestoreSource::parse(&a.source, a.path.as_deref())?,
        target: RestoreTarget::parse(a.to.as_deref(), a.replace.as_deref(), a.ordinal)?,
        name: a.name,
        engine: a.engine.map(Engine::from),
        image: a.image,
        container: a.container,
        database: a.database,
        storage_class: a.storage_class,
        size: a.size,
        template: a.template,
        timeout: a.timeout,
    };
    req.validate()?;
    let dry_run = dry_run_mode(settings, a.dry.dry_run.as_deref())?;
    let (source, default_ns) = settings.open().await?;
    let scope = settings.scope(default_ns);
    let snap = source.load(&req.kinds(), &scope).await?;
    warn_all(&snap.warnings);
    let ns = scope
        .namespace
        .clone()
        .or_else(|| plan::namespace_in_dump(&snap, &req.target.lock_target()))
        .unwrap_or_else(|| "default".into());
    let p = restore::plan(&snap, &ns, &req, jiff::Timestamp::now())?;
    for w in &p.warnings {
        eprintln!("kubectl-backup: warning: {w}");
    }
    eprint!("{}", p.text());
    let objects = backup::plan::Objects::from(&p.objects);
    let json = a.dry.output == CreateOutput::Json;
    let conn = match (&source, dry_run) {
        (Source::Cluster(conn), Some("client")) => {
            say_if_locked(&conn.client, &ns, &p.lock).await;
            print(&render::render_objects(&objects, json)?)?;
            return Ok(ExitCode::Success);
        }
        (_, Some("client")) | (Source::Dump(_), _) => {
            print(&render::render_objects(&objects, json)?)?;
            return Ok(ExitCode::Success);
        }
        (Source::Cluster(conn), _) => conn,
    };
    if dry_run == Some("server") {
        run::create_dry_run(&conn.client, &ns, &objects).await?;
        say_if_locked(&conn.client, &ns, &p.lock).await;
        print(&render::render_objects(&objects, json)?)?;
        return Ok(ExitCode::Success);
    }
    if let RestoreKind::SnapshotClaim { claim, .. } = &p.kind
        && p.objects.pvc.is_none()
    {
        eprintln!("kubectl-backup: nothing to do: pvc/{claim} is already restored");
        print(&format!("{claim}\n"))?;
        return Ok(ExitCode::Success);
    }
    if !p.is_done() {
        stateful_flags::prompt::confirm(a.yes, "Restore?", "look first with --dry-run")?;
    }
    let client = &conn.client;
    // The restore Job is the lock's work: a lock left to it (--no-wait, Ctrl-C) ends with it.
    let work = Work::Job(p.name.clone());
    let guard = match &p.kind {
        RestoreKind::DumpJob
        | RestoreKind::SeedClaim { .. }
        | RestoreKind::SnapshotClaim { .. } => {
            lock_and_create(
                client, &ns, &p.lock, "restore", &work, a.force, &objects, &p.summary,
            )
            .await?
        }
        RestoreKind::Replace(_) => {
            let g = run::lock::acquire(client, &ns, &p.lock, "restore", &work, a.force).await?;
            if let Some(n) = &g.notice {
                eprintln!("kubectl-backup: warning: {n}");
            }
            g
        }
    };
    let deadline = req.timeout + Duration::from_secs(30);
    let spin = Spinner::start(std::io::stderr().is_terminal(), "restoring");
    let follow = format!(
        "kubectl backup describe {} -n {ns}  (logs: kubectl backup logs {} -n {ns} -f)",
        p.name, p.name
    );
    let outcome = match &p.kind {
        RestoreKind::DumpJob | RestoreKind::SeedClaim { .. } => {
            if a.no_wait {
                spin.finish();
                end_lock(guard, Some(deadline)).await;
                print(&format!("{}\n", p.name))?;
                return Ok(ExitCode::Success);
            }
            run::wait_job(
                client,
                &ns,
                &p.name,
                deadline,
                progress(spin.clone()),
                interrupted(),
            )
            .await
        }
        RestoreKind::SnapshotClaim {
            claim,
            wait_for_consumer,
        } => {
            if *wait_for_consumer || a.no_wait {
                spin.finish();
                end_lock(guard, None).await;
                eprintln!(
                    "kubectl-backup: created pvc/{claim}; its class binds it when a pod uses it"
                );
                print(&format!("{claim}\n"))?;
                return Ok(ExitCode::Success);
            }
            run::replace::wait_claim_bound(
                client,
                &ns,
                claim,
                req.timeout,
                progress(spin.clone()),
                interrupted(),
            )
            .await
        }
        RestoreKind::Replace(r) => {
            run::replace::replace(
                client,
                &ns,
                r,
                req.timeout,
                progress(spin.clone()),
                interrupted(),
            )
            .await
        }
    };
    spin.finish();
    // A restore Job left running keeps the lock until it ends; a swap stopped between steps
    // runs nothing, so its lock is released.
    let job_goes_on = matches!(outcome, Ok(Outcome::Interrupted))
        && matches!(p.kind, RestoreKind::DumpJob | RestoreKind::SeedClaim { .. });
    end_lock(guard, job_goes_on.then_some(deadline)).await;
    let outcome = outcome?;
    let replace = match &p.kind {
        RestoreKind::Replace(r) => Some(r),
        _ => None,
    };
    match outcome {
        Outcome::Succeeded(msg) => {
            eprintln!("kubectl-backup: {msg}");
            if let Some(hint) = restore::job::adopt_hint(&p) {
                eprintln!("{hint}");
            }
            if let Some(r) = replace {
                eprintln!("{}", r.return_hint(&ns));
            }
            print(&format!("{}\n", p.name))?;
            Ok(ExitCode::Success)
        }
        Outcome::Failed(msg) => Err(Error::Failed(format!("{msg}\n  see: {follow}"))),
        Outcome::TimedOut(msg) => Err(Error::TimedOut(match replace {
            Some(_) => msg,
            None => format!("{msg}; job {} may still be running: {follow}", p.name),
        })),
        Outcome::Interrupted => {
            match replace {
                Some(r) => eprintln!(
                    "kubectl-backup: stopped; the swap of pvc/{} is left where it is: run the same command again to continue (it skips what is done){}",
                    r.claim,
                    r.old_volume
                        .as_deref()
                        .map(|v| format!("; the old volume pv/{v} is kept"))
                        .unwrap_or_default()
                ),
                None => eprintln!(
                    "kubectl-backup: stopped waiting; job {} goes on. Follow it: {follow}",
                    p.name
                ),
            }
            Ok(ExitCode::Interrupted)
        }
    }
}

async fn run_cli(cli: Cli, term: Terminal) -> Result<ExitCode> {
    let settings = Settings::resolve(&cli.kube).with_from_files(&cli.from);
    match cli.cmd {
        Cmd::Create(a) => create(&settings, *a).await,
        Cmd::Restore(a) => restore(&settings, *a).await,
        Cmd::Verify(a) => verify_cmd(&settings, a).await,
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
