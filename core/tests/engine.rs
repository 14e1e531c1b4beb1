//! The engine end to end: two real engines, a real signaling server and real WebRTC data
//! channels on loopback.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::{client, connected_pair, server, server_with};
use peerchat_core::protocol::ErrorCode;
use peerchat_core::{EngineError, EngineEvent, LeaveReason, MessageStatus, SignalingState};

#[tokio::test]
async fn messages_flow_both_ways_with_delivery_receipts() {
    let server = server().await;
    let (mut alice, mut bob) = connected_pair(&server.ws_url()).await;

    let id = alice.engine.send_message("hello Bob").unwrap();
    let got = bob.next_message().await;
    assert_eq!(got.id, id);
    assert_eq!(got.text, "hello Bob");
    assert_eq!(got.sender_name, "Alice");
    assert_eq!(got.seq, 1);
    assert_eq!(got.peer_id, alice.engine.peer_id().unwrap());

    let mut statuses = Vec::new();
    alice
        .wait_for("delivered", |e| match e {
            EngineEvent::MessageStatus {
                message_id, status, ..
            } if *message_id == id => {
                statuses.push(*status);
                (*status == MessageStatus::Delivered).then_some(())
            }
            _ => None,
        })
        .await;
    assert_eq!(
        statuses,
        vec![MessageStatus::Sent, MessageStatus::Delivered]
    );

    let reply = bob.engine.send_message("hi Alice ✓ ünïcödé").unwrap();
    let got = alice.next_message().await;
    assert_eq!(got.id, reply);
    assert_eq!(got.text, "hi Alice ✓ ünïcödé");
    assert_eq!(got.sender_name, "Bob");
}

#[tokio::test]
async fn a_thousand_messages_arrive_complete_in_order_once_and_all_delivered() {
    const COUNT: usize = 1_000;
    let server = server().await;
    let (mut alice, mut bob) = connected_pair(&server.ws_url()).await;

    let mut sent = Vec::with_capacity(COUNT);
    for i in 0..COUNT {
        sent.push(alice.engine.send_message(&format!("message {i}")).unwrap());
    }
    let mut received = Vec::with_capacity(COUNT);
    bob.wait_for("1000 messages", |e| {
        if let EngineEvent::Message(m) = e {
            received.push((m.id.clone(), m.text.clone(), m.seq));
        }
        (received.len() == COUNT).then_some(())
    })
    .await;
    let ids: Vec<_> = received.iter().map(|(id, _, _)| id.clone()).collect();
    assert_eq!(ids, sent, "same ids, same order");
    for (i, (_, text, seq)) in received.iter().enumerate() {
        assert_eq!(text, &format!("message {i}"));
        assert_eq!(*seq, i as u64 + 1);
    }
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        COUNT,
        "no duplicates"
    );

    let mut delivered = HashSet::new();
    alice
        .wait_for("1000 receipts", |e| {
            if let EngineEvent::MessageStatus {
                message_id,
                status: MessageStatus::Delivered,
                ..
            } = e
            {
                assert!(delivered.insert(message_id.clone()), "one receipt each");
            }
            (delivered.len() == COUNT).then_some(())
        })
        .await;
    assert_eq!(delivered, sent.iter().cloned().collect::<HashSet<_>>());
    // Nothing extra arrives: the next message Bob sees is a fresh marker, not a duplicate.
    let marker = alice.engine.send_message("marker").unwrap();
    assert_eq!(bob.next_message().await.id, marker);
}

#[tokio::test]
async fn leaving_is_seen_by_the_other_peer_within_two_seconds() {
    let server = server().await;
    let (mut alice, bob) = connected_pair(&server.ws_url()).await;
    let bob_id = bob.engine.peer_id().unwrap();
    let start = Instant::now();
    bob.engine.leave_room().await.unwrap();
    let (peer_id, reason) = alice
        .wait_for("peer_left", |e| match e {
            EngineEvent::PeerLeft { peer_id, reason } => Some((peer_id.clone(), *reason)),
            _ => None,
        })
        .await;
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(peer_id, bob_id);
    assert_eq!(reason, LeaveReason::Left);
    assert!(alice.engine.peers().is_empty());
    assert_eq!(
        alice.engine.send_message("anyone?"),
        Err(EngineError::NoConnectedPeer)
    );
}

#[tokio::test]
async fn shutdown_is_seen_as_leaving_within_two_seconds() {
    let server = server().await;
    let (mut alice, bob) = connected_pair(&server.ws_url()).await;
    let start = Instant::now();
    bob.engine.shutdown();
    let reason = alice
        .wait_for("peer_left", |e| match e {
            EngineEvent::PeerLeft { reason, .. } => Some(*reason),
            _ => None,
        })
        .await;
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
    // The engine sends `leave_room` ahead of its close frame.
    assert_eq!(reason, LeaveReason::Left);
    assert_eq!(bob.engine.send_message("x"), Err(EngineError::Shutdown));
    assert_eq!(bob.engine.create_room().await, Err(EngineError::Shutdown));
}

#[tokio::test]
async fn wrong_state_calls_return_typed_errors() {
    let server = server().await;
    let url = server.ws_url();
    let mut alice = client(&url, "Alice");

    assert_eq!(alice.engine.send_message("x"), Err(EngineError::NotInRoom));
    assert_eq!(alice.engine.leave_room().await, Err(EngineError::NotInRoom));
    assert!(matches!(
        alice.engine.join_room("not a code").await,
        Err(EngineError::InvalidRoomCode { .. })
    ));
    assert!(matches!(
        alice.engine.join_room("ABC-DEF-GH1").await,
        Err(EngineError::InvalidRoomCode { .. })
    ));
    match alice.engine.join_room("ABC-DEF-GHJ").await {
        Err(EngineError::Server { code, .. }) => assert_eq!(code, ErrorCode::RoomNotFound),
        other => panic!("expected room_not_found, got {other:?}"),
    }

    let room = alice.engine.create_room().await.unwrap();
    assert_eq!(alice.engine.room_code(), Some(room.code.clone()));
    assert_eq!(
        alice.engine.create_room().await,
        Err(EngineError::AlreadyInRoom)
    );
    assert_eq!(
        alice.engine.join_room(&room.code).await,
        Err(EngineError::AlreadyInRoom)
    );
    assert_eq!(
        alice.engine.send_message("x"),
        Err(EngineError::NoConnectedPeer)
    );
    assert_eq!(
        alice.engine.send_message(""),
        Err(EngineError::EmptyMessage)
    );
    let too_big = "x".repeat(peerchat_core::chat::MAX_MESSAGE_BYTES + 1);
    assert!(matches!(
        alice.engine.send_message(&too_big),
        Err(EngineError::MessageTooLarge { size, max }) if size == too_big.len() as u64 && max == 16_384
    ));

    // A third peer cannot enter a full room of two.
    let bob = client(&url, "Bob");
    bob.engine.join_room(&room.code).await.unwrap();
    let carol = client(&url, "Carol");
    match carol.engine.join_room(&room.code).await {
        Err(EngineError::Server { code, .. }) => assert_eq!(code, ErrorCode::RoomFull),
        other => panic!("expected room_full, got {other:?}"),
    }
    alice
        .wait_for("signaling connected", |e| {
            matches!(e, EngineEvent::SignalingState(SignalingState::Connected)).then_some(())
        })
        .await;
}

#[tokio::test]
async fn largest_message_arrives_intact() {
    let server = server().await;
    let (alice, mut bob) = connected_pair(&server.ws_url()).await;
    let text: String = "é".repeat(peerchat_core::chat::MAX_MESSAGE_BYTES / 2);
    assert_eq!(text.len(), peerchat_core::chat::MAX_MESSAGE_BYTES);
    alice.engine.send_message(&text).unwrap();
    assert_eq!(bob.next_message().await.text, text);
}

#[tokio::test]
async fn mesh_room_of_three_connects_everyone() {
    let server = server_with(|c| c.room_capacity = 3).await;
    let url = server.ws_url();
    let mut alice = client(&url, "Alice");
    let mut bob = client(&url, "Bob");
    let mut carol = client(&url, "Carol");
    let room = alice.engine.create_room().await.unwrap();
    bob.engine.join_room(&room.code).await.unwrap();
    bob.wait_connected().await;
    let joined = carol.engine.join_room(&room.code).await.unwrap();
    assert_eq!(joined.members.len(), 2);
    // Getters reflect the room as soon as join_room returns.
    assert_eq!(carol.engine.peers().len(), 2);
    assert_eq!(carol.engine.room_code(), Some(room.code.clone()));
    let mut connected = HashSet::new();
    carol
        .wait_for("two data channels", |e| {
            if let EngineEvent::PeerState {
                peer_id,
                state: peerchat_core::PeerState::Connected,
            } = e
            {
                connected.insert(peer_id.clone());
            }
            (connected.len() == 2).then_some(())
        })
        .await;
    let id = carol.engine.send_message("hello both").unwrap();
    for who in [&mut alice, &mut bob] {
        let got = who
            .wait_for("carol's message", |e| match e {
                EngineEvent::Message(m) if m.sender_name == "Carol" => Some(m.id.clone()),
                _ => None,
            })
            .await;
        assert_eq!(got, id);
    }
    let mut receipts = HashSet::new();
    carol
        .wait_for("two receipts", |e| {
            if let EngineEvent::MessageStatus {
                peer_id,
                status: MessageStatus::Delivered,
                ..
            } = e
            {
                receipts.insert(peer_id.clone());
            }
            (receipts.len() == 2).then_some(())
        })
        .await;
}

#[tokio::test]
async fn unreachable_server_is_retried_and_a_request_reports_why() {
    // Bind then drop a listener so the port is closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut alice = common::client_with(&format!("ws://127.0.0.1:{port}/ws"), "Alice", |c| {
        c.signaling_timeout_ms = 1_500;
    });
    // A failed first dial is retried with growing, jittered delays.
    for expected in 1..=2u32 {
        alice
            .wait_for("a reconnection attempt", |e| match e {
                EngineEvent::SignalingState(SignalingState::Reconnecting {
                    attempt,
                    next_retry_ms,
                }) if *attempt == expected => {
                    let cap = peerchat_core::signaling::RECONNECT_BASE_DELAY_MS << (expected - 1);
                    assert!(*next_retry_ms <= cap, "{next_retry_ms} > {cap}");
                    Some(())
                }
                _ => None,
            })
            .await;
    }
    match alice.engine.create_room().await {
        Err(EngineError::Signaling { reason }) => {
            assert!(reason.contains("still retrying"), "{reason}")
        }
        other => panic!("expected a signaling error, got {other:?}"),
    }
}

#[test]
fn invalid_config_is_refused() {
    use peerchat_core::{ChannelListener, Engine, EngineConfig};
    let (listener, _rx) = ChannelListener::new();
    let bad_url = EngineConfig::new("http://x", "A");
    assert!(matches!(
        Engine::new(bad_url, listener.clone()),
        Err(EngineError::InvalidConfig { .. })
    ));
    let bad_name = EngineConfig::new("ws://127.0.0.1:1/ws", " ");
    assert!(matches!(
        Engine::new(bad_name, listener.clone()),
        Err(EngineError::InvalidName { .. })
    ));
    let mut bad_addr = EngineConfig::new("ws://127.0.0.1:1/ws", "A");
    bad_addr.ice_udp_addrs = vec!["localhost".into()];
    assert!(matches!(
        Engine::new(bad_addr, listener.clone()),
        Err(EngineError::InvalidConfig { .. })
    ));
    // ICE transport policy `relay` with no TURN server could never gather a candidate.
    let mut relay_without_turn = EngineConfig::new("ws://127.0.0.1:1/ws", "A").loopback_only();
    relay_without_turn.ice_transport_policy = peerchat_core::IceTransportPolicy::Relay;
    assert!(matches!(
        Engine::new(relay_without_turn, listener),
        Err(EngineError::InvalidConfig { reason }) if reason.contains("relay")
    ));
}
