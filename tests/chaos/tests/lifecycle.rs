//! The mobile lifecycle across real processes on 127.0.0.1 (issue 9 items 5–6): `pause()` /
//! `resume()` / `network_changed()`, a shutdown and a drop that never block, cancelled room
//! requests, and the bounded queues between the app and the network. Real `peerchat serve`
//! processes, real engines, real WebRTC data channels; nothing is mocked.
//!
//! The pause lasts `PEERCHAT_PAUSE_MS` (default 60 000 ms, the figure); the suite
//! `scripts/test.d/15-chaos.sh` runs it in full. `PEERCHAT_PAUSE_MS=5000` makes a quick local
//! run. The test does not sleep: the pause is a window in which it watches the events and the
//! proxy for a dial that must not happen.

use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use peerchat_chaos_tests::{Client, ServerProc, TcpProxy, health};
use peerchat_core::protocol::ErrorCode;
use peerchat_core::signaling::{LIVENESS_TIMEOUT_MS, WAKE_PROBE_TIMEOUT_MS};
use peerchat_core::{
    COMMAND_QUEUE_LEN, ChannelListener, ChatMessage, Engine, EngineConfig, EngineError,
    EngineEvent, EngineListener, LeaveReason, MessageStatus, Peer, PeerState, RoomInfo,
    SHUTDOWN_GRACE_MS, SignalingState,
};

const DEFAULT_PAUSE_MS: u64 = 60_000;

fn pause_window() -> Duration {
    let ms = std::env::var("PEERCHAT_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_PAUSE_MS);
    Duration::from_millis(ms)
}

/// Two engines in one room with open data channels; returns (alice, bob, alice's id for
/// bob, bob's id for alice).
async fn chatting(alice_url: &str, bob_url: &str) -> (Client, Client, String, String) {
    let mut alice = Client::new(alice_url, "Alice");
    let mut bob = Client::new(bob_url, "Bob");
    let room = alice.engine.create_room().await.expect("create");
    bob.engine.join_room(&room.code).await.expect("join");
    let bob_key = alice.wait_connected().await;
    let alice_key = bob.wait_connected().await;
    alice.forget_events();
    bob.forget_events();
    (alice, bob, bob_key, alice_key)
}

fn signaling_activity(e: &EngineEvent) -> bool {
    matches!(
        e,
        EngineEvent::SignalingState(
            SignalingState::Connected | SignalingState::Reconnecting { .. }
        )
    )
}

fn peer_churn(e: &EngineEvent) -> bool {
    matches!(
        e,
        EngineEvent::PeerJoined(_)
            | EngineEvent::PeerLeft { .. }
            | EngineEvent::PeerState { .. }
            | EngineEvent::MessageStatus {
                status: MessageStatus::Failed,
                ..
            }
    )
}

/// `pause()`, then the OS closes the app's socket (the proxy is cut), then a long pause, then
/// `resume()`: no dial at all while paused, chat over the data channel all along, the session
/// resumed at once on `resume()` (skipping the backoff), every message delivered once, in
/// order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_then_resume_keeps_the_chat_and_loses_nothing() {
    let server = ServerProc::start(0, &["--session-grace-ms", "300000"]);
    let proxy = TcpProxy::start(0, server.port).await;
    let port = proxy.port;
    let (mut alice, mut bob, _bob_key, alice_key) = chatting(&proxy.url(), &server.url()).await;
    let (mut to_bob, mut to_alice) = (Vec::new(), Vec::new());
    let say = |from: &Client, text: String, log: &mut Vec<String>| {
        from.engine.send_message(&text).expect("send");
        log.push(text);
    };
    say(&alice, "before the pause".into(), &mut to_bob);
    say(&bob, "hi before the pause".into(), &mut to_alice);
    assert_eq!(bob.received(to_bob.len()).await, to_bob);

    alice.engine.pause();
    let mark = alice.mark();
    // The OS closes the backgrounded app's socket.
    proxy.cut();
    alice
        .wait_for("reconnecting once", |e| signaling_activity(e).then_some(()))
        .await;
    bob.wait_for("alice interrupted", |e| match e {
        EngineEvent::PeerInterrupted(id) if *id == alice_key => Some(()),
        _ => None,
    })
    .await;
    // The server is reachable again: any dial would now succeed, and be counted.
    let proxy = TcpProxy::start(port, server.port).await;
    // Chat goes on over the data channel while paused.
    for i in 0..5 {
        say(&alice, format!("alice paused {i}"), &mut to_bob);
        say(&bob, format!("bob to paused alice {i}"), &mut to_alice);
    }
    assert_eq!(bob.received(to_bob.len()).await, to_bob);
    assert_eq!(alice.received(to_alice.len()).await, to_alice);

    // The pause: no signaling activity, no dial, no peer lost, for the whole window.
    let window = pause_window();
    let (a, b) = tokio::join!(
        alice.expect_none_within(window, "a dial or peer change while paused", |e| {
            signaling_activity(e) || peer_churn(e)
        }),
        bob.expect_none_within(window, "a peer change at Bob", peer_churn),
    );
    let ((), ()) = (a, b);
    assert_eq!(proxy.accepted(), 0, "Alice dialled while paused");

    let resumed_at = Instant::now();
    alice.engine.resume();
    let back = alice.wait_reconnected(mark).await;
    let took = back - resumed_at;
    println!(
        "pause of {} ms: session back {} ms after resume()",
        window.as_millis(),
        took.as_millis()
    );
    assert!(
        took < Duration::from_millis(1_500),
        "resume took {took:?} to reconnect"
    );
    bob.seen_or_wait_for("alice resumed", |e| match e {
        EngineEvent::PeerResumed(id) if *id == alice_key => Some(()),
        _ => None,
    })
    .await;
    for i in 0..5 {
        say(&alice, format!("alice resumed {i}"), &mut to_bob);
        say(&bob, format!("bob after resume {i}"), &mut to_alice);
    }
    assert_eq!(bob.received(to_bob.len()).await, to_bob);
    assert_eq!(alice.received(to_alice.len()).await, to_alice);
    assert!(alice.seen_where(peer_churn).is_empty(), "{:#?}", alice.seen);
    assert!(bob.seen_where(peer_churn).is_empty(), "{:#?}", bob.seen);
    let h = health(server.port).await;
    assert_eq!(h["connected_clients"], 2, "{h}");
}

/// `network_changed()` while the engine waits out a long backoff dials at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wake_dials_at_once_skipping_the_backoff() {
    let server = ServerProc::start(0, &[]);
    let proxy = TcpProxy::start(0, server.port).await;
    let port = proxy.port;
    let mut alice = Client::new(&proxy.url(), "Alice");
    alice
        .wait_for("connected", |e| {
            matches!(e, EngineEvent::SignalingState(SignalingState::Connected)).then_some(())
        })
        .await;
    proxy.cut();
    // Dials fail (nothing listens) with growing delays, up to 5 s.
    let next_retry_ms =
        alice
            .wait_for("a backoff of 2 s or more", |e| match e {
                EngineEvent::SignalingState(SignalingState::Reconnecting {
                    next_retry_ms, ..
                }) if *next_retry_ms >= 2_000 => Some(*next_retry_ms),
                _ => None,
            })
            .await;
    let _proxy = TcpProxy::start(port, server.port).await;
    let woke = Instant::now();
    alice.engine.network_changed();
    alice
        .wait_for("connected again", |e| {
            matches!(e, EngineEvent::SignalingState(SignalingState::Connected)).then_some(())
        })
        .await;
    let took = woke.elapsed();
    println!("backoff {next_retry_ms} ms pending; connected {took:?} after network_changed()");
    assert!(
        took < Duration::from_millis(1_000) && took < Duration::from_millis(next_retry_ms),
        "took {took:?} with {next_retry_ms} ms of backoff left"
    );
}

/// `network_changed()` when nothing changed: the live connection answers the probe, nothing
/// is dropped or duplicated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_changed_without_a_change_does_no_harm() {
    let server = ServerProc::start(0, &[]);
    let url = server.url();
    let (mut alice, mut bob, _, _) = chatting(&url, &url).await;
    for _ in 0..5 {
        alice.engine.network_changed();
        bob.engine.network_changed();
    }
    alice.engine.resume();
    let window = Duration::from_millis(WAKE_PROBE_TIMEOUT_MS + 2_000);
    let harm = |e: &EngineEvent| {
        peer_churn(e)
            || signaling_activity(e)
            || matches!(
                e,
                EngineEvent::PeerInterrupted(_) | EngineEvent::PeerResumed(_)
            )
    };
    let ((), ()) = tokio::join!(
        alice.expect_none_within(window, "harm at Alice", harm),
        bob.expect_none_within(window, "harm at Bob", harm),
    );
    let (mut to_bob, mut to_alice) = (Vec::new(), Vec::new());
    for i in 0..10 {
        let text = format!("alice {i}");
        alice.engine.send_message(&text).expect("send");
        to_bob.push(text);
        let text = format!("bob {i}");
        bob.engine.send_message(&text).expect("send");
        to_alice.push(text);
    }
    assert_eq!(bob.received(to_bob.len()).await, to_bob);
    assert_eq!(alice.received(to_alice.len()).await, to_alice);
    let h = health(server.port).await;
    assert_eq!(h["connected_clients"], 2, "{h}");
}

/// `network_changed()` when the connection is silently dead (a frozen path): taken for dead
/// after the probe, not after the 15 s liveness timeout, and the session resumed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_changed_on_a_dead_path_redials_within_the_probe_bound() {
    let server = ServerProc::start(0, &[]);
    let proxy = TcpProxy::start(0, server.port).await;
    let (mut alice, mut bob, _, _) = chatting(&proxy.url(), &server.url()).await;
    let mark = alice.mark();
    proxy.freeze();
    let woke = Instant::now();
    alice.engine.network_changed();
    let back = alice.wait_reconnected(mark).await;
    let took = back - woke;
    println!("dead path: session back {took:?} after network_changed()");
    assert!(
        took < Duration::from_millis(WAKE_PROBE_TIMEOUT_MS + 2_000),
        "took {took:?}; the liveness timeout alone is {LIVENESS_TIMEOUT_MS} ms"
    );
    alice.engine.send_message("still here").expect("send");
    assert_eq!(bob.received(1).await, ["still here"]);
}

/// Dropping an engine on a thread returns at once (< 50 ms) while the teardown goes on in the
/// background, and the server still gets the close frame (the others see `peer_left`
/// `left` at once, not a timeout). `shutdown()` returns at once too; awaiting its handle
/// waits for the teardown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_and_drop_return_at_once_and_the_server_sees_the_leave() {
    let server = ServerProc::start(0, &[]);
    let url = server.url();
    let (alice, mut bob, alice_key_at_bob, _) = chatting(&url, &url).await;
    let dropped = std::thread::spawn(move || {
        let started = Instant::now();
        drop(alice);
        started.elapsed()
    })
    .join()
    .expect("drop thread");
    println!("drop of a connected engine returned in {dropped:?}");
    assert!(dropped < Duration::from_millis(50), "drop took {dropped:?}");
    let (reason, left_after) = {
        let at = Instant::now();
        let reason = bob
            .wait_for("alice left", |e| match e {
                EngineEvent::PeerLeft { peer_id, reason } if *peer_id == alice_key_at_bob => {
                    Some(*reason)
                }
                _ => None,
            })
            .await;
        (reason, at.elapsed())
    };
    println!("bob saw peer_left {reason:?} {left_after:?} after the drop returned");
    assert_eq!(
        reason,
        LeaveReason::Left,
        "the close frame did not reach the server"
    );
    assert_eq!(health(server.port).await["connected_clients"], 1);

    let started = Instant::now();
    let handle = bob.engine.shutdown();
    let call = started.elapsed();
    assert!(call < Duration::from_millis(50), "shutdown() took {call:?}");
    assert_eq!(bob.engine.send_message("late"), Err(EngineError::Shutdown));
    handle.clone().await;
    let done = started.elapsed();
    println!("shutdown(): call {call:?}, teardown finished after {done:?}");
    assert!(handle.is_finished());
    assert!(done < Duration::from_millis(SHUTDOWN_GRACE_MS + 1_000));
    bob.wait_for("disconnected", |e| {
        matches!(e, EngineEvent::SignalingState(SignalingState::Disconnected)).then_some(())
    })
    .await;
}

fn is_cancelled(r: &Result<RoomInfo, EngineError>) -> bool {
    matches!(r, Err(EngineError::Cancelled))
}

/// A join cancelled after it went out (its future dropped, or `cancel_room_request`) is undone:
/// the engine leaves the room the server seated it in, so a room of two has a free seat again;
/// a join cancelled before it went out never reaches the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_joins_leave_no_member_in_the_room() {
    let server = ServerProc::start(0, &["--room-capacity", "2"]);
    let url = server.url();
    let mut alice = Client::new(&url, "Alice");
    let room = alice.engine.create_room().await.expect("create");
    let mut bob = Client::new(&url, "Bob");
    bob.wait_for("connected", |e| {
        matches!(e, EngineEvent::SignalingState(SignalingState::Connected)).then_some(())
    })
    .await;
    let joined_and_left = async |alice: &mut Client, what: &str| {
        let joined = alice
            .wait_for(what, |e| match e {
                EngineEvent::PeerJoined(p) => Some(p.peer_id.clone()),
                _ => None,
            })
            .await;
        let reason = alice
            .wait_for("the cancelled joiner leaving", |e| match e {
                EngineEvent::PeerLeft { peer_id, reason } if *peer_id == joined => Some(*reason),
                _ => None,
            })
            .await;
        assert_eq!(reason, LeaveReason::Left);
    };

    // 1. `cancel_room_request` (Swift's Task.cancel path): the future says Cancelled.
    {
        let join = bob.engine.join_room(&room.code);
        tokio::pin!(join);
        // One poll queues the command; the join goes out at once (the session is ready).
        assert!(
            tokio::time::timeout(Duration::ZERO, &mut join)
                .await
                .is_err()
        );
        bob.engine.cancel_room_request().expect("cancel");
        let result = join.await;
        assert!(is_cancelled(&result), "{result:?}");
    }
    joined_and_left(&mut alice, "bob seated by the cancelled join").await;
    assert_eq!(bob.engine.room_code(), None);

    // 2. The future dropped after the join went out (a Kotlin coroutine cancelled).
    {
        let join = bob.engine.join_room(&room.code);
        tokio::pin!(join);
        assert!(
            tokio::time::timeout(Duration::ZERO, &mut join)
                .await
                .is_err()
        );
    }
    joined_and_left(&mut alice, "bob seated by the dropped join").await;
    assert_eq!(bob.engine.room_code(), None);

    // 3. Dropped before the session was ready: it never goes out.
    let mut dave = Client::new(&url, "Dave");
    {
        let join = dave.engine.join_room(&room.code);
        tokio::pin!(join);
        let _ = tokio::time::timeout(Duration::ZERO, &mut join).await;
    }
    dave.wait_for("connected", |e| {
        matches!(e, EngineEvent::SignalingState(SignalingState::Connected)).then_some(())
    })
    .await;

    // Server side: the room of two still has its free seat, and Bob can take it for real.
    let room_again = bob.engine.join_room(&room.code).await.expect("a free seat");
    assert_eq!(room_again.members.len(), 1, "{room_again:?}");
    let mut carol = Client::new(&url, "Carol");
    let full = carol.engine.join_room(&room.code).await;
    assert!(
        matches!(
            &full,
            Err(EngineError::Server {
                code: ErrorCode::RoomFull,
                ..
            })
        ),
        "{full:?}"
    );
    assert_eq!(dave.engine.room_code(), None);
}

/// A listener that blocks in its first `on_message_status` until the test opens the gate, and
/// forwards every event to a channel.
struct GatedListener {
    inner: Arc<ChannelListener>,
    gate: Mutex<Option<std_mpsc::Receiver<()>>>,
}

impl EngineListener for GatedListener {
    fn on_signaling_state(&self, state: SignalingState) {
        self.inner.on_signaling_state(state);
    }
    fn on_room_created(&self, room: RoomInfo) {
        self.inner.on_room_created(room);
    }
    fn on_room_joined(&self, room: RoomInfo) {
        self.inner.on_room_joined(room);
    }
    fn on_peer_joined(&self, peer: Peer) {
        self.inner.on_peer_joined(peer);
    }
    fn on_peer_state(&self, peer_id: String, state: PeerState) {
        self.inner.on_peer_state(peer_id, state);
    }
    fn on_peer_left(&self, peer_id: String, reason: LeaveReason) {
        self.inner.on_peer_left(peer_id, reason);
    }
    fn on_message(&self, message: ChatMessage) {
        self.inner.on_message(message);
    }
    fn on_message_status(&self, message_id: String, peer_id: String, status: MessageStatus) {
        let gate = self.gate.lock().expect("gate").take();
        if let Some(gate) = gate {
            let _ = gate.recv();
        }
        self.inner.on_message_status(message_id, peer_id, status);
    }
    fn on_error(&self, error: EngineError) {
        self.inner.on_error(error);
    }
}

/// A listener that stops returning holds the engine at its bounds: the event queue fills, the
/// event loop waits for it, the command queue fills and `send_message` says `QueueFull` (and
/// keeps saying it: nothing drains while the listener is stuck). Once the listener returns,
/// every accepted message is delivered once, in order, and nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_listener_holds_the_engine_at_its_queue_bounds_and_loses_nothing() {
    let server = ServerProc::start(0, &[]);
    let url = server.url();
    let (inner, mut alice_events) = ChannelListener::new();
    let (open, gate) = std_mpsc::channel();
    let listener = Arc::new(GatedListener {
        inner,
        gate: Mutex::new(Some(gate)),
    });
    let alice =
        Engine::new(EngineConfig::new(&url, "Alice").loopback_only(), listener).expect("engine");
    let mut bob = Client::new(&url, "Bob");
    let room = alice.create_room().await.expect("create");
    bob.engine.join_room(&room.code).await.expect("join");
    bob.wait_connected().await;
    loop {
        match alice_events.recv().await.expect("alice events") {
            EngineEvent::PeerState {
                state: PeerState::Connected,
                ..
            } => break,
            _ => continue,
        }
    }
    let mut accepted = Vec::new();
    let refused = loop {
        let text = format!("m{}", accepted.len());
        match alice.send_message(&text) {
            Ok(_) => accepted.push(text),
            Err(e) => break e,
        }
        assert!(
            accepted.len() < 100_000,
            "never refused: the queues are unbounded"
        );
    };
    println!(
        "listener stuck: {} messages accepted, then {refused:?}",
        accepted.len()
    );
    assert_eq!(
        refused,
        EngineError::QueueFull {
            queue: "commands".into(),
            capacity: COMMAND_QUEUE_LEN as u64
        }
    );
    assert!(accepted.len() >= COMMAND_QUEUE_LEN);
    // Still full 500 ms later (a window in which nothing may drain, not a wait for readiness):
    // the stuck listener holds the loop.
    let _ = tokio::time::timeout(Duration::from_millis(500), std::future::pending::<()>()).await;
    assert!(matches!(
        alice.send_message("one more"),
        Err(EngineError::QueueFull { .. })
    ));
    open.send(()).expect("open the gate");
    let received = bob.received(accepted.len()).await;
    assert_eq!(received, accepted, "lost, duplicated or reordered");
}
