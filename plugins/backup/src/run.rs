//! The I/O side of `kubectl backup`: create the objects (after a server-side dry run, so a
//! forbidden user gets exit 4 before anything exists), wait with watches and a deadline, and
//! stream the pod's logs as they come. [`lock`]: the target's Lease (take, renew, release).

pub mod lock;

use std::collections::{HashMap, VecDeque};
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{Api, DynamicObject, LogParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};

pub mod replace;

use crate::list::pod_reason;
use crate::plan::Objects;
use crate::volsnap::SnapshotState;
use stateful_core::error::{Error, Result};
use stateful_core::kinds::Kind;

/// How a wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Succeeded(String),
    /// The reason, the pod's termination reason and the last log lines.
    Failed(String),
    TimedOut(String),
    /// Ctrl-C: we stopped waiting; the backup goes on.
    Interrupted,
}

fn snapshot_api(client: &kube::Client, ns: &str) -> Result<Api<DynamicObject>> {
    let ar = Kind::VolumeSnapshot
        .dynamic_resource()
        .ok_or_else(|| Error::Other("no API resource for VolumeSnapshot".into()))?;
    Ok(Api::namespaced_with(client.clone(), ns, &ar))
}

/// Create the objects: every one through a server-side dry run first (RBAC, admission, name
/// clashes), then for real.
pub async fn create(client: &kube::Client, ns: &str, objs: &Objects) -> Result<()> {
    create_pass(client, ns, objs, true).await?;
    create_pass(client, ns, objs, false).await
}

/// Only the real creation, for a caller that ran [`create_dry_run`] first and took the lock in
/// between.
pub async fn create_checked(client: &kube::Client, ns: &str, objs: &Objects) -> Result<()> {
    create_pass(client, ns, objs, false).await
}

/// Only the server-side dry run (`--dry-run=server`, and before the lock is taken).
pub async fn create_dry_run(client: &kube::Client, ns: &str, objs: &Objects) -> Result<()> {
    create_pass(client, ns, objs, true).await
}

async fn create_pass(client: &kube::Client, ns: &str, objs: &Objects, dry_run: bool) -> Result<()> {
    {
        let pp = PostParams {
            dry_run,
            field_manager: Some("kubectl-backup".into()),
        };
        if let Some(pvc) = &objs.pvc {
            let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
            api.create(&pp, pvc).await.map_err(|e| {
                Error::from_kube(e, "create", "persistentvolumeclaims", Some(ns), None)
            })?;
        }
        if let Some(job) = &objs.job {
            let api: Api<Job> = Api::namespaced(client.clone(), ns);
            api.create(&pp, job)
                .await
                .map_err(|e| create_err(e, "jobs.batch", ns))?;
        }
        if let Some(vs) = &objs.volume_snapshot {
            let api = snapshot_api(client, ns)?;
            let obj: DynamicObject = serde_json::from_value(vs.clone())
                .map_err(|e| Error::Other(format!("volumesnapshot: {e}")))?;
            api.create(&pp, &obj)
                .await
                .map_err(|e| create_err(e, "volumesnapshots.snapshot.storage.k8s.io", ns))?;
        }
    }
    Ok(())
}

fn create_err(e: kube::Error, resource: &str, ns: &str) -> Error {
    if let kube::Error::Api(s) = &e {
        if s.code == 409 {
            return Error::Usage(format!(
                "{resource} already exists: {} (pass another --name)",
                s.message
            ));
        }
        if s.code == 404 && resource.contains("snapshot") {
            return Error::Failed(
                "the snapshot API (snapshot.storage.k8s.io/v1) is not served".into(),
            );
        }
    }
    Error::from_kube(e, "create", resource, Some(ns), None)
}

fn watch_err(e: watcher::Error, resource: &str, ns: &str) -> Option<Error> {
    match e {
        watcher::Error::InitialListFailed(k) | watcher::Error::WatchStartFailed(k) => match &k {
            kube::Error::Api(s) if s.code == 403 => {
                Some(Error::from_kube(k, "watch", resource, Some(ns), None))
            }
            _ => None,
        },
        _ => None,
    }
}

type Tail = Arc<Mutex<VecDeque<String>>>;
const TAIL: usize = 20;

fn push_tail(tail: &Tail, line: String) {
    if let Ok(mut t) = tail.lock() {
        if t.len() == TAIL {
            t.pop_front();
        }
        t.push_back(line);
    }
}

/// What a wait reports while it goes on. The binary decides where it goes (stderr, a spinner):
/// the library never writes to the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress<'a> {
    /// A change of state ("pod x: scheduled on node-a, starting").
    Status(&'a str),
    /// One line of the backup pod's log.
    Log(&'a str),
}

/// The progress callback: shared with the log-streaming tasks.
pub type OnProgress = Arc<dyn Fn(Progress<'_>) + Send + Sync>;

/// Follow a pod's logs, each line to `on` (and into `tail`), until the container ends.
async fn stream_logs(api: Api<Pod>, pod: String, on: OnProgress, tail: Tail) {
    let lp = LogParams {
        follow: true,
        ..Default::default()
    };
    match api.log_stream(&pod, &lp).await {
        Ok(stream) => {
            let mut lines = pin!(stream.lines());
            while let Some(Ok(line)) = lines.next().await {
                on(Progress::Log(&line));
                push_tail(&tail, line);
            }
        }
        Err(e) => on(Progress::Status(&format!(
            "cannot stream logs of pod {pod}: {e}"
        ))),
    }
}

/// One line about a pod's progress: phase, scheduling, image pull.
fn pod_progress(p: &Pod) -> String {
    let name = p.metadata.name.as_deref().unwrap_or("");
    let st = p.status.as_ref();
    let phase = st.and_then(|s| s.phase.as_deref()).unwrap_or("Pending");
    if let Some(c) = st.and_then(|s| s.conditions.as_ref()).and_then(|cs| {
        cs.iter()
            .find(|c| c.type_ == "PodScheduled" && c.status == "False")
    }) {
        return format!(
            "pod {name}: not scheduled: {} {}",
            c.reason.as_deref().unwrap_or(""),
            c.message.as_deref().unwrap_or("")
        );
    }
    for cs in st
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
    {
        if let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) {
            let r = w.reason.as_deref().unwrap_or("Waiting");
            let what = match r {
                "ContainerCreating" => format!("pulling image {} / creating container", cs.image),
                _ => format!(
                    "{r}{}",
                    w.message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ),
            };
            return format!("pod {name}: {what}");
        }
    }
    let node = p.spec.as_ref().and_then(|s| s.node_name.as_deref());
    match (phase, node) {
        ("Pending", Some(n)) => format!("pod {name}: scheduled on {n}, starting"),
        (ph, Some(n)) => format!("pod {name}: {ph} on {n}"),
        (ph, None) => format!("pod {name}: {ph}"),
    }
}

fn container_started(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.state
                    .as_ref()
                    .is_some_and(|s| s.running.is_some() || s.terminated.is_some())
            })
        })
}

/// Wait for Job `name`: report pod progress, stream its pods' logs as they come (both through
/// `on`), and end on Complete / Failed, the deadline, or when `stop` completes (the binary's
/// Ctrl-C).
pub async fn wait_job(
    client: &kube::Client,
    ns: &str,
    name: &str,
    deadline: Duration,
    on: OnProgress,
    stop: impl std::future::Future<Output = ()>,
) -> Result<Outcome> {
    let jobs: Api<Job> = Api::namespaced(client.clone(), ns);
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let mut job_events = pin!(
        watcher(
            jobs.clone(),
            watcher::Config::default().fields(&format!("metadata.name={name}"))
        )
        .default_backoff()
        .applied_objects()
    );
    let mut pod_events = pin!(
        watcher(
            pods.clone(),
            watcher::Config::default().labels(&format!("job-name={name}"))
        )
        .default_backoff()
        .applied_objects()
    );
    let tail: Tail = Arc::default();
    let mut streams: HashMap<String, tokio::task::JoinHandle<()>> = HashMap::new();
    let mut last_progress: HashMap<String, String> = HashMap::new();
    let mut last_pod: Option<Pod> = None;
    let sleep = tokio::time::sleep(deadline);
    let mut sleep = pin!(sleep);
    let mut ctrl_c = pin!(stop);
    let mut pods_open = true;
    let finished: (bool, String) = loop {
        tokio::select! {
            _ = &mut sleep => {
                for (_, h) in streams.drain() { h.abort(); }
                return Ok(Outcome::TimedOut(format!("job {name} did not finish within {}s", deadline.as_secs())));
            }
            _ = &mut ctrl_c => {
                for (_, h) in streams.drain() { h.abort(); }
                return Ok(Outcome::Interrupted);
            }
            ev = pod_events.next(), if pods_open => match ev {
                Some(Ok(p)) => {
                    let pname = p.metadata.name.clone().unwrap_or_default();
                    let line = pod_progress(&p);
                    if last_progress.get(&pname) != Some(&line) {
                        on(Progress::Status(&line));
                        last_progress.insert(pname.clone(), line);
                    }
                    if container_started(&p) && !streams.contains_key(&pname) {
                        let h = tokio::spawn(stream_logs(pods.clone(), pname.clone(), on.clone(), tail.clone()));
                        streams.insert(pname, h);
                    }
                    last_pod = Some(p);
                }
                Some(Err(e)) => { if let Some(err) = watch_err(e, "pods", ns) { return Err(err); } }
                None => pods_open = false,
            },
            ev = job_events.next() => match ev {
                Some(Ok(j)) => {
                    if let Some(ok) = crate::cronjob::job_finished(&j) {
                        let cond = j.status.as_ref().and_then(|s| s.conditions.as_ref()).and_then(|cs| {
                            cs.iter().find(|c| c.status == "True" && (c.type_ == "Complete" || c.type_ == "Failed"))
                        });
                        let why = cond.map(|c| format!("{} {}", c.reason.as_deref().unwrap_or(""), c.message.as_deref().unwrap_or("")).trim().to_string()).unwrap_or_default();
                        break (ok, why);
                    }
                }
                Some(Err(e)) => { if let Some(err) = watch_err(e, "jobs.batch", ns) { return Err(err); } }
                None => return Err(Error::Other("the job watch ended".into())),
            },
        }
    };
    let streamed = !streams.is_empty();
    // Let the log streams drain (they end with the container), briefly.
    for (_, h) in streams.drain() {
        let abort = h.abort_handle();
        if tokio::time::timeout(Duration::from_secs(3), h)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
    let (ok, why) = finished;
    if ok {
        // Finished before we saw its container start (fast pods): print its logs once.
        if !streamed
            && let Some(p) = latest_pod(&pods, name).await
            && let Ok(text) = pods
                .logs(
                    p.metadata.name.as_deref().unwrap_or(""),
                    &LogParams::default(),
                )
                .await
        {
            for l in text.lines() {
                on(Progress::Log(l));
            }
        }
        return Ok(Outcome::Succeeded(format!("job {name} succeeded")));
    }
    // Failed: the pod's termination reason and the last log lines.
    let mut msg = format!("job {name} failed");
    if !why.is_empty() {
        msg.push_str(&format!(": {why}"));
    }
    let latest = latest_pod(&pods, name).await.or(last_pod);
    if let Some(p) = &latest
        && let Some(r) = pod_reason(p)
    {
        msg.push_str(&format!(
            "\n  pod {}: {r}",
            p.metadata.name.as_deref().unwrap_or("")
        ));
    }
    let mut lines: Vec<String> = tail
        .lock()
        .map(|t| t.iter().cloned().collect())
        .unwrap_or_default();
    if lines.is_empty()
        && let Some(p) = &latest
    {
        let lp = LogParams {
            tail_lines: Some(TAIL as i64),
            ..Default::default()
        };
        if let Ok(text) = pods
            .logs(p.metadata.name.as_deref().unwrap_or(""), &lp)
            .await
        {
            lines = text.lines().map(str::to_string).collect();
        }
    }
    if !lines.is_empty() {
        msg.push_str("\n  last log lines:");
        for l in lines {
            msg.push_str(&format!("\n    {l}"));
        }
    }
    Ok(Outcome::Failed(msg))
}

async fn latest_pod(pods: &Api<Pod>, job: &str) -> Option<Pod> {
    let lp = kube::api::ListParams::default().labels(&format!("job-name={job}"));
    let list = pods.list(&lp).await.ok()?;
    list.items
        .into_iter()
        .max_by_key(|p| p.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

/// Wait for a VolumeSnapshot: report "cut" and "ready" separately, surface `status.error` as
/// it comes (the snapshotter retries; we keep waiting until the deadline).
pub async fn wait_snapshot(
    client: &kube::Client,
    ns: &str,
    name: &str,
    deadline: Duration,
    on: OnProgress,
    stop: impl std::future::Future<Output = ()>,
) -> Result<Outcome> {
    let api = snapshot_api(client, ns)?;
    let mut events = pin!(
        watcher(
            api,
            watcher::Config::default().fields(&format!("metadata.name={name}"))
        )
        .default_backoff()
        .applied_objects()
    );
    let sleep = tokio::time::sleep(deadline);
    let mut sleep = pin!(sleep);
    let mut ctrl_c = pin!(stop);
    let mut said_cut = false;
    let mut last_error: Option<String> = None;
    loop {
        tokio::select! {
            _ = &mut sleep => {
                let mut m = format!("volumesnapshot {name} not ready within {}s", deadline.as_secs());
                if let Some(e) = last_error { m.push_str(&format!(" (last error: {e})")); }
                return Ok(Outcome::TimedOut(m));
            }
            _ = &mut ctrl_c => return Ok(Outcome::Interrupted),
            ev = events.next() => match ev {
                Some(Ok(obj)) => {
                    let v = serde_json::to_value(&obj).unwrap_or_default();
                    let st = SnapshotState::of(&v);
                    if st.error != last_error {
                        if let Some(e) = &st.error { on(Progress::Status(&format!("volumesnapshot {name}: error (the snapshotter retries): {e}"))); }
                        last_error = st.error.clone();
                    }
                    if st.cut && !said_cut {
                        on(Progress::Status(&format!("volumesnapshot {name}: cut at {} (content {})", st.creation_time.as_deref().unwrap_or(""), st.content.as_deref().unwrap_or(""))));
                        said_cut = true;
                    }
                    if st.ready {
                        return Ok(Outcome::Succeeded(format!("volumesnapshot {name} ready (restore size {})", st.restore_size.as_deref().unwrap_or("-"))));
                    }
                }
                Some(Err(e)) => { if let Some(err) = watch_err(e, "volumesnapshots", ns) { return Err(err); } }
                None => return Err(Error::Other("the volumesnapshot watch ended".into())),
            },
        }
    }
}

/// `logs NAME [-f]`: the logs of the Job's newest pod (following them with `-f`), line by
/// line to `out` (a closed pipe ends quietly); pod progress while waiting goes to `on`.
pub async fn job_logs(
    client: &kube::Client,
    ns: &str,
    name: &str,
    follow: bool,
    out: &mut dyn std::io::Write,
    on: OnProgress,
) -> Result<()> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let jobs: Api<Job> = Api::namespaced(client.clone(), ns);
    jobs.get(name)
        .await
        .map_err(|e| Error::from_kube(e, "get", "jobs.batch", Some(ns), Some(name)))?;
    let pod = if follow {
        // Wait (by watch) for a pod whose container has started.
        let cfg = watcher::Config::default().labels(&format!("job-name={name}"));
        let mut ev = pin!(
            watcher(pods.clone(), cfg)
                .default_backoff()
                .applied_objects()
        );
        loop {
            match ev.try_next().await {
                Ok(Some(p)) if container_started(&p) => break p,
                Ok(Some(p)) => on(Progress::Status(&pod_progress(&p))),
                Ok(None) => return Err(Error::Other("the pod watch ended".into())),
                Err(e) => {
                    if let Some(err) = watch_err(e, "pods", ns) {
                        return Err(err);
                    }
                }
            }
        }
    } else {
        latest_pod(&pods, name)
            .await
            .ok_or_else(|| Error::not_found("pod of job", name, Some(ns)))?
    };
    let pname = pod.metadata.name.clone().unwrap_or_default();
    let lp = LogParams {
        follow,
        ..Default::default()
    };
    let stream = pods
        .log_stream(&pname, &lp)
        .await
        .map_err(|e| Error::from_kube(e, "get", "pods/log", Some(ns), Some(&pname)))?;
    let mut lines = pin!(stream.lines());
    while let Some(line) = lines.next().await {
        match line {
            Ok(l) => stateful_core::output::write_text(out, &format!("{l}\n"))?,
            Err(e) => return Err(Error::Other(format!("reading logs: {e}"))),
        }
    }
    Ok(())
}

/// The whole log of Job `name`'s newest pod (`None` when it has no pod or its log cannot be
/// read: the caller says so).
pub async fn job_log_text(client: &kube::Client, ns: &str, name: &str) -> Option<String> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let p = latest_pod(&pods, name).await?;
    pods.logs(p.metadata.name.as_deref()?, &LogParams::default())
        .await
        .ok()
}

/// Set one annotation on Job `name` (a JSON merge patch).
pub async fn annotate_job(
    client: &kube::Client,
    ns: &str,
    name: &str,
    key: &str,
    value: &str,
) -> Result<()> {
    let jobs: Api<Job> = Api::namespaced(client.clone(), ns);
    let patch = serde_json::json!({"metadata": {"annotations": {key: value}}});
    jobs.patch(
        name,
        &kube::api::PatchParams {
            field_manager: Some("kubectl-backup".into()),
            ..Default::default()
        },
        &kube::api::Patch::Merge(&patch),
    )
    .await
    .map(|_| ())
    .map_err(|e| Error::from_kube(e, "patch", "jobs.batch", Some(ns), Some(name)))
}
