//! Impls for uuid 1 (feature `uuid1`). Each describes what uuid's own serde impl writes
//! (uuid 1.29, `src/external/serde_support.rs`), not the Rust type.

use uuid::fmt::{Braced, Hyphenated, Simple, Urn};
use uuid::{NonNilUuid, Uuid};

use crate::shape::{Shape, Ty};
use crate::CacheVersion;

// Branches on `is_human_readable`: `serialize_str` of the lowercase hyphenated form
// (`67e55044-10b1-426f-9247-bb680e5fe0c8`); compact: `serialize_bytes` of the 16 bytes.
#[diagnostic::do_not_recommend]
impl CacheVersion for Uuid {
    const SHAPE: &'static Shape = &Shape::Readable {
        human: Ty::of::<str>(),
        compact: Ty::of::<crate::shape::SerdeBytes>(),
    };
}

// Writes the `Uuid` it holds (`Uuid::from(*self).serialize(serializer)`).
#[diagnostic::do_not_recommend]
impl CacheVersion for NonNilUuid {
    const SHAPE: &'static Shape = <Uuid as CacheVersion>::SHAPE;
    const VERSION: crate::Version = <Uuid as CacheVersion>::VERSION;
}

// The formatting adapters write their text for every format (no `is_human_readable` branch):
// `serialize_str` of the lowercase hyphenated, simple (32 hex digits), URN
// (`urn:uuid:…`) and braced (`{…}`) forms.
#[diagnostic::do_not_recommend]
impl CacheVersion for Hyphenated {
    const SHAPE: &'static Shape = &Shape::Str;
}

#[diagnostic::do_not_recommend]
impl CacheVersion for Simple {
    const SHAPE: &'static Shape = &Shape::Str;
}

#[diagnostic::do_not_recommend]
impl CacheVersion for Urn {
    const SHAPE: &'static Shape = &Shape::Str;
}

#[diagnostic::do_not_recommend]
impl CacheVersion for Braced {
    const SHAPE: &'static Shape = &Shape::Str;
}
