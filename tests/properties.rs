//! Property tests of the pure decision core (`evaluate_pod`, `Profile::from_settings`),
//! on generated pods, settings and namespace labels (SPEC "Guarantees", issue 5).
//!
//! Pods are generated as raw JSON with every part the policy reads (labels,
//! annotations, ownerReferences, nodeName, nodeSelector, tolerations, required
//! node affinity, volumes, containers, host namespaces) and with unknown fields
//! injected at any depth outside the string maps. Settings are generated from a
//! small structured model ([`SettingsModel`]) so that the tests have a reference
//! for which selectors match; they are serialised to JSON (sometimes in the
//! ConfigMap's JSON-string form) and compiled with `Profile::from_settings`.
//! Label keys and values come from small pools so that selectors, pod labels,
//! effects and namespace labels collide often.

use eci_profile::evaluate::{Decision, NamespaceLabels, Screen, Verdict, evaluate_pod, screen};
use eci_profile::live_profile;
use eci_profile::settings::{ConfigMapRef, Profile};
use eci_profile_invariants::{all_pointers, check, compile, object_pointers, without_additions};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------
// Pools
// ---------------------------------------------------------------------------

const ECI_LABEL: &str = "alibabacloud.com/eci";
const LABEL_KEYS: &[&str] = &[ECI_LABEL, "app", "tier", "gpu", "example.com/team", "env"];
const LABEL_VALUES: &[&str] = &["true", "false", "a", ""];
/// Annotation keys an effect may add, each with values `Profile::from_settings` accepts.
const EFFECT_ANNOTATIONS: &[(&str, &[&str])] = &[
    ("k8s.aliyun.com/eci-use-specs", &["2-4Gi", "ecs.c6.xlarge"]),
    ("k8s.aliyun.com/eci-auto-imc", &["true", "false"]),
    ("k8s.aliyun.com/eci-spot-strategy", &["SpotAsPriceGo"]),
    ("example.com/note", &["first", "second", "third"]),
    ("team", &["a", "b"]),
];
const POD_ANNOTATION_KEYS: &[&str] = &[
    "k8s.aliyun.com/eci-use-specs",
    "example.com/note",
    "team",
    "zz.example.com/other",
    "example.com/other",
    "kubernetes.io/config.mirror",
];
const NODE_KEYS: &[&str] = &["type", "kubernetes.io/role", "vk", "disk"];
const NODE_VALUES: &[&str] = &["virtual-kubelet", "virtual-kubelet", "agent", "true", "ecs"];

/// Tolerations valid both in settings and in pods.
fn toleration_pool() -> Vec<Value> {
    vec![
        json!({"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoSchedule"}),
        json!({"key": "virtual-kubelet.io/provider", "operator": "Equal", "value": "alibabacloud", "effect": "NoSchedule"}),
        json!({"key": "virtual-kubelet.io/provider", "operator": "Exists"}),
        json!({"operator": "Exists"}),
        json!({"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}),
        json!({"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60}),
        json!({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}),
    ]
}

fn pick(pool: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
    prop::sample::select(pool).prop_map(str::to_string)
}

fn string_map(
    keys: &'static [&'static str],
    values: &'static [&'static str],
    max: usize,
) -> impl Strategy<Value = BTreeMap<String, String>> + Clone {
    prop::collection::btree_map(pick(keys), pick(values), 0..=max)
}

fn to_json_map(map: &BTreeMap<String, String>) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

// ---------------------------------------------------------------------------
// Settings model, with a reference matcher
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
}

#[derive(Debug, Clone)]
struct Expr {
    key: String,
    op: Op,
    /// Write `values: []` for Exists/DoesNotExist (Kubernetes allows it).
    empty_values: bool,
}

#[derive(Debug, Clone, Default)]
struct SelectorModel {
    match_labels: Option<BTreeMap<String, String>>,
    exprs: Option<Vec<Expr>>,
}

impl SelectorModel {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let ml = self
            .match_labels
            .iter()
            .flatten()
            .all(|(k, v)| labels.get(k) == Some(v));
        let ex = self.exprs.iter().flatten().all(|e| {
            let have = labels.get(&e.key);
            match &e.op {
                Op::In(vs) => have.is_some_and(|h| vs.contains(h)),
                Op::NotIn(vs) => have.is_none_or(|h| !vs.contains(h)),
                Op::Exists => have.is_some(),
                Op::DoesNotExist => have.is_none(),
            }
        });
        ml && ex
    }

    fn to_json(&self) -> Value {
        let mut map = Map::new();
        if let Some(ml) = &self.match_labels {
            map.insert("matchLabels".into(), to_json_map(ml));
        }
        if let Some(exprs) = &self.exprs {
            let list = exprs
                .iter()
                .map(|e| {
                    let (op, values) = match &e.op {
                        Op::In(vs) => ("In", Some(vs.clone())),
                        Op::NotIn(vs) => ("NotIn", Some(vs.clone())),
                        Op::Exists => ("Exists", e.empty_values.then(Vec::new)),
                        Op::DoesNotExist => ("DoesNotExist", e.empty_values.then(Vec::new)),
                    };
                    let mut m = json!({"key": e.key, "operator": op});
                    if let Some(values) = values {
                        m["values"] = json!(values);
                    }
                    m
                })
                .collect();
            map.insert("matchExpressions".into(), Value::Array(list));
        }
        Value::Object(map)
    }
}

#[derive(Debug, Clone, Default)]
struct EffectModel {
    annotations: Option<BTreeMap<String, String>>,
    labels: Option<BTreeMap<String, String>>,
}

impl EffectModel {
    fn is_empty(&self) -> bool {
        self.annotations.as_ref().is_none_or(BTreeMap::is_empty)
            && self.labels.as_ref().is_none_or(BTreeMap::is_empty)
    }
}

#[derive(Debug, Clone)]
struct SelectorSpec {
    namespace: Option<SelectorModel>,
    object: Option<SelectorModel>,
    effect: Option<EffectModel>,
}

impl SelectorSpec {
    fn is_scheduling(&self) -> bool {
        self.namespace.is_some() || self.object.is_some()
    }

    fn matches(
        &self,
        pod_labels: &BTreeMap<String, String>,
        ns_labels: &BTreeMap<String, String>,
    ) -> bool {
        self.object.as_ref().is_none_or(|o| o.matches(pod_labels))
            && self.namespace.as_ref().is_none_or(|n| n.matches(ns_labels))
    }

    fn effect_labels(&self) -> impl Iterator<Item = (&String, &String)> {
        self.effect.iter().flat_map(|e| e.labels.iter().flatten())
    }

    fn effect_annotations(&self) -> impl Iterator<Item = (&String, &String)> {
        self.effect
            .iter()
            .flat_map(|e| e.annotations.iter().flatten())
    }
}

#[derive(Debug, Clone)]
struct VirtualNodeModel {
    node_selector: Option<BTreeMap<String, String>>,
    tolerations: Option<Vec<Value>>,
}

#[derive(Debug, Clone)]
struct SettingsModel {
    /// `None`: `selectors` absent, the built-in defaults apply.
    selectors: Option<Vec<SelectorSpec>>,
    string_form: bool,
    virtual_node: Option<VirtualNodeModel>,
    on_error: Option<&'static str>,
}

impl SettingsModel {
    fn to_json(&self) -> Value {
        let mut top = Map::new();
        if let Some(selectors) = &self.selectors {
            let list: Vec<Value> = selectors
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    // Names unique ignoring case; some upper case for good measure.
                    let mut m = json!({"name": if i % 2 == 0 { format!("sel-{i}") } else { format!("Sel-{i}") }});
                    if let Some(ns) = &s.namespace {
                        m["namespaceSelector"] = ns.to_json();
                    }
                    if let Some(o) = &s.object {
                        m["objectSelector"] = o.to_json();
                    }
                    if let Some(e) = &s.effect {
                        let mut em = Map::new();
                        if let Some(a) = &e.annotations {
                            em.insert("annotations".into(), to_json_map(a));
                        }
                        if let Some(l) = &e.labels {
                            em.insert("labels".into(), to_json_map(l));
                        }
                        m["effect"] = Value::Object(em);
                    }
                    m
                })
                .collect();
            let list = Value::Array(list);
            top.insert(
                "selectors".into(),
                if self.string_form {
                    Value::String(serde_json::to_string_pretty(&list).unwrap())
                } else {
                    list
                },
            );
        }
        if let Some(vn) = &self.virtual_node {
            let mut m = Map::new();
            if let Some(ns) = &vn.node_selector {
                m.insert("nodeSelector".into(), to_json_map(ns));
            }
            if let Some(t) = &vn.tolerations {
                m.insert("tolerations".into(), Value::Array(t.clone()));
            }
            top.insert("virtualNode".into(), Value::Object(m));
        }
        if let Some(on) = self.on_error {
            top.insert("onNamespaceLookupError".into(), on.into());
        }
        Value::Object(top)
    }

    fn profile(&self) -> Profile {
        let json = self.to_json();
        Profile::from_settings(&json)
            .unwrap_or_else(|e| panic!("generated settings must be valid: {e}\n{json:#}"))
    }

    /// The selectors as the policy sees them (the built-in defaults when absent).
    fn effective_selectors(&self) -> Vec<SelectorSpec> {
        match &self.selectors {
            Some(s) => s.clone(),
            None => {
                let eci = SelectorModel {
                    match_labels: Some([(ECI_LABEL.to_string(), "true".to_string())].into()),
                    exprs: None,
                };
                vec![
                    SelectorSpec {
                        namespace: None,
                        object: Some(eci.clone()),
                        effect: None,
                    },
                    SelectorSpec {
                        namespace: Some(eci),
                        object: None,
                        effect: None,
                    },
                ]
            }
        }
    }

    fn virtual_node_pairs(&self) -> BTreeMap<String, String> {
        self.virtual_node
            .as_ref()
            .and_then(|vn| vn.node_selector.clone())
            .unwrap_or_else(|| [("type".to_string(), "virtual-kubelet".to_string())].into())
    }
}

/// Which selectors apply to the pod *as submitted* (before any effect), by the
/// reference matcher: scheduling selectors that match, then — when the pod is
/// ECI-bound — the effect-only ones; all in settings order.
struct Reference {
    scheduling_matched: Vec<usize>,
    bound: bool,
    applicable: Vec<usize>,
}

fn reference(model: &SettingsModel, pod: &Value, ns: &NamespaceLabels) -> Reference {
    let selectors = model.effective_selectors();
    let pod_labels = string_map_at(pod, "/metadata/labels");
    let node_selector = string_map_at(pod, "/spec/nodeSelector");
    let scheduling_matched: Vec<usize> = selectors
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_scheduling() && s.matches(&pod_labels, ns))
        .map(|(i, _)| i)
        .collect();
    let bound = !scheduling_matched.is_empty()
        || model
            .virtual_node_pairs()
            .iter()
            .all(|(k, v)| node_selector.get(k) == Some(v));
    let applicable = selectors
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            if s.is_scheduling() {
                scheduling_matched.contains(i)
            } else {
                bound
            }
        })
        .map(|(i, _)| i)
        .collect();
    Reference {
        scheduling_matched,
        bound,
        applicable,
    }
}

fn string_map_at(v: &Value, pointer: &str) -> BTreeMap<String, String> {
    v.pointer(pointer)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Settings strategies
// ---------------------------------------------------------------------------

fn label_values(min: usize) -> impl Strategy<Value = Vec<String>> + Clone {
    prop::collection::vec(pick(LABEL_VALUES), min..=3)
}

fn expr() -> impl Strategy<Value = Expr> + Clone {
    let op = prop_oneof![
        label_values(1).prop_map(Op::In),
        label_values(1).prop_map(Op::NotIn),
        Just(Op::Exists),
        Just(Op::DoesNotExist),
    ];
    (pick(LABEL_KEYS), op, any::<bool>()).prop_map(|(key, op, empty_values)| Expr {
        key,
        op,
        empty_values,
    })
}

fn selector_model() -> impl Strategy<Value = SelectorModel> + Clone {
    (
        prop::option::of(string_map(LABEL_KEYS, LABEL_VALUES, 2)),
        prop::option::of(prop::collection::vec(expr(), 0..=2)),
    )
        .prop_map(|(match_labels, exprs)| SelectorModel {
            match_labels,
            exprs,
        })
}

fn effect_annotations(
    pool: &'static [(&'static str, &'static [&'static str])],
) -> impl Strategy<Value = BTreeMap<String, String>> + Clone {
    prop::collection::vec(
        (0..pool.len(), any::<Index>()).prop_map(move |(k, v)| {
            let (key, values) = pool[k];
            (key.to_string(), v.get(values).to_string())
        }),
        0..=3,
    )
    .prop_map(|pairs| pairs.into_iter().collect())
}

/// Which keys effects write, and how often a selector has an effect.
#[derive(Clone, Copy)]
struct EffectPools {
    labels: &'static [&'static str],
    annotations: &'static [(&'static str, &'static [&'static str])],
    weight: f64,
}

const EFFECTS: EffectPools = EffectPools {
    labels: LABEL_KEYS,
    annotations: EFFECT_ANNOTATIONS,
    weight: 0.8,
};

/// Few keys, every selector with an effect: key conflicts between selectors are common.
const CONFLICTING_EFFECTS: EffectPools = EffectPools {
    labels: &["gpu", "example.com/team"],
    annotations: &[
        ("example.com/note", &["first", "second", "third"]),
        ("team", &["a", "b"]),
    ],
    weight: 0.99,
};

fn effect_model(pools: EffectPools) -> impl Strategy<Value = EffectModel> + Clone {
    (
        prop::option::of(effect_annotations(pools.annotations)),
        prop::option::of(string_map(pools.labels, LABEL_VALUES, 3)),
    )
        .prop_map(|(annotations, labels)| EffectModel {
            annotations,
            labels,
        })
}

fn selector_spec(pools: EffectPools) -> impl Strategy<Value = SelectorSpec> + Clone {
    (
        prop::option::weighted(0.4, selector_model()),
        prop::option::weighted(0.7, selector_model()),
        prop::option::weighted(pools.weight, effect_model(pools)),
    )
        .prop_map(|(namespace, object, effect)| {
            let mut s = SelectorSpec {
                namespace,
                object,
                effect,
            };
            if !s.is_scheduling() && s.effect.as_ref().is_none_or(EffectModel::is_empty) {
                // An effect-only selector needs an effect.
                s.effect = Some(EffectModel {
                    annotations: Some([("example.com/note".into(), "effect-only".into())].into()),
                    labels: None,
                });
            }
            s
        })
}

fn virtual_node_model() -> impl Strategy<Value = VirtualNodeModel> {
    let node_selector = prop::collection::btree_map(pick(NODE_KEYS), pick(NODE_VALUES), 1..=2);
    let tolerations = prop::collection::vec(prop::sample::select(toleration_pool()), 0..=2);
    (
        prop::option::of(node_selector),
        prop::option::of(tolerations),
    )
        .prop_map(|(node_selector, tolerations)| VirtualNodeModel {
            node_selector,
            tolerations,
        })
}

fn settings_model() -> impl Strategy<Value = SettingsModel> {
    settings_model_with(EFFECTS, 0..=4)
}

fn settings_model_with(
    pools: EffectPools,
    selectors: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = SettingsModel> {
    (
        prop::option::weighted(0.85, prop::collection::vec(selector_spec(pools), selectors)),
        any::<bool>(),
        prop::option::weighted(0.5, virtual_node_model()),
        prop::option::of(prop::sample::select(&["Ignore", "Fail"][..])),
    )
        .prop_map(
            |(selectors, string_form, virtual_node, on_error)| SettingsModel {
                selectors,
                string_form,
                virtual_node,
                on_error,
            },
        )
}

fn namespace_labels() -> impl Strategy<Value = NamespaceLabels> {
    string_map(LABEL_KEYS, LABEL_VALUES, 3)
}

// ---------------------------------------------------------------------------
// Pod strategies
// ---------------------------------------------------------------------------

/// Any JSON value, small, with finite numbers and any Unicode.
fn json_value() -> impl Strategy<Value = Value> + Clone {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1.0e9f64..1.0e9).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        pick(&["true", "", "DaemonSet", "Exists", "virtual-kubelet"]).prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("\\PC{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `{"zz": {"zz": … value}}`, `depth` levels.
fn nested(depth: usize, leaf: Value) -> Value {
    (0..depth).fold(leaf, |v, i| json!({ format!("zz{}", i % 3): v }))
}

fn unknown_value() -> impl Strategy<Value = Value> + Clone {
    prop_oneof![
        8 => json_value(),
        1 => (1usize..=100, json_value()).prop_map(|(d, leaf)| nested(d, leaf)),
    ]
}

/// Missing (`None`), `null`, or the value.
fn slot<S: Strategy<Value = Value>>(s: S) -> impl Strategy<Value = Option<Value>> {
    weighted_slot(3, 1, 6, s)
}

/// [`slot`] with weights for missing, `null` and present.
fn weighted_slot<S: Strategy<Value = Value>>(
    missing: u32,
    null: u32,
    present: u32,
    s: S,
) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        missing => Just(None),
        null => Just(Some(Value::Null)),
        present => s.prop_map(Some),
    ]
}

fn owner_references() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (
            pick(&["ReplicaSet", "ReplicaSet", "Job", "StatefulSet", "DaemonSet"]),
            "[a-z]{1,6}",
        )
            .prop_map(|(kind, name)| json!({"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": "u", "controller": true})),
        0..=2,
    )
    .prop_map(Value::Array)
}

fn affinity() -> impl Strategy<Value = Value> {
    let op = pick(&["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]);
    let values = prop::collection::vec(pick(&["virtual-kubelet", "agent", "ecs", "3"]), 0..=2);
    let expression = (pick(NODE_KEYS), op, values)
        .prop_map(|(key, op, values)| json!({"key": key, "operator": op, "values": values}));
    let term = prop_oneof![
        4 => prop::collection::vec(expression, 1..=2).prop_map(|e| json!({"matchExpressions": e})),
        1 => Just(json!({})),
        1 => Just(json!({"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]})),
    ];
    prop::collection::vec(term, 0..=2).prop_map(|terms| {
        json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}})
    })
}

fn containers() -> impl Strategy<Value = Value> {
    let container = (
        "[a-z]{1,5}",
        prop::option::of(any::<bool>()),
        prop::option::of(prop_oneof![Just(0i64), Just(8080i64)]),
    )
        .prop_map(|(name, privileged, host_port)| {
            let mut c = json!({"name": name, "image": "nginx:1.27"});
            if let Some(p) = privileged {
                c["securityContext"] = json!({"privileged": p});
            }
            if let Some(h) = host_port {
                c["ports"] = json!([{"containerPort": 80, "hostPort": h}]);
            }
            c
        });
    prop::collection::vec(container, 0..=2).prop_map(Value::Array)
}

fn volumes() -> impl Strategy<Value = Value> {
    let volume = ("[a-z]{1,5}", any::<bool>()).prop_map(|(name, host)| {
        if host {
            json!({"name": name, "hostPath": {"path": "/var/log"}})
        } else {
            json!({"name": name, "emptyDir": {}})
        }
    });
    prop::collection::vec(volume, 0..=2).prop_map(Value::Array)
}

fn tolerations() -> impl Strategy<Value = Value> {
    prop::collection::vec(prop::sample::select(toleration_pool()), 0..=3).prop_map(Value::Array)
}

/// A well-formed pod, before unknown fields are injected.
fn base_pod() -> impl Strategy<Value = Value> {
    let metadata = (
        slot(string_map(LABEL_KEYS, LABEL_VALUES, 4).prop_map(|m| to_json_map(&m))),
        slot(string_map(POD_ANNOTATION_KEYS, &["x", "2-4Gi"], 2).prop_map(|m| to_json_map(&m))),
        weighted_slot(4, 1, 3, owner_references()),
        prop::option::weighted(0.9, "[a-z]{1,8}"),
    );
    let spec = (
        weighted_slot(12, 1, 2, pick(&["", "node-1"]).prop_map(Value::from)),
        slot(string_map(NODE_KEYS, NODE_VALUES, 2).prop_map(|m| to_json_map(&m))),
        slot(tolerations()),
        weighted_slot(6, 1, 2, affinity()),
        slot(volumes()),
        slot(containers()),
        slot(containers()),
        (
            slot(any::<bool>().prop_map(Value::from)),
            slot(any::<bool>().prop_map(Value::from)),
            slot(any::<bool>().prop_map(Value::from)),
        ),
    );
    (
        metadata,
        spec,
        prop::bool::weighted(0.95),
        prop::bool::weighted(0.95),
    )
        .prop_map(
            |((labels, annotations, owners, name), spec, has_metadata, has_spec)| {
                let mut pod = json!({"apiVersion": "v1", "kind": "Pod"});
                if has_metadata {
                    let mut m = Map::new();
                    put(&mut m, "name", name.map(Value::from));
                    put(&mut m, "labels", labels);
                    put(&mut m, "annotations", annotations);
                    put(&mut m, "ownerReferences", owners);
                    pod["metadata"] = Value::Object(m);
                }
                if has_spec {
                    let (
                        node_name,
                        node_selector,
                        tolerations,
                        affinity,
                        volumes,
                        containers,
                        init,
                        (hn, hpid, hipc),
                    ) = spec;
                    let mut s = Map::new();
                    put(&mut s, "nodeName", node_name);
                    put(&mut s, "nodeSelector", node_selector);
                    put(&mut s, "tolerations", tolerations);
                    put(&mut s, "affinity", affinity);
                    put(&mut s, "volumes", volumes);
                    put(&mut s, "containers", containers);
                    put(&mut s, "initContainers", init);
                    put(&mut s, "hostNetwork", hn);
                    put(&mut s, "hostPID", hpid);
                    put(&mut s, "hostIPC", hipc);
                    pod["spec"] = Value::Object(s);
                }
                pod
            },
        )
}

fn put(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        map.insert(key.into(), v);
    }
}

/// A well-formed pod with unknown fields (keys starting `zz`) at any depth.
fn pod() -> impl Strategy<Value = Value> {
    let injection = (any::<Index>(), "zz[a-zA-Z0-9ü_-]{0,6}", unknown_value());
    (base_pod(), prop::collection::vec(injection, 0..=4)).prop_map(|(mut pod, injections)| {
        for (at, key, value) in injections {
            let mut pointers = Vec::new();
            object_pointers(&pod, String::new(), &mut pointers);
            let pointer = at.get(&pointers).clone();
            if let Some(Value::Object(map)) = pod.pointer_mut(&pointer) {
                map.insert(key, value);
            }
        }
        pod
    })
}

/// `v` with up to three of its nodes replaced by arbitrary JSON.
fn corrupt(v: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
    (
        v,
        prop::collection::vec((any::<Index>(), json_value()), 1..=3),
    )
        .prop_map(|(mut v, replacements)| {
            for (at, replacement) in replacements {
                let mut pointers = Vec::new();
                all_pointers(&v, String::new(), &mut pointers);
                let pointer = at.get(&pointers).clone();
                if let Some(slot) = v.pointer_mut(&pointer) {
                    *slot = replacement;
                }
            }
            v
        })
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn evaluate(profile: &Profile, pod: &Value, ns: &NamespaceLabels) -> Decision {
    let labels = ns.clone();
    evaluate_pod(profile, pod.clone(), "team-a", move |_| Ok(labels))
}

/// The pod after evaluation: the mutated object, or the input when accepted unchanged.
fn result_pod(d: &Decision, input: &Value) -> Value {
    match &d.verdict {
        Verdict::Mutate(out) => out.clone(),
        _ => input.clone(),
    }
}

fn never_sent(d: &Decision) -> bool {
    d.warnings
        .iter()
        .any(|w| w.starts_with("eci-profile: pod not sent to a virtual node: "))
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// SPEC Effect: "add each annotation and label whose key the pod does not have
    /// yet" — a key present before keeps its value (also nodeSelector pairs).
    #[test]
    fn effects_never_overwrite(model in settings_model(), pod in pod(), ns in namespace_labels()) {
        let d = evaluate(&model.profile(), &pod, &ns);
        let out = result_pod(&d, &pod);
        for pointer in ["/metadata/labels", "/metadata/annotations", "/spec/nodeSelector"] {
            if let Some(Value::Object(before)) = pod.pointer(pointer) {
                let after = out.pointer(pointer).and_then(Value::as_object);
                for (k, v) in before {
                    prop_assert_eq!(after.and_then(|a| a.get(k)), Some(v), "{}[{}] changed", pointer, k);
                }
            }
        }
    }

    /// SPEC Guarantees: "Idempotent: evaluating the mutated pod again changes nothing."
    #[test]
    fn evaluating_the_mutated_pod_again_changes_nothing(
        model in settings_model(), pod in pod(), ns in namespace_labels()
    ) {
        let profile = model.profile();
        let d = evaluate(&profile, &pod, &ns);
        if let Verdict::Mutate(out) = &d.verdict {
            let again = evaluate(&profile, out, &ns);
            prop_assert_eq!(&again.verdict, &Verdict::Accept, "first additions: {:?}", d.report.additions);
            prop_assert!(again.report.additions.is_empty());
        }
    }

    /// SPEC Guarantees: "The mutated object is the request's object with only those
    /// additions: every other field, including fields this policy's Kubernetes types
    /// do not know, comes back … equal in value."
    #[test]
    fn only_the_reported_additions_change_the_pod(
        model in settings_model(), pod in pod(), ns in namespace_labels()
    ) {
        let d = evaluate(&model.profile(), &pod, &ns);
        match &d.verdict {
            Verdict::Mutate(out) => {
                prop_assert!(!d.report.additions.is_empty());
                prop_assert_ne!(out, &pod, "a mutated object must differ from the request's");
                let stripped = without_additions(&pod, out, &d.report.additions);
                prop_assert_eq!(&stripped, &pod, "additions: {:?}", d.report.additions);
            }
            Verdict::Accept => prop_assert!(d.report.additions.is_empty()),
            Verdict::Reject(m) => prop_assert!(false, "well-formed pod rejected: {}", m),
        }
    }

    /// SPEC Evaluation 2: a pod that no scheduling selector matches and whose
    /// nodeSelector does not already name the virtual node is left alone, silently.
    #[test]
    fn unmatched_unbound_pods_are_never_changed_and_get_no_warning(
        model in settings_model(), pod in pod(), ns in namespace_labels()
    ) {
        let r = reference(&model, &pod, &ns);
        let d = evaluate(&model.profile(), &pod, &ns);
        if r.scheduling_matched.is_empty() && !r.bound {
            prop_assert_eq!(&d.verdict, &Verdict::Accept);
            prop_assert!(d.warnings.is_empty(), "warnings: {:?}", d.warnings);
            prop_assert!(d.report.matched.is_empty());
            prop_assert!(d.report.additions.is_empty());
        } else if !r.scheduling_matched.is_empty() {
            // And the converse: the first matching selector is always reported.
            prop_assert!(d.report.matched.contains(&r.scheduling_matched[0]), "{:?}", d.report.matched);
        }
    }

    /// SPEC Effect: "The pod's own value wins, then the earliest selector." For every
    /// effect key of the selectors that apply to the pod as submitted, the result
    /// holds the pod's own value, else that of the earliest such selector. (A
    /// selector that matches only because of another selector's effect labels
    /// comes later: "the first pass decides priorities", DESIGN.md choice 4.)
    #[test]
    fn the_first_matching_selector_wins_a_key_conflict(
        model in prop_oneof![1 => settings_model(), 3 => settings_model_with(CONFLICTING_EFFECTS, 2..=5)],
        pod in pod(),
        ns in namespace_labels(),
    ) {
        let profile = model.profile();
        let d = evaluate(&profile, &pod, &ns);
        if never_sent(&d) {
            return Ok(());
        }
        let r = reference(&model, &pod, &ns);
        let selectors = model.effective_selectors();
        let out = result_pod(&d, &pod);
        for (pointer, labels) in [("/metadata/labels", true), ("/metadata/annotations", false)] {
            let own = string_map_at(&pod, pointer);
            let result = string_map_at(&out, pointer);
            let mut expected: BTreeMap<String, String> = BTreeMap::new();
            for &i in &r.applicable {
                let effect: Vec<_> = if labels {
                    selectors[i].effect_labels().collect()
                } else {
                    selectors[i].effect_annotations().collect()
                };
                for (k, v) in effect {
                    expected.entry(k.clone()).or_insert_with(|| own.get(k).unwrap_or(v).clone());
                }
            }
            for (k, v) in &expected {
                prop_assert_eq!(result.get(k), Some(v), "{}[{}], applicable {:?}", pointer, k, &r.applicable);
            }
        }
    }

    /// SPEC Guarantees: "No input makes the policy panic." Arbitrary JSON, and
    /// well-formed pods with some nodes replaced by arbitrary JSON.
    #[test]
    fn no_pod_makes_the_policy_panic(
        model in settings_model(),
        pod in prop_oneof![json_value(), corrupt(pod())],
        ns in prop::result::maybe_ok(namespace_labels(), "\\PC{0,10}"),
        namespace in prop_oneof![Just(String::new()), Just("team-a".to_string())],
    ) {
        // Prefixed texts; a mutated pod, even one with odd parts, differs only
        // by its additions and is stable.
        check(&model.profile(), &pod, &namespace, &ns);
    }

    /// SPEC Settings / Guarantees: arbitrary JSON, and valid settings with some
    /// nodes replaced by arbitrary JSON, are compiled or refused with messages;
    /// whatever compiles evaluates without panicking.
    #[test]
    fn no_settings_make_the_policy_panic(
        settings in prop_oneof![json_value(), corrupt(settings_model().prop_map(|m| m.to_json()))],
        pod in pod(),
        ns in namespace_labels(),
    ) {
        if let Some(profile) = compile(&settings) {
            let labels = ns.clone();
            check(&profile, &pod, "team-a", &Ok(labels));
        }
    }

    /// SPEC Live profile: whatever the host answers for the ConfigMap (any
    /// JSON, a ConfigMap whose `data.selectors` is any text or valid selectors
    /// with nodes replaced, any bytes), the policy compiles it or names the
    /// ConfigMap and the problems, never panics; what compiles evaluates.
    #[test]
    fn no_config_map_makes_the_policy_panic(
        answer in prop_oneof![
            json_value().prop_map(|v| v.to_string().into_bytes()),
            (prop_oneof![
                json_value().prop_map(|v| v.to_string()),
                corrupt(settings_model().prop_map(|m| m.to_json()["selectors"].clone()))
                    .prop_map(|v| v.to_string()),
                "\\PC{0,40}",
            ], json_value())
                .prop_map(|(selectors, other)| serde_json::to_vec(&json!({
                    "kind": "ConfigMap",
                    "data": {"selectors": selectors, "vSwitchIds": other.to_string(),
                             "securityGroupId": "sg-1", "enableClusterIp": other}
                })).unwrap()),
            prop::collection::vec(any::<u8>(), 0..64),
        ],
        pod in pod(),
    ) {
        let config_map = ConfigMapRef { namespace: "kube-system".into(), name: "eci-profile".into() };
        match live_profile::selectors(&config_map, Ok(&answer)) {
            Ok(selectors) => {
                let profile = Profile { selectors, ..Profile::default() };
                check(&profile, &pod, "team-a", &Ok(NamespaceLabels::new()));
            }
            Err(problem) => prop_assert!(
                problem.starts_with("ConfigMap kube-system/eci-profile: ") && problem.len() > 35,
                "{problem}"
            ),
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// The adapter's fast path (`evaluate::screen`, which reads only the labels and
    /// the nodeSelector) never accepts a pod that `evaluate_pod` would change, warn
    /// about or reject; when it defers, the lookup it carries gives the same decision
    /// as a fresh one, and the request still reads the namespace at most once.
    #[test]
    fn the_screen_agrees_with_the_full_evaluation(
        model in settings_model(),
        pod in pod(),
        answer in prop::result::maybe_ok(namespace_labels(), "\\PC{0,10}"),
        namespace in prop_oneof![1 => Just(String::new()), 9 => Just("team-a".to_string())],
    ) {
        let profile = model.profile();
        let labels = string_map_at(&pod, "/metadata/labels");
        let node_selector = pod
            .pointer("/spec/nodeSelector")
            .and_then(Value::as_object)
            .map(|_| string_map_at(&pod, "/spec/nodeSelector"));
        let calls = std::cell::Cell::new(0);
        let lookup = |_: &str| {
            calls.set(calls.get() + 1);
            answer.clone()
        };
        let screened = screen(&profile, &labels, node_selector.as_ref(), &namespace, lookup);
        let direct = evaluate_pod(&profile, pod.clone(), &namespace, |_| answer.clone());
        match screened {
            Screen::Accept => {
                prop_assert_eq!(&direct.verdict, &Verdict::Accept);
                prop_assert!(direct.warnings.is_empty(), "{:?}", direct.warnings);
            }
            Screen::Evaluate(carried) => {
                let via = evaluate_pod(&profile, pod.clone(), &namespace, |_| {
                    carried.unwrap_or_else(|| {
                        calls.set(calls.get() + 1);
                        answer.clone()
                    })
                });
                prop_assert_eq!(&via.verdict, &direct.verdict);
                prop_assert_eq!(&via.warnings, &direct.warnings);
            }
        }
        prop_assert!(calls.get() <= 1, "{} namespace lookups", calls.get());
    }
}

// ---------------------------------------------------------------------------
// Fixed cases found by (or written alongside) the properties
// ---------------------------------------------------------------------------

/// Unknown fields 100 levels deep come back unchanged.
#[test]
fn deep_unknown_fields_come_back_unchanged() {
    let profile = Profile::default();
    let mut pod = json!({"metadata": {"labels": {ECI_LABEL: "true"}}, "spec": {"containers": []}});
    pod["spec"]["zzDeep"] = nested(100, json!([1, "x", null]));
    pod["metadata"]["zzDeep"] = nested(100, json!({}));
    let d = evaluate(&profile, &pod, &NamespaceLabels::new());
    let Verdict::Mutate(out) = &d.verdict else {
        panic!("expected a mutation: {:?}", d.verdict)
    };
    assert_eq!(without_additions(&pod, out, &d.report.additions), pod);
}

/// SPEC Guarantees ("only those additions"): a virtual node without taints
/// (`virtualNode.tolerations: []`) must not give the pod an empty
/// `spec.tolerations` list it never had.
#[test]
fn virtual_node_without_tolerations_adds_no_empty_list() {
    let profile = Profile::from_settings(&json!({"virtualNode": {"tolerations": []}})).unwrap();
    for tolerations in [None, Some(Value::Null)] {
        let mut pod =
            json!({"metadata": {"labels": {ECI_LABEL: "true"}}, "spec": {"containers": []}});
        if let Some(t) = &tolerations {
            pod["spec"]["tolerations"] = t.clone();
        }
        let d = evaluate(&profile, &pod, &NamespaceLabels::new());
        let mut want = pod.clone();
        want["spec"]["nodeSelector"] = json!({"type": "virtual-kubelet"});
        assert_eq!(
            d.verdict,
            Verdict::Mutate(want),
            "spec.tolerations {tolerations:?}"
        );
    }
}

/// `Report::additions` is "everything written into the pod": when a namespace
/// lookup that only a later fixpoint round needs fails, the pod is returned
/// unchanged, so the report should list nothing.
#[test]
fn unchanged_pod_reports_no_additions() {
    let profile = Profile::from_settings(&json!({"selectors": [
        {"name": "a", "objectSelector": {"matchLabels": {"app": "x"}}, "effect": {"labels": {"tier": "t"}}},
        {"name": "b", "namespaceSelector": {}, "objectSelector": {"matchLabels": {"tier": "t"}},
         "effect": {"labels": {"gpu": "true"}}}
    ]}))
    .unwrap();
    let pod = json!({"metadata": {"labels": {"app": "x"}}});
    let d = evaluate_pod(
        &profile,
        pod,
        "team-a",
        |_| Err("connection refused".into()),
    );
    assert_eq!(d.verdict, Verdict::Accept);
    assert_eq!(
        d.warnings,
        ["eci-profile: pod left unchanged: cannot read namespace \"team-a\": connection refused"]
    );
    assert_eq!(d.report.additions, []);
}
