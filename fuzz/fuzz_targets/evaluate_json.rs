//! Arbitrary bytes as a pod (when they parse as JSON) against a few fixed valid
//! settings and namespace answers: no panic, prefixed texts, and for a mutated
//! pod no overwrite, only the reported additions, idempotence.
#![no_main]

use eci_profile::evaluate::NamespaceLabels;
use eci_profile::settings::Profile;
use eci_profile_fuzz::check;
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use std::sync::LazyLock;

static PROFILES: LazyLock<Vec<Profile>> = LazyLock::new(|| {
    [
        json!({}),
        json!({"selectors": [
            {"name": "gpu", "namespaceSelector": {"matchLabels": {"gpu": "true"}},
             "objectSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["batch", "a"]}]},
             "effect": {"annotations": {"k8s.aliyun.com/eci-use-specs": "ecs.gn6v-c8g1.2xlarge"}, "labels": {"gpu": "test"}}},
            {"name": "not-system", "objectSelector": {"matchExpressions": [
                {"key": "app", "operator": "NotIn", "values": ["kube-proxy"]},
                {"key": "skip", "operator": "DoesNotExist"}]},
             "effect": {"labels": {"tier": "a"}}},
            {"name": "everyone", "effect": {"annotations": {"k8s.aliyun.com/eci-auto-imc": "true"}}},
            {"name": "eci", "objectSelector": {"matchExpressions": [{"key": "alibabacloud.com/eci", "operator": "Exists"}]}}
        ], "onNamespaceLookupError": "Fail"}),
        json!({"selectors": "[{\"name\":\"ns\",\"namespaceSelector\":{\"matchLabels\":{\"alibabacloud.com/eci\":\"true\"}},\"effect\":{\"labels\":{\"app\":\"eci\"}}}]",
               "virtualNode": {"nodeSelector": {"type": "virtual-kubelet", "kubernetes.io/role": "agent"},
                               "tolerations": [{"operator": "Exists"}, {"key": "k", "operator": "Equal", "value": "v", "effect": "NoExecute", "tolerationSeconds": 5}]}}),
        json!({"virtualNode": {"tolerations": []}}),
    ]
    .iter()
    .map(|s| Profile::from_settings(s).expect("fixed settings are valid"))
    .collect()
});

fuzz_target!(|data: &[u8]| {
    let Ok(pod) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let eci: NamespaceLabels = [
        ("alibabacloud.com/eci".to_string(), "true".to_string()),
        ("gpu".to_string(), "true".to_string()),
    ]
    .into();
    for profile in PROFILES.iter() {
        check(profile, &pod, "team-a", &Ok(eci.clone()));
        check(profile, &pod, "team-a", &Ok(NamespaceLabels::new()));
        check(profile, &pod, "team-a", &Err("connection refused".into()));
        check(profile, &pod, "", &Ok(NamespaceLabels::new()));
    }
});
