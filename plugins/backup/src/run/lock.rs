//! The lock's I/O: take a target's Lease ([`acquire`]), renew it in a background task, release
//! or detach it ([`LockGuard`]), see who holds it ([`holder`]) and list held locks
//! ([`list_leases`]). What a Lease means is [`crate::lock`]'s (pure).
//!
//! Races: a Lease is created (two creators: one gets AlreadyExists and assesses again) or
//! replaced with the resourceVersion it was read at (two takers: one gets Conflict and assesses
//! again); release deletes with that resourceVersion as a precondition, so a run never deletes a
//! Lease someone else has taken over.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PostParams, Preconditions};

use crate::Target;
use crate::lock::{
    self, Assessment, DEFAULT_LEASE_SECONDS, HeldLock, Holder, Work, WorkState, lease_name,
};
use crate::volsnap::SnapshotState;
use stateful_core::error::{Error, Result};

/// The Lease duration in seconds: [`DEFAULT_LEASE_SECONDS`], or this variable (1 to 3600; for
/// tests, so that an expiry does not take a minute).
pub const LEASE_SECONDS_ENV: &str = "KUBECTL_STATEFUL_LEASE_SECONDS";

const RESOURCE: &str = "leases.coordination.k8s.io";
const MANAGER: &str = "kubectl-backup";
/// How often a Conflict or AlreadyExists makes `acquire` look again before it gives up.
const ATTEMPTS: usize = 5;

fn lease_seconds() -> Result<i64> {
    match std::env::var(LEASE_SECONDS_ENV) {
        Err(_) => Ok(DEFAULT_LEASE_SECONDS),
        Ok(v) => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|s| (1..=3600).contains(s))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "{LEASE_SECONDS_ENV}={v:?}: expected whole seconds from 1 to 3600"
                ))
            }),
    }
}

/// The name of this process's user from /etc/passwd (no `USER` in its environment: cron, CI,
/// containers), else `uid N`.
fn passwd_user() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let name = passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)? == uid).then(|| name.to_string())
    });
    Some(name.unwrap_or_else(|| format!("uid {uid}")))
}

/// The local user and host named as a lock's holder.
fn whoami() -> (String, String) {
    let user = ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .or_else(passwd_user)
        .unwrap_or_else(|| "unknown".into());
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into());
    (user, host)
}

fn lease_err(e: kube::Error, verb: &str, ns: &str) -> Error {
    Error::from_kube(e, verb, RESOURCE, Some(ns), None)
}

fn is_status(e: &kube::Error, code: u16) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == code)
}

fn pp() -> PostParams {
    PostParams {
        dry_run: false,
        field_manager: Some(MANAGER.into()),
    }
}

/// Where a detached hold's work stands, read from the cluster. What cannot be read counts as
/// running: a lock is never taken on a guess.
async fn work_state(client: &kube::Client, ns: &str, work: &Work) -> WorkState {
    match work {
        Work::Job(name) => {
            let api: Api<Job> = Api::namespaced(client.clone(), ns);
            match api.get_opt(name).await {
                Ok(Some(j)) => lock::work_state(work, ns, &[j], &[]),
                Ok(None) => WorkState::Gone,
                Err(_) => WorkState::Running,
            }
        }
        Work::VolumeSnapshot(name) => {
            let Some(ar) = stateful_core::kinds::Kind::VolumeSnapshot.dynamic_resource() else {
                return WorkState::Running;
            };
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
            match api.get_opt(name).await {
                Ok(Some(o)) => {
                    let v = serde_json::to_value(&o).unwrap_or_default();
                    if SnapshotState::of(&v).ready {
                        WorkState::Finished
                    } else {
                        WorkState::Running
                    }
                }
                Ok(None) => WorkState::Gone,
                Err(_) => WorkState::Running,
            }
        }
    }
}

/// What the Lease of `target` says now, a detached hold settled by its work.
async fn assess_live(
    client: &kube::Client,
    ns: &str,
    lease: Option<&Lease>,
    me: &str,
) -> Assessment {
    let a = lock::assess(lease, me, jiff::Timestamp::now());
    match &a {
        Assessment::Held(h) if h.detached => match h.work() {
            Some(w) => lock::settle(a.clone(), work_state(client, ns, &w).await),
            None => a,
        },
        _ => a,
    }
}

/// Who holds the lock of `target` now, if anyone (for `--dry-run`).
pub async fn holder(client: &kube::Client, ns: &str, target: &Target) -> Result<Option<HeldLock>> {
    let api: Api<Lease> = Api::namespaced(client.clone(), ns);
    let existing = api
        .get_opt(&lease_name(target))
        .await
        .map_err(|e| lease_err(e, "get", ns))?;
    Ok(match assess_live(client, ns, existing.as_ref(), "").await {
        Assessment::Held(h) => Some(h),
        _ => None,
    })
}

/// Our Leases (locks, held or not) in `ns`, or in every namespace.
pub async fn list_leases(client: &kube::Client, ns: Option<&str>) -> Result<Vec<Lease>> {
    let api: Api<Lease> = match ns {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let lp = ListParams::default().labels(&lock::selector());
    Ok(api
        .list(&lp)
        .await
        .map_err(|e| Error::from_kube(e, "list", RESOURCE, ns, None))?
        .items)
}

/// Take the lock of `target` in `ns` for `operation` (`create`, `restore`…) carried on by
/// `work` (the Job or VolumeSnapshot the run creates next). A lock someone holds is refused
/// (exit 5, naming holder and since when) unless `force`, which takes it over; an expired one,
/// or a detached one whose work has finished, is taken over. Forbidden calls are exit 4 naming
/// verb, resource and namespace; nothing is created then. The lock is renewed in the background
/// until [`LockGuard::release`] or [`LockGuard::detach`].
pub async fn acquire(
    client: &kube::Client,
    ns: &str,
    target: &Target,
    operation: &str,
    work: &Work,
    force: bool,
) -> Result<LockGuard> {
    let secs = lease_seconds()?;
    let (user, host) = whoami();
    let holder = Holder::new(operation, work, &user, &host, std::process::id());
    let me = holder.identity();
    let api: Api<Lease> = Api::namespaced(client.clone(), ns);
    let name = lease_name(target);
    for _ in 0..ATTEMPTS {
        let existing = api
            .get_opt(&name)
            .await
            .map_err(|e| lease_err(e, "get", ns))?;
        let a = assess_live(client, ns, existing.as_ref(), &me).await;
        let now = jiff::Timestamp::now();
        let Some(old) = existing else {
            match api
                .create(&pp(), &lock::new_lease(target, ns, &holder, secs, now))
                .await
            {
                Ok(l) => return Ok(LockGuard::start(api, l, me, secs, None)),
                Err(e) if is_status(&e, 409) => continue,
                Err(e) => return Err(lease_err(e, "create", ns)),
            }
        };
        let notice = match a {
            Assessment::Held(h) if !force => return Err(lock::refusal(target, &name, &h, now)),
            Assessment::Held(h) => Some(format!(
                "taking over the lock of {} (--force) from {}",
                target.display(),
                lock::held_text(&h, now)
            )),
            Assessment::Expired { holder, why } => Some(format!(
                "taking over the lock of {} from {} ({why})",
                target.display(),
                holder.describe()
            )),
            Assessment::Free | Assessment::Mine => None,
        };
        match api
            .replace(
                &name,
                &pp(),
                &lock::take_over(&old, target, &holder, secs, now),
            )
            .await
        {
            Ok(l) => return Ok(LockGuard::start(api, l, me, secs, notice)),
            Err(e) if is_status(&e, 409) || is_status(&e, 404) => continue,
            Err(e) => return Err(lease_err(e, "update", ns)),
        }
    }
    Err(Error::Failed(format!(
        "could not take the lock of {} (lease {name}): it changed {ATTEMPTS} times while being taken; try again",
        target.display()
    )))
}

/// A held lock: renewed in the background until released or detached. Dropped without either,
/// it stops renewing and the Lease expires.
pub struct LockGuard {
    api: Api<Lease>,
    name: String,
    me: String,
    current: Arc<Mutex<Lease>>,
    lost: Arc<Mutex<Option<String>>>,
    renewer: Option<tokio::task::JoinHandle<()>>,
    /// What was taken over (an expired lock, a finished run's, or a forced one), to tell.
    pub notice: Option<String>,
}

impl LockGuard {
    fn start(api: Api<Lease>, l: Lease, me: String, secs: i64, notice: Option<String>) -> Self {
        let name = l.metadata.name.clone().unwrap_or_default();
        let current = Arc::new(Mutex::new(l));
        let lost: Arc<Mutex<Option<String>>> = Arc::default();
        let period = Duration::from_millis(u64::try_from(secs).unwrap_or(1).max(1) * 1000 / 3);
        let renewer = tokio::spawn(renew(
            api.clone(),
            name.clone(),
            me.clone(),
            current.clone(),
            lost.clone(),
            period,
        ));
        LockGuard {
            api,
            name,
            me,
            current,
            lost,
            renewer: Some(renewer),
            notice,
        }
    }

    /// The Lease's name.
    pub fn lease(&self) -> &str {
        &self.name
    }

    /// Why the lock is no longer ours (taken over with --force, deleted), if it is not.
    pub fn lost(&self) -> Option<String> {
        self.lost.lock().ok().and_then(|l| l.clone())
    }

    fn stop(&mut self) {
        if let Some(h) = self.renewer.take() {
            h.abort();
        }
    }

    fn ours(&self) -> Lease {
        self.current.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The Lease as it is now, if it is still ours (after a Conflict: a renewal that raced
    /// with stopping may have changed its resourceVersion).
    async fn reread(&self) -> Result<Option<Lease>> {
        let ns = self.ours().metadata.namespace.unwrap_or_default();
        let l = self
            .api
            .get_opt(&self.name)
            .await
            .map_err(|e| lease_err(e, "get", &ns))?;
        Ok(l.filter(|l| {
            l.spec.as_ref().and_then(|s| s.holder_identity.as_deref()) == Some(self.me.as_str())
        }))
    }

    /// `call` on our Lease (`verb` for errors); after a Conflict, again on the Lease as it is
    /// now while it is still ours. Done when it succeeds, the Lease is gone or someone else's.
    async fn while_ours<F, Fut>(&self, verb: &str, call: F) -> Result<()>
    where
        F: Fn(Lease) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<(), kube::Error>>,
    {
        let mut l = self.ours();
        let ns = l.metadata.namespace.clone().unwrap_or_default();
        for _ in 0..ATTEMPTS {
            match call(l).await {
                Ok(()) => return Ok(()),
                Err(e) if is_status(&e, 404) => return Ok(()),
                Err(e) if is_status(&e, 409) => match self.reread().await? {
                    Some(fresh) => l = fresh,
                    None => return Ok(()),
                },
                Err(e) => return Err(lease_err(e, verb, &ns)),
            }
        }
        Ok(())
    }

    /// Release the lock: delete the Lease if it is still ours (its resourceVersion as the
    /// precondition).
    pub async fn release(mut self) -> Result<()> {
        self.stop();
        let (api, name) = (&self.api, self.name.as_str());
        self.while_ours("delete", |l| async move {
            let dp = DeleteParams {
                preconditions: Some(Preconditions {
                    resource_version: l.metadata.resource_version,
                    uid: l.metadata.uid,
                }),
                ..Default::default()
            };
            api.delete(name, &dp).await.map(|_| ())
        })
        .await
    }

    /// Leave the lock to the work: stop renewing; the Lease lasts `deadline` from now and ends
    /// early once its Job or VolumeSnapshot has finished or is gone (for `--no-wait` and
    /// Ctrl-C, when the CLI stops waiting and the backup goes on).
    pub async fn detach(mut self, deadline: Duration) -> Result<()> {
        self.stop();
        let secs = i64::try_from(deadline.as_secs()).unwrap_or(i64::MAX);
        let (api, name) = (&self.api, self.name.as_str());
        self.while_ours("update", |l| async move {
            let next = lock::detached(&l, secs, jiff::Timestamp::now());
            api.replace(name, &pp(), &next).await.map(|_| ())
        })
        .await
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Renew every `period` until aborted; a Lease someone else now holds (or deleted) is lost, and
/// renewing stops. Transient errors are retried at the next period (the Lease outlives two).
async fn renew(
    api: Api<Lease>,
    name: String,
    me: String,
    current: Arc<Mutex<Lease>>,
    lost: Arc<Mutex<Option<String>>>,
    period: Duration,
) {
    let set_lost = |why: String| {
        if let Ok(mut l) = lost.lock() {
            *l = Some(why);
        }
    };
    loop {
        tokio::time::sleep(period).await;
        let Ok(ours) = current.lock().map(|l| l.clone()) else {
            return;
        };
        match api
            .replace(&name, &pp(), &lock::renewed(&ours, jiff::Timestamp::now()))
            .await
        {
            Ok(l) => {
                if let Ok(mut c) = current.lock() {
                    *c = l;
                }
            }
            Err(e) if is_status(&e, 404) => {
                set_lost(format!("lease {name} was deleted"));
                return;
            }
            Err(e) if is_status(&e, 409) => match api.get_opt(&name).await {
                Ok(Some(l))
                    if l.spec.as_ref().and_then(|s| s.holder_identity.as_deref())
                        == Some(me.as_str()) =>
                {
                    if let Ok(mut c) = current.lock() {
                        *c = l;
                    }
                }
                Ok(Some(l)) => {
                    set_lost(format!(
                        "lease {name} was taken over by {}",
                        Holder::of_lease(&l).describe()
                    ));
                    return;
                }
                Ok(None) => {
                    set_lost(format!("lease {name} was deleted"));
                    return;
                }
                Err(_) => {}
            },
            Err(_) => {}
        }
    }
}
