//! Chat through a real TURN relay with long-term credentials, on loopback: Debian's coturn
//! `turnserver`, a real signaling server, and two engines whose ICE transport policy is `relay`,
//! so that every packet between them goes through the TURN server.
//!
//! Needs the `turn-tests` feature (and `turnserver` on the PATH), which only
//! `scripts/test.d/20-turn.sh` enables after installing coturn:
//! `cargo test -p peerchat-turn-tests --features turn-tests --test turn`. The engine fixtures
//! (`common`) are shared with core/tests/engine.rs.

#[path = "../../../core/tests/common/mod.rs"]
mod common;
mod turn_support;

use common::{Client, server};
use peerchat_core::{
    ChannelListener, Engine, EngineConfig, EngineEvent, IceServer, IceTransportPolicy,
    MessageStatus, PeerState,
};
use turn_support::coturn::Coturn;
use turn_support::tap::{Sent, Tap};

const USER: &str = "peerchat";
const PASSWORD: &str = "correct-horse";

/// Peer connection timeout (ms) of the wrong-credentials test: short, so that it fails fast.
const SHORT_CONNECT_TIMEOUT_MS: u64 = 3_000;

/// An engine on 127.0.0.1 whose only ICE server is `turn` (with these credentials) and whose
/// ICE transport policy is `relay`.
fn relay_client(
    signaling_url: &str,
    name: &str,
    turn: &Coturn,
    password: &str,
    connect_timeout_ms: u64,
) -> Client {
    let mut config = EngineConfig::new(signaling_url, name).loopback_only();
    config.ice_servers = vec![IceServer {
        urls: vec![turn.url()],
        username: Some(USER.to_string()),
        credential: Some(password.to_string()),
    }];
    config.ice_transport_policy = IceTransportPolicy::Relay;
    config.peer_connect_timeout_ms = connect_timeout_ms;
    let (listener, events) = ChannelListener::new();
    let engine = Engine::new(config, listener).expect("engine starts");
    Client { engine, events }
}

/// Asserts that every candidate `sent` trickled, and every `a=candidate` of its SDP, is a relay
/// candidate on 127.0.0.1 (the TURN server's relay address).
fn assert_only_relay_candidates(who: &str, sent: &Sent) {
    for candidate in sent.candidates.iter().chain(&sent.sdp_candidates) {
        let fields: Vec<&str> = candidate.split_whitespace().collect();
        // foundation component transport priority address port "typ" type ...
        assert_eq!(
            fields.get(6..8),
            Some(&["typ", "relay"][..]),
            "{who} sent a non-relay candidate: {candidate}"
        );
        assert_eq!(
            fields.get(4),
            Some(&"127.0.0.1"),
            "{who}'s relay candidate is not on the TURN server's relay address: {candidate}"
        );
    }
}

/// Every peer-state change the client reports until `state`, which must come within the
/// common event timeout.
async fn states_until(client: &mut Client, state: PeerState) -> Vec<PeerState> {
    let mut seen = Vec::new();
    client
        .wait_for(&format!("peer state {state:?}"), |e| match e {
            EngineEvent::PeerState { state: s, .. } => {
                seen.push(*s);
                (*s == state).then_some(())
            }
            _ => None,
        })
        .await;
    seen
}

#[tokio::test]
async fn two_engines_chat_through_the_turn_relay_only() {
    let turn = Coturn::start(USER, PASSWORD).await;
    let server = server().await;
    let tap = Tap::start(server.ws_url()).await;
    let timeout = EngineConfig::new("ws://x/ws", "x").peer_connect_timeout_ms;
    let mut alice = relay_client(&tap.ws_url(), "Alice", &turn, PASSWORD, timeout);
    let mut bob = relay_client(&tap.ws_url(), "Bob", &turn, PASSWORD, timeout);

    let room = alice.engine.create_room().await.expect("create room");
    bob.engine.join_room(&room.code).await.expect("join room");
    bob.wait_connected().await;
    alice.wait_connected().await;

    let id = alice.engine.send_message("hello through TURN").unwrap();
    let got = bob.next_message().await;
    assert_eq!(
        (got.id.as_str(), got.text.as_str()),
        (id.as_str(), "hello through TURN")
    );
    assert_eq!(got.sender_name, "Alice");
    alice
        .wait_for("delivered", |e| match e {
            EngineEvent::MessageStatus {
                message_id,
                status: MessageStatus::Delivered,
                ..
            } if *message_id == id => Some(()),
            _ => None,
        })
        .await;
    let reply = bob.engine.send_message("and back ✓").unwrap();
    let got = alice.next_message().await;
    assert_eq!(
        (got.id.as_str(), got.text.as_str()),
        (reply.as_str(), "and back ✓")
    );
    assert_eq!(got.sender_name, "Bob");

    // What each engine told the other through signaling: relay candidates only.
    for (who, client) in [("Alice", &alice), ("Bob", &bob)] {
        let sent = tap.sent_by(&client.engine.peer_id().unwrap());
        assert!(sent.descriptions >= 1, "{who} sent no SDP: {sent:?}");
        assert!(
            !sent.candidates.is_empty(),
            "{who} trickled no ICE candidate: {sent:?}"
        );
        assert_only_relay_candidates(who, &sent);
    }

    // And the TURN server authenticated both allocations as USER and gave each a permission to
    // send to the other's relay address (RFC 8656 §9), which relaying needs.
    let log = turn.log();
    for request in ["ALLOCATE", "CREATE_PERMISSION"] {
        let success = format!("user <{USER}>: incoming packet {request} processed, success");
        let count = log.lines().filter(|l| l.contains(&success)).count();
        assert!(
            count >= 2,
            "expected {request} to succeed for both engines in the coturn log:\n{log}"
        );
    }
}

#[tokio::test]
async fn wrong_turn_credentials_never_connect_and_the_peer_fails() {
    let turn = Coturn::start(USER, PASSWORD).await;
    let server = server().await;
    let tap = Tap::start(server.ws_url()).await;
    let mut alice = relay_client(
        &tap.ws_url(),
        "Alice",
        &turn,
        PASSWORD,
        SHORT_CONNECT_TIMEOUT_MS,
    );
    let mut bob = relay_client(
        &tap.ws_url(),
        "Bob",
        &turn,
        "wrong-password",
        SHORT_CONNECT_TIMEOUT_MS,
    );

    let room = alice.engine.create_room().await.expect("create room");
    bob.engine.join_room(&room.code).await.expect("join room");
    for (who, client) in [("Bob", &mut bob), ("Alice", &mut alice)] {
        let states = states_until(client, PeerState::Failed).await;
        assert!(
            !states.contains(&PeerState::Connected),
            "{who} connected although Bob's TURN password is wrong: {states:?}"
        );
    }

    // Bob's TURN allocation was refused, so he had no candidate to trickle; Alice's were relay.
    let bob_sent = tap.sent_by(&bob.engine.peer_id().unwrap());
    assert!(
        bob_sent.candidates.is_empty() && bob_sent.sdp_candidates.is_empty(),
        "Bob gathered candidates without valid TURN credentials: {bob_sent:?}"
    );
    assert_only_relay_candidates("Alice", &tap.sent_by(&alice.engine.peer_id().unwrap()));
    let log = turn.log();
    assert!(
        log.contains(&format!("user {USER} credentials are incorrect")),
        "coturn did not refuse Bob's credentials:\n{log}"
    );
    assert!(
        alice.engine.send_message("anyone?").is_err(),
        "no peer is connected, so nothing can be sent"
    );
}
