//! `#[derive(CacheVersion)]` for `cache-version-core`.
//!
//! Use it through `cache_version_core` (feature `derive`, on by default):
//! `use cache_version_core::CacheVersion;` brings the trait and this derive. The derive reads
//! the type and its `#[serde]` attributes with `serde_derive_internals` (the library serde
//! itself is built on) and emits an `impl CacheVersion` whose `SHAPE` describes exactly what
//! serde writes. The attribute reference is `docs/attributes.md` (in the core crate's docs as
//! `cache_version_core::attributes`).

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod attr;
mod bound;
mod expand;
mod hash;
mod hint;
mod model;
mod out;
mod prefix;
mod recursion;
mod template;

use proc_macro::TokenStream;

/// Derives `CacheVersion` from what serde writes for the type. See
/// `cache_version_core::attributes` for `#[cache_version(...)]`.
#[proc_macro_derive(CacheVersion, attributes(cache_version))]
pub fn derive_cache_version(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input).into()
}
