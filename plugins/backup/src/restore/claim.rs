//! A claim from a VolumeSnapshot (`--to pvc/NEW`), and the swap of one StatefulSet ordinal's
//! claim for it (`--replace sts/NAME --ordinal N`), as plans. The swap's steps are data
//! ([`ReplaceStep`]); `run::replace` carries them out, each one idempotent, so a re-run after
//! an interruption converges.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimSpec, TypedLocalObjectReference,
    VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::job::METHOD_RESTORE;
use super::{RestoreKind, RestoreObjects, RestorePlan, RestoreRequest, find_claim, forbidden};
use crate::volsnap::SnapshotState;
use crate::{LABEL_METHOD, Method, Target, TargetKind, Warnings, our_labels};
use stateful_core::error::{Error, Result};
use stateful_core::kinds::Kind;
use stateful_core::snapshot::Snapshot;

/// On a restored claim: `volumesnapshot/NAME` it was made from.
pub const ANNOTATION_RESTORED_FROM: &str = "kubectl-stateful.io/restored-from";
/// On a claim made by `--replace`: the volume it replaced (kept, reclaim policy Retain).
pub const ANNOTATION_REPLACED_VOLUME: &str = "kubectl-stateful.io/replaced-volume";
/// On a StatefulSet scaled down by `--replace`: its replicas before, until it is scaled back.
pub const ANNOTATION_RESTORE_REPLICAS: &str = "kubectl-stateful.io/restore-replicas";

fn s<'a>(v: &'a Value, p: &str) -> Option<&'a str> {
    v.pointer(p).and_then(Value::as_str)
}

/// A snapshot that can be restored now, or why not.
fn ready_snapshot(vs: &Value) -> Result<SnapshotState> {
    let name = s(vs, "/metadata/name").unwrap_or("");
    let st = SnapshotState::of(vs);
    if let Some(e) = &st.error
        && !st.ready
    {
        return Err(Error::Failed(format!(
            "volumesnapshot {name} has failed: {e}"
        )));
    }
    if !st.ready {
        return Err(Error::Failed(format!(
            "volumesnapshot {name} is not ready to use yet (status {}); wait for it (kubectl backup list) and run this again",
            st.status_word()
        )));
    }
    Ok(st)
}

/// Whether a claim was made from this snapshot (its dataSource or our annotation).
fn made_from(pvc: &PersistentVolumeClaim, vs_name: &str) -> bool {
    let ds = pvc.spec.as_ref().and_then(|s| s.data_source.as_ref());
    ds.is_some_and(|d| d.kind == "VolumeSnapshot" && d.name == vs_name)
        || pvc
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(ANNOTATION_RESTORED_FROM))
            .is_some_and(|v| *v == format!("volumesnapshot/{vs_name}"))
}

/// The class of a claim restored from `vs`: `--storage-class`, else the source claim's, else
/// the StorageClass of the snapshot's CSI driver (the default one, or the only one).
fn class_for(
    snap: &Snapshot,
    vs: &Value,
    wanted: Option<&str>,
    from_claim: Option<&str>,
    warnings: &mut Warnings,
) -> Result<Option<String>> {
    if let Some(w) = wanted {
        return Ok(Some(w.to_string()));
    }
    if let Some(c) = from_claim {
        return Ok(Some(c.to_string()));
    }
    let class = s(vs, "/spec/volumeSnapshotClassName");
    let driver = class.and_then(|c| {
        snap.dynamic
            .get(&Kind::VolumeSnapshotClass)
            .into_iter()
            .flatten()
            .find(|v| s(v, "/metadata/name") == Some(c))
            .and_then(|v| s(v, "/driver"))
    });
    let Some(driver) = driver else {
        return Err(Error::Usage(format!(
            "cannot tell the CSI driver of volumesnapshot {} (its class {} is not visible); pass --storage-class",
            s(vs, "/metadata/name").unwrap_or(""),
            class.unwrap_or("(none)")
        )));
    };
    let matching: Vec<_> = snap
        .storage_classes
        .iter()
        .filter(|c| c.provisioner == driver)
        .collect();
    let name = |c: &k8s_openapi::api::storage::v1::StorageClass| {
        c.metadata.name.clone().unwrap_or_default()
    };
    let default = matching
        .iter()
        .find(|c| stateful_core::snapshot::is_default_class(c));
    match (default, matching.as_slice()) {
        (Some(c), _) => Ok(Some(name(c))),
        (None, [one]) => Ok(Some(name(one))),
        (None, []) => Err(Error::Failed(format!(
            "no StorageClass provisions {driver} (the snapshot's driver); create one or pass --storage-class"
        ))),
        (None, many) => {
            warnings.push(format!("several StorageClasses for {driver}"));
            Err(Error::Usage(format!(
                "several StorageClasses provision {driver} and none is default ({}); pass --storage-class",
                many.iter().map(|c| name(c)).collect::<Vec<_>>().join(", ")
            )))
        }
    }
}

/// The size of a claim restored from `vs`: at least the snapshot's restoreSize.
fn size_for(
    vs: &Value,
    st: &SnapshotState,
    wanted: Option<&str>,
    base: Option<&str>,
) -> Result<String> {
    let name = s(vs, "/metadata/name").unwrap_or("");
    let restore = st.restore_size.as_deref();
    let bigger = |a: &str, b: &str| match (
        stateful_core::quantity::parse(a),
        stateful_core::quantity::parse(b),
    ) {
        (Some(x), Some(y)) => x >= y,
        _ => true,
    };
    match (wanted, restore, base) {
        (Some(w), Some(r), _) if !bigger(w, r) => Err(Error::Usage(format!(
            "--size {w} is smaller than volumesnapshot {name}'s restoreSize {r}"
        ))),
        (Some(w), _, _) => Ok(w.to_string()),
        (None, Some(r), Some(b)) => Ok(if bigger(b, r) { b } else { r }.to_string()),
        (None, Some(r), None) => Ok(r.to_string()),
        (None, None, Some(b)) => Ok(b.to_string()),
        (None, None, None) => Err(Error::Usage(format!(
            "volumesnapshot {name} has no restoreSize; pass --size"
        ))),
    }
}

fn request_of(spec: Option<&PersistentVolumeClaimSpec>) -> Option<String> {
    spec?
        .resources
        .as_ref()?
        .requests
        .as_ref()?
        .get("storage")
        .map(|q| q.0.clone())
}

/// Everything a claim from a snapshot is made of.
struct NewClaim<'a> {
    ns: &'a str,
    name: &'a str,
    vs_name: &'a str,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    /// Access modes and volume mode (from the source claim or the template).
    like: Option<&'a PersistentVolumeClaimSpec>,
    class: Option<String>,
    size: String,
}

fn new_claim(c: NewClaim<'_>) -> PersistentVolumeClaim {
    let mut annotations = c.annotations;
    annotations.insert(
        ANNOTATION_RESTORED_FROM.to_string(),
        format!("volumesnapshot/{}", c.vs_name),
    );
    PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some(c.name.to_string()),
            namespace: Some(c.ns.to_string()),
            labels: Some(c.labels),
            annotations: Some(annotations),
            ..Default::default()
        },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: c
                .like
                .and_then(|l| l.access_modes.clone())
                .or_else(|| Some(vec!["ReadWriteOnce".into()])),
            volume_mode: c.like.and_then(|l| l.volume_mode.clone()),
            storage_class_name: c.class,
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([("storage".to_string(), Quantity(c.size))])),
                ..Default::default()
            }),
            data_source: Some(TypedLocalObjectReference {
                api_group: Some("snapshot.storage.k8s.io".into()),
                kind: "VolumeSnapshot".into(),
                name: c.vs_name.to_string(),
            }),
            ..Default::default()
        }),
        status: None,
    }
}

/// Whether a class binds only when a pod uses the claim.
fn waits_for_consumer(snap: &Snapshot, class: Option<&str>) -> bool {
    let class = class.map(str::to_string).or_else(|| {
        snap.storage_classes
            .iter()
            .find(|c| stateful_core::snapshot::is_default_class(c))
            .and_then(|c| c.metadata.name.clone())
    });
    snap.storage_classes
        .iter()
        .find(|c| c.metadata.name == class)
        .and_then(|c| c.volume_binding_mode.as_deref())
        == Some("WaitForFirstConsumer")
}

/// `volumesnapshot/NAME --to pvc/NEW`.
pub(super) fn plan_snapshot_claim(
    snap: &Snapshot,
    ns: &str,
    req: &RestoreRequest,
    vs: &Value,
    claim: &str,
    _name: &str,
) -> Result<RestorePlan> {
    let mut warnings = Vec::new();
    let vs_name = s(vs, "/metadata/name").unwrap_or("").to_string();
    let lock = Target {
        kind: TargetKind::Pvc,
        name: claim.to_string(),
    };
    let summary = format!("volumesnapshot/{vs_name} into a new claim {claim}");
    if let Some(existing) = find_claim(snap, ns, claim) {
        if made_from(existing, &vs_name) {
            return Ok(RestorePlan {
                name: claim.to_string(),
                namespace: ns.to_string(),
                kind: RestoreKind::SnapshotClaim {
                    claim: claim.to_string(),
                    wait_for_consumer: true,
                },
                objects: RestoreObjects::default(),
                summary,
                creates: Vec::new(),
                changes: Vec::new(),
                overwrites: Vec::new(),
                skipped: vec![format!(
                    "pvc/{claim} exists, restored from volumesnapshot/{vs_name}"
                )],
                warnings,
                lock,
            });
        }
        return Err(Error::Failed(format!(
            "claim {claim} already exists (not from volumesnapshot/{vs_name}); a restore writes only to a new claim: pass another --to pvc/NAME, or --replace sts/NAME --ordinal N to swap a StatefulSet's claim"
        )));
    }
    let st = ready_snapshot(vs)?;
    let source =
        s(vs, "/spec/source/persistentVolumeClaimName").and_then(|c| find_claim(snap, ns, c));
    let source_spec = source.and_then(|c| c.spec.as_ref());
    let class = class_for(
        snap,
        vs,
        req.storage_class.as_deref(),
        source_spec.and_then(|s| s.storage_class_name.as_deref()),
        &mut warnings,
    )?;
    let size = size_for(
        vs,
        &st,
        req.size.as_deref(),
        request_of(source_spec).as_deref(),
    )?;
    let mut labels = our_labels(&lock, Method::Snapshot, None);
    labels.insert(LABEL_METHOD.to_string(), METHOD_RESTORE.to_string());
    labels.remove(crate::LABEL_TRIGGER);
    let pvc = new_claim(NewClaim {
        ns,
        name: claim,
        vs_name: &vs_name,
        labels,
        annotations: BTreeMap::new(),
        like: source_spec,
        class: class.clone(),
        size: size.clone(),
    });
    let wait_for_consumer = waits_for_consumer(snap, class.as_deref());
    Ok(RestorePlan {
        name: claim.to_string(),
        namespace: ns.to_string(),
        kind: RestoreKind::SnapshotClaim {
            claim: claim.to_string(),
            wait_for_consumer,
        },
        summary,
        creates: vec![format!(
            "pvc/{claim}: {size}, class {}, dataSource volumesnapshot/{vs_name}",
            class.as_deref().unwrap_or("(the default)")
        )],
        changes: Vec::new(),
        overwrites: Vec::new(),
        skipped: Vec::new(),
        objects: RestoreObjects {
            pvc: Some(pvc),
            job: None,
        },
        warnings,
        lock,
    })
}

/// One step of the swap. Each is carried out only when not done already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplaceStep {
    /// Set the old volume's reclaim policy to Retain, so deleting its claim keeps it.
    RetainVolume { volume: String, was: String },
    /// Scale the StatefulSet down to the ordinal (its pods from the ordinal up stop), noting
    /// the replicas in an annotation.
    ScaleDown { from: i32, to: i32 },
    /// Wait until the ordinal's pod is gone.
    WaitPodGone { pod: String },
    /// Delete the claim (its volume is kept: Retain).
    DeleteClaim { claim: String },
    /// Create the claim of the same name from the snapshot.
    CreateClaim { claim: String },
    /// Scale back to the replicas it had.
    ScaleUp { to: i32 },
    /// Wait until the pod is Running with the claim Bound to a new volume.
    Verify { pod: String, claim: String },
}

impl ReplaceStep {
    pub fn describe(&self, sts: &str) -> String {
        match self {
            ReplaceStep::RetainVolume { volume, was } => {
                format!("pv/{volume}: reclaim policy {was} -> Retain (the old data is kept)")
            }
            ReplaceStep::ScaleDown { from, to } => {
                format!(
                    "sts/{sts}: replicas {from} -> {to} (annotated {ANNOTATION_RESTORE_REPLICAS}={from})"
                )
            }
            ReplaceStep::WaitPodGone { pod } => format!("wait for pod/{pod} to stop"),
            ReplaceStep::DeleteClaim { claim } => {
                format!("pvc/{claim}: deleted (its volume is kept)")
            }
            ReplaceStep::CreateClaim { claim } => {
                format!("pvc/{claim}: created again from the snapshot")
            }
            ReplaceStep::ScaleUp { to } => format!("sts/{sts}: replicas back to {to}"),
            ReplaceStep::Verify { pod, claim } => {
                format!("wait for pod/{pod} Running with pvc/{claim} Bound to a new volume")
            }
        }
    }
}

/// The swap of one ordinal's claim for a snapshot's.
#[derive(Debug, Clone)]
pub struct ReplacePlan {
    pub statefulset: String,
    pub ordinal: u32,
    pub pod: String,
    pub claim: String,
    pub snapshot: String,
    /// The volume the claim is bound to now (or, after an interrupted run, the Released
    /// volume it was bound to).
    pub old_volume: Option<String>,
    /// The replicas to come back to.
    pub replicas: i32,
    /// The pods that stop while the claim is swapped.
    pub stops: Vec<String>,
    /// The claim to create.
    pub new_claim: PersistentVolumeClaim,
    /// Steps to carry out, in order.
    pub steps: Vec<ReplaceStep>,
    /// Steps already done (a re-run).
    pub done: Vec<ReplaceStep>,
}

impl ReplacePlan {
    /// Only the final check is left.
    pub fn is_done(&self) -> bool {
        self.steps
            .iter()
            .all(|s| matches!(s, ReplaceStep::Verify { .. }))
    }

    /// How to go back to the old volume, printed at the end.
    pub fn return_hint(&self, ns: &str) -> String {
        let Some(old) = &self.old_volume else {
            return String::new();
        };
        format!(
            "The old volume is pv/{old} (reclaim policy Retain, phase Released). To return to it:\n\
             \x20 kubectl scale sts/{sts} --replicas={o} -n {ns}\n\
             \x20 kubectl delete pvc {claim} -n {ns}\n\
             \x20 kubectl patch pv {old} --type json -p '[{{\"op\":\"remove\",\"path\":\"/spec/claimRef\"}}]'\n\
             \x20 create pvc {claim} again with spec.volumeName: {old} (same class, size and access modes)\n\
             \x20 kubectl scale sts/{sts} --replicas={r} -n {ns}",
            sts = self.statefulset,
            o = self.ordinal,
            claim = self.claim,
            r = self.replicas,
        )
    }
}

fn annotation<'a>(m: &'a ObjectMeta, k: &str) -> Option<&'a str> {
    m.annotations.as_ref()?.get(k).map(String::as_str)
}

/// The StatefulSet of `--replace`, checked: its replicas now, the replicas noted by an
/// interrupted run, and the replicas to come back to.
fn replace_target<'a>(
    snap: &'a Snapshot,
    ns: &str,
    sts_name: &str,
    ordinal: u32,
) -> Result<(&'a StatefulSet, i32, Option<i32>, i32)> {
    let sts: &StatefulSet = snap
        .statefulsets
        .iter()
        .find(|s| {
            s.metadata.namespace.as_deref() == Some(ns)
                && s.metadata.name.as_deref() == Some(sts_name)
        })
        .ok_or_else(|| Error::not_found("statefulsets.apps", sts_name, Some(ns)))?;
    let spec = sts
        .spec
        .as_ref()
        .ok_or_else(|| Error::Failed(format!("statefulset {sts_name} has no spec")))?;
    let current = spec.replicas.unwrap_or(1);
    let noted =
        annotation(&sts.metadata, ANNOTATION_RESTORE_REPLICAS).and_then(|v| v.parse::<i32>().ok());
    let replicas = noted.unwrap_or(current);
    let n = i32::try_from(ordinal).unwrap_or(i32::MAX);
    if n >= replicas {
        return Err(Error::Usage(format!(
            "statefulset {sts_name} has {replicas} replica(s): ordinal {ordinal} does not exist"
        )));
    }
    if spec
        .ordinals
        .as_ref()
        .and_then(|o| o.start)
        .is_some_and(|s| s != 0)
    {
        return Err(Error::Usage(format!(
            "statefulset {sts_name} numbers its pods from spec.ordinals.start; --replace supports ordinals from 0 only"
        )));
    }
    if spec
        .persistent_volume_claim_retention_policy
        .as_ref()
        .and_then(|p| p.when_scaled.as_deref())
        == Some("Delete")
    {
        return Err(Error::Failed(format!(
            "statefulset {sts_name} deletes its claims when scaled down (persistentVolumeClaimRetentionPolicy.whenScaled: Delete): scaling it down to swap ordinal {ordinal}'s claim would delete the claims of ordinals {ordinal}..{}. Set whenScaled to Retain first, then run this again",
            replicas - 1
        )));
    }
    Ok((sts, current, noted, replicas))
}

/// The volumeClaimTemplate whose claim is swapped: `--template`, the only one, or the one
/// the snapshot's source claim was made from.
fn pick_template<'a>(
    spec: &'a k8s_openapi::api::apps::v1::StatefulSetSpec,
    req: &RestoreRequest,
    sts_name: &str,
    source_claim: &str,
) -> Result<&'a PersistentVolumeClaim> {
    let templates: Vec<_> = spec.volume_claim_templates.iter().flatten().collect();
    let tname = |t: &PersistentVolumeClaim| t.metadata.name.clone().unwrap_or_default();
    Ok(match &req.template {
        Some(w) => templates.iter().find(|t| tname(t) == *w).ok_or_else(|| {
            Error::Usage(format!(
                "statefulset {sts_name} has no volumeClaimTemplate {w} ({})",
                templates.iter().map(|t| tname(t)).collect::<Vec<_>>().join(", ")
            ))
        })?,
        None => match templates.as_slice() {
            [] => {
                return Err(Error::Usage(format!(
                    "statefulset {sts_name} has no volumeClaimTemplates: there is no claim to replace"
                )));
            }
            [one] => one,
            many => many
                .iter()
                .find(|t| source_claim.starts_with(&format!("{}-{sts_name}-", tname(t))))
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "statefulset {sts_name} has several volumeClaimTemplates ({}); pass --template",
                        many.iter().map(|t| tname(t)).collect::<Vec<_>>().join(", ")
                    ))
                })?,
        },
    })
}

/// The old volume: the claim's now, or (after an interrupted run, the claim deleted) a
/// volume whose claimRef still names it; when done, the one our annotation names.
fn old_volume_of(
    snap: &Snapshot,
    ns: &str,
    claim: &str,
    existing: Option<&PersistentVolumeClaim>,
    claim_done: bool,
) -> Option<String> {
    match existing {
        Some(c) if !claim_done => c.spec.as_ref().and_then(|s| s.volume_name.clone()),
        Some(c) => annotation(&c.metadata, ANNOTATION_REPLACED_VOLUME).map(str::to_string),
        None => snap
            .pvs
            .iter()
            .find(|pv| {
                pv.spec
                    .as_ref()
                    .and_then(|s| s.claim_ref.as_ref())
                    .is_some_and(|r| {
                        r.namespace.as_deref() == Some(ns) && r.name.as_deref() == Some(claim)
                    })
            })
            .and_then(|pv| pv.metadata.name.clone()),
    }
}

/// `volumesnapshot/NAME --replace sts/NAME --ordinal N`.
pub(super) fn plan_replace(
    snap: &Snapshot,
    ns: &str,
    req: &RestoreRequest,
    vs: &Value,
    sts_name: &str,
    ordinal: u32,
    _name: &str,
) -> Result<RestorePlan> {
    let mut warnings = Vec::new();
    forbidden(snap, Kind::StatefulSet, ns)?;
    let vs_name = s(vs, "/metadata/name").unwrap_or("").to_string();
    let (sts, current, noted, replicas) = replace_target(snap, ns, sts_name, ordinal)?;
    let n = i32::try_from(ordinal).unwrap_or(i32::MAX);
    let spec = sts
        .spec
        .as_ref()
        .ok_or_else(|| Error::Failed(format!("statefulset {sts_name} has no spec")))?;
    let tname = |t: &PersistentVolumeClaim| t.metadata.name.clone().unwrap_or_default();
    let source_claim = s(vs, "/spec/source/persistentVolumeClaimName").unwrap_or("");
    let template = pick_template(spec, req, sts_name, source_claim)?;
    let claim = format!("{}-{sts_name}-{ordinal}", tname(template));
    let pod = format!("{sts_name}-{ordinal}");
    let existing = find_claim(snap, ns, &claim);
    let claim_done = existing.is_some_and(|c| made_from(c, &vs_name));
    let old_volume = old_volume_of(snap, ns, &claim, existing, claim_done);
    let old_policy = old_volume.as_deref().and_then(|v| {
        snap.pvs
            .iter()
            .find(|p| p.metadata.name.as_deref() == Some(v))
            .and_then(|p| p.spec.as_ref())
            .and_then(|s| s.persistent_volume_reclaim_policy.clone())
    });
    if existing.is_some()
        && !claim_done
        && old_volume.is_some()
        && old_policy.is_none()
        && !snap.is_complete(Kind::PersistentVolume)
    {
        warnings.push(format!(
            "pv/{} is not visible (no permission to read volumes?): its reclaim policy will be set to Retain without reading it first",
            old_volume.as_deref().unwrap_or("")
        ));
    }
    let st = if claim_done {
        SnapshotState::of(vs)
    } else {
        ready_snapshot(vs)?
    };
    let tspec = template.spec.as_ref();
    let class = class_for(
        snap,
        vs,
        req.storage_class.as_deref(),
        tspec.and_then(|s| s.storage_class_name.as_deref()),
        &mut warnings,
    )?;
    let size = if claim_done {
        request_of(tspec).unwrap_or_default()
    } else {
        size_for(vs, &st, req.size.as_deref(), request_of(tspec).as_deref())?
    };
    // Labels as the StatefulSet controller gives its claims: the template's and the
    // selector's; plus ours.
    let mut labels: BTreeMap<String, String> = template.metadata.labels.clone().unwrap_or_default();
    if let Some(m) = &spec.selector.match_labels {
        labels.extend(m.clone());
    }
    let mut annotations = BTreeMap::new();
    if let Some(old) = &old_volume {
        annotations.insert(ANNOTATION_REPLACED_VOLUME.to_string(), old.clone());
    }
    let new = new_claim(NewClaim {
        ns,
        name: &claim,
        vs_name: &vs_name,
        labels,
        annotations,
        like: tspec,
        class: class.clone(),
        size: size.clone(),
    });
    let stops: Vec<String> = (n..replicas).map(|o| format!("{sts_name}-{o}")).collect();
    let mut steps = Vec::new();
    let mut done = Vec::new();
    let mut step = |s: ReplaceStep, skip: bool| {
        if skip {
            done.push(s);
        } else {
            steps.push(s);
        }
    };
    if let Some(v) = &old_volume {
        let was = old_policy.clone().unwrap_or_else(|| "unknown".into());
        let skip = was == "Retain" || claim_done;
        step(
            ReplaceStep::RetainVolume {
                volume: v.clone(),
                was,
            },
            skip,
        );
    }
    step(
        ReplaceStep::ScaleDown {
            from: replicas,
            to: n,
        },
        claim_done || current <= n,
    );
    step(ReplaceStep::WaitPodGone { pod: pod.clone() }, claim_done);
    step(
        ReplaceStep::DeleteClaim {
            claim: claim.clone(),
        },
        claim_done || existing.is_none(),
    );
    step(
        ReplaceStep::CreateClaim {
            claim: claim.clone(),
        },
        claim_done,
    );
    step(
        ReplaceStep::ScaleUp { to: replicas },
        claim_done && current >= replicas && noted.is_none(),
    );
    step(
        ReplaceStep::Verify {
            pod: pod.clone(),
            claim: claim.clone(),
        },
        false,
    );
    let plan = ReplacePlan {
        statefulset: sts_name.to_string(),
        ordinal,
        pod: pod.clone(),
        claim: claim.clone(),
        snapshot: vs_name.clone(),
        old_volume: old_volume.clone(),
        replicas,
        stops: stops.clone(),
        new_claim: new,
        steps,
        done,
    };
    let creates = if claim_done {
        Vec::new()
    } else {
        vec![format!(
            "pvc/{claim}: {size}, class {}, dataSource volumesnapshot/{vs_name}",
            class.as_deref().unwrap_or("(the default)")
        )]
    };
    let changes = plan
        .steps
        .iter()
        .filter(|s| !matches!(s, ReplaceStep::CreateClaim { .. }))
        .map(|s| s.describe(sts_name))
        .collect();
    let skipped = plan.done.iter().map(|s| s.describe(sts_name)).collect();
    let overwrites = if claim_done {
        Vec::new()
    } else {
        let mut o = vec![format!(
            "pod/{pod}'s data: pvc/{claim} is bound to the snapshot's copy from now on; the old volume {} is kept (Retain), not overwritten",
            old_volume.as_deref().unwrap_or("(none)")
        )];
        if stops.len() > 1 {
            o.push(format!(
                "no data, but pods {} stop while the claim is swapped (scaling down to ordinal {ordinal})",
                stops.join(", ")
            ));
        }
        o
    };
    let objects = RestoreObjects {
        pvc: (!claim_done).then(|| plan.new_claim.clone()),
        job: None,
    };
    Ok(RestorePlan {
        name: claim.clone(),
        namespace: ns.to_string(),
        summary: format!(
            "volumesnapshot/{vs_name} as pvc/{claim} of sts/{sts_name} ordinal {ordinal}"
        ),
        kind: RestoreKind::Replace(Box::new(plan)),
        objects,
        creates,
        changes,
        overwrites,
        skipped,
        warnings,
        lock: Target {
            kind: TargetKind::StatefulSet,
            name: sts_name.to_string(),
        },
    })
}
