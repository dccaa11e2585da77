//! SPEC "Settings", clause by clause.

use super::*;
use serde_json::{Value, json};

/// Compiles settings as `validate` reads them: from their text. Read from
/// a `serde_json::Value`, they must give the same.
fn compile(settings: &Value) -> Result<Profile, SettingsError> {
    let text = settings.to_string();
    let Checked(compiled) = serde_json::from_str(&text).unwrap();
    // Both from the text: a float read back from text may differ in its last digit.
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(compiled, Profile::from_settings(&value), "{text}");
    compiled
}

fn errors(settings: Value) -> Vec<String> {
    match compile(&settings) {
        Ok(p) => panic!("expected errors, got {p:?}"),
        Err(SettingsError(e)) => e,
    }
}

fn one_error(settings: Value) -> String {
    let mut e = errors(settings);
    assert_eq!(e.len(), 1, "{e:?}");
    e.remove(0)
}

#[test]
fn absent_settings_give_the_eci_profile_defaults() {
    for settings in [json!(null), json!({})] {
        let p = compile(&settings).unwrap();
        assert_eq!(p, Profile::default());
        let names: Vec<&str> = p.selectors.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["default-pod-selector", "default-namespace-selector"]
        );
        assert_eq!(
            p.selectors[0].object_selector.as_ref().unwrap().to_string(),
            "alibabacloud.com/eci=true"
        );
        assert_eq!(
            p.selectors[1]
                .namespace_selector
                .as_ref()
                .unwrap()
                .to_string(),
            "alibabacloud.com/eci=true"
        );
        assert_eq!(
            p.virtual_node.node_selector,
            vec![("type".to_string(), "virtual-kubelet".to_string())]
        );
        assert_eq!(
            serde_json::to_value(&p.virtual_node.tolerations).unwrap(),
            json!([
                {"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoSchedule"}
            ])
        );
        assert_eq!(p.on_namespace_lookup_error, OnLookupError::Ignore);
    }
}

#[test]
fn empty_selectors_mean_no_selector_at_all() {
    for selectors in [json!([]), json!(""), json!("  \n"), json!(null)] {
        let p = compile(&json!({"selectors": selectors})).unwrap();
        assert!(p.selectors.is_empty(), "{selectors}");
        assert!(p.selectors.iter().all(|s| s.namespace_selector.is_none()));
    }
}

#[test]
fn selectors_as_the_configmap_json_string() {
    // Seed 001, the `demo` selector, exactly as it stands under `selectors: |`.
    let text = r#"[
    {
        "name":"demo",
        "namespaceSelector":{
            "matchLabels":{
                "eci":"true"
            }
        },
        "objectSelector":{
            "matchLabels":{
                "eci":"true"
            }
        },
        "effect":{
            "annotations":{
                "k8s.aliyun.com/eci-image-cache": "true"
            },
            "labels":{
                "created-by-eci":"true"
            }
        }
    }
   ]"#;
    let from_string = compile(&json!({"selectors": text})).unwrap();
    let from_list =
        compile(&json!({"selectors": serde_json::from_str::<Value>(text).unwrap()})).unwrap();
    assert_eq!(from_string, from_list);
    let demo = &from_string.selectors[0];
    assert_eq!(demo.name, "demo");
    assert!(demo.is_scheduling());
    assert_eq!(
        demo.effect.annotations,
        vec![(
            "k8s.aliyun.com/eci-image-cache".to_string(),
            "true".to_string()
        )]
    );
    assert_eq!(
        demo.effect.labels,
        vec![("created-by-eci".to_string(), "true".to_string())]
    );
    assert!(
        from_string
            .selectors
            .iter()
            .any(|s| s.namespace_selector.is_some())
    );
}

#[test]
fn unparseable_json_string_is_rejected() {
    let e = one_error(json!({"selectors": "[{\"name\": \"x\",]"}));
    assert!(
        e.starts_with("selectors: the JSON string does not parse: "),
        "{e}"
    );
    let e = one_error(json!({"selectors": "[{\"name\":\"demo\", # required\n}]"}));
    assert!(
        e.ends_with(
            "(JSON has no comments: remove the `# …` notes copied from the eci-profile docs)"
        ),
        "{e}"
    );
    let e = one_error(json!({"selectors": "[] trailing"}));
    assert!(
        e.starts_with("selectors: the JSON string does not parse: trailing characters"),
        "{e}"
    );
}

#[test]
fn selector_errors_name_selector_field_and_value() {
    for (selectors, error, msg) in [
        (
            json!([{"objectSelector": {"matchLabels": {"a": "b"}}}]),
            "selectors[0]: name is required",
            "missing name",
        ),
        (
            json!([{"name": "", "objectSelector": {}}]),
            "selectors[0]: name is required",
            "empty name",
        ),
        (
            json!([{"name": "x"}]),
            "selectors[0] \"x\": has neither namespaceSelector, objectSelector nor effect",
            "neither",
        ),
        (
            json!([{"name": "x", "effect": {}}]),
            "selectors[0] \"x\": has neither namespaceSelector, objectSelector nor effect",
            "empty effect",
        ),
        (
            json!([{"name": "x", "objectSelector": {"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["b"]}]}}]),
            "selectors[0] \"x\": objectSelector.matchExpressions[0]: operator \"Equals\" is not one of In, NotIn, Exists, DoesNotExist",
            "bad operator",
        ),
        (
            json!([{"name": "x", "namespaceSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}}]),
            "selectors[0] \"x\": namespaceSelector.matchExpressions[0]: operator In needs at least one value",
            "In without values",
        ),
        (
            json!([{"name": "x", "objectSelector": {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["v"]}]}}]),
            "selectors[0] \"x\": objectSelector.matchExpressions[0]: operator Exists takes no values, found [\"v\"]",
            "Exists with values",
        ),
        (
            json!([{"name": "gpu", "objectSelector": {}, "effect": {"labels": {"team": "has space"}}}]),
            "selectors[0] \"gpu\": effect.labels[\"team\"]: value \"has space\" is not a valid label value: must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
            "bad label value",
        ),
        (
            json!([{"name": "gpu", "objectSelector": {}, "effect": {"annotations": {"Bad/Key": "v"}}}]),
            "selectors[0] \"gpu\": effect.annotations[\"Bad/Key\"]: key \"Bad/Key\" is not a valid annotation key: prefix part must be a lowercase DNS subdomain (e.g. example.com)",
            "bad annotation key",
        ),
        (
            json!([{"name": "gpu", "objectSelector": {}, "effect": {"labels": {"gpu": true}}}]),
            "selectors[0] \"gpu\": effect.labels[\"gpu\"]: expected a string, found true (quote it: \"true\")",
            "unquoted boolean",
        ),
        (
            json!([{"name": "x", "objectSelector": {}, "effects": {}}]),
            "selectors[0] \"x\": unknown field \"effects\" (known fields: name, namespaceSelector, objectSelector, effect)",
            "unknown selector field",
        ),
        (
            json!([{"name": "x", "objectSelector": {}, "effect": {"annotation": {}}}]),
            "selectors[0] \"x\": effect: unknown field \"annotation\" (known fields: annotations, labels)",
            "unknown effect field",
        ),
        (
            json!([{"name": 5, "objectSelector": {}}]),
            "selectors[0].name: expected a string, found 5",
            "name not a string",
        ),
        (
            json!(["x"]),
            "selectors[0]: expected a mapping, found \"x\"",
            "selector not a mapping",
        ),
        (
            json!({"name": "x"}),
            "selectors: expected a list, found {\"name\":\"x\"}",
            "selectors not a list",
        ),
    ] {
        assert_eq!(one_error(json!({"selectors": selectors})), error, "{msg}");
    }
}

#[test]
fn duplicate_names_are_rejected_ignoring_case() {
    let e = one_error(json!({"selectors": [
        {"name": "gpu", "objectSelector": {}},
        {"name": "cpu", "objectSelector": {}},
        {"name": "GPU", "objectSelector": {}}
    ]}));
    assert_eq!(
        e,
        "selectors[2] \"GPU\": duplicate name, already used by selectors[0] (names are compared ignoring case)"
    );
    let e = one_error(
        json!({"selectors": [{"name": "gpu", "objectSelector": {}}, {"name": "gpu", "objectSelector": {}}]}),
    );
    assert_eq!(
        e,
        "selectors[1] \"gpu\": duplicate name, already used by selectors[0]"
    );
}

#[test]
fn all_errors_are_reported_together() {
    let e = Profile::from_settings(
        &json!({"selectors": [{"name": "a"}, {"objectSelector": {}}], "bogus": 1}),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "settings: unknown field \"bogus\" (known fields: selectors, configMapRef, virtualNode, onNamespaceLookupError, onProfileError); selectors[0] \"a\": has neither namespaceSelector, objectSelector nor effect; selectors[1]: name is required"
    );
}

/// Settings as `validate` reads their text, which may hold what a `Value`
/// cannot: keys out of order, a key given twice, escapes.
fn read(text: &str) -> Result<Profile, SettingsError> {
    let Checked(checked) = serde_json::from_str(text).unwrap();
    checked
}

#[test]
fn a_field_at_a_time_reads_as_a_whole_tree_would() {
    // Errors by field in key order, whatever the order written.
    let e =
        read(r#"{"virtualNode": 1, "bogus": 2, "selectors": [{"name": "a"}], "configMapRef": 3}"#)
            .unwrap_err();
    assert_eq!(
        e.0,
        [
            "settings: unknown field \"bogus\" (known fields: selectors, configMapRef, virtualNode, onNamespaceLookupError, onProfileError)",
            "configMapRef: expected a mapping, found 3",
            "selectors[0] \"a\": has neither namespaceSelector, objectSelector nor effect",
            "virtualNode: expected a mapping, found 1",
        ]
    );
    // Of a key given twice, the last value counts, with its errors only.
    assert_eq!(
        read(r#"{"selectors": [{"name": "a"}], "selectors": []}"#),
        Ok(Profile {
            selectors: Vec::new(),
            ..Profile::default()
        })
    );
    assert_eq!(
        read(r#"{"onProfileError": "Fail", "onProfileError": "fail"}"#)
            .unwrap_err()
            .0,
        ["onProfileError: \"fail\" is not one of Ignore, Fail"]
    );
    // Names written with escapes are compared as read.
    let e = read(
        r#"{"selectors": [{"name": "g\u0070u", "objectSelector": {}}, {"name": "GPU", "objectSelector": {}}, {"name": "gpu", "objectSelector": {}}]}"#,
    )
    .unwrap_err();
    assert_eq!(
        e.0,
        [
            "selectors[1] \"GPU\": duplicate name, already used by selectors[0] (names are compared ignoring case)",
            "selectors[2] \"gpu\": duplicate name, already used by selectors[0]",
        ]
    );
}

#[test]
fn a_json_string_counts_only_once_it_parses() {
    // The first selector, read before the syntax error, adds nothing of its own.
    assert_eq!(
        read(r#"{"selectors": "[{\"name\": \"a\"}, x]"}"#)
            .unwrap_err()
            .0,
        ["selectors: the JSON string does not parse: expected value at line 1 column 17"]
    );
    // Inside the string, a string is not read again as JSON.
    assert_eq!(
        read(r#"{"selectors": "\"[]\""}"#).unwrap_err().0,
        ["selectors: expected a list, found \"[]\""]
    );
    assert_eq!(read(r#"{"selectors": "null"}"#).unwrap().selectors, []);
}

#[test]
fn cluster_level_keys_point_to_virtual_kubelet_and_the_pod_annotation() {
    assert_eq!(
        one_error(json!({"vSwitchIds": "vsw-1,vsw-2"})),
        "settings: \"vSwitchIds\" is a cluster-level parameter of the eci-profile ConfigMap; it belongs to virtual-kubelet, not to this policy. To do the same per pod, add the annotation \"k8s.aliyun.com/eci-vswitch\" in a selector's effect"
    );
    assert_eq!(
        one_error(json!({"securityGroupId": "sg-1"})),
        "settings: \"securityGroupId\" is a cluster-level parameter of the eci-profile ConfigMap; it belongs to virtual-kubelet, not to this policy. To do the same per pod, add the annotation \"k8s.aliyun.com/eci-security-group\" in a selector's effect"
    );
    assert_eq!(
        one_error(json!({"enableClusterIp": "true"})),
        "settings: \"enableClusterIp\" is a cluster-level parameter of the eci-profile ConfigMap; it belongs to virtual-kubelet, not to this policy, and has no per-pod equivalent"
    );
}

#[test]
fn eci_annotation_values_are_checked() {
    let e = one_error(json!({"selectors": [{"name": "spot", "objectSelector": {},
        "effect": {"annotations": {"k8s.aliyun.com/eci-spot-strategy": "Spot"}}}]}));
    assert!(e.starts_with("selectors[0] \"spot\": effect.annotations[\"k8s.aliyun.com/eci-spot-strategy\"]: value \"Spot\" is not one of "), "{e}");
    assert!(
        e.contains("SpotAsPriceGo") && e.contains("SpotWithPriceLimit"),
        "{e}"
    );
    let e = one_error(json!({"selectors": [{"name": "x", "objectSelector": {},
        "effect": {"annotations": {"k8s.aliyun.com/eci-use-spec": "ecs.c6.xlarge"}}}]}));
    assert_eq!(
        e,
        "selectors[0] \"x\": effect.annotations[\"k8s.aliyun.com/eci-use-spec\"]: unknown ECI annotation; did you mean \"k8s.aliyun.com/eci-use-specs\"?"
    );
}

#[test]
fn virtual_node_is_configurable_and_checked() {
    // ACK VNode (seed 001).
    let p = compile(&json!({"virtualNode": {
        "nodeSelector": {"k8s.aliyun.com/vnode": "true"},
        "tolerations": [{"key": "k8s.aliyun.com/vnode", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]}}))
    .unwrap();
    assert_eq!(
        p.virtual_node.node_selector,
        vec![("k8s.aliyun.com/vnode".to_string(), "true".to_string())]
    );
    assert_eq!(
        serde_json::to_value(&p.virtual_node.tolerations[0]).unwrap(),
        json!({"key": "k8s.aliyun.com/vnode", "operator": "Equal", "value": "true", "effect": "NoSchedule"})
    );
    // An absent part keeps its default.
    let p = Profile::from_settings(
        &json!({"virtualNode": {"nodeSelector": {"type": "virtual-kubelet"}}}),
    )
    .unwrap();
    assert_eq!(p.virtual_node, VirtualNode::default());

    for (vn, error, msg) in [
        (
            json!({"nodeSelector": {}}),
            "virtualNode.nodeSelector: must have at least one label (the labels of the virtual nodes)",
            "empty nodeSelector",
        ),
        (
            json!({"nodeSelector": {"type": 1}}),
            "virtualNode.nodeSelector[\"type\"]: expected a string, found 1 (quote it: \"1\")",
            "number",
        ),
        (
            json!({"tolerations": [{"key": "a", "operator": "Exists", "value": "b"}]}),
            "virtualNode.tolerations[0]: value must be empty when operator is Exists, found \"b\"",
            "Exists with value",
        ),
        (
            json!({"tolerations": [{"key": "a", "operator": "Maybe"}]}),
            "virtualNode.tolerations[0].operator: \"Maybe\" is not one of Equal, Exists",
            "bad operator",
        ),
        (
            json!({"tolerations": [{"key": "a", "effect": "NoRun"}]}),
            "virtualNode.tolerations[0]: effect \"NoRun\" is not one of NoSchedule, PreferNoSchedule, NoExecute",
            "bad effect",
        ),
        (
            json!({"tolerations": [{"operator": "Equal", "value": "x"}]}),
            "virtualNode.tolerations[0]: operator must be Exists when key is empty",
            "empty key",
        ),
        (
            json!({"tolerations": [{"key": "a", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 5}]}),
            "virtualNode.tolerations[0]: tolerationSeconds is only allowed with effect NoExecute",
            "seconds",
        ),
        (
            json!({"tolerations": [{"key": "a", "operator": "Exists", "tolerance": 1}]}),
            "virtualNode.tolerations[0]: unknown field \"tolerance\" (known fields: key, operator, value, effect, tolerationSeconds)",
            "unknown field",
        ),
        (
            json!({"nodeselector": {}}),
            "virtualNode: unknown field \"nodeselector\" (known fields: nodeSelector, tolerations)",
            "field case",
        ),
    ] {
        assert_eq!(one_error(json!({"virtualNode": vn})), error, "{msg}");
    }
}

#[test]
fn on_namespace_lookup_error_values() {
    assert_eq!(
        compile(&json!({"onNamespaceLookupError": "Fail"}))
            .unwrap()
            .on_namespace_lookup_error,
        OnLookupError::Fail
    );
    assert_eq!(
        one_error(json!({"onNamespaceLookupError": "ignore"})),
        "onNamespaceLookupError: \"ignore\" is not one of Ignore, Fail"
    );
}

#[test]
fn settings_that_are_not_a_mapping() {
    assert_eq!(
        one_error(json!([1])),
        "settings: expected a mapping, found [1]"
    );
}

#[test]
fn config_map_ref_reads_the_profile_live() {
    let p = compile(&json!({
        "configMapRef": {"namespace": "kube-system", "name": "eci-profile"},
        "onProfileError": "Fail"
    }))
    .unwrap();
    assert_eq!(
        p.config_map,
        Some(ConfigMapRef {
            namespace: "kube-system".into(),
            name: "eci-profile".into()
        })
    );
    assert_eq!(
        p.config_map.as_ref().unwrap().to_string(),
        "kube-system/eci-profile"
    );
    assert_eq!(p.on_profile_error, OnLookupError::Fail);
    // Filled per request from the ConfigMap, never the built-in defaults here.
    assert!(p.selectors.is_empty());
    assert_eq!(
        compile(&json!({})).unwrap().on_profile_error,
        OnLookupError::Ignore
    );
}

#[test]
fn config_map_ref_excludes_selectors() {
    assert_eq!(
        one_error(json!({
            "configMapRef": {"namespace": "kube-system", "name": "eci-profile"},
            "selectors": []
        })),
        "settings: configMapRef and selectors cannot be used together: with configMapRef, the selectors are the ConfigMap's data.selectors"
    );
}

#[test]
fn config_map_ref_needs_a_namespace_and_a_name() {
    assert_eq!(
        errors(json!({"configMapRef": {"namespace": "", "name": null}})),
        [
            "configMapRef.namespace: required (for example \"kube-system\")",
            "configMapRef.name: required (for example \"eci-profile\")"
        ]
    );
    assert_eq!(
        errors(
            json!({"configMapRef": {"namespace": "Kube System", "name": "eci_profile", "key": "selectors"}})
        ),
        [
            "configMapRef.namespace: \"Kube System\" is not a valid namespace: lowercase letters, digits and '-', at most 63 characters",
            "configMapRef.name: \"eci_profile\" is not a valid name: lowercase letters, digits, '-' and '.', at most 253 characters",
            "configMapRef: unknown field \"key\" (known fields: namespace, name)"
        ]
    );
    assert_eq!(
        one_error(json!({"configMapRef": "kube-system/eci-profile"})),
        "configMapRef: expected a mapping, found \"kube-system/eci-profile\""
    );
    assert_eq!(
        one_error(
            json!({"configMapRef": {"namespace": "kube-system", "name": "eci-profile"}, "onProfileError": "ignore"})
        ),
        "onProfileError: \"ignore\" is not one of Ignore, Fail"
    );
}
