//! Cache keys: `{namespace}:{model}:{keyversion}:{logical key}`.
//!
//! # The layout (stable)
//!
//! ```text
//! prod:User:3f9a1c2b7d4e5f60:123
//! ^^^^ ^^^^ ^^^^^^^^^^^^^^^^ ^^^
//!  |    |    |                the logical key: any bytes, written as given
//!  |    |    16 lowercase hex digits (64 bits) of the key version
//!  |    the model name (`CacheModel::model_name`, such as `User` or `Page<User>`, or an explicit name)
//!  the namespace (one per service or environment)
//! ```
//!
//! The **key version** is the first 8 bytes of
//!
//! ```text
//! BLAKE3( "cache-version key/1" ‖ 0x00
//!       ‖ model name (UTF-8) ‖ 0x00
//!       ‖ VERSION (the type's 32 digest bytes)
//!       ‖ codec id (1 byte)
//!       ‖ value format (1 byte: 0x02 raw, 0x03 envelope 2, 0x04 envelope 2 with a MAC) )
//! ```
//!
//! so it changes when the serialized shape changes, when the codec changes, when the value format
//! of this library changes (envelope on or off) and when the model is renamed. Each of these
//! moves the model to a fresh key space, so bytes written one way are never read another way.
//! The value envelope (see [`crate::envelope`]) carries the first 16 bytes of the same digest, so
//! a read can check what it got before decoding.
//!
//! Namespace and model names are validated ([`validate_name`]): non-empty, and none of `:`,
//! whitespace, control characters, the glob characters `* ? [ ] \` or the braces `{ }`. So the
//! three segments the library writes can be split back apart ([`ParsedKey`]), a `SCAN
//! prod:User:*` lists every version of one model and nothing else, and nothing the library adds
//! contains `{` or `}`: a Redis Cluster hash tag in the logical key (`user:{42}:profile`) keeps
//! working. The logical key is written as given, up to a configurable length.
//!
//! Building a key costs one allocation: the `{namespace}:{model}:{keyversion}:` prefix is built
//! once per model handle ([`KeyPrefix`]).

use core::fmt;

use crate::version::{write_hex, Version};

/// The byte string that starts the key-version digest input. Changing it changes every key.
pub const KEY_VERSION_DOMAIN: &[u8] = b"cache-version key/1\0";

/// How values are stored, part of the key version so the two never mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueFormat {
    /// The value starts with the envelope header of [`crate::envelope`], format 2 with a
    /// CRC-32 checksum (the default).
    Enveloped,
    /// The envelope with a keyed MAC instead of the checksum
    /// ([`crate::CacheBuilder::mac_key`]).
    EnvelopedMac,
    /// The value is the codec's payload alone (for readers in other languages).
    Raw,
}

impl ValueFormat {
    /// The byte that stands for this format in the key-version digest.
    ///
    /// | byte | format |
    /// |---|---|
    /// | 0x01 | envelope format 1 (releases before 0.2; no longer written) |
    /// | 0x02 | raw payload |
    /// | 0x03 | envelope format 2, CRC-32 |
    /// | 0x04 | envelope format 2, keyed MAC |
    pub const fn byte(self) -> u8 {
        match self {
            ValueFormat::Raw => 0x02,
            ValueFormat::Enveloped => 0x03,
            ValueFormat::EnvelopedMac => 0x04,
        }
    }
}

/// The key version of one model handle: a BLAKE3 digest over the model name, the type's
/// [`Version`], the codec id and the value format (see the [module docs](self)).
///
/// `Display` prints the 16 lowercase hex digits written in keys.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyVersion([u8; 32]);

impl KeyVersion {
    /// Computes the key version.
    pub fn compute(model: &str, version: &Version, codec_id: u8, format: ValueFormat) -> Self {
        let mut h = crate::blake3::Hasher::new();
        h.update_in_place(KEY_VERSION_DOMAIN);
        h.update_in_place(model.as_bytes());
        h.update_in_place(&[0]);
        h.update_in_place(version.as_bytes());
        h.update_in_place(&[codec_id, format.byte()]);
        KeyVersion(h.finalize())
    }

    /// The whole digest.
    pub const fn digest(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 16 bytes carried by the value envelope.
    pub fn envelope_tag(&self) -> [u8; 16] {
        let mut tag = [0u8; 16];
        tag.copy_from_slice(&self.0[..16]);
        tag
    }

    /// The 16 lowercase hex digits of the key segment.
    pub fn to_hex(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        write_hex(&self.0[..8], &mut out);
        out
    }
}

impl fmt::Display for KeyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = self.to_hex();
        f.write_str(core::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for KeyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyVersion({self})")
    }
}

/// Which name a [`NameError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// The cache's namespace.
    Namespace,
    /// A model name.
    Model,
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::Namespace => "namespace",
            NameKind::Model => "model name",
        })
    }
}

/// A namespace or model name that cannot be used in a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    #[error("the {kind} is empty")]
    Empty {
        /// Which name.
        kind: NameKind,
    },
    /// The name contains a character that keys do not allow.
    #[error(
        "the {kind} {name:?} contains {ch:?} at byte {pos}: names may not contain ':', \
         whitespace, control characters, '*', '?', '[', ']', '\\\\', '{{' or '}}'"
    )]
    ForbiddenChar {
        /// Which name.
        kind: NameKind,
        /// The whole name.
        name: String,
        /// The first forbidden character.
        ch: char,
        /// Its byte offset in the name.
        pos: usize,
    },
}

/// Whether `c` may appear in a namespace or model name.
pub const fn is_name_char(c: char) -> bool {
    !matches!(c, ':' | '*' | '?' | '[' | ']' | '\\' | '{' | '}')
        && !is_white_space(c)
        // Unicode category Cc (what `char::is_control` tests; that one is not `const`).
        && !matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}')
}

/// Unicode's `White_Space` property, what `char::is_whitespace` tests (spelled out because
/// that method is not `const` on every toolchain this crate supports).
const fn is_white_space(c: char) -> bool {
    matches!(
        c,
        '\u{9}'..='\u{d}'
            | ' '
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// The first forbidden character of `name` and its byte offset; `None` when `name` is valid
/// or empty. A `const fn`, so a model name can be checked at compile time.
pub const fn first_forbidden_char(name: &str) -> Option<(char, usize)> {
    let b = name.as_bytes();
    let mut i = 0;
    while i < b.len() {
        // Decode one UTF-8 scalar (`name` is a `str`, so it is well formed).
        let (cp, len) = if b[i] < 0x80 {
            (b[i] as u32, 1)
        } else if b[i] < 0xE0 {
            (((b[i] & 0x1F) as u32) << 6 | (b[i + 1] & 0x3F) as u32, 2)
        } else if b[i] < 0xF0 {
            (
                ((b[i] & 0x0F) as u32) << 12
                    | ((b[i + 1] & 0x3F) as u32) << 6
                    | (b[i + 2] & 0x3F) as u32,
                3,
            )
        } else {
            (
                ((b[i] & 0x07) as u32) << 18
                    | ((b[i + 1] & 0x3F) as u32) << 12
                    | ((b[i + 2] & 0x3F) as u32) << 6
                    | (b[i + 3] & 0x3F) as u32,
                4,
            )
        };
        let c = match char::from_u32(cp) {
            Some(c) => c,
            None => return Some((char::REPLACEMENT_CHARACTER, i)),
        };
        if !is_name_char(c) {
            return Some((c, i));
        }
        i += len;
    }
    None
}

/// Whether `name` is a valid namespace or model name (`const`).
pub const fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && first_forbidden_char(name).is_none()
}

/// Checks a namespace or model name (see the [module docs](self) for the rule).
///
/// ```
/// use cache_version_core::key::{validate_name, NameError, NameKind};
///
/// assert!(validate_name(NameKind::Model, "User").is_ok());
/// let err = validate_name(NameKind::Namespace, "prod:eu").unwrap_err();
/// assert!(matches!(err, NameError::ForbiddenChar { ch: ':', pos: 4, .. }));
/// assert_eq!(validate_name(NameKind::Model, ""), Err(NameError::Empty { kind: NameKind::Model }));
/// ```
pub fn validate_name(kind: NameKind, name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty { kind });
    }
    match first_forbidden_char(name) {
        None => Ok(()),
        Some((ch, pos)) => Err(NameError::ForbiddenChar {
            kind,
            name: name.to_owned(),
            ch,
            pos,
        }),
    }
}

/// The `{namespace}:{model}:{keyversion}:` prefix of one model handle, built once; each key
/// is then one allocation.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct KeyPrefix {
    bytes: Box<[u8]>,
    model_len: usize,
}

impl KeyPrefix {
    /// Validates the names and builds the prefix.
    pub fn new(namespace: &str, model: &str, version: &KeyVersion) -> Result<Self, NameError> {
        validate_name(NameKind::Namespace, namespace)?;
        validate_name(NameKind::Model, model)?;
        let mut bytes = Vec::with_capacity(namespace.len() + model.len() + 19);
        bytes.extend_from_slice(namespace.as_bytes());
        bytes.push(b':');
        bytes.extend_from_slice(model.as_bytes());
        bytes.push(b':');
        let model_len = bytes.len();
        bytes.extend_from_slice(&version.to_hex());
        bytes.push(b':');
        Ok(KeyPrefix {
            bytes: bytes.into_boxed_slice(),
            model_len,
        })
    }

    /// `{namespace}:{model}:{keyversion}:`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// `{namespace}:{model}:`: the prefix shared by every version of the model (what a scan
    /// for old versions walks).
    pub fn model_prefix(&self) -> &[u8] {
        &self.bytes[..self.model_len]
    }

    /// The full key of `logical`, in exactly one allocation.
    pub fn key(&self, logical: &[u8]) -> Vec<u8> {
        let mut key = Vec::with_capacity(self.bytes.len() + logical.len());
        key.extend_from_slice(&self.bytes);
        key.extend_from_slice(logical);
        key
    }

    /// The full key of `logical` on the stack when it fits in [`KeyBuf`]'s inline bytes (most
    /// keys), else in one allocation: for reads, whose hit should allocate nothing.
    #[inline]
    pub(crate) fn key_buf(&self, logical: &[u8]) -> KeyBuf {
        let len = self.bytes.len() + logical.len();
        if len > KeyBuf::INLINE {
            return KeyBuf::Heap(self.key(logical));
        }
        let mut buf = [0u8; KeyBuf::INLINE];
        buf[..self.bytes.len()].copy_from_slice(&self.bytes);
        buf[self.bytes.len()..len].copy_from_slice(logical);
        KeyBuf::Inline {
            buf,
            len: len as u8,
        }
    }

    /// The logical key of `key` if `key` starts with this prefix.
    pub fn strip<'k>(&self, key: &'k [u8]) -> Option<&'k [u8]> {
        key.strip_prefix(&*self.bytes)
    }
}

impl fmt::Debug for KeyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyPrefix({})", String::from_utf8_lossy(&self.bytes))
    }
}

/// A full key built by [`KeyPrefix::key_buf`]: inline up to [`KeyBuf::INLINE`] bytes.
pub(crate) enum KeyBuf {
    /// The key's bytes are `buf[..len]`.
    Inline { buf: [u8; KeyBuf::INLINE], len: u8 },
    /// A longer key.
    Heap(Vec<u8>),
}

impl KeyBuf {
    /// The longest key kept inline: a namespace, a model name, the 32-digit version, three
    /// colons and a logical key of several dozen bytes.
    pub(crate) const INLINE: usize = 128;
}

impl std::ops::Deref for KeyBuf {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            KeyBuf::Inline { buf, len } => &buf[..usize::from(*len)],
            KeyBuf::Heap(v) => v,
        }
    }
}

/// A key split into its four segments (the inverse of [`KeyPrefix::key`]).
///
/// ```
/// use cache_version_core::key::ParsedKey;
///
/// let k = ParsedKey::parse(b"prod:User:3f9a1c2b7d4e5f60:user:{42}").unwrap();
/// assert_eq!((k.namespace, k.model, k.version), ("prod", "User", "3f9a1c2b7d4e5f60"));
/// assert_eq!(k.logical, b"user:{42}");
/// assert!(ParsedKey::parse(b"prod:User:not-a-version:1").is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedKey<'k> {
    /// The namespace.
    pub namespace: &'k str,
    /// The model name.
    pub model: &'k str,
    /// The 16 hex digits of the key version.
    pub version: &'k str,
    /// The logical key.
    pub logical: &'k [u8],
}

impl<'k> ParsedKey<'k> {
    /// Splits `key`; `None` when it does not have the layout (valid names, 16 lowercase hex
    /// digits).
    pub fn parse(key: &'k [u8]) -> Option<Self> {
        let mut parts = key.splitn(4, |&b| b == b':');
        let namespace = core::str::from_utf8(parts.next()?).ok()?;
        let model = core::str::from_utf8(parts.next()?).ok()?;
        let version = parts.next()?;
        let logical = parts.next()?;
        if !is_valid_name(namespace)
            || !is_valid_name(model)
            || version.len() != 16
            || !version
                .iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
        {
            return None;
        }
        Some(ParsedKey {
            namespace,
            model,
            version: core::str::from_utf8(version).ok()?,
            logical,
        })
    }
}

/// A readable, bounded rendering of a logical key for errors and logs: printable ASCII as is,
/// other bytes as `\xNN`, cut after 64 bytes with the total length appended.
pub fn display_key(key: &[u8]) -> String {
    const MAX: usize = 64;
    let shown = &key[..key.len().min(MAX)];
    let mut out = String::with_capacity(shown.len() + 16);
    for &b in shown {
        if b.is_ascii_graphic() || b == b' ' {
            out.push(b as char);
        } else {
            out.push_str("\\x");
            out.push(char::from(b"0123456789abcdef"[(b >> 4) as usize]));
            out.push(char::from(b"0123456789abcdef"[(b & 15) as usize]));
        }
    }
    if key.len() > MAX {
        out.push_str(&format!("…({} bytes)", key.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(model: &str, codec: u8, format: ValueFormat) -> KeyVersion {
        KeyVersion::compute(model, &Version::from_bytes([7; 32]), codec, format)
    }

    #[test]
    fn key_version_covers_every_input() {
        let base = kv("User", 1, ValueFormat::Enveloped);
        assert_ne!(base, kv("Users", 1, ValueFormat::Enveloped));
        assert_ne!(base, kv("User", 2, ValueFormat::Enveloped));
        assert_ne!(base, kv("User", 1, ValueFormat::Raw));
        assert_ne!(base, kv("User", 1, ValueFormat::EnvelopedMac));
        let other = KeyVersion::compute(
            "User",
            &Version::from_bytes([8; 32]),
            1,
            ValueFormat::Enveloped,
        );
        assert_ne!(base, other);
        assert_eq!(base, kv("User", 1, ValueFormat::Enveloped));
    }

    #[test]
    fn key_version_matches_the_documented_rule() {
        let mut input = Vec::new();
        input.extend_from_slice(b"cache-version key/1\0User\0");
        input.extend_from_slice(&[7; 32]);
        input.extend_from_slice(&[1, 3]);
        let expected = crate::blake3::hash(&input);
        let got = kv("User", 1, ValueFormat::Enveloped);
        assert_eq!(got.digest(), &expected);
        let mut hex = [0u8; 16];
        write_hex(&expected[..8], &mut hex);
        assert_eq!(got.to_string().as_bytes(), &hex);
        assert_eq!(&got.envelope_tag()[..], &expected[..16]);
    }

    #[test]
    fn prefix_and_key() {
        let v = kv("User", 1, ValueFormat::Enveloped);
        let p = KeyPrefix::new("prod", "User", &v).unwrap();
        let key = p.key(b"user:{42}");
        assert_eq!(key, format!("prod:User:{v}:user:{{42}}").into_bytes());
        assert_eq!(key.capacity(), key.len());
        assert_eq!(p.model_prefix(), b"prod:User:");
        assert_eq!(p.strip(&key), Some(&b"user:{42}"[..]));
        let parsed = ParsedKey::parse(&key).unwrap();
        assert_eq!(parsed.version, v.to_string());
        assert_eq!(parsed.logical, b"user:{42}");
    }

    #[test]
    fn names_are_validated() {
        for (name, ch, pos) in [
            ("a:b", ':', 1),
            ("a b", ' ', 1),
            ("ab\t", '\t', 2),
            ("a\u{0}", '\u{0}', 1),
            ("\u{85}x", '\u{85}', 0),
            ("é\u{a0}", '\u{a0}', 2),
            ("u*", '*', 1),
            ("u?", '?', 1),
            ("[u", '[', 0),
            ("u]", ']', 1),
            ("u\\", '\\', 1),
            ("{u", '{', 0),
            ("u}", '}', 1),
            ("x\u{2028}", '\u{2028}', 1),
        ] {
            let err = validate_name(NameKind::Model, name).unwrap_err();
            assert_eq!(
                err,
                NameError::ForbiddenChar {
                    kind: NameKind::Model,
                    name: name.into(),
                    ch,
                    pos
                },
                "{name:?}"
            );
            assert!(err.to_string().contains(&format!("at byte {pos}")));
        }
        for ok in ["User", "user_v2", "Ünïcødé", "a.b-c/d", "日本"] {
            assert!(validate_name(NameKind::Namespace, ok).is_ok(), "{ok}");
        }
        assert!(KeyPrefix::new("", "User", &kv("User", 1, ValueFormat::Raw)).is_err());
    }

    #[test]
    fn white_space_matches_std() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            assert_eq!(is_white_space(c), c.is_whitespace(), "{c:?}");
            let cc = matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}');
            assert_eq!(cc, c.is_control(), "{c:?}");
        }
    }

    #[test]
    fn display_key_is_bounded_and_readable() {
        assert_eq!(display_key(b"user:42"), "user:42");
        assert_eq!(display_key(b"a\x00\xff"), "a\\x00\\xff");
        let long = vec![b'k'; 1000];
        let shown = display_key(&long);
        assert!(shown.starts_with(&"k".repeat(64)));
        assert!(shown.ends_with("…(1000 bytes)"));
    }
}
