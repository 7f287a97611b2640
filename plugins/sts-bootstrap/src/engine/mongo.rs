//! MongoDB, in parts: `script` (the argv and JavaScript run through exec), `parse` (our JSON,
//! or the mongo shells' own extended-JSON text), `planner` (pure), `status` (the `status`
//! rows) and `live` (observe every member, the steps, verify). Their public items are
//! re-exported here: callers write `mongo::plan`, `mongo::observe`.
//!
//! Rules (see reference/sts-bootstrap.md): query every member before anything; a member that
//! has a replica-set config means never initiate again; two different configs (set name or
//! replicaSetId) is a split and we refuse; initiate on ordinal 0 with only itself; add the others
//! with votes 0 / priority 0, then promote each to votes 1 / priority 1 once it is SECONDARY
//! (at most 7 voting members); after a scale-up only new ordinals are added; members whose pods
//! are gone are removed only with `--remove-missing`. Error 103 is never success.

mod live;
mod parse;
mod planner;
mod script;
mod status;

pub use live::{BINARY_CHECK, BINARY_NAMES, observe};
pub(crate) use live::{add_member, initiate, promote_member, remove_member, verify, wait_primary};
pub use parse::*;
pub use planner::{converged, plan};
pub use script::*;
pub use status::{StatusRow, status_rows};

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
