//! Times serde-saphyr against the `yaml_fast` fast path on a big dump.
//!
//! ```sh
//! cargo run --release -p kubectl-pvc-trace --example gen_dump -- 10000 /tmp/big-10000.yaml
//! cargo run --release -p stateful-yaml --example yaml_fast_bench -- /tmp/big-10000.yaml
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

use serde::de::IgnoredAny;
use stateful_yaml::yaml_fast;
use std::time::{Duration, Instant};

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed());
        last = Some(v);
    }
    (best, last.expect("at least one run"))
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/big-10000.yaml".into());
    let text = std::fs::read_to_string(&path).expect("read the dump");
    println!("{path}: {:.1} MiB", text.len() as f64 / (1024.0 * 1024.0));
    let opts = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: 1_000_000,
            max_nodes: 500_000_000,
            max_total_scalar_bytes: 8 * 1024 * 1024 * 1024,
            max_events: 2_000_000_000,
        },
    };

    if std::env::args().any(|a| a == "--value-only") {
        let (t, r) = best(10, || yaml_fast::from_multiple::<serde_json::Value>(&text));
        println!(
            "yaml_fast    -> serde_json::Value: {:>8.1} ms ({:?})",
            t.as_secs_f64() * 1e3,
            r.map(|d| d.len())
        );
        return;
    }
    if std::env::args().any(|a| a == "--fast-only") {
        let (t, r) = best(20, || yaml_fast::from_multiple::<IgnoredAny>(&text));
        println!(
            "yaml_fast    -> IgnoredAny:        {:>8.1} ms ({:?})",
            t.as_secs_f64() * 1e3,
            r.map(|d| d.len())
        );
        return;
    }
    let (t, r) = best(1, || {
        serde_saphyr::from_multiple_with_options::<IgnoredAny>(&text, opts.clone())
    });
    println!(
        "serde-saphyr -> IgnoredAny:        {:>8.1} ms ({} docs)",
        t.as_secs_f64() * 1e3,
        r.map(|d| d.len()).unwrap_or(0)
    );
    let (t, r) = best(5, || yaml_fast::from_multiple::<IgnoredAny>(&text));
    println!(
        "yaml_fast    -> IgnoredAny:        {:>8.1} ms ({:?})",
        t.as_secs_f64() * 1e3,
        r.map(|d| d.len())
    );
    let (t, r) = best(3, || yaml_fast::from_multiple::<serde_json::Value>(&text));
    println!(
        "yaml_fast    -> serde_json::Value: {:>8.1} ms ({:?})",
        t.as_secs_f64() * 1e3,
        r.as_ref().map(|d| d.len()).map_err(|e| e.to_string())
    );
    if std::env::args().any(|a| a == "--compare") {
        let (t, s) = best(1, || {
            serde_saphyr::from_multiple_with_options::<serde_json::Value>(&text, opts.clone())
        });
        println!(
            "serde-saphyr -> serde_json::Value: {:>8.1} ms",
            t.as_secs_f64() * 1e3
        );
        println!("equal: {}", r.ok() == s.ok());
    }
}
