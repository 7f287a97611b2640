//! How full each mounted claim is (`--usage`), in pure code: the kubelet's stats summary
//! (`k8s.io/kubelet/pkg/apis/stats/v1alpha1`, `GET /api/v1/nodes/NAME/proxy/stats/summary`,
//! fetched by the binary through `stateful_core::kubelet`) parsed into each claim's numbers
//! ([`parse_summary`]); a claim's [`VolumeUsage`] from the summaries of the nodes its running
//! pods run on ([`claim_usage`]); which nodes to ask ([`nodes_to_ask`], over a first trace);
//! and the thresholds ([`Thresholds`]) that raise `VolumeNearlyFull` and `InodesNearlyFull`
//! ([`findings`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Deserialize;

use crate::model::*;

/// The percentages at which usage is a warning and an error (`--usage-warn`, `--usage-error`),
/// for bytes and inodes alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub warn: u64,
    pub error: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            warn: 85,
            error: 95,
        }
    }
}

impl Thresholds {
    /// Both in 1..=100, the warning at most the error.
    pub fn new(warn: u64, error: u64) -> Result<Self, String> {
        for (flag, v) in [("--usage-warn", warn), ("--usage-error", error)] {
            if !(1..=100).contains(&v) {
                return Err(format!("{flag} {v}: a percentage from 1 to 100"));
            }
        }
        if warn > error {
            return Err(format!(
                "--usage-warn {warn} is above --usage-error {error}: the warning comes first"
            ));
        }
        Ok(Thresholds { warn, error })
    }
}

/// A percentage flag's value: `85` or `85%`.
pub fn parse_percent(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t.strip_suffix('%').unwrap_or(t);
    t.parse::<u64>()
        .map_err(|_| format!("{s:?} is not a whole percentage (e.g. 85 or 85%)"))
}

/// One volume's numbers as the kubelet reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeStats {
    pub capacity_bytes: Option<u64>,
    pub used_bytes: Option<u64>,
    pub available_bytes: Option<u64>,
    pub inodes: Option<u64>,
    pub inodes_used: Option<u64>,
    pub inodes_free: Option<u64>,
}

/// What one node's summary says about claims: their numbers by (namespace, claim).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeStats {
    pub claims: HashMap<(String, String), VolumeStats>,
}

/// The summary's parts read here; everything else in it is ignored.
#[derive(Deserialize)]
struct Summary {
    node: serde_json::Value,
    #[serde(default)]
    pods: Option<Vec<PodStats>>,
}

#[derive(Deserialize)]
struct PodStats {
    #[serde(default)]
    volume: Option<Vec<VolumeEntry>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VolumeEntry {
    #[serde(default)]
    pvc_ref: Option<PvcRef>,
    #[serde(flatten)]
    stats: VolumeStats,
}

#[derive(Deserialize)]
struct PvcRef {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
}

/// A kubelet stats summary's claim volumes (`pods[].volume[]` with a `pvcRef`); a body that is
/// not a summary is a reason, never a panic.
pub fn parse_summary(body: &[u8]) -> Result<NodeStats, String> {
    let s: Summary =
        serde_json::from_slice(body).map_err(|e| format!("not a kubelet stats summary ({e})"))?;
    if !s.node.is_object() {
        return Err("not a kubelet stats summary (no node)".into());
    }
    let mut out = NodeStats::default();
    for v in s
        .pods
        .into_iter()
        .flatten()
        .flat_map(|p| p.volume.into_iter().flatten())
    {
        if let Some(r) = v.pvc_ref
            && !r.name.is_empty()
        {
            // The same claim mounted by two pods on one node: one filesystem, one answer.
            out.claims.entry((r.namespace, r.name)).or_insert(v.stats);
        }
    }
    Ok(out)
}

/// Where usage comes from.
#[derive(Debug, Clone)]
pub enum UsageSource {
    /// `--from-file`: dumps hold no kubelet stats.
    Dump,
    /// Each node's summary, parsed, or why it could not be read. A node absent from the map
    /// was not asked (the first trace, which finds the nodes to ask).
    Nodes(BTreeMap<String, Result<NodeStats, String>>),
}

/// `--usage`: the thresholds and the summaries.
#[derive(Debug, Clone)]
pub struct UsageInput {
    pub thresholds: Thresholds,
    pub source: UsageSource,
    /// `-l` was given: only the selected pods were read, so a claim no pod read mounts may
    /// still be mounted (unknown, not "not mounted").
    pub pods_selected: bool,
}

/// Why usage read from a dump is unknown, and how to get it.
pub const NOT_IN_DUMP: &str = "not in a dump: run --usage against the cluster";

/// The usage of claim `namespace/name`, mounted by running pods on `mounted_on`: the first
/// node (by name) whose kubelet reports it; else why not (the first node's failure, or not
/// reported); `NotMounted` when no running pod mounts it, unless the pods are not all known
/// (`pods_unknown`: why, e.g. `forbidden: list pods`): then unknown.
pub fn claim_usage(
    input: &UsageInput,
    namespace: &str,
    name: &str,
    mut mounted_on: Vec<String>,
    pods_unknown: Option<String>,
) -> VolumeUsage {
    mounted_on.sort();
    mounted_on.dedup();
    let mut u = VolumeUsage {
        state: UsageState::Unknown,
        mounted_on,
        node: None,
        capacity_bytes: None,
        used_bytes: None,
        available_bytes: None,
        used_percent: None,
        inodes: None,
        inodes_used: None,
        inodes_free: None,
        inodes_used_percent: None,
        reason: None,
    };
    let nodes = match &input.source {
        UsageSource::Dump => {
            u.reason = Some(NOT_IN_DUMP.into());
            return u;
        }
        UsageSource::Nodes(n) => n,
    };
    if u.mounted_on.is_empty() {
        if let Some(why) = pods_unknown {
            u.reason = Some(format!("which pods mount it is unknown ({why})"));
            return u;
        }
        u.state = UsageState::NotMounted;
        u.reason = Some("not mounted by a running pod".into());
        return u;
    }
    let key = (namespace.to_string(), name.to_string());
    let mut why: Option<String> = None;
    for node in &u.mounted_on {
        match nodes.get(node) {
            Some(Ok(stats)) => match stats.claims.get(&key) {
                Some(s) => {
                    let s = s.clone();
                    u.state = UsageState::Known;
                    u.node = Some(node.clone());
                    u.used_percent = percent(s.used_bytes, s.capacity_bytes);
                    u.inodes_used_percent = percent(s.inodes_used, s.inodes);
                    u.capacity_bytes = s.capacity_bytes;
                    u.used_bytes = s.used_bytes;
                    u.available_bytes = s.available_bytes;
                    u.inodes = s.inodes;
                    u.inodes_used = s.inodes_used;
                    u.inodes_free = s.inodes_free;
                    return u;
                }
                None => {
                    why.get_or_insert_with(|| format!("not reported by the kubelet on {node}"));
                }
            },
            Some(Err(e)) => {
                why.get_or_insert_with(|| e.clone());
            }
            None => {
                why.get_or_insert_with(|| format!("node {node} not asked"));
            }
        }
    }
    u.reason = why;
    u
}

/// `part × 100 / whole`, rounded down (so a 85 % threshold is met exactly when 85 % is); None
/// when either is unknown or the whole is 0.
pub fn percent(part: Option<u64>, whole: Option<u64>) -> Option<u64> {
    let (p, w) = (part?, whole?);
    if w == 0 {
        return None;
    }
    u64::try_from(u128::from(p) * 100 / u128::from(w)).ok()
}

/// The nodes whose summaries a report needs: where running pods mount its claims (the
/// `mountedOn` of each claim's usage, from a first trace).
pub fn nodes_to_ask(report: &Report) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut add = |c: &ClaimNode| {
        if let Some(u) = &c.usage {
            out.extend(u.mounted_on.iter().cloned());
        }
    };
    for root in &report.roots {
        for_each_claim(root, &mut add);
    }
    out
}

/// Every claim a root shows.
pub fn for_each_claim(root: &Root, f: &mut dyn FnMut(&ClaimNode)) {
    let pod = |p: &PodNode, f: &mut dyn FnMut(&ClaimNode)| {
        for v in &p.volumes {
            if let Some(c) = &v.claim {
                f(c);
            }
        }
    };
    match root {
        Root::Pod(p) => pod(p, f),
        Root::Claim(c) => f(c),
        Root::Volume(rv) => {
            if let Some(c) = &rv.claim {
                f(c);
            }
        }
        Root::Workload(w) => {
            for c in w.expected_claims.iter().filter_map(|e| e.claim.as_ref()) {
                f(c);
            }
            for c in &w.leftover_claims {
                f(c);
            }
            for p in &w.pods {
                pod(p, f);
            }
        }
        Root::StorageClass(v) => {
            for c in &v.claims {
                f(c);
            }
        }
        Root::Node(n) => {
            for p in &n.pods {
                pod(p, f);
            }
        }
    }
}

/// The diagnostics a claim's usage raises: `VolumeNearlyFull` for bytes and `InodesNearlyFull`
/// for inodes, a warning at `thresholds.warn` % and an error at `thresholds.error` %.
pub fn findings(
    u: &VolumeUsage,
    t: &Thresholds,
    claim: &str,
) -> Vec<(Severity, &'static str, String)> {
    let mut out = Vec::new();
    if u.state != UsageState::Known {
        return out;
    }
    let node = u.node.as_deref().unwrap_or("-");
    let level = |pct: u64| {
        if pct >= t.error {
            Some(Severity::Error)
        } else if pct >= t.warn {
            Some(Severity::Warning)
        } else {
            None
        }
    };
    if let Some(pct) = u.used_percent
        && let Some(sev) = level(pct)
    {
        out.push((
            sev,
            "VolumeNearlyFull",
            format!(
                "{claim} is {pct}% full ({} used of {}, {} free, on node {node}): free space or expand the claim (its class must allow expansion)",
                bytes(u.used_bytes),
                bytes(u.capacity_bytes),
                bytes(u.available_bytes),
            ),
        ));
    }
    if let Some(pct) = u.inodes_used_percent
        && let Some(sev) = level(pct)
    {
        out.push((
            sev,
            "InodesNearlyFull",
            format!(
                "{claim} has used {pct}% of its inodes ({} of {}, {} free, on node {node}): new files fail when none is left, whatever the free bytes; remove small files or move to a filesystem with more inodes",
                count(u.inodes_used),
                count(u.inodes),
                count(u.inodes_free),
            ),
        ));
    }
    out
}

/// Bytes in binary units as kubectl's quantities write them (`512Ki`, `9.6Gi`, `120Gi`), one
/// decimal under 10; `?` when unknown.
pub fn bytes(b: Option<u64>) -> String {
    let Some(b) = b else { return "?".into() };
    const UNITS: [&str; 6] = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
    if b < 1024 {
        return b.to_string();
    }
    // Integer arithmetic, rounded down, so 9.99Gi never reads as 10.0Gi.
    let b = u128::from(b);
    let (mut size, mut i) = (1024u128, 0);
    while i + 1 < UNITS.len() && b >= size * 1024 {
        size *= 1024;
        i += 1;
    }
    let tenths = b * 10 / size;
    if tenths < 100 {
        format!("{}.{}{}", tenths / 10, tenths % 10, UNITS[i])
    } else {
        format!("{}{}", tenths / 10, UNITS[i])
    }
}

/// A count, or `?` when unknown.
fn count(n: Option<u64>) -> String {
    n.map_or_else(|| "?".into(), |n| n.to_string())
}

#[cfg(test)]
mod tests;
