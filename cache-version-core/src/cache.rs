//! The typed cache: [`Cache`] (one per store and namespace) and [`ModelHandle`] (one per
//! model type).
//!
//! ```
//! use cache_version_core::{Body, Cache, CacheModel, CacheVersion, Field, MemoryStore, Named, Shape, Ty};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
//! struct User { id: u64, name: String }
//!
//! // Usually `#[derive(CacheVersion)]`; written out here.
//! impl CacheVersion for User {
//!     const SHAPE: &'static Shape = &Shape::Named(&Named::new("User", Body::Struct {
//!         tag: None,
//!         fields: &[Field::new("id", Ty::of::<u64>()), Field::new("name", Ty::of::<String>())],
//!     }));
//! }
//! impl CacheModel for User {}
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
//! let users = cache.model::<User>();
//! let ada = User { id: 1, name: "Ada".into() };
//! users.set("1", &ada).await?;
//! assert_eq!(users.get("1").await?, Some(ada.clone()));
//!
//! // The key carries the version of User's serialized shape.
//! let key = users.key("1")?;
//! assert!(key.starts_with(b"prod:User:"));
//! assert_eq!(key.len(), "prod:User:".len() + 16 + ":1".len());
//!
//! // Single-flight loads: concurrent misses on one key call the loader once.
//! let bob = users
//!     .get_or_load("2", || async { Ok::<_, std::io::Error>(User { id: 2, name: "Bob".into() }) })
//!     .await?;
//! assert_eq!(bob.id, 2);
//! assert_eq!(cache.stats().model("User").load, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Error policy
//!
//! Errors of the environment (the store failed or did not answer within the timeout, a stored
//! value could not be decoded or belongs to another version) are logged with
//! `tracing::warn!`, counted, and, when the cache fails open (the default), turned into a
//! miss for reads and into a no-op for writes and deletes; when it fails closed they are
//! returned. Errors of the caller's input (a logical key over the limit, a value that cannot be
//! encoded or is over the size limit), loader errors and load timeouts are always returned. In
//! [`ModelHandle::get_or_load`] the write-back of the loaded value is best effort in both modes.
//!
//! # What a read returns
//!
//! A read returns exactly what a writer of this model's current version stored under the
//! key, or a counted miss: every stored byte string goes through one read path (size limit,
//! envelope check with payload length and checksum, nesting limit, then the codec; see
//! [`crate::envelope`]), and an entry past its logical expiry is a miss.
//!
//! # Runtime
//!
//! Operations are bounded with `tokio::time::timeout` (or by the store itself, see
//! [`CacheBuilder::timeout`]), so they must run inside a Tokio runtime with the time driver
//! enabled.

use std::borrow::Borrow;
use std::cell::Cell;
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tracing::Instrument;

use crate::breaker::{Admit, Breaker, BreakerConfig, BreakerOpen};
use crate::codec::{Codec, CodecError, JsonCodec};
use crate::envelope::{self, Expected, MacKey, Times};
use crate::error::{CacheError, ConfigError, DecodeError};
use crate::failsafe::{FailSafe, Throttles};
use crate::flight::{Flights, Joined, Leader, Outcome};
use crate::key::{
    display_key, validate_name, KeyPrefix, KeyVersion, NameError, NameKind, ValueFormat,
};
use crate::live::{Live, LiveConfig, LiveVersion, ModelLive, OwnState, RecordStore};
use crate::load::{LoadError, LoadOutput, Loaded};
use crate::local::{Found, LocalConfig, LocalFront, LocalStats};
use crate::logical::{CacheKey, KeyBytes};
use crate::stats::{Counters, Event, Registry, Stats, StatsSnapshot};
use crate::store::{HashFields, SetEntry, Store, StoreError};
use crate::value::{Decoded, ValueSpec, WriteError};
use crate::{CacheModel, CacheVersion, Version};

/// Awaits an operation's future inside its tracing span, or directly when the span is
/// disabled (no subscriber listening at DEBUG): wrapping a future in `Instrumented` moves the
/// whole future once more on every call (~400 instructions a typed `get` on Redis).
macro_rules! traced {
    ($span:expr, $fut:expr) => {{
        let span: tracing::Span = $span;
        if span.is_disabled() {
            $fut.await
        } else {
            $fut.instrument(span).await
        }
    }};
}

/// What the cache does when the store fails or a stored value is unreadable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum FailureMode {
    /// Log, count, and carry on: reads miss, writes and deletes do nothing (the default: a
    /// cache outage must not become an outage of the service).
    #[default]
    Open,
    /// Log, count, and return the error.
    Closed,
}

/// The settings of a [`Cache`] (see [`CacheBuilder`] for what each means and its default).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CacheConfig {
    /// The namespace, the first key segment.
    pub namespace: String,
    /// The TTL of writes that do not name one; `None` for no expiry.
    pub default_ttl: Option<Duration>,
    /// The TTL jitter, a fraction: each TTL is scaled by a random factor in `1 ± ttl_jitter`.
    pub ttl_jitter: f64,
    /// The bound on every store operation.
    pub timeout: Duration,
    /// What happens on store and decode failures.
    pub failure_mode: FailureMode,
    /// The longest logical key, in bytes.
    pub max_key_len: usize,
    /// The largest encoded value, in bytes (envelope included).
    pub max_value_len: usize,
    /// Whether values carry the envelope header.
    pub envelope: bool,
    /// The key of the envelope's MAC (`Debug` hides it); `None`: a checksum.
    pub mac_key: Option<MacKey>,
    /// Whether an unreadable value is deleted when found.
    pub delete_invalid: bool,
    /// The longest a `get_or_load` waits for a value to be loaded.
    pub load_timeout: Duration,
    /// The registry of live versions ([`crate::live`]).
    pub live: LiveConfig,
    /// The circuit breaker ([`crate::breaker`]).
    pub breaker: BreakerConfig,
    /// Fail-safe: keep entries past their logical expiry and serve them when loading fails
    /// ([`crate::failsafe`]); `None`: off.
    pub fail_safe: Option<FailSafe>,
    /// With fail-safe and a stale value, the longest a loader runs before the stale value is
    /// served instead; `None`: only the load timeout.
    pub soft_timeout: Option<Duration>,
    /// Eager refresh: the fraction of its logical life after which a hit through
    /// `get_or_refresh` reloads the entry in the background; `None`: off.
    pub eager_refresh: Option<f64>,
    /// Whether `get_or_load` returns the loaded value before its write-back lands.
    pub background_write_back: bool,
    /// The local tier of decoded values in front of the store ([`CacheBuilder::local_tier`]);
    /// `None`: off.
    pub local_tier: Option<LocalConfig>,
}

/// Configures a [`Cache`]: `Cache::builder(store).namespace("prod").build()`.
pub struct CacheBuilder<S, C = JsonCodec> {
    store: S,
    codec: C,
    namespace: Option<String>,
    config: CacheConfig,
}

impl<S: Store> CacheBuilder<S, JsonCodec> {
    fn new(store: S) -> Self {
        CacheBuilder {
            store,
            codec: JsonCodec,
            namespace: None,
            config: CacheConfig {
                namespace: String::new(),
                default_ttl: Some(Cache::<S>::DEFAULT_TTL),
                ttl_jitter: 0.1,
                timeout: Cache::<S>::DEFAULT_TIMEOUT,
                failure_mode: FailureMode::Open,
                max_key_len: Cache::<S>::DEFAULT_MAX_KEY_LEN,
                max_value_len: Cache::<S>::DEFAULT_MAX_VALUE_LEN,
                envelope: true,
                mac_key: None,
                delete_invalid: false,
                load_timeout: Cache::<S>::DEFAULT_LOAD_TIMEOUT,
                live: LiveConfig::default(),
                breaker: BreakerConfig::default(),
                fail_safe: None,
                soft_timeout: None,
                eager_refresh: None,
                background_write_back: false,
                local_tier: None,
            },
        }
    }
}

impl<S: Store, C: Codec> CacheBuilder<S, C> {
    /// The namespace (required): the first key segment, one per service or environment. Not
    /// empty, no `:`, whitespace, control, glob (`* ? [ ] \`) or brace characters.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// The codec (default [`JsonCodec`]). Part of every key version: switching codecs moves
    /// every model to a fresh key space.
    pub fn codec<C2: Codec>(self, codec: C2) -> CacheBuilder<S, C2> {
        CacheBuilder {
            store: self.store,
            codec,
            namespace: self.namespace,
            config: self.config,
        }
    }

    /// The TTL of writes that name none (default one hour; above zero).
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.config.default_ttl = Some(ttl);
        self
    }

    /// Writes that name no TTL never expire.
    pub fn no_default_ttl(mut self) -> Self {
        self.config.default_ttl = None;
        self
    }

    /// The TTL jitter as a fraction in `0.0..1.0` (default 0.1: every TTL is scaled by a
    /// random factor in 0.9..=1.1, so entries written together do not expire together). 0
    /// turns it off.
    pub fn ttl_jitter(mut self, fraction: f64) -> Self {
        self.config.ttl_jitter = fraction;
        self
    }

    /// The bound on each store operation, batches included (default 250 ms; above zero). An
    /// operation that takes longer counts as a store error.
    ///
    /// When the store bounds its own calls within this timeout ([`Store::call_bound`]: for
    /// example a standalone `RedisStore` whose response timeout is at most half of it, one
    /// attempt and one retry), the cache relies on that bound and starts no timer of its own.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout;
        self
    }

    /// Fail open (the default) or closed.
    pub fn failure_mode(mut self, mode: FailureMode) -> Self {
        self.config.failure_mode = mode;
        self
    }

    /// The longest logical key in bytes (default 16 KiB).
    pub fn max_key_len(mut self, len: usize) -> Self {
        self.config.max_key_len = len;
        self
    }

    /// The largest encoded value in bytes, envelope included (default 8 MiB). Writes over it
    /// are refused; stored values over it are never decoded, on any read path (a counted
    /// `decode_error` and a miss).
    pub fn max_value_len(mut self, len: usize) -> Self {
        self.config.max_value_len = len;
        self
    }

    /// Whether values carry the envelope header (default `true`).
    ///
    /// Off, values are the codec's bytes alone, readable by programs in other languages. The
    /// cost: a value written under the key by someone else (or damaged, or cut short) is
    /// caught only when the codec fails to decode it, and may otherwise be read as a wrong
    /// value; entries carry no write time, so nothing can be served past its expiry. The key
    /// version covers this switch, so raw and enveloped entries never share a key.
    pub fn envelope(mut self, on: bool) -> Self {
        self.config.envelope = on;
        self
    }

    /// Seals every value with a keyed MAC (BLAKE3's keyed hash, 16 bytes) instead of the
    /// CRC-32 checksum, for deployments where less trusted programs can write to the store: a
    /// value not written with this key is a counted miss, whatever it contains. Every build
    /// that shares the entries needs the same key (derive one from a secret with
    /// [`MacKey::derive_from`]); the key is never printed. The MAC costs more than the
    /// checksum (see the README's figures) and is part of the key version, so turning it on
    /// moves every model to a fresh key space.
    pub fn mac_key(mut self, key: MacKey) -> Self {
        self.config.mac_key = Some(key);
        self
    }

    /// Whether a value that fails the envelope check or decoding is deleted when found
    /// (default `false`; the next write replaces it anyway). Best effort.
    pub fn delete_invalid(mut self, on: bool) -> Self {
        self.config.delete_invalid = on;
        self
    }

    /// The longest a [`ModelHandle::get_or_load`] waits for a value to be loaded (default
    /// 10 s; above zero). The leader's loader is dropped (cancelled) when it runs longer and
    /// the call fails with [`CacheError::LoadTimeout`]; a caller waiting on another's load
    /// never waits longer than this either, and when that load gives up or is cancelled, one
    /// of the waiters with time left leads a new load with its own loader.
    ///
    /// moka's `get_with` and FusionCache wait for a loader without bound by default
    /// (FusionCache offers soft and hard factory timeouts, off by default). A bound is the
    /// safer default for a shared cache: a hung database call must not hold every request for
    /// one key forever. 10 s is longer than any healthy query and shorter than the usual
    /// 30 s request timeouts in front of a service.
    pub fn load_timeout(mut self, timeout: Duration) -> Self {
        self.config.load_timeout = timeout;
        self
    }

    /// Whether builds announce their versions in the store and every write and delete
    /// reaches the key under every live version (default `true`; see [`crate::live`]). Off,
    /// a write reaches only its own version and the versions registered on its handle, and
    /// another build's copy of a key may stay stale until it expires.
    pub fn live_versions(mut self, on: bool) -> Self {
        self.config.live.enabled = on;
        self
    }

    /// How often the live-version registry heartbeats (default 1 s; above zero). A version
    /// not heard from for ten heartbeats counts as gone; a write whose view of the registry
    /// is older than three heartbeats reads it first.
    pub fn heartbeat(mut self, period: Duration) -> Self {
        self.config.live.heartbeat = period;
        self
    }

    /// The largest difference between the clocks of the machines that share the store
    /// (default 1 s), allowed for when a young version decides which entries to trust.
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.config.live.clock_skew = skew;
        self
    }

    /// The circuit breaker (default: on, opening after 5 consecutive unavailable or timed-out
    /// store calls for a 1 s cooldown; see [`crate::breaker`]). [`BreakerConfig::disabled`]
    /// turns it off.
    ///
    /// ```
    /// use cache_version_core::{BreakerConfig, Cache, MemoryStore};
    /// use std::time::Duration;
    ///
    /// let cache = Cache::builder(MemoryStore::new())
    ///     .namespace("prod")
    ///     .circuit_breaker(BreakerConfig::default().with_failures(3).with_cooldown(Duration::from_millis(500)))
    ///     .build()?;
    /// # Ok::<(), cache_version_core::ConfigError>(())
    /// ```
    pub fn circuit_breaker(mut self, config: BreakerConfig) -> Self {
        self.config.breaker = config;
        self
    }

    /// Fail-safe for every model of this cache (default off; see [`crate::failsafe`]):
    /// entries stay in the store `max_stale` past their logical expiry, and when a loader
    /// fails or runs past the soft timeout, `get_or_load` serves the stale value instead of
    /// an error, then does not call that key's loader again for the throttle (30 s).
    ///
    /// ```
    /// use cache_version_core::{Cache, FailSafe, MemoryStore};
    /// use std::time::Duration;
    ///
    /// let cache = Cache::builder(MemoryStore::new())
    ///     .namespace("prod")
    ///     .fail_safe(FailSafe::new(Duration::from_secs(24 * 3600)))
    ///     .soft_timeout(Duration::from_millis(300))
    ///     .build()?;
    /// # Ok::<(), cache_version_core::ConfigError>(())
    /// ```
    pub fn fail_safe(mut self, fail_safe: FailSafe) -> Self {
        self.config.fail_safe = Some(fail_safe);
        self
    }

    /// With fail-safe on and a stale value at hand, the longest a loader may run before the
    /// stale value is served (the loader is then dropped, so cancelled). Default: none (only
    /// the load timeout).
    pub fn soft_timeout(mut self, timeout: Duration) -> Self {
        self.config.soft_timeout = Some(timeout);
        self
    }

    /// Eager refresh (default off; see [`crate::failsafe`]): a hit through
    /// [`ModelHandle::get_or_refresh`] on an entry past `fraction` (in `0.0..1.0`, for
    /// example 0.8) of its logical life is returned at once and reloaded in the background.
    pub fn eager_refresh(mut self, fraction: f64) -> Self {
        self.config.eager_refresh = Some(fraction);
        self
    }

    /// Whether `get_or_load` returns the loaded value without waiting for its write to the
    /// store (default `false`). On, the write runs as bounded background work (at most 256
    /// at once per cache; beyond that a write-back is dropped and counted
    /// `write_back_dropped`), a write or delete of the key meanwhile cancels it, and reads
    /// of this cache see the pending value. Off (the default), every cache sees the value in
    /// the store once `get_or_load` returns, which is what code that inspects the store (or
    /// another process that reads right after) expects; the cost is one store round trip
    /// on a miss, next to the database's load.
    pub fn background_write_back(mut self, on: bool) -> Self {
        self.config.background_write_back = on;
        self
    }

    /// A local tier of decoded values in front of the store (off by default): a read of a
    /// key this cache read recently is served from process memory, without a store call or
    /// a decode, while the store reports no change to it.
    ///
    /// The tier is kept coherent by the store itself ([`Store::watch`]: on Redis, server-
    /// assisted client-side caching in broadcast mode): a write, delete, expiry or eviction
    /// of a key, by any client and any build, drops the key from every cache's tier within
    /// the store's report latency (tens to hundreds of microseconds on a LAN); while the
    /// reports are not established (at start, and after a lost tracking connection, which
    /// clears the tier) every read goes to the store. So a read through the tier can be stale
    /// by at most that report latency, like a read of a replica. Entries are keyed by the
    /// full key (another version's value can never be served), live at most until their
    /// logical expiry and [`LocalConfig::max_ttl`], and are checked against the live-version
    /// registry on every hit as store entries are. Writes and deletes through this cache drop
    /// their keys from its own tier once the store has answered, so it reads its own writes.
    ///
    /// Reads through the tier clone the kept value (`T: Clone`). `build` fails with
    /// [`ConfigError::LocalTierNeedsWatch`] on a store that cannot report changes and with
    /// [`ConfigError::LocalTierNeedsEnvelope`] when the envelope is turned off.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, LocalConfig, MemoryStore};
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64 }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new())
    ///     .namespace("prod")
    ///     .local_tier(LocalConfig::default())
    ///     .build()?;
    /// let users = cache.model::<User>();
    /// users.set("7", &User { id: 7 }).await?;
    /// # while !cache.local_stats().is_some_and(|s| s.usable) { tokio::task::yield_now().await; }
    /// users.get("7").await?; // from the store; kept in the tier
    /// users.get("7").await?; // from the tier
    /// assert_eq!(users.stats().local_hit, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn local_tier(mut self, config: LocalConfig) -> Self {
        self.config.local_tier = Some(config);
        self
    }

    /// Checks the settings and builds the cache.
    ///
    /// # Errors
    /// - [`ConfigError::MissingNamespace`]: no [`CacheBuilder::namespace`];
    /// - [`ConfigError::Name`]: the namespace is empty or has a character keys do not allow;
    /// - [`ConfigError::Jitter`] / [`ConfigError::EagerRefresh`]: the TTL jitter is not in
    ///   `0.0..1.0`, or the eager-refresh fraction not strictly between 0 and 1;
    /// - [`ConfigError::ZeroTimeout`] / [`ConfigError::ZeroLimit`]: a zero operation timeout,
    ///   load timeout, heartbeat, default TTL, key or value size limit, or circuit-breaker
    ///   failure count;
    /// - [`ConfigError::LocalTierNeedsEnvelope`] / [`ConfigError::LocalTierNeedsWatch`]: a
    ///   local tier with the envelope off, or on a store that cannot report changes to its
    ///   keys.
    ///
    /// ```
    /// use cache_version_core::{Cache, ConfigError, MemoryStore};
    /// use std::time::Duration;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new())
    ///     .namespace("prod")
    ///     .default_ttl(Duration::from_secs(600))
    ///     .build()?;
    /// assert_eq!(cache.namespace(), "prod");
    ///
    /// let err = Cache::builder(MemoryStore::new()).build().unwrap_err();
    /// assert_eq!(err, ConfigError::MissingNamespace);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn build(self) -> Result<Cache<S, C>, ConfigError> {
        let mut config = self.config;
        let namespace = self.namespace.ok_or(ConfigError::MissingNamespace)?;
        validate_name(NameKind::Namespace, &namespace)?;
        config.namespace = namespace;
        if !(0.0..1.0).contains(&config.ttl_jitter) {
            return Err(ConfigError::Jitter(config.ttl_jitter));
        }
        if config.timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout);
        }
        if config.load_timeout.is_zero() {
            return Err(ConfigError::ZeroLimit("load timeout"));
        }
        if config.live.heartbeat.is_zero() {
            return Err(ConfigError::ZeroLimit("heartbeat"));
        }
        if let Some(f) = config.eager_refresh {
            if !(f > 0.0 && f < 1.0) {
                return Err(ConfigError::EagerRefresh(f));
            }
        }
        if config.breaker.enabled && config.breaker.failures == 0 {
            return Err(ConfigError::ZeroLimit("circuit breaker failure count"));
        }
        if config.default_ttl == Some(Duration::ZERO) {
            return Err(ConfigError::ZeroLimit("default TTL"));
        }
        if config.max_key_len == 0 {
            return Err(ConfigError::ZeroLimit("key length"));
        }
        if config.max_value_len == 0 {
            return Err(ConfigError::ZeroLimit("value size"));
        }
        let flights: Arc<Flights> = Arc::default();
        let local = match &config.local_tier {
            None => None,
            Some(_) if !config.envelope => return Err(ConfigError::LocalTierNeedsEnvelope),
            Some(local) => {
                let prefix = format!("{}:", config.namespace);
                let watch = self
                    .store
                    .watch(prefix.as_bytes())
                    .ok_or(ConfigError::LocalTierNeedsWatch)?;
                // Another process's write or delete of a key overtakes this cache's load of
                // it, as this cache's own do: the loaded value is returned but not written
                // back over the newer state (the cache-aside race, narrowed to the report's
                // latency).
                let flights = flights.clone();
                let front =
                    LocalFront::new(local, watch, Arc::new(move |key| flights.invalidate(key)));
                front.start();
                Some(front)
            }
        };
        Ok(Cache {
            shared: Arc::new(Shared {
                store_bounds_calls: self
                    .store
                    .call_bound()
                    .is_some_and(|bound| bound <= config.timeout),
                store: self.store,
                codec: self.codec,
                live: Live::new(config.live.clone()),
                breaker: Breaker::new(config.breaker.clone()),
                config,
                stats: Registry::default(),
                flights,
                throttles: Throttles::default(),
                write_backs: Arc::new(tokio::sync::Semaphore::new(WRITE_BACKS)),
                local,
            }),
        })
    }
}

/// A typed cache over a [`Store`]: the namespace, the codec and the policies. Cheap to clone.
/// Get a handle per model with [`Cache::model`].
pub struct Cache<S: Store, C: Codec = JsonCodec> {
    pub(crate) shared: Arc<Shared<S, C>>,
}

pub(crate) struct Shared<S, C> {
    pub(crate) store: S,
    pub(crate) codec: C,
    pub(crate) config: CacheConfig,
    /// The store's own bound on a call is within the timeout ([`Store::call_bound`]).
    pub(crate) store_bounds_calls: bool,
    pub(crate) stats: Registry,
    /// In-flight loads of `get_or_load`.
    flights: Arc<Flights>,
    /// Keys whose loader failed recently (fail-safe).
    throttles: Throttles,
    /// Permits for background work (write-backs, eager refreshes).
    pub(crate) write_backs: Arc<tokio::sync::Semaphore>,
    /// The live-version registry.
    pub(crate) live: Live,
    /// The circuit breaker of every store call.
    pub(crate) breaker: Breaker,
    /// The local tier, when configured.
    pub(crate) local: Option<LocalFront>,
}

/// The most background write-backs and refreshes in flight per cache.
const WRITE_BACKS: usize = 256;

/// The registry's store calls, through the cache's timeout.
impl<S: Store, C: Codec> RecordStore for Shared<S, C> {
    fn put<'a>(
        &'a self,
        key: &'a [u8],
        field: &'a [u8],
        value: &'a [u8],
    ) -> BoxFuture<'a, Result<HashFields, StoreError>> {
        let ttl = Some(self.live.config.retention());
        Box::pin(self.timed(self.store.hash_put(key, field, value, ttl)))
    }

    fn get_all<'a>(&'a self, key: &'a [u8]) -> BoxFuture<'a, Result<HashFields, StoreError>> {
        Box::pin(self.timed(self.store.hash_get_all(key)))
    }

    fn remove<'a>(
        &'a self,
        key: &'a [u8],
        fields: &'a [Vec<u8>],
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(self.timed(self.store.hash_remove(key, fields)))
    }

    fn live(&self) -> &Live {
        &self.live
    }
}

impl<S, C> Shared<S, C> {
    /// Runs a multi-key store operation through the breaker within the timeout, always
    /// with a timer of the cache's own: a store's [`Store::call_bound`] covers single-key
    /// calls only, and a batch's chunks may take longer than one call's bound together.
    pub(crate) fn timed_batch<R, F>(&self, op: F) -> Timed<'_, F>
    where
        F: Future<Output = Result<R, StoreError>>,
    {
        let timeout = self.config.timeout;
        Timed {
            breaker: &self.breaker,
            admit: None,
            call: Call::Bounded {
                inner: tokio::time::timeout(timeout, op),
                timeout,
            },
        }
    }

    /// Runs a store operation through the breaker within the timeout (see
    /// [`Cache::timed`]).
    pub(crate) fn timed<R, F>(&self, op: F) -> Timed<'_, F>
    where
        F: Future<Output = Result<R, StoreError>>,
    {
        let call = if self.store_bounds_calls {
            Call::ByStore { inner: op }
        } else {
            let timeout = self.config.timeout;
            Call::Bounded {
                inner: tokio::time::timeout(timeout, op),
                timeout,
            }
        };
        Timed {
            breaker: &self.breaker,
            admit: None,
            call,
        }
    }
}

impl<S: Store, C: Codec> Clone for Cache<S, C> {
    fn clone(&self) -> Self {
        Cache {
            shared: self.shared.clone(),
        }
    }
}

impl<S: Store, C: Codec> std::fmt::Debug for Cache<S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("codec", &C::NAME)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl<S: Store> Cache<S> {
    /// The default TTL: one hour.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);
    /// The default operation timeout: 250 ms.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);
    /// The default load timeout of `get_or_load`: 10 s.
    pub const DEFAULT_LOAD_TIMEOUT: Duration = Duration::from_secs(10);
    /// The default logical key limit: 16 KiB.
    pub const DEFAULT_MAX_KEY_LEN: usize = 16 << 10;
    /// The default value size limit: 8 MiB.
    pub const DEFAULT_MAX_VALUE_LEN: usize = 8 << 20;
    /// The most keys of a batch (`get_many`, `set_many`, `delete_many`) in one store call:
    /// larger batches are split, each chunk a store call within the full timeout.
    pub const BATCH_CHUNK: usize = 1000;

    /// Starts configuring a cache over `store`, with [`JsonCodec`].
    pub fn builder(store: S) -> CacheBuilder<S, JsonCodec> {
        CacheBuilder::new(store)
    }
}

impl<S: Store, C: Codec> Cache<S, C> {
    /// A handle for the model `T`, named by its model name ([`CacheModel::model_name`]: the
    /// type's name or `#[cache_version(name = "...")]`, with its generic arguments, such as
    /// `Page<User>`).
    ///
    /// Checked at compile time: a `T` that is not a model of its own (`Vec<u8>`, `String`,
    /// tuples, transparent wrappers) does not compile; use [`Cache::model_named`] for those.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64 }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// let users = cache.model::<User>();
    /// assert_eq!(users.name(), "User");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Panics
    /// When the model name is not usable in keys (a `#[cache_version(name = "...")]` that is
    /// empty or has a character keys do not allow); [`Cache::model_named`] returns that as an
    /// error instead.
    pub fn model<T: CacheModel>(&self) -> ModelHandle<T, S, C> {
        match self.model_named(&T::model_name()) {
            Ok(handle) => handle,
            Err(e) => panic!(
                "`{}` has an invalid model name: {e}",
                std::any::type_name::<T>()
            ),
        }
    }

    /// A handle for `T` under an explicit model name (for types without a name of their own,
    /// or to keep two models of one type apart).
    ///
    /// # Errors
    /// [`NameError`] when `name` is empty or has a character keys do not allow (such as `:`).
    ///
    /// ```
    /// use cache_version_core::{Cache, MemoryStore};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// let avatars = cache.model_named::<Vec<u8>>("Avatar")?;
    /// avatars.set(42, &vec![0x89, 0x50]).await?;
    /// assert_eq!(avatars.get(42).await?, Some(vec![0x89, 0x50]));
    /// assert!(cache.model_named::<Vec<u8>>("a:b").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn model_named<T: CacheVersion>(
        &self,
        name: &str,
    ) -> Result<ModelHandle<T, S, C>, NameError> {
        let cfg = ModelConfig::new(self, name, &T::VERSION)?;
        Ok(ModelHandle {
            inner: Arc::new(ModelInner {
                cache: self.clone(),
                cfg,
                member: OnceLock::new(),
                versions: None,
                _t: PhantomData,
            }),
        })
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.shared.store
    }

    /// The codec.
    pub fn codec(&self) -> &C {
        &self.shared.codec
    }

    /// The settings.
    pub fn config(&self) -> &CacheConfig {
        &self.shared.config
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.shared.config.namespace
    }

    /// Waits until every background write-back and eager refresh this cache started has
    /// finished (for tests, and for a graceful shutdown).
    pub async fn flush_background(&self) {
        let n = u32::try_from(WRITE_BACKS).unwrap_or(u32::MAX);
        if let Ok(all) = self.shared.write_backs.acquire_many(n).await {
            drop(all);
        }
    }

    /// Whether the circuit breaker is open now: the store failed repeatedly and calls skip
    /// it until a probe succeeds (see [`crate::breaker`]). For health checks and dashboards.
    pub fn circuit_open(&self) -> bool {
        self.shared.breaker.is_open()
    }

    /// What the local tier counted and holds now ([`CacheBuilder::local_tier`]); `None`
    /// without one. Local hits are counted per model ([`Stats::local_hit`]).
    pub fn local_stats(&self) -> Option<LocalStats> {
        self.shared.local.as_ref().map(LocalFront::stats)
    }

    /// A snapshot of the counters of every (model, key version) with a handle.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64 }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// let users = cache.model::<User>();
    /// users.get(1).await?;
    /// users.set(1, &User { id: 1 }).await?;
    /// users.get(1).await?;
    /// let user_stats = cache.stats().model("User"); // every version of the model, summed
    /// assert_eq!((user_stats.hit, user_stats.miss), (1, 1));
    /// assert_eq!(users.stats().hit, 1); // this handle's version only
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn stats(&self) -> StatsSnapshot {
        self.shared.stats.snapshot()
    }

    /// The value format of this cache's entries (part of every key version).
    pub(crate) fn value_format(&self) -> ValueFormat {
        match (&self.shared.config.envelope, &self.shared.config.mac_key) {
            (false, _) => ValueFormat::Raw,
            (true, None) => ValueFormat::Enveloped,
            (true, Some(_)) => ValueFormat::EnvelopedMac,
        }
    }

    /// The key version of `version` under `model`, with this cache's codec and value format.
    pub(crate) fn key_version(&self, model: &str, version: &Version) -> KeyVersion {
        KeyVersion::compute(model, version, C::ID, self.value_format())
    }

    /// How the entries of `key_version` are written and read in this cache.
    pub(crate) fn value_spec(&self, key_version: &KeyVersion) -> ValueSpec {
        let config = &self.shared.config;
        let expected = config.envelope.then(|| match &config.mac_key {
            None => Expected::new(C::ID, key_version),
            Some(key) => Expected::with_mac(C::ID, key_version, key.clone()),
        });
        ValueSpec::new(expected, config.max_value_len)
    }

    /// Runs a store operation within the timeout.
    ///
    /// A named future rather than an `async fn`: an `async fn` keeps its argument (the store's
    /// future) and the `Timeout` wrapping it side by side, which doubled the size of every
    /// operation's future.
    ///
    /// A store that bounds its own calls within the timeout ([`Store::call_bound`]) runs
    /// without a second timer around it.
    pub(crate) fn timed<R, F>(&self, op: F) -> Timed<'_, F>
    where
        F: Future<Output = Result<R, StoreError>>,
    {
        self.shared.timed(op)
    }

    /// Runs a multi-key store operation within the timeout ([`Shared::timed_batch`]).
    pub(crate) fn timed_batch<R, F>(&self, op: F) -> Timed<'_, F>
    where
        F: Future<Output = Result<R, StoreError>>,
    {
        self.shared.timed_batch(op)
    }

    /// `ttl` with the configured jitter, at least 1 ms.
    pub(crate) fn jittered(&self, ttl: Duration) -> Duration {
        jitter(ttl, self.shared.config.ttl_jitter).max(Duration::from_millis(1))
    }
}

/// Scales `ttl` by a random factor in `1 - fraction ..= 1 + fraction`.
fn jitter(ttl: Duration, fraction: f64) -> Duration {
    if fraction <= 0.0 {
        return ttl;
    }
    let factor = 1.0 + fraction * (2.0 * random_unit() - 1.0);
    Duration::try_from_secs_f64(ttl.as_secs_f64() * factor).unwrap_or(ttl)
}

/// A uniform sample in `0.0..1.0` from a per-thread xorshift generator (statistical quality
/// is all jitter needs).
fn random_unit() -> f64 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new(RandomState::new().hash_one(0u64) | 1);
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

/// The per-handle settings and state. Extended by the rolling-deploy tools.
#[derive(Clone)]
pub(crate) struct ModelConfig {
    pub(crate) name: Arc<str>,
    pub(crate) version: Version,
    pub(crate) key_version: KeyVersion,
    pub(crate) version_hex: Arc<str>,
    pub(crate) prefix: KeyPrefix,
    /// The 16 hex digits of the key version.
    pub(crate) hex: [u8; 16],
    /// `{namespace}:{model}:live`, the model's live-version record.
    pub(crate) record_key: Vec<u8>,
    pub(crate) live: Arc<ModelLive>,
    pub(crate) spec: ValueSpec,
    pub(crate) default_ttl: Option<Duration>,
    pub(crate) fail_safe: Option<FailSafe>,
    pub(crate) eager_refresh: Option<f64>,
    pub(crate) counters: Arc<Counters>,
    /// The size of a recent encoded value (capped), to allocate an encode buffer once.
    pub(crate) size_hint: Arc<std::sync::atomic::AtomicUsize>,
}

impl ModelConfig {
    fn new<S: Store, C: Codec>(
        cache: &Cache<S, C>,
        name: &str,
        version: &Version,
    ) -> Result<Self, NameError> {
        let key_version = cache.key_version(name, version);
        let prefix = KeyPrefix::new(&cache.shared.config.namespace, name, &key_version)?;
        let version_hex: Arc<str> = key_version.to_string().into();
        let mut record_key = prefix.model_prefix().to_vec();
        record_key.extend_from_slice(crate::live::RECORD_SUFFIX);
        Ok(ModelConfig {
            name: name.into(),
            version: *version,
            key_version,
            counters: cache.shared.stats.counters(name, &version_hex),
            version_hex,
            hex: key_version.to_hex(),
            live: cache.shared.live.model(name, record_key.clone()),
            record_key,
            prefix,
            spec: cache.value_spec(&key_version),
            default_ttl: cache.shared.config.default_ttl,
            fail_safe: cache.shared.config.fail_safe,
            eager_refresh: cache.shared.config.eager_refresh,
            size_hint: Arc::default(),
        })
    }
}

/// The largest encode buffer allocated up front from the size of earlier values.
const SIZE_HINT_CAP: usize = 64 * 1024;

pub(crate) struct ModelInner<T, S: Store, C: Codec> {
    pub(crate) cache: Cache<S, C>,
    pub(crate) cfg: ModelConfig,
    /// This handle's version in the live registry, once it joined.
    member: OnceLock<Arc<OwnState>>,
    /// Other versions registered by the rolling-deploy tools ([`crate::rollout`]); `None`
    /// (the common case) keeps `get`/`set`/`delete` to one key and one branch.
    pub(crate) versions: Option<Arc<dyn OtherVersions<T, S, C>>>,
    pub(crate) _t: PhantomData<fn() -> T>,
}

/// The typed cache of one model: `get`, `set`, `delete`, batches and single-flight
/// `get_or_load`, under the keys of `T`'s version. Cheap to clone; create it once and share it.
///
/// The rolling-deploy tools ([`crate::rollout`]) extend a handle with older versions of the
/// model: [`ModelHandle::migrate_from`] (reads fall back to older versions),
/// [`ModelHandle::dual_write_to`] (writes also go to an older version), deletes across every
/// registered version, and the [`ModelHandle::sweep`] job over old keys.
pub struct ModelHandle<T, S: Store, C: Codec = JsonCodec> {
    pub(crate) inner: Arc<ModelInner<T, S, C>>,
}

impl<T, S: Store, C: Codec> Clone for ModelHandle<T, S, C> {
    fn clone(&self) -> Self {
        ModelHandle {
            inner: self.inner.clone(),
        }
    }
}

impl<T, S: Store, C: Codec> std::fmt::Debug for ModelHandle<T, S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelHandle")
            .field("prefix", &self.inner.cfg.prefix)
            .field("version", &self.inner.cfg.version)
            .finish_non_exhaustive()
    }
}

/// A boxed future of the rollout hooks (cold paths only).
pub(crate) type BoxFuture<'a, R> = Pin<Box<dyn Future<Output = R> + Send + 'a>>;

/// What the rolling-deploy tools ([`crate::rollout`]) add to a handle: other versions of the
/// model that reads fall back to and writes and deletes reach. Implemented there; the cache
/// only calls it (so this module does not depend on that one).
pub(crate) trait OtherVersions<T, S: Store, C: Codec>: Send + Sync + 'static {
    /// The key prefixes of every registered version: a delete removes the key under each.
    fn prefixes(&self) -> &[KeyPrefix];

    /// The key versions of the registered versions (16 hex digits), in the order of
    /// `prefixes`, and whether each is a dual-write target that writes reach with a value
    /// (when dual-write is on) rather than a delete.
    fn hexes(&self) -> &[([u8; 16], bool)];

    /// The key versions reads fall back to (the migration sources).
    fn read_hexes(&self) -> Vec<[u8; 16]>;

    /// Whether a miss should try the older versions now.
    fn falls_back(&self) -> bool;

    /// The value of an absent key from the first older version that holds a readable entry,
    /// converted (and written back, unless turned off); counts what it does.
    fn fallback<'a>(
        &'a self,
        handle: &'a ModelHandle<T, S, C>,
        logical: &'a [u8],
    ) -> BoxFuture<'a, Option<T>>;

    /// The values of many absent keys from the older versions, in one read per older
    /// version for all of them (and one batched write-back); `None` where none has it.
    fn fallback_many<'a>(
        &'a self,
        handle: &'a ModelHandle<T, S, C>,
        logicals: &'a [Vec<u8>],
    ) -> BoxFuture<'a, Vec<Option<T>>>;

    /// Whether writes also go to older versions now.
    fn dual_writes_active(&self) -> bool;

    /// Appends the dual-write entries of one value (converted, with `ttl`); the keys of
    /// versions the value cannot be converted or encoded for go to `stale`.
    #[allow(clippy::too_many_arguments)]
    fn push_dual_writes(
        &self,
        handle: &ModelHandle<T, S, C>,
        logical: &[u8],
        value: &T,
        ttl: Option<Duration>,
        times: Times,
        batch: &mut Vec<SetEntry>,
        stale: &mut Vec<Vec<u8>>,
    );

    /// The implementation, for the rollout tools to reach their own state.
    fn as_any(&self) -> &(dyn std::any::Any + Send + Sync);
}

/// This handle's standing in the live registry, for the read path's trust check.
#[derive(Clone, Copy)]
enum Member<'a> {
    /// The registry is turned off: every entry is trusted.
    Off,
    /// Joined.
    Known(&'a OwnState),
    /// The registry could not be reached: nothing is trusted until it can.
    Unknown,
}

/// The length of a stored value (0 for none).
fn v_len(v: &Option<Vec<u8>>) -> usize {
    v.as_ref().map_or(0, Vec::len)
}

/// What a read found.
enum Read<T> {
    /// A value and its times (`None` for raw payloads); not counted yet.
    Hit(T, Option<Times>),
    /// A value past its logical expiry that fail-safe may still serve (counted as a miss).
    Stale(T),
    /// The key holds no value; not counted yet (`resolve_absent` decides whether an older
    /// version serves it or it is a miss).
    Absent,
    /// A miss; `unavailable` when the store failed (fail-open).
    Miss { unavailable: bool },
}

impl<T, S, C> ModelHandle<T, S, C>
where
    T: CacheVersion + Serialize + DeserializeOwned + 'static,
    S: Store,
    C: Codec,
{
    /// The model name (the second key segment).
    pub fn name(&self) -> &str {
        &self.inner.cfg.name
    }

    /// `T::VERSION`.
    pub fn version(&self) -> Version {
        self.inner.cfg.version
    }

    /// The key version (the third key segment).
    pub fn key_version(&self) -> KeyVersion {
        self.inner.cfg.key_version
    }

    /// The key prefix `{namespace}:{model}:{keyversion}:`.
    pub fn prefix(&self) -> &KeyPrefix {
        &self.inner.cfg.prefix
    }

    /// The cache this handle belongs to.
    pub fn cache(&self) -> &Cache<S, C> {
        &self.inner.cache
    }

    /// The counters of this model version.
    pub fn stats(&self) -> Stats {
        self.inner.cfg.counters.snapshot()
    }

    /// The default TTL of this handle's writes.
    pub fn default_ttl(&self) -> Option<Duration> {
        self.inner.cfg.default_ttl
    }

    /// A handle whose writes default to `ttl` (`None`: no expiry) instead of the cache's
    /// default. Shares counters and in-flight loads with this one.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// use std::time::Duration;
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64 }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new())
    ///     .namespace("prod")
    ///     .default_ttl(Duration::from_secs(3600))
    ///     .build()?;
    /// let users = cache.model::<User>();
    /// let short = users.with_default_ttl(Some(Duration::from_secs(60)));
    /// assert_eq!(short.default_ttl(), Some(Duration::from_secs(60)));
    /// assert_eq!(users.default_ttl(), Some(Duration::from_secs(3600))); // unchanged
    /// assert_eq!(users.with_default_ttl(None).default_ttl(), None); // no expiry
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn with_default_ttl(&self, ttl: Option<Duration>) -> Self {
        let mut cfg = self.inner.cfg.clone();
        cfg.default_ttl = ttl.map(|t| t.max(Duration::from_millis(1)));
        self.derive(cfg, self.inner.versions.clone())
    }

    /// A handle like this one with other settings or versions (for the rollout tools).
    pub(crate) fn derive(
        &self,
        cfg: ModelConfig,
        versions: Option<Arc<dyn OtherVersions<T, S, C>>>,
    ) -> Self {
        ModelHandle {
            inner: Arc::new(ModelInner {
                cache: self.inner.cache.clone(),
                cfg,
                member: OnceLock::new(),
                versions,
                _t: PhantomData,
            }),
        }
    }

    /// The full store key of a logical key (one allocation): `{namespace}:{model}:{key
    /// version}:{logical key}`. Integer keys are their decimal text, so `key(42)` and
    /// `key("42")` are the same key.
    ///
    /// # Errors
    /// [`CacheError::KeyTooLong`] when the logical key is longer than
    /// [`CacheBuilder::max_key_len`]. Nothing else: no store call is made.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// use cache_version_core::CacheError;
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64 }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new())
    ///     .namespace("prod")
    ///     .max_key_len(16)
    ///     .build()?;
    /// let users = cache.model::<User>();
    /// let key = users.key(42)?;
    /// assert_eq!(key, users.key("42")?);
    /// assert_eq!(key, format!("prod:User:{}:42", users.key_version()).into_bytes());
    /// let long = users.key("a logical key over 16 bytes");
    /// assert!(matches!(long, Err(CacheError::KeyTooLong { limit: 16, .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn key(&self, logical: impl CacheKey) -> Result<Vec<u8>, CacheError> {
        self.full_key(&logical.key_bytes())
    }

    /// Encodes a value as it is stored now with the handle's default TTL: envelope header
    /// (unless turned off; with the write time and logical expiry), then the codec's
    /// payload, in one buffer. (The size limit is checked by the writing methods.)
    ///
    /// # Errors
    /// The codec's [`CodecError`] when it cannot encode `value` (with the JSON codec: a map
    /// whose keys are not strings, a `Serialize` impl that fails).
    pub fn encode_value(&self, value: &T) -> Result<Vec<u8>, CodecError> {
        match self.encode_at(value, Times::now(self.inner.cfg.default_ttl)) {
            Ok(bytes) => Ok(bytes),
            Err(WriteError::Encode(e)) => Err(e),
            Err(WriteError::TooLarge { .. }) => unreachable!("encode_at does not check sizes"),
        }
    }

    /// Runs a stored value through the read path (size limit, envelope, nesting limit,
    /// codec) and decodes it.
    ///
    /// # Errors
    /// - [`DecodeError::TooLarge`]: `bytes` is longer than [`CacheBuilder::max_value_len`];
    /// - [`DecodeError::Envelope`] (with the envelope on): the envelope is missing or cut short, its checksum (or MAC)
    ///   does not match, or it was written for another model version, codec or value format;
    /// - [`DecodeError::Codec`]: the payload does not decode as `T` (or nests too deeply).
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64 }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// let users = cache.model::<User>();
    /// let bytes = users.encode_value(&User { id: 7 })?;
    /// assert_eq!(users.decode_value(&bytes)?, User { id: 7 });
    /// assert!(users.decode_value(b"{\"id\":7}").is_err()); // no envelope
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn decode_value(&self, bytes: &[u8]) -> Result<T, DecodeError> {
        self.read_bytes(bytes).map(|d| d.value)
    }

    /// The one read path for this version's entries.
    pub(crate) fn read_bytes(&self, bytes: &[u8]) -> Result<Decoded<T>, DecodeError> {
        let codec = &self.inner.cache.shared.codec;
        self.inner
            .cfg
            .spec
            .read(bytes, |payload| codec.decode::<T>(payload))
    }

    /// Encodes `value` with `times` in one buffer sized from recent values.
    fn encode_at(&self, value: &T, times: Times) -> Result<Vec<u8>, WriteError> {
        // One allocation at the size of a recent value (plus 1/8), instead of growing from 128
        // bytes: a 1 KB value grew through four reallocations, and a `set_many` of 100 of them
        // cost 0.2-0.3 µs a key more than a hand-written pipeline (redis_bench --pin; 0.06-0.08
        // with the hint). The hint is shared by the handle's clones and written only when a
        // value is larger or under half its size.
        let hint = self
            .inner
            .cfg
            .size_hint
            .load(std::sync::atomic::Ordering::Relaxed);
        let codec = &self.inner.cache.shared.codec;
        let capacity = if hint == 0 { 128 } else { hint + hint / 8 };
        let out = self
            .inner
            .cfg
            .spec
            .write(capacity, times, |out| codec.encode(value, out))?;
        let len = out.len().min(SIZE_HINT_CAP);
        if len > hint || len < hint / 2 {
            self.inner
                .cfg
                .size_hint
                .store(len, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(out)
    }

    /// Reads a value. A miss, and under fail-open any store or decode failure, is `Ok(None)`.
    /// An entry past its logical expiry is a miss; with migrations registered
    /// ([`ModelHandle::migrate_from`]) a miss reads the older versions.
    ///
    /// # Errors
    /// - [`CacheError::KeyTooLong`]: the logical key is over [`CacheBuilder::max_key_len`]
    ///   (checked before any store call);
    /// - [`CacheError::ModelConflict`]: with the live-version registry on (the default), another
    ///   handle of this cache uses this model name with an unrelated version;
    /// - failing closed only ([`FailureMode::Closed`]): [`CacheError::Store`] when the store
    ///   failed, did not answer within the timeout or its circuit breaker is open, and
    ///   [`CacheError::Decode`] / [`CacheError::VersionMismatch`] when the stored value is
    ///   damaged, too large or of another version.
    ///
    /// Under the default [`FailureMode::Open`] those are logged and counted and the read is a
    /// miss (`Ok(None)`).
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64 }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// let users = cache.model::<User>();
    /// assert_eq!(users.get(42).await?, None); // a miss
    /// users.set(42, &User { id: 42 }).await?;
    /// assert_eq!(users.get(42).await?, Some(User { id: 42 }));
    /// assert_eq!(users.get("42").await?, Some(User { id: 42 })); // the same key
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn get(&self, key: impl CacheKey) -> Result<Option<T>, CacheError>
    where
        T: Clone + Send + Sync + 'static,
    {
        let key = key.key_bytes();
        let logical: &[u8] = &key;
        let full = self.read_key(logical)?;
        let member = match self.joined_now() {
            Some(m) => m,
            None => self.join_slow().await?,
        };
        // A local hit, before the store read's (larger) future is made.
        if let Some(local) = &self.inner.cache.shared.local {
            // Cloned in the tier: no reference count moves between cores.
            if let Some(value) = self.local_entry(local, &full, member, |f| Some(f.value.clone())) {
                return Ok(Some(value));
            }
        }
        traced!(self.span("get"), async {
            Ok(match self.read_store(logical, &full, member).await? {
                Read::Hit(v, _) => Some(v),
                Read::Stale(_) | Read::Miss { .. } | Read::Absent => None,
            })
        })
    }

    /// Reads a value like [`ModelHandle::get`], shared: a hit of the local tier
    /// ([`CacheBuilder::local_tier`]) is the tier's own copy, without cloning the value (an
    /// atomic increment); any other hit is decoded into a new `Arc`. For large models read
    /// far more often than they change.
    ///
    /// # Errors
    /// As [`ModelHandle::get`]: the key is over the limit, a model conflict, or, failing
    /// closed only, the store failed or the value is unreadable.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, LocalConfig, MemoryStore};
    /// use std::sync::Arc;
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64 }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new())
    ///     .namespace("prod")
    ///     .local_tier(LocalConfig::default())
    ///     .build()?;
    /// let users = cache.model::<User>();
    /// users.set("7", &User { id: 7 }).await?;
    /// let user: Option<Arc<User>> = users.get_shared("7").await?;
    /// assert_eq!(user.as_deref(), Some(&User { id: 7 }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn get_shared(&self, key: impl CacheKey) -> Result<Option<Arc<T>>, CacheError>
    where
        T: Clone + Send + Sync + 'static,
    {
        let key = key.key_bytes();
        let logical: &[u8] = &key;
        let full = self.read_key(logical)?;
        let member = match self.joined_now() {
            Some(m) => m,
            None => self.join_slow().await?,
        };
        if let Some(local) = &self.inner.cache.shared.local {
            if let Some(value) = self.local_entry(local, &full, member, |f| f.shared()) {
                return Ok(Some(value));
            }
        }
        traced!(self.span("get"), async {
            Ok(match self.read_store(logical, &full, member).await? {
                Read::Hit(v, _) => Some(Arc::new(v)),
                Read::Stale(_) | Read::Miss { .. } | Read::Absent => None,
            })
        })
    }

    /// Writes a value with the handle's default TTL (jittered).
    ///
    /// The write reaches every live version of the key: under each other version that a
    /// running build uses ([`crate::live`]) or that is registered on this handle, the key is
    /// deleted in the same store call (those builds then miss and reload, or migrate the
    /// fresh value), except under versions registered with [`ModelHandle::dual_write_to`]
    /// and on, which get the value converted (an older version the value cannot be
    /// converted or encoded for has its key deleted instead, logged). While this version is
    /// the only one, that is one `set` call.
    ///
    /// # Errors
    /// - [`CacheError::KeyTooLong`]: the logical key is over [`CacheBuilder::max_key_len`];
    /// - [`CacheError::Encode`]: the codec cannot encode the value;
    /// - [`CacheError::ValueTooLarge`]: the encoded value (envelope included) is over
    ///   [`CacheBuilder::max_value_len`];
    /// - [`CacheError::ModelConflict`]: with the live-version registry on (the default), another
    ///   handle of this cache uses this model name with an unrelated version;
    /// - failing closed only ([`FailureMode::Closed`]): [`CacheError::Store`] when the store
    ///   failed, did not answer within the timeout or its circuit breaker is open.
    ///
    /// Under the default [`FailureMode::Open`] a store failure is logged and counted and the
    /// call returns `Ok(())`: the entry may not have been written. Dual-writes to older
    /// versions are best effort in both modes.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// use cache_version_core::CacheError;
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64 }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new())
    ///     .namespace("prod")
    ///     .max_value_len(256)
    ///     .build()?;
    /// let users = cache.model::<User>();
    /// users.set(7, &User { id: 7 }).await?;
    /// assert_eq!(users.get(7).await?, Some(User { id: 7 }));
    ///
    /// // Errors of the caller's input are returned whatever the failure mode.
    /// let blobs = cache.model_named::<Vec<u8>>("Blob")?;
    /// let err = blobs.set(1, &vec![0; 1000]).await.unwrap_err();
    /// assert!(matches!(err, CacheError::ValueTooLarge { limit: 256, .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn set(&self, key: impl CacheKey, value: &T) -> Result<(), CacheError> {
        let ttl = self.inner.cfg.default_ttl;
        self.write(&key.key_bytes(), value, ttl).await
    }

    /// Writes a value with `ttl` (jittered; at least 1 ms), like [`ModelHandle::set`].
    ///
    /// # Errors
    /// As [`ModelHandle::set`]: the key is over the limit, the value cannot be encoded or is
    /// over the limit, a model conflict, or, failing closed only, the store failed.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// use std::time::Duration;
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64 }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// let users = cache.model::<User>();
    /// users.set_with_ttl(7, &User { id: 7 }, Duration::from_millis(50)).await?;
    /// assert!(users.get(7).await?.is_some());
    /// tokio::time::sleep(Duration::from_millis(100)).await;
    /// assert!(users.get(7).await?.is_none()); // expired
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn set_with_ttl(
        &self,
        key: impl CacheKey,
        value: &T,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        self.write(&key.key_bytes(), value, Some(ttl)).await
    }

    /// Deletes a value; `true` when it existed. Under fail-open a store failure is `Ok(false)`
    /// (logged and counted).
    ///
    /// The key is deleted under every live version of the model ([`crate::live`]) and every
    /// version registered on this handle, in one store call, so no other build keeps serving
    /// a stale entry; the result is then `true` when any of them existed.
    ///
    /// # Errors
    /// - [`CacheError::KeyTooLong`]: the logical key is over [`CacheBuilder::max_key_len`];
    /// - [`CacheError::ModelConflict`]: with the live-version registry on (the default), another
    ///   handle of this cache uses this model name with an unrelated version;
    /// - failing closed only ([`FailureMode::Closed`]): [`CacheError::Store`] when the store
    ///   failed, did not answer within the timeout or its circuit breaker is open.
    ///
    /// Under the default [`FailureMode::Open`] a store failure is `Ok(false)`: the entry may
    /// still be there.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64 }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// let users = cache.model::<User>();
    /// users.set(7, &User { id: 7 }).await?;
    /// assert!(users.delete(7).await?);
    /// assert!(!users.delete(7).await?); // gone already
    /// assert_eq!(users.get(7).await?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn delete(&self, key: impl CacheKey) -> Result<bool, CacheError> {
        let key = key.key_bytes();
        let logical: &[u8] = &key;
        let full = self.full_key(logical)?;
        self.overtake(&full);
        traced!(self.span("delete"), async {
            self.joined().await?;
            let mut keys = vec![full];
            let prefixes = self.invalidation_prefixes(false).await;
            Self::push_keys(&prefixes, [logical], &mut keys);
            let cache = &self.inner.cache;
            let deleted = if keys.len() == 1 {
                cache.timed(cache.shared.store.delete(&keys[0])).await
            } else {
                cache
                    .timed_batch(cache.shared.store.delete_many(&keys))
                    .await
                    .map(|n| n > 0)
            };
            self.local_drop(keys.iter().map(Vec::as_slice));
            match deleted {
                Ok(existed) => Ok(existed),
                Err(e) => self.store_failed(logical, e, false).map(|()| false),
            }
        })
    }

    /// Reads many values; one slot per key, in order. Under fail-open an unreadable value is
    /// a `None` in its slot and a store failure makes the slots of that chunk `None`; under
    /// fail-closed either fails the whole call. With migrations registered, the missing keys
    /// fall back to the older versions in one read per older version (and one batched
    /// write-back), whatever their number.
    ///
    /// Large batches go to the store in chunks of [`Cache::BATCH_CHUNK`] keys, one store call
    /// each, each within the full timeout: the call takes at most `⌈n / 1000⌉ × timeout`.
    ///
    /// # Errors
    /// - [`CacheError::KeyTooLong`]: any of the logical keys is over
    ///   [`CacheBuilder::max_key_len`] (checked for all of them before any store call);
    /// - [`CacheError::ModelConflict`]: with the live-version registry on (the default), another
    ///   handle of this cache uses this model name with an unrelated version;
    /// - failing closed only ([`FailureMode::Closed`]): [`CacheError::Store`] when the store
    ///   call of any chunk failed, did not answer within the timeout or its circuit breaker is
    ///   open, and [`CacheError::Decode`] / [`CacheError::VersionMismatch`] when any stored
    ///   value is damaged, too large or of another version.
    ///
    /// Under the default [`FailureMode::Open`] those are logged and counted and the slots
    /// concerned are `None`.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64 }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// let users = cache.model::<User>();
    /// users.set(1, &User { id: 1 }).await?;
    /// users.set(3, &User { id: 3 }).await?;
    /// let found = users.get_many(&[1, 2, 3]).await?;
    /// assert_eq!(found, vec![Some(User { id: 1 }), None, Some(User { id: 3 })]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn get_many<K: CacheKey>(&self, keys: &[K]) -> Result<Vec<Option<T>>, CacheError>
    where
        T: Clone + Send + Sync + 'static,
    {
        let keys: Vec<KeyBytes<'_>> = keys.iter().map(CacheKey::key_bytes).collect();
        let keys = &keys[..];
        let full: Vec<Vec<u8>> = keys
            .iter()
            .map(|k| self.full_key(k.as_ref()))
            .collect::<Result<_, _>>()?;
        traced!(self.span("get_many"), async {
            let member = self.joined().await?;
            let Some(local) = &self.inner.cache.shared.local else {
                return self.get_many_stored(keys, &full, member).await;
            };
            // The local tier first; the store for the rest, in one batch.
            let mut out: Vec<Option<T>> = Vec::with_capacity(full.len());
            let mut missing: Vec<usize> = Vec::new();
            for (i, f) in full.iter().enumerate() {
                match self.local_hit(local, f, member) {
                    Some(Read::Hit(v, _)) => out.push(Some(v)),
                    _ => {
                        out.push(None);
                        missing.push(i);
                    }
                }
            }
            if missing.len() == full.len() {
                return self.get_many_stored(keys, &full, member).await;
            }
            if !missing.is_empty() {
                let logicals: Vec<&[u8]> = missing.iter().map(|&i| keys[i].as_ref()).collect();
                let rest: Vec<Vec<u8>> = missing.iter().map(|&i| full[i].clone()).collect();
                let found = self.get_many_stored(&logicals, &rest, member).await?;
                for (i, v) in missing.into_iter().zip(found) {
                    out[i] = v;
                }
            }
            Ok(out)
        })
    }

    /// `get_many` from the store: in chunks, then the absent keys' fallbacks.
    async fn get_many_stored<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        full: &[Vec<u8>],
        member: Member<'_>,
    ) -> Result<Vec<Option<T>>, CacheError>
    where
        T: Clone + Send + Sync + 'static,
    {
        let mut out: Vec<Option<T>> = Vec::with_capacity(full.len());
        let mut absent: Vec<usize> = Vec::new();
        for (c, chunk) in full.chunks(Cache::<S>::BATCH_CHUNK).enumerate() {
            let base = c * Cache::<S>::BATCH_CHUNK;
            let logicals = &keys[base..base + chunk.len()];
            self.read_chunk(logicals, chunk, member, base, &mut out, &mut absent)
                .await?;
        }
        if !absent.is_empty() {
            self.resolve_absent_many(keys, full, &absent, &mut out)
                .await;
        }
        Ok(out)
    }

    /// One store call of `get_many`: appends a slot per key to `out`, and the indices
    /// (offset by `base`) of the absent ones to `absent`.
    async fn read_chunk<K: AsRef<[u8]>>(
        &self,
        logicals: &[K],
        full: &[Vec<u8>],
        member: Member<'_>,
        base: usize,
        out: &mut Vec<Option<T>>,
        absent: &mut Vec<usize>,
    ) -> Result<(), CacheError>
    where
        T: Clone + Send + Sync + 'static,
    {
        let cache = &self.inner.cache;
        let local = cache.shared.local.as_ref();
        let tokens: Vec<_> = match local {
            Some(l) => full.iter().map(|f| l.token(f)).collect(),
            None => Vec::new(),
        };
        let values = match cache.timed_batch(cache.shared.store.get_many(full)).await {
            Ok(values) if values.len() == full.len() => values,
            Ok(values) => {
                let e = StoreError::backend(format!(
                    "get_many returned {} values for {} keys",
                    values.len(),
                    full.len()
                ));
                out.extend(self.batch_read_failed(logicals, e)?);
                return Ok(());
            }
            Err(e) => {
                out.extend(self.batch_read_failed(logicals, e)?);
                return Ok(());
            }
        };
        // The values stay alive until every one is decoded: freeing each 1 KB buffer between
        // decodes made glibc's allocator split and merge it with the decoded strings, ~1 µs a
        // key on the Redis bench.
        let now = envelope::now_ms();
        let mut hits = 0;
        for (i, ((k, f), v)) in logicals.iter().zip(full).zip(&values).enumerate() {
            let read = match self
                .finish_read(k.as_ref(), f, v.as_deref(), now, member)
                .await
            {
                Ok(read) => read,
                Err(e) => {
                    self.inner.cfg.counters.record_n(Event::Hit, hits);
                    return Err(e);
                }
            };
            out.push(match read {
                Read::Hit(v, times) => {
                    hits += 1;
                    if let Some(local) = local {
                        let len = v_len(&values[i]);
                        let refresh = self.inner.cfg.eager_refresh;
                        local.fill(f, v.clone(), times, len, refresh, tokens[i]);
                    }
                    Some(v)
                }
                Read::Absent => {
                    absent.push(base + i);
                    None
                }
                Read::Stale(_) | Read::Miss { .. } => None,
            });
        }
        self.inner.cfg.counters.record_n(Event::Hit, hits);
        Ok(())
    }

    /// Resolves the absent slots of a batch: older versions first (batched), then values
    /// this cache is writing back; the rest are misses.
    async fn resolve_absent_many<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        full: &[Vec<u8>],
        absent: &[usize],
        out: &mut [Option<T>],
    ) {
        let counters = &self.inner.cfg.counters;
        let mut left: Vec<usize> = absent.to_vec();
        if let Some(versions) = self.inner.versions.as_deref().filter(|v| v.falls_back()) {
            let logicals: Vec<Vec<u8>> = left.iter().map(|&i| keys[i].as_ref().to_vec()).collect();
            let found = versions.fallback_many(self, &logicals).await;
            let mut still = Vec::new();
            for (i, v) in left.into_iter().zip(found) {
                match v {
                    Some(v) => out[i] = Some(v),
                    None => still.push(i),
                }
            }
            left = still;
        }
        if self.inner.cache.shared.config.background_write_back {
            let flights = &self.inner.cache.shared.flights;
            left.retain(|&i| match flights.published::<T>(&full[i]) {
                Some(v) => {
                    counters.record(Event::Hit);
                    out[i] = Some(v);
                    false
                }
                None => true,
            });
        }
        counters.record_n(Event::Miss, left.len() as u64);
    }

    /// Writes many values, each with the default TTL (jittered per entry), reaching every
    /// live version of each key as [`ModelHandle::set`] does.
    ///
    /// Large batches are encoded and written in chunks of [`Cache::BATCH_CHUNK`] entries, one
    /// store call each within the full timeout (so at most one chunk's encoded values are held
    /// at a time). Under fail-open a failed chunk does not stop the others; the call returns
    /// `Ok`, and how many entries were written is logged and counted (`partial_write`).
    ///
    /// # Errors
    /// - [`CacheError::KeyTooLong`], [`CacheError::Encode`], [`CacheError::ValueTooLarge`]: an
    ///   entry's key or value is refused, as in [`ModelHandle::set`]; its chunk and the chunks
    ///   after it are not written (the chunks before it are);
    /// - [`CacheError::ModelConflict`]: with the live-version registry on (the default), another
    ///   handle of this cache uses this model name with an unrelated version;
    /// - failing closed only ([`FailureMode::Closed`]): [`CacheError::Store`] for the first
    ///   chunk whose store call failed, did not answer within the timeout or was rejected by
    ///   the circuit breaker; the chunks before it are written, the ones after it are not.
    ///
    /// Under the default [`FailureMode::Open`] a failed chunk is logged and counted and the
    /// call returns `Ok(())`.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64 }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// let users = cache.model::<User>();
    /// // Owned values, or borrowed ones: any `V: Borrow<User>`.
    /// users.set_many([(1, User { id: 1 }), (2, User { id: 2 })]).await?;
    /// let more = vec![User { id: 3 }, User { id: 4 }];
    /// users.set_many(more.iter().map(|u| (u.id, u))).await?;
    /// assert_eq!(users.get_many(&[1, 4]).await?, vec![Some(User { id: 1 }), Some(User { id: 4 })]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn set_many<K, V, I>(&self, entries: I) -> Result<(), CacheError>
    where
        K: CacheKey,
        V: Borrow<T>,
        I: IntoIterator<Item = (K, V)>,
    {
        let mut entries = entries.into_iter().peekable();
        if entries.peek().is_none() {
            return Ok(());
        }
        traced!(self.span("set_many"), async {
            self.joined().await?;
            let prefixes = self.invalidation_prefixes(true).await;
            let (mut written, mut total) = (0usize, 0usize);
            let mut first_error: Option<(String, StoreError)> = None;
            loop {
                let chunk: Vec<(K, V)> = entries.by_ref().take(Cache::<S>::BATCH_CHUNK).collect();
                if chunk.is_empty() {
                    break;
                }
                total += chunk.len();
                match self.write_chunk(&chunk, &prefixes).await? {
                    Ok(()) => written += chunk.len(),
                    Err(e) => {
                        let label = batch_label(&chunk[0].0.key_bytes(), chunk.len());
                        if self.inner.cache.shared.config.failure_mode == FailureMode::Closed {
                            return self.store_failed_labeled(label, e, false);
                        }
                        if first_error.is_none() {
                            first_error = Some((label, e));
                        }
                    }
                }
            }
            match first_error {
                None => Ok(()),
                Some((label, e)) => {
                    if written > 0 {
                        self.inner.cfg.counters.record(Event::PartialWrite);
                        tracing::warn!(
                            model = %self.inner.cfg.name,
                            written,
                            total,
                            "set_many wrote only part of its entries; the rest failed"
                        );
                    }
                    self.store_failed_labeled(label, e, false)
                }
            }
        })
    }

    /// Encodes and writes one chunk of `set_many` in one store call. The outer `Result` is
    /// the caller's error (a key or value refused); the inner one the store's.
    async fn write_chunk<K: CacheKey, V: Borrow<T>>(
        &self,
        chunk: &[(K, V)],
        prefixes: &[Vec<u8>],
    ) -> Result<Result<(), StoreError>, CacheError> {
        let ttl = self.inner.cfg.default_ttl;
        let dual = self.dual_writes();
        let now = envelope::now_ms();
        let mut batch = Vec::with_capacity(chunk.len());
        let mut deletes = Vec::new();
        let logicals: Vec<KeyBytes<'_>> = chunk.iter().map(|(k, _)| k.key_bytes()).collect();
        for (logical, (_, v)) in logicals.iter().zip(chunk) {
            let logical: &[u8] = logical;
            let ttl = ttl.map(|t| self.inner.cache.jittered(t));
            let times = Times::at(now, ttl);
            let physical = FailSafe::physical(self.inner.cfg.fail_safe.as_ref(), ttl);
            let key = self.full_key(logical)?;
            self.overtake(&key);
            batch.push(SetEntry {
                key,
                value: self.encode_checked(logical, v.borrow(), times)?,
                ttl: physical,
            });
            if let Some(versions) = dual {
                versions.push_dual_writes(
                    self,
                    logical,
                    v.borrow(),
                    physical,
                    times,
                    &mut batch,
                    &mut deletes,
                );
            }
        }
        Self::push_keys(
            prefixes,
            logicals.iter().map(KeyBytes::as_bytes),
            &mut deletes,
        );
        Ok(self.store_writes(&batch, deletes).await)
    }

    /// Deletes many values; returns how many existed (under every version reached). Every
    /// live and registered version of each key is deleted too, as in
    /// [`ModelHandle::delete`]. In chunks of [`Cache::BATCH_CHUNK`] keys, one store call each.
    ///
    /// # Errors
    /// - [`CacheError::KeyTooLong`]: any of the logical keys is over
    ///   [`CacheBuilder::max_key_len`] (checked for all of them before any store call);
    /// - [`CacheError::ModelConflict`]: with the live-version registry on (the default), another
    ///   handle of this cache uses this model name with an unrelated version;
    /// - failing closed only ([`FailureMode::Closed`]): [`CacheError::Store`] for the first
    ///   chunk whose store call failed, did not answer within the timeout or was rejected by
    ///   the circuit breaker; the chunks before it are deleted, the ones after it are not.
    ///
    /// Under the default [`FailureMode::Open`] a failed chunk is logged and counted and adds
    /// nothing to the count returned.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64 }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// let users = cache.model::<User>();
    /// users.set_many([(1, User { id: 1 }), (2, User { id: 2 })]).await?;
    /// assert_eq!(users.delete_many(&[1, 2, 3]).await?, 2); // 3 did not exist
    /// assert_eq!(users.get_many(&[1, 2]).await?, vec![None, None]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn delete_many<K: CacheKey>(&self, keys: &[K]) -> Result<u64, CacheError> {
        let keys: Vec<KeyBytes<'_>> = keys.iter().map(CacheKey::key_bytes).collect();
        let keys = &keys[..];
        let full: Vec<Vec<u8>> = keys
            .iter()
            .map(|k| self.full_key(k.as_ref()))
            .collect::<Result<_, _>>()?;
        if full.is_empty() {
            return Ok(0);
        }
        for key in &full {
            self.overtake(key);
        }
        let cache = &self.inner.cache;
        traced!(self.span("delete_many"), async {
            self.joined().await?;
            let prefixes = self.invalidation_prefixes(false).await;
            let mut deleted = 0;
            for (c, chunk) in full.chunks(Cache::<S>::BATCH_CHUNK).enumerate() {
                let base = c * Cache::<S>::BATCH_CHUNK;
                let logicals = &keys[base..base + chunk.len()];
                let mut batch = chunk.to_vec();
                Self::push_keys(&prefixes, logicals.iter().map(|k| k.as_ref()), &mut batch);
                let result = cache
                    .timed_batch(cache.shared.store.delete_many(&batch))
                    .await;
                self.local_drop(batch.iter().map(Vec::as_slice));
                match result {
                    Ok(n) => deleted += n,
                    Err(e) => {
                        let key = batch_label(logicals[0].as_ref(), logicals.len());
                        self.store_failed_labeled(key, e, false)?;
                    }
                }
            }
            Ok(deleted)
        })
    }

    /// The versions of the model that running builds use, with their heartbeats, read from
    /// the store now (see [`crate::live`]); empty with the registry turned off. A handle joins
    /// the registry on its first operation, so this build's version is listed from then on.
    ///
    /// # Errors
    /// [`CacheError::Store`] when the registry cannot be read (the store failed or did not
    /// answer within the timeout), whatever the failure mode: an empty list would wrongly
    /// say that no build uses an old version.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64 }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// let users = cache.model::<User>();
    /// users.get(1).await?; // joins the registry
    /// let live = users.live_versions().await?;
    /// let this = users.key_version().to_string();
    /// assert!(live.iter().any(|v| v.version == this && v.live));
    ///
    /// let off = Cache::builder(MemoryStore::new()).namespace("prod").live_versions(false).build()?;
    /// assert!(off.model::<User>().live_versions().await?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn live_versions(&self) -> Result<Vec<LiveVersion>, CacheError> {
        let shared = &self.inner.cache.shared;
        if !shared.live.config.enabled {
            return Ok(Vec::new());
        }
        shared
            .live
            .read(&**shared, &self.inner.cfg.record_key)
            .await
            .map_err(|source| CacheError::Store {
                model: self.inner.cfg.name.clone(),
                key: "live".into(),
                source,
            })
    }

    /// Reads a value, or loads, stores and returns it on a miss.
    ///
    /// The loader returns the value (`T`), a [`Loaded<T>`] (to skip caching it or give it
    /// its own TTL), or either in a `Result` with the loader's own error type, which comes
    /// back typed in [`LoadError::Loader`] (see [`crate::load`]).
    ///
    /// Single-flight: while a load of a key runs, other callers of `get_or_load` for that key
    /// on this cache (any handle of the same model version, with the same value and error
    /// types) wait for it instead of calling their loaders. A loader error goes to every
    /// waiter and is not remembered: the next call loads again. Every caller gets a value or
    /// an error within the load timeout ([`CacheBuilder::load_timeout`]): a loader that runs
    /// longer is cancelled and its callers get [`CacheError::LoadTimeout`]; when the loading
    /// caller is cancelled or gives up, a waiter with time left takes over with its own
    /// loader. A `get_or_load` of the same key from inside its own loader fails with
    /// [`CacheError::Reentrant`] instead of waiting for itself. The loaded value is written
    /// with the default TTL before the waiters get it (best effort: a failed write is logged
    /// and counted, and the value is still returned), unless the key was written or deleted
    /// while it loaded (through this cache, or, with a local tier, by any client the store
    /// reports): the value may then predate the change, so it is returned but not written.
    ///
    /// # Errors
    /// - [`LoadError::Loader`]: the loader returned an error (this caller's loader, or the
    ///   one of the load it waited on); nothing is cached. With fail-safe
    ///   ([`CacheBuilder::fail_safe`]) and a stale entry, the stale value is returned instead;
    /// - [`LoadError::Cache`] with
    ///   - [`CacheError::KeyTooLong`]: the logical key is over [`CacheBuilder::max_key_len`];
    ///   - [`CacheError::LoadTimeout`]: no value within [`CacheBuilder::load_timeout`] (the
    ///     loader is cancelled; with fail-safe and a stale entry, the stale value is returned
    ///     instead);
    ///   - [`CacheError::Reentrant`]: called for a key from inside that key's own loader;
    ///   - [`CacheError::ModelConflict`]: with the live-version registry on (the default),
    ///     another handle of this cache uses this model name with an unrelated version;
    ///   - failing closed only ([`FailureMode::Closed`]): [`CacheError::Store`],
    ///     [`CacheError::Decode`] or [`CacheError::VersionMismatch`] from reading the key
    ///     (under the default [`FailureMode::Open`] they are a miss, and the loader runs).
    ///
    /// A failed write of the loaded value (the store, the encoding or the size limit) is never
    /// an error: it is logged and counted, and the value is returned. With an infallible
    /// loader the error type is `LoadError<Infallible>`: only [`LoadError::Cache`]. `?`
    /// turns a `LoadError<E>` into a [`CacheError`] (when `E` is an error) or a
    /// `Box<dyn Error>`.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// use std::time::Duration;
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64 }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new())
    ///     .namespace("prod")
    ///     .load_timeout(Duration::from_millis(50))
    ///     .build()?;
    /// let users = cache.model::<User>();
    ///
    /// // An infallible loader returns the value itself.
    /// let user = users.get_or_load(1, || async { User { id: 1 } }).await?;
    /// assert_eq!(user, User { id: 1 });
    /// assert_eq!(users.get(1).await?, Some(User { id: 1 })); // cached
    ///
    /// // A fallible loader returns a `Result` with its own error type, which comes back typed.
    /// let err = users
    ///     .get_or_load(2, || async { Err::<User, _>(std::io::Error::other("db down")) })
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(err.loader_error().map(|e| e.to_string()), Some("db down".to_string()));
    /// assert_eq!(users.get(2).await?, None); // nothing cached: the next call loads again
    /// let user = users
    ///     .get_or_load(2, || async { Ok::<_, std::io::Error>(User { id: 2 }) })
    ///     .await?;
    /// assert_eq!(user.id, 2);
    ///
    /// // A loader slower than the load timeout is cancelled.
    /// let err = users
    ///     .get_or_load(3, || async {
    ///         tokio::time::sleep(Duration::from_secs(5)).await;
    ///         User { id: 3 }
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// assert!(err.is_timeout());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn get_or_load<F, Fut, R>(
        &self,
        key: impl CacheKey,
        loader: F,
    ) -> Result<T, LoadError<R::Error>>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = R>,
        R: LoadOutput<T>,
        R::Error: Send + Sync + 'static,
    {
        let key = key.key_bytes();
        let logical: &[u8] = &key;
        let full = self.full_key(logical)?;
        traced!(self.span("get_or_load"), async {
            let (stale, unavailable) = match self.read(logical, &full).await? {
                Read::Hit(v, _) => return Ok(v),
                Read::Stale(v) => (Some(v), false),
                Read::Miss { unavailable } => (None, unavailable),
                Read::Absent => (None, false),
            };
            self.obtain(logical, &full, loader, stale, !unavailable)
                .await
        })
    }

    /// [`ModelHandle::get_or_load`] for a loader that can run on its own (`Send + 'static`),
    /// which buys eager refresh ([`CacheBuilder::eager_refresh`]): a hit on an entry past
    /// the configured fraction of its logical life is returned at once, and the loader runs
    /// in the background (once per key at a time in this cache) to replace it, so a hot key
    /// never goes cold. Everything else is as in `get_or_load`.
    ///
    /// # Errors
    /// As [`ModelHandle::get_or_load`]: [`LoadError::Loader`] when the loader of a load this
    /// call waits for fails, and [`LoadError::Cache`] for a key over the limit, a load
    /// timeout, a re-entrant call, a model conflict or, failing closed only, a failed read.
    /// A background refresh never fails the call that started it: the hit is returned, and
    /// a failed refresh leaves the entry as it was.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// use std::time::Duration;
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64 }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new())
    ///     .namespace("prod")
    ///     .eager_refresh(0.8)
    ///     .build()?;
    /// let users = cache.model::<User>();
    /// let db_id = 7;
    /// let user = users.get_or_refresh("7", move || async move { User { id: db_id } }).await?;
    /// assert_eq!(user, User { id: 7 });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn get_or_refresh<F, Fut, R>(
        &self,
        key: impl CacheKey,
        loader: F,
    ) -> Result<T, LoadError<R::Error>>
    where
        T: Clone + Send + Sync + 'static,
        S: Clone,
        C: Clone,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: LoadOutput<T> + Send + 'static,
        R::Error: Send + Sync + 'static,
    {
        let key = key.key_bytes();
        let logical: &[u8] = &key;
        let full = self.full_key(logical)?;
        traced!(self.span("get_or_refresh"), async {
            let (stale, unavailable) = match self.read(logical, &full).await? {
                Read::Hit(v, times) => {
                    let due = match (self.inner.cfg.eager_refresh, times) {
                        (Some(f), Some(t)) => t
                            .age_fraction_at(envelope::now_ms())
                            .is_some_and(|age| age >= f),
                        _ => false,
                    };
                    if due {
                        self.refresh_in_background(logical, &full, loader);
                    }
                    return Ok(v);
                }
                Read::Stale(v) => (Some(v), false),
                Read::Miss { unavailable } => (None, unavailable),
                Read::Absent => (None, false),
            };
            self.obtain(logical, &full, loader, stale, !unavailable)
                .await
        })
    }

    /// Starts a load of `full` in the background, unless one runs already (or too much
    /// background work does).
    fn refresh_in_background<F, Fut, R>(&self, logical: &[u8], full: &[u8], loader: F)
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: LoadOutput<T> + Send + 'static,
        R::Error: Send + Sync + 'static,
    {
        let shared = &self.inner.cache.shared;
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Joined::Lead(leader) = shared.flights.join::<T, R::Error>(full) else {
            return; // loading already, or called from inside this key's loader
        };
        let Ok(permit) = shared.write_backs.clone().try_acquire_owned() else {
            self.inner.cfg.counters.record(Event::WriteBackDropped);
            return;
        };
        self.inner.cfg.counters.record(Event::Refresh);
        let handle = self.clone();
        let (logical, full) = (logical.to_vec(), full.to_vec());
        let deadline = tokio::time::Instant::now() + shared.config.load_timeout;
        rt.spawn(async move {
            let _ = handle
                .lead(&logical, &full, leader, loader, false, deadline, None)
                .await;
            drop(permit);
        });
    }

    /// The load part of `get_or_load`: join the key's flight or lead it, within the load
    /// timeout; with fail-safe, a `stale` value stands in for a failed or slow load.
    async fn obtain<F, Fut, R>(
        &self,
        logical: &[u8],
        full: &[u8],
        loader: F,
        stale: Option<T>,
        recheck: bool,
    ) -> Result<T, LoadError<R::Error>>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = R>,
        R: LoadOutput<T>,
        R::Error: Send + Sync + 'static,
    {
        let shared = &self.inner.cache.shared;
        if let Some(v) = &stale {
            // A recent load of this key failed: serve the stale value, no load.
            if shared.throttles.active(full) {
                self.inner.cfg.counters.record(Event::StaleHit);
                return Ok(v.clone());
            }
        }
        let deadline = tokio::time::Instant::now() + shared.config.load_timeout;
        let flights = &shared.flights;
        let mut loader = Some(loader);
        let mut stale = stale;
        let mut joined = flights.join::<T, R::Error>(full);
        loop {
            match joined {
                Joined::Reentrant => {
                    return Err(CacheError::Reentrant {
                        model: self.inner.cfg.name.clone(),
                        key: display_key(logical),
                    }
                    .into())
                }
                Joined::Lead(leader) => {
                    let loader = loader.take().expect("a caller leads at most once");
                    return self
                        .lead(
                            logical,
                            full,
                            leader,
                            loader,
                            recheck,
                            deadline,
                            stale.take(),
                        )
                        .await;
                }
                Joined::Wait(mut waiter) => {
                    match tokio::time::timeout_at(deadline, waiter.outcome()).await {
                        Ok(Outcome::Value(v)) => return Ok(v),
                        Ok(Outcome::Failed(error)) => {
                            return Err(LoadError::Loader {
                                model: self.inner.cfg.name.clone(),
                                key: display_key(logical),
                                error,
                            })
                        }
                        // The leader was cancelled or gave up: join again (the first to get
                        // there leads).
                        Ok(Outcome::Expired) => joined = flights.join(full),
                        // The leader did not answer within our whole load timeout (not even
                        // with its own): retire its flight so the next caller loads.
                        Err(_) => {
                            flights.abandon(full, &waiter);
                            if let (Some(v), true) = (stale, self.inner.cfg.fail_safe.is_some()) {
                                self.inner.cfg.counters.record(Event::StaleHit);
                                return Ok(v);
                            }
                            return Err(self.load_timeout(logical).into());
                        }
                    }
                }
            }
        }
    }

    /// A handle with fail-safe set for this model (`None`: off), instead of the cache's
    /// setting (see [`CacheBuilder::fail_safe`]). Shares counters and loads with this one.
    pub fn with_fail_safe(&self, fail_safe: Option<FailSafe>) -> Self {
        let mut cfg = self.inner.cfg.clone();
        cfg.fail_safe = fail_safe;
        self.derive(cfg, self.inner.versions.clone())
    }

    /// A handle with eager refresh at `fraction` of an entry's logical life (`None`: off),
    /// instead of the cache's setting (see [`CacheBuilder::eager_refresh`]). A fraction
    /// outside `0.0..1.0` turns it off.
    pub fn with_eager_refresh(&self, fraction: Option<f64>) -> Self {
        let mut cfg = self.inner.cfg.clone();
        cfg.eager_refresh = fraction.filter(|f| *f > 0.0 && *f < 1.0);
        self.derive(cfg, self.inner.versions.clone())
    }

    fn span(&self, op: &'static str) -> tracing::Span {
        tracing::debug_span!(
            "cache_version",
            op,
            model = %self.inner.cfg.name,
            version = %self.inner.cfg.version_hex,
        )
    }

    fn full_key(&self, logical: &[u8]) -> Result<Vec<u8>, CacheError> {
        self.check_key_len(logical)?;
        Ok(self.inner.cfg.prefix.key(logical))
    }

    /// [`ModelHandle::full_key`] for a single-key read: on the stack when it fits.
    #[inline]
    fn read_key(&self, logical: &[u8]) -> Result<crate::key::KeyBuf, CacheError> {
        self.check_key_len(logical)?;
        Ok(self.inner.cfg.prefix.key_buf(logical))
    }

    fn check_key_len(&self, logical: &[u8]) -> Result<(), CacheError> {
        let limit = self.inner.cache.shared.config.max_key_len;
        if logical.len() > limit {
            return Err(CacheError::KeyTooLong {
                model: self.inner.cfg.name.clone(),
                key: display_key(logical),
                len: logical.len(),
                limit,
            });
        }
        Ok(())
    }

    /// Encodes a value written at `times` and checks the size limit.
    pub(crate) fn encode_checked(
        &self,
        logical: &[u8],
        value: &T,
        times: Times,
    ) -> Result<Vec<u8>, CacheError> {
        let bytes = self
            .encode_at(value, times)
            .map_err(|e| self.write_error(logical, e))?;
        let limit = self.inner.cache.shared.config.max_value_len;
        if bytes.len() > limit {
            return Err(self.write_error(
                logical,
                WriteError::TooLarge {
                    size: bytes.len(),
                    limit,
                },
            ));
        }
        Ok(bytes)
    }

    fn write_error(&self, logical: &[u8], e: WriteError) -> CacheError {
        let model = self.inner.cfg.name.clone();
        let key = display_key(logical);
        match e {
            WriteError::Encode(source) => CacheError::Encode { model, key, source },
            WriteError::TooLarge { size, limit } => CacheError::ValueTooLarge {
                model,
                key,
                size,
                limit,
            },
        }
    }

    fn load_timeout(&self, logical: &[u8]) -> CacheError {
        self.inner.cfg.counters.record(Event::LoadTimeout);
        CacheError::LoadTimeout {
            model: self.inner.cfg.name.clone(),
            key: display_key(logical),
            after: self.inner.cache.shared.config.load_timeout,
        }
    }

    async fn read(&self, logical: &[u8], full: &[u8]) -> Result<Read<T>, CacheError>
    where
        T: Clone + Send + Sync + 'static,
    {
        let member = self.joined().await?;
        if let Some(local) = &self.inner.cache.shared.local {
            if let Some(hit) = self.local_hit(local, full, member) {
                return Ok(hit);
            }
        }
        self.read_store(logical, full, member).await
    }

    /// [`ModelHandle::read`] past the local tier (the caller looked there): the store's
    /// entry, which then fills the tier.
    async fn read_store(
        &self,
        logical: &[u8],
        full: &[u8],
        member: Member<'_>,
    ) -> Result<Read<T>, CacheError>
    where
        T: Clone + Send + Sync + 'static,
    {
        let cache = &self.inner.cache;
        let local = cache.shared.local.as_ref();
        let token = local.map(|l| l.token(full));
        match cache.timed(cache.shared.store.get(full)).await {
            Ok(v) => match self
                .finish_read(logical, full, v.as_deref(), envelope::now_ms(), member)
                .await?
            {
                Read::Absent => Ok(self.resolve_absent(logical, full).await),
                Read::Hit(value, times) => {
                    self.inner.cfg.counters.record(Event::Hit);
                    if let (Some(local), Some(token)) = (local, token) {
                        let len = v.as_deref().map_or(0, <[u8]>::len);
                        let refresh = self.inner.cfg.eager_refresh;
                        local.fill(full, value.clone(), times, len, refresh, token);
                    }
                    Ok(Read::Hit(value, times))
                }
                read => Ok(read),
            },
            Err(e) => self
                .store_failed(logical, e, true)
                .map(|()| Read::Miss { unavailable: true }),
        }
    }

    /// `take` of the local tier's entry for `full`, when it holds one this build may serve now
    /// (the same trust check as the store's entries: see [`crate::live`]); counted as a hit
    /// when `take` gives something. `take` runs in the tier, under a read lock of the entry's
    /// shard: cloning the value there moves no reference count between cores.
    #[inline]
    fn local_entry<R>(
        &self,
        local: &LocalFront,
        full: &[u8],
        member: Member<'_>,
        take: impl FnOnce(&Found<'_, T>) -> Option<R>,
    ) -> Option<R>
    where
        T: Send + Sync + 'static,
    {
        // One clock read for the entry's deadline and the trust check.
        let now = envelope::now_ms();
        let r = local.lookup::<T, R>(full, now, |found| {
            if !self.trusts(found.times, member, now) {
                return None;
            }
            take(&found)
        })?;
        self.inner
            .cfg
            .counters
            .record_both(Event::Hit, Event::LocalHit);
        Some(r)
    }

    /// [`ModelHandle::local_entry`] as a read (the value cloned in the tier).
    #[inline]
    fn local_hit(&self, local: &LocalFront, full: &[u8], member: Member<'_>) -> Option<Read<T>>
    where
        T: Clone + Send + Sync + 'static,
    {
        self.local_entry(local, full, member, |f| {
            Some(Read::Hit(f.value.clone(), f.times))
        })
    }

    /// Drops keys this cache has just written or deleted from its local tier.
    fn local_drop<'k>(&self, keys: impl IntoIterator<Item = &'k [u8]>) {
        if let Some(local) = &self.inner.cache.shared.local {
            local.drop_keys(keys);
        }
    }

    /// Resolves an absent value: served from an older version when migrations are registered
    /// (counted there as a fallback hit), else counted as a miss. Never returns `Absent`.
    async fn resolve_absent(&self, logical: &[u8], full: &[u8]) -> Read<T> {
        if let Some(versions) = self.inner.versions.as_deref() {
            if versions.falls_back() {
                if let Some(v) = versions.fallback(self, logical).await {
                    return Read::Hit(v, None);
                }
            }
        }
        // A value this cache loaded whose write-back is still under way.
        if self.inner.cache.shared.config.background_write_back {
            if let Some(v) = self.inner.cache.shared.flights.published::<T>(full) {
                self.inner.cfg.counters.record(Event::Hit);
                return Read::Hit(v, None);
            }
        }
        self.inner.cfg.counters.record(Event::Miss);
        Read::Miss { unavailable: false }
    }

    /// The registered versions when dual-write is registered and on.
    fn dual_writes(&self) -> Option<&dyn OtherVersions<T, S, C>> {
        self.inner
            .versions
            .as_deref()
            .filter(|v| v.dual_writes_active())
    }

    /// Classifies what the store returned for one key, counting all but hits (the caller
    /// counts those). An entry past its logical expiry is a miss.
    ///
    /// The unreadable case runs in a boxed future of its own: it is rare, and keeping its
    /// store call out of this future keeps every read's future small (they are moved on each
    /// call; inlining the cold path made a typed `get` on Redis ~2 KB instead of a few hundred
    /// bytes).
    async fn finish_read(
        &self,
        logical: &[u8],
        full: &[u8],
        value: Option<&[u8]>,
        now_ms: u64,
        member: Member<'_>,
    ) -> Result<Read<T>, CacheError> {
        let Some(bytes) = value else {
            return Ok(Read::Absent);
        };
        match self.read_bytes(bytes) {
            // A young version's entry another build may not have invalidated: absent (an
            // older version, or the loader, serves the key instead).
            Ok(d) if !self.trusts(d.times, member, now_ms) => {
                self.inner.cfg.counters.record(Event::Untrusted);
                Ok(Read::Absent)
            }
            // Past its logical expiry: a miss, which fail-safe may still serve.
            Ok(d) if d.expired_at(now_ms) => {
                self.inner.cfg.counters.record(Event::Miss);
                let servable = match (&self.inner.cfg.fail_safe, &d.times) {
                    (Some(fs), Some(t)) => fs.servable(t, now_ms),
                    _ => false,
                };
                Ok(if servable {
                    Read::Stale(d.value)
                } else {
                    Read::Miss { unavailable: false }
                })
            }
            // Counted by the caller (a batch counts its hits at once).
            Ok(d) => Ok(Read::Hit(d.value, d.times)),
            Err(e) => Box::pin(self.unreadable(logical, full, e)).await,
        }
    }

    /// Counts and logs a value that could not be read, deletes it when so configured, and
    /// turns it into a miss (fail-open) or the error (fail-closed).
    async fn unreadable(
        &self,
        logical: &[u8],
        full: &[u8],
        err: DecodeError,
    ) -> Result<Read<T>, CacheError> {
        let counters = &self.inner.cfg.counters;
        let model = self.inner.cfg.name.clone();
        let key = display_key(logical);
        let err = match err {
            DecodeError::Envelope(e) if e.is_version_mismatch() => {
                counters.record(Event::VersionMismatch);
                CacheError::VersionMismatch {
                    model,
                    key,
                    source: e,
                }
            }
            e => {
                counters.record(Event::DecodeError);
                CacheError::Decode {
                    model,
                    key,
                    source: e,
                }
            }
        };
        tracing::warn!(error = %err, "unreadable cache value; treated as a miss");
        let cache = &self.inner.cache;
        if cache.shared.config.delete_invalid {
            if let Err(e) = cache.timed(cache.shared.store.delete(full)).await {
                counters.record(Event::StoreError);
                tracing::warn!(error = %e, "could not delete the unreadable value");
            }
        }
        match cache.shared.config.failure_mode {
            FailureMode::Open => {
                counters.record(Event::Miss);
                Ok(Read::Miss { unavailable: false })
            }
            FailureMode::Closed => Err(err),
        }
    }

    fn store_failed(&self, logical: &[u8], e: StoreError, read: bool) -> Result<(), CacheError> {
        self.store_failed_labeled(display_key(logical), e, read)
    }

    fn store_failed_labeled(
        &self,
        key: String,
        e: StoreError,
        read: bool,
    ) -> Result<(), CacheError> {
        let counters = &self.inner.cfg.counters;
        if BreakerOpen::is(&e) {
            // Logged once when the breaker opened, not per call.
            counters.record(Event::BreakerRejected);
            return match self.inner.cache.shared.config.failure_mode {
                FailureMode::Open => {
                    if read {
                        counters.record(Event::Miss);
                    }
                    Ok(())
                }
                FailureMode::Closed => Err(CacheError::Store {
                    model: self.inner.cfg.name.clone(),
                    key,
                    source: e,
                }),
            };
        }
        counters.record(Event::StoreError);
        let err = CacheError::Store {
            model: self.inner.cfg.name.clone(),
            key,
            source: e,
        };
        match self.inner.cache.shared.config.failure_mode {
            FailureMode::Open => {
                tracing::warn!(error = %err, "cache store failed; carrying on without the cache");
                if read {
                    counters.record(Event::Miss);
                }
                Ok(())
            }
            FailureMode::Closed => {
                tracing::warn!(error = %err, "cache store failed");
                Err(err)
            }
        }
    }

    fn batch_read_failed<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        e: StoreError,
    ) -> Result<Vec<Option<T>>, CacheError> {
        let first = keys.first().map_or(&[][..], |k| k.as_ref());
        self.store_failed_labeled(batch_label(first, keys.len()), e, false)?;
        self.inner
            .cfg
            .counters
            .record_n(Event::Miss, keys.len() as u64);
        Ok(keys.iter().map(|_| None).collect())
    }

    async fn write(
        &self,
        logical: &[u8],
        value: &T,
        ttl: Option<Duration>,
    ) -> Result<(), CacheError> {
        self.write_inner(logical, value, ttl, true).await
    }

    /// Writes a value with logical TTL `ttl` (jittered; the store's TTL adds fail-safe's
    /// `max_stale`), reaching every live version. A caller's write (`overtakes`) cancels the
    /// background write-back of a load of the key under way and ends its fail-safe throttle;
    /// a load's own write-back does neither.
    async fn write_inner(
        &self,
        logical: &[u8],
        value: &T,
        ttl: Option<Duration>,
        overtakes: bool,
    ) -> Result<(), CacheError> {
        let full = self.full_key(logical)?;
        let cache = &self.inner.cache;
        let ttl = ttl.map(|t| cache.jittered(t));
        let times = Times::now(ttl);
        let bytes = self.encode_checked(logical, value, times)?;
        let physical = FailSafe::physical(self.inner.cfg.fail_safe.as_ref(), ttl);
        if overtakes {
            self.overtake(&full);
        }
        traced!(self.span("set"), async {
            self.joined().await?;
            let mut sets = vec![SetEntry {
                key: full,
                value: bytes,
                ttl: physical,
            }];
            let mut deletes = Vec::new();
            if let Some(versions) = self.dual_writes() {
                versions.push_dual_writes(
                    self,
                    logical,
                    value,
                    physical,
                    times,
                    &mut sets,
                    &mut deletes,
                );
            }
            let prefixes = self.invalidation_prefixes(true).await;
            Self::push_keys(&prefixes, [logical], &mut deletes);
            match self.store_writes(&sets, deletes).await {
                Ok(()) => Ok(()),
                Err(e) => self.store_failed(logical, e, false),
            }
        })
    }

    /// A write or delete of `full` by a caller: a load of it under way must not write its
    /// (older) value back, and a fail-safe throttle of it ends.
    fn overtake(&self, full: &[u8]) {
        let shared = &self.inner.cache.shared;
        shared.flights.invalidate(full);
        shared.throttles.end(full);
    }

    /// Writes `sets` and deletes `deletes` in one store call: a plain `set` in the steady
    /// state (one entry, nothing to invalidate).
    async fn store_writes(
        &self,
        sets: &[SetEntry],
        deletes: Vec<Vec<u8>>,
    ) -> Result<(), StoreError> {
        let cache = &self.inner.cache;
        let store = &cache.shared.store;
        let result = match (sets, deletes.is_empty()) {
            ([one], true) => cache.timed(store.set(&one.key, &one.value, one.ttl)).await,
            (_, true) => cache.timed_batch(store.set_many(sets)).await,
            // Boxed: only writes that reach other versions pay for its future.
            _ => Box::pin(cache.timed_batch(store.set_many_and_delete(sets, &deletes)))
                .await
                .map(|_| ()),
        };
        // Whether or not the store answered, the old value may be gone.
        self.local_drop(
            sets.iter()
                .map(|s| s.key.as_slice())
                .chain(deletes.iter().map(Vec::as_slice)),
        );
        result
    }

    /// Joins the live registry (once per handle): the check that no unrelated version of
    /// this model has a handle in this cache, and the first announcement. A registry the
    /// store cannot reach now is `Member::Unknown` (tried again on the next call).
    async fn joined(&self) -> Result<Member<'_>, CacheError> {
        if let Some(member) = self.joined_now() {
            return Ok(member);
        }
        self.join_slow().await
    }

    /// [`ModelHandle::joined`] once joined (or with the registry off): no future to make.
    #[inline]
    fn joined_now(&self) -> Option<Member<'_>> {
        if !self.inner.cache.shared.live.config.enabled {
            return Some(Member::Off);
        }
        self.inner.member.get().map(|state| Member::Known(state))
    }

    /// The first [`ModelHandle::joined`] (and each one after a failed attempt).
    #[cold]
    async fn join_slow(&self) -> Result<Member<'_>, CacheError> {
        let shared = &self.inner.cache.shared;
        let (related, reads) = match self.inner.versions.as_deref() {
            Some(v) => (
                v.hexes().iter().map(|(h, _)| *h).collect::<Vec<_>>(),
                v.read_hexes(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        let cfg = &self.inner.cfg;
        match shared
            .live
            .join(&**shared, &cfg.live, cfg.hex, &related, &reads)
            .await
        {
            Ok(Ok(state)) => {
                let state = self.inner.member.get_or_init(|| state);
                self.start_heartbeat();
                Ok(Member::Known(state))
            }
            Ok(Err(conflict)) => Err(CacheError::ModelConflict {
                model: cfg.name.clone(),
                version: cfg.version_hex.to_string(),
                other: conflict.other,
            }),
            Err(e) => {
                if BreakerOpen::is(&e) {
                    cfg.counters.record(Event::BreakerRejected);
                } else {
                    cfg.counters.record(Event::StoreError);
                    tracing::warn!(
                        model = %cfg.name,
                        error = %e,
                        "live-version registry unreachable; this version's entries are not trusted until it is"
                    );
                }
                Ok(Member::Unknown)
            }
        }
    }

    /// Starts the cache's heartbeat task, once, on the current Tokio runtime.
    fn start_heartbeat(&self) {
        let shared = &self.inner.cache.shared;
        if !shared.live.claim_heartbeat() {
            return;
        }
        let weak: std::sync::Weak<dyn RecordStore> =
            Arc::downgrade(&self.inner.cache.shared) as std::sync::Weak<dyn RecordStore>;
        let period = shared.live.config.heartbeat;
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(crate::live::heartbeat(weak, period));
        }
    }

    /// Whether an entry with `times` can be served (see [`crate::live`]).
    fn trusts(&self, times: Option<Times>, member: Member<'_>, now_ms: u64) -> bool {
        match (member, times) {
            (Member::Off, _) => true,
            (Member::Unknown, _) => false,
            // Raw payloads carry no write time.
            (Member::Known(_), None) => true,
            (Member::Known(state), Some(t)) => {
                self.inner
                    .cache
                    .shared
                    .live
                    .trusts(state, t.written_ms, now_ms)
            }
        }
    }

    /// Joins the live registry now (what every operation does first), so a job can rely on
    /// this handle's standing in it.
    pub(crate) async fn ensure_joined(&self) -> Result<(), CacheError> {
        self.joined().await.map(|_| ())
    }

    /// For the rollout tools: whether an entry of the other version `hex` with `times`,
    /// found by a fallback read or a sweep, can be served (see [`crate::live`]).
    pub(crate) fn trusts_entry(&self, hex: &[u8; 16], times: Option<Times>, now_ms: u64) -> bool {
        let live = &self.inner.cache.shared.live;
        if !live.config.enabled {
            return true;
        }
        match (self.inner.member.get(), times) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(state), Some(t)) => {
                live.trusts_other(state, &self.inner.cfg.live, hex, t.written_ms, now_ms)
            }
        }
    }

    /// The key prefixes (`{namespace}:{model}:{version}:`) a write (`for_write`) or a delete
    /// of this handle must also reach: the registered versions (but, for a write, not the
    /// dual-write targets, which get the value), and the other live versions and the
    /// versions they read. Reads the registry first when the view is too old.
    async fn invalidation_prefixes(&self, for_write: bool) -> Vec<Vec<u8>> {
        let cfg = &self.inner.cfg;
        let mut out: Vec<Vec<u8>> = Vec::new();
        let mut reached: Vec<[u8; 16]> = Vec::new();
        if let Some(v) = self.inner.versions.as_deref() {
            let dual_on = v.dual_writes_active();
            for ((hex, dual), prefix) in v.hexes().iter().zip(v.prefixes()) {
                reached.push(*hex);
                if !(for_write && *dual && dual_on) {
                    out.push(prefix.as_bytes().to_vec());
                }
            }
        }
        let shared = &self.inner.cache.shared;
        if shared.live.config.enabled {
            if shared.live.view_is_stale(&cfg.live) {
                if let Err(e) = shared.live.refresh(&**shared, &cfg.live).await {
                    if !BreakerOpen::is(&e) {
                        cfg.counters.record(Event::StoreError);
                        tracing::warn!(
                            model = %cfg.name,
                            error = %e,
                            "live-version registry unreachable; writing with the last view of it"
                        );
                    }
                }
            }
            for hex in shared.live.others(&cfg.live, &cfg.hex) {
                if !reached.contains(&hex) {
                    let mut prefix = cfg.prefix.model_prefix().to_vec();
                    prefix.extend_from_slice(&hex);
                    prefix.push(b':');
                    out.push(prefix);
                }
            }
        }
        out
    }

    /// Appends the keys of every logical key under every prefix.
    fn push_keys<'k>(
        prefixes: &[Vec<u8>],
        logicals: impl IntoIterator<Item = &'k [u8]>,
        keys: &mut Vec<Vec<u8>>,
    ) {
        if prefixes.is_empty() {
            return;
        }
        for logical in logicals {
            for prefix in prefixes {
                let mut key = Vec::with_capacity(prefix.len() + logical.len());
                key.extend_from_slice(prefix);
                key.extend_from_slice(logical);
                keys.push(key);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn lead<E, Fut, R>(
        &self,
        logical: &[u8],
        full: &[u8],
        leader: Leader<T, E>,
        loader: impl FnOnce() -> Fut,
        recheck: bool,
        deadline: tokio::time::Instant,
        stale: Option<T>,
    ) -> Result<T, LoadError<E>>
    where
        T: Clone + Send + Sync + 'static,
        E: Send + Sync + 'static,
        Fut: Future<Output = R>,
        R: LoadOutput<T, Error = E>,
    {
        let shared = &self.inner.cache.shared;
        // A load that finished between our miss and our registration has written the value.
        if recheck {
            if let Ok(Some(bytes)) = shared.timed(shared.store.get(full)).await {
                let member = self.joined().await.unwrap_or(Member::Unknown);
                if let Ok(Read::Hit(v, _)) = self
                    .finish_read(logical, full, Some(&bytes), envelope::now_ms(), member)
                    .await
                {
                    self.inner.cfg.counters.record(Event::Hit);
                    leader.finish(Outcome::Value(v.clone()));
                    return Ok(v);
                }
            }
        }
        self.inner.cfg.counters.record(Event::Load);
        // With a stale value to fall back on, the soft timeout applies.
        let fail_safe = self.inner.cfg.fail_safe.filter(|_| stale.is_some());
        let until = match (fail_safe, shared.config.soft_timeout) {
            (Some(_), Some(soft)) => deadline.min(tokio::time::Instant::now() + soft),
            _ => deadline,
        };
        let loaded = match tokio::time::timeout_at(until, leader.run(loader())).await {
            Ok(out) => out.into_loaded(),
            Err(_) => match (fail_safe, stale) {
                (Some(fs), Some(v)) => return Ok(self.serve_stale(full, leader, fs, v)),
                _ => {
                    leader.finish(Outcome::Expired);
                    return Err(self.load_timeout(logical).into());
                }
            },
        };
        match loaded {
            Ok(Loaded { value, cache, ttl }) => {
                shared.throttles.end(full);
                if !cache {
                    leader.finish(Outcome::Value(value.clone()));
                    return Ok(value);
                }
                let ttl = ttl.unwrap_or(self.inner.cfg.default_ttl);
                if shared.config.background_write_back {
                    self.write_back_in_background(logical, leader, value.clone(), ttl);
                } else {
                    // A write or delete of the key since the load began (through this cache,
                    // or reported by the store: another process) makes the loaded value
                    // possibly older than the store's state: returned, not written back.
                    if !leader.overtaken() {
                        if let Err(e) = self.write(logical, &value, ttl).await {
                            tracing::warn!(error = %e, "could not cache the loaded value");
                        }
                    }
                    leader.finish(Outcome::Value(value.clone()));
                }
                Ok(value)
            }
            Err(e) => match (fail_safe, stale) {
                (Some(fs), Some(v)) => Ok(self.serve_stale(full, leader, fs, v)),
                _ => {
                    let error = Arc::new(e);
                    leader.finish(Outcome::Failed(error.clone()));
                    Err(LoadError::Loader {
                        model: self.inner.cfg.name.clone(),
                        key: display_key(logical),
                        error,
                    })
                }
            },
        }
    }

    /// Fail-safe: the load failed or was too slow; the stale value goes to this caller and
    /// the waiters, and loads of the key pause for the throttle.
    fn serve_stale<E>(&self, full: &[u8], leader: Leader<T, E>, fs: FailSafe, v: T) -> T
    where
        T: Clone,
    {
        let shared = &self.inner.cache.shared;
        shared.throttles.start(full, fs.throttle);
        self.inner.cfg.counters.record(Event::StaleHit);
        tracing::warn!(
            model = %self.inner.cfg.name,
            "loading failed or timed out: serving the stale value (fail-safe)"
        );
        leader.finish(Outcome::Value(v.clone()));
        v
    }

    /// Publishes the loaded value at once and writes it to the store in the background;
    /// the flight stays registered until the write lands, so a write or delete of the key
    /// meanwhile cancels it, and later callers get the value from the flight.
    fn write_back_in_background<E>(
        &self,
        logical: &[u8],
        leader: Leader<T, E>,
        value: T,
        ttl: Option<Duration>,
    ) where
        T: Clone + Send + Sync + 'static,
        E: Send + Sync + 'static,
    {
        let shared = &self.inner.cache.shared;
        let rt = tokio::runtime::Handle::try_current();
        let permit = shared.write_backs.clone().try_acquire_owned();
        let (Ok(rt), Ok(permit)) = (rt, permit) else {
            self.inner.cfg.counters.record(Event::WriteBackDropped);
            leader.finish(Outcome::Value(value));
            return;
        };
        leader.publish(Outcome::Value(value.clone()));
        let handle = self.clone();
        let logical = logical.to_vec();
        rt.spawn(async move {
            if !leader.overtaken() {
                if let Err(e) = handle.write_inner(&logical, &value, ttl, false).await {
                    tracing::warn!(error = %e, "could not cache the loaded value");
                }
            }
            drop(leader);
            drop(permit);
        });
    }
}

pin_project_lite::pin_project! {
    /// A store call through the circuit breaker, bounded by the cache's timeout or by the
    /// store itself ([`Cache::timed`]). A call the open breaker refuses never polls the
    /// store's future (so never touches the store).
    pub(crate) struct Timed<'a, F> {
        breaker: &'a Breaker,
        admit: Option<Admit>,
        #[pin]
        call: Call<F>,
    }
}

pin_project_lite::pin_project! {
    #[project = CallProj]
    enum Call<F> {
        Bounded {
            #[pin]
            inner: tokio::time::Timeout<F>,
            timeout: Duration,
        },
        ByStore {
            #[pin]
            inner: F,
        },
    }
}

impl<R, F> Future for Timed<'_, F>
where
    F: Future<Output = Result<R, StoreError>>,
{
    type Output = Result<R, StoreError>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let this = self.project();
        let breaker = *this.breaker;
        let admit = *this.admit.get_or_insert_with(|| breaker.admit());
        if admit == Admit::Reject {
            return std::task::Poll::Ready(Err(breaker.refusal()));
        }
        let result = match this.call.project() {
            CallProj::Bounded { inner, timeout } => match inner.poll(cx) {
                std::task::Poll::Ready(Ok(r)) => r,
                std::task::Poll::Ready(Err(_)) => Err(StoreError::Timeout(*timeout)),
                std::task::Poll::Pending => return std::task::Poll::Pending,
            },
            CallProj::ByStore { inner } => match inner.poll(cx) {
                std::task::Poll::Ready(r) => r,
                std::task::Poll::Pending => return std::task::Poll::Pending,
            },
        };
        breaker.record(admit, &result);
        std::task::Poll::Ready(result)
    }
}

fn batch_label(first: &[u8], n: usize) -> String {
    if n <= 1 {
        display_key(first)
    } else {
        format!("{} (and {} more)", display_key(first), n - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Body, Field, MemoryStore, Named, Shape, Ty};
    use std::sync::Mutex;

    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Item {
        id: u64,
    }

    impl CacheVersion for Item {
        const SHAPE: &'static Shape = &Shape::Named(&Named::new(
            "Item",
            Body::Struct {
                tag: None,
                fields: &[Field::new("id", Ty::of::<u64>())],
            },
        ));
    }
    impl CacheModel for Item {}

    use crate::test_recorder::TestRecorder;

    /// A `MemoryStore` whose `get` first sleeps `delay`, and which claims `bound` as its
    /// [`Store::call_bound`] (whether it keeps to it or not).
    struct SlowStore {
        inner: MemoryStore,
        delay: Duration,
        bound: Option<Duration>,
    }

    impl Store for SlowStore {
        async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
            tokio::time::sleep(self.delay).await;
            self.inner.get(key).await
        }
        async fn get_with_ttl(
            &self,
            key: &[u8],
        ) -> Result<Option<crate::store::ValueAndTtl>, StoreError> {
            self.inner.get_with_ttl(key).await
        }
        async fn set(
            &self,
            key: &[u8],
            value: &[u8],
            ttl: Option<Duration>,
        ) -> Result<(), StoreError> {
            self.inner.set(key, value, ttl).await
        }
        async fn delete(&self, key: &[u8]) -> Result<bool, StoreError> {
            self.inner.delete(key).await
        }
        async fn scan_prefix(
            &self,
            prefix: &[u8],
            cursor: crate::store::ScanCursor,
            count: usize,
        ) -> Result<crate::store::ScanPage, StoreError> {
            self.inner.scan_prefix(prefix, cursor, count).await
        }
        fn call_bound(&self) -> Option<Duration> {
            self.bound
        }
    }

    /// The time a fail-open `get` of a stored value takes on a `SlowStore`, and what it read.
    fn timed_get(delay: Duration, bound: Option<Duration>, timeout: Duration) -> (Duration, bool) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let store = SlowStore {
                inner: MemoryStore::new(),
                delay,
                bound,
            };
            let cache = Cache::builder(store)
                .namespace("t")
                .timeout(timeout)
                .build()
                .unwrap();
            let items = cache.model::<Item>();
            items.set("1", &Item { id: 1 }).await.unwrap();
            let start = std::time::Instant::now();
            let got = items.get("1").await.unwrap();
            (start.elapsed(), got.is_some())
        })
    }

    #[test]
    fn encode_buffers_sized_from_earlier_values_hold_the_same_bytes() {
        let cache = Cache::builder(MemoryStore::new())
            .namespace("t")
            .build()
            .unwrap();
        let handle = cache.model_named::<Vec<String>>("Strings").unwrap();
        // Sizes up and down across the hint's thresholds, past its cap and back.
        for n in [0usize, 1, 300, 2, 70_000, 5, 40_000, 40_001, 0] {
            let value = vec!["x".repeat(n)];
            let fresh = cache.model_named::<Vec<String>>("Strings").unwrap();
            let times = Times::at(1_000, Some(Duration::from_secs(1)));
            let bytes = handle.encode_at(&value, times).unwrap();
            assert_eq!(bytes, fresh.encode_at(&value, times).unwrap(), "{n}");
            assert_eq!(handle.decode_value(&bytes).unwrap(), value);
        }
    }

    #[test]
    fn the_cache_times_calls_unless_the_store_bounds_them_within_its_timeout() {
        let (ms, s) = (Duration::from_millis(1), Duration::from_secs(1));
        // No bound claimed: the cache's 50 ms timeout cuts a 1 s call.
        let (took, hit) = timed_get(s, None, 50 * ms);
        assert!(!hit && took < 900 * ms, "took {took:?}");
        // A claimed bound above the timeout changes nothing.
        let (took, hit) = timed_get(s, Some(10 * s), 50 * ms);
        assert!(!hit && took < 900 * ms, "took {took:?}");
        // A bound within the timeout is trusted: no second timer, so a store that breaks its
        // promise (here by 150 ms) is not cut at the cache's 100 ms.
        let (took, hit) = timed_get(150 * ms, Some(10 * ms), 100 * ms);
        assert!(hit && took >= 150 * ms, "took {took:?}");
        // And a fast store answers either way.
        assert!(timed_get(Duration::ZERO, Some(10 * ms), 100 * ms).1);
        assert!(timed_get(Duration::ZERO, None, 100 * ms).1);
    }

    /// Records the `op` field of every span.
    #[derive(Default, Clone)]
    struct SpanOps(Arc<Mutex<Vec<String>>>);

    struct OpVisitor<'a>(&'a mut Option<String>);

    impl tracing::field::Visit for OpVisitor<'_> {
        fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
            if field.name() == "op" {
                *self.0 = Some(value.to_string());
            }
        }
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            if field.name() == "op" {
                *self.0 = Some(format!("{value:?}"));
            }
        }
    }

    impl tracing::Subscriber for SpanOps {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            let mut op = None;
            span.record(&mut OpVisitor(&mut op));
            let mut ops = self.0.lock().unwrap();
            ops.push(op.unwrap_or_default());
            tracing::span::Id::from_u64(ops.len() as u64)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, _: &tracing::Event<'_>) {}
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    #[test]
    fn metrics_and_spans_per_operation() {
        let recorder = TestRecorder::default();
        let spans = SpanOps::default();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let version = metrics::with_local_recorder(&recorder, || {
            tracing::subscriber::with_default(spans.clone(), || {
                rt.block_on(async {
                    let cache = Cache::builder(MemoryStore::new())
                        .namespace("m")
                        .build()
                        .unwrap();
                    let items = cache.model::<Item>();
                    items.get("1").await.unwrap();
                    items.set("1", &Item { id: 1 }).await.unwrap();
                    items.get("1").await.unwrap();
                    items.get_many(&["1", "2"]).await.unwrap();
                    items.set_many([("2", Item { id: 2 })]).await.unwrap();
                    items.delete("2").await.unwrap();
                    items.delete_many(&["2"]).await.unwrap();
                    items
                        .get_or_load("3", || async { Ok::<_, std::io::Error>(Item { id: 3 }) })
                        .await
                        .unwrap();
                    let key = items.key("bad").unwrap();
                    cache.store().set(&key, b"junk", None).await.unwrap();
                    items.get("bad").await.unwrap();
                    let stats = cache.stats().get("Item", &items.key_version().to_string());
                    assert_eq!(stats, Some(items.stats()));
                    items.key_version().to_string()
                })
            })
        });
        let counts = recorder.0.lock().unwrap().clone();
        let at = |name: &str| {
            counts
                .get(&format!(
                    "cache_version_{name}{{model=Item,version={version}}}"
                ))
                .copied()
                .unwrap_or(0)
        };
        // Hits: get, get_many(1). Misses: get, get_many(2), get_or_load, get(bad).
        assert_eq!(at("hit"), 2, "{counts:?}");
        assert_eq!(at("miss"), 4, "{counts:?}");
        assert_eq!(at("load"), 1);
        assert_eq!(at("decode_error"), 1);
        assert_eq!(at("version_mismatch") + at("store_error"), 0);
        let ops = spans.0.lock().unwrap().clone();
        for op in [
            "get",
            "set",
            "get_many",
            "set_many",
            "delete",
            "delete_many",
            "get_or_load",
        ] {
            assert!(ops.iter().any(|o| o == op), "no {op} span in {ops:?}");
        }
    }

    #[test]
    fn jitter_stays_in_bounds() {
        let ttl = Duration::from_secs(100);
        let mut lo = ttl;
        let mut hi = ttl;
        for _ in 0..10_000 {
            let j = jitter(ttl, 0.1);
            assert!(
                j >= Duration::from_secs(90) && j <= Duration::from_secs(110),
                "{j:?}"
            );
            lo = lo.min(j);
            hi = hi.max(j);
        }
        assert!(lo < Duration::from_secs(91) && hi > Duration::from_secs(109));
        assert_eq!(jitter(ttl, 0.0), ttl);
        assert!(jitter(Duration::MAX, 0.5) > Duration::ZERO);
    }

    #[test]
    fn random_unit_is_in_range() {
        for _ in 0..10_000 {
            let u = random_unit();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
