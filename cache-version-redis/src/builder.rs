//! [`RedisStoreBuilder`]: settings, URL checks and the first connection.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, IntoConnectionInfo};

use crate::config::{ClusterWrites, RedisConfig};
use crate::error::{check_url, redact_url, ErrorKind, RedisStoreError, Secrets};
use crate::link::{Connector, Link};
use crate::store::{Conn, RedisStore};

pub(crate) enum Target {
    Standalone(String),
    Cluster(Vec<String>),
}

/// Configures and connects a [`RedisStore`]: [`RedisStore::builder`] for one server,
/// [`RedisStore::cluster_builder`] for a cluster.
///
/// URLs are `redis://[[user]:password@]host[:port][/db]`, `rediss://…` (TLS, with the `tls`
/// feature) or `redis+unix:///path/to/socket[?db=N&user=U&pass=P]`. A user name and password
/// given to the builder replace the URL's (and need no percent-encoding). `Debug` never shows
/// a password, however the URL is written.
///
/// Two ways to connect:
/// - [`build`](Self::build) connects now and fails when the server cannot be reached: for
///   services that should not start without their cache;
/// - [`build_lazy`](Self::build_lazy) returns at once and connects in the background: for
///   services that must start while Redis is down. Until connected, every operation fails at
///   once with [`StoreError::Unavailable`](cache_version_core::StoreError::Unavailable)
///   (a fail-open cache serves from its loader meanwhile).
///
/// ```no_run
/// use cache_version_redis::RedisStore;
/// use std::time::Duration;
///
/// # async fn f() -> Result<(), cache_version_redis::RedisStoreError> {
/// let store = RedisStore::builder("redis://10.0.0.5:6379/0")
///     .username("app")
///     .password("ab/cd+ef==") // as is: no percent-encoding needed here
///     .connect_timeout(Duration::from_millis(500))
///     .response_timeout(Duration::from_millis(200))
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
pub struct RedisStoreBuilder {
    pub(crate) target: Target,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) config: RedisConfig,
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let urls: Vec<String> = match &self.target {
            Target::Standalone(u) => vec![redact_url(u)],
            Target::Cluster(us) => us.iter().map(|u| redact_url(u)).collect(),
        };
        f.debug_struct("RedisStoreBuilder")
            .field("urls", &urls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("config", &self.config)
            .finish()
    }
}

/// What `build` and `build_lazy` share: checked URLs and a way to connect.
enum Prepared {
    Standalone(Connector<MultiplexedConnection>),
    Cluster(Connector<ClusterConnection>),
}

impl RedisStoreBuilder {
    pub(crate) fn new(target: Target) -> Self {
        RedisStoreBuilder {
            target,
            username: None,
            password: None,
            config: RedisConfig::default(),
        }
    }

    /// The user name (Redis 6 ACLs), replacing the URL's.
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// The password, replacing the URL's. Given here, it needs no percent-encoding.
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// All settings at once.
    ///
    /// ```
    /// use cache_version_redis::{RedisConfig, RedisStore};
    /// use std::time::Duration;
    ///
    /// let mut config = RedisConfig::default();
    /// config.response_timeout = Duration::from_millis(100);
    /// let builder = RedisStore::builder("redis://127.0.0.1").config(config);
    /// ```
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

    /// See [`RedisConfig::max_reconnect_delay`].
    pub fn max_reconnect_delay(mut self, delay: Duration) -> Self {
        self.config.max_reconnect_delay = delay;
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

    /// See [`RedisConfig::batch_bytes`].
    pub fn batch_bytes(mut self, bytes: usize) -> Self {
        self.config.batch_bytes = bytes;
        self
    }

    /// See [`RedisConfig::batch_concurrency`].
    pub fn batch_concurrency(mut self, chunks: usize) -> Self {
        self.config.batch_concurrency = chunks;
        self
    }

    /// See [`RedisConfig::cluster_writes`].
    pub fn cluster_writes(mut self, mode: ClusterWrites) -> Self {
        self.config.cluster_writes = mode;
        self
    }

    /// Connects now, trying `1 + reconnect_retries` times with backoff.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), cache_version_redis::RedisStoreError> {
    /// let store = cache_version_redis::RedisStore::builder("redis://127.0.0.1:6379")
    ///     .build()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// - [`ErrorKind::Config`]: an invalid URL (the message shows the expected forms), `rediss://`
    ///   without the `tls` feature, an empty list of cluster nodes, a database number the
    ///   server does not have;
    /// - [`ErrorKind::Connection`] / [`ErrorKind::Timeout`]: no server answered within the
    ///   connect timeout, on every try;
    /// - [`ErrorKind::Auth`] / [`ErrorKind::Permission`]: the server refused the credentials
    ///   or the user's ACL (not retried);
    /// - [`ErrorKind::Server`]: the server answered the connection handshake with another
    ///   error, on every try.
    ///
    /// The `Config`, `Auth` and `Permission` errors come after the first try: retrying cannot
    /// fix them ([`RedisStoreError::is_retryable`] is `false`).
    pub async fn build(self) -> Result<RedisStore, RedisStoreError> {
        let (prepared, config, target, secrets, tracking) = self.prepare()?;
        let shown = target.join(", ");
        let attempts = config.reconnect_retries.saturating_add(1);
        let conn = match prepared {
            Prepared::Standalone(connector) => Conn::Standalone(
                Link::connect(
                    connector,
                    attempts,
                    config.connect_timeout,
                    config.max_reconnect_delay,
                    shown,
                    secrets.clone(),
                )
                .await?,
            ),
            Prepared::Cluster(connector) => Conn::Cluster(
                Link::connect(
                    connector,
                    attempts,
                    // The cluster client connects to several nodes in turn.
                    config.connect_timeout.saturating_mul(2),
                    config.max_reconnect_delay,
                    shown,
                    secrets.clone(),
                )
                .await?,
            ),
        };
        Ok(RedisStore::with_conn(
            conn,
            config,
            target,
            secrets,
            Some(tracking),
        ))
    }

    /// Returns at once and connects in the background, for a service that must start while
    /// Redis is down.
    ///
    /// Until the first connection is made, every operation fails at once with
    /// [`StoreError::Unavailable`](cache_version_core::StoreError::Unavailable) (no call
    /// waits for a timeout), so a fail-open [`Cache`](cache_version_core::Cache) serves from
    /// its loaders meanwhile and its circuit breaker covers the gap. The store tries again
    /// every 100 ms at first, backing off to
    /// [`max_reconnect_delay`](RedisConfig::max_reconnect_delay) (1 s by default), for as
    /// long as it lives; [`RedisStore::is_connected`] tells whether it is connected now. An
    /// error retrying cannot fix (credentials, ACL, database number) ends the attempts: every
    /// operation then fails with it, and it is logged (`tracing`, target
    /// `cache_version_redis`).
    ///
    /// ```no_run
    /// use cache_version_redis::RedisStore;
    ///
    /// # async fn f() -> Result<(), cache_version_redis::RedisStoreError> {
    /// // Succeeds even when nothing listens yet.
    /// let store = RedisStore::builder("redis://127.0.0.1:6379").build_lazy()?;
    /// let cluster = RedisStore::cluster_builder(["redis://10.0.0.1:7000"]).build_lazy()?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Only what can be checked without a server, as [`ErrorKind::Config`]: an invalid URL,
    /// `rediss://` without the `tls` feature, an empty list of cluster nodes, or no Tokio
    /// runtime to connect on (call it from within one).
    pub fn build_lazy(self) -> Result<RedisStore, RedisStoreError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(RedisStoreError::new(
                ErrorKind::Config,
                "build_lazy needs a Tokio runtime to connect in the background: call it from \
                 within the runtime (an async fn, or after `Runtime::enter`)",
            ));
        }
        let (prepared, config, target, secrets, tracking) = self.prepare()?;
        let shown = target.join(", ");
        let conn = match prepared {
            Prepared::Standalone(connector) => Conn::Standalone(Link::lazy(
                connector,
                config.connect_timeout,
                config.max_reconnect_delay,
                shown,
                secrets.clone(),
            )),
            Prepared::Cluster(connector) => Conn::Cluster(Link::lazy(
                connector,
                config.connect_timeout.saturating_mul(2),
                config.max_reconnect_delay,
                shown,
                secrets.clone(),
            )),
        };
        Ok(RedisStore::with_conn(
            conn,
            config,
            target,
            secrets,
            Some(tracking),
        ))
    }

    /// Checks the URLs and settings, and makes the connector; also returns the first URL's
    /// connection info (credentials applied), for tracking connections.
    #[allow(clippy::type_complexity)]
    fn prepare(
        self,
    ) -> Result<
        (
            Prepared,
            RedisConfig,
            Vec<String>,
            Secrets,
            redis::ConnectionInfo,
        ),
        RedisStoreError,
    > {
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
        let target: Vec<String> = urls.iter().map(|u| redact_url(u)).collect();
        if urls.is_empty() {
            return Err(RedisStoreError::new(
                ErrorKind::Config,
                "a cluster needs at least one node URL (redis://host:port)",
            ));
        }
        let mut infos = Vec::with_capacity(urls.len());
        for (u, shown) in urls.iter().zip(&target) {
            check_url(u, shown)?;
            check_tls(u, shown)?;
            let info = u.into_connection_info().map_err(|e| {
                RedisStoreError::from_redis(&e, &secrets).context(format!(
                    "invalid Redis URL `{shown}` ({})",
                    crate::error::URL_FORMS
                ))
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
        let tracking = infos[0].clone();
        let shown = target.join(", ");
        let fail = |e: redis::RedisError| {
            RedisStoreError::from_redis(&e, &secrets).context(format!("connecting to {shown}"))
        };
        let prepared = match self.target {
            Target::Standalone(_) => {
                let info = infos.pop().expect("one URL");
                let client = redis::Client::open(info).map_err(fail)?;
                let conn_config = AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(config.connect_timeout))
                    // Bounded by the store, per attempt, together with the wait for a
                    // connection.
                    .set_response_timeout(None);
                let connector: Connector<MultiplexedConnection> = Arc::new(move || {
                    let client = client.clone();
                    let conn_config = conn_config.clone();
                    Box::pin(async move {
                        client
                            .get_multiplexed_async_connection_with_config(&conn_config)
                            .await
                    })
                });
                Prepared::Standalone(connector)
            }
            Target::Cluster(_) => {
                let client = redis::cluster::ClusterClientBuilder::new(infos)
                    .connection_timeout(config.connect_timeout)
                    .response_timeout(config.response_timeout)
                    // A dead node: fail after a short retry instead of waiting out the
                    // response timeout, so the error says the node is unreachable.
                    .retries(CLUSTER_RETRIES)
                    .min_retry_wait(10)
                    .max_retry_wait(100)
                    .build()
                    .map_err(fail)?;
                let connector: Connector<ClusterConnection> = Arc::new(move || {
                    let client = client.clone();
                    Box::pin(async move { client.get_async_connection().await })
                });
                Prepared::Cluster(connector)
            }
        };
        Ok((prepared, config, target, secrets, tracking))
    }
}

/// Retries of the cluster client for one request (redirections, a node reconnecting).
const CLUSTER_RETRIES: u32 = 3;

fn check_tls(url: &str, shown: &str) -> Result<(), RedisStoreError> {
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
