//! The schema lockfile: registration, the format (round trip, bad input), the structural diff
//! and its classification (checked against what serde_json really does), `check_lockfile`,
//! the `cache-version` binary, and the timing of a 200-model check.
// The generated chains are 200 models deep (see `tests/graph.rs` in the tests crate).
#![cfg(all(feature = "derive", feature = "registry"))]
#![recursion_limit = "512"]

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use cache_version_core::lockfile::{
    self, diff, ChangeKind, CheckError, CheckOptions, Checked, CodecKind, Compatibility, FailOn,
    Lockfile, Mode, Model,
};
use cache_version_core::{CacheModel, CacheVersion};
use serde::{Deserialize, Serialize};

fn lock(models: impl IntoIterator<Item = Model>) -> Lockfile {
    Lockfile::from_models(models).unwrap()
}

fn one<T: CacheModel>(label: &'static str) -> Lockfile {
    lock([Model::new::<T>(label)])
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cv-lockfile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether `json` (written by one build) decodes as `T` (the other build's type).
fn reads<T: serde::de::DeserializeOwned>(json: &str) -> bool {
    serde_json::from_str::<T>(json).is_ok()
}

// ---------------------------------------------------------------------------------------------
// Acceptance: a rename.

mod rename_v1 {
    #[derive(serde::Serialize, serde::Deserialize, cache_version_core::CacheVersion)]
    #[serde(rename_all = "camelCase")]
    pub struct User {
        pub user_id: u64,
        pub user_name: String,
    }
}

mod rename_v2 {
    #[derive(serde::Serialize, serde::Deserialize, cache_version_core::CacheVersion)]
    #[serde(rename_all = "camelCase")]
    pub struct User {
        pub user_id: u64,
        pub full_name: String,
    }
}

mod rename_v2_alias {
    #[derive(serde::Serialize, serde::Deserialize, cache_version_core::CacheVersion)]
    #[serde(rename_all = "camelCase")]
    pub struct User {
        pub user_id: u64,
        #[serde(alias = "userName")]
        pub full_name: String,
    }
}

#[test]
fn rename_is_reported_at_its_path_and_breaking_for_json() {
    let old = one::<rename_v1::User>("User");
    let new = one::<rename_v2::User>("User");
    let report = diff(&old, &new, CodecKind::Json);
    let m = report.model("User").expect("User changed");
    assert_eq!(m.changes.len(), 1, "{report}");
    let c = &m.changes[0];
    assert_eq!(
        c.kind,
        ChangeKind::FieldRenamed {
            from: "userName".into(),
            to: "fullName".into(),
            ty: "str".into(),
            certain: false
        }
    );
    assert_eq!(c.path, "User.userName");
    assert_eq!(c.new_path.as_deref(), Some("User.fullName"));
    assert_eq!(c.compat, Compatibility::Breaking);
    assert_eq!(m.compat, Compatibility::Breaking);
    let text = report.to_text();
    assert!(text.contains("User.userName → User.fullName"), "{text}");
    assert!(text.contains("field renamed?"), "{text}");
    assert!(text.contains("migrate_from::<UserV1, _>"), "{text}");
    assert!(text.contains("new key space for `User`"), "{text}");

    // What serde really does: neither build reads the other's value.
    let old_json = serde_json::to_string(&rename_v1::User {
        user_id: 1,
        user_name: "a".into(),
    })
    .unwrap();
    let new_json = serde_json::to_string(&rename_v2::User {
        user_id: 1,
        full_name: "a".into(),
    })
    .unwrap();
    assert!(!reads::<rename_v2::User>(&old_json) && !reads::<rename_v1::User>(&new_json));

    // Positional codecs write no names: the same position and type read fine both ways.
    let positional = diff(&old, &new, CodecKind::Positional);
    assert_eq!(
        positional.models[0].compat,
        Compatibility::Both,
        "{positional}"
    );
}

#[test]
fn an_alias_makes_the_rename_certain_and_backward_compatible() {
    let old = one::<rename_v1::User>("User");
    let new = one::<rename_v2_alias::User>("User");
    let report = diff(&old, &new, CodecKind::Json);
    let c = &report.models[0].changes[0];
    assert!(
        matches!(&c.kind, ChangeKind::FieldRenamed { certain: true, .. }),
        "{report}"
    );
    assert_eq!(c.compat, Compatibility::BackwardOnly, "{report}");
    let old_json = serde_json::to_string(&rename_v1::User {
        user_id: 1,
        user_name: "a".into(),
    })
    .unwrap();
    let new_json = serde_json::to_string(&rename_v2_alias::User {
        user_id: 1,
        full_name: "a".into(),
    })
    .unwrap();
    assert!(reads::<rename_v2_alias::User>(&old_json));
    assert!(!reads::<rename_v1::User>(&new_json));
}

// ---------------------------------------------------------------------------------------------
// Acceptance: an added Option field with `default`.

mod add_v1 {
    #[derive(serde::Serialize, serde::Deserialize, cache_version_core::CacheVersion)]
    pub struct User {
        pub id: u64,
        pub name: String,
    }
}

mod add_v2 {
    #[derive(serde::Serialize, serde::Deserialize, cache_version_core::CacheVersion)]
    pub struct User {
        pub id: u64,
        pub name: String,
        #[serde(default)]
        pub email: Option<String>,
    }
}

mod add_v2_no_default {
    #[derive(serde::Serialize, serde::Deserialize, cache_version_core::CacheVersion)]
    pub struct User {
        pub id: u64,
        pub name: String,
        pub email: Option<String>,
    }
}

mod add_v2_required {
    #[derive(serde::Serialize, serde::Deserialize, cache_version_core::CacheVersion)]
    pub struct User {
        pub id: u64,
        pub name: String,
        pub email: String,
    }
}

mod add_v1_deny {
    #[derive(serde::Serialize, serde::Deserialize, cache_version_core::CacheVersion)]
    #[serde(deny_unknown_fields)]
    pub struct User {
        pub id: u64,
        pub name: String,
    }
}

#[test]
fn an_optional_field_with_default_is_compatible_for_json_and_breaking_for_positional() {
    let old = one::<add_v1::User>("User");
    let new = one::<add_v2::User>("User");
    let json = diff(&old, &new, CodecKind::Json);
    let m = &json.models[0];
    assert_eq!(m.changes.len(), 1, "{json}");
    assert_eq!(
        m.changes[0].kind,
        ChangeKind::FieldAdded {
            field: "email".into(),
            ty: "option<str>".into()
        }
    );
    assert_eq!(m.changes[0].path, "User.email");
    assert_eq!(m.compat, Compatibility::Both, "{json}");
    assert_eq!(
        diff(&old, &new, CodecKind::MsgPack).models[0].compat,
        Compatibility::Both
    );
    let positional = diff(&old, &new, CodecKind::Positional);
    assert_eq!(
        positional.models[0].compat,
        Compatibility::Breaking,
        "{positional}"
    );

    let old_json = serde_json::to_string(&add_v1::User {
        id: 1,
        name: "a".into(),
    })
    .unwrap();
    let new_json = serde_json::to_string(&add_v2::User {
        id: 1,
        name: "a".into(),
        email: Some("e".into()),
    })
    .unwrap();
    assert!(reads::<add_v2::User>(&old_json) && reads::<add_v1::User>(&new_json));
}

#[test]
fn serde_reads_a_missing_option_as_none_even_without_default() {
    let old = one::<add_v1::User>("User");
    let report = diff(
        &old,
        &one::<add_v2_no_default::User>("User"),
        CodecKind::Json,
    );
    assert_eq!(report.models[0].compat, Compatibility::Both, "{report}");
    let old_json = serde_json::to_string(&add_v1::User {
        id: 1,
        name: "a".into(),
    })
    .unwrap();
    assert!(reads::<add_v2_no_default::User>(&old_json));

    // A required field: the new build cannot read old values.
    let report = diff(&old, &one::<add_v2_required::User>("User"), CodecKind::Json);
    assert_eq!(
        report.models[0].compat,
        Compatibility::ForwardOnly,
        "{report}"
    );
    assert!(!reads::<add_v2_required::User>(&old_json));
}

#[test]
fn deny_unknown_fields_makes_an_added_field_forward_incompatible() {
    let old = one::<add_v1_deny::User>("User");
    let new = one::<add_v2::User>("User");
    let report = diff(&old, &new, CodecKind::Json);
    let m = &report.models[0];
    assert_eq!(m.compat, Compatibility::BackwardOnly, "{report}");
    assert!(
        m.changes
            .iter()
            .any(|c| matches!(&c.kind, ChangeKind::MetaChanged { what } if what.contains("deny_unknown_fields"))),
        "{report}"
    );
    let new_json = serde_json::to_string(&add_v2::User {
        id: 1,
        name: "a".into(),
        email: None,
    })
    .unwrap();
    assert!(!reads::<add_v1_deny::User>(&new_json));
}

// ---------------------------------------------------------------------------------------------
// Acceptance: a Box-wrapping refactor.

mod boxed_v1 {
    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct Address {
        pub city: String,
        pub zip: String,
    }

    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct User {
        pub id: u64,
        pub address: Option<Address>,
        pub history: Vec<Address>,
        pub name: String,
    }
}

// The wrapping is the point of the test.
#[allow(clippy::box_collection)]
mod boxed_v2 {
    use std::borrow::Cow;

    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct Address {
        pub city: Box<str>,
        pub zip: Cow<'static, str>,
    }

    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct User {
        pub id: u64,
        pub address: Option<Box<Address>>,
        pub history: std::collections::VecDeque<Box<Address>>,
        pub name: Box<String>,
    }
}

#[test]
fn a_box_wrapping_refactor_shows_no_change() {
    let old = one::<boxed_v1::User>("User");
    let new = one::<boxed_v2::User>("User");
    assert_eq!(old.to_text(), new.to_text());
    for codec in [CodecKind::Json, CodecKind::MsgPack, CodecKind::Positional] {
        let report = diff(&old, &new, codec);
        assert!(report.is_empty(), "{report}");
        assert_eq!(report.unchanged, 1);
        assert!(!FailOn::Any.reached(&report));
    }
}

// ---------------------------------------------------------------------------------------------
// Nested paths, enums, order, metadata.

mod nested_v1 {
    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct Address {
        pub city: String,
        pub zip: String,
    }
    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct User {
        pub id: u32,
        pub address: Option<Box<Address>>,
        pub previous: Vec<Address>,
        pub tags: std::collections::HashMap<String, (u8, Address)>,
    }
}

mod nested_v2 {
    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct Address {
        pub city: String,
        pub zip: u32,
    }
    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct User {
        pub id: u64,
        pub address: Option<Box<Address>>,
        pub previous: Vec<Address>,
        pub tags: std::collections::HashMap<String, (u8, Address)>,
    }
}

#[test]
fn nested_changes_have_their_path_through_named_references() {
    let report = diff(
        &one::<nested_v1::User>("User"),
        &one::<nested_v2::User>("User"),
        CodecKind::Json,
    );
    let m = &report.models[0];
    let paths: Vec<&str> = m.changes.iter().map(|c| c.path.as_str()).collect();
    // The shared Address is reported once, at its first path.
    assert_eq!(paths, ["User.id", "User.address.zip"], "{report}");
    assert_eq!(
        m.changes[0].kind,
        ChangeKind::TypeChanged {
            from: "u32".into(),
            to: "u64".into()
        }
    );
    assert_eq!(m.changes[0].compat, Compatibility::BackwardOnly);
    assert_eq!(m.changes[1].compat, Compatibility::Breaking);
    assert_eq!(m.compat, Compatibility::Breaking);
    // Positional codecs have no type information: a widening is breaking.
    let p = diff(
        &one::<nested_v1::User>("User"),
        &one::<nested_v2::User>("User"),
        CodecKind::Positional,
    );
    assert_eq!(p.models[0].changes[0].compat, Compatibility::Breaking);
}

mod tuple_v1 {
    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct Shape {
        pub dims: (u8, u8, u16, u16),
    }
}

mod tuple_v2 {
    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct Shape {
        pub dims: (u8, u16, u16, u16),
    }
}

#[test]
fn tuple_runs_are_compared_element_by_element() {
    let report = diff(
        &one::<tuple_v1::Shape>("Shape"),
        &one::<tuple_v2::Shape>("Shape"),
        CodecKind::Json,
    );
    let m = &report.models[0];
    assert_eq!(m.changes.len(), 1, "{report}");
    assert_eq!(m.changes[0].path, "Shape.dims.1", "{report}");
    assert_eq!(m.changes[0].compat, Compatibility::BackwardOnly, "{report}");
}

mod enum_v1 {
    #[derive(
        serde::Serialize, serde::Deserialize, cache_version_core::CacheVersion, PartialEq, Debug,
    )]
    pub enum Status {
        Active,
        Suspended { reason: String },
        Deleted,
    }
}

mod enum_v2_added {
    #[derive(
        serde::Serialize, serde::Deserialize, cache_version_core::CacheVersion, PartialEq, Debug,
    )]
    pub enum Status {
        Active,
        Suspended { reason: String },
        Deleted,
        Archived,
    }
}

mod enum_v2_inserted {
    #[derive(serde::Serialize, serde::Deserialize, cache_version_core::CacheVersion)]
    pub enum Status {
        Pending,
        Active,
        Suspended { reason: String },
        Deleted,
    }
}

mod enum_v2_renamed {
    #[derive(serde::Serialize, serde::Deserialize, cache_version_core::CacheVersion)]
    pub enum Status {
        Active,
        Suspended {
            reason: String,
        },
        #[serde(alias = "Deleted")]
        Removed,
    }
}

mod enum_v2_tagged {
    #[derive(serde::Serialize, serde::Deserialize, cache_version_core::CacheVersion)]
    #[serde(tag = "type")]
    pub enum Status {
        Active,
        Suspended { reason: String },
        Deleted,
    }
}

mod enum_v2_reordered {
    #[derive(serde::Serialize, serde::Deserialize, cache_version_core::CacheVersion)]
    pub enum Status {
        Deleted,
        Active,
        Suspended { reason: String },
    }
}

#[test]
fn enum_changes_are_classified_per_codec() {
    let old = one::<enum_v1::Status>("Status");
    let check = |new: Lockfile, codec, expect: Compatibility, kind: fn(&ChangeKind) -> bool| {
        let report = diff(&old, &new, codec);
        let m = &report.models[0];
        assert_eq!(m.compat, expect, "{report}");
        assert!(m.changes.iter().any(|c| kind(&c.kind)), "{report}");
    };
    let added = || one::<enum_v2_added::Status>("Status");
    check(
        added(),
        CodecKind::Json,
        Compatibility::BackwardOnly,
        |k| matches!(k, ChangeKind::VariantAdded { variant } if variant == "Archived"),
    );
    check(
        added(),
        CodecKind::Positional,
        Compatibility::BackwardOnly,
        |k| matches!(k, ChangeKind::VariantAdded { .. }),
    );
    let inserted = || one::<enum_v2_inserted::Status>("Status");
    check(
        inserted(),
        CodecKind::Json,
        Compatibility::BackwardOnly,
        |k| matches!(k, ChangeKind::VariantIndexShifted { .. }),
    );
    check(
        inserted(),
        CodecKind::Positional,
        Compatibility::Breaking,
        |k| matches!(k, ChangeKind::VariantIndexShifted { .. }),
    );
    check(
        one::<enum_v2_renamed::Status>("Status"),
        CodecKind::Json,
        Compatibility::BackwardOnly,
        |k| matches!(k, ChangeKind::VariantRenamed { certain: true, .. }),
    );
    check(
        one::<enum_v2_renamed::Status>("Status"),
        CodecKind::Positional,
        Compatibility::Both,
        |k| matches!(k, ChangeKind::VariantRenamed { .. }),
    );
    check(
        one::<enum_v2_tagged::Status>("Status"),
        CodecKind::Json,
        Compatibility::Breaking,
        |k| matches!(k, ChangeKind::ReprChanged { to, .. } if to.contains("internally tagged")),
    );
    check(
        one::<enum_v2_reordered::Status>("Status"),
        CodecKind::Json,
        Compatibility::Both,
        |k| matches!(k, ChangeKind::OrderChanged { .. }),
    );
    check(
        one::<enum_v2_reordered::Status>("Status"),
        CodecKind::Positional,
        Compatibility::Breaking,
        |k| matches!(k, ChangeKind::OrderChanged { .. }),
    );

    // serde agrees: the new enum reads old values, the old one rejects the new variant.
    let old_json = serde_json::to_string(&enum_v1::Status::Deleted).unwrap();
    let new_json = serde_json::to_string(&enum_v2_added::Status::Archived).unwrap();
    assert!(reads::<enum_v2_added::Status>(&old_json));
    assert!(!reads::<enum_v1::Status>(&new_json));
    let moved = serde_json::to_string(&enum_v2_reordered::Status::Deleted).unwrap();
    assert_eq!(
        serde_json::from_str::<enum_v1::Status>(&moved).unwrap(),
        enum_v1::Status::Deleted
    );
}

mod order_v1 {
    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct P {
        pub x: i32,
        pub y: i32,
        #[cache_version(bump = 1)]
        pub z: i32,
    }
}

mod order_v2 {
    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    #[serde(deny_unknown_fields)]
    pub struct P {
        pub y: i32,
        #[serde(alias = "ex")]
        pub x: i32,
        #[cache_version(bump = 2)]
        pub z: i32,
    }
}

#[test]
fn order_bump_and_metadata_changes() {
    let report = diff(
        &one::<order_v1::P>("P"),
        &one::<order_v2::P>("P"),
        CodecKind::Json,
    );
    let m = &report.models[0];
    let kinds: Vec<(&str, String)> = m
        .changes
        .iter()
        .map(|c| (c.path.as_str(), c.kind.to_string()))
        .collect();
    let has = |path: &str, kind: &str| kinds.iter().any(|(p, k)| *p == path && k == kind);
    assert!(has("P.z", "manual bump changed: 1 → 2"), "{report}");
    assert!(has("P", "order changed: x, y, z → y, x, z"), "{report}");
    assert!(has("P.x", "reader metadata: added alias `ex`"), "{report}");
    assert!(
        has("P", "reader metadata: added `deny_unknown_fields`"),
        "{report}"
    );
    assert_eq!(m.compat, Compatibility::Breaking);
}

mod wrap_v1 {
    #[derive(serde::Serialize, serde::Deserialize, cache_version_core::CacheVersion)]
    pub struct Session {
        pub user: u64,
        pub addr: String,
    }
}

mod wrap_v2 {
    #[derive(serde::Serialize, serde::Deserialize, cache_version_core::CacheVersion)]
    pub struct UserId(pub u64);

    #[derive(serde::Serialize, serde::Deserialize, cache_version_core::CacheVersion)]
    pub struct Session {
        pub user: UserId,
        pub addr: std::net::Ipv4Addr,
    }
}

#[test]
fn newtype_wrappers_and_readable_types_are_compared_as_written() {
    let old = one::<wrap_v1::Session>("Session");
    let new = one::<wrap_v2::Session>("Session");
    let json = diff(&old, &new, CodecKind::Json);
    let m = &json.models[0];
    assert_eq!(m.compat, Compatibility::Both, "{json}");
    assert_eq!(m.changes.len(), 2, "{json}");
    assert!(
        m.changes[0].why.contains("`UserId` is a newtype struct"),
        "{json}"
    );
    assert!(
        m.changes[1].why.contains("only the compact form changed"),
        "{json}"
    );
    // serde_json agrees.
    let old_json = serde_json::to_string(&wrap_v1::Session {
        user: 7,
        addr: "10.0.0.1".into(),
    })
    .unwrap();
    assert!(reads::<wrap_v2::Session>(&old_json));
    // Compact codecs write the address as four bytes.
    let positional = diff(&old, &new, CodecKind::Positional);
    assert_eq!(
        positional.models[0].compat,
        Compatibility::Breaking,
        "{positional}"
    );
    assert!(positional.models[0]
        .changes
        .iter()
        .any(|c| c.path == "Session.addr" && c.compat == Compatibility::Breaking));
}

mod meta_only_v1 {
    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct Inner {
        pub a: u8,
    }
    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct Outer {
        pub inner: Inner,
    }
}

mod meta_only_v2 {
    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct Inner {
        #[serde(alias = "b", default)]
        pub a: u8,
    }
    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct Outer {
        pub inner: Inner,
    }
}

#[test]
fn metadata_only_changes_are_identical_but_visible() {
    let old = one::<meta_only_v1::Outer>("Outer");
    let new = one::<meta_only_v2::Outer>("Outer");
    assert_eq!(
        old.models, new.models,
        "versions do not see reader-side metadata"
    );
    assert_ne!(old.to_text(), new.to_text(), "but the lockfile records it");
    let report = diff(&old, &new, CodecKind::Json);
    let m = report.model("Outer").unwrap();
    assert_eq!(m.compat, Compatibility::Identical, "{report}");
    assert!(!m.keys_change());
    assert!(m.deploy_advice().starts_with("identical: keys unchanged"));
    let what: Vec<(&str, String)> = m
        .changes
        .iter()
        .map(|c| (c.path.as_str(), c.kind.to_string()))
        .collect();
    assert_eq!(
        what,
        [
            (
                "Outer.inner.a",
                "reader metadata: added `default`".to_owned()
            ),
            (
                "Outer.inner.a",
                "reader metadata: added alias `b`".to_owned()
            )
        ],
        "{report}"
    );
    assert!(FailOn::Any.reached(&report) && !FailOn::Breaking.reached(&report));
}

#[test]
fn models_added_removed_and_relabeled() {
    let old = lock([
        Model::new::<add_v1::User>("User"),
        Model::new::<enum_v1::Status>("Status"),
    ]);
    let new = lock([
        Model::new::<add_v1::User>("accounts::User"),
        Model::new::<boxed_v1::Address>("Address"),
    ]);
    let report = diff(&old, &new, CodecKind::Json);
    let kinds: Vec<(&str, &ChangeKind)> = report
        .models
        .iter()
        .map(|m| (m.label.as_str(), &m.changes[0].kind))
        .collect();
    assert!(
        kinds.contains(&("Address", &ChangeKind::ModelAdded)),
        "{report}"
    );
    assert!(
        kinds.contains(&("Status", &ChangeKind::ModelRemoved)),
        "{report}"
    );
    assert!(
        kinds.contains(&(
            "accounts::User",
            &ChangeKind::ModelRelabeled {
                from: "User".into()
            }
        )),
        "{report}"
    );
    assert!(!FailOn::Breaking.reached(&report) && FailOn::Any.reached(&report));
}

// ---------------------------------------------------------------------------------------------
// The format: registration, round trip, bad input.

#[derive(Serialize, Deserialize, CacheVersion)]
pub struct Item {
    pub sku: String,
}

#[derive(Serialize, Deserialize, CacheVersion)]
#[serde(bound = "T: Serialize + serde::de::DeserializeOwned")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

#[derive(Serialize, Deserialize, CacheVersion)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum Event {
    #[serde(rename = "user created", alias = "created")]
    Created {
        #[serde(rename = "user id", default)]
        id: u64,
        #[serde(skip_deserializing)]
        at: u64,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Serialize, Deserialize, CacheVersion, Default)]
#[serde(default)]
pub struct Settings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    #[serde(flatten)]
    pub extra: std::collections::BTreeMap<String, String>,
    pub pair: (u8, u8, u16),
}

#[derive(Serialize, Deserialize, CacheVersion)]
pub struct Meters(pub f64);

#[derive(Serialize, Deserialize, CacheVersion)]
pub struct Extra {
    pub id: u8,
    #[serde(flatten, default)]
    pub rest: std::collections::BTreeMap<String, u8>,
}

cache_version_core::register!(Item, Page<Item>, Event, Settings, Vec<Item> as "Items");

fn rich() -> Lockfile {
    lock(cache_version_core::models![
        Item,
        Page<Item>,
        Page<Meters>,
        Event,
        Settings,
        Vec<Item> as "Items",
        Meters,
        Extra
    ])
}

#[test]
fn register_collects_models_by_their_written_type() {
    let labels: Vec<String> = lockfile::registered().iter().map(Model::label).collect();
    for l in ["Item", "Page<Item>", "Event", "Settings", "Vec<Item>"] {
        assert!(labels.iter().any(|x| x == l), "{l} in {labels:?}");
    }
    let lock = lock(lockfile::registered());
    let page = lock.model("Page<Item>").unwrap();
    assert_eq!(
        page.name, "Page<Item>",
        "the key name is the model name, type arguments included"
    );
    let vec = lock.model("Vec<Item>").unwrap();
    assert_eq!(
        vec.name, "Items",
        "a root without a name is named at registration"
    );
    assert!(vec.root.starts_with("seq<Item@"));
}

mod dup_a {
    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct User {
        pub id: u64,
    }
}

mod dup_b {
    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct User {
        pub name: String,
    }

    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    #[cache_version(name = "Page")]
    pub struct Listing<T> {
        pub items: Vec<T>,
    }
}

#[test]
fn two_models_with_one_model_name_are_rejected_naming_both_types() {
    let err = Lockfile::from_models([
        Model::new::<dup_a::User>("dup_a::User"),
        Model::new::<dup_b::User>("dup_b::User"),
    ])
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("model name `User`"), "{text}");
    assert!(
        text.contains("lockfile::dup_a::User") && text.contains("lockfile::dup_b::User"),
        "both Rust types are named: {text}"
    );
    assert!(text.contains("registered as `dup_a::User`"), "{text}");
    assert!(text.contains("#[cache_version(name"), "{text}");

    // A generic model named like another generic model clashes only for the same arguments.
    assert!(Lockfile::from_models(cache_version_core::models![
        Page<Item>,
        dup_b::Listing<Meters>
    ])
    .is_ok());
    let err = Lockfile::from_models(cache_version_core::models![
        Page<Item>,
        dup_b::Listing<Item>
    ])
    .unwrap_err();
    assert!(err.to_string().contains("model name `Page<Item>`"), "{err}");

    // A name given at registration takes part too, and must be valid in a key.
    let err =
        Lockfile::from_models(cache_version_core::models![Item, Vec<Item> as "Item"]).unwrap_err();
    assert!(err.to_string().contains("`alloc::vec::Vec<"), "{err}");
    let err =
        Lockfile::from_models(cache_version_core::models![Vec<Item> as "my items"]).unwrap_err();
    assert!(
        err.to_string().contains("invalid model name `my items`"),
        "{err}"
    );

    // The same type registered twice under one label is one model.
    assert!(Lockfile::from_models(cache_version_core::models![Item, Item]).is_ok());
}

#[test]
fn distinct_instantiations_are_distinct_models() {
    let lock = lock(cache_version_core::models![
        Page<Item>,
        Page<Meters>,
        Page<Page<Item>>
    ]);
    let names: Vec<&str> = lock.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["Page<Item>", "Page<Meters>", "Page<Page<Item>>"]);
    let text = lock.to_text();
    assert!(text.contains("  name \"Page<Item>\"\n"), "{text}");
    assert_eq!(Lockfile::parse(&text).unwrap(), lock, "round trip");
}

#[test]
fn the_text_is_stable_through_write_parse_write() {
    let lock = rich();
    let text = lock.to_text();
    let parsed = Lockfile::parse(&text).unwrap();
    assert_eq!(parsed, lock);
    assert_eq!(parsed.to_text(), text);
    // CRLF line ends and extra comments read the same.
    let crlf = text.replace('\n', "\r\n") + "# a trailing comment\r\n";
    assert_eq!(Lockfile::parse(&crlf).unwrap(), lock);

    // What the text holds.
    assert!(
        text.contains("\ncache-version-lock 1 canonical 1\n"),
        "{text}"
    );
    assert!(
        text.contains("\nmodel Page<Item>\n  name \"Page<Item>\"\n  short "),
        "{text}"
    );
    assert!(text.contains("  meta deny_unknown_fields\n"), "{text}");
    assert!(
        text.contains("  meta field \"user created\".\"user id\" default\n"),
        "{text}"
    );
    assert!(
        text.contains("  meta field \"user created\".at default skip_deserializing\n"),
        "{text}"
    );
    assert!(
        text.contains("  meta variant \"user created\" alias=created\n"),
        "{text}"
    );
    assert!(text.contains("  meta variant Unknown other\n"), "{text}");
    assert!(text.contains("  meta default\n"), "{text}");
    assert!(text.contains("  meta field #1 default\n"), "{text}");
    // Page<Item> and Page<Meters> are two `Page` types with different versions.
    assert_eq!(lock.types.iter().filter(|t| t.name == "Page").count(), 2);
    // Every definition once.
    let mut keys: Vec<_> = lock.types.iter().map(|t| (&t.name, t.version)).collect();
    keys.dedup();
    assert_eq!(keys.len(), lock.types.len());
    // Sorted.
    assert!(lock.models.windows(2).all(|w| w[0].label < w[1].label));
}

#[test]
fn bad_lockfiles_give_errors_with_line_numbers() {
    let good = rich().to_text();
    let lines: Vec<&str> = good.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with("cache-version-lock"))
        .unwrap()
        + 1;
    let first_model = lines.iter().position(|l| l.starts_with("model ")).unwrap() + 1;
    let first_type = lines.iter().position(|l| l.starts_with("type ")).unwrap() + 1;
    let replace = |line: usize, with: &str| -> String {
        let mut l: Vec<String> = good.lines().map(str::to_owned).collect();
        l[line - 1] = with.to_owned();
        l.join("\n") + "\n"
    };
    let edit = |line: usize, f: &dyn Fn(&str) -> String| -> String {
        let l = lines[line - 1];
        replace(line, &f(l))
    };
    let cases: Vec<(String, usize, &str)> = vec![
        (String::new(), 0, "empty lockfile"),
        ("# only a comment\n".into(), 0, "empty lockfile"),
        (
            replace(header, "cache-version-lock 2 canonical 1"),
            header,
            "format `2`",
        ),
        (
            replace(header, "cache-version-lock 1 canonical 9"),
            header,
            "canonical form `9`",
        ),
        (replace(header, "lockfile"), header, "expected the header"),
        (replace(first_model, "model "), first_model, "a model label"),
        (
            replace(first_model + 1, "  nam Item"),
            first_model + 1,
            "expected `  name <value>`",
        ),
        (
            edit(first_model + 2, &|l| l.replace("short ", "short 0")),
            first_model + 2,
            "is not the start of the version",
        ),
        (
            edit(first_model + 3, &|l| l[..l.len() - 1].to_owned()),
            first_model + 3,
            "64 hex digits",
        ),
        (
            edit(first_model + 4, &|l| l.replace("root ", "root option<")),
            first_model + 4,
            "root: expected",
        ),
        (
            edit(first_type, &|l| l.replacen("u64", "u32", 1)),
            first_type,
            "edited by hand",
        ),
        (
            edit(first_type, &|l| l.replacen(" = ", " == ", 1)),
            first_type,
            "expected ` = <definition>`",
        ),
        (
            edit(first_type, &|l| format!("{l}\n  meta field x frobnicate")),
            first_type + 1,
            "unknown field flag `frobnicate`",
        ),
        (
            edit(first_type, &|l| format!("{l}\n  meta field \"x")),
            first_type + 1,
            "closing quote",
        ),
        (
            edit(first_type, &|l| format!("{l}\n  meta  default")),
            first_type + 1,
            "one space",
        ),
        (
            edit(first_type, &|_| "type Nope@zz = struct{}".into()),
            first_type,
            "64 hex digits",
        ),
        (
            good.clone() + "garbage\n",
            lines.len() + 1,
            "expected `model <label>`",
        ),
        (
            edit(header, &|l| format!("{l}\n  meta default")),
            header + 1,
            "belongs right after a `type` line",
        ),
        (
            good.clone() + "  meta default\n",
            lines.len() + 1,
            "container meta is already given",
        ),
        (
            good.clone() + "model Item\n",
            lines.len() + 1,
            "ends before its `name` line",
        ),
    ];
    for (text, line, needle) in cases {
        let err = Lockfile::parse(&text).expect_err(needle);
        assert_eq!(err.line, line, "{needle}: {err}");
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    }

    // A duplicated block and a dangling reference.
    let block: String = good
        .lines()
        .skip(first_model - 1)
        .take(5)
        .map(|l| format!("{l}\n"))
        .collect();
    let err = Lockfile::parse(&(good.clone() + &block)).unwrap_err();
    assert!(err.to_string().contains("already defined on line"), "{err}");
    let item_line = lines
        .iter()
        .position(|l| l.starts_with("type Item@"))
        .unwrap()
        + 1;
    let err = Lockfile::parse(&replace(item_line, "# removed")).unwrap_err();
    assert!(err.to_string().contains("has no `type` line"), "{err}");
}

#[test]
fn mangled_lockfiles_never_panic() {
    let good = rich().to_text();
    let bytes = good.as_bytes();
    // Every prefix.
    for end in (0..bytes.len()).step_by(7) {
        if let Ok(s) = std::str::from_utf8(&bytes[..end]) {
            let _ = Lockfile::parse(s);
        }
    }
    // Random byte edits (a small deterministic generator).
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet = b" \n\"\\@=<>(){},.:?*#/~0123456789abcdefxyz_";
    for _ in 0..3000 {
        let mut b = bytes.to_vec();
        for _ in 0..1 + next() % 4 {
            let at = (next() as usize) % b.len();
            match next() % 3 {
                0 => b[at] = alphabet[(next() as usize) % alphabet.len()],
                1 => {
                    b.remove(at);
                }
                _ => b.insert(at, alphabet[(next() as usize) % alphabet.len()]),
            }
        }
        if let Ok(s) = std::str::from_utf8(&b) {
            if let Err(e) = Lockfile::parse(s) {
                assert!(e.line <= s.lines().count() + 1, "{e}");
            }
        }
    }
    // Deep nesting is refused, not a stack overflow.
    let deep = format!(
        "cache-version-lock 1 canonical 1\nmodel X\n  name X\n  short {z16}\n  version {z64}\n  root {}u8{}\n",
        "option<".repeat(100_000),
        ">".repeat(100_000),
        z16 = "0".repeat(16),
        z64 = "0".repeat(64)
    );
    assert_eq!(Lockfile::parse(&deep).unwrap_err().line, 6);
}

// ---------------------------------------------------------------------------------------------
// check_lockfile.

#[test]
fn check_lockfile_writes_compares_and_explains() {
    let dir = tempdir("check");
    let path = dir.join("cache-versions.lock");
    let check = |models: Vec<Model>, mode| {
        lockfile::check_lockfile_with(
            &path,
            models,
            CheckOptions {
                mode,
                ..Default::default()
            },
        )
    };
    let v1 = || {
        vec![
            Model::new::<rename_v1::User>("User"),
            Model::new::<Item>("Item"),
        ]
    };
    let v2 = || {
        vec![
            Model::new::<rename_v2::User>("User"),
            Model::new::<Item>("Item"),
        ]
    };

    let missing = check(v1(), Mode::Check).unwrap_err();
    assert!(matches!(missing, CheckError::Missing { .. }));
    assert!(missing.to_string().contains("CACHE_VERSION_LOCK=overwrite"));

    assert_eq!(
        check(v1(), Mode::Overwrite).unwrap(),
        Checked::Overwritten(None)
    );
    assert_eq!(check(v1(), Mode::Check).unwrap(), Checked::UpToDate);
    lockfile::assert_lockfile(&path, v1());

    let changed = check(v2(), Mode::Check).unwrap_err();
    let text = changed.to_string();
    assert!(text.contains("does not match the code"), "{text}");
    assert!(text.contains("User.userName → User.fullName"), "{text}");
    assert!(text.contains("[breaking]"), "{text}");
    assert!(
        text.contains("CACHE_VERSION_LOCK=overwrite cargo test"),
        "{text}"
    );
    assert_eq!(format!("{changed:?}"), text, "Debug is readable too");
    let CheckError::Changed { report, .. } = changed else {
        panic!()
    };
    assert_eq!(report.models.len(), 1, "Item is unchanged");

    let Checked::Overwritten(Some(report)) = check(v2(), Mode::Overwrite).unwrap() else {
        panic!("rewritten with a report")
    };
    assert_eq!(report.models[0].label, "User");
    assert_eq!(check(v2(), Mode::Check).unwrap(), Checked::UpToDate);

    // A broken file names its line.
    std::fs::write(&path, "cache-version-lock 1 canonical 1\nbogus\n").unwrap();
    let err = check(v2(), Mode::Check).unwrap_err();
    assert!(
        matches!(&err, CheckError::Parse { error, .. } if error.line == 2),
        "{err}"
    );

    // Two different types under one label.
    let err = check(
        vec![
            Model::new::<rename_v1::User>("User"),
            Model::new::<rename_v2::User>("User"),
        ],
        Mode::Check,
    )
    .unwrap_err();
    assert!(matches!(err, CheckError::Models(_)), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

mod broken {
    use cache_version_core::{Body, ContainerMeta, Named, Shape, Ty};

    /// A hand-written impl whose stored template digest is wrong.
    pub struct Broken;
    impl cache_version_core::CacheVersion for Broken {
        const SHAPE: &'static Shape = &Shape::Named(&Named {
            name: "Broken",
            template: [0; 32],
            body: Body::NewtypeStruct(Ty::of::<u8>()),
            meta: ContainerMeta::NONE,
            bump: 0,
            args: &[],
        });
    }
    impl cache_version_core::CacheModel for Broken {}
}

#[test]
fn check_lockfile_verifies_every_model() {
    let dir = tempdir("verify");
    let err = lockfile::check_lockfile_with(
        dir.join("x.lock"),
        [Model::new::<broken::Broken>("Broken")],
        CheckOptions {
            mode: Mode::Overwrite,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(&err, CheckError::Verify { label, .. } if label == "Broken"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// The command-line tool.

#[test]
fn the_cli_diffs_two_files_with_exit_codes() {
    let dir = tempdir("cli");
    let old = dir.join("old.lock");
    let new = dir.join("new.lock");
    let same = dir.join("same.lock");
    std::fs::write(&old, lock([Model::new::<add_v1::User>("User")]).to_text()).unwrap();
    std::fs::write(&new, lock([Model::new::<add_v2::User>("User")]).to_text()).unwrap();
    std::fs::write(&same, lock([Model::new::<add_v1::User>("User")]).to_text()).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_cache-version"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (o, n, s) = (
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        same.to_str().unwrap(),
    );
    let (code, out, _) = run(&["diff", o, n]);
    assert_eq!(code, Some(0), "compatible for JSON: {out}");
    assert!(
        out.contains("User.email: field added: `email` (option<str>)  [compatible both ways]"),
        "{out}"
    );
    let (code, out, _) = run(&["diff", o, n, "--codec", "positional"]);
    assert_eq!(code, Some(1), "breaking for positional: {out}");
    let (code, out, _) = run(&["diff", o, n, "--fail-on=any", "--format", "markdown"]);
    assert_eq!(code, Some(1));
    assert!(out.starts_with("## Cache versions"), "{out}");
    assert!(
        out.contains(
            "| `User.email` | field added: `email` (option&lt;str>) | compatible both ways |"
        ),
        "{out}"
    );
    assert!(out.contains("**Rolling deploy:**"), "{out}");
    let (code, _, _) = run(&["diff", o, s, "--fail-on", "any"]);
    assert_eq!(code, Some(0));
    let (code, _, _) = run(&["diff", o, n, "--fail-on", "never", "--codec", "bincode"]);
    assert_eq!(code, Some(0));
    // A base branch without models yet: a lockfile of just the header.
    let empty = dir.join("empty.lock");
    std::fs::write(&empty, "cache-version-lock 1 canonical 1\n").unwrap();
    let (code, out, _) = run(&["diff", empty.to_str().unwrap(), n]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("field added") || out.contains("model added"),
        "{out}"
    );
    let (code, out, _) = run(&["check", o]);
    assert_eq!((code, out.contains("valid (1 models")), (Some(0), true));

    // Bad input: exit 2 with a message naming the line.
    let bad = dir.join("bad.lock");
    std::fs::write(&bad, "cache-version-lock 1 canonical 1\nmodel\n").unwrap();
    let (code, _, err) = run(&["diff", o, bad.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(err.contains("line 2"), "{err}");
    for args in [
        &["diff", o][..],
        &["diff", o, n, "--codec", "xml"],
        &["diff", o, n, "--fail-on"],
        &["diff", o, "/nonexistent/x.lock"],
        &["frobnicate"],
        &[],
    ] {
        let (code, _, err) = run(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// 200 models: the timing of a check (printed; performance lives in `benches/lockfile.rs`).

#[allow(dead_code)]
mod crate200 {
    include!("support/models200.rs");
    models200!(u64);
}

#[test]
fn a_200_model_crate_checks_quickly() {
    let dir = tempdir("200");
    let path = dir.join("cache-versions.lock");
    let t = Instant::now();
    lockfile::check_lockfile_with(
        &path,
        crate200::models(),
        CheckOptions {
            mode: Mode::Overwrite,
            ..Default::default()
        },
    )
    .unwrap();
    let write = t.elapsed();
    let t = Instant::now();
    let checked = lockfile::check_lockfile_with(
        &path,
        crate200::models(),
        CheckOptions {
            mode: Mode::Check,
            ..Default::default()
        },
    )
    .unwrap();
    let check = t.elapsed();
    assert_eq!(checked, Checked::UpToDate);
    let text = std::fs::read_to_string(&path).unwrap();
    let t = Instant::now();
    let parsed = Lockfile::parse(&text).unwrap();
    let parse = t.elapsed();
    assert_eq!(parsed.models.len(), 200);
    assert_eq!(parsed.types.len(), 400, "every definition once");
    println!(
        "200 models ({} KiB lockfile, {} types): write {write:?}, check {check:?}, parse {parse:?} \
         (this profile; see `cargo bench --bench lockfile` for optimized figures)",
        text.len() / 1024,
        parsed.types.len()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Opaque leaves (issue 19): listed with their paths, the unacknowledged ones as warnings.

mod leaves {
    pub mod ts {
        pub fn serialize<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(v)
        }
    }

    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct Attempt {
        #[serde(with = "ts")]
        pub at: u64,
        pub ok: bool,
    }

    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct Job {
        pub id: u64,
        #[serde(with = "ts")]
        pub created: u64,
        #[serde(with = "ts")]
        #[cache_version(opaque)]
        pub acknowledged: u64,
        #[serde(with = "ts")]
        #[cache_version(as = "String")]
        pub stated: u64,
        pub attempts: Vec<Attempt>,
    }
}

#[test]
fn opaque_leaves_are_listed_with_paths_and_unacknowledged_ones_warned() {
    let jobs = lock([Model::new::<leaves::Job>("Job")]);
    let found: Vec<(String, String, bool)> = jobs
        .opaque_leaves()
        .into_iter()
        .map(|l| (l.path, l.leaf, l.acknowledged))
        .collect();
    let leaf = |p: &str, a: bool| (p.to_owned(), "ts::serialize".to_owned(), a);
    assert_eq!(
        found,
        [
            leaf("Job.created", false),
            leaf("Job.acknowledged", true),
            leaf("Job.attempts[].at", false),
        ]
    );
    let warning = lockfile::opaque_warnings(&jobs.opaque_leaves()).unwrap();
    assert!(warning.contains("2 opaque leaf(s)"), "{warning}");
    assert!(
        warning.contains("Job.created  opaque(\"ts::serialize\")"),
        "{warning}"
    );
    assert!(warning.contains("Job.attempts[].at"), "{warning}");
    assert!(!warning.contains("Job.acknowledged"), "{warning}");
    assert!(warning.contains("#[cache_version(opaque)]"), "{warning}");

    // The flag is in the text, survives a round trip, and is no part of any version.
    let text = jobs.to_text();
    assert!(text.contains("  meta field created with\n"), "{text}");
    assert!(!text.contains("meta field acknowledged"), "{text}");
    assert_eq!(Lockfile::parse(&text).unwrap(), jobs);
    assert_eq!(
        Lockfile::parse(&text).unwrap().opaque_leaves(),
        jobs.opaque_leaves()
    );

    // Acknowledging a field keeps its leaf and its version.
    let plain = lock([Model::new::<leaves::Attempt>("Attempt")]);
    assert!(!lockfile::opaque_warnings(&plain.opaque_leaves())
        .unwrap()
        .contains("Job"));

    // Nothing opaque: no warning.
    assert!(lockfile::opaque_warnings(&one::<Item>("Item").opaque_leaves()).is_none());
}

mod ack_v1 {
    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct Stamp {
        #[serde(with = "super::leaves::ts")]
        pub at: u64,
    }
}

mod ack_v2 {
    #[derive(serde::Serialize, cache_version_core::CacheVersion)]
    pub struct Stamp {
        #[serde(with = "super::leaves::ts")]
        #[cache_version(opaque)]
        pub at: u64,
    }
}

#[test]
fn acknowledging_a_with_field_changes_no_version() {
    assert_eq!(ack_v1::Stamp::VERSION, ack_v2::Stamp::VERSION);
    let report = diff(
        &one::<ack_v1::Stamp>("Stamp"),
        &one::<ack_v2::Stamp>("Stamp"),
        CodecKind::Json,
    );
    assert_eq!(report.models.len(), 1, "{report}");
    assert_eq!(
        report.models[0].compat,
        Compatibility::Identical,
        "{report}"
    );
}

#[test]
fn the_cli_check_lists_opaque_leaves_and_warns_without_failing() {
    let dir = tempdir("cli-opaque");
    let path = dir.join("jobs.lock");
    std::fs::write(&path, lock([Model::new::<leaves::Job>("Job")]).to_text()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cache-version"))
        .args(["check", path.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "warnings are not failures: {stderr}"
    );
    assert!(stdout.contains("opaque leaves"), "{stdout}");
    assert!(
        stdout.contains("Job.acknowledged  opaque(\"ts::serialize\")  acknowledged"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Job.created  opaque(\"ts::serialize\")  not acknowledged"),
        "{stdout}"
    );
    assert!(stderr.contains("warning: 2 opaque leaf(s)"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Run by `the_lockfile_test_output_names_unacknowledged_paths` in a child process (a no-op
/// otherwise): a lockfile test over a model with an unacknowledged `with` field.
#[test]
fn lockfile_test_with_an_unacknowledged_field() {
    let Some(dir) = std::env::var_os("CV_LOCKFILE_WARNING_DIR") else {
        return;
    };
    let path = PathBuf::from(dir).join("jobs.lock");
    let options = CheckOptions {
        mode: Mode::Overwrite,
        ..Default::default()
    };
    lockfile::check_lockfile_with(&path, [Model::new::<leaves::Job>("Job")], options).unwrap();
    lockfile::check_lockfile(&path, [Model::new::<leaves::Job>("Job")]).unwrap();
}

#[test]
fn the_lockfile_test_output_names_unacknowledged_paths() {
    let dir = tempdir("warning-output");
    // The test harness captures what a passing test prints with `eprintln!`; the warning
    // must show anyway, so it is checked on the output of a real run of that test.
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "lockfile_test_with_an_unacknowledged_field"])
        .env("CV_LOCKFILE_WARNING_DIR", &dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("warning: 2 opaque leaf(s)"), "{stderr}");
    assert!(
        stderr.contains("Job.created  opaque(\"ts::serialize\")"),
        "{stderr}"
    );
    assert!(stderr.contains("Job.attempts[].at"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
