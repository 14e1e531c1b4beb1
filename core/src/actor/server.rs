//! Handling what the signaling server sends: welcome, room answers, relayed SDP and ICE
//! candidates, refusals, and the connection closing.

use super::{Actor, Pending, Reply, Room, close_peer};
use crate::error::EngineError;
use crate::listener::{Peer, RoomInfo, SignalingState};
use crate::protocol::{ErrorCode, ServerMessage};
use crate::signaling::SignalingEvent;

impl Actor {
    pub(super) async fn on_signaling(&mut self, event: SignalingEvent) {
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

    pub(super) async fn on_server_message(&mut self, message: ServerMessage) {
        match message {
            ServerMessage::Welcome {
                peer_id,
                ice_servers,
                ..
            } => {
                self.config.adopt_server_turn(ice_servers);
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

    pub(super) fn on_server_error(
        &mut self,
        code: ErrorCode,
        message: String,
        request: Option<String>,
    ) {
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
}
