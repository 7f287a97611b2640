//! stateful-core: what every kubectl-stateful plugin shares.
//!
//! One flow for every plugin (ARCHITECTURE.md at the project root draws it):
//! plain settings → [`snapshot::Source`] → [`snapshot::Snapshot`] → the plugin's pure analysis →
//! its model → its renderers, writing through [`output`] to a `&mut dyn Write`.
//!
//! This crate knows nothing of clap, never writes to stdout or stderr and never ends the
//! process: the flag layer (`stateful-flags`) turns flags into the plain settings taken here, and
//! only the plugins' binaries talk to the terminal.
//! It enables no k8s-openapi version feature (k8s-openapi's rule for libraries).

pub mod client;
pub mod error;
pub mod exec;
pub mod http_log;
pub mod kinds;
pub mod kubelet;
pub mod labels;
pub mod names;
pub mod objects;
pub mod output;
pub mod quantity;
pub mod snapshot;
pub mod workloads;

pub use error::{Error, ExitCode, Result};
