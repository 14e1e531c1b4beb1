//! Handling peers: building peer connections, SDP offer/answer (including ICE restarts and
//! renegotiation), running each peer's state machine (`crate::peer_state`), its outbox
//! (`crate::outbox`), peer connection events and chat frames.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use webrtc::peer_connection::RTCPeerConnectionState;

use super::{Actor, Input, PeerEntry};
use crate::chat::{self, Decoded, Frame, Inbox};
use crate::dispatch::Dispatcher;
use crate::error::EngineError;
use crate::listener::{ChatMessage, MessageStatus, Peer, PeerState};
use crate::outbox::{Outbox, OutboxError};
use crate::peer::{OfferPolicy, PeerConnectionLink, PeerEvent, polite};
use crate::peer_state::{Bounds, Effect, OFFER_ANSWER_TIMEOUT_MS, PeerInput, PeerMachine, Timer};
use crate::protocol::ClientMessage;

/// Inputs of the peers' supervision: timers, and the signaling session coming back.
#[derive(Debug)]
pub(crate) enum PeerInputs {
    /// A timer of a peer's state machine expired.
    Timer {
        peer_id: String,
        timer: Timer,
        token: u64,
    },
    /// The outbox expiry timer with this token expired.
    OutboxExpiry(u64),
    /// The signaling session is usable again: restarts skipped meanwhile can go out.
    SignalingReady,
}

/// The engine clock for outbox deadlines and the armed expiry timer.
#[derive(Debug)]
pub(crate) struct Supervision {
    epoch: tokio::time::Instant,
    /// `(deadline_ms, token)` of the armed outbox expiry timer.
    expiry: Option<(u64, u64)>,
    next_token: u64,
    /// Signaling sessions so far, and when the current one became ready.
    signaling_epoch: u64,
    signaling_since: tokio::time::Instant,
}

impl Default for Supervision {
    fn default() -> Self {
        Self {
            epoch: tokio::time::Instant::now(),
            expiry: None,
            next_token: 0,
            signaling_epoch: 0,
            signaling_since: tokio::time::Instant::now(),
        }
    }
}

impl Supervision {
    pub(super) fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }
}

/// Closes a peer's connection for good (it left, or we did): reports `Closed` (once) and its
/// unacknowledged messages `Failed`, in send order. Returns the ids reported `Failed`, for the
/// history store.
pub(super) async fn close_peer(events: &Dispatcher, mut entry: PeerEntry) -> Vec<String> {
    let peer_id = entry.info.peer_id.clone();
    let mut failed = Vec::new();
    for effect in entry.machine.handle(PeerInput::Left) {
        match effect {
            Effect::Report(state) => {
                let peer = peer_id.clone();
                events.emit(move |l| l.on_peer_state(peer, state));
            }
            Effect::FailOutbox => {
                failed = entry.outbox.drain();
                emit_failed(events, &peer_id, failed.clone());
            }
            Effect::Release => {}
            _ => {}
        }
    }
    if let Some(link) = entry.link.take() {
        link.close().await;
    }
    failed
}

fn emit_failed(events: &Dispatcher, peer_id: &str, ids: Vec<String>) {
    if ids.is_empty() {
        return;
    }
    let peer = peer_id.to_string();
    events.emit(move |l| {
        for id in ids {
            l.on_message_status(id, peer.clone(), MessageStatus::Failed);
        }
    });
}

impl Actor {
    /// Adds a peer the server knows as `info.peer_id`, unless a peer already has that
    /// signaling id (say, one that announced it on its data channel).
    pub(super) fn add_peer(&mut self, info: Peer) {
        if self.key_of(&info.peer_id).is_some() {
            return;
        }
        let bounds = Bounds::new(self.config.peer_connect_timeout_ms);
        let outbox = Outbox::new(self.config.max_outbox_messages, self.config.message_ttl_ms);
        let key = info.peer_id.clone();
        self.peers
            .entry(info.peer_id.clone())
            .or_insert_with(|| PeerEntry {
                signaling_id: info.peer_id.clone(),
                info,
                stale: false,
                generation: 0,
                link: None,
                machine: PeerMachine::new(false, bounds),
                inbox: Inbox::default(),
                outbox,
                sync: Default::default(),
            });
        // Messages saved unacknowledged before a restart (`history.rs`).
        self.restore_into(&key);
    }

    /// Builds a fresh peer connection for `peer_id`, closing any previous one. Its events
    /// carry a new generation, so late events of the old one are ignored.
    async fn new_link(&mut self, peer_id: &str, offerer: bool) -> bool {
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
        let built = PeerConnectionLink::new(&self.config, offerer, report).await;
        let Some(entry) = self.peers.get_mut(peer_id) else {
            if let Ok(link) = built {
                link.close().await;
            }
            return false;
        };
        entry.generation = generation;
        if let Some(old) = entry.link.take() {
            old.close().await;
        }
        match built {
            Ok(link) => {
                entry.link = Some(link);
                self.drive(peer_id, PeerInput::AttemptStarted).await;
                true
            }
            Err(reason) => {
                self.report_webrtc_error(peer_id, reason);
                self.drive(peer_id, PeerInput::AttemptStarted).await;
                self.drive(peer_id, PeerInput::ConnectionLost).await;
                false
            }
        }
    }

    /// Builds a fresh peer connection to `peer_id` and sends it an SDP offer: the first setup
    /// (we joined last), a setup retry, or a recovery by a fresh connection.
    pub(super) async fn start_offer(&mut self, peer_id: &str) {
        let Some(entry) = self.peers.get_mut(peer_id) else {
            return;
        };
        entry.machine.set_initiator(true);
        if !self.new_link(peer_id, true).await {
            return;
        }
        let entry = self.peers.get_mut(peer_id).expect("just built");
        let to = entry.signaling_id.clone();
        match entry
            .link
            .as_mut()
            .expect("just built")
            .create_offer()
            .await
        {
            Ok(sdp) => self.signal(ClientMessage::Offer {
                to: Some(to),
                to_login: None,
                sdp,
            }),
            Err(reason) => {
                self.report_webrtc_error(peer_id, reason);
                self.drive(peer_id, PeerInput::ConnectionLost).await;
            }
        }
    }

    /// An SDP offer from `from`: a new peer, a fresh connection of a known peer (a new SDP
    /// session), or a renegotiation of the current one (an ICE restart), which is applied to
    /// the existing connection so its data channel survives. Glare is settled by the W3C
    /// "perfect negotiation" roles (`crate::peer::polite`).
    pub(super) async fn on_offer(&mut self, from: String, from_name: String, sdp: String) {
        if self.room.is_none() {
            return;
        }
        let key = match self.key_of(&from) {
            Some(key) => key,
            None => {
                let newcomer = Peer {
                    peer_id: from.clone(),
                    name: from_name,
                };
                self.add_peer(newcomer.clone());
                if self.unidentified.remove(&from).is_some() {
                    // It offered: a new peer, not one of ours on a new session.
                    self.events.emit(move |l| l.on_peer_joined(newcomer));
                }
                from.clone()
            }
        };
        let own_id = self
            .shared
            .lock()
            .expect("shared state lock")
            .peer_id
            .clone()
            .unwrap_or_default();
        let entry = self.peers.get_mut(&key).expect("added");
        let renegotiation = entry.link.as_ref().is_some_and(|l| l.renegotiates(&sdp));
        tracing::debug!(peer = %key, renegotiation, glare = entry.link.as_ref().is_some_and(|l| l.have_local_offer()), "offer");
        if renegotiation {
            let link = entry.link.as_mut().expect("checked");
            if link.have_local_offer() && !polite(&own_id, &entry.signaling_id) {
                // The polite peer answers ours once it has it; send it again, since a collision
                // also happens when ours was lost on the way (a copy is answered harmlessly).
                tracing::debug!(peer = %key, "offer collision: impolite, ignoring theirs");
                let to = entry.signaling_id.clone();
                if let Some(sdp) = link.outstanding_offer() {
                    self.signal(ClientMessage::Offer {
                        to: Some(to),
                        to_login: None,
                        sdp,
                    });
                }
                return;
            }
            match link.accept_offer(sdp).await {
                Ok(answer) => {
                    link.expect_reconnect();
                    self.signal(ClientMessage::Answer {
                        to: Some(from),
                        to_login: None,
                        sdp: answer,
                    })
                }
                Err(reason) => {
                    self.report_webrtc_error(&key, reason);
                    self.drive(&key, PeerInput::ConnectionLost).await;
                }
            }
            return;
        }
        if entry.machine.initiator()
            && entry
                .link
                .as_ref()
                .is_some_and(|l| l.have_local_offer() && !l.has_remote_description())
        {
            // We are replacing the connection with a fresh one and our offer is on its way:
            // this offer is for the connection we gave up (an ICE restart of it, sent before
            // the peer saw ours). The peer answers ours; ignore it.
            tracing::debug!(peer = %key, "offer for an abandoned connection ignored");
            return;
        }
        if entry.link.is_some() || entry.machine.state() == PeerState::Failed {
            self.drive(&key, PeerInput::RemoteReplaced).await;
        }
        if let Some(entry) = self.peers.get_mut(&key) {
            entry.machine.set_initiator(false);
        }
        if !self.new_link(&key, false).await {
            return;
        }
        let link = self
            .peers
            .get_mut(&key)
            .and_then(|e| e.link.as_mut())
            .expect("just built");
        match link.accept_offer(sdp).await {
            Ok(answer) => self.signal(ClientMessage::Answer {
                to: Some(from),
                to_login: None,
                sdp: answer,
            }),
            Err(reason) => {
                self.report_webrtc_error(&key, reason);
                self.drive(&key, PeerInput::ConnectionLost).await;
            }
        }
    }

    /// An SDP answer from `from` to our offer (first setup, retry, or ICE restart). An answer
    /// that matches no offer of ours (a late one for a connection since replaced) is ignored.
    pub(super) async fn on_answer(&mut self, from: String, sdp: String) {
        let Some(key) = self.key_of(&from) else {
            return;
        };
        let Some(link) = self.peers.get_mut(&key).and_then(|e| e.link.as_mut()) else {
            return;
        };
        if !link.have_local_offer() {
            tracing::debug!(peer = %key, "answer with no offer outstanding ignored");
            return;
        }
        tracing::debug!(peer = %key, "answer");
        if let Err(reason) = link.accept_answer(sdp).await {
            self.report_webrtc_error(&key, reason);
            self.drive(&key, PeerInput::ConnectionLost).await;
        }
    }

    /// The app reported a network change (`Engine::network_changed`; the seam for the
    /// lifecycle code): every peer restarts ICE at once with its sockets rebound, so the new
    /// local address is gathered; a setup in progress starts a fresh attempt.
    pub(super) async fn network_changed(&mut self) {
        for key in self.peer_keys() {
            self.drive(&key, PeerInput::NetworkChanged).await;
        }
    }

    /// Keys of every peer, sorted (a stable order for effects and events).
    pub(super) fn peer_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.peers.keys().cloned().collect();
        keys.sort();
        keys
    }

    pub(super) async fn on_peers_input(&mut self, input: PeerInputs) {
        match input {
            PeerInputs::Timer {
                peer_id,
                timer,
                token,
            } => self.drive(&peer_id, PeerInput::Timer(timer, token)).await,
            PeerInputs::OutboxExpiry(token) => self.on_outbox_expiry(token).await,
            PeerInputs::SignalingReady => {
                for key in self.peer_keys() {
                    self.drive(&key, PeerInput::SignalingReady).await;
                }
            }
        }
    }

    /// Tells the peers' supervision that the signaling session is usable again (called when
    /// a session is established or resumed).
    pub(super) fn signaling_ready(&mut self) {
        self.supervision.signaling_epoch += 1;
        self.supervision.signaling_since = tokio::time::Instant::now();
        let _ = self.inputs.send(Input::Peers(PeerInputs::SignalingReady));
    }

    /// Feeds `input` to a peer's state machine and runs the effects, and those of the inputs
    /// the effects produce, in order.
    async fn drive(&mut self, peer_id: &str, input: PeerInput) {
        let mut queue = VecDeque::from([input]);
        while let Some(input) = queue.pop_front() {
            let Some(entry) = self.peers.get_mut(peer_id) else {
                return;
            };
            let before = entry.machine.state();
            let effects = entry.machine.handle(input);
            tracing::debug!(peer = %peer_id, ?before, ?input, ?effects, "peer machine");
            for effect in effects {
                if let Some(next) = self.run_effect(peer_id, effect).await {
                    queue.push_back(next);
                }
            }
        }
    }

    async fn run_effect(&mut self, peer_id: &str, effect: Effect) -> Option<PeerInput> {
        match effect {
            Effect::Report(state) => {
                let peer = peer_id.to_string();
                self.events.emit(move |l| l.on_peer_state(peer, state));
            }
            Effect::Arm { timer, ms, token } => {
                let inputs = self.inputs.clone();
                let peer_id = peer_id.to_string();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    let _ = inputs.send(Input::Peers(PeerInputs::Timer {
                        peer_id,
                        timer,
                        token,
                    }));
                });
            }
            Effect::RestartIce => return self.restart_ice(peer_id).await,
            Effect::Reconnect => {
                if !self.welcomed {
                    // The offer would wait in the signaling backlog and go stale; the machine
                    // reconnects on `SignalingReady`.
                    return None;
                }
                // `start_offer` feeds the new attempt to the machine itself.
                Box::pin(self.start_offer(peer_id)).await;
            }
            Effect::FlushOutbox => self.flush_outbox(peer_id),
            Effect::FailOutbox => {
                let entry = self.peers.get_mut(peer_id)?;
                let ids = entry.outbox.drain();
                emit_failed(&self.events, peer_id, ids.clone());
                self.record_failed(peer_id, ids).await;
            }
            Effect::Release => {
                let entry = self.peers.get_mut(peer_id)?;
                if let Some(link) = entry.link.take() {
                    link.close().await;
                }
            }
        }
        None
    }

    /// Restarts ICE on the peer's connection and signals the offer. Skipped while signaling is
    /// down (the machine restarts on `SignalingReady`) or while an offer of ours is
    /// outstanding (its attempt timer tries again).
    async fn restart_ice(&mut self, peer_id: &str) -> Option<PeerInput> {
        if !self.welcomed {
            return None;
        }
        let entry = self.peers.get_mut(peer_id)?;
        let to = entry.signaling_id.clone();
        let link = entry.link.as_mut()?;
        let policy = OfferPolicy {
            epoch: self.supervision.signaling_epoch,
            answer_wait: Duration::from_millis(OFFER_ANSWER_TIMEOUT_MS),
        };
        match link.restart_ice(policy).await {
            Ok(Some(sdp)) => {
                tracing::debug!(peer = %peer_id, "ICE restart offer");
                self.signal(ClientMessage::Offer {
                    to: Some(to),
                    to_login: None,
                    sdp,
                });
                None
            }
            Ok(None) => None,
            Err(reason) => {
                self.report_webrtc_error(peer_id, reason);
                Some(PeerInput::ConnectionLost)
            }
        }
    }

    fn report_webrtc_error(&self, peer_id: &str, reason: String) {
        let peer_id = peer_id.to_string();
        self.events
            .emit(move |l| l.on_error(EngineError::WebRtc { peer_id, reason }));
    }

    /// Writes what the peer's current connection has not carried yet, if it is `Connected`.
    pub(super) fn flush_outbox(&mut self, peer_id: &str) {
        let Some(entry) = self.peers.get_mut(peer_id) else {
            return;
        };
        if !entry.machine.writable() {
            return;
        }
        let Some(link) = entry.link.as_ref() else {
            return;
        };
        for (id, frame) in entry.outbox.take_unwritten(entry.generation) {
            link.send(frame.to_string(), Some(id));
        }
    }

    /// Queues a chat message for every peer of the room that is not gone, and writes it to
    /// those that are `Connected`; the others get it when they are (ICE restart or a fresh
    /// connection).
    pub(super) async fn queue_message(&mut self, id: String, text: String, sent_at_ms: u64) {
        {
            let mut shared = self.shared.lock().expect("shared state lock");
            shared.sends_in_flight = shared.sends_in_flight.saturating_sub(1);
        }
        let now_ms = self.supervision.now_ms();
        let mut addressed = false;
        let recipients: Vec<String> = self
            .peer_keys()
            .into_iter()
            .filter(|k| self.peers[k].machine.live())
            .collect();
        if !recipients.is_empty() {
            self.record_outgoing(&id, &text, sent_at_ms, recipients)
                .await;
        }
        for key in self.peer_keys() {
            let entry = self.peers.get_mut(&key).expect("listed");
            if !entry.machine.live() {
                continue;
            }
            addressed = true;
            match entry.outbox.push(&id, sent_at_ms, &text, now_ms) {
                Ok(_) => self.flush_outbox(&key),
                Err(error) => {
                    let error = match error {
                        OutboxError::Full { max } => EngineError::OutboxFull { max: max as u64 },
                        OutboxError::TooLarge(size) => EngineError::MessageTooLarge {
                            size: size as u64,
                            max: chat::MAX_FRAME_BYTES as u64,
                        },
                    };
                    self.record_failed(&key, vec![id.clone()]).await;
                    let id = id.clone();
                    self.events.emit(move |l| {
                        l.on_error(error);
                        l.on_message_status(id, key, MessageStatus::Failed);
                    });
                }
            }
        }
        if !addressed {
            // Every peer went away between the call's check and now.
            self.events
                .emit(|l| l.on_error(EngineError::NoConnectedPeer));
        }
        self.arm_outbox_expiry();
    }

    /// Arms the outbox expiry timer for the earliest deadline, if it is not armed for it yet.
    pub(super) fn arm_outbox_expiry(&mut self) {
        let Some(deadline) = self
            .peers
            .values()
            .filter_map(|e| e.outbox.next_expiry_ms())
            .min()
        else {
            return;
        };
        if self
            .supervision
            .expiry
            .is_some_and(|(armed, _)| armed <= deadline)
        {
            return;
        }
        self.supervision.next_token += 1;
        let token = self.supervision.next_token;
        self.supervision.expiry = Some((deadline, token));
        let wait = deadline.saturating_sub(self.supervision.now_ms());
        let inputs = self.inputs.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(wait)).await;
            let _ = inputs.send(Input::Peers(PeerInputs::OutboxExpiry(token)));
        });
    }

    /// Messages whose `message_ttl_ms` ran out are `Failed` (in send order, per peer).
    async fn on_outbox_expiry(&mut self, token: u64) {
        if self.supervision.expiry.map(|(_, t)| t) != Some(token) {
            return;
        }
        self.supervision.expiry = None;
        let now_ms = self.supervision.now_ms();
        for key in self.peer_keys() {
            let entry = self.peers.get_mut(&key).expect("listed");
            let expired = entry.outbox.expire(now_ms);
            emit_failed(&self.events, &key, expired.clone());
            self.record_failed(&key, expired).await;
        }
        self.arm_outbox_expiry();
    }

    pub(super) async fn on_peer_event(
        &mut self,
        peer_id: String,
        generation: u64,
        event: PeerEvent,
    ) {
        let Some(entry) = self.peers.get_mut(&peer_id) else {
            return;
        };
        if entry.generation != generation || entry.link.is_none() {
            return;
        }
        match event {
            PeerEvent::LocalCandidate(candidate) => {
                let to = entry.signaling_id.clone();
                self.signal(ClientMessage::IceCandidate {
                    to: Some(to),
                    to_login: None,
                    candidate,
                })
            }
            PeerEvent::ConnectionState(state) => {
                let input = match state {
                    RTCPeerConnectionState::Connected => PeerInput::IceConnected,
                    // ICE lost consent (RFC 7675).
                    RTCPeerConnectionState::Disconnected => PeerInput::IceDisconnected,
                    RTCPeerConnectionState::Failed => PeerInput::IceFailed,
                    _ => return,
                };
                self.drive(&peer_id, input).await;
            }
            PeerEvent::ChannelOpen => {
                let hello = chat::encode(&Frame::Hello {
                    name: self.config.display_name.clone(),
                    version: chat::CHAT_PROTOCOL_VERSION,
                });
                entry.link.as_ref().expect("checked").send(hello, None);
                self.drive(&peer_id, PeerInput::ChannelOpen).await;
                // History sync (`sync.rs`): ask for what we miss.
                self.request_sync(&peer_id).await;
            }
            PeerEvent::Frame(bytes) => self.on_frame(peer_id, &bytes).await,
            PeerEvent::BinaryFrame(size) => {
                let reason = chat::FrameError::Binary { size }.to_string();
                self.events
                    .emit(move |l| l.on_error(EngineError::PeerProtocol { peer_id, reason }));
            }
            PeerEvent::IceConnected => {
                let link = entry.link.as_mut().expect("checked");
                if link.take_path_probe() {
                    tracing::debug!(peer = %peer_id, "ICE reconnected: path probes");
                    link.send_path_probes();
                }
                self.drive(&peer_id, PeerInput::IceConnected).await
            }
            PeerEvent::FrameSent(id) => {
                if entry.outbox.sent(&id) {
                    self.record_status(&id, &peer_id, MessageStatus::Sent).await;
                    self.events
                        .emit(move |l| l.on_message_status(id, peer_id, MessageStatus::Sent));
                }
            }
            // Nothing more can travel on this connection.
            PeerEvent::ChannelClosed | PeerEvent::DriverStopped => {
                self.drive(&peer_id, PeerInput::ConnectionLost).await;
            }
            PeerEvent::Error(reason) => {
                self.events
                    .emit(move |l| l.on_error(EngineError::WebRtc { peer_id, reason }));
            }
        }
    }

    pub(super) async fn on_frame(&mut self, peer_id: String, bytes: &[u8]) {
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
                    link.send_receipt(chat::encode(&Frame::Ack { id: id.clone() }));
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
                    // Shown once saved, unless history had it already (`history.rs`).
                    self.record_incoming(message).await;
                }
            }
            Ok(Decoded::Frame(Frame::Ack { id })) => {
                let changes = entry.outbox.acked(&id);
                for status in &changes {
                    self.record_status(&id, &peer_id, *status).await;
                }
                if changes.is_empty() {
                    // Not in the outbox: an ack of a `sync_message` (history sync), or a late
                    // repeat. The history records the peer has it (a status never goes back).
                    self.record_status(&id, &peer_id, MessageStatus::Delivered)
                        .await;
                }
                if !changes.is_empty() {
                    self.events.emit(move |l| {
                        for status in changes {
                            l.on_message_status(id.clone(), peer_id.clone(), status);
                        }
                    });
                }
            }
            // Shown names come from the signaling server (validated there); a peer's own
            // `hello.name` could claim anyone's (docs/protocol.md, "Which name is shown").
            Ok(Decoded::Frame(Frame::Hello { .. })) => {}
            // Path probes only make SCTP retransmit (chat::Frame::Probe).
            Ok(Decoded::Frame(Frame::Probe { .. })) => {}
            Ok(Decoded::Frame(Frame::PeerId { peer_id: new_id })) => {
                self.on_peer_id_announced(&peer_id, new_id).await;
            }
            Ok(Decoded::Frame(Frame::SyncRequest { ids })) => {
                self.on_sync_request(&peer_id, ids).await;
            }
            Ok(Decoded::Frame(Frame::SyncMessage {
                id,
                sent_at_ms,
                text,
            })) => self.on_sync_message(peer_id, id, sent_at_ms, text).await,
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
