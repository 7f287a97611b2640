//! `-o mermaid`: the picture as a Mermaid `flowchart LR` (GitHub and GitLab render it in a
//! ```` ```mermaid ```` block), zones and Kubernetes nodes as subgraphs.
//!
//! Mermaid ids are letters, digits and `_`: each is the object's kind, its namespace and name
//! with every other character as `_`, and a hash of the exact id (so `a.b` and `a-b` differ).
//! Labels are quoted, with `"`, `#`, `&`, `<`, `>`, `` ` `` and `|` written as Mermaid's
//! entity codes (`#quot;`, `#35;`…); lines are joined with `<br/>`.

use super::{Link, Node, Picture, Presence, Shape, colours, picture};
use crate::model::{Report, Severity};

/// A Mermaid id: `prefix_readable_hash`, the readable part with `_` for every run of other
/// characters than ASCII letters and digits (cut at 48), the hash of the exact `key`.
pub(crate) fn mermaid_id(prefix: &str, readable: &str, key: &str) -> String {
    let mut out = String::from(prefix);
    out.push('_');
    let mut last_us = true;
    for c in readable.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
            last_us = false;
        } else if !last_us {
            out.push('_');
            last_us = true;
        }
        if out.len() > 48 {
            break;
        }
    }
    if !last_us {
        out.push('_');
    }
    out.push_str(&format!("{:08x}", fnv1a(key)));
    out
}

/// FNV-1a, 32 bits: stable across runs and platforms (std's hasher is not).
fn fnv1a(s: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Text inside a quoted Mermaid label.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '&' => out.push_str("#amp;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '`' => out.push_str("#96;"),
            '|' => out.push_str("#124;"),
            '\n' => out.push_str("<br/>"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

fn label(lines: &[String]) -> String {
    let lines: Vec<String> = lines.iter().map(|l| escape(l)).collect();
    format!("\"{}\"", lines.join("<br/>"))
}

fn node_id(n: &Node) -> String {
    let prefix = match n.shape {
        Shape::Pod => "pod",
        Shape::Claim => "pvc",
        Shape::Volume => "pv",
        Shape::Backend => "be",
        Shape::Class => "sc",
        Shape::Note => "note",
    };
    let readable = match &n.namespace {
        Some(ns) => format!("{ns}/{}", n.name),
        None => n.name.clone(),
    };
    mermaid_id(prefix, &readable, &n.id)
}

fn node_line(out: &mut String, indent: &str, n: &Node, pic: &Picture) {
    let l = label(&n.lines(pic.with_namespace));
    let shape = match n.shape {
        Shape::Pod => format!("({l})"),
        Shape::Claim => format!("[{l}]"),
        Shape::Volume => format!("[[{l}]]"),
        Shape::Backend => format!("[({l})]"),
        Shape::Class => format!("{{{{{l}}}}}"),
        Shape::Note => format!(">{l}]"),
    };
    out.push_str(&format!("{indent}{}{shape}\n", node_id(n)));
}

/// A whole report as a Mermaid flowchart.
pub fn render_mermaid(report: &Report) -> String {
    let pic = picture(report);
    let mut out = String::from("flowchart LR\n");
    for (zone, hosts) in pic.places() {
        let indent = if zone.is_some() { "    " } else { "  " };
        if let Some(z) = zone {
            out.push_str(&format!(
                "  subgraph {}[{}]\n",
                mermaid_id("zone", z, z),
                label(&[super::clean(&format!("zone {z}"))])
            ));
        }
        for (host, nodes) in hosts {
            match host {
                Some(h) => {
                    out.push_str(&format!(
                        "{indent}subgraph {}[{}]\n",
                        mermaid_id("node", h, &format!("{}/{h}", zone.unwrap_or(""))),
                        label(&[super::clean(&format!("node {h}"))])
                    ));
                    for n in nodes {
                        node_line(&mut out, &format!("{indent}  "), n, &pic);
                    }
                    out.push_str(&format!("{indent}end\n"));
                }
                None => {
                    for n in nodes {
                        node_line(&mut out, indent, n, &pic);
                    }
                }
            }
        }
        if zone.is_some() {
            out.push_str("  end\n");
        }
    }
    for e in &pic.edges {
        let (Some(from), Some(to)) = (pic.nodes.get(&e.from), pic.nodes.get(&e.to)) else {
            continue;
        };
        let arrow = match e.link {
            Link::Uses => "-->",
            Link::Class | Link::Unknown => "-.->",
        };
        let text = match &e.label {
            Some(l) => format!("|{}|", label(&[super::clean(l)])),
            None => String::new(),
        };
        out.push_str(&format!(
            "  {} {arrow}{text} {}\n",
            node_id(from),
            node_id(to)
        ));
    }
    classes(&mut out, &pic);
    out
}

/// The class definitions and which nodes have them: severity colours, dashed unknowns,
/// dotted missing objects.
fn classes(out: &mut String, pic: &Picture) {
    for (name, sev) in [
        ("error", Severity::Error),
        ("warning", Severity::Warning),
        ("info", Severity::Info),
    ] {
        let (fill, line) = colours(Some(sev));
        out.push_str(&format!(
            "  classDef {name} fill:{fill},stroke:{line},stroke-width:2px,color:#000\n"
        ));
    }
    out.push_str(&format!(
        "  classDef unknown stroke:{},stroke-dasharray:5 5\n  classDef missing stroke-dasharray:2 2\n",
        super::UNKNOWN_GREY
    ));
    let mut members: [(&str, Vec<String>); 5] = [
        ("error", Vec::new()),
        ("warning", Vec::new()),
        ("info", Vec::new()),
        ("unknown", Vec::new()),
        ("missing", Vec::new()),
    ];
    for n in pic.nodes.values() {
        let id = node_id(n);
        match n.severity() {
            Some(Severity::Error) => members[0].1.push(id.clone()),
            Some(Severity::Warning) => members[1].1.push(id.clone()),
            Some(Severity::Info) => members[2].1.push(id.clone()),
            None => {}
        }
        match n.presence {
            Presence::Unknown => members[3].1.push(id),
            Presence::Missing => members[4].1.push(id),
            Presence::Seen => {}
        }
    }
    for (name, ids) in members {
        if !ids.is_empty() {
            out.push_str(&format!("  class {} {name}\n", ids.join(",")));
        }
    }
}
