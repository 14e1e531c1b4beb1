//! Sessions (protocol version 2) over real sockets: resume, interruption, grace expiry,
//! replacement of an older connection, and version 1 clients unchanged beside them.

mod common;

use std::time::{Duration, Instant};

use common::{Client, config, start, start_default};
use peerchat_core::protocol::CLOSE_SESSION_RESUMED_ELSEWHERE;
use serde_json::json;

/// Two version 2 clients in one room.
async fn v2_pair(server: &peerchat_server::ServerHandle) -> (Client, Client, String) {
    let mut a = Client::connect_v2(server).await;
    let mut b = Client::connect_v2(server).await;
    let code = a.create_room("Ada").await;
    b.join_room(&code, "Bob").await;
    a.expect("peer_joined").await;
    (a, b, code)
}

/// Drops the TCP connection without a close frame, as a lost network does.
fn cut(c: Client) {
    drop(c.ws);
}

#[tokio::test]
async fn version_1_clients_get_no_session() {
    let server = start_default().await;
    let c = Client::connect(&server).await;
    assert!(c.welcome.get("session_token").is_none(), "{}", c.welcome);
    assert_eq!(c.welcome["protocol_version"], 1);
    let v2 = Client::connect_v2(&server).await;
    assert_eq!(v2.welcome["protocol_version"], 2);
    let token = v2.token();
    assert!(token.len() >= 32, "at least 128 bits: {token}");
    assert_eq!(v2.welcome["limits"]["session_grace_ms"], 30_000);
}

#[tokio::test]
async fn a_dropped_connection_is_interrupted_then_resumed_with_the_same_peer_id() {
    let server = start_default().await;
    let (a, mut b, code) = v2_pair(&server).await;
    let (a_id, a_token) = (a.peer_id.clone(), a.token());
    let dropped = Instant::now();
    cut(a);
    let m = b.expect("peer_interrupted").await;
    assert_eq!(m["peer_id"], a_id.as_str());
    assert_eq!(m["code"], code.as_str());
    assert!(dropped.elapsed() < Duration::from_secs(2));

    // While a is away, b's relays are queued for it.
    b.send(json!({"type":"offer","to":a_id,"sdp":"v=0 queued"}))
        .await;
    b.send(json!({"type":"ice_candidate","to":a_id,"candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","sdp_mid":"0","sdp_m_line_index":0}}))
        .await;
    b.assert_alive().await; // no refusal came back

    let mut a = Client::connect_v2(&server).await;
    assert_ne!(
        a.peer_id, a_id,
        "a fresh connection gets a provisional session"
    );
    a.send(json!({"type":"resume","session_token":a_token}))
        .await;
    let resumed = a.expect("resumed").await;
    assert_eq!(resumed["peer_id"], a_id.as_str());
    assert_eq!(resumed["room"]["code"], code.as_str());
    assert_eq!(resumed["room"]["members"][0]["peer_id"], b.peer_id.as_str());
    let offer = a.expect("offer").await;
    assert_eq!(offer["sdp"], "v=0 queued");
    assert_eq!(offer["from"], b.peer_id.as_str());
    a.expect("ice_candidate").await;
    a.assert_alive().await;

    let m = b.expect("peer_resumed").await;
    assert_eq!(m["peer_id"], a_id.as_str());
    // Relays flow both ways under the old peer id.
    b.send(json!({"type":"answer","to":a_id,"sdp":"v=0 live"}))
        .await;
    assert_eq!(a.expect("answer").await["sdp"], "v=0 live");
    a.send(json!({"type":"answer","to":b.peer_id,"sdp":"v=0 back"}))
        .await;
    let back = b.expect("answer").await;
    assert_eq!(back["from"], a_id.as_str());
}

#[tokio::test]
async fn grace_expiry_is_peer_left_timeout_and_the_token_is_dead() {
    let server = start(config().with_session_grace(Duration::from_millis(300))).await;
    let (a, mut b, _) = v2_pair(&server).await;
    let (a_id, a_token) = (a.peer_id.clone(), a.token());
    cut(a);
    b.expect("peer_interrupted").await;
    let left = b.expect("peer_left").await;
    assert_eq!(left["peer_id"], a_id.as_str());
    assert_eq!(left["reason"], "timeout");
    let mut late = Client::connect_v2(&server).await;
    late.send(json!({"type":"resume","session_token":a_token}))
        .await;
    late.expect_error("session_not_found", Some("resume")).await;
    // The connection carries its own fresh session on.
    late.assert_alive().await;
    let code = late.create_room("Late").await;
    assert!(!code.is_empty());
}

#[tokio::test]
async fn a_clean_close_leaves_at_once() {
    let server = start_default().await;
    let (a, mut b, _) = v2_pair(&server).await;
    let a_id = a.peer_id.clone();
    a.close().await;
    let left = b.expect("peer_left").await;
    assert_eq!(left["peer_id"], a_id.as_str());
    assert_eq!(left["reason"], "disconnected");
}

#[tokio::test]
async fn resuming_closes_the_older_connection_with_4001() {
    let server = start_default().await;
    let (mut a, mut b, _) = v2_pair(&server).await;
    let mut a2 = Client::connect_v2(&server).await;
    a2.send(json!({"type":"resume","session_token":a.token()}))
        .await;
    a2.expect("resumed").await;
    let frame = a.expect_close().await.expect("a close frame");
    assert_eq!(u16::from(frame.code), CLOSE_SESSION_RESUMED_ELSEWHERE);
    // b was never told anything: the session never stopped.
    b.assert_alive().await;
    b.send(json!({"type":"offer","to":a.peer_id,"sdp":"v=0 to a2"}))
        .await;
    assert_eq!(a2.expect("offer").await["sdp"], "v=0 to a2");
}

#[tokio::test]
async fn version_1_room_mates_of_a_version_2_peer_see_only_peer_left() {
    let server = start(config().with_session_grace(Duration::from_millis(300))).await;
    let mut a = Client::connect_v2(&server).await;
    let mut old = Client::connect(&server).await;
    let code = a.create_room("Ada").await;
    old.join_room(&code, "Old").await;
    a.expect("peer_joined").await;
    cut(a);
    // No peer_interrupted (unknown to version 1); the grace expiry reads `disconnected`.
    let left = old.expect("peer_left").await;
    assert_eq!(left["reason"], "disconnected");
}

#[tokio::test]
async fn resume_is_refused_unless_first_and_from_version_2() {
    let server = start_default().await;
    let (a, _b, _) = v2_pair(&server).await;
    let token = a.token();
    let mut late = Client::connect_v2(&server).await;
    late.assert_alive().await;
    late.send(json!({"type":"resume","session_token":token}))
        .await;
    late.expect_error("invalid_message", Some("resume")).await;
    let mut v1 = Client::connect(&server).await;
    v1.send(json!({"type":"resume","session_token":token}))
        .await;
    v1.expect_error("invalid_message", Some("resume")).await;
    let mut v2 = Client::connect_v2(&server).await;
    v2.send(json!({"type":"resume","session_token":"not-a-token"}))
        .await;
    v2.expect_error("session_not_found", Some("resume")).await;
}

#[tokio::test]
async fn relays_beyond_the_resume_queue_are_refused_with_peer_queue_full() {
    let server = start(config().with_rate_limit(10_000, 10_000)).await;
    let (a, mut b, _) = v2_pair(&server).await;
    let a_id = a.peer_id.clone();
    cut(a);
    b.expect("peer_interrupted").await;
    for i in 0..peerchat_core::protocol::RESUME_QUEUE_LEN {
        b.send(json!({"type":"offer","to":a_id,"sdp":format!("v=0 {i}")}))
            .await;
    }
    b.assert_alive().await;
    b.send(json!({"type":"offer","to":a_id,"sdp":"v=0 one too many"}))
        .await;
    b.expect_error("peer_queue_full", Some("offer")).await;
}

#[tokio::test]
async fn rejoin_room_recreates_a_room_the_server_does_not_know() {
    let server = start_default().await;
    let mut a = Client::connect_v2(&server).await;
    let mut b = Client::connect_v2(&server).await;
    a.send(json!({"type":"rejoin_room","code":"abc def ghj","name":"Ada"}))
        .await;
    let joined = a.expect("room_joined").await;
    assert_eq!(joined["code"], "ABC-DEF-GHJ");
    assert_eq!(joined["members"].as_array().unwrap().len(), 0);
    b.send(json!({"type":"rejoin_room","code":"ABC-DEF-GHJ","name":"Bob"}))
        .await;
    let joined = b.expect("room_joined").await;
    assert_eq!(joined["members"][0]["peer_id"], a.peer_id.as_str());
    assert_eq!(a.expect("peer_joined").await["peer"]["name"], "Bob");
}
