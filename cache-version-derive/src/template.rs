//! The template of a named type: its canonical definition with every child written as `_`.
//!
//! This must write exactly what `cache_version_core::canonical` writes (the crates cannot share
//! code: the core crate re-exports this one). `canonical::verify` checks the two against each
//! other at run time and the test suite recomputes every derived type's version from its
//! printed definition, so a disagreement cannot go unnoticed.

use std::fmt::Write;

use crate::model::{Body, FieldIr, FieldKind, Repr, Style, VariantIr};

pub const TEMPLATE_PREFIX: &[u8] = b"cache-version/1:";

/// `BLAKE3(TEMPLATE_PREFIX ‖ template)`, at native speed.
pub fn digest(template: &str) -> [u8; 32] {
    let mut input = TEMPLATE_PREFIX.to_vec();
    input.extend_from_slice(template.as_bytes());
    crate::hash::hash(&input)
}

fn is_bare(name: &str) -> bool {
    let mut chars = name.bytes();
    match chars.next() {
        Some(c) if c == b'_' || c.is_ascii_alphabetic() => {}
        _ => return false,
    }
    chars.all(|c| c == b'_' || c.is_ascii_alphanumeric())
}

fn quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn name(out: &mut String, s: &str) {
    if is_bare(s) {
        out.push_str(s);
    } else {
        quoted(out, s);
    }
}

fn bump(out: &mut String, n: u32) {
    if n != 0 {
        let _ = write!(out, "bump={n} ");
    }
}

pub fn named(bump_n: u32, body: &Body) -> String {
    let mut out = String::new();
    bump(&mut out, bump_n);
    match body {
        Body::Unit => out.push_str("unit_struct"),
        Body::Newtype(_) => out.push_str("newtype_struct(_)"),
        Body::Tuple(fields) => {
            out.push_str("tuple_struct(");
            write_fields(&mut out, fields, false);
            out.push(')');
        }
        Body::Struct { tag, fields } => {
            out.push_str("struct");
            if let Some((tag, type_name)) = tag {
                out.push_str(" tag=");
                quoted(&mut out, tag);
                out.push_str(" name=");
                quoted(&mut out, type_name);
            }
            out.push('{');
            write_fields(&mut out, fields, true);
            out.push('}');
        }
        Body::Enum { repr, variants } => {
            out.push_str("enum");
            match repr {
                Repr::External => {}
                Repr::Internal(tag) => {
                    out.push_str(" tag=");
                    quoted(&mut out, tag);
                }
                Repr::Adjacent(tag, content) => {
                    out.push_str(" tag=");
                    quoted(&mut out, tag);
                    out.push_str(" content=");
                    quoted(&mut out, content);
                }
                Repr::Untagged => out.push_str(" untagged"),
            }
            out.push('{');
            for (i, v) in variants.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_variant(&mut out, v);
            }
            out.push('}');
        }
    }
    out
}

fn write_variant(out: &mut String, v: &VariantIr) {
    if v.style == Style::Skipped {
        out.push('~');
        return;
    }
    bump(out, v.bump);
    if v.untagged {
        out.push_str("untagged ");
    }
    name(out, &v.name);
    if v.name != v.de_name {
        out.push('/');
        name(out, &v.de_name);
    }
    match v.style {
        Style::Unit | Style::Skipped => {}
        Style::Newtype => out.push_str("(_)"),
        Style::Tuple => {
            out.push('(');
            write_fields(out, &v.fields, false);
            out.push(')');
        }
        Style::Struct => {
            out.push('{');
            write_fields(out, &v.fields, true);
            out.push('}');
        }
    }
}

fn write_fields(out: &mut String, fields: &[FieldIr], named_fields: bool) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        bump(out, f.bump);
        if f.kind == FieldKind::Flatten {
            out.push_str("..");
        } else if f.kind == FieldKind::FlattenMaybeAbsent {
            out.push_str("..?");
        } else if named_fields {
            name(out, &f.name);
            if f.name != f.de_name {
                out.push('/');
                name(out, &f.de_name);
            }
            if f.kind == FieldKind::MaybeAbsent {
                out.push('?');
            }
            out.push(':');
        } else if f.kind == FieldKind::MaybeAbsent {
            out.push('?');
        }
        out.push('_');
    }
}
