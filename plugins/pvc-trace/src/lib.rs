//! kubectl pvc-trace, the library: where does this pod's data actually live?
//!
//! A snapshot (from the core) is indexed ([`index`]), traced into a graph of pods, claims,
//! volumes, classes and backends ([`graph`]) whose objects are diagnosed on their first visit
//! ([`diagnose`]), decoded down to the backing storage ([`backend`]), and pushed root by root
//! into a [`Sink`] ([`sink`]): a streaming renderer, or a collector for a whole report
//! ([`render`]). No I/O happens here except writing to the `&mut dyn Write` a renderer is
//! given.

pub mod backend;
pub mod diagnose;
pub mod graph;
pub(crate) mod hash;
pub mod index;
pub mod model;
mod objects;
pub mod plan;
pub mod render;
pub mod sink;
pub mod target;
pub mod usage;
pub mod watch;

pub use stateful_core::quantity;

pub use graph::{KINDS, TraceOptions, trace, trace_into};
pub use model::*;
pub use sink::Sink;
pub use target::Target;
