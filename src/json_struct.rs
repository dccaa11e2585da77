//! Reading JSON mappings into structs of optional fields, borrowed from the
//! text. Hand-written rather than derived: serde's derive also reads every
//! struct from a list, and those readers cost several KB of module each
//! time (the module's size is a product metric).

use serde::de::{Deserialize, Deserializer, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// A string, borrowed when it has no escapes (serde's own `Cow<str>` copies
/// outside a derived struct's `#[serde(borrow)]` field).
pub struct Str<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for StrVisitor<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(StrVisitor(PhantomData))
    }
}

/// `json_struct!(strict Name { field: Type = "jsonName", … })` declares
/// `struct Name<'a>` whose fields are `Option<Type>`: `Some` when given (a
/// `Type` of `Option<…>` tells `null` from absent). A repeated field fails
/// the mapping; an unknown one fails it (`strict`) or is skipped (`lenient`).
/// Messages use serde's derive wording (`expected struct Name`, `duplicate field`).
#[macro_export]
#[doc(hidden)]
macro_rules! json_struct {
    (@unknown strict, $map:ident) => {
        return Err(<A::Error as serde::de::Error>::custom("unknown field"))
    };
    (@unknown lenient, $map:ident) => {{
        $map.next_value::<serde::de::IgnoredAny>()?;
    }};
    ($mode:ident $name:ident { $($field:ident: $ty:ty = $key:literal),* $(,)? }) => {
        #[derive(Default)]
        struct $name<'a> {
            $($field: Option<$ty>,)*
            _text: std::marker::PhantomData<&'a ()>,
        }

        impl<'de: 'a, 'a> serde::Deserialize<'de> for $name<'a> {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct FieldsVisitor<'a>(std::marker::PhantomData<&'a ()>);
                impl<'de: 'a, 'a> serde::de::Visitor<'de> for FieldsVisitor<'a> {
                    type Value = $name<'a>;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        // The words serde's derive uses, so that messages stay the same.
                        f.write_str(concat!("struct ", stringify!($name)))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<Self::Value, A::Error> {
                        let mut out = $name::default();
                        while let Some(key) = map.next_key::<$crate::json_struct::Str<'de>>()? {
                            match key.0.as_ref() {
                                $($key if out.$field.is_none() => {
                                    out.$field = Some(map.next_value()?)
                                })*
                                $($key => {
                                    return Err(<A::Error as serde::de::Error>::duplicate_field($key))
                                })*
                                _ => $crate::json_struct!(@unknown $mode, map),
                            }
                        }
                        Ok(out)
                    }
                }
                deserializer.deserialize_map(FieldsVisitor(std::marker::PhantomData))
            }
        }
    };
}
