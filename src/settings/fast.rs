//! Compiling settings straight from their text, with the same checks, but
//! without building a `serde_json::Value` first: borrowed, typed structs.
//!
//! policy-server (since 1.10) evaluates every request on a fresh instance, so
//! `validate` compiles the settings on every request; building the `Value`
//! was half of that. This path only ever *accepts*: anything unusual (the
//! ConfigMap's JSON-string form, a `null` where a value belongs, a field
//! given twice, a cluster-level key) or invalid gives `None`, and
//! [`Profile::from_settings`] compiles it or says what is wrong. A property
//! test checks that whatever this path compiles, `from_settings` compiles
//! to the very same `Profile`.

use super::{
    Effect, OnLookupError, Profile, Selector, VirtualNode, compile_virtual_node, default_selectors,
    name_key,
};
use crate::eci_annotations::check_annotation;
use crate::json_struct::Str;
use crate::k8s_names::{annotation_key, label_key, label_pair, label_value};
use crate::label_selector::{LabelSelector, Requirement};
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

/// The settings compiled from `text`, when they are valid and written the
/// usual way; `None` otherwise.
pub fn compile(text: &[u8]) -> Option<Profile> {
    let raw: RawSettings = serde_json::from_slice(text).ok()?;
    // Each part built once: the defaults only where a part is absent.
    let selectors = match raw.selectors {
        None => default_selectors(),
        Some(None) => Vec::new(),
        Some(Some(list)) => {
            let mut selectors = Vec::with_capacity(list.len());
            // Names are unique ignoring ASCII case (the map's type is
            // `compile_selectors`' own, so that its code is shared).
            let mut names: HashMap<Cow<str>, (usize, &str)> = HashMap::with_capacity(list.len());
            for (i, raw) in list.into_iter().enumerate() {
                let name = raw.name.as_ref()?;
                // Borrowed from the text, so not from `raw`, when it needs no change.
                let lower = match &name.0 {
                    Cow::Borrowed(text) => name_key(text),
                    Cow::Owned(owned) => Cow::Owned(name_key(owned).into_owned()),
                };
                if lower.is_empty() || names.insert(lower, (i, "")).is_some() {
                    return None;
                }
                selectors.push(selector(raw)?);
            }
            selectors
        }
    };
    let virtual_node = match raw.virtual_node {
        None => VirtualNode::default(),
        Some(raw) => {
            let value: serde_json::Value = serde_json::from_slice(raw.get().as_bytes()).ok()?;
            let mut errors = Vec::new();
            let vn = compile_virtual_node(&value, &mut errors);
            if !errors.is_empty() {
                return None;
            }
            vn
        }
    };
    let on_namespace_lookup_error = match raw.on_namespace_lookup_error.map(RawValue::get) {
        None | Some(r#""Ignore""#) => OnLookupError::Ignore,
        Some(r#""Fail""#) => OnLookupError::Fail,
        Some(_) => return None,
    };
    Some(Profile {
        selectors,
        virtual_node,
        on_namespace_lookup_error,
    })
}

fn selector(raw: RawSelector) -> Option<Selector> {
    let namespace_selector = match raw.namespace_selector.flatten() {
        Some(raw) => Some(label_selector(raw)?),
        None => None,
    };
    let object_selector = match raw.object_selector.flatten() {
        Some(raw) => Some(label_selector(raw)?),
        None => None,
    };
    let effect = match raw.effect.flatten() {
        None => Effect::default(),
        Some(effect) => Effect {
            annotations: pairs(effect.annotations.flatten(), |k, v| {
                annotation_key(k).and_then(|()| check_annotation(k, v))
            })?,
            labels: pairs(effect.labels.flatten(), label_pair)?,
        },
    };
    let selector = Selector {
        name: raw.name?.0.into_owned(),
        namespace_selector,
        object_selector,
        effect,
    };
    // A selector must select, add something, or both.
    (selector.is_scheduling() || !selector.effect.is_empty()).then_some(selector)
}

fn label_selector(raw: RawLabelSelector) -> Option<LabelSelector> {
    // matchLabels first, then matchExpressions, as Kubernetes lists them.
    let mut requirements: Vec<Requirement> = pairs(raw.match_labels.flatten(), label_pair)?
        .into_iter()
        .map(|(k, v)| Requirement::Equals(k, v))
        .collect();
    for expr in raw.match_expressions.flatten().into_iter().flatten() {
        let (key, operator) = (expr.key?.0, expr.operator?.0);
        label_key(&key).ok()?;
        let values: Vec<String> = expr
            .values
            .flatten()
            .into_iter()
            .flatten()
            .map(|v| v.0.into_owned())
            .collect();
        for v in &values {
            label_value(v).ok()?;
        }
        let key = key.into_owned();
        requirements.push(match (operator.as_ref(), values.is_empty()) {
            ("In", false) => Requirement::In(key, values),
            ("NotIn", false) => Requirement::NotIn(key, values),
            ("Exists", true) => Requirement::Exists(key),
            ("DoesNotExist", true) => Requirement::DoesNotExist(key),
            _ => return None,
        });
    }
    Some(LabelSelector { requirements })
}

/// A map of strings in the order a `Value` gives it (sorted by key, the
/// last of a repeated key), each pair checked.
fn pairs(
    raw: Option<Pairs>,
    check: impl Fn(&str, &str) -> Result<(), String>,
) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (k, v) in raw.map(|p| p.0).unwrap_or_default() {
        check(&k, &v).ok()?;
        out.push((k, v));
    }
    Some(out)
}

crate::json_struct!(strict RawSettings {
    // `null`: no selectors. (The JSON-string form goes the checked way.)
    selectors: Option<Vec<RawSelector<'a>>> = "selectors",
    // Compiled the checked way from its text (it is small).
    virtual_node: &'a RawValue = "virtualNode",
    on_namespace_lookup_error: &'a RawValue = "onNamespaceLookupError",
});

crate::json_struct!(strict RawSelector {
    name: Str<'a> = "name",
    namespace_selector: Option<RawLabelSelector<'a>> = "namespaceSelector",
    object_selector: Option<RawLabelSelector<'a>> = "objectSelector",
    effect: Option<RawEffect<'a>> = "effect",
});

crate::json_struct!(strict RawLabelSelector {
    match_labels: Option<Pairs> = "matchLabels",
    match_expressions: Option<Vec<RawExpression<'a>>> = "matchExpressions",
});

crate::json_struct!(strict RawExpression {
    key: Str<'a> = "key",
    operator: Str<'a> = "operator",
    values: Option<Vec<Str<'a>>> = "values",
});

crate::json_struct!(strict RawEffect {
    annotations: Option<Pairs> = "annotations",
    labels: Option<Pairs> = "labels",
});

/// A mapping of strings, as a `Value` orders it: by key, the last of a
/// repeated key (kept sorted as read: these maps are small).
struct Pairs(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor;
        impl<'de> Visitor<'de> for PairsVisitor {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out: Vec<(String, String)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<Str<'de>, Str<'de>>()? {
                    let v = v.0.into_owned();
                    match out.binary_search_by(|(have, _)| have.as_str().cmp(&k.0)) {
                        Ok(at) => out[at].1 = v,
                        Err(at) => out.insert(at, (k.0.into_owned(), v)),
                    }
                }
                Ok(Pairs(out))
            }
        }
        deserializer.deserialize_map(PairsVisitor)
    }
}
