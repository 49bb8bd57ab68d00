//! [`Version`]: the 32-byte BLAKE3 digest that identifies a serialized shape.

use core::fmt;

use crate::blake3;
use crate::shape::{Body, Shape, Ty};

/// The identity of a serialized shape: a BLAKE3 digest computed in `const`.
///
/// Two types have the same `Version` exactly when serde writes them the same way (see
/// `docs/canonical-form.md`). `Display` prints 64 lowercase hex digits; [`Version::short`]
/// is the 16-digit (64-bit) form used in cache keys.
///
/// ```
/// use cache_version_core::{CacheVersion, Version};
///
/// const V: Version = <Vec<String> as CacheVersion>::VERSION;
/// const _: () = assert!(V.eq_const(&<std::collections::VecDeque<String> as CacheVersion>::VERSION));
/// assert_eq!(V.to_string().len(), 64);
/// assert_eq!(V.short().to_string().len(), 16);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(pub(crate) [u8; 32]);

/// The prefix hashed in front of every template: it names the canonical-form format, so a
/// future format can never produce the digests of this one.
pub const TEMPLATE_PREFIX: &[u8] = b"cache-version/1:";

impl Version {
    /// Wraps raw digest bytes (for example read back from a lockfile).
    pub const fn from_bytes(bytes: [u8; 32]) -> Version {
        Version(bytes)
    }

    /// The digest bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// `const` equality (`==` is not callable in `const` on stable).
    pub const fn eq_const(&self, other: &Version) -> bool {
        let mut i = 0;
        while i < 32 {
            if self.0[i] != other.0[i] {
                return false;
            }
            i += 1;
        }
        true
    }

    /// The version of `shape`, by the rule of `docs/canonical-form.md`:
    /// `BLAKE3(BLAKE3(TEMPLATE_PREFIX ‖ template) ‖ v(child₁) ‖ … ‖ v(childₙ))`.
    ///
    /// Children of a named type carry their versions already, so this never walks below the
    /// first named type: the cost is one small hash per structural level.
    pub const fn of(shape: &Shape) -> Version {
        match shape {
            Shape::Named(named) => {
                let mut h = blake3::Hasher::new();
                h.update_in_place(&named.template);
                match &named.body {
                    Body::UnitStruct => {}
                    Body::NewtypeStruct(t) => h.update_in_place(t.version.as_bytes()),
                    Body::TupleStruct(fields) | Body::Struct { fields, .. } => {
                        feed_fields(&mut h, fields)
                    }
                    Body::Enum { variants, .. } => {
                        let mut i = 0;
                        while i < variants.len() {
                            feed_fields(&mut h, variants[i].fields);
                            i += 1;
                        }
                    }
                }
                Version(h.finalize())
            }
            Shape::Option(t) => Version::combine(&crate::canonical::T_OPTION, &[t.version]),
            Shape::Seq(t) => Version::combine(&crate::canonical::T_SEQ, &[t.version]),
            Shape::Map(k, v) => Version::combine(&crate::canonical::T_MAP, &[k.version, v.version]),
            Shape::Readable { human, compact } => Version::combine(
                &crate::canonical::T_READABLE,
                &[human.version, compact.version],
            ),
            Shape::Proxy { write, read } => {
                Version::combine(&crate::canonical::T_PROXY, &[write.version, read.version])
            }
            Shape::Tuple(elems) => crate::canonical::tuple_version(elems),
            Shape::Array(elem, len) => crate::canonical::array_version(elem, *len),
            _ => crate::canonical::leaf_version(shape),
        }
    }

    /// [`Version::of`] a named shape whose first blocks were compressed ahead of time: the
    /// template digest and its first `children` children (whose versions the caller knows),
    /// ending at chaining value `cv`. Resumes from `cv` when those blocks are whole and not
    /// the last of the first chunk; otherwise, and for any other shape, computes
    /// `Version::of(shape)`.
    pub(crate) const fn resumed(shape: &Shape, children: usize, cv: &[u8; 32]) -> Version {
        let Shape::Named(named) = shape else {
            return Version::of(shape);
        };
        let body = &named.body;
        let n = body.child_count();
        // The template and `children` children fill whole blocks, a child is left for the
        // last block, all within the first 1024-byte chunk.
        if children.is_multiple_of(2) || children >= n || n > 31 {
            return Version::of(shape);
        }
        let mut h = blake3::Hasher::resumed(cv, children.div_ceil(2));
        let mut i = children;
        while i < n {
            h.update_in_place(body.child(i).version.as_bytes());
            i += 1;
        }
        Version(h.finalize())
    }

    /// `BLAKE3(template_digest ‖ children…)`: the one combining step of the version rule.
    pub const fn combine(template_digest: &[u8; 32], children: &[Version]) -> Version {
        Version(blake3::hash_digests(template_digest, children))
    }

    /// The digest of a template text: `BLAKE3(TEMPLATE_PREFIX ‖ template)`.
    pub const fn template_digest(template: &str) -> [u8; 32] {
        blake3::Hasher::new()
            .update(TEMPLATE_PREFIX)
            .update(template.as_bytes())
            .finalize()
    }

    /// The 64-bit short form used in cache keys (the first 8 bytes).
    pub const fn short(&self) -> ShortVersion {
        let mut b = [0u8; 8];
        let mut i = 0;
        while i < 8 {
            b[i] = self.0[i];
            i += 1;
        }
        ShortVersion(b)
    }

    /// Parses 64 hex digits (either case).
    pub fn from_hex(hex: &str) -> Result<Version, ParseVersionError> {
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return Err(ParseVersionError { len: bytes.len() });
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let hi = hex_val(pair[0]).ok_or(ParseVersionError { len: bytes.len() })?;
            let lo = hex_val(pair[1]).ok_or(ParseVersionError { len: bytes.len() })?;
            out[i] = hi << 4 | lo;
        }
        Ok(Version(out))
    }

    /// Writes 64 lowercase hex digits into `out` without allocating.
    pub fn write_hex(&self, out: &mut [u8; 64]) {
        write_hex(&self.0, out);
    }
}

const fn feed_fields(h: &mut blake3::Hasher, fields: &[crate::shape::Field]) {
    let mut i = 0;
    while i < fields.len() {
        h.update_in_place(fields[i].ty.version.as_bytes());
        i += 1;
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

pub(crate) fn write_hex(bytes: &[u8], out: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[(b >> 4) as usize];
        out[2 * i + 1] = DIGITS[(b & 15) as usize];
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 64];
        self.write_hex(&mut buf);
        // Hex digits are ASCII.
        f.write_str(core::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Version({self})")
    }
}

impl core::str::FromStr for Version {
    type Err = ParseVersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::from_hex(s)
    }
}

/// A version string that is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseVersionError {
    len: usize,
}

impl fmt::Display for ParseVersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a version is 64 hex digits; got {} characters or a non-hex digit",
            self.len
        )
    }
}

impl std::error::Error for ParseVersionError {}

/// The first 64 bits of a [`Version`], as written in cache keys (16 lowercase hex digits).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShortVersion([u8; 8]);

impl ShortVersion {
    /// The 8 bytes.
    pub const fn as_bytes(&self) -> &[u8; 8] {
        &self.0
    }

    /// The 16 lowercase hex digits, without allocating.
    pub fn to_hex(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        write_hex(&self.0, &mut out);
        out
    }
}

impl fmt::Display for ShortVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let buf = self.to_hex();
        f.write_str(core::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for ShortVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ShortVersion({self})")
    }
}

impl Ty {
    /// The shape and version of `T`, for building shapes by hand or in generated code.
    pub const fn of<T: crate::CacheVersion + ?Sized>() -> Ty {
        Ty {
            shape_fn: shape_of::<T>,
            version: T::VERSION,
        }
    }
}

pub(crate) fn shape_of<T: crate::CacheVersion + ?Sized>() -> &'static Shape {
    T::SHAPE
}

impl Body {
    /// How many child types the body's template refers to (each `_` in the template).
    pub const fn child_count(&self) -> usize {
        match self {
            Body::UnitStruct => 0,
            Body::NewtypeStruct(_) => 1,
            Body::TupleStruct(fields) => fields.len(),
            Body::Struct { fields, .. } => fields.len(),
            Body::Enum { variants, .. } => {
                let mut n = 0;
                let mut i = 0;
                while i < variants.len() {
                    n += variants[i].fields.len();
                    i += 1;
                }
                n
            }
        }
    }

    /// The `i`-th child type, in template order. Panics (a const-evaluation error) when out
    /// of range.
    pub const fn child(&self, mut i: usize) -> &Ty {
        match self {
            Body::UnitStruct => panic!("a unit struct has no children"),
            Body::NewtypeStruct(t) => t,
            Body::TupleStruct(fields) => &fields[i].ty,
            Body::Struct { fields, .. } => &fields[i].ty,
            Body::Enum { variants, .. } => {
                let mut v = 0;
                while i >= variants[v].fields.len() {
                    i -= variants[v].fields.len();
                    v += 1;
                }
                &variants[v].fields[i].ty
            }
        }
    }
}
