//! `convert`: an `eci-profile` ConfigMap → the equivalent Kubewarden
//! `ClusterAdmissionPolicy` running this policy.
//!
//! Input: the YAML that `kubectl get cm -n kube-system eci-profile -o yaml`
//! prints (comments, masked `****` IDs and the spellings of the seeds'
//! text-extracted copies such as `vpcld` included), a manifest holding that
//! ConfigMap among other documents, or just its `data:` section.
//!
//! - `data.selectors` (the JSON string of the ConfigMap, or a YAML list when
//!   the `|` was left out) is carried over in order as a YAML list. Absent, the
//!   component's two default selectors are written out; empty (`""`), no
//!   selector is carried over.
//! - Cluster-level keys that have a per-pod annotation
//!   ([`eci_profile::cluster_params`]: `vSwitchIds`, `securityGroupId`,
//!   `resourceGroupId`) become ONE effect-only selector named
//!   [`CLUSTER_DEFAULTS_SELECTOR`], appended last, so that the pod's own
//!   annotations and every other selector's effect win. Empty values are
//!   skipped; masked (`****`) and placeholder (`-xxx`) values are carried over
//!   with a comment asking for the real ID.
//! - Every other key gets a comment saying what it does and that it has no
//!   per-pod equivalent.
//!
//! The result is checked before it is returned: it is parsed back and its
//! `spec.settings` must pass the policy's own `Profile::from_settings`.
//!
//! [`Mode::Live`] (`convert --live`) writes the same ClusterAdmissionPolicy
//! with `configMapRef` to the ConfigMap instead of a copy of its content: the
//! policy then reads it on every Pod CREATE (`live_profile`). The content is
//! still read and checked, with the policy's own `live_profile::selectors`,
//! so that a ConfigMap the policy would refuse is reported before applying.

use std::fmt::Write as _;

use anyhow::{Context, Result, anyhow, bail};
use eci_profile::cluster_params::{ClusterParam, cluster_param};
use eci_profile::live_profile;
use eci_profile::settings::{ConfigMapRef, ECI_LABEL, Profile};
use serde::Deserialize;
use serde_yaml::{Mapping, Value};

/// `metadata.yml`, the one place where the policy's OCI repository
/// (`io.kubewarden.policy.ociUrl`) and version (`io.kubewarden.policy.version`)
/// are written; read when the harness is built.
const METADATA_YML: &str = include_str!("../../metadata.yml");

/// The policy module the manifest runs:
/// `registry://<io.kubewarden.policy.ociUrl>:v<io.kubewarden.policy.version>`
/// of `metadata.yml`.
pub fn policy_module() -> String {
    let metadata: Value = serde_yaml::from_str(METADATA_YML).expect("metadata.yml is YAML");
    let annotation = |key: &str| -> String {
        match &metadata["annotations"][key] {
            Value::String(s) => s.trim().to_string(),
            other => panic!("metadata.yml: annotations.{key} is not a string: {other:?}"),
        }
    };
    format!(
        "registry://{}:v{}",
        annotation("io.kubewarden.policy.ociUrl"),
        annotation("io.kubewarden.policy.version")
    )
}
/// Name of the ClusterAdmissionPolicy written.
pub const POLICY_NAME: &str = "eci-profile";
/// Name of the effect-only selector that carries the cluster-level defaults.
pub const CLUSTER_DEFAULTS_SELECTOR: &str = eci_profile::live_profile::CLUSTER_KEYS_SELECTOR;
/// Namespaces the ClusterAdmissionPolicy's own namespaceSelector keeps out.
pub const EXCLUDED_NAMESPACES: [&str; 2] = ["kube-system", "kubewarden"];

/// What `convert` writes into the ClusterAdmissionPolicy's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A copy of the ConfigMap's selectors and cluster-level keys.
    Copy,
    /// `configMapRef` to the ConfigMap itself, which the policy reads on
    /// every Pod CREATE (`onProfileError: Ignore`).
    Live,
}

/// Namespace and name of the ConfigMap a live policy reads when the input
/// does not say (a bare `data:` section, or metadata without them).
pub const DEFAULT_CONFIGMAP: (&str, &str) = ("kube-system", "eci-profile");

/// Reads an eci-profile ConfigMap (YAML) and writes the equivalent
/// ClusterAdmissionPolicy (YAML, with comments).
pub fn convert_configmap(yaml: &str) -> Result<String> {
    convert_configmap_as(yaml, Mode::Copy)
}

/// [`convert_configmap`], writing the settings of `mode`.
pub fn convert_configmap_as(yaml: &str, mode: Mode) -> Result<String> {
    let source = find_configmap(yaml)?;
    let plan = plan(&source, yaml)?;
    let settings = match mode {
        Mode::Copy => plan.settings_json()?,
        Mode::Live => {
            check_live_content(&source, yaml)?;
            source.live_settings()
        }
    };
    if let Err(e) = Profile::from_settings(&settings) {
        bail!("the converted settings are not valid for the eci-profile policy: {e}");
    }
    let text = render(&source, &plan, mode);
    check_round_trip(&text, &settings)?;
    Ok(text)
}

// ── Finding the ConfigMap ───────────────────────────────────────────────────

/// The ConfigMap's `data`, and how to name where it came from.
struct Source {
    data: Mapping,
    /// `kube-system/eci-profile`, or None for a bare `data:` section.
    name: Option<String>,
    /// `metadata.namespace` and `metadata.name`, as written.
    metadata_namespace: Option<String>,
    metadata_name: Option<String>,
}

impl Source {
    /// The ConfigMap a live policy reads: the input's, else [`DEFAULT_CONFIGMAP`].
    fn live_ref(&self) -> (&str, &str) {
        (
            self.metadata_namespace
                .as_deref()
                .unwrap_or(DEFAULT_CONFIGMAP.0),
            self.metadata_name.as_deref().unwrap_or(DEFAULT_CONFIGMAP.1),
        )
    }

    /// The settings of [`Mode::Live`].
    fn live_settings(&self) -> serde_json::Value {
        let (namespace, name) = self.live_ref();
        serde_json::json!({
            "configMapRef": {"namespace": namespace, "name": name},
            "onProfileError": "Ignore",
        })
    }
}

fn find_configmap(yaml: &str) -> Result<Source> {
    let mut docs = Vec::new();
    for (index, document) in serde_yaml::Deserializer::from_str(yaml).enumerate() {
        let value = Value::deserialize(document)
            .with_context(|| format!("the input is not valid YAML (document {})", index + 1))?;
        match value {
            Value::Null => {}
            Value::Mapping(map) => match text_of(&map, "kind") {
                Some("List") => {
                    if let Some(Value::Sequence(items)) = map.get("items") {
                        docs.extend(items.iter().filter_map(Value::as_mapping).cloned());
                    }
                }
                _ => docs.push(map),
            },
            other => bail!(
                "the input is not a ConfigMap: document {} is {}",
                index + 1,
                describe(&other)
            ),
        }
    }
    let configmaps: Vec<&Mapping> = docs
        .iter()
        .filter(|d| text_of(d, "kind") == Some("ConfigMap"))
        .collect();
    let chosen = configmaps
        .iter()
        .find(|d| metadata_text(d, "name") == Some("eci-profile"))
        .or_else(|| (configmaps.len() == 1).then(|| &configmaps[0]));
    if let Some(map) = chosen {
        let name = match (metadata_text(map, "namespace"), metadata_text(map, "name")) {
            (Some(ns), Some(name)) => format!("{ns}/{name}"),
            (None, Some(name)) => name.to_string(),
            _ => "(unnamed)".to_string(),
        };
        let data = match map.get("data") {
            None | Some(Value::Null) => Mapping::new(),
            Some(Value::Mapping(data)) => data.clone(),
            Some(other) => bail!(
                "ConfigMap {name}: data must be a mapping, found {}",
                describe(other)
            ),
        };
        return Ok(Source {
            data,
            name: Some(name),
            metadata_namespace: metadata_text(map, "namespace").map(str::to_owned),
            metadata_name: metadata_text(map, "name").map(str::to_owned),
        });
    }
    if configmaps.len() > 1 {
        bail!(
            "the input holds {} ConfigMaps and none is named eci-profile",
            configmaps.len()
        );
    }
    // No ConfigMap: a bare `data:` section, or the data keys themselves.
    let kinds: Vec<&str> = docs.iter().filter_map(|d| text_of(d, "kind")).collect();
    if let [only] = docs.as_slice()
        && kinds.is_empty()
    {
        if let Some(data) = only.get("data") {
            return match data {
                Value::Mapping(data) => Ok(Source {
                    data: data.clone(),
                    name: None,
                    metadata_namespace: None,
                    metadata_name: None,
                }),
                other => bail!("data must be a mapping, found {}", describe(other)),
            };
        }
        let looks_like_data = only.keys().any(|k| {
            k.as_str()
                .is_some_and(|k| k.eq_ignore_ascii_case("selectors") || cluster_param(k).is_some())
        });
        if looks_like_data {
            return Ok(Source {
                data: only.clone(),
                name: None,
                metadata_namespace: None,
                metadata_name: None,
            });
        }
    }
    if kinds.is_empty() {
        bail!(
            "no eci-profile ConfigMap found: expected `kind: ConfigMap` (as `kubectl get cm -n kube-system eci-profile -o yaml` prints it) or a `data:` section"
        )
    } else {
        bail!(
            "no eci-profile ConfigMap found: the input holds {}",
            kinds.join(", ")
        )
    }
}

fn text_of<'a>(map: &'a Mapping, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str)
}

fn metadata_text<'a>(map: &'a Mapping, key: &str) -> Option<&'a str> {
    map.get("metadata")
        .and_then(Value::as_mapping)
        .and_then(|m| text_of(m, key))
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {}", quoted(s)),
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a mapping".into(),
        Value::Tagged(t) => format!("a value tagged {}", t.tag),
    }
}

// ── What becomes what ───────────────────────────────────────────────────────

/// A cluster-level key carried over as a per-pod annotation.
struct Carried {
    /// The key as the ConfigMap spells it.
    key: String,
    param: &'static ClusterParam,
    annotation: &'static str,
    value: String,
    /// Why the value must be replaced before use, if it must.
    fill_in: Option<&'static str>,
}

#[derive(Default)]
struct Plan {
    /// Comment lines put above `selectors:`.
    selectors_comment: Vec<String>,
    /// No `selectors` key: `selectors` holds the component's defaults.
    selectors_absent: bool,
    selectors: Vec<Value>,
    carried: Vec<Carried>,
    cluster_selector_name: String,
    /// One comment line each.
    no_equivalent: Vec<String>,
    /// Keys (as shown) whose value is empty.
    skipped: Vec<String>,
    /// One comment line each: unknown or duplicate keys.
    unknown: Vec<String>,
}

enum Selectors {
    /// No `selectors` key: the component's defaults.
    Absent,
    /// `selectors: ""`.
    Empty,
    List(Vec<Value>),
}

fn plan(source: &Source, yaml: &str) -> Result<Plan> {
    let mut plan = Plan::default();
    let mut selectors = Selectors::Absent;
    for (key, value) in &source.data {
        let key = match key {
            Value::String(k) => k.clone(),
            other => bail!("data: keys must be strings, found {}", describe(other)),
        };
        if key.eq_ignore_ascii_case("selectors") {
            selectors = read_selectors(value, yaml)?;
            continue;
        }
        let text = match value {
            Value::String(s) => s.trim().to_string(),
            Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            other => bail!("data.{key}: expected a string, found {}", describe(other)),
        };
        let Some(param) = cluster_param(&key) else {
            plan.unknown.push(format!(
                "{key} = {}: not a key of the eci-profile ConfigMap; not converted.",
                quoted(&text)
            ));
            continue;
        };
        let shown = if key == param.key {
            key.clone()
        } else {
            format!("{key} ({})", param.key)
        };
        if text.is_empty() {
            plan.skipped.push(shown);
            continue;
        }
        match param.annotation {
            Some(annotation) => {
                if let Some(first) = plan.carried.iter().find(|c| c.annotation == annotation) {
                    plan.unknown.push(format!(
                        "{shown} = {}: ignored, {} already gives {annotation}.",
                        quoted(&text),
                        first.key
                    ));
                    continue;
                }
                let value = if param.key == "vSwitchIds" {
                    // "vsw-1, vsw-2" → "vsw-1,vsw-2": the annotation's list format.
                    text.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(",")
                } else {
                    text
                };
                let fill_in = if value.contains("****") {
                    Some("masked (****)")
                } else if value
                    .split(',')
                    .any(|v| v.to_ascii_lowercase().ends_with("-xxx"))
                {
                    Some("a placeholder")
                } else {
                    None
                };
                plan.carried.push(Carried {
                    key,
                    param,
                    annotation,
                    value,
                    fill_in,
                });
            }
            None => plan
                .no_equivalent
                .push(format!("{shown} = {}: {}", quoted(&text), param.note)),
        }
    }

    match selectors {
        Selectors::List(list) => plan.selectors = list,
        Selectors::Empty => {
            plan.selectors_comment.push(
                "data.selectors is empty in the ConfigMap: no selector sends pods to a".into(),
            );
            if plan.carried.is_empty() {
                plan.selectors_comment
                    .push("virtual node, and this policy changes no pod.".into());
            } else {
                plan.selectors_comment.extend([
                    "virtual node. The selector below adds the cluster-level defaults to the"
                        .into(),
                    "pods that go there anyway (their own nodeSelector names the virtual node)."
                        .into(),
                ]);
            }
        }
        Selectors::Absent => {
            plan.selectors_comment.push(
                "No data.selectors in the ConfigMap: the eci-profile component's defaults, written out."
                    .into(),
            );
            plan.selectors = default_selectors();
            plan.selectors_absent = true;
        }
    }

    // A name of its own, even if the ConfigMap already uses ours.
    let taken = |name: &str| {
        plan.selectors.iter().any(|s| {
            s.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
    };
    plan.cluster_selector_name = CLUSTER_DEFAULTS_SELECTOR.to_string();
    let mut n = 2;
    while taken(&plan.cluster_selector_name) {
        plan.cluster_selector_name = format!("{CLUSTER_DEFAULTS_SELECTOR}-{n}");
        n += 1;
    }
    Ok(plan)
}

/// The component's defaults (seed 001's ConfigMap; the policy's own defaults).
fn default_selectors() -> Vec<Value> {
    let selector = |name: &str, field: &str| {
        let mut labels = Mapping::new();
        labels.insert(ECI_LABEL.into(), "true".into());
        let mut label_selector = Mapping::new();
        label_selector.insert("matchLabels".into(), Value::Mapping(labels));
        let mut s = Mapping::new();
        s.insert("name".into(), name.into());
        s.insert(field.into(), Value::Mapping(label_selector));
        Value::Mapping(s)
    };
    vec![
        selector("default-pod-selector", "objectSelector"),
        selector("default-namespace-selector", "namespaceSelector"),
    ]
}

/// `data.selectors`: the JSON string of the ConfigMap, or a YAML list.
fn read_selectors(value: &Value, yaml: &str) -> Result<Selectors> {
    let list = match value {
        Value::Null => return Ok(Selectors::Empty),
        Value::String(text) if text.trim().is_empty() => return Ok(Selectors::Empty),
        Value::String(text) => parse_selectors_json(text, yaml)?,
        Value::Sequence(items) => items.clone(),
        other => bail!(
            "data.selectors{}: expected the JSON text of a list of selectors, found {}",
            line_suffix(selectors_key_line(yaml)),
            describe(other)
        ),
    };
    Ok(Selectors::List(list))
}

fn parse_selectors_json(text: &str, yaml: &str) -> Result<Vec<Value>> {
    // serde_json parses (exact JSON, with its error positions); serde_yaml's
    // Value keeps the keys in the order written.
    let parsed: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return Err(anyhow!(json_error(text, yaml, &e))),
    };
    match parsed {
        Value::Sequence(items) => Ok(items),
        other => bail!(
            "data.selectors{}: the JSON must be a list of selectors, found {}",
            line_suffix(selectors_key_line(yaml)),
            describe(&other)
        ),
    }
}

/// The message for JSON that does not parse, naming the ConfigMap's line.
fn json_error(text: &str, yaml: &str, e: &serde_json::Error) -> String {
    let json_lines: Vec<&str> = text.lines().collect();
    let key_line = selectors_key_line(yaml);
    // The first `# …` note (what the documentation's templates carry), else
    // the line serde_json stopped at.
    let comment_at = json_lines.iter().position(|l| comment_start(l).is_some());
    let at = comment_at.unwrap_or(e.line().saturating_sub(1));
    let json_line = json_lines.get(at).map_or("", |l| l.trim());
    let file_line = file_line_of(yaml, key_line, json_line).or(key_line);
    let mut message = format!(
        "data.selectors{}: the JSON does not parse: {e}",
        line_suffix(file_line)
    );
    if let Some(at) = comment_at {
        let line = json_lines[at];
        let note = comment_start(line).map_or("", |i| line[i..].trim());
        let _ = write!(
            message,
            ". JSON has no comments: remove the note {} (and every other `# …` note copied from the eci-profile documentation) from: {}",
            quoted(note),
            line.trim()
        );
    }
    message
}

/// Where a `#` comment starts on a JSON line, outside strings.
fn comment_start(line: &str) -> Option<usize> {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '#' if !in_string => return Some(i),
            _ => {}
        }
    }
    None
}

/// The 1-based line of the first `selectors:` key.
fn selectors_key_line(yaml: &str) -> Option<usize> {
    yaml.lines()
        .position(|l| {
            let t = l.trim_start();
            t.len() > "selectors".len()
                && t[.."selectors".len()].eq_ignore_ascii_case("selectors")
                && t["selectors".len()..].trim_start().starts_with(':')
        })
        .map(|i| i + 1)
}

/// The 1-based line of the ConfigMap that holds `json_line`, after the key.
fn file_line_of(yaml: &str, key_line: Option<usize>, json_line: &str) -> Option<usize> {
    if json_line.is_empty() {
        return None;
    }
    let start = key_line.unwrap_or(0);
    yaml.lines()
        .enumerate()
        .skip(start)
        .find(|(_, l)| l.trim() == json_line)
        .map(|(i, _)| i + 1)
}

fn line_suffix(line: Option<usize>) -> String {
    line.map(|l| format!(" (line {l})")).unwrap_or_default()
}

/// [`Mode::Live`]: the ConfigMap's content as the policy will read it on
/// each Pod CREATE (`live_profile::selectors`), refused with the policy's
/// own message when the policy would refuse it.
fn check_live_content(source: &Source, yaml: &str) -> Result<()> {
    let mut data = serde_json::Map::new();
    for (key, value) in &source.data {
        // plan() has already refused keys that are not strings.
        let key = key.as_str().unwrap_or_default();
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => bail!(
                "data.{key}{}: a ConfigMap's data values are strings, and Kubernetes refuses {}: {}",
                if key.eq_ignore_ascii_case("selectors") {
                    line_suffix(selectors_key_line(yaml))
                } else {
                    String::new()
                },
                describe(other),
                match other {
                    Value::Sequence(_) if key.eq_ignore_ascii_case("selectors") =>
                        "write the list as JSON text after `selectors: |`".to_string(),
                    Value::Sequence(_) | Value::Mapping(_) | Value::Tagged(_) =>
                        "write it as text".to_string(),
                    scalar => format!("quote it: \"{}\"", inline(scalar).trim_matches('"')),
                }
            ),
        };
        data.insert(key.to_owned(), text.into());
    }
    let (namespace, name) = source.live_ref();
    let config_map = ConfigMapRef {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
    };
    let answer = serde_json::to_vec(&serde_json::json!({ "data": data }))
        .context("data cannot be written as JSON")?;
    if let Err(problem) = live_profile::selectors(&config_map, Ok(&answer)) {
        bail!(
            "{problem}. The policy reads this ConfigMap on every pod creation and would leave every pod unchanged (onProfileError: Ignore): fix the ConfigMap first"
        );
    }
    Ok(())
}

impl Plan {
    /// The effect-only selector of the cluster-level defaults, if any.
    fn cluster_selector(&self) -> Option<Value> {
        if self.carried.is_empty() {
            return None;
        }
        let mut annotations = Mapping::new();
        for c in &self.carried {
            annotations.insert(c.annotation.into(), c.value.clone().into());
        }
        let mut effect = Mapping::new();
        effect.insert("annotations".into(), Value::Mapping(annotations));
        let mut s = Mapping::new();
        s.insert("name".into(), self.cluster_selector_name.clone().into());
        s.insert("effect".into(), Value::Mapping(effect));
        Some(Value::Mapping(s))
    }

    fn all_selectors(&self) -> Vec<Value> {
        let mut all = self.selectors.clone();
        all.extend(self.cluster_selector());
        all
    }

    /// The settings, as the policy receives them.
    fn settings_json(&self) -> Result<serde_json::Value> {
        let selectors = serde_json::to_value(self.all_selectors())
            .context("data.selectors cannot be written as JSON")?;
        Ok(serde_json::json!({ "selectors": selectors }))
    }
}

// ── Writing the manifest ────────────────────────────────────────────────────

fn render(source: &Source, plan: &Plan, mode: Mode) -> String {
    let mut out = String::new();
    let from = match &source.name {
        Some(name) => format!("the eci-profile ConfigMap {name}"),
        None => "an eci-profile ConfigMap's data section".to_string(),
    };
    match mode {
        Mode::Copy => {
            let _ = writeln!(
                out,
                "# Kubewarden ClusterAdmissionPolicy converted by `eci-profile convert`\n\
                 # from {from}.\n\
                 # Review it, then: kubectl apply -f <this file>"
            );
        }
        Mode::Live => {
            let (namespace, name) = source.live_ref();
            let assumed = match (&source.metadata_namespace, &source.metadata_name) {
                (Some(_), Some(_)) => String::new(),
                (None, Some(_)) => {
                    format!(" (the input gives no namespace: {namespace}, the default)")
                }
                (Some(_), None) => format!(" (the input gives no name: {name}, the default)"),
                (None, None) => " (the input does not name it: the default)".into(),
            };
            let _ = writeln!(
                out,
                "# Kubewarden ClusterAdmissionPolicy written by `eci-profile convert --live`\n\
                 # from {from}."
            );
            for line in [
                format!(
                    "The policy reads the ConfigMap {namespace}/{name}{assumed} on every pod creation: an edit of the ConfigMap applies to the next pod, as with the eci-profile webhook."
                ),
                "The PolicyServer's ServiceAccount must be allowed to get that ConfigMap (README of the eci-profile policy, \"Hot updates\").".into(),
                "Review it, then: kubectl apply -f <this file>".into(),
            ] {
                write_comment(&mut out, "", &line);
            }
        }
    }
    // Copy mode reads no ConfigMap: it asks for Namespaces only (least
    // privilege); Live mode needs ConfigMaps too, which Kubernetes grants by kind.
    let context_aware = match mode {
        Mode::Copy => {
            "  # The policy reads the labels of the pod's namespace.
  contextAwareResources:
    - apiVersion: v1
      kind: Namespace
"
        }
        Mode::Live => {
            "  # The policy reads the labels of the pod's namespace, and the ConfigMap
  # named in settings.configMapRef.
  contextAwareResources:
    - apiVersion: v1
      kind: Namespace
    - apiVersion: v1
      kind: ConfigMap
"
        }
    };
    let module = policy_module();
    out.push_str(&format!(
        "apiVersion: policies.kubewarden.io/v1
kind: ClusterAdmissionPolicy
metadata:
  name: {POLICY_NAME}
  annotations:
    io.kubewarden.policy.severity: info
    io.kubewarden.policy.category: Resource mutation
spec:
  module: {module}
  policyServer: default
  mode: protect
  mutating: true
  # A scheduling decision is taken once, when the pod is created.
  backgroundAudit: false
  # As the eci-profile webhook: when the policy cannot answer, the pod is
  # created unchanged (and goes to an ordinary node).
  failurePolicy: Ignore
{context_aware}  rules:
    - apiGroups: [\"\"]
      apiVersions: [\"v1\"]
      resources: [\"pods\"]
      operations: [\"CREATE\"]
  # Pods of the control plane and of Kubewarden itself are never changed.
  namespaceSelector:
    matchExpressions:
      - key: kubernetes.io/metadata.name
        operator: NotIn
        values: [{}]
  settings:
",
        EXCLUDED_NAMESPACES.join(", ")
    ));
    let ind = "    ";
    let comment = |out: &mut String, text: &str| {
        let _ = writeln!(out, "{ind}# {text}");
    };
    comment(
        &mut out,
        "virtualNode is left out: type=virtual-kubelet nodes tainted virtual-kubelet.io/provider,",
    );
    comment(
        &mut out,
        "as ACK's virtual-kubelet. For ACK VNode or Azure ACI see examples/ in the eci-profile repository.",
    );
    if mode == Mode::Live {
        render_live_settings(&mut out, source, plan);
        return out;
    }
    if !plan.no_equivalent.is_empty() {
        comment(
            &mut out,
            "Not carried over: these ConfigMap keys configure virtual-kubelet itself",
        );
        comment(
            &mut out,
            "and have no per-pod equivalent. Keep them in the ConfigMap.",
        );
        for note in &plan.no_equivalent {
            comment(&mut out, &format!("- {note}"));
        }
    }
    if !plan.skipped.is_empty() {
        comment(
            &mut out,
            &format!(
                "Empty in the ConfigMap, nothing to carry over: {}.",
                plan.skipped.join(", ")
            ),
        );
    }
    for note in &plan.unknown {
        comment(&mut out, &format!("- {note}"));
    }
    for line in &plan.selectors_comment {
        comment(&mut out, line);
    }
    let cluster = plan.cluster_selector();
    if plan.selectors.is_empty() && cluster.is_none() {
        let _ = writeln!(out, "{ind}selectors: []");
        return out;
    }
    let _ = writeln!(out, "{ind}selectors:");
    let items = "      ";
    write_sequence(&mut out, items.len(), &plan.selectors);
    if !plan.carried.is_empty() {
        let _ = writeln!(
            out,
            "{items}- name: {}",
            scalar(&plan.cluster_selector_name)
        );
        for line in [
            "Cluster-level keys of the ConfigMap that have a per-pod annotation, added",
            "to every pod that goes to a virtual node. Last, so that the pod's own",
            "annotations and the effects of the selectors above win.",
        ] {
            let _ = writeln!(out, "{items}  # {line}");
        }
        let _ = writeln!(out, "{items}  effect:");
        let _ = writeln!(out, "{items}    annotations:");
        for c in &plan.carried {
            let from = if c.key == c.param.key {
                c.key.clone()
            } else {
                format!("{} ({})", c.key, c.param.key)
            };
            let _ = writeln!(out, "{items}      # {from}: {}", c.param.note);
            if let Some(why) = c.fill_in {
                let _ = writeln!(
                    out,
                    "{items}      # FILL IN: the value is {why} in the ConfigMap: replace it with the real ID(s)."
                );
            }
            let _ = writeln!(
                out,
                "{items}      {}: {}",
                scalar(c.annotation),
                scalar(&c.value)
            );
        }
    }
    out
}

/// The settings of [`Mode::Live`]: `configMapRef` and `onProfileError`,
/// with comments saying what the ConfigMap gives today.
fn render_live_settings(out: &mut String, source: &Source, plan: &Plan) {
    let ind = "    ";
    let (namespace, name) = source.live_ref();
    let mut notes = vec![format!(
        "The selectors and the cluster-level keys are those of the ConfigMap {namespace}/{name}, read on every pod creation: edit it as before (kubectl edit configmap -n {namespace} {name}) and the next pod gets the change, with no PolicyServer rollout. What it gives today, checked as the policy reads it:"
    )];
    let names: Vec<&str> = plan
        .selectors
        .iter()
        .filter_map(|s| s.get("name").and_then(Value::as_str))
        .collect();
    notes.push(if plan.selectors_absent {
        format!(
            "- no data.selectors: the component's default selectors, {}.",
            names.join(", ")
        )
    } else if names.is_empty() {
        "- data.selectors is empty: no selector sends pods to a virtual node.".to_string()
    } else {
        format!("- selectors, in priority order: {}.", names.join(", "))
    });
    if !plan.carried.is_empty() {
        let carried: Vec<String> = plan
            .carried
            .iter()
            .map(|c| format!("{} as {}", c.key, c.annotation))
            .collect();
        notes.push(format!(
            "- then, on every pod sent to a virtual node, unless it has them: {}.",
            carried.join(", ")
        ));
    }
    if !plan.no_equivalent.is_empty() || !plan.unknown.is_empty() {
        notes.push(
            "- its other keys configure virtual-kubelet itself: the policy ignores them.".into(),
        );
    }
    for note in &notes {
        write_comment(out, ind, note);
    }
    for c in plan.carried.iter().filter(|c| c.fill_in.is_some()) {
        let why = c.fill_in.unwrap_or_default();
        write_comment(
            out,
            ind,
            &format!(
                "FILL IN: in the ConfigMap, {} is {why}: replace it with the real ID(s) there.",
                c.key
            ),
        );
    }
    let _ = writeln!(out, "{ind}configMapRef:");
    let _ = writeln!(out, "{ind}  namespace: {}", scalar(namespace));
    let _ = writeln!(out, "{ind}  name: {}", scalar(name));
    write_comment(
        out,
        ind,
        "When the ConfigMap cannot be read, or the policy refuses its content, the pod is created unchanged with a warning naming the problem, as with the eci-profile webhook's failurePolicy Ignore. Fail refuses the pod instead.",
    );
    let _ = writeln!(out, "{ind}onProfileError: Ignore");
}

/// `# text` lines at indentation `ind`, wrapped at 78 columns; a list item
/// (`- …`) goes on under its text.
fn write_comment(out: &mut String, ind: &str, text: &str) {
    let width = 78usize.saturating_sub(ind.len() + 2).max(20);
    let hang = if text.starts_with("- ") { "  " } else { "" };
    let mut line = String::new();
    for word in text.split(' ') {
        let fresh = line.is_empty() || line == hang;
        if !fresh && line.len() + 1 + word.len() > width {
            let _ = writeln!(out, "{ind}# {line}");
            line = hang.to_string();
        } else if !fresh {
            line.push(' ');
        }
        line.push_str(word);
    }
    let _ = writeln!(out, "{ind}# {line}");
}

/// Block-style YAML for a list, its items at column `col`.
fn write_sequence(out: &mut String, col: usize, items: &[Value]) {
    for item in items {
        match item {
            Value::Mapping(map) if !map.is_empty() => {
                for (i, (key, value)) in map.iter().enumerate() {
                    let lead = if i == 0 {
                        format!("{}- ", " ".repeat(col))
                    } else {
                        " ".repeat(col + 2)
                    };
                    write_entry(out, &lead, col + 2, key, value);
                }
            }
            Value::Sequence(seq) if !seq.is_empty() => {
                let _ = writeln!(out, "{}-", " ".repeat(col));
                write_sequence(out, col + 2, seq);
            }
            other => {
                let _ = writeln!(out, "{}- {}", " ".repeat(col), inline(other));
            }
        }
    }
}

/// One `key: value` entry; `lead` is what comes before the key on its line,
/// `col` the key's column.
fn write_entry(out: &mut String, lead: &str, col: usize, key: &Value, value: &Value) {
    let key = inline(key);
    match value {
        Value::Mapping(map) if !map.is_empty() => {
            let _ = writeln!(out, "{lead}{key}:");
            for (k, v) in map {
                write_entry(out, &" ".repeat(col + 2), col + 2, k, v);
            }
        }
        Value::Sequence(seq) if !seq.is_empty() => {
            let _ = writeln!(out, "{lead}{key}:");
            write_sequence(out, col + 2, seq);
        }
        other => {
            let _ = writeln!(out, "{lead}{key}: {}", inline(other));
        }
    }
}

/// A scalar (or an empty collection) on one line.
fn inline(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar(s),
        Value::Sequence(_) => "[]".into(),
        Value::Mapping(_) => "{}".into(),
        Value::Tagged(_) => serde_json::to_value(value)
            .map(|v| v.to_string())
            .unwrap_or_else(|_| "null".into()),
    }
}

/// A string as YAML: plain when that cannot be read as anything else,
/// otherwise double-quoted (JSON escapes are valid YAML escapes).
fn scalar(s: &str) -> String {
    const RESERVED: &[&str] = &["y", "n", "yes", "no", "true", "false", "on", "off", "null"];
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'))
        && !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s));
    if plain { s.to_string() } else { quoted(s) }
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

/// Parses the manifest back and checks that its settings are the ones meant.
fn check_round_trip(text: &str, settings: &serde_json::Value) -> Result<()> {
    let manifest: serde_json::Value = serde_yaml::from_str(text)
        .context("internal error: the written manifest does not parse")?;
    let written = manifest
        .pointer("/spec/settings")
        .ok_or_else(|| anyhow!("internal error: the written manifest has no spec.settings"))?;
    if written != settings {
        bail!(
            "internal error: the written settings differ from the converted ones:\n{written}\n{settings}"
        );
    }
    Profile::from_settings(written)
        .map_err(|e| anyhow!("internal error: the written settings are not valid: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    /// `test_data/` of the workspace (the harness crate sits one level below).
    fn test_data() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../test_data")
    }

    fn read(rel: &str) -> String {
        let path = test_data().join(rel);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn settings_of(manifest: &str) -> serde_json::Value {
        let doc: serde_json::Value = serde_yaml::from_str(manifest).expect("output parses");
        doc.pointer("/spec/settings")
            .cloned()
            .expect("spec.settings")
    }

    fn selector_names(manifest: &str) -> Vec<String> {
        settings_of(manifest)["selectors"]
            .as_array()
            .expect("selectors is a list")
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect()
    }

    /// (ConfigMap under test_data/configmaps, the source it reproduces)
    #[rustfmt::skip]
    const SEED_CONFIGMAPS: &[(&str, &str)] = &[
        ("000-kubectl-get.yml", "seed 000 'View the eci-profile': kubectl get -o yaml output"),
        ("000-complete-data-section.yml", "seed 000 'complete data section example'"),
        ("000-template.yml", "seed 000 selector template, notes removed"),
        ("000-example-2-gpu.yml", "seed 000 example 2"),
        ("000-example-3-auto-imc.yml", "seed 000 example 3"),
        ("001-eci-profile-install.yml", "seed 001 eci-profile.yaml with the default selectors"),
        ("001-sample-1.yml", "seed 001 sample configuration 1"),
        ("001-sample-2.yml", "seed 001 sample configuration 2"),
        ("001-sample-3.yml", "seed 001 sample configuration 3"),
        ("004-five-default-selectors.yml", "seed 004 §2.3 five default selectors, vpcld"),
        ("004-five-default-selectors-no-block.yml", "seed 004 §2.3 layout: JSON list without |"),
        ("004-virtual-kubelet-install.yml", "seed 004 install manifest ConfigMap, comments"),
        ("004-scheduler-demo-with-notes.yml", "seed 004 §2.3 scheduler demo: list without |, # notes"),
        ("004-hot-update.yml", "seed 004 §2.3 hot update sample"),
    ];

    /// Converts each (ConfigMap under test_data/configmaps, what it shows) in
    /// `mode` and compares the output with `dir/<file>`; with
    /// ECI_PROFILE_BLESS=1, rewrites `dir` from the current output instead.
    fn expect_manifests(cases: &[(&str, &str)], mode: Mode, dir: &Path) {
        let bless = std::env::var_os("ECI_PROFILE_BLESS").is_some();
        let mut failures = Vec::new();
        for (file, what) in cases {
            let input = read(&format!("configmaps/{file}"));
            let output = convert_configmap_as(&input, mode)
                .unwrap_or_else(|e| panic!("{what}: {file}: {e:#}"));
            let expected_path = dir.join(file);
            if bless {
                std::fs::create_dir_all(dir).unwrap();
                std::fs::write(&expected_path, &output).unwrap();
                continue;
            }
            let expected = std::fs::read_to_string(&expected_path)
                .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
            if output != expected {
                failures.push(format!(
                    "{what}: {file} differs from {}:\n--- expected\n{expected}\n--- got\n{output}",
                    expected_path.display()
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// Set ECI_PROFILE_BLESS=1 to rewrite test_data/convert/ from the current output.
    #[test]
    fn seed_configmaps_convert_to_the_expected_manifests() {
        expect_manifests(SEED_CONFIGMAPS, Mode::Copy, &test_data().join("convert"));
    }

    /// (ConfigMap under test_data/configmaps, what it shows) for `--live`; the
    /// expected manifests are in harness/tests/data/convert-live/.
    #[rustfmt::skip]
    const LIVE_CONFIGMAPS: &[(&str, &str)] = &[
        ("000-kubectl-get.yml", "empty selectors, masked cluster keys, virtual-kubelet keys"),
        ("001-eci-profile-install.yml", "no selectors key: the defaults; among other documents"),
        ("004-five-default-selectors.yml", "five selectors, a placeholder, text-extracted spellings"),
        ("000-example-2-gpu.yml", "a namespace selector with an effect"),
    ];

    fn live_expected_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/convert-live")
    }

    /// Set ECI_PROFILE_BLESS=1 to rewrite harness/tests/data/convert-live/.
    #[test]
    fn live_mode_writes_the_expected_manifests() {
        expect_manifests(LIVE_CONFIGMAPS, Mode::Live, &live_expected_dir());
    }

    #[test]
    fn live_mode_settings_point_at_the_configmap() {
        let out =
            convert_configmap_as(&read("configmaps/000-kubectl-get.yml"), Mode::Live).unwrap();
        assert_eq!(
            settings_of(&out),
            serde_json::json!({
                "configMapRef": {"namespace": "kube-system", "name": "eci-profile"},
                "onProfileError": "Ignore",
            })
        );
        let profile = Profile::from_settings(&settings_of(&out)).unwrap();
        assert_eq!(
            profile.config_map,
            Some(ConfigMapRef {
                namespace: "kube-system".into(),
                name: "eci-profile".into()
            })
        );
        // The ConfigMap's own namespace and name; the defaults when absent.
        #[rustfmt::skip]
        let cases: &[(&str, serde_json::Value, &str)] = &[
            ("kind: ConfigMap\nmetadata: {name: eci-profile, namespace: eci-system}\ndata: {}\n",
             serde_json::json!({"namespace": "eci-system", "name": "eci-profile"}), ""),
            ("kind: ConfigMap\nmetadata: {name: my-profile}\n",
             serde_json::json!({"namespace": "kube-system", "name": "my-profile"}),
             "# The policy reads the ConfigMap kube-system/my-profile (the input gives no\n# namespace: kube-system, the default) on every pod creation"),
            ("data:\n  selectors: \"\"\n",
             serde_json::json!({"namespace": "kube-system", "name": "eci-profile"}),
             "# The policy reads the ConfigMap kube-system/eci-profile (the input does not\n# name it: the default) on every pod creation"),
        ];
        for (input, reference, note) in cases {
            let out = convert_configmap_as(input, Mode::Live).unwrap();
            assert_eq!(&settings_of(&out)["configMapRef"], reference, "{input}");
            assert!(out.contains(note), "{input}: {note}\n{out}");
        }
    }

    #[test]
    fn live_mode_is_the_copy_manifest_with_other_settings_and_configmaps_readable() {
        for (file, _) in SEED_CONFIGMAPS.iter().chain(LIVE_CONFIGMAPS) {
            let input = read(&format!("configmaps/{file}"));
            let Ok(live) = convert_configmap_as(&input, Mode::Live) else {
                continue; // the list without `|`: refused, below
            };
            let copy = convert_configmap(&input).unwrap();
            let mut live: serde_json::Value = serde_yaml::from_str(&live).unwrap();
            let mut copy: serde_json::Value = serde_yaml::from_str(&copy).unwrap();
            assert_eq!(
                live["spec"]["contextAwareResources"],
                serde_json::json!([
                    {"apiVersion": "v1", "kind": "Namespace"},
                    {"apiVersion": "v1", "kind": "ConfigMap"},
                ]),
                "{file}"
            );
            // Copy mode never reads a ConfigMap: Namespaces only (least privilege).
            assert_eq!(
                copy["spec"]["contextAwareResources"],
                serde_json::json!([{"apiVersion": "v1", "kind": "Namespace"}]),
                "{file}"
            );
            for doc in [&mut live, &mut copy] {
                let spec = doc["spec"].as_object_mut().unwrap();
                spec.remove("settings");
                spec.remove("contextAwareResources");
            }
            assert_eq!(live, copy, "{file}: everything else is the same");
        }
    }

    #[test]
    fn live_mode_reports_what_the_policy_would_refuse_in_the_configmap() {
        #[rustfmt::skip]
        let cases: &[(&str, &str)] = &[
            ("data:\n  selectors: |\n    [{\"name\": \"gpu\", \"objectSelector\": {\"matchLabels\": {\"eci\": true}}}, {\"name\": \"GPU\"}]\n",
             "ConfigMap kube-system/eci-profile: selectors[0] \"gpu\": objectSelector.matchLabels[\"eci\"]: expected a string, found true (quote it: \"true\"); selectors[1] \"GPU\": duplicate name, already used by selectors[0] (names are compared ignoring case). The policy reads this ConfigMap on every pod creation and would leave every pod unchanged (onProfileError: Ignore): fix the ConfigMap first"),
            ("kind: ConfigMap\nmetadata: {name: eci-profile}\ndata:\n  enableClusterIp: true\n",
             "data.enableClusterIp: a ConfigMap's data values are strings, and Kubernetes refuses the boolean true: quote it: \"true\""),
            ("kind: ConfigMap\nmetadata: {name: Eci_profile, namespace: kube-system}\n",
             "the converted settings are not valid for the eci-profile policy: configMapRef.name: \"Eci_profile\" is not a valid name: lowercase letters, digits, '-' and '.', at most 253 characters"),
        ];
        for (input, expected) in cases {
            let err = convert_configmap_as(input, Mode::Live)
                .unwrap_err()
                .to_string();
            assert_eq!(&err, expected, "{input}");
        }
        // A YAML list is fine to copy, but no ConfigMap can hold it.
        let input = read("configmaps/004-five-default-selectors-no-block.yml");
        assert!(convert_configmap(&input).is_ok());
        let err = convert_configmap_as(&input, Mode::Live)
            .unwrap_err()
            .to_string();
        let line = selectors_key_line(&input).unwrap();
        assert_eq!(
            err,
            format!(
                "data.selectors (line {line}): a ConfigMap's data values are strings, and Kubernetes refuses a list: write the list as JSON text after `selectors: |`"
            )
        );
        // JSON notes are refused as in copy mode, naming the line.
        let input = read("configmaps/000-template-with-comments.yml");
        assert_eq!(
            convert_configmap_as(&input, Mode::Live)
                .unwrap_err()
                .to_string(),
            convert_configmap(&input).unwrap_err().to_string()
        );
    }

    #[test]
    fn every_output_passes_the_policy_settings_check() {
        for (file, clause) in SEED_CONFIGMAPS {
            let output = convert_configmap(&read(&format!("configmaps/{file}"))).unwrap();
            let settings = settings_of(&output);
            Profile::from_settings(&settings).unwrap_or_else(|e| panic!("{clause}: {file}: {e}"));
            // The fixed parts of the manifest.
            let doc: serde_json::Value = serde_yaml::from_str(&output).unwrap();
            assert_eq!(doc["apiVersion"], "policies.kubewarden.io/v1", "{file}");
            assert_eq!(doc["kind"], "ClusterAdmissionPolicy", "{file}");
            assert_eq!(doc["spec"]["module"], policy_module().as_str(), "{file}");
            assert_eq!(doc["spec"]["mutating"], true, "{file}");
            assert_eq!(
                doc["spec"]["contextAwareResources"],
                serde_json::json!([{"apiVersion": "v1", "kind": "Namespace"}]),
                "{file}"
            );
            assert_eq!(
                doc["spec"]["rules"],
                serde_json::json!([{"apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "operations": ["CREATE"]}]),
                "{file}"
            );
            assert_eq!(
                doc["spec"]["namespaceSelector"],
                serde_json::json!({"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system", "kubewarden"]}]}),
                "{file}"
            );
        }
    }

    #[test]
    fn selectors_are_carried_over_in_order() {
        let out = convert_configmap(&read("configmaps/004-five-default-selectors.yml")).unwrap();
        assert_eq!(
            selector_names(&out),
            [
                "default-selector-1",
                "default-selector-2",
                "default-selector-3",
                "default-selector-4",
                "default-selector-5",
                CLUSTER_DEFAULTS_SELECTOR,
            ],
            "seed 004: five selectors in order, the cluster defaults last"
        );
        // Field order inside a selector is kept too.
        let five = &settings_of(&out)["selectors"][4];
        assert_eq!(five["effect"]["labels"]["created-by-eci"], "true");
        assert!(out.find("namespaceSelector:\n").unwrap() < out.find("effect:\n").unwrap());
    }

    #[test]
    fn selectors_without_the_literal_block_give_the_same_settings() {
        let block = convert_configmap(&read("configmaps/004-five-default-selectors.yml")).unwrap();
        let list =
            convert_configmap(&read("configmaps/004-five-default-selectors-no-block.yml")).unwrap();
        assert_eq!(settings_of(&block), settings_of(&list));
    }

    #[test]
    fn cluster_keys_with_an_annotation_become_one_effect_only_selector_last() {
        let out = convert_configmap(&read("configmaps/000-kubectl-get.yml")).unwrap();
        let settings = settings_of(&out);
        assert_eq!(
            settings,
            serde_json::json!({"selectors": [{
                "name": CLUSTER_DEFAULTS_SELECTOR,
                "effect": {"annotations": {
                    "k8s.aliyun.com/eci-security-group": "sg-2zeeyaaxlkq9sppl****",
                    "k8s.aliyun.com/eci-vswitch": "vsw-2ze23nqzig8inprou****,vsw-2ze94pjtfuj9vaymf****",
                }},
            }]}),
            "seed 000: selectors \"\" keeps no selector; vSwitchIds and securityGroupId carried over"
        );
        let profile = Profile::from_settings(&settings).unwrap();
        assert!(!profile.selectors[0].is_scheduling(), "effect-only");
        // Masked values are flagged, once per value.
        assert_eq!(
            out.matches("# FILL IN: the value is masked (****)").count(),
            2
        );
        // Keys with no per-pod equivalent: one comment each, with the table's note.
        for key in [
            "enableClusterIp",
            "enableHybridMode",
            "enableLinuxArm64Node",
            "enableLogController",
            "enablePVCController",
            "enablePrivateZone",
            "enableReuseSSLKey",
            "featureGates",
            "vpcId",
        ] {
            let note = cluster_param(key).unwrap().note;
            assert_eq!(
                out.lines()
                    .filter(|l| l.trim_start().starts_with(&format!("# - {key} = ")))
                    .count(),
                1,
                "{key}: one comment"
            );
            assert!(out.contains(note), "{key}: its note");
        }
        assert!(out.contains("Empty in the ConfigMap, nothing to carry over: slsMachineGroup."));
    }

    #[test]
    fn ocr_spellings_and_placeholders() {
        let out = convert_configmap(&read("configmaps/004-five-default-selectors.yml")).unwrap();
        // vswitchIds → vSwitchIds; vpcld → vpcId, which has no per-pod equivalent.
        assert!(out.contains("# vswitchIds (vSwitchIds): "));
        assert!(out.contains("# - vpcld (vpcId) = \"vpc-xxx\": "));
        assert_eq!(
            out.matches("# FILL IN: the value is a placeholder").count(),
            1,
            "sg-xxx"
        );
        let settings = settings_of(&out);
        assert_eq!(
            settings["selectors"][5]["effect"]["annotations"],
            serde_json::json!({
                "k8s.aliyun.com/eci-security-group": "sg-xxx",
                "k8s.aliyun.com/eci-vswitch": "vsw-111,vsw-222",
            })
        );

        let out = convert_configmap(&read("configmaps/004-virtual-kubelet-install.yml")).unwrap();
        assert!(out.contains("Empty in the ConfigMap, nothing to carry over: resourceGroupId."));
        assert!(out.contains("# - vpcld (vpcId) = \"vpc-2ze0z**********\": "));
    }

    #[test]
    fn absent_selectors_are_the_component_defaults_written_out() {
        let out = convert_configmap("data:\n  vSwitchIds: vsw-1\n").unwrap();
        assert_eq!(
            selector_names(&out),
            [
                "default-pod-selector",
                "default-namespace-selector",
                CLUSTER_DEFAULTS_SELECTOR
            ]
        );
        let profile = Profile::from_settings(&settings_of(&out)).unwrap();
        assert_eq!(
            profile.selectors[..2],
            eci_profile::settings::default_selectors()[..]
        );
        // Without cluster keys as well.
        let out =
            convert_configmap("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: eci-profile}\n")
                .unwrap();
        assert_eq!(
            selector_names(&out),
            ["default-pod-selector", "default-namespace-selector"]
        );
    }

    #[test]
    fn empty_selectors_and_nothing_else_give_an_empty_list() {
        let out =
            convert_configmap("data:\n  selectors: \"\"\n  enableClusterIp: \"true\"\n").unwrap();
        assert!(out.contains("    selectors: []\n"), "{out}");
        assert!(out.contains("this policy changes no pod"));
        assert_eq!(settings_of(&out), serde_json::json!({"selectors": []}));
    }

    #[test]
    fn json_notes_copied_from_the_documentation_are_refused_naming_the_line() {
        let input = read("configmaps/000-template-with-comments.yml");
        let err = convert_configmap(&input).unwrap_err().to_string();
        let line = input
            .lines()
            .position(|l| l.contains("\"selector-demo1\","))
            .unwrap()
            + 1;
        assert_eq!(line, 14, "the file's layout");
        assert!(
            err.starts_with(&format!(
                "data.selectors (line {line}): the JSON does not parse: "
            )),
            "{err}"
        );
        assert!(
            err.ends_with(
                "JSON has no comments: remove the note \"# required\" (and every other `# …` note copied from the eci-profile documentation) from: \"name\": \"selector-demo1\",         # required"
            ),
            "{err}"
        );
    }

    #[test]
    fn json_errors_without_notes_name_the_line_too() {
        let input = "data:\n  selectors: |\n    [\n      {\"name\": \"a\",}\n    ]\n";
        let err = convert_configmap(input).unwrap_err().to_string();
        assert!(
            err.starts_with("data.selectors (line 4): the JSON does not parse: "),
            "{err}"
        );
        // A `#` inside a JSON string is no comment.
        let input = "data:\n  selectors: '[{\"name\": \"a#b\", \"objectSelector\": {\"matchLabels\": {\"x\": \"1\"}}}]'\n";
        assert!(convert_configmap(input).is_ok());
    }

    #[test]
    fn invalid_selectors_are_refused_with_the_policy_message() {
        let input = "data:\n  selectors: '[{\"name\": \"x\", \"objectSelector\": {\"matchLabels\": {\"eci\": true}}}]'\n";
        let err = convert_configmap(input).unwrap_err().to_string();
        assert_eq!(
            err,
            "the converted settings are not valid for the eci-profile policy: selectors[0] \"x\": objectSelector.matchLabels[\"eci\"]: expected a string, found true (quote it: \"true\")"
        );
    }

    #[test]
    fn inputs_that_are_not_an_eci_profile_configmap() {
        #[rustfmt::skip]
        let cases: &[(&str, &str)] = &[
            ("apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n", "no eci-profile ConfigMap found: the input holds Secret"),
            ("kind: ConfigMap\nmetadata: {name: a}\n---\nkind: ConfigMap\nmetadata: {name: b}\n", "the input holds 2 ConfigMaps and none is named eci-profile"),
            ("- 1\n- 2\n", "the input is not a ConfigMap: document 1 is a list"),
            ("foo: bar\n", "no eci-profile ConfigMap found: expected `kind: ConfigMap` (as `kubectl get cm -n kube-system eci-profile -o yaml` prints it) or a `data:` section"),
            ("data:\n  selectors: '{\"name\": \"a\"}'\n", "data.selectors (line 2): the JSON must be a list of selectors, found a mapping"),
            ("data:\n  selectors: {name: a}\n", "data.selectors (line 2): expected the JSON text of a list of selectors, found a mapping"),
            ("data: [a]\n", "data must be a mapping, found a list"),
        ];
        for (input, expected) in cases {
            let err = convert_configmap(input).unwrap_err().to_string();
            assert_eq!(&err, expected, "{input}");
        }
        let err = convert_configmap("data:\n  selectors: [\n").unwrap_err();
        assert!(
            format!("{err:#}").starts_with("the input is not valid YAML (document 1): "),
            "{err:#}"
        );
    }

    #[test]
    fn other_inputs_that_are_accepted() {
        // A List (kubectl get cm -o yaml with several names), picking eci-profile.
        let list = "apiVersion: v1\nkind: List\nitems:\n- kind: ConfigMap\n  metadata: {name: other}\n  data: {x: y}\n- kind: ConfigMap\n  metadata: {name: eci-profile, namespace: kube-system}\n  data: {selectors: '', vSwitchIds: vsw-1}\n";
        let out = convert_configmap(list).unwrap();
        assert!(out.contains("# from the eci-profile ConfigMap kube-system/eci-profile.\n"));
        assert_eq!(selector_names(&out), [CLUSTER_DEFAULTS_SELECTOR]);
        // Bare data keys, spaces in the vSwitch list, unknown and duplicate keys.
        let out = convert_configmap(
            "selectors: ''\nvSwitchIds: ' vsw-1 , vsw-2 '\nvSwitchlds: vsw-3\nfoo: bar\nresourceGroupId: rg-1\n",
        )
        .unwrap();
        let settings = settings_of(&out);
        assert_eq!(
            settings["selectors"][0]["effect"]["annotations"],
            serde_json::json!({
                "k8s.aliyun.com/eci-vswitch": "vsw-1,vsw-2",
                "k8s.aliyun.com/eci-resource-group-id": "rg-1",
            })
        );
        assert!(out.contains("# - vSwitchlds (vSwitchIds) = \"vsw-3\": ignored, vSwitchIds already gives k8s.aliyun.com/eci-vswitch."));
        assert!(
            out.contains(
                "# - foo = \"bar\": not a key of the eci-profile ConfigMap; not converted."
            )
        );
        assert!(!out.contains("FILL IN"));
        // Our selector name already taken.
        let out = convert_configmap(
            "data:\n  selectors: '[{\"name\": \"ECI-profile-cluster-defaults\", \"objectSelector\": {\"matchLabels\": {\"a\": \"b\"}}}]'\n  securityGroupId: sg-1\n",
        )
        .unwrap();
        assert_eq!(
            selector_names(&out),
            [
                "ECI-profile-cluster-defaults",
                "eci-profile-cluster-defaults-2"
            ]
        );
    }

    #[test]
    fn scalars_round_trip() {
        for s in [
            "true",
            "True",
            "no",
            "null",
            "~",
            "",
            "1",
            "0755",
            "1e3",
            "2-4Gi",
            "a: b",
            "a #b",
            "-a",
            "*a",
            "&a",
            "!a",
            "%a",
            "@a",
            "`a",
            "'a",
            "\"a",
            "a\nb",
            " a",
            "a ",
            "[a]",
            "{a}",
            "vsw-1****,vsw-2",
            "k8s.aliyun.com/eci-use-specs",
            "ecs.c6.xlarge",
            "2001-12-14",
            ".inf",
            "0x1F",
            "é",
            "\u{7}",
        ] {
            let text = format!("k: {}\n", scalar(s));
            let back: std::collections::BTreeMap<String, Value> =
                serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{s:?}: {e}"));
            assert_eq!(
                back["k"],
                Value::String(s.into()),
                "{s:?} written as {text:?}"
            );
        }
        assert_eq!(scalar("ecs.gn6v-c8g1.2xlarge"), "ecs.gn6v-c8g1.2xlarge");
        assert_eq!(scalar("true"), "\"true\"");
    }
}
