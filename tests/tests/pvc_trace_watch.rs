//! `kubectl pvc-trace --watch` against the real local control plane: the changes come as the
//! API server sees them (the PV controller binding a claim, a claim's resize conditions set and
//! cleared through the status subresource), Ctrl-C ends the watch with exit 0, `--watch-only`
//! prints no initial trace, and a kind the user may not watch stays unknown, said once.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use e2e::{TestNs, plugin_search_path};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

/// A running `kubectl pvc-trace …`: its stdout lines as they come (with when they came), its
/// stderr kept whole.
struct Running {
    child: tokio::process::Child,
    lines: mpsc::UnboundedReceiver<(Instant, String)>,
    stderr: tokio::task::JoinHandle<String>,
}

impl Running {
    fn start(ns: &TestNs, kubeconfig: &std::path::Path, args: &[&str]) -> Result<Running> {
        let mut child = tokio::process::Command::new(ns.cluster.kubectl_bin())
            .args(args)
            .env("KUBECONFIG", kubeconfig)
            .env("PATH", plugin_search_path(ns.cluster))
            .env_remove("KUBECTL_PLUGINS_PATH")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting kubectl {args:?}"))?;
        let out = child.stdout.take().context("stdout")?;
        let err = child.stderr.take().context("stderr")?;
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut r = BufReader::new(out).lines();
            while let Ok(Some(l)) = r.next_line().await {
                if tx.send((Instant::now(), l)).is_err() {
                    break;
                }
            }
        });
        let stderr = tokio::spawn(async move {
            let mut s = String::new();
            let mut r = BufReader::new(err).lines();
            while let Ok(Some(l)) = r.next_line().await {
                s.push_str(&l);
                s.push('\n');
            }
            s
        });
        Ok(Running {
            child,
            lines,
            stderr,
        })
    }

    /// The next stdout line, within `t`.
    async fn line(&mut self, t: Duration) -> Result<(Instant, String)> {
        tokio::time::timeout(t, self.lines.recv())
            .await
            .map_err(|_| anyhow!("no output line in {t:?}"))?
            .ok_or_else(|| anyhow!("stdout closed"))
    }

    /// The initial `-o json` trace: lines up to the document's closing `}`.
    async fn document(&mut self, t: Duration) -> Result<Value> {
        let mut text = String::new();
        loop {
            let (_, l) = self.line(t).await?;
            text.push_str(&l);
            text.push('\n');
            if l == "}" {
                return serde_json::from_str(&text).with_context(|| format!("not JSON:\n{text}"));
            }
        }
    }

    /// The next JSON event for which `want` holds (events before it are returned too), within
    /// `t`.
    async fn event(
        &mut self,
        t: Duration,
        want: impl Fn(&Value) -> bool,
    ) -> Result<(Instant, Value, Vec<Value>)> {
        let deadline = tokio::time::Instant::now() + t;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let (at, l) = self
                .line(left)
                .await
                .with_context(|| format!("waiting for an event; seen: {seen:#?}"))?;
            let v: Value =
                serde_json::from_str(&l).with_context(|| format!("not a JSON line: {l}"))?;
            if want(&v) {
                return Ok((at, v, seen));
            }
            seen.push(v);
        }
    }

    /// SIGINT (Ctrl-C) and the exit code, with stderr.
    async fn interrupt(mut self) -> Result<(i32, String)> {
        let pid = self.child.id().context("the watch already ended")?;
        let kill = std::process::Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()?;
        if !kill.success() {
            bail!("kill -INT {pid} failed");
        }
        let status = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .map_err(|_| anyhow!("the watch did not end within 10 s of SIGINT"))??;
        let stderr = self.stderr.await.unwrap_or_default();
        Ok((status.code().unwrap_or(-1), stderr))
    }
}

fn is(v: &Value, type_: &str, name: &str) -> bool {
    v["type"] == type_ && v["object"]["name"] == name
}

fn static_claim(name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "",
                 "resources": {"requests": {"storage": "1Gi"}}},
    })
}

/// A volume for `claim` only (its claimRef, with the claim's uid: other tests' static claims
/// may fit it too, and the PV controller then syncs the claim at once rather than at its next
/// periodic pass); the PV controller still does the binding.
fn static_volume(ns: &TestNs, name: &str, claim: &str, uid: &str) -> Result<PersistentVolume> {
    Ok(serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": name, "labels": ns.owner_labels()},
        "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                 "storageClassName": "", "persistentVolumeReclaimPolicy": "Retain",
                 "claimRef": {"namespace": ns.name, "name": claim, "uid": uid},
                 "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": format!("vol-{name}")}},
    }))?)
}

/// When the API server first says the claim is Bound, as a watch of its own sees it; returns
/// once that watch has seen the claim not Bound yet.
async fn when_bound(ns: &TestNs, claim: &str) -> Result<tokio::task::JoinHandle<Result<Instant>>> {
    let api = ns.api::<PersistentVolumeClaim>();
    let cfg = watcher::Config::default().fields(&format!("metadata.name={claim}"));
    let (started, ready) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let mut started = Some(started);
        let mut s = std::pin::pin!(watcher(api, cfg).applied_objects());
        while let Some(c) = s.next().await {
            if c?.status.and_then(|s| s.phase).as_deref() == Some("Bound") {
                return Ok(Instant::now());
            }
            if let Some(tx) = started.take() {
                let _ = tx.send(());
            }
        }
        bail!("the claim watch ended")
    });
    tokio::time::timeout(T, ready)
        .await
        .map_err(|_| anyhow!("the test's own claim watch did not start"))??;
    Ok(task)
}

const T: Duration = Duration::from_secs(60);

#[tokio::test]
async fn watch_shows_a_pending_claim_bind_within_a_second_and_resize_conditions_come_and_go()
-> Result<()> {
    let ns = TestNs::new("pvc-trace-watch").await?;
    let claim = ns.apply(static_claim("data")).await?;
    let uid = claim.metadata.uid.context("the claim's uid")?;
    let target = "pvc/data";
    let mut w = Running::start(
        &ns,
        &ns.kubeconfig,
        &["pvc-trace", target, "-w", "-o", "json"],
    )?;
    // The trace first, as without --watch.
    let doc = w.document(T).await?;
    assert_eq!(doc["kind"], "PvcTrace", "{doc:#}");
    assert_eq!(doc["roots"][0]["phase"], "Pending", "{doc:#}");

    // A matching volume: the PV controller binds them.
    let bound_seen = when_bound(&ns, "data").await?;
    let pv_name = format!("{}-pv", ns.name);
    let pvs = ns.api_all::<PersistentVolume>();
    pvs.create(
        &PostParams::default(),
        &static_volume(&ns, &pv_name, "data", &uid)?,
    )
    .await?;
    let created = Instant::now();
    let (line_at, ev, before) = w.event(T, |v| is(v, "Bound", "data")).await?;
    let api_bound = bound_seen.await??;
    assert_eq!(ev["to"], pv_name.as_str(), "{ev:#}");
    assert!(ev["from"].is_null(), "{ev:#}");
    assert_eq!(ev["object"]["kind"], "PersistentVolumeClaim");
    assert_eq!(ev["object"]["namespace"], ns.name.as_str());
    for k in ["time", "type", "object", "from", "to", "message"] {
        assert!(ev.get(k).is_some(), "{k} missing: {ev:#}");
    }
    let lag = line_at.saturating_duration_since(api_bound);
    eprintln!(
        "Bound line: {:?} after the PV's create returned, {lag:?} after the test's own watch saw the claim Bound",
        line_at.duration_since(created)
    );
    assert!(
        lag < Duration::from_secs(1),
        "the Bound line came {lag:?} after the API change"
    );
    // The pre-bound volume is bound by the PV controller at once: the whole chain (create,
    // controller, watch, analysis, line) within a second too.
    let total = line_at.duration_since(created);
    assert!(
        total < Duration::from_secs(1),
        "the Bound line came {total:?} after the PV's create returned"
    );
    // The phase change came with it (same analysis, claims first).
    assert!(
        before
            .iter()
            .any(|v| is(v, "ClaimPhase", "data") && v["from"] == "Pending" && v["to"] == "Bound"),
        "{before:#?}"
    );

    // A resize waiting for the node: conditions set through the status subresource.
    let claims = ns.api::<PersistentVolumeClaim>();
    let patched = Instant::now();
    claims
        .patch_status(
            "data",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"conditions": [{
                "type": "FileSystemResizePending", "status": "True",
                "message": "Waiting for user to (re-)start a pod to finish file system resize of volume on node.",
            }]}})),
        )
        .await?;
    let (at, ev, _) = w
        .event(T, |v| {
            is(v, "Resize", "data") && v["field"] == "condition FileSystemResizePending"
        })
        .await?;
    assert!(ev["from"].is_null() && ev["to"] == "True", "{ev:#}");
    assert!(
        ev["message"]
            .as_str()
            .is_some_and(|m| m.contains("finish file system resize")),
        "{ev:#}"
    );
    assert!(
        at.duration_since(patched) < Duration::from_secs(1),
        "{:?}",
        at.duration_since(patched)
    );
    // … and cleared.
    claims
        .patch_status(
            "data",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"conditions": null}})),
        )
        .await?;
    let (_, ev, _) = w
        .event(T, |v| {
            is(v, "Resize", "data") && v["field"] == "condition FileSystemResizePending"
        })
        .await?;
    assert!(ev["from"] == "True" && ev["to"].is_null(), "{ev:#}");

    let (code, stderr) = w.interrupt().await?;
    assert_eq!(code, 0, "Ctrl-C ends a watch with 0; stderr:\n{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
    Ok(())
}

#[tokio::test]
async fn watch_only_prints_no_initial_trace_and_human_lines_without_a_tty() -> Result<()> {
    let ns = TestNs::new("pvc-trace-watch-only").await?;
    ns.apply(static_claim("before")).await?;
    let mut w = Running::start(&ns, &ns.kubeconfig, &["pvc-trace", "--watch-only"])?;
    // Nothing is printed until something changes: create claims until one is seen (the first
    // may come before the watches' first lists, and then is part of the start, not a change).
    let mut lines = Vec::new();
    for i in 0..30 {
        ns.apply(static_claim(&format!("late-{i}"))).await?;
        while let Ok((_, l)) = w.line(Duration::from_secs(2)).await {
            lines.push(l);
        }
        if lines
            .iter()
            .any(|l| l.contains("PersistentVolumeClaim/late-"))
        {
            break;
        }
    }
    let first = lines.first().context("no change line after 30 claims")?;
    // `TIME  TYPE  OBJECT  DETAIL`: the first line is a change, not a table's header.
    let fields: Vec<&str> = first.split_whitespace().collect();
    assert!(
        fields
            .first()
            .is_some_and(|t| t.ends_with('Z') && t.contains('T')),
        "{first}"
    );
    assert!(!first.contains("CLAIM"), "no table: {first}");
    let new_claim = lines
        .iter()
        .find(|l| l.contains("PersistentVolumeClaim/late-") && l.contains("ClaimPhase"))
        .with_context(|| format!("a new claim's phase: {lines:#?}"))?;
    assert!(new_claim.contains("(none) → Pending"), "{new_claim}");
    for l in &lines {
        assert!(!l.chars().any(char::is_control), "{l:?}");
        assert!(
            l.split_whitespace()
                .next()
                .is_some_and(|t| t.ends_with('Z')),
            "every line a timestamped change: {l}"
        );
    }
    let (code, stderr) = w.interrupt().await?;
    assert_eq!(code, 0, "{stderr}");
    Ok(())
}

#[tokio::test]
async fn a_kind_the_user_may_not_watch_stays_unknown_said_once() -> Result<()> {
    let ns = TestNs::new("pvc-trace-watch-rbac").await?;
    ns.apply(static_claim("data")).await?;
    // Claims, pods and the namespaced kinds, but no cluster-scoped kind (volumes, classes,
    // attachments, nodes): their watches are forbidden.
    ns.grant_restricted(
        "watcher",
        json!([
            {"apiGroups": [""], "resources": ["persistentvolumeclaims", "pods", "events"],
             "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["apps"], "resources": ["statefulsets", "deployments", "replicasets"],
             "verbs": ["get", "list", "watch"]},
        ]),
    )
    .await?;
    let mut w = Running::start(
        &ns,
        &ns.restricted_kubeconfig,
        &["pvc-trace", "pvc/data", "-w", "-o", "json"],
    )?;
    let doc = w.document(T).await?;
    let unknown: Vec<&str> = doc["unknown"]
        .as_array()
        .map(|a| a.iter().filter_map(|g| g["resource"].as_str()).collect())
        .unwrap_or_default();
    assert!(unknown.contains(&"persistentvolumes"), "{doc:#}");
    // Unknown is not a problem of the claim: no warning or error about it (the gaps are said
    // as they are without --watch: one `Forbidden` per kind).
    let serious: Vec<&Value> = doc["diagnostics"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|d| d["severity"] == "error" || d["severity"] == "warning")
                .filter(|d| d["object"]["name"] != "*")
                .collect()
        })
        .unwrap_or_default();
    assert!(serious.is_empty(), "{serious:#?}");
    // The watch goes on: a change of what it may see still comes.
    ns.api::<PersistentVolumeClaim>()
        .patch_status(
            "data",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"status": {"conditions": [{"type": "Resizing", "status": "True"}]}}),
            ),
        )
        .await?;
    w.event(T, |v| is(v, "Resize", "data")).await?;
    let (code, stderr) = w.interrupt().await?;
    assert_eq!(
        code, 0,
        "a forbidden watch is no failure; stderr:\n{stderr}"
    );
    for r in [
        "persistentvolumes",
        "storageclasses",
        "volumeattachments",
        "nodes",
    ] {
        let said = stderr
            .lines()
            .filter(|l| l.contains(&format!("forbidden: watch {r}")))
            .count();
        assert_eq!(said, 1, "{r} said once:\n{stderr}");
    }
    Ok(())
}
