//! Model identity: `CacheModel::model_name` of derived types, generic ones included, and the
//! key spaces `Cache::model` builds from it.

use std::collections::VecDeque;
use std::marker::PhantomData;

use cache_version_core::key::is_valid_name;
use cache_version_core::{
    Body, Cache, CacheModel, CacheVersion, Field, MemoryStore, ModelArg, Named, Shape, Ty,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
struct User {
    id: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
struct Order {
    id: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
struct Page<T> {
    items: Vec<T>,
}

#[derive(Serialize, CacheVersion)]
struct Pair<A, B>(A, B);

/// `T` only in `PhantomData`: no bound, so its shape is unknown.
#[derive(Serialize, CacheVersion)]
struct Id<T> {
    id: u64,
    #[serde(skip)]
    _t: PhantomData<T>,
}

/// The same, with a stated bound: the argument is known again.
#[derive(Serialize, CacheVersion)]
#[cache_version(bound = "T: CacheVersion")]
#[serde(bound = "")]
struct TypedId<T> {
    id: u64,
    #[serde(skip)]
    _t: PhantomData<T>,
}

#[derive(Serialize, CacheVersion)]
struct Buf<const N: usize, const SIGNED: i32, const ON: bool, const SEP: char> {
    bytes: Vec<u8>,
}

#[derive(Serialize, CacheVersion)]
#[cache_version(name = "Listing")]
struct PageV1<T> {
    entries: Vec<T>,
}

#[derive(Serialize, CacheVersion)]
struct Borrowed<'a, T> {
    text: &'a str,
    value: T,
}

#[derive(Serialize, CacheVersion)]
#[allow(dead_code, reason = "only its model name is used")]
enum Either<L, R> {
    Left(L),
    Right(R),
}

#[derive(Serialize, CacheVersion)]
#[serde(transparent)]
struct Wrapper<T>(T);

fn name<T: CacheModel>() -> String {
    let name = T::model_name().into_owned();
    assert!(is_valid_name(&name), "{name} must be valid in a key");
    name
}

#[test]
fn plain_types_are_named_by_their_rust_name() {
    assert_eq!(name::<User>(), "User");
    assert_eq!(name::<Order>(), "Order");
}

#[test]
fn generic_types_carry_their_arguments() {
    assert_eq!(name::<Page<User>>(), "Page<User>");
    assert_eq!(name::<Page<Order>>(), "Page<Order>");
    assert_eq!(name::<Page<u64>>(), "Page<u64>");
    assert_eq!(name::<Page<Page<User>>>(), "Page<Page<User>>");
    assert_eq!(name::<Pair<String, Option<u64>>>(), "Pair<str,option<u64>>");
    assert_eq!(
        name::<Either<User, Vec<Order>>>(),
        "Either<User,seq<Order>>"
    );
    assert_eq!(
        name::<Page<std::collections::HashMap<String, User>>>(),
        "Page<map<str,User>>"
    );
    assert_eq!(name::<Page<Result<u64, String>>>(), "Page<Result<u64,str>>");
    assert_eq!(name::<Page<()>>(), "Page<unit>");
    assert_eq!(
        name::<Borrowed<'static, User>>(),
        "Borrowed<User>",
        "no lifetimes"
    );
}

#[test]
fn tuples_and_arrays_use_key_safe_runs() {
    assert_eq!(name::<Page<[u8; 4]>>(), "Page<tuple<u8;4>>");
    assert_eq!(name::<Page<(u8, u8, String)>>(), "Page<tuple<u8;2,str>>");
    assert_eq!(name::<Page<[u8; 0]>>(), "Page<tuple<>>");
    assert_eq!(name::<Page<[u8; 1]>>(), "Page<tuple<u8>>");
}

#[test]
fn distinct_arguments_give_distinct_names_and_equal_ones_the_same() {
    let names = [
        name::<Page<User>>(),
        name::<Page<Order>>(),
        name::<Page<u64>>(),
        name::<Page<Page<User>>>(),
        name::<Page<Option<User>>>(),
    ];
    for (i, a) in names.iter().enumerate() {
        for b in &names[i + 1..] {
            assert_ne!(a, b);
        }
    }
    assert_eq!(name::<Page<User>>(), name::<Page<User>>());
    // Wire-equivalent arguments are one shape, one version and one name.
    assert_eq!(name::<Page<Vec<u8>>>(), name::<Page<VecDeque<u8>>>());
    assert_eq!(name::<Page<Box<String>>>(), name::<Page<String>>());
    assert_eq!(
        <Page<Vec<u8>> as CacheVersion>::VERSION,
        <Page<VecDeque<u8>> as CacheVersion>::VERSION
    );
}

#[test]
fn unbounded_parameters_are_an_underscore_unless_a_bound_is_stated() {
    assert_eq!(name::<Id<User>>(), "Id<_>");
    assert_eq!(name::<Id<User>>(), name::<Id<Order>>());
    assert_eq!(name::<TypedId<User>>(), "TypedId<User>");
    assert_ne!(name::<TypedId<User>>(), name::<TypedId<Order>>());
}

#[test]
fn const_arguments_are_written_by_value() {
    assert_eq!(name::<Buf<16, -3, true, 'x'>>(), "Buf<16,-3,true,'x'>");
    assert_eq!(name::<Buf<0, 0, false, ':'>>(), "Buf<0,0,false,'U+003A'>");
    assert_ne!(
        name::<Buf<16, 0, true, 'x'>>(),
        name::<Buf<32, 0, true, 'x'>>()
    );
}

#[test]
fn an_explicit_name_keeps_the_arguments() {
    assert_eq!(name::<PageV1<User>>(), "Listing<User>");
}

#[test]
fn the_name_is_metadata_not_part_of_the_version() {
    // `Page<T>` and a twin with another name and no arguments recorded have one version.
    #[derive(Serialize, CacheVersion)]
    #[cache_version(name = "Other")]
    struct Twin {
        items: Vec<User>,
    }
    assert_eq!(
        <Page<User> as CacheVersion>::VERSION,
        <Twin as CacheVersion>::VERSION
    );
    assert_eq!(
        <Page<User> as CacheVersion>::SHAPE.to_string(),
        <Twin as CacheVersion>::SHAPE.to_string()
    );
}

#[test]
fn transparent_types_are_not_models_of_their_own() {
    // `Wrapper<User>` has `User`'s shape; naming it needs `model_named`.
    assert_eq!(
        <Wrapper<User> as CacheVersion>::VERSION,
        <User as CacheVersion>::VERSION
    );
    // (`tests/ui/model-not-named.rs` shows that `cache.model::<Wrapper<User>>()` does not
    // compile.)
}

/// A hand-written impl: an empty `CacheModel` impl names it by its shape.
#[allow(dead_code, reason = "only its model name is used")]
struct Manual<T>(Vec<T>);
impl<T: CacheVersion> CacheVersion for Manual<T> {
    const SHAPE: &'static Shape = &Shape::Named(
        &Named::new("Manual", Body::NewtypeStruct(Ty::of::<Vec<T>>()))
            .with_args(&[ModelArg::of::<T>()]),
    );
}
impl<T: CacheVersion> CacheModel for Manual<T> {}

/// A hand-written name with characters keys forbid: they become `_`.
struct Odd;
impl CacheVersion for Odd {
    const SHAPE: &'static Shape = &Shape::Named(&Named::new(
        "odd name:1",
        Body::Struct {
            tag: None,
            fields: &[Field::new("x", Ty::of::<u8>())],
        },
    ));
}
impl CacheModel for Odd {}

#[test]
fn hand_written_impls_are_named_the_same_way() {
    assert_eq!(name::<Manual<User>>(), "Manual<User>");
    assert_eq!(name::<Page<Manual<u8>>>(), "Page<Manual<u8>>");
    assert_eq!(name::<Odd>(), "odd_name_1");
    assert_eq!(name::<Page<Odd>>(), "Page<odd_name_1>");
}

#[tokio::test]
async fn instantiations_of_one_generic_type_get_their_own_key_spaces() {
    let cache = Cache::builder(MemoryStore::new())
        .namespace("t")
        .build()
        .unwrap();
    let users = cache.model::<Page<User>>();
    let orders = cache.model::<Page<Order>>();
    assert_eq!(users.name(), "Page<User>");
    assert!(users.key("1").unwrap().starts_with(b"t:Page<User>:"));
    assert!(orders.key("1").unwrap().starts_with(b"t:Page<Order>:"));

    users
        .set(
            "1",
            &Page {
                items: vec![User { id: 7 }],
            },
        )
        .await
        .unwrap();
    orders
        .set(
            "1",
            &Page {
                items: vec![Order { id: 9 }],
            },
        )
        .await
        .unwrap();
    // A cleanup of one model's old versions leaves the other alone.
    let report = orders.cleanup().run().await.unwrap();
    assert_eq!(report.failed, 0);
    assert_eq!(
        users.get("1").await.unwrap(),
        Some(Page {
            items: vec![User { id: 7 }]
        })
    );
    assert_eq!(
        orders.get("1").await.unwrap(),
        Some(Page {
            items: vec![Order { id: 9 }]
        })
    );
}
