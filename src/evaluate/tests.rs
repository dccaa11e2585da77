//! SPEC "Evaluation of one admission request", clause by clause. Every test
//! asserts the exact resulting pod (or that there is none) and the exact warnings.

use super::*;
use crate::settings::Profile;
use serde_json::json;

fn profile(settings: Value) -> Profile {
    Profile::from_settings(&settings).unwrap_or_else(|e| panic!("settings: {e}"))
}

fn ns(labels: &[(&str, &str)]) -> NamespaceLabels {
    labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Evaluates with a namespace that has `labels`.
fn run(p: &Profile, pod: Value, labels: &[(&str, &str)]) -> Decision {
    let labels = ns(labels);
    evaluate_pod(p, pod, "team-a", move |name| {
        assert_eq!(name, "team-a", "the request's namespace is looked up");
        Ok(labels)
    })
}

fn mutated(d: &Decision) -> &Value {
    match &d.verdict {
        Verdict::Mutate(pod) => pod,
        other => panic!(
            "expected a mutation, got {other:?} (warnings {:?})",
            d.warnings
        ),
    }
}

/// A pod as a Deployment creates it, trimmed to what matters here.
fn pod(labels: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"generateName": "web-7d9f8c6b5d-", "namespace": "team-a", "labels": labels},
        "spec": {
            "containers": [{"name": "nginx", "image": "nginx:1.27"}],
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            ]
        }
    })
}

fn sent(labels: Value) -> Value {
    let mut p = pod(labels);
    p["spec"]["nodeSelector"] = json!({"type": "virtual-kubelet"});
    p["spec"]["tolerations"].as_array_mut().unwrap().push(
        json!({"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoSchedule"}),
    );
    p
}

#[test]
fn defaults_send_a_pod_labelled_for_eci() {
    let d = run(
        &Profile::default(),
        pod(json!({"app": "web", "alibabacloud.com/eci": "true"})),
        &[],
    );
    assert_eq!(
        *mutated(&d),
        sent(json!({"app": "web", "alibabacloud.com/eci": "true"}))
    );
    assert!(d.warnings.is_empty());
    assert_eq!(d.report.matched, vec![0]);
    assert_eq!(
        d.report.namespace_lookups, 0,
        "the namespace selector has no effect: no lookup needed"
    );
}

#[test]
fn defaults_send_every_pod_of_a_labelled_namespace() {
    let d = run(
        &Profile::default(),
        pod(json!({"app": "web"})),
        &[("alibabacloud.com/eci", "true")],
    );
    assert_eq!(*mutated(&d), sent(json!({"app": "web"})));
    assert_eq!(d.report.matched, vec![1]);
    assert_eq!(d.report.namespace_lookups, 1);
}

#[test]
fn no_match_is_accepted_without_a_mutated_object() {
    let d = run(
        &Profile::default(),
        pod(json!({"app": "web"})),
        &[("team", "a")],
    );
    assert_eq!(d.verdict, Verdict::Accept);
    assert!(d.warnings.is_empty());
}

#[test]
fn selector_matches_only_when_namespace_and_object_both_match() {
    // Seed 000 example 1 / seed 001 sample configuration 1.
    let p = profile(json!({"selectors": [{"name": "eci-selector",
        "namespaceSelector": {"matchLabels": {"type": "eci"}},
        "objectSelector": {"matchLabels": {"created-by-eci": "true"}}}]}));
    for (labels, ns_labels, sends, lookups, msg) in [
        (
            json!({"created-by-eci": "true"}),
            vec![("type", "eci")],
            true,
            1,
            "both match",
        ),
        (
            json!({"created-by-eci": "true"}),
            vec![("type", "ecs")],
            false,
            1,
            "namespace differs",
        ),
        (
            json!({"app": "x"}),
            vec![("type", "eci")],
            false,
            0,
            "object differs: namespace never read",
        ),
    ] {
        let d = run(&p, pod(labels.clone()), &ns_labels);
        assert_eq!(d.report.namespace_lookups, lookups, "{msg}");
        if sends {
            assert_eq!(*mutated(&d), sent(labels), "{msg}");
        } else {
            assert_eq!(d.verdict, Verdict::Accept, "{msg}");
        }
    }
}

#[test]
fn gpu_namespace_example_adds_specs_and_label() {
    // Seed 000 example 2.
    let p = profile(json!({"selectors": [{"name": "gpu-namespace-selector",
        "namespaceSelector": {"matchLabels": {"gpu": "true"}},
        "effect": {"annotations": {"k8s.aliyun.com/eci-use-specs": "ecs.gn6v-c8g1.2xlarge"}, "labels": {"gpu": "test"}}}]}));
    let d = run(&p, pod(json!({"app": "train"})), &[("gpu", "true")]);
    let mut want = sent(json!({"app": "train", "gpu": "test"}));
    want["metadata"]["annotations"] =
        json!({"k8s.aliyun.com/eci-use-specs": "ecs.gn6v-c8g1.2xlarge"});
    assert_eq!(*mutated(&d), want);
}

#[test]
fn effects_never_overwrite_and_the_earliest_selector_wins() {
    let p = profile(json!({"selectors": [
        {"name": "first", "objectSelector": {"matchLabels": {"tier": "batch"}},
         "effect": {"annotations": {"k8s.aliyun.com/eci-use-specs": "2-4Gi", "a": "first"}, "labels": {"x": "first"}}},
        {"name": "second", "objectSelector": {"matchExpressions": [{"key": "tier", "operator": "Exists"}]},
         "effect": {"annotations": {"k8s.aliyun.com/eci-use-specs": "4-8Gi", "b": "second"}, "labels": {"x": "second", "owner": "second"}}}
    ]}));
    let mut input = pod(json!({"tier": "batch", "owner": "me"}));
    input["metadata"]["annotations"] = json!({"a": "mine"});
    let d = run(&p, input, &[]);
    let mut want = sent(json!({"tier": "batch", "owner": "me", "x": "first"}));
    want["metadata"]["annotations"] =
        json!({"a": "mine", "k8s.aliyun.com/eci-use-specs": "2-4Gi", "b": "second"});
    assert_eq!(*mutated(&d), want);
    assert_eq!(d.report.matched, vec![0, 1]);
}

#[test]
fn effect_only_selectors_apply_to_eci_bound_pods_only() {
    let p = profile(json!({"selectors": [
        {"name": "everyone-on-eci", "effect": {"annotations": {"k8s.aliyun.com/eci-image-cache": "true"}}},
        {"name": "amd", "objectSelector": {"matchLabels": {"amd": "true"}}}
    ]}));
    // Not ECI-bound: untouched.
    assert_eq!(
        run(&p, pod(json!({"app": "x"})), &[]).verdict,
        Verdict::Accept
    );
    // Matched by a scheduling selector: sent, and the earlier effect-only selector applies.
    let d = run(&p, pod(json!({"amd": "true"})), &[]);
    let mut want = sent(json!({"amd": "true"}));
    want["metadata"]["annotations"] = json!({"k8s.aliyun.com/eci-image-cache": "true"});
    assert_eq!(*mutated(&d), want);
    // Already asks for a virtual node through its nodeSelector: effect only, no toleration added.
    let mut bound = pod(json!({"app": "x"}));
    bound["spec"]["nodeSelector"] = json!({"type": "virtual-kubelet"});
    let d = run(&p, bound.clone(), &[]);
    let mut want = bound;
    want["metadata"]["annotations"] = json!({"k8s.aliyun.com/eci-image-cache": "true"});
    assert_eq!(*mutated(&d), want);
}

#[test]
fn scheduling_never_duplicates_node_selector_or_tolerations() {
    let mut input = pod(json!({"alibabacloud.com/eci": "true"}));
    input["spec"]["nodeSelector"] = json!({"type": "virtual-kubelet", "zone": "a"});
    input["spec"]["tolerations"] =
        json!([{"key": "virtual-kubelet.io/provider", "operator": "Exists"}]);
    let d = run(&Profile::default(), input, &[]);
    assert_eq!(d.verdict, Verdict::Accept, "everything is already there");
}

#[test]
fn a_narrower_existing_toleration_does_not_hide_ours() {
    let mut input = pod(json!({"alibabacloud.com/eci": "true"}));
    input["spec"]["tolerations"] = json!([
        {"key": "virtual-kubelet.io/provider", "operator": "Equal", "value": "alibabacloud", "effect": "NoSchedule"}
    ]);
    let d = run(&Profile::default(), input.clone(), &[]);
    let mut want = input;
    want["spec"]["nodeSelector"] = json!({"type": "virtual-kubelet"});
    want["spec"]["tolerations"].as_array_mut().unwrap().push(
        json!({"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoSchedule"}),
    );
    assert_eq!(*mutated(&d), want);
}

#[test]
fn never_sent_pods_are_unchanged_with_the_reason() {
    let eci = json!({"alibabacloud.com/eci": "true"});
    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Change, Vec<&str>)> = vec![
        (
            "DaemonSet-owned",
            Box::new(|p: &mut Value| {
                p["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "fluentd", "uid": "1", "controller": true}]);
            }),
            vec![
                "eci-profile: pod not sent to a virtual node: it is owned by DaemonSet \"fluentd\", and DaemonSet pods cannot run on virtual nodes",
            ],
        ),
        (
            "mirror pod",
            Box::new(|p: &mut Value| {
                p["metadata"]["annotations"] = json!({"kubernetes.io/config.mirror": "abc"});
            }),
            vec!["eci-profile: pod not sent to a virtual node: it is a mirror pod of a static pod"],
        ),
        (
            "already bound",
            Box::new(|p: &mut Value| {
                p["spec"]["nodeName"] = json!("node-1");
            }),
            vec![
                "eci-profile: pod not sent to a virtual node: spec.nodeName is already \"node-1\"",
            ],
        ),
        (
            "contradicting nodeSelector",
            Box::new(|p: &mut Value| {
                p["spec"]["nodeSelector"] = json!({"type": "ecs"});
            }),
            vec![
                "eci-profile: pod not sent to a virtual node: spec.nodeSelector[\"type\"] is \"ecs\", but virtual nodes are labelled type=virtual-kubelet",
            ],
        ),
        (
            "DaemonSet guard affinity",
            Box::new(|p: &mut Value| {
                p["spec"]["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "type", "operator": "NotIn", "values": ["virtual-kubelet"]}]}]}}});
            }),
            vec![
                "eci-profile: pod not sent to a virtual node: its required node affinity excludes nodes labelled type=virtual-kubelet (term 0: type NotIn [virtual-kubelet])",
            ],
        ),
        (
            "two reasons",
            Box::new(|p: &mut Value| {
                p["metadata"]["ownerReferences"] = json!([{"kind": "DaemonSet", "name": "ds"}]);
                p["spec"]["nodeName"] = json!("node-2");
            }),
            vec![
                "eci-profile: pod not sent to a virtual node: it is owned by DaemonSet \"ds\", and DaemonSet pods cannot run on virtual nodes",
                "eci-profile: pod not sent to a virtual node: spec.nodeName is already \"node-2\"",
            ],
        ),
    ];
    for (msg, change, warnings) in cases {
        let mut input = pod(eci.clone());
        change(&mut input);
        let d = run(&Profile::default(), input, &[]);
        assert_eq!(d.verdict, Verdict::Accept, "{msg}");
        assert_eq!(d.warnings, warnings, "{msg}");
    }
}

#[test]
fn never_send_rules_are_silent_for_pods_no_selector_wants() {
    let mut input = pod(json!({"app": "fluentd"}));
    input["metadata"]["ownerReferences"] = json!([{"kind": "DaemonSet", "name": "fluentd"}]);
    let d = run(&Profile::default(), input, &[]);
    assert_eq!(
        (d.verdict, d.warnings),
        (Verdict::Accept, Vec::<String>::new())
    );
}

#[test]
fn affinity_that_a_virtual_node_can_satisfy_does_not_block() {
    for (terms, msg) in [
        (
            json!([{"matchExpressions": [{"key": "type", "operator": "In", "values": ["virtual-kubelet"]}]}]),
            "In with the label",
        ),
        (
            json!([{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]),
            "other keys are unknown, assume satisfiable",
        ),
        (
            json!([{"matchExpressions": [{"key": "type", "operator": "NotIn", "values": ["virtual-kubelet"]}]},
                {"matchExpressions": [{"key": "type", "operator": "Exists"}]}]),
            "terms are ORed",
        ),
        (
            json!([{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["vk-1"]}]}]),
            "fields are not decidable",
        ),
    ] {
        let mut input = pod(json!({"alibabacloud.com/eci": "true"}));
        input["spec"]["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}});
        let d = run(&Profile::default(), input, &[]);
        assert!(
            matches!(d.verdict, Verdict::Mutate(_)),
            "{msg}: {:?}",
            d.warnings
        );
    }
}

#[test]
fn eci_unsupported_features_warn_but_the_pod_is_sent() {
    let mut input = pod(json!({"alibabacloud.com/eci": "true"}));
    input["spec"]["hostNetwork"] = json!(true);
    input["spec"]["volumes"] =
        json!([{"name": "docker-sock", "hostPath": {"path": "/var/run/docker.sock"}}]);
    let d = run(&Profile::default(), input.clone(), &[]);
    let mut want = input;
    want["spec"]["nodeSelector"] = json!({"type": "virtual-kubelet"});
    want["spec"]["tolerations"].as_array_mut().unwrap().push(
        json!({"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoSchedule"}),
    );
    assert_eq!(*mutated(&d), want);
    assert_eq!(
        d.warnings,
        vec![
            "eci-profile: spec.hostNetwork is true, which ECI does not support",
            "eci-profile: volume \"docker-sock\" is a hostPath volume, which ECI does not support (use emptyDir, a disk or NAS instead)",
        ]
    );
}

#[test]
fn namespace_lookup_failure_follows_on_namespace_lookup_error() {
    // With RUST_BACKTRACE=1, policy-server's error carries a stack trace: only its first line is kept.
    let failing = |_: &str| -> Result<NamespaceLabels, String> {
        Err("Cannot find v1/Namespace named 'team-a' inside of namespace 'None'\n\nStack backtrace:\n   0: anyhow::error::<impl anyhow::Error>::msg\n   1: policy_evaluator::runtimes".into())
    };
    let input = pod(json!({"app": "web"}));
    let d = evaluate_pod(&Profile::default(), input.clone(), "team-a", failing);
    assert_eq!(d.verdict, Verdict::Accept);
    assert_eq!(
        d.warnings,
        vec![
            "eci-profile: pod left unchanged: cannot read namespace \"team-a\": Cannot find v1/Namespace named 'team-a' inside of namespace 'None'"
        ]
    );

    let fail = profile(json!({"onNamespaceLookupError": "Fail"}));
    let d = evaluate_pod(&fail, input, "team-a", failing);
    assert_eq!(
        d.verdict,
        Verdict::Reject(
            "eci-profile: cannot read namespace \"team-a\": Cannot find v1/Namespace named 'team-a' inside of namespace 'None'".into()
        )
    );
    assert!(d.warnings.is_empty());
}

#[test]
fn a_request_without_namespace_is_a_lookup_failure() {
    let d = evaluate_pod(&Profile::default(), pod(json!({})), "", |_| {
        panic!("not called")
    });
    assert_eq!(
        d.warnings,
        vec![
            "eci-profile: pod left unchanged: cannot read namespace \"\": the request names no namespace"
        ]
    );
}

#[test]
fn effect_labels_that_trigger_more_selectors_are_followed_to_a_fixpoint() {
    let p = profile(json!({"selectors": [
        {"name": "from-label", "objectSelector": {"matchLabels": {"stage": "2"}}, "effect": {"labels": {"stage3": "yes"}}},
        {"name": "start", "objectSelector": {"matchLabels": {"go": "eci"}}, "effect": {"labels": {"stage": "2"}}}
    ]}));
    let d = run(&p, pod(json!({"go": "eci"})), &[]);
    let out = mutated(&d).clone();
    assert_eq!(
        out["metadata"]["labels"],
        json!({"go": "eci", "stage": "2", "stage3": "yes"})
    );
    assert_eq!(d.report.matched, vec![0, 1]);
    let again = run(&p, out, &[]);
    assert_eq!(
        again.verdict,
        Verdict::Accept,
        "a second evaluation changes nothing"
    );
}

#[test]
fn a_second_evaluation_changes_nothing() {
    let p = profile(
        json!({"selectors": [{"name": "gpu", "namespaceSelector": {"matchLabels": {"gpu": "true"}},
        "effect": {"annotations": {"k8s.aliyun.com/eci-use-specs": "ecs.gn6v-c8g1.2xlarge"}, "labels": {"gpu": "test"}}}]}),
    );
    let first = run(&p, pod(json!({})), &[("gpu", "true")]);
    let second = run(&p, mutated(&first).clone(), &[("gpu", "true")]);
    assert_eq!(second.verdict, Verdict::Accept);
}

#[test]
fn unknown_fields_survive_untouched() {
    let mut input = pod(json!({"alibabacloud.com/eci": "true"}));
    input["spec"]["someFutureField"] = json!({"a": [1, {"b": null}], "c": 1.5e300});
    input["metadata"]["x-unknown"] = json!("kept");
    let d = run(&Profile::default(), input.clone(), &[]);
    let out = mutated(&d);
    assert_eq!(
        out["spec"]["someFutureField"],
        input["spec"]["someFutureField"]
    );
    assert_eq!(out["metadata"]["x-unknown"], json!("kept"));
}

#[test]
fn malformed_pods_are_rejected_with_the_path() {
    for (input, message) in [
        (
            json!("a string"),
            "eci-profile: cannot read the pod: the object is not a mapping: \"a string\"",
        ),
        (
            json!({"metadata": {"labels": {"app": 5}}}),
            "eci-profile: cannot read the pod: metadata.labels[\"app\"]: expected a string, found 5",
        ),
        (
            json!({"metadata": {"labels": {"alibabacloud.com/eci": "true"}}, "spec": {"tolerations": {"key": "x"}}}),
            "eci-profile: cannot read the pod: spec.tolerations: expected a list, found {\"key\":\"x\"}",
        ),
        (
            json!({"metadata": []}),
            "eci-profile: cannot read the pod: metadata: expected a mapping, found []",
        ),
    ] {
        let d = run(&Profile::default(), input, &[]);
        assert_eq!(d.verdict, Verdict::Reject(message.into()));
    }
}

#[test]
fn labels_null_or_missing_metadata_is_a_pod_without_labels() {
    let scheduled = json!({"nodeSelector": {"type": "virtual-kubelet"},
        "tolerations": [{"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoSchedule"}]});
    for (input, want) in [
        (
            json!({"metadata": {"labels": null}, "spec": {}}),
            json!({"metadata": {"labels": null}, "spec": scheduled}),
        ),
        (json!({"spec": {}}), json!({"spec": scheduled})),
        (json!({}), json!({"spec": scheduled})),
    ] {
        let d = run(
            &Profile::default(),
            input,
            &[("alibabacloud.com/eci", "true")],
        );
        assert_eq!(*mutated(&d), want);
    }
}

#[test]
fn only_pod_create_is_in_scope() {
    for (group, kind, op, sub, expected) in [
        ("", "Pod", "CREATE", "", true),
        ("", "Pod", "UPDATE", "", false),
        ("", "Pod", "DELETE", "", false),
        ("", "Pod", "CREATE", "binding", false),
        ("apps", "Deployment", "CREATE", "", false),
        ("example.com", "Pod", "CREATE", "", false),
    ] {
        assert_eq!(
            applies_to(group, kind, op, sub),
            expected,
            "{group}/{kind} {op} {sub}"
        );
    }
}

#[test]
fn report_attributes_each_addition() {
    let p = profile(
        json!({"selectors": [{"name": "imc", "objectSelector": {"matchLabels": {"imc": "auto"}},
        "effect": {"annotations": {"k8s.aliyun.com/eci-auto-imc": "true"}}}]}),
    );
    let d = run(&p, pod(json!({"imc": "auto"})), &[]);
    assert_eq!(
        d.report.additions,
        vec![
            (
                Source::VirtualNode,
                Addition::NodeSelector("type".into(), "virtual-kubelet".into())
            ),
            (
                Source::VirtualNode,
                Addition::Toleration(
                    json!({"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoSchedule"})
                )
            ),
            (
                Source::Selector(0),
                Addition::Annotation("k8s.aliyun.com/eci-auto-imc".into(), "true".into())
            ),
        ]
    );
}

#[test]
fn a_malformed_node_selector_gets_the_same_answer_whether_or_not_a_selector_matches() {
    // Found by the idempotence property: the nodeSelector used to be checked
    // only when no selector matched, so the mutated pod was rejected on re-evaluation.
    let message =
        "eci-profile: cannot read the pod: spec.nodeSelector[\"\"]: expected a string, found null";
    for labels in [
        json!({"alibabacloud.com/eci": "true"}),
        json!({"app": "web"}),
    ] {
        let mut input = pod(labels);
        input["spec"]["nodeSelector"] = json!({"": null});
        let d = run(&Profile::default(), input, &[]);
        assert_eq!(d.verdict, Verdict::Reject(message.into()));
    }
}

#[test]
fn namespace_answers() {
    let ok = br#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"vk","labels":{"alibabacloud.com/eci":"true"}}}"#;
    assert_eq!(
        namespace_labels(ok).unwrap(),
        NamespaceLabels::from([("alibabacloud.com/eci".to_string(), "true".to_string())])
    );
    assert_eq!(
        namespace_labels(br#"{"metadata":{"name":"bare"}}"#).unwrap(),
        NamespaceLabels::new()
    );
    assert_eq!(
        namespace_labels(b"[1,2").unwrap_err(),
        "the host's answer is not a Namespace: EOF while parsing a list at line 1 column 4"
    );
    assert_eq!(
        namespace_labels(b"[1,2]").unwrap_err(),
        "the host's answer is not a Namespace: found [1,2]"
    );
    assert_eq!(
        namespace_labels(br#"{"metadata":{"labels":{"a":1}}}"#).unwrap_err(),
        r#"the host's answer is not a Namespace: metadata.labels["a"]: expected a string, found 1"#
    );
}

/// A Namespace as the API server sends it (timestamps, managedFields, spec,
/// status) is read as such; odd parts the policy does not read do not hide
/// the labels.
#[test]
fn namespace_answers_as_the_api_server_writes_them() {
    let full = br#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"vk","uid":"u","resourceVersion":"1","creationTimestamp":"2024-01-01T00:00:00Z","labels":{"kubernetes.io/metadata.name":"vk","gpu":"true"},"managedFields":[{"manager":"kubectl","operation":"Update","apiVersion":"v1","time":"2024-01-01T00:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{}}}]},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}}"#;
    assert_eq!(
        namespace_labels(full).unwrap(),
        ns(&[("kubernetes.io/metadata.name", "vk"), ("gpu", "true")])
    );
    let odd = br#"{"kind":"Pod","metadata":{"labels":{"a":"1"},"creationTimestamp":"yesterday"},"spec":5}"#;
    assert_eq!(namespace_labels(odd).unwrap(), ns(&[("a", "1")]));
}

/// The screen decides from the labels and nodeSelector alone: the defaults
/// select by pod label, then by namespace label (read here: no labels).
#[test]
fn the_screen_accepts_only_pods_no_selector_could_match() {
    let none: Option<&NamespaceLabels> = None;
    let lookup = |_: &str| Ok(NamespaceLabels::new());
    let defaults = Profile::default();
    let web = ns(&[("app", "web")]);
    assert_eq!(
        screen(&defaults, &web, none, "default", lookup),
        Screen::Accept
    );
    let eci = ns(&[("alibabacloud.com/eci", "true")]);
    assert_eq!(
        screen(&defaults, &eci, none, "default", lookup),
        Screen::Evaluate(None)
    );
    let bound = ns(&[("type", "virtual-kubelet")]);
    assert_eq!(
        screen(&defaults, &web, Some(&bound), "default", lookup),
        Screen::Evaluate(Some(Ok(NamespaceLabels::new())))
    );
}
