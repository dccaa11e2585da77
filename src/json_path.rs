//! Reading untrusted JSON with errors that name the path and the value found.
//! Settings and pods are walked as raw JSON trees: nothing is round-tripped
//! through typed structs, and every type mismatch becomes a message such as
//! `metadata.labels["app"]: expected a string, found 5`.
//!
//! The readers work on any [`Json`] tree. The pod is a `serde_json::Value`,
//! because it is mutated and sent back. Settings are read into
//! `serde_json_borrow::Value`s (a field or a selector at a time), which
//! borrow their strings from the request and keep mappings as lists: half
//! the cost of building a `Value`, on every request, for settings that are
//! read once and dropped. Both trees answer
//! alike: a mapping's entries come sorted by key, and a key given twice
//! keeps its last value, as `serde_json::Map` does.

use serde_json::{Map, Value};
use serde_json_borrow::ObjectAsVec;
use std::fmt::{self, Display};

/// A JSON tree the readers below can walk.
pub trait Json: Sized {
    type Map: JsonMap<Self> + ?Sized;
    fn as_map(&self) -> Option<&Self::Map>;
    fn as_list(&self) -> Option<&[Self]>;
    fn as_str(&self) -> Option<&str>;
    fn as_i64(&self) -> Option<i64>;
    fn as_bool(&self) -> Option<bool>;
    fn is_null(&self) -> bool;
    /// A boolean or a number: what YAML makes of an unquoted `true` or `1`.
    fn is_scalar(&self) -> bool;
    /// The same value as serde_json's `Value`, for messages.
    fn to_value(&self) -> Value;
}

/// A JSON mapping of a [`Json`] tree.
pub trait JsonMap<J> {
    /// The value of `key`; the last one when the key is given twice.
    /// (Not `get`: serde_json_borrow's own `get` returns the first.)
    fn lookup(&self, key: &str) -> Option<&J>;
    /// One entry per key, sorted by key.
    fn entries<'a>(&'a self) -> impl Iterator<Item = (&'a str, &'a J)>
    where
        J: 'a;
    fn is_empty(&self) -> bool;
}

impl Json for Value {
    type Map = Map<String, Value>;
    fn as_map(&self) -> Option<&Self::Map> {
        self.as_object()
    }
    fn as_list(&self) -> Option<&[Self]> {
        self.as_array().map(Vec::as_slice)
    }
    fn as_str(&self) -> Option<&str> {
        Value::as_str(self)
    }
    fn as_i64(&self) -> Option<i64> {
        Value::as_i64(self)
    }
    fn as_bool(&self) -> Option<bool> {
        Value::as_bool(self)
    }
    fn is_null(&self) -> bool {
        Value::is_null(self)
    }
    fn is_scalar(&self) -> bool {
        matches!(self, Value::Bool(_) | Value::Number(_))
    }
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl JsonMap<Value> for Map<String, Value> {
    fn lookup(&self, key: &str) -> Option<&Value> {
        Map::get(self, key)
    }
    fn entries<'a>(&'a self) -> impl Iterator<Item = (&'a str, &'a Value)>
    where
        Value: 'a,
    {
        self.iter().map(|(k, v)| (k.as_str(), v))
    }
    fn is_empty(&self) -> bool {
        Map::is_empty(self)
    }
}

impl<'ctx> Json for serde_json_borrow::Value<'ctx> {
    type Map = ObjectAsVec<'ctx>;
    fn as_map(&self) -> Option<&Self::Map> {
        self.as_object()
    }
    fn as_list(&self) -> Option<&[Self]> {
        self.as_array()
    }
    fn as_str(&self) -> Option<&str> {
        Self::as_str(self)
    }
    fn as_i64(&self) -> Option<i64> {
        Self::as_i64(self)
    }
    fn as_bool(&self) -> Option<bool> {
        Self::as_bool(self)
    }
    fn is_null(&self) -> bool {
        Self::is_null(self)
    }
    fn is_scalar(&self) -> bool {
        matches!(self, Self::Bool(_) | Self::Number(_))
    }
    fn to_value(&self) -> Value {
        Value::from(self.clone())
    }
}

impl<'ctx> JsonMap<serde_json_borrow::Value<'ctx>> for ObjectAsVec<'ctx> {
    fn lookup(&self, key: &str) -> Option<&serde_json_borrow::Value<'ctx>> {
        self.as_vec()
            .iter()
            .rev()
            .find_map(|(k, v)| (**k == *key).then_some(v))
    }
    fn entries<'a>(&'a self) -> impl Iterator<Item = (&'a str, &'a serde_json_borrow::Value<'ctx>)>
    where
        serde_json_borrow::Value<'ctx>: 'a,
    {
        let mut sorted: Vec<_> = self.iter().collect();
        // Reversed, then sorted stably: of a key given twice, the last value
        // comes first, and `dedup_by` keeps the first.
        sorted.reverse();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        sorted.dedup_by(|a, b| a.0 == b.0);
        sorted.into_iter()
    }
    fn is_empty(&self) -> bool {
        ObjectAsVec::is_empty(self)
    }
}

/// A short rendering of a value for error messages (long values are cut).
pub fn show<J: Json>(value: &J) -> String {
    const MAX: usize = 60;
    let text = value.to_value().to_string();
    match text.char_indices().nth(MAX) {
        None => text,
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

/// A string as [`show`] writes it (JSON-quoted, long ones cut), formatted
/// only when a message is.
pub struct Quoted<'a>(pub &'a str);

impl Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&show(&Value::from(self.0)))
    }
}

/// A place in a document for error messages, such as
/// `spec.containers[0].ports[1].hostPort`. Built on the stack and written out
/// only when an error is: formatting a path for every item walked cost more
/// than the checks themselves.
pub type At<'a> = &'a dyn Display;

/// `base.name` (just `name` when `base` is empty).
pub struct Field<'a, B>(B, &'a str);

/// `base[index]`, the way errors name a list item.
pub struct Item<B>(B, usize);

/// `base["key"]`, the way errors name a map entry.
pub struct Entry<'a, B>(B, &'a str);

pub fn field<B: Display>(base: B, name: &str) -> Field<'_, B> {
    Field(base, name)
}

pub fn item<B: Display>(base: B, index: usize) -> Item<B> {
    Item(base, index)
}

pub fn entry<B: Display>(base: B, key: &str) -> Entry<'_, B> {
    Entry(base, key)
}

impl<B: Display> Display for Field<'_, B> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let base = self.0.to_string();
        if base.is_empty() {
            f.write_str(self.1)
        } else {
            write!(f, "{base}.{}", self.1)
        }
    }
}

impl<B: Display> Display for Item<B> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}[{}]", self.0, self.1)
    }
}

impl<B: Display> Display for Entry<'_, B> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}[{}]", self.0, Value::from(self.1))
    }
}

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

fn expected<J: Json>(path: &dyn Display, what: &str, found: &J) -> String {
    format!("{path}: expected {what}, found {}", show(found))
}

/// An optional value of the kind `read` takes: missing or `null` is `None`,
/// another kind an error that names `what` was expected.
fn optional<'a, J: Json, T>(
    value: Option<&'a J>,
    path: &dyn Display,
    what: &str,
    read: impl FnOnce(&'a J) -> Option<T>,
) -> Result<Option<T>, String> {
    match value.filter(|v| !v.is_null()) {
        None => Ok(None),
        Some(v) => read(v).map(Some).ok_or_else(|| expected(path, what, v)),
    }
}

/// An optional object: missing or `null` is `None`.
pub fn opt_object<J: Json>(
    value: Option<&J>,
    path: impl Display,
) -> Result<Option<&J::Map>, String> {
    optional(value, &path, "a mapping", J::as_map)
}

/// A required object: `null` too is an error.
pub fn object<J: Json>(value: &J, path: impl Display) -> Result<&J::Map, String> {
    value
        .as_map()
        .ok_or_else(|| expected(&path, "a mapping", value))
}

/// [`opt_object`] for a compile step that collects its errors: `None` when
/// missing or `null`, and when not a mapping, whose error is then pushed.
pub fn mapping_or_error<'a, J: Json>(
    value: &'a J,
    path: impl Display,
    errors: &mut Vec<String>,
) -> Option<&'a J::Map> {
    or_push(opt_object(Some(value), path), errors).flatten()
}

/// An optional list: missing or `null` is `None`.
pub fn opt_array<J: Json>(value: Option<&J>, path: impl Display) -> Result<Option<&[J]>, String> {
    optional(value, &path, "a list", J::as_list)
}

/// An optional string: missing or `null` is `None`.
pub fn opt_str<J: Json>(value: Option<&J>, path: impl Display) -> Result<Option<&str>, String> {
    optional(value, &path, "a string", J::as_str)
}

/// An optional boolean: missing or `null` is `false`.
pub fn opt_bool<J: Json>(value: Option<&J>, path: impl Display) -> Result<bool, String> {
    Ok(optional(value, &path, "true or false", J::as_bool)?.unwrap_or(false))
}

/// An optional integer: missing or `null` is `None`.
pub fn opt_i64<J: Json>(value: Option<&J>, path: impl Display) -> Result<Option<i64>, String> {
    optional(value, &path, "an integer", J::as_i64)
}

/// The value of a step that collects its errors: `None` once its error is pushed.
pub fn or_push<T>(result: Result<T, String>, errors: &mut Vec<String>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

/// The message for a field a mapping does not know.
pub fn unknown_field(path: impl Display, name: &str, known: &str) -> String {
    format!("{path}: unknown field \"{name}\" (known fields: {known})")
}

/// A required string value in settings. YAML's unquoted `true` or `1` get a
/// hint, since that is the usual mistake when writing settings by hand.
pub fn setting_string<J: Json>(value: &J, path: impl Display) -> Result<&str, String> {
    if let Some(s) = value.as_str() {
        return Ok(s);
    }
    Err(if value.is_scalar() {
        format!(
            "{}: expected a string, found {} (quote it: \"{}\")",
            path,
            show(value),
            value.to_value()
        )
    } else {
        expected(&path, "a string", value)
    })
}

/// A check of one pair of a [`setting_pairs`] mapping.
pub type PairCheck = fn(&str, &str) -> Result<(), String>;

/// A mapping of strings in settings (labels, annotations, a nodeSelector):
/// the pairs that `check` accepts, in key order; the others' errors are pushed.
pub fn setting_pairs<'a, J: Json + 'a>(
    map: &'a (impl JsonMap<J> + ?Sized),
    path: impl Display,
    check: PairCheck,
    errors: &mut Vec<String>,
) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (key, value) in map.entries() {
        let here = entry(&path, key);
        let pair = setting_string(value, &here).and_then(|value| match check(key, value) {
            Ok(()) => Ok((key.to_owned(), value.to_owned())),
            Err(why) => Err(format!("{here}: {why}")),
        });
        pairs.extend(or_push(pair, errors));
    }
    pairs
}

/// An optional map of strings to strings, such as `metadata.labels`.
pub fn opt_string_map<J: Json>(
    value: Option<&J>,
    path: impl Display,
) -> Result<Option<&J::Map>, String> {
    let Some(map) = opt_object(value, &path)? else {
        return Ok(None);
    };
    for (key, value) in map.entries() {
        if value.as_str().is_none() {
            return Err(expected(&entry(&path, key), "a string", value));
        }
    }
    Ok(Some(map))
}

/// `map[key]` as an object, created when missing or null.
pub fn object_entry<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
    path: impl Display,
) -> Result<&'a mut Map<String, Value>, String> {
    let slot = map.entry(key).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(inner) => Ok(inner),
        other => Err(expected(&path, "a mapping", other)),
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

    /// The borrowed tree answers as serde_json's map does: sorted entries,
    /// and the last value of a key given twice.
    #[test]
    fn both_trees_read_a_mapping_alike() {
        let text = r#"{"b": 1, "a": "first", "c": {"x": true}, "a": "last"}"#;
        let borrowed: serde_json_borrow::Value = serde_json::from_str(text).unwrap();
        let value: Value = serde_json::from_str(text).unwrap();
        let b = borrowed.as_map().unwrap();
        let v = Json::as_map(&value).unwrap();
        let b_entries: Vec<(&str, Value)> = b.entries().map(|(k, v)| (k, v.to_value())).collect();
        let v_entries: Vec<(&str, Value)> = v.entries().map(|(k, v)| (k, v.clone())).collect();
        assert_eq!(b_entries, v_entries);
        assert_eq!(
            b.entries().map(|(k, _)| k).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        assert_eq!(b.lookup("a").and_then(Json::as_str), Some("last"));
        assert_eq!(v.lookup("a").and_then(Json::as_str), Some("last"));
        assert_eq!(
            opt_str(b.lookup("b"), "b").unwrap_err(),
            opt_str(v.lookup("b"), "b").unwrap_err()
        );
        assert_eq!(
            setting_string(b.lookup("c").unwrap(), "c").unwrap_err(),
            r#"c: expected a string, found {"x":true}"#
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
