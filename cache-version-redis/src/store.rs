//! [`RedisStore`]: the store, its connection and its operations.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cache_version_core::{
    HashFields, ScanCursor, ScanPage, SetEntry, Store, StoreError, ValueAndTtl, Watch,
};
use futures_util::future::try_join_all;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use redis::aio::{ConnectionLike, ConnectionManager, MultiplexedConnection};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};

use crate::builder::{RedisStoreBuilder, Target};
use crate::cluster::{by_node, by_slot, Primaries, Topology};
use crate::config::{ClusterWrites, RedisConfig};
use crate::error::{ErrorKind, RedisStoreError, Secrets};
use crate::keys::{prefix_pattern, run_id_of, Position};
use crate::link::Link;

/// A [`Store`] on Redis: one server, or a Redis Cluster.
///
/// Cloning is cheap and shares the connection. See the [crate documentation](crate) for how
/// each operation maps to commands, and [`RedisStoreBuilder`] for the settings.
///
/// ```no_run
/// use cache_version_redis::RedisStore;
/// use std::time::Duration;
///
/// # async fn f() -> Result<(), cache_version_redis::RedisStoreError> {
/// let store = RedisStore::builder("redis://app:secret@127.0.0.1:6379/0")
///     .response_timeout(Duration::from_millis(200))
///     .build()
///     .await?;
/// let cluster = RedisStore::cluster_builder(["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"])
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Conn,
    config: RedisConfig,
    /// What the store connects to, passwords redacted (for `Debug`).
    target: Vec<String>,
    secrets: Secrets,
    /// The cluster's slot owners, for [`ClusterWrites::PerNode`]; dropped when a grouped
    /// request fails, read again on the next use.
    topology: std::sync::Mutex<Option<Arc<Topology>>>,
    /// Requests sent (each attempt of each command or pipeline), for tests.
    round_trips: AtomicU64,
    /// `INFO` is denied by the server's ACL: scans cannot see a restart.
    no_info: AtomicBool,
    /// How to open tracking connections ([`Store::watch`]); `None` for a store on a
    /// connection the caller made.
    tracking: Option<crate::tracking::Target>,
}

/// How the store reaches Redis.
pub(crate) enum Conn {
    /// One server, through the store's own reconnecting link.
    Standalone(Link<MultiplexedConnection>),
    /// One server, through a manager the caller made.
    Manager(ConnectionManager),
    /// A cluster; the link only makes the first connection (the cluster client repairs its
    /// node connections by itself).
    Cluster(Link<ClusterConnection>),
}

/// A connection for one attempt: cheap to clone (all are handles to shared state).
#[derive(Clone)]
enum Handle {
    Multiplexed(MultiplexedConnection),
    Manager(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Handle {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Handle::Multiplexed(c) => c.req_packed_command(cmd),
            Handle::Manager(c) => c.req_packed_command(cmd),
            Handle::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Handle::Multiplexed(c) => c.req_packed_commands(pipeline, offset, count),
            Handle::Manager(c) => c.req_packed_commands(pipeline, offset, count),
            Handle::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Handle::Multiplexed(c) => c.get_db(),
            Handle::Manager(c) => c.get_db(),
            Handle::Cluster(c) => c.get_db(),
        }
    }
}

/// Why one attempt failed.
enum Failure {
    /// Before anything was sent (the link is down): final.
    Store(StoreError),
    /// The driver's error.
    Redis(redis::RedisError),
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.inner.conn {
            Conn::Standalone(_) | Conn::Manager(_) => "standalone",
            Conn::Cluster(_) => "cluster",
        };
        f.debug_struct("RedisStore")
            .field("mode", &mode)
            .field("target", &self.inner.target)
            .field("connected", &self.is_connected())
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Whether an error means the connection dropped (so a retry on the re-established connection
/// may succeed), as opposed to a timeout, an answer of the server, or refused credentials.
fn connection_dropped(e: &redis::RedisError) -> bool {
    !e.is_timeout()
        && e.kind() != redis::ErrorKind::AuthenticationFailed
        && (e.is_connection_dropped() || e.is_unrecoverable_error())
}

/// The longest `PX` sent (about 73 million years): Redis refuses an expiry time that
/// overflows when added to its clock.
const MAX_PX: u64 = 1 << 61;

/// How many slot or key groups of one cluster batch are in flight at once with
/// [`ClusterWrites::PerSlot`] and [`ClusterWrites::PerKey`].
const CLUSTER_GROUPS_IN_FLIGHT: usize = 64;

/// `PX` milliseconds of a TTL: at least 1, at most [`MAX_PX`].
fn ttl_millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis())
        .unwrap_or(MAX_PX)
        .clamp(1, MAX_PX)
}

fn set_cmd(pipe: &mut Pipeline, key: &[u8], value: &[u8], ttl: Option<Duration>) {
    let c = pipe.cmd("SET").arg(key).arg(value);
    if let Some(ttl) = ttl {
        c.arg("PX").arg(ttl_millis(ttl));
    }
}

fn unlink_cmd<'a>(pipe: &mut Pipeline, keys: impl IntoIterator<Item = &'a Vec<u8>>) {
    let c = pipe.cmd("UNLINK");
    for k in keys {
        c.arg(k.as_slice());
    }
}

/// Runs `futs` at most `limit` at a time (in order); the first error ends the run.
///
/// Takes the futures collected (not an iterator of closures, which trips the compiler's
/// `Send` check of the callers' futures); each builds its command when first polled, so
/// only `limit` encoded commands exist at once.
async fn bounded<T, F>(futs: Vec<F>, limit: usize) -> Result<Vec<T>, StoreError>
where
    F: Future<Output = Result<T, StoreError>>,
{
    stream::iter(futs)
        .buffered(limit.max(1))
        .try_collect()
        .await
}

/// Splits `entries` into chunks of at most `max` entries and, past the first entry of a
/// chunk, at most `bytes` bytes of keys and values.
fn chunk_entries<'a, 'b>(
    entries: &'b [&'a SetEntry],
    max: usize,
    bytes: usize,
) -> Vec<&'b [&'a SetEntry]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut size = 0;
    for (i, e) in entries.iter().enumerate() {
        let len = e.key.len() + e.value.len();
        if i > start && (i - start >= max || size + len > bytes) {
            out.push(&entries[start..i]);
            start = i;
            size = 0;
        }
        size += len;
    }
    if start < entries.len() {
        out.push(&entries[start..]);
    }
    out
}

fn protocol_error(message: impl Into<String>) -> StoreError {
    StoreError::backend(RedisStoreError::new(ErrorKind::Protocol, message))
}

/// The bytes of a bulk or verbatim string.
fn value_bytes(v: &Value) -> Option<&[u8]> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        Value::VerbatimString { text, .. } => Some(text.as_bytes()),
        _ => None,
    }
}

/// The fields of an `HGETALL` answer (a flat array, or a RESP3 map), sorted by field.
fn parse_hash(v: &Value) -> Option<HashFields> {
    let mut out: HashFields = match v {
        Value::Array(items) => items
            .chunks(2)
            .map(|pair| match pair {
                [f, v] => Some((value_bytes(f)?.to_vec(), value_bytes(v)?.to_vec())),
                _ => None,
            })
            .collect::<Option<_>>()?,
        Value::Map(pairs) => pairs
            .iter()
            .map(|(f, v)| Some((value_bytes(f)?.to_vec(), value_bytes(v)?.to_vec())))
            .collect::<Option<_>>()?,
        Value::Nil => Vec::new(),
        _ => return None,
    };
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Some(out)
}

/// The sum of the `UNLINK` answers among `values`.
fn unlinked(values: &[Value]) -> u64 {
    values
        .iter()
        .map(|v| match v {
            Value::Int(n) => u64::try_from(*n).unwrap_or(0),
            _ => 0,
        })
        .sum()
}

impl RedisStore {
    /// A builder for a store on one server (or a managed endpoint that proxies a cluster).
    ///
    /// ```
    /// let builder = cache_version_redis::RedisStore::builder("redis://127.0.0.1:6379/0");
    /// ```
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder::new(Target::Standalone(url.into()))
    }

    /// A builder for a store on a Redis Cluster, from the URLs of some of its nodes (any
    /// items that are strings: `&str`, `String`, …).
    ///
    /// ```
    /// use cache_version_redis::RedisStore;
    ///
    /// let builder = RedisStore::cluster_builder(["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"]);
    /// let urls = vec![String::from("redis://127.0.0.1:7000")];
    /// let builder = RedisStore::cluster_builder(&urls);
    /// ```
    pub fn cluster_builder<I>(urls: I) -> RedisStoreBuilder
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        RedisStoreBuilder::new(Target::Cluster(
            urls.into_iter().map(|u| u.as_ref().to_owned()).collect(),
        ))
    }

    /// Connects to one server with the default settings (see [`RedisStoreBuilder::build`]).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), cache_version_redis::RedisStoreError> {
    /// let store = cache_version_redis::RedisStore::open("redis://127.0.0.1:6379").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`RedisStoreBuilder::build`]: [`ErrorKind::Config`](crate::ErrorKind::Config) for
    /// an invalid URL or a database number the server does not have,
    /// [`ErrorKind::Connection`](crate::ErrorKind::Connection) /
    /// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) when no server answered on any try,
    /// [`ErrorKind::Auth`](crate::ErrorKind::Auth) /
    /// [`ErrorKind::Permission`](crate::ErrorKind::Permission) for refused credentials or
    /// ACL.
    pub async fn open(url: impl Into<String>) -> Result<RedisStore, RedisStoreError> {
        RedisStore::builder(url).build().await
    }

    /// Connects to a cluster with the default settings (see [`RedisStoreBuilder::build`]).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), cache_version_redis::RedisStoreError> {
    /// let store = cache_version_redis::RedisStore::open_cluster(&["redis://127.0.0.1:7000"]).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`RedisStoreBuilder::build`]: [`ErrorKind::Config`](crate::ErrorKind::Config) for
    /// an empty list or an invalid URL in it,
    /// [`ErrorKind::Connection`](crate::ErrorKind::Connection) /
    /// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) when no node answered on any try,
    /// [`ErrorKind::Auth`](crate::ErrorKind::Auth) /
    /// [`ErrorKind::Permission`](crate::ErrorKind::Permission) for refused credentials or
    /// ACL.
    pub async fn open_cluster<I>(urls: I) -> Result<RedisStore, RedisStoreError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        RedisStore::cluster_builder(urls).build().await
    }

    /// A store on an existing [`ConnectionManager`], which reconnects by its own rules (the
    /// store still retries an operation once after a dropped connection). Operations are
    /// bounded by `config.response_timeout` on top of whatever the manager was built with.
    ///
    /// ```no_run
    /// use cache_version_redis::{redis, RedisConfig, RedisStore};
    ///
    /// # async fn f() -> Result<(), redis::RedisError> {
    /// let client = redis::Client::open("redis://127.0.0.1:6379")?;
    /// let manager = redis::aio::ConnectionManager::new(client).await?;
    /// let store = RedisStore::from_connection_manager(manager, RedisConfig::default());
    /// # Ok(()) }
    /// ```
    pub fn from_connection_manager(manager: ConnectionManager, config: RedisConfig) -> Self {
        RedisStore::with_conn(
            Conn::Manager(manager),
            config.normalized(),
            vec!["<existing ConnectionManager>".into()],
            Secrets::default(),
            None,
        )
    }

    /// A store on an existing cluster connection. Operations are bounded by
    /// `config.response_timeout` on top of the cluster client's own timeouts.
    ///
    /// ```no_run
    /// use cache_version_redis::{redis, RedisConfig, RedisStore};
    ///
    /// # async fn f() -> Result<(), redis::RedisError> {
    /// let client = redis::cluster::ClusterClient::new(vec!["redis://127.0.0.1:7000"])?;
    /// let conn = client.get_async_connection().await?;
    /// let store = RedisStore::from_cluster_connection(conn, RedisConfig::default());
    /// # Ok(()) }
    /// ```
    pub fn from_cluster_connection(conn: ClusterConnection, config: RedisConfig) -> Self {
        RedisStore::with_conn(
            Conn::Cluster(Link::fixed(conn, "<existing ClusterConnection>".into())),
            config.normalized(),
            vec!["<existing ClusterConnection>".into()],
            Secrets::default(),
            None,
        )
    }

    pub(crate) fn with_conn(
        conn: Conn,
        config: RedisConfig,
        target: Vec<String>,
        secrets: Secrets,
        tracking: Option<redis::ConnectionInfo>,
    ) -> Self {
        let tracking = tracking.map(|info| crate::tracking::Target {
            info,
            cluster: matches!(conn, Conn::Cluster(_)),
            connect_timeout: config.connect_timeout,
            response_timeout: config.response_timeout,
            max_delay: config.max_reconnect_delay,
            secrets: secrets.clone(),
        });
        RedisStore {
            inner: Arc::new(Inner {
                conn,
                config,
                target,
                secrets,
                topology: std::sync::Mutex::new(None),
                round_trips: AtomicU64::new(0),
                no_info: AtomicBool::new(false),
                tracking,
            }),
        }
    }

    /// How a cluster watch reads the primaries: `CLUSTER SLOTS` through this store's cluster
    /// connection, held weakly (the watch ends when the store is dropped).
    fn primaries_reader(&self, fallback_host: String) -> crate::tracking::Primaries {
        use crate::tracking::Read;
        let weak = Arc::downgrade(&self.inner);
        Arc::new(move || {
            let weak = weak.clone();
            let fallback_host = fallback_host.clone();
            Box::pin(async move {
                let Some(inner) = weak.upgrade() else {
                    return Read::Gone;
                };
                let store = RedisStore { inner };
                match store.cluster_slots().await {
                    Ok(v) => match crate::cluster::primary_endpoints(&v, &fallback_host) {
                        Some(nodes) => Read::Nodes(nodes),
                        None => Read::Failed,
                    },
                    Err(_) => Read::Failed,
                }
            })
        })
    }

    /// The settings.
    pub fn config(&self) -> &RedisConfig {
        &self.inner.config
    }

    /// Whether the store talks to a Redis Cluster.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), cache_version_redis::RedisStoreError> {
    /// use cache_version_redis::RedisStore;
    ///
    /// let store = RedisStore::open_cluster(["redis://127.0.0.1:7000"]).await?;
    /// assert!(store.is_cluster());
    /// # Ok(()) }
    /// ```
    pub fn is_cluster(&self) -> bool {
        matches!(self.inner.conn, Conn::Cluster(_))
    }

    /// Whether the store holds a connection now: `false` while a lazily built store has not
    /// connected yet, and while a standalone store reconnects. For readiness probes; an
    /// operation may still fail on a connection that just dropped. (A store on a
    /// caller's `ConnectionManager` always says `true`.)
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), cache_version_redis::RedisStoreError> {
    /// let store = cache_version_redis::RedisStore::builder("redis://127.0.0.1").build_lazy()?;
    /// if !store.is_connected() {
    ///     // Serving from the loaders until Redis is up.
    /// }
    /// # Ok(()) }
    /// ```
    pub fn is_connected(&self) -> bool {
        match &self.inner.conn {
            Conn::Standalone(link) => link.is_up(),
            Conn::Manager(_) => true,
            Conn::Cluster(link) => link.is_up(),
        }
    }

    /// Sends `PING` (to a random node of a cluster).
    ///
    /// ```no_run
    /// # async fn f(store: cache_version_redis::RedisStore) -> Result<(), cache_version_core::StoreError> {
    /// store.ping().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Each with the [`RedisStoreError`] as its source:
    /// - [`StoreError::Unavailable`]: the server cannot be reached or the connection dropped
    ///   (also at once while a lazily built store is not connected yet), or it refused the
    ///   credentials;
    /// - [`StoreError::Timeout`]: it did not answer within the response timeout;
    /// - [`StoreError::Backend`]: it answered with an error (the user's ACL does not allow
    ///   `PING`, say).
    pub async fn ping(&self) -> Result<(), StoreError> {
        let cmd = redis::cmd("PING");
        self.query::<()>(&cmd).await
    }

    /// For tests: how many requests the store has sent (each attempt of each command or
    /// pipeline; the cluster client may split one, an `MGET` over several slots for
    /// instance). Not API.
    #[doc(hidden)]
    pub fn round_trips_for_tests(&self) -> u64 {
        self.inner.round_trips.load(Ordering::Relaxed)
    }

    fn map_err(&self, e: &redis::RedisError) -> StoreError {
        let e = RedisStoreError::from_redis(e, &self.inner.secrets);
        match e.kind() {
            ErrorKind::Timeout => StoreError::Timeout(self.inner.config.response_timeout),
            ErrorKind::Connection | ErrorKind::Auth => StoreError::unavailable(e),
            _ => StoreError::backend(e),
        }
    }

    /// One attempt of `op`: gets a connection (failing at once while the link is down), sends,
    /// and reports a dropped connection to the link.
    async fn attempt<T, F, Fut>(&self, op: &mut F) -> Result<T, Failure>
    where
        F: FnMut(Handle) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let (handle, generation) = match &self.inner.conn {
            Conn::Standalone(link) => {
                let (c, g) = link.get().await.map_err(Failure::Store)?;
                (Handle::Multiplexed(c), Some(g))
            }
            Conn::Manager(m) => (Handle::Manager(m.clone()), None),
            Conn::Cluster(link) => (
                Handle::Cluster(link.get().await.map_err(Failure::Store)?.0),
                None,
            ),
        };
        self.inner.round_trips.fetch_add(1, Ordering::Relaxed);
        op(handle).await.map_err(|e| {
            if let (Conn::Standalone(link), Some(g)) = (&self.inner.conn, generation) {
                if connection_dropped(&e) {
                    link.broken(g);
                }
            }
            Failure::Redis(e)
        })
    }

    /// Runs `op` within the response timeout (the wait for a connection being re-established
    /// included); on one server, once more when the connection dropped (every operation of
    /// the store is idempotent: reads, `SET`s of a given value, `UNLINK`, `SCAN`, `HSET` of a
    /// given value). Errors that retrying cannot fix are never retried. The cluster client
    /// retries by itself.
    async fn run<T, F, Fut>(&self, mut op: F) -> Result<T, StoreError>
    where
        F: FnMut(Handle) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let bound = self.inner.config.response_timeout;
        let first = tokio::time::timeout(bound, self.attempt(&mut op)).await;
        match first {
            Ok(Ok(v)) => Ok(v),
            Err(_) => Err(StoreError::Timeout(bound)),
            Ok(Err(Failure::Store(e))) => Err(e),
            Ok(Err(Failure::Redis(e))) if !self.is_cluster() && connection_dropped(&e) => {
                // Boxed: the retry is rare, and inlining a second attempt's future doubled the
                // size of every operation's future.
                let retry = Box::pin(tokio::time::timeout(bound, self.attempt(&mut op)));
                match retry.await {
                    Ok(Ok(v)) => Ok(v),
                    Ok(Err(Failure::Store(e))) => Err(e),
                    Ok(Err(Failure::Redis(e))) => Err(self.map_err(&e)),
                    Err(_) => Err(StoreError::Timeout(bound)),
                }
            }
            Ok(Err(Failure::Redis(e))) => Err(self.map_err(&e)),
        }
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &Cmd) -> Result<T, StoreError> {
        self.run(|mut c| async move { cmd.query_async::<T>(&mut c).await })
            .await
    }

    async fn query_pipe<T: redis::FromRedisValue>(&self, pipe: &Pipeline) -> Result<T, StoreError> {
        self.run(|mut c| async move { pipe.query_async::<T>(&mut c).await })
            .await
    }

    /// The raw answers of a pipeline of `count` commands, server errors included as values:
    /// on one server, or on the primary that owns `slot` of a cluster.
    async fn pipeline_values(
        &self,
        pipe: &Pipeline,
        count: usize,
        slot: Option<u16>,
    ) -> Result<Vec<Value>, StoreError> {
        self.run(|c| async move {
            match (c, slot) {
                (Handle::Cluster(mut c), Some(slot)) => {
                    let route =
                        SingleNodeRoutingInfo::SpecificNode(Route::new(slot, SlotAddr::Master));
                    c.route_pipeline(pipe.clone(), 0, count, route).await
                }
                (mut c, _) => c.req_packed_commands(pipe, 0, count).await,
            }
        })
        .await
    }

    /// Sends `cmd` to the primary that owns `slot` (cluster only).
    async fn query_slot<T: redis::FromRedisValue>(
        &self,
        cmd: &Cmd,
        slot: u16,
    ) -> Result<T, StoreError> {
        let value = self
            .run(|c| async move {
                match c {
                    Handle::Cluster(mut c) => {
                        let route = Route::new(slot, SlotAddr::Master);
                        c.route_command(
                            cmd.clone(),
                            RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route)),
                        )
                        .await
                    }
                    mut c => cmd.query_async::<Value>(&mut c).await,
                }
            })
            .await?;
        redis::from_redis_value(value).map_err(|e| self.map_err(&e.into()))
    }

    /// `CLUSTER SLOTS` from any node.
    async fn cluster_slots(&self) -> Result<Value, StoreError> {
        let mut cmd = redis::cmd("CLUSTER");
        cmd.arg("SLOTS");
        let cmd = &cmd;
        self.run(|c| async move {
            match c {
                Handle::Cluster(mut c) => {
                    c.route_command(
                        cmd.clone(),
                        RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
                    )
                    .await
                }
                mut c => cmd.query_async::<Value>(&mut c).await,
            }
        })
        .await
    }

    fn bad_slots() -> StoreError {
        protocol_error("unexpected answer to CLUSTER SLOTS")
    }

    /// The primaries and the fingerprint of the slot map (from `CLUSTER SLOTS`).
    async fn primaries(&self) -> Result<Primaries, StoreError> {
        Primaries::from_value(&self.cluster_slots().await?).ok_or_else(Self::bad_slots)
    }

    /// The cached slot owners, read when missing.
    async fn topology(&self) -> Result<Arc<Topology>, StoreError> {
        if let Some(t) = self.inner.topology.lock().expect("not poisoned").clone() {
            return Ok(t);
        }
        let t = Arc::new(
            Topology::from_value(&self.cluster_slots().await?).ok_or_else(Self::bad_slots)?,
        );
        *self.inner.topology.lock().expect("not poisoned") = Some(t.clone());
        Ok(t)
    }

    /// For tests: replaces the cached slot owners with a wrong copy (every slot on one
    /// primary), so the next per-node batch meets `MOVED` and takes its fallback. Not API.
    #[doc(hidden)]
    pub fn scramble_topology_for_tests(&self) {
        *self.inner.topology.lock().expect("not poisoned") = Some(Arc::new(Topology {
            owner: vec![0; usize::from(crate::SLOTS)],
        }));
    }

    fn forget_topology(&self) {
        *self.inner.topology.lock().expect("not poisoned") = None;
    }

    /// Sends `pipe` (of `count` commands, all for keys of one primary) to the primary that
    /// owns `slot`. `None` when the grouping went stale (a command was answered with an error,
    /// `MOVED` for instance): the caller redoes the group another way.
    async fn node_pipeline(
        &self,
        pipe: &Pipeline,
        count: usize,
        slot: u16,
    ) -> Result<Option<Vec<Value>>, StoreError> {
        match self.pipeline_values(pipe, count, Some(slot)).await {
            Ok(values)
                if values.len() == count
                    && !values.iter().any(|v| matches!(v, Value::ServerError(_))) =>
            {
                Ok(Some(values))
            }
            // The slot map went stale: redo the group another way.
            Err(StoreError::Unavailable(e))
                if e.downcast_ref::<RedisStoreError>()
                    .is_some_and(RedisStoreError::is_cluster_error) =>
            {
                self.forget_topology();
                Ok(None)
            }
            Err(e @ (StoreError::Timeout(_) | StoreError::Unavailable(_))) => Err(e),
            _ => {
                self.forget_topology();
                Ok(None)
            }
        }
    }

    // -----------------------------------------------------------------------------------
    // Writes and deletes.

    /// `SET`s in one pipeline per chunk, [`RedisConfig::batch_concurrency`] chunks in flight
    /// (standalone, or keys of one slot of a cluster).
    async fn set_chunks(&self, entries: &[&SetEntry]) -> Result<(), StoreError> {
        let c = &self.inner.config;
        let chunks = chunk_entries(entries, c.batch_chunk, c.batch_bytes);
        match chunks.as_slice() {
            [] => Ok(()),
            [one] => self.send_sets(one).await,
            many => {
                let futs: Vec<_> = many.iter().map(|ch| self.send_sets(ch)).collect();
                Box::pin(bounded(futs, c.batch_concurrency)).await?;
                Ok(())
            }
        }
    }

    /// One pipeline of `SET`s, encoded when first polled (so at most `batch_concurrency`
    /// encoded chunks of a batch exist at once).
    async fn send_sets(&self, chunk: &[&SetEntry]) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        for e in chunk {
            set_cmd(&mut pipe, &e.key, &e.value, e.ttl);
            pipe.ignore();
        }
        self.query_pipe::<()>(&pipe).await
    }

    /// One `UNLINK`; how many of `keys` existed.
    async fn unlink(&self, keys: &[&Vec<u8>]) -> Result<u64, StoreError> {
        let mut cmd = redis::cmd("UNLINK");
        for k in keys {
            cmd.arg(k.as_slice());
        }
        self.query::<u64>(&cmd).await
    }

    /// One `MGET`.
    async fn mget(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let mut cmd = redis::cmd("MGET");
        for k in keys {
            cmd.arg(k.as_slice());
        }
        self.query::<Vec<Option<Vec<u8>>>>(&cmd).await
    }

    /// `UNLINK`s of up to `unlink_chunk` keys, `batch_concurrency` in flight (standalone, or
    /// keys of one slot of a cluster); returns how many existed.
    async fn unlink_chunks(&self, keys: &[&Vec<u8>]) -> Result<u64, StoreError> {
        let c = &self.inner.config;
        if keys.is_empty() {
            return Ok(0);
        }
        if keys.len() <= c.unlink_chunk {
            return self.unlink(keys).await;
        }
        let futs: Vec<_> = keys
            .chunks(c.unlink_chunk)
            .map(|k| self.unlink(k))
            .collect();
        let counts = Box::pin(bounded(futs, c.batch_concurrency)).await?;
        Ok(counts.into_iter().sum())
    }

    /// Writes then deletes, on one server or one slot of a cluster: one pipeline when both
    /// fit (at most one chunk of writes and `batch_chunk` deletes), else the writes in
    /// chunks, then the deletes.
    async fn write_same_node(
        &self,
        sets: &[&SetEntry],
        deletes: &[&Vec<u8>],
    ) -> Result<u64, StoreError> {
        let c = &self.inner.config;
        if sets.is_empty() && deletes.is_empty() {
            return Ok(0);
        }
        let fits = chunk_entries(sets, c.batch_chunk, c.batch_bytes).len() <= 1
            && deletes.len() <= c.batch_chunk;
        if !fits {
            self.set_chunks(sets).await?;
            return self.unlink_chunks(deletes).await;
        }
        let mut pipe = redis::pipe();
        for e in sets {
            set_cmd(&mut pipe, &e.key, &e.value, e.ttl);
            pipe.ignore();
        }
        for chunk in deletes.chunks(c.unlink_chunk) {
            unlink_cmd(&mut pipe, chunk.iter().copied());
        }
        let counts: Vec<u64> = self.query_pipe(&pipe).await?;
        Ok(counts.into_iter().sum())
    }

    /// Writes then deletes on a cluster, grouped per hash slot, groups concurrently.
    async fn write_per_slot(
        &self,
        sets: &[&SetEntry],
        deletes: &[&Vec<u8>],
    ) -> Result<u64, StoreError> {
        let mut groups: HashMap<u16, (Vec<&SetEntry>, Vec<&Vec<u8>>)> = HashMap::new();
        for e in sets {
            groups.entry(crate::key_slot(&e.key)).or_default().0.push(e);
        }
        for k in deletes {
            groups.entry(crate::key_slot(k)).or_default().1.push(k);
        }
        let futs: Vec<_> = groups
            .values()
            .map(|(s, d)| self.write_same_node(s, d))
            .collect();
        let counts = Box::pin(bounded(futs, CLUSTER_GROUPS_IN_FLIGHT)).await?;
        Ok(counts.into_iter().sum())
    }

    /// Writes then deletes on a cluster with one pipeline per primary (from the cached slot
    /// map) when a node's share fits one (at most one chunk of writes and `batch_chunk`
    /// deletes), else in chunks, the writes first; nodes concurrently. A group whose primary
    /// no longer owns all its slots (the map changed) is redone per slot.
    ///
    /// When the cached map is stale, part of a pipeline may run before the cluster answers
    /// `MOVED`; the group is then redone per slot, so every write lands and every key is
    /// deleted, but the keys the first attempt removed are not counted.
    async fn write_per_node(
        &self,
        sets: &[SetEntry],
        deletes: &[Vec<u8>],
    ) -> Result<u64, StoreError> {
        let topology = self.topology().await?;
        type Share<'a> = (u16, Vec<&'a SetEntry>, Vec<&'a Vec<u8>>);
        let mut nodes: HashMap<u16, Share<'_>> = HashMap::new();
        for (node, (slot, group)) in by_node(sets, |e| &e.key, &topology) {
            nodes
                .entry(node)
                .or_insert((slot, Vec::new(), Vec::new()))
                .1 = group;
        }
        for (node, (slot, group)) in by_node(deletes, |k| k, &topology) {
            nodes
                .entry(node)
                .or_insert((slot, Vec::new(), Vec::new()))
                .2 = group;
        }
        let counts = Box::pin(try_join_all(
            nodes
                .values()
                .map(|(slot, s, d)| self.write_node(*slot, s, d)),
        ))
        .await?;
        Ok(counts.into_iter().sum())
    }

    /// One primary's share of [`RedisStore::write_per_node`].
    async fn write_node(
        &self,
        slot: u16,
        sets: &[&SetEntry],
        deletes: &[&Vec<u8>],
    ) -> Result<u64, StoreError> {
        let c = &self.inner.config;
        let unlinks: Vec<Vec<&Vec<u8>>> = by_slot(deletes, |k| k)
            .into_iter()
            .flat_map(|same_slot| {
                same_slot
                    .chunks(c.unlink_chunk)
                    .map(|part| part.iter().map(|k| **k).collect::<Vec<_>>())
                    .collect::<Vec<_>>()
            })
            .collect();
        let set_chunks = chunk_entries(sets, c.batch_chunk, c.batch_bytes);
        // One pipeline: the writes, then an UNLINK per slot and chunk.
        let pipeline = |sets: &[&SetEntry], unlinks: &[Vec<&Vec<u8>>]| {
            let mut pipe = redis::pipe();
            for e in sets {
                set_cmd(&mut pipe, &e.key, &e.value, e.ttl);
            }
            for u in unlinks {
                unlink_cmd(&mut pipe, u.iter().copied());
            }
            (pipe, sets.len() + unlinks.len())
        };
        if set_chunks.len() <= 1 && deletes.len() <= c.batch_chunk {
            let (pipe, count) = pipeline(sets, &unlinks);
            return match self.node_pipeline(&pipe, count, slot).await? {
                Some(values) => Ok(unlinked(&values[sets.len()..])),
                None => self.write_per_slot(sets, deletes).await,
            };
        }
        // Writes first, in chunks; then the deletes, in pipelines of about `batch_chunk` keys.
        let writes: Vec<_> = set_chunks
            .iter()
            .map(|chunk| async move {
                let (pipe, count) = pipeline(chunk, &[]);
                if self.node_pipeline(&pipe, count, slot).await?.is_none() {
                    self.write_per_slot(chunk, &[]).await?;
                }
                Ok(())
            })
            .collect();
        Box::pin(bounded(writes, c.batch_concurrency)).await?;
        // Pipelines of UNLINKs holding about `batch_chunk` keys in all (keys spread over
        // many slots make many small UNLINKs).
        let mut groups: Vec<&[Vec<&Vec<u8>>]> = Vec::new();
        let (mut start, mut n) = (0, 0);
        for (i, u) in unlinks.iter().enumerate() {
            if i > start && n + u.len() > c.batch_chunk {
                groups.push(&unlinks[start..i]);
                start = i;
                n = 0;
            }
            n += u.len();
        }
        if start < unlinks.len() {
            groups.push(&unlinks[start..]);
        }
        let deletes: Vec<_> = groups
            .into_iter()
            .map(|group| async move {
                let (pipe, count) = pipeline(&[], group);
                match self.node_pipeline(&pipe, count, slot).await? {
                    Some(values) => Ok(unlinked(&values)),
                    None => {
                        let keys: Vec<&Vec<u8>> = group.iter().flatten().copied().collect();
                        self.write_per_slot(&[], &keys).await
                    }
                }
            })
            .collect();
        let counts = Box::pin(bounded(deletes, c.batch_concurrency)).await?;
        Ok(counts.into_iter().sum())
    }

    /// Writes then deletes on a cluster, as [`RedisConfig::cluster_writes`] says.
    async fn write_cluster(
        &self,
        sets: &[SetEntry],
        deletes: &[Vec<u8>],
    ) -> Result<u64, StoreError> {
        match self.inner.config.cluster_writes {
            ClusterWrites::PerKey => {
                let writes: Vec<_> = sets
                    .iter()
                    .map(|e| self.set(&e.key, &e.value, e.ttl))
                    .collect();
                bounded(writes, CLUSTER_GROUPS_IN_FLIGHT).await?;
                let deletes: Vec<_> = deletes.iter().map(|k| self.delete(k)).collect();
                let n = bounded(deletes, CLUSTER_GROUPS_IN_FLIGHT).await?;
                Ok(n.into_iter().map(u64::from).sum())
            }
            ClusterWrites::PerSlot => {
                let sets: Vec<&SetEntry> = sets.iter().collect();
                let deletes: Vec<&Vec<u8>> = deletes.iter().collect();
                self.write_per_slot(&sets, &deletes).await
            }
            ClusterWrites::PerNode => self.write_per_node(sets, deletes).await,
        }
    }

    // -----------------------------------------------------------------------------------
    // Reads.

    /// `MGET`s of up to `batch_chunk` keys, `batch_concurrency` in flight (standalone, or a
    /// cluster, where the client splits each `MGET` per slot).
    async fn mget_chunks(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let c = &self.inner.config;
        let out: Vec<Option<Vec<u8>>> = if keys.len() <= c.batch_chunk {
            self.mget(keys).await?
        } else {
            let futs: Vec<_> = keys.chunks(c.batch_chunk).map(|k| self.mget(k)).collect();
            let parts = Box::pin(bounded(futs, c.batch_concurrency)).await?;
            parts.into_iter().flatten().collect()
        };
        if out.len() != keys.len() {
            return Err(protocol_error(format!(
                "MGET returned {} values for {} keys",
                out.len(),
                keys.len()
            )));
        }
        Ok(out)
    }

    /// `get_many` with one pipeline per primary holding an `MGET` per slot (pipelines of
    /// about `batch_chunk` keys, `batch_concurrency` in flight per node), answers put back
    /// in order.
    async fn get_per_node(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let topology = self.topology().await?;
        let indexed: Vec<(usize, &Vec<u8>)> = keys.iter().enumerate().collect();
        let groups = by_node(&indexed, |(_, k)| k, &topology);
        let c = &self.inner.config;
        let parts = Box::pin(try_join_all(groups.values().map(
            |(slot, group)| async move {
                // MGETs of one slot each, then pipelines of about `batch_chunk` keys.
                let mut mgets: Vec<Vec<&(usize, &Vec<u8>)>> = Vec::new();
                for same_slot in by_slot(group, |(_, k)| k) {
                    for part in same_slot.chunks(c.batch_chunk) {
                        mgets.push(part.iter().map(|x| **x).collect());
                    }
                }
                type Mgets<'a, 'b> = [Vec<&'a (usize, &'b Vec<u8>)>];
                let mut pipes: Vec<&Mgets<'_, '_>> = Vec::new();
                let (mut start, mut n) = (0, 0);
                for (i, m) in mgets.iter().enumerate() {
                    if i > start && n + m.len() > c.batch_chunk {
                        pipes.push(&mgets[start..i]);
                        start = i;
                        n = 0;
                    }
                    n += m.len();
                }
                if start < mgets.len() {
                    pipes.push(&mgets[start..]);
                }
                let futs: Vec<_> = pipes
                    .into_iter()
                    .map(|ms| async move {
                        let mut pipe = redis::pipe();
                        for m in ms {
                            let cmd = pipe.cmd("MGET");
                            for (_, k) in m {
                                cmd.arg(k.as_slice());
                            }
                        }
                        let answers: Vec<Vec<Option<Vec<u8>>>> =
                            match self.node_pipeline(&pipe, ms.len(), *slot).await? {
                                Some(values) => values
                                    .into_iter()
                                    .map(redis::from_redis_value)
                                    .collect::<Result<_, _>>()
                                    .map_err(|e| self.map_err(&e.into()))?,
                                None => {
                                    let cmds: Vec<Cmd> = ms
                                        .iter()
                                        .map(|m| {
                                            let mut cmd = redis::cmd("MGET");
                                            for (_, k) in m {
                                                cmd.arg(k.as_slice());
                                            }
                                            cmd
                                        })
                                        .collect();
                                    try_join_all(cmds.iter().map(|c| self.query(c))).await?
                                }
                            };
                        let mut placed = Vec::new();
                        for (m, values) in ms.iter().zip(answers) {
                            if values.len() != m.len() {
                                return Err(protocol_error(
                                    "MGET returned the wrong number of values",
                                ));
                            }
                            placed.extend(m.iter().map(|(i, _)| *i).zip(values));
                        }
                        Ok(placed)
                    })
                    .collect();
                let placed = bounded(futs, c.batch_concurrency).await?;
                Ok::<_, StoreError>(placed.into_iter().flatten().collect::<Vec<_>>())
            },
        )))
        .await?;
        let mut out = vec![None; keys.len()];
        for (i, v) in parts.into_iter().flatten() {
            out[i] = v;
        }
        Ok(out)
    }

    // -----------------------------------------------------------------------------------
    // Scans.

    /// One `SCAN` page, with the server's `run_id` from an `INFO server` in the same pipeline
    /// (`None` when the ACL denies `INFO`): on one server, or on the primary that owns `slot`.
    async fn scan_once(
        &self,
        slot: Option<u16>,
        cursor: u64,
        pattern: &[u8],
        count: usize,
    ) -> Result<(Option<Vec<u8>>, u64, Vec<Vec<u8>>), StoreError> {
        let mut scan = redis::cmd("SCAN");
        scan.arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(count);
        let parse = |v: Value| -> Result<(u64, Vec<Vec<u8>>), StoreError> {
            redis::from_redis_value(v).map_err(|e| self.map_err(&e.into()))
        };
        if !self.inner.no_info.load(Ordering::Relaxed) {
            let mut pipe = redis::pipe();
            pipe.cmd("INFO").arg("server");
            pipe.add_command(scan.clone());
            let mut values = self.pipeline_values(&pipe, 2, slot).await?;
            if values.len() != 2 {
                return Err(protocol_error("INFO + SCAN did not return two answers"));
            }
            let scanned = values.pop().expect("two");
            let info = values.pop().expect("two");
            match (&info, scanned) {
                (_, Value::ServerError(e)) => {
                    return Err(self.map_err(&redis::RedisError::from(e)));
                }
                (Value::ServerError(e), scanned) => {
                    let e = redis::RedisError::from(e.clone());
                    if e.code() != Some("NOPERM") {
                        return Err(self.map_err(&e));
                    }
                    self.inner.no_info.store(true, Ordering::Relaxed);
                    tracing::warn!(
                        target: "cache_version_redis",
                        server = %self.inner.target.join(", "),
                        "the ACL denies INFO: scans cannot tell a restarted server and may \
                         miss keys after a restart or failover; allow `+info`"
                    );
                    let (next, keys) = parse(scanned)?;
                    return Ok((None, next, keys));
                }
                (info, scanned) => {
                    let run_id = value_bytes(info).and_then(run_id_of);
                    let (next, keys) = parse(scanned)?;
                    return Ok((run_id, next, keys));
                }
            }
        }
        let (next, keys): (u64, Vec<Vec<u8>>) = match slot {
            Some(slot) => self.query_slot(&scan, slot).await?,
            None => self.query(&scan).await?,
        };
        Ok((None, next, keys))
    }

    async fn scan_standalone(
        &self,
        prefix: &[u8],
        pattern: &[u8],
        cursor: u64,
        run_id: Vec<u8>,
        count: usize,
    ) -> Result<ScanPage, StoreError> {
        let (mut seen, mut next, keys) = self.scan_once(None, cursor, pattern, count).await?;
        let mut keys: Vec<Vec<u8>> = keys.into_iter().filter(|k| k.starts_with(prefix)).collect();
        let lost = cursor != 0 && !run_id.is_empty() && seen.as_ref().is_some_and(|r| *r != run_id);
        if lost {
            // Another server (a restart, or a reconnect elsewhere): the cursor means nothing
            // here. The keys of that SCAN are real keys; start the walk again.
            tracing::warn!(
                target: "cache_version_redis",
                server = %self.inner.target.join(", "),
                "the server changed during a scan (its run_id differs): starting the walk again"
            );
            let (again, n, more) = self.scan_once(None, 0, pattern, count).await?;
            keys.extend(more.into_iter().filter(|k| k.starts_with(prefix)));
            seen = again;
            next = n;
        }
        Ok(ScanPage {
            keys,
            cursor: (next != 0).then(|| {
                ScanCursor::from_bytes(
                    Position::Standalone {
                        cursor: next,
                        run_id: seen.unwrap_or_default(),
                    }
                    .encode(),
                )
            }),
            restarted: lost,
        })
    }

    /// The position of a new walk of the cluster: the first primary, cursor 0.
    async fn walk_start(&self) -> Result<Option<Position>, StoreError> {
        let primaries = self.primaries().await?;
        Ok(primaries
            .lowest_slots
            .first()
            .map(|&slot| Position::Cluster {
                index: 0,
                slot,
                cursor: 0,
                topology: primaries.fingerprint,
                run_id: Vec::new(),
            }))
    }

    /// A page of a cluster walk: the primaries one after the other, by lowest slot. The walk
    /// starts again (the page says `restarted`) when the scanned node's `run_id` changed (a
    /// restart, or a failover moved the slot to another node) or, when a node is done, when
    /// the slot map differs from the one the walk began with (a failover or a resharding may
    /// have moved keys to a node already walked).
    async fn scan_cluster(
        &self,
        prefix: &[u8],
        pattern: &[u8],
        position: Option<Position>,
        count: usize,
    ) -> Result<ScanPage, StoreError> {
        let mut position = match position {
            Some(p) => p,
            None => match self.walk_start().await? {
                Some(p) => p,
                None => return Ok(ScanPage::default()),
            },
        };
        let mut keys = Vec::new();
        let mut restarted = false;
        let restart = |why: &str| {
            tracing::warn!(
                target: "cache_version_redis",
                cluster = %self.inner.target.join(", "),
                "{why} during a scan: starting the walk again"
            );
        };
        loop {
            let Position::Cluster {
                index,
                slot,
                cursor,
                topology,
                run_id,
            } = position
            else {
                return Err(protocol_error("not a cluster scan position"));
            };
            let (seen, next, found) = self.scan_once(Some(slot), cursor, pattern, count).await?;
            keys.extend(found.into_iter().filter(|k| k.starts_with(prefix)));
            let lost =
                cursor != 0 && !run_id.is_empty() && seen.as_ref().is_some_and(|r| *r != run_id);
            if lost && !restarted {
                restart("a primary changed (its run_id differs)");
                restarted = true;
                match self.walk_start().await? {
                    Some(p) => {
                        position = p;
                        continue;
                    }
                    None => break,
                }
            }
            if next != 0 {
                let at = Position::Cluster {
                    index,
                    slot,
                    cursor: next,
                    topology,
                    run_id: seen.unwrap_or_default(),
                };
                return Ok(ScanPage {
                    keys,
                    cursor: Some(ScanCursor::from_bytes(at.encode())),
                    restarted,
                });
            }
            // This node is done: on to the primary with the next lowest slot, unless the slot
            // map changed since the walk began.
            let primaries = self.primaries().await?;
            if primaries.fingerprint != topology {
                let start = primaries
                    .lowest_slots
                    .first()
                    .map(|&slot| Position::Cluster {
                        index: 0,
                        slot,
                        cursor: 0,
                        topology: primaries.fingerprint,
                        run_id: Vec::new(),
                    });
                if restarted {
                    // Restarted once in this call already: go on from the new start next time.
                    return Ok(ScanPage {
                        keys,
                        cursor: start.map(|p| ScanCursor::from_bytes(p.encode())),
                        restarted,
                    });
                }
                restart("the cluster's slot map changed");
                restarted = true;
                match start {
                    Some(p) => {
                        position = p;
                        continue;
                    }
                    None => break,
                }
            }
            let at = primaries
                .lowest_slots
                .iter()
                .find(|&&s| s > slot)
                .map(|&s| Position::Cluster {
                    index: index.saturating_add(1),
                    slot: s,
                    cursor: 0,
                    topology,
                    run_id: Vec::new(),
                });
            return Ok(ScanPage {
                keys,
                cursor: at.map(|p| ScanCursor::from_bytes(p.encode())),
                restarted,
            });
        }
        Ok(ScanPage {
            keys,
            cursor: None,
            restarted,
        })
    }
}

impl Store for RedisStore {
    /// For single-key calls (`get`, `get_with_ttl`, `set`, `set_if_absent`, `delete`, the
    /// hash calls): on one server twice the response timeout (one attempt, each bounded by
    /// it, and at most one retry after a dropped connection), on a cluster the response
    /// timeout (one attempt; the cluster client's own retries happen within it). Batches send
    /// their chunks a few at a time, each with its own bound, so their time grows with their
    /// size and a caller bounds them itself.
    fn call_bound(&self) -> Option<Duration> {
        let rt = self.inner.config.response_timeout;
        Some(if self.is_cluster() {
            rt
        } else {
            rt.saturating_mul(2)
        })
    }

    /// `CLIENT TRACKING ON BCAST PREFIX <prefix>` on a RESP3 connection of the watch's own per
    /// primary (see [`crate#local-tier-coherence`]). `None` for a store made from a caller's
    /// `ConnectionManager` or cluster connection (the store has no address to open more
    /// connections to). Called outside a Tokio runtime, the watch ends at once with an error.
    fn watch(&self, prefix: &[u8]) -> Option<Watch> {
        let target = self.inner.tracking.clone()?;
        let primaries = target.cluster.then(|| {
            let seed = match target.info.addr() {
                redis::ConnectionAddr::Tcp(h, _)
                | redis::ConnectionAddr::TcpTls { host: h, .. } => h.clone(),
                _ => "127.0.0.1".to_owned(),
            };
            self.primaries_reader(seed)
        });
        Some(crate::tracking::watch(target, prefix, primaries))
    }

    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(key);
        self.query(&cmd).await
    }

    async fn get_with_ttl(&self, key: &[u8]) -> Result<Option<ValueAndTtl>, StoreError> {
        // One key, so one slot: a pipeline is fine on a cluster too.
        let mut pipe = redis::pipe();
        pipe.cmd("GET").arg(key).cmd("PTTL").arg(key);
        let (value, pttl): (Option<Vec<u8>>, i64) = self.query_pipe(&pipe).await?;
        Ok(match (value, pttl) {
            (None, _) | (_, -2) => None, // missing, or expired between the two commands
            (Some(v), ms) if ms < 0 => Some((v, None)),
            (Some(v), ms) => Some((v, Some(Duration::from_millis(ms as u64)))),
        })
    }

    async fn set(&self, key: &[u8], value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key).arg(value);
        if let Some(ttl) = ttl {
            cmd.arg("PX").arg(ttl_millis(ttl));
        }
        self.query(&cmd).await
    }

    /// `SET key value NX [PX ttl]`: atomic on the server. (When a dropped connection made the
    /// store retry, a first attempt that did land makes the retry answer `false`.)
    async fn set_if_absent(
        &self,
        key: &[u8],
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key).arg(value).arg("NX");
        if let Some(ttl) = ttl {
            cmd.arg("PX").arg(ttl_millis(ttl));
        }
        // `OK` when written, nil when the key existed.
        Ok(self.query::<Option<String>>(&cmd).await?.is_some())
    }

    /// Pipelines of `SET … NX`: on a standalone server in chunks of `batch_chunk`
    /// (`batch_concurrency` in flight), on a cluster one per hash slot (whatever
    /// [`ClusterWrites`] says: this serves background migrations, not the hot path).
    async fn set_many_if_absent(&self, entries: &[SetEntry]) -> Result<Vec<bool>, StoreError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let c = &self.inner.config;
        let indexed: Vec<(usize, &SetEntry)> = entries.iter().enumerate().collect();
        let slots = if self.is_cluster() {
            by_slot(&indexed, |(_, e)| &e.key)
        } else {
            vec![indexed.iter().collect()]
        };
        // Entry indices, one group per pipeline.
        let groups: Vec<Vec<usize>> = slots
            .iter()
            .flat_map(|slot| slot.chunks(c.batch_chunk))
            .map(|group| group.iter().map(|(i, _)| *i).collect())
            .collect();
        let limit = if self.is_cluster() {
            CLUSTER_GROUPS_IN_FLIGHT
        } else {
            c.batch_concurrency
        };
        let futs: Vec<_> = groups
            .iter()
            .map(|group| async move {
                let mut pipe = redis::pipe();
                for &i in group {
                    let e = &entries[i];
                    let cmd = pipe.cmd("SET").arg(&e.key).arg(&e.value).arg("NX");
                    if let Some(ttl) = e.ttl {
                        cmd.arg("PX").arg(ttl_millis(ttl));
                    }
                }
                self.query_pipe::<Vec<Option<String>>>(&pipe).await
            })
            .collect();
        let answers = Box::pin(bounded(futs, limit)).await?;
        let mut out = vec![false; entries.len()];
        for (group, answer) in groups.iter().zip(answers) {
            if answer.len() != group.len() {
                return Err(protocol_error(format!(
                    "a pipeline of {} SET NX returned {} answers",
                    group.len(),
                    answer.len()
                )));
            }
            for (&i, written) in group.iter().zip(answer) {
                out[i] = written.is_some();
            }
        }
        Ok(out)
    }

    async fn delete(&self, key: &[u8]) -> Result<bool, StoreError> {
        let mut cmd = redis::cmd("UNLINK");
        cmd.arg(key);
        Ok(self.query::<u64>(&cmd).await? > 0)
    }

    async fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        if self.is_cluster() && self.inner.config.cluster_writes == ClusterWrites::PerNode {
            return Box::pin(self.get_per_node(keys)).await;
        }
        // On a cluster the client splits an MGET per slot and puts the answers back in order.
        self.mget_chunks(keys).await
    }

    async fn set_many(&self, entries: &[SetEntry]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        if !self.is_cluster() {
            let all: Vec<&SetEntry> = entries.iter().collect();
            return self.set_chunks(&all).await;
        }
        // Boxed: a standalone server's futures stay the size of one pipeline's.
        Box::pin(self.write_cluster(entries, &[])).await?;
        Ok(())
    }

    async fn delete_many(&self, keys: &[Vec<u8>]) -> Result<u64, StoreError> {
        if keys.is_empty() {
            return Ok(0);
        }
        if !self.is_cluster() {
            let all: Vec<&Vec<u8>> = keys.iter().collect();
            return self.unlink_chunks(&all).await;
        }
        Box::pin(self.write_cluster(&[], keys)).await
    }

    /// One server: one pipeline of the `SET`s and an `UNLINK` per `unlink_chunk` keys (one
    /// round trip) when the writes fit one chunk and the deletes `batch_chunk` keys; larger
    /// batches go in chunks, the writes first. A cluster: the same per primary, primaries
    /// concurrently (per slot or per key with [`ClusterWrites::PerSlot`]/`PerKey`).
    async fn set_many_and_delete(
        &self,
        sets: &[SetEntry],
        deletes: &[Vec<u8>],
    ) -> Result<u64, StoreError> {
        if sets.is_empty() && deletes.is_empty() {
            return Ok(0);
        }
        if !self.is_cluster() {
            let sets: Vec<&SetEntry> = sets.iter().collect();
            let deletes: Vec<&Vec<u8>> = deletes.iter().collect();
            return Box::pin(self.write_same_node(&sets, &deletes)).await;
        }
        Box::pin(self.write_cluster(sets, deletes)).await
    }

    /// `HSET` + `PEXPIRE` (when `ttl` is `Some`) + `HGETALL` in one pipeline (one key, so one
    /// slot on a cluster).
    async fn hash_put(
        &self,
        key: &[u8],
        field: &[u8],
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<HashFields, StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("HSET").arg(key).arg(field).arg(value).ignore();
        if let Some(ttl) = ttl {
            pipe.cmd("PEXPIRE").arg(key).arg(ttl_millis(ttl)).ignore();
        }
        pipe.cmd("HGETALL").arg(key);
        let (all,): (Value,) = self.query_pipe(&pipe).await?;
        parse_hash(&all).ok_or_else(|| protocol_error("unexpected answer to HGETALL"))
    }

    async fn hash_get_all(&self, key: &[u8]) -> Result<HashFields, StoreError> {
        let mut cmd = redis::cmd("HGETALL");
        cmd.arg(key);
        let all: Value = self.query(&cmd).await?;
        parse_hash(&all).ok_or_else(|| protocol_error("unexpected answer to HGETALL"))
    }

    async fn hash_remove(&self, key: &[u8], fields: &[Vec<u8>]) -> Result<u64, StoreError> {
        if fields.is_empty() {
            return Ok(0);
        }
        let mut cmd = redis::cmd("HDEL");
        cmd.arg(key);
        for f in fields {
            cmd.arg(f.as_slice());
        }
        self.query(&cmd).await
    }

    async fn scan_prefix(
        &self,
        prefix: &[u8],
        cursor: ScanCursor,
        count: usize,
    ) -> Result<ScanPage, StoreError> {
        let count = if count == 0 {
            self.inner.config.scan_count
        } else {
            count
        };
        let pattern = prefix_pattern(prefix);
        let position = if cursor.is_start() {
            None
        } else {
            Some(Position::decode(cursor.as_bytes()).ok_or_else(|| {
                StoreError::backend(RedisStoreError::new(
                    ErrorKind::Config,
                    "not a scan cursor of a RedisStore (of this version)",
                ))
            })?)
        };
        match (self.is_cluster(), position) {
            (false, None) => {
                self.scan_standalone(prefix, &pattern, 0, Vec::new(), count)
                    .await
            }
            (false, Some(Position::Standalone { cursor, run_id })) => {
                self.scan_standalone(prefix, &pattern, cursor, run_id, count)
                    .await
            }
            (true, p @ (None | Some(Position::Cluster { .. }))) => {
                Box::pin(self.scan_cluster(prefix, &pattern, p, count)).await
            }
            _ => Err(StoreError::backend(RedisStoreError::new(
                ErrorKind::Config,
                "a scan cursor of a standalone store used on a cluster, or the reverse",
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn ttl_rounding() {
        assert_eq!(ttl_millis(Duration::ZERO), 1);
        assert_eq!(ttl_millis(Duration::from_micros(1500)), 1);
        assert_eq!(ttl_millis(Duration::from_secs(2)), 2000);
        assert_eq!(ttl_millis(Duration::MAX), MAX_PX);
    }

    #[test]
    fn chunks_by_count_and_bytes() {
        let e = |n: usize| SetEntry {
            key: vec![b'k'],
            value: vec![0; n],
            ttl: None,
        };
        let entries: Vec<SetEntry> = vec![e(9), e(9), e(9), e(99), e(0), e(0), e(0)];
        let refs: Vec<&SetEntry> = entries.iter().collect();
        let sizes = |max, bytes| -> Vec<usize> {
            chunk_entries(&refs, max, bytes)
                .iter()
                .map(|c| c.len())
                .collect()
        };
        assert_eq!(sizes(1000, 1 << 20), vec![7]);
        assert_eq!(sizes(3, 1 << 20), vec![3, 3, 1]);
        // 10 bytes per small entry: two fit in 25 bytes; the 100-byte one goes alone.
        assert_eq!(sizes(1000, 25), vec![2, 1, 1, 3]);
        assert!(chunk_entries(&[], 10, 10).is_empty());
    }

    #[test]
    fn hashes_parse() {
        let flat = Value::Array(vec![bulk("b"), bulk("2"), bulk("a"), bulk("1")]);
        let want = vec![
            (b"a".to_vec(), b"1".to_vec()),
            (b"b".to_vec(), b"2".to_vec()),
        ];
        assert_eq!(parse_hash(&flat), Some(want.clone()));
        let map = Value::Map(vec![(bulk("b"), bulk("2")), (bulk("a"), bulk("1"))]);
        assert_eq!(parse_hash(&map), Some(want));
        assert_eq!(parse_hash(&Value::Array(vec![])), Some(vec![]));
        assert_eq!(parse_hash(&Value::Array(vec![bulk("odd")])), None);
        assert_eq!(parse_hash(&Value::Int(1)), None);
    }
}
