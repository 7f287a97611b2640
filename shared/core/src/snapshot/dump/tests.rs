//! Tests of the dump reader.

use super::*;

fn parse(text: &str) -> Result<Snapshot> {
    let mut s = Snapshot::default();
    parse_dump_into(&mut s, std::path::Path::new("dump.yaml"), text)?;
    Ok(s)
}

const LIST: &str = r#"apiVersion: v1
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: db-0
    namespace: prod
    labels: {app: db}
    managedFields: [{manager: kubectl}]
  spec:
    containers: [{name: db, image: postgres:16}]
    volumes:
    - name: data
      persistentVolumeClaim: {claimName: data-db-0}
- apiVersion: v1
  kind: PersistentVolumeClaim
  metadata: {name: data-db-0, namespace: prod}
  spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
- apiVersion: v1
  kind: Secret
  metadata: {name: s, namespace: prod}
  data: {password: c2VjcmV0}
- apiVersion: example.com/v1
  kind: Widget
  metadata: {name: w}
kind: List
metadata:
  resourceVersion: ""
"#;

#[test]
fn list_dump_keeps_known_kinds_and_skips_others() {
    let s = parse(LIST).unwrap();
    assert_eq!(s.pods.len(), 1);
    assert_eq!(s.pvcs.len(), 1);
    assert_eq!(s.skipped.get("Secret"), Some(&1));
    assert_eq!(s.skipped.get("Widget"), Some(&1));
    assert!(
        s.pods[0].metadata.managed_fields.is_none(),
        "managedFields stripped"
    );
    assert!(s.knows(Kind::Pod) && !s.knows(Kind::PersistentVolume));
}

#[test]
fn multi_document_yaml_and_json_agree() {
    let yaml = "---\napiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv1}\nspec: {nfs: {server: 10.0.0.5, path: /x}}\n---\n---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fast}\nprovisioner: ebs.csi.aws.com\n";
    let s = parse(yaml).unwrap();
    assert_eq!(s.pvs.len(), 1);
    assert_eq!(s.storage_classes.len(), 1);
    let json = r#"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pv1"}}]}
{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"fast"},"provisioner":"x"}"#;
    let s = parse(json).unwrap();
    assert_eq!(s.pvs.len(), 1);
    assert_eq!(s.storage_classes.len(), 1);
}

/// Every way through the dump reader gives the same snapshot: pieces through the fast path,
/// a piece the fast path declines (an anchor) through serde-saphyr, a file the splitter
/// does not split (a directive) parsed whole, and items whose keys are not in kubectl's
/// order (through a JSON value).
#[test]
fn every_yaml_path_gives_the_same_objects() {
    let pv = |name: &str| {
        format!(
            "- apiVersion: v1\n  kind: PersistentVolume\n  metadata:\n    name: {name}\n    labels: {{a: b}}\n  spec:\n    capacity:\n      storage: 1Gi\n    csi:\n      driver: ebs.csi.aws.com\n      volumeHandle: vol-{name}\n"
        )
    };
    let plain = format!("apiVersion: v1\nitems:\n{}{}kind: List\n", pv("a"), pv("b"));
    let anchored = plain.replace("labels: {a: b}", "labels: &l {a: b}");
    let reordered = plain.replace(
            "- apiVersion: v1\n  kind: PersistentVolume\n  metadata:\n    name: b\n    labels: {a: b}\n",
            "- metadata:\n    name: b\n    labels: {a: b}\n  kind: PersistentVolume\n  apiVersion: v1\n",
        );
    let directive = format!("%YAML 1.2\n---\n{plain}");
    let lean = |text: &str| {
        let mut s = Snapshot::<Lean>::default();
        parse_dump_into(&mut s, std::path::Path::new("d.yaml"), text).unwrap();
        s
    };
    let whole = {
        let mut s = Snapshot::<Lean>::default();
        parse_yaml_whole(&mut s, std::path::Path::new("d.yaml"), &plain).unwrap();
        s
    };
    assert_eq!(whole.pvs.len(), 2);
    for text in [&plain, &anchored, &reordered, &directive] {
        let s = lean(text);
        assert_eq!(s.pvs, whole.pvs, "{text}");
        assert!(s.knows(Kind::PersistentVolume));
    }
    // The reader's own fallback: a piece that fails sends the whole text to serde-saphyr,
    // whose error names the line.
    let broken = plain.replace("      storage: 1Gi\n", "      storage: \"1Gi\n");
    let streamed = parse(&broken).unwrap_err().to_string();
    let mut s = Snapshot::<Full>::default();
    let whole = parse_yaml_whole(&mut s, std::path::Path::new("dump.yaml"), &broken)
        .unwrap_err()
        .to_string();
    assert_eq!(streamed, whole);
    assert!(streamed.contains("dump.yaml:21"), "{streamed}");
}

#[test]
fn flow_style_yaml_starting_with_a_brace_is_yaml_not_a_json_error() {
    let block =
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {containers: []}\n";
    let flow = "{apiVersion: v1, kind: Pod, metadata: {name: a, namespace: x},\n spec: {containers: []}}\n";
    let list = "{apiVersion: v1, kind: List, items: [{apiVersion: v1, kind: Pod, metadata: {name: a, namespace: x}, spec: {containers: []}}]}";
    let want = parse(block).unwrap();
    for text in [flow, list] {
        let s = parse(text).unwrap();
        assert_eq!(s.pods.len(), 1, "{text}");
        assert_eq!(s.pods[0].metadata.name, want.pods[0].metadata.name);
    }
    // Neither JSON nor YAML: the JSON error, naming the file and line.
    let e = parse("{\"kind\": \"Pod\",\n \"metadata\": {")
        .unwrap_err()
        .to_string();
    assert!(e.contains(":2"), "{e}");
}

#[test]
fn cr_only_line_breaks_are_line_breaks() {
    let lf = "# a dump\napiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {containers: []}\n";
    let want = parse(lf).unwrap();
    assert_eq!(want.pods.len(), 1);
    for text in [lf.replace('\n', "\r"), lf.replace('\n', "\r\n")] {
        let s = parse(&text).unwrap();
        assert_eq!(s.pods.len(), 1, "{text:?}");
        assert_eq!(s.pods[0].metadata.name, want.pods[0].metadata.name);
    }
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("cr.yaml");
    std::fs::write(&f, lf.replace('\n', "\r")).unwrap();
    let s = read_dumps::<Full>(&[f.to_string_lossy().into_owned()]).unwrap();
    assert_eq!(s.pods.len(), 1);
    let bad = "# c\rapiVersion: v1\rkind: Pod\rmetadata:\r  labels: [x\r";
    let e = parse(bad).unwrap_err().to_string();
    assert!(e.contains("dump.yaml:"), "{e}");
}

#[test]
fn raw_api_list_items_take_the_list_kind() {
    let json = r#"{"apiVersion":"v1","kind":"PodList","items":[{"metadata":{"name":"a","namespace":"x"},"spec":{"containers":[]}}]}"#;
    let s = parse(json).unwrap();
    assert_eq!(s.pods.len(), 1);
}

#[test]
fn malformed_yaml_names_file_and_line() {
    let bad = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: [unclosed\n";
    let e = parse(bad).unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("dump.yaml:"), "{msg}");
    match e {
        Error::File { line, .. } => assert!(line.is_some(), "{msg}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn malformed_json_names_file_and_line() {
    let e = parse("{\"kind\": \"List\",\n \"items\": [\n {\"kind\": }]}").unwrap_err();
    match e {
        Error::File { line, .. } => assert_eq!(line, Some(3)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn json_type_errors_name_the_line_in_the_file() {
    let text = "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[\n{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\"}},\n{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"b\"},\n \"spec\":{\"containers\":7}}]}";
    match parse(text).unwrap_err() {
        Error::File { line, message, .. } => {
            assert_eq!(line, Some(4), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Kinds we do not use are skipped without being parsed as typed objects.
    let s = parse("[{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"data\":{}}]").unwrap();
    assert_eq!(s.skipped.get("Secret"), Some(&1));
}

#[test]
fn wrong_types_are_errors_not_panics() {
    let bad = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: 7}\n";
    let e = parse(bad).unwrap_err();
    assert!(e.to_string().contains("Pod a"), "{e}");
    let e = parse("just a string\n").unwrap_err();
    assert_eq!(e.exit_code().code(), 1);
    let e = parse("metadata: {name: a}\n").unwrap_err();
    assert!(e.to_string().contains("kind"), "{e}");
}

#[test]
fn scope_filters_namespace_and_pod_labels() {
    let mut s = parse(LIST).unwrap();
    s.retain_scope(&Scope {
        namespace: Some("prod".into()),
        pod_selector: Some(Selector::parse("app=web").unwrap()),
        ..Default::default()
    });
    assert_eq!(s.pods.len(), 0);
    assert_eq!(s.pvcs.len(), 1);
    let mut s = parse(LIST).unwrap();
    s.retain_scope(&Scope {
        namespace: Some("other".into()),
        pod_selector: None,
        ..Default::default()
    });
    assert_eq!(s.pvcs.len(), 0);
}

fn parse_as(name: &str, text: &str) -> Result<Snapshot> {
    let mut s = Snapshot::default();
    parse_dump_into(&mut s, std::path::Path::new(name), text)?;
    Ok(s)
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  namespace: x\n  annotations:\n    n: VAL\nspec:\n  containers: []\n";

/// go-yaml writes the strings `1e400`, `-.nan`… unquoted (it cannot parse them as floats);
/// `.inf` is a float no plugin reads. None of them fails a file, wherever it is.
#[test]
fn values_no_plugin_reads_never_fail_a_file() {
    for v in [
        "1e400", "-1e400", "-.nan", "+.nan", ".inf", "-.Inf", ".NaN", "1e400 ",
    ] {
        let pod = POD.replace("VAL", v);
        let s = parse(&pod).unwrap_or_else(|e| panic!("{v}: {e}"));
        let ann = s.pods[0].metadata.annotations.as_ref().unwrap();
        assert_eq!(ann["n"], v.trim(), "a typed string keeps the text");
        let cm = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: {v}\n  b: [{v}, {{k: {v}}}]\n---\n{}",
            POD.replace("VAL", "x")
        );
        let s = parse(&cm).unwrap_or_else(|e| panic!("{v}: {e}"));
        assert_eq!(
            (s.pods.len(), s.skipped.get("ConfigMap")),
            (1, Some(&1)),
            "{v}"
        );
        let list = format!(
            "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c\n  data:\n    a: {v}\n- {}\nkind: List\n",
            pod.replace('\n', "\n  ").trim_end()
        );
        let s = parse(&list).unwrap_or_else(|e| panic!("{v}: {e}"));
        assert_eq!(s.pods.len(), 1, "{v}");
        // Untyped (a snapshot CRD): go-yaml's strings stay the text written.
        let snap = format!(
            "apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshot\nmetadata: {{name: s, namespace: x}}\nspec:\n  source:\n    persistentVolumeClaimName: {v}\n"
        );
        let s = parse(&snap).unwrap_or_else(|e| panic!("{v}: {e}"));
        let val = &s.dynamic[&Kind::VolumeSnapshot][0];
        assert_eq!(
            val.pointer("/spec/source/persistentVolumeClaimName"),
            Some(&Value::from(v.trim())),
            "{v}"
        );
    }
}

#[test]
fn typed_lists_and_kind_list_agree_in_yaml_and_json() {
    let yaml = "apiVersion: apps/v1\nkind: StatefulSetList\nitems:\n- kind: StatefulSet\n  metadata: {name: s, namespace: x}\n  spec: {selector: {}, serviceName: s, template: {}}\n- metadata: {name: t, namespace: x}\n  spec: {selector: {}, serviceName: t, template: {}}\n";
    let json = r#"{"apiVersion":"apps/v1","kind":"StatefulSetList","items":[{"kind":"StatefulSet","metadata":{"name":"s","namespace":"x"},"spec":{"selector":{},"serviceName":"s","template":{}}},{"metadata":{"name":"t","namespace":"x"},"spec":{"selector":{},"serviceName":"t","template":{}}}]}"#;
    let flow = "{apiVersion: apps/v1, kind: StatefulSetList, items: [{kind: StatefulSet, metadata: {name: s, namespace: x}, spec: {selector: {}, serviceName: s, template: {}}}, {metadata: {name: t, namespace: x}, spec: {selector: {}, serviceName: t, template: {}}}]}";
    // items before kind, as kubectl sorts keys, and with an anchor (the whole-text path)
    let whole = yaml
        .replace("kind: StatefulSetList\nitems:\n", "items:\n")
        .replace(
            "selector: {}, serviceName: s",
            "selector: &sel {}, serviceName: s",
        )
        + "kind: StatefulSetList\n";
    for text in [yaml, json, flow, &whole] {
        let s = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let names: Vec<_> = s
            .statefulsets
            .iter()
            .map(|s| s.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(names, ["s", "t"], "{text}");
    }
    // kind: List items with a kind and no apiVersion take the List's apiVersion, alike.
    let yaml = "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  metadata: {name: a, namespace: x}\n  spec: {containers: []}\n";
    let json = r#"{"apiVersion":"v1","kind":"List","items":[{"kind":"Pod","metadata":{"name":"a","namespace":"x"},"spec":{"containers":[]}}]}"#;
    for text in [yaml, json] {
        assert_eq!(parse(text).unwrap().pods.len(), 1, "{text}");
    }
}

#[test]
fn an_object_with_an_items_field_is_not_a_list() {
    let pod = "apiVersion: v1\n  kind: Pod\n  metadata: {name: a, namespace: x}\n  spec: {containers: []}\n";
    let yaml_items_first =
        format!("apiVersion: v1\nitems:\n- {pod}kind: ConfigMap\nmetadata: {{name: c}}\n");
    let yaml_kind_first =
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\nitems:\n- {pod}");
    let json = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"x"},"spec":{"containers":[]}}]}"#;
    let odd = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"items\":\"not a list\"}";
    let odd_yaml = "apiVersion: v1\nkind: ConfigMap\nitems: {a: 1e400}\n";
    for text in [&yaml_items_first, &yaml_kind_first, json, odd, odd_yaml] {
        let s = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(s.pods.len(), 0, "{text}");
        assert_eq!(s.skipped.get("ConfigMap"), Some(&1), "{text}");
    }
    // A List whose items are not a sequence is an error in both forms.
    assert!(parse("{\"kind\":\"List\",\"items\":\"x\"}").is_err());
    assert!(parse("kind: List\nitems: x\n").is_err());
}

#[test]
fn deep_nesting_and_shared_anchors_read_as_json_does() {
    let mut deep = String::from("apiVersion: x.io/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n");
    for i in 0..100 {
        deep.push_str(&" ".repeat(2 * (i + 1)));
        deep.push_str(&format!("k{i}:\n"));
    }
    deep.push_str(&" ".repeat(202));
    deep.push_str("v: 1\n");
    assert_eq!(parse(&deep).unwrap().skipped.get("Widget"), Some(&1));
    let mut dj = String::from(r#"{"apiVersion":"x.io/v1","kind":"Widget","spec":"#);
    dj.push_str(&"{\"a\":".repeat(100));
    dj.push('1');
    dj.push_str(&"}".repeat(101));
    assert_eq!(parse(&dj).unwrap().skipped.get("Widget"), Some(&1));
    let too_deep = format!("a: {}1{}\n", "[".repeat(300), "]".repeat(300));
    let e = parse_as("deep.yaml", &too_deep).unwrap_err().to_string();
    assert!(e.starts_with("deep.yaml:1: "), "{e}");
    let block = (0..200).fold(String::new(), |acc, i| {
        format!("{acc}{}k:\n", " ".repeat(i))
    });
    let e = parse_as("deep.yaml", &block).unwrap_err().to_string();
    assert!(e.contains("nesting deeper than 128"), "{e}");

    // yaml.safe_dump writes one anchor and an alias for each further use of a shared map.
    let mut al = String::from(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p0\n    namespace: x\n    labels: &l\n      app: db\n  spec: {containers: []}\n",
    );
    for i in 1..200 {
        al.push_str(&format!("- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p{i}\n    namespace: x\n    labels: *l\n  spec: {{containers: []}}\n"));
    }
    let s = parse(&al).unwrap();
    assert_eq!(s.pods.len(), 200);
    assert!(
        s.pods
            .iter()
            .all(|p| p.metadata.labels.as_ref().unwrap()["app"] == "db")
    );

    // A real alias bomb (10^10 nodes) is refused, naming the file.
    let mut bomb = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n",
    );
    let mut prev = 'a';
    for c in 'b'..='k' {
        let refs = vec![format!("*{prev}"); 10].join(", ");
        bomb.push_str(&format!("  {c}: &{c} [{refs}]\n"));
        prev = c;
    }
    let e = parse_as("bomb.yaml", &bomb).unwrap_err().to_string();
    assert!(
        e.starts_with("bomb.yaml:") && e.contains("alias bomb"),
        "{e}"
    );
}

/// One line, the right one, and the object and field: in YAML and in JSON.
#[test]
fn data_errors_name_file_line_object_and_field() {
    let yaml = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s, namespace: x}\nspec: {replicas: 4294967296, selector: {}, serviceName: s, template: {}}\n";
    let e = parse_as("sts.yaml", yaml).unwrap_err().to_string();
    assert!(
        e.starts_with("sts.yaml:4: StatefulSet x/s: spec.replicas: "),
        "{e}"
    );
    let json = "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\n\"metadata\":{\"name\":\"s\",\"namespace\":\"x\"},\n\"spec\":{\"replicas\":4294967296}}";
    let e = parse_as("sts.json", json).unwrap_err();
    assert_eq!(e.exit_code().code(), 1);
    let e = e.to_string();
    assert!(
        e.starts_with("sts.json:3: StatefulSet x/s: spec.replicas: "),
        "{e}"
    );
    assert!(!e.contains(" at line "), "one line only: {e}");
    // A second object in a List, in the streamed YAML path.
    let list = format!(
        "apiVersion: v1\nitems:\n- {}- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: b\n  spec:\n    containers: 7\nkind: List\n",
        "apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\n  spec:\n    containers: []\n"
    );
    let e = parse_as("l.yaml", &list).unwrap_err().to_string();
    assert!(e.starts_with("l.yaml:14: Pod b: spec.containers: "), "{e}");
    // Items read through a JSON value (keys not in kubectl's order, or no kind: a raw API
    // list): the line where the item starts.
    let reordered = list.replace(
        "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: b\n",
        "- metadata:\n    name: b\n  kind: Pod\n  apiVersion: v1\n",
    );
    let e = parse_as("l.yaml", &reordered).unwrap_err().to_string();
    assert!(e.starts_with("l.yaml:9: Pod b: spec.containers: "), "{e}");
    let raw = "apiVersion: v1\nkind: PodList\nitems:\n- metadata:\n    name: a\n  spec:\n    containers: []\n- metadata:\n    name: b\n  spec:\n    containers: 7\n";
    let e = parse_as("l.yaml", raw).unwrap_err().to_string();
    assert!(e.starts_with("l.yaml:8: Pod b: spec.containers: "), "{e}");
    // Not UTF-8: the line of the first bad byte.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bin.yaml");
    std::fs::write(&f, b"apiVersion: v1\nkind: Pod\nmetadata: {name: \xff}\n").unwrap();
    let e = read_dumps::<Full>(&[f.to_string_lossy().into_owned()]).unwrap_err();
    assert!(matches!(e, Error::File { line: Some(3), .. }), "{e}");
}

#[test]
fn a_byte_order_mark_is_not_content() {
    let want = parse(&POD.replace("VAL", "x")).unwrap();
    let json = "\u{feff}{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"},\"spec\":{\"containers\":[]}}";
    for text in [
        format!("\u{feff}{}", POD.replace("VAL", "x")),
        json.to_string(),
    ] {
        let s = parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(s.pods[0].metadata.name, want.pods[0].metadata.name);
    }
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bom.json");
    std::fs::write(&f, json).unwrap();
    assert_eq!(
        read_dumps::<Full>(&[f.to_string_lossy().into_owned()])
            .unwrap()
            .pods
            .len(),
        1
    );
}

/// A List big enough to be parsed in several batches on several threads: the objects come out
/// in the file's order, and of two errors the first in the file is the one named, as when the
/// pieces are read one after the other.
#[test]
fn big_lists_read_in_parallel_keep_order_and_the_first_error() {
    let n = 9000;
    let pod = |i: usize, kind: bool, containers: &str| {
        let head = if kind {
            "- apiVersion: v1\n  kind: Pod\n  metadata:\n"
        } else {
            "- metadata:\n"
        };
        format!("{head}    name: p{i}\n    namespace: ns\n  spec:\n    containers: {containers}\n")
    };
    let list = |kind: bool, bad: &[usize], header: &str| {
        let mut s = format!("apiVersion: v1\n{header}items:\n");
        for i in 0..n {
            s += &pod(i, kind, if bad.contains(&i) { "7" } else { "[]" });
        }
        s
    };
    let lines_per_pod = |kind: bool| if kind { 7 } else { 5 };
    // The first line of pod i, after 3 header lines.
    let item_line = |i: usize, kind: bool| 4 + i * lines_per_pod(kind);
    let names = |s: &Snapshot| {
        s.pods
            .iter()
            .map(|p| p.metadata.name.clone().unwrap_or_default())
            .collect::<Vec<_>>()
    };
    let expected: Vec<String> = (0..n).map(|i| format!("p{i}")).collect();

    let plain = list(true, &[], "kind: List\n");
    assert!(plain.len() > 3 * (256 << 10), "several batches");
    assert!(
        names(&parse(&plain).unwrap()) == expected,
        "in the file's order"
    );
    // Items without a kind take the List's, when its header has been read: in order too.
    let raw = list(false, &[], "kind: PodList\n");
    assert!(
        names(&parse(&raw).unwrap()) == expected,
        "in the file's order"
    );

    // Two bad pods: the first one is named, with its line.
    for kind in [true, false] {
        let header = if kind {
            "kind: List\n"
        } else {
            "kind: PodList\n"
        };
        let e = parse_as("l.yaml", &list(kind, &[2500, 8000], header))
            .unwrap_err()
            .to_string();
        let at = if kind {
            item_line(2500, kind) + 6 // the typed path names the field's line
        } else {
            item_line(2500, kind)
        };
        assert!(
            e.starts_with(&format!("l.yaml:{at}: Pod ns/p2500: spec.containers: ")),
            "{e}"
        );
    }
    // A data error before a syntax error later in the file is the one named; a syntax error
    // before a data error sends the whole file to the ordinary parser, which names the syntax.
    let broken = |text: &str, at: usize| {
        text.replace(
            &format!("    name: p{at}\n"),
            &format!("    name: \"p{at}\n"),
        )
    };
    let data_first = broken(&list(true, &[1000], "kind: List\n"), 7000);
    let e = parse_as("l.yaml", &data_first).unwrap_err().to_string();
    assert!(e.contains("Pod ns/p1000: spec.containers: "), "{e}");
    let syntax_first = broken(&list(true, &[7000], "kind: List\n"), 1000);
    let e = parse_as("l.yaml", &syntax_first).unwrap_err().to_string();
    assert!(!e.contains("p7000"), "{e}");
    let mut s = Snapshot::<Full>::default();
    let whole = parse_yaml_whole(&mut s, std::path::Path::new("l.yaml"), &syntax_first)
        .unwrap_err()
        .to_string();
    assert_eq!(e, whole);
}
