//! eci-profile: a Kubewarden mutating policy that sends pods to virtual-kubelet
//! (Elastic Container Instance) nodes and adds eci-profile effects, selected by
//! pod and namespace labels. See `SPEC.md` in the shared docs and the README.
//!
//! This file is only the waPC adapter: it reads the request ([`request`]),
//! compiles the settings ([`settings::Checked`]), reads the namespace through
//! the host, and writes the SDK's answer. The decision is the pure
//! [`evaluate::evaluate_pod`].

pub mod cluster_params;
mod eci_annotations;
mod effects;
pub mod evaluate;
mod host;
mod json_path;
mod k8s_names;
mod label_selector;
pub mod live_profile;
mod request;
pub mod scheduling;
pub mod settings;
mod warnings;

use anyhow::{Context, Result, anyhow};
use evaluate::{Screen, Verdict, applies_to, evaluate_pod, screen, unreadable};
use host::{read_config_map, read_namespace_labels};
use kubewarden_policy_sdk::response::ValidationResponse;
use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use request::{Mapping, Payload, PodProbe};
use serde_json::Value;
use settings::Checked;
use std::ops::ControlFlow;
use wapc_guest::prelude::*;
use warnings::{PREFIX, one_line};

// A fresh instance per request parses and frees trees for the settings and
// the pod: talc does that in fewer instructions than the default dlmalloc
// (BENCHMARKS.md, "One path").
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// A verdict and its warnings.
type Decided = (Verdict, Vec<String>);

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    register_function("validate", validate);
    register_function("validate_settings", validate_settings);
    register_function(
        "protocol_version",
        kubewarden_policy_sdk::protocol_version_guest,
    );
}

fn validate(payload: &[u8]) -> CallResult {
    let decision = decide(payload).and_then(|flow| match flow {
        ControlFlow::Break(decision) => Ok(decision),
        ControlFlow::Continue(evaluate) => evaluate(),
    });
    let (verdict, warnings) =
        decision.unwrap_or_else(|e| (Verdict::Reject(format!("{PREFIX}{e:#}")), Vec::new()));
    // Every message and warning goes out as one line of at most 256
    // characters: that is how Kubernetes shows them.
    let (accepted, message, mutated_object) = match verdict {
        Verdict::Accept => (true, None, None),
        Verdict::Mutate(pod) => (true, None, Some(pod)),
        Verdict::Reject(message) => (false, Some(one_line(&message)), None),
    };
    let warnings: Vec<String> = warnings.iter().map(|w| one_line(w)).collect();
    Ok(serde_json::to_vec(&ValidationResponse {
        accepted,
        message,
        code: None,
        mutated_object,
        audit_annotations: None,
        warnings: (!warnings.is_empty()).then_some(warnings),
    })?)
}

/// The verdict on one request and its warnings, or what builds and evaluates
/// the pod. Kept out of line, so that its locals are off the stack while the
/// pod is parsed: that saves a page of memory for each pod evaluated.
#[inline(never)]
fn decide(
    payload: &[u8],
) -> anyhow::Result<ControlFlow<Decided, impl FnOnce() -> Result<Decided>>> {
    const READ_REQUEST: &str = "cannot read the admission request";
    let Mapping(payload) =
        serde_json::from_slice::<Mapping<Payload>>(payload).context(READ_REQUEST)?;
    let Some(Mapping(request)) = payload.request else {
        return Err(anyhow!("missing field `request`").context(READ_REQUEST));
    };
    let kind = &request.kind.0;
    let sub_resource = request.sub_resource.as_deref().unwrap_or_default();
    if !applies_to(&kind.group, &kind.kind, &request.operation, sub_resource) {
        return Ok(ControlFlow::Break((Verdict::Accept, Vec::new())));
    }
    let settings = payload.settings.map_or("null", |s| s.get());
    let mut profile = serde_json::from_str::<Checked>(settings)
        .map_err(anyhow::Error::new)
        .and_then(|Checked(checked)| Ok(checked?))
        .context("invalid settings")?;
    if let Some(config_map) = &profile.config_map {
        let answer = read_config_map(config_map);
        match live_profile::selectors(config_map, answer.as_deref().map_err(String::as_str)) {
            Ok(selectors) => profile.selectors = selectors,
            Err(e) => return Ok(ControlFlow::Break(unreadable(profile.on_profile_error, &e))),
        }
    }
    let object = request
        .object
        .context("cannot read the pod: the request has no object")?;
    let own_namespace = request.namespace.filter(|ns| !ns.is_empty());

    // Most pods match no selector: decide that from the labels and the
    // nodeSelector alone, without building the pod. Anything unusual in
    // those fields fails the probe, and the full path below explains it.
    let mut looked_up = None;
    if let Some(probe) = PodProbe::read(object.get()) {
        let (labels, node_selector) = (probe.labels(), probe.node_selector());
        let ns = own_namespace.as_deref().or(probe.namespace()).unwrap_or("");
        match screen(&profile, &labels, node_selector, ns, read_namespace_labels) {
            Screen::Accept => return Ok(ControlFlow::Break((Verdict::Accept, Vec::new()))),
            Screen::Evaluate(lookup) => looked_up = lookup,
        }
    }
    Ok(ControlFlow::Continue(move || {
        let pod: Value = serde_json::from_str(object.get()).context("cannot read the pod")?;
        let pod_ns = pod["metadata"]["namespace"].as_str();
        let ns = String::from(own_namespace.as_deref().or(pod_ns).unwrap_or_default());
        // A namespace read while screening is handed on: one lookup per request.
        let lookup = move |name: &str| looked_up.unwrap_or_else(|| read_namespace_labels(name));
        let decision = evaluate_pod(&profile, pod, &ns, lookup);
        Ok((decision.verdict, decision.warnings))
    }))
}

fn validate_settings(payload: &[u8]) -> CallResult {
    let checked = serde_json::from_slice::<Checked>(payload)
        .map_err(|e| format!("settings are not valid JSON: {e}"))
        .and_then(|Checked(checked)| checked.map_err(|e| e.to_string()));
    Ok(serde_json::to_vec(&SettingsValidationResponse {
        valid: checked.is_ok(),
        message: checked.err(),
    })?)
}
