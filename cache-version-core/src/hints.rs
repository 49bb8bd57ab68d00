//! The features of this crate that implement well-known crates' types, named in the error of
//! a missing impl (implementation details of the derive).
//!
//! For a field that holds such a type, the derive writes `features::uuid1::field::<T>(name)`
//! instead of `__private::field`: its bound's error, when the impl is missing, names the
//! feature. The one impl of each bound is `do_not_recommend`, so rustc reports that bound,
//! with its note and without a list of other impls, instead of the inner `CacheVersion` one.
//! Written out (no macro), so that the error's "required by a bound" note quotes one line.

/// Hints at feature `chrono04`.
pub mod chrono04 {
    use crate::shape::{Field, Ty};
    use crate::CacheVersion;

    /// `CacheVersion`, for a field that holds a `chrono` 0.4 type.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` has no cache version",
        label = "no `CacheVersion` impl for this type",
        note = "if it is (or holds) a `chrono` 0.4 type, cache-version-core implements it behind its feature `chrono04`: `cache-version-core = {{ version = \"...\", features = [\"chrono04\"] }}`; otherwise derive `CacheVersion` for it, or state its shape on the field with `#[cache_version(as = \"Type\")]` or `#[cache_version(opaque)]`"
    )]
    pub trait NeedsFeature: CacheVersion {}

    #[diagnostic::do_not_recommend]
    impl<T: CacheVersion + ?Sized> NeedsFeature for T {}

    /// `__private::field`, through [`NeedsFeature`].
    pub const fn field<T: NeedsFeature + ?Sized>(name: &'static str) -> Field {
        Field::new(name, Ty::of::<T>())
    }

    /// `Ty::of`, through [`NeedsFeature`].
    pub const fn ty<T: NeedsFeature + ?Sized>() -> Ty {
        Ty::of::<T>()
    }
}

/// Hints at feature `time03`.
pub mod time03 {
    use crate::shape::{Field, Ty};
    use crate::CacheVersion;

    /// `CacheVersion`, for a field that holds a `time` 0.3 type.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` has no cache version",
        label = "no `CacheVersion` impl for this type",
        note = "if it is (or holds) a `time` 0.3 type, cache-version-core implements it behind its feature `time03`: `cache-version-core = {{ version = \"...\", features = [\"time03\"] }}`; otherwise derive `CacheVersion` for it, or state its shape on the field with `#[cache_version(as = \"Type\")]` or `#[cache_version(opaque)]`"
    )]
    pub trait NeedsFeature: CacheVersion {}

    #[diagnostic::do_not_recommend]
    impl<T: CacheVersion + ?Sized> NeedsFeature for T {}

    /// `__private::field`, through [`NeedsFeature`].
    pub const fn field<T: NeedsFeature + ?Sized>(name: &'static str) -> Field {
        Field::new(name, Ty::of::<T>())
    }

    /// `Ty::of`, through [`NeedsFeature`].
    pub const fn ty<T: NeedsFeature + ?Sized>() -> Ty {
        Ty::of::<T>()
    }
}

/// Hints at feature `uuid1`.
pub mod uuid1 {
    use crate::shape::{Field, Ty};
    use crate::CacheVersion;

    /// `CacheVersion`, for a field that holds a `uuid` 1 type.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` has no cache version",
        label = "no `CacheVersion` impl for this type",
        note = "if it is (or holds) a `uuid` 1 type, cache-version-core implements it behind its feature `uuid1`: `cache-version-core = {{ version = \"...\", features = [\"uuid1\"] }}`; otherwise derive `CacheVersion` for it, or state its shape on the field with `#[cache_version(as = \"Type\")]` or `#[cache_version(opaque)]`"
    )]
    pub trait NeedsFeature: CacheVersion {}

    #[diagnostic::do_not_recommend]
    impl<T: CacheVersion + ?Sized> NeedsFeature for T {}

    /// `__private::field`, through [`NeedsFeature`].
    pub const fn field<T: NeedsFeature + ?Sized>(name: &'static str) -> Field {
        Field::new(name, Ty::of::<T>())
    }

    /// `Ty::of`, through [`NeedsFeature`].
    pub const fn ty<T: NeedsFeature + ?Sized>() -> Ty {
        Ty::of::<T>()
    }
}

/// Hints at feature `serde_json1`.
pub mod serde_json1 {
    use crate::shape::{Field, Ty};
    use crate::CacheVersion;

    /// `CacheVersion`, for a field that holds a `serde_json` 1 type.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` has no cache version",
        label = "no `CacheVersion` impl for this type",
        note = "if it is (or holds) a `serde_json` 1 type, cache-version-core implements it behind its feature `serde_json1`: `cache-version-core = {{ version = \"...\", features = [\"serde_json1\"] }}`; otherwise derive `CacheVersion` for it, or state its shape on the field with `#[cache_version(as = \"Type\")]` or `#[cache_version(opaque)]`"
    )]
    pub trait NeedsFeature: CacheVersion {}

    #[diagnostic::do_not_recommend]
    impl<T: CacheVersion + ?Sized> NeedsFeature for T {}

    /// `__private::field`, through [`NeedsFeature`].
    pub const fn field<T: NeedsFeature + ?Sized>(name: &'static str) -> Field {
        Field::new(name, Ty::of::<T>())
    }

    /// `Ty::of`, through [`NeedsFeature`].
    pub const fn ty<T: NeedsFeature + ?Sized>() -> Ty {
        Ty::of::<T>()
    }
}

/// Hints at feature `rust_decimal1`.
pub mod rust_decimal1 {
    use crate::shape::{Field, Ty};
    use crate::CacheVersion;

    /// `CacheVersion`, for a field that holds a `rust_decimal` 1 type.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` has no cache version",
        label = "no `CacheVersion` impl for this type",
        note = "if it is (or holds) a `rust_decimal` 1 type, cache-version-core implements it behind its feature `rust_decimal1`: `cache-version-core = {{ version = \"...\", features = [\"rust_decimal1\"] }}`; otherwise derive `CacheVersion` for it, or state its shape on the field with `#[cache_version(as = \"Type\")]` or `#[cache_version(opaque)]`"
    )]
    pub trait NeedsFeature: CacheVersion {}

    #[diagnostic::do_not_recommend]
    impl<T: CacheVersion + ?Sized> NeedsFeature for T {}

    /// `__private::field`, through [`NeedsFeature`].
    pub const fn field<T: NeedsFeature + ?Sized>(name: &'static str) -> Field {
        Field::new(name, Ty::of::<T>())
    }

    /// `Ty::of`, through [`NeedsFeature`].
    pub const fn ty<T: NeedsFeature + ?Sized>() -> Ty {
        Ty::of::<T>()
    }
}

/// Hints at feature `url2`.
pub mod url2 {
    use crate::shape::{Field, Ty};
    use crate::CacheVersion;

    /// `CacheVersion`, for a field that holds a `url` 2 type.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` has no cache version",
        label = "no `CacheVersion` impl for this type",
        note = "if it is (or holds) a `url` 2 type, cache-version-core implements it behind its feature `url2`: `cache-version-core = {{ version = \"...\", features = [\"url2\"] }}`; otherwise derive `CacheVersion` for it, or state its shape on the field with `#[cache_version(as = \"Type\")]` or `#[cache_version(opaque)]`"
    )]
    pub trait NeedsFeature: CacheVersion {}

    #[diagnostic::do_not_recommend]
    impl<T: CacheVersion + ?Sized> NeedsFeature for T {}

    /// `__private::field`, through [`NeedsFeature`].
    pub const fn field<T: NeedsFeature + ?Sized>(name: &'static str) -> Field {
        Field::new(name, Ty::of::<T>())
    }

    /// `Ty::of`, through [`NeedsFeature`].
    pub const fn ty<T: NeedsFeature + ?Sized>() -> Ty {
        Ty::of::<T>()
    }
}

/// Hints at feature `bytes1`.
pub mod bytes1 {
    use crate::shape::{Field, Ty};
    use crate::CacheVersion;

    /// `CacheVersion`, for a field that holds a `bytes` 1 type.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` has no cache version",
        label = "no `CacheVersion` impl for this type",
        note = "if it is (or holds) a `bytes` 1 type, cache-version-core implements it behind its feature `bytes1`: `cache-version-core = {{ version = \"...\", features = [\"bytes1\"] }}`; otherwise derive `CacheVersion` for it, or state its shape on the field with `#[cache_version(as = \"Type\")]` or `#[cache_version(opaque)]`"
    )]
    pub trait NeedsFeature: CacheVersion {}

    #[diagnostic::do_not_recommend]
    impl<T: CacheVersion + ?Sized> NeedsFeature for T {}

    /// `__private::field`, through [`NeedsFeature`].
    pub const fn field<T: NeedsFeature + ?Sized>(name: &'static str) -> Field {
        Field::new(name, Ty::of::<T>())
    }

    /// `Ty::of`, through [`NeedsFeature`].
    pub const fn ty<T: NeedsFeature + ?Sized>() -> Ty {
        Ty::of::<T>()
    }
}

/// Hints at feature `indexmap2`.
pub mod indexmap2 {
    use crate::shape::{Field, Ty};
    use crate::CacheVersion;

    /// `CacheVersion`, for a field that holds an `indexmap` 2 type.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` has no cache version",
        label = "no `CacheVersion` impl for this type",
        note = "if it is (or holds) an `indexmap` 2 type, cache-version-core implements it behind its feature `indexmap2`: `cache-version-core = {{ version = \"...\", features = [\"indexmap2\"] }}`; otherwise derive `CacheVersion` for it, or state its shape on the field with `#[cache_version(as = \"Type\")]` or `#[cache_version(opaque)]`"
    )]
    pub trait NeedsFeature: CacheVersion {}

    #[diagnostic::do_not_recommend]
    impl<T: CacheVersion + ?Sized> NeedsFeature for T {}

    /// `__private::field`, through [`NeedsFeature`].
    pub const fn field<T: NeedsFeature + ?Sized>(name: &'static str) -> Field {
        Field::new(name, Ty::of::<T>())
    }

    /// `Ty::of`, through [`NeedsFeature`].
    pub const fn ty<T: NeedsFeature + ?Sized>() -> Ty {
        Ty::of::<T>()
    }
}

/// Hints at feature `smallvec1`.
pub mod smallvec1 {
    use crate::shape::{Field, Ty};
    use crate::CacheVersion;

    /// `CacheVersion`, for a field that holds a `smallvec` 1 type.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` has no cache version",
        label = "no `CacheVersion` impl for this type",
        note = "if it is (or holds) a `smallvec` 1 type, cache-version-core implements it behind its feature `smallvec1`: `cache-version-core = {{ version = \"...\", features = [\"smallvec1\"] }}`; otherwise derive `CacheVersion` for it, or state its shape on the field with `#[cache_version(as = \"Type\")]` or `#[cache_version(opaque)]`"
    )]
    pub trait NeedsFeature: CacheVersion {}

    #[diagnostic::do_not_recommend]
    impl<T: CacheVersion + ?Sized> NeedsFeature for T {}

    /// `__private::field`, through [`NeedsFeature`].
    pub const fn field<T: NeedsFeature + ?Sized>(name: &'static str) -> Field {
        Field::new(name, Ty::of::<T>())
    }

    /// `Ty::of`, through [`NeedsFeature`].
    pub const fn ty<T: NeedsFeature + ?Sized>() -> Ty {
        Ty::of::<T>()
    }
}
