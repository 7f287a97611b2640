//! What `--from-file` accepts, and reading it within bounds.
//!
//! Each argument is one of:
//! - `-`: stdin (once);
//! - a file: a `kubectl get -o yaml|json` dump, or a troubleshoot.sh support bundle
//!   (`.tar.gz`, recognised by its content, see [`super::bundle`]);
//! - a directory: an unpacked support bundle (it holds `cluster-resources/`, itself or in its
//!   one subdirectory), else every `*.yaml`, `*.yml` and `*.json` file beneath it, in byte
//!   order of their paths.
//!
//! Every input is refused when larger than [`Dumps::max_bytes`] (a directory: the total of the
//! files it reads; a bundle: its uncompressed stream), reading at most that many bytes plus
//! one. The inputs' snapshots are merged by [`super::merge`].

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};

use super::merge::{Merger, terminal_safe};
use super::{Flavor, Snapshot, bundle, parse_dump_into, read_dumps};

/// The default bound on one input (`--max-input-size`): 1 GiB.
pub const DEFAULT_MAX_INPUT: u64 = 1 << 30;

/// The `--from-file` inputs and the bound on each.
#[derive(Debug, Clone)]
pub struct Dumps {
    pub paths: Vec<String>,
    /// The largest input read, in bytes.
    pub max_bytes: u64,
}

impl Default for Dumps {
    fn default() -> Self {
        Dumps {
            paths: Vec::new(),
            max_bytes: DEFAULT_MAX_INPUT,
        }
    }
}

impl Dumps {
    pub fn new(paths: Vec<String>) -> Self {
        Dumps {
            paths,
            ..Dumps::default()
        }
    }
}

/// Read every input and merge them (an object several inputs hold counts once; conflicts
/// become [`Snapshot::warnings`]).
pub fn read_inputs<F: Flavor>(dumps: &Dumps) -> Result<Snapshot<F>> {
    let max = dumps.max_bytes;
    let mut merger = Merger::<F>::new();
    let mut stdin_used = false;
    for arg in &dumps.paths {
        if arg == "-" {
            if stdin_used {
                return Err(Error::Usage("--from-file - (stdin) given twice".into()));
            }
            stdin_used = true;
            let path = Path::new("<stdin>");
            let text = read_bounded(std::io::stdin().lock(), path, max)?;
            let mut part = Snapshot::default();
            parse_dump_into(&mut part, path, &text)?;
            merger.add("<stdin>", part);
            continue;
        }
        let path = Path::new(arg);
        let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
        if meta.is_dir() {
            if let Some(root) = bundle::root_in_dir(path) {
                bundle::read_dir(&root, max, &mut merger)?;
            } else {
                read_tree(path, max, &mut merger)?;
            }
        } else if meta.is_file() && bundle::is_tar_gz(path)? {
            bundle::read_tar_gz(path, meta.len(), max, &mut merger)?;
        } else {
            merger.add(&display(path), read_file(path, max)?);
        }
    }
    Ok(merger.finish())
}

/// One dump file. A regular file is refused by its size before anything is read and then
/// read as a stream; anything else (a pipe, a device) is read into memory, at most `max` + 1
/// bytes of it.
///
/// A file that fails only because a timestamp lies beyond what the typed objects can hold
/// (`9999-12-31T23:59:59Z`: Kubernetes takes it, k8s-openapi's time type stops a day
/// earlier) is read again without those fields: they become unknown, with a warning.
pub(super) fn read_file<F: Flavor>(path: &Path, max: u64) -> Result<Snapshot<F>> {
    match read_file_once(path, max) {
        Err(e) if is_time_overflow(&e) => Ok(without_unreadable_times(path, max)?.ok_or(e)?),
        other => other,
    }
}

fn read_file_once<F: Flavor>(path: &Path, max: u64) -> Result<Snapshot<F>> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    if meta.is_file() {
        if meta.len() > max {
            return Err(too_large(path, Some(meta.len()), max));
        }
        return read_dumps(&[path.to_string_lossy().into_owned()]);
    }
    let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let text = read_bounded(file, path, max)?;
    let mut snap = Snapshot::default();
    parse_dump_into(&mut snap, path, &text)?;
    Ok(snap)
}

/// A whole text file (a kubeconfig), refused when larger than `max` bytes: by its size when
/// it is a regular file, else after reading `max` + 1 bytes.
pub fn read_text_bounded(path: &Path, max: u64) -> Result<String> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    if meta.is_file() && meta.len() > max {
        return Err(too_large(path, Some(meta.len()), max));
    }
    let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    read_bounded(file, path, max)
}

/// Whether an error is a timestamp out of the typed objects' range.
fn is_time_overflow(e: &Error) -> bool {
    let m = e.to_string();
    m.contains("to timestamp overflowed") || m.contains("is not in the required range")
}

/// The file's objects with every timestamp the typed objects cannot hold removed (and a
/// warning for each). None when that does not make the file readable.
fn without_unreadable_times<F: Flavor>(path: &Path, max: u64) -> Result<Option<Snapshot<F>>> {
    let text = read_text_bounded(path, max)?;
    let docs: Vec<Value> = if matches!(text.trim_start().chars().next(), Some('{' | '[')) {
        match serde_json::Deserializer::from_str(&text)
            .into_iter::<Value>()
            .collect::<std::result::Result<Vec<_>, _>>()
        {
            Ok(d) => d,
            Err(_) => return Ok(None),
        }
    } else {
        match serde_saphyr::from_multiple::<Value>(&text) {
            Ok(d) => d,
            Err(_) => return Ok(None),
        }
    };
    let mut objects = Vec::new();
    for d in docs {
        match d {
            Value::Array(items) => objects.extend(items),
            Value::Object(ref m) if m.get("items").is_some_and(Value::is_array) => {
                let list_kind = m.get("kind").and_then(Value::as_str).unwrap_or("List");
                if list_kind == "List" || list_kind.is_empty() {
                    objects.extend(m["items"].as_array().into_iter().flatten().cloned());
                } else {
                    objects.push(d);
                }
            }
            Value::Null => {}
            other => objects.push(other),
        }
    }
    let mut warnings = Vec::new();
    for o in &mut objects {
        let label = format!(
            "{} {}",
            o.get("kind").and_then(Value::as_str).unwrap_or("object"),
            super::object::object_label(o)
        );
        drop_unreadable_times(o, "", &label, &mut warnings);
    }
    let fixed = serde_json::to_string(&Value::Array(objects))
        .map_err(|e| Error::Other(format!("cannot re-read {}: {e}", path.display())))?;
    let mut snap = Snapshot::default();
    if parse_dump_into(&mut snap, path, &fixed).is_err() {
        return Ok(None);
    }
    let file = display(path);
    snap.warnings.extend(warnings.into_iter().map(|w| {
        terminal_safe(&format!(
            "{file}: {w} is beyond the timestamps this tool can represent: read as unknown"
        ))
    }));
    Ok(Some(snap))
}

/// Remove, beneath `v`, every string that looks like an RFC 3339 time and does not read as
/// one (out of range); `at` is the field path for the warning.
fn drop_unreadable_times(v: &mut Value, at: &str, label: &str, warnings: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            let bad: Vec<String> = m
                .iter()
                .filter(|(_, x)| x.as_str().is_some_and(unreadable_time))
                .map(|(k, _)| k.clone())
                .collect();
            for k in bad {
                let was = m.remove(&k).unwrap_or_default();
                warnings.push(format!(
                    "{label}: {}{k} {}",
                    if at.is_empty() {
                        String::new()
                    } else {
                        format!("{at}.")
                    },
                    was.as_str().unwrap_or("")
                ));
            }
            for (k, x) in m.iter_mut() {
                let here = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                drop_unreadable_times(x, &here, label, warnings);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter_mut().enumerate() {
                drop_unreadable_times(x, &format!("{at}[{i}]"), label, warnings);
            }
        }
        _ => {}
    }
}

fn unreadable_time(s: &str) -> bool {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    let b = s.as_bytes();
    let shaped = b.len() >= 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T';
    shaped && serde_json::from_value::<Time>(Value::String(s.to_string())).is_err()
}

/// Every `*.yaml`, `*.yml` and `*.json` file beneath `dir`, each an input of its own.
fn read_tree<F: Flavor>(dir: &Path, max: u64, merger: &mut Merger<F>) -> Result<()> {
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    if files.is_empty() {
        return Err(Error::File {
            path: dir.to_path_buf(),
            line: None,
            message: "no *.yaml, *.yml or *.json file in this directory".into(),
        });
    }
    let total = files
        .iter()
        .map(|(_, l)| *l)
        .fold(0u64, u64::saturating_add);
    if total > max {
        return Err(too_large(dir, Some(total), max));
    }
    for (f, _) in &files {
        merger.add(&display(f), read_file(f, max)?);
    }
    Ok(())
}

/// The dump files beneath `dir` with their sizes. Symbolic links to files are followed, to
/// directories not (no loops).
fn walk(dir: &Path, out: &mut Vec<(PathBuf, u64)>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_error(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let path = entry.path();
        let ty = entry.file_type().map_err(|e| io_error(&path, e))?;
        if ty.is_dir() {
            walk(&path, out)?;
            continue;
        }
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if !matches!(ext.as_deref(), Some("yaml" | "yml" | "json")) {
            continue;
        }
        let meta = std::fs::metadata(&path).map_err(|e| io_error(&path, e))?;
        if meta.is_file() {
            out.push((path, meta.len()));
        }
    }
    Ok(())
}

/// All of `input` as UTF-8 text, refused when longer than `max` bytes: at most `max` + 1
/// bytes are read, and never more than `max` kept.
pub(super) fn read_bounded(mut input: impl Read, path: &Path, max: u64) -> Result<String> {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        let n = match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_error(path, e)),
        };
        if buf.len() as u64 + n as u64 > max {
            return Err(too_large(path, None, max));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8(buf).map_err(|e| Error::File {
        path: path.to_path_buf(),
        line: None,
        message: format!("not UTF-8 text: {e}"),
    })
}

/// "FILE: 3.7 GiB, larger than the 1 GiB input limit …" (`size` None: more than the limit).
pub(crate) fn too_large(path: &Path, size: Option<u64>, max: u64) -> Error {
    let size = match size {
        Some(s) => format!("{} ({s} bytes)", human(s)),
        None => format!("more than {}", human(max)),
    };
    Error::File {
        path: path.to_path_buf(),
        line: None,
        message: format!(
            "{size}, larger than the input limit of {} ({max} bytes); raise it with --max-input-size or KUBECTL_STATEFUL_MAX_INPUT",
            human(max)
        ),
    }
}

/// Bytes in binary units: `512 B`, `1.5 KiB`, `1 GiB`.
pub(crate) fn human(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 || v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

pub(super) fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::File {
        path: path.to_path_buf(),
        line: None,
        message: e.to_string(),
    }
}

/// A path as named in warnings.
pub(super) fn display(path: &Path) -> String {
    terminal_safe(&path.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Full;

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: NAME, namespace: shop}\nspec: {containers: []}\n";

    #[test]
    fn a_directory_reads_every_dump_beneath_it_in_path_order() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("b/c")).unwrap();
        std::fs::write(d.join("b/c/z.yml"), POD.replace("NAME", "p3")).unwrap();
        std::fs::write(d.join("b/a.json"), r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p2","namespace":"shop"},"spec":{"containers":[]}}"#).unwrap();
        std::fs::write(d.join("a.yaml"), POD.replace("NAME", "p1")).unwrap();
        std::fs::write(d.join("notes.txt"), "not a dump").unwrap();
        std::fs::write(d.join("x.log"), "{").unwrap();
        let s: Snapshot<Full> = read_inputs(&Dumps::new(vec![d.display().to_string()])).unwrap();
        let names: Vec<_> = s
            .pods
            .iter()
            .map(|p| p.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(names, ["p1", "p2", "p3"]);
        // An empty directory is an error, not an empty success.
        let empty = tempfile::tempdir().unwrap();
        let e =
            read_inputs::<Full>(&Dumps::new(vec![empty.path().display().to_string()])).unwrap_err();
        assert!(e.to_string().contains("no *.yaml"), "{e}");
    }

    #[test]
    fn inputs_above_the_limit_are_refused_with_their_size() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("big.yaml");
        std::fs::write(&f, POD.replace("NAME", "p1")).unwrap();
        let len = std::fs::metadata(&f).unwrap().len();
        let mut d = Dumps::new(vec![f.display().to_string()]);
        d.max_bytes = len;
        assert!(read_inputs::<Full>(&d).is_ok());
        d.max_bytes = len - 1;
        let e = read_inputs::<Full>(&d).unwrap_err();
        assert_eq!(e.exit_code().code(), 1);
        assert!(
            e.to_string()
                .contains(&format!("({len} bytes), larger than")),
            "{e}"
        );
        // A directory: the total counts.
        std::fs::write(dir.path().join("b.yaml"), POD.replace("NAME", "p2")).unwrap();
        let mut d = Dumps::new(vec![dir.path().display().to_string()]);
        d.max_bytes = len + 10;
        let e = read_inputs::<Full>(&d).unwrap_err();
        assert!(e.to_string().contains("larger than the input limit"), "{e}");
        // A device that never ends: read up to the limit, then refused.
        let mut d = Dumps::new(vec!["/dev/zero".into()]);
        d.max_bytes = 1 << 20;
        let e = read_inputs::<Full>(&d).unwrap_err();
        assert!(e.to_string().contains("more than 1 MiB"), "{e}");
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(1 << 30), "1 GiB");
        assert_eq!(human(1536), "1.5 KiB");
    }
}
