//! Replays every case in `test_data/cases/` against a fresh build of the
//! policy (or the module `ECI_PROFILE_WASM` names), and fails with the full
//! report, a diff per failing case, when any case differs.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use eci_profile_harness::case::case_files;
use eci_profile_harness::{Policy, build_policy, replay_files, workspace_root};

/// The policy module, built once per test process.
fn policy_wasm() -> &'static Path {
    static WASM: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match WASM.get_or_init(|| build_policy().map_err(|e| format!("{e:#}"))) {
        Ok(path) => path,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn every_case_replays_exactly() {
    let data = workspace_root().join("test_data");
    let dir = data.join("cases");
    let files = case_files(&dir).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(!files.is_empty(), "no case files in {}", dir.display());

    let mut policy = Policy::load(policy_wasm()).unwrap_or_else(|e| panic!("{e:#}"));
    let replay = replay_files(&mut policy, &files, &data);
    if replay.failed() > 0 {
        panic!("\n{}", replay.render());
    }
    println!("{}", replay.summary());
}
