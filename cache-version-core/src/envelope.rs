//! The value envelope: a 20-byte header in front of the codec's payload, checked before
//! decoding.
//!
//! ```text
//! offset  size  field
//! 0       2     magic 0xC1 0x56 ("\xC1V")
//! 2       1     format byte, 0x01 for this layout
//! 3       1     codec id (see `crate::codec`)
//! 4       16    the first 16 bytes of the key-version digest (see `crate::key`)
//! 20      ..    the codec's payload
//! ```
//!
//! 0xC1 can start neither valid UTF-8 (so no JSON text) nor any MessagePack value (it is the
//! one byte MessagePack never uses), so a raw payload is never mistaken for an envelope. The 16
//! digest bytes cover the model name, the type's version, the codec and the value format: a
//! value written by another model, another version, another codec or another program is
//! recognised before a decoder sees it, even when the 64-bit key version collides.
//!
//! What [`check`] reports, and how the typed cache counts it:
//! - too short for a header, or no magic: [`EnvelopeError::Truncated`] /
//!   [`EnvelopeError::NotEnveloped`], a `decode_error`;
//! - another format byte, another codec, another digest: [`EnvelopeError::UnknownFormat`],
//!   [`EnvelopeError::CodecMismatch`], [`EnvelopeError::VersionMismatch`], a `version_mismatch`.
//!
//! The envelope carries no checksum of the payload: a store hands back what was written, and a
//! payload damaged in the middle usually fails to decode. Turning the envelope off (raw
//! payloads, for readers in other languages) loses the check: a foreign or corrupted value
//! under the key is caught only if the codec fails to decode it. The key version then uses
//! another format byte, so enveloped and raw entries live under different keys and never mix.

use crate::key::KeyVersion;

/// The two magic bytes.
pub const MAGIC: [u8; 2] = [0xC1, b'V'];
/// The format byte of this header layout.
pub const FORMAT_V1: u8 = 0x01;
/// The header length in bytes.
pub const HEADER_LEN: usize = 20;

/// What a reader expects in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    /// The codec id.
    pub codec_id: u8,
    /// The 16 tag bytes of the key version.
    pub tag: [u8; 16],
    header: [u8; HEADER_LEN],
}

impl Expected {
    /// The header of values written with `codec_id` under `key_version`.
    pub fn new(codec_id: u8, key_version: &KeyVersion) -> Self {
        let tag = key_version.envelope_tag();
        let mut header = [0u8; HEADER_LEN];
        header[..2].copy_from_slice(&MAGIC);
        header[2] = FORMAT_V1;
        header[3] = codec_id;
        header[4..].copy_from_slice(&tag);
        Expected {
            codec_id,
            tag,
            header,
        }
    }

    /// The header bytes that [`write_header`] writes.
    pub fn header(&self) -> &[u8; HEADER_LEN] {
        &self.header
    }
}

/// Appends the header to `out`.
pub fn write_header(out: &mut Vec<u8>, expected: &Expected) {
    out.extend_from_slice(&expected.header);
}

/// Why a stored value was rejected before decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// Shorter than a header.
    #[error("value of {len} bytes is shorter than the {HEADER_LEN}-byte envelope header")]
    Truncated {
        /// The value's length.
        len: usize,
    },
    /// No magic bytes: not written by this library with the envelope on.
    #[error("value does not start with the envelope magic")]
    NotEnveloped,
    /// An envelope format this build does not know.
    #[error("envelope format {found:#04x}, expected {FORMAT_V1:#04x}")]
    UnknownFormat {
        /// The format byte found.
        found: u8,
    },
    /// Written with another codec.
    #[error("written with codec id {found}, this handle uses {expected}")]
    CodecMismatch {
        /// The codec id found.
        found: u8,
        /// The codec id expected.
        expected: u8,
    },
    /// Written for another model, version or value format.
    #[error("written for another model or version (envelope tag mismatch)")]
    VersionMismatch,
}

impl EnvelopeError {
    /// Whether this is a version mismatch (counted as `version_mismatch`) rather than a
    /// damaged or foreign value (counted as `decode_error`).
    pub fn is_version_mismatch(&self) -> bool {
        matches!(
            self,
            EnvelopeError::UnknownFormat { .. }
                | EnvelopeError::CodecMismatch { .. }
                | EnvelopeError::VersionMismatch
        )
    }
}

/// Checks the header of `value` and returns the payload.
pub fn check<'v>(value: &'v [u8], expected: &Expected) -> Result<&'v [u8], EnvelopeError> {
    if value.len() >= HEADER_LEN && value[..HEADER_LEN] == expected.header {
        return Ok(&value[HEADER_LEN..]);
    }
    // The slow path: say what differs.
    if value.len() < 2 || value[..2] != MAGIC {
        // A value cut inside the magic is truncated; anything else is not ours.
        return Err(if MAGIC.starts_with(&value[..value.len().min(2)]) {
            EnvelopeError::Truncated { len: value.len() }
        } else {
            EnvelopeError::NotEnveloped
        });
    }
    if value.len() < HEADER_LEN {
        return Err(EnvelopeError::Truncated { len: value.len() });
    }
    if value[2] != FORMAT_V1 {
        return Err(EnvelopeError::UnknownFormat { found: value[2] });
    }
    if value[3] != expected.codec_id {
        return Err(EnvelopeError::CodecMismatch {
            found: value[3],
            expected: expected.codec_id,
        });
    }
    Err(EnvelopeError::VersionMismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::ValueFormat;
    use crate::Version;

    fn exp(model: &str, codec: u8) -> Expected {
        let kv = KeyVersion::compute(
            model,
            &Version::from_bytes([1; 32]),
            codec,
            ValueFormat::Enveloped,
        );
        Expected::new(codec, &kv)
    }

    #[test]
    fn round_trip_and_every_rejection() {
        let e = exp("User", 1);
        let mut v = Vec::new();
        write_header(&mut v, &e);
        v.extend_from_slice(b"{}");
        assert_eq!(v.len(), HEADER_LEN + 2);
        assert_eq!(check(&v, &e), Ok(&b"{}"[..]));

        assert_eq!(check(&v[..5], &e), Err(EnvelopeError::Truncated { len: 5 }));
        assert_eq!(check(b"", &e), Err(EnvelopeError::Truncated { len: 0 }));
        assert_eq!(check(b"{\"id\":1}", &e), Err(EnvelopeError::NotEnveloped));

        let mut other_format = v.clone();
        other_format[2] = 9;
        assert_eq!(
            check(&other_format, &e),
            Err(EnvelopeError::UnknownFormat { found: 9 })
        );

        let other_codec = exp("User", 2);
        let mut w = Vec::new();
        write_header(&mut w, &other_codec);
        assert_eq!(
            check(&w, &e),
            Err(EnvelopeError::CodecMismatch {
                found: 2,
                expected: 1
            })
        );

        let other_model = exp("Order", 1);
        let mut w = Vec::new();
        write_header(&mut w, &other_model);
        let err = check(&w, &e).unwrap_err();
        assert_eq!(err, EnvelopeError::VersionMismatch);
        assert!(err.is_version_mismatch());
        assert!(!EnvelopeError::NotEnveloped.is_version_mismatch());
    }
}
