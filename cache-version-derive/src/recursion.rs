//! Direct self-recursion: inside its own definition a type is replaced by a back reference.
//!
//! `struct Node { children: Vec<Node> }` would make `Node::SHAPE` depend on itself, a cycle
//! in const evaluation. Every occurrence of `Self`, or of the type's own name with exactly its
//! own generic parameters (`Node`, `Tree<T>`, `List<'a, T>`), is replaced by
//! `__private::SelfRef`, whose shape is the `self` leaf. The type's version still covers its
//! whole shape: the only thing not repeated is the type itself.
//!
//! Mutual recursion (A holds B, B holds A) cannot be seen from one derive: it stays a cycle,
//! which the compiler reports as an error (see docs/attributes.md for what to write instead).

use syn::{GenericArgument, GenericParam, PathArguments, Type};

/// Returns `ty` with every reference to the type being derived replaced by `SelfRef`.
pub fn replace_self(ty: &Type, ident: &syn::Ident, input: &syn::DeriveInput) -> Type {
    let mut ty = ty.clone();
    walk(&mut ty, ident, &input.generics);
    ty
}

fn self_ref() -> Type {
    syn::parse_quote!(_cv::__private::SelfRef)
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

fn walk(ty: &mut Type, ident: &syn::Ident, generics: &syn::Generics) {
    match ty {
        Type::Path(path) => {
            if is_self(path, ident, generics) {
                *ty = self_ref();
                return;
            }
            if let Some(q) = &mut path.qself {
                walk(&mut q.ty, ident, generics);
            }
            for seg in &mut path.path.segments {
                if let PathArguments::AngleBracketed(args) = &mut seg.arguments {
                    for arg in &mut args.args {
                        if let GenericArgument::Type(t) = arg {
                            walk(t, ident, generics);
                        }
                    }
                }
            }
        }
        Type::Reference(r) => walk(&mut r.elem, ident, generics),
        Type::Slice(s) => walk(&mut s.elem, ident, generics),
        Type::Array(a) => walk(&mut a.elem, ident, generics),
        Type::Ptr(p) => walk(&mut p.elem, ident, generics),
        Type::Paren(p) => walk(&mut p.elem, ident, generics),
        Type::Group(g) => walk(&mut g.elem, ident, generics),
        Type::Tuple(t) => {
            for elem in &mut t.elems {
                walk(elem, ident, generics);
            }
        }
        _ => {}
    }
}
