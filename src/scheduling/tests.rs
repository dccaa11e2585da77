//! SPEC "Schedule" and "Never sent": tolerations that already cover ours, and
//! node affinity that no virtual node can satisfy.

use super::*;
use serde_json::json;

fn tol(v: Value) -> Toleration {
    Toleration::from_json(&v, &"t", true).unwrap()
}

#[test]
fn existing_toleration_covers_ours_only_when_it_tolerates_every_taint_ours_does() {
    let ours = tol(
        json!({"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoSchedule"}),
    );
    for (existing, covers, msg) in [
        (
            json!({"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoSchedule"}),
            true,
            "identical",
        ),
        (
            json!({"key": "virtual-kubelet.io/provider", "operator": "Exists"}),
            true,
            "any effect",
        ),
        (json!({"operator": "Exists"}), true, "tolerates everything"),
        (
            json!({"key": "virtual-kubelet.io/provider", "operator": "Equal", "value": "alibabacloud", "effect": "NoSchedule"}),
            false,
            "one value only",
        ),
        (
            json!({"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoExecute"}),
            false,
            "other effect",
        ),
        (
            json!({"key": "other", "operator": "Exists"}),
            false,
            "other key",
        ),
        (
            json!({"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 30}),
            false,
            "time-limited",
        ),
    ] {
        assert_eq!(
            tol(existing.clone()).covers(&ours),
            covers,
            "{msg}: {existing}"
        );
    }
    let vnode = tol(
        json!({"key": "k8s.aliyun.com/vnode", "operator": "Equal", "value": "true", "effect": "NoSchedule"}),
    );
    assert!(
        tol(json!({"key": "k8s.aliyun.com/vnode", "value": "true", "effect": "NoSchedule"}))
            .covers(&vnode),
        "operator defaults to Equal"
    );
    assert!(
        !tol(json!({"key": "k8s.aliyun.com/vnode", "value": "false", "effect": "NoSchedule"}))
            .covers(&vnode),
        "other value"
    );
}

#[test]
fn schedule_adds_only_what_is_missing() {
    let vn = VirtualNode::default();
    let mut pod = json!({"spec": {"nodeSelector": {"zone": "a"}, "tolerations": null}});
    let added = schedule(pod.as_object_mut().unwrap(), &vn).unwrap();
    assert_eq!(
        pod,
        json!({"spec": {"nodeSelector": {"zone": "a", "type": "virtual-kubelet"},
        "tolerations": [{"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoSchedule"}]}})
    );
    assert_eq!(added.len(), 2);
    let again = schedule(pod.as_object_mut().unwrap(), &vn).unwrap();
    assert!(again.is_empty(), "nothing twice");
}

#[test]
fn affinity_terms_are_checked_against_the_virtual_node_labels() {
    let vn = VirtualNode::default();
    let reasons = |terms: Value| {
        let pod = json!({"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}}});
        never_send_reasons(pod.as_object().unwrap(), &vn).unwrap()
    };
    assert_eq!(
        reasons(json!([{"matchExpressions": [{"key": "type", "operator": "DoesNotExist"}]}, {}])),
        vec![
            "its required node affinity excludes nodes labelled type=virtual-kubelet (term 0: type DoesNotExist []; term 1: empty term matches no node)"
        ]
    );
    assert_eq!(
        reasons(
            json!([{"matchExpressions": [{"key": "type", "operator": "In", "values": ["ecs", "gpu"]}]}])
        ),
        vec![
            "its required node affinity excludes nodes labelled type=virtual-kubelet (term 0: type In [ecs gpu])"
        ]
    );
    assert!(reasons(json!([{"matchExpressions": [{"key": "type", "operator": "In", "values": ["virtual-kubelet"]}]}])).is_empty());
    assert!(reasons(json!([])).is_empty(), "no terms: nothing to decide");
}

#[test]
fn gt_lt_compare_integers() {
    let vn = VirtualNode {
        node_selector: vec![("gen".into(), "5".into())],
        tolerations: vec![],
    };
    let check = |op: &str, v: &str| {
        let pod = json!({"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "gen", "operator": op, "values": [v]}]}]}}}}});
        never_send_reasons(pod.as_object().unwrap(), &vn)
            .unwrap()
            .is_empty()
    };
    assert!(check("Gt", "4"));
    assert!(!check("Gt", "5"));
    assert!(check("Lt", "6"));
    assert!(!check("Lt", "x"));
}

#[test]
fn daemonset_owner_is_found_among_several_owners() {
    let pod = json!({"metadata": {"ownerReferences": [{"kind": "Node", "name": "n"}, {"kind": "DaemonSet", "name": "agent"}]}});
    assert_eq!(
        never_send_reasons(pod.as_object().unwrap(), &VirtualNode::default()).unwrap(),
        vec!["it is owned by DaemonSet \"agent\", and DaemonSet pods cannot run on virtual nodes"]
    );
}

#[test]
fn no_toleration_to_add_leaves_no_empty_list() {
    let vn = VirtualNode {
        tolerations: vec![],
        ..VirtualNode::default()
    };
    let mut pod = json!({"spec": {"containers": []}});
    schedule(pod.as_object_mut().unwrap(), &vn).unwrap();
    assert_eq!(
        pod,
        json!({"spec": {"containers": [], "nodeSelector": {"type": "virtual-kubelet"}}})
    );
}
