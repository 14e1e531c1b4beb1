//! Handling the signaling driver: sessions (fresh, resumed, lost), welcome, room answers,
//! relayed SDP and ICE candidates, room mates interrupted or resumed, refusals.

use std::collections::HashSet;
use std::time::Duration;

use super::{Actor, Input, Pending, REJOIN_IDENTIFY_MS, Reply, Room, RoomReply, close_peer};
use crate::chat::{self, Frame};
use crate::error::EngineError;
use crate::listener::{LeaveReason, Peer, RoomInfo, SignalingState};
use crate::protocol::{ClientMessage, ErrorCode, PeerInfo, RoomSnapshot, ServerMessage};
use crate::signaling::{SIGNALING_BACKLOG_LEN, Session, SignalingEvent};

fn peer(info: PeerInfo) -> Peer {
    Peer {
        peer_id: info.peer_id,
        name: info.name,
    }
}

impl Actor {
    pub(super) async fn on_signaling(&mut self, event: SignalingEvent) {
        match event {
            SignalingEvent::Message(message) => self.on_server_message(message).await,
            SignalingEvent::Reconnecting {
                attempt,
                next_retry_ms,
                reason,
            } => {
                tracing::info!(%reason, attempt, next_retry_ms, "signaling connection lost");
                self.welcomed = false;
                self.signaling_error = Some(reason);
                if matches!(
                    self.pending,
                    Some(Pending {
                        reply: Reply::Leave(_),
                        ..
                    })
                ) && let Some(Pending {
                    reply: Reply::Leave(tx),
                    ..
                }) = self.pending.take()
                {
                    // Left locally already: do not make the app wait for the session;
                    // `leave_room` goes out when it is back.
                    self.leave_queued = true;
                    let _ = tx.send(Ok(()));
                }
                self.events.emit(move |l| {
                    l.on_signaling_state(SignalingState::Reconnecting {
                        attempt,
                        next_retry_ms,
                    })
                });
            }
            SignalingEvent::TurnServers(servers) => self.config.adopt_server_turn(servers),
            SignalingEvent::Dropped(kind) => {
                let reason = format!(
                    "no signaling session for a while and {SIGNALING_BACKLOG_LEN} messages \
                     waiting: a {kind} was dropped"
                );
                self.events
                    .emit(move |l| l.on_error(EngineError::Signaling { reason }));
            }
            SignalingEvent::Session(Session::Fresh {
                peer_id,
                lost_previous,
            }) => self.on_fresh_session(peer_id, lost_previous),
            SignalingEvent::Session(Session::Resumed { peer_id, room }) => {
                self.on_resumed(peer_id, room).await
            }
        }
    }

    fn set_session(&mut self, peer_id: String) {
        self.shared.lock().expect("shared state lock").peer_id = Some(peer_id);
        self.welcomed = true;
        self.signaling_error = None;
        self.signaling_ready();
    }

    fn emit_connected(&self) {
        self.events
            .emit(|l| l.on_signaling_state(SignalingState::Connected));
    }

    /// A new session. When it replaces one the server forgot (it restarted, or the grace
    /// period ran out), the engine announces its new peer id on every open data channel,
    /// sends again the request the lost session never answered, and re-enters its room.
    fn on_fresh_session(&mut self, peer_id: String, lost_previous: bool) {
        self.set_session(peer_id.clone());
        // A new session holds no room: an abandoned request has nothing left to undo.
        self.abandoned = None;
        if lost_previous {
            self.leave_queued = false;
            let announce = chat::encode(&Frame::PeerId { peer_id });
            for entry in self.peers.values_mut() {
                entry.stale = true;
                if entry.can_send() {
                    entry
                        .link
                        .as_ref()
                        .expect("can_send")
                        .send(announce.clone(), None);
                }
            }
            match self.pending.take() {
                // The server forgot the room we were leaving: we are out.
                Some(Pending {
                    reply: Reply::Leave(tx),
                    ..
                }) => drop(tx.send(Ok(()))),
                Some(mut pending) => {
                    pending.sent = false;
                    self.pending = Some(pending);
                }
                None => {}
            }
            if let Some(room) = &self.room {
                self.rejoining = true;
                self.signal(ClientMessage::RejoinRoom {
                    code: room.code.clone(),
                    name: self.config.display_name.clone(),
                });
                // `Connected` follows the answer.
                return;
            }
        }
        self.emit_connected();
        self.send_pending();
    }

    /// The same session on a new connection: bring the room up to date with the server's
    /// view, settle the request that was in flight, and report `Connected`.
    async fn on_resumed(&mut self, peer_id: String, snapshot: Option<RoomSnapshot>) {
        self.set_session(peer_id);
        match (self.room.is_some(), snapshot) {
            (true, Some(snapshot)) => self.reconcile_room(snapshot).await,
            (true, None) => {
                // The server no longer seats us: enter the room again.
                self.rejoining = true;
                let code = self.room.as_ref().expect("checked").code.clone();
                self.signal(ClientMessage::RejoinRoom {
                    code,
                    name: self.config.display_name.clone(),
                });
                return;
            }
            (false, Some(_)) if self.abandoned.is_some() => {
                // The cancelled create/join was carried out; its answer was lost with the
                // connection: leave that room.
                self.undo_abandoned();
            }
            (false, None) if self.abandoned.is_some() => {
                // Not carried out: nothing to undo.
                self.abandoned = None;
            }
            (false, Some(snapshot)) if !self.leave_queued => {
                // The create/join in flight was carried out; its answer was lost with the
                // connection.
                if self.pending.as_ref().is_some_and(|p| {
                    p.sent && matches!(p.reply, Reply::Create(_) | Reply::Join(..))
                }) {
                    let pending = self.pending.take().expect("checked");
                    self.entered_by = Some(pending.request);
                    self.complete_room_request(pending.reply, snapshot).await;
                }
            }
            (false, _) => {
                // Not carried out (or we left meanwhile): send it again.
                if let Some(p) = self.pending.as_mut() {
                    p.sent = false;
                }
            }
        }
        self.emit_connected();
        self.send_pending();
    }

    /// Peers the server no longer seats left while we were away; members we do not know
    /// joined meanwhile (their SDP offers come with the queued relays).
    async fn reconcile_room(&mut self, snapshot: RoomSnapshot) {
        let present: HashSet<&str> = snapshot
            .members
            .iter()
            .map(|m| m.peer_id.as_str())
            .collect();
        let gone: Vec<String> = self
            .peers
            .iter()
            .filter(|(_, e)| !present.contains(e.signaling_id.as_str()))
            .map(|(k, _)| k.clone())
            .collect();
        for key in gone {
            if let Some(entry) = self.peers.remove(&key) {
                let failed = close_peer(&self.events, entry).await;
                self.record_failed(&key, failed).await;
                self.events
                    .emit(move |l| l.on_peer_left(key, LeaveReason::Disconnected));
            }
        }
        for member in snapshot.members {
            if self.key_of(&member.peer_id).is_none() {
                let member = peer(member);
                self.add_peer(member.clone());
                self.events.emit(move |l| l.on_peer_joined(member));
            }
        }
    }

    /// Takes the pending request if it is a sent one of this `request_type`; any other stays.
    fn take_pending_room(&mut self, request_type: &str) -> Option<(Reply, u64)> {
        if self
            .pending
            .as_ref()
            .is_some_and(|p| p.sent && p.reply.request_type() == request_type)
        {
            let pending = self.pending.take().expect("checked");
            return Some((pending.reply, pending.request));
        }
        None
    }

    /// Completes a create/join whose answer was lost, from the room `resumed` reported.
    async fn complete_room_request(&mut self, reply: Reply, snapshot: RoomSnapshot) {
        let room = RoomInfo {
            code: snapshot.code,
            capacity: snapshot.capacity as u32,
            members: snapshot.members.into_iter().map(peer).collect(),
        };
        match reply {
            Reply::Create(tx) => self.room_created(room, tx),
            Reply::Join(_, tx) => self.room_joined(room, tx).await,
            Reply::Leave(tx) => drop(tx.send(Ok(()))),
        }
    }

    /// Enters the room `create_room` made: getters first, then the event and the answer.
    fn room_created(&mut self, room: RoomInfo, tx: RoomReply) {
        self.room = Some(Room {
            code: room.code.clone(),
        });
        self.publish();
        let event = room.clone();
        self.events.emit(move |l| l.on_room_created(event));
        let _ = tx.send(Ok(room));
    }

    /// Enters the room `join_room` joined and sends an SDP offer to every member: the
    /// newcomer sends the offers (docs/protocol.md), so there is no glare.
    async fn room_joined(&mut self, room: RoomInfo, tx: RoomReply) {
        self.room = Some(Room {
            code: room.code.clone(),
        });
        for member in &room.members {
            self.add_peer(member.clone());
        }
        // The caller's getters must reflect the room once `join_room` returns.
        self.publish();
        let members = room.members.clone();
        let event = room.clone();
        self.events.emit(move |l| l.on_room_joined(event));
        let _ = tx.send(Ok(room));
        // Messages saved unacknowledged in this room before a restart go out again.
        self.restore_outbox().await;
        for member in members {
            self.start_offer(&member.peer_id).await;
        }
    }

    /// The answer to `rejoin_room`: members whose data channel announced their new id are the
    /// peers we already have; the others wait [`REJOIN_IDENTIFY_MS`] for their announcement
    /// while some of our peers are unconfirmed, then are taken for new peers and sent offers.
    async fn on_rejoined(&mut self, members: Vec<PeerInfo>) {
        self.rejoining = false;
        let mut unknown = Vec::new();
        for member in members {
            match self.key_of(&member.peer_id) {
                Some(key) => self.peers.get_mut(&key).expect("found").stale = false,
                None => unknown.push(peer(member)),
            }
        }
        if self.peers.values().any(|e| e.stale) && !unknown.is_empty() {
            self.deferred = unknown;
            let token = self.next_counter();
            self.deferred_token = token;
            let inputs = self.inputs.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(REJOIN_IDENTIFY_MS)).await;
                let _ = inputs.send(Input::RejoinDeferred(token));
            });
        } else {
            self.offer_to_new_members(unknown).await;
        }
        self.emit_connected();
        self.send_pending();
    }

    pub(super) async fn on_rejoin_deferred(&mut self, token: u64) {
        if token == self.deferred_token {
            let members = std::mem::take(&mut self.deferred);
            self.offer_to_new_members(members).await;
        }
    }

    async fn offer_to_new_members(&mut self, members: Vec<Peer>) {
        for member in members {
            if self.key_of(&member.peer_id).is_some() {
                continue;
            }
            self.add_peer(member.clone());
            let id = member.peer_id.clone();
            self.events.emit(move |l| l.on_peer_joined(member));
            // We entered last, so we send the offers (docs/protocol.md).
            self.start_offer(&id).await;
        }
    }

    /// A peer announced on its data channel that the server knows it as `new_id` now.
    pub(super) async fn on_peer_id_announced(&mut self, key: &str, new_id: String) {
        // An entry made for `new_id` before the announcement (from `peer_joined` or an
        // early offer) is this same peer: drop the duplicate.
        if let Some(dup) = self.key_of(&new_id).filter(|k| k != key)
            && let Some(entry) = self.peers.remove(&dup)
        {
            let failed = close_peer(&self.events, entry).await;
            self.record_failed(&dup, failed).await;
        }
        self.unidentified.remove(&new_id);
        self.deferred.retain(|m| m.peer_id != new_id);
        if let Some(entry) = self.peers.get_mut(key) {
            entry.signaling_id = new_id;
            entry.stale = false;
        }
    }

    pub(super) async fn on_server_message(&mut self, message: ServerMessage) {
        match message {
            // The driver turns `welcome` and `resumed` into sessions.
            ServerMessage::Welcome { .. } | ServerMessage::Resumed { .. } => {}
            ServerMessage::RoomCreated { code, capacity } => {
                // Answers come in request order: an abandoned request was sent first.
                if self.undo_abandoned() {
                    return;
                }
                if let Some((Reply::Create(tx), request)) = self.take_pending_room("create_room") {
                    let room = RoomInfo {
                        code,
                        capacity: capacity as u32,
                        members: Vec::new(),
                    };
                    self.entered_by = Some(request);
                    self.room_created(room, tx);
                }
            }
            ServerMessage::RoomJoined { members, .. } if self.rejoining => {
                self.on_rejoined(members).await
            }
            ServerMessage::RoomJoined {
                code,
                capacity,
                members,
            } => {
                if self.undo_abandoned() {
                    return;
                }
                if let Some((Reply::Join(_, tx), request)) = self.take_pending_room("join_room") {
                    let room = RoomInfo {
                        code,
                        capacity: capacity as u32,
                        members: members.into_iter().map(peer).collect(),
                    };
                    self.entered_by = Some(request);
                    self.room_joined(room, tx).await;
                }
            }
            ServerMessage::PeerJoined { peer: info, .. } => {
                let newcomer = peer(info);
                if self.key_of(&newcomer.peer_id).is_some() {
                    // Announced on its data channel already: one of our peers.
                    return;
                }
                if self.peers.values().any(|e| e.stale) {
                    // Perhaps one of our peers on a new session: wait for its data channel's
                    // announcement, or for its offer.
                    self.unidentified.insert(newcomer.peer_id.clone(), newcomer);
                    return;
                }
                self.add_peer(newcomer.clone());
                self.events.emit(move |l| l.on_peer_joined(newcomer));
            }
            ServerMessage::PeerLeft {
                peer_id, reason, ..
            } => {
                self.unidentified.remove(&peer_id);
                self.deferred.retain(|m| m.peer_id != peer_id);
                let Some(key) = self.key_of(&peer_id) else {
                    return;
                };
                if let Some(entry) = self.peers.remove(&key) {
                    let failed = close_peer(&self.events, entry).await;
                    self.record_failed(&key, failed).await;
                    self.events.emit(move |l| l.on_peer_left(key, reason));
                }
            }
            ServerMessage::PeerInterrupted { peer_id, .. } => {
                if let Some(key) = self.key_of(&peer_id) {
                    self.events.emit(move |l| l.on_peer_interrupted(key));
                }
            }
            ServerMessage::PeerResumed { peer_id, .. } => {
                if let Some(key) = self.key_of(&peer_id) {
                    self.events.emit(move |l| l.on_peer_resumed(key));
                }
            }
            ServerMessage::RoomLeft { .. } => {
                self.leave_queued = false;
                if let Some((Reply::Leave(tx), _)) = self.take_pending_room("leave_room") {
                    let _ = tx.send(Ok(()));
                }
            }
            ServerMessage::Offer {
                from,
                from_name,
                sdp,
            } => self.on_offer(from, from_name, sdp).await,
            ServerMessage::Answer { from, sdp, .. } => self.on_answer(from, sdp).await,
            ServerMessage::IceCandidate { from, candidate } => {
                let Some(key) = self.key_of(&from) else {
                    return;
                };
                if let Some(link) = self.peers.get_mut(&key).and_then(|e| e.link.as_mut()) {
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
        let error = EngineError::Server { code, message };
        if self.abandoned.is_some() && request.as_deref() == self.abandoned {
            // The cancelled request was refused: nothing to undo.
            self.forget_abandoned();
            return;
        }
        if self.rejoining && request.as_deref() == Some("rejoin_room") {
            // The room cannot be entered again (say, it filled up meanwhile). Open data
            // channels keep working; the app hears why.
            self.rejoining = false;
            self.emit_connected();
            self.events.emit(move |l| l.on_error(error));
            return;
        }
        if self.leave_queued && request.as_deref() == Some("leave_room") {
            // The server had already removed us: left all the same.
            self.leave_queued = false;
            return;
        }
        let matches_pending = self.pending.as_ref().is_some_and(|p| {
            p.sent
                && request
                    .as_deref()
                    .is_none_or(|r| r == p.reply.request_type())
        });
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
