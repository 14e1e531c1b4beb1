//! Peer connections that heal (issue 9, items 1–4) over real sockets on 127.0.0.1: an ICE
//! restart on the same peer connection after a peer froze (SIGSTOP), `network_changed`
//! restarting ICE without interrupting the chat, and the outbox's bound, time to live and
//! failure order. The packet-level faults (address change, loss, link down) are in
//! `netsim.rs`.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use peerchat_chaos_tests::{Client, Proc, ServerProc, quantile_ms};
use peerchat_core::{EngineConfig, EngineError, EngineEvent, MessageStatus, PeerState};

/// Freezes measured in [`a_frozen_peer_is_healed_by_an_ice_restart_on_the_same_connection`].
const FREEZE_TRIALS: usize = 3;

/// How long a peer is frozen: past ICE consent's `disconnected` (2 s) and the restart delay.
const FREEZE: Duration = Duration::from_millis(3_500);

/// Alice, an engine in this process with `config`, creates a room; Bob, a `peerchat join`
/// process, joins it. Returns them with Alice's id for Bob once both ends are open.
async fn alice_and_terminal_bob(url: &str, config: EngineConfig) -> (Client, Proc, String) {
    let mut alice = Client::with_config(config);
    let room = alice.engine.create_room().await.expect("create");
    let mut bob = Proc::spawn(&[
        "join",
        &room.code,
        "--name",
        "Bob",
        "--server",
        url,
        "--ice-addr",
        "127.0.0.1:0",
        "--no-mdns",
    ]);
    bob.expect("chat ready", |l| l == "* chat ready with Alice");
    let bob_key = alice.wait_connected().await;
    alice.forget_events();
    (alice, bob, bob_key)
}

fn config(url: &str) -> EngineConfig {
    EngineConfig::new(url, "Alice").loopback_only()
}

/// Statuses reported for `id` so far, in order.
fn statuses(client: &Client, id: &str) -> Vec<MessageStatus> {
    client
        .seen
        .iter()
        .filter_map(|e| match e {
            EngineEvent::MessageStatus {
                message_id, status, ..
            } if message_id == id => Some(*status),
            _ => None,
        })
        .collect()
}

/// Waits until every id in `ids` has reached `status`.
async fn wait_all(client: &mut Client, ids: &[String], status: MessageStatus) {
    for id in ids {
        if statuses(client, id).contains(&status) {
            continue;
        }
        client
            .wait_for(&format!("{status:?} for {id}"), |e| {
                matches!(e, EngineEvent::MessageStatus { message_id, status: s, .. }
                    if message_id == id && *s == status)
                .then_some(())
            })
            .await;
    }
}

/// Bob's process freezes (SIGSTOP) long enough for Alice's ICE to lose consent: Alice reports
/// Bob `Interrupted`, messages she types meanwhile wait in her outbox, and she restarts ICE.
/// When Bob continues he answers the restart offer on his existing connection: the chat
/// resumes, every message arrives once and in order, and each is `Sent` then `Delivered`
/// exactly once; Alice reports exactly `Interrupted` → `Connected` per freeze.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_peer_is_healed_by_an_ice_restart_on_the_same_connection() {
    let server = ServerProc::start(0, &[]);
    let url = server.url();
    let (mut alice, mut bob, bob_key) = alice_and_terminal_bob(&url, config(&url)).await;
    let mut resumed = Vec::new();
    let mut ids = Vec::new();
    for trial in 0..FREEZE_TRIALS {
        bob.signal(Signal::SIGSTOP);
        alice
            .wait_peer_state(&bob_key, PeerState::Interrupted)
            .await;
        for i in 0..5 {
            let text = format!("while frozen {trial}.{i}");
            ids.push(
                alice
                    .engine
                    .send_message(&text)
                    .expect("a message waits, not refused"),
            );
        }
        // Still frozen: nothing can have been delivered.
        alice
            .expect_none_within(FREEZE / 2, "delivered to a frozen peer", |e| {
                matches!(
                    e,
                    EngineEvent::MessageStatus {
                        status: MessageStatus::Delivered,
                        ..
                    }
                )
            })
            .await;
        let continued = Instant::now();
        bob.signal(Signal::SIGCONT);
        alice.wait_peer_state(&bob_key, PeerState::Connected).await;
        resumed.push(continued.elapsed());
        for i in 0..5 {
            let line = format!("< Alice: while frozen {trial}.{i}");
            bob.expect("the waiting message", |l| l == line);
        }
    }
    wait_all(&mut alice, &ids, MessageStatus::Delivered).await;
    for id in &ids {
        assert_eq!(
            statuses(&alice, id),
            [MessageStatus::Sent, MessageStatus::Delivered],
            "one event per transition for {id}"
        );
    }
    let states = alice.peer_states(&bob_key);
    let expected: Vec<PeerState> = (0..FREEZE_TRIALS)
        .flat_map(|_| [PeerState::Interrupted, PeerState::Connected])
        .collect();
    assert_eq!(
        states, expected,
        "Interrupted → Connected per freeze, nothing else"
    );
    // Bob's side: every message once, in order, no error, never left.
    bob.close_stdin();
    bob.wait_exit();
    let got: Vec<&String> = bob
        .seen
        .iter()
        .filter(|l| l.starts_with("< Alice: "))
        .collect();
    assert_eq!(
        got.len(),
        FREEZE_TRIALS * 5,
        "Bob's output: {:#?}",
        bob.seen
    );
    assert!(
        !bob.seen
            .iter()
            .any(|l| l.starts_with("! error") || l.starts_with("* peer left")),
        "Bob's output: {:#?}",
        bob.seen
    );
    println!(
        "ICE restart after a {FREEZE:?} freeze: chat back {:.0} ms (p50) / {:.0} ms (p99) after SIGCONT, {FREEZE_TRIALS} trials",
        quantile_ms(&resumed, 0.5),
        quantile_ms(&resumed, 0.99)
    );
}

/// The server's relayed-offer counter (`/metrics`).
async fn offers_relayed(port: u16) -> u64 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.expect("read");
    raw.lines()
        .find(|l| l.starts_with("peerchat_relayed_messages_total") && l.contains("type=\"offer\""))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .map(|v| v as u64)
        .unwrap_or(0)
}

/// `network_changed()` restarts ICE (a new offer goes through the server) on the existing
/// connection: neither side reports any peer state (no interruption, no new connection, which
/// the answerer would report as `Interrupted`), and the chat goes on both ways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_changed_restarts_ice_without_interrupting_the_chat() {
    let server = ServerProc::start(0, &[]);
    let url = server.url();
    let mut alice = Client::new(&url, "Alice");
    let mut bob = Client::new(&url, "Bob");
    let room = alice.engine.create_room().await.expect("create");
    bob.engine.join_room(&room.code).await.expect("join");
    alice.wait_connected().await;
    bob.wait_connected().await;
    alice.forget_events();
    bob.forget_events();
    let before = offers_relayed(server.port).await;
    bob.engine.network_changed();
    let (mut to_alice, mut to_bob) = (Vec::new(), Vec::new());
    for i in 0..20 {
        let text = format!("bob {i}");
        bob.engine.send_message(&text).expect("send");
        to_alice.push(text);
        let text = format!("alice {i}");
        alice.engine.send_message(&text).expect("send");
        to_bob.push(text);
    }
    assert_eq!(alice.received(to_alice.len()).await, to_alice);
    assert_eq!(bob.received(to_bob.len()).await, to_bob);
    // The restart's offer went through the server (the answer follows it).
    let deadline = Instant::now() + Duration::from_secs(5);
    while offers_relayed(server.port).await == before {
        assert!(Instant::now() < deadline, "no ICE restart offer relayed");
        tokio::task::yield_now().await;
    }
    let churn = |e: &EngineEvent| {
        matches!(
            e,
            EngineEvent::PeerState { .. }
                | EngineEvent::MessageStatus {
                    status: MessageStatus::Failed,
                    ..
                }
        )
    };
    let window = Duration::from_millis(1_500);
    tokio::join!(
        alice.expect_none_within(window, "Alice saw churn", churn),
        bob.expect_none_within(window, "Bob saw churn", churn),
    );
    assert!(alice.seen_where(churn).is_empty() && bob.seen_where(churn).is_empty());
    // And it still carries messages after the restart.
    bob.engine.send_message("after the restart").expect("send");
    to_alice.push("after the restart".into());
    assert_eq!(alice.received(to_alice.len()).await, to_alice);
}

/// The outbox is bounded: with Bob frozen nothing is acknowledged, and the message past
/// `max_outbox_messages` is refused with `OutboxFull`; once Bob continues and acknowledges,
/// sending works again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_outbox_refuses_with_a_typed_error_until_acknowledged() {
    const MAX: usize = 5;
    let server = ServerProc::start(0, &[]);
    let url = server.url();
    let mut c = config(&url);
    c.max_outbox_messages = MAX;
    let (mut alice, mut bob, _) = alice_and_terminal_bob(&url, c).await;
    bob.signal(Signal::SIGSTOP);
    let mut ids = Vec::new();
    for i in 0..MAX {
        ids.push(
            alice
                .engine
                .send_message(&format!("m{i}"))
                .expect("within the bound"),
        );
    }
    assert_eq!(
        alice.engine.send_message("one too many"),
        Err(EngineError::OutboxFull { max: MAX as u64 })
    );
    bob.signal(Signal::SIGCONT);
    wait_all(&mut alice, &ids, MessageStatus::Delivered).await;
    let id = alice
        .engine
        .send_message("room again")
        .expect("acknowledged: room again");
    wait_all(&mut alice, &[id], MessageStatus::Delivered).await;
    bob.expect("the last message", |l| l == "< Alice: room again");
}

/// `message_ttl_ms`: messages not acknowledged in time are `Failed`, once each, in send order,
/// while the peer stays in the room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_past_their_ttl_fail_once_in_send_order() {
    let server = ServerProc::start(0, &[]);
    let url = server.url();
    let mut c = config(&url);
    c.message_ttl_ms = 1_000;
    let (mut alice, bob, bob_key) = alice_and_terminal_bob(&url, c).await;
    bob.signal(Signal::SIGSTOP);
    let ids: Vec<String> = (0..8)
        .map(|i| alice.engine.send_message(&format!("m{i}")).expect("send"))
        .collect();
    wait_all(&mut alice, &ids, MessageStatus::Failed).await;
    let failed: Vec<String> = alice
        .seen
        .iter()
        .filter_map(|e| match e {
            EngineEvent::MessageStatus {
                message_id,
                status: MessageStatus::Failed,
                peer_id,
            } if *peer_id == bob_key => Some(message_id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(failed, ids, "each failed once, in send order");
    assert!(
        !alice.peer_states(&bob_key).contains(&PeerState::Failed),
        "the peer itself is not given up"
    );
    bob.signal(Signal::SIGCONT);
}

/// A peer that leaves for good (killed; its session's grace runs out) is `Closed` once, and
/// its unacknowledged messages are `Failed` once each, in send order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_gone_for_good_is_closed_once_and_its_messages_fail_in_send_order() {
    let server = ServerProc::start(0, &["--session-grace-ms", "500"]);
    let url = server.url();
    let (mut alice, mut bob, bob_key) = alice_and_terminal_bob(&url, config(&url)).await;
    bob.signal(Signal::SIGSTOP);
    let ids: Vec<String> = (0..6)
        .map(|i| alice.engine.send_message(&format!("m{i}")).expect("send"))
        .collect();
    bob.kill();
    alice
        .wait_for("peer left", |e| {
            matches!(e, EngineEvent::PeerLeft { .. }).then_some(())
        })
        .await;
    let failed: Vec<String> = alice
        .seen
        .iter()
        .filter_map(|e| match e {
            EngineEvent::MessageStatus {
                message_id,
                status: MessageStatus::Failed,
                ..
            } => Some(message_id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(failed, ids, "each failed once, in send order");
    let states = alice.peer_states(&bob_key);
    assert_eq!(
        states.iter().filter(|s| **s == PeerState::Closed).count(),
        1,
        "{states:?}"
    );
    assert!(!states.contains(&PeerState::Failed), "{states:?}");
    assert_eq!(
        alice.engine.send_message("anyone?"),
        Err(EngineError::NoConnectedPeer)
    );
}
