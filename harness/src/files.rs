//! Reading the documents the harness is fed: settings, admission requests,
//! Namespace objects and replay cases, each as YAML or JSON.
//!
//! Every error names the file, and the parser's own line and column, so that a
//! typo in a fixture is found without a debugger.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// Reads a YAML or JSON file into a JSON value.
///
/// `.json` files are read with the JSON parser (its messages are the precise
/// ones for JSON); anything else with the YAML parser. An empty YAML document
/// (or one holding only comments) reads as `null`.
pub fn read_document(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let is_json = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
    parse_document(&text, is_json).with_context(|| format!("{}", path.display()))
}

/// Parses YAML (or, with `is_json`, JSON) text into a JSON value.
pub fn parse_document(text: &str, is_json: bool) -> Result<Value> {
    if is_json {
        return serde_json::from_str(text).context("not valid JSON");
    }
    if is_blank_yaml(text) {
        return Ok(Value::Null);
    }
    serde_yaml::from_str(text).context("not valid YAML")
}

/// A YAML text with nothing but blank lines, comments and document markers.
fn is_blank_yaml(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---"
    })
}

/// Policy settings from a parsed document: `null` means no settings, which
/// policy-server sends to the policy as `{}`.
pub fn settings_from_document(document: Value) -> Result<Value> {
    match document {
        Value::Null => Ok(Value::Object(Default::default())),
        Value::Object(_) => Ok(document),
        other => bail!(
            "settings must be a mapping, found {}",
            describe_value(&other)
        ),
    }
}

/// The AdmissionRequest held by a document: either the request itself, or a
/// whole `AdmissionReview` (as captured from an API server), whose `request`
/// is taken.
pub fn admission_request_from_document(document: Value) -> Result<Value> {
    let Value::Object(mut map) = document else {
        bail!(
            "an AdmissionRequest must be a mapping, found {}",
            describe_value(&document)
        );
    };
    if map.get("kind").and_then(Value::as_str) == Some("AdmissionReview") {
        return match map.remove("request") {
            Some(request @ Value::Object(_)) => Ok(request),
            Some(other) => bail!(
                "AdmissionReview.request must be a mapping, found {}",
                describe_value(&other)
            ),
            None => bail!("this AdmissionReview has no `request`"),
        };
    }
    Ok(Value::Object(map))
}

/// A short description of a value for error messages: its type and, for
/// scalars, the value itself.
pub fn describe_value(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "a mapping".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_and_json_read_to_the_same_value() {
        let yaml = parse_document(
            "selectors:\n  - name: a\n    effect: {labels: {x: \"1\"}}\n",
            false,
        )
        .unwrap();
        let json = parse_document(
            r#"{"selectors": [{"name": "a", "effect": {"labels": {"x": "1"}}}]}"#,
            true,
        )
        .unwrap();
        assert_eq!(yaml, json);
    }

    #[test]
    fn blank_yaml_is_null_and_means_no_settings() {
        let doc = parse_document("# nothing here\n---\n", false).unwrap();
        assert_eq!(doc, Value::Null);
        assert_eq!(settings_from_document(doc).unwrap(), json!({}));
    }

    #[test]
    fn settings_must_be_a_mapping() {
        let err = settings_from_document(json!([1])).unwrap_err();
        assert_eq!(err.to_string(), "settings must be a mapping, found a list");
    }

    #[test]
    fn invalid_yaml_names_the_line() {
        let err = parse_document("a: [1, 2\nb: 3\n", false).unwrap_err();
        let text = format!("{err:#}");
        assert!(text.starts_with("not valid YAML: "), "{text}");
        assert!(text.contains("line"), "{text}");
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = read_document(Path::new("/nonexistent/settings.yml")).unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.starts_with("cannot read /nonexistent/settings.yml: "),
            "{text}"
        );
    }

    #[test]
    fn admission_review_is_unwrapped() {
        let review = json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {"uid": "1", "operation": "CREATE"}
        });
        assert_eq!(
            admission_request_from_document(review).unwrap(),
            json!({"uid": "1", "operation": "CREATE"})
        );
        let bare = json!({"uid": "2"});
        assert_eq!(admission_request_from_document(bare.clone()).unwrap(), bare);
        let err = admission_request_from_document(json!("x")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "an AdmissionRequest must be a mapping, found the string \"x\""
        );
    }
}
