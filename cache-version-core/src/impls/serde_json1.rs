//! Impls for serde_json 1 (feature `serde_json1`). Each describes what serde_json's own serde
//! impl writes (serde_json 1.0.154: `src/value/ser.rs`, `src/map.rs`, `src/number.rs`), not the
//! Rust type.
//!
//! `Value` is any JSON; its `Serialize` impl writes the JSON it holds and nothing else: `Null` as
//! serde's unit, `Bool` as a bool, `Number` as the number, `String` as a string, `Array` as a
//! seq of values and `Object` as a map of strings to values. That is exactly what serde writes
//! for `#[serde(untagged)] enum Value { Null, Bool(bool), Number(Number), String(String),
//! Array(Vec<Value>), Object(Map<String, Value>) }`, so `Value` is described as that
//! self-recursive untagged enum rather than as an opaque leaf: the description is true under
//! every serde_json feature (`preserve_order` changes the map's order, not that it is a map), and
//! it shows readers that a `Value` field accepts any JSON.
//!
//! `Number` is the one part whose output depends on a feature that any crate in the build can
//! turn on (features are unified): by default it writes `serialize_u64`, `serialize_i64` or
//! `serialize_f64`, but with `arbitrary_precision` it writes a one-field struct
//! `{"$serde_json::private::Number": "<digits>"}`. Nothing visible at compile time tells the
//! two apart, so `Number` is the opaque leaf `opaque("serde_json::Number")`, which claims no
//! particular encoding rather than one that may be wrong.

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value};

use crate::__private::SelfRef;
use crate::shape::{Body, EnumRepr, Field, Named, Shape, Ty, Variant, VariantMeta, VariantStyle};
use crate::CacheVersion;

// `src/number.rs`: `serialize_u64` / `serialize_i64` / `serialize_f64` by default, a
// one-field struct with `arbitrary_precision` (see the module documentation).
#[diagnostic::do_not_recommend]
impl CacheVersion for Number {
    const SHAPE: &'static Shape = &Shape::Opaque("serde_json::Number");
}

/// A variant of the untagged `Value` enum.
const fn variant(name: &'static str, style: VariantStyle, fields: &'static [Field]) -> Variant {
    Variant {
        name,
        de_name: name,
        style,
        untagged: false,
        fields,
        bump: 0,
        meta: VariantMeta::NONE,
    }
}

// `src/value/ser.rs`: `serialize_unit` for `Null`, `serialize_bool`, `Number::serialize`,
// `serialize_str`, the `Vec<Value>` as a seq and `serialize_map` of the object's entries: the
// untagged enum of the module documentation. `self` is `Value` itself.
#[diagnostic::do_not_recommend]
impl CacheVersion for Value {
    const SHAPE: &'static Shape = &Shape::Named(&Named::new(
        "Value",
        Body::Enum {
            repr: EnumRepr::Untagged,
            variants: &[
                variant("Null", VariantStyle::Unit, &[]),
                variant(
                    "Bool",
                    VariantStyle::Newtype,
                    &[Field::new("", Ty::of::<bool>())],
                ),
                variant(
                    "Number",
                    VariantStyle::Newtype,
                    &[Field::new("", Ty::of::<Number>())],
                ),
                variant(
                    "String",
                    VariantStyle::Newtype,
                    &[Field::new("", Ty::of::<String>())],
                ),
                variant(
                    "Array",
                    VariantStyle::Newtype,
                    &[Field::new("", Ty::of::<Vec<SelfRef>>())],
                ),
                variant(
                    "Object",
                    VariantStyle::Newtype,
                    &[Field::new("", Ty::of::<BTreeMap<String, SelfRef>>())],
                ),
            ],
        },
    ));
}

// `src/map.rs`: `serialize_map` of the entries (only `Map<String, Value>` implements
// `Serialize`).
#[diagnostic::do_not_recommend]
impl CacheVersion for Map<String, Value> {
    const SHAPE: &'static Shape = &Shape::Map(Ty::of::<String>(), Ty::of::<Value>());
}
