//! Real database servers for exec-based tests, one per "pod": kwok runs `kubectl exec` on this
//! host, so each pod's server listens on its own loopback address ([`Loopback`]), the pods'
//! FQDNs are mapped to those addresses in /etc/hosts ([`HostsFile`]), and each server runs under
//! a [`Supervisor`] that restarts it when it exits, as the kubelet restarts a container.
//! Needs root (for /etc/hosts).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Result, bail};

use crate::{TestNs, wait_for};

/// Is `cmd` on PATH?
pub fn have(cmd: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Run a shell script on this host; its stdout, or an error with its output.
pub fn sh(script: &str) -> Result<String> {
    let out = std::process::Command::new("sh")
        .args(["-c", script])
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() {
        bail!(
            "`{script}` failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A test's loopback network `127.0.<net>.0/24` (ordinal N at `.10+N`) and one port for all its
/// servers, picked from the process id and the clock so concurrent tests rarely collide.
#[derive(Debug, Clone, Copy)]
pub struct Loopback {
    pub net: u8,
    pub port: u16,
}

impl Loopback {
    pub fn new() -> Result<Loopback> {
        let seed = std::process::id() as u64
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_nanos() as u64;
        Ok(Loopback {
            net: 100 + (seed % 100) as u8,
            port: 20000 + (seed % 20000) as u16,
        })
    }

    /// The address of ordinal `i`.
    pub fn addr(&self, i: u32) -> String {
        format!("127.0.{}.{}", self.net, 10 + i)
    }
}

/// Lines of /etc/hosts tagged with a marker, all removed on drop (also on panic).
pub struct HostsFile {
    marker: String,
}

impl HostsFile {
    pub fn new(marker: impl Into<String>) -> HostsFile {
        HostsFile {
            marker: marker.into(),
        }
    }

    /// Map `names` to `addr`.
    pub fn map(&self, addr: &str, names: &[&str]) -> Result<()> {
        let mut hosts = std::fs::read_to_string("/etc/hosts")?;
        if !hosts.is_empty() && !hosts.ends_with('\n') {
            hosts.push('\n');
        }
        for n in names {
            hosts.push_str(&format!("{addr} {n} {}\n", self.marker));
        }
        std::fs::write("/etc/hosts", hosts)?;
        Ok(())
    }
}

impl Drop for HostsFile {
    fn drop(&mut self) {
        if let Ok(hosts) = std::fs::read_to_string("/etc/hosts") {
            let kept: String = hosts
                .lines()
                .filter(|l| !l.ends_with(&self.marker))
                .map(|l| format!("{l}\n"))
                .collect();
            let _ = std::fs::write("/etc/hosts", kept);
        }
    }
}

/// A shell loop running `command` again whenever it exits (0.3 s later), paused while `hold`
/// exists, ended for good once `stop` exists; the loop is killed when this is dropped (the
/// server itself is the caller's to stop).
pub struct Supervisor {
    hold: PathBuf,
    _child: tokio::process::Child,
}

impl Supervisor {
    /// `command` is a shell command line; its output is appended to `log`.
    pub fn spawn(stop: &Path, hold: PathBuf, command: &str, log: &Path) -> Result<Supervisor> {
        let script = format!(
            "while [ ! -f {stop} ]; do if [ -f {hold} ]; then sleep 0.2; continue; fi; {command} >> {log} 2>&1; sleep 0.3; done",
            stop = stop.display(),
            hold = hold.display(),
            log = log.display(),
        );
        let child = tokio::process::Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        Ok(Supervisor {
            hold,
            _child: child,
        })
    }

    /// Keep the server down once it exits (e.g. while its volume is wiped).
    pub fn hold(&self) -> Result<()> {
        std::fs::write(&self.hold, "")?;
        Ok(())
    }

    /// Let the loop start the server again.
    pub fn release(&self) -> Result<()> {
        std::fs::remove_file(&self.hold)?;
        Ok(())
    }
}

/// Wait until pods `<sts>-0` … `<sts>-(n-1)` are Running.
pub async fn wait_sts_pods(ns: &TestNs, sts: &str, n: u32) -> Result<()> {
    let pods = ns.api::<k8s_openapi::api::core::v1::Pod>();
    for i in 0..n {
        let name = format!("{sts}-{i}");
        wait_for(&format!("{name} Running"), Duration::from_secs(90), || {
            let (pods, name) = (pods.clone(), name.clone());
            async move {
                let p = pods.get_opt(&name).await?;
                Ok(
                    (p.and_then(|p| p.status).and_then(|s| s.phase).as_deref() == Some("Running"))
                        .then_some(()),
                )
            }
        })
        .await?;
    }
    Ok(())
}
