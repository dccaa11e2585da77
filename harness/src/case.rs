//! Replay cases (`test_data/cases/*.yml`): one admission request, the
//! settings, the namespace the host knows, and the exact expected outcome.
//! The format is described in `docs/DESIGN.md`, "Replay cases".
//!
//! A case is checked completely when it is loaded: an unknown field, a
//! missing file or an `expect` block that contradicts itself is reported with
//! the file and the field, before any policy runs.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use json_patch::Patch;
use serde::Deserialize;
use serde_json::Value;

use crate::files::{
    admission_request_from_document, describe_value, read_document, settings_from_document,
};
use crate::host::{Answer, Cluster, check_config_map_object, check_namespace_object};

/// One replay case, with every file it refers to read in.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// The file's name without its extension.
    pub name: String,
    /// The case file.
    pub file: PathBuf,
    pub description: String,
    /// The SPEC clause or seed example the case proves.
    pub clause: Option<String>,
    /// The settings sent to the policy (`{}` for none).
    pub settings: Value,
    /// The AdmissionRequest, with `request_overrides` applied.
    pub request: Value,
    /// What `get_resource` answers for the request's namespace; `None` when
    /// the host knows no namespace.
    pub namespace: Option<Answer>,
    /// What `get_resource` answers for the settings' `configMapRef`.
    pub config_map: Option<Answer>,
    pub expect: Expectation,
}

/// What the policy must answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Expectation {
    /// `validate_settings` rejects the settings with exactly this message.
    SettingsError(String),
    /// The settings are valid and `validate` answers this.
    Outcome(ExpectedOutcome),
}

/// The expected answer to `validate`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedOutcome {
    pub accepted: bool,
    /// The rejection message (only for `accepted: false`).
    pub message: Option<String>,
    /// The exact patch; empty means no mutated object at all.
    pub patch: Patch,
    /// The exact warnings, in order (none when omitted).
    pub warnings: Vec<String>,
    /// The exact number of `get_resource` calls for a Namespace, when given.
    pub namespace_lookups: Option<usize>,
    /// The exact number of `get_resource` calls for a ConfigMap, when given.
    pub config_map_lookups: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    description: String,
    #[serde(default)]
    clause: Option<String>,
    #[serde(default)]
    settings: Value,
    request: Value,
    #[serde(default)]
    request_overrides: Option<Value>,
    #[serde(default)]
    namespace: Option<RawAnswer>,
    /// What the host answers for the settings' `configMapRef`.
    #[serde(default)]
    config_map: Option<RawAnswer>,
    expect: RawExpect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnswer {
    #[serde(default)]
    found: Option<Value>,
    #[serde(default)]
    not_found: Option<bool>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    malformed: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    #[serde(default)]
    settings_error: Option<String>,
    #[serde(default)]
    accepted: Option<bool>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    patch: Option<Value>,
    #[serde(default)]
    warnings: Option<Vec<String>>,
    #[serde(default)]
    namespace_lookups: Option<usize>,
    #[serde(default)]
    config_map_lookups: Option<usize>,
}

impl Case {
    /// Reads the case in `file`; the files it names are relative to `base`
    /// (`test_data/`).
    pub fn load(file: &Path, base: &Path) -> Result<Case> {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        Self::parse(&text, file, base).with_context(|| format!("{}", file.display()))
    }

    /// Parses the text of a case; `file` names it, `base` is where the files
    /// it names are found.
    pub fn parse(text: &str, file: &Path, base: &Path) -> Result<Case> {
        let raw: RawCase = serde_yaml::from_str(text).context("not a valid case")?;
        let settings = load_file_or_inline(raw.settings, base)
            .and_then(settings_from_document)
            .context("settings")?;
        let request = load_request(raw.request, raw.request_overrides, base)?;
        let namespace = raw
            .namespace
            .map(|ns| answer(ns, "namespace", check_namespace_object, base))
            .transpose()?;
        let config_map = raw
            .config_map
            .map(|cm| answer(cm, "config_map", check_config_map_object, base))
            .transpose()?;
        let expect = expectation(raw.expect).context("expect")?;
        Ok(Case {
            name: file
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default(),
            file: file.to_owned(),
            description: raw.description,
            clause: raw.clause,
            settings,
            request,
            namespace,
            config_map,
            expect,
        })
    }

    /// The request's `namespace` (empty for cluster-scoped requests).
    pub fn request_namespace(&self) -> &str {
        self.request
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The cluster the host answers from: the fixture, under the request's
    /// namespace; any other name is not found.
    pub fn cluster(&self) -> Cluster {
        let mut cluster = Cluster::new();
        if let Some(answer) = &self.namespace {
            cluster.insert(self.request_namespace(), answer.clone());
        }
        if let (Some(answer), Some((namespace, name))) = (&self.config_map, self.config_map_ref()) {
            cluster.insert_config_map(&namespace, &name, answer.clone());
        }
        cluster
    }

    /// The settings' `configMapRef` as (namespace, name), when given.
    pub fn config_map_ref(&self) -> Option<(String, String)> {
        let reference = self.settings.get("configMapRef")?;
        let text = |key: &str| {
            reference
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Some((text("namespace")?, text("name")?))
    }
}

/// The case files (`*.yml`, `*.yaml`) directly in `dir`, sorted by name.
pub fn case_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot list {}", dir.display()))?
            .path();
        let is_case = path
            .extension()
            .is_some_and(|ext| ext == "yml" || ext == "yaml");
        if is_case && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// A file path (relative to `base`) read in, or an inline document as is.
/// `null` stays `null`.
fn load_file_or_inline(value: Value, base: &Path) -> Result<Value> {
    match value {
        Value::String(relative) => read_document(&base.join(relative)),
        other => Ok(other),
    }
}

fn load_request(request: Value, overrides: Option<Value>, base: &Path) -> Result<Value> {
    if !matches!(request, Value::String(_) | Value::Object(_)) {
        bail!(
            "request: expected a file name or an inline AdmissionRequest, found {}",
            describe_value(&request)
        );
    }
    let document = load_file_or_inline(request, base).context("request")?;
    let mut request = admission_request_from_document(document).context("request")?;
    if let Some(overrides) = overrides {
        if !overrides.is_object() {
            bail!(
                "request_overrides: expected a mapping (a JSON merge patch), found {}",
                describe_value(&overrides)
            );
        }
        json_patch::merge(&mut request, &overrides);
    }
    Ok(request)
}

/// The `namespace` or `config_map` fixture: what the host answers.
fn answer(
    raw: RawAnswer,
    field: &str,
    check: fn(&Value) -> Result<()>,
    base: &Path,
) -> Result<Answer> {
    let given = [
        raw.found.is_some(),
        raw.not_found.is_some(),
        raw.error.is_some(),
        raw.malformed.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        bail!("{field}: give exactly one of found, not_found, error, malformed");
    }
    if let Some(found) = raw.found {
        if !matches!(found, Value::String(_) | Value::Object(_)) {
            bail!(
                "{field}.found: expected a file name or an inline object, found {}",
                describe_value(&found)
            );
        }
        let object = load_file_or_inline(found, base).with_context(|| format!("{field}.found"))?;
        check(&object).with_context(|| format!("{field}.found"))?;
        return Ok(Answer::Found(object));
    }
    if let Some(not_found) = raw.not_found {
        if !not_found {
            bail!("{field}.not_found: must be true (omit `{field}` for a host that knows none)");
        }
        return Ok(Answer::NotFound);
    }
    if let Some(error) = raw.error {
        return Ok(Answer::Error(error));
    }
    Ok(Answer::Malformed(raw.malformed.unwrap_or_default()))
}

fn expectation(raw: RawExpect) -> Result<Expectation> {
    if let Some(message) = raw.settings_error {
        let others = raw.accepted.is_some()
            || raw.message.is_some()
            || raw.patch.is_some()
            || raw.warnings.is_some()
            || raw.namespace_lookups.is_some()
            || raw.config_map_lookups.is_some();
        if others {
            bail!(
                "settings_error excludes accepted, message, patch, warnings and the lookup counts: \
                 nothing else is checked when the settings are rejected"
            );
        }
        return Ok(Expectation::SettingsError(message));
    }
    let Some(accepted) = raw.accepted else {
        bail!("give either settings_error or accepted");
    };
    match (accepted, &raw.message) {
        (false, None) => bail!("accepted: false needs the exact rejection `message`"),
        (true, Some(_)) => bail!("message is only for accepted: false"),
        _ => {}
    }
    let patch = match raw.patch {
        None | Some(Value::Null) => Patch::default(),
        Some(value) => serde_json::from_value(value)
            .context("patch: not an RFC 6902 JSON patch (a list of {op, path, value})")?,
    };
    Ok(Expectation::Outcome(ExpectedOutcome {
        accepted,
        message: raw.message,
        patch,
        warnings: raw.warnings.unwrap_or_default(),
        namespace_lookups: raw.namespace_lookups,
        config_map_lookups: raw.config_map_lookups,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Result<Case> {
        Case::parse(
            text,
            Path::new("cases/example.yml"),
            Path::new("/nonexistent"),
        )
    }

    fn error(text: &str) -> String {
        format!("{:#}", parse(text).unwrap_err())
    }

    const REQUEST: &str = r#"
request:
  uid: "1"
  kind: {group: "", version: v1, kind: Pod}
  operation: CREATE
  namespace: team-a
  object: {metadata: {name: p, labels: {app: web}}, spec: {containers: []}}
"#;

    #[test]
    fn a_complete_inline_case() {
        let case = parse(&format!(
            "description: d\nclause: c\nsettings: {{selectors: []}}\n{REQUEST}\
             request_overrides: {{object: {{metadata: {{labels: {{tier: batch, app: null}}}}}}}}\n\
             namespace: {{found: {{apiVersion: v1, kind: Namespace, metadata: {{name: x}}}}}}\n\
             expect:\n  accepted: true\n  patch:\n    - {{op: add, path: /spec/nodeSelector, value: {{type: virtual-kubelet}}}}\n\
             \x20 warnings: [w]\n  namespace_lookups: 1\n"
        ))
        .unwrap();
        assert_eq!(case.name, "example");
        assert_eq!(case.settings, json!({"selectors": []}));
        assert_eq!(
            case.request["object"]["metadata"]["labels"],
            json!({"tier": "batch"}),
            "the merge patch adds tier and removes app"
        );
        assert_eq!(case.request_namespace(), "team-a");
        let Expectation::Outcome(outcome) = &case.expect else {
            panic!("expected an outcome")
        };
        assert!(outcome.accepted);
        assert_eq!(outcome.patch.0.len(), 1);
        assert_eq!(outcome.warnings, vec!["w".to_owned()]);
        assert_eq!(outcome.namespace_lookups, Some(1));
        let cluster = case.cluster();
        assert!(matches!(cluster.answer("team-a"), Answer::Found(_)));
        assert_eq!(cluster.answer("other"), Answer::NotFound);
    }

    #[test]
    fn omitted_settings_patch_and_warnings_mean_none() {
        let case = parse(&format!(
            "description: d\n{REQUEST}expect: {{accepted: true}}\n"
        ))
        .unwrap();
        assert_eq!(case.settings, json!({}));
        assert_eq!(case.namespace, None);
        assert_eq!(
            case.expect,
            Expectation::Outcome(ExpectedOutcome {
                accepted: true,
                message: None,
                patch: Patch::default(),
                warnings: vec![],
                namespace_lookups: None,
                config_map_lookups: None,
            })
        );
    }

    #[test]
    fn unknown_fields_are_refused_with_their_line() {
        let text = error(&format!(
            "description: d\n{REQUEST}expect: {{accepted: true, warning: [x]}}\n"
        ));
        assert!(
            text.starts_with("not a valid case: expect: unknown field `warning`"),
            "{text}"
        );
        assert!(text.contains("line"), "{text}");
    }

    #[test]
    fn contradictory_expectations_are_refused() {
        let cases = [
            (
                "{settings_error: m, accepted: true}",
                "expect: settings_error excludes",
            ),
            ("{}", "expect: give either settings_error or accepted"),
            (
                "{accepted: false}",
                "expect: accepted: false needs the exact rejection `message`",
            ),
            (
                "{accepted: true, message: m}",
                "expect: message is only for accepted: false",
            ),
            (
                "{accepted: true, patch: [{op: add}]}",
                "expect: patch: not an RFC 6902 JSON patch",
            ),
        ];
        for (expect, wanted) in cases {
            let text = error(&format!("description: d\n{REQUEST}expect: {expect}\n"));
            assert!(text.starts_with(wanted), "{expect}: {text}");
        }
    }

    #[test]
    fn namespace_fixture_needs_exactly_one_answer() {
        let text = error(&format!(
            "description: d\n{REQUEST}namespace: {{not_found: true, error: x}}\nexpect: {{accepted: true}}\n"
        ));
        assert_eq!(
            text,
            "namespace: give exactly one of found, not_found, error, malformed"
        );
        let text = error(&format!(
            "description: d\n{REQUEST}namespace: {{found: {{kind: Pod}}}}\nexpect: {{accepted: true}}\n"
        ));
        assert_eq!(
            text,
            "namespace.found: kind must be Namespace, found the string \"Pod\""
        );
        let case = parse(&format!(
            "description: d\n{REQUEST}namespace: {{malformed: \"[1,2\"}}\nexpect: {{accepted: true}}\n"
        ))
        .unwrap();
        assert_eq!(case.namespace, Some(Answer::Malformed("[1,2".into())));
    }

    #[test]
    fn missing_files_are_named() {
        let text = error("description: d\nrequest: requests/nope.json\nexpect: {accepted: true}\n");
        assert!(
            text.starts_with("request: cannot read /nonexistent/requests/nope.json: "),
            "{text}"
        );
        let text = error(&format!(
            "description: d\nsettings: settings/nope.yml\n{REQUEST}expect: {{accepted: true}}\n"
        ));
        assert!(
            text.starts_with("settings: cannot read /nonexistent/settings/nope.yml: "),
            "{text}"
        );
    }

    #[test]
    fn request_must_be_a_file_or_a_mapping() {
        let text = error("description: d\nrequest: [1]\nexpect: {accepted: true}\n");
        assert_eq!(
            text,
            "request: expected a file name or an inline AdmissionRequest, found a list"
        );
        let text = error(&format!(
            "description: d\n{REQUEST}request_overrides: [1]\nexpect: {{accepted: true}}\n"
        ));
        assert_eq!(
            text,
            "request_overrides: expected a mapping (a JSON merge patch), found a list"
        );
    }
}
