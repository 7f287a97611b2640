//! Text renderings of sts-bootstrap's models (JSON and YAML serialise the models themselves).

use stateful_core::output::{dash, table, table_text};

use crate::apply::{ApplyReport, StatusReport};

/// `status` as a table: MongoDB members, or PostgreSQL pods; errors after it.
pub fn status_table(r: &StatusReport) -> String {
    let mut t;
    if !r.mongo.is_empty() {
        t = table(&["member", "pod", "state", "health", "lag", "sync source"]);
        for m in &r.mongo {
            t.add_row(vec![
                m.name.clone(),
                dash(m.pod.as_deref()),
                m.state.clone(),
                format!("{}", m.health),
                m.lag_seconds
                    .map(|l| format!("{l}s"))
                    .unwrap_or_else(|| "-".into()),
                dash(m.sync_source.as_deref()),
            ]);
        }
    } else {
        t = table(&["pod", "role", "state", "lag", "replay lsn"]);
        for p in &r.postgres {
            t.add_row(vec![
                p.pod.clone(),
                p.role.clone(),
                p.state.clone(),
                p.lag_seconds
                    .map(|l| format!("{l:.3}s"))
                    .unwrap_or_else(|| "-".into()),
                dash(p.replay_lsn.as_deref()),
            ]);
        }
    }
    let mut s = table_text(&t);
    for e in &r.errors {
        s.push_str(&format!("error: {e}\n"));
    }
    s
}

/// The one-line summary of an `apply`.
pub fn apply_summary(report: &ApplyReport) -> String {
    let done = report.steps.iter().filter(|s| s.outcome == "done").count();
    if done == 0 {
        format!(
            "{}/{}: every step already done ({} steps); verified.\n",
            report.namespace,
            report.statefulset,
            report.steps.len()
        )
    } else {
        format!(
            "{}/{}: {done} step(s) done, {} already done; verified.\n",
            report.namespace,
            report.statefulset,
            report.steps.len() - done
        )
    }
}
