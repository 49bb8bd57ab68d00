//! The feature-gated impls for other crates' types: each type's canonical form, its
//! consistency (`verify`, `recompute`), and agreement with what the crate's `Serialize` impl
//! really writes, checked two ways:
//! - the JSON kind serde_json writes (string, array, object, …), and
//! - a recording serializer that prints what a value writes in the terms of the canonical
//!   form, once as a human-readable format and once as a compact one, compared with the
//!   matching branch of the shape (both branches of a `readable<human,compact>`).
//!
//! Run with every feature:
//! `cargo test -p cache-version-core --no-default-features --features
//! chrono04,time03,uuid1,serde_json1,rust_decimal1,url2,bytes1,indexmap2,smallvec1 --test
//! feature_impls`.
#![allow(dead_code, unused_imports)]

use cache_version_core::canonical::{recompute, verify};
use cache_version_core::{CacheVersion, Shape};
use serde::Serialize;

/// Asserts `T`'s canonical form and that it is self-consistent: `verify` passes and the
/// printed text recomputes to `T::VERSION`.
fn check<T: CacheVersion + ?Sized>(expected: &str) {
    let text = T::SHAPE.to_string();
    assert_eq!(text, expected);
    assert_eq!(verify(T::SHAPE), Ok(()), "{text}");
    assert_eq!(recompute(&text), Ok(T::VERSION), "{text}");
}

/// The kind of JSON serde_json writes for `value`.
fn json_kind<T: Serialize + ?Sized>(value: &T) -> &'static str {
    match serde_json::to_value(value).expect("serializes") {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// The canonical text of the branch of `shape` that a format with the given
/// `is_human_readable` sees.
fn branch(shape: &'static Shape, human: bool) -> String {
    match shape {
        Shape::Readable {
            human: h,
            compact: c,
        } => {
            if human {
                h.shape().to_string()
            } else {
                c.shape().to_string()
            }
        }
        other => other.to_string(),
    }
}

/// Asserts that what `value` writes, to a human-readable and to a compact format, is the
/// matching branch of `T::SHAPE` (for shapes made of leaves, tuples, seqs and maps).
fn writes_its_shape<T: CacheVersion + Serialize + ?Sized>(value: &T) {
    for human in [true, false] {
        assert_eq!(
            rec::record(value, human),
            branch(T::SHAPE, human),
            "human_readable = {human}"
        );
    }
}

/// A serializer that prints what it is given in the terms of the canonical form.
mod rec {
    use serde::ser::{self, Serialize};
    use std::fmt;

    #[derive(Debug)]
    pub struct Error(String);
    impl fmt::Display for Error {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.0)
        }
    }
    impl std::error::Error for Error {}
    impl ser::Error for Error {
        fn custom<T: fmt::Display>(msg: T) -> Self {
            Error(msg.to_string())
        }
    }

    pub fn record<T: Serialize + ?Sized>(value: &T, human: bool) -> String {
        value.serialize(Rec { human }).expect("records")
    }

    #[derive(Clone, Copy)]
    struct Rec {
        human: bool,
    }

    pub struct Compound {
        human: bool,
        kind: &'static str,
        parts: Vec<String>,
    }

    impl Compound {
        fn new(human: bool, kind: &'static str) -> Self {
            Compound {
                human,
                kind,
                parts: Vec::new(),
            }
        }
        fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
            self.parts.push(value.serialize(Rec { human: self.human })?);
            Ok(())
        }
        fn finish(self) -> Result<String, Error> {
            let all_same = |parts: &[String]| parts.windows(2).all(|w| w[0] == w[1]);
            Ok(match self.kind {
                "seq" => {
                    assert!(all_same(&self.parts), "mixed seq {:?}", self.parts);
                    format!("seq<{}>", self.parts.first().map_or("?", |s| s))
                }
                "map" => {
                    let (keys, values): (Vec<_>, Vec<_>) = self
                        .parts
                        .chunks(2)
                        .map(|kv| (kv[0].clone(), kv[1].clone()))
                        .unzip();
                    assert!(all_same(&keys) && all_same(&values), "mixed map");
                    format!(
                        "map<{},{}>",
                        keys.first().map_or("?", |s| s),
                        values.first().map_or("?", |s| s)
                    )
                }
                "tuple" => {
                    let mut out = String::from("tuple<");
                    let mut i = 0;
                    while i < self.parts.len() {
                        let run = self.parts[i..]
                            .iter()
                            .take_while(|p| **p == self.parts[i])
                            .count();
                        if i > 0 {
                            out.push(',');
                        }
                        out.push_str(&self.parts[i]);
                        if run > 1 {
                            out.push_str(&format!("*{run}"));
                        }
                        i += run;
                    }
                    out.push('>');
                    out
                }
                other => format!("{other}{{{}}}", self.parts.join(",")),
            })
        }
    }

    macro_rules! leaves {
        ($($method:ident: $ty:ty => $text:literal;)*) => {
            $(fn $method(self, _: $ty) -> Result<String, Error> {
                Ok($text.to_string())
            })*
        };
    }

    impl ser::Serializer for Rec {
        type Ok = String;
        type Error = Error;
        type SerializeSeq = Compound;
        type SerializeTuple = Compound;
        type SerializeTupleStruct = Compound;
        type SerializeTupleVariant = Compound;
        type SerializeMap = Compound;
        type SerializeStruct = Compound;
        type SerializeStructVariant = Compound;

        fn is_human_readable(&self) -> bool {
            self.human
        }

        leaves! {
            serialize_bool: bool => "bool";
            serialize_i8: i8 => "i8";
            serialize_i16: i16 => "i16";
            serialize_i32: i32 => "i32";
            serialize_i64: i64 => "i64";
            serialize_i128: i128 => "i128";
            serialize_u8: u8 => "u8";
            serialize_u16: u16 => "u16";
            serialize_u32: u32 => "u32";
            serialize_u64: u64 => "u64";
            serialize_u128: u128 => "u128";
            serialize_f32: f32 => "f32";
            serialize_f64: f64 => "f64";
            serialize_char: char => "char";
            serialize_str: &str => "str";
            serialize_bytes: &[u8] => "bytes";
            serialize_unit_struct: &'static str => "unit_struct";
        }

        fn serialize_none(self) -> Result<String, Error> {
            Ok("option<?>".to_string())
        }
        fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<String, Error> {
            Ok(format!("option<{}>", value.serialize(self)?))
        }
        fn serialize_unit(self) -> Result<String, Error> {
            Ok("unit".to_string())
        }
        fn serialize_unit_variant(
            self,
            _: &'static str,
            _: u32,
            variant: &'static str,
        ) -> Result<String, Error> {
            Ok(format!("variant {variant}"))
        }
        fn serialize_newtype_struct<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            value: &T,
        ) -> Result<String, Error> {
            Ok(format!("newtype_struct({})", value.serialize(self)?))
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            variant: &'static str,
            value: &T,
        ) -> Result<String, Error> {
            Ok(format!("variant {variant}({})", value.serialize(self)?))
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Compound, Error> {
            Ok(Compound::new(self.human, "seq"))
        }
        fn serialize_tuple(self, _: usize) -> Result<Compound, Error> {
            Ok(Compound::new(self.human, "tuple"))
        }
        fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound, Error> {
            Ok(Compound::new(self.human, "tuple_struct"))
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Compound, Error> {
            Ok(Compound::new(self.human, "tuple_variant"))
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Compound, Error> {
            Ok(Compound::new(self.human, "map"))
        }
        fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound, Error> {
            Ok(Compound::new(self.human, "struct"))
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Compound, Error> {
            Ok(Compound::new(self.human, "struct_variant"))
        }
    }

    impl ser::SerializeSeq for Compound {
        type Ok = String;
        type Error = Error;
        fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
            self.push(v)
        }
        fn end(self) -> Result<String, Error> {
            self.finish()
        }
    }
    impl ser::SerializeTuple for Compound {
        type Ok = String;
        type Error = Error;
        fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
            self.push(v)
        }
        fn end(self) -> Result<String, Error> {
            self.finish()
        }
    }
    impl ser::SerializeTupleStruct for Compound {
        type Ok = String;
        type Error = Error;
        fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
            self.push(v)
        }
        fn end(self) -> Result<String, Error> {
            self.finish()
        }
    }
    impl ser::SerializeTupleVariant for Compound {
        type Ok = String;
        type Error = Error;
        fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
            self.push(v)
        }
        fn end(self) -> Result<String, Error> {
            self.finish()
        }
    }
    impl ser::SerializeMap for Compound {
        type Ok = String;
        type Error = Error;
        fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), Error> {
            self.push(k)
        }
        fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
            self.push(v)
        }
        fn end(self) -> Result<String, Error> {
            self.finish()
        }
    }
    impl ser::SerializeStruct for Compound {
        type Ok = String;
        type Error = Error;
        fn serialize_field<T: Serialize + ?Sized>(
            &mut self,
            name: &'static str,
            v: &T,
        ) -> Result<(), Error> {
            let v = v.serialize(Rec { human: self.human })?;
            self.parts.push(format!("{name}:{v}"));
            Ok(())
        }
        fn end(self) -> Result<String, Error> {
            self.finish()
        }
    }
    impl ser::SerializeStructVariant for Compound {
        type Ok = String;
        type Error = Error;
        fn serialize_field<T: Serialize + ?Sized>(
            &mut self,
            name: &'static str,
            v: &T,
        ) -> Result<(), Error> {
            let v = v.serialize(Rec { human: self.human })?;
            self.parts.push(format!("{name}:{v}"));
            Ok(())
        }
        fn end(self) -> Result<String, Error> {
            self.finish()
        }
    }
}

#[test]
fn recorder_prints_the_canonical_form_of_std_shapes() {
    // The recorder itself agrees with the std impls it is compared against.
    writes_its_shape(&(1u8, 2u8, 3u8, 4u32));
    writes_its_shape(&vec![(1i64, "a".to_string())]);
    writes_its_shape(&std::net::Ipv4Addr::LOCALHOST);
    let mut m = std::collections::BTreeMap::new();
    m.insert("k".to_string(), 1u16);
    writes_its_shape(&m);
}

#[cfg(feature = "chrono04")]
mod chrono04 {
    use super::*;
    use chrono::{
        DateTime, Duration, FixedOffset, Month, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta,
        TimeZone, Utc, Weekday,
    };

    fn sample() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2024, 1, 31)
            .unwrap()
            .and_hms_milli_opt(13, 45, 0, 123)
            .unwrap()
    }

    #[test]
    fn dates_and_times_are_strings() {
        check::<NaiveDate>("str");
        check::<NaiveTime>("str");
        check::<NaiveDateTime>("str");
        check::<DateTime<Utc>>("str");
        check::<DateTime<FixedOffset>>("str");
        check::<Month>("str");
        check::<Weekday>("str");

        let ndt = sample();
        let utc = Utc.from_utc_datetime(&ndt);
        let fixed = FixedOffset::east_opt(3600).unwrap().from_utc_datetime(&ndt);
        assert_eq!(json_kind(&ndt.date()), "string");
        assert_eq!(json_kind(&ndt.time()), "string");
        assert_eq!(json_kind(&ndt), "string");
        assert_eq!(json_kind(&utc), "string");
        assert_eq!(json_kind(&fixed), "string");
        assert_eq!(json_kind(&Month::January), "string");
        assert_eq!(json_kind(&Weekday::Mon), "string");
        writes_its_shape(&ndt.date());
        writes_its_shape(&ndt.time());
        writes_its_shape(&ndt);
        writes_its_shape(&utc);
        writes_its_shape(&fixed);
        writes_its_shape(&Month::January);
        writes_its_shape(&Weekday::Mon);
        assert_eq!(
            serde_json::to_string(&fixed).unwrap(),
            r#""2024-01-31T14:45:00.123+01:00""#
        );
    }

    #[test]
    fn time_delta_is_a_tuple_of_secs_and_nanos() {
        check::<TimeDelta>("tuple<i64,i32>");
        check::<Duration>("tuple<i64,i32>");
        let d = TimeDelta::new(90, 5).unwrap();
        assert_eq!(json_kind(&d), "array");
        assert_eq!(serde_json::to_string(&d).unwrap(), "[90,5]");
        writes_its_shape(&d);
    }
}

#[cfg(feature = "time03")]
mod time03 {
    use super::*;
    use time::{
        Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcDateTime, UtcOffset,
        Weekday,
    };

    fn date() -> Date {
        Date::from_calendar_date(2024, Month::January, 31).unwrap()
    }
    fn time_of_day() -> Time {
        Time::from_hms_nano(13, 45, 0, 5).unwrap()
    }

    #[test]
    fn readable_string_or_compact_tuple() {
        check::<Date>("readable<str,tuple<i32,u16>>");
        check::<Time>("readable<str,tuple<u8*3,u32>>");
        check::<PrimitiveDateTime>("readable<str,tuple<i32,u16,u8*3,u32>>");
        check::<UtcDateTime>("readable<str,tuple<i32,u16,u8*3,u32>>");
        check::<OffsetDateTime>("readable<str,tuple<i32,u16,u8*3,u32,i8*3>>");
        check::<UtcOffset>("readable<str,tuple<i8*3>>");
        check::<Duration>("readable<str,tuple<i64,i32>>");
        check::<Month>("readable<str,u8>");
        check::<Weekday>("readable<str,u8>");

        let pdt = PrimitiveDateTime::new(date(), time_of_day());
        let offset = UtcOffset::from_hms(1, 0, 0).unwrap();
        let odt = pdt.assume_offset(offset);
        let utc = UtcDateTime::new(date(), time_of_day());
        let d = Duration::new(-90, -5);

        // serde_json is human-readable: every one is a string.
        assert_eq!(json_kind(&date()), "string");
        assert_eq!(json_kind(&time_of_day()), "string");
        assert_eq!(json_kind(&pdt), "string");
        assert_eq!(json_kind(&utc), "string");
        assert_eq!(json_kind(&odt), "string");
        assert_eq!(json_kind(&offset), "string");
        assert_eq!(json_kind(&d), "string");
        assert_eq!(json_kind(&Month::March), "string");
        assert_eq!(json_kind(&Weekday::Friday), "string");

        // Both branches, against the recorder.
        writes_its_shape(&date());
        writes_its_shape(&time_of_day());
        writes_its_shape(&pdt);
        writes_its_shape(&utc);
        writes_its_shape(&odt);
        writes_its_shape(&offset);
        writes_its_shape(&d);
        writes_its_shape(&Month::March);
        writes_its_shape(&Weekday::Friday);
    }
}

#[cfg(feature = "uuid1")]
mod uuid1 {
    use super::*;
    use uuid::fmt::{Braced, Hyphenated, Simple, Urn};
    use uuid::{NonNilUuid, Uuid};

    const U: Uuid = Uuid::from_u128(0x67e5_5044_10b1_426f_9247_bb68_0e5f_e0c8);

    #[test]
    fn uuid_is_a_readable_string_or_bytes() {
        check::<Uuid>("readable<str,bytes>");
        check::<NonNilUuid>("readable<str,bytes>");
        assert_eq!(
            <NonNilUuid as CacheVersion>::VERSION,
            <Uuid as CacheVersion>::VERSION
        );
        assert_eq!(json_kind(&U), "string");
        writes_its_shape(&U);
        let nn = NonNilUuid::new(U).unwrap();
        assert_eq!(json_kind(&nn), "string");
        writes_its_shape(&nn);
    }

    #[test]
    fn formatting_adapters_are_strings() {
        check::<Hyphenated>("str");
        check::<Simple>("str");
        check::<Urn>("str");
        check::<Braced>("str");
        for (kind, compact) in [
            (
                json_kind(&U.hyphenated()),
                rec::record(&U.hyphenated(), false),
            ),
            (json_kind(&U.simple()), rec::record(&U.simple(), false)),
            (json_kind(&U.urn()), rec::record(&U.urn(), false)),
            (json_kind(&U.braced()), rec::record(&U.braced(), false)),
        ] {
            assert_eq!(kind, "string");
            assert_eq!(compact, "str");
        }
        writes_its_shape(&U.hyphenated());
        writes_its_shape(&U.braced());
    }
}

#[cfg(feature = "serde_json1")]
mod serde_json1 {
    use super::*;
    use serde_json::{json, Map, Number, Value};

    const VALUE: &str = "enum untagged{Null,Bool(bool),Number(opaque(\"serde_json::Number\")),\
                         String(str),Array(seq<self>),Object(map<str,self>)}";

    #[test]
    fn value_is_the_untagged_any_json_enum() {
        check::<Value>(VALUE);
        check::<Number>("opaque(\"serde_json::Number\")");
        check::<Map<String, Value>>(&format!(
            "map<str,Value@{}>",
            <Value as CacheVersion>::VERSION
        ));

        // Each variant writes exactly its content, as an untagged enum does.
        for (v, kind, recorded) in [
            (json!(null), "null", "unit"),
            (json!(true), "bool", "bool"),
            (json!("s"), "string", "str"),
            (json!([true]), "array", "seq<bool>"),
            (json!({"k": "v"}), "object", "map<str,str>"),
        ] {
            assert_eq!(json_kind(&v), kind);
            assert_eq!(rec::record(&v, true), recorded);
        }
        assert_eq!(json_kind(&json!(1)), "number");
        let mut map = Map::new();
        map.insert("k".into(), json!(1.5));
        assert_eq!(json_kind(&map), "object");
        assert_eq!(rec::record(&map, true), "map<str,f64>");
    }

    #[test]
    fn number_writes_a_primitive_by_default() {
        // Without serde_json's `arbitrary_precision` (not on in this build); with it, a
        // one-field struct: that is why the shape is opaque.
        assert_eq!(rec::record(&Number::from(5u8), true), "u64");
        assert_eq!(rec::record(&Number::from(-5i8), true), "i64");
        assert_eq!(rec::record(&Number::from_f64(0.5).unwrap(), false), "f64");
    }
}

#[cfg(feature = "rust_decimal1")]
mod rust_decimal1 {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn decimal_is_a_string() {
        check::<Decimal>("str");
        let d = Decimal::new(150, 2);
        assert_eq!(serde_json::to_string(&d).unwrap(), r#""1.50""#);
        assert_eq!(json_kind(&d), "string");
        writes_its_shape(&d);
    }
}

#[cfg(feature = "url2")]
mod url2 {
    use super::*;
    use url::{Host, Url};

    #[test]
    fn url_is_a_string() {
        check::<Url>("str");
        let u = Url::parse("https://example.invalid/a?b=c").unwrap();
        assert_eq!(json_kind(&u), "string");
        writes_its_shape(&u);
    }

    #[test]
    fn host_is_an_externally_tagged_enum() {
        let host = "enum{Domain(str),Ipv4(readable<str,tuple<u8*4>>),\
                    Ipv6(readable<str,tuple<u8*16>>)}";
        check::<Host>(host);
        check::<Host<&str>>(host);
        let domain: Host = Host::Domain("example.invalid".into());
        assert_eq!(json_kind(&domain), "object");
        assert_eq!(rec::record(&domain, true), "variant Domain(str)");
        let v4: Host = Host::Ipv4(std::net::Ipv4Addr::LOCALHOST);
        assert_eq!(rec::record(&v4, false), "variant Ipv4(tuple<u8*4>)");
        let v6: Host = Host::Ipv6(std::net::Ipv6Addr::LOCALHOST);
        assert_eq!(rec::record(&v6, true), "variant Ipv6(str)");
    }
}

#[cfg(feature = "bytes1")]
mod bytes1 {
    use super::*;
    use bytes::{Bytes, BytesMut};

    #[test]
    fn bytes_are_serde_bytes() {
        check::<Bytes>("bytes");
        check::<BytesMut>("bytes");
        let b = Bytes::from_static(b"abc");
        let m = BytesMut::from(&b"abc"[..]);
        // serde_json writes `serialize_bytes` as an array of numbers.
        assert_eq!(json_kind(&b), "array");
        assert_eq!(json_kind(&m), "array");
        writes_its_shape(&b);
        writes_its_shape(&m);
    }
}

#[cfg(feature = "indexmap2")]
mod indexmap2 {
    use super::*;
    use indexmap::{map, set, IndexMap, IndexSet};
    use std::hash::{BuildHasherDefault, DefaultHasher, RandomState};

    /// Any hasher: the shape does not depend on it.
    type Other = BuildHasherDefault<DefaultHasher>;

    #[test]
    fn index_map_is_a_map_and_index_set_a_seq() {
        check::<IndexMap<String, u32, Other>>("map<str,u32>");
        check::<IndexMap<String, u32, RandomState>>("map<str,u32>");
        assert_eq!(
            <IndexMap<String, u32, RandomState> as CacheVersion>::VERSION,
            <std::collections::HashMap<String, u32> as CacheVersion>::VERSION
        );
        check::<IndexSet<u8, RandomState>>("seq<u8>");
        check::<IndexSet<u8, Other>>("seq<u8>");
        check::<map::Slice<String, u32>>("seq<tuple<str,u32>>");
        check::<set::Slice<u8>>("seq<u8>");

        let mut m: IndexMap<String, u32, RandomState> = IndexMap::with_hasher(RandomState::new());
        m.insert("a".into(), 1);
        let mut s: IndexSet<u8, RandomState> = IndexSet::with_hasher(RandomState::new());
        s.insert(7);
        assert_eq!(json_kind(&m), "object");
        assert_eq!(json_kind(&s), "array");
        assert_eq!(json_kind(m.as_slice()), "array");
        assert_eq!(json_kind(s.as_slice()), "array");
        writes_its_shape(&m);
        writes_its_shape(&s);
        writes_its_shape(m.as_slice());
        writes_its_shape(s.as_slice());
    }
}

#[cfg(feature = "smallvec1")]
mod smallvec1 {
    use super::*;
    use smallvec::SmallVec;

    #[test]
    fn small_vec_is_a_seq_of_its_items() {
        check::<SmallVec<[u32; 4]>>("seq<u32>");
        check::<SmallVec<[String; 1]>>("seq<str>");
        assert_eq!(
            <SmallVec<[u32; 4]> as CacheVersion>::VERSION,
            <Vec<u32> as CacheVersion>::VERSION
        );
        let v: SmallVec<[u32; 4]> = SmallVec::from_vec(vec![1, 2, 3, 4, 5]);
        assert_eq!(json_kind(&v), "array");
        writes_its_shape(&v);
    }
}

/// Models that hold the feature crates' types compile through the derive's hinted bound (the
/// one whose error names the feature) and have those types' shapes.
#[cfg(all(
    feature = "derive",
    feature = "chrono04",
    feature = "uuid1",
    feature = "serde_json1",
    feature = "indexmap2"
))]
mod hinted_fields {
    use cache_version_core::CacheVersion;

    #[derive(serde::Serialize, CacheVersion)]
    struct Session {
        id: uuid::Uuid,
        previous: Option<uuid::Uuid>,
        at: chrono::DateTime<chrono::Utc>,
        extra: serde_json::Value,
        tags: indexmap::IndexMap<String, u8, std::collections::hash_map::RandomState>,
    }

    #[test]
    fn fields_of_feature_types_have_their_shapes() {
        let fields = match Session::SHAPE.as_named().unwrap().body {
            cache_version_core::Body::Struct { fields, .. } => fields,
            _ => unreachable!(),
        };
        assert_eq!(fields[0].ty.version, <uuid::Uuid as CacheVersion>::VERSION);
        assert_eq!(
            fields[1].ty.version,
            <Option<uuid::Uuid> as CacheVersion>::VERSION
        );
        assert_eq!(
            fields[2].ty.version,
            <chrono::DateTime<chrono::Utc> as CacheVersion>::VERSION
        );
        assert_eq!(
            fields[3].ty.version,
            <serde_json::Value as CacheVersion>::VERSION
        );
        assert_eq!(
            fields[4].ty.version,
            <indexmap::IndexMap<String, u8, std::collections::hash_map::RandomState> as CacheVersion>::VERSION
        );
    }
}
