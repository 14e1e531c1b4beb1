//! Idle connections: worker processes (each under the 20,000-file limit, each from its own
//! 127.0.0.x source address) open connections and hold them; the server's resident memory
//! before and after gives the memory per idle connection.

use std::io::{BufRead, BufReader, Write};
use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::Semaphore;

use crate::server::Server;

/// Handshakes one worker runs at once.
const CONCURRENT_HANDSHAKES: usize = 64;

/// What the idle phase measured.
pub struct IdleReport {
    pub connections: usize,
    pub workers: usize,
    pub rss_before: u64,
    pub rss_idle: u64,
    pub rss_after_close: u64,
    pub connect_secs: f64,
}

/// Opens `total` idle connections to `server` from `workers` processes and measures.
pub async fn run(
    me: &Path,
    server: &Server,
    total: usize,
    workers: usize,
) -> Result<IdleReport, String> {
    server.wait_clients(0, Duration::from_secs(5)).await?;
    let rss_before = server.rss();
    let started = Instant::now();
    let per = total.div_ceil(workers);
    let mut children = Vec::new();
    for w in 0..workers {
        let count = per.min(total - per * w);
        let source = format!("127.0.0.{}", 2 + w);
        let mut child = Command::new(me)
            .args(["worker-idle", "--url", &server.url, "--source", &source])
            .args(["--count", &count.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start a worker: {e}"))?;
        let stdout = child.stdout.take().ok_or("worker stdout")?;
        children.push((child, BufReader::new(stdout).lines()));
    }
    for (_, lines) in &mut children {
        match lines.next() {
            Some(Ok(l)) if l.starts_with("ready ") => {}
            other => return Err(format!("worker failed: {other:?}")),
        }
    }
    let connect_secs = started.elapsed().as_secs_f64();
    server
        .wait_clients(total as u64, Duration::from_secs(30))
        .await?;
    let rss_idle = server.rss();
    for (child, _) in &mut children {
        if let Some(mut stdin) = child.stdin.take() {
            let _ = writeln!(stdin, "exit");
        }
    }
    for (mut child, _) in children {
        let _ = child.wait();
    }
    server.wait_clients(0, Duration::from_secs(60)).await?;
    let rss_after_close = server.rss();
    Ok(IdleReport {
        connections: total,
        workers,
        rss_before,
        rss_idle,
        rss_after_close,
        connect_secs,
    })
}

/// Worker process: opens `count` connections from `source`, prints `ready N`, keeps reading
/// them (answering pings) until a line or EOF arrives on stdin.
pub async fn worker(url: String, source: IpAddr, count: usize) -> Result<(), String> {
    let gate = Arc::new(Semaphore::new(CONCURRENT_HANDSHAKES));
    let mut opening = Vec::with_capacity(count);
    for _ in 0..count {
        let gate = gate.clone();
        let url = url.clone();
        opening.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.map_err(|e| e.to_string())?;
            crate::client::connect(&url, source).await
        }));
    }
    let mut held = Vec::with_capacity(count);
    for task in opening {
        let (ws, _) = task.await.map_err(|e| e.to_string())??;
        held.push(tokio::spawn(async move {
            let mut ws = ws;
            // Reading answers the server's pings; the loop ends when the socket does.
            while let Some(Ok(_)) = ws.next().await {}
        }));
    }
    println!("ready {count}");
    let _ = std::io::stdout().flush();
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    })
    .await
    .map_err(|e| e.to_string())?;
    for h in held {
        h.abort();
    }
    Ok(())
}
