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
