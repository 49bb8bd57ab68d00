//! Direct self-recursion: inside its own definition a type is replaced by a back reference.
//!
//! `struct Node { children: Vec<Node> }` would make `Node::SHAPE` depend on itself, a cycle
//! in const evaluation. An occurrence of `Self`, or of the type's own name with exactly its
//! own generic parameters (`Node`, `Tree<T>`, `List<'a, T>`), anywhere in a field's type
//! (`Vec<Self>`, `StdOption<StdBox<Node>>` through an alias, `Page<Self>`), is replaced by
//! `__private::SelfRef`, whose shape is the `self` leaf: "the innermost enclosing named type".
//!
//! That reading is only right when nothing named stands between the occurrence and the type
//! itself, so for each occurrence the expansion asserts that the path to it goes through std's
//! structural and transparent wrappers only (`__private::SelfRefPath`, implemented for
//! `Option`, `Vec`, `Box`, maps, sets, tuples, arrays, references, …). The assertion is a
//! trait bound, so the compiler sees through type aliases and full paths; inside any other
//! generic type (`Page<Self>`) it fails with a message that says so, never a version that
//! means something else.
//!
//! Where the tokens cannot tell whether a type is the type itself (a projection
//! `<Self as Trait>::Assoc`, a qualified path such as `crate::Node`), a type without generic
//! parameters gets `__private::MaybeSelf<T, IS_SELF>`, where `IS_SELF` is answered by the
//! compiler through a local probe type with an inherent constant for the type itself. A
//! generic type cannot ask (a const argument cannot depend on generic parameters); there such
//! a field that is the type itself remains a cycle, reported by rustc.
//!
//! Mutual recursion (A holds B, B holds A) cannot be seen from one derive: it stays a cycle,
//! which the compiler reports (see docs/attributes.md for what to write instead).

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::{GenericArgument, GenericParam, PathArguments, Type};

/// One self reference to check: the path from the field's type to it, every other type
/// argument replaced by `()`.
pub struct SelfCheck {
    pub skeleton: Type,
    /// For a `MaybeSelf`: the type that may be the type itself (the check applies if it is).
    pub maybe: Option<Type>,
    pub span: Span,
}

/// A field type after replacement, with the checks of the paths to its self references.
pub struct Replaced {
    pub ty: Type,
    pub checks: Vec<SelfCheck>,
    /// The type now names the local probe (`MaybeSelf`).
    pub uses_probe: bool,
}

struct Cx<'a> {
    ident: &'a syn::Ident,
    generics: &'a syn::Generics,
    /// No generic parameters at all: the probe can be asked.
    concrete: bool,
}

/// Returns `ty` with every reference to the type being derived replaced by `SelfRef` (or
/// `MaybeSelf`), and the checks that make the replacement sound (see the module docs).
pub fn replace_self(ty: &Type, ident: &syn::Ident, input: &syn::DeriveInput) -> Replaced {
    let cx = Cx {
        ident,
        generics: &input.generics,
        concrete: input.generics.params.is_empty(),
    };
    let mut ty = ty.clone();
    zero_length_arrays(&mut ty);
    // The span of the type as written, for the checks only: `Spanned::span` prints the type
    // to tokens, which a macro pays for across the proc-macro bridge, token by token.
    let written = ty.clone();
    let occurrences = walk(&mut ty, &cx);
    let uses_probe = occurrences.iter().any(|o| o.maybe.is_some());
    let mut span = None;
    let checks = occurrences
        .into_iter()
        // A bare `Self` needs no check.
        .filter(|o| !is_self_ref(&o.skeleton))
        .map(|o| SelfCheck {
            skeleton: o.skeleton,
            maybe: o.maybe,
            span: *span.get_or_insert_with(|| crate::model::type_span(&written)),
        })
        .collect();
    Replaced {
        ty,
        checks,
        uses_probe,
    }
}

/// The local items the checks and `MaybeSelf` need (a probe type answering "is this the type
/// itself?"), and a function that is never called whose body is the assertions.
pub fn check_tokens(input: &syn::DeriveInput, checks: &[SelfCheck], probe: bool) -> TokenStream {
    let ident = &input.ident;
    let probe_items = probe.then(|| {
        quote! {
            struct __SelfProbe<T: ?Sized>(_cv::PhantomData<T>);
            impl __SelfProbe<#ident> {
                const IS_SELF: bool = true;
            }
            impl<T: ?Sized> _cv::NotSelf for __SelfProbe<T> {}
            use _cv::NotSelf as _;
        }
    });
    let calls = checks.iter().map(|c| {
        // Spanned on the field's type, so a failed check points at the field.
        let skeleton = respan(c.skeleton.to_token_stream(), c.span);
        match &c.maybe {
            None => quote_spanned!(c.span=> _cv::self_ref_path::<#skeleton>();),
            Some(t) => quote_spanned! {c.span=>
                _cv::self_ref_path_if::<
                    _cv::CheckIf<{ __SelfProbe::<#t>::IS_SELF }, #skeleton>
                >();
            },
        }
    });
    let checks_fn = (!checks.is_empty()).then(|| {
        quote! {
            fn __cache_version_self_reference_checks() {
                #(#calls)*
            }
        }
    });
    quote!(#probe_items #checks_fn)
}

fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let TokenTree::Group(g) = &tt {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                tt = TokenTree::Group(group);
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}

fn self_ref() -> Type {
    syn::parse_quote!(_cv::SelfRef)
}

fn is_self_ref(ty: &Type) -> bool {
    ty.to_token_stream().to_string() == self_ref().to_token_stream().to_string()
}

fn unit() -> Type {
    syn::parse_quote!(())
}

/// `Self`, or the type's own name with exactly its own generic parameters.
fn is_self(path: &syn::TypePath, cx: &Cx) -> bool {
    if path.qself.is_some() || path.path.leading_colon.is_some() || path.path.segments.len() != 1 {
        return false;
    }
    let seg = &path.path.segments[0];
    if seg.ident == "Self" {
        return matches!(seg.arguments, PathArguments::None);
    }
    seg.ident == *cx.ident && own_arguments(&seg.arguments, cx.generics)
}

fn own_arguments(arguments: &PathArguments, generics: &syn::Generics) -> bool {
    let params: Vec<&GenericParam> = generics.params.iter().collect();
    match arguments {
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

/// A type that may be the type itself, which the tokens cannot tell: a projection on it
/// (`<Self as Trait>::Assoc`) or a qualified path ending in its name (`crate::Node`).
fn maybe_self(path: &syn::TypePath, cx: &Cx) -> bool {
    if let Some(q) = &path.qself {
        return matches!(&*q.ty, Type::Path(p) if is_self(p, cx));
    }
    let segs = &path.path.segments;
    (segs.len() > 1 || path.path.leading_colon.is_some())
        && segs.last().is_some_and(|s| s.ident == *cx.ident)
        && own_arguments(&segs.last().expect("checked").arguments, cx.generics)
}

/// `ty` with `Self` written as the type's name (a const argument cannot name `Self`).
fn without_self(ty: &Type, ident: &syn::Ident) -> Type {
    fn replace(tokens: TokenStream, ident: &syn::Ident) -> TokenStream {
        tokens
            .into_iter()
            .map(|tt| match tt {
                TokenTree::Ident(i) if i == "Self" => TokenTree::Ident(ident.clone()),
                TokenTree::Group(g) => {
                    let mut out =
                        proc_macro2::Group::new(g.delimiter(), replace(g.stream(), ident));
                    out.set_span(g.span());
                    TokenTree::Group(out)
                }
                tt => tt,
            })
            .collect()
    }
    syn::parse2(replace(ty.to_token_stream(), ident)).unwrap_or_else(|_| ty.clone())
}

/// One self reference inside a type: the type's skeleton on the path to it.
struct Occurrence {
    skeleton: Type,
    maybe: Option<Type>,
}

fn walk(ty: &mut Type, cx: &Cx) -> Vec<Occurrence> {
    match ty {
        Type::Path(path) => {
            if is_self(path, cx) {
                *ty = self_ref();
                return vec![Occurrence {
                    skeleton: self_ref(),
                    maybe: None,
                }];
            }
            if cx.concrete && maybe_self(path, cx) {
                let named = without_self(ty, cx.ident);
                *ty = syn::parse_quote! {
                    _cv::MaybeSelf<#named, { __SelfProbe::<#named>::IS_SELF }>
                };
                return vec![Occurrence {
                    skeleton: self_ref(),
                    maybe: Some(named),
                }];
            }
            if path.qself.is_some() {
                return Vec::new();
            }
            let mut skeleton_path = path.path.clone();
            if let Some(seg) = skeleton_path.segments.last_mut() {
                seg.arguments = PathArguments::None;
            }
            let Some(last) = path.path.segments.last_mut() else {
                return Vec::new();
            };
            let PathArguments::AngleBracketed(args) = &mut last.arguments else {
                return Vec::new();
            };
            // Every type argument may hold a self reference: aliases and wrappers of the
            // user's own are walked like std's, the check tells them apart.
            let found: Vec<(usize, Vec<Occurrence>)> = args
                .args
                .iter_mut()
                .enumerate()
                .filter_map(|(i, arg)| match arg {
                    GenericArgument::Type(t) => Some((i, walk(t, cx))),
                    _ => None,
                })
                .filter(|(_, occ)| !occ.is_empty())
                .collect();
            if found.is_empty() {
                return Vec::new();
            }
            let mut out = Vec::new();
            for (i, occurrences) in found {
                for occ in occurrences {
                    let skeleton_args = args.args.iter().enumerate().map(|(j, arg)| match arg {
                        GenericArgument::Type(_) if j == i => occ.skeleton.to_token_stream(),
                        GenericArgument::Type(_) => unit().to_token_stream(),
                        GenericArgument::Lifetime(_) => quote!('static),
                        // A const argument may name the type's parameters, which the check
                        // function does not have: only literals are kept.
                        GenericArgument::Const(syn::Expr::Lit(l)) => l.to_token_stream(),
                        _ => quote!(0),
                    });
                    out.push(Occurrence {
                        skeleton: syn::parse_quote!(#skeleton_path<#(#skeleton_args),*>),
                        maybe: occ.maybe,
                    });
                }
            }
            out
        }
        Type::Reference(r) => {
            let mutability = r.mutability;
            walk(&mut r.elem, cx)
                .into_iter()
                .map(|o| {
                    let s = o.skeleton;
                    Occurrence {
                        skeleton: syn::parse_quote!(&'static #mutability #s),
                        maybe: o.maybe,
                    }
                })
                .collect()
        }
        Type::Slice(sl) => walk(&mut sl.elem, cx)
            .into_iter()
            .map(|o| {
                let s = o.skeleton;
                Occurrence {
                    skeleton: syn::parse_quote!([#s]),
                    maybe: o.maybe,
                }
            })
            .collect(),
        Type::Array(a) => {
            // `[T; 0]` writes nothing of `T`: no reference to check (see `zero_length`).
            if is_zero_length(a) {
                return Vec::new();
            }
            walk(&mut a.elem, cx)
                .into_iter()
                .map(|o| {
                    let s = o.skeleton;
                    Occurrence {
                        skeleton: syn::parse_quote!([#s; 1]),
                        maybe: o.maybe,
                    }
                })
                .collect()
        }
        Type::Paren(p) => walk(&mut p.elem, cx),
        Type::Group(g) => walk(&mut g.elem, cx),
        Type::Tuple(t) => {
            let n = t.elems.len();
            let mut out = Vec::new();
            for i in 0..n {
                for o in walk(&mut t.elems[i], cx) {
                    let elems = (0..n).map(|j| {
                        if j == i {
                            o.skeleton.to_token_stream()
                        } else {
                            unit().to_token_stream()
                        }
                    });
                    out.push(Occurrence {
                        skeleton: syn::parse_quote!((#(#elems,)*)),
                        maybe: o.maybe,
                    });
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

/// `[T; 0]` with a literal zero length.
pub fn is_zero_length(a: &syn::TypeArray) -> bool {
    matches!(&a.len, syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(n), .. })
        if n.base10_parse::<u64>().ok() == Some(0))
}

/// Rewrites every `[T; 0]` in `ty` as `[(); 0]`: serde writes an empty array as an empty
/// tuple whatever `T` is (it needs nothing of `T`), and so does the shape (`tuple<>`), so `T`
/// needs no impl and no bound.
pub fn zero_length_arrays(ty: &mut Type) {
    match ty {
        Type::Array(a) if is_zero_length(a) => *a.elem = unit(),
        Type::Array(a) => zero_length_arrays(&mut a.elem),
        Type::Path(p) => {
            if let Some(q) = &mut p.qself {
                zero_length_arrays(&mut q.ty);
            }
            for seg in &mut p.path.segments {
                if let PathArguments::AngleBracketed(args) = &mut seg.arguments {
                    for arg in &mut args.args {
                        if let GenericArgument::Type(t) = arg {
                            zero_length_arrays(t);
                        }
                    }
                }
            }
        }
        Type::Reference(r) => zero_length_arrays(&mut r.elem),
        Type::Slice(s) => zero_length_arrays(&mut s.elem),
        Type::Paren(p) => zero_length_arrays(&mut p.elem),
        Type::Group(g) => zero_length_arrays(&mut g.elem),
        Type::Tuple(t) => t.elems.iter_mut().for_each(zero_length_arrays),
        _ => {}
    }
}
