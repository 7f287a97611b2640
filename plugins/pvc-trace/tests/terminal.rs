#![allow(clippy::unwrap_used)]
//! The spinner: drawn on a TTY (tmux gives the binary a real one) once a wait passes a second,
//! never on a pipe. The wait is a server that takes connections and never answers.

use std::process::Command as Std;
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;

fn silent_server() -> (std::net::TcpListener, String) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", l.local_addr().unwrap());
    (l, url)
}

#[test]
fn no_spinner_bytes_on_a_pipe() {
    let (_l, server) = silent_server();
    let t0 = Instant::now();
    let out = Std::new(cargo_bin("kubectl-pvc_trace"))
        .args([
            "--server",
            &server,
            "--insecure-skip-tls-verify",
            "--request-timeout",
            "2s",
        ])
        .args(["-n", "a"])
        .env("HOME", "/nonexistent")
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    assert!(
        t0.elapsed() >= Duration::from_secs(2),
        "the wait lasted past the spinner's delay"
    );
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains('\r') && !err.contains('\u{1b}'), "{err:?}");
    assert!(!err.contains("reading the cluster"), "{err}");
}

#[test]
fn spinner_on_a_tty_after_a_second() {
    if Std::new("tmux").arg("-V").output().is_err() {
        eprintln!("tmux not installed: skipped");
        return;
    }
    let (_l, server) = silent_server();
    let session = format!("pvc-trace-spin-{}", std::process::id());
    let cmd = format!(
        "HOME=/nonexistent KUBECONFIG= {} --server {server} --insecure-skip-tls-verify --request-timeout 4s -n a; sleep 5",
        cargo_bin("kubectl-pvc_trace").display()
    );
    let st = Std::new("tmux")
        .args([
            "new-session",
            "-d",
            "-x",
            "100",
            "-y",
            "20",
            "-s",
            &session,
            &cmd,
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let capture = || {
        let out = Std::new("tmux")
            .args(["capture-pane", "-p", "-t", &session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    std::thread::sleep(Duration::from_millis(400));
    let early = capture();
    std::thread::sleep(Duration::from_millis(2000));
    let during = capture();
    std::thread::sleep(Duration::from_millis(3000));
    let after = capture();
    let _ = Std::new("tmux")
        .args(["kill-session", "-t", &session])
        .status();
    assert!(
        !early.contains("reading the cluster"),
        "shown before a second: {early}"
    );
    assert!(
        during.contains("reading the cluster"),
        "no spinner: {during}"
    );
    assert!(
        !after.contains("reading the cluster"),
        "not cleared: {after}"
    );
    assert!(after.contains("error"), "{after}");
}
