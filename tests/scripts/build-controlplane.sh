#!/usr/bin/env bash
# Build kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (k8s.io/kubernetes through
# the Go module proxy, via a wrapper module that replaces each staging module with its published
# release) and kwok into a cache outside the repo. Reused when present.
#
#   tests/scripts/build-controlplane.sh          # prints the bin dir on the last line
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../versions.env
source "$here/versions.env"

cache=${KUBECTL_STATEFUL_CACHE:-$HOME/.cache/kubectl-stateful}
bindir="$cache/k8s-$K8S_VERSION-kwok-$KWOK_VERSION/bin"
want=(kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)

ver=${K8S_VERSION#v}
ldflags="-s -w"
# component-base/version feeds /version and `--version`; client-go/pkg/version feeds the
# User-Agent of client-go (kubectl/v1.36.3 ... instead of kubectl/v0.0.0 ... kubernetes/$Format).
for V in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $V.gitVersion=$K8S_VERSION -X $V.gitMajor=${ver%%.*} -X $V.gitMinor=$(echo "$ver" | cut -d. -f2)"
  ldflags+=" -X $V.gitCommit=0000000000000000000000000000000000000000 -X $V.gitTreeState=clean -X $V.buildDate=1970-01-01T00:00:00Z"
done
# The stamp names the ldflags' hash: changing them rebuilds the four Kubernetes binaries.
k8s_stamp="$bindir/.k8s-ldflags-$(echo "$ldflags" | sha256sum | cut -c1-12)"
# kwok is built from its module source plus tests/controlplane/kwok-*.patch; the stamp names the
# patches' hash, so changing a patch rebuilds kwok (only kwok).
kwok_patches=("$here"/controlplane/kwok-*.patch)
kwok_stamp="$bindir/.kwok-patches-$(cat "${kwok_patches[@]}" | sha256sum | cut -c1-12)"
have_all() {
  for b in "${want[@]}"; do [ -x "$bindir/$b" ] || return 1; done
  [ -e "$kwok_stamp" ] && [ -e "$k8s_stamp" ]
}
if have_all; then echo "$bindir"; exit 0; fi
# One build at a time (several `local-cluster up` may call this at once); recheck after waiting.
mkdir -p "$cache"
exec 8>"$cache/build.lock"
flock 8
if have_all; then echo "$bindir"; exit 0; fi

command -v go >/dev/null || { echo "build-controlplane: go is not installed" >&2; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
export GOPATH=${GOPATH:-$cache/gopath}
export GOCACHE=${GOCACHE_OVERRIDE:-$cache/gocache}
mkdir -p "$bindir" "$GOCACHE"

work="$cache/build-k8s-$K8S_VERSION"
mkdir -p "$work"
cd "$work"
staging=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
  cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
  cri-client cri-streaming csi-translation-lib dynamic-resource-allocation endpointslice externaljwt
  kms kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
  mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller)
{
  echo "module kbuild"
  echo
  echo "go 1.26.0"
  echo
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  echo "replace ("
  for m in "${staging[@]}"; do echo "	k8s.io/$m => k8s.io/$m $K8S_STAGING_VERSION"; done
  echo ")"
} > go.mod
cat > tools.go <<'GO'
//go:build tools

package kbuild

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
go mod tidy -e >&2 || true
for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  if [ ! -x "$bindir/$c" ] || [ ! -e "$k8s_stamp" ]; then
    echo "build-controlplane: building $c $K8S_VERSION" >&2
    go build -trimpath -ldflags "$ldflags" -o "$bindir/$c.tmp" "k8s.io/kubernetes/cmd/$c" >&2
    mv "$bindir/$c.tmp" "$bindir/$c"
  fi
done
rm -f "$bindir"/.k8s-ldflags-* && touch "$k8s_stamp"
if [ ! -x "$bindir/kwok" ] || [ ! -e "$kwok_stamp" ]; then
  echo "build-controlplane: building kwok $KWOK_VERSION (+ ${#kwok_patches[@]} patch(es))" >&2
  kw="$cache/build-kwok-$KWOK_VERSION"
  rm -rf "$kw" && mkdir -p "$kw"
  src=$(cd "$kw" && GOFLAGS= go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$src" ] || { echo "build-controlplane: could not download sigs.k8s.io/kwok@$KWOK_VERSION" >&2; exit 1; }
  cp -r "$src" "$kw/src" && chmod -R u+w "$kw/src"
  for p in "${kwok_patches[@]}"; do patch -s -p1 -d "$kw/src" <"$p" >&2; done
  printf 'module kwokbuild\n\ngo 1.26.0\n\nrequire sigs.k8s.io/kwok %s\n\nreplace sigs.k8s.io/kwok => ./src\n' "$KWOK_VERSION" >"$kw/go.mod"
  printf '//go:build tools\n\npackage kwokbuild\n\nimport _ "sigs.k8s.io/kwok/cmd/kwok"\n' >"$kw/tools.go"
  (cd "$kw" && go mod tidy >&2 && go build -trimpath -ldflags "-s -w" -o "$bindir/kwok.tmp" sigs.k8s.io/kwok/cmd/kwok >&2)
  mv "$bindir/kwok.tmp" "$bindir/kwok"
  rm -f "$bindir"/.kwok-patches-* && touch "$kwok_stamp"
fi
have_all || { echo "build-controlplane: some binaries are missing in $bindir" >&2; exit 1; }
echo "$bindir"
