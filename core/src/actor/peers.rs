//! Handling peers: building peer connections, SDP offer/answer, the connect timeout, peer
//! connection events and chat frames.

use std::sync::Arc;
use std::time::Duration;

use webrtc::peer_connection::RTCPeerConnectionState;

use super::{Actor, Input, PeerEntry};
use crate::chat::{self, Decoded, Frame, Inbox, Outbox, StatusChange};
use crate::error::EngineError;
use crate::listener::{ChatMessage, MessageStatus, Peer, PeerState};
use crate::peer::{PeerConnectionLink, PeerEvent};
use crate::protocol::ClientMessage;

impl Actor {
    /// Adds a peer the server knows as `info.peer_id`, unless a peer already has that
    /// signaling id (say, one that announced it on its data channel).
    pub(super) fn add_peer(&mut self, info: Peer) {
        if self.key_of(&info.peer_id).is_some() {
            return;
        }
        self.peers
            .entry(info.peer_id.clone())
            .or_insert_with(|| PeerEntry {
                signaling_id: info.peer_id.clone(),
                info,
                stale: false,
                generation: 0,
                link: None,
                state: PeerState::Connecting,
                inbox: Inbox::default(),
                outbox: Outbox::default(),
            });
    }

    /// Builds a fresh peer connection for `peer_id` (closing any previous one) and arms the
    /// connect timeout.
    pub(super) async fn new_link(&mut self, peer_id: &str, offerer: bool) -> Option<()> {
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

    pub(super) async fn start_offer(&mut self, peer_id: &str) {
        if self.new_link(peer_id, true).await.is_none() {
            return;
        }
        let entry = &self.peers[peer_id];
        let to = entry.signaling_id.clone();
        match entry.link.as_ref().expect("just set").create_offer().await {
            Ok(sdp) => self.signal(ClientMessage::Offer {
                to: Some(to),
                to_login: None,
                sdp,
            }),
            Err(reason) => self.fail_peer(peer_id, reason).await,
        }
    }

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
        if self.new_link(&key, false).await.is_none() {
            return;
        }
        let link = self
            .peers
            .get_mut(&key)
            .and_then(|e| e.link.as_mut())
            .expect("just set");
        match link.accept_offer(sdp).await {
            Ok(answer) => self.signal(ClientMessage::Answer {
                to: Some(from),
                to_login: None,
                sdp: answer,
            }),
            Err(reason) => self.fail_peer(&key, reason).await,
        }
    }

    pub(super) async fn fail_peer(&mut self, peer_id: &str, reason: String) {
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

    pub(super) async fn on_peer_timeout(&mut self, peer_id: String, generation: u64) {
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
            PeerEvent::ConnectionState(state) => match state {
                RTCPeerConnectionState::Failed => {
                    self.fail_peer(&peer_id, "ICE/DTLS connection failed".into())
                        .await
                }
                // ICE lost consent (RFC 7675) but the data channel is still open: SCTP keeps
                // what is sent meanwhile and retransmits it if ICE recovers.
                RTCPeerConnectionState::Disconnected if entry.state == PeerState::Connected => {
                    entry.state = PeerState::Disconnected;
                    self.events
                        .emit(move |l| l.on_peer_state(peer_id, PeerState::Disconnected));
                }
                RTCPeerConnectionState::Connected if entry.state == PeerState::Disconnected => {
                    entry.state = PeerState::Connected;
                    self.events
                        .emit(move |l| l.on_peer_state(peer_id, PeerState::Connected));
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
            PeerEvent::Frame(bytes) => self.on_frame(peer_id, &bytes).await,
            PeerEvent::BinaryFrame(size) => {
                let reason = chat::FrameError::Binary { size }.to_string();
                self.events
                    .emit(move |l| l.on_error(EngineError::PeerProtocol { peer_id, reason }));
            }
            PeerEvent::FrameSent(id) => {
                if entry.outbox.sent(&id) == StatusChange::Sent {
                    self.events
                        .emit(move |l| l.on_message_status(id, peer_id, MessageStatus::Sent));
                }
            }
            PeerEvent::ChannelClosed => {
                if matches!(entry.state, PeerState::Connected | PeerState::Disconnected) {
                    entry.state = PeerState::Disconnected;
                    // Nothing more can travel on this connection: release it.
                    if let Some(link) = entry.link.take() {
                        link.close().await;
                    }
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
            // Shown names come from the signaling server (validated there); a peer's own
            // `hello.name` could claim anyone's (docs/protocol.md, "Which name is shown").
            Ok(Decoded::Frame(Frame::Hello { .. })) => {}
            Ok(Decoded::Frame(Frame::PeerId { peer_id: new_id })) => {
                self.on_peer_id_announced(&peer_id, new_id).await;
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

impl Actor {
    /// The app reported a network change or came back to the foreground
    /// (`Engine::network_changed`, `Engine::resume`); the signaling driver probes its own
    /// connection. Seam for ICE restarts (issue 9 item 1): until they land, peer connections
    /// are left as they are (ICE consent checks, RFC 7675, notice a dead path by themselves).
    pub(super) async fn network_changed(&mut self) {
        tracing::debug!(peers = self.peers.len(), "network changed");
    }
}
