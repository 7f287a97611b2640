//! stateful-core: everything the kubectl-stateful plugins share.
//!
//! One flow for every plugin (see ../shared/DESIGN.md):
//! flags → [`snapshot::Source`] → [`snapshot::Snapshot`] → pure analysis → model → [`render`].

pub mod backup;
pub mod bootstrap;
pub mod cli;
pub mod client;
pub mod error;
pub mod exec;
pub mod labels;
pub mod lean;
pub mod render;
pub mod snapshot;
pub mod storage;
pub mod trace;
pub mod yaml_fast;
pub mod yaml_split;

pub use error::{Error, ExitCode, Result};
