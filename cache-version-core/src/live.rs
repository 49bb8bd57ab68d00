//! The registry of live versions: which versions of each model the running builds use, kept
//! in the store itself, so a write or delete in any build reaches every live version of a key.
//!
//! # The record (stable: every later release reads it)
//!
//! One hash per model, inside the namespace but outside every version's key space:
//!
//! ```text
//! key:    {namespace}:{model}:live             e.g. prod:User:live
//! field:  the 16-hex-digit key version         e.g. 3f9a1c2b7d4e5f60
//! value:  1;first=<ms>;beat=<ms>[;reads=<hex>,<hex>…]
//!                                              e.g. 1;first=1764650000000;beat=1764650012000
//! ```
//!
//! `1` is the value's format; `first` is when this version's current life began (its first
//! announcement, or its return after it was gone), `beat` its latest heartbeat, both in
//! milliseconds since the Unix epoch by the writer's clock; `trust`, when present, the write
//! time before which this version's entries are not trusted (its young window, below);
//! `reads` lists the older versions this version reads on a miss (its `migrate_from`
//! registrations), whose keys every writer invalidates too. Readers ignore `;key=value` pairs
//! they do not know, and treat a value they cannot read (a later format) as a live version
//! heard from now, so a newer build's record never makes an older build miss an
//! invalidation. The key's TTL is refreshed by every heartbeat (one day), so the record
//! vanishes a day after the last build stops; a field not heard from for a day is removed.
//! `live` is not 16 hex digits, so the strict key parsing of the sweeps never touches it.
//!
//! # What it is used for
//!
//! - **Writes and deletes** ([`crate::ModelHandle::set`], `delete`, their batches and
//!   `get_or_load`'s write-back) also delete the logical key under every other live version,
//!   in the same store call. Each cache keeps a view of the record, refreshed by a
//!   background heartbeat ([`LiveConfig::heartbeat`], 1 s by default); a write whose view is
//!   older than three heartbeats refreshes it first. While only one version is live, a write
//!   makes exactly the store call it makes without the registry.
//! - **Young versions.** A build that starts while other versions are live is known to them
//!   only after their next refresh. Until then their writes do not reach it, so the entries of
//!   its version written before every other build can have seen it (its `first` plus the
//!   longest a view may be old plus [`LiveConfig::clock_skew`]: 3 s by default) are not
//!   trusted: a read of one is a miss (counted as `untrusted`), and a migration or a load
//!   replaces it. A build that starts alone (or whose other versions are all handles of the
//!   same cache, which know each other at once) trusts everything. A fallback read of an
//!   older version applies that version's window (its `trust`); for a version no longer
//!   live, it trusts its entries only if that version was live when this one announced that
//!   it reads it (so every write since reached it), and otherwise only the entries written
//!   after every build learned of those reads. Entries of a version the registry does not
//!   know (a build with the registry turned off) are judged by the envelope alone.
//! - **Returning versions.** A version not heard from for ten heartbeats is gone for the
//!   others, who stop invalidating it. When it comes back (a rollback, or a build that lost
//!   the store for that long) its life starts again, with the rule above.
//! - **Sweeps** refuse to delete a live version's keys unless forced, and
//!   [`crate::ModelHandle::live_versions`] lists them with their heartbeats.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::cache::BoxFuture;
use crate::envelope::now_ms;
use crate::store::{HashFields, StoreError};

/// The last segment of a model's record key, `{namespace}:{model}:live`.
pub(crate) const RECORD_SUFFIX: &[u8] = b"live";

/// The settings of the live-version registry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiveConfig {
    /// Whether the registry is used at all (default `true`). Off, writes and deletes reach
    /// only the handle's own version and the versions registered on it.
    pub enabled: bool,
    /// How often each build announces its versions and reads the others' (default 1 s).
    /// A version not heard from for ten heartbeats counts as gone; a write refreshes a view
    /// older than two.
    pub heartbeat: Duration,
    /// How far apart the clocks of two machines may be (default 1 s): added to the window
    /// in which a young version's entries are not trusted.
    pub clock_skew: Duration,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            enabled: true,
            heartbeat: Duration::from_secs(1),
            clock_skew: Duration::from_secs(1),
        }
    }
}

impl LiveConfig {
    /// A version not heard from for this long is gone.
    pub fn expiry(&self) -> Duration {
        self.heartbeat.saturating_mul(10)
    }

    /// The oldest view a write uses without refreshing it first.
    pub fn max_view_age(&self) -> Duration {
        self.heartbeat.saturating_mul(2)
    }

    /// How long the record and its fields outlive the last heartbeat.
    pub fn retention(&self) -> Duration {
        Duration::from_secs(24 * 3600)
    }
}

/// One version of a model in the registry, as [`crate::ModelHandle::live_versions`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiveVersion {
    /// The key version (16 hex digits).
    pub version: String,
    /// When this version's current life began.
    pub first_seen: SystemTime,
    /// Its latest heartbeat.
    pub last_heartbeat: SystemTime,
    /// Heard from within the live expiry (ten heartbeats of the reading cache).
    pub live: bool,
}

/// A parsed field of the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    pub(crate) hex: [u8; 16],
    pub(crate) first_ms: u64,
    pub(crate) beat_ms: u64,
    /// The older versions this version reads (its migrations): writers invalidate them too.
    pub(crate) reads: Vec<[u8; 16]>,
    /// This version's entries written before this are not trusted (its young window; 0
    /// when it started alone).
    pub(crate) trust_ms: u64,
}

/// The value of a field: `1;first=<ms>;beat=<ms>`, then `;trust=<ms>` when the version's
/// young entries are not to be trusted, and `;reads=<hex>,<hex>…` when it reads older ones.
pub(crate) fn encode_value(
    first_ms: u64,
    beat_ms: u64,
    trust_ms: u64,
    reads: &[[u8; 16]],
) -> Vec<u8> {
    let mut v = format!("1;first={first_ms};beat={beat_ms}").into_bytes();
    if trust_ms > 0 {
        v.extend_from_slice(format!(";trust={trust_ms}").as_bytes());
    }
    for (i, r) in reads.iter().enumerate() {
        v.extend_from_slice(if i == 0 { b";reads=" } else { b"," });
        v.extend_from_slice(r);
    }
    v
}

fn parse_hex(b: &[u8]) -> Option<[u8; 16]> {
    let hex: [u8; 16] = b.try_into().ok()?;
    hex.iter()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
        .then_some(hex)
}

/// Parses one field; a value in a format this build does not know counts as heard from at
/// `now_ms` (so it is treated as live and invalidated).
pub(crate) fn parse_field(field: &[u8], value: &[u8], now_ms: u64) -> Option<Field> {
    let hex = parse_hex(field)?;
    let parsed = std::str::from_utf8(value).ok().and_then(|text| {
        let mut parts = text.split(';');
        if parts.next()? != "1" {
            return None;
        }
        let (mut first, mut beat, mut reads, mut trust) = (None, None, Vec::new(), 0);
        for part in parts {
            match part.split_once('=') {
                Some(("first", v)) => first = v.parse().ok(),
                Some(("beat", v)) => beat = v.parse().ok(),
                Some(("trust", v)) => trust = v.parse().unwrap_or(u64::MAX),
                Some(("reads", v)) => {
                    reads = v
                        .split(',')
                        .filter_map(|h| parse_hex(h.as_bytes()))
                        .collect()
                }
                _ => {}
            }
        }
        Some((first?, beat?, reads, trust))
    });
    // A value this build cannot read: live now, and none of its entries trusted.
    let (first_ms, beat_ms, reads, trust_ms) =
        parsed.unwrap_or((now_ms, now_ms, Vec::new(), u64::MAX));
    Some(Field {
        hex,
        first_ms,
        beat_ms,
        reads,
        trust_ms,
    })
}

fn parse_all(fields: &HashFields, now_ms: u64) -> Vec<Field> {
    fields
        .iter()
        .filter_map(|(f, v)| parse_field(f, v, now_ms))
        .collect()
}

/// The store calls the registry makes: the cache implements them (through its timeout and
/// circuit breaker).
pub(crate) trait RecordStore: Send + Sync + 'static {
    /// `Store::hash_put` with the retention as TTL.
    fn put<'a>(
        &'a self,
        key: &'a [u8],
        field: &'a [u8],
        value: &'a [u8],
    ) -> BoxFuture<'a, Result<HashFields, StoreError>>;
    /// `Store::hash_get_all`.
    fn get_all<'a>(&'a self, key: &'a [u8]) -> BoxFuture<'a, Result<HashFields, StoreError>>;
    /// `Store::hash_remove`.
    fn remove<'a>(
        &'a self,
        key: &'a [u8],
        fields: &'a [Vec<u8>],
    ) -> BoxFuture<'a, Result<u64, StoreError>>;
    /// The registry itself.
    fn live(&self) -> &Live;
}

/// The registry of one cache: its models' records and its own versions.
pub(crate) struct Live {
    pub(crate) config: LiveConfig,
    models: Mutex<Vec<Arc<ModelLive>>>,
    beating: AtomicBool,
    epoch: Instant,
}

/// Two handles of one model with unrelated versions in one cache.
#[derive(Debug, Clone)]
pub(crate) struct Conflict {
    pub(crate) other: String,
}

impl Live {
    pub(crate) fn new(config: LiveConfig) -> Self {
        Live {
            config,
            models: Mutex::default(),
            beating: AtomicBool::new(false),
            epoch: Instant::now(),
        }
    }

    fn mono_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The state of `model` (created on first use), whose record is at `record_key`.
    pub(crate) fn model(&self, name: &str, record_key: Vec<u8>) -> Arc<ModelLive> {
        let mut models = self.models.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = models.iter().find(|m| &*m.name == name) {
            return m.clone();
        }
        let m = Arc::new(ModelLive {
            name: name.into(),
            record_key,
            own: Mutex::default(),
            view: RwLock::new(Arc::new(Vec::new())),
            view_read_ms: AtomicU64::new(0),
            viewed: AtomicBool::new(false),
            sole_live: AtomicU64::new(NOT_SOLE),
        });
        models.push(m.clone());
        m
    }

    /// Registers `hex` (with the versions it is registered with) on `model` in this cache:
    /// the conflict check, then the first announcement when this version is new here.
    pub(crate) async fn join(
        &self,
        store: &dyn RecordStore,
        model: &Arc<ModelLive>,
        hex: [u8; 16],
        related: &[[u8; 16]],
        reads: &[[u8; 16]],
    ) -> Result<Result<Arc<OwnState>, Conflict>, StoreError> {
        let state = match model.add_own(hex, related, reads) {
            Ok(state) => state,
            Err(conflict) => return Ok(Err(conflict)),
        };
        if !state.announced.load(Ordering::Acquire) {
            // Several handles may race here; announcing twice is harmless.
            self.announce(store, model, &state).await?;
        }
        Ok(Ok(state))
    }

    /// The first announcement of one of our versions: read the record, start a life (or
    /// continue the fleet's), write our field.
    async fn announce(
        &self,
        store: &dyn RecordStore,
        model: &ModelLive,
        state: &OwnState,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let fields = parse_all(&store.get_all(&model.record_key).await?, now);
        self.start_life(model, state, &fields, now);
        state.note_live_sources(&fields, now, ms(self.config.expiry()));
        let value = state.value(now);
        let after = store.put(&model.record_key, &state.hex, &value).await?;
        state.last_beat_ms.store(now, Ordering::Relaxed);
        state.announced.store(true, Ordering::Release);
        self.apply_view(model, &after, now);
        Ok(())
    }

    /// Decides where this version's life starts: the fleet's `first` when the version is
    /// live in `fields`, else now; and whether its young entries are trusted (when no other
    /// version is live, they are).
    fn start_life(&self, model: &ModelLive, state: &OwnState, fields: &[Field], now: u64) {
        let expiry = ms(self.config.expiry());
        let is_live = |f: &Field| now.saturating_sub(f.beat_ms) < expiry;
        let ours = fields.iter().find(|f| f.hex == state.hex && is_live(f));
        let first = ours.map_or(now, |f| f.first_ms.min(now));
        // Versions of other caches (processes): this cache's own handles know each other at
        // once, the others only at their next refresh.
        let own = model.own_hexes();
        let others = fields.iter().any(|f| !own.contains(&f.hex) && is_live(f));
        state.first_ms.store(first, Ordering::Relaxed);
        let trust_from = if others {
            first.saturating_add(self.window_ms()).max(1)
        } else {
            0
        };
        // Only ever later: a second life never trusts what the first did not.
        state.trust_from_ms.fetch_max(trust_from, Ordering::Relaxed);
        tracing::debug!(
            model = %model.name,
            version = %String::from_utf8_lossy(&state.hex),
            first,
            others,
            "live-version registry: a life starts"
        );
    }

    /// Replaces the view of `model` with what the record holds.
    fn apply_view(&self, model: &ModelLive, fields: &HashFields, now: u64) {
        let parsed = parse_all(fields, now);
        let expiry = ms(self.config.expiry());
        let mut live = parsed
            .iter()
            .filter(|f| now.saturating_sub(f.beat_ms) < expiry);
        let sole = match (live.next(), live.next()) {
            (Some(f), None) if f.reads.is_empty() => hex_u64(&f.hex),
            _ => NOT_SOLE,
        };
        *model.view.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(parsed);
        model.sole_live.store(sole, Ordering::Relaxed);
        model.view_read_ms.store(self.mono_ms(), Ordering::Relaxed);
        model.viewed.store(true, Ordering::Release);
    }

    /// Whether `model`'s view is too old for a write to rely on.
    pub(crate) fn view_is_stale(&self, model: &ModelLive) -> bool {
        !model.viewed.load(Ordering::Acquire)
            || self
                .mono_ms()
                .saturating_sub(model.view_read_ms.load(Ordering::Relaxed))
                > ms(self.config.max_view_age())
    }

    /// Reads `model`'s record now (a write whose view went stale).
    pub(crate) async fn refresh(
        &self,
        store: &dyn RecordStore,
        model: &ModelLive,
    ) -> Result<(), StoreError> {
        let fields = store.get_all(&model.record_key).await?;
        self.apply_view(model, &fields, now_ms());
        Ok(())
    }

    /// The key versions other than `own` that a write or delete of `own` must reach: every
    /// other live version in `model`'s view, and the older versions any live version reads.
    pub(crate) fn others(&self, model: &ModelLive, own: &[u8; 16]) -> Vec<[u8; 16]> {
        // The common case, without a lock: ours is the one live version and reads nothing.
        if model.sole_live.load(Ordering::Relaxed) == hex_u64(own) {
            return Vec::new();
        }
        let view = model.view.read().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<[u8; 16]> = Vec::new();
        for f in view.iter().filter(|f| self.is_live(f)) {
            for hex in std::iter::once(&f.hex).chain(&f.reads) {
                if hex != own && !out.contains(hex) {
                    out.push(*hex);
                }
            }
        }
        out
    }

    fn is_live(&self, f: &Field) -> bool {
        now_ms().saturating_sub(f.beat_ms) < ms(self.config.expiry())
    }

    /// Every version in `model`'s record, read now.
    pub(crate) async fn read(
        &self,
        store: &dyn RecordStore,
        record_key: &[u8],
    ) -> Result<Vec<LiveVersion>, StoreError> {
        let now = now_ms();
        let fields = parse_all(&store.get_all(record_key).await?, now);
        let expiry = ms(self.config.expiry());
        let at = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
        Ok(fields
            .iter()
            .map(|f| LiveVersion {
                version: String::from_utf8_lossy(&f.hex).into_owned(),
                first_seen: at(f.first_ms),
                last_heartbeat: at(f.beat_ms),
                live: now.saturating_sub(f.beat_ms) < expiry,
            })
            .collect())
    }

    /// Whether the heartbeat task should be started (true once).
    pub(crate) fn claim_heartbeat(&self) -> bool {
        !self.beating.swap(true, Ordering::AcqRel)
    }

    /// One heartbeat: every own version of every model announces itself and reads the
    /// record; fields not heard from for the retention are removed.
    pub(crate) async fn beat(&self, store: &dyn RecordStore) {
        let models: Vec<Arc<ModelLive>> = self
            .models
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for model in models {
            let own: Vec<Arc<OwnState>> = model
                .own
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|o| o.state.clone())
                .collect();
            for state in own {
                if let Err(e) = self.beat_one(store, &model, &state).await {
                    tracing::debug!(
                        model = %model.name,
                        error = %e,
                        "live-version registry: heartbeat failed"
                    );
                }
            }
        }
    }

    async fn beat_one(
        &self,
        store: &dyn RecordStore,
        model: &ModelLive,
        state: &OwnState,
    ) -> Result<(), StoreError> {
        if !state.announced.load(Ordering::Acquire) {
            return self.announce(store, model, state).await;
        }
        let now = now_ms();
        let last = state.last_beat_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= ms(self.config.expiry()) {
            // Silent for so long that the others stopped invalidating us: a new life.
            let fields = parse_all(&store.get_all(&model.record_key).await?, now);
            let stale: Vec<Field> = fields.into_iter().filter(|f| f.hex != state.hex).collect();
            self.start_life(model, state, &stale, now);
        }
        let value = state.value(now);
        let after = store.put(&model.record_key, &state.hex, &value).await?;
        state.last_beat_ms.store(now, Ordering::Relaxed);
        let retention = ms(self.config.retention());
        let gone: Vec<Vec<u8>> = parse_all(&after, now)
            .iter()
            .filter(|f| now.saturating_sub(f.beat_ms) > retention)
            .map(|f| f.hex.to_vec())
            .collect();
        if !gone.is_empty() {
            store.remove(&model.record_key, &gone).await?;
        }
        self.apply_view(model, &after, now);
        Ok(())
    }

    /// How long after a version's announcement every other build has seen it: the oldest
    /// view a write relies on, plus the clock skew.
    fn window_ms(&self) -> u64 {
        ms(self.config.max_view_age()).saturating_add(ms(self.config.clock_skew))
    }

    /// Whether this build is still surely known to the others: silent for nearly as long as
    /// they wait before dropping a version, it may no longer be invalidated.
    fn known(&self, state: &OwnState, now_ms: u64) -> bool {
        let last = state.last_beat_ms.load(Ordering::Relaxed);
        let limit = ms(self.config.expiry()).saturating_sub(ms(self.config.clock_skew));
        now_ms.saturating_sub(last) < limit
    }

    /// Whether an entry of our own version written at `written_ms` can be trusted now.
    pub(crate) fn trusts(&self, state: &OwnState, written_ms: u64, now_ms: u64) -> bool {
        written_ms >= state.trust_from_ms.load(Ordering::Relaxed) && self.known(state, now_ms)
    }

    /// Whether an entry of another version `hex` (a migration source), written at
    /// `written_ms`, can be trusted now: past that version's young window while it is live;
    /// when it is gone, only if written after every build learned that we read it.
    pub(crate) fn trusts_other(
        &self,
        state: &OwnState,
        model: &ModelLive,
        hex: &[u8; 16],
        written_ms: u64,
        now_ms: u64,
    ) -> bool {
        if !self.known(state, now_ms) {
            return false;
        }
        let view = model.view.read().unwrap_or_else(|e| e.into_inner());
        match view.iter().find(|f| f.hex == *hex) {
            Some(f) if self.is_live(f) => written_ms >= f.trust_ms,
            // Gone: while it was live every write reached it, and since we announced that we
            // read it every write reaches it again. If it was live when we announced, there
            // was no gap; else only entries written after every build learned of our reads.
            Some(_) => match state.source_trust(hex) {
                Some(trust) => written_ms >= trust,
                None => {
                    let since = state
                        .first_ms
                        .load(Ordering::Relaxed)
                        .saturating_add(self.window_ms());
                    written_ms >= since
                }
            },
            // Unknown to the registry: written by a build that does not announce itself
            // (registry turned off), or gone for longer than the retention.
            None => true,
        }
    }
}

/// No single live version (none, or several).
const NOT_SOLE: u64 = u64::MAX;

/// The 64 bits of a key version's 16 hex digits.
fn hex_u64(hex: &[u8; 16]) -> u64 {
    hex.iter().fold(0u64, |acc, &b| {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            _ => b.wrapping_sub(b'a') + 10,
        };
        (acc << 4) | u64::from(d & 15)
    })
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// One model in one cache: its record, its own versions, the view of the record.
pub(crate) struct ModelLive {
    name: Arc<str>,
    pub(crate) record_key: Vec<u8>,
    own: Mutex<Vec<Own>>,
    view: RwLock<Arc<Vec<Field>>>,
    view_read_ms: AtomicU64,
    viewed: AtomicBool,
    /// The one live version of the view (its 64 bits), or `NOT_SOLE`.
    sole_live: AtomicU64,
}

struct Own {
    related: Vec<[u8; 16]>,
    state: Arc<OwnState>,
}

/// One of our versions of a model.
pub(crate) struct OwnState {
    pub(crate) hex: [u8; 16],
    /// The older versions it reads (migrations registered on its handles).
    reads: Mutex<Vec<[u8; 16]>>,
    /// Those that were live when we announced them, with their `trust`.
    live_sources: Mutex<Vec<([u8; 16], u64)>>,
    first_ms: AtomicU64,
    /// Entries written before this are not trusted (0: all are).
    trust_from_ms: AtomicU64,
    last_beat_ms: AtomicU64,
    announced: AtomicBool,
}

impl OwnState {
    /// Remembers which of our read sources are live in `fields`.
    fn note_live_sources(&self, fields: &[Field], now: u64, expiry: u64) {
        let reads = self.reads.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut noted = self.live_sources.lock().unwrap_or_else(|e| e.into_inner());
        for f in fields {
            if reads.contains(&f.hex)
                && now.saturating_sub(f.beat_ms) < expiry
                && !noted.iter().any(|(h, _)| *h == f.hex)
            {
                noted.push((f.hex, f.trust_ms));
            }
        }
    }

    /// The `trust` of read source `hex` if it was live when we announced it.
    fn source_trust(&self, hex: &[u8; 16]) -> Option<u64> {
        let noted = self.live_sources.lock().unwrap_or_else(|e| e.into_inner());
        noted.iter().find(|(h, _)| h == hex).map(|(_, t)| *t)
    }

    /// Our field's value at `now`.
    fn value(&self, now: u64) -> Vec<u8> {
        let reads = self.reads.lock().unwrap_or_else(|e| e.into_inner());
        encode_value(
            self.first_ms.load(Ordering::Relaxed),
            now,
            self.trust_from_ms.load(Ordering::Relaxed),
            &reads,
        )
    }
}

impl ModelLive {
    /// This cache's own versions of the model.
    fn own_hexes(&self) -> Vec<[u8; 16]> {
        let own = self.own.lock().unwrap_or_else(|e| e.into_inner());
        own.iter().map(|o| o.state.hex).collect()
    }

    /// Adds (or finds) our version `hex`; refuses a version unrelated to another of ours.
    fn add_own(
        &self,
        hex: [u8; 16],
        related: &[[u8; 16]],
        reads: &[[u8; 16]],
    ) -> Result<Arc<OwnState>, Conflict> {
        let mut own = self.own.lock().unwrap_or_else(|e| e.into_inner());
        for o in own.iter() {
            if o.state.hex != hex && !related.contains(&o.state.hex) && !o.related.contains(&hex) {
                return Err(Conflict {
                    other: String::from_utf8_lossy(&o.state.hex).into_owned(),
                });
            }
        }
        if let Some(o) = own.iter_mut().find(|o| o.state.hex == hex) {
            for r in related {
                if !o.related.contains(r) {
                    o.related.push(*r);
                }
            }
            // A new migration source is announced at the next heartbeat.
            let mut known = o.state.reads.lock().unwrap_or_else(|e| e.into_inner());
            for r in reads {
                if !known.contains(r) {
                    known.push(*r);
                }
            }
            return Ok(o.state.clone());
        }
        let state = Arc::new(OwnState {
            hex,
            reads: Mutex::new(reads.to_vec()),
            live_sources: Mutex::default(),
            first_ms: AtomicU64::new(0),
            trust_from_ms: AtomicU64::new(0),
            last_beat_ms: AtomicU64::new(0),
            announced: AtomicBool::new(false),
        });
        own.push(Own {
            related: related.to_vec(),
            state: state.clone(),
        });
        Ok(state)
    }
}

/// Runs the heartbeat of one cache until the cache is dropped.
pub(crate) async fn heartbeat(store: std::sync::Weak<dyn RecordStore>, period: Duration) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick is immediate; the handles just announced
    loop {
        tick.tick().await;
        let Some(store) = store.upgrade() else { return };
        store.live().beat(&*store).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_values() {
        let v = encode_value(5, 9, 0, &[]);
        assert_eq!(v, b"1;first=5;beat=9");
        let f = parse_field(b"0123456789abcdef", &v, 100).unwrap();
        assert_eq!((f.first_ms, f.beat_ms, f.trust_ms), (5, 9, 0));
        let v = encode_value(5, 9, 7, &[*b"00000000000000aa", *b"00000000000000bb"]);
        assert_eq!(
            v,
            b"1;first=5;beat=9;trust=7;reads=00000000000000aa,00000000000000bb"
        );
        let f = parse_field(b"0123456789abcdef", &v, 100).unwrap();
        assert_eq!(f.reads, vec![*b"00000000000000aa", *b"00000000000000bb"]);
        assert_eq!(f.trust_ms, 7);
        // Unknown pairs are ignored; a later format counts as heard from now.
        let f = parse_field(b"0123456789abcdef", b"1;beat=9;zone=eu;first=5", 100).unwrap();
        assert_eq!((f.first_ms, f.beat_ms), (5, 9));
        let f = parse_field(b"0123456789abcdef", b"2;something-else", 100).unwrap();
        assert_eq!((f.first_ms, f.beat_ms, f.trust_ms), (100, 100, u64::MAX));
        // Fields that are not key versions are not versions.
        assert!(parse_field(b"0123456789ABCDEF", &v, 1).is_none());
        assert!(parse_field(b"short", &v, 1).is_none());
    }
}
