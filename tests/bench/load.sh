#!/usr/bin/env bash
# Load the local control plane for the benchmark: N pods / N PVCs / N PVs (default 10000) across
# 20 namespaces (bench-00..19), created directly by the e2e-load generator (release build; see
# tests/src/bin/load.rs), PVs pre-bound, pods on the kwok nodes; waits until all are Bound/Running.
#   tests/bench/load.sh [N] [extra e2e-load flags, e.g. --namespaces 20 --controller-binds]
# Starts the plane if needed (tests/local-cluster up; state dir $KUBECTL_STATEFUL_CLUSTER_DIR as
# usual, bench-cluster.sh sets its own). Idempotent: existing objects are kept.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
repo=$(cd "$here/.." && pwd)
n=${1:-10000}; shift || true
"$here/local-cluster" up
eval "$("$here/local-cluster" env)"
(cd "$repo" && cargo build -q --release -p kubectl-stateful-e2e --bin e2e-load)
target=${CARGO_TARGET_DIR:-$repo/target}
exec "$target/release/e2e-load" --pods "$n" --namespaces 20 "$@"
