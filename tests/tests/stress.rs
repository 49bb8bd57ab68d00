//! Compile-only stress file of awkward types, in the spirit of serde's test_gen.rs: the
//! generated code must work for all of them and stay warning-free under `deny(warnings)`.
#![deny(warnings)]
#![allow(dead_code)]
// Awkward on purpose: the types exist to stress the derive, not to be idiomatic.
#![allow(clippy::vec_box, clippy::box_collection, clippy::type_complexity)]

use cache_version_core::{CacheVersion, Version};
use serde::{Deserialize, Serialize};

/// The caller shadows the prelude: generated code must not depend on these names.
mod shadowed {
    #![allow(non_camel_case_types)]
    use super::*;

    pub struct Option;
    pub struct Some;
    pub struct None;
    pub struct Result;
    pub struct Ok;
    pub struct Err;
    pub struct Box;
    pub struct Vec;
    pub struct String;
    pub struct Ty;
    pub struct Shape;
    pub struct Field;
    pub struct Version;
    pub struct _cv;
    pub trait CacheVersionX {}

    #[derive(Serialize, CacheVersion)]
    pub struct Plain {
        pub a: std::option::Option<std::string::String>,
        pub b: std::vec::Vec<std::boxed::Box<u8>>,
    }

    #[derive(Serialize, CacheVersion)]
    #[serde(tag = "t")]
    pub enum Tagged {
        A { x: u8 },
        B,
    }

    #[derive(Serialize, CacheVersion)]
    pub struct Generic<T> {
        pub t: std::option::Option<T>,
    }
}

/// Lifetimes, const generics, defaults and where clauses.
#[derive(Serialize, CacheVersion)]
pub struct Borrowing<'a, 'b: 'a, T: 'a + ?Sized, const N: usize = 3>
where
    T: std::fmt::Debug + Serialize,
{
    pub s: &'a str,
    pub bytes: &'b [u8],
    pub t: &'a T,
    pub marker: std::marker::PhantomData<[u8; N]>,
}

/// Associated types reach the bound as `T::Item: CacheVersion`.
#[derive(Serialize, CacheVersion)]
pub struct Assoc<T: Iterator>
where
    T::Item: Serialize,
{
    pub first: std::option::Option<T::Item>,
    #[serde(skip)]
    pub iter: std::option::Option<T>,
}

/// A type parameter only in PhantomData or skipped fields gets no bound.
pub struct NoImpl;

#[derive(Serialize, CacheVersion)]
pub struct Phantom<T> {
    pub id: u64,
    pub _t: std::marker::PhantomData<T>,
    #[serde(skip)]
    pub cache: std::option::Option<std::boxed::Box<T>>,
}
const _: Version = <Phantom<NoImpl> as CacheVersion>::VERSION;

/// Raw identifiers.
#[derive(Serialize, CacheVersion)]
pub struct r#Raw {
    pub r#type: u8,
    pub r#match: std::string::String,
}

/// Types named through paths and aliases.
pub type Alias = std::collections::BTreeMap<std::string::String, u8>;
pub mod nested {
    pub type Id = u64;
}
#[derive(Serialize, CacheVersion)]
pub struct Paths {
    pub a: Alias,
    pub b: self::nested::Id,
    pub c: crate::nested::Id,
    pub d: ::std::primitive::u32,
    pub e: <u8 as std::ops::Add>::Output,
}

/// A user-supplied bound replaces inference.
#[derive(Serialize, CacheVersion)]
#[cache_version(bound = "T: CacheVersion + Clone")]
#[serde(bound = "T: Serialize + Clone")]
pub struct Bounded<T> {
    pub items: std::vec::Vec<T>,
}

/// A field bound adds to (and replaces inference for) that field.
#[derive(Serialize, CacheVersion)]
pub struct FieldBound<T, U> {
    #[cache_version(bound = "T: CacheVersion")]
    pub t: T,
    pub u: U,
}

/// `crate = "..."` when the core crate is reached through a facade.
pub mod facade {
    pub use cache_version_core as cv;
}
#[derive(Serialize, CacheVersion)]
#[cache_version(crate = "crate::facade::cv")]
pub struct ThroughFacade {
    pub x: u8,
}

/// Self-recursion through several wrappers and generics.
#[derive(Serialize, Deserialize, CacheVersion)]
pub struct Graph<'a, T> {
    pub value: T,
    pub children: std::vec::Vec<Graph<'a, T>>,
    pub parent: std::option::Option<std::boxed::Box<Self>>,
    pub by_name: std::collections::HashMap<std::string::String, std::vec::Vec<(u8, Graph<'a, T>)>>,
    pub name: std::borrow::Cow<'a, str>,
}

/// Enums of every variant kind, with generics.
#[derive(Serialize, CacheVersion)]
pub enum Kinds<'a, A, B> {
    Unit,
    Newtype(A),
    Tuple(A, B, &'a str),
    Struct {
        a: A,
        b: std::option::Option<B>,
    },
    Empty {},
    EmptyTuple(),
    #[serde(skip)]
    Skipped(NoImplAlways),
}
pub struct NoImplAlways;

/// Empty and unusual containers.
#[derive(Serialize, CacheVersion)]
pub struct EmptyBraces {}
#[derive(Serialize, CacheVersion)]
pub struct EmptyTuple();
#[derive(Serialize, CacheVersion)]
pub enum Never {}
/// Only `CacheVersion` (serde has no impl for arrays over 32): large arrays stay cheap.
#[derive(CacheVersion)]
pub struct Big {
    pub huge: [u64; 4096],
    pub nested: [[u8; 32]; 32],
}

/// Opaque and stated shapes for types without an impl.
pub struct Foreign(u8);
impl Serialize for Foreign {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_u8(self.0)
    }
}
#[derive(Serialize, CacheVersion)]
pub struct Wrapping {
    #[cache_version(opaque)]
    pub a: Foreign,
    #[cache_version(as = "u8")]
    pub b: Foreign,
}

/// Names serde writes that need quoting in the canonical form.
#[derive(Serialize, CacheVersion)]
pub struct Quoted {
    #[serde(rename = "with space")]
    pub a: u8,
    #[serde(rename = "quote\"and\\slash")]
    pub b: u8,
    #[serde(rename = "1starts_with_digit")]
    pub c: u8,
    #[serde(rename = "ünïcödé")]
    pub d: u8,
    #[serde(rename = "")]
    pub e: u8,
    #[serde(rename = "tab\there")]
    pub f: u8,
}

/// `remote`: the mirror describes the remote type; fields using it state it with `as`.
pub mod other {
    pub struct Span {
        pub start: u64,
        pub len: u32,
    }
}
#[derive(Serialize, Deserialize, CacheVersion)]
#[serde(remote = "other::Span")]
pub struct SpanDef {
    pub start: u64,
    pub len: u32,
}
#[derive(Serialize, Deserialize, CacheVersion)]
pub struct UsesRemote<'a> {
    #[serde(with = "SpanDef")]
    #[cache_version(as = "SpanDef")]
    pub span: other::Span,
    #[serde(borrow)]
    pub name: std::borrow::Cow<'a, str>,
}

#[test]
fn stress_types_have_versions() {
    use cache_version_core::canonical::{recompute, verify};
    let shapes = [
        <shadowed::Plain as CacheVersion>::SHAPE,
        <shadowed::Tagged as CacheVersion>::SHAPE,
        <shadowed::Generic<u8> as CacheVersion>::SHAPE,
        <Borrowing<'static, 'static, u8> as CacheVersion>::SHAPE,
        <Assoc<std::vec::IntoIter<u16>> as CacheVersion>::SHAPE,
        <Phantom<NoImpl> as CacheVersion>::SHAPE,
        <Raw as CacheVersion>::SHAPE,
        <Paths as CacheVersion>::SHAPE,
        <Bounded<u8> as CacheVersion>::SHAPE,
        <FieldBound<u8, u16> as CacheVersion>::SHAPE,
        <ThroughFacade as CacheVersion>::SHAPE,
        <Graph<'static, u8> as CacheVersion>::SHAPE,
        <Kinds<'static, u8, u16> as CacheVersion>::SHAPE,
        <EmptyBraces as CacheVersion>::SHAPE,
        <EmptyTuple as CacheVersion>::SHAPE,
        <Never as CacheVersion>::SHAPE,
        <Big as CacheVersion>::SHAPE,
        <Wrapping as CacheVersion>::SHAPE,
        <Quoted as CacheVersion>::SHAPE,
        <UsesRemote<'static> as CacheVersion>::SHAPE,
    ];
    for shape in shapes {
        verify(shape).unwrap();
        assert_eq!(
            recompute(&shape.to_string()).unwrap(),
            Version::of(shape),
            "{shape}"
        );
    }
    assert_eq!(
        <Raw as CacheVersion>::SHAPE.to_string(),
        "struct{type:u8,match:str}"
    );
    assert_eq!(
        <Paths as CacheVersion>::SHAPE.to_string(),
        "struct{a:map<str,u8>,b:u64,c:u64,d:u32,e:u8}"
    );
    assert_eq!(
        <Kinds<'static, u8, u16> as CacheVersion>::SHAPE.to_string(),
        "enum{Unit,Newtype(u8),Tuple(u8,u16,str),Struct{a:u8,b:option<u16>},Empty{},EmptyTuple()}"
    );
    assert_eq!(
        <Wrapping as CacheVersion>::SHAPE.to_string(),
        "struct{a:opaque(\"Foreign\"),b:u8}"
    );
    assert_eq!(
        <Quoted as CacheVersion>::SHAPE.to_string(),
        "struct{\"with space\":u8,\"quote\\\"and\\\\slash\":u8,\"1starts_with_digit\":u8,\"ünïcödé\":u8,\"\":u8,\"tab\\u0009here\":u8}"
    );
    assert_eq!(
        <Graph<'static, u8> as CacheVersion>::SHAPE.to_string(),
        "struct{value:u8,children:seq<self>,parent:option<self>,by_name:map<str,seq<tuple<u8,self>>>,name:str}"
    );
    assert!(<UsesRemote<'static> as CacheVersion>::SHAPE
        .to_string()
        .starts_with("struct{span:SpanDef@"));
    assert_eq!(
        <SpanDef as CacheVersion>::SHAPE.to_string(),
        "struct{start:u64,len:u32}"
    );
    assert_eq!(
        <Big as CacheVersion>::SHAPE.to_string(),
        "struct{huge:tuple<u64*4096>,nested:tuple<tuple<u8*32>*32>}"
    );
}
