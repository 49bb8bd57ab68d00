//! Errors of the typed cache.

use std::sync::Arc;

use crate::codec::CodecError;
use crate::envelope::EnvelopeError;
use crate::key::NameError;
use crate::store::StoreError;

/// An error of a typed cache operation. Every variant names the model and the logical key
/// (rendered readably and cut to 64 bytes; see [`crate::key::display_key`]).
///
/// Which errors reach the caller depends on the failure mode (see [`crate::FailureMode`]):
/// errors of the caller's input ([`CacheError::KeyTooLong`], [`CacheError::Encode`],
/// [`CacheError::ValueTooLarge`]) and of a loader ([`CacheError::Load`]) always do; errors of
/// the environment ([`CacheError::Store`], [`CacheError::Decode`],
/// [`CacheError::VersionMismatch`]) do only when the cache fails closed, and are logged,
/// counted and turned into misses when it fails open.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The logical key is longer than the configured limit.
    #[error("{model}: logical key {key:?} is {len} bytes, over the limit of {limit}")]
    KeyTooLong {
        /// The model name.
        model: Arc<str>,
        /// The logical key, shortened.
        key: String,
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The store failed or did not answer in time.
    #[error("{model}: store error for key {key:?}: {source}")]
    Store {
        /// The model name.
        model: Arc<str>,
        /// The logical key, shortened (or a description of a batch).
        key: String,
        /// The cause.
        #[source]
        source: StoreError,
    },
    /// The stored value was damaged or foreign and could not be decoded.
    #[error("{model}: cannot decode the value of key {key:?}: {source}")]
    Decode {
        /// The model name.
        model: Arc<str>,
        /// The logical key, shortened.
        key: String,
        /// The cause.
        #[source]
        source: DecodeError,
    },
    /// The stored value was written for another model, version, codec or value format.
    #[error("{model}: the value of key {key:?} has another version: {source}")]
    VersionMismatch {
        /// The model name.
        model: Arc<str>,
        /// The logical key, shortened.
        key: String,
        /// The cause.
        #[source]
        source: EnvelopeError,
    },
    /// The value could not be encoded.
    #[error("{model}: cannot encode the value for key {key:?}: {source}")]
    Encode {
        /// The model name.
        model: Arc<str>,
        /// The logical key, shortened.
        key: String,
        /// The cause.
        #[source]
        source: CodecError,
    },
    /// The encoded value is larger than the configured limit.
    #[error("{model}: the value for key {key:?} is {size} bytes, over the limit of {limit}")]
    ValueTooLarge {
        /// The model name.
        model: Arc<str>,
        /// The logical key, shortened.
        key: String,
        /// The encoded size (envelope included).
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The loader of `get_or_load` failed (every caller waiting on that load gets it). The
    /// typed form is [`crate::LoadError::Loader`]; this is what it becomes through `?`.
    #[error("{model}: loading key {key:?} failed: {source}")]
    Load {
        /// The model name.
        model: Arc<str>,
        /// The logical key, shortened.
        key: String,
        /// The loader's error, shared by every waiter (downcast it to get yours back).
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
    /// A `get_or_load` did not get a value within the load timeout (its own loader, or the
    /// load it waited on, did not answer; see [`crate::CacheBuilder::load_timeout`]).
    #[error("{model}: loading key {key:?} took longer than the load timeout of {after:?}")]
    LoadTimeout {
        /// The model name.
        model: Arc<str>,
        /// The logical key, shortened.
        key: String,
        /// The load timeout.
        after: std::time::Duration,
    },
    /// Two handles of one model name with unrelated versions in one cache: two Rust types
    /// share a model name (or an old and a new struct of one model are used side by side
    /// without registering one on the other).
    #[error(
        "model name {model:?} is used by two unrelated versions in one cache ({version} and \
         {other}): give one of the types its own name with #[cache_version(name = \"...\")], \
         or register the older one on the newer handle with migrate_from or dual_write_to \
         (separate caches can hold separate builds' handles)"
    )]
    ModelConflict {
        /// The model name.
        model: Arc<str>,
        /// This handle's key version.
        version: String,
        /// The key version of the other handle in this cache.
        other: String,
    },
    /// `get_or_load` of a key was called from inside the loader of that same key (it would
    /// wait for itself).
    #[error(
        "{model}: get_or_load of key {key:?} was called from inside its own loader; load the \
         value directly there (or use get) instead"
    )]
    Reentrant {
        /// The model name.
        model: Arc<str>,
        /// The logical key, shortened.
        key: String,
    },
}

impl CacheError {
    /// The model name.
    pub fn model(&self) -> &str {
        match self {
            CacheError::KeyTooLong { model, .. }
            | CacheError::Store { model, .. }
            | CacheError::Decode { model, .. }
            | CacheError::VersionMismatch { model, .. }
            | CacheError::Encode { model, .. }
            | CacheError::ValueTooLarge { model, .. }
            | CacheError::Load { model, .. }
            | CacheError::LoadTimeout { model, .. }
            | CacheError::ModelConflict { model, .. }
            | CacheError::Reentrant { model, .. } => model,
        }
    }

    /// The logical key as shown in the message.
    pub fn key(&self) -> &str {
        match self {
            CacheError::KeyTooLong { key, .. }
            | CacheError::Store { key, .. }
            | CacheError::Decode { key, .. }
            | CacheError::VersionMismatch { key, .. }
            | CacheError::Encode { key, .. }
            | CacheError::ValueTooLarge { key, .. }
            | CacheError::Load { key, .. }
            | CacheError::LoadTimeout { key, .. }
            | CacheError::Reentrant { key, .. } => key,
            CacheError::ModelConflict { .. } => "",
        }
    }
}

/// Why a stored value could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The envelope was missing or cut short.
    #[error(transparent)]
    Envelope(EnvelopeError),
    /// The payload did not decode.
    #[error(transparent)]
    Codec(CodecError),
    /// The stored value is larger than this cache's `max_value_len`: not decoded (a reader
    /// never spends more than its limit on one value, whoever wrote it).
    #[error("the stored value is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// The stored size (envelope included).
        size: usize,
        /// The limit.
        limit: usize,
    },
}

/// An invalid cache or model configuration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No namespace was set (namespaces keep services apart in a shared store).
    #[error("the cache needs a namespace: call CacheBuilder::namespace")]
    MissingNamespace,
    /// A namespace or model name is not usable in keys.
    #[error(transparent)]
    Name(#[from] NameError),
    /// The TTL jitter is not a fraction in `0.0..1.0`.
    #[error("the TTL jitter must be a fraction in 0.0..1.0, got {0}")]
    Jitter(f64),
    /// The eager-refresh fraction is not in `0.0..1.0` (exclusive).
    #[error("the eager-refresh fraction must be between 0.0 and 1.0 (exclusive), got {0}")]
    EagerRefresh(f64),
    /// The operation timeout is zero.
    #[error("the operation timeout must be above zero")]
    ZeroTimeout,
    /// A size limit is zero.
    #[error("the {0} limit must be above zero")]
    ZeroLimit(&'static str),
    /// The local tier was asked for on a store that cannot report changes to its keys
    /// ([`Store::watch`](crate::Store::watch) returned `None`): its entries could not be kept
    /// coherent with the store.
    #[error(
        "the local tier needs a store that reports changes to its keys (Store::watch); this \
         store does not, so local entries could go stale unseen"
    )]
    LocalTierNeedsWatch,
    /// The local tier was asked for with the envelope turned off: without the envelope's
    /// logical expiry a local entry could outlive the entry in the store.
    #[error(
        "the local tier needs the value envelope (its logical expiry bounds a local entry's \
         life); do not turn the envelope off with a local tier"
    )]
    LocalTierNeedsEnvelope,
}
