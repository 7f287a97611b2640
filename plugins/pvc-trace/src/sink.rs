//! Where the trace pushes its roots (the searcher → sink → printer pattern of ripgrep): a
//! [`Sink`] gets each root as soon as it is built, with the diagnostics known so far, then the
//! report without its roots. The renderers that stream (`render::json`, `render::table`) are
//! sinks; [`Collect`] keeps every root, for a whole [`Report`].

use crate::diagnose::Diagnosed;
use crate::model::{Report, Root};
use stateful_core::error::Result;

/// What the trace pushes roots into.
pub trait Sink {
    /// One root, with the diagnostics found so far: every diagnostic about the root's objects
    /// is among them. An error stops the trace.
    fn root(&mut self, root: Root, diagnosed: &Diagnosed<'_>) -> Result<()>;

    /// The end of the trace: the report without its roots (diagnostics sorted, summary
    /// counted), once every root has been pushed.
    fn finish(&mut self, report: &Report) -> Result<()>;
}

/// Keeps every root: the whole report.
#[derive(Debug, Default)]
pub struct Collect {
    pub roots: Vec<Root>,
}

impl Sink for Collect {
    fn root(&mut self, root: Root, _: &Diagnosed<'_>) -> Result<()> {
        self.roots.push(root);
        Ok(())
    }

    fn finish(&mut self, _: &Report) -> Result<()> {
        Ok(())
    }
}
