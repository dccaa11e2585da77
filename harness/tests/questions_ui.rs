//! `questions-ui.yml` (Rancher's Kubewarden policy form) against the policy's
//! settings: what the form writes by default, and what it writes when a
//! selector is added, must be settings the policy accepts, and the defaults
//! must not change what the policy does.
//!
//! How the form writes values (rancher/kubewarden-ui, pkg/kubewarden/components/
//! Questions): every question except `sequence[` writes its `default` when the
//! value is unset (Question.js `created`); `map[` subquestions are shown as
//! questions of their own with dotted variables; adding a `sequence[` item
//! writes `{variable: default}` for each of its `sequence_questions`.

use std::path::Path;

use eci_profile::settings::Profile;
use serde_json::{Map, Value, json};

fn questions() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../questions-ui.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: Value = serde_yaml::from_str(&text).expect("questions-ui.yml is YAML");
    doc["questions"]
        .as_array()
        .expect("questions: a list")
        .clone()
}

/// Sets a dotted variable, creating mappings on the way, unless already set.
fn set_default(settings: &mut Map<String, Value>, variable: &str, value: &Value) {
    let mut parts = variable.split('.').peekable();
    let mut here = settings;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            here.entry(part.to_string())
                .or_insert_with(|| value.clone());
            return;
        }
        here = here
            .entry(part.to_string())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("a mapping on the way");
    }
}

/// The settings the form writes before anyone types anything.
fn form_defaults(questions: &[Value], settings: &mut Map<String, Value>) {
    for q in questions {
        let kind = q["type"].as_str().unwrap_or("string");
        if !kind.starts_with("sequence[") && q.get("default").is_some() {
            set_default(settings, q["variable"].as_str().unwrap(), &q["default"]);
        }
        if let Some(subs) = q.get("subquestions").and_then(Value::as_array) {
            form_defaults(subs, settings);
        }
    }
}

fn find<'a>(questions: &'a [Value], variable: &str) -> &'a Value {
    questions
        .iter()
        .find(|q| q["variable"] == variable)
        .unwrap_or_else(|| panic!("a question for {variable}"))
}

#[test]
fn the_form_covers_the_settings() {
    let qs = questions();
    let variables: Vec<&str> = qs.iter().filter_map(|q| q["variable"].as_str()).collect();
    assert_eq!(
        variables,
        [
            "selectors",
            "configMapRef",
            "virtualNode",
            "onNamespaceLookupError",
            "onProfileError"
        ],
        "one question per setting, and no extra top-level value (the policy refuses unknown fields)"
    );
    let selectors = find(&qs, "selectors");
    assert_eq!(selectors["type"], "sequence[");
    let items: Vec<&str> = selectors["sequence_questions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|q| q["variable"].as_str())
        .collect();
    assert_eq!(
        items,
        ["name", "namespaceSelector", "objectSelector", "effect"]
    );
    let vn = find(&qs, "virtualNode");
    let subs: Vec<&str> = vn["subquestions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|q| q["variable"].as_str())
        .collect();
    assert_eq!(
        subs,
        ["virtualNode.nodeSelector", "virtualNode.tolerations"]
    );
}

#[test]
fn the_form_defaults_are_the_policy_defaults() {
    let mut settings = Map::new();
    form_defaults(&questions(), &mut settings);
    let settings = Value::Object(settings);
    let profile = Profile::from_settings(&settings)
        .unwrap_or_else(|e| panic!("form defaults {settings} rejected: {e}"));
    assert_eq!(profile, Profile::default(), "{settings}");
}

#[test]
fn a_selector_added_in_the_form_is_checked_not_matching_everything() {
    let qs = questions();
    // What "Add" writes for a new selector.
    let mut item = Map::new();
    for q in find(&qs, "selectors")["sequence_questions"]
        .as_array()
        .unwrap()
    {
        item.insert(q["variable"].as_str().unwrap().into(), q["default"].clone());
    }
    let untouched = json!({"selectors": [Value::Object(item.clone())]});
    assert_eq!(
        Profile::from_settings(&untouched).unwrap_err().to_string(),
        "selectors[0]: name is required",
        "an untouched new selector is refused, and does not match every pod"
    );
    item.insert("name".into(), "gpu".into());
    let named = json!({"selectors": [Value::Object(item.clone())]});
    assert_eq!(
        Profile::from_settings(&named).unwrap_err().to_string(),
        "selectors[0] \"gpu\": has neither namespaceSelector, objectSelector nor effect"
    );
    // The YAML editor of a map[ seeds its subquestions' defaults; the user fills one.
    item.insert(
        "namespaceSelector".into(),
        json!({"matchLabels": {"gpu": "true"}, "matchExpressions": []}),
    );
    item.insert(
        "effect".into(),
        json!({"annotations": {"k8s.aliyun.com/eci-use-specs": "ecs.gn6v-c8g1.2xlarge"}, "labels": {}}),
    );
    let filled = json!({"selectors": [Value::Object(item)]});
    let profile = Profile::from_settings(&filled).unwrap();
    assert!(profile.selectors[0].is_scheduling());
}

#[test]
fn the_form_options_are_accepted_by_the_policy() {
    let qs = questions();
    for option in find(&qs, "onNamespaceLookupError")["options"]
        .as_array()
        .unwrap()
    {
        Profile::from_settings(&json!({"onNamespaceLookupError": option}))
            .unwrap_or_else(|e| panic!("{option}: {e}"));
    }
    let tolerations = find(
        find(&qs, "virtualNode")["subquestions"].as_array().unwrap(),
        "virtualNode.tolerations",
    );
    let fields = tolerations["sequence_questions"].as_array().unwrap();
    for operator in find(fields, "operator")["options"].as_array().unwrap() {
        for effect in find(fields, "effect")["options"].as_array().unwrap() {
            let value = if operator == "Equal" { "true" } else { "" };
            let mut t =
                json!({"key": "k8s.aliyun.com/vnode", "operator": operator, "effect": effect});
            if !value.is_empty() {
                t["value"] = value.into();
            }
            Profile::from_settings(&json!({"virtualNode": {"tolerations": [t]}}))
                .unwrap_or_else(|e| panic!("{operator} {effect}: {e}"));
        }
    }
    // A toleration as "Add" writes it, key filled in.
    let mut t = Map::new();
    for q in fields {
        t.insert(q["variable"].as_str().unwrap().into(), q["default"].clone());
    }
    t.insert("key".into(), "virtual-kubelet.io/provider".into());
    Profile::from_settings(&json!({"virtualNode": {"tolerations": [Value::Object(t)]}}))
        .expect("a new toleration with its key filled in");
}

#[test]
fn the_live_profile_questions_write_settings_the_policy_accepts() {
    let qs = questions();
    let config_map = find(&qs, "configMapRef");
    assert_eq!(config_map["type"], "map[");
    let subs = config_map["subquestions"].as_array().unwrap();
    let fields: Vec<&str> = subs.iter().filter_map(|q| q["variable"].as_str()).collect();
    assert_eq!(fields, ["configMapRef.namespace", "configMapRef.name"]);
    // No default: the form writes nothing under configMapRef until filled in
    // (a half-written reference would be refused).
    assert!(subs.iter().all(|q| q.get("default").is_none()));
    // Filled in, with the selectors list left empty (so not written).
    let mut settings = Map::new();
    set_default(
        &mut settings,
        "configMapRef.namespace",
        &"kube-system".into(),
    );
    set_default(&mut settings, "configMapRef.name", &"eci-profile".into());
    form_defaults(&qs, &mut settings);
    let profile = Profile::from_settings(&Value::Object(settings.clone()))
        .unwrap_or_else(|e| panic!("{settings:?}: {e}"));
    assert_eq!(
        profile.config_map.map(|c| c.to_string()).as_deref(),
        Some("kube-system/eci-profile")
    );
    for option in find(&qs, "onProfileError")["options"].as_array().unwrap() {
        let mut settings = settings.clone();
        settings.insert("onProfileError".into(), option.clone());
        Profile::from_settings(&Value::Object(settings))
            .unwrap_or_else(|e| panic!("{option}: {e}"));
    }
    // Only a name: refused, naming the missing field.
    let half = json!({"configMapRef": {"name": "eci-profile"}});
    assert_eq!(
        Profile::from_settings(&half).unwrap_err().to_string(),
        "configMapRef.namespace: required (for example \"kube-system\")"
    );
}
