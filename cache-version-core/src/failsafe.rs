//! Fail-safe and eager refresh (FusionCache's names): serve the last value when the loader
//! cannot give a new one, and reload hot keys before they expire.
//!
//! **Fail-safe** ([`crate::CacheBuilder::fail_safe`], or per handle
//! [`crate::ModelHandle::with_fail_safe`]): every entry is kept in the store for `max_stale`
//! past its logical expiry (the envelope carries that expiry; the store's TTL is the sum).
//! A read of an entry past its logical expiry is a miss, but `get_or_load` keeps the stale
//! value: when the loader then fails or runs past the soft timeout
//! ([`crate::CacheBuilder::soft_timeout`]), the stale value is returned (counted
//! `stale_hit`) to the caller and every caller waiting on that load, and the loader of that
//! key is not called again in this process for `throttle` (30 s by default): until then the
//! stale value is served at once. A stale value is never served more than `max_stale` after
//! its logical expiry. The load timeout still bounds every caller.
//!
//! **Eager refresh** ([`crate::CacheBuilder::eager_refresh`]): a hit through
//! [`crate::ModelHandle::get_or_refresh`] on an entry past the given fraction of its logical
//! life returns the cached value at once and reloads it in the background (single-flight,
//! so once per key and process), so a hot key never goes cold.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::envelope::Times;

/// The settings of fail-safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FailSafe {
    /// How long past its logical expiry an entry is kept and may be served when loading
    /// fails.
    pub max_stale: Duration,
    /// After a failed load served a stale value, how long this process serves it without
    /// calling the loader of that key again (default 30 s, FusionCache's default).
    pub throttle: Duration,
}

impl FailSafe {
    /// The default throttle: 30 s.
    pub const DEFAULT_THROTTLE: Duration = Duration::from_secs(30);

    /// Keep entries `max_stale` past their logical expiry, with the default throttle.
    pub fn new(max_stale: Duration) -> Self {
        FailSafe {
            max_stale,
            throttle: Self::DEFAULT_THROTTLE,
        }
    }

    /// The throttle after a failed load.
    pub fn with_throttle(mut self, throttle: Duration) -> Self {
        self.throttle = throttle;
        self
    }

    /// The TTL to give the store for an entry of logical TTL `logical`.
    pub(crate) fn physical(
        fail_safe: Option<&FailSafe>,
        logical: Option<Duration>,
    ) -> Option<Duration> {
        match (fail_safe, logical) {
            (Some(fs), Some(t)) => Some(t.saturating_add(fs.max_stale)),
            (_, t) => t,
        }
    }

    /// Whether an entry with `times`, past its logical expiry at `now_ms`, may still be
    /// served as stale.
    pub(crate) fn servable(&self, times: &Times, now_ms: u64) -> bool {
        match times.expires_ms {
            None => true,
            Some(e) => {
                let max = u64::try_from(self.max_stale.as_millis()).unwrap_or(u64::MAX);
                now_ms < e.saturating_add(max)
            }
        }
    }
}

/// The keys whose loader failed recently, with the time until which they are not loaded
/// again. Bounded: beyond `CAP` keys, expired ones are pruned, and new ones are not added
/// while it stays full (their loads are simply tried again).
#[derive(Debug, Default)]
pub(crate) struct Throttles {
    until: Mutex<HashMap<Vec<u8>, Instant>>,
}

const CAP: usize = 100_000;

impl Throttles {
    /// Whether loads of `key` are throttled now.
    pub(crate) fn active(&self, key: &[u8]) -> bool {
        let map = self.until.lock().unwrap_or_else(|e| e.into_inner());
        if map.is_empty() {
            return false;
        }
        map.get(key).is_some_and(|&t| Instant::now() < t)
    }

    /// Throttles loads of `key` for `period`.
    pub(crate) fn start(&self, key: &[u8], period: Duration) {
        let now = Instant::now();
        let mut map = self.until.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CAP {
            map.retain(|_, t| *t > now);
            if map.len() >= CAP {
                return;
            }
        }
        map.insert(key.to_vec(), now + period);
    }

    /// Ends the throttle of `key` (a fresh value was loaded or written).
    pub(crate) fn end(&self, key: &[u8]) {
        let mut map = self.until.lock().unwrap_or_else(|e| e.into_inner());
        if !map.is_empty() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn physical_ttl_and_servable_window() {
        let fs = FailSafe::new(Duration::from_secs(60));
        assert_eq!(
            FailSafe::physical(Some(&fs), Some(Duration::from_secs(10))),
            Some(Duration::from_secs(70))
        );
        assert_eq!(
            FailSafe::physical(None, Some(Duration::from_secs(10))),
            Some(Duration::from_secs(10))
        );
        assert_eq!(FailSafe::physical(Some(&fs), None), None);
        let t = Times::at(1_000, Some(Duration::from_secs(10)));
        assert!(fs.servable(&t, 11_000 + 59_999));
        assert!(!fs.servable(&t, 11_000 + 60_000));
    }

    #[test]
    fn throttles_expire_and_end() {
        let t = Throttles::default();
        assert!(!t.active(b"k"));
        t.start(b"k", Duration::from_millis(30));
        assert!(t.active(b"k"));
        assert!(!t.active(b"other"));
        std::thread::sleep(Duration::from_millis(40));
        assert!(!t.active(b"k"));
        t.start(b"k", Duration::from_secs(5));
        t.end(b"k");
        assert!(!t.active(b"k"));
    }
}
