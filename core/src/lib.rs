//! # peerchat-core
//!
//! The peerchat engine: peer-to-peer chat over WebRTC data channels.
//!
//! An [`Engine`] connects to a signaling server (`peerchat-server`), creates or joins a room,
//! negotiates one WebRTC peer connection per remote peer through the server (SDP offer/answer
//! and trickle ICE, using the `webrtc` crate), and runs the chat protocol of [`chat`] over a
//! reliable, ordered data channel. Events reach the app through an [`EngineListener`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use peerchat_core::{Engine, EngineConfig, EngineListener, ChatMessage};
//!
//! struct Printer;
//! impl EngineListener for Printer {
//!     fn on_message(&self, m: ChatMessage) { println!("{}: {}", m.sender_name, m.text); }
//! }
//!
//! # async fn run() -> Result<(), peerchat_core::EngineError> {
//! let config = EngineConfig::new("ws://127.0.0.1:7777/ws", "Ada").loopback_only();
//! let engine = Engine::new(config, Arc::new(Printer))?;
//! let room = engine.create_room().await?;
//! println!("share this code: {}", room.code);
//! # Ok(()) }
//! ```

pub mod chat;
mod config;
mod engine;
mod error;
mod listener;
mod peer;
pub mod protocol;
mod signaling;

pub use config::{EngineConfig, IceServer};
pub use engine::Engine;
pub use error::EngineError;
pub use listener::{
    ChatMessage, EngineListener, LeaveReason, MessageStatus, Peer, PeerState, RoomInfo,
    SignalingState,
};
