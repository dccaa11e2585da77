//! Replaying cases against a loaded policy, and reporting every difference
//! between what a case expects and what the policy answered.
//!
//! Besides the `expect` block, every case is held to what the SPEC promises of
//! any answer: namespace lookups ask for `v1/Namespace` named after the
//! request's namespace with `disable_cache: false`; no host call outside the
//! served ones; no mutated object when nothing changes; and evaluating the
//! mutated pod again changes nothing (idempotence).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::{Value, json};
use similar::TextDiff;

use crate::case::{Case, Expectation, ExpectedOutcome, case_files};
use crate::engine::{Evaluation, Policy};
use crate::host::HostActivity;
use crate::patch;

/// The result of one case.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseReport {
    /// The case's name (its file name without extension).
    pub name: String,
    pub file: PathBuf,
    /// The case's description (empty when the case could not be read).
    pub description: String,
    /// Each difference found, one sentence each; empty when the case passed.
    pub problems: Vec<String>,
    /// Expected against actual outcome, as a unified diff of pretty JSON.
    pub diff: Option<String>,
}

impl CaseReport {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The results of a set of cases, in the order they ran.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Replay {
    pub cases: Vec<CaseReport>,
}

impl Replay {
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.passed()).count()
    }

    pub fn failed(&self) -> usize {
        self.cases.len() - self.passed()
    }

    /// `N passed, M failed`.
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed(), self.failed())
    }

    /// One line per case: result, name, description.
    pub fn table(&self) -> String {
        let width = self
            .cases
            .iter()
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(0)
            .max("case".len());
        let mut out = format!("{:<6} {:<width$}  description\n", "result", "case");
        for case in &self.cases {
            let result = if case.passed() { "pass" } else { "FAIL" };
            let _ = writeln!(
                out,
                "{result:<6} {:<width$}  {}",
                case.name, case.description
            );
        }
        out
    }

    /// For each failed case: its file, each problem, and the diff.
    pub fn failures(&self) -> String {
        let mut out = String::new();
        for case in self.cases.iter().filter(|c| !c.passed()) {
            let _ = writeln!(out, "=== FAIL {} ({})", case.name, case.file.display());
            if !case.description.is_empty() {
                let _ = writeln!(out, "    {}", case.description);
            }
            for problem in &case.problems {
                let _ = writeln!(out, "  - {}", problem.replace('\n', "\n    "));
            }
            if let Some(diff) = &case.diff {
                let _ = writeln!(out, "{diff}");
            }
            out.push('\n');
        }
        out
    }

    /// The whole report: table, failures, then the summary line.
    pub fn render(&self) -> String {
        format!("{}\n{}{}\n", self.table(), self.failures(), self.summary())
    }
}

/// Replays every case file directly in `dir`; the files the cases name are
/// relative to `base`. Cases that cannot be read are failures, not errors:
/// only an unreadable directory is.
pub fn replay_dir(policy: &mut Policy, dir: &Path, base: &Path) -> Result<Replay> {
    let files = case_files(dir)?;
    Ok(replay_files(policy, &files, base))
}

/// Replays these case files, in order.
pub fn replay_files(policy: &mut Policy, files: &[PathBuf], base: &Path) -> Replay {
    let cases = files
        .iter()
        .map(|file| match Case::load(file, base) {
            Ok(case) => run_case(policy, &case),
            Err(e) => CaseReport {
                name: file
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                file: file.clone(),
                description: String::new(),
                problems: vec![format!("cannot load the case: {e:#}")],
                diff: None,
            },
        })
        .collect();
    Replay { cases }
}

/// Runs one case and compares.
pub fn run_case(policy: &mut Policy, case: &Case) -> CaseReport {
    let mut report = CaseReport {
        name: case.name.clone(),
        file: case.file.clone(),
        description: case.description.clone(),
        problems: Vec::new(),
        diff: None,
    };
    if let Err(e) = check_case(policy, case, &mut report) {
        report.problems.push(format!("{e:#}"));
    }
    report
}

fn check_case(policy: &mut Policy, case: &Case, report: &mut CaseReport) -> Result<()> {
    let verdict = policy.validate_settings(&case.settings)?;
    let rejection = (!verdict.valid).then(|| verdict.message.clone().unwrap_or_default());

    let expected = match &case.expect {
        Expectation::SettingsError(message) => {
            if rejection.as_deref() != Some(message.as_str()) {
                report.problems.push(match &rejection {
                    None => {
                        "the settings were accepted, but a settings error was expected".to_owned()
                    }
                    Some(_) => "the settings error message differs".to_owned(),
                });
                report.diff = Some(json_diff(
                    &json!({ "settings_error": message }),
                    &json!({ "settings_error": rejection }),
                ));
            }
            return Ok(());
        }
        Expectation::Outcome(expected) => expected,
    };
    if let Some(message) = rejection {
        report
            .problems
            .push("the settings were rejected; the case expects them valid".to_owned());
        report.diff = Some(json_diff(
            &expected_json(expected),
            &json!({ "settings_error": message }),
        ));
        return Ok(());
    }

    policy.set_cluster(case.cluster());
    let evaluation = policy.validate(&case.request, &case.settings)?;
    let actual = actual_json(&evaluation, expected);
    let wanted = expected_json(expected);
    report.problems.extend(compare_fields(&wanted, &actual));
    if !report.problems.is_empty() {
        report.diff = Some(json_diff(&wanted, &actual));
    }
    if evaluation.patch.as_ref().is_some_and(|p| p.0.is_empty()) {
        report.problems.push(
            "the policy returned a mutated_object equal to the request's object; \
             with nothing to change it must return none"
                .to_owned(),
        );
    }
    report.problems.extend(host_call_problems(
        &evaluation.activity,
        case.request_namespace(),
        case.config_map_ref().as_ref(),
    ));
    if let Some(problem) = idempotence_problem(policy, case, &evaluation)? {
        report.problems.push(problem);
    }
    Ok(())
}

/// The expectation as JSON, in the shape of [`actual_json`].
fn expected_json(expected: &ExpectedOutcome) -> Value {
    let mut out = json!({
        "accepted": expected.accepted,
        "message": expected.message,
        "patch": patch::to_value(&expected.patch),
        "warnings": expected.warnings,
    });
    if let Some(lookups) = expected.namespace_lookups {
        out["namespace_lookups"] = json!(lookups);
    }
    if let Some(lookups) = expected.config_map_lookups {
        out["config_map_lookups"] = json!(lookups);
    }
    out
}

/// How many `get_resource` calls asked for `kind`.
fn lookups_of(evaluation: &Evaluation, kind: &str) -> usize {
    let asks = |l: &&crate::host::Lookup| l.request.as_ref().is_ok_and(|r| r.kind == kind);
    evaluation.activity.lookups.iter().filter(asks).count()
}

/// What the policy answered, in the shape of the `expect` block.
fn actual_json(evaluation: &Evaluation, expected: &ExpectedOutcome) -> Value {
    let response = &evaluation.response;
    let mut out = json!({
        "accepted": response.accepted,
        "message": response.message,
        "patch": evaluation.patch.as_ref().map_or_else(|| json!([]), patch::to_value),
        "warnings": response.warnings.clone().unwrap_or_default(),
    });
    if expected.namespace_lookups.is_some() {
        out["namespace_lookups"] = json!(lookups_of(evaluation, "Namespace"));
    }
    if expected.config_map_lookups.is_some() {
        out["config_map_lookups"] = json!(lookups_of(evaluation, "ConfigMap"));
    }
    out
}

/// One sentence per field that differs.
fn compare_fields(expected: &Value, actual: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for field in [
        "accepted",
        "message",
        "patch",
        "warnings",
        "namespace_lookups",
        "config_map_lookups",
    ] {
        let (want, got) = (expected.get(field), actual.get(field));
        if want == got {
            continue;
        }
        let show = |v: Option<&Value>| v.map_or_else(|| "nothing".to_owned(), Value::to_string);
        problems.push(match field {
            "patch" | "warnings" => format!("{field} differ (see the diff)"),
            _ => format!("{field}: expected {}, got {}", show(want), show(got)),
        });
    }
    problems
}

/// What the SPEC asks of every host call, whatever the case.
fn host_call_problems(
    activity: &HostActivity,
    request_namespace: &str,
    config_map: Option<&(String, String)>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (index, lookup) in activity.lookups.iter().enumerate() {
        let call = format!("get_resource call {}", index + 1);
        let request = match &lookup.request {
            Ok(request) => request,
            Err(e) => {
                problems.push(format!("{call}: {e}"));
                continue;
            }
        };
        if (request.api_version.as_str(), request.kind.as_str()) == ("v1", "ConfigMap") {
            let asked = (
                request.namespace.clone().unwrap_or_default(),
                request.name.clone(),
            );
            if config_map != Some(&asked) {
                problems.push(format!(
                    "{call}: asks for the ConfigMap {}/{}, not the settings' configMapRef {config_map:?}",
                    asked.0, asked.1
                ));
            }
        } else if request.api_version != "v1" || request.kind != "Namespace" {
            problems.push(format!(
                "{call}: asks for {}/{}, not v1/Namespace or v1/ConfigMap",
                request.api_version, request.kind
            ));
        } else {
            if request.name != request_namespace {
                problems.push(format!(
                    "{call}: asks for the namespace {:?}, not the request's {request_namespace:?}",
                    request.name
                ));
            }
            if let Some(namespace) = &request.namespace {
                problems.push(format!(
                    "{call}: Namespaces are cluster-scoped, but `namespace` is {namespace:?}"
                ));
            }
        }
        if request.disable_cache {
            problems.push(format!(
                "{call}: disable_cache is true; the policy must use the host's cache"
            ));
        }
    }
    for refused in &activity.refused {
        problems.push(format!(
            "the policy made a host call that is not served: {refused}"
        ));
    }
    problems
}

/// Evaluates the mutated object again: it must be accepted with no change.
fn idempotence_problem(
    policy: &mut Policy,
    case: &Case,
    evaluation: &Evaluation,
) -> Result<Option<String>> {
    let (Some(mutated), true) = (
        &evaluation.response.mutated_object,
        evaluation.response.accepted,
    ) else {
        return Ok(None);
    };
    let mut request = case.request.clone();
    request["object"] = mutated.clone();
    let again = policy.validate(&request, &case.settings)?;
    if !again.response.accepted {
        return Ok(Some(format!(
            "not idempotent: the mutated object, evaluated again, is rejected: {}",
            again.response.message.unwrap_or_default()
        )));
    }
    match again.patch {
        Some(patch) if !patch.0.is_empty() => Ok(Some(format!(
            "not idempotent: the mutated object, evaluated again, is changed again:\n{}",
            patch::render(&patch).join("\n")
        ))),
        _ => Ok(None),
    }
}

/// A unified diff of two JSON documents, pretty-printed, all lines shown.
pub fn json_diff(expected: &Value, actual: &Value) -> String {
    let pretty = |v: &Value| {
        let mut text = serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
        text.push('\n');
        text
    };
    let (expected, actual) = (pretty(expected), pretty(actual));
    TextDiff::from_lines(&expected, &actual)
        .unified_diff()
        .context_radius(usize::from(u16::MAX))
        .header("expected", "actual")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{GetResourceRequest, Lookup};

    #[test]
    fn json_diff_shows_both_sides() {
        let diff = json_diff(
            &json!({"accepted": true, "warnings": []}),
            &json!({"accepted": false, "warnings": []}),
        );
        assert_eq!(
            diff,
            "--- expected\n+++ actual\n@@ -1,4 +1,4 @@\n {\n-  \"accepted\": true,\n+  \"accepted\": false,\n   \"warnings\": []\n }\n"
        );
    }

    #[test]
    fn compare_fields_names_each_difference() {
        let problems = compare_fields(
            &json!({"accepted": true, "message": null, "patch": [], "warnings": ["a"]}),
            &json!({"accepted": true, "message": null, "patch": [{"op": "add"}], "warnings": []}),
        );
        assert_eq!(
            problems,
            vec![
                "patch differ (see the diff)",
                "warnings differ (see the diff)"
            ]
        );
    }

    #[test]
    fn host_calls_are_held_to_the_spec() {
        let lookup = |request: GetResourceRequest| Lookup {
            payload: String::new(),
            request: Ok(request),
            answer: Err(String::new()),
        };
        let good = GetResourceRequest {
            api_version: "v1".into(),
            kind: "Namespace".into(),
            name: "team-a".into(),
            namespace: None,
            disable_cache: false,
            field_masks: None,
        };
        let bad = GetResourceRequest {
            name: "other".into(),
            disable_cache: true,
            ..good.clone()
        };
        let activity = HostActivity {
            lookups: vec![lookup(good), lookup(bad)],
            logs: vec![],
            refused: vec!["binding \"x\"".into()],
        };
        assert_eq!(
            host_call_problems(&activity, "team-a", None),
            vec![
                "get_resource call 2: asks for the namespace \"other\", not the request's \"team-a\"",
                "get_resource call 2: disable_cache is true; the policy must use the host's cache",
                "the policy made a host call that is not served: binding \"x\"",
            ]
        );
    }

    #[test]
    fn the_report_ends_with_the_summary_line() {
        let replay = Replay {
            cases: vec![
                CaseReport {
                    name: "ok".into(),
                    file: "cases/ok.yml".into(),
                    description: "fine".into(),
                    problems: vec![],
                    diff: None,
                },
                CaseReport {
                    name: "broken".into(),
                    file: "cases/broken.yml".into(),
                    description: "not fine".into(),
                    problems: vec!["accepted: expected true, got false".into()],
                    diff: Some("--- expected\n+++ actual\n".into()),
                },
            ],
        };
        let text = replay.render();
        assert!(
            text.starts_with(
                "result case    description\npass   ok      fine\nFAIL   broken  not fine\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("=== FAIL broken (cases/broken.yml)\n"),
            "{text}"
        );
        assert!(text.ends_with("\n1 passed, 1 failed\n"), "{text}");
    }
}
