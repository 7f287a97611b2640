//! Differential: every fixture, re-emitted in every equivalent form (block/flow YAML,
//! LF/CRLF/CR, BOM, comments, List vs documents, JSON compact/indented/concatenated), traces
//! to byte-identical `-o json`.

#[path = "../../../tests/support/forms.rs"]
mod forms;

#[test]
fn every_form_of_every_fixture_traces_alike() {
    let bin = env!("CARGO_BIN_EXE_kubectl-pvc_trace");
    let mut runs = 0;
    let fixtures = forms::fixtures();
    assert!(fixtures.len() >= 5, "{}", fixtures.len());
    for (f, objs) in &fixtures {
        runs += forms::check(bin, f, objs, &["--from-file", "DUMP", "-A", "-o", "json"]);
        // a failing fixture would compare nothing but exit codes
        let ok = std::process::Command::new(bin)
            .args(["--from-file", f.to_str().unwrap(), "-A", "-o", "json"])
            .output()
            .unwrap();
        assert!(ok.status.success(), "{}", f.display());
    }
    eprintln!("{runs} runs compared");
    assert!(runs > 50, "{runs}");
}
