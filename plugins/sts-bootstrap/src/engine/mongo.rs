//! MongoDB: the scripts run through exec, the parsers of what they print (our JSON, or the mongo
//! shells' own extended-JSON text), and the pure planner.
//!
//! Rules (see reference/sts-bootstrap.md): query every member before anything; a member that
//! has a replica-set config means never initiate again; two different configs (set name or
//! replicaSetId) is a split and we refuse; initiate on ordinal 0 with only itself; add the others
//! with votes 0 / priority 0, then promote each to votes 1 / priority 1 once it is SECONDARY
//! (at most 7 voting members); after a scale-up only new ordinals are added; members whose pods
//! are gone are removed only with `--remove-missing`. Error 103 is never success.

use serde::Serialize;
use serde_json::Value;

use crate::{Action, Engine, Plan, StepStatus, Topology};
use stateful_core::exec::{sh, shell_quote};

/// Marker before our JSON line, so shell banners and warnings cannot be mistaken for results.
pub const MARK: &str = "@@STS@@";

/// Finds the shell: mongosh (5.0+), else legacy mongo (≤ 5.0). Prints its name or exits 127.
pub fn probe_shell_argv() -> Vec<String> {
    sh(
        "if command -v mongosh >/dev/null 2>&1; then echo mongosh; elif command -v mongo >/dev/null 2>&1; then echo mongo; else echo 'no mongosh or mongo in PATH' >&2; exit 127; fi",
    )
}

/// argv that runs `js` in `shell` against the local mongod. Credentials, when the container has
/// them, are read inside the pod from its own environment: mongosh gets them from
/// `process.env` in the script (on no argv at all); the legacy shell, which cannot read the
/// environment, gets `-u/-p` expanded by the pod's `sh` (never on the exec URL).
pub fn shell_argv(topo: &Topology, shell: &str, js: &str) -> Vec<String> {
    let shell = if shell == "mongo" { "mongo" } else { "mongosh" };
    let mut script = format!(
        "exec {shell} --quiet --norc --host 127.0.0.1 --port {}",
        topo.port
    );
    let mut js = js.to_string();
    if let Some((u, p)) = &topo.mongo_auth {
        if shell == "mongosh" {
            js = format!("db.getSiblingDB('admin').auth(process.env.{u}, process.env.{p});\n{js}");
        } else {
            script.push_str(&format!(
                " -u \"${u}\" -p \"${p}\" --authenticationDatabase admin"
            ));
        }
    }
    script.push_str(&format!(" --eval {}", shell_quote(&js)));
    sh(script)
}

/// Helpers shared by every script: run a command without throwing (mongosh throws on ok:0,
/// the legacy shell returns the document), print our marker line, exit with a code.
const PRELUDE: &str = r#"function __run(c){try{var r=db.adminCommand(c);return r;}catch(e){return {ok:0,code:e.code,codeName:e.codeName,errmsg:String(e.message||e)};}}
function __oid(x){if(!x)return null;if(x.toHexString)return x.toHexString();if(x.str)return x.str;return String(x);}
function __out(o,code){print("@@STS@@"+JSON.stringify(o));quit(code);}
"#;

/// Read everything we need about one member. Always exits 0 when the shell ran.
pub fn probe_js() -> String {
    format!(
        r#"{PRELUDE}var o={{}};
o.hello=__run({{isMaster:1}});
o.conf=__run({{replSetGetConfig:1}});
if(o.conf&&o.conf.config&&o.conf.config.settings){{o.conf.config.settings={{replicaSetId:__oid(o.conf.config.settings.replicaSetId)}};}}
o.status=__run({{replSetGetStatus:1}});
__out(o,0);"#
    )
}

/// `rs.initiate` with only ordinal 0; refuses (exit 3) if this member has a config already.
pub fn initiate_js(set: &str, host: &str) -> String {
    let cfg = serde_json::json!({"_id": set, "members": [{"_id": 0, "host": host}]});
    format!(
        r#"{PRELUDE}var s=__run({{replSetGetStatus:1}});
if(s.ok||s.code!==94){{__out({{ok:0,code:s.code||0,errmsg:"refusing to initiate: this member already has a replica-set config or is not ready ("+(s.errmsg||"ok")+")"}},3);}}
var r=__run({{replSetInitiate:{cfg}}});
__out({{ok:r.ok,code:r.code,codeName:r.codeName,errmsg:r.errmsg}},r.ok?0:1);"#
    )
}

/// Reconfigure on the primary: `op` is JS that edits `c` (the current config) and may
/// `__out(...,0)` early when there is nothing to change. Bumps the version.
fn reconfig_js(op: &str) -> String {
    format!(
        r#"{PRELUDE}var g=__run({{replSetGetConfig:1}});
if(!g.ok){{__out({{ok:0,code:g.code,codeName:g.codeName,errmsg:g.errmsg}},1);}}
var c=g.config;
{op}
c.version=c.version+1;
var r=__run({{replSetReconfig:c}});
__out({{ok:r.ok,code:r.code,codeName:r.codeName,errmsg:r.errmsg}},r.ok?0:1);"#
    )
}

/// Add `host` with votes 0 / priority 0 (no-op when present).
pub fn add_member_js(host: &str) -> String {
    let h = serde_json::to_string(host).unwrap_or_default();
    reconfig_js(&format!(
        r#"for(var i=0;i<c.members.length;i++){{if(c.members[i].host=={h}){{__out({{ok:1,already:true}},0);}}}}
var id=0;for(var i=0;i<c.members.length;i++){{if(c.members[i]._id>=id)id=c.members[i]._id+1;}}
c.members.push({{_id:id,host:{h},votes:0,priority:0}});"#
    ))
}

/// Give `host` votes 1 / priority 1 (no-op when it has them).
pub fn promote_member_js(host: &str) -> String {
    let h = serde_json::to_string(host).unwrap_or_default();
    reconfig_js(&format!(
        r#"var f=null;for(var i=0;i<c.members.length;i++){{if(c.members[i].host=={h})f=c.members[i];}}
if(!f){{__out({{ok:0,errmsg:"member not in config"}},1);}}
if(f.votes===1&&f.priority>0){{__out({{ok:1,already:true}},0);}}
f.votes=1;f.priority=1;"#
    ))
}

/// Drop `host` from the config (no-op when absent).
pub fn remove_member_js(host: &str) -> String {
    let h = serde_json::to_string(host).unwrap_or_default();
    reconfig_js(&format!(
        r#"var n=c.members.filter(function(m){{return m.host!={h};}});
if(n.length==c.members.length){{__out({{ok:1,already:true}},0);}}
c.members=n;"#
    ))
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// Turn mongo-shell output (legacy `{ "a" : ISODate("…"), "t" : NumberLong(5) }` or mongosh
/// `{ a: ISODate('…'), t: Long('5') }`) into JSON. Our scripts print plain JSON already; this is
/// for recorded outputs and for robustness.
pub fn shell_text_to_json(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' {
            let (s, next) = read_string(&chars, i);
            out.push_str(&serde_json::to_string(&s).unwrap_or_default());
            i = next;
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut j = i;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            if j < chars.len() && chars[j] == '(' {
                // A wrapper: Fn(args). Find the matching ')'.
                let mut depth = 0;
                let mut k = j;
                let mut inner = String::new();
                while k < chars.len() {
                    let ch = chars[k];
                    if ch == '"' || ch == '\'' {
                        let (s, next) = read_string(&chars, k);
                        inner.push_str(&serde_json::to_string(&s).unwrap_or_default());
                        k = next;
                        continue;
                    }
                    if ch == '(' {
                        depth += 1;
                        if depth == 1 {
                            k += 1;
                            continue;
                        }
                    }
                    if ch == ')' {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    inner.push(ch);
                    k += 1;
                }
                out.push_str(&wrapper_to_json(&word, inner.trim()));
                i = k + 1;
                continue;
            }
            if j < chars.len() && chars[j] == ':' {
                out.push_str(&serde_json::to_string(&word).unwrap_or_default());
            } else {
                out.push_str(&word);
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn read_string(chars: &[char], start: usize) -> (String, usize) {
    let q = chars[start];
    let mut s = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let n = chars[i + 1];
            s.push(match n {
                'n' => '\n',
                't' => '\t',
                other => other,
            });
            i += 2;
            continue;
        }
        if c == q {
            return (s, i + 1);
        }
        s.push(c);
        i += 1;
    }
    (s, i)
}

fn wrapper_to_json(name: &str, inner: &str) -> String {
    let args: Vec<&str> = inner.split(',').map(str::trim).collect();
    let unq =
        |s: &str| -> String { serde_json::from_str::<String>(s).unwrap_or_else(|_| s.to_string()) };
    match name {
        "ISODate" | "ObjectId" | "UUID" | "NumberDecimal" | "Decimal128" => {
            serde_json::to_string(&unq(inner)).unwrap_or_default()
        }
        "NumberLong" | "NumberInt" | "Long" | "Int32" | "Double" => {
            let n = unq(inner);
            if n.parse::<f64>().is_ok() {
                n
            } else {
                "null".into()
            }
        }
        "Timestamp" => {
            // Timestamp(1, 2) or Timestamp({ t: 1, i: 2 })
            if inner.starts_with('{') {
                shell_text_to_json(inner)
            } else {
                format!(
                    "{{\"t\":{},\"i\":{}}}",
                    args.first().copied().unwrap_or("0"),
                    args.get(1).copied().unwrap_or("0")
                )
            }
        }
        "BinData" | "Binary" => {
            serde_json::to_string(&unq(args.last().copied().unwrap_or(""))).unwrap_or_default()
        }
        _ => "null".into(),
    }
}

/// Parse one result document: our JSON, or shell text.
pub fn parse_doc(text: &str) -> Option<Value> {
    let t = text.trim();
    serde_json::from_str(t)
        .ok()
        .or_else(|| serde_json::from_str(&shell_text_to_json(t)).ok())
}

/// `ok`, `code`, `codeName`, `errmsg` of a command result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CmdResult {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errmsg: Option<String>,
}

/// Error codes we act on.
pub const NOT_YET_INITIALIZED: i64 = 94;
pub const INVALID_REPLICA_SET_CONFIG: i64 = 93;
pub const NEW_CONFIG_INCOMPATIBLE: i64 = 103;

impl CmdResult {
    pub fn from_value(v: &Value) -> CmdResult {
        let ok = match v.get("ok") {
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0) >= 1.0,
            _ => false,
        };
        CmdResult {
            ok,
            code: v.get("code").and_then(Value::as_i64),
            code_name: v
                .get("codeName")
                .and_then(Value::as_str)
                .map(str::to_string),
            errmsg: v.get("errmsg").and_then(Value::as_str).map(str::to_string),
        }
    }

    pub fn not_initialized(&self) -> bool {
        !self.ok
            && (self.code == Some(NOT_YET_INITIALIZED)
                || self.code_name.as_deref() == Some("NotYetInitialized"))
    }

    /// A human explanation for the error codes that matter here.
    pub fn explain(&self) -> String {
        let base = format!(
            "{}{}{}",
            self.errmsg.as_deref().unwrap_or("command failed"),
            self.code.map(|c| format!(" (code {c}")).unwrap_or_default(),
            match (&self.code, &self.code_name) {
                (Some(_), Some(n)) => format!(" {n})"),
                (Some(_), None) => ")".into(),
                _ => String::new(),
            }
        );
        let hint = match self.code {
            Some(NOT_YET_INITIALIZED) => "; the member has no replica-set config yet",
            Some(INVALID_REPLICA_SET_CONFIG) => {
                "; the config is invalid for this node: check that the member's FQDN resolves to this pod (DNS ready, publishNotReadyAddresses) and that --replSet matches"
            }
            Some(NEW_CONFIG_INCOMPATIBLE) => {
                "; the new config conflicts with the current one (duplicate host, too many voting members, or two names mapping to one node): not treated as success"
            }
            Some(74) => {
                "; no member of the config maps to this node: the FQDN does not resolve to this pod yet"
            }
            _ => "",
        };
        format!("{base}{hint}")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfMember {
    pub id: i64,
    pub host: String,
    pub votes: i64,
    pub priority: f64,
    pub arbiter_only: bool,
}

/// The parts of `rs.conf()` / `replSetGetConfig` we use.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RsConfig {
    pub set: String,
    pub version: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica_set_id: Option<String>,
    pub members: Vec<ConfMember>,
}

/// `rs.conf()` output (the config document) or `replSetGetConfig` output (`{config, ok}`).
/// `Err` carries the command error (e.g. 94 NotYetInitialized).
pub fn parse_conf(v: &Value) -> Result<RsConfig, CmdResult> {
    let doc = v.get("config").unwrap_or(v);
    let Some(set) = doc.get("_id").and_then(Value::as_str) else {
        return Err(CmdResult::from_value(v));
    };
    let members = doc
        .get("members")
        .and_then(Value::as_array)
        .map(|ms| {
            ms.iter()
                .map(|m| ConfMember {
                    id: m.get("_id").and_then(Value::as_i64).unwrap_or(-1),
                    host: m
                        .get("host")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    votes: m.get("votes").and_then(Value::as_i64).unwrap_or(1),
                    priority: m.get("priority").and_then(Value::as_f64).unwrap_or(1.0),
                    arbiter_only: m
                        .get("arbiterOnly")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                })
                .collect()
        })
        .unwrap_or_default();
    let rsid = doc.pointer("/settings/replicaSetId").and_then(|x| match x {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o
            .get("$oid")
            .or_else(|| o.get("str"))
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    });
    Ok(RsConfig {
        set: set.to_string(),
        version: doc.get("version").and_then(Value::as_i64).unwrap_or(0),
        replica_set_id: rsid,
        members,
    })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusMember {
    pub id: i64,
    pub name: String,
    pub health: f64,
    pub state_str: String,
    #[serde(rename = "self")]
    pub is_self: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optime_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_source: Option<String>,
}

/// The parts of `rs.status()` / `replSetGetStatus` we use.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RsStatus {
    pub set: String,
    pub my_state: i64,
    pub members: Vec<StatusMember>,
}

pub fn parse_status(v: &Value) -> Result<RsStatus, CmdResult> {
    let Some(set) = v.get("set").and_then(Value::as_str) else {
        return Err(CmdResult::from_value(v));
    };
    let date = |x: Option<&Value>| -> Option<String> {
        match x? {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => match o.get("$date")? {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => n
                    .as_i64()
                    .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
                    .map(|t| t.to_string()),
                _ => None,
            },
            _ => None,
        }
    };
    let members = v
        .get("members")
        .and_then(Value::as_array)
        .map(|ms| {
            ms.iter()
                .map(|m| StatusMember {
                    id: m.get("_id").and_then(Value::as_i64).unwrap_or(-1),
                    name: m
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    health: m.get("health").and_then(Value::as_f64).unwrap_or(0.0),
                    state_str: m
                        .get("stateStr")
                        .and_then(Value::as_str)
                        .unwrap_or("UNKNOWN")
                        .to_string(),
                    is_self: m.get("self").and_then(Value::as_bool).unwrap_or(false),
                    optime_date: date(m.get("optimeDate")),
                    sync_source: m
                        .get("syncSourceHost")
                        .or_else(|| m.get("syncingTo"))
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(RsStatus {
        set: set.to_string(),
        my_state: v.get("myState").and_then(Value::as_i64).unwrap_or(0),
        members,
    })
}

/// What one member said about itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberProbe {
    pub pod: String,
    pub host: String,
    /// The shell found in the container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell: Option<String>,
    /// Why the member could not be queried (exec failed, shell missing, mongod down).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub is_primary: bool,
    pub is_secondary: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<RsConfig>,
    /// `replSetGetConfig` failed with 94: no config yet.
    pub not_initialized: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_error: Option<CmdResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<RsStatus>,
}

impl MemberProbe {
    pub fn failed(pod: &str, host: &str, error: impl Into<String>) -> Self {
        MemberProbe {
            pod: pod.into(),
            host: host.into(),
            shell: None,
            error: Some(error.into()),
            is_primary: false,
            is_secondary: false,
            config: None,
            not_initialized: false,
            config_error: None,
            status: None,
        }
    }

    /// This member's state as it says it (`PRIMARY`, `SECONDARY`, `STARTUP2`…).
    pub fn state(&self) -> Option<&str> {
        self.status
            .as_ref()?
            .members
            .iter()
            .find(|m| m.is_self)
            .map(|m| m.state_str.as_str())
    }
}

/// Parse the probe script's stdout.
pub fn parse_probe(pod: &str, host: &str, shell: &str, stdout: &str) -> MemberProbe {
    let Some(line) = stdout.lines().find_map(|l| l.trim().strip_prefix(MARK)) else {
        return MemberProbe::failed(
            pod,
            host,
            format!(
                "no result from {shell}: {}",
                stdout.lines().last().unwrap_or("(no output)")
            ),
        );
    };
    let Some(v) = parse_doc(line) else {
        return MemberProbe::failed(pod, host, "unreadable result from the probe");
    };
    let hello = v.get("hello").cloned().unwrap_or(Value::Null);
    let mut p = MemberProbe::failed(pod, host, "");
    p.error = None;
    p.shell = Some(shell.into());
    if !CmdResult::from_value(&hello).ok {
        p.error = Some(format!(
            "isMaster failed: {}",
            CmdResult::from_value(&hello).explain()
        ));
        return p;
    }
    p.is_primary = hello
        .get("ismaster")
        .or_else(|| hello.get("isWritablePrimary"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
        && hello.get("setName").is_some();
    p.is_secondary = hello
        .get("secondary")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if let Some(c) = v.get("conf") {
        match parse_conf(c) {
            Ok(conf) => p.config = Some(conf),
            Err(e) => {
                p.not_initialized = e.not_initialized();
                p.config_error = Some(e);
            }
        }
    }
    if let Some(s) = v.get("status") {
        p.status = parse_status(s).ok();
    }
    p
}

// ---------------------------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------------------------

const MAX_VOTING: usize = 7;

/// Plan from what every member said (`None`: from manifests only, fresh pods assumed).
pub fn plan(topo: &Topology, observed: Option<&[MemberProbe]>, mut plan: Plan) -> Plan {
    debug_assert_eq!(topo.engine, Engine::MongoDb);
    let Some(set) = topo.repl_set.clone() else {
        plan.refuse(format!(
            "container {} does not run `mongod --replSet NAME`: add --replSet to its command or args first",
            topo.container
        ));
        return plan;
    };
    if topo.members.is_empty() {
        plan.refuse("the StatefulSet has 0 replicas");
        return plan;
    }
    let fresh: Vec<MemberProbe>;
    let probes: &[MemberProbe] = match observed {
        Some(p) => p,
        None => {
            fresh = topo
                .members
                .iter()
                .map(|m| {
                    let mut p = MemberProbe::failed(&m.pod, &m.host, "");
                    p.error = None;
                    p.not_initialized = true;
                    p
                })
                .collect();
            plan.notes.push(
                "planned from manifests only: every pod is assumed fresh (no replica-set config)"
                    .into(),
            );
            &fresh
        }
    };
    for p in probes {
        plan.observed.push(describe_probe(p));
    }
    if let Some(bad) = probes.iter().find(|p| p.error.is_some()) {
        plan.refuse(format!(
            "cannot query {}: {} — every member must be queried before anything is changed",
            bad.pod,
            bad.error.as_deref().unwrap_or_default()
        ));
    }

    // Every config seen, grouped by identity.
    let with_conf: Vec<&MemberProbe> = probes.iter().filter(|p| p.config.is_some()).collect();
    let mut identities: Vec<(String, Option<String>, Vec<&str>)> = Vec::new();
    for p in &with_conf {
        let c = p.config.as_ref().expect("filtered");
        match identities
            .iter_mut()
            .find(|(s, id, _)| *s == c.set && ids_match(id.as_deref(), c.replica_set_id.as_deref()))
        {
            Some(e) => e.2.push(&p.pod),
            None => identities.push((c.set.clone(), c.replica_set_id.clone(), vec![&p.pod])),
        }
    }
    if identities.len() > 1 {
        let desc: Vec<String> = identities
            .iter()
            .map(|(s, id, pods)| {
                format!(
                    "{} in set {s:?} replicaSetId {}",
                    pods.join(", "),
                    id.as_deref().unwrap_or("?")
                )
            })
            .collect();
        plan.refuse(format!(
            "split replica set: members hold different configs ({}). Typically a member came back with an empty volume and was initiated on its own. Decide which set holds the data, wipe or resync the others by hand, then run again",
            desc.join("; ")
        ));
    }
    if let Some((s, _, pods)) = identities.iter().find(|(s, _, _)| *s != set) {
        plan.refuse(format!(
            "{} belong to replica set {s:?} but mongod runs with --replSet {set:?}",
            pods.join(", ")
        ));
    }
    if plan.refused.is_some() {
        return plan;
    }

    let pod0 = &topo.members[0];
    // The newest config among members (all of one identity now).
    let conf = with_conf
        .iter()
        .filter_map(|p| p.config.as_ref())
        .max_by_key(|c| c.version)
        .cloned();
    let primary = probes.iter().find(|p| p.is_primary);

    let init = plan.step(
        "initiate".into(),
        &pod0.pod,
        Action::Initiate {
            set: set.clone(),
            host: pod0.host.clone(),
        },
        format!(
            "rs.initiate set {set:?} with {} as its only member",
            pod0.host
        ),
    );
    if let Some(c) = &conf {
        init.done(format!(
            "already initiated: set {:?} replicaSetId {} version {} (never initiated twice)",
            c.set,
            c.replica_set_id.as_deref().unwrap_or("?"),
            c.version
        ));
    }
    let wait = plan.step(
        "wait-primary".into(),
        &pod0.pod,
        Action::WaitPrimary,
        "wait until a member is PRIMARY".into(),
    );
    if let Some(p) = primary {
        wait.done(format!("{} is PRIMARY", p.pod));
    }

    let in_conf = |host: &str| -> Option<&ConfMember> {
        conf.as_ref()
            .and_then(|c| c.members.iter().find(|m| m.host.eq_ignore_ascii_case(host)))
    };
    let state_of = |host: &str| -> Option<String> {
        probes
            .iter()
            .find(|p| p.host == host)
            .and_then(|p| p.state().map(str::to_string))
            .or_else(|| {
                primary.and_then(|p| {
                    p.status.as_ref().and_then(|s| {
                        s.members
                            .iter()
                            .find(|m| m.name.eq_ignore_ascii_case(host))
                            .map(|m| m.state_str.clone())
                    })
                })
            })
    };
    let mut voting = conf
        .as_ref()
        .map(|c| c.members.iter().filter(|m| m.votes > 0).count())
        .unwrap_or(1);
    for m in topo.members.iter().skip(1) {
        let step = plan.step(
            format!("add/{}", m.pod),
            &m.pod,
            Action::AddMember {
                host: m.host.clone(),
            },
            format!("add {} (votes 0, priority 0)", m.host),
        );
        let member = in_conf(&m.host);
        if member.is_some() {
            step.done("already a member");
        }
        let promote = plan.step(
            format!("promote/{}", m.pod),
            &m.pod,
            Action::PromoteMember {
                host: m.host.clone(),
            },
            format!("give {} votes 1, priority 1 once SECONDARY", m.host),
        );
        match member {
            Some(cm) if cm.votes > 0 => {
                promote.done("already voting");
            }
            _ if voting >= MAX_VOTING => {
                promote.done(format!(
                    "stays non-voting: a replica set has at most {MAX_VOTING} voting members"
                ));
            }
            _ => {
                voting += 1;
                if let Some(st) = state_of(&m.host)
                    && st != "SECONDARY"
                {
                    promote.because(format!("waits for SECONDARY (now {st})"));
                }
            }
        }
    }
    // Members in the config that are not pods of this StatefulSet any more.
    if let Some(c) = &conf {
        for cm in &c.members {
            if topo
                .members
                .iter()
                .any(|m| m.host.eq_ignore_ascii_case(&cm.host))
            {
                continue;
            }
            let looks_like_ip = cm
                .host
                .rsplit_once(':')
                .map(|(h, _)| h)
                .unwrap_or(&cm.host)
                .parse::<std::net::IpAddr>()
                .is_ok();
            if looks_like_ip {
                plan.notes.push(format!(
                    "member {} is named by IP address: pod IPs change on restart; reconfigure it to its FQDN by hand",
                    cm.host
                ));
                continue;
            }
            let step = plan.step(
                format!("remove/{}", cm.host),
                "-",
                Action::RemoveMember {
                    host: cm.host.clone(),
                },
                format!("remove {} (no such pod in the StatefulSet)", cm.host),
            );
            if !topo.remove_missing {
                step.done("kept: pass --remove-missing to remove members whose pods are gone");
            }
        }
    }
    plan
}

fn ids_match(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        // An old config without settings.replicaSetId: compare by set name only.
        _ => true,
    }
}

fn describe_probe(p: &MemberProbe) -> String {
    if let Some(e) = &p.error {
        return format!("{}: cannot query: {e}", p.pod);
    }
    let shell = p.shell.as_deref().unwrap_or("-");
    match (&p.config, &p.config_error) {
        (Some(c), _) => format!(
            "{}: {} in set {:?} (replicaSetId {}, config version {}, {} members) [{shell}]",
            p.pod,
            p.state()
                .unwrap_or(if p.is_primary { "PRIMARY" } else { "member" }),
            c.set,
            c.replica_set_id.as_deref().unwrap_or("?"),
            c.version,
            c.members.len()
        ),
        (None, Some(e)) if p.not_initialized => {
            format!(
                "{}: no replica-set config ({}) [{shell}]",
                p.pod,
                e.explain()
            )
        }
        (None, Some(e)) => format!("{}: config unreadable: {} [{shell}]", p.pod, e.explain()),
        (None, None) => format!("{}: fresh (assumed)", p.pod),
    }
}

// ---------------------------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------------------------

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

/// Is every pod a healthy PRIMARY/SECONDARY in the config?
pub fn converged(plan: &Plan) -> bool {
    plan.steps.iter().all(|s| s.status == StepStatus::Done)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
