//! The value path: how a value becomes the bytes of an entry, and the one function
//! ([`ValueSpec::read`]) through which every stored byte string becomes a value again.
//!
//! Every read path of the cache (`get`, `get_many`, `get_or_load` and its re-read, the
//! fallback reads of older versions, the sweeps) calls [`ValueSpec::read`], which applies, in
//! this order and before any decoding:
//! 1. the size limit (`max_value_len`): a larger value is never decoded;
//! 2. the envelope check ([`crate::envelope::open`]): format, codec, key version, payload
//!    length, checksum or MAC;
//! 3. the codec, whose decoders bound their nesting ([`crate::codec::MAX_DEPTH`]).
//!
//! Any failure is a [`DecodeError`], which the cache counts as a miss (or returns, failing
//! closed); nothing panics, whatever the bytes.

use crate::codec::CodecError;
use crate::envelope::{self, Expected, Times};
use crate::error::DecodeError;

/// How the entries of one model version are written and read.
#[derive(Debug, Clone)]
pub(crate) struct ValueSpec {
    /// The envelope header of this version; `None` with the envelope turned off.
    expected: Option<Expected>,
    /// The largest stored value (envelope included) read or written.
    max_len: usize,
}

/// A value read back, with the times its envelope carries.
#[derive(Debug, Clone)]
pub(crate) struct Decoded<T> {
    pub(crate) value: T,
    /// `None` for raw payloads (no envelope, so no times).
    pub(crate) times: Option<Times>,
}

impl<T> Decoded<T> {
    /// Whether the entry is past its logical expiry at `now_ms`.
    pub(crate) fn expired_at(&self, now_ms: u64) -> bool {
        self.times.is_some_and(|t| t.expired_at(now_ms))
    }
}

/// Why a value could not be written.
#[derive(Debug)]
pub(crate) enum WriteError {
    /// The codec failed.
    Encode(CodecError),
    /// The encoded value is over the limit.
    TooLarge { size: usize, limit: usize },
}

impl ValueSpec {
    pub(crate) fn new(expected: Option<Expected>, max_len: usize) -> Self {
        ValueSpec { expected, max_len }
    }

    /// The one read path: size limit, envelope check, then `decode` on the payload.
    pub(crate) fn read<T>(
        &self,
        bytes: &[u8],
        decode: impl FnOnce(&[u8]) -> Result<T, CodecError>,
    ) -> Result<Decoded<T>, DecodeError> {
        if bytes.len() > self.max_len {
            return Err(DecodeError::TooLarge {
                size: bytes.len(),
                limit: self.max_len,
            });
        }
        let (payload, times) = match &self.expected {
            Some(expected) => {
                let opened = envelope::open(bytes, expected).map_err(DecodeError::Envelope)?;
                (opened.payload, Some(opened.times))
            }
            None => (bytes, None),
        };
        let value = decode(payload).map_err(DecodeError::Codec)?;
        Ok(Decoded { value, times })
    }

    /// Encodes a value as it is stored: the envelope (unless turned off), then the codec's
    /// payload appended by `encode`, in one buffer of `capacity` bytes to start with.
    pub(crate) fn write(
        &self,
        capacity: usize,
        times: Times,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), CodecError>,
    ) -> Result<Vec<u8>, WriteError> {
        let mut out = Vec::with_capacity(capacity);
        match &self.expected {
            Some(expected) => {
                let start = envelope::begin(&mut out, expected);
                encode(&mut out).map_err(WriteError::Encode)?;
                self.check_len(out.len())?;
                envelope::seal(&mut out, start, expected, times)
                    .map_err(|e| WriteError::Encode(CodecError::new("envelope", e)))?;
            }
            None => {
                encode(&mut out).map_err(WriteError::Encode)?;
                self.check_len(out.len())?;
            }
        }
        Ok(out)
    }

    fn check_len(&self, size: usize) -> Result<(), WriteError> {
        if size > self.max_len {
            return Err(WriteError::TooLarge {
                size,
                limit: self.max_len,
            });
        }
        Ok(())
    }
}
