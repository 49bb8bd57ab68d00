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

pub(crate) const T_OPTION: [u8; 32] = Version::template_digest("option<_>");
pub(crate) const T_SEQ: [u8; 32] = Version::template_digest("seq<_>");
pub(crate) const T_MAP: [u8; 32] = Version::template_digest("map<_,_>");
pub(crate) const T_PROXY: [u8; 32] = Version::template_digest("proxy<_,_>");
pub(crate) const T_READABLE: [u8; 32] = Version::template_digest("readable<_,_>");

macro_rules! leaves {
    ($($variant:ident => $konst:ident = $text:literal,)*) => {
        $(const $konst: [u8; 32] = Version::template_digest($text);)*

        /// The template digest of a leaf shape.
        pub(crate) const fn leaf_template(shape: &Shape) -> [u8; 32] {
            match shape {
                $(Shape::$variant => $konst,)*
                Shape::SelfRef => T_SELF,
                Shape::Opaque(path) => opaque_template(path),
                _ => panic!("not a leaf shape"),
            }
        }

        pub(crate) const fn leaf_text(shape: &Shape) -> &'static str {
            match shape {
                $(Shape::$variant => $text,)*
                Shape::SelfRef => "self",
                _ => "",
            }
        }
    };
}

leaves! {
    Bool => T_BOOL = "bool",
    I8 => T_I8 = "i8",
    I16 => T_I16 = "i16",
    I32 => T_I32 = "i32",
    I64 => T_I64 = "i64",
    I128 => T_I128 = "i128",
    U8 => T_U8 = "u8",
    U16 => T_U16 = "u16",
    U32 => T_U32 = "u32",
    U64 => T_U64 = "u64",
    U128 => T_U128 = "u128",
    F32 => T_F32 = "f32",
    F64 => T_F64 = "f64",
    Char => T_CHAR = "char",
    Str => T_STR = "str",
    Bytes => T_BYTES = "bytes",
    Unit => T_UNIT = "unit",
}
const T_SELF: [u8; 32] = Version::template_digest("self");

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
