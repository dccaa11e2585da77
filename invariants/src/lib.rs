//! The guarantees SPEC.md gives of every answer, written once for the
//! property tests (`tests/properties.rs`) and the fuzz targets (`fuzz/`):
//! [`check`] evaluates a pod and asserts them; [`without_additions`] takes
//! exactly the reported additions out of a mutated pod again;
//! [`object_pointers`] lists where unknown fields can be injected.
//! Dev only: the policy never depends on this crate.

use eci_profile::evaluate::{Decision, NamespaceLabels, Source, Verdict, evaluate_pod};
use eci_profile::scheduling::Addition;
use eci_profile::settings::{Checked, Profile};
use serde_json::Value;

/// Prefix of every warning and message the policy writes.
pub const PREFIX: &str = "eci-profile: ";

/// The string maps whose keys are data, not field names.
pub const STRING_MAPS: [&str; 3] = [
    "/metadata/labels",
    "/metadata/annotations",
    "/spec/nodeSelector",
];

/// Evaluates `pod` and asserts what SPEC.md guarantees of every answer:
/// prefixed texts; a mutated object differs from the input, never overwrites a
/// label, annotation or nodeSelector pair, differs only by the reported
/// additions, and evaluates again to `Accept`. Returns the decision.
pub fn check(
    profile: &Profile,
    pod: &Value,
    namespace: &str,
    answer: &Result<NamespaceLabels, String>,
) -> Decision {
    let d = evaluate_pod(profile, pod.clone(), namespace, |_| answer.clone());
    for w in &d.warnings {
        assert!(w.starts_with(PREFIX), "warning without prefix: {w}");
    }
    match &d.verdict {
        Verdict::Reject(m) => assert!(m.starts_with(PREFIX), "rejection without prefix: {m}"),
        Verdict::Accept => {}
        Verdict::Mutate(out) => {
            assert_ne!(out, pod, "a mutated object equal to the input");
            no_overwrite(pod, out);
            let stripped = without_additions(pod, out, &d.report.additions);
            assert_eq!(
                &stripped, pod,
                "the mutated pod differs by more than the additions {:?}",
                d.report.additions
            );
            let again = evaluate_pod(profile, out.clone(), namespace, |_| answer.clone());
            assert_eq!(
                again.verdict,
                Verdict::Accept,
                "not idempotent: first additions {:?}, then {:?}",
                d.report.additions,
                again.report.additions
            );
        }
    }
    d
}

/// Every label, annotation and nodeSelector pair of `before` is in `after`, unchanged.
pub fn no_overwrite(before: &Value, after: &Value) {
    for pointer in STRING_MAPS {
        if let Some(Value::Object(map)) = before.pointer(pointer) {
            for (k, v) in map {
                assert_eq!(
                    after.pointer(pointer).and_then(|m| m.get(k)),
                    Some(v),
                    "{pointer}[{k}] overwritten"
                );
            }
        }
    }
}

/// The mutated pod with exactly the reported additions taken out again, and the
/// maps the policy had to create for them (when the input had none, or `null`)
/// put back as they were.
pub fn without_additions(input: &Value, out: &Value, additions: &[(Source, Addition)]) -> Value {
    let mut v = out.clone();
    let mut touched = Vec::new();
    for (_, addition) in additions {
        let (pointer, key, value) = match addition {
            Addition::NodeSelector(k, val) => ("/spec/nodeSelector", k, val),
            Addition::Label(k, val) => ("/metadata/labels", k, val),
            Addition::Annotation(k, val) => ("/metadata/annotations", k, val),
            Addition::Toleration(t) => {
                let list = v
                    .pointer_mut("/spec/tolerations")
                    .and_then(Value::as_array_mut)
                    .unwrap_or_else(|| panic!("toleration {t} reported, but no list"));
                let at = list
                    .iter()
                    .rposition(|x| x == t)
                    .unwrap_or_else(|| panic!("toleration {t} reported, but not in the pod"));
                list.remove(at);
                touched.push("/spec/tolerations");
                continue;
            }
        };
        let map = v
            .pointer_mut(pointer)
            .and_then(Value::as_object_mut)
            .unwrap_or_else(|| panic!("{pointer}[{key}] reported, but no map"));
        assert_eq!(
            map.remove(key),
            Some(Value::String(value.clone())),
            "{pointer}[{key}] reported as {value:?}"
        );
        touched.push(pointer);
    }
    for pointer in touched {
        restore_created(&mut v, input, pointer);
        let parent = &pointer[..pointer.rfind('/').expect("a pointer")];
        restore_created(&mut v, input, parent);
    }
    v
}

/// When the input had nothing (or `null`) at `pointer` and the output now holds
/// an empty map or list there, put the input's state back.
pub fn restore_created(v: &mut Value, input: &Value, pointer: &str) {
    let was = input.pointer(pointer);
    if !was.is_none_or(Value::is_null) {
        return;
    }
    let empty = match v.pointer(pointer) {
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    };
    if !empty {
        return;
    }
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    let parent = if parent.is_empty() {
        Some(&mut *v)
    } else {
        v.pointer_mut(parent)
    };
    if let Some(Value::Object(map)) = parent {
        match was {
            None => map.remove(key),
            Some(null) => map.insert(key.into(), null.clone()),
        };
    }
}

/// JSON pointers of every object in `v`, except the string maps whose keys
/// are data ([`STRING_MAPS`]): where unknown fields can be injected.
pub fn object_pointers(v: &Value, here: String, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if !STRING_MAPS.contains(&here.as_str()) {
                out.push(here.clone());
            }
            for (k, child) in map {
                let k = k.replace('~', "~0").replace('/', "~1");
                object_pointers(child, format!("{here}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                object_pointers(child, format!("{here}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Every node of `v` as a JSON pointer (the root is `""`).
pub fn all_pointers(v: &Value, here: String, out: &mut Vec<String>) {
    out.push(here.clone());
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let k = k.replace('~', "~0").replace('/', "~1");
                all_pointers(child, format!("{here}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                all_pointers(child, format!("{here}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Compiles settings as `validate` does (from their text); a refusal must
/// carry messages, none of them empty.
pub fn compile(settings: &Value) -> Option<Profile> {
    compile_text(&settings.to_string())
}

/// [`compile`] from the settings' text, which may hold what a `Value`
/// cannot, such as a key given twice. Read into a `serde_json::Value` from
/// the same text, the settings must compile to the same: reading them a
/// field and a selector at a time loses nothing.
pub fn compile_text(text: &str) -> Option<Profile> {
    let Checked(compiled) = serde_json::from_str(text).ok()?;
    let value: Value = serde_json::from_str(text).expect("read by serde, read into a Value");
    assert_eq!(
        compiled,
        Profile::from_settings(&value),
        "a field at a time and whole read {text} differently"
    );
    match compiled {
        Ok(p) => Some(p),
        Err(e) => {
            assert!(!e.0.is_empty(), "an error without messages");
            for m in &e.0 {
                assert!(!m.is_empty(), "an empty error message in {e:?}");
            }
            None
        }
    }
}
