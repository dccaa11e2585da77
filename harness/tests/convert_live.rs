//! `eci-profile convert --live` end to end: the command writes the manifest
//! of harness/tests/data/convert-live/, and kwctl runs that manifest (its
//! module pointed at annotated-policy.wasm) with a session answering the
//! ConfigMap look-up, giving the exact patch. The kwctl part is skipped, with
//! the reason, when kwctl or annotated-policy.wasm (make annotated-policy.wasm)
//! is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use eci_profile_harness::convert::policy_module;
use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn convert_live(configmap: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_eci-profile"))
        .args(["convert", "--live", "--configmap"])
        .arg(configmap)
        .output()
        .expect("eci-profile runs")
}

#[test]
fn the_command_writes_the_expected_manifest() {
    let out = convert_live(&root().join("test_data/configmaps/000-example-2-gpu.yml"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/convert-live/000-example-2-gpu.yml"),
    )
    .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
}

#[test]
fn a_configmap_the_policy_would_refuse_exits_2_with_the_reason() {
    let dir = std::env::temp_dir().join(format!("convert-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cm = dir.join("cm.yml");
    std::fs::write(
        &cm,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: eci-profile, namespace: kube-system}\ndata:\n  selectors: '[{\"name\": \"spot\", \"objectSelector\": {}, \"effect\": {\"annotations\": {\"k8s.aliyun.com/eci-spot-strategy\": \"Spot\"}}}]'\n",
    )
    .unwrap();
    let out = convert_live(&cm);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!(
            "error: {}: ConfigMap kube-system/eci-profile: selectors[0] \"spot\": effect.annotations[\"k8s.aliyun.com/eci-spot-strategy\"]: value \"Spot\" is not one of SpotAsPriceGo, SpotWithPriceLimit. The policy reads this ConfigMap on every pod creation and would leave every pod unchanged (onProfileError: Ignore): fix the ConfigMap first\n",
            cm.display()
        )
    );
}

#[test]
fn kwctl_runs_the_live_manifest_reading_the_configmap() {
    let wasm = root().join("annotated-policy.wasm");
    if Command::new("kwctl").arg("--version").output().is_err() {
        eprintln!("skipped: kwctl is not on PATH");
        return;
    }
    if !wasm.exists() {
        eprintln!("skipped: annotated-policy.wasm is missing (make annotated-policy.wasm)");
        return;
    }
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/convert-live/000-example-2-gpu.yml"),
    )
    .unwrap()
    .replace(
        &policy_module(),
        &format!("file://{}", wasm.canonicalize().unwrap().display()),
    );
    let dir = std::env::temp_dir().join(format!("convert-live-kwctl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let policy = dir.join("policy.yml");
    std::fs::write(&policy, manifest).unwrap();
    let out = Command::new("kwctl")
        .args([
            "run",
            "--allow-context-aware",
            "--replay-host-capabilities-interactions",
        ])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sessions/live-gpu-jobs.yml"))
        .arg("--request-path")
        .arg(root().join("test_data/requests/job-pod.json"))
        .arg(&policy)
        .output()
        .expect("kwctl runs");
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let response: Value = serde_json::from_slice(&out.stdout).expect("kwctl prints the response");
    assert_eq!(response["allowed"], true);
    assert_eq!(response["warnings"], Value::Null);
    let patch = base64::engine::general_purpose::STANDARD
        .decode(response["patch"].as_str().expect("a patch"))
        .unwrap();
    let patch: Value = serde_json::from_slice(&patch).unwrap();
    // The ConfigMap's selector (namespace gpu=true) and its cluster-level keys.
    assert_eq!(
        patch,
        json!([
            {"op": "add", "path": "/metadata/annotations", "value": {
                "k8s.aliyun.com/eci-security-group": "sg-2zeeyaaxlkq9sppl8k2m",
                "k8s.aliyun.com/eci-use-specs": "ecs.gn6v-c8g1.2xlarge",
                "k8s.aliyun.com/eci-vswitch": "vsw-2ze23nqzig8inprou4k2j",
            }},
            {"op": "add", "path": "/metadata/labels/gpu", "value": "test"},
            {"op": "add", "path": "/spec/nodeSelector", "value": {"type": "virtual-kubelet"}},
            {"op": "add", "path": "/spec/tolerations/2", "value": {"effect": "NoSchedule", "key": "virtual-kubelet.io/provider", "operator": "Exists"}},
        ])
    );
}
