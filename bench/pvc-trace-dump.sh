#!/usr/bin/env bash
# Benchmark of pvc-trace on a dump (issue: 10,000 pods / claims / volumes, -A, -o json and
# -o table; target < 1 s and < 3x the dump's size in memory on a 2-core machine; 100,000 of
# each: < 6 s and < 2x).
#   bench/pvc-trace-dump.sh [N]        # default N=10000; figures on stdout
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
out=${BENCH_OUT:-bench-out}
mkdir -p "$out"
cargo build --release -q -p kubectl-pvc-trace --bin kubectl-pvc_trace --example gen_dump
dump="$out/big-$n.yaml"
[ -f "$dump" ] || ./target/release/examples/gen_dump "$n" "$dump"
json="$out/big-$n.json"
# The same objects as JSON, indented like `kubectl get -o json`: time YAML (the issue's case)
# and report the JSON-input figure too when python3 with PyYAML is present.
# PyYAML needs minutes and gigabytes past some 20,000 objects: the JSON rows are for N <= 20000.
if [ "$n" -le 20000 ] && command -v python3 >/dev/null && [ ! -f "$json" ] && python3 -c 'import yaml' 2>/dev/null; then
  python3 -c 'import sys,yaml,json; json.dump(yaml.load(open(sys.argv[1]),Loader=yaml.CSafeLoader if hasattr(yaml,"CSafeLoader") else yaml.SafeLoader),open(sys.argv[2],"w"),indent=4)' "$dump" "$json" || rm -f "$json"
fi
size=$(stat -c %s "$dump")
echo "dump: $dump ($((size / 1024 / 1024)) MiB, $n pods / claims / volumes)"
measure() { # label, file, args...
  local label=$1 file=$2; shift 2
  local size best=999999 cpu=0 rss=0
  size=$(stat -c %s "$file")
  for _ in 1 2 3 4 5; do
    /usr/bin/time -f "%e %U %S %M" -o "$out/time.txt" ./target/release/kubectl-pvc_trace "$@" >/dev/null || [ $? -eq 5 ]
    read -r secs user sys kb < "$out/time.txt"
    if awk -v a="$best" -v b="$secs" 'BEGIN{exit !(b<a)}'; then
      best=$secs
      cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.2f", u+s}')
    fi
    rss=$(( kb > rss ? kb : rss ))
  done
  local ratio
  ratio=$(awk -v r="$rss" -v s="$size" 'BEGIN{printf "%.2f", r*1024/s}')
  printf '%-26s best of 5: %6.2f s (CPU %6.2f s)   peak RSS (worst of 5): %6.1f MiB = %sx the dump (%d MiB)\n' \
    "$label" "$best" "$cpu" "$(awk -v r="$rss" 'BEGIN{print r/1024}')" "$ratio" "$((size / 1024 / 1024))"
}
measure "-A -o json  (yaml dump)" "$dump" --from-file "$dump" -A -o json
measure "-A -o table (yaml dump)" "$dump" --from-file "$dump" -A -o table
measure "-A -o wide  (yaml dump)" "$dump" --from-file "$dump" -A -o wide
if [ -f "$json" ]; then
  measure "-A -o json  (json dump)" "$json" --from-file "$json" -A -o json
  measure "-A -o table (json dump)" "$json" --from-file "$json" -A -o table
fi
