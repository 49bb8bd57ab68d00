//! Issue 18's cases: self-recursion however it is written, `[T; 0]`, bounds honouring
//! `#[serde(bound)]` and never inferred from `PhantomData`, remote definitions behind `with`.
//! (`#[deny(deprecated)]` is in `tests/deprecated.rs`; the errors are UI tests.)
#![allow(dead_code, clippy::vec_box, clippy::box_collection)]

use std::collections::BTreeMap;
use std::marker::PhantomData;

use cache_version_core::{CacheVersion, Version};
use serde::Serialize;

type StdOption<T> = ::std::option::Option<T>;
type StdBox<T> = ::std::boxed::Box<T>;
type StdVec<T> = ::std::vec::Vec<T>;
type Children<T> = Vec<T>;

/// The same node written plainly, the reference for the others.
#[derive(Serialize, CacheVersion)]
struct Plain {
    id: u8,
    next: Option<Box<Plain>>,
    children: Vec<Plain>,
}

#[derive(Serialize, CacheVersion)]
struct Aliased {
    id: u8,
    next: StdOption<StdBox<Aliased>>,
    children: StdVec<Aliased>,
}

#[derive(Serialize, CacheVersion)]
struct FullPaths {
    id: u8,
    next: ::std::option::Option<::std::boxed::Box<Self>>,
    children: ::std::vec::Vec<FullPaths>,
}

#[derive(Serialize, CacheVersion)]
struct QualifiedSelf {
    id: u8,
    next: Option<Box<crate::QualifiedSelf>>,
    children: Children<self::QualifiedSelf>,
}

#[test]
fn self_recursion_through_aliases_and_full_paths() {
    let expected = "struct{id:u8,next:option<self>,children:seq<self>}";
    assert_eq!(Plain::SHAPE.to_string(), expected);
    assert_eq!(Aliased::SHAPE.to_string(), expected);
    assert_eq!(FullPaths::SHAPE.to_string(), expected);
    assert_eq!(QualifiedSelf::SHAPE.to_string(), expected);
    assert_eq!(Aliased::VERSION, Plain::VERSION);
    assert_eq!(FullPaths::VERSION, Plain::VERSION);
    assert_eq!(QualifiedSelf::VERSION, Plain::VERSION);
}

#[derive(Serialize, CacheVersion)]
enum Everything<T> {
    A(T),
    B(StdOption<StdBox<Everything<T>>>),
}

#[derive(Serialize, CacheVersion)]
struct Nested {
    tree: BTreeMap<u64, StdOption<StdBox<Nested>>>,
}

#[test]
fn self_recursion_inside_generic_types_and_maps() {
    assert_eq!(
        Everything::<u8>::SHAPE.to_string(),
        "enum{A(u8),B(option<self>)}"
    );
    assert_eq!(
        Nested::SHAPE.to_string(),
        "struct{tree:map<u64,option<self>>}"
    );
}

trait Trait {
    type Assoc;
}

#[derive(Serialize, CacheVersion)]
struct Projected {
    f1: Box<Self>,
    f2: Box<<Self as Trait>::Assoc>,
    other: Option<<Self as Other>::Assoc>,
}

impl Trait for Projected {
    type Assoc = Self;
}

trait Other {
    type Assoc;
}

impl Other for Projected {
    type Assoc = String;
}

#[derive(Serialize, CacheVersion)]
struct ProjectedTuple(Box<Self>, Box<<Self as Trait>::Assoc>);

impl Trait for ProjectedTuple {
    type Assoc = Self;
}

#[test]
fn projections_equal_to_self_are_back_references_and_others_keep_their_shape() {
    assert_eq!(
        Projected::SHAPE.to_string(),
        "struct{f1:self,f2:self,other:option<str>}"
    );
    assert_eq!(ProjectedTuple::SHAPE.to_string(), "tuple_struct(self,self)");
}

/// A qualified path that names another type with the same name is that type, not `self`.
mod other {
    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct Holder {
        pub x: u32,
    }
}

#[derive(Serialize, CacheVersion)]
struct Holder {
    inner: other::Holder,
}

#[test]
fn a_qualified_path_to_another_type_of_the_same_name_is_not_self() {
    let shape = Holder::SHAPE.to_string();
    assert!(shape.starts_with("struct{inner:Holder@"), "{shape}");
    assert_ne!(Holder::VERSION, other::Holder::VERSION);
}

/// No impl at all: an empty array of it needs none.
struct NoImpl;

#[derive(Serialize, CacheVersion)]
struct Empty<T> {
    none: [NoImpl; 0],
    generic: [T; 0],
    nested: Option<[NoImpl; 0]>,
}

impl Serialize for NoImpl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit()
    }
}

#[test]
fn zero_length_arrays_need_no_impl_and_no_bound() {
    assert_eq!(
        Empty::<NoImpl>::SHAPE.to_string(),
        "struct{none:tuple<>,generic:tuple<>,nested:option<tuple<>>}"
    );
    assert_eq!(
        <[String; 0] as CacheVersion>::VERSION,
        <[u8; 0] as CacheVersion>::VERSION
    );
    assert_eq!(
        serde_json::to_string(&Empty::<NoImpl> {
            none: [],
            generic: [],
            nested: None
        })
        .unwrap(),
        r#"{"none":[],"generic":[],"nested":null}"#
    );
}

type Marker<T> = PhantomData<T>;

#[derive(Serialize, CacheVersion)]
#[serde(bound = "")]
struct Wrapper<T> {
    id: u64,
    marker: Marker<T>,
}

#[derive(Serialize, CacheVersion)]
struct Spelled<T> {
    a: ::core::marker::PhantomData<T>,
    b: std::marker::PhantomData<T>,
}

#[derive(Serialize, CacheVersion)]
#[serde(bound(serialize = "T: Serialize"))]
struct Partly<T, U> {
    t: T,
    marker: Marker<U>,
}

#[test]
fn serde_bounds_are_honoured_and_phantom_data_never_bounds() {
    // `NoImpl` has no CacheVersion impl: these compile only without `T: CacheVersion`.
    const _: Version = <Wrapper<NoImpl> as CacheVersion>::VERSION;
    const _: Version = <Spelled<NoImpl> as CacheVersion>::VERSION;
    const _: Version = <Partly<u8, NoImpl> as CacheVersion>::VERSION;
    let shape = Wrapper::<NoImpl>::SHAPE.to_string();
    assert!(
        shape.starts_with("struct{id:u64,marker:PhantomData@"),
        "{shape}"
    );
    assert_eq!(
        Partly::<u8, NoImpl>::SHAPE.to_string(),
        Partly::<u8, u8>::SHAPE.to_string()
    );
}

/// A foreign type and its `#[serde(remote)]` definition, which derives CacheVersion too.
mod foreign {
    pub struct Span {
        pub start: u32,
        pub end: u32,
    }
}

mod remote_v1 {
    use super::foreign;

    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    #[serde(remote = "foreign::Span")]
    pub struct SpanDef {
        pub start: u32,
        pub end: u32,
    }

    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct Token {
        #[serde(with = "SpanDef")]
        pub span: foreign::Span,
        #[serde(serialize_with = "SpanDef::serialize")]
        pub again: foreign::Span,
    }
}

mod remote_v2 {
    use super::foreign;

    /// `end` renamed: what serde writes for `Token.span` changes.
    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    #[serde(remote = "foreign::Span")]
    pub struct SpanDef {
        pub start: u32,
        #[serde(rename = "stop")]
        pub end: u32,
    }

    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct Token {
        #[serde(with = "SpanDef")]
        pub span: foreign::Span,
        #[serde(serialize_with = "SpanDef::serialize")]
        pub again: foreign::Span,
    }
}

/// A helper that is no type with an impl stays opaque.
mod as_string {
    pub fn serialize<S: serde::Serializer>(v: &u32, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }
}

struct Hex;
impl Hex {
    fn serialize<S: serde::Serializer>(v: &u32, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{v:x}"))
    }
}

#[derive(Serialize, CacheVersion)]
struct Helpers {
    #[serde(with = "as_string")]
    a: u32,
    #[serde(serialize_with = "Hex::serialize")]
    b: u32,
}

#[test]
fn a_remote_definition_behind_with_gives_the_field_its_shape() {
    let shape = remote_v1::Token::SHAPE.to_string();
    assert!(shape.starts_with("struct{span:SpanDef@"), "{shape}");
    let def = remote_v1::SpanDef::SHAPE.to_string();
    assert_eq!(def, "struct{start:u32,end:u32}");
    assert_eq!(
        remote_v2::SpanDef::SHAPE.to_string(),
        "struct{start:u32,stop:u32}"
    );
    assert_ne!(
        remote_v1::Token::VERSION,
        remote_v2::Token::VERSION,
        "renaming a field of the remote definition changes the model's version"
    );
    // And it is what serde writes.
    let t = remote_v2::Token {
        span: foreign::Span { start: 1, end: 2 },
        again: foreign::Span { start: 3, end: 4 },
    };
    assert_eq!(
        serde_json::to_string(&t).unwrap(),
        r#"{"span":{"start":1,"stop":2},"again":{"start":3,"stop":4}}"#
    );
}

#[test]
fn other_with_paths_stay_opaque() {
    assert_eq!(
        Helpers::SHAPE.to_string(),
        r#"struct{a:opaque("as_string::serialize"),b:opaque("Hex::serialize")}"#
    );
}

#[derive(Serialize, CacheVersion)]
#[serde(transparent)]
struct Transparent(#[serde(with = "remote_v1::SpanDef")] foreign::Span);

#[test]
fn a_transparent_type_over_a_remote_definition_has_its_shape() {
    assert_eq!(Transparent::VERSION, remote_v1::SpanDef::VERSION);
}
