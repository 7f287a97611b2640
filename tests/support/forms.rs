//! The differential test's helper: one dump re-emitted in every form the dump reader must
//! read alike — block YAML, flow YAML, LF/CRLF/CR, BOM, comments everywhere, `kind: List` vs
//! multi-document, JSON compact/indented/concatenated. Each plugin's `tests/forms.rs`
//! includes this file and checks that its `-o json` is byte-identical for every form.
//!
//! Hand-written emitters (no Python in CI): strings are always double-quoted with JSON's
//! escapes (valid YAML), so no emitted scalar can be re-resolved as something else.

#![allow(dead_code)]

use serde_json::Value;

/// The objects of a dump (YAML or JSON, one or more documents, Lists flattened).
pub fn objects(text: &str) -> Vec<Value> {
    let opts = serde_saphyr::options! {
        budget: serde_saphyr::budget! { max_depth: 128, enforce_alias_anchor_ratio: false },
    };
    let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(text, opts).expect("fixture");
    let mut out = Vec::new();
    for d in docs {
        let kind = d.get("kind").and_then(Value::as_str).unwrap_or("");
        match d.get("items").and_then(Value::as_array) {
            Some(items) if kind.is_empty() || kind.ends_with("List") => {
                let api = d.get("apiVersion").cloned();
                let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
                for it in items {
                    let mut it = it.clone();
                    if let Some(m) = it.as_object_mut() {
                        if let (false, Some(api)) = (m.contains_key("apiVersion"), &api) {
                            m.insert("apiVersion".into(), api.clone());
                        }
                        if let (false, Some(k)) = (m.contains_key("kind"), item_kind) {
                            m.insert("kind".into(), Value::from(k));
                        }
                    }
                    out.push(it);
                }
            }
            _ if d.is_null() => {}
            _ => out.push(d),
        }
    }
    out
}

fn list(objs: &[Value]) -> Value {
    serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objs, "metadata": {"resourceVersion": ""}})
}

/// Every form, named: `(name, text)`.
pub fn forms(objs: &[Value]) -> Vec<(String, String)> {
    let l = list(objs);
    let block_list = block(&l, false);
    let docs: String = objs
        .iter()
        .map(|o| format!("---\n{}", block(o, false)))
        .collect();
    let mut out = vec![
        ("block-list".to_string(), block_list.clone()),
        ("block-documents".into(), docs.clone()),
        ("block-crlf".into(), block_list.replace('\n', "\r\n")),
        ("block-cr".into(), block_list.replace('\n', "\r")),
        ("block-bom".into(), format!("\u{feff}{block_list}")),
        ("block-comments".into(), block(&l, true)),
        ("documents-comments".into(), {
            let d: String = objs
                .iter()
                .map(|o| format!("--- # doc\n# head\n{}# tail\n", block(o, true)))
                .collect();
            format!("# a dump\n{d}...\n")
        }),
        ("flow-list".into(), format!("{}\n", flow(&l))),
        ("flow-documents".into(), {
            objs.iter().map(|o| format!("--- {}\n", flow(o))).collect()
        }),
        (
            "json-compact".into(),
            serde_json::to_string(&l).expect("json"),
        ),
        (
            "json-indented".into(),
            serde_json::to_string_pretty(&l).expect("json"),
        ),
        ("json-concatenated".into(), {
            objs.iter()
                .map(|o| serde_json::to_string_pretty(o).expect("json") + "\n")
                .collect()
        }),
        (
            "json-array".into(),
            serde_json::to_string(objs).expect("json"),
        ),
    ];
    out.push(("json-crlf-bom".into(), {
        format!(
            "\u{feff}{}",
            serde_json::to_string_pretty(&l)
                .expect("json")
                .replace('\n', "\r\n")
        )
    }));
    out
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => quote(s),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(m) if m.is_empty() => "{}".into(),
        other => other.to_string(),
    }
}

fn is_leaf(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => true,
    }
}

/// Block YAML, go-yaml's layout (`key:` then `- item` at the same indentation); with
/// `comments`, a comment line before every entry and after every scalar.
pub fn block(v: &Value, comments: bool) -> String {
    let mut out = String::new();
    block_into(&mut out, v, 0, comments);
    out
}

fn block_into(out: &mut String, v: &Value, ind: usize, comments: bool) {
    let pad = " ".repeat(ind);
    let tail = if comments { " # c" } else { "" };
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                if comments {
                    out.push_str(&format!("{pad}# {k}\n"));
                }
                if is_leaf(x) {
                    out.push_str(&format!("{pad}{}: {}{tail}\n", quote(k), scalar(x)));
                } else {
                    out.push_str(&format!("{pad}{}:{tail}\n", quote(k)));
                    let inner = if x.is_array() { ind } else { ind + 2 };
                    block_into(out, x, inner, comments);
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for x in a {
                if comments {
                    out.push_str(&format!("{pad}# item\n"));
                }
                if is_leaf(x) {
                    out.push_str(&format!("{pad}- {}{tail}\n", scalar(x)));
                } else {
                    // `-` alone on its line, the entry's content indented below it.
                    out.push_str(&format!("{pad}-{tail}\n"));
                    block_into(out, x, ind + 2, comments);
                }
            }
        }
        leaf => out.push_str(&format!("{pad}{}{tail}\n", scalar(leaf))),
    }
}

/// Flow YAML: keys and safe strings unquoted (so it is not JSON), over several lines.
pub fn flow(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let inner: Vec<String> = m
                .iter()
                .map(|(k, x)| format!("{}: {}", flow_str(k), flow(x)))
                .collect();
            format!("{{{}}}", inner.join(",\n "))
        }
        Value::Array(a) => {
            let inner: Vec<String> = a.iter().map(flow).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::String(s) => flow_str(s),
        other => other.to_string(),
    }
}

/// A string plain when it is letters, digits and `-_/.` starting with a letter and not a
/// YAML keyword; double-quoted otherwise.
fn flow_str(s: &str) -> String {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.'))
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        );
    if plain { s.to_string() } else { quote(s) }
}

/// The fixtures every plugin's differential test re-emits: every `*.yaml`/`*.json` under
/// `examples/` and the plugins' `tests/fixtures/` that holds Kubernetes objects.
pub fn fixtures() -> Vec<(std::path::PathBuf, Vec<Value>)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root")
        .to_path_buf();
    let mut files = Vec::new();
    walk(&root.join("examples"), &mut files);
    for p in ["pvc-trace", "backup", "sts-bootstrap"] {
        walk(
            &root.join("plugins").join(p).join("tests/fixtures"),
            &mut files,
        );
    }
    files.sort();
    files
        .into_iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(&f).ok()?;
            let objs = std::panic::catch_unwind(|| objects(&text)).ok()?;
            let all_objects = !objs.is_empty()
                && objs
                    .iter()
                    .all(|o| o.get("kind").and_then(Value::as_str).is_some());
            all_objects.then_some((f, objs))
        })
        .collect()
}

fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p
            .extension()
            .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
        {
            out.push(p);
        }
    }
}

/// Run `bin` with `args` (where `"DUMP"` is the dump) over the fixture and over every form of
/// it, in a scratch directory under one file name; exit code and stdout must be identical.
/// Returns how many runs were compared.
/// A run's JSON output without what depends on the clock of the run (a running backup's
/// `durationSeconds`, counted up to now): two runs a second apart print the same.
fn steady(out: &str) -> String {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if k == "durationSeconds" && x.is_number() {
                        *x = Value::from(0);
                    } else {
                        walk(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    match serde_json::from_str::<Value>(out) {
        Ok(mut v) => {
            walk(&mut v);
            format!("{v:#}")
        }
        Err(_) => out.to_string(),
    }
}

pub fn check(bin: &str, fixture: &std::path::Path, objs: &[Value], args: &[&str]) -> usize {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |text: &[u8]| {
        std::fs::write(dir.path().join("dump"), text).expect("write");
        let out = std::process::Command::new(bin)
            .args(args.iter().map(|a| if *a == "DUMP" { "dump" } else { a }))
            .current_dir(dir.path())
            .env_remove("KUBECONFIG")
            .output()
            .expect("run");
        (
            out.status.code(),
            steady(&String::from_utf8_lossy(&out.stdout)),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let want = run(&std::fs::read(fixture).expect("fixture"));
    assert!(
        want.0 != Some(0) || want.1.starts_with('{'),
        "{}: {want:?}",
        fixture.display()
    );
    let mut n = 1;
    for (name, text) in forms(objs) {
        let got = run(text.as_bytes());
        assert_eq!(
            (got.0, &got.1),
            (want.0, &want.1),
            "{} as {name} with {args:?}: stderr {}\n---\n{text}",
            fixture.display(),
            got.2
        );
        n += 1;
    }
    n
}
