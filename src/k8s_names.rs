//! Kubernetes' syntax rules for label keys, label values and annotation keys
//! (`k8s.io/apimachinery/pkg/util/validation`), so that settings the API server
//! would refuse on the pod are refused when the policy is configured instead.

use crate::json_path::Quoted;

const NAME_MAX: usize = 63;
const PREFIX_MAX: usize = 253;

/// A label or annotation key: `[prefix/]name`, the prefix a DNS subdomain.
pub fn check_qualified_name(key: &str) -> Result<(), String> {
    if key.matches('/').count() > 1 {
        return Err("a qualified name has at most one \"/\"".into());
    }
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            return Err("prefix part must not be empty".into());
        }
        if prefix.len() > PREFIX_MAX {
            return Err(format!(
                "prefix part must be no more than {PREFIX_MAX} characters"
            ));
        }
        if !is_dns_subdomain(prefix) {
            return Err("prefix part must be a lowercase DNS subdomain (e.g. example.com)".into());
        }
    }
    if name.is_empty() {
        return Err("name part must not be empty".into());
    }
    if name.len() > NAME_MAX {
        return Err(format!(
            "name part must be no more than {NAME_MAX} characters"
        ));
    }
    if !is_name_part(name) {
        return Err("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character".into());
    }
    Ok(())
}

/// A label value: empty, or up to 63 characters of the name alphabet.
pub fn check_label_value(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    if value.len() > NAME_MAX {
        return Err(format!("must be no more than {NAME_MAX} characters"));
    }
    if !is_name_part(value) {
        return Err("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character".into());
    }
    Ok(())
}

/// A label key, with the message every caller shows: `key "K" is not a valid label key: …`.
pub fn label_key(key: &str) -> Result<(), String> {
    named_key(key, "label")
}

/// An annotation key, with the message every caller shows.
pub fn annotation_key(key: &str) -> Result<(), String> {
    named_key(key, "annotation")
}

/// A label value, with the message every caller shows: `value "V" is not a valid label value: …`.
pub fn label_value(value: &str) -> Result<(), String> {
    check_label_value(value)
        .map_err(|why| format!("value {} is not a valid label value: {why}", Quoted(value)))
}

/// A label (or nodeSelector) pair: the key, then the value.
pub fn label_pair(key: &str, value: &str) -> Result<(), String> {
    label_key(key).and_then(|()| label_value(value))
}

fn named_key(key: &str, kind: &str) -> Result<(), String> {
    check_qualified_name(key)
        .map_err(|why| format!("key {} is not a valid {kind} key: {why}", Quoted(key)))
}

fn is_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    let inner_ok = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.');
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(inner_ok)
}

/// A namespace name (RFC 1123 label).
pub fn is_dns_label(s: &str) -> bool {
    s.len() <= 63 && !s.contains('.') && is_dns_subdomain(s)
}

/// An object name such as a ConfigMap's (RFC 1123 subdomain).
pub fn is_dns_subdomain_name(s: &str) -> bool {
    s.len() <= 253 && is_dns_subdomain(s)
}

fn is_dns_subdomain(s: &str) -> bool {
    s.split('.').all(|label| {
        let b = label.as_bytes();
        let ok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        !b.is_empty() && ok(&b[0]) && ok(&b[b.len() - 1]) && b.iter().all(|c| ok(c) || *c == b'-')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples that documented `check_qualified_name`.
    #[test]
    fn check_qualified_name_examples() {
        assert!(check_qualified_name("k8s.aliyun.com/eci-use-specs").is_ok());
        assert!(check_qualified_name("has space").is_err());
    }

    #[test]
    fn qualified_names_follow_kubernetes() {
        for (key, valid, why) in [
            ("app", true, "plain name"),
            ("alibabacloud.com/eci", true, "prefixed name"),
            ("k8s.aliyun.com/eci-use-specs", true, "ECI annotation key"),
            ("a.b-c_d", true, "inner punctuation"),
            ("", false, "empty"),
            ("/app", false, "empty prefix"),
            ("example.com/", false, "empty name"),
            ("Example.com/app", false, "upper-case prefix"),
            ("example..com/app", false, "empty DNS label"),
            ("-app", false, "leading dash"),
            ("app-", false, "trailing dash"),
            ("has space", false, "space"),
            ("a/b/c", false, "two slashes"),
            (
                "alibabacloud.com/eci/enabled",
                false,
                "two slashes after a prefix",
            ),
            ("ключ", false, "non-ASCII"),
        ] {
            assert_eq!(check_qualified_name(key).is_ok(), valid, "{why}: {key:?}");
        }
        assert!(check_qualified_name(&"a".repeat(63)).is_ok(), "63 chars");
        assert_eq!(
            check_qualified_name(&"a".repeat(64)).unwrap_err(),
            "name part must be no more than 63 characters"
        );
        assert_eq!(
            check_qualified_name("a.com/b/c").unwrap_err(),
            "a qualified name has at most one \"/\""
        );
        let long_prefix = format!("{}/a", "a".repeat(254));
        assert_eq!(
            check_qualified_name(&long_prefix).unwrap_err(),
            "prefix part must be no more than 253 characters"
        );
    }

    #[test]
    fn label_values_follow_kubernetes() {
        for (value, valid, why) in [
            ("", true, "empty value is allowed"),
            ("true", true, "plain"),
            ("virtual-kubelet", true, "dash"),
            ("ecs.gn6v-c8g1.2xlarge", true, "dots"),
            ("has space", false, "space"),
            ("a/b", false, "slash"),
            ("-a", false, "leading dash"),
        ] {
            assert_eq!(check_label_value(value).is_ok(), valid, "{why}: {value:?}");
        }
        assert!(check_label_value(&"v".repeat(64)).is_err(), "64 chars");
    }
}
