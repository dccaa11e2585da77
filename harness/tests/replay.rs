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

/// SPEC Live profile: with `configMapRef`, a pod created after the ConfigMap
/// changes gets the new selectors' effects. One policy, loaded once, with the
/// same settings; only what the cluster holds changes between the requests
/// (each request runs on a fresh instance, as under policy-server).
#[test]
fn an_edit_of_the_config_map_applies_to_the_next_request() {
    use eci_profile_harness::{Answer, Cluster};
    use serde_json::{Value, json};
    let data = workspace_root().join("test_data");
    let read = |path: &str| -> Value {
        let text = std::fs::read_to_string(data.join(path)).unwrap();
        serde_yaml::from_str(&text).unwrap()
    };
    let request: Value = serde_json::from_str(
        &std::fs::read_to_string(data.join("requests/kubectl-run-nginx.json")).unwrap(),
    )
    .unwrap();
    let settings = read("settings/live.yml");
    let mut policy = Policy::load(policy_wasm()).unwrap_or_else(|e| panic!("{e:#}"));
    let mut use_specs = |config_map: Answer| {
        let mut cluster = Cluster::new();
        cluster.insert_config_map("kube-system", "eci-profile", config_map);
        policy.set_cluster(cluster);
        let evaluation = policy.validate(&request, &settings).unwrap();
        let warnings = evaluation.response.warnings.clone().unwrap_or_default();
        let mutated = evaluation
            .response
            .mutated_object
            .clone()
            .unwrap_or(json!(null));
        (
            mutated["metadata"]["annotations"]["k8s.aliyun.com/eci-use-specs"].clone(),
            warnings,
        )
    };
    assert_eq!(
        use_specs(Answer::Found(read("live/eci-profile.yml"))),
        (json!("2-4Gi"), vec![])
    );
    assert_eq!(
        use_specs(Answer::Found(read("live/eci-profile-edited.yml"))),
        (json!("4-8Gi"), vec![])
    );
    // Deleted: the pod goes through unchanged, and the warning says why.
    assert_eq!(
        use_specs(Answer::NotFound),
        (
            json!(null),
            vec!["eci-profile: pod left unchanged: cannot read ConfigMap kube-system/eci-profile: Cannot find v1/ConfigMap named 'eci-profile' inside of namespace 'Some(\"kube-system\")'".to_owned()]
        )
    );
}
