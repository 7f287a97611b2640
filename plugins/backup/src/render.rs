//! Text and JSON renderings: the `list` table and JSON, the `describe` text, and the objects
//! of `create --dry-run` as `kubectl apply -f -` takes them (secret-looking literal env values
//! redacted). Pure: models in, `String` out; the binary writes them.

use serde_json::Value;

use crate::list::{BackupList, Description, EnvValue, JobDescription, SnapshotDescription};
use crate::plan::Objects;
use stateful_core::error::{Error, Result};
use stateful_core::output;
use stateful_core::output::jsonpath::{Path, Template};
use stateful_core::output::rows::{self, CustomColumns, Layout};
use stateful_core::output::term::{self, Shrink};

/// `42s`, `3m7s`, `2h30m`.
pub fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{}s", s / 60, s % 60)
    } else {
        format!("{}h{}m", s / 3600, (s % 3600) / 60)
    }
}

/// `list`'s formats: its own (table, JSON) and kubectl's printers.
#[derive(Debug, Clone)]
pub enum ListFormat {
    Table,
    Json,
    /// `job.batch/NAME`, `volumesnapshot.snapshot.storage.k8s.io/NAME`.
    Name,
    /// Over the `BackupList` JSON (`{.items[*].name}`).
    JsonPath(Template),
    /// Over each item's JSON (`NAME:.name,STATUS:.status`).
    CustomColumns(CustomColumns),
}

/// How `list` prints: NAMESPACE across namespaces only, the table's look, `--sort-by` (over
/// each item's JSON), and now (seconds since the epoch) for AGE.
#[derive(Debug, Clone, Default)]
pub struct ListLook {
    pub all_namespaces: bool,
    pub table: rows::Look,
    pub sort_by: Option<Path>,
    pub now: i64,
}

/// The list table's columns; on a terminal too narrow for it, METHOD, then TARGET, then
/// STARTED are shortened (with `…`), never NAME or NAMESPACE.
const LIST_COLUMNS: [&str; 9] = [
    "namespace",
    "name",
    "target",
    "method",
    "status",
    "started",
    "duration",
    "size",
    "age",
];
const LIST_SHRINK: [(&str, usize); 3] = [("method", 8), ("target", 12), ("started", 10)];

/// `list` in `format`: JSON, a kubectl-style table (nothing when there are no backups), or
/// one of kubectl's printers. Items are sorted by `--sort-by` first.
pub fn render_list(l: &BackupList, format: &ListFormat, look: &ListLook) -> Result<String> {
    let mut items: Vec<(Value, &crate::list::BackupRow)> = l
        .items
        .iter()
        .map(|r| (serde_json::to_value(r).unwrap_or(Value::Null), r))
        .collect();
    if let Some(p) = &look.sort_by {
        rows::sort_by(&mut items, |(v, _)| v, p);
    }
    match format {
        ListFormat::Json if look.sort_by.is_none() => output::to_json(l),
        ListFormat::Json => output::to_json(&BackupList {
            items: items.iter().map(|(_, r)| (*r).clone()).collect(),
            ..l.clone()
        }),
        ListFormat::JsonPath(t) => {
            let v = serde_json::to_value(BackupList {
                items: items.iter().map(|(_, r)| (*r).clone()).collect(),
                ..l.clone()
            })
            .map_err(|e| Error::Other(format!("json: {e}")))?;
            Ok(t.render_escaped(&v))
        }
        ListFormat::Name => Ok(items
            .iter()
            .map(|(_, r)| match r.kind.as_str() {
                "VolumeSnapshot" => format!("volumesnapshot.snapshot.storage.k8s.io/{}\n", r.name),
                _ => format!("job.batch/{}\n", r.name),
            })
            .collect()),
        ListFormat::CustomColumns(cc) => {
            let json: Vec<Value> = items.into_iter().map(|(v, _)| v).collect();
            let mut out = Vec::new();
            cc.write(&mut out, &json, look.table.no_headers)?;
            Ok(String::from_utf8_lossy(&out).into_owned())
        }
        ListFormat::Table => {
            let rows: Vec<&crate::list::BackupRow> = items.into_iter().map(|(_, r)| r).collect();
            let mut out = list_table(&rows, look);
            if !l.locks.is_empty() && !look.table.no_headers {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(&lock_table(&l.locks, look));
            }
            Ok(out)
        }
    }
}

fn list_table(items: &[&crate::list::BackupRow], look: &ListLook) -> String {
    if items.is_empty() {
        return String::new();
    }
    let skip = usize::from(!look.all_namespaces);
    let headers = &LIST_COLUMNS[skip..];
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|r| {
            let method = match (&r.engine, r.trigger.as_str()) {
                (Some(e), _) => format!("{}/{e}", r.method),
                (None, "scheduled") => format!("{} (scheduled)", r.method),
                _ => r.method.clone(),
            };
            let cells = [
                r.namespace.clone(),
                r.name.clone(),
                r.target.clone(),
                method,
                r.status.clone(),
                output::dash(r.started.as_deref()),
                dash_or(r.duration_seconds.map(human_duration)),
                output::dash(r.size.as_deref()),
                term::age_since(r.created.as_deref(), look.now),
            ];
            shown(&cells, skip)
        })
        .collect();
    let at = |n: &str| headers.iter().position(|h| *h == n);
    let shrink: Vec<Shrink> = LIST_SHRINK
        .iter()
        .filter_map(|(n, min)| at(n).map(|column| Shrink { column, min: *min }))
        .collect();
    let toned: Vec<usize> = at("status").into_iter().collect();
    table_text(
        Layout {
            headers,
            shrink: &shrink,
            toned: &toned,
        },
        &rows,
        look,
    )
}

/// A row's cells from the first shown column (NAMESPACE is skipped in one namespace), terminal
/// controls escaped.
fn shown(cells: &[String], skip: usize) -> Vec<String> {
    cells[skip..]
        .iter()
        .map(|c| term::escape_control(c, true).into_owned())
        .collect()
}

/// A table through the core's writer, as text.
fn table_text(layout: Layout<'_>, rows: &[Vec<String>], look: &ListLook) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = rows::write_rows(&mut out, layout, rows, look.table, usize::MAX);
    String::from_utf8_lossy(&out).into_owned()
}

const LOCK_COLUMNS: [&str; 7] = [
    "namespace",
    "locked",
    "operation",
    "work",
    "holder",
    "since",
    "expires",
];

/// The held locks, a table of their own under the backups (not with `--no-headers`, whose
/// lines are all backups): target, operation, work, who, since when, until when.
fn lock_table(locks: &[crate::lock::LockRow], look: &ListLook) -> String {
    let skip = usize::from(!look.all_namespaces);
    let headers = &LOCK_COLUMNS[skip..];
    let rows: Vec<Vec<String>> = locks
        .iter()
        .map(|r| {
            let h = &r.holder;
            let holder = if h.user.is_empty() && h.host.is_empty() {
                "-".to_string()
            } else {
                format!("{}@{} (pid {})", h.user, h.host, h.pid)
            };
            let expires = if r.detached {
                format!("when {} ends", output::dash(Some(h.work.as_str())))
            } else {
                let left = r
                    .expires
                    .parse::<jiff::Timestamp>()
                    .map(|t| t.as_second() - look.now)
                    .unwrap_or(0);
                format!("in {}", human_duration(left))
            };
            let cells = [
                r.namespace.clone(),
                r.target.clone(),
                output::dash(Some(h.operation.as_str())),
                output::dash(Some(h.work.as_str())),
                holder,
                term::age_since(r.since.as_deref().or(Some(&r.renewed)), look.now),
                expires,
            ];
            shown(&cells, skip)
        })
        .collect();
    let layout = Layout {
        headers,
        shrink: &[],
        toned: &[],
    };
    table_text(layout, &rows, look)
}

/// One `describe` line: the key padded to 14 columns.
fn line(out: &mut String, k: &str, v: &str) {
    out.push_str(&format!("{k:<14}{v}\n"));
}

/// The value, or `-` when there is none.
fn dash_or<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

/// `describe`'s text.
pub fn describe_text(d: &Description) -> String {
    match d {
        Description::Job(j) => job_text(j),
        Description::VolumeSnapshot(s) => snapshot_text(s),
    }
}

fn job_text(j: &JobDescription) -> String {
    let mut out = String::new();
    line(&mut out, "Name:", &j.name);
    line(&mut out, "Namespace:", &j.namespace);
    line(&mut out, "Kind:", "Job");
    if let Some(r) = &j.row {
        line(&mut out, "Target:", &r.target);
        line(&mut out, "Method:", &r.method);
        if let Some(e) = &r.engine {
            line(&mut out, "Engine:", e);
        }
        line(&mut out, "Trigger:", &r.trigger);
        line(&mut out, "Status:", &r.status);
        line(&mut out, "Started:", &output::dash(r.started.as_deref()));
        line(
            &mut out,
            "Duration:",
            &dash_or(r.duration_seconds.map(human_duration)),
        );
    } else {
        line(&mut out, "Status:", j.status);
    }
    if let Some(s) = &j.source {
        line(&mut out, "Source:", s);
    }
    if let Some(d) = &j.destination {
        line(&mut out, "Destination:", d);
    }
    if let Some(h) = &j.sha256 {
        line(&mut out, "SHA256:", h);
    }
    for c in &j.containers {
        let image = c.image.as_deref().unwrap_or("");
        line(&mut out, "Container:", &format!("{} ({image})", c.name));
        if !c.command.is_empty() {
            out.push_str("Command:\n");
            for l in c.command.join(" ").lines() {
                out.push_str(&format!("  {l}\n"));
            }
        }
        for (name, v) in &c.env {
            let v = match v {
                EnvValue::Literal(v) => v.clone(),
                EnvValue::Secret { name, key } => format!("<secret {name}/{key}>"),
                EnvValue::ConfigMap { name, key } => format!("<configmap {name}/{key}>"),
                EnvValue::Reference => "<reference>".into(),
                EnvValue::Empty => String::new(),
            };
            out.push_str(&format!("  env {name}={v}\n"));
        }
    }
    for (volume, claim) in &j.claims {
        line(&mut out, "Volume:", &format!("{volume} → pvc/{claim}"));
    }
    if let Some(l) = &j.limits {
        line(
            &mut out,
            "Limits:",
            &format!(
                "backoffLimit {}, activeDeadlineSeconds {}, ttlSecondsAfterFinished {}",
                dash_or(l.backoff_limit),
                dash_or(l.active_deadline_seconds),
                dash_or(l.ttl_seconds_after_finished),
            ),
        );
    }
    for c in &j.conditions {
        let text = format!(
            "{}={} {} {}",
            c.type_,
            c.status,
            c.reason.as_deref().unwrap_or(""),
            c.message.as_deref().unwrap_or("")
        );
        line(&mut out, "Condition:", text.trim_end());
    }
    for p in &j.pods {
        let mut s = format!(
            "{} {} on {}",
            p.name,
            p.phase.as_deref().unwrap_or("Unknown"),
            p.node.as_deref().unwrap_or("-")
        );
        if let Some(r) = &p.reason {
            s.push_str(&format!(" — {r}"));
        }
        line(&mut out, "Pod:", &s);
    }
    for (reason, message) in &j.warnings {
        line(
            &mut out,
            "Warning:",
            &format!(
                "{} {}",
                reason.as_deref().unwrap_or(""),
                message.as_deref().unwrap_or("")
            ),
        );
    }
    line(
        &mut out,
        "Logs:",
        &format!("kubectl backup logs {} -n {}", j.name, j.namespace),
    );
    out
}

fn snapshot_text(s: &SnapshotDescription) -> String {
    let st = &s.state;
    let mut out = String::new();
    line(&mut out, "Name:", &s.name);
    line(&mut out, "Namespace:", &s.namespace);
    line(&mut out, "Kind:", "VolumeSnapshot");
    line(
        &mut out,
        "Claim:",
        &format!("pvc/{}", s.claim.as_deref().unwrap_or("-")),
    );
    line(&mut out, "Class:", s.class.as_deref().unwrap_or("-"));
    line(&mut out, "Status:", st.status_word());
    let cut = if st.cut {
        format!(
            "yes at {} (content {})",
            st.creation_time.as_deref().unwrap_or_default(),
            st.content.as_deref().unwrap_or_default()
        )
    } else {
        "no".into()
    };
    line(&mut out, "Cut:", &cut);
    let ready = if st.ready {
        format!(
            "yes, restore size {}",
            st.restore_size.as_deref().unwrap_or("-")
        )
    } else {
        "no".into()
    };
    line(&mut out, "Ready:", &ready);
    if let Some(e) = &st.error {
        line(&mut out, "Error:", e);
    }
    out
}

/// The objects as `kubectl apply -f -` takes them: one object, or a v1 List. Secret-looking
/// literal env values are redacted.
pub fn objects_values(objs: &Objects) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    let to_v = |v: serde_json::Result<Value>| v.map_err(|e| Error::Other(format!("json: {e}")));
    if let Some(pvc) = &objs.pvc {
        let mut v = to_v(serde_json::to_value(pvc))?;
        set_type(&mut v, "v1", "PersistentVolumeClaim");
        out.push(v);
    }
    if let Some(job) = &objs.job {
        let mut v = to_v(serde_json::to_value(crate::redact::redacted_job(job)))?;
        set_type(&mut v, "batch/v1", "Job");
        out.push(v);
    }
    if let Some(vs) = &objs.volume_snapshot {
        out.push(vs.clone());
    }
    Ok(out)
}

fn set_type(v: &mut Value, api_version: &str, kind: &str) {
    if let Value::Object(m) = v {
        let mut n = serde_json::Map::new();
        n.insert("apiVersion".into(), Value::String(api_version.into()));
        n.insert("kind".into(), Value::String(kind.into()));
        for (k, val) in std::mem::take(m) {
            if k != "apiVersion" && k != "kind" {
                n.insert(k, val);
            }
        }
        *m = n;
    }
}

/// `create --dry-run`'s output: YAML or JSON.
pub fn render_objects(objs: &Objects, json: bool) -> Result<String> {
    let items = objects_values(objs)?;
    let doc = if items.len() == 1 {
        items.into_iter().next().unwrap_or(Value::Null)
    } else {
        serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items})
    };
    if json {
        output::to_json(&doc)
    } else {
        output::to_yaml(&doc)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod lock_tests {
    use super::*;
    use crate::lock::{Holder, LockRow, Work};

    fn lock(detached: bool) -> LockRow {
        LockRow {
            namespace: "ns".into(),
            target: "sts/db".into(),
            lease: "kubectl-backup.sts.db".into(),
            holder: Holder::new("create", &Work::Job("db-1".into()), "alice", "laptop", 42),
            since: Some("2026-12-03T10:00:00Z".into()),
            renewed: "2026-12-03T10:00:30Z".into(),
            expires: "2026-12-03T10:01:20Z".into(),
            detached,
        }
    }

    #[test]
    fn held_locks_are_a_table_under_the_backups_and_in_json() {
        let now = "2026-12-03T10:00:40Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_second();
        let l = BackupList {
            api_version: crate::API_VERSION,
            kind: "BackupList",
            items: Vec::new(),
            locks: vec![lock(false), lock(true)],
        };
        let look = ListLook {
            now,
            ..Default::default()
        };
        let out = render_list(&l, &ListFormat::Table, &look).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>(),
            ["LOCKED", "OPERATION", "WORK", "HOLDER", "SINCE", "EXPIRES"],
            "{out}"
        );
        assert!(lines[1].contains("sts/db") && lines[1].contains("alice@laptop (pid 42)"));
        assert!(lines[1].ends_with("in 40s"), "{out}");
        assert!(lines[2].ends_with("when job/db-1 ends"), "{out}");
        // --no-headers: only backup lines, so no lock section.
        let quiet = ListLook {
            table: rows::Look {
                no_headers: true,
                ..Default::default()
            },
            ..look.clone()
        };
        assert_eq!(render_list(&l, &ListFormat::Table, &quiet).unwrap(), "");
        let v: Value =
            serde_json::from_str(&render_list(&l, &ListFormat::Json, &look).unwrap()).unwrap();
        assert_eq!(v["locks"][0]["holder"]["work"], "job/db-1");
        assert_eq!(v["locks"][1]["detached"], true);
    }
}
