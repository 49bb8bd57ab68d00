//! Code generation. Everything sits in `const _: () = { ... };` with the core crate's
//! `__private` module bound once as `_cv`, and names only paths through it, so a caller that
//! shadows `Option`, `Some`, `Box` or `Vec` cannot break it. The expansion is kept short
//! (constructor calls for the common cases, one byte-string token per digest): rustc parses,
//! resolves and hashes it on every build, incremental ones included.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

use crate::bound;
use crate::model::{Body, FieldIr, FieldKind, Input, Model, Repr, Side, Style, TyIr, VariantIr};
use crate::template;

pub fn derive(input: &syn::DeriveInput) -> TokenStream {
    match Input::from_syn(input) {
        Ok(model) => expand(&model),
        Err(err) if crate::model::stub_marker(&err) => stub(input, None),
        Err(err) => stub(input, Some(err)),
    }
}

fn krate(path: Option<&(Span, syn::Path)>) -> TokenStream {
    match path {
        // Spanned on the user's literal, so an unresolved path is reported there.
        Some((span, p)) => quote_spanned!(*span=> use #p::__private as _cv;),
        None => quote!(
            use ::cache_version_core::__private as _cv;
        ),
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
    block_name: Option<syn::Ident>,
}

/// The name of the `const NAME: () = { ... };` block around a derived type's impls: rustc's
/// report of a const-evaluation cycle prints every constant it passed by its path,
/// `NAME::<impl at …>::SHAPE`, so this name is how the report names the types in a cycle, and
/// says what to do (at no cost: the block exists anyway). Alone in the report: the type holds
/// itself in a way the derive could not see (a type alias without parameters, a projection in
/// a generic type); with other types: they contain each other.
fn cycle_hint(ident: &syn::Ident) -> syn::Ident {
    let name = ident.to_string();
    let name = name.strip_prefix("r#").unwrap_or(&name);
    syn::Ident::new(
        &format!(
            "{name}__CACHE_VERSION_CYCLE__ALONE_IT_HOLDS_ITSELF_WRITE_Self_FOR_THE_ALIAS_OR_PATH__\
             WITH_OTHER_TYPES_BREAK_ONE_EDGE_WITH_AS_OR_OPAQUE"
        ),
        ident.span(),
    )
}

fn wrap(
    input: &syn::DeriveInput,
    krate: TokenStream,
    generics: &syn::Generics,
    items: TokenStream,
    extra: Extra,
) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    // An impl without parameters has no bound that could fail inside it: hiding it from
    // rustc's "the following other types implement trait" list costs no precision.
    let not_recommended = input
        .generics
        .params
        .is_empty()
        .then(|| quote!(#[diagnostic::do_not_recommend]));
    let own = extra.own_items.map(|items| {
        quote! {
            #[automatically_derived]
            impl #impl_generics _cv::OwnShape for #ident #ty_generics #where_clause {
                #items
            }
        }
    });
    let model = extra.model_items.map(|items| {
        quote! {
            #[automatically_derived]
            impl #impl_generics _cv::CacheModel for #ident #ty_generics #where_clause {
                #items
            }
        }
    });
    let checks = extra.checks;
    let block = match extra.block_name {
        Some(name) => quote!(#name),
        None => quote!(_),
    };
    quote! {
        #[doc(hidden)]
        #[allow(
            non_upper_case_globals,
            non_local_definitions,
            unused_qualifications,
            deprecated,
            dead_code,
            clippy::all
        )]
        const #block: () = {
            #krate
            #[automatically_derived]
            #not_recommended
            impl #impl_generics _cv::CacheVersion for #ident #ty_generics #where_clause {
                #items
            }
            #own
            #model
            #checks
        };
    }
}

/// After an error: the error plus an impl, so one typo does not cascade into "trait not
/// implemented" errors at every use of the type.
fn stub(input: &syn::DeriveInput, err: Option<syn::Error>) -> TokenStream {
    let errors = err.map(|e| e.to_compile_error());
    let krate = krate(None);
    let items = quote! {
        const SHAPE: &'static _cv::Shape = &_cv::Shape::Opaque("<invalid>");
    };
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
    let imp = wrap(input, krate, &input.generics, items, extra);
    quote!(#errors #imp)
}

fn expand(input: &Input) -> TokenStream {
    let krate = krate(input.krate.as_ref());
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
        block_name: Some(cycle_hint(&input.original.ident)),
        ..Extra::default()
    };
    let items = match &input.model {
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
            let (shape, version) = match &full {
                Some(full) => {
                    crate::prefix::record(&input.original.ident, full.version);
                    extra.checks.extend(known_check(full));
                    let shape = named_shape(input, body, &digest, &args, &full.children);
                    let v = proc_macro2::Literal::byte_string(&full.version);
                    let version = quote! {
                        const VERSION: _cv::Version = __CvHolds::pick_own::<Self>(#v);
                    };
                    (shape, Some(version))
                }
                None => (
                    named_shape(input, body, &digest, &args, &[]),
                    resumed_version(&digest, body),
                ),
            };
            if version.is_some() {
                extra.checks.extend(quote!(
                    use _cv::NotSame as _;
                ));
            }
            quote!(const SHAPE: &'static _cv::Shape = #shape; #version)
        }
        Model::Transparent(field) => transparent_items(&field.ty),
        Model::Same(t) => transparent_items(&TyIr::Rust(t.clone())),
        Model::Stated(t) => transparent_items(t),
        Model::Proxy { write, read } => {
            let mut own = None;
            let mut side = |s: &Side| match s {
                Side::Type(t) => ty(&TyIr::Rust(t.clone()), Span::call_site(), None, None),
                Side::Own(body) => {
                    let digest = template::digest(&template::named(input.bump, body));
                    own = Some(named_shape(input, body, &digest, &args, &[]));
                    quote!(_cv::own::<Self>())
                }
            };
            let (w, r) = (side(write), side(read));
            extra.own_items = own.map(|own| quote!(const OWN: &'static _cv::Shape = #own;));
            quote! {
                const SHAPE: &'static _cv::Shape =
                    &_cv::Shape::Proxy { write: #w, read: #r };
            }
        }
    };
    wrap(input.original, krate, &generics, items, extra)
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
fn known_check(full: &crate::prefix::Full) -> TokenStream {
    let crate::prefix::Full {
        types, std, named, ..
    } = full;
    // Spanned on the field's type, like the field's own use of the impl.
    let named = named.iter().map(|(t, v)| {
        let v = proc_macro2::Literal::byte_string(v);
        let span = syn::spanned::Spanned::span(t);
        quote_spanned!(span=> && _cv::version_of_is::<#t>(#v))
    });
    quote! {
        type __CvHolds =
            _cv::Holds<{ <_cv::SameProbe<(#(#types,)*), (#(#std,)*)>>::SAME #(#named)* }>;
    }
}

/// `known`: per child in template order, a version the derive computed (see `prefix::Full`).
fn named_shape(
    input: &Input,
    body: &Body,
    digest: &[u8; 32],
    args: &[TokenStream],
    known: &[Option<[u8; 32]>],
) -> TokenStream {
    let name = &input.name;
    // One byte-string token instead of 32 literals: the expansion is parsed, resolved and
    // hashed by rustc on every build, so its size is compile time.
    let digest = proc_macro2::Literal::byte_string(digest);
    let bump = input.bump;
    let default = input.default;
    let deny = input.deny_unknown_fields;
    let body = body_tokens(body, &mut known.iter().copied());
    let meta = if default || deny {
        quote!(_cv::ContainerMeta { default: #default, deny_unknown_fields: #deny })
    } else {
        quote!(_cv::ContainerMeta::NONE)
    };
    // An inline constant whose borrows all sit where a borrow's temporary lives as long as
    // the constant (struct literals, braced variant literals, arrays): in a `const` item,
    // borrows inside function arguments are promoted, and rustc's promotion check proves
    // `Freeze` for every call result under every borrow in a fresh inference context (tens
    // of thousands of instructions each); in an inline constant a call is not promotable, so
    // the check stops at once. Callgrind, 40 chained models: promotion took 145 M
    // instructions, 18 M after (serde's own code: 14 M). Tuple variants are written braced
    // (`Named { 0: .. }`) so the borrow inside is extended on every supported rustc.
    quote! {
        const {
            &_cv::Shape::Named {
                0: &_cv::Named {
                    name: #name,
                    template: *#digest,
                    body: #body,
                    meta: #meta,
                    bump: #bump,
                    args: &[#(#args),*],
                },
            }
        }
    }
}

/// `VERSION` resumed from blocks hashed here (see `prefix.rs`) when the leading children are
/// std types; nothing (the trait's default) otherwise. The `bool` is the compiler's answer to
/// "are the field types the std types the derive took them for?".
fn resumed_version(digest: &[u8; 32], body: &Body) -> Option<TokenStream> {
    let crate::prefix::Prefix {
        children,
        types,
        std,
        cv,
    } = crate::prefix::prefix(digest, body)?;
    let cv = proc_macro2::Literal::byte_string(&cv);
    Some(quote! {
        const VERSION: _cv::Version = _cv::version_resumed(
            Self::SHAPE,
            <_cv::SameProbe<(#(#types,)*), (#(#std,)*)>>::SAME,
            #children,
            #cv,
        );
    })
}

/// Known children versions (used through `__CvHolds`) are taken from `known` in template order.
fn body_tokens(body: &Body, known: &mut dyn Iterator<Item = Option<[u8; 32]>>) -> TokenStream {
    match body {
        Body::Unit => quote!(_cv::Body::UnitStruct),
        Body::Newtype(f) => {
            let t = ty(&f.ty, f.span, f.hint, known.next().flatten());
            quote!(_cv::Body::NewtypeStruct(#t))
        }
        Body::Tuple(fields) => {
            let fields: Vec<_> = fields.iter().map(|f| field_tokens(f, known)).collect();
            quote!(_cv::Body::TupleStruct { 0: &[#(#fields),*] })
        }
        Body::Struct { tag, fields } => {
            let tag = match tag {
                Some((tag, name)) => quote! {
                    _cv::Some(_cv::StructTag { tag: #tag, name: #name })
                },
                None => quote!(_cv::None),
            };
            let fields: Vec<_> = fields.iter().map(|f| field_tokens(f, known)).collect();
            quote!(_cv::Body::Struct { tag: #tag, fields: &[#(#fields),*] })
        }
        Body::Enum { repr, variants } => {
            let repr = match repr {
                Repr::External => quote!(_cv::EnumRepr::External),
                Repr::Internal(tag) => quote!(_cv::EnumRepr::Internal { tag: #tag }),
                Repr::Adjacent(tag, content) => {
                    quote!(_cv::EnumRepr::Adjacent { tag: #tag, content: #content })
                }
                Repr::Untagged => quote!(_cv::EnumRepr::Untagged),
            };
            let variants: Vec<_> = variants.iter().map(|v| variant_tokens(v, known)).collect();
            quote!(_cv::Body::Enum { repr: #repr, variants: &[#(#variants),*] })
        }
    }
}

/// `known`: the version the derive computed for a std structure around a named type, used
/// when the compiler confirms it (`__CvHolds`).
fn ty(ty: &TyIr, span: Span, hint: Option<&str>, known: Option<[u8; 32]>) -> TokenStream {
    match ty {
        TyIr::Rust(t) => match (hint, known) {
            (None, Some(v)) => {
                let v = proc_macro2::Literal::byte_string(&v);
                quote_spanned! {span=>
                    __CvHolds::ty::<#t>(#v)
                }
            }
            // A well-known crate's type: a missing impl names the feature that provides it.
            (Some(feature), _) => {
                let feature = syn::Ident::new(feature, span);
                quote_spanned!(span=> _cv::features::#feature::ty::<#t>())
            }
            (None, None) => quote_spanned!(span=> _cv::Ty::of::<#t>()),
        },
        TyIr::With { def, path } => quote_spanned! {span=>
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
        },
        TyIr::Opaque(path) => quote! {
            _cv::Ty {
                shape_fn: {
                    fn opaque() -> &'static _cv::Shape {
                        &_cv::Shape::Opaque(#path)
                    }
                    opaque
                },
                version: _cv::Version::of(&_cv::Shape::Opaque(#path)),
            }
        },
    }
}

fn field_tokens(f: &FieldIr, known: &mut dyn Iterator<Item = Option<[u8; 32]>>) -> TokenStream {
    let known = known.next().flatten();
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
        if let (Some(v), None) = (known, f.hint) {
            let v = proc_macro2::Literal::byte_string(&v);
            return quote_spanned! {f.span=>
                __CvHolds::field::<#t>(#name, #v)
            };
        }
        return match f.hint {
            Some(feature) => {
                let feature = syn::Ident::new(feature, f.span);
                quote_spanned!(f.span=> _cv::features::#feature::field::<#t>(#name))
            }
            None => quote_spanned!(f.span=> _cv::field::<#t>(#name)),
        };
    }
    let kind = match f.kind {
        FieldKind::Always => quote!(Always),
        FieldKind::MaybeAbsent => quote!(MaybeAbsent),
        FieldKind::Flatten => quote!(Flatten),
        FieldKind::FlattenMaybeAbsent => quote!(FlattenMaybeAbsent),
    };
    let t = ty(&f.ty, f.span, f.hint, known);
    let with_unstated = match (&f.ty, f.with_unstated) {
        (_, false) => quote!(false),
        // A remote definition with an impl is not opaque: only the fallback is unstated.
        (TyIr::With { def, .. }, true) => quote!(<_cv::WithProbe<#def>>::TY.is_none()),
        (_, true) => quote!(true),
    };
    quote! {
        _cv::Field {
            name: #name,
            de_name: #de_name,
            kind: _cv::FieldKind::#kind,
            ty: #t,
            bump: #bump,
            meta: _cv::FieldMeta {
                default: #default,
                aliases: &[#(#aliases),*],
                skip_deserializing: #skip_deserializing,
                with_unstated: #with_unstated,
            },
        }
    }
}

fn variant_tokens(v: &VariantIr, known: &mut dyn Iterator<Item = Option<[u8; 32]>>) -> TokenStream {
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
        Style::Unit => quote!(Unit),
        Style::Newtype => quote!(Newtype),
        Style::Tuple => quote!(Tuple),
        Style::Struct => quote!(Struct),
        Style::Skipped => quote!(Skipped),
    };
    let fields: Vec<_> = v.fields.iter().map(|f| field_tokens(f, known)).collect();
    let plain = name == de_name
        && !untagged
        && *bump == 0
        && aliases.is_empty()
        && !other
        && !skip_deserializing;
    if plain {
        return quote! {
            _cv::Variant {
                name: #name,
                de_name: #name,
                style: _cv::VariantStyle::#style,
                untagged: false,
                fields: &[#(#fields),*],
                bump: 0,
                meta: _cv::VariantMeta::NONE,
            }
        };
    }
    quote! {
        _cv::Variant {
            name: #name,
            de_name: #de_name,
            style: _cv::VariantStyle::#style,
            untagged: #untagged,
            fields: &[#(#fields),*],
            bump: #bump,
            meta: _cv::VariantMeta {
                aliases: &[#(#aliases),*],
                other: #other,
                skip_deserializing: #skip_deserializing,
            },
        }
    }
}
