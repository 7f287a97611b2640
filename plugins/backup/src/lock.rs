//! The lock that keeps two runs off one target, as a pure model: a `coordination.k8s.io/v1`
//! Lease per target (its name, labels and holder annotations), who holds it and until when
//! ([`assess`]), the Lease objects to create, take over, renew and detach, and the rows `list`
//! shows. Pure: `now` is passed in; talking to the API server is [`crate::run::lock`]'s.
//!
//! A Lease is held while `renewTime + leaseDurationSeconds` (plus [`SKEW_SECONDS`] of clock
//! skew) has not passed. A run that waits renews it every third of its duration; a run that
//! stops waiting while its work goes on (`--no-wait`, Ctrl-C) *detaches* it: the Lease then
//! lasts the run's deadline and ends early when the Job or VolumeSnapshot it names has finished
//! or is gone ([`settle`]).

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use serde::Serialize;
use serde_json::Value;

use crate::volsnap::SnapshotState;
use crate::{LABEL_MANAGED_BY, LABEL_TARGET_KIND, LABEL_TARGET_NAME, MANAGED_BY, Target};
use stateful_core::error::Error;

/// Every lock's Lease name starts with this.
pub const LEASE_PREFIX: &str = "kubectl-backup";
/// The Lease duration of a run that waits (renewed every third of it).
pub const DEFAULT_LEASE_SECONDS: i64 = 45;
/// A Lease counts as held this long after it expires by our clock (the holder's clock may be
/// behind ours).
pub const SKEW_SECONDS: i64 = 5;

/// The target as `kind/name` (the label only holds names that fit a label value).
pub const ANNOTATION_TARGET: &str = "kubectl-stateful.io/lock-target";
pub const ANNOTATION_OPERATION: &str = "kubectl-stateful.io/lock-operation";
/// What carries the work on: `job/NAME` or `volumesnapshot/NAME`.
pub const ANNOTATION_WORK: &str = "kubectl-stateful.io/lock-work";
pub const ANNOTATION_USER: &str = "kubectl-stateful.io/lock-user";
pub const ANNOTATION_HOST: &str = "kubectl-stateful.io/lock-host";
pub const ANNOTATION_PID: &str = "kubectl-stateful.io/lock-pid";
/// `"true"` once the CLI stopped waiting and left the lock to its Job or VolumeSnapshot.
pub const ANNOTATION_DETACHED: &str = "kubectl-stateful.io/lock-detached";

/// The object doing a run's work: it names the holder and, once detached, ends the hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    Job(String),
    VolumeSnapshot(String),
}

impl Work {
    /// `job/NAME` or `volumesnapshot/NAME`.
    pub fn display(&self) -> String {
        match self {
            Work::Job(n) => format!("job/{n}"),
            Work::VolumeSnapshot(n) => format!("volumesnapshot/{n}"),
        }
    }

    pub fn parse(s: &str) -> Option<Work> {
        let (kind, name) = s.split_once('/')?;
        if name.is_empty() {
            return None;
        }
        match kind {
            "job" => Some(Work::Job(name.to_string())),
            "volumesnapshot" => Some(Work::VolumeSnapshot(name.to_string())),
            _ => None,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Work::Job(n) | Work::VolumeSnapshot(n) => n,
        }
    }
}

/// Who holds (or wants) a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Holder {
    /// `create`, `restore`…
    pub operation: String,
    /// `job/NAME` or `volumesnapshot/NAME`; empty when the Lease does not say.
    pub work: String,
    /// The local user name of the CLI that took it.
    pub user: String,
    pub host: String,
    pub pid: u32,
}

impl Holder {
    pub fn new(operation: &str, work: &Work, user: &str, host: &str, pid: u32) -> Holder {
        Holder {
            operation: operation.to_string(),
            work: work.display(),
            user: user.to_string(),
            host: host.to_string(),
            pid,
        }
    }

    /// The Lease's `holderIdentity`: unique per run (user, host, pid, work).
    pub fn identity(&self) -> String {
        format!(
            "{}@{}/{}/{}/{}",
            self.user, self.host, self.pid, self.operation, self.work
        )
    }

    /// `create of job/x by alice@laptop (pid 42)`, for messages.
    pub fn describe(&self) -> String {
        let mut s = if self.operation.is_empty() {
            "an unknown run".to_string()
        } else {
            self.operation.clone()
        };
        if !self.work.is_empty() {
            s.push_str(&format!(" of {}", self.work));
        }
        if !self.user.is_empty() || !self.host.is_empty() {
            s.push_str(&format!(" by {}@{}", self.user, self.host));
        }
        if self.pid != 0 {
            s.push_str(&format!(" (pid {})", self.pid));
        }
        s
    }

    /// The holder a Lease names: its annotations, else its bare `holderIdentity`.
    pub fn of_lease(lease: &Lease) -> Holder {
        let a = lease.metadata.annotations.as_ref();
        let get = |k: &str| a.and_then(|a| a.get(k)).cloned().unwrap_or_default();
        let identity = lease
            .spec
            .as_ref()
            .and_then(|s| s.holder_identity.clone())
            .unwrap_or_default();
        let mut h = Holder {
            operation: get(ANNOTATION_OPERATION),
            work: get(ANNOTATION_WORK),
            user: get(ANNOTATION_USER),
            host: get(ANNOTATION_HOST),
            pid: get(ANNOTATION_PID).parse().unwrap_or(0),
        };
        // Someone else's Lease (or annotations removed): say what it says.
        if h.identity() != identity {
            h = Holder {
                operation: identity,
                work: String::new(),
                user: String::new(),
                host: String::new(),
                pid: 0,
            };
        }
        h
    }
}

/// FNV-1a: a hash that stays the same across Rust versions (Lease names must not move).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The Lease name of a target: `kubectl-backup.<kind>.<name>` (a valid DNS subdomain, as the
/// target's name is); past 253 characters, cut and ended with a hash of the whole.
pub fn lease_name(target: &Target) -> String {
    let full = format!("{LEASE_PREFIX}.{}.{}", target.kind.short(), target.name);
    if full.len() <= 253 {
        return full;
    }
    let hash = format!("{:016x}", fnv1a(&full));
    let mut head: String = full.chars().take(253 - 1 - hash.len()).collect();
    while head.ends_with(['-', '.']) {
        head.pop();
    }
    format!("{head}-{hash}")
}

/// Our labels on a lock's Lease: managed-by, target kind, and the target's name when it fits a
/// label value (63 characters).
pub fn labels(target: &Target) -> BTreeMap<String, String> {
    let mut l = BTreeMap::new();
    l.insert(LABEL_MANAGED_BY.to_string(), MANAGED_BY.to_string());
    l.insert(
        LABEL_TARGET_KIND.to_string(),
        target.kind.short().to_string(),
    );
    if target.name.len() <= 63 {
        l.insert(LABEL_TARGET_NAME.to_string(), target.name.clone());
    }
    l
}

/// The label selector that finds our Leases (all of them are locks).
pub fn selector() -> String {
    format!("{LABEL_MANAGED_BY}={MANAGED_BY},{LABEL_TARGET_KIND}")
}

fn annotations(target: &Target, holder: &Holder, detached: bool) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    a.insert(ANNOTATION_TARGET.to_string(), target.display());
    a.insert(ANNOTATION_OPERATION.to_string(), holder.operation.clone());
    a.insert(ANNOTATION_WORK.to_string(), holder.work.clone());
    a.insert(ANNOTATION_USER.to_string(), holder.user.clone());
    a.insert(ANNOTATION_HOST.to_string(), holder.host.clone());
    a.insert(ANNOTATION_PID.to_string(), holder.pid.to_string());
    if detached {
        a.insert(ANNOTATION_DETACHED.to_string(), "true".to_string());
    }
    a
}

fn clamp_secs(secs: i64) -> i32 {
    i32::try_from(secs.clamp(1, i64::from(i32::MAX))).unwrap_or(i32::MAX)
}

/// A new Lease for `holder` on `target`, taken `now`.
pub fn new_lease(
    target: &Target,
    ns: &str,
    holder: &Holder,
    duration_secs: i64,
    now: jiff::Timestamp,
) -> Lease {
    Lease {
        metadata: ObjectMeta {
            name: Some(lease_name(target)),
            namespace: Some(ns.to_string()),
            labels: Some(labels(target)),
            annotations: Some(annotations(target, holder, false)),
            ..Default::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(holder.identity()),
            lease_duration_seconds: Some(clamp_secs(duration_secs)),
            acquire_time: Some(MicroTime(now)),
            renew_time: Some(MicroTime(now)),
            lease_transitions: Some(0),
            ..Default::default()
        }),
    }
}

/// `existing` taken over by `holder` (a free, expired or forced Lease): same resourceVersion, so
/// the update fails if anyone changed it since it was read.
pub fn take_over(
    existing: &Lease,
    target: &Target,
    holder: &Holder,
    duration_secs: i64,
    now: jiff::Timestamp,
) -> Lease {
    let mut l = new_lease(
        target,
        existing.metadata.namespace.as_deref().unwrap_or_default(),
        holder,
        duration_secs,
        now,
    );
    l.metadata.resource_version = existing.metadata.resource_version.clone();
    l.metadata.uid = existing.metadata.uid.clone();
    let transitions = existing
        .spec
        .as_ref()
        .and_then(|s| s.lease_transitions)
        .unwrap_or(0);
    if let Some(s) = l.spec.as_mut() {
        s.lease_transitions = Some(transitions.saturating_add(1));
    }
    l
}

/// `ours` renewed `now` (its resourceVersion kept as the precondition).
pub fn renewed(ours: &Lease, now: jiff::Timestamp) -> Lease {
    let mut l = ours.clone();
    if let Some(s) = l.spec.as_mut() {
        s.renew_time = Some(MicroTime(now));
    }
    l
}

/// `ours` left to its work: it lasts `duration_secs` from `now` (the run's deadline) and is
/// marked detached, so that a later run treats it as free once the work has finished.
pub fn detached(ours: &Lease, duration_secs: i64, now: jiff::Timestamp) -> Lease {
    let mut l = renewed(ours, now);
    if let Some(s) = l.spec.as_mut() {
        s.lease_duration_seconds = Some(clamp_secs(duration_secs));
    }
    l.metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(ANNOTATION_DETACHED.to_string(), "true".to_string());
    l
}

/// A lock someone holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldLock {
    pub holder: Holder,
    /// When it was taken (`acquireTime`), when known.
    pub since: Option<jiff::Timestamp>,
    /// Last renewal (`renewTime`, else `acquireTime`, else the Lease's creation).
    pub renewed: jiff::Timestamp,
    /// When it ends unless renewed (skew allowance included).
    pub expires: jiff::Timestamp,
    /// Left to its Job or VolumeSnapshot by a CLI that stopped waiting.
    pub detached: bool,
}

impl HeldLock {
    /// The work a detached hold waits for.
    pub fn work(&self) -> Option<Work> {
        Work::parse(&self.holder.work)
    }
}

/// What a Lease says about a target's lock, now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assessment {
    /// No Lease, or one with no holder (released).
    Free,
    /// Held by this very holder (the same identity).
    Mine,
    /// Held once, not any more: `why` says since when, or that its work has finished.
    Expired {
        holder: Holder,
        why: String,
    },
    Held(HeldLock),
}

/// Who holds the Lease `lease` (if any) at `now`; `me` is our own `holderIdentity`.
/// A Lease without times counts from its creation; without a duration, the default one; a
/// renewal time in the future (the holder's clock ahead of ours) counts as now.
pub fn assess(lease: Option<&Lease>, me: &str, now: jiff::Timestamp) -> Assessment {
    let Some(lease) = lease else {
        return Assessment::Free;
    };
    let spec = lease.spec.clone().unwrap_or_default();
    let identity = spec.holder_identity.clone().unwrap_or_default();
    if identity.trim().is_empty() {
        return Assessment::Free;
    }
    if identity == me {
        return Assessment::Mine;
    }
    let holder = Holder::of_lease(lease);
    let since = spec.acquire_time.as_ref().map(|t| t.0);
    let renewed = spec
        .renew_time
        .as_ref()
        .map(|t| t.0)
        .or(since)
        .or_else(|| lease.metadata.creation_timestamp.as_ref().map(|t| t.0))
        .unwrap_or(now)
        .min(now);
    let duration = spec
        .lease_duration_seconds
        .map(i64::from)
        .filter(|d| *d > 0)
        .unwrap_or(DEFAULT_LEASE_SECONDS);
    let expires = renewed
        .checked_add(jiff::SignedDuration::from_secs(duration + SKEW_SECONDS))
        .unwrap_or(jiff::Timestamp::MAX);
    if expires <= now {
        let ago = now.duration_since(expires).as_secs();
        return Assessment::Expired {
            holder,
            why: format!("expired {ago}s ago"),
        };
    }
    let detached = lease
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ANNOTATION_DETACHED))
        .is_some_and(|v| v == "true");
    Assessment::Held(HeldLock {
        holder,
        since,
        renewed,
        expires,
        detached,
    })
}

/// Where a detached hold's work stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkState {
    /// Still going (or not known to have ended).
    Running,
    Finished,
    /// Deleted (or never created).
    Gone,
}

/// A detached hold ends when its work does; any other assessment stays as it is.
pub fn settle(a: Assessment, work: WorkState) -> Assessment {
    match a {
        Assessment::Held(h) if h.detached && work != WorkState::Running => {
            let what = if work == WorkState::Finished {
                "has finished"
            } else {
                "is gone"
            };
            let why = format!("its {} {what}", h.holder.work);
            Assessment::Expired {
                holder: h.holder,
                why,
            }
        }
        other => other,
    }
}

/// The state of a detached hold's work, from the Jobs and VolumeSnapshots at hand (`list`'s
/// snapshot, or what `acquire` read).
pub fn work_state(work: &Work, ns: &str, jobs: &[Job], snapshots: &[Value]) -> WorkState {
    match work {
        Work::Job(name) => match jobs.iter().find(|j| {
            j.metadata.name.as_deref() == Some(name.as_str())
                && j.metadata.namespace.as_deref().is_none_or(|n| n == ns)
        }) {
            None => WorkState::Gone,
            Some(j) if crate::cronjob::job_finished(j).is_some() => WorkState::Finished,
            Some(_) => WorkState::Running,
        },
        Work::VolumeSnapshot(name) => match snapshots.iter().find(|v| {
            v.pointer("/metadata/name").and_then(Value::as_str) == Some(name.as_str())
                && v.pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .is_none_or(|n| n == ns)
        }) {
            None => WorkState::Gone,
            Some(v) if SnapshotState::of(v).ready => WorkState::Finished,
            Some(_) => WorkState::Running,
        },
    }
}

/// RFC 3339 to the second, as the API server writes `metav1.Time`.
pub fn rfc3339(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn ago(t: jiff::Timestamp, now: jiff::Timestamp) -> String {
    format!("{}s ago", now.duration_since(t).as_secs().max(0))
}

/// One line on who holds a lock: `create of job/x by alice@laptop (pid 42) since
/// 2026-…Z (12s ago), …`.
pub fn held_text(h: &HeldLock, now: jiff::Timestamp) -> String {
    let since = h.since.unwrap_or(h.renewed);
    let mut s = format!(
        "{} since {} ({})",
        h.holder.describe(),
        rfc3339(since),
        ago(since, now)
    );
    let left = h.expires.duration_since(now).as_secs().max(0);
    if h.detached {
        s.push_str(&format!(
            "; the CLI stopped waiting, the lock lasts until {} finishes (at most {left}s more)",
            if h.holder.work.is_empty() {
                "its work"
            } else {
                h.holder.work.as_str()
            }
        ));
    } else {
        s.push_str(&format!(
            ", renewed {}, expires in {left}s unless renewed",
            ago(h.renewed, now)
        ));
    }
    s
}

/// The refusal of a run on a held target (exit 5).
pub fn refusal(target: &Target, lease: &str, h: &HeldLock, now: jiff::Timestamp) -> Error {
    Error::Failed(format!(
        "{} is locked by another run: {} (lease {lease}); wait for it, or pass --force to take the lock over",
        target.display(),
        held_text(h, now)
    ))
}

/// A held lock as `list` shows it (`locks` in `list -o json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LockRow {
    pub namespace: String,
    /// `sts/NAME`, `cronjob/NAME`…
    pub target: String,
    /// The Lease's name.
    pub lease: String,
    pub holder: Holder,
    /// RFC 3339: when it was taken, when it was last renewed, when it ends unless renewed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    pub renewed: String,
    pub expires: String,
    /// The CLI stopped waiting; the lock ends when its work finishes.
    pub detached: bool,
}

/// The locks held among `leases` (ours: they carry our labels), of `target` only when given.
pub fn held_locks(
    leases: &[Lease],
    jobs: &[Job],
    snapshots: &[Value],
    target: Option<&Target>,
    now: jiff::Timestamp,
) -> Vec<LockRow> {
    let want = target.map(Target::display);
    let mut rows: Vec<LockRow> = leases
        .iter()
        .filter_map(|l| {
            let ann = l.metadata.annotations.as_ref()?;
            let t = ann.get(ANNOTATION_TARGET)?.clone();
            if want.as_ref().is_some_and(|w| *w != t) {
                return None;
            }
            let ns = l.metadata.namespace.clone().unwrap_or_default();
            let mut a = assess(Some(l), "", now);
            if let Assessment::Held(h) = &a
                && h.detached
                && let Some(w) = h.work()
            {
                a = settle(a, work_state(&w, &ns, jobs, snapshots));
            }
            let Assessment::Held(h) = a else {
                return None;
            };
            Some(LockRow {
                namespace: ns,
                target: t,
                lease: l.metadata.name.clone().unwrap_or_default(),
                holder: h.holder,
                since: h.since.map(rfc3339),
                renewed: rfc3339(h.renewed),
                expires: rfc3339(h.expires),
                detached: h.detached,
            })
        })
        .collect();
    rows.sort_by(|a, b| (&a.namespace, &a.target).cmp(&(&b.namespace, &b.target)));
    rows
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn t(s: &str) -> jiff::Timestamp {
        s.parse().unwrap()
    }

    fn me() -> Holder {
        Holder::new("create", &Work::Job("db-1".into()), "alice", "laptop", 42)
    }

    fn other() -> Holder {
        Holder::new("restore", &Work::Job("r-1".into()), "bob", "ci", 7)
    }

    fn sts() -> Target {
        Target::parse("sts/db").unwrap()
    }

    /// The lock `l` as held (or the test fails).
    fn held(l: &Lease, me: &str, now: jiff::Timestamp) -> HeldLock {
        match assess(Some(l), me, now) {
            Assessment::Held(h) => h,
            a => panic!("not held: {a:?}"),
        }
    }

    fn lease_at(h: &Holder, at: &str, secs: i64) -> Lease {
        new_lease(&sts(), "ns", h, secs, t(at))
    }

    #[test]
    fn lease_names_are_valid_unique_and_short() {
        assert_eq!(lease_name(&sts()), "kubectl-backup.sts.db");
        assert_eq!(
            lease_name(&Target::parse("cronjob/db").unwrap()),
            "kubectl-backup.cronjob.db"
        );
        let long = |c: &str| Target::parse(&format!("pod/{}{c}", "a".repeat(250))).unwrap();
        let (a, b) = (lease_name(&long("x")), lease_name(&long("y")));
        assert_ne!(a, b);
        for n in [&a, &b] {
            assert!(n.len() <= 253, "{n}");
            stateful_core::names::validate_dns1123_subdomain(n).unwrap();
        }
        // Labels fit: a long name is only in the annotation.
        assert!(!labels(&long("x")).contains_key(LABEL_TARGET_NAME));
        assert_eq!(labels(&sts())[LABEL_TARGET_NAME], "db");
    }

    #[test]
    fn no_lease_or_no_holder_is_free_and_our_own_is_mine() {
        let now = t("2026-12-03T10:00:00Z");
        assert_eq!(assess(None, "x", now), Assessment::Free);
        let mut l = lease_at(&other(), "2026-12-03T09:59:50Z", 45);
        assert_eq!(assess(Some(&l), &other().identity(), now), Assessment::Mine);
        l.spec.as_mut().unwrap().holder_identity = Some(" ".into());
        assert_eq!(assess(Some(&l), "x", now), Assessment::Free);
        l.spec = None;
        assert_eq!(assess(Some(&l), "x", now), Assessment::Free);
    }

    #[test]
    fn held_until_duration_and_skew_pass_then_expired() {
        let l = lease_at(&other(), "2026-12-03T10:00:00Z", 45);
        let id = me().identity();
        let h = held(&l, &id, t("2026-12-03T10:00:49Z"));
        assert_eq!(h.holder, other());
        assert_eq!(h.expires, t("2026-12-03T10:00:50Z"));
        assert!(!h.detached);
        match assess(Some(&l), &id, t("2026-12-03T10:01:00Z")) {
            Assessment::Expired { holder, why } => {
                assert_eq!(holder, other());
                assert_eq!(why, "expired 10s ago");
            }
            a => panic!("{a:?}"),
        }
    }

    #[test]
    fn a_holder_clock_ahead_counts_from_now() {
        // renewTime an hour in the future: held for one duration from now, not for an hour.
        let l = lease_at(&other(), "2026-12-03T11:00:00Z", 45);
        let now = t("2026-12-03T10:00:00Z");
        let h = held(&l, "x", now);
        assert_eq!(h.expires, t("2026-12-03T10:00:50Z"));
        assert_eq!(h.renewed, now);
    }

    #[test]
    fn missing_times_and_duration_fall_back() {
        let mut l = lease_at(&other(), "2026-12-03T10:00:00Z", 45);
        let s = l.spec.as_mut().unwrap();
        s.renew_time = None;
        s.lease_duration_seconds = None;
        let h = held(&l, "x", t("2026-12-03T10:00:10Z"));
        assert_eq!(h.renewed, t("2026-12-03T10:00:00Z"));
        assert_eq!(
            h.expires,
            t("2026-12-03T10:00:00Z")
                .checked_add(jiff::SignedDuration::from_secs(
                    DEFAULT_LEASE_SECONDS + SKEW_SECONDS
                ))
                .unwrap()
        );
        // No time at all: counted from now, so held (never taken over blindly).
        let s = l.spec.as_mut().unwrap();
        s.acquire_time = None;
        assert!(matches!(
            assess(Some(&l), "x", t("2026-12-03T12:00:00Z")),
            Assessment::Held(_)
        ));
        // A foreign holderIdentity without our annotations is shown as it is.
        l.metadata.annotations = None;
        l.spec.as_mut().unwrap().holder_identity = Some("someone-else".into());
        let h = held(&l, "x", t("2026-12-03T12:00:00Z"));
        assert_eq!(h.holder.describe(), "someone-else");
    }

    #[test]
    fn a_detached_hold_ends_with_its_work() {
        let l = detached(
            &lease_at(&other(), "2026-12-03T10:00:00Z", 45),
            3600,
            t("2026-12-03T10:00:00Z"),
        );
        let a = assess(Some(&l), "x", t("2026-12-03T10:30:00Z"));
        let Assessment::Held(h) = &a else { panic!() };
        assert!(h.detached);
        assert_eq!(h.work(), Some(Work::Job("r-1".into())));
        assert_eq!(settle(a.clone(), WorkState::Running), a);
        match settle(a.clone(), WorkState::Finished) {
            Assessment::Expired { why, .. } => assert_eq!(why, "its job/r-1 has finished"),
            x => panic!("{x:?}"),
        }
        assert!(matches!(
            settle(a, WorkState::Gone),
            Assessment::Expired { .. }
        ));
        // An attached hold does not end with its work (the Job may not exist yet).
        let att = assess(
            Some(&lease_at(&other(), "2026-12-03T10:00:00Z", 45)),
            "x",
            t("2026-12-03T10:00:10Z"),
        );
        assert_eq!(settle(att.clone(), WorkState::Gone), att);
    }

    #[test]
    fn work_state_reads_jobs_and_snapshots() {
        let job: Job = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "r-1", "namespace": "ns"},
            "status": {"conditions": [{"type": "Complete", "status": "True"}]}
        }))
        .unwrap();
        let w = Work::Job("r-1".into());
        assert_eq!(
            work_state(&w, "ns", std::slice::from_ref(&job), &[]),
            WorkState::Finished
        );
        assert_eq!(work_state(&w, "other", &[job], &[]), WorkState::Gone);
        let vs = serde_json::json!({"metadata": {"name": "s", "namespace": "ns"}, "status": {"readyToUse": false}});
        let w = Work::VolumeSnapshot("s".into());
        assert_eq!(work_state(&w, "ns", &[], &[vs]), WorkState::Running);
        assert_eq!(Work::parse("job/x"), Some(Work::Job("x".into())));
        assert_eq!(Work::parse("pod/x"), None);
        assert_eq!(Work::parse("job/"), None);
    }

    #[test]
    fn take_over_keeps_the_version_and_counts_transitions() {
        let mut old = lease_at(&other(), "2026-12-03T09:00:00Z", 45);
        old.metadata.resource_version = Some("17".into());
        let l = take_over(&old, &sts(), &me(), 30, t("2026-12-03T10:00:00Z"));
        assert_eq!(l.metadata.resource_version.as_deref(), Some("17"));
        let s = l.spec.as_ref().unwrap();
        assert_eq!(s.holder_identity.as_deref(), Some(me().identity().as_str()));
        assert_eq!(s.lease_transitions, Some(1));
        assert_eq!(s.lease_duration_seconds, Some(30));
        assert_eq!(Holder::of_lease(&l), me());
        let r = renewed(&l, t("2026-12-03T10:00:10Z"));
        assert_eq!(
            r.spec.unwrap().renew_time.unwrap().0,
            t("2026-12-03T10:00:10Z")
        );
    }

    #[test]
    fn refusal_names_holder_work_and_since() {
        let l = lease_at(&other(), "2026-12-03T10:00:00.123456Z", 45);
        let now = t("2026-12-03T10:00:12.5Z");
        let h = held(&l, "x", now);
        let e = refusal(&sts(), &lease_name(&sts()), &h, now);
        assert_eq!(e.exit_code().code(), 5);
        let m = e.to_string();
        for want in [
            "sts/db is locked",
            "restore of job/r-1 by bob@ci (pid 7)",
            "since 2026-12-03T10:00:00Z (12s ago)",
            "--force",
        ] {
            assert!(m.contains(want), "{want}: {m}");
        }
    }

    #[test]
    fn list_rows_only_held_locks_of_the_target() {
        let now = t("2026-12-03T10:00:10Z");
        let held = lease_at(&other(), "2026-12-03T10:00:00Z", 45);
        let old = new_lease(
            &Target::parse("pvc/x").unwrap(),
            "ns",
            &me(),
            45,
            t("2026-12-03T09:00:00Z"),
        );
        let done = detached(
            &new_lease(&Target::parse("deploy/y").unwrap(), "ns", &other(), 45, now),
            600,
            now,
        );
        let leases = [held, old, done];
        let rows = held_locks(&leases, &[], &[], None, now);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].target, "sts/db");
        assert_eq!(rows[0].lease, "kubectl-backup.sts.db");
        assert_eq!(rows[0].holder.work, "job/r-1");
        assert!(
            held_locks(
                &leases,
                &[],
                &[],
                Some(&Target::parse("sts/x").unwrap()),
                now
            )
            .is_empty()
        );
        let v = serde_json::to_value(&rows[0]).unwrap();
        assert_eq!(v["holder"]["user"], "bob");
        assert_eq!(v["expires"], "2026-12-03T10:00:50Z");
    }
}
