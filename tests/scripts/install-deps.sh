#!/usr/bin/env bash
# Install what the e2e tests and benchmarks need from Debian, idempotently and quietly:
# fast (no apt) when everything is already there. Works as root with no TTY; uses sudo otherwise.
#   tests/scripts/install-deps.sh            # the default set
#   tests/scripts/install-deps.sh pkg ...    # the default set plus more packages
set -euo pipefail
pkgs=(openssl curl jq ca-certificates procps iproute2 util-linux patch hyperfine time tmux
  postgresql postgresql-client mariadb-server mariadb-client redis-server zsh fish graphviz "$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq >/dev/null
# Database packages start their services on install where an init system runs; the tests start
# their own servers, so keep the packaged ones from starting (policy-rc.d, removed afterwards).
rc=/usr/sbin/policy-rc.d; added=""
if [ ! -e "$rc" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$rc" >/dev/null && "${sudo[@]}" chmod +x "$rc" && added=1
fi
trap '[ -n "$added" ] && "${sudo[@]}" rm -f "$rc"' EXIT
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
