//! The engine's one error type.

use crate::protocol::ErrorCode;

/// Every error the engine returns or reports to [`EngineListener::on_error`](crate::EngineListener::on_error).
///
/// Variants carry owned strings and plain numbers only, so the type crosses an FFI boundary
/// unchanged (the uniffi bindings map it one to one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The [`EngineConfig`](crate::EngineConfig) was refused by `validate`.
    #[error("invalid configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },
    /// A display name that is empty, too long or has control characters.
    #[error("invalid name: {reason}")]
    InvalidName {
        /// What is wrong.
        reason: String,
    },
    /// A room code that cannot be valid (wrong length or character); checked before any network
    /// traffic.
    #[error("invalid room code: {reason}")]
    InvalidRoomCode {
        /// What is wrong.
        reason: String,
    },
    /// The signaling WebSocket could not connect, or closed.
    #[error("signaling: {reason}")]
    Signaling {
        /// What happened.
        reason: String,
    },
    /// The signaling server refused a request (room full, unknown code, …).
    #[error("server refused: {message} ({code})")]
    Server {
        /// The server's machine-readable code.
        code: ErrorCode,
        /// The server's explanation.
        message: String,
    },
    /// `create_room` or `join_room` while already in a room.
    #[error("already in a room")]
    AlreadyInRoom,
    /// `leave_room` or `send_message` while in no room.
    #[error("not in a room")]
    NotInRoom,
    /// `send_message` while no peer has an open data channel.
    #[error("no peer is connected")]
    NoConnectedPeer,
    /// `send_message` while a peer's outbox already holds `max` unacknowledged messages
    /// (`EngineConfig::max_outbox_messages`): the peer is slow to acknowledge, or not
    /// `Connected` for a while. Retry once messages are delivered or failed.
    #[error("the outbox is full: {max} messages await acknowledgement")]
    OutboxFull {
        /// The bound, `EngineConfig::max_outbox_messages`.
        max: u64,
    },
    /// `send_message` with text of zero bytes.
    #[error("message is empty")]
    EmptyMessage,
    /// `send_message` with text larger than [`MAX_MESSAGE_BYTES`](crate::chat::MAX_MESSAGE_BYTES).
    #[error("message is {size} bytes, the limit is {max} bytes")]
    MessageTooLarge {
        /// UTF-8 bytes of the text.
        size: u64,
        /// The limit in bytes.
        max: u64,
    },
    /// The WebRTC stack (the `webrtc` crate) failed for one peer.
    #[error("WebRTC with peer {peer_id}: {reason}")]
    WebRtc {
        /// The peer concerned.
        peer_id: String,
        /// The `webrtc` crate's error text.
        reason: String,
    },
    /// A peer sent something on the data channel that is not a valid chat frame.
    #[error("protocol error from peer {peer_id}: {reason}")]
    PeerProtocol {
        /// The peer concerned.
        peer_id: String,
        /// What was wrong.
        reason: String,
    },
    /// An operation did not complete in time.
    #[error("{operation} timed out after {after_ms} ms")]
    Timeout {
        /// Which operation.
        operation: String,
        /// Elapsed ms.
        after_ms: u64,
    },
    /// The engine was shut down; no more calls are possible.
    #[error("the engine is shut down")]
    Shutdown,
    /// A bounded queue between the app and the network is full; nothing was queued and the
    /// call can be retried once the engine has caught up. Today only the engine's command
    /// queue ([`COMMAND_QUEUE_LEN`](crate::COMMAND_QUEUE_LEN) commands) returns it.
    #[error("the {queue} queue is full ({capacity} entries); try again later")]
    QueueFull {
        /// Which queue (`commands`).
        queue: String,
        /// Its bound, in entries.
        capacity: u64,
    },
    /// The `create_room` / `join_room` was cancelled by
    /// [`Engine::cancel_room_request`](crate::Engine::cancel_room_request) before it
    /// completed; the engine is in no room because of it (a room the server had already
    /// entered is left).
    #[error("the room request was cancelled")]
    Cancelled,
    /// The saved-chat history (`crate::store`, SQLite under
    /// [`EngineConfig::data_dir`](crate::EngineConfig::data_dir)) failed: the directory or
    /// database could not be opened or migrated (then every history call fails the same way
    /// and chat goes on without saving), or a read or write failed (disk full, I/O error,
    /// database locked by another process for over 2 s). Returned by
    /// [`Engine::history`](crate::Engine::history) and
    /// [`Engine::delete_conversation`](crate::Engine::delete_conversation); reported to
    /// `on_error` when a write the engine makes by itself fails (chat goes on: a received
    /// message is still shown).
    #[error("history store: {reason}")]
    Store {
        /// What failed (SQLite's or the OS's reason).
        reason: String,
    },
    /// [`Engine::history`](crate::Engine::history)'s `before` names no message of that
    /// conversation.
    #[error("no message {id:?} in this conversation")]
    UnknownMessage {
        /// The id given.
        id: String,
    },
    /// [`Engine::safety_code`](crate::Engine::safety_code) for a peer that is not in the
    /// room, or whose peer connection has not completed its SDP offer/answer yet.
    #[error("no negotiated peer connection with {peer_id}")]
    UnknownPeer {
        /// The peer id given.
        peer_id: String,
    },
}

impl From<crate::store::StoreError> for EngineError {
    /// `UnknownMessage` keeps its id; `Closed` (the engine stopped) is `Shutdown`; the rest
    /// are [`EngineError::Store`] with the store's message.
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match e {
            StoreError::UnknownMessage { id } => EngineError::UnknownMessage { id },
            StoreError::Closed => EngineError::Shutdown,
            other => EngineError::Store {
                reason: other.to_string(),
            },
        }
    }
}
