//! `-o tree` (the default for one target): each root drawn with its chain down to the backend,
//! every object's problems right under it, and the problems about objects not drawn at the end.
//! Rendered from the whole report.

use std::collections::{HashMap, HashSet};

use crate::graph::root_objects;
use crate::model::*;

use stateful_core::output::term::{Tone, paint, tone_of};

use super::{escape_terminal, problems_by_object, short_modes};

/// The text drawn so far, and the report's diagnostics by object.
struct Tree<'a> {
    out: String,
    diags: HashMap<&'a ObjectRef, Vec<&'a Diagnostic>>,
}

impl<'a> Tree<'a> {
    fn line(&mut self, prefix: &str, last: bool, text: &str) -> String {
        let (branch, cont) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        self.out.push_str(prefix);
        self.out.push_str(branch);
        self.out.push_str(text);
        self.out.push('\n');
        format!("{prefix}{cont}")
    }

    fn problems(&mut self, prefix: &str, obj: &ObjectRef) {
        let ds: Vec<&Diagnostic> = self.diags.get(obj).cloned().unwrap_or_default();
        for d in ds {
            let mark = match d.severity {
                Severity::Error => "✗",
                Severity::Warning => "!",
                Severity::Info => "i",
            };
            self.out.push_str(&format!(
                "{prefix}{mark} {} {}: {}\n",
                d.severity, d.code, d.message
            ));
        }
    }

    fn pod(&mut self, prefix: &str, last: bool, p: &PodNode, root: bool) {
        let mut text = format!("pod/{} -n {} [{}]", p.name, p.namespace, p.phase);
        if let Some(n) = &p.node {
            text.push_str(&format!(" on node {n}"));
        }
        if let Some(z) = &p.zone {
            text.push_str(&format!(" (zone {z})"));
        }
        if let Some(o) = &p.owner {
            text.push_str(&format!(" owned by {}/{}", o.kind.to_lowercase(), o.name));
        }
        let child = if root {
            self.out.push_str(&text);
            self.out.push('\n');
            prefix.to_string()
        } else {
            self.line(prefix, last, &text)
        };
        self.problems(&child, &ObjectRef::new("Pod", Some(&p.namespace), &p.name));
        let n = p.volumes.len();
        for (i, v) in p.volumes.iter().enumerate() {
            let mounts = if v.mounts.is_empty() {
                "not mounted".to_string()
            } else {
                v.mounts
                    .iter()
                    .map(|m| {
                        format!(
                            "{}{} ({}{})",
                            m.path,
                            m.sub_path
                                .as_ref()
                                .map(|s| format!(" subPath {s}"))
                                .unwrap_or_default(),
                            m.container,
                            if m.read_only { ", ro" } else { "" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut text = format!("volume {} [{}] → {mounts}", v.name, v.type_);
            if v.claim.is_none()
                && let Some(d) = &v.detail
            {
                text.push_str(&format!(": {d}"));
            }
            let vp = self.line(&child, i + 1 == n, &text);
            if let Some(c) = &v.claim {
                self.claim(&vp, true, c);
            }
        }
    }

    fn claim(&mut self, prefix: &str, last: bool, c: &ClaimNode) {
        let mut text = format!("pvc/{} [{}]", c.name, c.phase);
        match (&c.requested, &c.capacity) {
            (Some(r), Some(cap)) if r != cap => text.push_str(&format!(" {cap} (requested {r})")),
            (_, Some(cap)) => text.push_str(&format!(" {cap}")),
            (Some(r), None) => text.push_str(&format!(" requested {r}")),
            _ => {}
        }
        if !c.access_modes.is_empty() {
            text.push_str(&format!(" {}", short_modes(&c.access_modes)));
        }
        if let Some(vm) = &c.volume_mode
            && vm != "Filesystem"
        {
            text.push_str(&format!(" {vm}"));
        }
        if let Some(n) = &c.selected_node {
            text.push_str(&format!(" selected-node {n}"));
        }
        if !c.used_by.is_empty() {
            text.push_str(&format!(
                " used by {}",
                c.used_by
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        let cp = self.line(prefix, last, &text);
        if let Some(u) = &c.usage {
            self.out
                .push_str(&format!("{cp}usage: {}\n", usage_text(u)));
        }
        self.problems(
            &cp,
            &ObjectRef::new("PersistentVolumeClaim", Some(&c.namespace), &c.name),
        );
        let has_pv = c.volume.is_some();
        if let Some(cl) = &c.class {
            self.class(&cp, !has_pv, cl);
        } else if c.phase != "Missing" && !c.phase.starts_with("Unknown") {
            let text = if c.storage_class.is_some() {
                "storageclass: none (\"\": static binding)"
            } else {
                "storageclass: none named, and no default class in the data"
            };
            self.line(&cp, !has_pv, text);
        }
        if let Some(pv) = &c.volume {
            self.pv(&cp, true, pv);
        }
    }

    fn class(&mut self, prefix: &str, last: bool, cl: &ClassNode) {
        let text = if cl.exists == Some(true) {
            format!(
                "storageclass/{} {} binding {} reclaim {} expansion {}{}",
                cl.name,
                cl.provisioner.as_deref().unwrap_or("-"),
                cl.binding_mode.as_deref().unwrap_or("-"),
                cl.reclaim_policy.as_deref().unwrap_or("-"),
                if cl.allow_expansion { "yes" } else { "no" },
                if cl.is_default { " (default)" } else { "" }
            )
        } else {
            format!(
                "storageclass/{}{}",
                cl.name,
                absent_tag(cl.unknown.as_deref())
            )
        };
        let p = self.line(prefix, last, &text);
        self.problems(&p, &ObjectRef::new("StorageClass", None, &cl.name));
    }

    fn pv(&mut self, prefix: &str, last: bool, pv: &PvNode) {
        self.pv_with(prefix, last, pv, false, Vec::new(), &[]);
    }

    /// A PV line and its details; `root` draws it as a tree root; `extra` lines go first.
    fn pv_with(
        &mut self,
        prefix: &str,
        last: bool,
        pv: &PvNode,
        root: bool,
        extra: Vec<String>,
        also: &[ObjectRef],
    ) {
        let mut text = format!("pv/{} [{}]", pv.name, pv.phase);
        if let Some(c) = &pv.capacity {
            text.push_str(&format!(" {c}"));
        }
        if !pv.access_modes.is_empty() {
            text.push_str(&format!(" {}", short_modes(&pv.access_modes)));
        }
        if let Some(r) = &pv.reclaim_policy {
            text.push_str(&format!(" reclaim {r}"));
        }
        let pp = if root {
            self.out.push_str(&text);
            self.out.push('\n');
            prefix.to_string()
        } else {
            self.line(prefix, last, &text)
        };
        self.problems(&pp, &ObjectRef::new("PersistentVolume", None, &pv.name));
        for o in also {
            self.problems(&pp, o);
        }
        let mut items: Vec<String> = extra;
        if let Some(cr) = &pv.claim_ref {
            items.push(format!(
                "claimRef {}/{}",
                cr.namespace.as_deref().unwrap_or("-"),
                cr.name
            ));
        }
        for t in &pv.node_affinity {
            items.push(format!("node affinity: {t}"));
        }
        for a in &pv.attachments {
            items.push(attachment_text(a, &format!("→ node {}", a.node)));
        }
        let n = items.len() + usize::from(pv.backend.is_some());
        for (i, it) in items.iter().enumerate() {
            self.line(&pp, i + 1 == n, it);
        }
        if let Some(b) = &pv.backend {
            let bp = self.line(&pp, true, &format!("backend: {}", b.summary));
            let fields: Vec<(&String, &String)> = b.fields.iter().collect();
            let m = fields.len();
            for (i, (k, v)) in fields.into_iter().enumerate() {
                self.line(&bp, i + 1 == m, &format!("{k}: {v}"));
            }
        }
    }

    /// `pv/NAME` (or a volume with no live claim): who claims it and who uses it, then the
    /// volume's details; the claim's and pods' own problems are drawn under the volume.
    fn volume_root(&mut self, rv: &ReverseVolume) {
        let mut extra = Vec::new();
        match (&rv.claim, &rv.volume.claim_ref) {
            (Some(c), _) => extra.push(format!(
                "claimed by pvc/{} -n {} [{}] ({})",
                c.name, c.namespace, c.phase, rv.claim_status
            )),
            (None, Some(cr)) => extra.push(format!(
                "claimRef {}/{}: {}",
                cr.namespace.as_deref().unwrap_or("-"),
                cr.name,
                match rv.claim_status.as_str() {
                    "missing" => "that claim no longer exists",
                    "unknown" => "unknown (claims not visible)",
                    other => other,
                }
            )),
            (None, None) => extra.push("no claim".into()),
        }
        for p in &rv.pods {
            let mut s = format!("used by pod/{} -n {} [{}]", p.name, p.namespace, p.phase);
            if let Some(nd) = &p.node {
                s.push_str(&format!(" on node {nd}"));
            }
            if let Some(o) = &p.owner {
                s.push_str(&format!(" owned by {}/{}", o.kind.to_lowercase(), o.name));
            }
            extra.push(s);
        }
        if let Some(cl) = &rv.class {
            extra.push(if cl.exists == Some(true) {
                format!(
                    "storageclass/{} {} reclaim {}",
                    cl.name,
                    cl.provisioner.as_deref().unwrap_or("-"),
                    cl.reclaim_policy.as_deref().unwrap_or("-")
                )
            } else {
                format!(
                    "storageclass/{}{}",
                    cl.name,
                    absent_tag(cl.unknown.as_deref())
                )
            });
        }
        // The claim and pods' own problems, under the volume.
        let mut pv = rv.volume.clone();
        pv.claim_ref = None; // drawn above, with its status
        let mut also = Vec::new();
        if let Some(c) = &rv.claim {
            also.push(ObjectRef::new(
                "PersistentVolumeClaim",
                Some(&c.namespace),
                &c.name,
            ));
        }
        for p in &rv.pods {
            also.push(ObjectRef::new("Pod", Some(&p.namespace), &p.name));
        }
        self.pv_with("", true, &pv, true, extra, &also);
    }

    /// A StatefulSet or Deployment: each expected claim (with the pod using it), the claims
    /// left from a scale-down, and (without expected claims) the pods.
    fn workload_root(&mut self, w: &WorkloadNode) {
        self.out.push_str(&format!(
            "{}/{} -n {} replicas {}\n",
            w.kind.to_lowercase(),
            w.name,
            w.namespace,
            w.replicas
        ));
        let kind = if w.kind == "StatefulSet" {
            "StatefulSet"
        } else {
            "Deployment"
        };
        self.problems("", &ObjectRef::new(kind, Some(&w.namespace), &w.name));
        let total = w.expected_claims.len()
            + w.leftover_claims.len()
            + usize::from(w.expected_claims.is_empty()) * w.pods.len();
        let mut i = 0;
        for e in &w.expected_claims {
            i += 1;
            let label = if e.template.is_empty() {
                format!("claim {}", e.name)
            } else {
                format!(
                    "claim {} (template {}, ordinal {})",
                    e.name, e.template, e.ordinal
                )
            };
            match &e.claim {
                Some(c) => {
                    let pod = w
                        .pods
                        .iter()
                        .find(|p| c.used_by.iter().any(|u| u.name == p.name));
                    let ep = self.line(
                        "",
                        i == total,
                        &format!(
                            "{label}{}",
                            pod.map(|p| format!(
                                " ← pod/{} [{}]{}",
                                p.name,
                                p.phase,
                                p.node
                                    .as_ref()
                                    .map(|n| format!(" on {n}"))
                                    .unwrap_or_default()
                            ))
                            .unwrap_or_default()
                        ),
                    );
                    if let Some(p) = pod {
                        self.problems(&ep, &ObjectRef::new("Pod", Some(&p.namespace), &p.name));
                    }
                    self.claim(&ep, true, c);
                }
                None => {
                    let ep = self.line("", i == total, &format!("{label} [Missing]"));
                    self.problems(
                        &ep,
                        &ObjectRef::new("PersistentVolumeClaim", Some(&w.namespace), &e.name),
                    );
                }
            }
        }
        for c in &w.leftover_claims {
            i += 1;
            let ep = self.line(
                "",
                i == total,
                &format!("leftover claim {} (from a scale-down)", c.name),
            );
            self.claim(&ep, true, c);
        }
        if w.expected_claims.is_empty() {
            for p in &w.pods {
                i += 1;
                self.pod("", i == total, p, false);
            }
        }
    }

    /// A StorageClass, its claims and its unclaimed volumes.
    fn class_root(&mut self, v: &ClassView) {
        self.class(
            "",
            v.claims.is_empty() && v.unclaimed_volumes.is_empty(),
            &v.class,
        );
        let n = v.claims.len() + v.unclaimed_volumes.len();
        let mut i = 0;
        for c in &v.claims {
            i += 1;
            self.claim("", i == n, c);
        }
        for pv in &v.unclaimed_volumes {
            i += 1;
            self.pv("", i == n, pv);
        }
    }

    /// A Node: its pods, its attachments, the local volumes pinned to it.
    fn node_root(&mut self, nv: &NodeView) {
        self.out.push_str(&format!(
            "node/{}{}{}\n",
            nv.name,
            nv.zone
                .as_ref()
                .map(|z| format!(" (zone {z})"))
                .unwrap_or_default(),
            match (nv.exists, nv.unknown.as_deref()) {
                (true, _) => String::new(),
                (false, why) => absent_tag(why),
            }
        ));
        let n = nv.pods.len() + nv.attachments.len() + nv.pinned_volumes.len();
        let mut i = 0;
        for p in &nv.pods {
            i += 1;
            self.pod("", i == n, p, false);
        }
        for a in &nv.attachments {
            i += 1;
            let pv = match &a.volume {
                Some(pv) => format!("← pv {pv}"),
                None => "← inline volume".into(),
            };
            let cont = self.line("", i == n, &attachment_text(a, &pv));
            let obj = match &a.volume {
                Some(pv) => ObjectRef::new("PersistentVolume", None, pv),
                None => ObjectRef::new("VolumeAttachment", None, &a.name),
            };
            // A volume drawn under a pod has its problems there already.
            let under_pod = nv.pods.iter().any(|p| {
                p.volumes.iter().any(|v| {
                    v.claim
                        .as_ref()
                        .and_then(|c| c.volume.as_ref())
                        .is_some_and(|x| Some(&x.name) == a.volume.as_ref())
                })
            });
            if !under_pod {
                self.problems(&cont, &obj);
            }
        }
        for pv in &nv.pinned_volumes {
            i += 1;
            self.line(
                "",
                i == n,
                &format!("local volume pv/{pv} pinned to this node"),
            );
        }
    }

    /// Diagnostics about objects not drawn (e.g. Forbidden gaps), last.
    fn also(&mut self, report: &Report) {
        let drawn: HashSet<ObjectRef> = report.roots.iter().flat_map(root_objects).collect();
        let rest: Vec<&Diagnostic> = report
            .diagnostics
            .iter()
            .filter(|d| !drawn.contains(&d.object) && d.severity >= Severity::Warning)
            .collect();
        if !rest.is_empty() {
            self.out.push_str("\nAlso:\n");
            for d in rest {
                self.out
                    .push_str(&format!("  {} {}: {}\n", d.severity, d.code, d.message));
            }
        }
    }
}

/// A whole report as a tree: each root with its chain down to the backends, every object's
/// problems under it.
pub fn render_tree(report: &Report) -> String {
    let mut t = Tree {
        out: String::new(),
        diags: problems_by_object(report),
    };
    for (i, root) in report.roots.iter().enumerate() {
        if i > 0 {
            t.out.push('\n');
        }
        match root {
            Root::Pod(p) => t.pod("", true, p, true),
            Root::Claim(c) => {
                t.out.push_str(&format!("namespace {}\n", c.namespace));
                t.claim("", true, c);
            }
            Root::Volume(rv) => t.volume_root(rv),
            Root::Workload(w) => t.workload_root(w),
            Root::StorageClass(v) => t.class_root(v),
            Root::Node(nv) => t.node_root(nv),
        }
    }
    if report.roots.is_empty() {
        t.out.push_str("Nothing to trace.\n");
    }
    t.also(report);
    // Object data never reaches the terminal raw (the tree's own text has no control
    // character but its newlines).
    escape_terminal(&t.out, false).into_owned()
}

/// How an object that is not in the snapshot is shown: known absent, or unknown and why.
/// A claim's usage on one line: `5.0Gi used of 10Gi (50%), 5.0Gi free; inodes 1% (12 of 1000)
/// (kubelet on node-1)`, `unknown (forbidden: get nodes/proxy)`, or `not mounted by a running
/// pod`.
fn usage_text(u: &VolumeUsage) -> String {
    use crate::usage::bytes;
    let why = u
        .reason
        .as_deref()
        .map(|r| escape_terminal(r, true).into_owned())
        .unwrap_or_default();
    match u.state {
        UsageState::NotMounted => why,
        UsageState::Unknown => format!("unknown ({why})"),
        UsageState::Known => {
            let pct = |p: Option<u64>| p.map_or_else(|| "?".into(), |p| format!("{p}%"));
            let count = |n: Option<u64>| n.map_or_else(|| "?".into(), |n| n.to_string());
            format!(
                "{} used of {} ({}), {} free; inodes {} ({} of {}) (kubelet on {})",
                bytes(u.used_bytes),
                bytes(u.capacity_bytes),
                pct(u.used_percent),
                bytes(u.available_bytes),
                pct(u.inodes_used_percent),
                count(u.inodes_used),
                count(u.inodes),
                u.node.as_deref().unwrap_or("?"),
            )
        }
    }
}

fn absent_tag(unknown: Option<&str>) -> String {
    match unknown {
        None => " [not found]".into(),
        Some(why) => format!(" [unknown ({why})]"),
    }
}

/// One VolumeAttachment: its name, where it points, its state, errors and a held deletion.
fn attachment_text(a: &AttachmentNode, towards: &str) -> String {
    let mut s = format!(
        "attachment {} {towards} ({})",
        a.name,
        if a.attached {
            "attached"
        } else {
            "not attached"
        }
    );
    if let Some(e) = &a.attach_error {
        s.push_str(&format!(", attach error: {e}"));
    }
    if let Some(e) = &a.detach_error {
        s.push_str(&format!(", detach error: {e}"));
    }
    if let Some(t) = &a.deleting_since {
        s.push_str(&format!(", being deleted since {t}"));
        if !a.finalizers.is_empty() {
            s.push_str(&format!(", held by {}", a.finalizers.join(", ")));
        }
    }
    s
}

/// The tree's text coloured for a terminal: each problem's mark, severity and code by its
/// severity, and each `[Phase]` tag by its tone (Bound green, Pending yellow, Lost red…).
/// Applied to the escaped text, so object data never brings its own escape sequences; the
/// text without its colour codes is the uncoloured tree.
pub fn paint_tree(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for line in text.split_inclusive('\n') {
        let body = line.trim_start_matches([' ', '│']);
        let (lead, body) = line.split_at(line.len() - body.len());
        out.push_str(lead);
        out.push_str(&paint_problem(body).unwrap_or_else(|| paint_tags(body)));
    }
    out
}

/// A problem line (`✗ error Code: message`, or `warning Code: message` under "Also:"), its
/// head coloured by severity.
fn paint_problem(body: &str) -> Option<String> {
    let heads = [
        ("✗ error ", Tone::Bad),
        ("! warning ", Tone::Warn),
        ("i info ", Tone::Dim),
        ("error ", Tone::Bad),
        ("warning ", Tone::Warn),
        ("info ", Tone::Dim),
    ];
    let (head, tone) = heads.iter().find(|(h, _)| body.starts_with(h))?;
    let rest = &body[head.len()..];
    let code_end = rest.find(": ")?;
    let code = &rest[..code_end];
    if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some(format!(
        "{}{}",
        paint(&format!("{head}{code}"), *tone, true),
        &rest[code_end..]
    ))
}

/// Every `[Word…]` tag whose first word has a tone, coloured inside its brackets.
fn paint_tags(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let Some(close) = rest.find(']') else { break };
        let mut tag = &rest[..close];
        // `[a [Bound]`: the tag is what follows the last `[`.
        if let Some(inner) = tag.rfind('[') {
            out.push_str(&tag[..=inner]);
            tag = &tag[inner + 1..];
        }
        match tone_of(tag) {
            Some(tone) => out.push_str(&paint(tag, tone, true)),
            None => out.push_str(tag),
        }
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find('\x1b') {
            out.push_str(&rest[..i]);
            rest = &rest[i..];
            rest = &rest[rest.find('m').map_or(rest.len(), |m| m + 1)..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn painted_tree_is_the_tree_in_colour() {
        let text = "pod/db-0 -n shop [Running]\n\
                    └── pvc/data-db-0 [Bound] size 10Gi\n    \
                        ✗ error VolumeFailed: pv/x is Failed [Lost]\n    \
                        └── pv/pvc-1 [Released]\n        \
                            ! warning VolumeReleased: retained\n\n\
                    Also:\n  warning ForbiddenList: cannot list [Pending\n\
                    odd [not a phase] [Bound [x]\n";
        let painted = paint_tree(text);
        assert_eq!(strip(&painted), text);
        assert!(painted.contains("[\x1b[32mBound\x1b[0m]"), "{painted}");
        assert!(painted.contains("[\x1b[33mReleased\x1b[0m]"), "{painted}");
        assert!(
            painted.contains("\x1b[31m✗ error VolumeFailed\x1b[0m: pv/x"),
            "{painted}"
        );
        assert!(
            painted.contains("\x1b[33m! warning VolumeReleased\x1b[0m: retained"),
            "{painted}"
        );
        assert!(
            painted.contains("  \x1b[33mwarning ForbiddenList\x1b[0m: cannot"),
            "{painted}"
        );
        // A problem's message is not scanned for tags; unknown words stay plain.
        assert!(painted.contains("[Lost]\n"), "{painted}");
        assert!(painted.contains("[not a phase]"), "{painted}");
        assert!(painted.contains("[\x1b[32mRunning\x1b[0m]"), "{painted}");
    }

    #[test]
    fn object_escapes_stay_escaped() {
        // The tree is escaped before it is painted: a name holding ESC arrives as `\x1b`.
        let text = escape_terminal("pvc/a\x1b[31mb [Bound]\n", false).into_owned();
        let painted = paint_tree(&text);
        assert_eq!(painted.matches('\x1b').count(), 2, "{painted:?}");
    }
}
