//! Measures the server's resident memory per idle WebSocket connection.
//!
//! `cargo run --release -p peerchat-server --example idle_memory -- [connections]` starts the
//! server in a child process on 127.0.0.1 (port 0), opens `connections` (default 2000)
//! WebSocket clients from this process, waits until `/health` counts them all, and prints the
//! child's RSS before and after.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use futures_util::StreamExt;
use peerchat_server::{Server, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

async fn connected(addr: &str) -> u64 {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: l\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.unwrap();
    let body = raw.split_once("\r\n\r\n").unwrap().1;
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    v["connected_clients"].as_u64().unwrap()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("serve") {
        let server = Server::bind(ServerConfig::default().with_port(0))
            .await
            .unwrap();
        println!("{}", server.local_addr());
        server.run().await.unwrap();
        return;
    }
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let mut child = Command::new(&args[0])
        .arg("serve")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().to_string();
    let pid = child.id();
    // Warm up: one connection, so one-time allocations are not counted.
    let (mut warm, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    warm.next().await.unwrap().unwrap();
    let before = rss_kib(pid);
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
            .await
            .unwrap();
        ws.next().await.unwrap().unwrap(); // welcome
        clients.push(ws);
    }
    // Bounded wait until the server counts them all.
    let mut seen = 0;
    for _ in 0..100 {
        seen = connected(&addr).await;
        if seen == n as u64 + 1 {
            break;
        }
    }
    let after = rss_kib(pid);
    println!(
        "{n} idle connections (server counts {seen}): server RSS {before} KiB -> {after} KiB, \
         {:.1} KiB per connection",
        (after - before) as f64 / n as f64
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
