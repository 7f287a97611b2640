//! Shell completion, two ways:
//!
//! - [`script`]: the `completion bash|zsh|fish|powershell` scripts (clap_complete) for the
//!   binary run by its own name (`kubectl-pvc_trace <TAB>`);
//! - [`complete`]: the `__complete` protocol kubectl (≥ 1.26) speaks with a plugin's
//!   `kubectl_complete-<plugin>` executable on PATH (kubectl's `plugin_completion.go`): the words
//!   after the plugin's name come in as arguments, the last one being the word under the cursor
//!   (empty for a new word); the answer is one candidate a line (`value` or
//!   `value<TAB>description`), then `:<directive>`, cobra's `ShellCompDirective`.
//!
//! Subcommands, flags, kinds and enum values come from the clap command; contexts, clusters
//! and users from the kubeconfig; namespaces and object names from the cluster when one is
//! configured, within `--request-timeout` ([`DEFAULT_TIMEOUT`] when not given). Any error gives
//! fewer candidates, never a message: kubectl shows the plugin's stderr on the user's terminal.

use std::io::{self, Write};
use std::time::Duration;

use clap::{Arg, ArgAction, Args, Command, Parser};
use serde::Deserialize;
use stateful_core::client::{ConnectOptions, connect, load_kubeconfig};
use stateful_core::kinds::Kind;
use stateful_core::objects::{Accepts, kind_of, short_name};

use crate::KubeArgs;

/// The hidden first argument that turns a plugin binary into its completion executable
/// (`kubectl_complete-<plugin>` runs `kubectl-<plugin> __complete "$@"`). Not a valid object
/// name (underscores), so it never hides a target.
pub const HIDDEN_MODE: &str = "__complete";

/// How long completion waits for the cluster when `--request-timeout` is not given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The most names one completion lists (one page of one LIST per kind).
const LIMIT: usize = 500;

/// cobra's `ShellCompDirective` bits (kubectl parses the number on the last line).
pub mod directive {
    /// Default: the shell may fall back to file names.
    pub const DEFAULT: u32 = 0;
    /// No space after the candidate (`pod/` is followed by a name).
    pub const NO_SPACE: u32 = 2;
    /// No file names.
    pub const NO_FILE_COMP: u32 = 4;
}

/// What a command's positional arguments are, for completion.
#[derive(Debug, Clone, Copy)]
pub enum Positional {
    /// `KIND/NAME` (and kubectl's `KIND NAME…`): kinds, then names of the kind.
    Objects(Accepts<'static>),
    /// Bare names of these kinds (a StatefulSet, a backup).
    Names(&'static [Kind]),
    /// A shell, for `completion`.
    Shells,
    /// Nothing to offer.
    Nothing,
}

/// Says what a command's positional arguments are: given the subcommand path (`["create"]`,
/// empty for the top) and the positional words already typed before the current one.
pub type PositionalFn = fn(path: &[String], before: &[String]) -> Positional;

/// The shells `completion` writes scripts for.
pub const SHELLS: [&str; 4] = ["bash", "zsh", "fish", "powershell"];

/// A shell for `completion SHELL`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShellArg {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

/// `completion SHELL`: the arguments of each plugin's `completion` subcommand.
#[derive(Args, Debug, Clone)]
pub struct CompletionArgs {
    /// The shell to write a completion script for.
    #[arg(value_enum)]
    pub shell: ShellArg,
}

/// The completion script of `shell` for the binary `bin` (its file name, e.g.
/// `kubectl-pvc_trace`). Built in memory: the generator cannot report a closed pipe.
pub fn script(mut cmd: Command, shell: ShellArg, bin: &str) -> String {
    let shell = match shell {
        ShellArg::Bash => clap_complete::Shell::Bash,
        ShellArg::Zsh => clap_complete::Shell::Zsh,
        ShellArg::Fish => clap_complete::Shell::Fish,
        ShellArg::Powershell => clap_complete::Shell::PowerShell,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, bin, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The words after [`HIDDEN_MODE`] when the process was started in completion mode.
pub fn requested() -> Option<Vec<String>> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != HIDDEN_MODE {
        return None;
    }
    Some(args.map(|a| a.to_string_lossy().into_owned()).collect())
}

/// The candidates, and cobra's directive for the shell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completions {
    /// `(value, description)`; the description may be empty.
    pub items: Vec<(String, String)>,
    pub directive: u32,
}

impl Completions {
    fn new(directive: u32) -> Completions {
        Completions {
            items: Vec::new(),
            directive,
        }
    }

    fn push(&mut self, value: impl Into<String>, help: impl Into<String>) {
        self.items.push((value.into(), help.into()));
    }

    /// Keep the candidates that start with what was typed.
    fn filter(mut self, typed: &str) -> Completions {
        self.items.retain(|(v, _)| v.starts_with(typed));
        self
    }

    /// kubectl's format: `value\tdescription` lines, then `:directive`. Tabs and line breaks
    /// inside a description (and object names never have any) become spaces.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        for (value, help) in &self.items {
            let value = one_line(value);
            if help.is_empty() {
                writeln!(out, "{value}")?;
            } else {
                writeln!(out, "{value}\t{}", one_line(help))?;
            }
        }
        writeln!(out, ":{}", self.directive)?;
        out.flush()
    }
}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Where the walk over the typed words ended.
struct Walk<'a> {
    cmd: &'a Command,
    path: Vec<String>,
    positionals: Vec<String>,
    /// The connection flags typed, as words, to connect as the command would.
    conn_words: Vec<String>,
    /// A flag whose value is the current word.
    pending: Option<&'a Arg>,
}

/// Complete `words` (the last is the word under the cursor) for the command `root`.
/// Never fails: errors give fewer candidates.
pub fn complete(mut root: Command, words: &[String], positional: PositionalFn) -> Completions {
    root.build();
    let conn_ids: Vec<String> = KubeArgs::augment_args(Command::new("conn"))
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    let (current, typed) = match words.split_last() {
        Some((cur, before)) => (cur.as_str(), before),
        None => ("", &[][..]),
    };
    let walk = walk(&root, typed, &conn_ids);
    let conn = connect_options(&walk.conn_words);
    if let Some(arg) = walk.pending {
        return values(arg, &conn, "").filter(current);
    }
    if let Some(rest) = current.strip_prefix("--")
        && let Some((name, _)) = rest.split_once('=')
    {
        let Some(arg) = find_long(walk.cmd, name) else {
            return Completions::new(directive::NO_FILE_COMP);
        };
        return values(arg, &conn, &format!("--{name}=")).filter(current);
    }
    if current.starts_with('-') {
        return flags(walk.cmd).filter(current);
    }
    let mut out = Completions::new(directive::NO_FILE_COMP);
    if walk.positionals.is_empty() {
        // clap's generated `help` subcommand is left out: `-h` is the habit.
        let subs = walk.cmd.get_subcommands();
        for sub in subs.filter(|s| !s.is_hide_set() && s.get_name() != "help") {
            out.push(sub.get_name(), about(sub));
        }
    }
    let more = positionals(
        positional(&walk.path, &walk.positionals),
        &walk.positionals,
        current,
        &conn,
    );
    out.directive |= more.directive;
    out.items.extend(more.items);
    out.filter(current)
}

fn walk<'a>(root: &'a Command, words: &[String], conn_ids: &[String]) -> Walk<'a> {
    let mut w = Walk {
        cmd: root,
        path: Vec::new(),
        positionals: Vec::new(),
        conn_words: Vec::new(),
        pending: None,
    };
    let mut only_positionals = false;
    let mut flag_word = String::new();
    for word in words {
        if let Some(arg) = w.pending.take() {
            if conn_ids.iter().any(|id| id == arg.get_id().as_str()) {
                w.conn_words.extend([flag_word.clone(), word.clone()]);
            }
            continue;
        }
        let flag = if only_positionals || word == "-" || !word.starts_with('-') {
            None
        } else if word == "--" {
            only_positionals = true;
            continue;
        } else if let Some(long) = word.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, _)) => (n, true),
                None => (long, false),
            };
            find_long(w.cmd, name).map(|a| (a, inline))
        } else {
            let mut chars = word[1..].chars();
            chars
                .next()
                .and_then(|c| w.cmd.get_arguments().find(|a| a.get_short() == Some(c)))
                .map(|a| (a, chars.next().is_some()))
        };
        match flag {
            Some((arg, inline)) => {
                if takes_value(arg) && !inline {
                    // Kept with its value once that comes.
                    w.pending = Some(arg);
                    flag_word.clone_from(word);
                } else if conn_ids.iter().any(|id| id == arg.get_id().as_str()) {
                    w.conn_words.push(word.clone());
                }
            }
            None if word.starts_with('-') && !only_positionals && word != "-" => {}
            None => {
                let sub = w
                    .positionals
                    .is_empty()
                    .then(|| w.cmd.find_subcommand(word));
                match sub.flatten() {
                    Some(sub) => {
                        w.cmd = sub;
                        w.path.push(sub.get_name().to_string());
                    }
                    None => w.positionals.push(word.clone()),
                }
            }
        }
    }
    w
}

fn find_long<'a>(cmd: &'a Command, name: &str) -> Option<&'a Arg> {
    cmd.get_arguments().find(|a| {
        a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|al| al.contains(&name))
    })
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values() && !matches!(arg.get_action(), ArgAction::Help)
}

fn about(cmd: &Command) -> String {
    cmd.get_about()
        .map(|a| a.to_string().lines().next().unwrap_or("").to_string())
        .unwrap_or_default()
}

fn arg_help(arg: &Arg) -> String {
    arg.get_help()
        .map(|h| h.to_string().lines().next().unwrap_or("").to_string())
        .unwrap_or_default()
}

/// Every flag of the command (its own and the global ones), long names first.
fn flags(cmd: &Command) -> Completions {
    let mut out = Completions::new(directive::NO_FILE_COMP);
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        if let Some(long) = arg.get_long() {
            out.push(format!("--{long}"), arg_help(arg));
        } else if let Some(short) = arg.get_short() {
            out.push(format!("-{short}"), arg_help(arg));
        }
    }
    out
}

/// The values of a flag: kubeconfig names, namespaces, enum values, or files.
fn values(arg: &Arg, conn: &ConnectOptions, prefix: &str) -> Completions {
    let mut out = Completions::new(directive::NO_FILE_COMP);
    let named = |out: &mut Completions, names: Vec<String>| {
        for n in names {
            out.push(format!("{prefix}{n}"), "");
        }
    };
    match arg.get_id().as_str() {
        "context" | "cluster" | "user" => {
            named(&mut out, kubeconfig_names(arg.get_id().as_str(), conn));
        }
        "namespace" => named(&mut out, cluster_namespaces(conn)),
        _ => {
            let possible = arg.get_possible_values();
            if possible.is_empty() {
                // A path (by its hint, or a FILE value): the shell's own file completion.
                let file = matches!(
                    arg.get_value_hint(),
                    clap::ValueHint::AnyPath | clap::ValueHint::FilePath | clap::ValueHint::DirPath
                ) || arg
                    .get_value_names()
                    .is_some_and(|v| v.iter().any(|n| n.as_str() == "FILE"));
                if file {
                    out.directive = directive::DEFAULT;
                }
            }
            for v in possible.iter().filter(|v| !v.is_hide_set()) {
                let help = v.get_help().map(|h| h.to_string()).unwrap_or_default();
                out.push(format!("{prefix}{}", v.get_name()), help);
            }
        }
    }
    out
}

/// The candidates of a positional argument.
fn positionals(
    p: Positional,
    before: &[String],
    current: &str,
    conn: &ConnectOptions,
) -> Completions {
    let mut out = Completions::new(directive::NO_FILE_COMP);
    match p {
        Positional::Nothing => {}
        Positional::Shells => {
            for s in SHELLS {
                out.push(s, "");
            }
        }
        Positional::Names(kinds) => {
            for n in cluster_names(conn, kinds) {
                out.push(n, "");
            }
        }
        Positional::Objects(accepts) => {
            let accepted = |word: &str| kind_of(word).filter(|k| accepts.kinds.contains(k));
            if let Some((kind_word, _)) = current.split_once('/') {
                if let Some(kind) = accepted(kind_word) {
                    for n in cluster_names(conn, &[kind]) {
                        out.push(format!("{kind_word}/{n}"), "");
                    }
                }
            } else if let [first] = before
                && !first.contains('/')
                && let Some(kind) = accepted(first)
            {
                // kubectl's `KIND NAME…`: names of that kind.
                for n in cluster_names(conn, &[kind]) {
                    out.push(n, "");
                }
            } else {
                for k in accepts.kinds {
                    out.push(format!("{}/", short_name(*k)), k.resource());
                }
                out.directive |= directive::NO_SPACE;
            }
        }
    }
    out
}

/// The connection the typed flags describe; bad or missing ones give kubectl's defaults.
fn connect_options(words: &[String]) -> ConnectOptions {
    #[derive(Parser)]
    struct Conn {
        #[command(flatten)]
        kube: KubeArgs,
    }
    let argv = std::iter::once("complete".to_string()).chain(words.iter().cloned());
    let kube = Conn::try_parse_from(argv)
        .map(|c| c.kube)
        .unwrap_or_default();
    let mut opts = kube.connect_options();
    if opts.request_timeout.is_none() {
        opts.request_timeout = Some(DEFAULT_TIMEOUT);
    }
    opts
}

/// Context, cluster or user names from the kubeconfig files in effect.
fn kubeconfig_names(what: &str, conn: &ConnectOptions) -> Vec<String> {
    let Ok(Some(kc)) = load_kubeconfig(conn) else {
        return Vec::new();
    };
    match what {
        "context" => kc.contexts.into_iter().map(|c| c.name).collect(),
        "cluster" => kc.clusters.into_iter().map(|c| c.name).collect(),
        _ => kc.auth_infos.into_iter().map(|u| u.name).collect(),
    }
}

#[derive(Deserialize)]
struct NameList {
    #[serde(default)]
    items: Vec<NameItem>,
}

#[derive(Deserialize)]
struct NameItem {
    metadata: NameMeta,
}

#[derive(Deserialize)]
struct NameMeta {
    #[serde(default)]
    name: String,
}

fn cluster_namespaces(conn: &ConnectOptions) -> Vec<String> {
    let paths = vec!["/api/v1/namespaces".to_string()];
    list_names(conn, |_| paths.clone())
}

fn cluster_names(conn: &ConnectOptions, kinds: &[Kind]) -> Vec<String> {
    list_names(conn, |ns| {
        kinds
            .iter()
            .map(|k| k.list_path(Some(ns)))
            .collect::<Vec<_>>()
    })
}

/// LIST the paths (given the namespace in effect) for names only (metadata), within the
/// request timeout; errors and timeouts give what was read so far.
fn list_names(conn: &ConnectOptions, paths: impl FnOnce(&str) -> Vec<String>) -> Vec<String> {
    let timeout = conn.request_timeout.unwrap_or(DEFAULT_TIMEOUT);
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return Vec::new();
    };
    rt.block_on(async {
        let work = async {
            let Ok(c) = connect(conn).await else {
                return Vec::new();
            };
            let mut names = Vec::new();
            for path in paths(&c.namespace) {
                let Ok(req) = http::Request::get(format!("{path}?limit={LIMIT}"))
                    .header(
                        http::header::ACCEPT,
                        "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json",
                    )
                    .body(Vec::new())
                else {
                    continue;
                };
                if let Ok(list) = c.client.request::<NameList>(req).await {
                    names.extend(list.items.into_iter().map(|i| i.metadata.name));
                }
            }
            names.sort();
            names.dedup();
            names
        };
        tokio::time::timeout(timeout, work).await.unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use stateful_core::kinds::Kind;

    #[derive(Parser)]
    #[command(name = "t")]
    struct T {
        #[command(subcommand)]
        cmd: Option<Sub>,
        #[arg(value_name = "TARGET")]
        targets: Vec<String>,
        #[command(flatten)]
        kube: KubeArgs,
        /// Output format.
        #[arg(short = 'o', long, value_parser = ["json", "yaml"])]
        output: Option<String>,
    }

    #[derive(clap::Subcommand)]
    enum Sub {
        /// Write a completion script.
        Completion(CompletionArgs),
    }

    const ACCEPTS: Accepts<'static> = Accepts {
        kinds: &[Kind::Pod, Kind::PersistentVolumeClaim],
        bare: Some(Kind::Pod),
    };

    fn spec(path: &[String], _before: &[String]) -> Positional {
        match path.first().map(String::as_str) {
            Some("completion") => Positional::Shells,
            _ => Positional::Objects(ACCEPTS),
        }
    }

    fn run(words: &[&str]) -> Completions {
        use clap::CommandFactory;
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        complete(T::command(), &words, spec)
    }

    fn values(c: &Completions) -> Vec<&str> {
        c.items.iter().map(|(v, _)| v.as_str()).collect()
    }

    #[test]
    fn subcommands_kinds_flags_and_values() {
        let c = run(&[""]);
        assert_eq!(values(&c), ["completion", "pod/", "pvc/"]);
        assert_eq!(c.directive, directive::NO_FILE_COMP | directive::NO_SPACE);
        let c = run(&["completion", ""]);
        assert_eq!(values(&c), SHELLS);
        let c = run(&["--o"]);
        assert_eq!(values(&c), ["--output"]);
        let c = run(&["-o", ""]);
        assert_eq!(values(&c), ["json", "yaml"]);
        let c = run(&["--output=j"]);
        assert_eq!(values(&c), ["--output=json"]);
        // A flag's value is not a positional: `-o json p` still completes kinds.
        let c = run(&["-o", "json", "p"]);
        assert_eq!(values(&c), ["pod/", "pvc/"]);
        // Files for --kubeconfig: the shell's default completion.
        assert_eq!(run(&["--kubeconfig", ""]).directive, directive::DEFAULT);
    }

    #[test]
    fn written_as_kubectl_reads_it() {
        let mut out = Vec::new();
        Completions {
            items: vec![("a".into(), "x\ty".into()), ("b".into(), String::new())],
            directive: 6,
        }
        .write(&mut out)
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a\tx y\nb\n:6\n");
    }

    #[test]
    fn bad_connection_flags_never_fail() {
        // An unreadable kubeconfig: no names, no error.
        let c = run(&["--kubeconfig", "/nonexistent", "--context", ""]);
        assert!(c.items.is_empty());
        let c = run(&["--kubeconfig", "/nonexistent", "pod/"]);
        assert!(c.items.is_empty());
        assert_eq!(c.directive, directive::NO_FILE_COMP);
    }
}
