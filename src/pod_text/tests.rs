use super::*;
use crate::settings::Profile;
use serde_json::json;

/// `evaluate_pod_text` and `evaluate_pod` on the whole pod agree: the same
/// verdict (the mutated text parses to the mutated `Value`), warnings, report.
/// Returns the text verdict.
fn agrees(profile: &Profile, text: &str) -> TextVerdict {
    let ns = |_: &str| {
        Ok(NamespaceLabels::from([(
            "vk".to_string(),
            "true".to_string(),
        )]))
    };
    let by_text = evaluate_pod_text(profile, text, None, ns);
    let whole: Value = serde_json::from_str(text).unwrap();
    let namespace = whole["metadata"]["namespace"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let by_value = evaluate_pod(profile, whole, &namespace, ns);
    let verdict = by_text
        .verdict
        .to_verdict()
        .expect("the mutated pod is JSON");
    assert_eq!(verdict, by_value.verdict, "{text}");
    assert_eq!(by_text.warnings, by_value.warnings, "{text}");
    assert_eq!(by_text.report, by_value.report, "{text}");
    by_text.verdict
}

fn eci_profile() -> Profile {
    Profile::from_settings(&json!({"selectors": [
        {"name": "eci", "objectSelector": {"matchLabels": {"alibabacloud.com/eci": "true"}},
         "effect": {"annotations": {"k8s.aliyun.com/eci-use-specs": "2-4Gi"}, "labels": {"team": "a"}}},
        {"name": "ns", "namespaceSelector": {"matchLabels": {"vk": "true"}}}
    ]}))
    .unwrap()
}

#[test]
fn the_mutated_pod_is_the_request_text_with_the_changed_fields_replaced() {
    let text = r#"{"kind":"Pod","metadata":{"name":"web-1","labels":{"alibabacloud.com/eci":"true"}},
  "spec": {"containers": [{"name": "c", "image": "nginx:1.27", "env": [{"name": "N", "value": "1.50"}],
  "resources": {"limits": {"cpu": 1.0}}}], "priority": 12345678901234567890123}, "status": {}}"#;
    let TextVerdict::Mutate(out) = evaluate_pod_text(&eci_profile(), text, Some("default"), |_| {
        Ok(NamespaceLabels::new())
    })
    .verdict
    else {
        panic!("not mutated")
    };
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"kind":"Pod","metadata":{"name":"web-1","labels":{"alibabacloud.com/eci":"true","team":"a"},"annotations":{"k8s.aliyun.com/eci-use-specs":"2-4Gi"}},
  "spec": {"containers": [{"name": "c", "image": "nginx:1.27", "env": [{"name": "N", "value": "1.50"}],
  "resources": {"limits": {"cpu": 1.0}}}], "priority": 12345678901234567890123,"nodeSelector":{"type":"virtual-kubelet"},"tolerations":[{"effect":"NoSchedule","key":"virtual-kubelet.io/provider","operator":"Exists"}]}, "status": {}}"#
    );
}

#[test]
fn additions_are_inserted_and_the_users_own_bytes_stay() {
    let text = "{\"metadata\": {\"labels\": { \"alibabacloud.com/eci\" : \"true\", \"app\": \"caf\\u00e9\" } },\n\"spec\": {\"tolerations\": [ {\"key\": \"a\", \"operator\": \"Exists\"} ], \"nodeSelector\": {}}}";
    let TextVerdict::Mutate(out) = agrees(&eci_profile(), text) else {
        panic!("not mutated")
    };
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "{\"metadata\": {\"labels\": { \"alibabacloud.com/eci\" : \"true\", \"app\": \"caf\\u00e9\" ,\"team\":\"a\"} ,\"annotations\":{\"k8s.aliyun.com/eci-use-specs\":\"2-4Gi\"}},\n\"spec\": {\"tolerations\": [ {\"key\": \"a\", \"operator\": \"Exists\"} ,{\"effect\":\"NoSchedule\",\"key\":\"virtual-kubelet.io/provider\",\"operator\":\"Exists\"}], \"nodeSelector\": {\"type\":\"virtual-kubelet\"}}}"
    );
}

#[test]
fn absent_null_empty_and_repeated_parts_are_written_where_they_belong() {
    let profile = eci_profile();
    let eci = r#""labels":{"alibabacloud.com/eci":"true"}"#;
    for text in [
        // Namespace-selected pods, metadata and spec absent, null or empty.
        r#"{"metadata":{"namespace":"vk"}}"#.to_string(),
        r#"{"metadata":{"namespace":"vk","labels":null,"annotations":null},"spec":null}"#
            .to_string(),
        r#"{"metadata":{"namespace":"vk"},"spec":{}}"#.to_string(),
        r#" { "metadata" : { "namespace" : "vk" } , "spec" : { "tolerations" : [ ] } } "#
            .to_string(),
        // Label-selected pods.
        format!(r#"{{"metadata":{{{eci}}}}}"#),
        format!(r#"{{"spec":{{"nodeSelector":{{}}}},"metadata":{{{eci},"annotations":{{}}}}}}"#),
        // A repeated field counts as its last, as in a `Value`.
        format!(r#"{{"metadata":{{"labels":{{"team":"b"}},{eci}}},"spec":{{"nodeSelector":{{"x":"1"}},"nodeSelector":null}}}}"#),
        format!(r#"{{"metadata":null,"metadata":{{{eci}}},"spec":[],"spec":{{}}}}"#),
        // Escaped field names are the fields they spell.
        r#"{"metadata":{"labels":{"alibabacloud.com/eci":"true"}},"spec":{"tolerations":[{"operator":"Exists"}]}}"#.to_string(),
    ] {
        let TextVerdict::Mutate(out) = agrees(&profile, &text) else {
            panic!("not mutated: {text}")
        };
        // Idempotent on the text too.
        let out = String::from_utf8(out).unwrap();
        assert_eq!(agrees(&profile, &out), TextVerdict::Accept, "{out}");
    }
}

#[test]
fn odd_pods_get_the_answers_of_the_whole_value_path() {
    let profile = eci_profile();
    for text in [
        "[]",
        "5",
        "null",
        r#"{"metadata":[]}"#,
        r#"{"metadata":"x"}"#,
        r#"{"metadata":{"labels":{"alibabacloud.com/eci":"true"}},"spec":[]}"#,
        r#"{"metadata":{"labels":{"alibabacloud.com/eci":"true"}},"spec":{"containers":{"a":1}}}"#,
        r#"{"metadata":{"labels":{"alibabacloud.com/eci":"true"}},"spec":{"containers":[5,{"name":"c","ports":"x"}]}}"#,
        r#"{"metadata":{"labels":{"alibabacloud.com/eci":true}}}"#,
        r#"{"metadata":{"labels":{"alibabacloud.com/eci":"true"},"annotations":[]}}"#,
        r#"{"metadata":{"labels":{"alibabacloud.com/eci":"true"}},"spec":{"tolerations":{}}}"#,
        r#"{"metadata":{"labels":{"alibabacloud.com/eci":"true"}},"spec":{"nodeName":"n1","hostNetwork":true}}"#,
        r#"{"metadata":{"labels":{"alibabacloud.com/eci":"true"}},"spec":{"hostNetwork":true,"containers":[{"name":"c","securityContext":{"privileged":true},"ports":[{"hostPort":80}]}],"volumes":[{"name":"h","hostPath":{"path":"/"}}]}}"#,
        r#"{"metadata":{"labels":{"alibabacloud.com/eci":"true"}},"spec":{"initContainers":[{"name":"i","securityContext":{"privileged":"yes"}}]}}"#,
    ] {
        agrees(&profile, text);
    }
}

#[test]
fn the_skeleton_holds_only_what_the_decision_reads() {
    let text = r#"{"apiVersion":"v1","metadata":{"name":"p","namespace":"ns","labels":{"a":"1"},"ownerReferences":[{"kind":"ReplicaSet"}],"uid":"u"},
"spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":80,"hostPort":0}],"securityContext":{"privileged":false,"runAsUser":0}},7],
"volumes":[{"name":"v","emptyDir":{}}],"nodeSelector":{"k":"v"},"dnsPolicy":"x"},"status":{"phase":"Pending"}}"#;
    let (pod, skeleton) = PodText::read(text).unwrap();
    assert_eq!(
        skeleton,
        json!({
            "metadata": {"namespace": "ns", "labels": {"a": "1"}, "ownerReferences": [{"kind": "ReplicaSet"}]},
            "spec": {"containers": [{"name": "c", "ports": [{"hostPort": 0}], "securityContext": {"privileged": false}}, 7],
                     "volumes": [{"name": "v"}], "nodeSelector": {"k": "v"}}
        })
    );
    // Nothing written: the text comes back as it was.
    assert_eq!(pod.write(&skeleton, &[]), text.as_bytes());
    for not_a_pod in ["[]", "1", r#"{"spec":5}"#, r#"{"metadata":[]}"#] {
        assert!(PodText::read(not_a_pod).is_none(), "{not_a_pod}");
    }
}

fn probe(text: &str) -> Option<PodProbe<'_>> {
    PodProbe::read(text.as_bytes())
}

#[test]
fn the_probe_reads_mappings_of_strings_only() {
    let p = probe(r#"{"spec":{"nodeSelector":{"type":"virtual-kubelet"},"containers":[{"a":[1,{"b":null}]}]},"metadata":{"labels":{"a":"1","b":"x\"y","a":"2"},"namespace":"ns","name":"p"}}"#).unwrap();
    assert_eq!(p.namespace(), Some("ns"));
    assert_eq!(p.labels().label("a"), Some("2"));
    assert_eq!(p.labels().label("b"), Some("x\"y"));
    assert_eq!(p.labels().label("c"), None);
    assert_eq!(
        p.node_selector().unwrap().label("type"),
        Some("virtual-kubelet")
    );
    let p = probe(r#"{"metadata":null,"spec":{"nodeSelector":null}}"#).unwrap();
    assert!(p.labels().0.is_empty() && p.node_selector().is_none() && p.namespace().is_none());
    for bad in [
        "[]",
        "[{}]",
        "5",
        r#"{"metadata":[]}"#,
        r#"{"metadata":{"labels":[]}}"#,
        r#"{"metadata":{"labels":{"a":5}}}"#,
        r#"{"metadata":{"labels":{"a":null}}}"#,
        r#"{"metadata":{"namespace":5}}"#,
        r#"{"metadata":{},"metadata":{}}"#,
        r#"{"metadata":{"labels":{},"labels":{}}}"#,
        r#"{"spec":[]}"#,
        r#"{"spec":{"nodeSelector":["a"]}}"#,
        r#"{"spec":{"nodeSelector":{"a":true}}}"#,
    ] {
        assert!(probe(bad).is_none(), "{bad}");
    }
}
