//! `pvc-trace`: pod → volume → claim → volume → class → backend, with diagnostics.
//! Pure: a [`Snapshot`] in, a [`Report`] out.

pub mod build;
pub mod model;
pub mod quantity;
pub mod render;
pub mod target;

pub use build::{TraceOptions, trace};
pub use model::*;
pub use target::Target;
