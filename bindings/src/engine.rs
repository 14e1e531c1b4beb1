//! The exported [`Engine`] object: forwards every call to [`peerchat_core::Engine`].

use std::sync::Arc;

use peerchat_core as core;

use crate::error::PeerChatError;
use crate::listener::{EngineListener, ListenerBridge};
use crate::types::{Conversation, EngineConfig, HistoryPage, Peer, RoomInfo};

/// One chat participant: a signaling connection, at most one room, and a WebRTC peer connection
/// with a data channel per remote peer.
///
/// The engine runs on its own threads (its own tokio runtime); every method may be called from
/// any thread. `create_room`, `join_room` and `leave_room` are async (Kotlin `suspend`, Swift
/// `async`): they suspend the caller without blocking a thread and resume in the caller's
/// context. The other methods return at once. Events arrive on the [`EngineListener`], on an
/// engine thread.
///
/// Release: Kotlin `close()` (the object is `AutoCloseable`), Swift: drop the last reference.
/// Releasing the last reference shuts the engine down; call [`Engine::shutdown`] to do so
/// earlier and deterministically.
#[derive(uniffi::Object)]
pub struct Engine {
    inner: core::Engine,
}

#[uniffi::export]
impl Engine {
    /// Checks `config`, starts the engine and begins connecting to the signaling server;
    /// progress arrives as `on_signaling_state`. Throws `InvalidConfig` (URL not `ws://` or
    /// `wss://`, ICE address not `ip:port`, ICE server URL not `stun:`/`turn:`, zero timeout)
    /// or `InvalidName` (display name empty, over 32 chars, or with control characters).
    #[uniffi::constructor]
    pub fn new(
        config: EngineConfig,
        listener: Arc<dyn EngineListener>,
    ) -> Result<Arc<Self>, PeerChatError> {
        let bridge = Arc::new(ListenerBridge::new(listener));
        let inner = core::Engine::new(config.into(), bridge)?;
        Ok(Arc::new(Self { inner }))
    }

    /// Creates a room on the server and enters it (waiting for the signaling connection if it
    /// is still opening). Returns the room with its code and no members; `on_room_created`
    /// follows. Throws `AlreadyInRoom`, `Signaling`, `Timeout`, `Server`, `Shutdown`.
    pub async fn create_room(&self) -> Result<RoomInfo, PeerChatError> {
        Ok(self.inner.create_room().await?.into())
    }

    /// Joins the room with this code (any case, `-` and spaces optional) and starts connecting
    /// to every member; `on_peer_state(.., Connected)` tells when chat is ready with each.
    /// Throws `InvalidRoomCode` (before any traffic), `AlreadyInRoom`, `Server` with code
    /// `room_not_found` or `room_full`, `Signaling`, `Timeout`, `Shutdown`.
    pub async fn join_room(&self, code: String) -> Result<RoomInfo, PeerChatError> {
        Ok(self.inner.join_room(&code).await?.into())
    }

    /// Sends `text` to every connected peer of the room and returns the message id at once;
    /// `on_message_status` follows per peer (`Sent`, then `Delivered`). Throws `EmptyMessage`,
    /// `MessageTooLarge` (over the core's `MAX_MESSAGE_BYTES`), `NotInRoom`,
    /// `NoConnectedPeer`, `Shutdown`.
    pub fn send_message(&self, text: String) -> Result<String, PeerChatError> {
        Ok(self.inner.send_message(&text)?)
    }

    /// Leaves the room: closes every peer connection and tells the server, which sends
    /// `peer_left` to the others. Throws `NotInRoom`, `Signaling`, `Timeout`, `Shutdown`.
    pub async fn leave_room(&self) -> Result<(), PeerChatError> {
        Ok(self.inner.leave_room().await?)
    }

    /// The peers currently in the room, not including this engine (empty outside a room).
    pub fn peers(&self) -> Vec<Peer> {
        self.inner.peers().into_iter().map(Into::into).collect()
    }

    /// How many peers of the room have an open data channel (0 outside a room).
    pub fn connected_peers(&self) -> u32 {
        u32::try_from(self.inner.connected_peers()).unwrap_or(u32::MAX)
    }

    /// The canonical code of the room the engine is in (`ABC-DEF-GHJ`), `null`/`nil` outside a
    /// room.
    pub fn room_code(&self) -> Option<String> {
        self.inner.room_code()
    }

    /// This engine's server-assigned peer id, once the server has sent `welcome`
    /// (`null`/`nil` before).
    pub fn peer_id(&self) -> Option<String> {
        self.inner.peer_id()
    }

    /// The conversation of the room the engine is in (`Conversation.Room` with its code), to
    /// pass to `history`; `null`/`nil` outside a room.
    pub fn conversation(&self) -> Option<Conversation> {
        self.inner.conversation().map(Into::into)
    }

    /// One page of a conversation's saved history, **oldest first**: the `limit` newest
    /// messages older than the message with id `before` (the newest of all when
    /// `null`/`nil`), by the sender's `sent_at_ms`. `limit` is clamped to 1..=500. Runs on
    /// the engine's store thread (Kotlin `suspend`, Swift `async`). Throws `UnknownMessage`
    /// (`before` not in the conversation), `Store`, `QueueFull`, `Shutdown`.
    pub async fn history(
        &self,
        conversation: Conversation,
        before: Option<String>,
        limit: u32,
    ) -> Result<HistoryPage, PeerChatError> {
        let conversation = conversation.into();
        Ok(self
            .inner
            .history(&conversation, before.as_deref(), limit)
            .await?
            .into())
    }

    /// Deletes a conversation's saved messages from this device; returns how many were
    /// deleted. Throws `Store`, `QueueFull`, `Shutdown`.
    pub async fn delete_conversation(
        &self,
        conversation: Conversation,
    ) -> Result<u64, PeerChatError> {
        Ok(self.inner.delete_conversation(&conversation.into()).await?)
    }

    /// The safety code of the connection with `peer_id`: four groups of five digits, from
    /// both sides' DTLS fingerprints in the negotiated SDP; both users see the same code
    /// unless someone rewrote the SDP between them. Throws `UnknownPeer` (not in the room, or
    /// not negotiated yet), `WebRtc`, `QueueFull`, `Shutdown`.
    pub async fn safety_code(&self, peer_id: String) -> Result<String, PeerChatError> {
        Ok(self.inner.safety_code(&peer_id).await?)
    }

    /// Undoes the latest `create_room` / `join_room`: in flight, it throws `Cancelled` and is
    /// undone (a room the server seats the engine in is left at once); already completed (and
    /// no message sent since), the engine leaves its room. Returns at once. The Kotlin layer
    /// calls it when the coroutine of `createRoom`/`joinRoom` is cancelled (uniffi drops the
    /// Rust future then, but a cancellation that lands as the answer arrives would otherwise
    /// leave the engine in a room the app never saw); the Swift layer from a task cancellation
    /// handler (`Task.cancel` does not reach the Rust future). Throws `QueueFull`, `Shutdown`.
    pub fn cancel_room_request(&self) -> Result<(), PeerChatError> {
        Ok(self.inner.cancel_room_request()?)
    }

    /// The app went to the background. Returns at once, never throws, idempotent. The room,
    /// the peer connections and an open signaling connection are kept; a signaling connection
    /// lost while paused is not dialled again until `resume`. While the OS suspends the app
    /// nothing runs: the server keeps the session for its grace period (30 s by default), the
    /// others see `on_peer_interrupted`, then `on_peer_resumed` or `on_peer_left(.., Timeout)`.
    pub fn pause(&self) {
        self.inner.pause();
    }

    /// The app came back to the foreground. Returns at once, never throws. Dials the signaling
    /// server at once if it is not connected (skipping the backoff), probes an open connection
    /// (dialled again if no answer within 3 000 ms), and checks the peer connections.
    pub fn resume(&self) {
        self.inner.resume();
    }

    /// The OS reported a change of network path (Wi-Fi to cellular, a new address). Returns
    /// at once, never throws; a call when nothing changed does no harm. Probes the signaling
    /// connection and checks the peer connections, as `resume` does; does not end a pause.
    pub fn network_changed(&self) {
        self.inner.network_changed();
    }

    /// Shuts the engine down: closes every peer connection and the signaling connection (the
    /// server tells the room at once) and stops the engine's threads. Kotlin `suspend`, Swift
    /// `async`: the caller suspends until the teardown finished (at most about the core's
    /// `SHUTDOWN_GRACE_MS`, 2 000 ms), **without blocking any thread**; the engine refuses
    /// other calls (`Shutdown`) from the moment it is called. Idempotent. Releasing the object
    /// (Kotlin `close()`, Swift's last reference) starts the same teardown and returns at once.
    pub async fn shutdown(&self) {
        self.inner.shutdown().await;
    }

    /// Starts the shutdown and returns at once (the teardown goes on in the background); for
    /// callers that cannot suspend, such as a Kotlin `close()` or an Objective-C `invalidate`.
    pub fn shutdown_now(&self) {
        let _ = self.inner.shutdown();
    }
}
