//! MySQL and MariaDB: `mysqldump` (or `mariadb-dump` where the image has only that) with
//! `--single-transaction`, root when the image's root password is known (then routines and
//! events too), else the application user; the dump must end with "Dump completed".
//! Restore: the `mysql` (or `mariadb`) client fed the file, as the same user; the dump names
//! its database (`--databases`), and `RESTORE_DATABASE` renames it on the way in. Verify: the
//! `-- Dump completed` trailer.

use super::DumpSpec;

pub(super) const SPEC: DumpSpec = DumpSpec {
    ext: "sql",
    env_names: &[
        "MYSQL_PWD",
        "MYSQL_ROOT_PASSWORD",
        "MYSQL_USER",
        "MYSQL_PASSWORD",
        "MYSQL_DATABASE",
        "MARIADB_ROOT_PASSWORD",
        "MARIADB_USER",
        "MARIADB_PASSWORD",
        "MARIADB_DATABASE",
    ],
    script: SCRIPT,
    replica_env: &[],
    restore_script: RESTORE,
    verify_script: VERIFY,
    verify_reads_server: false,
};

/// Who logs in (root when its password is known) with the password in `MYSQL_PWD` (never
/// argv), and the application database: the same for dump and restore.
macro_rules! mysql_login {
    () => {
        r#"root_pw="${MYSQL_ROOT_PASSWORD:-${MARIADB_ROOT_PASSWORD:-}}"
user="${MYSQL_USER:-${MARIADB_USER:-}}"
if [ -n "$root_pw" ]; then user=root; export MYSQL_PWD="$root_pw"
elif [ -n "$user" ]; then export MYSQL_PWD="${MYSQL_PASSWORD:-${MARIADB_PASSWORD:-${MYSQL_PWD:-}}}"
else user=root; fi
db="${MYSQL_DATABASE:-${MARIADB_DATABASE:-}}"
"#
    };
}

const SCRIPT: &str = concat!(
    "set -eu\n",
    mysql_login!(),
    r#"if [ -n "$db" ]; then set -- --databases "$db"; else set -- --all-databases; fi
if [ "$user" = root ]; then set -- "$@" --routines --events; fi
dump=mysqldump; command -v mysqldump >/dev/null 2>&1 || dump=mariadb-dump
f="$BACKUP_DIR/$BACKUP_FILE"
echo "kubectl-backup: $dump --single-transaction $* as $user from $BACKUP_HOST:$BACKUP_PORT to $f"
"$dump" --protocol=TCP --host="$BACKUP_HOST" --port="$BACKUP_PORT" --user="$user" --single-transaction --triggers --result-file="$f.partial" "$@"
tail -n 1 "$f.partial" | grep -q 'Dump completed' || { echo "kubectl-backup: dump is incomplete" >&2; exit 1; }
"#,
    dump_tail!()
);

const RESTORE: &str = concat!(
    restore_head!(),
    mysql_login!(),
    r#"tail -n 1 "$f" | grep -q 'Dump completed' || fail "$f does not end with '-- Dump completed' (truncated?)"
client=mysql; command -v mysql >/dev/null 2>&1 || client=mariadb
src=$(sed -n 's/^-- Current Database: `\(.*\)`$/\1/p' "$f" | sort -u)
into="${RESTORE_DATABASE:-${src:-$db}}"
set -- --protocol=TCP --host="$BACKUP_HOST" --port="$BACKUP_PORT" --user="$user"
if [ -n "${RESTORE_DATABASE:-}" ] && [ -n "$src" ] && [ "$RESTORE_DATABASE" != "$src" ]; then
  [ "$(printf '%s\n' "$src" | wc -l | tr -d ' ')" = 1 ] || fail "the dump holds several databases ($(echo $src)); RESTORE_DATABASE needs a one-database dump"
  for n in "$src" "$RESTORE_DATABASE"; do
    case "$n" in *[!A-Za-z0-9_-]*) fail "database name '$n': only letters, digits, _ and - can be renamed";; esac
  done
  echo "kubectl-backup: $client as $user on $BACKUP_HOST:$BACKUP_PORT < $f (database $src restored as $RESTORE_DATABASE)"
  sed -e "s/^CREATE DATABASE \(.*\)\`$src\`/CREATE DATABASE \1\`$RESTORE_DATABASE\`/" -e "s/^USE \`$src\`;/USE \`$RESTORE_DATABASE\`;/" "$f" | "$client" "$@"
else
  if [ -z "$src" ] && [ -n "$into" ]; then set -- "$@" "$into"; fi
  echo "kubectl-backup: $client as $user on $BACKUP_HOST:$BACKUP_PORT < $f (database ${into:-as in the dump})"
  "$client" "$@" < "$f"
fi
echo "kubectl-backup: restored $f ($(wc -c < "$f" | tr -d ' ') bytes) into database ${into:-as in the dump} on $BACKUP_HOST:$BACKUP_PORT"
"#
);

const VERIFY: &str = concat!(
    verify_head!(),
    r#"tail -n 1 "$f" | grep -q '^-- Dump completed' || fail "mysqldump trailer: the last line is not '-- Dump completed' (truncated?)"
reader="mysqldump trailer present"
"#,
    verify_tail!()
);
