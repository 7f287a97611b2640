//! Differential: every fixture, re-emitted in every equivalent form (block/flow YAML,
//! LF/CRLF/CR, BOM, comments, List vs documents, JSON compact/indented/concatenated), plans
//! each of its StatefulSets as byte-identical `-o json` (or fails alike).

#[path = "../../../tests/support/forms.rs"]
mod forms;

use serde_json::Value;

#[test]
fn every_form_of_every_fixture_plans_alike() {
    let bin = env!("CARGO_BIN_EXE_kubectl-sts_bootstrap");
    let mut runs = 0;
    for (f, objs) in &forms::fixtures() {
        for sts in objs.iter().filter(|o| o["kind"] == "StatefulSet") {
            let name = sts
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("x");
            let ns = sts
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default");
            let args = ["plan", name, "-n", ns, "-o", "json", "--from-file", "DUMP"];
            runs += forms::check(bin, f, objs, &args);
        }
    }
    eprintln!("{runs} runs compared");
    assert!(runs > 20, "{runs}");
}
