//! The host side of Kubewarden's waPC protocol: what the policy's host calls
//! are answered with, and the record of every call it made.
//!
//! policy-server answers `kubewarden/kubernetes/get_resource` from the API
//! server; here a [`Cluster`] fixture stands in for it: Namespaces, and the
//! ConfigMaps a live profile reads. Every call is recorded in
//! [`HostActivity`], so tests can assert how often the policy looked a
//! namespace or a ConfigMap up and with which request.

use std::collections::BTreeMap;
use std::error::Error;
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::files::describe_value;

/// policy-evaluator's host callback reports every failed host call as
/// `Callback evaluation failure: {error:?}`; the harness words it the same.
pub const CALLBACK_FAILURE: &str = "Callback evaluation failure: ";

/// policy-evaluator's error for an object that does not exist (`get_opt` →
/// `None`), its namespace written as Rust's `Option` debug form.
pub fn not_found_text(kind: &str, name: &str, namespace: Option<&str>) -> String {
    format!("Cannot find v1/{kind} named '{name}' inside of namespace '{namespace:?}'")
}

/// What the fake cluster answers when the policy asks for one object.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// The object (as the API server returns it).
    Found(Value),
    /// The error policy-server reports for a missing object, e.g.
    /// `Cannot find v1/Namespace named 'NAME' inside of namespace 'None'`.
    NotFound,
    /// A host error with this text (API server unreachable, RBAC, ...).
    Error(String),
    /// These raw bytes as a successful answer, which are not the object.
    Malformed(String),
}

/// The Namespaces and ConfigMaps the host knows. An object it does not know
/// is answered as [`Answer::NotFound`], as a real cluster would.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cluster {
    namespaces: BTreeMap<String, Answer>,
    /// By (namespace, name).
    config_maps: BTreeMap<(String, String), Answer>,
}

impl Cluster {
    /// A cluster that knows no namespace at all.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets what a lookup of `name` answers.
    pub fn insert(&mut self, name: impl Into<String>, answer: Answer) {
        self.namespaces.insert(name.into(), answer);
    }

    /// Builder form of [`Cluster::insert`].
    pub fn with(mut self, name: impl Into<String>, answer: Answer) -> Self {
        self.insert(name, answer);
        self
    }

    /// Adds a Namespace object, found under its own `metadata.name`.
    pub fn add_namespace_object(&mut self, object: Value) -> Result<()> {
        check_namespace_object(&object)?;
        let Some(name) = object.pointer("/metadata/name").and_then(Value::as_str) else {
            bail!("the Namespace has no metadata.name");
        };
        let name = name.to_owned();
        self.insert(name, Answer::Found(object));
        Ok(())
    }

    /// What a lookup of `name` answers.
    pub fn answer(&self, name: &str) -> Answer {
        self.namespaces
            .get(name)
            .cloned()
            .unwrap_or(Answer::NotFound)
    }

    /// Sets what a lookup of the ConfigMap `namespace/name` answers.
    pub fn insert_config_map(&mut self, namespace: &str, name: &str, answer: Answer) {
        self.config_maps
            .insert((namespace.to_owned(), name.to_owned()), answer);
    }

    /// What a lookup of the ConfigMap `namespace/name` answers.
    pub fn config_map_answer(&self, namespace: &str, name: &str) -> Answer {
        self.config_maps
            .get(&(namespace.to_owned(), name.to_owned()))
            .cloned()
            .unwrap_or(Answer::NotFound)
    }
}

/// Checks that a document can stand for a ConfigMap: a mapping whose `kind`,
/// when present, is `ConfigMap`.
pub fn check_config_map_object(object: &Value) -> Result<()> {
    check_kind(object, "ConfigMap")
}

/// Checks that a document can stand for a Namespace: a mapping whose `kind`,
/// when present, is `Namespace`.
pub fn check_namespace_object(object: &Value) -> Result<()> {
    check_kind(object, "Namespace")
}

fn check_kind(object: &Value, want: &str) -> Result<()> {
    let Value::Object(map) = object else {
        bail!(
            "a {want} must be a mapping, found {}",
            describe_value(object)
        );
    };
    match map.get("kind") {
        None => Ok(()),
        Some(Value::String(kind)) if kind == want => Ok(()),
        Some(other) => bail!("kind must be {want}, found {}", describe_value(other)),
    }
}

/// The payload of `kubewarden/kubernetes/get_resource`, as the Rust SDK's
/// `GetResourceRequest` serializes it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct GetResourceRequest {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub disable_cache: bool,
    #[serde(default)]
    pub field_masks: Option<Vec<String>>,
}

/// One `get_resource` call made by the policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Lookup {
    /// The payload as sent.
    pub payload: String,
    /// The payload parsed, or why it does not parse.
    pub request: Result<GetResourceRequest, String>,
    /// What the host answered: the bytes of a successful answer, or the error text.
    pub answer: Result<String, String>,
}

/// Every host call the policy made during one guest call.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HostActivity {
    /// `kubewarden/kubernetes/get_resource` calls, in order.
    pub lookups: Vec<Lookup>,
    /// Payloads of `kubewarden/tracing/log` calls, in order.
    pub logs: Vec<String>,
    /// Calls this host does not serve, each described by its
    /// binding/namespace/operation.
    pub refused: Vec<String>,
}

/// State shared between the [`crate::Policy`] and its host callback: the
/// fixture to answer from, and the record of the current guest call.
#[derive(Debug, Default)]
pub(crate) struct HostState {
    pub(crate) cluster: Cluster,
    pub(crate) activity: HostActivity,
}

pub(crate) type SharedState = Arc<Mutex<HostState>>;

/// Locks the state. A panic while it was held cannot leave it half-written in
/// a way that matters here, so a poisoned lock is simply taken over.
pub(crate) fn lock(state: &SharedState) -> MutexGuard<'_, HostState> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The waPC host callback answering from `state`.
pub(crate) fn callback(state: SharedState) -> Box<wapc::HostCallback> {
    Box::new(
        move |_id: u64,
              binding: &str,
              namespace: &str,
              operation: &str,
              payload: &[u8]|
              -> Result<Vec<u8>, Box<dyn Error + Send + Sync>> {
            let mut state = lock(&state);
            match (binding, namespace, operation) {
                ("kubewarden", "kubernetes", "get_resource") => {
                    let lookup = get_resource(&state.cluster, payload);
                    let answer = lookup.answer.clone();
                    state.activity.lookups.push(lookup);
                    answer.map(String::into_bytes).map_err(Into::into)
                }
                ("kubewarden", "tracing", "log") => {
                    let text = String::from_utf8_lossy(payload).into_owned();
                    state.activity.logs.push(text);
                    Ok(Vec::new())
                }
                _ => {
                    let call = format!(
                        "binding {binding:?}, namespace {namespace:?}, operation {operation:?}"
                    );
                    state.activity.refused.push(call.clone());
                    Err(format!(
                        "eci-profile does not serve the host call {call}: \
                         only kubewarden/kubernetes/get_resource and kubewarden/tracing/log are served"
                    )
                    .into())
                }
            }
        },
    )
}

/// Answers one `get_resource` payload from the cluster fixture.
fn get_resource(cluster: &Cluster, payload: &[u8]) -> Lookup {
    let text = String::from_utf8_lossy(payload).into_owned();
    let request = serde_json::from_slice::<GetResourceRequest>(payload)
        .map_err(|e| format!("cannot parse the get_resource request {text}: {e}"));
    let answer = match &request {
        Err(e) => Err(e.clone()),
        Ok(req) => {
            let namespace = req.namespace.as_deref();
            let found = match (req.api_version.as_str(), req.kind.as_str(), namespace) {
                ("v1", "Namespace", _) => Some(cluster.answer(&req.name)),
                ("v1", "ConfigMap", Some(ns)) => Some(cluster.config_map_answer(ns, &req.name)),
                _ => None,
            };
            match found {
                None => Err(format!(
                    "eci-profile serves only v1/Namespace and namespaced v1/ConfigMap through get_resource, not {}/{} in {namespace:?}",
                    req.api_version, req.kind
                )),
                Some(Answer::Found(object)) => {
                    let masks = req.field_masks.as_deref().unwrap_or_default();
                    Ok(apply_field_masks(&object, masks).to_string())
                }
                Some(Answer::NotFound) => Err(format!(
                    "{CALLBACK_FAILURE}{}",
                    not_found_text(&req.kind, &req.name, namespace)
                )),
                Some(Answer::Error(text)) => Err(format!("{CALLBACK_FAILURE}{text}")),
                Some(Answer::Malformed(raw)) => Ok(raw),
            }
        }
    };
    Lookup {
        payload: text,
        request,
        answer,
    }
}

/// Prunes `object` to the fields named by `masks`, as the SDK documents
/// `field_masks`: dot-separated paths, lists traversed implicitly, only the
/// named fields kept. No mask (or an empty list) keeps the whole object.
pub fn apply_field_masks(object: &Value, masks: &[String]) -> Value {
    if masks.is_empty() {
        return object.clone();
    }
    let mut pruned = Value::Object(Map::new());
    for mask in masks {
        let path: Vec<&str> = mask.split('.').collect();
        copy_path(object, &path, &mut pruned);
    }
    pruned
}

/// Copies the value at `path` in `source` into the same place in `target`.
fn copy_path(source: &Value, path: &[&str], target: &mut Value) {
    let Some((first, rest)) = path.split_first() else {
        *target = source.clone();
        return;
    };
    match source {
        Value::Object(fields) => {
            let Some(child) = fields.get(*first) else {
                return;
            };
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(target_fields) = target {
                let slot = target_fields
                    .entry((*first).to_owned())
                    .or_insert(Value::Null);
                copy_path(child, rest, slot);
            }
        }
        Value::Array(items) => {
            if !matches!(target, Value::Array(existing) if existing.len() == items.len()) {
                *target = Value::Array(vec![Value::Null; items.len()]);
            }
            if let Value::Array(slots) = target {
                for (item, slot) in items.iter().zip(slots.iter_mut()) {
                    copy_path(item, path, slot);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn namespace() -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "team-a", "labels": {"alibabacloud.com/eci": "true"}, "uid": "u"},
            "spec": {"finalizers": ["kubernetes"]}
        })
    }

    fn request(name: &str) -> Vec<u8> {
        json!({
            "api_version": "v1", "kind": "Namespace", "name": name,
            "namespace": null, "disable_cache": false, "field_masks": null
        })
        .to_string()
        .into_bytes()
    }

    fn call(
        state: &SharedState,
        b: &str,
        n: &str,
        o: &str,
        payload: &[u8],
    ) -> Result<Vec<u8>, String> {
        callback(state.clone())(1, b, n, o, payload).map_err(|e| e.to_string())
    }

    #[test]
    fn get_resource_answers_from_the_cluster_and_records_the_call() {
        let mut cluster = Cluster::new();
        cluster.add_namespace_object(namespace()).unwrap();
        cluster.insert("broken", Answer::Error("connection refused".into()));
        cluster.insert("garbage", Answer::Malformed("[1,2".into()));
        let state: SharedState = Arc::new(Mutex::new(HostState {
            cluster,
            activity: HostActivity::default(),
        }));

        let found = call(
            &state,
            "kubewarden",
            "kubernetes",
            "get_resource",
            &request("team-a"),
        );
        assert_eq!(
            serde_json::from_slice::<Value>(&found.unwrap()).unwrap(),
            namespace()
        );
        assert_eq!(
            call(
                &state,
                "kubewarden",
                "kubernetes",
                "get_resource",
                &request("ghost")
            ),
            Err("Callback evaluation failure: Cannot find v1/Namespace named 'ghost' inside of namespace 'None'".to_owned())
        );
        assert_eq!(
            call(
                &state,
                "kubewarden",
                "kubernetes",
                "get_resource",
                &request("broken")
            ),
            Err("Callback evaluation failure: connection refused".to_owned())
        );
        assert_eq!(
            call(
                &state,
                "kubewarden",
                "kubernetes",
                "get_resource",
                &request("garbage")
            ),
            Ok(b"[1,2".to_vec())
        );

        let activity = lock(&state).activity.clone();
        assert_eq!(activity.lookups.len(), 4);
        let first = activity.lookups[0].request.as_ref().unwrap();
        assert_eq!(
            (
                first.api_version.as_str(),
                first.kind.as_str(),
                first.name.as_str()
            ),
            ("v1", "Namespace", "team-a")
        );
        assert!(!first.disable_cache);
    }

    #[test]
    fn unknown_host_calls_are_refused_by_name() {
        let state: SharedState = Arc::default();
        let err = call(&state, "kubewarden", "oci", "verify", b"{}").unwrap_err();
        assert_eq!(
            err,
            "eci-profile does not serve the host call binding \"kubewarden\", \
             namespace \"oci\", operation \"verify\": only kubewarden/kubernetes/get_resource \
             and kubewarden/tracing/log are served"
        );
        assert_eq!(
            call(&state, "kubewarden", "tracing", "log", b"{\"m\":1}"),
            Ok(vec![])
        );
        let activity = lock(&state).activity.clone();
        assert_eq!(activity.refused.len(), 1);
        assert_eq!(activity.logs, vec!["{\"m\":1}".to_owned()]);
    }

    #[test]
    fn get_resource_serves_config_maps_by_namespace_and_name() {
        let state: SharedState = Arc::default();
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"selectors": ""}});
        lock(&state).cluster.insert_config_map(
            "kube-system",
            "eci-profile",
            Answer::Found(cm.clone()),
        );
        let ask = |namespace: &str| {
            json!({"api_version": "v1", "kind": "ConfigMap", "name": "eci-profile",
                   "namespace": namespace, "disable_cache": false})
            .to_string()
        };
        let found = call(
            &state,
            "kubewarden",
            "kubernetes",
            "get_resource",
            ask("kube-system").as_bytes(),
        );
        assert_eq!(
            serde_json::from_slice::<Value>(&found.unwrap()).unwrap(),
            cm
        );
        let missing = call(
            &state,
            "kubewarden",
            "kubernetes",
            "get_resource",
            ask("default").as_bytes(),
        );
        assert_eq!(
            missing.unwrap_err(),
            "Callback evaluation failure: Cannot find v1/ConfigMap named 'eci-profile' inside of namespace 'Some(\"default\")'"
        );
    }

    #[test]
    fn get_resource_refuses_other_kinds_and_bad_payloads() {
        let state: SharedState = Arc::default();
        let pod = json!({"api_version": "v1", "kind": "Pod", "name": "p", "namespace": "d", "disable_cache": false});
        let err = call(
            &state,
            "kubewarden",
            "kubernetes",
            "get_resource",
            pod.to_string().as_bytes(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "eci-profile serves only v1/Namespace and namespaced v1/ConfigMap through get_resource, not v1/Pod in Some(\"d\")"
        );
        let err = call(&state, "kubewarden", "kubernetes", "get_resource", b"nope").unwrap_err();
        assert!(
            err.starts_with("cannot parse the get_resource request nope: "),
            "{err}"
        );
        assert_eq!(lock(&state).activity.lookups.len(), 2);
    }

    #[test]
    fn field_masks_keep_only_the_named_fields() {
        let masks = vec![
            "metadata.labels".to_owned(),
            "spec.finalizers".to_owned(),
            "status.phase".to_owned(),
        ];
        assert_eq!(
            apply_field_masks(&namespace(), &masks),
            json!({
                "metadata": {"labels": {"alibabacloud.com/eci": "true"}},
                "spec": {"finalizers": ["kubernetes"]}
            })
        );
        assert_eq!(apply_field_masks(&namespace(), &[]), namespace());
        let list = json!({"items": [{"a": 1, "b": 2}, {"a": 3}]});
        assert_eq!(
            apply_field_masks(&list, &["items.a".to_owned()]),
            json!({"items": [{"a": 1}, {"a": 3}]})
        );
    }

    #[test]
    fn namespace_objects_are_checked() {
        let mut cluster = Cluster::new();
        let err = cluster
            .add_namespace_object(json!({"kind": "Pod", "metadata": {"name": "x"}}))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "kind must be Namespace, found the string \"Pod\""
        );
        let err = cluster
            .add_namespace_object(json!({"kind": "Namespace"}))
            .unwrap_err();
        assert_eq!(err.to_string(), "the Namespace has no metadata.name");
    }
}
