//! Real Redis servers for tests, on free loopback ports, stopped with the test binary.
//!
//! - [`RedisServer::shared`]: one `redis-server` per test binary, started on first use.
//! - [`RedisServer::start`]: a server of one's own (for tests that pause, kill clients or
//!   need a password), stopped when dropped.
//! - [`RedisCluster::shared`] / [`RedisCluster::start`]: a local Redis Cluster of three
//!   primaries (`--cluster-enabled yes`, `redis-cli --cluster create`), ready when every node
//!   reports `cluster_state:ok`.
//!
//! Every server runs with `--save '' --appendonly no` in its own temporary directory, bound
//! to 127.0.0.1 only. No server outlives the test binary, however it ends: each one is
//! started by a small `sh` watchdog that holds the read end of a pipe whose write end only
//! this process has. When the [`RedisServer`] is dropped, or the process exits or is killed
//! (the kernel closes its descriptors), the watchdog reads end-of-file, kills the server with
//! `SIGKILL` and removes the directory. Statics are never dropped, so this is also what stops
//! the shared servers.
//!
//! If `redis-server` is not installed, starting one panics with how to install it.
#![allow(missing_docs)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cache_version_redis::redis;

/// What a test failing for lack of Redis says.
pub const INSTALL_HINT: &str =
    "redis-server is not installed: install it with `apt-get install -y redis-server` \
     (Debian/Ubuntu; it brings redis-cli too)";

/// Cluster bus port = port + 10000, which must stay a valid port.
const MAX_CLUSTER_PORT: u16 = 55535;

/// Panics with [`INSTALL_HINT`] unless `redis-server` and `redis-cli` run.
pub fn require_redis() {
    static CHECKED: OnceLock<Result<(), String>> = OnceLock::new();
    let checked = CHECKED.get_or_init(|| {
        for bin in ["redis-server", "redis-cli"] {
            match Command::new(bin)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
            {
                Ok(s) if s.success() => {}
                Ok(s) => return Err(format!("`{bin} --version` failed ({s}). {INSTALL_HINT}")),
                Err(e) => return Err(format!("cannot run `{bin}` ({e}). {INSTALL_HINT}")),
            }
        }
        Ok(())
    });
    if let Err(msg) = checked {
        panic!("{msg}");
    }
}

/// A loopback port that is free now (and, for a cluster node, whose bus port is too).
fn free_port(cluster: bool) -> u16 {
    for _ in 0..1000 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        if !cluster {
            return port;
        }
        if port < MAX_CLUSTER_PORT && TcpListener::bind((Ipv4Addr::LOCALHOST, port + 10000)).is_ok()
        {
            return port;
        }
    }
    panic!("no free loopback port found");
}

/// One `redis-server` process on 127.0.0.1, stopped when dropped.
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    /// Closing this (drop, or the process ending) makes the watchdog kill the server.
    guard: Option<ChildStdin>,
    watchdog: Child,
}

impl std::fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisServer")
            .field("port", &self.port)
            .field("dir", &self.dir)
            .finish()
    }
}

impl RedisServer {
    /// The server shared by every test of this binary.
    pub fn shared() -> &'static RedisServer {
        static SHARED: OnceLock<RedisServer> = OnceLock::new();
        SHARED.get_or_init(RedisServer::start)
    }

    /// A new server of one's own.
    pub fn start() -> RedisServer {
        RedisServer::start_with(&[])
    }

    /// A new server with extra arguments (`["--requirepass", "pw"]`).
    pub fn start_with(extra: &[&str]) -> RedisServer {
        RedisServer::spawn(extra, false)
    }

    fn spawn(extra: &[&str], cluster: bool) -> RedisServer {
        require_redis();
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let mut last_log = String::new();
        for _attempt in 0..10 {
            let port = free_port(cluster);
            let dir = std::env::temp_dir().join(format!(
                "cache-version-redis-{}-{}-{port}",
                std::process::id(),
                SEQ.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).expect("create the server's directory");
            let mut args: Vec<String> = [
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                dir.to_str().expect("utf-8 temp dir"),
                "--logfile",
                "redis.log",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            args.extend(extra.iter().map(|s| s.to_string()));
            // The watchdog: starts the server, waits for EOF on stdin, kills it, cleans up.
            let mut watchdog = Command::new("sh")
                .arg("-c")
                .arg(
                    "redis-server \"$@\" </dev/null >/dev/null 2>&1 & pid=$!\n\
                     read _ignored\n\
                     kill -9 \"$pid\" 2>/dev/null\n\
                     wait \"$pid\" 2>/dev/null\n\
                     rm -rf \"$REDIS_TEST_DIR\"",
                )
                .arg("sh")
                .args(&args)
                .env("REDIS_TEST_DIR", &dir)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn sh");
            let guard = watchdog.stdin.take();
            let mut server = RedisServer {
                port,
                dir,
                guard,
                watchdog,
            };
            if server.wait_ready(Duration::from_secs(10)) {
                return server;
            }
            last_log = server.log();
            drop(server);
            if !last_log.contains("Address already in use") {
                break;
            }
        }
        panic!("redis-server did not start; its log:\n{last_log}");
    }

    /// Waits until the server answers `PING` (`+PONG`, or `-NOAUTH` with a password).
    fn wait_ready(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.watchdog.try_wait() {
                return false;
            }
            if let Ok(reply) = raw_command(self.port, b"PING\r\n") {
                if reply.starts_with("+PONG") || reply.starts_with("-NOAUTH") {
                    return true;
                }
            }
            if self.log().contains("Address already in use") {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `redis://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// A synchronous connection for administration (`CLIENT KILL`, `CLIENT PAUSE`, …).
    pub fn admin(&self) -> redis::Connection {
        self.admin_as(None)
    }

    /// An administration connection that authenticates as `user:password`.
    pub fn admin_as(&self, auth: Option<(&str, &str)>) -> redis::Connection {
        let url = match auth {
            Some((user, pw)) => format!("redis://{user}:{pw}@127.0.0.1:{}", self.port),
            None => self.url(),
        };
        let client = redis::Client::open(url).expect("valid URL");
        let con = client
            .get_connection_with_timeout(Duration::from_secs(5))
            .expect("admin connection");
        con.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        con
    }

    /// Runs one command on an admin connection.
    pub fn cmd<T: redis::FromRedisValue>(&self, args: &[&str]) -> T {
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query(&mut self.admin())
            .unwrap_or_else(|e| panic!("{args:?} on port {}: {e}", self.port))
    }

    /// The ids of this server's connections with client-side tracking on (`CLIENT LIST`
    /// flags hold `t`): the local tiers' and watches' report connections.
    pub fn tracking_clients(&self) -> Vec<String> {
        let list: String = self.cmd(&["CLIENT", "LIST"]);
        list.lines()
            .filter(|l| {
                l.split(' ')
                    .find_map(|f| f.strip_prefix("flags="))
                    .is_some_and(|f| f.contains('t'))
            })
            .filter_map(|l| {
                l.split(' ')
                    .find_map(|f| f.strip_prefix("id="))
                    .map(str::to_owned)
            })
            .collect()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        drop(self.guard.take());
        let _ = self.watchdog.wait();
    }
}

/// Sends raw RESP bytes and returns the first reply line (a tiny client for readiness checks).
fn raw_command(port: u16, bytes: &[u8]) -> std::io::Result<String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(200))?;
    s.set_read_timeout(Some(Duration::from_millis(500)))?;
    s.write_all(bytes)?;
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// A local Redis Cluster of primaries only (no replicas), stopped when dropped.
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl std::fmt::Debug for RedisCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.nodes.iter().map(|n| n.port))
            .finish()
    }
}

impl RedisCluster {
    /// The three-primary cluster shared by every test of this binary.
    pub fn shared() -> &'static RedisCluster {
        static SHARED: OnceLock<RedisCluster> = OnceLock::new();
        SHARED.get_or_init(|| RedisCluster::start(3))
    }

    /// A new cluster of `primaries` nodes (at least 3, as `redis-cli --cluster create` wants).
    pub fn start(primaries: usize) -> RedisCluster {
        assert!(
            primaries >= 3,
            "redis-cli creates clusters of 3 primaries or more"
        );
        let mut last_err = String::new();
        for _attempt in 0..3 {
            let nodes: Vec<RedisServer> = (0..primaries)
                .map(|_| {
                    RedisServer::spawn(
                        &[
                            "--cluster-enabled",
                            "yes",
                            "--cluster-config-file",
                            "nodes.conf",
                            "--cluster-node-timeout",
                            "5000",
                        ],
                        true,
                    )
                })
                .collect();
            let cluster = RedisCluster { nodes };
            match cluster.create() {
                Ok(()) => return cluster,
                Err(e) => last_err = e,
            }
        }
        panic!("could not create a Redis Cluster: {last_err}");
    }

    fn create(&self) -> Result<(), String> {
        let mut cmd = Command::new("redis-cli");
        cmd.arg("--cluster").arg("create");
        for n in &self.nodes {
            cmd.arg(format!("127.0.0.1:{}", n.port));
        }
        let out = cmd
            .arg("--cluster-yes")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("redis-cli: {e}. {INSTALL_HINT}"))?;
        if !out.status.success() {
            return Err(format!(
                "redis-cli --cluster create failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        // Ready when every node sees every node and a fully assigned, healthy cluster.
        let want_nodes = format!("cluster_known_nodes:{}", self.nodes.len());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = self.nodes.iter().all(|n| {
                let info: String = n.cmd(&["CLUSTER", "INFO"]);
                info.contains("cluster_state:ok")
                    && info.contains("cluster_slots_ok:16384")
                    && info.contains(&want_nodes)
            });
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err("the cluster did not reach cluster_state:ok in 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    /// `redis://127.0.0.1:{port}` of every node.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// The hash slot of `key`, as the cluster computes it (`CLUSTER KEYSLOT`).
    pub fn keyslot(&self, key: &[u8]) -> u16 {
        let v: i64 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query(&mut self.nodes[0].admin())
            .expect("CLUSTER KEYSLOT");
        v as u16
    }

    /// How many keys each node holds (`DBSIZE` per node).
    pub fn dbsizes(&self) -> Vec<u64> {
        self.nodes.iter().map(|n| n.cmd(&["DBSIZE"])).collect()
    }
}
