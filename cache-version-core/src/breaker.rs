//! The circuit breaker: while the store keeps failing, the cache stops calling it.
//!
//! One breaker per cache, shared by all its handles (and the live-version registry's
//! heartbeat). It counts consecutive store calls that failed because the store could not be
//! reached or did not answer in time ([`StoreError::Unavailable`], [`StoreError::Timeout`]);
//! other errors (a value too large, a server's refusal of one command) mean the store answers
//! and do not count. After [`BreakerConfig::failures`] of them in a row it **opens**: for
//! [`BreakerConfig::cooldown`] every call fails at once with [`BreakerOpen`] (wrapped in
//! `StoreError::Unavailable`), which the cache turns into a miss or a no-op in microseconds
//! when it fails open, or returns at once when it fails closed. Then it lets **one probe**
//! through: a success closes it, a failure opens it for another cooldown. Each transition is
//! logged once (`warn` on open, `info` on close) and counted
//! (`cache_version_breaker_opened`, `cache_version_breaker_rejected`).
//!
//! FusionCache has the same mechanism for its distributed tier (off there by default); here
//! it is on by default, because a cache whose every call waits out its timeout while Redis
//! is down turns a cache outage into a latency outage (measured: 0.5 s per request).

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use crate::store::StoreError;

/// The settings of the circuit breaker.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BreakerConfig {
    /// Whether the breaker is used (default `true`).
    pub enabled: bool,
    /// Consecutive unavailable-or-timed-out store calls that open it (default 5).
    pub failures: u32,
    /// How long it stays open before one probe call goes through (default 1 s).
    pub cooldown: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            enabled: true,
            failures: 5,
            cooldown: Duration::from_secs(1),
        }
    }
}

impl BreakerConfig {
    /// No breaker: every call goes to the store.
    pub fn disabled() -> Self {
        BreakerConfig {
            enabled: false,
            ..BreakerConfig::default()
        }
    }

    /// Opens after `n` consecutive failures (at least 1).
    pub fn with_failures(mut self, n: u32) -> Self {
        self.failures = n.max(1);
        self
    }

    /// Stays open for `cooldown` before a probe.
    pub fn with_cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }
}

/// The error of a call the open breaker refused (inside [`StoreError::Unavailable`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the cache's circuit breaker is open: the store failed {failures} times in a row; no call until a probe succeeds")]
pub struct BreakerOpen {
    /// The failures that opened it.
    pub failures: u32,
}

impl BreakerOpen {
    /// Whether `e` is a call the breaker refused.
    pub fn is(e: &StoreError) -> bool {
        matches!(e, StoreError::Unavailable(source) if source.downcast_ref::<BreakerOpen>().is_some())
    }
}

const CLOSED: u8 = 0;
const OPEN: u8 = 1;
/// Open, and one probe is in flight.
const PROBING: u8 = 2;

/// The breaker's state; cheap to consult on every call (two atomic loads when closed).
#[derive(Debug)]
pub(crate) struct Breaker {
    config: BreakerConfig,
    state: AtomicU8,
    consecutive: AtomicU32,
    /// When it opened, in ms since `epoch`.
    opened_at: AtomicU64,
    epoch: Instant,
    /// Counts for metrics and stats.
    pub(crate) opened: AtomicU64,
    pub(crate) rejected: AtomicU64,
}

/// What the breaker allows for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Go ahead.
    Call,
    /// Go ahead: this call is the probe of an open breaker.
    Probe,
    /// Refused.
    Reject,
}

impl Breaker {
    pub(crate) fn new(config: BreakerConfig) -> Self {
        Breaker {
            config,
            state: AtomicU8::new(CLOSED),
            consecutive: AtomicU32::new(0),
            opened_at: AtomicU64::new(0),
            epoch: Instant::now(),
            opened: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether a call may go to the store now.
    pub(crate) fn admit(&self) -> Admit {
        if !self.config.enabled {
            return Admit::Call;
        }
        match self.state.load(Ordering::Acquire) {
            CLOSED => Admit::Call,
            OPEN => {
                let since = self
                    .now_ms()
                    .saturating_sub(self.opened_at.load(Ordering::Relaxed));
                let cooled = u128::from(since) >= self.config.cooldown.as_millis();
                if cooled
                    && self
                        .state
                        .compare_exchange(OPEN, PROBING, Ordering::AcqRel, Ordering::Relaxed)
                        .is_ok()
                {
                    Admit::Probe
                } else {
                    self.reject()
                }
            }
            _ => self.reject(),
        }
    }

    fn reject(&self) -> Admit {
        self.rejected.fetch_add(1, Ordering::Relaxed);
        Admit::Reject
    }

    /// The error a refused call returns.
    pub(crate) fn refusal(&self) -> StoreError {
        StoreError::unavailable(BreakerOpen {
            failures: self.config.failures,
        })
    }

    /// Records how an admitted call ended.
    pub(crate) fn record<R>(&self, admit: Admit, result: &Result<R, StoreError>) {
        if !self.config.enabled || admit == Admit::Reject {
            return;
        }
        let failed = matches!(
            result,
            Err(StoreError::Unavailable(_) | StoreError::Timeout(_))
        );
        match (admit, failed) {
            (Admit::Probe, false) => {
                self.consecutive.store(0, Ordering::Relaxed);
                self.state.store(CLOSED, Ordering::Release);
                tracing::info!("cache store answered again: circuit breaker closed");
            }
            (Admit::Probe, true) => {
                self.opened_at.store(self.now_ms(), Ordering::Relaxed);
                self.state.store(OPEN, Ordering::Release);
            }
            (_, false) => {
                if self.consecutive.load(Ordering::Relaxed) != 0 {
                    self.consecutive.store(0, Ordering::Relaxed);
                }
            }
            (_, true) => {
                let n = self.consecutive.fetch_add(1, Ordering::Relaxed) + 1;
                if n >= self.config.failures
                    && self
                        .state
                        .compare_exchange(CLOSED, OPEN, Ordering::AcqRel, Ordering::Relaxed)
                        .is_ok()
                {
                    self.opened_at.store(self.now_ms(), Ordering::Relaxed);
                    self.opened.fetch_add(1, Ordering::Relaxed);
                    metrics::counter!("cache_version_breaker_opened").increment(1);
                    let error = match result {
                        Err(e) => e.to_string(),
                        Ok(_) => String::new(),
                    };
                    tracing::warn!(
                        failures = n,
                        cooldown = ?self.config.cooldown,
                        %error,
                        "cache store failing: circuit breaker open; calls skip the store until a probe succeeds"
                    );
                }
            }
        }
    }

    /// Whether it is open (or probing) now.
    pub(crate) fn is_open(&self) -> bool {
        self.state.load(Ordering::Acquire) != CLOSED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail() -> Result<(), StoreError> {
        Err(StoreError::unavailable("down"))
    }

    #[test]
    fn opens_after_consecutive_failures_probes_and_closes() {
        let b = Breaker::new(BreakerConfig {
            enabled: true,
            failures: 3,
            cooldown: Duration::from_millis(30),
        });
        for _ in 0..2 {
            let a = b.admit();
            b.record(a, &fail());
        }
        // A success in between resets the count.
        b.record(b.admit(), &Ok::<(), StoreError>(()));
        for _ in 0..2 {
            b.record(b.admit(), &fail());
        }
        assert!(!b.is_open());
        // Other errors mean the store answers: they count as a success.
        b.record(b.admit(), &Err::<(), _>(StoreError::backend("WRONGTYPE")));
        b.record(b.admit(), &fail());
        b.record(b.admit(), &fail());
        assert!(!b.is_open());
        b.record(b.admit(), &fail());
        assert!(b.is_open());
        assert_eq!(b.admit(), Admit::Reject);
        assert!(BreakerOpen::is(&b.refusal()));
        std::thread::sleep(Duration::from_millis(40));
        // One probe; the others are refused while it runs.
        let probe = b.admit();
        assert_eq!(probe, Admit::Probe);
        assert_eq!(b.admit(), Admit::Reject);
        b.record(probe, &fail());
        assert_eq!(b.admit(), Admit::Reject, "reopened for a cooldown");
        std::thread::sleep(Duration::from_millis(40));
        let probe = b.admit();
        b.record(probe, &Ok::<(), StoreError>(()));
        assert!(!b.is_open());
        assert_eq!(b.admit(), Admit::Call);
        assert_eq!(b.opened.load(Ordering::Relaxed), 1);
        assert!(b.rejected.load(Ordering::Relaxed) >= 3);
    }

    #[test]
    fn disabled_never_opens() {
        let b = Breaker::new(BreakerConfig {
            enabled: false,
            ..BreakerConfig::default()
        });
        for _ in 0..100 {
            b.record(b.admit(), &fail());
        }
        assert_eq!(b.admit(), Admit::Call);
    }
}
