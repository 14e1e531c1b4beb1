use super::sync::{MAX_SYNC_MESSAGES, plan_reply};
use super::*;

fn room() -> Conversation {
    Conversation::Room {
        code: "ABC-DEF-GHJ".into(),
    }
}

fn msg(id: &str, outgoing: bool, sent_at_ms: u64) -> StoredMessage {
    StoredMessage {
        id: id.into(),
        outgoing,
        sender_peer_id: if outgoing { "me" } else { "them" }.into(),
        sender_name: if outgoing { "Ada" } else { "Bob" }.into(),
        text: format!("text of {id}"),
        sent_at_ms,
        stored_at_ms: 1,
        status: if outgoing {
            StoredStatus::Pending
        } else {
            StoredStatus::Received
        },
    }
}

/// A fresh directory under the system's temp dir, removed when dropped.
struct TempDir(PathBuf);
impl TempDir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "peerchat-store-{tag}-{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7()
        ));
        Self(dir)
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn conversation_keys_round_trip() {
    let login = Conversation::Login {
        own: "ada".into(),
        peer: "bob:room:x".into(),
    };
    for c in [room(), login] {
        assert_eq!(Conversation::from_key(&c.key()).unwrap(), c);
    }
    assert!(matches!(
        Conversation::from_key("chat:x"),
        Err(StoreError::InvalidConversation { .. })
    ));
}

#[test]
fn a_duplicate_id_is_saved_once() {
    let store = HistoryStore::in_memory().unwrap();
    assert!(store.insert(&room(), &msg("a", false, 10)).unwrap());
    let mut again = msg("a", false, 10);
    again.text = "forged replacement".into();
    assert!(!store.insert(&room(), &again).unwrap());
    let page = store.history(&room(), None, 10).unwrap();
    assert_eq!(page.messages.len(), 1);
    assert_eq!(page.messages[0].text, "text of a");
}

#[test]
fn history_pages_oldest_first_with_a_cursor() {
    let store = HistoryStore::in_memory().unwrap();
    // 25 messages; two share a millisecond (ids break the tie).
    for i in 0..25u64 {
        let ms = if i == 11 { 1_010 } else { 1_000 + i };
        store
            .insert(&room(), &msg(&format!("m{i:02}"), i % 2 == 0, ms))
            .unwrap();
    }
    // Another conversation's message never shows.
    let other = Conversation::Room {
        code: "ZZZ-ZZZ-ZZZ".into(),
    };
    store.insert(&other, &msg("x", true, 5_000)).unwrap();

    let mut seen = Vec::new();
    let mut before: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = store.history(&room(), before.as_deref(), 10).unwrap();
        pages += 1;
        let ids: Vec<String> = page.messages.iter().map(|m| m.id.clone()).collect();
        // Oldest first within the page.
        let mut sorted = page.messages.clone();
        sorted.sort_by(|a, b| (a.sent_at_ms, &a.id).cmp(&(b.sent_at_ms, &b.id)));
        assert_eq!(sorted, page.messages);
        seen.splice(0..0, ids);
        if !page.has_more {
            break;
        }
        before = Some(page.messages[0].id.clone());
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 25);
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 25, "no message twice across pages");
    assert!(!seen.contains(&"x".to_string()));
    assert!(matches!(
        store.history(&room(), Some("nope"), 10),
        Err(StoreError::UnknownMessage { .. })
    ));
    // A limit past the maximum is clamped, zero becomes one.
    assert_eq!(store.history(&room(), None, 0).unwrap().messages.len(), 1);
}

#[test]
fn receipts_only_advance_and_the_overall_status_is_the_least_advanced() {
    let mut store = HistoryStore::in_memory().unwrap();
    store.insert(&room(), &msg("a", true, 1)).unwrap();
    let set = |s: &mut HistoryStore, peer: &str, st| s.set_receipt(&room(), "a", peer, st).unwrap();
    assert_eq!(
        set(&mut store, "p1", StoredStatus::Sent),
        Some(StoredStatus::Sent)
    );
    assert_eq!(
        set(&mut store, "p2", StoredStatus::Sent),
        Some(StoredStatus::Sent)
    );
    assert_eq!(
        set(&mut store, "p1", StoredStatus::Delivered),
        Some(StoredStatus::Sent)
    );
    assert_eq!(
        set(&mut store, "p2", StoredStatus::Delivered),
        Some(StoredStatus::Delivered)
    );
    // A late `Sent` does not move p2 back.
    assert_eq!(
        set(&mut store, "p2", StoredStatus::Sent),
        Some(StoredStatus::Delivered)
    );
    assert_eq!(
        set(&mut store, "p1", StoredStatus::Read),
        Some(StoredStatus::Delivered)
    );
    assert_eq!(
        store.history(&room(), None, 1).unwrap().messages[0].status,
        StoredStatus::Delivered
    );
    assert_eq!(
        set(&mut store, "p1", StoredStatus::Failed),
        Some(StoredStatus::Delivered)
    );
    assert_eq!(
        store
            .set_receipt(&room(), "missing", "p1", StoredStatus::Sent)
            .unwrap(),
        None
    );
}

#[test]
fn an_incoming_message_is_marked_read_once() {
    let store = HistoryStore::in_memory().unwrap();
    store.insert(&room(), &msg("a", false, 1)).unwrap();
    assert!(store.set_status(&room(), "a", StoredStatus::Read).unwrap());
    assert!(!store.set_status(&room(), "a", StoredStatus::Read).unwrap());
    assert!(
        !store
            .set_status(&room(), "a", StoredStatus::Received)
            .unwrap()
    );
    assert!(!store.set_status(&room(), "zz", StoredStatus::Read).unwrap());
}

#[test]
fn a_receipt_for_a_received_message_changes_nothing() {
    let mut store = HistoryStore::in_memory().unwrap();
    store.insert(&room(), &msg("in", false, 1)).unwrap();
    assert_eq!(
        store
            .set_receipt(&room(), "in", "them", StoredStatus::Delivered)
            .unwrap(),
        None
    );
    let page = store.history(&room(), None, 10).unwrap();
    assert_eq!(page.messages[0].status, StoredStatus::Received);
}

#[test]
fn the_persisted_outbox_is_the_unacknowledged_outgoing_messages_oldest_first() {
    let mut store = HistoryStore::in_memory().unwrap();
    for (id, t) in [("b", 2), ("a", 1), ("c", 3), ("d", 4)] {
        store.insert(&room(), &msg(id, true, t)).unwrap();
    }
    store.insert(&room(), &msg("in", false, 5)).unwrap();
    store
        .set_receipt(&room(), "b", "p1", StoredStatus::Sent)
        .unwrap();
    store
        .set_receipt(&room(), "c", "p1", StoredStatus::Delivered)
        .unwrap();
    store
        .set_receipt(&room(), "d", "p1", StoredStatus::Failed)
        .unwrap();
    let ids: Vec<String> = store
        .unacknowledged(&room(), 10)
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(store.unacknowledged(&room(), 1).unwrap()[0].id, "a");
    // Sent again to a new session's peers: the old peer's receipt no longer counts.
    store.restart_receipts(&room(), "b").unwrap();
    assert_eq!(
        store
            .set_receipt(&room(), "b", "p2", StoredStatus::Delivered)
            .unwrap(),
        Some(StoredStatus::Delivered)
    );
    let ids: Vec<String> = store
        .unacknowledged(&room(), 10)
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, ["a"]);
}

#[test]
fn deleting_a_conversation_removes_its_messages_and_receipts_only() {
    let mut store = HistoryStore::in_memory().unwrap();
    let other = Conversation::Login {
        own: "ada".into(),
        peer: "bob".into(),
    };
    store.insert(&room(), &msg("a", true, 1)).unwrap();
    store
        .set_receipt(&room(), "a", "p", StoredStatus::Sent)
        .unwrap();
    store.insert(&other, &msg("b", true, 2)).unwrap();
    assert_eq!(
        store.conversations().unwrap(),
        vec![(other.clone(), 1), (room(), 1)]
    );
    assert_eq!(store.delete_conversation(&room()).unwrap(), 1);
    assert_eq!(store.history(&room(), None, 10).unwrap().messages, vec![]);
    let receipts: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM receipts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(receipts, 0, "receipts cascade with their message");
    assert_eq!(store.history(&other, None, 10).unwrap().messages.len(), 1);
}

#[test]
fn history_survives_reopening_the_directory() {
    let dir = TempDir::new("reopen");
    {
        let mut store = HistoryStore::open(&dir.0).unwrap();
        store.insert(&room(), &msg("a", true, 1)).unwrap();
        store
            .set_receipt(&room(), "a", "p", StoredStatus::Delivered)
            .unwrap();
    }
    let store = HistoryStore::open(&dir.0).unwrap();
    let page = store.history(&room(), None, 10).unwrap();
    assert_eq!(page.messages.len(), 1);
    assert_eq!(page.messages[0].status, StoredStatus::Delivered);
    assert!(dir.0.join(DATABASE_FILE).exists());
}

#[test]
fn a_database_from_a_newer_engine_is_refused() {
    let dir = TempDir::new("newer");
    drop(HistoryStore::open(&dir.0).unwrap());
    let conn = Connection::open(dir.0.join(DATABASE_FILE)).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    assert!(matches!(
        HistoryStore::open(&dir.0),
        Err(StoreError::Migration { .. })
    ));
}

#[test]
fn an_unusable_directory_is_a_typed_error() {
    let dir = TempDir::new("file");
    std::fs::write(&dir.0, b"not a directory").unwrap();
    assert!(matches!(
        HistoryStore::open(&dir.0.join("sub")),
        Err(StoreError::Open { .. })
    ));
    let _ = std::fs::remove_file(&dir.0);
}

#[test]
fn sync_answers_own_messages_after_the_newest_shared_one() {
    let store = HistoryStore::in_memory().unwrap();
    for i in 0..6u64 {
        store
            .insert(&room(), &msg(&format!("own{i}"), true, 10 * i))
            .unwrap();
        store
            .insert(&room(), &msg(&format!("their{i}"), false, 10 * i + 5))
            .unwrap();
    }
    let ids = |v: Vec<StoredMessage>| v.into_iter().map(|m| m.id).collect::<Vec<_>>();
    // The peer has own0..own2 (newest first in its list) and all of its own.
    let theirs: Vec<String> = ["their5", "own2", "their1", "own1", "own0"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        ids(plan_reply(&store, &room(), &theirs).unwrap()),
        ["own3", "own4", "own5"]
    );
    // The peer has nothing of ours: every own message, never the peer's own.
    assert_eq!(
        ids(plan_reply(&store, &room(), &["their5".into()]).unwrap()),
        ["own0", "own1", "own2", "own3", "own4", "own5"]
    );
    // Up to date: nothing.
    assert!(
        plan_reply(&store, &room(), &["own5".into()])
            .unwrap()
            .is_empty()
    );
}

#[test]
fn sync_is_bounded_to_the_newest_messages() {
    let store = HistoryStore::in_memory().unwrap();
    let n = MAX_SYNC_MESSAGES + 20;
    for i in 0..n {
        store
            .insert(&room(), &msg(&format!("m{i:05}"), true, i as u64))
            .unwrap();
    }
    let reply = plan_reply(&store, &room(), &[]).unwrap();
    assert_eq!(reply.len(), MAX_SYNC_MESSAGES);
    assert_eq!(reply[0].id, "m00020", "the newest ones, oldest first");
    assert_eq!(reply.last().unwrap().id, format!("m{:05}", n - 1));
}

#[tokio::test]
async fn the_store_thread_runs_requests_in_order_and_waits_when_full() {
    let handle = handle::StoreHandle::open(None).unwrap();
    // Hold the thread so the queue fills.
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let (held_tx, held_rx) = tokio::sync::oneshot::channel::<()>();
    let blocker = tokio::spawn(handle.call(move |_| {
        let _ = held_tx.send(());
        release_rx.recv().ok();
        Ok(())
    }));
    held_rx.await.unwrap();
    let total = STORE_QUEUE_LEN + 5;
    let mut queued = Vec::new();
    for i in 0..total {
        let fut =
            handle.call(move |s| s.insert(&room(), &msg(&format!("q{i:05}"), true, i as u64)));
        queued.push(fut);
    }
    // Queue every call from one task, in order, and watch the queue fill.
    let (progress_tx, mut progress_rx) = tokio::sync::mpsc::unbounded_channel();
    let feeder = tokio::spawn(async move {
        let mut results = Vec::new();
        let mut pending = Vec::new();
        for fut in queued {
            pending.push(Box::pin(fut));
        }
        // Start each call (its `send` enters the queue) before awaiting any result.
        use futures_util::FutureExt;
        for (i, fut) in pending.iter_mut().enumerate() {
            if fut.as_mut().now_or_never().is_some() {
                panic!("call {i} completed while the store thread is held");
            }
            let _ = progress_tx.send(i);
        }
        drop(progress_tx);
        for fut in pending {
            results.push(fut.await);
        }
        results
    });
    let mut started = 0;
    while let Some(i) = progress_rx.recv().await {
        started = i + 1;
    }
    assert_eq!(started, total);
    assert_eq!(
        handle.jobs.capacity(),
        0,
        "the queue is full while the thread is held"
    );
    release_tx.send(()).unwrap();
    blocker.await.unwrap().unwrap();
    for r in feeder.await.unwrap() {
        assert!(r.unwrap());
    }
    let page = handle.call(|s| s.history(&room(), None, 10)).await.unwrap();
    assert_eq!(
        page.messages.last().unwrap().id,
        format!("q{:05}", total - 1)
    );
    drop(handle);
}

/// Figures, not a check: how many outgoing messages per second the store thread records
/// through their whole life (saved `Pending` with one peer's receipt, then `Sent`, then
/// `Delivered`), in memory and on disk, as the engine queues them in a burst. Run with
/// `cargo test --profile profiling -p peerchat-core --lib store_throughput -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "prints figures; run by hand"]
async fn store_throughput() {
    const N: usize = 20_000;
    let dir = TempDir::new("throughput");
    for (label, handle) in [
        ("memory", handle::StoreHandle::open(None).unwrap()),
        ("disk", handle::StoreHandle::open(Some(&dir.0)).unwrap()),
    ] {
        let start = std::time::Instant::now();
        let mut last = None;
        for i in 0..N {
            let id = format!("m{i:06}");
            let m = msg(&id, true, i as u64);
            let fut = handle.call(move |s| {
                s.insert(&room(), &m)?;
                s.set_receipt(&room(), &m.id, "peer", StoredStatus::Pending)
                    .map(drop)
            });
            drop(tokio::spawn(fut));
            for status in [StoredStatus::Sent, StoredStatus::Delivered] {
                let id = id.clone();
                let fut = handle.call(move |s| s.set_receipt(&room(), &id, "peer", status));
                last = Some(tokio::spawn(fut));
            }
        }
        last.unwrap().await.unwrap().unwrap();
        let secs = start.elapsed().as_secs_f64();
        println!(
            "store {label}: {N} messages through Pending/Sent/Delivered in {secs:.2} s = {:.0} messages/s",
            N as f64 / secs
        );
    }
}
