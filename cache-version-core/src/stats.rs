//! Counters per model and key version: exported through the `metrics` facade and kept in
//! process for [`crate::Cache::stats`].
//!
//! | metric | counted when |
//! |---|---|
//! | `cache_version_hit` | a read returned a value |
//! | `cache_version_miss` | a read returned no value, whatever the reason (absent, expired, or one of the three below under fail-open) |
//! | `cache_version_local_hit` | a hit served by the local tier, without a store call (also counted as a hit) |
//! | `cache_version_decode_error` | a stored value was damaged or foreign (no envelope, too short, undecodable payload) |
//! | `cache_version_version_mismatch` | the envelope named another model, version, codec or format |
//! | `cache_version_store_error` | the store failed or did not answer within the timeout |
//! | `cache_version_load` | `get_or_load` called its loader |
//! | `cache_version_fallback_hit` | a read missed this version's key and was served from an older version registered with `migrate_from` (counted instead of a hit or a miss) |
//! | `cache_version_fallback_read` | a newer version's fallback read found and decoded an entry of this (older) version |
//! | `cache_version_untrusted` | an entry of a young version written before every other build could know it, read as absent (see [`crate::live`]) |
//! | `cache_version_breaker_rejected` | a store call the open circuit breaker refused (see [`crate::breaker`]) |
//! | `cache_version_stale_hit` | `get_or_load` served a stale value by fail-safe (see [`crate::failsafe`]) |
//! | `cache_version_refresh` | an eager refresh started in the background |
//! | `cache_version_write_back_dropped` | a background write-back or refresh was dropped: too many in flight |
//! | `cache_version_partial_write` | a fail-open `set_many` wrote only some of its chunks |
//! | `cache_version_load_timeout` | a `get_or_load` gave up on a load after the load timeout (its own loader's, or the one it waited on) |
//!
//! The local tier counts, per cache and without labels, `cache_version_local_invalidation`
//! (keys the store reported changed), `cache_version_local_flush` (flushes reported) and
//! `cache_version_local_lost` (the store's change reports lost: the tier was cleared and
//! suspended); [`crate::Cache::local_stats`] has these and the tier's size in process.
//!
//! So for one version, `hit + miss + fallback_hit` are the reads of handles of that version,
//! and `fallback_read` the reads of its entries by handles of newer versions: together
//! ([`Stats::reads`]) what says whether a version is still being read (see
//! [`crate::rollout::VersionReport`]).
//!
//! Every metric has the labels `model` (the model name) and `version` (the 16-hex-digit key
//! version). Counters are looked up in the installed recorder on each event, so a recorder
//! installed after the cache was built is honoured; without a recorder that lookup is a no-op.
//! The in-process counters are atomics shared by every handle of one (model, version): no lock
//! on the hot path.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Declares the events: the `Event` enum, the `Stats` fields and the metric names, from one
/// list (so an event is one line here and nowhere else).
macro_rules! events {
    ($( $(#[doc = $doc:literal])* $variant:ident => $field:ident, $metric:literal; )*) => {
        /// Something the cache counts.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Event {
            $( $(#[doc = $doc])* $variant, )*
        }

        const EVENTS: usize = [$(Event::$variant),*].len();

        impl Event {
            /// Every event.
            pub const ALL: [Event; EVENTS] = [$(Event::$variant),*];

            /// The `metrics` counter name.
            pub const fn metric_name(self) -> &'static str {
                match self {
                    $( Event::$variant => $metric, )*
                }
            }

            const fn index(self) -> usize {
                self as usize
            }
        }

        /// Counter values of one model version (or a sum of several).
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct Stats {
            $( $(#[doc = $doc])* pub $field: u64, )*
        }

        impl Stats {
            /// The count of one event.
            pub fn get(&self, event: Event) -> u64 {
                match event {
                    $( Event::$variant => self.$field, )*
                }
            }

            fn set(&mut self, event: Event, n: u64) {
                match event {
                    $( Event::$variant => self.$field = n, )*
                }
            }
        }
    };
}

events! {
    /// Reads that returned a value.
    Hit => hit, "cache_version_hit";
    /// Reads that returned no value, whatever the reason.
    Miss => miss, "cache_version_miss";
    /// Hits served by the local tier without a store call (also counted in `hit`: the
    /// store's hits are `hit - local_hit`).
    LocalHit => local_hit, "cache_version_local_hit";
    /// Damaged or foreign values (no envelope, cut short, checksum or MAC mismatch, too
    /// large, too deep, undecodable payload).
    DecodeError => decode_error, "cache_version_decode_error";
    /// Values of another model, version, codec or format.
    VersionMismatch => version_mismatch, "cache_version_version_mismatch";
    /// Store failures and timeouts.
    StoreError => store_error, "cache_version_store_error";
    /// Loader calls.
    Load => load, "cache_version_load";
    /// Reads that missed this version's key and were served from an older version.
    FallbackHit => fallback_hit, "cache_version_fallback_hit";
    /// Entries of this version read by a newer version's fallback.
    FallbackRead => fallback_read, "cache_version_fallback_read";
    /// Loads that ran out of time (the load timeout), for the loader or a waiter.
    LoadTimeout => load_timeout, "cache_version_load_timeout";
    /// Entries of this version not trusted: written while another build may not yet have
    /// known this version (so its writes may not have reached them), or read while this
    /// build could not confirm it is known (see `crate::live`). Read as absent.
    Untrusted => untrusted, "cache_version_untrusted";
    /// Store calls the open circuit breaker refused (no store call was made).
    BreakerRejected => breaker_rejected, "cache_version_breaker_rejected";
    /// `get_or_load` served a stale value (fail-safe) because its loader failed, ran past
    /// the soft timeout, or is throttled after a failure.
    StaleHit => stale_hit, "cache_version_stale_hit";
    /// Eager refreshes started in the background.
    Refresh => refresh, "cache_version_refresh";
    /// Background write-backs or refreshes dropped: too many already in flight.
    WriteBackDropped => write_back_dropped, "cache_version_write_back_dropped";
    /// A `set_many` under fail-open wrote only some of its chunks (the others failed).
    PartialWrite => partial_write, "cache_version_partial_write";
}

impl Stats {
    /// Every read that involved this version: `hit + miss + fallback_hit` (reads by handles
    /// of this version) plus `fallback_read` (its entries read by newer versions).
    pub fn reads(&self) -> u64 {
        self.hit + self.miss + self.fallback_hit + self.fallback_read
    }

    /// The counters of `self` minus those of `earlier` (saturating): what happened between
    /// two snapshots.
    pub fn since(&self, earlier: &Stats) -> Stats {
        let mut s = Stats::default();
        for e in Event::ALL {
            s.set(e, self.get(e).saturating_sub(earlier.get(e)));
        }
        s
    }

    fn add(&mut self, other: &Stats) {
        for e in Event::ALL {
            self.set(e, self.get(e) + other.get(e));
        }
    }
}

/// The counters of one (model, key version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelStats {
    /// The model name.
    pub model: String,
    /// The key version (16 hex digits).
    pub version: String,
    /// The counters.
    pub stats: Stats,
}

/// A snapshot of a cache's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// One row per (model, key version) with a handle created, in creation order.
    pub models: Vec<ModelStats>,
}

impl StatsSnapshot {
    /// The counters of one model version.
    pub fn get(&self, model: &str, version: &str) -> Option<Stats> {
        self.models
            .iter()
            .find(|m| m.model == model && m.version == version)
            .map(|m| m.stats)
    }

    /// The counters of a model, summed over its versions.
    pub fn model(&self, model: &str) -> Stats {
        let mut s = Stats::default();
        for m in self.models.iter().filter(|m| m.model == model) {
            s.add(&m.stats);
        }
        s
    }

    /// Everything, summed.
    pub fn total(&self) -> Stats {
        let mut s = Stats::default();
        for m in &self.models {
            s.add(&m.stats);
        }
        s
    }
}

/// The live counters of one (model, key version).
///
/// Both halves are built for the hot path: the counts are spread over a few cache-line-sized
/// shards (a thread keeps to one), so threads counting hits at once do not fight over one
/// line; and the `metrics` keys (name + labels) are built once, so an event costs a lookup in
/// the recorder instead of allocating and reference-counting a key per event.
pub(crate) struct Counters {
    model: Arc<str>,
    version: Arc<str>,
    shards: [Shard; SHARDS],
    keys: [metrics::Key; EVENTS],
}

/// How many shards the counts of one model version are spread over.
const SHARDS: usize = 4;

/// One thread group's counts, alone on its cache line.
#[derive(Default)]
#[repr(align(64))]
struct Shard([AtomicU64; EVENTS]);

/// What the `metrics` macros would describe the counters with.
static METADATA: metrics::Metadata<'static> =
    metrics::Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

/// The shard of the current thread: threads take shards in turn on first use.
fn shard_index() -> usize {
    use std::cell::Cell;
    use std::sync::atomic::AtomicUsize;
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    INDEX.with(|i| {
        if i.get() == usize::MAX {
            i.set(NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS);
        }
        i.get()
    })
}

impl Counters {
    fn new(model: Arc<str>, version: Arc<str>) -> Self {
        let labels = [
            metrics::Label::new("model", metrics::SharedString::from(model.clone())),
            metrics::Label::new("version", metrics::SharedString::from(version.clone())),
        ];
        Counters {
            keys: Event::ALL.map(|e| metrics::Key::from_parts(e.metric_name(), labels.to_vec())),
            model,
            version,
            shards: Default::default(),
        }
    }

    /// Counts `event` here and in the `metrics` recorder.
    pub(crate) fn record(&self, event: Event) {
        self.record_n(event, 1);
    }

    /// Counts `n` occurrences of `event` at once (a batch's hits, say).
    pub(crate) fn record_n(&self, event: Event, n: u64) {
        if n == 0 {
            return;
        }
        self.shards[shard_index()].0[event.index()].fetch_add(n, Ordering::Relaxed);
        metrics::with_recorder(|r| {
            r.register_counter(&self.keys[event.index()], &METADATA)
                .increment(n)
        });
    }

    /// Counts one `first` and one `second` (a local hit is also a hit), with one look-up of
    /// this thread's shard.
    pub(crate) fn record_both(&self, first: Event, second: Event) {
        let shard = &self.shards[shard_index()].0;
        shard[first.index()].fetch_add(1, Ordering::Relaxed);
        shard[second.index()].fetch_add(1, Ordering::Relaxed);
        metrics::with_recorder(|r| {
            r.register_counter(&self.keys[first.index()], &METADATA)
                .increment(1);
            r.register_counter(&self.keys[second.index()], &METADATA)
                .increment(1);
        });
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let mut s = Stats::default();
        for e in Event::ALL {
            let n = self
                .shards
                .iter()
                .map(|sh| sh.0[e.index()].load(Ordering::Relaxed))
                .sum();
            s.set(e, n);
        }
        s
    }
}

/// The counters of one cache, by (model, key version).
#[derive(Default)]
pub(crate) struct Registry {
    rows: Mutex<Vec<Arc<Counters>>>,
}

impl Registry {
    /// The counters of (model, version), created on first use (when a handle is built; never
    /// on the hot path).
    pub(crate) fn counters(&self, model: &str, version: &str) -> Arc<Counters> {
        let mut rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = rows
            .iter()
            .find(|c| &*c.model == model && &*c.version == version)
        {
            return c.clone();
        }
        let c = Arc::new(Counters::new(model.into(), version.into()));
        rows.push(c.clone());
        c
    }

    pub(crate) fn snapshot(&self) -> StatsSnapshot {
        let rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        StatsSnapshot {
            models: rows
                .iter()
                .map(|c| ModelStats {
                    model: c.model.to_string(),
                    version: c.version.to_string(),
                    stats: c.snapshot(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_shared_per_model_version() {
        let r = Registry::default();
        let a = r.counters("User", "0011223344556677");
        let b = r.counters("User", "0011223344556677");
        let c = r.counters("User", "8899aabbccddeeff");
        a.record(Event::Hit);
        b.record(Event::Hit);
        c.record(Event::Miss);
        c.record(Event::Load);
        let s = r.snapshot();
        assert_eq!(s.models.len(), 2);
        assert_eq!(s.get("User", "0011223344556677").unwrap().hit, 2);
        let m = s.model("User");
        assert_eq!((m.hit, m.miss, m.load), (2, 1, 1));
        assert_eq!(s.total(), m);
        assert!(s.get("Order", "0011223344556677").is_none());
    }

    #[test]
    fn counts_from_many_threads_add_up_across_shards() {
        let r = Registry::default();
        let c = r.counters("User", "0011223344556677");
        std::thread::scope(|scope| {
            for _ in 0..8 {
                let c = &c;
                scope.spawn(move || {
                    for _ in 0..1000 {
                        c.record(Event::Hit);
                    }
                    c.record_n(Event::Miss, 5);
                    c.record_n(Event::DecodeError, 0);
                });
            }
        });
        let s = r.snapshot().total();
        assert_eq!((s.hit, s.miss, s.decode_error), (8000, 40, 0));
    }

    #[test]
    fn batched_counts_reach_the_recorder_with_labels() {
        let recorder = crate::test_recorder::TestRecorder::default();
        let r = Registry::default();
        let c = r.counters("User", "0011223344556677");
        metrics::with_local_recorder(&recorder, || {
            c.record_n(Event::Hit, 7);
            c.record(Event::Hit);
            c.record_n(Event::Miss, 0);
        });
        let counts = recorder.0.lock().unwrap().clone();
        let hit = format!(
            "{}{{model=User,version=0011223344556677}}",
            Event::Hit.metric_name()
        );
        assert_eq!(counts.get(&hit), Some(&8), "{counts:?}");
        assert_eq!(counts.len(), 1, "a zero count records nothing: {counts:?}");
    }
}
