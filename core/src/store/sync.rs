//! Peer-to-peer history sync: when a data channel to a peer opens, each side tells the other
//! which messages of the conversation it already has, and the other answers with **its own**
//! messages that are missing, never through the signaling server (docs/protocol.md,
//! "History sync"; the engine's side is `actor/sync.rs`).
//!
//! 1. Each side sends one `sync_request` frame: `{"type":"sync_request","ids":[…]}`, the ids
//!    of its [`SYNC_REQUEST_IDS`] newest saved messages of the conversation, newest first
//!    ([`HistoryStore::latest_ids`](super::HistoryStore::latest_ids)). Sending it also
//!    announces that the sender understands `sync_message` (as `receipts_ready` announces the
//!    receipt channel): a peer answers only a peer that asked, so an older peer, which never
//!    asks, never gets a `sync_message` (and ignores the `sync_request`, an unknown type).
//! 2. The receiver looks for the newest of **its own** messages in that list (the last message
//!    of its that both sides have) and answers with its own messages sent after it, oldest
//!    first, at most [`MAX_SYNC_MESSAGES`] (the newest ones when there are more), each as a
//!    `sync_message` frame `{"type":"sync_message","id":…,"sent_at_ms":…,"text":…}` with its
//!    original `id` and `sent_at_ms`. If none of its own messages is in the list, it sends its
//!    newest [`MAX_SYNC_MESSAGES`]. Messages waiting in its outbox for that peer are left out:
//!    they reach it live, as `message` frames.
//! 3. The requester acknowledges each one (`ack`, like a message), saves it unless it has that
//!    id already (so a repeat is harmless) and shows it in history at its `sent_at_ms`, not as
//!    a new message (`EngineListener::on_history_message`).
//!
//! Why only one's own messages: a message is authenticated by the DTLS-protected channel it
//! arrives on. A peer relaying a third party's messages could put words in that party's
//! mouth; so each member sends only what it wrote, and a newcomer to a room of several gets
//! each member's part from that member. A peer answers at most
//! [`SYNC_REPLIES_PER_CHANNEL`] `sync_request` per data channel (a peer cannot make it resend
//! its history in a loop), and accepts at most [`MAX_SYNC_MESSAGES`] `sync_message` frames per
//! data channel, only on one where it sent its own `sync_request`.

use super::{Conversation, HistoryStore, StoreError, StoredMessage};

/// Ids a `sync_request` lists (the requester's newest). 256 UUIDs are ≈ 10 KiB of JSON, well
/// under the data channel's frame limit (`chat::MAX_FRAME_BYTES`).
pub const SYNC_REQUEST_IDS: usize = 256;

/// Most messages one side sends in answer to one `sync_request`.
pub const MAX_SYNC_MESSAGES: usize = 1_000;

/// `sync_request` frames answered per data channel; later ones are ignored (logged).
pub const SYNC_REPLIES_PER_CHANNEL: u32 = 1;

/// Reads what a `sync_request` frame carries: the requester's newest ids for the
/// conversation, newest first, at most [`SYNC_REQUEST_IDS`] (the frame decoder refuses a
/// longer list).
pub fn request_ids(
    store: &HistoryStore,
    conversation: &Conversation,
) -> Result<Vec<String>, StoreError> {
    store.latest_ids(conversation, SYNC_REQUEST_IDS)
}

/// The answer to a peer's `sync_request` listing `their_ids`: this side's own messages the
/// peer is missing, oldest first (see the module docs).
pub fn plan_reply(
    store: &HistoryStore,
    conversation: &Conversation,
    their_ids: &[String],
) -> Result<Vec<StoredMessage>, StoreError> {
    let own = store.own_messages_after(conversation, None, MAX_SYNC_MESSAGES)?;
    // Own ids, for the lookup of the newest one the peer has.
    let own_ids: std::collections::HashSet<&str> = own.iter().map(|m| m.id.as_str()).collect();
    let newest_shared = their_ids.iter().find(|id| own_ids.contains(id.as_str()));
    match newest_shared {
        Some(id) => store.own_messages_after(conversation, Some(id), MAX_SYNC_MESSAGES),
        None => Ok(own),
    }
}
