//! A model that uses deprecated items compiles under `#![deny(deprecated)]` when its own code
//! allows them: the derive's generated code adds no `use of deprecated` warning (like serde's).
#![deny(deprecated, warnings)]
#![allow(dead_code)]

use cache_version_core::CacheVersion;
use serde::Serialize;

#[deprecated = "use NewAmount"]
#[derive(Serialize, CacheVersion)]
pub struct OldAmount(pub u64);

#[allow(deprecated)]
#[derive(Serialize, CacheVersion)]
pub struct Invoice {
    pub total: OldAmount,
    #[deprecated = "use total"]
    pub legacy_total: u64,
}

#[allow(deprecated)]
#[derive(Serialize, CacheVersion)]
pub enum Line {
    Amount(OldAmount),
    #[deprecated]
    Legacy {
        cents: u64,
    },
}

#[test]
fn deprecated_items_in_models_add_no_warning() {
    assert_eq!(
        Invoice::SHAPE.to_string().split('@').next(),
        Some("struct{total:OldAmount")
    );
    assert!(Line::SHAPE.to_string().contains("Legacy{cents:u64}"));
}
