//! The StatefulSet as sts-bootstrap sees it, read from a snapshot (pure): its members by stable
//! DNS name, the database container and its engine, the port, and the engine-specific settings
//! the planners need (MongoDB's `--replSet` and credential env names; PostgreSQL's data
//! directory, the volume holding it, the primary's ordinal and the replication role).

use k8s_openapi::api::core::v1::{Container, Pod, Service};
use serde::Serialize;

use crate::Engine;
use stateful_core::error::{Error, Result};
use stateful_core::names::{validate_dns1123_label, validate_dns1123_subdomain};
use stateful_core::snapshot::Snapshot;
use stateful_core::workloads;

/// What the user asked for, beyond the StatefulSet name.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub engine: Option<Engine>,
    pub container: Option<String>,
    pub cluster_domain: String,
    /// PostgreSQL, MariaDB/MySQL, Redis: the primary's ordinal (default 0).
    pub primary: Option<u32>,
    /// MongoDB: drop members whose pods are gone.
    pub remove_missing: bool,
    /// PostgreSQL, MariaDB/MySQL: the replication role's (user's) name.
    pub replication_user: String,
    /// Redis: make replicas of servers that hold data of their own.
    pub force: bool,
}

/// A secret value: never shown by `Debug`, never serialised.
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted(pub String);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// One member (pod) of the set, by its stable DNS name.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub ordinal: u32,
    pub pod: String,
    /// `<pod>.<service>.<ns>.svc.<domain>`
    pub fqdn: String,
    /// `fqdn:port`
    pub host: String,
    /// Pod phase, when the pod was seen ("Running", "Pending"…); None when not seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
}

/// Everything the planners need to know about the StatefulSet (pure, from a Snapshot).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Topology {
    pub statefulset: String,
    pub namespace: String,
    pub engine: Engine,
    pub container: String,
    pub service: String,
    pub port: u16,
    pub replicas: u32,
    pub members: Vec<Member>,
    /// MongoDB: `--replSet` of mongod.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repl_set: Option<String>,
    /// MongoDB: env names holding root credentials (values stay in the pod).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mongo_auth: Option<(String, String)>,
    /// PostgreSQL: $PGDATA (or the image default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<String>,
    /// PostgreSQL: the mount path of the volume holding the data directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_mount: Option<String>,
    /// PostgreSQL: ordinal of the primary.
    pub primary: u32,
    pub replication_user: String,
    pub remove_missing: bool,
    /// Redis: `--force`.
    pub force: bool,
    /// Redis, MariaDB/MySQL: the server's (root) password from `--password-secret` (sent to the
    /// pods on stdin); None: the scripts read it from the container's own environment.
    #[serde(skip)]
    pub server_password: Option<Redacted>,
    #[serde(skip)]
    pub service_obj: Option<Box<Service>>,
    /// Names of other pods in the namespace that belong to this StatefulSet (ordinal ≥ replicas).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_pods: Vec<String>,
}

impl Topology {
    /// The ordinal of member `pod` (0 when it is not a member).
    pub fn ordinal_of(&self, pod: &str) -> u32 {
        self.members
            .iter()
            .find(|m| m.pod == pod)
            .map(|m| m.ordinal)
            .unwrap_or(0)
    }

    /// The server's password from `--password-secret` as a script's stdin, one line (None: the
    /// scripts read it from the container's environment).
    pub fn password_stdin(&self) -> Option<Vec<u8>> {
        self.server_password
            .as_ref()
            .map(|p| format!("{}\n", p.0).into_bytes())
    }

    /// Read the StatefulSet `name` in `namespace` from the snapshot.
    pub fn from_snapshot(
        snap: &Snapshot,
        namespace: &str,
        name: &str,
        opts: &Options,
    ) -> Result<Topology> {
        validate_dns1123_subdomain(name).map_err(|e| Error::Usage(format!("statefulset: {e}")))?;
        validate_dns1123_label(namespace).map_err(|e| Error::Usage(format!("namespace: {e}")))?;
        let sts = snap
            .statefulsets
            .iter()
            .find(|s| {
                s.metadata.name.as_deref() == Some(name)
                    && s.metadata.namespace.as_deref().unwrap_or(namespace) == namespace
            })
            .ok_or_else(|| Error::not_found("statefulset", name, Some(namespace)))?;
        let spec = sts
            .spec
            .as_ref()
            .ok_or_else(|| Error::Failed(format!("statefulset {name} has no spec")))?;
        let service = spec.service_name.clone().unwrap_or_default();
        if service.is_empty() {
            return Err(Error::Failed(format!(
                "statefulset {name} has no spec.serviceName: members need a governing headless Service for stable DNS names"
            )));
        }
        validate_dns1123_label(&service)
            .map_err(|e| Error::Failed(format!("statefulset {name}: serviceName {e}")))?;
        let replicas = u32::try_from(spec.replicas.unwrap_or(1)).unwrap_or(0);
        if replicas > workloads::MAX_ORDINALS {
            return Err(Error::Failed(format!(
                "statefulset {name} has {replicas} replicas: sts-bootstrap handles at most {} members",
                workloads::MAX_ORDINALS
            )));
        }
        let containers = spec
            .template
            .spec
            .as_ref()
            .map(|s| s.containers.as_slice())
            .unwrap_or_default();
        let (container, engine) = pick_container(name, containers, opts)?;
        // The name comes from the StatefulSet (a dump, or the cluster): bad data, not usage.
        validate_dns1123_label(&container.name).map_err(|e| {
            Error::Other(format!(
                "statefulset {namespace}/{name}: spec.template.spec.containers[].name: {e}"
            ))
        })?;
        let port = container_port(container).unwrap_or(default_port(engine));
        let domain = if opts.cluster_domain.is_empty() {
            "cluster.local".to_string()
        } else {
            opts.cluster_domain.clone()
        };
        validate_dns1123_subdomain(&domain)
            .map_err(|e| Error::Usage(format!("--cluster-domain: {e}")))?;
        let pods: Vec<&Pod> = snap
            .pods
            .iter()
            .filter(|p| p.metadata.namespace.as_deref().unwrap_or(namespace) == namespace)
            .collect();
        let members = members_of(name, &service, namespace, &domain, port, replicas, &pods);
        let extra_pods = extra_pods_of(name, replicas, &pods);
        let service_obj = snap
            .services
            .iter()
            .find(|s| {
                s.metadata.name.as_deref() == Some(service.as_str())
                    && s.metadata.namespace.as_deref().unwrap_or(namespace) == namespace
            })
            .cloned()
            .map(Box::new);
        let mut topo = Topology {
            statefulset: name.to_string(),
            namespace: namespace.to_string(),
            engine,
            container: container.name.clone(),
            service,
            port,
            replicas,
            members,
            repl_set: None,
            mongo_auth: None,
            data_dir: None,
            data_mount: None,
            primary: opts.primary.unwrap_or(0),
            replication_user: if opts.replication_user.is_empty() {
                "replicator".into()
            } else {
                opts.replication_user.clone()
            },
            remove_missing: opts.remove_missing,
            force: opts.force,
            server_password: None,
            service_obj,
            extra_pods,
        };
        match engine {
            Engine::MongoDb => topo.mongo_settings(container),
            Engine::Postgres => topo.postgres_settings(container)?,
            Engine::Redis => topo.check_primary()?,
            Engine::MySql => {
                topo.check_primary()?;
                validate_pg_ident(&topo.replication_user)?;
            }
        }
        Ok(topo)
    }

    /// MongoDB: `--replSet` of mongod, and the root-credential env names when the container
    /// has both.
    fn mongo_settings(&mut self, container: &Container) {
        let env_names: Vec<&str> = container
            .env
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        self.repl_set = repl_set_of(container);
        if env_names.contains(&"MONGO_INITDB_ROOT_USERNAME")
            && env_names.contains(&"MONGO_INITDB_ROOT_PASSWORD")
        {
            self.mongo_auth = Some((
                "MONGO_INITDB_ROOT_USERNAME".into(),
                "MONGO_INITDB_ROOT_PASSWORD".into(),
            ));
        }
    }

    /// PostgreSQL: the primary is an ordinal, the role name is safe in SQL; `$PGDATA` (or the
    /// image default) and the deepest volume mount at or above it.
    fn postgres_settings(&mut self, container: &Container) -> Result<()> {
        self.check_primary()?;
        validate_pg_ident(&self.replication_user)?;
        let pgdata = container
            .env
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|e| e.name == "PGDATA")
            .and_then(|e| e.value.clone())
            .unwrap_or_else(|| "/var/lib/postgresql/data".into());
        let pgdata = pgdata.trim_end_matches('/').to_string();
        self.data_mount = container
            .volume_mounts
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|m| m.mount_path.trim_end_matches('/').to_string())
            .filter(|m| pgdata == *m || pgdata.starts_with(&format!("{m}/")))
            .max_by_key(|m| m.len());
        self.data_dir = Some(pgdata);
        Ok(())
    }

    /// `--primary` is an ordinal of the set.
    fn check_primary(&self) -> Result<()> {
        let (name, replicas) = (&self.statefulset, self.replicas);
        if self.primary >= replicas.max(1) {
            return Err(Error::Usage(format!(
                "--primary {} is not an ordinal of {name} (replicas: {replicas})",
                self.primary
            )));
        }
        Ok(())
    }

    pub fn member(&self, ordinal: u32) -> Option<&Member> {
        self.members.iter().find(|m| m.ordinal == ordinal)
    }
}

/// The members `<name>-0` … `<name>-(replicas-1)` by stable DNS name, with the phase of each pod
/// seen.
fn members_of(
    name: &str,
    service: &str,
    namespace: &str,
    domain: &str,
    port: u16,
    replicas: u32,
    pods: &[&Pod],
) -> Vec<Member> {
    (0..replicas)
        .map(|i| {
            let pod = format!("{name}-{i}");
            let fqdn = format!("{pod}.{service}.{namespace}.svc.{domain}");
            let phase = pods
                .iter()
                .find(|p| p.metadata.name.as_deref() == Some(pod.as_str()))
                .map(|p| {
                    p.status
                        .as_ref()
                        .and_then(|s| s.phase.clone())
                        .unwrap_or_else(|| "Unknown".into())
                });
            Member {
                ordinal: i,
                host: format!("{fqdn}:{port}"),
                fqdn,
                pod,
                phase,
            }
        })
        .collect()
}

/// Pods named like members of `name` with an ordinal ≥ replicas.
fn extra_pods_of(name: &str, replicas: u32, pods: &[&Pod]) -> Vec<String> {
    let prefix = format!("{name}-");
    pods.iter()
        .filter_map(|p| p.metadata.name.clone())
        .filter(|n| {
            n.strip_prefix(&prefix)
                .and_then(|o| o.parse::<u32>().ok())
                .is_some_and(|o| o >= replicas)
        })
        .collect()
}

/// The engine's port when the container declares none.
fn default_port(engine: Engine) -> u16 {
    match engine {
        Engine::MongoDb => 27017,
        Engine::Postgres => 5432,
        Engine::Redis => 6379,
        Engine::MySql => 3306,
    }
}

/// Role (PostgreSQL) and user (MariaDB/MySQL) names we put into SQL: a conservative identifier.
pub fn validate_pg_ident(s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !s.as_bytes()[0].is_ascii_digit();
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{s:?} is not a valid role name here: lowercase letters, digits and '_', at most 63, not starting with a digit"
        )))
    }
}

/// The engine of a container, by the core's detector, when sts-bootstrap handles it.
fn detect(c: &Container) -> Option<Engine> {
    workloads::Engine::detect(c).and_then(Engine::supported)
}

fn pick_container<'a>(
    sts: &str,
    containers: &'a [Container],
    opts: &Options,
) -> Result<(&'a Container, Engine)> {
    if let Some(name) = &opts.container {
        let c = containers.iter().find(|c| &c.name == name).ok_or_else(|| {
            Error::Usage(format!(
                "statefulset {sts} has no container {name:?} (containers: {})",
                containers
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        let engine = opts.engine.or_else(|| detect(c)).ok_or_else(|| {
            Error::Usage(format!(
                "cannot tell the engine of container {name:?} from its image or command; pass --engine mongodb|postgres|redis|mysql"
            ))
        })?;
        return Ok((c, engine));
    }
    let found: Vec<(&Container, Engine)> = containers
        .iter()
        .filter_map(|c| detect(c).map(|e| (c, e)))
        .filter(|(_, e)| opts.engine.is_none_or(|want| want == *e))
        .collect();
    // mongod with --replSet beats a helper container using the mongo image (seeds' init-mongo).
    let best = found
        .iter()
        .find(|(c, e)| *e == Engine::MongoDb && repl_set_of(c).is_some())
        .or_else(|| found.first());
    match (best, opts.engine) {
        (Some((c, e)), _) => Ok((c, *e)),
        (None, Some(e)) if containers.len() == 1 => Ok((&containers[0], e)),
        _ => Err(Error::Usage(format!(
            "cannot find a MongoDB, PostgreSQL, MariaDB/MySQL or Redis container in statefulset {sts}; pass -c CONTAINER and --engine"
        ))),
    }
}

/// `mongod --replSet NAME` / `--replSet=NAME` in command + args.
pub fn repl_set_of(c: &Container) -> Option<String> {
    let words: Vec<&String> = c.command.iter().chain(c.args.iter()).flatten().collect();
    let mut it = words.iter();
    while let Some(w) = it.next() {
        if let Some(v) = w.strip_prefix("--replSet=") {
            return Some(v.to_string());
        }
        if *w == "--replSet" {
            return it.next().map(|s| s.to_string());
        }
    }
    None
}

fn container_port(c: &Container) -> Option<u16> {
    let ports = c.ports.as_deref().unwrap_or_default();
    ports
        .iter()
        .find(|p| p.protocol.as_deref().unwrap_or("TCP") == "TCP")
        .and_then(|p| u16::try_from(p.container_port).ok())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::testutil::snapshot;

    fn opts() -> Options {
        Options {
            cluster_domain: "cluster.local".into(),
            ..Default::default()
        }
    }

    #[test]
    fn seeds_mongo_topology() {
        let snap = snapshot("mongo.yaml");
        let t = Topology::from_snapshot(&snap, "default", "mongo", &opts()).unwrap();
        assert_eq!(t.engine, Engine::MongoDb);
        assert_eq!(t.container, "mongodb");
        assert_eq!(t.repl_set.as_deref(), Some("rs0"));
        assert_eq!(t.port, 27017);
        assert_eq!(t.members.len(), 3);
        assert_eq!(
            t.members[2].host,
            "mongo-2.mongo.default.svc.cluster.local:27017"
        );
        assert_eq!(t.mongo_auth, None);
    }

    #[test]
    fn init_container_with_mongo_image_is_not_picked() {
        // The seeds' automated variant: an `init-mongo` helper container uses the mongo image too.
        let snap = snapshot("mongo-with-helper.yaml");
        let t = Topology::from_snapshot(&snap, "db", "mongo", &opts()).unwrap();
        assert_eq!(t.container, "mongodb");
        assert!(t.mongo_auth.is_some());
        assert_eq!(t.members[0].fqdn, "mongo-0.mongo.db.svc.cluster.local");
    }

    #[test]
    fn seeds_todo_db_topology() {
        let snap = snapshot("todo-db.yaml");
        let o = Options {
            cluster_domain: "k8s.example".into(),
            ..opts()
        };
        let t = Topology::from_snapshot(&snap, "default", "todo-db", &o).unwrap();
        assert_eq!(t.engine, Engine::Postgres);
        assert_eq!(t.port, 5432);
        assert_eq!(
            t.data_dir.as_deref(),
            Some("/var/lib/postgresql/data/pgdata")
        );
        assert_eq!(t.data_mount.as_deref(), Some("/var/lib/postgresql/data"));
        assert_eq!(
            t.members[1].fqdn,
            "todo-db-1.todo-db.default.svc.k8s.example"
        );
        assert_eq!(t.primary, 0);
    }

    #[test]
    fn redis_topology_detected_from_the_image() {
        let snap = snapshot("redis.yaml");
        let t = Topology::from_snapshot(&snap, "default", "cache", &opts()).unwrap();
        assert_eq!(t.engine, Engine::Redis);
        assert_eq!((t.container.as_str(), t.port), ("redis", 6379));
        assert_eq!(t.members[2].fqdn, "cache-2.cache.default.svc.cluster.local");
        let o = Options {
            primary: Some(3),
            ..opts()
        };
        let e = Topology::from_snapshot(&snap, "default", "cache", &o).unwrap_err();
        assert_eq!(e.exit_code().code(), 2, "{e}");
    }

    #[test]
    fn replicas_past_the_ordinal_cap_are_refused_not_enumerated() {
        let mut snap = snapshot("mongo.yaml");
        for sts in &mut snap.statefulsets {
            if let Some(spec) = sts.spec.as_mut() {
                spec.replicas = Some(i32::MAX);
            }
        }
        let e = Topology::from_snapshot(&snap, "default", "mongo", &opts()).unwrap_err();
        assert_eq!(e.exit_code().code(), 5, "{e}");
        assert!(e.to_string().contains("2147483647 replicas"), "{e}");
        // A negative count (not valid in a cluster, possible in a dump) is no members.
        for sts in &mut snap.statefulsets {
            if let Some(spec) = sts.spec.as_mut() {
                spec.replicas = Some(-5);
            }
        }
        let t = Topology::from_snapshot(&snap, "default", "mongo", &opts()).unwrap();
        assert!(t.members.is_empty());
    }

    #[test]
    fn bad_names_are_usage_errors() {
        let snap = snapshot("mongo.yaml");
        for bad in ["Mongo", "mongo;rm", "a b", ""] {
            let e = Topology::from_snapshot(&snap, "default", bad, &opts()).unwrap_err();
            assert_eq!(e.exit_code().code(), 2, "{bad}: {e}");
        }
        let e = Topology::from_snapshot(&snap, "default", "nope", &opts()).unwrap_err();
        assert_eq!(e.exit_code().code(), 3);
        let o = Options {
            container: Some("x';id".into()),
            ..opts()
        };
        let e = Topology::from_snapshot(&snap, "default", "mongo", &o).unwrap_err();
        assert_eq!(e.exit_code().code(), 2);
        assert!(validate_pg_ident("repl_user").is_ok());
        assert!(validate_pg_ident("x\"; DROP").is_err());
    }

    /// A bad container name in the StatefulSet is bad data (exit 1) naming object and field,
    /// not a usage error: the user typed nothing wrong.
    #[test]
    fn a_bad_container_name_in_the_dump_is_a_data_error() {
        let mut snap = snapshot("mongo.yaml");
        let sts = &mut snap.statefulsets[0];
        let name = sts.metadata.name.clone().unwrap();
        let spec = sts.spec.as_mut().unwrap().template.spec.as_mut().unwrap();
        spec.containers[0].name = "Bad Name".into();
        let e = Topology::from_snapshot(&snap, "default", &name, &opts()).unwrap_err();
        assert_eq!(e.exit_code().code(), 1, "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("statefulset default/{name}"))
                && msg.contains("containers[].name"),
            "{msg}"
        );
    }
}
