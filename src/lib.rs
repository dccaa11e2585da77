//! eci-profile: a Kubewarden mutating policy that sends pods to virtual-kubelet
//! (Elastic Container Instance) nodes and adds eci-profile effects, selected by
//! pod and namespace labels. See `SPEC.md` in the shared docs and the README.
//!
//! This file is only the waPC adapter: it decodes the request, reads the
//! namespace through the host, and encodes the answer. The decision is the
//! pure [`evaluate::evaluate_pod`].

pub mod cluster_params;
pub mod eci_annotations;
pub mod effects;
pub mod evaluate;
pub mod json_path;
pub mod k8s_names;
pub mod label_selector;
pub mod scheduling;
pub mod settings;
pub mod warnings;

use evaluate::{NamespaceLabels, Verdict, applies_to, evaluate_pod};
use kubewarden_policy_sdk::host_capabilities::kubernetes::GetResourceRequest;
use kubewarden_policy_sdk::response::ValidationResponse;
use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use serde::Deserialize;
use serde_json::value::RawValue;
use settings::Profile;
use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;
use wapc_guest::prelude::*;

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    register_function("validate", validate);
    register_function("validate_settings", validate_settings);
    register_function(
        "protocol_version",
        kubewarden_policy_sdk::protocol_version_guest,
    );
}

/// The envelope of a `validate` call; only what routing needs is decoded,
/// the pod stays raw until we know it is a Pod CREATE.
#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(borrow)]
    request: Request<'a>,
    #[serde(borrow, default)]
    settings: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request<'a> {
    #[serde(borrow, default)]
    kind: Kind<'a>,
    #[serde(borrow, default)]
    operation: Cow<'a, str>,
    #[serde(borrow, default)]
    sub_resource: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    namespace: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    object: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct Kind<'a> {
    #[serde(borrow, default)]
    group: Cow<'a, str>,
    #[serde(borrow, default)]
    kind: Cow<'a, str>,
}

fn validate(payload: &[u8]) -> CallResult {
    let payload: Payload = match serde_json::from_slice(payload) {
        Ok(p) => p,
        Err(e) => {
            return reject(format!(
                "eci-profile: cannot read the admission request: {e}"
            ));
        }
    };
    let request = payload.request;
    let sub_resource = request.sub_resource.as_deref().unwrap_or("");
    if !applies_to(
        &request.kind.group,
        &request.kind.kind,
        &request.operation,
        sub_resource,
    ) {
        return respond(Verdict::Accept, Vec::new());
    }
    let profile = match compiled_settings(payload.settings) {
        Ok(profile) => profile,
        Err(e) => return reject(format!("eci-profile: invalid settings: {e}")),
    };
    let Some(object) = request.object else {
        return reject("eci-profile: cannot read the pod: the request has no object".into());
    };
    let pod: serde_json::Value = match serde_json::from_str(object.get()) {
        Ok(pod) => pod,
        Err(e) => return reject(format!("eci-profile: cannot read the pod: {e}")),
    };
    let namespace = match request.namespace.as_deref() {
        Some(ns) if !ns.is_empty() => ns.to_string(),
        _ => pod["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    };
    let decision = evaluate_pod(&profile, pod, &namespace, read_namespace_labels);
    respond(decision.verdict, decision.warnings)
}

fn respond(verdict: Verdict, warnings: Vec<String>) -> CallResult {
    let (accepted, message, mutated_object) = match verdict {
        Verdict::Accept => (true, None, None),
        Verdict::Mutate(pod) => (true, None, Some(pod)),
        Verdict::Reject(message) => (false, Some(message), None),
    };
    Ok(serde_json::to_vec(&ValidationResponse {
        accepted,
        message,
        code: None,
        mutated_object,
        audit_annotations: None,
        warnings: (!warnings.is_empty()).then_some(warnings),
    })?)
}

fn reject(message: String) -> CallResult {
    respond(Verdict::Reject(message), Vec::new())
}

fn validate_settings(payload: &[u8]) -> CallResult {
    let result = serde_json::from_slice::<serde_json::Value>(payload)
        .map_err(|e| format!("settings are not valid JSON: {e}"))
        .and_then(|v| Profile::from_settings(&v).map_err(|e| e.to_string()));
    Ok(serde_json::to_vec(&SettingsValidationResponse {
        valid: result.is_ok(),
        message: result.err(),
    })?)
}

thread_local! {
    /// The guest instance lives across requests in policy-server and the
    /// settings rarely change: compile them once per distinct settings text.
    static COMPILED: RefCell<Option<(Box<str>, Rc<Profile>)>> = const { RefCell::new(None) };
}

fn compiled_settings(raw: Option<&RawValue>) -> Result<Rc<Profile>, String> {
    let text = raw.map_or("null", RawValue::get);
    if let Some(hit) = COMPILED.with_borrow(|c| {
        c.as_ref()
            .filter(|(cached, _)| **cached == *text)
            .map(|(_, p)| Rc::clone(p))
    }) {
        return Ok(hit);
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let profile = Rc::new(Profile::from_settings(&value).map_err(|e| e.to_string())?);
    COMPILED.set(Some((text.into(), Rc::clone(&profile))));
    Ok(profile)
}

/// `get_resource` of `v1/Namespace`, cached by the host (`disable_cache: false`).
fn read_namespace_labels(name: &str) -> Result<NamespaceLabels, String> {
    let request = GetResourceRequest {
        api_version: "v1".into(),
        kind: "Namespace".into(),
        name: name.into(),
        namespace: None,
        disable_cache: false,
        field_masks: None,
    };
    let body = serde_json::to_vec(&request).map_err(|e| e.to_string())?;
    let answer = host_call("kubewarden", "kubernetes", "get_resource", &body).map_err(|e| {
        // Keep the host's own reason, without the transport's wrapping
        // (wapc-guest's "Host error: ", policy-evaluator's "Callback evaluation failure: ").
        let text = e.to_string();
        let text = text.strip_prefix("Host error: ").unwrap_or(&text);
        text.strip_prefix("Callback evaluation failure: ")
            .unwrap_or(text)
            .to_string()
    })?;
    namespace_labels(&answer)
}

/// The labels of the host's answer, read as raw JSON so that a malformed
/// answer gives a clear reason instead of a trap.
fn namespace_labels(answer: &[u8]) -> Result<NamespaceLabels, String> {
    let not_a_namespace = |why: String| format!("the host's answer is not a Namespace: {why}");
    let namespace: serde_json::Value =
        serde_json::from_slice(answer).map_err(|e| not_a_namespace(e.to_string()))?;
    if !namespace.is_object() {
        return Err(not_a_namespace(format!(
            "found {}",
            json_path::show(&namespace)
        )));
    }
    let metadata =
        json_path::opt_object(namespace.get("metadata"), "metadata").map_err(not_a_namespace)?;
    let labels =
        json_path::opt_string_map(metadata.and_then(|m| m.get("labels")), "metadata.labels")
            .map_err(not_a_namespace)?;
    Ok(labels
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_answers() {
        let ok = br#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"vk","labels":{"alibabacloud.com/eci":"true"}}}"#;
        assert_eq!(
            namespace_labels(ok).unwrap(),
            NamespaceLabels::from([("alibabacloud.com/eci".to_string(), "true".to_string())])
        );
        assert_eq!(
            namespace_labels(br#"{"metadata":{"name":"bare"}}"#).unwrap(),
            NamespaceLabels::new()
        );
        assert_eq!(
            namespace_labels(b"[1,2").unwrap_err(),
            "the host's answer is not a Namespace: EOF while parsing a list at line 1 column 4"
        );
        assert_eq!(
            namespace_labels(b"[1,2]").unwrap_err(),
            "the host's answer is not a Namespace: found [1,2]"
        );
        assert_eq!(
            namespace_labels(br#"{"metadata":{"labels":{"a":1}}}"#).unwrap_err(),
            r#"the host's answer is not a Namespace: metadata.labels["a"]: expected a string, found 1"#
        );
    }
}
