//! A snapshot kept current by watches: one kube-runtime watcher per kind, in the snapshot's
//! scope (the namespace, or all; the pod label selector on pods), each with kube-runtime's
//! default backoff. [`Watch::next`] applies one watcher event to a store of typed objects and
//! says what happened; [`Watch::snapshot`] is the current [`Snapshot`], which analysis reads as
//! it reads a LISTed one.
//!
//! A kind is in the snapshot once its watcher's first list is done (`InitDone`); a relist
//! (`Init` … `InitDone`, after a watch expired) replaces the kind's objects at once. A kind the
//! server refuses (403) or does not serve (a CRD's 404) becomes a [`Gap`], reported once, and
//! is not watched again: it stays unknown. Any other failure before every kind is listed is an
//! error (as for [`fetch`](super::fetch)); after that, a failing watch is retried and
//! reported as [`Update::Retrying`].
//!
//! No printing, no clock, no exit: the binary decides what to say and when to stop.

use std::collections::{BTreeMap, BTreeSet};

use super::cluster::{is_gap, not_an_api_answer};
use super::{Flavor, Gap, Kind, Object, PAGE_SIZE, Scope, Snapshot};
use crate::error::{Error, Result};
use futures::StreamExt;
use futures::stream::{BoxStream, SelectAll};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    Event, Node, PersistentVolume, PersistentVolumeClaim, Pod, Service,
};
use k8s_openapi::api::storage::v1::{CSIDriver, StorageClass, VolumeAttachment};
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};

/// One watcher event, with the kind it is about.
type Item = (Kind, watcher::Result<watcher::Event<DynamicObject>>);

/// `(namespace, name)` of an object: its key in a kind's store.
type Key = (String, String);

/// What one watcher event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// The objects of this kind changed (one applied or deleted, or a relist done).
    Changed(Kind),
    /// Nothing the snapshot holds changed yet (a relist began, an object of a list in
    /// progress came).
    Quiet,
    /// This kind cannot be watched (forbidden, or not served): it stays unknown. Said once.
    Gap(Gap),
    /// A watch failed after the first lists and is retried with backoff: what failed.
    Retrying(String),
    /// An object could not be read as its kind (skipped): what and why.
    Skipped(String),
    /// Every watcher ended (each kind is a gap).
    Ended,
}

/// The watched kinds' objects, kept current.
pub struct Watch<F: Flavor> {
    stream: SelectAll<BoxStream<'static, Item>>,
    kinds: BTreeSet<Kind>,
    scope: Scope,
    server: String,
    /// Kinds whose first list is done: their objects, by key.
    stores: BTreeMap<Kind, BTreeMap<Key, Object<F>>>,
    /// Relists in progress: the objects listed so far.
    relisting: BTreeMap<Kind, BTreeMap<Key, Object<F>>>,
    gaps: BTreeMap<Kind, Gap>,
}

/// The API resource of a kind (its group, version and plural).
fn api_resource(kind: Kind) -> ApiResource {
    match kind {
        Kind::Pod => ApiResource::erase::<Pod>(&()),
        Kind::PersistentVolumeClaim => ApiResource::erase::<PersistentVolumeClaim>(&()),
        Kind::PersistentVolume => ApiResource::erase::<PersistentVolume>(&()),
        Kind::StorageClass => ApiResource::erase::<StorageClass>(&()),
        Kind::VolumeAttachment => ApiResource::erase::<VolumeAttachment>(&()),
        Kind::Node => ApiResource::erase::<Node>(&()),
        Kind::StatefulSet => ApiResource::erase::<StatefulSet>(&()),
        Kind::Deployment => ApiResource::erase::<Deployment>(&()),
        Kind::ReplicaSet => ApiResource::erase::<ReplicaSet>(&()),
        Kind::Job => ApiResource::erase::<Job>(&()),
        Kind::CronJob => ApiResource::erase::<CronJob>(&()),
        Kind::Event => ApiResource::erase::<Event>(&()),
        Kind::Service => ApiResource::erase::<Service>(&()),
        Kind::CSIDriver => ApiResource::erase::<CSIDriver>(&()),
        Kind::VolumeSnapshot | Kind::VolumeSnapshotClass | Kind::VolumeSnapshotContent => kind
            .dynamic_resource()
            .unwrap_or_else(|| ApiResource::erase::<Pod>(&())),
    }
}

/// Is this watcher error one that says the kind cannot be watched (a gap)?
fn gap_status(kind: Kind, e: &watcher::Error) -> Option<&kube::core::Status> {
    match e {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s))
            if is_gap(kind, s) =>
        {
            Some(s)
        }
        watcher::Error::WatchError(s) if is_gap(kind, s) => Some(s),
        _ => None,
    }
}

/// One kind's watcher, ending right after an error that makes the kind a gap (it would only
/// be refused again).
fn kind_stream(client: &kube::Client, kind: Kind, scope: &Scope) -> BoxStream<'static, Item> {
    let ar = api_resource(kind);
    let api: Api<DynamicObject> = match (&scope.namespace, kind.namespaced()) {
        (Some(ns), true) => Api::namespaced_with(client.clone(), ns, &ar),
        _ => Api::all_with(client.clone(), &ar),
    };
    let mut cfg = watcher::Config::default().page_size(PAGE_SIZE);
    if kind == Kind::Pod
        && let Some(sel) = &scope.pod_selector
        && !sel.text.is_empty()
    {
        cfg = cfg.labels(&sel.text);
    }
    watcher(api, cfg)
        .default_backoff()
        .scan(false, move |ended, item| {
            if *ended {
                return futures::future::ready(None);
            }
            if let Err(e) = &item {
                *ended = gap_status(kind, e).is_some();
            }
            futures::future::ready(Some((kind, item)))
        })
        .boxed()
}

/// An object's JSON and key, with the kind and apiVersion a list item may lack.
fn to_object<F: Flavor>(
    kind: Kind,
    o: &DynamicObject,
) -> std::result::Result<(Key, Object<F>), String> {
    let ar = api_resource(kind);
    let key = (
        o.metadata.namespace.clone().unwrap_or_default(),
        o.metadata.name.clone().unwrap_or_default(),
    );
    let v = serde_json::to_value(o).map_err(|e| format!("{kind} {}/{}: {e}", key.0, key.1))?;
    match Object::from_value(v, Some((&ar.kind, &ar.api_version)))? {
        Some(obj) => Ok((key, obj)),
        None => Err(format!(
            "{kind} {}/{}: not of the watched kind",
            key.0, key.1
        )),
    }
}

fn key_of(o: &DynamicObject) -> Key {
    (
        o.metadata.namespace.clone().unwrap_or_default(),
        o.metadata.name.clone().unwrap_or_default(),
    )
}

impl<F: Flavor> Watch<F> {
    /// Start one watcher per kind (no request is made before [`Watch::next`] is polled).
    /// `server` names the API server in errors.
    pub fn start(client: &kube::Client, server: &str, kinds: &[Kind], scope: &Scope) -> Self {
        let kinds: BTreeSet<Kind> = kinds.iter().copied().collect();
        let stream =
            futures::stream::select_all(kinds.iter().map(|&k| kind_stream(client, k, scope)));
        Watch {
            stream,
            kinds,
            scope: scope.clone(),
            server: server.to_string(),
            stores: BTreeMap::new(),
            relisting: BTreeMap::new(),
            gaps: BTreeMap::new(),
        }
    }

    /// Has every kind been listed once, or become a gap? The snapshot is whole from then on.
    pub fn ready(&self) -> bool {
        self.kinds
            .iter()
            .all(|k| self.stores.contains_key(k) || self.gaps.contains_key(k))
    }

    /// Wait for the next watcher event and apply it. Before [`Watch::ready`], a failure that
    /// is not a gap is an error (the cluster could not be read); after it, it is
    /// [`Update::Retrying`]. Cancel-safe: nothing is held across the wait.
    pub async fn next(&mut self) -> Result<Update> {
        match self.stream.next().await {
            None => Ok(Update::Ended),
            Some((kind, item)) => self.apply(kind, item),
        }
    }

    fn apply(
        &mut self,
        kind: Kind,
        item: watcher::Result<watcher::Event<DynamicObject>>,
    ) -> Result<Update> {
        let ev = match item {
            Ok(ev) => ev,
            Err(e) => return self.failed(kind, e),
        };
        Ok(match ev {
            watcher::Event::Init => {
                self.relisting.insert(kind, BTreeMap::new());
                Update::Quiet
            }
            watcher::Event::InitApply(o) => match to_object(kind, &o) {
                Ok((key, obj)) => {
                    self.relisting.entry(kind).or_default().insert(key, obj);
                    Update::Quiet
                }
                Err(why) => Update::Skipped(why),
            },
            watcher::Event::InitDone => {
                let objs = self.relisting.remove(&kind).unwrap_or_default();
                self.stores.insert(kind, objs);
                Update::Changed(kind)
            }
            watcher::Event::Apply(o) => match to_object(kind, &o) {
                Ok((key, obj)) => {
                    self.stores.entry(kind).or_default().insert(key, obj);
                    Update::Changed(kind)
                }
                Err(why) => Update::Skipped(why),
            },
            watcher::Event::Delete(o) => {
                let gone = self
                    .stores
                    .get_mut(&kind)
                    .and_then(|s| s.remove(&key_of(&o)));
                if gone.is_some() {
                    Update::Changed(kind)
                } else {
                    Update::Quiet
                }
            }
        })
    }

    fn failed(&mut self, kind: Kind, e: watcher::Error) -> Result<Update> {
        let ns = if kind.namespaced() {
            self.scope.namespace.clone()
        } else {
            None
        };
        if let Some(status) = gap_status(kind, &e) {
            let gap = Gap::of_status(kind, "watch", ns, status);
            // What was known of the kind is no longer kept current: it becomes unknown.
            self.stores.remove(&kind);
            self.relisting.remove(&kind);
            self.gaps.insert(kind, gap.clone());
            return Ok(Update::Gap(gap));
        }
        if self.stores.contains_key(&kind) {
            return Ok(Update::Retrying(format!("watch {}: {e}", kind.resource())));
        }
        Err(match e {
            watcher::Error::InitialListFailed(kube::Error::Api(s))
            | watcher::Error::WatchStartFailed(kube::Error::Api(s))
                if matches!(s.code, 403 | 404) =>
            {
                not_an_api_answer(kind, ns.as_deref(), &self.server, &s)
            }
            watcher::Error::InitialListFailed(k) | watcher::Error::WatchStartFailed(k) => {
                let mut err = Error::from_kube(k, "watch", kind.resource(), ns.as_deref(), None);
                if let Error::Api { context, .. } = &mut err {
                    let path = kind.list_path(ns.as_deref());
                    *context = format!("{context} (server {}, GET {path})", self.server);
                }
                err
            }
            other => Error::Api {
                context: format!("watch {} (server {})", kind.resource(), self.server),
                message: other.to_string(),
            },
        })
    }

    /// The current snapshot: every listed kind, complete in scope (a watch sees every object
    /// of its kind), objects in key order; the gaps.
    pub fn snapshot(&self) -> Snapshot<F> {
        let mut s = Snapshot::default();
        for (&kind, objs) in &self.stores {
            s.known.insert(kind);
            s.complete.insert(kind);
            for o in objs.values() {
                s.push(o.clone());
            }
        }
        s.gaps = self.gaps.values().cloned().collect();
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{GapReason, Lean};
    use serde_json::{Value, json};

    /// A Value as the dynamic object a watcher yields.
    fn dynamic(v: Value) -> DynamicObject {
        serde_json::from_value(v).expect("a dynamic object")
    }

    fn watch() -> Watch<Lean> {
        Watch {
            stream: futures::stream::select_all(Vec::new()),
            kinds: [Kind::PersistentVolumeClaim, Kind::PersistentVolume]
                .into_iter()
                .collect(),
            scope: Scope::default(),
            server: "https://127.0.0.1:1".into(),
            stores: BTreeMap::new(),
            relisting: BTreeMap::new(),
            gaps: BTreeMap::new(),
        }
    }

    fn claim(name: &str, phase: &str) -> DynamicObject {
        // A list item: no kind, no apiVersion.
        dynamic(json!({
            "metadata": {"name": name, "namespace": "ns"},
            "spec": {"accessModes": ["ReadWriteOnce"]},
            "status": {"phase": phase},
        }))
    }

    fn phases(w: &Watch<Lean>) -> Vec<(String, String)> {
        w.snapshot()
            .pvcs
            .iter()
            .map(|c| {
                (
                    c.metadata.name.clone().unwrap_or_default(),
                    c.status
                        .as_ref()
                        .and_then(|s| s.phase.clone())
                        .unwrap_or_default(),
                )
            })
            .collect()
    }

    fn ok(w: &mut Watch<Lean>, kind: Kind, ev: watcher::Event<DynamicObject>) -> Update {
        w.apply(kind, Ok(ev)).expect("applies")
    }

    #[test]
    fn a_kind_is_known_once_listed_and_follows_applies_and_deletes() {
        let mut w = watch();
        let pvc = Kind::PersistentVolumeClaim;
        assert_eq!(ok(&mut w, pvc, watcher::Event::Init), Update::Quiet);
        assert_eq!(
            ok(
                &mut w,
                pvc,
                watcher::Event::InitApply(claim("a", "Pending"))
            ),
            Update::Quiet
        );
        assert!(!w.snapshot().knows(pvc), "not before its list is done");
        assert_eq!(
            ok(&mut w, pvc, watcher::Event::InitDone),
            Update::Changed(pvc)
        );
        assert!(!w.ready(), "volumes are not listed yet");
        let s = w.snapshot();
        assert!(s.knows(pvc) && s.is_complete(pvc));
        assert_eq!(phases(&w), [("a".into(), "Pending".into())]);
        ok(&mut w, pvc, watcher::Event::Apply(claim("a", "Bound")));
        ok(&mut w, pvc, watcher::Event::Apply(claim("b", "Pending")));
        assert_eq!(
            phases(&w),
            [("a".into(), "Bound".into()), ("b".into(), "Pending".into())]
        );
        assert_eq!(
            ok(&mut w, pvc, watcher::Event::Delete(claim("a", "Bound"))),
            Update::Changed(pvc)
        );
        assert_eq!(
            ok(&mut w, pvc, watcher::Event::Delete(claim("zz", "Bound"))),
            Update::Quiet,
            "deleting what is not held changes nothing"
        );
        assert_eq!(phases(&w), [("b".into(), "Pending".into())]);
    }

    #[test]
    fn a_relist_replaces_the_kind_at_once() {
        let mut w = watch();
        let pvc = Kind::PersistentVolumeClaim;
        ok(&mut w, pvc, watcher::Event::Init);
        ok(
            &mut w,
            pvc,
            watcher::Event::InitApply(claim("a", "Pending")),
        );
        ok(&mut w, pvc, watcher::Event::InitDone);
        ok(&mut w, pvc, watcher::Event::Init);
        ok(&mut w, pvc, watcher::Event::InitApply(claim("c", "Bound")));
        assert_eq!(
            phases(&w),
            [("a".into(), "Pending".into())],
            "old until done"
        );
        ok(&mut w, pvc, watcher::Event::InitDone);
        assert_eq!(phases(&w), [("c".into(), "Bound".into())]);
    }

    #[test]
    fn a_forbidden_kind_becomes_a_gap_and_the_snapshot_is_ready_without_it() {
        let mut w = watch();
        let pv = Kind::PersistentVolume;
        let pvc = Kind::PersistentVolumeClaim;
        ok(&mut w, pvc, watcher::Event::Init);
        ok(&mut w, pvc, watcher::Event::InitDone);
        let status = kube::core::Status::failure("persistentvolumes is forbidden", "Forbidden")
            .with_code(403);
        let upd = w
            .apply(
                pv,
                Err(watcher::Error::InitialListFailed(kube::Error::Api(
                    Box::new(status),
                ))),
            )
            .expect("a gap, not an error");
        let Update::Gap(g) = upd else {
            panic!("expected a gap, got {upd:?}")
        };
        assert_eq!(g.reason, GapReason::Forbidden);
        assert_eq!(g.to_string(), "forbidden: watch persistentvolumes");
        assert!(w.ready());
        let s = w.snapshot();
        assert!(!s.knows(pv) && s.gap(pv).is_some());
        assert!(s.unknown_reason(pv).is_some());
    }

    #[test]
    fn other_failures_are_errors_before_the_first_list_and_retried_after() {
        let mut w = watch();
        let pvc = Kind::PersistentVolumeClaim;
        let boom = || {
            let status = kube::core::Status::failure("etcd is sad", "InternalError").with_code(500);
            Err(watcher::Error::InitialListFailed(kube::Error::Api(
                Box::new(status),
            )))
        };
        let err = w.apply(pvc, boom()).expect_err("cannot read the cluster");
        assert!(err.to_string().contains("persistentvolumeclaims"), "{err}");
        ok(&mut w, pvc, watcher::Event::Init);
        ok(&mut w, pvc, watcher::Event::InitDone);
        assert!(matches!(w.apply(pvc, boom()), Ok(Update::Retrying(_))));
    }

    #[test]
    fn an_unreadable_object_is_skipped_not_a_failure() {
        let mut w = watch();
        let pvc = Kind::PersistentVolumeClaim;
        let bad = dynamic(json!({
            "metadata": {"name": "x", "namespace": "ns"},
            "spec": {"accessModes": "not a list"},
        }));
        assert!(matches!(
            ok(&mut w, pvc, watcher::Event::Apply(bad)),
            Update::Skipped(_)
        ));
    }
}
