//! [`Link`]: a connection that (re)connects on the store's terms.
//!
//! A link is in one of four states, watched by every caller:
//! - `Connecting`: the first attempt after a dropped connection is under way; callers wait for
//!   it (each within its own response timeout), so a blip costs no error.
//! - `Up`: calls go straight to the connection.
//! - `Down`: an attempt failed; attempts go on in the background with backoff, and callers
//!   fail at once with [`StoreError::Unavailable`] instead of each waiting out a timeout.
//! - `Failed`: the server refused in a way no retry can fix (credentials, ACL, database
//!   number, URL); no more attempts, and every call fails at once with that error.
//!
//! The standalone store links a `MultiplexedConnection` and reconnects when it drops. A
//! cluster store links a `ClusterConnection` only to get its first connection (the cluster
//! client repairs its node connections by itself); a lazily built store of either kind starts
//! `Down` and connects in the background.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use cache_version_core::StoreError;
use tokio::sync::watch;

use crate::error::{ErrorKind, RedisStoreError, Secrets};

/// Opens one connection.
pub(crate) type Connector<C> =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = redis::RedisResult<C>> + Send>> + Send + Sync>;

#[derive(Clone)]
enum State<C> {
    Connecting,
    Up { conn: C, generation: u64 },
    Down { error: RedisStoreError },
    Failed { error: RedisStoreError },
}

/// A shared, reconnecting connection. Cheap to clone.
pub(crate) struct Link<C> {
    shared: Arc<Shared<C>>,
}

impl<C> Clone for Link<C> {
    fn clone(&self) -> Self {
        Link {
            shared: self.shared.clone(),
        }
    }
}

struct Shared<C> {
    state: watch::Sender<State<C>>,
    /// `None` for a connection handed in by the caller: it is never replaced.
    connector: Option<Connector<C>>,
    generation: AtomicU64,
    /// A background loop is connecting (cleared when it ends, also when its runtime drops it).
    reconnecting: AtomicBool,
    connect_timeout: Duration,
    max_delay: Duration,
    /// Redacted, for messages and logs.
    target: String,
    secrets: Secrets,
}

/// The first delay between background attempts (doubling up to the configured maximum).
const MIN_DELAY: Duration = Duration::from_millis(100);

/// What the caller may do with the current state.
enum Next<C> {
    Use(C, u64),
    Wait,
    Fail(StoreError),
}

impl<C: Clone + Send + Sync + 'static> Link<C> {
    fn with_state(
        state: State<C>,
        connector: Option<Connector<C>>,
        connect_timeout: Duration,
        max_delay: Duration,
        target: String,
        secrets: Secrets,
    ) -> Self {
        Link {
            shared: Arc::new(Shared {
                state: watch::Sender::new(state),
                connector,
                generation: AtomicU64::new(0),
                reconnecting: AtomicBool::new(false),
                connect_timeout,
                max_delay,
                target,
                secrets,
            }),
        }
    }

    /// A link over a connection the caller made (never replaced).
    pub(crate) fn fixed(conn: C, target: String) -> Self {
        Link::with_state(
            State::Up {
                conn,
                generation: 0,
            },
            None,
            Duration::from_secs(1),
            Duration::from_secs(1),
            target,
            Secrets::default(),
        )
    }

    /// Connects now: up to `attempts` tries with backoff, stopping at the first error that
    /// retrying cannot fix.
    pub(crate) async fn connect(
        connector: Connector<C>,
        attempts: usize,
        connect_timeout: Duration,
        max_delay: Duration,
        target: String,
        secrets: Secrets,
    ) -> Result<Self, RedisStoreError> {
        let link = Link::with_state(
            State::Connecting,
            Some(connector),
            connect_timeout,
            max_delay,
            target,
            secrets,
        );
        let mut delay = MIN_DELAY;
        let mut last = None;
        for attempt in 0..attempts.max(1) {
            if attempt > 0 {
                tokio::time::sleep(jittered(delay)).await;
                delay = (delay * 2).min(max_delay);
            }
            match link.shared.attempt().await {
                Ok(conn) => {
                    link.shared.set_up(conn);
                    return Ok(link);
                }
                Err(e) if !e.is_retryable() => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("at least one attempt"))
    }

    /// A link that connects in the background from now on; until it is up, callers fail at
    /// once with [`StoreError::Unavailable`].
    ///
    /// Needs a Tokio runtime (the caller checked).
    pub(crate) fn lazy(
        connector: Connector<C>,
        connect_timeout: Duration,
        max_delay: Duration,
        target: String,
        secrets: Secrets,
    ) -> Self {
        let error = RedisStoreError::new(
            ErrorKind::Connection,
            format!("not connected yet to {target}: connecting in the background"),
        );
        let link = Link::with_state(
            State::Down { error },
            Some(connector),
            connect_timeout,
            max_delay,
            target,
            secrets,
        );
        link.ensure_reconnecting();
        link
    }

    /// Starts a background connection loop on the current runtime unless one is running.
    /// Called on every call that finds the link down or connecting, so a loop that ended with
    /// its runtime (a test's runtime, a service's shut down) is started again by the next
    /// caller.
    fn ensure_reconnecting(&self) {
        if self.shared.connector.is_none() || self.shared.reconnecting.swap(true, Ordering::AcqRel)
        {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(reconnect(Arc::downgrade(&self.shared)));
            }
            Err(_) => self.shared.reconnecting.store(false, Ordering::Release),
        }
    }

    /// The connection and its generation: at once when up, after the attempt under way when
    /// connecting, or [`StoreError::Unavailable`] at once when down or failed.
    pub(crate) async fn get(&self) -> Result<(C, u64), StoreError> {
        let mut rx = self.shared.state.subscribe();
        loop {
            let (next, wants_loop) = match &*rx.borrow_and_update() {
                State::Up { conn, generation } => (Next::Use(conn.clone(), *generation), false),
                State::Connecting => (Next::Wait, true),
                State::Down { error } => (Next::Fail(StoreError::unavailable(error.clone())), true),
                // Refused for good: no attempt, ever.
                State::Failed { error } => {
                    (Next::Fail(StoreError::unavailable(error.clone())), false)
                }
            };
            if wants_loop {
                self.ensure_reconnecting();
            }
            match next {
                Next::Use(c, g) => return Ok((c, g)),
                Next::Fail(e) => return Err(e),
                Next::Wait => {
                    if rx.changed().await.is_err() {
                        return Err(StoreError::unavailable(RedisStoreError::new(
                            ErrorKind::Connection,
                            "the store was dropped",
                        )));
                    }
                }
            }
        }
    }

    /// Whether the link is up now.
    pub(crate) fn is_up(&self) -> bool {
        matches!(&*self.shared.state.borrow(), State::Up { .. })
    }

    /// Reports that the connection of `generation` dropped: the first report moves the link
    /// to `Connecting` and starts reconnecting in the background.
    pub(crate) fn broken(&self, generation: u64) {
        if self.shared.connector.is_none() {
            return;
        }
        let started = self.shared.state.send_if_modified(|s| match s {
            State::Up { generation: g, .. } if *g == generation => {
                *s = State::Connecting;
                true
            }
            _ => false,
        });
        if started {
            tracing::debug!(target: "cache_version_redis", server = %self.shared.target, "connection dropped; reconnecting");
            self.ensure_reconnecting();
        }
    }
}

impl<C: Clone + Send + Sync + 'static> Shared<C> {
    /// One connection attempt within the connect timeout.
    async fn attempt(&self) -> Result<C, RedisStoreError> {
        let connector = self
            .connector
            .as_ref()
            .expect("only links with a connector connect");
        match tokio::time::timeout(self.connect_timeout, connector()).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(RedisStoreError::from_redis(&e, &self.secrets)
                .context(format!("connecting to {}", self.target))),
            Err(_) => Err(RedisStoreError::new(
                ErrorKind::Timeout,
                format!(
                    "connecting to {}: no answer within {:?}",
                    self.target, self.connect_timeout
                ),
            )),
        }
    }

    fn set_up(&self, conn: C) {
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        self.state.send_replace(State::Up { conn, generation });
    }
}

/// Clears `reconnecting` when the loop ends, however it ends; a loop dropped while
/// `Connecting` (its runtime shut down) leaves the link `Down`, so waiters stop waiting and
/// the next caller starts a loop again.
struct Running<C> {
    shared: Weak<Shared<C>>,
    /// The loop returned (rather than being dropped mid-attempt).
    finished: bool,
}

impl<C> Drop for Running<C> {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            let finished = self.finished;
            shared.state.send_if_modified(|s| {
                if !finished && matches!(s, State::Connecting) {
                    *s = State::Down {
                        error: RedisStoreError::new(
                            ErrorKind::Connection,
                            format!("reconnecting to {} was interrupted", shared.target),
                        ),
                    };
                    true
                } else {
                    false
                }
            });
            shared.reconnecting.store(false, Ordering::Release);
        }
    }
}

/// Connects in the background until connected, the error cannot be fixed by retrying, or the
/// store is dropped.
async fn reconnect<C: Clone + Send + Sync + 'static>(shared: Weak<Shared<C>>) {
    let mut running = Running {
        shared: shared.clone(),
        finished: false,
    };
    let mut delay = MIN_DELAY;
    let mut failures = 0u64;
    loop {
        let Some(link) = shared.upgrade() else {
            running.finished = true;
            return;
        };
        let result = link.attempt().await;
        match result {
            Ok(conn) => {
                running.finished = true;
                link.set_up(conn);
                if failures > 0 {
                    tracing::info!(target: "cache_version_redis", server = %link.target, failures, "connected");
                } else {
                    tracing::debug!(target: "cache_version_redis", server = %link.target, "connected");
                }
                return;
            }
            Err(error) if !error.is_retryable() => {
                tracing::error!(target: "cache_version_redis", server = %link.target, %error, "cannot connect; not retrying");
                running.finished = true;
                link.state.send_replace(State::Failed { error });
                return;
            }
            Err(error) => {
                if failures == 0 {
                    tracing::warn!(target: "cache_version_redis", server = %link.target, %error, "cannot connect; retrying in the background");
                } else {
                    tracing::debug!(target: "cache_version_redis", server = %link.target, %error, failures, "cannot connect");
                }
                failures += 1;
                link.state.send_replace(State::Down { error });
            }
        }
        let max = link.max_delay;
        drop(link);
        tokio::time::sleep(jittered(delay)).await;
        delay = (delay * 2).min(max);
    }
}

/// `d` scaled by a factor in 0.5..1.0, so many stores do not reconnect in lockstep.
pub(crate) fn jittered(d: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(d.as_nanos() as u64);
    let unit = (h.finish() >> 11) as f64 / (1u64 << 53) as f64;
    d.mul_f64(0.5 + unit / 2.0)
}
