//! The feature of `cache_version_core` that implements a well-known crate's type, found from
//! a field's tokens: a field that holds `Uuid` is checked through a bound whose error (when
//! the feature is off) names the `uuid1` feature instead of only saying "no impl".

use syn::{GenericArgument, PathArguments, Type};

/// `(crate, type, feature)`; a type written without its crate is matched by name when the
/// name is distinctive enough.
const KNOWN: &[(&str, &str, &str, bool)] = &[
    // (crate, type, feature, matched without the crate's name)
    ("uuid", "Uuid", "uuid1", true),
    ("uuid", "NonNilUuid", "uuid1", true),
    ("chrono", "NaiveDate", "chrono04", true),
    ("chrono", "NaiveTime", "chrono04", true),
    ("chrono", "NaiveDateTime", "chrono04", true),
    ("chrono", "DateTime", "chrono04", true),
    ("chrono", "TimeDelta", "chrono04", true),
    ("chrono", "Weekday", "chrono04", false),
    ("chrono", "Month", "chrono04", false),
    ("chrono", "Duration", "chrono04", false),
    ("time", "OffsetDateTime", "time03", true),
    ("time", "PrimitiveDateTime", "time03", true),
    ("time", "UtcDateTime", "time03", true),
    ("time", "UtcOffset", "time03", true),
    ("time", "Date", "time03", false),
    ("time", "Time", "time03", false),
    ("time", "Weekday", "time03", false),
    ("time", "Month", "time03", false),
    ("time", "Duration", "time03", false),
    ("serde_json", "Value", "serde_json1", true),
    ("serde_json", "Map", "serde_json1", false),
    ("serde_json", "Number", "serde_json1", false),
    ("rust_decimal", "Decimal", "rust_decimal1", true),
    ("url", "Url", "url2", true),
    ("bytes", "Bytes", "bytes1", true),
    ("bytes", "BytesMut", "bytes1", true),
    ("indexmap", "IndexMap", "indexmap2", true),
    ("indexmap", "IndexSet", "indexmap2", true),
    ("smallvec", "SmallVec", "smallvec1", true),
];

/// The feature hinted for a field of type `ty`: the first well-known type in it. None when
/// the type names a generic parameter of the type being derived (`params`): whether such a
/// field has an impl depends on the caller's type argument, not on a feature.
pub fn feature(ty: &Type, params: &[String]) -> Option<&'static str> {
    // Rendering the type as text is the costly part (the macro runs unoptimized): only for
    // a generic type, and only once a well-known type was found.
    let found = find(ty)?;
    if !params.is_empty() {
        let text = quote::ToTokens::to_token_stream(ty).to_string();
        if params.iter().any(|p| {
            text.split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|w| w == p)
        }) {
            return None;
        }
    }
    Some(found)
}

fn find(ty: &Type) -> Option<&'static str> {
    match ty {
        Type::Path(p) => {
            let segs: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            let last = segs.last()?;
            let first = segs.first()?;
            for (krate, name, feature, bare) in KNOWN {
                if last == name
                    && ((segs.len() > 1 && first == krate) || (segs.len() == 1 && *bare))
                {
                    return Some(feature);
                }
            }
            p.path.segments.iter().find_map(|s| match &s.arguments {
                PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
                    GenericArgument::Type(t) => find(t),
                    _ => None,
                }),
                _ => None,
            })
        }
        Type::Reference(r) => find(&r.elem),
        Type::Slice(s) => find(&s.elem),
        Type::Array(a) => find(&a.elem),
        Type::Paren(p) => find(&p.elem),
        Type::Group(g) => find(&g.elem),
        Type::Tuple(t) => t.elems.iter().find_map(find),
        _ => None,
    }
}
