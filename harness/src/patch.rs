//! The JSON patch of a mutation, computed the way policy-server computes it,
//! and shown one operation per line for people.

use std::sync::OnceLock;

use json_patch::{Patch, PatchOperation};
use serde_json::{Map, Value};

/// The RFC 6902 patch from `object` to `mutated`: `json_patch::diff`, as
/// policy-server computes the patch it sends to the API server.
///
/// Object keys are compared in sorted order whatever serde_json's features,
/// so the order of the operations never depends on which crates of the
/// workspace happen to be built together (`preserve_order` is unified across
/// a build).
pub fn diff(object: &Value, mutated: &Value) -> Patch {
    if maps_are_sorted() {
        return json_patch::diff(object, mutated);
    }
    let (mut object, mut mutated) = (object.clone(), mutated.clone());
    object.sort_all_objects();
    mutated.sort_all_objects();
    json_patch::diff(&object, &mutated)
}

/// Whether serde_json keeps maps sorted (no `preserve_order` in this build).
fn maps_are_sorted() -> bool {
    static SORTED: OnceLock<bool> = OnceLock::new();
    *SORTED.get_or_init(|| {
        let mut probe = Map::new();
        probe.insert("b".to_owned(), Value::Null);
        probe.insert("a".to_owned(), Value::Null);
        probe.keys().next().map(String::as_str) == Some("a")
    })
}

/// The patch as a JSON value (a list of operations), for comparison and output.
pub fn to_value(patch: &Patch) -> Value {
    Value::Array(patch.0.iter().map(operation_to_value).collect())
}

fn operation_to_value(operation: &PatchOperation) -> Value {
    // Serializing a patch operation cannot fail: it is a tagged struct of
    // strings and JSON values.
    serde_json::to_value(operation).unwrap_or(Value::Null)
}

/// One line per operation: `+ /path = value` (add), `- /path` (remove),
/// `~ /path = value` (replace), `> /from -> /path` (move),
/// `= /from -> /path` (copy), `? /path == value` (test).
///
/// ```
/// use serde_json::json;
/// let patch = eci_profile_harness::patch::diff(
///     &json!({"spec": {}}),
///     &json!({"spec": {"nodeSelector": {"type": "virtual-kubelet"}}}),
/// );
/// assert_eq!(
///     eci_profile_harness::patch::render(&patch),
///     vec![r#"+ /spec/nodeSelector = {"type":"virtual-kubelet"}"#]
/// );
/// ```
pub fn render(patch: &Patch) -> Vec<String> {
    patch.0.iter().map(render_operation).collect()
}

fn render_operation(operation: &PatchOperation) -> String {
    match operation {
        PatchOperation::Add(op) => format!("+ {} = {}", op.path, op.value),
        PatchOperation::Remove(op) => format!("- {}", op.path),
        PatchOperation::Replace(op) => format!("~ {} = {}", op.path, op.value),
        PatchOperation::Move(op) => format!("> {} -> {}", op.from, op.path),
        PatchOperation::Copy(op) => format!("= {} -> {}", op.from, op.path),
        PatchOperation::Test(op) => format!("? {} == {}", op.path, op.value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn additions_become_add_operations_in_key_order() {
        let object = json!({
            "metadata": {"name": "p", "labels": {"app": "web"}},
            "spec": {"tolerations": [{"key": "a", "operator": "Exists"}]}
        });
        let mutated = json!({
            "metadata": {
                "name": "p",
                "labels": {"app": "web", "gpu": "test"},
                "annotations": {"k8s.aliyun.com/eci-use-specs": "ecs.c5.large"}
            },
            "spec": {
                "nodeSelector": {"type": "virtual-kubelet"},
                "tolerations": [
                    {"key": "a", "operator": "Exists"},
                    {"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoSchedule"}
                ]
            }
        });
        let patch = diff(&object, &mutated);
        assert_eq!(
            to_value(&patch),
            json!([
                {"op": "add", "path": "/metadata/annotations", "value": {"k8s.aliyun.com/eci-use-specs": "ecs.c5.large"}},
                {"op": "add", "path": "/metadata/labels/gpu", "value": "test"},
                {"op": "add", "path": "/spec/nodeSelector", "value": {"type": "virtual-kubelet"}},
                {"op": "add", "path": "/spec/tolerations/1", "value": {"effect": "NoSchedule", "key": "virtual-kubelet.io/provider", "operator": "Exists"}}
            ])
        );
        assert_eq!(
            render(&patch),
            vec![
                r#"+ /metadata/annotations = {"k8s.aliyun.com/eci-use-specs":"ecs.c5.large"}"#,
                r#"+ /metadata/labels/gpu = "test""#,
                r#"+ /spec/nodeSelector = {"type":"virtual-kubelet"}"#,
                r#"+ /spec/tolerations/1 = {"effect":"NoSchedule","key":"virtual-kubelet.io/provider","operator":"Exists"}"#,
            ]
        );
    }

    #[test]
    fn keys_with_slashes_are_escaped_as_json_pointer_says() {
        let patch = diff(
            &json!({"metadata": {"labels": {}}}),
            &json!({"metadata": {"labels": {"alibabacloud.com/eci": "true"}}}),
        );
        assert_eq!(
            render(&patch),
            vec![r#"+ /metadata/labels/alibabacloud.com~1eci = "true""#]
        );
    }

    #[test]
    fn identical_documents_give_an_empty_patch() {
        let doc = json!({"a": [1, {"b": null}]});
        assert!(diff(&doc, &doc).0.is_empty());
    }

    #[test]
    fn every_operation_kind_renders() {
        let patch: Patch = serde_json::from_value(json!([
            {"op": "remove", "path": "/a"},
            {"op": "replace", "path": "/b", "value": 2},
            {"op": "move", "from": "/c", "path": "/d"},
            {"op": "copy", "from": "/e", "path": "/f"},
            {"op": "test", "path": "/g", "value": "x"}
        ]))
        .unwrap();
        assert_eq!(
            render(&patch),
            vec![
                "- /a",
                "~ /b = 2",
                "> /c -> /d",
                "= /e -> /f",
                r#"? /g == "x""#
            ]
        );
    }
}
