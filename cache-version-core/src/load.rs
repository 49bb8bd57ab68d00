//! What a loader of [`crate::ModelHandle::get_or_load`] returns, and the error it returns.
//!
//! A loader returns its value (`T`), a [`Loaded<T>`] that says how to cache it, or either in a
//! `Result` with the loader's own error type:
//!
//! ```
//! use cache_version_core::{Loaded, MemoryStore, Cache};
//! # use cache_version_core::CacheVersion;
//! # #[derive(Clone, serde::Serialize, serde::Deserialize, CacheVersion)] struct User { id: u64 }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! # let cache = Cache::builder(MemoryStore::new()).namespace("doc").build().unwrap();
//! let users = cache.model::<User>();
//! // Infallible: no `Ok::<_, E>` needed.
//! let a = users.get_or_load("1", || async { User { id: 1 } }).await?;
//! // Fallible, with your own error type, which comes back typed.
//! let b = users.get_or_load("2", || async { Ok::<_, std::io::Error>(User { id: 2 }) }).await;
//! // "Do not cache this one" (a placeholder while the record is being created, say).
//! let c = users.get_or_load("3", || async { Loaded::uncached(User { id: 3 }) }).await?;
//! assert!(users.get("3").await?.is_none());
//! # let _ = (a, b, c);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::CacheError;

/// A loaded value and how to cache it: what a loader returns when the default (cache it with
/// the handle's TTL) is not what it wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded<T> {
    pub(crate) value: T,
    pub(crate) cache: bool,
    /// `None`: the handle's default TTL; `Some(None)`: no expiry.
    pub(crate) ttl: Option<Option<Duration>>,
}

impl<T> Loaded<T> {
    /// Cache `value` with the handle's default TTL (what returning `value` alone does).
    pub fn new(value: T) -> Self {
        Loaded {
            value,
            cache: true,
            ttl: None,
        }
    }

    /// Return `value` to the callers of this load, but do not write it to the store.
    pub fn uncached(value: T) -> Self {
        Loaded {
            value,
            cache: false,
            ttl: None,
        }
    }

    /// Cache `value` with `ttl` (jittered like every TTL) instead of the handle's default.
    pub fn with_ttl(value: T, ttl: Duration) -> Self {
        Loaded {
            value,
            cache: true,
            ttl: Some(Some(ttl)),
        }
    }

    /// Whether the value will be written to the store.
    pub fn is_cached(&self) -> bool {
        self.cache
    }

    /// The value.
    pub fn into_value(self) -> T {
        self.value
    }
}

/// What a loader's future may output for a model `T`: `T`, [`Loaded<T>`],
/// `Result<T, E>` or `Result<Loaded<T>, E>`.
pub trait LoadOutput<T> {
    /// The loader's error type ([`Infallible`] for the first two).
    type Error;

    /// The value and how to cache it, or the loader's error.
    fn into_loaded(self) -> Result<Loaded<T>, Self::Error>;
}

impl<T> LoadOutput<T> for T {
    type Error = Infallible;
    fn into_loaded(self) -> Result<Loaded<T>, Infallible> {
        Ok(Loaded::new(self))
    }
}

impl<T> LoadOutput<T> for Loaded<T> {
    type Error = Infallible;
    fn into_loaded(self) -> Result<Loaded<T>, Infallible> {
        Ok(self)
    }
}

impl<T, E> LoadOutput<T> for Result<T, E> {
    type Error = E;
    fn into_loaded(self) -> Result<Loaded<T>, E> {
        self.map(Loaded::new)
    }
}

impl<T, E> LoadOutput<T> for Result<Loaded<T>, E> {
    type Error = E;
    fn into_loaded(self) -> Result<Loaded<T>, E> {
        self
    }
}

/// The error of [`crate::ModelHandle::get_or_load`]: the loader's own error, typed, or an
/// error of the cache.
///
/// The loader's error is shared (an [`Arc`]) because every caller waiting on the same load
/// gets it. `?` converts a `LoadError<E>` into a [`CacheError`] (as [`CacheError::Load`])
/// when `E` is a `std::error::Error`, and into a `Box<dyn Error>` whenever `E` is
/// `Display + Debug`.
#[derive(Debug)]
#[non_exhaustive]
pub enum LoadError<E> {
    /// The loader failed: this caller's, or the one it waited on (single-flight).
    Loader {
        /// The model name.
        model: Arc<str>,
        /// The logical key, shortened for display.
        key: String,
        /// The loader's error.
        error: Arc<E>,
    },
    /// The cache failed: the key or the value was refused, the load did not finish within
    /// the load timeout, the call re-entered its own load, or (failing closed) the store or
    /// a stored value failed.
    Cache(CacheError),
}

impl<E> LoadError<E> {
    /// The loader's error, if that is what this is.
    pub fn loader_error(&self) -> Option<&E> {
        match self {
            LoadError::Loader { error, .. } => Some(error),
            LoadError::Cache(_) => None,
        }
    }

    /// The cache's error, if that is what this is.
    pub fn cache_error(&self) -> Option<&CacheError> {
        match self {
            LoadError::Cache(e) => Some(e),
            LoadError::Loader { .. } => None,
        }
    }

    /// Whether the load ran out of time ([`CacheError::LoadTimeout`]).
    pub fn is_timeout(&self) -> bool {
        matches!(self, LoadError::Cache(CacheError::LoadTimeout { .. }))
    }
}

impl<E> From<CacheError> for LoadError<E> {
    fn from(e: CacheError) -> Self {
        LoadError::Cache(e)
    }
}

impl<E: fmt::Display> fmt::Display for LoadError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Loader { model, key, error } => {
                write!(f, "{model}: loading key {key:?} failed: {error}")
            }
            LoadError::Cache(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl<E: fmt::Display + fmt::Debug> std::error::Error for LoadError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadError::Loader { .. } => None,
            LoadError::Cache(e) => Some(e),
        }
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<LoadError<E>> for CacheError {
    fn from(e: LoadError<E>) -> Self {
        match e {
            LoadError::Loader { model, key, error } => CacheError::Load {
                model,
                key,
                source: error,
            },
            LoadError::Cache(e) => e,
        }
    }
}
