//! One module per engine: how to observe a member (probe commands and their parsers), plan the
//! steps from what was observed, and report status. The executor (`apply`) runs any engine's
//! steps the same way, through `PodExec`.
//!
//! To add an engine: a module here with `probe`/`parse_probe`/`plan`/`status_rows`, an arm in
//! [`crate::Engine`] and [`crate::Engine::supported`], and its steps in `apply::run_step`.

pub mod mongo;
pub mod postgres;
