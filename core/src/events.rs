//! [`EngineEvent`]: the listener callbacks as one enum on a channel, for async Rust apps, the
//! CLI and tests (`while let Some(event) = rx.recv().await`).

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::error::EngineError;
use crate::listener::{
    ChatMessage, EngineListener, LeaveReason, MessageStatus, Peer, PeerState, RoomInfo,
    SignalingState,
};

/// One listener callback, as a value. Variants mirror [`EngineListener`]'s methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineEvent {
    /// [`EngineListener::on_signaling_state`].
    SignalingState(SignalingState),
    /// [`EngineListener::on_room_created`].
    RoomCreated(RoomInfo),
    /// [`EngineListener::on_room_joined`].
    RoomJoined(RoomInfo),
    /// [`EngineListener::on_peer_joined`].
    PeerJoined(Peer),
    /// [`EngineListener::on_peer_state`].
    PeerState {
        /// The peer.
        peer_id: String,
        /// Its new state.
        state: PeerState,
    },
    /// [`EngineListener::on_peer_left`].
    PeerLeft {
        /// The peer.
        peer_id: String,
        /// Why.
        reason: LeaveReason,
    },
    /// [`EngineListener::on_peer_interrupted`].
    PeerInterrupted(String),
    /// [`EngineListener::on_peer_resumed`].
    PeerResumed(String),
    /// [`EngineListener::on_message`].
    Message(ChatMessage),
    /// [`EngineListener::on_message_status`].
    MessageStatus {
        /// The message.
        message_id: String,
        /// The receiving peer.
        peer_id: String,
        /// Its new status.
        status: MessageStatus,
    },
    /// [`EngineListener::on_history_message`].
    HistoryMessage(ChatMessage),
    /// [`EngineListener::on_error`].
    Error(EngineError),
}

/// A listener that forwards every callback, in order, to an unbounded tokio channel.
pub struct ChannelListener {
    tx: mpsc::UnboundedSender<EngineEvent>,
}

impl ChannelListener {
    /// A listener and the receiving end of its channel. Events sent after the receiver is
    /// dropped are discarded.
    pub fn new() -> (Arc<Self>, mpsc::UnboundedReceiver<EngineEvent>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Arc::new(Self { tx }), rx)
    }

    fn forward(&self, event: EngineEvent) {
        let _ = self.tx.send(event);
    }
}

impl EngineListener for ChannelListener {
    fn on_signaling_state(&self, state: SignalingState) {
        self.forward(EngineEvent::SignalingState(state));
    }
    fn on_room_created(&self, room: RoomInfo) {
        self.forward(EngineEvent::RoomCreated(room));
    }
    fn on_room_joined(&self, room: RoomInfo) {
        self.forward(EngineEvent::RoomJoined(room));
    }
    fn on_peer_joined(&self, peer: Peer) {
        self.forward(EngineEvent::PeerJoined(peer));
    }
    fn on_peer_state(&self, peer_id: String, state: PeerState) {
        self.forward(EngineEvent::PeerState { peer_id, state });
    }
    fn on_peer_left(&self, peer_id: String, reason: LeaveReason) {
        self.forward(EngineEvent::PeerLeft { peer_id, reason });
    }
    fn on_peer_interrupted(&self, peer_id: String) {
        self.forward(EngineEvent::PeerInterrupted(peer_id));
    }
    fn on_peer_resumed(&self, peer_id: String) {
        self.forward(EngineEvent::PeerResumed(peer_id));
    }
    fn on_message(&self, message: ChatMessage) {
        self.forward(EngineEvent::Message(message));
    }
    fn on_message_status(&self, message_id: String, peer_id: String, status: MessageStatus) {
        self.forward(EngineEvent::MessageStatus {
            message_id,
            peer_id,
            status,
        });
    }
    fn on_history_message(&self, message: ChatMessage) {
        self.forward(EngineEvent::HistoryMessage(message));
    }
    fn on_error(&self, error: EngineError) {
        self.forward(EngineEvent::Error(error));
    }
}
