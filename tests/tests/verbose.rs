//! `-v N` against the real local control plane: request logs on stderr with status and
//! duration at 6, response bodies at 8, nothing below 6, and never a token.

use anyhow::Result;
use e2e::TestNs;
use serde_json::json;

#[tokio::test]
async fn request_logs_by_level_and_never_a_token() -> Result<()> {
    let ns = TestNs::new("verbose").await?;
    ns.apply(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db-0"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }))
    .await?;
    let quiet = ns.kubectl(&["pvc-trace", "-o", "json"]).await?.ok()?;
    assert!(!quiet.stderr.contains("request{"), "{}", quiet.stderr);

    let out = ns
        .kubectl(&["pvc-trace", "-o", "json", "-v", "6"])
        .await?
        .ok()?;
    let pods = format!("/api/v1/namespaces/{}/pods?", ns.name);
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains(&pods))
        .unwrap_or_else(|| panic!("no request line for {pods}:\n{}", out.stderr));
    assert!(line.contains("method=GET url=https://127.0.0.1:"), "{line}");
    assert!(
        line.contains(": 200 OK in ") && line.ends_with(" ms"),
        "{line}"
    );
    assert!(!out.stderr.contains("body:"), "bodies only from -v 8");
    // stdout is untouched: still one JSON document.
    out.json()?;

    let out = ns
        .kubectl(&["pvc-trace", "-o", "json", "--v=8"])
        .await?
        .ok()?;
    assert!(out.stderr.contains("body: {"), "{}", out.stderr);
    assert!(out.stderr.contains("\"db-0\""), "the pod list's body");

    // A token given on the command line never reaches the logs, at any level.
    let token = "tok-e2e-verbose-8c1f0d5e";
    let out = ns
        .kubectl(&["pvc-trace", "-v", "9", "--token", token])
        .await?;
    assert!(out.stderr.contains(&pods), "{}", out.stderr);
    assert!(!out.stderr.contains(token) && !out.stdout.contains(token));
    Ok(())
}
