//! kubectl pvc-trace, the library: where does this pod's data actually live?
//!
//! A snapshot (from the core) is indexed ([`index`]), traced into a graph of pods, claims,
//! volumes, classes and backends with diagnostics ([`build`]), decoded down to the backing
//! storage ([`backend`]), and handed root by root to a renderer ([`render`]). No I/O happens
//! here except writing to the `&mut dyn Write` a renderer is given.

pub mod backend;
pub mod build;
pub mod index;
pub mod model;
pub mod quantity;
pub mod render;
pub mod target;

pub use build::{KINDS, TraceOptions, trace, trace_each};
pub use model::*;
pub use target::Target;
