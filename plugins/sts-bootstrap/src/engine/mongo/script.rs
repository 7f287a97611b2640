//! MongoDB: what runs in the pods. The argv that finds the shell (mongosh, else legacy mongo)
//! and runs JavaScript against the local mongod with the pod's own credentials, and the scripts:
//! the probe, `rs.initiate`, and the reconfigs that add, promote and remove a member. Every
//! script prints one marker line with its JSON result.

use crate::topology::Topology;
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
