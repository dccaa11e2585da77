//! Which selectors matched, in which order, and what each added — computed by
//! the policy's own decision core compiled for the host, from the same
//! settings, request and namespace fixture the `.wasm` was given, and checked
//! against the `.wasm`'s answer so the explanation can never drift from it.

use crate::host::{Answer, Cluster};
use eci_profile::evaluate::{Decision, NamespaceLabels, Source, Verdict, evaluate_pod};
use eci_profile::scheduling::Addition;
use eci_profile::settings::{Profile, Selector};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// One selector's part in the decision.
pub struct SelectorLine {
    pub index: usize,
    pub name: String,
    pub what: String,
    pub outcome: String,
    pub added: Vec<String>,
}

pub struct Explanation {
    pub selectors: Vec<SelectorLine>,
    /// What "send to a virtual node" added.
    pub virtual_node: Vec<String>,
    /// The native decision, to compare with the module's answer.
    pub decision: Decision,
}

/// Explains the decision for `request` (an AdmissionRequest) under `settings`.
/// `None` when the request is out of scope or the settings are invalid (the
/// module's answer says why).
pub fn explain(settings: &Value, request: &Value, cluster: &Cluster) -> Option<Explanation> {
    let profile = Profile::from_settings(settings).ok()?;
    let s = |p: &str| request.pointer(p).and_then(Value::as_str).unwrap_or("");
    if !eci_profile::evaluate::applies_to(
        s("/kind/group"),
        s("/kind/kind"),
        s("/operation"),
        s("/subResource"),
    ) {
        return None;
    }
    let pod = request.get("object")?.clone();
    let namespace = match s("/namespace") {
        "" => pod
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        ns => ns.to_string(),
    };
    let ns_labels = namespace_labels(cluster, &namespace);
    let pod_labels = pod
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or(json!({}));
    let decision = evaluate_pod(&profile, pod, &namespace, |_| ns_labels.clone());

    let mut added: BTreeMap<Option<usize>, Vec<String>> = BTreeMap::new();
    for (source, addition) in &decision.report.additions {
        let key = match source {
            Source::VirtualNode => None,
            Source::Selector(i) => Some(*i),
        };
        added.entry(key).or_default().push(render(addition));
    }
    let selectors = profile
        .selectors
        .iter()
        .enumerate()
        .map(|(i, selector)| SelectorLine {
            index: i,
            name: selector.name.clone(),
            what: describe(selector),
            outcome: outcome(i, selector, &decision, &pod_labels, ns_labels.as_ref().ok()),
            added: added.remove(&Some(i)).unwrap_or_default(),
        })
        .collect();
    Some(Explanation {
        selectors,
        virtual_node: added.remove(&None).unwrap_or_default(),
        decision,
    })
}

impl Explanation {
    /// Whether the native decision gives the same mutated object and warnings as the module.
    pub fn agrees_with(&self, mutated_object: Option<&Value>, warnings: &[String]) -> bool {
        let native = match &self.decision.verdict {
            Verdict::Mutate(pod) => Some(pod),
            _ => None,
        };
        native == mutated_object && self.decision.warnings == warnings
    }

    pub fn to_text(&self) -> String {
        let mut out = String::from("Selectors, in priority order:\n");
        for line in &self.selectors {
            out.push_str(&format!(
                "  [{}] {} — {}\n      {}\n",
                line.index, line.name, line.what, line.outcome
            ));
            for a in &line.added {
                out.push_str(&format!("      + {a}\n"));
            }
        }
        if !self.virtual_node.is_empty() {
            out.push_str("Sent to a virtual node:\n");
            for a in &self.virtual_node {
                out.push_str(&format!("  + {a}\n"));
            }
        }
        out
    }

    pub fn to_json(&self) -> Value {
        json!({
            "selectors": self.selectors.iter().map(|l| json!({
                "index": l.index, "name": l.name, "selects": l.what, "outcome": l.outcome, "added": l.added,
            })).collect::<Vec<_>>(),
            "virtualNode": self.virtual_node,
            "namespaceLookups": self.decision.report.namespace_lookups,
        })
    }
}

fn namespace_labels(cluster: &Cluster, name: &str) -> Result<NamespaceLabels, String> {
    match cluster.answer(name) {
        Answer::Found(ns) => Ok(ns
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default()),
        Answer::NotFound => Err(crate::host::not_found_text("Namespace", name, None)),
        Answer::Error(text) => Err(text),
        Answer::Malformed(_) => Err("malformed answer".into()),
    }
}

fn describe(selector: &Selector) -> String {
    let mut parts = Vec::new();
    if let Some(ns) = &selector.namespace_selector {
        parts.push(format!("namespace {ns}"));
    }
    if let Some(obj) = &selector.object_selector {
        parts.push(format!("pod {obj}"));
    }
    if parts.is_empty() {
        "effect only (every ECI-bound pod)".into()
    } else {
        parts.join(" and ")
    }
}

fn outcome(
    i: usize,
    selector: &Selector,
    decision: &Decision,
    pod_labels: &Value,
    ns_labels: Option<&NamespaceLabels>,
) -> String {
    let bound = !decision.report.matched.is_empty() || !decision.report.additions.is_empty();
    if !selector.is_scheduling() {
        return if bound {
            "applies: the pod is ECI-bound"
        } else {
            "does not apply: the pod is not ECI-bound"
        }
        .into();
    }
    if decision.report.matched.contains(&i) {
        return "matched".into();
    }
    if selector.effect.is_empty() && decision.report.matched.iter().any(|&j| j < i) {
        return "not needed: an earlier selector matched and this one has no effect".into();
    }
    let labels = pod_labels.as_object().cloned().unwrap_or_default();
    let object = selector
        .object_selector
        .as_ref()
        .map(|s| s.matches(&labels));
    let namespace = match (&selector.namespace_selector, ns_labels) {
        (Some(s), Some(labels)) => Some(Some(s.matches(labels))),
        (Some(_), None) => Some(None),
        (None, _) => None,
    };
    match (object, namespace) {
        (Some(false), _) => "no match: the pod's labels do not match".into(),
        (_, Some(Some(false))) => "no match: the namespace's labels do not match".into(),
        (_, Some(None)) => "not decided: the namespace could not be read".into(),
        _ => "not reached".into(),
    }
}

fn render(addition: &Addition) -> String {
    match addition {
        Addition::NodeSelector(k, v) => format!("spec.nodeSelector {k}={v}"),
        Addition::Toleration(t) => format!("spec.tolerations {t}"),
        Addition::Label(k, v) => format!("label {k}={v}"),
        Addition::Annotation(k, v) => format!("annotation {k}={v}"),
    }
}
