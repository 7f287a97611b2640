//! `-o yaml`: the whole report as YAML (serde-saphyr), the same model as `-o json`. Never
//! streamed: the document is serialised in one piece from the whole report.

use crate::model::Report;
use stateful_core::error::Result;
use stateful_core::output::to_yaml;

/// A whole report as YAML.
pub fn render_yaml(report: &Report) -> Result<String> {
    to_yaml(report)
}
