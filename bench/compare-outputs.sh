#!/usr/bin/env bash
# Run the three plugins of two builds over the same inputs, every format, and compare stdout,
# stderr and exit codes byte for byte. For refactors that must not change behaviour.
#   bench/compare-outputs.sh OLD_BIN_DIR NEW_BIN_DIR [BIG_DUMP]
# Exits 1 and prints the differing cases when any output differs.
set -uo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2 big=${3:-}
demo=examples/demo-cluster.yaml
bk=plugins/backup/tests/fixtures/todo-db.yaml
run=plugins/backup/tests/fixtures/running-manual.yaml
sb=plugins/sts-bootstrap/tests/fixtures/bootstrap
cases=()
for o in table wide json yaml tree; do
  cases+=("pvc-trace --from-file $demo -A -o $o")
  cases+=("pvc-trace --from-file $demo -n shop -o $o")
  cases+=("pvc-trace --from-file $demo -A --problems -o $o")
  cases+=("pvc-trace --from-file $demo -n shop sts/postgres -o $o")
  cases+=("pvc-trace --from-file $demo -n shop postgres-0 -o $o")
  cases+=("pvc-trace --from-file $demo pv/local-pv-worker-c-nvme0 -o $o")
  cases+=("pvc-trace --from-file $demo -n analytics pvc/etl-runner-work -o $o")
done
cases+=("pvc-trace --from-file $demo -A --fail-on warning")
cases+=("pvc-trace --from-file $demo -n shop")
cases+=("pvc-trace --from-file $demo -A -l app=postgres")
cases+=("pvc-trace --from-file $demo svc/x")
cases+=("pvc-trace --from-file $demo -n shop pod/nope")
cases+=("pvc-trace --from-file /nonexistent.yaml")
if [ -n "$big" ]; then
  for o in json table wide; do cases+=("pvc-trace --from-file $big -A -o $o"); done
fi
for o in yaml json; do
  cases+=("backup create sts/todo-db --to pvc/todo-db-backup-pvc --dry-run --from-file $bk -n default -o $o")
  cases+=("backup create cronjob/todo-db-backup --dry-run --from-file $bk -n default --name manual-1 -o $o")
  cases+=("backup create cronjob/todo-db-backup --dry-run --from-file $bk --from-file $run -n default --name manual-1 -o $o")
  cases+=("backup create sts/todo-db --to-new-pvc 5Gi --source primary --dry-run --from-file $bk -n default --name b1 -o $o")
done
cases+=("backup list --from-file $bk -A")
cases+=("backup list --from-file $bk -A -o json")
cases+=("backup list --from-file $bk -n default cronjob/todo-db-backup")
cases+=("backup describe todo-db-backup-manual-x --from-file $bk -n default")
cases+=("backup create svc/x --dry-run --from-file $bk")
for fs in todo-db.yaml:todo-db mongo.yaml:mongo mongo-with-helper.yaml:mongo todo-db-mountpoint.yaml:todo-db; do
  for o in table json yaml; do
    cases+=("sts-bootstrap plan ${fs#*:} -n default --from-file $sb/${fs%%:*} -o $o")
  done
done
cases+=("sts-bootstrap plan nope -n default --from-file $sb/todo-db.yaml")
diffs=0
tmp=$(mktemp -d)
for c in "${cases[@]}"; do
  read -r plugin rest <<<"$c"
  bin=kubectl-${plugin//-/_}
  # shellcheck disable=SC2086
  "$old/$bin" $rest >"$tmp/o.out" 2>"$tmp/o.err"; oc=$?
  "$new/$bin" $rest >"$tmp/n.out" 2>"$tmp/n.err"; nc=$?
  if [ $oc != $nc ] || ! cmp -s "$tmp/o.out" "$tmp/n.out" || ! cmp -s "$tmp/o.err" "$tmp/n.err"; then
    diffs=$((diffs + 1))
    echo "DIFF: $c (exit $oc -> $nc)"
    diff "$tmp/o.out" "$tmp/n.out" | head -5
    diff "$tmp/o.err" "$tmp/n.err" | head -5
  fi
done
rm -rf "$tmp"
echo "compare-outputs: ${#cases[@]} cases, $diffs differ"
[ $diffs = 0 ]
