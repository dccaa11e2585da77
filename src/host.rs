//! The host capabilities the policy uses: `get_resource` of the request's
//! Namespace and, for a live profile, of the eci-profile ConfigMap. Both are
//! cached by policy-server (`disable_cache: false`: an answer is kept 5 seconds).

use crate::evaluate::{self, NamespaceLabels};
use crate::settings::ConfigMapRef;
use crate::warnings;
use kubewarden_policy_sdk::host_capabilities::kubernetes::GetResourceRequest;
use wapc_guest::host_call;

/// The answer of `get_resource`, or the host's reason, first line only.
fn get_resource(kind: &str, name: &str, namespace: Option<&str>) -> Result<Vec<u8>, String> {
    let request = GetResourceRequest {
        api_version: "v1".into(),
        kind: kind.into(),
        name: name.into(),
        namespace: namespace.map(Into::into),
        disable_cache: false,
        field_masks: None,
    };
    let body = serde_json::to_vec(&request).map_err(|e| e.to_string())?;
    host_call("kubewarden", "kubernetes", "get_resource", &body)
        .map_err(|e| warnings::host_reason(&e.to_string()).to_owned())
}

/// The namespace's labels (`v1/Namespace`).
pub fn read_namespace_labels(name: &str) -> Result<NamespaceLabels, String> {
    evaluate::namespace_labels(&get_resource("Namespace", name, None)?)
}

/// The live profile's ConfigMap (`v1/ConfigMap`), as the host answers it.
pub fn read_config_map(config_map: &ConfigMapRef) -> Result<Vec<u8>, String> {
    get_resource("ConfigMap", &config_map.name, Some(&config_map.namespace))
}
