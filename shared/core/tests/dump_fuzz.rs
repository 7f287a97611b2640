//! A bounded mutation campaign over the dump reader, run by CI on stable Rust: every fixture
//! (YAML, and its JSON twin) mutated by a seeded mutator — byte flips, truncation, deep
//! nesting, huge numbers, non-finite floats, control characters, duplicated keys and lines,
//! anchors and aliases, CR line breaks, a BOM, document markers… For every case: no panic,
//! no hang (each case has a time bound), memory bounded (peak RSS, reset before each case),
//! and every error is a file error naming the file and one line.
//!
//! `DUMP_FUZZ_CASES` sets the number of cases (default 2000), `DUMP_FUZZ_SEED` the seed;
//! `DUMP_FUZZ_OUT=DIR` also writes every case to `DIR/case-NNNNN.yaml` (for the script).
//! The longer campaign over the release binaries is `tests/scripts/fuzz-dumps.sh`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use stateful_core::error::Error;
use stateful_core::snapshot::{Full, Lean, Snapshot, parse_dump_into};

/// A small seeded generator (xorshift64*): the same seed gives the same campaign.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const TOKENS: &[&str] = &[
    "1e400",
    "-.nan",
    ".inf",
    "99999999999999999999999999",
    "2147483648",
    "-9223372036854775809",
    "0x7fffffffffffffff",
    "&a ",
    "*a",
    "<<: *a\n",
    "---\n",
    "...\n",
    "\r",
    "\t",
    "\u{0}",
    "\u{7}",
    "\u{feff}",
    "\u{2028}",
    "\"",
    "'",
    "{",
    "[",
    "}",
    "]",
    ": ",
    "- ",
    "#",
    "|\n",
    ">-\n",
    "!!binary ",
    "!tag ",
    "%YAML 1.2\n",
    "? ",
    "items:\n",
    "kind: List\n",
    "kind: StatefulSetList\n",
    "replicas: 2147483647\n",
    "apiVersion: v1\n",
    "null",
    "~",
    "\\u0000",
];

/// One mutation of `text` (kept as bytes: a mutation may break UTF-8 on purpose).
fn mutate(rng: &mut Rng, text: &[u8]) -> Vec<u8> {
    let mut b = text.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let at = rng.below(b.len() + 1);
        match rng.below(12) {
            0 => {
                if let Some(x) = b.get_mut(at) {
                    *x ^= 1 << rng.below(8);
                }
            }
            1 => b.truncate(at),
            2 => {
                let tok = TOKENS[rng.below(TOKENS.len())].as_bytes();
                b.splice(at..at, tok.iter().copied());
            }
            3 => {
                // deep nesting, flow or block
                let n = 1 + rng.below(300);
                let deep = if rng.below(2) == 0 {
                    format!("{}x{}", "[".repeat(n), "]".repeat(n))
                } else {
                    (0..n).map(|i| format!("\n{}k:", " ".repeat(i))).collect()
                };
                b.splice(at..at, deep.into_bytes());
            }
            4 => {
                // duplicate a line (a duplicated key, or a duplicated item)
                let (s, e) = line_at(&b, at);
                let line = b[s..e].to_vec();
                b.splice(e..e, line);
            }
            5 => {
                let (s, e) = line_at(&b, at);
                b.drain(s..e);
            }
            6 => {
                // swap a line with the next one
                let (s, e) = line_at(&b, at);
                let (s2, e2) = line_at(&b, e);
                if e2 > s2 && e == s2 {
                    let mut both = b[s2..e2].to_vec();
                    both.extend_from_slice(&b[s..e]);
                    b.splice(s..e2, both);
                }
            }
            7 => {
                if let Some(x) = b.get_mut(at) {
                    *x = rng.below(32) as u8;
                }
            }
            8 => {
                // re-indent a line
                let (s, _) = line_at(&b, at);
                b.splice(s..s, std::iter::repeat_n(b' ', 1 + rng.below(3)));
            }
            9 => {
                let n = 1 + rng.below(64);
                let digits: String = (0..n)
                    .map(|_| char::from(b'0' + rng.below(10) as u8))
                    .collect();
                b.splice(at..at, digits.into_bytes());
            }
            10 => {
                // a CR-only file, or a CRLF one
                let crlf = rng.below(2) == 0;
                b = String::from_utf8_lossy(&b)
                    .replace('\n', if crlf { "\r\n" } else { "\r" })
                    .into_bytes();
            }
            _ => {
                // copy a random span elsewhere
                let len = rng.below(200).min(b.len().saturating_sub(at));
                let span = b[at..at + len].to_vec();
                let to = rng.below(b.len() + 1);
                b.splice(to..to, span);
            }
        }
    }
    b
}

fn line_at(b: &[u8], at: usize) -> (usize, usize) {
    let at = at.min(b.len());
    let s = b[..at]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |i| i + 1);
    let e = b[at..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |i| at + i + 1);
    (s, e)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root")
        .to_path_buf()
}

/// The seed texts: every YAML fixture and a JSON twin of it.
fn seeds() -> Vec<Vec<u8>> {
    let r = root();
    let mut files = vec![r.join("examples/demo-cluster.yaml")];
    for dir in [
        "plugins/pvc-trace/tests/fixtures",
        "plugins/backup/tests/fixtures",
        "plugins/sts-bootstrap/tests/fixtures/bootstrap",
    ] {
        let mut fs: Vec<PathBuf> = std::fs::read_dir(r.join(dir))
            .expect("fixtures")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        fs.sort();
        files.extend(fs);
    }
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read(&f).expect("fixture");
        let mut snap = Snapshot::<Full>::default();
        parse_dump_into(&mut snap, &f, std::str::from_utf8(&text).expect("utf-8"))
            .expect("fixture reads");
        // A JSON twin: the YAML documents as concatenated JSON.
        if let Ok(docs) = serde_saphyr::from_multiple::<serde_json::Value>(
            std::str::from_utf8(&text).expect("utf-8"),
        ) {
            let json: String = docs.iter().map(|d| format!("{d:#}\n")).collect();
            out.push(json.into_bytes());
        }
        out.push(text);
    }
    out
}

/// Peak resident memory since the last reset, in KiB (Linux), and a reset.
fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn check_one(case: usize, input: &[u8]) -> Option<Error> {
    let path = Path::new("fuzz/case.yaml");
    let Ok(text) = std::str::from_utf8(input) else {
        return None; // read_dumps refuses it with its line (tested in the unit tests)
    };
    // Both flavors: the lean one reads fewer fields, so it may accept what the full one
    // refuses (a value only the full types read); each must hold to the rules alone.
    let mut lean = Snapshot::<Lean>::default();
    if let Err(e) = parse_dump_into(&mut lean, path, text) {
        check_error(case, path, &e);
    }
    let mut full = Snapshot::<Full>::default();
    let a = parse_dump_into(&mut full, path, text);
    let e = a.err()?;
    check_error(case, path, &e);
    Some(e)
}

/// A file error naming the file and one line.
fn check_error(case: usize, path: &Path, e: &Error) {
    match e {
        Error::File { path: p, line, .. } => {
            assert_eq!(p, path, "case {case}: {e}");
            assert!(line.is_some_and(|l| l >= 1), "case {case}: no line: {e}");
        }
        other => panic!("case {case}: not a file error: {other:?}"),
    }
}

#[test]
fn mutated_dumps_never_panic_hang_or_run_away() {
    let cases: usize = std::env::var("DUMP_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let seed: u64 = std::env::var("DUMP_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1600_0a0a);
    let out = std::env::var_os("DUMP_FUZZ_OUT").map(PathBuf::from);
    let seeds = seeds();
    let mut rng = Rng(seed | 1);
    let started = Instant::now();
    let (mut errors, mut slowest, mut peak) = (0usize, Duration::ZERO, 0u64);
    for case in 0..cases {
        let base = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, base);
        if let Some(dir) = &out {
            std::fs::write(dir.join(format!("case-{case:05}.yaml")), &input).expect("write a case");
        }
        reset_peak_rss();
        let t = Instant::now();
        let res = std::panic::catch_unwind(|| check_one(case, &input));
        let took = t.elapsed();
        let input_s = String::from_utf8_lossy(&input);
        match res {
            Ok(e) => errors += usize::from(e.is_some()),
            Err(_) => panic!("case {case} (seed {seed}) panicked on:\n{input_s}"),
        }
        assert!(
            took < Duration::from_secs(10),
            "case {case} (seed {seed}) took {took:?}:\n{input_s}"
        );
        slowest = slowest.max(took);
        if let Some(kib) = peak_rss_kib() {
            peak = peak.max(kib);
            assert!(
                kib < 1024 * 1024,
                "case {case} (seed {seed}) peaked at {kib} KiB on {} bytes",
                input.len()
            );
        }
    }
    eprintln!(
        "{cases} cases in {:?}: {errors} file errors, slowest {slowest:?}, peak RSS {peak} KiB",
        started.elapsed()
    );
    assert!(errors > cases / 20 && errors < cases, "{errors} of {cases}");
}
