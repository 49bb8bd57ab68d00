//! `envelope::open` on arbitrary bytes: never panics; accepts a value only when it is exactly
//! a sealed value (header, announced length, checksum), and always accepts what `seal` wrote.
#![no_main]

use cache_version_core::envelope::{self, EnvelopeError, Expected, Times, HEADER_LEN};
use cache_version_core::key::{KeyVersion, ValueFormat};
use cache_version_core::Version;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the codec the reader expects; the rest is the stored value.
    let (codec, value) = match data.split_first() {
        Some((&c, rest)) => (c, rest),
        None => (1, data),
    };
    let kv = KeyVersion::compute(
        "User",
        &Version::from_bytes([7; 32]),
        codec,
        ValueFormat::Enveloped,
    );
    let expected = Expected::new(codec, &kv);
    for v in [value, data] {
        match envelope::open(v, &expected) {
            Ok(opened) => {
                assert!(v.len() >= HEADER_LEN);
                assert_eq!(opened.payload, &v[HEADER_LEN..]);
            }
            Err(EnvelopeError::Truncated { len }) => {
                assert_eq!(len, v.len());
                assert!(len < HEADER_LEN);
            }
            Err(e) => {
                let _ = (e.to_string(), e.is_version_mismatch());
            }
        }
    }
    // The fuzzed bytes sealed as a payload are always accepted, and give them back.
    let mut good = Vec::new();
    let start = envelope::begin(&mut good, &expected);
    good.extend_from_slice(value);
    let times = Times::at(1, None);
    envelope::seal(&mut good, start, &expected, times).unwrap();
    let opened = envelope::open(&good, &expected).unwrap();
    assert_eq!((opened.payload, opened.times), (value, times));
});
