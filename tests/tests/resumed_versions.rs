//! The derive hashes the start of a version at native speed when the leading fields are std
//! types it knows (`u64`, `String`, `Vec<String>`, …) and const evaluation resumes from there.
//! Whatever the field types really are, `VERSION` must equal `Version::of(SHAPE)`, which hashes
//! the children's real versions.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, VecDeque};

use cache_version_core::{CacheVersion, Version};

fn check<T: CacheVersion>() {
    assert_eq!(
        T::VERSION,
        Version::of(T::SHAPE),
        "{}",
        std::any::type_name::<T>()
    );
}

macro_rules! one_each {
    ($($name:ident: $t:ty;)*) => {
        $(
            #[derive(serde::Serialize, CacheVersion)]
            struct $name {
                a: $t,
                rest: Tail,
            }
        )*
        #[test]
        fn every_known_std_type_in_front() {
            $(check::<$name>();)*
        }
    };
}

#[derive(serde::Serialize, CacheVersion)]
struct Tail {
    x: u8,
}

one_each! {
    Bool: bool;
    I8: i8;
    I16: i16;
    I32: i32;
    I64: i64;
    Isize: isize;
    I128: i128;
    U8: u8;
    U16: u16;
    U32: u32;
    U64: u64;
    Usize: usize;
    U128: u128;
    F32: f32;
    F64: f64;
    Char: char;
    Str: String;
    Boxed: Box<String>;
    Opt: Option<u64>;
    Seq: Vec<String>;
    Deque: VecDeque<u8>;
    Map: HashMap<String, i64>;
    Ordered: BTreeMap<u32, Vec<Option<f64>>>;
    Nested: Option<Box<Vec<HashMap<String, bool>>>>;
}

/// Three known fields fill two blocks with the template; the rest is hashed in const.
#[derive(serde::Serialize, CacheVersion)]
#[serde(rename_all = "camelCase")]
struct Long {
    id: u64,
    name: String,
    tags: Vec<String>,
    score: f64,
    created_at: u64,
    tail: Tail,
    maybe: Option<Box<Tail>>,
}

/// Only known fields: the last one is left for const evaluation.
#[derive(serde::Serialize, CacheVersion)]
struct AllKnown {
    a: u8,
    b: u16,
    c: u32,
    d: u64,
}

#[derive(serde::Serialize, CacheVersion)]
#[serde(tag = "kind")]
enum Tagged {
    A { at: u64, by: String },
    B(Tail),
    C,
}

#[derive(serde::Serialize, CacheVersion)]
struct Generic<T> {
    id: u64,
    name: String,
    item: T,
}

#[test]
fn longer_prefixes_enums_and_generics() {
    check::<Long>();
    check::<AllKnown>();
    check::<Tagged>();
    check::<Generic<u8>>();
    check::<Generic<Tail>>();
}

/// Names that look like std types but are not: the compiler tells the derive, and the
/// version is hashed in full.
mod shadowed {
    use super::{check, Tail};
    use cache_version_core::CacheVersion;

    #[derive(serde::Serialize, CacheVersion)]
    pub struct String {
        inner: u8,
    }

    #[allow(non_camel_case_types)]
    type u64 = i32;

    #[derive(serde::Serialize, CacheVersion)]
    pub struct Vec<T>(T, T);

    #[derive(serde::Serialize, CacheVersion)]
    struct UsesThem {
        a: String,
        b: u64,
        c: Vec<u8>,
        d: Tail,
    }

    #[derive(serde::Serialize, CacheVersion)]
    struct Aliased {
        b: u64,
        d: Tail,
    }

    /// `Vec` here is the user's two-field tuple struct and `Tail` a recorded model: the
    /// derive's full version (and the field's, a sequence of `Tail`) is wrong and the
    /// compiler must refuse it, field by field.
    #[derive(serde::Serialize, CacheVersion)]
    struct WrapsTail {
        v: Vec<Tail>,
        o: Option<Box<Vec<Tail>>>,
    }

    #[test]
    fn a_shadowed_wrapper_around_a_recorded_model() {
        check::<WrapsTail>();
        cache_version_core::canonical::verify(<WrapsTail as CacheVersion>::SHAPE).unwrap();
        // The user's `Vec<Tail>`, a named type, not a sequence.
        let v = <Vec<Tail> as CacheVersion>::VERSION;
        assert_eq!(
            <WrapsTail as CacheVersion>::SHAPE.to_string(),
            format!("struct{{v:Vec@{v},o:option<Vec@{v}>}}")
        );
    }

    #[test]
    fn user_types_with_std_names() {
        check::<UsesThem>();
        check::<Aliased>();
        // The shadowing type really is different: the version must show it.
        #[derive(serde::Serialize, CacheVersion)]
        struct Real {
            b: i32,
            d: Tail,
        }
        assert_eq!(
            <Aliased as CacheVersion>::VERSION,
            <Real as CacheVersion>::VERSION
        );
    }
}

/// Versions the derive computes in full from the versions earlier derives recorded for the
/// named types among the fields (`Leaf` before `Holder`, `Holder` before `Outer`): what they
/// claim must be what the shapes hash to, child by child (`verify`), not only as a whole.
mod recorded {
    use super::*;
    use cache_version_core::canonical::verify;

    #[derive(serde::Serialize, CacheVersion)]
    pub struct Leaf {
        id: u64,
        name: String,
    }

    #[derive(serde::Serialize, CacheVersion)]
    #[serde(tag = "kind")]
    pub enum State {
        Active { since: u64 },
        Gone { reason: Option<String> },
    }

    #[derive(serde::Serialize, CacheVersion)]
    pub struct Holder {
        leaf: Leaf,
        boxed: Option<Box<Leaf>>,
        many: Vec<Leaf>,
        queue: VecDeque<Option<Leaf>>,
        by_name: HashMap<String, Leaf>,
        ordered: BTreeMap<u32, Vec<Leaf>>,
        state: State,
    }

    #[derive(serde::Serialize, CacheVersion)]
    pub struct Outer(
        Vec<Holder>,
        Holder,
        #[serde(skip_serializing_if = "Option::is_none")] Option<Box<Holder>>,
    );

    /// A type named like a derived one, with another shape: a field written `Item` here is
    /// this one, whatever an earlier derive of an `Item` recorded.
    pub mod elsewhere {
        pub type Item = String;
    }

    pub mod first {
        #[derive(serde::Serialize, cache_version_core::CacheVersion)]
        pub struct Item {
            x: u8,
        }
    }

    mod second {
        use super::elsewhere::Item;
        use super::*;

        #[derive(serde::Serialize, CacheVersion)]
        pub struct UsesItem {
            items: Vec<Item>,
            one: Item,
        }

        #[test]
        fn a_recorded_version_of_another_type_is_not_used() {
            check::<UsesItem>();
            verify(<UsesItem as CacheVersion>::SHAPE).unwrap();
            assert_eq!(
                <UsesItem as CacheVersion>::SHAPE.to_string(),
                "struct{items:seq<str>,one:str}"
            );
        }
    }

    #[test]
    fn versions_computed_from_recorded_ones_are_the_shapes_versions() {
        check::<Leaf>();
        check::<State>();
        check::<Holder>();
        check::<Outer>();
        for shape in [
            <Holder as CacheVersion>::SHAPE,
            <Outer as CacheVersion>::SHAPE,
        ] {
            verify(shape).unwrap();
            assert_eq!(
                cache_version_core::canonical::recompute(&shape.to_string()).unwrap(),
                Version::of(shape),
                "{shape}"
            );
        }
    }
}
