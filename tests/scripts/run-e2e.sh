#!/usr/bin/env bash
# Run the e2e tests against the local control plane, the way CI does:
#   Debian deps -> control-plane binaries (cached) -> `tests/local-cluster up` -> workspace binaries
#   -> cargo test -p kubectl-stateful-e2e [ARGS...] -> `tests/local-cluster down` (always, also on
#   failure; unless a plane was already running before this script, which it then leaves up).
#   tests/scripts/run-e2e.sh                 # all e2e tests
#   tests/scripts/run-e2e.sh --test controlplane
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
repo=$(cd "$here/.." && pwd)
"$here/scripts/install-deps.sh"
t0=$SECONDS
"$here/scripts/build-controlplane.sh" >/dev/null
echo "run-e2e: control-plane binaries ready in $((SECONDS - t0))s" >&2
if "$here/local-cluster" status >/dev/null 2>&1; then
  echo "run-e2e: reusing the running control plane (left up afterwards)" >&2
else
  trap '"$here/local-cluster" down' EXIT
  "$here/local-cluster" up
fi
cd "$repo"
cargo build --workspace --bins
cargo test -p kubectl-stateful-e2e --no-fail-fast "$@"
