//! Relay of offer / answer / ice_candidate / bye: in rooms and by login.

mod common;

use common::{Client, pair, start_default};
use peerchat_core::protocol::{MAX_CANDIDATE_BYTES, MAX_SDP_BYTES};
use serde_json::json;

const SDP: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

#[tokio::test]
async fn relay_within_a_room_is_stamped_with_the_sender() {
    let server = start_default().await;
    let (mut a, mut b, _code) = pair(&server).await;
    // The joiner offers to each existing member.
    b.send(json!({"type":"offer","to":a.peer_id,"sdp":SDP}))
        .await;
    assert_eq!(
        a.expect("offer").await,
        json!({"type":"offer","from":b.peer_id,"from_name":"Bob","sdp":SDP})
    );
    a.send(json!({"type":"answer","to":b.peer_id,"sdp":SDP}))
        .await;
    assert_eq!(
        b.expect("answer").await,
        json!({"type":"answer","from":a.peer_id,"from_name":"Ada","sdp":SDP})
    );
    let cand = json!({"candidate":"candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host",
        "sdp_mid":"0","sdp_m_line_index":0,"username_fragment":"abcd"});
    a.send(json!({"type":"ice_candidate","to":b.peer_id,"candidate":cand}))
        .await;
    assert_eq!(
        b.expect("ice_candidate").await,
        json!({"type":"ice_candidate","from":a.peer_id,"candidate":cand})
    );
    // End-of-candidates: an empty candidate string is relayed as is.
    a.send(json!({"type":"ice_candidate","to":b.peer_id,"candidate":{"candidate":""}}))
        .await;
    assert_eq!(
        b.expect("ice_candidate").await,
        json!({"type":"ice_candidate","from":a.peer_id,"candidate":{"candidate":""}})
    );
}

#[tokio::test]
async fn relay_outside_the_room_is_refused() {
    let server = start_default().await;
    let (mut a, mut b, _) = pair(&server).await;
    let mut c = Client::connect(&server).await;
    c.send(json!({"type":"offer","to":a.peer_id,"sdp":SDP}))
        .await;
    c.expect_error("relay_not_allowed", Some("offer")).await;
    a.send(json!({"type":"answer","to":c.peer_id,"sdp":SDP}))
        .await;
    a.expect_error("relay_not_allowed", Some("answer")).await;
    // Nothing was delivered: the next message each gets is its own pong.
    a.assert_alive().await;
    c.assert_alive().await;
    // After a leaves the room, b can no longer reach a.
    a.send(json!({"type":"leave_room"})).await;
    a.expect("room_left").await;
    b.expect("peer_left").await;
    b.send(json!({"type":"ice_candidate","to":a.peer_id,"candidate":{"candidate":""}}))
        .await;
    b.expect_error("relay_not_allowed", Some("ice_candidate"))
        .await;
    a.assert_alive().await;
}

#[tokio::test]
async fn targets_must_be_exactly_one_other_connected_peer() {
    let server = start_default().await;
    let (mut a, mut b, _) = pair(&server).await;
    a.send(json!({"type":"offer","sdp":SDP})).await;
    a.expect_error("invalid_target", Some("offer")).await;
    a.send(json!({"type":"offer","to":b.peer_id,"to_login":"bob","sdp":SDP}))
        .await;
    a.expect_error("invalid_target", Some("offer")).await;
    a.send(json!({"type":"offer","to":a.peer_id,"sdp":SDP}))
        .await;
    a.expect_error("invalid_target", Some("offer")).await;
    a.send(json!({"type":"offer","to":"0123456789abcdef0123456789abcdef","sdp":SDP}))
        .await;
    a.expect_error("peer_not_found", Some("offer")).await;
    b.assert_alive().await;
}

#[tokio::test]
async fn relay_by_login_links_the_pair_and_reply_by_id_works() {
    let server = start_default().await;
    let mut alice = Client::connect(&server).await;
    let mut bob = Client::connect(&server).await;
    let mut eve = Client::connect(&server).await;

    // Not logged in: cannot address by login.
    alice
        .send(json!({"type":"offer","to_login":"bob","sdp":SDP}))
        .await;
    alice.expect_error("not_logged_in", Some("offer")).await;

    alice.login("Alice").await;
    bob.login("Bob").await;
    alice
        .send(json!({"type":"offer","to_login":"nobody","sdp":SDP}))
        .await;
    alice.expect_error("peer_not_found", Some("offer")).await;
    alice
        .send(json!({"type":"offer","to_login":"alice","sdp":SDP}))
        .await;
    alice.expect_error("invalid_target", Some("offer")).await;

    // Before any message by login, bob cannot reach alice by id.
    bob.send(json!({"type":"answer","to":alice.peer_id,"sdp":SDP}))
        .await;
    bob.expect_error("relay_not_allowed", Some("answer")).await;

    // Login lookup is case-insensitive; from_name is the login.
    alice
        .send(json!({"type":"offer","to_login":"BOB","sdp":SDP}))
        .await;
    assert_eq!(
        bob.expect("offer").await,
        json!({"type":"offer","from":alice.peer_id,"from_name":"Alice","sdp":SDP})
    );
    // Bob replies by peer id.
    bob.send(json!({"type":"answer","to":alice.peer_id,"sdp":SDP}))
        .await;
    assert_eq!(
        alice.expect("answer").await,
        json!({"type":"answer","from":bob.peer_id,"from_name":"Bob","sdp":SDP})
    );
    alice
        .send(json!({"type":"ice_candidate","to":bob.peer_id,"candidate":{"candidate":""}}))
        .await;
    assert_eq!(bob.expect("ice_candidate").await["from"], alice.peer_id);

    // Eve is not part of it.
    eve.send(json!({"type":"offer","to":bob.peer_id,"sdp":SDP}))
        .await;
    eve.expect_error("relay_not_allowed", Some("offer")).await;

    // bye ends the link: bob gets peer_left without a code, and the pair is unlinked.
    alice.send(json!({"type":"bye","to":bob.peer_id})).await;
    assert_eq!(
        bob.expect("peer_left").await,
        json!({"type":"peer_left","peer_id":alice.peer_id,"reason":"left"})
    );
    bob.send(json!({"type":"answer","to":alice.peer_id,"sdp":SDP}))
        .await;
    bob.expect_error("relay_not_allowed", Some("answer")).await;
    alice.send(json!({"type":"bye","to":bob.peer_id})).await;
    alice.expect_error("relay_not_allowed", Some("bye")).await;

    // bye by login works too (the peer is told even without a prior link).
    bob.send(json!({"type":"bye","to_login":"alice"})).await;
    assert_eq!(
        alice.expect("peer_left").await,
        json!({"type":"peer_left","peer_id":bob.peer_id,"reason":"left"})
    );
    alice.assert_alive().await;
}

#[tokio::test]
async fn linked_peer_logout_or_disconnect_is_peer_left() {
    let server = start_default().await;
    let mut alice = Client::connect(&server).await;
    let mut bob = Client::connect(&server).await;
    let mut carol = Client::connect(&server).await;
    alice.login("alice").await;
    bob.login("bob").await;
    carol.login("carol").await;
    alice
        .send(json!({"type":"offer","to_login":"bob","sdp":SDP}))
        .await;
    bob.expect("offer").await;
    alice
        .send(json!({"type":"offer","to_login":"carol","sdp":SDP}))
        .await;
    carol.expect("offer").await;

    // alice logs out: both partners hear it, with reason left.
    alice.send(json!({"type":"logout"})).await;
    alice.expect("logged_out").await;
    for p in [&mut bob, &mut carol] {
        assert_eq!(
            p.expect("peer_left").await,
            json!({"type":"peer_left","peer_id":alice.peer_id,"reason":"left"})
        );
    }
    // The links are gone.
    bob.send(json!({"type":"answer","to":alice.peer_id,"sdp":SDP}))
        .await;
    bob.expect_error("relay_not_allowed", Some("answer")).await;

    // bob links with carol, then disconnects: carol gets reason disconnected.
    bob.send(json!({"type":"offer","to_login":"carol","sdp":SDP}))
        .await;
    carol.expect("offer").await;
    let bob_id = bob.peer_id.clone();
    bob.close().await;
    assert_eq!(
        carol.expect("peer_left").await,
        json!({"type":"peer_left","peer_id":bob_id,"reason":"disconnected"})
    );
}

#[tokio::test]
async fn sdp_and_candidate_limits_are_enforced() {
    let server = start_default().await;
    let (mut a, mut b, _) = pair(&server).await;
    let big = "v".repeat(MAX_SDP_BYTES + 1);
    a.send(json!({"type":"offer","to":b.peer_id,"sdp":big}))
        .await;
    a.expect_error("invalid_message", Some("offer")).await;
    let exact = "v".repeat(MAX_SDP_BYTES);
    a.send(json!({"type":"offer","to":b.peer_id,"sdp":exact}))
        .await;
    assert_eq!(
        b.expect("offer").await["sdp"].as_str().unwrap().len(),
        MAX_SDP_BYTES
    );
    let big = "c".repeat(MAX_CANDIDATE_BYTES + 1);
    a.send(json!({"type":"ice_candidate","to":b.peer_id,"candidate":{"candidate":big}}))
        .await;
    a.expect_error("invalid_message", Some("ice_candidate"))
        .await;
    let exact = "c".repeat(MAX_CANDIDATE_BYTES);
    a.send(json!({"type":"ice_candidate","to":b.peer_id,"candidate":{"candidate":exact}}))
        .await;
    b.expect("ice_candidate").await;
    b.assert_alive().await;
}

/// docs/protocol.md, `ice_candidate`: the `candidate` object is relayed unchanged, members this
/// server does not know included (counted toward the candidate limit); unknown top-level
/// fields of a relayed message are ignored, never relayed, so a sender cannot add to (or forge)
/// what the server stamps.
#[tokio::test]
async fn candidate_objects_are_relayed_unchanged_and_unknown_top_level_fields_dropped() {
    let server = start_default().await;
    let (mut a, mut b, _) = pair(&server).await;
    let cand = json!({"candidate":"candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host",
        "sdp_mid":"0","sdp_m_line_index":0,"relay_protocol":"udp","x_future":{"n":[1,true,null]}});
    a.send(
        json!({"type":"ice_candidate","to":b.peer_id,"candidate":cand,
        "session":"abc","from":"forged"}),
    )
    .await;
    assert_eq!(
        b.expect("ice_candidate").await,
        json!({"type":"ice_candidate","from":a.peer_id,"candidate":cand})
    );
    a.send(json!({"type":"offer","to":b.peer_id,"sdp":SDP,"from_name":"Mallory","extra":1}))
        .await;
    assert_eq!(
        b.expect("offer").await,
        json!({"type":"offer","from":a.peer_id,"from_name":"Ada","sdp":SDP})
    );
    // Unknown members count toward MAX_CANDIDATE_BYTES: "c" + `"pad":"…"`.
    let pad = "p".repeat(MAX_CANDIDATE_BYTES - 8);
    a.send(json!({"type":"ice_candidate","to":b.peer_id,"candidate":{"candidate":"c","pad":pad}}))
        .await;
    a.expect_error("invalid_message", Some("ice_candidate"))
        .await;
    b.assert_alive().await;
}
