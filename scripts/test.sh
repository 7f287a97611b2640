#!/usr/bin/env bash
# Run every test of kubectl-stateful, as README.md says and .ci/run does:
#   1. Debian packages the tests need (PostgreSQL, MariaDB, Redis, openssl, …), idempotent;
#   2. cargo fmt --check, cargo clippy --all-targets -D warnings, and no unused dependency
#      (cargo-machete, installed from the crate registry into ~/.cache/kubectl-stateful/tools);
#   3. unit, snapshot and CLI tests of every crate (no cluster);
#   3b. the release archives and krew manifests, checked by krew itself (tests/scripts/krew-check.sh);
#   4. e2e tests against the real local control plane (etcd + kube-apiserver + controllers +
#      kwok), built from source into ~/.cache/kubectl-stateful on first use and reused after.
# Usage: scripts/test.sh            (all)
#        scripts/test.sh --no-e2e   (1-3 only)
set -euo pipefail
cd "$(dirname "$0")/.."
e2e=1
[ "${1:-}" = "--no-e2e" ] && e2e=0
export CARGO_TERM_COLOR=never
step() { printf '\n==> %s\n' "$*" >&2; }

step "system packages"
tests/scripts/install-deps.sh

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "unused dependencies (cargo machete)"
tools=$HOME/.cache/kubectl-stateful/tools
machete_version=0.9.2
if ! "$tools/bin/cargo-machete" --version 2>/dev/null | grep -q "$machete_version"; then
  cargo install --quiet --locked cargo-machete --version "$machete_version" --root "$tools"
fi
"$tools/bin/cargo-machete" --with-metadata

step "unit, snapshot and CLI tests"
cargo test --workspace --exclude kubectl-stateful-e2e

step "release archives and krew manifests (krew's validator, krew install --archive)"
tests/scripts/krew-check.sh

if [ "$e2e" = 1 ]; then
  step "e2e tests on the local control plane"
  tests/scripts/run-e2e.sh
fi
