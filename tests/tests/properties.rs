//! Property tests (proptest): codec round trips through the envelope, key building and
//! parsing, and the envelope check on arbitrary bytes.
//!
//! `PROPTEST_CASES=10000 cargo test -p cache-version-tests --test properties` for a longer run.

use std::collections::BTreeMap;

use cache_version_core::envelope::{self, EnvelopeError, Expected, HEADER_LEN};
use cache_version_core::key::{is_name_char, validate_name, NameKind, ParsedKey, ValueFormat};
use cache_version_core::{
    Cache, CacheVersion, Codec, JsonCodec, KeyPrefix, KeyVersion, MemoryStore, MsgPackCodec,
    PostcardCodec, Version,
};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
enum Kind {
    Unit,
    Tuple(u32, String),
    Struct { a: i64, b: Option<bool> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
struct Model {
    id: u64,
    small: i8,
    signed: i64,
    wide: u128,
    name: String,
    bytes: Vec<u8>,
    maybe: Option<String>,
    flag: bool,
    ch: char,
    kinds: Vec<Kind>,
    map: BTreeMap<String, u32>,
    pair: (u16, String),
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Unit),
        (any::<u32>(), any::<String>()).prop_map(|(a, b)| Kind::Tuple(a, b)),
        (any::<i64>(), any::<Option<bool>>()).prop_map(|(a, b)| Kind::Struct { a, b }),
    ]
}

prop_compose! {
    fn model()(
        id in any::<u64>(),
        small in any::<i8>(),
        signed in any::<i64>(),
        wide in any::<u128>(),
        name in any::<String>(),
        bytes in prop::collection::vec(any::<u8>(), 0..64),
        maybe in any::<Option<String>>(),
        flag in any::<bool>(),
        ch in any::<char>(),
        kinds in prop::collection::vec(kind(), 0..4),
        map in prop::collection::btree_map(any::<String>(), any::<u32>(), 0..4),
        pair in (any::<u16>(), any::<String>()),
    ) -> Model {
        Model { id, small, signed, wide, name, bytes, maybe, flag, ch, kinds, map, pair }
    }
}

/// encode (envelope + codec) → envelope check → codec decode gives the value back, through
/// the handle and by hand; and the payload after the header is the codec's bytes alone.
fn round_trip<C: Codec>(codec: C, v: &Model) -> Result<(), TestCaseError> {
    let cache = Cache::builder(MemoryStore::new())
        .namespace("prop")
        .codec(codec)
        .build()
        .unwrap();
    let handle = cache.model::<Model>();
    let bytes = handle.encode_value(v).unwrap();
    prop_assert_eq!(&handle.decode_value(&bytes).unwrap(), v);
    let expected = Expected::new(C::ID, &handle.key_version());
    let payload = envelope::open(&bytes, &expected).unwrap().payload;
    prop_assert_eq!(payload.len(), bytes.len() - HEADER_LEN);
    prop_assert_eq!(&cache.codec().decode::<Model>(payload).unwrap(), v);
    // Cut anywhere inside the value: never the same value back.
    let cut = bytes.len() - 1;
    if let Ok(w) = handle.decode_value(&bytes[..cut]) {
        prop_assert_ne!(
            &w,
            v,
            "a truncated {} value decoded to the same value",
            C::NAME
        );
    }
    Ok(())
}

proptest! {
    #[test]
    fn json_round_trips(v in model()) {
        round_trip(JsonCodec, &v)?;
    }

    #[test]
    fn msgpack_round_trips(v in model()) {
        round_trip(MsgPackCodec, &v)?;
    }

    #[test]
    fn postcard_round_trips(v in model()) {
        round_trip(PostcardCodec, &v)?;
    }

    /// A value written by one codec is never accepted by another's envelope check.
    #[test]
    fn codecs_do_not_cross(v in model()) {
        let json = Cache::builder(MemoryStore::new()).namespace("p").build().unwrap();
        let mp = Cache::builder(MemoryStore::new()).namespace("p").codec(MsgPackCodec).build().unwrap();
        let bytes = json.model::<Model>().encode_value(&v).unwrap();
        let err = mp.model::<Model>().decode_value(&bytes).unwrap_err();
        prop_assert!(err.to_string().contains("codec"), "{}", err);
    }
}

/// A valid namespace or model name: 1..16 chars, forbidden ones dropped.
fn name() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 1..16)
        .prop_map(|cs| {
            cs.into_iter()
                .filter(|&c| is_name_char(c))
                .collect::<String>()
        })
        .prop_filter("non-empty", |s| !s.is_empty())
}

fn key_version() -> impl Strategy<Value = KeyVersion> {
    (any::<[u8; 32]>(), any::<u8>(), any::<bool>()).prop_map(|(v, codec, raw)| {
        let format = if raw {
            ValueFormat::Raw
        } else {
            ValueFormat::Enveloped
        };
        KeyVersion::compute("M", &Version::from_bytes(v), codec, format)
    })
}

proptest! {
    /// `KeyPrefix::key` then `ParsedKey::parse` gives back every part, for any logical bytes.
    #[test]
    fn keys_parse_back(
        ns in name(),
        model in name(),
        kv in key_version(),
        logical in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        let prefix = KeyPrefix::new(&ns, &model, &kv).unwrap();
        let key = prefix.key(&logical);
        prop_assert_eq!(prefix.strip(&key), Some(&logical[..]));
        prop_assert!(key.starts_with(prefix.model_prefix()));
        let p = ParsedKey::parse(&key).expect("a built key parses");
        prop_assert_eq!(p.namespace, ns.as_str());
        prop_assert_eq!(p.model, model.as_str());
        prop_assert_eq!(p.version, kv.to_string());
        prop_assert_eq!(p.logical, &logical[..]);
    }

    /// Logical keys made only of separators and glob bytes parse back too.
    #[test]
    fn hostile_logical_keys_parse_back(
        logical in prop::collection::vec(prop::sample::select(b":*?[]\\{}\n\0\xff".to_vec()), 0..64),
    ) {
        let kv = KeyVersion::compute("M", &Version::from_bytes([3; 32]), 1, ValueFormat::Enveloped);
        let prefix = KeyPrefix::new("ns", "M", &kv).unwrap();
        let key = prefix.key(&logical);
        let p = ParsedKey::parse(&key).unwrap();
        prop_assert_eq!((p.namespace, p.model, p.logical), ("ns", "M", &logical[..]));
    }

    /// A name with any forbidden character is refused, and `ParsedKey::parse` never panics
    /// and only returns parts that are valid.
    #[test]
    fn names_and_parsing(s in any::<String>(), raw in prop::collection::vec(any::<u8>(), 0..64)) {
        let valid = !s.is_empty() && s.chars().all(is_name_char);
        prop_assert_eq!(validate_name(NameKind::Model, &s).is_ok(), valid);
        if let Some(p) = ParsedKey::parse(&raw) {
            prop_assert!(validate_name(NameKind::Namespace, p.namespace).is_ok());
            prop_assert!(validate_name(NameKind::Model, p.model).is_ok());
            prop_assert_eq!(p.version.len(), 16);
        }
    }

    /// `envelope::open` never panics; it accepts exactly the values sealed with the expected
    /// header (and returns their payload and times), says `Truncated` only for values shorter
    /// than a header, and rejects every prefix and every single-byte change of a sealed value.
    #[test]
    fn envelope_open_total(
        kv in key_version(),
        codec in any::<u8>(),
        sealed in any::<bool>(),
        body in prop::collection::vec(any::<u8>(), 0..64),
        written in any::<u64>(),
        ttl_ms in prop::option::of(1u64..1 << 40),
        flip in any::<(usize, u8)>(),
    ) {
        let expected = Expected::new(codec, &kv);
        let times = envelope::Times::at(written, ttl_ms.map(std::time::Duration::from_millis));
        let mut value = Vec::new();
        if sealed {
            let start = envelope::begin(&mut value, &expected);
            value.extend_from_slice(&body);
            envelope::seal(&mut value, start, &expected, times).unwrap();
        } else {
            value.extend_from_slice(&body);
        }
        match envelope::open(&value, &expected) {
            Ok(opened) => {
                prop_assert!(sealed);
                prop_assert_eq!(opened.payload, &body[..]);
                prop_assert_eq!(opened.times, times);
            }
            Err(EnvelopeError::Truncated { len }) => {
                prop_assert_eq!(len, value.len());
                prop_assert!(len < HEADER_LEN);
            }
            Err(_) => prop_assert!(!sealed),
        }
        if sealed {
            for cut in 0..value.len() {
                prop_assert!(envelope::open(&value[..cut], &expected).is_err());
            }
            let (at, x) = (flip.0 % value.len(), flip.1.max(1));
            let mut changed = value.clone();
            changed[at] ^= x;
            prop_assert!(envelope::open(&changed, &expected).is_err(), "byte {} ^ {:#x}", at, x);
        }
    }
}
