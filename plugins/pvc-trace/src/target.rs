//! Trace targets: `pod/NAME` (or a bare NAME), `pvc/NAME`, `pv/NAME`, `sts/NAME`,
//! `deploy/NAME`, `sc/NAME`, `node/NAME`.

use stateful_core::error::Result;
use stateful_core::kinds::Kind;
use stateful_core::objects::{Accepts, ObjectArg, parse_args};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Pod(String),
    Claim(String),
    Volume(String),
    StatefulSet(String),
    Deployment(String),
    StorageClass(String),
    Node(String),
}

/// The kinds pvc-trace traces from; a bare NAME is a pod.
pub const ACCEPTS: Accepts<'static> = Accepts {
    kinds: &[
        Kind::Pod,
        Kind::PersistentVolumeClaim,
        Kind::PersistentVolume,
        Kind::StatefulSet,
        Kind::Deployment,
        Kind::StorageClass,
        Kind::Node,
    ],
    bare: Some(Kind::Pod),
};

impl Target {
    /// Parse a target with kubectl's kind names (the core's one table of aliases).
    pub fn parse(s: &str) -> Result<Target> {
        Ok(Target::from_object(ObjectArg::parse(s, ACCEPTS)?))
    }

    /// Parse the command line's targets as kubectl does: `KIND/NAME…`, bare pod names, or
    /// `KIND NAME…` (`pvc-trace pod db-0`).
    pub fn parse_all(args: &[String]) -> Result<Vec<Target>> {
        Ok(parse_args(args, ACCEPTS)?
            .into_iter()
            .map(Target::from_object)
            .collect())
    }

    fn from_object(ObjectArg { kind, name }: ObjectArg) -> Target {
        match kind {
            Kind::PersistentVolumeClaim => Target::Claim(name),
            Kind::PersistentVolume => Target::Volume(name),
            Kind::StatefulSet => Target::StatefulSet(name),
            Kind::Deployment => Target::Deployment(name),
            Kind::StorageClass => Target::StorageClass(name),
            Kind::Node => Target::Node(name),
            _ => Target::Pod(name),
        }
    }

    /// Cluster-scoped targets are looked up without a namespace.
    pub fn cluster_scoped(&self) -> bool {
        matches!(
            self,
            Target::Volume(_) | Target::StorageClass(_) | Target::Node(_)
        )
    }

    pub fn kind_name(&self) -> (&'static str, &str) {
        match self {
            Target::Pod(n) => ("pod", n),
            Target::Claim(n) => ("persistentvolumeclaim", n),
            Target::Volume(n) => ("persistentvolume", n),
            Target::StatefulSet(n) => ("statefulset", n),
            Target::Deployment(n) => ("deployment", n),
            Target::StorageClass(n) => ("storageclass", n),
            Target::Node(n) => ("node", n),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (k, n) = self.kind_name();
        write!(f, "{k}/{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kinds_and_aliases() {
        assert_eq!(Target::parse("db-0").unwrap(), Target::Pod("db-0".into()));
        assert_eq!(Target::parse("pvc/x").unwrap(), Target::Claim("x".into()));
        assert_eq!(
            Target::parse("statefulset/db").unwrap(),
            Target::StatefulSet("db".into())
        );
        assert_eq!(
            Target::parse("deployment/w").unwrap(),
            Target::Deployment("w".into())
        );
        assert_eq!(
            Target::parse("storageclass/gp3").unwrap(),
            Target::StorageClass("gp3".into())
        );
        assert_eq!(
            Target::parse("PV/pvc-1").unwrap(),
            Target::Volume("pvc-1".into())
        );
    }

    #[test]
    fn rejects_bad_targets_as_usage() {
        for s in ["svc/x", "pod/", "pod/A_B", "a/b/c", "pod/$(rm -rf)"] {
            assert_eq!(Target::parse(s).unwrap_err().exit_code().code(), 2, "{s}");
        }
    }
}
