//! ECI Effect: the annotations and labels of matching selectors, added in
//! priority order without ever overwriting. The pod's own value wins, then
//! the earliest selector, because a key once present is never touched.

use crate::json_path::{field, object_entry, opt_object};
use crate::scheduling::Addition;
use crate::settings::Effect;
use serde_json::{Map, Value};

/// How an added key is reported.
type Record = fn(String, String) -> Addition;

/// Adds the effect's keys that `pod.metadata` lacks; returns what was added.
pub fn apply_effect(
    pod: &mut Map<String, Value>,
    effect: &Effect,
) -> Result<Vec<Addition>, String> {
    let mut added = Vec::new();
    if effect.is_empty() {
        return Ok(added);
    }
    let metadata = object_entry(pod, "metadata", "metadata")?;
    let maps = [
        (
            "annotations",
            &effect.annotations,
            Addition::Annotation as Record,
        ),
        ("labels", &effect.labels, Addition::Label as Record),
    ];
    for (which, pairs, record) in maps {
        let path = field("metadata", which);
        for (key, value) in pairs {
            let present = opt_object(metadata.get(which), &path)?;
            if !present.is_some_and(|map| map.contains_key(key)) {
                // The map is created only when something goes into it, so an effect
                // that adds nothing leaves no empty `annotations: {}` behind.
                let map = object_entry(metadata, which, &path)?;
                map.insert(key.clone(), Value::String(value.clone()));
                added.push(record(key.clone(), value.clone()));
            }
        }
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn effect(annotations: &[(&str, &str)], labels: &[(&str, &str)]) -> Effect {
        let own = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        Effect {
            annotations: own(annotations),
            labels: own(labels),
        }
    }

    #[test]
    fn adds_missing_keys_and_never_overwrites() {
        let mut pod = json!({"metadata": {"labels": {"gpu": "mine"}}});
        let added = apply_effect(
            pod.as_object_mut().unwrap(),
            &effect(
                &[("k8s.aliyun.com/eci-use-specs", "ecs.c6.xlarge")],
                &[("gpu", "test"), ("team", "a")],
            ),
        )
        .unwrap();
        assert_eq!(
            pod,
            json!({"metadata": {
                "labels": {"gpu": "mine", "team": "a"},
                "annotations": {"k8s.aliyun.com/eci-use-specs": "ecs.c6.xlarge"}}})
        );
        assert_eq!(
            added,
            vec![
                Addition::Annotation(
                    "k8s.aliyun.com/eci-use-specs".into(),
                    "ecs.c6.xlarge".into()
                ),
                Addition::Label("team".into(), "a".into()),
            ]
        );
    }

    #[test]
    fn nothing_to_add_leaves_no_empty_map() {
        let mut pod = json!({"metadata": {"labels": {"gpu": "mine"}}});
        let before = pod.clone();
        let added = apply_effect(
            pod.as_object_mut().unwrap(),
            &effect(&[], &[("gpu", "test")]),
        )
        .unwrap();
        assert!(added.is_empty());
        assert_eq!(pod, before);
    }

    #[test]
    fn null_maps_are_replaced_and_wrong_types_reported() {
        let mut pod = json!({"metadata": {"annotations": null}});
        apply_effect(pod.as_object_mut().unwrap(), &effect(&[("a", "b")], &[])).unwrap();
        assert_eq!(pod, json!({"metadata": {"annotations": {"a": "b"}}}));

        let mut pod = json!({"metadata": {"labels": ["x"]}});
        assert_eq!(
            apply_effect(pod.as_object_mut().unwrap(), &effect(&[], &[("a", "b")])).unwrap_err(),
            r#"metadata.labels: expected a mapping, found ["x"]"#
        );
    }
}
