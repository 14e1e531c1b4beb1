//! Saved chats in the event loop: what the actor records in the history store
//! (`crate::store`), the persisted outbox it restores on re-entering a room, and the app's
//! history calls.
//!
//! Every store operation runs on the `peerchat-store` thread behind its bounded queue
//! ([`STORE_QUEUE_LEN`](crate::store::STORE_QUEUE_LEN)): the loop only waits for room in that
//! queue, never for SQLite. Results the loop needs come back as [`Input::Store`], in queue
//! order; a failed write comes back as [`StoreInput::Failed`] and is reported to the app as
//! [`EngineError::Store`].
//!
//! What is recorded, per conversation (today a room, [`Conversation::Room`]):
//! - a message sent: saved `Pending` with a `Pending` receipt for each peer it is addressed
//!   to; then each peer's `Sent`, `Delivered` or `Failed` as it is reported;
//! - a message received: saved `Received`, and shown to the app (`on_message`) only once it
//!   is saved and was new there, so a message that arrives again after a restart of either
//!   side is shown once (the history is the dedup memory, across restarts);
//! - `Failed` is **not** recorded when the engine shuts down (the app is killed or drops it):
//!   those messages stay unacknowledged, and are sent again (same id) when the engine enters
//!   the same room again with the same `data_dir` ([`Actor::restore_outbox`]).

use super::{Actor, Input};
use crate::error::EngineError;
use crate::listener::{ChatMessage, MessageStatus};
use crate::store::{
    Conversation, HistoryPage, HistoryStore, STORE_ERROR_REPORT_INTERVAL_MS, StoreError,
    StoredMessage, StoredStatus, now_ms,
};

/// Results of store operations the event loop acts on.
pub(crate) enum StoreInput {
    /// A write the engine made by itself failed.
    Failed(StoreError),
    /// A received message was saved (`Ok(true)`), was there already (`Ok(false)`), or could
    /// not be saved.
    Incoming {
        message: ChatMessage,
        saved: Result<bool, StoreError>,
    },
    /// The persisted outbox of room `code`, oldest first.
    Restored {
        code: String,
        messages: Vec<StoredMessage>,
    },
    /// History sync (`sync.rs`).
    Sync(super::sync::SyncInput),
}

/// Where the answer to an app's history call goes.
pub(crate) type HistoryReply = tokio::sync::oneshot::Sender<Result<HistoryPage, EngineError>>;
/// Where the answer to `delete_conversation` goes.
pub(crate) type DeleteReply = tokio::sync::oneshot::Sender<Result<u64, EngineError>>;

fn stored_status(status: MessageStatus) -> StoredStatus {
    match status {
        MessageStatus::Pending => StoredStatus::Pending,
        MessageStatus::Sent => StoredStatus::Sent,
        MessageStatus::Delivered => StoredStatus::Delivered,
        MessageStatus::Failed => StoredStatus::Failed,
    }
}

impl Actor {
    /// The conversation of the room the engine is in.
    pub(super) fn conversation(&self) -> Option<Conversation> {
        self.room.as_ref().map(|r| Conversation::Room {
            code: r.code.clone(),
        })
    }

    /// Queues a write; its failure comes back as [`StoreInput::Failed`].
    async fn store_write(
        &self,
        body: impl FnOnce(&mut HistoryStore) -> Result<(), StoreError> + Send + 'static,
    ) {
        let inputs = self.inputs.clone();
        let queued = self
            .store
            .submit(body, move |result| {
                if let Err(e) = result {
                    let _ = inputs.send(Input::Store(StoreInput::Failed(e)));
                }
            })
            .await;
        if let Err(e) = queued {
            self.report_store_error(e);
        }
    }

    /// Reports a failed store operation as [`EngineError::Store`], at most once per
    /// [`STORE_ERROR_REPORT_INTERVAL_MS`] for the same reason (a full disk fails every write:
    /// the app hears it, not once per message). Every failure is logged.
    pub(super) fn report_store_error(&self, e: StoreError) {
        tracing::warn!(error = %e, "history store");
        let error = EngineError::from(e);
        let reason = error.to_string();
        {
            let mut last = self
                .store_error_reported
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = std::time::Instant::now();
            if let Some((previous, at)) = last.as_ref()
                && *previous == reason
                && now.duration_since(*at).as_millis() < u128::from(STORE_ERROR_REPORT_INTERVAL_MS)
            {
                return;
            }
            *last = Some((reason, now));
        }
        self.events.emit(move |l| l.on_error(error));
    }

    /// Saves a message this engine sends to `peers` (their keys) as `Pending`.
    pub(super) async fn record_outgoing(
        &self,
        id: &str,
        text: &str,
        sent_at_ms: u64,
        peers: Vec<String>,
    ) {
        let Some(conversation) = self.conversation() else {
            return;
        };
        let message = StoredMessage {
            id: id.to_string(),
            outgoing: true,
            sender_peer_id: self.own_peer_id(),
            sender_name: self.config.display_name.clone(),
            text: text.to_string(),
            sent_at_ms,
            stored_at_ms: now_ms(),
            status: StoredStatus::Pending,
        };
        self.store_write(move |store| {
            store.insert(&conversation, &message)?;
            for peer in peers {
                store.set_receipt(&conversation, &message.id, &peer, StoredStatus::Pending)?;
            }
            Ok(())
        })
        .await;
    }

    /// Records a status reported for message `id` at peer `peer` (its key). A `Delivered`
    /// message is no longer part of the restored outbox.
    pub(super) async fn record_status(&mut self, id: &str, peer: &str, status: MessageStatus) {
        if status == MessageStatus::Delivered {
            self.restored.retain(|m| m.id != id);
        }
        let Some(conversation) = self.conversation() else {
            return;
        };
        let (id, peer) = (id.to_string(), peer.to_string());
        self.store_write(move |store| {
            store
                .set_receipt(&conversation, &id, &peer, stored_status(status))
                .map(drop)
        })
        .await;
    }

    /// Records messages reported `Failed` for `peer` (in one store request).
    pub(super) async fn record_failed(&mut self, peer: &str, ids: Vec<String>) {
        let Some(conversation) = self.conversation() else {
            return;
        };
        if ids.is_empty() {
            return;
        }
        let peer = peer.to_string();
        self.store_write(move |store| {
            for id in ids {
                store.set_receipt(&conversation, &id, &peer, StoredStatus::Failed)?;
            }
            Ok(())
        })
        .await;
    }

    /// Saves a received message; it reaches the app (`on_message`) when the store answers
    /// that it is new ([`StoreInput::Incoming`]).
    pub(super) async fn record_incoming(&self, message: ChatMessage) {
        let Some(conversation) = self.conversation() else {
            self.events.emit(move |l| l.on_message(message));
            return;
        };
        let stored = StoredMessage {
            id: message.id.clone(),
            outgoing: false,
            sender_peer_id: message.peer_id.clone(),
            sender_name: message.sender_name.clone(),
            text: message.text.clone(),
            sent_at_ms: message.sent_at_ms,
            stored_at_ms: now_ms(),
            status: StoredStatus::Received,
        };
        let inputs = self.inputs.clone();
        let fallback = message.clone();
        let queued = self
            .store
            .submit(
                move |store| store.insert(&conversation, &stored),
                move |saved| {
                    let _ = inputs.send(Input::Store(StoreInput::Incoming { message, saved }));
                },
            )
            .await;
        if let Err(e) = queued {
            // The store is gone: show the message all the same.
            self.events.emit(move |l| l.on_message(fallback));
            self.report_store_error(e);
        }
    }

    pub(super) async fn on_store_input(&mut self, input: StoreInput) {
        match input {
            StoreInput::Failed(e) => self.report_store_error(e),
            StoreInput::Incoming { message, saved } => match saved {
                Ok(true) => self.events.emit(move |l| l.on_message(message)),
                Ok(false) => {
                    tracing::debug!(id = %message.id, "message already in history: not shown again")
                }
                Err(e) => {
                    // Never lose a message because the disk failed: show it, and say why it
                    // is not saved.
                    self.events.emit(move |l| l.on_message(message));
                    self.report_store_error(e);
                }
            },
            StoreInput::Restored { code, messages } => self.on_restored(code, messages),
            StoreInput::Sync(input) => self.on_sync_input(input),
        }
    }

    /// Loads the persisted outbox of the room just entered: this device's messages that no
    /// peer acknowledged before the engine stopped. Each is sent again, with its id, to the
    /// peers of the room ([`Actor::on_restored`]). One whose `message_ttl_ms` has run out
    /// since it was sent (by the wall clock, from `sent_at_ms`) is marked `Failed` instead.
    /// Those restored get a fresh `message_ttl_ms` from the restart. At most
    /// `max_outbox_messages` (the oldest) are restored.
    pub(super) async fn restore_outbox(&self) {
        let Some(conversation) = self.conversation() else {
            return;
        };
        let code = self.room.as_ref().expect("in a room").code.clone();
        let limit = self.config.max_outbox_messages;
        let ttl_ms = self.config.message_ttl_ms;
        let inputs = self.inputs.clone();
        let queued = self
            .store
            .submit(
                move |store| {
                    let now = now_ms();
                    let mut keep = Vec::new();
                    for m in store.unacknowledged(&conversation, limit)? {
                        if now.saturating_sub(m.sent_at_ms) >= ttl_ms {
                            store.set_status(&conversation, &m.id, StoredStatus::Failed)?;
                        } else {
                            store.restart_receipts(&conversation, &m.id)?;
                            keep.push(m);
                        }
                    }
                    Ok(keep)
                },
                move |result| {
                    let input = match result {
                        Ok(messages) => StoreInput::Restored { code, messages },
                        Err(e) => StoreInput::Failed(e),
                    };
                    let _ = inputs.send(Input::Store(input));
                },
            )
            .await;
        if let Err(e) = queued {
            self.report_store_error(e);
        }
    }

    /// The persisted outbox arrived: queue it, ahead of nothing in particular, for every
    /// peer of the room (and keep it for peers that come later, until one acknowledges).
    fn on_restored(&mut self, code: String, messages: Vec<StoredMessage>) {
        if self.room.as_ref().is_none_or(|r| r.code != code) || messages.is_empty() {
            return;
        }
        tracing::info!(
            count = messages.len(),
            "sending again the messages saved unacknowledged"
        );
        self.restored = messages;
        for key in self.peer_keys() {
            self.restore_into(&key);
            self.flush_outbox(&key);
        }
        self.arm_outbox_expiry();
    }

    /// Queues the restored messages in a peer's outbox (a peer added after the restore).
    pub(super) fn restore_into(&mut self, key: &str) {
        let now_ms = self.supervision.now_ms();
        let Some(entry) = self.peers.get_mut(key) else {
            return;
        };
        for m in &self.restored {
            if let Err(e) = entry.outbox.push(&m.id, m.sent_at_ms, &m.text, now_ms) {
                tracing::warn!(id = %m.id, ?e, "restored message not queued");
            }
        }
    }

    /// This engine's current peer id (empty before `welcome`).
    fn own_peer_id(&self) -> String {
        self.shared
            .lock()
            .expect("shared state lock")
            .peer_id
            .clone()
            .unwrap_or_default()
    }

    /// An app's `history` call: answered from the store's thread, after every write queued
    /// before it (so it shows what the app was told about).
    pub(super) async fn history(
        &self,
        conversation: Conversation,
        before: Option<String>,
        limit: u32,
        reply: HistoryReply,
    ) {
        let _ = self
            .store
            .submit(
                move |store| store.history(&conversation, before.as_deref(), limit),
                move |result| {
                    let _ = reply.send(result.map_err(EngineError::from));
                },
            )
            .await;
        // A closed store drops `reply`: the caller sees `Shutdown`.
    }

    /// An app's `delete_conversation` call. The restored outbox of the current room goes too.
    pub(super) async fn delete_conversation(
        &mut self,
        conversation: Conversation,
        reply: DeleteReply,
    ) {
        if self.conversation().as_ref() == Some(&conversation) {
            self.restored.clear();
        }
        let _ = self
            .store
            .submit(
                move |store| store.delete_conversation(&conversation),
                move |result| {
                    let _ = reply.send(result.map_err(EngineError::from));
                },
            )
            .await;
    }

    /// Waits (at most `limit`) until the store has run every request queued so far: at
    /// shutdown, so that what was recorded is on disk before the engine reports it stopped.
    pub(super) async fn drain_store(&self, limit: std::time::Duration) {
        let _ = tokio::time::timeout(limit, self.store.call(|_| Ok(()))).await;
    }
}
