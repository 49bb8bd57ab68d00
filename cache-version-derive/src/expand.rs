//! Code generation. Everything sits in `const _: () = { ... };` with the core crate's
//! `__private` module bound once as `_cv`, and names only paths through it, so a caller that
//! shadows `Option`, `Some`, `Box` or `Vec` cannot break it. The expansion is kept short
//! (constructor calls for the common cases, one byte-string token per digest): rustc parses,
//! resolves and hashes it on every build, incremental ones included.
//!
//! The derive's own code is written as text ([`Out`], lexed by rustc once per derive when
//! nothing of the user's sits inside); the user's tokens are spliced in where their spans or
//! hygiene matter (types the derive did not read itself, generics, paths). A field type the
//! derive read as std types and earlier models (`Option<Box<Prev>>`) is written as text: it
//! is identifiers only, which resolve where the derive is written as the field's own tokens
//! do, and errors about it point at the derive instead of the field (it has an impl unless a
//! name was shadowed).

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

use crate::bound;
use crate::model::{Body, FieldIr, FieldKind, Input, Model, Repr, Side, Style, TyIr, VariantIr};
use crate::out::Out;
use crate::prefix::Child;
use crate::template;

pub fn derive(input: &syn::DeriveInput) -> TokenStream {
    match Input::from_syn(input) {
        Ok(model) => expand(&model),
        Err(err) if crate::model::stub_marker(&err) => stub(input, None),
        Err(err) => stub(input, Some(err)),
    }
}

fn krate(o: &mut Out, path: Option<&(Span, syn::Path)>) {
    match path {
        // Spanned on the user's literal, so an unresolved path is reported there.
        Some((span, p)) => {
            o.t(quote_spanned!(*span=> use #p::__private as _cv;));
        }
        None => {
            o.s("use ::cache_version_core::__private as _cv;");
        }
    }
}

/// What the expansion emits besides `impl CacheVersion`.
#[derive(Default)]
struct Extra {
    /// The items of `impl OwnShape` (a type written through a proxy).
    own_items: Option<TokenStream>,
    /// The items of `impl CacheModel`, when the type is a model of its own.
    model_items: Option<TokenStream>,
    /// Compile-time checks.
    checks: TokenStream,
    /// The name of the `const NAME: () = { ... };` block (`_` when `None`).
    block_name: Option<String>,
}

/// The name of the `const NAME: () = { ... };` block around a derived type's impls: rustc's
/// report of a const-evaluation cycle prints every constant it passed by its path,
/// `NAME::<impl at …>::SHAPE`, so this name is how the report names the types in a cycle, and
/// says what to do (at no cost: the block exists anyway). Alone in the report: the type holds
/// itself in a way the derive could not see (a type alias without parameters, a projection in
/// a generic type); with other types: they contain each other.
fn cycle_hint(ident: &str) -> String {
    let name = ident.strip_prefix("r#").unwrap_or(ident);
    format!(
        "{name}__CACHE_VERSION_CYCLE__ALONE_IT_HOLDS_ITSELF_WRITE_Self_FOR_THE_ALIAS_OR_PATH__\
         WITH_OTHER_TYPES_BREAK_ONE_EDGE_WITH_AS_OR_OPAQUE"
    )
}

/// `impl #impl_generics _cv::#tr for #ident #ty_generics #where_clause {`, left open. Without
/// generics all text: the type's name resolves where the derive is written, as its own token
/// does (an item name has no hygiene of its own), and each splice costs a round trip.
fn impl_header(o: &mut Out, input: &syn::DeriveInput, generics: &syn::Generics, tr: &str) {
    o.s("#[automatically_derived] impl");
    if generics.params.is_empty() && generics.where_clause.is_none() {
        o.s(tr).s(" for ").t_ident(&input.ident).s("{");
        return;
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    o.t(impl_generics)
        .s(tr)
        .s(" for ")
        .t(&input.ident)
        .t(ty_generics)
        .t(where_clause)
        .s("{");
}

fn wrap(
    input: &syn::DeriveInput,
    krate_path: Option<&(Span, syn::Path)>,
    generics: &syn::Generics,
    items: impl FnOnce(&mut Out),
    extra: Extra,
    tail: impl FnOnce(&mut Out),
) -> TokenStream {
    let mut o = Out::new();
    o.s(
        "#[doc(hidden)] #[allow(non_upper_case_globals, non_local_definitions, \
         unused_qualifications, deprecated, dead_code, clippy::all)] const ",
    );
    match &extra.block_name {
        Some(name) => o.s(name),
        None => o.s("_"),
    };
    o.s(": () = {");
    krate(&mut o, krate_path);
    // An impl without parameters has no bound that could fail inside it: hiding it from
    // rustc's "the following other types implement trait" list costs no precision.
    if input.generics.params.is_empty() {
        o.s("#[diagnostic::do_not_recommend]");
    }
    impl_header(&mut o, input, generics, " _cv::CacheVersion");
    items(&mut o);
    o.s("}");
    if let Some(items) = extra.own_items {
        impl_header(&mut o, input, generics, " _cv::OwnShape");
        o.t(items).s("}");
    }
    if let Some(items) = extra.model_items {
        impl_header(&mut o, input, generics, " _cv::CacheModel");
        o.t(items).s("}");
    }
    o.t(extra.checks);
    tail(&mut o);
    o.s("};");
    o.finish()
}

/// [`wrap`] around items built elsewhere.
fn wrap_items(
    input: &Input,
    generics: &syn::Generics,
    items: TokenStream,
    extra: Extra,
) -> TokenStream {
    let items = |o: &mut Out| {
        o.t(items);
    };
    wrap(
        input.original,
        input.krate.as_ref(),
        generics,
        items,
        extra,
        |_| {},
    )
}

/// After an error: the error plus an impl, so one typo does not cascade into "trait not
/// implemented" errors at every use of the type.
fn stub(input: &syn::DeriveInput, err: Option<syn::Error>) -> TokenStream {
    let errors = err.map(|e| e.to_compile_error());
    // A model impl too, so that `cache.model::<T>()` adds no error of its own.
    let model_items = quote! {
        fn model_name() -> _cv::Cow<'static, str> {
            _cv::Cow::Borrowed("invalid")
        }
    };
    let extra = Extra {
        model_items: Some(model_items),
        ..Extra::default()
    };
    let items = |o: &mut Out| {
        o.s("const SHAPE: &'static _cv::Shape = &_cv::Shape::Opaque(\"<invalid>\");");
    };
    let imp = wrap(input, None, &input.generics, items, extra, |_| {});
    quote!(#errors #imp)
}

fn expand(input: &Input) -> TokenStream {
    let generics = bound::with_bounds(input);
    let args = model_args(&input.original.generics, &generics);
    let mut checks =
        crate::recursion::check_tokens(input.original, &input.self_checks, input.self_probe);
    if input.with_probe {
        checks.extend(quote!(
            use _cv::WithFallback as _;
        ));
    }
    let mut extra = Extra {
        checks,
        block_name: Some(cycle_hint(&input.original.ident.to_string())),
        ..Extra::default()
    };
    let krate = input.krate.as_ref();
    match &input.model {
        Model::Named(body) => {
            // The model name is `Named::model_name` of the shape: the trait's default.
            extra.model_items = Some(TokenStream::new());
            let digest = template::digest(&template::named(input.bump, body));
            let full = input
                .original
                .generics
                .params
                .is_empty()
                .then(|| crate::prefix::full(&digest, body))
                .flatten();
            match &full {
                Some(full) => {
                    crate::prefix::record(&input.original.ident, full.version);
                    let items = |o: &mut Out| {
                        o.s("const SHAPE: &'static _cv::Shape =");
                        named_shape(o, input, body, &digest, &args, &full.children);
                        o.s("; const VERSION: _cv::Version = __CvHolds::pick_own::<Self>(")
                            .bytes_lit(&full.version)
                            .s(");");
                    };
                    // The check is an item of the block, next to the impls.
                    let tail = |o: &mut Out| {
                        known_check(o, full);
                        o.s("use _cv::NotSame as _;");
                    };
                    wrap(input.original, krate, &generics, items, extra, tail)
                }
                None => {
                    let resumed = crate::prefix::prefix(&digest, body);
                    if resumed.is_some() {
                        extra.checks.extend(quote!(
                            use _cv::NotSame as _;
                        ));
                    }
                    let items = |o: &mut Out| {
                        o.s("const SHAPE: &'static _cv::Shape =");
                        named_shape(o, input, body, &digest, &args, &[]);
                        o.s(";");
                        if let Some(resumed) = resumed {
                            resumed_version(o, resumed);
                        }
                    };
                    wrap(input.original, krate, &generics, items, extra, |_| {})
                }
            }
        }
        Model::Transparent(field) => {
            wrap_items(input, &generics, transparent_items(&field.ty), extra)
        }
        Model::Same(t) => wrap_items(
            input,
            &generics,
            transparent_items(&TyIr::Rust(t.clone())),
            extra,
        ),
        Model::Stated(t) => wrap_items(input, &generics, transparent_items(t), extra),
        Model::Proxy { write, read } => {
            let mut own = None;
            let mut side = |s: &Side| match s {
                Side::Type(t) => {
                    let mut o = Out::new();
                    ty(
                        &mut o,
                        &TyIr::Rust(t.clone()),
                        Span::call_site(),
                        None,
                        None,
                    );
                    o.finish()
                }
                Side::Own(body) => {
                    let digest = template::digest(&template::named(input.bump, body));
                    let mut o = Out::new();
                    o.s("const OWN: &'static _cv::Shape =");
                    named_shape(&mut o, input, body, &digest, &args, &[]);
                    o.s(";");
                    own = Some(o.finish());
                    quote!(_cv::own::<Self>())
                }
            };
            let (w, r) = (side(write), side(read));
            extra.own_items = own;
            let items = |o: &mut Out| {
                o.s("const SHAPE: &'static _cv::Shape = &_cv::Shape::Proxy { write:")
                    .t(w)
                    .s(", read:")
                    .t(r)
                    .s("};");
            };
            wrap(input.original, krate, &generics, items, extra, |_| {})
        }
    }
}

/// The type's generic arguments for its model name (`Named::args`), lifetimes left out: a
/// type parameter by its shape when the impl bounds it with `CacheVersion` (inferred or
/// stated), `_` otherwise; a const parameter by its value.
fn model_args(declared: &syn::Generics, bounded: &syn::Generics) -> Vec<TokenStream> {
    declared
        .params
        .iter()
        .filter_map(|param| match param {
            syn::GenericParam::Lifetime(_) => None,
            syn::GenericParam::Type(p) => {
                let ident = &p.ident;
                Some(if bound::has_cache_version_bound(bounded, ident) {
                    quote!(_cv::ModelArg::of::<#ident>())
                } else {
                    quote!(_cv::ModelArg::Unbound)
                })
            }
            syn::GenericParam::Const(c) => {
                let ident = &c.ident;
                let kind = match &c.ty {
                    syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
                    _ => None,
                };
                Some(match kind.as_deref() {
                    Some("u8" | "u16" | "u32" | "u64" | "u128" | "usize") => {
                        quote!(_cv::ModelArg::Uint(#ident as u128))
                    }
                    Some("i8" | "i16" | "i32" | "i64" | "i128" | "isize") => {
                        quote!(_cv::ModelArg::Int(#ident as i128))
                    }
                    Some("bool") => quote!(_cv::ModelArg::Bool(#ident)),
                    Some("char") => quote!(_cv::ModelArg::Char(#ident)),
                    _ => quote!(_cv::ModelArg::Unbound),
                })
            }
        })
        .collect()
}

/// A type written exactly as another: its shape and version are that type's.
fn transparent_items(t: &TyIr) -> TokenStream {
    match t {
        TyIr::Rust(t) => quote! {
            const SHAPE: &'static _cv::Shape = <#t as _cv::CacheVersion>::SHAPE;
            const VERSION: _cv::Version = <#t as _cv::CacheVersion>::VERSION;
        },
        TyIr::Opaque(path) => quote! {
            const SHAPE: &'static _cv::Shape = &_cv::Shape::Opaque(#path);
        },
        TyIr::With { def, path } => quote! {
            const SHAPE: &'static _cv::Shape =
                match <_cv::WithProbe<#def>>::SHAPE {
                    _cv::Some(shape) => shape,
                    _cv::None => &_cv::Shape::Opaque(#path),
                };
        },
    }
}

/// `type __CvHolds = Holds<{ .. }>`: whether the version the derive computed in full holds
/// (the field types are the std types it took them for, each named type has the version an
/// earlier derive recorded). One anonymous constant for the model: every use of the alias
/// names the same one, so it is checked and evaluated once.
fn known_check(o: &mut Out, full: &crate::prefix::Full) {
    o.s("type __CvHolds = _cv::Holds<{");
    probe(o, &full.probe);
    for (name, v) in &full.named {
        o.s("&& _cv::version_of_is::<")
            .s(name)
            .s(">(")
            .bytes_lit(v)
            .s(")");
    }
    o.s("}>;");
}

/// `<_cv::SameProbe<(as written..), (through __private..)>>::SAME`: whether the field types are
/// the std types the derive took them for. Text: the types are one identifier (and arguments
/// of the same kind) each, resolved where the derive is written as the field's tokens are.
fn probe(o: &mut Out, types: &[crate::prefix::Std]) {
    o.s("<_cv::SameProbe<(");
    for t in types {
        t.write(o, false);
        o.s(",");
    }
    o.s("), (");
    for t in types {
        t.write(o, true);
        o.s(",");
    }
    o.s(")>>::SAME");
}

/// Per child in template order (or none): the type the derive took it for, and a version it
/// computed (see `prefix::Full`).
type Children<'a> = dyn Iterator<Item = Option<&'a Child>> + 'a;

/// `children`: per child in template order, the type the derive took it for and a version it
/// computed (see `prefix::Full`); empty when it did not compute the version.
fn named_shape(
    o: &mut Out,
    input: &Input,
    body: &Body,
    digest: &[u8; 32],
    args: &[TokenStream],
    children: &[Child],
) {
    // An inline constant whose borrows all sit where a borrow's temporary lives as long as
    // the constant (struct literals, braced variant literals, arrays): in a `const` item,
    // borrows inside function arguments are promoted, and rustc's promotion check proves
    // `Freeze` for every call result under every borrow in a fresh inference context (tens
    // of thousands of instructions each); in an inline constant a call is not promotable, so
    // the check stops at once. Callgrind, 40 chained models: promotion took 145 M
    // instructions, 18 M after (serde's own code: 14 M). Tuple variants are written braced
    // (`Named { 0: .. }`) so the borrow inside is extended on every supported rustc.
    o.s("const { &_cv::Shape::Named { 0: &_cv::Named { name:")
        .str_lit(&input.name)
        // One byte-string token instead of 32 literals: the expansion is parsed, resolved
        // and hashed by rustc on every build, so its size is compile time.
        .s(", template: *")
        .bytes_lit(digest)
        .s(", body:");
    let mut known = children.iter().map(Some).chain(std::iter::repeat(None));
    body_tokens(o, body, &mut known);
    o.s(", meta:");
    if input.default || input.deny_unknown_fields {
        o.s("_cv::ContainerMeta { default:")
            .display(input.default)
            .s(", deny_unknown_fields:")
            .display(input.deny_unknown_fields)
            .s("}");
    } else {
        o.s("_cv::ContainerMeta::NONE");
    }
    o.s(", bump:").display(input.bump).s(", args: &[");
    for a in args {
        o.t(a).s(",");
    }
    o.s("], }, } }");
}

/// `VERSION` resumed from blocks hashed here (see `prefix.rs`) when the leading children are
/// std types. The `bool` is the compiler's answer to "are the field types the std types the
/// derive took them for?".
fn resumed_version(o: &mut Out, prefix: crate::prefix::Prefix) {
    let crate::prefix::Prefix { children, std, cv } = prefix;
    o.s("const VERSION: _cv::Version = _cv::version_resumed(Self::SHAPE,");
    probe(o, &std);
    o.s(",").display(children).s(",").bytes_lit(&cv).s(");");
}

/// Known children versions (used through `__CvHolds`) are taken from `known` in template order.
fn body_tokens(o: &mut Out, body: &Body, known: &mut Children) {
    match body {
        Body::Unit => {
            o.s("_cv::Body::UnitStruct");
        }
        Body::Newtype(f) => {
            o.s("_cv::Body::NewtypeStruct(");
            ty(o, &f.ty, f.span, f.hint, known.next().flatten());
            o.s(")");
        }
        Body::Tuple(fields) => {
            o.s("_cv::Body::TupleStruct { 0: &[");
            for f in fields {
                field_tokens(o, f, known);
                o.s(",");
            }
            o.s("] }");
        }
        Body::Struct { tag, fields } => {
            o.s("_cv::Body::Struct { tag:");
            match tag {
                Some((tag, name)) => {
                    o.s("_cv::Some(_cv::StructTag { tag:")
                        .str_lit(tag)
                        .s(", name:")
                        .str_lit(name)
                        .s("})");
                }
                None => {
                    o.s("_cv::None");
                }
            }
            o.s(", fields: &[");
            for f in fields {
                field_tokens(o, f, known);
                o.s(",");
            }
            o.s("] }");
        }
        Body::Enum { repr, variants } => {
            o.s("_cv::Body::Enum { repr:");
            match repr {
                Repr::External => o.s("_cv::EnumRepr::External"),
                Repr::Internal(tag) => o.s("_cv::EnumRepr::Internal { tag:").str_lit(tag).s("}"),
                Repr::Adjacent(tag, content) => o
                    .s("_cv::EnumRepr::Adjacent { tag:")
                    .str_lit(tag)
                    .s(", content:")
                    .str_lit(content)
                    .s("}"),
                Repr::Untagged => o.s("_cv::EnumRepr::Untagged"),
            };
            o.s(", variants: &[");
            for v in variants {
                variant_tokens(o, v, known);
                o.s(",");
            }
            o.s("] }");
        }
    }
}

/// `known`: the version the derive computed for a std structure around a named type, used
/// when the compiler confirms it (`__CvHolds`).
fn ty(o: &mut Out, ty: &TyIr, span: Span, hint: Option<&str>, child: Option<&Child>) {
    match ty {
        TyIr::Rust(t) => match (hint, child) {
            (None, Some(Child { ty, known: Some(v) })) => {
                o.s("__CvHolds::ty::<");
                ty.write(o, false);
                o.s(">(").bytes_lit(v).s(")");
            }
            (None, Some(Child { ty, known: None })) => {
                o.s("_cv::Ty::of::<");
                ty.write(o, false);
                o.s(">()");
            }
            // A well-known crate's type: a missing impl names the feature that provides it.
            (Some(feature), _) => {
                let feature = syn::Ident::new(feature, span);
                o.t(quote_spanned!(span=> _cv::features::#feature::ty::<#t>()));
            }
            (None, None) => {
                o.s("_cv::Ty::of::<").t(t).s(">()");
            }
        },
        TyIr::With { def, path } => {
            o.t(quote_spanned! {span=>
                _cv::with_or_opaque(
                    <_cv::WithProbe<#def>>::TY,
                    {
                        fn opaque() -> &'static _cv::Shape {
                            &_cv::Shape::Opaque(#path)
                        }
                        opaque
                    },
                    #path,
                )
            });
        }
        TyIr::Opaque(path) => {
            o.s("_cv::Ty { shape_fn: { fn opaque() -> &'static _cv::Shape { &_cv::Shape::Opaque(")
                .str_lit(path)
                .s(") } opaque }, version: _cv::Version::of(&_cv::Shape::Opaque(")
                .str_lit(path)
                .s(")), }");
        }
    }
}

fn field_tokens(o: &mut Out, f: &FieldIr, known: &mut Children) {
    let child = known.next().flatten();
    let FieldIr {
        name,
        de_name,
        bump,
        default,
        aliases,
        skip_deserializing,
        ..
    } = f;
    let plain = name == de_name
        && f.kind == FieldKind::Always
        && *bump == 0
        && !default
        && aliases.is_empty()
        && !skip_deserializing
        && !f.with_unstated;
    if let (true, TyIr::Rust(t)) = (plain, &f.ty) {
        // Most fields: a short constructor call.
        match (child, f.hint) {
            (Some(Child { ty, known: Some(v) }), None) => {
                o.s("__CvHolds::field::<");
                ty.write(o, false);
                o.s(">(").str_lit(name).s(",").bytes_lit(v).s(")");
                return;
            }
            (Some(Child { ty, known: None }), None) => {
                o.s("_cv::field::<");
                ty.write(o, false);
                o.s(">(").str_lit(name).s(")");
                return;
            }
            _ => {}
        }
        match f.hint {
            Some(feature) => {
                let feature = syn::Ident::new(feature, f.span);
                o.t(quote_spanned!(f.span=> _cv::features::#feature::field::<#t>(#name)));
            }
            None => {
                o.s("_cv::field::<").t(t).s(">(").str_lit(name).s(")");
            }
        }
        return;
    }
    let kind = match f.kind {
        FieldKind::Always => "Always",
        FieldKind::MaybeAbsent => "MaybeAbsent",
        FieldKind::Flatten => "Flatten",
        FieldKind::FlattenMaybeAbsent => "FlattenMaybeAbsent",
    };
    o.s("_cv::Field { name:")
        .str_lit(name)
        .s(", de_name:")
        .str_lit(de_name)
        .s(", kind: _cv::FieldKind::")
        .s(kind)
        .s(", ty:");
    ty(o, &f.ty, f.span, f.hint, child);
    o.s(", bump:")
        .display(bump)
        .s(", meta: _cv::FieldMeta { default:")
        .display(default)
        .s(", aliases: &[");
    for a in aliases {
        o.str_lit(a).s(",");
    }
    o.s("], skip_deserializing:")
        .display(skip_deserializing)
        .s(", with_unstated:");
    match (&f.ty, f.with_unstated) {
        (_, false) => o.s("false"),
        // A remote definition with an impl is not opaque: only the fallback is unstated.
        (TyIr::With { def, .. }, true) => o.s("<_cv::WithProbe<").t(def).s(">>::TY.is_none()"),
        (_, true) => o.s("true"),
    };
    o.s(", }, }");
}

fn variant_tokens(o: &mut Out, v: &VariantIr, known: &mut Children) {
    let VariantIr {
        name,
        de_name,
        untagged,
        bump,
        aliases,
        other,
        skip_deserializing,
        ..
    } = v;
    let style = match v.style {
        Style::Unit => "Unit",
        Style::Newtype => "Newtype",
        Style::Tuple => "Tuple",
        Style::Struct => "Struct",
        Style::Skipped => "Skipped",
    };
    let plain = name == de_name
        && !untagged
        && *bump == 0
        && aliases.is_empty()
        && !other
        && !skip_deserializing;
    o.s("_cv::Variant { name:")
        .str_lit(name)
        .s(", de_name:")
        .str_lit(de_name)
        .s(", style: _cv::VariantStyle::")
        .s(style)
        .s(", untagged:")
        .display(untagged)
        .s(", fields: &[");
    for f in &v.fields {
        field_tokens(o, f, known);
        o.s(",");
    }
    o.s("], bump:").display(bump).s(", meta:");
    if plain {
        o.s("_cv::VariantMeta::NONE");
    } else {
        o.s("_cv::VariantMeta { aliases: &[");
        for a in aliases {
            o.str_lit(a).s(",");
        }
        o.s("], other:")
            .display(other)
            .s(", skip_deserializing:")
            .display(skip_deserializing)
            .s(", }");
    }
    o.s(", }");
}
