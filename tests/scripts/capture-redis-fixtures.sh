#!/bin/sh
# Record the outputs the Redis engine's unit tests parse, from the real Debian redis-server
# (tests/scripts/install-deps.sh installs it): INFO of an empty standalone server, a primary
# with a replica, a replica with its link up and down, a standalone server with keys.
# Loopback only; the servers are stopped at the end.
set -eu
OUT=${1:-plugins/sts-bootstrap/tests/fixtures/bootstrap/redis}
D=$(mktemp -d)
P1=${PORT1:-26381}; P2=${PORT2:-26382}
mkdir -p "$OUT"
for i in 1 2; do
  eval p=\$P$i
  printf 'bind 127.0.0.1\nport %s\nrequirepass pw\nmasterauth pw\ndir %s\ndbfilename d%s.rdb\nrepl-diskless-sync-delay 0\n' "$p" "$D" "$i" > "$D/r$i.conf"
  redis-server "$D/r$i.conf" --daemonize yes --logfile "$D/l$i" --pidfile "$D/p$i"
done
export REDISCLI_AUTH=pw
cli() { port=$1; shift; redis-cli -p "$port" "$@"; }
until cli "$P1" PING >/dev/null 2>&1 && cli "$P2" PING >/dev/null 2>&1; do sleep 0.2; done
cli "$P1" SET a 1 >/dev/null; cli "$P1" SET b 2 >/dev/null
cli "$P2" INFO > "$OUT/info-standalone-empty.txt"
cli "$P2" REPLICAOF 127.0.0.1 "$P1" >/dev/null
until cli "$P2" INFO replication | grep -q '^master_link_status:up'; do sleep 0.2; done
cli "$P1" SET c 3 >/dev/null; sleep 1
cli "$P1" INFO > "$OUT/info-primary-with-replica.txt"
cli "$P2" INFO > "$OUT/info-replica-up.txt"
cli "$P1" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
sleep 1
cli "$P2" INFO > "$OUT/info-replica-link-down.txt"
cli "$P2" REPLICAOF NO ONE >/dev/null
cli "$P2" INFO > "$OUT/info-master-with-keys.txt"
cli "$P2" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
# Config files and paths are this run's temporary ones: make them stable.
sed -i "s#$D#/data#g" "$OUT"/info-*.txt
rm -rf "$D"
