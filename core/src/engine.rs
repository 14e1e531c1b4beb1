//! The public [`Engine`]: owns a tokio runtime, the signaling client and the peers.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot, watch};

use crate::actor::{Actor, Command, Shared, SharedState};
use crate::chat::{self, MAX_FRAME_BYTES, MAX_MESSAGE_BYTES};
use crate::config::EngineConfig;
use crate::dispatch::Dispatcher;
use crate::error::EngineError;
use crate::lifecycle::{self, LifecycleTx};
use crate::listener::{EngineListener, Peer, RoomInfo};
use crate::protocol::normalize_room_code;
use crate::store::handle::StoreHandle;
use crate::store::{Conversation, HistoryPage};

/// Worker threads of the engine's own tokio runtime.
const RUNTIME_WORKER_THREADS: usize = 2;

/// How long (ms) the background teardown of [`Engine::shutdown`] lets the engine close its peer
/// connections and send the WebSocket close frame before it stops the runtime regardless.
pub const SHUTDOWN_GRACE_MS: u64 = 2_000;

/// Commands (`create_room`, `join_room`, `send_message`, `leave_room`,
/// `cancel_room_request`) that may wait for the engine's event loop at once. One more is
/// refused with [`EngineError::QueueFull`] (`queue: "commands"`) and nothing is queued; a
/// `create_room` / `join_room` needs two free places (one is kept to undo it if its future is
/// dropped). The loop takes a command in microseconds, so the bound is reached only when it is
/// held back, e.g. by a listener that does not return ([`EVENT_QUEUE_LEN`](crate::EVENT_QUEUE_LEN)).
pub const COMMAND_QUEUE_LEN: usize = 1_024;

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
    commands: mpsc::Sender<Command>,
    shared: Shared,
    lifecycle: LifecycleTx,
    /// Until shutdown: what the background teardown needs.
    running: Mutex<Option<Running>>,
    /// Turns `true` when the teardown finished (the runtime is stopped).
    stopped: watch::Receiver<bool>,
    requests: AtomicU64,
    /// `EngineConfig::max_outbox_messages`.
    max_outbox_messages: usize,
}

/// What [`Engine::shutdown`] hands to the teardown thread.
struct Running {
    runtime: tokio::runtime::Runtime,
    /// Tells the actor to close everything; it answers on `finished`.
    stop: oneshot::Sender<()>,
    finished: std::sync::mpsc::Receiver<()>,
    stopped: watch::Sender<bool>,
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
        let (inputs, inputs_rx) = mpsc::unbounded_channel();
        // The database is opened on the store's own thread: `Engine::new` never waits for
        // the disk, and an unusable `data_dir` is reported as `EngineError::Store`.
        let store = StoreHandle::start(
            config.data_dir.clone(),
            crate::actor::store_commit_errors(inputs.clone()),
        )
        .map_err(|e| EngineError::InvalidConfig {
            reason: format!("cannot start the history store's thread: {e}"),
        })?;
        let (commands, commands_rx) = mpsc::channel(COMMAND_QUEUE_LEN);
        let (lifecycle, lifecycle_rx) = lifecycle::channel();
        let (stop, stop_rx) = oneshot::channel();
        let (finished_tx, finished) = std::sync::mpsc::channel();
        let (stopped_tx, stopped) = watch::channel(false);
        let max_outbox_messages = config.max_outbox_messages;
        let actor = Actor::new(config, shared.clone(), events, inputs, lifecycle_rx, store);
        runtime.spawn(actor.run(commands_rx, inputs_rx, stop_rx, finished_tx));
        Ok(Self {
            commands,
            shared,
            lifecycle,
            running: Mutex::new(Some(Running {
                runtime,
                stop,
                finished,
                stopped: stopped_tx,
            })),
            stopped,
            requests: AtomicU64::new(0),
            max_outbox_messages,
        })
    }

    fn command(&self, command: Command) -> Result<(), EngineError> {
        if self.state().shut_down {
            return Err(EngineError::Shutdown);
        }
        self.commands.try_send(command).map_err(send_error)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, SharedState> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends a create/join made by `make` and waits for its answer; if the returned future is
    /// dropped first, the request is undone (see [`Engine::join_room`]).
    async fn room_request(
        &self,
        make: impl FnOnce(RoomReply, u64) -> Command,
    ) -> Result<RoomInfo, EngineError> {
        if self.state().shut_down {
            return Err(EngineError::Shutdown);
        }
        // The place for the undo is taken first, so that undoing can never fail later.
        let undo = self
            .commands
            .clone()
            .try_reserve_owned()
            .map_err(send_error)?;
        let permit = self.commands.try_reserve().map_err(send_error)?;
        let request = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        let (tx, rx) = oneshot::channel();
        permit.send(make(tx, request));
        let mut guard = UndoOnDrop {
            rx,
            undo: Some(undo),
            request,
        };
        let answer = (&mut guard.rx).await;
        guard.undo = None;
        answer.map_err(|_| EngineError::Shutdown)?
    }

    /// Creates a room on the server and enters it; waits for the signaling connection if it is
    /// still opening. Returns the room with its code (no members yet). Errors:
    /// [`EngineError::AlreadyInRoom`], [`EngineError::Signaling`], [`EngineError::Timeout`]
    /// (after `signaling_timeout_ms`), [`EngineError::Server`], [`EngineError::Cancelled`],
    /// [`EngineError::QueueFull`], [`EngineError::Shutdown`].
    ///
    /// Cancellation: dropping the future before it completes undoes the request, as for
    /// [`Engine::join_room`].
    pub async fn create_room(&self) -> Result<RoomInfo, EngineError> {
        self.room_request(|reply, request| Command::CreateRoom { reply, request })
            .await
    }

    /// Joins the room with this code (any case, separators optional) and starts connecting to
    /// every member; each member's [`PeerState::Connected`](crate::PeerState::Connected)
    /// follows through the listener. Errors: [`EngineError::InvalidRoomCode`] (before any
    /// traffic), [`EngineError::AlreadyInRoom`], [`EngineError::Server`] with `room_not_found`
    /// or `room_full`, [`EngineError::Signaling`], [`EngineError::Timeout`],
    /// [`EngineError::Cancelled`], [`EngineError::QueueFull`], [`EngineError::Shutdown`].
    ///
    /// Cancellation: dropping the future before it completes (a Kotlin coroutine cancelled,
    /// `tokio::select!` taking another branch, a timeout) undoes the request: if it was not
    /// sent yet it never is; if the server answers it later, the engine leaves the room at once
    /// (`leave_room`, so the members see `peer_left`) and reports nothing; if the engine had
    /// already entered the room, it leaves it. A create/join made meanwhile waits until the
    /// undone one is settled, so the server sees them in order.
    pub async fn join_room(&self, code: &str) -> Result<RoomInfo, EngineError> {
        let code = normalize_room_code(code).map_err(|e| EngineError::InvalidRoomCode {
            reason: e.to_string(),
        })?;
        self.room_request(|reply, request| Command::JoinRoom {
            code,
            reply,
            request,
        })
        .await
    }

    /// Undoes the latest `create_room` / `join_room`: if it is still in flight its future
    /// returns [`EngineError::Cancelled`] and the request is undone as when its future is
    /// dropped (see [`Engine::join_room`]); if it already entered its room and no message was
    /// sent there since, the engine leaves that room. Otherwise nothing happens. For FFI
    /// callers whose cancellation may not reach the Rust future in time (a Kotlin coroutine
    /// cancelled as the answer arrives, Swift's `Task.cancel`). Returns at once. Errors:
    /// [`EngineError::QueueFull`], [`EngineError::Shutdown`].
    pub fn cancel_room_request(&self) -> Result<(), EngineError> {
        self.command(Command::Cancel(None))
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
    /// `max_outbox_messages`), [`EngineError::QueueFull`] (the message was not taken:
    /// [`COMMAND_QUEUE_LEN`] commands wait already; async callers that send in bulk use
    /// [`Engine::send_message_queued`]), [`EngineError::Shutdown`].
    pub fn send_message(&self, text: &str) -> Result<String, EngineError> {
        let (id, command) = self.message_command(text)?;
        self.command(command)
            .inspect_err(|_| self.release_outbox_slot())?;
        Ok(id)
    }

    /// Gives back the outbox slot `message_command` took for a message that was not queued.
    fn release_outbox_slot(&self) {
        let mut state = self.state();
        state.sends_in_flight = state.sends_in_flight.saturating_sub(1);
    }

    /// [`Engine::send_message`] for async callers that send in bulk: when the command queue
    /// is full it waits for room ([`COMMAND_QUEUE_LEN`]) instead of returning
    /// [`EngineError::QueueFull`] — back-pressure, never a blocked thread. Same other errors.
    pub async fn send_message_queued(&self, text: &str) -> Result<String, EngineError> {
        let (id, command) = self.message_command(text)?;
        let Ok(permit) = self.commands.reserve().await else {
            self.release_outbox_slot();
            return Err(EngineError::Shutdown);
        };
        if self.state().shut_down {
            self.release_outbox_slot();
            return Err(EngineError::Shutdown);
        }
        permit.send(command);
        Ok(id)
    }

    /// Checks `text` and the room, and makes the `Send` command with a new message id.
    fn message_command(&self, text: &str) -> Result<(String, Command), EngineError> {
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
        let command = Command::Send {
            id: id.clone(),
            text: text.to_string(),
            sent_at_ms,
        };
        Ok((id, command))
    }

    /// Leaves the room: closes every peer connection and tells the server, which sends
    /// `peer_left` to the others. Unacknowledged messages are reported `Failed`. Errors:
    /// [`EngineError::NotInRoom`], [`EngineError::Timeout`], [`EngineError::QueueFull`],
    /// [`EngineError::Shutdown`].
    pub async fn leave_room(&self) -> Result<(), EngineError> {
        let (tx, rx) = oneshot::channel();
        self.command(Command::LeaveRoom(tx))?;
        rx.await.map_err(|_| EngineError::Shutdown)?
    }

    /// The app went to the background (Android `ON_STOP` of the process lifecycle, iOS
    /// `didEnterBackground` / scene phase `.background`, React Native `AppState` `background`).
    /// Returns at once; never fails; idempotent.
    ///
    /// While paused the engine keeps its room, its peer connections and an open signaling
    /// connection (with its 5 s pings), so chat goes on for as long as the OS lets the app
    /// run. What it stops: a signaling connection lost while paused is **not** dialled again
    /// (no reconnect attempts, no radio wake-ups, in the background) until [`Engine::resume`];
    /// the app is reported `Reconnecting` once, as usual.
    ///
    /// When the OS suspends the app (iOS a few seconds after backgrounding, Android in Doze)
    /// nothing runs: sockets may be closed by the OS or time out at the far end, timers stop.
    /// The server takes the silent connection for dead after its liveness timeout and keeps
    /// the session for `--session-grace-ms` (30 s by default): the others see
    /// `peer_interrupted`, then `peer_resumed` if the app resumes within the grace period, or
    /// `peer_left` (`timeout`) otherwise. Peers' ICE consent checks (RFC 7675) fail after
    /// about 30 s of silence on their side.
    pub fn pause(&self) {
        self.lifecycle
            .send_if_modified(|l| !std::mem::replace(&mut l.paused, true));
    }

    /// The app came back to the foreground. Returns at once; never fails; idempotent in
    /// effect. The engine dials the signaling server at once if it is not connected (skipping
    /// the remaining backoff) and resumes its session; an open connection that may have died
    /// while the app was suspended is probed with a ping and dialled again if nothing answers
    /// within [`WAKE_PROBE_TIMEOUT_MS`](crate::signaling::WAKE_PROBE_TIMEOUT_MS). Peer
    /// connections are checked as for [`Engine::network_changed`].
    pub fn resume(&self) {
        self.lifecycle.send_modify(|l| {
            l.paused = false;
            l.wakes += 1;
        });
    }

    /// The OS reported a change of network path (Android `ConnectivityManager` default network
    /// available/lost/capabilities, iOS `NWPathMonitor`): say Wi-Fi to cellular. Returns at
    /// once; never fails; a burst of calls coalesces. The signaling connection is probed
    /// (dialled again at once when it is down or does not answer within
    /// [`WAKE_PROBE_TIMEOUT_MS`](crate::signaling::WAKE_PROBE_TIMEOUT_MS)), and peer
    /// connections are checked (ICE restart where their path is gone). A call when nothing
    /// changed does no harm: a live connection answers the probe and stays, no peer is
    /// dropped. Does not end a pause.
    pub fn network_changed(&self) {
        self.lifecycle.send_modify(|l| l.wakes += 1);
    }

    /// The conversation of the room the engine is in (`Conversation::Room` with its code), to
    /// pass to [`Engine::history`]; `None` outside a room.
    pub fn conversation(&self) -> Option<Conversation> {
        self.room_code().map(|code| Conversation::Room { code })
    }

    /// One page of a conversation's saved history (`crate::store`): the `limit` newest
    /// messages older than the message with id `before` (the newest of all when `None`),
    /// **oldest first**, ordered by the sender's `sent_at_ms` (ms since the Unix epoch), then
    /// by id. `limit` is clamped to 1..=[`MAX_HISTORY_PAGE`](crate::store::MAX_HISTORY_PAGE)
    /// (500). [`HistoryPage::has_more`] tells whether an older page exists: ask again with
    /// the first message's id as `before`.
    ///
    /// Includes every message this engine sent (with its overall status: the least advanced
    /// among the peers it went to) and received (`Received`), and messages received through
    /// history sync. The answer reflects every event the listener was given before the call
    /// (it is queued behind the engine's own writes). With
    /// [`EngineConfig::data_dir`](crate::EngineConfig::data_dir) unset, history lives in
    /// memory for the engine's life; with it set, it survives restarts. Runs on the store's
    /// thread, never the caller's. Works in or out of a room.
    ///
    /// Errors: [`EngineError::UnknownMessage`] (`before` is not a message of the
    /// conversation), [`EngineError::Store`] (the database is unusable or a read failed),
    /// [`EngineError::QueueFull`] (the command queue is full), [`EngineError::Shutdown`].
    pub async fn history(
        &self,
        conversation: &Conversation,
        before: Option<&str>,
        limit: u32,
    ) -> Result<HistoryPage, EngineError> {
        let (reply, rx) = oneshot::channel();
        self.command(Command::History {
            conversation: conversation.clone(),
            before: before.map(str::to_string),
            limit,
            reply,
        })?;
        rx.await.map_err(|_| EngineError::Shutdown)?
    }

    /// Deletes every saved message (and its receipts) of a conversation from this device;
    /// returns how many messages were deleted. Messages of the current room that wait to be
    /// re-sent after a restart are forgotten too. Errors: [`EngineError::Store`],
    /// [`EngineError::QueueFull`], [`EngineError::Shutdown`].
    pub async fn delete_conversation(
        &self,
        conversation: &Conversation,
    ) -> Result<u64, EngineError> {
        let (reply, rx) = oneshot::channel();
        self.command(Command::DeleteConversation {
            conversation: conversation.clone(),
            reply,
        })?;
        rx.await.map_err(|_| EngineError::Shutdown)?
    }

    /// The safety code of the peer connection with `peer_id` (`crate::safety`): four groups
    /// of five digits, e.g. `33956 73017 21310 38754`, computed from the DTLS certificate
    /// fingerprints (`a=fingerprint`, RFC 8122) of the current local and remote SDP of that
    /// connection. Both users see the same code unless someone rewrote the SDP between them
    /// (then each sees a different one): compare them out of band. An ICE restart keeps it;
    /// a fresh peer connection (after a failure) may change it, as either side may use a
    /// new certificate: compare again then.
    ///
    /// Errors: [`EngineError::UnknownPeer`] (not a peer of the room, or its SDP offer/answer
    /// has not completed), [`EngineError::WebRtc`] (an SDP has no fingerprint),
    /// [`EngineError::QueueFull`], [`EngineError::Shutdown`].
    pub async fn safety_code(&self, peer_id: &str) -> Result<String, EngineError> {
        let (reply, rx) = oneshot::channel();
        self.command(Command::SafetyCode {
            peer_id: peer_id.to_string(),
            reply,
        })?;
        rx.await.map_err(|_| EngineError::Shutdown)?
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

    /// Shuts the engine down **without blocking**: later calls return
    /// [`EngineError::Shutdown`] at once, and a background thread (`peerchat-teardown`) lets
    /// the engine close every peer connection and send the WebSocket close frame (code 1000,
    /// so the server tells the room `peer_left` at once), then stops the runtime, at most
    /// [`SHUTDOWN_GRACE_MS`] later. Safe to call from any thread, including a UI thread,
    /// inside another tokio runtime and from a listener callback. Idempotent.
    ///
    /// The returned [`ShutdownHandle`] can be ignored, or awaited (`engine.shutdown().await`)
    /// to wait until the teardown finished: a process that exits right after should await it,
    /// or the close frames may not leave.
    pub fn shutdown(&self) -> ShutdownHandle {
        let running = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(running) = running {
            self.state().shut_down = true;
            let Running {
                runtime,
                stop,
                finished,
                stopped,
            } = running;
            let _ = stop.send(());
            // Held so that the runtime can be stopped here if no thread can be had.
            let slot = Arc::new(Mutex::new(Some((runtime, stopped))));
            let teardown = slot.clone();
            let spawned = std::thread::Builder::new()
                .name("peerchat-teardown".into())
                .spawn(move || {
                    let _ = finished.recv_timeout(Duration::from_millis(SHUTDOWN_GRACE_MS));
                    let taken = teardown
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .take();
                    if let Some((runtime, stopped)) = taken {
                        runtime.shutdown_background();
                        let _ = stopped.send(true);
                    }
                });
            if spawned.is_err() {
                let taken = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
                if let Some((runtime, stopped)) = taken {
                    tracing::warn!("no thread for the engine's teardown: stopping it at once");
                    runtime.shutdown_background();
                    let _ = stopped.send(true);
                }
            }
        }
        ShutdownHandle {
            stopped: self.stopped.clone(),
        }
    }
}

impl Drop for Engine {
    /// Starts [`Engine::shutdown`] and returns at once (never blocks the dropping thread).
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

type RoomReply = oneshot::Sender<Result<RoomInfo, EngineError>>;

/// A refused command: the queue is full, or the engine's loop is gone.
fn send_error<T>(e: mpsc::error::TrySendError<T>) -> EngineError {
    match e {
        mpsc::error::TrySendError::Full(_) => EngineError::QueueFull {
            queue: "commands".into(),
            capacity: COMMAND_QUEUE_LEN as u64,
        },
        mpsc::error::TrySendError::Closed(_) => EngineError::Shutdown,
    }
}

/// The caller's end of a create/join. Dropped before the answer was taken (the caller's future
/// was dropped), it tells the engine to undo the request, through the place it reserved in the
/// command queue.
struct UndoOnDrop {
    rx: oneshot::Receiver<Result<RoomInfo, EngineError>>,
    undo: Option<mpsc::OwnedPermit<Command>>,
    request: u64,
}

impl Drop for UndoOnDrop {
    fn drop(&mut self) {
        let Some(undo) = self.undo.take() else {
            return;
        };
        match self.rx.try_recv() {
            // Not answered yet, or the room was entered but the caller never saw it.
            Err(oneshot::error::TryRecvError::Empty) | Ok(Ok(_)) => {
                undo.send(Command::Cancel(Some(self.request)));
            }
            // It failed (nothing to undo) or the engine is gone.
            Ok(Err(_)) | Err(oneshot::error::TryRecvError::Closed) => {}
        }
    }
}

/// Returned by [`Engine::shutdown`]: await it (`.await`, any executor) to wait until the
/// engine's teardown finished, at most about [`SHUTDOWN_GRACE_MS`] after the call. Dropping it
/// does not stop or undo the shutdown.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    stopped: watch::Receiver<bool>,
}

impl ShutdownHandle {
    /// Whether the teardown has finished (the engine's runtime is stopped).
    pub fn is_finished(&self) -> bool {
        *self.stopped.borrow()
    }
}

impl IntoFuture for ShutdownHandle {
    type Output = ();
    type IntoFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

    fn into_future(mut self) -> Self::IntoFuture {
        Box::pin(async move {
            // An error means the teardown's sender is gone: finished all the same.
            let _ = self.stopped.wait_for(|stopped| *stopped).await;
        })
    }
}
