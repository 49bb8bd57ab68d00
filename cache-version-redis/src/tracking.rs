//! [`Store::watch`](cache_version_core::Store::watch) on Redis: server-assisted client-side
//! caching in broadcasting mode.
//!
//! Each watch opens, to every primary (the one server, or each primary of a cluster), a
//! connection of its own that speaks RESP3 and sends `CLIENT TRACKING ON BCAST PREFIX
//! <prefix>`. From then on the server pushes an `invalidate` message for every key under the
//! prefix that changes, whoever changes it and however (a write, `DEL`/`UNLINK`, an expiry,
//! an eviction), and one with a null key for `FLUSHALL`/`FLUSHDB`. A push reaches the watch
//! from the connection's reader at once (no task in between).
//!
//! The watch is established while every primary's connection tracks. A connection that drops
//! (the server restarted, `CLIENT KILL`, a network error) or whose `PING` (every
//! [`PING_EVERY`]) is not answered within the response timeout makes the watch `Lost`; it is
//! reopened with backoff (100 ms, doubling up to the store's `max_reconnect_delay`) and the
//! watch is `Established` again once tracking is back on every primary. On a cluster, the
//! primaries are read from `CLUSTER SLOTS` every [`TOPOLOGY_EVERY`]: a change of the set (a
//! failover, a primary added or removed) is a `Lost` period until every current primary
//! tracks.
//!
//! Refusals no retry can fix end the watch with an error ([`Watch::error`]): wrong
//! credentials, an ACL without `CLIENT`, a server without `HELLO 3` or `CLIENT TRACKING`
//! (before Redis 6). Every message is redacted like the store's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cache_version_core::{Watch, WatchSender};
use redis::{
    AsyncConnectionConfig, ConnectionAddr, ConnectionInfo, ProtocolVersion, PushInfo, PushKind,
    Value,
};
use tokio::sync::Notify;

use crate::error::{ErrorKind, RedisStoreError, Secrets};

/// How often a tracking connection is checked with `PING` (a connection that went silent
/// without closing, a network partition, is found within this plus the response timeout).
pub(crate) const PING_EVERY: Duration = Duration::from_secs(1);

/// How often a cluster's primaries are read again (`CLUSTER SLOTS`).
pub(crate) const TOPOLOGY_EVERY: Duration = Duration::from_secs(1);

/// The first delay between attempts to reopen a tracking connection.
const MIN_DELAY: Duration = Duration::from_millis(100);

/// What a store needs to open tracking connections.
#[derive(Clone)]
pub(crate) struct Target {
    /// The one server, or a cluster node to copy the credentials and TLS settings from.
    pub(crate) info: ConnectionInfo,
    pub(crate) cluster: bool,
    pub(crate) connect_timeout: Duration,
    pub(crate) response_timeout: Duration,
    pub(crate) max_delay: Duration,
    pub(crate) secrets: Secrets,
}

/// A cluster's primaries as `(host, port)`, from a `CLUSTER SLOTS` answer.
pub(crate) type Endpoints = Vec<(String, u16)>;

/// One reading of a cluster's primaries.
pub(crate) enum Read {
    Nodes(Endpoints),
    /// `CLUSTER SLOTS` failed (tried again later).
    Failed,
    /// The store was dropped: the watch ends.
    Gone,
}

/// How the cluster's primaries are read (through the store's cluster connection, held
/// weakly).
pub(crate) type Primaries = Arc<
    dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Read> + Send>> + Send + Sync,
>;

/// One node's connection info: the target's, at another address.
fn node_info(template: &ConnectionInfo, host: &str, port: u16) -> ConnectionInfo {
    let addr = match template.addr() {
        ConnectionAddr::TcpTls {
            insecure,
            tls_params,
            ..
        } => ConnectionAddr::TcpTls {
            host: host.to_owned(),
            port,
            insecure: *insecure,
            tls_params: tls_params.clone(),
        },
        _ => ConnectionAddr::Tcp(host.to_owned(), port),
    };
    template.clone().set_addr(addr)
}

/// Which nodes track, and the watch they report to.
struct Aggregate {
    tx: WatchSender,
    /// Tracking now, per node.
    nodes: Mutex<HashMap<String, bool>>,
}

impl Aggregate {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, bool>> {
        self.nodes.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, node: &str, tracking: bool) {
        let mut nodes = self.lock();
        match nodes.get_mut(node) {
            Some(t) => *t = tracking,
            // Removed from the cluster meanwhile.
            None => return,
        }
        if !tracking {
            self.tx.lost();
        } else if nodes.values().all(|t| *t) {
            self.tx.established();
        }
    }

    /// Established when every node tracks (after nodes were removed).
    fn recheck(&self) {
        let nodes = self.lock();
        if !nodes.is_empty() && nodes.values().all(|t| *t) {
            self.tx.established();
        }
    }
}

/// Starts watching `prefix` on `target`'s primaries (on the current Tokio runtime).
pub(crate) fn watch(target: Target, prefix: &[u8], primaries: Option<Primaries>) -> Watch {
    let (tx, watch) = Watch::channel();
    let runtime = match tokio::runtime::Handle::try_current() {
        Ok(rt) => rt,
        Err(_) => {
            tx.fail(
                "RedisStore::watch needs a Tokio runtime to run its tracking connections: \
                 call it from within the runtime",
            );
            return watch;
        }
    };
    let agg = Arc::new(Aggregate {
        tx,
        nodes: Mutex::new(HashMap::new()),
    });
    let prefix = prefix.to_vec();
    runtime.spawn(supervise(target, prefix, primaries, agg));
    watch
}

/// Runs the watch until its consumer drops it (or the store goes, or tracking is refused for
/// good): one task per node, and on a cluster the topology poll.
async fn supervise(
    target: Target,
    prefix: Vec<u8>,
    primaries: Option<Primaries>,
    agg: Arc<Aggregate>,
) {
    let mut tasks: HashMap<String, tokio::task::JoinHandle<()>> = HashMap::new();
    let start = |tasks: &mut HashMap<String, tokio::task::JoinHandle<()>>,
                 name: String,
                 info: ConnectionInfo| {
        agg.lock().insert(name.clone(), false);
        let task = tokio::spawn(node(
            target.clone(),
            info,
            name.clone(),
            prefix.clone(),
            agg.clone(),
        ));
        tasks.insert(name, task);
    };
    let shown = |info: &ConnectionInfo| match info.addr() {
        ConnectionAddr::Tcp(h, p)
        | ConnectionAddr::TcpTls {
            host: h, port: p, ..
        } => {
            format!("{h}:{p}")
        }
        other => format!("{other}"),
    };
    match &primaries {
        None => start(&mut tasks, shown(&target.info), target.info.clone()),
        // The first set of primaries, before anything can be tracked.
        Some(read) => loop {
            match unless_closed(&agg.tx, read()).await {
                None => return,
                Some(Read::Nodes(nodes)) if !nodes.is_empty() => {
                    for (host, port) in nodes {
                        let info = node_info(&target.info, &host, port);
                        start(&mut tasks, format!("{host}:{port}"), info);
                    }
                    break;
                }
                Some(Read::Nodes(_) | Read::Failed) => {}
                Some(Read::Gone) => {
                    agg.tx.fail("the store was dropped");
                    return;
                }
            }
            if unless_closed(&agg.tx, tokio::time::sleep(TOPOLOGY_EVERY))
                .await
                .is_none()
            {
                return;
            }
        },
    }
    loop {
        let Some(read) = &primaries else {
            agg.tx.closed().await;
            break;
        };
        if unless_closed(&agg.tx, tokio::time::sleep(TOPOLOGY_EVERY))
            .await
            .is_none()
        {
            break;
        }
        let Some(found) = unless_closed(&agg.tx, read()).await else {
            break;
        };
        match found {
            Read::Nodes(nodes) if !nodes.is_empty() => {
                let now: HashMap<String, (String, u16)> = nodes
                    .into_iter()
                    .map(|(h, p)| (format!("{h}:{p}"), (h, p)))
                    .collect();
                if now.len() == tasks.len() && now.keys().all(|k| tasks.contains_key(k)) {
                    continue;
                }
                tracing::info!(
                    target: "cache_version_redis",
                    primaries = ?now.keys().collect::<Vec<_>>(),
                    "the cluster's primaries changed: tracking them anew"
                );
                // Lost until every current primary tracks.
                agg.tx.lost();
                tasks.retain(|name, task| {
                    let keep = now.contains_key(name);
                    if !keep {
                        task.abort();
                        agg.lock().remove(name);
                    }
                    keep
                });
                for (name, (host, port)) in now {
                    if !tasks.contains_key(&name) {
                        let info = node_info(&target.info, &host, port);
                        start(&mut tasks, name, info);
                    }
                }
                // Only removals: the remaining nodes may all track already.
                agg.recheck();
            }
            Read::Nodes(_) | Read::Failed => {}
            Read::Gone => {
                agg.tx.fail("the store was dropped");
                break;
            }
        }
    }
    for task in tasks.values() {
        task.abort();
    }
}

/// `f`'s output, or `None` when the watch's consumer leaves first.
async fn unless_closed<T>(tx: &WatchSender, f: impl std::future::Future<Output = T>) -> Option<T> {
    let f = std::pin::pin!(f);
    let closed = std::pin::pin!(tx.closed());
    match futures_util::future::select(f, closed).await {
        futures_util::future::Either::Left((v, _)) => Some(v),
        futures_util::future::Either::Right(_) => None,
    }
}

/// Keeps one node's tracking connection open, reopening it with backoff, until the watch ends
/// (the supervisor aborts it) or the node refuses tracking for good.
async fn node(
    target: Target,
    info: ConnectionInfo,
    name: String,
    prefix: Vec<u8>,
    agg: Arc<Aggregate>,
) {
    let mut delay = MIN_DELAY;
    let mut failures = 0u32;
    loop {
        match open(&target, &info, &prefix, &agg).await {
            Ok((mut conn, dropped)) => {
                if failures > 0 {
                    tracing::info!(target: "cache_version_redis", node = %name, failures, "tracking re-established");
                } else {
                    tracing::debug!(target: "cache_version_redis", node = %name, "tracking established");
                }
                failures = 0;
                delay = MIN_DELAY;
                agg.set(&name, true);
                let why = keep_alive(&target, &mut conn, &dropped).await;
                agg.set(&name, false);
                tracing::warn!(target: "cache_version_redis", node = %name, reason = %why, "tracking connection lost; reconnecting");
                drop(conn);
            }
            Err(error) if fatal(&error) => {
                tracing::error!(target: "cache_version_redis", node = %name, %error, "tracking refused; the local tier stays off");
                agg.tx.fail(error);
                return;
            }
            Err(error) => {
                if failures == 0 {
                    tracing::warn!(target: "cache_version_redis", node = %name, %error, "cannot open the tracking connection; retrying");
                } else {
                    tracing::debug!(target: "cache_version_redis", node = %name, %error, failures, "cannot open the tracking connection");
                }
                failures += 1;
            }
        }
        tokio::time::sleep(crate::link::jittered(delay)).await;
        delay = (delay * 2).min(target.max_delay);
    }
}

/// A refusal that no retry can fix: credentials, ACL, configuration, or a server that does
/// not know `HELLO 3` or `CLIENT TRACKING` (an error answer other than a transient state).
fn fatal(e: &RedisStoreError) -> bool {
    if !e.is_retryable() {
        return true;
    }
    if e.kind() != ErrorKind::Server {
        return false;
    }
    let code = e.redis_error().and_then(|r| r.code().map(str::to_owned));
    let transient = ["LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN"];
    !code.is_some_and(|c| transient.contains(&c.as_str()))
}

/// Opens a RESP3 connection whose pushes go to the watch, and turns tracking on.
async fn open(
    target: &Target,
    info: &ConnectionInfo,
    prefix: &[u8],
    agg: &Arc<Aggregate>,
) -> Result<(redis::aio::MultiplexedConnection, Arc<Notify>), RedisStoreError> {
    let shown = || match info.addr() {
        ConnectionAddr::Tcp(h, p)
        | ConnectionAddr::TcpTls {
            host: h, port: p, ..
        } => {
            format!("{h}:{p}")
        }
        other => format!("{other}"),
    };
    let fail = |e: redis::RedisError, what: &str| {
        RedisStoreError::from_redis(&e, &target.secrets).context(format!("{what} on {}", shown()))
    };
    let settings = info
        .redis_settings()
        .clone()
        .set_protocol(ProtocolVersion::RESP3);
    let client = redis::Client::open(info.clone().set_redis_settings(settings))
        .map_err(|e| fail(e, "tracking connection"))?;
    let dropped = Arc::new(Notify::new());
    let sink = {
        let tx = agg.tx.clone();
        let dropped = dropped.clone();
        move |push: PushInfo| {
            on_push(&tx, &dropped, push);
            Ok::<(), std::convert::Infallible>(())
        }
    };
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(target.connect_timeout))
        .set_response_timeout(Some(target.response_timeout))
        .set_push_sender(sink);
    let connect = client.get_multiplexed_async_connection_with_config(&config);
    let mut conn = match tokio::time::timeout(target.connect_timeout, connect).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return Err(fail(e, "opening the tracking connection")),
        Err(_) => {
            return Err(RedisStoreError::new(
                ErrorKind::Timeout,
                format!(
                    "opening the tracking connection on {}: no answer within {:?}",
                    shown(),
                    target.connect_timeout
                ),
            ))
        }
    };
    let mut cmd = redis::cmd("CLIENT");
    cmd.arg("TRACKING")
        .arg("ON")
        .arg("BCAST")
        .arg("PREFIX")
        .arg(prefix);
    match tokio::time::timeout(target.response_timeout, cmd.query_async::<()>(&mut conn)).await {
        Ok(Ok(())) => Ok((conn, dropped)),
        Ok(Err(e)) => Err(fail(e, "CLIENT TRACKING ON BCAST")),
        Err(_) => Err(RedisStoreError::new(
            ErrorKind::Timeout,
            format!(
                "CLIENT TRACKING ON BCAST on {}: no answer within {:?}",
                shown(),
                target.response_timeout
            ),
        )),
    }
}

/// One push from a tracking connection: invalidated keys, a flush (a null key), or the
/// connection's end.
fn on_push(tx: &WatchSender, dropped: &Notify, push: PushInfo) {
    match push.kind {
        PushKind::Invalidate => match push.data.into_iter().next() {
            Some(Value::Array(keys)) | Some(Value::Set(keys)) => tx.invalidated(
                keys.into_iter()
                    .filter_map(|k| match k {
                        Value::BulkString(b) => Some(b),
                        Value::SimpleString(s) => Some(s.into_bytes()),
                        _ => None,
                    })
                    .collect(),
            ),
            // `FLUSHALL`/`FLUSHDB` (and anything this code does not understand: flushing is
            // always safe).
            _ => tx.flushed(),
        },
        PushKind::Disconnection => dropped.notify_one(),
        _ => {}
    }
}

/// Waits until the connection drops or stops answering `PING`; returns why.
async fn keep_alive(
    target: &Target,
    conn: &mut redis::aio::MultiplexedConnection,
    dropped: &Notify,
) -> String {
    loop {
        let closed = std::pin::pin!(dropped.notified());
        let tick = std::pin::pin!(tokio::time::sleep(PING_EVERY));
        if let futures_util::future::Either::Left(_) =
            futures_util::future::select(closed, tick).await
        {
            return "the connection closed".into();
        }
        let ping = redis::cmd("PING");
        match tokio::time::timeout(target.response_timeout, ping.query_async::<()>(conn)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return RedisStoreError::from_redis(&e, &target.secrets)
                    .message()
                    .to_owned()
            }
            Err(_) => return format!("PING not answered within {:?}", target.response_timeout),
        }
    }
}
