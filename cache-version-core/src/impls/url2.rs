//! Impls for url 2 (feature `url2`). Each describes what url's own serde impl writes (url
//! 2.5, the `serde` feature), not the Rust type.

use std::net::{Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use crate::shape::{
    Body, EnumRepr, Field, ModelArg, Named, Shape, Ty, Variant, VariantMeta, VariantStyle,
};
use crate::CacheVersion;

// `src/lib.rs`: `serialize_str` of the serialized URL (`Url::as_str`), for every format.
#[diagnostic::do_not_recommend]
impl CacheVersion for Url {
    const SHAPE: &'static Shape = &Shape::Str;
}

/// A newtype variant of an externally tagged enum.
const fn newtype(name: &'static str, fields: &'static [Field]) -> Variant {
    Variant {
        name,
        de_name: name,
        style: VariantStyle::Newtype,
        untagged: false,
        fields,
        bump: 0,
        meta: VariantMeta::NONE,
    }
}

// `src/host.rs`: `#[derive(Serialize)]` on `enum Host<S = String> { Domain(S),
// Ipv4(Ipv4Addr), Ipv6(Ipv6Addr) }`, externally tagged (the addresses as std writes them).
impl<S: CacheVersion> CacheVersion for Host<S> {
    const SHAPE: &'static Shape = &Shape::Named(
        &Named::new(
            "Host",
            Body::Enum {
                repr: EnumRepr::External,
                variants: &[
                    newtype("Domain", &[Field::new("", Ty::of::<S>())]),
                    newtype("Ipv4", &[Field::new("", Ty::of::<Ipv4Addr>())]),
                    newtype("Ipv6", &[Field::new("", Ty::of::<Ipv6Addr>())]),
                ],
            },
        )
        .with_args(&[ModelArg::of::<S>()]),
    );
}
