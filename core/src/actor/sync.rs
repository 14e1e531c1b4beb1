//! Peer-to-peer history sync in the event loop (the protocol: `crate::store::sync` and
//! docs/protocol.md, "History sync"). On every data channel that opens, each side sends one
//! `sync_request` listing its newest saved ids; a side answers a peer that asked (at most
//! [`SYNC_REPLIES_PER_CHANNEL`] times per connection) with its own messages the peer is
//! missing, as `sync_message` frames; it accepts `sync_message` frames only on a connection
//! where it asked, at most [`MAX_SYNC_MESSAGES`] of them. Nothing goes through the server.

use super::Actor;
use super::history::StoreInput;
use crate::chat::{self, Frame};
use crate::error::EngineError;
use crate::listener::ChatMessage;
use crate::store::sync::{MAX_SYNC_MESSAGES, SYNC_REPLIES_PER_CHANNEL, plan_reply, request_ids};
use crate::store::{StoreError, StoredMessage, StoredStatus, now_ms};

#[cfg(doc)]
use crate::store::sync::SYNC_REQUEST_IDS;

/// History sync on one peer connection (reset when the connection is replaced).
#[derive(Debug, Default)]
pub(crate) struct SyncState {
    /// The connection (generation) these counts are for.
    generation: u64,
    /// We sent our `sync_request` on it.
    requested: bool,
    /// `sync_request` frames of the peer answered on it.
    answered: u32,
    /// `sync_message` frames accepted on it.
    received: usize,
}

impl SyncState {
    /// The state for connection `generation`, reset if it is a new one.
    fn on(&mut self, generation: u64) -> &mut Self {
        if self.generation != generation {
            *self = Self {
                generation,
                ..Self::default()
            };
        }
        self
    }
}

/// Store answers the sync needs.
pub(crate) enum SyncInput {
    /// Our newest ids, to send in a `sync_request` on connection `generation`.
    Ids {
        peer: String,
        generation: u64,
        ids: Vec<String>,
    },
    /// Our own messages the peer is missing, to send as `sync_message` frames.
    Reply {
        peer: String,
        generation: u64,
        messages: Vec<StoredMessage>,
    },
    /// A `sync_message` was saved (`Ok(true)`) or was there already.
    Saved {
        message: ChatMessage,
        saved: Result<bool, StoreError>,
    },
}

impl Actor {
    /// The data channel to `peer` opened: send it our `sync_request` (once the store has
    /// listed our newest ids, at most [`SYNC_REQUEST_IDS`]).
    pub(super) async fn request_sync(&self, peer: &str) {
        let (Some(conversation), Some(entry)) = (self.conversation(), self.peers.get(peer)) else {
            return;
        };
        let generation = entry.generation;
        let peer = peer.to_string();
        let inputs = self.inputs.clone();
        let queued = self
            .store
            .submit(
                move |store| request_ids(store, &conversation),
                move |result| {
                    let input = match result {
                        Ok(ids) => StoreInput::Sync(SyncInput::Ids {
                            peer,
                            generation,
                            ids,
                        }),
                        Err(e) => StoreInput::Failed(e),
                    };
                    let _ = inputs.send(super::Input::Store(input));
                },
            )
            .await;
        if let Err(e) = queued {
            self.report_store_error(e);
        }
    }

    /// A peer's `sync_request`: answer it with our own messages it lacks, unless this
    /// connection already had its [`SYNC_REPLIES_PER_CHANNEL`] answers.
    pub(super) async fn on_sync_request(&mut self, peer: &str, ids: Vec<String>) {
        let Some(conversation) = self.conversation() else {
            return;
        };
        let Some(entry) = self.peers.get_mut(peer) else {
            return;
        };
        let generation = entry.generation;
        let state = entry.sync.on(generation);
        if state.answered >= SYNC_REPLIES_PER_CHANNEL {
            tracing::debug!(%peer, "sync_request beyond the bound ignored");
            return;
        }
        state.answered += 1;
        let peer = peer.to_string();
        let inputs = self.inputs.clone();
        let queued = self
            .store
            .submit(
                move |store| plan_reply(store, &conversation, &ids),
                move |result| {
                    let input = match result {
                        Ok(messages) => StoreInput::Sync(SyncInput::Reply {
                            peer,
                            generation,
                            messages,
                        }),
                        Err(e) => StoreInput::Failed(e),
                    };
                    let _ = inputs.send(super::Input::Store(input));
                },
            )
            .await;
        if let Err(e) = queued {
            self.report_store_error(e);
        }
    }

    /// A `sync_message` from `peer`: acknowledged like a message; saved (as sent by that
    /// peer, under the name the server gave it) if we asked on this connection and it is
    /// within [`MAX_SYNC_MESSAGES`]; shown through `on_history_message` if it was new.
    pub(super) async fn on_sync_message(
        &mut self,
        peer: String,
        id: String,
        sent_at_ms: u64,
        text: String,
    ) {
        let Some(conversation) = self.conversation() else {
            return;
        };
        let Some(entry) = self.peers.get_mut(&peer) else {
            return;
        };
        let generation = entry.generation;
        let state = entry.sync.on(generation);
        if !state.requested || state.received >= MAX_SYNC_MESSAGES {
            let reason = format!(
                "sync_message {id:?} not asked for (no sync_request of ours on this connection, \
                 or over {MAX_SYNC_MESSAGES} already): ignored"
            );
            self.events.emit(move |l| {
                l.on_error(EngineError::PeerProtocol {
                    peer_id: peer,
                    reason,
                })
            });
            return;
        }
        state.received += 1;
        if let Some(link) = entry.link.as_ref() {
            link.send_receipt(chat::encode(&Frame::Ack { id: id.clone() }));
        }
        let message = ChatMessage {
            id,
            peer_id: peer,
            sender_name: entry.info.name.clone(),
            text,
            sent_at_ms,
            seq: 0,
        };
        let stored = StoredMessage {
            id: message.id.clone(),
            outgoing: false,
            sender_peer_id: message.peer_id.clone(),
            sender_name: message.sender_name.clone(),
            text: message.text.clone(),
            sent_at_ms,
            stored_at_ms: now_ms(),
            status: StoredStatus::Received,
        };
        let inputs = self.inputs.clone();
        let queued = self
            .store
            .submit(
                move |store| store.insert(&conversation, &stored),
                move |saved| {
                    let input = StoreInput::Sync(SyncInput::Saved { message, saved });
                    let _ = inputs.send(super::Input::Store(input));
                },
            )
            .await;
        if let Err(e) = queued {
            self.report_store_error(e);
        }
    }

    pub(super) fn on_sync_input(&mut self, input: SyncInput) {
        match input {
            SyncInput::Ids {
                peer,
                generation,
                ids,
            } => {
                let Some(entry) = self.peers.get_mut(&peer) else {
                    return;
                };
                if entry.generation != generation {
                    return;
                }
                let Some(link) = entry.link.as_ref() else {
                    return;
                };
                entry.sync.on(generation).requested = true;
                link.send(chat::encode(&Frame::SyncRequest { ids }), None);
            }
            SyncInput::Reply {
                peer,
                generation,
                mut messages,
            } => {
                let Some(entry) = self.peers.get(&peer) else {
                    return;
                };
                // A message waiting in this peer's outbox goes (or went) to it live, as a
                // `message`: a `sync_message` copy could overtake it and make a new message
                // look like history.
                messages.retain(|m| !entry.outbox.contains(&m.id));
                let Some(link) = entry
                    .link
                    .as_ref()
                    .filter(|_| entry.generation == generation)
                else {
                    return;
                };
                tracing::debug!(%peer, count = messages.len(), "history sync: answering");
                for m in messages {
                    let frame = Frame::SyncMessage {
                        id: m.id,
                        sent_at_ms: m.sent_at_ms,
                        text: m.text,
                    };
                    link.send(chat::encode(&frame), None);
                }
            }
            SyncInput::Saved { message, saved } => match saved {
                Ok(true) => self.events.emit(move |l| l.on_history_message(message)),
                Ok(false) => {}
                Err(e) => self.report_store_error(e),
            },
        }
    }
}
