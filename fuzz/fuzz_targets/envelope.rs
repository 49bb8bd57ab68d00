//! `envelope::check` on arbitrary bytes: never panics; accepts exactly the values that start
//! with the expected header and returns the rest.
#![no_main]

use cache_version_core::envelope::{self, EnvelopeError, Expected, HEADER_LEN};
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
        match envelope::check(v, &expected) {
            Ok(payload) => {
                assert!(v.starts_with(expected.header()));
                assert_eq!(payload, &v[HEADER_LEN..]);
            }
            Err(EnvelopeError::Truncated { len }) => {
                assert_eq!(len, v.len());
                assert!(len < HEADER_LEN);
            }
            Err(e) => {
                assert!(!v.starts_with(expected.header()));
                let _ = (e.to_string(), e.is_version_mismatch());
            }
        }
    }
    // A good header in front of the fuzzed bytes is always accepted.
    let mut good = expected.header().to_vec();
    good.extend_from_slice(value);
    assert_eq!(envelope::check(&good, &expected), Ok(value));
});
