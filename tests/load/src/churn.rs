//! Connect/create/join/leave/close churn: `loops` concurrent loops, each repeating one cycle
//! (two clients connect, one creates a room, the other joins it, both leave and close with
//! code 1000) for `secs` seconds; the server's memory before and after, once every
//! connection is gone.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::client::{self, Ws, next_of, send};
use crate::server::Server;

/// What a churn run measured.
pub struct ChurnReport {
    pub loops: usize,
    pub secs: f64,
    pub cycles: u64,
    pub errors: u64,
    pub rss_before: u64,
    pub rss_after: u64,
}

async fn close(mut ws: Ws) {
    let _ = ws
        .send(Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        })))
        .await;
    // Read until the server's close reply ends the stream.
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        use futures_util::StreamExt;
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

async fn cycle(url: &str, source: IpAddr) -> Result<(), String> {
    let (mut a, _, mut b, _) = client::pair(url, url, source).await?;
    send(&mut b, &json!({"type": "leave_room"})).await?;
    next_of(&mut b, "room_left").await?;
    next_of(&mut a, "peer_left").await?;
    send(&mut a, &json!({"type": "leave_room"})).await?;
    next_of(&mut a, "room_left").await?;
    tokio::join!(close(a), close(b));
    Ok(())
}

/// Runs the churn against `server`.
pub async fn run(server: &Server, loops: usize, secs: u64) -> Result<ChurnReport, String> {
    server.wait_clients(0, Duration::from_secs(5)).await?;
    let rss_before = server.rss();
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for i in 0..loops {
        let url = server.url.clone();
        // Spread the loops over a few source addresses (ports in TIME_WAIT pile up).
        let source = IpAddr::from([127, 0, 1, 1 + (i % 8) as u8]);
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut failed) = (0u64, 0u64);
            while Instant::now() < until {
                match cycle(&url, source).await {
                    Ok(()) => ok += 1,
                    Err(e) => {
                        if failed == 0 {
                            eprintln!("churn cycle failed: {e}");
                        }
                        failed += 1;
                    }
                }
            }
            (ok, failed)
        }));
    }
    let (mut cycles, mut errors) = (0, 0);
    for t in tasks {
        let (ok, failed) = t.await.map_err(|e| e.to_string())?;
        cycles += ok;
        errors += failed;
    }
    let secs = started.elapsed().as_secs_f64();
    server.wait_clients(0, Duration::from_secs(30)).await?;
    Ok(ChurnReport {
        loops,
        secs,
        cycles,
        errors,
        rss_before,
        rss_after: server.rss(),
    })
}
