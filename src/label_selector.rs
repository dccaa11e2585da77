//! Kubernetes LabelSelector (`matchLabels` + `matchExpressions`, all ANDed),
//! checked once when the settings are compiled and then matched with no
//! further checks: evaluation cannot meet an invalid selector.

use crate::json_path::{
    At, Joined, Json, JsonMap, Quoted, field, item, mapping_or_error, object, opt_array, opt_str,
    or_push, setting_pairs, setting_string, show, unknown_field,
};
use crate::k8s_names::{label_key, label_pair, label_value};
use serde_json::{Map, Value};
use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;

/// Anything labels can be read from: a pod's raw `metadata.labels`, a namespace's labels.
pub trait Labels {
    fn label(&self, key: &str) -> Option<&str>;
}

impl Labels for Map<String, Value> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }
}

/// No labels at all.
impl<T: Labels> Labels for Option<&T> {
    fn label(&self, key: &str) -> Option<&str> {
        self.and_then(|labels| labels.label(key))
    }
}

/// A namespace's labels, or the labels the screen borrows from the request.
impl<K: Borrow<str> + Ord, V: AsRef<str>> Labels for BTreeMap<K, V> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).map(AsRef::as_ref)
    }
}

/// One compiled requirement. `matchLabels` entries become `Equals`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    Equals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

impl Requirement {
    pub fn matches(&self, labels: &impl Labels) -> bool {
        match self {
            Requirement::Equals(key, value) => labels.label(key) == Some(value.as_str()),
            Requirement::In(key, values) => labels
                .label(key)
                .is_some_and(|v| values.iter().any(|x| x == v)),
            // Kubernetes: NotIn also matches when the label is absent.
            Requirement::NotIn(key, values) => labels
                .label(key)
                .is_none_or(|v| values.iter().all(|x| x != v)),
            Requirement::Exists(key) => labels.label(key).is_some(),
            Requirement::DoesNotExist(key) => labels.label(key).is_none(),
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::Equals(k, v) => write!(f, "{k}={v}"),
            Requirement::In(k, vs) => write!(f, "{k} in ({})", Joined(vs, ",")),
            Requirement::NotIn(k, vs) => write!(f, "{k} notin ({})", Joined(vs, ",")),
            Requirement::Exists(k) => write!(f, "{k}"),
            Requirement::DoesNotExist(k) => write!(f, "!{k}"),
        }
    }
}

/// A compiled LabelSelector. The empty selector matches everything, as in Kubernetes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector {
    pub requirements: Vec<Requirement>,
}

impl LabelSelector {
    /// `matchLabels` pairs, for selectors built in code (the built-in defaults).
    pub fn match_labels(pairs: &[(&str, &str)]) -> Self {
        LabelSelector {
            requirements: pairs
                .iter()
                .map(|(k, v)| Requirement::Equals(k.to_string(), v.to_string()))
                .collect(),
        }
    }

    pub fn matches(&self, labels: &impl Labels) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Compiles a LabelSelector from settings; `path` names it in errors
    /// (e.g. `objectSelector`). All problems are pushed to `errors`.
    pub fn compile<J: Json>(value: &J, path: At, errors: &mut Vec<String>) -> Option<Self> {
        let map = mapping_or_error(value, path, errors)?;
        let before = errors.len();
        let mut out = Vec::new();
        // matchLabels first, then matchExpressions, as Kubernetes lists them.
        let labels_path = field(path, "matchLabels");
        if let Some(labels) = map.lookup("matchLabels")
            && let Some(labels) = mapping_or_error(labels, &labels_path, errors)
        {
            let pairs = setting_pairs(labels, &labels_path, label_pair, errors);
            out.extend(pairs.into_iter().map(|(k, v)| Requirement::Equals(k, v)));
        }
        if let Some(exprs) = map.lookup("matchExpressions") {
            compile_match_expressions(exprs, &field(path, "matchExpressions"), &mut out, errors);
        }
        for (name, _) in map
            .entries()
            .filter(|(k, _)| !matches!(*k, "matchLabels" | "matchExpressions"))
        {
            errors.push(unknown_field(path, name, "matchLabels, matchExpressions"));
        }
        (errors.len() == before).then_some(LabelSelector { requirements: out })
    }
}

impl fmt::Display for LabelSelector {
    /// The `kubectl -l` form: `a=b,c in (d,e),!f`; `<everything>` for the empty selector.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.requirements.is_empty() {
            return write!(f, "<everything>");
        }
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                write!(f, ",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// Records `check`'s error, if any, at `path`; whether it passed.
fn passes(check: Result<(), String>, path: At, errors: &mut Vec<String>) -> bool {
    check
        .map_err(|why| errors.push(format!("{path}: {why}")))
        .is_ok()
}

fn compile_match_expressions<J: Json>(
    value: &J,
    path: At,
    out: &mut Vec<Requirement>,
    errors: &mut Vec<String>,
) {
    let Some(Some(items)) = or_push(opt_array(Some(value), path), errors) else {
        return;
    };
    for (i, expr) in items.iter().enumerate() {
        out.extend(compile_expression(expr, &item(path, i), errors));
    }
}

/// The fields of a match expression, with their types: only the first
/// problem, since the others would follow from it.
fn expression_fields<'a, J: Json>(
    expr: &'a J,
    path: At,
) -> Result<(&'a str, &'a str, Option<&'a [J]>), String> {
    let map = object(expr, path)?;
    if let Some((unknown, _)) = map
        .entries()
        .find(|(k, _)| !matches!(*k, "key" | "operator" | "values"))
    {
        return Err(unknown_field(path, unknown, "key, operator, values"));
    }
    let key = opt_str(map.lookup("key"), field(path, "key"))?;
    let key = key.ok_or_else(|| format!("{path}: key is required"))?;
    let operator = opt_str(map.lookup("operator"), field(path, "operator"))?;
    let operator = operator
        .ok_or_else(|| format!("{path}: operator is required (In, NotIn, Exists, DoesNotExist)"))?;
    let values = opt_array(map.lookup("values"), field(path, "values"))?;
    Ok((key, operator, values))
}

fn compile_expression<J: Json>(
    expr: &J,
    path: At,
    errors: &mut Vec<String>,
) -> Option<Requirement> {
    let (key, operator, items) = or_push(expression_fields(expr, path), errors)?;
    let items = items.unwrap_or_default();
    let values_path = field(path, "values");
    let mut values = Vec::new();
    for (i, v) in items.iter().enumerate() {
        if let Some(v) = or_push(setting_string(v, item(&values_path, i)), errors) {
            values.push(v.to_string());
        }
    }
    // A value of the wrong type is already reported: no second error
    // saying the operator lacks values.
    if values.len() < items.len() {
        return None;
    }
    let key_ok = passes(label_key(key), &field(path, "key"), errors);
    let mut values_ok = true;
    for (i, v) in values.iter().enumerate() {
        values_ok &= passes(label_value(v), &item(&values_path, i), errors);
    }
    let key = key.to_string();
    let requirement = match operator {
        "In" | "NotIn" if values.is_empty() => Err(format!(
            "{path}: operator {operator} needs at least one value"
        )),
        "Exists" | "DoesNotExist" if !values.is_empty() => Err(format!(
            "{path}: operator {operator} takes no values, found {}",
            show(&Value::from(values))
        )),
        "In" => Ok(Requirement::In(key, values)),
        "NotIn" => Ok(Requirement::NotIn(key, values)),
        "Exists" => Ok(Requirement::Exists(key)),
        "DoesNotExist" => Ok(Requirement::DoesNotExist(key)),
        other => Err(format!(
            "{path}: operator {} is not one of In, NotIn, Exists, DoesNotExist",
            Quoted(other)
        )),
    };
    let requirement = or_push(requirement, errors)?;
    (key_ok && values_ok).then_some(requirement)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn compile(v: Value) -> Result<LabelSelector, Vec<String>> {
        let mut errors = Vec::new();
        match LabelSelector::compile(&v, &"objectSelector", &mut errors) {
            Some(s) if errors.is_empty() => Ok(s),
            _ => Err(errors),
        }
    }

    fn labels(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn kubernetes_matching_semantics() {
        let env_prod = labels(json!({"env": "prod", "tier": "batch"}));
        let no_labels = labels(json!({}));
        for (selector, labels, expected, msg) in [
            (
                json!({}),
                &env_prod,
                true,
                "empty selector matches everything",
            ),
            (
                json!({}),
                &no_labels,
                true,
                "empty selector matches a pod without labels",
            ),
            (
                json!({"matchLabels": {"env": "prod"}}),
                &env_prod,
                true,
                "matchLabels equal",
            ),
            (
                json!({"matchLabels": {"env": "dev"}}),
                &env_prod,
                false,
                "matchLabels differ",
            ),
            (
                json!({"matchLabels": {"env": "prod", "x": "y"}}),
                &env_prod,
                false,
                "matchLabels ANDed",
            ),
            (
                json!({"matchExpressions": [{"key": "env", "operator": "In", "values": ["dev", "prod"]}]}),
                &env_prod,
                true,
                "In hit",
            ),
            (
                json!({"matchExpressions": [{"key": "env", "operator": "In", "values": ["dev"]}]}),
                &env_prod,
                false,
                "In miss",
            ),
            (
                json!({"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}),
                &env_prod,
                false,
                "In on absent key",
            ),
            (
                json!({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]}),
                &env_prod,
                true,
                "NotIn hit",
            ),
            (
                json!({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]}),
                &env_prod,
                false,
                "NotIn miss",
            ),
            (
                json!({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}),
                &env_prod,
                true,
                "NotIn matches an absent key",
            ),
            (
                json!({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}),
                &env_prod,
                true,
                "Exists",
            ),
            (
                json!({"matchExpressions": [{"key": "zone", "operator": "Exists", "values": []}]}),
                &env_prod,
                false,
                "Exists on absent key, empty values allowed",
            ),
            (
                json!({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}),
                &env_prod,
                true,
                "DoesNotExist",
            ),
            (
                json!({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}),
                &env_prod,
                false,
                "DoesNotExist on present key",
            ),
            (
                json!({"matchLabels": {"env": "prod"}, "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["batch"]}]}),
                &env_prod,
                false,
                "matchLabels AND matchExpressions",
            ),
        ] {
            let compiled = compile(selector.clone()).unwrap_or_else(|e| panic!("{msg}: {e:?}"));
            assert_eq!(compiled.matches(labels), expected, "{msg}: {selector}");
        }
    }

    #[test]
    fn namespace_labels_match_too() {
        let ns: BTreeMap<String, String> = [("gpu".to_string(), "true".to_string())].into();
        assert!(LabelSelector::match_labels(&[("gpu", "true")]).matches(&ns));
        assert!(!LabelSelector::match_labels(&[("gpu", "false")]).matches(&ns));
    }

    #[test]
    fn invalid_selectors_name_field_and_value() {
        for (selector, error, msg) in [
            (
                json!({"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["b"]}]}),
                r#"objectSelector.matchExpressions[0]: operator "Equals" is not one of In, NotIn, Exists, DoesNotExist"#,
                "bad operator",
            ),
            (
                json!({"matchExpressions": [{"key": "a", "operator": "In"}]}),
                "objectSelector.matchExpressions[0]: operator In needs at least one value",
                "In without values",
            ),
            (
                json!({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": []}]}),
                "objectSelector.matchExpressions[0]: operator NotIn needs at least one value",
                "NotIn with empty values",
            ),
            (
                json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}),
                r#"objectSelector.matchExpressions[0]: operator Exists takes no values, found ["x"]"#,
                "Exists with values",
            ),
            (
                json!({"matchExpressions": [{"operator": "Exists"}]}),
                "objectSelector.matchExpressions[0]: key is required",
                "missing key",
            ),
            (
                json!({"matchExpressions": [{"key": "a"}]}),
                "objectSelector.matchExpressions[0]: operator is required (In, NotIn, Exists, DoesNotExist)",
                "missing operator",
            ),
            (
                json!({"matchLabels": {"bad key": "x"}}),
                r#"objectSelector.matchLabels["bad key"]: key "bad key" is not a valid label key: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"#,
                "bad key",
            ),
            (
                json!({"matchLabels": {"team": "has space"}}),
                r#"objectSelector.matchLabels["team"]: value "has space" is not a valid label value: must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"#,
                "bad value",
            ),
            (
                json!({"matchLabels": {"eci": true}}),
                r#"objectSelector.matchLabels["eci"]: expected a string, found true (quote it: "true")"#,
                "unquoted YAML boolean",
            ),
            (
                json!({"matchLabel": {"eci": "true"}}),
                r#"objectSelector: unknown field "matchLabel" (known fields: matchLabels, matchExpressions)"#,
                "typo in field",
            ),
            (
                json!(["eci"]),
                r#"objectSelector: expected a mapping, found ["eci"]"#,
                "not a mapping",
            ),
            (
                json!({"matchExpressions": [{"key": "a", "operator": "In", "values": [1]}]}),
                r#"objectSelector.matchExpressions[0].values[0]: expected a string, found 1 (quote it: "1")"#,
                "a value of the wrong type is one error, not two",
            ),
            (
                json!({"matchExpressions": [{"key": "a", "operator": "In", "values": ["ok", "not ok"]}]}),
                r#"objectSelector.matchExpressions[0].values[1]: value "not ok" is not a valid label value: must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"#,
                "bad value in values",
            ),
        ] {
            assert_eq!(
                compile(selector).unwrap_err(),
                vec![error.to_string()],
                "{msg}"
            );
        }
    }

    #[test]
    fn display_is_the_kubectl_form() {
        let s = compile(json!({"matchLabels": {"a": "b"}, "matchExpressions": [
            {"key": "c", "operator": "In", "values": ["d", "e"]},
            {"key": "f", "operator": "DoesNotExist"}]}))
        .unwrap();
        assert_eq!(s.to_string(), "a=b,c in (d,e),!f");
        assert_eq!(LabelSelector::default().to_string(), "<everything>");
    }
}
