//! Where a dump reads from: the target workload in the snapshot (its pod template, pods and
//! StatefulSet), its database container, and the pod to dump (primary, replica, or the one
//! pod), found by role labels, readiness and the StatefulSet's ordinals.

use super::*;

/// The workload's pod template and its pods (and the StatefulSet, when it is one).
pub(crate) struct Workload<'a> {
    pub(crate) spec: &'a PodSpec,
    pub(crate) pods: Vec<&'a Pod>,
    pub(crate) sts: Option<&'a StatefulSet>,
}

/// The pod spec of a workload's template, or why there is none.
fn pod_template<'a>(template: Option<&'a PodTemplateSpec>, target: &Target) -> Result<&'a PodSpec> {
    template
        .and_then(|t| t.spec.as_ref())
        .ok_or_else(|| Error::Failed(format!("{} has no pod template", target.display())))
}

/// The target workload in the snapshot: its pod template and the pods it has now.
pub(crate) fn find_workload<'a>(
    snap: &'a Snapshot,
    ns: &str,
    target: &Target,
) -> Result<Workload<'a>> {
    let in_ns = |m: &ObjectMeta| m.namespace.as_deref() == Some(ns);
    let named = |m: &ObjectMeta| in_ns(m) && m.name.as_deref() == Some(target.name.as_str());
    let not_found = || Error::not_found(target.kind.resource(), &target.name, Some(ns));
    match target.kind {
        TargetKind::StatefulSet => {
            let sts = snap
                .statefulsets
                .iter()
                .find(|s| named(&s.metadata))
                .ok_or_else(not_found)?;
            let spec = pod_template(sts.spec.as_ref().map(|s| &s.template), target)?;
            let pods = snap
                .pods
                .iter()
                .filter(|p| {
                    in_ns(&p.metadata) && owned_by(&p.metadata, "StatefulSet", &target.name)
                })
                .collect();
            Ok(Workload {
                spec,
                pods,
                sts: Some(sts),
            })
        }
        TargetKind::Deployment => {
            let d = snap
                .deployments
                .iter()
                .find(|s| named(&s.metadata))
                .ok_or_else(not_found)?;
            let spec = pod_template(d.spec.as_ref().map(|s| &s.template), target)?;
            let sel = d
                .spec
                .as_ref()
                .map(|s| Selector::from_label_selector(&s.selector))
                .unwrap_or_default();
            let pods = snap
                .pods
                .iter()
                .filter(|p| {
                    in_ns(&p.metadata) && !sel.is_empty() && sel.matches(p.metadata.labels.as_ref())
                })
                .collect();
            Ok(Workload {
                spec,
                pods,
                sts: None,
            })
        }
        TargetKind::Pod => {
            let p = snap
                .pods
                .iter()
                .find(|p| named(&p.metadata))
                .ok_or_else(not_found)?;
            let spec = p
                .spec
                .as_ref()
                .ok_or_else(|| Error::Failed(format!("{} has no spec", target.display())))?;
            Ok(Workload {
                spec,
                pods: vec![p],
                sts: None,
            })
        }
        TargetKind::CronJob | TargetKind::Pvc => Err(Error::Usage(format!(
            "{} is not a database workload (use sts/, deploy/ or pod/)",
            target.display()
        ))),
    }
}

/// The database container of the workload, its engine, the dump image and the port.
pub(crate) struct DbContainer<'a> {
    pub(crate) container: &'a Container,
    pub(crate) engine: Engine,
    pub(crate) image: String,
    pub(crate) port: i32,
}

/// `--container`, else the first container of `--engine` (or of any known engine); the image
/// is `--image` or the container's own, so client and server versions match.
pub(crate) fn database_container<'a>(
    workload: &Workload<'a>,
    ns: &str,
    target: &Target,
    opts: &DumpOptions,
) -> Result<DbContainer<'a>> {
    let containers = &workload.spec.containers;
    let container = match &opts.container {
        Some(c) => containers
            .iter()
            .find(|x| &x.name == c)
            .ok_or_else(|| Error::not_found("container", c, Some(ns)))?,
        None => containers
            .iter()
            .find(|c| match opts.engine {
                Some(e) => Engine::detect(c) == Some(e),
                None => Engine::detect(c).is_some(),
            })
            .or_else(|| opts.engine.and_then(|_| containers.first()))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "cannot tell the database engine of {} from its images ({}); pass --engine postgres|mongodb|mysql|redis",
                    target.display(),
                    containers
                        .iter()
                        .filter_map(|c| c.image.as_deref())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?,
    };
    let engine = match opts.engine.or_else(|| Engine::detect(container)) {
        Some(e) => e,
        None => {
            return Err(Error::Usage(format!(
                "cannot tell the database engine of container {}; pass --engine",
                container.name
            )));
        }
    };
    let image = match (&opts.image, &container.image) {
        (Some(i), _) => i.clone(),
        (None, Some(i)) => i.clone(),
        (None, None) => {
            return Err(Error::Usage(format!(
                "container {} has no image; pass --image",
                container.name
            )));
        }
    };
    let port = container
        .ports
        .iter()
        .flatten()
        .find(|p| p.container_port == engine.default_port())
        .or_else(|| container.ports.iter().flatten().next())
        .map(|p| p.container_port)
        .unwrap_or(engine.default_port());
    Ok(DbContainer {
        container,
        engine,
        image,
        port,
    })
}

const ROLE_LABELS: [&str; 6] = [
    "role",
    "spilo-role",
    "cnpg.io/instanceRole",
    "app.kubernetes.io/role",
    "kubectl-stateful.io/role",
    "replication-role",
];

fn pod_role(p: &Pod) -> Option<&'static str> {
    let labels = p.metadata.labels.as_ref()?;
    for k in ROLE_LABELS {
        match labels.get(k).map(|s| s.to_ascii_lowercase()).as_deref() {
            Some("replica" | "standby" | "secondary" | "slave" | "read-replica") => {
                return Some("replica");
            }
            Some("primary" | "master" | "leader") => return Some("primary"),
            _ => {}
        }
    }
    None
}

/// The address of a pod: `hostname.subdomain.ns.svc.cluster.local` when it has both, else its IP.
fn pod_address(p: &Pod, ns: &str) -> Option<String> {
    let spec = p.spec.as_ref()?;
    if let (Some(h), Some(sd)) = (spec.hostname.as_deref(), spec.subdomain.as_deref()) {
        return Some(format!("{h}.{sd}.{ns}.svc.cluster.local"));
    }
    p.status.as_ref()?.pod_ip.clone()
}

/// The host to read from, and whether it is a replica: a pod labelled with the wanted role,
/// else a StatefulSet ordinal (0 taken as the primary), else a Service selecting a
/// Deployment's pods, else any running pod.
pub(crate) fn choose_source(
    snap: &Snapshot,
    ns: &str,
    target: &Target,
    w: &Workload<'_>,
    pref: SourcePref,
    warnings: &mut Warnings,
) -> Result<(String, bool)> {
    let want = match pref {
        SourcePref::Replica => "replica",
        SourcePref::Primary => "primary",
    };
    // Pods labelled with a role win.
    let active: Vec<&Pod> = w.pods.iter().copied().filter(|p| pod_active(p)).collect();
    let labelled: Vec<&Pod> = active
        .iter()
        .copied()
        .filter(|p| pod_role(p) == Some(want))
        .collect();
    if let Some(p) = labelled.iter().find(|p| pod_ready(p)).or(labelled.first())
        && let Some(addr) = pod_address(p, ns)
    {
        return Ok((addr, want == "replica"));
    }
    if let Some(sts) = w.sts {
        return statefulset_source(sts, ns, target, &active, pref, warnings);
    }
    if target.kind == TargetKind::Deployment {
        // A Service that selects the deployment's pods.
        let tmpl_labels = active.first().and_then(|p| p.metadata.labels.as_ref());
        for svc in snap
            .services
            .iter()
            .filter(|s| s.metadata.namespace.as_deref() == Some(ns))
        {
            let Some(sel) = svc.spec.as_ref().and_then(|s| s.selector.as_ref()) else {
                continue;
            };
            if !sel.is_empty()
                && tmpl_labels.is_some_and(|l| sel.iter().all(|(k, v)| l.get(k) == Some(v)))
            {
                let name = svc.metadata.name.as_deref().unwrap_or("");
                return Ok((format!("{name}.{ns}.svc.cluster.local"), false));
            }
        }
    }
    let p = active
        .iter()
        .find(|p| pod_ready(p))
        .or(active.first())
        .ok_or_else(|| {
            Error::Failed(format!(
                "{} has no running pod to read from",
                target.display()
            ))
        })?;
    let addr = pod_address(p, ns).ok_or_else(|| {
        Error::Failed(format!(
            "pod {} has no address yet",
            p.metadata.name.as_deref().unwrap_or("")
        ))
    })?;
    Ok((addr, pod_role(p) == Some("replica")))
}

/// A StatefulSet without role labels: a replica is the highest ready ordinal above 0 (or the
/// last one), the primary ordinal 0; addressed through the governing Service.
fn statefulset_source(
    sts: &StatefulSet,
    ns: &str,
    target: &Target,
    active: &[&Pod],
    pref: SourcePref,
    warnings: &mut Warnings,
) -> Result<(String, bool)> {
    let replicas = sts.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let svc = sts
        .spec
        .as_ref()
        .and_then(|s| s.service_name.clone())
        .filter(|s| !s.is_empty());
    let ordinal = if pref == SourcePref::Replica && replicas > 1 {
        // Convention (kiamol's todo-db, most charts): ordinal 0 is the primary. Prefer the
        // highest ready ordinal among the others.
        let ready_ord = active
            .iter()
            .filter(|p| pod_ready(p))
            .filter_map(|p| {
                p.metadata
                    .name
                    .as_deref()?
                    .strip_prefix(&format!("{}-", target.name))?
                    .parse::<i32>()
                    .ok()
            })
            .filter(|o| *o > 0 && *o < replicas)
            .max();
        let o = ready_ord.unwrap_or(replicas - 1);
        warnings.push(format!(
            "reading from replica {}-{o} (assuming ordinal 0 is the primary; --source primary to read from it)",
            target.name
        ));
        o
    } else {
        0
    };
    let pod_name = format!("{}-{ordinal}", target.name);
    match svc {
        Some(svc) => Ok((
            format!("{pod_name}.{svc}.{ns}.svc.cluster.local"),
            ordinal > 0,
        )),
        None => {
            let p = active
                .iter()
                .find(|p| p.metadata.name.as_deref() == Some(pod_name.as_str()))
                .and_then(|p| pod_address(p, ns));
            p.map(|a| (a, ordinal > 0)).ok_or_else(|| {
                Error::Failed(format!(
                    "{} has no serviceName and pod {pod_name} has no IP",
                    target.display()
                ))
            })
        }
    }
}
