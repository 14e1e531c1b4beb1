//! # peerchat-core
//!
//! The peerchat engine: peer-to-peer chat over WebRTC data channels.
//!
//! An [`Engine`] connects to a signaling server (`peerchat-server`), creates or joins a room,
//! negotiates one WebRTC peer connection per remote peer through the server (SDP offer/answer
//! and trickle ICE, using the `webrtc` crate), and runs the chat protocol of [`chat`] over a
//! reliable, ordered data channel. Events reach the app through an [`EngineListener`].
//!
//! See [`Engine`] for an example.
//!
//! With `default-features = false` (no `engine` feature) the crate is only [`protocol`]: the
//! signaling message types the server shares.

pub mod protocol;

#[cfg(feature = "engine")]
mod actor;
#[cfg(feature = "engine")]
pub mod chat;
#[cfg(feature = "engine")]
mod chat_json;
#[cfg(feature = "engine")]
mod config;
#[cfg(feature = "engine")]
mod dispatch;
#[cfg(feature = "engine")]
mod engine;
#[cfg(feature = "engine")]
mod error;
#[cfg(feature = "engine")]
mod events;
#[cfg(feature = "engine")]
mod lifecycle;
#[cfg(feature = "engine")]
mod listener;
#[cfg(feature = "engine")]
pub mod outbox;
#[cfg(feature = "engine")]
mod peer;
#[cfg(feature = "engine")]
mod peer_runtime;
#[cfg(feature = "engine")]
pub mod peer_state;
#[cfg(feature = "engine")]
pub mod safety;
#[cfg(feature = "engine")]
pub mod signaling;
#[cfg(feature = "engine")]
pub mod store;
#[cfg(feature = "engine")]
mod tls;

#[cfg(feature = "engine")]
pub use config::{EngineConfig, IceServer, IceTransportPolicy};
#[cfg(feature = "engine")]
pub use dispatch::EVENT_QUEUE_LEN;
#[cfg(feature = "engine")]
pub use engine::{COMMAND_QUEUE_LEN, Engine, SHUTDOWN_GRACE_MS, ShutdownHandle};
#[cfg(feature = "engine")]
pub use error::EngineError;
#[cfg(feature = "engine")]
pub use events::{ChannelListener, EngineEvent};
#[cfg(feature = "engine")]
pub use listener::{
    ChatMessage, EngineListener, LeaveReason, MessageStatus, Peer, PeerState, RoomInfo,
    SignalingState,
};
#[cfg(feature = "engine")]
pub use store::{Conversation, HistoryPage, StoredMessage, StoredStatus};
