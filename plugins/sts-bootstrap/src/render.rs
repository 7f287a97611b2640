//! Text renderings of sts-bootstrap's models for people: the plan, the `status` table and the
//! one-line `apply` summary (JSON and YAML serialise the models themselves).

use serde_json::Value;
use stateful_core::output::dash;
use stateful_core::output::jsonpath::Path;
use stateful_core::output::rows::{self, Layout};
use stateful_core::output::term::{Shrink, Tone, error_prefix, escape_control, paint};

use crate::engine::StatusReport;
use crate::executor::ApplyReport;
use crate::plan::{CheckStatus, Plan, StepStatus};

/// How `status` prints its table: the core's look (`--no-headers`, the terminal's width,
/// colour) and `--sort-by` (over each row's JSON, as `-o json` writes the rows).
#[derive(Debug, Clone, Default)]
pub struct StatusLook {
    pub table: rows::Look,
    pub sort_by: Option<Path>,
}

/// The rows of `status` as JSON (the members or pods of `-o json`), for `--sort-by`,
/// `-o custom-columns` and `-o name`.
pub fn status_rows_json(r: &StatusReport) -> Vec<Value> {
    fn json<T: serde::Serialize>(rows: &[T]) -> Vec<Value> {
        rows.iter()
            .map(|x| serde_json::to_value(x).unwrap_or(Value::Null))
            .collect()
    }
    if !r.mongo.is_empty() {
        json(&r.mongo)
    } else if !r.redis.is_empty() {
        json(&r.redis)
    } else if !r.mysql.is_empty() {
        json(&r.mysql)
    } else {
        json(&r.postgres)
    }
}

/// `status -o name`: `pod/NAME` of each row that names a pod.
pub fn status_names(r: &StatusReport) -> String {
    status_rows_json(r)
        .iter()
        .filter_map(|v| v.get("pod").and_then(Value::as_str))
        .map(|p| format!("pod/{}\n", escape_control(p, true)))
        .collect()
}

/// A status table: headers, (column, minimum) in shrink order, coloured columns, cells.
type Spec<'a> = (
    &'a [&'a str],
    &'a [(usize, usize)],
    &'a [usize],
    Vec<Vec<String>>,
);

/// `status` as a table: MongoDB members, or PostgreSQL, Redis or MariaDB/MySQL pods; errors
/// after it. On a terminal too narrow for it, the last columns (sync source, last error, master,
/// gtid, source, replay lsn)
/// are shortened first (with `…`); member and pod names never.
pub fn status_table(r: &StatusReport, look: &StatusLook) -> String {
    let (headers, shrink, toned, cells): Spec<'_> = if !r.mongo.is_empty() {
        (
            &["member", "pod", "state", "health", "lag", "sync source"],
            &[(5, 12)],
            &[2],
            r.mongo.iter().map(mongo_cells).collect(),
        )
    } else if !r.redis.is_empty() {
        (
            &[
                "pod",
                "role",
                "state",
                "master",
                "lag",
                "last io",
                "keys",
                "last error",
            ],
            &[(7, 12), (3, 12)],
            &[1, 2],
            r.redis.iter().map(redis_cells).collect(),
        )
    } else if !r.mysql.is_empty() {
        (
            &[
                "pod",
                "role",
                "state",
                "source",
                "lag",
                "server id",
                "gtid",
                "last error",
            ],
            &[(7, 12), (6, 12), (3, 12)],
            &[1, 2],
            r.mysql.iter().map(mysql_cells).collect(),
        )
    } else {
        (
            &["pod", "role", "state", "lag", "replay lsn"],
            &[(4, 10)],
            &[1, 2],
            r.postgres.iter().map(postgres_cells).collect(),
        )
    };
    let mut keyed: Vec<(Value, Vec<String>)> = status_rows_json(r).into_iter().zip(cells).collect();
    if let Some(p) = &look.sort_by {
        rows::sort_by(&mut keyed, |(v, _)| v, p);
    }
    let cells: Vec<Vec<String>> = keyed
        .into_iter()
        .map(|(_, c)| {
            c.iter()
                .map(|c| escape_control(c, true).into_owned())
                .collect()
        })
        .collect();
    let shrink: Vec<Shrink> = shrink
        .iter()
        .map(|&(column, min)| Shrink { column, min })
        .collect();
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = rows::write_rows(
        &mut out,
        Layout {
            headers,
            shrink: &shrink,
            toned,
        },
        &cells,
        look.table,
        usize::MAX,
    );
    let mut s = String::from_utf8_lossy(&out).into_owned();
    for e in &r.errors {
        s.push_str(&format!(
            "{} {}\n",
            error_prefix(look.table.color),
            escape_control(e, true)
        ));
    }
    s
}

fn opt<T: std::fmt::Display>(v: Option<T>, unit: &str) -> String {
    v.map(|v| format!("{v}{unit}"))
        .unwrap_or_else(|| "-".into())
}

fn mongo_cells(m: &crate::engine::mongo::StatusRow) -> Vec<String> {
    vec![
        m.name.clone(),
        dash(m.pod.as_deref()),
        m.state.clone(),
        format!("{}", m.health),
        opt(m.lag_seconds, "s"),
        dash(m.sync_source.as_deref()),
    ]
}

fn redis_cells(p: &crate::engine::redis::StatusRow) -> Vec<String> {
    vec![
        p.pod.clone(),
        p.role.clone(),
        p.state.clone(),
        dash(p.master.as_deref()),
        opt(p.lag_bytes, "B"),
        opt(p.last_io_seconds, "s"),
        opt(p.keys, ""),
        dash(p.last_error.as_deref()),
    ]
}

fn mysql_cells(p: &crate::engine::mysql::StatusRow) -> Vec<String> {
    vec![
        p.pod.clone(),
        p.role.clone(),
        p.state.clone(),
        dash(p.source.as_deref()),
        opt(p.lag_seconds, "s"),
        opt(p.server_id, ""),
        dash(p.gtid.as_deref()),
        dash(p.last_error.as_deref()),
    ]
}

fn postgres_cells(p: &crate::engine::postgres::StatusRow) -> Vec<String> {
    vec![
        p.pod.clone(),
        p.role.clone(),
        p.state.clone(),
        p.lag_seconds
            .map(|l| format!("{l:.3}s"))
            .unwrap_or_else(|| "-".into()),
        dash(p.replay_lsn.as_deref()),
    ]
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

/// Render a plan for people, in colour when `color` (a terminal): check and step marks by
/// their outcome, `REFUSED` in red. Object and database text is escaped first.
pub fn render_plan_in(plan: &Plan, color: bool) -> String {
    let text = render_plan(plan);
    if !color {
        return text;
    }
    let marks = [
        ("[ok  ]", Tone::Good),
        ("[done]", Tone::Good),
        ("[warn]", Tone::Warn),
        ("[todo]", Tone::Warn),
        ("[skip]", Tone::Dim),
        ("[FAIL]", Tone::Bad),
        ("[BLOCKED]", Tone::Bad),
    ];
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("REFUSED:") {
            out.push_str(&paint("REFUSED:", Tone::Bad, true));
            out.push_str(rest);
            continue;
        }
        let found = line.find('[').and_then(|at| {
            marks
                .iter()
                .find(|(m, _)| line[at..].starts_with(m))
                .map(|(m, tone)| (at, *m, *tone))
        });
        match found {
            Some((at, m, tone)) => {
                out.push_str(&line[..at]);
                out.push_str(&paint(m, tone, true));
                out.push_str(&line[at + m.len()..]);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// Render a plan for people (object and database text escaped for a terminal).
pub fn render_plan(plan: &Plan) -> String {
    escape_control(&plan_text(plan), false).into_owned()
}

fn plan_text(plan: &Plan) -> String {
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
