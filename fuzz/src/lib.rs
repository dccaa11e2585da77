//! Shared input builders and invariant checks for the eci-profile fuzz targets.
//!
//! - [`raw_settings`]: settings as an operator might write them, right or wrong
//!   (selectors with random names, keys, operators and values; the JSON-string
//!   form, sometimes with trailing garbage; wrong types at every level).
//! - [`valid_settings`]: settings that must compile (keys and values from pools
//!   Kubernetes and the ECI annotation table accept); a refusal is a finding.
//! - [`pod`]: pods with random labels, annotations, owners, nodeName,
//!   nodeSelector, tolerations, required node affinity, volumes, containers and
//!   host namespaces, each part sometimes missing, `null` or of the wrong type,
//!   and unknown fields at any depth.
//!
//! What every answer must satisfy ([`check`], [`compile`]) is the dev-only
//! crate `eci-profile-invariants`, shared with `tests/properties.rs`.

use arbitrary::{Result, Unstructured};
use eci_profile::evaluate::NamespaceLabels;
use eci_profile_invariants::object_pointers;
pub use eci_profile_invariants::{check, compile, compile_text};
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------
// Pools
// ---------------------------------------------------------------------------

pub const LABEL_KEYS: &[&str] = &[
    "alibabacloud.com/eci",
    "app",
    "tier",
    "gpu",
    "example.com/team",
    "type",
];
pub const LABEL_VALUES: &[&str] = &["true", "false", "a", "", "virtual-kubelet"];
const BAD_KEYS: &[&str] = &[
    "has space",
    "a/b/c",
    "/app",
    "example.com/",
    "Example.com/app",
    "example..com/app",
    "-app",
    "app-",
    "",
    "ключ",
    "k8s.aliyun.com/eci-use-spec",
    "k8s.aliyun.com/ECI-USE-SPECS",
    "kubernetes.io/config.mirror",
];
const BAD_VALUES: &[&str] = &["has space", "-a", "a/b", "ü", "Spot", "yes"];
/// Known ECI annotations with values the policy accepts.
const ECI_ANNOTATIONS: &[(&str, &[&str])] = &[
    (
        "k8s.aliyun.com/eci-use-specs",
        &["2-4Gi", "ecs.c6.xlarge", "0.5-1Gi,ecs.gn6v-c8g1.2xlarge"],
    ),
    ("k8s.aliyun.com/eci-auto-imc", &["true", "false"]),
    ("k8s.aliyun.com/eci-image-cache", &["true"]),
    (
        "k8s.aliyun.com/eci-spot-strategy",
        &["SpotAsPriceGo", "SpotWithPriceLimit"],
    ),
    ("k8s.aliyun.com/eci-spot-price-limit", &["0.5", "0.250"]),
    (
        "k8s.aliyun.com/eci-compute-category",
        &["economy", "economy,general"],
    ),
    (
        "k8s.aliyun.com/eci-schedule-strategy",
        &["VSwitchOrdered", "VSwitchRandom"],
    ),
    ("k8s.aliyun.com/eci-vswitch", &["vsw-1,vsw-2"]),
    ("k8s.aliyun.com/eci-security-group", &["sg-1"]),
    ("example.com/note", &["first", "second"]),
    ("team", &["a", "b"]),
];
const OPERATORS: &[&str] = &[
    "In",
    "NotIn",
    "Exists",
    "DoesNotExist",
    "Equals",
    "in",
    "",
    "Gt",
];
const TOP_KEYS: &[&str] = &[
    "vSwitchIds",
    "vpcId",
    "securityGroupId",
    "enableClusterIp",
    "vswitchIds",
    "vSwtichlds",
    "resourceGroupId",
    "selector",
    "virtualnode",
];
const NODE_KEYS: &[&str] = &["type", "kubernetes.io/role", "vk", "disk"];
const NODE_VALUES: &[&str] = &["virtual-kubelet", "agent", "true", "ecs"];

fn pick(u: &mut Unstructured, pool: &[&str]) -> Result<String> {
    Ok(u.choose(pool)?.to_string())
}

fn small_len(u: &mut Unstructured, max: u32) -> Result<usize> {
    Ok(u.int_in_range(0..=max)? as usize)
}

// ---------------------------------------------------------------------------
// Arbitrary JSON
// ---------------------------------------------------------------------------

/// Any JSON value, at most `depth` levels deep.
pub fn json_value(u: &mut Unstructured, depth: u32) -> Result<Value> {
    let top = if depth == 0 { 5 } else { 7 };
    Ok(match u.int_in_range(0..=top)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(u.arbitrary::<i64>()?),
        3 => Value::from(u.arbitrary::<f64>()?),
        4 => Value::String(u.arbitrary()?),
        5 => Value::String(pick(u, LABEL_VALUES)?),
        6 => {
            let n = small_len(u, 4)?;
            Value::Array(
                (0..n)
                    .map(|_| json_value(u, depth - 1))
                    .collect::<Result<_>>()?,
            )
        }
        _ => {
            let n = small_len(u, 4)?;
            let mut map = Map::new();
            for _ in 0..n {
                let key = if u.ratio(1, 2)? {
                    u.arbitrary()?
                } else {
                    pick(u, &["metadata", "labels", "spec", "key", "name", "kind"])?
                };
                map.insert(key, json_value(u, depth - 1)?);
            }
            Value::Object(map)
        }
    })
}

/// A value of the wrong type for most places: a scalar, a list, or a mapping.
fn wrong(u: &mut Unstructured) -> Result<Value> {
    json_value(u, 1)
}

// ---------------------------------------------------------------------------
// Settings as an operator might write them, right or wrong
// ---------------------------------------------------------------------------

fn raw_key(u: &mut Unstructured) -> Result<Value> {
    Ok(match u.int_in_range(0..=9)? {
        0..=5 => Value::String(pick(u, LABEL_KEYS)?),
        6 => Value::String(pick(u, BAD_KEYS)?),
        7 => Value::String(u.arbitrary()?),
        8 => Value::String(format!(
            "{}/{}",
            "p".repeat(small_len(u, 260)?),
            "n".repeat(small_len(u, 70)?)
        )),
        _ => wrong(u)?,
    })
}

fn key_string(u: &mut Unstructured) -> Result<String> {
    Ok(match raw_key(u)? {
        Value::String(s) => s,
        other => other.to_string(),
    })
}

fn raw_value(u: &mut Unstructured) -> Result<Value> {
    Ok(match u.int_in_range(0..=9)? {
        0..=5 => Value::String(pick(u, LABEL_VALUES)?),
        6 => Value::String(pick(u, BAD_VALUES)?),
        7 => Value::String(u.arbitrary()?),
        8 => Value::String("v".repeat(small_len(u, 70)?)),
        _ => json_value(u, 0)?,
    })
}

fn raw_string_map(u: &mut Unstructured, annotations: bool) -> Result<Value> {
    if u.ratio(1, 16)? {
        return wrong(u);
    }
    let n = small_len(u, 4)?;
    let mut map = Map::new();
    for _ in 0..n {
        if annotations && u.ratio(1, 2)? {
            let (key, values) = *u.choose(ECI_ANNOTATIONS)?;
            let key = near_miss(u, key)?;
            let value = if u.ratio(3, 4)? {
                Value::String(pick(u, values)?)
            } else {
                raw_value(u)?
            };
            map.insert(key, value);
        } else {
            map.insert(key_string(u)?, raw_value(u)?);
        }
    }
    Ok(Value::Object(map))
}

/// `key`, or (one time in four) a one-edit near miss of it.
fn near_miss(u: &mut Unstructured, key: &str) -> Result<String> {
    if u.ratio(3, 4)? {
        return Ok(key.to_string());
    }
    let mut chars: Vec<char> = key.chars().collect();
    let at = u.int_in_range(0..=chars.len() - 1)?;
    match u.int_in_range(0..=3)? {
        0 => {
            chars.remove(at);
        }
        1 => chars.insert(at, u.choose(&['-', '_', 'x', 's'])?.to_owned()),
        2 if at + 1 < chars.len() => chars.swap(at, at + 1),
        _ => chars[at] = chars[at].to_ascii_uppercase(),
    }
    Ok(chars.into_iter().collect())
}

fn raw_expression(u: &mut Unstructured) -> Result<Value> {
    if u.ratio(1, 20)? {
        return wrong(u);
    }
    let mut map = Map::new();
    if u.ratio(15, 16)? {
        map.insert("key".into(), raw_key(u)?);
    }
    if u.ratio(15, 16)? {
        let op = if u.ratio(15, 16)? {
            Value::String(pick(u, OPERATORS)?)
        } else {
            wrong(u)?
        };
        map.insert("operator".into(), op);
    }
    match u.int_in_range(0..=5)? {
        0 => {}
        1 => {
            map.insert("values".into(), json!([]));
        }
        2 => {
            map.insert("values".into(), wrong(u)?);
        }
        _ => {
            let n = small_len(u, 3)?;
            let values = (0..n).map(|_| raw_value(u)).collect::<Result<_>>()?;
            map.insert("values".into(), Value::Array(values));
        }
    }
    if u.ratio(1, 20)? {
        map.insert(pick(u, &["value", "operater", "Key"])?, json!("x"));
    }
    Ok(Value::Object(map))
}

fn raw_label_selector(u: &mut Unstructured) -> Result<Value> {
    match u.int_in_range(0..=15)? {
        0 => return Ok(Value::Null),
        1 => return wrong(u),
        _ => {}
    }
    let mut map = Map::new();
    if u.ratio(2, 3)? {
        map.insert("matchLabels".into(), raw_string_map(u, false)?);
    }
    if u.ratio(1, 2)? {
        let list = if u.ratio(15, 16)? {
            let n = small_len(u, 3)?;
            Value::Array((0..n).map(|_| raw_expression(u)).collect::<Result<_>>()?)
        } else {
            wrong(u)?
        };
        map.insert("matchExpressions".into(), list);
    }
    if u.ratio(1, 20)? {
        map.insert(pick(u, &["matchLabel", "matchexpressions", ""])?, json!({}));
    }
    Ok(Value::Object(map))
}

fn raw_effect(u: &mut Unstructured) -> Result<Value> {
    if u.ratio(1, 20)? {
        return wrong(u);
    }
    let mut map = Map::new();
    if u.ratio(2, 3)? {
        map.insert("annotations".into(), raw_string_map(u, true)?);
    }
    if u.ratio(2, 3)? {
        map.insert("labels".into(), raw_string_map(u, false)?);
    }
    if u.ratio(1, 20)? {
        map.insert("label".into(), json!({}));
    }
    Ok(Value::Object(map))
}

fn raw_name(u: &mut Unstructured) -> Result<Option<Value>> {
    Ok(match u.int_in_range(0..=15)? {
        0 => None,
        1 => Some(wrong(u)?),
        2 => Some(Value::String(u.arbitrary()?)),
        3 => Some(json!("")),
        _ => Some(Value::String(pick(
            u,
            &["gpu", "GPU", "Gpu", "amd", "demo", "a", "b", "ünï"],
        )?)),
    })
}

fn raw_selector(u: &mut Unstructured) -> Result<Value> {
    if u.ratio(1, 32)? {
        return wrong(u);
    }
    let mut map = Map::new();
    if let Some(name) = raw_name(u)? {
        map.insert("name".into(), name);
    }
    if u.ratio(1, 2)? {
        map.insert("namespaceSelector".into(), raw_label_selector(u)?);
    }
    if u.ratio(2, 3)? {
        map.insert("objectSelector".into(), raw_label_selector(u)?);
    }
    if u.ratio(1, 2)? {
        map.insert("effect".into(), raw_effect(u)?);
    }
    if u.ratio(1, 32)? {
        map.insert(pick(u, &["matchLabels", "effects", "Name"])?, json!(1));
    }
    Ok(Value::Object(map))
}

fn raw_toleration(u: &mut Unstructured) -> Result<Value> {
    if u.ratio(1, 20)? {
        return wrong(u);
    }
    let mut map = Map::new();
    if u.ratio(3, 4)? {
        map.insert("key".into(), raw_key(u)?);
    }
    if u.ratio(3, 4)? {
        let op = match u.int_in_range(0..=5)? {
            0 => wrong(u)?,
            1 => json!("Equals"),
            2 | 3 => json!("Equal"),
            _ => json!("Exists"),
        };
        map.insert("operator".into(), op);
    }
    if u.ratio(1, 3)? {
        map.insert("value".into(), raw_value(u)?);
    }
    if u.ratio(3, 4)? {
        let effect = if u.ratio(7, 8)? {
            Value::String(pick(
                u,
                &[
                    "NoSchedule",
                    "PreferNoSchedule",
                    "NoExecute",
                    "",
                    "noschedule",
                ],
            )?)
        } else {
            wrong(u)?
        };
        map.insert("effect".into(), effect);
    }
    if u.ratio(1, 4)? {
        let seconds = if u.ratio(3, 4)? {
            json!(u.arbitrary::<i64>()?)
        } else {
            json_value(u, 0)?
        };
        map.insert("tolerationSeconds".into(), seconds);
    }
    if u.ratio(1, 20)? {
        map.insert("tolerationseconds".into(), json!(1));
    }
    Ok(Value::Object(map))
}

fn raw_virtual_node(u: &mut Unstructured) -> Result<Value> {
    if u.ratio(1, 20)? {
        return wrong(u);
    }
    let mut map = Map::new();
    if u.ratio(2, 3)? {
        map.insert("nodeSelector".into(), raw_string_map(u, false)?);
    }
    if u.ratio(2, 3)? {
        let list = if u.ratio(15, 16)? {
            let n = small_len(u, 3)?;
            Value::Array((0..n).map(|_| raw_toleration(u)).collect::<Result<_>>()?)
        } else {
            wrong(u)?
        };
        map.insert("tolerations".into(), list);
    }
    if u.ratio(1, 20)? {
        map.insert("taints".into(), json!([]));
    }
    Ok(Value::Object(map))
}

/// Settings as an operator might write them: mostly plausible, often wrong.
pub fn raw_settings(u: &mut Unstructured) -> Result<Value> {
    if u.ratio(1, 32)? {
        return json_value(u, 3);
    }
    let mut top = Map::new();
    if u.ratio(7, 8)? {
        let n = small_len(u, 5)?;
        let list = Value::Array((0..n).map(|_| raw_selector(u)).collect::<Result<_>>()?);
        let selectors = match u.int_in_range(0..=15)? {
            0..=8 => list,
            9..=11 => Value::String(serde_json::to_string_pretty(&list).unwrap()),
            12 => {
                // The string form with trailing garbage, a cut, or a comment.
                let mut text = serde_json::to_string(&list).unwrap();
                match u.int_in_range(0..=3)? {
                    0 => text.push_str(&u.arbitrary::<String>()?),
                    1 => {
                        let mut cut = u.int_in_range(0..=text.len())?;
                        while !text.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        text.truncate(cut);
                    }
                    2 => text.insert_str(0, "# copied from the docs\n"),
                    _ => text.push(','),
                }
                Value::String(text)
            }
            13 => Value::String(u.arbitrary()?),
            14 => json!(""),
            _ => wrong(u)?,
        };
        top.insert("selectors".into(), selectors);
    }
    if u.ratio(1, 2)? {
        top.insert("virtualNode".into(), raw_virtual_node(u)?);
    }
    if u.ratio(1, 3)? {
        let v = match u.int_in_range(0..=4)? {
            0 => json!("Ignore"),
            1 => json!("Fail"),
            2 => json!("fail"),
            _ => wrong(u)?,
        };
        top.insert("onNamespaceLookupError".into(), v);
    }
    if u.ratio(1, 8)? {
        let key = if u.ratio(3, 4)? {
            pick(u, TOP_KEYS)?
        } else {
            u.arbitrary()?
        };
        top.insert(key, json_value(u, 1)?);
    }
    Ok(Value::Object(top))
}

// ---------------------------------------------------------------------------
// Settings that must compile
// ---------------------------------------------------------------------------

fn valid_string_map(
    u: &mut Unstructured,
    keys: &[&str],
    values: &[&str],
    min: u32,
    max: u32,
) -> Result<Map<String, Value>> {
    let n = u.int_in_range(min..=max)?;
    let mut map = Map::new();
    for _ in 0..n {
        map.insert(pick(u, keys)?, Value::String(pick(u, values)?));
    }
    Ok(map)
}

fn valid_label_selector(u: &mut Unstructured) -> Result<Value> {
    let mut map = Map::new();
    if u.ratio(1, 2)? {
        map.insert(
            "matchLabels".into(),
            Value::Object(valid_string_map(u, LABEL_KEYS, LABEL_VALUES, 0, 2)?),
        );
    }
    if u.ratio(1, 2)? {
        let n = small_len(u, 2)?;
        let mut list = Vec::new();
        for _ in 0..n {
            let key = pick(u, LABEL_KEYS)?;
            let e = match u.int_in_range(0..=3)? {
                0 | 1 => {
                    let op = if u.ratio(1, 2)? { "In" } else { "NotIn" };
                    let k = u.int_in_range(1..=3)?;
                    let values = (0..k)
                        .map(|_| pick(u, LABEL_VALUES))
                        .collect::<Result<Vec<_>>>()?;
                    json!({"key": key, "operator": op, "values": values})
                }
                2 => json!({"key": key, "operator": "Exists"}),
                _ => json!({"key": key, "operator": "DoesNotExist", "values": []}),
            };
            list.push(e);
        }
        map.insert("matchExpressions".into(), Value::Array(list));
    }
    Ok(Value::Object(map))
}

fn valid_effect(u: &mut Unstructured) -> Result<Map<String, Value>> {
    let mut effect = Map::new();
    if u.ratio(2, 3)? {
        let n = small_len(u, 3)?;
        let mut annotations = Map::new();
        for _ in 0..n {
            let (key, values) = *u.choose(ECI_ANNOTATIONS)?;
            annotations.insert(key.into(), Value::String(pick(u, values)?));
        }
        effect.insert("annotations".into(), Value::Object(annotations));
    }
    if u.ratio(2, 3)? {
        effect.insert(
            "labels".into(),
            Value::Object(valid_string_map(u, LABEL_KEYS, LABEL_VALUES, 0, 3)?),
        );
    }
    Ok(effect)
}

fn valid_toleration(u: &mut Unstructured) -> Result<Value> {
    Ok(u.choose(&[
        json!({"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoSchedule"}),
        json!({"key": "virtual-kubelet.io/provider", "operator": "Equal", "value": "alibabacloud", "effect": "NoSchedule"}),
        json!({"key": "virtual-kubelet.io/provider", "operator": "Exists"}),
        json!({"operator": "Exists"}),
        json!({"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}),
        json!({"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60}),
        json!({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}),
    ])?
    .clone())
}

/// Settings `Profile::from_settings` must accept.
pub fn valid_settings(u: &mut Unstructured) -> Result<Value> {
    let mut top = Map::new();
    if u.ratio(7, 8)? {
        let n = small_len(u, 5)?;
        let mut list = Vec::new();
        for i in 0..n {
            let mut s = Map::new();
            s.insert("name".into(), json!(format!("selector-{i}")));
            let namespace = u.ratio(1, 3)?;
            let object = u.ratio(2, 3)?;
            if namespace {
                s.insert("namespaceSelector".into(), valid_label_selector(u)?);
            }
            if object {
                s.insert("objectSelector".into(), valid_label_selector(u)?);
            }
            let mut effect = valid_effect(u)?;
            if !namespace && !object && effect.values().all(|m| m == &json!({})) {
                effect.insert("labels".into(), json!({"gpu": "true"}));
            }
            if !effect.is_empty() {
                s.insert("effect".into(), Value::Object(effect));
            }
            list.push(Value::Object(s));
        }
        let list = Value::Array(list);
        top.insert(
            "selectors".into(),
            if u.ratio(1, 3)? {
                Value::String(serde_json::to_string_pretty(&list).unwrap())
            } else {
                list
            },
        );
    }
    if u.ratio(1, 2)? {
        let mut vn = Map::new();
        if u.ratio(1, 2)? {
            vn.insert(
                "nodeSelector".into(),
                Value::Object(valid_string_map(u, NODE_KEYS, NODE_VALUES, 1, 2)?),
            );
        }
        if u.ratio(1, 2)? {
            let n = small_len(u, 2)?;
            let list = (0..n).map(|_| valid_toleration(u)).collect::<Result<_>>()?;
            vn.insert("tolerations".into(), Value::Array(list));
        }
        top.insert("virtualNode".into(), Value::Object(vn));
    }
    if u.ratio(1, 3)? {
        top.insert(
            "onNamespaceLookupError".into(),
            json!(if u.ratio(1, 2)? { "Fail" } else { "Ignore" }),
        );
    }
    Ok(Value::Object(top))
}

// ---------------------------------------------------------------------------
// Pods
// ---------------------------------------------------------------------------

/// Missing (`None`), `null`, the wrong type, or what `present` builds.
fn slot(
    u: &mut Unstructured,
    weight_present: u32,
    present: impl FnOnce(&mut Unstructured) -> Result<Value>,
) -> Result<Option<Value>> {
    let n = u.int_in_range(0..=weight_present + 5)?;
    Ok(match n {
        0..=3 => None,
        4 => Some(Value::Null),
        5 if u.ratio(1, 4)? => Some(wrong(u)?),
        5 => None,
        _ => Some(present(u)?),
    })
}

fn put(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        map.insert(key.into(), v);
    }
}

fn pod_string_map(u: &mut Unstructured, keys: &[&str], values: &[&str], max: u32) -> Result<Value> {
    let mut map = valid_string_map(u, keys, values, 0, max)?;
    if u.ratio(1, 16)? {
        map.insert(key_string(u)?, json_value(u, 1)?);
    }
    Ok(Value::Object(map))
}

fn owners(u: &mut Unstructured) -> Result<Value> {
    let n = small_len(u, 2)?;
    let mut list = Vec::new();
    for _ in 0..n {
        let kind = pick(u, &["ReplicaSet", "ReplicaSet", "Job", "DaemonSet"])?;
        let mut o = json!({"apiVersion": "apps/v1", "kind": kind, "name": "owner", "uid": "1"});
        if u.ratio(1, 20)? {
            o["name"] = wrong(u)?;
        }
        list.push(o);
    }
    Ok(Value::Array(list))
}

fn affinity(u: &mut Unstructured) -> Result<Value> {
    let n = small_len(u, 2)?;
    let mut terms = Vec::new();
    for _ in 0..n {
        let term = match u.int_in_range(0..=5)? {
            0 => json!({}),
            1 => {
                json!({"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]})
            }
            _ => {
                let k = u.int_in_range(1..=2)?;
                let mut exprs = Vec::new();
                for _ in 0..k {
                    let key = pick(u, NODE_KEYS)?;
                    let op = pick(
                        u,
                        &["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "Bogus"],
                    )?;
                    let m = small_len(u, 2)?;
                    let values = (0..m)
                        .map(|_| pick(u, &["virtual-kubelet", "agent", "3", "x"]))
                        .collect::<Result<Vec<_>>>()?;
                    exprs.push(json!({"key": key, "operator": op, "values": values}));
                }
                json!({"matchExpressions": exprs})
            }
        };
        terms.push(term);
    }
    Ok(
        json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}),
    )
}

fn containers(u: &mut Unstructured) -> Result<Value> {
    let n = small_len(u, 2)?;
    let mut list = Vec::new();
    for i in 0..n {
        let mut c = json!({"name": format!("c{i}"), "image": "nginx:1.27"});
        if u.ratio(1, 3)? {
            c["securityContext"] = json!({"privileged": u.arbitrary::<bool>()?});
        }
        if u.ratio(1, 3)? {
            let host_port = *u.choose(&[0, 8080, -1])?;
            c["ports"] = json!([{"containerPort": 80, "hostPort": host_port}]);
        }
        list.push(c);
    }
    Ok(Value::Array(list))
}

fn volumes(u: &mut Unstructured) -> Result<Value> {
    let n = small_len(u, 2)?;
    let mut list = Vec::new();
    for i in 0..n {
        list.push(if u.ratio(1, 2)? {
            json!({"name": format!("v{i}"), "hostPath": {"path": "/var/log"}})
        } else {
            json!({"name": format!("v{i}"), "emptyDir": {}})
        });
    }
    Ok(Value::Array(list))
}

fn pod_tolerations(u: &mut Unstructured) -> Result<Value> {
    let n = small_len(u, 3)?;
    let mut list = Vec::new();
    for _ in 0..n {
        let mut t = valid_toleration(u)?;
        if u.ratio(1, 8)? {
            t["zzFuture"] = json_value(u, 1)?;
        }
        list.push(t);
    }
    Ok(Value::Array(list))
}

/// A pod; its parts sometimes missing, `null` or of the wrong type, and
/// unknown fields (keys starting `zz`) at any depth.
pub fn pod(u: &mut Unstructured) -> Result<Value> {
    let mut pod = json!({"apiVersion": "v1", "kind": "Pod"});
    if u.ratio(31, 32)? {
        let mut m = Map::new();
        m.insert("name".into(), json!("p"));
        put(
            &mut m,
            "labels",
            slot(u, 8, |u| pod_string_map(u, LABEL_KEYS, LABEL_VALUES, 4))?,
        );
        let annotation_keys = &[
            "k8s.aliyun.com/eci-use-specs",
            "example.com/note",
            "team",
            "kubernetes.io/config.mirror",
        ];
        put(
            &mut m,
            "annotations",
            slot(u, 4, |u| {
                pod_string_map(u, annotation_keys, &["x", "2-4Gi"], 2)
            })?,
        );
        put(&mut m, "ownerReferences", slot(u, 2, owners)?);
        pod["metadata"] = Value::Object(m);
    } else if u.ratio(1, 2)? {
        pod["metadata"] = wrong(u)?;
    }
    if u.ratio(31, 32)? {
        let mut s = Map::new();
        put(
            &mut s,
            "nodeName",
            slot(u, 1, |u| Ok(json!(pick(u, &["", "node-1"])?)))?,
        );
        put(
            &mut s,
            "nodeSelector",
            slot(u, 6, |u| pod_string_map(u, NODE_KEYS, NODE_VALUES, 2))?,
        );
        put(&mut s, "tolerations", slot(u, 6, pod_tolerations)?);
        put(&mut s, "affinity", slot(u, 2, affinity)?);
        put(&mut s, "volumes", slot(u, 4, volumes)?);
        put(&mut s, "containers", slot(u, 6, containers)?);
        put(&mut s, "initContainers", slot(u, 2, containers)?);
        for flag in ["hostNetwork", "hostPID", "hostIPC"] {
            put(
                &mut s,
                flag,
                slot(u, 1, |u| Ok(json!(u.arbitrary::<bool>()?)))?,
            );
        }
        pod["spec"] = Value::Object(s);
    } else if u.ratio(1, 2)? {
        pod["spec"] = wrong(u)?;
    }
    let injections = small_len(u, 3)?;
    for _ in 0..injections {
        let mut pointers = Vec::new();
        object_pointers(&pod, String::new(), &mut pointers);
        let pointer = u.choose(&pointers)?.clone();
        let key = format!("zz{}", u.arbitrary::<String>()?);
        let value = if u.ratio(1, 8)? {
            // Deep: up to 100 levels.
            let depth = u.int_in_range(1..=100)?;
            (0..depth).fold(json_value(u, 0)?, |v, _| json!({ "zz": v }))
        } else {
            json_value(u, 3)?
        };
        if let Some(Value::Object(map)) = pod.pointer_mut(&pointer) {
            map.insert(key, value);
        }
    }
    Ok(pod)
}

/// Namespace labels, or a host error.
pub fn namespace_answer(
    u: &mut Unstructured,
) -> Result<std::result::Result<NamespaceLabels, String>> {
    Ok(if u.ratio(1, 8)? {
        Err(pick(
            u,
            &["namespaces \"team-a\" not found", "connection refused"],
        )?)
    } else {
        let n = small_len(u, 3)?;
        let mut labels = NamespaceLabels::new();
        for _ in 0..n {
            labels.insert(pick(u, LABEL_KEYS)?, pick(u, LABEL_VALUES)?);
        }
        Ok(labels)
    })
}

/// A few pods every compiled profile is tried on.
pub fn sample_pods() -> Vec<Value> {
    vec![
        json!({"metadata": {"labels": {"alibabacloud.com/eci": "true", "app": "a"}}, "spec": {"containers": [{"name": "c"}]}}),
        json!({"metadata": {"labels": {"tier": "a", "gpu": "true"}, "annotations": {"team": "mine"}}, "spec": {"tolerations": null}}),
        json!({"metadata": {}, "spec": {"nodeSelector": {"type": "virtual-kubelet"}}}),
        json!({"kind": "Pod"}),
    ]
}
