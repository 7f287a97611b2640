//! `-o dot`: the picture as a Graphviz digraph (`dot -Tsvg`), zones and Kubernetes nodes as
//! clusters. Every string is a double-quoted DOT string (ids too): `\` and `"` are escaped,
//! and `&` is written `&amp;` (Graphviz reads `&name;` and `&#N;` in strings as entities, and
//! would copy `&#1;` into its SVG, which no XML reader accepts); labels are plain text (no
//! HTML-like or record labels, so `<`, `>`, `{`, `|` mean nothing).

use super::{Link, Node, Picture, Places, Presence, Shape, UNKNOWN_GREY, colours, picture};
use crate::model::Report;

/// A DOT double-quoted string: `"…"` with `\` and `"` escaped, `&` as `&amp;`, and line
/// breaks as `\n` (object text has none left; this keeps the string one line whatever it is
/// given).
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '&' => out.push_str("&amp;"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A label: each line quoted, joined by DOT's centred line break `\n`.
fn label(lines: &[String]) -> String {
    let joined: Vec<String> = lines
        .iter()
        .map(|l| {
            let q = quote(l);
            q[1..q.len() - 1].to_string()
        })
        .collect();
    format!("\"{}\"", joined.join("\\n"))
}

fn node_line(out: &mut String, indent: &str, n: &Node, with_namespace: bool) {
    let (fill, line) = colours(n.severity());
    let shape = match n.shape {
        Shape::Pod => "box",
        Shape::Claim => "note",
        Shape::Volume => "folder",
        Shape::Backend => "cylinder",
        Shape::Class => "hexagon",
        Shape::Note => "note",
    };
    let mut style = vec!["filled"];
    if n.shape == Shape::Pod {
        style.push("rounded");
    }
    let colour = match n.presence {
        Presence::Seen => line,
        Presence::Missing => {
            style.push("dotted");
            line
        }
        Presence::Unknown => {
            style.push("dashed");
            if n.severity().is_none() {
                UNKNOWN_GREY
            } else {
                line
            }
        }
    };
    let mut attrs = vec![
        format!("label={}", label(&n.lines(with_namespace))),
        format!("shape={shape}"),
        format!("style={}", quote(&style.join(","))),
        format!("fillcolor={}", quote(fill)),
        format!("color={}", quote(colour)),
    ];
    if n.severity().is_some() {
        attrs.push("penwidth=2".into());
    }
    let messages = n.messages();
    if !messages.is_empty() {
        attrs.push(format!("tooltip={}", label(&messages)));
    }
    out.push_str(&format!(
        "{indent}{} [{}];\n",
        quote(&n.id),
        attrs.join(", ")
    ));
}

fn clusters(out: &mut String, pic: &Picture, places: &Places<'_>) {
    for (zone, hosts) in places {
        let indent = if zone.is_some() { "    " } else { "  " };
        if let Some(z) = zone {
            out.push_str(&format!(
                "  subgraph {} {{\n    label={}; style=\"rounded,filled\"; fillcolor=\"#f4f6f7\"; color=\"#aab7b8\";\n",
                quote(&format!("cluster_zone/{z}")),
                quote(&super::clean(&format!("zone {z}")))
            ));
        }
        for (host, nodes) in hosts {
            match host {
                Some(h) => {
                    out.push_str(&format!(
                        "{indent}subgraph {} {{\n{indent}  label={}; style=\"rounded,filled\"; fillcolor=\"#fdfefe\"; color=\"#aab7b8\";\n",
                        quote(&format!("cluster_node/{}/{h}", zone.unwrap_or(""))),
                        quote(&super::clean(&format!("node {h}")))
                    ));
                    for n in nodes {
                        node_line(out, &format!("{indent}  "), n, pic.with_namespace);
                    }
                    out.push_str(&format!("{indent}}}\n"));
                }
                None => {
                    for n in nodes {
                        node_line(out, indent, n, pic.with_namespace);
                    }
                }
            }
        }
        if zone.is_some() {
            out.push_str("  }\n");
        }
    }
}

/// A whole report as a Graphviz digraph.
pub fn render_dot(report: &Report) -> String {
    let pic = picture(report);
    let mut out = String::from("digraph \"pvc-trace\" {\n");
    out.push_str(
        "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=11, newrank=true];\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n",
    );
    clusters(&mut out, &pic, &pic.places());
    for e in &pic.edges {
        let mut attrs = Vec::new();
        match e.link {
            Link::Uses => {}
            Link::Class => attrs.extend([
                "style=dashed".to_string(),
                format!("color={}", quote(UNKNOWN_GREY)),
                "arrowhead=empty".into(),
            ]),
            Link::Unknown => attrs.extend([
                "style=dashed".to_string(),
                format!("color={}", quote(UNKNOWN_GREY)),
            ]),
        }
        if let Some(l) = &e.label {
            attrs.push(format!("label={}", quote(&super::clean(l))));
        }
        let attrs = if attrs.is_empty() {
            String::new()
        } else {
            format!(" [{}]", attrs.join(", "))
        };
        out.push_str(&format!(
            "  {} -> {}{attrs};\n",
            quote(&e.from),
            quote(&e.to)
        ));
    }
    out.push_str("}\n");
    out
}
