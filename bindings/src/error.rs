//! The one error type of the bindings: [`peerchat_core::EngineError`], variant for variant.

use peerchat_core::EngineError;

/// Every error an [`Engine`](crate::Engine) call throws or the listener's `on_error` receives.
/// Kotlin: `PeerChatException` (a sealed class of exceptions, one subclass per variant);
/// Swift: `PeerChatError` (an `Error` enum).
///
/// Every variant carries `reason`, the full human-readable text (the core error's `Display`),
/// plus the structured fields of the core variant where it has any. (The field is not called
/// `message` because uniffi's Kotlin exception classes define `message` themselves, as
/// `"reason=…"` plus the other fields.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum PeerChatError {
    /// The config was refused (bad URL scheme, ICE address not `ip:port`, ICE server URL not
    /// `stun:`/`turn:`, zero timeout).
    #[error("{reason}")]
    InvalidConfig {
        /// Human-readable text (the core error's message).
        reason: String,
    },
    /// A display name that is empty, too long or has control characters.
    #[error("{reason}")]
    InvalidName {
        /// Human-readable text (the core error's message).
        reason: String,
    },
    /// A room code that cannot be valid (wrong length or character); checked before any
    /// network traffic.
    #[error("{reason}")]
    InvalidRoomCode {
        /// Human-readable text (the core error's message).
        reason: String,
    },
    /// The signaling WebSocket could not connect, or closed.
    #[error("{reason}")]
    Signaling {
        /// Human-readable text (the core error's message).
        reason: String,
    },
    /// The signaling server refused a request.
    #[error("{reason}")]
    Server {
        /// Human-readable text, including the server's explanation.
        reason: String,
        /// The server's machine-readable code as its snake_case wire name, e.g.
        /// `room_not_found`, `room_full`, `rate_limited`.
        code: String,
    },
    /// `create_room` or `join_room` while already in a room.
    #[error("{reason}")]
    AlreadyInRoom {
        /// Human-readable text (the core error's message).
        reason: String,
    },
    /// `leave_room` or `send_message` while in no room.
    #[error("{reason}")]
    NotInRoom {
        /// Human-readable text (the core error's message).
        reason: String,
    },
    /// `send_message` while no peer has an open data channel.
    #[error("{reason}")]
    NoConnectedPeer {
        /// Human-readable text (the core error's message).
        reason: String,
    },
    /// `send_message` while a peer's outbox holds `max_outbox_messages` unacknowledged
    /// messages.
    #[error("{reason}")]
    OutboxFull {
        /// Human-readable text (the core error's message).
        reason: String,
        /// The bound.
        max: u64,
    },
    /// `send_message` with an empty text.
    #[error("{reason}")]
    EmptyMessage {
        /// Human-readable text (the core error's message).
        reason: String,
    },
    /// `send_message` with a text over the limit.
    #[error("{reason}")]
    MessageTooLarge {
        /// Human-readable text (the core error's message).
        reason: String,
        /// UTF-8 bytes of the text.
        size: u64,
        /// The limit, in bytes.
        max: u64,
    },
    /// The WebRTC stack failed for one peer.
    #[error("{reason}")]
    WebRtc {
        /// Human-readable text (the core error's message).
        reason: String,
        /// The peer concerned.
        peer_id: String,
    },
    /// A peer sent something on the data channel that is not a valid chat frame.
    #[error("{reason}")]
    PeerProtocol {
        /// Human-readable text (the core error's message).
        reason: String,
        /// The peer concerned.
        peer_id: String,
    },
    /// An operation did not complete in time.
    #[error("{reason}")]
    Timeout {
        /// Human-readable text (the core error's message).
        reason: String,
        /// Which operation.
        operation: String,
        /// Elapsed time, ms.
        after_ms: u64,
    },
    /// The engine was shut down; no more calls are possible.
    #[error("{reason}")]
    Shutdown {
        /// Human-readable text (the core error's message).
        reason: String,
    },
    /// A bounded queue between the app and the network is full (today the engine's command
    /// queue, the core's `COMMAND_QUEUE_LEN` = 1 024 commands); nothing was queued, try again.
    #[error("{reason}")]
    QueueFull {
        /// Human-readable text (the core error's message).
        reason: String,
        /// Which queue (`commands`).
        queue: String,
        /// Its bound, in entries.
        capacity: u64,
    },
    /// The `create_room` / `join_room` was cancelled (`cancel_room_request`, or the caller's
    /// coroutine/task was cancelled) before it completed; the engine is in no room because of it.
    #[error("{reason}")]
    Cancelled {
        /// Human-readable text (the core error's message).
        reason: String,
    },
    /// The saved-chat history store failed (the data directory or database is unusable, or
    /// a read or write failed); chat goes on without saving.
    #[error("{reason}")]
    Store {
        /// Human-readable text (the core error's message).
        reason: String,
    },
    /// A history cursor (`before`) names no message of the conversation.
    #[error("{reason}")]
    UnknownMessage {
        /// Human-readable text (the core error's message).
        reason: String,
        /// The id given.
        id: String,
    },
    /// A peer id that is not a peer of the room, or whose connection is not negotiated yet.
    #[error("{reason}")]
    UnknownPeer {
        /// Human-readable text (the core error's message).
        reason: String,
        /// The peer id given.
        peer_id: String,
    },
}

impl From<EngineError> for PeerChatError {
    fn from(e: EngineError) -> Self {
        let reason = e.to_string();
        match e {
            EngineError::InvalidConfig { .. } => Self::InvalidConfig { reason },
            EngineError::InvalidName { .. } => Self::InvalidName { reason },
            EngineError::InvalidRoomCode { .. } => Self::InvalidRoomCode { reason },
            EngineError::Signaling { .. } => Self::Signaling { reason },
            EngineError::Server { code, .. } => Self::Server {
                reason,
                code: code.as_str().to_string(),
            },
            EngineError::AlreadyInRoom => Self::AlreadyInRoom { reason },
            EngineError::NotInRoom => Self::NotInRoom { reason },
            EngineError::NoConnectedPeer => Self::NoConnectedPeer { reason },
            EngineError::EmptyMessage => Self::EmptyMessage { reason },
            EngineError::OutboxFull { max } => Self::OutboxFull { reason, max },
            EngineError::MessageTooLarge { size, max } => {
                Self::MessageTooLarge { reason, size, max }
            }
            EngineError::WebRtc { peer_id, .. } => Self::WebRtc { reason, peer_id },
            EngineError::PeerProtocol { peer_id, .. } => Self::PeerProtocol { reason, peer_id },
            EngineError::Timeout {
                operation,
                after_ms,
            } => Self::Timeout {
                reason,
                operation,
                after_ms,
            },
            EngineError::Shutdown => Self::Shutdown { reason },
            EngineError::QueueFull { queue, capacity } => Self::QueueFull {
                reason,
                queue,
                capacity,
            },
            EngineError::Cancelled => Self::Cancelled { reason },
            EngineError::Store { .. } => Self::Store { reason },
            EngineError::UnknownMessage { id } => Self::UnknownMessage { reason, id },
            EngineError::UnknownPeer { peer_id } => Self::UnknownPeer { reason, peer_id },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerchat_core::protocol::ErrorCode;

    #[test]
    fn server_error_carries_the_wire_code_and_the_text() {
        let e: PeerChatError = EngineError::Server {
            code: ErrorCode::RoomNotFound,
            message: "no room has that code".into(),
        }
        .into();
        match e {
            PeerChatError::Server { reason, code } => {
                assert_eq!(code, "room_not_found");
                assert!(reason.contains("no room has that code"), "{reason}");
            }
            other => panic!("expected Server, got {other:?}"),
        }
    }

    #[test]
    fn structured_fields_and_message_are_kept() {
        let e: PeerChatError = EngineError::MessageTooLarge {
            size: 70_000,
            max: 65_536,
        }
        .into();
        assert_eq!(
            e,
            PeerChatError::MessageTooLarge {
                reason: "message is 70000 bytes, the limit is 65536 bytes".into(),
                size: 70_000,
                max: 65_536,
            }
        );
        let e: PeerChatError = EngineError::Timeout {
            operation: "join_room".into(),
            after_ms: 10,
        }
        .into();
        assert_eq!(e.to_string(), "join_room timed out after 10 ms");
    }

    #[test]
    fn every_variant_maps_to_its_namesake() {
        let reason = || "r".to_string();
        let cases: Vec<(EngineError, &str)> = vec![
            (
                EngineError::InvalidConfig { reason: reason() },
                "InvalidConfig",
            ),
            (EngineError::InvalidName { reason: reason() }, "InvalidName"),
            (
                EngineError::InvalidRoomCode { reason: reason() },
                "InvalidRoomCode",
            ),
            (EngineError::Signaling { reason: reason() }, "Signaling"),
            (EngineError::AlreadyInRoom, "AlreadyInRoom"),
            (EngineError::NotInRoom, "NotInRoom"),
            (EngineError::NoConnectedPeer, "NoConnectedPeer"),
            (EngineError::EmptyMessage, "EmptyMessage"),
            (EngineError::OutboxFull { max: 3 }, "OutboxFull"),
            (
                EngineError::WebRtc {
                    peer_id: "p".into(),
                    reason: reason(),
                },
                "WebRtc",
            ),
            (
                EngineError::PeerProtocol {
                    peer_id: "p".into(),
                    reason: reason(),
                },
                "PeerProtocol",
            ),
            (EngineError::Shutdown, "Shutdown"),
            (EngineError::Cancelled, "Cancelled"),
            (EngineError::Store { reason: reason() }, "Store"),
            (
                EngineError::UnknownMessage { id: "m".into() },
                "UnknownMessage",
            ),
            (
                EngineError::UnknownPeer {
                    peer_id: "p".into(),
                },
                "UnknownPeer",
            ),
            (
                EngineError::QueueFull {
                    queue: "commands".into(),
                    capacity: 1,
                },
                "QueueFull",
            ),
        ];
        for (core_error, name) in cases {
            let text = core_error.to_string();
            let ffi = PeerChatError::from(core_error);
            assert!(
                format!("{ffi:?}").starts_with(name),
                "{ffi:?} is not {name}"
            );
            assert_eq!(ffi.to_string(), text);
        }
    }
}
