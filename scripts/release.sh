#!/usr/bin/env bash
# Build release archives for the krew manifests and fill in their sha256.
#   scripts/release.sh [TARGET...]   # default: the host target (x86_64-unknown-linux-gnu here)
# For each plugin and target: cargo build --release --target T, then
#   dist/<package>-<version>-<T>.tar.gz  holding the binary and LICENSE,
# and the matching platform's sha256 in krew-manifests/<plugin>.yaml is replaced.
# The manifests name musl targets (static binaries); building those needs the target's
# toolchain (rustup target add x86_64-unknown-linux-musl aarch64-unknown-linux-musl
# x86_64-apple-darwin aarch64-apple-darwin, plus a linker for the non-host ones).
set -euo pipefail
cd "$(dirname "$0")/.."
version=v$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="stateful-core"))')
host=$(rustc -vV | sed -n 's/^host: //p')
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=("$host")
mkdir -p dist
for t in "${targets[@]}"; do
  cargo build --release --target "$t" -p kubectl-pvc-trace -p kubectl-sts-bootstrap -p kubectl-backup
  for pair in pvc-trace:kubectl-pvc_trace sts-bootstrap:kubectl-sts_bootstrap backup:kubectl-backup; do
    plugin=${pair%%:*}; bin=${pair#*:}
    archive=dist/kubectl-$plugin-$version-$t.tar.gz
    stage=$(mktemp -d)
    cp "target/$t/release/$bin" LICENSE "$stage/"
    tar -C "$stage" -czf "$archive" "$bin" LICENSE
    rm -rf "$stage"
    sum=$(sha256sum "$archive" | cut -d' ' -f1)
    # The manifest names the musl build for Linux; a gnu host build fills the same platform.
    want=${t/-gnu/-musl}
    python3 - "$plugin" "$version" "$want" "$sum" <<'PY'
import re, sys
plugin, version, target, sha = sys.argv[1:]
path = f"krew-manifests/{plugin}.yaml"
text = open(path).read()
uri = f"kubectl-{plugin}-{version}-{target}.tar.gz"
i = text.find(uri)
if i < 0:
    sys.exit(f"{path}: no platform with {uri}")
j = text.find("sha256:", i)
k = text.find("\n", j)
text = text[:j] + f'sha256: "{sha}"' + text[k:]
open(path, "w").write(text)
print(f"{path}: {target} sha256 {sha}")
PY
  done
done
