//! MySQL and MariaDB: `mysqldump` (or `mariadb-dump` where the image has only that) with
//! `--single-transaction`, root when the image's root password is known (then routines and
//! events too), else the application user; the dump must end with "Dump completed".

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
};

const SCRIPT: &str = r#"set -eu
root_pw="${MYSQL_ROOT_PASSWORD:-${MARIADB_ROOT_PASSWORD:-}}"
user="${MYSQL_USER:-${MARIADB_USER:-}}"
if [ -n "$root_pw" ]; then user=root; export MYSQL_PWD="$root_pw"
elif [ -n "$user" ]; then export MYSQL_PWD="${MYSQL_PASSWORD:-${MARIADB_PASSWORD:-${MYSQL_PWD:-}}}"
else user=root; fi
db="${MYSQL_DATABASE:-${MARIADB_DATABASE:-}}"
if [ -n "$db" ]; then set -- --databases "$db"; else set -- --all-databases; fi
if [ "$user" = root ]; then set -- "$@" --routines --events; fi
dump=mysqldump; command -v mysqldump >/dev/null 2>&1 || dump=mariadb-dump
f="$BACKUP_DIR/$BACKUP_FILE"
echo "kubectl-backup: $dump --single-transaction $* as $user from $BACKUP_HOST:$BACKUP_PORT to $f"
"$dump" --protocol=TCP --host="$BACKUP_HOST" --port="$BACKUP_PORT" --user="$user" --single-transaction --triggers --result-file="$f.partial" "$@"
tail -n 1 "$f.partial" | grep -q 'Dump completed' || { echo "kubectl-backup: dump is incomplete" >&2; exit 1; }
mv "$f.partial" "$f"
echo "kubectl-backup: wrote $f ($(wc -c < "$f") bytes)"
"#;
