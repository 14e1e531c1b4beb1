//! The events an app receives, and the plain records they carry.

use crate::error::EngineError;
pub use crate::protocol::LeaveReason;

/// State of the engine's session with the signaling server.
///
/// ```text
/// Connecting ──session ready──► Connected ──connection lost──► Reconnecting ──► Connected …
///      └──first dial failed──► Reconnecting                         shutdown ──► Disconnected
/// ```
/// `Connected` comes once the session is usable again: after a fresh `welcome`, after
/// `resumed`, or, when the old session could not be resumed, once the engine is back in its
/// room (`rejoin_room`). Open data channels keep working in every state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalingState {
    /// Opening the first WebSocket.
    Connecting,
    /// The session is ready: room requests and SDP/ICE relays go through.
    Connected,
    /// The connection is lost (or the first dial failed); the engine dials again by itself
    /// with exponential backoff and full jitter
    /// ([`RECONNECT_BASE_DELAY_MS`](crate::signaling::RECONNECT_BASE_DELAY_MS) ..
    /// [`RECONNECT_MAX_DELAY_MS`](crate::signaling::RECONNECT_MAX_DELAY_MS)).
    Reconnecting {
        /// Dials since the session was last ready (1 for the first retry).
        attempt: u32,
        /// Delay (ms) before the next dial.
        next_retry_ms: u64,
    },
    /// Closed for good by [`Engine::shutdown`](crate::Engine::shutdown) or drop.
    Disconnected,
}

pub use crate::peer_state::PeerState;

/// A peer in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Server-assigned id.
    pub peer_id: String,
    /// Display name.
    pub name: String,
}

/// A room the engine created or joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomInfo {
    /// Canonical code, `ABC-DEF-GHJ`.
    pub code: String,
    /// Peers the room holds.
    pub capacity: u32,
    /// The other members present when the engine entered (empty for a new room).
    pub members: Vec<Peer>,
}

/// A chat message received from a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// Unique id the sender gave the message (UUID v7 text).
    pub id: String,
    /// Sender's peer id.
    pub peer_id: String,
    /// Sender's display name.
    pub sender_name: String,
    /// The text.
    pub text: String,
    /// Sender's clock when sent, ms since the Unix epoch.
    pub sent_at_ms: u64,
    /// Position in the sender's stream: 1 for its first message to this peer, then +1 each.
    pub seq: u64,
}

/// Delivery status of a message this engine sent, per receiving peer (`crate::outbox`).
///
/// ```text
/// Pending ──data channel took it──► Sent ──ack──► Delivered
///    └──────────┴──peer Closed/Failed, or message_ttl_ms ran out──► Failed
/// ```
/// Exactly one [`EngineListener::on_message_status`] per transition; `Pending` is the status
/// a message has when `send_message` returns its id, and is not reported by an event. A
/// message keeps its id through ICE restarts and fresh connections (re-sent with the same id;
/// the receiver shows it once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageStatus {
    /// Waiting in the outbox: the peer is not `Connected` yet (or is `Interrupted`).
    Pending,
    /// Handed to the data channel.
    Sent,
    /// The peer acknowledged it.
    Delivered,
    /// Not delivered, for good: the peer left (`Closed`), the engine gave up on it
    /// (`Failed`), or the message's `message_ttl_ms` ran out. Reported in send order.
    Failed,
}

/// Receives the engine's events. Every method is called on an engine thread, never on the
/// caller's; an implementation must return quickly and may call back into the engine.
/// All methods default to doing nothing.
pub trait EngineListener: Send + Sync {
    /// The signaling connection changed state.
    fn on_signaling_state(&self, _state: SignalingState) {}
    /// `create_room` succeeded.
    fn on_room_created(&self, _room: RoomInfo) {}
    /// `join_room` succeeded.
    fn on_room_joined(&self, _room: RoomInfo) {}
    /// Another peer joined the room.
    fn on_peer_joined(&self, _peer: Peer) {}
    /// A peer's connection changed state; [`PeerState::Connected`] means chat is ready.
    fn on_peer_state(&self, _peer_id: String, _state: PeerState) {}
    /// A peer left the room (reported by the signaling server). Final: its connection is
    /// closed. Reason `timeout`: its session was interrupted and not resumed in time.
    fn on_peer_left(&self, _peer_id: String, _reason: LeaveReason) {}
    /// A peer's signaling connection dropped; the server keeps its session for the grace
    /// period. Its data channel may still work (then chat goes on); if the data channel is
    /// gone as well, the peer has probably crashed or lost its network. Either
    /// [`EngineListener::on_peer_resumed`] or [`EngineListener::on_peer_left`] follows.
    fn on_peer_interrupted(&self, _peer_id: String) {}
    /// An interrupted peer resumed its session.
    fn on_peer_resumed(&self, _peer_id: String) {}
    /// A chat message arrived. Messages from one peer arrive in the order it sent them,
    /// each once.
    fn on_message(&self, _message: ChatMessage) {}
    /// A message this engine sent changed status for one peer (`Sent`, then `Delivered`; or
    /// `Failed`), once per transition (see [`MessageStatus`]).
    fn on_message_status(&self, _message_id: String, _peer_id: String, _status: MessageStatus) {}
    /// A message this device missed (it was away when it was sent) arrived through history
    /// sync from its sender, and was saved (docs/protocol.md, "History sync"). It is not a new
    /// message: insert it into the conversation at its `sent_at_ms` (or reload
    /// [`Engine::history`](crate::Engine::history)). `seq` is 0. Each such message is reported
    /// once, and never also through [`EngineListener::on_message`].
    fn on_history_message(&self, _message: ChatMessage) {}
    /// Something failed outside a call that could return it.
    fn on_error(&self, _error: EngineError) {}
}
