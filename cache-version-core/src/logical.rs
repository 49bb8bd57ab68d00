//! Logical keys: [`CacheKey`], what a model handle's methods take as the record's key
//! (`users.get(42)`, `users.get("42")`, `users.get(&id)`, `users.get(uuid)`).
//!
//! A logical key is the last segment of the store key (see [`crate::key`]), written as bytes:
//!
//! | key type | written as | so these are one key |
//! |---|---|---|
//! | `str`, `String`, `Box<str>`, `Arc<str>`, `Rc<str>`, `Cow<str>` | its UTF-8 bytes | `"42"`, `String::from("42")` |
//! | `[u8]`, `[u8; N]`, `Vec<u8>`, `Cow<[u8]>` (and `bytes::Bytes`, feature `bytes1`) | the bytes as given | `b"42"`, `vec![b'4', b'2']` |
//! | every integer type (`u8` … `u128`, `i8` … `i128`, `usize`, `isize`) | decimal ASCII, `-` for negatives, no padding | `42u64`, `42i32`, `"42"` |
//! | `uuid::Uuid` (feature `uuid1`) | hyphenated lowercase, 36 bytes | `uuid`, `uuid.to_string()` |
//! | `&K`, `&mut K` for any of these | as `K` | |
//!
//! Integers and UUIDs are formatted on the stack, so `users.get(42)` costs no allocation more
//! than `users.get("42")`; and since an integer is written as its decimal text, a service can
//! move from `id.to_string()` to `id` without moving its keys.
//!
//! Your own key type implements [`CacheKey`] by returning its bytes:
//!
//! ```
//! use cache_version_core::logical::{CacheKey, KeyBytes};
//!
//! struct TenantUser { tenant: String, user: u64 }
//!
//! impl CacheKey for TenantUser {
//!     fn key_bytes(&self) -> KeyBytes<'_> {
//!         KeyBytes::from(format!("{}/{}", self.tenant, self.user).into_bytes())
//!     }
//! }
//!
//! let k = TenantUser { tenant: "acme".into(), user: 7 };
//! assert_eq!(&*k.key_bytes(), b"acme/7");
//! assert_eq!(&*42u64.key_bytes(), b"42");
//! assert_eq!(&*(-7i32).key_bytes(), b"-7");
//! ```

use std::borrow::Cow;
use std::ops::Deref;
use std::rc::Rc;
use std::sync::Arc;

/// The longest key [`KeyBytes`] holds inline: an `i128`'s 40 characters.
const INLINE: usize = 40;

/// The bytes of a logical key: borrowed from the key, formatted on the stack (integers,
/// UUIDs), or owned. Dereferences to `[u8]`.
#[derive(Clone)]
pub struct KeyBytes<'a>(Repr<'a>);

#[derive(Clone)]
enum Repr<'a> {
    Borrowed(&'a [u8]),
    Inline { buf: [u8; INLINE], len: u8 },
    Owned(Vec<u8>),
}

impl<'a> KeyBytes<'a> {
    /// Bytes borrowed from the key.
    pub const fn borrowed(bytes: &'a [u8]) -> KeyBytes<'a> {
        KeyBytes(Repr::Borrowed(bytes))
    }

    /// Bytes copied onto the stack when they fit (up to 40), else into a `Vec`.
    pub fn copied(bytes: &[u8]) -> KeyBytes<'static> {
        if bytes.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..bytes.len()].copy_from_slice(bytes);
            KeyBytes(Repr::Inline {
                buf,
                len: bytes.len() as u8,
            })
        } else {
            KeyBytes(Repr::Owned(bytes.to_vec()))
        }
    }

    /// The bytes, as a slice.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Borrowed(b) => b,
            Repr::Inline { buf, len } => &buf[..usize::from(*len)],
            Repr::Owned(v) => v,
        }
    }
}

impl From<Vec<u8>> for KeyBytes<'static> {
    fn from(bytes: Vec<u8>) -> Self {
        KeyBytes(Repr::Owned(bytes))
    }
}

impl Deref for KeyBytes<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for KeyBytes<'_> {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::fmt::Debug for KeyBytes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "KeyBytes({:?})",
            String::from_utf8_lossy(self.as_bytes())
        )
    }
}

impl PartialEq for KeyBytes<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for KeyBytes<'_> {}

/// A logical key of a model's records; see the [module documentation](self) for what each
/// type is written as.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a logical cache key",
    label = "not a string, bytes, an integer or a UUID",
    note = "logical keys are strings, byte strings, integers, `uuid::Uuid` (feature `uuid1`) \
            or references to them; for a key of your own, implement `CacheKey` (return its \
            bytes) or pass `key.to_string()`"
)]
pub trait CacheKey {
    /// The key's bytes, as written in the store key.
    fn key_bytes(&self) -> KeyBytes<'_>;
}

impl<K: CacheKey + ?Sized> CacheKey for &K {
    fn key_bytes(&self) -> KeyBytes<'_> {
        (**self).key_bytes()
    }
}

impl<K: CacheKey + ?Sized> CacheKey for &mut K {
    fn key_bytes(&self) -> KeyBytes<'_> {
        (**self).key_bytes()
    }
}

macro_rules! as_bytes {
    ($($ty:ty => |$k:ident| $bytes:expr;)*) => {$(
        impl CacheKey for $ty {
            #[inline]
            fn key_bytes(&self) -> KeyBytes<'_> {
                let $k = self;
                KeyBytes::borrowed($bytes)
            }
        }
    )*};
}

as_bytes! {
    str => |k| k.as_bytes();
    String => |k| k.as_bytes();
    Box<str> => |k| k.as_bytes();
    Arc<str> => |k| k.as_bytes();
    Rc<str> => |k| k.as_bytes();
    Cow<'_, str> => |k| k.as_bytes();
    [u8] => |k| k;
    Vec<u8> => |k| k;
    Box<[u8]> => |k| k;
    Arc<[u8]> => |k| k;
    Cow<'_, [u8]> => |k| k;
}

impl<const N: usize> CacheKey for [u8; N] {
    #[inline]
    fn key_bytes(&self) -> KeyBytes<'_> {
        KeyBytes::borrowed(self)
    }
}

#[cfg(feature = "bytes1")]
as_bytes! {
    bytes::Bytes => |k| k;
    bytes::BytesMut => |k| k;
}

/// Decimal ASCII of `n` (with `-` when `negative`) into an inline buffer.
fn decimal(mut n: u128, negative: bool) -> KeyBytes<'static> {
    let mut buf = [0u8; INLINE];
    let mut i = INLINE;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if negative {
        i -= 1;
        buf[i] = b'-';
    }
    let len = INLINE - i;
    buf.copy_within(i.., 0);
    KeyBytes(Repr::Inline {
        buf,
        len: len as u8,
    })
}

macro_rules! unsigned {
    ($($ty:ty),*) => {$(
        impl CacheKey for $ty {
            #[inline]
            fn key_bytes(&self) -> KeyBytes<'_> {
                decimal(*self as u128, false)
            }
        }
    )*};
}

macro_rules! signed {
    ($($ty:ty),*) => {$(
        impl CacheKey for $ty {
            #[inline]
            fn key_bytes(&self) -> KeyBytes<'_> {
                decimal(self.unsigned_abs() as u128, *self < 0)
            }
        }
    )*};
}

unsigned!(u8, u16, u32, u64, u128, usize);
signed!(i8, i16, i32, i64, i128, isize);

#[cfg(feature = "uuid1")]
impl CacheKey for uuid::Uuid {
    fn key_bytes(&self) -> KeyBytes<'_> {
        let mut buf = [0u8; INLINE];
        let len = self
            .hyphenated()
            .encode_lower(&mut buf[..uuid::fmt::Hyphenated::LENGTH])
            .len();
        KeyBytes(Repr::Inline {
            buf,
            len: len as u8,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_their_decimal_text() {
        for n in [0u64, 1, 9, 10, 42, 1_000_000, u64::MAX] {
            assert_eq!(&*n.key_bytes(), n.to_string().as_bytes());
        }
        for n in [0i64, -1, 7, -42, i64::MIN, i64::MAX] {
            assert_eq!(&*n.key_bytes(), n.to_string().as_bytes());
        }
        assert_eq!(&*i128::MIN.key_bytes(), i128::MIN.to_string().as_bytes());
        assert_eq!(&*u128::MAX.key_bytes(), u128::MAX.to_string().as_bytes());
        assert_eq!(&*i8::MIN.key_bytes(), b"-128");
        assert_eq!(&*(&&42u8).key_bytes(), b"42");
    }

    #[test]
    fn strings_and_bytes_are_borrowed_as_given() {
        let s = String::from("user:{42}");
        assert_eq!(&*s.key_bytes(), b"user:{42}");
        assert_eq!(&*"é".key_bytes(), "é".as_bytes());
        assert_eq!(&*b"\x00\xff".key_bytes(), b"\x00\xff");
        assert_eq!(&*vec![1u8, 2].key_bytes(), &[1, 2]);
        let long = "x".repeat(100);
        assert_eq!(
            KeyBytes::copied(long.as_bytes()).as_bytes(),
            long.as_bytes()
        );
        assert_eq!(KeyBytes::copied(b"short").as_bytes(), b"short");
    }

    #[cfg(feature = "uuid1")]
    #[test]
    fn uuids_are_hyphenated_lowercase() {
        let u = uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        assert_eq!(&*u.key_bytes(), u.to_string().as_bytes());
        assert_eq!(u.key_bytes().len(), 36);
    }
}
