//! Bad input: each gets its exact refusal, and nobody else is affected.

mod common;

use std::time::Instant;

use common::{Client, WAIT, assert_server_serves, config, pair, start, start_default};
use futures_util::{SinkExt, StreamExt};
use peerchat_core::protocol::{MAX_FRAME_BYTES, RATE_LIMIT_BURST, RATE_LIMIT_PER_SEC};
use serde_json::json;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[tokio::test]
async fn invalid_json_is_refused() {
    let server = start_default().await;
    let (mut a, mut b, _) = pair(&server).await;
    for bad in ["{not json", "", "{\"type\":\"ping\"", "\u{0}"] {
        a.send_text(bad).await;
        a.expect_error("invalid_json", None).await;
    }
    a.assert_alive().await;
    b.assert_alive().await;
}

#[tokio::test]
async fn unknown_or_missing_type_is_refused() {
    let server = start_default().await;
    let (mut a, mut b, _) = pair(&server).await;
    a.send(json!({"type":"dance"})).await;
    a.expect_error("unknown_type", Some("dance")).await;
    a.send(json!({"type":"Ping"})).await; // types are case-sensitive
    a.expect_error("unknown_type", Some("Ping")).await;
    a.send(json!({"name":"no type"})).await;
    a.expect_error("unknown_type", None).await;
    a.send(json!({"type":7})).await;
    a.expect_error("unknown_type", None).await;
    a.send_text("[1,2,3]").await;
    a.expect_error("unknown_type", None).await;
    a.send_text("\"create_room\"").await;
    a.expect_error("unknown_type", None).await;
    a.assert_alive().await;
    b.assert_alive().await;
}

#[tokio::test]
async fn missing_or_mistyped_fields_are_invalid_message() {
    let server = start_default().await;
    let (mut a, mut b, _) = pair(&server).await;
    let cases = [
        (json!({"type":"create_room"}), "create_room"),
        (json!({"type":"create_room","name":5}), "create_room"),
        (json!({"type":"join_room","name":"x"}), "join_room"),
        (json!({"type":"login"}), "login"),
        (json!({"type":"offer","to":b.peer_id}), "offer"),
        (json!({"type":"answer","to":7,"sdp":"v=0"}), "answer"),
        (
            json!({"type":"ice_candidate","to":b.peer_id}),
            "ice_candidate",
        ),
        (
            json!({"type":"ice_candidate","to":b.peer_id,"candidate":"candidate:1"}),
            "ice_candidate",
        ),
        (
            json!({"type":"ice_candidate","to":b.peer_id,
                "candidate":{"candidate":"c","sdp_m_line_index":-1}}),
            "ice_candidate",
        ),
        (json!({"type":"bye","to":false}), "bye"),
    ];
    for (msg, kind) in cases {
        a.send(msg).await;
        a.expect_error("invalid_message", Some(kind)).await;
    }
    // Unknown extra fields are ignored.
    a.send(json!({"type":"ping","future":true})).await;
    a.expect("pong").await;
    b.assert_alive().await; // nothing was relayed to b
}

#[tokio::test]
async fn binary_frames_are_refused() {
    let server = start_default().await;
    let (mut a, mut b, _) = pair(&server).await;
    a.ws.send(Message::binary(br#"{"type":"ping"}"#.to_vec()))
        .await
        .unwrap();
    a.expect_error("binary_not_supported", None).await;
    a.assert_alive().await;
    b.assert_alive().await;
}

/// `{"type":"ping","pad":"xxx…"}` of exactly `len` bytes.
fn padded_ping(len: usize) -> String {
    let head = r#"{"type":"ping","pad":""#;
    let tail = r#""}"#;
    format!("{head}{}{tail}", "x".repeat(len - head.len() - tail.len()))
}

#[tokio::test]
async fn frame_of_exactly_the_limit_is_accepted() {
    let server = start_default().await;
    let mut a = Client::connect(&server).await;
    let text = padded_ping(MAX_FRAME_BYTES);
    assert_eq!(text.len(), MAX_FRAME_BYTES);
    a.send_text(text).await;
    a.expect("pong").await;
}

#[tokio::test]
async fn oversize_frame_closes_with_1009() {
    let server = start_default().await;
    let (mut a, mut b, code) = pair(&server).await;
    a.send_text(padded_ping(MAX_FRAME_BYTES + 1)).await;
    let frame = a.expect_close().await.expect("close frame with a code");
    assert_eq!(frame.code, CloseCode::Size);
    assert_eq!(u16::from(frame.code), 1009);
    assert!(frame.reason.contains("65536"), "reason: {}", frame.reason);
    // Its room member is told, and keeps working, as does the server.
    let left = b.expect("peer_left").await;
    assert_eq!(
        left,
        json!({"type":"peer_left","code":code,"peer_id":a.peer_id,"reason":"disconnected"})
    );
    b.assert_alive().await;
    assert_server_serves(&server).await;
}

#[tokio::test]
async fn oversize_binary_frame_closes_with_1009() {
    let server = start_default().await;
    let mut a = Client::connect(&server).await;
    a.ws.send(Message::binary(vec![0u8; MAX_FRAME_BYTES + 1]))
        .await
        .unwrap();
    let frame = a.expect_close().await.expect("close frame with a code");
    assert_eq!(u16::from(frame.code), 1009);
    assert_server_serves(&server).await;
}

#[tokio::test]
async fn huge_frame_ends_the_connection_and_harms_no_one() {
    // Far above the limit: the server stops reading mid-frame. The client must see its
    // connection end (close 1009, or a reset if the close frame loses the race).
    let server = start_default().await;
    let (mut a, mut b, _) = pair(&server).await;
    let _ = a.ws.send(Message::text(padded_ping(1 << 20))).await;
    let ended = timeout(WAIT, async {
        loop {
            match a.ws.next().await {
                Some(Ok(Message::Close(f))) => return f.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("connection did not end");
    eprintln!("huge frame: connection ended with close code {ended:?}");
    if let Some(code) = ended {
        assert_eq!(code, 1009);
    }
    b.expect("peer_left").await;
    b.assert_alive().await;
    assert_server_serves(&server).await;
}

#[tokio::test]
async fn default_rate_limit_allows_the_burst_then_refuses() {
    let server = start_default().await;
    let (mut a, mut b, _) = pair(&server).await;
    let total = RATE_LIMIT_BURST as usize + 60;
    let started = Instant::now();
    for _ in 0..total {
        a.ws.feed(Message::text(r#"{"type":"ping"}"#))
            .await
            .unwrap();
    }
    a.ws.flush().await.unwrap();
    let (mut pongs, mut limited) = (0usize, 0usize);
    for _ in 0..total {
        let v = a.recv().await;
        match v["type"].as_str() {
            Some("pong") => pongs += 1,
            Some("error") => {
                assert_eq!(v["code"], "rate_limited", "{v}");
                assert_eq!(v["request"], "ping", "{v}");
                limited += 1;
            }
            _ => panic!("unexpected {v}"),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let refill = (elapsed * f64::from(RATE_LIMIT_PER_SEC)).ceil() as usize;
    // `create_room` in `pair` took one token of the burst (it may have refilled since).
    assert!(pongs + 1 >= RATE_LIMIT_BURST as usize, "pongs {pongs}");
    assert!(
        pongs <= RATE_LIMIT_BURST as usize + refill,
        "pongs {pongs}, refill {refill} in {elapsed:.3}s"
    );
    assert!(limited >= 1, "nothing was rate limited ({elapsed:.3}s)");
    assert_eq!(pongs + limited, total);
    // Others are not affected at all.
    b.assert_alive().await;
    // The limited client recovers as tokens refill (one per 20 ms): wait for its pong.
    // (Bounded by time, not by tries: with TCP_NODELAY a refused ping round trip takes well
    // under a millisecond.)
    let mut recovered = false;
    let until = Instant::now() + WAIT;
    while Instant::now() < until {
        a.send(json!({"type":"ping"})).await;
        let v = a.recv().await;
        if v["type"] == "pong" {
            recovered = true;
            break;
        }
        assert_eq!(v["code"], "rate_limited");
    }
    assert!(recovered);
}

#[tokio::test]
async fn rate_limit_is_exact_with_a_slow_refill() {
    // 1 token per second, burst 10: of 15 frames sent at once, 10 pass and 5 are refused
    // (checked only if under 0.9 s passed, so no token could have refilled). A binary frame
    // takes a token like any other.
    let server = start(config().with_rate_limit(1, 10)).await;
    let mut a = Client::connect(&server).await;
    let started = Instant::now();
    for i in 0..15 {
        let frame = if i == 10 {
            Message::binary(vec![1])
        } else {
            Message::text(r#"{"type":"ping"}"#)
        };
        a.ws.feed(frame).await.unwrap();
    }
    a.ws.flush().await.unwrap();
    let mut replies = Vec::new();
    for _ in 0..15 {
        let v = a.recv().await;
        replies.push(format!(
            "{}/{}/{}",
            v["type"].as_str().unwrap(),
            v["code"].as_str().unwrap_or("-"),
            v["request"].as_str().unwrap_or("-")
        ));
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert!(elapsed < 0.9, "too slow to check exactly: {elapsed:.3}s");
    let mut expected = vec!["pong/-/-".to_string(); 10];
    expected.push("error/rate_limited/-".into());
    expected.extend(vec!["error/rate_limited/ping".to_string(); 4]);
    assert_eq!(replies, expected);
}
