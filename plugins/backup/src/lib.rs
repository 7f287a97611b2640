//! `kubectl backup`: one-off backups from a CronJob, from the database itself (an engine-aware
//! logical dump Job) or as a CSI VolumeSnapshot.
//!
//! Builders ([`plan`] with [`cronjob`], [`dump`] (one file per engine) and [`volsnap`]) and
//! readers ([`list`]) are pure: they take a [`Snapshot`](stateful_core::snapshot::Snapshot),
//! names and "now" as arguments and do no I/O. [`render`] turns their models into text and
//! JSON; [`redact`] keeps secret-looking literals out of what is printed; [`lock`] models the
//! per-target Lease that keeps two runs apart. The [`run`] module (with [`run::lock`]) is the
//! only one doing I/O: it takes the lock, creates the objects, waits with watches and streams
//! logs.

pub mod cronjob;
pub mod dump;
pub mod list;
pub mod lock;
pub mod plan;
pub mod redact;
pub mod render;
pub mod restore;
pub mod run;
pub mod verify;
pub mod volsnap;

use std::collections::BTreeMap;

use serde::Serialize;

use stateful_core::error::{Error, Result};
use stateful_core::kinds::Kind;
use stateful_core::objects::{Accepts, ObjectArg};

/// `apiVersion` of our own JSON documents (`list -o json`, `describe -o json`).
pub const API_VERSION: &str = "kubectl-stateful.io/v1alpha1";

pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "kubectl-stateful";
pub const LABEL_TARGET_KIND: &str = "kubectl-stateful.io/target-kind";
pub const LABEL_TARGET_NAME: &str = "kubectl-stateful.io/target-name";
pub const LABEL_ENGINE: &str = "kubectl-stateful.io/engine";
pub const LABEL_METHOD: &str = "kubectl-stateful.io/method";
pub const LABEL_TRIGGER: &str = "kubectl-stateful.io/trigger";
/// Where a dump Job writes (`pvc/NAME:/path`), for `describe`.
pub const ANNOTATION_DESTINATION: &str = "kubectl-stateful.io/destination";
/// What a dump Job reads from (`host:port`), for `describe`.
pub const ANNOTATION_SOURCE: &str = "kubectl-stateful.io/source";
/// The sha256 of a dump's file (64 hex digits), set on the dump Job by `create` from the
/// Job's log (`kubectl-backup: sha256 HEX`); `verify` and `describe` read it.
pub const ANNOTATION_SHA256: &str = "kubectl-stateful.io/sha256";
/// The `kubectl-stateful.io/method` of a verify Job (not a backup: `list` leaves it out).
pub const METHOD_VERIFY: &str = "verify";
pub const ANNOTATION_INSTANTIATE: &str = "cronjob.kubernetes.io/instantiate";

/// How a backup is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// A Job instantiated from a CronJob's jobTemplate.
    Cronjob,
    /// An engine-aware logical dump Job.
    Dump,
    /// A CSI VolumeSnapshot.
    Snapshot,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Cronjob => "cronjob",
            Method::Dump => "dump",
            Method::Snapshot => "snapshot",
        }
    }

    /// The `<kind>` part of a generated name.
    pub fn name_part(self) -> &'static str {
        match self {
            Method::Cronjob => "manual",
            Method::Dump => "dump",
            Method::Snapshot => "snap",
        }
    }
}

/// What `create` backs up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    CronJob,
    StatefulSet,
    Deployment,
    Pod,
    Pvc,
}

impl TargetKind {
    /// The short kind used in labels and `kind/name` strings.
    pub fn short(self) -> &'static str {
        match self {
            TargetKind::CronJob => "cronjob",
            TargetKind::StatefulSet => "sts",
            TargetKind::Deployment => "deploy",
            TargetKind::Pod => "pod",
            TargetKind::Pvc => "pvc",
        }
    }

    pub fn resource(self) -> &'static str {
        match self {
            TargetKind::CronJob => "cronjobs",
            TargetKind::StatefulSet => "statefulsets",
            TargetKind::Deployment => "deployments",
            TargetKind::Pod => "pods",
            TargetKind::Pvc => "persistentvolumeclaims",
        }
    }
}

/// `kind/name` as given on the command line, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    pub kind: TargetKind,
    pub name: String,
}

impl Target {
    /// The kinds a backup is taken of; `KIND/` is required.
    pub const ACCEPTS: Accepts<'static> = Accepts {
        kinds: &[
            Kind::CronJob,
            Kind::StatefulSet,
            Kind::Deployment,
            Kind::Pod,
            Kind::PersistentVolumeClaim,
        ],
        bare: None,
    };

    /// Parse `cronjob/NAME`, `sts/NAME`, `deploy/NAME`, `pod/NAME`, `pvc/NAME` (kubectl's long
    /// and short resource names, from the core's one table). The name is validated before
    /// anything is built.
    pub fn parse(s: &str) -> Result<Self> {
        let ObjectArg { kind, name } = ObjectArg::parse(s, Self::ACCEPTS)?;
        let kind = match kind {
            Kind::CronJob => TargetKind::CronJob,
            Kind::StatefulSet => TargetKind::StatefulSet,
            Kind::Deployment => TargetKind::Deployment,
            Kind::Pod => TargetKind::Pod,
            _ => TargetKind::Pvc,
        };
        Ok(Target { kind, name })
    }

    pub fn display(&self) -> String {
        format!("{}/{}", self.kind.short(), self.name)
    }
}

/// `yyyymmddhhmmss` in UTC.
pub fn stamp(now: jiff::Timestamp) -> String {
    now.strftime("%Y%m%d%H%M%S").to_string()
}

/// The default name `<target>-<kind>-<UTC yyyymmddhhmmss>`, shortened to a valid 63-character
/// label value (Job names become the pods' `job-name` label).
pub fn default_name(target: &str, method: Method, now: jiff::Timestamp) -> String {
    stamped_name(target, method.name_part(), now)
}

/// `<head>-<part>-<UTC yyyymmddhhmmss>`, the head shortened so the whole is a valid
/// 63-character label value.
pub fn stamped_name(head: &str, part: &str, now: jiff::Timestamp) -> String {
    let suffix = format!("-{part}-{}", stamp(now));
    let max = 63usize.saturating_sub(suffix.len());
    let mut head: String = head.chars().take(max).collect();
    while head.ends_with(['-', '.']) {
        head.pop();
    }
    format!("{head}{suffix}")
}

/// Validate a `--name`: a DNS-1123 label (≤ 63, so it can be a label value too).
pub fn validate_name(name: &str) -> Result<()> {
    stateful_core::names::validate_dns1123_label(name)
        .map_err(|e| Error::Usage(format!("--name: {e}")))
}

/// Our labels for a backup object.
pub fn our_labels(
    target: &Target,
    method: Method,
    engine: Option<&str>,
) -> BTreeMap<String, String> {
    let mut l = BTreeMap::new();
    l.insert(LABEL_MANAGED_BY.to_string(), MANAGED_BY.to_string());
    l.insert(
        LABEL_TARGET_KIND.to_string(),
        target.kind.short().to_string(),
    );
    l.insert(LABEL_TARGET_NAME.to_string(), target.name.clone());
    if let Some(e) = engine {
        l.insert(LABEL_ENGINE.to_string(), e.to_string());
    }
    l.insert(LABEL_METHOD.to_string(), method.as_str().to_string());
    l.insert(LABEL_TRIGGER.to_string(), "manual".to_string());
    l
}

/// Warnings and notes a builder produces for the user (printed to stderr, never to stdout).
pub type Warnings = Vec<String>;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn t0() -> jiff::Timestamp {
        "2026-11-23T01:02:03Z".parse().unwrap()
    }

    #[test]
    fn targets_parse_and_validate() {
        let t = Target::parse("cronjob/todo-db-backup").unwrap();
        assert_eq!(t.kind, TargetKind::CronJob);
        assert_eq!(
            Target::parse("statefulset/db").unwrap().kind,
            TargetKind::StatefulSet
        );
        assert_eq!(
            Target::parse("deploy/db").unwrap().kind,
            TargetKind::Deployment
        );
        assert_eq!(
            Target::parse("pvc/data-db-0").unwrap().kind,
            TargetKind::Pvc
        );
        for bad in ["db", "svc/db", "sts/DB", "sts/a;rm -rf", "pod/", "sts/-x"] {
            assert_eq!(
                Target::parse(bad).unwrap_err().exit_code().code(),
                2,
                "{bad}"
            );
        }
    }

    #[test]
    fn names_are_stamped_and_short() {
        assert_eq!(
            default_name("todo-db", Method::Dump, t0()),
            "todo-db-dump-20261123010203"
        );
        let long = "a".repeat(80);
        let n = default_name(&long, Method::Snapshot, t0());
        assert!(n.len() <= 63, "{n}");
        assert!(n.ends_with("-snap-20261123010203"));
        assert!(validate_name("x-1").is_ok());
        assert!(validate_name("X").is_err());
    }
}
