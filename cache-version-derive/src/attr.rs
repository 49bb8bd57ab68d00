//! Parsing of `#[cache_version(...)]`. Never quotes code; every error is collected, spanned on
//! the smallest offending token, and reported together.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, LitInt, LitStr};

/// Collects errors so that every bad attribute is reported at once.
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    pub fn push(&mut self, err: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(err),
            None => self.0 = Some(err),
        }
    }

    pub fn spanned(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.push(syn::Error::new(span, msg));
    }

    pub fn finish(self) -> Result<(), syn::Error> {
        match self.0 {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}

/// An attribute value that may be set once.
struct Once<T> {
    name: &'static str,
    value: Option<(Span, T)>,
}

impl<T> Once<T> {
    fn new(name: &'static str) -> Self {
        Once { name, value: None }
    }

    fn set(&mut self, errors: &mut Errors, span: Span, value: T) {
        if self.value.is_some() {
            errors.spanned(
                span,
                format!("duplicate cache_version attribute `{}`", self.name),
            );
        } else {
            self.value = Some((span, value));
        }
    }

    fn get(self) -> Option<(Span, T)> {
        self.value
    }
}

/// `#[cache_version(...)]` on the struct or enum.
pub struct Container {
    /// `name = "..."`: the model name used in keys and lockfiles.
    pub name: Option<(Span, String)>,
    /// `bump = N`.
    pub bump: Option<(Span, u32)>,
    /// `bound = "..."`: replaces the inferred bounds.
    pub bound: Option<(Span, Vec<syn::WherePredicate>)>,
    /// `crate = "..."`: the path of `cache_version_core`, and the literal's span.
    pub krate: Option<(Span, syn::Path)>,
    /// `as = "Type"`: the type is written as `Type` (a hand-written `Serialize`).
    pub as_type: Option<(Span, syn::Type)>,
    /// `opaque`: the type is written by code whose shape cannot be stated.
    pub opaque: Option<Span>,
}

/// `#[cache_version(...)]` on a variant.
pub struct Variant {
    /// `bump = N`.
    pub bump: Option<(Span, u32)>,
}

/// `#[cache_version(...)]` on a field.
pub struct Field {
    /// `bump = N`.
    pub bump: Option<(Span, u32)>,
    /// `opaque`: a leaf named by the field's type.
    pub opaque: Option<Span>,
    /// `as = "Type"`: describe the field as this type.
    pub as_type: Option<(Span, syn::Type)>,
    /// `bound = "..."`: added to the inferred bounds.
    pub bound: Option<(Span, Vec<syn::WherePredicate>)>,
}

fn cache_version_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("cache_version"))
}

fn key_name(meta: &ParseNestedMeta) -> String {
    meta.path
        .get_ident()
        .map(|i| i.to_string())
        .unwrap_or_else(|| {
            quote::ToTokens::to_token_stream(&meta.path)
                .to_string()
                .replace(' ', "")
        })
}

fn parse_bump(meta: &ParseNestedMeta) -> syn::Result<u32> {
    let value = meta
        .value()
        .map_err(|e| syn::Error::new(e.span(), "`bump` needs a value: `bump = 1`"))?;
    if value.peek(syn::Token![-]) {
        return Err(value.error("`bump` cannot be negative: bumps count up from 1 (`bump = 1`)"));
    }
    let lit: LitInt = value.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            "`bump` takes a whole number without quotes, e.g. `bump = 2`",
        )
    })?;
    if !lit.suffix().is_empty() {
        return Err(syn::Error::new(
            lit.span(),
            "`bump` takes a plain number without a type suffix, e.g. `bump = 2`",
        ));
    }
    let n: u32 = lit.base10_parse().map_err(|_| {
        syn::Error::new(
            lit.span(),
            "`bump` takes a whole number from 1 to 4294967295",
        )
    })?;
    if n == 0 {
        return Err(syn::Error::new(
            lit.span(),
            "`bump = 0` changes nothing: bumps start at 1 (remove it for no bump)",
        ));
    }
    Ok(n)
}

fn parse_str(meta: &ParseNestedMeta) -> syn::Result<LitStr> {
    let key = key_name(meta);
    let example = match key.as_str() {
        "name" => "name = \"User\"",
        "crate" => "crate = \"my_facade::cache_version_core\"",
        "bound" => "bound = \"T: CacheVersion\"",
        _ => "as = \"Vec<String>\"",
    };
    let value = meta
        .value()
        .map_err(|e| syn::Error::new(e.span(), format!("`{key}` needs a value: `{example}`")))?;
    value
        .parse()
        .map_err(|e| syn::Error::new(e.span(), format!("`{key}` takes a string: `{example}`")))
}

fn parse_type(meta: &ParseNestedMeta) -> syn::Result<syn::Type> {
    let lit = parse_str(meta)?;
    lit.parse().map_err(|e| {
        syn::Error::new(
            lit.span(),
            format!("invalid type in `as` ({e}): expected a type such as `Vec<String>`"),
        )
    })
}

fn parse_bound(meta: &ParseNestedMeta) -> syn::Result<Vec<syn::WherePredicate>> {
    let lit = parse_str(meta)?;
    let parser =
        syn::punctuated::Punctuated::<syn::WherePredicate, syn::Token![,]>::parse_terminated;
    let preds = syn::parse::Parser::parse_str(parser, &lit.value()).map_err(|e| {
        syn::Error::new(
            lit.span(),
            format!(
                "invalid `bound` ({e}): expected where-clause predicates such as `T: CacheVersion`"
            ),
        )
    })?;
    Ok(preds.into_iter().collect())
}

fn unknown(meta: &ParseNestedMeta, allowed: &str) -> syn::Error {
    meta.error(format!(
        "unknown cache_version attribute `{}` (expected one of: {allowed})",
        key_name(meta)
    ))
}

/// Runs `f` on every nested meta of every `#[cache_version(...)]`, collecting errors; a
/// malformed entry is reported and parsing goes on with the next attribute.
fn each_meta(
    attrs: &[Attribute],
    errors: &mut Errors,
    mut f: impl FnMut(&ParseNestedMeta, &mut Errors) -> syn::Result<()>,
) {
    for attr in cache_version_attrs(attrs) {
        let empty = match &attr.meta {
            syn::Meta::Path(_) => true,
            syn::Meta::List(list) => list.tokens.is_empty(),
            syn::Meta::NameValue(_) => false,
        };
        if empty {
            errors.spanned(
                syn::spanned::Spanned::span(&attr.meta),
                "empty `#[cache_version]`: remove it, or give it an attribute such as `bump = 1`",
            );
            continue;
        }
        let mut local = Errors::default();
        let result = attr.parse_nested_meta(|meta| {
            if let Err(e) = f(&meta, &mut local) {
                local.push(e);
                // Skip the rest of this entry so the next one is still parsed and reported.
                while !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                    meta.input.parse::<proc_macro2::TokenTree>()?;
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            errors.push(e);
        }
        if let Err(e) = local.finish() {
            errors.push(e);
        }
    }
}

impl Container {
    pub fn parse(attrs: &[Attribute], errors: &mut Errors) -> Container {
        let mut name = Once::new("name");
        let mut bump = Once::new("bump");
        let mut bound = Once::new("bound");
        let mut krate = Once::new("crate");
        let mut as_type = Once::new("as");
        let mut opaque = Once::new("opaque");
        each_meta(attrs, errors, |meta, errors| {
            let span = meta
                .path
                .get_ident()
                .map(|i| i.span())
                .unwrap_or_else(Span::call_site);
            if meta.path.is_ident("name") {
                // #[cache_version(name = "User")]
                let lit = parse_str(meta)?;
                let value = lit.value();
                if let Some(msg) = invalid_model_name(&value) {
                    return Err(syn::Error::new(lit.span(), msg));
                }
                name.set(errors, span, value);
            } else if meta.path.is_ident("bump") {
                // #[cache_version(bump = 2)]
                let n = parse_bump(meta)?;
                bump.set(errors, span, n);
            } else if meta.path.is_ident("bound") {
                // #[cache_version(bound = "T: CacheVersion")]
                let preds = parse_bound(meta)?;
                bound.set(errors, span, preds);
            } else if meta.path.is_ident("crate") {
                // #[cache_version(crate = "my_facade::cache_version_core")]
                let lit = parse_str(meta)?;
                let path: syn::Path = lit.parse().map_err(|e| {
                    syn::Error::new(
                        lit.span(),
                        format!("invalid `crate` path ({e}): expected a Rust path such as `my_facade::cache_version_core`"),
                    )
                })?;
                krate.set(errors, lit.span(), path);
            } else if meta.path.is_ident("as") {
                // #[cache_version(as = "String")]
                let ty = parse_type(meta)?;
                as_type.set(errors, span, ty);
            } else if meta.path.is_ident("opaque") {
                // #[cache_version(opaque)]
                if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
                    return Err(meta.error(
                        "`opaque` takes no value or arguments: write `#[cache_version(opaque)]` \
                         (the leaf is named after the type)",
                    ));
                }
                opaque.set(errors, span, ());
            } else {
                return Err(unknown(meta, "name, bump, bound, crate, as, opaque"));
            }
            Ok(())
        });
        let opaque = opaque.get().map(|(s, ())| s);
        let as_type = as_type.get();
        if let (Some(_), Some((span, _))) = (&opaque, &as_type) {
            errors.spanned(
                *span,
                "`opaque` and `as` cannot be combined: `as` states the shape, `opaque` says it is unknown",
            );
        }
        Container {
            name: name.get(),
            bump: bump.get(),
            bound: bound.get(),
            krate: krate.get(),
            as_type,
            opaque,
        }
    }
}

/// Why `name` cannot be a model name (it goes into cache keys), if it cannot.
fn invalid_model_name(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a model name cannot be empty".into());
    }
    for c in name.chars() {
        if c == ':' || c.is_whitespace() || c.is_control() || "*?[]\\{}".contains(c) {
            return Some(format!(
                "a model name cannot contain {c:?}: it goes into cache keys \
                 `namespace:model:version:key` and SCAN patterns"
            ));
        }
    }
    None
}

impl Variant {
    pub fn parse(attrs: &[Attribute], errors: &mut Errors) -> Variant {
        let mut bump = Once::new("bump");
        each_meta(attrs, errors, |meta, errors| {
            let span = meta
                .path
                .get_ident()
                .map(|i| i.span())
                .unwrap_or_else(Span::call_site);
            if meta.path.is_ident("bump") {
                // #[cache_version(bump = 1)]
                let n = parse_bump(meta)?;
                bump.set(errors, span, n);
            } else if meta.path.is_ident("name") || meta.path.is_ident("crate") {
                return Err(meta.error(format!(
                    "`{}` belongs on the type, not on a variant",
                    key_name(meta)
                )));
            } else if meta.path.is_ident("bound") {
                return Err(meta.error("`bound` goes on the type or on a field, not on a variant"));
            } else if meta.path.is_ident("opaque") || meta.path.is_ident("as") {
                return Err(meta.error(format!(
                    "`{}` belongs on a field, not on a variant",
                    key_name(meta)
                )));
            } else {
                return Err(unknown(meta, "bump"));
            }
            Ok(())
        });
        Variant { bump: bump.get() }
    }
}

impl Field {
    pub fn parse(attrs: &[Attribute], errors: &mut Errors) -> Field {
        let mut bump = Once::new("bump");
        let mut opaque = Once::new("opaque");
        let mut as_type = Once::new("as");
        let mut bound = Once::new("bound");
        each_meta(attrs, errors, |meta, errors| {
            let span = meta
                .path
                .get_ident()
                .map(|i| i.span())
                .unwrap_or_else(Span::call_site);
            if meta.path.is_ident("bump") {
                // #[cache_version(bump = 1)]
                let n = parse_bump(meta)?;
                bump.set(errors, span, n);
            } else if meta.path.is_ident("opaque") {
                // #[cache_version(opaque)]
                if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
                    return Err(meta.error(
                        "`opaque` takes no value or arguments: write `#[cache_version(opaque)]` \
                         (the leaf is named after the field's type)",
                    ));
                }
                opaque.set(errors, span, ());
            } else if meta.path.is_ident("as") {
                // #[cache_version(as = "Vec<String>")]
                let ty = parse_type(meta)?;
                as_type.set(errors, span, ty);
            } else if meta.path.is_ident("bound") {
                // #[cache_version(bound = "T: CacheVersion")]
                let preds = parse_bound(meta)?;
                bound.set(errors, span, preds);
            } else if meta.path.is_ident("name") || meta.path.is_ident("crate") {
                return Err(meta.error(format!(
                    "`{}` belongs on the type, not on a field",
                    key_name(meta)
                )));
            } else {
                return Err(unknown(meta, "bump, opaque, as, bound"));
            }
            Ok(())
        });
        let opaque = opaque.get().map(|(s, ())| s);
        let as_type = as_type.get();
        if let (Some(_), Some((span, _))) = (&opaque, &as_type) {
            errors.spanned(
                *span,
                "`opaque` and `as` cannot be combined: `as` states the shape, `opaque` says it is unknown",
            );
        }
        Field {
            bump: bump.get(),
            opaque,
            as_type,
            bound: bound.get(),
        }
    }
}
