//! What is measured: the scenarios, and the settings, pods and namespace
//! they are generated from.

use super::*;

pub(super) struct Scenario<'a> {
    pub(super) group: &'a str,
    pub(super) op: &'a str,
    pub(super) settings: &'a str,
    pub(super) pod: &'a str,
    pub(super) selectors: usize,
    pub(super) labels: Option<usize>,
    pub(super) containers: Option<usize>,
    pub(super) settings_bytes: usize,
    pub(super) payload: &'a [u8],
    pub(super) expect: Expect,
    pub(super) host: Option<(&'a Value, &'a Value)>,
}

impl Default for Scenario<'_> {
    fn default() -> Self {
        Scenario {
            group: "",
            op: "validate",
            settings: "",
            pod: "",
            selectors: 0,
            labels: None,
            containers: None,
            settings_bytes: 0,
            payload: &[],
            expect: Expect::Accepted,
            host: None,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum SettingsKind {
    /// Only objectSelector selectors: no namespace lookup ever.
    ObjectOnly,
    /// objectSelector, namespaceSelector, both, with effects: one lookup.
    Mixed,
}

impl SettingsKind {
    pub(super) fn name(self) -> &'static str {
        match self {
            SettingsKind::ObjectOnly => "object-only",
            SettingsKind::Mixed => "mixed",
        }
    }
}

/// How the last selector (the one that matches) selects.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Last {
    Object,
    Namespace,
}

/// `n` selectors; the first `n - 1` match neither benchmark pod, the last
/// one matches pods labelled `alibabacloud.com/eci: "true"` (or, with
/// [`Last::Namespace`], pods of a namespace so labelled), so a matching pod
/// walks the whole list.
pub(super) fn settings(kind: SettingsKind, n: usize, last: Last) -> Value {
    let mut selectors: Vec<Value> = (0..n.saturating_sub(1))
        .map(|i| filler_selector(kind, i))
        .collect();
    let selector = json!({"matchLabels": {"alibabacloud.com/eci": "true"}});
    let mut matching = json!({
        "name": "eci-pods",
        "effect": {
            "annotations": {
                "k8s.aliyun.com/eci-use-specs": "2-4Gi,ecs.c6.large",
                "k8s.aliyun.com/eci-spot-strategy": "SpotAsPriceGo"
            },
            "labels": {"eci.example.com/pool": "eci"}
        }
    });
    matching[match last {
        Last::Object => "objectSelector",
        Last::Namespace => "namespaceSelector",
    }] = selector;
    selectors.push(matching);
    json!({ "selectors": selectors })
}

pub(super) fn filler_selector(kind: SettingsKind, i: usize) -> Value {
    let variant = match kind {
        SettingsKind::ObjectOnly => i % 2,
        SettingsKind::Mixed => i % 4,
    };
    match variant {
        0 => json!({
            "name": format!("team-{i}"),
            "objectSelector": {"matchLabels": {"eci.example.com/team": format!("team-{i}")}},
            "effect": {
                "annotations": {"k8s.aliyun.com/eci-use-specs": "2-4Gi"},
                "labels": {"eci.example.com/pool": format!("pool-{i}")}
            }
        }),
        1 => json!({
            "name": format!("batch-{i}"),
            "objectSelector": {"matchExpressions": [
                {"key": "app", "operator": "In", "values": [format!("batch-{i}"), format!("etl-{i}")]},
                {"key": "eci.example.com/opt-out", "operator": "DoesNotExist"}
            ]},
            "effect": {"annotations": {"k8s.aliyun.com/eci-spot-strategy": "SpotAsPriceGo"}}
        }),
        2 => json!({
            "name": format!("tenant-{i}"),
            "namespaceSelector": {"matchLabels": {"eci.example.com/tenant": format!("tenant-{i}")}},
            "effect": {"labels": {"eci.example.com/tenant": format!("tenant-{i}")}}
        }),
        _ => json!({
            "name": format!("gpu-{i}"),
            "namespaceSelector": {"matchExpressions": [
                {"key": "eci.example.com/gpu", "operator": "Exists"}
            ]},
            "objectSelector": {"matchLabels": {"eci.example.com/gpu": format!("gpu-{i}")}},
            "effect": {"annotations": {
                "k8s.aliyun.com/eci-use-specs": "ecs.gn6i-c4g1.xlarge",
                "k8s.aliyun.com/eci-auto-imc": "true"
            }}
        }),
    }
}

/// The namespace every benchmark request is in, as the host answers it.
pub(super) fn namespace_fixture() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": "default",
            "uid": "4f3b7a5c-0e6d-43b4-9ac1-5e6f708192a3",
            "resourceVersion": "196",
            "creationTimestamp": "2025-01-09T02:11:30Z",
            "labels": {
                "kubernetes.io/metadata.name": "default",
                "alibabacloud.com/eci": "true",
                "eci.example.com/tenant": "shared"
            }
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"}
    })
}

/// `base` with exactly `labels` labels (the first one decides whether the
/// last selector matches) and `containers` copies of its first container.
pub(super) fn sized_pod(base: &Value, matching: bool, labels: usize, containers: usize) -> Value {
    let mut request = base.clone();
    let mut map = serde_json::Map::new();
    if matching {
        map.insert("alibabacloud.com/eci".into(), json!("true"));
    } else {
        map.insert("app".into(), json!("web"));
    }
    for j in 1..labels {
        map.insert(
            format!("bench.example.com/label-{j:04}"),
            json!(format!("value-{j}")),
        );
    }
    request["object"]["metadata"]["labels"] = Value::Object(map);
    let first = request["object"]["spec"]["containers"][0].clone();
    let list: Vec<Value> = (0..containers)
        .map(|k| {
            let mut c = first.clone();
            if k > 0 {
                c["name"] = json!(format!("sidecar-{k}"));
            }
            c
        })
        .collect();
    request["object"]["spec"]["containers"] = Value::Array(list);
    request
}
