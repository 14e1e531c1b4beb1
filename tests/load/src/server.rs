//! Server and Redis processes the benchmark starts itself, and their memory.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `peerchat serve` child process on a free port of 127.0.0.1.
pub struct Server {
    child: Child,
    /// Its WebSocket URL, `ws://127.0.0.1:PORT/ws`.
    pub url: String,
    /// Its `/health` address, `127.0.0.1:PORT`.
    pub addr: String,
}

impl Server {
    /// Starts `peerchat serve` with `extra` flags and waits for its `listening on` line.
    /// Logs above `warn` are off (one line per connection would dominate the run).
    pub fn start(bin: &Path, extra: &[String]) -> Result<Server, String> {
        let mut child = Command::new(bin)
            .args(["serve", "--bind", "127.0.0.1", "--port", "0"])
            // The caps are for the internet; here every client comes from a few addresses.
            .args(["--max-connections-per-ip", "100000"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(url) = line.strip_prefix("listening on ") {
                        break url.trim().to_string();
                    }
                }
                _ => {
                    let _ = child.kill();
                    return Err("the server ended before listening".into());
                }
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let addr = url
            .trim_start_matches("ws://")
            .trim_end_matches("/ws")
            .to_string();
        Ok(Server { child, url, addr })
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the server process, bytes.
    pub fn rss(&self) -> u64 {
        rss_of(self.pid())
    }

    /// Connected clients according to `/health`.
    pub async fn clients(&self) -> Result<u64, String> {
        let body = crate::client::http_get(&self.addr, "/health").await?;
        let v: serde_json::Value =
            serde_json::from_str(&body).map_err(|e| format!("health: {e}: {body}"))?;
        v["connected_clients"]
            .as_u64()
            .ok_or_else(|| format!("health without connected_clients: {body}"))
    }

    /// Waits until `/health` reports `n` connected clients (at most `limit`).
    pub async fn wait_clients(&self, n: u64, limit: Duration) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        loop {
            let now = self.clients().await?;
            if now == n {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("server has {now} clients, expected {n}"));
            }
            // Polling an HTTP endpoint of another process: there is nothing to await instead.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `VmRSS` of process `pid`, bytes (0 when unreadable).
pub fn rss_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// A `redis-server` child process on a free port of 127.0.0.1, without persistence.
pub struct Redis {
    child: Child,
    /// `redis://127.0.0.1:PORT`.
    pub url: String,
}

impl Redis {
    /// Starts `redis-server` (from `PATH`) and waits until it accepts connections.
    pub fn start() -> Result<Redis, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let mut child = Command::new(redis_server())
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start redis-server: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("Ready to accept connections") => break,
                Some(Ok(_)) => {}
                _ => {
                    let _ = child.kill();
                    return Err("redis-server ended before it was ready".into());
                }
            }
        }
        std::thread::spawn(move || for _ in lines {});
        Ok(Redis {
            child,
            url: format!("redis://127.0.0.1:{port}"),
        })
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn redis_server() -> PathBuf {
    std::env::var_os("REDIS_SERVER").map_or_else(|| PathBuf::from("redis-server"), PathBuf::from)
}
