//! Redis (and Valkey, KeyDB): `redis-cli --rdb`, the password through `REDISCLI_AUTH` (never
//! argv); the file must start with the RDB magic `REDIS`.

use super::DumpSpec;

pub(super) const SPEC: DumpSpec = DumpSpec {
    ext: "rdb",
    env_names: &["REDIS_PASSWORD", "REDISCLI_AUTH"],
    script: SCRIPT,
    replica_env: &[],
};

const SCRIPT: &str = r#"set -eu
if [ -z "${REDISCLI_AUTH:-}" ] && [ -n "${REDIS_PASSWORD:-}" ]; then export REDISCLI_AUTH="$REDIS_PASSWORD"; fi
f="$BACKUP_DIR/$BACKUP_FILE"
echo "kubectl-backup: redis-cli --rdb from $BACKUP_HOST:$BACKUP_PORT to $f"
redis-cli -h "$BACKUP_HOST" -p "$BACKUP_PORT" --no-auth-warning --rdb "$f.partial"
head -c 5 "$f.partial" | grep -q REDIS || { echo "kubectl-backup: not an RDB file" >&2; exit 1; }
mv "$f.partial" "$f"
echo "kubectl-backup: wrote $f ($(wc -c < "$f") bytes)"
"#;
