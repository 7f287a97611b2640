//! The kubelet's stats summary of nodes, read through the API server's node proxy
//! (`GET /api/v1/nodes/NAME/proxy/stats/summary`): one request per node, concurrent, each
//! bounded by a timeout. The bodies are returned as they came; what they mean is the caller's
//! (pvc-trace parses them in pure code). A node that cannot be read is a reason, never an
//! error: "forbidden: get nodes/proxy", "timed out after 5s", "unreachable: …".

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;

use crate::client::Connection;

/// How many nodes are asked at once.
pub const CONCURRENT_NODES: usize = 16;

/// Timeout of each summary request when `--request-timeout` is not given: a node whose kubelet
/// does not answer must not hold the trace.
pub const DEFAULT_SUMMARY_TIMEOUT: Duration = Duration::from_secs(10);

/// A node's summary: its body, or why it could not be read.
pub type Answer = std::result::Result<Vec<u8>, String>;

/// The stats summary of each node (deduplicated, in name order), `CONCURRENT_NODES` at a time,
/// each within `timeout`. One request per node: the client used here does not retry (kube's
/// default client retries a 503, which is what the node proxy answers for an unreachable
/// kubelet, until its backoff gives up).
pub async fn stats_summaries(
    conn: &Connection,
    nodes: &[String],
    timeout: Duration,
) -> BTreeMap<String, Answer> {
    let mut names: Vec<&String> = nodes.iter().collect();
    names.sort();
    names.dedup();
    let mut config = (*conn.config).clone();
    config.default_retry = false;
    let client = match crate::http_log::client(config) {
        Ok(c) => c,
        Err(e) => {
            let why = format!("no client: {e}");
            return names
                .into_iter()
                .map(|n| (n.clone(), Err(why.clone())))
                .collect();
        }
    };
    let client = &client;
    futures::stream::iter(names)
        .map(|node| async move {
            let answer = stats_summary(client, node, timeout).await;
            (node.clone(), answer)
        })
        .buffer_unordered(CONCURRENT_NODES)
        .collect()
        .await
}

/// One node's summary.
async fn stats_summary(client: &kube::Client, node: &str, timeout: Duration) -> Answer {
    // Node names are DNS subdomains: anything else would change the path, so it is not asked.
    crate::names::validate_dns1123_subdomain(node)
        .map_err(|e| format!("invalid node name: {e}"))?;
    let req = http::Request::get(format!("/api/v1/nodes/{node}/proxy/stats/summary"))
        .body(Vec::new())
        .map_err(|e| format!("invalid request: {e}"))?;
    match tokio::time::timeout(timeout, client.request_text(req)).await {
        Err(_) => Err(format!("timed out after {}", seconds(timeout))),
        Ok(Ok(text)) => Ok(text.into_bytes()),
        Ok(Err(e)) => Err(reason(&e)),
    }
}

/// Why a summary request failed, in a few words a cell can hold.
fn reason(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => match s.code {
            403 => "forbidden: get nodes/proxy".into(),
            404 => format!("not found: {}", one_line(&s.message)),
            502..=504 => format!("unreachable: {}", one_line(&s.message)),
            code => format!("HTTP {code}: {}", one_line(&s.message)),
        },
        other => format!("unreachable: {}", one_line(&other.to_string())),
    }
}

/// At most 200 characters of the first line of a message.
fn one_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("").trim();
    let mut out: String = line.chars().take(200).collect();
    if line.chars().count() > 200 {
        out.push('…');
    }
    out
}

/// `5s`, `1.5s`.
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16, message: &str) -> kube::Error {
        kube::Error::Api(
            kube::core::Status::failure(message, "")
                .with_code(code)
                .boxed(),
        )
    }

    #[test]
    fn reasons_name_what_failed_in_one_line() {
        assert_eq!(
            reason(&api(403, "nodes \"n\" is forbidden: …")),
            "forbidden: get nodes/proxy"
        );
        assert_eq!(
            reason(&api(
                503,
                "error trying to reach service: dial tcp 10.0.0.1:10250: connect: connection refused\nmore"
            )),
            "unreachable: error trying to reach service: dial tcp 10.0.0.1:10250: connect: connection refused"
        );
        assert_eq!(
            reason(&api(404, "nodes \"x\" not found")),
            "not found: nodes \"x\" not found"
        );
        assert_eq!(
            reason(&api(400, "address not allowed")),
            "HTTP 400: address not allowed"
        );
        let long = "x".repeat(300);
        assert_eq!(one_line(&long).chars().count(), 201);
    }

    #[test]
    fn timeouts_read_as_seconds() {
        assert_eq!(seconds(Duration::from_secs(5)), "5s");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5s");
    }
}
