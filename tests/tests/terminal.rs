//! The plugins on a real terminal (tmux, installed by `tests/scripts/install-deps.sh`) and their
//! JSONPath against kubectl's own: tables fit 80 and 120 columns, colour appears on the
//! terminal only (not through a pipe, not with NO_COLOR), and `-o jsonpath` prints what the
//! control plane's kubectl prints for the same template on the same JSON.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

fn demo() -> PathBuf {
    e2e::repo_root().join("examples/demo-cluster.yaml")
}

/// Private tmux servers (one socket per screen), each killed when its screen is read.
struct Tmux {
    tag: String,
    count: std::cell::Cell<u32>,
}

impl Tmux {
    fn new(tag: &str) -> Tmux {
        Tmux {
            tag: format!("e2e-{tag}-{}", std::process::id()),
            count: std::cell::Cell::new(0),
        }
    }

    fn tmux(socket: &str, args: &[&str]) -> Result<String> {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(socket)
            .args(args)
            .output()
            .context("running tmux (tests/scripts/install-deps.sh installs it)")?;
        if !out.status.success() {
            bail!(
                "tmux {args:?}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Run `shell` in a `width`-column terminal and return the screen when it is done, with
    /// the escape sequences tmux saw (`capture-pane -e`), wrapped lines joined (`-J`).
    fn screen(&self, width: u16, shell: &str) -> Result<String> {
        self.count.set(self.count.get() + 1);
        let socket = format!("{}-{}", self.tag, self.count.get());
        let cmd = format!("{shell}; echo __DONE__; sleep 60");
        Self::tmux(
            &socket,
            &[
                "new-session",
                "-d",
                "-x",
                &width.to_string(),
                "-y",
                "200",
                "-s",
                "t",
                "sh",
                "-c",
                &cmd,
            ],
        )?;
        let start = Instant::now();
        let res = loop {
            let s = Self::tmux(
                &socket,
                &["capture-pane", "-p", "-J", "-e", "-t", "t", "-S", "0"],
            )?;
            if s.contains("__DONE__") {
                break Ok(s);
            }
            if start.elapsed() > Duration::from_secs(30) {
                break Err(anyhow::anyhow!("no __DONE__ after 30s:\n{s}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let _ = Self::tmux(&socket, &["kill-server"]);
        res
    }
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The table's lines: from the header to the first blank line.
fn table_lines(screen: &str) -> Vec<String> {
    strip_ansi(screen)
        .lines()
        .skip_while(|l| !l.starts_with("NAMESPACE") && !l.starts_with("POD"))
        .take_while(|l| !l.trim().is_empty() && !l.contains("__DONE__"))
        .map(str::to_string)
        .collect()
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display())
}

#[test]
fn tables_fit_the_terminal_and_colour_stays_on_it() -> Result<()> {
    let bin = e2e::plugin_path("kubectl-pvc_trace")?;
    let run = format!("{} --from-file {}", quote(&bin), quote(&demo()));
    let tmux = Tmux::new("tty");
    // (width, scope): at 80 columns the demo's names alone (namespace, pod, claim and a
    // 40-character PV name) need 101, so the 80-column check is on one namespace.
    for (width, scope) in [(80u16, "-n analytics"), (120, "-A"), (120, "-n shop")] {
        let screen = tmux.screen(width, &format!("env -u NO_COLOR {run} {scope}"))?;
        let table = table_lines(&screen);
        assert!(table.len() > 2, "{width} {scope}: {screen}");
        for l in &table {
            assert!(
                l.chars().count() <= width as usize,
                "{width} {scope}: {} columns: {l}",
                l.chars().count()
            );
        }
        // Names are never shortened: every PV name of the demo in scope is whole.
        assert!(
            !table.iter().any(|l| l.contains("pvc-")
                && l.contains('…')
                && l.split_whitespace()
                    .any(|w| w.starts_with("pvc-") && w.ends_with('…'))),
            "{width} {scope}: a PV name was cut"
        );
        assert!(
            screen.contains("\x1b["),
            "{width} {scope}: no colour on a TTY"
        );
        // Piped or NO_COLOR: no colour, and the table is as on a pipe (not fitted).
        let piped = tmux.screen(width, &format!("env -u NO_COLOR {run} {scope} | cat"))?;
        assert!(
            !piped.contains("\x1b["),
            "{width} {scope}: colour through a pipe"
        );
        let no_color = tmux.screen(width, &format!("env NO_COLOR=1 {run} {scope}"))?;
        assert!(
            !no_color.contains("\x1b["),
            "{width} {scope}: colour with NO_COLOR"
        );
        assert_eq!(
            table_lines(&no_color),
            table,
            "{width} {scope}: NO_COLOR changes the layout"
        );
        let forced = tmux.screen(
            width,
            &format!("env -u NO_COLOR {run} {scope} --color always | cat"),
        )?;
        assert!(
            forced.contains("\x1b["),
            "{width} {scope}: --color always through a pipe"
        );
    }
    // -o wide shows everything: nothing is cut or left out, lines wrap.
    let wide = tmux.screen(80, &format!("env -u NO_COLOR {run} -n analytics -o wide"))?;
    let table = table_lines(&wide);
    assert!(
        table[0].contains("BACKEND") && table[0].contains("MOUNTS"),
        "{wide}"
    );
    assert!(!table.iter().any(|l| l.contains('…')), "{wide}");
    Ok(())
}

#[test]
fn jsonpath_matches_kubectl() -> Result<()> {
    let cluster = e2e::cluster()?;
    let bin = e2e::plugin_path("kubectl-pvc_trace")?;
    let dir = tempfile::tempdir()?;
    let json = dir.path().join("trace.json");
    let out = Command::new(&bin)
        .args(["--from-file"])
        .arg(demo())
        .args(["-o", "json"])
        .output()?;
    std::fs::write(&json, &out.stdout)?;
    let templates = [
        "{.kind}",
        "kind is {.kind}",
        "{['kind']}",
        "{.roots[*].name}",
        "{.roots[-1:].name}",
        "{.roots[0:6:2].name}",
        "{..phase}",
        "{.summary}",
        r#"{.roots[?(@.type=="pod")].name}"#,
        r#"{.roots[?(@.name=="mongo-0")].volumes[*].claim.volume.name}"#,
        r#"{range .roots[*]}{.type}/{.name}{"\n"}{end}"#,
        r#"{range .diagnostics[*]}{.severity}{"\t"}{.code}{"\n"}{end}"#,
        "{range .roots[*]}{range .volumes[*]}{.name},{end};{end}",
        "{.roots[0].volumes[0].mounts}",
        "{.namespace}",
        "{.missing.key}",
    ];
    let mut compared = 0;
    for t in templates {
        // kubectl evaluates the template on the file's object without a server.
        let theirs = Command::new(cluster.kubectl_bin())
            .args(["annotate", "--local", "-f"])
            .arg(&json)
            .args(["x=y", "-o", &format!("jsonpath={t}")])
            .output()?;
        assert!(
            theirs.status.success(),
            "kubectl {t}: {}",
            String::from_utf8_lossy(&theirs.stderr)
        );
        let ours = Command::new(&bin)
            .arg("--from-file")
            .arg(demo())
            .args(["-o", &format!("jsonpath={t}")])
            .output()?;
        assert!(ours.status.success(), "{t}");
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&theirs.stdout),
            "{t}"
        );
        compared += 1;
    }
    assert_eq!(compared, templates.len());
    Ok(())
}
