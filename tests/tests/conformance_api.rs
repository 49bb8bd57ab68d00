//! The public conformance check (`cache_version_core::conformance`, issue 19): it catches a
//! hand-written `Serialize` whose derived shape is wrong, passes once the container-level
//! `as` states what is written, and counts the opaque leaves it could not look into.

use cache_version_core::conformance::{self, Mismatch};
use cache_version_core::{CacheVersion, Shape};
use serde::{Serialize, Serializer};

/// The shape derived from the Rust type: an enum. What serde writes: a string.
mod wrong {
    #[derive(cache_version_core::CacheVersion)]
    pub enum Method {
        Get,
        Post,
    }
}

/// The same type with the written shape stated on it.
mod stated {
    #[derive(cache_version_core::CacheVersion)]
    #[cache_version(as = "String")]
    pub enum Method {
        Get,
        Post,
    }
}

macro_rules! as_text {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(match self {
                    <$ty>::Get => "GET",
                    <$ty>::Post => "POST",
                })
            }
        }
    };
}
as_text!(wrong::Method);
as_text!(stated::Method);

mod ts {
    pub fn serialize<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }
}

#[derive(Serialize, CacheVersion)]
struct WrongRequest {
    path: String,
    method: wrong::Method,
}

#[derive(Serialize, CacheVersion)]
struct Request {
    path: String,
    method: stated::Method,
    #[serde(with = "ts")]
    at: u64,
    #[serde(with = "ts")]
    #[cache_version(opaque)]
    acknowledged: u64,
    retries: Vec<Attempt>,
}

#[derive(Serialize, CacheVersion)]
struct Attempt {
    #[serde(with = "ts")]
    at: u64,
}

#[test]
fn a_hand_written_serialize_with_a_derived_shape_is_caught_with_path_and_difference() {
    let Mismatch {
        path,
        difference,
        human_readable,
        ..
    } = conformance::check(&WrongRequest {
        path: "/".into(),
        method: wrong::Method::Post,
    })
    .unwrap_err();
    assert_eq!(path, "$.method");
    assert!(human_readable, "the first mode checked is human-readable");
    assert!(
        difference.contains("enum{Get,Post}") && difference.contains("str \"POST\""),
        "{difference}"
    );
    let shown = conformance::check(&wrong::Method::Get)
        .unwrap_err()
        .to_string();
    assert!(
        shown.starts_with("at $ (human-readable): str \"GET\" matches no variant of Method"),
        "{shown}"
    );
}

#[test]
fn the_stated_shape_passes_and_opaque_leaves_are_counted() {
    assert!(matches!(stated::Method::SHAPE, Shape::Str));
    let request = Request {
        path: "/users".into(),
        method: stated::Method::Get,
        at: 7,
        acknowledged: 8,
        retries: vec![Attempt { at: 1 }, Attempt { at: 2 }],
    };
    let checked = conformance::check(&request).unwrap();
    assert_eq!(
        checked.opaque_leaves,
        [
            "$.acknowledged",
            "$.at",
            "$.retries[0].at",
            "$.retries[1].at"
        ]
    );
    assert_eq!(checked.opaque_count(), 4);
    // Nothing opaque in the value: nothing left unchecked.
    assert_eq!(
        conformance::check(&stated::Method::Post)
            .unwrap()
            .opaque_count(),
        0
    );
}

#[test]
fn a_value_can_be_checked_against_another_shape() {
    // What an `as = "Vec<String>"` annotation claims, checked on the value it describes.
    let written = vec!["a", "b"];
    assert!(conformance::check_shape(&written, <Vec<String> as CacheVersion>::SHAPE).is_ok());
    let err = conformance::check_shape(&written, <Vec<u8> as CacheVersion>::SHAPE).unwrap_err();
    assert_eq!(err.path, "$[0]");
}

/// Writes a string to human-readable formats and a number to compact ones.
struct Wrapper;
impl Serialize for Wrapper {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str("x")
        } else {
            s.serialize_u8(1)
        }
    }
}

#[test]
fn a_difference_in_compact_mode_is_reported_as_such() {
    let err = conformance::check_shape(&Wrapper, <String as CacheVersion>::SHAPE).unwrap_err();
    assert!(!err.human_readable, "{err}");
    assert_eq!(err.path, "$");
    assert!(err.to_string().contains("(compact)"), "{err}");
}
