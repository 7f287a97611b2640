#![allow(clippy::unwrap_used, clippy::print_stderr)]
//! `-o dot`, `-o mermaid` and `-o svg` (pure: no cluster): snapshots of the demo dump, the same
//! bytes for the same objects in any order, object text that cannot break the syntax, the DOT
//! read by Graphviz's own `dot` (required under CI), and the SVG read as XML.

use pvc_trace::graph::Snapshot;
use pvc_trace::model::*;
use pvc_trace::render::{Format, render};
use pvc_trace::{Target, TraceOptions};
use stateful_core::snapshot::parse_dump_into;

const DEMO_YAML: &str = include_str!("../../../examples/demo-cluster.yaml");

fn snap_of(path: &str, text: &str) -> Snapshot {
    let mut s = Snapshot::default();
    parse_dump_into(&mut s, std::path::Path::new(path), text).expect("dump parses");
    s.mark_complete();
    s
}

fn report(s: &Snapshot, targets: &[&str], ns: Option<&str>) -> Report {
    pvc_trace::trace(
        s,
        &TraceOptions {
            targets: targets.iter().map(|t| Target::parse(t).unwrap()).collect(),
            namespace: ns.map(str::to_string),
            source: "file".into(),
            selector: None,
            usage: None,
        },
    )
    .expect("trace")
}

fn demo_report() -> Report {
    report(&snap_of("demo.yaml", DEMO_YAML), &[], None)
}

fn draw(r: &Report, f: &Format) -> String {
    render(r, f).unwrap()
}

#[test]
fn pictures_of_the_demo_dump_are_stable() {
    let r = demo_report();
    insta::assert_snapshot!("dot_demo", draw(&r, &Format::Dot));
    insta::assert_snapshot!("mermaid_demo", draw(&r, &Format::Mermaid));
    // One namespace: no namespace prefix on pods and claims.
    let mut s = snap_of("demo.yaml", DEMO_YAML);
    s.retain_scope(&stateful_core::snapshot::Scope {
        namespace: Some("analytics".into()),
        pod_selector: None,
        ..Default::default()
    });
    let r = report(&s, &[], Some("analytics"));
    insta::assert_snapshot!("mermaid_analytics", draw(&r, &Format::Mermaid));
}

#[test]
fn pictures_are_grouped_coloured_and_dashed_as_documented() {
    let r = demo_report();
    let dot = draw(&r, &Format::Dot);
    // Zones hold node clusters, which hold the pods.
    let zone = dot.find("subgraph \"cluster_zone/eu-west-1a\"").unwrap();
    let node = dot
        .find("subgraph \"cluster_node/eu-west-1a/worker-a\"")
        .unwrap();
    let pod = dot.find("\"Pod/shop/postgres-0\" [").unwrap();
    assert!(zone < node && node < pod, "zone ⊃ node ⊃ pod");
    // Several namespaces: titles carry them.
    assert!(dot.contains("label=\"pod shop/postgres-0\\nRunning\""));
    // A problem: red, with its code on the node; its message as a tooltip.
    let line = dot
        .lines()
        .find(|l| l.contains("\"PersistentVolumeClaim/shop/reports-cache\" ["))
        .unwrap();
    assert!(line.contains("error: StorageClassNotFound"), "{line}");
    assert!(line.contains("fillcolor=\"#f8d7da\""), "{line}");
    assert!(line.contains("tooltip="), "{line}");
    // A class known not to exist: dotted; claim → class edges dashed.
    let class = dot
        .lines()
        .find(|l| l.contains("\"StorageClass//fast-ssd\" ["))
        .unwrap();
    assert!(class.contains("style=\"filled,dotted\""), "{class}");
    assert!(dot.contains(
        "\"PersistentVolumeClaim/shop/reports-cache\" -> \"StorageClass//fast-ssd\" [style=dashed"
    ));
    let mermaid = draw(&r, &Format::Mermaid);
    assert!(mermaid.starts_with("flowchart LR\n"));
    assert!(mermaid.contains("-.-> sc_fast_ssd_"));
    assert!(mermaid.lines().any(|l| l.starts_with("  class ")
        && l.ends_with(" error")
        && l.contains("pvc_shop_reports_cache_")));
}

/// The demo's items in another order (reversed, then rotated) give the same bytes.
#[test]
fn pictures_do_not_depend_on_the_order_of_objects() {
    let r = demo_report();
    let mut doc: serde_json::Value = serde_saphyr::from_str(DEMO_YAML).unwrap();
    let items = doc["items"].as_array_mut().unwrap();
    items.reverse();
    let third = items.len() / 3;
    items.rotate_left(third);
    let shuffled = report(
        &snap_of("shuffled.json", &serde_json::to_string(&doc).unwrap()),
        &[],
        None,
    );
    for f in [Format::Dot, Format::Mermaid, Format::Svg] {
        let first = draw(&r, &f);
        assert_eq!(first, draw(&r, &f), "{f:?}: two renders differ");
        assert_eq!(
            first,
            draw(&shuffled, &f),
            "{f:?}: the order of objects shows"
        );
    }
}

/// A report whose object text holds everything the formats treat specially.
fn nasty_report() -> Report {
    let nasty = "db\"0\\x\n<b>&#1;|`end{}[]";
    let claim = ClaimNode {
        name: format!("claim-{nasty}"),
        namespace: "ns\"1".into(),
        phase: "Bound".into(),
        requested: None,
        capacity: Some("1Gi".into()),
        access_modes: vec!["ReadWriteOnce".into()],
        storage_class: Some(format!("class-{nasty}")),
        volume_mode: None,
        selected_node: None,
        created: None,
        used_by: Vec::new(),
        volume: Some(Box::new(PvNode {
            name: format!("pv-{nasty}"),
            phase: "Bound".into(),
            reclaim_policy: None,
            capacity: None,
            access_modes: Vec::new(),
            volume_mode: None,
            node_affinity: Vec::new(),
            claim_ref: None,
            storage_class: None,
            provisioned_by: None,
            created: None,
            backend: None,
            attachments: Vec::new(),
        })),
        class: Some(ClassNode {
            name: format!("class-{nasty}"),
            exists: None,
            unknown: Some("not in the dump: \"storageclasses\"".into()),
            provisioner: None,
            binding_mode: None,
            reclaim_policy: None,
            allow_expansion: false,
            is_default: false,
        }),
        usage: None,
    };
    let pod = PodNode {
        name: format!("pod-{nasty}"),
        namespace: "ns\"1".into(),
        node: Some(format!("node-{nasty}")),
        zone: Some(format!("zone-{nasty}")),
        phase: "Running".into(),
        owner: None,
        volumes: vec![VolumeNode {
            name: format!("vol-{nasty}"),
            type_: "persistentVolumeClaim".into(),
            detail: None,
            mounts: Vec::new(),
            claim: Some(claim),
        }],
    };
    Report {
        api_version: API_VERSION,
        kind: KIND,
        source: "file".into(),
        namespace: None,
        targets: Vec::new(),
        roots: vec![Root::Pod(pod)],
        diagnostics: vec![
            Diagnostic {
                severity: Severity::Error,
                code: "Bad\"Code".into(),
                object: ObjectRef::new("Pod", Some("ns\"1"), &format!("pod-{nasty}")),
                message: format!("it said \"no\"\nthen <{nasty}>"),
            },
            Diagnostic {
                severity: Severity::Warning,
                code: "Elsewhere".into(),
                object: ObjectRef::new("Node", None, "gone\"<x>"),
                message: "a \"quoted\"\nmessage".into(),
            },
        ],
        unknown: Vec::new(),
        summary: Summary::default(),
    }
}

/// The DOT of the nasty report, read back by layout-rs's DOT parser: every id comes back as
/// it was written (so no quote or backslash ended a string early), `&` as the entity Graphviz
/// reads.
#[test]
fn object_text_cannot_break_dot() {
    let dot = draw(&nasty_report(), &Format::Dot);
    let mut parser = layout::gv::DotParser::new(&dot);
    let graph = parser.process().unwrap_or_else(|e| panic!("{e}\n{dot}"));
    let mut ids = Vec::new();
    collect_ids(&graph, &mut ids);
    let nasty = "db\"0\\x\n<b>&#1;|`end{}[]";
    for want in [
        format!("Pod/ns\"1/pod-{nasty}"),
        format!("PersistentVolumeClaim/ns\"1/claim-{nasty}"),
        format!("PersistentVolume//pv-{nasty}"),
        format!("StorageClass//class-{nasty}"),
    ] {
        let want = want.replace('&', "&amp;");
        assert!(ids.contains(&want), "{want:?} not in {ids:?}");
    }
    // Labels hold no raw line break: each line closes every string it opens.
    for line in dot.lines() {
        assert!(unescaped_quotes(line).is_multiple_of(2), "{line}");
    }
    assert!(
        dot.contains("pod pod-db\\\"0\\\\x\\\\x0a<b>&amp;#1;|`end{}[]"),
        "{dot}"
    );
}

/// The `"` of a DOT line that are not escaped by a backslash.
fn unescaped_quotes(line: &str) -> usize {
    let mut n = 0;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '"' => n += 1,
            _ => {}
        }
    }
    n
}

fn collect_ids(g: &layout::gv::parser::ast::Graph, out: &mut Vec<String>) {
    use layout::gv::parser::ast::Stmt;
    for s in &g.list.list {
        match s {
            Stmt::Node(n) => out.push(n.id.name.clone()),
            Stmt::Edge(e) => {
                out.push(e.from.name.clone());
                out.extend(e.to.iter().map(|t| t.0.name.clone()));
            }
            Stmt::SubGraph(sg) => collect_ids(sg, out),
            Stmt::Attribute(_) => {}
        }
    }
}

/// Mermaid has no parser here: check what breaks it instead. Every label is one quoted
/// string with no `"` inside, no raw `<` but `<br/>`, and one statement per line.
#[test]
fn object_text_cannot_break_mermaid() {
    let m = draw(&nasty_report(), &Format::Mermaid);
    for line in m.lines().skip(1) {
        let t = line.trim_start();
        let ok_start = ["subgraph ", "end", "classDef ", "class "]
            .iter()
            .any(|p| t.starts_with(p))
            || t.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .is_some_and(|id| !id.is_empty());
        assert!(ok_start, "{line}");
        assert!(
            line.matches('"').count().is_multiple_of(2),
            "a quote inside a label: {line}"
        );
        // Angle brackets only in `<br/>`, arrows and a note's opening `>"`.
        let rest = line
            .replace("<br/>", "")
            .replace("-.->", "")
            .replace("-->", "")
            .replace(">\"", "\"");
        assert!(!rest.contains('<') && !rest.contains('>'), "{line}");
        assert!(!line.contains('`'), "{line}");
    }
    // Ids are letters, digits and `_` only.
    for line in m.lines().filter(|l| l.contains(" --> ")) {
        for id in line.trim().split(" --> ") {
            let id = id.split('|').next().unwrap();
            assert!(
                id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{id}"
            );
        }
    }
    assert!(
        m.contains("pod pod-db#quot;0\\x\\x0a#lt;b#gt;#amp;#35;1;#124;#96;end{}[]"),
        "{m}"
    );
    // The diagnostic about a node not drawn goes into the note, escaped too.
    assert!(m.contains("a #quot;quoted#quot;\\x0amessage"), "{m}");
}

/// `dot` itself reads what we write. Under CI (`CI` set) Graphviz must be installed
/// (tests/scripts/install-deps.sh installs it); elsewhere the test is skipped without it.
#[test]
fn graphviz_reads_the_dot() {
    let found = std::process::Command::new("dot").arg("-V").output().is_ok();
    if !found {
        assert!(
            std::env::var("CI").unwrap_or_default().is_empty(),
            "CI is set but Graphviz's `dot` is not on PATH (tests/scripts/install-deps.sh installs graphviz)"
        );
        eprintln!("skipped: Graphviz's `dot` is not on PATH");
        return;
    }
    for (what, dot) in [
        ("demo", draw(&demo_report(), &Format::Dot)),
        ("nasty", draw(&nasty_report(), &Format::Dot)),
    ] {
        let mut child = std::process::Command::new("dot")
            .arg("-Tsvg")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), dot.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "dot failed on the {what} picture: {err}\n{dot}"
        );
        assert!(
            err.trim().is_empty(),
            "dot warned on the {what} picture: {err}"
        );
        let svg = String::from_utf8(out.stdout).unwrap();
        let xml = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        };
        let doc = roxmltree::Document::parse_with_options(&svg, xml).unwrap();
        if what == "nasty" {
            // Graphviz drew the name as it is (control characters written out).
            let text: String = doc
                .descendants()
                .filter_map(|n| n.text())
                .collect::<Vec<_>>()
                .join("\n");
            assert!(text.contains("pod-db\"0\\x\\x0a<b>&#1;|`end{}[]"), "{text}");
        }
    }
}

fn svg_text(svg: &str) -> String {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_svg_is_xml_naming_every_pod_claim_and_volume() {
    let s = snap_of("demo.yaml", DEMO_YAML);
    let text = svg_text(&draw(&report(&s, &[], None), &Format::Svg));
    let names = s
        .pods
        .iter()
        .map(|p| p.metadata.name.clone())
        .chain(s.pvcs.iter().map(|c| c.metadata.name.clone()))
        .chain(s.pvs.iter().map(|v| v.metadata.name.clone()));
    let mut n = 0;
    for name in names {
        let name = name.unwrap();
        assert!(text.contains(&name), "{name} not in the SVG's text");
        n += 1;
    }
    assert!(n > 20, "the demo has its objects");
    let text = svg_text(&draw(&nasty_report(), &Format::Svg));
    assert!(text.contains("pod-db\"0\\x\\x0a<b>&#1;|`end{}[]"), "{text}");
}

#[test]
fn the_binary_offers_the_picture_formats() {
    let demo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/demo-cluster.yaml"
    );
    let run = |args: &[&str]| {
        let out = assert_cmd::Command::cargo_bin("kubectl-pvc_trace")
            .unwrap()
            .env_remove("KUBECONFIG")
            .env("HOME", "/nonexistent")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, out, _) = run(&["--from-file", demo, "--complete", "-A", "-o", "mermaid"]);
    assert_eq!(code, 0);
    assert_eq!(out, draw(&demo_report(), &Format::Mermaid));
    let (code, out, _) = run(&["--from-file", demo, "-A", "-o", "dot"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("digraph "));
    let (code, out, _) = run(&["--from-file", demo, "-A", "-o", "svg"]);
    assert_eq!(code, 0);
    svg_text(&out);
    let (code, _, err) = run(&["--from-file", demo, "-o", "png"]);
    assert_eq!(code, 2, "{err}");
    let (_, help, _) = run(&["--help"]);
    assert!(help.contains("dot, mermaid, svg"), "{help}");
}

/// A picture too large for layout-rs is refused with the ways to get it (exit 1, nothing on
/// stdout), not laid out for minutes; the same objects draw as DOT at once.
#[test]
fn svg_refuses_a_picture_too_large_to_lay_out() {
    let mut dump = String::new();
    for i in 0..70 {
        dump.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: big}}\n\
             spec:\n  nodeName: n1\n  containers: [{{name: c, image: x}}]\n  volumes:\n  - name: data\n    persistentVolumeClaim: {{claimName: c{i}}}\n\
             status: {{phase: Running}}\n\
             ---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: c{i}, namespace: big}}\n\
             spec: {{volumeName: v{i}, accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}\n\
             status: {{phase: Bound}}\n\
             ---\napiVersion: v1\nkind: PersistentVolume\nmetadata: {{name: v{i}}}\n\
             spec:\n  capacity: {{storage: 1Gi}}\n  accessModes: [ReadWriteOnce]\n  claimRef: {{namespace: big, name: c{i}}}\n  csi: {{driver: ebs.csi.aws.com, volumeHandle: vol-{i}}}\n\
             status: {{phase: Bound}}\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.yaml");
    std::fs::write(&file, dump).unwrap();
    let run = |format: &str| {
        assert_cmd::Command::cargo_bin("kubectl-pvc_trace")
            .unwrap()
            .env_remove("KUBECONFIG")
            .args(["--from-file", file.to_str().unwrap(), "-A", "-o", format])
            .output()
            .unwrap()
    };
    let out = run("svg");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty());
    assert!(err.contains("-o svg lays out at most 250 objects"), "{err}");
    assert!(err.contains("-o dot | dot -Tsvg"), "{err}");
    let out = run("dot");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("vol-69"));
}
