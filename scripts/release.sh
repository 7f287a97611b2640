#!/usr/bin/env bash
# Build release archives and fill in the krew manifests' sha256, only for what can be built here.
#   scripts/release.sh [TARGET...]   # default: the host target (x86_64-unknown-linux-gnu here)
# For each target and plugin: cargo build --release --target T, then
#   dist/kubectl-<plugin>-<version>-<T>.tar.gz  holding the binary, its kubectl completion shim
#   (kubectl_complete-<plugin>) and LICENSE (tar with fixed order, owner and mtime),
# and the sha256 of the manifest platform whose uri names exactly that archive is replaced in
# $KREW_MANIFEST_DIR/<plugin>.yaml (default krew-manifests/). At the end every platform of every
# manifest must name an archive built by this run with its sha256, or the script fails: no entry
# is left pointing at a wrong, missing or all-zero archive.
#
# Targets: a target builds only when its Rust standard library is installed (rustup target add
# downloads from static.rust-lang.org, which these machines cannot reach) and, for a non-host
# target, a linker for it exists. Here that is x86_64-unknown-linux-gnu alone (a glibc build:
# it runs on glibc distributions, not on Alpine/musl). musl and macOS builds need a machine with
# those toolchains, and manifest entries for them are added only with archives built there.
set -euo pipefail
cd "$(dirname "$0")/.."
manifests=${KREW_MANIFEST_DIR:-krew-manifests}
target_dir=${CARGO_TARGET_DIR:-target}
version=v$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="stateful-core"))')
host=$(rustc -vV | sed -n 's/^host: //p')
sysroot=$(rustc --print sysroot)
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=("$host")
for t in "${targets[@]}"; do
  if [ ! -d "$sysroot/lib/rustlib/$t/lib" ]; then
    echo "release: cannot build $t here: its standard library is not installed in $sysroot (rustup target add $t needs static.rust-lang.org)" >&2
    exit 1
  fi
  if [ "$t" != "$host" ]; then
    echo "release: cannot build $t here: cross-linking from $host is not set up" >&2
    exit 1
  fi
done
mkdir -p dist
plugins=(pvc-trace:kubectl-pvc_trace sts-bootstrap:kubectl-sts_bootstrap backup:kubectl-backup)
for t in "${targets[@]}"; do
  cargo build --release --locked --target "$t" -p kubectl-pvc-trace -p kubectl-sts-bootstrap -p kubectl-backup
  for pair in "${plugins[@]}"; do
    plugin=${pair%%:*}; bin=${pair#*:}
    shim=kubectl_complete-${bin#kubectl-}
    archive=dist/kubectl-$plugin-$version-$t.tar.gz
    stage=$(mktemp -d)
    cp "$target_dir/$t/release/$bin" "plugins/$plugin/completion/$shim" LICENSE "$stage/"
    chmod 0755 "$stage/$bin" "$stage/$shim"
    tar -C "$stage" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
      -cf - "$bin" "$shim" LICENSE | gzip -n -9 > "$archive"
    rm -rf "$stage"
    sum=$(sha256sum "$archive" | cut -d' ' -f1)
    python3 - "$manifests/$plugin.yaml" "$(basename "$archive")" "$sum" <<'PY'
import re, sys
path, archive, sha = sys.argv[1:]
text = open(path).read()
# The platform whose uri ends with exactly this archive's name (never a look-alike target).
m = re.search(r'uri: \S*/' + re.escape(archive) + r'\n', text)
if not m:
    print(f"release: {path}: no platform for {archive}; not added (add its entry by hand)", file=sys.stderr)
    sys.exit(0)
j = text.find("sha256:", m.end())
k = text.find("\n", j)
text = text[:j] + f'sha256: "{sha}"' + text[k:]
open(path, "w").write(text)
print(f"{path}: {archive} sha256 {sha}")
PY
  done
done
# Every platform of every manifest names an archive of dist/ with its sha256.
python3 - "$manifests" <<'PY'
import hashlib, os, re, sys
bad = []
for name in sorted(os.listdir(sys.argv[1])):
    if not name.endswith(".yaml"):
        continue
    text = open(os.path.join(sys.argv[1], name)).read()
    for uri, sha in re.findall(r'uri: (\S+)\n(?:\s*#.*\n)*\s*sha256: "?([0-9a-fA-F]*)"?', text):
        archive = os.path.join("dist", uri.rsplit("/", 1)[-1])
        if not os.path.exists(archive):
            bad.append(f"{name}: {uri}: no such archive built here")
        elif hashlib.sha256(open(archive, "rb").read()).hexdigest() != sha:
            bad.append(f"{name}: {uri}: sha256 {sha or '(none)'} is not the archive's")
if bad:
    sys.exit("release: manifests point at archives this run did not build:\n  " + "\n  ".join(bad))
PY
