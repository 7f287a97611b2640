//! kubectl pvc-trace: where does this pod's data actually live?

use clap::Parser;
use stateful_core::cli::{self, CommonArgs, OutputFormat};
use stateful_core::snapshot::Source;
use stateful_core::trace::{self, Severity, Target, TraceOptions};
use stateful_core::{ExitCode, Result};

/// Trace pods, claims, volumes, StatefulSets and Deployments down to the storage that holds
/// their data, and say what is wrong.
#[derive(Parser, Debug)]
#[command(
    name = "kubectl pvc-trace",
    version,
    after_help = "Examples:\n  kubectl pvc-trace db-0                      # a pod's volumes, down to the disk\n  kubectl pvc-trace sts/db -n prod            # every expected claim of a StatefulSet\n  kubectl pvc-trace pv/pvc-0f3c…              # reverse: who claims and uses this volume\n  kubectl pvc-trace -A --problems             # only chains with problems, all namespaces\n  kubectl pvc-trace -A -o json --fail-on error  # for scripts: exit 5 on errors\n  kubectl pvc-trace --from-file dump.yaml     # no cluster: read `kubectl get -o yaml` output\n\nExit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 forbidden, 5 problems found (--fail-on), 6 timed out."
)]
struct Cli {
    /// What to trace: pod/NAME (or NAME), pvc/NAME, pv/NAME, sts/NAME, deploy/NAME, sc/NAME,
    /// node/NAME. None: every pod with data volumes and every claim in the namespace (-A: all
    /// namespaces, plus volumes with no live claim).
    #[arg(value_name = "TARGET")]
    targets: Vec<String>,

    #[command(flatten)]
    common: CommonArgs,

    /// Show only chains with a warning or an error.
    #[arg(long)]
    problems: bool,

    /// Exit with code 5 when a diagnostic of this severity or worse is found.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    fail_on: Option<Severity>,
}

async fn run(cli: Cli) -> Result<ExitCode> {
    cli.common.validate()?;
    let targets = cli
        .targets
        .iter()
        .map(|t| Target::parse(t))
        .collect::<Result<Vec<_>>>()?;
    let (source, default_ns) = Source::from_args(&cli.common).await?;
    // Cluster-scoped targets (pv, sc, node) look across namespaces unless -n is given.
    let all_cluster_scoped = !targets.is_empty() && targets.iter().all(Target::cluster_scoped);
    let default_ns = if all_cluster_scoped { None } else { default_ns };
    let scope = Source::scope(&cli.common, default_ns)?;
    let snap = source.load(&trace::build::KINDS, &scope).await?;
    let default_format = if targets.len() == 1 {
        OutputFormat::Tree
    } else {
        OutputFormat::Table
    };
    let report = trace::render::print(
        &snap,
        &TraceOptions {
            targets: targets.clone(),
            namespace: scope.namespace.clone(),
            source: source.name().into(),
        },
        cli.problems.then_some(Severity::Warning),
        cli.common.output_or(default_format),
    )?;
    if let Some(min) = cli.fail_on
        && report.diagnostics.iter().any(|d| d.severity >= min)
    {
        return Ok(ExitCode::Problems);
    }
    Ok(ExitCode::Success)
}

fn main() {
    let cli: Cli = cli::parse_args();
    cli::run("kubectl pvc-trace", run(cli))
}
