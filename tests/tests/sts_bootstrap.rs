//! kubectl sts-bootstrap against REAL PostgreSQL servers: one server per pod, each on its own
//! 127.0.x.N with the pod FQDNs mapped to it in /etc/hosts, each restarted by a small supervisor
//! loop when it exits (as the kubelet restarts a container). kwok routes `pods/exec` of each pod
//! to this host with the pod's own env (PGHOST/PGPORT/PGDATA/POSTGRES_PASSWORD).
//!
//! Needs: root (to run the servers as `postgres` and to edit /etc/hosts), PostgreSQL server
//! binaries (/usr/lib/postgresql/*/bin), psql and pg_basebackup on PATH, and the plugin built.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use e2e::{
    HostsFile, Loopback, Supervisor, TestNs, have, plugin_path, sh, wait_for, wait_sts_pods,
};
use k8s_openapi::api::core::v1::Secret;
use serde_json::json;

const SUPERUSER_PW: &str = "e2e-superuser-pw";

fn pg_bin() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("postgres").is_file() && p.join("initdb").is_file())
        .collect();
    dirs.sort();
    dirs.pop()
}

/// One "pod": a real server with its volume dir, data dir and supervisor. The supervisor runs
/// the server through `setpriv` (which execs): `runuser`/`su` fork and stop themselves when
/// their child is stopped, which a real container runtime does not do.
struct Server {
    pod: String,
    addr: String,
    volume: PathBuf,
    pgdata: PathBuf,
    supervisor: Supervisor,
}

/// The servers, their /etc/hosts lines, and cleanup (also on panic).
struct Fleet {
    bin: PathBuf,
    root: PathBuf,
    port: u16,
    net: Loopback,
    hosts: HostsFile,
    stop: PathBuf,
    servers: Vec<Server>,
}

impl Fleet {
    fn new(ns: &str) -> Result<Fleet> {
        let bin = pg_bin().context("no PostgreSQL server binaries in /usr/lib/postgresql")?;
        let net = Loopback::new()?;
        let root = std::env::temp_dir().join(format!("sts-bootstrap-e2e-{ns}"));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root)?;
        sh(&format!("chmod 755 {}", root.display()))?;
        Ok(Fleet {
            bin,
            stop: root.join("STOP"),
            root,
            port: net.port,
            net,
            hosts: HostsFile::new(format!("# sts-bootstrap-e2e {ns}")),
            servers: Vec::new(),
        })
    }

    fn fqdn(ns: &str, ordinal: u32) -> String {
        format!("todo-db-{ordinal}.todo-db.{ns}.svc.cluster.local")
    }

    /// initdb a fresh data dir (as a container entrypoint would on an empty volume).
    fn initdb(&self, pgdata: &Path) -> Result<()> {
        let pwfile = self.root.join("pw");
        std::fs::write(&pwfile, SUPERUSER_PW)?;
        sh(&format!(
            "chmod 644 {pw}; runuser -u postgres -- {bin}/initdb -D {d} -U postgres --pwfile={pw} --auth-local=trust --auth-host=scram-sha-256 >/dev/null && printf 'local all all trust\\nhost all all 127.0.0.0/8 scram-sha-256\\n' > {d}/pg_hba.conf && chown postgres {d}/pg_hba.conf",
            pw = pwfile.display(),
            bin = self.bin.display(),
            d = pgdata.display()
        ))?;
        Ok(())
    }

    /// Start the server of `ordinal` (fresh data) under its supervisor; map its FQDN.
    async fn add(&mut self, ns: &str, ordinal: u32) -> Result<()> {
        let pod = format!("todo-db-{ordinal}");
        let addr = self.net.addr(ordinal);
        let volume = self.root.join(&pod);
        std::fs::create_dir_all(&volume)?;
        sh(&format!("chown postgres {}", volume.display()))?;
        let pgdata = volume.join("pgdata");
        self.initdb(&pgdata)?;
        let command = format!(
            "setpriv --reuid=postgres --regid=postgres --init-groups {bin}/postgres -D {d} -c listen_addresses={addr} -p {port} -c unix_socket_directories=",
            bin = self.bin.display(),
            d = pgdata.display(),
            port = self.port,
        );
        let supervisor = Supervisor::spawn(
            &self.stop,
            volume.join("HOLD"),
            &command,
            &volume.join("server.log"),
        )?;
        self.hosts.map(&addr, &[&Self::fqdn(ns, ordinal)])?;
        self.servers.push(Server {
            pod,
            addr,
            volume,
            pgdata,
            supervisor,
        });
        self.wait_up(ordinal).await
    }

    fn server(&self, ordinal: u32) -> &Server {
        &self.servers[ordinal as usize]
    }

    fn psql(&self, ordinal: u32, sql: &str) -> Result<String> {
        let s = self.server(ordinal);
        let out = std::process::Command::new("psql")
            .args(["-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", &s.addr, "-p"])
            .arg(self.port.to_string())
            .args(["-U", "postgres", "-d", "postgres", "-c", sql])
            .env("PGPASSWORD", SUPERUSER_PW)
            .env("PGCONNECT_TIMEOUT", "3")
            .stdin(Stdio::null())
            .output()?;
        if !out.status.success() {
            bail!(
                "psql on {}: {}",
                s.pod,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    async fn wait_up(&self, ordinal: u32) -> Result<()> {
        wait_for(
            &format!("server of todo-db-{ordinal}"),
            Duration::from_secs(60),
            || async move { Ok(self.psql(ordinal, "SELECT 1").ok().map(|_| ())) },
        )
        .await
    }

    /// Wipe a replica's data: hold the supervisor, stop the server, replace the data dir with a
    /// fresh initdb (what an empty volume gives), release.
    async fn wipe(&self, ordinal: u32) -> Result<()> {
        let s = self.server(ordinal);
        s.supervisor.hold()?;
        let _ = sh(&format!(
            "runuser -u postgres -- {}/pg_ctl -D {} stop -m fast -w >/dev/null 2>&1",
            self.bin.display(),
            s.pgdata.display()
        ));
        sh(&format!("rm -rf {}", s.pgdata.display()))?;
        self.initdb(&s.pgdata)?;
        s.supervisor.release()?;
        self.wait_up(ordinal).await
    }

    fn exec_env(&self, ordinal: u32) -> Vec<(String, String)> {
        let s = self.server(ordinal);
        vec![
            ("PGHOST".into(), s.addr.clone()),
            ("PGPORT".into(), self.port.to_string()),
            ("PGDATA".into(), s.pgdata.to_string_lossy().into_owned()),
            ("POSTGRES_USER".into(), "postgres".into()),
            ("POSTGRES_PASSWORD".into(), SUPERUSER_PW.into()),
        ]
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.stop, "");
        for s in &self.servers {
            let _ = std::process::Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"))
                .args(["-D"])
                .arg(&s.pgdata)
                .args(["stop", "-m", "immediate"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        if std::env::var_os("STS_BOOTSTRAP_E2E_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

fn statefulset(port: u16, replicas: i32) -> serde_json::Value {
    json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "todo-db", "labels": {"app": "todo-db"}},
        "spec": {
            "serviceName": "todo-db", "replicas": replicas,
            "selector": {"matchLabels": {"app": "todo-db"}},
            "template": {
                "metadata": {"labels": {"app": "todo-db"}},
                "spec": {"containers": [{
                    "name": "db", "image": "postgres:15",
                    "env": [
                        {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
                        {"name": "POSTGRES_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "todo-db-secret", "key": "POSTGRES_PASSWORD"}}}
                    ],
                    "ports": [{"containerPort": port, "name": "db"}],
                    "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}]
                }],
                "volumes": [{"name": "data", "emptyDir": {}}]}
            }
        }
    })
}

async fn wait_pods(ns: &TestNs, n: u32) -> Result<()> {
    wait_sts_pods(ns, "todo-db", n).await
}

async fn route_exec(ns: &TestNs, fleet: &Fleet, ordinal: u32) -> Result<()> {
    let env = fleet.exec_env(ordinal);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let dir = fleet.server(ordinal).volume.to_string_lossy().into_owned();
    ns.set_pod_exec(&format!("todo-db-{ordinal}"), &env, &dir)
        .await
}

fn outcomes(v: &serde_json::Value) -> Vec<(String, String)> {
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_string(),
                s["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn streaming(fleet: &Fleet) -> Result<Vec<String>> {
    let rows = fleet.psql(
        0,
        "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1",
    )?;
    Ok(rows.lines().map(str::to_string).collect())
}

#[tokio::test]
#[allow(clippy::too_many_lines)] // one scenario, told in order
async fn postgres_fresh_rerun_scale_up_wipe_and_no_exec_permission() -> Result<()> {
    if pg_bin().is_none()
        || !have("psql")
        || !have("pg_basebackup")
        || !have("runuser")
        || !have("setpriv")
    {
        eprintln!(
            "skipping: PostgreSQL server binaries, psql, pg_basebackup, runuser or setpriv missing"
        );
        return Ok(());
    }
    plugin_path("kubectl-sts_bootstrap")?;
    let ns = TestNs::new("sts-bootstrap-pg").await?;
    let mut fleet = Fleet::new(&ns.name)?;
    for i in 0..3 {
        fleet.add(&ns.name, i).await?;
    }
    let t = Duration::from_secs(600);

    ns.apply(
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "todo-db-secret"},
        "stringData": {"POSTGRES_PASSWORD": SUPERUSER_PW}}),
    )
    .await?;
    ns.apply(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "todo-db"},
        "spec": {"clusterIP": "None", "publishNotReadyAddresses": true, "selector": {"app": "todo-db"},
                 "ports": [{"port": fleet.port}]}}))
        .await?;
    ns.apply(statefulset(fleet.port, 3)).await?;
    wait_pods(&ns, 3).await?;
    for i in 0..3 {
        route_exec(&ns, &fleet, i).await?;
    }

    // 1. A user without pods/exec: exit 4 before anything changes.
    ns.grant_restricted(
        "read-only",
        json!([{"apiGroups": ["", "apps"], "resources": ["pods", "services", "statefulsets", "secrets"],
                "verbs": ["get", "list", "watch"]}]),
    )
    .await?;
    let out = e2e::run_kubectl_with(
        ns.cluster,
        &ns.restricted_kubeconfig,
        &["sts-bootstrap", "apply", "todo-db", "--yes"],
        &[],
        t,
    )
    .await?;
    assert_eq!(out.code, 4, "{out:?}");
    assert!(out.stderr.contains("pods/exec"), "{}", out.stderr);
    assert_eq!(
        fleet.psql(0, "SELECT count(*) FROM pg_replication_slots")?,
        "0"
    );
    assert!(
        ns.api::<Secret>()
            .get_opt("todo-db-replication")
            .await?
            .is_none(),
        "nothing may be created before the permission check"
    );

    // 2. No TTY and no --yes: refused with exit 2, nothing changed.
    let out = ns.kubectl(&["sts-bootstrap", "apply", "todo-db"]).await?;
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    assert_eq!(
        fleet.psql(0, "SELECT count(*) FROM pg_replication_slots")?,
        "0"
    );

    // 3. plan shows the work; apply does it: 1 primary + 2 streaming replicas.
    let out = ns
        .kubectl(&["sts-bootstrap", "plan", "todo-db", "-o", "json"])
        .await?
        .ok()?;
    let plan = out.json()?;
    assert_eq!(plan["kind"], "BootstrapPlan");
    assert!(!out.stdout.contains(SUPERUSER_PW));
    let out = e2e::run_kubectl_with(
        ns.cluster,
        &ns.kubeconfig,
        &[
            "sts-bootstrap",
            "apply",
            "todo-db",
            "--yes",
            "-o",
            "json",
            "--timeout",
            "90s",
        ],
        &[],
        t,
    )
    .await?
    .ok()?;
    let res = out.json()?;
    assert_eq!(res["kind"], "BootstrapResult");
    assert!(
        outcomes(&res)
            .iter()
            .any(|(id, o)| id == "reseed/todo-db-2" && o == "done"),
        "{res:#}"
    );
    assert_eq!(streaming(&fleet)?, vec!["todo-db-1", "todo-db-2"]);
    // Verified by data, independently of the tool.
    fleet.psql(
        0,
        "CREATE TABLE e2e_rows (v text); INSERT INTO e2e_rows VALUES ('hello')",
    )?;
    for i in [1, 2] {
        let f = &fleet;
        wait_for("row on replica", Duration::from_secs(30), || async move {
            Ok(f.psql(i, "SELECT v FROM e2e_rows")
                .ok()
                .filter(|v| v == "hello")
                .map(|_| ()))
        })
        .await?;
        assert_eq!(fleet.psql(i, "SELECT pg_is_in_recovery()")?, "t");
    }
    let secret = ns.api::<Secret>().get("todo-db-replication").await?;
    let pw = String::from_utf8(secret.data.unwrap()["password"].0.clone())?;
    assert!(!out.stdout.contains(&pw) && !out.stderr.contains(&pw));
    // The exec argv travels in the request URL: the API server's audit log has every exec of
    // this namespace, and neither password may appear in any of them.
    let audit = std::fs::read_to_string(&ns.cluster.audit_log).unwrap_or_default();
    let execs: Vec<&str> = audit
        .lines()
        .filter(|l| l.contains(&ns.name) && l.contains("/exec"))
        .collect();
    assert!(!execs.is_empty(), "no exec in the audit log");
    for l in &execs {
        assert!(
            !l.contains(&pw) && !l.contains(SUPERUSER_PW),
            "secret in an exec URL: {l}"
        );
    }

    // 4. Re-run: every step already done.
    let out = e2e::run_kubectl_with(
        ns.cluster,
        &ns.kubeconfig,
        &[
            "sts-bootstrap",
            "apply",
            "todo-db",
            "--yes",
            "-o",
            "json",
            "--timeout",
            "90s",
        ],
        &[],
        t,
    )
    .await?
    .ok()?;
    let res = out.json()?;
    let o = outcomes(&res);
    assert!(!o.is_empty());
    assert!(o.iter().all(|(_, o)| o == "already done"), "{o:?}");

    // 5. Scale 3 -> 4: only the new replica is set up.
    fleet.add(&ns.name, 3).await?;
    ns.apply(statefulset(fleet.port, 4)).await?;
    wait_pods(&ns, 4).await?;
    route_exec(&ns, &fleet, 3).await?;
    let out = e2e::run_kubectl_with(
        ns.cluster,
        &ns.kubeconfig,
        &[
            "sts-bootstrap",
            "apply",
            "todo-db",
            "--yes",
            "-o",
            "json",
            "--timeout",
            "90s",
        ],
        &[],
        t,
    )
    .await?
    .ok()?;
    let done: Vec<String> = outcomes(&out.json()?)
        .into_iter()
        .filter(|(_, o)| o == "done")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(done, vec!["slot/todo-db-3", "reseed/todo-db-3"]);
    assert_eq!(
        streaming(&fleet)?,
        vec!["todo-db-1", "todo-db-2", "todo-db-3"]
    );

    // 6. A replica whose data was wiped (fresh initdb: another system identifier) is re-seeded.
    fleet.wipe(2).await?;
    assert_eq!(fleet.psql(2, "SELECT pg_is_in_recovery()")?, "f");
    let out = ns
        .kubectl(&["sts-bootstrap", "plan", "todo-db", "-o", "json"])
        .await?
        .ok()?;
    let plan = out.json()?;
    let pending: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "Pending")
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(pending, vec!["reseed/todo-db-2"]);
    let out = e2e::run_kubectl_with(
        ns.cluster,
        &ns.kubeconfig,
        &[
            "sts-bootstrap",
            "apply",
            "todo-db",
            "--yes",
            "-o",
            "json",
            "--timeout",
            "90s",
        ],
        &[],
        t,
    )
    .await?
    .ok()?;
    let done: Vec<String> = outcomes(&out.json()?)
        .into_iter()
        .filter(|(_, o)| o == "done")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(done, vec!["reseed/todo-db-2"]);
    assert_eq!(fleet.psql(2, "SELECT v FROM e2e_rows")?, "hello");

    // 7. status -o json.
    let out = ns
        .kubectl(&["sts-bootstrap", "status", "todo-db", "-o", "json"])
        .await?
        .ok()?;
    let st = out.json()?;
    assert_eq!(st["kind"], "ReplicaSetStatus");
    let states: Vec<&str> = st["postgres"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        vec!["accepting writes", "streaming", "streaming", "streaming"]
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// MongoDB: no server can be installed on these machines. The Mongo path runs through the same
// exec route against a stand-in `mongosh` that keeps the replica set in a file and answers with
// documents shaped like a real server's. This verifies the plugin's flow, not MongoDB itself.
// ---------------------------------------------------------------------------------------------

const MONGOSH_STANDIN: &str = r##"#!/usr/bin/env python3
# Stand-in `mongosh` for e2e tests (no MongoDB server can be installed here). It keeps the
# replica set in a JSON state file shared by the "pods" and answers our scripts with documents
# shaped like a real server's (errors 94 NotYetInitialized, 23 AlreadyInitialized, 103, 10107).
import json, os, re, sys, fcntl, secrets
js = sys.argv[sys.argv.index("--eval") + 1] if "--eval" in sys.argv else sys.stdin.read()
me = os.environ["STANDIN_ME"]
path = os.environ["STANDIN_STATE"]
lock = open(path + ".lock", "w")
fcntl.flock(lock, fcntl.LOCK_EX)
try:
    state = json.load(open(path))
except FileNotFoundError:
    state = {"configs": {}, "primary": None}
def out(doc, code=0):
    print("@@STS@@" + json.dumps(doc)); sys.exit(code)
def save():
    json.dump(state, open(path, "w"))
E94 = {"ok": 0, "errmsg": "no replset config has been received", "code": 94, "codeName": "NotYetInitialized"}
mine = state["configs"].get(me)
def status_of(cfg):
    ms = []
    for m in cfg["members"]:
        st = "PRIMARY" if m["host"] == state["primary"] else "SECONDARY"
        ms.append({"_id": m["_id"], "name": m["host"], "health": 1, "stateStr": st,
                   "self": m["host"] == me, "optimeDate": "2026-11-23T02:00:00Z"})
    return {"set": cfg["_id"], "myState": 1 if me == state["primary"] else 2, "members": ms, "ok": 1}
if "replSetInitiate:" in js:
    if mine:
        out({"ok": 0, "code": 23, "codeName": "AlreadyInitialized", "errmsg": "already initialized"}, 1)
    cfg = json.loads(re.search(r"replSetInitiate:(\{.*\})\}\);", js).group(1))
    if cfg["members"][0]["host"] != me:
        out({"ok": 0, "code": 93, "codeName": "InvalidReplicaSetConfig",
             "errmsg": "No host described in new configuration 1 for replica set %s maps to this node" % cfg["_id"]}, 1)
    cfg["version"] = 1
    cfg["settings"] = {"replicaSetId": secrets.token_hex(12)}
    state["configs"][me] = cfg; state["primary"] = me; save()
    out({"ok": 1})
if "replSetReconfig" in js:
    if not mine or state["primary"] != me:
        out({"ok": 0, "code": 10107, "codeName": "NotWritablePrimary", "errmsg": "not primary"}, 1)
    host = re.search(r'c\.members\[i\]\.host==("[^"]*")', js) or re.search(r'm\.host!=("[^"]*")', js)
    host = json.loads(host.group(1))
    cfg = json.loads(json.dumps(mine))
    present = [m for m in cfg["members"] if m["host"] == host]
    if "c.members.push" in js:
        if present: out({"ok": 1, "already": True})
        cfg["members"].append({"_id": max(m["_id"] for m in cfg["members"]) + 1, "host": host, "votes": 0, "priority": 0})
    elif "f.votes=1" in js:
        if not present: out({"ok": 0, "errmsg": "member not in config"}, 1)
        if present[0].get("votes", 1) == 1 and present[0].get("priority", 1) > 0: out({"ok": 1, "already": True})
        present[0]["votes"] = 1; present[0]["priority"] = 1
    elif "c.members.filter" in js:
        if not present: out({"ok": 1, "already": True})
        cfg["members"] = [m for m in cfg["members"] if m["host"] != host]
    if sum(1 for m in cfg["members"] if m.get("votes", 1)) > 7:
        out({"ok": 0, "code": 103, "codeName": "NewReplicaSetConfigurationIncompatible",
             "errmsg": "Replica set configuration contains 8 voting members, but must be at least 1 and no more than 7"}, 1)
    cfg["version"] += 1
    for m in cfg["members"]:
        state["configs"][m["host"]] = cfg
    for h in list(state["configs"]):
        if h not in [m["host"] for m in cfg["members"]] and state["configs"][h]["settings"] == cfg["settings"]:
            del state["configs"][h]
    save(); out({"ok": 1})
if "replSetGetStatus" in js:
    hello = {"ismaster": me == state["primary"] and bool(mine), "secondary": bool(mine) and me != state["primary"], "ok": 1}
    if mine: hello["setName"] = mine["_id"]
    conf = {"ok": 1, "config": mine} if mine else E94
    out({"hello": hello, "conf": conf, "status": status_of(mine) if mine else E94})
out({"ok": 0, "errmsg": "stand-in: unknown script"}, 2)
"##;

fn mongo_sts(replicas: i32) -> serde_json::Value {
    json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "mongo"},
        "spec": {
            "serviceName": "mongo", "replicas": replicas,
            "selector": {"matchLabels": {"app": "mongo"}},
            "template": {
                "metadata": {"labels": {"app": "mongo"}},
                "spec": {"containers": [{
                    "name": "mongodb", "image": "mongo:7.0",
                    "command": ["mongod", "--replSet", "rs0", "--bind_ip_all"],
                    "ports": [{"containerPort": 27017, "name": "peer"}]
                }]}
            }
        }
    })
}

#[tokio::test]
async fn mongodb_through_a_stand_in_mongosh() -> Result<()> {
    if !have("python3") {
        eprintln!("skipping: python3 (for the stand-in mongosh) missing");
        return Ok(());
    }
    plugin_path("kubectl-sts_bootstrap")?;
    let ns = TestNs::new("sts-bootstrap-mongo").await?;
    let bin = ns.dir().join("bin");
    std::fs::create_dir_all(&bin)?;
    std::fs::write(bin.join("mongosh"), MONGOSH_STANDIN)?;
    sh(&format!("chmod 755 {}", bin.join("mongosh").display()))?;
    let state = ns.dir().join("replset.json");
    let host = |i: u32| format!("mongo-{i}.mongo.{}.svc.cluster.local", ns.name);
    let hosts = HostsFile::new(format!("# sts-bootstrap-e2e {}", ns.name));
    let names: Vec<String> = (0..4).map(host).collect();
    hosts.map(
        "127.0.0.1",
        &names.iter().map(String::as_str).collect::<Vec<_>>(),
    )?;
    let path = format!(
        "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        bin.display()
    );
    let route = |i: u32| {
        let (me, st, path, dir) = (
            format!("{}:27017", host(i)),
            state.to_string_lossy().into_owned(),
            path.clone(),
            ns.dir().to_string_lossy().into_owned(),
        );
        let ns = &ns;
        async move {
            ns.set_pod_exec(
                &format!("mongo-{i}"),
                &[
                    ("STANDIN_ME", me.as_str()),
                    ("STANDIN_STATE", st.as_str()),
                    ("PATH", path.as_str()),
                ],
                &dir,
            )
            .await
        }
    };
    ns.apply(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "mongo"},
        "spec": {"clusterIP": "None", "publishNotReadyAddresses": true, "selector": {"app": "mongo"},
                 "ports": [{"port": 27017, "name": "peer"}]}}))
        .await?;
    ns.apply(mongo_sts(3)).await?;
    wait_sts_pods(&ns, "mongo", 3).await?;
    for i in 0..3 {
        route(i).await?;
    }
    let t = Duration::from_secs(300);
    let apply = [
        "sts-bootstrap",
        "apply",
        "mongo",
        "--yes",
        "-o",
        "json",
        "--timeout",
        "60s",
    ];

    // Fresh: initiate on ordinal 0, add the others (votes 0), promote them.
    let out = ns
        .kubectl(&["sts-bootstrap", "plan", "mongo", "-o", "json"])
        .await?
        .ok()?;
    let plan = out.json()?;
    assert_eq!(plan["steps"].as_array().unwrap().len(), 6, "{plan:#}");
    let out = e2e::run_kubectl_with(ns.cluster, &ns.kubeconfig, &apply, &[], t)
        .await?
        .ok()?;
    let done: Vec<String> = outcomes(&out.json()?)
        .into_iter()
        .filter(|(_, o)| o == "done")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        done,
        vec![
            "initiate",
            "wait-primary",
            "add/mongo-1",
            "promote/mongo-1",
            "add/mongo-2",
            "promote/mongo-2"
        ]
    );
    let out = ns
        .kubectl(&["sts-bootstrap", "status", "mongo", "-o", "json"])
        .await?
        .ok()?;
    let st = out.json()?;
    assert_eq!(st["kind"], "ReplicaSetStatus");
    let states: Vec<&str> = st["mongo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["PRIMARY", "SECONDARY", "SECONDARY"]);

    // Re-run: nothing to do, never initiated twice.
    let out = e2e::run_kubectl_with(ns.cluster, &ns.kubeconfig, &apply, &[], t)
        .await?
        .ok()?;
    assert!(
        outcomes(&out.json()?)
            .iter()
            .all(|(_, o)| o == "already done")
    );

    // Scale 3 -> 4: only the new ordinal is added.
    ns.apply(mongo_sts(4)).await?;
    wait_sts_pods(&ns, "mongo", 4).await?;
    route(3).await?;
    let out = e2e::run_kubectl_with(ns.cluster, &ns.kubeconfig, &apply, &[], t)
        .await?
        .ok()?;
    let done: Vec<String> = outcomes(&out.json()?)
        .into_iter()
        .filter(|(_, o)| o == "done")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(done, vec!["add/mongo-3", "promote/mongo-3"]);

    // A member that holds another replica set's config (pod came back empty and was initiated
    // on its own): refused, exit 5, nothing changed.
    let mut s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&state)?)?;
    let me3 = format!("{}:27017", host(3));
    let mut other = s["configs"][&me3].clone();
    other["settings"]["replicaSetId"] = json!("0123456789abcdef01234567");
    other["members"] = json!([{"_id": 0, "host": me3, "votes": 1, "priority": 1}]);
    other["version"] = json!(1);
    s["configs"][&me3] = other;
    std::fs::write(&state, s.to_string())?;
    let before = std::fs::read_to_string(&state)?;
    let out = e2e::run_kubectl_with(
        ns.cluster,
        &ns.kubeconfig,
        &["sts-bootstrap", "apply", "mongo", "--yes"],
        &[],
        t,
    )
    .await?;
    assert_eq!(out.code, 5, "{out:?}");
    assert!(out.stdout.contains("split replica set"), "{out:?}");
    assert_eq!(std::fs::read_to_string(&state)?, before);
    Ok(())
}
