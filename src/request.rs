//! What `validate` reads of its payload, as derived serde types: the
//! AdmissionRequest's routing fields, the settings left raw until needed,
//! and a borrowed probe of the pod's labels, namespace and nodeSelector.

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor, value::MapAccessDeserializer};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

/// The payload policy-server and kwctl send to `validate`.
#[derive(Deserialize)]
pub struct Payload<'a> {
    /// Absent: `None`; anything but a mapping (`null` included) is an error.
    #[serde(borrow, default, deserialize_with = "present")]
    pub request: Option<Mapping<Request<'a>>>,
    /// Compiled only for a Pod CREATE; absent or `null` gives the defaults.
    #[serde(borrow)]
    pub settings: Option<&'a RawValue>,
}

/// The fields of an AdmissionRequest that route it; the pod stays raw.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Request<'a> {
    pub kind: Mapping<Kind>,
    pub operation: String,
    pub sub_resource: Option<String>,
    pub namespace: Option<String>,
    #[serde(borrow)]
    pub object: Option<&'a RawValue>,
}

/// The request's GroupVersionKind (the version does not matter here).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Kind {
    pub group: String,
    pub kind: String,
}

/// What the screen reads of a pod, borrowed from the request. Reading fails
/// on anything unusual (a string with escapes, a label that is not a
/// string, a field given twice, …): the full path then reads the pod and
/// says what, if anything, is wrong.
#[derive(Deserialize)]
pub struct PodProbe<'a> {
    #[serde(borrow)]
    pub metadata: Option<Mapping<MetadataProbe<'a>>>,
    #[serde(borrow)]
    pub spec: Option<Mapping<SpecProbe<'a>>>,
}

#[derive(Deserialize)]
pub struct MetadataProbe<'a> {
    pub namespace: Option<&'a str>,
    #[serde(borrow)]
    pub labels: Option<BTreeMap<&'a str, &'a str>>,
}

#[derive(Deserialize)]
pub struct SpecProbe<'a> {
    #[serde(borrow, rename = "nodeSelector")]
    pub node_selector: Option<BTreeMap<&'a str, &'a str>>,
}

impl<'a> PodProbe<'a> {
    /// The probe of a pod's text; `None` when anything is unusual.
    pub fn read(text: &'a str) -> Option<Self> {
        let Mapping(probe) = serde_json::from_str(text).ok()?;
        Some(probe)
    }

    pub fn namespace(&self) -> Option<&'a str> {
        self.metadata.as_ref().and_then(|m| m.0.namespace)
    }

    pub fn labels(&self) -> Option<&BTreeMap<&'a str, &'a str>> {
        self.metadata.as_ref().and_then(|m| m.0.labels.as_ref())
    }

    pub fn node_selector(&self) -> Option<&BTreeMap<&'a str, &'a str>> {
        self.spec.as_ref().and_then(|s| s.0.node_selector.as_ref())
    }
}

fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A struct read from a JSON mapping only: serde's derive would also read
/// it from a list, field by field. Errors say `expected struct NAME`.
#[derive(Default)]
pub struct Mapping<T>(pub T);

/// The struct name that errors give.
pub trait Named {
    const NAME: &'static str;
}

macro_rules! named {
    ($($t:ident),*) => {$(
        impl Named for $t<'_> {
            const NAME: &'static str = stringify!($t);
        }
    )*};
}
named!(Payload, Request, PodProbe, MetadataProbe, SpecProbe);

impl Named for Kind {
    const NAME: &'static str = "Kind";
}

impl<'de, T: Deserialize<'de> + Named> Deserialize<'de> for Mapping<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MappingVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Named> Visitor<'de> for MappingVisitor<T> {
            type Value = Mapping<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "struct {}", T::NAME)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Mapping)
            }
        }
        deserializer.deserialize_map(MappingVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read(payload: &str) -> Result<Payload<'_>, String> {
        serde_json::from_str::<Mapping<Payload>>(payload)
            .map(|p| p.0)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn structs_are_read_from_mappings_only() {
        assert_eq!(
            read(r#"{"request":[]}"#).err().unwrap(),
            "invalid type: sequence, expected struct Request at line 1 column 11"
        );
        assert_eq!(
            read(r#"{"request":{"kind":"Pod"}}"#).err().unwrap(),
            r#"invalid type: string "Pod", expected struct Kind at line 1 column 24"#
        );
        assert_eq!(
            read(r#"{"request":{"kind":null}}"#).err().unwrap(),
            "invalid type: null, expected struct Kind at line 1 column 23"
        );
        assert_eq!(
            read(r#"{"request":{"operation":1,"x":2}}"#).err().unwrap(),
            "invalid type: integer `1`, expected a string at line 1 column 25"
        );
        assert_eq!(
            read(r#"{"request":{"object":1,"object":2}}"#)
                .err()
                .unwrap(),
            "duplicate field `object` at line 1 column 31"
        );
        assert_eq!(
            read(r#"{"request":null}"#).err().unwrap(),
            "invalid type: null, expected struct Request at line 1 column 15"
        );
        assert!(read("{}").unwrap().request.is_none());
        assert!(read("[1]").is_err());
        let p = read(r#"{"request":{"kind":{"kind":"Pod"},"object":{"a":1}},"x":1}"#).unwrap();
        let request = p.request.unwrap().0;
        assert_eq!(request.kind.0.kind, "Pod");
        assert_eq!(request.object.unwrap().get(), r#"{"a":1}"#);
        assert!(p.settings.is_none());
    }

    #[test]
    fn the_probe_reads_usual_pods_only() {
        let probe = PodProbe::read(
            r#"{"metadata":{"namespace":"ns","labels":{"a":"1","a":"2"}},"spec":{"nodeSelector":{"t":"v"},"x":[1]}}"#,
        )
        .unwrap();
        assert_eq!(probe.namespace(), Some("ns"));
        assert_eq!(probe.labels().unwrap().get("a"), Some(&"2"));
        assert_eq!(probe.node_selector().unwrap().get("t"), Some(&"v"));
        assert!(PodProbe::read("{}").unwrap().labels().is_none());
        for unusual in [
            "[1]",
            "null",
            r#"{"metadata":["ns",{"a":"1"}]}"#,
            r#"{"metadata":{"labels":{"a":1}}}"#,
            r#"{"metadata":{"labels":{"a":"\u0031"}}}"#,
            r#"{"spec":{"nodeSelector":[]}}"#,
            r#"{"spec":{},"spec":{}}"#,
        ] {
            assert!(PodProbe::read(unusual).is_none(), "{unusual}");
        }
    }

    fn string_map(max: usize) -> impl Strategy<Value = serde_json::Value> {
        let value = prop_oneof![
            8 => "[ab]{0,2}".prop_map(serde_json::Value::from),
            2 => "[ab\\\\\"é]{0,2}".prop_map(serde_json::Value::from),
            1 => Just(serde_json::Value::from(1)),
            1 => Just(serde_json::Value::Null),
        ];
        let key = prop_oneof![4 => "[ab]{0,2}", 1 => "[ab\\\\\"]{0,2}"];
        prop_oneof![
            6 => proptest::collection::btree_map(key, value, 0..max)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            1 => Just(serde_json::Value::Null),
            1 => Just(serde_json::json!([])),
            1 => Just(serde_json::json!("x")),
        ]
    }

    proptest::proptest! {
        /// Whatever the probe reads, the full path reads the same: the probe
        /// never lets the screen see other labels, nodeSelector or namespace
        /// than `evaluate_pod` would (it may only give up).
        #[test]
        fn the_probe_reads_what_the_full_path_reads(
            labels in string_map(4),
            node_selector in string_map(2),
            namespace in proptest::prop_oneof![
                "[ns\\\\]{0,3}".prop_map(serde_json::Value::from),
                proptest::strategy::Just(serde_json::Value::Null),
            ],
            layout in 0..4usize,
            escape in proptest::bool::ANY,
        ) {
            let text = match layout {
                0 => format!(r#"{{"metadata":{{"namespace":{namespace},"labels":{labels}}},"spec":{{"nodeSelector":{node_selector}}}}}"#),
                1 => format!(r#"{{"spec":{{"nodeSelector":{node_selector},"x":[{labels}]}},"metadata":{{"labels":{labels},"namespace":{namespace}}}}}"#),
                2 => format!(r#"{{"metadata":[{namespace},{labels}],"spec":null}}"#),
                _ => format!(r#"{{"metadata":{{"labels":{labels},"labels":{labels}}}}}"#),
            };
            // Sometimes a letter written as an escape (the probe gives up on those).
            let text = if escape { text.replacen('a', "\\u0061", 1) } else { text };
            let Ok(pod) = serde_json::from_str::<serde_json::Value>(&text) else {
                return Ok(());
            };
            if let Some(probe) = PodProbe::read(&text) {
                let strings = |v: &serde_json::Value| -> Option<BTreeMap<String, String>> {
                    v.as_object().map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().expect("a string").to_string()))
                            .collect()
                    })
                };
                let owned = |m: &BTreeMap<&str, &str>| -> BTreeMap<String, String> {
                    m.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
                };
                proptest::prop_assert_eq!(
                    strings(&pod["metadata"]["labels"]),
                    probe.labels().map(owned)
                );
                proptest::prop_assert_eq!(
                    strings(&pod["spec"]["nodeSelector"]),
                    probe.node_selector().map(owned)
                );
                proptest::prop_assert_eq!(pod["metadata"]["namespace"].as_str(), probe.namespace());
            }
        }
    }
}
