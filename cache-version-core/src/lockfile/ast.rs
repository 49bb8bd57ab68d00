//! A parser for printed canonical definitions (the grammar of `docs/canonical-form.md`) into a
//! small tree, for the structural diff. It never panics: every problem is an [`AstError`] with
//! the byte offset, and nesting deeper than [`MAX_DEPTH`] is refused instead of overflowing the
//! stack.

use crate::version::Version;

/// Nesting deeper than this is refused (real models stay far below it; a fuzzer does not).
pub(crate) const MAX_DEPTH: usize = 128;

/// A definition text that does not follow the grammar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AstError {
    pub offset: usize,
    pub expected: &'static str,
}

/// A type expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TypeExpr {
    /// `bool`, `u8`, …, `str`, `bytes`, `unit`, `self`.
    Leaf(&'static str),
    Option(Box<TypeExpr>),
    Seq(Box<TypeExpr>),
    Map(Box<TypeExpr>, Box<TypeExpr>),
    /// Runs of elements: `(type, count)`, as printed (`u8*3` is one run of three; runs are
    /// not expanded, so `tuple<u8*1000000>` stays small).
    Tuple(Vec<(TypeExpr, u64)>),
    Readable(Box<TypeExpr>, Box<TypeExpr>),
    Proxy(Box<TypeExpr>, Box<TypeExpr>),
    Opaque(String),
    Ref(TypeRef),
}

/// A reference to a named type: `Name@<version>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct TypeRef {
    pub name: String,
    pub version: Version,
}

/// A parsed definition (the right-hand side of a `type` line, or a model's root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Def {
    /// A named type's body.
    Body { bump: u32, body: BodyAst },
    /// A type expression (a root that is not a named type).
    Type(TypeExpr),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BodyAst {
    UnitStruct,
    Newtype(TypeExpr),
    TupleStruct(Vec<FieldAst>),
    Struct {
        tag: Option<(String, String)>,
        fields: Vec<FieldAst>,
    },
    Enum {
        repr: Repr,
        variants: Vec<VariantAst>,
    },
}

impl BodyAst {
    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            BodyAst::UnitStruct => "unit struct",
            BodyAst::Newtype(_) => "newtype struct",
            BodyAst::TupleStruct(_) => "tuple struct",
            BodyAst::Struct { .. } => "struct",
            BodyAst::Enum { .. } => "enum",
        }
    }
}

/// An enum representation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Repr {
    External,
    Internal(String),
    Adjacent(String, String),
    Untagged,
}

impl core::fmt::Display for Repr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Repr::External => f.write_str("externally tagged"),
            Repr::Internal(t) => write!(f, "internally tagged (tag = {t:?})"),
            Repr::Adjacent(t, c) => write!(f, "adjacently tagged (tag = {t:?}, content = {c:?})"),
            Repr::Untagged => f.write_str("untagged"),
        }
    }
}

/// A field: named (`name:T`), flattened (`..T`) or positional (`T`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldAst {
    pub bump: u32,
    /// The serialized name; empty for positional and flattened fields.
    pub name: String,
    /// The reader's name (equal to `name` unless printed `ser/de`).
    pub de_name: String,
    /// `?`: `skip_serializing_if`.
    pub maybe_absent: bool,
    /// `..`: `flatten`.
    pub flatten: bool,
    pub ty: TypeExpr,
    /// The type's text as printed (refs with full versions).
    pub ty_text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VariantKind {
    Unit,
    Tuple(Vec<FieldAst>),
    Struct(Vec<FieldAst>),
}

impl VariantKind {
    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            VariantKind::Unit => "unit",
            VariantKind::Tuple(f) if f.len() == 1 => "newtype",
            VariantKind::Tuple(_) => "tuple",
            VariantKind::Struct(_) => "struct",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VariantAst {
    /// `~`: a skipped variant (it keeps its index).
    pub skipped: bool,
    pub bump: u32,
    pub untagged: bool,
    pub name: String,
    pub de_name: String,
    pub kind: VariantKind,
}

const LEAVES: &[&str] = &[
    "bool", "i8", "i16", "i32", "i64", "i128", "u8", "u16", "u32", "u64", "u128", "f32", "f64",
    "char", "str", "bytes", "unit", "self",
];

/// Parses a definition (`[bump] body | type`).
pub(crate) fn parse_definition(text: &str) -> Result<Def, AstError> {
    let mut p = P { s: text, i: 0 };
    let def = p.definition()?;
    p.end()?;
    Ok(def)
}

/// Parses a type expression.
#[cfg(test)]
pub(crate) fn parse_type(text: &str) -> Result<TypeExpr, AstError> {
    let mut p = P { s: text, i: 0 };
    let t = p.ty(0)?;
    p.end()?;
    Ok(t)
}

/// Every reference in a definition, in order of appearance.
pub(crate) fn refs_of_def(def: &Def, out: &mut Vec<TypeRef>) {
    match def {
        Def::Type(t) => refs_of_type(t, out),
        Def::Body { body, .. } => match body {
            BodyAst::UnitStruct => {}
            BodyAst::Newtype(t) => refs_of_type(t, out),
            BodyAst::TupleStruct(fields) | BodyAst::Struct { fields, .. } => {
                fields.iter().for_each(|f| refs_of_type(&f.ty, out))
            }
            BodyAst::Enum { variants, .. } => {
                for v in variants {
                    if let VariantKind::Tuple(fields) | VariantKind::Struct(fields) = &v.kind {
                        fields.iter().for_each(|f| refs_of_type(&f.ty, out));
                    }
                }
            }
        },
    }
}

pub(crate) fn refs_of_type(t: &TypeExpr, out: &mut Vec<TypeRef>) {
    match t {
        TypeExpr::Leaf(_) | TypeExpr::Opaque(_) => {}
        TypeExpr::Option(a) | TypeExpr::Seq(a) => refs_of_type(a, out),
        TypeExpr::Map(a, b) | TypeExpr::Readable(a, b) | TypeExpr::Proxy(a, b) => {
            refs_of_type(a, out);
            refs_of_type(b, out);
        }
        TypeExpr::Tuple(elems) => elems.iter().for_each(|(e, _)| refs_of_type(e, out)),
        TypeExpr::Ref(r) => out.push(r.clone()),
    }
}

struct P<'a> {
    s: &'a str,
    i: usize,
}

impl P<'_> {
    fn err(&self, expected: &'static str) -> AstError {
        AstError {
            offset: self.i,
            expected,
        }
    }

    fn rest(&self) -> &[u8] {
        self.s.as_bytes().get(self.i..).unwrap_or(&[])
    }

    fn peek(&self) -> Option<u8> {
        self.rest().first().copied()
    }

    fn eat(&mut self, lit: &str) -> bool {
        if self.rest().starts_with(lit.as_bytes()) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, lit: &'static str) -> Result<(), AstError> {
        if self.eat(lit) {
            Ok(())
        } else {
            Err(self.err(lit))
        }
    }

    fn end(&self) -> Result<(), AstError> {
        if self.i == self.s.len() {
            Ok(())
        } else {
            Err(self.err("end of text"))
        }
    }

    fn name(&mut self) -> Result<String, AstError> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(c) if c == b'_' || c.is_ascii_alphabetic() => {
                let start = self.i;
                while matches!(self.peek(), Some(c) if c == b'_' || c.is_ascii_alphanumeric()) {
                    self.i += 1;
                }
                Ok(self.s.get(start..self.i).unwrap_or_default().to_owned())
            }
            _ => Err(self.err("a name")),
        }
    }

    fn quoted(&mut self) -> Result<String, AstError> {
        let (value, used) = unquote(self.rest()).map_err(|e| AstError {
            offset: self.i + e.offset,
            expected: e.expected,
        })?;
        self.i += used;
        Ok(value)
    }

    fn number(&mut self) -> Result<u64, AstError> {
        let start = self.i;
        let mut n: u64 = 0;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(c - b'0')))
                .ok_or_else(|| self.err("a smaller number"))?;
            self.i += 1;
        }
        if self.i == start {
            Err(self.err("a number"))
        } else {
            Ok(n)
        }
    }

    fn bump(&mut self) -> Result<u32, AstError> {
        if self.eat("bump=") {
            let n = self.number()?;
            let n = u32::try_from(n).map_err(|_| self.err("a bump below 2^32"))?;
            if n == 0 {
                return Err(self.err("a bump of at least 1"));
            }
            self.expect(" ")?;
            Ok(n)
        } else {
            Ok(0)
        }
    }

    fn definition(&mut self) -> Result<Def, AstError> {
        let start = self.i;
        let bump = self.bump()?;
        let body = if self.eat("unit_struct") {
            Some(BodyAst::UnitStruct)
        } else if self.eat("newtype_struct(") {
            let t = self.ty(1)?;
            self.expect(")")?;
            Some(BodyAst::Newtype(t))
        } else if self.eat("tuple_struct(") {
            let fields = self.fields(false, b')', 1)?;
            self.expect(")")?;
            Some(BodyAst::TupleStruct(fields))
        } else if self.rest().starts_with(b"struct{") || self.rest().starts_with(b"struct ") {
            self.i += "struct".len();
            let tag = if self.eat(" tag=") {
                let tag = self.quoted()?;
                self.expect(" name=")?;
                Some((tag, self.quoted()?))
            } else {
                None
            };
            self.expect("{")?;
            let fields = self.fields(true, b'}', 1)?;
            self.expect("}")?;
            Some(BodyAst::Struct { tag, fields })
        } else if self.rest().starts_with(b"enum{") || self.rest().starts_with(b"enum ") {
            self.i += "enum".len();
            let repr = if self.eat(" tag=") {
                let tag = self.quoted()?;
                if self.eat(" content=") {
                    Repr::Adjacent(tag, self.quoted()?)
                } else {
                    Repr::Internal(tag)
                }
            } else if self.eat(" untagged") {
                Repr::Untagged
            } else {
                Repr::External
            };
            self.expect("{")?;
            let variants = self.variants()?;
            self.expect("}")?;
            Some(BodyAst::Enum { repr, variants })
        } else {
            None
        };
        match body {
            Some(body) => Ok(Def::Body { bump, body }),
            None if bump == 0 => {
                self.i = start;
                Ok(Def::Type(self.ty(0)?))
            }
            None => Err(self.err("a struct or enum body after the bump")),
        }
    }

    fn variants(&mut self) -> Result<Vec<VariantAst>, AstError> {
        let mut out = Vec::new();
        if self.peek() == Some(b'}') {
            return Ok(out);
        }
        loop {
            if self.eat("~") {
                out.push(VariantAst {
                    skipped: true,
                    bump: 0,
                    untagged: false,
                    name: String::new(),
                    de_name: String::new(),
                    kind: VariantKind::Unit,
                });
            } else {
                let bump = self.bump()?;
                let untagged = self.eat("untagged ");
                let name = self.name()?;
                let de_name = if self.eat("/") {
                    self.name()?
                } else {
                    name.clone()
                };
                let kind = if self.eat("(") {
                    let f = self.fields(false, b')', 1)?;
                    self.expect(")")?;
                    if f.is_empty() {
                        return Err(self.err("a variant field"));
                    }
                    VariantKind::Tuple(f)
                } else if self.eat("{") {
                    let f = self.fields(true, b'}', 1)?;
                    self.expect("}")?;
                    VariantKind::Struct(f)
                } else {
                    VariantKind::Unit
                };
                out.push(VariantAst {
                    skipped: false,
                    bump,
                    untagged,
                    name,
                    de_name,
                    kind,
                });
            }
            if !self.eat(",") {
                return Ok(out);
            }
        }
    }

    fn fields(&mut self, named: bool, close: u8, depth: usize) -> Result<Vec<FieldAst>, AstError> {
        let mut out = Vec::new();
        if self.peek() == Some(close) {
            return Ok(out);
        }
        loop {
            let bump = self.bump()?;
            let (mut name, mut de_name, mut flatten) = (String::new(), String::new(), false);
            let maybe_absent;
            if named && self.eat("..") {
                flatten = true;
                maybe_absent = self.eat("?");
            } else if named {
                name = self.name()?;
                de_name = if self.eat("/") {
                    self.name()?
                } else {
                    name.clone()
                };
                maybe_absent = self.eat("?");
                self.expect(":")?;
            } else {
                maybe_absent = self.eat("?");
            }
            let start = self.i;
            let ty = self.ty(depth)?;
            let ty_text = self.s.get(start..self.i).unwrap_or_default().to_owned();
            out.push(FieldAst {
                bump,
                name,
                de_name,
                maybe_absent,
                flatten,
                ty,
                ty_text,
            });
            if !self.eat(",") {
                return Ok(out);
            }
        }
    }

    fn ty(&mut self, depth: usize) -> Result<TypeExpr, AstError> {
        if depth > MAX_DEPTH {
            return Err(self.err("less nesting"));
        }
        let d = depth + 1;
        let start = self.i;
        // A reference `Name@<hex>`.
        if let Ok(name) = self.name() {
            if self.eat("@") {
                let hex = self
                    .s
                    .get(self.i..self.i + 64)
                    .ok_or_else(|| self.err("64 hex digits"))?;
                let version = Version::from_hex(hex).map_err(|_| self.err("64 hex digits"))?;
                self.i += 64;
                return Ok(TypeExpr::Ref(TypeRef { name, version }));
            }
        }
        self.i = start;
        let one = |p: &mut Self| -> Result<Box<TypeExpr>, AstError> {
            let t = p.ty(d)?;
            p.expect(">")?;
            Ok(Box::new(t))
        };
        let two = |p: &mut Self| -> Result<(Box<TypeExpr>, Box<TypeExpr>), AstError> {
            let a = p.ty(d)?;
            p.expect(",")?;
            let b = p.ty(d)?;
            p.expect(">")?;
            Ok((Box::new(a), Box::new(b)))
        };
        if self.eat("option<") {
            return Ok(TypeExpr::Option(one(self)?));
        }
        if self.eat("seq<") {
            return Ok(TypeExpr::Seq(one(self)?));
        }
        if self.eat("map<") {
            let (a, b) = two(self)?;
            return Ok(TypeExpr::Map(a, b));
        }
        if self.eat("readable<") {
            let (a, b) = two(self)?;
            return Ok(TypeExpr::Readable(a, b));
        }
        if self.eat("proxy<") {
            let (a, b) = two(self)?;
            return Ok(TypeExpr::Proxy(a, b));
        }
        if self.eat("tuple<") {
            let mut elems = Vec::new();
            if !self.eat(">") {
                loop {
                    let t = self.ty(d)?;
                    let count = if self.eat("*") {
                        let n = self.number()?;
                        if n < 2 {
                            return Err(self.err("a run length of at least 2"));
                        }
                        n
                    } else {
                        1
                    };
                    elems.push((t, count));
                    if !self.eat(",") {
                        break;
                    }
                }
                self.expect(">")?;
            }
            return Ok(TypeExpr::Tuple(elems));
        }
        if self.eat("opaque(") {
            let path = self.quoted()?;
            self.expect(")")?;
            return Ok(TypeExpr::Opaque(path));
        }
        let rest = self.rest();
        let leaf = LEAVES
            .iter()
            .filter(|l| {
                rest.starts_with(l.as_bytes())
                    && !matches!(rest.get(l.len()), Some(c) if c.is_ascii_alphanumeric() || *c == b'_')
            })
            .max_by_key(|l| l.len())
            .ok_or_else(|| self.err("a type"))?;
        self.i += leaf.len();
        Ok(TypeExpr::Leaf(leaf))
    }
}

/// Reads a quoted string at the start of `b` (JSON-style escapes as written by the canonical
/// form: `\"`, `\\`, `\u00xx`); returns the value and the bytes used.
pub(crate) fn unquote(b: &[u8]) -> Result<(String, usize), AstError> {
    let err = |offset, expected| AstError { offset, expected };
    if b.first() != Some(&b'"') {
        return Err(err(0, "'\"'"));
    }
    let mut out = Vec::new();
    let mut i = 1;
    loop {
        match b.get(i) {
            None => return Err(err(i, "a closing quote")),
            Some(b'"') => {
                let s = String::from_utf8(out).map_err(|_| err(i, "UTF-8 text"))?;
                return Ok((s, i + 1));
            }
            Some(b'\\') => match b.get(i + 1) {
                Some(c @ (b'"' | b'\\')) => {
                    out.push(*c);
                    i += 2;
                }
                Some(b'u') => {
                    let hex = b
                        .get(i + 2..i + 6)
                        .and_then(|h| core::str::from_utf8(h).ok())
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32)
                        .ok_or_else(|| err(i, "\\u and 4 hex digits"))?;
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(hex.encode_utf8(&mut buf).as_bytes());
                    i += 6;
                }
                _ => return Err(err(i, "an escape (\\\" \\\\ \\u00xx)")),
            },
            Some(c) if *c < 0x20 || *c == 0x7f => {
                return Err(err(i, "no control character (write \\u00xx)"))
            }
            Some(c) => {
                out.push(*c);
                i += 1;
            }
        }
    }
}

/// Writes a name as the canonical form does: bare when it is an identifier, quoted otherwise.
pub(crate) fn write_name(out: &mut String, name: &str) {
    if crate::canonical::is_bare(name) {
        out.push_str(name);
    } else {
        let _ = crate::canonical::write_quoted(out, name);
    }
}

/// A name as the canonical form writes it.
pub(crate) fn name_text(name: &str) -> String {
    let mut s = String::new();
    write_name(&mut s, name);
    s
}

/// A type's text for people: references without their 64-digit versions (`Address@…` becomes
/// `Address`).
pub(crate) fn short_type(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        if b[i] == b'@'
            && b.len() >= i + 65
            && b[i + 1..i + 65].iter().all(|c| c.is_ascii_hexdigit())
        {
            out.push_str(text.get(last..i).unwrap_or_default());
            i += 65;
            last = i;
        } else {
            i += 1;
        }
    }
    out.push_str(text.get(last..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let v = "0".repeat(64);
        let text = format!(
            "bump=2 enum tag=\"t\" content=\"c\"{{A,~,bump=1 untagged B/b(u8,?str),\"c d\"{{x/y?:option<Address@{v}>,..?map<str,tuple<u8*3,f64>>}}}}"
        );
        let def = parse_definition(&text).unwrap();
        let Def::Body { bump: 2, body } = def else {
            panic!("{def:?}")
        };
        let BodyAst::Enum { repr, variants } = body else {
            panic!()
        };
        assert_eq!(repr, Repr::Adjacent("t".into(), "c".into()));
        assert_eq!(variants.len(), 4);
        assert!(variants[1].skipped);
        assert_eq!(variants[2].de_name, "b");
        assert_eq!(variants[3].name, "c d");
        let VariantKind::Struct(f) = &variants[3].kind else {
            panic!()
        };
        assert_eq!(f[0].de_name, "y");
        assert!(f[0].maybe_absent && f[1].flatten && f[1].maybe_absent);
        let TypeExpr::Map(_, val) = &f[1].ty else {
            panic!()
        };
        assert!(matches!(&**val, TypeExpr::Tuple(e) if e.len() == 2 && e[0].1 == 3));
        assert_eq!(short_type(&f[0].ty_text), "option<Address>");
    }

    #[test]
    fn refuses_bad_text_without_panicking() {
        for bad in [
            "",
            "struct{",
            "struct{a}",
            "enum{",
            "option<",
            "tuple<u8*1>",
            "bump=0 struct{}",
            "\"abc",
            "\"\\q\"@",
            "opaque(\"x",
            "u8 ",
            "seq<u8>>",
            "tuple<u8*99999999999999999999>",
            "tuple<u8*0>",
            "struct{a:b@12}",
            "enum{A(),B}",
            "struct{\"\u{1}\":u8}",
        ] {
            assert!(parse_definition(bad).is_err(), "{bad:?}");
        }
        let deep = "option<".repeat(10_000) + "u8" + &">".repeat(10_000);
        assert!(parse_definition(&deep).is_err());
        assert!(parse_definition("u8").is_ok());
        assert!(parse_definition("tuple<tuple<u8*4294967296>*4294967296>").is_ok());
        assert!(parse_type("self").is_ok());
    }
}
