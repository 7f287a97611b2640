//! Merging the snapshots of several `--from-file` inputs into one, counting an object that
//! several inputs hold once.
//!
//! Two objects are the same when they have the same kind and uid, or the same kind, namespace
//! and name. When their contents are equal, the later one is dropped silently (overlapping
//! dumps, `--from-file F --from-file F`). When they differ — the same object taken at two
//! times, or two different objects with one name — the first input given wins, and a warning
//! names both inputs. Duplicates inside one input are left as that input has them.

use std::collections::HashMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::{Flavor, Ident, Kind, Obj, Snapshot};

/// Where an object already merged came from: the input and its position in its kind's list.
#[derive(Clone, Copy)]
struct Seen {
    input: usize,
    pos: usize,
}

/// The indexes of what has been merged so far.
#[derive(Default)]
struct Index {
    by_name: HashMap<(Kind, String, String), Seen>,
    by_uid: HashMap<(Kind, String), Seen>,
}

/// The snapshot of several inputs, merged one input at a time.
pub(super) struct Merger<F: Flavor> {
    snap: Snapshot<F>,
    /// The inputs read so far, as named in warnings.
    inputs: Vec<String>,
    /// Built when a second input arrives: one input alone is taken as it is.
    index: Option<Index>,
}

impl<F: Flavor> Merger<F> {
    pub(super) fn new() -> Self {
        Merger {
            snap: Snapshot::default(),
            inputs: Vec::new(),
            index: None,
        }
    }

    /// Add one input's objects (named `name` in warnings).
    pub(super) fn add(&mut self, name: &str, part: Snapshot<F>) {
        let input = self.inputs.len();
        self.inputs.push(name.to_string());
        if input == 0 {
            self.snap.absorb(part);
            return;
        }
        let mut index = self.index.take().unwrap_or_else(|| self.index_all());
        let mut part = part;
        let mut warnings = Vec::new();
        let mut ctx = Ctx {
            index: &mut index,
            inputs: &self.inputs,
            input,
            warnings: &mut warnings,
        };
        let s = &mut self.snap;
        ctx.merge(Kind::Pod, &mut s.pods, take(&mut part.pods), Obj::ident);
        ctx.merge(
            Kind::PersistentVolumeClaim,
            &mut s.pvcs,
            take(&mut part.pvcs),
            Obj::ident,
        );
        ctx.merge(
            Kind::PersistentVolume,
            &mut s.pvs,
            take(&mut part.pvs),
            Obj::ident,
        );
        macro_rules! full {
            ($($kind:expr => $field:ident),*) => {$(
                ctx.merge($kind, &mut s.$field, take(&mut part.$field), |o| meta_ident(&o.metadata));
            )*};
        }
        full!(
            Kind::StorageClass => storage_classes,
            Kind::VolumeAttachment => volume_attachments,
            Kind::Node => nodes,
            Kind::StatefulSet => statefulsets,
            Kind::Deployment => deployments,
            Kind::ReplicaSet => replicasets,
            Kind::Job => jobs,
            Kind::CronJob => cronjobs,
            Kind::Event => events,
            Kind::Service => services,
            Kind::CSIDriver => csi_drivers
        );
        for (kind, objs) in std::mem::take(&mut part.dynamic) {
            let ours = s.dynamic.entry(kind).or_default();
            ctx.merge(kind, ours, objs, value_ident);
        }
        // What is left: kinds known, completeness, gaps, skipped counts, warnings.
        s.absorb(part);
        s.warnings.append(&mut warnings);
        self.index = Some(index);
    }

    pub(super) fn finish(self) -> Snapshot<F> {
        self.snap
    }

    /// Index everything merged so far (the first input's objects).
    fn index_all(&self) -> Index {
        let mut index = Index::default();
        let s = &self.snap;
        fn add<T>(index: &mut Index, kind: Kind, objs: &[T], ident: impl Fn(&T) -> Ident<'_>) {
            for (pos, o) in objs.iter().enumerate() {
                index.insert(kind, ident(o), Seen { input: 0, pos });
            }
        }
        add(&mut index, Kind::Pod, &s.pods, Obj::ident);
        add(&mut index, Kind::PersistentVolumeClaim, &s.pvcs, Obj::ident);
        add(&mut index, Kind::PersistentVolume, &s.pvs, Obj::ident);
        macro_rules! full {
            ($($kind:expr => $field:ident),*) => {$(
                add(&mut index, $kind, &s.$field, |o| meta_ident(&o.metadata));
            )*};
        }
        full!(
            Kind::StorageClass => storage_classes,
            Kind::VolumeAttachment => volume_attachments,
            Kind::Node => nodes,
            Kind::StatefulSet => statefulsets,
            Kind::Deployment => deployments,
            Kind::ReplicaSet => replicasets,
            Kind::Job => jobs,
            Kind::CronJob => cronjobs,
            Kind::Event => events,
            Kind::Service => services,
            Kind::CSIDriver => csi_drivers
        );
        for (kind, objs) in &s.dynamic {
            add(&mut index, *kind, objs, value_ident);
        }
        index
    }
}

impl Index {
    /// Remember an object, unless one with its identity is already known (the first stays).
    fn insert(&mut self, kind: Kind, id: Ident<'_>, seen: Seen) {
        if let Some(uid) = id.uid.filter(|u| !u.is_empty()) {
            self.by_uid.entry((kind, uid.to_string())).or_insert(seen);
        }
        if let Some(name) = id.name.filter(|n| !n.is_empty()) {
            let ns = id.namespace.unwrap_or("").to_string();
            self.by_name
                .entry((kind, ns, name.to_string()))
                .or_insert(seen);
        }
    }

    /// The object already merged that `id` names: by uid first, then by namespace and name.
    fn find(&self, kind: Kind, id: Ident<'_>) -> Option<(Seen, bool)> {
        if let Some(uid) = id.uid.filter(|u| !u.is_empty())
            && let Some(s) = self.by_uid.get(&(kind, uid.to_string()))
        {
            return Some((*s, true));
        }
        let name = id.name.filter(|n| !n.is_empty())?;
        let ns = id.namespace.unwrap_or("");
        self.by_name
            .get(&(kind, ns.to_string(), name.to_string()))
            .map(|s| (*s, false))
    }
}

struct Ctx<'a> {
    index: &'a mut Index,
    inputs: &'a [String],
    input: usize,
    warnings: &'a mut Vec<String>,
}

impl Ctx<'_> {
    /// Merge one kind's objects of the current input into `ours`.
    fn merge<T: PartialEq>(
        &mut self,
        kind: Kind,
        ours: &mut Vec<T>,
        theirs: Vec<T>,
        ident: impl Fn(&T) -> Ident<'_>,
    ) {
        for obj in theirs {
            let id = ident(&obj);
            match self.index.find(kind, id) {
                // Another input has it: keep the first, say so when they differ.
                Some((seen, same_uid)) if seen.input != self.input => {
                    if ours.get(seen.pos) != Some(&obj) {
                        self.conflict(kind, id, seen.input, same_uid);
                    }
                }
                _ => {
                    let seen = Seen {
                        input: self.input,
                        pos: ours.len(),
                    };
                    self.index.insert(kind, id, seen);
                    ours.push(obj);
                }
            }
        }
    }

    fn conflict(&mut self, kind: Kind, id: Ident<'_>, kept: usize, same_uid: bool) {
        let name = match (id.namespace, id.name) {
            (Some(ns), Some(n)) if !ns.is_empty() => format!("{ns}/{n}"),
            (_, Some(n)) => n.to_string(),
            _ => format!("uid {}", id.uid.unwrap_or("")),
        };
        let what = if same_uid {
            "the same object (same uid) differs between"
        } else {
            "two different objects have this name in"
        };
        let first = &self.inputs[kept];
        let second = &self.inputs[self.input];
        self.warnings.push(terminal_safe(&format!(
            "{kind:?} {name}: {what} {first} and {second}; using the one from {first} (the first given)"
        )));
    }
}

fn take<T>(v: &mut Vec<T>) -> Vec<T> {
    std::mem::take(v)
}

fn meta_ident(m: &ObjectMeta) -> Ident<'_> {
    Ident::of(m)
}

fn value_ident(v: &Value) -> Ident<'_> {
    let s = |p: &str| v.pointer(p).and_then(Value::as_str);
    Ident {
        name: s("/metadata/name"),
        namespace: s("/metadata/namespace"),
        uid: s("/metadata/uid"),
    }
}

/// Control characters (escape sequences included) shown escaped, so that a file or object
/// name cannot drive the terminal.
pub(super) fn terminal_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Full, parse_dump_into};

    fn part(text: &str) -> Snapshot<Full> {
        let mut s = Snapshot::default();
        parse_dump_into(&mut s, std::path::Path::new("t.yaml"), text).unwrap();
        s
    }

    const PVC: &str = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: shop, uid: u1}\nspec: {storageClassName: fast}\n";

    #[test]
    fn the_same_object_twice_counts_once_silently() {
        let mut m = Merger::new();
        m.add("a.yaml", part(PVC));
        m.add("b.yaml", part(PVC));
        let s = m.finish();
        assert_eq!(s.pvcs.len(), 1);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    }

    #[test]
    fn same_name_different_content_keeps_the_first_and_names_both_files() {
        let other = PVC.replace("u1", "u2").replace("fast", "slow");
        for (a, b) in [(PVC, other.as_str()), (other.as_str(), PVC)] {
            let mut m = Merger::new();
            m.add("a.yaml", part(a));
            m.add("b\x1b[31m.yaml", part(b));
            let s = m.finish();
            assert_eq!(s.pvcs.len(), 1);
            let kept = s.pvcs[0].spec.as_ref().unwrap().storage_class_name.clone();
            let want = if a == PVC { "fast" } else { "slow" };
            assert_eq!(kept.as_deref(), Some(want));
            assert_eq!(s.warnings.len(), 1);
            let w = &s.warnings[0];
            assert!(
                w.contains("shop/data") && w.contains("a.yaml") && w.contains("b\\u{1b}[31m.yaml"),
                "{w}"
            );
            assert!(w.contains("two different objects"), "{w}");
        }
    }

    #[test]
    fn same_uid_with_other_content_is_one_object_and_a_warning() {
        let later = PVC.replace("fast", "slow");
        let mut m = Merger::new();
        m.add("a.yaml", part(PVC));
        m.add("b.yaml", part(&later));
        let s = m.finish();
        assert_eq!(s.pvcs.len(), 1);
        assert!(s.warnings[0].contains("same uid"), "{:?}", s.warnings);
    }

    #[test]
    fn duplicates_inside_one_input_are_left_alone() {
        let two = format!("{PVC}---\n{PVC}");
        let mut m = Merger::new();
        m.add("a.yaml", part(&two));
        m.add("b.yaml", part(PVC));
        let s = m.finish();
        assert_eq!(s.pvcs.len(), 2);
        assert!(s.warnings.is_empty());
    }

    #[test]
    fn unnamed_and_dynamic_objects() {
        let snap = "apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshot\nmetadata: {name: s1, namespace: shop}\n";
        let mut m = Merger::new();
        m.add("a.yaml", part(snap));
        m.add("b.yaml", part(snap));
        let s = m.finish();
        assert_eq!(s.dynamic[&Kind::VolumeSnapshot].len(), 1);
    }
}
