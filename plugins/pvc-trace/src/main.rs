//! kubectl pvc-trace: where does this pod's data actually live? Flags, then the library, then
//! the terminal.

// The binary is where output and the exit code happen.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use pvc_trace::render::{self, Format, table::Look};
use pvc_trace::usage::{self, Thresholds, UsageInput, UsageSource};
use pvc_trace::watch::follow::{self, Follow};
use pvc_trace::{KINDS, Severity, Target, TraceOptions};
use stateful_core::kubelet;
use stateful_core::output::term::error_prefix;
use stateful_core::snapshot::{Source, Watch};
use stateful_core::{Error, Result};
use stateful_flags::complete::{self, CompletionArgs, Positional};
use stateful_flags::progress::Spinner;
use stateful_flags::{
    AllNamespacesArg, ColorArg, FromFileArg, KubeArgs, OutputFormat, OutputFormats, SelectorArg,
    Settings, SortByArg,
};

/// mimalloc: a big dump is read as millions of small allocations on several threads, and
/// freed at once (see bench/pvc-trace-dump.sh for the figures).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Trace pods, claims, volumes, StatefulSets and Deployments down to the storage that holds
/// their data, and say what is wrong.
#[derive(Parser, Debug)]
#[command(
    name = "kubectl pvc-trace",
    bin_name = "kubectl pvc-trace",
    version,
    after_help = concat!(
        "Examples:\n",
        "  # A pod's volumes, down to the disk\n",
        "  kubectl pvc-trace db-0\n\n",
        "  # Every expected claim of a StatefulSet\n",
        "  kubectl pvc-trace sts/db -n prod\n\n",
        "  # Reverse: who claims and uses this volume\n",
        "  kubectl pvc-trace pv/pvc-0f3c…\n\n",
        "  # Only chains with problems, all namespaces\n",
        "  kubectl pvc-trace -A --problems\n\n",
        "  # For scripts: exit 5 on errors; or just the claims' volumes\n",
        "  kubectl pvc-trace -A -o json --fail-on error\n",
        "  kubectl pvc-trace -o custom-columns=CLAIM:.claim,PV:.pv --sort-by .pv\n\n",
        "  # Watch a Pending claim bind (one line per change, until Ctrl-C)\n",
        "  kubectl pvc-trace pvc/data -w\n",
        "  kubectl pvc-trace -n prod --watch-only -o json\n\n",
        "  # No cluster: read `kubectl get -o yaml` output\n",
        "  kubectl pvc-trace --from-file dump.yaml\n\n",
        "Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 forbidden,\n",
        "5 problems found (--fail-on), 6 timed out."
    )
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,

    /// What to trace: pod/NAME (or NAME, or `pod NAME…` as kubectl takes), pvc/NAME, pv/NAME, sts/NAME, deploy/NAME, sc/NAME,
    /// node/NAME. None: every pod with data volumes and every claim in the namespace (-A: all
    /// namespaces, plus volumes with no live claim).
    #[arg(value_name = "TARGET")]
    targets: Vec<String>,

    #[command(flatten)]
    kube: KubeArgs,
    #[command(flatten)]
    all: AllNamespacesArg,
    #[command(flatten)]
    selector: SelectorArg,
    #[command(flatten)]
    from: FromFileArg,

    /// Output format: table, wide, json, yaml, tree, dot, mermaid, svg, name, jsonpath=TEMPLATE,
    /// jsonpath-file=FILE, custom-columns=SPEC, custom-columns-file=FILE (default: tree for
    /// one target, table otherwise). Custom columns and --sort-by read each row as JSON whose
    /// keys are the wide table's columns in lower case: {.pod}, {.pv}, {.backend}…
    #[arg(short = 'o', long, value_name = "FORMAT", value_parser = OutputFormats::<Output>::new(), hide_possible_values = true)]
    output: Option<OutputFormat<Output>>,

    /// Table, wide and custom-columns output: do not print the header line.
    #[arg(long)]
    no_headers: bool,

    #[command(flatten)]
    sort: SortByArg,
    #[command(flatten)]
    color: ColorArg,

    /// Show only chains with a warning or an error.
    #[arg(long)]
    problems: bool,

    /// The --from-file dumps hold every object of each kind they hold (e.g. `kubectl get
    /// pvc,pv,sc -A -o yaml` of the whole cluster): an object of such a kind that is not in
    /// them does not exist. Without it, objects not in a dump are unknown, never missing.
    #[arg(long, requires = "from_file")]
    complete: bool,

    /// Exit with code 5 when a diagnostic of this severity or worse is found.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    fail_on: Option<FailOn>,

    /// How to read a cluster: `plan` fetches only what the targets reach (a GET per named
    /// object, LISTs only where the question is every object of a kind in a scope; -v 6 shows
    /// each request and why); `all` LISTs every kind in scope. Questions about every object
    /// (-A without targets, sc/NAME, -l) always LIST.
    #[arg(long, value_enum, value_name = "HOW", default_value = "plan")]
    fetch: Fetch,

    /// How full each mounted claim is: USED, FREE, USE% and IUSE% (inodes), read from the
    /// kubelet of each node that runs a traced pod, through the API server (get nodes/proxy;
    /// one request per node, within --request-timeout, 10s when not given). Implied by
    /// -o wide against a cluster. Dumps have no usage (unknown cells).
    #[arg(long)]
    usage: bool,

    /// The percentage of a claim's bytes (VolumeNearlyFull) or inodes (InodesNearlyFull) used
    /// at which it is a warning.
    #[arg(long, value_name = "PERCENT", default_value = "85", value_parser = percent)]
    usage_warn: u64,

    /// The percentage at which it is an error.
    #[arg(long, value_name = "PERCENT", default_value = "95", value_parser = percent)]
    usage_error: u64,

    /// After the trace, print one line per change as it happens (claim phase, binding,
    /// attach/detach, resize conditions, capacity, pod phase and readiness, problems new and
    /// gone), from watches on the kinds the trace reads, until Ctrl-C (exit 0). -o json: one
    /// JSON event per line; table, wide, tree: one timestamped line per change.
    #[arg(short = 'w', long, conflicts_with = "fail_on")]
    watch: bool,

    /// As --watch, without the initial trace: only the changes.
    #[arg(long, conflicts_with = "fail_on")]
    watch_only: bool,
}

/// `--usage-warn`/`--usage-error`: `85` or `85%`.
fn percent(s: &str) -> std::result::Result<u64, String> {
    pvc_trace::usage::parse_percent(s)
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Fetch {
    Plan,
    All,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Write a shell completion script for kubectl-pvc_trace (for a pod named `completion`,
    /// trace pod/completion).
    Completion(CompletionArgs),
}

/// What the positional arguments are, for the `__complete` protocol.
fn positional(path: &[String], _before: &[String]) -> Positional {
    match path.first().map(String::as_str) {
        Some("completion") => Positional::Shells,
        _ => Positional::Objects(pvc_trace::target::ACCEPTS),
    }
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    Table,
    Wide,
    Json,
    Yaml,
    Tree,
    /// A Graphviz digraph of the topology (`dot -Tsvg`).
    Dot,
    /// A Mermaid flowchart of the topology (renders in GitHub/GitLab markdown).
    Mermaid,
    /// An SVG picture of the topology (no Graphviz needed).
    Svg,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
enum FailOn {
    Info,
    Warning,
    Error,
}

async fn run(cli: Cli, term: stateful_flags::Terminal) -> Result<stateful_core::ExitCode> {
    let settings = Settings::resolve(&cli.kube)
        .with_all_namespaces(cli.all)?
        .with_selector(&cli.selector)
        .with_from_files(&cli.from);
    let targets = Target::parse_all(&cli.targets)?;
    let thresholds =
        Thresholds::new(cli.usage_warn, cli.usage_error).map_err(stateful_core::Error::Usage)?;
    let format = match cli.output {
        None if targets.len() == 1 => Format::Tree,
        None | Some(OutputFormat::Own(Output::Table)) => Format::Table,
        Some(OutputFormat::Own(Output::Wide)) => Format::Wide,
        Some(OutputFormat::Own(Output::Json)) => Format::Json,
        Some(OutputFormat::Own(Output::Yaml)) => Format::Yaml,
        Some(OutputFormat::Own(Output::Tree)) => Format::Tree,
        Some(OutputFormat::Own(Output::Dot)) => Format::Dot,
        Some(OutputFormat::Own(Output::Mermaid)) => Format::Mermaid,
        Some(OutputFormat::Own(Output::Svg)) => Format::Svg,
        Some(OutputFormat::Name) => Format::Name,
        Some(OutputFormat::JsonPath(t)) => Format::JsonPath(t),
        Some(OutputFormat::CustomColumns(c)) => Format::CustomColumns(c),
    };
    let watching = cli.watch || cli.watch_only;
    if watching && !settings.from_files.is_empty() {
        return Err(Error::Usage(
            "--watch follows a cluster as it changes; --from-file dumps do not change: drop one \
             of them"
                .into(),
        ));
    }
    if watching
        && !matches!(
            format,
            Format::Table | Format::Wide | Format::Tree | Format::Json
        )
    {
        return Err(Error::Usage(
            "--watch prints -o table, wide, tree (a line per change) or json (a JSON event per \
             line)"
                .into(),
        ));
    }
    let (source, default_ns) = settings.open().await?;
    // Cluster-scoped targets (pv, sc, node) look across namespaces unless -n is given.
    let all_cluster_scoped = !targets.is_empty() && targets.iter().all(Target::cluster_scoped);
    let default_ns = if all_cluster_scoped { None } else { default_ns };
    let scope = settings.scope(default_ns);
    let tty = settings.from_files.is_empty() && std::io::stderr().is_terminal();
    let mut watch = None;
    let snap = if watching {
        let Source::Cluster(conn) = &source else {
            return Err(Error::Usage("--watch needs a cluster".into()));
        };
        let mut w = Watch::start(&conn.client, &conn.server, &KINDS, &scope);
        let spin = Spinner::start(tty, "reading the cluster");
        let ready = follow::ready(&mut w, &mut notice).await;
        spin.finish();
        ready?;
        let snap = w.snapshot();
        watch = Some(w);
        Ok(snap)
    } else {
        let spin = Spinner::start(tty, "reading the cluster");
        let snap = match &source {
            Source::Cluster(conn)
                if cli.fetch == Fetch::Plan
                    && pvc_trace::plan::strategy(&targets, &scope)
                        == pvc_trace::plan::Strategy::Plan =>
            {
                pvc_trace::plan::fetch(conn, &targets, &scope).await
            }
            _ => source.load(&KINDS, &scope).await,
        };
        spin.finish();
        snap
    };
    let mut snap = snap?;
    for w in &snap.warnings {
        eprintln!("kubectl pvc-trace: warning: {w}");
    }
    if cli.complete {
        snap.mark_complete();
    }
    let mut look = Look {
        wide: false,
        usage: false,
        no_headers: cli.no_headers,
        width: term.width,
        color: term.color_out,
        sort_by: cli.sort.sort_by.clone(),
        now: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_secs()).ok()),
    };
    let mut opts = TraceOptions {
        targets,
        namespace: scope.namespace.clone(),
        source: source.name().into(),
        selector: scope.pod_selector.clone(),
        usage: None,
    };
    if let Some(mut w) = watch {
        let follow = Follow {
            opts: &opts,
            json: matches!(format, Format::Json),
            debounce: std::time::Duration::from_millis(50),
            now: &now_rfc3339,
            problems: cli.problems.then_some(Severity::Warning),
        };
        // A missing target fails here, before any output.
        let start = follow.state(&snap)?;
        if cli.watch && !cli.watch_only {
            render::write(
                &mut std::io::stdout().lock(),
                &mut std::io::stderr(),
                &snap,
                &opts,
                cli.problems.then_some(Severity::Warning),
                &format,
                &look,
            )?;
        }
        drop(snap);
        follow
            .run(
                &mut w,
                start,
                &mut std::io::stdout(),
                &mut notice,
                interrupted(),
            )
            .await?;
        return Ok(stateful_core::ExitCode::Success);
    }
    // -o wide implies --usage against a cluster; a dump has none to show unless asked.
    let wide = matches!(format, Format::Wide);
    let cluster = matches!(source, Source::Cluster(_));
    if cli.usage || (wide && cluster) {
        let timeout = settings
            .connect
            .request_timeout
            .unwrap_or(kubelet::DEFAULT_SUMMARY_TIMEOUT);
        opts.usage = Some(read_usage(&source, &snap, &opts, thresholds, timeout, tty).await?);
    }
    look.usage = opts.usage.is_some();
    let report = render::write(
        &mut std::io::stdout().lock(),
        &mut std::io::stderr(),
        &snap,
        &opts,
        cli.problems.then_some(Severity::Warning),
        &format,
        &look,
    )?;
    // The process ends here: the system takes the memory back at once, where dropping the
    // snapshot would free a big dump's objects one by one (about 5% of a 100,000-pod run).
    std::mem::forget(snap);
    let fail_on = cli.fail_on.map(|f| match f {
        FailOn::Info => Severity::Info,
        FailOn::Warning => Severity::Warning,
        FailOn::Error => Severity::Error,
    });
    if let Some(min) = fail_on
        && report.diagnostics.iter().any(|d| d.severity >= min)
    {
        return Ok(stateful_core::ExitCode::Problems);
    }
    Ok(stateful_core::ExitCode::Success)
}

/// `--usage`: from a dump, unknown; from a cluster, a first trace finds the nodes where running
/// pods mount the traced claims, and each node's kubelet summary is read once, concurrently.
async fn read_usage(
    source: &Source,
    snap: &pvc_trace::graph::Snapshot,
    opts: &TraceOptions,
    thresholds: Thresholds,
    timeout: std::time::Duration,
    tty: bool,
) -> Result<UsageInput> {
    let pods_selected = opts.selector.is_some();
    let Source::Cluster(conn) = source else {
        return Ok(UsageInput {
            thresholds,
            source: UsageSource::Dump,
            pods_selected,
        });
    };
    let first = pvc_trace::trace(
        snap,
        &TraceOptions {
            usage: Some(UsageInput {
                thresholds,
                source: UsageSource::Nodes(Default::default()),
                pods_selected,
            }),
            ..opts.clone()
        },
    )?;
    let nodes: Vec<String> = usage::nodes_to_ask(&first).into_iter().collect();
    drop(first);
    let spin = Spinner::start(
        tty && !nodes.is_empty(),
        "reading the kubelets' volume stats",
    );
    let answers = kubelet::stats_summaries(conn, &nodes, timeout).await;
    spin.finish();
    let parsed = answers
        .into_iter()
        .map(|(node, a)| (node, a.and_then(|body| usage::parse_summary(&body))))
        .collect();
    Ok(UsageInput {
        thresholds,
        source: UsageSource::Nodes(parsed),
        pods_selected,
    })
}

/// What a watch tells the user on stderr (a kind that stays unknown, a retried watch), escaped.
fn notice(s: &str) {
    eprintln!(
        "kubectl pvc-trace: warning: {}",
        stateful_core::output::term::escape_control(s, true)
    );
}

/// Ctrl-C (SIGINT): the end of a watch.
async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await
    }
}

/// Now, as a watch line's time: RFC 3339 UTC to the millisecond.
fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn main() -> ExitCode {
    if let Some(words) = complete::requested() {
        let found = complete::complete(Cli::command(), &words, positional);
        let _ = found.write(&mut std::io::stdout().lock());
        return ExitCode::SUCCESS;
    }
    let cli = Cli::parse();
    stateful_flags::init_logging(cli.kube.verbosity, std::io::stderr);
    let term = cli.color.terminal();
    if let Some(Cmd::Completion(a)) = cli.cmd {
        let text = complete::script(Cli::command(), a.shell, "kubectl-pvc_trace");
        return match stateful_core::output::write_text(&mut std::io::stdout().lock(), &text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("kubectl pvc-trace: {} {e}", error_prefix(term.color_err));
                e.exit_code().into()
            }
        };
    }
    match stateful_flags::block_on(run(cli, term)) {
        Ok(code) => code.into(),
        Err(e) => {
            eprintln!("kubectl pvc-trace: {} {e}", error_prefix(term.color_err));
            e.exit_code().into()
        }
    }
}
