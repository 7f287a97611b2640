//! Differential: every fixture, re-emitted in every equivalent form (block/flow YAML,
//! LF/CRLF/CR, BOM, comments, List vs documents, JSON compact/indented/concatenated), lists
//! the same backups as byte-identical `-o json`.

#[path = "../../../tests/support/forms.rs"]
mod forms;

#[test]
fn every_form_of_every_fixture_lists_alike() {
    let bin = env!("CARGO_BIN_EXE_kubectl-backup");
    let mut runs = 0;
    for (f, objs) in &forms::fixtures() {
        runs += forms::check(
            bin,
            f,
            objs,
            &["list", "-A", "-o", "json", "--from-file", "DUMP"],
        );
    }
    eprintln!("{runs} runs compared");
    assert!(runs > 50, "{runs}");
}
