//! The value envelope (format 2): a fixed header in front of the codec's payload that says
//! who wrote the value, how long the payload is, when it was written and when it expires,
//! and carries a checksum (or a keyed MAC) of all of it. A read checks every byte of it
//! before a decoder sees the payload.
//!
//! # Layout (stable; golden bytes in this module's tests)
//!
//! All integers little-endian.
//!
//! ```text
//! offset  size  field
//! 0       2     magic 0xC1 0x56 ("\xC1V")
//! 2       1     format: 0x02 (CRC-32 checksum) or 0x03 (keyed BLAKE3 MAC)
//! 3       1     codec id (see `crate::codec`)
//! 4       16    the first 16 bytes of the key-version digest (see `crate::key`)
//! 20      4     payload length in bytes (u32)
//! 24      8     write time, milliseconds since the Unix epoch (u64)
//! 32      8     logical expiry, milliseconds since the Unix epoch (u64; 0: never)
//! 40      4     format 0x02: CRC-32 (IEEE, as zlib's `crc32`) of bytes 0..40 and the payload
//! 40      16    format 0x03: the first 16 bytes of BLAKE3's keyed hash of bytes 0..40 and
//!               the payload, under the 32-byte key of the cache's configuration
//! 44 / 56 ..    the codec's payload (exactly `payload length` bytes)
//! ```
//!
//! 0xC1 can start neither valid UTF-8 (so no JSON text) nor any MessagePack value (it is the
//! one byte MessagePack never uses), so a raw payload is never mistaken for an envelope. The 16
//! digest bytes cover the model name, the type's version, the codec and the value format: a
//! value written by another model, another version, another codec or another program is
//! recognised before a decoder sees it, even when the 64-bit key version collides.
//!
//! The payload length catches a value cut short or padded (a JSON number cut short is still a
//! number, a different one), and the checksum catches damage anywhere in the header or the
//! payload: CRC-32 detects every error of up to three bits in values up to 11 KB, every burst
//! of up to 32 bits, and any other damage with probability 1 - 2^-32. It is not a defence
//! against a writer who means harm (anyone can compute a CRC); where less trusted programs
//! share the store, configure a MAC key ([`crate::CacheBuilder::mac_key`]): a value that was
//! not written with the key is then rejected, whatever it contains.
//!
//! The write time and the logical expiry serve the fail-safe and eager-refresh features and
//! the in-process tier: the store's own TTL may keep an entry longer than its logical life.
//!
//! What [`open`] reports, and how the typed cache counts it:
//! - too short for a header, no magic, a length, checksum or MAC that does not match:
//!   [`EnvelopeError::Truncated`], [`EnvelopeError::NotEnveloped`],
//!   [`EnvelopeError::LengthMismatch`], [`EnvelopeError::ChecksumMismatch`],
//!   [`EnvelopeError::MacMismatch`]: a `decode_error`;
//! - another format byte, another codec, another digest: [`EnvelopeError::UnknownFormat`],
//!   [`EnvelopeError::CodecMismatch`], [`EnvelopeError::VersionMismatch`], a
//!   `version_mismatch`.
//!
//! Turning the envelope off (raw payloads, for readers in other languages) loses every check:
//! a foreign or corrupted value under the key is caught only if the codec fails to decode it.
//! The key version then uses another format byte, so enveloped and raw entries live under
//! different keys and never mix.
//!
//! Format 1 (a 20-byte header without length, checksum or times, releases before 0.2) is no
//! longer written or read: its entries live under other key versions, so an upgrade starts
//! every model in a fresh key space once (see the CHANGELOG).

use std::time::Duration;

use crate::key::KeyVersion;

/// The two magic bytes.
pub const MAGIC: [u8; 2] = [0xC1, b'V'];
/// The format byte of the layout with a CRC-32 checksum.
pub const FORMAT_CHECKSUM: u8 = 0x02;
/// The format byte of the layout with a keyed BLAKE3 MAC.
pub const FORMAT_MAC: u8 = 0x03;
/// The header length with a checksum.
pub const HEADER_LEN: usize = 44;
/// The header length with a MAC.
pub const MAC_HEADER_LEN: usize = 56;
/// The bytes covered by the checksum or MAC before the payload.
const COVERED: usize = 40;
/// The bytes of the MAC kept in the header.
const MAC_LEN: usize = 16;

/// A 32-byte key for the keyed MAC. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct MacKey([u8; 32]);

impl MacKey {
    /// A key from 32 bytes (for example decoded from a secret in the configuration).
    pub const fn new(bytes: [u8; 32]) -> Self {
        MacKey(bytes)
    }

    /// A key derived from a secret of any length (a passphrase, a base64 string), with
    /// BLAKE3's key derivation under this library's context string. Use 32 random bytes
    /// where you can; a short passphrase is only as strong as it is long.
    pub fn derive_from(secret: &[u8]) -> Self {
        const CONTEXT: &[u8] = b"cache-version 2026 envelope MAC key";
        // The keyed hash of the secret under the hash of a fixed context string.
        let context_key = crate::blake3::hash(CONTEXT);
        MacKey(crate::blake3::keyed_hash(&context_key, secret))
    }
}

impl std::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MacKey(***)")
    }
}

/// What a reader expects in the header, and how a writer seals a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The codec id.
    pub codec_id: u8,
    /// The 16 tag bytes of the key version.
    pub tag: [u8; 16],
    /// Magic, format, codec and tag: the first 20 header bytes.
    prefix: [u8; 20],
    mac: Option<MacKey>,
}

impl Expected {
    /// The header of values written with `codec_id` under `key_version`, with a checksum.
    pub fn new(codec_id: u8, key_version: &KeyVersion) -> Self {
        Expected::build(codec_id, key_version, None)
    }

    /// The header of values written with `codec_id` under `key_version`, with a keyed MAC.
    pub fn with_mac(codec_id: u8, key_version: &KeyVersion, key: MacKey) -> Self {
        Expected::build(codec_id, key_version, Some(key))
    }

    fn build(codec_id: u8, key_version: &KeyVersion, mac: Option<MacKey>) -> Self {
        let tag = key_version.envelope_tag();
        let mut prefix = [0u8; 20];
        prefix[..2].copy_from_slice(&MAGIC);
        prefix[2] = if mac.is_some() {
            FORMAT_MAC
        } else {
            FORMAT_CHECKSUM
        };
        prefix[3] = codec_id;
        prefix[4..].copy_from_slice(&tag);
        Expected {
            codec_id,
            tag,
            prefix,
            mac,
        }
    }

    /// The header length of this format.
    pub fn header_len(&self) -> usize {
        if self.mac.is_some() {
            MAC_HEADER_LEN
        } else {
            HEADER_LEN
        }
    }

    /// The format byte written.
    pub fn format(&self) -> u8 {
        self.prefix[2]
    }

    /// The integrity field over the covered header bytes and the payload.
    fn integrity(&self, covered: &[u8], payload: &[u8]) -> [u8; MAC_LEN] {
        let mut out = [0u8; MAC_LEN];
        match &self.mac {
            None => {
                let mut h = crc32fast::Hasher::new();
                h.update(covered);
                h.update(payload);
                out[..4].copy_from_slice(&h.finalize().to_le_bytes());
            }
            Some(key) => {
                let mut h = crate::blake3::Hasher::new_keyed(&key.0);
                h.update_in_place(covered);
                h.update_in_place(payload);
                out.copy_from_slice(&h.finalize()[..MAC_LEN]);
            }
        }
        out
    }

    fn integrity_len(&self) -> usize {
        self.header_len() - COVERED
    }
}

/// When an entry was written and when it expires logically, in milliseconds since the Unix
/// epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Times {
    /// The write time.
    pub written_ms: u64,
    /// The logical expiry; `None`: never.
    pub expires_ms: Option<u64>,
}

impl Times {
    /// Written now, expiring after `ttl` (`None`: never).
    pub fn now(ttl: Option<Duration>) -> Self {
        Times::at(now_ms(), ttl)
    }

    /// Written at `written_ms`, expiring after `ttl`.
    pub fn at(written_ms: u64, ttl: Option<Duration>) -> Self {
        Times {
            written_ms,
            expires_ms: ttl.map(|t| {
                written_ms
                    .saturating_add(u64::try_from(t.as_millis()).unwrap_or(u64::MAX))
                    .max(written_ms.saturating_add(1))
            }),
        }
    }

    /// Whether the logical expiry has passed at `now_ms`.
    pub fn expired_at(&self, now_ms: u64) -> bool {
        self.expires_ms.is_some_and(|e| now_ms >= e)
    }

    /// The logical time to live left at `now_ms` (`None`: never expires; zero when expired).
    pub fn remaining_at(&self, now_ms: u64) -> Option<Duration> {
        self.expires_ms
            .map(|e| Duration::from_millis(e.saturating_sub(now_ms)))
    }

    /// How far through its logical life the entry is at `now_ms`: 0.0 when just written,
    /// 1.0 at the logical expiry; `None` when it never expires.
    pub fn age_fraction_at(&self, now_ms: u64) -> Option<f64> {
        let e = self.expires_ms?;
        let life = e.saturating_sub(self.written_ms).max(1) as f64;
        Some(now_ms.saturating_sub(self.written_ms) as f64 / life)
    }
}

/// Milliseconds since the Unix epoch, by the system clock (0 for a clock before 1970).
#[inline]
pub fn now_ms() -> u64 {
    crate::clock::now_ms()
}

/// Appends a header placeholder to `out`; the codec then appends the payload, and [`seal`]
/// fills the header in. Returns where the header starts.
pub fn begin(out: &mut Vec<u8>, expected: &Expected) -> usize {
    let start = out.len();
    out.extend_from_slice(&expected.prefix);
    out.resize(start + expected.header_len(), 0);
    start
}

/// Fills in the header that [`begin`] placed at `start`: the payload length (everything after
/// the header), the times and the checksum or MAC.
pub fn seal(
    out: &mut [u8],
    start: usize,
    expected: &Expected,
    times: Times,
) -> Result<(), EnvelopeError> {
    let header_len = expected.header_len();
    let payload_len = out.len() - start - header_len;
    let len = u32::try_from(payload_len)
        .map_err(|_| EnvelopeError::PayloadTooLong { len: payload_len })?;
    let (head, payload) = out[start..].split_at_mut(header_len);
    head[20..24].copy_from_slice(&len.to_le_bytes());
    head[24..32].copy_from_slice(&times.written_ms.to_le_bytes());
    head[32..40].copy_from_slice(&times.expires_ms.unwrap_or(0).to_le_bytes());
    let integrity = expected.integrity(&head[..COVERED], payload);
    let n = expected.integrity_len();
    head[COVERED..].copy_from_slice(&integrity[..n]);
    Ok(())
}

/// A checked value: its payload and times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened<'v> {
    /// The codec's payload.
    pub payload: &'v [u8],
    /// When it was written and when it expires logically.
    pub times: Times,
}

/// Why a stored value was rejected before decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// Shorter than a header.
    #[error("value of {len} bytes is shorter than the envelope header")]
    Truncated {
        /// The value's length.
        len: usize,
    },
    /// No magic bytes: not written by this library with the envelope on.
    #[error("value does not start with the envelope magic")]
    NotEnveloped,
    /// An envelope format this reader does not use (an older release's, or checksum
    /// versus MAC).
    #[error("envelope format {found:#04x}, expected {expected:#04x}")]
    UnknownFormat {
        /// The format byte found.
        found: u8,
        /// The format byte expected.
        expected: u8,
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
    /// The payload is not as long as the header says (cut short or padded).
    #[error("the header announces a payload of {announced} bytes, the value holds {found}")]
    LengthMismatch {
        /// The length in the header.
        announced: u64,
        /// The payload bytes present.
        found: usize,
    },
    /// The checksum does not match: the value was damaged.
    #[error("checksum mismatch: the value was damaged")]
    ChecksumMismatch,
    /// The MAC does not match: the value was not written with this cache's key (or damaged).
    #[error("MAC mismatch: the value was not written with this cache's key")]
    MacMismatch,
    /// A payload too long for the header's 32-bit length (writing only).
    #[error("a payload of {len} bytes is too long for the envelope (4 GiB at most)")]
    PayloadTooLong {
        /// The payload length.
        len: usize,
    },
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

/// Checks the whole envelope of `value` (magic, format, codec, tag, length, checksum or MAC)
/// and returns the payload and times. Nothing of the payload is interpreted.
pub fn open<'v>(value: &'v [u8], expected: &Expected) -> Result<Opened<'v>, EnvelopeError> {
    let header_len = expected.header_len();
    if value.len() < header_len || value[..20] != expected.prefix {
        return Err(why_not(value, expected));
    }
    let (head, payload) = value.split_at(header_len);
    let announced = u32::from_le_bytes([head[20], head[21], head[22], head[23]]);
    if announced as usize != payload.len() {
        return Err(EnvelopeError::LengthMismatch {
            announced: u64::from(announced),
            found: payload.len(),
        });
    }
    let integrity = expected.integrity(&head[..COVERED], payload);
    let n = expected.integrity_len();
    if head[COVERED..] != integrity[..n] {
        return Err(if expected.mac.is_some() {
            EnvelopeError::MacMismatch
        } else {
            EnvelopeError::ChecksumMismatch
        });
    }
    let u64_at = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&head[i..i + 8]);
        u64::from_le_bytes(b)
    };
    let expires = u64_at(32);
    Ok(Opened {
        payload,
        times: Times {
            written_ms: u64_at(24),
            expires_ms: (expires != 0).then_some(expires),
        },
    })
}

/// The slow path of [`open`]: says what differs in the first 20 bytes (or that the value is
/// too short).
fn why_not(value: &[u8], expected: &Expected) -> EnvelopeError {
    if value.len() < 2 || value[..2] != MAGIC {
        // A value cut inside the magic is truncated; anything else is not ours.
        return if MAGIC.starts_with(&value[..value.len().min(2)]) {
            EnvelopeError::Truncated { len: value.len() }
        } else {
            EnvelopeError::NotEnveloped
        };
    }
    // Who wrote it is only known from a whole identity (magic, format, codec, tag).
    if value.len() < 20 {
        return EnvelopeError::Truncated { len: value.len() };
    }
    if value[2] != expected.format() {
        return EnvelopeError::UnknownFormat {
            found: value[2],
            expected: expected.format(),
        };
    }
    if value[3] != expected.codec_id {
        return EnvelopeError::CodecMismatch {
            found: value[3],
            expected: expected.codec_id,
        };
    }
    if value[4..20] != expected.tag {
        return EnvelopeError::VersionMismatch;
    }
    EnvelopeError::Truncated { len: value.len() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::ValueFormat;
    use crate::Version;

    fn kv(model: &str, codec: u8) -> KeyVersion {
        KeyVersion::compute(
            model,
            &Version::from_bytes([1; 32]),
            codec,
            ValueFormat::Enveloped,
        )
    }

    fn exp(model: &str, codec: u8) -> Expected {
        Expected::new(codec, &kv(model, codec))
    }

    fn sealed(e: &Expected, payload: &[u8], times: Times) -> Vec<u8> {
        let mut v = Vec::new();
        let start = begin(&mut v, e);
        v.extend_from_slice(payload);
        seal(&mut v, start, e, times).unwrap();
        v
    }

    const T: Times = Times {
        written_ms: 1_700_000_000_000,
        expires_ms: Some(1_700_000_360_000),
    };

    #[test]
    fn round_trip_and_every_rejection() {
        let e = exp("User", 1);
        let v = sealed(&e, b"{}", T);
        assert_eq!(v.len(), HEADER_LEN + 2);
        let opened = open(&v, &e).unwrap();
        assert_eq!((opened.payload, opened.times), (&b"{}"[..], T));

        assert_eq!(open(&v[..5], &e), Err(EnvelopeError::Truncated { len: 5 }));
        assert_eq!(open(b"", &e), Err(EnvelopeError::Truncated { len: 0 }));
        assert_eq!(open(b"\xC1", &e), Err(EnvelopeError::Truncated { len: 1 }));
        assert_eq!(open(b"{\"id\":1}", &e), Err(EnvelopeError::NotEnveloped));
        assert_eq!(
            open(&v[..v.len() - 1], &e),
            Err(EnvelopeError::LengthMismatch {
                announced: 2,
                found: 1
            })
        );
        let mut padded = v.clone();
        padded.push(b' ');
        assert!(matches!(
            open(&padded, &e),
            Err(EnvelopeError::LengthMismatch { .. })
        ));
        let mut damaged = v.clone();
        *damaged.last_mut().unwrap() ^= 1;
        assert_eq!(open(&damaged, &e), Err(EnvelopeError::ChecksumMismatch));
        let mut late = v.clone();
        late[30] ^= 0x10; // the write time
        assert_eq!(open(&late, &e), Err(EnvelopeError::ChecksumMismatch));

        let mut other_format = v.clone();
        other_format[2] = 1;
        assert_eq!(
            open(&other_format, &e),
            Err(EnvelopeError::UnknownFormat {
                found: 1,
                expected: FORMAT_CHECKSUM
            })
        );
        let w = sealed(&exp("User", 2), b"{}", T);
        assert_eq!(
            open(&w, &e),
            Err(EnvelopeError::CodecMismatch {
                found: 2,
                expected: 1
            })
        );
        let w = sealed(&exp("Order", 1), b"{}", T);
        let err = open(&w, &e).unwrap_err();
        assert_eq!(err, EnvelopeError::VersionMismatch);
        assert!(err.is_version_mismatch());
        assert!(!EnvelopeError::NotEnveloped.is_version_mismatch());
        assert!(!EnvelopeError::ChecksumMismatch.is_version_mismatch());
    }

    #[test]
    fn every_cut_and_every_bit_flip_is_rejected() {
        let e = exp("User", 1);
        let v = sealed(&e, br#"{"id":1234567,"name":"Ada Lovelace"}"#, T);
        for cut in 0..v.len() {
            assert!(open(&v[..cut], &e).is_err(), "cut at {cut}");
        }
        for bit in 0..v.len() * 8 {
            let mut f = v.clone();
            f[bit / 8] ^= 1 << (bit % 8);
            assert!(open(&f, &e).is_err(), "bit {bit}");
        }
    }

    #[test]
    fn golden_bytes() {
        // The frozen layout: changing one byte of this breaks every deployed cache.
        let e = exp("User", 1);
        let v = sealed(&e, b"{\"a\":1}", T);
        let hex: String = v.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            concat!(
                "c1560201bbea57cd18dda6a9f9b1acdfca3f8b44", // magic, format, codec, tag
                "07000000",                                 // payload length
                "0068e5cf8b010000",                         // written
                "40e6eacf8b010000",                         // expires
                "90eb676d",                                 // CRC-32 (= Python's zlib.crc32)
                "7b2261223a317d",                           // payload
            )
        );
        let no_expiry = sealed(
            &e,
            b"1",
            Times {
                written_ms: 5,
                expires_ms: None,
            },
        );
        assert_eq!(&no_expiry[32..40], &[0; 8]);
        assert_eq!(open(&no_expiry, &e).unwrap().times.expires_ms, None);
    }

    #[test]
    fn mac_rejects_values_not_written_with_the_key() {
        let k = kv("User", 1);
        let e = Expected::with_mac(1, &k, MacKey::new([9; 32]));
        let v = sealed(&e, b"[1,2]", T);
        assert_eq!(v.len(), MAC_HEADER_LEN + 5);
        assert_eq!(open(&v, &e).unwrap().payload, b"[1,2]");
        let other = Expected::with_mac(1, &k, MacKey::new([8; 32]));
        assert_eq!(open(&v, &other), Err(EnvelopeError::MacMismatch));
        // A checksum-sealed value is another format.
        let plain = sealed(&Expected::new(1, &k), b"[1,2]", T);
        assert!(matches!(
            open(&plain, &e),
            Err(EnvelopeError::UnknownFormat { .. })
        ));
        assert_eq!(format!("{:?}", MacKey::new([1; 32])), "MacKey(***)");
        assert_ne!(MacKey::derive_from(b"a"), MacKey::derive_from(b"b"));
    }

    #[test]
    fn times() {
        let t = Times::at(1000, Some(Duration::from_millis(500)));
        assert_eq!(t.expires_ms, Some(1500));
        assert!(!t.expired_at(1499) && t.expired_at(1500));
        assert_eq!(t.remaining_at(1200), Some(Duration::from_millis(300)));
        assert_eq!(t.age_fraction_at(1250), Some(0.5));
        assert_eq!(Times::at(1000, None).age_fraction_at(5000), None);
        assert_eq!(
            Times::at(u64::MAX - 1, Some(Duration::MAX)).expires_ms,
            Some(u64::MAX)
        );
    }
}
