//! The ECI pod annotations this policy knows, and the checks on their values,
//! applied to a selector's `effect.annotations` when the settings are validated.
//!
//! Two aims, in this order:
//! 1. **No valid key is ever refused.** A key outside the table is accepted
//!    unless it is a near miss of a known key (ECI adds annotations over time);
//!    the table therefore also lists legacy keys and the keys ECI writes itself,
//!    so that none of them is mistaken for a typo.
//! 2. **Common mistakes are caught**: a misspelt key ("did you mean …"), a
//!    boolean written `yes` or `True`, an enumerated value that ECI does not
//!    know, a malformed `eci-use-specs` list. Values are checked only where the
//!    documentation gives a closed set or a clear format; everything else is
//!    `Free`.
//!
//! Sources (cited after each entry):
//! - `[S2.6]` `seeds/004_ef99d5cc7e6103b1.txt` section 2.6 "ECI Pod Annotation" (2021);
//!   `[S4]` the same file elsewhere (burst-resource, insecure-registry troubleshooting).
//! - `[S0]` / `[S1]`: the effects in seeds 000 and 001.
//! - `[PA]` Alibaba Cloud, Elastic Container Instance, "Pod annotations"
//!   (help/en/eci/user-guide/pod-annotations; versions 2024-01 to 2026-03),
//!   creation-time tables; `[PA-sys]` the same page, "annotations added after
//!   the system schedules resources and creates pods".
//! - `[ASK]` ACK Serverless overview, "Pod configurations" table (ACK docs).
//! - `[LEG]` legacy "ECI instance overview" annotation list (ACK docs, about 2020).
//! - `[IMC]` ECI "Use ImageCache to accelerate the creation of pods".
//! - `[SPOT]` ECI "Create a preemptible elastic container instance".
//! - `[CIP]` ECI "Configure ECI pods to start after ClusterIP is ready".
//! - `[BURST]` ACK "Use Elastic Container Instance-based scheduling" (burst-resource).
//! - `[QA]` Alibaba Cloud developer community answer on ECS instance types for ECI pods (2020).
//! - `[SPARK]` Alibaba Cloud's Spark-on-ECI examples.
//! - `[POD]` annotations virtual-kubelet writes on a running ECI pod (public pod dump).

use crate::json_path::Quoted;
use strsim::osa_distance;

/// What a known annotation's value must look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Exactly `"true"` or `"false"`.
    Bool,
    /// One of `valid` (these are what an error lists), or one of `also`:
    /// spellings the documentation shows too (a documented default, a
    /// variant casing), accepted but not advertised.
    Enum {
        valid: &'static [&'static str],
        also: &'static [&'static str],
    },
    /// A comma-separated list, each item one of these.
    EnumList(&'static [&'static str]),
    /// `k8s.aliyun.com/eci-use-specs`: see [`check_use_specs`].
    UseSpecs,
    /// ASCII digits, within `min..=max`.
    Integer { min: u64, max: u64 },
    /// A non-negative decimal number such as `0.5` or `0.250`.
    Decimal,
    /// Not checked.
    Free,
}

use Kind::{Bool, Decimal, EnumList, Free, Integer, UseSpecs};

const ANY: u64 = u64::MAX;

struct Known {
    key: &'static str,
    kind: Kind,
}

const fn known(key: &'static str, kind: Kind) -> Known {
    Known { key, kind }
}

const fn one_of(valid: &'static [&'static str]) -> Kind {
    Kind::Enum { valid, also: &[] }
}

const fn at_least(min: u64) -> Kind {
    Integer { min, max: ANY }
}

/// Every key this policy knows. Order matters only for ties between near misses.
const KNOWN: &[Known] = &[
    // ---- Instances ----
    known("k8s.aliyun.com/eci-use-specs", UseSpecs), // [S2.6] [PA] [S0] [S1]
    known("k8s.aliyun.com/eci-vswitch", Free),       // [S2.6] [PA]
    known(
        "k8s.aliyun.com/eci-schedule-strategy",
        Kind::Enum {
            valid: &["VSwitchOrdered", "VSwitchRandom"], // [S2.6] [PA]
            also: &["vSwitchOrdered", "vSwitchRandom"],  // the spelling in [ASK]
        },
    ),
    known("k8s.aliyun.com/eci-gpu-driver-version", Free), // [PA] e.g. tesla=525.85.12
    known("k8s.aliyun.com/eci-instance-family", Free),    // [PA] e.g. "ecs.c6,ecs.g6"; may exclude
    known("k8s.aliyun.com/eci-instance-generation", Free), // [PA] e.g. "6,5"; may exclude
    known(
        "k8s.aliyun.com/eci-compute-category",
        EnumList(&["economy", "general"]), // [PA] "you can specify multiple compute categories"
    ),
    known(
        "k8s.aliyun.com/eci-spot-strategy",
        Kind::Enum {
            valid: &["SpotAsPriceGo", "SpotWithPriceLimit"], // [S2.6] [PA]
            also: &["NoSpot"], // [S2.6] "Default value: NoSpot" (pay-as-you-go)
        },
    ),
    known("k8s.aliyun.com/eci-spot-price-limit", Decimal), // [S2.6] [PA] "0.5", "0.250"
    known("k8s.aliyun.com/eci-spot-duration", at_least(0)), // [PA] [SPOT] hours; "0" = no protection
    known("k8s.aliyun.com/eci-spot-fallback", Bool),        // [PA] [SPOT]
    known("k8s.aliyun.com/eci-spot-release-strategy", Free), // [SPOT] e.g. api-evict
    known(
        "k8s.aliyun.com/eci-privatepool-matchcriteria",
        one_of(&["Open", "Target"]), // [PA]
    ),
    known("k8s.aliyun.com/eci-privatepool-id", Free), // [PA]
    known(
        "k8s.aliyun.com/eci-fail-strategy",
        one_of(&["fail-back", "fail-over", "fail-fast"]), // [PA]
    ),
    known(
        "k8s.aliyun.com/eci-max-pending-minute",
        Integer { min: 10, max: 1440 }, // [PA] "an integer from 10 to 1440"
    ),
    known("k8s.aliyun.com/eci-custom-hosts", Free), // [PA] JSON list of {host, ip}
    known("k8s.aliyun.com/eci-custom-tags", Free),  // [PA] "env:test,name:alice"
    known("k8s.aliyun.com/eci-ram-role-name", Free), // [S2.6] [PA]
    known("k8s.aliyun.com/eci-cpu-option-core", at_least(1)), // [S2.6] [ASK]
    known("k8s.aliyun.com/eci-cpu-option-ht", at_least(1)), // [S2.6] [ASK]
    known("k8s.aliyun.com/eci-reschedule-enable", Bool), // [S2.6] [ASK]
    known("k8s.aliyun.com/pod-fail-on-create-err", Bool), // [S2.6] [ASK]
    known("k8s.aliyun.com/eci-resource-group-id", Free), // [LEG]
    known("k8s.aliyun.com/eci-instance-type", Free), // [QA] legacy, e.g. "ecs.c5.large"
    // ---- Images ----
    known("k8s.aliyun.com/eci-auto-imc", Bool), // [PA] [IMC] [S0]
    known("k8s.aliyun.com/imc-perfect-match", Bool), // [PA] [IMC]
    known("k8s.aliyun.com/imc-match-count-request", at_least(0)), // [PA] [IMC] "2"
    known("k8s.aliyun.com/eci-imc-id", Free),   // [PA] [IMC]
    known("k8s.aliyun.com/eci-image-snapshot-id", Free), // [S2.6] [ASK]
    known("k8s.aliyun.com/eci-image-cache", Bool), // [S2.6] [S1] [ASK]
    known("k8s.aliyun.com/acr-instance-id", Free), // [S2.6] [ASK]
    known("k8s.aliyun.com/acr-instance-ids", Free), // [PA]
    known("k8s.aliyun.com/acr-service-arns", Free), // [PA]
    known("k8s.aliyun.com/acr-user-arns", Free), // [PA]
    known("k8s.aliyun.com/plain-http-registry", Free), // [PA] [ASK]
    known("k8s.aliyun.com/insecure-registry", Free), // [S4] [PA]
    // ---- Data caches ----
    known("k8s.aliyun.com/eci-data-cache-bucket", Free), // [PA]
    known("k8s.aliyun.com/eci-data-cache-pl", Free),     // [PA] e.g. PL1
    known(
        "k8s.aliyun.com/eci-data-cache-provisionedIops",
        Integer {
            min: 0,
            max: 50_000,
        }, // [PA] "0 to min{50000, …}"
    ),
    known("k8s.aliyun.com/eci-data-cache-burstingEnabled", Bool), // [PA]
    // ---- Network ----
    known("k8s.aliyun.com/eci-security-group", Free), // [S2.6] [PA]
    known("k8s.aliyun.com/eci-eip-instanceid", Free), // [S2.6] [PA]
    known("k8s.aliyun.com/eci-with-eip", Bool),       // [S2.6] [PA]
    known("k8s.aliyun.com/eip-bandwidth", at_least(1)), // [S2.6] [PA] Mbit/s, default 5
    known("k8s.aliyun.com/eip-common-bandwidth-package-id", Free), // [S2.6] [PA]
    known("k8s.aliyun.com/eip-isp", one_of(&["BGP", "BGP_PRO"])), // [S2.6] [PA]
    known(
        "k8s.aliyun.com/eip-internet-charge-type",
        one_of(&["PayByBandwidth", "PayByTraffic"]), // [S2.6] [PA]
    ),
    known("k8s.aliyun.com/eip-public-ip-address-pool-id", Free), // [PA]
    known("k8s.aliyun.com/eci-enable-ipv6", Bool),               // [S2.6] [PA]
    known("k8s.aliyun.com/eci-ipv6-count", at_least(1)),         // [S2.6] "set the value to 1"
    known("k8s.aliyun.com/eci-ipv6-bandwidth-enable", Bool),     // [PA] [ASK]
    known("k8s.aliyun.com/eci-ipv6-bandwidth", Free),            // [PA] e.g. 100M
    known("k8s.aliyun.com/eci-private-ip-address", Free),        // [PA]
    known("k8s.aliyun.com/eci-fixed-ip", Bool),                  // [PA]
    known("k8s.aliyun.com/eci-fixed-ip-retain-hour", at_least(0)), // [PA] hours
    known("kubernetes.io/ingress-bandwidth", Free),              // [S2.6] [PA] e.g. 40M
    known("kubernetes.io/egress-bandwidth", Free),               // [S2.6] [PA] e.g. 20M
    known("k8s.aliyun.com/eci-custom-dnsconfig", Free),          // [PA] JSON
    known("k8s.aliyun.com/eci-wait-clusterip-ready", Free),      // [CIP] "*"
    known("k8s.aliyun.com/eci-kube-proxy-enabled", Bool),        // [SPARK] [POD]
    // ---- Storage ----
    known("k8s.aliyun.com/eci-extra-ephemeral-storage", Free), // [S2.6] [PA] e.g. 50Gi
    known("k8s.aliyun.com/eci-ephemeral-storage-options", Free), // [PA] JSON
    known("k8s.aliyun.com/eci-eviction-enable", Bool),         // [PA] [ASK]
    known("k8s.aliyun.com/eci-set-diskvolume", Free),          // [LEG] "name:ext4:500Gi"
    // ---- Container configuration, logs, O&M ----
    known("k8s.aliyun.com/eci-ntp-server", Free), // [S2.6] [PA] one or more addresses
    known("k8s.aliyun.com/eci-sls-enable", Bool), // [PA]
    known("k8s.aliyun.com/eci-core-pattern", Free), // [S2.6] [PA]
    // ---- Elastic scheduling (scheduler, not virtual-kubelet) ----
    known(
        "alibabacloud.com/burst-resource",
        Kind::Enum {
            valid: &["eci", "eci_only"], // [S4] [BURST]
            // [BURST]: empty means ECS only (the default); the scheduler's own
            // error reads "request type must be eci, eci_only or ecs".
            also: &["ecs", ""],
        },
    ),
    known("alibabacloud.com/fluid-sidecar-target", Free), // [BURST] e.g. eci
    // ---- Written by ECI / virtual-kubelet; listed so they are never taken for typos ----
    known("k8s.aliyun.com/eci-request-id", Free), // [PA-sys]
    known("k8s.aliyun.com/eci-instance-id", Free), // [PA-sys]
    known("k8s.aliyun.com/eci-instance-spec", Free), // [PA-sys]
    known("k8s.aliyun.com/eci-instance-compute-category", Free), // [PA-sys]
    known("k8s.aliyun.com/allocated-eipInstanceId", Free), // [PA-sys]
    known("k8s.aliyun.com/allocated-eipAddress", Free), // [PA-sys]
    known("k8s.aliyun.com/allocated-ipv6Address", Free), // [PA-sys]
    known("k8s.aliyun.com/eci-created-by-template", Free), // [PA-sys]
    known("k8s.aliyun.com/eni-instance-id", Free), // [PA-sys]
    known("k8s.aliyun.com/eci-vpc", Free),        // [PA-sys]
    known("k8s.aliyun.com/eci-matched-image-cache", Free), // [PA-sys]
    known("k8s.aliyun.com/eci-schedule-result", Free), // [PA-sys] retired
    known("k8s.aliyun.com/eci-client-token", Free), // [POD]
    known("k8s.aliyun.com/eci-instance-cpu", Free), // [POD]
    known("k8s.aliyun.com/eci-instance-mem", Free), // [POD]
    known("k8s.aliyun.com/eci-instance-zone", Free), // [POD]
    known("k8s.aliyun.com/eci-drop-apiserver-interactive-caps", Free), // [POD]
    known("k8s.aliyun.com/cluster-dns", Free),    // [POD]
    known("k8s.aliyun.com/cluster-domain", Free), // [POD]
    known("k8s.aliyun.com/k8s-version", Free),    // [POD]
    known("k8s.aliyun.com/vk-version", Free),     // [POD]
];

/// A key that is unknown but this close to a known one (after
/// [`normalize`]) is taken for a typo of it.
const NEAR_MISS_DISTANCE: usize = 2;

/// Checks one annotation of a selector's effect. Ok for keys outside the known table that are not near misses.
///
/// A known key's value is checked by its kind. An unknown key is a near miss
/// when, ignoring case and `_`/`-`, it is at most two edits (insertion,
/// deletion, substitution, swap of neighbours) from a known key; the closest
/// one is suggested. This catches prefix typos (`k8s.aliyun.co/…`) too; keys
/// of other products under `k8s.aliyun.com/` (Terway's `pod-with-eip`, …) are
/// far from every ECI key and pass.
///
/// The error is what follows the path in a settings error
/// (`selectors[0] "x": effect.annotations["KEY"]: …`).
pub fn check_annotation(key: &str, value: &str) -> Result<(), String> {
    if let Some(entry) = KNOWN.iter().find(|k| k.key == key) {
        return check_value(entry.kind, value);
    }
    near_miss(key).map_or(Ok(()), |suggestion| {
        Err(format!(
            "unknown ECI annotation; did you mean \"{suggestion}\"?"
        ))
    })
}

#[cfg(test)]
pub(crate) fn is_known(key: &str) -> bool {
    KNOWN.iter().any(|k| k.key == key)
}

fn check_value(kind: Kind, value: &str) -> Result<(), String> {
    let v = Quoted(value);
    match kind {
        Free => Ok(()),
        Bool => match value {
            "true" | "false" => Ok(()),
            _ => Err(format!("value {v} must be \"true\" or \"false\"")),
        },
        Kind::Enum { valid, also } => {
            if valid.contains(&value) || also.contains(&value) {
                Ok(())
            } else {
                Err(format!(
                    "value {v} is not one of {}",
                    crate::json_path::Joined(valid, ", ")
                ))
            }
        }
        EnumList(valid) => {
            let problem = list_items(value).find_map(|(n, item)| {
                if item.is_empty() {
                    Some(format!("item {n} is empty"))
                } else if valid.contains(&item) {
                    None
                } else {
                    Some(format!("item {} is not one of them", Quoted(item)))
                }
            });
            match problem {
                None => Ok(()),
                Some(why) => Err(format!(
                    "value {v} is not a comma-separated list of {}: {why}",
                    crate::json_path::Joined(valid, ", ")
                )),
            }
        }
        UseSpecs => check_use_specs(value)
            .map_err(|why| format!("value {v} is not a valid eci-use-specs list: {why}")),
        Integer { min, max } => {
            let ok =
                is_digits(value) && value.parse::<u64>().is_ok_and(|n| (min..=max).contains(&n));
            if ok {
                Ok(())
            } else if max != ANY {
                Err(format!("value {v} must be an integer from {min} to {max}"))
            } else if min > 0 {
                Err(format!("value {v} must be an integer of at least {min}"))
            } else {
                Err(format!("value {v} must be a non-negative integer"))
            }
        }
        Decimal => {
            if is_decimal(value) {
                Ok(())
            } else {
                Err(format!(
                    "value {v} must be a non-negative decimal number such as 0.5"
                ))
            }
        }
    }
}

/// `k8s.aliyun.com/eci-use-specs`: one or more comma-separated items, each
/// - `<vCPU>-<memory>Gi`, e.g. `2-4Gi`, `0.5-1Gi`, `2.0-4.0Gi`;
/// - an ECS instance type `ecs.<family>.<size>`, e.g. `ecs.c6.xlarge`,
///   `ecs.gn6v-c8g1.2xlarge`;
/// - or the legacy GPU form `ecigpu-<type>-<count>` (`eci-gpu-…`), e.g.
///   `ecigpu-P100-4` ([LEG]); accepted, not advertised.
///
/// Blanks around an item are tolerated (ECI documents none, and refusing a
/// value ECI may accept is worse than letting it through); an empty item is not.
fn check_use_specs(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err("it is empty".into());
    }
    for (n, item) in list_items(value) {
        if item.is_empty() {
            return Err(format!("item {n} is empty"));
        }
        if !(is_cpu_mem_spec(item) || is_ecs_instance_type(item) || is_legacy_gpu_spec(item)) {
            return Err(format!(
                "item {} is neither <vCPU>-<memory>Gi nor an ECS instance type such as ecs.c6.xlarge",
                Quoted(item)
            ));
        }
    }
    Ok(())
}

/// The items of a comma-separated list, numbered from 1, blanks trimmed.
fn list_items(value: &str) -> impl Iterator<Item = (usize, &str)> {
    value
        .split(',')
        .map(|item| item.trim_matches(|c: char| c.is_ascii_whitespace()))
        .enumerate()
        .map(|(i, item)| (i + 1, item))
}

/// `2-4Gi`, `0.5-1Gi`, `2.0-4.0Gi`.
fn is_cpu_mem_spec(item: &str) -> bool {
    match item
        .strip_suffix("Gi")
        .and_then(|rest| rest.split_once('-'))
    {
        Some((cpu, mem)) => is_decimal(cpu) && is_decimal(mem),
        None => false,
    }
}

/// `ecs.<family>.<size>`: the family letters, digits and dashes
/// (`gn6v-c8g1`), the size letters and digits (`2xlarge`).
fn is_ecs_instance_type(item: &str) -> bool {
    let Some(rest) = strip_prefix_ignore_case(item, "ecs.") else {
        return false;
    };
    let Some((family, size)) = rest.split_once('.') else {
        return false;
    };
    let family_ok = family.starts_with(|c: char| c.is_ascii_alphanumeric())
        && family
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    let size_ok = !size.is_empty() && size.chars().all(|c| c.is_ascii_alphanumeric());
    family_ok && size_ok
}

/// `ecigpu-P100-4`, `eci-gpu-P100-4`.
fn is_legacy_gpu_spec(item: &str) -> bool {
    let Some(rest) = strip_prefix_ignore_case(item, "ecigpu-")
        .or_else(|| strip_prefix_ignore_case(item, "eci-gpu-"))
    else {
        return false;
    };
    match rest.rsplit_once('-') {
        Some((gpu, count)) => {
            !gpu.is_empty()
                && gpu.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && is_digits(count)
        }
        None => false,
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `5`, `0.5`, `0.250`, `.5`, `5.`: digits with at most one point, at least one digit.
fn is_decimal(s: &str) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    all_digits(int) && all_digits(frac) && int.len() + frac.len() > 0
}

/// The closest known key to an unknown one, if it is a near miss (the first
/// such key on a tie). Keys whose lengths are too far apart are skipped
/// before any distance is computed: most keys an effect adds are unknown.
fn near_miss(key: &str) -> Option<&'static str> {
    let wanted = normalize(key);
    let length = wanted.chars().count();
    KNOWN
        .iter()
        .filter(|known| known.key.len().abs_diff(length) <= NEAR_MISS_DISTANCE)
        .map(|known| (osa_distance(&wanted, &normalize(known.key)), known.key))
        .filter(|(d, _)| *d <= NEAR_MISS_DISTANCE)
        .min_by_key(|(d, _)| *d)
        .map(|(_, key)| key)
}

/// Case and `_`/`-` do not count as differences: `K8S.ALIYUN.COM/ECI_USE_SPECS`
/// is as near `k8s.aliyun.com/eci-use-specs` as the key itself.
fn normalize(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c == '_' {
                '-'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples that documented `check_annotation`.
    #[test]
    fn check_annotation_examples() {
        assert!(check_annotation("k8s.aliyun.com/eci-use-specs", "2-4Gi,ecs.c6.xlarge").is_ok());
        assert_eq!(
            check_annotation("k8s.aliyun.com/eci-spot-strategy", "Spot").unwrap_err(),
            r#"value "Spot" is not one of SpotAsPriceGo, SpotWithPriceLimit"#
        );
        assert_eq!(
            check_annotation("k8s.aliyun.com/eci-use-spec", "2-4Gi").unwrap_err(),
            r#"unknown ECI annotation; did you mean "k8s.aliyun.com/eci-use-specs"?"#
        );
        assert!(check_annotation("example.com/anything", "whatever").is_ok());
    }

    /// (key, value, clause): must be accepted.
    #[rustfmt::skip]
    const ACCEPTED: &[(&str, &str, &str)] = &[
        // Seeds: every value they put in an effect or on a pod.
        ("k8s.aliyun.com/eci-use-specs", "ecs.gn6v-c8g1.2xlarge", "seed 000 example 2 / seed 001 sample 2: GPU instance type"),
        ("k8s.aliyun.com/eci-use-specs", "ecs.c6.xlarge", "seed 000 selector template"),
        ("k8s.aliyun.com/eci-use-specs", "ecs.c6a.xlarge", "seed 001 sample 3: AMD instance type"),
        ("k8s.aliyun.com/eci-use-specs", "2-4Gi,4-8Gi,ecs.c6.xlarge", "seed 004 §2.6 example: vCPU-memory and ECS type mixed"),
        ("k8s.aliyun.com/eci-use-specs", "ecs.c5.large", "seed 004 §2.6 preemptible example"),
        ("k8s.aliyun.com/eci-use-specs", "ecs.c6.2xlarge", "seed 004 §2.6 CPU options example"),
        ("k8s.aliyun.com/eci-image-cache", "true", "seed 001 / seed 004 effect: image cache"),
        ("k8s.aliyun.com/eci-auto-imc", "true", "seed 000 example 3: automatic image cache matching"),
        ("k8s.aliyun.com/eci-spot-strategy", "SpotWithPriceLimit", "seed 004 §2.6 preemptible example"),
        ("k8s.aliyun.com/eci-spot-strategy", "SpotAsPriceGo", "seed 004 §2.6 table example"),
        ("k8s.aliyun.com/eci-spot-price-limit", "0.250", "seed 004 §2.6 preemptible example, three decimals"),
        ("k8s.aliyun.com/eci-spot-price-limit", "0.5", "seed 004 §2.6 table example"),
        ("k8s.aliyun.com/eci-schedule-strategy", "VSwitchOrdered", "seed 004 §2.6 multi-zone example"),
        ("k8s.aliyun.com/eci-vswitch", "vsw-bp1xpiowfm5vo8o3c****,vsw-bp1rkyjgr1xwoho6k****", "seed 004 §2.6 multi-zone example"),
        ("k8s.aliyun.com/eci-security-group", "sg-bp1dktddjsg5nktv****", "seed 004 §2.6 security group example"),
        ("k8s.aliyun.com/eci-ram-role-name", "AliyunECIContainerGroupRole", "seed 004 §2.6 RAM role example"),
        ("k8s.aliyun.com/eci-cpu-option-core", "2", "seed 004 §2.6 CPU options"),
        ("k8s.aliyun.com/eci-cpu-option-ht", "1", "seed 004 §2.6 CPU options"),
        ("k8s.aliyun.com/eci-reschedule-enable", "true", "seed 004 §2.6 rescheduling"),
        ("k8s.aliyun.com/pod-fail-on-create-err", "true", "seed 004 §2.6 fail on create error"),
        ("k8s.aliyun.com/eci-image-snapshot-id", "imc-2ze5tm5gehgtiiga****", "seed 004 §2.6 image cache ID"),
        ("k8s.aliyun.com/acr-instance-id", "cri-j36zhodptmyq****", "seed 004 §2.6 ACR instance"),
        ("k8s.aliyun.com/eci-with-eip", "true", "seed 004 §2.6 EIP"),
        ("k8s.aliyun.com/eip-bandwidth", "10", "seed 004 §2.6 EIP bandwidth"),
        ("k8s.aliyun.com/eci-eip-instanceid", "eip-bp1q5n8cq4p7f6dzu****", "seed 004 §2.6 existing EIP"),
        ("k8s.aliyun.com/eip-common-bandwidth-package-id", "cbwp-2zeukbj916scmj51m****", "seed 004 §2.6 bandwidth plan"),
        ("k8s.aliyun.com/eip-isp", "BGP", "seed 004 §2.6 EIP line type"),
        ("k8s.aliyun.com/eip-isp", "BGP_PRO", "seed 004 §2.6 EIP line type"),
        ("k8s.aliyun.com/eip-internet-charge-type", "PayByBandwidth", "seed 004 §2.6 EIP metering"),
        ("k8s.aliyun.com/eip-internet-charge-type", "PayByTraffic", "seed 004 §2.6 EIP metering"),
        ("k8s.aliyun.com/eci-enable-ipv6", "true", "seed 004 §2.6 IPv6"),
        ("k8s.aliyun.com/eci-ipv6-count", "1", "seed 004 §2.6 IPv6 count"),
        ("kubernetes.io/ingress-bandwidth", "40M", "seed 004 §2.6 bandwidth"),
        ("kubernetes.io/egress-bandwidth", "10M", "seed 004 §2.6 bandwidth"),
        ("k8s.aliyun.com/eci-extra-ephemeral-storage", "50Gi", "seed 004 §2.6 temporary storage"),
        ("k8s.aliyun.com/eci-core-pattern", "/pod/data/dump/core", "seed 004 §2.6 core dumps"),
        ("k8s.aliyun.com/eci-ntp-server", "100.100.5.1,100.100.5.2", "seed 004 §2.6 NTP"),
        ("k8s.aliyun.com/insecure-registry", "test.example.com", "seed 004 troubleshooting: self-signed registry"),
        ("alibabacloud.com/burst-resource", "eci", "seed 004 elastic scheduling"),
        ("alibabacloud.com/burst-resource", "eci_only", "seed 004 elastic scheduling"),
        // Current public list [PA], each key with its documented example.
        ("k8s.aliyun.com/eci-use-specs", "2-4Gi", "[PA] usage example"),
        ("k8s.aliyun.com/eci-schedule-strategy", "VSwitchRandom", "[PA] valid values"),
        ("k8s.aliyun.com/eci-gpu-driver-version", "tesla=525.85.12", "[PA] GPU driver"),
        ("k8s.aliyun.com/eci-instance-family", "ecs.c6,ecs.g6", "[PA] instance families"),
        ("k8s.aliyun.com/eci-instance-generation", "6,5", "[PA] instance generations"),
        ("k8s.aliyun.com/eci-compute-category", "economy", "[PA] compute category"),
        ("k8s.aliyun.com/eci-compute-category", "economy,general", "[PA] several compute categories, in order"),
        ("k8s.aliyun.com/eci-spot-duration", "0", "[PA] no protection period"),
        ("k8s.aliyun.com/eci-spot-fallback", "true", "[PA] spot fallback"),
        ("k8s.aliyun.com/eci-spot-release-strategy", "api-evict", "[SPOT] graceful termination"),
        ("k8s.aliyun.com/eci-privatepool-matchcriteria", "Open", "[PA] private pool"),
        ("k8s.aliyun.com/eci-privatepool-matchcriteria", "Target", "[PA] private pool"),
        ("k8s.aliyun.com/eci-privatepool-id", "eap-2ze1g68k2melxkkl****", "[PA] private pool ID"),
        ("k8s.aliyun.com/eci-fail-strategy", "fail-back", "[PA] fault handling"),
        ("k8s.aliyun.com/eci-fail-strategy", "fail-over", "[PA] fault handling"),
        ("k8s.aliyun.com/eci-fail-strategy", "fail-fast", "[PA] fault handling"),
        ("k8s.aliyun.com/eci-max-pending-minute", "30", "[PA] pending duration"),
        ("k8s.aliyun.com/eci-max-pending-minute", "10", "[PA] pending duration, lower bound"),
        ("k8s.aliyun.com/eci-max-pending-minute", "1440", "[PA] pending duration, upper bound"),
        ("k8s.aliyun.com/eci-custom-hosts", r#"[{"host":"example.com","ip":"100.100.XX.XX"}]"#, "[PA] hosts"),
        ("k8s.aliyun.com/eci-custom-tags", "env:test,name:alice", "[PA] tags"),
        ("k8s.aliyun.com/imc-perfect-match", "true", "[PA] image cache exact match"),
        ("k8s.aliyun.com/imc-match-count-request", "2", "[PA] image cache match count"),
        ("k8s.aliyun.com/eci-imc-id", "imc-2zebxkiifuyzzlhl****", "[PA] image cache ID"),
        ("k8s.aliyun.com/acr-instance-ids", "cn-beijing:cri-j36zhodptmyq****", "[PA] ACR instances, cross-region form"),
        ("k8s.aliyun.com/acr-service-arns", "acs:ram::1609982529******:role/role-assume", "[PA] ACR service ARN"),
        ("k8s.aliyun.com/acr-user-arns", "acs:ram::1298452580******:role/role-acr", "[PA] ACR user ARN"),
        ("k8s.aliyun.com/plain-http-registry", "harbor***.pre.com,192.168.XX.XX:5000", "[PA] HTTP registry"),
        ("k8s.aliyun.com/eci-data-cache-bucket", "default", "[PA] data cache"),
        ("k8s.aliyun.com/eci-data-cache-pl", "PL1", "[PA] data cache disk level"),
        ("k8s.aliyun.com/eci-data-cache-provisionedIops", "40000", "[PA] data cache IOPS"),
        ("k8s.aliyun.com/eci-data-cache-burstingEnabled", "true", "[PA] data cache burst"),
        ("k8s.aliyun.com/eip-bandwidth", "5", "[PA] EIP bandwidth"),
        ("k8s.aliyun.com/eip-public-ip-address-pool-id", "pippool-bp187arfugi543y1s****", "[PA] IP address pool"),
        ("k8s.aliyun.com/eci-ipv6-bandwidth-enable", "true", "[PA] IPv6 Internet access"),
        ("k8s.aliyun.com/eci-ipv6-bandwidth", "100M", "[PA] IPv6 bandwidth"),
        ("k8s.aliyun.com/eci-private-ip-address", "172.16.0.1", "[PA] private IP"),
        ("k8s.aliyun.com/eci-fixed-ip", "true", "[PA] fixed IP"),
        ("k8s.aliyun.com/eci-fixed-ip-retain-hour", "24", "[PA] fixed IP retention"),
        ("k8s.aliyun.com/eci-custom-dnsconfig", r#"{"nameservers":"20.1.xx.xx"}"#, "[PA] DNS"),
        ("k8s.aliyun.com/eci-ephemeral-storage-options", r#"{"encrypted":"true"}"#, "[PA] encrypted storage"),
        ("k8s.aliyun.com/eci-eviction-enable", "true", "[PA] eviction"),
        ("k8s.aliyun.com/eci-sls-enable", "false", "[PA] log collection opt-out"),
        ("k8s.aliyun.com/eci-wait-clusterip-ready", "*", "[CIP] wait for ClusterIP"),
        ("k8s.aliyun.com/eci-kube-proxy-enabled", "true", "[SPARK] kube-proxy in the pod"),
        ("k8s.aliyun.com/eci-resource-group-id", "rg-acfmzvwytch****", "[LEG] resource group"),
        ("k8s.aliyun.com/eci-set-diskvolume", "cache-volume:ext4:500Gi", "[LEG] disk volume"),
        ("k8s.aliyun.com/eci-instance-type", "ecs.c5.large", "[QA] legacy instance type key"),
        ("alibabacloud.com/fluid-sidecar-target", "eci", "[BURST] Fluid sidecar"),
        // Documented spellings accepted but not advertised.
        ("k8s.aliyun.com/eci-schedule-strategy", "vSwitchOrdered", "[ASK] writes vSwitchOrdered"),
        ("k8s.aliyun.com/eci-schedule-strategy", "vSwitchRandom", "[ASK] writes vSwitchRandom"),
        ("k8s.aliyun.com/eci-spot-strategy", "NoSpot", "seed 004 §2.6: NoSpot is the documented default"),
        ("alibabacloud.com/burst-resource", "ecs", "[BURST] scheduler accepts eci, eci_only or ecs"),
        ("alibabacloud.com/burst-resource", "", "[BURST] empty means the default, ECS only"),
        // eci-use-specs formats.
        ("k8s.aliyun.com/eci-use-specs", "0.5-1Gi", "use-specs: fractional vCPU"),
        ("k8s.aliyun.com/eci-use-specs", "0.25-0.5Gi", "use-specs: smallest ECI size"),
        ("k8s.aliyun.com/eci-use-specs", "2.0-4.0Gi", "use-specs: the eci-instance-spec form"),
        ("k8s.aliyun.com/eci-use-specs", "ecs.gn6i-c4g1.xlarge,ecs.gn6i-c8g1.2xlarge", "use-specs: several GPU types [ACK]"),
        ("k8s.aliyun.com/eci-use-specs", "ecs.gn7i-c16g1.4xlarge", "use-specs: GPU type"),
        ("k8s.aliyun.com/eci-use-specs", "ecs.ebmgn7e.32xlarge", "use-specs: bare-metal type"),
        ("k8s.aliyun.com/eci-use-specs", "ecs.t5-lc2m1.nano", "use-specs: burstable type"),
        ("k8s.aliyun.com/eci-use-specs", "2-4Gi, 4-8Gi , ecs.c6.xlarge", "use-specs: blanks around commas tolerated"),
        ("k8s.aliyun.com/eci-use-specs", "2-4Gi,4-8Gi,ecs.c6.xlarge,ecigpu-P100-4", "use-specs: legacy GPU item [LEG]"),
        // Unknown keys far from every known one are accepted.
        ("k8s.aliyun.com/eci-brand-new-feature", "anything", "unknown k8s.aliyun.com key, not a near miss"),
        ("k8s.aliyun.com/pod-with-eip", "true", "Terway annotation, not a near miss"),
        ("k8s.aliyun.com/ingress-bandwidth", "10M", "Terway annotation, not a near miss"),
        ("network.alibabacloud.com/eip-bandwidth", "5", "ACS annotation, not a near miss"),
        ("alibabacloud.com/compute-class", "general-purpose", "ACS annotation, not a near miss"),
        ("example.com/team", "gpu", "other domain"),
        ("no-prefix", "x", "no prefix at all"),
        // Keys ECI writes itself are known, not near misses of each other.
        ("k8s.aliyun.com/eci-instance-cpu", "2.0", "[POD] written by virtual-kubelet"),
        ("k8s.aliyun.com/eci-instance-mem", "4.0", "[POD] written by virtual-kubelet"),
        ("k8s.aliyun.com/eni-instance-id", "eni-2ze6d7oo5ukqj26o****", "[PA-sys] written by ECI"),
    ];

    /// (key, value, exact error, clause): must be refused with that message.
    #[rustfmt::skip]
    const REFUSED: &[(&str, &str, &str, &str)] = &[
        ("k8s.aliyun.com/eci-spot-strategy", "Spot", r#"value "Spot" is not one of SpotAsPriceGo, SpotWithPriceLimit"#, "DESIGN: enumerated value lists the valid ones"),
        ("k8s.aliyun.com/eci-spot-strategy", "spotasprice go", r#"value "spotasprice go" is not one of SpotAsPriceGo, SpotWithPriceLimit"#, "enum: case and blanks matter"),
        ("k8s.aliyun.com/eci-schedule-strategy", "Ordered", r#"value "Ordered" is not one of VSwitchOrdered, VSwitchRandom"#, "enum: schedule strategy"),
        ("k8s.aliyun.com/eip-isp", "Telecom", r#"value "Telecom" is not one of BGP, BGP_PRO"#, "enum: EIP line"),
        ("k8s.aliyun.com/eip-internet-charge-type", "PayByHour", r#"value "PayByHour" is not one of PayByBandwidth, PayByTraffic"#, "enum: EIP metering"),
        ("k8s.aliyun.com/eci-fail-strategy", "failback", r#"value "failback" is not one of fail-back, fail-over, fail-fast"#, "enum: fail strategy"),
        ("k8s.aliyun.com/eci-privatepool-matchcriteria", "open", r#"value "open" is not one of Open, Target"#, "enum: private pool"),
        ("alibabacloud.com/burst-resource", "ECI", r#"value "ECI" is not one of eci, eci_only"#, "enum: burst-resource"),
        ("k8s.aliyun.com/eci-compute-category", "economy,cheap", r#"value "economy,cheap" is not a comma-separated list of economy, general: item "cheap" is not one of them"#, "enum list: bad item"),
        ("k8s.aliyun.com/eci-compute-category", "economy,", r#"value "economy," is not a comma-separated list of economy, general: item 2 is empty"#, "enum list: empty item"),
        ("k8s.aliyun.com/eci-image-cache", "yes", r#"value "yes" must be "true" or "false""#, "bool: yes"),
        ("k8s.aliyun.com/eci-auto-imc", "True", r#"value "True" must be "true" or "false""#, "bool: capitalised"),
        ("k8s.aliyun.com/eci-with-eip", "1", r#"value "1" must be "true" or "false""#, "bool: 1"),
        ("k8s.aliyun.com/eci-enable-ipv6", "", r#"value "" must be "true" or "false""#, "bool: empty"),
        ("k8s.aliyun.com/eci-reschedule-enable", "true ", r#"value "true " must be "true" or "false""#, "bool: trailing blank"),
        ("k8s.aliyun.com/eci-use-specs", "2-4G", r#"value "2-4G" is not a valid eci-use-specs list: item "2-4G" is neither <vCPU>-<memory>Gi nor an ECS instance type such as ecs.c6.xlarge"#, "use-specs: memory unit"),
        ("k8s.aliyun.com/eci-use-specs", "2-4Gi,4-8", r#"value "2-4Gi,4-8" is not a valid eci-use-specs list: item "4-8" is neither <vCPU>-<memory>Gi nor an ECS instance type such as ecs.c6.xlarge"#, "use-specs: second item without unit"),
        ("k8s.aliyun.com/eci-use-specs", "c6.xlarge", r#"value "c6.xlarge" is not a valid eci-use-specs list: item "c6.xlarge" is neither <vCPU>-<memory>Gi nor an ECS instance type such as ecs.c6.xlarge"#, "use-specs: ECS type without ecs."),
        ("k8s.aliyun.com/eci-use-specs", "ecs.c6", r#"value "ecs.c6" is not a valid eci-use-specs list: item "ecs.c6" is neither <vCPU>-<memory>Gi nor an ECS instance type such as ecs.c6.xlarge"#, "use-specs: family without size"),
        ("k8s.aliyun.com/eci-use-specs", "2C4G", r#"value "2C4G" is not a valid eci-use-specs list: item "2C4G" is neither <vCPU>-<memory>Gi nor an ECS instance type such as ecs.c6.xlarge"#, "use-specs: 2C4G shorthand"),
        ("k8s.aliyun.com/eci-use-specs", "2-4Gi;4-8Gi", r#"value "2-4Gi;4-8Gi" is not a valid eci-use-specs list: item "2-4Gi;4-8Gi" is neither <vCPU>-<memory>Gi nor an ECS instance type such as ecs.c6.xlarge"#, "use-specs: wrong separator"),
        ("k8s.aliyun.com/eci-use-specs", "2-4Gi,,4-8Gi", r#"value "2-4Gi,,4-8Gi" is not a valid eci-use-specs list: item 2 is empty"#, "use-specs: empty item"),
        ("k8s.aliyun.com/eci-use-specs", "2-4Gi,", r#"value "2-4Gi," is not a valid eci-use-specs list: item 2 is empty"#, "use-specs: trailing comma"),
        ("k8s.aliyun.com/eci-use-specs", "", r#"value "" is not a valid eci-use-specs list: it is empty"#, "use-specs: empty value"),
        ("k8s.aliyun.com/eci-max-pending-minute", "5", r#"value "5" must be an integer from 10 to 1440"#, "integer: below range"),
        ("k8s.aliyun.com/eci-max-pending-minute", "1d", r#"value "1d" must be an integer from 10 to 1440"#, "integer: not a number"),
        ("k8s.aliyun.com/eip-bandwidth", "5M", r#"value "5M" must be an integer of at least 1"#, "integer: unit not allowed"),
        ("k8s.aliyun.com/eci-cpu-option-core", "0", r#"value "0" must be an integer of at least 1"#, "integer: zero cores"),
        ("k8s.aliyun.com/eci-spot-duration", "-1", r#"value "-1" must be a non-negative integer"#, "integer: negative"),
        ("k8s.aliyun.com/eci-data-cache-provisionedIops", "60000", r#"value "60000" must be an integer from 0 to 50000"#, "integer: above range"),
        ("k8s.aliyun.com/eci-spot-price-limit", "$0.5", r#"value "$0.5" must be a non-negative decimal number such as 0.5"#, "decimal: currency sign"),
        ("k8s.aliyun.com/eci-spot-price-limit", "0,5", r#"value "0,5" must be a non-negative decimal number such as 0.5"#, "decimal: comma"),
        ("k8s.aliyun.com/eci-spot-price-limit", ".", r#"value "." must be a non-negative decimal number such as 0.5"#, "decimal: no digit"),
        // Near misses.
        ("k8s.aliyun.com/eci-use-spec", "2-4Gi", r#"unknown ECI annotation; did you mean "k8s.aliyun.com/eci-use-specs"?"#, "DESIGN: near miss, one deletion"),
        ("k8s.aliyun.com/eci_use_specs", "2-4Gi", r#"unknown ECI annotation; did you mean "k8s.aliyun.com/eci-use-specs"?"#, "near miss: underscores"),
        ("k8s.aliyun.com/ECI-USE-SPECS", "2-4Gi", r#"unknown ECI annotation; did you mean "k8s.aliyun.com/eci-use-specs"?"#, "near miss: case"),
        ("k8s.aliyun.com/eci-use-sepcs", "2-4Gi", r#"unknown ECI annotation; did you mean "k8s.aliyun.com/eci-use-specs"?"#, "near miss: swapped letters"),
        ("k8s.aliyun.com/eci-imagecache", "true", r#"unknown ECI annotation; did you mean "k8s.aliyun.com/eci-image-cache"?"#, "near miss: missing dash"),
        ("k8s.aliyun.com/eci-auto-imcs", "true", r#"unknown ECI annotation; did you mean "k8s.aliyun.com/eci-auto-imc"?"#, "near miss: extra letter"),
        ("k8s.aliyun.com/eci-spot-stratgy", "SpotAsPriceGo", r#"unknown ECI annotation; did you mean "k8s.aliyun.com/eci-spot-strategy"?"#, "near miss: missing letter"),
        ("k8s.aliyun.com/eci-security-groups", "sg-1", r#"unknown ECI annotation; did you mean "k8s.aliyun.com/eci-security-group"?"#, "near miss: plural"),
        ("k8s.aliyun.com/eci-vswitchs", "vsw-1", r#"unknown ECI annotation; did you mean "k8s.aliyun.com/eci-vswitch"?"#, "near miss: plural"),
        ("k8s.aliyun.com/eci-with-eips", "true", r#"unknown ECI annotation; did you mean "k8s.aliyun.com/eci-with-eip"?"#, "near miss: plural"),
        ("alibabacloud.com/burst-resources", "eci", r#"unknown ECI annotation; did you mean "alibabacloud.com/burst-resource"?"#, "near miss: alibabacloud.com prefix"),
        ("alibabacloud.com/burst_resource", "eci", r#"unknown ECI annotation; did you mean "alibabacloud.com/burst-resource"?"#, "near miss: underscore"),
        ("k8s.aliyun.com/eci-data-cache-provisionediops", "1", r#"unknown ECI annotation; did you mean "k8s.aliyun.com/eci-data-cache-provisionedIops"?"#, "near miss: case of a camel-case key"),
        ("k8s.aliyun.co/eci-use-specs", "2-4Gi", r#"unknown ECI annotation; did you mean "k8s.aliyun.com/eci-use-specs"?"#, "near miss: typo in the prefix"),
        ("kubernetes.io/ingres-bandwidth", "40M", r#"unknown ECI annotation; did you mean "kubernetes.io/ingress-bandwidth"?"#, "near miss: kubernetes.io bandwidth key"),
    ];

    #[test]
    fn accepted() {
        for (key, value, clause) in ACCEPTED {
            assert_eq!(
                check_annotation(key, value),
                Ok(()),
                "{clause}: {key}={value:?}"
            );
        }
    }

    #[test]
    fn refused() {
        for (key, value, want, clause) in REFUSED {
            assert_eq!(
                check_annotation(key, value),
                Err(want.to_string()),
                "{clause}: {key}={value:?}"
            );
        }
    }

    #[test]
    fn every_known_key_is_a_valid_kubernetes_annotation_key_and_listed_once() {
        for (i, k) in KNOWN.iter().enumerate() {
            let (prefix, name) = k.key.split_once('/').expect("every known key has a prefix");
            assert!(
                prefix
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'),
                "{}: prefix is a lowercase DNS subdomain",
                k.key
            );
            assert!(
                !name.is_empty()
                    && name.len() <= 63
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'),
                "{}: name part is a Kubernetes name",
                k.key
            );
            assert!(
                KNOWN[..i].iter().all(|other| other.key != k.key),
                "{}: listed once",
                k.key
            );
        }
    }

    #[test]
    fn every_known_key_is_accepted_with_some_value_and_never_a_near_miss() {
        // A known key with a value of its kind passes; it is never reported
        // as a misspelling of another key, whatever its neighbours.
        for k in KNOWN {
            let value = match k.kind {
                Bool => "true",
                Kind::Enum { valid, .. } => valid[0],
                EnumList(valid) => valid[0],
                UseSpecs => "2-4Gi",
                Integer { min, .. } => {
                    if min == 0 {
                        "0"
                    } else if min == 1 {
                        "1"
                    } else {
                        "10"
                    }
                }
                Decimal => "0.5",
                Free => "anything",
            };
            assert_eq!(
                check_annotation(k.key, value),
                Ok(()),
                "known key {} with {value:?}",
                k.key
            );
        }
    }

    #[test]
    fn free_keys_take_any_value() {
        for k in KNOWN.iter().filter(|k| k.kind == Free) {
            for value in ["", "x", "  spaced  ", "{\"json\":true}", "ünïcödé"] {
                assert_eq!(
                    check_annotation(k.key, value),
                    Ok(()),
                    "free key {} with {value:?}",
                    k.key
                );
            }
        }
    }

    #[test]
    fn enum_error_lists_only_the_advertised_values() {
        // NoSpot and vSwitchOrdered are accepted, but the error names the
        // values a user should pick (DESIGN.md's exact text).
        let err = check_annotation("k8s.aliyun.com/eci-spot-strategy", "x").unwrap_err();
        assert!(!err.contains("NoSpot"), "{err}");
        let err = check_annotation("k8s.aliyun.com/eci-schedule-strategy", "x").unwrap_err();
        assert!(!err.contains("vSwitch"), "{err}");
    }

    /// Optimal string alignment: insertions, deletions, substitutions and
    /// swaps of neighbours cost one each, and a substring is edited at most once.
    #[test]
    fn near_misses_are_counted_in_edits() {
        let d = |a: &str, b: &str| osa_distance(&normalize(a), &normalize(b));
        for (a, b, want, clause) in [
            ("abcd", "abdc", 1, "a swap of adjacent characters costs one"),
            ("ca", "abc", 3, "OSA edits a substring at most once"),
            ("ECI_USE", "eci-use", 0, "case and underscore do not count"),
        ] {
            assert_eq!(d(a, b), want, "{clause}: {a} vs {b}");
        }
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let long = "x".repeat(100);
        let err = check_annotation("k8s.aliyun.com/eci-image-cache", &long).unwrap_err();
        assert!(err.starts_with("value \"xxxx"), "{err}");
        assert!(err.contains('…'), "{err}");
        assert!(err.ends_with(" must be \"true\" or \"false\""), "{err}");
    }

    #[test]
    fn quotes_are_escaped_in_messages() {
        let err = check_annotation("k8s.aliyun.com/eci-image-cache", "\"yes\"").unwrap_err();
        assert_eq!(err, r#"value "\"yes\"" must be "true" or "false""#);
    }
}
