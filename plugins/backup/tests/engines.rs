//! The engine dump commands, run for real: each generated Job's container command and env are
//! run on the host (as the kubelet would run them: env resolved, Secret references looked up)
//! against throwaway PostgreSQL, MariaDB and Redis servers on 127.0.0.1, then the artifact is
//! restored (pg_restore into a fresh database, a mysql import, redis-server loading the RDB)
//! and the rows checked. Servers missing → the test is skipped with a loud message
//! (tests/scripts/install-deps.sh installs them). MongoDB has no server here: the mongodump
//! command line is checked against the documented flags and run against a recording shim.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use backup::Target;
use backup::dump::{Engine, SourcePref};
use backup::plan::{CreateRequest, plan};
use k8s_openapi::api::batch::v1::Job;
use stateful_core::snapshot::{Snapshot, parse_dump_into};

const PASSWORD: &str = "s3cret'pw\"x";

fn which(bin: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let extra = ["/usr/sbin", "/usr/bin", "/sbin", "/usr/local/bin"];
    path.split(':')
        .chain(extra)
        .map(|d| Path::new(d).join(bin))
        .find(|p| p.is_file())
}

// A skipped test says so loudly on stderr (allow-print-in-tests covers only #[test] fns).
#[allow(clippy::print_stderr)]
fn skip(what: &str, missing: &str) {
    eprintln!(
        "\n==================== SKIPPED ====================\n{what}: `{missing}` not found.\nRun tests/scripts/install-deps.sh (postgresql, mariadb-server, redis-server).\n=================================================\n"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_port(port: u16, secs: u64) {
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(secs),
            "port {port} never opened"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn sh(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Kills a server on drop, even when the test panics.
struct Guard(Option<Child>, Vec<Command>);
impl Drop for Guard {
    fn drop(&mut self) {
        for c in &mut self.1 {
            let _ = c.stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A StatefulSet `db` running `image` with `env` (YAML list), and a claim `backups`.
fn snapshot(image: &str, env: &str) -> Snapshot {
    let yaml = format!(
        r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db, namespace: t}}
spec:
  serviceName: db
  replicas: 1
  selector: {{matchLabels: {{app: db}}}}
  template:
    metadata: {{labels: {{app: db}}}}
    spec:
      containers:
      - name: db
        image: {image}
        env: {env}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: backups, namespace: t}}
spec: {{accessModes: [ReadWriteOnce]}}
status: {{phase: Bound}}
"#
    );
    let mut s = Snapshot::default();
    parse_dump_into(&mut s, Path::new("fixture.yaml"), &yaml).unwrap();
    s
}

fn dump_job(snap: &Snapshot, engine: Option<Engine>) -> Job {
    let req = CreateRequest {
        target: Target::parse("sts/db").unwrap(),
        name: Some("db-dump-1".into()),
        force: false,
        snapshot: false,
        class: None,
        engine,
        image: None,
        container: None,
        source: SourcePref::Replica,
        to: Some("pvc/backups".into()),
        to_new_pvc: None,
        storage_class: None,
        timeout: Duration::from_secs(600),
    };
    let now: jiff::Timestamp = "2026-11-23T01:02:03Z".parse().unwrap();
    plan(snap, "t", &req, now).unwrap().objects.job.unwrap()
}

/// Run the Job's container on the host, as the kubelet would: the command as-is, env with
/// Secret references resolved from `secrets`, the pod's DNS name mapped to 127.0.0.1 (as the
/// cluster DNS would map it to the pod), the claim mounted at a temp dir.
fn run_job(
    job: &Job,
    secrets: &BTreeMap<(&str, &str), &str>,
    port: u16,
    dir: &Path,
    path_prefix: Option<&Path>,
) -> (String, PathBuf) {
    let pod = job.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
    let c = &pod.containers[0];
    let cmd = c.command.clone().unwrap();
    assert_eq!(&cmd[..2], ["sh", "-c"]);
    // No secret on argv.
    for a in &cmd {
        assert!(!a.contains(PASSWORD), "password on argv");
    }
    let mut p = Command::new(&cmd[0]);
    p.args(&cmd[1..]).env_clear();
    let mut path = String::new();
    if let Some(pp) = path_prefix {
        path.push_str(&format!("{}:", pp.display()));
    }
    path.push_str("/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
    p.env("PATH", path);
    let mut file = None;
    for e in c.env.iter().flatten() {
        let v = match (&e.value, &e.value_from) {
            (Some(v), _) => v.clone(),
            (None, Some(vf)) => {
                let r = vf.secret_key_ref.as_ref().expect("only secretKeyRef here");
                secrets[&(r.name.as_str(), r.key.as_str())].to_string()
            }
            _ => String::new(),
        };
        let v = match e.name.as_str() {
            "BACKUP_HOST" => {
                assert_eq!(v, "db-0.db.t.svc.cluster.local");
                "127.0.0.1".to_string()
            }
            "BACKUP_PORT" => port.to_string(),
            "BACKUP_DIR" => {
                assert_eq!(v, "/backup");
                dir.display().to_string()
            }
            "BACKUP_FILE" => {
                file = Some(dir.join(&v));
                v
            }
            _ => v,
        };
        p.env(&e.name, v);
    }
    let out = sh(&mut p);
    let file = file.unwrap();
    assert!(file.is_file(), "no artifact at {}", file.display());
    assert!(
        !dir.join(format!(
            "{}.partial",
            file.file_name().unwrap().to_string_lossy()
        ))
        .exists()
    );
    (out, file)
}

fn secrets() -> BTreeMap<(&'static str, &'static str), &'static str> {
    BTreeMap::from([(("db-secret", "password"), PASSWORD)])
}

fn tmpdir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    d
}

fn pg_bindir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").is_file())
        .collect();
    dirs.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.pop()
        .or_else(|| which("initdb").and_then(|p| p.parent().map(Path::to_path_buf)))
}

/// A command run as the `postgres` user when we are root (postgres refuses to run as root).
fn as_pg(bin: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

#[test]
fn postgres_pg_dump_job_restores() {
    let Some(bin) = pg_bindir() else {
        return skip("postgres engine test", "initdb");
    };
    let tmp = tmpdir();
    let data = tmp.path().join("data");
    let pwfile = tmp.path().join("pw");
    std::fs::write(&pwfile, PASSWORD).unwrap();
    if is_root() {
        sh(Command::new("install")
            .args(["-d", "-o", "postgres", "-m", "700"])
            .arg(&data));
        sh(Command::new("chown").arg("postgres").arg(&pwfile));
    }
    sh(as_pg(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-A",
            "scram-sha-256",
        ])
        .arg(format!("--pwfile={}", pwfile.display())));
    let port = free_port();
    let sock = tmp.path().display().to_string();
    let opts = format!("-p {port} -h 127.0.0.1 -k {sock}");
    let stop = {
        let mut c = as_pg(&bin.join("pg_ctl"));
        c.arg("-D").arg(&data).args(["-m", "immediate", "stop"]);
        c
    };
    sh(as_pg(&bin.join("pg_ctl"))
        .arg("-D")
        .arg(&data)
        .args(["-o", &opts, "-l"])
        .arg(tmp.path().join("log"))
        .args(["-w", "start"]));
    let _guard = Guard(None, vec![stop]);
    let psql = |db: &str, sql: &str| {
        sh(Command::new(bin.join("psql"))
            .args([
                "-X",
                "-v",
                "ON_ERROR_STOP=1",
                "-At",
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "postgres",
                "-d",
                db,
                "-c",
                sql,
            ])
            .env("PGPASSWORD", PASSWORD))
    };
    psql("postgres", "CREATE DATABASE todo");
    psql(
        "todo",
        "CREATE TABLE todos (id serial primary key, item text); INSERT INTO todos (item) SELECT 'task ' || g FROM generate_series(1, 500) g",
    );

    // The workload as the official image runs it: password from a Secret, database by value.
    let snap = snapshot(
        "postgres:15",
        r#"[{name: POSTGRES_PASSWORD, valueFrom: {secretKeyRef: {name: db-secret, key: password}}}, {name: POSTGRES_DB, value: todo}]"#,
    );
    let job = dump_job(&snap, None);
    let out_dir = tmpdir();
    let (log, file) = run_job(&job, &secrets(), port, out_dir.path(), Some(&bin));
    assert!(log.contains("pg_dump -Fc database todo"), "{log}");
    assert!(file.to_string_lossy().ends_with("db-20261123010203.dump"));

    // Restore into a fresh database.
    psql("postgres", "CREATE DATABASE restored");
    sh(Command::new(bin.join("pg_restore"))
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "postgres",
            "-d",
            "restored",
            "--no-owner",
        ])
        .arg(&file)
        .env("PGPASSWORD", PASSWORD));
    assert_eq!(
        psql("restored", "SELECT count(*), max(item) FROM todos").trim(),
        "500|task 99"
    );
}

#[test]
fn mariadb_mysqldump_job_restores() {
    let (Some(install), Some(mysqld), Some(client)) = (
        which("mariadb-install-db").or_else(|| which("mysql_install_db")),
        which("mariadbd").or_else(|| which("mysqld")),
        which("mariadb").or_else(|| which("mysql")),
    ) else {
        return skip("mariadb engine test", "mariadb-install-db/mariadbd/mariadb");
    };
    let tmp = tmpdir();
    let data = tmp.path().join("data");
    let user = if is_root() { "root" } else { "" };
    let mut inst = Command::new(&install);
    inst.arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg("--auth-root-authentication-method=normal")
        .arg("--skip-test-db");
    if !user.is_empty() {
        inst.arg(format!("--user={user}"));
    }
    sh(&mut inst);
    let port = free_port();
    let sock = tmp.path().join("mysqld.sock");
    let mut d = Command::new(&mysqld);
    d.arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--port={port}"))
        .arg("--bind-address=127.0.0.1")
        .arg(format!("--socket={}", sock.display()))
        .arg(format!("--pid-file={}", tmp.path().join("pid").display()))
        .arg("--skip-log-bin")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(tmp.path().join("err.log")).unwrap());
    if !user.is_empty() {
        d.arg(format!("--user={user}"));
    }
    let _guard = Guard(Some(d.spawn().unwrap()), vec![]);
    wait_port(port, 60);
    let sql_as = |pw: &str, sql: &str| {
        sh(Command::new(&client)
            .arg("--no-defaults")
            .arg(format!("--socket={}", sock.display()))
            .args(["-uroot", "-N", "-B", "-e", sql])
            .env("MYSQL_PWD", pw))
    };
    let sql_sock = |sql: &str| sql_as(PASSWORD, sql);
    let pw = PASSWORD.replace('\\', "\\\\").replace('\'', "\\'");
    // TCP from 127.0.0.1 may authenticate as root@localhost: the same password on both.
    sql_as(
        "",
        &format!(
            "ALTER USER 'root'@'localhost' IDENTIFIED BY '{pw}'; CREATE OR REPLACE USER 'root'@'127.0.0.1' IDENTIFIED BY '{pw}'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; \
         CREATE DATABASE todo; CREATE TABLE todo.todos (id INT AUTO_INCREMENT PRIMARY KEY, item VARCHAR(50)); \
         USE todo; INSERT INTO todo.todos (item) SELECT CONCAT('task ', seq) FROM seq_1_to_500;"
        ),
    );

    let snap = snapshot(
        "mariadb:11",
        r#"[{name: MARIADB_ROOT_PASSWORD, valueFrom: {secretKeyRef: {name: db-secret, key: password}}}, {name: MARIADB_DATABASE, value: todo}]"#,
    );
    let job = dump_job(&snap, None);
    let out_dir = tmpdir();
    let (log, file) = run_job(&job, &secrets(), port, out_dir.path(), None);
    assert!(
        log.contains("--databases todo --routines --events as root"),
        "{log}"
    );
    let dump = std::fs::read_to_string(&file).unwrap();
    assert!(dump.contains("CREATE DATABASE"), "not a --databases dump");

    // Import into a fresh database (the dump recreates it).
    sql_sock("DROP DATABASE todo");
    sh(Command::new(&client)
        .arg("--no-defaults")
        .arg(format!("--socket={}", sock.display()))
        .arg("-uroot")
        .env("MYSQL_PWD", PASSWORD)
        .stdin(std::fs::File::open(&file).unwrap()));
    assert_eq!(
        sql_sock("SELECT count(*), max(item) FROM todo.todos").trim(),
        "500\ttask 99"
    );
}

#[test]
fn redis_rdb_job_restores() {
    let (Some(server), Some(cli)) = (which("redis-server"), which("redis-cli")) else {
        return skip("redis engine test", "redis-server/redis-cli");
    };
    let start = |dir: &Path, port: u16, dbfile: &str| {
        Command::new(&server)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args([
                "--requirepass",
                PASSWORD,
                "--dbfilename",
                dbfile,
                "--daemonize",
                "no",
            ])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let rcli = |port: u16, args: &[&str]| {
        sh(Command::new(&cli)
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "--no-auth-warning",
            ])
            .args(args)
            .env("REDISCLI_AUTH", PASSWORD))
    };
    let tmp = tmpdir();
    let port = free_port();
    let _g1 = Guard(Some(start(tmp.path(), port, "dump.rdb")), vec![]);
    wait_port(port, 30);
    for i in 0..300 {
        rcli(port, &["SET", &format!("todo:{i}"), &format!("task {i}")]);
    }
    rcli(port, &["RPUSH", "list", "a", "b", "c"]);

    let snap = snapshot(
        "redis:7.2",
        r#"[{name: REDIS_PASSWORD, valueFrom: {secretKeyRef: {name: db-secret, key: password}}}]"#,
    );
    let job = dump_job(&snap, None);
    let out_dir = tmpdir();
    let (_, file) = run_job(&job, &secrets(), port, out_dir.path(), None);
    assert!(file.to_string_lossy().ends_with(".rdb"));

    // A fresh server loads the RDB.
    let dir2 = tmpdir();
    std::fs::copy(&file, dir2.path().join("restored.rdb")).unwrap();
    let port2 = free_port();
    let _g2 = Guard(Some(start(dir2.path(), port2, "restored.rdb")), vec![]);
    wait_port(port2, 30);
    // Loading happens before the port accepts commands; DBSIZE answers once loaded.
    assert_eq!(rcli(port2, &["DBSIZE"]).trim(), "301");
    assert_eq!(rcli(port2, &["GET", "todo:42"]).trim(), "task 42");
    assert_eq!(
        rcli(port2, &["LRANGE", "list", "0", "-1"]).trim(),
        "a\nb\nc"
    );
}

/// MongoDB: no server here. The mongodump invocation is checked against the flags documented
/// for MongoDB Database Tools 100.x (https://www.mongodb.com/docs/database-tools/mongodump/):
/// --host, --port, --username, --authenticationDatabase, --archive=<file>, --gzip,
/// --readPreference, --config=<file> (a YAML file holding `password:`, so the password is not
/// on the command line). A shim records what the script passes.
#[test]
fn mongodump_command_line_uses_documented_flags() {
    let snap = snapshot(
        "mongo:7.0",
        r#"[{name: MONGO_INITDB_ROOT_USERNAME, value: admin}, {name: MONGO_INITDB_ROOT_PASSWORD, valueFrom: {secretKeyRef: {name: db-secret, key: password}}}]"#,
    );
    let job = dump_job(&snap, None);
    let shim_dir = tmpdir();
    let record = shim_dir.path().join("argv");
    let shim = shim_dir.path().join("mongodump");
    std::fs::write(
        &shim,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > {rec}\nfor a in \"$@\"; do case \"$a\" in --config=*) cp \"${{a#--config=}}\" {rec}.config; stat -c %a \"${{a#--config=}}\" > {rec}.mode;; --archive=*) printf fake > \"${{a#--archive=}}\";; esac; done\n",
            rec = record.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // The script writes its config to /tmp (an emptyDir in the Job); run it in a private one
    // by pointing the script's /tmp at ours.
    let pod = job.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
    let script = pod.containers[0].command.as_ref().unwrap()[2].clone();
    let cfg_dir = tmpdir();
    let patched = script.replace(
        "/tmp/mongodump.yaml",
        &cfg_dir.path().join("mongodump.yaml").display().to_string(),
    );
    let mut job2 = job.clone();
    job2.spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .containers[0]
        .command
        .as_mut()
        .unwrap()[2] = patched;
    let out_dir = tmpdir();
    let (_, file) = run_job(
        &job2,
        &secrets(),
        27017,
        out_dir.path(),
        Some(shim_dir.path()),
    );
    assert!(file.to_string_lossy().ends_with(".archive.gz"));
    let argv = std::fs::read_to_string(&record).unwrap();
    let documented = [
        "--host=",
        "--port=",
        "--archive=",
        "--gzip",
        "--username=",
        "--authenticationDatabase=",
        "--config=",
        "--readPreference=",
    ];
    for a in argv.lines() {
        assert!(
            documented.iter().any(|d| a.starts_with(d)),
            "undocumented flag {a}"
        );
    }
    for want in [
        "--gzip",
        "--username=admin",
        "--authenticationDatabase=admin",
    ] {
        assert!(argv.lines().any(|l| l == want), "{want} missing: {argv}");
    }
    assert!(argv.contains("--host=127.0.0.1\n--port=27017\n"), "{argv}");
    assert!(!argv.contains(PASSWORD), "password on mongodump's argv");
    let cfg = std::fs::read_to_string(format!("{}.config", record.display())).unwrap();
    assert_eq!(
        cfg, "password: 's3cret''pw\"x'\n",
        "YAML single-quoted password"
    );
    let mode = std::fs::read_to_string(format!("{}.mode", record.display())).unwrap();
    assert_eq!(mode.trim(), "600");
}
