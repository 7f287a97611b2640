#!/bin/sh
# Record the outputs the MariaDB/MySQL engine's unit tests parse, from the real Debian MariaDB
# server (tests/scripts/install-deps.sh installs it). The probe sections are printed exactly as
# the engine's probe prints them (same SQL, same client flags; a unit test checks the SQL is
# the engine's), for: a fresh server, a primary with the replication user and data, a replica
# seeded with mariadb-dump and running, its IO error (primary down), its SQL error (a row
# written on the replica), the same server diverged after RESET SLAVE ALL, a server without
# binary logging holding data of its own; plus raw `SHOW SLAVE STATUS\G`, `SHOW MASTER STATUS`,
# `SELECT @@gtid_*` and `SELECT VERSION()`. Loopback only (127.0.77.x); servers stopped at the end.
# Needs root (mariadbd runs as user mysql).
set -eu
OUT=${1:-plugins/sts-bootstrap/tests/fixtures/bootstrap/mysql}
PORT=${PORT:-33061}
D=$(mktemp -d)
chmod 755 "$D"
mkdir -p "$OUT"
MARK=@@STS@@
VARS_SQL="SHOW GLOBAL VARIABLES WHERE Variable_name IN ('version','version_comment','server_id','log_bin','read_only','gtid_mode','enforce_gtid_consistency','gtid_strict_mode','gtid_binlog_state','gtid_binlog_pos','gtid_slave_pos','gtid_current_pos','gtid_executed','server_uuid')"
USER_SQL="SELECT Host, Repl_slave_priv, Repl_client_priv, Select_priv, Reload_priv, Lock_tables_priv, Show_view_priv, Event_priv, Trigger_priv FROM mysql.user WHERE User = 'replicator' ORDER BY Host"
TABLES_SQL="SELECT table_schema, COUNT(*) FROM information_schema.tables WHERE table_schema NOT IN ('mysql','information_schema','performance_schema','sys') GROUP BY table_schema ORDER BY table_schema"
GRANTS="REPLICATION SLAVE, REPLICATION CLIENT, SELECT, RELOAD, LOCK TABLES, SHOW VIEW, EVENT, TRIGGER"
cat > "$D/init.sql" <<'SQL'
SET sql_log_bin=0;
DELETE FROM mysql.global_priv WHERE User='' OR (User='root' AND Host NOT IN ('localhost','%'));
FLUSH PRIVILEGES;
CREATE USER IF NOT EXISTS root@'%' IDENTIFIED BY 'rootpw';
GRANT ALL ON *.* TO root@'%' WITH GRANT OPTION;
SQL
# start N SERVER_ID [extra mariadbd args]
start() {
  n=$1; id=$2; shift 2
  [ -d "$D/d$n" ] || { mariadb-install-db --no-defaults --datadir="$D/d$n" --user=mysql --auth-root-authentication-method=normal --skip-test-db >/dev/null 2>&1; chown -R mysql "$D"; }
  mariadbd --no-defaults --user=mysql --datadir="$D/d$n" --socket="$D/s$n" --pid-file="$D/p$n" \
    --bind-address=127.0.77.1$n --port="$PORT" --server-id="$id" --skip-name-resolve \
    --init-file="$D/init.sql" --relay-log="$D/d$n/relay" "$@" > "$D/l$n" 2>&1 &
  until m "$n" -e 'SELECT 1' >/dev/null 2>&1; do sleep 0.2; done
}
stop() { m "$1" -e 'SHUTDOWN' >/dev/null 2>&1 || true; while [ -e "$D/p$1" ]; do sleep 0.2; done; }
export MYSQL_PWD=rootpw
m() { n=$1; shift; mariadb -h "127.0.77.1$n" -P "$PORT" -u root --connect-timeout=10 --batch "$@"; }
probe() {
  n=$1
  printf '%sVARS\n' $MARK; m "$n" -N -e "$VARS_SQL"
  printf '%sUSER\n' $MARK; m "$n" -N -e "$USER_SQL"
  printf '%sTABLES\n' $MARK; m "$n" -N -e "$TABLES_SQL"
  printf '%sREPLICA\n' $MARK; m "$n" -E -e 'SHOW REPLICA STATUS' 2>/dev/null || m "$n" -E -e 'SHOW SLAVE STATUS'
  printf '%sBINLOG\n' $MARK; m "$n" -N -e 'SHOW MASTER STATUS' 2>/dev/null || m "$n" -N -e 'SHOW BINARY LOG STATUS' 2>/dev/null || true
  printf '%sEND\n' $MARK
}
wait_running() { until m "$1" -E -e 'SHOW SLAVE STATUS' | grep -q 'Slave_SQL_Running: Yes' && m "$1" -E -e 'SHOW SLAVE STATUS' | grep -q 'Slave_IO_Running: Yes'; do sleep 0.2; done; }

start 1 1 --log-bin=bin
start 2 2 --log-bin=bin
start 3 3
probe 2 > "$OUT/probe-fresh.txt"
probe 3 > "$OUT/probe-fresh-no-binlog.txt"
m 1 -N -e 'SELECT VERSION()' > "$OUT/select-version.txt"
# The primary: the replication user (as the engine creates it), data written with binary logging.
m 1 -e "SET SESSION sql_log_bin = 0; CREATE USER IF NOT EXISTS 'replicator'@'%' IDENTIFIED BY 'replpw'; ALTER USER 'replicator'@'%' IDENTIFIED BY 'replpw'; GRANT $GRANTS ON *.* TO 'replicator'@'%';"
m 1 -e "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT); INSERT INTO app.t VALUES (1, 'a'), (2, 'b'); CREATE TABLE app.u (id INT PRIMARY KEY)"
probe 1 > "$OUT/probe-primary-with-user.txt"
# A replica seeded as the engine seeds one, then replicating by GTID.
{ echo 'SET SESSION sql_log_bin = 0;'; MYSQL_PWD=replpw mariadb-dump -h 127.0.77.11 -P "$PORT" -u replicator --single-transaction --master-data=1 --gtid --all-databases --ignore-database=mysql --ignore-database=sys --ignore-database=performance_schema --ignore-database=information_schema --routines --events --triggers; } | m 2
m 2 -e "STOP SLAVE; CHANGE MASTER TO MASTER_HOST = '127.0.77.11', MASTER_PORT = $PORT, MASTER_USER = 'replicator', MASTER_PASSWORD = 'replpw', MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 10; START SLAVE; SET GLOBAL read_only = ON"
wait_running 2
m 1 -e "INSERT INTO app.t VALUES (3, 'c')"
until [ "$(m 2 -N -e 'SELECT COUNT(*) FROM app.t')" = 3 ]; do sleep 0.2; done
probe 2 > "$OUT/probe-replica-running.txt"
probe 1 > "$OUT/probe-primary-with-replica.txt"
m 2 -e 'SHOW SLAVE STATUS\G' > "$OUT/show-slave-status.txt"
m 1 -e 'SHOW MASTER STATUS' > "$OUT/show-master-status.txt"
m 2 -e 'SELECT @@gtid_binlog_pos, @@gtid_binlog_state, @@gtid_current_pos, @@gtid_slave_pos, @@gtid_strict_mode, @@server_id' > "$OUT/select-gtid-replica.txt"
# The primary down: the replica's IO thread reconnects with an error.
stop 1
until m 2 -E -e 'SHOW SLAVE STATUS' | grep -q 'Last_IO_Errno: [1-9]'; do sleep 0.2; done
probe 2 > "$OUT/probe-replica-io-error.txt"
start 1 1 --log-bin=bin
wait_running 2
# A row written on the replica (root ignores read_only), then the same key on the primary.
m 2 -e "INSERT INTO app.t VALUES (4, 'written on the replica')"
m 1 -e "INSERT INTO app.t VALUES (4, 'written on the primary')"
until m 2 -E -e 'SHOW SLAVE STATUS' | grep -q 'Last_SQL_Errno: [1-9]'; do sleep 0.2; done
probe 2 > "$OUT/probe-replica-sql-error.txt"
# Detached: a standalone server whose history has a transaction the primary never had.
m 2 -e 'STOP SLAVE; RESET SLAVE ALL'
probe 2 > "$OUT/probe-diverged.txt"
# No binary logging, data of its own.
m 3 -e "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY)"
probe 3 > "$OUT/probe-own-data-no-binlog.txt"
for n in 1 2 3; do stop $n; done
rm -rf "$D"
