#![allow(clippy::unwrap_used)]
//! kubectl's output habits on the binary: `-o name`, `-o jsonpath=…`, `-o jsonpath-file=…`,
//! `-o custom-columns=…`, `--sort-by`, `--no-headers`, NAMESPACE under `-n`/`-A`, `--color`,
//! the width rule off a terminal, and help that fits 80 columns. No cluster. The JSONPath
//! expectations are what kubectl 1.36's own `-o jsonpath` prints on the same JSON (see the
//! e2e test `printers.rs`, which compares with the kubectl binary).

use assert_cmd::Command;

const DEMO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/demo-cluster.yaml"
);

fn bin() -> Command {
    let mut c = Command::cargo_bin("kubectl-pvc_trace").unwrap();
    c.env_remove("KUBECONFIG")
        .env_remove("NO_COLOR")
        .env("HOME", "/nonexistent");
    c
}

/// Run with `args` after `--from-file DEMO`; (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = bin()
        .args(["--from-file", DEMO])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn name_prints_kind_slash_name_per_root() {
    let (code, out, _) = run(&["-o", "name"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.contains(&"pod/mongo-0"), "{out}");
    assert!(
        lines.iter().all(|l| l
            .split_once('/')
            .is_some_and(|(k, n)| !k.is_empty() && !n.is_empty())),
        "{out}"
    );
    let (_, out, _) = run(&["-o", "name", "-n", "shop", "sts/mongo"]);
    assert_eq!(out, "statefulset.apps/mongo\n");
    let (_, out, _) = run(&["-o", "name", "-n", "shop", "pvc", "mongo-data-mongo-0"]);
    assert_eq!(out, "persistentvolumeclaim/mongo-data-mongo-0\n");
}

#[test]
fn jsonpath_prints_what_kubectl_prints() {
    let cases = [
        ("{.kind}", "PvcTrace"),
        (
            "{.summary}",
            r#"{"claims":12,"errors":6,"infos":5,"pods":10,"volumes":12,"warnings":1}"#,
        ),
        (
            r#"{.roots[?(@.type=="pod")].name}"#,
            "etl-runner log-shipper-7xk2m mongo-0 mongo-1 mongo-2 postgres-0 postgres-1 \
             postgres-2 uploads-6d8f9c7b5-p4m7q uploads-6d8f9c7b5-x2k9d",
        ),
        (
            r#"{range .diagnostics[?(@.severity=="error")]}{.code}{"\n"}{end}"#,
            "AttachFailed\nNodeAffinityConflict\nProvisioningFailed\nMultiNodeReadWriteOnce\n",
        ),
        (
            "{.roots[0].volumes[0].mounts}",
            r#"[{"container":"etl","path":"/work","readOnly":false}]"#,
        ),
        ("{.roots[0:6:2].name}", "etl-runner mongo-0 mongo-2"),
        ("{.nothing.here}", ""),
    ];
    for (template, want) in cases {
        let (code, out, err) = run(&["-o", &format!("jsonpath={template}")]);
        assert_eq!(code, 0, "{template}: {err}");
        if template.starts_with("{range") {
            assert!(out.starts_with(want), "{template}: {out}");
        } else {
            assert_eq!(out, want, "{template}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("t.txt");
    std::fs::write(&f, "{range .roots[*]}{.type}/{.name}{\"\\n\"}{end}\n").unwrap();
    let (code, out, _) = run(&["-o", &format!("jsonpath-file={}", f.display())]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("pod/etl-runner\npod/log-shipper-7xk2m\n"),
        "{out}"
    );
}

#[test]
fn custom_columns_sort_by_and_no_headers() {
    let (code, out, _) = run(&[
        "-n",
        "shop",
        "-o",
        "custom-columns=POD:.pod,CLAIM:.claim,SIZE:.size",
        "--sort-by",
        "{.claim}",
    ]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["POD", "CLAIM", "SIZE"]
    );
    let claims: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    let mut sorted = claims.clone();
    sorted.sort();
    assert_eq!(claims, sorted);
    assert!(claims.contains(&"mongo-data-mongo-0"), "{out}");
    let (_, bare, _) = run(&[
        "-n",
        "shop",
        "-o",
        "custom-columns=POD:.pod,CLAIM:.claim,SIZE:.size",
        "--sort-by",
        "{.claim}",
        "--no-headers",
    ]);
    assert_eq!(bare.lines().collect::<Vec<_>>(), lines[1..]);
    // The table sorts too, by any column of the wide row.
    let (_, table, _) = run(&["-n", "shop", "--sort-by", ".pv", "--no-headers"]);
    let pvs: Vec<&str> = table
        .lines()
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().nth(5).unwrap_or(""))
        .collect();
    assert!(pvs.len() > 5, "{table}");
}

#[test]
fn namespace_column_only_across_namespaces() {
    let (_, scoped, _) = run(&["-n", "shop"]);
    assert!(scoped.starts_with("POD "), "{scoped}");
    let (_, all, _) = run(&["-A"]);
    assert!(all.starts_with("NAMESPACE "), "{all}");
}

#[test]
fn bad_printer_values_are_usage_errors() {
    for args in [
        &["-o", "bogus"][..],
        &["-o", "jsonpath"],
        &["-o", "jsonpath={.a"],
        &["-o", "jsonpath={range .roots[*]}{.name}"],
        &["-o", "custom-columns=NAME"],
        &["-o", "jsonpath-file=/nonexistent/t"],
        &["--sort-by", "{.a[?(}"],
        &["--color", "sometimes"],
    ] {
        let (code, out, err) = run(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}");
        assert!(err.contains("error:"), "{args:?}: {err}");
    }
}

#[test]
fn colour_only_when_asked_off_a_terminal() {
    let (_, plain, _) = run(&["-A"]);
    assert!(!plain.contains('\x1b'), "a pipe gets no colour");
    let (_, forced, _) = run(&["-A", "--color", "always"]);
    assert!(forced.contains("\x1b["), "--color always colours");
    // Without its escapes, the coloured table is the plain one.
    let stripped = strip_ansi(&forced);
    assert_eq!(stripped, plain);
    let (_, never, _) = run(&["-A", "--color", "never"]);
    assert_eq!(never, plain);
    // Errors: the `error:` prefix in red only when asked.
    let (_, _, err) = run(&["pod/nope", "-n", "shop", "--color", "always"]);
    assert!(err.contains("\x1b[1;31merror:\x1b[0m"), "{err:?}");
    let (_, _, err) = run(&["pod/nope", "-n", "shop"]);
    assert!(err.contains("error:") && !err.contains('\x1b'), "{err:?}");
}

#[test]
fn off_a_terminal_the_width_is_never_applied() {
    let (_, plain, _) = run(&["-A"]);
    let out = bin()
        .args(["--from-file", DEMO, "-A"])
        .env("COLUMNS", "40")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), plain);
    assert!(plain.lines().any(|l| l.chars().count() > 200));
    assert!(!plain.contains('…'));
}

#[test]
fn help_fits_80_columns() {
    for h in ["-h", "--help"] {
        let out = bin().arg(h).env("COLUMNS", "80").output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        for l in text.lines() {
            assert!(l.chars().count() <= 80, "{h}: {l}");
        }
        // The examples are written to fit, not wrapped by clap.
        let out = bin().arg(h).env("COLUMNS", "200").output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let examples = text.split("Examples:").nth(1).unwrap();
        for l in examples.lines() {
            assert!(l.chars().count() <= 80, "{h}: {l}");
        }
    }
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
