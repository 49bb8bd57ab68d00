//! Native-speed hashing of the start of a named type's version.
//!
//! A named type's version is `BLAKE3(template digest ‖ v(child₁) ‖ … ‖ v(childₙ))`, hashed in
//! const evaluation, where one 64-byte compression costs about half a millisecond of compile
//! time. The template digest is known here; so are the versions of the std types serde writes
//! as leaves and simple structures (`u64`, `String`, `Vec<String>`, `Option<f64>`, …). For
//! the leading children whose tokens name such a type, the derive compresses those blocks
//! itself and emits the chaining value, and `__private::version_resumed` goes on from it. A
//! name in the tokens may be the user's own type (`struct String;`, an alias), so the derive
//! also emits the std types it assumed, and the compiler answers whether they are the field
//! types (`__private::SameProbe`, an inherent constant that applies only to two equal types);
//! when they are not, the version is hashed in full. The version is the same either way.
use proc_macro2::TokenStream;
use quote::quote;
use syn::{GenericArgument, PathArguments, Type};

use crate::model::{Body, FieldIr, TyIr};

/// The std types the tokens may name: (name, canonical text, the type by a path nobody can
/// shadow).
const LEAVES: &[(&str, &str, &str)] = &[
    ("bool", "bool", "bool"),
    ("i8", "i8", "i8"),
    ("i16", "i16", "i16"),
    ("i32", "i32", "i32"),
    ("i64", "i64", "i64"),
    ("isize", "i64", "isize"),
    ("i128", "i128", "i128"),
    ("u8", "u8", "u8"),
    ("u16", "u16", "u16"),
    ("u32", "u32", "u32"),
    ("u64", "u64", "u64"),
    ("usize", "u64", "usize"),
    ("u128", "u128", "u128"),
    ("f32", "f32", "f32"),
    ("f64", "f64", "f64"),
    ("char", "char", "char"),
    ("String", "str", "String"),
];

fn digest(text: &str) -> [u8; 32] {
    crate::template::digest(text)
}

/// `BLAKE3(template ‖ children)`: the version rule.
fn combine(template: &[u8; 32], children: &[[u8; 32]]) -> [u8; 32] {
    let mut input = template.to_vec();
    for c in children {
        input.extend_from_slice(c);
    }
    crate::hash::hash(&input)
}

/// The version of `ty` if the tokens name a std type whose shape is known here (a leaf, or
/// `Option`, `Vec`, `VecDeque`, `Box`, `HashMap`, `BTreeMap` of such types), and that std
/// type written through `__private` (primitives as `_cv::primitive::u64`, which no user type
/// can shadow). Only a guess until the compiler compares the two types.
pub fn guess(ty: &Type) -> Option<([u8; 32], TokenStream)> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() || path.path.leading_colon.is_some() || path.path.segments.len() != 1 {
        return None;
    }
    let seg = &path.path.segments[0];
    let name = seg.ident.to_string();
    let args: Vec<&Type> = match &seg.arguments {
        PathArguments::None => Vec::new(),
        PathArguments::AngleBracketed(a) => {
            let mut out = Vec::new();
            for arg in &a.args {
                match arg {
                    GenericArgument::Type(t) => out.push(t),
                    _ => return None,
                }
            }
            out
        }
        PathArguments::Parenthesized(_) => return None,
    };
    match (name.as_str(), args.as_slice()) {
        (leaf, []) => {
            let (rust, text, _) = LEAVES.iter().find(|(rust, _, _)| *rust == leaf)?;
            let std = syn::Ident::new(rust, proc_macro2::Span::call_site());
            let std = if *rust == "String" {
                quote!(_cv::String)
            } else {
                quote!(_cv::primitive::#std)
            };
            Some((combine(&digest(text), &[]), std))
        }
        ("Box", [t]) => {
            let (v, std) = guess(t)?;
            Some((v, quote!(_cv::Box<#std>)))
        }
        ("Option", [t]) => {
            let (v, std) = guess(t)?;
            Some((
                combine(&digest("option<_>"), &[v]),
                quote!(_cv::Option<#std>),
            ))
        }
        ("Vec" | "VecDeque", [t]) => {
            let (v, std) = guess(t)?;
            let outer = syn::Ident::new(&name, proc_macro2::Span::call_site());
            Some((combine(&digest("seq<_>"), &[v]), quote!(_cv::#outer<#std>)))
        }
        ("HashMap" | "BTreeMap", [k, v]) => {
            let ((kv, ks), (vv, vs)) = (guess(k)?, guess(v)?);
            let outer = syn::Ident::new(&name, proc_macro2::Span::call_site());
            Some((
                combine(&digest("map<_,_>"), &[kv, vv]),
                quote!(_cv::#outer<#ks, #vs>),
            ))
        }
        _ => None,
    }
}

fn field_guess(f: &FieldIr) -> Option<(&Type, [u8; 32], TokenStream)> {
    match (&f.ty, f.hint) {
        (TyIr::Rust(t), None) => guess(t).map(|(v, std)| (t, v, std)),
        _ => None,
    }
}

/// The children of `body` in template order (the order `Version::of` hashes them).
fn children(body: &Body) -> Vec<&FieldIr> {
    match body {
        Body::Unit => Vec::new(),
        Body::Newtype(f) => vec![f],
        Body::Tuple(fields) | Body::Struct { fields, .. } => fields.iter().collect(),
        Body::Enum { variants, .. } => variants.iter().flat_map(|v| v.fields.iter()).collect(),
    }
}

/// What `VERSION` resumes from: the number of leading children hashed here, the field types
/// and the std types they were taken for, the chaining value after the blocks they fill.
pub struct Prefix<'a> {
    pub children: usize,
    pub types: Vec<&'a Type>,
    pub std: Vec<TokenStream>,
    pub cv: [u8; 32],
}

/// The prefix of `body`'s version that can be hashed here: at least one whole block, and one
/// child left for the const hasher (the last block carries the final flags). `None`: nothing
/// to gain.
pub fn prefix<'a>(template: &[u8; 32], body: &'a Body) -> Option<Prefix<'a>> {
    let children = children(body);
    // One chunk (1024 bytes) at most: the template and 31 children.
    if children.len() > 31 {
        return None;
    }
    let mut known = Vec::new();
    for f in &children {
        match field_guess(f) {
            Some(g) => known.push(g),
            None => break,
        }
    }
    // Whole blocks: the template and an odd number of children, one child left after them.
    if known.len() == children.len() {
        known.pop();
    }
    if known.len() % 2 == 0 {
        known.pop();
    }
    if known.is_empty() {
        return None;
    }
    let mut units = vec![*template];
    units.extend(known.iter().map(|(_, v, _)| *v));
    let blocks: Vec<[u8; 64]> = units
        .chunks(2)
        .map(|pair| {
            let mut block = [0u8; 64];
            block[..32].copy_from_slice(&pair[0]);
            block[32..].copy_from_slice(&pair[1]);
            block
        })
        .collect();
    Some(Prefix {
        children: known.len(),
        cv: crate::hash::chain(&blocks),
        types: known.iter().map(|(t, _, _)| *t).collect(),
        std: known.into_iter().map(|(_, _, std)| std).collect(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn guesses_std_types_only() {
        let t: syn::Type = syn::parse_quote!(Vec<Option<String>>);
        assert!(super::guess(&t).is_some());
        for t in [
            syn::parse_quote!(Vec<T>),
            syn::parse_quote!(std::string::String),
            syn::parse_quote!(Address),
            syn::parse_quote!(&'a str),
        ] {
            let t: syn::Type = t;
            assert!(super::guess(&t).is_none());
        }
    }
}
