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
//! encoded or is over the size limit) and loader errors are always returned. In
//! [`ModelHandle::get_or_load`] the write-back of the loaded value is best effort in both modes.
//!
//! # Runtime
//!
//! Operations are bounded with `tokio::time::timeout` (or by the store itself, see
//! [`CacheBuilder::timeout`]), so they must run inside a Tokio runtime with the time driver
//! enabled.

use std::any::Any;
use std::borrow::Borrow;
use std::cell::Cell;
use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::watch;
use tracing::Instrument;

use crate::codec::{Codec, CodecError, JsonCodec};
use crate::envelope::{self, Expected};
use crate::error::{CacheError, ConfigError, DecodeError};
use crate::key::{
    display_key, validate_name, KeyPrefix, KeyVersion, NameError, NameKind, ValueFormat,
};
use crate::rollout::Rollout;
use crate::stats::{Counters, Event, Registry, Stats, StatsSnapshot};
use crate::store::{SetEntry, Store, StoreError};
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
    /// Whether an unreadable value is deleted when found.
    pub delete_invalid: bool,
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
                delete_invalid: false,
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

    /// The largest encoded value in bytes, envelope included (default 8 MiB).
    pub fn max_value_len(mut self, len: usize) -> Self {
        self.config.max_value_len = len;
        self
    }

    /// Whether values carry the envelope header (default `true`).
    ///
    /// Off, values are the codec's bytes alone, readable by programs in other languages. The
    /// cost: a value written under the key by someone else (or damaged) is caught only when
    /// the codec fails to decode it, and may otherwise be read as a wrong value. The key
    /// version covers this switch, so raw and enveloped entries never share a key.
    pub fn envelope(mut self, on: bool) -> Self {
        self.config.envelope = on;
        self
    }

    /// Whether a value that fails the envelope check or decoding is deleted when found
    /// (default `false`; the next write replaces it anyway). Best effort.
    pub fn delete_invalid(mut self, on: bool) -> Self {
        self.config.delete_invalid = on;
        self
    }

    /// Checks the settings and builds the cache.
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
        if config.default_ttl == Some(Duration::ZERO) {
            return Err(ConfigError::ZeroLimit("default TTL"));
        }
        if config.max_key_len == 0 {
            return Err(ConfigError::ZeroLimit("key length"));
        }
        if config.max_value_len == 0 {
            return Err(ConfigError::ZeroLimit("value size"));
        }
        Ok(Cache {
            shared: Arc::new(Shared {
                store_bounds_calls: self
                    .store
                    .call_bound()
                    .is_some_and(|bound| bound <= config.timeout),
                store: self.store,
                codec: self.codec,
                config,
                stats: Registry::default(),
                flights: Mutex::default(),
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
    /// In-flight loads of `get_or_load`, by full key; each value is an
    /// `Arc<watch::Sender<Option<FlightResult<T>>>>` for the handle's `T`.
    flights: Mutex<HashMap<Vec<u8>, Arc<dyn Any + Send + Sync>>>,
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
    /// The default logical key limit: 16 KiB.
    pub const DEFAULT_MAX_KEY_LEN: usize = 16 << 10;
    /// The default value size limit: 8 MiB.
    pub const DEFAULT_MAX_VALUE_LEN: usize = 8 << 20;

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
    pub fn model_named<T: CacheVersion>(
        &self,
        name: &str,
    ) -> Result<ModelHandle<T, S, C>, NameError> {
        let format = if self.shared.config.envelope {
            ValueFormat::Enveloped
        } else {
            ValueFormat::Raw
        };
        let key_version = KeyVersion::compute(name, &T::VERSION, C::ID, format);
        let prefix = KeyPrefix::new(&self.shared.config.namespace, name, &key_version)?;
        let version_hex: Arc<str> = key_version.to_string().into();
        let cfg = ModelConfig {
            name: name.into(),
            version: T::VERSION,
            key_version,
            counters: self.shared.stats.counters(name, &version_hex),
            version_hex,
            prefix,
            expected: Expected::new(C::ID, &key_version),
            default_ttl: self.shared.config.default_ttl,
            size_hint: Arc::default(),
        };
        Ok(ModelHandle {
            inner: Arc::new(ModelInner {
                cache: self.clone(),
                cfg,
                rollout: None,
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

    /// A snapshot of the counters of every (model, key version) with a handle.
    pub fn stats(&self) -> StatsSnapshot {
        self.shared.stats.snapshot()
    }

    /// Runs a store operation within the timeout.
    ///
    /// A named future rather than an `async fn`: an `async fn` keeps its argument (the store's
    /// future) and the `Timeout` wrapping it side by side, which doubled the size of every
    /// operation's future.
    ///
    /// A store that bounds its own calls within the timeout ([`Store::call_bound`]) runs
    /// without a second timer around it.
    pub(crate) fn timed<R, F>(&self, op: F) -> Timed<F>
    where
        F: Future<Output = Result<R, StoreError>>,
    {
        if self.shared.store_bounds_calls {
            return Timed::ByStore { inner: op };
        }
        let timeout = self.shared.config.timeout;
        Timed::Bounded {
            inner: tokio::time::timeout(timeout, op),
            timeout,
        }
    }

    /// `ttl` with the configured jitter, at least 1 ms.
    fn jittered(&self, ttl: Duration) -> Duration {
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
    pub(crate) expected: Expected,
    pub(crate) default_ttl: Option<Duration>,
    pub(crate) counters: Arc<Counters>,
    /// The size of a recent encoded value (capped), to allocate an encode buffer once.
    pub(crate) size_hint: Arc<std::sync::atomic::AtomicUsize>,
}

/// The largest encode buffer allocated up front from the size of earlier values.
const SIZE_HINT_CAP: usize = 64 * 1024;

pub(crate) struct ModelInner<T, S: Store, C: Codec> {
    pub(crate) cache: Cache<S, C>,
    pub(crate) cfg: ModelConfig,
    /// Older versions registered by the rolling-deploy tools ([`crate::rollout`]); `None`
    /// (the common case) keeps `get`/`set`/`delete` to one key and one branch.
    pub(crate) rollout: Option<Arc<Rollout<T, C>>>,
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

type SharedError = Arc<dyn std::error::Error + Send + Sync>;
type FlightTx<T> = watch::Sender<Option<Result<T, SharedError>>>;

/// What a read found.
enum Read<T> {
    Hit(T),
    /// The key holds no value; not counted yet (`resolve_absent` decides whether an older
    /// version serves it or it is a miss).
    Absent,
    /// A miss; `unavailable` when the store failed (fail-open).
    Miss {
        unavailable: bool,
    },
}

impl<T, S, C> ModelHandle<T, S, C>
where
    T: CacheVersion + Serialize + DeserializeOwned,
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
    pub fn with_default_ttl(&self, ttl: Option<Duration>) -> Self {
        let mut cfg = self.inner.cfg.clone();
        cfg.default_ttl = ttl.map(|t| t.max(Duration::from_millis(1)));
        ModelHandle {
            inner: Arc::new(ModelInner {
                cache: self.inner.cache.clone(),
                cfg,
                rollout: self.inner.rollout.clone(),
                _t: PhantomData,
            }),
        }
    }

    /// The full store key of a logical key (one allocation).
    pub fn key(&self, logical: impl AsRef<[u8]>) -> Result<Vec<u8>, CacheError> {
        self.full_key(logical.as_ref())
    }

    /// Encodes a value as it is stored: envelope header (unless turned off), then the codec's
    /// payload, in one buffer. (The size limit is checked by the writing methods.)
    pub fn encode_value(&self, value: &T) -> Result<Vec<u8>, CodecError> {
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
        let mut out = Vec::with_capacity(if hint == 0 { 128 } else { hint + hint / 8 });
        if self.envelope() {
            envelope::write_header(&mut out, &self.inner.cfg.expected);
        }
        self.inner.cache.shared.codec.encode(value, &mut out)?;
        let len = out.len().min(SIZE_HINT_CAP);
        if len > hint || len < hint / 2 {
            self.inner
                .cfg
                .size_hint
                .store(len, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(out)
    }

    /// Checks the envelope (unless turned off) and decodes a stored value.
    pub fn decode_value(&self, bytes: &[u8]) -> Result<T, DecodeError> {
        let payload = if self.envelope() {
            envelope::check(bytes, &self.inner.cfg.expected).map_err(DecodeError::Envelope)?
        } else {
            bytes
        };
        self.inner
            .cache
            .shared
            .codec
            .decode(payload)
            .map_err(DecodeError::Codec)
    }

    /// Reads a value. A miss, and under fail-open any store or decode failure, is `Ok(None)`.
    pub async fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<T>, CacheError> {
        let logical = key.as_ref();
        let full = self.full_key(logical)?;
        traced!(self.span("get"), async {
            Ok(match self.read(logical, &full).await? {
                Read::Hit(v) => Some(v),
                Read::Miss { .. } | Read::Absent => None,
            })
        })
    }

    /// Writes a value with the handle's default TTL (jittered).
    ///
    /// With [`ModelHandle::dual_write_to`] registered and on, the value is also written,
    /// converted, under each of those older versions with the same TTL (one store call), so
    /// instances of the older build keep reading fresh values; an older version the value
    /// cannot be converted or encoded for has its key deleted instead (logged).
    pub async fn set(&self, key: impl AsRef<[u8]>, value: &T) -> Result<(), CacheError> {
        let ttl = self.inner.cfg.default_ttl;
        self.write(key.as_ref(), value, ttl).await
    }

    /// Writes a value with `ttl` (jittered; at least 1 ms).
    pub async fn set_with_ttl(
        &self,
        key: impl AsRef<[u8]>,
        value: &T,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        self.write(key.as_ref(), value, Some(ttl)).await
    }

    /// Deletes a value; `true` when it existed. Under fail-open a store failure is `Ok(false)`
    /// (logged and counted).
    ///
    /// With older versions registered ([`ModelHandle::migrate_from`],
    /// [`ModelHandle::dual_write_to`]) the key is deleted in the current version and in every
    /// registered one, in one store call, so no older build keeps serving a stale entry; the
    /// result is then `true` when any of them existed.
    pub async fn delete(&self, key: impl AsRef<[u8]>) -> Result<bool, CacheError> {
        let logical = key.as_ref();
        let full = self.full_key(logical)?;
        let cache = &self.inner.cache;
        traced!(self.span("delete"), async {
            let deleted = match self.inner.rollout.as_deref() {
                None => cache.timed(cache.shared.store.delete(&full)).await,
                // Every registered version of the key, in one call.
                Some(rollout) => {
                    let mut keys = Vec::with_capacity(1 + rollout.versions().len());
                    rollout.push_old_keys(logical, &mut keys);
                    keys.push(full);
                    cache
                        .timed(cache.shared.store.delete_many(&keys))
                        .await
                        .map(|n| n > 0)
                }
            };
            match deleted {
                Ok(existed) => Ok(existed),
                Err(e) => self.store_failed(logical, e, false).map(|()| false),
            }
        })
    }

    /// Reads many values in one store call; one slot per key, in order. Under fail-open an
    /// unreadable value is a `None` in its slot and a store failure makes every slot `None`;
    /// under fail-closed either fails the whole call. With migrations registered, each missing
    /// slot falls back to the older versions as in [`ModelHandle::get`] (key by key).
    pub async fn get_many<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<Vec<Option<T>>, CacheError> {
        let full: Vec<Vec<u8>> = keys
            .iter()
            .map(|k| self.full_key(k.as_ref()))
            .collect::<Result<_, _>>()?;
        let cache = &self.inner.cache;
        traced!(self.span("get_many"), async {
            let values = match cache.timed(cache.shared.store.get_many(&full)).await {
                Ok(values) if values.len() == full.len() => values,
                Ok(values) => {
                    let e = StoreError::backend(format!(
                        "get_many returned {} values for {} keys",
                        values.len(),
                        full.len()
                    ));
                    return self.batch_read_failed(keys, e);
                }
                Err(e) => return self.batch_read_failed(keys, e),
            };
            // The values stay alive until every one is decoded: freeing each 1 KB buffer
            // between decodes made glibc's allocator split and merge it with the decoded
            // strings, ~1 µs a key on the Redis bench.
            let mut out = Vec::with_capacity(values.len());
            let mut hits = 0;
            for ((k, f), v) in keys.iter().zip(&full).zip(&values) {
                let read = match self.finish_read(k.as_ref(), f, v.as_deref()).await {
                    Ok(read) => read,
                    Err(e) => {
                        self.inner.cfg.counters.record_n(Event::Hit, hits);
                        return Err(e);
                    }
                };
                out.push(match read {
                    Read::Hit(v) => {
                        hits += 1;
                        Some(v)
                    }
                    Read::Absent => match self.resolve_absent(k.as_ref()).await {
                        Read::Hit(v) => Some(v),
                        _ => None,
                    },
                    Read::Miss { .. } => None,
                });
            }
            self.inner.cfg.counters.record_n(Event::Hit, hits);
            Ok(out)
        })
    }

    /// Writes many values in one store call, each with the default TTL (jittered per entry),
    /// and with dual-write on, each value's older versions too (see [`ModelHandle::set`]).
    pub async fn set_many<K, V, I>(&self, entries: I) -> Result<(), CacheError>
    where
        K: AsRef<[u8]>,
        V: Borrow<T>,
        I: IntoIterator<Item = (K, V)>,
    {
        let ttl = self.inner.cfg.default_ttl;
        let dual = self.dual_write();
        let mut batch = Vec::new();
        let mut stale = Vec::new();
        let mut first_key = None;
        let mut n = 0;
        for (k, v) in entries {
            let logical = k.as_ref();
            if first_key.is_none() {
                first_key = Some(logical.to_vec());
            }
            let ttl = ttl.map(|t| self.inner.cache.jittered(t));
            batch.push(SetEntry {
                key: self.full_key(logical)?,
                value: self.encode_checked(logical, v.borrow())?,
                ttl,
            });
            n += 1;
            if let Some(rollout) = dual {
                rollout.push_dual_writes(self, logical, v.borrow(), ttl, &mut batch, &mut stale);
            }
        }
        if batch.is_empty() {
            return Ok(());
        }
        let cache = &self.inner.cache;
        traced!(self.span("set_many"), async {
            match cache.timed(cache.shared.store.set_many(&batch)).await {
                Ok(()) => {
                    if let Some(rollout) = dual {
                        rollout.delete_stale(self, &stale).await;
                    }
                    Ok(())
                }
                Err(e) => {
                    let key = batch_label(first_key.as_deref().unwrap_or_default(), n);
                    self.store_failed_labeled(key, e, false)
                }
            }
        })
    }

    /// Deletes many values in one store call; returns how many existed. With older versions
    /// registered, every registered version of each key is deleted too (and counted).
    pub async fn delete_many<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<u64, CacheError> {
        let mut full: Vec<Vec<u8>> = keys
            .iter()
            .map(|k| self.full_key(k.as_ref()))
            .collect::<Result<_, _>>()?;
        if full.is_empty() {
            return Ok(0);
        }
        if let Some(rollout) = self.inner.rollout.as_deref() {
            for k in keys {
                rollout.push_old_keys(k.as_ref(), &mut full);
            }
        }
        let cache = &self.inner.cache;
        traced!(self.span("delete_many"), async {
            match cache.timed(cache.shared.store.delete_many(&full)).await {
                Ok(n) => Ok(n),
                Err(e) => {
                    let key = batch_label(keys[0].as_ref(), keys.len());
                    self.store_failed_labeled(key, e, false).map(|()| 0)
                }
            }
        })
    }

    /// Reads a value, or loads, stores and returns it on a miss.
    ///
    /// Single-flight: while a load of a key runs, other callers of `get_or_load` for that key
    /// on this cache (any handle of the same model version) wait for it instead of calling
    /// their loaders. A loader error goes to every waiter as [`CacheError::Load`] and is not
    /// remembered: the next call loads again. If the loading caller is cancelled, a waiter
    /// takes over. The loaded value is written with the default TTL before the waiters get it
    /// (best effort: a failed write is logged and counted, and the value is still returned).
    pub async fn get_or_load<F, Fut, E>(
        &self,
        key: impl AsRef<[u8]>,
        loader: F,
    ) -> Result<T, CacheError>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let logical = key.as_ref();
        let full = self.full_key(logical)?;
        traced!(self.span("get_or_load"), async {
            let unavailable = match self.read(logical, &full).await? {
                Read::Hit(v) => return Ok(v),
                Read::Miss { unavailable } => unavailable,
                Read::Absent => false,
            };
            let mut loader = Some(loader);
            loop {
                match self.join_flight(&full) {
                    Flight::Wait(mut rx) => match rx.wait_for(Option::is_some).await {
                        Ok(done) => {
                            return match done.as_ref() {
                                Some(Ok(v)) => Ok(v.clone()),
                                Some(Err(e)) => Err(CacheError::Load {
                                    model: self.inner.cfg.name.clone(),
                                    key: display_key(logical),
                                    source: e.clone(),
                                }),
                                None => unreachable!("waited for Some"),
                            };
                        }
                        // The loading caller was cancelled: take over.
                        Err(_) => continue,
                    },
                    Flight::Lead(guard) => {
                        let loader = loader.take().expect("a caller leads at most once");
                        return self.lead(logical, &full, guard, loader, !unavailable).await;
                    }
                }
            }
        })
    }

    pub(crate) fn envelope(&self) -> bool {
        self.inner.cache.shared.config.envelope
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
        let limit = self.inner.cache.shared.config.max_key_len;
        if logical.len() > limit {
            return Err(CacheError::KeyTooLong {
                model: self.inner.cfg.name.clone(),
                key: display_key(logical),
                len: logical.len(),
                limit,
            });
        }
        Ok(self.inner.cfg.prefix.key(logical))
    }

    pub(crate) fn encode_checked(&self, logical: &[u8], value: &T) -> Result<Vec<u8>, CacheError> {
        let bytes = self
            .encode_value(value)
            .map_err(|source| CacheError::Encode {
                model: self.inner.cfg.name.clone(),
                key: display_key(logical),
                source,
            })?;
        let limit = self.inner.cache.shared.config.max_value_len;
        if bytes.len() > limit {
            return Err(CacheError::ValueTooLarge {
                model: self.inner.cfg.name.clone(),
                key: display_key(logical),
                size: bytes.len(),
                limit,
            });
        }
        Ok(bytes)
    }

    async fn read(&self, logical: &[u8], full: &[u8]) -> Result<Read<T>, CacheError> {
        let cache = &self.inner.cache;
        match cache.timed(cache.shared.store.get(full)).await {
            Ok(v) => match self.finish_read(logical, full, v.as_deref()).await? {
                Read::Absent => Ok(self.resolve_absent(logical).await),
                read @ Read::Hit(_) => {
                    self.inner.cfg.counters.record(Event::Hit);
                    Ok(read)
                }
                read => Ok(read),
            },
            Err(e) => self
                .store_failed(logical, e, true)
                .map(|()| Read::Miss { unavailable: true }),
        }
    }

    /// Resolves an absent value: served from an older version when migrations are registered
    /// (counted there as a fallback hit), else counted as a miss. Never returns `Absent`.
    async fn resolve_absent(&self, logical: &[u8]) -> Read<T> {
        if let Some(rollout) = self.inner.rollout.as_deref() {
            // Boxed: only handles with migrations pay for the older versions' reads.
            if let Some(v) = Box::pin(rollout.fallback(self, logical)).await {
                return Read::Hit(v);
            }
        }
        self.inner.cfg.counters.record(Event::Miss);
        Read::Miss { unavailable: false }
    }

    /// The rollout when dual-write is registered and on.
    fn dual_write(&self) -> Option<&Rollout<T, C>> {
        self.inner
            .rollout
            .as_deref()
            .filter(|r| r.dual_write_active())
    }

    /// Classifies what the store returned for one key, counting all but hits (the caller
    /// counts those).
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
    ) -> Result<Read<T>, CacheError> {
        let Some(bytes) = value else {
            return Ok(Read::Absent);
        };
        let limit = self.inner.cache.shared.config.max_value_len;
        let decoded = if bytes.len() > limit {
            Err(DecodeError::TooLarge {
                size: bytes.len(),
                limit,
            })
        } else {
            self.decode_value(bytes)
        };
        match decoded {
            // Counted by the caller (a batch counts its hits at once).
            Ok(v) => Ok(Read::Hit(v)),
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
        let full = self.full_key(logical)?;
        let bytes = self.encode_checked(logical, value)?;
        let cache = &self.inner.cache;
        let ttl = ttl.map(|t| cache.jittered(t));
        traced!(self.span("set"), async {
            let written = match self.dual_write() {
                None => {
                    cache
                        .timed(cache.shared.store.set(&full, &bytes, ttl))
                        .await
                }
                // This version and the older ones in one store call (boxed: only handles
                // with dual-write on pay for its future).
                Some(rollout) => {
                    Box::pin(async {
                        let mut batch = vec![SetEntry {
                            key: full,
                            value: bytes,
                            ttl,
                        }];
                        let mut stale = Vec::new();
                        rollout.push_dual_writes(self, logical, value, ttl, &mut batch, &mut stale);
                        let r = cache.timed(cache.shared.store.set_many(&batch)).await;
                        if r.is_ok() {
                            rollout.delete_stale(self, &stale).await;
                        }
                        r
                    })
                    .await
                }
            };
            match written {
                Ok(()) => Ok(()),
                Err(e) => self.store_failed(logical, e, false),
            }
        })
    }

    /// Joins the load of `full` in flight, or registers a new one led by the caller.
    fn join_flight<'a>(&'a self, full: &'a [u8]) -> Flight<'a, T>
    where
        T: Clone + Send + Sync + 'static,
    {
        let shared = &self.inner.cache.shared;
        let mut flights = shared.flights.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = flights
            .get(full)
            .and_then(|f| f.downcast_ref::<FlightTx<T>>())
        {
            return Flight::Wait(tx.subscribe());
        }
        // None in flight (or one of another Rust type with the same key: load separately).
        let tx: Arc<FlightTx<T>> = Arc::new(watch::channel(None).0);
        let registered = !flights.contains_key(full);
        if registered {
            flights.insert(full.to_vec(), tx.clone() as Arc<dyn Any + Send + Sync>);
        }
        Flight::Lead(FlightGuard {
            flights: &shared.flights,
            key: full,
            tx,
            registered,
        })
    }

    async fn lead<F, Fut, E>(
        &self,
        logical: &[u8],
        full: &[u8],
        guard: FlightGuard<'_, T>,
        loader: F,
        recheck: bool,
    ) -> Result<T, CacheError>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        // A load that finished between our miss and our registration has written the value.
        if recheck {
            let cache = &self.inner.cache;
            if let Ok(Some(bytes)) = cache.timed(cache.shared.store.get(full)).await {
                if let Ok(v) = self.decode_value(&bytes) {
                    self.inner.cfg.counters.record(Event::Hit);
                    guard.finish(Ok(v.clone()));
                    return Ok(v);
                }
            }
        }
        self.inner.cfg.counters.record(Event::Load);
        match loader().await {
            Ok(v) => {
                let ttl = self.inner.cfg.default_ttl;
                if let Err(e) = self.write(logical, &v, ttl).await {
                    tracing::warn!(error = %e, "could not cache the loaded value");
                }
                guard.finish(Ok(v.clone()));
                Ok(v)
            }
            Err(e) => {
                let source: SharedError = Arc::from(e.into());
                guard.finish(Err(source.clone()));
                Err(CacheError::Load {
                    model: self.inner.cfg.name.clone(),
                    key: display_key(logical),
                    source,
                })
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// A store call bounded by the cache's timeout, or by the store itself ([`Cache::timed`]).
    #[project = TimedProj]
    pub(crate) enum Timed<F> {
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

impl<R, F> Future for Timed<F>
where
    F: Future<Output = Result<R, StoreError>>,
{
    type Output = Result<R, StoreError>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match self.project() {
            TimedProj::Bounded { inner, timeout } => inner.poll(cx).map(|r| match r {
                Ok(r) => r,
                Err(_) => Err(StoreError::Timeout(*timeout)),
            }),
            TimedProj::ByStore { inner } => inner.poll(cx),
        }
    }
}

fn batch_label(first: &[u8], n: usize) -> String {
    if n <= 1 {
        display_key(first)
    } else {
        format!("{} (and {} more)", display_key(first), n - 1)
    }
}

enum Flight<'a, T> {
    Wait(watch::Receiver<Option<Result<T, SharedError>>>),
    Lead(FlightGuard<'a, T>),
}

/// The leader's registration of a load: publishes the result, and unregisters on drop (so a
/// cancelled leader lets a waiter take over instead of leaving it waiting forever).
struct FlightGuard<'a, T> {
    flights: &'a Mutex<HashMap<Vec<u8>, Arc<dyn Any + Send + Sync>>>,
    key: &'a [u8],
    tx: Arc<FlightTx<T>>,
    registered: bool,
}

impl<T> FlightGuard<'_, T> {
    fn finish(self, result: Result<T, SharedError>) {
        self.tx.send_replace(Some(result));
        // Drop unregisters.
    }
}

impl<T> Drop for FlightGuard<'_, T> {
    fn drop(&mut self) {
        if !self.registered {
            return;
        }
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        let ours = flights
            .get(self.key)
            .is_some_and(|f| std::ptr::addr_eq(Arc::as_ptr(f), Arc::as_ptr(&self.tx)));
        if ours {
            flights.remove(self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Body, Field, MemoryStore, Named, Shape, Ty};

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
            let bytes = handle.encode_value(&value).unwrap();
            assert_eq!(bytes, fresh.encode_value(&value).unwrap(), "{n}");
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
