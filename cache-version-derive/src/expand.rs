//! Code generation. Everything sits in `const _: () = { ... };` with the core crate bound once
//! as `_cv`, and names only `::core`-free absolute paths through `_cv::__private`, so a caller
//! that shadows `Option`, `Some`, `Box` or `Vec` cannot break it.

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
        Some((span, p)) => quote_spanned!(*span=> use #p as _cv;),
        None => quote!(
            use ::cache_version_core as _cv;
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
    /// Items of an inherent impl (the cycle hint).
    inherent_items: Option<TokenStream>,
}

/// The name of the constant a derived type's `VERSION` goes through: rustc's report of a
/// const-evaluation cycle lists the constants it passed, so this name is how the report names
/// the types in a cycle, and says what to do. Alone in the report: the type holds itself in a
/// way the derive could not see (a type alias without parameters, a projection in a generic
/// type); with other types: they contain each other.
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
    let own = extra.own_items.map(|items| {
        quote! {
            #[automatically_derived]
            impl #impl_generics _cv::__private::OwnShape for #ident #ty_generics #where_clause {
                #items
            }
        }
    });
    let model = extra.model_items.map(|items| {
        quote! {
            #[automatically_derived]
            impl #impl_generics _cv::__private::CacheModel for #ident #ty_generics #where_clause {
                #items
            }
        }
    });
    let checks = extra.checks;
    let inherent = extra.inherent_items.map(|items| {
        quote! {
            #[automatically_derived]
            impl #impl_generics #ident #ty_generics #where_clause {
                #items
            }
        }
    });
    quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_qualifications, deprecated, dead_code, clippy::all)]
        const _: () = {
            #krate
            #[automatically_derived]
            impl #impl_generics _cv::__private::CacheVersion for #ident #ty_generics #where_clause {
                #items
            }
            #own
            #model
            #inherent
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
        const SHAPE: &'static _cv::__private::Shape = &_cv::__private::Shape::Opaque("<invalid>");
    };
    // A model impl too, so that `cache.model::<T>()` adds no error of its own.
    let model_items = quote! {
        fn model_name() -> _cv::__private::Cow<'static, str> {
            _cv::__private::Cow::Borrowed("invalid")
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
            use _cv::__private::WithFallback as _;
        ));
    }
    let mut extra = Extra {
        checks,
        ..Extra::default()
    };
    let items = match &input.model {
        Model::Named(body) => {
            let shape = named_shape(input, body, &args);
            // The model name is `Named::model_name` of the shape: the trait's default.
            extra.model_items = Some(TokenStream::new());
            let hint = cycle_hint(&input.original.ident);
            extra.inherent_items = Some(quote! {
                #[doc(hidden)]
                const #hint: _cv::__private::Version = _cv::__private::Version::of(
                    <Self as _cv::__private::CacheVersion>::SHAPE,
                );
            });
            quote! {
                const SHAPE: &'static _cv::__private::Shape = #shape;
                // Hidden: rustdoc would print the hint's name as the value.
                #[doc(hidden)]
                const VERSION: _cv::__private::Version = Self::#hint;
            }
        }
        Model::Transparent(field) => transparent_items(&field.ty),
        Model::Same(t) => transparent_items(&TyIr::Rust(t.clone())),
        Model::Proxy { write, read } => {
            let mut own = None;
            let mut side = |s: &Side| match s {
                Side::Type(t) => ty(&TyIr::Rust(t.clone()), Span::call_site()),
                Side::Own(body) => {
                    own = Some(named_shape(input, body, &args));
                    quote!(_cv::__private::own::<Self>())
                }
            };
            let (w, r) = (side(write), side(read));
            extra.own_items =
                own.map(|own| quote!(const OWN: &'static _cv::__private::Shape = #own;));
            quote! {
                const SHAPE: &'static _cv::__private::Shape =
                    &_cv::__private::Shape::Proxy { write: #w, read: #r };
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
                    quote!(_cv::__private::ModelArg::of::<#ident>())
                } else {
                    quote!(_cv::__private::ModelArg::Unbound)
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
                        quote!(_cv::__private::ModelArg::Uint(#ident as u128))
                    }
                    Some("i8" | "i16" | "i32" | "i64" | "i128" | "isize") => {
                        quote!(_cv::__private::ModelArg::Int(#ident as i128))
                    }
                    Some("bool") => quote!(_cv::__private::ModelArg::Bool(#ident)),
                    Some("char") => quote!(_cv::__private::ModelArg::Char(#ident)),
                    _ => quote!(_cv::__private::ModelArg::Unbound),
                })
            }
        })
        .collect()
}

/// A type written exactly as another: its shape and version are that type's.
fn transparent_items(t: &TyIr) -> TokenStream {
    match t {
        TyIr::Rust(t) => quote! {
            const SHAPE: &'static _cv::__private::Shape = <#t as _cv::__private::CacheVersion>::SHAPE;
            const VERSION: _cv::__private::Version = <#t as _cv::__private::CacheVersion>::VERSION;
        },
        TyIr::Opaque(path) => quote! {
            const SHAPE: &'static _cv::__private::Shape = &_cv::__private::Shape::Opaque(#path);
        },
        TyIr::With { def, path } => quote! {
            const SHAPE: &'static _cv::__private::Shape =
                match <_cv::__private::WithProbe<#def>>::SHAPE {
                    _cv::__private::Some(shape) => shape,
                    _cv::__private::None => &_cv::__private::Shape::Opaque(#path),
                };
        },
    }
}

fn named_shape(input: &Input, body: &Body, args: &[TokenStream]) -> TokenStream {
    let name = &input.name;
    let template = template::named(input.bump, body);
    let digest = template::digest(&template);
    let bump = input.bump;
    let default = input.default;
    let deny = input.deny_unknown_fields;
    let body = body_tokens(body);
    quote! {
        &_cv::__private::Shape::Named(&_cv::__private::Named {
            name: #name,
            template: [#(#digest),*],
            body: #body,
            meta: _cv::__private::ContainerMeta { default: #default, deny_unknown_fields: #deny },
            bump: #bump,
            args: &[#(#args),*],
        })
    }
}

fn body_tokens(body: &Body) -> TokenStream {
    match body {
        Body::Unit => quote!(_cv::__private::Body::UnitStruct),
        Body::Newtype(f) => {
            let t = ty(&f.ty, f.span);
            quote!(_cv::__private::Body::NewtypeStruct(#t))
        }
        Body::Tuple(fields) => {
            let fields = fields.iter().map(field_tokens);
            quote!(_cv::__private::Body::TupleStruct(&[#(#fields),*]))
        }
        Body::Struct { tag, fields } => {
            let tag = match tag {
                Some((tag, name)) => quote! {
                    _cv::__private::Some(_cv::__private::StructTag { tag: #tag, name: #name })
                },
                None => quote!(_cv::__private::None),
            };
            let fields = fields.iter().map(field_tokens);
            quote!(_cv::__private::Body::Struct { tag: #tag, fields: &[#(#fields),*] })
        }
        Body::Enum { repr, variants } => {
            let repr = match repr {
                Repr::External => quote!(_cv::__private::EnumRepr::External),
                Repr::Internal(tag) => quote!(_cv::__private::EnumRepr::Internal { tag: #tag }),
                Repr::Adjacent(tag, content) => {
                    quote!(_cv::__private::EnumRepr::Adjacent { tag: #tag, content: #content })
                }
                Repr::Untagged => quote!(_cv::__private::EnumRepr::Untagged),
            };
            let variants = variants.iter().map(variant_tokens);
            quote!(_cv::__private::Body::Enum { repr: #repr, variants: &[#(#variants),*] })
        }
    }
}

fn ty(ty: &TyIr, span: Span) -> TokenStream {
    match ty {
        TyIr::Rust(t) => quote_spanned!(span=> _cv::__private::Ty::of::<#t>()),
        TyIr::With { def, path } => quote_spanned! {span=>
            _cv::__private::with_or_opaque(
                <_cv::__private::WithProbe<#def>>::TY,
                {
                    fn opaque() -> &'static _cv::__private::Shape {
                        &_cv::__private::Shape::Opaque(#path)
                    }
                    opaque
                },
                #path,
            )
        },
        TyIr::Opaque(path) => quote! {
            _cv::__private::Ty {
                shape_fn: {
                    fn opaque() -> &'static _cv::__private::Shape {
                        &_cv::__private::Shape::Opaque(#path)
                    }
                    opaque
                },
                version: _cv::__private::Version::of(&_cv::__private::Shape::Opaque(#path)),
            }
        },
    }
}

fn field_tokens(f: &FieldIr) -> TokenStream {
    let FieldIr {
        name,
        de_name,
        bump,
        default,
        aliases,
        skip_deserializing,
        ..
    } = f;
    let kind = match f.kind {
        FieldKind::Always => quote!(Always),
        FieldKind::MaybeAbsent => quote!(MaybeAbsent),
        FieldKind::Flatten => quote!(Flatten),
        FieldKind::FlattenMaybeAbsent => quote!(FlattenMaybeAbsent),
    };
    let t = ty(&f.ty, f.span);
    quote! {
        _cv::__private::Field {
            name: #name,
            de_name: #de_name,
            kind: _cv::__private::FieldKind::#kind,
            ty: #t,
            bump: #bump,
            meta: _cv::__private::FieldMeta {
                default: #default,
                aliases: &[#(#aliases),*],
                skip_deserializing: #skip_deserializing,
            },
        }
    }
}

fn variant_tokens(v: &VariantIr) -> TokenStream {
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
    let fields = v.fields.iter().map(field_tokens);
    quote! {
        _cv::__private::Variant {
            name: #name,
            de_name: #de_name,
            style: _cv::__private::VariantStyle::#style,
            untagged: #untagged,
            fields: &[#(#fields),*],
            bump: #bump,
            meta: _cv::__private::VariantMeta {
                aliases: &[#(#aliases),*],
                other: #other,
                skip_deserializing: #skip_deserializing,
            },
        }
    }
}
