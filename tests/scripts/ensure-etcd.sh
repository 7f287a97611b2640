#!/usr/bin/env bash
# Fetch etcd from the `etcd-bin-vendored` crate (version ETCD_CRATE_VERSION in tests/versions.env)
# through a tiny cargo project in the cache, copy the binary next to it, print its path.
# Reused when present.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../versions.env
source "$here/versions.env"
cache=${KUBECTL_STATEFUL_CACHE:-$HOME/.cache/kubectl-stateful}
dir="$cache/etcd-$ETCD_CRATE_VERSION"
bin="$dir/bin/etcd"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
mkdir -p "$dir/src" "$dir/bin"
cat > "$dir/Cargo.toml" <<TOML
[package]
name = "etcd-path"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
etcd-bin-vendored = { version = "=$ETCD_CRATE_VERSION", features = ["linux-x86_64"] }

[workspace]
TOML
cat > "$dir/src/main.rs" <<'RS'
fn main() {
    let p = etcd_bin_vendored::etcd_bin_path().expect("etcd binary for this platform");
    println!("{}", p.display());
}
RS
(cd "$dir" && CARGO_TARGET_DIR="$dir/target" cargo build -q --release >&2)
src=$("$dir/target/release/etcd-path")
[ -x "$src" ] || { echo "ensure-etcd: no etcd binary at '$src'" >&2; exit 1; }
cp "$src" "$bin.tmp" && chmod +x "$bin.tmp" && mv "$bin.tmp" "$bin"
"$bin" --version >&2
echo "$bin"
