//! [`RedisConfig`]: timeouts, scan and batch sizes.

use std::time::Duration;

/// How [`crate::RedisStore`] sends batches (`get_many`, `set_many`, `delete_many`) to a Redis
/// Cluster, where a multi-key command or a pipeline routed by the cluster client may only
/// hold keys of one hash slot.
///
/// Measured with `redis_bench --cluster` (3 local primaries, 100 keys of 1 KB per batch,
/// 16 tasks, 2 cores), batches per second:
///
/// | | per slot | per key | per node |
/// |---|---|---|---|
/// | `set_many`, keys spread over all slots | 959 | 1030 | 3753 |
/// | `delete_many`, spread | 1586 | 1514 | 11394 |
/// | `get_many`, spread | 1914 | 1944 | 5209 |
/// | `set_many`, one hash tag | 3843 | 1419 | 3682 |
/// | `delete_many`, one hash tag | 35301 | 1698 | 31784 |
/// | `get_many`, one hash tag | 7557 | 6439 | 8286 |
///
/// Per node is the default: 2.6-7.5 times per key for spread keys, and as fast as per slot
/// for hash-tagged keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClusterWrites {
    /// One pipeline per primary (from a cached copy of `CLUSTER SLOTS`): `SET`s, and an
    /// `MGET`/`UNLINK` per slot. A group whose primary no longer owns all its slots (the
    /// topology changed) is redone per slot, and the copy is read again; such a redone
    /// `delete_many` deletes every key but may count fewer than existed.
    #[default]
    PerNode,
    /// One pipeline (`SET`s) or command (`MGET`, `UNLINK`) per hash slot, all at once.
    PerSlot,
    /// One command per key, all at once (`MGET` is split per slot by the cluster client).
    PerKey,
}

/// The settings of a [`crate::RedisStore`]. Start from [`RedisConfig::default`] and change
/// fields, or use the setters of [`crate::RedisStoreBuilder`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RedisConfig {
    /// The bound on one attempt to open a connection (initial connect and each background
    /// reconnect). Default: 1 s.
    pub connect_timeout: Duration,
    /// The bound on one attempt of an operation, from the call to the answer, including the
    /// wait for a connection being re-established. An operation retried once after a dropped
    /// connection gets a second bound. A batch sends its chunks a few at a time
    /// ([`batch_concurrency`](Self::batch_concurrency)) and each chunk gets this bound from
    /// when it is sent, so a big batch is not cut short by it. Default: 500 ms.
    ///
    /// The store reports twice this (standalone: one attempt and one retry) or this (cluster)
    /// as its [`call_bound`](cache_version_core::Store::call_bound) for single-key calls: a
    /// cache whose timeout is at least that long may rely on it instead of starting a timer
    /// of its own per call.
    pub response_timeout: Duration,
    /// How many more times the first connection is tried (with exponential backoff from
    /// 100 ms) before [`build`](crate::RedisStoreBuilder::build) fails. Once running (and
    /// with [`build_lazy`](crate::RedisStoreBuilder::build_lazy)), a standalone store
    /// reconnects in the background for as long as it lives, with backoff up to
    /// [`max_reconnect_delay`](Self::max_reconnect_delay). Errors that retrying cannot fix
    /// (credentials, ACL, database number) are never retried. Default: 2.
    pub reconnect_retries: usize,
    /// The longest wait between two background connection attempts (the wait doubles from
    /// 100 ms up to this). Default: 1 s.
    pub max_reconnect_delay: Duration,
    /// `COUNT` of `SCAN` when a caller passes a count of 0. Default: 1000.
    pub scan_count: usize,
    /// Keys per `UNLINK` in `delete_many`. Default: 500.
    pub unlink_chunk: usize,
    /// Keys per `MGET` and `SET`s per pipeline in `get_many`/`set_many` (chunks are sent
    /// [`batch_concurrency`](Self::batch_concurrency) at a time). Default: 1000.
    pub batch_chunk: usize,
    /// The most bytes (keys and values) of `SET`s in one pipeline: a chunk ends at
    /// [`batch_chunk`](Self::batch_chunk) entries or at this size, whichever comes first
    /// (an entry larger than this goes alone). Default: 1 MiB.
    pub batch_bytes: usize,
    /// How many chunks of one batch are in flight at once (per node of a cluster). Each
    /// chunk's [`response_timeout`](Self::response_timeout) starts when it is sent, so a
    /// batch of any size succeeds as long as each chunk does; the whole batch takes about
    /// `chunks / batch_concurrency` chunk round trips, and holds at most this many encoded
    /// chunks (`batch_concurrency * batch_bytes`, 4 MiB by default) in memory on top of the
    /// caller's entries. Default: 4.
    pub batch_concurrency: usize,
    /// How batches reach a cluster. Default: [`ClusterWrites::PerNode`].
    pub cluster_writes: ClusterWrites,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            connect_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_millis(500),
            reconnect_retries: 2,
            max_reconnect_delay: Duration::from_secs(1),
            scan_count: 1000,
            unlink_chunk: 500,
            batch_chunk: 1000,
            batch_bytes: 1 << 20,
            batch_concurrency: 4,
            cluster_writes: ClusterWrites::default(),
        }
    }
}

impl RedisConfig {
    /// Clamps sizes to at least 1 and timeouts to at least 1 ms.
    pub(crate) fn normalized(mut self) -> Self {
        self.connect_timeout = self.connect_timeout.max(Duration::from_millis(1));
        self.response_timeout = self.response_timeout.max(Duration::from_millis(1));
        self.scan_count = self.scan_count.max(1);
        self.unlink_chunk = self.unlink_chunk.max(1);
        self.batch_chunk = self.batch_chunk.max(1);
        self.batch_bytes = self.batch_bytes.max(1);
        self.batch_concurrency = self.batch_concurrency.max(1);
        self.max_reconnect_delay = self.max_reconnect_delay.max(Duration::from_millis(1));
        self
    }
}
