//! Single-flight loads: at most one load of a key at a time per cache, the others wait for
//! its outcome.
//!
//! A flight is registered under the full key and the Rust types of the value and the
//! loader's error (callers with other types load on their own). Its leader publishes an
//! [`Outcome`]; a leader that is dropped (cancelled) or gives up ([`Outcome::Expired`]) lets
//! its waiters take over, and a waiter that waited long enough can take over a flight whose
//! leader does not answer at all ([`Flights::take_over`]). A call made from inside the loader
//! of the flight it would join (the same cache and key, polled on the same thread) is told so
//! ([`Joined::Reentrant`]) instead of waiting for itself.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::sync::watch;

/// What a finished flight published.
pub(crate) enum Outcome<T, E> {
    /// The loaded value.
    Value(T),
    /// The loader's error.
    Failed(Arc<E>),
    /// The leader gave up (load timeout) or was replaced: waiters take over.
    Expired,
}

impl<T: Clone, E> Clone for Outcome<T, E> {
    fn clone(&self) -> Self {
        match self {
            Outcome::Value(v) => Outcome::Value(v.clone()),
            Outcome::Failed(e) => Outcome::Failed(e.clone()),
            Outcome::Expired => Outcome::Expired,
        }
    }
}

type Tx<T, E> = watch::Sender<Option<Outcome<T, E>>>;

/// One flight's channel, as stored in the map.
struct Slot<T, E> {
    tx: Tx<T, E>,
}

type AnySlot = Arc<dyn Any + Send + Sync>;

/// A flight in the map: its typed channel, and whether a write or delete of its key
/// happened while it ran (so its value must not be written back).
#[derive(Clone)]
struct Entry {
    slot: AnySlot,
    invalidated: Arc<AtomicBool>,
    /// The value the leader published while it still runs (a write-back in the background).
    published: Published,
}

/// Makes a copy of the published value (so readers need no `Clone` bound of their own).
type CopyFn = Arc<dyn Fn() -> Box<dyn Any + Send> + Send + Sync>;
type Published = Arc<Mutex<Option<CopyFn>>>;

/// The flights of one cache, by full key.
#[derive(Default)]
pub(crate) struct Flights {
    map: Mutex<HashMap<Vec<u8>, Entry>>,
}

/// What joining a flight gave.
pub(crate) enum Joined<T, E> {
    /// No flight of these types was running: the caller leads a new one.
    Lead(Leader<T, E>),
    /// A flight runs: wait for it.
    Wait(Waiter<T, E>),
    /// The caller is inside the loader of the flight it would join.
    Reentrant,
}

impl Flights {
    /// Joins the flight of `key`, or registers one led by the caller.
    pub(crate) fn join<T, E>(self: &Arc<Self>, key: &[u8]) -> Joined<T, E>
    where
        T: Clone + Send + Sync + 'static,
        E: Send + Sync + 'static,
    {
        if in_own_load(self, key) {
            return Joined::Reentrant;
        }
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = map.get(key).cloned() {
            if let Ok(slot) = entry.slot.clone().downcast::<Slot<T, E>>() {
                return Joined::Wait(Waiter {
                    rx: slot.tx.subscribe(),
                    slot,
                });
            }
            // A flight of other types holds the key: lead one of our own, unregistered.
            return Joined::Lead(self.leader(key, false));
        }
        let leader = self.leader(key, true);
        map.insert(
            key.to_vec(),
            Entry {
                slot: leader.slot.clone() as AnySlot,
                invalidated: leader.invalidated.clone(),
                published: leader.published.clone(),
            },
        );
        Joined::Lead(leader)
    }

    /// Marks the flight of `key`, if one runs, as overtaken by a write or delete of its key:
    /// its value is still returned, but not written back. Cheap when nothing is in flight.
    pub(crate) fn invalidate(&self, key: &[u8]) {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = map.get(key) {
            entry.invalidated.store(true, Ordering::Release);
        }
    }

    /// The value a finished flight of `key` published and still writes back (not overtaken
    /// by a write or delete): what a read of this cache sees before the write lands.
    pub(crate) fn published<T: 'static>(&self, key: &[u8]) -> Option<T> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map.get(key)?;
        if entry.invalidated.load(Ordering::Acquire) {
            return None;
        }
        let copy = entry
            .published
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        copy().downcast::<T>().ok().map(|b| *b)
    }

    /// Retires the flight `waiter` gave up on (its leader does not answer, not even with its
    /// own timeout: a blocked thread, say): if it still holds the key, it is removed, so the
    /// next caller leads a new load, and its other waiters are told to re-join.
    pub(crate) fn abandon<T, E>(&self, key: &[u8], waiter: &Waiter<T, E>)
    where
        T: Clone + Send + Sync + 'static,
        E: Send + Sync + 'static,
    {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let same = map
            .get(key)
            .is_some_and(|e| std::ptr::addr_eq(Arc::as_ptr(&e.slot), Arc::as_ptr(&waiter.slot)));
        if same {
            map.remove(key);
            waiter.slot.tx.send_replace(Some(Outcome::Expired));
        }
    }

    fn leader<T, E>(self: &Arc<Self>, key: &[u8], registered: bool) -> Leader<T, E> {
        Leader {
            flights: self.clone(),
            key: Arc::from(key),
            slot: Arc::new(Slot {
                tx: watch::channel(None).0,
            }),
            invalidated: Arc::default(),
            published: Arc::default(),
            registered,
        }
    }

    fn id(&self) -> usize {
        self as *const Flights as usize
    }
}

/// A caller waiting for another's load.
pub(crate) struct Waiter<T, E> {
    rx: watch::Receiver<Option<Outcome<T, E>>>,
    slot: Arc<Slot<T, E>>,
}

impl<T: Clone, E> Waiter<T, E> {
    /// The flight's outcome; `Expired` too when its leader was dropped without one.
    pub(crate) async fn outcome(&mut self) -> Outcome<T, E> {
        match self.rx.wait_for(Option::is_some).await {
            Ok(done) => done.as_ref().cloned().unwrap_or(Outcome::Expired),
            Err(_) => Outcome::Expired,
        }
    }
}

/// The leader's registration: publishes the outcome, and unregisters on drop (so a cancelled
/// leader lets a waiter take over instead of leaving it waiting). Owns its place in the map,
/// so it can outlive the call (a write-back in the background).
pub(crate) struct Leader<T, E> {
    flights: Arc<Flights>,
    key: Arc<[u8]>,
    slot: Arc<Slot<T, E>>,
    invalidated: Arc<AtomicBool>,
    published: Published,
    registered: bool,
}

impl<T, E> Leader<T, E> {
    /// Publishes the outcome to the waiters (and unregisters the flight).
    pub(crate) fn finish(self, outcome: Outcome<T, E>) {
        self.slot.tx.send_replace(Some(outcome));
    }

    /// Publishes the outcome and keeps the flight registered until the leader is dropped:
    /// callers that come meanwhile get the outcome at once (while its write-back runs).
    pub(crate) fn publish(&self, outcome: Outcome<T, E>)
    where
        T: Clone + Send + Sync + 'static,
    {
        if let Outcome::Value(v) = &outcome {
            let v = v.clone();
            let copy: CopyFn = Arc::new(move || Box::new(v.clone()) as Box<dyn Any + Send>);
            *self.published.lock().unwrap_or_else(|e| e.into_inner()) = Some(copy);
        }
        self.slot.tx.send_replace(Some(outcome));
    }

    /// Whether a write or delete of the key happened since the flight began.
    pub(crate) fn overtaken(&self) -> bool {
        self.invalidated.load(Ordering::Acquire)
    }

    /// Runs the loader's future marked as this flight's load, so a call to the same key made
    /// from inside it is recognised ([`Joined::Reentrant`]).
    pub(crate) fn run<F: Future>(&self, fut: F) -> InLoad<F> {
        InLoad {
            fut,
            flights: self.flights.id(),
            key: self.key.clone(),
        }
    }
}

impl<T, E> Drop for Leader<T, E> {
    fn drop(&mut self) {
        // A leader dropped without an outcome (cancelled): its waiters take over.
        self.slot.tx.send_if_modified(|o| {
            let unset = o.is_none();
            if unset {
                *o = Some(Outcome::Expired);
            }
            unset
        });
        if !self.registered {
            return;
        }
        let mut map = self.flights.map.lock().unwrap_or_else(|e| e.into_inner());
        let ours = map
            .get(&*self.key)
            .is_some_and(|e| std::ptr::addr_eq(Arc::as_ptr(&e.slot), Arc::as_ptr(&self.slot)));
        if ours {
            map.remove(&*self.key);
        }
    }
}

thread_local! {
    /// The flights whose loader is being polled on this thread: (cache's flights, key).
    static IN_LOAD: RefCell<Vec<(usize, Arc<[u8]>)>> = const { RefCell::new(Vec::new()) };
}

fn in_own_load(flights: &Flights, key: &[u8]) -> bool {
    let id = flights.id();
    IN_LOAD.with(|l| l.borrow().iter().any(|(f, k)| *f == id && **k == *key))
}

pin_project_lite::pin_project! {
    /// A loader's future, marked as running for one flight while it is polled.
    pub(crate) struct InLoad<F> {
        #[pin]
        fut: F,
        flights: usize,
        key: Arc<[u8]>,
    }
}

/// Pops the mark even when the loader panics.
struct Unmark;

impl Drop for Unmark {
    fn drop(&mut self) {
        IN_LOAD.with(|l| {
            l.borrow_mut().pop();
        });
    }
}

impl<F: Future> Future for InLoad<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        IN_LOAD.with(|l| l.borrow_mut().push((*this.flights, this.key.clone())));
        let _unmark = Unmark;
        this.fut.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn lead_wait_finish() {
        block_on(async {
            let flights = Arc::new(Flights::default());
            let Joined::<u32, ()>::Lead(leader) = flights.join(b"k") else {
                panic!("first caller leads")
            };
            let Joined::<u32, ()>::Wait(mut waiter) = flights.join(b"k") else {
                panic!("second caller waits")
            };
            // Other types load on their own.
            assert!(matches!(flights.join::<u64, ()>(b"k"), Joined::Lead(_)));
            leader.finish(Outcome::Value(7));
            assert!(matches!(waiter.outcome().await, Outcome::Value(7)));
            // Finished flights are gone.
            assert!(matches!(flights.join::<u32, ()>(b"k"), Joined::Lead(_)));
        });
    }

    #[test]
    fn a_dropped_leader_expires_and_a_silent_one_can_be_abandoned() {
        block_on(async {
            let flights = Arc::new(Flights::default());
            let Joined::<u32, ()>::Lead(leader) = flights.join(b"k") else {
                panic!()
            };
            let Joined::<u32, ()>::Wait(mut w1) = flights.join(b"k") else {
                panic!()
            };
            drop(leader);
            assert!(matches!(w1.outcome().await, Outcome::Expired));

            let Joined::<u32, ()>::Lead(silent) = flights.join(b"k") else {
                panic!()
            };
            let Joined::<u32, ()>::Wait(w2) = flights.join(b"k") else {
                panic!()
            };
            let Joined::<u32, ()>::Wait(mut w3) = flights.join(b"k") else {
                panic!()
            };
            flights.abandon(b"k", &w2);
            assert!(matches!(w3.outcome().await, Outcome::Expired));
            let Joined::<u32, ()>::Lead(new) = flights.join(b"k") else {
                panic!("the next caller leads a new flight")
            };
            // The silent leader finishing late neither disturbs nor removes the new flight.
            silent.finish(Outcome::Value(1));
            let Joined::<u32, ()>::Wait(mut w4) = flights.join(b"k") else {
                panic!("joins the new flight")
            };
            new.finish(Outcome::Value(2));
            assert!(matches!(w4.outcome().await, Outcome::Value(2)));
        });
    }

    #[test]
    fn a_call_from_inside_its_own_load_is_recognised() {
        block_on(async {
            let flights = Arc::new(Flights::default());
            let Joined::<u32, ()>::Lead(leader) = flights.join(b"k") else {
                panic!()
            };
            let inner = leader
                .run(async {
                    (
                        matches!(flights.join::<u32, ()>(b"k"), Joined::Reentrant),
                        matches!(flights.join::<u32, ()>(b"other"), Joined::Lead(_)),
                    )
                })
                .await;
            assert_eq!(inner, (true, true));
            // Outside the load, the same call waits as usual.
            assert!(matches!(flights.join::<u32, ()>(b"k"), Joined::Wait(_)));
        });
    }
}
