//! Reading untrusted JSON with errors that name the path and the value found.
//! Settings and pods are walked as raw `serde_json::Value`s: nothing is
//! round-tripped through typed structs, and every type mismatch becomes a
//! message such as `metadata.labels["app"]: expected a string, found 5`.

use serde_json::{Map, Value};
use std::fmt::Write;

/// A short rendering of a value for error messages (long values are cut).
pub fn show(value: &Value) -> String {
    const MAX: usize = 60;
    let text = value.to_string();
    if text.chars().count() <= MAX {
        return text;
    }
    let mut cut: String = text.chars().take(MAX).collect();
    cut.push('…');
    cut
}

/// `base["key"]`, the way errors name a map entry.
pub fn entry(base: &str, key: &str) -> String {
    let mut s = String::with_capacity(base.len() + key.len() + 4);
    s.push_str(base);
    let _ = write!(s, "[{}]", Value::from(key));
    s
}

/// `base[index]`, the way errors name a list item.
pub fn item(base: &str, index: usize) -> String {
    format!("{base}[{index}]")
}

/// `base.field`.
pub fn field(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_string()
    } else {
        format!("{base}.{name}")
    }
}

fn expected(path: &str, what: &str, found: &Value) -> String {
    format!("{path}: expected {what}, found {}", show(found))
}

/// An optional object: missing or `null` is `None`.
pub fn opt_object<'a>(
    value: Option<&'a Value>,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(other) => Err(expected(path, "a mapping", other)),
    }
}

/// An optional list: missing or `null` is `None`.
pub fn opt_array<'a>(value: Option<&'a Value>, path: &str) -> Result<Option<&'a [Value]>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(other) => Err(expected(path, "a list", other)),
    }
}

/// An optional string: missing or `null` is `None`.
pub fn opt_str<'a>(value: Option<&'a Value>, path: &str) -> Result<Option<&'a str>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(expected(path, "a string", other)),
    }
}

/// An optional boolean: missing or `null` is `false`.
pub fn opt_bool(value: Option<&Value>, path: &str) -> Result<bool, String> {
    match value {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(expected(path, "true or false", other)),
    }
}

/// A required string value of a pod's string map (labels, annotations, nodeSelector).
pub fn string_value<'a>(value: &'a Value, path: &str) -> Result<&'a str, String> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(expected(path, "a string", other)),
    }
}

/// A required string value in settings. YAML's unquoted `true` or `1` get a
/// hint, since that is the usual mistake when writing settings by hand.
pub fn setting_string<'a>(value: &'a Value, path: &str) -> Result<&'a str, String> {
    match value {
        Value::String(s) => Ok(s),
        Value::Bool(_) | Value::Number(_) => Err(format!(
            "{path}: expected a string, found {} (quote it: \"{}\")",
            show(value),
            value
        )),
        other => Err(expected(path, "a string", other)),
    }
}

/// An optional map of strings to strings, such as `metadata.labels`.
pub fn opt_string_map<'a>(
    value: Option<&'a Value>,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, String> {
    let Some(map) = opt_object(value, path)? else {
        return Ok(None);
    };
    for (key, value) in map {
        string_value(value, &entry(path, key))?;
    }
    Ok(Some(map))
}

/// `map[key]` as an object, created when missing or null.
pub fn object_entry<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a mut Map<String, Value>, String> {
    let slot = map.entry(key).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(inner) => Ok(inner),
        other => Err(format!("{path}: expected a mapping, found {}", show(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_name_path_and_value() {
        let labels = json!({"app": 5});
        assert_eq!(
            opt_string_map(Some(&labels), "metadata.labels").unwrap_err(),
            r#"metadata.labels["app"]: expected a string, found 5"#
        );
        assert_eq!(
            opt_array(Some(&json!({"a": 1})), "spec.tolerations").unwrap_err(),
            r#"spec.tolerations: expected a list, found {"a":1}"#
        );
        assert_eq!(
            setting_string(&json!(true), "effect.labels[\"eci\"]").unwrap_err(),
            r#"effect.labels["eci"]: expected a string, found true (quote it: "true")"#
        );
        assert_eq!(opt_object(Some(&Value::Null), "x").unwrap(), None);
        assert_eq!(entry("effect.labels", "a\"b"), r#"effect.labels["a\"b"]"#);
        assert_eq!(field("", "name"), "name");
        assert_eq!(field("spec", "nodeName"), "spec.nodeName");
        assert_eq!(item("spec.containers", 2), "spec.containers[2]");
    }

    #[test]
    fn long_values_are_cut() {
        let long = Value::String("x".repeat(200));
        let shown = show(&long);
        assert_eq!(shown.chars().count(), 61);
        assert!(shown.ends_with('…'));
    }
}
