//! Policy settings: parsed from raw JSON, checked once, compiled into a
//! [`Profile`]. Evaluation only ever sees a `Profile`, so it cannot meet an
//! invalid selector. Every error is a path and a value, e.g.
//! `selectors[2] "gpu": effect.labels["team"]: value "has space" is not a valid label value: …`.

use crate::cluster_params::cluster_param;
use crate::eci_annotations::check_annotation;
use crate::json_path::{
    Json, JsonMap, PairCheck, Quoted, field, item, mapping_or_error, object, opt_array, opt_str,
    or_push, setting_pairs, show, unknown_field,
};
use crate::k8s_names::{annotation_key, is_dns_label, is_dns_subdomain_name, label_pair};
use crate::label_selector::LabelSelector;
use crate::scheduling::{Toleration, TolerationOperator};
pub use read::Checked;
use read::Tree;
pub(crate) use read::compile_selectors;
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// The label eci-profile's built-in selectors look for, on pods and on namespaces.
pub const ECI_LABEL: &str = "alibabacloud.com/eci";

/// Settings errors, all of them, in the order found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError(pub Vec<String>);

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::json_path::Joined(&self.0, "; ").fmt(f)
    }
}

impl std::error::Error for SettingsError {}

/// What to do when the namespace's labels (`onNamespaceLookupError`) or the
/// live profile (`onProfileError`) cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnLookupError {
    /// Accept the pod unchanged with a warning (eci-profile's `failurePolicy: Ignore`).
    #[default]
    Ignore,
    /// Reject the pod with the reason.
    Fail,
}

/// Annotations and labels a selector adds, in the order written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Effect {
    pub annotations: Vec<(String, String)>,
    pub labels: Vec<(String, String)>,
}

impl Effect {
    pub fn is_empty(&self) -> bool {
        self.annotations.is_empty() && self.labels.is_empty()
    }
}

/// One compiled selector.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    pub name: String,
    pub namespace_selector: Option<LabelSelector>,
    pub object_selector: Option<LabelSelector>,
    pub effect: Effect,
}

impl Selector {
    /// A selector with a namespace or object selector schedules pods;
    /// one with neither only adds its effect to ECI-bound pods.
    pub fn is_scheduling(&self) -> bool {
        self.namespace_selector.is_some() || self.object_selector.is_some()
    }
}

/// What "send to a virtual node" writes into a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualNode {
    pub node_selector: Vec<(String, String)>,
    pub tolerations: Vec<Toleration>,
}

impl Default for VirtualNode {
    /// Fits ACK/ECI virtual-kubelet and Azure ACI virtual nodes alike.
    fn default() -> Self {
        VirtualNode {
            node_selector: vec![("type".into(), "virtual-kubelet".into())],
            tolerations: vec![Toleration {
                key: "virtual-kubelet.io/provider".into(),
                operator: TolerationOperator::Exists,
                value: String::new(),
                effect: "NoSchedule".into(),
                toleration_seconds: None,
            }],
        }
    }
}

/// The eci-profile ConfigMap a live profile is read from (`configMapRef`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigMapRef {
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for ConfigMapRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Compiled settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// With `config_map`, empty here: `live_profile` fills them per request.
    pub selectors: Vec<Selector>,
    pub virtual_node: VirtualNode,
    pub on_namespace_lookup_error: OnLookupError,
    pub config_map: Option<ConfigMapRef>,
    pub on_profile_error: OnLookupError,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            selectors: default_selectors(),
            virtual_node: VirtualNode::default(),
            on_namespace_lookup_error: OnLookupError::Ignore,
            config_map: None,
            on_profile_error: OnLookupError::Ignore,
        }
    }
}

/// The eci-profile component's own defaults: pod label, then namespace label.
pub fn default_selectors() -> Vec<Selector> {
    vec![
        Selector {
            name: "default-pod-selector".into(),
            object_selector: Some(LabelSelector::match_labels(&[(ECI_LABEL, "true")])),
            ..Selector::default()
        },
        Selector {
            name: "default-namespace-selector".into(),
            namespace_selector: Some(LabelSelector::match_labels(&[(ECI_LABEL, "true")])),
            ..Selector::default()
        },
    ]
}

const TOP_FIELDS: &str =
    "selectors, configMapRef, virtualNode, onNamespaceLookupError, onProfileError";
const SELECTOR_FIELDS: &str = "name, namespaceSelector, objectSelector, effect";

impl Profile {
    /// Checks and compiles settings held as a `serde_json::Value` (tests,
    /// tools), read as `validate` reads their text: through [`Checked`].
    /// `null` and `{}` give the defaults.
    pub fn from_settings(settings: &serde_json::Value) -> Result<Profile, SettingsError> {
        match Checked::deserialize(settings) {
            Ok(Checked(checked)) => checked,
            Err(e) => Err(SettingsError(vec![format!("settings: {e}")])),
        }
    }

    /// One top-level field other than `selectors`, which [`read`] reads a
    /// selector at a time.
    fn compile_field(&mut self, key: &str, value: &Tree, errors: &mut Vec<String>) {
        match key {
            "virtualNode" => self.virtual_node = compile_virtual_node(value, errors),
            "configMapRef" => self.config_map = compile_config_map_ref(value, errors),
            "onNamespaceLookupError" => {
                self.on_namespace_lookup_error = on_error(value, key, errors);
            }
            "onProfileError" => self.on_profile_error = on_error(value, key, errors),
            other => errors.push(match cluster_param(other) {
                Some(param) => match param.annotation {
                    Some(annotation) => format!(
                        "settings: \"{other}\" is a cluster-level parameter of the eci-profile ConfigMap; it belongs to virtual-kubelet, not to this policy. To do the same per pod, add the annotation \"{annotation}\" in a selector's effect"
                    ),
                    None => format!(
                        "settings: \"{other}\" is a cluster-level parameter of the eci-profile ConfigMap; it belongs to virtual-kubelet, not to this policy, and has no per-pod equivalent"
                    ),
                },
                None => unknown_field("settings", other, TOP_FIELDS),
            }),
        }
    }

    /// The checks across fields, once every field is read; `errors` are the
    /// fields' own, in key order.
    fn finish(
        mut self,
        mut errors: Vec<String>,
        has_selectors: bool,
    ) -> Result<Profile, SettingsError> {
        if self.config_map.is_some() {
            if has_selectors {
                errors.push(
                    "settings: configMapRef and selectors cannot be used together: with configMapRef, the selectors are the ConfigMap's data.selectors".into(),
                );
            }
            // Read from the ConfigMap on each request (live_profile).
            self.selectors = Vec::new();
        }
        errors
            .is_empty()
            .then_some(self)
            .ok_or(SettingsError(errors))
    }
}

fn on_error<J: Json>(value: &J, key: &str, errors: &mut Vec<String>) -> OnLookupError {
    match value.as_str() {
        Some("Ignore") => OnLookupError::Ignore,
        Some("Fail") => OnLookupError::Fail,
        _ => {
            errors.push(format!("{key}: {} is not one of Ignore, Fail", show(value)));
            OnLookupError::Ignore
        }
    }
}

/// `configMapRef`: the namespace and name of an existing ConfigMap.
fn compile_config_map_ref<J: Json>(value: &J, errors: &mut Vec<String>) -> Option<ConfigMapRef> {
    const PATH: &str = "configMapRef";
    let map = mapping_or_error(value, PATH, errors)?;
    let before = errors.len();
    let mut read = |key: &str, example: &str, valid: fn(&str) -> bool, rule: &str| {
        let here = field(PATH, key);
        let text = opt_str(map.lookup(key), &here).and_then(|text| match text {
            None | Some("") => Err(format!("{here}: required (for example \"{example}\")")),
            Some(text) if !valid(text) => Err(format!(
                "{here}: {} is not a valid {key}: {rule}",
                Quoted(text)
            )),
            Some(text) => Ok(text.to_owned()),
        });
        or_push(text, errors).unwrap_or_default()
    };
    let namespace = read(
        "namespace",
        "kube-system",
        is_dns_label,
        "lowercase letters, digits and '-', at most 63 characters",
    );
    let name = read(
        "name",
        "eci-profile",
        is_dns_subdomain_name,
        "lowercase letters, digits, '-' and '.', at most 253 characters",
    );
    for (key, _) in map.entries() {
        if !matches!(key, "namespace" | "name") {
            errors.push(unknown_field(PATH, key, "namespace, name"));
        }
    }
    (errors.len() == before).then_some(ConfigMapRef { namespace, name })
}

/// A selector name as duplicates are found: ignoring ASCII case (Unicode
/// case tables would cost 18 KB of module for names that are, in practice,
/// Kubernetes-style ASCII); borrowed when already lower case.
fn name_key(name: &str) -> Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

/// How errors name a selector: by position and, once known, by name.
struct Who<'a> {
    index: usize,
    name: Option<&'a str>,
}

impl fmt::Display for Who<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "selectors[{}]", self.index)?;
        match self.name {
            Some(name) => write!(f, " {}", Quoted(name)),
            None => Ok(()),
        }
    }
}

/// One selector; `earlier` is the selector that already has its name
/// (ignoring case), by index and as written.
fn compile_selector<J: Json>(
    raw: &J,
    index: usize,
    earlier: Option<(usize, &str)>,
    errors: &mut Vec<String>,
) -> Option<Selector> {
    let at = item("selectors", index);
    let map = or_push(object(raw, &at), errors)?;
    let before = errors.len();
    let name = opt_str(map.lookup("name"), field(&at, "name")).and_then(|name| {
        name.filter(|name| !name.is_empty())
            .ok_or_else(|| format!("{at}: name is required"))
    });
    let name = or_push(name, errors);
    let who = &Who { index, name };
    if let (Some(name), Some((first, original))) = (name, earlier) {
        let note = if original == name {
            ""
        } else {
            " (names are compared ignoring case)"
        };
        errors.push(format!(
            "{who}: duplicate name, already used by selectors[{first}]{note}"
        ));
    }
    let mut selector = Selector {
        name: name.unwrap_or_default().to_string(),
        ..Selector::default()
    };
    let mut has_selector_field = false;
    for (key, value) in map.entries() {
        // The errors of a field's value, named by `who` once the field is read.
        let mut local = Vec::new();
        match key {
            "name" => {}
            "namespaceSelector" => {
                has_selector_field |= !value.is_null();
                selector.namespace_selector = LabelSelector::compile(value, &key, &mut local);
            }
            "objectSelector" => {
                has_selector_field |= !value.is_null();
                selector.object_selector = LabelSelector::compile(value, &key, &mut local);
            }
            "effect" => selector.effect = compile_effect(value, &mut local),
            other => errors.push(unknown_field(who, other, SELECTOR_FIELDS)),
        }
        errors.extend(local.into_iter().map(|e| format!("{who}: {e}")));
    }
    if !has_selector_field && selector.effect.is_empty() && errors.len() == before {
        errors.push(format!(
            "{who}: has neither namespaceSelector, objectSelector nor effect"
        ));
    }
    (errors.len() == before).then_some(selector)
}

fn compile_effect<J: Json>(value: &J, errors: &mut Vec<String>) -> Effect {
    let mut effect = Effect::default();
    let map = mapping_or_error(value, "effect", errors);
    for (key, value) in map.into_iter().flat_map(JsonMap::entries) {
        let path = field("effect", key);
        let (check, out): (PairCheck, _) = match key {
            "labels" => (label_pair, &mut effect.labels),
            "annotations" => (annotation_pair, &mut effect.annotations),
            other => {
                errors.push(unknown_field("effect", other, "annotations, labels"));
                continue;
            }
        };
        if let Some(map) = mapping_or_error(value, &path, errors) {
            out.extend(setting_pairs(map, &path, check, errors));
        }
    }
    effect
}

/// An effect's annotation: a valid key, with a value ECI accepts.
fn annotation_pair(key: &str, value: &str) -> Result<(), String> {
    annotation_key(key).and_then(|()| check_annotation(key, value))
}

fn compile_virtual_node<J: Json>(value: &J, errors: &mut Vec<String>) -> VirtualNode {
    let mut vn = VirtualNode::default();
    let Some(map) = mapping_or_error(value, "virtualNode", errors) else {
        return vn;
    };
    for (key, value) in map.entries() {
        match key {
            "nodeSelector" => {
                if let Some(pairs) = compile_node_selector(value, errors) {
                    vn.node_selector = pairs;
                }
            }
            "tolerations" => {
                if let Some(tolerations) = compile_tolerations(value, errors) {
                    vn.tolerations = tolerations;
                }
            }
            other => errors.push(unknown_field(
                "virtualNode",
                other,
                "nodeSelector, tolerations",
            )),
        }
    }
    vn
}

fn compile_node_selector<J: Json>(
    value: &J,
    errors: &mut Vec<String>,
) -> Option<Vec<(String, String)>> {
    const PATH: &str = "virtualNode.nodeSelector";
    let map = mapping_or_error(value, PATH, errors)?;
    if map.is_empty() {
        // Every pod would count as ECI-bound and receive effect-only selectors.
        errors.push(format!(
            "{PATH}: must have at least one label (the labels of the virtual nodes)"
        ));
        return None;
    }
    let before = errors.len();
    let pairs = setting_pairs(map, PATH, label_pair, errors);
    (errors.len() == before).then_some(pairs)
}

fn compile_tolerations<J: Json>(value: &J, errors: &mut Vec<String>) -> Option<Vec<Toleration>> {
    const PATH: &str = "virtualNode.tolerations";
    let items = or_push(opt_array(Some(value), PATH), errors)?.unwrap_or_default();
    let before = errors.len();
    let mut out = Vec::with_capacity(items.len());
    for (i, raw) in items.iter().enumerate() {
        match Toleration::from_json(raw, &item(PATH, i), true) {
            Ok(t) => match t.check() {
                Ok(()) => out.push(t),
                Err(why) => errors.push(format!("{}: {why}", item(PATH, i))),
            },
            Err(e) => errors.push(e),
        }
    }
    (errors.len() == before).then_some(out)
}

mod read;

#[cfg(test)]
mod tests;
