//! MongoDB: `mongodump --archive --gzip`; the root password goes through a `--config` file in
//! the Job's private /tmp (never argv), and a replica source reads with
//! `readPreference=secondaryPreferred`.

use super::DumpSpec;

pub(super) const SPEC: DumpSpec = DumpSpec {
    ext: "archive.gz",
    env_names: &["MONGO_INITDB_ROOT_USERNAME", "MONGO_INITDB_ROOT_PASSWORD"],
    script: SCRIPT,
    replica_env: &[("BACKUP_READ_PREFERENCE", "secondaryPreferred")],
};

const SCRIPT: &str = r#"set -eu
f="$BACKUP_DIR/$BACKUP_FILE"
set -- --host="$BACKUP_HOST" --port="$BACKUP_PORT" --archive="$f.partial" --gzip
if [ -n "${MONGO_INITDB_ROOT_USERNAME:-}" ]; then
  umask 077
  pw=$(printf '%s' "${MONGO_INITDB_ROOT_PASSWORD:-}" | sed "s/'/''/g")
  printf "password: '%s'\n" "$pw" > /tmp/mongodump.yaml
  set -- "$@" --username="$MONGO_INITDB_ROOT_USERNAME" --authenticationDatabase=admin --config=/tmp/mongodump.yaml
fi
if [ -n "${BACKUP_READ_PREFERENCE:-}" ]; then set -- "$@" --readPreference="$BACKUP_READ_PREFERENCE"; fi
echo "kubectl-backup: mongodump --archive --gzip from $BACKUP_HOST:$BACKUP_PORT to $f"
mongodump "$@"
mv "$f.partial" "$f"
echo "kubectl-backup: wrote $f ($(wc -c < "$f") bytes)"
"#;
