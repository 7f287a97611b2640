//! sts-bootstrap: turn a StatefulSet's pods into a MongoDB replica set or PostgreSQL streaming
//! replicas, from outside, through exec.
//!
//! - [`Topology::from_snapshot`] (pure) reads the StatefulSet, its Service and pods: engine,
//!   container, port, member FQDNs, credential env names, data directory and mount point.
//! - [`mongo`] and [`postgres`]: the scripts run in the pods, the parsers of what they print,
//!   and the pure planners (observed state in → [`Plan`] out).
//! - [`preflight`]: the named checks (pure parts) shown before any step.
//! - [`apply`]: the executor. It re-observes before every step, re-plans, and runs the first
//!   pending step, so every step skips itself once done and an interrupted apply resumes.

pub mod apply;
pub mod engine;
pub mod preflight;

pub mod render;

pub use engine::{mongo, postgres};

use k8s_openapi::api::core::v1::{Container, Pod, Service};
use serde::Serialize;

use stateful_core::error::{Error, Result};
use stateful_core::names::{validate_dns1123_label, validate_dns1123_subdomain};
use stateful_core::snapshot::Snapshot;
use stateful_core::workloads;

pub const API_VERSION: &str = "kubectl-stateful.io/v1alpha1";

/// The engines sts-bootstrap sets up. Detection is the core's, one detector for every plugin
/// ([`stateful_core::workloads::Engine::detect`]); this is the subset with a planner here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    #[serde(rename = "mongodb")]
    MongoDb,
    Postgres,
}

impl Engine {
    /// The engine sts-bootstrap handles for a detected one, if any.
    pub fn supported(e: workloads::Engine) -> Option<Engine> {
        match e {
            workloads::Engine::MongoDb => Some(Engine::MongoDb),
            workloads::Engine::Postgres => Some(Engine::Postgres),
            workloads::Engine::MySql | workloads::Engine::Redis => None,
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Engine::MongoDb => "mongodb",
            Engine::Postgres => "postgres",
        })
    }
}

/// What the user asked for, beyond the StatefulSet name.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub engine: Option<Engine>,
    pub container: Option<String>,
    pub cluster_domain: String,
    /// PostgreSQL: the primary's ordinal (default 0).
    pub primary: Option<u32>,
    /// MongoDB: drop members whose pods are gone.
    pub remove_missing: bool,
    /// PostgreSQL: the replication role's name.
    pub replication_user: String,
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
    #[serde(skip)]
    pub service_obj: Option<Box<Service>>,
    /// Names of other pods in the namespace that belong to this StatefulSet (ordinal ≥ replicas).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_pods: Vec<String>,
}

impl Topology {
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
        let replicas = spec.replicas.unwrap_or(1).max(0) as u32;
        let containers = spec
            .template
            .spec
            .as_ref()
            .map(|s| s.containers.as_slice())
            .unwrap_or_default();
        let (container, engine) = pick_container(name, containers, opts)?;
        validate_dns1123_label(&container.name)
            .map_err(|e| Error::Usage(format!("container: {e}")))?;
        let default_port = match engine {
            Engine::MongoDb => 27017,
            Engine::Postgres => 5432,
        };
        let port = container_port(container).unwrap_or(default_port);
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
        let members: Vec<Member> = (0..replicas)
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
            .collect();
        let prefix = format!("{name}-");
        let extra_pods = pods
            .iter()
            .filter_map(|p| p.metadata.name.clone())
            .filter(|n| {
                n.strip_prefix(&prefix)
                    .and_then(|o| o.parse::<u32>().ok())
                    .is_some_and(|o| o >= replicas)
            })
            .collect();
        let service_obj = snap
            .services
            .iter()
            .find(|s| {
                s.metadata.name.as_deref() == Some(service.as_str())
                    && s.metadata.namespace.as_deref().unwrap_or(namespace) == namespace
            })
            .cloned()
            .map(Box::new);

        let env_names: Vec<&str> = container
            .env
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|e| e.name.as_str())
            .collect();
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
            service_obj,
            extra_pods,
        };
        match engine {
            Engine::MongoDb => {
                topo.repl_set = repl_set_of(container);
                if env_names.contains(&"MONGO_INITDB_ROOT_USERNAME")
                    && env_names.contains(&"MONGO_INITDB_ROOT_PASSWORD")
                {
                    topo.mongo_auth = Some((
                        "MONGO_INITDB_ROOT_USERNAME".into(),
                        "MONGO_INITDB_ROOT_PASSWORD".into(),
                    ));
                }
            }
            Engine::Postgres => {
                if topo.primary >= replicas.max(1) {
                    return Err(Error::Usage(format!(
                        "--primary {} is not an ordinal of {name} (replicas: {replicas})",
                        topo.primary
                    )));
                }
                validate_pg_ident(&topo.replication_user)?;
                let pgdata = container
                    .env
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .find(|e| e.name == "PGDATA")
                    .and_then(|e| e.value.clone())
                    .unwrap_or_else(|| "/var/lib/postgresql/data".into());
                let pgdata = pgdata.trim_end_matches('/').to_string();
                topo.data_mount = container
                    .volume_mounts
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .map(|m| m.mount_path.trim_end_matches('/').to_string())
                    .filter(|m| pgdata == *m || pgdata.starts_with(&format!("{m}/")))
                    .max_by_key(|m| m.len());
                topo.data_dir = Some(pgdata);
            }
        }
        Ok(topo)
    }

    pub fn member(&self, ordinal: u32) -> Option<&Member> {
        self.members.iter().find(|m| m.ordinal == ordinal)
    }
}

/// PostgreSQL role names we put into SQL: a conservative identifier.
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
                "cannot tell the engine of container {name:?} from its image or command; pass --engine mongodb|postgres"
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
            "cannot find a MongoDB or PostgreSQL container in statefulset {sts}; pass -c CONTAINER and --engine"
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

// ---------------------------------------------------------------------------------------------
// The plan
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CheckStatus {
    Pass,
    Warn,
    Fail,
    /// Not checked (e.g. planning from a file).
    Skipped,
}

/// A named preflight check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub name: String,
    pub status: CheckStatus,
    pub message: String,
}

impl Check {
    pub fn new(name: &str, status: CheckStatus, message: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            status,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StepStatus {
    /// Would run (plan) / will run next (apply).
    Pending,
    /// Live state shows it is already done.
    Done,
    /// Cannot run; `reason` says why and what to do.
    Blocked,
}

/// One step of a plan. `action` is what the executor does; `description` is for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// Stable id, e.g. `initiate`, `add/mongo-2`, `reseed/todo-db-1`.
    pub id: String,
    pub pod: String,
    pub description: String,
    pub status: StepStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub action: Action,
}

/// What a step does. Data only (no secrets): the engine modules turn it into commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Action {
    // MongoDB
    #[serde(rename_all = "camelCase")]
    Initiate {
        set: String,
        host: String,
    },
    WaitPrimary,
    #[serde(rename_all = "camelCase")]
    AddMember {
        host: String,
    },
    #[serde(rename_all = "camelCase")]
    PromoteMember {
        host: String,
    },
    #[serde(rename_all = "camelCase")]
    RemoveMember {
        host: String,
    },
    // PostgreSQL
    #[serde(rename_all = "camelCase")]
    CheckWalSettings,
    #[serde(rename_all = "camelCase")]
    CreateReplicationRole {
        role: String,
    },
    #[serde(rename_all = "camelCase")]
    AddHbaRule {
        role: String,
    },
    #[serde(rename_all = "camelCase")]
    CreateSlot {
        slot: String,
    },
    #[serde(rename_all = "camelCase")]
    Reseed {
        replica: String,
        slot: String,
    },
    /// Nothing to run: a note or a final check.
    Note,
}

/// A plan: what the live state (or the manifests) say, and the steps to converge.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub statefulset: String,
    pub namespace: String,
    pub engine: Engine,
    pub container: String,
    /// "cluster" (live state read through exec) or "file" (manifests only, fresh pods assumed).
    pub source: String,
    pub members: Vec<Member>,
    pub checks: Vec<Check>,
    /// What was observed, one line per pod.
    pub observed: Vec<String>,
    pub steps: Vec<Step>,
    /// Why nothing may run, when a check or the observed state forbids it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    pub notes: Vec<String>,
}

impl Plan {
    pub fn new(topo: &Topology, source: &str) -> Plan {
        Plan {
            api_version: API_VERSION,
            kind: "BootstrapPlan",
            statefulset: topo.statefulset.clone(),
            namespace: topo.namespace.clone(),
            engine: topo.engine,
            container: topo.container.clone(),
            source: source.into(),
            members: topo.members.clone(),
            checks: Vec::new(),
            observed: Vec::new(),
            steps: Vec::new(),
            refused: None,
            notes: Vec::new(),
        }
    }

    pub fn refuse(&mut self, why: impl Into<String>) {
        if self.refused.is_none() {
            self.refused = Some(why.into());
        }
    }

    pub fn step(
        &mut self,
        id: String,
        pod: &str,
        action: Action,
        description: String,
    ) -> &mut Step {
        self.steps.push(Step {
            id,
            pod: pod.into(),
            description,
            status: StepStatus::Pending,
            reason: None,
            action,
        });
        self.steps.last_mut().expect("just pushed")
    }

    pub fn pending(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.status == StepStatus::Pending)
    }

    pub fn blocked(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.status == StepStatus::Blocked)
    }

    pub fn all_done(&self) -> bool {
        self.steps.iter().all(|s| s.status == StepStatus::Done)
    }
}

impl Step {
    pub fn done(&mut self, why: impl Into<String>) -> &mut Self {
        self.status = StepStatus::Done;
        self.reason = Some(why.into());
        self
    }
    pub fn block(&mut self, why: impl Into<String>) -> &mut Self {
        self.status = StepStatus::Blocked;
        self.reason = Some(why.into());
        self
    }
    pub fn because(&mut self, why: impl Into<String>) -> &mut Self {
        self.reason = Some(why.into());
        self
    }
}

/// Render a plan for people.
pub fn render_plan(plan: &Plan) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "StatefulSet {}/{} · engine {} · container {} · from {}",
        plan.namespace, plan.statefulset, plan.engine, plan.container, plan.source
    );
    let _ = writeln!(s, "\nMembers:");
    for m in &plan.members {
        let _ = writeln!(
            s,
            "  {:<3} {:<24} {}{}",
            m.ordinal,
            m.pod,
            m.host,
            m.phase
                .as_deref()
                .map(|p| format!("  ({p})"))
                .unwrap_or_default()
        );
    }
    if !plan.checks.is_empty() {
        let _ = writeln!(s, "\nPreflight:");
        for c in &plan.checks {
            let mark = match c.status {
                CheckStatus::Pass => "ok  ",
                CheckStatus::Warn => "warn",
                CheckStatus::Fail => "FAIL",
                CheckStatus::Skipped => "skip",
            };
            let _ = writeln!(s, "  [{mark}] {:<18} {}", c.name, c.message);
        }
    }
    if !plan.observed.is_empty() {
        let _ = writeln!(s, "\nObserved:");
        for o in &plan.observed {
            let _ = writeln!(s, "  {o}");
        }
    }
    let _ = writeln!(s, "\nSteps:");
    if plan.steps.is_empty() {
        let _ = writeln!(s, "  (none)");
    }
    for (i, st) in plan.steps.iter().enumerate() {
        let mark = match st.status {
            StepStatus::Pending => "todo",
            StepStatus::Done => "done",
            StepStatus::Blocked => "BLOCKED",
        };
        let _ = writeln!(
            s,
            "  {:>2}. [{mark}] {} ({})",
            i + 1,
            st.description,
            st.pod
        );
        if let Some(r) = &st.reason {
            let _ = writeln!(s, "          {r}");
        }
    }
    for n in &plan.notes {
        let _ = writeln!(s, "\nnote: {n}");
    }
    if let Some(r) = &plan.refused {
        let _ = writeln!(s, "\nREFUSED: {r}");
    } else if plan.all_done() {
        let _ = writeln!(s, "\nNothing to do: every step is already done.");
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod testutil {
    use stateful_core::snapshot::{Snapshot, parse_dump_into};

    pub fn fixture(name: &str) -> String {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/bootstrap")
            .join(name);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    pub fn snapshot(name: &str) -> Snapshot {
        let mut snap = Snapshot::default();
        parse_dump_into(&mut snap, std::path::Path::new(name), &fixture(name)).unwrap();
        snap
    }

    /// The topology of StatefulSet `sts` in fixture `file` (namespace `default`), optionally
    /// with its replicas overridden.
    pub fn topology(file: &str, sts: &str, replicas: Option<i32>) -> super::Topology {
        let mut snap = snapshot(file);
        if let Some(r) = replicas {
            snap.statefulsets[0].spec.as_mut().unwrap().replicas = Some(r);
        }
        let o = super::Options {
            cluster_domain: "cluster.local".into(),
            ..Default::default()
        };
        super::Topology::from_snapshot(&snap, "default", sts, &o).unwrap()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::testutil::snapshot;
    use super::*;

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

    #[test]
    fn rendered_plans_never_carry_planted_secrets() {
        use base64::Engine as _;
        let planted = [
            "PLANTED-mongo-S3cret-9f8e7d",
            "PLANTED-pg-S3cret-1a2b3c",
            "PLANTED-literal-S3cret-77aa",
        ];
        let mut needles: Vec<String> = planted.iter().map(|s| s.to_string()).collect();
        for p in planted {
            needles.push(base64::engine::general_purpose::STANDARD.encode(p));
        }
        needles.push("PLANTED".into());
        for (file, ns, name) in [
            ("mongo-with-helper.yaml", "db", "mongo"),
            ("todo-db.yaml", "default", "todo-db"),
        ] {
            let snap = snapshot(file);
            let t = Topology::from_snapshot(&snap, ns, name, &opts()).unwrap();
            let mut plan = Plan::new(&t, "file");
            plan.checks.push(preflight::service_check(&t));
            let plan = apply::plan_from(&t, None, plan);
            assert!(!plan.steps.is_empty());
            let texts = [
                render_plan(&plan),
                stateful_core::output::to_json(&plan).unwrap(),
                stateful_core::output::to_yaml(&plan).unwrap(),
                stateful_core::output::to_json(&t).unwrap(),
            ];
            for text in &texts {
                for n in &needles {
                    assert!(!text.contains(n.as_str()), "{file}: {n} leaked in:\n{text}");
                }
            }
            assert!(texts[1].contains("\"apiVersion\": \"kubectl-stateful.io/v1alpha1\""));
            assert!(texts[1].contains("\"kind\": \"BootstrapPlan\""));
        }
    }
}
