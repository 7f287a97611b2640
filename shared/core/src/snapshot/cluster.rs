//! Cluster LISTs: paginated (pages pipelined), concurrent, scoped; 403/404 become gaps in the
//! snapshot.

use kube::api::ListParams;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};

use super::object::*;
use super::protobuf;
use super::request::{Planned, Request};
use super::*;

/// Page size for LISTs (kubectl's default chunk size).
pub const PAGE_SIZE: u32 = 500;

/// One page of a LIST.
#[derive(Deserialize)]
struct Page<K> {
    #[serde(default)]
    metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta,
    #[serde(default = "Vec::new")]
    items: Vec<K>,
}

/// LIST all pages of a kind straight into `K` (the trace's lean objects, or k8s-openapi's),
/// pipelined: the next page is asked for as soon as this one's `continue` token has arrived
/// (the API server writes the list's metadata before its items), and each page is decoded on
/// a blocking thread while the next is produced and read. With a protobuf decoder (the lean
/// pod's) the pages are asked for as protobuf, and read as whatever the server answers.
async fn list_raw<K>(
    client: &kube::Client,
    kind: Kind,
    namespace: Option<&str>,
    lp: &ListParams,
    pb: Option<protobuf::Decoder<K>>,
) -> std::result::Result<Vec<K>, kube::Error>
where
    K: serde::de::DeserializeOwned + Send + 'static,
{
    use futures::TryStreamExt;
    use http_body_util::BodyExt;
    let path = kind.list_path(namespace);
    let mut lp = lp.clone();
    let mut pages = Vec::new();
    let pb = pb.filter(|_| !crate::http_log::bodies_logged());
    loop {
        let mut req = kube::core::Request::new(&path)
            .list(&lp)
            .map_err(kube::Error::BuildRequest)?;
        if pb.is_some() {
            req.headers_mut().insert(
                http::header::ACCEPT,
                http::HeaderValue::from_static(protobuf::ACCEPT),
            );
        }
        let res = api_errors(client.send(req.map(kube::client::Body::from)).await?).await?;
        let decode = pb.filter(|_| protobuf::is_protobuf(res.headers()));
        let body = res
            .into_body()
            .into_data_stream()
            .map_err(std::io::Error::other)
            .into_async_read();
        let (tx, rx) = tokio::sync::oneshot::channel();
        pages.push(tokio::spawn(read_page::<K>(body, tx, decode)));
        match rx.await {
            Ok(Some(c)) if !c.is_empty() => lp = lp.continue_token(&c),
            // The last page, or one that failed (its error comes out below).
            _ => break,
        }
    }
    let mut out = Vec::new();
    for page in pages {
        let items = page
            .await
            .map_err(|e| kube::Error::Service(Box::new(e)))??;
        if out.is_empty() {
            out = items;
        } else {
            out.extend(items);
        }
    }
    Ok(out)
}

/// LIST the lean pods of a namespace (or of all with `None`) as protobuf or as JSON: the two
/// reads must give the same pods (the e2e tests compare them on a real API server).
pub async fn list_lean_pods(
    client: &kube::Client,
    namespace: Option<&str>,
    protobuf: bool,
) -> Result<Vec<lean::Pod>> {
    let lp = ListParams::default().limit(PAGE_SIZE);
    let pb = protobuf.then_some(protobuf::pods as protobuf::Decoder<lean::Pod>);
    list_raw(client, Kind::Pod, namespace, &lp, pb)
        .await
        .map_err(|e| Error::from_kube(e, "list", "pods", namespace, None))
}

/// An answer that is not a success becomes kube's `Error::Api` with the `Status` it carries
/// (in JSON or protobuf), or, when it carries none, a `Status` of its code and text.
async fn api_errors(
    res: http::Response<kube::client::Body>,
) -> std::result::Result<http::Response<kube::client::Body>, kube::Error> {
    use http_body_util::BodyExt;
    let code = res.status();
    if !(code.is_client_error() || code.is_server_error()) {
        return Ok(res);
    }
    let pb = protobuf::is_protobuf(res.headers());
    let body = res.into_body().collect().await?.to_bytes();
    let status = if pb {
        protobuf::status(&body)
    } else {
        serde_json::from_slice::<kube::core::Status>(&body).ok()
    };
    let status = status.unwrap_or_else(|| {
        let text = String::from_utf8_lossy(&body);
        kube::core::Status::failure(text.trim(), NOT_A_STATUS).with_code(code.as_u16())
    });
    Err(kube::Error::Api(status.boxed()))
}

/// Read one page's body, sending its `continue` token on `token` as soon as the list's
/// metadata has arrived, then decode it (off the async threads): as JSON, or with `pb`.
async fn read_page<K>(
    mut body: impl futures::AsyncBufRead + Unpin,
    token: tokio::sync::oneshot::Sender<Option<String>>,
    pb: Option<protobuf::Decoder<K>>,
) -> std::result::Result<Vec<K>, kube::Error>
where
    K: serde::de::DeserializeOwned + Send + 'static,
{
    use futures::AsyncBufReadExt;
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
    let mut token = Some(token);
    let head = match pb {
        Some(_) => protobuf::continue_in_head,
        None => continue_in_head,
    };
    loop {
        let chunk = body.fill_buf().await.map_err(kube::Error::ReadEvents)?;
        if chunk.is_empty() {
            break;
        }
        let n = chunk.len();
        buf.extend_from_slice(chunk);
        body.consume_unpin(n);
        if token.is_some()
            && let Some(c) = head(&buf)
            && let Some(t) = token.take()
        {
            let _ = t.send(c);
        }
    }
    let page = tokio::task::spawn_blocking(move || match pb {
        Some(decode) => decode(&buf)
            .map_err(|e| kube::Error::Service(format!("reading a protobuf list: {e}").into())),
        None => serde_json::from_slice::<Page<K>>(&buf)
            .map(|p| protobuf::Page {
                continue_: p.metadata.continue_,
                items: p.items,
            })
            .map_err(kube::Error::SerdeError),
    })
    .await
    .map_err(|e| kube::Error::Service(Box::new(e)))??;
    if let Some(t) = token {
        let _ = t.send(page.continue_);
    }
    Ok(page.items)
}

/// The `continue` token of a list whose head (everything before `"items"`) has arrived:
/// `Some(token)` once the head is there and holds the list's metadata, `None` while it is not
/// (or when the body is not shaped as the API server writes lists: then the whole page's
/// decode says). A list's head holds no user data (kind, apiVersion, resourceVersion,
/// continue, remainingItemCount), so its first `"items":` is the items' key.
fn continue_in_head(buf: &[u8]) -> Option<Option<String>> {
    #[derive(Deserialize)]
    struct Head {
        metadata: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta>,
    }
    const KEY: &[u8] = b"\"items\":";
    let at = buf.windows(KEY.len()).position(|w| w == KEY)?;
    let head = buf[..at].trim_ascii_end();
    let head = head.strip_suffix(b",")?;
    let mut text = Vec::with_capacity(head.len() + 1);
    text.extend_from_slice(head);
    text.push(b'}');
    let h: Head = serde_json::from_slice(&text).ok()?;
    Some(h.metadata?.continue_)
}

/// LIST a CRD kind (the snapshot kinds) through the same pager, as JSON: without
/// managedFields, each item with its apiVersion and kind.
async fn list_dynamic(
    client: &kube::Client,
    kind: Kind,
    namespace: Option<&str>,
    lp: &ListParams,
) -> std::result::Result<Vec<Value>, kube::Error> {
    let Some(ar) = kind.dynamic_resource() else {
        return Ok(Vec::new());
    };
    let mut items: Vec<Value> = list_raw(client, kind, namespace, lp, None).await?;
    for v in &mut items {
        if let Some(m) = v.as_object_mut() {
            if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("managedFields");
            }
            m.insert("apiVersion".into(), Value::String(ar.api_version.clone()));
            m.insert("kind".into(), Value::String(ar.kind.clone()));
        }
    }
    Ok(items)
}

/// The LIST parameters of a scope for one kind: a page size, and pods by the label selector.
fn scope_params(kind: Kind, scope: &Scope) -> ListParams {
    let lp = match scope.page_size {
        0 => ListParams::default(),
        n => ListParams::default().limit(n),
    };
    match &scope.pod_selector {
        Some(sel) if kind == Kind::Pod && !sel.text.is_empty() => lp.labels(&sel.text),
        _ => lp,
    }
}

async fn list_kind<F: Flavor>(
    client: &kube::Client,
    kind: Kind,
    namespace: Option<&str>,
    lp: &ListParams,
) -> std::result::Result<Vec<Object<F>>, kube::Error> {
    fn wrap<T, F: Flavor>(v: Vec<T>, f: impl Fn(Box<T>) -> Object<F>) -> Vec<Object<F>> {
        v.into_iter().map(|o| f(Box::new(o))).collect()
    }
    let c = client;
    let (n, s) = (namespace, lp);
    Ok(match kind {
        Kind::Pod => wrap(
            list_raw(c, kind, n, s, F::Pod::protobuf()).await?,
            Object::Pod,
        ),
        Kind::PersistentVolumeClaim => wrap(list_raw(c, kind, n, s, None).await?, Object::Pvc),
        Kind::PersistentVolume => wrap(list_raw(c, kind, n, s, None).await?, Object::Pv),
        Kind::StorageClass => wrap(list_raw(c, kind, n, s, None).await?, Object::StorageClass),
        Kind::VolumeAttachment => wrap(
            list_raw(c, kind, n, s, None).await?,
            Object::VolumeAttachment,
        ),
        Kind::Node => wrap(list_raw(c, kind, n, s, None).await?, Object::Node),
        Kind::StatefulSet => wrap(list_raw(c, kind, n, s, None).await?, Object::StatefulSet),
        Kind::Deployment => wrap(list_raw(c, kind, n, s, None).await?, Object::Deployment),
        Kind::ReplicaSet => wrap(list_raw(c, kind, n, s, None).await?, Object::ReplicaSet),
        Kind::Job => wrap(list_raw(c, kind, n, s, None).await?, Object::Job),
        Kind::CronJob => wrap(list_raw(c, kind, n, s, None).await?, Object::CronJob),
        Kind::Event => wrap(list_raw(c, kind, n, s, None).await?, Object::Event),
        Kind::Service => wrap(list_raw(c, kind, n, s, None).await?, Object::Service),
        Kind::CSIDriver => wrap(list_raw(c, kind, n, s, None).await?, Object::CSIDriver),
        Kind::VolumeSnapshot | Kind::VolumeSnapshotClass | Kind::VolumeSnapshotContent => {
            list_dynamic(client, kind, n, s)
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
    let results = futures::future::join_all(uniq.iter().map(|&k| async move {
        let ns = scope.namespace.as_deref();
        (k, list_kind(client, k, ns, &scope_params(k, scope)).await)
    }))
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
            Err(kube::Error::Api(status)) if is_gap(kind, &status) => {
                snap.gaps.push(Gap::of_status(kind, "list", ns, &status));
            }
            Err(kube::Error::Api(status)) if matches!(status.code, 403 | 404) => {
                return Err(not_an_api_answer(kind, ns.as_deref(), server, &status));
            }
            Err(e) => {
                let mut err = Error::from_kube(e, "list", kind.resource(), ns.as_deref(), None);
                if let Error::Api { context, .. } = &mut err {
                    let path = kind.list_path(ns.as_deref());
                    *context = format!("{context} (server {server}, GET {path})");
                }
                return Err(err);
            }
        }
    }
    Ok(snap)
}

/// GET one object.
async fn get_one<F: Flavor>(
    client: &kube::Client,
    kind: Kind,
    namespace: Option<&str>,
    name: &str,
) -> std::result::Result<Object<F>, kube::Error> {
    let req = kube::core::Request::new(kind.list_path(namespace))
        .get(name, &kube::api::GetParams::default())
        .map_err(kube::Error::BuildRequest)?;
    let v: Value = client.request(req).await?;
    Ok(typed_object!(
        kind,
        serde_json::from_value(v).map_err(kube::Error::SerdeError)?,
        Object::Dynamic(kind, v)
    ))
}

/// Run one stage of a fetch plan: its requests concurrently, each answer recorded in `snap`
/// ([`Snapshot::record`]): a GET's 404 says the object does not exist; 403 (and an unserved
/// CRD) become gaps named by the request's verb; other errors fail as [`fetch`]'s do. Each
/// request is logged at `-v 6` with why the plan makes it, and how many objects came back.
pub async fn fetch_requests<F: Flavor>(
    client: &kube::Client,
    server: &str,
    stage: &[Planned],
    scope_ns: Option<&str>,
    snap: &mut Snapshot<F>,
) -> Result<()> {
    let results = futures::future::join_all(stage.iter().map(|p| async move {
        let t0 = std::time::Instant::now();
        let res = match &p.req {
            Request::Get {
                kind,
                namespace,
                name,
            } => get_one(client, *kind, namespace.as_deref(), name)
                .await
                .map(|o| vec![o]),
            Request::List {
                kind,
                namespace,
                labels,
                fields,
            } => {
                let mut lp = ListParams::default().limit(PAGE_SIZE);
                if let Some(l) = labels {
                    lp = lp.labels(l);
                }
                if let Some(f) = fields {
                    lp = lp.fields(&f.selector());
                }
                list_kind(client, *kind, namespace.as_deref(), &lp).await
            }
        };
        (p, res, t0.elapsed())
    }))
    .await;
    for (p, res, took) in results {
        let kind = p.req.kind();
        let ns = p.req.namespace().map(str::to_string);
        let answer = match &res {
            Ok(v) => format!("{} object(s)", v.len()),
            Err(kube::Error::Api(s)) => format!("HTTP {}", s.code),
            Err(_) => "failed".to_string(),
        };
        tracing::info!(
            target: crate::http_log::TARGET,
            "plan: {} {} -> {answer} in {} ms: {}",
            p.req.verb().to_uppercase(),
            p.req.path(),
            took.as_millis(),
            p.why
        );
        match res {
            Ok(objs) => {
                for o in objs {
                    snap.push(o);
                }
                snap.record(&p.req, scope_ns);
            }
            Err(kube::Error::Api(status))
                if status.code == 404
                    && matches!(p.req, Request::Get { .. })
                    && status.reason != NOT_A_STATUS =>
            {
                snap.record(&p.req, scope_ns);
            }
            Err(kube::Error::Api(status)) if is_gap(kind, &status) => {
                snap.gaps
                    .push(Gap::of_status(kind, p.req.verb(), ns, &status));
            }
            Err(kube::Error::Api(status)) if matches!(status.code, 403 | 404) => {
                return Err(not_an_api_answer(kind, ns.as_deref(), server, &status));
            }
            Err(e) => {
                let name = match &p.req {
                    Request::Get { name, .. } => Some(name.as_str()),
                    Request::List { .. } => None,
                };
                let mut err =
                    Error::from_kube(e, p.req.verb(), kind.resource(), ns.as_deref(), name);
                if let Error::Api { context, .. } = &mut err {
                    *context = format!("{context} (server {server}, GET {})", p.req.path());
                }
                return Err(err);
            }
        }
    }
    snap.dedup();
    Ok(())
}

/// The reason kube-rs gives a non-2xx answer whose body is not a Kubernetes `Status`.
const NOT_A_STATUS: &str = "Failed to parse error data";

/// Whether a 403/404 on a LIST is something the cluster says about this kind (a gap in the
/// snapshot) rather than a sign that the server is not a Kubernetes API server: a 403 that is
/// a `Status`, or a 404 on a CRD kind (an unserved group answers a plain "404 page not found").
/// A 404 on a built-in kind is never a gap: every API server serves pods, claims, nodes….
pub(super) fn is_gap(kind: Kind, status: &kube::core::Status) -> bool {
    match status.code {
        403 => status.reason != NOT_A_STATUS,
        404 => !kind.builtin(),
        _ => false,
    }
}

/// The error for a 403/404 that is not a gap: names the server and the path, and starts the
/// body when it is not a `Status` (an HTML page from a proxy, say), so the user sees what
/// answered.
pub(super) fn not_an_api_answer(
    kind: Kind,
    namespace: Option<&str>,
    server: &str,
    status: &kube::core::Status,
) -> Error {
    let path = kind.list_path(namespace);
    let body: String = status.message.chars().take(120).collect();
    let body = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let what = if status.reason == NOT_A_STATUS {
        format!("an answer that is not a Kubernetes Status ({body:?})")
    } else {
        format!("{} ({})", status.reason, status.message)
    };
    Error::Api {
        context: format!("list {} (server {server}, GET {path})", kind.resource()),
        message: format!(
            "HTTP {} with {what}: this is not a Kubernetes API server, or the server URL or its path prefix is wrong",
            status.code
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, reason: &str, message: &str) -> kube::core::Status {
        kube::core::Status::failure(message, reason).with_code(code)
    }

    #[test]
    fn the_continue_token_is_read_from_the_lists_head() {
        let full = br#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"42","continue":"eyJ2IjoibWV0YSJ9","remainingItemCount":9500},"items":[{"metadata":{"name":"a"}}]}"#;
        let at = full.windows(7).position(|w| w == b"\"items\"").unwrap();
        // Not there yet: the head is still arriving.
        assert_eq!(continue_in_head(&full[..20]), None);
        assert_eq!(continue_in_head(&full[..at]), None);
        // As soon as the items' key is there, without waiting for the items.
        let want = Some(Some("eyJ2IjoibWV0YSJ9".to_string()));
        assert_eq!(continue_in_head(&full[..at + 9]), want);
        assert_eq!(continue_in_head(full), want);
        // The last page: no token.
        let last = br#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"42"},"items":[]}"#;
        assert_eq!(continue_in_head(last), Some(None));
        // Indented, as a proxy may re-encode it.
        let pretty = b"{\n  \"metadata\": {\"continue\": \"abc\"},\n  \"items\": [";
        assert_eq!(continue_in_head(pretty), Some(Some("abc".into())));
        // Items before the metadata: not a head the token can be read from; the page's
        // whole decode says.
        let odd = br#"{"items":[{"metadata":{"continue":"no"}}],"metadata":{"continue":"yes"}}"#;
        assert_eq!(continue_in_head(odd), None);
    }

    #[test]
    fn only_api_answers_about_a_kind_become_gaps() {
        let forbidden = status(403, "Forbidden", "pods is forbidden: User cannot list");
        let html = status(403, NOT_A_STATUS, "<html><body>Access denied</body></html>");
        let not_found = status(404, NOT_A_STATUS, "404 page not found");
        assert!(is_gap(Kind::Pod, &forbidden));
        assert!(!is_gap(Kind::Pod, &html), "a proxy's page is not RBAC");
        assert!(
            is_gap(Kind::VolumeSnapshot, &not_found),
            "a CRD may be unserved"
        );
        for k in Kind::ALL.into_iter().filter(|k| k.builtin()) {
            assert!(!is_gap(k, &not_found), "{k}: every API server serves it");
        }
        assert!(!is_gap(Kind::Pod, &status(500, "InternalError", "boom")));
    }

    #[test]
    fn the_error_names_server_path_and_what_answered() {
        let e = not_an_api_answer(
            Kind::PersistentVolumeClaim,
            Some("shop"),
            "https://10.0.0.1:6443/prefix",
            &status(404, NOT_A_STATUS, "<html>\n  <h1>Not Found</h1>\n</html>"),
        );
        assert_eq!(e.exit_code().code(), 1);
        let text = e.to_string();
        assert!(
            text.contains("server https://10.0.0.1:6443/prefix"),
            "{text}"
        );
        assert!(
            text.contains("GET /api/v1/namespaces/shop/persistentvolumeclaims"),
            "{text}"
        );
        assert!(text.contains("HTTP 404"), "{text}");
        assert!(text.contains("<h1>Not Found</h1>"), "{text}");
        assert_eq!(
            Kind::Job.list_path(None),
            "/apis/batch/v1/jobs",
            "all namespaces"
        );
        assert_eq!(Kind::Node.list_path(Some("x")), "/api/v1/nodes");
    }
}
