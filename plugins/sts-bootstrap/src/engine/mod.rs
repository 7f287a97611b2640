//! The engines, one module each, and the dispatch over them. An engine module owns everything
//! engine-specific: the commands and scripts run in the pods and the parsers of their output,
//! observing every member through exec, the pure planner (observed state in → [`Plan`] out), one
//! function per kind of step it plans (routed to by `executor::run_step`), the verification
//! after convergence, and the `status` rows. A module that would pass ~1000 lines becomes a
//! directory (`mongo.rs` + `mongo/`); its tests stay in `<engine>/tests.rs`. This file routes
//! by [`Engine`]: [`Observed`], [`observe`], [`plan_from`], `verify`, [`status`] and the
//! engine-binary preflight check.
//!
//! To add an engine:
//! 1. `Engine` and `Engine::supported` in `lib.rs` (detection is the core's), and a value of
//!    `--engine` in `main.rs`;
//! 2. this module: `observe`, `plan`, one function per step, `verify`, `status_rows`,
//!    `BINARY_CHECK` / `BINARY_NAMES`, with tests in `<engine>/tests.rs`;
//! 3. its arms here (`Observed`, `observe`, `plan_from`, `verify`, `binary_check`, a field of
//!    [`StatusReport`] and its rows in `render::status_table`);
//! 4. its settings in [`crate::topology`] (default port, what the planner needs from the pod
//!    template);
//! 5. its [`Action`](crate::plan::Action) variants in [`crate::plan`] and their arms in
//!    `executor::run_step`.
//!
//! Every match on `Engine` and on `Action` is exhaustive, so the compiler lists the places left.

pub mod mongo;
pub mod mysql;
pub mod postgres;
pub mod redis;

use serde::Serialize;

use crate::ctx::{ApplyInputs, Ctx};
use crate::plan::Plan;
use crate::topology::Topology;
use crate::{API_VERSION, Engine};
use stateful_core::error::Result;
use stateful_core::exec::PodExec;

/// What every member said.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Observed {
    Mongo(Vec<mongo::MemberProbe>),
    Postgres(Vec<postgres::PodProbe>),
    Redis(Vec<redis::PodProbe>),
    MySql(Vec<mysql::PodProbe>),
}

/// Observe every member of the set through exec.
pub async fn observe<E: PodExec>(ctx: &Ctx<'_, E>) -> Observed {
    match ctx.topo.engine {
        Engine::MongoDb => Observed::Mongo(mongo::observe(ctx).await),
        Engine::Postgres => Observed::Postgres(postgres::observe(ctx).await),
        Engine::Redis => Observed::Redis(redis::observe(ctx).await),
        Engine::MySql => Observed::MySql(mysql::observe(ctx).await),
    }
}

/// The pure planner on observed state (`None`: from manifests only, fresh pods assumed).
pub fn plan_from(topo: &Topology, observed: Option<&Observed>, base: Plan) -> Plan {
    match (topo.engine, observed) {
        (Engine::MongoDb, Some(Observed::Mongo(p))) => mongo::plan(topo, Some(p), base),
        (Engine::MongoDb, _) => mongo::plan(topo, None, base),
        (Engine::Postgres, Some(Observed::Postgres(p))) => postgres::plan(topo, Some(p), base),
        (Engine::Postgres, _) => postgres::plan(topo, None, base),
        (Engine::Redis, Some(Observed::Redis(p))) => redis::plan(topo, Some(p), base),
        (Engine::Redis, _) => redis::plan(topo, None, base),
        (Engine::MySql, Some(Observed::MySql(p))) => mysql::plan(topo, Some(p), base),
        (Engine::MySql, _) => mysql::plan(topo, None, base),
    }
}

/// After convergence: PostgreSQL — every replica `streaming` in the primary's
/// pg_stat_replication, and a row written on the primary is read on each replica.
/// MongoDB — every member PRIMARY or SECONDARY. Redis — a key written on the primary is read on
/// every replica, whose link is up at or past the primary's offset. MariaDB/MySQL — a row
/// written on the primary is read on every replica, both of whose threads run.
pub(crate) async fn verify<E: PodExec>(
    ctx: &Ctx<'_, E>,
    inputs: &ApplyInputs,
) -> Result<Vec<String>> {
    match ctx.topo.engine {
        Engine::MongoDb => mongo::verify(ctx).await,
        Engine::Postgres => postgres::verify(ctx, inputs).await,
        Engine::Redis => redis::verify(ctx, inputs).await,
        Engine::MySql => mysql::verify(ctx, inputs).await,
    }
}

/// The engine-binary preflight check of `engine`: a shell script that fails when a binary the
/// steps need is missing, and the binaries it looks for (for people).
pub(crate) fn binary_check(engine: Engine) -> (&'static str, &'static str) {
    match engine {
        Engine::MongoDb => (mongo::BINARY_CHECK, mongo::BINARY_NAMES),
        Engine::Postgres => (postgres::BINARY_CHECK, postgres::BINARY_NAMES),
        Engine::Redis => (redis::BINARY_CHECK, redis::BINARY_NAMES),
        Engine::MySql => (mysql::BINARY_CHECK, mysql::BINARY_NAMES),
    }
}

/// `status`: the set as the database sees it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub statefulset: String,
    pub namespace: String,
    pub engine: Engine,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mongo: Vec<mongo::StatusRow>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub postgres: Vec<postgres::StatusRow>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redis: Vec<redis::StatusRow>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mysql: Vec<mysql::StatusRow>,
    pub errors: Vec<String>,
}

/// Observe every member and report the set as the database sees it.
pub async fn status<E: PodExec>(ctx: &Ctx<'_, E>) -> StatusReport {
    let mut r = StatusReport {
        api_version: API_VERSION,
        kind: "ReplicaSetStatus",
        statefulset: ctx.topo.statefulset.clone(),
        namespace: ctx.topo.namespace.clone(),
        engine: ctx.topo.engine,
        mongo: Vec::new(),
        postgres: Vec::new(),
        redis: Vec::new(),
        mysql: Vec::new(),
        errors: Vec::new(),
    };
    match observe(ctx).await {
        Observed::Mongo(ps) => {
            r.errors = ps
                .iter()
                .filter_map(|p| p.error.as_ref().map(|e| format!("{}: {e}", p.pod)))
                .collect();
            r.mongo = mongo::status_rows(ctx.topo, &ps);
            if r.mongo.is_empty() && r.errors.is_empty() {
                r.errors
                    .push("no member has a replica-set config yet".into());
            }
        }
        Observed::Postgres(ps) => {
            r.postgres = postgres::status_rows(ctx.topo, &ps);
        }
        Observed::Redis(ps) => {
            r.errors = ps
                .iter()
                .filter_map(|p| p.error.as_ref().map(|e| format!("{}: {e}", p.pod)))
                .collect();
            r.redis = redis::status_rows(ctx.topo, &ps);
        }
        Observed::MySql(ps) => {
            r.errors = ps
                .iter()
                .filter_map(|p| p.error.as_ref().map(|e| format!("{}: {e}", p.pod)))
                .collect();
            r.mysql = mysql::status_rows(ctx.topo, &ps);
        }
    }
    r
}
