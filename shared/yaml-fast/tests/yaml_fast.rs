//! Differential tests of `stateful_yaml::yaml_fast` against serde-saphyr, the reference.
//!
//! The rule under test: whenever the fast path produces a value, serde-saphyr produces an
//! equal one (and the fast path never panics). Declining is always allowed.

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use serde::Deserialize;
use serde_json::Value;
use stateful_yaml::yaml_fast;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The options the core's dump reader uses: serde-saphyr's defaults with a raised budget.
fn opts() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: 1_000_000,
            max_nodes: 500_000_000,
            max_total_scalar_bytes: 8 * 1024 * 1024 * 1024,
            max_events: 2_000_000_000,
        },
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root")
        .to_path_buf()
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
}

/// The corpus: the demo cluster, every fixture of the plugins.
fn corpus() -> Vec<(String, String)> {
    let r = root();
    let mut files = vec![r.join("examples/demo-cluster.yaml")];
    for plugin in ["pvc-trace", "backup", "sts-bootstrap"] {
        yaml_files(&r.join("plugins").join(plugin).join("tests"), &mut files);
    }
    yaml_files(&r.join("tests/controlplane"), &mut files);
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read corpus file");
            (p.display().to_string(), text)
        })
        .collect()
}

/// Compare both parsers on `text` into `Value`; returns whether the fast path accepted.
fn check(text: &str) -> bool {
    let fast = yaml_fast::from_multiple::<Value>(text);
    match fast {
        Ok(v) => {
            let reference = serde_saphyr::from_multiple_with_options::<Value>(text, opts());
            match reference {
                Ok(r) => assert_eq!(v, r, "fast path differs from serde-saphyr on:\n{text}"),
                Err(e) => panic!("fast path accepted what serde-saphyr rejects ({e}):\n{text}"),
            }
            // The single-document entry point agrees too.
            if v.len() == 1 && !text.contains("---") && !text.contains("...") {
                let one = yaml_fast::from_str::<Value>(text).expect("from_str");
                let r1: Value = serde_saphyr::from_str(text).expect("saphyr from_str");
                assert_eq!(one, r1, "from_str differs on:\n{text}");
            }
            true
        }
        Err(_) => false,
    }
}

fn accepts(text: &str) {
    assert!(
        check(text),
        "the fast path should accept:\n{text}\n{:?}",
        yaml_fast::from_multiple::<Value>(text).err()
    );
}

fn declines_at(text: &str, line: usize) {
    match yaml_fast::from_multiple::<Value>(text) {
        Ok(v) => panic!("expected a decline, got {v:?} for:\n{text}"),
        Err(e) => assert_eq!(e.line, line, "decline line for {text:?}: {e}"),
    }
}

#[test]
fn corpus_matches_serde_saphyr() {
    let corpus = corpus();
    assert!(corpus.len() >= 5, "corpus too small: {}", corpus.len());
    let mut accepted = 0;
    for (name, text) in &corpus {
        if check(text) {
            accepted += 1;
        } else {
            eprintln!(
                "declined: {name}: {:?}",
                yaml_fast::from_multiple::<Value>(text).err()
            );
        }
    }
    assert!(accepted > 0, "{accepted} of {}", corpus.len());
    // Every object of the corpus, re-emitted as block-style YAML, takes the fast path.
    let objects = objects();
    assert!(objects.len() > 50, "{}", objects.len());
    for text in &objects {
        accepts(text);
    }
}

/// Every object of the corpus (documents and `List` items), as serde-saphyr emits it.
fn objects() -> Vec<String> {
    let mut out = Vec::new();
    for (_, text) in corpus() {
        let Ok(docs) = serde_saphyr::from_multiple_with_options::<Value>(&text, opts()) else {
            continue;
        };
        for doc in docs {
            let items = match doc.get("items").and_then(Value::as_array) {
                Some(items) => items.clone(),
                None => vec![doc],
            };
            for item in items {
                if item.get("kind").is_some() {
                    out.push(serde_saphyr::to_string(&item).expect("serialize"));
                }
            }
        }
    }
    out
}

/// Split a stream into its documents' texts at `---` lines.
fn documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" {
            docs.push(String::new());
        } else if let Some(d) = docs.last_mut() {
            d.push_str(line);
        }
    }
    docs.into_iter().filter(|d| d.contains("kind:")).collect()
}

fn typed_one<T>(doc: &str) -> bool
where
    T: for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
{
    match yaml_fast::from_str::<T>(doc) {
        Ok(v) => {
            let r: T = serde_saphyr::from_str(doc)
                .unwrap_or_else(|e| panic!("fast typed accepted, saphyr failed ({e}):\n{doc}"));
            assert_eq!(v, r, "typed result differs on:\n{doc}");
            true
        }
        Err(_) => false,
    }
}

#[test]
fn typed_k8s_objects_match_serde_saphyr() {
    let mut accepted = BTreeMap::<&str, usize>::new();
    let mut docs: Vec<String> = corpus().iter().flat_map(|(_, t)| documents(t)).collect();
    docs.extend(objects());
    {
        for doc in docs {
            let Ok(v) = serde_saphyr::from_str::<Value>(&doc) else {
                continue;
            };
            let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
            let ok = match kind {
                "Pod" => typed_one::<Pod>(&doc),
                "PersistentVolume" => typed_one::<PersistentVolume>(&doc),
                "PersistentVolumeClaim" => typed_one::<PersistentVolumeClaim>(&doc),
                "StorageClass" => typed_one::<StorageClass>(&doc),
                _ => continue,
            };
            if ok {
                *accepted
                    .entry(match kind {
                        "Pod" => "Pod",
                        "PersistentVolume" => "PersistentVolume",
                        "PersistentVolumeClaim" => "PersistentVolumeClaim",
                        _ => "StorageClass",
                    })
                    .or_default() += 1;
            }
        }
    }
    for kind in [
        "Pod",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "StorageClass",
    ] {
        assert!(
            accepted.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} took the fast path: {accepted:?}"
        );
    }
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Typed {
    s: Option<String>,
    i: Option<i32>,
    l: Option<i64>,
    u: Option<u8>,
    b: Option<bool>,
    f: Option<f64>,
    c: Option<char>,
    list: Option<Vec<String>>,
    labels: Option<BTreeMap<String, String>>,
    inner: Option<Box<Typed>>,
    mode: Option<Mode>,
    unit: Option<()>,
}

#[derive(Debug, PartialEq, Deserialize)]
enum Mode {
    Fast,
    Slow,
}

fn check_typed(text: &str) -> bool {
    match yaml_fast::from_str::<Typed>(text) {
        Ok(v) => {
            let r: Typed = serde_saphyr::from_str(text)
                .unwrap_or_else(|e| panic!("fast typed accepted, saphyr failed ({e}):\n{text}"));
            // Debug, not PartialEq: NaN must compare equal to NaN here.
            assert_eq!(
                format!("{v:?}"),
                format!("{r:?}"),
                "typed differs on:\n{text}"
            );
            true
        }
        Err(_) => false,
    }
}

const TRICKY: &[&str] = &[
    "",
    "~",
    "null",
    "Null",
    "NULL",
    "nULL",
    "yes",
    "Yes",
    "YES",
    "No",
    "no",
    "n",
    "N",
    "y",
    "Y",
    "on",
    "On",
    "OFF",
    "off",
    "true",
    "True",
    "TRUE",
    "tRuE",
    "false",
    "0",
    "-0",
    "+0",
    "00",
    "0755",
    "-0755",
    "+0755",
    "0x1F",
    "0X1f",
    "-0x1F",
    "0o17",
    "0b101",
    "0x",
    "0x_1",
    "1_000",
    "1__0",
    "_1",
    "1_",
    "+12",
    "-12",
    "12",
    "1e3",
    "1E3",
    "-1e3",
    "1.5",
    "-.5",
    ".5",
    "+.5",
    "5.",
    "1e999",
    "-1e999",
    ".inf",
    "-.inf",
    "+.INF",
    ".nan",
    ".NaN",
    "nan",
    "inf",
    "infinity",
    "-inf",
    "12:30",
    "1:2:3",
    "2026-11-20T09:14:03Z",
    "2026-11-20",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "170141183460469231731687303715884105728",
    "\"true\"",
    "'null'",
    "\"\"",
    "''",
    "\"123\"",
    "'0x1F'",
    "a b",
    "a#b",
    "a #b",
    "10Gi",
    "500m",
    "1.5Gi",
    "http://x:80/y",
    "foo[1]",
    "a,b",
    "{}",
    "[]",
    "- a",
    "a: b",
    "-a",
    "-",
    "--",
    "---",
    "...",
    "é",
    "日本",
    "x y  z",
    "'it''s'",
    "\"a\\tb\"",
    "\"\\u00e9\\x41\\U0001F600\"",
    "\"a\\\"b\\\\c\\/d\"",
    "\"\\0\\a\\b\\e\\f\\r\\v\\N\\_\\L\\P\"",
    "\"\\q\"",
    "\"\\ud800\"",
    "&a x",
    "*a",
    "!!str 1",
    "!t x",
    "? x",
    "%x",
    "@x",
    "`x",
    "|",
    ">",
    "|-",
    "c",
    "ab",
];

#[test]
fn tricky_scalars_match_serde_saphyr() {
    let mut accepted = 0;
    for tok in TRICKY {
        for text in [
            format!("k: {tok}\n"),
            format!("k: {tok}"),
            format!("k: {tok} # comment\n"),
            format!("- {tok}\n- x\n"),
            format!("a:\n  k: {tok}\nb: 1\n"),
        ] {
            if check(&text) {
                accepted += 1;
            }
        }
        for field in ["s", "i", "l", "u", "b", "f", "c", "mode", "unit"] {
            check_typed(&format!("{field}: {tok}\n"));
        }
    }
    assert!(accepted > TRICKY.len() * 3, "{accepted}");
    // Shapes that must take the fast path.
    for t in [
        "k: yes\n",
        "k: 0755\n",
        "k: 0x1F\n",
        "k: 1e3\n",
        "k: '12:30'\n",
        "k: \"true\"\n",
        "k: ~\n",
        "k:\n",
    ] {
        accepts(t);
    }
    assert!(check_typed(
        "s: 123\ni: \"42\"\nb: yes\nu: 0x1F\nf: .inf\nc: x\nmode: Fast\nunit: ~\nlabels:\n  a: b\n"
    ));
    assert!(check_typed(
        "s: ''\ni: ~\nb:\nlist: []\nlabels: {}\ninner:\n  s: x\n"
    ));
    #[derive(Debug, Deserialize)]
    struct Required {
        #[allow(dead_code)]
        s: String,
    }
    for null in ["s: ~\n", "s:\n", "s: null\n"] {
        assert!(
            yaml_fast::from_str::<Required>(null).is_err(),
            "null into String must decline"
        );
        assert!(serde_saphyr::from_str::<Required>(null).is_err());
    }
}

const SNIPPETS: &[&str] = &[
    // go-yaml sequence style, compact mappings, nested sequences.
    "items:\n- a\n- b\nnext: 1\n",
    "items:\n  - a\n  - b\nnext: 1\n",
    "- name: x\n  path: y\n- name: z\n",
    "- - a\n  - b\n- - c\n",
    "-   name: x\n    path: y\n",
    "a:\n  b:\n    c:\n    - d: 1\n      e: [ ]\n    - f\n",
    "a:\n- b:\n  - c\n  - d\n  e: 1\n",
    "a: []\nb: {}\nc: [ ]\n",
    "-\n  a: 1\n-\n- x\n",
    "- \n- x\n",
    // Multi-line plain scalars (go-yaml wraps at ~80 columns).
    "k: this is a long\n  plain scalar that\n  wraps\nz: 1\n",
    "k: para one\n\n  para two\n\n\n  para three\nz: 1\n",
    "- first line\n  second line\n- x\n",
    "k: a\n  b # comment\nz: 1\n",
    "k: a\n  # comment\nz: 1\n",
    "k: a\n  b: c\n",
    "k: a\n  - b\n",
    "k:\n  value on next line\n  continued\nz: 1\n",
    "k: a\n z\n",
    // Quoted scalars.
    "k: 'single ''quoted'''\n",
    "k: 'multi\n  line\n\n  single'\n",
    "k: \"double\n  line\n\n\n  folded\"\n",
    "k: \"escaped \\\n  break\"\n",
    "k: \"trailing   \n  spaces\"\n",
    "k: \"escaped space\\ \n  kept\"\n",
    "k: \"a\\tb\\n\"\n",
    "k: \"x\" # c\n",
    "k: \"x\"y\n",
    "k: \"x\n\"\n",
    "k: \"unterminated\n",
    "'quoted key': 1\n\"dq key\": 2\n",
    "\"a\\\"b\": 1\n",
    "k: '\n  x'\n",
    // Block scalars.
    "k: |\n  line1\n  line2\nz: 1\n",
    "k: |-\n  line1\n  line2\n\nz: 1\n",
    "k: |+\n  line1\n\n\nz: 1\n",
    "k: >\n  folded\n  text\n\n  para\nz: 1\n",
    "k: >-\n  folded\n  text\nz: 1\n",
    "k: >+\n  folded\n\nz: 1\n",
    "k: |2-\n    indented\n  base\nz: 1\n",
    "k: |-2\n    indented\n  base\nz: 1\n",
    "k: |\n    deeper\n  less\n",
    "k: |\n  # not a comment\n  x\n",
    "k: | # header comment\n  x\n",
    "k: |\n\n  after empty\n",
    "k: |\n   \n  x\n",
    "k: >\n  a\n    more\n  b\n",
    "k: |\nz: 1\n",
    "k: |-\n",
    "k: |\n  tab\there\n",
    "k: |\n  x",
    "- |\n  in seq\n- x\n",
    "- |2\n   in seq\n- x\n",
    "- a: |1\n    in map in seq\n  b: 1\n",
    "k: >+\n  x",
    "k: |+\n  x",
    "k: >\n  x",
    "k: [ ,]\n",
    "k: |+\n  ",
    "k: |+\n",
    "k: |\n  ",
    "k: |-\n\nz: 1\n",
    "k: { ]\n",
    "- a: |\n    nested\n  b: 1\n",
    // Comments.
    "# head\na: 1 # trailing\n# middle\nb: 2\n  # indented comment\nc: 3\n",
    "a: 1#not a comment\n",
    "a: # comment\n  b: 1\n",
    "a:\n  # comment\n  b: 1\n",
    "- # comment\n  a: 1\n",
    // Documents.
    "---\na: 1\n---\nb: 2\n",
    "---\n---\na: 1\n---\n",
    "a: 1\n...\n---\nb: 2\n...\n",
    "a: 1\n...\nb: 2\n",
    "--- # comment\na: 1\n",
    "---\n# only a comment\n",
    "",
    "\n\n",
    "# only comment\n",
    "--- x\n",
    "---\nnull\n",
    "---\n~\n---\na: 1\n",
    "a: 1\n--- \nb: 2\n",
    // Keys.
    "a: 1\na: 2\n",
    "a: 1\n'a': 2\n",
    "1: x\n",
    "true: x\n",
    "null: x\n",
    "~: x\n",
    "<<: {}\n",
    "a b: 1\n",
    "a:b: 1\n",
    "http://x: 1\n",
    "a : 1\n",
    "a:  1\n",
    "k: v\n  extra: 1\n",
    " a: 1\n b: 2\n",
    "a:\n    b: 1\n  c: 2\n",
    "a:\n  b: 1\n c: 2\n",
    // Out of the subset.
    "a: &x 1\nb: *x\n",
    "a: !!str 1\n",
    "%YAML 1.2\n---\na: 1\n",
    "? a\n: 1\n",
    "a: [1, 2]\n",
    "a: {b: 1}\n",
    "a:\n\t- b\n",
    "a: b\r\n",
    "\u{feff}a: 1\n",
    "a: \"x\u{1}\"\n",
    "a: x\u{85}y\n",
    "a: x\u{2028}y\n",
    "a: [\n",
    "- a\nb: 1\n",
    "a: - b\n",
    "a: b: c\n",
    "a: 'x': 1\n",
];

#[test]
fn snippets_match_serde_saphyr() {
    let mut accepted = 0;
    for s in SNIPPETS {
        if check(s) {
            accepted += 1;
        }
    }
    assert!(
        accepted > SNIPPETS.len() / 2,
        "{accepted} of {}",
        SNIPPETS.len()
    );
    for must in [
        "items:\n- a\n- b\nnext: 1\n",
        "- name: x\n  path: y\n- name: z\n",
        "- - a\n  - b\n- - c\n",
        "k: this is a long\n  plain scalar that\n  wraps\nz: 1\n",
        "k: para one\n\n  para two\n\n\n  para three\nz: 1\n",
        "k: 'multi\n  line\n\n  single'\n",
        "k: \"double\n  line\n\n\n  folded\"\n",
        "k: \"escaped \\\n  break\"\n",
        "k: |\n  line1\n  line2\nz: 1\n",
        "k: |-\n  line1\n  line2\n\nz: 1\n",
        "k: |+\n  line1\n\n\nz: 1\n",
        "k: >\n  folded\n  text\n\n  para\nz: 1\n",
        "k: |2-\n    indented\n  base\nz: 1\n",
        "# head\na: 1 # trailing\n# middle\nb: 2\n  # indented comment\nc: 3\n",
        "---\na: 1\n---\nb: 2\n",
        "---\n---\na: 1\n---\n",
        "a: []\nb: {}\nc: [ ]\nd: {  }\n",
        "k: |\n  x",
        "k: |-\n  x",
    ] {
        accepts(must);
    }
}

#[test]
fn out_of_subset_declines_at_the_right_line() {
    declines_at("a: 1\nb: &x 2\n", 2);
    declines_at("a: 1\nb: 2\nc: *x\n", 3);
    declines_at("a: !!str 1\n", 1);
    declines_at("a: 1\nb: !custom x\n", 2);
    declines_at("a:\n  b: [1, 2]\n", 2);
    declines_at("a:\n  b: {c: 1}\n", 2);
    declines_at("a:\n\tb: 1\n", 2);
    declines_at("a: 1\nb: 2\r\n", 2);
    declines_at("%YAML 1.2\n---\na: 1\n", 1);
    declines_at("a: 1\n? b\n: 2\n", 2);
    declines_at("a: 1\na: 2\n", 2);
    declines_at("a: 1\n<<: {}\n", 2);
}

/// A Pod as go-yaml prints it: sequences at the key's indentation, wrapped plain scalars,
/// block scalars, quoted numbers and booleans.
const GO_YAML_POD: &str = r#"apiVersion: v1
kind: Pod
metadata:
  annotations:
    description: a long plain value that go-yaml wraps onto a continuation line at
      about eighty columns
    script: |
      #!/bin/sh
      echo "hello: world"

      exit 0
    quoted: 'single ''quoted'' value that is long enough to be folded onto the next
      line'
    escaped: "tab\there \u00e9 and a folded
      line"
  creationTimestamp: "2026-11-20T09:14:03Z"
  labels:
    app: web
  name: web-0
  namespace: shop
spec:
  containers:
  - args:
    - --port=8080
    - "true"
    image: nginx:1.27
    name: web
    ports:
    - containerPort: 80
      protocol: TCP
    resources:
      limits:
        cpu: 500m
        memory: 1Gi
  securityContext: {}
  volumes:
  - name: data
    persistentVolumeClaim:
      claimName: data-web-0
status:
  phase: Running
"#;

#[test]
fn plain_continuations_starting_with_indicators() {
    for c in [
        "-", "?", ":", ",", "[", "]", "{", "}", "&", "*", "!", "|", ">", "'", "\"", "%", "@", "`",
    ] {
        for text in [
            format!("k: a\n  {c}x\n"),
            format!("k: a\n  {c} x\nz: 1\n"),
            format!("- a\n  {c}x\n"),
            format!("k: a\n  {c}\n"),
            format!("k: a\n  b\n  {c}x y\n"),
        ] {
            check(&text);
        }
        if c != "-" {
            accepts(&format!("k: a\n  {c}x\n"));
        }
    }
}

#[test]
fn go_yaml_pod_matches_serde_saphyr() {
    accepts(GO_YAML_POD);
    assert!(typed_one::<Pod>(GO_YAML_POD));
}

/// A tiny deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(text: &str, rng: &mut Rng) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.is_empty() {
        return text.to_string();
    }
    let n = 1 + rng.below(3);
    for _ in 0..n {
        let li = rng.below(lines.len());
        let line = &mut lines[li];
        let chars: Vec<char> = line.chars().collect();
        let ci = rng.below(chars.len() + 1);
        let insert = |s: &str| -> String {
            let mut c = chars.clone();
            for (k, ch) in s.chars().enumerate() {
                c.insert(ci + k, ch);
            }
            c.into_iter().collect()
        };
        match rng.below(12) {
            0 if !chars.is_empty() => {
                let mut c = chars.clone();
                c.remove(ci.min(chars.len() - 1));
                *line = c.into_iter().collect();
            }
            1 => *line = insert(["a", " ", "0", "é", "\\"][rng.below(5)]),
            2 => *line = format!("  {line}"),
            3 => {
                *line = line
                    .strip_prefix("  ")
                    .or_else(|| line.strip_prefix(' '))
                    .unwrap_or(line)
                    .to_string()
            }
            4 => {
                let other = rng.below(lines.len());
                lines.swap(li, other);
            }
            5 => *line = insert(" #"),
            6 => *line = insert("#"),
            7 => *line = insert(": "),
            8 => *line = insert("- "),
            9 => *line = insert(["'", "\"", "''", "\\\""][rng.below(4)]),
            10 => {
                let dup = line.clone();
                lines.insert(li, dup);
            }
            _ => {
                *line = insert(["|", ">-", "~", "{}", "[]", "---", "\t", "&a ", "?"][rng.below(9)])
            }
        }
    }
    let mut out = lines.join("\n");
    if rng.below(4) != 0 {
        out.push('\n');
    }
    out
}

#[test]
fn mutants_never_differ_from_serde_saphyr() {
    let mut seeds: Vec<String> = corpus()
        .into_iter()
        .filter(|(n, _)| n.ends_with("demo-cluster.yaml") || n.contains("fixtures"))
        .flat_map(|(_, t)| documents(&t))
        .collect();
    seeds.extend(SNIPPETS.iter().map(|s| s.to_string()));
    seeds.extend(objects());
    seeds.push(GO_YAML_POD.to_string());
    assert!(seeds.len() > 20);
    // YAML_FAST_MUTANTS / YAML_FAST_SEED run a longer or different campaign by hand.
    let count: usize = std::env::var("YAML_FAST_MUTANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6000);
    let seed: u64 = std::env::var("YAML_FAST_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15);
    let mut rng = Rng(seed);
    let (mut accepted, mut declined) = (0usize, 0usize);
    for _ in 0..count {
        let seed = &seeds[rng.below(seeds.len())];
        let text = mutate(seed, &mut rng);
        let r = std::panic::catch_unwind(|| {
            // Typed targets too: whatever the fast path accepts must equal serde-saphyr's.
            typed_one::<Pod>(&text);
            typed_one::<PersistentVolume>(&text);
            check_typed(&text);
            check(&text)
        });
        match r {
            Ok(true) => accepted += 1,
            Ok(false) => declined += 1,
            Err(_) => panic!("fast path panicked or differed on mutant:\n{text}"),
        }
    }
    eprintln!("mutants: {accepted} accepted, {declined} declined");
    assert!(accepted > 500, "accepted {accepted}");
    assert!(declined > 500, "declined {declined}");
}

#[test]
#[ignore]
fn print_declines() {
    for s in SNIPPETS {
        let fast = yaml_fast::from_multiple::<Value>(s);
        let reference = serde_saphyr::from_multiple_with_options::<Value>(s, opts());
        if let (Err(e), Ok(r)) = (&fast, &reference) {
            println!("DECLINED but saphyr ok: {s:?} -> {e} ; saphyr: {r:?}");
        }
    }
    for tok in TRICKY {
        let s = format!("k: {tok}\n");
        let fast = yaml_fast::from_multiple::<Value>(&s);
        let reference = serde_saphyr::from_multiple_with_options::<Value>(&s, opts());
        if let (Err(e), Ok(r)) = (&fast, &reference) {
            println!("DECLINED but saphyr ok: {s:?} -> {e} ; saphyr: {r:?}");
        }
    }
}

#[test]
fn nesting_depth_stays_inside_serde_saphyr_limit() {
    let nested = |depth: usize| -> String {
        let mut s = String::new();
        for d in 0..depth {
            s.push_str(&" ".repeat(d));
            s.push_str("k:\n");
        }
        s.push_str(&" ".repeat(depth));
        s.push_str("v: 1\n");
        s
    };
    accepts(&nested(50));
    for depth in [60, 63, 64, 65, 70, 200] {
        check(&nested(depth));
    }
    assert!(yaml_fast::from_multiple::<Value>(&nested(200)).is_err());
}

#[test]
fn enums_match_serde_saphyr() {
    #[derive(Debug, PartialEq, Deserialize)]
    enum E {
        Unit,
        Newtype(String),
        Struct { a: i32, b: Option<String> },
        Tuple(i32, i32),
    }
    #[derive(Debug, PartialEq, Deserialize)]
    struct W {
        e: E,
        list: Option<Vec<E>>,
    }
    let mut accepted = 0;
    for text in [
        "e: Unit\n",
        "e: 'Unit'\n",
        "e: Newtype\n",
        "e: Other\n",
        "e: ~\n",
        "e:\n  Unit:\n",
        "e:\n  Unit: ~\n",
        "e:\n  Unit: 1\n",
        "e:\n  Newtype: x\n",
        "e:\n  Newtype: 1\n",
        "e:\n  Struct:\n    a: 1\n",
        "e:\n  Struct:\n    a: 1\n    b: x\n",
        "e:\n  Struct:\n    a: x\n",
        "e:\n  Newtype: x\n  Unit:\n",
        "e:\n  Tuple:\n  - 1\n  - 2\n",
        "e: Unit\nlist:\n- Unit\n- Newtype: y\n- Struct:\n    a: 2\n",
    ] {
        if let Ok(v) = yaml_fast::from_str::<W>(text) {
            let r: W = serde_saphyr::from_str(text)
                .unwrap_or_else(|e| panic!("fast accepted, saphyr failed ({e}):\n{text}"));
            assert_eq!(v, r, "{text}");
            accepted += 1;
        }
    }
    assert!(accepted >= 6, "{accepted}");
}
