//! # peerchat-ffi
//!
//! uniffi 0.32 bindings of the peerchat engine ([`peerchat_core`]) for Kotlin (JVM and Android,
//! through JNA) and Swift (iOS and macOS). This crate holds no chat logic: every exported item
//! converts its arguments to the core types, forwards the call, and converts the answer back.
//!
//! Exported surface (names as they appear in Kotlin and Swift):
//! - [`Engine`]: the object. Its constructor takes an [`EngineConfig`] and an
//!   [`EngineListener`]; `create_room`, `join_room` and `leave_room` are uniffi async methods
//!   (Kotlin `suspend fun`, Swift `async`), which is possible because the core's futures are
//!   runtime-agnostic (they wait on the engine's own tokio runtime); `send_message`, `peers`,
//!   `peer_id` and `shutdown` are plain blocking calls that return at once.
//! - [`EngineListener`]: the foreign trait the app implements to receive events. **Every
//!   callback runs on an engine thread**, never on the caller's; the Kotlin layer
//!   (`dev.peerchat.PeerChatClient`, a `Flow` of events) and the Swift layer (`PeerChatClient`,
//!   an `AsyncStream` of events) hop to the collector's context.
//! - Records [`EngineConfig`], [`IceServer`], [`RoomInfo`], [`Peer`], [`ChatMessage`]; enums
//!   [`SignalingState`], [`PeerState`], [`MessageStatus`], [`LeaveReason`].
//! - Functions [`max_message_bytes`] and [`max_name_chars`]: the core's input limits.
//! - One error enum, [`PeerChatError`] (Kotlin `PeerChatException`), mirroring
//!   [`peerchat_core::EngineError`] one to one; every variant carries the human-readable text as
//!   `reason`, and `Server` carries the server's error code as its snake_case wire name.
//!
//! Bindings are generated in library mode by the workspace's `uniffi-bindgen` binary; see
//! `bindings/generate.sh` and `bindings/README.md`.

mod engine;
mod error;
mod limits;
mod listener;
mod types;

pub use engine::Engine;
pub use error::PeerChatError;
pub use limits::{max_message_bytes, max_name_chars};
pub use listener::EngineListener;
pub use types::{
    ChatMessage, Conversation, DEFAULT_MAX_OUTBOX_MESSAGES, DEFAULT_MESSAGE_TTL_MS,
    DEFAULT_PEER_CONNECT_TIMEOUT_MS, DEFAULT_SIGNALING_TIMEOUT_MS, EngineConfig, HistoryPage,
    IceServer, IceTransportPolicy, LeaveReason, MessageStatus, Peer, PeerState, RoomInfo,
    SignalingState, StoredMessage, StoredStatus,
};

uniffi::setup_scaffolding!();
