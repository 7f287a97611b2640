#!/usr/bin/env bash
# Check the release the way krew will take it: scripts/release.sh builds the archives and fills
# a copy of the manifests; krew's own validator (validate-krew-manifest) checks each manifest,
# and `kubectl krew install --manifest M --archive A` installs each plugin into a temporary
# KREW_ROOT, whose binaries and completion shims must then run. Krew is built once from the Go
# module proxy into ~/.cache/kubectl-stateful/tools (cached); the release build is cargo's
# (incremental in $CARGO_TARGET_DIR). Leaves the repository's manifests untouched.
#   tests/scripts/krew-check.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
tools=$HOME/.cache/kubectl-stateful/tools
krew_version=v0.4.3   # the newest sigs.k8s.io/krew on the Go module proxy
if ! [ -x "$tools/bin/krew" ] || ! [ -x "$tools/bin/validate-krew-manifest" ] ||
  ! grep -qx "$krew_version" "$tools/krew.version" 2>/dev/null; then
  echo "krew-check: building krew $krew_version from the Go module proxy" >&2
  GOBIN=$tools/bin GOFLAGS=-mod=mod go install \
    "sigs.k8s.io/krew/cmd/krew@$krew_version" "sigs.k8s.io/krew/cmd/validate-krew-manifest@$krew_version"
  echo "$krew_version" > "$tools/krew.version"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/manifests" "$work/path"
cp "$repo"/krew-manifests/*.yaml "$work/manifests/"
KREW_MANIFEST_DIR="$work/manifests" "$repo/scripts/release.sh" >/dev/null
# kubectl finds krew as the plugin kubectl-krew.
ln -s "$tools/bin/krew" "$work/path/kubectl-krew"
# kubectl: the control plane's own, built (once, cached) by build-controlplane.sh, which prints
# its bin dir last; on a fresh machine this step is the first to need it.
if [ -n "${KUBECTL:-}" ]; then
  kubectl=$KUBECTL
else
  bindir=$("$repo/tests/scripts/build-controlplane.sh" | tail -1)
  kubectl=$bindir/kubectl
fi
[ -x "$kubectl" ] || { echo "krew-check: no kubectl at $kubectl" >&2; exit 1; }
ln -s "$kubectl" "$work/path/kubectl"
# krew links installed plugins into $KREW_ROOT/bin, which kubectl must find on PATH.
export KREW_ROOT="$work/krew"
export PATH="$KREW_ROOT/bin:$work/path:/usr/bin:/bin"
version=$(sed -n 's/^  version: //p' "$work/manifests/pvc-trace.yaml")
for pair in pvc-trace:pvc_trace backup:backup sts-bootstrap:sts_bootstrap; do
  plugin=${pair%%:*}; u=${pair#*:}
  manifest=$work/manifests/$plugin.yaml
  "$tools/bin/validate-krew-manifest" -manifest "$manifest" -skip-install
  uris=$(grep -c '^    uri: ' "$manifest")
  [ "$uris" -ge 1 ] || { echo "krew-check: $plugin: no platform" >&2; exit 1; }
  if grep -q 'sha256: "0\{64\}"' "$manifest"; then
    echo "krew-check: $plugin: an all-zero sha256 is left" >&2; exit 1
  fi
  archive=$repo/dist/$(sed -n 's|^    uri: .*/||p' "$manifest" | grep x86_64-unknown-linux-gnu)
  kubectl krew install --manifest="$manifest" --archive="$archive" 2>&1 | sed "s/^/krew-check: $plugin: /" >&2
  # The installed plugin runs through kubectl; its shim ships in the store.
  kubectl "$plugin" --version | grep -q "$version" || kubectl "$plugin" --version | grep -q "${version#v}"
  shim=$KREW_ROOT/store/$plugin/$version/kubectl_complete-$u
  [ -x "$shim" ] || { echo "krew-check: $plugin: $shim missing" >&2; exit 1; }
  ln -s "$shim" "$KREW_ROOT/bin/"
  out=$(kubectl __complete "$plugin" --kubeconfig /nonexistent --kube 2>/dev/null || true)
  printf '%s\n' "$out" | grep -q '^--kubeconfig' ||
    { echo "krew-check: $plugin: completion through the installed shim failed: $out" >&2; exit 1; }
  echo "krew-check: $plugin: manifest valid, installed from $(basename "$archive"), completion works" >&2
done
