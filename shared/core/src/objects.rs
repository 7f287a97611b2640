//! Object arguments: `KIND/NAME` as kubectl takes them, with kubectl's names and short names for
//! each kind (one table for every plugin). Each command says which kinds it accepts, and which
//! kind a bare `NAME` means, if any. Names are checked (DNS-1123) before anything is built.

use crate::error::{Error, Result};
use crate::kinds::Kind;
use crate::names::validate_dns1123_subdomain;

/// kubectl's spellings of each kind: singular, plural, short names and `kind.group`.
const ALIASES: &[(&str, Kind)] = &[
    ("pod", Kind::Pod),
    ("pods", Kind::Pod),
    ("po", Kind::Pod),
    ("pvc", Kind::PersistentVolumeClaim),
    ("pvcs", Kind::PersistentVolumeClaim),
    ("persistentvolumeclaim", Kind::PersistentVolumeClaim),
    ("persistentvolumeclaims", Kind::PersistentVolumeClaim),
    ("pv", Kind::PersistentVolume),
    ("pvs", Kind::PersistentVolume),
    ("persistentvolume", Kind::PersistentVolume),
    ("persistentvolumes", Kind::PersistentVolume),
    ("sc", Kind::StorageClass),
    ("storageclass", Kind::StorageClass),
    ("storageclasses", Kind::StorageClass),
    ("storageclass.storage.k8s.io", Kind::StorageClass),
    ("node", Kind::Node),
    ("nodes", Kind::Node),
    ("no", Kind::Node),
    ("sts", Kind::StatefulSet),
    ("statefulset", Kind::StatefulSet),
    ("statefulsets", Kind::StatefulSet),
    ("statefulset.apps", Kind::StatefulSet),
    ("deploy", Kind::Deployment),
    ("deployment", Kind::Deployment),
    ("deployments", Kind::Deployment),
    ("deployment.apps", Kind::Deployment),
    ("cj", Kind::CronJob),
    ("cronjob", Kind::CronJob),
    ("cronjobs", Kind::CronJob),
    ("cronjob.batch", Kind::CronJob),
    ("job", Kind::Job),
    ("jobs", Kind::Job),
    ("job.batch", Kind::Job),
    ("vs", Kind::VolumeSnapshot),
    ("volumesnapshot", Kind::VolumeSnapshot),
    ("volumesnapshots", Kind::VolumeSnapshot),
    (
        "volumesnapshot.snapshot.storage.k8s.io",
        Kind::VolumeSnapshot,
    ),
];

/// The kind a kubectl resource name (`sts`, `statefulsets`, `statefulset.apps`…) stands for.
pub fn kind_of(resource: &str) -> Option<Kind> {
    let r = resource.to_ascii_lowercase();
    ALIASES.iter().find(|(a, _)| *a == r).map(|(_, k)| *k)
}

/// The short name messages and examples use (`pvc`, `sts`, `deploy`…).
pub fn short_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Pod => "pod",
        Kind::PersistentVolumeClaim => "pvc",
        Kind::PersistentVolume => "pv",
        Kind::StorageClass => "sc",
        Kind::Node => "node",
        Kind::StatefulSet => "sts",
        Kind::Deployment => "deploy",
        Kind::CronJob => "cronjob",
        Kind::Job => "job",
        Kind::VolumeSnapshot => "volumesnapshot",
        other => other.resource(),
    }
}

/// A parsed `KIND/NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectArg {
    pub kind: Kind,
    pub name: String,
}

/// What a command accepts: the kinds, and the kind of a bare `NAME` (None: KIND/ is required).
#[derive(Debug, Clone, Copy)]
pub struct Accepts<'a> {
    pub kinds: &'a [Kind],
    pub bare: Option<Kind>,
}

impl Accepts<'_> {
    /// `pod, pvc or pv`.
    fn list(&self) -> String {
        let names: Vec<&str> = self.kinds.iter().map(|k| short_name(*k)).collect();
        match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => names.join(""),
        }
    }

    fn examples(&self) -> String {
        self.kinds
            .iter()
            .map(|k| format!("{}/NAME", short_name(*k)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl ObjectArg {
    /// Parse `KIND/NAME` (or a bare `NAME` where the command has a default kind). Unknown or
    /// unaccepted kinds and invalid names are usage errors (exit 2) that name the argument.
    pub fn parse(s: &str, accepts: Accepts<'_>) -> Result<ObjectArg> {
        let (kind, name) = match (s.split_once('/'), accepts.bare) {
            (Some((k, n)), _) => (Some(k), n),
            (None, Some(_)) => (None, s),
            (None, None) => {
                return Err(Error::Usage(format!(
                    "target {s:?}: expected KIND/NAME ({})",
                    accepts.examples()
                )));
            }
        };
        if name.is_empty() || name.contains('/') {
            return Err(Error::Usage(format!(
                "invalid target {s:?}: expected KIND/NAME ({})",
                accepts.examples()
            )));
        }
        let kind = match kind {
            None => accepts.bare.unwrap_or(Kind::Pod),
            Some(k) => match kind_of(k).filter(|k| accepts.kinds.contains(k)) {
                Some(k) => k,
                None => {
                    return Err(Error::Usage(format!(
                        "unsupported target kind {:?} in {s:?}: use {}",
                        k.to_ascii_lowercase(),
                        accepts.list()
                    )));
                }
            },
        };
        validate_dns1123_subdomain(name)
            .map_err(|e| Error::Usage(format!("invalid target {s:?}: {e}")))?;
        Ok(ObjectArg {
            kind,
            name: name.to_string(),
        })
    }
}

/// Parse a command's object arguments as kubectl does: `KIND/NAME…`, bare names where the
/// command has a default kind, or `KIND NAME…` (a kind word, then names of that kind, as in
/// `kubectl get pod db-0 db-1`). Mixing the two forms is a usage error, as in kubectl. A lone
/// word is a `NAME` (or a usage error where `KIND/` is required).
pub fn parse_args(args: &[String], accepts: Accepts<'_>) -> Result<Vec<ObjectArg>> {
    if let [first, rest @ ..] = args
        && !rest.is_empty()
        && !first.contains('/')
        && kind_of(first).is_some()
    {
        if let Some(r) = rest.iter().find(|r| r.contains('/')) {
            return Err(Error::Usage(format!(
                "{r:?}: there is no need to give a kind as a separate argument ({first:?}) when passing arguments in KIND/NAME form"
            )));
        }
        return rest
            .iter()
            .map(|name| ObjectArg::parse(&format!("{first}/{name}"), accepts))
            .collect();
    }
    args.iter().map(|a| ObjectArg::parse(a, accepts)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn kind_then_names_as_kubectl() {
        let got = parse_args(&strings(&["pod", "db-0", "db-1"]), TRACE).unwrap();
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|o| o.kind == Kind::Pod));
        assert_eq!(got[1].name, "db-1");
        let got = parse_args(&strings(&["sts", "db"]), TRACE).unwrap();
        assert_eq!(got[0].kind, Kind::StatefulSet);
        // A lone word is a name; KIND/NAME lists as before.
        let got = parse_args(&strings(&["pod"]), TRACE).unwrap();
        assert_eq!((got[0].kind, got[0].name.as_str()), (Kind::Pod, "pod"));
        let got = parse_args(&strings(&["db-0", "pvc/data"]), TRACE).unwrap();
        assert_eq!(got[1].kind, Kind::PersistentVolumeClaim);
        // Mixed forms and unaccepted kinds are usage errors.
        let e = parse_args(&strings(&["pod", "pvc/data"]), TRACE).unwrap_err();
        assert_eq!(e.exit_code().code(), 2, "{e}");
        let e = parse_args(&strings(&["cronjob", "x"]), TRACE).unwrap_err();
        assert!(e.to_string().contains("unsupported target kind"), "{e}");
    }

    const TRACE: Accepts<'static> = Accepts {
        kinds: &[Kind::Pod, Kind::PersistentVolumeClaim, Kind::StatefulSet],
        bare: Some(Kind::Pod),
    };
    const STRICT: Accepts<'static> = Accepts {
        kinds: &[Kind::CronJob, Kind::StatefulSet],
        bare: None,
    };

    #[test]
    fn aliases_and_bare_names() {
        let p = |s| ObjectArg::parse(s, TRACE).unwrap();
        assert_eq!(p("db-0").kind, Kind::Pod);
        assert_eq!(p("PVC/x").kind, Kind::PersistentVolumeClaim);
        assert_eq!(p("statefulset.apps/db").kind, Kind::StatefulSet);
        assert_eq!(
            ObjectArg::parse("cj/b", STRICT).unwrap().kind,
            Kind::CronJob
        );
    }

    #[test]
    fn refusals_are_usage_errors_that_name_the_argument() {
        for (s, a) in [
            ("svc/x", TRACE),
            ("pod/", TRACE),
            ("pod/A_B", TRACE),
            ("a/b/c", TRACE),
            ("pod/$(rm -rf)", TRACE),
            ("pod/x", STRICT),
            ("db", STRICT),
        ] {
            let e = ObjectArg::parse(s, a).unwrap_err();
            assert_eq!(e.exit_code().code(), 2, "{s}");
            assert!(e.to_string().contains(s), "{s}: {e}");
        }
    }
}
