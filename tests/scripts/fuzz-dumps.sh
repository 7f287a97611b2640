#!/usr/bin/env bash
# The long mutation campaign over the dump reader, through the three plugin binaries.
#
# The seeded mutator of shared/core/tests/dump_fuzz.rs (the bounded campaign CI runs)
# writes N mutated dumps (every fixture and its JSON twin: byte flips, truncation, deep
# nesting, huge numbers, non-finite floats, control characters, duplicated keys, aliases,
# CR line breaks…); each one then goes through
#   kubectl-pvc_trace --from-file F -A -o json
#   kubectl-backup list -A -o json --from-file F
#   kubectl-sts_bootstrap plan todo-db -n default -o json --from-file F
# with a time limit. Prints executions, an exit-code histogram per plugin, the slowest run
# and the largest peak RSS; exits 1 if any run panicked (101), aborted (134), was killed
# (137) or timed out (124), or an exit-1 error did not name the file and a line.
#
# Usage: tests/scripts/fuzz-dumps.sh [-n CASES] [--seed S] [--profile release|debug] [--keep DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
cases=20000 seed=$RANDOM$RANDOM profile=release keep=""
while [ $# -gt 0 ]; do
  case $1 in
    -n) cases=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --profile) profile=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "usage: $0 [-n CASES] [--seed S] [--profile release|debug] [--keep DIR]" >&2; exit 2 ;;
  esac
done
target=${CARGO_TARGET_DIR:-target}
flag=(); [ "$profile" = release ] && flag=(--release)
cargo build -q "${flag[@]}" -p kubectl-pvc-trace -p kubectl-backup -p kubectl-sts-bootstrap
bin=$target/$profile
dir=${keep:-$(mktemp -d)}
mkdir -p "$dir/cases"
[ -z "$keep" ] && trap 'rm -rf "$dir"' EXIT

if [ -n "$keep" ] && [ "$(ls "$dir/cases" | wc -l)" -ge "$cases" ]; then
  echo "reusing the $cases dumps in $dir/cases" >&2
else
echo "writing $cases mutated dumps (seed $seed)" >&2
DUMP_FUZZ_OUT=$dir/cases DUMP_FUZZ_CASES=$cases DUMP_FUZZ_SEED=$seed \
  cargo test -q -p stateful-core --test dump_fuzz >/dev/null 2>"$dir/mutator.log" || {
  echo "the in-process campaign failed:" >&2; tail -20 "$dir/mutator.log" >&2; exit 1; }
fi

declare -A hist
bad=0 file_errors=0 runs=0 slowest=0 slowest_case="" peak=0 peak_case=""
start=$(date +%s)
run() { # plugin case args...
  local plugin=$1 f=$2; shift 2
  local t0 t1 code ms rss
  t0=$(date +%s%N)
  set +e
  /usr/bin/time -f %M -o "$dir/rss" timeout 30s "$@" >/dev/null 2>"$dir/err"
  code=$?
  set -e
  t1=$(date +%s%N)
  ms=$(( (t1 - t0) / 1000000 ))
  rss=$(tail -1 "$dir/rss" 2>/dev/null || echo 0)
  [[ $rss =~ ^[0-9]+$ ]] || rss=0
  runs=$((runs + 1))
  hist[$plugin:$code]=$(( ${hist[$plugin:$code]:-0} + 1 ))
  if [ "$ms" -gt "$slowest" ]; then slowest=$ms slowest_case="$plugin $f"; fi
  if [ "$rss" -gt "$peak" ]; then peak=$rss peak_case="$plugin $f"; fi
  case $code in
    101|134|137|124) bad=$((bad + 1)); echo "BUG: $plugin exit $code on $f: $(head -c 300 "$dir/err")" >&2 ;;
    1)
      # an error about the dump names it and a line; others (e.g. a plan refused) are data
      if grep -q "$(basename "$f")" "$dir/err"; then
        file_errors=$((file_errors + 1))
        if ! grep -q "$(basename "$f"):[0-9]" "$dir/err"; then
          bad=$((bad + 1))
          echo "NO LINE: $plugin on $f: $(head -c 300 "$dir/err")" >&2
        fi
      fi ;;
  esac
  return 0
}
for f in "$dir"/cases/case-*.yaml; do
  run pvc-trace "$f" "$bin/kubectl-pvc_trace" --from-file "$f" -A -o json
  run backup "$f" "$bin/kubectl-backup" list -A -o json --from-file "$f"
  run sts-bootstrap "$f" "$bin/kubectl-sts_bootstrap" plan todo-db -n default -o json --from-file "$f"
done
secs=$(( $(date +%s) - start ))
echo "profile $profile, seed $seed: $runs executions over $cases mutated dumps in ${secs}s"
for k in $(printf '%s\n' "${!hist[@]}" | sort -t: -k1,1 -k2,2n); do
  printf '  %-16s exit %-3s %7d\n' "${k%%:*}" "${k##*:}" "${hist[$k]}"
done
echo "slowest run: ${slowest} ms ($slowest_case)"
echo "largest peak RSS: ${peak} KiB ($peak_case)"
echo "file errors (exit 1 naming the dump): $file_errors"
echo "bugs (panic, abort, kill, timeout, file error without a line): $bad"
[ "$bad" -eq 0 ]
