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
pub mod json_text;
pub mod k8s_names;
pub mod label_selector;
pub mod pod_text;
pub mod scheduling;
pub mod settings;
pub mod warnings;

use evaluate::{NamespaceLabels, Screen, applies_to, screen};
use json_struct::Str;
use json_text::{expect, skip_ws, value_end, value_end_before, value_start};
use pod_text::{PodProbe, TextVerdict, evaluate_pod_text};
use serde::Deserialize;
use serde::de::{Deserializer, Error as _, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use settings::Profile;
use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
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
    request: ProbedRequest<'a> = "request",
    settings: &'a RawValue = "settings",
});

/// What `validate` reads of an AdmissionRequest.
#[derive(Default)]
struct Envelope<'a> {
    kind: Option<Kind<'a>>,
    operation: Option<Str<'a>>,
    sub_resource: Option<Str<'a>>,
    namespace: Option<Str<'a>>,
    /// The pod, probed while the request was read (absent or `null`: `None`).
    probe: Option<PodProbe<'a>>,
}

/// Where the pod's text is: after this borrowed `"object"` field name, or
/// (when the name has escapes, so its place is unknown) captured raw.
enum ObjectAt<'a> {
    Key(&'a str),
    Raw(&'a RawValue),
    /// Placed already.
    Text(&'a str),
}

/// The AdmissionRequest, read in one pass: the pod is probed as it is met
/// (instead of captured, then read again), and where its text is, is noted.
#[derive(Default)]
struct ProbedRequest<'a> {
    envelope: Envelope<'a>,
    object_at: Option<ObjectAt<'a>>,
    /// After the pod: the next field name (borrowed), `None` if the pod
    /// came last; unknown when that name has escapes.
    after_object: Option<Option<&'a str>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for ProbedRequest<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RequestVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for RequestVisitor<'a> {
            type Value = ProbedRequest<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                // The words serde's derive uses, so that messages stay the same.
                f.write_str("struct Request")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                const FIELDS: [&str; 5] =
                    ["kind", "operation", "subResource", "namespace", "object"];
                let mut out = ProbedRequest::default();
                let mut seen = [false; 5];
                let mut object_last = false;
                while let Some(key) = map.next_key::<Str<'de>>()? {
                    if std::mem::take(&mut object_last)
                        && let Cow::Borrowed(next) = key.0
                    {
                        out.after_object = Some(Some(next));
                    }
                    let Some(field) = FIELDS.iter().position(|f| *f == key.0) else {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    };
                    if std::mem::replace(&mut seen[field], true) {
                        return Err(A::Error::duplicate_field(FIELDS[field]));
                    }
                    let e = &mut out.envelope;
                    match (field, key.0) {
                        (0, _) => e.kind = Some(map.next_value()?),
                        (1, _) => e.operation = Some(map.next_value()?),
                        (2, _) => e.sub_resource = map.next_value()?,
                        (3, _) => e.namespace = map.next_value()?,
                        (_, Cow::Borrowed(name)) => {
                            let probe: PodProbe = map.next_value()?;
                            if !probe.is_null() {
                                out.object_at = Some(ObjectAt::Key(name));
                                e.probe = Some(probe);
                                object_last = true;
                            }
                        }
                        (_, Cow::Owned(_)) => {
                            let raw: Option<&RawValue> = map.next_value()?;
                            if let Some(raw) = raw {
                                e.probe = PodProbe::read(raw.get().as_bytes());
                                out.object_at = Some(ObjectAt::Raw(raw));
                            }
                        }
                    }
                }
                if object_last {
                    out.after_object = Some(None);
                }
                Ok(out)
            }
        }
        deserializer.deserialize_map(RequestVisitor(PhantomData))
    }
}

json_struct!(lenient Kind {
    group: Str<'a> = "group",
    kind: Str<'a> = "kind",
});

fn validate(payload: &[u8]) -> CallResult {
    let (
        ProbedRequest {
            envelope: request,
            object_at,
            ..
        },
        settings,
    ) = match read_envelope(payload) {
        Ok(envelope) => envelope,
        Err(e) => {
            return reject(format!(
                "eci-profile: cannot read the admission request: {e}"
            ));
        }
    };
    let kind = request.kind.unwrap_or_default();
    if !applies_to(
        text(&kind.group),
        text(&kind.kind),
        text(&request.operation),
        text(&request.sub_resource),
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
    let Some(object_at) = object_at else {
        return reject("eci-profile: cannot read the pod: the request has no object".into());
    };
    let request_namespace = Some(text(&request.namespace)).filter(|ns| !ns.is_empty());

    // Most pods match no selector: decide that from the labels and the
    // nodeSelector alone, without building the pod. Anything unusual in
    // those fields makes the probe unusual, and the full path below explains it.
    let mut looked_up = None;
    if let Some(probe) = request.probe.filter(PodProbe::is_usual) {
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
    let Some(object) = object_text(payload, &object_at) else {
        return reject("eci-profile: cannot read the pod: it is not valid UTF-8".into());
    };
    let decision = evaluate_pod_text(&profile, object, request_namespace, lookup);
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
fn read_envelope(
    payload: &[u8],
) -> Result<(ProbedRequest<'_>, FoundSettings<'_>), serde_json::Error> {
    if let Some(envelope) = split_envelope(payload) {
        return Ok(envelope);
    }
    let payload_read: Payload = serde_json::from_slice(payload)?;
    let text = payload_read.settings.map_or("null", RawValue::get);
    let mut request = payload_read
        .request
        .ok_or_else(|| serde::de::Error::missing_field("request"))?;
    // The pod's text is placed (and checked) here, as capturing it raw would have.
    if let Some(at) = &request.object_at {
        let not_utf8 = || serde::de::Error::custom("the pod is not valid UTF-8");
        let object = object_text(payload, at).ok_or_else(not_utf8)?;
        request.object_at = Some(ObjectAt::Text(object));
    }
    Ok((request, FoundSettings::Text(text)))
}

/// `{"request":R,"settings":S}`, the layout policy-server and kwctl send:
/// R is read in one pass ([`ProbedRequest`]), and S, which can be far longer
/// than the request (hundreds of KB with a thousand selectors), is not parsed
/// at all when it is byte for byte the text compiled last time: comparing
/// bytes costs a fraction of scanning JSON. Any other layout, or anything
/// malformed: `None`, and serde reads (and explains) the whole payload.
fn split_envelope(payload: &[u8]) -> Option<(ProbedRequest<'_>, FoundSettings<'_>)> {
    let mut at = expect(payload, 0, b"{")?;
    at = expect(payload, at, b"\"request\"")?;
    at = expect(payload, at, b":")?;
    let mut stream =
        serde_json::Deserializer::from_slice(&payload[at..]).into_iter::<ProbedRequest>();
    let mut request = stream.next()?.ok()?;
    // The request's strings were checked where read; the rest (the pod's
    // skipped fields) is checked here, as capturing the pod raw would have.
    let request_text = std::str::from_utf8(&payload[at..at + stream.byte_offset()]).ok()?;
    // The pod's text, placed without reading it again when the field names
    // around it say where it is.
    if let (Some(ObjectAt::Key(name)), Some(next)) = (&request.object_at, request.after_object) {
        let bytes = request_text.as_bytes();
        let start = value_start(bytes, name)?;
        let end = match next {
            Some(next) => value_end_before(bytes, next)?,
            None => value_end(
                request_text.as_bytes(),
                request_text.len().checked_sub(1)?,
                false,
            )?,
        };
        request.object_at = Some(ObjectAt::Text(request_text.get(start..end)?));
    }
    at += stream.byte_offset();
    if let Some(end) = expect(payload, at, b"}") {
        return (skip_ws(payload, end) == payload.len())
            .then_some((request, FoundSettings::Text("null")));
    }
    at = expect(payload, at, b",")?;
    at = expect(payload, at, b"\"settings\"")?;
    at = expect(payload, at, b":")?;
    // S is what is left up to the payload's closing `}`.
    let start = skip_ws(payload, at);
    let close = value_end(payload, payload.len(), false)?.checked_sub(1)?;
    if close <= start || payload[close] != b'}' {
        return None;
    }
    let end = value_end(payload, close, false)?;
    if end <= start {
        return None;
    }
    let text = &payload[start..end];
    if let Some(profile) = cached_settings(text) {
        return Some((request, FoundSettings::Cached(profile)));
    }
    let settings: &RawValue = serde_json::from_slice(text).ok()?;
    Some((request, FoundSettings::Text(settings.get())))
}

/// The pod's text: after `"object"` and its `:`, one JSON value, found by
/// skipping it (only pods the screen did not accept need it). `None` when
/// it is not UTF-8.
fn object_text<'a>(payload: &'a [u8], at: &ObjectAt<'a>) -> Option<&'a str> {
    let name = match at {
        ObjectAt::Raw(raw) => return Some(raw.get()),
        ObjectAt::Text(text) => return Some(text),
        ObjectAt::Key(name) => name,
    };
    let start = value_start(payload, name)?;
    let mut value =
        serde_json::Deserializer::from_slice(&payload[start..]).into_iter::<IgnoredAny>();
    value.next()?.ok()?;
    std::str::from_utf8(&payload[start..start + value.byte_offset()]).ok()
}

/// The answer to `validate`: [`ValidationResponse`]'s fields, in its order,
/// absent ones `null`. Written by hand so that a mutated pod's text (valid
/// JSON: the request's own, plus serialised additions) goes out as it is,
/// rather than parsed into a `Value` only to be written out again.
/// Every message and warning goes out as one line of at most 256 characters
/// ([`warnings::one_line`]): that is how Kubernetes shows them.
fn respond(verdict: TextVerdict, warnings: Vec<String>) -> CallResult {
    let (accepted, message, pod): (&[u8], _, &[u8]) = match &verdict {
        TextVerdict::Accept => (b"true", None, b"null"),
        TextVerdict::Mutate(pod) => (b"true", None, pod),
        TextVerdict::Reject(message) => (b"false", Some(warnings::one_line(message)), b"null"),
    };
    let warnings: Vec<String> = warnings.iter().map(|w| warnings::one_line(w)).collect();
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
    // `SettingsValidationResponse`'s fields, written by hand as `respond` does.
    let mut out = match result {
        Ok(()) => br#"{"valid":true,"message":null"#.to_vec(),
        Err(message) => {
            let mut out = br#"{"valid":false,"message":"#.to_vec();
            serde_json::to_writer(&mut out, &message)?;
            out
        }
    };
    out.push(b'}');
    Ok(out)
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
    /// Settings compiled by an earlier call of this instance. Only a warm
    /// instance (`kwctl bench`, policy-server < 1.10) ever hits: policy-server
    /// >= 1.10 runs every request on a fresh instance.
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
    let body = namespace_request(name);
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

/// The SDK's `GetResourceRequest` for a Namespace, written by hand (its
/// derived writer cost 2 KB of module for one fixed shape).
fn namespace_request(name: &str) -> Vec<u8> {
    let mut body = br#"{"api_version":"v1","kind":"Namespace","name":"#.to_vec();
    // Writing a string into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut body, name);
    body.extend_from_slice(br#","namespace":null,"disable_cache":false,"field_masks":null}"#);
    body
}

/// The labels of the host's answer, read as raw JSON so that a malformed
/// answer gives a clear reason instead of a trap.
fn namespace_labels(answer: &[u8]) -> Result<NamespaceLabels, String> {
    // The usual answer, a mapping whose labels are strings: read only the
    // labels, borrowed, with the pod's probe (a Namespace has the same
    // `metadata`); anything else is read whole below, to say what is wrong.
    if let Some(probe) = PodProbe::read(answer) {
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
    use crate::label_selector::Labels;

    fn envelope(payload: &str) -> Option<(String, String)> {
        split_envelope(payload.as_bytes()).map(|(request, settings)| {
            let settings = match settings {
                FoundSettings::Cached(_) => "<cached>".to_string(),
                FoundSettings::Text(text) => text.to_string(),
            };
            let operation = request
                .envelope
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
                Some(vec!["w1".into(), "w 2".into()])
            )
        );
        // Kubernetes shows one line of at most 256 characters: so is every text sent.
        let long = format!("eci-profile: {}", "y".repeat(400));
        let (_, message, ..) = read(TextVerdict::Reject(format!("{long}\nline 2")), &[]);
        let message = message.unwrap();
        assert_eq!(message.chars().count(), 256);
        assert!(message.starts_with("eci-profile: yyy") && message.ends_with("y…"));
        let (.., sent) = read(TextVerdict::Accept, &[&long]);
        assert_eq!(sent.unwrap()[0].chars().count(), 256);
    }

    /// The pod's text is found wherever `object` stands, in either layout,
    /// and probed on the way; `null` or absent is no pod.
    #[test]
    fn the_pod_is_placed_and_probed_in_any_layout() {
        let pod = r#"{"metadata": {"labels": {"a": "1"}}, "spec": {"x": [1, "]}"]}}"#;
        let object_text_of = |payload: &str| {
            let bytes = payload.as_bytes();
            let (request, _) = read_envelope(bytes).ok()?;
            let probe_label = request
                .envelope
                .probe
                .as_ref()
                .and_then(|p| p.labels().label("a").map(str::to_string));
            let text = object_text(bytes, request.object_at.as_ref()?)?.to_string();
            Some((text, probe_label))
        };
        let expected = Some((pod.to_string(), Some("1".to_string())));
        for payload in [
            format!(r#"{{"request":{{"object":{pod},"operation":"CREATE"}},"settings":{{}}}}"#),
            format!(r#"{{"request":{{"operation":"CREATE","object" :  {pod} }}}}"#),
            format!(r#"{{"request":{{"kind":{{"kind":"Pod"}},"object":{pod},"oldObject":null}}}}"#),
            format!(r#"{{"settings":{{}},"request":{{"object":{pod}}}}}"#),
            format!("{{\n\"request\" : {{ \"object\"\n:\t{pod}\n}} }}"),
            // The next field name has escapes: the pod is found by skipping it.
            format!(r#"{{"request":{{"object":{pod},"op\u0065ration":"CREATE"}}}}"#),
        ] {
            assert_eq!(object_text_of(&payload), expected, "{payload}");
        }
        // A field name with escapes: captured raw, probed from the capture.
        let escaped = format!(r#"{{"request":{{"obj\u0065ct":{pod}}}}}"#);
        assert_eq!(object_text_of(&escaped), expected);
        for none in [
            r#"{"request":{"object":null,"operation":"CREATE"}}"#,
            r#"{"request":{"operation":"CREATE"}}"#,
        ] {
            assert_eq!(object_text_of(none), None, "{none}");
        }
        // Not a mapping: placed, and the probe is unusual (the full path explains).
        let (request, _) = read_envelope(br#"{"request":{"object":[1,2]}}"#).unwrap();
        assert!(!request.envelope.probe.as_ref().unwrap().is_usual());
        // Not UTF-8 inside the pod: refused, as capturing it raw would have.
        let mut bad = br#"{"request":{"object":{"a":"X"}}}"#.to_vec();
        let at = bad.iter().position(|b| *b == b'X').unwrap();
        bad[at] = 0xff;
        assert!(read_envelope(&bad).is_err());
    }

    #[test]
    fn settings_answers_read_as_the_sdks() {
        use kubewarden_policy_sdk::settings::SettingsValidationResponse;
        let read = |settings: &str| {
            let bytes = validate_settings(settings.as_bytes()).unwrap();
            let r: SettingsValidationResponse = serde_json::from_slice(&bytes).unwrap();
            (r.valid, r.message)
        };
        assert_eq!(read("{}"), (true, None));
        assert_eq!(
            read(r#"{"selectors":5}"#),
            (false, Some("selectors: expected a list, found 5".into()))
        );
    }

    #[test]
    fn the_namespace_request_is_the_sdks() {
        use kubewarden_policy_sdk::host_capabilities::kubernetes::GetResourceRequest;
        let r: GetResourceRequest =
            serde_json::from_slice(&namespace_request("team \"a\"")).unwrap();
        assert_eq!(
            (r.api_version.as_str(), r.kind.as_str(), r.name.as_str()),
            ("v1", "Namespace", "team \"a\"")
        );
        assert_eq!(
            (r.namespace, r.disable_cache, r.field_masks),
            (None, false, None)
        );
    }

    proptest::proptest! {
        /// Both ways of reading the envelope (the usual layout in one pass, any
        /// other through serde) find the same pod text and probe, wherever the
        /// pod stands among the request's fields and however it is spaced.
        #[test]
        fn both_envelope_readers_agree(
            labels in proptest::collection::btree_map("[a-z\\\\\"é]{0,3}", "[a-z\\\\\"]{0,3}", 0..3),
            extra in proptest::collection::vec("[a-z{}\\[\\],:\" ]{0,6}", 0..3),
            order in proptest::sample::subsequence(vec![0, 1, 2, 3, 4], 0..=5),
            pretty in proptest::bool::ANY,
        ) {
            let pod = serde_json::json!({"metadata": {"labels": labels}, "x": extra});
            let fields = [
                ("object", pod.clone()),
                ("kind", serde_json::json!({"kind": "Pod"})),
                ("operation", "CREATE".into()),
                ("oldObject", serde_json::Value::Null),
                ("uid", "u".into()),
            ];
            let mut request = serde_json::Map::new();
            for i in order {
                request.insert(fields[i].0.into(), fields[i].1.clone());
            }
            // serde_json's map is sorted; write the fields in the chosen order by hand.
            let render = |v: &serde_json::Value| if pretty {
                serde_json::to_string_pretty(v).unwrap()
            } else {
                v.to_string()
            };
            let request_text = format!(
                "{{{}}}",
                request.iter().map(|(k, v)| format!("{:?} : {}", k, render(v))).collect::<Vec<_>>().join(",\n")
            );
            let usual = format!(r#"{{"request":{request_text},"settings":{{}}}}"#);
            let other = format!(r#"{{"settings":{{}},"request":{request_text}}}"#);
            let read = |payload: &str| {
                let bytes = payload.as_bytes();
                let (request, _) = read_envelope(bytes).unwrap();
                let text = request.object_at.as_ref().map(|at| object_text(bytes, at).unwrap().to_string());
                let labels = request.envelope.probe.as_ref().map(|p| p.labels().0.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>());
                (text.map(|t| serde_json::from_str::<serde_json::Value>(&t).unwrap()), labels)
            };
            let (usual_pod, usual_labels) = read(&usual);
            proptest::prop_assert_eq!(&usual_pod, &request.get("object").cloned());
            proptest::prop_assert_eq!((usual_pod, usual_labels), read(&other));
        }
    }

    proptest::proptest! {
        /// Whatever the payload, reading the envelope and placing the pod
        /// never panics; a pod that is placed is one JSON value.
        #[test]
        fn any_payload_is_read_without_panic(
            pod in "[{}\\[\\],:\" a-z0-9\\\\]{0,40}",
            before in "[{},:\" a-z]{0,12}",
            after in "[{},:\" a-z]{0,12}",
            layout in 0..4usize,
        ) {
            let payload = match layout {
                0 => format!(r#"{{"request":{{{before}"object":{pod}{after}}},"settings":{{}}}}"#),
                1 => format!(r#"{{"request":{{"object":{pod}}}{after}"#),
                2 => format!(r#"{{"settings":null,"request":{{{before}"object":{pod}}}}}"#),
                _ => format!("{before}{pod}{after}"),
            };
            if let Ok((request, _)) = read_envelope(payload.as_bytes())
                && let Some(at) = &request.object_at
                && let Some(text) = object_text(payload.as_bytes(), at)
            {
                proptest::prop_assert!(serde_json::from_str::<serde_json::Value>(text).is_ok(), "{}", text);
            }
        }
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

    fn probe(text: &str) -> Option<PodProbe<'_>> {
        PodProbe::read(text.as_bytes())
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
