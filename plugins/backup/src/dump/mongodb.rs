//! MongoDB: `mongodump --archive --gzip`; the root password goes through a `--config` file in
//! the Job's private /tmp (never argv), and a replica source reads with
//! `readPreference=secondaryPreferred`. Restore: `mongorestore --drop --gzip --archive`
//! (`RESTORE_DATABASE` restores only that database). Verify: the archive's gzip stream, then
//! `mongorestore --dryRun --objcheck` (it connects to a server, so the verify Job gets the
//! dump's host and credential references).

use super::DumpSpec;

pub(super) const SPEC: DumpSpec = DumpSpec {
    ext: "archive.gz",
    env_names: &["MONGO_INITDB_ROOT_USERNAME", "MONGO_INITDB_ROOT_PASSWORD"],
    script: SCRIPT,
    replica_env: &[("BACKUP_READ_PREFERENCE", "secondaryPreferred")],
    restore_script: RESTORE,
    verify_script: VERIFY,
    verify_reads_server: true,
};

/// The root user, its password through a private config file (never argv): appended to the
/// tool's arguments (`"$@"`).
macro_rules! mongo_auth {
    () => {
        r#"if [ -n "${MONGO_INITDB_ROOT_USERNAME:-}" ]; then
  umask 077
  pw=$(printf '%s' "${MONGO_INITDB_ROOT_PASSWORD:-}" | sed "s/'/''/g")
  printf "password: '%s'\n" "$pw" > /tmp/mongodump.yaml
  set -- "$@" --username="$MONGO_INITDB_ROOT_USERNAME" --authenticationDatabase=admin --config=/tmp/mongodump.yaml
fi
"#
    };
}

const SCRIPT: &str = concat!(
    r#"set -eu
f="$BACKUP_DIR/$BACKUP_FILE"
set -- --host="$BACKUP_HOST" --port="$BACKUP_PORT" --archive="$f.partial" --gzip
"#,
    mongo_auth!(),
    r#"if [ -n "${BACKUP_READ_PREFERENCE:-}" ]; then set -- "$@" --readPreference="$BACKUP_READ_PREFERENCE"; fi
echo "kubectl-backup: mongodump --archive --gzip from $BACKUP_HOST:$BACKUP_PORT to $f"
mongodump "$@"
"#,
    dump_tail!()
);

const RESTORE: &str = concat!(
    restore_head!(),
    r#"set -- --host="$BACKUP_HOST" --port="$BACKUP_PORT" --drop --gzip --archive="$f"
what="every database in the archive"
if [ -n "${RESTORE_DATABASE:-}" ]; then set -- "$@" --nsInclude="$RESTORE_DATABASE.*"; what="database $RESTORE_DATABASE"; fi
"#,
    mongo_auth!(),
    r#"echo "kubectl-backup: mongorestore --drop --gzip --archive=$f ($what) to $BACKUP_HOST:$BACKUP_PORT"
mongorestore "$@"
echo "kubectl-backup: restored $f ($what) to $BACKUP_HOST:$BACKUP_PORT"
"#
);

const VERIFY: &str = concat!(
    verify_head!(),
    r#"reader="gzip stream not checked (no gzip)"
if command -v gzip >/dev/null 2>&1; then
  out=$(gzip -t < "$f" 2>&1) || fail "gzip: $(last "$out")"
  reader="gzip stream intact"
fi
if [ -n "${BACKUP_HOST:-}" ]; then
  set -- --host="$BACKUP_HOST" --port="${BACKUP_PORT:-27017}" --dryRun --objcheck --gzip --archive="$f"
"#,
    mongo_auth!(),
    r#"  out=$(mongorestore "$@" 2>&1) || fail "mongorestore --dryRun --objcheck: $(last "$out")"
  reader="$reader, mongorestore --dryRun --objcheck read it"
else
  echo "kubectl-backup: mongorestore --dryRun --objcheck not run: it needs a server and BACKUP_HOST is unset"
fi
"#,
    verify_tail!()
);
