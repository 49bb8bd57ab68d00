//! Rolling-deploy tools: typed migrations between versions of a model, dual-write, deletes
//! across versions, a background migrator and cleanup job, and version monitoring.
//!
//! A new key space per shape ends the decode errors of a rolling deploy, but leaves the new
//! build with a cold cache for the changed model and the old entries behind. The tools here
//! bridge the two versions, all on any [`Store`]:
//!
//! | tool | what it does |
//! |---|---|
//! | [`ModelHandle::migrate_from`] / [`ModelHandle::migrate_via`] | a miss on the current version reads the registered older versions (newest first), converts the value, writes it under the current version with the old entry's remaining TTL (read-migrate-write) and counts a `fallback_hit`; [`ModelHandle::set_fallback_write_back`] turns the write-back off (version-tolerant reads) |
//! | [`ModelHandle::dual_write_to`] | `set` also writes the value, converted back, under an older version, so instances of the old build stay warm; [`ModelHandle::set_dual_write`] turns it on and off at run time |
//! | deletes | `delete` / `delete_many` delete the key in the current version and in every registered older one, so a delete by the new build leaves no stale entry for the old build |
//! | [`ModelHandle::sweep`], [`ModelHandle::migrator`], [`ModelHandle::cleanup`] | a job over [`Store::scan_prefix`] that walks the keys of the model's older versions in batches, rate-limited, and migrates or deletes them, with a dry-run mode and a [`SweepReport`] |
//! | [`ModelHandle::version_report`] | reads per version (including fallback reads of older versions), whether an old version is still being read, and the versions running builds announce, with their heartbeats |
//!
//! ```
//! use cache_version_core::{Cache, CacheVersion, MemoryStore};
//! use serde::{Deserialize, Serialize};
//!
//! // The previous shape, kept under the same model name.
//! #[derive(Clone, Serialize, Deserialize, CacheVersion)]
//! #[cache_version(name = "User")]
//! struct UserV1 { user_id: u64, user_name: String }
//!
//! #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
//! struct User { user_id: u64, full_name: String }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
//! // What the old build wrote.
//! let old = cache.model::<UserV1>();
//! old.set("7", &UserV1 { user_id: 7, user_name: "Ada".into() }).await?;
//!
//! let users = cache
//!     .model::<User>()
//!     .migrate_from::<UserV1, _>(|old| User { user_id: old.user_id, full_name: old.user_name })?
//!     .dual_write_to::<UserV1, _>(|new| UserV1 { user_id: new.user_id, user_name: new.full_name.clone() })?;
//!
//! // A miss on the new version is served from the old one, and written back.
//! assert_eq!(users.get("7").await?, Some(User { user_id: 7, full_name: "Ada".into() }));
//! assert_eq!(users.stats().fallback_hit, 1);
//! assert_eq!(users.get("7").await?.map(|u| u.full_name), Some("Ada".into()));
//! assert_eq!(users.stats().hit, 1);
//!
//! // Deleting removes both versions.
//! users.delete("7").await?;
//! assert!(old.get("7").await?.is_none());
//!
//! // After the rollout: delete whatever is left of older versions. A cleanup refuses to
//! // delete the keys of a version a running build still uses (here the old build's handle
//! // lives in this process, so its version is live).
//! assert!(users.cleanup().run().await.is_err());
//! let report = users.cleanup().keep::<UserV1>().run().await?;
//! assert_eq!(report.failed, 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Registrations and switches
//!
//! Two kinds of calls, each with one style throughout:
//! - **registrations** say which versions exist and how to convert between them
//!   ([`ModelHandle::migrate_from`], [`ModelHandle::migrate_via`],
//!   [`ModelHandle::dual_write_to`]): configuration, checked once, so each returns a new
//!   handle (like `with_default_ttl`) and leaves the one it was called on as it was; an error
//!   ([`RolloutError`]) is a mistake in the code;
//! - **switches** turn registered behaviour on and off while the service runs
//!   ([`ModelHandle::set_fallback_reads`], [`ModelHandle::set_fallback_write_back`],
//!   [`ModelHandle::set_dual_write`]): operational, flipped from an admin endpoint or a
//!   feature flag mid-rollout, so they take `&self` and change the state shared by the handle,
//!   its clones and the handles derived from it, at once, without rebuilding anything.
//!
//! Everything that reads the store is `async` and returns a `Result`: the jobs
//! ([`Sweep::run`]) and the report ([`ModelHandle::version_report`], which reads the
//! live-version registry). What only reads this process's state is synchronous
//! ([`ModelHandle::registered_versions`], [`ModelHandle::rollout_settings`]).
//!
//! # Model names and versions
//!
//! Older versions are looked up under the handle's model name: keep the old struct with
//! `#[cache_version(name = "User")]` (the name is not part of a type's `VERSION`, so any Rust
//! name works here, but the old build must have used the same model name). A version is
//! identified by its key version, the third key segment: see [`ModelHandle::key_version_of`].
//!
//! # Errors and races
//!
//! Fallback reads, write-backs and dual-writes are best effort: their failures are logged and
//! counted (on the version they concern) and never fail the caller's `get` or `set`, whatever
//! the [`crate::FailureMode`]. A write-back re-reads the old entry afterwards and removes what
//! it wrote when the old entry changed or vanished meanwhile, so a concurrent `delete` is not
//! undone. Write-backs and the migrator write with [`Store::set_if_absent`] /
//! [`Store::set_many_if_absent`] (`SET … NX` on Redis), so a value another instance stored
//! under the current version meanwhile is never replaced by an older migrated one. (A store
//! that keeps the trait's default `set_if_absent`, a read then a write, leaves a short window
//! there.)

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::cache::{BoxFuture, ModelHandle, OtherVersions};
use crate::codec::{Codec, CodecError};
use crate::envelope::{self, Times};
use crate::error::DecodeError;
use crate::failsafe::FailSafe;
use crate::key::{display_key, KeyPrefix, KeyVersion, NameError};
use crate::live::LiveVersion;
use crate::stats::{Counters, Event, Stats};
use crate::store::{ScanCursor, SetEntry, Store, StoreError};
use crate::value::{Decoded, ValueSpec};
use crate::{CacheError, CacheVersion};

/// An older version's entry a batched fallback found: (slot, old key, old bytes, times).
type Found = (usize, Vec<u8>, Vec<u8>, Option<Times>);

/// Decodes an older version's payload and converts it to the current type.
type ReadFn<T, C> = Arc<dyn Fn(&C, &[u8]) -> Result<T, CodecError> + Send + Sync>;
/// Converts a current value to an older version and appends its encoding.
type WriteFn<T, C> = Arc<dyn Fn(&C, &T, &mut Vec<u8>) -> Result<(), CodecError> + Send + Sync>;
/// A typed conversion from an older version, kept (as `dyn Any`) to compose chains.
type Convert<Old, T> = Arc<dyn Fn(Old) -> T + Send + Sync>;

/// An error registering an older version on a handle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RolloutError {
    /// The "older" type has the key version of the handle itself (same shape, codec and
    /// value format): there is nothing to migrate.
    #[error("{model}: version {version} is the handle's own version, not an older one")]
    SameVersion {
        /// The model name.
        model: String,
        /// The key version (16 hex digits).
        version: String,
    },
    /// `migrate_via::<Old, Mid>` needs a conversion from `Mid` registered first (with
    /// `migrate_from::<Mid>` or `migrate_via::<Mid, _>`), for the same Rust type `Mid`.
    #[error(
        "{model}: no migration from version {version} is registered for this intermediate \
         type; register it first with migrate_from::<Mid, _>"
    )]
    NotRegistered {
        /// The model name.
        model: String,
        /// The intermediate type's key version.
        version: String,
    },
    /// The model name cannot be used in keys (not expected: the handle's name was checked).
    #[error(transparent)]
    Name(#[from] NameError),
}

/// The run-time switches of a handle's rollout, shared by its clones and by the handles
/// derived from it.
#[derive(Debug)]
struct Switches {
    fallback_reads: AtomicBool,
    write_back: AtomicBool,
    dual_write: AtomicBool,
}

impl Default for Switches {
    fn default() -> Self {
        Switches {
            fallback_reads: AtomicBool::new(true),
            write_back: AtomicBool::new(true),
            dual_write: AtomicBool::new(true),
        }
    }
}

/// The current state of a handle's rollout switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RolloutSettings {
    /// A miss reads the registered older versions ([`ModelHandle::set_fallback_reads`]).
    pub fallback_reads: bool,
    /// A value found in an older version is written under the current one
    /// ([`ModelHandle::set_fallback_write_back`]).
    pub write_back: bool,
    /// `set` also writes the dual-write versions ([`ModelHandle::set_dual_write`]).
    pub dual_write: bool,
}

/// One older version registered on a handle.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegisteredVersion {
    /// The key version (16 hex digits).
    pub version: String,
    /// Reads fall back to it: 1 for [`ModelHandle::migrate_from`], one more per
    /// [`ModelHandle::migrate_via`] step; 0 when it is only a dual-write target.
    pub migration_depth: u32,
    /// `set` writes it too ([`ModelHandle::dual_write_to`]).
    pub dual_written: bool,
}

/// One registered older version of a handle.
pub(crate) struct OldVersion<T, C> {
    key_version: KeyVersion,
    hex: [u8; 16],
    prefix: KeyPrefix,
    spec: ValueSpec,
    counters: Arc<Counters>,
    /// 0: no migration; 1: `migrate_from`; n: n - 1 `migrate_via` steps.
    depth: u32,
    /// Registration order, to break ties of `depth`.
    seq: u32,
    read: Option<ReadFn<T, C>>,
    typed: Option<Arc<dyn Any + Send + Sync>>,
    write: Option<WriteFn<T, C>>,
}

impl<T, C> Clone for OldVersion<T, C> {
    fn clone(&self) -> Self {
        OldVersion {
            key_version: self.key_version,
            hex: self.hex,
            prefix: self.prefix.clone(),
            spec: self.spec.clone(),
            counters: self.counters.clone(),
            depth: self.depth,
            seq: self.seq,
            read: self.read.clone(),
            typed: self.typed.clone(),
            write: self.write.clone(),
        }
    }
}

impl<T, C: Codec> OldVersion<T, C> {
    /// The one read path (size limit, envelope, nesting limit) for this version's entries,
    /// then the registered conversion.
    fn read(&self, codec: &C, bytes: &[u8]) -> Result<Decoded<T>, DecodeError> {
        let Some(read) = &self.read else {
            return Err(DecodeError::Codec(CodecError::new(
                C::NAME,
                "no migration registered for this version",
            )));
        };
        self.spec.read(bytes, |payload| read(codec, payload))
    }

    fn count_decode_error(&self, e: &DecodeError) {
        match e {
            DecodeError::Envelope(e) if e.is_version_mismatch() => {
                self.counters.record(Event::VersionMismatch)
            }
            _ => self.counters.record(Event::DecodeError),
        }
    }

    fn hex_str(&self) -> String {
        self.key_version.to_string()
    }
}

/// The older versions registered on a handle and the switches: what `get`, `set` and
/// `delete` consult when a handle has any.
pub(crate) struct Rollout<T, C> {
    /// Migrations first (by depth, then registration order: newest first), then
    /// dual-write-only versions.
    versions: Vec<OldVersion<T, C>>,
    /// Their key prefixes, in the same order.
    prefixes: Vec<KeyPrefix>,
    /// Their key versions, and whether each is a dual-write target, in the same order.
    hexes: Vec<([u8; 16], bool)>,
    switches: Arc<Switches>,
    has_migrations: bool,
    has_dual: bool,
}

impl<T, C: Codec> Rollout<T, C> {
    /// Appends the dual-write entries of one value; the keys of versions the value cannot be
    /// converted or encoded for go to `stale` (to be deleted instead).
    #[allow(clippy::too_many_arguments)]
    fn dual_writes<S: Store>(
        &self,
        handle: &ModelHandle<T, S, C>,
        logical: &[u8],
        value: &T,
        ttl: Option<Duration>,
        times: Times,
        batch: &mut Vec<SetEntry>,
        stale: &mut Vec<Vec<u8>>,
    ) {
        let shared = &handle.inner.cache.shared;
        for v in &self.versions {
            let Some(write) = &v.write else { continue };
            let key = v.prefix.key(logical);
            match v
                .spec
                .write(128, times, |out| write(&shared.codec, value, out))
            {
                Ok(out) if out.len() <= shared.config.max_value_len => batch.push(SetEntry {
                    key,
                    value: out,
                    ttl,
                }),
                Ok(out) => {
                    tracing::warn!(
                        model = %handle.inner.cfg.name,
                        version = %v.hex_str(),
                        key = %display_key(logical),
                        size = out.len(),
                        "dual-write value over the size limit; deleting the old version's key instead"
                    );
                    stale.push(key);
                }
                Err(e) => {
                    tracing::warn!(
                        model = %handle.inner.cfg.name,
                        version = %v.hex_str(),
                        key = %display_key(logical),
                        error = ?e,
                        "dual-write conversion failed; deleting the old version's key instead"
                    );
                    stale.push(key);
                }
            }
        }
    }
}

impl<T, S, C> OtherVersions<T, S, C> for Rollout<T, C>
where
    T: CacheVersion + Serialize + DeserializeOwned + Send + Sync + 'static,
    S: Store,
    C: Codec,
{
    fn prefixes(&self) -> &[KeyPrefix] {
        &self.prefixes
    }

    fn hexes(&self) -> &[([u8; 16], bool)] {
        &self.hexes
    }

    fn read_hexes(&self) -> Vec<[u8; 16]> {
        self.versions
            .iter()
            .filter(|v| v.read.is_some())
            .map(|v| v.hex)
            .collect()
    }

    fn falls_back(&self) -> bool {
        self.has_migrations && self.switches.fallback_reads.load(Ordering::Relaxed)
    }

    fn fallback<'a>(
        &'a self,
        handle: &'a ModelHandle<T, S, C>,
        logical: &'a [u8],
    ) -> BoxFuture<'a, Option<T>> {
        Box::pin(self.fallback_read(handle, logical))
    }

    fn fallback_many<'a>(
        &'a self,
        handle: &'a ModelHandle<T, S, C>,
        logicals: &'a [Vec<u8>],
    ) -> BoxFuture<'a, Vec<Option<T>>> {
        Box::pin(self.fallback_read_many(handle, logicals))
    }

    fn dual_writes_active(&self) -> bool {
        self.has_dual && self.switches.dual_write.load(Ordering::Relaxed)
    }

    fn push_dual_writes(
        &self,
        handle: &ModelHandle<T, S, C>,
        logical: &[u8],
        value: &T,
        ttl: Option<Duration>,
        times: Times,
        batch: &mut Vec<SetEntry>,
        stale: &mut Vec<Vec<u8>>,
    ) {
        self.dual_writes(handle, logical, value, ttl, times, batch, stale);
    }

    fn as_any(&self) -> &(dyn Any + Send + Sync) {
        self
    }
}

impl<T, C> Rollout<T, C>
where
    T: CacheVersion + Serialize + DeserializeOwned + Send + Sync + 'static,
    C: Codec,
{
    /// The fallback of a miss: the first registered older version (newest first) holding a
    /// readable, unexpired entry for `logical`, converted; written back unless turned off.
    /// Counts a fallback hit on the current version and a fallback read on the old one.
    /// `None` (nothing counted on the current version) when no older version has it.
    async fn fallback_read<S: Store>(
        &self,
        handle: &ModelHandle<T, S, C>,
        logical: &[u8],
    ) -> Option<T> {
        let cache = &handle.inner.cache;
        let shared = &cache.shared;
        let cfg = &handle.inner.cfg;
        for v in self.versions.iter().filter(|v| v.read.is_some()) {
            let key = v.prefix.key(logical);
            let (bytes, ttl) = match cache.timed(shared.store.get_with_ttl(&key)).await {
                Ok(Some(found)) => found,
                Ok(None) => continue,
                Err(e) => {
                    if crate::breaker::BreakerOpen::is(&e) {
                        cfg.counters.record(Event::BreakerRejected);
                    } else {
                        cfg.counters.record(Event::StoreError);
                        tracing::warn!(
                            model = %cfg.name,
                            version = %v.hex_str(),
                            key = %display_key(logical),
                            error = %e,
                            "fallback read of an older version failed; treated as a miss"
                        );
                    }
                    return None;
                }
            };
            let now = envelope::now_ms();
            let decoded = match v.read(&shared.codec, &bytes) {
                Ok(d) if d.expired_at(now) => continue,
                // Written while a build that does not reach it may have written since.
                Ok(d) if !handle.trusts_entry(&v.hex, d.times, now) => {
                    v.counters.record(Event::Untrusted);
                    continue;
                }
                Ok(d) => d,
                Err(e) => {
                    v.count_decode_error(&e);
                    tracing::warn!(
                        model = %cfg.name,
                        version = %v.hex_str(),
                        key = %display_key(logical),
                        error = %e,
                        "unreadable value in an older version; skipped"
                    );
                    continue;
                }
            };
            v.counters.record(Event::FallbackRead);
            cfg.counters.record(Event::FallbackHit);
            if self.switches.write_back.load(Ordering::Relaxed) {
                // A new write of the old value: written now (what the trust checks of
                // other builds compare), expiring when the old entry does.
                let times = Times {
                    written_ms: now,
                    ..decoded.times.unwrap_or_else(|| Times::now(ttl))
                };
                self.write_back(handle, logical, &decoded.value, ttl, times, &key, &bytes)
                    .await;
            }
            return Some(decoded.value);
        }
        None
    }

    /// [`Rollout::fallback_read`] for many keys: one `get_many` per older version (newest
    /// first) for the keys still missing, then one batched write-back (`set_many_if_absent`),
    /// one re-read of the sources and, when some changed meanwhile, one delete of those
    /// write-backs: a handful of store calls whatever the number of keys.
    async fn fallback_read_many<S: Store>(
        &self,
        handle: &ModelHandle<T, S, C>,
        logicals: &[Vec<u8>],
    ) -> Vec<Option<T>> {
        let cache = &handle.inner.cache;
        let shared = &cache.shared;
        let cfg = &handle.inner.cfg;
        let mut out: Vec<Option<T>> = logicals.iter().map(|_| None).collect();
        let mut missing: Vec<usize> = (0..logicals.len()).collect();
        // (slot, old key, old bytes, times) of what was found.
        let mut found: Vec<Found> = Vec::new();
        let now = envelope::now_ms();
        for v in self.versions.iter().filter(|v| v.read.is_some()) {
            if missing.is_empty() {
                break;
            }
            let keys: Vec<Vec<u8>> = missing
                .iter()
                .map(|&i| v.prefix.key(&logicals[i]))
                .collect();
            let values = match cache.timed_batch(shared.store.get_many(&keys)).await {
                Ok(values) if values.len() == keys.len() => values,
                Ok(_) | Err(_) => {
                    cfg.counters.record(Event::StoreError);
                    tracing::warn!(
                        model = %cfg.name,
                        version = %v.hex_str(),
                        keys = keys.len(),
                        "batched fallback read of an older version failed; treated as misses"
                    );
                    break;
                }
            };
            let mut still = Vec::new();
            for ((i, key), bytes) in missing.into_iter().zip(keys).zip(values) {
                let Some(bytes) = bytes else {
                    still.push(i);
                    continue;
                };
                match v.read(&shared.codec, &bytes) {
                    Ok(d) if d.expired_at(now) => still.push(i),
                    Ok(d) if !handle.trusts_entry(&v.hex, d.times, now) => {
                        v.counters.record(Event::Untrusted);
                        still.push(i);
                    }
                    Ok(d) => {
                        v.counters.record(Event::FallbackRead);
                        cfg.counters.record(Event::FallbackHit);
                        found.push((i, key, bytes, d.times));
                        out[i] = Some(d.value);
                    }
                    Err(e) => {
                        v.count_decode_error(&e);
                        still.push(i);
                    }
                }
            }
            missing = still;
        }
        if !found.is_empty() && self.switches.write_back.load(Ordering::Relaxed) {
            self.write_back_many(handle, logicals, &out, found, now)
                .await;
        }
        out
    }

    /// The batched read-migrate-write of [`Rollout::fallback_read_many`].
    async fn write_back_many<S: Store>(
        &self,
        handle: &ModelHandle<T, S, C>,
        logicals: &[Vec<u8>],
        values: &[Option<T>],
        found: Vec<Found>,
        now: u64,
    ) {
        let cache = &handle.inner.cache;
        let cfg = &handle.inner.cfg;
        let mut writes = Vec::with_capacity(found.len());
        let mut sources = Vec::with_capacity(found.len());
        for (i, old_key, old_bytes, times) in found {
            let Some(value) = &values[i] else { continue };
            let times = times.unwrap_or_else(|| Times::at(now, cfg.default_ttl));
            // The old entry's remaining logical life, plus what fail-safe keeps.
            let ttl = FailSafe::physical(cfg.fail_safe.as_ref(), times.remaining_at(now));
            let times = Times {
                written_ms: now,
                ..times
            };
            match handle.encode_checked(&logicals[i], value, times) {
                Ok(bytes) => {
                    writes.push(SetEntry {
                        key: cfg.prefix.key(&logicals[i]),
                        value: bytes,
                        ttl,
                    });
                    sources.push((old_key, old_bytes));
                }
                Err(e) => tracing::warn!(error = %e, "could not encode a migrated value"),
            }
        }
        if writes.is_empty() {
            return;
        }
        // Off the request path when a runtime can take it (bounded like every background
        // write-back of the cache), so a batch read costs one read per version.
        let permit = cache.shared.write_backs.clone().try_acquire_owned();
        match (tokio::runtime::Handle::try_current(), permit) {
            (Ok(rt), Ok(permit)) => {
                let handle = handle.clone();
                rt.spawn(async move {
                    Self::store_write_backs(&handle, &writes, &sources).await;
                    drop(permit);
                });
            }
            _ => Self::store_write_backs(handle, &writes, &sources).await,
        }
    }

    /// The store calls of a batched write-back: write where the current version has
    /// nothing, then withdraw what was written from sources that changed meanwhile.
    async fn store_write_backs<S: Store>(
        handle: &ModelHandle<T, S, C>,
        writes: &[SetEntry],
        sources: &[(Vec<u8>, Vec<u8>)],
    ) {
        let cache = &handle.inner.cache;
        let store = &cache.shared.store;
        let cfg = &handle.inner.cfg;
        let landed = match cache.timed_batch(store.set_many_if_absent(writes)).await {
            Ok(landed) if landed.len() == writes.len() => landed,
            _ => {
                cfg.counters.record(Event::StoreError);
                tracing::warn!(model = %cfg.name, "could not write migrated values back");
                return;
            }
        };
        let (written, old_keys): (Vec<usize>, Vec<Vec<u8>>) = landed
            .iter()
            .enumerate()
            .filter(|(_, l)| **l)
            .map(|(j, _)| (j, sources[j].0.clone()))
            .unzip();
        if written.is_empty() {
            return;
        }
        // Withdraw the write-backs whose source changed or vanished meanwhile.
        let now_values = cache.timed_batch(store.get_many(&old_keys)).await;
        let withdraw: Vec<Vec<u8>> = written
            .iter()
            .enumerate()
            .filter(|(n, &j)| match &now_values {
                Ok(vals) => vals.get(*n).and_then(Option::as_ref) != Some(&sources[j].1),
                Err(_) => true,
            })
            .map(|(_, &j)| writes[j].key.clone())
            .collect();
        if !withdraw.is_empty() {
            if let Err(e) = cache.timed_batch(store.delete_many(&withdraw)).await {
                cfg.counters.record(Event::StoreError);
                tracing::warn!(model = %cfg.name, error = %e, "could not withdraw migrated values whose source changed");
            }
        }
    }

    /// Read-migrate-write: writes `value` under the current version with the old entry's
    /// remaining TTL and its times, only if the current version holds nothing (a writer of
    /// the current version may have stored a newer value since the miss), then checks that
    /// the old entry is unchanged and withdraws the write if it is not (a concurrent delete
    /// or dual-write happened between the read and the write).
    #[allow(clippy::too_many_arguments)]
    async fn write_back<S: Store>(
        &self,
        handle: &ModelHandle<T, S, C>,
        logical: &[u8],
        value: &T,
        ttl: Option<Duration>,
        times: Times,
        old_key: &[u8],
        old_bytes: &[u8],
    ) {
        let cache = &handle.inner.cache;
        let store = &cache.shared.store;
        let cfg = &handle.inner.cfg;
        let bytes = match handle.encode_checked(logical, value, times) {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(error = %e, "could not encode a migrated value; not written back");
                return;
            }
        };
        let full = cfg.prefix.key(logical);
        match cache.timed(store.set_if_absent(&full, &bytes, ttl)).await {
            Ok(true) => {}
            // A newer value is there: it stays, and there is nothing to withdraw.
            Ok(false) => return,
            Err(e) => {
                cfg.counters.record(Event::StoreError);
                tracing::warn!(
                    model = %cfg.name,
                    key = %display_key(logical),
                    error = %e,
                    "could not write a migrated value back"
                );
                return;
            }
        }
        let unchanged = matches!(
            cache.timed(store.get(old_key)).await,
            Ok(Some(now)) if now == old_bytes
        );
        if !unchanged {
            if let Err(e) = cache.timed(store.delete(&full)).await {
                cfg.counters.record(Event::StoreError);
                tracing::warn!(
                    model = %cfg.name,
                    key = %display_key(logical),
                    error = %e,
                    "could not withdraw a migrated value whose source changed"
                );
            }
        }
    }
}

impl<T, S, C> ModelHandle<T, S, C>
where
    T: CacheVersion + Serialize + DeserializeOwned + Send + Sync + 'static,
    S: Store,
    C: Codec,
{
    /// The key version `Old` has under this handle's model name, codec and value format:
    /// the third key segment of the entries an older build using `Old` writes.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # #[cache_version(name = "User")]
    /// # struct UserV1 { id: u64, name: String }
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64, full_name: String }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// let users = cache.model::<User>();
    /// let old = users.key_version_of::<UserV1>();
    /// assert_eq!(old, cache.model::<UserV1>().key_version());
    /// assert_ne!(old, users.key_version());
    /// assert_eq!(old.to_string().len(), 16); // as in `prod:User:{old}:7`
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn key_version_of<Old: CacheVersion>(&self) -> KeyVersion {
        self.inner
            .cache
            .key_version(&self.inner.cfg.name, &Old::VERSION)
    }

    /// The registered versions and switches, when any version is registered.
    fn rollout(&self) -> Option<&Rollout<T, C>> {
        self.inner
            .versions
            .as_deref()
            .and_then(|v| v.as_any().downcast_ref::<Rollout<T, C>>())
    }

    /// A handle that, on a miss, also reads the entries an older build wrote with `Old`
    /// and converts them with `convert` (read-migrate-write, see the [module docs](self)).
    ///
    /// Register one conversion per older version, newest first, or chain them with
    /// [`ModelHandle::migrate_via`]. The returned handle shares the cache, the counters and
    /// the run-time switches with this one; registering `Old` again replaces its conversion.
    /// Deletes through the returned handle also delete `Old`'s key.
    ///
    /// # Errors
    /// [`RolloutError::SameVersion`] when `Old` has this handle's own key version (the same
    /// shape under this codec and value format: nothing to migrate). A mistake in the code,
    /// not a run-time condition: no store call is made.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # #[cache_version(name = "User")]
    /// # struct UserV1 { id: u64, name: String }
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64, full_name: String }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// // What the old build wrote.
    /// cache.model::<UserV1>().set(7, &UserV1 { id: 7, name: "Ada".into() }).await?;
    /// let users = cache
    ///     .model::<User>()
    ///     .migrate_from::<UserV1, _>(|old| User { id: old.id, full_name: old.name })?;
    /// assert_eq!(users.get(7).await?, Some(User { id: 7, full_name: "Ada".into() }));
    /// assert_eq!(users.stats().fallback_hit, 1);
    ///
    /// // The handle's own version is not an older one.
    /// assert!(cache.model::<User>().migrate_from::<User, _>(|u| u).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn migrate_from<Old, F>(&self, convert: F) -> Result<Self, RolloutError>
    where
        Old: CacheVersion + DeserializeOwned + 'static,
        F: Fn(Old) -> T + Send + Sync + 'static,
    {
        let convert: Convert<Old, T> = Arc::new(convert);
        self.register_migration(self.key_version_of::<Old>(), 1, convert)
    }

    /// A handle that migrates `Old` in two steps: `convert` to `Mid`, then `Mid`'s
    /// registered conversion to the current type (a chain V1 -> V2 -> V3: register
    /// `migrate_from::<V2, _>` first, then `migrate_via::<V1, V2, _>`). Reads try `Mid`
    /// before `Old`. `Mid` may also be the current type itself.
    ///
    /// # Errors
    /// - [`RolloutError::NotRegistered`]: no conversion from `Mid` (the same Rust type) is
    ///   registered on this handle yet, and `Mid` is not the handle's own type;
    /// - [`RolloutError::SameVersion`]: `Old` has this handle's own key version.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # #[cache_version(name = "User")]
    /// # struct UserV1 { id: u64 }
    /// # #[derive(Clone, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # #[cache_version(name = "User")]
    /// # struct UserV2 { id: u64, name: String }
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64, full_name: String }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// let v2_to_v3 = |v2: UserV2| User { id: v2.id, full_name: v2.name };
    /// let v1_to_v2 = |v1: UserV1| UserV2 { id: v1.id, name: String::new() };
    /// // V1 -> V2 needs V2 -> V3 registered first.
    /// assert!(cache.model::<User>().migrate_via::<UserV1, UserV2, _>(v1_to_v2).is_err());
    /// let users = cache
    ///     .model::<User>()
    ///     .migrate_from::<UserV2, _>(v2_to_v3)?
    ///     .migrate_via::<UserV1, UserV2, _>(v1_to_v2)?;
    /// cache.model::<UserV1>().set(1, &UserV1 { id: 1 }).await?;
    /// assert_eq!(users.get(1).await?.map(|u| u.id), Some(1));
    /// assert_eq!(users.registered_versions().len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn migrate_via<Old, Mid, F>(&self, convert: F) -> Result<Self, RolloutError>
    where
        Old: CacheVersion + DeserializeOwned + 'static,
        Mid: CacheVersion + 'static,
        F: Fn(Old) -> Mid + Send + Sync + 'static,
    {
        let mid_version = self.key_version_of::<Mid>();
        let (mid, depth): (Convert<Mid, T>, u32) = if mid_version == self.inner.cfg.key_version {
            let identity: Convert<T, T> = Arc::new(|t| t);
            let identity: Arc<dyn Any + Send + Sync> = Arc::new(identity);
            match identity.downcast_ref::<Convert<Mid, T>>() {
                Some(f) => (f.clone(), 0),
                None => return Err(self.not_registered(&mid_version)),
            }
        } else {
            let found = self.rollout().and_then(|r| {
                r.versions
                    .iter()
                    .find(|v| v.key_version == mid_version && v.depth > 0)
            });
            let Some(entry) = found else {
                return Err(self.not_registered(&mid_version));
            };
            match entry
                .typed
                .as_ref()
                .and_then(|t| t.downcast_ref::<Convert<Mid, T>>())
            {
                Some(f) => (f.clone(), entry.depth),
                None => return Err(self.not_registered(&mid_version)),
            }
        };
        let composed: Convert<Old, T> = Arc::new(move |old| mid(convert(old)));
        self.register_migration(self.key_version_of::<Old>(), depth + 1, composed)
    }

    /// A handle whose writes (`set`, `set_with_ttl`, `set_many`) also write each value,
    /// converted with `convert`, under `Old`'s version with the same TTL, so instances of an
    /// older build still reading `Old` see fresh values during a rollout. On when registered;
    /// [`ModelHandle::set_dual_write`] turns it off and on at run time (for example from a
    /// configuration flag, once the old build is gone). Deletes through the returned handle
    /// also delete `Old`'s key.
    ///
    /// # Errors
    /// [`RolloutError::SameVersion`] when `Old` has this handle's own key version. (A value
    /// that cannot be converted or encoded for `Old` at write time is not an error of the
    /// write: `Old`'s key is deleted instead, logged.)
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # #[cache_version(name = "User")]
    /// # struct UserV1 { id: u64, name: String }
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64, full_name: String }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// let users = cache
    ///     .model::<User>()
    ///     .dual_write_to::<UserV1, _>(|new| UserV1 { id: new.id, name: new.full_name.clone() })?;
    /// users.set(7, &User { id: 7, full_name: "Ada".into() }).await?;
    /// // Instances of the old build read the value under their own version.
    /// let old = cache.model::<UserV1>().get(7).await?;
    /// assert_eq!(old.map(|u| u.name), Some("Ada".to_string()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn dual_write_to<Old, F>(&self, convert: F) -> Result<Self, RolloutError>
    where
        Old: CacheVersion + Serialize + 'static,
        F: Fn(&T) -> Old + Send + Sync + 'static,
    {
        let write: WriteFn<T, C> = Arc::new(move |codec: &C, value: &T, out: &mut Vec<u8>| {
            codec.encode(&convert(value), out)
        });
        self.register(self.key_version_of::<Old>(), move |v| {
            v.write = Some(write);
        })
    }

    /// Turns the fallback reads of older versions on (the default) or off, for this handle,
    /// its clones and the handles derived from it. No effect without a registered migration.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # #[cache_version(name = "User")]
    /// # struct UserV1 { id: u64, name: String }
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64, full_name: String }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// // What the old build wrote.
    /// cache.model::<UserV1>().set(7, &UserV1 { id: 7, name: "Ada".into() }).await?;
    /// let users = cache
    ///     .model::<User>()
    ///     .migrate_from::<UserV1, _>(|old| User { id: old.id, full_name: old.name })?;
    /// users.set_fallback_reads(false); // say, from an admin endpoint
    /// assert_eq!(users.get(7).await?, None); // the old entry is not read any more
    /// assert_eq!(users.rollout_settings().map(|s| s.fallback_reads), Some(false));
    /// users.set_fallback_reads(true);
    /// assert!(users.get(7).await?.is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn set_fallback_reads(&self, on: bool) {
        if let Some(r) = self.rollout() {
            r.switches.fallback_reads.store(on, Ordering::Relaxed);
        }
    }

    /// Turns the write-back of values found in older versions on (the default:
    /// read-migrate-write) or off (version-tolerant reads: the value is converted and
    /// returned, the old entry stays where it is and nothing is written).
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # #[cache_version(name = "User")]
    /// # struct UserV1 { id: u64, name: String }
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64, full_name: String }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// // What the old build wrote.
    /// cache.model::<UserV1>().set(7, &UserV1 { id: 7, name: "Ada".into() }).await?;
    /// let users = cache
    ///     .model::<User>()
    ///     .migrate_from::<UserV1, _>(|old| User { id: old.id, full_name: old.name })?;
    /// users.set_fallback_write_back(false);
    /// assert!(users.get(7).await?.is_some()); // converted from the old entry
    /// assert!(users.get(7).await?.is_some()); // again: nothing was written
    /// assert_eq!(users.stats().fallback_hit, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn set_fallback_write_back(&self, on: bool) {
        if let Some(r) = self.rollout() {
            r.switches.write_back.store(on, Ordering::Relaxed);
        }
    }

    /// Turns dual-write on (the default once registered) or off. No effect without a
    /// [`ModelHandle::dual_write_to`].
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # #[cache_version(name = "User")]
    /// # struct UserV1 { id: u64, name: String }
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64, full_name: String }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// let users = cache
    ///     .model::<User>()
    ///     .dual_write_to::<UserV1, _>(|new| UserV1 { id: new.id, name: new.full_name.clone() })?;
    /// users.set_dual_write(false); // the old build is gone
    /// assert_eq!(users.rollout_settings().map(|s| s.dual_write), Some(false));
    /// users.set(7, &User { id: 7, full_name: "Ada".into() }).await?;
    /// assert!(cache.model::<UserV1>().get(7).await?.is_none()); // not written for UserV1
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn set_dual_write(&self, on: bool) {
        if let Some(r) = self.rollout() {
            r.switches.dual_write.store(on, Ordering::Relaxed);
        }
    }

    /// The rollout switches; `None` when no older version is registered.
    pub fn rollout_settings(&self) -> Option<RolloutSettings> {
        self.rollout().map(|r| RolloutSettings {
            fallback_reads: r.switches.fallback_reads.load(Ordering::Relaxed),
            write_back: r.switches.write_back.load(Ordering::Relaxed),
            dual_write: r.switches.dual_write.load(Ordering::Relaxed),
        })
    }

    /// The registered older versions, in the order reads try them.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # #[cache_version(name = "User")]
    /// # struct UserV1 { id: u64, name: String }
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64, full_name: String }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// let users = cache
    ///     .model::<User>()
    ///     .migrate_from::<UserV1, _>(|old| User { id: old.id, full_name: old.name })?;
    /// let registered = users.registered_versions();
    /// assert_eq!(registered.len(), 1);
    /// assert_eq!(registered[0].version, users.key_version_of::<UserV1>().to_string());
    /// assert_eq!((registered[0].migration_depth, registered[0].dual_written), (1, false));
    /// assert!(cache.model::<User>().registered_versions().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn registered_versions(&self) -> Vec<RegisteredVersion> {
        self.rollout()
            .map(|r| {
                r.versions
                    .iter()
                    .map(|v| RegisteredVersion {
                        version: v.hex_str(),
                        migration_depth: v.depth,
                        dual_written: v.write.is_some(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The versions of this model: the reads of every version seen by this cache (this
    /// process: the current one, the registered older ones, and any other version some
    /// handle of this cache uses), and every version running builds announce in the store's
    /// live-version registry, with its latest heartbeat ([`VersionUsage::live`]). Compare two
    /// reports with [`VersionReport::since`] to see whether an old version is still being
    /// read; fleet-wide, the same counters are in the metrics (`cache_version_hit`,
    /// `cache_version_miss`, `cache_version_fallback_hit`, `cache_version_fallback_read`,
    /// labelled by `model` and `version`).
    ///
    /// # Errors
    /// [`CacheError::Store`] when the live-version registry cannot be read (the store failed
    /// or did not answer within the timeout), whatever the failure mode; nothing else (the
    /// counters alone, which cannot fail, are in [`Cache::stats`](crate::Cache::stats)).
    ///
    /// ```
    /// # use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64 }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// let users = cache.model::<User>();
    /// users.get(1).await?;
    /// let report = users.version_report().await?;
    /// let current = report.get(&report.current).unwrap();
    /// assert_eq!(current.stats.miss, 1);
    /// assert!(current.live.as_ref().is_some_and(|l| l.live)); // this build's heartbeat
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn version_report(&self) -> Result<VersionReport, CacheError> {
        let cfg = &self.inner.cfg;
        let live = self.live_versions().await?;
        let snapshot = self.inner.cache.stats();
        let registered = self.registered_versions();
        let mut versions: Vec<VersionUsage> = snapshot
            .models
            .into_iter()
            .filter(|m| m.model == *cfg.name)
            .map(|m| {
                let reg = registered.iter().find(|r| r.version == m.version);
                VersionUsage {
                    current: m.version == *cfg.version_hex,
                    migrates: reg.is_some_and(|r| r.migration_depth > 0),
                    dual_written: reg.is_some_and(|r| r.dual_written),
                    live: live.iter().find(|l| l.version == m.version).cloned(),
                    version: m.version,
                    stats: m.stats,
                }
            })
            .collect();
        // Versions other builds announce that this cache has no counters for.
        for l in live {
            if !versions.iter().any(|v| v.version == l.version) {
                let reg = registered.iter().find(|r| r.version == l.version);
                versions.push(VersionUsage {
                    version: l.version.clone(),
                    current: l.version == *cfg.version_hex,
                    migrates: reg.is_some_and(|r| r.migration_depth > 0),
                    dual_written: reg.is_some_and(|r| r.dual_written),
                    stats: Stats::default(),
                    live: Some(l),
                });
            }
        }
        versions.sort_by_key(|v| !v.current);
        Ok(VersionReport {
            model: cfg.name.to_string(),
            current: cfg.version_hex.to_string(),
            versions,
        })
    }

    /// Whether `version` (16 hex digits) was read since the report `since` was taken:
    /// `self.version_report().await?.since(since).is_version_still_read(version)`.
    ///
    /// # Errors
    /// As [`ModelHandle::version_report`]: [`CacheError::Store`] when the live-version
    /// registry cannot be read.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # #[cache_version(name = "User")]
    /// # struct UserV1 { id: u64, name: String }
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64, full_name: String }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// // What the old build wrote.
    /// cache.model::<UserV1>().set(7, &UserV1 { id: 7, name: "Ada".into() }).await?;
    /// let users = cache
    ///     .model::<User>()
    ///     .migrate_from::<UserV1, _>(|old| User { id: old.id, full_name: old.name })?;
    /// let old = users.key_version_of::<UserV1>().to_string();
    /// let before = users.version_report().await?;
    /// users.get(7).await?; // served from UserV1's entry, and written back
    /// assert!(users.is_version_still_read(&old, &before).await?);
    /// let before = users.version_report().await?;
    /// users.get(7).await?; // a hit on the current version
    /// assert!(!users.is_version_still_read(&old, &before).await?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn is_version_still_read(
        &self,
        version: &str,
        since: &VersionReport,
    ) -> Result<bool, CacheError> {
        Ok(self
            .version_report()
            .await?
            .since(since)
            .is_version_still_read(version))
    }

    /// A job over the model's older keys that migrates what it can and deletes the rest
    /// (defaults: migrate, delete old keys, delete migrated keys). See [`Sweep`].
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # #[cache_version(name = "User")]
    /// # struct UserV1 { id: u64, name: String }
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64, full_name: String }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// // What the old build wrote.
    /// cache.model::<UserV1>().set(7, &UserV1 { id: 7, name: "Ada".into() }).await?;
    /// let users = cache
    ///     .model::<User>()
    ///     .migrate_from::<UserV1, _>(|old| User { id: old.id, full_name: old.name })?;
    /// // A dry run reads and counts, and writes and deletes nothing.
    /// let report = users.sweep().dry_run(true).run().await?;
    /// assert!(report.dry_run);
    /// assert_eq!((report.scanned, report.migrated, report.unlinked), (1, 1, 1));
    /// assert!(cache.model::<UserV1>().get(7).await?.is_some()); // still there
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn sweep(&self) -> Sweep<T, S, C> {
        Sweep {
            handle: self.clone(),
            migrate: true,
            delete_old: true,
            delete_migrated: true,
            batch: Sweep::<T, S, C>::DEFAULT_BATCH,
            rate: None,
            dry_run: false,
            keep: Vec::new(),
            only: None,
            force: false,
        }
    }

    /// A background migrator: converts the entries of older versions that have a registered
    /// migration into the current version and leaves every old key in place (safe while
    /// the old build still runs). [`ModelHandle::sweep`] with `delete_old(false)` and
    /// `delete_migrated(false)`.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # #[cache_version(name = "User")]
    /// # struct UserV1 { id: u64, name: String }
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64, full_name: String }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// // What the old build wrote.
    /// cache.model::<UserV1>().set(7, &UserV1 { id: 7, name: "Ada".into() }).await?;
    /// let users = cache
    ///     .model::<User>()
    ///     .migrate_from::<UserV1, _>(|old| User { id: old.id, full_name: old.name })?;
    /// let report = users.migrator().rate_limit(1000.0).run().await?;
    /// assert_eq!((report.migrated, report.unlinked), (1, 0));
    /// assert!(report.is_complete());
    /// // Written under the current version; the old key stays for the old build.
    /// users.set_fallback_reads(false);
    /// assert_eq!(users.get(7).await?.map(|u| u.full_name), Some("Ada".to_string()));
    /// assert!(cache.model::<UserV1>().get(7).await?.is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn migrator(&self) -> Sweep<T, S, C> {
        self.sweep().delete_old(false).delete_migrated(false)
    }

    /// A cleanup job: deletes every key of every older version of the model (run it once no
    /// instance reads them any more). [`ModelHandle::sweep`] with `migrate(false)`.
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # #[cache_version(name = "User")]
    /// # struct UserV1 { id: u64, name: String }
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64, full_name: String }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// // What the old build wrote.
    /// cache.model::<UserV1>().set(7, &UserV1 { id: 7, name: "Ada".into() }).await?;
    /// // (A handle of `User` must register `UserV1`, here with a migration, to be used beside
    /// // a `UserV1` handle in one cache.)
    /// let users = cache
    ///     .model::<User>()
    ///     .migrate_from::<UserV1, _>(|old| User { id: old.id, full_name: old.name })?;
    /// // What a cleanup would delete: here the old build's handle lives in this process, so
    /// // its version is live, and a real run would refuse (SweepError::LiveVersion).
    /// let report = users.cleanup().dry_run(true).run().await?;
    /// assert_eq!((report.scanned, report.unlinked), (1, 1));
    /// assert!(users.cleanup().run().await.is_err());
    /// // With the old version excluded, it deletes nothing.
    /// let report = users.cleanup().keep::<UserV1>().run().await?;
    /// assert_eq!((report.skipped, report.unlinked), (1, 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn cleanup(&self) -> Sweep<T, S, C> {
        self.sweep().migrate(false)
    }

    fn not_registered(&self, version: &KeyVersion) -> RolloutError {
        RolloutError::NotRegistered {
            model: self.inner.cfg.name.to_string(),
            version: version.to_string(),
        }
    }

    fn register_migration<Old>(
        &self,
        version: KeyVersion,
        depth: u32,
        convert: Convert<Old, T>,
    ) -> Result<Self, RolloutError>
    where
        Old: DeserializeOwned + 'static,
    {
        let for_read = convert.clone();
        let read: ReadFn<T, C> = Arc::new(move |codec: &C, payload: &[u8]| {
            codec.decode::<Old>(payload).map(|old| for_read(old))
        });
        let typed: Arc<dyn Any + Send + Sync> = Arc::new(convert);
        self.register(version, move |v| {
            v.depth = depth;
            v.read = Some(read);
            v.typed = Some(typed);
        })
    }

    /// A handle with `version` registered (or updated) by `update`.
    fn register(
        &self,
        version: KeyVersion,
        update: impl FnOnce(&mut OldVersion<T, C>),
    ) -> Result<Self, RolloutError> {
        let cfg = &self.inner.cfg;
        let shared = &self.inner.cache.shared;
        if version == cfg.key_version {
            return Err(RolloutError::SameVersion {
                model: cfg.name.to_string(),
                version: version.to_string(),
            });
        }
        let (mut versions, switches) = match self.rollout() {
            Some(r) => (r.versions.clone(), r.switches.clone()),
            None => (Vec::new(), Arc::default()),
        };
        let index = match versions.iter().position(|v| v.key_version == version) {
            Some(i) => i,
            None => {
                let hex = version.to_hex();
                let hex_str = version.to_string();
                versions.push(OldVersion {
                    key_version: version,
                    hex,
                    prefix: KeyPrefix::new(&shared.config.namespace, &cfg.name, &version)?,
                    spec: self.inner.cache.value_spec(&version),
                    counters: shared.stats.counters(&cfg.name, &hex_str),
                    depth: 0,
                    seq: u32::try_from(versions.len()).unwrap_or(u32::MAX),
                    read: None,
                    typed: None,
                    write: None,
                });
                versions.len() - 1
            }
        };
        update(&mut versions[index]);
        versions.sort_by_key(|v| (if v.depth == 0 { u32::MAX } else { v.depth }, v.seq));
        let rollout = Rollout {
            has_migrations: versions.iter().any(|v| v.read.is_some()),
            has_dual: versions.iter().any(|v| v.write.is_some()),
            prefixes: versions.iter().map(|v| v.prefix.clone()).collect(),
            hexes: versions
                .iter()
                .map(|v| (v.hex, v.write.is_some()))
                .collect(),
            versions,
            switches,
        };
        Ok(self.derive(cfg.clone(), Some(Arc::new(rollout))))
    }
}

// ---------------------------------------------------------------------------------------------
// Version monitoring.

/// How one version of a model is read, in a [`VersionReport`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersionUsage {
    /// The key version (16 hex digits).
    pub version: String,
    /// The handle's own version.
    pub current: bool,
    /// A registered migration source of the handle.
    pub migrates: bool,
    /// A registered dual-write target of the handle.
    pub dual_written: bool,
    /// The counters: `hit`/`miss`/`fallback_hit` are reads by handles of this version,
    /// `fallback_read` reads of its entries by newer versions ([`Stats::reads`] sums them).
    pub stats: Stats,
    /// Its entry in the store's live-version registry (see [`crate::live`]): when it began
    /// and its latest heartbeat; `None` when no build announces it (or the registry is off).
    /// A version whose entry says `live` is used by a running build, in any process.
    pub live: Option<LiveVersion>,
}

/// The reads of each version of one model (see [`ModelHandle::version_report`]): the
/// current version first.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersionReport {
    /// The model name.
    pub model: String,
    /// The handle's key version.
    pub current: String,
    /// One row per version with counters in this cache.
    pub versions: Vec<VersionUsage>,
}

/// Whether an old version can be retired, by [`VersionReport::deprecation`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Deprecation {
    /// The key version.
    pub version: String,
    /// No read of it in the report's window (and it is not the current version).
    pub safe: bool,
    /// Its reads in the window.
    pub reads: u64,
    /// What to do, in words.
    pub recommendation: String,
}

impl VersionReport {
    /// The row of `version`.
    pub fn get(&self, version: &str) -> Option<&VersionUsage> {
        self.versions.iter().find(|v| v.version == version)
    }

    /// The counts of `self` minus those of `earlier` (taken before): the reads in between.
    pub fn since(&self, earlier: &VersionReport) -> VersionReport {
        VersionReport {
            model: self.model.clone(),
            current: self.current.clone(),
            versions: self
                .versions
                .iter()
                .map(|v| {
                    let mut v = v.clone();
                    if let Some(e) = earlier.get(&v.version) {
                        v.stats = v.stats.since(&e.stats);
                    }
                    v
                })
                .collect(),
        }
    }

    /// Whether `version` has reads in this report (use a report from
    /// [`VersionReport::since`] for a time window): by handles of that version (an old
    /// build in this process) or by fallback reads of newer versions that found its entries.
    pub fn is_version_still_read(&self, version: &str) -> bool {
        self.get(version).is_some_and(|v| v.stats.reads() > 0)
    }

    /// Seed 001's "is this version deprecatable", from this report's counts (in-process
    /// only: check the fleet's metrics for the same labels before deleting anything).
    ///
    /// ```
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # #[cache_version(name = "User")]
    /// # struct UserV1 { id: u64, name: String }
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64, full_name: String }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// cache.model::<UserV1>().set(7, &UserV1 { id: 7, name: "Ada".into() }).await?;
    /// let users = cache
    ///     .model::<User>()
    ///     .migrate_from::<UserV1, _>(|old| User { id: old.id, full_name: old.name })?;
    /// let before = users.version_report().await?;
    /// users.get(7).await?; // a fallback read of UserV1's entry
    /// let window = users.version_report().await?.since(&before);
    /// let old = users.key_version_of::<UserV1>().to_string();
    /// let verdict = window.deprecation(&old);
    /// assert!(!verdict.safe); // read in the window, and announced by a running build
    /// println!("{}", verdict.recommendation);
    /// assert!(!window.deprecation(&window.current).safe);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn deprecation(&self, version: &str) -> Deprecation {
        let row = self.get(version);
        let reads = row.map_or(0, |v| v.stats.reads());
        let (safe, recommendation) = match row {
            Some(v) if v.current => (
                false,
                format!("{version} is the current version of {}", self.model),
            ),
            Some(VersionUsage { live: Some(l), .. }) if l.live => (
                false,
                format!(
                    "{version} is live: a running build announces it (last heartbeat {} ms \
                     ago); keep it (and its dual-write) until that build is gone",
                    SystemTime::now()
                        .duration_since(l.last_heartbeat)
                        .map_or(0, |d| d.as_millis())
                ),
            ),
            _ if reads == 0 => (
                true,
                format!(
                    "{version} had no reads in this window: stop dual-writing it, remove its \
                     migration and run the cleanup job"
                ),
            ),
            Some(v) if v.stats.hit + v.stats.miss + v.stats.fallback_hit > 0 => (
                false,
                format!(
                    "{version} is still read by a build that uses it ({reads} reads): keep it \
                     (and its dual-write) until that build is gone"
                ),
            ),
            _ => (
                false,
                format!(
                    "{version} entries are still served by fallback reads ({reads}): keep the \
                     migration, run the migrator, or wait for the entries to expire"
                ),
            ),
        };
        Deprecation {
            version: version.to_string(),
            safe,
            reads,
            recommendation,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The migrator and cleanup job.

/// A job over the keys of a model's older versions: from [`ModelHandle::sweep`],
/// [`ModelHandle::migrator`] or [`ModelHandle::cleanup`]; configure, then [`Sweep::run`].
///
/// It walks `{namespace}:{model}:` with [`Store::scan_prefix`] (on a Redis Cluster the
/// `RedisStore` visits every primary), keeps only the keys that parse strictly as
/// `{namespace}:{model}:{16 lowercase hex digits}:{logical key}` with a version other than the
/// handle's, and in batches, at most `rate_limit` keys per second:
/// - **migrates** the entries of versions with a registered migration (when `migrate` is on):
///   reads the entry and its remaining TTL, converts it and writes it under the current
///   version with that TTL, unless the current version already has the key (then the old
///   entry is only deleted, with `delete_old`); afterwards the old key is deleted when
///   `delete_migrated` is on;
/// - **deletes** (UNLINK, through [`Store::delete_many`]) the other old keys when
///   `delete_old` is on, and leaves them otherwise.
///
/// The current version, other models, other namespaces and keys that merely share the
/// prefix (`prod:User:not-a-version:1`) are never touched. A dry run reads but writes and
/// deletes nothing, and reports what it would have done.
#[must_use = "a sweep does nothing until run"]
pub struct Sweep<T, S: Store, C: Codec> {
    handle: ModelHandle<T, S, C>,
    migrate: bool,
    delete_old: bool,
    delete_migrated: bool,
    batch: usize,
    rate: Option<f64>,
    dry_run: bool,
    keep: Vec<String>,
    only: Option<Vec<String>>,
    force: bool,
}

impl SweepReport {
    /// Whether every key found has exactly one outcome:
    /// `scanned == migrated + deleted + skipped + failed + pending`.
    pub fn balances(&self) -> bool {
        self.scanned == self.migrated + self.deleted + self.skipped + self.failed + self.pending
    }

    /// Whether every key found was dealt with as asked: nothing failed and nothing is pending.
    pub fn is_complete(&self) -> bool {
        self.failed == 0 && self.pending == 0
    }
}

impl<T, S: Store, C: Codec> std::fmt::Debug for Sweep<T, S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sweep")
            .field("model", &self.handle.inner.cfg.name)
            .field("migrate", &self.migrate)
            .field("delete_old", &self.delete_old)
            .field("delete_migrated", &self.delete_migrated)
            .field("batch", &self.batch)
            .field("rate", &self.rate)
            .field("dry_run", &self.dry_run)
            .field("keep", &self.keep)
            .field("only", &self.only)
            .finish()
    }
}

/// What a [`Sweep`] did (or, in a dry run, would have done).
///
/// Every old key found counts once in `scanned` and once in exactly one of `migrated`,
/// `deleted`, `skipped`, `failed` and `pending`:
/// `scanned == migrated + deleted + skipped + failed + pending` ([`SweepReport::balances`]).
/// A key counts as done only when every store call its outcome needed succeeded; any failed
/// call puts it in `failed`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SweepReport {
    /// Keys of older versions found.
    pub scanned: u64,
    /// Converted and written under the current version (and, with `delete_migrated`, the
    /// old key deleted).
    pub migrated: u64,
    /// Deleted without a migration (no migration registered, migration off, the current
    /// version already had the key, or the old value was unreadable or expired).
    pub deleted: u64,
    /// Left in place on purpose (deleting off, excluded by `keep`/`only`, gone before it was
    /// read, or its source changed while it was migrated, so the migrated copy was taken
    /// back).
    pub skipped: u64,
    /// A read, write or delete it needed failed (the key may be left as it was, or, when a
    /// withdrawal failed, a migrated copy may stay), or an unreadable value was left in
    /// place.
    pub failed: u64,
    /// Found but not processed: the run stopped (the scan failed) before their batch ran.
    pub pending: u64,
    /// How many times the walk restarted from the beginning because the store lost its
    /// place (a server restart or failover); keys seen before a restart may be counted
    /// again.
    pub restarts: u64,
    /// Keys removed from the store: the deleted ones and the migrated ones with
    /// `delete_migrated` (in a dry run: that would have been).
    pub unlinked: u64,
    /// Keys of the current version seen (never touched).
    pub current: u64,
    /// Keys under `{namespace}:{model}:` that are not keys of this model (never touched).
    pub ignored: u64,
    /// Old keys found, by version (16 hex digits).
    pub versions: BTreeMap<String, u64>,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// How long the run took.
    pub elapsed: Duration,
}

/// A [`Sweep`] that could not run or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SweepError {
    /// The rate limit is not a positive number of keys per second.
    #[error("the rate limit must be a positive number of keys per second, got {0}")]
    InvalidRate(f64),
    /// A version given to `keep_version`/`only_version` is not 16 lowercase hex digits.
    #[error("{0:?} is not a key version (16 lowercase hex digits)")]
    InvalidVersion(String),
    /// The sweep would delete keys of versions that running builds still use; nothing was
    /// touched. Stop those builds first, exclude the versions with `keep_version`, or
    /// `force(true)`.
    #[error(
        "{model}: refusing to delete keys of versions still in use by running builds: {}; \
         stop those builds first, exclude them with keep_version(..), or force(true)",
        describe_live(versions)
    )]
    LiveVersion {
        /// The model name.
        model: String,
        /// The live versions the sweep would have deleted, with their heartbeats.
        versions: Vec<crate::live::LiveVersion>,
    },
    /// The cache could not join the live-version registry or read it.
    #[error(transparent)]
    Cache(crate::CacheError),
    /// The scan failed: the walk is incomplete. The report holds what was done before (and,
    /// in `pending`, the keys found but not processed).
    #[error(
        "the scan failed after {} old keys, so the walk is incomplete ({} keys not processed, \
         {} failed): {source}",
        report.scanned,
        report.pending,
        report.failed
    )]
    Scan {
        /// What was done before the failure.
        report: Box<SweepReport>,
        /// The store's error.
        #[source]
        source: StoreError,
    },
}

fn describe_live(versions: &[crate::live::LiveVersion]) -> String {
    let now = std::time::SystemTime::now();
    versions
        .iter()
        .map(|v| {
            let ago = now.duration_since(v.last_heartbeat).unwrap_or_default();
            format!("{} (heartbeat {:.1} s ago)", v.version, ago.as_secs_f64())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where a key belongs, for a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyClass {
    /// Not a key of this model (another model or namespace, or no valid version segment).
    Foreign,
    /// A key of the current version.
    Current,
    /// A key of another version of this model.
    Old([u8; 16]),
}

/// Classifies `key` strictly: the exact bytes `model_prefix` (`{namespace}:{model}:`), then
/// 16 lowercase hex digits, then `:`.
fn classify(key: &[u8], model_prefix: &[u8], current: &[u8; 16]) -> KeyClass {
    let Some(rest) = key.strip_prefix(model_prefix) else {
        return KeyClass::Foreign;
    };
    if rest.len() < 17
        || rest[16] != b':'
        || !rest[..16]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    {
        return KeyClass::Foreign;
    }
    let mut hex = [0u8; 16];
    hex.copy_from_slice(&rest[..16]);
    if &hex == current {
        KeyClass::Current
    } else {
        KeyClass::Old(hex)
    }
}

fn parse_hex(version: &str) -> Option<[u8; 16]> {
    let bytes = version.as_bytes();
    if bytes.len() != 16
        || !bytes
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    {
        return None;
    }
    let mut hex = [0u8; 16];
    hex.copy_from_slice(bytes);
    Some(hex)
}

/// One old key of a batch.
struct Item {
    key: Vec<u8>,
    hex: [u8; 16],
}

/// An old entry read and converted, to be written under the current version.
struct Candidate<T> {
    old_key: Vec<u8>,
    old_bytes: Vec<u8>,
    logical: Vec<u8>,
    value: T,
    ttl: Option<Duration>,
    times: Times,
}

impl<T, S, C> Sweep<T, S, C>
where
    T: CacheVersion + Serialize + DeserializeOwned + Send + Sync + 'static,
    S: Store,
    C: Codec,
{
    /// The default batch size: 500 keys.
    pub const DEFAULT_BATCH: usize = 500;
    /// The largest batch size.
    pub const MAX_BATCH: usize = 100_000;

    /// Migrate the entries of versions with a registered migration (default on).
    pub fn migrate(mut self, on: bool) -> Self {
        self.migrate = on;
        self
    }

    /// Delete old keys that are not migrated (default on; off in [`ModelHandle::migrator`]).
    pub fn delete_old(mut self, on: bool) -> Self {
        self.delete_old = on;
        self
    }

    /// Delete old keys after migrating them (default on; off in [`ModelHandle::migrator`]).
    pub fn delete_migrated(mut self, on: bool) -> Self {
        self.delete_migrated = on;
        self
    }

    /// Keys per batch, and the scan's page size hint (default 500; clamped to
    /// `1..=MAX_BATCH`).
    pub fn batch_size(mut self, keys: usize) -> Self {
        self.batch = keys.clamp(1, Self::MAX_BATCH);
        self
    }

    /// At most this many old keys per second (default: no limit). Must be above zero.
    pub fn rate_limit(mut self, keys_per_second: f64) -> Self {
        self.rate = Some(keys_per_second);
        self
    }

    /// Read and count, but write and delete nothing (default off).
    pub fn dry_run(mut self, on: bool) -> Self {
        self.dry_run = on;
        self
    }

    /// Leave the keys of `Old`'s version alone (for example the version the old build still
    /// reads during a rollout).
    pub fn keep<Old: CacheVersion>(mut self) -> Self {
        let v = self.handle.key_version_of::<Old>().to_string();
        self.keep.push(v);
        self
    }

    /// Leave the keys of this key version (16 hex digits) alone.
    pub fn keep_version(mut self, version: impl Into<String>) -> Self {
        self.keep.push(version.into());
        self
    }

    /// Process only the keys of `Old`'s version (may be combined with other `only`s).
    pub fn only<Old: CacheVersion>(mut self) -> Self {
        let v = self.handle.key_version_of::<Old>().to_string();
        self.only.get_or_insert_with(Vec::new).push(v);
        self
    }

    /// Process only the keys of this key version (16 hex digits).
    pub fn only_version(mut self, version: impl Into<String>) -> Self {
        self.only.get_or_insert_with(Vec::new).push(version.into());
        self
    }

    /// Delete keys of versions that running builds still use (default off: a sweep that
    /// would delete the keys of a live version, per [`ModelHandle::live_versions`], fails
    /// with [`SweepError::LiveVersion`] before touching anything; exclude such a version with
    /// [`Sweep::keep_version`] instead where you can).
    pub fn force(mut self, on: bool) -> Self {
        self.force = on;
        self
    }

    /// Runs the job to the end of the scan. Cancel it by dropping the future (each batch is
    /// either done or not started, except its writes and deletes, which are single calls).
    ///
    /// A key that fails (a read, write or delete it needed failed, or its value is
    /// unreadable) is not an error of the run: it counts in [`SweepReport::failed`], and the
    /// run goes on; check [`SweepReport::is_complete`].
    ///
    /// # Errors
    /// Before anything is touched:
    /// - [`SweepError::InvalidRate`]: the [`Sweep::rate_limit`] is not a positive finite number;
    /// - [`SweepError::InvalidVersion`]: a version given to [`Sweep::keep_version`] or
    ///   [`Sweep::only_version`] is not 16 lowercase hex digits;
    /// - [`SweepError::Cache`] with [`CacheError::ModelConflict`]: the handle cannot join the
    ///   live-version registry (another handle of this cache uses the model name with an
    ///   unrelated version);
    /// - [`SweepError::Cache`] with [`CacheError::Store`]: the registry cannot be read, when
    ///   the run would delete (`delete_old` or `delete_migrated` on, not a dry run, not
    ///   forced), whatever the failure mode;
    /// - [`SweepError::LiveVersion`]: the run would delete keys of a version a running build
    ///   still announces (not checked in a dry run, with [`Sweep::force`], or when the
    ///   version is excluded with `keep`/`only`).
    ///
    /// During the walk:
    /// - [`SweepError::Scan`]: a page of the scan failed three times in a row (or the store
    ///   cannot scan); the walk is incomplete, and the error holds the report of what was done
    ///   (with the keys found but not processed in `pending`).
    ///
    /// ```
    /// use cache_version_core::rollout::SweepError;
    /// use cache_version_core::{Cache, CacheVersion, MemoryStore};
    /// # #[derive(Clone, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # #[cache_version(name = "User")]
    /// # struct UserV1 { id: u64, name: String }
    /// # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, CacheVersion)]
    /// # struct User { id: u64, full_name: String }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::builder(MemoryStore::new()).namespace("prod").build()?;
    /// for id in 0..10 {
    ///     cache.model::<UserV1>().set(id, &UserV1 { id, name: "Ada".into() }).await?;
    /// }
    /// let users = cache
    ///     .model::<User>()
    ///     .migrate_from::<UserV1, _>(|old| User { id: old.id, full_name: old.name })?;
    ///
    /// let report = users.migrator().batch_size(4).run().await?;
    /// assert_eq!((report.scanned, report.migrated), (10, 10));
    /// assert!(report.balances() && report.is_complete());
    ///
    /// let err = users.sweep().rate_limit(0.0).run().await.unwrap_err();
    /// assert!(matches!(err, SweepError::InvalidRate(_)));
    /// let err = users.sweep().keep_version("v1").run().await.unwrap_err();
    /// assert!(matches!(err, SweepError::InvalidVersion(_)));
    /// // UserV1's handle above makes its version live in this process.
    /// let err = users.sweep().run().await.unwrap_err();
    /// assert!(matches!(err, SweepError::LiveVersion { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn run(self) -> Result<SweepReport, SweepError> {
        let started = Instant::now();
        if let Some(rate) = self.rate {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(SweepError::InvalidRate(rate));
            }
        }
        let parse_all = |list: &[String]| -> Result<Vec<[u8; 16]>, SweepError> {
            list.iter()
                .map(|v| parse_hex(v).ok_or_else(|| SweepError::InvalidVersion(v.clone())))
                .collect()
        };
        let keep = parse_all(&self.keep)?;
        let only = self.only.as_deref().map(parse_all).transpose()?;
        // Join the registry (the trust checks need it) and refuse to delete a live version.
        self.handle
            .ensure_joined()
            .await
            .map_err(SweepError::Cache)?;
        if (self.delete_old || self.delete_migrated) && !self.dry_run && !self.force {
            let current = self.handle.key_version().to_string();
            let live: Vec<crate::live::LiveVersion> = self
                .handle
                .live_versions()
                .await
                .map_err(SweepError::Cache)?
                .into_iter()
                .filter(|v| v.live && v.version != current)
                .filter(|v| {
                    let hex = parse_hex(&v.version);
                    hex.is_some_and(|h| {
                        !keep.contains(&h) && only.as_ref().is_none_or(|o| o.contains(&h))
                    })
                })
                .collect();
            if !live.is_empty() {
                return Err(SweepError::LiveVersion {
                    model: self.handle.name().to_string(),
                    versions: live,
                });
            }
        }

        let cfg = &self.handle.inner.cfg;
        let model_prefix = cfg.prefix.model_prefix().to_vec();
        let current = cfg.key_version.to_hex();
        let mut report = SweepReport {
            dry_run: self.dry_run,
            ..SweepReport::default()
        };
        let mut processed: u64 = 0;
        let mut pending: Vec<Item> = Vec::new();
        let mut cursor = ScanCursor::start();
        loop {
            let page = match self.scan_page(&model_prefix, cursor).await {
                Ok(page) => page,
                Err(source) => {
                    report.pending += pending.len() as u64;
                    report.elapsed = started.elapsed();
                    tracing::warn!(model = %cfg.name, error = %source, "sweep: the scan failed");
                    return Err(SweepError::Scan {
                        report: Box::new(report),
                        source,
                    });
                }
            };
            if page.restarted {
                report.restarts += 1;
                tracing::warn!(
                    model = %cfg.name,
                    "sweep: the store lost its place in the scan; walking again from the start"
                );
            }
            for key in page.keys {
                match classify(&key, &model_prefix, &current) {
                    KeyClass::Foreign => report.ignored += 1,
                    KeyClass::Current => report.current += 1,
                    KeyClass::Old(hex) => {
                        report.scanned += 1;
                        let name = String::from_utf8_lossy(&hex).into_owned();
                        *report.versions.entry(name).or_default() += 1;
                        let excluded =
                            keep.contains(&hex) || only.as_ref().is_some_and(|o| !o.contains(&hex));
                        if excluded {
                            report.skipped += 1;
                        } else {
                            pending.push(Item { key, hex });
                        }
                    }
                }
                while pending.len() >= self.batch {
                    let rest = pending.split_off(self.batch);
                    let batch = std::mem::replace(&mut pending, rest);
                    processed += batch.len() as u64;
                    self.process(batch, &mut report).await;
                    self.pace(started, processed).await;
                }
            }
            match page.cursor {
                Some(next) => cursor = next,
                None => break,
            }
        }
        if !pending.is_empty() {
            processed += pending.len() as u64;
            self.process(pending, &mut report).await;
            self.pace(started, processed).await;
        }
        report.elapsed = started.elapsed();
        tracing::info!(
            model = %cfg.name,
            dry_run = report.dry_run,
            scanned = report.scanned,
            migrated = report.migrated,
            deleted = report.deleted,
            skipped = report.skipped,
            failed = report.failed,
            "sweep of older versions finished"
        );
        debug_assert!(report.balances(), "{report:?}");
        Ok(report)
    }

    /// One page of the walk; a failed page is tried again (up to `SCAN_ATTEMPTS` times in
    /// all, 100 ms apart), so one slow answer does not end a long job.
    async fn scan_page(
        &self,
        prefix: &[u8],
        cursor: ScanCursor,
    ) -> Result<crate::store::ScanPage, StoreError> {
        const SCAN_ATTEMPTS: u32 = 3;
        let cache = &self.handle.inner.cache;
        let mut attempt = 1;
        loop {
            let page = cache
                .timed_batch(
                    cache
                        .shared
                        .store
                        .scan_prefix(prefix, cursor.clone(), self.batch),
                )
                .await;
            match page {
                Err(e) if attempt < SCAN_ATTEMPTS => {
                    tracing::debug!(error = %e, attempt, "sweep: scan page failed; trying again");
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                page => return page,
            }
        }
    }

    /// Sleeps until `processed` keys fit the rate limit.
    async fn pace(&self, started: Instant, processed: u64) {
        if let Some(rate) = self.rate {
            let due = Duration::try_from_secs_f64(processed as f64 / rate).unwrap_or(Duration::MAX);
            if let Some(at) = started.checked_add(due) {
                tokio::time::sleep_until(at.into()).await;
            }
        }
    }

    /// Processes one batch of old keys; each gets exactly one outcome in `report`.
    async fn process(&self, batch: Vec<Item>, report: &mut SweepReport) {
        let handle = &self.handle;
        let cfg = &handle.inner.cfg;
        let cache = &handle.inner.cache;
        let shared = &cache.shared;
        let store = &shared.store;
        let rollout = handle.rollout();
        let logical_of = |key: &[u8]| key[cfg.prefix.model_prefix().len() + 17..].to_vec();
        let now = envelope::now_ms();

        let mut plan = Plan::default();
        let mut candidates: Vec<Candidate<T>> = Vec::new();
        for item in batch {
            let migration = rollout
                .filter(|_| self.migrate)
                .and_then(|r| r.versions.iter().find(|v| v.hex == item.hex))
                .filter(|v| v.read.is_some());
            let Some(version) = migration else {
                self.delete_or_skip(item.key, report, &mut plan);
                continue;
            };
            let found = match cache.timed(store.get_with_ttl(&item.key)).await {
                Ok(found) => found,
                Err(e) => {
                    report.failed += 1;
                    tracing::warn!(model = %cfg.name, error = %e, "sweep: reading an old entry failed");
                    continue;
                }
            };
            let Some((bytes, ttl)) = found else {
                report.skipped += 1; // expired or deleted since the scan
                continue;
            };
            match version.read(&shared.codec, &bytes) {
                // Past its logical life, or not to be trusted (see `crate::live`): nothing
                // worth migrating.
                Ok(d) if d.expired_at(now) || !handle.trusts_entry(&item.hex, d.times, now) => {
                    self.delete_or_skip(item.key, report, &mut plan)
                }
                Ok(d) => candidates.push(Candidate {
                    logical: logical_of(&item.key),
                    old_key: item.key,
                    old_bytes: bytes,
                    times: Times {
                        written_ms: now,
                        ..d.times.unwrap_or_else(|| Times::at(now, ttl))
                    },
                    value: d.value,
                    ttl,
                }),
                Err(e) => {
                    version.count_decode_error(&e);
                    tracing::warn!(
                        model = %cfg.name,
                        key = %display_key(&item.key),
                        error = %e,
                        "sweep: unreadable old entry"
                    );
                    if self.delete_old {
                        plan.delete(item.key);
                    } else {
                        report.failed += 1;
                    }
                }
            }
        }

        if !candidates.is_empty() {
            self.migrate_batch(candidates, report, &mut plan).await;
        }
        self.unlink(plan, report).await;
    }

    /// An old key without a migration: deleted with `delete_old`, else skipped.
    fn delete_or_skip(&self, key: Vec<u8>, report: &mut SweepReport, plan: &mut Plan) {
        if self.delete_old {
            plan.delete(key);
        } else {
            report.skipped += 1;
        }
    }

    /// Deletes what `plan` holds in one call and settles those keys' outcomes.
    async fn unlink(&self, mut plan: Plan, report: &mut SweepReport) {
        let cfg = &self.handle.inner.cfg;
        let cache = &self.handle.inner.cache;
        if plan.keys.is_empty() {
            return;
        }
        // Never the current version, whatever happened above.
        let current_prefix: &[u8] = &cfg.prefix.key(b"");
        debug_assert!(plan.keys.iter().all(|k| !k.starts_with(current_prefix)));
        plan.keys.retain(|k| !k.starts_with(current_prefix));
        if self.dry_run {
            report.deleted += plan.deleted;
            report.migrated += plan.migrated;
            report.unlinked += plan.keys.len() as u64;
            return;
        }
        match cache
            .timed_batch(cache.shared.store.delete_many(&plan.keys))
            .await
        {
            Ok(n) => {
                report.deleted += plan.deleted;
                report.migrated += plan.migrated;
                report.unlinked += n;
            }
            Err(e) => {
                // The old keys are still there: neither deleted nor fully migrated.
                report.failed += plan.deleted + plan.migrated;
                tracing::warn!(model = %cfg.name, error = %e, "sweep: deleting old keys failed");
            }
        }
    }

    /// Writes the migration candidates of a batch under the current version.
    async fn migrate_batch(
        &self,
        candidates: Vec<Candidate<T>>,
        report: &mut SweepReport,
        plan: &mut Plan,
    ) {
        let handle = &self.handle;
        let cfg = &handle.inner.cfg;
        let cache = &handle.inner.cache;
        let store = &cache.shared.store;
        let current_keys: Vec<Vec<u8>> = candidates
            .iter()
            .map(|c| cfg.prefix.key(&c.logical))
            .collect();
        // The current version wins: never overwrite a key it already has.
        let existing = match cache.timed_batch(store.get_many(&current_keys)).await {
            Ok(v) if v.len() == current_keys.len() => v,
            Ok(_) | Err(_) => {
                report.failed += candidates.len() as u64;
                tracing::warn!(model = %cfg.name, "sweep: reading current keys failed");
                return;
            }
        };
        let mut writes: Vec<SetEntry> = Vec::new();
        let mut written: Vec<(Vec<u8>, Vec<u8>)> = Vec::new(); // (old key, old bytes)
        for ((candidate, current_key), existing) in
            candidates.into_iter().zip(current_keys).zip(existing)
        {
            let Candidate {
                old_key,
                old_bytes,
                logical,
                value,
                ttl,
                times,
            } = candidate;
            if existing.is_some() {
                self.delete_or_skip(old_key, report, plan);
                continue;
            }
            match handle.encode_checked(&logical, &value, times) {
                Ok(bytes) => {
                    writes.push(SetEntry {
                        key: current_key,
                        value: bytes,
                        ttl,
                    });
                    written.push((old_key, old_bytes));
                }
                Err(e) => {
                    report.failed += 1;
                    tracing::warn!(error = %e, "sweep: could not encode a migrated value");
                }
            }
        }
        if writes.is_empty() {
            return;
        }
        if self.dry_run {
            for (old_key, _) in written {
                self.migrated(old_key, report, plan);
            }
            return;
        }
        // Only where the current version still holds nothing: a writer of the current version
        // may have stored a newer value since the read above.
        let landed = match cache.timed_batch(store.set_many_if_absent(&writes)).await {
            Ok(landed) if landed.len() == writes.len() => landed,
            Ok(landed) => {
                report.failed += writes.len() as u64;
                tracing::warn!(
                    model = %cfg.name,
                    "sweep: the store answered {} writes with {} results",
                    writes.len(),
                    landed.len()
                );
                return;
            }
            Err(e) => {
                report.failed += writes.len() as u64;
                tracing::warn!(model = %cfg.name, error = %e, "sweep: writing migrated values failed");
                return;
            }
        };
        let mut kept_writes = Vec::with_capacity(writes.len());
        let mut kept_written = Vec::with_capacity(written.len());
        for ((entry, (old_key, old_bytes)), landed) in writes.into_iter().zip(written).zip(landed) {
            if landed {
                kept_writes.push(entry);
                kept_written.push((old_key, old_bytes));
            } else {
                // The current version gained the key since the read above.
                self.delete_or_skip(old_key, report, plan);
            }
        }
        let (writes, written) = (kept_writes, kept_written);
        if writes.is_empty() {
            return;
        }
        // Withdraw the writes whose source changed or vanished meanwhile (a concurrent
        // delete or dual-write): the current version must not resurrect a deleted entry. When
        // the source cannot be read back, the writes are withdrawn too (and count as failed).
        let old_keys: Vec<Vec<u8>> = written.iter().map(|(k, _)| k.clone()).collect();
        let now = match cache.timed_batch(store.get_many(&old_keys)).await {
            Ok(values) if values.len() == old_keys.len() => Some(values),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(model = %cfg.name, error = %e, "sweep: re-reading old entries failed");
                None
            }
        };
        let mut withdraw = Vec::new();
        let mut withdrawn_skipped: u64 = 0;
        for (i, ((old_key, old_bytes), entry)) in written.into_iter().zip(writes).enumerate() {
            match &now {
                Some(values) if values[i].as_ref() == Some(&old_bytes) => {
                    self.migrated(old_key, report, plan);
                }
                Some(_) => {
                    withdrawn_skipped += 1;
                    withdraw.push(entry.key);
                }
                None => {
                    report.failed += 1;
                    withdraw.push(entry.key);
                }
            }
        }
        if withdraw.is_empty() {
            return;
        }
        match cache.timed_batch(store.delete_many(&withdraw)).await {
            Ok(_) => report.skipped += withdrawn_skipped,
            Err(e) => {
                // The migrated copies of changed sources stay: that is a failure.
                report.failed += withdrawn_skipped;
                tracing::warn!(model = %cfg.name, error = %e, "sweep: withdrawing migrated values failed");
            }
        }
    }

    /// A migrated key: done, or (with `delete_migrated`) done once its old key is deleted.
    fn migrated(&self, old_key: Vec<u8>, report: &mut SweepReport, plan: &mut Plan) {
        if self.delete_migrated {
            plan.keys.push(old_key);
            plan.migrated += 1;
        } else {
            report.migrated += 1;
        }
    }
}

/// The old keys a batch deletes at its end, and how many of them settle as `deleted` and as
/// `migrated` once the delete succeeds.
#[derive(Default)]
struct Plan {
    keys: Vec<Vec<u8>>,
    deleted: u64,
    migrated: u64,
}

impl Plan {
    fn delete(&mut self, key: Vec<u8>) {
        self.keys.push(key);
        self.deleted += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CUR: &[u8; 16] = b"0123456789abcdef";

    #[test]
    fn classify_is_strict() {
        let p = b"prod:User:";
        let c = |k: &[u8]| classify(k, p, CUR);
        assert_eq!(c(b"prod:User:0123456789abcdef:1"), KeyClass::Current);
        assert_eq!(c(b"prod:User:0123456789abcdef:"), KeyClass::Current);
        assert_eq!(
            c(b"prod:User:fedcba9876543210:a*b?[c]\\"),
            KeyClass::Old(*b"fedcba9876543210")
        );
        for foreign in [
            &b"prod:User2:fedcba9876543210:1"[..],
            b"prod:Use:fedcba9876543210:1",
            b"prod:User:notahexversion:1",
            b"prod:User:FEDCBA9876543210:1",
            b"prod:User:fedcba987654321:1",
            b"prod:User:fedcba98765432100:1",
            b"prod:User:fedcba9876543210",
            b"prod:User:*",
            b"prod:User:?",
            b"prod:User:[a-f]*",
            b"prod:User:\\",
            b"prodx:User:fedcba9876543210:1",
            b"other:User:fedcba9876543210:1",
            b"prod:User:",
            b"",
        ] {
            assert_eq!(c(foreign), KeyClass::Foreign, "{}", display_key(foreign));
        }
    }

    use crate::test_recorder::TestRecorder as Recorder;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Old {
        name: String,
    }

    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    struct New {
        full_name: String,
    }

    macro_rules! model {
        ($ty:ty, $field:literal) => {
            impl CacheVersion for $ty {
                const SHAPE: &'static crate::Shape = &crate::Shape::Named(&crate::Named::new(
                    "Person",
                    crate::Body::Struct {
                        tag: None,
                        fields: &[crate::Field::new($field, crate::Ty::of::<String>())],
                    },
                ));
            }
            impl crate::CacheModel for $ty {}
        };
    }
    model!(Old, "name");
    model!(New, "full_name");

    #[test]
    fn fallback_hits_and_reads_reach_the_metrics() {
        let recorder = Recorder::default();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let (old_v, new_v) = metrics::with_local_recorder(&recorder, || {
            rt.block_on(async {
                let cache = crate::Cache::builder(crate::MemoryStore::new())
                    .namespace("m")
                    .build()
                    .unwrap();
                let old = cache.model::<Old>();
                let new = cache
                    .model::<New>()
                    .migrate_from::<Old, _>(|o| New { full_name: o.name })
                    .unwrap();
                old.set("1", &Old { name: "Ada".into() }).await.unwrap();
                assert!(new.get("1").await.unwrap().is_some()); // fallback
                assert!(new.get("1").await.unwrap().is_some()); // hit
                assert!(new.get("2").await.unwrap().is_none()); // miss
                (old.key_version().to_string(), new.key_version().to_string())
            })
        });
        let counts = recorder.0.lock().unwrap().clone();
        let at = |name: &str, v: &str| {
            counts
                .get(&format!("cache_version_{name}{{model=Person,version={v}}}"))
                .copied()
                .unwrap_or(0)
        };
        assert_eq!(at("fallback_hit", &new_v), 1, "{counts:?}");
        assert_eq!(at("fallback_read", &old_v), 1, "{counts:?}");
        assert_eq!(at("hit", &new_v), 1, "{counts:?}");
        assert_eq!(at("miss", &new_v), 1, "{counts:?}");
        assert_eq!(at("miss", &old_v) + at("hit", &old_v), 0, "{counts:?}");
    }

    #[test]
    fn hex_versions_are_validated() {
        assert_eq!(parse_hex("0123456789abcdef"), Some(*CUR));
        assert_eq!(parse_hex("0123456789ABCDEF"), None);
        assert_eq!(parse_hex("0123456789abcde"), None);
        assert_eq!(parse_hex("0123456789abcdeg"), None);
        assert_eq!(parse_hex("é123456789abcde"), None);
    }
}
