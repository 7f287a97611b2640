#!/usr/bin/env bash
# Benchmark (issue 3 "Figures"): on the local control plane loaded with N pods / PVCs / PVs
# (tests/bench/load.sh), time side by side in one hyperfine run
#   floor:      kubectl get pods,pvc,pv,sc,volumeattachments -A -o json
#   raw-lists:  the same five collections with `kubectl get --raw` (bytes only, no decoding)
#   pvc-trace:  kubectl pvc-trace -A -o json      (target/release/kubectl-pvc_trace, via kubectl)
# and report wall time (mean/min/max), the trace/floor ratio (target <= 1.2), peak RSS of each
# (/usr/bin/time -v, one run each) and the API requests each made (counted in the API server's
# audit log, which records every request of the admin user: nothing else runs as admin here).
#
#   tests/bench/bench-cluster.sh [--pods N] [--runs R] [--no-load] [--floor-only]
# Then (issue 15) the single-target questions, each beside `kubectl get` of the same objects
# and `kubectl describe` of them: pod, pvc, pv, node and one namespace, with their request counts
# (summary-single.json). --single-only / --whole-only run one half.
# Results: $BENCH_OUT (default <repo>/bench-out/cluster): hyperfine.json, summary.json,
# requests-*.txt, time-*.txt. Without a release build of kubectl-pvc_trace it measures the floor
# only (build it: cargo build --release -p kubectl-pvc-trace, or pass --build).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
repo=$(cd "$here/.." && pwd)
pods=10000 runs=10 load=1 floor_only="" build="" single=1 whole=1
while [ $# -gt 0 ]; do
  case $1 in
    --pods) pods=$2; shift ;;
    --runs) runs=$2; shift ;;
    --no-load) load="" ;;
    --floor-only) floor_only=1 ;;
    --build) build=1 ;;
    --single-only) whole="" ;;
    --whole-only) single="" ;;
    *) echo "usage: $0 [--pods N] [--runs R] [--no-load] [--floor-only] [--build] [--single-only|--whole-only]" >&2; exit 2 ;;
  esac
  shift
done
# A plane of its own (10,000 extra pods would slow every e2e test on the shared one); left up
# afterwards so a rerun skips the load: stop it with
#   KUBECTL_STATEFUL_CLUSTER_DIR=~/.cache/kubectl-stateful/cluster-bench tests/local-cluster down
export KUBECTL_STATEFUL_CLUSTER_DIR=${KUBECTL_STATEFUL_CLUSTER_DIR:-${KUBECTL_STATEFUL_CACHE:-$HOME/.cache/kubectl-stateful}/cluster-bench}
out=${BENCH_OUT:-$repo/bench-out/cluster}
mkdir -p "$out"
"$here/scripts/install-deps.sh"
"$here/local-cluster" up
[ -n "$load" ] && "$here/bench/load.sh" "$pods" >"$out/load.json"
eval "$("$here/local-cluster" env)"
# shellcheck disable=SC1091
source "$(dirname "$KUBECONFIG")/cluster.env"
target=${CARGO_TARGET_DIR:-$repo/target}
[ -n "$build" ] && (cd "$repo" && cargo build --release -p kubectl-pvc-trace)
trace_bin=$target/release/kubectl-pvc_trace
# kubectl finds the plugin on PATH: put the release dir first (before target/debug).
export PATH="$target/release:$PATH"
have_trace=""
[ -z "$floor_only" ] && [ -x "$trace_bin" ] && have_trace=1
[ -z "$floor_only" ] && [ -z "$have_trace" ] && echo "bench: $trace_bin not built; measuring the floor only" >&2

floor_cmd="kubectl get pods,pvc,pv,sc,volumeattachments -A -o json"
trace_cmd="kubectl pvc-trace -A -o json"
counts=""
for r in pods pvc pv; do counts+="$r=$(kubectl get "$r" -A --no-headers -o name 2>/dev/null | wc -l) "; done
echo "bench: objects: $counts" >&2

# API requests of one run, from the audit log (one line per request: the policy omits the
# RequestReceived stage; long-running requests have two lines, so count unique audit IDs).
count_requests() { # name cmd
  local name=$1 off; shift
  off=$(stat -c %s "$AUDIT_LOG")
  "$@" >/dev/null
  sleep 1
  tail -c +$((off + 1)) "$AUDIT_LOG" |
    jq -r 'select(.user.username=="admin") | [.auditID, .verb, (.objectRef.resource // .requestURI), .userAgent] | @tsv' |
    sort -u -k1,1 >"$out/requests-$name.txt"
  wc -l <"$out/requests-$name.txt"
}
peak_rss_kb() { # name cmd
  local name=$1; shift
  /usr/bin/time -v -o "$out/time-$name.txt" "$@" >/dev/null
  awk -F': ' '/Maximum resident set size/ {print $2}' "$out/time-$name.txt"
}


# --- Single targets (issue 15) -------------------------------------------------------------
if [ -n "$single" ] && [ -n "$have_trace" ]; then
  ns=bench-00 pod=bench-00000 pv=bench-00000-pv node=kwok-node-0
  rows=()
  add() { rows+=("$1"); }
  add "pod|kubectl pvc-trace pod/$pod -n $ns -o json|kubectl get -n $ns pod/$pod pvc/$pod pv/$pv -o json|kubectl describe -n $ns pod/$pod pvc/$pod pv/$pv"
  add "pvc|kubectl pvc-trace pvc/$pod -n $ns -o json|kubectl get -n $ns pvc/$pod pv/$pv pod/$pod -o json|kubectl describe -n $ns pvc/$pod pv/$pv"
  add "pv|kubectl pvc-trace pv/$pv -o json|kubectl get -n $ns pv/$pv pvc/$pod pod/$pod -o json|kubectl describe -n $ns pv/$pv pvc/$pod"
  add "node|kubectl pvc-trace node/$node -o json|kubectl get pods -A --field-selector spec.nodeName=$node -o json|kubectl describe node $node"
  add "namespace|kubectl pvc-trace -n $ns -o json|kubectl get -n $ns pods,pvc -o json|"
  echo '[]' >"$out/summary-single.json"
  for row in "${rows[@]}"; do
    IFS='|' read -r shape trace get describe <<<"$row"
    hf=(-n trace "$trace" -n get "$get")
    [ -n "$describe" ] && hf+=(-n describe "$describe")
    hyperfine -N --warmup 1 --runs "$runs" --export-json "$out/hyperfine-$shape.json" "${hf[@]}" >&2
    # shellcheck disable=SC2086
    treq=$(count_requests "trace-$shape" $trace)
    # shellcheck disable=SC2086
    trss=$(peak_rss_kb "trace-$shape" $trace)
    jq --arg shape "$shape" --argjson req "$treq" --argjson rss "$trss" --slurpfile h "$out/hyperfine-$shape.json" '
      . + [{shape: $shape, trace_requests: $req, trace_peak_rss_kb: $rss}
           + ($h[0].results | map({(.command): {mean_s: .mean, min_s: .min}}) | add)
           + {ratio_trace_over_get: (($h[0].results[0].mean) / ($h[0].results[1].mean))}]' \
      "$out/summary-single.json" >"$out/summary-single.tmp" && mv "$out/summary-single.tmp" "$out/summary-single.json"
  done
  jq . "$out/summary-single.json"
fi
[ -z "$whole" ] && exit 0

# A lower reference than the floor: the five collections as raw bytes, unpaginated, undecoded
# (what any client must at least transfer).
raw_cmd="bash -c 'for p in /api/v1/pods /api/v1/persistentvolumeclaims /api/v1/persistentvolumes /apis/storage.k8s.io/v1/storageclasses /apis/storage.k8s.io/v1/volumeattachments; do kubectl get --raw \$p >/dev/null; done'"
hf=(-n floor "$floor_cmd" -n raw-lists "$raw_cmd")
# pvc-trace with kubectl's page size (500), bigger pages, and one unpaginated response per kind.
[ -n "$have_trace" ] && hf+=(-n pvc-trace "$trace_cmd" -n pvc-trace-chunk-2000 "$trace_cmd --chunk-size 2000" -n pvc-trace-chunk-0 "$trace_cmd --chunk-size 0")
hyperfine -N --warmup 2 --runs "$runs" --export-json "$out/hyperfine.json" "${hf[@]}" >&2

# shellcheck disable=SC2086
floor_req=$(count_requests floor $floor_cmd)
# shellcheck disable=SC2086
floor_rss=$(peak_rss_kb floor $floor_cmd)
trace_req=null trace_rss=null trace_direct_rss=null trace_chunk0_rss=null
if [ -n "$have_trace" ]; then
  # shellcheck disable=SC2086
  trace_req=$(count_requests pvc-trace $trace_cmd)
  # shellcheck disable=SC2086
  trace_rss=$(peak_rss_kb pvc-trace $trace_cmd)
  trace_direct_rss=$(peak_rss_kb pvc-trace-direct "$trace_bin" -A -o json)
  trace_chunk0_rss=$(peak_rss_kb pvc-trace-chunk-0 "$trace_bin" -A -o json --chunk-size 0)
fi
jq -n --slurpfile h "$out/hyperfine.json" --arg counts "$counts" \
  --argjson floor_req "$floor_req" --argjson floor_rss "$floor_rss" \
  --argjson trace_req "$trace_req" --argjson trace_rss "$trace_rss" --argjson trace_direct_rss "$trace_direct_rss" --argjson trace_chunk0_rss "$trace_chunk0_rss" '
  ($h[0].results | map({(.command): {mean_s: .mean, stddev_s: .stddev, min_s: .min, max_s: .max}}) | add) as $r
  | {objects: $counts, floor: ($r.floor + {api_requests: $floor_req, peak_rss_kb: $floor_rss}),
     raw_lists: $r["raw-lists"],
     pvc_trace_chunk_2000: $r["pvc-trace-chunk-2000"], pvc_trace_chunk_0: ($r["pvc-trace-chunk-0"] + {peak_rss_kb_without_kubectl: $trace_chunk0_rss}),
     ratio_trace_over_raw: (if $r["pvc-trace"] then ($r["pvc-trace"].mean_s / $r["raw-lists"].mean_s) else null end),
     ratio_unpaginated_over_raw: (if $r["pvc-trace-chunk-0"] then ($r["pvc-trace-chunk-0"].mean_s / $r["raw-lists"].mean_s) else null end),
     pvc_trace: (if $r["pvc-trace"] then $r["pvc-trace"] + {api_requests: $trace_req,
       peak_rss_kb: $trace_rss, peak_rss_kb_without_kubectl: $trace_direct_rss} else null end),
     ratio_trace_over_floor: (if $r["pvc-trace"] then ($r["pvc-trace"].mean_s / $r.floor.mean_s) else null end)}' \
  | tee "$out/summary.json"
