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
pub mod json_struct;
pub mod k8s_names;
pub mod label_selector;
pub mod pod_text;
pub mod scheduling;
pub mod settings;
pub mod warnings;

use evaluate::{NamespaceLabels, Screen, applies_to, screen};
use json_struct::Str;
use kubewarden_policy_sdk::host_capabilities::kubernetes::GetResourceRequest;
use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use pod_text::{PodProbe, TextVerdict, evaluate_pod_text};
use serde_json::value::RawValue;
use settings::Profile;
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

// The envelope of a `validate` call: only what routing needs is decoded,
// the pod stays raw until we know it is a Pod CREATE.
json_struct!(lenient Payload {
    request: Request<'a> = "request",
    settings: &'a RawValue = "settings",
});

json_struct!(lenient Request {
    kind: Kind<'a> = "kind",
    operation: Str<'a> = "operation",
    sub_resource: Option<Str<'a>> = "subResource",
    namespace: Option<Str<'a>> = "namespace",
    object: Option<&'a RawValue> = "object",
});

json_struct!(lenient Kind {
    group: Str<'a> = "group",
    kind: Str<'a> = "kind",
});

fn validate(payload: &[u8]) -> CallResult {
    let (request, settings) = match read_envelope(payload) {
        Ok(envelope) => envelope,
        Err(e) => {
            return reject(format!(
                "eci-profile: cannot read the admission request: {e}"
            ));
        }
    };
    let kind = request.kind.unwrap_or_default();
    let sub_resource = request.sub_resource.flatten();
    if !applies_to(
        text(&kind.group),
        text(&kind.kind),
        text(&request.operation),
        text(&sub_resource),
    ) {
        return respond(TextVerdict::Accept, Vec::new());
    }
    let profile = match settings {
        FoundSettings::Cached(profile) => profile,
        FoundSettings::Text(text) => match compiled_settings(text) {
            Ok(profile) => profile,
            Err(e) => return reject(format!("eci-profile: invalid settings: {e}")),
        },
    };
    let Some(object) = request.object.flatten() else {
        return reject("eci-profile: cannot read the pod: the request has no object".into());
    };
    let namespace = request.namespace.flatten();
    let request_namespace = Some(text(&namespace)).filter(|ns| !ns.is_empty());

    // Most pods match no selector: decide that from the labels and the
    // nodeSelector alone, without building the pod. Anything unusual in
    // those fields makes the probe fail, and the full path below explains it.
    let mut looked_up = None;
    if let Ok(probe) = serde_json::from_slice::<PodProbe>(object.get().as_bytes()) {
        let namespace = request_namespace.or(probe.namespace()).unwrap_or("");
        match screen(
            &profile,
            probe.labels(),
            probe.node_selector(),
            namespace,
            read_namespace_labels,
        ) {
            Screen::Accept => return respond(TextVerdict::Accept, Vec::new()),
            Screen::Evaluate(lookup) => looked_up = lookup,
        }
    }

    // The decision reads only the fields it needs; the mutated pod is the
    // request's own text with the additions, so every field comes back as it was.
    // A namespace read while screening is handed on: one lookup per request.
    let lookup = move |name: &str| looked_up.unwrap_or_else(|| read_namespace_labels(name));
    let decision = evaluate_pod_text(&profile, object.get(), request_namespace, lookup);
    respond(decision.verdict, decision.warnings)
}

/// The text of an optional string field, `""` when absent.
fn text<'s>(s: &'s Option<Str>) -> &'s str {
    s.as_ref().map_or("", |s| s.0.as_ref())
}

/// Where a request's settings are.
enum FoundSettings<'a> {
    /// The settings compiled by an earlier request, byte for byte the same.
    Cached(Rc<Profile>),
    /// The settings' JSON text (one well-formed JSON value), `null` when absent.
    Text(&'a str),
}

/// The request and the settings of a `validate` payload.
fn read_envelope(payload: &[u8]) -> Result<(Request<'_>, FoundSettings<'_>), serde_json::Error> {
    if let Some(envelope) = split_envelope(payload) {
        return Ok(envelope);
    }
    let payload: Payload = serde_json::from_slice(payload)?;
    let text = payload.settings.map_or("null", RawValue::get);
    let request = payload
        .request
        .ok_or_else(|| serde::de::Error::missing_field("request"))?;
    Ok((request, FoundSettings::Text(text)))
}

/// `{"request":R,"settings":S}`, the layout policy-server and kwctl send:
/// R is parsed, and S, which can be far longer than the request (hundreds
/// of KB with a thousand selectors), is not parsed at all when it is byte for
/// byte the text compiled last time: comparing bytes costs a fraction of
/// scanning JSON. Any other layout, or anything malformed: `None`, and serde
/// reads (and explains) the whole payload.
fn split_envelope(payload: &[u8]) -> Option<(Request<'_>, FoundSettings<'_>)> {
    let mut at = expect(payload, 0, b"{")?;
    at = expect(payload, at, b"\"request\"")?;
    at = expect(payload, at, b":")?;
    let mut stream = serde_json::Deserializer::from_slice(&payload[at..]).into_iter::<Request>();
    let request = stream.next()?.ok()?;
    at += stream.byte_offset();
    if let Some(end) = expect(payload, at, b"}") {
        return (skip_ws(payload, end) == payload.len())
            .then_some((request, FoundSettings::Text("null")));
    }
    at = expect(payload, at, b",")?;
    at = expect(payload, at, b"\"settings\"")?;
    at = expect(payload, at, b":")?;
    let start = skip_ws(payload, at);
    let mut end = payload.len();
    while end > start && is_ws(payload[end - 1]) {
        end -= 1;
    }
    if end == start || payload[end - 1] != b'}' {
        return None;
    }
    end -= 1;
    while end > start && is_ws(payload[end - 1]) {
        end -= 1;
    }
    let text = &payload[start..end];
    if let Some(profile) = cached_settings(text) {
        return Some((request, FoundSettings::Cached(profile)));
    }
    let settings: &RawValue = serde_json::from_slice(text).ok()?;
    Some((request, FoundSettings::Text(settings.get())))
}

/// JSON's whitespace.
fn is_ws(byte: u8) -> bool {
    matches!(byte, b' ' | b'\n' | b'\r' | b'\t')
}

fn skip_ws(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && is_ws(bytes[at]) {
        at += 1;
    }
    at
}

/// Skips whitespace, then `token`; the position after it.
fn expect(bytes: &[u8], at: usize, token: &[u8]) -> Option<usize> {
    let at = skip_ws(bytes, at);
    bytes[at..].starts_with(token).then_some(at + token.len())
}

/// The answer to `validate`: [`ValidationResponse`]'s fields, in its order,
/// absent ones `null`. Written by hand so that a mutated pod's text (valid
/// JSON: the request's own, plus serialised additions) goes out as it is,
/// rather than parsed into a `Value` only to be written out again.
fn respond(verdict: TextVerdict, warnings: Vec<String>) -> CallResult {
    let (accepted, message, pod): (&[u8], _, &[u8]) = match &verdict {
        TextVerdict::Accept => (b"true", None, b"null"),
        TextVerdict::Mutate(pod) => (b"true", None, pod),
        TextVerdict::Reject(message) => (b"false", Some(message), b"null"),
    };
    let mut out = Vec::with_capacity(pod.len() + 128);
    out.extend_from_slice(br#"{"accepted":"#);
    out.extend_from_slice(accepted);
    out.extend_from_slice(br#","message":"#);
    serde_json::to_writer(&mut out, &message)?;
    out.extend_from_slice(br#","code":null,"mutated_object":"#);
    out.extend_from_slice(pod);
    out.extend_from_slice(br#","audit_annotations":null,"warnings":"#);
    serde_json::to_writer(&mut out, &(!warnings.is_empty()).then_some(warnings))?;
    out.push(b'}');
    Ok(out)
}

fn reject(message: String) -> CallResult {
    respond(TextVerdict::Reject(message), Vec::new())
}

fn validate_settings(payload: &[u8]) -> CallResult {
    let result = match settings::fast::compile(payload) {
        Some(_) => Ok(()),
        None => checked_settings(payload),
    };
    Ok(serde_json::to_vec(&SettingsValidationResponse {
        valid: result.is_ok(),
        message: result.err(),
    })?)
}

/// Settings compiled the checked way, which explains what is wrong.
fn checked_settings(payload: &[u8]) -> Result<(), String> {
    serde_json::from_slice::<serde_json::Value>(payload)
        .map_err(|e| format!("settings are not valid JSON: {e}"))
        .and_then(|v| {
            Profile::from_settings(&v)
                .map(drop)
                .map_err(|e| e.to_string())
        })
}

thread_local! {
    /// The guest instance lives across requests in policy-server and the
    /// settings rarely change: compile them once per distinct settings text.
    static COMPILED: RefCell<Option<(Box<str>, Rc<Profile>)>> = const { RefCell::new(None) };
}

/// The compiled settings when `text` is, byte for byte, the text compiled last.
fn cached_settings(text: &[u8]) -> Option<Rc<Profile>> {
    COMPILED.with_borrow(|c| {
        c.as_ref()
            .filter(|(cached, _)| same_bytes(cached.as_bytes(), text))
            .map(|(_, p)| Rc::clone(p))
    })
}

/// The settings compiled from `text` (one JSON value), from the cache when it
/// holds that very text.
fn compiled_settings(text: &str) -> Result<Rc<Profile>, String> {
    if let Some(hit) = cached_settings(text.as_bytes()) {
        return Ok(hit);
    }
    // Valid settings compile without a `Value`; anything else goes the checked way.
    let profile = match settings::fast::compile(text.as_bytes()) {
        Some(profile) => profile,
        None => {
            let value: serde_json::Value =
                serde_json::from_slice(text.as_bytes()).map_err(|e| e.to_string())?;
            Profile::from_settings(&value).map_err(|e| e.to_string())?
        }
    };
    let profile = Rc::new(profile);
    COMPILED.set(Some((text.into(), Rc::clone(&profile))));
    Ok(profile)
}

/// `a == b`, eight bytes at a time: wasi-libc's `memcmp`, which `==` calls,
/// compares one byte at a time, and the settings can be hundreds of KB.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (a_words, a_rest) = a.as_chunks::<32>();
    let (b_words, b_rest) = b.as_chunks::<32>();
    let word = |chunk: &[u8; 32], i: usize| {
        u64::from_ne_bytes([
            chunk[i],
            chunk[i + 1],
            chunk[i + 2],
            chunk[i + 3],
            chunk[i + 4],
            chunk[i + 5],
            chunk[i + 6],
            chunk[i + 7],
        ])
    };
    for (x, y) in a_words.iter().zip(b_words) {
        let diff = (word(x, 0) ^ word(y, 0))
            | (word(x, 8) ^ word(y, 8))
            | (word(x, 16) ^ word(y, 16))
            | (word(x, 24) ^ word(y, 24));
        if diff != 0 {
            return false;
        }
    }
    a_rest == b_rest
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
    // The usual answer, a mapping whose labels are strings: read only the
    // labels, borrowed, with the pod's probe (a Namespace has the same
    // `metadata`); anything else is read whole below, to say what is wrong.
    if let Ok(probe) = serde_json::from_slice::<PodProbe>(answer) {
        return Ok(probe
            .labels()
            .0
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect());
    }
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
    use crate::evaluate::{Verdict, evaluate_pod};

    fn envelope(payload: &str) -> Option<(String, String)> {
        split_envelope(payload.as_bytes()).map(|(request, settings)| {
            let settings = match settings {
                FoundSettings::Cached(_) => "<cached>".to_string(),
                FoundSettings::Text(text) => text.to_string(),
            };
            let operation = request
                .operation
                .map_or(String::new(), |o| o.0.into_owned());
            (operation, settings)
        })
    }

    #[test]
    fn the_usual_envelope_is_split_without_parsing_cached_settings() {
        let request = r#"{"kind":{"kind":"Pod"},"operation":"CREATE","object":{}}"#;
        let text = r#"{"selectors":[]}"#;
        COMPILED.set(None);
        assert_eq!(
            envelope(&format!(r#"{{"request":{request},"settings":{text}}}"#)),
            Some(("CREATE".into(), text.into()))
        );
        compiled_settings(text).unwrap();
        assert_eq!(
            envelope(&format!(
                " {{ \"request\" :{request} ,\n\"settings\": {text} }}\n"
            )),
            Some(("CREATE".into(), "<cached>".into()))
        );
        assert_eq!(
            envelope(&format!(r#"{{"request":{request}}}"#)),
            Some(("CREATE".into(), "null".into()))
        );
        // Any other layout, or anything malformed, is left to serde.
        for other in [
            format!(r#"{{"settings":{text},"request":{request}}}"#),
            format!(r#"{{"request":{request},"settings":{text},"settings":{text}}}"#),
            format!(r#"{{"request":{request},"settings":{text},"x":1}}"#),
            format!(r#"{{"request":{request},"settings":{{"selectors":[}}}}"#),
            format!(r#"{{"request":{request},"settings":{text}}}x"#),
            format!(r#"{{"request":{request},"settings":}}"#),
            format!(r#"{{"request":{request}"#),
            r#"{"request":null,"settings":{}}"#.to_string(),
            String::new(),
        ] {
            assert_eq!(envelope(&other), None, "{other}");
        }
        COMPILED.set(None);
    }

    #[test]
    fn answers_read_as_the_sdk_validation_response() {
        use kubewarden_policy_sdk::response::ValidationResponse;
        let read = |verdict, warnings: &[&str]| {
            let warnings = warnings.iter().map(|w| w.to_string()).collect();
            let bytes = respond(verdict, warnings).unwrap();
            let r: ValidationResponse = serde_json::from_slice(&bytes).unwrap();
            (
                r.accepted,
                r.message,
                r.code,
                r.mutated_object,
                r.audit_annotations,
                r.warnings,
            )
        };
        assert_eq!(
            read(TextVerdict::Accept, &[]),
            (true, None, None, None, None, None)
        );
        assert_eq!(
            read(TextVerdict::Reject("no \"x\"".into()), &[]),
            (false, Some("no \"x\"".into()), None, None, None, None)
        );
        assert_eq!(
            read(
                TextVerdict::Mutate(br#"{"a":[1,{"b":null}]}"#.to_vec()),
                &["w1", "w\n2"]
            ),
            (
                true,
                None,
                None,
                Some(serde_json::json!({"a": [1, {"b": null}]})),
                None,
                Some(vec!["w1".into(), "w\n2".into()])
            )
        );
    }

    #[test]
    fn same_bytes_is_equality() {
        let a: Vec<u8> = (0..300u32).map(|i| (i % 251) as u8).collect();
        for len in [0, 1, 31, 32, 33, 64, 100, 300] {
            assert!(same_bytes(&a[..len], &a[..len]));
            for at in 0..len {
                let mut b = a[..len].to_vec();
                b[at] ^= 1;
                assert!(!same_bytes(&a[..len], &b), "{len} {at}");
            }
        }
        assert!(!same_bytes(b"ab", b"abc"));
    }

    fn probe(text: &str) -> Result<PodProbe<'_>, serde_json::Error> {
        serde_json::from_slice(text.as_bytes())
    }

    /// Whenever the screen accepts, the full evaluation accepts too, unchanged
    /// and without warnings, with no more namespace lookups.
    #[test]
    fn the_screen_accepts_only_what_the_full_path_accepts() {
        let settings = [
            serde_json::json!({}),
            serde_json::json!({"selectors": [
                {"name": "a", "objectSelector": {"matchLabels": {"app": "web"}}},
                {"name": "b", "namespaceSelector": {"matchExpressions": [{"key": "x", "operator": "DoesNotExist"}]},
                 "objectSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["batch"]}]}},
                {"name": "c", "effect": {"labels": {"e": "1"}}}
            ]}),
            serde_json::json!({"selectors": [], "virtualNode": {"nodeSelector": {"type": "virtual-kubelet", "zone": "a"}}}),
            serde_json::json!({"selectors": [{"name": "n", "namespaceSelector": {}}]}),
        ];
        let pods = [
            r#"{"metadata":{"labels":{"app":"web"}},"spec":{}}"#,
            r#"{"metadata":{"labels":{"alibabacloud.com/eci":"true"}},"spec":{"nodeName":"n1"}}"#,
            r#"{"metadata":{"labels":{"tier":"batch"},"namespace":"vk"},"spec":{"hostNetwork":true}}"#,
            r#"{"metadata":{},"spec":{"nodeSelector":{"type":"virtual-kubelet"}}}"#,
            r#"{"metadata":{},"spec":{"nodeSelector":{}}}"#,
            r#"{"metadata":{"labels":{"app":"db"}},"spec":{"nodeSelector":{"type":"ecs"}}}"#,
            r#"{"spec":{"containers":[{"name":"c","securityContext":{"privileged":true}}]}}"#,
            r#"{}"#,
        ];
        let namespaces = [
            Ok(NamespaceLabels::new()),
            Ok(NamespaceLabels::from([(
                "alibabacloud.com/eci".into(),
                "true".into(),
            )])),
            Err("boom".to_string()),
        ];
        for raw in &settings {
            let profile = Profile::from_settings(raw).unwrap();
            for text in pods {
                let p = probe(text).unwrap();
                for ns in &namespaces {
                    for name in ["default", ""] {
                        let lookups = std::cell::Cell::new(0);
                        let lookup = |_: &str| {
                            lookups.set(lookups.get() + 1);
                            ns.clone()
                        };
                        let screened =
                            screen(&profile, p.labels(), p.node_selector(), name, lookup);
                        let pod: serde_json::Value = serde_json::from_str(text).unwrap();
                        let full = evaluate_pod(&profile, pod, name, |_| ns.clone());
                        if screened == Screen::Accept {
                            assert_eq!(
                                full.verdict,
                                Verdict::Accept,
                                "{raw} {text} {ns:?} {name:?}"
                            );
                            assert!(full.warnings.is_empty(), "{raw} {text} {ns:?} {name:?}");
                            assert!(lookups.get() <= full.report.namespace_lookups);
                        }
                    }
                }
            }
        }
    }

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
