//! Text renderings of sts-bootstrap's models for people: the plan, the `status` table and the
//! one-line `apply` summary (JSON and YAML serialise the models themselves).

use stateful_core::output::{dash, table, table_text};

use crate::engine::StatusReport;
use crate::executor::ApplyReport;
use crate::plan::{CheckStatus, Plan, StepStatus};

/// `status` as a table: MongoDB members, or PostgreSQL, Redis or MariaDB/MySQL pods; errors
/// after it.
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
    } else if !r.redis.is_empty() {
        t = table(&[
            "pod",
            "role",
            "state",
            "master",
            "lag",
            "last io",
            "keys",
            "last error",
        ]);
        for p in &r.redis {
            t.add_row(vec![
                p.pod.clone(),
                p.role.clone(),
                p.state.clone(),
                dash(p.master.as_deref()),
                p.lag_bytes
                    .map(|l| format!("{l}B"))
                    .unwrap_or_else(|| "-".into()),
                p.last_io_seconds
                    .map(|l| format!("{l}s"))
                    .unwrap_or_else(|| "-".into()),
                p.keys.map(|k| k.to_string()).unwrap_or_else(|| "-".into()),
                dash(p.last_error.as_deref()),
            ]);
        }
    } else if !r.mysql.is_empty() {
        t = table(&[
            "pod",
            "role",
            "state",
            "source",
            "lag",
            "server id",
            "gtid",
            "last error",
        ]);
        for p in &r.mysql {
            t.add_row(vec![
                p.pod.clone(),
                p.role.clone(),
                p.state.clone(),
                dash(p.source.as_deref()),
                p.lag_seconds
                    .map(|l| format!("{l}s"))
                    .unwrap_or_else(|| "-".into()),
                p.server_id
                    .map(|k| k.to_string())
                    .unwrap_or_else(|| "-".into()),
                dash(p.gtid.as_deref()),
                dash(p.last_error.as_deref()),
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

/// Render a plan for people.
pub fn render_plan(plan: &Plan) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "StatefulSet {}/{} · engine {} · container {} · from {}",
        plan.namespace, plan.statefulset, plan.engine, plan.container, plan.source
    );
    let _ = writeln!(s, "\nMembers:");
    for m in &plan.members {
        let _ = writeln!(
            s,
            "  {:<3} {:<24} {}{}",
            m.ordinal,
            m.pod,
            m.host,
            m.phase
                .as_deref()
                .map(|p| format!("  ({p})"))
                .unwrap_or_default()
        );
    }
    if !plan.checks.is_empty() {
        let _ = writeln!(s, "\nPreflight:");
        for c in &plan.checks {
            let mark = match c.status {
                CheckStatus::Pass => "ok  ",
                CheckStatus::Warn => "warn",
                CheckStatus::Fail => "FAIL",
                CheckStatus::Skipped => "skip",
            };
            let _ = writeln!(s, "  [{mark}] {:<18} {}", c.name, c.message);
        }
    }
    if !plan.observed.is_empty() {
        let _ = writeln!(s, "\nObserved:");
        for o in &plan.observed {
            let _ = writeln!(s, "  {o}");
        }
    }
    let _ = writeln!(s, "\nSteps:");
    if plan.steps.is_empty() {
        let _ = writeln!(s, "  (none)");
    }
    for (i, st) in plan.steps.iter().enumerate() {
        let mark = match st.status {
            StepStatus::Pending => "todo",
            StepStatus::Done => "done",
            StepStatus::Blocked => "BLOCKED",
        };
        let _ = writeln!(
            s,
            "  {:>2}. [{mark}] {} ({})",
            i + 1,
            st.description,
            st.pod
        );
        if let Some(r) = &st.reason {
            let _ = writeln!(s, "          {r}");
        }
    }
    for n in &plan.notes {
        let _ = writeln!(s, "\nnote: {n}");
    }
    if let Some(r) = &plan.refused {
        let _ = writeln!(s, "\nREFUSED: {r}");
    } else if plan.all_done() {
        let _ = writeln!(s, "\nNothing to do: every step is already done.");
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::testutil::snapshot;
    use crate::{Options, Topology, engine, preflight};

    fn opts() -> Options {
        Options {
            cluster_domain: "cluster.local".into(),
            ..Default::default()
        }
    }

    #[test]
    fn rendered_plans_never_carry_planted_secrets() {
        use base64::Engine as _;
        let planted = [
            "PLANTED-mongo-S3cret-9f8e7d",
            "PLANTED-pg-S3cret-1a2b3c",
            "PLANTED-literal-S3cret-77aa",
        ];
        let mut needles: Vec<String> = planted.iter().map(|s| s.to_string()).collect();
        for p in planted {
            needles.push(base64::engine::general_purpose::STANDARD.encode(p));
        }
        needles.push("PLANTED".into());
        for (file, ns, name) in [
            ("mongo-with-helper.yaml", "db", "mongo"),
            ("todo-db.yaml", "default", "todo-db"),
        ] {
            let snap = snapshot(file);
            let t = Topology::from_snapshot(&snap, ns, name, &opts()).unwrap();
            let mut plan = Plan::new(&t, "file");
            plan.checks.push(preflight::service_check(&t));
            let plan = engine::plan_from(&t, None, plan);
            assert!(!plan.steps.is_empty());
            let texts = [
                render_plan(&plan),
                stateful_core::output::to_json(&plan).unwrap(),
                stateful_core::output::to_yaml(&plan).unwrap(),
                stateful_core::output::to_json(&t).unwrap(),
            ];
            for text in &texts {
                for n in &needles {
                    assert!(!text.contains(n.as_str()), "{file}: {n} leaked in:\n{text}");
                }
            }
            assert!(texts[1].contains("\"apiVersion\": \"kubectl-stateful.io/v1alpha1\""));
            assert!(texts[1].contains("\"kind\": \"BootstrapPlan\""));
        }
    }
}
