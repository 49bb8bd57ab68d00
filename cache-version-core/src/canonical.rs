//! The canonical form: the text that identifies a shape, and the version rule over it.
//!
//! The format is specified in `docs/canonical-form.md`; this module is its implementation:
//! - the `const` template writer behind [`Named::new`] and the structural versions,
//! - `Display` for [`Shape`] (a type's *definition*, children of named types written as
//!   references `Name@<version>`),
//! - [`schema`], the whole schema of a type for people, lockfiles and CI diffs,
//! - [`recompute()`], which derives a version from printed definitions alone, with any BLAKE3,
//! - [`verify`], which checks a shape tree against its own stored digests.
//!
//! Every byte written here decides whether users' caches stay warm across an upgrade of this
//! library: changing any of it is a breaking change that needs a new [`FORMAT_VERSION`].

use core::fmt;

use crate::blake3::Hasher;
use crate::shape::{
    Body, EnumRepr, Field, FieldKind, Named, Shape, StructTag, Ty, Variant, VariantStyle,
};
use crate::version::{Version, TEMPLATE_PREFIX};

/// The version of the canonical form implemented here. It is hashed into every template
/// (`TEMPLATE_PREFIX` is `cache-version/1:`).
pub const FORMAT_VERSION: u32 = 1;

// The template digests of the fixed templates and the versions of the leaf shapes, as
// literals: `Version::of` mentions these constants, and const evaluation evaluates every
// constant of a body when it enters it, so computed digests cost every crate that derives
// `CacheVersion` 24 BLAKE3 compressions in rustc's interpreter (about 100 M instructions)
// before its first model. Each literal is checked against the computation it stands for by
// the `const _` below, which only this crate's own build evaluates.
/// `Version::template_digest("option<_>")`.
#[rustfmt::skip]
pub(crate) const T_OPTION: [u8; 32] = *b"\x2c\xc3\x82\x94\xde\xd5\xf1\xe7\xe1\xa6\x5f\x73\x8c\x7a\x51\x70\x6b\x41\x84\x41\xb7\x90\x33\x2a\x06\xb1\xb7\xa2\xba\x9a\xf8\x38";
/// `Version::template_digest("seq<_>")`.
#[rustfmt::skip]
pub(crate) const T_SEQ: [u8; 32] = *b"\x2e\xd1\x37\xc2\x30\xae\xc7\x48\x70\x0f\x97\xcc\x18\xcd\x0c\x07\xd3\xa6\xe7\x21\xcb\x2b\x28\x5b\xcb\xe6\xb2\xe5\xe8\x72\xb9\xe9";
/// `Version::template_digest("map<_,_>")`.
#[rustfmt::skip]
pub(crate) const T_MAP: [u8; 32] = *b"\x30\x8d\x66\xf2\xfb\xf1\x2a\xfe\x71\xf4\xb1\x6d\x32\xd0\x3f\xa7\x13\x79\xd2\xd4\xa5\x44\x20\x17\xa0\x20\x2c\x4b\xf1\xc4\x30\xab";
/// `Version::template_digest("proxy<_,_>")`.
#[rustfmt::skip]
pub(crate) const T_PROXY: [u8; 32] = *b"\x54\x94\x85\x02\xb5\xd7\x10\x02\xdd\xf7\x9d\x4d\xec\x82\xd8\x86\x3a\x98\x1f\x98\x21\x09\x7e\x0c\x03\xd3\x84\xbc\xff\xab\x39\xfb";
/// `Version::template_digest("readable<_,_>")`.
#[rustfmt::skip]
pub(crate) const T_READABLE: [u8; 32] = *b"\x2a\x0e\x8f\xd7\x5c\x22\xa5\xe3\xe2\x48\xa5\x37\x27\x75\xec\x77\xfc\x54\x28\xd9\x16\xb9\xf4\x9a\xd1\xdf\xfb\xa8\x17\x08\xe2\xde";

macro_rules! leaves {
    ($($variant:ident => $konst:ident = $text:literal, $digest:literal, $version:literal;)*) => {
        $(
            #[rustfmt::skip]
            const $konst: [u8; 32] = *$digest;
        )*

        /// The template digest of a leaf shape.
        pub(crate) const fn leaf_template(shape: &Shape) -> [u8; 32] {
            match shape {
                $(Shape::$variant => $konst,)*
                Shape::SelfRef => T_SELF,
                Shape::Opaque(path) => opaque_template(path),
                _ => panic!("not a leaf shape"),
            }
        }

        /// The version of a leaf shape: `Version::combine(&leaf_template(shape), &[])`.
        pub(crate) const fn leaf_version(shape: &Shape) -> Version {
            match shape {
                $(Shape::$variant => Version::from_bytes(*$version),)*
                Shape::SelfRef => Version::from_bytes(*SELF_VERSION),
                _ => Version::combine(&leaf_template(shape), &[]),
            }
        }

        pub(crate) const fn leaf_text(shape: &Shape) -> &'static str {
            match shape {
                $(Shape::$variant => $text,)*
                Shape::SelfRef => "self",
                _ => "",
            }
        }

        // Every literal is what it stands for (evaluated by this crate's build only).
        const _: () = {
            $(
                assert!(eq32(&$konst, &Version::template_digest($text)));
                assert!(eq32($version, Version::combine(&$konst, &[]).as_bytes()));
            )*
            assert!(eq32(&T_SELF, &Version::template_digest("self")));
            assert!(eq32(SELF_VERSION, Version::combine(&T_SELF, &[]).as_bytes()));
            assert!(eq32(&T_OPTION, &Version::template_digest("option<_>")));
            assert!(eq32(&T_SEQ, &Version::template_digest("seq<_>")));
            assert!(eq32(&T_MAP, &Version::template_digest("map<_,_>")));
            assert!(eq32(&T_PROXY, &Version::template_digest("proxy<_,_>")));
            assert!(eq32(&T_READABLE, &Version::template_digest("readable<_,_>")));
        };
    };
}

const fn eq32(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let mut i = 0;
    while i < 32 {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[rustfmt::skip]
leaves! {
    Bool => T_BOOL = "bool",
        b"\xee\x90\x15\xb9\xad\x66\x2e\x95\x31\x02\xb7\x9c\x50\x42\x22\x1d\x0b\xc9\x78\x52\x31\x6b\x68\xe5\x10\xc5\x76\xa5\xa7\x34\x98\xb9",
        b"\x05\x94\x3c\xf7\xc1\xd2\x85\x66\x20\xbb\x6a\xb7\xa3\x86\xf6\x10\x64\xc0\xd8\x93\x37\xb8\x81\x6a\xed\x2e\xa7\x29\xc1\xf2\xb8\xa8";
    I8 => T_I8 = "i8",
        b"\x5f\x4c\x6f\xb8\x84\x24\x8a\x09\x0c\x14\xfe\x39\xc9\x28\x41\x25\x3b\x2a\x6e\x51\x20\x86\xaf\xe9\xda\x65\x20\xed\x76\x07\xb0\xdc",
        b"\x51\xe8\x99\xe9\x08\x9f\xef\x70\x3f\x14\x75\x94\xd4\x14\x7b\xc7\xbd\x6d\xb5\xce\xdf\x99\x69\x29\x57\xe4\xed\x4a\xde\x1a\x1f\x53";
    I16 => T_I16 = "i16",
        b"\x9a\x49\xbd\xf8\xd6\xbf\x88\xe9\xce\x9b\x0d\xc8\x1e\xeb\x49\xb0\x68\xb0\x84\x02\x5f\x2e\xdc\xe3\x92\x2e\x3b\x9e\x3e\x2c\xbf\x83",
        b"\xca\xc8\x02\xe6\x07\x07\x71\xfc\x44\xef\xd9\xef\x4d\x0e\x67\x0c\x62\x11\xd7\x5b\x4d\xbd\xd8\xab\xc3\x7d\x70\x2c\x1a\x23\x0d\x85";
    I32 => T_I32 = "i32",
        b"\x15\xcb\x83\x68\x99\x4f\x1e\xd4\x58\xcf\xb3\xb4\x90\x7d\xad\xf6\xce\x4c\xd7\xf9\x85\xfe\x00\xa5\x90\x65\x6b\xbd\x92\xb1\x90\xbc",
        b"\x39\x89\xca\x2a\x4e\xd1\x1e\x72\x2f\x01\x8e\x0b\x58\xe5\xaf\x37\x86\x8a\xc2\xc3\xa3\x72\x08\xea\x07\xf7\x4c\x43\x7a\x1a\xde\x60";
    I64 => T_I64 = "i64",
        b"\xfa\x6e\x7e\x38\x44\xf5\xef\x7d\xd3\xeb\x20\xdf\x0e\x01\x51\xa6\x9e\xe0\x06\x62\x07\xf9\x9f\x9b\x77\xae\xf0\xda\xfa\xbb\x27\xae",
        b"\xd3\xc1\x69\xc3\x5b\x55\x18\xe0\xd5\x57\x11\x56\xf0\xbc\x45\x9a\xfa\xab\x86\x3f\xea\xbd\x1d\xc9\xc8\xac\x3b\x4c\x11\x6b\xda\xf9";
    I128 => T_I128 = "i128",
        b"\x41\x90\x27\xb8\x6c\x9a\xc8\x2f\x4d\x0f\x4f\xb3\x76\xa6\x3e\x75\xe8\x87\x00\x02\x91\xd5\x88\xd4\x0f\x63\x65\xa8\x7b\xe1\xb9\x99",
        b"\xb0\x0f\x22\x8f\xf2\x61\x6d\x92\xd0\x3b\x97\x00\x31\xd9\x32\xa4\x17\x53\xba\x28\x04\x5a\x83\x31\x95\xfb\x6b\xd7\x01\x4f\xf2\xe2";
    U8 => T_U8 = "u8",
        b"\xb9\x96\xb6\x65\x34\x17\x79\x9a\x4c\xfc\x50\x6b\xae\xd7\x66\x72\x8c\x5c\x58\xb9\x90\xf1\x4d\x1a\x5a\x35\x64\xc7\x3b\x19\x0c\x28",
        b"\xaf\xba\x22\x95\xd2\x3d\xfd\x7a\xf8\xa6\xb8\x11\xf8\x52\x8d\x03\x4c\xe6\x7d\x27\x5c\xb4\xdb\xb4\xe7\x1f\x35\xc4\x48\x1e\x93\x65";
    U16 => T_U16 = "u16",
        b"\xd5\x07\x80\x2d\x13\xc2\x57\xfa\x04\xe0\x72\xd2\xb1\x4f\x2c\x1d\x6a\xf1\xa8\x6f\x7f\x6e\xcf\xb3\x66\x91\x48\x8a\x5a\xdc\x2e\x9f",
        b"\xac\x58\xf3\x5f\x4e\xc8\x33\xa6\x84\xe5\xf0\x4f\x9e\xf0\x0d\x78\x95\xca\x98\xe1\xf4\x4f\x66\x5f\x38\xaa\x33\x6c\xfe\x2f\xaa\xb6";
    U32 => T_U32 = "u32",
        b"\xf5\x4f\x7a\x5d\x91\xc0\xee\xce\x2c\x5e\x5d\x7b\x94\x66\xf9\x60\x86\x9f\x83\x8b\xd7\x1f\x2e\x29\x13\x64\x7e\xc5\x8b\xe3\x38\x45",
        b"\xdb\x67\xf5\x69\x75\x7f\x1a\x5d\xd3\xd3\x32\x90\x0f\x11\xf6\x97\x91\xca\xee\x8b\x5c\xeb\x30\xec\x74\xac\xd5\xc1\x62\x51\xed\x9d";
    U64 => T_U64 = "u64",
        b"\x53\x0f\xfe\x9d\x71\x9d\x8e\x34\x9f\x89\x8b\x31\x03\x3a\x7e\x1b\xb1\x6a\x15\x48\xdf\x96\x49\xf5\xb7\x10\xa0\x3f\x60\x09\x31\x46",
        b"\x7b\xee\x53\xeb\xf3\xc1\xec\xde\x50\xd9\x9f\xbe\xf6\xeb\x1a\x86\xc2\x2a\x35\x61\x45\x01\x3f\xc2\xb6\x04\x7e\xd8\x58\x80\xdc\x03";
    U128 => T_U128 = "u128",
        b"\x0d\x0c\xd6\xd9\xd0\xfc\x85\x79\xc7\x2d\x26\xe6\x2c\x33\x0a\xc4\x3e\xa7\xf0\x54\x92\x5c\xda\xf0\xb2\x39\x8f\x64\x29\xd6\xcc\x3f",
        b"\x0f\x2d\x33\xc7\xc4\xa0\xc5\xb5\xb7\xad\x7d\x51\x4a\x8a\x1b\x34\x6d\x40\xa3\x59\xdd\xb5\xfe\x09\x6a\x69\x9f\x66\x96\x87\x1b\xa7";
    F32 => T_F32 = "f32",
        b"\xb8\x84\x1c\xc3\xd1\x37\x8a\x13\x54\x3a\x00\xbd\x84\x2e\xd9\xf4\xbc\x5b\x90\x8f\xd9\xb7\x08\xe5\xaa\xd4\x5c\xcc\x4c\x42\x18\xd1",
        b"\xc2\xd2\x75\xbe\x68\x5b\x9c\x68\x7f\xff\x63\xd4\xb4\x05\x69\x2c\x52\x26\xb0\x76\x1e\x84\xfe\xef\x2d\x24\x14\xfc\xf3\xd8\x4a\x3e";
    F64 => T_F64 = "f64",
        b"\xf3\x42\x27\x89\x99\x39\xde\xfb\x7f\x78\xbe\xd4\x27\x68\x55\xdf\xcf\xa4\xac\xc8\xf4\x29\x83\xa1\x41\x6f\xb5\x3b\xe7\x61\xdb\x5e",
        b"\x04\x55\xcf\xc8\xcf\xf5\x21\x04\x70\x91\xfa\x5a\xf6\x11\x9a\x36\xec\x3c\x49\x40\x0d\xed\xe1\xa0\x12\x99\x90\x74\xb0\x13\xab\xd9";
    Char => T_CHAR = "char",
        b"\xb7\x63\xd6\xae\xc4\x94\x60\xcf\x56\xcb\x6d\x56\x2d\x4b\xbc\xf3\x46\x41\xca\xbf\x3a\xe3\x33\x52\x80\x40\x90\xd2\x80\x84\xfe\x88",
        b"\x3d\xef\x4e\x8a\x23\x25\x99\x2c\x37\xb9\x92\xa5\x9e\xa3\x29\x0c\xc3\x44\x79\x36\x05\xdf\xdf\x99\x0c\xbb\xfd\x0a\xed\x8a\x7f\x68";
    Str => T_STR = "str",
        b"\xb9\xfb\x2a\x7e\xed\x81\x3f\xa2\x13\x63\x14\x9a\x5d\xf5\x70\x89\xca\x92\x56\x22\xef\xd1\x8d\xee\x69\x3a\x27\x37\xb9\xca\x70\xe6",
        b"\x9f\x5a\x32\xa4\xf9\xa7\xc8\x97\xd9\xbb\x7b\x8f\x4a\xfa\xfb\x87\xed\xf4\x33\xa5\x1f\x9a\xf0\x39\xfc\x5c\xf6\x89\xbd\x92\x76\x1e";
    Bytes => T_BYTES = "bytes",
        b"\x97\x25\xa5\x06\xe8\x88\x2a\xf2\xda\x71\x07\x7b\x3a\xe3\x8f\x95\x0f\x91\x40\x64\x72\x6f\x9b\xc1\xc1\x41\xef\x23\x79\xef\x5d\xc0",
        b"\xf3\xf0\x7c\x23\x99\x11\x2d\x9a\x96\x99\x9e\x99\xed\x7a\x90\xfd\x8b\x41\x3b\x1e\x94\xe1\x2b\x10\x55\x28\xb8\x42\x06\x95\x80\x27";
    Unit => T_UNIT = "unit",
        b"\x51\x38\xc4\x65\xd1\x2e\x7b\x38\xcd\xa7\x8c\x25\xab\x6a\xbd\xea\xbb\xc7\x60\x61\x92\x71\x7c\xf5\xd5\xb1\xbb\x99\x26\x7c\xaf\xa2",
        b"\x61\x3a\x3c\xaf\xd0\x89\x6d\x9d\x06\x89\xb2\x3c\xa5\x74\x7c\xb5\xe8\x44\xfb\xa7\xef\xbf\xc8\xe2\xda\x1d\x3b\xf2\x6a\x15\x4f\xf6";
}
#[rustfmt::skip]
const T_SELF: [u8; 32] = *b"\x09\xab\x70\x9e\xfd\xdd\x45\xfc\xd2\xfa\x87\x7e\x2d\xbb\x78\x46\x40\x46\xc8\x22\x9e\x22\xcc\x26\x00\xbc\xac\xf4\xc3\x19\x22\x86";
#[rustfmt::skip]
const SELF_VERSION: &[u8; 32] = b"\x6d\xea\xce\xc3\x1c\x5e\x28\x21\x57\xde\xa3\x5f\x9f\xc7\xc8\xee\xc5\xed\x94\xd1\x9f\xf5\xaf\x29\x33\xd0\xbe\x91\x79\x9f\x59\xaf";

const fn opaque_template(path: &str) -> [u8; 32] {
    let mut t = TemplateBuf::new();
    t.str("opaque(");
    t.quoted(path);
    t.str(")");
    t.digest()
}

/// The version of a tuple: runs of equal element versions are merged (`tuple<_*2,_>`).
pub(crate) const fn tuple_version(elems: &[Ty]) -> Version {
    let mut t = TemplateBuf::new();
    t.str("tuple<");
    let mut i = 0;
    while i < elems.len() {
        let mut run = 1;
        while i + run < elems.len() && elems[i + run].version.eq_const(&elems[i].version) {
            run += 1;
        }
        if i > 0 {
            t.str(",");
        }
        t.str("_");
        if run > 1 {
            t.str("*");
            t.number(run as u64);
        }
        i += run;
    }
    t.str(">");
    let head = t.digest();
    let mut h = Hasher::new();
    h.update_in_place(&head);
    let mut i = 0;
    while i < elems.len() {
        let mut run = 1;
        while i + run < elems.len() && elems[i + run].version.eq_const(&elems[i].version) {
            run += 1;
        }
        h.update_in_place(elems[i].version.as_bytes());
        i += run;
    }
    Version::from_bytes(h.finalize())
}

/// The version of `[T; len]`: the same as a tuple of `len` elements of `T`.
pub(crate) const fn array_version(elem: &Ty, len: usize) -> Version {
    let mut t = TemplateBuf::new();
    t.str("tuple<");
    if len > 0 {
        t.str("_");
    }
    if len > 1 {
        t.str("*");
        t.number(len as u64);
    }
    t.str(">");
    if len == 0 {
        Version::combine(&t.digest(), &[])
    } else {
        Version::combine(&t.digest(), &[elem.version])
    }
}

/// A `const` sink for template text: it streams into BLAKE3 behind [`TEMPLATE_PREFIX`].
pub(crate) struct TemplateBuf {
    h: Hasher,
}

impl TemplateBuf {
    pub(crate) const fn new() -> Self {
        TemplateBuf {
            h: Hasher::new().update(TEMPLATE_PREFIX),
        }
    }

    pub(crate) const fn str(&mut self, s: &str) {
        self.h.update_in_place(s.as_bytes());
    }

    const fn byte(&mut self, b: u8) {
        self.h.update_in_place(&[b]);
    }

    const fn number(&mut self, mut n: u64) {
        let mut digits = [0u8; 20];
        let mut len = 0;
        loop {
            digits[19 - len] = b'0' + (n % 10) as u8;
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let mut i = 20 - len;
        while i < 20 {
            self.byte(digits[i]);
            i += 1;
        }
    }

    /// A field or variant name: bare when it is an identifier, quoted otherwise.
    const fn name(&mut self, name: &str) {
        if is_bare(name) {
            self.str(name);
        } else {
            self.quoted(name);
        }
    }

    /// A JSON-style string literal (see `write_quoted`).
    const fn quoted(&mut self, s: &str) {
        let b = s.as_bytes();
        self.byte(b'"');
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c == b'"' || c == b'\\' {
                self.byte(b'\\');
                self.byte(c);
            } else if c < 0x20 || c == 0x7f {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                self.str("\\u00");
                self.byte(HEX[(c >> 4) as usize]);
                self.byte(HEX[(c & 15) as usize]);
            } else {
                self.byte(c);
            }
            i += 1;
        }
        self.byte(b'"');
    }

    pub(crate) const fn digest(&self) -> [u8; 32] {
        self.h.finalize()
    }
}

/// Whether `name` is written bare: `[A-Za-z_][A-Za-z0-9_]*`.
pub const fn is_bare(name: &str) -> bool {
    let b = name.as_bytes();
    if b.is_empty() {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let ok = c == b'_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit());
        if !ok {
            return false;
        }
        i += 1;
    }
    true
}

/// Writes the template of a named type (children as `_`): the `const` twin of the runtime
/// writer below, used by [`Named::new`].
pub(crate) const fn write_named_template(t: &mut TemplateBuf, bump: u32, body: &Body) {
    if bump != 0 {
        t.str("bump=");
        t.number(bump as u64);
        t.str(" ");
    }
    match body {
        Body::UnitStruct => t.str("unit_struct"),
        Body::NewtypeStruct(_) => t.str("newtype_struct(_)"),
        Body::TupleStruct(fields) => {
            t.str("tuple_struct(");
            const_fields(t, fields, false);
            t.str(")");
        }
        Body::Struct { tag, fields } => {
            t.str("struct");
            if let Some(StructTag { tag, name }) = tag {
                t.str(" tag=");
                t.quoted(tag);
                t.str(" name=");
                t.quoted(name);
            }
            t.str("{");
            const_fields(t, fields, true);
            t.str("}");
        }
        Body::Enum { repr, variants } => {
            t.str("enum");
            match repr {
                EnumRepr::External => {}
                EnumRepr::Internal { tag } => {
                    t.str(" tag=");
                    t.quoted(tag);
                }
                EnumRepr::Adjacent { tag, content } => {
                    t.str(" tag=");
                    t.quoted(tag);
                    t.str(" content=");
                    t.quoted(content);
                }
                EnumRepr::Untagged => t.str(" untagged"),
            }
            t.str("{");
            let mut i = 0;
            while i < variants.len() {
                if i > 0 {
                    t.str(",");
                }
                let v = &variants[i];
                if let VariantStyle::Skipped = v.style {
                    t.str("~");
                    i += 1;
                    continue;
                }
                if v.bump != 0 {
                    t.str("bump=");
                    t.number(v.bump as u64);
                    t.str(" ");
                }
                if v.untagged {
                    t.str("untagged ");
                }
                t.name(v.name);
                if !str_eq(v.name, v.de_name) {
                    t.str("/");
                    t.name(v.de_name);
                }
                match v.style {
                    VariantStyle::Unit | VariantStyle::Skipped => {}
                    VariantStyle::Newtype => t.str("(_)"),
                    VariantStyle::Tuple => {
                        t.str("(");
                        const_fields(t, v.fields, false);
                        t.str(")");
                    }
                    VariantStyle::Struct => {
                        t.str("{");
                        const_fields(t, v.fields, true);
                        t.str("}");
                    }
                }
                i += 1;
            }
            t.str("}");
        }
    }
}

const fn const_fields(t: &mut TemplateBuf, fields: &[Field], named: bool) {
    let mut i = 0;
    while i < fields.len() {
        if i > 0 {
            t.str(",");
        }
        let f = &fields[i];
        if f.bump != 0 {
            t.str("bump=");
            t.number(f.bump as u64);
            t.str(" ");
        }
        match (named, f.kind) {
            (_, FieldKind::Flatten) => t.str(".._"),
            (_, FieldKind::FlattenMaybeAbsent) => t.str("..?_"),
            (true, kind) => {
                t.name(f.name);
                if !str_eq(f.name, f.de_name) {
                    t.str("/");
                    t.name(f.de_name);
                }
                if let FieldKind::MaybeAbsent = kind {
                    t.str("?");
                }
                t.str(":_");
            }
            (false, FieldKind::MaybeAbsent) => t.str("?_"),
            (false, _) => t.str("_"),
        }
        i += 1;
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

// ---------------------------------------------------------------------------------------------
// Run-time writers.

/// How children are written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Children {
    /// As `_` (the template).
    Placeholder,
    /// Structural children inline, named ones as `Name@<version>` (the definition).
    Inline,
}

/// Writes a JSON-style string literal: `"` and `\` escaped with `\`, control characters as
/// `\u00xx`, everything else as is (UTF-8).
pub(crate) fn write_quoted(out: &mut impl fmt::Write, s: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.write_char('\\')?;
                out.write_char(c)?;
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(out, "\\u{:04x}", c as u32)?,
            c => out.write_char(c)?,
        }
    }
    out.write_char('"')
}

fn write_name(out: &mut impl fmt::Write, name: &str) -> fmt::Result {
    if is_bare(name) {
        out.write_str(name)
    } else {
        write_quoted(out, name)
    }
}

fn write_child(out: &mut impl fmt::Write, ty: &Ty, mode: Children) -> fmt::Result {
    match mode {
        Children::Placeholder => out.write_char('_'),
        Children::Inline => write_type(out, ty.shape()),
    }
}

/// Writes a shape as a type expression: structural shapes inline, named types as references.
fn write_type(out: &mut impl fmt::Write, shape: &Shape) -> fmt::Result {
    match shape {
        Shape::Named(named) => {
            write_name(out, named.name)?;
            write!(out, "@{}", Version::of(shape))
        }
        _ => write_structural(out, shape, Children::Inline),
    }
}

fn write_structural(out: &mut impl fmt::Write, shape: &Shape, mode: Children) -> fmt::Result {
    match shape {
        Shape::Option(t) => {
            out.write_str("option<")?;
            write_child(out, t, mode)?;
            out.write_char('>')
        }
        Shape::Seq(t) => {
            out.write_str("seq<")?;
            write_child(out, t, mode)?;
            out.write_char('>')
        }
        Shape::Map(k, v) => {
            out.write_str("map<")?;
            write_child(out, k, mode)?;
            out.write_char(',')?;
            write_child(out, v, mode)?;
            out.write_char('>')
        }
        Shape::Readable { human, compact } => {
            out.write_str("readable<")?;
            write_child(out, human, mode)?;
            out.write_char(',')?;
            write_child(out, compact, mode)?;
            out.write_char('>')
        }
        Shape::Proxy { write, read } => {
            out.write_str("proxy<")?;
            write_child(out, write, mode)?;
            out.write_char(',')?;
            write_child(out, read, mode)?;
            out.write_char('>')
        }
        Shape::Tuple(elems) => {
            out.write_str("tuple<")?;
            let mut i = 0;
            while i < elems.len() {
                let run = elems[i..]
                    .iter()
                    .take_while(|e| e.version == elems[i].version)
                    .count();
                if i > 0 {
                    out.write_char(',')?;
                }
                write_child(out, &elems[i], mode)?;
                if run > 1 {
                    write!(out, "*{run}")?;
                }
                i += run;
            }
            out.write_char('>')
        }
        Shape::Array(elem, len) => {
            out.write_str("tuple<")?;
            if *len > 0 {
                write_child(out, elem, mode)?;
            }
            if *len > 1 {
                write!(out, "*{len}")?;
            }
            out.write_char('>')
        }
        Shape::Opaque(path) => {
            out.write_str("opaque(")?;
            write_quoted(out, path)?;
            out.write_char(')')
        }
        Shape::Named(named) => write_definition(out, named, mode),
        leaf => out.write_str(leaf_text(leaf)),
    }
}

fn write_bump(out: &mut impl fmt::Write, bump: u32) -> fmt::Result {
    if bump != 0 {
        write!(out, "bump={bump} ")?;
    }
    Ok(())
}

/// Writes the definition (or, with placeholders, the template) of a named type.
fn write_definition(out: &mut impl fmt::Write, named: &Named, mode: Children) -> fmt::Result {
    write_bump(out, named.bump)?;
    match &named.body {
        Body::UnitStruct => out.write_str("unit_struct"),
        Body::NewtypeStruct(t) => {
            out.write_str("newtype_struct(")?;
            write_child(out, t, mode)?;
            out.write_char(')')
        }
        Body::TupleStruct(fields) => {
            out.write_str("tuple_struct(")?;
            write_fields(out, fields, false, mode)?;
            out.write_char(')')
        }
        Body::Struct { tag, fields } => {
            out.write_str("struct")?;
            if let Some(StructTag { tag, name }) = tag {
                out.write_str(" tag=")?;
                write_quoted(out, tag)?;
                out.write_str(" name=")?;
                write_quoted(out, name)?;
            }
            out.write_char('{')?;
            write_fields(out, fields, true, mode)?;
            out.write_char('}')
        }
        Body::Enum { repr, variants } => {
            out.write_str("enum")?;
            match repr {
                EnumRepr::External => {}
                EnumRepr::Internal { tag } => {
                    out.write_str(" tag=")?;
                    write_quoted(out, tag)?;
                }
                EnumRepr::Adjacent { tag, content } => {
                    out.write_str(" tag=")?;
                    write_quoted(out, tag)?;
                    out.write_str(" content=")?;
                    write_quoted(out, content)?;
                }
                EnumRepr::Untagged => out.write_str(" untagged")?,
            }
            out.write_char('{')?;
            for (i, v) in variants.iter().enumerate() {
                if i > 0 {
                    out.write_char(',')?;
                }
                write_variant(out, v, mode)?;
            }
            out.write_char('}')
        }
    }
}

fn write_variant(out: &mut impl fmt::Write, v: &Variant, mode: Children) -> fmt::Result {
    if v.style == VariantStyle::Skipped {
        return out.write_char('~');
    }
    write_bump(out, v.bump)?;
    if v.untagged {
        out.write_str("untagged ")?;
    }
    write_name(out, v.name)?;
    if v.name != v.de_name {
        out.write_char('/')?;
        write_name(out, v.de_name)?;
    }
    match v.style {
        VariantStyle::Unit | VariantStyle::Skipped => Ok(()),
        VariantStyle::Newtype => {
            out.write_char('(')?;
            write_child(out, &v.fields[0].ty, mode)?;
            out.write_char(')')
        }
        VariantStyle::Tuple => {
            out.write_char('(')?;
            write_fields(out, v.fields, false, mode)?;
            out.write_char(')')
        }
        VariantStyle::Struct => {
            out.write_char('{')?;
            write_fields(out, v.fields, true, mode)?;
            out.write_char('}')
        }
    }
}

fn write_fields(
    out: &mut impl fmt::Write,
    fields: &[Field],
    named: bool,
    mode: Children,
) -> fmt::Result {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.write_char(',')?;
        }
        write_bump(out, f.bump)?;
        if f.kind == FieldKind::Flatten {
            out.write_str("..")?;
        } else if f.kind == FieldKind::FlattenMaybeAbsent {
            out.write_str("..?")?;
        } else if named {
            write_name(out, f.name)?;
            if f.name != f.de_name {
                out.write_char('/')?;
                write_name(out, f.de_name)?;
            }
            if f.kind == FieldKind::MaybeAbsent {
                out.write_char('?')?;
            }
            out.write_char(':')?;
        } else if f.kind == FieldKind::MaybeAbsent {
            out.write_char('?')?;
        }
        write_child(out, &f.ty, mode)?;
    }
    Ok(())
}

impl fmt::Display for Shape {
    /// The canonical definition: for a named type its own definition, every nested named type
    /// written as `Name@<version>`; for any other shape the type expression.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_structural(f, self, Children::Inline)
    }
}

impl Shape {
    /// The template of this shape: its own canonical text with every direct child written as
    /// `_`. `Version::of(self)` is `BLAKE3(BLAKE3(TEMPLATE_PREFIX ‖ template) ‖ children…)`.
    pub fn template(&self) -> String {
        let mut s = String::new();
        // Writing to a String cannot fail.
        let _ = write_structural(&mut s, self, Children::Placeholder);
        s
    }

    /// The direct children whose versions follow the template digest in the version rule.
    pub fn children(&self) -> Vec<Ty> {
        match self {
            Shape::Option(t) | Shape::Seq(t) => vec![*t],
            Shape::Map(k, v) => vec![*k, *v],
            Shape::Readable { human, compact } => vec![*human, *compact],
            Shape::Proxy { write, read } => vec![*write, *read],
            Shape::Tuple(elems) => {
                let mut out: Vec<Ty> = Vec::new();
                for e in elems.iter() {
                    if out.last().map(|l| l.version) != Some(e.version) {
                        out.push(*e);
                    }
                }
                out
            }
            Shape::Array(elem, len) => {
                if *len > 0 {
                    vec![*elem]
                } else {
                    vec![]
                }
            }
            Shape::Named(named) => (0..named.body.child_count())
                .map(|i| *named.body.child(i))
                .collect(),
            _ => vec![],
        }
    }

    /// The named type, if this shape is one.
    pub fn as_named(&self) -> Option<&'static Named> {
        match self {
            Shape::Named(n) => Some(n),
            _ => None,
        }
    }
}

/// One entry of a [`schema`]: a named type's version, name and definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    /// The type's version.
    pub version: Version,
    /// The type's name (informational; not part of the version).
    pub name: &'static str,
    /// The canonical definition (`Shape::to_string()`).
    pub definition: String,
}

/// Every named type reachable from `shape`, each exactly once, in depth-first order from the
/// root (the root first when it is named). With [`Schema`]'s `Display` this is the readable
/// whole schema used by lockfiles and CI diffs.
///
/// ```
/// use cache_version_core::{canonical::schema, CacheVersion};
///
/// let s = schema(<Vec<(u8, String)> as CacheVersion>::SHAPE);
/// assert_eq!(s.root, "seq<tuple<u8,str>>");
/// assert!(s.definitions.is_empty());
/// ```
pub fn schema(shape: &'static Shape) -> Schema {
    let mut seen = std::collections::HashSet::new();
    let mut definitions = Vec::new();
    collect(shape, &mut seen, &mut definitions);
    let mut root = String::new();
    let _ = write_type(&mut root, shape);
    Schema { root, definitions }
}

fn collect(
    shape: &'static Shape,
    seen: &mut std::collections::HashSet<Version>,
    out: &mut Vec<Definition>,
) {
    if let Shape::Named(named) = shape {
        let version = Version::of(shape);
        if !seen.insert(version) {
            return;
        }
        out.push(Definition {
            version,
            name: named.name,
            definition: shape.to_string(),
        });
    }
    for child in shape.children() {
        collect(child.shape(), seen, out);
    }
}

/// A type's whole schema: the root type expression and every reachable definition once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    /// The root as a type expression (`User@<version>` for a named root).
    pub root: String,
    /// Every reachable named type, once each.
    pub definitions: Vec<Definition>,
}

impl fmt::Display for Schema {
    /// One line per definition: `Name@<version> = <definition>`, the root's line first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.definitions.first().map(|d| {
            let mut r = String::new();
            let _ = write_name(&mut r, d.name);
            format!("{r}@{}", d.version) == self.root
        }) != Some(true)
        {
            writeln!(f, "{}", self.root)?;
        }
        for d in &self.definitions {
            write_name(f, d.name)?;
            writeln!(f, "@{} = {}", d.version, d.definition)?;
        }
        Ok(())
    }
}

/// An inconsistency found by [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError {
    /// The template whose stored digest or child version disagrees.
    pub template: String,
    /// What disagrees.
    pub detail: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (template `{}`)", self.detail, self.template)
    }
}

impl std::error::Error for VerifyError {}

/// Checks a shape tree against itself: every stored template digest equals the digest of the
/// template this crate writes, and every stored child version equals the child's recomputed
/// version. A failure means the derive and this crate disagree about the canonical form (or a
/// hand-written shape is wrong); the lockfile check runs this on every model.
pub fn verify(shape: &'static Shape) -> Result<(), VerifyError> {
    let mut seen = std::collections::HashSet::new();
    verify_inner(shape, &mut seen)
}

fn verify_inner(
    shape: &'static Shape,
    seen: &mut std::collections::HashSet<*const Shape>,
) -> Result<(), VerifyError> {
    if !seen.insert(shape as *const Shape) {
        return Ok(());
    }
    let template = shape.template();
    if let Shape::Named(named) = shape {
        let digest = Version::template_digest(&template);
        if digest != named.template {
            return Err(VerifyError {
                template,
                detail: format!(
                    "stored template digest of `{}` differs from the digest of its template",
                    named.name
                ),
            });
        }
    }
    for child in shape.children() {
        let recomputed = Version::of(child.shape());
        if recomputed != child.version {
            return Err(VerifyError {
                template,
                detail: format!(
                    "stored child version {} != recomputed {recomputed}",
                    child.version
                ),
            });
        }
        verify_inner(child.shape(), seen)?;
    }
    Ok(())
}

pub mod recompute;
pub use recompute::{recompute, recompute_with, RecomputeError};
