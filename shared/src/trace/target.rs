//! Trace targets: `pod/NAME` (or a bare NAME), `pvc/NAME`, `pv/NAME`, `sts/NAME`,
//! `deploy/NAME`, `sc/NAME`, `node/NAME`.

use crate::error::{Error, Result};

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

impl Target {
    pub fn parse(s: &str) -> Result<Target> {
        let (kind, name) = match s.split_once('/') {
            Some((k, n)) => (k.to_ascii_lowercase(), n),
            None => ("pod".to_string(), s),
        };
        if name.is_empty() || name.contains('/') {
            return Err(Error::Usage(format!(
                "invalid target {s:?}: expected KIND/NAME, e.g. pod/db-0, pvc/data-db-0, pv/pvc-1234, sts/db"
            )));
        }
        crate::cli::validate_dns1123_subdomain(name)
            .map_err(|e| Error::Usage(format!("invalid target {s:?}: {e}")))?;
        let name = name.to_string();
        Ok(match kind.as_str() {
            "pod" | "pods" | "po" => Target::Pod(name),
            "pvc" | "pvcs" | "persistentvolumeclaim" | "persistentvolumeclaims" => {
                Target::Claim(name)
            }
            "pv" | "pvs" | "persistentvolume" | "persistentvolumes" => Target::Volume(name),
            "sts" | "statefulset" | "statefulsets" => Target::StatefulSet(name),
            "deploy" | "deployment" | "deployments" => Target::Deployment(name),
            "sc" | "storageclass" | "storageclasses" => Target::StorageClass(name),
            "node" | "nodes" | "no" => Target::Node(name),
            other => {
                return Err(Error::Usage(format!(
                    "unsupported target kind {other:?} in {s:?}: use pod, pvc, pv, sts, deploy, sc or node"
                )));
            }
        })
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
