//! MongoDB: parsers of what the shells print — our marker line with JSON, or the shells' own
//! extended-JSON text (legacy `NumberLong(5)`, mongosh `Long('5')`) — into command results
//! (with explanations of the error codes we act on), replica-set configs and statuses, and
//! one [`MemberProbe`] per member.

use serde::Serialize;
use serde_json::Value;

use super::MARK;

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
