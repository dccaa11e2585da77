//! `eci-profile`, the project's command: evaluate one admission request
//! offline (`run`), replay the case corpus (`replay`), convert an eci-profile
//! ConfigMap (`convert`), measure the policy (`bench`), each against the
//! policy `.wasm` run as policy-server runs it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use base64::Engine as _;
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};

mod bench;

use eci_profile_harness::files::{
    admission_request_from_document, read_document, settings_from_document,
};
use eci_profile_harness::{
    Cluster, Evaluation, Lookup, Policy, SettingsVerdict, build_policy, patch, replay_files,
    workspace_root,
};

#[derive(Parser)]
#[command(
    name = "eci-profile",
    version,
    about = "Check eci-profile settings and pods offline, the way Kubewarden's policy-server runs the policy, and convert an eci-profile ConfigMap into a ClusterAdmissionPolicy"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate one admission request offline and show the outcome.
    ///
    /// Exit status: 0 when the request was evaluated (accepted or rejected),
    /// 1 when the settings are rejected, 2 on any other error.
    Run {
        /// Policy settings (YAML or JSON), or a ClusterAdmissionPolicy whose
        /// spec.settings to use; without it, no settings (the built-in defaults).
        #[arg(long, value_name = "FILE")]
        settings: Option<PathBuf>,
        /// The AdmissionRequest (or a whole AdmissionReview), YAML or JSON.
        #[arg(long, value_name = "FILE")]
        request: PathBuf,
        /// A Namespace object the host knows (YAML or JSON), found by its name; repeatable.
        /// A namespace not given is answered `namespaces "NAME" not found`.
        #[arg(long = "namespace", value_name = "FILE")]
        namespaces: Vec<PathBuf>,
        /// The policy module (policy.wasm of a release, or a file `kwctl pull` wrote);
        /// default: build the eci-profile crate for wasm32-wasip1 from this source tree.
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// How to print the outcome.
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Replay every case file (*.yml) in a directory, or one case file, and
    /// report every difference. Exits non-zero when any case fails.
    Replay {
        /// A directory of cases, or one case file [default: test_data/cases].
        cases: Option<PathBuf>,
        /// Where the files named by the cases are [default: the directory above the cases' directory].
        #[arg(long, value_name = "DIR")]
        base: Option<PathBuf>,
        /// The policy module (policy.wasm of a release, or a file `kwctl pull` wrote);
        /// default: build the eci-profile crate for wasm32-wasip1 from this source tree.
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
    },
    /// Measure `validate` and `validate_settings` against the floor policy
    /// side by side, write docs/bench/ and the tables of BENCHMARKS.md.
    Bench {
        /// The policy module (policy.wasm of a release, or a file `kwctl pull` wrote);
        /// default: build the eci-profile crate for wasm32-wasip1 from this source tree.
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// The floor policy [default: ../shared/bench/floor.wasm beside the workspace].
        #[arg(long, value_name = "FILE")]
        floor: Option<PathBuf>,
        /// Few iterations (well under a minute), for CI smoke runs.
        #[arg(long)]
        quick: bool,
        /// Where results.json and the chart go [default: docs/bench].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// The markdown whose generated tables are replaced [default: BENCHMARKS.md].
        #[arg(long, value_name = "FILE")]
        markdown: Option<PathBuf>,
    },
    /// Convert an eci-profile ConfigMap into the equivalent Kubewarden
    /// ClusterAdmissionPolicy (YAML, with a comment for what has no equivalent).
    ///
    /// Exit status: 0 when written, 2 when the ConfigMap cannot be converted.
    Convert {
        /// The ConfigMap, as `kubectl get cm -n kube-system eci-profile -o yaml`
        /// prints it (or a manifest holding it, or its `data:` section); `-` reads standard input.
        #[arg(long, value_name = "FILE")]
        configmap: PathBuf,
        /// Where to write the ClusterAdmissionPolicy [default: standard output].
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Point the policy at the ConfigMap (settings.configMapRef, its
        /// metadata's namespace and name, default kube-system/eci-profile)
        /// instead of copying its content: the policy reads it on every pod
        /// creation, so that an edit applies to the next pod. The content is
        /// still checked, as the policy will read it.
        #[arg(long)]
        live: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    /// For people.
    Text,
    /// One JSON document, for machines.
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            settings,
            request,
            namespaces,
            policy,
            output,
        } => run(
            settings.as_deref(),
            &request,
            &namespaces,
            policy.as_deref(),
            output,
        ),
        Command::Replay {
            cases,
            base,
            policy,
        } => replay(cases, base, policy.as_deref()),
        Command::Bench {
            policy,
            floor,
            quick,
            out,
            markdown,
        } => policy_module(policy.as_deref()).and_then(|policy| {
            bench::run(&bench::Options {
                policy,
                floor,
                quick,
                out,
                markdown,
            })
            .map(|()| ExitCode::SUCCESS)
        }),
        Command::Convert {
            configmap,
            output,
            live,
        } => convert(&configmap, output.as_deref(), live),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The module to run: `--policy`, or a fresh build.
fn policy_module(policy: Option<&Path>) -> Result<PathBuf> {
    match policy {
        Some(path) => Ok(path.to_owned()),
        None => {
            let sources = workspace_root().join("Cargo.toml");
            if std::env::var_os(eci_profile_harness::policy_wasm::WASM_OVERRIDE_VAR).is_none()
                && !sources.is_file()
            {
                anyhow::bail!(
                    "no --policy given, and the eci-profile sources this binary was built from \
                     ({}) are not here to build one: pass --policy policy.wasm (a release asset, \
                     or `kwctl pull -o policy.wasm registry://ghcr.io/eci-profile/policies/eci-profile:<tag>`)",
                    sources.display()
                );
            }
            eprintln!(
                "building the policy (cargo build --release --target wasm32-wasip1 -p eci-profile)…"
            );
            build_policy()
        }
    }
}

fn run(
    settings: Option<&Path>,
    request: &Path,
    namespaces: &[PathBuf],
    policy: Option<&Path>,
    output: Output,
) -> Result<ExitCode> {
    let settings = match settings {
        Some(path) => settings_from_document(policy_settings(read_document(path)?))
            .with_context(|| format!("{}", path.display()))?,
        None => json!({}),
    };
    let request = admission_request_from_document(read_document(request)?)
        .with_context(|| format!("{}", request.display()))?;
    let mut cluster = Cluster::new();
    for path in namespaces {
        add_namespaces(&mut cluster, read_document(path)?)
            .with_context(|| format!("{}", path.display()))?;
    }

    let module = policy_module(policy)?;
    let mut policy = Policy::load(&module)?;
    let verdict = policy.validate_settings(&settings)?;
    if !verdict.valid {
        match output {
            Output::Text => print_settings_rejection(&module, &verdict),
            Output::Json => println!(
                "{}",
                pretty(&json!({"policy": module, "settings": verdict}))
            ),
        }
        return Ok(ExitCode::from(1));
    }
    policy.set_cluster(cluster.clone());
    let evaluation = policy.validate(&request, &settings)?;
    match output {
        Output::Text => print_text(&module, &request, &evaluation),
        Output::Json => println!(
            "{}",
            pretty(&json_report(&module, &verdict, &request, &evaluation))
        ),
    }
    print_explanation(&settings, &request, &cluster, &evaluation, output);
    Ok(ExitCode::SUCCESS)
}

/// The settings a `--settings` file holds: the `spec.settings` of a Kubewarden
/// policy manifest (what `convert` writes, or an example), else the document
/// itself.
fn policy_settings(document: Value) -> Value {
    let is_policy = document
        .get("apiVersion")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with("policies.kubewarden.io/"))
        && matches!(
            document.get("kind").and_then(Value::as_str),
            Some("ClusterAdmissionPolicy" | "AdmissionPolicy")
        );
    if is_policy {
        document
            .pointer("/spec/settings")
            .cloned()
            .unwrap_or(Value::Null)
    } else {
        document
    }
}

/// A Namespace, or a `List`/`NamespaceList` of them.
fn add_namespaces(cluster: &mut Cluster, document: Value) -> Result<()> {
    if let Some(items) = document.get("items").and_then(Value::as_array) {
        for (index, item) in items.iter().enumerate() {
            cluster
                .add_namespace_object(item.clone())
                .with_context(|| format!("items[{index}]"))?;
        }
        return Ok(());
    }
    cluster.add_namespace_object(document)
}

fn print_settings_rejection(module: &Path, verdict: &SettingsVerdict) {
    println!("policy:    {}", module.display());
    println!(
        "settings:  REJECTED: {}",
        verdict.message.as_deref().unwrap_or("(no message)")
    );
}

fn print_text(module: &Path, request: &Value, evaluation: &Evaluation) {
    let text = |pointer: &str| {
        request
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let response = &evaluation.response;
    println!("policy:    {}", module.display());
    println!("settings:  valid");
    let name = match (
        text("/object/metadata/name"),
        text("/object/metadata/generateName"),
    ) {
        ("", "") => text("/name").to_owned(),
        ("", prefix) => format!("{prefix}<generated>"),
        (name, _) => name.to_owned(),
    };
    println!(
        "request:   {} {} {}/{name} (uid {})",
        text("/operation"),
        text("/kind/kind"),
        text("/namespace"),
        text("/uid"),
    );
    println!("namespace lookups: {}", evaluation.activity.lookups.len());
    for lookup in &evaluation.activity.lookups {
        println!("  {}", describe_lookup(lookup));
    }
    if response.accepted {
        println!("result:    accepted");
    } else {
        let code = response
            .code
            .map(|c| format!(" (code {c})"))
            .unwrap_or_default();
        println!(
            "result:    REJECTED{code}: {}",
            response.message.as_deref().unwrap_or("(no message)")
        );
    }
    let warnings = response.warnings.as_deref().unwrap_or_default();
    if warnings.is_empty() {
        println!("warnings:  none");
    } else {
        println!("warnings:  {}", warnings.len());
        for warning in warnings {
            println!("  ! {warning}");
        }
    }
    match &evaluation.patch {
        None => println!("patch:     none (no mutated object)"),
        Some(patch) => {
            println!("patch:     {} operation(s)", patch.0.len());
            for line in patch::render(patch) {
                println!("  {line}");
            }
        }
    }
    for refused in &evaluation.activity.refused {
        println!("refused host call: {refused}");
    }
    for log in &evaluation.activity.logs {
        println!("policy log: {log}");
    }
}

fn describe_lookup(lookup: &Lookup) -> String {
    let asked = match &lookup.request {
        Ok(r) => format!(
            "get_resource {}/{} {:?} (disable_cache: {})",
            r.api_version, r.kind, r.name, r.disable_cache
        ),
        Err(e) => format!("get_resource: {e}"),
    };
    let answer = match &lookup.answer {
        Ok(bytes) => match serde_json::from_str::<Value>(bytes) {
            Ok(_) => "answered the object".to_owned(),
            Err(_) => format!("answered malformed bytes {bytes:?}"),
        },
        Err(e) => format!("answered the error {e:?}"),
    };
    format!("{asked} -> {answer}")
}

fn json_report(
    module: &Path,
    verdict: &SettingsVerdict,
    request: &Value,
    evaluation: &Evaluation,
) -> Value {
    let response = &evaluation.response;
    let patch = evaluation.patch.as_ref().map(patch::to_value);
    // What policy-server answers the API server with: the patch base64-encoded.
    let encoded_patch = patch
        .as_ref()
        .filter(|p| p.as_array().is_some_and(|ops| !ops.is_empty()))
        .map(|p| base64::engine::general_purpose::STANDARD.encode(p.to_string()));
    json!({
        "policy": module,
        "settings": verdict,
        "response": response,
        "patch": patch,
        "namespace_lookups": evaluation.activity.lookups.iter().map(|l| json!({
            "request": l.request.as_ref().ok(),
            "payload": l.payload,
            "answer": match &l.answer { Ok(a) => json!({"ok": a}), Err(e) => json!({"error": e}) },
        })).collect::<Vec<_>>(),
        "refused_host_calls": evaluation.activity.refused,
        "admission_response": {
            "uid": request.get("uid"),
            "allowed": response.accepted,
            "patchType": encoded_patch.as_ref().map(|_| "JSONPatch"),
            "patch": encoded_patch,
            "warnings": response.warnings,
            "status": (!response.accepted).then(|| json!({"message": response.message, "code": response.code})),
        },
    })
}

// ── Per-selector explanation ────────────────────────────────────────────────
// Which selectors matched, in which order, and what each one added: the
// policy's decision core compiled for the host, checked against the module.
fn print_explanation(
    settings: &Value,
    request: &Value,
    cluster: &Cluster,
    evaluation: &Evaluation,
    output: Output,
) {
    let Some(explanation) = eci_profile_harness::explain::explain(settings, request, cluster)
    else {
        return;
    };
    let response = &evaluation.response;
    let agrees = explanation.agrees_with(
        response.mutated_object.as_ref(),
        response.warnings.as_deref().unwrap_or_default(),
    );
    match output {
        Output::Text => {
            print!("\n{}", explanation.to_text());
            if !agrees {
                println!(
                    "note: the host build of the decision core disagrees with the module (stale policy.wasm?)"
                );
            }
        }
        Output::Json => println!(
            "{}",
            pretty(&json!({"explanation": explanation.to_json(), "nativeAgrees": agrees}))
        ),
    }
}

fn convert(configmap: &Path, output: Option<&Path>, live: bool) -> Result<ExitCode> {
    use eci_profile_harness::convert::{Mode, convert_configmap_as};
    let mode = if live { Mode::Live } else { Mode::Copy };
    let text = if configmap == Path::new("-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .context("cannot read standard input")?;
        text
    } else {
        std::fs::read_to_string(configmap)
            .with_context(|| format!("cannot read {}", configmap.display()))?
    };
    let manifest =
        convert_configmap_as(&text, mode).with_context(|| configmap.display().to_string())?;
    match output {
        Some(path) => {
            std::fs::write(path, &manifest)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let to_fill = manifest.matches("# FILL IN:").count();
            let todo = if to_fill > 0 && live {
                format!("replace the {to_fill} value(s) marked FILL IN in the ConfigMap, then")
            } else if to_fill > 0 {
                format!("replace the {to_fill} value(s) marked FILL IN, then")
            } else {
                "review it, then".to_string()
            };
            eprintln!(
                "wrote {}: {todo}: kubectl apply -f {}",
                path.display(),
                path.display()
            );
        }
        None => print!("{manifest}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn replay(
    cases: Option<PathBuf>,
    base: Option<PathBuf>,
    policy: Option<&Path>,
) -> Result<ExitCode> {
    let cases = cases.unwrap_or_else(default_cases_dir);
    let (files, cases_dir) = if cases.is_dir() {
        (
            eci_profile_harness::case::case_files(&cases)?,
            cases.clone(),
        )
    } else if cases.is_file() {
        let dir = cases.parent().unwrap_or(Path::new(".")).to_owned();
        (vec![cases.clone()], dir)
    } else {
        anyhow::bail!("{}: no such case file or directory", cases.display());
    };
    let base = base.unwrap_or_else(|| {
        let absolute = std::path::absolute(&cases_dir).unwrap_or(cases_dir.clone());
        absolute
            .parent()
            .map_or(absolute.clone(), Path::to_path_buf)
    });
    if files.is_empty() {
        println!("no case files (*.yml, *.yaml) in {}", cases.display());
        println!("0 passed, 0 failed");
        return Ok(ExitCode::FAILURE);
    }

    let module = policy_module(policy)?;
    let mut policy = Policy::load(&module)?;
    println!(
        "replaying {} case(s) from {} with {}\n",
        files.len(),
        cases.display(),
        module.display()
    );
    let report = replay_files(&mut policy, &files, &base);
    print!("{}", report.render());
    Ok(if report.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `test_data/cases` under the current directory, else under the workspace.
fn default_cases_dir() -> PathBuf {
    let here = PathBuf::from("test_data/cases");
    if here.is_dir() {
        here
    } else {
        workspace_root().join("test_data/cases")
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_taken_from_a_policy_manifest_or_the_document_itself() {
        let manifest = json!({
            "apiVersion": "policies.kubewarden.io/v1",
            "kind": "ClusterAdmissionPolicy",
            "spec": {"settings": {"onNamespaceLookupError": "Fail"}},
        });
        assert_eq!(
            policy_settings(manifest),
            json!({"onNamespaceLookupError": "Fail"})
        );
        let no_settings = json!({
            "apiVersion": "policies.kubewarden.io/v1",
            "kind": "AdmissionPolicy",
            "spec": {"module": "registry://example/policy:v1"},
        });
        assert_eq!(policy_settings(no_settings), Value::Null);
        let plain = json!({"selectors": []});
        assert_eq!(policy_settings(plain.clone()), plain);
        // Another kind is left to the settings check, which refuses its fields.
        let other = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {}});
        assert_eq!(policy_settings(other.clone()), other);
    }
}
