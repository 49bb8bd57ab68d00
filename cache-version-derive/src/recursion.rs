//! Direct self-recursion: inside its own definition a type is replaced by a back reference.
//!
//! `struct Node { children: Vec<Node> }` would make `Node::SHAPE` depend on itself, a cycle
//! in const evaluation. An occurrence of `Self`, or of the type's own name with exactly its
//! own generic parameters (`Node`, `Tree<T>`, `List<'a, T>`), is replaced by
//! `__private::SelfRef`, whose shape is the `self` leaf: "the innermost enclosing named type".
//!
//! That reading is only right when nothing named stands between the occurrence and the type
//! itself, so the replacement is made only through std's structural and transparent wrappers
//! (`Option`, `Vec`, `Box`, maps, sets, tuples, arrays, references, …). Inside any other
//! generic type (`Page<Self>`, `Result<Box<Self>, E>`) the occurrence is left alone and the
//! compiler reports the cycle: a compile error, never a version that means something else.
//! Each wrapper is recognised by name, so the expansion also asserts that the name really is
//! std's type (a user type called `Vec` fails to compile with a message saying so).
//!
//! Mutual recursion (A holds B, B holds A) cannot be seen from one derive: it stays a cycle,
//! which the compiler reports (see docs/attributes.md for what to write instead).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{GenericArgument, GenericParam, PathArguments, Type};

/// std wrappers a self reference may sit inside, with the path that must name them.
const WRAPPERS: &[(&str, &str)] = &[
    ("Option", "::core::option::Option"),
    ("Box", "::std::boxed::Box"),
    ("Vec", "::std::vec::Vec"),
    ("VecDeque", "::std::collections::VecDeque"),
    ("LinkedList", "::std::collections::LinkedList"),
    ("BinaryHeap", "::std::collections::BinaryHeap"),
    ("HashSet", "::std::collections::HashSet"),
    ("BTreeSet", "::std::collections::BTreeSet"),
    ("HashMap", "::std::collections::HashMap"),
    ("BTreeMap", "::std::collections::BTreeMap"),
    ("Rc", "::std::rc::Rc"),
    ("Arc", "::std::sync::Arc"),
    ("Cow", "::std::borrow::Cow"),
    ("Cell", "::core::cell::Cell"),
    ("RefCell", "::core::cell::RefCell"),
    ("Mutex", "::std::sync::Mutex"),
    ("RwLock", "::std::sync::RwLock"),
    ("Reverse", "::core::cmp::Reverse"),
    ("Wrapping", "::core::num::Wrapping"),
];

/// A field type after replacement, with the checks that the wrappers are std's.
pub struct Replaced {
    pub ty: Type,
    /// `(as written, as std)` skeletons: the path to each self reference, other arguments
    /// replaced by `()`.
    pub checks: Vec<(Type, Type)>,
}

/// Returns `ty` with every reference to the type being derived replaced by `SelfRef` where
/// that is sound (see the module docs).
pub fn replace_self(ty: &Type, ident: &syn::Ident, input: &syn::DeriveInput) -> Replaced {
    let mut ty = ty.clone();
    let mut checks = Vec::new();
    if let Some(skeleton) = walk(&mut ty, ident, &input.generics) {
        // A bare `Self` needs no check; anything wrapped does.
        let bare = quote!(#ty).to_string() == quote!(_cv::__private::SelfRef).to_string();
        if !bare {
            checks.push(skeleton);
        }
    }
    Replaced { ty, checks }
}

/// Emits the compile-time assertions for `checks` (a function that is never called; type
/// checking its body is the assertion).
pub fn check_tokens(checks: &[(Type, Type)]) -> TokenStream {
    if checks.is_empty() {
        return TokenStream::new();
    }
    let calls = checks
        .iter()
        .map(|(written, std)| quote!(_cv::__private::self_ref_through_std::<#written, #std>();));
    quote! {
        #[allow(dead_code)]
        fn __cache_version_self_reference_checks() {
            #(#calls)*
        }
    }
}

fn self_ref() -> Type {
    syn::parse_quote!(_cv::__private::SelfRef)
}

fn unit() -> Type {
    syn::parse_quote!(())
}

fn is_self(path: &syn::TypePath, ident: &syn::Ident, generics: &syn::Generics) -> bool {
    if path.qself.is_some() || path.path.leading_colon.is_some() || path.path.segments.len() != 1 {
        return false;
    }
    let seg = &path.path.segments[0];
    if seg.ident == "Self" {
        return matches!(seg.arguments, PathArguments::None);
    }
    if seg.ident != *ident {
        return false;
    }
    let params: Vec<&GenericParam> = generics.params.iter().collect();
    match &seg.arguments {
        PathArguments::None => params.is_empty(),
        PathArguments::AngleBracketed(args) => {
            args.args.len() == params.len()
                && args
                    .args
                    .iter()
                    .zip(params)
                    .all(|(arg, param)| match (arg, param) {
                        (GenericArgument::Lifetime(l), GenericParam::Lifetime(p)) => {
                            l.ident == p.lifetime.ident
                        }
                        (GenericArgument::Type(Type::Path(t)), GenericParam::Type(p)) => {
                            t.qself.is_none() && t.path.is_ident(&p.ident)
                        }
                        (GenericArgument::Type(Type::Path(t)), GenericParam::Const(p)) => {
                            t.qself.is_none() && t.path.is_ident(&p.ident)
                        }
                        (GenericArgument::Const(syn::Expr::Path(e)), GenericParam::Const(p)) => {
                            e.qself.is_none() && e.path.is_ident(&p.ident)
                        }
                        _ => false,
                    })
        }
        PathArguments::Parenthesized(_) => false,
    }
}

/// Replaces sound self references in `ty`; returns the `(written, std)` skeletons of the
/// path to them, if any.
fn walk(ty: &mut Type, ident: &syn::Ident, generics: &syn::Generics) -> Option<(Type, Type)> {
    match ty {
        Type::Path(path) => {
            if is_self(path, ident, generics) {
                *ty = self_ref();
                return Some((self_ref(), self_ref()));
            }
            if path.qself.is_some() {
                return None;
            }
            let last = path.path.segments.last()?;
            let std_path = WRAPPERS
                .iter()
                .find(|(name, _)| last.ident == name)
                .map(|(_, p)| syn::parse_str::<syn::Path>(p).expect("valid path"))?;
            // Only the last segment's arguments can hold the self reference.
            let mut written_args = Vec::new();
            let mut std_args = Vec::new();
            let mut found = false;
            let last = path.path.segments.last_mut()?;
            let PathArguments::AngleBracketed(args) = &mut last.arguments else {
                return None;
            };
            for arg in &mut args.args {
                match arg {
                    GenericArgument::Type(t) => match walk(t, ident, generics) {
                        Some((w, s)) => {
                            found = true;
                            written_args.push(quote!(#w));
                            std_args.push(quote!(#s));
                        }
                        None => {
                            written_args.push(quote!(()));
                            std_args.push(quote!(()));
                        }
                    },
                    GenericArgument::Lifetime(_) => {
                        written_args.push(quote!('static));
                        std_args.push(quote!('static));
                    }
                    _ => return None,
                }
            }
            if !found {
                return None;
            }
            let mut written_path = path.path.clone();
            if let Some(seg) = written_path.segments.last_mut() {
                seg.arguments = PathArguments::None;
            }
            let written: Type = syn::parse_quote!(#written_path<#(#written_args),*>);
            let std: Type = syn::parse_quote!(#std_path<#(#std_args),*>);
            Some((written, std))
        }
        Type::Reference(r) => {
            let (w, s) = walk(&mut r.elem, ident, generics)?;
            let mutability = r.mutability;
            Some((
                syn::parse_quote!(&'static #mutability #w),
                syn::parse_quote!(&'static #mutability #s),
            ))
        }
        Type::Slice(sl) => {
            let (w, s) = walk(&mut sl.elem, ident, generics)?;
            Some((syn::parse_quote!([#w]), syn::parse_quote!([#s])))
        }
        Type::Array(a) => {
            let (w, s) = walk(&mut a.elem, ident, generics)?;
            Some((syn::parse_quote!([#w; 1]), syn::parse_quote!([#s; 1])))
        }
        Type::Paren(p) => walk(&mut p.elem, ident, generics),
        Type::Group(g) => walk(&mut g.elem, ident, generics),
        Type::Tuple(t) => {
            let mut found = false;
            let mut ws = Vec::new();
            let mut ss = Vec::new();
            for elem in &mut t.elems {
                match walk(elem, ident, generics) {
                    Some((w, s)) => {
                        found = true;
                        ws.push(w);
                        ss.push(s);
                    }
                    None => {
                        ws.push(unit());
                        ss.push(unit());
                    }
                }
            }
            found.then(|| (syn::parse_quote!((#(#ws,)*)), syn::parse_quote!((#(#ss,)*))))
        }
        _ => None,
    }
}
