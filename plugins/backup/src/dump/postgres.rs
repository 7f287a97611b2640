//! PostgreSQL: `pg_dump -Fc` (custom format, checked with `pg_restore --list` before the
//! atomic rename). Credentials from the libpq variables or the official image's `POSTGRES_*`.

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
};

const SCRIPT: &str = r#"set -eu
export PGHOST="$BACKUP_HOST" PGPORT="$BACKUP_PORT"
export PGUSER="${PGUSER:-${POSTGRES_USER:-postgres}}"
export PGDATABASE="${PGDATABASE:-${POSTGRES_DB:-$PGUSER}}"
if [ -z "${PGPASSWORD:-}" ] && [ -n "${POSTGRES_PASSWORD:-}" ]; then export PGPASSWORD="$POSTGRES_PASSWORD"; fi
f="$BACKUP_DIR/$BACKUP_FILE"
echo "kubectl-backup: pg_dump -Fc database $PGDATABASE as $PGUSER from $PGHOST:$PGPORT to $f"
pg_dump -Fc --no-password -f "$f.partial"
pg_restore --list "$f.partial" >/dev/null
mv "$f.partial" "$f"
echo "kubectl-backup: wrote $f ($(wc -c < "$f") bytes)"
"#;
