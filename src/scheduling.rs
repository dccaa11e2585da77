//! Sending a pod to a virtual node: the never-send rules, and the nodeSelector
//! pairs and tolerations to add (never duplicated).

use crate::json_path::{
    At, Joined, Json, JsonMap, Quoted, entry, field, item, object, object_entry, opt_array,
    opt_i64, opt_object, opt_str, unknown_field,
};
use crate::k8s_names::{label_key, label_value};
use crate::settings::VirtualNode;
use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum TolerationOperator {
    #[default]
    Equal,
    Exists,
}

/// A Kubernetes toleration. Empty `key`/`effect` mean "any", as in Kubernetes;
/// written into a pod, empty fields are left out.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Toleration {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub key: String,
    pub operator: TolerationOperator,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub effect: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toleration_seconds: Option<i64>,
}

const TOLERATION_FIELDS: &str = "key, operator, value, effect, tolerationSeconds";
const EFFECTS: [&str; 3] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

impl Toleration {
    /// Reads a toleration from a pod (`strict: false`) or from settings
    /// (`strict: true`: unknown fields refused); only types are checked here.
    pub fn from_json<J: Json>(raw: &J, path: At, strict: bool) -> Result<Toleration, String> {
        let map = object(raw, path)?;
        let mut t = Toleration::default();
        for (name, value) in map.entries() {
            let here = field(path, name);
            match name {
                "key" => t.key = opt_str(Some(value), &here)?.unwrap_or_default().into(),
                "value" => t.value = opt_str(Some(value), &here)?.unwrap_or_default().into(),
                "effect" => t.effect = opt_str(Some(value), &here)?.unwrap_or_default().into(),
                "operator" => {
                    t.operator = match opt_str(Some(value), &here)? {
                        None | Some("") | Some("Equal") => TolerationOperator::Equal,
                        Some("Exists") => TolerationOperator::Exists,
                        Some(other) => {
                            return Err(format!(
                                "{here}: {} is not one of Equal, Exists",
                                Quoted(other)
                            ));
                        }
                    }
                }
                "tolerationSeconds" => t.toleration_seconds = opt_i64(Some(value), &here)?,
                _ => {}
            }
        }
        // Settings must not carry unknown fields; pods may carry fields newer than this policy.
        if strict
            && let Some((unknown, _)) = map
                .entries()
                .find(|(k, _)| !TOLERATION_FIELDS.split(", ").any(|f| f == *k))
        {
            return Err(unknown_field(path, unknown, TOLERATION_FIELDS));
        }
        Ok(t)
    }

    /// Kubernetes' validation of a toleration, for the one in settings.
    pub fn check(&self) -> Result<(), String> {
        if self.key.is_empty() {
            if self.operator != TolerationOperator::Exists {
                return Err("operator must be Exists when key is empty".into());
            }
        } else {
            label_key(&self.key)?;
        }
        if self.operator == TolerationOperator::Exists && !self.value.is_empty() {
            return Err(format!(
                "value must be empty when operator is Exists, found {}",
                Quoted(self.value.as_str())
            ));
        }
        label_value(&self.value)?;
        if !self.effect.is_empty() && !EFFECTS.contains(&self.effect.as_str()) {
            return Err(format!(
                "effect {} is not one of NoSchedule, PreferNoSchedule, NoExecute",
                Quoted(self.effect.as_str())
            ));
        }
        if self.toleration_seconds.is_some() && self.effect != "NoExecute" {
            return Err("tolerationSeconds is only allowed with effect NoExecute".into());
        }
        Ok(())
    }

    /// Whether this toleration tolerates every taint that `other` tolerates,
    /// so that adding `other` next to it would change nothing.
    pub fn covers(&self, other: &Toleration) -> bool {
        let exists = self.operator == TolerationOperator::Exists;
        // An empty key with Exists tolerates every key.
        let key = (exists && self.key.is_empty()) || self.key == other.key;
        let value =
            exists || (other.operator == TolerationOperator::Equal && self.value == other.value);
        let effect = self.effect.is_empty() || self.effect == other.effect;
        // A time limit only tolerates as long as it says.
        let seconds = match (self.toleration_seconds, other.toleration_seconds) {
            (Some(mine), theirs) => theirs.is_some_and(|theirs| mine >= theirs),
            (None, _) => true,
        };
        key && value && effect && seconds
    }
}

/// Why this pod must never be sent to a virtual node, one reason per entry
/// (empty: it may be sent). Each reason completes "pod not sent to a virtual node: …".
pub fn never_send_reasons(
    pod: &Map<String, Value>,
    vn: &VirtualNode,
) -> Result<Vec<String>, String> {
    let mut reasons = Vec::new();
    let metadata = opt_object(pod.get("metadata"), "metadata")?;
    let spec = opt_object(pod.get("spec"), "spec")?;

    let owners = metadata.and_then(|m| m.get("ownerReferences"));
    let owners = opt_array(owners, "metadata.ownerReferences")?;
    for (i, owner) in owners.unwrap_or_default().iter().enumerate() {
        let here = item("metadata.ownerReferences", i);
        let owner = opt_object(Some(owner), &here)?;
        let kind = opt_str(owner.and_then(|o| o.get("kind")), field(&here, "kind"))?;
        if kind == Some("DaemonSet") {
            let name =
                opt_str(owner.and_then(|o| o.get("name")), field(&here, "name"))?.unwrap_or("");
            reasons.push(format!(
                "it is owned by DaemonSet \"{name}\", and DaemonSet pods cannot run on virtual nodes"
            ));
            break;
        }
    }

    let annotations = metadata.and_then(|m| m.get("annotations"));
    let annotations = opt_object(annotations, "metadata.annotations")?;
    if annotations.is_some_and(|a| a.contains_key("kubernetes.io/config.mirror")) {
        reasons.push("it is a mirror pod of a static pod".into());
    }

    if let Some(node) = opt_str(spec.and_then(|s| s.get("nodeName")), "spec.nodeName")?
        && !node.is_empty()
    {
        reasons.push(format!("spec.nodeName is already \"{node}\""));
    }

    let node_selector = spec.and_then(|s| s.get("nodeSelector"));
    let node_selector = opt_object(node_selector, "spec.nodeSelector")?;
    for (key, want) in &vn.node_selector {
        if let Some(have) = node_selector.and_then(|ns| ns.get(key)) {
            let have = opt_str(Some(have), entry("spec.nodeSelector", key))?.unwrap_or("");
            if have != want {
                reasons.push(format!(
                    "spec.nodeSelector[\"{key}\"] is \"{have}\", but virtual nodes are labelled {key}={want}"
                ));
            }
        }
    }

    if let Some(reason) = affinity_excludes_virtual_nodes(spec, vn)? {
        reasons.push(reason);
    }
    Ok(reasons)
}

/// Whether no node labelled with the virtual node's labels can satisfy the pod's
/// required node affinity. Only expressions on those label keys can be decided;
/// expressions on other keys or on fields are assumed satisfiable.
fn affinity_excludes_virtual_nodes(
    spec: Option<&Map<String, Value>>,
    vn: &VirtualNode,
) -> Result<Option<String>, String> {
    const BASE: &str = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution";
    let affinity = opt_object(spec.and_then(|s| s.get("affinity")), "spec.affinity")?;
    let node_affinity = affinity.and_then(|a| a.get("nodeAffinity"));
    let node_affinity = opt_object(node_affinity, "spec.affinity.nodeAffinity")?;
    let Some(required) = opt_object(
        node_affinity.and_then(|n| n.get("requiredDuringSchedulingIgnoredDuringExecution")),
        BASE,
    )?
    else {
        return Ok(None);
    };
    let terms_path = field(BASE, "nodeSelectorTerms");
    let terms = opt_array(required.get("nodeSelectorTerms"), &terms_path)?.unwrap_or_default();
    if terms.is_empty() {
        return Ok(None);
    }
    let mut why = Vec::with_capacity(terms.len());
    for (t, term) in terms.iter().enumerate() {
        let here = item(&terms_path, t);
        let term = opt_object(Some(term), &here)?;
        let exprs_path = field(&here, "matchExpressions");
        let exprs = opt_array(term.and_then(|m| m.get("matchExpressions")), &exprs_path)?
            .unwrap_or_default();
        let fields = term.and_then(|m| m.get("matchFields"));
        let fields = opt_array(fields, field(&here, "matchFields"))?.unwrap_or_default();
        if exprs.is_empty() && fields.is_empty() {
            why.push(format!("term {t}: empty term matches no node"));
            continue;
        }
        let mut failing = None;
        for (e, expr) in exprs.iter().enumerate() {
            if let Some(text) = expression_excludes(expr, &item(&exprs_path, e), vn)? {
                failing = Some(text);
                break;
            }
        }
        match failing {
            Some(text) => why.push(format!("term {t}: {text}")),
            // This term can match a virtual node: the pod may go there.
            None => return Ok(None),
        }
    }
    let labels: Vec<String> = vn
        .node_selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    Ok(Some(format!(
        "its required node affinity excludes nodes labelled {} ({})",
        Joined(&labels, ","),
        Joined(&why, "; ")
    )))
}

/// `Some(description)` when this node selector requirement fails on every virtual node.
fn expression_excludes(expr: &Value, path: At, vn: &VirtualNode) -> Result<Option<String>, String> {
    let expr = opt_object(Some(expr), path)?;
    let key = opt_str(expr.and_then(|e| e.get("key")), field(path, "key"))?.unwrap_or("");
    let op = expr.and_then(|e| e.get("operator"));
    let op = opt_str(op, field(path, "operator"))?.unwrap_or("");
    let values_path = field(path, "values");
    let raw_values =
        opt_array(expr.and_then(|e| e.get("values")), &values_path)?.unwrap_or_default();
    let mut values = Vec::with_capacity(raw_values.len());
    for (i, v) in raw_values.iter().enumerate() {
        values.push(opt_str(Some(v), item(&values_path, i))?.unwrap_or(""));
    }
    let Some((_, node_value)) = vn.node_selector.iter().find(|(k, _)| k == key) else {
        return Ok(None);
    };
    let node_value = node_value.as_str();
    let satisfied = match op {
        "In" => values.contains(&node_value),
        "NotIn" => !values.contains(&node_value),
        "Exists" => true,
        "DoesNotExist" => false,
        "Gt" | "Lt" => {
            let (Ok(node), Some(Ok(bound))) = (
                node_value.parse::<i64>(),
                values.first().map(|v| v.parse::<i64>()),
            ) else {
                return Ok(Some(format!("{key} {op} {values:?}")));
            };
            if op == "Gt" {
                node > bound
            } else {
                node < bound
            }
        }
        // Unknown operators are the API server's to refuse.
        _ => true,
    };
    Ok((!satisfied).then(|| format!("{key} {op} [{}]", Joined(&values, " "))))
}

/// Adds the virtual node's nodeSelector pairs and tolerations the pod lacks.
/// Returns what was added, for the report. The pod was checked by
/// [`never_send_reasons`], so no pair conflicts.
pub fn schedule(pod: &mut Map<String, Value>, vn: &VirtualNode) -> Result<Vec<Addition>, String> {
    let mut added = Vec::new();
    let spec = object_entry(pod, "spec", "spec")?;
    let node_selector = object_entry(spec, "nodeSelector", "spec.nodeSelector")?;
    for (key, value) in &vn.node_selector {
        if !node_selector.contains_key(key) {
            node_selector.insert(key.clone(), value.clone().into());
            added.push(Addition::NodeSelector(key.clone(), value.clone()));
        }
    }
    let mut existing = Vec::new();
    let current = opt_array(spec.get("tolerations"), "spec.tolerations")?.unwrap_or_default();
    for (i, t) in current.iter().enumerate() {
        let t = Toleration::from_json(t, &item("spec.tolerations", i), false)?;
        existing.push(t);
    }
    let mut missing = Vec::new();
    for wanted in &vn.tolerations {
        if !existing.iter().any(|t| t.covers(wanted)) {
            missing.push(serde_json::to_value(wanted).map_err(|e| e.to_string())?);
            existing.push(wanted.clone());
        }
    }
    // The list is created only when something goes into it.
    if !missing.is_empty() {
        let slot = spec.entry("tolerations").or_insert(Value::Null);
        if slot.is_null() {
            *slot = Value::Array(Vec::new());
        }
        if let Value::Array(items) = slot {
            for t in missing {
                items.push(t.clone());
                added.push(Addition::Toleration(t));
            }
        }
    }
    Ok(added)
}

/// One thing the policy wrote into the pod, for reports and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addition {
    NodeSelector(String, String),
    Toleration(Value),
    Label(String, String),
    Annotation(String, String),
}

#[cfg(test)]
mod tests;
