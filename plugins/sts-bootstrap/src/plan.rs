//! The plan: named preflight [`Check`]s, the [`Step`]s to converge with their [`StepStatus`], and
//! each step's [`Action`] (data only, no secrets: the engine modules turn it into commands).

use serde::Serialize;

use crate::topology::{Member, Topology};
use crate::{API_VERSION, Engine};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CheckStatus {
    Pass,
    Warn,
    Fail,
    /// Not checked (e.g. planning from a file).
    Skipped,
}

/// A named preflight check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub name: String,
    pub status: CheckStatus,
    pub message: String,
}

impl Check {
    pub fn new(name: &str, status: CheckStatus, message: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            status,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StepStatus {
    /// Would run (plan) / will run next (apply).
    Pending,
    /// Live state shows it is already done.
    Done,
    /// Cannot run; `reason` says why and what to do.
    Blocked,
}

/// One step of a plan. `action` is what the executor does; `description` is for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// Stable id, e.g. `initiate`, `add/mongo-2`, `reseed/todo-db-1`.
    pub id: String,
    pub pod: String,
    pub description: String,
    pub status: StepStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub action: Action,
}

/// What a step does. Data only (no secrets): the engine modules turn it into commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Action {
    // MongoDB
    #[serde(rename_all = "camelCase")]
    Initiate {
        set: String,
        host: String,
    },
    WaitPrimary,
    #[serde(rename_all = "camelCase")]
    AddMember {
        host: String,
    },
    #[serde(rename_all = "camelCase")]
    PromoteMember {
        host: String,
    },
    #[serde(rename_all = "camelCase")]
    RemoveMember {
        host: String,
    },
    // PostgreSQL
    #[serde(rename_all = "camelCase")]
    CheckWalSettings,
    #[serde(rename_all = "camelCase")]
    CreateReplicationRole {
        role: String,
    },
    #[serde(rename_all = "camelCase")]
    AddHbaRule {
        role: String,
    },
    #[serde(rename_all = "camelCase")]
    CreateSlot {
        slot: String,
    },
    #[serde(rename_all = "camelCase")]
    Reseed {
        replica: String,
        slot: String,
    },
    // Redis / Valkey
    /// `masterauth` (from the pod's own environment) and `REPLICAOF host port` on `step.pod`.
    #[serde(rename_all = "camelCase")]
    ReplicaOf {
        host: String,
        port: u16,
    },
    /// `CONFIG REWRITE` on `step.pod`.
    PersistConfig,
    // MariaDB / MySQL
    /// Binary logging on the primary, distinct `server_id`s, GTID mode (checked, never changed).
    CheckServerSettings,
    /// Create the replication user with the password from the replication Secret (stdin).
    #[serde(rename_all = "camelCase")]
    CreateReplicationUser {
        user: String,
    },
    /// Grant an existing replication user what it lacks (no password involved).
    #[serde(rename_all = "camelCase")]
    GrantReplication {
        user: String,
    },
    /// Dump the primary at `host` into the empty replica `step.pod`, inside its pod.
    #[serde(rename_all = "camelCase")]
    SeedReplica {
        host: String,
    },
    /// GTID replication of `step.pod` from `host:port`, started and awaited.
    #[serde(rename_all = "camelCase")]
    StartReplication {
        host: String,
        port: u16,
    },
    /// `read_only = ON` on `step.pod`.
    SetReadOnly,
    /// Nothing to run: a note or a final check.
    Note,
}

/// A plan: what the live state (or the manifests) say, and the steps to converge.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub statefulset: String,
    pub namespace: String,
    pub engine: Engine,
    pub container: String,
    /// "cluster" (live state read through exec) or "file" (manifests only, fresh pods assumed).
    pub source: String,
    pub members: Vec<Member>,
    pub checks: Vec<Check>,
    /// What was observed, one line per pod.
    pub observed: Vec<String>,
    pub steps: Vec<Step>,
    /// Why nothing may run, when a check or the observed state forbids it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    pub notes: Vec<String>,
}

impl Plan {
    pub fn new(topo: &Topology, source: &str) -> Plan {
        Plan {
            api_version: API_VERSION,
            kind: "BootstrapPlan",
            statefulset: topo.statefulset.clone(),
            namespace: topo.namespace.clone(),
            engine: topo.engine,
            container: topo.container.clone(),
            source: source.into(),
            members: topo.members.clone(),
            checks: Vec::new(),
            observed: Vec::new(),
            steps: Vec::new(),
            refused: None,
            notes: Vec::new(),
        }
    }

    pub fn refuse(&mut self, why: impl Into<String>) {
        if self.refused.is_none() {
            self.refused = Some(why.into());
        }
    }

    pub fn step(
        &mut self,
        id: String,
        pod: &str,
        action: Action,
        description: String,
    ) -> &mut Step {
        self.steps.push(Step {
            id,
            pod: pod.into(),
            description,
            status: StepStatus::Pending,
            reason: None,
            action,
        });
        self.steps.last_mut().expect("just pushed")
    }

    pub fn pending(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.status == StepStatus::Pending)
    }

    pub fn blocked(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.status == StepStatus::Blocked)
    }

    pub fn all_done(&self) -> bool {
        self.steps.iter().all(|s| s.status == StepStatus::Done)
    }
}

impl Step {
    pub fn done(&mut self, why: impl Into<String>) -> &mut Self {
        self.status = StepStatus::Done;
        self.reason = Some(why.into());
        self
    }
    pub fn block(&mut self, why: impl Into<String>) -> &mut Self {
        self.status = StepStatus::Blocked;
        self.reason = Some(why.into());
        self
    }
    pub fn because(&mut self, why: impl Into<String>) -> &mut Self {
        self.reason = Some(why.into());
        self
    }
}
