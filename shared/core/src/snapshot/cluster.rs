//! Cluster LISTs: paginated, concurrent, scoped; 403/404 become gaps in the snapshot.

use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use kube::api::{Api, DynamicObject, ListParams};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};

use super::object::*;
use super::*;

/// Page size for LISTs (kubectl's default chunk size).
pub const PAGE_SIZE: u32 = 500;

/// Api for a namespaced kind: the namespace in scope, or all namespaces.
fn api_ns<K>(client: &kube::Client, scope: &Scope) -> Api<K>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>,
{
    match &scope.namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Api for a cluster-scoped kind.
fn api_cluster<K>(client: &kube::Client) -> Api<K>
where
    K: Resource<DynamicType = ()>,
{
    Api::all(client.clone())
}

/// LIST all pages of one kind.
async fn list_pages<K>(
    api: Api<K>,
    kind: Kind,
    scope: &Scope,
) -> std::result::Result<Vec<K>, kube::Error>
where
    K: Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + fmt::Debug,
    K: k8s_openapi::Metadata<Ty = ObjectMeta>,
{
    let mut lp = ListParams::default().limit(PAGE_SIZE);
    if kind == Kind::Pod
        && let Some(sel) = &scope.pod_selector
        && !sel.text.is_empty()
    {
        lp = lp.labels(&sel.text);
    }
    let mut out = Vec::new();
    loop {
        let page = api.list(&lp).await?;
        out.extend(page.items);
        match page.metadata.continue_ {
            Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
            _ => break,
        }
    }
    Ok(out)
}

/// LIST all pages of a core/v1 kind (pods, claims, volumes) straight into `K`, which need not
/// be a k8s-openapi type: the trace lists its lean objects this way.
async fn list_raw<K: serde::de::DeserializeOwned>(
    client: &kube::Client,
    kind: Kind,
    scope: &Scope,
) -> std::result::Result<Vec<K>, kube::Error> {
    #[derive(Deserialize)]
    struct Page<K> {
        #[serde(default)]
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta,
        #[serde(default = "Vec::new")]
        items: Vec<K>,
    }
    let path = match (&scope.namespace, kind.namespaced()) {
        (Some(ns), true) => format!("/api/v1/namespaces/{ns}/{}", kind.resource()),
        _ => format!("/api/v1/{}", kind.resource()),
    };
    let mut lp = ListParams::default().limit(PAGE_SIZE);
    if kind == Kind::Pod
        && let Some(sel) = &scope.pod_selector
        && !sel.text.is_empty()
    {
        lp = lp.labels(&sel.text);
    }
    let mut out = Vec::new();
    loop {
        let req = kube::core::Request::new(&path)
            .list(&lp)
            .map_err(kube::Error::BuildRequest)?;
        let page: Page<K> = client.request(req).await?;
        out.extend(page.items);
        match page.metadata.continue_ {
            Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
            _ => break,
        }
    }
    Ok(out)
}

async fn list_dynamic(
    client: &kube::Client,
    kind: Kind,
    scope: &Scope,
) -> std::result::Result<Vec<Value>, kube::Error> {
    let Some(ar) = kind.dynamic_resource() else {
        return Ok(Vec::new());
    };
    let api: Api<DynamicObject> = match (&scope.namespace, kind.namespaced()) {
        (Some(ns), true) => Api::namespaced_with(client.clone(), ns, &ar),
        _ => Api::all_with(client.clone(), &ar),
    };
    let mut lp = ListParams::default().limit(PAGE_SIZE);
    let mut out = Vec::new();
    loop {
        let page = api.list(&lp).await?;
        for mut o in page.items {
            o.metadata.managed_fields = None;
            let mut v = serde_json::to_value(&o).unwrap_or(Value::Null);
            if let Some(m) = v.as_object_mut() {
                m.insert("apiVersion".into(), Value::String(ar.api_version.clone()));
                m.insert("kind".into(), Value::String(ar.kind.clone()));
            }
            out.push(v);
        }
        match page.metadata.continue_ {
            Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
            _ => break,
        }
    }
    Ok(out)
}

async fn list_kind<F: Flavor>(
    client: &kube::Client,
    kind: Kind,
    scope: &Scope,
) -> std::result::Result<Vec<Object<F>>, kube::Error> {
    fn wrap<T, F: Flavor>(v: Vec<T>, f: impl Fn(Box<T>) -> Object<F>) -> Vec<Object<F>> {
        v.into_iter().map(|o| f(Box::new(o))).collect()
    }
    let c = client;
    let s = scope;
    Ok(match kind {
        Kind::Pod => wrap(list_raw(c, kind, s).await?, Object::Pod),
        Kind::PersistentVolumeClaim => wrap(list_raw(c, kind, s).await?, Object::Pvc),
        Kind::PersistentVolume => wrap(list_raw(c, kind, s).await?, Object::Pv),
        Kind::StorageClass => wrap(
            list_pages(api_cluster(c), kind, s).await?,
            Object::StorageClass,
        ),
        Kind::VolumeAttachment => wrap(
            list_pages(api_cluster(c), kind, s).await?,
            Object::VolumeAttachment,
        ),
        Kind::Node => wrap(list_pages(api_cluster(c), kind, s).await?, Object::Node),
        Kind::StatefulSet => wrap(
            list_pages(api_ns(c, s), kind, s).await?,
            Object::StatefulSet,
        ),
        Kind::Deployment => wrap(list_pages(api_ns(c, s), kind, s).await?, Object::Deployment),
        Kind::ReplicaSet => wrap(list_pages(api_ns(c, s), kind, s).await?, Object::ReplicaSet),
        Kind::Job => wrap(list_pages(api_ns(c, s), kind, s).await?, Object::Job),
        Kind::CronJob => wrap(list_pages(api_ns(c, s), kind, s).await?, Object::CronJob),
        Kind::Event => wrap(list_pages(api_ns(c, s), kind, s).await?, Object::Event),
        Kind::Service => wrap(list_pages(api_ns(c, s), kind, s).await?, Object::Service),
        Kind::CSIDriver => wrap(
            list_pages(api_cluster(c), kind, s).await?,
            Object::CSIDriver,
        ),
        Kind::VolumeSnapshot | Kind::VolumeSnapshotClass | Kind::VolumeSnapshotContent => {
            list_dynamic(client, kind, scope)
                .await?
                .into_iter()
                .map(|v| Object::Dynamic(kind, v))
                .collect()
        }
    })
}

/// LIST every kind concurrently; 403/404 become gaps, other errors fail the whole load.
pub async fn fetch<F: Flavor>(
    client: &kube::Client,
    server: &str,
    kinds: &[Kind],
    scope: &Scope,
) -> Result<Snapshot<F>> {
    let mut uniq: Vec<Kind> = kinds.to_vec();
    uniq.sort();
    uniq.dedup();
    let results = futures::future::join_all(
        uniq.iter()
            .map(|&k| async move { (k, list_kind(client, k, scope).await) }),
    )
    .await;
    let mut snap = Snapshot::default();
    for (kind, res) in results {
        let ns = if kind.namespaced() {
            scope.namespace.clone()
        } else {
            None
        };
        match res {
            Ok(objs) => {
                snap.known.insert(kind);
                snap.complete.insert(kind);
                for o in objs {
                    snap.push(o);
                }
            }
            Err(kube::Error::Api(status)) if status.code == 403 || status.code == 404 => {
                snap.gaps.push(Gap {
                    kind,
                    verb: "list".into(),
                    resource: kind.resource().into(),
                    namespace: ns,
                    reason: if status.code == 403 {
                        GapReason::Forbidden
                    } else {
                        GapReason::NotServed
                    },
                    message: status.message.clone(),
                });
            }
            Err(e) => {
                let mut err = Error::from_kube(e, "list", kind.resource(), ns.as_deref(), None);
                if let Error::Api { context, .. } = &mut err {
                    *context = format!("{context} (server {server})");
                }
                return Err(err);
            }
        }
    }
    Ok(snap)
}
