//! Diagnosis: what is wrong with the objects the graph visits, as [`Diagnostic`]s with stable
//! codes. The graph (`crate::graph`) calls in once per object, on its first visit; each subject
//! has its own file:
//!
//! - `claims`: a claim's phase, the volume it is bound to, resizes, one-node access modes used
//!   from several nodes, and the claims a workload expects (missing, left over, shared);
//! - `binding`: why a Pending claim is not bound (class, provisioner, static volumes);
//! - `volumes`: a volume's phase, its claimRef, its class;
//! - `attachments`: VolumeAttachment attach and detach errors;
//! - `scheduling`: node affinity no node satisfies, pods on the wrong node, unschedulable pods;
//! - `pods`: a pod's missing claims, scheduling, and mount failures;
//! - `usage`: how full a mounted claim is (`--usage`), and the nodes whose usage is unknown;
//! - this file: where findings are kept (`Findings`, one per object and code), the view of
//!   them that renderers get while roots stream ([`Diagnosed`]), the diagnoser the subjects
//!   are methods of (`Diagnoser`), events, and the diagnostics of gaps in the snapshot.
//!
//! Only known facts raise warnings or errors: a check that needs a kind the snapshot lacks is
//! skipped (the gap itself is reported once, by `Diagnoser::gap`).

mod attachments;
mod binding;
mod claims;
mod pods;
mod scheduling;
mod usage;
mod volumes;

use crate::hash::{HashMap, HashSet};

use k8s_openapi::api::core::v1::Event;
use stateful_core::snapshot::{Gap, GapReason, Kind};

use crate::index::Index;
use crate::index::Snapshot;
use crate::model::{Diagnostic, ObjectRef, Severity};

/// An [`ObjectRef`] as one exact-size string (`kind`, namespace and name joined by NUL, which
/// no name contains): the sets of objects seen while tracing 10,000 pods hold tens of thousands
/// of these, at a third of an `ObjectRef`'s memory.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ObjKey(Box<str>);

impl ObjKey {
    pub(crate) fn of(o: &ObjectRef) -> ObjKey {
        let ns = o.namespace.as_deref().unwrap_or("");
        let mut s = String::with_capacity(o.kind.len() + ns.len() + o.name.len() + 2);
        s.push_str(&o.kind);
        s.push('\0');
        s.push_str(ns);
        s.push('\0');
        s.push_str(&o.name);
        ObjKey(s.into_boxed_str())
    }

    pub(crate) fn kind(&self) -> &str {
        self.0.split('\0').next().unwrap_or("")
    }
}

/// The diagnostics found so far, one per object and code, and the objects already diagnosed.
#[derive(Default)]
pub(crate) struct Findings {
    diags: Vec<Diagnostic>,
    /// The diagnostics so far, by object (indices into `diags`): for streaming, and to keep
    /// one per object and code.
    by_object: HashMap<ObjectRef, Vec<usize>>,
    diagnosed: HashSet<ObjKey>,
}

impl Findings {
    fn add(&mut self, severity: Severity, code: &str, object: ObjectRef, message: String) {
        // One diagnostic per (object, code): the first found stands.
        let found = self.by_object.entry(object.clone()).or_default();
        if found
            .iter()
            .any(|&i| self.diags.get(i).is_some_and(|d| d.code == code))
        {
            return;
        }
        found.push(self.diags.len());
        self.diags.push(Diagnostic {
            severity,
            code: code.to_string(),
            object,
            message,
        });
    }

    /// True the first time `o` is asked about: each object is diagnosed once (diagnostics are
    /// about objects, not about paths to them).
    pub(crate) fn first_visit(&mut self, o: &ObjectRef) -> bool {
        self.diagnosed.insert(ObjKey::of(o))
    }

    /// What renderers see while roots stream.
    pub(crate) fn view(&self) -> Diagnosed<'_> {
        Diagnosed {
            diags: &self.diags,
            by_object: &self.by_object,
        }
    }

    /// Every diagnostic, in the order found.
    pub(crate) fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diags
    }
}

/// The diagnostics found so far, while roots stream: when a root is emitted, every diagnostic
/// about its objects is known (objects are diagnosed on their first visit).
pub struct Diagnosed<'b> {
    diags: &'b [Diagnostic],
    by_object: &'b HashMap<ObjectRef, Vec<usize>>,
}

impl Diagnosed<'_> {
    /// The diagnostics about `o`, in the order found.
    pub fn of(&self, o: &ObjectRef) -> impl Iterator<Item = &Diagnostic> {
        self.by_object
            .get(o)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.diags.get(i))
    }
}

/// What diagnosis reads (the snapshot and its index) and where it writes (the findings). The
/// subjects (`claims`, `volumes`, `pods`, …) are its methods.
pub(crate) struct Diagnoser<'d, 'a> {
    pub(crate) snap: &'a Snapshot,
    pub(crate) idx: &'d Index<'a>,
    pub(crate) found: &'d mut Findings,
}

impl<'a> Diagnoser<'_, 'a> {
    fn diag(&mut self, severity: Severity, code: &str, object: ObjectRef, message: String) {
        self.found.add(severity, code, object, message);
    }

    /// What the snapshot could not see (forbidden, not served, not in the dump).
    pub(crate) fn gap(&mut self, gap: &Gap) {
        let (sev, code) = match gap.reason {
            GapReason::Forbidden => (Severity::Warning, "Forbidden"),
            GapReason::NotServed => (Severity::Info, "NotServed"),
            GapReason::NotInDump => (Severity::Info, "NotInDump"),
        };
        let object = ObjectRef::new(&gap.resource, gap.namespace.as_deref(), "*");
        let msg = match gap.reason {
            GapReason::Forbidden => format!(
                "unknown ({gap}): results that need {} are partial; ask for list permission on {} to see them",
                gap.resource, gap.resource
            ),
            GapReason::NotServed => format!("unknown ({gap})"),
            GapReason::NotInDump => format!(
                "unknown ({gap}): add them to the dump (kubectl get {} -A -o yaml) for a full trace",
                gap.resource
            ),
        };
        self.diag(sev, code, object, msg);
    }

    /// An object the trace needs that is not in the snapshot, whose kind's list is incomplete
    /// (a dump, a forbidden LIST): unknown, never missing; says how to add it.
    pub(crate) fn not_in_data(&mut self, kind: Kind, ns: Option<&str>, name: &str) {
        let Some(why) = self.snap.unknown_reason_of(kind, ns, name) else {
            return;
        };
        let (short, kind_name) = match kind {
            Kind::PersistentVolumeClaim => ("pvc", "PersistentVolumeClaim"),
            Kind::PersistentVolume => ("pv", "PersistentVolume"),
            Kind::StorageClass => ("storageclass", "StorageClass"),
            Kind::Node => ("node", "Node"),
            _ => (kind.resource(), kind.resource()),
        };
        let nsflag = ns.map(|n| format!(" -n {n}")).unwrap_or_default();
        self.diag(
            Severity::Info,
            "NotInData",
            ObjectRef::new(kind_name, ns, name),
            format!(
                "{short}/{name} is unknown ({why}): add it for a full trace (kubectl get {short} {name}{nsflag} -o yaml)"
            ),
        );
    }

    /// The events about an object, oldest first: joined by `uid`, else by kind, namespace and
    /// name (an event with another uid is about an earlier object of that name: left out).
    fn events_for(&self, o: &EventKey<'_>) -> Vec<&'a Event> {
        let mut v: Vec<&'a Event> = o
            .uid
            .and_then(|u| self.idx.events_by_uid.get(u))
            .cloned()
            .unwrap_or_default();
        for e in self
            .idx
            .events_by_name
            .get(&(o.kind, o.namespace, o.name))
            .into_iter()
            .flatten()
        {
            let ev_uid = e.involved_object.uid.as_deref();
            let same = match (ev_uid, o.uid) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            if same && !v.iter().any(|x| std::ptr::eq(*x, *e)) {
                v.push(e);
            }
        }
        v.sort_by_key(|e| {
            e.last_timestamp
                .as_ref()
                .map(|t| t.0)
                .or_else(|| e.event_time.as_ref().map(|t| t.0))
        });
        v
    }

    /// The latest event about the object with `uid` whose reason is one of `reasons`.
    fn latest_event(&self, o: &EventKey<'_>, reasons: &[&str]) -> Option<&'a Event> {
        self.events_for(o)
            .into_iter()
            .rev()
            .find(|e| e.reason.as_deref().is_some_and(|r| reasons.contains(&r)))
    }
}

/// The object whose events are wanted.
pub(crate) struct EventKey<'k> {
    kind: &'k str,
    namespace: &'k str,
    name: &'k str,
    uid: Option<&'k str>,
}

impl<'k> EventKey<'k> {
    pub(crate) fn of<M: stateful_core::snapshot::lean::MetaView>(kind: &'k str, m: &'k M) -> Self {
        EventKey {
            kind,
            namespace: m.namespace().unwrap_or(""),
            name: m.name().unwrap_or(""),
            uid: m.uid(),
        }
    }
}
