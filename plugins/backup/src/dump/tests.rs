//! Tests of the dump Job builder and the engines' parts.

use super::*;

#[test]
fn deadlines_are_clamped_not_wrapped() {
    assert_eq!(deadline_seconds(Duration::ZERO), 1);
    assert_eq!(deadline_seconds(Duration::from_secs(900)), 900);
    assert_eq!(deadline_seconds(Duration::MAX), i64::MAX);
    assert_eq!(deadline_seconds(Duration::from_secs(1 << 63)), i64::MAX);
}

fn snap(yaml: &str) -> Snapshot {
    let mut s = Snapshot::default();
    stateful_core::snapshot::parse_dump_into(&mut s, std::path::Path::new("t.yaml"), yaml).unwrap();
    s
}

fn opts(dest: Destination) -> DumpOptions {
    DumpOptions {
        engine: None,
        image: None,
        container: None,
        source: SourcePref::Replica,
        destination: dest,
        timeout: Duration::from_secs(900),
        name: "b-1".into(),
        now: "2026-11-23T01:02:03Z".parse().unwrap(),
    }
}

fn container(image: &str, command: &[&str]) -> Container {
    Container {
        name: "c".into(),
        image: Some(image.into()),
        command: Some(command.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    }
}

#[test]
fn engines_are_detected_from_image_or_command() {
    let d = |i: &str, c: &[&str]| Engine::detect(&container(i, c));
    assert_eq!(d("postgres:16", &[]), Some(Engine::Postgres));
    assert_eq!(
        d("docker.io/bitnami/postgresql:16@sha256:abc", &[]),
        Some(Engine::Postgres)
    );
    assert_eq!(d("mongo:7.0", &[]), Some(Engine::MongoDb));
    assert_eq!(d("mariadb:11", &[]), Some(Engine::MySql));
    assert_eq!(d("mysql:8.4", &[]), Some(Engine::MySql));
    assert_eq!(d("redis:7.2-alpine", &[]), Some(Engine::Redis));
    assert_eq!(
        d("registry.local/my-db:1", &["/usr/sbin/mysqld"]),
        Some(Engine::MySql)
    );
    assert_eq!(
        d("registry.local/app:1", &["mongod", "--replSet", "rs0"]),
        Some(Engine::MongoDb)
    );
    assert_eq!(d("nginx:1", &[]), None);
    // A registry host named like an engine does not count.
    assert_eq!(d("redis.example.com/nginx:1", &[]), None);
}

#[test]
fn every_engine_has_its_dump_part() {
    for e in Engine::ALL {
        assert!(!e.ext().is_empty(), "{e:?}");
        assert!(!e.env_names().is_empty(), "{e:?}");
        // Atomic: written to a .partial file, renamed at the end.
        assert!(e.script().contains(r#"mv "$f.partial" "$f""#), "{e:?}");
    }
    assert_eq!(
        Engine::MongoDb.replica_env(),
        &[("BACKUP_READ_PREFERENCE", "secondaryPreferred")]
    );
    assert!(Engine::Postgres.replica_env().is_empty());
}

const DEPLOY: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: cache, namespace: ns}
spec:
  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: cache}}
    spec:
      containers:
      - name: sidecar
        image: busybox
      - name: redis
        image: redis:7
        ports: [{containerPort: 6380}]
        env:
        - {name: REDIS_PASSWORD, value: literal-pw}
        - {name: REDISCLI_AUTH, valueFrom: {secretKeyRef: {name: r, key: pw}}}
---
apiVersion: v1
kind: Service
metadata: {name: cache, namespace: ns}
spec: {selector: {app: cache}}
---
apiVersion: v1
kind: Pod
metadata: {name: cache-1, namespace: ns, labels: {app: cache}}
spec: {nodeName: n1, containers: [{name: redis, image: redis:7}]}
status: {phase: Running, podIP: 10.1.1.1}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: solo, namespace: ns}
spec: {accessModes: [ReadWriteOncePod]}
---
apiVersion: v1
kind: Pod
metadata: {name: user, namespace: ns}
spec:
  nodeName: n2
  containers: [{name: c, image: x}]
  volumes: [{name: v, persistentVolumeClaim: {claimName: solo}}]
status: {phase: Running}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: shared, namespace: ns}
spec: {accessModes: [ReadWriteMany]}
"#;

#[test]
fn deployment_reads_through_its_service_with_secret_refs_only() {
    let s = snap(DEPLOY);
    let t = Target::parse("deploy/cache").unwrap();
    let p = build_dump(&s, "ns", &t, &opts(Destination::Pvc("shared".into()))).unwrap();
    assert_eq!(p.engine, Engine::Redis);
    assert_eq!(p.source, "cache.ns.svc.cluster.local:6380");
    let c = &p
        .job
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers[0];
    assert_eq!(c.image.as_deref(), Some("redis:7"));
    let env = c.env.as_ref().unwrap();
    assert!(env.iter().all(|e| e.value.as_deref() != Some("literal-pw")));
    assert!(
        env.iter()
            .any(|e| e.name == "REDISCLI_AUTH" && e.value_from.is_some())
    );
    assert!(
        p.warnings.iter().any(|w| w.contains("REDIS_PASSWORD")),
        "{:?}",
        p.warnings
    );
    // RWX claims are not pinned.
    let ps = p.job.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
    assert!(ps.affinity.is_none());
    assert_eq!(
        p.job.spec.as_ref().unwrap().active_deadline_seconds,
        Some(900)
    );
}

#[test]
fn read_write_once_pod_claims_in_use_are_refused() {
    let s = snap(DEPLOY);
    let t = Target::parse("deploy/cache").unwrap();
    let e = build_dump(&s, "ns", &t, &opts(Destination::Pvc("solo".into()))).unwrap_err();
    assert_eq!(e.exit_code().code(), 5);
    assert!(e.to_string().contains("ReadWriteOncePod"), "{e}");
}

#[test]
fn engine_and_image_overrides_and_pod_targets() {
    let s = snap(DEPLOY);
    let mut o = opts(Destination::NewPvc {
        size: "2Gi".into(),
        storage_class: None,
    });
    o.image = Some("redis:7.4".into());
    let p = build_dump(&s, "ns", &Target::parse("pod/cache-1").unwrap(), &o).unwrap();
    assert_eq!(p.source, "10.1.1.1:6379");
    assert_eq!(
        p.pvc.as_ref().unwrap().metadata.name.as_deref(),
        Some("b-1")
    );
    let c = &p
        .job
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers[0];
    assert_eq!(c.image.as_deref(), Some("redis:7.4"));
    // --engine picks the container of that engine; unknown images need --engine.
    o.engine = Some(Engine::Postgres);
    let e = build_dump(&s, "ns", &Target::parse("pod/cache-1").unwrap(), &o).unwrap();
    assert_eq!(e.engine, Engine::Postgres);
    let e = build_dump(
        &s,
        "ns",
        &Target::parse("pod/user").unwrap(),
        &opts(Destination::Pvc("shared".into())),
    );
    assert_eq!(e.unwrap_err().exit_code().code(), 2);
    assert!(validate_quantity("500Mi").is_ok());
    assert!(validate_quantity("1.5Gi").is_ok());
    assert!(validate_quantity("5GB").is_err());
    assert!(validate_quantity("0").is_err());
}

#[test]
fn labelled_replicas_win_and_primary_is_forced() {
    let yaml = r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: pg, namespace: ns}
spec:
  serviceName: pg
  replicas: 3
  selector: {matchLabels: {app: pg}}
  template:
    metadata: {labels: {app: pg}}
    spec: {containers: [{name: pg, image: "postgres:16"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: pg-0, namespace: ns, labels: {role: replica}, ownerReferences: [{kind: StatefulSet, name: pg, apiVersion: apps/v1, uid: u}]}
spec: {hostname: pg-0, subdomain: pg, containers: [{name: pg, image: "postgres:16"}]}
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: pg-1, namespace: ns, labels: {role: primary}, ownerReferences: [{kind: StatefulSet, name: pg, apiVersion: apps/v1, uid: u}]}
spec: {hostname: pg-1, subdomain: pg, containers: [{name: pg, image: "postgres:16"}]}
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: b, namespace: ns}
spec: {accessModes: [ReadWriteOnce]}
"#;
    let s = snap(yaml);
    let t = Target::parse("sts/pg").unwrap();
    let p = build_dump(&s, "ns", &t, &opts(Destination::Pvc("b".into()))).unwrap();
    assert_eq!(p.source, "pg-0.pg.ns.svc.cluster.local:5432");
    let mut o = opts(Destination::Pvc("b".into()));
    o.source = SourcePref::Primary;
    let p = build_dump(&s, "ns", &t, &o).unwrap();
    assert_eq!(p.source, "pg-1.pg.ns.svc.cluster.local:5432");
    assert!(p.destination.ends_with("/backup/pg-20261123010203.dump"));
}

#[test]
fn sha256_line_is_read_from_a_log() {
    let h = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881";
    let log = format!(
        "kubectl-backup: pg_dump -Fc database todo\nkubectl-backup: wrote /backup/x (9 bytes)\nkubectl-backup: sha256 {}\n",
        h.to_ascii_uppercase()
    );
    assert_eq!(sha256_from_log(&log).as_deref(), Some(h));
    // The last good line wins; short, long or non-hex values are not checksums.
    let log = format!("kubectl-backup: sha256 {h}\r\nkubectl-backup: sha256 abc\n");
    assert_eq!(sha256_from_log(&log).as_deref(), Some(h));
    for bad in [
        "",
        "kubectl-backup: wrote /backup/x (9 bytes)",
        "kubectl-backup: warning: no sha256sum in the image; no x.sha256 written",
        &format!("kubectl-backup: sha256 {h}0"),
        &format!("kubectl-backup: sha256 {}", h.replace('d', "g")),
        &format!("sha256 {h}"),
    ] {
        assert_eq!(sha256_from_log(bad), None, "{bad}");
    }
}

#[test]
fn every_engine_has_restore_and_verify_scripts_on_the_shared_pieces() {
    for e in Engine::ALL {
        let (dump, restore, verify) = (e.script(), e.restore_script(), e.verify_script());
        assert!(dump.contains("echo \"kubectl-backup: sha256 "), "{e}");
        assert!(
            dump.contains("mv \"$f.sha256.partial\" \"$f.sha256\""),
            "{e}"
        );
        // The checksum is checked before anything else runs.
        let check = restore.find("got=$(sha256sum").unwrap();
        for tool in [
            "pg_restore --clean",
            "\"$client\"",
            "mongorestore \"$@\"",
            "cp \"$f\"",
        ] {
            if let Some(i) = restore.find(tool) {
                assert!(check < i, "{e}: {tool} before the checksum");
            }
        }
        assert!(restore.contains("kubectl-backup: restored"), "{e}");
        assert!(verify.contains("kubectl-backup: verify failed: "), "{e}");
        assert!(verify.contains("kubectl-backup: verified "), "{e}");
        assert!(verify.contains("BACKUP_SHA256"), "{e}");
        for s in [dump, restore, verify] {
            assert!(s.starts_with("set -eu\n"), "{e}");
            assert!(!s.contains("--password"), "{e}: a password flag");
        }
    }
    assert!(Engine::MongoDb.verify_reads_server());
    assert!(!Engine::Postgres.verify_reads_server());
}

#[test]
fn the_scripts_own_variables_print_but_secret_looking_ones_do_not() {
    for name in [
        "BACKUP_FILE",
        "BACKUP_SHA256",
        "RESTORE_DATABASE",
        "RESTORE_DIR",
        "PGUSER",
        "MYSQL_DATABASE",
    ] {
        assert!(is_known_harmless(name), "{name}");
    }
    for name in [
        "RESTORE_PASSWORD",
        "BACKUP_TOKEN",
        "PGPASSWORD",
        "DB_PASS",
        "RESTORED",
    ] {
        assert!(!is_known_harmless(name), "{name}");
    }
}
