//! The engine's event loop: the one place that knows about the room and its peers.
//!
//! Every input (an app command, a signaling message, a peer-connection event, a timer) arrives
//! on one queue and is handled in order, so the state needs no locks. What the app can read
//! synchronously is published to [`Shared`] after each input, and listener callbacks are
//! flushed only after that. The handlers live in one file per input source: `commands.rs`
//! (the public API), `server.rs` (signaling messages), `peers.rs` (peer connections and chat
//! frames).

mod commands;
mod history;
mod peers;
mod server;
mod sync;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::chat::Inbox;
use crate::config::EngineConfig;
use crate::dispatch::Dispatcher;
use crate::error::EngineError;
use crate::lifecycle::{self, LifecycleRx};
use crate::listener::{Peer, PeerState, RoomInfo, SignalingState};
use crate::outbox::Outbox;
use crate::peer::{PeerConnectionLink, PeerEvent};
use crate::peer_state::PeerMachine;
use crate::store::handle::StoreHandle;
use crate::store::{Conversation, StoredMessage};
use history::StoreInput;
pub(crate) use history::{DeleteReply, HistoryReply};
use peers::{PeerInputs, Supervision, close_peer};

use crate::signaling::{SignalingClient, SignalingEvent};

/// What the synchronous getters and `send_message` read.
#[derive(Debug, Default)]
pub(crate) struct SharedState {
    pub(crate) peer_id: Option<String>,
    pub(crate) room_code: Option<String>,
    pub(crate) peers: Vec<Peer>,
    pub(crate) connected_peers: usize,
    /// Peers a message can be addressed to: `Connecting`, `Connected` or `Interrupted` (what
    /// is sent to a peer that is not `Connected` waits in its outbox).
    pub(crate) sendable_peers: usize,
    /// The fullest peer outbox (unacknowledged messages), against
    /// `EngineConfig::max_outbox_messages`.
    pub(crate) outbox_len: usize,
    /// `send_message` calls accepted but not yet handled by the actor (each will take an
    /// outbox slot).
    pub(crate) sends_in_flight: usize,
    pub(crate) shut_down: bool,
}

pub(crate) type Shared = Arc<Mutex<SharedState>>;

/// A request from the public API, on the bounded command queue
/// ([`COMMAND_QUEUE_LEN`](crate::COMMAND_QUEUE_LEN)). Shutdown and the lifecycle calls have
/// channels of their own, so a full queue never holds them up.
pub(crate) enum Command {
    /// `request` numbers the call, for [`Command::Cancel`].
    CreateRoom {
        reply: RoomReply,
        request: u64,
    },
    JoinRoom {
        code: String,
        reply: RoomReply,
        request: u64,
    },
    LeaveRoom(oneshot::Sender<Result<(), EngineError>>),
    Send {
        id: String,
        text: String,
        sent_at_ms: u64,
    },
    /// `Engine::history`.
    History {
        conversation: Conversation,
        before: Option<String>,
        limit: u32,
        reply: HistoryReply,
    },
    /// `Engine::delete_conversation`.
    DeleteConversation {
        conversation: Conversation,
        reply: DeleteReply,
    },
    /// `Engine::safety_code`.
    SafetyCode {
        peer_id: String,
        reply: oneshot::Sender<Result<String, EngineError>>,
    },
    /// Undo the create/join numbered so (its future was dropped), or, with `None`, the one in
    /// flight (`cancel_room_request`).
    Cancel(Option<u64>),
}

/// Everything else the loop reacts to: its own tasks' reports (signaling, peers, timers).
pub(crate) enum Input {
    Signaling(SignalingEvent),
    Peer {
        peer_id: String,
        generation: u64,
        event: PeerEvent,
    },
    RequestTimeout(u64),
    /// A peer's state machine, or its outbox, has something to handle (a timer expired).
    Peers(PeerInputs),
    /// [`REJOIN_IDENTIFY_MS`] after a `rejoin_room` answer: offer to the members no data
    /// channel has claimed by then.
    RejoinDeferred(u64),
    /// A history store request finished (`history.rs`).
    Store(StoreInput),
}

pub(crate) use crate::signaling::REJOIN_IDENTIFY_MS;

/// Where the store thread reports a failed batch commit: the actor's input queue, as a failed
/// write (reported to the app as `EngineError::Store`).
pub(crate) fn store_commit_errors(
    inputs: mpsc::UnboundedSender<Input>,
) -> crate::store::handle::CommitErrorSink {
    Box::new(move |e| {
        let _ = inputs.send(Input::Store(StoreInput::Failed(e)));
    })
}

/// Where the answer to a create/join goes.
pub(crate) type RoomReply = oneshot::Sender<Result<RoomInfo, EngineError>>;

enum Reply {
    Create(RoomReply),
    Join(String, RoomReply),
    Leave(oneshot::Sender<Result<(), EngineError>>),
}

impl Reply {
    fn request_type(&self) -> &'static str {
        match self {
            Reply::Create(_) => "create_room",
            Reply::Join(..) => "join_room",
            Reply::Leave(_) => "leave_room",
        }
    }

    fn fail(self, error: EngineError) {
        match self {
            Reply::Create(tx) => drop(tx.send(Err(error))),
            Reply::Join(_, tx) => drop(tx.send(Err(error))),
            Reply::Leave(tx) => drop(tx.send(Err(error))),
        }
    }
}

/// A room request waiting for the server's answer (or, if `sent` is false, for `welcome`).
struct Pending {
    token: u64,
    reply: Reply,
    sent: bool,
    /// The caller's number of a create/join (0 for a leave).
    request: u64,
}

struct Room {
    code: String,
}

/// One remote peer. `info.peer_id` is the id the app knows it by, for the peer's whole life;
/// `signaling_id` is the id the server knows it by now (they differ once the peer's session was
/// replaced by a new one and it announced its new id on the data channel).
struct PeerEntry {
    info: Peer,
    signaling_id: String,
    /// The engine's own session was replaced and this peer has not confirmed its id since.
    stale: bool,
    generation: u64,
    link: Option<PeerConnectionLink>,
    /// Its state machine (`crate::peer_state`).
    machine: PeerMachine,
    inbox: Inbox,
    outbox: Outbox,
    /// History sync on its current connection (`sync.rs`).
    sync: sync::SyncState,
}

impl PeerEntry {
    /// A frame can be queued on its connection (it is written once the data channel is open).
    fn can_send(&self) -> bool {
        self.link.is_some() && self.machine.live()
    }
}

pub(crate) struct Actor {
    config: EngineConfig,
    shared: Shared,
    events: Dispatcher,
    inputs: mpsc::UnboundedSender<Input>,
    lifecycle: LifecycleRx,
    /// `wakes` of the lifecycle state last acted on.
    wakes_seen: u64,
    signaling: Option<SignalingClient>,
    signaling_task: Option<tokio::task::JoinHandle<()>>,
    welcomed: bool,
    pending: Option<Pending>,
    room: Option<Room>,
    peers: HashMap<String, PeerEntry>,
    counter: u64,
    /// A `rejoin_room` is in flight.
    rejoining: bool,
    /// Why the last dial or connection failed, while no session is ready.
    signaling_error: Option<String>,
    /// A `leave_room` sent while no session was ready waits in the signaling backlog.
    leave_queued: bool,
    /// Members of a rejoined room not yet identified (see [`REJOIN_IDENTIFY_MS`]).
    deferred: Vec<Peer>,
    /// Token of the armed [`Input::RejoinDeferred`] timer.
    deferred_token: u64,
    /// Peers that joined while stale peers were unconfirmed: reported as joined when their
    /// offer arrives, dropped if a data channel claims their id.
    unidentified: HashMap<String, Peer>,
    /// Clock and timers of the peers' recovery and outboxes (`peers.rs`).
    supervision: Supervision,
    /// A create/join that was sent and then cancelled (or timed out): the server's answer to it
    /// is still to come, and is undone when it does. Later room requests wait for it.
    abandoned: Option<&'static str>,
    /// The caller's number of the create/join that entered the current room.
    entered_by: Option<u64>,
    /// The history store's thread (`history.rs`).
    store: StoreHandle,
    /// The persisted outbox of the current room, restored after a restart: queued for every
    /// peer of the room until one acknowledges each message (`history.rs`).
    restored: Vec<StoredMessage>,
    /// The last store failure reported to the app, and when (`history.rs`).
    store_error_reported: Mutex<Option<(String, std::time::Instant)>>,
}

impl Actor {
    pub(crate) fn new(
        config: EngineConfig,
        shared: Shared,
        events: Dispatcher,
        inputs: mpsc::UnboundedSender<Input>,
        lifecycle: LifecycleRx,
        store: StoreHandle,
    ) -> Self {
        Self {
            config,
            shared,
            events,
            inputs,
            lifecycle,
            wakes_seen: 0,
            signaling: None,
            signaling_task: None,
            welcomed: false,
            pending: None,
            room: None,
            peers: HashMap::new(),
            counter: 0,
            rejoining: false,
            signaling_error: None,
            leave_queued: false,
            deferred: Vec::new(),
            deferred_token: 0,
            unidentified: HashMap::new(),
            supervision: Supervision::default(),
            abandoned: None,
            entered_by: None,
            store,
            restored: Vec::new(),
            store_error_reported: Mutex::new(None),
        }
    }

    /// Connects to the signaling server and handles commands and inputs until `stop` fires
    /// (or the engine is dropped); then closes everything and reports on `finished`.
    pub(crate) async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut inputs: mpsc::UnboundedReceiver<Input>,
        mut stop: oneshot::Receiver<()>,
        finished: std::sync::mpsc::Sender<()>,
    ) {
        self.events
            .emit(|l| l.on_signaling_state(SignalingState::Connecting));
        self.events.flush().await;
        let tx = self.inputs.clone();
        let (client, task) = SignalingClient::spawn(
            self.config.signaling_urls(),
            Duration::from_millis(self.config.signaling_timeout_ms),
            self.config.ca_cert_pem.clone(),
            self.config.auth_token.clone(),
            self.lifecycle.clone(),
            move |event| {
                let _ = tx.send(Input::Signaling(event));
            },
        );
        self.signaling = Some(client);
        self.signaling_task = Some(task);
        let mut lifecycle = self.lifecycle.clone();
        let mut lifecycle_open = true;
        loop {
            tokio::select! {
                biased;
                // A dropped sender (the engine is gone) stops the loop as well.
                _ = &mut stop => break,
                open = lifecycle::changed(&mut lifecycle), if lifecycle_open => {
                    lifecycle_open = open;
                    if open {
                        self.on_lifecycle().await;
                    }
                }
                Some(command) = commands.recv() => self.on_command(command).await,
                Some(input) = inputs.recv() => self.on_input(input).await,
                else => break,
            }
            self.publish();
            self.events.flush().await;
        }
        // Messages `send_message` accepted before the shutdown are queued (and saved) before
        // everything closes: with a `data_dir` they are sent after a restart. Other commands
        // still waiting are dropped (their callers see `Shutdown`).
        while let Ok(command) = commands.try_recv() {
            if matches!(command, Command::Send { .. }) {
                self.on_command(command).await;
            }
        }
        self.shutdown().await;
        self.events.flush().await;
        let _ = finished.send(());
    }

    async fn on_input(&mut self, input: Input) {
        match input {
            Input::Signaling(event) => self.on_signaling(event).await,
            Input::Peer {
                peer_id,
                generation,
                event,
            } => self.on_peer_event(peer_id, generation, event).await,
            Input::RequestTimeout(token) => self.on_request_timeout(token),
            Input::Peers(input) => self.on_peers_input(input).await,
            Input::RejoinDeferred(token) => self.on_rejoin_deferred(token).await,
            Input::Store(input) => self.on_store_input(input).await,
        }
    }

    /// `pause` / `resume` / `network_changed`: the signaling driver reads the same state and
    /// acts on its own (no dials while paused; dial or probe at once on a wake); here, a wake
    /// has the peer connections checked.
    async fn on_lifecycle(&mut self) {
        let state = *self.lifecycle.borrow_and_update();
        tracing::debug!(paused = state.paused, wakes = state.wakes, "app lifecycle");
        if state.wakes != self.wakes_seen {
            self.wakes_seen = state.wakes;
            self.network_changed().await;
        }
    }

    /// The key (app-facing peer id) of the peer the server knows as `signaling_id`.
    fn key_of(&self, signaling_id: &str) -> Option<String> {
        self.peers
            .iter()
            .find(|(_, e)| e.signaling_id == signaling_id)
            .map(|(k, _)| k.clone())
    }

    fn next_counter(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    fn publish(&self) {
        let mut shared = self.shared.lock().expect("shared state lock");
        shared.room_code = self.room.as_ref().map(|r| r.code.clone());
        shared.peers = self.peers.values().map(|p| p.info.clone()).collect();
        shared.connected_peers = self
            .peers
            .values()
            .filter(|p| p.machine.state() == PeerState::Connected)
            .count();
        shared.sendable_peers = self.peers.values().filter(|p| p.machine.live()).count();
        shared.outbox_len = self
            .peers
            .values()
            .map(|p| p.outbox.len())
            .max()
            .unwrap_or(0);
    }
}
