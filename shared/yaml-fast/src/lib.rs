//! stateful-yaml: the YAML fast path of kubectl-stateful, on its own: it depends on nothing of
//! the project's.
//!
//! - [`yaml_fast`]: a serde `Deserializer` for the block-style YAML subset that `kubectl get -o
//!   yaml` (go-yaml) writes. It either produces exactly what serde-saphyr would, or declines.
//! - [`yaml_split`]: cuts a YAML dump at its column-0 structure (`---`, `items:`, `- `) while
//!   reading line by line, so that a big List is parsed one item at a time.
//!
//! serde-saphyr stays the reference parser, the fallback for whatever is declined, and the writer
//! of every error message; it is pinned to the exact version the differential tests ran against.

pub mod yaml_fast;
pub mod yaml_split;
