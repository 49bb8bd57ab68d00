//! An independent oracle for the claim of `CacheVersion::SHAPE`: "exactly what serde writes".
//!
//! 1. `conformance::record` (public, feature `conformance`) is a `serde::Serializer` that
//!    turns one serialized value into `Observed`, the tree of serde data-model calls it
//!    received (with `is_human_readable` configurable).
//! 2. `conformance::conforms` checks an observed tree against a [`Shape`], with the rules of
//!    serde's own code generation (`serde_derive/src/ser.rs`) and of its private helpers
//!    (`serde/src/private/ser.rs`: `TaggedSerializer`, `FlatMapSerializer`, `Content`).
//! 3. The tests serialize sample values of every model of `tests/src/models.rs` (and of the
//!    std impls) in both human-readable modes and check them; negative tests prove the checker
//!    fails where it must.
//!
//! The checker does not compare type names (`serialize_struct("Price", ..)` vs
//! `Named::name = "PriceModel"`): `Named::name` is documented as the name for people, not part
//! of what formats write. Everything else serde passes (field keys, variant names and indices,
//! tag values, lengths, primitive kinds) is checked.

use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList, VecDeque};

use cache_version_core::conformance::{conforms, record, Observed as Obs};
use cache_version_core::{CacheVersion, Shape, Version};
use cache_version_tests::models::{self, *};
use serde::{Serialize, Serializer};

/// The observed tree, cut short for messages.
fn short(obs: &Obs) -> String {
    let s = obs.to_string();
    if s.chars().count() > 240 {
        format!("{}…", s.chars().take(240).collect::<String>())
    } else {
        s
    }
}

// ================================================================================================
// 3. Samples of every model
// ================================================================================================

struct Sample {
    name: &'static str,
    shape: &'static Shape,
    version: Version,
    /// A description of the value, for messages.
    what: String,
    /// What serde wrote: `[compact, human-readable]`.
    obs: [Obs; 2],
}

fn sample<T: Serialize + CacheVersion + ?Sized>(name: &'static str, what: &str, v: &T) -> Sample {
    sample_as::<T, T>(name, what, v)
}

/// A value of another type `V` that serde writes exactly as a `T` (for `T`s that cannot be
/// built, such as a `HashMap` keyed by a type without `Hash`).
fn sample_as<T: CacheVersion + ?Sized, V: Serialize + ?Sized>(
    name: &'static str,
    what: &str,
    v: &V,
) -> Sample {
    let rec =
        |human| record(v, human).unwrap_or_else(|e| panic!("{name} {what}: serde failed: {e}"));
    Sample {
        name,
        shape: T::SHAPE,
        version: T::VERSION,
        what: what.to_owned(),
        obs: [rec(false), rec(true)],
    }
}

macro_rules! samples {
    ($($t:ty => [$($v:expr),* $(,)?]),* $(,)?) => {
        vec![$($(sample::<$t>(stringify!($t), stringify!($v), &$v)),*),*]
    };
}

fn address(city: &str) -> Address {
    Address {
        city: city.into(),
        zip: "75001".into(),
    }
}

fn user(full: bool) -> User {
    User {
        user_id: 42,
        name: "Ada Lovelace".into(),
        email: full.then(|| "ada@example.com".into()),
        address: full.then(|| Box::new(address("London"))),
        tags: if full {
            vec!["admin".into(), "math".into()]
        } else {
            vec![]
        },
        session: vec![1, 2, 3],
        nickname: if full {
            std::borrow::Cow::Owned("ada".into())
        } else {
            std::borrow::Cow::Borrowed("")
        },
        scores: if full {
            HashMap::from([("chess".into(), (3, 0.5)), ("go".into(), (1, 2.0))])
        } else {
            HashMap::new()
        },
    }
}

fn page<T>(items: Vec<T>, next: Option<&str>) -> Page<T> {
    Page {
        items,
        next: next.map(Into::into),
        _marker: std::marker::PhantomData,
    }
}

fn everything(full: bool) -> Everything<'static, u16, 4> {
    Everything {
        b: full,
        ints: (-1, -2, -3, -4, -5, -6),
        uints: (1, 2, 3, 4, 5, 6),
        floats: (1.5, -2.5),
        c: 'λ',
        s: "borrowed",
        unit: (),
        arr: [7, 8, 9],
        len_marker: std::marker::PhantomData,
        nested: full.then(|| {
            vec![
                HashMap::from([("a".into(), Some(1)), ("b".into(), None)]),
                HashMap::new(),
            ]
        }),
        result: if full { Ok(1) } else { Err("bad".into()) },
        duration: std::time::Duration::new(5, 6),
        ip: if full {
            std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1))
        } else {
            std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
        },
    }
}

fn node() -> Node {
    let leaf = |value| Node {
        value,
        children: vec![],
        next: None,
    };
    Node {
        value: 1,
        children: vec![
            leaf(2),
            Node {
                value: 3,
                children: vec![leaf(4)],
                next: Some(Box::new(leaf(5))),
            },
        ],
        next: Some(Box::new(Node {
            value: 6,
            children: vec![leaf(7)],
            next: None,
        })),
    }
}

fn tree() -> Tree<String> {
    let leaf = |v: &str| Tree {
        value: v.to_owned(),
        children: vec![],
    };
    Tree {
        value: "root".into(),
        children: vec![
            leaf("a"),
            Tree {
                value: "b".into(),
                children: vec![leaf("c")],
            },
        ],
    }
}

/// Written exactly as serde writes a `HashMap` (`Serializer::collect_map`), for keys that have
/// no `Hash`/`Eq` (such as `UserId`).
struct AsMap<K, V>(Vec<(K, V)>);

impl<K: Serialize, V: Serialize> Serialize for AsMap<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

fn model_samples() -> Vec<Sample> {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
    use std::ops::Bound;
    use std::time::{Duration, SystemTime};
    let mut out = vec![sample_as::<HashMap<UserId, Page<Address>>, _>(
        "HashMap<UserId, Page<Address>>",
        "AsMap(vec![(UserId(1), page(..)), (UserId(2), page(vec![], None))])",
        &AsMap(vec![
            (UserId(1), page(vec![address("X")], Some("n"))),
            (UserId(2), page(vec![], None)),
        ]),
    )];
    out.extend(samples![
        Address => [address("Paris"), Address { city: String::new(), zip: String::new() }],
        User => [user(true), user(false)],
        Unit => [Unit],
        Meters => [Meters(1.5)],
        Rgb => [Rgb(1, 2, 3, 4)],
        UserId => [UserId(7)],
        External => [
            External::Unit,
            External::Newtype(address("Rome")),
            External::Tuple(1, "x".into()),
            External::Struct { x: -1, y: 2 },
            External::Last,
        ],
        Internal => [
            Internal::Created { at: 10 },
            Internal::Deleted,
            Internal::Moved(address("Oslo")),
            Internal::Unknown,
        ],
        Adjacent => [Adjacent::A(3), Adjacent::B { first_name: "Bo".into() }],
        Untagged => [Untagged::Int(-9), Untagged::Text("t".into())],
        PartlyUntagged => [
            PartlyUntagged::Known { id: 1 },
            PartlyUntagged::Fallback(serde_json_value::Raw(BTreeMap::from([("k".into(), "v".into())]))),
            PartlyUntagged::Fallback(serde_json_value::Raw(BTreeMap::new())),
        ],
        Tagged => [Tagged { id: 5 }],
        Settings => [Settings { verbose: true, level: 3, computed: 9 }, Settings::default()],
        WithFlatten => [
            WithFlatten { id: 1, extra: BTreeMap::new() },
            WithFlatten {
                id: 2,
                extra: BTreeMap::from([("a".into(), "1".into()), ("id".into(), "dup".into())]),
            },
        ],
        Custom => [
            Custom { opaque_by_with: 1, stated: 2, no_impl_skipped: None },
            Custom { opaque_by_with: 3, stated: 4, no_impl_skipped: Some(NoImplHolder::default()) },
        ],
        Page<User> => [page(vec![user(true), user(false)], Some("cursor")), page(vec![], None)],
        Page<u8> => [page(vec![1, 2], None), page(vec![], Some("c"))],
        Node => [node()],
        Tree<String> => [tree()],
        Money => [Money { dollars: 12.34 }],
        Email => [Email { local: "a".into(), domain: "b.c".into() }],
        Price => [Price { amount: 100, currency: *b"EUR" }],
        Everything<'static, u16, 4> => [everything(true), everything(false)],
        Vec<Option<(u8, u8, String)>> => [vec![Some((1, 2, "x".into())), None], vec![]],
        [Address; 2] => [[address("A"), address("B")]],
        HashMap<UserId, Page<Address>> => [HashMap::new()],
        std::time::SystemTime => [SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000, 5)],
        std::ops::Bound<u8> => [Bound::Unbounded, Bound::Included(1), Bound::Excluded(2)],
        std::net::SocketAddr => [
            SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 80)),
            SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 443, 0, 0)),
        ],
    ]);
    out
}

/// The std impls of `cache-version-core` that the models do not reach.
fn std_samples() -> Vec<Sample> {
    use std::borrow::Cow;
    use std::cell::{Cell, RefCell};
    use std::cmp::Reverse;
    use std::ffi::{CString, OsString};
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
    use std::num::{NonZeroI64, NonZeroU8, NonZeroUsize, Saturating, Wrapping};
    use std::ops::{Range, RangeFrom, RangeInclusive, RangeTo};
    use std::path::PathBuf;
    use std::rc::Rc;
    use std::sync::atomic::{AtomicBool, AtomicI32, AtomicIsize, AtomicU64, AtomicUsize};
    use std::sync::{Arc, Mutex, RwLock};
    let rc = Rc::new(5u8);
    let arc = Arc::new(6u8);
    let dead = Rc::downgrade(&Rc::new(0u8));
    samples![
        bool => [true], i8 => [-1i8], i16 => [-1i16], i32 => [-1i32], i64 => [-1i64],
        i128 => [-1i128], isize => [-1isize], u8 => [1u8], u16 => [1u16], u32 => [1u32],
        u64 => [1u64], u128 => [1u128], usize => [1usize], f32 => [1.0f32], f64 => [1.0f64],
        char => ['c'], String => [String::from("s")], &'static str => ["s"], () => [()],
        Box<str> => [Box::<str>::from("b")], Rc<str> => [Rc::<str>::from("r")],
        Arc<String> => [Arc::new(String::from("a"))], Cow<'static, [u8]> => [Cow::Borrowed(&[1u8, 2][..])],
        PathBuf => [PathBuf::from("/tmp/x")],
        CString => [CString::new("c").unwrap()],
        OsString => [OsString::from("os")],
        Option<u8> => [Some(1u8), None],
        Vec<u8> => [vec![1u8, 2]], Box<[u16]> => [vec![1u16].into_boxed_slice()],
        VecDeque<u8> => [VecDeque::from([1u8])], LinkedList<u8> => [LinkedList::from([1u8])],
        BinaryHeap<u8> => [BinaryHeap::from([1u8, 3])], BTreeSet<u8> => [BTreeSet::from([1u8])],
        HashSet<u8> => [HashSet::from([1u8])],
        BTreeMap<u8, String> => [BTreeMap::from([(1u8, String::new())])],
        [u8; 0] => [[0u8; 0]], [u8; 4] => [[1u8, 2, 3, 4]], (u8,) => [(1u8,)],
        (u8, String, Option<bool>) => [(1u8, String::new(), Some(true))],
        Cell<u8> => [Cell::new(1u8)], RefCell<u8> => [RefCell::new(1u8)],
        Mutex<u8> => [Mutex::new(1u8)], RwLock<u8> => [RwLock::new(1u8)],
        Wrapping<u8> => [Wrapping(1u8)], Saturating<u8> => [Saturating(1u8)],
        Reverse<u8> => [Reverse(1u8)],
        NonZeroU8 => [NonZeroU8::new(1).unwrap()], NonZeroI64 => [NonZeroI64::new(-1).unwrap()],
        NonZeroUsize => [NonZeroUsize::new(1).unwrap()],
        AtomicBool => [AtomicBool::new(true)], AtomicI32 => [AtomicI32::new(1)],
        AtomicIsize => [AtomicIsize::new(1)], AtomicU64 => [AtomicU64::new(1)],
        AtomicUsize => [AtomicUsize::new(1)],
        Rc<u8> => [rc.clone()], Arc<u8> => [arc.clone()],
        std::rc::Weak<u8> => [Rc::downgrade(&rc), dead.clone()],
        std::sync::Weak<u8> => [Arc::downgrade(&arc)],
        std::marker::PhantomData<String> => [std::marker::PhantomData],
        Result<u8, String> => [Ok(1), Err(String::from("e"))],
        Range<u8> => [1u8..2], RangeInclusive<u8> => [1u8..=2], RangeFrom<u8> => [1u8..],
        RangeTo<u8> => [..2u8],
        std::time::Duration => [std::time::Duration::from_millis(1500)],
        Ipv4Addr => [Ipv4Addr::new(1, 2, 3, 4)], Ipv6Addr => [Ipv6Addr::UNSPECIFIED],
        std::net::IpAddr => [std::net::IpAddr::V4(Ipv4Addr::LOCALHOST)],
        SocketAddrV4 => [SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1)],
        SocketAddrV6 => [SocketAddrV6::new(Ipv6Addr::LOCALHOST, 1, 2, 3)],
    ]
}

/// Checks every sample in both modes; returns the failures.
fn failures(samples: &[Sample]) -> Vec<String> {
    let mut out = Vec::new();
    for s in samples {
        for (human, obs) in [false, true].into_iter().zip(&s.obs) {
            if let Err(e) = conforms(obs, s.shape, human) {
                out.push(format!(
                    "{} = {} (human_readable = {human}):\n  serde wrote: {}\n  shape: {}\n  {e}",
                    s.name,
                    s.what,
                    short(obs),
                    s.shape
                ));
            }
        }
    }
    out
}

#[test]
fn every_model_value_conforms_in_both_modes() {
    let samples = model_samples();
    let bad = failures(&samples);
    eprintln!(
        "checked {} model values x 2 modes = {} observations",
        samples.len(),
        samples.len() * 2
    );
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
}

#[test]
fn every_std_impl_value_conforms_in_both_modes() {
    let samples = std_samples();
    let bad = failures(&samples);
    eprintln!(
        "checked {} std values x 2 modes = {} observations",
        samples.len(),
        samples.len() * 2
    );
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
}

#[test]
fn every_model_has_samples() {
    let samples = model_samples();
    for (name, _, version) in models::all() {
        let of_it: Vec<&Sample> = samples.iter().filter(|s| s.name == name).collect();
        assert!(!of_it.is_empty(), "no sample value of {name}");
        for s in of_it {
            assert_eq!(s.version, version, "{name}: the sample is of another type");
        }
    }
}

/// Each variant of each model enum, and both arms of each option, are sampled.
#[test]
fn samples_cover_every_variant_and_option_arm() {
    let samples = model_samples();
    let mut seen: HashSet<(&str, String)> = HashSet::new();
    fn walk(o: &Obs, out: &mut Vec<String>) {
        match o {
            Obs::UnitVariant { variant, .. }
            | Obs::NewtypeVariant { variant, .. }
            | Obs::TupleVariant { variant, .. }
            | Obs::StructVariant { variant, .. } => out.push(format!("variant {variant}")),
            Obs::Str(s) => out.push(format!("str {s}")),
            Obs::None => out.push("none".into()),
            Obs::Some(_) => out.push("some".into()),
            _ => {}
        }
        match o {
            Obs::Some(v)
            | Obs::NewtypeStruct { value: v, .. }
            | Obs::NewtypeVariant { value: v, .. } => walk(v, out),
            Obs::Seq { elems, .. }
            | Obs::Tuple { elems, .. }
            | Obs::TupleStruct { elems, .. }
            | Obs::TupleVariant { elems, .. } => elems.iter().for_each(|e| walk(e, out)),
            Obs::Map { entries, .. } => entries.iter().for_each(|(k, v)| {
                walk(k, out);
                walk(v, out)
            }),
            Obs::Struct { fields, .. } | Obs::StructVariant { fields, .. } => {
                fields.iter().for_each(|(_, v)| walk(v, out))
            }
            _ => {}
        }
    }
    for s in &samples {
        for o in &s.obs {
            let mut out = Vec::new();
            walk(o, &mut out);
            seen.extend(out.into_iter().map(|x| (s.name, x)));
        }
    }
    let want: &[(&str, &str)] = &[
        ("External", "variant Unit"),
        ("External", "variant Newtype"),
        ("External", "variant Tuple"),
        ("External", "variant Struct"),
        ("External", "variant last one"),
        ("Internal", "str created"),
        ("Internal", "str deleted"),
        ("Internal", "str moved"),
        ("Internal", "str unknown"),
        ("Adjacent", "variant A"),
        ("Adjacent", "variant B"),
        ("PartlyUntagged", "variant Known"),
        ("Everything<'static, u16, 4>", "variant Ok"),
        ("Everything<'static, u16, 4>", "variant Err"),
        ("Everything<'static, u16, 4>", "variant V4"),
        ("Everything<'static, u16, 4>", "variant V6"),
        ("Everything<'static, u16, 4>", "none"),
        ("Everything<'static, u16, 4>", "some"),
        ("User", "none"),
        ("User", "some"),
        ("Page<User>", "none"),
        ("Page<User>", "some"),
        ("Node", "none"),
        ("Node", "some"),
        ("Vec<Option<(u8, u8, String)>>", "none"),
        ("Vec<Option<(u8, u8, String)>>", "some"),
        ("std::ops::Bound<u8>", "variant Unbounded"),
        ("std::ops::Bound<u8>", "variant Included"),
        ("std::ops::Bound<u8>", "variant Excluded"),
        ("std::net::SocketAddr", "variant V4"),
        ("std::net::SocketAddr", "variant V6"),
    ];
    for (name, what) in want {
        assert!(
            seen.contains(&(*name, what.to_string())),
            "{name}: no sample writes {what}"
        );
    }
}

#[test]
fn a_skipped_variant_cannot_be_serialized() {
    // `External::Hidden` keeps index 4 in the shape, but serde refuses to write it.
    assert!(record(&External::Hidden, true).is_err());
    assert!(record(&External::Hidden, false).is_err());
}

/// Pins the oracle's reading of serde: these are the calls serde makes, independent of any
/// shape (if serde changed, the checker's rules would need to follow).
#[test]
fn the_recorder_sees_serdes_calls() {
    let s = |v: &str| Obs::Str(v.to_owned());
    // Internally tagged newtype variant: the tag goes first into the content's struct.
    let moved = record(&Internal::Moved(address("Oslo")), true).unwrap();
    assert_eq!(
        moved,
        Obs::Struct {
            name: "Address",
            len: 3,
            fields: vec![
                ("type", s("moved")),
                ("city", s("Oslo")),
                ("zip", s("75001"))
            ],
        }
    );
    // Internally tagged unit variant: a struct with the tag alone.
    let deleted = record(&Internal::Deleted, true).unwrap();
    assert_eq!(
        deleted,
        Obs::Struct {
            name: "Internal",
            len: 1,
            fields: vec![("type", s("deleted"))],
        }
    );
    // Adjacently tagged: the tag is a unit variant (an index in compact formats).
    let a = record(&Adjacent::A(3), false).unwrap();
    assert_eq!(
        a,
        Obs::Struct {
            name: "Adjacent",
            len: 2,
            fields: vec![
                (
                    "t",
                    Obs::UnitVariant {
                        name: "Adjacent",
                        index: 0,
                        variant: "A",
                    }
                ),
                ("c", Obs::U8(3)),
            ],
        }
    );
    // A tagged struct: the tag holds the struct's name.
    let t = record(&Tagged { id: 5 }, true).unwrap();
    assert_eq!(
        t,
        Obs::Struct {
            name: "Tagged",
            len: 2,
            fields: vec![("kind", s("Tagged")), ("id", Obs::U32(5))],
        }
    );
    // Flatten: a map, the flattened entries inline.
    let f = record(
        &WithFlatten {
            id: 1,
            extra: BTreeMap::from([("k".into(), "v".into())]),
        },
        true,
    )
    .unwrap();
    assert_eq!(
        f,
        Obs::Map {
            len: None,
            entries: vec![(s("id"), Obs::U64(1)), (s("k"), s("v"))],
        }
    );
    // A skipped variant still takes its index: "last one" is #5.
    let last = record(&External::Last, false).unwrap();
    assert_eq!(
        last,
        Obs::UnitVariant {
            name: "External",
            index: 5,
            variant: "last one",
        }
    );
    // Readable types: a string for humans, octets for compact formats.
    let ip = std::net::IpAddr::V4(std::net::Ipv4Addr::new(1, 2, 3, 4));
    assert_eq!(record(&ip, true).unwrap(), s("1.2.3.4"));
    assert!(matches!(
        record(&ip, false).unwrap(),
        Obs::NewtypeVariant { variant: "V4", index: 0, value, .. }
            if matches!(*value, Obs::Tuple { len: 4, .. })
    ));
    // `into`: Money is written as MoneyRaw.
    assert!(matches!(
        record(&Money { dollars: 1.0 }, true).unwrap(),
        Obs::Struct {
            name: "MoneyRaw",
            ..
        }
    ));
}

// ================================================================================================
// 4. Negative tests: the checker fails where it must
// ================================================================================================

fn both_fail(obs_of: impl Fn(bool) -> Obs, shape: &Shape) -> String {
    let mut msgs = Vec::new();
    for human in [false, true] {
        match conforms(&obs_of(human), shape, human) {
            Ok(()) => panic!(
                "the checker accepted a wrong value (human = {human}):\n  {}\n  shape: {shape}",
                short(&obs_of(human))
            ),
            Err(e) => msgs.push(e),
        }
    }
    msgs.join("\n")
}

fn rec<T: Serialize>(v: &T) -> impl Fn(bool) -> Obs + '_ {
    move |human| record(v, human).unwrap()
}

#[test]
fn negative_a_user_is_not_an_address() {
    let e = both_fail(rec(&user(true)), Address::SHAPE);
    assert!(e.contains("city"), "{e}");
}

#[derive(Serialize)]
struct AddressRenamed {
    town: String,
    zip: String,
}

#[derive(Serialize)]
struct AddressSwapped {
    zip: String,
    city: String,
}

#[derive(Serialize)]
struct AddressExtra {
    city: String,
    zip: String,
    country: String,
}

#[derive(Serialize)]
struct AddressShort {
    city: String,
}

#[test]
fn negative_renamed_reordered_extra_or_missing_fields() {
    let e = both_fail(
        rec(&AddressRenamed {
            town: "a".into(),
            zip: "b".into(),
        }),
        Address::SHAPE,
    );
    assert!(e.contains("\"city\""), "{e}");
    both_fail(
        rec(&AddressSwapped {
            zip: "a".into(),
            city: "b".into(),
        }),
        Address::SHAPE,
    );
    let e = both_fail(
        rec(&AddressExtra {
            city: "a".into(),
            zip: "b".into(),
            country: "c".into(),
        }),
        Address::SHAPE,
    );
    assert!(e.contains("country"), "{e}");
    both_fail(rec(&AddressShort { city: "a".into() }), Address::SHAPE);
}

/// User with `userId` serialized as `user_id` (a missing `rename_all`).
#[derive(Serialize)]
struct UserSnake {
    user_id: u64,
    #[serde(rename = "fullName")]
    name: String,
    email: Option<String>,
    address: Option<Address>,
    tags: Vec<String>,
    nickname: String,
    scores: HashMap<String, (u32, f64)>,
}

/// User whose `address` is always written but `nickname` may be skipped.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserSkips {
    user_id: u64,
    #[serde(rename = "fullName")]
    name: String,
    email: Option<String>,
    address: Option<Address>,
    tags: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    nickname: String,
    scores: HashMap<String, (u32, f64)>,
}

#[test]
fn negative_user_variants() {
    let snake = UserSnake {
        user_id: 1,
        name: "n".into(),
        email: None,
        address: None,
        tags: vec![],
        nickname: "x".into(),
        scores: HashMap::new(),
    };
    let e = both_fail(rec(&snake), User::SHAPE);
    assert!(e.contains("user_id"), "{e}");
    // Writing `email: None` is fine (MaybeAbsent may be present), but a missing `nickname`
    // (Always) is not.
    let skips = UserSkips {
        user_id: 1,
        name: "n".into(),
        email: None,
        address: None,
        tags: vec![],
        nickname: "x".into(),
        scores: HashMap::new(),
    };
    for human in [false, true] {
        conforms(&record(&skips, human).unwrap(), User::SHAPE, human).unwrap();
    }
    let skipped = UserSkips {
        nickname: String::new(),
        ..skips
    };
    let e = both_fail(rec(&skipped), User::SHAPE);
    assert!(e.contains("nickname"), "{e}");
    // A wrong value type deep inside: scores as (u32, f32).
    let mut o = record(&user(true), true).unwrap();
    if let Obs::Struct { fields, .. } = &mut o {
        for (k, v) in fields.iter_mut() {
            if *k == "scores" {
                *v = record(&HashMap::from([("a".to_string(), (1u32, 2.0f32))]), true).unwrap();
            }
        }
    }
    let e = conforms(&o, User::SHAPE, true).unwrap_err();
    assert!(e.contains("f32 2"), "{e}");
}

/// `External` without the skipped `Hidden`: "last one" gets index 4 instead of 5.
#[allow(dead_code)]
#[derive(Serialize)]
enum ExternalNoHidden {
    Unit,
    Newtype(Address),
    Tuple(u8, String),
    Struct {
        #[serde(rename = "x-coord")]
        x: i32,
        y: i32,
    },
    #[serde(rename = "last one")]
    Last,
}

#[test]
fn negative_variant_index_and_name() {
    // Variants before the skipped one still conform...
    for human in [false, true] {
        let o = record(&ExternalNoHidden::Tuple(1, "x".into()), human).unwrap();
        conforms(&o, External::SHAPE, human).unwrap();
    }
    // ...but the index of the one after it differs.
    let e = both_fail(rec(&ExternalNoHidden::Last), External::SHAPE);
    assert!(e.contains("#4"), "{e}");
    // A struct variant with the original field name.
    let o = |_| Obs::StructVariant {
        name: "External",
        index: 3,
        variant: "Struct",
        len: 2,
        fields: vec![("x", Obs::I32(1)), ("y", Obs::I32(2))],
    };
    both_fail(o, External::SHAPE);
    // The unit variant written as a newtype variant.
    let o = |_| Obs::NewtypeVariant {
        name: "External",
        index: 0,
        variant: "Unit",
        value: Box::new(Obs::Unit),
    };
    both_fail(o, External::SHAPE);
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum InternalWrongTag {
    Created { at: u64 },
}

#[derive(Serialize)]
#[serde(tag = "t", content = "c")]
enum AdjacentAsStrings {
    #[serde(rename = "A")]
    A(u8),
}

#[test]
fn negative_tags() {
    // The wrong tag key.
    both_fail(rec(&InternalWrongTag::Created { at: 1 }), Internal::SHAPE);
    // The wrong tag value.
    let o = |_| Obs::Struct {
        name: "Internal",
        len: 1,
        fields: vec![("type", Obs::Str("Deleted".into()))],
    };
    both_fail(o, Internal::SHAPE);
    // The content of a newtype variant without the tag.
    both_fail(rec(&address("x")), Internal::SHAPE);
    // An adjacent tag written as a string instead of serde's unit variant.
    let o = |_| Obs::Struct {
        name: "Adjacent",
        len: 2,
        fields: vec![("t", Obs::Str("A".into())), ("c", Obs::U8(1))],
    };
    both_fail(o, Adjacent::SHAPE);
    // The right enum with a different variant set: B's content is not a u8.
    for human in [false, true] {
        conforms(
            &record(&AdjacentAsStrings::A(1), human).unwrap(),
            Adjacent::SHAPE,
            human,
        )
        .unwrap();
    }
    let o = |_| Obs::Struct {
        name: "Adjacent",
        len: 2,
        fields: vec![
            (
                "t",
                Obs::UnitVariant {
                    name: "Adjacent",
                    index: 1,
                    variant: "B",
                },
            ),
            ("c", Obs::U8(1)),
        ],
    };
    both_fail(o, Adjacent::SHAPE);
    // A struct without its struct tag.
    #[derive(Serialize)]
    struct Plain {
        id: u32,
    }
    both_fail(rec(&Plain { id: 1 }), Tagged::SHAPE);
}

#[test]
fn negative_readable_picks_by_mode() {
    let ip = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    let human = record(&ip, true).unwrap();
    let compact = record(&ip, false).unwrap();
    let shape = <std::net::IpAddr as CacheVersion>::SHAPE;
    conforms(&human, shape, true).unwrap();
    conforms(&compact, shape, false).unwrap();
    assert!(conforms(&human, shape, false).is_err());
    assert!(conforms(&compact, shape, true).is_err());
}

#[test]
fn negative_primitives_tuples_options_and_flatten() {
    both_fail(rec(&1u32), u64::SHAPE);
    both_fail(rec(&1i64), u64::SHAPE);
    both_fail(rec(&Some(1u8)), u8::SHAPE);
    both_fail(rec(&1u8), <Option<u8>>::SHAPE);
    both_fail(rec(&[1u8, 2, 3]), <[u8; 4]>::SHAPE);
    both_fail(rec(&vec![1u8, 2, 3, 4]), <[u8; 4]>::SHAPE);
    both_fail(rec(&[1u8, 2, 3, 4]), <Vec<u8>>::SHAPE);
    both_fail(rec(&(1u8, 2u16)), <(u16, u8)>::SHAPE);
    both_fail(rec(&b"xy".to_vec()), <serde_bytes_like::Bytes>::SHAPE);
    both_fail(rec(&Unit), <()>::SHAPE);
    both_fail(rec(&Meters(1.0)), f64::SHAPE);
    both_fail(rec(&Rgb(1, 2, 3, 4)), <(u8, u8, u8)>::SHAPE);
    // Flattened entries with values of the wrong type.
    #[derive(Serialize)]
    struct FlatNumbers {
        id: u64,
        #[serde(flatten)]
        extra: BTreeMap<String, u8>,
    }
    let empty = FlatNumbers {
        id: 1,
        extra: BTreeMap::new(),
    };
    for human in [false, true] {
        conforms(&record(&empty, human).unwrap(), WithFlatten::SHAPE, human).unwrap();
    }
    both_fail(
        rec(&FlatNumbers {
            id: 1,
            extra: BTreeMap::from([("a".into(), 1)]),
        }),
        WithFlatten::SHAPE,
    );
    // Not flattened: a struct with a nested map.
    #[derive(Serialize)]
    struct Nested {
        id: u64,
        extra: BTreeMap<String, String>,
    }
    both_fail(
        rec(&Nested {
            id: 1,
            extra: BTreeMap::new(),
        }),
        WithFlatten::SHAPE,
    );
}

mod serde_bytes_like {
    /// A type that serde writes with `serialize_bytes`.
    pub type Bytes = std::ffi::CString;
}

#[test]
fn negative_self_reference_resolves_to_the_enclosing_type() {
    // A Node whose child is a Tree: `children: seq<self>` means Node, not Tree.
    let o = |h| {
        let mut o = record(&node(), h).unwrap();
        if let Obs::Struct { fields, .. } = &mut o {
            fields[1].1 = Obs::Seq {
                len: Some(1),
                elems: vec![record(&tree(), h).unwrap()],
            };
        }
        o
    };
    let e = both_fail(o, Node::SHAPE);
    assert!(e.contains("children"), "{e}");
}

#[test]
fn negative_proxy_checks_the_written_side() {
    // Email reads a string but writes its own struct: a string does not conform.
    both_fail(rec(&"a@b.c"), Email::SHAPE);
    // Money writes MoneyRaw: Money's own field does not conform.
    #[derive(Serialize)]
    struct MoneyOwn {
        dollars: f64,
    }
    both_fail(rec(&MoneyOwn { dollars: 1.0 }), Money::SHAPE);
}

/// Every single-point mutant of an observed tree that changes what a format would write.
fn mutants(obs: &Obs) -> Vec<Obs> {
    let mut out = Vec::new();
    // At the root.
    let other_kind = match obs {
        Obs::Bool(_) => Some(Obs::U8(0)),
        Obs::I8(v) => Some(Obs::I16(*v as i16)),
        Obs::I16(v) => Some(Obs::I32(*v as i32)),
        Obs::I32(v) => Some(Obs::I64(*v as i64)),
        Obs::I64(v) => Some(Obs::I32(*v as i32)),
        Obs::I128(v) => Some(Obs::I64(*v as i64)),
        Obs::U8(v) => Some(Obs::U16(*v as u16)),
        Obs::U16(v) => Some(Obs::U8(*v as u8)),
        Obs::U32(v) => Some(Obs::U64(*v as u64)),
        Obs::U64(v) => Some(Obs::U32(*v as u32)),
        Obs::U128(v) => Some(Obs::U64(*v as u64)),
        Obs::F32(v) => Some(Obs::F64(*v as f64)),
        Obs::F64(v) => Some(Obs::F32(*v as f32)),
        Obs::Char(c) => Some(Obs::Str(c.to_string())),
        Obs::Str(s) => Some(Obs::Bytes(s.as_bytes().to_vec())),
        Obs::Bytes(b) => Some(Obs::Seq {
            len: Some(b.len()),
            elems: b.iter().map(|x| Obs::U8(*x)).collect(),
        }),
        Obs::Unit => Some(Obs::None),
        Obs::UnitStruct { .. } => Some(Obs::Unit),
        _ => None,
    };
    out.extend(other_kind);
    match obs {
        Obs::UnitVariant {
            name,
            index,
            variant,
        } => out.push(Obs::UnitVariant {
            name,
            index: index + 1,
            variant,
        }),
        Obs::NewtypeVariant {
            name,
            index,
            variant,
            value,
        } => out.push(Obs::NewtypeVariant {
            name,
            index: index + 1,
            variant,
            value: value.clone(),
        }),
        Obs::TupleVariant {
            name,
            index,
            variant,
            len,
            elems,
        } => out.push(Obs::TupleVariant {
            name,
            index: index + 1,
            variant,
            len: *len,
            elems: elems.clone(),
        }),
        Obs::StructVariant {
            name,
            index,
            variant,
            len,
            fields,
        } => out.push(Obs::StructVariant {
            name,
            index: index + 1,
            variant,
            len: *len,
            fields: fields.clone(),
        }),
        // One element fewer (with a consistent length).
        Obs::Tuple { elems, .. } if !elems.is_empty() => out.push(Obs::Tuple {
            len: elems.len() - 1,
            elems: elems[..elems.len() - 1].to_vec(),
        }),
        Obs::TupleStruct { name, elems, .. } if !elems.is_empty() => out.push(Obs::TupleStruct {
            name,
            len: elems.len() - 1,
            elems: elems[..elems.len() - 1].to_vec(),
        }),
        _ => {}
    }
    // A renamed struct key (leaked: keys are `&'static str`).
    if let Obs::Struct { fields, .. } | Obs::StructVariant { fields, .. } = obs {
        for i in 0..fields.len() {
            let mut m = obs.clone();
            if let Obs::Struct { fields, .. } | Obs::StructVariant { fields, .. } = &mut m {
                fields[i].0 = Box::leak(format!("{}_renamed", fields[i].0).into_boxed_str());
            }
            out.push(m);
        }
    }
    // Inside: each child mutated, the parent rebuilt around it.
    let n = children_count(obs);
    for i in 0..n {
        let child = child(obs, i).clone();
        for m in mutants(&child) {
            let mut parent = obs.clone();
            *child_mut(&mut parent, i) = m;
            out.push(parent);
        }
    }
    out
}

fn children_count(obs: &Obs) -> usize {
    match obs {
        Obs::Some(_) | Obs::NewtypeStruct { .. } | Obs::NewtypeVariant { .. } => 1,
        Obs::Seq { elems, .. }
        | Obs::Tuple { elems, .. }
        | Obs::TupleStruct { elems, .. }
        | Obs::TupleVariant { elems, .. } => elems.len(),
        Obs::Map { entries, .. } => entries.len() * 2,
        Obs::Struct { fields, .. } | Obs::StructVariant { fields, .. } => fields.len(),
        _ => 0,
    }
}

fn child(obs: &Obs, i: usize) -> &Obs {
    match obs {
        Obs::Some(v)
        | Obs::NewtypeStruct { value: v, .. }
        | Obs::NewtypeVariant { value: v, .. } => v,
        Obs::Seq { elems, .. }
        | Obs::Tuple { elems, .. }
        | Obs::TupleStruct { elems, .. }
        | Obs::TupleVariant { elems, .. } => &elems[i],
        Obs::Map { entries, .. } => {
            let (k, v) = &entries[i / 2];
            if i.is_multiple_of(2) {
                k
            } else {
                v
            }
        }
        Obs::Struct { fields, .. } | Obs::StructVariant { fields, .. } => &fields[i].1,
        _ => unreachable!(),
    }
}

fn child_mut(obs: &mut Obs, i: usize) -> &mut Obs {
    match obs {
        Obs::Some(v)
        | Obs::NewtypeStruct { value: v, .. }
        | Obs::NewtypeVariant { value: v, .. } => v,
        Obs::Seq { elems, .. }
        | Obs::Tuple { elems, .. }
        | Obs::TupleStruct { elems, .. }
        | Obs::TupleVariant { elems, .. } => &mut elems[i],
        Obs::Map { entries, .. } => {
            let (k, v) = &mut entries[i / 2];
            if i.is_multiple_of(2) {
                k
            } else {
                v
            }
        }
        Obs::Struct { fields, .. } | Obs::StructVariant { fields, .. } => &mut fields[i].1,
        _ => unreachable!(),
    }
}

/// Mutation testing of the checker: every single-point change of what serde wrote (another
/// primitive kind, another variant index, a renamed struct key, a shorter tuple), anywhere in
/// every sample, must be rejected. Samples with `opaque` parts (anything goes there) are left
/// out, and so are changes that keep a value valid (checked by hand below).
#[test]
fn negative_every_mutant_of_every_sample_is_rejected() {
    let mut total = 0;
    let mut survivors = Vec::new();
    for s in model_samples()
        .iter()
        .chain(&std_samples())
        .chain(&exotic_samples())
    {
        if s.shape.to_string().contains("opaque(") {
            continue;
        }
        for (human, obs) in [false, true].into_iter().zip(&s.obs) {
            for m in mutants(obs) {
                total += 1;
                if conforms(&m, s.shape, human).is_ok() {
                    survivors.push(format!(
                        "{} = {} (human = {human}): {}",
                        s.name,
                        s.what,
                        short(&m)
                    ));
                }
            }
        }
    }
    eprintln!("{total} mutants, {} survived", survivors.len());
    assert!(total > 900, "too few mutants: {total}");
    assert!(
        survivors.is_empty(),
        "mutants the checker accepted:\n{}",
        survivors.join("\n")
    );
}

// ================================================================================================
// 5. Exotic types (not in models.rs): the checker's rules on every serde path, and derive bugs
// ================================================================================================

mod exotic {
    use super::*;

    #[derive(Serialize, CacheVersion, Default)]
    pub struct Inner {
        pub a: u8,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub b: Option<u8>,
    }

    #[derive(Serialize, CacheVersion)]
    #[serde(tag = "k")]
    pub struct TaggedInner {
        pub z: u8,
    }

    #[derive(Serialize, CacheVersion)]
    pub struct UnitS;

    #[derive(Serialize, CacheVersion)]
    pub struct NewS(pub Inner);

    #[derive(Serialize, CacheVersion)]
    pub enum Ext {
        U,
        N(u8),
        T(u8, std::net::IpAddr),
        S {
            x: u8,
            ip: std::net::IpAddr,
        },
        F {
            x: u8,
            #[serde(flatten)]
            m: BTreeMap<String, u8>,
        },
    }

    #[derive(Serialize, CacheVersion)]
    #[serde(tag = "t2")]
    pub enum Int2 {
        U,
        S { y: u8 },
        N(Inner),
    }

    #[derive(Serialize, CacheVersion)]
    #[serde(untagged)]
    pub enum Unt {
        U,
        N(Inner),
        S { w: u8 },
    }

    #[derive(Serialize, CacheVersion)]
    #[serde(tag = "tt", content = "cc")]
    pub enum Adj {
        U,
        N(u8),
        T(u8, u8),
        S {
            q: u8,
        },
        F {
            q: u8,
            #[serde(flatten)]
            m: BTreeMap<String, u8>,
        },
    }

    #[derive(Serialize, CacheVersion)]
    #[serde(tag = "type")]
    pub enum Int {
        U,
        S {
            x: u8,
            #[serde(skip_serializing_if = "Option::is_none")]
            o: Option<u8>,
        },
        F {
            x: u8,
            #[serde(flatten)]
            m: BTreeMap<String, u8>,
        },
        N(Inner),
        Tg(TaggedInner),
        M(BTreeMap<String, u8>),
        Us(UnitS),
        Ns(NewS),
        E(Ext),
        I(Int2),
        Un(Unt),
        A(Adj),
        Ip(Readableish),
        #[serde(skip)]
        _Skipped,
    }

    /// A newtype around a map of readable values, behind an internal tag (not buffered: the
    /// values follow the serializer's mode).
    #[derive(Serialize, CacheVersion)]
    pub struct Readableish(pub BTreeMap<String, std::net::IpAddr>);

    #[derive(Serialize, CacheVersion)]
    pub struct Flat {
        pub id: u8,
        #[serde(flatten)]
        pub inner: Inner,
        #[serde(flatten)]
        pub tagged: Option<TaggedInner>,
        #[serde(flatten)]
        pub ext: Ext,
        #[serde(flatten)]
        pub int: Int2,
        #[serde(flatten)]
        pub adj: Option<Adj>,
        #[serde(flatten)]
        pub unt: Unt,
        #[serde(flatten)]
        pub unit: UnitS,
        pub tail: u8,
    }

    #[derive(Serialize, CacheVersion)]
    #[serde(tag = "kind")]
    pub struct TaggedFlat {
        pub id: u8,
        #[serde(flatten)]
        pub m: BTreeMap<String, u8>,
    }

    #[derive(Serialize, CacheVersion)]
    pub struct OptTuple(
        pub u8,
        #[serde(skip_serializing_if = "Option::is_none")] pub Option<u8>,
        pub u8,
    );

    #[derive(Serialize, CacheVersion)]
    pub enum TupleSkips {
        T(
            u8,
            #[serde(skip_serializing_if = "Option::is_none")] Option<u8>,
            #[serde(skip)] u64,
        ),
    }

    mod as_str {
        pub fn serialize<S: serde::Serializer>(v: &u8, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&v.to_string())
        }
    }

    #[derive(Serialize, CacheVersion)]
    pub enum WithVariant {
        #[serde(serialize_with = "as_str::serialize")]
        N(u8),
        Plain {
            #[serde(with = "as_str")]
            x: u8,
        },
    }
}

fn exotic_samples() -> Vec<Sample> {
    use exotic::*;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let ip4 = IpAddr::V4(Ipv4Addr::new(9, 8, 7, 6));
    let ip6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
    let inner = || Inner { a: 1, b: Some(2) };
    let m = || BTreeMap::from([("k".to_string(), 1u8)]);
    let flat = |ext, int, adj, unt, tagged| Flat {
        id: 1,
        inner: inner(),
        tagged,
        ext,
        int,
        adj,
        unt,
        unit: UnitS,
        tail: 9,
    };
    samples![
        Int => [
            Int::U,
            Int::S { x: 1, o: None },
            Int::S { x: 1, o: Some(2) },
            Int::F { x: 1, m: m() },
            Int::N(inner()),
            Int::N(Inner::default()),
            Int::Tg(TaggedInner { z: 3 }),
            Int::M(m()),
            Int::Us(UnitS),
            Int::Ns(NewS(inner())),
            Int::E(Ext::U),
            Int::E(Ext::N(1)),
            Int::E(Ext::T(1, ip4)),
            Int::E(Ext::S { x: 1, ip: ip6 }),
            Int::E(Ext::F { x: 1, m: m() }),
            Int::I(Int2::U),
            Int::I(Int2::S { y: 1 }),
            Int::I(Int2::N(inner())),
            Int::Un(Unt::U),
            Int::Un(Unt::N(inner())),
            Int::Un(Unt::S { w: 1 }),
            Int::A(Adj::U),
            Int::A(Adj::N(1)),
            Int::A(Adj::T(1, 2)),
            Int::A(Adj::S { q: 1 }),
            Int::A(Adj::F { q: 1, m: m() }),
            Int::Ip(Readableish(BTreeMap::from([("a".to_string(), ip4)]))),
        ],
        Adj => [Adj::U, Adj::N(1), Adj::T(1, 2), Adj::S { q: 1 }, Adj::F { q: 1, m: m() }],
        Ext => [Ext::U, Ext::N(1), Ext::T(1, ip4), Ext::S { x: 1, ip: ip6 }, Ext::F { x: 1, m: m() }],
        Unt => [Unt::U, Unt::N(inner()), Unt::S { w: 1 }],
        Flat => [
            flat(Ext::U, Int2::U, None, Unt::U, None),
            flat(Ext::N(1), Int2::S { y: 2 }, Some(Adj::U), Unt::N(Inner::default()), Some(TaggedInner { z: 1 })),
            flat(Ext::T(1, ip4), Int2::N(inner()), Some(Adj::N(3)), Unt::S { w: 4 }, None),
            flat(Ext::S { x: 1, ip: ip6 }, Int2::U, Some(Adj::T(1, 2)), Unt::U, None),
            flat(Ext::F { x: 1, m: m() }, Int2::U, Some(Adj::S { q: 5 }), Unt::U, None),
            flat(Ext::U, Int2::U, Some(Adj::F { q: 5, m: m() }), Unt::U, None),
        ],
        TaggedFlat => [TaggedFlat { id: 1, m: m() }, TaggedFlat { id: 1, m: BTreeMap::new() }],
        OptTuple => [OptTuple(1, None, 2), OptTuple(1, Some(0), 2)],
        TupleSkips => [TupleSkips::T(1, None, 5), TupleSkips::T(1, Some(2), 5)],
        WithVariant => [WithVariant::N(1), WithVariant::Plain { x: 2 }],
    ]
}

#[test]
fn exotic_values_conform_in_both_modes() {
    let samples = exotic_samples();
    let bad = failures(&samples);
    eprintln!(
        "checked {} exotic values x 2 modes = {} observations",
        samples.len(),
        samples.len() * 2
    );
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
}

/// serde buffers tuple and struct variants behind an internal tag in `Content`, whose
/// serializer is always human-readable: the checker must (and does) follow.
#[test]
fn buffered_content_is_human_readable_even_in_compact_mode() {
    use std::net::{IpAddr, Ipv4Addr};
    let v = exotic::Int::E(exotic::Ext::T(1, IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4))));
    let o = record(&v, false).unwrap();
    let Obs::Map { entries, .. } = &o else {
        panic!("{o}")
    };
    let Obs::TupleStruct { elems, .. } = &entries[1].1 else {
        panic!("{o}")
    };
    assert_eq!(elems[1], Obs::Str("1.2.3.4".into()), "{o}");
    conforms(&o, <exotic::Int as CacheVersion>::SHAPE, false).unwrap();
}

// ---- derive bugs found by the oracle ----------------------------------------------------------

mod bugs {
    use super::*;

    /// serde writes a newtype variant whose only field is skipped as a UNIT variant
    /// (`serde_derive::ser::effective_style`).
    #[derive(Serialize, CacheVersion)]
    pub enum SkippedNewtypeField {
        A(#[serde(skip_serializing)] u8),
        B,
    }

    pub fn as_str<S: serde::Serializer>(s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("custom")
    }

    /// `serialize_with` on a UNIT variant: serde writes a newtype variant whose content is the
    /// function's output.
    #[derive(Serialize, CacheVersion)]
    pub enum UnitWith {
        #[serde(serialize_with = "as_str")]
        A,
        B,
    }

    /// `flatten` + `skip_serializing_if` on a struct: the flattened entries may be absent,
    /// but `FieldKind` can only say `Flatten`.
    #[derive(Serialize, CacheVersion)]
    pub struct FlattenMaybe {
        pub id: u8,
        #[serde(flatten, skip_serializing_if = "is_zero")]
        pub inner: Pair,
    }

    #[derive(Serialize, CacheVersion)]
    pub struct Pair {
        pub x: u8,
        pub y: u8,
    }

    pub fn is_zero(p: &Pair) -> bool {
        p.x == 0 && p.y == 0
    }
}

/// Runs `conforms` on `v` in both modes; returns the errors.
fn errors_of<T: Serialize + CacheVersion>(v: &T) -> Vec<String> {
    [false, true]
        .into_iter()
        .filter_map(|h| conforms(&record(v, h).unwrap(), T::SHAPE, h).err())
        .collect()
}

// Former bugs found by this oracle, fixed in the derive; each keeps its regression test. Two
// more (a skipped flattened field in a struct variant, and `Self` inside a generic type that is
// not a std wrapper, such as `Page<Self>`) are now compile errors: see tests/ui.

#[test]
fn newtype_variant_with_a_skipped_field_is_written_as_a_unit_variant() {
    use bugs::SkippedNewtypeField as T;
    let o = record(&T::A(1), true).unwrap();
    assert_eq!(
        o,
        Obs::UnitVariant {
            name: "SkippedNewtypeField",
            index: 0,
            variant: "A"
        }
    );
    assert_eq!(T::SHAPE.to_string(), "enum{A,B}");
    assert!(errors_of(&T::A(1)).is_empty(), "{:?}", errors_of(&T::A(1)));
    assert!(errors_of(&T::B).is_empty());
}

#[test]
fn serialize_with_on_a_unit_variant_writes_a_newtype_variant() {
    use bugs::UnitWith as T;
    let o = record(&T::A, true).unwrap();
    assert_eq!(
        o,
        Obs::NewtypeVariant {
            name: "UnitWith",
            index: 0,
            variant: "A",
            value: Box::new(Obs::Str("custom".into()))
        }
    );
    assert_eq!(T::SHAPE.to_string(), "enum{A(opaque(\"as_str\")),B}");
    assert!(errors_of(&T::A).is_empty(), "{:?}", errors_of(&T::A));
    assert!(errors_of(&T::B).is_empty());
}

#[test]
fn flatten_with_skip_serializing_if_may_be_absent() {
    use bugs::{FlattenMaybe, Pair};
    let present = FlattenMaybe {
        id: 1,
        inner: Pair { x: 1, y: 2 },
    };
    assert!(errors_of(&present).is_empty());
    let absent = FlattenMaybe {
        id: 1,
        inner: Pair { x: 0, y: 0 },
    };
    let o = record(&absent, true).unwrap();
    assert_eq!(
        o,
        Obs::Map {
            len: None,
            entries: vec![(Obs::Str("id".into()), Obs::U8(1))]
        }
    );
    assert!(FlattenMaybe::SHAPE
        .to_string()
        .starts_with("struct{id:u8,..?Pair@"));
    assert!(errors_of(&absent).is_empty(), "{:?}", errors_of(&absent));
}
