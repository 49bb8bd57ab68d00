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
    frames: Vec<Frame>,
}

struct Frame {
    delim: Delimiter,
    /// Text not yet lexed.
    text: String,
    /// What came before `text`: `None` while the frame is text only.
    tokens: Option<TokenStream>,
}

impl Frame {
    fn new(delim: Delimiter) -> Self {
        Frame {
            delim,
            text: String::new(),
            tokens: None,
        }
    }

    fn flush(&mut self) -> &mut TokenStream {
        let tokens = self.tokens.get_or_insert_with(TokenStream::new);
        if !self.text.is_empty() {
            // One stream, not its trees: extending by trees would fetch each across the
            // proc-macro bridge.
            tokens.extend(std::iter::once(lex(&self.text)));
            self.text.clear();
        }
        tokens
    }
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

fn delimiters(delim: Delimiter) -> (char, char) {
    match delim {
        Delimiter::Parenthesis => ('(', ')'),
        Delimiter::Brace => ('{', '}'),
        Delimiter::Bracket => ('[', ']'),
        Delimiter::None => (' ', ' '),
    }
}

impl Out {
    pub fn new() -> Self {
        Out {
            frames: vec![Frame::new(Delimiter::None)],
        }
    }

    fn top(&mut self) -> &mut Frame {
        self.frames
            .last_mut()
            .expect("the outermost frame is never closed")
    }

    /// The derive's own code as source text. Its delimiters may be left open for splices and
    /// closed by a later call; string literals in it are skipped (no character literals).
    pub fn s(&mut self, text: &str) -> &mut Self {
        // Bytes and an index: this runs unoptimized, where `char_indices` costs tens of
        // instructions a character. Delimiters and quotes are ASCII, so every cut is on a
        // character boundary.
        let bytes = text.as_bytes();
        let mut run = 0;
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
                b'(' => Some(Delimiter::Parenthesis),
                b'{' => Some(Delimiter::Brace),
                b'[' => Some(Delimiter::Bracket),
                b')' | b'}' | b']' => None,
                _ => continue,
            };
            self.top().text.push_str(&text[run..i - 1]);
            run = i;
            match delim {
                Some(delim) => self.frames.push(Frame::new(delim)),
                None => self.close(b as char),
            }
        }
        self.top().text.push_str(&text[run..]);
        self
    }

    fn close(&mut self, c: char) {
        assert!(
            self.frames.len() > 1,
            "cache-version-derive closed `{c}` it never opened"
        );
        let mut frame = self.frames.pop().expect("checked above");
        let (open, close) = delimiters(frame.delim);
        assert_eq!(close, c, "cache-version-derive closed `{open}` with `{c}`");
        if frame.tokens.is_none() {
            // Text only: it stays text in the enclosing frame.
            let parent = self.top();
            parent.text.push(open);
            parent.text.push_str(&frame.text);
            parent.text.push(close);
        } else {
            let group = Group::new(frame.delim, std::mem::take(frame.flush()));
            self.top().flush().extend([TokenTree::Group(group)]);
        }
    }

    /// Splices tokens (the user's, or built with `quote!`) where the text has reached.
    pub fn t(&mut self, tokens: impl ToTokens) -> &mut Self {
        let mut ts = TokenStream::new();
        tokens.to_tokens(&mut ts);
        // Nothing to splice (no generics, say): the text runs on.
        if !ts.is_empty() {
            self.top().flush().extend(std::iter::once(ts));
        }
        self
    }

    /// An identifier as text (`r#` kept): it resolves where the derive is written, like the
    /// user's own token for any name without hygiene of its own (items, types).
    pub fn t_ident(&mut self, ident: &proc_macro2::Ident) -> &mut Self {
        use std::fmt::Write;
        let text = &mut self.top().text;
        let _ = write!(text, " {ident} ");
        self
    }

    /// A string literal. `Debug` writes one (`\"`, `\\`, `\n`, `\u{..}`), in core's optimized
    /// code: this crate runs unoptimized.
    pub fn str_lit(&mut self, value: &str) -> &mut Self {
        use std::fmt::Write;
        let _ = write!(self.top().text, " {value:?} ");
        self
    }

    /// A byte-string literal: printable ASCII as itself, `"` and `\\` escaped, other bytes
    /// as `\xNN`. Escaped into an array, whose indexing needs no call even unoptimized, and
    /// pushed at once (a digest is 32 bytes; `escape_ascii` would write each escape apart).
    // Comparisons, not `RangeInclusive::contains`: a call chain when unoptimized.
    #[allow(clippy::manual_range_contains)]
    pub fn bytes_lit(&mut self, value: &[u8]) -> &mut Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let text = &mut self.top().text;
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
        let _ = write!(self.top().text, " {value} ");
        self
    }

    /// The tokens written.
    pub fn finish(mut self) -> TokenStream {
        assert!(
            self.frames.len() == 1,
            "cache-version-derive left a delimiter open"
        );
        std::mem::take(self.top().flush())
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
    #[should_panic(expected = "closed `{` with `)`")]
    fn mismatched_delimiters_are_a_bug_caught_here() {
        let mut o = Out::new();
        o.s("{ )");
    }
}
