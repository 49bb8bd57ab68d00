//! What serde writes for std types, and the versions that follow from it.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList, VecDeque};
use std::rc::Rc;
use std::sync::Arc;

use cache_version_core::{CacheVersion, Version};

fn v<T: CacheVersion + ?Sized>() -> Version {
    T::VERSION
}

fn text<T: CacheVersion + ?Sized>() -> String {
    T::SHAPE.to_string()
}

#[test]
fn bytes_like_types_differ_where_serde_writes_differently() {
    // Vec<u8> is a seq (length-prefixed in positional codecs), [u8; 4] and (u8, u8, u8, u8) are
    // the same serde tuple of four u8 (no length written), String is a str.
    assert_eq!(text::<Vec<u8>>(), "seq<u8>");
    assert_eq!(text::<[u8; 4]>(), "tuple<u8*4>");
    assert_eq!(text::<(u8, u8, u8, u8)>(), "tuple<u8*4>");
    assert_eq!(text::<String>(), "str");
    let vs = [v::<Vec<u8>>(), v::<[u8; 4]>(), v::<String>()];
    for i in 0..vs.len() {
        for j in i + 1..vs.len() {
            assert_ne!(vs[i], vs[j], "{i} vs {j}");
        }
    }
    assert_eq!(v::<[u8; 4]>(), v::<(u8, u8, u8, u8)>());
    assert_ne!(v::<[u8; 4]>(), v::<[u8; 5]>());
    assert_ne!(
        v::<[u8; 0]>(),
        v::<()>(),
        "[T; 0] is an empty tuple, () is unit"
    );
    assert_ne!(v::<(u8, u16)>(), v::<(u16, u8)>());
}

#[test]
fn transparent_wrappers_have_the_version_of_what_they_wrap() {
    let s = v::<String>();
    assert_eq!(v::<Box<String>>(), s);
    assert_eq!(v::<Arc<String>>(), s);
    assert_eq!(v::<Rc<String>>(), s);
    assert_eq!(v::<&String>(), s);
    assert_eq!(v::<&str>(), s);
    assert_eq!(v::<Cow<'static, str>>(), s);
    assert_eq!(v::<Box<str>>(), s);
    assert_eq!(v::<Arc<str>>(), s);
    assert_eq!(v::<std::path::PathBuf>(), s);
    assert_eq!(v::<Box<Arc<Option<u8>>>>(), v::<Option<u8>>());
    assert_eq!(v::<std::sync::Mutex<u8>>(), v::<u8>());
    assert_eq!(v::<std::num::Wrapping<u8>>(), v::<u8>());
    assert_eq!(v::<std::num::NonZeroU32>(), v::<u32>());
}

#[test]
fn sequences_share_a_version_and_maps_share_a_version() {
    let seq = v::<Vec<u32>>();
    assert_eq!(v::<VecDeque<u32>>(), seq);
    assert_eq!(v::<HashSet<u32>>(), seq);
    assert_eq!(v::<BTreeSet<u32>>(), seq);
    assert_eq!(v::<LinkedList<u32>>(), seq);
    assert_eq!(v::<BinaryHeap<u32>>(), seq);
    assert_eq!(v::<[u32]>(), seq);
    assert_eq!(v::<HashMap<String, u32>>(), v::<BTreeMap<String, u32>>());
    assert_ne!(v::<HashMap<String, u32>>(), v::<HashMap<String, u64>>());
    assert_ne!(v::<Vec<(String, u32)>>(), v::<HashMap<String, u32>>());
    assert_ne!(v::<Vec<u32>>(), v::<Vec<u64>>());
    assert_ne!(v::<Option<u32>>(), v::<u32>());
}

#[test]
fn pointer_width_integers_are_written_as_64_bit() {
    assert_eq!(v::<usize>(), v::<u64>());
    assert_eq!(v::<isize>(), v::<i64>());
    assert_eq!(text::<std::sync::atomic::AtomicUsize>(), "u64");
}

#[test]
fn every_primitive_has_its_own_version() {
    let all = [
        v::<bool>(),
        v::<i8>(),
        v::<i16>(),
        v::<i32>(),
        v::<i64>(),
        v::<i128>(),
        v::<u8>(),
        v::<u16>(),
        v::<u32>(),
        v::<u64>(),
        v::<u128>(),
        v::<f32>(),
        v::<f64>(),
        v::<char>(),
        v::<String>(),
        v::<()>(),
        v::<std::ffi::CString>(),
    ];
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(unique.len(), all.len());
}

#[test]
fn std_named_types_describe_serde_output() {
    assert_eq!(text::<std::time::Duration>(), "struct{secs:u64,nanos:u32}");
    assert_eq!(
        text::<std::time::SystemTime>(),
        "struct{secs_since_epoch:u64,nanos_since_epoch:u32}"
    );
    assert_eq!(text::<Result<u8, String>>(), "enum{Ok(u8),Err(str)}");
    assert_eq!(text::<std::ops::Range<u32>>(), "struct{start:u32,end:u32}");
    assert_eq!(
        text::<std::ops::Bound<u8>>(),
        "enum{Unbounded,Included(u8),Excluded(u8)}"
    );
    assert_eq!(text::<std::marker::PhantomData<String>>(), "unit_struct");
    assert_eq!(text::<std::net::Ipv4Addr>(), "readable<str,tuple<u8*4>>");
    assert!(text::<std::net::IpAddr>().starts_with("readable<str,IpAddr@"));
    assert!(text::<std::ffi::OsString>().starts_with("enum{Unix(seq<u8>),Windows(seq<u16>)}"));
    // Serialized with serde_json, as a cross-check of the descriptions above.
    let d = serde_json::to_value(std::time::Duration::new(1, 2)).unwrap();
    assert_eq!(d, serde_json::json!({"secs": 1, "nanos": 2}));
    let r: Result<u8, String> = Ok(1);
    assert_eq!(
        serde_json::to_value(r).unwrap(),
        serde_json::json!({"Ok": 1})
    );
}

#[test]
fn tuples_up_to_sixteen_and_large_arrays() {
    type T16 = (
        u8,
        u8,
        u8,
        u8,
        u8,
        u8,
        u8,
        u8,
        u8,
        u8,
        u8,
        u8,
        u8,
        u8,
        u8,
        u16,
    );
    assert_eq!(text::<T16>(), "tuple<u8*15,u16>");
    assert_eq!(text::<[u64; 1_000_000]>(), "tuple<u64*1000000>");
    assert_eq!(text::<[[u8; 2]; 3]>(), "tuple<tuple<u8*2>*3>");
}

// Zero run-time cost: versions are constants, usable in const items and const assertions.
const STRING_VERSION: Version = <String as CacheVersion>::VERSION;
const _: () = assert!(STRING_VERSION.eq_const(&<Box<str> as CacheVersion>::VERSION));
const _: () = assert!(!STRING_VERSION.eq_const(&<Vec<u8> as CacheVersion>::VERSION));

struct Generic<T>(T);
impl<T: CacheVersion> Generic<T> {
    const INNER: Version = <Vec<T> as CacheVersion>::VERSION;
}

#[test]
fn versions_are_const_for_generic_types() {
    const V: Version = Generic::<u8>::INNER;
    assert_eq!(V, v::<Vec<u8>>());
    let _ = Generic(0u8).0;
}
