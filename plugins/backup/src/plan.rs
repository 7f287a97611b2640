//! `create`, as a pure plan: which kinds to load, then (from the loaded Snapshot) the objects
//! to create ([`Objects`], owned here), the name, the warnings. Their dry-run rendering is
//! [`crate::render`]'s; creating them is [`crate::run`]'s.

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use serde_json::Value;

use crate::dump::{Destination, DumpOptions, Engine, SourcePref};
use crate::{Method, Target, TargetKind, Warnings, default_name, validate_name};
use stateful_core::error::{Error, Result};
use stateful_core::snapshot::{GapReason, Kind, Snapshot};

/// Everything `create` was asked for.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    pub target: Target,
    pub name: Option<String>,
    pub force: bool,
    pub snapshot: bool,
    pub class: Option<String>,
    pub engine: Option<Engine>,
    pub image: Option<String>,
    pub container: Option<String>,
    pub source: SourcePref,
    pub to: Option<String>,
    pub to_new_pvc: Option<String>,
    pub storage_class: Option<String>,
    pub timeout: Duration,
}

impl CreateRequest {
    pub fn method(&self) -> Result<Method> {
        Ok(match (self.target.kind, self.snapshot) {
            (TargetKind::Pvc, true) => Method::Snapshot,
            (TargetKind::Pvc, false) => {
                return Err(Error::Usage(
                    "pvc/NAME needs --snapshot (a CSI VolumeSnapshot); for a logical dump name the workload (sts/, deploy/, pod/)".into(),
                ));
            }
            (_, true) => {
                return Err(Error::Usage(format!(
                    "--snapshot takes pvc/NAME, not {}",
                    self.target.display()
                )));
            }
            (TargetKind::CronJob, false) => Method::Cronjob,
            _ => Method::Dump,
        })
    }

    /// Check flags before anything is loaded: names, combinations.
    pub fn validate(&self) -> Result<()> {
        let method = self.method()?;
        if let Some(n) = &self.name {
            validate_name(n)?;
        }
        if let Some(c) = &self.class {
            stateful_core::names::validate_dns1123_subdomain(c)
                .map_err(|e| Error::Usage(format!("--class: {e}")))?;
        }
        if let Some(img) = &self.image {
            validate_image(img)?;
        }
        if let Some(sc) = &self.storage_class {
            stateful_core::names::validate_dns1123_subdomain(sc)
                .map_err(|e| Error::Usage(format!("--storage-class: {e}")))?;
        }
        let dump_only = [
            ("--engine", self.engine.is_some()),
            ("--image", self.image.is_some()),
            ("--container", self.container.is_some()),
            ("--to", self.to.is_some()),
            ("--to-new-pvc", self.to_new_pvc.is_some()),
            ("--storage-class", self.storage_class.is_some()),
        ];
        if method != Method::Dump
            && let Some((flag, _)) = dump_only.iter().find(|(_, set)| *set)
        {
            return Err(Error::Usage(format!(
                "{flag} applies to database dumps (sts/, deploy/, pod/), not to {}",
                self.target.display()
            )));
        }
        if method != Method::Snapshot && self.class.is_some() {
            return Err(Error::Usage(
                "--class applies to pvc/NAME --snapshot".into(),
            ));
        }
        if method == Method::Dump {
            self.destination()?;
        }
        if self.timeout.is_zero() {
            return Err(Error::Usage("--timeout must be more than 0".into()));
        }
        Ok(())
    }

    fn destination(&self) -> Result<Destination> {
        match (&self.to, &self.to_new_pvc) {
            (Some(_), Some(_)) => Err(Error::Usage(
                "--to and --to-new-pvc cannot be used together".into(),
            )),
            (Some(to), None) => {
                let claim = to
                    .strip_prefix("pvc/")
                    .or_else(|| to.strip_prefix("persistentvolumeclaim/"))
                    .ok_or_else(|| Error::Usage(format!("--to {to:?}: expected pvc/NAME")))?;
                stateful_core::names::validate_dns1123_subdomain(claim)
                    .map_err(|e| Error::Usage(format!("--to {to:?}: {e}")))?;
                Ok(Destination::Pvc(claim.to_string()))
            }
            (None, Some(size)) => {
                crate::dump::validate_quantity(size)?;
                Ok(Destination::NewPvc {
                    size: size.clone(),
                    storage_class: self.storage_class.clone(),
                })
            }
            (None, None) => Err(Error::Usage(
                "where should the dump go? pass --to pvc/NAME or --to-new-pvc SIZE".into(),
            )),
        }
    }

    /// The kinds to load for this request.
    pub fn kinds(&self) -> Vec<Kind> {
        match self.method() {
            Ok(Method::Cronjob) => vec![Kind::CronJob, Kind::Job],
            Ok(Method::Snapshot) => vec![
                Kind::PersistentVolumeClaim,
                Kind::PersistentVolume,
                Kind::StorageClass,
                Kind::VolumeSnapshotClass,
            ],
            _ => vec![
                Kind::StatefulSet,
                Kind::Deployment,
                Kind::Pod,
                Kind::PersistentVolumeClaim,
                Kind::Service,
            ],
        }
    }
}

/// The kind whose LIST must have worked for the target to be found.
/// `--image`: an image reference has no blank and no line break (a multi-line or empty value
/// would end up in the Job as given).
pub(crate) fn validate_image(img: &str) -> Result<()> {
    if img.trim().is_empty() {
        return Err(Error::Usage("--image must not be empty".into()));
    }
    if img.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::Usage(format!(
            "--image {:?} is not an image reference (no blanks or line breaks)",
            img
        )));
    }
    Ok(())
}

pub(crate) fn target_kind(t: TargetKind) -> Kind {
    match t {
        TargetKind::CronJob => Kind::CronJob,
        TargetKind::StatefulSet => Kind::StatefulSet,
        TargetKind::Deployment => Kind::Deployment,
        TargetKind::Pod => Kind::Pod,
        TargetKind::Pvc => Kind::PersistentVolumeClaim,
    }
}

/// What `create` will create, in order.
#[derive(Debug, Clone, Default)]
pub struct Objects {
    pub pvc: Option<PersistentVolumeClaim>,
    pub job: Option<Job>,
    pub volume_snapshot: Option<Value>,
}

/// What `create` will do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub method: Method,
    pub name: String,
    pub namespace: String,
    pub objects: Objects,
    pub warnings: Warnings,
    /// One line: what will run, from where, to where.
    pub summary: String,
}

/// Build the plan from a loaded snapshot. Pure: `now` is passed in.
pub fn plan(snap: &Snapshot, ns: &str, req: &CreateRequest, now: jiff::Timestamp) -> Result<Plan> {
    req.validate()?;
    let method = req.method()?;
    let kind = target_kind(req.target.kind);
    if let Some(g) = snap.gap(kind)
        && g.reason == GapReason::Forbidden
    {
        return Err(Error::Forbidden {
            verb: "list".into(),
            resource: kind.resource().into(),
            namespace: Some(ns.to_string()),
            message: g.message.clone(),
        });
    }
    let name = req
        .name
        .clone()
        .unwrap_or_else(|| default_name(&req.target.name, method, now));
    let t = &req.target;
    match method {
        Method::Cronjob => {
            let cj = snap
                .cronjobs
                .iter()
                .find(|c| {
                    c.metadata.namespace.as_deref() == Some(ns)
                        && c.metadata.name.as_deref() == Some(t.name.as_str())
                })
                .ok_or_else(|| Error::not_found("cronjobs.batch", &t.name, Some(ns)))?;
            if let Some(g) = snap.gap(Kind::Job)
                && g.reason == GapReason::Forbidden
            {
                return Err(Error::Forbidden {
                    verb: "list".into(),
                    resource: "jobs.batch".into(),
                    namespace: Some(ns.to_string()),
                    message: g.message.clone(),
                });
            }
            let mut warnings = crate::cronjob::check_concurrency(cj, &snap.jobs, req.force)?;
            warnings.extend(crate::cronjob::history_warnings(cj));
            let job = crate::cronjob::job_from_cronjob(cj, &name)?;
            Ok(Plan {
                method,
                summary: format!(
                    "job {name} from cronjob {} (as `kubectl create job --from`)",
                    t.name
                ),
                name,
                namespace: ns.to_string(),
                objects: Objects {
                    job: Some(job),
                    ..Default::default()
                },
                warnings,
            })
        }
        Method::Dump => {
            let opts = DumpOptions {
                engine: req.engine,
                image: req.image.clone(),
                container: req.container.clone(),
                source: req.source,
                destination: req.destination()?,
                timeout: req.timeout,
                name: name.clone(),
                now,
            };
            let p = crate::dump::build_dump(snap, ns, t, &opts)?;
            Ok(Plan {
                method,
                summary: format!(
                    "{} dump of {} from {} to {}",
                    p.engine.as_str(),
                    t.display(),
                    p.source,
                    p.destination
                ),
                name,
                namespace: ns.to_string(),
                objects: Objects {
                    pvc: p.pvc,
                    job: Some(p.job),
                    volume_snapshot: None,
                },
                warnings: p.warnings,
            })
        }
        Method::Snapshot => {
            let p = crate::volsnap::build_snapshot(snap, ns, t, req.class.as_deref(), &name)?;
            Ok(Plan {
                method,
                summary: format!(
                    "volumesnapshot {name} of {} (class {}, driver {})",
                    t.display(),
                    p.class,
                    p.driver
                ),
                name,
                namespace: ns.to_string(),
                objects: Objects {
                    volume_snapshot: Some(p.object),
                    ..Default::default()
                },
                warnings: p.warnings,
            })
        }
    }
}

/// The namespace of the target in a dump when no -n was given: the one namespace holding it.
pub fn namespace_in_dump(snap: &Snapshot, target: &Target) -> Option<String> {
    let metas: Vec<&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta> = match target.kind
    {
        TargetKind::CronJob => snap.cronjobs.iter().map(|o| &o.metadata).collect(),
        TargetKind::StatefulSet => snap.statefulsets.iter().map(|o| &o.metadata).collect(),
        TargetKind::Deployment => snap.deployments.iter().map(|o| &o.metadata).collect(),
        TargetKind::Pod => snap.pods.iter().map(|o| &o.metadata).collect(),
        TargetKind::Pvc => snap.pvcs.iter().map(|o| &o.metadata).collect(),
    };
    let mut nss: Vec<String> = metas
        .into_iter()
        .filter(|m| m.name.as_deref() == Some(target.name.as_str()))
        .filter_map(|m| m.namespace.clone())
        .collect();
    nss.sort();
    nss.dedup();
    match nss.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use stateful_core::snapshot::Gap;

    fn req(target: &str) -> CreateRequest {
        CreateRequest {
            target: Target::parse(target).unwrap(),
            name: None,
            force: false,
            snapshot: false,
            class: None,
            engine: None,
            image: None,
            container: None,
            source: SourcePref::Replica,
            to: None,
            to_new_pvc: None,
            storage_class: None,
            timeout: Duration::from_secs(60),
        }
    }

    #[test]
    fn a_forbidden_list_is_exit_4_not_not_found() {
        let mut snap = Snapshot::default();
        snap.gaps.push(Gap {
            kind: Kind::CronJob,
            verb: "list".into(),
            resource: "cronjobs".into(),
            namespace: Some("ns".into()),
            reason: GapReason::Forbidden,
            message: "no".into(),
        });
        let now = "2026-11-23T00:00:00Z".parse().unwrap();
        let e = plan(&snap, "ns", &req("cronjob/x"), now).unwrap_err();
        assert_eq!(e.exit_code().code(), 4, "{e}");
        let e = plan(&Snapshot::default(), "ns", &req("cronjob/x"), now).unwrap_err();
        assert_eq!(e.exit_code().code(), 3, "{e}");
    }

    #[test]
    fn flag_combinations_are_checked_before_loading() {
        let mut r = req("cronjob/x");
        r.to = Some("pvc/b".into());
        assert_eq!(r.validate().unwrap_err().exit_code().code(), 2);
        // --force takes any target's lock over, so it is no usage error.
        let mut r = req("sts/db");
        r.force = true;
        r.to = Some("pvc/b".into());
        assert!(r.validate().is_ok());
        r.to = None;
        assert_eq!(r.validate().unwrap_err().exit_code().code(), 2);
        let mut r = req("pvc/data");
        r.snapshot = true;
        assert!(r.validate().is_ok());
        assert_eq!(r.kinds()[0], Kind::PersistentVolumeClaim);
        r.class = Some("Bad Class".into());
        assert_eq!(r.validate().unwrap_err().exit_code().code(), 2);
        let mut r = req("sts/db");
        r.to = Some("b".into());
        assert_eq!(r.validate().unwrap_err().exit_code().code(), 2);
        r.to = Some("pvc/b".into());
        r.timeout = Duration::ZERO;
        assert_eq!(r.validate().unwrap_err().exit_code().code(), 2);
    }
}
