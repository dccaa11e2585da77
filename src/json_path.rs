//! Reading untrusted JSON with errors that name the path and the value found.
//! Settings and pods are walked as raw `serde_json::Value`s: nothing is
//! round-tripped through typed structs, and every type mismatch becomes a
//! message such as `metadata.labels["app"]: expected a string, found 5`.

use serde_json::{Map, Value};
use std::fmt::{self, Display};

/// A short rendering of a value for error messages (long values are cut).
pub fn show(value: &Value) -> String {
    const MAX: usize = 60;
    let text = value.to_string();
    if text.chars().count() <= MAX {
        return text;
    }
    let mut cut: String = text.chars().take(MAX).collect();
    cut.push('…');
    cut
}

/// A place in a document for error messages, such as
/// `spec.containers[0].ports[1].hostPort`. Built on the stack and written out
/// only when an error is: formatting a path for every item walked cost more
/// than the checks themselves.
pub type At<'a> = &'a dyn Display;

/// What a path is built on: a plain text, or another path.
#[derive(Clone, Copy)]
pub enum Base<'a> {
    Text(&'a str),
    Path(&'a dyn Display),
}

impl Display for Base<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Base::Text(text) => f.write_str(text),
            Base::Path(path) => path.fmt(f),
        }
    }
}

/// Anything a path can be built on or named by.
pub trait AsBase {
    fn as_base(&self) -> Base<'_>;
}

impl AsBase for str {
    fn as_base(&self) -> Base<'_> {
        Base::Text(self)
    }
}

impl AsBase for String {
    fn as_base(&self) -> Base<'_> {
        Base::Text(self)
    }
}

impl AsBase for dyn Display + '_ {
    fn as_base(&self) -> Base<'_> {
        Base::Path(self)
    }
}

impl<T: AsBase + ?Sized> AsBase for &T {
    fn as_base(&self) -> Base<'_> {
        (**self).as_base()
    }
}

/// `base.name` (just `name` when `base` is empty).
pub struct Field<'a>(Base<'a>, &'a str);

/// `base[index]`, the way errors name a list item.
pub struct Item<'a>(Base<'a>, usize);

/// `base["key"]`, the way errors name a map entry.
pub struct Entry<'a>(Base<'a>, &'a str);

pub fn field<'a, B: AsBase + ?Sized>(base: &'a B, name: &'a str) -> Field<'a> {
    Field(base.as_base(), name)
}

pub fn item<B: AsBase + ?Sized>(base: &B, index: usize) -> Item<'_> {
    Item(base.as_base(), index)
}

pub fn entry<'a, B: AsBase + ?Sized>(base: &'a B, key: &'a str) -> Entry<'a> {
    Entry(base.as_base(), key)
}

impl Display for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let base = self.0.to_string();
        if base.is_empty() {
            f.write_str(self.1)
        } else {
            write!(f, "{base}.{}", self.1)
        }
    }
}

impl Display for Item<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}[{}]", self.0, self.1)
    }
}

impl Display for Entry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}[{}]", self.0, Value::from(self.1))
    }
}

macro_rules! path_base {
    ($($t:ident),*) => {$(
        impl AsBase for $t<'_> {
            fn as_base(&self) -> Base<'_> {
                Base::Path(self)
            }
        }
    )*};
}
path_base!(Field, Item, Entry);

/// `items` separated by `sep`, written straight into a message (std's `join`
/// builds a `String` first, and costs 1.3 KB of module per item type).
pub struct Joined<'a, T>(pub &'a [T], pub &'a str);

impl<T: AsRef<str>> Display for Joined<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(self.1)?;
            }
            f.write_str(item.as_ref())?;
        }
        Ok(())
    }
}

fn expected(path: Base, what: &str, found: &Value) -> String {
    format!("{path}: expected {what}, found {}", show(found))
}

/// An optional object: missing or `null` is `None`.
pub fn opt_object<'a, P: AsBase + ?Sized>(
    value: Option<&'a Value>,
    path: &P,
) -> Result<Option<&'a Map<String, Value>>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(other) => Err(expected(path.as_base(), "a mapping", other)),
    }
}

/// An optional list: missing or `null` is `None`.
pub fn opt_array<'a, P: AsBase + ?Sized>(
    value: Option<&'a Value>,
    path: &P,
) -> Result<Option<&'a [Value]>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(other) => Err(expected(path.as_base(), "a list", other)),
    }
}

/// An optional string: missing or `null` is `None`.
pub fn opt_str<'a, P: AsBase + ?Sized>(
    value: Option<&'a Value>,
    path: &P,
) -> Result<Option<&'a str>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(expected(path.as_base(), "a string", other)),
    }
}

/// An optional boolean: missing or `null` is `false`.
pub fn opt_bool<P: AsBase + ?Sized>(value: Option<&Value>, path: &P) -> Result<bool, String> {
    match value {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(expected(path.as_base(), "true or false", other)),
    }
}

/// A required string value of a pod's string map (labels, annotations, nodeSelector).
pub fn string_value<'a, P: AsBase + ?Sized>(value: &'a Value, path: &P) -> Result<&'a str, String> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(expected(path.as_base(), "a string", other)),
    }
}

/// A required string value in settings. YAML's unquoted `true` or `1` get a
/// hint, since that is the usual mistake when writing settings by hand.
pub fn setting_string<'a, P: AsBase + ?Sized>(
    value: &'a Value,
    path: &P,
) -> Result<&'a str, String> {
    match value {
        Value::String(s) => Ok(s),
        Value::Bool(_) | Value::Number(_) => Err(format!(
            "{}: expected a string, found {} (quote it: \"{}\")",
            path.as_base(),
            show(value),
            value
        )),
        other => Err(expected(path.as_base(), "a string", other)),
    }
}

/// An optional map of strings to strings, such as `metadata.labels`.
pub fn opt_string_map<'a, P: AsBase + ?Sized>(
    value: Option<&'a Value>,
    path: &P,
) -> Result<Option<&'a Map<String, Value>>, String> {
    let Some(map) = opt_object(value, path)? else {
        return Ok(None);
    };
    for (key, value) in map {
        string_value(value, &entry(path, key))?;
    }
    Ok(Some(map))
}

/// `map[key]` as an object, created when missing or null.
pub fn object_entry<'a, P: AsBase + ?Sized>(
    map: &'a mut Map<String, Value>,
    key: &str,
    path: &P,
) -> Result<&'a mut Map<String, Value>, String> {
    let slot = map.entry(key).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(inner) => Ok(inner),
        other => Err(expected(path.as_base(), "a mapping", other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_name_path_and_value() {
        let labels = json!({"app": 5});
        assert_eq!(
            opt_string_map(Some(&labels), "metadata.labels").unwrap_err(),
            r#"metadata.labels["app"]: expected a string, found 5"#
        );
        assert_eq!(
            opt_array(Some(&json!({"a": 1})), "spec.tolerations").unwrap_err(),
            r#"spec.tolerations: expected a list, found {"a":1}"#
        );
        assert_eq!(
            setting_string(&json!(true), "effect.labels[\"eci\"]").unwrap_err(),
            r#"effect.labels["eci"]: expected a string, found true (quote it: "true")"#
        );
        assert_eq!(opt_object(Some(&Value::Null), "x").unwrap(), None);
        assert_eq!(
            entry("effect.labels", "a\"b").to_string(),
            r#"effect.labels["a\"b"]"#
        );
        assert_eq!(field("", "name").to_string(), "name");
        assert_eq!(field("spec", "nodeName").to_string(), "spec.nodeName");
        assert_eq!(
            field(&item(&field("spec", "containers"), 2), "ports").to_string(),
            "spec.containers[2].ports"
        );
    }

    #[test]
    fn long_values_are_cut() {
        let long = Value::String("x".repeat(200));
        let shown = show(&long);
        assert_eq!(shown.chars().count(), 61);
        assert!(shown.ends_with('…'));
    }
}
