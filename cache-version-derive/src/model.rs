//! The derive's view of a type: what serde writes for it (read through
//! `serde_derive_internals`, the library serde itself uses) combined with our attributes.

use proc_macro2::Span;
use quote::ToTokens;
use serde_derive_internals::{ast, attr as serde_attr};
use syn::spanned::Spanned;

use crate::attr::{self, Errors};
use crate::recursion;

/// How the type is described.
// Built once per derive and dropped: variant sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Model {
    /// A normal struct or enum.
    Named(Body),
    /// `#[serde(transparent)]`: exactly the one serialized field.
    Transparent(FieldIr),
    /// `#[serde(into = "P", from = "P")]` with one type: exactly that type.
    Same(syn::Type),
    /// `into`/`from`/`try_from` naming different types (or only one of them).
    Proxy { write: Side, read: Side },
    /// `#[cache_version(as = "Type")]` or `#[cache_version(opaque)]` on the type: its
    /// `Serialize` is hand-written, the shape is stated (or unknown).
    Stated(TyIr),
}

/// One side of a proxy.
pub enum Side {
    /// The type's own derived shape.
    Own(Body),
    /// A proxy type.
    Type(syn::Type),
}

// Built once per derive and dropped: variant sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Body {
    Unit,
    Newtype(FieldIr),
    Tuple(Vec<FieldIr>),
    Struct {
        tag: Option<(String, String)>,
        fields: Vec<FieldIr>,
    },
    Enum {
        repr: Repr,
        variants: Vec<VariantIr>,
    },
}

pub enum Repr {
    External,
    Internal(String),
    Adjacent(String, String),
    Untagged,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Always,
    MaybeAbsent,
    Flatten,
    FlattenMaybeAbsent,
}

pub struct FieldIr {
    pub name: String,
    pub de_name: String,
    pub kind: FieldKind,
    pub ty: TyIr,
    pub bump: u32,
    pub default: bool,
    pub aliases: Vec<String>,
    pub skip_deserializing: bool,
    /// Where a missing impl should be reported.
    pub span: Span,
    /// `#[cache_version(bound = "...")]` on the field: used instead of inferring from it.
    pub bound: Option<Vec<syn::WherePredicate>>,
    /// `#[serde(bound(serialize = "..."))]` on the field: limits what is inferred from it.
    pub serde_bound: Option<Vec<syn::WherePredicate>>,
    /// Written by `with` code whose shape nobody stated (`FieldMeta::with_unstated`).
    pub with_unstated: bool,
    /// The feature of `cache_version_core` that implements a well-known type in the field.
    pub hint: Option<&'static str>,
}

// Built once per derive and dropped: variant sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum TyIr {
    /// A Rust type (self references already replaced).
    Rust(syn::Type),
    /// A leaf named by a path or type (`with`, `opaque`).
    Opaque(String),
    /// `#[serde(with = "Def")]` where `Def` looks like a type (a remote definition): `Def`'s
    /// shape if it implements `CacheVersion`, else the opaque leaf named by the path.
    With { def: syn::Type, path: String },
}

/// The type `Def` of a `serialize_with` path `Def::serialize` (what `with = "Def"` gives) when
/// `Def`'s last segment is written like a type (`UpperCamelCase`): a `#[serde(remote)]`
/// definition. A lowercase segment is a module (`with = "ts"`), never probed.
fn remote_definition(path: &syn::ExprPath) -> Option<syn::Type> {
    let segs = &path.path.segments;
    if path.qself.is_some() || segs.len() < 2 || segs.last()?.ident != "serialize" {
        return None;
    }
    let def = &segs[segs.len() - 2];
    if !def
        .ident
        .to_string()
        .starts_with(|c: char| c.is_ascii_uppercase())
    {
        return None;
    }
    let mut def_path = path.path.clone();
    def_path.segments.pop();
    // `pop` leaves the trailing `::`; rebuild without it.
    let def_path = syn::Path {
        leading_colon: def_path.leading_colon,
        segments: def_path
            .segments
            .into_pairs()
            .map(|p| p.into_value())
            .collect(),
    };
    Some(syn::parse_quote!(#def_path))
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Unit,
    Newtype,
    Tuple,
    Struct,
    Skipped,
}

pub struct VariantIr {
    pub name: String,
    pub de_name: String,
    pub style: Style,
    pub untagged: bool,
    pub fields: Vec<FieldIr>,
    pub bump: u32,
    pub aliases: Vec<String>,
    pub other: bool,
    pub skip_deserializing: bool,
}

/// Everything the expansion needs.
pub struct Input<'a> {
    pub original: &'a syn::DeriveInput,
    pub name: String,
    pub bump: u32,
    pub default: bool,
    pub deny_unknown_fields: bool,
    pub model: Model,
    pub bound: Option<Vec<syn::WherePredicate>>,
    /// `#[serde(bound(serialize = "..."))]` on the type: limits what is inferred.
    pub serde_bound: Option<Vec<syn::WherePredicate>>,
    /// Assertions that the wrappers around self references are std's.
    pub self_checks: Vec<recursion::SelfCheck>,
    /// Some field type names the local self probe (`MaybeSelf`).
    pub self_probe: bool,
    /// Some field is a `with` remote definition (`TyIr::With`).
    pub with_probe: bool,
    pub krate: Option<(Span, syn::Path)>,
}

/// Tokens as a compact string: what `opaque(...)` leaves are named by.
fn compact(tokens: &impl ToTokens) -> String {
    let s = tokens.to_token_stream().to_string();
    let mut out = String::with_capacity(s.len());
    let mut prev_word = false;
    let mut pending_space = false;
    for c in s.chars() {
        if c == ' ' {
            pending_space = true;
            continue;
        }
        let word = c.is_alphanumeric() || c == '_';
        // Keep a space only where it separates two words (`dyn Trait`, `impl Trait`).
        if pending_space && prev_word && word {
            out.push(' ');
        }
        pending_space = false;
        prev_word = word;
        out.push(c);
    }
    out
}

fn unraw(ident: &syn::Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

fn same_type(a: &syn::Type, b: &syn::Type) -> bool {
    compact(a) == compact(b)
}

impl<'a> Input<'a> {
    /// Reads the type. serde's own attribute errors are left for serde to report.
    pub fn from_syn(input: &'a syn::DeriveInput) -> Result<Input<'a>, syn::Error> {
        let mut errors = Errors::default();
        let cattrs = attr::Container::parse(&input.attrs, &mut errors);

        let cx = serde_derive_internals::Ctxt::new();
        let private = syn::Ident::new("__private", Span::call_site());
        let container = ast::Container::from_ast(
            &cx,
            input,
            serde_derive_internals::Derive::Serialize,
            &private,
        );
        // serde reports its own mistakes; a broken #[serde] yields a stub impl here.
        let serde_ok = cx.check().is_ok();
        let Some(container) = container.filter(|_| serde_ok) else {
            errors.finish()?;
            return Err(syn::Error::new(Span::call_site(), SERDE_ERRORS));
        };

        let ident = &input.ident;
        let params: Vec<String> = input
            .generics
            .type_params()
            .map(|p| p.ident.to_string())
            .collect();
        let checks = std::cell::RefCell::new(Vec::new());
        let probe = std::cell::Cell::new(false);
        let with_probe = std::cell::Cell::new(false);
        let replace_self = |t: &syn::Type, ident: &syn::Ident, input: &syn::DeriveInput| {
            let r = recursion::replace_self(t, ident, input);
            checks.borrow_mut().extend(r.checks);
            probe.set(probe.get() || r.uses_probe);
            r.ty
        };
        let mut read_field = |f: &ast::Field, errors: &mut Errors, kind_allowed: bool| -> FieldIr {
            let fattrs = attr::Field::parse(&f.original.attrs, errors);
            let skipped = f.attrs.skip_serializing();
            if skipped {
                for span in [
                    fattrs.opaque,
                    fattrs.as_type.as_ref().map(|(s, _)| *s),
                    fattrs.bump.map(|(s, _)| s),
                    fattrs.bound.as_ref().map(|(s, _)| *s),
                ]
                .into_iter()
                .flatten()
                {
                    errors.spanned(
                        span,
                        "this field is skipped by serde (never written), so it has no shape: remove the attribute",
                    );
                }
            }
            if let (false, Some((span, _))) = (kind_allowed, fattrs.bump) {
                let msg = if container.attrs.transparent() {
                    "a #[serde(transparent)] type has exactly its field's version and cannot be \
                     bumped; to force a new version, bump the field's type (if it is yours) or \
                     drop `transparent`"
                } else if matches!(container.data, ast::Data::Enum(_)) {
                    "`bump` on the only field of a newtype variant: put it on the variant, \
                     `#[cache_version(bump = 1)] Variant(T)`"
                } else {
                    "`bump` on the only field of a newtype struct: put it on the struct, \
                     `#[cache_version(bump = 1)] struct Id(u64);`"
                };
                errors.spanned(span, msg);
            }
            let with_unstated = !skipped
                && f.attrs.serialize_with().is_some()
                && fattrs.as_type.is_none()
                && fattrs.opaque.is_none();
            let ty = if skipped && kind_allowed {
                // Never written: no shape, no bound, no self reference to check.
                TyIr::Rust(f.ty.clone())
            } else if let Some((_, t)) = fattrs.as_type {
                TyIr::Rust(replace_self(&t, ident, input))
            } else if fattrs.opaque.is_some() {
                // Acknowledged: a `with` field keeps the leaf named by its code's path (so that
                // acknowledging it changes no version), any other by its type.
                TyIr::Opaque(match f.attrs.serialize_with() {
                    Some(path) => compact(path),
                    None => compact(f.ty),
                })
            } else if let Some(path) = f.attrs.serialize_with() {
                match remote_definition(path) {
                    Some(def) => {
                        with_probe.set(true);
                        TyIr::With {
                            def,
                            path: compact(path),
                        }
                    }
                    None => TyIr::Opaque(compact(path)),
                }
            } else {
                TyIr::Rust(replace_self(f.ty, ident, input))
            };
            let kind = if !kind_allowed {
                FieldKind::Always
            } else if f.attrs.flatten() && f.attrs.skip_serializing_if().is_some() {
                FieldKind::FlattenMaybeAbsent
            } else if f.attrs.flatten() {
                FieldKind::Flatten
            } else if f.attrs.skip_serializing_if().is_some() {
                FieldKind::MaybeAbsent
            } else {
                FieldKind::Always
            };
            let hint = match &ty {
                TyIr::Rust(t) => crate::hint::feature(t, &params),
                _ => None,
            };
            FieldIr {
                name: f.attrs.name().serialize_name().value.clone(),
                de_name: f.attrs.name().deserialize_name().value.clone(),
                kind,
                ty,
                bump: fattrs.bump.map_or(0, |(_, n)| n),
                default: !f.attrs.default().is_none() || !container.attrs.default().is_none(),
                aliases: f
                    .attrs
                    .aliases()
                    .iter()
                    .map(|a| a.value.clone())
                    .filter(|a| *a != f.attrs.name().deserialize_name().value)
                    .collect(),
                skip_deserializing: f.attrs.skip_deserializing(),
                span: type_span(&f.original.ty),
                bound: fattrs.bound.map(|(_, b)| b),
                serde_bound: f.attrs.ser_bound().map(<[_]>::to_vec),
                with_unstated,
                hint,
            }
        };

        let own_body = |errors: &mut Errors,
                        read_field: &mut dyn FnMut(&ast::Field, &mut Errors, bool) -> FieldIr|
         -> Body {
            match &container.data {
                ast::Data::Struct(style, fields) => match style {
                    ast::Style::Unit => Body::Unit,
                    // serde writes a newtype struct's field even when it is marked skipped.
                    ast::Style::Newtype => Body::Newtype(read_field(&fields[0], errors, false)),
                    ast::Style::Tuple => Body::Tuple(
                        fields
                            .iter()
                            .map(|f| read_field(f, errors, true))
                            .zip(fields.iter())
                            .filter(|(_, f)| !f.attrs.skip_serializing())
                            .map(|(ir, _)| ir)
                            .collect(),
                    ),
                    ast::Style::Struct => Body::Struct {
                        tag: match container.attrs.tag() {
                            serde_attr::TagType::Internal { tag } => Some((
                                tag.clone(),
                                container.attrs.name().serialize_name().value.clone(),
                            )),
                            _ => None,
                        },
                        fields: fields
                            .iter()
                            .map(|f| read_field(f, errors, true))
                            .zip(fields.iter())
                            .filter(|(_, f)| !f.attrs.skip_serializing())
                            .map(|(ir, _)| ir)
                            .collect(),
                    },
                },
                ast::Data::Enum(variants) => Body::Enum {
                    repr: match container.attrs.tag() {
                        serde_attr::TagType::External => Repr::External,
                        serde_attr::TagType::Internal { tag } => Repr::Internal(tag.clone()),
                        serde_attr::TagType::Adjacent { tag, content } => {
                            Repr::Adjacent(tag.clone(), content.clone())
                        }
                        serde_attr::TagType::None => Repr::Untagged,
                    },
                    variants: {
                        let mut vs: Vec<VariantIr> = variants
                            .iter()
                            .map(|v| read_variant(v, errors, read_field))
                            .collect();
                        // A skipped variant only matters through the indices of the variants
                        // after it (positional formats write the index); trailing ones change
                        // nothing that is written.
                        while vs.last().is_some_and(|v| v.style == Style::Skipped) {
                            vs.pop();
                        }
                        vs
                    },
                },
            }
        };

        let type_into = container.attrs.type_into();
        let type_from = container
            .attrs
            .type_from()
            .or(container.attrs.type_try_from());
        let model = if let Some((_, t)) = &cattrs.as_type {
            if let Some((span, _)) = cattrs.bump {
                errors.spanned(
                    span,
                    "a type stated `as` another type has exactly that type's version and cannot \
                     be bumped: bump the stated type instead (if it is yours)",
                );
            }
            Model::Stated(TyIr::Rust(replace_self(t, ident, input)))
        } else if cattrs.opaque.is_some() {
            // Named by the type; a bump goes into the leaf's name (the only way the version of
            // an opaque type can change).
            let name = unraw(ident);
            Model::Stated(TyIr::Opaque(match cattrs.bump {
                Some((_, n)) => format!("{name} bump={n}"),
                None => name,
            }))
        } else if container.attrs.transparent() {
            let field = container
                .data
                .all_fields()
                .find(|f| f.attrs.transparent())
                .expect("serde checked that a transparent type has one field");
            if let Some((span, _)) = cattrs.bump {
                errors.spanned(
                    span,
                    "a #[serde(transparent)] type has exactly its field's version and cannot be \
                     bumped; to force a new version, bump the field's type (if it is yours) or \
                     drop `transparent`",
                );
            }
            Model::Transparent(read_field(field, &mut errors, false))
        } else {
            match (type_into, type_from) {
                (None, None) => Model::Named(own_body(&mut errors, &mut read_field)),
                (Some(w), Some(r)) if same_type(w, r) => Model::Same(replace_self(w, ident, input)),
                (w, r) => {
                    let write = match w {
                        Some(t) => Side::Type(replace_self(t, ident, input)),
                        None => Side::Own(own_body(&mut errors, &mut read_field)),
                    };
                    let read = match r {
                        Some(t) => Side::Type(replace_self(t, ident, input)),
                        None => Side::Own(own_body(&mut errors, &mut read_field)),
                    };
                    Model::Proxy { write, read }
                }
            }
        };
        if let (Some((span, _)), Model::Transparent(_) | Model::Same(_) | Model::Stated(_)) =
            (&cattrs.name, &model)
        {
            errors.spanned(
                *span,
                "`name` has no effect here: a type written exactly as another type \
                 (`#[serde(transparent)]`, `into`/`from` one type, or a stated `as`/`opaque` \
                 shape) has that shape, so it is not a model of its own; cache it under a name \
                 with `cache.model_named::<T>(\"Name\")`",
            );
        }
        if let (Some((span, _)), Model::Same(_)) = (&cattrs.bump, &model) {
            errors.spanned(
                *span,
                "a type written as its `into`/`from` proxy has exactly the proxy's version and \
                 cannot be bumped: bump the proxy type instead (if it is yours)",
            );
        }
        errors.finish()?;

        Ok(Input {
            original: input,
            name: cattrs
                .name
                .map(|(_, n)| n)
                .unwrap_or_else(|| unraw(&input.ident)),
            bump: cattrs.bump.map_or(0, |(_, n)| n),
            default: !container.attrs.default().is_none(),
            deny_unknown_fields: container.attrs.deny_unknown_fields(),
            model,
            bound: cattrs.bound.map(|(_, b)| b),
            serde_bound: container.attrs.ser_bound().map(<[_]>::to_vec),
            self_checks: checks.into_inner(),
            self_probe: probe.get(),
            with_probe: with_probe.get(),
            krate: cattrs.krate,
        })
    }
}

fn read_variant(
    v: &ast::Variant,
    errors: &mut Errors,
    read_field: &mut dyn FnMut(&ast::Field, &mut Errors, bool) -> FieldIr,
) -> VariantIr {
    let vattrs = attr::Variant::parse(&v.original.attrs, errors);
    // Field attributes are parsed even on skipped variants, so their mistakes are reported.
    let mut fields: Vec<FieldIr> = Vec::new();
    let mut parsed: Vec<(FieldIr, bool)> = v
        .fields
        .iter()
        .map(|f| {
            (
                read_field(
                    f,
                    errors,
                    matches!(v.style, ast::Style::Struct | ast::Style::Tuple),
                ),
                f.attrs.skip_serializing(),
            )
        })
        .collect();
    let mut style = match v.style {
        ast::Style::Unit => Style::Unit,
        ast::Style::Newtype => Style::Newtype,
        ast::Style::Tuple => Style::Tuple,
        ast::Style::Struct => Style::Struct,
    };
    // serde writes a newtype variant whose only field is skipped as a unit variant.
    if style == Style::Newtype && v.fields[0].attrs.skip_serializing() {
        style = Style::Unit;
        parsed.clear();
    }
    if style == Style::Struct
        && v.fields
            .iter()
            .any(|f| f.attrs.flatten() && f.attrs.skip_serializing())
    {
        errors.spanned(
            v.original.ident.span(),
            "a skipped #[serde(flatten)] field still makes serde write this variant as a map; \
             cache-version cannot describe that yet: remove `skip` or `flatten` from the field",
        );
    }
    if v.attrs.skip_serializing() {
        style = Style::Skipped;
    } else if let Some(path) = v.attrs.serialize_with() {
        // The variant's content is written by custom code, as a newtype variant (even for a
        // unit variant).
        {
            style = Style::Newtype;
            fields.push(FieldIr {
                name: String::new(),
                de_name: String::new(),
                kind: FieldKind::Always,
                ty: TyIr::Opaque(compact(path)),
                bump: 0,
                default: false,
                aliases: Vec::new(),
                skip_deserializing: false,
                span: v.original.span(),
                bound: None,
                serde_bound: None,
                with_unstated: true,
                hint: None,
            });
        }
    } else {
        fields = match style {
            Style::Newtype => parsed.drain(..).map(|(f, _)| f).collect(),
            _ => parsed
                .drain(..)
                .filter(|(_, skipped)| !skipped)
                .map(|(f, _)| f)
                .collect(),
        };
    }
    VariantIr {
        name: v.attrs.name().serialize_name().value.clone(),
        de_name: v.attrs.name().deserialize_name().value.clone(),
        style,
        untagged: v.attrs.untagged(),
        fields,
        bump: vattrs.bump.map_or(0, |(_, n)| n),
        aliases: v
            .attrs
            .aliases()
            .iter()
            .map(|a| a.value.clone())
            .filter(|a| *a != v.attrs.name().deserialize_name().value)
            .collect(),
        other: v.attrs.other(),
        skip_deserializing: v.attrs.skip_deserializing(),
    }
}

/// The message of the stub impl emitted when serde rejects the type's `#[serde]` attributes.
pub const SERDE_ERRORS: &str = "__cache_version_serde_errors";

pub fn stub_marker(err: &syn::Error) -> bool {
    err.to_string() == SERDE_ERRORS
}

/// Where errors about a field's type point: `Spanned::span`, which is the type's first token
/// unless the compiler joins spans (nightly). That first token read off the syntax tree for a
/// path, the common case: `Spanned::span` prints the type to tokens and reads them back, a
/// round trip across the proc-macro bridge per token, for a span most expansions never use.
pub fn type_span(ty: &syn::Type) -> Span {
    thread_local! {
        static JOINS: bool = Span::call_site().join(Span::call_site()).is_some();
    }
    if let (syn::Type::Path(p), false) = (ty, JOINS.with(|j| *j)) {
        if let Some(q) = &p.qself {
            return q.lt_token.span;
        }
        if let Some(colon) = &p.path.leading_colon {
            return colon.spans[0];
        }
        if let Some(first) = p.path.segments.first() {
            return first.ident.span();
        }
    }
    ty.span()
}
