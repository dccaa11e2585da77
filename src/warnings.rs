//! ECI-unsupported features of an ECI-bound pod (seed 002's table): the pod
//! is still sent, and each feature is named in its own admission warning.
//! Order: spec.hostNetwork, spec.hostPID, spec.hostIPC, init containers,
//! containers (privileged, then each hostPort), volumes.

use crate::json_path::{field, item, opt_array, opt_bool, opt_i64, opt_object, opt_str};
use serde_json::Value;

/// Prefix of every warning and message the policy writes.
pub const PREFIX: &str = "eci-profile: ";

/// The longest warning or message the policy sends, in characters: the API
/// server may truncate longer admission warnings.
pub const MAX_TEXT: usize = 256;

/// `text` as one line of at most [`MAX_TEXT`] characters: line breaks become
/// spaces, and a longer text is cut, ending with `…`.
pub fn one_line(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .take(MAX_TEXT + 1)
        .collect();
    if let Some((cut, _)) = out.char_indices().nth(MAX_TEXT - 1)
        && out.chars().count() > MAX_TEXT
    {
        out.truncate(cut);
        out.push('…');
    }
    out
}

/// The first line of a text from the host (a look-up error can carry a
/// whole stack trace when policy-server runs with `RUST_BACKTRACE=1`).
pub fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default().trim_end()
}

/// The host's own reason for a failed call, without the transport's wrapping
/// (wapc-guest's "Host error: ", policy-evaluator's "Callback evaluation failure: ").
pub fn host_reason(text: &str) -> &str {
    let text = text.strip_prefix("Host error: ").unwrap_or(text);
    text.strip_prefix("Callback evaluation failure: ")
        .unwrap_or(text)
}

pub fn eci_unsupported(pod: &serde_json::Map<String, Value>) -> Result<Vec<String>, String> {
    let mut warnings = Vec::new();
    let spec = opt_object(pod.get("spec"), "spec")?;
    let get = |name: &str| spec.and_then(|s| s.get(name));
    let host_network = opt_bool(get("hostNetwork"), "spec.hostNetwork")?;
    for name in ["hostNetwork", "hostPID", "hostIPC"] {
        if opt_bool(get(name), field("spec", name))? {
            warnings.push(format!(
                "{PREFIX}spec.{name} is true, which ECI does not support"
            ));
        }
    }
    for (list, what) in [
        ("initContainers", "init container"),
        ("containers", "container"),
    ] {
        let path = field("spec", list);
        let containers = opt_array(get(list), &path)?.unwrap_or_default();
        for (i, c) in containers.iter().enumerate() {
            let here = item(&path, i);
            let c = opt_object(Some(c), &here)?;
            let name = opt_str(c.and_then(|c| c.get("name")), field(&here, "name"))?.unwrap_or("");
            let sc = c.and_then(|c| c.get("securityContext"));
            let sc = opt_object(sc, field(&here, "securityContext"))?;
            let privileged = sc.and_then(|s| s.get("privileged"));
            if opt_bool(privileged, field(&here, "securityContext.privileged"))? {
                warnings.push(format!(
                    "{PREFIX}{what} \"{name}\" is privileged, which ECI does not support"
                ));
            }
            // With hostNetwork the API server sets hostPort on every port: one warning is enough.
            if host_network {
                continue;
            }
            let ports_path = field(&here, "ports");
            let ports = opt_array(c.and_then(|c| c.get("ports")), &ports_path)?;
            for (p, port) in ports.unwrap_or_default().iter().enumerate() {
                let port_path = item(&ports_path, p);
                let port = opt_object(Some(port), &port_path)?;
                let host_port = port.and_then(|p| p.get("hostPort"));
                let host_port = opt_i64(host_port, field(&port_path, "hostPort"))?;
                if let Some(n) = host_port.filter(|&n| n != 0) {
                    warnings.push(format!(
                        "{PREFIX}{what} \"{name}\" uses hostPort {n}, which ECI does not support (use a LoadBalancer Service instead)"
                    ));
                }
            }
        }
    }
    let volumes = opt_array(get("volumes"), "spec.volumes")?.unwrap_or_default();
    for (i, v) in volumes.iter().enumerate() {
        let here = item("spec.volumes", i);
        let v = opt_object(Some(v), &here)?;
        if v.is_some_and(|v| v.get("hostPath").is_some_and(|h| !h.is_null())) {
            let name = opt_str(v.and_then(|v| v.get("name")), field(&here, "name"))?.unwrap_or("");
            warnings.push(format!(
                "{PREFIX}volume \"{name}\" is a hostPath volume, which ECI does not support (use emptyDir, a disk or NAS instead)"
            ));
        }
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_reasons_lose_the_transport_wrapping() {
        assert_eq!(
            host_reason("Host error: Callback evaluation failure: namespace \"x\" not found"),
            "namespace \"x\" not found"
        );
        assert_eq!(host_reason("Host error: timeout"), "timeout");
        assert_eq!(host_reason("refused"), "refused");
    }
    use serde_json::json;

    #[test]
    fn one_line_keeps_short_text_and_cuts_long_text_to_256_characters() {
        assert_eq!(one_line("eci-profile: short"), "eci-profile: short");
        assert_eq!(one_line("a\nb\r\nc"), "a b  c");
        let exact = "é".repeat(MAX_TEXT);
        assert_eq!(one_line(&exact), exact);
        let long = format!("{PREFIX}{}", "x".repeat(300));
        let cut = one_line(&long);
        assert_eq!(cut.chars().count(), MAX_TEXT);
        assert!(cut.starts_with("eci-profile: xxx"));
        assert!(cut.ends_with("x…"));
    }

    #[test]
    fn first_line_drops_a_stack_trace() {
        assert_eq!(
            first_line("Cannot find v1/Namespace named 'vk'\n\nStack backtrace:\n   0: foo"),
            "Cannot find v1/Namespace named 'vk'"
        );
        assert_eq!(first_line(""), "");
    }

    #[test]
    fn one_warning_per_unsupported_feature_in_order() {
        let pod = json!({"spec": {
            "hostPID": true, "hostIPC": true,
            "initContainers": [{"name": "setup", "securityContext": {"privileged": true}}],
            "containers": [
                {"name": "app", "ports": [{"containerPort": 80, "hostPort": 8080}, {"containerPort": 81}]},
                {"name": "agent", "securityContext": {"privileged": true}, "ports": [{"containerPort": 9, "hostPort": 0}]}
            ],
            "volumes": [{"name": "logs", "hostPath": {"path": "/var/log"}}, {"name": "data", "emptyDir": {}}]
        }});
        assert_eq!(
            eci_unsupported(pod.as_object().unwrap()).unwrap(),
            vec![
                "eci-profile: spec.hostPID is true, which ECI does not support",
                "eci-profile: spec.hostIPC is true, which ECI does not support",
                "eci-profile: init container \"setup\" is privileged, which ECI does not support",
                "eci-profile: container \"app\" uses hostPort 8080, which ECI does not support (use a LoadBalancer Service instead)",
                "eci-profile: container \"agent\" is privileged, which ECI does not support",
                "eci-profile: volume \"logs\" is a hostPath volume, which ECI does not support (use emptyDir, a disk or NAS instead)",
            ]
        );
    }

    #[test]
    fn host_network_implies_host_ports_without_extra_warnings() {
        let pod = json!({"spec": {"hostNetwork": true,
            "containers": [{"name": "app", "ports": [{"containerPort": 80, "hostPort": 80}]}]}});
        assert_eq!(
            eci_unsupported(pod.as_object().unwrap()).unwrap(),
            vec!["eci-profile: spec.hostNetwork is true, which ECI does not support"]
        );
    }

    #[test]
    fn plain_pod_has_no_warnings_and_bad_types_are_errors() {
        assert!(
            eci_unsupported(
                json!({"spec": {"containers": [{"name": "a"}]}})
                    .as_object()
                    .unwrap()
            )
            .unwrap()
            .is_empty()
        );
        assert_eq!(
            eci_unsupported(json!({"spec": {"hostNetwork": "yes"}}).as_object().unwrap())
                .unwrap_err(),
            r#"spec.hostNetwork: expected true or false, found "yes""#
        );
    }
}
