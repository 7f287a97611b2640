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
use backup::dump::{DumpEngine, Engine, SourcePref, sha256_from_log};
use backup::plan::{CreateRequest, plan};
use backup::verify::{VerifyPlan, plan_verify};
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobStatus};
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

/// How a Job's container is run on the host: the Secrets its references name, the port the
/// server listens on, the claim's temp dir, directories put first on PATH, and env the test
/// adds (a restore's `RESTORE_*`).
struct Host<'a> {
    secrets: &'a BTreeMap<(&'a str, &'a str), &'a str>,
    port: u16,
    dir: &'a Path,
    path: &'a [&'a Path],
    extra: &'a [(&'a str, &'a str)],
}

impl<'a> Host<'a> {
    fn new(
        secrets: &'a BTreeMap<(&'a str, &'a str), &'a str>,
        port: u16,
        dir: &'a Path,
        path: &'a [&'a Path],
    ) -> Self {
        Host {
            secrets,
            port,
            dir,
            path,
            extra: &[],
        }
    }
}

/// Run the Job's container on the host, as the kubelet would: the command as-is, env with
/// Secret references resolved, the pod's DNS name mapped to 127.0.0.1 (as the cluster DNS
/// would map it to the pod), the claim mounted at a temp dir. Returns the output (whatever the
/// exit) and the file `BACKUP_FILE` names.
fn run_container(job: &Job, h: &Host<'_>) -> (std::process::Output, Option<PathBuf>) {
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
    for pp in h.path {
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
                h.secrets[&(r.name.as_str(), r.key.as_str())].to_string()
            }
            _ => String::new(),
        };
        let v = match e.name.as_str() {
            "BACKUP_HOST" => {
                assert_eq!(v, "db-0.db.t.svc.cluster.local");
                "127.0.0.1".to_string()
            }
            "BACKUP_PORT" => h.port.to_string(),
            "BACKUP_DIR" => {
                assert_eq!(v, "/backup");
                h.dir.display().to_string()
            }
            "BACKUP_FILE" => {
                file = Some(h.dir.join(&v));
                v
            }
            _ => v,
        };
        p.env(&e.name, v);
    }
    p.envs(h.extra.iter().copied());
    let out = p.output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !all.contains(PASSWORD),
        "the password is in the log:\n{all}"
    );
    (out, file)
}

/// Run the dump Job's container (it must succeed and leave the file, its `.sha256`, and no
/// `.partial`): its log and the file.
fn run_job(
    job: &Job,
    secrets: &BTreeMap<(&str, &str), &str>,
    port: u16,
    dir: &Path,
    path: &[&Path],
) -> (String, PathBuf) {
    let h = Host::new(secrets, port, dir, path);
    let (out, file) = run_container(job, &h);
    let log = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "the job failed: {log}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = file.unwrap();
    assert!(file.is_file(), "no artifact at {}", file.display());
    let base = file.file_name().unwrap().to_string_lossy().into_owned();
    assert!(!dir.join(format!("{base}.partial")).exists());
    assert!(!dir.join(format!("{base}.sha256.partial")).exists());
    // sha256sum's own format beside the file, and the log line the CLI reads.
    let sum = std::fs::read_to_string(dir.join(format!("{base}.sha256"))).unwrap();
    let hex = sha256_hex(&file);
    assert_eq!(sum, format!("{hex}  {base}\n"));
    assert_eq!(
        sha256_from_log(&log).as_deref(),
        Some(hex.as_str()),
        "{log}"
    );
    (log, file)
}

/// The file's sha256, by the system's sha256sum (an independent check of the script's).
fn sha256_hex(file: &Path) -> String {
    let out = sh(Command::new("sha256sum").arg(file));
    out.split_whitespace().next().unwrap().to_string()
}

/// The restore Job `kubectl backup restore db-dump-1 --to sts/db` builds for this dump Job
/// (which the snapshot then holds, as the cluster would): the generated restore, not a copy.
fn restore_job(snap: &Snapshot, dump: &Job) -> Job {
    let mut snap = snap.clone();
    snap.jobs.push(dump.clone());
    let req = backup::restore::RestoreRequest {
        source: backup::restore::RestoreSource::parse("db-dump-1", None).unwrap(),
        target: backup::restore::RestoreTarget::parse(Some("sts/db"), None, None).unwrap(),
        name: Some("db-restore-1".into()),
        engine: None,
        image: None,
        container: None,
        database: None,
        storage_class: None,
        size: Some("1Gi".into()),
        template: None,
        timeout: Duration::from_secs(600),
    };
    let now: jiff::Timestamp = "2026-11-24T01:02:03Z".parse().unwrap();
    let p = backup::restore::plan(&snap, "t", &req, now).unwrap();
    p.objects.job.unwrap()
}

/// The Job with another script in its container (the restore script, with the dump's env; a
/// patched dump script).
fn with_script(job: &Job, script: &str) -> Job {
    let mut j = job.clone();
    j.spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .containers[0]
        .command
        .as_mut()
        .unwrap()[2] = script.to_string();
    j
}

/// Wrappers that record every argv of `tools` (in `rec`) and run the real ones: put first on
/// PATH, they show what the scripts pass to the database tools.
fn argv_recorder(tools: &[(&str, PathBuf)]) -> (tempfile::TempDir, PathBuf) {
    let d = tmpdir();
    let rec = d.path().join("argv.log");
    for (name, real) in tools {
        write_exec(
            &d.path().join(name),
            &format!(
                "#!/bin/sh\nprintf '%s\\n' \"$0 $*\" >> '{}'\nexec '{}' \"$@\"\n",
                rec.display(),
                real.display()
            ),
        );
    }
    (d, rec)
}

/// The recorded argv: the tools ran, and no password on any of them.
fn assert_argv(rec: &Path, must_have: &[&str]) {
    let argv = std::fs::read_to_string(rec).unwrap_or_default();
    for m in must_have {
        assert!(argv.contains(m), "{m} never ran: {argv}");
    }
    assert!(
        !argv.contains(PASSWORD),
        "password on a tool's argv:\n{argv}"
    );
}

/// The dump Job as `create` leaves it after success: Complete, with the sha256 annotation.
fn succeeded(job: &Job, sha: Option<&str>) -> Job {
    let mut j = job.clone();
    if let Some(h) = sha {
        j.metadata
            .annotations
            .get_or_insert_default()
            .insert(backup::ANNOTATION_SHA256.into(), h.into());
    }
    j.status = Some(JobStatus {
        conditions: Some(vec![JobCondition {
            type_: "Complete".into(),
            status: "True".into(),
            ..Default::default()
        }]),
        ..Default::default()
    });
    j
}

/// The verify Job `verify` builds for the dump (after `create` recorded its sha256 or not).
fn verify_job(snap: &Snapshot, dump: &Job, sha: Option<&str>) -> Job {
    let mut snap = snap.clone();
    snap.jobs.push(succeeded(dump, sha));
    let now: jiff::Timestamp = "2026-11-23T02:00:00Z".parse().unwrap();
    match plan_verify(&snap, "t", "db-dump-1", Duration::from_secs(60), now).unwrap() {
        VerifyPlan::Job(v) => v.job,
        VerifyPlan::Snapshot(_) => panic!("a dump is verified by a Job"),
    }
}

/// Run a verify Job on the host: (exit code, stdout, stderr).
fn run_verify(job: &Job, dir: &Path, path: &[&Path]) -> (i32, String, String) {
    let secrets = secrets();
    let h = Host::new(&secrets, 0, dir, path);
    let (out, _) = run_container(job, &h);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The verify script on the good dump and on damaged copies: the good one passes (against
/// the recorded sha256, and against the `.sha256` file alone); a truncated copy and a copy
/// with one byte flipped fail on the sha256; a truncated copy with no checksum known fails on
/// the engine's reader (`reader`: the start of its reason).
fn verify_cases(snap: &Snapshot, dump: &Job, file: &Path, path: &[&Path], reader: &str) {
    let dir = file.parent().unwrap();
    let base = file.file_name().unwrap().to_string_lossy().into_owned();
    let hex = sha256_hex(file);
    // Good, with the recorded sha256.
    let (code, out, err) = run_verify(&verify_job(snap, dump, Some(&hex)), dir, path);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("kubectl-backup: verified"), "{out}");
    assert!(out.contains(&format!("sha256 {hex}")), "{out}");
    // Good, with only the .sha256 beside it.
    let (code, out, err) = run_verify(&verify_job(snap, dump, None), dir, path);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(&format!("sha256 {hex}")), "{out}");

    let bytes = std::fs::read(file).unwrap();
    let damaged = |what: &str, data: &[u8], with_sum: bool| {
        let d = tmpdir();
        std::fs::write(d.path().join(&base), data).unwrap();
        if with_sum {
            std::fs::copy(
                dir.join(format!("{base}.sha256")),
                d.path().join(format!("{base}.sha256")),
            )
            .unwrap();
        }
        let (code, out, err) = run_verify(&verify_job(snap, dump, None), d.path(), path);
        assert_ne!(code, 0, "{what} passed: {out}\n{err}");
        assert!(!out.contains("kubectl-backup: verified"), "{what}: {out}");
        let reason = backup::verify::failure_reason(&err)
            .unwrap_or_else(|| panic!("{what}: no reason: {err}"))
            .to_string();
        (reason, out)
    };
    let truncated = &bytes[..bytes.len() / 2];
    let mut flipped = bytes.clone();
    let i = bytes.len() / 2;
    flipped[i] ^= 0x01;
    let (r, _) = damaged("truncated", truncated, true);
    assert!(r.starts_with("sha256: "), "{r}");
    let (r, _) = damaged("flipped", &flipped, true);
    assert!(r.starts_with("sha256: "), "{r}");
    let (r, out) = damaged("truncated, no checksum", truncated, false);
    assert!(r.starts_with(reader), "{r}");
    assert!(out.contains("checksum unknown"), "{out}");
    // Empty and missing files.
    let (r, _) = damaged("empty", b"", false);
    assert!(r.starts_with("size: "), "{r}");
    let d = tmpdir();
    let (code, _, err) = run_verify(&verify_job(snap, dump, None), d.path(), path);
    assert_eq!(code, 1);
    assert!(
        backup::verify::failure_reason(&err).is_some_and(|r| r.starts_with("file: ")),
        "{err}"
    );
}

/// Run a restore Job's container: it must succeed, having checked the dump's `.sha256`, and
/// end with its summary line. Its log.
fn run_restore(restore: &Job, h: &Host<'_>) -> String {
    let (out, file) = run_container(restore, h);
    let log = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{log}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let base = file
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(log.contains(&format!("matches {base}.sha256")), "{log}");
    assert!(
        log.lines()
            .last()
            .unwrap()
            .starts_with("kubectl-backup: restored"),
        "{log}"
    );
    log
}

/// The restore script refuses a dump whose sha256 differs from its `.sha256`, before
/// touching anything: (the refusal's stderr).
fn refused_restore(restore: &Job, file: &Path, h: &Host<'_>) -> String {
    let dir = file.parent().unwrap();
    let base = file.file_name().unwrap().to_string_lossy().into_owned();
    let d = tmpdir();
    let mut bytes = std::fs::read(file).unwrap();
    let i = bytes.len() / 3;
    bytes[i] ^= 0x01;
    std::fs::write(d.path().join(&base), bytes).unwrap();
    std::fs::copy(
        dir.join(format!("{base}.sha256")),
        d.path().join(format!("{base}.sha256")),
    )
    .unwrap();
    let h = Host {
        dir: d.path(),
        ..*h
    };
    let (out, _) = run_container(restore, &h);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("kubectl-backup: restore refused: sha256: "),
        "{err}"
    );
    err
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
        "CREATE TABLE todos (id serial primary key, item text); INSERT INTO todos (item) SELECT 'task ' || g FROM generate_series(1, 500) g; \
         CREATE TABLE notes (k text primary key, v jsonb, at timestamptz); INSERT INTO notes SELECT 'n' || g, jsonb_build_object('g', g, 's', repeat('x', g % 7)), '2026-01-01'::timestamptz + g * interval '1 hour' FROM generate_series(1, 50) g",
    );
    // Row counts and an md5 of the ordered rows of every table.
    let state = |db: &str| {
        let tables = psql(
            db,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
        );
        tables
            .lines()
            .map(|t| {
                let q = format!(
                    "SELECT '{t}', count(*), md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '')) FROM {t} r"
                );
                psql(db, &q)
            })
            .collect::<String>()
    };
    let before = state("todo");
    assert!(
        before.contains("todos|500|") && before.contains("notes|50|"),
        "{before}"
    );

    // The workload as the official image runs it: password from a Secret, database by value.
    let snap = snapshot(
        "postgres:15",
        r#"[{name: POSTGRES_PASSWORD, valueFrom: {secretKeyRef: {name: db-secret, key: password}}}, {name: POSTGRES_DB, value: todo}]"#,
    );
    let job = dump_job(&snap, None);
    let tools: Vec<(&str, PathBuf)> = ["pg_dump", "pg_restore"]
        .into_iter()
        .map(|t| (t, bin.join(t)))
        .collect();
    let (rec_dir, rec) = argv_recorder(&tools);
    let path = [rec_dir.path(), bin.as_path()];
    let out_dir = tmpdir();
    let (log, file) = run_job(&job, &secrets(), port, out_dir.path(), &path);
    assert!(log.contains("pg_dump -Fc database todo"), "{log}");
    assert!(file.to_string_lossy().ends_with("db-20261123010203.dump"));

    // Change and destroy, then the restore script with the dump's env puts it all back.
    psql(
        "todo",
        "DROP TABLE notes; DELETE FROM todos WHERE id > 100; UPDATE todos SET item = 'changed'",
    );
    assert_ne!(state("todo"), before);
    let restore = restore_job(&snap, &job);
    let secrets = secrets();
    let host = Host::new(&secrets, port, out_dir.path(), &path);
    run_restore(&restore, &host);
    assert_eq!(state("todo"), before);

    // RESTORE_DATABASE: into another (existing) database.
    psql("postgres", "CREATE DATABASE restored");
    run_restore(
        &restore,
        &Host {
            extra: &[("RESTORE_DATABASE", "restored")],
            ..host
        },
    );
    assert_eq!(state("restored"), before);

    // A damaged copy is refused before the database is touched.
    psql("todo", "INSERT INTO todos (item) VALUES ('after')");
    let changed = state("todo");
    refused_restore(&restore, &file, &host);
    assert_eq!(state("todo"), changed);

    verify_cases(&snap, &job, &file, &path, "pg_restore");
    assert_argv(
        &rec,
        &[
            "pg_dump",
            "pg_restore --clean --if-exists",
            "pg_restore --list",
        ],
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

    sql_sock(
        "USE todo; CREATE TABLE todo.notes (k VARCHAR(20) PRIMARY KEY, v TEXT, at DATETIME); \
         INSERT INTO todo.notes SELECT CONCAT('n', seq), REPEAT('x', seq % 7), '2026-01-01' + INTERVAL seq HOUR FROM seq_1_to_50;",
    );
    // Row counts and the rows' checksum of every table of a database.
    let state = |db: &str| {
        let tables = sql_sock(&format!(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = '{db}' ORDER BY 1"
        ));
        tables
            .lines()
            .map(|t| {
                let n = sql_sock(&format!("SELECT count(*) FROM {db}.{t}"));
                let sum = sql_sock(&format!("CHECKSUM TABLE {db}.{t} EXTENDED"));
                let sum = sum.split('\t').nth(1).unwrap_or("").trim().to_string();
                format!("{t}|{}|{sum}\n", n.trim())
            })
            .collect::<String>()
    };
    let before = state("todo");
    assert!(
        before.contains("todos|500|") && before.contains("notes|50|"),
        "{before}"
    );

    let snap = snapshot(
        "mariadb:11",
        r#"[{name: MARIADB_ROOT_PASSWORD, valueFrom: {secretKeyRef: {name: db-secret, key: password}}}, {name: MARIADB_DATABASE, value: todo}]"#,
    );
    let job = dump_job(&snap, None);
    let tools: Vec<(&str, PathBuf)> = ["mysqldump", "mariadb-dump", "mysql", "mariadb"]
        .into_iter()
        .filter_map(|t| Some((t, which(t)?)))
        .collect();
    let (rec_dir, rec) = argv_recorder(&tools);
    let path = [rec_dir.path()];
    let out_dir = tmpdir();
    let (log, file) = run_job(&job, &secrets(), port, out_dir.path(), &path);
    assert!(
        log.contains("--databases todo --routines --events as root"),
        "{log}"
    );
    let dump = std::fs::read_to_string(&file).unwrap();
    assert!(dump.contains("CREATE DATABASE"), "not a --databases dump");

    // Change and destroy (the whole database), then the restore script with the dump's env.
    sql_sock("DROP DATABASE todo");
    let restore = restore_job(&snap, &job);
    let secrets = secrets();
    let host = Host::new(&secrets, port, out_dir.path(), &path);
    run_restore(&restore, &host);
    assert_eq!(state("todo"), before);
    sql_sock("DELETE FROM todo.todos WHERE id > 100; UPDATE todo.notes SET v = 'changed'");
    assert_ne!(state("todo"), before);
    run_restore(&restore, &host);
    assert_eq!(state("todo"), before);

    // RESTORE_DATABASE renames the dump's database on the way in; the original is untouched.
    sql_sock("UPDATE todo.notes SET v = 'changed again'");
    let changed = state("todo");
    run_restore(
        &restore,
        &Host {
            extra: &[("RESTORE_DATABASE", "todo_copy")],
            ..host
        },
    );
    assert_eq!(state("todo_copy"), before);
    assert_eq!(state("todo"), changed);

    // A damaged copy is refused before the database is touched.
    refused_restore(&restore, &file, &host);
    assert_eq!(state("todo"), changed);

    verify_cases(&snap, &job, &file, &path, "mysqldump trailer");
    assert_argv(&rec, &["--single-transaction", "--protocol=TCP"]);
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
    rcli(port, &["HSET", "hash", "f1", "v1", "f2", "v 2"]);
    rcli(port, &["SADD", "set", "x", "y", "z"]);
    // Every key, its type and its value.
    let state = |port: u16| {
        let mut keys: Vec<String> = rcli(port, &["--scan"])
            .lines()
            .map(str::to_string)
            .collect();
        keys.sort();
        keys.iter()
            .map(|k| {
                let t = rcli(port, &["TYPE", k]).trim().to_string();
                let v = match t.as_str() {
                    "string" => rcli(port, &["GET", k]),
                    "list" => rcli(port, &["LRANGE", k, "0", "-1"]),
                    "hash" => rcli(port, &["HGETALL", k]),
                    "set" => {
                        let mut m: Vec<String> = rcli(port, &["SMEMBERS", k])
                            .lines()
                            .map(str::to_string)
                            .collect();
                        m.sort();
                        m.join("\n")
                    }
                    other => panic!("no test of type {other}"),
                };
                format!("{k} {t} {v:?}\n")
            })
            .collect::<String>()
    };
    let before = state(port);
    assert_eq!(before.lines().count(), 303);

    let snap = snapshot(
        "redis:7.2",
        r#"[{name: REDIS_PASSWORD, valueFrom: {secretKeyRef: {name: db-secret, key: password}}}]"#,
    );
    let job = dump_job(&snap, None);
    let tools: Vec<(&str, PathBuf)> = ["redis-cli", "redis-check-rdb"]
        .into_iter()
        .filter_map(|t| Some((t, which(t)?)))
        .collect();
    let (rec_dir, rec) = argv_recorder(&tools);
    let path = [rec_dir.path()];
    let out_dir = tmpdir();
    let (_, file) = run_job(&job, &secrets(), port, out_dir.path(), &path);
    assert!(file.to_string_lossy().ends_with(".rdb"));
    rcli(port, &["FLUSHALL"]);
    assert_eq!(state(port), "");

    // The restore script puts the checked file at $RESTORE_DIR/dump.rdb; a server started
    // there loads it.
    let restore = restore_job(&snap, &job);
    let dir2 = tmpdir();
    let dest = dir2.path().display().to_string();
    let secrets = secrets();
    let host = Host {
        secrets: &secrets,
        port,
        dir: out_dir.path(),
        path: &path,
        extra: &[("RESTORE_DIR", &dest)],
    };
    run_restore(&restore, &host);
    assert!(!dir2.path().join("dump.rdb.partial").exists());
    let port2 = free_port();
    let _g2 = Guard(Some(start(dir2.path(), port2, "dump.rdb")), vec![]);
    wait_port(port2, 30);
    // Loading happens before the port accepts commands; DBSIZE answers once loaded.
    assert_eq!(rcli(port2, &["DBSIZE"]).trim(), "303");
    assert_eq!(state(port2), before);

    // A damaged copy is refused, and nothing is written to RESTORE_DIR.
    let dir3 = tmpdir();
    let dest3 = dir3.path().display().to_string();
    refused_restore(
        &restore,
        &file,
        &Host {
            extra: &[("RESTORE_DIR", &dest3)],
            ..host
        },
    );
    assert_eq!(std::fs::read_dir(dir3.path()).unwrap().count(), 0);

    verify_cases(&snap, &job, &file, &path, "redis-check-rdb");
    assert_argv(&rec, &["redis-cli", "redis-check-rdb"]);
}

/// The official mongo image's workload: root user by value, its password from a Secret.
fn mongo_snapshot() -> Snapshot {
    snapshot(
        "mongo:7.0",
        r#"[{name: MONGO_INITDB_ROOT_USERNAME, value: admin}, {name: MONGO_INITDB_ROOT_PASSWORD, valueFrom: {secretKeyRef: {name: db-secret, key: password}}}]"#,
    )
}

/// Write an executable shell script.
fn write_exec(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// MongoDB: no server here. The mongodump invocation is checked against the flags documented
/// for MongoDB Database Tools 100.x (https://www.mongodb.com/docs/database-tools/mongodump/):
/// --host, --port, --username, --authenticationDatabase, --archive=<file>, --gzip,
/// --readPreference, --config=<file> (a YAML file holding `password:`, so the password is not
/// on the command line). A shim records what the script passes.
#[test]
fn mongodump_command_line_uses_documented_flags() {
    let snap = mongo_snapshot();
    let job = dump_job(&snap, None);
    let shim_dir = tmpdir();
    let record = shim_dir.path().join("argv");
    let shim = shim_dir.path().join("mongodump");
    write_exec(
        &shim,
        &format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > {rec}\nfor a in \"$@\"; do case \"$a\" in --config=*) cp \"${{a#--config=}}\" {rec}.config; stat -c %a \"${{a#--config=}}\" > {rec}.mode;; --archive=*) printf fake > \"${{a#--archive=}}\";; esac; done\n",
            rec = record.display()
        ),
    );
    // The script writes its config to /tmp (an emptyDir in the Job); run it in a private one
    // by pointing the script's /tmp at ours.
    let pod = job.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
    let script = pod.containers[0].command.as_ref().unwrap()[2].clone();
    let cfg_dir = tmpdir();
    let patched = script.replace(
        "/tmp/mongodump.yaml",
        &cfg_dir.path().join("mongodump.yaml").display().to_string(),
    );
    let job2 = with_script(&job, &patched);
    let out_dir = tmpdir();
    let (_, file) = run_job(&job2, &secrets(), 27017, out_dir.path(), &[shim_dir.path()]);
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

/// MongoDB's restore and verify scripts, against a recording `mongorestore` shim (no server
/// here): only flags documented for MongoDB Database Tools 100.x
/// (https://www.mongodb.com/docs/database-tools/mongorestore/), the password only in the
/// private config file, the checksum checked first, the archive's gzip stream read, and the
/// tool's failure given as the verify reason.
#[test]
fn mongorestore_command_lines_use_documented_flags() {
    let snap = mongo_snapshot();
    let job = dump_job(&snap, None);
    let shim_dir = tmpdir();
    let rec = shim_dir.path().join("argv");
    let fail = shim_dir.path().join("fail");
    write_exec(
        &shim_dir.path().join("mongorestore"),
        &format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; case \"$a\" in --config=*) cat \"${{a#--config=}}\" >> {rec}.config;; esac; done >> {rec}\necho -- >> {rec}\nif [ -f {fail} ]; then echo 'Failed: corruption found in archive' >&2; exit 1; fi\n",
            rec = rec.display(),
            fail = fail.display()
        ),
    );
    // The scripts write their config to /tmp (an emptyDir in the Job): ours, privately.
    let cfg_dir = tmpdir();
    let private = |script: &str| {
        script.replace(
            "/tmp/mongodump.yaml",
            &cfg_dir.path().join("mongodump.yaml").display().to_string(),
        )
    };
    // The dump, as mongodump --archive --gzip leaves it: a gzip stream, and its checksum.
    let out_dir = tmpdir();
    let base = "db-20261123010203.archive.gz";
    let file = out_dir.path().join(base);
    sh(Command::new("sh")
        .arg("-c")
        .arg(format!("printf 'archive' | gzip > '{}'", file.display())));
    let hex = sha256_hex(&file);
    std::fs::write(
        out_dir.path().join(format!("{base}.sha256")),
        format!("{hex}  {base}\n"),
    )
    .unwrap();

    let restore = with_script(&job, &private(Engine::MongoDb.restore_script()));
    let secrets = secrets();
    let path = [shim_dir.path()];
    let host = Host::new(&secrets, 27017, out_dir.path(), &path);
    let log = run_restore(
        &restore,
        &Host {
            extra: &[("RESTORE_DATABASE", "todo")],
            ..host
        },
    );
    assert!(log.contains("(database todo)"), "{log}");
    // Verified: the gzip stream, then mongorestore --dryRun --objcheck with the dump's server.
    let verify = verify_job(&snap, &job, Some(&hex));
    let verify = with_script(&verify, &private(Engine::MongoDb.verify_script()));
    let (code, out, err) = run_verify(&verify, out_dir.path(), &path);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("gzip stream intact, mongorestore --dryRun --objcheck read it"),
        "{out}"
    );
    let argv = std::fs::read_to_string(&rec).unwrap();
    let documented = [
        "--host=",
        "--port=",
        "--archive=",
        "--gzip",
        "--drop",
        "--nsInclude=",
        "--username=",
        "--authenticationDatabase=",
        "--config=",
        "--dryRun",
        "--objcheck",
    ];
    for a in argv.lines().filter(|l| *l != "--") {
        assert!(
            documented.iter().any(|d| a.starts_with(d)),
            "undocumented flag {a}"
        );
    }
    let runs: Vec<&str> = argv.split("--\n").filter(|r| !r.is_empty()).collect();
    assert_eq!(runs.len(), 2, "{argv}");
    let wants: [(&str, &[&str]); 2] = [
        (
            "restore",
            &[
                "--drop",
                "--gzip",
                "--nsInclude=todo.*",
                "--username=admin",
                "--host=127.0.0.1",
                "--port=27017",
            ],
        ),
        (
            "verify",
            &[
                "--dryRun",
                "--objcheck",
                "--gzip",
                "--username=admin",
                "--host=127.0.0.1",
            ],
        ),
    ];
    for (run, (what, want)) in runs.iter().zip(wants) {
        for w in want {
            assert!(run.lines().any(|l| l == *w), "{what}: {w} missing: {run}");
        }
    }
    assert!(!argv.contains(PASSWORD), "password on mongorestore's argv");
    let cfg = std::fs::read_to_string(format!("{}.config", rec.display())).unwrap();
    assert_eq!(cfg, "password: 's3cret''pw\"x'\n".repeat(2));

    // mongorestore's failure is the reason; a file that is no gzip stream fails before it.
    std::fs::write(&fail, "").unwrap();
    let (code, _, err) = run_verify(&verify, out_dir.path(), &path);
    assert_eq!(code, 1);
    assert_eq!(
        backup::verify::failure_reason(&err),
        Some("mongorestore --dryRun --objcheck: Failed: corruption found in archive"),
        "{err}"
    );
    let bad = tmpdir();
    std::fs::write(bad.path().join(base), b"not gzip").unwrap();
    let verify = verify_job(&snap, &job, None);
    let verify = with_script(&verify, &private(Engine::MongoDb.verify_script()));
    let (code, _, err) = run_verify(&verify, bad.path(), &path);
    assert_eq!(code, 1);
    assert!(
        backup::verify::failure_reason(&err).is_some_and(|r| r.starts_with("gzip: ")),
        "{err}"
    );
}
