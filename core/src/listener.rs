//! The events an app receives, and the plain records they carry.

use crate::error::EngineError;
pub use crate::protocol::LeaveReason;

/// State of the engine's WebSocket to the signaling server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalingState {
    /// Opening the WebSocket.
    Connecting,
    /// Open; the server sent `welcome`.
    Connected,
    /// Closed (by `shutdown`, the server, or a network failure).
    Disconnected,
}

/// State of the peer connection and data channel to one remote peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerState {
    /// SDP offer/answer and ICE under way.
    Connecting,
    /// The data channel is open: messages can be sent ("chat ready").
    Connected,
    /// ICE connectivity was lost (RFC 7675 consent): the data channel stays open, what is sent
    /// meanwhile waits, and the peer goes back to `Connected` if ICE recovers. Or the data
    /// channel closed, which is final (unacknowledged messages are reported `Failed`).
    Disconnected,
    /// ICE or DTLS failed, or the connection did not open within `peer_connect_timeout_ms`.
    Failed,
}

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

/// Delivery status of a message this engine sent, per receiving peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageStatus {
    /// Handed to the data channel.
    Sent,
    /// The peer acknowledged it.
    Delivered,
    /// The peer went away before acknowledging it.
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
    /// A peer left the room (reported by the signaling server).
    fn on_peer_left(&self, _peer_id: String, _reason: LeaveReason) {}
    /// A chat message arrived. Messages from one peer arrive in the order it sent them,
    /// each once.
    fn on_message(&self, _message: ChatMessage) {}
    /// A message this engine sent changed status for one peer (`Sent`, then `Delivered`).
    fn on_message_status(&self, _message_id: String, _peer_id: String, _status: MessageStatus) {}
    /// Something failed outside a call that could return it.
    fn on_error(&self, _error: EngineError) {}
}
