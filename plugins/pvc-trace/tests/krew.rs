//! The krew manifests follow krew's validate-krew-manifest rules (as read in krew's
//! internal/index/validation): apiVersion/kind, name = file name, semver version with 'v',
//! one-line shortDescription, platforms with uri, lowercase sha256, bin, os/arch-only
//! selectors that do not overlap, and a LICENSE in the files. All three plugins. krew's own
//! validator and `krew install --archive` run in tests/scripts/krew-check.sh.
#![allow(clippy::unwrap_used)]

use serde_json::Value;

fn manifests() -> Vec<(String, Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../krew-manifests");
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().and_then(|x| x.to_str()) == Some("yaml") {
            let v: Value = serde_saphyr::from_str(&std::fs::read_to_string(&p).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            out.push((p.file_stem().unwrap().to_string_lossy().into_owned(), v));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_plugin_has_a_valid_manifest() {
    let ms = manifests();
    let names: Vec<&str> = ms.iter().map(|m| m.0.as_str()).collect();
    assert_eq!(names, ["backup", "pvc-trace", "sts-bootstrap"]);
    for (file, m) in &ms {
        assert_eq!(
            m["apiVersion"], "krew.googlecontainertools.github.com/v1alpha2",
            "{file}"
        );
        assert_eq!(m["kind"], "Plugin", "{file}");
        assert_eq!(
            m["metadata"]["name"].as_str(),
            Some(file.as_str()),
            "name = file name"
        );
        let spec = &m["spec"];
        let version = spec["version"].as_str().unwrap();
        let parts: Vec<&str> = version
            .strip_prefix('v')
            .expect("v prefix")
            .split('.')
            .collect();
        assert_eq!(parts.len(), 3, "{file}: semver {version}");
        assert!(
            parts.iter().all(|p| p.parse::<u64>().is_ok()),
            "{file}: semver {version}"
        );
        let short = spec["shortDescription"].as_str().unwrap();
        assert!(
            !short.is_empty() && !short.contains('\n'),
            "{file}: shortDescription"
        );
        let plats = spec["platforms"].as_array().unwrap();
        assert!(!plats.is_empty());
        let mut seen = std::collections::HashSet::new();
        for p in plats {
            let sel = p["selector"]["matchLabels"]
                .as_object()
                .expect("matchLabels");
            assert!(
                sel.keys().all(|k| k == "os" || k == "arch"),
                "{file}: selector keys"
            );
            let os = sel["os"].as_str().unwrap();
            let arch = sel["arch"].as_str().unwrap();
            assert!(["linux", "darwin"].contains(&os) && ["amd64", "arm64"].contains(&arch));
            assert!(seen.insert((os, arch)), "{file}: overlapping selectors");
            let sha = p["sha256"].as_str().unwrap();
            assert!(
                sha.len() == 64
                    && sha
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "{file}: sha256"
            );
            let uri = p["uri"].as_str().unwrap();
            assert!(
                uri.ends_with(".tar.gz") || uri.ends_with(".zip"),
                "{file}: archive type"
            );
            assert!(uri.contains(version), "{file}: uri names the version");
            let bin = p["bin"].as_str().unwrap();
            let expected = format!("kubectl-{}", file.replace('-', "_"));
            assert_eq!(
                bin, expected,
                "kubectl finds `kubectl {file}` as {expected}"
            );
            let files = p["files"].as_array().unwrap();
            assert!(
                files.iter().any(|f| f["from"] == "LICENSE"),
                "{file}: LICENSE in the archive"
            );
            assert!(
                files.iter().any(|f| f["from"] == bin),
                "{file}: the binary in the archive"
            );
        }
        // Only what scripts/release.sh builds here: linux amd64 against glibc, named so.
        assert_eq!(seen.len(), 1, "{file}: only linux/amd64 is built here");
        assert!(seen.contains(&("linux", "amd64")), "{file}");
        for p in plats {
            let uri = p["uri"].as_str().unwrap();
            assert!(
                uri.ends_with(&format!(
                    "kubectl-{file}-{version}-x86_64-unknown-linux-gnu.tar.gz"
                )),
                "{file}: the archive is named for the glibc build it is: {uri}"
            );
            let files = p["files"].as_array().unwrap();
            let shim = format!("kubectl_complete-{}", file.replace('-', "_"));
            assert!(
                files.iter().any(|f| f["from"] == shim.as_str()),
                "{file}: the completion shim is in the archive"
            );
        }
    }
}
