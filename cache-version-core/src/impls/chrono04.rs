//! Impls for chrono 0.4 (feature `chrono04`). Each describes what chrono's own serde impl
//! writes (chrono 0.4.45, the `serde` feature), not the Rust type.
//!
//! chrono writes every date and time type as text (`Serializer::collect_str`, which is
//! `serialize_str` of the formatted value), for every format: it never branches on
//! `is_human_readable`. `FixedOffset`, `Utc`, `Local`, `Days`, `Months` and `IsoWeek` have no
//! `Serialize` impl, so they have no impl here either.

use chrono::{DateTime, Month, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Weekday};

use crate::shape::{Shape, Ty};
use crate::CacheVersion;

// `naive/date/mod.rs`: `collect_str` of the ISO 8601 date (`2024-01-31`).
#[diagnostic::do_not_recommend]
impl CacheVersion for NaiveDate {
    const SHAPE: &'static Shape = &Shape::Str;
}

// `naive/time/serde.rs`: `collect_str` of the time (`13:45:00.123`).
#[diagnostic::do_not_recommend]
impl CacheVersion for NaiveTime {
    const SHAPE: &'static Shape = &Shape::Str;
}

// `naive/datetime/serde.rs`: `collect_str` of the ISO 8601 date and time
// (`2024-01-31T13:45:00`).
#[diagnostic::do_not_recommend]
impl CacheVersion for NaiveDateTime {
    const SHAPE: &'static Shape = &Shape::Str;
}

// `datetime/serde.rs`: `collect_str` of the RFC 3339 form (`2024-01-31T13:45:00+01:00`), for
// every time zone (`Utc`, `FixedOffset`, `Local`, …): the impl is generic over `Tz: TimeZone`.
impl<Tz: TimeZone> CacheVersion for DateTime<Tz> {
    const SHAPE: &'static Shape = &Shape::Str;
}

// `time_delta.rs`: the tuple `(secs: i64, nanos: i32)`. `chrono::Duration` is an alias of
// `TimeDelta`, so this covers it too.
#[diagnostic::do_not_recommend]
impl CacheVersion for TimeDelta {
    const SHAPE: &'static Shape = &Shape::Tuple(&[Ty::of::<i64>(), Ty::of::<i32>()]);
}

// `month.rs`: `collect_str` of the English name (`January`).
#[diagnostic::do_not_recommend]
impl CacheVersion for Month {
    const SHAPE: &'static Shape = &Shape::Str;
}

// `weekday.rs`: `collect_str` of the `Display` form, the short English name (`Mon`).
#[diagnostic::do_not_recommend]
impl CacheVersion for Weekday {
    const SHAPE: &'static Shape = &Shape::Str;
}
