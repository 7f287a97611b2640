//! Pictures of the storage topology: `-o dot` (Graphviz), `-o mermaid` (a `flowchart` that
//! GitHub and GitLab render in markdown) and `-o svg` (laid out here by layout-rs, no Graphviz
//! needed). Rendered from the whole report, like the tree.
//!
//! One [`Picture`] is built from the report, then written by each format:
//! - nodes: pods → claims → volumes (PVs) → backends, and StorageClasses beside them (an edge
//!   claim → class, drawn dashed); pods sit in a cluster per Kubernetes node inside a cluster
//!   per zone, and PVs pinned to a node or a zone sit in that node's or zone's cluster;
//! - problems: a node's diagnostics colour it by the worst severity (error red, warning orange,
//!   info blue) and their codes are written on it; diagnostics about objects not drawn, and what
//!   could not be seen (the report's `unknown`), go in two notes;
//! - objects the data does not show (`Unknown` phases, classes not in the data) are drawn
//!   dashed, objects known to be missing dotted;
//! - ids are derived from kind, namespace and name, everything is sorted: the same report gives
//!   the same bytes; object text is escaped for each format (control characters first, as the
//!   terminal formats do, so a label never holds a raw line break).

mod dot;
mod mermaid;
mod svg;

pub use dot::render_dot;
pub use mermaid::render_mermaid;
pub use svg::render_svg;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::*;

use super::{escape_terminal, short_modes};

/// What a node stands for (and so how it is drawn).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Shape {
    Pod,
    Claim,
    Volume,
    Backend,
    Class,
    /// A note: problems about objects not drawn, or what could not be seen.
    Note,
}

impl Shape {
    /// The word a node's title starts with.
    fn word(self) -> &'static str {
        match self {
            Shape::Pod => "pod",
            Shape::Claim => "pvc",
            Shape::Volume => "pv",
            Shape::Backend => "backend",
            Shape::Class => "storageclass",
            Shape::Note => "",
        }
    }
}

/// What the data says about an object's existence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Presence {
    Seen,
    /// Known not to exist (a missing claim or volume, a class known absent).
    Missing,
    /// Not in the data: it may or may not exist.
    Unknown,
}

/// One box of the picture.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// `Kind/namespace/name` (or `Kind//name`): stable, and the key nodes are sorted by.
    pub id: String,
    pub shape: Shape,
    pub namespace: Option<String>,
    pub name: String,
    /// Lines under the title (phase, capacity, …).
    pub details: Vec<String>,
    pub presence: Presence,
    /// (severity, code, message), worst first.
    pub problems: Vec<(Severity, String, String)>,
    pub zone: Option<String>,
    /// The Kubernetes node it runs on or is pinned to.
    pub host: Option<String>,
}

impl Node {
    /// The worst severity of its problems.
    pub fn severity(&self) -> Option<Severity> {
        self.problems.iter().map(|p| p.0).max()
    }

    /// Its text, one entry a line: title, details, then each problem's code; object text
    /// already made safe of control characters (each format escapes the rest).
    pub fn lines(&self, with_namespace: bool) -> Vec<String> {
        let mut out = Vec::new();
        if self.shape != Shape::Note {
            let ns = match (&self.namespace, with_namespace) {
                (Some(ns), true) => format!("{ns}/"),
                _ => String::new(),
            };
            out.push(clean(&format!("{} {ns}{}", self.shape.word(), self.name)));
        }
        out.extend(self.details.iter().map(|d| clean(d)));
        if self.shape == Shape::Note {
            return out; // its details name the problems already
        }
        let mut codes = BTreeSet::new();
        for (sev, code, _) in &self.problems {
            if codes.insert((std::cmp::Reverse(*sev), code)) {
                out.push(clean(&format!("{sev}: {code}")));
            }
        }
        out
    }

    /// Its problems' messages, one a line (tooltips).
    pub fn messages(&self) -> Vec<String> {
        self.problems
            .iter()
            .map(|(s, c, m)| clean(&format!("{s} {c}: {m}")))
            .collect()
    }
}

/// How an edge is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Link {
    /// Uses / is bound to / is stored on.
    Uses,
    /// A claim's or volume's StorageClass: drawn dashed, beside the chain.
    Class,
    /// Towards an object the data does not show.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Edge {
    pub from: String,
    pub to: String,
    pub link: Link,
    /// The pod volume's name on a pod → claim edge.
    pub label: Option<String>,
}

/// The whole picture: sorted nodes and edges, ready for any format.
#[derive(Debug, Default)]
pub(crate) struct Picture {
    pub nodes: BTreeMap<String, Node>,
    pub edges: BTreeSet<Edge>,
    /// Pod and claim titles carry their namespace (the report spans several).
    pub with_namespace: bool,
}

/// Nodes by place: zone → Kubernetes node → nodes (`None`: no zone, no node).
pub(crate) type Places<'a> = BTreeMap<Option<&'a str>, BTreeMap<Option<&'a str>, Vec<&'a Node>>>;

impl Picture {
    /// The nodes by zone and Kubernetes node, each list sorted by id.
    pub fn places(&self) -> Places<'_> {
        let mut out: Places<'_> = BTreeMap::new();
        for n in self.nodes.values() {
            out.entry(n.zone.as_deref())
                .or_default()
                .entry(n.host.as_deref())
                .or_default()
                .push(n);
        }
        out
    }

    fn add(&mut self, node: Node) -> String {
        let id = node.id.clone();
        match self.nodes.get_mut(&id) {
            Some(old) => {
                if old.presence != Presence::Seen && node.presence == Presence::Seen {
                    old.presence = Presence::Seen;
                    old.details = node.details;
                }
                if old.zone.is_none() {
                    old.zone = node.zone;
                }
                if old.host.is_none() {
                    old.host = node.host;
                }
            }
            None => {
                self.nodes.insert(id.clone(), node);
            }
        }
        id
    }

    fn edge(&mut self, from: &str, to: &str, link: Link, label: Option<&str>) {
        let link = match self.nodes.get(to) {
            Some(n) if n.presence == Presence::Unknown && link == Link::Uses => Link::Unknown,
            _ => link,
        };
        self.edges.insert(Edge {
            from: from.to_string(),
            to: to.to_string(),
            link,
            label: label.map(str::to_string),
        });
    }
}

/// Object text without control characters (a newline becomes the two characters `\n`).
fn clean(s: &str) -> String {
    escape_terminal(s, true).into_owned()
}

/// The id of an object: `Kind/namespace/name`.
fn key(kind: &str, namespace: Option<&str>, name: &str) -> String {
    format!("{kind}/{}/{name}", namespace.unwrap_or(""))
}

fn presence_of_phase(phase: &str) -> Presence {
    if phase == "Missing" {
        Presence::Missing
    } else if phase.starts_with("Unknown") {
        Presence::Unknown
    } else {
        Presence::Seen
    }
}

/// Builds a [`Picture`] from a report.
#[derive(Default)]
struct Builder {
    pic: Picture,
    /// Kubernetes node → zone, from pods and node views.
    host_zone: BTreeMap<String, String>,
    /// VolumeAttachment name → the id of the PV drawn with it.
    attachments: HashMap<String, String>,
    /// Local volumes pinned to a node (node views).
    pinned: Vec<(String, String)>,
    namespaces: BTreeSet<String>,
}

impl Builder {
    fn node(&self, shape: Shape, kind: &str, namespace: Option<&str>, name: &str) -> Node {
        Node {
            id: key(kind, namespace, name),
            shape,
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
            details: Vec::new(),
            presence: Presence::Seen,
            problems: Vec::new(),
            zone: None,
            host: None,
        }
    }

    fn pod(&mut self, p: &PodNode) -> String {
        self.namespaces.insert(p.namespace.clone());
        if let (Some(h), Some(z)) = (&p.node, &p.zone) {
            self.host_zone.insert(h.clone(), z.clone());
        }
        let mut n = self.node(Shape::Pod, "Pod", Some(&p.namespace), &p.name);
        n.details.push(p.phase.clone());
        n.host.clone_from(&p.node);
        n.zone.clone_from(&p.zone);
        let id = self.pic.add(n);
        for v in &p.volumes {
            if let Some(c) = &v.claim {
                let cid = self.claim(c);
                self.pic.edge(&id, &cid, Link::Uses, Some(&v.name));
            }
        }
        id
    }

    fn pod_ref(&mut self, p: &PodRefNode) -> String {
        self.namespaces.insert(p.namespace.clone());
        let mut n = self.node(Shape::Pod, "Pod", Some(&p.namespace), &p.name);
        n.details.push(p.phase.clone());
        n.host.clone_from(&p.node);
        self.pic.add(n)
    }

    fn claim(&mut self, c: &ClaimNode) -> String {
        self.namespaces.insert(c.namespace.clone());
        let mut n = self.node(
            Shape::Claim,
            "PersistentVolumeClaim",
            Some(&c.namespace),
            &c.name,
        );
        n.presence = presence_of_phase(&c.phase);
        let mut line = c.phase.clone();
        if let Some(cap) = c.capacity.as_ref().or(c.requested.as_ref()) {
            line.push_str(&format!(" {cap}"));
        }
        if !c.access_modes.is_empty() {
            line.push_str(&format!(" {}", short_modes(&c.access_modes)));
        }
        n.details.push(line);
        let id = self.pic.add(n);
        if let Some(cl) = &c.class {
            let cid = self.class(cl);
            self.pic.edge(&id, &cid, Link::Class, None);
        }
        if let Some(pv) = &c.volume {
            let vid = self.pv(pv);
            self.pic.edge(&id, &vid, Link::Uses, None);
        }
        id
    }

    fn missing_claim(&mut self, namespace: &str, name: &str) -> String {
        self.namespaces.insert(namespace.to_string());
        let mut n = self.node(Shape::Claim, "PersistentVolumeClaim", Some(namespace), name);
        n.presence = Presence::Missing;
        n.details.push("Missing".into());
        self.pic.add(n)
    }

    fn pv(&mut self, pv: &PvNode) -> String {
        let mut n = self.node(Shape::Volume, "PersistentVolume", None, &pv.name);
        n.presence = presence_of_phase(&pv.phase);
        let mut line = pv.phase.clone();
        if let Some(cap) = &pv.capacity {
            line.push_str(&format!(" {cap}"));
        }
        if let Some(r) = &pv.reclaim_policy {
            line.push_str(&format!(" {r}"));
        }
        n.details.push(line);
        let mut attached: Vec<&AttachmentNode> = pv.attachments.iter().collect();
        attached.sort_by(|a, b| (&a.node, &a.name).cmp(&(&b.node, &b.name)));
        for a in attached {
            let state = if a.attached {
                "attached"
            } else {
                "not attached"
            };
            n.details.push(format!("{state} to {}", a.node));
            self.attachments.insert(a.name.clone(), n.id.clone());
        }
        if let Some(b) = &pv.backend {
            n.zone.clone_from(&b.zone);
            n.host = b.field("node").map(str::to_string);
        }
        let id = self.pic.add(n);
        if let Some(b) = &pv.backend {
            let mut bn = self.node(Shape::Backend, "Backend", None, &b.summary);
            bn.details.push(match &b.driver {
                Some(d) => format!("{} ({d})", b.kind),
                None => b.kind.clone(),
            });
            bn.zone.clone_from(&b.zone);
            bn.host = b.field("node").map(str::to_string);
            let bid = self.pic.add(bn);
            self.pic.edge(&id, &bid, Link::Uses, None);
        }
        id
    }

    fn class(&mut self, cl: &ClassNode) -> String {
        let mut n = self.node(Shape::Class, "StorageClass", None, &cl.name);
        n.presence = match cl.exists {
            Some(true) => Presence::Seen,
            Some(false) => Presence::Missing,
            None => Presence::Unknown,
        };
        match (cl.exists, &cl.unknown) {
            (Some(true), _) => n.details.push(format!(
                "{}{}",
                cl.provisioner.as_deref().unwrap_or("-"),
                if cl.is_default { " (default)" } else { "" }
            )),
            (_, Some(why)) => n.details.push(format!("unknown ({why})")),
            _ => n.details.push("not found".into()),
        }
        self.pic.add(n)
    }

    fn volume_root(&mut self, rv: &ReverseVolume) {
        let vid = self.pv(&rv.volume);
        if let Some(cl) = &rv.class {
            let cid = self.class(cl);
            self.pic.edge(&vid, &cid, Link::Class, None);
        }
        let claim = rv.claim.as_ref().map(|c| {
            let cid = self.claim(c);
            self.pic.edge(&cid, &vid, Link::Uses, None);
            cid
        });
        for p in &rv.pods {
            let pid = self.pod_ref(p);
            self.pic
                .edge(&pid, claim.as_deref().unwrap_or(&vid), Link::Uses, None);
        }
    }

    fn workload_root(&mut self, w: &WorkloadNode) {
        for p in &w.pods {
            self.pod(p);
        }
        for e in &w.expected_claims {
            match &e.claim {
                Some(c) => self.claim(c),
                None if !e.present => self.missing_claim(&w.namespace, &e.name),
                None => continue,
            };
        }
        for c in &w.leftover_claims {
            self.claim(c);
        }
    }

    fn class_root(&mut self, v: &ClassView) {
        let cid = self.class(&v.class);
        for c in &v.claims {
            self.claim(c);
        }
        for pv in &v.unclaimed_volumes {
            let vid = self.pv(pv);
            self.pic.edge(&vid, &cid, Link::Class, None);
        }
    }

    fn node_root(&mut self, nv: &NodeView) {
        if let Some(z) = &nv.zone {
            self.host_zone.insert(nv.name.clone(), z.clone());
        }
        for p in &nv.pods {
            self.pod(p);
        }
        for pv in &nv.pinned_volumes {
            self.pinned.push((pv.clone(), nv.name.clone()));
        }
    }

    /// Each diagnostic on the node it is about, or in a note when that object is not drawn;
    /// the unknowns in another note; zones of pods and volumes from their nodes.
    fn finish(mut self, report: &Report) -> Picture {
        for (pv, host) in std::mem::take(&mut self.pinned) {
            if let Some(n) = self.pic.nodes.get_mut(&key("PersistentVolume", None, &pv)) {
                n.host.get_or_insert(host);
            }
        }
        for n in self.pic.nodes.values_mut() {
            if n.zone.is_none()
                && let Some(h) = &n.host
            {
                n.zone = self.host_zone.get(h).cloned();
            }
        }
        let mut also = Vec::new();
        for d in &report.diagnostics {
            let o = &d.object;
            let id = match o.kind.as_str() {
                "VolumeAttachment" => self.attachments.get(&o.name).cloned(),
                kind => Some(key(kind, o.namespace.as_deref(), &o.name)),
            };
            match id.and_then(|id| self.pic.nodes.get_mut(&id)) {
                Some(n) => n
                    .problems
                    .push((d.severity, d.code.clone(), d.message.clone())),
                None if d.severity >= Severity::Warning => also.push(d),
                None => {}
            }
        }
        for n in self.pic.nodes.values_mut() {
            n.problems
                .sort_by(|a, b| b.0.cmp(&a.0).then_with(|| (&a.1, &a.2).cmp(&(&b.1, &b.2))));
            n.problems.dedup();
        }
        if !also.is_empty() {
            let mut n = self.node(Shape::Note, "Note", None, "problems");
            n.details.push("Problems about objects not drawn:".into());
            for d in also {
                n.details.push(format!(
                    "{} {} {}: {}",
                    d.severity, d.code, d.object, d.message
                ));
                n.problems
                    .push((d.severity, d.code.clone(), d.message.clone()));
            }
            n.details[1..].sort();
            n.problems.sort();
            n.problems.reverse();
            self.pic.add(n);
        }
        if !report.unknown.is_empty() {
            let mut n = self.node(Shape::Note, "Note", None, "unknown");
            n.presence = Presence::Unknown;
            n.details.push("Not seen (unknown):".into());
            let mut gaps: Vec<String> = report.unknown.iter().map(ToString::to_string).collect();
            gaps.sort();
            gaps.dedup();
            n.details.extend(gaps);
            self.pic.add(n);
        }
        self.pic.with_namespace = self.namespaces.len() > 1;
        self.pic
    }
}

/// The picture of a whole report.
pub(crate) fn picture(report: &Report) -> Picture {
    let mut b = Builder::default();
    for root in &report.roots {
        match root {
            Root::Pod(p) => {
                b.pod(p);
            }
            Root::Claim(c) => {
                b.claim(c);
            }
            Root::Volume(rv) => b.volume_root(rv),
            Root::Workload(w) => b.workload_root(w),
            Root::StorageClass(v) => b.class_root(v),
            Root::Node(nv) => b.node_root(nv),
        }
    }
    b.finish(report)
}

/// The fill and line colours of a severity (none: white and black).
pub(crate) fn colours(severity: Option<Severity>) -> (&'static str, &'static str) {
    match severity {
        Some(Severity::Error) => ("#f8d7da", "#c0392b"),
        Some(Severity::Warning) => ("#fff3cd", "#e67e22"),
        Some(Severity::Info) => ("#d6eaf8", "#2e86c1"),
        None => ("#ffffff", "#333333"),
    }
}

/// The line colour of an unknown node or edge.
pub(crate) const UNKNOWN_GREY: &str = "#7f8c8d";
