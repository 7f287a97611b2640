//! MongoDB: `status` rows — the replica set as the primary (or any member) sees it, with lag.

use serde::Serialize;

use super::MemberProbe;
use crate::topology::Topology;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRow {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    pub state: String,
    pub health: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_source: Option<String>,
}

/// Rows of the replica set as the primary (or, without one, any member) sees it; lag is the
/// primary's optime minus the member's.
pub fn status_rows(topo: &Topology, probes: &[MemberProbe]) -> Vec<StatusRow> {
    let view = probes
        .iter()
        .find(|p| p.is_primary && p.status.is_some())
        .or_else(|| probes.iter().find(|p| p.status.is_some()));
    let Some(st) = view.and_then(|p| p.status.as_ref()) else {
        return Vec::new();
    };
    let ts = |s: &Option<String>| s.as_deref().and_then(|d| d.parse::<jiff::Timestamp>().ok());
    let primary_t = st
        .members
        .iter()
        .find(|m| m.state_str == "PRIMARY")
        .and_then(|m| ts(&m.optime_date));
    st.members
        .iter()
        .map(|m| StatusRow {
            name: m.name.clone(),
            pod: topo
                .members
                .iter()
                .find(|x| x.host.eq_ignore_ascii_case(&m.name))
                .map(|x| x.pod.clone()),
            state: m.state_str.clone(),
            health: m.health,
            lag_seconds: match (primary_t, ts(&m.optime_date)) {
                (Some(p), Some(t)) => Some((p.as_second() - t.as_second()).max(0)),
                _ => None,
            },
            sync_source: m.sync_source.clone(),
        })
        .collect()
}
