//! Request logs for kubectl's `-v N`: a tower layer over kube's client that emits `tracing`
//! events under the target [`TARGET`] (the binaries install the subscriber, on stderr):
//!
//! - INFO (`-v 6` and up): each request's method and URL with its status and duration;
//! - DEBUG (`-v 8` and up): when each request is sent, and response bodies, each chunk cut at
//!   [`BODY_LIMIT`] bytes, never those of Secrets. While bodies are logged, LISTs ask for
//!   JSON rather than protobuf ([`bodies_logged`]), so that what is logged can be read.
//!
//! Headers are never logged (they carry tokens and client credentials), request bodies neither
//! (a created Secret travels in one). URLs carry no secret: the suite never puts one in argv.

use std::time::Duration;

use bytes::Bytes;
use tower_http::classify::ServerErrorsFailureClass;
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::error::{Error, Result};

/// The `tracing` target of request logs.
pub const TARGET: &str = "kubectl_stateful::http";

/// The most bytes of one body chunk logged at `-v 8`.
pub const BODY_LIMIT: usize = 1024;

/// Whether response bodies are being logged (`-v 8` and up).
pub fn bodies_logged() -> bool {
    tracing::enabled!(target: TARGET, tracing::Level::DEBUG)
}

/// Whether a request's path reads or writes Secrets (its bodies are never logged).
pub fn is_secret_path(path: &str) -> bool {
    path.split('/').any(|s| s == "secrets")
}

/// A body chunk as logged: UTF-8 (lossy), cut at [`BODY_LIMIT`] bytes with the size said; a
/// chunk with control bytes (protobuf; JSON escapes them) by its size only, so that nothing
/// reaches a terminal unescaped.
pub fn body_excerpt(chunk: &[u8]) -> String {
    if chunk
        .iter()
        .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
    {
        return format!("[{} bytes, not text]", chunk.len());
    }
    if chunk.len() <= BODY_LIMIT {
        String::from_utf8_lossy(chunk).trim_end().to_string()
    } else {
        format!(
            "{} [… {} bytes in all]",
            String::from_utf8_lossy(&chunk[..BODY_LIMIT]),
            chunk.len()
        )
    }
}

fn millis(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// A kube client from `config` with the request logs in its stack.
pub fn client(config: kube::Config) -> Result<kube::Client> {
    let base = config.cluster_url.to_string();
    let base = base.trim_end_matches('/').to_string();
    let builder = kube::client::ClientBuilder::try_from(config)
        .map_err(|e| Error::Config(format!("cannot build a client: {e}")))?;
    let layer = TraceLayer::new_for_http()
        .make_span_with(move |req: &http::Request<kube::client::Body>| {
            let url = format!("{base}{}", req.uri());
            // Two span names: the body hook can only tell a Secret's response by its span.
            if is_secret_path(req.uri().path()) {
                tracing::info_span!(target: TARGET, "secret_request", method = %req.method(), url = %url)
            } else {
                tracing::info_span!(target: TARGET, "request", method = %req.method(), url = %url)
            }
        })
        .on_request(|_: &http::Request<kube::client::Body>, _: &Span| {
            tracing::debug!(target: TARGET, "sent");
        })
        .on_response(|res: &http::Response<_>, latency: Duration, _: &Span| {
            tracing::info!(target: TARGET, "{} in {}", res.status(), millis(latency));
        })
        .on_body_chunk(|chunk: &Bytes, _: Duration, span: &Span| {
            if span.metadata().is_some_and(|m| m.name() == "request") {
                tracing::debug!(target: TARGET, "body: {}", body_excerpt(chunk));
            }
        })
        .on_eos(())
        .on_failure(|f: ServerErrorsFailureClass, latency: Duration, _: &Span| {
            tracing::info!(target: TARGET, "failed after {}: {f}", millis(latency));
        });
    Ok(builder.with_layer(&layer).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_excerpts() {
        assert!(is_secret_path("/api/v1/namespaces/a/secrets"));
        assert!(is_secret_path("/api/v1/namespaces/a/secrets/db-pass"));
        assert!(!is_secret_path("/api/v1/namespaces/secrets-team/pods"));
        assert_eq!(body_excerpt(b"{}"), "{}");
        let long = vec![b'x'; BODY_LIMIT + 10];
        let e = body_excerpt(&long);
        assert!(e.ends_with(&format!("[… {} bytes in all]", BODY_LIMIT + 10)));
        assert_eq!(e.matches('x').count(), BODY_LIMIT);
        assert_eq!(body_excerpt(b"k8s\0\x0a\x1b[2J"), "[9 bytes, not text]");
        assert_eq!(body_excerpt(b"{\n  \"a\": 1\n}"), "{\n  \"a\": 1\n}");
    }
}
