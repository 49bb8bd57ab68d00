//! The sensitivity table: before/after pairs of model definitions, each asserting whether the
//! version must change. A change that serde writes must move the version (else the incident of
//! seed 000); an edit serde does not write must not (else a warm cache is thrown away).
#![allow(dead_code)]

use cache_version_core::CacheVersion;
use serde::{Deserialize, Serialize};

/// `pair!(name, changes|same, Root, { before items } { after items })`
macro_rules! pair {
    ($name:ident, $expect:ident, $root:ident, { $($before:item)* } { $($after:item)* }) => {
        mod $name {
            use super::*;
            pub mod before {
                use super::*;
                $($before)*
            }
            pub mod after {
                use super::*;
                $($after)*
            }
        }

        #[test]
        fn $name() {
            let before = <$name::before::$root as CacheVersion>::VERSION;
            let after = <$name::after::$root as CacheVersion>::VERSION;
            let changed = before != after;
            let expect_change = stringify!($expect) == "changes";
            assert_eq!(
                changed,
                expect_change,
                "{}: expected the version to {}\n before: {}\n after:  {}",
                stringify!($name),
                if expect_change { "change" } else { "stay" },
                cache_version_core::schema_of::<$name::before::$root>(),
                cache_version_core::schema_of::<$name::after::$root>(),
            );
        }
    };
}

// ---- The seed incident -----------------------------------------------------------------

pair!(seed_000_field_renamed_in_rust, changes, User,
    { #[derive(Serialize, Deserialize, CacheVersion)] pub struct User { pub user_id: u64, pub user_name: String } }
    { #[derive(Serialize, Deserialize, CacheVersion)] pub struct User { pub user_id: u64, pub full_name: String } });

pair!(seed_000_field_renamed_through_serde, changes, User,
    { #[derive(Serialize, Deserialize, CacheVersion)] #[serde(rename_all = "camelCase")]
      pub struct User { pub user_id: u64, #[serde(rename = "userName")] pub name: String } }
    { #[derive(Serialize, Deserialize, CacheVersion)] #[serde(rename_all = "camelCase")]
      pub struct User { pub user_id: u64, #[serde(rename = "fullName")] pub name: String } });

pair!(seed_000_camel_case_rename_all, changes, User,
    { #[derive(Serialize, Deserialize, CacheVersion)] #[serde(rename_all = "camelCase")]
      pub struct User { pub user_id: u64, pub user_name: String } }
    { #[derive(Serialize, Deserialize, CacheVersion)] #[serde(rename_all = "camelCase")]
      pub struct User { pub user_id: u64, pub full_name: String } });

// ---- Names ------------------------------------------------------------------------------

pair!(rust_rename_that_keeps_the_wire_name, same, User,
    { #[derive(Serialize, Deserialize, CacheVersion)] pub struct User { pub id: u64, pub name: String } }
    { #[derive(Serialize, Deserialize, CacheVersion)] pub struct User { pub id: u64, #[serde(rename = "name")] pub full_name: String } });

pair!(rename_all_that_changes_no_name, same, User,
    { #[derive(Serialize, Deserialize, CacheVersion)] pub struct User { pub id: u64, pub name: String } }
    { #[derive(Serialize, Deserialize, CacheVersion)] #[serde(rename_all = "lowercase")] pub struct User { pub id: u64, pub name: String } });

pair!(rename_all_that_changes_names, changes, User,
    { #[derive(Serialize, Deserialize, CacheVersion)] pub struct User { pub user_id: u64 } }
    { #[derive(Serialize, Deserialize, CacheVersion)] #[serde(rename_all = "SCREAMING-KEBAB-CASE")] pub struct User { pub user_id: u64 } });

pair!(type_renamed, same, Outer,
    { #[derive(Serialize, CacheVersion)] pub struct Address { pub city: String }
      #[derive(Serialize, CacheVersion)] pub struct Outer { pub address: Address } }
    { #[derive(Serialize, CacheVersion)] pub struct Location { pub city: String }
      #[derive(Serialize, CacheVersion)] pub struct Outer { pub address: Location } });

pair!(raw_identifier_is_the_plain_name, same, User,
    { #[derive(Serialize, CacheVersion)] pub struct User { pub kind: u8, #[serde(rename = "type")] pub t: u8 } }
    { #[derive(Serialize, CacheVersion)] pub struct User { pub kind: u8, pub r#type: u8 } });

pair!(deserialize_name_changed, changes, User,
    { #[derive(Serialize, Deserialize, CacheVersion)] pub struct User { pub name: String } }
    { #[derive(Serialize, Deserialize, CacheVersion)] pub struct User { #[serde(rename(deserialize = "fullName"))] pub name: String } });

pair!(model_name_attribute_is_not_identity, same, User,
    { #[derive(Serialize, CacheVersion)] pub struct User { pub id: u64 } }
    { #[derive(Serialize, CacheVersion)] #[cache_version(name = "Member")] pub struct User { pub id: u64 } });

// ---- Fields -----------------------------------------------------------------------------

pair!(field_added, changes, User,
    { #[derive(Serialize, CacheVersion)] pub struct User { pub id: u64 } }
    { #[derive(Serialize, CacheVersion)] pub struct User { pub id: u64, pub email: String } });

pair!(field_removed, changes, User,
    { #[derive(Serialize, CacheVersion)] pub struct User { pub id: u64, pub email: String } }
    { #[derive(Serialize, CacheVersion)] pub struct User { pub id: u64 } });

pair!(field_order, changes, User,
    { #[derive(Serialize, CacheVersion)] pub struct User { pub id: u64, pub age: u64 } }
    { #[derive(Serialize, CacheVersion)] pub struct User { pub age: u64, pub id: u64 } });

pair!(field_type_widened, changes, User,
    { #[derive(Serialize, CacheVersion)] pub struct User { pub id: u32 } }
    { #[derive(Serialize, CacheVersion)] pub struct User { pub id: u64 } });

pair!(field_made_optional, changes, User,
    { #[derive(Serialize, CacheVersion)] pub struct User { pub email: String } }
    { #[derive(Serialize, CacheVersion)] pub struct User { pub email: Option<String> } });

pair!(skip_serializing_if_added, changes, User,
    { #[derive(Serialize, CacheVersion)] pub struct User { pub email: Option<String> } }
    { #[derive(Serialize, CacheVersion)] pub struct User { #[serde(skip_serializing_if = "Option::is_none")] pub email: Option<String> } });

pair!(skipped_field_added, same, User,
    { #[derive(Serialize, Deserialize, CacheVersion)] pub struct User { pub id: u64 } }
    { #[derive(Serialize, Deserialize, CacheVersion)] pub struct User { pub id: u64, #[serde(skip)] pub memo: Vec<u8> } });

pair!(skip_deserializing_field_still_written, same, User,
    { #[derive(Serialize, Deserialize, CacheVersion)] pub struct User { pub id: u64, pub memo: u8 } }
    { #[derive(Serialize, Deserialize, CacheVersion)] pub struct User { pub id: u64, #[serde(skip_deserializing)] pub memo: u8 } });

pair!(flatten_changes_the_representation, changes, User,
    { #[derive(Serialize, CacheVersion)] pub struct User { pub id: u64, pub city: String } }
    { #[derive(Serialize, CacheVersion)] pub struct Extra { pub city: String }
      #[derive(Serialize, CacheVersion)] pub struct User { pub id: u64, #[serde(flatten)] pub extra: Extra } });

pair!(flattened_type_changed, changes, User,
    { #[derive(Serialize, CacheVersion)] pub struct Extra { pub city: String }
      #[derive(Serialize, CacheVersion)] pub struct User { pub id: u64, #[serde(flatten)] pub extra: Extra } }
    { #[derive(Serialize, CacheVersion)] pub struct Extra { pub town: String }
      #[derive(Serialize, CacheVersion)] pub struct User { pub id: u64, #[serde(flatten)] pub extra: Extra } });

pair!(with_path_changed, changes, Event,
    { pub mod a { pub fn serialize<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> { s.serialize_u64(*v) } }
      pub mod b { pub fn serialize<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(&v.to_string()) } }
      #[derive(Serialize, CacheVersion)] pub struct Event { #[serde(serialize_with = "a::serialize")] pub at: u64 } }
    { pub mod a { pub fn serialize<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> { s.serialize_u64(*v) } }
      pub mod b { pub fn serialize<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(&v.to_string()) } }
      #[derive(Serialize, CacheVersion)] pub struct Event { #[serde(serialize_with = "b::serialize")] pub at: u64 } });

pair!(with_field_stated_shape_changed, changes, Event,
    { pub mod ts { pub fn serialize<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> { s.serialize_u64(*v) } }
      #[derive(Serialize, CacheVersion)] pub struct Event { #[serde(with = "ts")] #[cache_version(as = "u64")] pub at: u64 } }
    { pub mod ts { pub fn serialize<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> { s.serialize_u64(*v) } }
      #[derive(Serialize, CacheVersion)] pub struct Event { #[serde(with = "ts")] #[cache_version(as = "String")] pub at: u64 } });

// ---- Neutral edits -----------------------------------------------------------------------

pair!(doc_comments, same, User,
    { #[derive(Serialize, CacheVersion)] pub struct User { pub id: u64 } }
    { /// A user.
      #[derive(Serialize, CacheVersion)] pub struct User { /// The id.
        pub id: u64 } });

pair!(visibility, same, User,
    { #[derive(Serialize, CacheVersion)] pub struct User { id: u64 } }
    { #[derive(Serialize, CacheVersion)] pub struct User { pub(crate) id: u64 } });

pair!(extra_derives, same, User,
    { #[derive(Serialize, CacheVersion)] pub struct User { pub id: u64 } }
    { #[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize, CacheVersion)] pub struct User { pub id: u64 } });

pair!(type_alias, same, User,
    { #[derive(Serialize, CacheVersion)] pub struct User { pub email: String } }
    { pub type Email = String;
      #[derive(Serialize, CacheVersion)] pub struct User { pub email: Email } });

pair!(box_wrapping, same, User,
    { #[derive(Serialize, CacheVersion)] pub struct Address { pub city: String }
      #[derive(Serialize, CacheVersion)] pub struct User { pub address: Address, pub tags: Vec<String> } }
    { #[derive(Serialize, CacheVersion)] pub struct Address { pub city: String }
      #[derive(Serialize, CacheVersion)] pub struct User { pub address: Box<Address>, pub tags: std::sync::Arc<Vec<std::rc::Rc<str>>> } });

pair!(collection_swap_vec_to_vecdeque, same, User,
    { #[derive(Serialize, CacheVersion)] pub struct User { pub tags: Vec<String> } }
    { #[derive(Serialize, CacheVersion)] pub struct User { pub tags: std::collections::VecDeque<String> } });

pair!(collection_swap_hashmap_to_btreemap, same, User,
    { #[derive(Serialize, CacheVersion)] pub struct User { pub attrs: std::collections::HashMap<String, u32> } }
    { #[derive(Serialize, CacheVersion)] pub struct User { pub attrs: std::collections::BTreeMap<String, u32> } });

pair!(integer_to_nonzero_and_usize_to_u64, same, User,
    { #[derive(Serialize, CacheVersion)] pub struct User { pub a: u32, pub b: u64 } }
    { #[derive(Serialize, CacheVersion)] pub struct User { pub a: std::num::NonZeroU32, pub b: usize } });

pair!(borrowed_strings, same, User,
    { #[derive(Serialize, CacheVersion)] pub struct User { pub name: String } }
    { #[derive(Serialize, CacheVersion)] pub struct User<'a> { pub name: std::borrow::Cow<'a, str> } });

pair!(array_to_tuple, same, User,
    { #[derive(Serialize, CacheVersion)] pub struct User { pub rgba: [u8; 4] } }
    { #[derive(Serialize, CacheVersion)] pub struct User { pub rgba: (u8, u8, u8, u8) } });

pair!(alias_added_is_reader_metadata, same, User,
    { #[derive(Serialize, Deserialize, CacheVersion)] pub struct User { pub name: String } }
    { #[derive(Serialize, Deserialize, CacheVersion)] pub struct User { #[serde(alias = "userName")] pub name: String } });

pair!(default_added_is_reader_metadata, same, User,
    { #[derive(Serialize, Deserialize, CacheVersion)] pub struct User { pub name: String } }
    { #[derive(Default, Serialize, Deserialize, CacheVersion)] #[serde(default)] pub struct User { #[serde(default)] pub name: String } });

pair!(deny_unknown_fields_is_reader_metadata, same, User,
    { #[derive(Serialize, Deserialize, CacheVersion)] pub struct User { pub name: String } }
    { #[derive(Serialize, Deserialize, CacheVersion)] #[serde(deny_unknown_fields)] pub struct User { pub name: String } });

pair!(transparent_newtype_is_its_field, same, User,
    { #[derive(Serialize, CacheVersion)] pub struct User { pub id: u64 } }
    { #[derive(Serialize, CacheVersion)] #[serde(transparent)] pub struct UserId(u64);
      #[derive(Serialize, CacheVersion)] pub struct User { pub id: UserId } });

pair!(plain_newtype_is_a_newtype_struct, changes, User,
    { #[derive(Serialize, CacheVersion)] pub struct User { pub id: u64 } }
    { #[derive(Serialize, CacheVersion)] pub struct UserId(u64);
      #[derive(Serialize, CacheVersion)] pub struct User { pub id: UserId } });

// ---- Nested changes ----------------------------------------------------------------------

pair!(nested_four_levels_through_vec_option_box_map, changes, Root,
    { #[derive(Serialize, CacheVersion)] pub struct L3 { pub zip: u32 }
      #[derive(Serialize, CacheVersion)] pub struct L2 { pub by_name: std::collections::HashMap<String, L3> }
      #[derive(Serialize, CacheVersion)] pub struct L1 { pub next: Option<Box<L2>> }
      #[derive(Serialize, CacheVersion)] pub struct Root { pub items: Vec<L1> } }
    { #[derive(Serialize, CacheVersion)] pub struct L3 { pub zip: String }
      #[derive(Serialize, CacheVersion)] pub struct L2 { pub by_name: std::collections::HashMap<String, L3> }
      #[derive(Serialize, CacheVersion)] pub struct L1 { pub next: Option<Box<L2>> }
      #[derive(Serialize, CacheVersion)] pub struct Root { pub items: Vec<L1> } });

pair!(nested_four_levels_neutral_edit, same, Root,
    { #[derive(Serialize, CacheVersion)] pub struct L3 { pub zip: u32 }
      #[derive(Serialize, CacheVersion)] pub struct L2 { pub by_name: std::collections::HashMap<String, L3> }
      #[derive(Serialize, CacheVersion)] pub struct L1 { pub next: Option<Box<L2>> }
      #[derive(Serialize, CacheVersion)] pub struct Root { pub items: Vec<L1> } }
    { /// Postal code holder.
      #[derive(Debug, Serialize, CacheVersion)] pub struct L3 { pub(crate) zip: u32 }
      #[derive(Serialize, CacheVersion)] pub struct L2 { pub by_name: std::collections::BTreeMap<String, Box<L3>> }
      #[derive(Serialize, CacheVersion)] pub struct L1 { pub next: Option<std::sync::Arc<L2>> }
      #[derive(Serialize, CacheVersion)] pub struct Root { pub items: std::collections::VecDeque<L1> } });

pair!(nested_map_key_changed, changes, Root,
    { #[derive(Serialize, CacheVersion)] pub struct Root { pub m: std::collections::HashMap<u32, Vec<Option<(u8, String)>>> } }
    { #[derive(Serialize, CacheVersion)] pub struct Root { pub m: std::collections::HashMap<u32, Vec<Option<(u16, String)>>> } });

pair!(generic_argument_changed, changes, Root,
    { #[derive(Serialize, CacheVersion)] pub struct Page<T> { pub items: Vec<T>, pub next: Option<String> }
      #[derive(Serialize, CacheVersion)] pub struct Root { pub page: Page<u32> } }
    { #[derive(Serialize, CacheVersion)] pub struct Page<T> { pub items: Vec<T>, pub next: Option<String> }
      #[derive(Serialize, CacheVersion)] pub struct Root { pub page: Page<u64> } });

pair!(generic_argument_model_changed, changes, Root,
    { #[derive(Serialize, CacheVersion)] pub struct User { pub name: String }
      #[derive(Serialize, CacheVersion)] pub struct Page<T> { pub items: Vec<T> }
      #[derive(Serialize, CacheVersion)] pub struct Root { pub page: Page<User> } }
    { #[derive(Serialize, CacheVersion)] pub struct User { pub full_name: String }
      #[derive(Serialize, CacheVersion)] pub struct Page<T> { pub items: Vec<T> }
      #[derive(Serialize, CacheVersion)] pub struct Root { pub page: Page<User> } });

pair!(self_recursive_type_changed, changes, Node,
    { #[derive(Serialize, CacheVersion)] pub struct Node { pub value: u32, pub children: Vec<Node> } }
    { #[derive(Serialize, CacheVersion)] pub struct Node { pub value: u64, pub children: Vec<Node> } });

pair!(self_recursive_link_changed, changes, Node,
    { #[derive(Serialize, CacheVersion)] pub struct Node { pub value: u32, pub next: Option<Box<Node>> } }
    { #[derive(Serialize, CacheVersion)] pub struct Node { pub value: u32, pub next: Vec<Node> } });

// ---- Enums -------------------------------------------------------------------------------

pair!(enum_variant_added, changes, E,
    { #[derive(Serialize, CacheVersion)] pub enum E { A, B(u8) } }
    { #[derive(Serialize, CacheVersion)] pub enum E { A, B(u8), C { x: u8 } } });

pair!(enum_variant_renamed, changes, E,
    { #[derive(Serialize, CacheVersion)] pub enum E { Active, Banned } }
    { #[derive(Serialize, CacheVersion)] pub enum E { Active, Suspended } });

pair!(enum_variant_order, changes, E,
    { #[derive(Serialize, CacheVersion)] pub enum E { A, B } }
    { #[derive(Serialize, CacheVersion)] pub enum E { B, A } });

pair!(enum_external_to_internal_tag, changes, E,
    { #[derive(Serialize, CacheVersion)] pub enum E { A { x: u8 } } }
    { #[derive(Serialize, CacheVersion)] #[serde(tag = "type")] pub enum E { A { x: u8 } } });

pair!(enum_tag_renamed, changes, E,
    { #[derive(Serialize, CacheVersion)] #[serde(tag = "type")] pub enum E { A { x: u8 } } }
    { #[derive(Serialize, CacheVersion)] #[serde(tag = "kind")] pub enum E { A { x: u8 } } });

pair!(enum_adjacent_content_renamed, changes, E,
    { #[derive(Serialize, CacheVersion)] #[serde(tag = "t", content = "c")] pub enum E { A(u8) } }
    { #[derive(Serialize, CacheVersion)] #[serde(tag = "t", content = "data")] pub enum E { A(u8) } });

pair!(enum_made_untagged, changes, E,
    { #[derive(Serialize, CacheVersion)] pub enum E { A(u8), B(String) } }
    { #[derive(Serialize, CacheVersion)] #[serde(untagged)] pub enum E { A(u8), B(String) } });

pair!(enum_variant_made_untagged, changes, E,
    { #[derive(Serialize, CacheVersion)] pub enum E { A(u8), B(String) } }
    { #[derive(Serialize, CacheVersion)] pub enum E { A(u8), #[serde(untagged)] B(String) } });

pair!(enum_rename_all_variants, changes, E,
    { #[derive(Serialize, CacheVersion)] pub enum E { FirstOne, SecondOne } }
    { #[derive(Serialize, CacheVersion)] #[serde(rename_all = "snake_case")] pub enum E { FirstOne, SecondOne } });

pair!(enum_rename_all_fields, changes, E,
    { #[derive(Serialize, CacheVersion)] pub enum E { A { first_name: String } } }
    { #[derive(Serialize, CacheVersion)] #[serde(rename_all_fields = "camelCase")] pub enum E { A { first_name: String } } });

pair!(enum_skipped_variant_removed_before_others, changes, E,
    { #[derive(Serialize, CacheVersion)] pub enum E { A, #[serde(skip)] Internal, B } }
    { #[derive(Serialize, CacheVersion)] pub enum E { A, B } });

pair!(enum_skipped_variant_added_at_the_end, same, E,
    { #[derive(Serialize, CacheVersion)] pub enum E { A, B } }
    { #[derive(Serialize, CacheVersion)] pub enum E { A, B, #[serde(skip)] Internal } });

pair!(enum_other_is_reader_metadata, same, E,
    { #[derive(Serialize, Deserialize, CacheVersion)] #[serde(tag = "t")] pub enum E { A, Unknown } }
    { #[derive(Serialize, Deserialize, CacheVersion)] #[serde(tag = "t")] pub enum E { A, #[serde(other)] Unknown } });

pair!(enum_newtype_to_tuple_variant, changes, E,
    { #[derive(Serialize, CacheVersion)] pub enum E { A(u8) } }
    { #[derive(Serialize, CacheVersion)] pub enum E { A(u8, u8) } });

pair!(enum_unit_to_empty_struct_variant, changes, E,
    { #[derive(Serialize, CacheVersion)] pub enum E { A } }
    { #[derive(Serialize, CacheVersion)] pub enum E { A {} } });

// ---- Containers and manual bumps ---------------------------------------------------------

pair!(struct_tag_added, changes, User,
    { #[derive(Serialize, CacheVersion)] pub struct User { pub id: u64 } }
    { #[derive(Serialize, CacheVersion)] #[serde(tag = "type")] pub struct User { pub id: u64 } });

pair!(tagged_struct_renamed_changes_the_written_tag, changes, User,
    { #[derive(Serialize, CacheVersion)] #[serde(tag = "type")] pub struct User { pub id: u64 } }
    { #[derive(Serialize, CacheVersion)] #[serde(tag = "type", rename = "Member")] pub struct User { pub id: u64 } });

pair!(manual_bump_on_the_type, changes, Price,
    { #[derive(Serialize, CacheVersion)] pub struct Price { pub amount: u64 } }
    { #[derive(Serialize, CacheVersion)] #[cache_version(bump = 1)] pub struct Price { pub amount: u64 } });

pair!(manual_bump_on_a_field, changes, Price,
    { #[derive(Serialize, CacheVersion)] pub struct Price { pub amount: u64 } }
    { #[derive(Serialize, CacheVersion)] pub struct Price { #[cache_version(bump = 1)] pub amount: u64 } });

pair!(manual_bump_reaches_the_top, changes, Order,
    { #[derive(Serialize, CacheVersion)] pub struct Price { pub amount: u64 }
      #[derive(Serialize, CacheVersion)] pub struct Order { pub prices: Vec<Price> } }
    { #[derive(Serialize, CacheVersion)] #[cache_version(bump = 2)] pub struct Price { pub amount: u64 }
      #[derive(Serialize, CacheVersion)] pub struct Order { pub prices: Vec<Price> } });

pair!(into_proxy, changes, Money,
    { #[derive(Serialize, CacheVersion)] pub struct Money { pub cents: u64 } }
    { #[derive(Clone, Serialize, CacheVersion)] pub struct Raw { pub cents: u64 }
      #[derive(Clone, Serialize, CacheVersion)] #[serde(into = "Raw")] pub struct Money { pub cents: u64 }
      impl From<Money> for Raw { fn from(m: Money) -> Raw { Raw { cents: m.cents } } } });

pair!(from_into_same_proxy_is_the_proxy, same, Money,
    { #[derive(Serialize, Deserialize, CacheVersion)] pub struct Money { pub cents: u64 } }
    { #[derive(Clone, Serialize, Deserialize, CacheVersion)] pub struct Money { pub cents: u64 }
      #[derive(Clone, Serialize, Deserialize, CacheVersion)] #[serde(from = "Money", into = "Money")]
      pub struct Dollars { pub value: f64 }
      impl From<Money> for Dollars { fn from(m: Money) -> Dollars { Dollars { value: m.cents as f64 } } }
      impl From<Dollars> for Money { fn from(d: Dollars) -> Money { Money { cents: d.value as u64 } } } });

pair!(generic_phantom_parameter, same, Root,
    { #[derive(Serialize, CacheVersion)] pub struct Id<T> { pub raw: u64, pub _t: std::marker::PhantomData<T> } pub type Root = Id<u8>; }
    { #[derive(Serialize, CacheVersion)] pub struct Id<T> { pub raw: u64, pub _t: std::marker::PhantomData<T> } pub type Root = Id<String>; });
