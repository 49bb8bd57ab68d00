//! The expansion as source text: the derive's own code is written as text and lexed by rustc
//! in one call per run of text; the user's tokens (types, generics, names whose spans errors
//! point at) are spliced in as tokens, spans and hygiene intact.
//!
//! Why not `quote!` for everything: a proc macro runs unoptimized in a dev build, and every
//! token `quote!` builds is made, buffered and sent across the proc-macro bridge one by one
//! (each interpolated sub-stream flushes the buffer with a bridge call of its own). Callgrind,
//! 60 chained models and 20 enums: the derive ran 153 M instructions, about 60% of them
//! building and sending tokens; rustc's lexer reads the same code as text at native speed.
//! Text gets the call-site span, the span `quote!` gives the tokens it makes.

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use quote::ToTokens;

/// Code being written. [`Out::s`] takes the derive's own code as text (its delimiters open
/// and close groups, so a splice can sit at any depth); [`Out::t`] splices tokens;
/// [`Out::finish`] returns the whole.
pub struct Out {
    /// All the text written, once: a frame that stays text only is a stretch of it.
    buf: String,
    frames: Vec<Frame>,
}

struct Frame {
    delim: Delimiter,
    /// Where the frame's opening delimiter sits in `buf`.
    open: usize,
    /// Where the frame's text not yet lexed starts in `buf` (it runs to the end, or to the
    /// opening delimiter of the frame above).
    start: usize,
    /// What came before that text: `None` while the frame is text only.
    tokens: Option<TokenStream>,
}

/// Lexes `buf[start..end]` onto `tokens` (nothing when empty).
fn flush<'a>(
    tokens: &'a mut Option<TokenStream>,
    buf: &str,
    start: usize,
    end: usize,
) -> &'a mut TokenStream {
    let tokens = tokens.get_or_insert_with(TokenStream::new);
    if start < end {
        // One stream, not its trees: extending by trees would fetch each across the
        // proc-macro bridge.
        tokens.extend(std::iter::once(lex(&buf[start..end])));
    }
    tokens
}

/// Lexes the derive's own text. Inside a proc macro straight through `proc_macro` (proc_macro2's
/// `FromStr` first checks the text with its own lexer, which runs unoptimized here).
fn lex(text: &str) -> TokenStream {
    if proc_macro::is_available() {
        match text.parse::<proc_macro::TokenStream>() {
            Ok(tokens) => return tokens.into(),
            Err(err) => panic!("cache-version-derive wrote text that does not lex ({err}): {text}"),
        }
    }
    match text.parse::<TokenStream>() {
        Ok(tokens) => tokens,
        Err(err) => panic!("cache-version-derive wrote text that does not lex ({err}): {text}"),
    }
}

fn closing(delim: Delimiter) -> u8 {
    match delim {
        Delimiter::Parenthesis => b')',
        Delimiter::Brace => b'}',
        Delimiter::Bracket => b']',
        Delimiter::None => b' ',
    }
}

impl Out {
    pub fn new() -> Self {
        Out {
            buf: String::with_capacity(4096),
            frames: vec![Frame {
                delim: Delimiter::None,
                open: 0,
                start: 0,
                tokens: None,
            }],
        }
    }

    /// The derive's own code as source text. Its delimiters may be left open for splices and
    /// closed by a later call; string literals in it are skipped (no character literals).
    pub fn s(&mut self, text: &str) -> &mut Self {
        let base = self.buf.len();
        self.buf.push_str(text);
        // Bytes and an index: this runs unoptimized, where `char_indices` costs tens of
        // instructions a character (indexing a slice needs no call). Delimiters and quotes are
        // ASCII, so every position is on a character boundary.
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            i += 1;
            let delim = match b {
                b'"' => {
                    // To the closing quote, over escapes.
                    while i < bytes.len() {
                        let c = bytes[i];
                        i += 1;
                        if c == b'\\' {
                            i += 1;
                        } else if c == b'"' {
                            break;
                        }
                    }
                    continue;
                }
                b'(' => Delimiter::Parenthesis,
                b'{' => Delimiter::Brace,
                b'[' => Delimiter::Bracket,
                b')' | b'}' | b']' => {
                    self.close(b, base + i - 1);
                    continue;
                }
                _ => continue,
            };
            self.frames.push(Frame {
                delim,
                open: base + i - 1,
                start: base + i,
                tokens: None,
            });
        }
        self
    }

    /// Closes the innermost frame at `buf[at]` (its closing delimiter `c`).
    fn close(&mut self, c: u8, at: usize) {
        assert!(
            self.frames.len() > 1,
            "cache-version-derive closed `{}` it never opened",
            c as char
        );
        let mut frame = self.frames.pop().expect("checked above");
        assert!(
            closing(frame.delim) == c,
            "cache-version-derive closed `{:?}` with `{}`",
            frame.delim,
            c as char
        );
        if frame.tokens.is_none() {
            // Text only: it stays in `buf`, part of the enclosing frame's text.
            return;
        }
        let inner = std::mem::take(flush(&mut frame.tokens, &self.buf, frame.start, at));
        let group = TokenTree::Group(Group::new(frame.delim, inner));
        let parent = self
            .frames
            .last_mut()
            .expect("the outermost frame is never closed");
        // The parent's text runs to the group's opening delimiter; after the group, it
        // starts again past the closing one.
        flush(&mut parent.tokens, &self.buf, parent.start, frame.open).extend([group]);
        parent.start = at + 1;
    }

    /// Splices tokens (the user's, or built with `quote!`) where the text has reached.
    pub fn t(&mut self, tokens: impl ToTokens) -> &mut Self {
        let mut ts = TokenStream::new();
        tokens.to_tokens(&mut ts);
        // Nothing to splice (no generics, say): the text runs on.
        if !ts.is_empty() {
            let end = self.buf.len();
            let top = self
                .frames
                .last_mut()
                .expect("the outermost frame is never closed");
            flush(&mut top.tokens, &self.buf, top.start, end).extend(std::iter::once(ts));
            top.start = end;
        }
        self
    }

    /// An identifier as text (`r#` kept): it resolves where the derive is written, like the
    /// user's own token for any name without hygiene of its own (items, types).
    pub fn t_ident(&mut self, ident: &proc_macro2::Ident) -> &mut Self {
        use std::fmt::Write;
        let _ = write!(self.buf, " {ident} ");
        self
    }

    /// A string literal. `Debug` writes one (`\"`, `\\`, `\n`, `\u{..}`), in core's optimized
    /// code: this crate runs unoptimized.
    pub fn str_lit(&mut self, value: &str) -> &mut Self {
        use std::fmt::Write;
        let _ = write!(self.buf, " {value:?} ");
        self
    }

    /// A byte-string literal: printable ASCII as itself, `"` and `\\` escaped, other bytes
    /// as `\xNN`. Escaped into an array, whose indexing needs no call even unoptimized, and
    /// pushed at once (a digest is 32 bytes; `escape_ascii` would write each escape apart).
    // Comparisons, not `RangeInclusive::contains`: a call chain when unoptimized.
    #[allow(clippy::manual_range_contains)]
    pub fn bytes_lit(&mut self, value: &[u8]) -> &mut Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let text = &mut self.buf;
        text.push_str(" b\"");
        for chunk in value.chunks(32) {
            let mut buf = [0u8; 4 * 32];
            let mut n = 0;
            for &b in chunk {
                if b == b'"' || b == b'\\' {
                    buf[n] = b'\\';
                    buf[n + 1] = b;
                    n += 2;
                } else if b >= b' ' && b <= b'~' {
                    buf[n] = b;
                    n += 1;
                } else {
                    buf[n] = b'\\';
                    buf[n + 1] = b'x';
                    buf[n + 2] = HEX[usize::from(b >> 4)];
                    buf[n + 3] = HEX[usize::from(b & 15)];
                    n += 4;
                }
            }
            // Only ASCII was written.
            text.push_str(std::str::from_utf8(&buf[..n]).unwrap_or_default());
        }
        text.push_str("\" ");
        self
    }

    /// An integer (unsuffixed) or a `bool`.
    pub fn display(&mut self, value: impl std::fmt::Display) -> &mut Self {
        use std::fmt::Write;
        let _ = write!(self.buf, " {value} ");
        self
    }

    /// The tokens written.
    pub fn finish(mut self) -> TokenStream {
        assert!(
            self.frames.len() == 1,
            "cache-version-derive left a delimiter open"
        );
        let end = self.buf.len();
        let root = &mut self.frames[0];
        std::mem::take(flush(&mut root.tokens, &self.buf, root.start, end))
    }
}

#[cfg(test)]
mod tests {
    use super::Out;
    use quote::quote;

    fn same(out: Out, expected: proc_macro2::TokenStream) {
        assert_eq!(out.finish().to_string(), expected.to_string());
    }

    #[test]
    fn text_and_splices_nest() {
        let t = quote!(Vec<u8>);
        let mut o = Out::new();
        o.s("const X: usize = { let a = [")
            .t(&t)
            .s("::new()]; a.len() };");
        same(
            o,
            quote!(const X: usize = { let a = [Vec<u8>::new()]; a.len() };),
        );
        // Splices at several depths, text-only groups before and after them, two splices
        // in one group, a group closed by a later call.
        let (a, b) = (quote!(A<B>), quote!(C));
        let mut o = Out::new();
        o.s("mod m { fn f() { (1, [2]); g(")
            .t(&a)
            .s(", { h([")
            .t(&b)
            .s("], (3)) }, ")
            .t(&b)
            .t(&a)
            .s(") ; [4] } struct S(")
            .t(&b)
            .s(");");
        o.s("}");
        same(
            o,
            quote!(mod m { fn f() { (1, [2]); g(A<B>, { h([C], (3)) }, C A<B>) ; [4] } struct S(C); }),
        );
        let mut o = Out::new();
        o.s("f(\"(not a group\", ").str_lit("a\"b\\c{").s(")");
        same(o, quote!(f("(not a group", "a\"b\\c{")));
    }

    #[test]
    fn literals_round_trip() {
        // Every byte, and lengths around the 32-byte chunk the writer escapes at a time.
        let all: Vec<u8> = (0..=255).collect();
        let mut byte_cases: Vec<Vec<u8>> = vec![all, Vec::new()];
        for n in [1, 31, 32, 33, 64, 65] {
            byte_cases.push((0..n).map(|i| (i * 37 % 256) as u8).collect());
        }
        // Quotes, escapes, delimiters (inside a literal they open nothing), control and
        // non-ASCII characters, a combining mark (which `Debug` escapes), the last scalar.
        let mut text: String = (0u32..0x800).filter_map(char::from_u32).collect();
        text.push_str("\u{301}\u{200d}\u{feff}\u{10ffff}{[(\"'\\");
        let str_cases = [text, String::new(), "a\"b".to_owned(), "}".to_owned()];
        for bytes in &byte_cases {
            for s in &str_cases {
                let mut o = Out::new();
                o.bytes_lit(bytes).str_lit(s).display(7u32).display(true);
                let mut it = o.finish().into_iter();
                let b: syn::LitByteStr = syn::parse2(it.next().unwrap().into()).unwrap();
                let l: syn::LitStr = syn::parse2(it.next().unwrap().into()).unwrap();
                let rest: Vec<String> = it.map(|t| t.to_string()).collect();
                assert_eq!(&b.value(), bytes);
                assert_eq!(&l.value(), s);
                assert_eq!(rest, ["7", "true"]);
            }
        }
    }

    #[test]
    fn identifiers_keep_raw_prefix() {
        let ident: syn::Ident = syn::parse_str("r#type").unwrap();
        let mut o = Out::new();
        o.s("struct").t_ident(&ident).s(";");
        same(
            o,
            quote!(
                struct r#type;
            ),
        );
    }

    #[test]
    #[should_panic(expected = "closed `Brace` with `)`")]
    fn mismatched_delimiters_are_a_bug_caught_here() {
        let mut o = Out::new();
        o.s("{ )");
    }
}
