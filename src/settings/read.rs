//! Reading settings in one pass. Each top-level field, and each selector of
//! a list, is read into its own small borrowed tree, compiled, and dropped:
//! the settings read as one tree were about five times their text, and every
//! page a fresh instance touches is a page fault (BENCHMARKS.md, "One path").

use super::{Profile, Selector, SettingsError, compile_selector, name_key};
use crate::json_path::{Json, JsonMap, opt_array, opt_object};
use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// A JSON tree that borrows its strings from the text it is read from.
pub type Tree<'a> = serde_json_borrow::Value<'a>;

/// Settings as serde reads them: compiled, or refused with every reason.
/// Deserializing fails only on text that is not JSON.
pub struct Checked(pub Result<Profile, SettingsError>);

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Kinds(TopLevel)).map(Checked)
    }
}

/// How a setting is read: the kinds of value it expects as it chooses, any
/// other as a tree, for the error that shows it.
trait Reader<'de>: Sized {
    type Out;
    fn other(self, value: Tree) -> Self::Out;
    fn map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Out, A::Error> {
        Ok(self.other(Tree::deserialize(MapAccessDeserializer::new(map))?))
    }
    fn list<A: SeqAccess<'de>>(self, list: A) -> Result<Self::Out, A::Error> {
        Ok(self.other(Tree::deserialize(SeqAccessDeserializer::new(list))?))
    }
    fn string(self, text: &str) -> Self::Out {
        self.other(Tree::from(text))
    }
}

/// A [`Reader`] as serde's seed and visitor.
struct Kinds<R>(R);

impl<'de, R: Reader<'de>> DeserializeSeed<'de> for Kinds<R> {
    type Value = R::Out;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<R::Out, D::Error> {
        deserializer.deserialize_any(self)
    }
}

macro_rules! scalars {
    ($($visit:ident($t:ty)),*) => {$(
        fn $visit<E>(self, v: $t) -> Result<R::Out, E> {
            Ok(self.0.other(Tree::from(v)))
        }
    )*};
}

impl<'de, R: Reader<'de>> Visitor<'de> for Kinds<R> {
    type Value = R::Out;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    scalars!(
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64)
    );
    fn visit_unit<E>(self) -> Result<R::Out, E> {
        Ok(self.0.other(Tree::Null))
    }
    fn visit_str<E>(self, v: &str) -> Result<R::Out, E> {
        Ok(self.0.string(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, list: A) -> Result<R::Out, A::Error> {
        self.0.list(list)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<R::Out, A::Error> {
        self.0.map(map)
    }
}

/// The settings' mapping: `selectors` a selector at a time, any other field
/// as one tree.
struct TopLevel;

impl<'de> Reader<'de> for TopLevel {
    type Out = Result<Profile, SettingsError>;

    fn other(self, value: Tree) -> Self::Out {
        // Not a mapping: `null` gives the defaults, anything else is refused.
        match opt_object(Some(&value), "settings") {
            Ok(_) => Ok(Profile::default()),
            Err(e) => Err(SettingsError(vec![e])),
        }
    }

    fn map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Out, A::Error> {
        let mut profile = Profile::default();
        // Each field's errors, in key order, and of a key given twice the
        // last value's: as a mapping read whole into a tree.
        let mut by_field = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let mut errors = Vec::new();
            if key == "selectors" {
                let read = Selectors(&mut errors, true);
                profile.selectors = map.next_value_seed(Kinds(read))?;
            } else {
                profile.compile_field(&key, &map.next_value()?, &mut errors);
            }
            by_field.insert(key, errors);
        }
        let has_selectors = by_field.contains_key("selectors");
        Ok(profile.finish(by_field.into_values().flatten().collect(), has_selectors))
    }
}

/// `selectors` (errors, and whether a string is read as the JSON string of
/// the eci-profile ConfigMap): a list, read a selector at a time.
struct Selectors<'e>(&'e mut Vec<String>, bool);

impl<'de> Reader<'de> for Selectors<'_> {
    type Out = Vec<Selector>;

    fn other(self, value: Tree) -> Vec<Selector> {
        // Not a list: `null` is none, anything else is refused.
        if let Err(e) = opt_array(Some(&value), "selectors") {
            self.0.push(e);
        }
        Vec::new()
    }

    fn list<A: SeqAccess<'de>>(self, mut list: A) -> Result<Vec<Selector>, A::Error> {
        let mut selectors = SelectorList::default();
        while let Some(selector) = list.next_element::<Tree>()? {
            selectors.push(&selector, self.0);
        }
        Ok(selectors.selectors)
    }

    fn string(self, text: &str) -> Vec<Selector> {
        match self.1 {
            true => compile_selector_text(text, self.0),
            false => self.other(Tree::from(text)),
        }
    }
}

/// `selectors` held in a tree (the ConfigMap's `data.selectors`): read as
/// the settings' own are.
pub(crate) fn compile_selectors(value: &Tree, errors: &mut Vec<String>) -> Vec<Selector> {
    // Reading a tree cannot fail: it was JSON.
    let read: Result<_, serde::de::value::Error> =
        Kinds(Selectors(errors, true)).deserialize(value);
    read.unwrap_or_default()
}

/// Selectors compiled one at a time, and the names seen so far, borrowed
/// from the text the selectors are read from.
#[derive(Default)]
struct SelectorList<'a> {
    selectors: Vec<Selector>,
    /// Lower-cased name → (first index, name as written): duplicates in O(n).
    names: HashMap<Cow<'a, str>, (usize, Cow<'a, str>)>,
    /// How many selectors were read, compiled or not.
    read: usize,
}

impl<'a> SelectorList<'a> {
    fn push(&mut self, raw: &Tree<'a>, errors: &mut Vec<String>) {
        let index = self.read;
        self.read += 1;
        let name = match raw.as_map().and_then(|map| map.lookup("name")) {
            Some(Tree::Str(name)) if !name.is_empty() => Some(name),
            _ => None,
        };
        let lower = name.map(|name| match name {
            Cow::Borrowed(name) => name_key(name),
            Cow::Owned(name) => Cow::Owned(name.to_ascii_lowercase()),
        });
        let earlier = lower
            .as_ref()
            .and_then(|lower| self.names.get(lower))
            .map(|(first, original)| (*first, &**original));
        if let Some(selector) = compile_selector(raw, index, earlier, errors) {
            self.selectors.push(selector);
        }
        if let (Some(name), Some(lower)) = (name, lower) {
            self.names
                .entry(lower)
                .or_insert_with(|| (index, name.clone()));
        }
    }
}

/// `selectors` as the JSON string of the eci-profile ConfigMap.
fn compile_selector_text(text: &str, errors: &mut Vec<String>) -> Vec<Selector> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    let mut found = Vec::new();
    let mut json = serde_json::Deserializer::from_str(text);
    let read = Kinds(Selectors(&mut found, false)).deserialize(&mut json);
    match read.and_then(|selectors| json.end().map(|()| selectors)) {
        // The selectors' errors count only in a string that is JSON throughout.
        Ok(selectors) => {
            errors.append(&mut found);
            selectors
        }
        Err(e) => {
            let hint = match text.contains('#') {
                true => {
                    " (JSON has no comments: remove the `# …` notes copied from the eci-profile docs)"
                }
                false => "",
            };
            errors.push(format!(
                "selectors: the JSON string does not parse: {e}{hint}"
            ));
            Vec::new()
        }
    }
}
