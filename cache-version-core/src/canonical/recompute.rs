//! Recomputing a version from printed text alone.
//!
//! This is the reference for anyone implementing the version rule in another language: it reads
//! a printed definition (or type expression), finds each direct child type expression, replaces
//! it by `_` to get the node's template, and hashes
//! `BLAKE3(BLAKE3("cache-version/1:" ‖ template) ‖ v(child₁) ‖ … ‖ v(childₙ))`, where a
//! reference `Name@<hex>` has the version `<hex>`. It uses only the text, never the Rust types.

use core::fmt;

use crate::version::Version;

/// A text that is not in the canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecomputeError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What was expected there.
    pub expected: &'static str,
}

impl fmt::Display for RecomputeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not a canonical definition: expected {} at byte {}",
            self.expected, self.offset
        )
    }
}

impl std::error::Error for RecomputeError {}

/// The version of a printed definition or type expression, from the text alone.
///
/// ```
/// use cache_version_core::{canonical::recompute, CacheVersion};
///
/// let shape = <Option<Vec<(u8, u8, String)>> as CacheVersion>::SHAPE;
/// let text = shape.to_string();
/// assert_eq!(text, "option<seq<tuple<u8*2,str>>>");
/// assert_eq!(recompute(&text).unwrap(), <Option<Vec<(u8, u8, String)>> as CacheVersion>::VERSION);
/// ```
pub fn recompute(text: &str) -> Result<Version, RecomputeError> {
    recompute_with(text, crate::blake3::hash)
}

/// [`recompute`] with the BLAKE3 implementation of your choice (tests pass the `blake3`
/// crate's, proving the rule needs nothing from this crate).
pub fn recompute_with(
    text: &str,
    blake3: impl Fn(&[u8]) -> [u8; 32],
) -> Result<Version, RecomputeError> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        hash: &blake3,
    };
    let v = p.node()?;
    if p.i != p.s.len() {
        return Err(p.err("end of text"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    hash: &'a dyn Fn(&[u8]) -> [u8; 32],
}

const LEAVES: &[&str] = &[
    "bool", "i8", "i16", "i32", "i64", "i128", "u8", "u16", "u32", "u64", "u128", "f32", "f64",
    "char", "str", "bytes", "unit", "self",
];

impl Parser<'_> {
    fn err(&self, expected: &'static str) -> RecomputeError {
        RecomputeError {
            offset: self.i,
            expected,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, lit: &str) -> bool {
        if self.s[self.i..].starts_with(lit.as_bytes()) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, lit: &'static str) -> Result<(), RecomputeError> {
        if self.eat(lit) {
            Ok(())
        } else {
            Err(self.err(lit))
        }
    }

    /// A bare identifier or a quoted string; returns its end offset.
    fn name(&mut self) -> Result<(), RecomputeError> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(c) if c == b'_' || c.is_ascii_alphabetic() => {
                while matches!(self.peek(), Some(c) if c == b'_' || c.is_ascii_alphanumeric()) {
                    self.i += 1;
                }
                Ok(())
            }
            _ => Err(self.err("a name")),
        }
    }

    fn quoted(&mut self) -> Result<(), RecomputeError> {
        self.expect("\"")?;
        loop {
            match self.peek() {
                None => return Err(self.err("closing quote")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'\\') => self.i += 2,
                Some(_) => self.i += 1,
            }
        }
    }

    fn number(&mut self) -> Result<(), RecomputeError> {
        let start = self.i;
        while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
            self.i += 1;
        }
        if self.i == start {
            Err(self.err("a number"))
        } else {
            Ok(())
        }
    }

    fn bump(&mut self) -> Result<(), RecomputeError> {
        if self.eat("bump=") {
            self.number()?;
            self.expect(" ")?;
        }
        Ok(())
    }

    /// Parses one child type expression and records its span and version.
    fn child(&mut self, kids: &mut Vec<(usize, usize, Version)>) -> Result<(), RecomputeError> {
        let start = self.i;
        let v = self.node()?;
        kids.push((start, self.i, v));
        Ok(())
    }

    /// A comma-separated field list up to (not including) `close`.
    fn fields(
        &mut self,
        named: bool,
        close: u8,
        kids: &mut Vec<(usize, usize, Version)>,
    ) -> Result<(), RecomputeError> {
        if self.peek() == Some(close) {
            return Ok(());
        }
        loop {
            self.bump()?;
            if self.eat("..") {
                self.eat("?");
            } else if named {
                self.name()?;
                if self.eat("/") {
                    self.name()?;
                }
                self.eat("?");
                self.expect(":")?;
            } else {
                self.eat("?");
            }
            self.child(kids)?;
            if !self.eat(",") {
                return Ok(());
            }
        }
    }

    fn node(&mut self) -> Result<Version, RecomputeError> {
        let start = self.i;
        // A reference `Name@<hex>` carries its version.
        if self.name().is_ok() && self.eat("@") {
            let hex = self
                .s
                .get(self.i..self.i + 64)
                .ok_or_else(|| self.err("64 hex digits"))?;
            let hex = core::str::from_utf8(hex).map_err(|_| self.err("64 hex digits"))?;
            let v = Version::from_hex(hex).map_err(|_| self.err("64 hex digits"))?;
            self.i += 64;
            return Ok(v);
        }
        self.i = start;
        let mut kids = Vec::new();
        self.bump()?;
        if self.eat("option<") || self.eat("seq<") {
            self.child(&mut kids)?;
            self.expect(">")?;
        } else if self.eat("map<") || self.eat("readable<") || self.eat("proxy<") {
            self.child(&mut kids)?;
            self.expect(",")?;
            self.child(&mut kids)?;
            self.expect(">")?;
        } else if self.eat("tuple<") {
            if !self.eat(">") {
                loop {
                    self.child(&mut kids)?;
                    if self.eat("*") {
                        self.number()?;
                    }
                    if !self.eat(",") {
                        break;
                    }
                }
                self.expect(">")?;
            }
        } else if self.eat("opaque(") {
            self.quoted()?;
            self.expect(")")?;
        } else if self.eat("unit_struct") {
        } else if self.eat("newtype_struct(") {
            self.child(&mut kids)?;
            self.expect(")")?;
        } else if self.eat("tuple_struct(") {
            self.fields(false, b')', &mut kids)?;
            self.expect(")")?;
        } else if self.eat("struct") {
            if self.eat(" tag=") {
                self.quoted()?;
                self.expect(" name=")?;
                self.quoted()?;
            }
            self.expect("{")?;
            self.fields(true, b'}', &mut kids)?;
            self.expect("}")?;
        } else if self.eat("enum") {
            if self.eat(" tag=") {
                self.quoted()?;
                if self.eat(" content=") {
                    self.quoted()?;
                }
            } else {
                self.eat(" untagged");
            }
            self.expect("{")?;
            if self.peek() != Some(b'}') {
                loop {
                    if !self.eat("~") {
                        self.bump()?;
                        self.eat("untagged ");
                        self.name()?;
                        if self.eat("/") {
                            self.name()?;
                        }
                        if self.eat("(") {
                            self.fields(false, b')', &mut kids)?;
                            self.expect(")")?;
                        } else if self.eat("{") {
                            self.fields(true, b'}', &mut kids)?;
                            self.expect("}")?;
                        }
                    }
                    if !self.eat(",") {
                        break;
                    }
                }
            }
            self.expect("}")?;
        } else {
            let leaf = LEAVES
                .iter()
                .filter(|l| self.s[self.i..].starts_with(l.as_bytes()))
                .max_by_key(|l| l.len())
                .ok_or_else(|| self.err("a type"))?;
            self.i += leaf.len();
        }
        // The template: the node's text with each child span replaced by `_`.
        let mut template = Vec::with_capacity(self.i - start);
        let mut at = start;
        for (s, e, _) in &kids {
            template.extend_from_slice(&self.s[at..*s]);
            template.push(b'_');
            at = *e;
        }
        template.extend_from_slice(&self.s[at..self.i]);
        let mut prefixed = crate::version::TEMPLATE_PREFIX.to_vec();
        prefixed.extend_from_slice(&template);
        let mut outer = (self.hash)(&prefixed).to_vec();
        for (_, _, v) in &kids {
            outer.extend_from_slice(v.as_bytes());
        }
        Ok(Version::from_bytes((self.hash)(&outer)))
    }
}
