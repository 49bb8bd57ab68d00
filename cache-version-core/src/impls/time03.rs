//! Impls for time 0.3 (feature `time03`). Each describes what time's own serde impl writes
//! (time 0.3.55, `src/serde/mod.rs`), not the Rust type.
//!
//! time branches on `Serializer::is_human_readable` only when its `serde-human-readable`
//! feature is on; without it, it writes the compact form to every format. Features are
//! unified across a build, so any crate could turn it on behind our back: the `time03`
//! feature therefore turns it on itself, and every type here whose impl branches is a
//! [`Shape::Readable`] (a formatted string for human-readable formats, a tuple or a number for
//! compact ones). time's `large-dates` feature widens the year range of the strings but not
//! their shape.

use time::{
    Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcDateTime, UtcOffset, Weekday,
};

use crate::shape::{Shape, Ty};
use crate::CacheVersion;

// `serialize_str` of `2024-01-31`; compact: `(year: i32, ordinal: u16)`.
#[diagnostic::do_not_recommend]
impl CacheVersion for Date {
    const SHAPE: &'static Shape = &Shape::Readable {
        human: Ty::of::<str>(),
        compact: Ty::of::<(i32, u16)>(),
    };
}

// `serialize_str` of `13:45:00.0`; compact: `(hour: u8, minute: u8, second: u8, nanosecond:
// u32)`.
#[diagnostic::do_not_recommend]
impl CacheVersion for Time {
    const SHAPE: &'static Shape = &Shape::Readable {
        human: Ty::of::<str>(),
        compact: Ty::of::<(u8, u8, u8, u32)>(),
    };
}

// (`PlainDateTime` since time 0.3.54; `PrimitiveDateTime` is its alias.) `serialize_str` of
// `2024-01-31 13:45:00.0`; compact: `(year: i32, ordinal: u16, hour: u8, minute: u8,
// second: u8, nanosecond: u32)`.
#[diagnostic::do_not_recommend]
impl CacheVersion for PrimitiveDateTime {
    const SHAPE: &'static Shape = &Shape::Readable {
        human: Ty::of::<str>(),
        compact: Ty::of::<(i32, u16, u8, u8, u8, u32)>(),
    };
}

// The same as `PrimitiveDateTime`, in UTC: `serialize_str` of `2024-01-31 13:45:00.0`;
// compact: `(year: i32, ordinal: u16, hour: u8, minute: u8, second: u8, nanosecond: u32)`.
#[diagnostic::do_not_recommend]
impl CacheVersion for UtcDateTime {
    const SHAPE: &'static Shape = &Shape::Readable {
        human: Ty::of::<str>(),
        compact: Ty::of::<(i32, u16, u8, u8, u8, u32)>(),
    };
}

// `serialize_str` of `2024-01-31 13:45:00.0 +01:00:00`; compact: `(year: i32, ordinal: u16,
// hour: u8, minute: u8, second: u8, nanosecond: u32, offset hours: i8, offset minutes: i8,
// offset seconds: i8)`.
#[diagnostic::do_not_recommend]
impl CacheVersion for OffsetDateTime {
    const SHAPE: &'static Shape = &Shape::Readable {
        human: Ty::of::<str>(),
        compact: Ty::of::<(i32, u16, u8, u8, u8, u32, i8, i8, i8)>(),
    };
}

// `serialize_str` of `+01:00:00`; compact: `(hours: i8, minutes: i8, seconds: i8)`.
#[diagnostic::do_not_recommend]
impl CacheVersion for UtcOffset {
    const SHAPE: &'static Shape = &Shape::Readable {
        human: Ty::of::<str>(),
        compact: Ty::of::<(i8, i8, i8)>(),
    };
}

// (`SignedDuration` since time 0.3.54; `Duration` is its alias.) `collect_str` of
// `-1.500000000` (seconds, nine-digit fraction); compact: `(whole seconds: i64, subsecond
// nanoseconds: i32)`.
#[diagnostic::do_not_recommend]
impl CacheVersion for Duration {
    const SHAPE: &'static Shape = &Shape::Readable {
        human: Ty::of::<str>(),
        compact: Ty::of::<(i64, i32)>(),
    };
}

// The English name (`January`) as a string; compact: the month number as a `u8` (1-12).
#[diagnostic::do_not_recommend]
impl CacheVersion for Month {
    const SHAPE: &'static Shape = &Shape::Readable {
        human: Ty::of::<str>(),
        compact: Ty::of::<u8>(),
    };
}

// The English name (`Monday`) as a string; compact: `number_from_monday` as a `u8` (1-7).
#[diagnostic::do_not_recommend]
impl CacheVersion for Weekday {
    const SHAPE: &'static Shape = &Shape::Readable {
        human: Ty::of::<str>(),
        compact: Ty::of::<u8>(),
    };
}
