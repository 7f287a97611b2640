//! `-o svg`: the picture laid out and drawn by layout-rs (pure Rust: no Graphviz needed).
//!
//! layout-rs draws no clusters (it reads DOT subgraphs but flattens them), so the SVG is flat:
//! each pod and volume says its node and zone in its label instead. It draws boxes only, with
//! a line colour and a fill: severity is the fill, unknown objects have a grey line and
//! `(unknown)` in their label (it cannot dash a box), edges to classes and unknowns are dashed.
//! One font size throughout (layout-rs keeps its font classes in a hash map: one class keeps
//! the output deterministic).

use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::render::get_shape_size;
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;

use super::{Link, Node, Presence, UNKNOWN_GREY, colours, picture};
use crate::model::Report;
use stateful_core::error::{Error, Result};

const FONT: usize = 12;

fn lines(n: &Node, with_namespace: bool) -> Vec<String> {
    let mut lines = n.lines(with_namespace);
    let mut place = Vec::new();
    if let Some(h) = &n.host {
        place.push(format!("node {h}"));
    }
    if let Some(z) = &n.zone {
        place.push(format!("zone {z}"));
    }
    if !place.is_empty() {
        lines.insert(1.min(lines.len()), super::clean(&place.join(", ")));
    }
    match n.presence {
        Presence::Unknown => lines.push("(unknown)".into()),
        Presence::Missing => lines.push("(missing)".into()),
        Presence::Seen => {}
    }
    lines
}

/// The most objects `-o svg` lays out. layout-rs's layout time grows steeply with the graph
/// (measured on the generated dumps, debug build: 109 objects 1.9 s, 209 11 s, 409 53 s), so a
/// whole cluster would seem to hang; beyond this the command says how to get the picture.
pub const SVG_MAX_OBJECTS: usize = 250;

/// A whole report as an SVG picture; an error naming the alternatives when it has more than
/// [`SVG_MAX_OBJECTS`] objects.
pub fn render_svg(report: &Report) -> Result<String> {
    let pic = picture(report);
    if pic.nodes.len() > SVG_MAX_OBJECTS {
        return Err(Error::Other(format!(
            "-o svg lays out at most {SVG_MAX_OBJECTS} objects and this picture has {}: narrow it \
             (-n NAMESPACE, a target such as sts/NAME, -l SELECTOR), or draw it with Graphviz: \
             -o dot | dot -Tsvg > picture.svg",
            pic.nodes.len()
        )));
    }
    let dir = Orientation::LeftToRight;
    let mut vg = VisualGraph::new(dir);
    let mut handles = std::collections::BTreeMap::new();
    for n in pic.nodes.values() {
        let (fill, line) = colours(n.severity());
        let line = if n.presence == Presence::Unknown && n.severity().is_none() {
            UNKNOWN_GREY
        } else {
            line
        };
        let width = if n.severity().is_some() { 2 } else { 1 };
        let shape = ShapeKind::new_box(&lines(n, pic.with_namespace).join("\n"));
        let look = StyleAttr::new(
            Color::fast(line),
            width,
            Some(Color::fast(fill)),
            if n.shape == super::Shape::Pod { 8 } else { 0 },
            FONT,
        );
        // Records and boxes grow across the rank direction: size them as layout-rs's own
        // DOT reader does, in the flipped orientation.
        let size = get_shape_size(dir.flip(), &shape, FONT, false);
        handles.insert(
            n.id.as_str(),
            vg.add_node(Element::create(shape, look, dir.flip(), size)),
        );
    }
    for e in &pic.edges {
        let (Some(from), Some(to)) = (handles.get(e.from.as_str()), handles.get(e.to.as_str()))
        else {
            continue;
        };
        let (style, colour) = match e.link {
            Link::Uses => (LineStyleKind::Normal, "#333333"),
            Link::Class | Link::Unknown => (LineStyleKind::Dashed, UNKNOWN_GREY),
        };
        let look = StyleAttr::new(Color::fast(colour), 1, None, 0, FONT);
        let text = e.label.as_deref().map(super::clean).unwrap_or_default();
        let arrow = Arrow::new(
            LineEndKind::None,
            LineEndKind::Arrow,
            style,
            &text,
            &look,
            &None,
            &None,
        );
        vg.add_edge(arrow, *from, *to);
    }
    if vg.num_nodes() == 0 {
        return Ok("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<svg width=\"10\" height=\"10\" viewBox=\"0 0 10 10\" xmlns=\"http://www.w3.org/2000/svg\"></svg>\n".into());
    }
    let mut svg = SVGWriter::new();
    vg.do_it(false, false, false, &mut svg);
    let mut out = svg.finalize();
    out.push('\n');
    Ok(out)
}
