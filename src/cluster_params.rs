//! The cluster-level parameters of the eci-profile ConfigMap (`kube-system/eci-profile`):
//! every `data` key except `selectors`. They configure virtual-kubelet, not the
//! mutating webhook this policy replaces, so settings that contain one are
//! refused with a message that says so and, where there is one, names the pod
//! annotation that does the same per pod.
//!
//! Sources: the parameter tables and sample ConfigMaps of `seeds/000_…` (ACK
//! "Configure an eci-profile", 2026) and `seeds/004_…` (ECI Kubernetes guide,
//! 2021, whose text-extracted copy spells some keys `vpcld`, `vSwitchlds`,
//! `vswitchIds`, `vSwtichlds`). Per-pod annotations: `vSwitchIds` and
//! `securityGroupId` as in seed 004 §2.6 and ECI's "Pod annotations" reference
//! (ACK Serverless: "pod annotations have a higher priority than the settings
//! that correspond to the same feature in the ECI Profile"); `resourceGroupId`
//! as in ACK's legacy ECI annotation list (`k8s.aliyun.com/eci-resource-group-id`).
//! No public document gives a per-pod annotation for the others (a pod's VPC
//! follows from its vSwitches).

/// One `data` key of the eci-profile ConfigMap besides `selectors`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClusterParam {
    /// The key as Alibaba Cloud's documentation spells it.
    pub key: &'static str,
    /// The pod annotation that does the same for one pod, if there is one.
    pub annotation: Option<&'static str>,
    /// What the parameter does, in one line.
    pub note: &'static str,
}

/// Every cluster-level parameter, in the order the documentation lists them.
pub const CLUSTER_PARAMS: &[ClusterParam] = &[
    ClusterParam {
        key: "enableClusterIp",
        annotation: None,
        note: "Whether ECI pods can reach the cluster's ClusterIP Services.",
    },
    ClusterParam {
        key: "enableHybridMode",
        annotation: None,
        note: "Hybrid-cloud mode, for clusters whose API server is outside the VPC of the ECI pods.",
    },
    ClusterParam {
        key: "enableLinuxArm64Node",
        annotation: None,
        note: "Whether virtual-kubelet also creates ARM-based virtual nodes.",
    },
    ClusterParam {
        key: "enableLogController",
        annotation: None,
        note: "Whether Simple Log Service CRDs collect ECI pod logs (needs slsMachineGroup).",
    },
    ClusterParam {
        key: "enablePVCController",
        annotation: None,
        note: "Whether disks bound to PersistentVolumeClaims are expanded online.",
    },
    ClusterParam {
        key: "enablePrivateZone",
        annotation: None,
        note: "Whether ECI pods resolve domain names through PrivateZone.",
    },
    ClusterParam {
        key: "enableReuseSSLKey",
        annotation: None,
        note: "Whether all ECI pods share one SSL certificate instead of one each.",
    },
    ClusterParam {
        key: "featureGates",
        annotation: None,
        note: "virtual-kubelet feature gates; only WaitForFirstConsumer is supported.",
    },
    ClusterParam {
        key: "resourceGroupId",
        annotation: Some("k8s.aliyun.com/eci-resource-group-id"),
        note: "Resource group the elastic container instances belong to.",
    },
    ClusterParam {
        key: "securityGroupId",
        annotation: Some("k8s.aliyun.com/eci-security-group"),
        note: "Security group of ECI pods.",
    },
    ClusterParam {
        key: "slsMachineGroup",
        annotation: None,
        note: "Simple Log Service machine group of ECI pods, used with enableLogController.",
    },
    ClusterParam {
        key: "vSwitchIds",
        annotation: Some("k8s.aliyun.com/eci-vswitch"),
        note: "Comma-separated vSwitch IDs, and so zones, in which ECI pods are created.",
    },
    ClusterParam {
        key: "vpcId",
        annotation: None,
        note: "VPC of ECI pods; a pod's VPC follows from its vSwitches.",
    },
];

/// Spellings of seed 004's text-extracted copy (`I` read as `l`, a transposed `tc`).
/// `vswitchIds` needs no entry: the lookup ignores case.
const VARIANTS: &[(&str, &str)] = &[
    ("vpcld", "vpcId"),
    ("vSwitchlds", "vSwitchIds"),
    ("vSwtichlds", "vSwitchIds"),
    ("vSwtichIds", "vSwitchIds"),
];

/// Looks a settings key up case-insensitively (also the seeds' OCR variants).
pub fn cluster_param(key: &str) -> Option<&'static ClusterParam> {
    let key = VARIANTS
        .iter()
        .find(|(variant, _)| variant.eq_ignore_ascii_case(key))
        .map_or(key, |(_, canonical)| canonical);
    CLUSTER_PARAMS
        .iter()
        .find(|p| p.key.eq_ignore_ascii_case(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (settings key, canonical key, per-pod annotation, clause)
    #[rustfmt::skip]
    const LOOKUPS: &[(&str, &str, Option<&str>, &str)] = &[
        ("enableClusterIp", "enableClusterIp", None, "seed 000 table; DESIGN: no per-pod equivalent"),
        ("enableHybridMode", "enableHybridMode", None, "seed 000 sample data; seed 004 table"),
        ("enableLinuxArm64Node", "enableLinuxArm64Node", None, "seed 000 table"),
        ("enableLogController", "enableLogController", None, "seed 000 table"),
        ("enablePVCController", "enablePVCController", None, "seed 000 table"),
        ("enablePrivateZone", "enablePrivateZone", None, "seed 000 table; seed 004 table"),
        ("enableReuseSSLKey", "enableReuseSSLKey", None, "seed 000 table"),
        ("featureGates", "featureGates", None, "seed 000 table"),
        ("resourceGroupId", "resourceGroupId", Some("k8s.aliyun.com/eci-resource-group-id"), "seed 004 table; ACK legacy annotation list"),
        ("securityGroupId", "securityGroupId", Some("k8s.aliyun.com/eci-security-group"), "seed 000/004 tables; SPEC names the annotation"),
        ("slsMachineGroup", "slsMachineGroup", None, "seed 000 table"),
        ("vSwitchIds", "vSwitchIds", Some("k8s.aliyun.com/eci-vswitch"), "seed 000/004 tables; DESIGN example"),
        ("vpcId", "vpcId", None, "seed 000/004 tables"),
        // Case-insensitive.
        ("vswitchIds", "vSwitchIds", Some("k8s.aliyun.com/eci-vswitch"), "seed 004 sample ConfigMap spells vswitchIds"),
        ("VPCID", "vpcId", None, "lookup ignores case"),
        ("enableclusterip", "enableClusterIp", None, "lookup ignores case"),
        ("SecurityGroupID", "securityGroupId", Some("k8s.aliyun.com/eci-security-group"), "lookup ignores case"),
        // Seed 004's OCR variants.
        ("vpcld", "vpcId", None, "seed 004 sample ConfigMap and table: vpcld"),
        ("vSwitchlds", "vSwitchIds", Some("k8s.aliyun.com/eci-vswitch"), "seed 004 table: vSwitchlds"),
        ("vSwtichlds", "vSwitchIds", Some("k8s.aliyun.com/eci-vswitch"), "seed 004 hot-update text: vSwtichlds"),
        ("vSwtichIds", "vSwitchIds", Some("k8s.aliyun.com/eci-vswitch"), "seed 004 hot-update text, I for l"),
    ];

    /// Keys that are not cluster-level parameters.
    const NOT_PARAMS: &[(&str, &str)] = &[
        (
            "selectors",
            "the policy's own setting, the ConfigMap's selectors",
        ),
        ("virtualNode", "the policy's own setting"),
        ("onNamespaceLookupError", "the policy's own setting"),
        ("vpc", "not a documented key"),
        ("vSwitchId", "singular is not a documented key"),
        ("", "empty key"),
    ];

    #[test]
    fn lookups() {
        for (key, canonical, annotation, clause) in LOOKUPS {
            let p = cluster_param(key).unwrap_or_else(|| panic!("{clause}: {key} not found"));
            assert_eq!(p.key, *canonical, "{clause}: {key}");
            assert_eq!(p.annotation, *annotation, "{clause}: {key}");
        }
    }

    #[test]
    fn not_params() {
        for (key, clause) in NOT_PARAMS {
            assert_eq!(cluster_param(key), None, "{clause}: {key}");
        }
    }

    #[test]
    fn every_param_is_found_under_its_own_key_and_listed_once() {
        for (i, p) in CLUSTER_PARAMS.iter().enumerate() {
            assert_eq!(cluster_param(p.key), Some(p), "{} finds itself", p.key);
            assert!(
                CLUSTER_PARAMS[..i]
                    .iter()
                    .all(|q| !q.key.eq_ignore_ascii_case(p.key)),
                "{} listed once",
                p.key
            );
        }
    }

    #[test]
    fn every_variant_points_at_a_param() {
        for (variant, canonical) in VARIANTS {
            assert!(
                CLUSTER_PARAMS.iter().any(|p| p.key == *canonical),
                "{variant} -> {canonical}"
            );
        }
    }

    #[test]
    fn seed_configmaps_data_keys_are_all_known() {
        // seed 000's sample data, seed 004's install manifest and hot-update sample.
        for key in [
            "enableClusterIp",
            "enableHybridMode",
            "enableLinuxArm64Node",
            "enableLogController",
            "enablePVCController",
            "enablePrivateZone",
            "enableReuseSSLKey",
            "featureGates",
            "securityGroupId",
            "slsMachineGroup",
            "vSwitchIds",
            "vpcId",
            "resourceGroupId",
            "vpcld",
            "vswitchIds",
        ] {
            assert!(cluster_param(key).is_some(), "{key}");
        }
    }

    #[test]
    fn annotations_are_known_eci_annotations() {
        for p in CLUSTER_PARAMS {
            if let Some(annotation) = p.annotation {
                assert!(
                    crate::eci_annotations::is_known(annotation),
                    "{} -> {annotation} is in the ECI annotation table",
                    p.key
                );
            }
        }
    }

    #[test]
    fn notes_are_one_line() {
        for p in CLUSTER_PARAMS {
            assert!(!p.note.is_empty() && !p.note.contains('\n'), "{}", p.key);
            assert!(p.note.ends_with('.'), "{}: a sentence", p.key);
        }
    }
}
