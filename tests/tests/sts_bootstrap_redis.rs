//! kubectl sts-bootstrap against REAL Redis servers (Debian's redis-server): one server per pod,
//! each on its own 127.0.x.N with the pod FQDNs mapped to it in /etc/hosts, each with a config
//! file on its "volume" and `requirepass`, restarted by a small supervisor loop when it exits (as
//! the kubelet restarts a container). kwok routes `pods/exec` of each pod to this host with the
//! pod's own env (REDIS_HOST, REDIS_PASSWORD).
//!
//! Needs: root (to edit /etc/hosts), redis-server and redis-cli on PATH, and the plugin built.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Result, bail};
use e2e::{HostsFile, Loopback, Supervisor, TestNs, have, plugin_path, wait_for, wait_sts_pods};
use serde_json::json;

const PW: &str = "e2e-redis-requirepass-Pw";

struct Server {
    addr: String,
    volume: PathBuf,
    supervisor: Supervisor,
}

/// The servers, their /etc/hosts lines, and cleanup (also on panic).
struct Fleet {
    root: PathBuf,
    port: u16,
    net: Loopback,
    hosts: HostsFile,
    stop: PathBuf,
    servers: Vec<Server>,
}

impl Fleet {
    fn new(ns: &str) -> Result<Fleet> {
        let net = Loopback::new()?;
        let root = std::env::temp_dir().join(format!("sts-bootstrap-redis-e2e-{ns}"));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root)?;
        Ok(Fleet {
            stop: root.join("STOP"),
            root,
            port: net.port,
            net,
            hosts: HostsFile::new(format!("# sts-bootstrap-redis-e2e {ns}")),
            servers: Vec::new(),
        })
    }

    /// A fresh config file (what an empty volume with the image's config gives).
    fn write_config(&self, volume: &std::path::Path, addr: &str) -> Result<()> {
        std::fs::write(
            volume.join("redis.conf"),
            format!(
                "bind {addr}\nport {}\nrequirepass {PW}\ndir {}\nsave \"\"\nappendonly no\nrepl-diskless-sync-delay 0\n",
                self.port,
                volume.display()
            ),
        )?;
        Ok(())
    }

    async fn add(&mut self, ns: &str, ordinal: u32) -> Result<()> {
        let addr = self.net.addr(ordinal);
        let volume = self.root.join(format!("cache-{ordinal}"));
        std::fs::create_dir_all(&volume)?;
        self.write_config(&volume, &addr)?;
        let supervisor = Supervisor::spawn(
            &self.stop,
            volume.join("HOLD"),
            &format!("redis-server {}", volume.join("redis.conf").display()),
            &volume.join("server.log"),
        )?;
        self.hosts.map(
            &addr,
            &[&format!("cache-{ordinal}.cache.{ns}.svc.cluster.local")],
        )?;
        self.servers.push(Server {
            addr,
            volume,
            supervisor,
        });
        self.wait_up(ordinal).await
    }

    /// redis-cli against one server (the password in the environment, not on argv).
    fn cli(&self, ordinal: u32, args: &[&str]) -> Result<String> {
        let s = &self.servers[ordinal as usize];
        let out = std::process::Command::new("redis-cli")
            .args(["-h", &s.addr, "-p", &self.port.to_string()])
            .args(args)
            .env("REDISCLI_AUTH", PW)
            .stdin(Stdio::null())
            .output()?;
        if !out.status.success() {
            bail!(
                "redis-cli on cache-{ordinal}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn info(&self, ordinal: u32, key: &str) -> Option<String> {
        let text = self.cli(ordinal, &["INFO", "replication"]).ok()?;
        text.lines().find_map(|l| {
            l.trim_end()
                .strip_prefix(&format!("{key}:"))
                .map(str::to_string)
        })
    }

    async fn wait_up(&self, ordinal: u32) -> Result<()> {
        wait_for(
            &format!("server of cache-{ordinal}"),
            Duration::from_secs(30),
            || async move {
                Ok(self
                    .cli(ordinal, &["PING"])
                    .ok()
                    .filter(|r| r == "PONG")
                    .map(|_| ()))
            },
        )
        .await
    }

    /// Restart a server as the kubelet would (it keeps its volume and config file).
    async fn restart(&self, ordinal: u32) -> Result<()> {
        let _ = self.cli(ordinal, &["SHUTDOWN", "NOSAVE"]);
        tokio::time::sleep(Duration::from_millis(500)).await;
        self.wait_up(ordinal).await
    }

    /// Wipe a server: hold the supervisor, stop it, a fresh config and no data, release.
    async fn wipe(&self, ordinal: u32) -> Result<()> {
        let s = &self.servers[ordinal as usize];
        s.supervisor.hold()?;
        let _ = self.cli(ordinal, &["SHUTDOWN", "NOSAVE"]);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let _ = std::fs::remove_file(s.volume.join("dump.rdb"));
        self.write_config(&s.volume, &s.addr)?;
        s.supervisor.release()?;
        self.wait_up(ordinal).await
    }

    fn exec_env(&self, ordinal: u32) -> Vec<(String, String)> {
        vec![
            (
                "REDIS_HOST".into(),
                self.servers[ordinal as usize].addr.clone(),
            ),
            ("REDIS_PASSWORD".into(), PW.into()),
        ]
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.stop, "");
        for i in 0..self.servers.len() {
            let _ = self.cli(i as u32, &["SHUTDOWN", "NOSAVE"]);
        }
        if std::env::var_os("STS_BOOTSTRAP_E2E_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

fn statefulset(port: u16, replicas: i32) -> serde_json::Value {
    json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "cache"},
        "spec": {
            "serviceName": "cache", "replicas": replicas,
            "selector": {"matchLabels": {"app": "cache"}},
            "template": {
                "metadata": {"labels": {"app": "cache"}},
                "spec": {"containers": [{
                    "name": "redis", "image": "redis:7.0",
                    "command": ["redis-server", "/data/redis.conf"],
                    "env": [{"name": "REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "cache-secret", "key": "REDIS_PASSWORD"}}}],
                    "ports": [{"containerPort": port, "name": "redis"}],
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}]
                }],
                "volumes": [{"name": "data", "emptyDir": {}}]}
            }
        }
    })
}

async fn wait_pods(ns: &TestNs, n: u32) -> Result<()> {
    wait_sts_pods(ns, "cache", n).await
}

async fn route_exec(ns: &TestNs, fleet: &Fleet, ordinal: u32) -> Result<()> {
    let env = fleet.exec_env(ordinal);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let dir = fleet.servers[ordinal as usize]
        .volume
        .to_string_lossy()
        .into_owned();
    ns.set_pod_exec(&format!("cache-{ordinal}"), &env, &dir)
        .await
}

async fn apply(ns: &TestNs, extra: &[&str]) -> Result<e2e::CmdOutput> {
    let mut args = vec![
        "sts-bootstrap",
        "apply",
        "cache",
        "--yes",
        "-o",
        "json",
        "--timeout",
        "60s",
    ];
    args.extend_from_slice(extra);
    e2e::run_kubectl_with(
        ns.cluster,
        &ns.kubeconfig,
        &args,
        &[],
        Duration::from_secs(300),
    )
    .await
}

fn done_steps(v: &serde_json::Value) -> Vec<String> {
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["outcome"] == "done")
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
#[allow(clippy::too_many_lines)] // one scenario, told in order
async fn redis_fresh_rerun_restart_scale_up_wipe_and_foreign_keys() -> Result<()> {
    if !have("redis-server") || !have("redis-cli") {
        eprintln!("skipping: redis-server or redis-cli missing");
        return Ok(());
    }
    plugin_path("kubectl-sts_bootstrap")?;
    let ns = TestNs::new("sts-bootstrap-redis").await?;
    let mut fleet = Fleet::new(&ns.name)?;
    for i in 0..3 {
        fleet.add(&ns.name, i).await?;
    }
    ns.apply(
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cache-secret"},
        "stringData": {"REDIS_PASSWORD": PW}}),
    )
    .await?;
    ns.apply(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "cache"},
        "spec": {"clusterIP": "None", "publishNotReadyAddresses": true, "selector": {"app": "cache"},
                 "ports": [{"port": fleet.port}]}}))
        .await?;
    ns.apply(statefulset(fleet.port, 3)).await?;
    wait_pods(&ns, 3).await?;
    for i in 0..3 {
        route_exec(&ns, &fleet, i).await?;
    }
    fleet.cli(0, &["SET", "before", "setup"])?;

    // 1. plan shows the work (detected as redis); apply does it.
    let out = ns
        .kubectl(&["sts-bootstrap", "plan", "cache", "-o", "json"])
        .await?
        .ok()?;
    let plan = out.json()?;
    assert_eq!(plan["engine"], "redis", "{plan:#}");
    assert_eq!(plan["steps"].as_array().unwrap().len(), 4, "{plan:#}");
    assert!(!out.stdout.contains(PW));
    let out = apply(&ns, &[]).await?.ok()?;
    let res = out.json()?;
    assert_eq!(
        done_steps(&res),
        vec![
            "replicaof/cache-1",
            "persist/cache-1",
            "replicaof/cache-2",
            "persist/cache-2"
        ],
        "{res:#}"
    );
    assert_eq!(res["verified"].as_array().unwrap().len(), 2, "{res:#}");
    assert!(!out.stdout.contains(PW) && !out.stderr.contains(PW));
    // Verified by data and the servers' own view, independently of the tool.
    fleet.cli(0, &["SET", "e2e", "hello"])?;
    for i in [1, 2] {
        let f = &fleet;
        wait_for("key on replica", Duration::from_secs(30), || async move {
            Ok(f.cli(i, &["GET", "e2e"])
                .ok()
                .filter(|v| v == "hello")
                .map(|_| ()))
        })
        .await?;
        assert_eq!(fleet.cli(i, &["GET", "before"])?, "setup");
        assert_eq!(fleet.info(i, "role").as_deref(), Some("slave"));
        assert_eq!(fleet.info(i, "master_link_status").as_deref(), Some("up"));
        let conf = std::fs::read_to_string(fleet.servers[i as usize].volume.join("redis.conf"))?;
        assert!(
            conf.contains(&format!(
                "replicaof cache-0.cache.{}.svc.cluster.local {}",
                ns.name, fleet.port
            )),
            "{conf}"
        );
    }
    assert_eq!(fleet.info(0, "connected_slaves").as_deref(), Some("2"));
    // The exec argv travels in the request URL: no password in any exec of this namespace.
    let audit = std::fs::read_to_string(&ns.cluster.audit_log).unwrap_or_default();
    let execs: Vec<&str> = audit
        .lines()
        .filter(|l| l.contains(&ns.name) && l.contains("/exec"))
        .collect();
    assert!(!execs.is_empty(), "no exec in the audit log");
    for l in &execs {
        assert!(!l.contains(PW), "password in an exec URL: {l}");
    }

    // 2. Re-run: every step already done.
    let out = apply(&ns, &[]).await?.ok()?;
    let res = out.json()?;
    assert!(done_steps(&res).is_empty(), "{res:#}");

    // 3. A replica restarted keeps replicating (CONFIG REWRITE persisted replicaof + masterauth).
    fleet.restart(2).await?;
    let f = &fleet;
    wait_for("cache-2 link up after restart", Duration::from_secs(30), || async move {
        Ok((f.info(2, "master_link_status").as_deref() == Some("up")).then_some(()))
    })
    .await?;
    let out = apply(&ns, &[]).await?.ok()?;
    assert!(done_steps(&out.json()?).is_empty());

    // 4. Scale 3 -> 4: only the new replica is set up.
    fleet.add(&ns.name, 3).await?;
    ns.apply(statefulset(fleet.port, 4)).await?;
    wait_pods(&ns, 4).await?;
    route_exec(&ns, &fleet, 3).await?;
    let out = apply(&ns, &[]).await?.ok()?;
    assert_eq!(
        done_steps(&out.json()?),
        vec!["replicaof/cache-3", "persist/cache-3"]
    );
    assert_eq!(fleet.cli(3, &["GET", "e2e"])?, "hello");

    // 5. A wiped replica (empty server, fresh config) is set up again, alone.
    fleet.wipe(2).await?;
    assert_eq!(fleet.info(2, "role").as_deref(), Some("master"));
    let out = apply(&ns, &[]).await?.ok()?;
    assert_eq!(
        done_steps(&out.json()?),
        vec!["replicaof/cache-2", "persist/cache-2"]
    );
    assert_eq!(fleet.cli(2, &["GET", "e2e"])?, "hello");

    // 6. A replica that became a primary with keys of its own: refused (exit 5), nothing
    //    changed; with --force it is made a replica and its keys replaced by the primary's.
    fleet.wipe(1).await?;
    fleet.cli(1, &["SET", "foreign", "data"])?;
    let out = e2e::run_kubectl_with(
        ns.cluster,
        &ns.kubeconfig,
        &["sts-bootstrap", "apply", "cache", "--yes"],
        &[],
        Duration::from_secs(300),
    )
    .await?;
    assert_eq!(out.code, 5, "{out:?}");
    assert!(out.stdout.contains("key(s) of its own"), "{out:?}");
    assert!(out.stdout.contains("--force"), "{out:?}");
    assert_eq!(fleet.info(1, "role").as_deref(), Some("master"));
    assert_eq!(fleet.cli(1, &["GET", "foreign"])?, "data");
    let out = apply(&ns, &["--force"]).await?.ok()?;
    assert_eq!(
        done_steps(&out.json()?),
        vec!["replicaof/cache-1", "persist/cache-1"]
    );
    assert_eq!(fleet.cli(1, &["GET", "e2e"])?, "hello");
    assert_eq!(fleet.cli(1, &["EXISTS", "foreign"])?, "0");

    // 7. status -o json.
    let out = ns
        .kubectl(&["sts-bootstrap", "status", "cache", "-o", "json"])
        .await?
        .ok()?;
    let st = out.json()?;
    assert_eq!(st["kind"], "ReplicaSetStatus");
    let states: Vec<&str> = st["redis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        vec!["accepting writes", "link up", "link up", "link up"],
        "{st:#}"
    );
    let out = ns
        .kubectl(&["sts-bootstrap", "status", "cache"])
        .await?
        .ok()?;
    assert!(out.stdout.contains("link up"), "{}", out.stdout);

    // 8. The server's password only in a Secret, not in the exec environment (e.g. requirepass
    //    from a mounted config): without --password-secret nothing can be queried (exit 5,
    //    nothing changed); with it, the password travels on stdin and a wiped replica is set up.
    fleet.wipe(2).await?;
    for i in 0..4 {
        let addr = fleet.servers[i as usize].addr.clone();
        let dir = fleet.servers[i as usize]
            .volume
            .to_string_lossy()
            .into_owned();
        ns.set_pod_exec(
            &format!("cache-{i}"),
            &[("STS_E2E_ROUTE", "no-password"), ("REDIS_HOST", &addr)],
            &dir,
        )
        .await?;
    }
    let out = e2e::run_kubectl_with(
        ns.cluster,
        &ns.kubeconfig,
        &["sts-bootstrap", "apply", "cache", "--yes"],
        &[],
        Duration::from_secs(300),
    )
    .await?;
    assert_eq!(out.code, 5, "{out:?}");
    assert!(out.stdout.contains("cannot query"), "{out:?}");
    assert_eq!(fleet.info(2, "role").as_deref(), Some("master"));
    let out = apply(&ns, &["--password-secret", "cache-secret:REDIS_PASSWORD"])
        .await?
        .ok()?;
    assert_eq!(
        done_steps(&out.json()?),
        vec!["replicaof/cache-2", "persist/cache-2"]
    );
    assert!(!out.stdout.contains(PW) && !out.stderr.contains(PW));
    assert_eq!(fleet.cli(2, &["GET", "e2e"])?, "hello");
    assert_eq!(fleet.info(2, "master_link_status").as_deref(), Some("up"));
    let out = e2e::run_kubectl_with(
        ns.cluster,
        &ns.kubeconfig,
        &[
            "sts-bootstrap",
            "plan",
            "cache",
            "--password-secret",
            "nope",
        ],
        &[],
        Duration::from_secs(60),
    )
    .await?;
    assert_eq!(out.code, 3, "{out:?}");
    let audit = std::fs::read_to_string(&ns.cluster.audit_log).unwrap_or_default();
    for l in audit
        .lines()
        .filter(|l| l.contains(&ns.name) && l.contains("/exec"))
    {
        assert!(!l.contains(PW), "password in an exec URL: {l}");
    }
    Ok(())
}
