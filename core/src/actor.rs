//! The engine's event loop: the one place that knows about the room and its peers.
//!
//! Every input (an app command, a signaling message, a peer-connection event, a timer) arrives
//! on one queue and is handled in order, so the state needs no locks. What the app can read
//! synchronously is published to [`Shared`] after each input.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use webrtc::peer_connection::RTCPeerConnectionState;

use crate::chat::{self, Decoded, Frame, Inbox, Outbox, StatusChange};
use crate::config::EngineConfig;
use crate::dispatch::Dispatcher;
use crate::error::EngineError;
use crate::listener::{ChatMessage, MessageStatus, Peer, PeerState, RoomInfo, SignalingState};
use crate::peer::{PeerConnectionLink, PeerEvent};
use crate::protocol::{ClientMessage, ErrorCode, ServerMessage};
use crate::signaling::{SignalingClient, SignalingEvent};

/// What the synchronous getters and `send_message` read.
#[derive(Debug, Default)]
pub(crate) struct SharedState {
    pub(crate) peer_id: Option<String>,
    pub(crate) room_code: Option<String>,
    pub(crate) peers: Vec<Peer>,
    pub(crate) connected_peers: usize,
    pub(crate) shut_down: bool,
}

pub(crate) type Shared = Arc<Mutex<SharedState>>;

/// A request from the public API.
pub(crate) enum Command {
    CreateRoom(oneshot::Sender<Result<RoomInfo, EngineError>>),
    JoinRoom(String, oneshot::Sender<Result<RoomInfo, EngineError>>),
    LeaveRoom(oneshot::Sender<Result<(), EngineError>>),
    Send {
        id: String,
        text: String,
        sent_at_ms: u64,
    },
    Shutdown(std::sync::mpsc::Sender<()>),
}

/// Everything the loop reacts to.
pub(crate) enum Input {
    Command(Command),
    Signaling(SignalingEvent),
    Peer {
        peer_id: String,
        generation: u64,
        event: PeerEvent,
    },
    RequestTimeout(u64),
    PeerTimeout {
        peer_id: String,
        generation: u64,
    },
}

enum Reply {
    Create(oneshot::Sender<Result<RoomInfo, EngineError>>),
    Join(String, oneshot::Sender<Result<RoomInfo, EngineError>>),
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
}

struct Room {
    code: String,
}

struct PeerEntry {
    info: Peer,
    generation: u64,
    link: Option<PeerConnectionLink>,
    state: PeerState,
    inbox: Inbox,
    outbox: Outbox,
}

pub(crate) struct Actor {
    config: EngineConfig,
    shared: Shared,
    events: Dispatcher,
    inputs: mpsc::UnboundedSender<Input>,
    signaling: Option<SignalingClient>,
    signaling_task: Option<tokio::task::JoinHandle<()>>,
    welcomed: bool,
    pending: Option<Pending>,
    room: Option<Room>,
    peers: HashMap<String, PeerEntry>,
    counter: u64,
}

impl Actor {
    pub(crate) fn new(
        config: EngineConfig,
        shared: Shared,
        events: Dispatcher,
        inputs: mpsc::UnboundedSender<Input>,
    ) -> Self {
        Self {
            config,
            shared,
            events,
            inputs,
            signaling: None,
            signaling_task: None,
            welcomed: false,
            pending: None,
            room: None,
            peers: HashMap::new(),
            counter: 0,
        }
    }

    /// Connects to the signaling server and handles inputs until shutdown.
    pub(crate) async fn run(mut self, mut inputs: mpsc::UnboundedReceiver<Input>) {
        self.events
            .emit(|l| l.on_signaling_state(SignalingState::Connecting));
        self.events.flush();
        let tx = self.inputs.clone();
        let (client, task) = SignalingClient::spawn(
            self.config.signaling_url.clone(),
            Duration::from_millis(self.config.signaling_timeout_ms),
            move |event| {
                let _ = tx.send(Input::Signaling(event));
            },
        );
        self.signaling = Some(client);
        self.signaling_task = Some(task);
        while let Some(input) = inputs.recv().await {
            match input {
                Input::Command(Command::Shutdown(done)) => {
                    self.shutdown().await;
                    self.events.flush();
                    let _ = done.send(());
                    return;
                }
                Input::Command(command) => self.on_command(command).await,
                Input::Signaling(event) => self.on_signaling(event).await,
                Input::Peer {
                    peer_id,
                    generation,
                    event,
                } => self.on_peer_event(peer_id, generation, event).await,
                Input::RequestTimeout(token) => self.on_request_timeout(token),
                Input::PeerTimeout {
                    peer_id,
                    generation,
                } => self.on_peer_timeout(peer_id, generation).await,
            }
            self.publish();
            self.events.flush();
        }
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
            .filter(|p| p.state == PeerState::Connected)
            .count();
    }

    // ----- app commands -------------------------------------------------------------------

    async fn on_command(&mut self, command: Command) {
        match command {
            Command::CreateRoom(tx) => self.start_request(Reply::Create(tx)),
            Command::JoinRoom(code, tx) => self.start_request(Reply::Join(code, tx)),
            Command::LeaveRoom(tx) => self.leave_room(tx).await,
            Command::Send {
                id,
                text,
                sent_at_ms,
            } => self.send_chat(id, text, sent_at_ms),
            Command::Shutdown(_) => unreachable!("handled in run"),
        }
    }

    fn start_request(&mut self, reply: Reply) {
        if self.room.is_some() || self.pending.is_some() {
            reply.fail(EngineError::AlreadyInRoom);
            return;
        }
        if self.signaling.is_none() {
            reply.fail(EngineError::Signaling {
                reason: "not connected to the signaling server".into(),
            });
            return;
        }
        self.set_pending(reply);
        if self.welcomed {
            self.send_pending();
        }
    }

    /// Records the one room request in flight and arms its `signaling_timeout_ms` timer.
    fn set_pending(&mut self, reply: Reply) {
        let token = self.next_counter();
        let timeout = Duration::from_millis(self.config.signaling_timeout_ms);
        let inputs = self.inputs.clone();
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            let _ = inputs.send(Input::RequestTimeout(token));
        });
        self.pending = Some(Pending {
            token,
            reply,
            sent: false,
        });
    }

    fn send_pending(&mut self) {
        let name = self.config.display_name.clone();
        let Some(pending) = self.pending.as_mut() else {
            return;
        };
        if pending.sent {
            return;
        }
        let message = match &pending.reply {
            Reply::Create(_) => ClientMessage::CreateRoom { name },
            Reply::Join(code, _) => ClientMessage::JoinRoom {
                code: code.clone(),
                name,
            },
            Reply::Leave(_) => ClientMessage::LeaveRoom,
        };
        pending.sent = true;
        self.signal(message);
    }

    async fn leave_room(&mut self, tx: oneshot::Sender<Result<(), EngineError>>) {
        if self.room.is_none() {
            let _ = tx.send(Err(EngineError::NotInRoom));
            return;
        }
        self.room = None;
        for (_, entry) in self.peers.drain().collect::<Vec<_>>() {
            close_peer(&self.events, entry).await;
        }
        if self.welcomed && self.pending.is_none() {
            self.set_pending(Reply::Leave(tx));
            self.send_pending();
        } else {
            // The server already dropped us with the connection; leaving is local only.
            let _ = tx.send(Ok(()));
        }
    }

    fn send_chat(&mut self, id: String, text: String, sent_at_ms: u64) {
        let mut delivered_to_any = false;
        for (peer_id, entry) in &mut self.peers {
            let Some(link) = entry.link.as_ref() else {
                continue;
            };
            if entry.state != PeerState::Connected {
                continue;
            }
            let seq = entry.outbox.queue(&id);
            match chat::encode_message(&id, seq, sent_at_ms, &text) {
                Ok(frame) => {
                    delivered_to_any |= link.send(frame, Some(id.clone()));
                }
                Err(size) => {
                    entry.outbox.acked(&id);
                    let (id, peer_id) = (id.clone(), peer_id.clone());
                    self.events.emit(move |l| {
                        l.on_error(EngineError::MessageTooLarge {
                            size: size as u64,
                            max: chat::MAX_FRAME_BYTES as u64,
                        });
                        l.on_message_status(id, peer_id, MessageStatus::Failed);
                    });
                }
            }
        }
        if !delivered_to_any {
            // Every peer went away between the call's check and now.
            for peer_id in self.peers.keys().cloned() {
                let id = id.clone();
                self.events
                    .emit(move |l| l.on_message_status(id, peer_id, MessageStatus::Failed));
            }
            if self.peers.is_empty() {
                self.events
                    .emit(|l| l.on_error(EngineError::NoConnectedPeer));
            }
        }
    }

    fn on_request_timeout(&mut self, token: u64) {
        if self.pending.as_ref().is_some_and(|p| p.token == token) {
            let pending = self.pending.take().expect("checked");
            let operation = pending.reply.request_type().to_string();
            pending.reply.fail(EngineError::Timeout {
                operation,
                after_ms: self.config.signaling_timeout_ms,
            });
        }
    }

    async fn shutdown(&mut self) {
        if let Some(pending) = self.pending.take() {
            pending.reply.fail(EngineError::Shutdown);
        }
        for (_, entry) in self.peers.drain().collect::<Vec<_>>() {
            close_peer(&self.events, entry).await;
        }
        self.room = None;
        self.publish();
        // Dropping the last sender makes the signaling task send a WebSocket close frame, so the
        // server tells the room at once instead of after its idle timeout.
        self.signaling = None;
        if let Some(task) = self.signaling_task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(1), task).await;
        }
        if self.welcomed {
            self.events
                .emit(|l| l.on_signaling_state(SignalingState::Disconnected));
        }
    }

    fn signal(&self, message: ClientMessage) {
        if let Some(client) = &self.signaling {
            client.send(message);
        }
    }

    // ----- signaling ----------------------------------------------------------------------

    async fn on_signaling(&mut self, event: SignalingEvent) {
        match event {
            SignalingEvent::Message(message) => self.on_server_message(message).await,
            SignalingEvent::Closed(reason) => {
                tracing::info!(%reason, "signaling connection closed");
                self.signaling = None;
                let was_welcomed = std::mem::replace(&mut self.welcomed, false);
                self.shared.lock().expect("shared state lock").peer_id = None;
                if let Some(pending) = self.pending.take() {
                    pending.reply.fail(EngineError::Signaling {
                        reason: reason.clone(),
                    });
                }
                if was_welcomed {
                    self.events
                        .emit(|l| l.on_signaling_state(SignalingState::Disconnected));
                }
                // Open data channels keep working without the server.
                self.events
                    .emit(move |l| l.on_error(EngineError::Signaling { reason }));
            }
        }
    }

    async fn on_server_message(&mut self, message: ServerMessage) {
        match message {
            ServerMessage::Welcome { peer_id, .. } => {
                self.shared.lock().expect("shared state lock").peer_id = Some(peer_id);
                self.welcomed = true;
                self.events
                    .emit(|l| l.on_signaling_state(SignalingState::Connected));
                self.send_pending();
            }
            ServerMessage::RoomCreated { code, capacity } => {
                let Some(Pending {
                    reply: Reply::Create(tx),
                    ..
                }) = self.pending.take()
                else {
                    return;
                };
                self.room = Some(Room { code: code.clone() });
                let room = RoomInfo {
                    code,
                    capacity: capacity as u32,
                    members: Vec::new(),
                };
                self.publish();
                let event = room.clone();
                self.events.emit(move |l| l.on_room_created(event));
                let _ = tx.send(Ok(room));
            }
            ServerMessage::RoomJoined {
                code,
                capacity,
                members,
            } => {
                let Some(Pending {
                    reply: Reply::Join(_, tx),
                    ..
                }) = self.pending.take()
                else {
                    return;
                };
                self.room = Some(Room { code: code.clone() });
                let members: Vec<Peer> = members
                    .into_iter()
                    .map(|m| Peer {
                        peer_id: m.peer_id,
                        name: m.name,
                    })
                    .collect();
                let room = RoomInfo {
                    code,
                    capacity: capacity as u32,
                    members: members.clone(),
                };
                for member in &members {
                    self.add_peer(member.clone());
                }
                // The caller's getters must reflect the room once `join_room` returns.
                self.publish();
                let event = room.clone();
                self.events.emit(move |l| l.on_room_joined(event));
                let _ = tx.send(Ok(room));
                // The newcomer sends the offers (docs/protocol.md), so there is no glare.
                for member in members {
                    self.start_offer(&member.peer_id).await;
                }
            }
            ServerMessage::PeerJoined { peer, .. } => {
                let peer = Peer {
                    peer_id: peer.peer_id,
                    name: peer.name,
                };
                self.add_peer(peer.clone());
                self.events.emit(move |l| l.on_peer_joined(peer));
            }
            ServerMessage::PeerLeft {
                peer_id, reason, ..
            } => {
                if let Some(entry) = self.peers.remove(&peer_id) {
                    close_peer(&self.events, entry).await;
                    self.events.emit(move |l| l.on_peer_left(peer_id, reason));
                }
            }
            ServerMessage::RoomLeft { .. } => {
                if let Some(Pending {
                    reply: Reply::Leave(tx),
                    ..
                }) = self.pending.take()
                {
                    let _ = tx.send(Ok(()));
                }
            }
            ServerMessage::Offer {
                from,
                from_name,
                sdp,
            } => self.on_offer(from, from_name, sdp).await,
            ServerMessage::Answer { from, sdp, .. } => {
                let Some(entry) = self.peers.get_mut(&from) else {
                    return;
                };
                let Some(link) = entry.link.as_mut() else {
                    return;
                };
                if let Err(reason) = link.accept_answer(sdp).await {
                    self.fail_peer(&from, reason).await;
                }
            }
            ServerMessage::IceCandidate { from, candidate } => {
                if let Some(link) = self.peers.get_mut(&from).and_then(|e| e.link.as_mut()) {
                    link.add_remote_candidate(candidate).await;
                }
            }
            ServerMessage::Error {
                code,
                message,
                request,
            } => self.on_server_error(code, message, request),
            ServerMessage::LoggedIn { .. } | ServerMessage::LoggedOut { .. } => {}
            ServerMessage::Pong => {}
        }
    }

    fn on_server_error(&mut self, code: ErrorCode, message: String, request: Option<String>) {
        let matches_pending = self.pending.as_ref().is_some_and(|p| {
            p.sent
                && request
                    .as_deref()
                    .is_none_or(|r| r == p.reply.request_type())
        });
        let error = EngineError::Server { code, message };
        if matches_pending {
            let pending = self.pending.take().expect("checked");
            if matches!(pending.reply, Reply::Leave(_)) && code == ErrorCode::NotInRoom {
                // The server had already removed us (say, after a reconnect): left all the same.
                if let Reply::Leave(tx) = pending.reply {
                    let _ = tx.send(Ok(()));
                }
                return;
            }
            pending.reply.fail(error);
        } else {
            self.events.emit(move |l| l.on_error(error));
        }
    }

    // ----- peers --------------------------------------------------------------------------

    fn add_peer(&mut self, info: Peer) {
        self.peers
            .entry(info.peer_id.clone())
            .or_insert_with(|| PeerEntry {
                info,
                generation: 0,
                link: None,
                state: PeerState::Connecting,
                inbox: Inbox::default(),
                outbox: Outbox::default(),
            });
    }

    /// Builds a fresh peer connection for `peer_id` (closing any previous one) and arms the
    /// connect timeout.
    async fn new_link(&mut self, peer_id: &str, offerer: bool) -> Option<()> {
        let generation = self.next_counter();
        let inputs = self.inputs.clone();
        let id = peer_id.to_string();
        let report = Arc::new(move |event| {
            let _ = inputs.send(Input::Peer {
                peer_id: id.clone(),
                generation,
                event,
            });
        });
        let link = match PeerConnectionLink::new(&self.config, offerer, report).await {
            Ok(link) => link,
            Err(reason) => {
                self.fail_peer(peer_id, reason).await;
                return None;
            }
        };
        let entry = self.peers.get_mut(peer_id)?;
        if let Some(old) = entry.link.replace(link) {
            old.close().await;
        }
        entry.generation = generation;
        entry.state = PeerState::Connecting;
        let peer = peer_id.to_string();
        self.events
            .emit(move |l| l.on_peer_state(peer, PeerState::Connecting));
        let timeout = Duration::from_millis(self.config.peer_connect_timeout_ms);
        let inputs = self.inputs.clone();
        let peer_id = peer_id.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            let _ = inputs.send(Input::PeerTimeout {
                peer_id,
                generation,
            });
        });
        Some(())
    }

    async fn start_offer(&mut self, peer_id: &str) {
        if self.new_link(peer_id, true).await.is_none() {
            return;
        }
        let link = self.peers[peer_id].link.as_ref().expect("just set");
        match link.create_offer().await {
            Ok(sdp) => self.signal(ClientMessage::Offer {
                to: Some(peer_id.to_string()),
                to_login: None,
                sdp,
            }),
            Err(reason) => self.fail_peer(peer_id, reason).await,
        }
    }

    async fn on_offer(&mut self, from: String, from_name: String, sdp: String) {
        if self.room.is_none() {
            return;
        }
        self.add_peer(Peer {
            peer_id: from.clone(),
            name: from_name,
        });
        if self.new_link(&from, false).await.is_none() {
            return;
        }
        let link = self
            .peers
            .get_mut(&from)
            .and_then(|e| e.link.as_mut())
            .expect("just set");
        match link.accept_offer(sdp).await {
            Ok(answer) => self.signal(ClientMessage::Answer {
                to: Some(from),
                to_login: None,
                sdp: answer,
            }),
            Err(reason) => self.fail_peer(&from, reason).await,
        }
    }

    async fn fail_peer(&mut self, peer_id: &str, reason: String) {
        let Some(entry) = self.peers.get_mut(peer_id) else {
            return;
        };
        entry.state = PeerState::Failed;
        let unacked = entry.outbox.drain_unacked();
        if let Some(link) = entry.link.take() {
            link.close().await;
        }
        let peer = peer_id.to_string();
        self.events.emit(move |l| {
            for id in unacked {
                l.on_message_status(id, peer.clone(), MessageStatus::Failed);
            }
            l.on_peer_state(peer.clone(), PeerState::Failed);
            l.on_error(EngineError::WebRtc {
                peer_id: peer,
                reason,
            });
        });
    }

    async fn on_peer_timeout(&mut self, peer_id: String, generation: u64) {
        let Some(entry) = self.peers.get(&peer_id) else {
            return;
        };
        if entry.generation != generation || entry.state != PeerState::Connecting {
            return;
        }
        let after_ms = self.config.peer_connect_timeout_ms;
        self.fail_peer(
            &peer_id,
            format!("no open data channel after {after_ms} ms"),
        )
        .await;
    }

    async fn on_peer_event(&mut self, peer_id: String, generation: u64, event: PeerEvent) {
        let Some(entry) = self.peers.get_mut(&peer_id) else {
            return;
        };
        if entry.generation != generation || entry.link.is_none() {
            return;
        }
        match event {
            PeerEvent::LocalCandidate(candidate) => self.signal(ClientMessage::IceCandidate {
                to: Some(peer_id),
                to_login: None,
                candidate,
            }),
            PeerEvent::ConnectionState(state) => match state {
                RTCPeerConnectionState::Failed => {
                    self.fail_peer(&peer_id, "ICE/DTLS connection failed".into())
                        .await
                }
                RTCPeerConnectionState::Disconnected if entry.state == PeerState::Connected => {
                    entry.state = PeerState::Disconnected;
                    self.events
                        .emit(move |l| l.on_peer_state(peer_id, PeerState::Disconnected));
                }
                _ => {}
            },
            PeerEvent::ChannelOpen => {
                entry.state = PeerState::Connected;
                let hello = chat::encode(&Frame::Hello {
                    name: self.config.display_name.clone(),
                    version: chat::CHAT_PROTOCOL_VERSION,
                });
                entry.link.as_ref().expect("checked").send(hello, None);
                self.events
                    .emit(move |l| l.on_peer_state(peer_id, PeerState::Connected));
            }
            PeerEvent::Frame(bytes) => self.on_frame(peer_id, &bytes),
            PeerEvent::FrameSent(id) => {
                if entry.outbox.sent(&id) == StatusChange::Sent {
                    self.events
                        .emit(move |l| l.on_message_status(id, peer_id, MessageStatus::Sent));
                }
            }
            PeerEvent::ChannelClosed => {
                if matches!(entry.state, PeerState::Connected | PeerState::Disconnected) {
                    entry.state = PeerState::Disconnected;
                    let unacked = entry.outbox.drain_unacked();
                    self.events.emit(move |l| {
                        for id in unacked {
                            l.on_message_status(id, peer_id.clone(), MessageStatus::Failed);
                        }
                        l.on_peer_state(peer_id, PeerState::Disconnected);
                    });
                }
            }
            PeerEvent::Error(reason) => {
                self.events
                    .emit(move |l| l.on_error(EngineError::WebRtc { peer_id, reason }));
            }
        }
    }

    fn on_frame(&mut self, peer_id: String, bytes: &[u8]) {
        let entry = self.peers.get_mut(&peer_id).expect("caller checked");
        match chat::decode(bytes) {
            Ok(Decoded::Frame(Frame::Message {
                id,
                seq,
                sent_at_ms,
                text,
            })) => {
                // Acknowledge every copy, so the sender's status converges after a resend.
                if let Some(link) = entry.link.as_ref() {
                    link.send(chat::encode(&Frame::Ack { id: id.clone() }), None);
                }
                if entry.inbox.accept(&id) {
                    let message = ChatMessage {
                        id,
                        peer_id,
                        sender_name: entry.info.name.clone(),
                        text,
                        sent_at_ms,
                        seq,
                    };
                    self.events.emit(move |l| l.on_message(message));
                }
            }
            Ok(Decoded::Frame(Frame::Ack { id })) => match entry.outbox.acked(&id) {
                StatusChange::Delivered => self
                    .events
                    .emit(move |l| l.on_message_status(id, peer_id, MessageStatus::Delivered)),
                StatusChange::SentAndDelivered => self.events.emit(move |l| {
                    l.on_message_status(id.clone(), peer_id.clone(), MessageStatus::Sent);
                    l.on_message_status(id, peer_id, MessageStatus::Delivered);
                }),
                StatusChange::Sent | StatusChange::None => {}
            },
            Ok(Decoded::Frame(Frame::Hello { name, .. })) => {
                if entry.info.name.is_empty() {
                    entry.info.name = name;
                }
            }
            Ok(Decoded::Unknown(kind)) => {
                tracing::debug!(%kind, "ignoring chat frame of unknown type");
            }
            Err(err) => {
                let reason = err.to_string();
                self.events
                    .emit(move |l| l.on_error(EngineError::PeerProtocol { peer_id, reason }));
            }
        }
    }
}

/// Closes a peer's connection and reports its unacknowledged messages as failed.
async fn close_peer(events: &Dispatcher, mut entry: PeerEntry) {
    if let Some(link) = entry.link.take() {
        link.close().await;
    }
    let unacked = entry.outbox.drain_unacked();
    let peer_id = entry.info.peer_id;
    if !unacked.is_empty() {
        events.emit(move |l| {
            for id in unacked {
                l.on_message_status(id, peer_id.clone(), MessageStatus::Failed);
            }
        });
    }
}
