//! The decision for one admission request: a pure function of the compiled
//! settings, the pod's raw JSON and a way to read the namespace's labels.
//! `lib.rs` passes the real host capability; tests pass a closure.

use crate::effects::apply_effect;
use crate::json_path::{Json, JsonMap, opt_object, opt_string_map, show};
use crate::label_selector::Labels;
use crate::scheduling::{Addition, never_send_reasons, schedule};
use crate::settings::{OnLookupError, Profile, VirtualNode};
use crate::warnings::{PREFIX, eci_unsupported, first_line};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A namespace's labels, as read through the host.
pub type NamespaceLabels = BTreeMap<String, String>;

/// What the policy answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Accept unchanged (no mutated object).
    Accept,
    /// Accept with this mutated object.
    Mutate(Value),
    /// Reject with this message.
    Reject(String),
}

/// Where an addition came from: the virtual node target, or a selector (by index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    VirtualNode,
    Selector(usize),
}

/// How the decision was reached, for the harness's explanations and for tests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Scheduling selectors that matched, by index, in settings order.
    pub matched: Vec<usize>,
    /// Everything written into the pod, in the order written.
    pub additions: Vec<(Source, Addition)>,
    /// How many times the namespace was read (0 or 1).
    pub namespace_lookups: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub verdict: Verdict,
    pub warnings: Vec<String>,
    pub report: Report,
}

/// Only the creation of a Pod is mutated (not its subresources, not updates).
pub fn applies_to(group: &str, kind: &str, operation: &str, sub_resource: &str) -> bool {
    group.is_empty() && kind == "Pod" && operation == "CREATE" && sub_resource.is_empty()
}

/// Reads a namespace's labels: through the host, or in tests a closure.
pub trait Lookup: FnOnce(&str) -> Result<NamespaceLabels, String> {}
impl<F: FnOnce(&str) -> Result<NamespaceLabels, String>> Lookup for F {}

/// Reads the namespace's labels at most once, and only when first needed.
struct Namespace<'a, F> {
    name: &'a str,
    lookup: Option<F>,
    labels: Option<Result<NamespaceLabels, String>>,
}

impl<'a, F: Lookup> Namespace<'a, F> {
    fn new(name: &'a str, lookup: F) -> Self {
        Namespace {
            name,
            lookup: Some(lookup),
            labels: None,
        }
    }

    fn labels(&mut self, report: &mut Report) -> Result<&NamespaceLabels, String> {
        let (name, lookup) = (self.name, &mut self.lookup);
        let labels = self.labels.get_or_insert_with(|| match lookup.take() {
            _ if name.is_empty() => Err("the request names no namespace".to_string()),
            Some(lookup) => {
                report.namespace_lookups += 1;
                lookup(name)
            }
            None => Err("no namespace lookup available".to_string()),
        });
        labels.as_ref().map_err(Clone::clone)
    }
}

enum Stop {
    Lookup(String),
    Malformed(String),
}

impl From<String> for Stop {
    fn from(e: String) -> Self {
        Stop::Malformed(e)
    }
}

/// Evaluates the creation of `pod` in namespace `namespace`.
///
/// ```
/// use eci_profile::{evaluate::{evaluate_pod, Verdict}, settings::Profile};
/// use serde_json::json;
/// let pod = json!({"metadata": {"labels": {"alibabacloud.com/eci": "true"}}, "spec": {}});
/// let d = evaluate_pod(&Profile::default(), pod, "default", |_| Ok(Default::default()));
/// let Verdict::Mutate(out) = d.verdict else { panic!() };
/// assert_eq!(out["spec"]["nodeSelector"], json!({"type": "virtual-kubelet"}));
/// ```
pub fn evaluate_pod<F: Lookup>(
    profile: &Profile,
    pod: Value,
    namespace: &str,
    lookup: F,
) -> Decision {
    let mut report = Report::default();
    let mut ns = Namespace::new(namespace, lookup);
    let mut warnings = Vec::new();
    let outcome = decide(profile, pod, &mut ns, &mut report, &mut warnings);
    if outcome.is_err() {
        // The pod goes back unchanged: nothing an earlier round wrote or warned stands.
        report.additions.clear();
        warnings.clear();
    }
    let verdict = match outcome {
        Ok(verdict) => verdict,
        Err(Stop::Malformed(e)) => Verdict::Reject(format!("{PREFIX}cannot read the pod: {e}")),
        Err(Stop::Lookup(reason)) => {
            let reason = first_line(&reason);
            let text = format!("cannot read namespace \"{namespace}\": {reason}");
            let (verdict, warned) = unreadable(profile.on_namespace_lookup_error, &text);
            warnings = warned;
            verdict
        }
    };
    Decision {
        verdict,
        warnings,
        report,
    }
}

/// The answer when something the decision needs cannot be read (the
/// namespace, or the live profile's ConfigMap): the pod unchanged with one
/// warning (`Ignore`), or refused (`Fail`), with the same text.
pub fn unreadable(on_error: OnLookupError, problem: &str) -> (Verdict, Vec<String>) {
    match on_error {
        OnLookupError::Ignore => (
            Verdict::Accept,
            vec![format!("{PREFIX}pod left unchanged: {problem}")],
        ),
        OnLookupError::Fail => (Verdict::Reject(format!("{PREFIX}{problem}")), Vec::new()),
    }
}

fn decide<F: Lookup>(
    profile: &Profile,
    mut pod: Value,
    ns: &mut Namespace<'_, F>,
    report: &mut Report,
    warnings: &mut Vec<String>,
) -> Result<Verdict, Stop> {
    let Some(object) = pod.as_object_mut() else {
        let found = show(&pod);
        return Err(Stop::Malformed(format!(
            "the object is not a mapping: {found}"
        )));
    };
    let vn = &profile.virtual_node;
    let mut matched = match_scheduling(profile, object, ns, report)?;
    report.matched.clone_from(&matched);
    // Read (and check) the nodeSelector whatever matched, so that a malformed one
    // gets the same answer on every evaluation of the pod.
    let asks_for_virtual_node = node_selector_bound(object, vn)?;
    if matched.is_empty() && !asks_for_virtual_node {
        return Ok(Verdict::Accept);
    }

    let reasons = never_send_reasons(object, vn)?;
    if !reasons.is_empty() {
        warnings.extend(
            reasons
                .into_iter()
                .map(|r| format!("{PREFIX}pod not sent to a virtual node: {r}")),
        );
        return Ok(Verdict::Accept);
    }
    warnings.extend(eci_unsupported(object)?);

    // Effect labels can make further selectors match; repeat until nothing
    // changes, so that evaluating the result again changes nothing either.
    let mut changed = false;
    for _round in 0..=profile.selectors.len() {
        let before = report.additions.len();
        if !matched.is_empty() {
            for added in schedule(object, vn)? {
                report.additions.push((Source::VirtualNode, added));
            }
        }
        let bound = !matched.is_empty() || node_selector_bound(object, vn)?;
        for (i, selector) in profile.selectors.iter().enumerate() {
            let applies = if selector.is_scheduling() {
                matched.contains(&i)
            } else {
                bound
            };
            if applies {
                for added in apply_effect(object, &selector.effect)? {
                    report.additions.push((Source::Selector(i), added));
                }
            }
        }
        if report.additions.len() == before {
            break;
        }
        changed = true;
        let now_matched = match_scheduling(profile, object, ns, report)?;
        // The same selectors again would only find their additions present.
        if now_matched == matched {
            break;
        }
        matched = now_matched;
        for &i in &matched {
            if !report.matched.contains(&i) {
                report.matched.push(i);
            }
        }
        report.matched.sort_unstable();
    }
    Ok(if changed {
        Verdict::Mutate(pod)
    } else {
        Verdict::Accept
    })
}

/// `metadata.labels`, checking that every value is a string.
fn pod_labels(pod: &Map<String, Value>) -> Result<Option<&Map<String, Value>>, String> {
    let metadata = opt_object(pod.get("metadata"), "metadata")?;
    string_map(metadata.and_then(|m| m.get("labels")), "metadata.labels")
}

/// [`opt_string_map`], without building a path for every entry when all
/// values are strings (the usual case): that costs microseconds per label.
fn string_map<'a>(
    value: Option<&'a Value>,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, String> {
    match value {
        Some(Value::Object(map)) if map.values().all(Value::is_string) => Ok(Some(map)),
        other => opt_string_map(other, path),
    }
}

/// The scheduling selectors that match, in settings order. The objectSelector
/// is tried first; the namespace is read only when a selector still depends on
/// it, and a selector without effect is skipped once the pod is already matched
/// (it could change nothing).
fn match_scheduling<F: Lookup>(
    profile: &Profile,
    pod: &Map<String, Value>,
    ns: &mut Namespace<'_, F>,
    report: &mut Report,
) -> Result<Vec<usize>, Stop> {
    match_labels(profile, &pod_labels(pod)?, ns, report, false)
}

/// [`match_scheduling`] on labels however they were read; with `first_only`
/// it stops at the first match (the lookups it makes are then a prefix of
/// those of the full walk).
fn match_labels<F: Lookup>(
    profile: &Profile,
    labels: &impl Labels,
    ns: &mut Namespace<'_, F>,
    report: &mut Report,
    first_only: bool,
) -> Result<Vec<usize>, Stop> {
    let mut matched = Vec::new();
    for (i, selector) in profile.selectors.iter().enumerate() {
        if !selector.is_scheduling() || (!matched.is_empty() && selector.effect.is_empty()) {
            continue;
        }
        if let Some(object) = &selector.object_selector
            && !object.matches(labels)
        {
            continue;
        }
        if let Some(namespace) = &selector.namespace_selector {
            let ns_labels = ns.labels(report).map_err(Stop::Lookup)?;
            if !namespace.matches(ns_labels) {
                continue;
            }
        }
        matched.push(i);
        if first_only {
            break;
        }
    }
    Ok(matched)
}

/// What [`screen`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Screen {
    /// No scheduling selector matches and the nodeSelector does not ask for
    /// a virtual node: [`evaluate_pod`] would accept the pod unchanged,
    /// without warnings.
    Accept,
    /// The pod needs [`evaluate_pod`]. Carries the namespace lookup made
    /// while screening, if one was made, so that the request still reads
    /// the namespace at most once.
    Evaluate(Option<Result<NamespaceLabels, String>>),
}

/// Decides from the pod's labels and nodeSelector alone (as read from
/// `metadata.labels` and `spec.nodeSelector`, every value a string) whether
/// the pod can be accepted unchanged without building and walking the whole
/// pod: most pods of a cluster match no selector.
pub fn screen<F: Lookup>(
    profile: &Profile,
    labels: &impl Labels,
    node_selector: Option<&impl Labels>,
    namespace: &str,
    lookup: F,
) -> Screen {
    let mut report = Report::default();
    let mut ns = Namespace::new(namespace, lookup);
    let unmatched = matches!(
        match_labels(profile, labels, &mut ns, &mut report, true),
        Ok(matched) if matched.is_empty()
    );
    if unmatched && !node_selector.is_some_and(|n| bound_by(n, &profile.virtual_node)) {
        Screen::Accept
    } else {
        Screen::Evaluate(ns.labels)
    }
}

/// Whether a nodeSelector holds every `virtualNode.nodeSelector` pair.
fn bound_by(node_selector: &impl Labels, vn: &VirtualNode) -> bool {
    vn.node_selector
        .iter()
        .all(|(k, v)| node_selector.label(k) == Some(v.as_str()))
}

/// The pod already asks for a virtual node: its nodeSelector holds every pair.
fn node_selector_bound(pod: &Map<String, Value>, vn: &VirtualNode) -> Result<bool, String> {
    let spec = opt_object(pod.get("spec"), "spec")?;
    let node_selector = spec.and_then(|s| s.get("nodeSelector"));
    let node_selector = string_map(node_selector, "spec.nodeSelector")?;
    Ok(node_selector.is_some_and(|ns| bound_by(ns, vn)))
}

/// The labels of the host's answer to a Namespace look-up. Only
/// `metadata.labels` is read, as a JSON tree (borrowed, like settings): what
/// is wrong is said with its path, and parts the policy does not read, such
/// as fields newer than this policy, cannot make the look-up fail.
pub fn namespace_labels(answer: &[u8]) -> Result<NamespaceLabels, String> {
    let not_a_namespace = |why: String| format!("the host's answer is not a Namespace: {why}");
    let namespace: serde_json_borrow::Value =
        serde_json::from_slice(answer).map_err(|e| not_a_namespace(e.to_string()))?;
    let Some(namespace) = namespace.as_map() else {
        return Err(not_a_namespace(format!("found {}", show(&namespace))));
    };
    let metadata = opt_object(namespace.lookup("metadata"), "metadata").map_err(not_a_namespace)?;
    let labels = opt_string_map(metadata.and_then(|m| m.lookup("labels")), "metadata.labels")
        .map_err(not_a_namespace)?;
    Ok(labels
        .into_iter()
        .flat_map(JsonMap::entries)
        .map(|(k, v)| (k.to_owned(), v.as_str().unwrap_or_default().to_owned()))
        .collect())
}

#[cfg(test)]
mod tests;
