//! The public [`Engine`]: owns a tokio runtime, the signaling client and the peers.

use std::sync::Arc;

use crate::config::EngineConfig;
use crate::error::EngineError;
use crate::listener::{EngineListener, Peer, RoomInfo};

/// One chat participant: a signaling connection, at most one room, and a peer connection with
/// a data channel per remote peer (a map keyed by peer id, so rooms of several peers form a
/// full mesh).
///
/// The engine owns its tokio runtime, so every method can be called from any thread, with or
/// without a runtime of the caller's. The `async` methods return runtime-agnostic futures (they
/// wait on the engine's own tasks). Dropping the engine shuts it down.
pub struct Engine {
    _private: (),
}

impl Engine {
    /// Validates `config`, starts the engine's runtime and begins connecting to the signaling
    /// server. Connection progress is reported through
    /// [`EngineListener::on_signaling_state`]. Errors: [`EngineError::InvalidConfig`],
    /// [`EngineError::InvalidName`].
    pub fn new(
        config: EngineConfig,
        listener: Arc<dyn EngineListener>,
    ) -> Result<Self, EngineError> {
        let _ = (config, listener);
        todo!()
    }

    /// Creates a room on the server and enters it; waits for the signaling connection if it is
    /// still opening. Returns the room with its code (no members yet). Errors:
    /// [`EngineError::AlreadyInRoom`], [`EngineError::Signaling`], [`EngineError::Timeout`],
    /// [`EngineError::Server`], [`EngineError::Shutdown`].
    pub async fn create_room(&self) -> Result<RoomInfo, EngineError> {
        todo!()
    }

    /// Joins the room with this code (any case, separators optional) and starts connecting to
    /// every member. Errors: [`EngineError::InvalidRoomCode`] (before any traffic),
    /// [`EngineError::AlreadyInRoom`], [`EngineError::Server`] with `room_not_found` or
    /// `room_full`, [`EngineError::Signaling`], [`EngineError::Timeout`], [`EngineError::Shutdown`].
    pub async fn join_room(&self, code: &str) -> Result<RoomInfo, EngineError> {
        let _ = code;
        todo!()
    }

    /// Sends `text` to every connected peer of the room and returns the message id at once.
    /// Status events follow per peer (`Sent`, then `Delivered`). Errors:
    /// [`EngineError::EmptyMessage`], [`EngineError::MessageTooLarge`] (over
    /// [`MAX_MESSAGE_BYTES`](crate::chat::MAX_MESSAGE_BYTES)), [`EngineError::NotInRoom`],
    /// [`EngineError::NoConnectedPeer`], [`EngineError::Shutdown`].
    pub fn send_message(&self, text: &str) -> Result<String, EngineError> {
        let _ = text;
        todo!()
    }

    /// Leaves the room: closes every peer connection and tells the server, which sends
    /// `peer_left` to the others. Errors: [`EngineError::NotInRoom`],
    /// [`EngineError::Signaling`], [`EngineError::Timeout`], [`EngineError::Shutdown`].
    pub async fn leave_room(&self) -> Result<(), EngineError> {
        todo!()
    }

    /// The peers currently in the room (not including this engine).
    pub fn peers(&self) -> Vec<Peer> {
        todo!()
    }

    /// This engine's server-assigned peer id, once the server has sent `welcome`.
    pub fn peer_id(&self) -> Option<String> {
        todo!()
    }

    /// Closes every peer connection and the signaling connection and stops the runtime.
    /// Idempotent; later calls to other methods return [`EngineError::Shutdown`].
    pub fn shutdown(&self) {
        todo!()
    }
}
