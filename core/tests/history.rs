//! Saved chats end to end (issue 13 item 3): real engines with a `data_dir`, a real signaling
//! server and real WebRTC data channels on loopback. An engine "restarted" is a new `Engine`
//! on the same directory after the first one was shut down, as after an app kill.

mod common;

use std::path::{Path, PathBuf};

use common::{Client, client_with, server, server_with};
use futures_util::{SinkExt, StreamExt};
use peerchat_core::{
    Conversation, EngineError, EngineEvent, MessageStatus, StoredMessage, StoredStatus,
};

/// A fresh directory under the system's temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        Self(std::env::temp_dir().join(format!(
            "peerchat-history-test-{tag}-{}-{nanos}",
            std::process::id()
        )))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn with_dir(url: &str, name: &str, dir: &Path) -> Client {
    let dir = dir.to_path_buf();
    client_with(url, name, move |c| c.data_dir = Some(dir))
}

async fn wait_status(client: &mut Client, id: &str, wanted: MessageStatus) {
    client
        .wait_for("a message status", |e| match e {
            EngineEvent::MessageStatus {
                message_id, status, ..
            } if message_id == id && *status == wanted => Some(()),
            _ => None,
        })
        .await
}

fn texts(messages: &[StoredMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.text.as_str()).collect()
}

/// Shuts an engine down and waits until its teardown finished (the app was killed).
async fn stop(client: Client) {
    client.engine.shutdown().await;
}

#[tokio::test]
async fn a_restarted_engine_with_the_same_data_dir_shows_its_history() {
    let server = server().await;
    let url = server.ws_url();
    let dir = TempDir::new("restart");
    let mut alice = with_dir(&url, "Alice", &dir.0);
    let mut bob = common::client(&url, "Bob");
    let room = alice.engine.create_room().await.unwrap();
    bob.engine.join_room(&room.code).await.unwrap();
    bob.wait_connected().await;
    alice.wait_connected().await;

    let one = alice.engine.send_message("one").unwrap();
    wait_status(&mut alice, &one, MessageStatus::Delivered).await;
    let two = bob.engine.send_message("two").unwrap();
    assert_eq!(alice.next_message().await.id, two);
    let three = alice.engine.send_message("three").unwrap();
    wait_status(&mut alice, &three, MessageStatus::Delivered).await;

    let conversation = alice.engine.conversation().expect("in a room");
    assert_eq!(
        conversation,
        Conversation::Room {
            code: room.code.clone()
        }
    );
    let live = alice.engine.history(&conversation, None, 50).await.unwrap();
    assert_eq!(texts(&live.messages), ["one", "two", "three"]);
    stop(alice).await;

    // The app comes back: a new engine on the same directory, in no room yet.
    let alice = with_dir(&url, "Alice", &dir.0);
    let page = alice.engine.history(&conversation, None, 50).await.unwrap();
    assert_eq!(texts(&page.messages), ["one", "two", "three"]);
    assert!(!page.has_more);
    let ids: Vec<&str> = page.messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, [one.as_str(), two.as_str(), three.as_str()]);
    assert!(page.messages[0].outgoing && !page.messages[1].outgoing);
    assert_eq!(page.messages[0].status, StoredStatus::Delivered);
    assert_eq!(page.messages[1].status, StoredStatus::Received);
    assert_eq!(page.messages[1].sender_name, "Bob");

    // Paging: the newest one, then the older ones before it.
    let newest = alice.engine.history(&conversation, None, 1).await.unwrap();
    assert_eq!(texts(&newest.messages), ["three"]);
    assert!(newest.has_more);
    let older = alice
        .engine
        .history(&conversation, Some(&three), 10)
        .await
        .unwrap();
    assert_eq!(texts(&older.messages), ["one", "two"]);
    assert!(!older.has_more);
    assert_eq!(
        alice
            .engine
            .history(&conversation, Some("no-such-id"), 10)
            .await,
        Err(EngineError::UnknownMessage {
            id: "no-such-id".into()
        })
    );

    // Deleting the conversation removes it from the device.
    assert_eq!(alice.engine.delete_conversation(&conversation).await, Ok(3));
    let gone = alice.engine.history(&conversation, None, 50).await.unwrap();
    assert!(gone.messages.is_empty());
}

#[tokio::test]
async fn a_message_queued_then_the_engine_dropped_is_delivered_after_restart() {
    let server = server_with(|c| c.room_capacity = 4).await;
    let url = server.ws_url();
    let dir = TempDir::new("outbox");
    let mut alice = with_dir(&url, "Alice", &dir.0);
    let room = alice.engine.create_room().await.unwrap();

    // A member that never sets up a peer connection keeps Alice's peer `Connecting`, so her
    // message waits in the outbox (and keeps the room alive while she is away).
    let (mut ghost, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    let join = format!(
        r#"{{"type":"join_room","code":"{}","name":"Ghost"}}"#,
        room.code
    );
    ghost
        .send(tokio_tungstenite::tungstenite::Message::text(join))
        .await
        .unwrap();
    // Keep reading, so its pings are answered.
    let ghost_task = tokio::spawn(async move { while ghost.next().await.is_some() {} });
    alice
        .wait_for("the ghost joining", |e| {
            matches!(e, EngineEvent::PeerJoined(p) if p.name == "Ghost").then_some(())
        })
        .await;
    let typed = alice.engine.send_message("typed before the kill").unwrap();
    stop(alice).await;

    // Bob arrives while Alice is away; then Alice's app restarts and rejoins the room.
    let mut bob = common::client(&url, "Bob");
    bob.engine.join_room(&room.code).await.unwrap();
    let mut alice = with_dir(&url, "Alice", &dir.0);
    alice.engine.join_room(&room.code).await.unwrap();
    let got = bob.next_message().await;
    assert_eq!(got.id, typed, "sent again with the same id");
    assert_eq!(got.text, "typed before the kill");
    assert_eq!(got.sender_name, "Alice");
    wait_status(&mut alice, &typed, MessageStatus::Delivered).await;
    ghost_task.abort();
}

#[tokio::test]
async fn an_unusable_data_dir_is_a_typed_error_and_chat_goes_on() {
    let server = server().await;
    let url = server.ws_url();
    let dir = TempDir::new("unusable");
    std::fs::create_dir_all(&dir.0).unwrap();
    // A regular file where the directory should be.
    let file = dir.0.join("not-a-directory");
    std::fs::write(&file, b"x").unwrap();
    let mut alice = with_dir(&url, "Alice", &file);
    let mut bob = common::client(&url, "Bob");
    let room = alice.engine.create_room().await.unwrap();
    let conversation = alice.engine.conversation().unwrap();
    assert!(matches!(
        alice.engine.history(&conversation, None, 10).await,
        Err(EngineError::Store { .. })
    ));
    bob.engine.join_room(&room.code).await.unwrap();
    bob.wait_connected().await;
    alice.wait_connected().await;
    let id = bob.engine.send_message("still shown").unwrap();
    // The message is shown although it cannot be saved, and the app hears why.
    let mut shown = false;
    let mut reported = false;
    alice
        .wait_for("the message and the store error", |e| {
            match e {
                EngineEvent::Message(m) if m.id == id => shown = true,
                EngineEvent::Error(EngineError::Store { .. }) => reported = true,
                _ => {}
            }
            (shown && reported).then_some(())
        })
        .await;
    // Every later write fails the same way: the app is not told again for each message
    // (`STORE_ERROR_REPORT_INTERVAL_MS`). Anything reported for `again` comes before `marker`.
    let again = bob.engine.send_message("again").unwrap();
    let marker = bob.engine.send_message("marker").unwrap();
    let mut shown_again = false;
    alice
        .wait_for("the marker", |e| match e {
            EngineEvent::Message(m) if m.id == again => {
                shown_again = true;
                None
            }
            EngineEvent::Message(m) if m.id == marker => Some(()),
            EngineEvent::Error(EngineError::Store { reason }) => {
                panic!("reported again: {reason}")
            }
            _ => None,
        })
        .await;
    assert!(shown_again);
}

#[tokio::test]
async fn both_sides_see_the_same_safety_code() {
    let server = server().await;
    let (alice, bob) = common::connected_pair(&server.ws_url()).await;
    let alice_id = alice.engine.peer_id().unwrap();
    let bob_id = bob.engine.peer_id().unwrap();
    let at_alice = alice.engine.safety_code(&bob_id).await.unwrap();
    let at_bob = bob.engine.safety_code(&alice_id).await.unwrap();
    assert_eq!(at_alice, at_bob);
    assert_eq!(at_alice.len(), 23, "four groups of five digits: {at_alice}");
    assert_eq!(
        alice.engine.safety_code("nobody").await,
        Err(EngineError::UnknownPeer {
            peer_id: "nobody".into()
        })
    );
}

/// Waits until every engine of `clients` reports `Connected` for `count` peers.
async fn wait_connected_to(client: &mut Client, count: usize) {
    let mut seen = std::collections::HashSet::new();
    client
        .wait_for("peers connected", |e| {
            if let EngineEvent::PeerState {
                peer_id,
                state: peerchat_core::PeerState::Connected,
            } = e
            {
                seen.insert(peer_id.clone());
            }
            (seen.len() == count).then_some(())
        })
        .await
}

#[tokio::test]
async fn history_sync_fills_the_gap_of_a_peer_that_was_away() {
    let server = server_with(|c| c.room_capacity = 4).await;
    let url = server.ws_url();
    let bob_dir = TempDir::new("sync-bob");
    let mut alice = common::client(&url, "Alice");
    let mut bob = with_dir(&url, "Bob", &bob_dir.0);
    let mut carol = common::client(&url, "Carol");
    let room = alice.engine.create_room().await.unwrap();
    bob.engine.join_room(&room.code).await.unwrap();
    wait_connected_to(&mut bob, 1).await;
    carol.engine.join_room(&room.code).await.unwrap();
    wait_connected_to(&mut carol, 2).await;
    wait_connected_to(&mut bob, 1).await;

    let before = alice.engine.send_message("before").unwrap();
    assert_eq!(bob.next_message().await.id, before);
    assert_eq!(carol.next_message().await.id, before);

    // Bob's app is killed; Alice and Carol chat on.
    stop(bob).await;
    alice
        .wait_for("Bob gone", |e| {
            matches!(e, EngineEvent::PeerLeft { .. }).then_some(())
        })
        .await;
    let missed_a = alice.engine.send_message("while away, from Alice").unwrap();
    assert_eq!(carol.next_message().await.id, missed_a);
    let missed_c = carol.engine.send_message("while away, from Carol").unwrap();
    assert_eq!(alice.next_message().await.id, missed_c);

    // Bob comes back and rejoins: each of the others sends what he misses of its own.
    let mut bob = with_dir(&url, "Bob", &bob_dir.0);
    bob.engine.join_room(&room.code).await.unwrap();
    let mut synced = Vec::new();
    bob.wait_for("two history messages", |e| {
        match e {
            EngineEvent::HistoryMessage(m) => synced.push((m.id.clone(), m.sender_name.clone())),
            EngineEvent::Message(m) => panic!("a missed message shown as new: {m:?}"),
            _ => {}
        }
        (synced.len() == 2).then_some(())
    })
    .await;
    synced.sort();
    let mut expected = vec![
        (missed_a.clone(), "Alice".to_string()),
        (missed_c.clone(), "Carol".to_string()),
    ];
    expected.sort();
    assert_eq!(synced, expected);

    let conversation = Conversation::Room { code: room.code };
    let page = bob.engine.history(&conversation, None, 50).await.unwrap();
    assert_eq!(
        texts(&page.messages),
        ["before", "while away, from Alice", "while away, from Carol"],
        "in sending order, each once"
    );
    // Live chat goes on after the sync, and nothing else was re-sent meanwhile.
    let after = alice.engine.send_message("after").unwrap();
    let next = bob
        .wait_for("the next message", |e| match e {
            EngineEvent::Message(m) => Some(m.clone()),
            EngineEvent::HistoryMessage(m) => panic!("unexpected history message {m:?}"),
            _ => None,
        })
        .await;
    assert_eq!(next.id, after);
}

#[tokio::test]
async fn messages_sent_around_a_network_change_arrive_as_new_messages_not_history() {
    let server = server().await;
    let (alice, mut bob) = common::connected_pair(&server.ws_url()).await;
    alice.engine.network_changed();
    alice.engine.pause();
    let first = alice.engine.send_message("from the background").unwrap();
    alice.engine.resume();
    alice.engine.network_changed();
    let second = alice.engine.send_message("after a network change").unwrap();
    let mut got = Vec::new();
    bob.wait_for("both messages", |e| {
        match e {
            EngineEvent::Message(m) => got.push(m.id.clone()),
            EngineEvent::HistoryMessage(m) => panic!("a new message shown as history: {m:?}"),
            _ => {}
        }
        (got.len() == 2).then_some(())
    })
    .await;
    assert_eq!(got, [first, second]);
}
