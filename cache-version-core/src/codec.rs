//! Codecs: how a value becomes bytes. Each has a stable one-byte id, which is part of the key
//! version and of the value envelope, so switching codecs never feeds old bytes to a new
//! decoder.
//!
//! | id | codec | feature | notes |
//! |---|---|---|---|
//! | 0 | reserved | | never used |
//! | 1 | [`JsonCodec`] (serde_json) | always | the default; readable, self-describing |
//! | 2 | `MsgPackCodec` (rmp-serde) | `msgpack` | structs written as **maps** (field names included) |
//! | 3 | `PostcardCodec` (postcard) | `postcard` | compact, positional, not self-describing |
//! | 4..=127 | reserved for this library | | |
//! | 128..=255 | free for your own codecs | | |
//!
//! Decoders reject trailing bytes, and every built-in decoder stops at [`MAX_DEPTH`] levels of
//! nesting (serde_json by its own limit, MessagePack by rmp-serde's, postcard, which has none,
//! through [`DepthLimited`]), so a hostile value cannot overflow the stack. A codec of your
//! own must bound its recursion too: wrap its deserializer in [`DepthLimited`].

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use crate::depth::{DepthLimited, MAX_DEPTH};

/// A serde format for cache values.
///
/// `encode` appends to `out` (which may already hold an envelope header), so one value costs
/// one buffer.
pub trait Codec: Send + Sync + 'static {
    /// The stable id (see the [module docs](self) for the table).
    const ID: u8;
    /// A short name, for errors and logs.
    const NAME: &'static str;

    /// Appends the encoding of `value` to `out`.
    fn encode<T: Serialize + ?Sized>(&self, value: &T, out: &mut Vec<u8>)
        -> Result<(), CodecError>;

    /// Decodes a whole value from `bytes` (trailing bytes are an error). Must not recurse
    /// without bound however `bytes` nest (see [`DepthLimited`]).
    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, CodecError>;
}

/// A value that a codec could not encode or decode.
#[derive(Debug, thiserror::Error)]
#[error("{codec}: {source}")]
pub struct CodecError {
    codec: &'static str,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl CodecError {
    /// Wraps a codec's own error.
    pub fn new(
        codec: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        CodecError {
            codec,
            source: source.into(),
        }
    }

    /// The codec's name.
    pub fn codec(&self) -> &'static str {
        self.codec
    }
}

/// JSON through `serde_json` (id 1): the default codec.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonCodec;

impl Codec for JsonCodec {
    const ID: u8 = 1;
    const NAME: &'static str = "json";

    fn encode<T: Serialize + ?Sized>(
        &self,
        value: &T,
        out: &mut Vec<u8>,
    ) -> Result<(), CodecError> {
        serde_json::to_writer(out, value).map_err(|e| CodecError::new(Self::NAME, e))
    }

    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, CodecError> {
        serde_json::from_slice(bytes).map_err(|e| CodecError::new(Self::NAME, e))
    }
}

/// MessagePack through `rmp-serde` (id 2, feature `msgpack`).
///
/// Structs are written as maps with their field names (`rmp_serde::to_vec_named`), which other
/// languages' MessagePack libraries read as objects and which survives a field reorder; the
/// cost is a larger value than the positional array form.
#[cfg(feature = "msgpack")]
#[derive(Debug, Clone, Copy, Default)]
pub struct MsgPackCodec;

#[cfg(feature = "msgpack")]
impl Codec for MsgPackCodec {
    const ID: u8 = 2;
    const NAME: &'static str = "msgpack";

    fn encode<T: Serialize + ?Sized>(
        &self,
        value: &T,
        out: &mut Vec<u8>,
    ) -> Result<(), CodecError> {
        let mut ser = rmp_serde::Serializer::new(out).with_struct_map();
        value
            .serialize(&mut ser)
            .map_err(|e| CodecError::new(Self::NAME, e))
    }

    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, CodecError> {
        let mut de = rmp_serde::Deserializer::new(std::io::Cursor::new(bytes));
        de.set_max_depth(MAX_DEPTH);
        let value = T::deserialize(&mut de).map_err(|e| CodecError::new(Self::NAME, e))?;
        let rest = bytes.len() as u64 - de.position();
        if rest != 0 {
            return Err(CodecError::new(
                Self::NAME,
                format!("{rest} trailing bytes after the value"),
            ));
        }
        Ok(value)
    }
}

/// postcard (id 3, feature `postcard`): compact and fast, positional and not self-describing
/// (so `#[serde(flatten)]`, untagged enums and `skip_serializing_if` do not round-trip).
/// postcard has no nesting limit of its own; this codec decodes through [`DepthLimited`].
#[cfg(feature = "postcard")]
#[derive(Debug, Clone, Copy, Default)]
pub struct PostcardCodec;

#[cfg(feature = "postcard")]
impl Codec for PostcardCodec {
    const ID: u8 = 3;
    const NAME: &'static str = "postcard";

    fn encode<T: Serialize + ?Sized>(
        &self,
        value: &T,
        out: &mut Vec<u8>,
    ) -> Result<(), CodecError> {
        let taken = core::mem::take(out);
        match postcard::to_extend(value, taken) {
            Ok(v) => {
                *out = v;
                Ok(())
            }
            Err(e) => Err(CodecError::new(Self::NAME, e)),
        }
    }

    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, CodecError> {
        let mut de = postcard::Deserializer::from_bytes(bytes);
        let value = T::deserialize(DepthLimited::new(&mut de, MAX_DEPTH))
            .map_err(|e| CodecError::new(Self::NAME, e))?;
        let rest = de.finalize().map_err(|e| CodecError::new(Self::NAME, e))?;
        if !rest.is_empty() {
            return Err(CodecError::new(
                Self::NAME,
                format!("{} trailing bytes after the value", rest.len()),
            ));
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct V {
        id: u64,
        name: String,
        tags: Vec<String>,
    }

    fn v() -> V {
        V {
            id: 7,
            name: "ada".into(),
            tags: vec!["a".into(), "b".into()],
        }
    }

    fn round_trip<C: Codec>(c: C) {
        let mut out = b"HDR".to_vec();
        c.encode(&v(), &mut out).unwrap();
        assert_eq!(&out[..3], b"HDR");
        assert_eq!(c.decode::<V>(&out[3..]).unwrap(), v());
        // Truncated and padded values are errors.
        assert!(c.decode::<V>(&out[3..out.len() - 1]).is_err());
        let mut padded = out[3..].to_vec();
        padded.push(0);
        assert!(c.decode::<V>(&padded).is_err(), "{}", C::NAME);
        let e = c.decode::<V>(b"").unwrap_err();
        assert_eq!(e.codec(), C::NAME);
    }

    #[test]
    fn json() {
        round_trip(JsonCodec);
        let mut out = Vec::new();
        JsonCodec.encode(&v(), &mut out).unwrap();
        assert_eq!(out, br#"{"id":7,"name":"ada","tags":["a","b"]}"#);
    }

    #[cfg(feature = "msgpack")]
    #[test]
    fn msgpack_writes_maps() {
        round_trip(MsgPackCodec);
        let mut out = Vec::new();
        MsgPackCodec.encode(&v(), &mut out).unwrap();
        assert_eq!(out[0], 0x83, "a fixmap of 3 entries");
        assert_eq!(&out[1..4], b"\xa2id");
    }

    #[cfg(feature = "postcard")]
    #[test]
    fn postcard() {
        round_trip(PostcardCodec);
    }

    #[test]
    fn ids_are_distinct() {
        let mut ids = vec![JsonCodec::ID];
        #[cfg(feature = "msgpack")]
        ids.push(MsgPackCodec::ID);
        #[cfg(feature = "postcard")]
        ids.push(PostcardCodec::ID);
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n);
        assert!(!ids.contains(&0));
    }
}
