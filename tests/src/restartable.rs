//! A `redis-server` started by hand on a given port and directory, for tests that stop a
//! harness server (`kill -9`) and start it again where it was, with its data
//! (`dump.rdb`) or without.
//!
//! It runs under the same kind of watchdog as the harness's servers: killed when the
//! [`Restarted`] is dropped or the test process ends, however it ends.
#![allow(missing_docs)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use crate::redis_harness::RedisServer;

/// A hand-started `redis-server`.
pub struct Restarted {
    guard: Option<ChildStdin>,
    watchdog: Child,
    port: u16,
}

impl Restarted {
    /// Starts a server on `port` in `dir` (reading `dump.rdb` there if any), with `extra`
    /// arguments, and waits until it answers `PING` with `PONG` (up to 20 s).
    pub fn start(port: u16, dir: &Path, extra: &[&str]) -> Restarted {
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(
                "redis-server \"$@\" </dev/null >/dev/null 2>&1 & pid=$!\n\
                 read _ignored\n\
                 kill -9 \"$pid\" 2>/dev/null\n\
                 wait \"$pid\" 2>/dev/null",
            )
            .arg("sh")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir)
            .args(["--dbfilename", "dump.rdb", "--logfile", "restarted.log"])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sh");
        let guard = watchdog.stdin.take();
        let restarted = Restarted {
            guard,
            watchdog,
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(reply) = ping(port) {
                if reply.starts_with("+PONG") || reply.starts_with("-NOAUTH") {
                    return restarted;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the restarted server is not ready"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Restarted {
    fn drop(&mut self) {
        if let Some(mut g) = self.guard.take() {
            let _ = g.write_all(b"\n");
        }
        let _ = self.watchdog.wait();
    }
}

/// Sends `PING` and returns the first reply line.
pub fn ping(port: u16) -> std::io::Result<String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(200))?;
    s.set_read_timeout(Some(Duration::from_millis(500)))?;
    s.write_all(b"PING\r\n")?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// A field of `INFO <section>`.
pub fn info_field(node: &RedisServer, section: &str, field: &str) -> String {
    let info: String = node.cmd(&["INFO", section]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| panic!("{field} in INFO {section}"))
}

/// `kill -9` of a harness server (its watchdog stays, so its directory too) and a wait
/// until its port is closed; with `save`, a `SAVE` first.
pub fn kill(node: &RedisServer, save: bool) {
    if save {
        let _: () = node.cmd(&["SAVE"]);
    }
    let pid = info_field(node, "server", "process_id");
    assert!(Command::new("kill")
        .args(["-9", &pid])
        .status()
        .expect("kill")
        .success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while ping(node.port()).is_ok() {
        assert!(Instant::now() < deadline, "port {} still open", node.port());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A loopback port nothing listens on now.
pub fn unused_port() -> u16 {
    let l = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    l.local_addr().expect("addr").port()
}
