//! kubectl sts-bootstrap against REAL MariaDB servers (Debian's mariadbd): one server per pod,
//! each on its own 127.0.x.N with the pod FQDNs mapped to it in /etc/hosts, binary logging on and
//! its server_id read from a file on its "volume" at every start, restarted by a supervisor loop
//! when it exits (as the kubelet restarts a container). kwok routes `pods/exec` of each pod to
//! this host with the pod's own env (MYSQL_HOST, MARIADB_ROOT_PASSWORD).
//!
//! Needs: root (to run mariadbd as `mysql` and to edit /etc/hosts), mariadbd,
//! mariadb-install-db, mariadb and mariadb-dump on PATH, and the plugin built.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Result, bail};
use e2e::{
    HostsFile, Loopback, Supervisor, TestNs, have, plugin_path, sh, wait_for, wait_sts_pods,
};
use k8s_openapi::api::core::v1::Secret;
use serde_json::json;

const ROOT_PW: &str = "e2e-mariadb-root-Pw";

/// Run at every start, outside the binary log (as the official image's entrypoint does): root
/// reachable over TCP with the password, no anonymous or host-specific root accounts.
const INIT_SQL: &str = "SET sql_log_bin = 0;
DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host NOT IN ('localhost', '%'));
FLUSH PRIVILEGES;
CREATE USER IF NOT EXISTS root@'%' IDENTIFIED BY 'e2e-mariadb-root-Pw';
GRANT ALL ON *.* TO root@'%' WITH GRANT OPTION;
";

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
        let root = std::env::temp_dir().join(format!("sts-bootstrap-mariadb-e2e-{ns}"));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root)?;
        std::fs::write(root.join("init.sql"), INIT_SQL)?;
        sh(&format!(
            "chmod 755 {0}; chmod 644 {0}/init.sql",
            root.display()
        ))?;
        Ok(Fleet {
            stop: root.join("STOP"),
            root,
            port: net.port,
            net,
            hosts: HostsFile::new(format!("# sts-bootstrap-mariadb-e2e {ns}")),
            servers: Vec::new(),
        })
    }

    /// An empty data directory, as a fresh volume gives. mariadb-install-db failed once in CI
    /// on a loaded machine (its output hidden): tried a second time, and its output kept in a
    /// log beside the volume.
    fn install(volume: &std::path::Path) -> Result<()> {
        let cmd = format!(
            "rm -rf {v}/data && mariadb-install-db --no-defaults --datadir={v}/data --user=mysql --auth-root-authentication-method=normal --skip-test-db >{v}/install.log 2>&1 && chown -R mysql {v}",
            v = volume.display()
        );
        if sh(&cmd).is_err() {
            std::thread::sleep(std::time::Duration::from_secs(1));
            sh(&cmd).map_err(|e| {
                let log = std::fs::read_to_string(volume.join("install.log")).unwrap_or_default();
                e.context(log)
            })?;
        }
        Ok(())
    }

    async fn add(&mut self, ns: &str, ordinal: u32, server_id: u32) -> Result<()> {
        let addr = self.net.addr(ordinal);
        let volume = self.root.join(format!("db-{ordinal}"));
        std::fs::create_dir_all(&volume)?;
        std::fs::write(volume.join("server-id"), server_id.to_string())?;
        Self::install(&volume)?;
        let command = format!(
            "mariadbd --no-defaults --user=mysql --datadir={v}/data --socket={v}/sock --pid-file={v}/pid --bind-address={addr} --port={port} --server-id=$(cat {v}/server-id) --log-bin=mysql-bin --relay-log=relay-bin --skip-name-resolve --init-file={init}",
            v = volume.display(),
            port = self.port,
            init = self.root.join("init.sql").display(),
        );
        let supervisor = Supervisor::spawn(
            &self.stop,
            volume.join("HOLD"),
            &command,
            &volume.join("server.log"),
        )?;
        self.hosts
            .map(&addr, &[&format!("db-{ordinal}.db.{ns}.svc.cluster.local")])?;
        self.servers.push(Server {
            addr,
            volume,
            supervisor,
        });
        self.wait_up(ordinal).await
    }

    /// SQL as root over TCP (the password in the environment, not on argv); rows tab-separated.
    fn sql(&self, ordinal: u32, sql: &str) -> Result<String> {
        let s = &self.servers[ordinal as usize];
        let out = std::process::Command::new("mariadb")
            .args(["-h", &s.addr, "-P", &self.port.to_string(), "-u", "root"])
            .args(["--connect-timeout=3", "-N", "--batch", "-e", sql])
            .env("MYSQL_PWD", ROOT_PW)
            .stdin(Stdio::null())
            .output()?;
        if !out.status.success() {
            bail!(
                "mariadb on db-{ordinal}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// One field of `SHOW SLAVE STATUS` (None: not a replica).
    fn slave(&self, ordinal: u32, field: &str) -> Option<String> {
        let s = &self.servers[ordinal as usize];
        let out = std::process::Command::new("mariadb")
            .args(["-h", &s.addr, "-P", &self.port.to_string(), "-u", "root"])
            .args(["--batch", "-E", "-e", "SHOW SLAVE STATUS"])
            .env("MYSQL_PWD", ROOT_PW)
            .stdin(Stdio::null())
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout).lines().find_map(|l| {
            l.trim()
                .strip_prefix(&format!("{field}: "))
                .map(str::to_string)
        })
    }

    fn running(&self, ordinal: u32) -> bool {
        self.slave(ordinal, "Slave_IO_Running").as_deref() == Some("Yes")
            && self.slave(ordinal, "Slave_SQL_Running").as_deref() == Some("Yes")
    }

    async fn wait_up(&self, ordinal: u32) -> Result<()> {
        wait_for(
            &format!("server of db-{ordinal}"),
            Duration::from_secs(60),
            || async move { Ok(self.sql(ordinal, "SELECT 1").ok().map(|_| ())) },
        )
        .await
    }

    async fn shutdown(&self, ordinal: u32) -> Result<()> {
        let pid = self.servers[ordinal as usize].volume.join("pid");
        let _ = self.sql(ordinal, "SHUTDOWN");
        wait_for("server stopped", Duration::from_secs(60), || {
            let pid = pid.clone();
            async move { Ok((!pid.exists()).then_some(())) }
        })
        .await
    }

    /// Restart as the kubelet would (same volume), with `server_id` from now on.
    async fn restart_with_id(&self, ordinal: u32, server_id: u32) -> Result<()> {
        let s = &self.servers[ordinal as usize];
        std::fs::write(s.volume.join("server-id"), server_id.to_string())?;
        self.shutdown(ordinal).await?;
        self.wait_up(ordinal).await
    }

    /// Wipe a server's volume: hold the supervisor, stop it, a fresh data directory, release.
    async fn wipe(&self, ordinal: u32) -> Result<()> {
        let s = &self.servers[ordinal as usize];
        s.supervisor.hold()?;
        self.shutdown(ordinal).await?;
        Self::install(&s.volume)?;
        s.supervisor.release()?;
        self.wait_up(ordinal).await
    }

    fn exec_env(&self, ordinal: u32) -> Vec<(String, String)> {
        vec![
            (
                "MYSQL_HOST".into(),
                self.servers[ordinal as usize].addr.clone(),
            ),
            ("MARIADB_ROOT_PASSWORD".into(), ROOT_PW.into()),
        ]
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.stop, "");
        for i in 0..self.servers.len() {
            let _ = self.sql(i as u32, "SHUTDOWN");
        }
        std::thread::sleep(Duration::from_secs(1));
        if std::env::var_os("STS_BOOTSTRAP_E2E_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

fn statefulset(port: u16, replicas: i32) -> serde_json::Value {
    json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "serviceName": "db", "replicas": replicas,
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{
                    "name": "mariadb", "image": "mariadb:10.11",
                    "command": ["sh", "-c", "exec docker-entrypoint.sh mariadbd --log-bin=mysql-bin --server-id=$((1 + ${HOSTNAME##*-}))"],
                    "env": [{"name": "MARIADB_ROOT_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-secret", "key": "root-password"}}}],
                    "ports": [{"containerPort": port, "name": "mysql"}],
                    "volumeMounts": [{"name": "data", "mountPath": "/var/lib/mysql"}]
                }],
                "volumes": [{"name": "data", "emptyDir": {}}]}
            }
        }
    })
}

async fn route_exec(ns: &TestNs, fleet: &Fleet, ordinal: u32) -> Result<()> {
    let env = fleet.exec_env(ordinal);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let dir = fleet.servers[ordinal as usize]
        .volume
        .to_string_lossy()
        .into_owned();
    ns.set_pod_exec(&format!("db-{ordinal}"), &env, &dir).await
}

async fn apply(ns: &TestNs) -> Result<e2e::CmdOutput> {
    e2e::run_kubectl_with(
        ns.cluster,
        &ns.kubeconfig,
        &[
            "sts-bootstrap",
            "apply",
            "db",
            "--yes",
            "-o",
            "json",
            "--timeout",
            "90s",
        ],
        &[],
        Duration::from_secs(600),
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

async fn row_on(fleet: &Fleet, ordinal: u32, sql: &str, want: &str) -> Result<()> {
    wait_for(
        &format!("{sql} = {want} on db-{ordinal}"),
        Duration::from_secs(30),
        || async move {
            Ok(fleet
                .sql(ordinal, sql)
                .ok()
                .filter(|v| v == want)
                .map(|_| ()))
        },
    )
    .await
}

/// The Secret, Service and StatefulSet of `n` pods, Running, exec routed to `fleet`.
async fn set_up(ns: &TestNs, fleet: &Fleet, n: u32) -> Result<()> {
    ns.apply(
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db-secret"},
        "stringData": {"root-password": ROOT_PW}}),
    )
    .await?;
    ns.apply(
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
        "spec": {"clusterIP": "None", "publishNotReadyAddresses": true, "selector": {"app": "db"},
                 "ports": [{"port": fleet.port}]}}),
    )
    .await?;
    ns.apply(statefulset(fleet.port, n as i32)).await?;
    wait_sts_pods(ns, "db", n).await?;
    for i in 0..n {
        route_exec(ns, fleet, i).await?;
    }
    Ok(())
}

#[allow(clippy::print_stderr)] // the reason a test is skipped
fn binaries_missing() -> bool {
    ["mariadbd", "mariadb-install-db", "mariadb", "mariadb-dump"]
        .into_iter()
        .find(|b| !have(b))
        .inspect(|b| eprintln!("skipping: {b} missing"))
        .is_some()
}

/// A brand-new set: the primary holds nothing yet, so the seed copies nothing; the replica is
/// still set up once, a re-run does nothing, and data written afterwards replicates.
#[tokio::test]
async fn mariadb_empty_primary_then_rerun() -> Result<()> {
    if binaries_missing() {
        return Ok(());
    }
    plugin_path("kubectl-sts_bootstrap")?;
    let ns = TestNs::new("sts-bootstrap-mariadb-empty").await?;
    let mut fleet = Fleet::new(&ns.name)?;
    for i in 0..2 {
        fleet.add(&ns.name, i, i + 1).await?;
    }
    set_up(&ns, &fleet, 2).await?;
    let res = apply(&ns).await?.ok()?.json()?;
    assert_eq!(
        done_steps(&res),
        vec![
            "replication-user",
            "seed/db-1",
            "replicate/db-1",
            "read-only/db-1"
        ],
        "{res:#}"
    );
    assert!(fleet.running(1));
    let res = apply(&ns).await?.ok()?.json()?;
    assert!(done_steps(&res).is_empty(), "{res:#}");
    fleet.sql(
        0,
        "CREATE DATABASE later; CREATE TABLE later.t (id INT PRIMARY KEY); INSERT INTO later.t VALUES (7)",
    )?;
    row_on(&fleet, 1, "SELECT id FROM later.t", "7").await?;

    // The root password only in a Secret, not in the exec environment: without
    // --password-secret nothing can be queried (exit 5); with it, it travels on stdin.
    for i in 0..2 {
        let addr = fleet.servers[i as usize].addr.clone();
        let dir = fleet.servers[i as usize]
            .volume
            .to_string_lossy()
            .into_owned();
        ns.set_pod_exec(
            &format!("db-{i}"),
            &[("STS_E2E_ROUTE", "no-password"), ("MYSQL_HOST", &addr)],
            &dir,
        )
        .await?;
    }
    let out = ns
        .kubectl(&["sts-bootstrap", "status", "db", "-o", "json"])
        .await?;
    assert_eq!(out.code, 5, "{out:?}");
    assert!(out.stdout.contains("Access denied"), "{out:?}");
    let with = ["--password-secret", "db-secret:root-password"];
    let out = ns
        .kubectl(&[
            "sts-bootstrap",
            "status",
            "db",
            "-o",
            "json",
            with[0],
            with[1],
        ])
        .await?
        .ok()?;
    let st = out.json()?;
    let states: Vec<&str> = st["mysql"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["accepting writes", "replicating"], "{st:#}");
    let out = e2e::run_kubectl_with(
        ns.cluster,
        &ns.kubeconfig,
        &[
            "sts-bootstrap",
            "apply",
            "db",
            "--yes",
            "-o",
            "json",
            with[0],
            with[1],
        ],
        &[],
        Duration::from_secs(300),
    )
    .await?
    .ok()?;
    assert!(done_steps(&out.json()?).is_empty());
    assert!(!out.stdout.contains(ROOT_PW) && !out.stderr.contains(ROOT_PW));
    let audit = std::fs::read_to_string(&ns.cluster.audit_log).unwrap_or_default();
    for l in audit
        .lines()
        .filter(|l| l.contains(&ns.name) && l.contains("/exec"))
    {
        assert!(!l.contains(ROOT_PW), "password in an exec URL: {l}");
    }
    Ok(())
}

#[tokio::test]
#[allow(clippy::too_many_lines)] // one scenario, told in order
async fn mariadb_fresh_rerun_scale_up_wipe_foreign_data_and_duplicate_server_id() -> Result<()> {
    if binaries_missing() {
        return Ok(());
    }
    plugin_path("kubectl-sts_bootstrap")?;
    let ns = TestNs::new("sts-bootstrap-mariadb").await?;
    let mut fleet = Fleet::new(&ns.name)?;
    for i in 0..3 {
        fleet.add(&ns.name, i, i + 1).await?;
    }
    set_up(&ns, &fleet, 3).await?;
    // Data on the primary before anything: the replicas must get it by seeding.
    fleet.sql(
        0,
        "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT); INSERT INTO app.t VALUES (1, 'before setup')",
    )?;

    // 1. plan shows the work (detected as MariaDB/MySQL); apply does it.
    let out = ns
        .kubectl(&["sts-bootstrap", "plan", "db", "-o", "json"])
        .await?
        .ok()?;
    let plan = out.json()?;
    assert_eq!(plan["engine"], "mysql", "{plan:#}");
    assert_eq!(plan["steps"].as_array().unwrap().len(), 8, "{plan:#}");
    assert!(!out.stdout.contains(ROOT_PW));
    let out = apply(&ns).await?.ok()?;
    let res = out.json()?;
    assert_eq!(
        done_steps(&res),
        vec![
            "replication-user",
            "seed/db-1",
            "replicate/db-1",
            "read-only/db-1",
            "seed/db-2",
            "replicate/db-2",
            "read-only/db-2"
        ],
        "{res:#}"
    );
    assert_eq!(res["verified"].as_array().unwrap().len(), 2, "{res:#}");
    let secret = ns.api::<Secret>().get("db-replication").await?;
    let pw = String::from_utf8(secret.data.unwrap()["password"].0.clone())?;
    for text in [&out.stdout, &out.stderr] {
        assert!(!text.contains(ROOT_PW) && !text.contains(&pw));
    }
    // Verified by data and the servers' own view, independently of the tool.
    fleet.sql(0, "INSERT INTO app.t VALUES (2, 'after setup')")?;
    for i in [1, 2] {
        row_on(&fleet, i, "SELECT COUNT(*) FROM app.t", "2").await?;
        assert_eq!(
            fleet.sql(i, "SELECT v FROM app.t WHERE id = 1")?,
            "before setup"
        );
        assert!(fleet.running(i));
        assert_eq!(fleet.slave(i, "Using_Gtid").as_deref(), Some("Slave_Pos"));
        assert_eq!(fleet.sql(i, "SELECT @@read_only")?, "1");
    }
    assert_eq!(fleet.sql(0, "SELECT @@read_only")?, "0");
    // The exec argv travels in the request URL: no password in any exec of this namespace.
    let audit = std::fs::read_to_string(&ns.cluster.audit_log).unwrap_or_default();
    let execs: Vec<&str> = audit
        .lines()
        .filter(|l| l.contains(&ns.name) && l.contains("/exec"))
        .collect();
    assert!(!execs.is_empty(), "no exec in the audit log");
    for l in &execs {
        assert!(
            !l.contains(ROOT_PW) && !l.contains(&pw),
            "password in an exec URL: {l}"
        );
    }

    // 2. Re-run: every step already done.
    let res = apply(&ns).await?.ok()?.json()?;
    assert!(done_steps(&res).is_empty(), "{res:#}");

    // 3. Scale 3 -> 4: only the new replica is set up.
    fleet.add(&ns.name, 3, 4).await?;
    ns.apply(statefulset(fleet.port, 4)).await?;
    wait_sts_pods(&ns, "db", 4).await?;
    route_exec(&ns, &fleet, 3).await?;
    let res = apply(&ns).await?.ok()?.json()?;
    assert_eq!(
        done_steps(&res),
        vec!["seed/db-3", "replicate/db-3", "read-only/db-3"],
        "{res:#}"
    );
    assert_eq!(fleet.sql(3, "SELECT COUNT(*) FROM app.t")?, "2");

    // 4. A wiped replica (empty volume) is seeded again, alone.
    fleet.wipe(2).await?;
    assert_eq!(fleet.slave(2, "Slave_IO_Running"), None);
    let res = apply(&ns).await?.ok()?.json()?;
    assert_eq!(
        done_steps(&res),
        vec!["seed/db-2", "replicate/db-2", "read-only/db-2"],
        "{res:#}"
    );
    assert_eq!(fleet.sql(2, "SELECT COUNT(*) FROM app.t")?, "2");

    // 5. A replica with data of its own (written with its own binary log): refused, exit 5,
    //    nothing changed.
    fleet.wipe(1).await?;
    fleet.sql(
        1,
        "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY)",
    )?;
    let out = e2e::run_kubectl_with(
        ns.cluster,
        &ns.kubeconfig,
        &["sts-bootstrap", "apply", "db", "--yes"],
        &[],
        Duration::from_secs(300),
    )
    .await?;
    assert_eq!(out.code, 5, "{out:?}");
    assert!(out.stdout.contains("diverged GTID set"), "{out:?}");
    assert!(out.stdout.contains("Refused"), "{out:?}");
    assert_eq!(fleet.slave(1, "Slave_IO_Running"), None);
    assert_eq!(
        fleet.sql(
            1,
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'shop'"
        )?,
        "1"
    );

    // 6. Two pods with the same server_id: refused with the fix, exit 5, nothing changed.
    fleet.wipe(1).await?;
    fleet.restart_with_id(3, 2).await?;
    let out = e2e::run_kubectl_with(
        ns.cluster,
        &ns.kubeconfig,
        &["sts-bootstrap", "plan", "db"],
        &[],
        Duration::from_secs(300),
    )
    .await?;
    assert_eq!(out.code, 5, "{out:?}");
    assert!(
        out.stdout.contains("db-1, db-3 share server_id 2"),
        "{out:?}"
    );
    assert!(out.stdout.contains("--server-id"), "{out:?}");
    let out = e2e::run_kubectl_with(
        ns.cluster,
        &ns.kubeconfig,
        &["sts-bootstrap", "apply", "db", "--yes"],
        &[],
        Duration::from_secs(300),
    )
    .await?;
    assert_eq!(out.code, 5, "{out:?}");
    assert_eq!(fleet.slave(1, "Slave_IO_Running"), None);
    // Fixed (own server_id again, restarted): db-1 is seeded; db-3, restarted, replicates again
    // on its own but lost the unpersisted read_only, which is set again.
    fleet.restart_with_id(3, 4).await?;
    let f = &fleet;
    wait_for(
        "db-3 replicating after restart",
        Duration::from_secs(60),
        || async move { Ok(f.running(3).then_some(())) },
    )
    .await?;
    let res = apply(&ns).await?.ok()?.json()?;
    assert_eq!(
        done_steps(&res),
        vec![
            "seed/db-1",
            "replicate/db-1",
            "read-only/db-1",
            "read-only/db-3"
        ],
        "{res:#}"
    );

    // 7. status, as JSON and as a table.
    let out = ns
        .kubectl(&["sts-bootstrap", "status", "db", "-o", "json"])
        .await?
        .ok()?;
    let st = out.json()?;
    assert_eq!(st["kind"], "ReplicaSetStatus");
    let states: Vec<&str> = st["mysql"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        vec![
            "accepting writes",
            "replicating",
            "replicating",
            "replicating"
        ],
        "{st:#}"
    );
    assert_eq!(st["mysql"][1]["lagSeconds"], 0, "{st:#}");
    let out = ns.kubectl(&["sts-bootstrap", "status", "db"]).await?.ok()?;
    assert!(out.stdout.contains("replicating"), "{}", out.stdout);
    Ok(())
}
