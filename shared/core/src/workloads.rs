//! Workloads: the database engine of a pod template (one detector for every plugin), and the
//! small facts about a workload's pods that every plugin reads the same way (ownership,
//! StatefulSet ordinals, readiness).

use k8s_openapi::api::core::v1::{Container, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

/// A database engine, as detected from a container or named with `--engine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Engine {
    #[serde(rename = "postgres")]
    Postgres,
    #[serde(rename = "mongodb")]
    MongoDb,
    /// MySQL and MariaDB (and Percona Server).
    #[serde(rename = "mysql")]
    MySql,
    /// Redis, Valkey and KeyDB.
    #[serde(rename = "redis")]
    Redis,
}

impl Engine {
    pub const ALL: [Engine; 4] = [
        Engine::Postgres,
        Engine::MongoDb,
        Engine::MySql,
        Engine::Redis,
    ];

    /// The name used in labels, JSON and `--engine`.
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::MongoDb => "mongodb",
            Engine::MySql => "mysql",
            Engine::Redis => "redis",
        }
    }

    /// The server's usual port, when the container declares none.
    pub fn default_port(self) -> i32 {
        match self {
            Engine::Postgres => 5432,
            Engine::MongoDb => 27017,
            Engine::MySql => 3306,
            Engine::Redis => 6379,
        }
    }

    /// Detect the engine of a container from its image and its command line.
    ///
    /// The image's repository name (last path segment, no tag or digest) decides first
    /// (`postgres`, `postgis`, `timescaledb`, `pgvector`, `spilo`; `mongo`; `mysql`, `mariadb`,
    /// `percona`; `redis`, `valkey`, `keydb`); then a server binary in the command line
    /// (`postgres`, `mongod`, `mysqld`, `mariadbd`, `redis-server`, `valkey-server`, also by
    /// path), not counting a word that is the value of a flag (`psql -U postgres`).
    pub fn detect(c: &Container) -> Option<Engine> {
        let image = c.image.as_deref().unwrap_or("").to_ascii_lowercase();
        let repo = image
            .split('@')
            .next()
            .unwrap_or("")
            .rsplit('/')
            .next()
            .unwrap_or("")
            .split(':')
            .next()
            .unwrap_or("");
        let by_repo = |needles: &[&str]| needles.iter().any(|n| repo.contains(n));
        if by_repo(&["postgres", "postgis", "timescale", "pgvector", "spilo"]) {
            return Some(Engine::Postgres);
        }
        if by_repo(&["mongo"]) {
            return Some(Engine::MongoDb);
        }
        if by_repo(&["mysql", "mariadb", "percona"]) {
            return Some(Engine::MySql);
        }
        if by_repo(&["redis", "valkey", "keydb"]) {
            return Some(Engine::Redis);
        }
        let words: Vec<String> = c
            .command
            .iter()
            .flatten()
            .chain(c.args.iter().flatten())
            .map(|s| s.to_ascii_lowercase())
            .collect();
        let mut previous_is_flag = false;
        for w in &words {
            let binary = w.rsplit('/').next().unwrap_or(w);
            if !previous_is_flag {
                let found = match binary {
                    "postgres" => Some(Engine::Postgres),
                    "mongod" => Some(Engine::MongoDb),
                    "mysqld" | "mariadbd" => Some(Engine::MySql),
                    "redis-server" | "valkey-server" | "keydb-server" => Some(Engine::Redis),
                    _ => None,
                };
                if found.is_some() {
                    return found;
                }
            }
            previous_is_flag = w.starts_with('-') && !w.contains('=');
        }
        None
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Is the object owned (ownerReferences) by the `kind` named `name`?
pub fn owned_by(meta: &ObjectMeta, kind: &str, name: &str) -> bool {
    meta.owner_references
        .iter()
        .flatten()
        .any(|o| o.kind == kind && o.name == name)
}

/// The most StatefulSet ordinals any plugin enumerates one by one. `spec.replicas` is any
/// int32 (2147483647 is legal): above this cap a plugin summarises instead of building one
/// entry per ordinal, so memory and time never grow with the number.
pub const MAX_ORDINALS: u32 = 1000;

/// The ordinals `start..start+replicas` of a StatefulSet as they may be enumerated: at most
/// [`MAX_ORDINALS`] of them (and none past `i32::MAX`), and whether the range was cut.
/// A negative `start` or `replicas` counts as 0.
pub fn ordinal_range(start: i32, replicas: i32) -> (std::ops::Range<i32>, bool) {
    let start = start.max(0);
    let end = i64::from(start) + i64::from(replicas.max(0));
    let shown = end.min(i64::from(start) + i64::from(MAX_ORDINALS));
    let shown = i32::try_from(shown).unwrap_or(i32::MAX);
    (start..shown, i64::from(shown) < end)
}

/// Whether `ord` is among the ordinals `start..start+replicas` (computed without overflow).
pub fn ordinal_in(start: i32, replicas: i32, ord: i32) -> bool {
    let start = start.max(0);
    let end = i64::from(start) + i64::from(replicas.max(0));
    ord >= start && i64::from(ord) < end
}

/// The ordinal of a StatefulSet pod from its name (`db-2` of `db` → 2).
pub fn statefulset_ordinal(pod: &str, statefulset: &str) -> Option<u32> {
    let rest = pod.strip_prefix(statefulset)?.strip_prefix('-')?;
    if rest.is_empty()
        || !rest.bytes().all(|b| b.is_ascii_digit())
        || rest.starts_with('0') && rest.len() > 1
    {
        return None;
    }
    rest.parse().ok()
}

/// Ready condition True.
pub fn pod_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Not being deleted and not finished (Succeeded/Failed).
pub fn pod_active(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none()
        && !matches!(
            p.status.as_ref().and_then(|s| s.phase.as_deref()),
            Some("Succeeded" | "Failed")
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(image: &str, cmd: &[&str], args: &[&str]) -> Container {
        let v = |s: &[&str]| (!s.is_empty()).then(|| s.iter().map(|x| x.to_string()).collect());
        Container {
            name: "c".into(),
            image: Some(image.into()),
            command: v(cmd),
            args: v(args),
            ..Default::default()
        }
    }

    #[test]
    fn one_detector_for_every_plugin() {
        let cases = [
            (c("postgres:16", &[], &[]), Some(Engine::Postgres)),
            (
                c("timescale/timescaledb:2.14-pg16", &[], &[]),
                Some(Engine::Postgres),
            ),
            (
                c("ghcr.io/x/spilo-16:3.2", &[], &[]),
                Some(Engine::Postgres),
            ),
            (c("mongo:7", &[], &[]), Some(Engine::MongoDb)),
            (
                c("busybox", &["mongod", "--replSet", "rs0"], &[]),
                Some(Engine::MongoDb),
            ),
            (c("bitnami/mariadb:11", &[], &[]), Some(Engine::MySql)),
            (c("x/db", &["/usr/sbin/mariadbd"], &[]), Some(Engine::MySql)),
            (c("mariadb:10.11", &[], &[]), Some(Engine::MySql)),
            (c("mysql:8.0", &[], &[]), Some(Engine::MySql)),
            (
                c("docker.io/bitnami/mysql:8.4", &[], &[]),
                Some(Engine::MySql),
            ),
            (
                c("percona/percona-server:8.0", &[], &[]),
                Some(Engine::MySql),
            ),
            (c("x/db", &["mysqld"], &["--log-bin"]), Some(Engine::MySql)),
            (c("valkey/valkey:8", &[], &[]), Some(Engine::Redis)),
            (
                c(
                    "x/db",
                    &["docker-entrypoint.sh"],
                    &["postgres", "-c", "wal_level=replica"],
                ),
                Some(Engine::Postgres),
            ),
            (c("x/client", &["psql", "-U", "postgres"], &[]), None),
            (c("busybox", &["sh"], &[]), None),
        ];
        for (container, want) in cases {
            assert_eq!(Engine::detect(&container), want, "{container:?}");
        }
    }

    #[test]
    fn ordinal_ranges_are_capped() {
        assert_eq!(ordinal_range(0, 3), (0..3, false));
        assert_eq!(ordinal_range(5, 2), (5..7, false));
        assert_eq!(ordinal_range(0, -4), (0..0, false));
        assert_eq!(ordinal_range(0, i32::MAX), (0..1000, true));
        assert_eq!(
            ordinal_range(i32::MAX - 1, i32::MAX),
            (i32::MAX - 1..i32::MAX, true)
        );
        assert!(ordinal_in(0, i32::MAX, i32::MAX - 1));
        assert!(!ordinal_in(i32::MAX, i32::MAX, 3));
        assert!(ordinal_in(i32::MAX - 1, 1, i32::MAX - 1));
    }

    #[test]
    fn ordinals() {
        assert_eq!(statefulset_ordinal("db-2", "db"), Some(2));
        assert_eq!(statefulset_ordinal("db-12", "db"), Some(12));
        assert_eq!(statefulset_ordinal("db-x-2", "db"), None);
        assert_eq!(statefulset_ordinal("db-02", "db"), None);
        assert_eq!(statefulset_ordinal("db", "db"), None);
    }
}
