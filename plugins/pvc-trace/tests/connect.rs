#![allow(clippy::unwrap_used)]
//! A server that accepts connections and never answers must not hang the plugin when
//! `--request-timeout` is not given: the connection (dial and TLS handshake) is bounded, by
//! kubectl's 30 s or `KUBECTL_STATEFUL_CONNECT_TIMEOUT` / `--connect-timeout`.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use assert_cmd::Command;

/// A listener on loopback that accepts every connection and stays silent.
fn silent_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in l.incoming() {
            held.push(c);
        }
    });
    port
}

#[test]
fn a_silent_server_ends_in_an_error_not_a_hang() {
    let port = silent_server();
    let server = format!("https://127.0.0.1:{port}");
    for (env, flag) in [(Some("1s"), None), (None, Some("1s"))] {
        let mut c = Command::cargo_bin("kubectl-pvc_trace").unwrap();
        c.args([
            "-A",
            "-s",
            &server,
            "--insecure-skip-tls-verify",
            "--token",
            "x",
        ])
        .env("KUBECONFIG", "/nonexistent")
        .env("HOME", "/nonexistent")
        .env_remove("KUBECTL_STATEFUL_CONNECT_TIMEOUT");
        if let Some(e) = env {
            c.env("KUBECTL_STATEFUL_CONNECT_TIMEOUT", e);
        }
        if let Some(f) = flag {
            c.args(["--connect-timeout", f]);
        }
        let t = Instant::now();
        let out = c.timeout(Duration::from_secs(25)).output().unwrap();
        let took = t.elapsed();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(&server), "{err}");
        assert!(took < Duration::from_secs(10), "{took:?}: {err}");
    }
}
