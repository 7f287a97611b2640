//! MongoDB through exec: observe every member (find its shell, run the probe), run each kind of
//! step (initiate, wait for a PRIMARY, add, promote, remove), and verify after convergence.

use super::{
    CmdResult, MemberProbe, add_member_js, initiate_js, parse_doc, parse_probe, probe_js,
    probe_shell_argv, promote_member_js, remove_member_js, shell_argv, status_rows,
};
use crate::ctx::{Ctx, poll};
use crate::engine::Observed;
use stateful_core::error::{Error, Result};
use stateful_core::exec::PodExec;

/// The engine-binary preflight check: a script that fails when the shell is missing, and what
/// it looks for.
pub const BINARY_CHECK: &str = "command -v mongosh || command -v mongo";
pub const BINARY_NAMES: &str = "mongosh or mongo";

/// The shell in the member's container (`mongosh` or `mongo`), or why there is none.
async fn which_shell<E: PodExec>(
    ctx: &Ctx<'_, E>,
    pod: &str,
) -> std::result::Result<String, String> {
    match ctx.run(pod, probe_shell_argv(), None).await {
        Ok(o) if o.success() => Ok(o.stdout.trim().to_string()),
        Ok(o) => Err(o.brief()),
        Err(e) => Err(e.to_string()),
    }
}

/// Probe every member, in ordinal order.
pub async fn observe<E: PodExec>(ctx: &Ctx<'_, E>) -> Vec<MemberProbe> {
    let mut out = Vec::new();
    for m in &ctx.topo.members {
        let probe = match which_shell(ctx, &m.pod).await {
            Err(e) => MemberProbe::failed(&m.pod, &m.host, e),
            Ok(shell) => {
                let argv = shell_argv(ctx.topo, &shell, &probe_js());
                match ctx.run(&m.pod, argv, None).await {
                    Ok(o) if o.success() => parse_probe(&m.pod, &m.host, &shell, &o.stdout),
                    Ok(o) => {
                        MemberProbe::failed(&m.pod, &m.host, format!("{shell}: {}", o.brief()))
                    }
                    Err(e) => MemberProbe::failed(&m.pod, &m.host, e.to_string()),
                }
            }
        };
        out.push(probe);
    }
    out
}

/// Run `js` on `pod` and read its marker line: `ok` is success, anything else is explained.
async fn script<E: PodExec>(ctx: &Ctx<'_, E>, pod: &str, js: &str, what: &str) -> Result<String> {
    let shell = which_shell(ctx, pod)
        .await
        .map_err(|e| Error::Failed(format!("{pod}: {e}")))?;
    let out = ctx.run(pod, shell_argv(ctx.topo, &shell, js), None).await?;
    let res = out
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix(super::MARK))
        .and_then(parse_doc)
        .map(|v| CmdResult::from_value(&v));
    match res {
        Some(r) if r.ok && out.success() => Ok(format!("{what}: ok")),
        Some(r) => Err(Error::Failed(format!("{what} on {pod}: {}", r.explain()))),
        None => Err(Error::Failed(format!("{what} on {pod}: {}", out.brief()))),
    }
}

/// The PRIMARY in the observation the step was planned from (reconfigs run there).
fn primary(observed: &Observed) -> Result<String> {
    match observed {
        Observed::Mongo(ps) => ps
            .iter()
            .find(|p| p.is_primary)
            .map(|p| p.pod.clone())
            .ok_or_else(|| Error::Failed("no member is PRIMARY".into())),
        _ => Err(Error::Other("not a MongoDB observation".into())),
    }
}

/// Step `initiate`.
pub(crate) async fn initiate<E: PodExec>(
    ctx: &Ctx<'_, E>,
    pod: &str,
    set: &str,
    host: &str,
) -> Result<Option<String>> {
    script(ctx, pod, &initiate_js(set, host), "rs.initiate")
        .await
        .map(Some)
}

/// Step `wait-primary`.
pub(crate) async fn wait_primary<E: PodExec>(ctx: &Ctx<'_, E>) -> Result<Option<String>> {
    let pod = poll(ctx, "a PRIMARY to be elected", async || {
        observe(ctx)
            .await
            .into_iter()
            .find(|p| p.is_primary)
            .map(|p| p.pod)
    })
    .await?;
    Ok(Some(format!("{pod} is PRIMARY")))
}

/// Step `add/<pod>`, on the PRIMARY.
pub(crate) async fn add_member<E: PodExec>(
    ctx: &Ctx<'_, E>,
    observed: &Observed,
    host: &str,
) -> Result<Option<String>> {
    let p = primary(observed)?;
    script(ctx, &p, &add_member_js(host), "add member")
        .await
        .map(Some)
}

/// Step `promote/<pod>`: once the member is SECONDARY, on the PRIMARY.
pub(crate) async fn promote_member<E: PodExec>(
    ctx: &Ctx<'_, E>,
    observed: &Observed,
    host: &str,
) -> Result<Option<String>> {
    poll(ctx, &format!("{host} to become SECONDARY"), async || {
        observe(ctx)
            .await
            .into_iter()
            .find(|p| p.host == host)
            .filter(|p| p.state() == Some("SECONDARY"))
            .map(|_| ())
    })
    .await?;
    let p = primary(observed)?;
    script(ctx, &p, &promote_member_js(host), "promote member")
        .await
        .map(Some)
}

/// Step `remove/<host>`, on the PRIMARY.
pub(crate) async fn remove_member<E: PodExec>(
    ctx: &Ctx<'_, E>,
    observed: &Observed,
    host: &str,
) -> Result<Option<String>> {
    let p = primary(observed)?;
    script(ctx, &p, &remove_member_js(host), "remove member")
        .await
        .map(Some)
}

/// After convergence: every member PRIMARY or SECONDARY.
pub(crate) async fn verify<E: PodExec>(ctx: &Ctx<'_, E>) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let probes = observe(ctx).await;
    let rows = status_rows(ctx.topo, &probes);
    for m in &ctx.topo.members {
        let st = rows
            .iter()
            .find(|r| r.pod.as_deref() == Some(m.pod.as_str()))
            .map(|r| r.state.clone());
        match st.as_deref() {
            Some("PRIMARY") | Some("SECONDARY") => {
                out.push(format!("{} is {}", m.pod, st.unwrap_or_default()))
            }
            other => {
                return Err(Error::Failed(format!(
                    "verification: {} is {} (expected PRIMARY or SECONDARY)",
                    m.pod,
                    other.unwrap_or("not in the replica set")
                )));
            }
        }
    }
    Ok(out)
}
