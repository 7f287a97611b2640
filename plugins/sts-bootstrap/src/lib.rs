//! sts-bootstrap: turn a StatefulSet's pods into a MongoDB replica set, PostgreSQL streaming
//! replicas, MariaDB/MySQL GTID replicas or Redis/Valkey replicas, from outside, through exec, with `plan`, `apply` and `status`. A library (no clap,
//! no printing, no exit); `main.rs` is the thin binary.
//!
//! - [`topology`]: the StatefulSet read from a snapshot (pure): members by stable DNS name, the
//!   database container and its [`Engine`], port, and what each engine's planner needs.
//! - [`plan`]: the model — named checks, steps with their status, actions (data, no secrets).
//! - [`preflight`]: the named checks shown before any step (pure and live), and
//!   [`preflight::live_plan`]: checks, then observe every member and plan.
//! - [`engine`]: one module per engine — commands and parsers, observe, the pure planner
//!   (observed state in → [`Plan`] out), its steps, verify, status rows — and the dispatch by
//!   engine.
//! - [`executor`]: runs any engine's plan through `PodExec`; it re-observes and re-plans before
//!   every step, so a step that is done is skipped and an interrupted apply resumes.
//! - [`secret`]: the replication-secret policy (PostgreSQL, MariaDB/MySQL).
//! - [`render`]: the plan, the status table and the apply summary as text.
//!
//! Adding an engine:
//! its arm in [`Engine`] and [`Engine::supported`] (detection itself is the core's), then the
//! steps listed in [`engine`]'s docs — the module file, the dispatch arms, the topology
//! settings, the actions and their executor arms, the status rows. Every match on [`Engine`]
//! and on [`Action`] is exhaustive, so the compiler points at each place.

pub mod ctx;
pub mod engine;
pub mod executor;
pub mod plan;
pub mod preflight;
pub mod render;
pub mod secret;
pub mod topology;

#[cfg(test)]
pub(crate) mod testutil;

pub use plan::{Action, Check, CheckStatus, Plan, Step, StepStatus};
pub use render::render_plan;
pub use topology::{Member, Options, Topology, validate_pg_ident};

use serde::Serialize;

use stateful_core::workloads;

/// The `apiVersion` of every document sts-bootstrap prints (plan, apply result, status).
pub const API_VERSION: &str = "kubectl-stateful.io/v1alpha1";

/// The engines sts-bootstrap sets up. Detection is the core's, one detector for every plugin
/// ([`stateful_core::workloads::Engine::detect`]); this is the subset with a planner here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    #[serde(rename = "mongodb")]
    MongoDb,
    Postgres,
    /// Redis and Valkey.
    Redis,
    /// MariaDB and MySQL.
    #[serde(rename = "mysql")]
    MySql,
}

impl Engine {
    /// The engine sts-bootstrap handles for a detected one, if any.
    pub fn supported(e: workloads::Engine) -> Option<Engine> {
        match e {
            workloads::Engine::MongoDb => Some(Engine::MongoDb),
            workloads::Engine::Postgres => Some(Engine::Postgres),
            workloads::Engine::Redis => Some(Engine::Redis),
            workloads::Engine::MySql => Some(Engine::MySql),
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Engine::MongoDb => "mongodb",
            Engine::Postgres => "postgres",
            Engine::Redis => "redis",
            Engine::MySql => "mysql",
        })
    }
}
