//! [`RedisStore`] and its builder.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use cache_version_core::{ScanCursor, ScanPage, SetEntry, Store, StoreError, ValueAndTtl};
use futures_util::future::try_join_all;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{Cmd, IntoConnectionInfo, Pipeline, RedisFuture, RedisResult, Value};

use crate::config::{ClusterWrites, RedisConfig};
use crate::error::{ErrorKind, RedisStoreError, Secrets};
use crate::keys::{key_slot, prefix_pattern, Position};

/// A [`Store`] on Redis: one server through a [`ConnectionManager`], or a Redis Cluster
/// through [`ClusterConnection`].
///
/// Cloning is cheap and shares the connection. See the [crate documentation](crate) for how
/// each operation maps to commands.
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
}

/// The connection: cheap to clone (both are handles to shared state).
#[derive(Clone)]
enum Conn {
    Standalone(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Standalone(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Standalone(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Standalone(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.inner.conn {
            Conn::Standalone(_) => "standalone",
            Conn::Cluster(_) => "cluster",
        };
        f.debug_struct("RedisStore")
            .field("mode", &mode)
            .field("target", &self.inner.target)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

enum Target {
    Standalone(String),
    Cluster(Vec<String>),
}

/// Configures and connects a [`RedisStore`]: [`RedisStore::builder`] for one server,
/// [`RedisStore::cluster_builder`] for a cluster.
///
/// URLs are `redis://[user][:password@]host[:port][/db]`; `rediss://` (TLS) needs the `tls`
/// feature. A user name and password given to the builder replace the URL's. `Debug` never
/// shows a password.
pub struct RedisStoreBuilder {
    target: Target,
    username: Option<String>,
    password: Option<String>,
    config: RedisConfig,
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let urls: Vec<String> = match &self.target {
            Target::Standalone(u) => vec![crate::redact_url(u)],
            Target::Cluster(us) => us.iter().map(|u| crate::redact_url(u)).collect(),
        };
        f.debug_struct("RedisStoreBuilder")
            .field("urls", &urls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("config", &self.config)
            .finish()
    }
}

impl RedisStoreBuilder {
    /// The user name (Redis 6 ACLs), replacing the URL's.
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// The password, replacing the URL's.
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// All settings at once.
    pub fn config(mut self, config: RedisConfig) -> Self {
        self.config = config;
        self
    }

    /// See [`RedisConfig::connect_timeout`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// See [`RedisConfig::response_timeout`].
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.config.response_timeout = timeout;
        self
    }

    /// See [`RedisConfig::reconnect_retries`].
    pub fn reconnect_retries(mut self, retries: usize) -> Self {
        self.config.reconnect_retries = retries;
        self
    }

    /// See [`RedisConfig::scan_count`].
    pub fn scan_count(mut self, count: usize) -> Self {
        self.config.scan_count = count;
        self
    }

    /// See [`RedisConfig::unlink_chunk`].
    pub fn unlink_chunk(mut self, keys: usize) -> Self {
        self.config.unlink_chunk = keys;
        self
    }

    /// See [`RedisConfig::batch_chunk`].
    pub fn batch_chunk(mut self, keys: usize) -> Self {
        self.config.batch_chunk = keys;
        self
    }

    /// See [`RedisConfig::cluster_writes`].
    pub fn cluster_writes(mut self, mode: ClusterWrites) -> Self {
        self.config.cluster_writes = mode;
        self
    }

    /// Connects. Fails when the URL is invalid, the server cannot be reached within the
    /// connect timeout (and the retries), or it refuses the credentials.
    pub async fn build(self) -> Result<RedisStore, RedisStoreError> {
        let config = self.config.normalized();
        let mut secrets = Secrets::default();
        let urls: Vec<&str> = match &self.target {
            Target::Standalone(u) => vec![u.as_str()],
            Target::Cluster(us) => us.iter().map(String::as_str).collect(),
        };
        for u in &urls {
            secrets.add_from_url(u);
        }
        if let Some(p) = &self.password {
            secrets.add(p);
        }
        let target: Vec<String> = urls.iter().map(|u| crate::redact_url(u)).collect();
        if urls.is_empty() {
            return Err(RedisStoreError::new(
                ErrorKind::Config,
                "a cluster needs at least one node URL",
            ));
        }
        let mut infos = Vec::with_capacity(urls.len());
        for (u, shown) in urls.iter().zip(&target) {
            check_scheme(u, shown)?;
            let info = u.into_connection_info().map_err(|e| {
                let e = RedisStoreError::from_redis(&e, &secrets);
                RedisStoreError::new(e.kind(), format!("invalid URL {shown}: {}", e.message()))
            })?;
            let mut settings = info.redis_settings().clone();
            if let Some(user) = &self.username {
                settings = settings.set_username(user);
            }
            if let Some(p) = &self.password {
                settings = settings.set_password(p);
            }
            infos.push(info.set_redis_settings(settings));
        }
        let fail = |e: redis::RedisError| {
            let e = RedisStoreError::from_redis(&e, &secrets);
            RedisStoreError::new(
                e.kind(),
                format!("connecting to {}: {}", target.join(", "), e.message()),
            )
        };
        let conn = match self.target {
            Target::Standalone(_) => {
                let info = infos.pop().expect("one URL");
                let client = redis::Client::open(info).map_err(fail)?;
                let manager_config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(config.connect_timeout))
                    // Bounded here, per attempt, together with the wait for a reconnect.
                    .set_response_timeout(None)
                    .set_number_of_retries(config.reconnect_retries)
                    .set_max_delay(Duration::from_secs(2));
                let manager = ConnectionManager::new_with_config(client, manager_config)
                    .await
                    .map_err(fail)?;
                Conn::Standalone(manager)
            }
            Target::Cluster(_) => {
                let client = redis::cluster::ClusterClientBuilder::new(infos)
                    .connection_timeout(config.connect_timeout)
                    .response_timeout(config.response_timeout)
                    .build()
                    .map_err(fail)?;
                let conn = tokio::time::timeout(
                    config.connect_timeout.saturating_mul(2),
                    client.get_async_connection(),
                )
                .await
                .map_err(|_| {
                    RedisStoreError::new(
                        ErrorKind::Timeout,
                        format!(
                            "connecting to {}: no answer within {:?}",
                            target.join(", "),
                            config.connect_timeout.saturating_mul(2)
                        ),
                    )
                })?
                .map_err(fail)?;
                Conn::Cluster(conn)
            }
        };
        Ok(RedisStore::with_conn(conn, config, target, secrets))
    }
}

fn check_scheme(url: &str, shown: &str) -> Result<(), RedisStoreError> {
    let scheme = url.split("://").next().unwrap_or_default();
    let tls = matches!(scheme, "rediss" | "valkeys");
    if tls && !cfg!(feature = "tls") {
        return Err(RedisStoreError::new(
            ErrorKind::Config,
            format!("{shown}: TLS (rediss://) needs the `tls` feature of cache-version-redis"),
        ));
    }
    Ok(())
}

/// Whether an error means the connection dropped (so a retry on the re-established connection
/// may succeed), as opposed to a timeout or an answer of the server.
fn connection_dropped(e: &redis::RedisError) -> bool {
    !e.is_timeout() && (e.is_connection_dropped() || e.is_unrecoverable_error())
}

/// The longest `PX` sent (about 73 million years): Redis refuses an expiry time that
/// overflows when added to its clock.
const MAX_PX: u64 = 1 << 61;

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
    c.ignore();
}

impl RedisStore {
    /// A builder for a store on one server (or a managed endpoint that proxies a cluster).
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder {
            target: Target::Standalone(url.into()),
            username: None,
            password: None,
            config: RedisConfig::default(),
        }
    }

    /// A builder for a store on a Redis Cluster, from the URLs of some of its nodes.
    pub fn cluster_builder<I>(urls: I) -> RedisStoreBuilder
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        RedisStoreBuilder {
            target: Target::Cluster(urls.into_iter().map(Into::into).collect()),
            username: None,
            password: None,
            config: RedisConfig::default(),
        }
    }

    /// Connects to one server with the default settings.
    pub async fn open(url: impl Into<String>) -> Result<RedisStore, RedisStoreError> {
        RedisStore::builder(url).build().await
    }

    /// Connects to a cluster with the default settings.
    pub async fn open_cluster<I>(urls: I) -> Result<RedisStore, RedisStoreError>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        RedisStore::cluster_builder(urls).build().await
    }

    /// A store on an existing [`ConnectionManager`]. Operations are bounded by
    /// `config.response_timeout` on top of whatever the manager was built with.
    pub fn from_connection_manager(manager: ConnectionManager, config: RedisConfig) -> Self {
        RedisStore::with_conn(
            Conn::Standalone(manager),
            config.normalized(),
            vec!["<existing ConnectionManager>".into()],
            Secrets::default(),
        )
    }

    /// A store on an existing cluster connection. Operations are bounded by
    /// `config.response_timeout` on top of the cluster client's own timeouts.
    pub fn from_cluster_connection(conn: ClusterConnection, config: RedisConfig) -> Self {
        RedisStore::with_conn(
            Conn::Cluster(conn),
            config.normalized(),
            vec!["<existing ClusterConnection>".into()],
            Secrets::default(),
        )
    }

    fn with_conn(conn: Conn, config: RedisConfig, target: Vec<String>, secrets: Secrets) -> Self {
        RedisStore {
            inner: Arc::new(Inner {
                conn,
                config,
                target,
                secrets,
                topology: std::sync::Mutex::new(None),
            }),
        }
    }

    /// The settings.
    pub fn config(&self) -> &RedisConfig {
        &self.inner.config
    }

    /// Whether the store talks to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self.inner.conn, Conn::Cluster(_))
    }

    /// Sends `PING` (to a random node of a cluster).
    pub async fn ping(&self) -> Result<(), StoreError> {
        let cmd = redis::cmd("PING");
        self.query::<()>(&cmd).await
    }

    fn map_err(&self, e: &redis::RedisError) -> StoreError {
        let e = RedisStoreError::from_redis(e, &self.inner.secrets);
        match e.kind() {
            ErrorKind::Timeout => StoreError::Timeout(self.inner.config.response_timeout),
            ErrorKind::Connection | ErrorKind::Auth => StoreError::unavailable(e),
            _ => StoreError::backend(e),
        }
    }

    /// Runs `op` on a connection within the response timeout; on a standalone server, once
    /// more when the connection dropped (every operation of the store is idempotent: reads,
    /// `SET`s of a given value, `UNLINK`, `SCAN`). The cluster client retries by itself.
    async fn run<T, F, Fut>(&self, mut op: F) -> Result<T, StoreError>
    where
        F: FnMut(Conn) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let bound = self.inner.config.response_timeout;
        let first = tokio::time::timeout(bound, op(self.inner.conn.clone())).await;
        match first {
            Ok(Ok(v)) => Ok(v),
            Err(_) => Err(StoreError::Timeout(bound)),
            Ok(Err(e)) if !self.is_cluster() && connection_dropped(&e) => {
                // Boxed: the retry is rare, and inlining a second attempt's future doubled the
                // size of every operation's future.
                let retry = Box::pin(tokio::time::timeout(bound, op(self.inner.conn.clone())));
                match retry.await {
                    Ok(Ok(v)) => Ok(v),
                    Ok(Err(e)) => Err(self.map_err(&e)),
                    Err(_) => Err(StoreError::Timeout(bound)),
                }
            }
            Ok(Err(e)) => Err(self.map_err(&e)),
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

    /// Sends `cmd` to the primary that owns `slot` (cluster only).
    async fn query_slot<T: redis::FromRedisValue>(
        &self,
        cmd: &Cmd,
        slot: u16,
    ) -> Result<T, StoreError> {
        let value = self
            .run(|c| async move {
                match c {
                    Conn::Cluster(mut c) => {
                        let route = Route::new(slot, SlotAddr::Master);
                        c.route_command(
                            cmd.clone(),
                            RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route)),
                        )
                        .await
                    }
                    Conn::Standalone(mut c) => cmd.query_async::<Value>(&mut c).await,
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
                Conn::Cluster(mut c) => {
                    c.route_command(
                        cmd.clone(),
                        RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
                    )
                    .await
                }
                Conn::Standalone(mut c) => cmd.query_async::<Value>(&mut c).await,
            }
        })
        .await
    }

    fn bad_slots() -> StoreError {
        StoreError::backend(RedisStoreError::new(
            ErrorKind::Protocol,
            "unexpected answer to CLUSTER SLOTS",
        ))
    }

    /// The lowest slot of every primary, ascending (from `CLUSTER SLOTS`).
    async fn primaries(&self) -> Result<Vec<u16>, StoreError> {
        parse_primaries(&self.cluster_slots().await?).ok_or_else(Self::bad_slots)
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
        let route = SingleNodeRoutingInfo::SpecificNode(Route::new(slot, SlotAddr::Master));
        let result = self
            .run(|c| {
                let route = route.clone();
                async move {
                    match c {
                        Conn::Cluster(mut c) => {
                            c.route_pipeline(pipe.clone(), 0, count, route).await
                        }
                        Conn::Standalone(mut c) => c.req_packed_commands(pipe, 0, count).await,
                    }
                }
            })
            .await;
        match result {
            Ok(values)
                if values.len() == count
                    && !values.iter().any(|v| matches!(v, Value::ServerError(_))) =>
            {
                Ok(Some(values))
            }
            Err(e @ StoreError::Timeout(_)) => Err(e),
            _ => {
                self.forget_topology();
                Ok(None)
            }
        }
    }

    /// `set_many` with one pipeline per primary (chunked), falling back to per-slot pipelines
    /// for a group whose primary no longer owns all its slots.
    async fn set_per_node(&self, entries: &[SetEntry]) -> Result<(), StoreError> {
        let topology = self.topology().await?;
        let groups = by_node(entries, |e| &e.key, &topology);
        let chunk = self.inner.config.batch_chunk;
        try_join_all(groups.iter().flat_map(|(slot, group)| {
            group.chunks(chunk).map(move |part| async move {
                let mut pipe = redis::pipe();
                for e in part {
                    let c = pipe.cmd("SET").arg(&e.key).arg(&e.value);
                    if let Some(ttl) = e.ttl {
                        c.arg("PX").arg(ttl_millis(ttl));
                    }
                }
                if self
                    .node_pipeline(&pipe, part.len(), *slot)
                    .await?
                    .is_none()
                {
                    let owned: Vec<&SetEntry> = part.to_vec();
                    let slots = by_slot(&owned, |e| &e.key);
                    try_join_all(slots.iter().map(|g| {
                        let g: Vec<&SetEntry> = g.iter().map(|e| **e).collect();
                        async move { self.set_pipelined(&g).await }
                    }))
                    .await?;
                }
                Ok::<(), StoreError>(())
            })
        }))
        .await?;
        Ok(())
    }

    /// `delete_many` with one pipeline of per-slot `UNLINK`s per primary.
    ///
    /// When the cached topology is stale, part of a pipeline may run before the cluster
    /// answers `MOVED`; the group is then redone per slot, so every key is deleted, but the
    /// keys the first attempt removed are not counted.
    async fn delete_per_node(&self, keys: &[Vec<u8>]) -> Result<u64, StoreError> {
        let topology = self.topology().await?;
        let groups = by_node(keys, |k| k, &topology);
        let chunk = self.inner.config.unlink_chunk;
        let counts = try_join_all(groups.iter().map(|(slot, group)| async move {
            let owned: Vec<&Vec<u8>> = group.to_vec();
            let slots = by_slot(&owned, |k| k);
            let mut pipe = redis::pipe();
            let mut count = 0;
            for same_slot in &slots {
                for part in same_slot.chunks(chunk) {
                    let c = pipe.cmd("UNLINK");
                    for k in part {
                        c.arg(k.as_slice());
                    }
                    count += 1;
                }
            }
            match self.node_pipeline(&pipe, count, *slot).await? {
                Some(values) => Ok(values
                    .iter()
                    .map(|v| match v {
                        Value::Int(n) => u64::try_from(*n).unwrap_or(0),
                        _ => 0,
                    })
                    .sum()),
                None => {
                    let n = try_join_all(slots.iter().map(|g| {
                        let g: Vec<&Vec<u8>> = g.iter().map(|k| **k).collect();
                        async move { self.unlink_chunks(&g).await }
                    }))
                    .await?;
                    Ok::<u64, StoreError>(n.into_iter().sum())
                }
            }
        }))
        .await?;
        Ok(counts.into_iter().sum())
    }

    /// `get_many` with one pipeline per primary holding an `MGET` per slot, answers put back
    /// in order.
    async fn get_per_node(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let topology = self.topology().await?;
        let indexed: Vec<(usize, &Vec<u8>)> = keys.iter().enumerate().collect();
        let groups = by_node(&indexed, |(_, k)| k, &topology);
        let chunk = self.inner.config.batch_chunk;
        let parts = try_join_all(groups.iter().map(|(slot, group)| async move {
            let owned: Vec<&(usize, &Vec<u8>)> = group.to_vec();
            let mut mgets: Vec<Vec<&(usize, &Vec<u8>)>> = Vec::new();
            for same_slot in by_slot(&owned, |(_, k)| k) {
                for part in same_slot.chunks(chunk) {
                    mgets.push(part.iter().map(|x| **x).collect());
                }
            }
            let mut pipe = redis::pipe();
            for m in &mgets {
                let c = pipe.cmd("MGET");
                for (_, k) in m {
                    c.arg(k.as_slice());
                }
            }
            let answers: Vec<Vec<Option<Vec<u8>>>> =
                match self.node_pipeline(&pipe, mgets.len(), *slot).await? {
                    Some(values) => values
                        .into_iter()
                        .map(redis::from_redis_value)
                        .collect::<Result<_, _>>()
                        .map_err(|e| self.map_err(&e.into()))?,
                    None => {
                        let cmds: Vec<Cmd> = mgets
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
            let mut placed = Vec::with_capacity(group.len());
            for (m, values) in mgets.iter().zip(answers) {
                if values.len() != m.len() {
                    return Err(StoreError::backend(RedisStoreError::new(
                        ErrorKind::Protocol,
                        "MGET returned the wrong number of values",
                    )));
                }
                placed.extend(m.iter().map(|(i, _)| *i).zip(values));
            }
            Ok::<_, StoreError>(placed)
        }))
        .await?;
        let mut out = vec![None; keys.len()];
        for (i, v) in parts.into_iter().flatten() {
            out[i] = v;
        }
        Ok(out)
    }

    async fn scan_standalone(
        &self,
        prefix: &[u8],
        pattern: &[u8],
        cursor: u64,
        count: usize,
    ) -> Result<ScanPage, StoreError> {
        let mut cmd = redis::cmd("SCAN");
        cmd.arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(count);
        let (next, keys): (u64, Vec<Vec<u8>>) = self.query(&cmd).await?;
        Ok(ScanPage {
            keys: keys.into_iter().filter(|k| k.starts_with(prefix)).collect(),
            cursor: (next != 0)
                .then(|| ScanCursor::from_bytes(Position::Standalone { cursor: next }.encode())),
        })
    }

    async fn scan_cluster(
        &self,
        prefix: &[u8],
        pattern: &[u8],
        position: Option<(u16, u16, u64)>,
        count: usize,
    ) -> Result<ScanPage, StoreError> {
        let (index, slot, cursor) = match position {
            Some(p) => p,
            None => match self.primaries().await?.first() {
                Some(&slot) => (0, slot, 0),
                None => return Ok(ScanPage::default()),
            },
        };
        let mut cmd = redis::cmd("SCAN");
        cmd.arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(count);
        let (next, keys): (u64, Vec<Vec<u8>>) = self.query_slot(&cmd, slot).await?;
        let keys = keys.into_iter().filter(|k| k.starts_with(prefix)).collect();
        let position = if next != 0 {
            Some(Position::Cluster {
                index,
                slot,
                cursor: next,
            })
        } else {
            // This node is done: on to the primary with the next lowest slot.
            let primaries = self.primaries().await?;
            primaries
                .into_iter()
                .find(|&s| s > slot)
                .map(|s| Position::Cluster {
                    index: index.saturating_add(1),
                    slot: s,
                    cursor: 0,
                })
        };
        Ok(ScanPage {
            keys,
            cursor: position.map(|p| ScanCursor::from_bytes(p.encode())),
        })
    }

    /// `SET`s in one pipeline per chunk, chunks concurrently (standalone, or one slot of a
    /// cluster).
    async fn set_pipelined(&self, entries: &[&SetEntry]) -> Result<(), StoreError> {
        if entries.len() <= self.inner.config.batch_chunk {
            let mut pipe = redis::pipe();
            for e in entries {
                set_cmd(&mut pipe, &e.key, &e.value, e.ttl);
            }
            return self.query_pipe::<()>(&pipe).await;
        }
        let pipes: Vec<Pipeline> = entries
            .chunks(self.inner.config.batch_chunk)
            .map(|chunk| {
                let mut pipe = redis::pipe();
                for e in chunk {
                    set_cmd(&mut pipe, &e.key, &e.value, e.ttl);
                }
                pipe
            })
            .collect();
        try_join_all(pipes.iter().map(|p| self.query_pipe::<()>(p))).await?;
        Ok(())
    }

    /// `UNLINK`s of up to `unlink_chunk` keys, concurrently; returns how many existed.
    async fn unlink_chunks(&self, keys: &[&Vec<u8>]) -> Result<u64, StoreError> {
        let unlink = |chunk: &[&Vec<u8>]| {
            let mut cmd = redis::cmd("UNLINK");
            for k in chunk {
                cmd.arg(k.as_slice());
            }
            cmd
        };
        if keys.len() <= self.inner.config.unlink_chunk {
            return self.query::<u64>(&unlink(keys)).await;
        }
        let cmds: Vec<Cmd> = keys
            .chunks(self.inner.config.unlink_chunk)
            .map(unlink)
            .collect();
        let counts = try_join_all(cmds.iter().map(|c| self.query::<u64>(c))).await?;
        Ok(counts.into_iter().sum())
    }
}

/// Groups items by the hash slot of their key, keeping their order within a slot.
fn by_slot<T>(items: &[T], key: impl Fn(&T) -> &[u8]) -> Vec<Vec<&T>> {
    let mut groups: HashMap<u16, Vec<&T>> = HashMap::new();
    for item in items {
        groups.entry(key_slot(key(item))).or_default().push(item);
    }
    groups.into_values().collect()
}

/// The slot ranges of each primary in a `CLUSTER SLOTS` answer (an array of
/// `[start, end, [host, port, id, …], replicas…]`), primaries ordered by their lowest slot.
fn parse_slots(value: &Value) -> Option<Vec<Vec<(u16, u16)>>> {
    let Value::Array(ranges) = value else {
        return None;
    };
    let mut nodes: HashMap<Vec<u8>, Vec<(u16, u16)>> = HashMap::new();
    for range in ranges {
        let Value::Array(fields) = range else {
            return None;
        };
        let slot = |v: Option<&Value>| match v? {
            Value::Int(i) => u16::try_from(*i).ok().filter(|s| *s < crate::SLOTS),
            _ => None,
        };
        let (start, end) = (slot(fields.first())?, slot(fields.get(1))?);
        let Value::Array(node) = fields.get(2)? else {
            return None;
        };
        // The node id when the server sends one, else host:port.
        let id = match (node.get(2), node.first(), node.get(1)) {
            (Some(Value::BulkString(id)), _, _) => id.clone(),
            (_, Some(Value::BulkString(host)), Some(Value::Int(port))) => {
                let mut id = host.clone();
                id.extend_from_slice(format!(":{port}").as_bytes());
                id
            }
            _ => return None,
        };
        nodes.entry(id).or_default().push((start, end.max(start)));
    }
    let mut out: Vec<Vec<(u16, u16)>> = nodes.into_values().collect();
    for ranges in &mut out {
        ranges.sort_unstable();
    }
    out.sort_unstable_by_key(|r| r[0].0);
    Some(out)
}

/// The lowest slot of each primary, ascending.
fn parse_primaries(value: &Value) -> Option<Vec<u16>> {
    Some(parse_slots(value)?.iter().map(|r| r[0].0).collect())
}

/// Which primary owns each slot, as last read from `CLUSTER SLOTS`.
struct Topology {
    /// The primary's index (by lowest slot) for every slot; `u16::MAX` when unassigned.
    owner: Vec<u16>,
}

impl Topology {
    fn from_value(value: &Value) -> Option<Topology> {
        let mut owner = vec![u16::MAX; usize::from(crate::SLOTS)];
        for (i, ranges) in parse_slots(value)?.iter().enumerate() {
            for &(a, b) in ranges {
                for slot in a..=b {
                    owner[usize::from(slot)] = u16::try_from(i).ok()?;
                }
            }
        }
        Some(Topology { owner })
    }
}

/// Groups items by the primary that owns their key's slot; each group carries a slot of its
/// own to route by.
fn by_node<'a, T>(
    items: &'a [T],
    key: impl Fn(&T) -> &[u8],
    topology: &Topology,
) -> Vec<(u16, Vec<&'a T>)> {
    let mut groups: HashMap<u16, (u16, Vec<&T>)> = HashMap::new();
    for item in items {
        let slot = key_slot(key(item));
        let node = topology.owner[usize::from(slot)];
        groups
            .entry(node)
            .or_insert_with(|| (slot, Vec::new()))
            .1
            .push(item);
    }
    groups.into_values().collect()
}

impl Store for RedisStore {
    /// On a standalone server: twice the response timeout (every call is one attempt, or
    /// concurrent attempts, each bounded by it, and at most one retry after a dropped
    /// connection). On a cluster: `None` (a batch may refresh the slot map and redo groups,
    /// so the cache keeps its own timer).
    fn call_bound(&self) -> Option<Duration> {
        if self.is_cluster() {
            None
        } else {
            Some(self.inner.config.response_timeout.saturating_mul(2))
        }
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

    /// Pipelines of `SET … NX`: on a standalone server in chunks of `batch_chunk`, on a
    /// cluster one per hash slot (whatever [`ClusterWrites`] says: this serves background
    /// migrations, not the hot path), all at once.
    async fn set_many_if_absent(&self, entries: &[SetEntry]) -> Result<Vec<bool>, StoreError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let chunk = self.inner.config.batch_chunk;
        let indexed: Vec<(usize, &SetEntry)> = entries.iter().enumerate().collect();
        let slots = if self.is_cluster() {
            by_slot(&indexed, |(_, e)| &e.key)
        } else {
            vec![indexed.iter().collect()]
        };
        // Entry indices, one group per pipeline.
        let groups: Vec<Vec<usize>> = slots
            .iter()
            .flat_map(|slot| slot.chunks(chunk))
            .map(|group| group.iter().map(|(i, _)| *i).collect())
            .collect();
        let pipes: Vec<Pipeline> = groups
            .iter()
            .map(|group| {
                let mut pipe = redis::pipe();
                for &i in group {
                    let e = &entries[i];
                    let c = pipe.cmd("SET").arg(&e.key).arg(&e.value).arg("NX");
                    if let Some(ttl) = e.ttl {
                        c.arg("PX").arg(ttl_millis(ttl));
                    }
                }
                pipe
            })
            .collect();
        let answers = Box::pin(try_join_all(
            pipes
                .iter()
                .map(|p| self.query_pipe::<Vec<Option<String>>>(p)),
        ))
        .await?;
        let mut out = vec![false; entries.len()];
        for (group, answer) in groups.iter().zip(answers) {
            if answer.len() != group.len() {
                return Err(StoreError::backend(RedisStoreError::new(
                    ErrorKind::Protocol,
                    format!(
                        "a pipeline of {} SET NX returned {} answers",
                        group.len(),
                        answer.len()
                    ),
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
        let mget = |chunk: &[Vec<u8>]| {
            let mut cmd = redis::cmd("MGET");
            for k in chunk {
                cmd.arg(k.as_slice());
            }
            cmd
        };
        let out: Vec<Option<Vec<u8>>> = if keys.len() <= self.inner.config.batch_chunk {
            self.query(&mget(keys)).await?
        } else {
            let cmds: Vec<Cmd> = keys
                .chunks(self.inner.config.batch_chunk)
                .map(mget)
                .collect();
            let parts = Box::pin(try_join_all(
                cmds.iter().map(|c| self.query::<Vec<Option<Vec<u8>>>>(c)),
            ))
            .await?;
            parts.into_iter().flatten().collect()
        };
        if out.len() != keys.len() {
            return Err(StoreError::backend(RedisStoreError::new(
                ErrorKind::Protocol,
                format!("MGET returned {} values for {} keys", out.len(), keys.len()),
            )));
        }
        Ok(out)
    }

    async fn set_many(&self, entries: &[SetEntry]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        if !self.is_cluster() {
            let all: Vec<&SetEntry> = entries.iter().collect();
            return self.set_pipelined(&all).await;
        }
        // Boxed: a standalone server's futures stay the size of one pipeline's.
        Box::pin(async {
            match self.inner.config.cluster_writes {
                ClusterWrites::PerKey => {
                    try_join_all(entries.iter().map(|e| self.set(&e.key, &e.value, e.ttl))).await?;
                }
                ClusterWrites::PerSlot => {
                    let groups = by_slot(entries, |e| &e.key);
                    try_join_all(groups.iter().map(|g| self.set_pipelined(g))).await?;
                }
                ClusterWrites::PerNode => self.set_per_node(entries).await?,
            }
            Ok(())
        })
        .await
    }

    async fn delete_many(&self, keys: &[Vec<u8>]) -> Result<u64, StoreError> {
        if keys.is_empty() {
            return Ok(0);
        }
        if !self.is_cluster() {
            let all: Vec<&Vec<u8>> = keys.iter().collect();
            return self.unlink_chunks(&all).await;
        }
        Box::pin(async {
            match self.inner.config.cluster_writes {
                ClusterWrites::PerKey => {
                    let n = try_join_all(keys.iter().map(|k| self.delete(k))).await?;
                    Ok(n.into_iter().map(u64::from).sum())
                }
                ClusterWrites::PerSlot => {
                    let groups = by_slot(keys, |k| k);
                    let n = try_join_all(groups.iter().map(|g| self.unlink_chunks(g))).await?;
                    Ok(n.into_iter().sum())
                }
                ClusterWrites::PerNode => self.delete_per_node(keys).await,
            }
        })
        .await
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
                    "not a scan cursor of a RedisStore",
                ))
            })?)
        };
        match (self.is_cluster(), position) {
            (false, None) => self.scan_standalone(prefix, &pattern, 0, count).await,
            (false, Some(Position::Standalone { cursor })) => {
                self.scan_standalone(prefix, &pattern, cursor, count).await
            }
            (true, None) => self.scan_cluster(prefix, &pattern, None, count).await,
            (
                true,
                Some(Position::Cluster {
                    index,
                    slot,
                    cursor,
                }),
            ) => {
                self.scan_cluster(prefix, &pattern, Some((index, slot, cursor)), count)
                    .await
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
    fn cluster_slots_parse() {
        let node =
            |port: i64, id: &str| Value::Array(vec![bulk("127.0.0.1"), Value::Int(port), bulk(id)]);
        let range = |a: i64, b: i64, n: Value| Value::Array(vec![Value::Int(a), Value::Int(b), n]);
        let v = Value::Array(vec![
            range(10923, 16383, node(3, "c")),
            range(0, 5460, node(1, "a")),
            range(5461, 8000, node(2, "b")),
            range(8001, 10922, node(2, "b")),
        ]);
        assert_eq!(parse_primaries(&v), Some(vec![0, 5461, 10923]));
        assert_eq!(parse_primaries(&Value::Nil), None);
        assert_eq!(parse_primaries(&Value::Array(vec![])), Some(vec![]));
    }

    #[test]
    fn ttl_rounding() {
        assert_eq!(ttl_millis(Duration::ZERO), 1);
        assert_eq!(ttl_millis(Duration::from_micros(1500)), 1);
        assert_eq!(ttl_millis(Duration::from_secs(2)), 2000);
        assert_eq!(ttl_millis(Duration::MAX), MAX_PX);
    }
}
