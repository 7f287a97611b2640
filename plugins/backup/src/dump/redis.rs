//! Redis (and Valkey, KeyDB): `redis-cli --rdb`, the password through `REDISCLI_AUTH` (never
//! argv); the file must start with the RDB magic `REDIS`. Restore: a client cannot load a
//! dump, so the file is checked and copied atomically to `$RESTORE_DIR/dump.rdb` (a new
//! claim's mount, default `/data`) for a server to start on. Verify: `redis-check-rdb`, or
//! the magic where the image has no checker.

use super::DumpSpec;

pub(super) const SPEC: DumpSpec = DumpSpec {
    ext: "rdb",
    env_names: &["REDIS_PASSWORD", "REDISCLI_AUTH"],
    script: SCRIPT,
    replica_env: &[],
    restore_script: RESTORE,
    verify_script: VERIFY,
    verify_reads_server: false,
};

const SCRIPT: &str = concat!(
    r#"set -eu
if [ -z "${REDISCLI_AUTH:-}" ] && [ -n "${REDIS_PASSWORD:-}" ]; then export REDISCLI_AUTH="$REDIS_PASSWORD"; fi
f="$BACKUP_DIR/$BACKUP_FILE"
echo "kubectl-backup: redis-cli --rdb from $BACKUP_HOST:$BACKUP_PORT to $f"
redis-cli -h "$BACKUP_HOST" -p "$BACKUP_PORT" --no-auth-warning --rdb "$f.partial"
head -c 5 "$f.partial" | grep -q REDIS || { echo "kubectl-backup: not an RDB file" >&2; exit 1; }
"#,
    dump_tail!()
);

/// The RDB file read through (`redis-check-rdb`: structure and the trailing CRC64), or its
/// magic where the image has no checker; sets `$reader`, or `fail`s.
macro_rules! rdb_check {
    () => {
        r#"if command -v redis-check-rdb >/dev/null 2>&1; then
  out=$(redis-check-rdb "$f" 2>&1) || { why=$(printf '%s\n' "$out" | sed -n '/RDB ERROR DETECTED/{n;p;q;}'); fail "redis-check-rdb: ${why:-$(last "$out")}"; }
  reader="redis-check-rdb: $(printf '%s\n' "$out" | grep -o '[0-9]* keys read' | tail -n 1 || true)"
else
  [ "$(head -c 5 "$f")" = REDIS ] || fail "RDB magic: $f does not start with REDIS"
  reader="RDB magic present (no redis-check-rdb in the image)"
fi
"#
    };
}

const RESTORE: &str = concat!(
    restore_head!(),
    rdb_check!(),
    r#"dest="${RESTORE_DIR:-/data}"
[ -d "$dest" ] || fail "RESTORE_DIR $dest is not a directory"
echo "kubectl-backup: $reader; copying $f to $dest/dump.rdb"
cp "$f" "$dest/dump.rdb.partial"
mv "$dest/dump.rdb.partial" "$dest/dump.rdb"
echo "kubectl-backup: restored $f to $dest/dump.rdb ($(wc -c < "$dest/dump.rdb" | tr -d ' ') bytes); a server started with --dir $dest --dbfilename dump.rdb loads it"
"#
);

const VERIFY: &str = concat!(verify_head!(), rdb_check!(), verify_tail!());
