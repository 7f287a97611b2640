//! The replication-secret policy (PostgreSQL, MariaDB/MySQL): which password an apply uses for
//! the replication role (user), read from a named Secret, or from `<sts>-replication`, created with a random password
//! only when the role is new. The password only ever reaches pods on stdin.

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};

use crate::plan::{Action, Plan, StepStatus};
use crate::topology::Topology;
use stateful_core::error::{Error, Result};

/// The replication password an apply needs, by the policy: none when no pending step needs one
/// (creating the role or re-seeding a replica); else from `--replication-secret NAME`, or from
/// `<sts>-replication`, which is created with a random password only when the role does not
/// exist yet (a role that exists with a password we cannot read is refused, with the fix).
/// Returns the password and, when a Secret was created, its name.
pub async fn replication_secret(
    client: &kube::Client,
    ns: &str,
    topo: &Topology,
    plan: &Plan,
    explicit: Option<&str>,
) -> Result<Option<(String, Option<String>)>> {
    let needs_pw = plan.steps.iter().any(|s| {
        s.status == StepStatus::Pending
            && matches!(
                s.action,
                Action::CreateReplicationRole { .. }
                    | Action::Reseed { .. }
                    | Action::CreateReplicationUser { .. }
                    | Action::SeedReplica { .. }
                    | Action::StartReplication { .. }
            )
    });
    if !needs_pw {
        return Ok(None);
    }
    let name = explicit
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}-replication", topo.statefulset));
    let role_missing = plan.steps.iter().any(|s| {
        s.status == StepStatus::Pending
            && matches!(
                s.action,
                Action::CreateReplicationRole { .. } | Action::CreateReplicationUser { .. }
            )
    });
    let create = explicit.is_none() && role_missing;
    let (pw, created) = replication_password(client, ns, &name, create)
        .await
        .map_err(|e| match e {
            Error::NotFound { .. } => Error::Failed(format!(
                "Secret {name} not found and role {} already exists: pass --replication-secret NAME (a Secret with key \"password\" holding the role's password)",
                topo.replication_user
            )),
            other => other,
        })?;
    Ok(Some((pw, created.then_some(name))))
}

/// The replication password from Secret `name` (key `password`). When it does not exist and
/// `create` is set, a Secret is created with a fresh random password. Returns (password,
/// created). The value is only ever sent to pods on stdin.
pub async fn replication_password(
    client: &kube::Client,
    ns: &str,
    name: &str,
    create: bool,
) -> Result<(String, bool)> {
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    match api.get_opt(name).await {
        Ok(Some(s)) => Ok((value_of(&s, name, "password")?, false)),
        Ok(None) if create => {
            let pw = random_password()?;
            let mut s = Secret {
                metadata: kube::api::ObjectMeta {
                    name: Some(name.to_string()),
                    namespace: Some(ns.to_string()),
                    labels: Some(
                        [(
                            "app.kubernetes.io/managed-by".to_string(),
                            "kubectl-sts-bootstrap".to_string(),
                        )]
                        .into(),
                    ),
                    ..Default::default()
                },
                ..Default::default()
            };
            s.string_data = Some([("password".to_string(), pw.clone())].into());
            api.create(&PostParams::default(), &s)
                .await
                .map_err(|e| Error::from_kube(e, "create", "secrets", Some(ns), Some(name)))?;
            Ok((pw, true))
        }
        Ok(None) => Err(Error::not_found("secret", name, Some(ns))),
        Err(e) => Err(Error::from_kube(e, "get", "secrets", Some(ns), Some(name))),
    }
}

/// The one-line, non-empty value of `key` in Secret `name` (e.g. the server password of
/// `--password-secret NAME[:KEY]`). Only ever sent to pods on stdin.
pub async fn secret_value(
    client: &kube::Client,
    ns: &str,
    name: &str,
    key: &str,
) -> Result<String> {
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    match api.get_opt(name).await {
        Ok(Some(s)) => value_of(&s, name, key),
        Ok(None) => Err(Error::not_found("secret", name, Some(ns))),
        Err(e) => Err(Error::from_kube(e, "get", "secrets", Some(ns), Some(name))),
    }
}

fn value_of(s: &Secret, name: &str, key: &str) -> Result<String> {
    let v = s
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|b| String::from_utf8_lossy(&b.0).into_owned())
        .or_else(|| s.string_data.as_ref().and_then(|d| d.get(key)).cloned())
        .filter(|p| !p.is_empty())
        .ok_or_else(|| Error::Failed(format!("Secret {name} has no non-empty key {key:?}")))?;
    if v.contains('\n') || v.contains('\r') {
        return Err(Error::Failed(format!(
            "Secret {name}: the value of {key:?} must be one line"
        )));
    }
    Ok(v)
}

fn random_password() -> Result<String> {
    use std::io::Read;
    let mut buf = [0u8; 24];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| Error::Other(format!("reading /dev/urandom: {e}")))?;
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    Ok(buf
        .iter()
        .map(|b| ALPHA[*b as usize % ALPHA.len()] as char)
        .collect())
}
