//! The public [`Engine`]: owns a tokio runtime, the signaling client and the peers.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot};

use crate::actor::{Actor, Command, Input, Shared, SharedState};
use crate::chat::{self, MAX_FRAME_BYTES, MAX_MESSAGE_BYTES};
use crate::config::EngineConfig;
use crate::dispatch::Dispatcher;
use crate::error::EngineError;
use crate::listener::{EngineListener, Peer, RoomInfo};
use crate::protocol::normalize_room_code;

/// Worker threads of the engine's own tokio runtime.
const RUNTIME_WORKER_THREADS: usize = 2;

/// How long [`Engine::shutdown`] waits (ms) for peer connections and the WebSocket to close.
pub const SHUTDOWN_GRACE_MS: u64 = 2_000;

/// One chat participant: a signaling connection, at most one room, and a peer connection with
/// a data channel per remote peer (a map keyed by peer id, so rooms of several peers form a
/// full mesh).
///
/// The engine owns its tokio runtime, so every method can be called from any thread, with or
/// without a runtime of the caller's. The `async` methods return runtime-agnostic futures (they
/// wait on the engine's own tasks). Listener callbacks run, in order, on one engine thread
/// named `peerchat-events`. Dropping the engine shuts it down.
///
/// ```no_run
/// use std::sync::Arc;
/// use peerchat_core::{Engine, EngineConfig, EngineListener, ChatMessage};
///
/// struct Printer;
/// impl EngineListener for Printer {
///     fn on_message(&self, m: ChatMessage) { println!("{}: {}", m.sender_name, m.text); }
/// }
///
/// # async fn run() -> Result<(), peerchat_core::EngineError> {
/// let config = EngineConfig::new("ws://127.0.0.1:7777/ws", "Ada").loopback_only();
/// let engine = Engine::new(config, Arc::new(Printer))?;
/// let room = engine.create_room().await?;
/// println!("share this code: {}", room.code);
/// # Ok(()) }
/// ```
pub struct Engine {
    inputs: mpsc::UnboundedSender<Input>,
    shared: Shared,
    runtime: Mutex<Option<tokio::runtime::Runtime>>,
    /// `EngineConfig::max_outbox_messages`.
    max_outbox_messages: usize,
}

impl Engine {
    /// Validates `config`, starts the engine's runtime and begins connecting to the signaling
    /// server. Connection progress is reported through
    /// [`EngineListener::on_signaling_state`]. Errors: [`EngineError::InvalidConfig`],
    /// [`EngineError::InvalidName`], and [`EngineError::InvalidConfig`] if the OS refuses the
    /// runtime's threads.
    pub fn new(
        config: EngineConfig,
        listener: Arc<dyn EngineListener>,
    ) -> Result<Self, EngineError> {
        config.validate()?;
        let thread_error = |e: std::io::Error| EngineError::InvalidConfig {
            reason: format!("cannot start the engine's threads: {e}"),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(RUNTIME_WORKER_THREADS)
            .thread_name("peerchat-engine")
            .enable_all()
            .build()
            .map_err(thread_error)?;
        let events = Dispatcher::start(listener).map_err(thread_error)?;
        let shared: Shared = Arc::new(Mutex::new(SharedState::default()));
        let (inputs, rx) = mpsc::unbounded_channel();
        let max_outbox_messages = config.max_outbox_messages;
        let actor = Actor::new(config, shared.clone(), events, inputs.clone());
        runtime.spawn(actor.run(rx));
        Ok(Self {
            inputs,
            shared,
            runtime: Mutex::new(Some(runtime)),
            max_outbox_messages,
        })
    }

    fn command(&self, command: Command) -> Result<(), EngineError> {
        if self.state().shut_down {
            return Err(EngineError::Shutdown);
        }
        self.inputs
            .send(Input::Command(command))
            .map_err(|_| EngineError::Shutdown)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, SharedState> {
        self.shared.lock().expect("shared state lock")
    }

    /// Creates a room on the server and enters it; waits for the signaling connection if it is
    /// still opening. Returns the room with its code (no members yet). Errors:
    /// [`EngineError::AlreadyInRoom`], [`EngineError::Signaling`], [`EngineError::Timeout`]
    /// (after `signaling_timeout_ms`), [`EngineError::Server`], [`EngineError::Shutdown`].
    pub async fn create_room(&self) -> Result<RoomInfo, EngineError> {
        let (tx, rx) = oneshot::channel();
        self.command(Command::CreateRoom(tx))?;
        rx.await.map_err(|_| EngineError::Shutdown)?
    }

    /// Joins the room with this code (any case, separators optional) and starts connecting to
    /// every member; each member's [`PeerState::Connected`](crate::PeerState::Connected)
    /// follows through the listener. Errors: [`EngineError::InvalidRoomCode`] (before any
    /// traffic), [`EngineError::AlreadyInRoom`], [`EngineError::Server`] with `room_not_found`
    /// or `room_full`, [`EngineError::Signaling`], [`EngineError::Timeout`],
    /// [`EngineError::Shutdown`].
    pub async fn join_room(&self, code: &str) -> Result<RoomInfo, EngineError> {
        let code = normalize_room_code(code).map_err(|e| EngineError::InvalidRoomCode {
            reason: e.to_string(),
        })?;
        let (tx, rx) = oneshot::channel();
        self.command(Command::JoinRoom(code, tx))?;
        rx.await.map_err(|_| EngineError::Shutdown)?
    }

    /// Sends `text` to every peer of the room that is `Connecting`, `Connected` or
    /// `Interrupted` and returns the message id (UUID v7) at once. The message waits in each
    /// peer's outbox while that peer is not `Connected` and is re-sent with the same id after
    /// an interruption. Status events follow per peer: `Sent`, then `Delivered` when the peer
    /// acknowledges, or `Failed` if it leaves or `message_ttl_ms` runs out first
    /// ([`MessageStatus`](crate::MessageStatus)). Errors: [`EngineError::EmptyMessage`],
    /// [`EngineError::MessageTooLarge`] (text over
    /// [`MAX_MESSAGE_BYTES`](crate::chat::MAX_MESSAGE_BYTES), or a frame over
    /// [`MAX_FRAME_BYTES`](crate::chat::MAX_FRAME_BYTES) once JSON-escaped),
    /// [`EngineError::NotInRoom`], [`EngineError::NoConnectedPeer`] (no peer in the room, or
    /// every one `Closed`/`Failed`), [`EngineError::OutboxFull`] (a peer's outbox holds
    /// `max_outbox_messages`), [`EngineError::Shutdown`].
    pub fn send_message(&self, text: &str) -> Result<String, EngineError> {
        if text.is_empty() {
            return Err(EngineError::EmptyMessage);
        }
        if text.len() > MAX_MESSAGE_BYTES {
            return Err(EngineError::MessageTooLarge {
                size: text.len() as u64,
                max: MAX_MESSAGE_BYTES as u64,
            });
        }
        let id = uuid::Uuid::now_v7().to_string();
        let sent_at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        if let Err(size) = chat::encode_message(&id, u64::MAX, sent_at_ms, text) {
            return Err(EngineError::MessageTooLarge {
                size: size as u64,
                max: MAX_FRAME_BYTES as u64,
            });
        }
        {
            let mut state = self.state();
            if state.shut_down {
                return Err(EngineError::Shutdown);
            }
            if state.room_code.is_none() {
                return Err(EngineError::NotInRoom);
            }
            if state.sendable_peers == 0 {
                return Err(EngineError::NoConnectedPeer);
            }
            if state.outbox_len + state.sends_in_flight >= self.max_outbox_messages {
                return Err(EngineError::OutboxFull {
                    max: self.max_outbox_messages as u64,
                });
            }
            state.sends_in_flight += 1;
        }
        self.command(Command::Send {
            id: id.clone(),
            text: text.to_string(),
            sent_at_ms,
        })?;
        Ok(id)
    }

    /// Leaves the room: closes every peer connection and tells the server, which sends
    /// `peer_left` to the others. Unacknowledged messages are reported `Failed`. Errors:
    /// [`EngineError::NotInRoom`], [`EngineError::Timeout`], [`EngineError::Shutdown`].
    pub async fn leave_room(&self) -> Result<(), EngineError> {
        let (tx, rx) = oneshot::channel();
        self.command(Command::LeaveRoom(tx))?;
        rx.await.map_err(|_| EngineError::Shutdown)?
    }

    /// The OS reported a change of network path (an address came or went): every peer
    /// connection restarts ICE at once (W3C `restartIce`, RFC 8445 §9) with its sockets
    /// rebound, so a new local address is used; peers are `Interrupted` until ICE reconnects.
    /// Harmless when nothing changed (one ICE restart per peer). Errors:
    /// [`EngineError::Shutdown`].
    pub fn network_changed(&self) -> Result<(), EngineError> {
        self.command(Command::NetworkChanged)
    }

    /// The other peers currently in the room, in no particular order.
    pub fn peers(&self) -> Vec<Peer> {
        self.state().peers.clone()
    }

    /// Number of peers whose data channel is open.
    pub fn connected_peers(&self) -> usize {
        self.state().connected_peers
    }

    /// The code of the room the engine is in, if any.
    pub fn room_code(&self) -> Option<String> {
        self.state().room_code.clone()
    }

    /// This engine's server-assigned peer id, once the server has sent `welcome`.
    pub fn peer_id(&self) -> Option<String> {
        self.state().peer_id.clone()
    }

    /// Closes every peer connection and the signaling connection (so the server tells the
    /// room at once) and stops the runtime, waiting at most [`SHUTDOWN_GRACE_MS`]. Idempotent;
    /// later calls to other methods return [`EngineError::Shutdown`]. Safe to call from any
    /// thread, including inside another tokio runtime and from a listener callback.
    pub fn shutdown(&self) {
        let Some(runtime) = self.runtime.lock().expect("runtime lock").take() else {
            return;
        };
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        if self
            .inputs
            .send(Input::Command(Command::Shutdown(done_tx)))
            .is_ok()
        {
            let _ = done_rx.recv_timeout(Duration::from_millis(SHUTDOWN_GRACE_MS));
        }
        self.state().shut_down = true;
        runtime.shutdown_background();
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shutdown();
    }
}
