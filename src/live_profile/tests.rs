//! SPEC "Live profile: `configMapRef`", clause by clause.

use super::*;
use crate::evaluate::{Verdict, evaluate_pod, unreadable};
use crate::settings::OnLookupError;
use crate::settings::Profile;
use serde_json::json;

fn eci_profile() -> ConfigMapRef {
    ConfigMapRef {
        namespace: "kube-system".into(),
        name: "eci-profile".into(),
    }
}

fn config_map(data: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "eci-profile", "namespace": "kube-system"},
        "data": data
    }))
    .unwrap()
}

fn load(data: serde_json::Value) -> Result<Vec<Selector>, String> {
    selectors(&eci_profile(), Ok(&config_map(data)))
}

fn names(selectors: &[Selector]) -> Vec<&str> {
    selectors.iter().map(|s| s.name.as_str()).collect()
}

#[test]
fn data_selectors_are_read_as_the_string_form() {
    let s = load(json!({"selectors": r#"[{"name": "gpu", "namespaceSelector": {"matchLabels": {"gpu": "true"}},
        "effect": {"annotations": {"k8s.aliyun.com/eci-use-specs": "ecs.gn6i-c4g1.xlarge"}}}]"#}))
    .unwrap();
    assert_eq!(names(&s), ["gpu"]);
    assert_eq!(
        s[0].namespace_selector.as_ref().unwrap().to_string(),
        "gpu=true"
    );
}

#[test]
fn absent_selectors_give_the_defaults_and_empty_gives_none() {
    let s = load(json!({"vpcId": "vpc-1"})).unwrap();
    assert_eq!(
        names(&s),
        ["default-pod-selector", "default-namespace-selector"]
    );
    assert_eq!(load(json!({"selectors": ""})).unwrap(), []);
    assert_eq!(load(json!({"selectors": "  "})).unwrap(), []);
    // A ConfigMap without data at all: the defaults.
    let answer =
        br#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "eci-profile"}}"#;
    assert_eq!(
        names(&selectors(&eci_profile(), Ok(answer)).unwrap()),
        ["default-pod-selector", "default-namespace-selector"]
    );
}

#[test]
fn cluster_keys_become_one_last_effect_only_selector() {
    let s = load(json!({
        "selectors": r#"[{"name": "a", "objectSelector": {"matchLabels": {"app": "a"}}}]"#,
        "vSwitchIds": "vsw-1,vsw-2",
        "securityGroupId": "sg-1",
        "resourceGroupId": "rg-1",
        "vpcId": "vpc-1",
        "enableClusterIp": "true",
        "clusterDomain": "cluster.local",
    }))
    .unwrap();
    assert_eq!(names(&s), ["a", CLUSTER_KEYS_SELECTOR]);
    let last = &s[1];
    assert!(!last.is_scheduling());
    assert_eq!(
        last.effect.annotations,
        [
            ("k8s.aliyun.com/eci-resource-group-id", "rg-1"),
            ("k8s.aliyun.com/eci-security-group", "sg-1"),
            ("k8s.aliyun.com/eci-vswitch", "vsw-1,vsw-2"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
}

#[test]
fn empty_cluster_keys_are_skipped_and_other_spellings_accepted() {
    let s = load(json!({"selectors": "", "vSwitchIds": "", "vswitchIds": "vsw-9"})).unwrap();
    assert_eq!(names(&s), [CLUSTER_KEYS_SELECTOR]);
    assert_eq!(
        s[0].effect.annotations,
        [(
            "k8s.aliyun.com/eci-vswitch".to_string(),
            "vsw-9".to_string()
        )]
    );
    assert_eq!(
        load(json!({"selectors": "", "securityGroupId": ""})).unwrap(),
        []
    );
}

#[test]
fn every_problem_is_named_with_the_config_map() {
    assert_eq!(
        load(json!({"selectors": "[{\"name\": \"a\"}, {\"objectSelector\": {}}]"})).unwrap_err(),
        "ConfigMap kube-system/eci-profile: selectors[0] \"a\": has neither namespaceSelector, objectSelector nor effect; selectors[1]: name is required"
    );
    let e = load(json!({"selectors": "[{\"name\": \"a\" # note\n}]"})).unwrap_err();
    assert!(
        e.starts_with(
            "ConfigMap kube-system/eci-profile: selectors: the JSON string does not parse: "
        ),
        "{e}"
    );
    assert!(
        e.ends_with(
            "(JSON has no comments: remove the `# …` notes copied from the eci-profile docs)"
        ),
        "{e}"
    );
    assert_eq!(
        selectors(&eci_profile(), Ok(b"[1]")).unwrap_err(),
        "ConfigMap kube-system/eci-profile: the host's answer is not a ConfigMap: found [1]"
    );
    assert_eq!(
        selectors(&eci_profile(), Ok(br#"{"data": [1]}"#)).unwrap_err(),
        "ConfigMap kube-system/eci-profile: data: expected a mapping, found [1]"
    );
    let e = selectors(&eci_profile(), Ok(b"{")).unwrap_err();
    assert!(
        e.starts_with("ConfigMap kube-system/eci-profile: the host's answer is not a ConfigMap: EOF while parsing"),
        "{e}"
    );
}

#[test]
fn a_host_error_keeps_its_first_line() {
    assert_eq!(
        selectors(
            &eci_profile(),
            Err("Cannot find v1/ConfigMap named 'eci-profile' inside of namespace 'kube-system'\nCaused by: …")
        )
        .unwrap_err(),
        "cannot read ConfigMap kube-system/eci-profile: Cannot find v1/ConfigMap named 'eci-profile' inside of namespace 'kube-system'"
    );
}

#[test]
fn ignore_accepts_with_one_warning_and_fail_rejects_with_the_same_text() {
    let problem = "cannot read ConfigMap kube-system/eci-profile: not found";
    assert_eq!(
        unreadable(OnLookupError::Ignore, problem),
        (
            Verdict::Accept,
            vec![format!("eci-profile: pod left unchanged: {problem}")]
        )
    );
    assert_eq!(
        unreadable(OnLookupError::Fail, problem),
        (Verdict::Reject(format!("eci-profile: {problem}")), vec![])
    );
}

/// The selectors of the ConfigMap are what the next pod is decided with: an
/// edit applies at once, and the cluster keys come after every selector.
#[test]
fn an_edit_applies_to_the_next_pod() {
    let settings = json!({"configMapRef": {"namespace": "kube-system", "name": "eci-profile"}});
    let mut profile = Profile::from_settings(&settings).unwrap();
    let pod = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}});
    let decide = |profile: &Profile| {
        evaluate_pod(profile, pod.clone(), "default", |_| Ok(Default::default()))
    };

    profile.selectors = load(json!({})).unwrap();
    assert_eq!(decide(&profile).verdict, Verdict::Accept);

    profile.selectors = load(json!({
        "selectors": r#"[{"name": "web", "objectSelector": {"matchLabels": {"app": "web"}},
                        "effect": {"annotations": {"k8s.aliyun.com/eci-security-group": "sg-from-selector"}}}]"#,
        "securityGroupId": "sg-cluster",
        "vSwitchIds": "vsw-1",
    }))
    .unwrap();
    let Verdict::Mutate(out) = decide(&profile).verdict else {
        panic!("the edited profile sends the pod")
    };
    assert_eq!(
        out["metadata"]["annotations"],
        json!({"k8s.aliyun.com/eci-security-group": "sg-from-selector", "k8s.aliyun.com/eci-vswitch": "vsw-1"})
    );
    assert_eq!(
        out["spec"]["nodeSelector"],
        json!({"type": "virtual-kubelet"})
    );
}
