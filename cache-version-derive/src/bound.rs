//! Bounds: `T: CacheVersion` for every type parameter that reaches a serialized field, and
//! `T::Assoc: CacheVersion` for associated types, like serde's `bound.rs`. None for
//! `PhantomData<T>` (however the path is written), `[T; 0]`, skipped fields, `opaque` fields
//! or fields written by `with` code. `#[cache_version(bound = "...")]` on the type replaces
//! the inference; on a field it replaces the inference for that field.
//!
//! `#[serde(bound = "...")]` (its serialize side) is honoured too: it says which types serde
//! needs to serialize, so an inferred bound is kept only when its type names a type parameter
//! that serde's bound names. `#[serde(bound = "")]` therefore infers nothing, which is what a
//! type whose parameter reaches only a `PhantomData` through a type alias (invisible to any
//! derive) needs.

use std::collections::BTreeSet;

use syn::{GenericArgument, PathArguments, Type};

use crate::model::{Body, FieldIr, Input, Model, Side, TyIr};

pub fn with_bounds(input: &Input) -> syn::Generics {
    let mut generics = input.original.generics.clone();
    let params: BTreeSet<String> = generics
        .type_params()
        .map(|p| p.ident.to_string())
        .collect();
    let mut predicates: Vec<syn::WherePredicate> = Vec::new();
    if let Some(bound) = &input.bound {
        predicates.extend(bound.iter().cloned());
    } else {
        let mut bounded: Vec<Type> = Vec::new();
        let mut fields: Vec<&FieldIr> = Vec::new();
        let mut types: Vec<&Type> = Vec::new();
        match &input.model {
            Model::Named(body) => collect_body(body, &mut fields),
            Model::Transparent(f) => fields.push(f),
            Model::Same(t) | Model::Stated(TyIr::Rust(t)) => types.push(t),
            Model::Stated(_) => {}
            Model::Proxy { write, read } => {
                for side in [write, read] {
                    match side {
                        Side::Own(body) => collect_body(body, &mut fields),
                        Side::Type(t) => types.push(t),
                    }
                }
            }
        }
        for t in types {
            used(t, &params, &mut bounded);
        }
        for f in fields {
            if let Some(b) = &f.bound {
                predicates.extend(b.iter().cloned());
            } else if let TyIr::Rust(t) = &f.ty {
                let mut own = Vec::new();
                used(t, &params, &mut own);
                if let Some(serde) = &f.serde_bound {
                    let allowed = named_params(serde, &params);
                    own.retain(|t| mentions(t, &allowed));
                }
                bounded.extend(own);
            }
        }
        if let Some(serde) = &input.serde_bound {
            let allowed = named_params(serde, &params);
            bounded.retain(|t| mentions(t, &allowed));
        }
        let mut seen = BTreeSet::new();
        for t in bounded {
            let key = quote::ToTokens::to_token_stream(&t).to_string();
            if seen.insert(key) {
                predicates.push(syn::parse_quote!(#t: _cv::CacheVersion));
            }
        }
    }
    if !predicates.is_empty() {
        generics.make_where_clause().predicates.extend(predicates);
    }
    generics
}

/// The type parameters that the bounded types of `predicates` name.
fn named_params(predicates: &[syn::WherePredicate], params: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for p in predicates {
        if let syn::WherePredicate::Type(pt) = p {
            idents(quote::ToTokens::to_token_stream(&pt.bounded_ty), &mut |i| {
                if params.contains(&i) {
                    out.insert(i);
                }
            });
        }
    }
    out
}

/// Whether `ty` names one of `params`.
fn mentions(ty: &Type, params: &BTreeSet<String>) -> bool {
    let mut found = false;
    idents(quote::ToTokens::to_token_stream(ty), &mut |i| {
        found |= params.contains(&i);
    });
    found
}

fn idents(tokens: proc_macro2::TokenStream, f: &mut impl FnMut(String)) {
    for tt in tokens {
        match tt {
            proc_macro2::TokenTree::Ident(i) => f(i.to_string()),
            proc_macro2::TokenTree::Group(g) => idents(g.stream(), f),
            _ => {}
        }
    }
}

fn collect_body<'a>(body: &'a Body, out: &mut Vec<&'a FieldIr>) {
    match body {
        Body::Unit => {}
        Body::Newtype(f) => out.push(f),
        Body::Tuple(fields) | Body::Struct { fields, .. } => out.extend(fields),
        Body::Enum { variants, .. } => {
            for v in variants {
                out.extend(&v.fields);
            }
        }
    }
}

/// Collects the types that need a bound: type parameters and `T::Assoc` projections.
fn used(ty: &Type, params: &BTreeSet<String>, out: &mut Vec<Type>) {
    match ty {
        Type::Path(p) => {
            if let Some(q) = &p.qself {
                // `<T as Trait>::Assoc`: bound the projection itself.
                let mut inner = Vec::new();
                used(&q.ty, params, &mut inner);
                if !inner.is_empty() {
                    out.push(ty.clone());
                }
                return;
            }
            let segs = &p.path.segments;
            if p.path.leading_colon.is_none() && params.contains(&segs[0].ident.to_string()) {
                // `T` or `T::Assoc`: bound the type as written.
                out.push(ty.clone());
                return;
            }
            let last = segs.last().expect("a path has a segment");
            if last.ident == "PhantomData" {
                return;
            }
            for seg in segs {
                if let PathArguments::AngleBracketed(args) = &seg.arguments {
                    for arg in &args.args {
                        if let GenericArgument::Type(t) = arg {
                            used(t, params, out);
                        }
                    }
                }
            }
        }
        Type::Reference(r) => used(&r.elem, params, out),
        Type::Slice(s) => used(&s.elem, params, out),
        Type::Array(a) => used(&a.elem, params, out),
        Type::Ptr(p) => used(&p.elem, params, out),
        Type::Paren(p) => used(&p.elem, params, out),
        Type::Group(g) => used(&g.elem, params, out),
        Type::Tuple(t) => {
            for e in &t.elems {
                used(e, params, out);
            }
        }
        _ => {}
    }
}

/// Whether `generics` (the impl's, bounds included) bound the type parameter `param` itself
/// with a trait named `CacheVersion`, inline or in the where clause.
pub fn has_cache_version_bound(generics: &syn::Generics, param: &syn::Ident) -> bool {
    let names_cache_version = |b: &syn::TypeParamBound| match b {
        syn::TypeParamBound::Trait(t) => t
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "CacheVersion"),
        _ => false,
    };
    let inline = generics
        .type_params()
        .any(|p| p.ident == *param && p.bounds.iter().any(names_cache_version));
    let in_where = generics.where_clause.iter().any(|w| {
        w.predicates.iter().any(|pred| match pred {
            syn::WherePredicate::Type(pt) => {
                matches!(&pt.bounded_ty, Type::Path(p) if p.qself.is_none() && p.path.is_ident(param))
                    && pt.bounds.iter().any(names_cache_version)
            }
            _ => false,
        })
    });
    inline || in_where
}
