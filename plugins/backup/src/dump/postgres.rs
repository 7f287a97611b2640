//! PostgreSQL: `pg_dump -Fc` (custom format, checked with `pg_restore --list` before the
//! atomic rename). Credentials from the libpq variables or the official image's `POSTGRES_*`.
//! Restore: `pg_restore --clean --if-exists --no-owner --single-transaction` into an existing
//! database (all or nothing). Verify: `pg_restore --list`, then every entry read.

use super::DumpSpec;

pub(super) const SPEC: DumpSpec = DumpSpec {
    ext: "dump",
    env_names: &[
        "PGUSER",
        "PGPASSWORD",
        "PGDATABASE",
        "POSTGRES_USER",
        "POSTGRES_PASSWORD",
        "POSTGRES_DB",
    ],
    script: SCRIPT,
    replica_env: &[],
    restore_script: RESTORE,
    verify_script: VERIFY,
    verify_reads_server: false,
};

/// libpq's variables from the Job's env, the same for dump and restore.
macro_rules! pg_env {
    () => {
        r#"export PGHOST="$BACKUP_HOST" PGPORT="$BACKUP_PORT"
export PGUSER="${PGUSER:-${POSTGRES_USER:-postgres}}"
export PGDATABASE="${PGDATABASE:-${POSTGRES_DB:-$PGUSER}}"
if [ -z "${PGPASSWORD:-}" ] && [ -n "${POSTGRES_PASSWORD:-}" ]; then export PGPASSWORD="$POSTGRES_PASSWORD"; fi
"#
    };
}

const SCRIPT: &str = concat!(
    "set -eu\n",
    pg_env!(),
    r#"f="$BACKUP_DIR/$BACKUP_FILE"
echo "kubectl-backup: pg_dump -Fc database $PGDATABASE as $PGUSER from $PGHOST:$PGPORT to $f"
pg_dump -Fc --no-password -f "$f.partial"
pg_restore --list "$f.partial" >/dev/null
"#,
    dump_tail!()
);

const RESTORE: &str = concat!(
    restore_head!(),
    pg_env!(),
    r#"db="${RESTORE_DATABASE:-$PGDATABASE}"
case "$db" in ''|*=*|postgres://*|postgresql://*) fail "RESTORE_DATABASE '$db' is not a database name";; esac
n=$(pg_restore --list "$f" | grep -vc '^;' || true)
echo "kubectl-backup: pg_restore --clean --if-exists --no-owner --single-transaction of $f ($n entries) into database $db as $PGUSER on $PGHOST:$PGPORT"
pg_restore --clean --if-exists --no-owner --single-transaction --no-password --dbname="$db" "$f"
echo "kubectl-backup: restored $f ($n entries) into database $db on $PGHOST:$PGPORT"
"#
);

const VERIFY: &str = concat!(
    verify_head!(),
    r#"out=$(pg_restore --list "$f" 2>&1 >/dev/null) || fail "pg_restore --list: $(last "$out")"
n=$(pg_restore --list "$f" | grep -vc '^;' || true)
out=$(pg_restore --file=/dev/null "$f" 2>&1 >/dev/null) || fail "pg_restore (reading every entry): $(last "$out")"
reader="pg_restore --list: $n entries, every entry read"
"#,
    verify_tail!()
);
