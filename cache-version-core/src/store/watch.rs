//! [`Watch`]: what a store reports about changes to its keys, for a local tier of decoded
//! values that must never serve a value the store no longer holds.
//!
//! A store that can report changes returns a [`Watch`] from [`Store::watch`](super::Store::watch);
//! the store's side holds the matching [`WatchSender`]. The events, in order:
//!
//! - [`WatchEvent::Established`]: from now on, every change under the prefix is reported. A new
//!   watch starts *not* established; this is its first event once the store can see changes
//!   (on Redis: tracking is on on every primary).
//! - [`WatchEvent::Invalidated`]: these keys changed (a write, a delete, an expiry or an
//!   eviction, by any client).
//! - [`WatchEvent::Flushed`]: every key may have changed (`FLUSHALL`/`FLUSHDB`,
//!   [`MemoryStore::clear`](crate::MemoryStore::clear)).
//! - [`WatchEvent::Lost`]: changes can no longer be seen (a tracking connection dropped, a
//!   cluster's primaries changed, or the watcher fell too far behind). A local tier drops
//!   everything and stays unused until the next `Established`.
//!
//! Invalidations are only delivered while the watch is established: between `Lost` and
//! `Established` a consumer holds nothing it could invalidate. [`Watch::recv`] returns `None`
//! when the watch has ended for good (the store was dropped, or it can never be established:
//! [`Watch::error`] says why).
//!
//! Delivery never blocks the store: events queue in the watch. When more than
//! [`Watch::MAX_QUEUED_KEYS`] keys wait (a consumer that does not keep up with a mass delete),
//! the queue is replaced by `Lost` followed, when the store is established, by
//! `Established`: the consumer flushes instead of reading every key.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

/// What a [`Watch`] reports; see the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WatchEvent {
    /// From now on every change under the prefix is reported (the first event of a watch, and
    /// the end of each `Lost` period).
    Established,
    /// These keys (each under the prefix) were written, deleted, expired or evicted.
    Invalidated(Vec<Vec<u8>>),
    /// Every key may have changed (`FLUSHALL`, `FLUSHDB`, a store cleared).
    Flushed,
    /// Changes cannot be seen until the next [`WatchEvent::Established`]: drop every local
    /// entry and keep none until then.
    Lost,
}

struct State {
    events: VecDeque<WatchEvent>,
    /// Keys in `events`.
    queued_keys: usize,
    /// The store's side: changes are seen now.
    established: bool,
    /// The consumer dropped its `Watch`.
    closed: bool,
    /// The store's side ended (every sender dropped, or `fail`).
    ended: bool,
    error: Option<String>,
    senders: usize,
}

struct Hub {
    state: Mutex<State>,
    /// Wakes the consumer.
    ready: Notify,
    /// Wakes the store's tasks when the consumer drops the watch.
    closing: Notify,
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The receiving side of a store's change reports; see the [module documentation](self).
///
/// Dropping it tells the store to stop watching (a `RedisStore` closes its tracking
/// connections).
pub struct Watch {
    hub: Arc<Hub>,
}

/// The store's side of a [`Watch`]: cheap to clone, never blocks.
pub struct WatchSender {
    hub: Arc<Hub>,
}

impl fmt::Debug for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.hub.lock();
        f.debug_struct("Watch")
            .field("established", &s.established)
            .field("queued", &s.events.len())
            .field("ended", &s.ended)
            .finish()
    }
}

impl fmt::Debug for WatchSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.hub.lock();
        f.debug_struct("WatchSender")
            .field("established", &s.established)
            .field("closed", &s.closed)
            .finish()
    }
}

impl Watch {
    /// The most keys queued before the queue is replaced by a flush (`Lost`, then
    /// `Established`).
    pub const MAX_QUEUED_KEYS: usize = 100_000;

    /// A new watch (not established) and its sender, for store implementations.
    pub fn channel() -> (WatchSender, Watch) {
        let hub = Arc::new(Hub {
            state: Mutex::new(State {
                events: VecDeque::new(),
                queued_keys: 0,
                established: false,
                closed: false,
                ended: false,
                error: None,
                senders: 1,
            }),
            ready: Notify::new(),
            closing: Notify::new(),
        });
        (WatchSender { hub: hub.clone() }, Watch { hub })
    }

    /// The next event; `None` once the watch has ended for good (the store was dropped, or
    /// it can never be established, see [`Watch::error`]). Cancel-safe.
    pub async fn recv(&mut self) -> Option<WatchEvent> {
        loop {
            // Registered before looking, so a send in between is not missed (`notify_one`
            // also leaves a permit when nobody waits).
            let notified = self.hub.ready.notified();
            if let Some(event) = pop(&self.hub) {
                return Some(event);
            }
            if self.hub.lock().ended {
                return None;
            }
            notified.await;
        }
    }

    /// The next event if one is queued.
    pub fn try_recv(&mut self) -> Option<WatchEvent> {
        pop(&self.hub)
    }

    /// Why the watch ended, when the store gave a reason (passwords redacted); `None` while
    /// it runs.
    pub fn error(&self) -> Option<String> {
        self.hub.lock().error.clone()
    }

    /// Whether the store's side sees changes now. What the consumer acts on is the events;
    /// this is for readiness checks and tests.
    pub fn is_established(&self) -> bool {
        self.hub.lock().established
    }
}

fn pop(hub: &Hub) -> Option<WatchEvent> {
    let mut s = hub.lock();
    let event = s.events.pop_front()?;
    if let WatchEvent::Invalidated(keys) = &event {
        s.queued_keys -= keys.len();
    }
    Some(event)
}

impl Drop for Watch {
    fn drop(&mut self) {
        let mut s = self.hub.lock();
        s.closed = true;
        s.events.clear();
        s.queued_keys = 0;
        drop(s);
        self.hub.closing.notify_waiters();
    }
}

impl Clone for WatchSender {
    fn clone(&self) -> Self {
        self.hub.lock().senders += 1;
        WatchSender {
            hub: self.hub.clone(),
        }
    }
}

impl Drop for WatchSender {
    fn drop(&mut self) {
        let mut s = self.hub.lock();
        s.senders -= 1;
        if s.senders == 0 && !s.ended {
            s.ended = true;
            drop(s);
            self.hub.ready.notify_one();
        }
    }
}

impl WatchSender {
    fn push(&self, s: &mut State, event: WatchEvent) {
        if let WatchEvent::Invalidated(keys) = &event {
            s.queued_keys += keys.len();
        }
        s.events.push_back(event);
        self.queued(s);
    }

    /// Wakes the consumer, first replacing a queue that grew too long by a flush.
    fn queued(&self, s: &mut State) {
        if s.queued_keys > Watch::MAX_QUEUED_KEYS {
            s.events.clear();
            s.queued_keys = 0;
            s.events.push_back(WatchEvent::Lost);
            if s.established {
                s.events.push_back(WatchEvent::Established);
            }
        }
        self.hub.ready.notify_one();
    }

    /// Reports changed keys. Dropped while the watch is not established (the consumer holds
    /// nothing then) or closed.
    pub fn invalidated(&self, keys: Vec<Vec<u8>>) {
        if keys.is_empty() {
            return;
        }
        let mut s = self.hub.lock();
        if !s.established || s.closed || s.ended {
            return;
        }
        // Appended to the last event when it is an invalidation the consumer has not taken
        // yet: one wake-up for a burst.
        if let Some(WatchEvent::Invalidated(last)) = s.events.back_mut() {
            let n = keys.len();
            last.extend(keys);
            s.queued_keys += n;
            self.queued(&mut s);
            return;
        }
        self.push(&mut s, WatchEvent::Invalidated(keys));
    }

    /// Reports one changed key (see [`WatchSender::invalidated`]).
    pub fn invalidated_key(&self, key: &[u8]) {
        self.invalidated(vec![key.to_vec()]);
    }

    /// Reports that every key may have changed (while established).
    pub fn flushed(&self) {
        let mut s = self.hub.lock();
        if !s.established || s.closed || s.ended {
            return;
        }
        self.push(&mut s, WatchEvent::Flushed);
    }

    /// Reports that changes cannot be seen any more (once per period: repeated calls are one
    /// event).
    pub fn lost(&self) {
        let mut s = self.hub.lock();
        if !s.established || s.closed || s.ended {
            return;
        }
        s.established = false;
        self.push(&mut s, WatchEvent::Lost);
    }

    /// Reports that every change from now on is seen (once per period).
    pub fn established(&self) {
        let mut s = self.hub.lock();
        if s.established || s.closed || s.ended {
            return;
        }
        s.established = true;
        self.push(&mut s, WatchEvent::Established);
    }

    /// Ends the watch for good with `error` (which must hold no secret): a consumer that is
    /// established gets `Lost`, then [`Watch::recv`] returns `None`.
    pub fn fail(&self, error: impl fmt::Display) {
        let mut s = self.hub.lock();
        if s.ended {
            return;
        }
        if s.established {
            s.established = false;
            self.push(&mut s, WatchEvent::Lost);
        }
        s.ended = true;
        s.error = Some(error.to_string());
        drop(s);
        self.hub.ready.notify_one();
    }

    /// Whether the consumer dropped its [`Watch`] (the store's side should stop).
    pub fn is_closed(&self) -> bool {
        self.hub.lock().closed
    }

    /// Whether the store's side reports changes now.
    pub fn is_established(&self) -> bool {
        self.hub.lock().established
    }

    /// Resolves when the consumer drops its [`Watch`].
    pub async fn closed(&self) {
        loop {
            let closing = self.hub.closing.notified();
            if self.is_closed() {
                return;
            }
            closing.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|k| k.as_bytes().to_vec()).collect()
    }

    #[test]
    fn events_follow_the_state() {
        let (tx, mut w) = Watch::channel();
        // Nothing is delivered before the first `Established`.
        tx.invalidated(keys(&["a"]));
        tx.flushed();
        tx.lost();
        assert_eq!(w.try_recv(), None);
        tx.established();
        tx.established();
        tx.invalidated(keys(&["a"]));
        tx.invalidated(keys(&["b", "c"]));
        tx.flushed();
        tx.invalidated_key(b"d");
        tx.lost();
        tx.lost();
        tx.invalidated(keys(&["e"]));
        tx.established();
        assert!(w.is_established());
        assert_eq!(w.try_recv(), Some(WatchEvent::Established));
        // Consecutive invalidations are merged.
        assert_eq!(
            w.try_recv(),
            Some(WatchEvent::Invalidated(keys(&["a", "b", "c"])))
        );
        assert_eq!(w.try_recv(), Some(WatchEvent::Flushed));
        assert_eq!(w.try_recv(), Some(WatchEvent::Invalidated(keys(&["d"]))));
        assert_eq!(w.try_recv(), Some(WatchEvent::Lost));
        assert_eq!(w.try_recv(), Some(WatchEvent::Established));
        assert_eq!(w.try_recv(), None);
    }

    #[test]
    fn an_overflowing_queue_becomes_a_flush() {
        let (tx, mut w) = Watch::channel();
        tx.established();
        assert_eq!(w.try_recv(), Some(WatchEvent::Established));
        for i in 0..=Watch::MAX_QUEUED_KEYS {
            tx.invalidated(vec![i.to_be_bytes().to_vec()]);
        }
        assert_eq!(w.try_recv(), Some(WatchEvent::Lost));
        assert_eq!(w.try_recv(), Some(WatchEvent::Established));
        assert_eq!(w.try_recv(), None);
        // In one call too, and while lost only `Lost` stays.
        tx.invalidated(vec![Vec::new(); Watch::MAX_QUEUED_KEYS + 1]);
        assert_eq!(w.try_recv(), Some(WatchEvent::Lost));
        assert_eq!(w.try_recv(), Some(WatchEvent::Established));
        tx.invalidated(keys(&["x"]));
        tx.lost();
        assert_eq!(w.try_recv(), Some(WatchEvent::Invalidated(keys(&["x"]))));
        assert_eq!(w.try_recv(), Some(WatchEvent::Lost));
    }

    #[test]
    fn ends_when_the_store_side_goes() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let (tx, mut w) = Watch::channel();
            let tx2 = tx.clone();
            tx.established();
            drop(tx);
            assert_eq!(w.recv().await, Some(WatchEvent::Established));
            let waiter = tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                tx2.invalidated_key(b"k");
                tx2.fail("tracking refused: NOPERM");
            });
            assert_eq!(
                w.recv().await,
                Some(WatchEvent::Invalidated(vec![b"k".to_vec()]))
            );
            assert_eq!(w.recv().await, Some(WatchEvent::Lost));
            assert_eq!(w.recv().await, None);
            assert_eq!(w.error().as_deref(), Some("tracking refused: NOPERM"));
            waiter.await.unwrap();

            // The store's side learns that the consumer left.
            let (tx, w) = Watch::channel();
            let closed = tokio::spawn(async move { tx.closed().await });
            tokio::task::yield_now().await;
            drop(w);
            closed.await.unwrap();
        });
    }
}
