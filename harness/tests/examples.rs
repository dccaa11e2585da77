//! The ready-to-apply manifests of `examples/`: each is a ClusterAdmissionPolicy
//! as the README promises (mutating, context-aware on Namespaces — and on
//! ConfigMaps for the one that reads the eci-profile ConfigMap, only that one —,
//! Pod CREATE only, kube-system and the Kubewarden namespace kept out), its
//! settings pass the policy's own settings check, and its preset sends a pod
//! where it says.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use eci_profile::evaluate::{Verdict, evaluate_pod};
use eci_profile::live_profile;
use eci_profile::settings::{ConfigMapRef, OnLookupError, Profile};
use eci_profile_harness::convert::policy_module;
use serde_json::{Value, json};

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// Every `examples/*.yml`, by file name.
fn examples() -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(examples_dir()).expect("examples/ exists") {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: Value = serde_yaml::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()));
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        out.insert(name, doc);
    }
    out
}

fn profile_of(doc: &Value) -> Profile {
    Profile::from_settings(&doc["spec"]["settings"]).expect("valid settings")
}

#[test]
fn the_presets_are_there() {
    let names: Vec<String> = examples().into_keys().collect();
    assert_eq!(
        names,
        [
            "ack-eci-virtual-kubelet.yml",
            "ack-vnode.yml",
            "azure-aci.yml",
            "live-config-map.yml"
        ],
        "one manifest per preset, and the live profile"
    );
    let readme = std::fs::read_to_string(examples_dir().join("README.md")).unwrap();
    for name in &names {
        assert!(
            readme.contains(name.as_str()),
            "examples/README.md lists {name}"
        );
    }
}

#[test]
fn every_example_is_a_cluster_admission_policy_for_this_policy() {
    for (name, doc) in examples() {
        assert_eq!(doc["apiVersion"], "policies.kubewarden.io/v1", "{name}");
        assert_eq!(doc["kind"], "ClusterAdmissionPolicy", "{name}");
        let spec = &doc["spec"];
        assert_eq!(
            spec["module"],
            policy_module().as_str(),
            "{name}: the OCI reference and version of metadata.yml"
        );
        assert_eq!(spec["mutating"], true, "{name}: the policy mutates pods");
        // Least privilege: v1/ConfigMap only where the settings read one.
        let reads_config_map = spec["settings"].get("configMapRef").is_some();
        let expected = if reads_config_map {
            json!([{"apiVersion": "v1", "kind": "Namespace"}, {"apiVersion": "v1", "kind": "ConfigMap"}])
        } else {
            json!([{"apiVersion": "v1", "kind": "Namespace"}])
        };
        assert_eq!(
            spec["contextAwareResources"], expected,
            "{name}: what the settings read, of metadata.yml's contextAwareResources"
        );
        assert_eq!(
            spec["rules"],
            json!([{"apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "operations": ["CREATE"]}]),
            "{name}: metadata.yml's rules"
        );
        assert_eq!(
            spec["namespaceSelector"],
            json!({"matchExpressions": [{
                "key": "kubernetes.io/metadata.name",
                "operator": "NotIn",
                "values": ["kube-system", "kubewarden"],
            }]}),
            "{name}: kube-system and the Kubewarden namespace are kept out"
        );
        if let Err(e) = Profile::from_settings(&spec["settings"]) {
            panic!("{name}: spec.settings rejected by the policy: {e}");
        }
    }
}

/// A pod as a Deployment's ReplicaSet creates it.
fn pod(labels: Value, node_selector: Option<Value>) -> Value {
    let mut spec = json!({"containers": [{"name": "app", "image": "nginx"}]});
    if let Some(ns) = node_selector {
        spec["nodeSelector"] = ns;
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"generateName": "app-", "namespace": "apps", "labels": labels},
        "spec": spec,
    })
}

fn namespace(labels: Value) -> impl FnOnce(&str) -> Result<BTreeMap<String, String>, String> {
    move |_| Ok(serde_json::from_value(labels).unwrap())
}

fn mutated(verdict: Verdict) -> Value {
    match verdict {
        Verdict::Mutate(pod) => pod,
        other => panic!("expected a mutation, got {other:?}"),
    }
}

#[test]
fn ack_eci_virtual_kubelet_sends_labelled_pods_to_the_default_virtual_node() {
    let doc = &examples()["ack-eci-virtual-kubelet.yml"];
    let profile = profile_of(doc);
    let d = evaluate_pod(
        &profile,
        pod(json!({"alibabacloud.com/eci": "true"}), None),
        "apps",
        namespace(json!({})),
    );
    let out = mutated(d.verdict);
    assert_eq!(
        out["spec"]["nodeSelector"],
        json!({"type": "virtual-kubelet"})
    );
    assert_eq!(
        out["spec"]["tolerations"],
        json!([{"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoSchedule"}])
    );
    // Seed 000 example 2: a namespace labelled gpu=true.
    let d = evaluate_pod(
        &profile,
        pod(json!({"app": "train"}), None),
        "apps",
        namespace(json!({"gpu": "true"})),
    );
    let out = mutated(d.verdict);
    assert_eq!(
        out["metadata"]["annotations"]["k8s.aliyun.com/eci-use-specs"],
        "ecs.gn6v-c8g1.2xlarge"
    );
    assert_eq!(out["metadata"]["labels"]["gpu"], "test");
    // An unlabelled pod in an unlabelled namespace stays where it is.
    let d = evaluate_pod(
        &profile,
        pod(json!({"app": "web"}), None),
        "apps",
        namespace(json!({})),
    );
    assert_eq!(d.verdict, Verdict::Accept);
}

#[test]
fn ack_vnode_writes_the_vnode_selector_and_toleration() {
    let doc = &examples()["ack-vnode.yml"];
    let profile = profile_of(doc);
    let d = evaluate_pod(
        &profile,
        pod(json!({"amd": "true"}), None),
        "apps",
        namespace(json!({})),
    );
    let out = mutated(d.verdict);
    assert_eq!(
        out["spec"]["nodeSelector"],
        json!({"k8s.aliyun.com/vnode": "true"}),
        "seed 001: nodeSelector k8s.aliyun.com/vnode: \"true\""
    );
    assert_eq!(
        out["spec"]["tolerations"],
        json!([{"key": "k8s.aliyun.com/vnode", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]),
        "seed 001: toleration k8s.aliyun.com/vnode Equal true NoSchedule"
    );
    assert_eq!(
        out["metadata"]["annotations"]["k8s.aliyun.com/eci-use-specs"],
        "ecs.c6a.xlarge"
    );
    // Sample 1 needs both the namespace label and the pod label.
    let d = evaluate_pod(
        &profile,
        pod(json!({"created-by-eci": "true"}), None),
        "apps",
        namespace(json!({})),
    );
    assert_eq!(d.verdict, Verdict::Accept, "pod label alone is not enough");
    let d = evaluate_pod(
        &profile,
        pod(json!({"created-by-eci": "true"}), None),
        "apps",
        namespace(json!({"type": "eci"})),
    );
    assert!(matches!(d.verdict, Verdict::Mutate(_)));
}

#[test]
fn azure_aci_writes_the_aci_virtual_node_and_leaves_other_os_alone() {
    let doc = &examples()["azure-aci.yml"];
    let profile = profile_of(doc);
    let d = evaluate_pod(
        &profile,
        pod(json!({"type": "offline-task"}), None),
        "apps",
        namespace(json!({"department": "bigdata"})),
    );
    let out = mutated(d.verdict);
    assert_eq!(
        out["spec"]["nodeSelector"],
        json!({"type": "virtual-kubelet", "kubernetes.io/role": "agent", "kubernetes.io/os": "linux"})
    );
    assert_eq!(
        out["spec"]["tolerations"],
        json!([
            {"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoSchedule"},
            {"key": "azure.com/aci", "operator": "Exists", "effect": "NoSchedule"},
        ])
    );
    assert!(
        out["metadata"].get("annotations").is_none(),
        "no Alibaba Cloud annotations on Azure"
    );
    // A Windows pod in a namespace sent to ACI is not sent: ACI runs Linux only.
    let d = evaluate_pod(
        &profile,
        pod(json!({}), Some(json!({"kubernetes.io/os": "windows"}))),
        "apps",
        namespace(json!({"virtual-node-affinity-injection": "enabled"})),
    );
    assert_eq!(d.verdict, Verdict::Accept);
    assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
    assert!(
        d.warnings[0].contains("spec.nodeSelector[\"kubernetes.io/os\"] is \"windows\""),
        "{:?}",
        d.warnings
    );
}

#[test]
fn live_config_map_reads_kube_system_eci_profile_and_applies_its_content() {
    let doc = &examples()["live-config-map.yml"];
    let mut profile = profile_of(doc);
    let config_map = ConfigMapRef {
        namespace: "kube-system".into(),
        name: "eci-profile".into(),
    };
    assert_eq!(profile.config_map, Some(config_map.clone()));
    assert_eq!(profile.on_profile_error, OnLookupError::Ignore);
    assert_eq!(profile.on_namespace_lookup_error, OnLookupError::Ignore);
    // The ConfigMap of "Configure an ECI Profile to orchestrate pods" as
    // installed: no data.selectors (the component's defaults), and a
    // cluster-level security group.
    let answer = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "eci-profile", "namespace": "kube-system"},
        "data": {"securityGroupId": "sg-2zeeyaaxlkq9sppl8k2m", "vpcId": "vpc-2ze0zq7k1r9k3j5h6g7f8"},
    });
    let answer = serde_json::to_vec(&answer).unwrap();
    profile.selectors = live_profile::selectors(&config_map, Ok(&answer)).unwrap();
    let d = evaluate_pod(
        &profile,
        pod(json!({"alibabacloud.com/eci": "true"}), None),
        "apps",
        namespace(json!({})),
    );
    let out = mutated(d.verdict);
    assert_eq!(
        out["spec"]["nodeSelector"],
        json!({"type": "virtual-kubelet"})
    );
    assert_eq!(
        out["metadata"]["annotations"],
        json!({"k8s.aliyun.com/eci-security-group": "sg-2zeeyaaxlkq9sppl8k2m"})
    );
    // A pod the defaults do not select is left alone, cluster keys included.
    let d = evaluate_pod(
        &profile,
        pod(json!({"app": "web"}), None),
        "apps",
        namespace(json!({})),
    );
    assert_eq!(d.verdict, Verdict::Accept);
}
