//! Liveness and resources: pings, idle timeout, slow readers, shutdown, /health.

mod common;

use std::time::{Duration, Instant};

use common::{Client, WAIT, assert_server_serves, config, pair, start, start_default};
use futures_util::{SinkExt, StreamExt};
use peerchat_core::protocol::MAX_SDP_BYTES;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

const PING: Duration = Duration::from_millis(100);
const IDLE: Duration = Duration::from_millis(500);

#[tokio::test]
async fn dead_connection_is_detected_by_ping_timeout() {
    let server = start(config().with_liveness(PING, IDLE)).await;
    let (mut a, mut b, code) = pair(&server).await;
    assert_eq!(a.welcome["limits"]["ping_interval_ms"], 100);
    assert_eq!(a.welcome["limits"]["idle_timeout_ms"], 500);
    // b stops reading: it never answers the server's pings (its TCP stays open).
    let started = Instant::now();
    let left = a.expect("peer_left").await; // a keeps reading, so a answers pings
    let elapsed = started.elapsed();
    assert_eq!(
        left,
        json!({"type":"peer_left","code":code,"peer_id":b.peer_id,"reason":"disconnected"})
    );
    assert!(elapsed >= IDLE - PING, "dropped too early: {elapsed:?}");
    assert!(elapsed < IDLE * 4, "dropped too late: {elapsed:?}");
    a.assert_alive().await;
    // What b finds when it reads again: the server's pings, then close 1001.
    let frame = b.expect_close().await.expect("close frame");
    assert_eq!(u16::from(frame.code), 1001);
    assert!(frame.reason.contains("idle"), "{}", frame.reason);
}

#[tokio::test]
async fn server_pings_keep_a_reading_client_alive() {
    let server = start(config().with_liveness(PING, IDLE)).await;
    let mut a = Client::connect(&server).await;
    // Read for 3 idle timeouts: only pings arrive (answered by tungstenite), no close.
    let until = Instant::now() + IDLE * 3;
    let mut pings = 0;
    while let Ok(next) = tokio::time::timeout_at(until.into(), a.ws.next()).await {
        match next {
            Some(Ok(Message::Ping(_))) => pings += 1,
            other => panic!("expected only pings, got {other:?}"),
        }
    }
    // 1500 ms at one ping per 100 ms; allow for scheduling.
    assert!(pings >= 8, "only {pings} pings");
    a.assert_alive().await;
}

#[tokio::test]
async fn slow_reader_is_dropped_without_blocking_others() {
    // b stops reading while a floods it with 32 KiB offers. b's queue (64 messages) fills once
    // the TCP buffers are full; the server then drops b, and a hears peer_left. The idle
    // timeout is long so it cannot be what drops b.
    let server = start(
        config()
            .with_rate_limit(100_000, 100_000)
            .with_liveness(Duration::from_secs(30), Duration::from_secs(60)),
    )
    .await;
    let (mut a, b, code) = pair(&server).await;
    let offer = json!({"type":"offer","to":b.peer_id,"sdp":"v".repeat(MAX_SDP_BYTES)}).to_string();
    let started = Instant::now();
    let mut sent = 0usize;
    let left: Value = loop {
        assert!(sent < 20_000, "b was never dropped after {sent} offers");
        assert!(started.elapsed() < Duration::from_secs(30), "took too long");
        a.ws.send(Message::text(offer.clone())).await.unwrap();
        sent += 1;
        // Read whatever a has, without waiting.
        if let Ok(Some(Ok(Message::Text(t)))) = timeout(Duration::ZERO, a.ws.next()).await {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["type"] == "peer_left" {
                break v;
            }
            // Offers sent after b was dropped, before a heard it.
            assert_eq!(v["code"], "peer_not_found", "{v}");
        }
    };
    assert_eq!(
        left,
        json!({"type":"peer_left","code":code,"peer_id":b.peer_id,"reason":"disconnected"})
    );
    eprintln!(
        "slow reader dropped after {sent} offers ({} MiB) in {:?}",
        sent * MAX_SDP_BYTES / (1 << 20),
        started.elapsed()
    );
    // a was never slowed down into failure and still works.
    loop {
        a.send(json!({"type":"ping"})).await;
        let v = a.recv().await;
        if v["type"] == "pong" {
            break;
        }
        assert_eq!(v["code"], "peer_not_found", "{v}");
    }
    assert_server_serves(&server).await;
    drop(b);
}

#[tokio::test]
async fn shutdown_closes_clients_with_1001() {
    let server = start_default().await;
    let addr = server.local_addr();
    let (mut a, mut b, _) = pair(&server).await;
    timeout(WAIT, server.shutdown())
        .await
        .expect("shutdown hung")
        .expect("shutdown failed");
    for c in [&mut a, &mut b] {
        let frame = c.expect_close().await.expect("close frame");
        assert_eq!(u16::from(frame.code), 1001);
        assert_eq!(frame.reason.as_str(), "server shutting down");
    }
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "still accepting after shutdown"
    );
}

async fn get_health(addr: std::net::SocketAddr) -> (String, Value) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    timeout(WAIT, s.read_to_end(&mut raw))
        .await
        .expect("health timed out")
        .unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("HTTP response");
    (
        head.to_string(),
        serde_json::from_str(body).expect("JSON body"),
    )
}

#[tokio::test]
async fn health_reports_clients_and_rooms() {
    let server = start_default().await;
    let (head, h) = get_health(server.local_addr()).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    assert_eq!(h["status"], "ok");
    assert_eq!(h["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(h["protocol_version"], 2);
    assert_eq!(h["interrupted_sessions"], 0);
    assert!(h["uptime_seconds"].is_u64());
    assert_eq!(h["connected_clients"], 0);
    assert_eq!(h["open_rooms"], 0);
    assert_eq!(h["logins"], 0);

    let (mut a, _b, _) = pair(&server).await;
    let mut c = Client::connect(&server).await;
    c.create_room("Cy").await;
    a.login("ada").await;
    let (_, h) = get_health(server.local_addr()).await;
    assert_eq!(h["connected_clients"], 3);
    assert_eq!(h["open_rooms"], 2);
    assert_eq!(h["logins"], 1);

    c.close().await;
    let (_, h) = get_health(server.local_addr()).await;
    assert_eq!(h["connected_clients"], 2);
    assert_eq!(h["open_rooms"], 1);
}

#[tokio::test]
async fn unknown_paths_are_404_and_ws_needs_an_upgrade() {
    let server = start_default().await;
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    s.write_all(b"GET /nope HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.unwrap();
    assert!(raw.starts_with("HTTP/1.1 404"), "{raw}");
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    s.write_all(b"GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.unwrap();
    assert!(raw.starts_with("HTTP/1.1 4"), "{raw}");
    assert_server_serves(&server).await;
}
